/*
 * utf8.h — small UTF-8 helpers: validation, folding for comparison,
 * and reading Windows-1252 text that claimed to be UTF-8.
 */
#ifndef PALIER_CORE_UTF8_H
#define PALIER_CORE_UTF8_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s (up to end), 0 if none. */
size_t utf8_seq(const unsigned char *s, const unsigned char *end);
/* 1 if all n bytes are well-formed UTF-8; else 0 and *bad the first bad offset. */
int utf8_valid(const char *s, size_t n, size_t *bad);
/* Windows-1252 bytes to UTF-8 (newly allocated, *outlen set); NULL for undefined bytes. */
char *utf8_from_cp1252(const char *s, size_t n, size_t *outlen);
/* NFC, case-folded copy of valid UTF-8 text, for equality tests. Caller frees. */
char *utf8_fold(const char *s);
/* NFC copy with every run of white space (including no-break spaces) made one space, trimmed. Caller frees. */
char *utf8_clean_space(const char *s);
/* 1 if s (UTF-8) is surely in NFC already, without normalizing it; 0 if it may not be. */
int utf8_nfc_quick(const char *s);

#endif
