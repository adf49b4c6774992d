/*
 * secret.c — the HMAC key file: created on first use with mode 0600 from
 * getrandom(), published with link() so that it appears whole or not at all.
 * Never logs the key; refuses a key file that group or others can read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/hex.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/secret.h"

static int
mkdir_parents_of(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int rc = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		rc = fs_mkdir_p(dir, 0700);
	}
	free(dir);
	return rc;
}

static int
secret_create(const char *path, char **err)
{
	unsigned char raw[SECRET_LEN];
	char hex[SECRET_LEN * 2 + 2], *tmp = xasprintf("%s.XXXXXX", path);
	int fd, rc = -1;

	if (mkdir_parents_of(path) < 0 || (fd = mkstemp(tmp)) < 0) {
		*err = xasprintf("%s: cannot create: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		*err = xasprintf("getrandom: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < SECRET_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	hex[SECRET_LEN * 2] = '\n';
	if (fchmod(fd, 0600) < 0 || write(fd, hex, SECRET_LEN * 2 + 1) != SECRET_LEN * 2 + 1 ||
	    fsync(fd) < 0) {
		*err = xasprintf("%s: %s", tmp, strerror(errno));
		goto out;
	}
	/* link() fails with EEXIST if another process won the race: use theirs. */
	if (link(tmp, path) < 0 && errno != EEXIST) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
	log_info("secret_created", "path=%s", log_q(path));
out:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(hex, sizeof(hex));
	close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}

static int
secret_read(const char *path, unsigned char key[SECRET_LEN], char **err)
{
	char hex[SECRET_LEN * 2 + 1];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
		*err = xasprintf("%s: others may read it: chmod 600 it", path);
		close(fd);
		return -1;
	}
	n = read(fd, hex, sizeof(hex));
	close(fd);
	for (int i = 0; n >= SECRET_LEN * 2 && i < SECRET_LEN; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			n = -1;
			break;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	explicit_bzero(hex, sizeof(hex));
	if (n < SECRET_LEN * 2) {
		*err = xasprintf("%s: not a key of %d hex digits", path, SECRET_LEN * 2);
		return -1;
	}
	return 0;
}

int
secret_load(const char *path, unsigned char key[SECRET_LEN], int create, char **err)
{
	if (create && access(path, F_OK) < 0 && errno == ENOENT &&
	    secret_create(path, err) < 0)
		return -1;
	return secret_read(path, key, err);
}
