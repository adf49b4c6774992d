/*
 * test_sms_text.c — unit tests for deliver/sms_text.c: GSM-7 or UCS-2 for
 * French text, units and parts at the 160/161, 70/71, 153 and 67 edges
 * (escape and surrogate pairs never split), folding to GSM-7, cutting at a
 * word boundary, and bytes that are not UTF-8. Owns only the strings it makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "deliver/sms_text.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define CAKE		"\xf0\x9f\x8d\xb0"	/* U+1F370, outside the BMP */

/* head, then unit n times, then tail. Caller frees. */
static char *
text(const char *head, const char *unit, int n, const char *tail)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, head);
	for (int i = 0; i < n; i++)
		buf_puts(&b, unit);
	buf_puts(&b, tail);
	return buf_take(&b);
}

struct cost {
	char	*s;		/* owned */
	int	 enc;
	size_t	 units;
	int	 parts;
};

static void
check_cost(const struct cost *c, size_t i)
{
	int enc = -1, parts = sms_segments(c->s, &enc);

	if (sms_encoding(c->s) != c->enc || enc != c->enc)
		fail_msg("item %zu: encoding %d, not %d", i, enc, c->enc);
	if (sms_units(c->s, c->enc) != c->units)
		fail_msg("item %zu: %zu units, not %zu", i, sms_units(c->s, c->enc), c->units);
	if (parts != c->parts)
		fail_msg("item %zu: %d parts, not %d", i, parts, c->parts);
}

static void
check_costs(struct cost *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		check_cost(&c[i], i);
		free(c[i].s);
	}
}

static void
test_ascii_edges(void **state)
{
	struct cost c[] = {
		{ text("", "", 0, ""), SMS_GSM7, 0, 1 },
		{ text("", "a", 160, ""), SMS_GSM7, 160, 1 },
		{ text("", "a", 161, ""), SMS_GSM7, 161, 2 },
		{ text("", "a", 306, ""), SMS_GSM7, 306, 2 },
		{ text("", "a", 307, ""), SMS_GSM7, 307, 3 },
		{ text("", "@$_!?#%&'()*+,-./:;<=>\"", 1, "\n\r"), SMS_GSM7, 25, 1 },
	};

	(void)state;
	check_costs(c, NITEMS(c));
}

static void
test_french_gsm7(void **state)
{
	static const char *const gsm[] = {
		"Réunion à 18h à la salle commune : où était le vélo ? Très bien.",
		"ÉCOLE Ç Ø ø Å å Ä ä Ö ö Ñ ñ Ü ü ß Æ æ ¿ ¡ § £ ¥ ¤",
		"Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ è é à ù ì ò",
	};
	static const char *const ucs2[] = {
		"fête", "château", "île", "hôtel", "sûr", "Noël", "naïf", "cœur",
		"ça", "garçon", "À bientôt", "È", "`", "a\tb", "10\xc2\xa0€",
		"l’école", "« oui »", "…", "e\xcc\x81",	/* é decomposed */
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(gsm); i++)
		if (sms_encoding(gsm[i]) != SMS_GSM7)
			fail_msg("not GSM-7: %s", gsm[i]);
	for (size_t i = 0; i < NITEMS(ucs2); i++)
		if (sms_encoding(ucs2[i]) != SMS_UCS2)
			fail_msg("not UCS-2: %s", ucs2[i]);
	assert_int_equal(sms_units(gsm[0], SMS_GSM7), 64);
}

static void
test_ucs2_edges(void **state)
{
	struct cost c[] = {
		{ text("ê", "a", 69, ""), SMS_UCS2, 70, 1 },
		{ text("ê", "a", 70, ""), SMS_UCS2, 71, 2 },
		{ text("ê", "a", 133, ""), SMS_UCS2, 134, 2 },
		{ text("ê", "a", 134, ""), SMS_UCS2, 135, 3 },
		{ text("ç", "a", 69, ""), SMS_UCS2, 70, 1 },
		{ text("Ç", "a", 159, ""), SMS_GSM7, 160, 1 },
	};

	(void)state;
	check_costs(c, NITEMS(c));
}

static void
test_extension_chars(void **state)
{
	struct cost c[] = {
		{ text("10", "", 0, "€"), SMS_GSM7, 4, 1 },
		{ text("", "{}[]~\\^|€", 1, ""), SMS_GSM7, 18, 1 },
		{ text("", "€", 80, ""), SMS_GSM7, 160, 1 },
		{ text("", "€", 81, ""), SMS_GSM7, 162, 2 },
		{ text("a", "€", 80, ""), SMS_GSM7, 161, 2 },
		/* 152 + 2 does not fit in 153: the € opens part 2; naive
		 * ceil(306 / 153) would say 2. */
		{ text("", "a", 152, "€"), SMS_GSM7, 154, 1 },
		{ text("", "a", 152, "€aaaaaaaa"), SMS_GSM7, 162, 2 },
		{ text("", "a", 151, "€"), SMS_GSM7, 153, 1 },
	};
	char *s = text("", "a", 152, "€");
	char *t = text(s, "a", 152, "");

	(void)state;
	check_costs(c, NITEMS(c));
	assert_int_equal(sms_units(t, SMS_GSM7), 306);
	assert_int_equal(sms_segments(t, NULL), 3);
	free(s);
	free(t);
}

static void
test_surrogate_pairs(void **state)
{
	struct cost c[] = {
		{ text("", CAKE, 1, ""), SMS_UCS2, 2, 1 },
		{ text("", "a", 68, CAKE), SMS_UCS2, 70, 1 },
		{ text("", "a", 69, CAKE), SMS_UCS2, 71, 2 },
		{ text("", CAKE, 35, ""), SMS_UCS2, 70, 1 },
		{ text("", CAKE, 36, ""), SMS_UCS2, 72, 2 },
		/* 33 pairs fill 66 of 67 units: the 34th opens a part. */
		{ text("", CAKE, 67, ""), SMS_UCS2, 134, 3 },
		{ text("", CAKE, 66, ""), SMS_UCS2, 132, 2 },
		{ text("a", CAKE, 33, ""), SMS_UCS2, 67, 1 },
	};
	char *s = text("", "a", 66, CAKE);
	char *t = text(s, "a", 66, "");

	(void)state;
	check_costs(c, NITEMS(c));
	/* 134 units, naive ceil(134 / 67) = 2; the pair at 67 makes 3. */
	assert_int_equal(sms_units(t, SMS_UCS2), 134);
	assert_int_equal(sms_segments(t, NULL), 3);
	free(s);
	free(t);
}

static void
test_invalid_utf8(void **state)
{
	struct cost c[] = {
		{ text("\xff\xfe", "", 0, " abc"), SMS_GSM7, 6, 1 },
		{ text("abc\xc3", "", 0, ""), SMS_GSM7, 4, 1 },
		{ text("\xed\xa0\x80", "", 0, ""), SMS_GSM7, 3, 1 },	/* lone surrogate */
		{ text("\xc0\xaf", "", 0, ""), SMS_GSM7, 2, 1 },	/* overlong '/' */
		{ text("\xf0\x9f\x8d", "", 0, "ê"), SMS_UCS2, 4, 1 },	/* cut-off emoji */
		{ text("", "\x80", 161, ""), SMS_GSM7, 161, 2 },
	};

	(void)state;
	check_costs(c, NITEMS(c));
}

struct pair {
	const char	*in;
	const char	*out;
};

static void
check_folds(const struct pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *f = sms_fold_gsm7(p[i].in);

		if (strcmp(f, p[i].out) != 0)
			fail_msg("item %zu: \"%s\", not \"%s\"", i, f, p[i].out);
		if (sms_encoding(f) != SMS_GSM7)
			fail_msg("item %zu: \"%s\" is not GSM-7", i, f);
		free(f);
	}
}

static void
test_fold_fete(void **state)
{
	const char *in = "Fête des voisins à l’école — apportez un gâteau " CAKE;
	char *f = sms_fold_gsm7(in);
	int enc = -1;

	(void)state;
	assert_int_equal(sms_encoding(in), SMS_UCS2);
	assert_string_equal(f, "Fete des voisins à l'école - apportez un gateau");
	assert_int_equal(sms_segments(f, &enc), 1);
	assert_int_equal(enc, SMS_GSM7);
	assert_int_equal(sms_units(f, SMS_GSM7), 47);
	free(f);
}

static void
test_fold_letters(void **state)
{
	static const struct pair p[] = {
		{ "ê â î ô û ë ï ÿ", "e a i o u e i y" },
		{ "Ê Â Î Ô Û Ë Ï À È Ù", "E A I O U E I A E U" },
		{ "é è à ù É Ç Ä ö ñ ü ß", "é è à ù É Ç Ä ö ñ ü ß" },
		{ "Ça, c'est le garçon", "Ça, c'est le garcon" },
		{ "cœur, Œuvre", "coeur, OEuvre" },
		{ "e\xcc\x81t\xc3\xa9", "été" },		/* decomposed, composed */
		{ "q\xcc\x83", "q" },			/* a mark with no composition */
		{ "ﬁn m² ½ tarif", "fin m2 1/2 tarif" },
		{ "\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\x91", "AB1" },	/* fullwidth ＡＢ１ */
		{ "Joyeux Noël, à bientôt", "Joyeux Noel, à bientot" },
		{ "Привет", "??????" },
		{ "50 ₹", "50 ?" },
		{ "1\xef\xb8\x8f\xe2\x83\xa3", "1" },	/* keycap emoji */
	};

	(void)state;
	check_folds(p, NITEMS(p));
}

static void
test_fold_punctuation(void **state)
{
	static const struct pair p[] = {
		{ "l’école ‘x’ ‚y‹›", "l'école 'x' 'y''" },
		{ "«\xc2\xa0oui\xc2\xa0» “non” „ja“", "\" oui \" \"non\" \"ja\"" },
		{ "a – b — c ‐ d − e", "a - b - c - d - e" },
		{ "Attendez…", "Attendez..." },
		{ "voisin·e·s", "voisin.e.s" },
		{ "n° 12, N°3, 19°C, 20°", "no 12, No3, 19C, 20" },
		{ "10\xc2\xa0€ 10\xe2\x80\xaf%", "10 € 10 %" },
		{ "a\tb", "a b" },
		{ "`code`", "'code'" },
		{ "• un\n• deux", "- un\n- deux" },
	};

	(void)state;
	check_folds(p, NITEMS(p));
}

static void
test_fold_removed(void **state)
{
	static const struct pair p[] = {
		{ "", "" },
		{ CAKE, "" },
		{ "  Bonjour  " CAKE "  à tous  ", "Bonjour à tous" },
		{ "Bonjour " CAKE "\n\xf0\x9f\x8e\x89 Fête", "Bonjour\nFete" },
		{ "\xe2\x9d\xa4\xef\xb8\x8f merci", "merci" },	/* ❤️ */
		{ "a\xe2\x80\x8b" "b\x01" "c", "abc" },		/* ZWSP, control */
		{ "\xff" "abc\xed\xa0\x80", "?abc???" },
		{ "{x} [y] ~z \\ ^ | €", "{x} [y] ~z \\ ^ | €" },
	};

	(void)state;
	check_folds(p, NITEMS(p));
}

static void
test_cut_fits(void **state)
{
	char *s = text("", "a", 160, "");
	char *c = sms_cut(s, 1, " (suite)");

	(void)state;
	assert_string_equal(c, s);
	free(c);
	c = sms_cut("", 1, NULL);
	assert_string_equal(c, "");
	free(c);
	assert_null(sms_cut("abc", 0, NULL));
	free(s);
	s = text("", "a", 161, "");
	assert_null(sms_cut(s, 1, s));		/* the suffix alone is too long */
	free(s);
}

static void
test_cut_words(void **state)
{
	char *s = text("abcd", " abcd", 49, "");		/* 249 characters */
	char *want = text("abcd", " abcd", 29, " (suite)");	/* 149 + 8 */
	char *c = sms_cut(s, 1, " (suite)");

	(void)state;
	assert_string_equal(c, want);
	assert_int_equal(sms_segments(c, NULL), 1);
	free(c);
	free(want);
	/* Two parts, 306 septets: 59 words are 294, + 8 = 302; 60 would be 307. */
	c = text(s, " abcd", 100, "");
	free(s);
	s = c;
	c = sms_cut(s, 2, " (suite)");
	want = text("abcd", " abcd", 58, " (suite)");
	assert_string_equal(c, want);
	assert_int_equal(sms_segments(c, NULL), 2);
	free(c);
	free(want);
	free(s);
}

static void
test_cut_trims(void **state)
{
	/* 155 letters then ", la": the comma goes with the space. */
	char *s = text("", "b", 155, ", la suite est longue et ne tient pas du tout");
	char *want = text("", "b", 155, "...");
	char *c = sms_cut(s, 1, "...");

	(void)state;
	assert_string_equal(c, want);
	free(c);
	free(want);
	free(s);
	s = text("Fin \xe2\x80\x94 ", "x", 170, "");
	c = sms_cut(s, 1, "...");
	assert_string_equal(c, "Fin...");
	free(c);
	free(s);
}

static void
test_cut_encoding_of_result(void **state)
{
	/* The ê is past the cut: the result is GSM-7, and 160 septets fit. */
	char *s = text("", "abc ", 40, "fête des voisins");
	char *want = text("", "abc ", 37, "abc (suite)");	/* 151 + 8 */
	char *c = sms_cut(s, 1, " (suite)");
	int enc = -1;

	(void)state;
	assert_int_equal(sms_encoding(s), SMS_UCS2);
	assert_string_equal(c, want);
	assert_int_equal(sms_segments(c, &enc), 1);
	assert_int_equal(enc, SMS_GSM7);
	free(c);
	free(want);
	free(s);
	/* The ê is early: the whole result is UCS-2, 70 units. */
	s = text("fête", " abc", 40, "");
	c = sms_cut(s, 1, "…");
	want = text("fête", " abc", 16, "…");		/* 4 + 64 + 1 */
	assert_string_equal(c, want);
	assert_int_equal(sms_units(c, SMS_UCS2), 69);
	free(c);
	free(want);
	free(s);
}

static void
test_cut_characters(void **state)
{
	/* One long word: cut between characters, never inside a pair. */
	char *s = text("", CAKE, 100, "");
	char *want = text("", CAKE, 34, "…");
	char *c = sms_cut(s, 1, "…");

	(void)state;
	assert_string_equal(c, want);
	assert_int_equal(sms_units(c, SMS_UCS2), 69);
	free(c);
	free(want);
	free(s);
	s = text("", "€", 100, "");
	want = text("", "€", 78, "...");
	c = sms_cut(s, 1, "...");
	assert_string_equal(c, want);
	free(c);
	free(want);
	free(s);
	s = text("", "\xff", 200, "");			/* not UTF-8 at all */
	c = sms_cut(s, 1, NULL);
	assert_int_equal(strlen(c), 160);
	free(c);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_edges),
		cmocka_unit_test(test_french_gsm7),
		cmocka_unit_test(test_ucs2_edges),
		cmocka_unit_test(test_extension_chars),
		cmocka_unit_test(test_surrogate_pairs),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_fold_fete),
		cmocka_unit_test(test_fold_letters),
		cmocka_unit_test(test_fold_punctuation),
		cmocka_unit_test(test_fold_removed),
		cmocka_unit_test(test_cut_fits),
		cmocka_unit_test(test_cut_words),
		cmocka_unit_test(test_cut_trims),
		cmocka_unit_test(test_cut_encoding_of_result),
		cmocka_unit_test(test_cut_characters),
	};

	return cmocka_run_group_tests_name("sms_text", tests, NULL, NULL);
}
