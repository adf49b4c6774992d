/*
 * fs.c — mkdir -p. Owns nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/fs.h"

int
fs_mkdir_p(const char *dir, mode_t mode)
{
	char *copy = xstrdup(dir);
	int rc = 0;

	for (char *p = copy + 1; *p && rc == 0; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (rc == 0 && mkdir(copy, mode) < 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
}
