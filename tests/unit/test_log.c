/*
 * test_log.c — unit tests for core/log.c's value helpers: log_q (quoting,
 * escaping, the 200-byte cut) and log_phone (masking). Exact strings only.
 * Owns nothing: both helpers return thread-local buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/log.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

struct q {
	const char	*in;
	const char	*out;
};

static void
check_q(const struct q *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = log_q(cases[i].in);

		if (strcmp(got, cases[i].out) != 0)
			fail_msg("log_q item %zu: [%s], not [%s]", i, got, cases[i].out);
	}
}

static void
test_q_plain(void **state)
{
	static const struct q cases[] = {
		{ "plain", "plain" },
		{ "marie@example.fr", "marie@example.fr" },
		{ "a-b_c.d/e:f", "a-b_c.d/e:f" },
		{ "x", "x" },
	};

	(void)state;
	check_q(cases, NITEMS(cases));
}

static void
test_q_quoting(void **state)
{
	static const struct q cases[] = {
		{ "", "\"\"" },
		{ "two words", "\"two words\"" },
		{ " ", "\" \"" },
		{ "a=b", "\"a=b\"" },
		{ "=", "\"=\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "\"", "\"\\\"\"" },
		{ "key=\"v\" x", "\"key=\\\"v\\\" x\"" },
	};

	(void)state;
	check_q(cases, NITEMS(cases));
	assert_string_equal(log_q(NULL), "\"\"");
}

static void
test_q_escapes(void **state)
{
	static const struct q cases[] = {
		{ "a\nb", "a\\nb" },
		{ "a\rb", "a\\rb" },
		{ "a\tb", "a\\tb" },		/* a tab alone does not quote */
		{ "C:\\dir", "C:\\\\dir" },
		{ "\\", "\\\\" },
		{ "line 1\r\nline 2", "\"line 1\\r\\nline 2\"" },
		{ "\\\"", "\"\\\\\\\"\"" },
	};

	(void)state;
	check_q(cases, NITEMS(cases));
}

static void
test_q_control(void **state)
{
	static const struct q cases[] = {
		{ "\x01", "\\x01" },
		{ "a\x1b[31mred", "a\\x1b[31mred" },
		{ "\x1f\x7f", "\\x1f\\x7f" },
		{ "bell\x07 ring", "\"bell\\x07 ring\"" },
		{ "\x0b\x0c", "\\x0b\\x0c" },
	};

	(void)state;
	check_q(cases, NITEMS(cases));
}

static void
test_q_utf8(void **state)
{
	static const struct q cases[] = {
		/* Valid UTF-8 is kept as it is. */
		{ "été", "été" },
		{ "Résidence Les Tilleuls", "\"Résidence Les Tilleuls\"" },
		{ "€😀", "€😀" },
		{ "\xc2\xa0", "\xc2\xa0" },		/* NBSP is not a quoting space */
		/* Invalid UTF-8 byte by byte. */
		{ "caf\xe9", "caf\\xe9" },
		{ "\xff\xfe", "\\xff\\xfe" },
		{ "\xc0\x80", "\\xc0\\x80" },		/* overlong */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },	/* surrogate */
		{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },
		{ "ab\xc3", "ab\\xc3" },		/* truncated at the end */
		{ "\xe2\x82" "x", "\\xe2\\x82x" },
		{ "\xc3\xa9\xe9", "\xc3\xa9\\xe9" },
	};

	(void)state;
	check_q(cases, NITEMS(cases));
}

static void
test_q_cut(void **state)
{
	char in[400], want[420];

	(void)state;
	/* Exactly 200 bytes: kept whole. */
	memset(in, 'a', 200);
	in[200] = '\0';
	assert_string_equal(log_q(in), in);

	/* 201 and 300 bytes: 200 kept, then "...". */
	memset(in, 'a', 300);
	in[201] = '\0';
	memset(want, 'a', 200);
	memcpy(want + 200, "...", 4);
	assert_string_equal(log_q(in), want);
	in[201] = 'a';
	in[300] = '\0';
	assert_string_equal(log_q(in), want);
	assert_int_equal(strlen(log_q(in)), 203);

	/* Quoted: the opening quote counts, the closing one follows "...". */
	memcpy(in, "a ", 2);
	memset(in + 2, 'b', 298);
	in[300] = '\0';
	want[0] = '"';
	memcpy(want + 1, "a ", 2);
	memset(want + 3, 'b', 197);
	memcpy(want + 200, "...\"", 5);
	assert_string_equal(log_q(in), want);

	/* An escape that straddles the limit is written whole, then "...". */
	memset(in, 'a', 199);
	memcpy(in + 199, "\nzzz", 5);
	memset(want, 'a', 199);
	memcpy(want + 199, "\\n...", 6);
	assert_string_equal(log_q(in), want);

	/* So is a UTF-8 character: never cut in the middle. */
	memset(in, 'a', 199);
	memcpy(in + 199, "\xc3\xa9" "z", 4);
	memset(want, 'a', 199);
	memcpy(want + 199, "\xc3\xa9...", 6);
	assert_string_equal(log_q(in), want);

	/* And a \xNN byte. */
	memset(in, 'a', 199);
	memcpy(in + 199, "\x01z", 3);
	memset(want, 'a', 199);
	memcpy(want + 199, "\\x01...", 8);
	assert_string_equal(log_q(in), want);

	/* Nothing left after the limit: no "...". */
	memset(in, 'a', 199);
	memcpy(in + 199, "\n", 2);
	memset(want, 'a', 199);
	memcpy(want + 199, "\\n", 3);
	assert_string_equal(log_q(in), want);
}

/* A long run of bytes that each become four: bounded all the same. */
static void
test_q_cut_escaped(void **state)
{
	char in[1000], want[220];
	const char *got;

	(void)state;
	memset(in, '\x01', 999);
	in[999] = '\0';
	got = log_q(in);
	/* 50 escapes reach 200 bytes exactly. */
	for (int i = 0; i < 50; i++)
		memcpy(want + 4 * i, "\\x01", 4);
	memcpy(want + 200, "...", 4);
	assert_string_equal(got, want);

	memset(in, '\xff', 999);
	got = log_q(in);
	for (int i = 0; i < 50; i++)
		memcpy(want + 4 * i, "\\xff", 4);
	memcpy(want + 200, "...", 4);
	assert_string_equal(got, want);
}

/* Eight results may be held at once (a log line with several values). */
static void
test_q_slots(void **state)
{
	static const char *const in[8] = {
		"zero", "one", "two words", "three", "4", "five", "six", "se=ven"
	};
	static const char *const want[8] = {
		"zero", "one", "\"two words\"", "three", "4", "five", "six", "\"se=ven\""
	};
	const char *got[8];

	(void)state;
	for (int i = 0; i < 8; i++)
		got[i] = log_q(in[i]);
	for (int i = 0; i < 8; i++)
		assert_string_equal(got[i], want[i]);
}

struct ph {
	const char	*in;
	const char	*out;
};

static void
test_phone_masked(void **state)
{
	static const struct ph cases[] = {
		{ "+33612345678", "+33612****78" },
		{ "+590690123456", "+590690****56" },
		{ "+508412345", "+508****45" },
		{ "+3361234", "+3****34" },			/* 8 bytes: the shortest */
		{ "+12345678901234567890", "(masked)" },	/* 21 bytes: too long */
		{ "+1234567890123456789", "+1234567890123****89" },	/* 20 bytes */
		{ "+336123", "(masked)" },			/* too short */
		{ "", "(masked)" },
		{ "+", "(masked)" },
		{ "+33 6 12 34 56 78", "(masked)" },		/* not E.164 */
		{ "+33612345a78", "(masked)" },
		{ "+33612345678\n", "(masked)" },
		{ "Marie Dupont", "(masked)" },
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(cases); i++) {
		const char *got = log_phone(cases[i].in);

		if (strcmp(got, cases[i].out) != 0)
			fail_msg("log_phone(\"%s\") = \"%s\", not \"%s\"", cases[i].in, got,
			    cases[i].out);
	}
	assert_string_equal(log_phone(NULL), "(masked)");
}

/*
 * log_phone's argument is E.164: what does not start with '+' is not a
 * number it knows how to mask, and must not be shown at all.
 */
static void
test_phone_needs_plus(void **state)
{
	static const struct ph cases[] = {
		{ "0612345678", "(masked)" },
		{ "x33612345678", "(masked)" },
		{ "933612345678", "(masked)" },
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(cases); i++) {
		const char *got = log_phone(cases[i].in);

		if (strcmp(got, cases[i].out) != 0)
			fail_msg("log_phone(\"%s\") = \"%s\", not \"%s\"", cases[i].in, got,
			    cases[i].out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_q_plain),
		cmocka_unit_test(test_q_quoting),
		cmocka_unit_test(test_q_escapes),
		cmocka_unit_test(test_q_control),
		cmocka_unit_test(test_q_utf8),
		cmocka_unit_test(test_q_cut),
		cmocka_unit_test(test_q_cut_escaped),
		cmocka_unit_test(test_q_slots),
		cmocka_unit_test(test_phone_masked),
		cmocka_unit_test(test_phone_needs_plus),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
