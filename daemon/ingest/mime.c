/*
 * mime.c — an internet message, read: header fields (unfolded, RFC 2047 decoded), the From
 * addr-spec, the sender's text (text/plain preferred, HTML made text), attachments as
 * metadata, DSN recipients. Owns nothing past the call. Walks the MIME tree in one bounded,
 * iterative pass (never recursion on the input); never uses a filename as a path.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/mailmime.h>
#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <utf8proc.h>

#include "core/hex.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "ingest/mime.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define CS_NAME		48	/* longest charset name we keep */
#define EW_MAX		1000	/* longest encoded word we look for */
#define BOUNDARY_MAX	200	/* RFC 2046 says 70; be lenient, not unbounded */
#define UTF8_FFFD	"\xef\xbf\xbd"
#define HTML_MAX_NEST	32	/* quote marks and list indents written, at most */

/* ---- small helpers ---- */

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static void
ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Narrows s[0..n) to exclude white space (space, tab, CR, LF) at both ends. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

/* Offset of the '\n' ending the line that starts at i, or n. */
static size_t
line_end(const char *s, size_t n, size_t i)
{
	const char *nl = memchr(s + i, '\n', n - i);

	return nl ? (size_t)(nl - s) : n;
}

static size_t
line_next(size_t eol, size_t n)
{
	return eol < n ? eol + 1 : n;
}

/* 1 if s[i..eol) holds nothing but white space (a trailing CR included). */
static int
line_blank(const char *s, size_t i, size_t eol)
{
	for (; i < eol; i++)
		if (!is_wsp(s[i]) && s[i] != '\r')
			return 0;
	return 1;
}

static int
has_high(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* 1 if s may change under NFC: it holds combining diacritics or Hangul jamo. */
static int
needs_nfc(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (((*p == 0xcc || *p == 0xcd) && p[1] >= 0x80) ||
		    (*p == 0xe1 && p[1] >= 0x84 && p[1] <= 0x87))
			return 1;
	return 0;
}

/* s in NFC (s is taken). */
static char *
nfc(char *s)
{
	utf8proc_uint8_t *n;
	char *copy;

	if (!needs_nfc(s) || (n = utf8proc_NFC((const utf8proc_uint8_t *)s)) == NULL)
		return s;
	copy = xstrdup((const char *)n);
	free(n);
	free(s);
	return copy;
}

/* Grows an array held in *v with n items to hold n + 1, doubling at powers of two. */
static void *
grow(void *v, size_t n, size_t size)
{
	if (n == 0 || (n & (n - 1)) == 0)
		v = xreallocarray(v, n ? n * 2 : 1, size);
	return v;
}

/* ---- clean UTF-8 ---- */

/* The ASCII byte at p (or a run of printable ones) into b; returns how many were read. */
static size_t
clean_ascii(struct buf *b, const unsigned char *p, const unsigned char *end, int header)
{
	size_t k = 0;

	while (p + k < end && p[k] >= 0x20 && p[k] < 0x7f)
		k++;
	if (k > 0) {
		buf_append(b, p, k);
		return k;
	}
	if (*p == '\r') {
		buf_putc(b, header ? ' ' : '\n');
		return p + 1 < end && p[1] == '\n' ? 2 : 1;
	}
	if (*p == '\n' || *p == '\t')
		buf_putc(b, header ? ' ' : (char)*p);
	return 1;	/* other controls, NUL and DEL are dropped */
}

/*
 * Appends s to b as text: CRLF and CR become \n (in a header every line
 * break or tab becomes a space), NUL, controls, C1 controls and BOMs are
 * dropped, malformed UTF-8 becomes U+FFFD.
 */
static void
clean_append(struct buf *b, const char *s, size_t n, int header)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	buf_grow(b, n);
	while (p < end) {
		size_t k;

		if (*p < 0x80) {
			p += clean_ascii(b, p, end, header);
		} else if ((k = utf8_seq(p, end)) == 0) {
			buf_append(b, UTF8_FFFD, 3);
			p++;
		} else {
			if (!(k == 2 && p[0] == 0xc2 && p[1] < 0xa0) &&
			    !(k == 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf))
				buf_append(b, p, k);
			p += k;
		}
	}
}

/* ---- charsets ---- */

enum cs_kind { CS_NONE, CS_UTF8, CS_1252, CS_ICONV };

/* Labels senders use, and what we read them as (NULL: no real charset, guess). */
static const struct {
	const char	*label;
	const char	*name;
} cs_aliases[] = {
	{ "utf-8", "utf-8" }, { "utf8", "utf-8" }, { "unicode-1-1-utf-8", "utf-8" },
	{ "unicode-2-0-utf-8", "utf-8" }, { "x-unicode20utf8", "utf-8" },
	{ "us-ascii", "windows-1252" }, { "ascii", "windows-1252" },
	{ "ansi_x3.4-1968", "windows-1252" }, { "iso-8859-1", "windows-1252" },
	{ "iso8859-1", "windows-1252" }, { "iso_8859-1", "windows-1252" },
	{ "iso_8859-1:1987", "windows-1252" }, { "latin1", "windows-1252" },
	{ "latin-1", "windows-1252" }, { "l1", "windows-1252" }, { "iso-ir-100", "windows-1252" },
	{ "cp819", "windows-1252" }, { "ibm819", "windows-1252" }, { "csisolatin1", "windows-1252" },
	{ "windows-1252", "windows-1252" }, { "cp1252", "windows-1252" },
	{ "x-cp1252", "windows-1252" }, { "cp-1252", "windows-1252" }, { "win-1252", "windows-1252" },
	{ "iso-8859-15", "iso-8859-15" }, { "iso8859-15", "iso-8859-15" },
	{ "iso_8859-15", "iso-8859-15" }, { "latin9", "iso-8859-15" }, { "latin-9", "iso-8859-15" },
	{ "macintosh", "macintosh" }, { "mac", "macintosh" }, { "x-mac-roman", "macintosh" },
	{ "macroman", "macintosh" },
	{ "ks_c_5601-1987", "cp949" }, { "ks_c_5601", "cp949" }, { "ksc5601", "cp949" },
	{ "euc-kr", "cp949" }, { "korean", "cp949" }, { "windows-949", "cp949" },
	{ "gb2312", "gbk" }, { "gb_2312-80", "gbk" }, { "csgb2312", "gbk" }, { "euc-cn", "gbk" },
	{ "x-gbk", "gbk" }, { "cp936", "gbk" }, { "chinese", "gbk" },
	{ "x-big5", "big5" }, { "shift_jis", "cp932" }, { "shift-jis", "cp932" },
	{ "sjis", "cp932" }, { "x-sjis", "cp932" }, { "ms_kanji", "cp932" },
	{ "windows-31j", "cp932" }, { "tis-620", "cp874" }, { "windows-874", "cp874" },
	{ "iso-8859-8-i", "iso-8859-8" },
	{ "unknown-8bit", NULL }, { "x-unknown", NULL }, { "unknown", NULL }, { "8bit", NULL },
	{ "default", NULL }, { "x-user-defined", NULL }, { "charset", NULL },
};

/* What a charset label means; its name (lower case) in name[CS_NAME]. */
static enum cs_kind
cs_lookup(const char *label, char *name)
{
	size_t n = 0;

	if (label == NULL)
		return CS_NONE;
	label += strspn(label, " \t\"'");
	while (label[n] && strchr(" \t\"';", label[n]) == NULL && n + 1 < CS_NAME) {
		name[n] = label[n];
		n++;
	}
	name[n] = '\0';
	ascii_lower(name);
	if (n == 0)
		return CS_NONE;
	for (size_t i = 0; i < NITEMS(cs_aliases); i++)
		if (strcmp(name, cs_aliases[i].label) == 0) {
			if (cs_aliases[i].name == NULL)
				return CS_NONE;
			strcpy(name, cs_aliases[i].name);
			break;
		}
	if (strcmp(name, "utf-8") == 0)
		return CS_UTF8;
	return strcmp(name, "windows-1252") == 0 ? CS_1252 : CS_ICONV;
}

/* Windows-1252 0x80-0x9f; 0 where undefined. */
static const uint16_t cp1252_c1[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

/*
 * Windows-1252 bytes to UTF-8, appended to b. Unlike utf8_from_cp1252() it
 * never refuses: the five undefined bytes are dropped (they are never text).
 */
static void
cp1252_append(struct buf *b, const char *s, size_t n)
{
	buf_grow(b, n * 3);
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];
		unsigned cp = c < 0x80 || c >= 0xa0 ? c : cp1252_c1[c - 0x80];
		char *o = b->data + b->len;

		if (cp == 0 && c != 0)
			continue;	/* undefined in windows-1252 */
		if (cp < 0x80) {
			*o = (char)cp;
			b->len++;
		} else if (cp < 0x800) {
			o[0] = (char)(0xc0 | cp >> 6);
			o[1] = (char)(0x80 | (cp & 0x3f));
			b->len += 2;
		} else {
			o[0] = (char)(0xe0 | cp >> 12);
			o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			o[2] = (char)(0x80 | (cp & 0x3f));
			b->len += 3;
		}
	}
	b->data[b->len] = '\0';
}

/*
 * Text that is not valid UTF-8, appended to b: its well-formed UTF-8
 * sequences as they are, every other byte read as windows-1252. Pure
 * Latin-1 text reads as windows-1252; a UTF-8 text with a pasted Latin-1
 * line keeps both.
 */
static void
mixed_append(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		size_t k = 0;

		while (p + k < end && (p[k] < 0x80 || utf8_seq(p + k, end) > 0))
			k += p[k] < 0x80 ? 1 : utf8_seq(p + k, end);
		buf_append(b, p, k);
		p += k;
		if (p < end)
			cp1252_append(b, (const char *)p++, 1);
	}
}

/* One iconv() step into b; -1 on an invalid or incomplete sequence. */
static int
iconv_step(iconv_t cd, char **in, size_t *inleft, struct buf *b)
{
	for (;;) {
		char *out = b->data + b->len;
		size_t outleft = b->cap - b->len - 1, r;

		r = iconv(cd, in, inleft, &out, &outleft);
		b->len = (size_t)(out - b->data);
		b->data[b->len] = '\0';
		if (r != (size_t)-1)
			return 0;
		if (errno != E2BIG)
			return -1;
		buf_grow(b, (inleft ? *inleft : 0) * 2 + 16);
	}
}

/*
 * s in charset name to UTF-8, appended to b; a bad byte becomes U+FFFD.
 * -1 (b untouched) if iconv does not know name, or if s had bad bytes
 * while it is valid UTF-8: a mislabelled UTF-8 text, read as such.
 */
static int
cs_iconv(struct buf *b, const char *s, size_t n, const char *name)
{
	iconv_t cd = iconv_open("UTF-8", name);
	char *in = (char *)(uintptr_t)s;	/* iconv(3) wants char **, never writes */
	size_t inleft = n, start = b->len, bad = 0;

	if (cd == (iconv_t)-1)
		return -1;
	buf_grow(b, n * 2 + 16);
	while (inleft > 0 && iconv_step(cd, &in, &inleft, b) < 0) {
		buf_append(b, UTF8_FFFD, 3);
		in++;
		inleft--;
		bad++;
	}
	(void)iconv_step(cd, NULL, NULL, b);	/* the shift state back to initial */
	iconv_close(cd);
	if (bad > 0 && utf8_valid(s, n, NULL)) {
		b->len = start;
		b->data[start] = '\0';
		return -1;
	}
	return 0;
}

/*
 * n bytes in the charset label says (NULL: none) as UTF-8, appended to b;
 * used[CS_NAME] gets the charset read. The label first (us-ascii and
 * iso-8859-1 read as windows-1252, what senders mean), except that 8-bit
 * text which is valid UTF-8 under a Latin label is UTF-8 (it would read
 * "Ã©" otherwise). Else valid UTF-8 as is, else windows-1252 (byte by
 * byte where it is not UTF-8: see mixed_append).
 */
static void
cs_decode(struct buf *b, const char *s, size_t n, const char *label, char *used)
{
	char name[CS_NAME];
	enum cs_kind kind = cs_lookup(label, name);
	int high;

	if (kind == CS_ICONV && cs_iconv(b, s, n, name) == 0) {
		strcpy(used, name);
		return;
	}
	high = has_high(s, n);
	if (kind == CS_1252 && !high) {
		buf_append(b, s, n);
		strcpy(used, "windows-1252");
	} else if (!high || utf8_valid(s, n, NULL)) {
		buf_append(b, s, n);
		strcpy(used, "utf-8");
	} else {
		mixed_append(b, s, n);
		strcpy(used, "windows-1252");
	}
}

/* ---- transfer encodings ---- */

/* The '=' at s[i]: a soft line break (white space after it tolerated), =XX, else itself. */
static size_t
qp_escape(struct buf *b, const char *s, size_t n, size_t i)
{
	size_t j = i + 1;
	int hi, lo;

	while (j < n && is_wsp(s[j]))
		j++;
	if (j >= n)
		return n;
	if (s[j] == '\n')
		return j + 1;
	if (s[j] == '\r')
		return j + 1 < n && s[j + 1] == '\n' ? j + 2 : j + 1;
	if (i + 2 < n && (hi = hex_digit((unsigned char)s[i + 1])) >= 0 &&
	    (lo = hex_digit((unsigned char)s[i + 2])) >= 0) {
		buf_putc(b, (char)(hi << 4 | lo));
		return i + 3;
	}
	buf_putc(b, '=');	/* "=ZZ" or a stray '=': kept as written */
	return i + 1;
}

/*
 * Quoted-printable, decoded into b. Our own rather than libetpan's, which
 * stops at the first malformed escape and loses the rest of the text.
 */
static void
qp_decode(struct buf *b, const char *s, size_t n)
{
	size_t i = 0;

	buf_grow(b, n);
	while (i < n) {
		const char *eq = memchr(s + i, '=', n - i);
		size_t run = eq ? (size_t)(eq - s) - i : n - i;

		buf_append(b, s + i, run);
		i += run;
		if (i < n)
			i = qp_escape(b, s, n, i);
	}
}

/* Base64 into b; libetpan's decoder skips what is not base64. */
static void
b64_decode(struct buf *b, const char *s, size_t n)
{
	size_t idx = 0, len = 0;
	char *out = NULL;

	if (n == 0)
		return;
	if (mailmime_part_parse(s, n, &idx, MAILMIME_MECHANISM_BASE64, &out, &len) ==
	    MAILIMF_NO_ERROR && out != NULL) {
		buf_append(b, out, len);
		mailmime_decoded_part_free(out);
	}
}

/* How many bytes base64 text decodes to, without decoding it. */
static size_t
b64_size(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/')
			k++;
	}
	return k / 4 * 3 + (k % 4 == 3 ? 2 : k % 4 == 2 ? 1 : 0);
}

/* ---- header fields ---- */

struct field {
	const char	*name;
	size_t		 nlen;
	const char	*val;	/* raw: folded, as in the message */
	size_t		 vlen;
};

struct fields {
	struct field	*v;
	size_t		 n;
	size_t		 cap;
};

static void
fields_add(struct fields *f, const char *name, size_t nlen, const char *val, size_t vlen)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	f->v[f->n++] = (struct field){ name, nlen, val, vlen };
}

static int
field_is(const struct field *f, const char *name)
{
	return f->nlen == strlen(name) && strncasecmp(f->name, name, f->nlen) == 0;
}

/* If the line s[i..eol) starts a field, the length of its name and *val past its colon; else 0. */
static size_t
field_start(const char *s, size_t i, size_t eol, size_t *val)
{
	size_t j = i, nlen;

	while (j < eol && s[j] > ' ' && s[j] < 0x7f && s[j] != ':')
		j++;
	nlen = j - i;
	while (j < eol && is_wsp(s[j]))
		j++;
	if (nlen == 0 || j >= eol || s[j] != ':')
		return 0;
	*val = j + 1;
	return nlen;
}

/* The end of a field whose first line ends at eol: past its continuation lines. */
static size_t
field_end(const char *s, size_t n, size_t eol)
{
	while (eol + 1 < n && is_wsp(s[eol + 1])) {
		size_t next = line_end(s, n, eol + 1);

		if (line_blank(s, eol + 1, next))
			break;	/* a line of white space ends the header block */
		eol = next;
	}
	return eol;
}

/*
 * The message's header block into f, *body set to where its body starts.
 * -1 when raw does not start with a header field, or when it has no blank
 * line after its header and is not headers only. Lines that are not
 * fields, inside the block, are skipped.
 */
static int
header_block_read(const char *s, size_t n, struct fields *f, size_t *body)
{
	size_t i = 0;
	int junk = 0;

	if (n >= 5 && memcmp(s, "From ", 5) == 0)	/* an mbox separator */
		i = line_next(line_end(s, n, 0), n);
	while (i < n) {
		size_t eol = line_end(s, n, i), val, nlen;

		if (line_blank(s, i, eol)) {
			*body = line_next(eol, n);
			return f->n > 0 ? 0 : -1;
		}
		if ((nlen = field_start(s, i, eol, &val)) > 0) {
			eol = field_end(s, n, eol);
			fields_add(f, s + i, nlen, s + val, eol - val);
		} else if (f->n == 0) {
			return -1;
		} else {
			junk = 1;
		}
		i = line_next(eol, n);
	}
	*body = n;
	return f->n > 0 && !junk ? 0 : -1;
}

/* A field value unfolded (line breaks dropped) and trimmed, appended to b. */
static void
unfold_append(struct buf *b, const char *v, size_t n)
{
	trim(&v, &n);
	buf_grow(b, n);
	for (size_t i = 0; i < n; i++)
		if (v[i] != '\r' && v[i] != '\n')
			b->data[b->len++] = v[i];
	b->data[b->len] = '\0';
}

/* ---- RFC 2047 ---- */

struct ew {
	const char	*cs;
	size_t		 cslen;
	int		 b64;
	const char	*text;
	size_t		 tlen;
	size_t		 len;	/* of the whole word */
};

/* An encoded word "=?charset?B|Q?text?=" at s; 0 if there is none. */
static int
ew_parse(const char *s, size_t n, struct ew *w)
{
	size_t i = 2, j;
	const char *star;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	while (i < n && i < CS_NAME && s[i] != '?' && s[i] > ' ' && s[i] < 0x7f)
		i++;
	if (i == 2 || i + 3 >= n || s[i] != '?' || s[i + 2] != '?' ||
	    strchr("BbQq", s[i + 1]) == NULL)
		return 0;
	for (j = i + 3; j + 1 < n && j < i + 3 + EW_MAX; j++)
		if ((s[j] == '?' && s[j + 1] == '=') || s[j] == '\r' || s[j] == '\n')
			break;
	if (j + 1 >= n || s[j] != '?' || s[j + 1] != '=')
		return 0;
	w->cs = s + 2;
	w->cslen = (star = memchr(s + 2, '*', i - 2)) ? (size_t)(star - w->cs) : i - 2;
	w->b64 = s[i + 1] == 'B' || s[i + 1] == 'b';
	w->text = s + i + 3;
	w->tlen = j - i - 3;
	w->len = j + 2;
	return 1;
}

static void
ew_bytes(struct buf *b, const struct ew *w)
{
	int hi, lo;

	if (w->b64) {
		b64_decode(b, w->text, w->tlen);
		return;
	}
	for (size_t i = 0; i < w->tlen; i++) {
		char c = w->text[i];

		if (c == '_') {
			c = ' ';
		} else if (c == '=' && i + 2 < w->tlen &&
		    (hi = hex_digit((unsigned char)w->text[i + 1])) >= 0 &&
		    (lo = hex_digit((unsigned char)w->text[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		buf_putc(b, c);
	}
}

/* The bytes of adjacent encoded words in one charset, decoded into out. */
static void
ew_flush(struct buf *out, struct buf *pend, const struct ew *last)
{
	char label[CS_NAME], used[CS_NAME];

	if (pend->len == 0)
		return;
	memcpy(label, last->cs, last->cslen);
	label[last->cslen] = '\0';
	cs_decode(out, pend->data, pend->len, label, used);
	buf_reset(pend);
}

static int
ew_same_cs(const struct ew *a, const struct ew *b)
{
	return a->cslen == b->cslen && strncasecmp(a->cs, b->cs, a->cslen) == 0;
}

/*
 * Encoded words in s decoded into out (s is UTF-8 already). White space
 * between two encoded words is dropped; the bytes of adjacent words in one
 * charset are joined before decoding, so a character split between two
 * still reads. Encoded words inside quotes or words are decoded too.
 */
static void
ew_decode(struct buf *out, const char *s, size_t n)
{
	struct buf pend = BUF_INIT;
	struct ew w, last = { 0 };
	size_t i = 0;

	while (i < n) {
		const char *q;
		size_t j;

		if (ew_parse(s + i, n - i, &w)) {
			if (pend.len > 0 && !ew_same_cs(&w, &last))
				ew_flush(out, &pend, &last);
			ew_bytes(&pend, &w);
			last = w;
			i += w.len;
			for (j = i; j < n && is_wsp(s[j]); j++)
				;
			if (j > i && ew_parse(s + j, n - j, &w))
				i = j;
			continue;
		}
		ew_flush(out, &pend, &last);
		q = i + 1 < n ? memmem(s + i + 1, n - i - 1, "=?", 2) : NULL;
		j = q ? (size_t)(q - s) : n;
		buf_append(out, s + i, j - i);
		i = j;
	}
	ew_flush(out, &pend, &last);
	buf_free(&pend);
}

/* 1 if s[0..n) is printable ASCII or tabs, with no encoded word: nothing to decode. */
static int
hdr_plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < ' ' && c != '\t') || c >= 0x7f || (c == '=' && i + 1 < n && s[i + 1] == '?'))
			return 0;
	}
	return 1;
}

/* No-break spaces (U+00A0, U+2007, U+202F) made plain spaces, in place. */
static void
nbsp_plain(char *s)
{
	char *w = s;

	for (const unsigned char *r = (const unsigned char *)s; *r; ) {
		if (r[0] == 0xc2 && r[1] == 0xa0) {
			r += 2;
			*w++ = ' ';
		} else if (r[0] == 0xe2 && r[1] == 0x80 && (r[2] == 0xaf || r[2] == 0x87)) {
			r += 3;
			*w++ = ' ';
		} else {
			*w++ = (char)*r++;
		}
	}
	*w = '\0';
}

/*
 * A header value (unfolded) as clean UTF-8, newly allocated: raw 8-bit text
 * read as UTF-8 or else windows-1252 (RFC 6532), encoded words decoded,
 * tabs and no-break spaces made spaces (Outlook writes "RE\u00a0:"),
 * controls removed, trimmed, NFC.
 */
static char *
hdr_decode(const char *v, size_t n)
{
	struct buf raw = BUF_INIT, dec = BUF_INIT, out = BUF_INIT;
	const char *s;
	size_t len;

	trim(&v, &n);
	if (hdr_plain(v, n)) {
		char *copy = xstrndup(v, n);

		for (char *p = copy; (p = strchr(p, '\t')) != NULL; )
			*p = ' ';
		return copy;
	}
	if (has_high(v, n) && !utf8_valid(v, n, NULL)) {
		mixed_append(&raw, v, n);
		v = raw.data;
		n = raw.len;
	}
	ew_decode(&dec, v, n);
	clean_append(&out, buf_cstr(&dec), dec.len, 1);
	if (out.data != NULL) {
		nbsp_plain(out.data);
		out.len = strlen(out.data);
	}
	s = buf_cstr(&out);
	len = out.len;
	trim(&s, &len);
	s = xstrndup(s, len);
	buf_free(&raw);
	buf_free(&dec);
	buf_free(&out);
	return nfc((char *)(uintptr_t)s);
}

/* A field's value, unfolded and decoded; newly allocated. */
static char *
field_decode(const struct field *f)
{
	struct buf b = BUF_INIT;
	char *s;

	unfold_append(&b, f->val, f->vlen);
	s = hdr_decode(buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}

/* ---- addresses ---- */

/* Offset of the first character of stops in s[i..n) outside quotes, comments and <>; or n. */
static size_t
addr_scan(const char *s, size_t n, size_t i, const char *stops)
{
	int depth = 0, quoted = 0, angle = 0;

	for (; i < n; i++) {
		char c = s[i];

		if (c == '\\' && (quoted || depth))
			i++;
		else if (quoted)
			quoted = c != '"';
		else if (depth)
			depth += c == '(' ? 1 : c == ')' ? -1 : 0;
		else if (c == '"')
			quoted = 1;
		else if (c == '(')
			depth = 1;
		else if (angle)
			angle = c != '>';
		else if (c != '\0' && strchr(stops, c) != NULL)
			return i;
		else if (c == '<')
			angle = 1;
	}
	return n;
}

/* An addr-spec from s[0..n): trimmed, domain lower-cased; NULL unless local@domain. */
static char *
addr_clean(const char *s, size_t n)
{
	const char *route;
	char *a, *at;

	trim(&s, &n);
	if ((route = memchr(s, ':', n)) != NULL && n > 0 && s[0] == '@') {	/* <@relay:user@host> */
		n -= (size_t)(route + 1 - s);
		s = route + 1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '<' || s[i] == '>' || s[i] == ',')
			return NULL;
	a = xstrndup(s, n);
	if ((at = strrchr(a, '@')) == NULL || at == a || at[1] == '\0' || strpbrk(at, " \t") ||
	    (memchr(a, ' ', (size_t)(at - a)) && a[0] != '"')) {
		free(a);
		return NULL;
	}
	ascii_lower(at);
	return a;
}

/* A display name: quotes removed, \-escapes read, then decoded; NULL if empty. */
static char *
name_clean(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	char *name;

	trim(&s, &n);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			buf_putc(&b, s[++i]);
		else if (s[i] != '"')
			buf_putc(&b, s[i]);
	}
	name = hdr_decode(buf_cstr(&b), b.len);
	buf_free(&b);
	if (*name == '\0') {
		free(name);
		return NULL;
	}
	return name;
}

/* The comment text of s[0..n) (for "addr (Name)"), and s without comments in *bare. */
static void
addr_comments(const char *s, size_t n, struct buf *bare, struct buf *comment)
{
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '(' && depth++ == 0)
			continue;
		if (s[i] == ')' && depth > 0 && --depth == 0)
			continue;
		buf_putc(depth ? comment : bare, s[i]);
	}
}

/* The mailbox without angle brackets: "addr (Name)", or even "Name addr". */
static int
mbox_bare(const char *s, size_t n, char **addr, char **name)
{
	struct buf bare = BUF_INIT, comment = BUF_INIT;
	const char *b, *tok;
	size_t len;

	addr_comments(s, n, &bare, &comment);
	b = buf_cstr(&bare);
	len = bare.len;
	trim(&b, &len);
	for (tok = b + len; tok > b && !is_wsp(tok[-1]); tok--)
		;
	*addr = addr_clean(tok, len - (size_t)(tok - b));
	if (*addr != NULL)
		*name = tok > b ? name_clean(b, (size_t)(tok - b)) :
		    name_clean(buf_cstr(&comment), comment.len);
	buf_free(&bare);
	buf_free(&comment);
	return *addr ? 0 : -1;
}

/* The addr-spec and display name of one mailbox s[0..n); -1 if it holds none. */
static int
mbox_read(const char *s, size_t n, char **addr, char **name)
{
	size_t colon = addr_scan(s, n, 0, ":"), lt;
	const char *gt;

	if (colon < n) {	/* "group name: a@b, c@d;" */
		s += colon + 1;
		n -= colon + 1;
	}
	if ((lt = addr_scan(s, n, 0, "<")) == n)
		return mbox_bare(s, n, addr, name);
	gt = memchr(s + lt, '>', n - lt);
	*addr = addr_clean(s + lt + 1, gt ? (size_t)(gt - s) - lt - 1 : n - lt - 1);
	if (*addr == NULL)
		return -1;
	*name = name_clean(s, lt);
	return 0;
}

/* The first mailbox of an address list (unfolded, UTF-8): its addr-spec and display name. */
static void
from_read(const char *v, size_t n, char **addr, char **name)
{
	size_t i = 0;

	*addr = *name = NULL;
	while (i < n) {
		size_t end = addr_scan(v, n, i, ",;");

		if (mbox_read(v + i, end - i, addr, name) == 0)
			return;
		i = end + 1;
	}
}

/* A msg-id without its angle brackets, white space and controls; NULL if empty. */
static char *
msgid_read(const char *v, size_t n)
{
	const char *lt = memchr(v, '<', n), *gt = NULL;
	struct buf b = BUF_INIT;

	if (lt != NULL)
		gt = memchr(lt, '>', n - (size_t)(lt - v));
	if (lt != NULL && gt != NULL) {
		v = lt + 1;
		n = (size_t)(gt - lt) - 1;
	} else {
		trim(&v, &n);
		for (size_t i = 0; i < n; i++)
			if (is_wsp(v[i]))
				n = i;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] > ' ' && v[i] != 0x7f)
			buf_putc(&b, v[i]);
	if (b.len == 0 || !utf8_valid(b.data, b.len, NULL)) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* ---- the MIME tree ---- */

enum node_kind { NODE_LEAF, NODE_MULTI, NODE_MESSAGE };

/* One entity: the message, a part, or the message inside a message/rfc822 part. */
struct node {
	int			 parent, first, last, next;	/* tree links, -1 for none */
	int			 depth;		/* the message is 1 */
	enum node_kind		 kind;
	int			 closed;	/* NODE_MULTI: its close delimiter was seen */
	int			 in_msg;	/* inside an attached message: no text, no attachment */
	int			 cte;		/* MAILMIME_MECHANISM_* */
	struct mailmime_content	*ct;		/* NULL: the default type */
	struct mailmime_disposition *disp;	/* NULL: none */
	char			*type;		/* "text/plain", lower case */
	char			*boundary;	/* NODE_MULTI */
	size_t			 blen;
	size_t			 body, end;	/* the body, offsets into the message */
};

/*
 * The walk: one pass over the lines of the message. The open nodes are
 * the path from the message to the entity being read; a delimiter line
 * ends every node above the multipart it belongs to. Nothing recurses on
 * the input, and the limits are checked as each node is made.
 */
struct parser {
	const char	*s;
	size_t		 n;
	struct node	*nodes;
	int		 nnodes;
	int		 cap;
	int		 open[MIME_MAX_DEPTH];
	int		 nopen;
	int		 nmulti;	/* open multiparts not yet closed */
	struct fields	 f;		/* the header block being read */
	struct buf	 tmp;
	const char	*why;
};

static const char *
ct_param(const struct mailmime_content *ct, const char *name)
{
	if (ct == NULL || ct->ct_parameters == NULL)
		return NULL;
	for (clistiter *it = clist_begin(ct->ct_parameters); it; it = clist_next(it)) {
		const struct mailmime_parameter *p = clist_content(it);

		if (p->pa_name && p->pa_value && strcasecmp(p->pa_name, name) == 0)
			return p->pa_value;
	}
	return NULL;
}

/* "type/subtype" of ct in lower case, newly allocated; def when ct is NULL. */
static char *
ct_name(const struct mailmime_content *ct, const char *def)
{
	static const char *const discrete[] = { "application", "text", "image", "audio", "video",
		"application" };
	const char *type = "application";
	char *s;

	if (ct == NULL)
		return xstrdup(def);
	if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		const struct mailmime_discrete_type *d = ct->ct_type->tp_data.tp_discrete_type;

		type = d->dt_type == MAILMIME_DISCRETE_TYPE_EXTENSION && d->dt_extension ?
		    d->dt_extension : discrete[d->dt_type >= 0 && d->dt_type < 6 ? d->dt_type : 0];
	} else {
		const struct mailmime_composite_type *c = ct->ct_type->tp_data.tp_composite_type;

		type = c->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE ? "message" :
		    c->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART ? "multipart" :
		    c->ct_token ? c->ct_token : "application";
	}
	s = xasprintf("%s/%s", type, ct->ct_subtype ? ct->ct_subtype : "unknown");
	ascii_lower(s);
	return s;
}

/* 1 if the line s[i..eol) is a delimiter of an open multipart: *k its place in p->open. */
static int
delim_find(const struct parser *p, size_t i, size_t eol, int *k, int *close)
{
	const char *l = p->s + i;
	size_t len = eol - i;

	if (len < 3 || l[0] != '-' || l[1] != '-')
		return 0;
	if (l[len - 1] == '\r')
		len--;
	for (int j = 0; j < p->nopen; j++) {	/* outer first: a part never hides its parent's */
		const struct node *nd = &p->nodes[p->open[j]];
		const char *rest = l + 2 + nd->blen;
		size_t rlen;

		if (nd->kind != NODE_MULTI || nd->closed || len < 2 + nd->blen ||
		    memcmp(l + 2, nd->boundary, nd->blen) != 0)
			continue;
		rlen = len - 2 - nd->blen;
		*k = j;
		if ((*close = rlen >= 2 && rest[0] == '-' && rest[1] == '-'))
			return 1;
		if (line_blank(rest, 0, rlen))
			return 1;
	}
	return 0;
}

/*
 * A multipart without a boundary: the first "--x" line near the start of
 * its body, if it is no delimiter of ours.
 */
static char *
boundary_guess(const struct parser *p, size_t i)
{
	for (int lines = 0; i < p->n && lines < 200; lines++) {
		size_t eol = line_end(p->s, p->n, i), len;
		int k, close;

		if (eol - i > 2 && p->s[i] == '-' && p->s[i + 1] == '-') {
			if (delim_find(p, i, eol, &k, &close))
				return NULL;
			for (len = eol - i - 2; len > 0 && is_space(p->s[i + 1 + len]); len--)
				;
			if (len == 0 || len > BOUNDARY_MAX || memchr(p->s + i + 2, ' ', len))
				return NULL;
			return xstrndup(p->s + i + 2, len);
		}
		i = line_next(eol, p->n);
	}
	return NULL;
}

/* The Content-Type, -Transfer-Encoding and -Disposition fields of p->f, parsed into nd. */
static void
node_fields(struct parser *p, struct node *nd)
{
	for (size_t i = 0; i < p->f.n; i++) {
		const struct field *fl = &p->f.v[i];
		size_t idx = 0;

		if (fl->nlen < 12 || strncasecmp(fl->name, "Content-", 8) != 0)
			continue;
		buf_reset(&p->tmp);
		unfold_append(&p->tmp, fl->val, fl->vlen);
		if (nd->ct == NULL && field_is(fl, "Content-Type")) {
			if (mailmime_content_parse(buf_cstr(&p->tmp), p->tmp.len, &idx, &nd->ct) != MAILIMF_NO_ERROR)
				nd->ct = NULL;
		} else if (nd->cte < 0 && field_is(fl, "Content-Transfer-Encoding")) {
			struct mailmime_mechanism *m = NULL;

			if (mailmime_encoding_parse(buf_cstr(&p->tmp), p->tmp.len, &idx, &m) == MAILIMF_NO_ERROR) {
				nd->cte = m->enc_type;
				mailmime_mechanism_free(m);
			}
		} else if (nd->disp == NULL && field_is(fl, "Content-Disposition")) {
			if (mailmime_disposition_parse(buf_cstr(&p->tmp), p->tmp.len, &idx,
			    &nd->disp) != MAILIMF_NO_ERROR)
				nd->disp = NULL;
		}
	}
	if (nd->cte < 0)
		nd->cte = MAILMIME_MECHANISM_7BIT;
}

/* Whether nd holds parts, a message, or is a leaf; its boundary. */
static void
node_kind(struct parser *p, struct node *nd)
{
	const char *b;

	if (strncmp(nd->type, "multipart/", 10) == 0) {
		b = ct_param(nd->ct, "boundary");
		if (b != NULL && *b != '\0' && strlen(b) <= BOUNDARY_MAX)
			nd->boundary = xstrdup(b);
		else
			nd->boundary = boundary_guess(p, nd->body);
		if (nd->boundary != NULL) {
			nd->kind = NODE_MULTI;
			nd->blen = strlen(nd->boundary);
			p->nmulti++;
		}
	} else if ((strcmp(nd->type, "message/rfc822") == 0 || strcmp(nd->type, "message/global") == 0) &&
	    nd->cte != MAILMIME_MECHANISM_BASE64 && nd->cte != MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		nd->kind = NODE_MESSAGE;
	}
}

static int
limit(struct parser *p, const char *why)
{
	p->why = why;
	return -1;
}

/* Links node k as the last child of parent. */
static void
node_link(struct parser *p, int k, int parent)
{
	struct node *par = &p->nodes[parent];

	if (par->last >= 0)
		p->nodes[par->last].next = k;
	else
		par->first = k;
	par->last = k;
}

/* A node for the entity whose fields are in p->f and whose body starts at body; -1 past a limit. */
static int
node_new(struct parser *p, int parent, size_t body)
{
	const struct node *par = parent >= 0 ? &p->nodes[parent] : NULL;
	int depth = par ? par->depth + 1 : 1, k = p->nnodes;
	struct node *nd;

	if (depth > MIME_MAX_DEPTH)
		return limit(p, "too deeply nested");
	if (p->nnodes >= MIME_MAX_PARTS)
		return limit(p, "too many parts");
	if (p->nnodes == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->nodes = xreallocarray(p->nodes, (size_t)p->cap, sizeof(*p->nodes));
		par = parent >= 0 ? &p->nodes[parent] : NULL;
	}
	nd = &p->nodes[p->nnodes++];
	*nd = (struct node){ .parent = parent, .first = -1, .last = -1, .next = -1, .depth = depth,
	    .cte = -1, .body = body, .end = p->n };
	nd->in_msg = par && (par->in_msg || (par->kind == NODE_MESSAGE && par->parent >= 0));
	node_fields(p, nd);
	nd->type = ct_name(nd->ct, par && par->kind == NODE_MULTI &&
	    strcmp(par->type, "multipart/digest") == 0 ? "message/rfc822" : "text/plain");
	node_kind(p, nd);
	if (parent >= 0)
		node_link(p, k, parent);
	p->open[p->nopen++] = k;
	return k;
}

/* The header block of a part (or attached message) at i into p->f; returns where its body is. */
static size_t
part_header_read(struct parser *p, size_t i)
{
	int k, close;

	p->f.n = 0;
	while (i < p->n) {
		size_t eol = line_end(p->s, p->n, i), val, nlen;

		if (line_blank(p->s, i, eol))
			return line_next(eol, p->n);
		if (delim_find(p, i, eol, &k, &close) ||
		    (nlen = field_start(p->s, i, eol, &val)) == 0)
			return i;	/* no blank line: the body starts here */
		eol = field_end(p->s, p->n, eol);
		fields_add(&p->f, p->s + i, nlen, p->s + val, eol - val);
		i = line_next(eol, p->n);
	}
	return p->n;
}

/*
 * Opens the entity whose header starts at i, a child of parent, and the one
 * an attached message holds; *next is where the scan reads on.
 */
static int
entity_open(struct parser *p, int parent, size_t i, size_t *next)
{
	for (;;) {
		size_t body = part_header_read(p, i);
		int k = node_new(p, parent, body);

		if (k < 0)
			return -1;
		*next = body;
		if (p->nodes[k].kind != NODE_MESSAGE)
			return 0;
		parent = k;
		i = body;
	}
}

/* Ends the bodies of the open nodes above open[k] where the delimiter line at `at` starts. */
static void
open_cut(struct parser *p, int k, size_t at)
{
	size_t end = at;

	if (end > 0 && p->s[end - 1] == '\n')
		end--;
	if (end > 0 && p->s[end - 1] == '\r')
		end--;
	while (p->nopen > k + 1) {
		struct node *nd = &p->nodes[p->open[--p->nopen]];

		nd->end = end < nd->body ? nd->body : end;
		if (nd->kind == NODE_MULTI && !nd->closed)
			p->nmulti--;
	}
}

/* Reads the lines from i on while a multipart is open, making a node for each part. */
static int
scan(struct parser *p, size_t i)
{
	while (i < p->n && p->nmulti > 0) {
		size_t eol = line_end(p->s, p->n, i), at = i;
		int k, close;

		i = line_next(eol, p->n);
		if (p->s[at] != '-' || !delim_find(p, at, eol, &k, &close))
			continue;
		open_cut(p, k, at);
		if (close) {
			p->nodes[p->open[k]].closed = 1;
			p->nmulti--;
		} else if (entity_open(p, p->open[k], i, &i) < 0) {
			return -1;
		}
	}
	return 0;
}

/*
 * A message whose multipart boundary never appears: if its body starts
 * with another "--x" line, that is read as its boundary. 1 if it was.
 */
static int
boundary_retry(struct parser *p)
{
	struct node *root = &p->nodes[0];
	char *guess;

	if (p->nnodes != 1 || root->kind != NODE_MULTI || root->closed)
		return 0;
	if ((guess = boundary_guess(p, root->body)) == NULL || strcmp(guess, root->boundary) == 0) {
		free(guess);
		return 0;
	}
	free(root->boundary);
	root->boundary = guess;
	root->blen = strlen(guess);
	p->nopen = 1;
	p->nmulti = 1;
	return 1;
}

/* The message itself, from its header fields in p->f, then everything in it. */
static int
tree_read(struct parser *p, size_t body)
{
	size_t next = body;
	int k = node_new(p, -1, body);

	if (k < 0)
		return -1;
	if (p->nodes[k].kind == NODE_MESSAGE && entity_open(p, k, body, &next) < 0)
		return -1;
	if (scan(p, next) < 0)
		return -1;
	return boundary_retry(p) ? scan(p, body) : 0;
}

static void
parser_free(struct parser *p)
{
	for (int i = 0; i < p->nnodes; i++) {
		if (p->nodes[i].ct)
			mailmime_content_free(p->nodes[i].ct);
		if (p->nodes[i].disp)
			mailmime_disposition_free(p->nodes[i].disp);
		free(p->nodes[i].type);
		free(p->nodes[i].boundary);
	}
	free(p->nodes);
	free(p->f.v);
	buf_free(&p->tmp);
}

/* The transfer-decoded bytes of a leaf, appended to b. */
static void
node_decode(const struct parser *p, const struct node *nd, struct buf *b)
{
	const char *s = p->s + nd->body;
	size_t n = nd->end - nd->body;

	if (nd->cte == MAILMIME_MECHANISM_BASE64)
		b64_decode(b, s, n);
	else if (nd->cte == MAILMIME_MECHANISM_QUOTED_PRINTABLE)
		qp_decode(b, s, n);
	else
		buf_append(b, s, n);
}

/* How many bytes a leaf decodes to. */
static size_t
node_size(const struct parser *p, const struct node *nd)
{
	struct buf b = BUF_INIT;
	size_t n;

	if (nd->cte == MAILMIME_MECHANISM_BASE64)
		return b64_size(p->s + nd->body, nd->end - nd->body);
	if (nd->cte != MAILMIME_MECHANISM_QUOTED_PRINTABLE)
		return nd->end - nd->body;
	node_decode(p, nd, &b);
	n = b.len;
	buf_free(&b);
	return n;
}

/* ---- parameters and filenames (RFC 2231, RFC 2047) ---- */

struct kv {
	const char	*k;
	const char	*v;
};

/* The parameters of a node's Content-Disposition (disp set) or Content-Type, up to max. */
static size_t
node_params(const struct node *nd, int disp, struct kv *kv, size_t max)
{
	size_t n = 0;

	if (disp && nd->disp != NULL) {
		for (clistiter *it = clist_begin(nd->disp->dsp_parms); it && n < max; it = clist_next(it)) {
			const struct mailmime_disposition_parm *pa = clist_content(it);

			if (pa->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME)
				kv[n++] = (struct kv){ "filename", pa->pa_data.pa_filename };
			else if (pa->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER)
				kv[n++] = (struct kv){ pa->pa_data.pa_parameter->pa_name,
				    pa->pa_data.pa_parameter->pa_value };
		}
	} else if (!disp && nd->ct != NULL) {
		for (clistiter *it = clist_begin(nd->ct->ct_parameters); it && n < max; it = clist_next(it)) {
			const struct mailmime_parameter *pa = clist_content(it);

			kv[n++] = (struct kv){ pa->pa_name, pa->pa_value };
		}
	}
	return n;
}

/* The value of name, name followed by suffix (e.g. "*1*"), in kv; NULL if absent. */
static const char *
kv_get(const struct kv *kv, size_t n, const char *name, const char *suffix)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (kv[i].k && kv[i].v && strncasecmp(kv[i].k, name, len) == 0 &&
		    strcasecmp(kv[i].k + len, suffix) == 0)
			return kv[i].v;
	return NULL;
}

/* A %-encoded RFC 2231 value into b; with first set, its charset'language' prefix into cs. */
static void
pct_append(struct buf *b, const char *v, int first, char *cs)
{
	const char *q1, *q2;
	int hi, lo;

	if (first && (q1 = strchr(v, '\'')) != NULL && (q2 = strchr(q1 + 1, '\'')) != NULL) {
		size_t len = (size_t)(q1 - v) < CS_NAME - 1 ? (size_t)(q1 - v) : CS_NAME - 1;

		memcpy(cs, v, len);
		cs[len] = '\0';
		v = q2 + 1;
	}
	for (; *v; v++) {
		if (*v == '%' && (hi = hex_digit((unsigned char)v[1])) >= 0 &&
		    (lo = hex_digit((unsigned char)v[2])) >= 0) {
			buf_putc(b, (char)(hi << 4 | lo));
			v += 2;
		} else {
			buf_putc(b, *v);
		}
	}
}

/*
 * The RFC 2231 value of name (name*, or name*0*, name*1...) as bytes into
 * b, its charset into cs; 0 if there is none.
 */
static int
param_2231(const struct kv *kv, size_t n, const char *name, struct buf *b, char *cs)
{
	const char *v;
	char suffix[16];
	int k;

	if ((v = kv_get(kv, n, name, "*")) != NULL) {
		pct_append(b, v, 1, cs);
		return 1;
	}
	for (k = 0; k < 100; k++) {
		snprintf(suffix, sizeof(suffix), "*%d*", k);
		if ((v = kv_get(kv, n, name, suffix)) != NULL) {
			pct_append(b, v, k == 0, cs);
			continue;
		}
		snprintf(suffix, sizeof(suffix), "*%d", k);
		if ((v = kv_get(kv, n, name, suffix)) == NULL)
			break;
		buf_puts(b, v);
	}
	return k > 0;
}

/*
 * A parameter as UTF-8 (RFC 2231, else the plain one with RFC 2047 and
 * 8-bit text read), newly allocated; NULL if absent.
 */
static char *
param_text(const struct kv *kv, size_t n, const char *name)
{
	struct buf raw = BUF_INIT, utf = BUF_INIT;
	char cs[CS_NAME] = "", used[CS_NAME];
	const char *v;
	char *s = NULL;

	if (param_2231(kv, n, name, &raw, cs)) {
		cs_decode(&utf, buf_cstr(&raw), raw.len, cs[0] ? cs : NULL, used);
		s = hdr_decode(buf_cstr(&utf), utf.len);
	} else if ((v = kv_get(kv, n, name, "")) != NULL) {
		s = hdr_decode(v, strlen(v));
	}
	buf_free(&raw);
	buf_free(&utf);
	return s;
}

/* A leaf's filename, decoded, without any directory part; NULL if none. */
static char *
node_filename(const struct node *nd)
{
	struct kv kv[64];
	char *name = param_text(kv, node_params(nd, 1, kv, NITEMS(kv)), "filename");
	const char *base;

	if (name == NULL)
		name = param_text(kv, node_params(nd, 0, kv, NITEMS(kv)), "name");
	if (name == NULL)
		return NULL;
	for (base = name + strlen(name); base > name && base[-1] != '/' && base[-1] != '\\'; base--)
		;
	if (*base == '\0') {
		free(name);
		return NULL;
	}
	memmove(name, base, strlen(base) + 1);
	return name;
}

static int
disp_attachment(const struct node *nd)
{
	return nd->disp != NULL && nd->disp->dsp_type != NULL &&
	    nd->disp->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT;
}

static int
node_is_attachment(const struct node *nd)
{
	char *name;

	if (disp_attachment(nd))
		return 1;
	if ((name = node_filename(nd)) == NULL)
		return 0;
	free(name);
	return 1;
}

/* ---- HTML to text ---- */

enum tag { T_INLINE, T_SKIP, T_BLOCK, T_PARA, T_BR, T_LI, T_LIST, T_QUOTE, T_PRE, T_CELL, T_LINK };

/* Sorted by name, for bsearch. */
static const struct html_tag {
	const char	*name;
	enum tag	 tag;
} html_tags[] = {
	{ "a", T_LINK }, { "address", T_BLOCK }, { "article", T_BLOCK }, { "aside", T_BLOCK },
	{ "blockquote", T_QUOTE }, { "br", T_BR }, { "caption", T_BLOCK }, { "center", T_BLOCK },
	{ "dd", T_BLOCK }, { "div", T_BLOCK }, { "dl", T_BLOCK }, { "dt", T_BLOCK },
	{ "fieldset", T_BLOCK }, { "figcaption", T_BLOCK }, { "figure", T_BLOCK },
	{ "footer", T_BLOCK }, { "form", T_BLOCK }, { "h1", T_PARA }, { "h2", T_PARA },
	{ "h3", T_PARA }, { "h4", T_PARA }, { "h5", T_PARA }, { "h6", T_PARA }, { "head", T_SKIP },
	{ "header", T_BLOCK }, { "hr", T_BLOCK }, { "iframe", T_SKIP }, { "li", T_LI },
	{ "main", T_BLOCK }, { "nav", T_BLOCK }, { "noscript", T_SKIP }, { "object", T_SKIP },
	{ "ol", T_LIST }, { "p", T_PARA }, { "pre", T_PRE }, { "script", T_SKIP },
	{ "section", T_BLOCK }, { "style", T_SKIP }, { "svg", T_SKIP }, { "table", T_BLOCK },
	{ "td", T_CELL }, { "template", T_SKIP }, { "th", T_CELL }, { "title", T_SKIP },
	{ "tr", T_BLOCK }, { "ul", T_LIST }, { "xml", T_SKIP },
};

/* An open element, as it was when it started. */
struct html_elem {
	unsigned char	 tag;		/* enum tag */
	unsigned char	 gap;		/* line breaks it asks for at its end */
	unsigned char	 quote;		/* it opened a quote level */
	unsigned char	 yahoo;		/* a "yahoo_quoted" element: it opened one too */
	unsigned char	 is_p;
};

/* What the HTML walk has written and owes. */
struct html {
	struct buf	 out;
	int		 started;	/* some text was written */
	int		 col0;		/* at the start of a line: its prefix not written yet */
	int		 nl;		/* line breaks owed before the next text (2: a blank line) */
	int		 space;		/* a space owed */
	int		 marker;	/* a list marker was just written */
	int		 quote;		/* quote level of what is being read */
	int		 line_quote;	/* quote level of the last line written */
	int		 quote_rest;	/* Outlook's reply marker was seen: the rest is quoted */
	int		 pre;
	int		 list;
	char		*href;		/* of the open <a>, owned */
	size_t		 link_start;	/* where its text starts in out */
	struct html_elem *stack;	/* the open elements */
	size_t		 depth;
	size_t		 cap;
	size_t		 skip;		/* > 0 inside a skipped element (script, hidden...) */
};

static int
tag_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct html_tag *)elem)->name);
}

static enum tag
html_tag(const struct html *h, const char *name)
{
	const struct html_tag *t = bsearch(name, html_tags, NITEMS(html_tags),
	    sizeof(html_tags[0]), tag_cmp);

	/* libxml2 reads Outlook's <o:p> as a <p> inside the <p>: it is inline */
	if (t && t->tag == T_PARA && h->depth > 0 && h->stack[h->depth - 1].is_p)
		return T_INLINE;
	return t ? t->tag : T_INLINE;
}

static const char *
html_attr(const xmlChar **atts, const char *name)
{
	for (; atts != NULL && atts[0] != NULL; atts += 2)
		if (strcasecmp((const char *)atts[0], name) == 0)
			return atts[1] ? (const char *)atts[1] : "";
	return NULL;
}

/* 1 if the class attribute holds a word starting with prefix. */
static int
html_class(const xmlChar **atts, const char *prefix)
{
	const char *c = html_attr(atts, "class");
	size_t len = strlen(prefix);

	while (c != NULL && *c) {
		c += strspn(c, " \t\r\n");
		if (strncmp(c, prefix, len) == 0)
			return 1;
		c += strcspn(c, " \t\r\n");
	}
	return 0;
}

/* 1 if the style attribute, spaces removed and lower-cased, holds what. */
static int
html_style(const xmlChar **atts, const char *what)
{
	const char *s = html_attr(atts, "style");
	char buf[512];
	size_t n = 0;

	for (; s != NULL && *s && n + 1 < sizeof(buf); s++)
		if (!is_space(*s))
			buf[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
	buf[n] = '\0';
	return n > 0 && strstr(buf, what) != NULL;
}

static int
html_hidden(const xmlChar **atts)
{
	return html_style(atts, "display:none") || html_style(atts, "mso-hide:all");
}

/* Outlook (desktop, web, mobile) and Zimbra mark where the quoted original starts. */
static int
html_reply_marker(const xmlChar **atts)
{
	const char *id = html_attr(atts, "id");

	return id != NULL && (strcmp(id, "divRplyFwdMsg") == 0 || strcmp(id, "appendonsend") == 0 ||
	    strcmp(id, "mail-editor-reference-message-container") == 0 || strcmp(id, "zwchr") == 0);
}

/* Yahoo puts the attribution and the original inside one "yahoo_quoted" element. */
static int
html_yahoo_quote(const xmlChar **atts)
{
	const char *id = html_attr(atts, "id");

	return html_class(atts, "yahoo_quoted") || (id != NULL && strncmp(id, "yahoo_quoted", 12) == 0);
}

/*
 * A <blockquote> is a quote, unless it is the borderless margin Gmail's
 * "indent" button makes (Outlook's quotes say border:none too, but then
 * draw a border-left).
 */
static int
html_is_quote(const xmlChar **atts)
{
	const char *type = html_attr(atts, "type");

	return (type && strcasecmp(type, "cite") == 0) || html_class(atts, "gmail_quote") ||
	    !html_style(atts, "border:none") || html_style(atts, "border-left:");
}

static void
html_prefix(struct html *h, int level, int empty)
{
	if (level > HTML_MAX_NEST)
		level = HTML_MAX_NEST;
	for (int i = 0; i < level; i++)
		buf_putc(&h->out, '>');
	if (level > 0 && !empty)
		buf_putc(&h->out, ' ');
}

/* Writes the line breaks, quote prefix and space owed before text. */
static void
html_flush(struct html *h)
{
	if (h->started && h->nl > 0) {
		for (int i = 0; i < h->nl; i++) {
			buf_putc(&h->out, '\n');
			if (i + 1 < h->nl)	/* a blank line, quoted as much as both sides */
				html_prefix(h, h->line_quote < h->quote ? h->line_quote : h->quote, 1);
		}
		h->col0 = 1;
	}
	h->nl = 0;
	if (h->col0) {
		html_prefix(h, h->quote, 0);
		h->line_quote = h->quote;
		h->col0 = 0;
	} else if (h->space) {
		buf_putc(&h->out, ' ');
	}
	h->space = 0;
	h->started = 1;
	h->marker = 0;
}

static void
html_put(struct html *h, const char *s, size_t n)
{
	html_flush(h);
	buf_append(&h->out, s, n);
}

/* A block boundary: at least n line breaks (2: a blank line) before the next text. */
static void
html_block(struct html *h, int n)
{
	if (h->marker)
		return;	/* "<li><p>item": the item stays on the marker's line */
	if (h->nl < n)
		h->nl = n;
	h->space = 0;
}

static void
html_br(struct html *h)
{
	if (!h->started)
		return;
	h->nl = h->nl < 2 ? h->nl + 1 : 2;
	h->space = 0;
	h->marker = 0;
}

static int
html_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int
html_is_nbsp(const unsigned char *p, const unsigned char *end)
{
	return p + 1 < end && p[0] == 0xc2 && p[1] == 0xa0;
}

/* Text: white space collapsed (kept in <pre>); a no-break space is a space that stays. */
static void
html_text(struct html *h, const char *t, size_t n)
{
	const unsigned char *p = (const unsigned char *)t, *end = p + n;

	while (p < end) {
		size_t k = 0;

		if (html_is_space(*p)) {
			if (h->pre && *p == '\n')
				html_br(h);
			else if (h->pre)
				html_put(h, (const char *)p, 1);
			else if (!h->marker)
				h->space = 1;
			p++;
		} else if (html_is_nbsp(p, end)) {
			html_put(h, " ", 1);
			p += 2;
		} else {
			while (p + k < end && !html_is_space(p[k]) && !html_is_nbsp(p + k, end))
				k++;
			html_put(h, (const char *)p, k);
			p += k;
		}
	}
}

/* After a link: its address in <>, when it is a web address its text does not show. */
static void
html_link_end(struct html *h)
{
	const char *href = h->href, *text, *bare;
	size_t hlen, tlen, blen;

	if (href == NULL || h->out.len <= h->link_start || strpbrk(href, " \t\r\n<>") != NULL)
		return;
	if (strncasecmp(href, "https://", 8) != 0 && strncasecmp(href, "http://", 7) != 0)
		return;
	if ((hlen = strlen(href)) > 2048)
		return;
	text = h->out.data + h->link_start;
	tlen = h->out.len - h->link_start;
	trim(&text, &tlen);
	bare = strchr(href, ':') + 3;
	blen = hlen - (size_t)(bare - href);
	while (blen > 0 && bare[blen - 1] == '/')
		blen--;
	if (tlen == 0 || memmem(text, tlen, bare, blen) || memmem(href, hlen, text, tlen))
		return;
	html_put(h, " <", 2);
	buf_append(&h->out, href, hlen);
	buf_putc(&h->out, '>');
}

static void
html_li(struct html *h)
{
	h->marker = 0;	/* an item right inside an item starts its own line */
	html_block(h, 1);
	html_flush(h);
	for (int i = 1; i < h->list && i < HTML_MAX_NEST; i++)
		buf_puts(&h->out, "  ");
	buf_puts(&h->out, "- ");
	h->marker = 1;
}

/*
 * The line breaks around a paragraph: a blank line, but one break for
 * Outlook's and OWA's paragraphs (margins of 0: they are lines) and for
 * paragraphs inside a list item.
 */
static int
html_para_gap(const struct html *h, const xmlChar **atts)
{
	return h->list > 0 || html_class(atts, "Mso") || html_style(atts, "margin:0") ||
	    html_style(atts, "margin-bottom:0") ? 1 : 2;
}

/* The effect of an element starting; what its end will need is kept in e. */
static void
html_open(struct html *h, struct html_elem *e, const xmlChar **atts)
{
	const char *href;

	switch (e->tag) {
	case T_BLOCK:
	case T_LI:
		e->gap = 1;
		if (e->tag == T_LI)
			html_li(h);
		else
			html_block(h, 1);
		break;
	case T_PARA:
		html_block(h, e->gap = (unsigned char)html_para_gap(h, atts));
		break;
	case T_BR:
		html_br(h);
		break;
	case T_LIST:
		html_block(h, e->gap = 1);
		h->list++;
		break;
	case T_QUOTE:
		e->quote = (unsigned char)html_is_quote(atts);
		html_block(h, e->gap = e->quote ? 2 : 1);
		h->quote += e->quote;
		break;
	case T_PRE:
		html_block(h, e->gap = 1);
		h->pre++;
		break;
	case T_LINK:
		free(h->href);
		h->href = (href = html_attr(atts, "href")) != NULL ? xstrdup(href) : NULL;
		h->link_start = h->out.len;
		break;
	default:
		break;
	}
}

/* The effect of an element ending. */
static void
html_close(struct html *h, const struct html_elem *e)
{
	if (e->tag == T_CELL)
		h->space = h->started && !h->col0 && !h->nl;	/* cells of a row: a space between */
	else if (e->tag == T_LIST)
		h->list--;
	else if (e->tag == T_PRE)
		h->pre--;
	else if (e->tag == T_LINK)
		html_link_end(h);
	h->quote -= e->quote;
	if (e->gap)
		html_block(h, e->gap);
	if (e->yahoo) {
		html_block(h, 2);
		h->quote--;
	}
}

/* SAX: an element starts. Skipped ones (script, style, hidden...) hide all they hold. */
static void
html_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct html *h = ctx;
	struct html_elem e = { 0 };

	if (h->skip > 0 || (e.tag = (unsigned char)html_tag(h, (const char *)name)) == T_SKIP ||
	    html_hidden(atts)) {
		h->skip++;
		return;
	}
	e.is_p = strcmp((const char *)name, "p") == 0;
	if (!h->quote_rest && html_reply_marker(atts)) {
		html_block(h, 2);
		h->quote_rest = 1;
		h->quote++;
	}
	if ((e.yahoo = (unsigned char)html_yahoo_quote(atts)) != 0) {
		html_block(h, 2);
		h->quote++;
	}
	html_open(h, &e, atts);
	if (h->depth == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 32;
		h->stack = xreallocarray(h->stack, h->cap, sizeof(*h->stack));
	}
	h->stack[h->depth++] = e;
}

/* SAX: an element ends (libxml2 ends every element it started, implied ones too). */
static void
html_end(void *ctx, const xmlChar *name)
{
	struct html *h = ctx;

	if (h->skip > 0)
		h->skip--;
	else if (h->depth > 0)
		html_close(h, &h->stack[--h->depth]);
}

static void
html_chars(void *ctx, const xmlChar *s, int len)
{
	struct html *h = ctx;

	if (h->skip == 0 && len > 0)
		html_text(h, (const char *)s, (size_t)len);
}

/*
 * Readable text from HTML (clean UTF-8): blocks and <br> make lines, <p>
 * a paragraph, <li> "- ", links keep their text (and their web address
 * when the text does not show it), scripts, styles and hidden elements
 * are dropped. Quoted regions come out as "> " lines: <blockquote>,
 * Yahoo's "yahoo_quoted", and everything from Outlook's divRplyFwdMsg /
 * appendonsend marker to the end. Attribution lines outside the quote
 * (Gmail's gmail_attr, Thunderbird's moz-cite-prefix) stay as written.
 * libxml2's HTML parser is driven through SAX: no tree is built, which
 * halves its cost. Newly allocated.
 */
static char *
html_to_text(const char *s, size_t n)
{
	struct html h = { .col0 = 1 };
	htmlSAXHandler sax;
	htmlParserCtxtPtr ctxt;

	memset(&sax, 0, sizeof(sax));
	sax.startElement = html_start;
	sax.endElement = html_end;
	sax.characters = html_chars;
	sax.ignorableWhitespace = html_chars;
	sax.initialized = 1;
	if (n > 0 && (ctxt = htmlCreateMemoryParserCtxt(s, n > INT_MAX ? INT_MAX : (int)n)) != NULL) {
		memcpy(ctxt->sax, &sax, sizeof(sax));
		ctxt->userData = &h;
		htmlCtxtUseOptions(ctxt, HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
		    HTML_PARSE_NONET | HTML_PARSE_RECOVER | HTML_PARSE_IGNORE_ENC);
		xmlSwitchEncoding(ctxt, XML_CHAR_ENCODING_UTF8);	/* what we made of it */
		htmlParseDocument(ctxt);
		if (ctxt->myDoc != NULL)
			xmlFreeDoc(ctxt->myDoc);
		htmlFreeParserCtxt(ctxt);
	}
	free(h.href);
	free(h.stack);
	return h.out.data ? buf_take(&h.out) : xstrdup("");
}

/* The charset an HTML document names in a <meta> near its start, into name; NULL if none. */
static const char *
html_meta_charset(const char *s, size_t n, char *name)
{
	if (n > 4096)
		n = 4096;
	for (size_t i = 0; i + 8 < n; i++) {
		size_t j = i + 8, k = 0;

		if ((s[i] | 0x20) != 'c' || strncasecmp(s + i, "charset=", 8) != 0)
			continue;
		j += strspn(s + j, "\"' ");
		while (j < n && k + 1 < CS_NAME && s[j] != '\0' &&
		    (isalnum((unsigned char)s[j]) || strchr("-_.:", s[j]) != NULL))
			name[k++] = s[j++];
		name[k] = '\0';
		return k ? name : NULL;
	}
	return NULL;
}

/* ---- plain text ---- */

/* One line of format=flowed text: its quote depth, and its content unstuffed. */
static size_t
flowed_line(const char *l, size_t len, int *depth)
{
	size_t i = 0;

	while (i < len && l[i] == '>')
		i++;
	*depth = (int)i;
	if (i < len && l[i] == ' ')	/* space-stuffing */
		i++;
	return i;
}

static void
flowed_emit(struct buf *out, int depth, const struct buf *para, int *first)
{
	if (!*first)
		buf_putc(out, '\n');
	*first = 0;
	for (int i = 0; i < depth; i++)
		buf_putc(out, '>');
	if (depth > 0 && para->len > 0)
		buf_putc(out, ' ');
	buf_append(out, buf_cstr(para), para->len);
}

/*
 * format=flowed text (RFC 3676) with its soft line breaks joined: a line
 * ending in a space flows into the next one of the same quote depth (the
 * space dropped with DelSp=yes); "-- " never flows. Quoted lines come out
 * as ">> text". Newly allocated.
 */
static char *
flowed_join(const char *t, int delsp)
{
	struct buf out = BUF_INIT, para = BUF_INIT;
	int depth = 0, soft = 0, first = 1;

	while (*t) {
		const char *nl = strchr(t, '\n');
		size_t len = nl ? (size_t)(nl - t) : strlen(t), at;
		int d;

		at = flowed_line(t, len, &d);
		if (soft && d != depth) {
			flowed_emit(&out, depth, &para, &first);
			buf_reset(&para);
		}
		depth = d;
		soft = len > at && t[len - 1] == ' ' && !(len - at == 3 && memcmp(t + at, "-- ", 3) == 0);
		buf_append(&para, t + at, len - at - (soft && delsp));
		if (!soft) {
			flowed_emit(&out, depth, &para, &first);
			buf_reset(&para);
		}
		if (nl == NULL)
			break;
		t = nl + 1;
	}
	if (soft)
		flowed_emit(&out, depth, &para, &first);
	buf_free(&para);
	return out.data ? buf_take(&out) : xstrdup("");
}

/*
 * The final form of a text: no white space at line ends (but the "-- "
 * signature line), no blank lines at either end, NFC. Takes t.
 */
static char *
text_finish(char *t)
{
	struct buf b = BUF_INIT;
	size_t blank = 0;
	const char *p = t;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p), keep = len;

		if (!(len == 3 && memcmp(p, "-- ", 3) == 0))
			while (keep > 0 && is_wsp(p[keep - 1]))
				keep--;
		if (keep == 0) {
			blank++;
		} else {
			for (size_t i = 0; b.len > 0 && i <= blank; i++)
				buf_putc(&b, '\n');
			buf_append(&b, p, keep);
			blank = 0;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	free(t);
	return nfc(b.data ? buf_take(&b) : xstrdup(""));
}

/* A text leaf as clean UTF-8: charset, then flowed lines joined or HTML made text. */
static char *
node_text(const struct parser *p, const struct node *nd, int html, char *used)
{
	struct buf raw = BUF_INIT, utf = BUF_INIT, clean = BUF_INIT;
	const char *cs = ct_param(nd->ct, "charset"), *fmt = ct_param(nd->ct, "format");
	const char *delsp = ct_param(nd->ct, "delsp");
	char meta[CS_NAME], *t;

	node_decode(p, nd, &raw);
	if (html && cs == NULL)
		cs = html_meta_charset(buf_cstr(&raw), raw.len, meta);
	cs_decode(&utf, buf_cstr(&raw), raw.len, cs, used);
	clean_append(&clean, buf_cstr(&utf), utf.len, 0);
	if (html)
		t = html_to_text(buf_cstr(&clean), clean.len);
	else if (fmt && strcasecmp(fmt, "flowed") == 0)
		t = flowed_join(buf_cstr(&clean), delsp && strcasecmp(delsp, "yes") == 0);
	else
		t = clean.data ? buf_take(&clean) : xstrdup("");
	buf_free(&raw);
	buf_free(&utf);
	buf_free(&clean);
	return text_finish(t);
}

/* ---- the body ---- */

static int
is_plain_type(const char *type)
{
	return strcmp(type, "text/plain") == 0 || strncmp(type, "multipart/", 10) == 0;
}

/*
 * The text/plain and text/html leaves that make the body under node k:
 * in multipart/alternative the first of each kind, elsewhere the first
 * part that has any (so in multipart/mixed, the first text part that is
 * not an attachment). Not strict, a part with a filename will do unless
 * it says "attachment". Attached messages are not looked into. Depth is
 * bounded by MIME_MAX_DEPTH.
 */
static void
body_find(const struct parser *p, int k, int strict, int *plain, int *html)
{
	const struct node *nd = &p->nodes[k];

	if (nd->kind == NODE_LEAF) {
		if (strict ? node_is_attachment(nd) : disp_attachment(nd))
			return;
		if (is_plain_type(nd->type))
			*plain = k;
		else if (strcmp(nd->type, "text/html") == 0)
			*html = k;
	} else if (nd->kind == NODE_MESSAGE) {
		if (nd->parent < 0 && nd->first >= 0)
			body_find(p, nd->first, strict, plain, html);
	} else {
		int alt = strcmp(nd->type, "multipart/alternative") == 0;

		for (int c = nd->first; c >= 0; c = p->nodes[c].next) {
			int pl = -1, ht = -1;

			body_find(p, c, strict, &pl, &ht);
			if (*plain < 0)
				*plain = pl;
			if (*html < 0)
				*html = ht;
			if (!alt && (*plain >= 0 || *html >= 0))
				return;
		}
	}
}

/* The body text (plain preferred; HTML if there is no plain text or it is empty); its node, -1. */
static int
body_read(const struct parser *p, struct mail *m)
{
	int plain = -1, html = -1, k = -1;
	char used[CS_NAME];

	body_find(p, 0, 1, &plain, &html);
	if (plain < 0 && html < 0)	/* a body sent as a named inline part */
		body_find(p, 0, 0, &plain, &html);
	if (plain >= 0) {
		m->text = node_text(p, &p->nodes[plain], 0, used);
		k = plain;
	}
	if (html >= 0 && (m->text == NULL || m->text[0] == '\0')) {
		free(m->text);
		m->text = node_text(p, &p->nodes[html], 1, used);
		m->text_from_html = 1;
		k = html;
	}
	if (k >= 0)
		m->charset_used = xstrdup(used);
	else
		m->text = xstrdup("");
	return k;
}

/* ---- attachments ---- */

static int
is_signature(const char *type)
{
	return strcmp(type, "application/pgp-signature") == 0 ||
	    strcmp(type, "application/pkcs7-signature") == 0 ||
	    strcmp(type, "application/x-pkcs7-signature") == 0 ||
	    strcmp(type, "application/pgp-encrypted") == 0;
}

/*
 * Every leaf that is not the body nor the DSN report: those with a
 * filename or "Content-Disposition: attachment", and every non-text leaf
 * (images, attached messages...), signatures aside.
 */
static void
attachments_read(const struct parser *p, struct mail *m, int body, int report)
{
	for (int k = 0; k < p->nnodes; k++) {
		const struct node *nd = &p->nodes[k];
		struct mail_attachment *a;
		char *name;

		if (k == body || k == report || nd->in_msg || nd->kind == NODE_MULTI ||
		    (nd->kind == NODE_MESSAGE && nd->parent < 0) || is_signature(nd->type))
			continue;
		name = node_filename(nd);
		if (name == NULL && nd->kind == NODE_LEAF && !disp_attachment(nd) &&
		    strncmp(nd->type, "text/", 5) == 0)
			continue;
		m->attachments = grow(m->attachments, m->nattachments, sizeof(*m->attachments));
		a = &m->attachments[m->nattachments++];
		a->filename = name;
		a->type = xstrdup(nd->type);
		a->size = node_size(p, nd);
	}
}

/* ---- delivery status notifications (RFC 3464) ---- */

/* One per-recipient block being read. */
struct dsn_rec {
	char	*final, *orig, *action, *status, *diag;
};

static void
dsn_flush(struct mail *m, struct dsn_rec *r)
{
	if (r->final || r->orig) {
		struct mail_dsn *d;

		m->dsn = grow(m->dsn, m->ndsn, sizeof(*m->dsn));
		d = &m->dsn[m->ndsn++];
		d->recipient = r->final ? r->final : r->orig;
		d->action = r->action;
		d->status = r->status;
		d->diagnostic = r->diag;
		if (r->final)
			free(r->orig);
	} else {
		free(r->action);
		free(r->status);
		free(r->diag);
	}
	memset(r, 0, sizeof(*r));
}

/* "rfc822; <bob@example.fr>" to "bob@example.fr" (domain lower-cased). */
static char *
dsn_addr(const char *v)
{
	const char *semi = strchr(v, ';');
	char *a, *at;
	size_t n;

	v = semi ? semi + 1 : v;
	v += strspn(v, " \t<");
	n = strcspn(v, " \t>");
	if (n == 0)
		return NULL;
	a = xstrndup(v, n);
	if ((at = strrchr(a, '@')) != NULL)
		ascii_lower(at);
	return a;
}

/* The first word of v, optionally lower-cased; NULL if none. */
static char *
dsn_word(const char *v, int lower)
{
	size_t n;
	char *w;

	v += strspn(v, " \t");
	if ((n = strcspn(v, " \t;(")) == 0)
		return NULL;
	w = xstrndup(v, n);
	if (lower)
		ascii_lower(w);
	return w;
}

/* The status code in v ("5.1.1 (bad mailbox)" gives "5.1.1"), else its first word. */
static char *
dsn_status(const char *v)
{
	for (const char *p = v; *p; p++) {
		size_t a, b, c;

		if (!(p[0] >= '2' && p[0] <= '5' && p[1] == '.') || (p > v && isdigit((unsigned char)p[-1])))
			continue;
		a = strspn(p + 2, "0123456789");
		if (a == 0 || a > 3 || p[2 + a] != '.')
			continue;
		b = strspn(p + 3 + a, "0123456789");
		if (b == 0 || b > 3)
			continue;
		c = 3 + a + b;
		return xstrndup(p, c);
	}
	return dsn_word(v, 0);
}

static void
dsn_set(char **slot, char *v)
{
	free(*slot);
	*slot = v;
}

/* Runs of spaces in s made one (a folded diagnostic reads as one line). */
static void
collapse_spaces(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++)
		if (*r != ' ' || w == s || w[-1] != ' ')
			*w++ = *r;
	*w = '\0';
}

/* One field of a DSN block; a second recipient field (or Action) starts a new record. */
static void
dsn_field(struct mail *m, struct dsn_rec *r, const char *name, const char *v)
{
	if (strcasecmp(name, "Final-Recipient") == 0) {
		if (r->final || r->action || r->status)
			dsn_flush(m, r);
		r->final = dsn_addr(v);
	} else if (strcasecmp(name, "Original-Recipient") == 0) {
		if (r->orig || r->action || r->status)
			dsn_flush(m, r);
		r->orig = dsn_addr(v);
	} else if (strcasecmp(name, "Action") == 0) {
		if (r->action)
			dsn_flush(m, r);
		r->action = dsn_word(v, 1);
	} else if (strcasecmp(name, "Status") == 0) {
		dsn_set(&r->status, dsn_status(v));
	} else if (strcasecmp(name, "Diagnostic-Code") == 0) {
		dsn_set(&r->diag, hdr_decode(v, strlen(v)));
		collapse_spaces(r->diag);
		if (r->diag[0] == '\0')
			dsn_set(&r->diag, NULL);
	}
}

/* The per-recipient blocks of a message/delivery-status text (clean; folded fields read). */
static void
dsn_parse(struct mail *m, const char *t)
{
	struct dsn_rec r = { 0 };
	struct buf name = BUF_INIT, val = BUF_INIT;
	size_t n = strlen(t), i = 0;

	while (i < n) {
		size_t eol = line_end(t, n, i), v, nlen;

		if (line_blank(t, i, eol)) {
			dsn_flush(m, &r);
		} else if ((nlen = field_start(t, i, eol, &v)) > 0) {
			eol = field_end(t, n, eol);
			buf_reset(&name);
			buf_append(&name, t + i, nlen);
			buf_reset(&val);
			unfold_append(&val, t + v, eol - v);
			dsn_field(m, &r, buf_cstr(&name), buf_cstr(&val));
		}
		i = line_next(eol, n);
	}
	dsn_flush(m, &r);
	buf_free(&name);
	buf_free(&val);
}

/* The text of a leaf read as (mostly ASCII) UTF-8. */
static char *
node_plain(const struct parser *p, const struct node *nd)
{
	struct buf raw = BUF_INIT, utf = BUF_INIT, clean = BUF_INIT;
	char used[CS_NAME];

	node_decode(p, nd, &raw);
	cs_decode(&utf, buf_cstr(&raw), raw.len, "utf-8", used);
	clean_append(&clean, buf_cstr(&utf), utf.len, 0);
	buf_free(&raw);
	buf_free(&utf);
	return clean.data ? buf_take(&clean) : xstrdup("");
}

/* 1 if the text holds a line starting with a DSN recipient field. */
static int
dsn_looks(const char *t)
{
	for (const char *l = t; l != NULL && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncasecmp(l, "Final-Recipient:", 16) == 0 ||
		    strncasecmp(l, "Original-Recipient:", 19) == 0)
			return 1;
	return 0;
}

/*
 * A multipart/report; report-type=delivery-status: is_dsn, and dsn[] from
 * its message/delivery-status part (or a text/plain part after the first
 * that reads like one: some MTAs mislabel it). Returns that part, or -1.
 */
static int
dsn_read(const struct parser *p, struct mail *m)
{
	for (int k = 0; k < p->nnodes; k++) {
		const struct node *nd = &p->nodes[k];
		const char *rt = ct_param(nd->ct, "report-type");

		if (nd->in_msg || nd->kind != NODE_MULTI || strcmp(nd->type, "multipart/report") != 0 ||
		    rt == NULL || strcasecmp(rt, "delivery-status") != 0)
			continue;
		m->is_dsn = 1;
		for (int c = nd->first; c >= 0; c = p->nodes[c].next) {
			const char *type = p->nodes[c].type;
			int status = strcmp(type, "message/delivery-status") == 0 ||
			    strcmp(type, "message/global-delivery-status") == 0;
			char *t;

			if (!status && (c == nd->first || strcmp(type, "text/plain") != 0))
				continue;
			t = node_plain(p, &p->nodes[c]);
			if (status || dsn_looks(t)) {
				dsn_parse(m, t);
				free(t);
				return c;
			}
			free(t);
		}
		return -1;
	}
	return -1;
}

/* ---- the message ---- */

/* headers[], and the shortcuts read from the raw fields. */
static void
headers_read(struct mail *m, const struct fields *f, struct buf *tmp)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct field *fl = &f->v[i];
		struct mail_header *h;

		m->headers = grow(m->headers, m->nheaders, sizeof(*m->headers));
		h = &m->headers[m->nheaders++];
		h->name = xstrndup(fl->name, fl->nlen);
		h->value = field_decode(fl);
		if (field_is(fl, "Received"))
			m->received_count++;
		else if (m->subject == NULL && field_is(fl, "Subject"))
			m->subject = xstrdup(h->value);
		if ((m->message_id == NULL && field_is(fl, "Message-ID")) ||
		    (m->in_reply_to == NULL && field_is(fl, "In-Reply-To"))) {
			buf_reset(tmp);
			unfold_append(tmp, fl->val, fl->vlen);
			*(field_is(fl, "Message-ID") ? &m->message_id : &m->in_reply_to) =
			    msgid_read(buf_cstr(tmp), tmp->len);
		}
	}
}

/* from_addr and from_name, from the first From field. */
static void
from_fill(struct mail *m, const struct fields *f, struct buf *tmp)
{
	struct buf utf = BUF_INIT;

	for (size_t i = 0; i < f->n; i++) {
		if (!field_is(&f->v[i], "From"))
			continue;
		buf_reset(tmp);
		unfold_append(tmp, f->v[i].val, f->v[i].vlen);
		if (has_high(buf_cstr(tmp), tmp->len) && !utf8_valid(buf_cstr(tmp), tmp->len, NULL))
			mixed_append(&utf, buf_cstr(tmp), tmp->len);
		else
			buf_append(&utf, buf_cstr(tmp), tmp->len);
		from_read(buf_cstr(&utf), utf.len, &m->from_addr, &m->from_name);
		break;
	}
	buf_free(&utf);
}

int
ingest_mime_parse(const char *raw, size_t len, struct mail *out, const char **why)
{
	struct parser p = { .s = raw, .n = len };
	size_t body;
	int body_node, report;

	memset(out, 0, sizeof(*out));
	if (raw == NULL || len == 0 || header_block_read(raw, len, &p.f, &body) < 0) {
		p.why = "no header";
		goto fail;
	}
	headers_read(out, &p.f, &p.tmp);
	from_fill(out, &p.f, &p.tmp);
	if (tree_read(&p, body) < 0)
		goto fail;
	out->nparts = (size_t)p.nnodes;
	report = dsn_read(&p, out);
	body_node = body_read(&p, out);
	attachments_read(&p, out, body_node, report);
	parser_free(&p);
	return 0;
fail:
	if (why != NULL)
		*why = p.why;
	out->nparts = (size_t)p.nnodes;
	parser_free(&p);
	return -1;
}

void
mail_free(struct mail *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	for (size_t i = 0; i < m->nattachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].type);
	}
	for (size_t i = 0; i < m->ndsn; i++) {
		free(m->dsn[i].recipient);
		free(m->dsn[i].action);
		free(m->dsn[i].status);
		free(m->dsn[i].diagnostic);
	}
	free(m->headers);
	free(m->attachments);
	free(m->dsn);
	free(m->from_addr);
	free(m->from_name);
	free(m->subject);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->text);
	free(m->charset_used);
	memset(m, 0, sizeof(*m));
}

const char *
mail_header(const struct mail *m, const char *name)
{
	if (m == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}
