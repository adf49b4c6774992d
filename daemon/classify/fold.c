/*
 * fold.c — the accent-free, lower-case copy of a post's text that rule
 * patterns are matched against ("Fête", "FETE" and "fete" all read "fete"),
 * and the letter counts behind "caps". Pure and allocation-free except
 * for the caller's buffer; bytes that are not UTF-8 are copied unchanged.
 */
#include <stdint.h>
#include <string.h>

#include <utf8proc.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "classify/rules.h"

/*
 * COMPAT turns "3ᵉ" into "3e" and ligatures into letters, LUMP makes curly
 * apostrophes, dashes and odd spaces ASCII, STRIPMARK drops the accents
 * that DECOMPOSE split off, CASEFOLD lowers.
 */
#define FOLD_OPTS	(UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | \
			 UTF8PROC_CASEFOLD | UTF8PROC_LUMP)
#define FOLD_MAXCP	18

static void
fold_put(struct buf *out, utf8proc_int32_t cp)
{
	utf8proc_uint8_t enc[4];

	if (cp == 0x153) {		/* œ, which Unicode does not decompose */
		buf_append(out, "oe", 2);
		return;
	}
	if (cp == 0xe6) {		/* æ */
		buf_append(out, "ae", 2);
		return;
	}
	buf_append(out, enc, (size_t)utf8proc_encode_char(cp, enc));
}

static void
fold_char(struct buf *out, utf8proc_int32_t cp)
{
	utf8proc_int32_t dec[FOLD_MAXCP];
	int boundclass = 0;
	utf8proc_ssize_t n;

	n = utf8proc_decompose_char(cp, dec, FOLD_MAXCP, FOLD_OPTS, &boundclass);
	if (n < 0 || n > FOLD_MAXCP) {
		fold_put(out, cp);
		return;
	}
	for (utf8proc_ssize_t i = 0; i < n; i++)
		fold_put(out, dec[i]);
}

/* Appends an ASCII run, lower-cased. */
static void
fold_ascii(struct buf *out, const unsigned char *p, size_t n)
{
	char *d;

	buf_grow(out, n);
	d = out->data + out->len;
	for (size_t i = 0; i < n; i++)
		d[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] | 0x20 : p[i]);
	out->len += n;
	out->data[out->len] = '\0';
}

void
classify_fold(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t start = out->len;

	buf_grow(out, n);
	/* Compatibility forms can grow 18-fold ("ﷺ"): the copy is capped too. */
	while (p < end && out->len - start < CLASSIFY_FIELD_MAX) {
		const unsigned char *q = p;
		utf8proc_int32_t cp;
		size_t k;

		while (q < end && *q < 0x80)
			q++;
		fold_ascii(out, p, (size_t)(q - p));
		if (q == end)
			break;
		if ((k = utf8_seq(q, end)) == 0) {
			buf_putc(out, (char)*q);
			p = q + 1;
			continue;
		}
		utf8proc_iterate(q, (utf8proc_ssize_t)k, &cp);
		fold_char(out, cp);
		p = q + k;
	}
}

size_t
classify_cap(const char *s, size_t n)
{
	if (n <= CLASSIFY_FIELD_MAX)
		return n;
	n = CLASSIFY_FIELD_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

void
classify_count_case(const char *s, size_t n, size_t *upper, size_t *lower)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	*upper = *lower = 0;
	while (p < end) {
		utf8proc_int32_t cp;
		size_t k;

		if (*p < 0x80) {
			*upper += *p >= 'A' && *p <= 'Z';
			*lower += *p >= 'a' && *p <= 'z';
			p++;
			continue;
		}
		if ((k = utf8_seq(p, end)) == 0) {
			p++;
			continue;
		}
		utf8proc_iterate(p, (utf8proc_ssize_t)k, &cp);
		*upper += utf8proc_category(cp) == UTF8PROC_CATEGORY_LU;
		*lower += utf8proc_category(cp) == UTF8PROC_CATEGORY_LL;
		p += k;
	}
}
