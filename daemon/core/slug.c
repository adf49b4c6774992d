/*
 * slug.c — channel slugs from names, and the checks a roster line needs
 * (slug, email address). Owns only the slug strings it returns; holds no
 * state, does no I/O, and must never crash or read past a string on bad UTF-8.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/slug.h"

#define STR_(x)		#x
#define STR(x)		STR_(x)
#define EMAIL_MAX	254
#define EMAIL_SAMPLE	"(like marie@example.fr)"
#define SLUG_SAMPLE	"(like residence-les-tilleuls)"

/* Letters that utf8proc does not fold to ASCII but a French reader would. */
static const struct {
	utf8proc_int32_t	 cp;
	const char		*ascii;
} spelled[] = {
	{ 0x00df, "ss" }, { 0x1e9e, "ss" },	/* ß ẞ */
	{ 0x0153, "oe" }, { 0x0152, "oe" },	/* œ Œ */
	{ 0x00e6, "ae" }, { 0x00c6, "ae" },	/* æ Æ */
	{ 0x00f8, "o" }, { 0x00d8, "o" },	/* ø Ø */
	{ 0x0142, "l" }, { 0x0141, "l" },	/* ł Ł */
	{ 0x0111, "d" }, { 0x0110, "d" },	/* đ Đ */
};

static const char *const reserved[] = {
	"aide", "help", "reply", "vote", "bounce", "postmaster", "abuse",
	"mailer-daemon", "noreply", "no-reply", "root", "admin", "hostmaster",
	"webmaster", "www", "palier", "moderateurs", "moderation", "liste",
	"list", "unsubscribe", "desabonnement",
};

/* Bytes of the valid UTF-8 character at p (len bytes left), or -1. */
static int
utf8_char(const char *p, size_t len, utf8proc_int32_t *cp)
{
	utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)p,
	    (utf8proc_ssize_t)len, cp);

	return k > 0 ? (int)k : -1;
}

/* Copies name into b with every byte that is not valid UTF-8 as a space. */
static void
slug_sanitize(const char *name, struct buf *b)
{
	size_t len = strlen(name), i = 0;
	utf8proc_int32_t cp;
	int k;

	while (i < len) {
		k = utf8_char(name + i, len - i, &cp);
		if (k < 0) {
			buf_putc(b, ' ');
			i++;
		} else {
			buf_append(b, name + i, (size_t)k);
			i += (size_t)k;
		}
	}
}

/* The ASCII spelling of one folded character, or NULL for a separator. */
static const char *
slug_spell(utf8proc_int32_t cp, char one[2])
{
	size_t i;

	if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
		one[0] = (char)cp;
		return one;
	}
	if (cp >= 'A' && cp <= 'Z') {
		one[0] = (char)(cp - 'A' + 'a');
		return one;
	}
	for (i = 0; i < sizeof(spelled) / sizeof(spelled[0]); i++)
		if (spelled[i].cp == cp)
			return spelled[i].ascii;
	return NULL;
}

/* Appends the slug of folded (NUL-terminated, valid UTF-8) to b. */
static void
slug_spell_all(const char *folded, struct buf *b)
{
	size_t len = strlen(folded), i = 0;
	utf8proc_int32_t cp;
	char one[2] = { 0, 0 };
	const char *s;
	int dash = 0, k;

	while (i < len) {
		k = utf8_char(folded + i, len - i, &cp);
		i += k > 0 ? (size_t)k : 1;
		if (k < 0 || (s = slug_spell(cp, one)) == NULL) {
			dash = 1;
			continue;
		}
		if (dash && b->len > 0)
			buf_putc(b, '-');
		dash = 0;
		buf_puts(b, s);
	}
}

/*
 * Cuts b to SLUG_MAX bytes: at the last '-' within reach if that keeps at
 * least half of it, else in the middle of a word (ASCII, so never inside a
 * character). Either way the result does not end with '-'.
 */
static void
slug_cut(struct buf *b)
{
	size_t i;

	if (b->len <= SLUG_MAX)
		return;
	for (i = SLUG_MAX; i >= SLUG_MAX / 2; i--)
		if (b->data[i] == '-')
			break;
	b->len = i >= SLUG_MAX / 2 ? i : SLUG_MAX;
	b->data[b->len] = '\0';
}

char *
slug_from_name(const char *name)
{
	struct buf clean = BUF_INIT, out = BUF_INIT;
	utf8proc_uint8_t *folded = NULL;
	utf8proc_ssize_t n;

	slug_sanitize(name != NULL ? name : "", &clean);
	n = utf8proc_map((const utf8proc_uint8_t *)buf_cstr(&clean),
	    (utf8proc_ssize_t)clean.len, &folded, UTF8PROC_DECOMPOSE |
	    UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD | UTF8PROC_COMPAT);
	/* Only memory or size can fail here: leave nothing, the caller refuses. */
	if (n >= 0)
		slug_spell_all((const char *)folded, &out);
	free(folded);
	buf_free(&clean);
	slug_cut(&out);
	return buf_take(&out);
}

/* NULL if s has the shape [a-z0-9]+(-[a-z0-9]+)*, else why not. */
static const char *
slug_shape(const char *s)
{
	const char *p;

	if (s[0] == '-' || s[strlen(s) - 1] == '-')
		return "starts or ends with '-'";
	for (p = s; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			return "has capital letters; a slug is lower-case "
			    SLUG_SAMPLE;
		if (*p == '-' && p[1] == '-')
			return "has two '-' in a row";
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		    *p != '-')
			return "may only have a-z, 0-9 and '-' " SLUG_SAMPLE;
	}
	return NULL;
}

const char *
slug_check(const char *slug)
{
	const char *why;
	size_t i;

	if (slug == NULL || slug[0] == '\0')
		return "is empty";
	if (strlen(slug) > SLUG_MAX)
		return "is longer than " STR(SLUG_MAX) " characters";
	if ((why = slug_shape(slug)) != NULL)
		return why;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(slug, reserved[i]) == 0)
			return "is reserved for palier's own addresses";
	return NULL;
}

/* NULL if s is valid UTF-8 with no space or control character in it. */
static const char *
email_chars(const char *s)
{
	size_t len = strlen(s), i = 0;
	utf8proc_int32_t cp;
	int k;

	while (i < len) {
		if ((k = utf8_char(s + i, len - i, &cp)) < 0)
			return "is not valid UTF-8";
		if (cp == ' ' || cp == 0xa0 || cp == 0x202f)
			return "has a space in it";
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return "has a control character in it";
		i += (size_t)k;
	}
	return NULL;
}

/* NULL if the local part [s, end) is a dot-atom (UTF-8 allowed). */
static const char *
email_local(const char *s, const char *end)
{
	const char *p;

	if (s == end)
		return "has nothing before the @";
	if (*s == '"')
		return "has a quoted part before the @; palier does not take "
		    "those";
	if (end - s > 64)
		return "has more than 64 characters before the @";
	if (*s == '.' || end[-1] == '.')
		return "has a dot at the start or end of the part before the @";
	for (p = s; p < end; p++) {
		if (*p == '.' && p[1] == '.')
			return "has two dots in a row";
		if (strchr("()<>[],;:\\\"", *p) != NULL)
			return "has a character that is not allowed before the "
			    "@ (one of ( ) < > [ ] , ; : \\ \")";
	}
	return NULL;
}

/* NULL if the label [s, end) is letters, digits, '-' and UTF-8. */
static const char *
email_label(const char *s, const char *end)
{
	const char *p;

	if (s == end)
		return "has an empty part in its domain (two dots, or a dot "
		    "at an end)";
	if (end - s > 63)
		return "has a domain part longer than 63 characters";
	if (*s == '-' || end[-1] == '-')
		return "has a domain part that starts or ends with '-'";
	for (p = s; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-' && c < 0x80)
			return "has a character that is not allowed in its "
			    "domain (letters, digits, '-' and dots only)";
	}
	return NULL;
}

/* NULL if the domain s is dot-separated labels, at least two of them. */
static const char *
email_domain(const char *s)
{
	const char *p = s, *dot, *why;

	if (*s == '\0')
		return "has nothing after the @";
	if (strchr(s, '.') == NULL)
		return "has no dot in its domain " EMAIL_SAMPLE;
	for (;;) {
		dot = strchr(p, '.');
		if (dot == NULL)
			dot = p + strlen(p);
		if ((why = email_label(p, dot)) != NULL)
			return why;
		if (*dot == '\0')
			break;
		p = dot + 1;
	}
	if (strspn(p, "0123456789") == strlen(p))
		return "has a domain that ends in digits " EMAIL_SAMPLE;
	return NULL;
}

const char *
email_check(const char *addr)
{
	const char *at, *why;

	if (addr == NULL || addr[0] == '\0')
		return "is empty";
	if (strlen(addr) > EMAIL_MAX)
		return "is longer than " STR(EMAIL_MAX) " characters";
	if ((why = email_chars(addr)) != NULL)
		return why;
	if ((at = strchr(addr, '@')) == NULL)
		return "is not an email address " EMAIL_SAMPLE;
	if (strchr(at + 1, '@') != NULL)
		return "has two @";
	if ((why = email_local(addr, at)) != NULL)
		return why;
	return email_domain(at + 1);
}
