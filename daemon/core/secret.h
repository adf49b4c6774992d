/*
 * secret.h — the deployment's HMAC key, kept in [security] secret_file.
 */
#ifndef PALIER_CORE_SECRET_H
#define PALIER_CORE_SECRET_H

#define SECRET_LEN 32

/*
 * Reads the key from path (64 hex digits). When the file is missing and
 * create is set, makes it first with 32 random bytes, mode 0600, atomically
 * (two processes starting together end with the same key). A file that
 * others may read is refused. Returns 0, or -1 with *err (caller frees).
 */
int secret_load(const char *path, unsigned char key[SECRET_LEN], int create, char **err);

#endif
