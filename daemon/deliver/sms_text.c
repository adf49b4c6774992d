/*
 * sms_text.c — the honest cost of an outgoing SMS (GSM-7 or UCS-2, units,
 * parts) and the two ways to lower it: folding French text to GSM-7 and
 * cutting at a word boundary. Pure: owns only the strings it returns, does
 * no I/O, and must never crash or read past the end on bytes that are not UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "deliver/sms_text.h"

#define BAD_BYTE	(-1)	/* a byte that does not start UTF-8: sent as '?' */

/* The non-ASCII characters of the GSM 03.38 default alphabet, sorted. */
static const uint16_t gsm7_basic[] = {
	0x00a1, 0x00a3, 0x00a4, 0x00a5, 0x00a7, 0x00bf, 0x00c4, 0x00c5,
	0x00c6, 0x00c7, 0x00c9, 0x00d1, 0x00d6, 0x00d8, 0x00dc, 0x00df,
	0x00e0, 0x00e4, 0x00e5, 0x00e6, 0x00e8, 0x00e9, 0x00ec, 0x00f1,
	0x00f2, 0x00f6, 0x00f8, 0x00f9, 0x00fc, 0x0393, 0x0394, 0x0398,
	0x039b, 0x039e, 0x03a0, 0x03a3, 0x03a6, 0x03a8, 0x03a9,
};

/* Replacements that decomposition alone would not find, or would get wrong. */
static const struct fold {
	int32_t		 cp;
	const char	*to;
} fold_table[] = {
	{ 0x0060, "'" }, { 0x0009, " " }, { 0x0152, "OE" }, { 0x0153, "oe" },
	{ 0x00b7, "." }, { 0x2018, "'" }, { 0x2019, "'" }, { 0x201a, "'" },
	{ 0x2039, "'" }, { 0x203a, "'" }, { 0x2032, "'" }, { 0x00ab, "\"" },
	{ 0x00bb, "\"" }, { 0x201c, "\"" }, { 0x201d, "\"" }, { 0x201e, "\"" },
	{ 0x2033, "\"" }, { 0x2010, "-" }, { 0x2011, "-" }, { 0x2012, "-" },
	{ 0x2013, "-" }, { 0x2014, "-" }, { 0x2015, "-" }, { 0x2212, "-" },
	{ 0x2022, "-" }, { 0x2026, "..." }, { 0x2044, "/" },
};

/* The character at *p, advancing *p; BAD_BYTE (one byte consumed) if none. */
static int32_t
next_cp(const unsigned char **p, const unsigned char *end)
{
	size_t k = utf8_seq(*p, end);
	const unsigned char *s = *p;

	if (k == 0) {
		(*p)++;
		return BAD_BYTE;
	}
	*p += k;
	switch (k) {
	case 1:
		return s[0];
	case 2:
		return (s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	case 3:
		return (s[0] & 0x0f) << 12 | (s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	default:
		return (s[0] & 0x07) << 18 | (s[1] & 0x3f) << 12 |
		    (s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	}
}

static int
cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Septets cp costs in GSM-7: 1, 2 (extension table), or 0 if not GSM-7. */
static int
gsm7_cost(int32_t cp)
{
	uint16_t key;

	if (cp == BAD_BYTE || cp == '\n' || cp == '\r')
		return 1;
	if (cp == 0x0c || cp == 0x20ac)
		return 2;
	if (cp >= 0x20 && cp < 0x7f) {
		if (cp == '`')
			return 0;
		return strchr("[]{}~\\^|", (int)cp) != NULL ? 2 : 1;
	}
	if (cp < 0xa1 || cp > 0x3a9)
		return 0;
	key = (uint16_t)cp;
	return bsearch(&key, gsm7_basic, sizeof(gsm7_basic) / sizeof(gsm7_basic[0]),
	    sizeof(gsm7_basic[0]), cmp_u16) != NULL;
}

/* What cp costs in enc's units. */
static int
unit_cost(int32_t cp, int enc)
{
	int c;

	if (enc == SMS_UCS2)
		return cp > 0xffff ? 2 : 1;
	c = gsm7_cost(cp);
	return c ? c : 1;
}

int
sms_encoding(const char *utf8)
{
	const unsigned char *p = (const unsigned char *)utf8;
	const unsigned char *end = p + strlen(utf8);

	while (p < end)
		if (gsm7_cost(next_cp(&p, end)) == 0)
			return SMS_UCS2;
	return SMS_GSM7;
}

size_t
sms_units(const char *utf8, int enc)
{
	const unsigned char *p = (const unsigned char *)utf8;
	const unsigned char *end = p + strlen(utf8);
	size_t n = 0;

	while (p < end)
		n += (size_t)unit_cost(next_cp(&p, end), enc);
	return n;
}

/* Parts of a multi-part message: a character never straddles two parts. */
static int
count_parts(const char *utf8, int enc)
{
	const unsigned char *p = (const unsigned char *)utf8;
	const unsigned char *end = p + strlen(utf8);
	size_t cap = enc == SMS_UCS2 ? SMS_UCS2_PART : SMS_GSM7_PART;
	size_t used = 0;
	int parts = 1;

	while (p < end) {
		size_t c = (size_t)unit_cost(next_cp(&p, end), enc);

		if (used + c > cap) {
			parts++;
			used = 0;
		}
		used += c;
	}
	return parts;
}

int
sms_segments(const char *utf8, int *enc)
{
	int e = sms_encoding(utf8);
	size_t single = e == SMS_UCS2 ? SMS_UCS2_SINGLE : SMS_GSM7_SINGLE;

	if (enc != NULL)
		*enc = e;
	if (sms_units(utf8, e) <= single)
		return 1;
	return count_parts(utf8, e);
}

/* ---- folding to GSM-7 -------------------------------------------------- */

static void
put_cp(struct buf *b, int32_t cp)
{
	utf8proc_uint8_t enc[4];

	buf_append(b, enc, (size_t)utf8proc_encode_char(cp, enc));
}

/* utf8 with every byte that is not UTF-8 made '?'. Caller frees. */
static char *
valid_copy(const char *utf8)
{
	const unsigned char *p = (const unsigned char *)utf8;
	const unsigned char *end = p + strlen(utf8);
	struct buf b = BUF_INIT;

	while (p < end) {
		const unsigned char *start = p;

		if (next_cp(&p, end) == BAD_BYTE)
			buf_putc(&b, '?');
		else
			buf_append(&b, start, (size_t)(p - start));
	}
	return buf_take(&b);
}

static const char *
fold_lookup(int32_t cp)
{
	for (size_t i = 0; i < sizeof(fold_table) / sizeof(fold_table[0]); i++)
		if (fold_table[i].cp == cp)
			return fold_table[i].to;
	return NULL;
}

static int
is_space_sep(int32_t cp)
{
	return utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

/*
 * cp's compatibility decomposition without its marks, if all of it is GSM-7
 * or in fold_table ("ê" -> "e", "ﬁ" -> "fi", "²" -> "2", "½" -> "1/2");
 * 0 (and nothing written) if not.
 */
static int
put_base(struct buf *b, int32_t cp)
{
	utf8proc_int32_t d[18];
	int last = 0, kept = 0;
	utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 18,
	    UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, &last);
	size_t mark = b->len;

	if (n <= 0 || n > 18)
		return 0;
	for (utf8proc_ssize_t i = 0; i < n; i++) {
		utf8proc_category_t c = utf8proc_category(d[i]);

		if (c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC ||
		    c == UTF8PROC_CATEGORY_ME)
			continue;
		if (d[i] != ' ' && gsm7_cost(d[i]) != 0)
			put_cp(b, d[i]);
		else if (d[i] != ' ' && fold_lookup(d[i]) != NULL)
			buf_puts(b, fold_lookup(d[i]));
		else {
			b->len = mark;
			if (b->data != NULL)
				b->data[mark] = '\0';
			return 0;
		}
		kept++;
	}
	return kept > 0;
}

/* Letters, digits and currency signs leave a '?'; the rest leaves nothing. */
static int
leaves_mark(int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
	case UTF8PROC_CATEGORY_SC:
		return 1;
	default:
		return 0;
	}
}

static void
fold_char(struct buf *b, int32_t cp)
{
	const char *to;

	if (gsm7_cost(cp) != 0)
		put_cp(b, cp);
	else if ((to = fold_lookup(cp)) != NULL)
		buf_puts(b, to);
	else if (cp == 0xb0) {
		if (b->len > 0 && (b->data[b->len - 1] | 0x20) == 'n')
			buf_putc(b, 'o');
	} else if (is_space_sep(cp))
		buf_putc(b, ' ');
	else if (put_base(b, cp))
		;
	else if (leaves_mark(cp))
		buf_putc(b, '?');
}

/* s with runs of spaces made one and spaces at both ends of lines dropped. */
static char *
tidy_spaces(const char *s)
{
	struct buf b = BUF_INIT;
	int pending = 0;

	for (; *s != '\0'; s++) {
		int eol = *s == '\n' || *s == '\r';

		if (*s == ' ') {
			pending = 1;
			continue;
		}
		if (pending && !eol && b.len > 0 && b.data[b.len - 1] != '\n' &&
		    b.data[b.len - 1] != '\r')
			buf_putc(&b, ' ');
		pending = 0;
		buf_putc(&b, *s);
	}
	return buf_take(&b);
}

char *
sms_fold_gsm7(const char *utf8)
{
	char *valid = valid_copy(utf8);
	utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)valid);
	const unsigned char *p = nfc ? nfc : (const unsigned char *)valid;
	const unsigned char *end = p + strlen((const char *)p);
	struct buf b = BUF_INIT;
	char *out;

	while (p < end)
		fold_char(&b, next_cp(&p, end));
	free(nfc);
	free(valid);
	out = tidy_spaces(buf_cstr(&b));
	buf_free(&b);
	return out;
}

/* ---- cutting ----------------------------------------------------------- */

struct offsets {
	size_t	*v;
	size_t	 n, cap;
};

static void
offsets_add(struct offsets *o, size_t off)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 32;
		o->v = xreallocarray(o->v, o->cap, sizeof(*o->v));
	}
	o->v[o->n++] = off;
}

static int
is_break(int32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r';
}

/* Trimmed away at the end of a cut: white space and , ; : - – —. */
static int
is_trailer(int32_t cp)
{
	return is_break(cp) || cp == 0xa0 || cp == 0x202f || cp == ',' ||
	    cp == ';' || cp == ':' || cp == '-' || cp == 0x2013 || cp == 0x2014;
}

/*
 * Where utf8 may be cut: in words mode, the trimmed end of the text before
 * each run of white space (never 0); else after every character. Ascending.
 */
static void
cut_points(const char *utf8, int words, struct offsets *o)
{
	const unsigned char *start = (const unsigned char *)utf8, *p = start;
	const unsigned char *end = p + strlen(utf8);
	size_t keep = 0;

	while (p < end) {
		int32_t cp = next_cp(&p, end);

		if (!words)
			offsets_add(o, (size_t)(p - start));
		else if (is_break(cp) && keep > 0 && (o->n == 0 || o->v[o->n - 1] != keep))
			offsets_add(o, keep);
		if (!is_trailer(cp))
			keep = (size_t)(p - start);
	}
}

static char *
joined(const char *utf8, size_t len, const char *suffix)
{
	struct buf b = BUF_INIT;

	buf_append(&b, utf8, len);
	buf_puts(&b, suffix);
	return buf_take(&b);
}

static int
fits(const char *utf8, size_t len, const char *suffix, int max)
{
	char *s = joined(utf8, len, suffix);
	int ok = sms_segments(s, NULL) <= max;

	free(s);
	return ok;
}

/* The index of the last point that fits (fitting is monotonic), or -1. */
static ptrdiff_t
last_fit(const char *utf8, const struct offsets *o, const char *suffix, int max)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)o->n - 1, best = -1;

	while (lo <= hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2;

		if (fits(utf8, o->v[mid], suffix, max)) {
			best = mid;
			lo = mid + 1;
		} else
			hi = mid - 1;
	}
	return best;
}

/* The longest cut of utf8 (words first, else characters) that fits. */
static size_t
cut_length(const char *utf8, const char *suffix, int max)
{
	struct offsets o = { NULL, 0, 0 };
	ptrdiff_t i;
	size_t len = 0;

	cut_points(utf8, 1, &o);
	if ((i = last_fit(utf8, &o, suffix, max)) < 0) {
		o.n = 0;
		cut_points(utf8, 0, &o);
		i = last_fit(utf8, &o, suffix, max);
	}
	if (i >= 0)
		len = o.v[i];
	free(o.v);
	return len;
}

char *
sms_cut(const char *utf8, int max_segments, const char *suffix)
{
	if (suffix == NULL)
		suffix = "";
	if (max_segments < 1)
		return NULL;
	if (sms_segments(utf8, NULL) <= max_segments)
		return xstrdup(utf8);
	if (sms_segments(suffix, NULL) > max_segments)
		return NULL;
	return joined(utf8, cut_length(utf8, suffix, max_segments), suffix);
}
