/*
 * phone.c — French phone numbers, as residents and spreadsheets write them,
 * to E.164. Pure: owns no memory, does no I/O, and must never log a number
 * (residents' personal data); it only says why a number was refused.
 */
#include <string.h>

#include "core/phone.h"

/* Digits kept while scanning: "00" + 15 digits fit; more is only counted. */
#define SCAN_DIGITS	24
#define FR_SAMPLE	"(like 06 12 34 56 78)"

struct scan {
	char	d[SCAN_DIGITS];	/* the first digits seen, not NUL-terminated */
	size_t	n;		/* every digit seen, kept or not */
	int	plus;		/* a leading '+' */
};

/* The overseas départements that have their own country code. */
static const struct overseas {
	char	prefix[5];	/* first four national digits */
	char	cc[4];		/* country code, without '+' */
	size_t	keep;		/* national digits kept after the code */
} overseas[] = {
	{ "0590", "590", 9 }, { "0690", "590", 9 }, { "0691", "590", 9 },
	{ "0594", "594", 9 }, { "0694", "594", 9 },
	{ "0596", "596", 9 }, { "0696", "596", 9 }, { "0697", "596", 9 },
	{ "0262", "262", 9 }, { "0692", "262", 9 }, { "0693", "262", 9 },
	{ "0269", "262", 9 }, { "0639", "262", 9 },
	{ "0508", "508", 6 },	/* Saint-Pierre-et-Miquelon: 6 digits */
};

#define WRONG(n)	"has " #n " digits; a French number has 10 " FR_SAMPLE
static const char *const wrong_count[] = {
	"is empty", "has 1 digit; a French number has 10 " FR_SAMPLE,
	WRONG(2), WRONG(3), WRONG(4), WRONG(5), WRONG(6), WRONG(7), WRONG(8),
	WRONG(9), WRONG(10), WRONG(11), WRONG(12), WRONG(13), WRONG(14),
	WRONG(15), WRONG(16), WRONG(17), WRONG(18), WRONG(19), WRONG(20),
};
#undef WRONG

/* Bytes taken by the separator at p, or 0 if p is not at a separator. */
static size_t
sep_len(const char *p)
{
	if (strchr(" \t.-/()", *p) != NULL && *p != '\0')
		return 1;
	if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0)
		return 2;	/* U+00A0 NO-BREAK SPACE */
	if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
	    (unsigned char)p[2] == 0xaf)
		return 3;	/* U+202F NARROW NO-BREAK SPACE */
	return 0;
}

/* 1 once a country code has started: after a '+', or after "00". */
static int
scan_international(const struct scan *s)
{
	if (s->plus)
		return s->n > 0;
	return s->n > 2 && s->d[0] == '0' && s->d[1] == '0';
}

/* Bytes taken by a "(0)" trunk prefix written after a country code, or 0. */
static size_t
trunk_len(const char *p, const struct scan *s)
{
	if (p[0] == '(' && p[1] == '0' && p[2] == ')' && scan_international(s))
		return 3;
	return 0;
}

/* Takes one character that is not a separator; NULL, or why it is wrong. */
static const char *
scan_char(struct scan *s, char c)
{
	if (c >= '0' && c <= '9') {
		if (s->n < SCAN_DIGITS)
			s->d[s->n] = c;
		s->n++;
		return NULL;
	}
	if (c == '+') {
		if (s->plus || s->n > 0)
			return "has a '+' that is not at the start";
		s->plus = 1;
		return NULL;
	}
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return "has letters in it";
	return "has a character that is not a digit or a separator";
}

/* Collects the digits of in; NULL, or why it is not a phone number. */
static const char *
scan_number(const char *in, struct scan *s)
{
	const char *p = in;
	const char *why;
	size_t k;

	while (*p != '\0') {
		if ((k = trunk_len(p, s)) != 0 || (k = sep_len(p)) != 0) {
			p += k;
			continue;
		}
		if ((why = scan_char(s, *p)) != NULL)
			return why;
		p++;
	}
	return NULL;
}

/* Writes '+', the code cc and n digits from d into out. */
static void
put_e164(char out[PHONE_E164_MAX], const char *cc, const char *d, size_t n)
{
	size_t len = strlen(cc);

	out[0] = '+';
	memcpy(out + 1, cc, len);
	memcpy(out + 1 + len, d, n);
	out[1 + len + n] = '\0';
}

/* Digits d (n of them) that followed a '+' or "00". */
static const char *
international(const char *d, size_t n, char out[PHONE_E164_MAX])
{
	if (n > 0 && d[0] == '0')
		return "has a 0 where the country code should start "
		    "(after + or 00)";
	if (n < 8)
		return "is too short for an international number "
		    "(8 to 15 digits after + or 00)";
	if (n > 15)
		return "is too long for an international number "
		    "(8 to 15 digits after + or 00)";
	if (d[0] == '3' && d[1] == '3' && (n != 11 || d[2] == '0'))
		return "does not have the 9 digits a +33 number has after +33";
	put_e164(out, "", d, n);
	return NULL;
}

/* Ten digits 0[1-9]XXXXXXXX: an overseas code, else +33. */
static void
french(const char *d, char out[PHONE_E164_MAX])
{
	size_t i;

	for (i = 0; i < sizeof(overseas) / sizeof(overseas[0]); i++) {
		const struct overseas *o = &overseas[i];

		if (memcmp(d, o->prefix, 4) == 0) {
			put_e164(out, o->cc, d + 10 - o->keep, o->keep);
			return;
		}
	}
	put_e164(out, "33", d + 1, 9);
}

/* Digits written without '+' or "00": a French national number. */
static const char *
national(const char *d, size_t n, char out[PHONE_E164_MAX])
{
	if (n == 10 && d[0] == '0') {
		french(d, out);
		return NULL;
	}
	if (n == 10)
		return "has 10 digits but does not start with 0 " FR_SAMPLE;
	if (n == 9 && d[0] != '0')
		return "has 9 digits; did a spreadsheet drop the leading 0? "
		    "(write 06 12 34 56 78)";
	if (n == 11 && d[0] == '3' && d[1] == '3')
		return "has 11 digits starting with 33; write +33 in front "
		    "(like +33 6 12 34 56 78)";
	if (n < sizeof(wrong_count) / sizeof(wrong_count[0]))
		return wrong_count[n];
	return "has far too many digits; a French number has 10 " FR_SAMPLE;
}

int
phone_normalize(const char *in, char out[PHONE_E164_MAX], const char **why)
{
	struct scan s = { .n = 0, .plus = 0 };
	const char *w;

	out[0] = '\0';
	w = scan_number(in != NULL ? in : "", &s);
	if (w == NULL && s.plus)
		w = s.n == 0 ? "has nothing after the +" :
		    international(s.d, s.n, out);
	else if (w == NULL && s.n >= 2 && s.d[0] == '0' && s.d[1] == '0')
		w = international(s.d + 2, s.n - 2, out);
	else if (w == NULL)
		w = national(s.d, s.n, out);
	if (why != NULL)
		*why = w;
	if (w != NULL)
		out[0] = '\0';
	return w == NULL ? 0 : -1;
}

int
phone_is_e164(const char *s)
{
	size_t n;

	if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return 0;
	n = strspn(s + 1, "0123456789");
	return s[1 + n] == '\0' && n >= 8 && n <= 15;
}
