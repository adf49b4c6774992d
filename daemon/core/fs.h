/*
 * fs.h — small file-system helpers.
 */
#ifndef PALIER_CORE_FS_H
#define PALIER_CORE_FS_H

#include <sys/types.h>

/* Makes dir and its missing parents with mode; 0 or -1 (errno set). */
int fs_mkdir_p(const char *dir, mode_t mode);

#endif
