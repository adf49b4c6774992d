/*
 * buf.h — a growable byte buffer, always NUL-terminated.
 * A zeroed struct buf is a valid empty buffer; buf_free releases it.
 */
#ifndef PALIER_CORE_BUF_H
#define PALIER_CORE_BUF_H

#include <stddef.h>

struct buf {
	char	*data;	/* owned; NULL until the first append */
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_grow(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* The contents as a C string; "" for an empty buffer. Borrowed. */
const char *buf_cstr(const struct buf *b);
/* Hands the contents to the caller (who frees them) and empties b. */
char *buf_take(struct buf *b);

#endif
