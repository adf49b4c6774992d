/*
 * utf8.c — UTF-8 validation, case folding (utf8proc) and the Windows-1252
 * fallback for spreadsheets saved in the old encoding. Pure; owns nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"

size_t
utf8_seq(const unsigned char *s, const unsigned char *end)
{
	size_t avail = (size_t)(end - s);

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return avail >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if ((s[0] & 0xf0) == 0xe0) {
		if (avail < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
			return 0;	/* overlong, or a UTF-16 surrogate */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if (avail < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

int
utf8_valid(const char *s, size_t n, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		size_t k = utf8_seq(p, end);

		if (k == 0) {
			if (bad)
				*bad = (size_t)(p - (const unsigned char *)s);
			return 0;
		}
		p += k;
	}
	return 1;
}

/* Windows-1252 0x80-0x9f; 0 where undefined. */
static const uint16_t cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

char *
utf8_from_cp1252(const char *s, size_t n, size_t *outlen)
{
	struct buf b = BUF_INIT;

	buf_grow(&b, n + n / 4);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		utf8proc_int32_t cp = c;
		utf8proc_uint8_t enc[4];

		if (c >= 0x80 && c < 0xa0 && (cp = cp1252_high[c - 0x80]) == 0) {
			buf_free(&b);
			return NULL;
		}
		buf_append(&b, enc, (size_t)utf8proc_encode_char(cp, enc));
	}
	*outlen = b.len;
	return buf_take(&b);
}

char *
utf8_fold(const char *s)
{
	utf8proc_uint8_t *out = NULL;
	char *copy;

	if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
	    UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) < 0)
		return xstrdup(s);
	copy = xstrdup((char *)out);
	free(out);
	return copy;
}

static int
is_space_cp(utf8proc_int32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' ||
	    cp == '\f' || cp == 0xa0 || cp == 0x202f || cp == 0x2007 ||
	    (cp >= 0x2000 && cp <= 0x200a) || cp == 0x3000;
}

/*
 * NFC may change or combine only characters from U+0300 on (the combining
 * accents are the first), so a text of characters below it is NFC already;
 * so are the dashes, quotes and dots of U+2010-U+2027 that phones put in
 * French texts. The unit test checks every character and pair of them.
 */
int
utf8_nfc_quick(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;

	while (*p) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((k = utf8proc_iterate(p, -1, &cp)) <= 0)
			return 0;
		if (cp >= 0x300 && (cp < 0x2010 || cp > 0x2027))
			return 0;
		p += k;
	}
	return 1;
}

char *
utf8_clean_space(const char *s)
{
	utf8proc_uint8_t *nfc = utf8_nfc_quick(s) ? NULL : utf8proc_NFC((const utf8proc_uint8_t *)s);
	const utf8proc_uint8_t *p = nfc ? nfc : (const utf8proc_uint8_t *)s;
	struct buf b = BUF_INIT;
	int pending = 0;

	while (*p) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);

		if (k <= 0) {	/* not UTF-8: keep the byte, the caller validated */
			k = 1;
			cp = *p;
		}
		if (is_space_cp(cp)) {
			pending = b.len > 0;
		} else {
			if (pending)
				buf_putc(&b, ' ');
			pending = 0;
			buf_append(&b, p, (size_t)k);
		}
		p += k;
	}
	free(nfc);
	return buf_take(&b);
}
