/*
 * alloc.h — allocation that never returns NULL.
 * On exhaustion the process logs once and aborts: no caller checks for NULL.
 */
#ifndef PALIER_CORE_ALLOC_H
#define PALIER_CORE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of nmemb items of size bytes to at least need items. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
