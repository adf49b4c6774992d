/*
 * test_utf8.c — unit tests for core/utf8.c: well-formed and ill-formed
 * sequences, the offset of the first bad byte, Windows-1252 decoding,
 * case folding and white-space cleaning. Owns only the strings it gets back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/utf8.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

struct seq {
	const char	*bytes;
	size_t		 n;		/* bytes available */
	size_t		 want;		/* utf8_seq's answer */
};

static size_t
seq_of(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	return utf8_seq(p, p + n);
}

static void
test_seq_valid(void **state)
{
	static const struct seq ok[] = {
		{ "A", 1, 1 }, { "\x7f", 1, 1 }, { "\0", 1, 1 },
		{ "\xc2\x80", 2, 2 },			/* U+0080, smallest 2-byte */
		{ "\xc3\xa9", 2, 2 },			/* é */
		{ "\xdf\xbf", 2, 2 },			/* U+07FF */
		{ "\xe0\xa0\x80", 3, 3 },		/* U+0800, smallest 3-byte */
		{ "\xe2\x82\xac", 3, 3 },		/* € */
		{ "\xed\x9f\xbf", 3, 3 },		/* U+D7FF, just below surrogates */
		{ "\xee\x80\x80", 3, 3 },		/* U+E000, just above */
		{ "\xef\xbf\xbf", 3, 3 },		/* U+FFFF */
		{ "\xf0\x90\x80\x80", 4, 4 },		/* U+10000, smallest 4-byte */
		{ "\xf0\x9f\x98\x80", 4, 4 },		/* 😀 */
		{ "\xf4\x8f\xbf\xbf", 4, 4 },		/* U+10FFFF, the last */
		{ "\xc3\xa9xyz", 5, 2 },		/* only the first character */
		{ "ab", 2, 1 },
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(ok); i++)
		if (seq_of(ok[i].bytes, ok[i].n) != ok[i].want)
			fail_msg("item %zu: %zu, not %zu", i, seq_of(ok[i].bytes, ok[i].n),
			    ok[i].want);
}

static void
test_seq_invalid(void **state)
{
	static const struct seq bad[] = {
		{ "", 0, 0 },				/* nothing left */
		{ "\x80", 1, 0 },			/* a lone continuation byte */
		{ "\xbf", 1, 0 },
		{ "\xc0\x80", 2, 0 },			/* overlong NUL */
		{ "\xc1\xbf", 2, 0 },			/* overlong U+007F */
		{ "\xe0\x80\x80", 3, 0 },		/* overlong 3-byte */
		{ "\xe0\x9f\xbf", 3, 0 },		/* overlong U+07FF */
		{ "\xf0\x80\x80\x80", 4, 0 },		/* overlong 4-byte */
		{ "\xf0\x8f\xbf\xbf", 4, 0 },		/* overlong U+FFFF */
		{ "\xed\xa0\x80", 3, 0 },		/* U+D800, a surrogate */
		{ "\xed\xbf\xbf", 3, 0 },		/* U+DFFF */
		{ "\xf4\x90\x80\x80", 4, 0 },		/* U+110000, past Unicode */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xf8\x88\x80\x80\x80", 5, 0 },	/* old 5-byte form */
		{ "\xfe", 1, 0 }, { "\xff", 1, 0 },
		{ "\xc3", 1, 0 },			/* truncated at the end */
		{ "\xe2\x82", 2, 0 },
		{ "\xf0\x9f\x98", 3, 0 },
		{ "\xc3\xa9", 1, 0 },			/* end cuts the sequence */
		{ "\xe2\x82\xac", 2, 0 },
		{ "\xc3" "A", 2, 0 },			/* not a continuation */
		{ "\xe2\x82" "A", 3, 0 },
		{ "\xf0\x9f\x98" "A", 4, 0 },
		{ "\xc3\xc3", 2, 0 },
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(bad); i++)
		if (seq_of(bad[i].bytes, bad[i].n) != 0)
			fail_msg("item %zu accepted as %zu bytes", i,
			    seq_of(bad[i].bytes, bad[i].n));
}

static void
test_valid(void **state)
{
	static const char nul[] = "a\0b";
	size_t bad = 12345;

	(void)state;
	assert_int_equal(utf8_valid("", 0, &bad), 1);
	assert_int_equal(utf8_valid("plain ascii", 11, &bad), 1);
	assert_int_equal(utf8_valid("été € 😀", strlen("été € 😀"), &bad), 1);
	assert_int_equal(utf8_valid(nul, 3, &bad), 1);	/* NUL is a character */
	assert_int_equal(utf8_valid("\xc3\xa9", 1, &bad), 0);	/* n is honoured */
	assert_int_equal(bad, 0);
	assert_int_equal(utf8_valid("ab\xc3", 3, NULL), 0);	/* bad may be NULL */
}

struct bad_at {
	const char	*s;
	size_t		 off;
};

static void
test_bad_offset(void **state)
{
	static const struct bad_at cases[] = {
		{ "\xff", 0 },
		{ "ab\xc3", 2 },			/* truncated at the end */
		{ "abc\xed\xa0\x80" "def", 3 },		/* surrogate */
		{ "\xc3\xa9t\xc3\xa9 \xc0\x80", 6 },	/* after "été " */
		{ "x\xf4\x90\x80\x80", 1 },		/* past U+10FFFF */
		{ "caf\xe9 cr\xe8me", 3 },		/* Latin-1 é */
		{ "\xe2\x82\xac\xe2\x82", 3 },		/* € then a cut € */
		{ "ok\x80", 2 },			/* stray continuation */
		{ "\xf0\x9f\x98\x80\xe0\x80\x80", 4 },	/* emoji then overlong */
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(cases); i++) {
		size_t bad = 999;

		if (utf8_valid(cases[i].s, strlen(cases[i].s), &bad) != 0)
			fail_msg("item %zu accepted", i);
		if (bad != cases[i].off)
			fail_msg("item %zu: bad offset %zu, not %zu", i, bad, cases[i].off);
	}
}

static void
test_cp1252(void **state)
{
	size_t n = 0;
	char *s;

	(void)state;
	s = utf8_from_cp1252("\xe9t\xe9 \x80", 5, &n);
	assert_non_null(s);
	assert_string_equal(s, "été €");
	assert_int_equal(n, strlen("été €"));
	free(s);

	/* The 0x80-0x9f block, Latin-1 above it, ASCII as is. */
	s = utf8_from_cp1252("\x9c\x8c\x92\x85\x99\xa0\xff\xc9 ok", 11, &n);
	assert_non_null(s);
	assert_string_equal(s, "œŒ’…™\xc2\xa0ÿÉ ok");
	assert_int_equal(n, strlen("œŒ’…™\xc2\xa0ÿÉ ok"));
	free(s);

	/* An embedded NUL is kept; n counts it. */
	s = utf8_from_cp1252("a\0\xe9", 3, &n);
	assert_non_null(s);
	assert_int_equal(n, 4);
	assert_memory_equal(s, "a\0\xc3\xa9", 5);
	free(s);
}

static void
test_cp1252_undefined(void **state)
{
	static const char undefined[] = { '\x81', '\x8d', '\x8f', '\x90', '\x9d' };
	size_t n = 77;

	(void)state;
	assert_null(utf8_from_cp1252("\xe9t\xe9 \x81", 5, &n));
	for (size_t i = 0; i < NITEMS(undefined); i++) {
		char in[3] = { 'a', undefined[i], 'b' };

		if (utf8_from_cp1252(in, 3, &n) != NULL)
			fail_msg("byte 0x%02x was decoded", (unsigned char)undefined[i]);
	}
}

/*
 * Empty input gives an empty string. M_PERTURB makes fresh heap bytes
 * non-zero (ASan does the same on its own); holding many small blocks
 * first empties glibc's per-thread cache, whose reused blocks M_PERTURB
 * does not touch. So an unterminated result is seen on every run.
 */
static void
test_cp1252_empty(void **state)
{
	enum { HOLD = 256 };
	void *held[HOLD];
	size_t n = 77;
	char *s;
	int first;

	(void)state;
	mallopt(M_PERTURB, 0x5a);
	for (size_t i = 0; i < HOLD; i++)
		held[i] = malloc(64);
	s = utf8_from_cp1252("", 0, &n);
	for (size_t i = 0; i < HOLD; i++)
		free(held[i]);
	mallopt(M_PERTURB, 0);
	assert_non_null(s);
	first = (unsigned char)s[0];
	free(s);
	assert_int_equal(n, 0);
	assert_int_equal(first, '\0');
}

static void
check_fold_equal(const char *a, const char *b)
{
	char *fa = utf8_fold(a), *fb = utf8_fold(b);
	int folds_equal = strcmp(fa, fb) == 0;

	if (!folds_equal)
		print_error("fold(\"%s\") = \"%s\", fold(\"%s\") = \"%s\"\n", a, fa, b, fb);
	free(fa);
	free(fb);
	assert_true(folds_equal);
}

static void
test_fold(void **state)
{
	char *f;

	(void)state;
	check_fold_equal("ÉCOLE", "école");
	check_fold_equal("E\xcc\x81" "cole", "école");	/* decomposed É */
	check_fold_equal("Marie DUPONT", "marie dupont");
	check_fold_equal("3B", "3b");
	check_fold_equal("STRASSE", "Straße");		/* full case folding */
	check_fold_equal("ŒUVRE", "œuvre");

	f = utf8_fold("ÉCOLE");
	assert_string_equal(f, "école");
	free(f);
	f = utf8_fold("");
	assert_string_equal(f, "");
	free(f);
	f = utf8_fold("\xff\xfe");			/* not UTF-8: copied as is */
	assert_string_equal(f, "\xff\xfe");
	free(f);

	f = utf8_fold("école");
	assert_string_not_equal(f, "ecole");		/* accents still count */
	free(f);
}

struct clean {
	const char	*in;
	const char	*out;
};

static void
test_clean_space(void **state)
{
	static const struct clean cases[] = {
		{ "", "" },
		{ "   ", "" },
		{ "\t\n\r\v\f", "" },
		{ "Marie Dupont", "Marie Dupont" },
		{ "  Marie   Dupont  ", "Marie Dupont" },
		{ "Marie\xc2\xa0" "Dupont", "Marie Dupont" },		/* NBSP */
		{ "Marie\xe2\x80\xaf" "Dupont", "Marie Dupont" },	/* U+202F */
		{ "Marie\xe2\x80\x87" "Dupont", "Marie Dupont" },	/* figure space */
		{ "Marie\xe2\x80\x89" "Dupont", "Marie Dupont" },	/* thin space */
		{ "Marie\xe3\x80\x80" "Dupont", "Marie Dupont" },	/* ideographic */
		{ "\xc2\xa0\xc2\xa0" "Marie \xc2\xa0\t Dupont\xe2\x80\xaf", "Marie Dupont" },
		{ "a\tb\nc\r\nd", "a b c d" },
		{ "\n\nleading", "leading" },
		{ "trailing\n\n", "trailing" },
		{ "one", "one" },
		{ "e\xcc\x81", "\xc3\xa9" },				/* NFC: é */
		{ "E\xcc\x81" "cole  e\xcc\x81t\xc3\xa9", "\xc3\x89" "cole \xc3\xa9t\xc3\xa9" },
		{ "\xc3\xa9t\xc3\xa9", "été" },
		{ "12\xc2\xa0" "rue", "12 rue" },
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(cases); i++) {
		char *got = utf8_clean_space(cases[i].in);
		int cleaned_as_expected = strcmp(got, cases[i].out) == 0;

		if (!cleaned_as_expected)
			print_error("item %zu: \"%s\", not \"%s\"\n", i, got, cases[i].out);
		free(got);
		assert_true(cleaned_as_expected);
	}
}

/* Not UTF-8: the bytes are kept (the caller validated), never dropped. */
static void
test_clean_space_invalid(void **state)
{
	char *got = utf8_clean_space("  caf\xe9  cr\xe8me ");

	(void)state;
	assert_string_equal(got, "caf\xe9 cr\xe8me");
	free(got);
}

static size_t
encode(int32_t cp, char *out)
{
	size_t n = (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out);

	out[n] = '\0';
	return n;
}

static int
nfc_same(const char *s)
{
	char *nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
	int same = nfc && strcmp(nfc, s) == 0;

	free(nfc);
	return same;
}

/*
 * utf8_nfc_quick's promise, checked against utf8proc: every character it
 * accepts is its own NFC, with combining class 0, and so is every pair of
 * them (NFC works on a starter and what follows it: pairs are enough).
 */
static void
test_nfc_quick(void **state)
{
	int32_t *set = calloc(0x110000, sizeof(*set));
	size_t n = 0, bad = 0;
	char a[8], pair[16];

	(void)state;
	for (int32_t cp = 1; cp < 0x110000; cp++) {
		if (cp >= 0xd800 && cp < 0xe000)
			continue;
		encode(cp, a);
		if (utf8_nfc_quick(a))
			set[n++] = cp;
	}
	assert_true(n > 700);	/* ASCII, Latin-1, Latin Extended, the quotes */
	for (size_t i = 0; i < n; i++) {
		encode(set[i], a);
		if (!nfc_same(a) || utf8proc_get_property(set[i])->combining_class != 0)
			bad++;
		for (size_t j = 0; j < n; j++) {
			size_t k = encode(set[i], pair);

			encode(set[j], pair + k);
			if (!nfc_same(pair) && bad++ < 5)
				print_error("U+%04X U+%04X changes under NFC\n", (unsigned)set[i], (unsigned)set[j]);
		}
	}
	free(set);
	assert_int_equal(bad, 0);
	assert_false(utf8_nfc_quick("e\xcc\x81"));		/* e + combining acute */
	assert_false(utf8_nfc_quick("caf\xe9"));		/* not UTF-8 */
	assert_true(utf8_nfc_quick("l\xe2\x80\x99\xc3\xa9t\xc3\xa9 \xe2\x80\xa6"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_valid),
		cmocka_unit_test(test_seq_invalid),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_bad_offset),
		cmocka_unit_test(test_cp1252),
		cmocka_unit_test(test_cp1252_undefined),
		cmocka_unit_test(test_cp1252_empty),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_clean_space),
		cmocka_unit_test(test_clean_space_invalid),
		cmocka_unit_test(test_nfc_quick),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
