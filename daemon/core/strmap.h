/*
 * strmap.h — a string-keyed hash map of integers (open addressing).
 * The map owns copies of its keys; values are plain numbers (often indexes
 * into an array the caller owns).
 */
#ifndef PALIER_CORE_STRMAP_H
#define PALIER_CORE_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);
/* Stores key -> value, replacing any previous value. */
void strmap_put(struct strmap *m, const char *key, long value);
/* 1 and *value set if key is present, else 0. */
int strmap_get(const struct strmap *m, const char *key, long *value);
size_t strmap_count(const struct strmap *m);

#endif
