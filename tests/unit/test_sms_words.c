/*
 * test_sms_words.c — unit tests for ingest/sms_words.c: normalizing hostile
 * texts (invalid UTF-8, lone surrogates, zero-width, bidi and control
 * characters, 10 KB), folding, the commands of tests/fixtures/sms/commands.txt
 * and votes. Reads that fixture ($PALIER_SRC or the cwd); owns what it makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "ingest/sms_words.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define ZWSP		"\xe2\x80\x8b"
#define ZWJ		"\xe2\x80\x8d"
#define RLM		"\xe2\x80\x8f"
#define LRM		"\xe2\x80\x8e"
#define BIG		(10 * 1024)

struct pair {
	const char	*in;
	const char	*out;
};

/* unit n times. Caller frees. */
static char *
repeat(const char *unit, int n)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < n; i++)
		buf_puts(&b, unit);
	return buf_take(&b);
}

static void
check_pairs(char *(*fn)(const char *), const struct pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *got = fn(p[i].in);

		if (strcmp(got, p[i].out) != 0)
			fail_msg("item %zu: \"%s\", not \"%s\"", i, got, p[i].out);
		free(got);
	}
}

/* ---- sms_normalize ----------------------------------------------------- */

static void
test_normalize_space(void **state)
{
	static const struct pair p[] = {
		{ "", "" },
		{ "   ", "" },
		{ "  Bonjour   à\ttous \n\n merci  ", "Bonjour à tous merci" },
		{ "a\r\nb\vc\fd", "a b c d" },
		{ "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "a b c" },	/* U+2028, U+2029 */
		{ "a\xc2\x85" "b", "a b" },				/* NEL */
		{ "10\xc2\xa0\xe2\x82\xac", "10 \xe2\x82\xac" },	/* no-break space */
		{ "e\xcc\x81t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },		/* NFC */
	};

	(void)state;
	check_pairs(sms_normalize, p, NITEMS(p));
}

static void
test_normalize_invisible(void **state)
{
	static const struct pair p[] = {
		{ "ST" ZWSP "OP", "STOP" },
		{ "\xef\xbb\xbfSTOP", "STOP" },				/* BOM */
		{ "S\xc2\xadTOP", "STOP" },				/* soft hyphen */
		{ "S\xe2\x81\xa0T\xe2\x81\xa4OP", "STOP" },		/* U+2060, U+2064 */
		{ "a\xe2\x80\x8c" "b" ZWJ "c", "abc" },			/* ZWNJ, ZWJ */
		{ RLM "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7" LRM,
		  "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7" },		/* RTL marks */
		{ "abc\xe2\x80\xae" "def\xe2\x80\xac", "abcdef" },	/* bidi override */
		{ "\xe2\x81\xa6x\xe2\x81\xa9", "x" },			/* isolates */
		{ "a\x01" "b\x1b" "c\x7f" "d", "abcd" },			/* controls */
		{ "e" ZWSP "\xcc\x81", "\xc3\xa9" },			/* composes once stripped */
	};

	(void)state;
	check_pairs(sms_normalize, p, NITEMS(p));
}

static void
test_normalize_emoji(void **state)
{
	static const struct pair p[] = {
		/* 👨‍👩‍👧 and ❤️‍🔥 keep their joiners; 👍🏽 its skin tone */
		{ "\xf0\x9f\x91\xa8" ZWJ "\xf0\x9f\x91\xa9" ZWJ "\xf0\x9f\x91\xa7",
		  "\xf0\x9f\x91\xa8" ZWJ "\xf0\x9f\x91\xa9" ZWJ "\xf0\x9f\x91\xa7" },
		{ "\xe2\x9d\xa4\xef\xb8\x8f" ZWJ "\xf0\x9f\x94\xa5",
		  "\xe2\x9d\xa4\xef\xb8\x8f" ZWJ "\xf0\x9f\x94\xa5" },
		{ "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd" },
		{ " \xf0\x9f\x8d\xb0 ", "\xf0\x9f\x8d\xb0" },
		{ "\xf0\x9f\x91\xa8" ZWJ "a", "\xf0\x9f\x91\xa8" "a" },	/* joins nothing */
		{ ZWJ "\xf0\x9f\x91\xa8", "\xf0\x9f\x91\xa8" },
	};

	(void)state;
	check_pairs(sms_normalize, p, NITEMS(p));
}

static void
test_normalize_invalid(void **state)
{
	static const struct pair p[] = {
		{ "\xff\xfe" "abc", "abc" },
		{ "a\xed\xa0\x80" "b", "ab" },				/* lone high surrogate */
		{ "a\xed\xb0\x80" "b", "ab" },				/* lone low surrogate */
		{ "a\xed\xa0\xbd\xed\xb8\x80" "b", "ab" },		/* CESU-8 pair */
		{ "\xc0\xaf\xe0\x80\xaf", "" },				/* overlong '/' */
		{ "\xf4\x90\x80\x80", "" },				/* past U+10FFFF */
		{ "abc\xc3", "abc" },					/* cut short */
		{ "\xc3" "a", "a" },
		{ "\xe2\x82", "" },
		{ "caf\xe9", "caf" },					/* Latin-1 é */
	};

	(void)state;
	check_pairs(sms_normalize, p, NITEMS(p));
}

static void
test_normalize_big(void **state)
{
	char *s = repeat("ab ", BIG / 3), *n = sms_normalize(s);
	char *z = repeat(ZWSP, BIG / 3), *bad = repeat("\xff", BIG);

	(void)state;
	assert_int_equal(strlen(n), (size_t)(BIG / 3) * 3 - 1);
	assert_int_equal(strncmp(n, "ab ab ab", 8), 0);
	free(n);
	n = sms_normalize(z);
	assert_string_equal(n, "");
	free(n);
	n = sms_normalize(bad);
	assert_string_equal(n, "");
	free(n);
	free(bad);
	free(z);
	free(s);
}

/* ---- sms_fold ---------------------------------------------------------- */

static void
test_fold(void **state)
{
	static const struct pair p[] = {
		{ "", "" }, { "?", "" }, { "!!! ...", "" },
		{ "Stop!", "stop" }, { "STOP.", "stop" }, { "ARRÊT", "arret" },
		{ "« Oui »", "oui" }, { "(1)", "1" }, { "#1", "1" },
		{ "N°1", "n°1" }, { "Élève à l'école", "eleve a l'ecole" },
		{ "\xef\xbc\x91", "1" },				/* fullwidth 1 */
		{ "\xd9\xa1", "\xd9\xa1" },				/* Arabic-Indic 1 */
		{ "\xef\xac\x81n", "fin" },				/* ﬁ ligature */
		{ "Straße", "strasse" }, { "Ça va ?", "ca va" },
		{ "Œuvre", "œuvre" },
		{ "\xff" "Stop" ZWSP "!", "stop" },			/* not normalized */
		{ "\xf0\x9f\x91\x8d oui \xf0\x9f\x91\x8d", "oui" },
	};

	(void)state;
	check_pairs(sms_fold, p, NITEMS(p));
}

/* ---- sms_command ------------------------------------------------------- */

static char *
src_path(const char *rel)
{
	const char *root = getenv("PALIER_SRC");
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/%s", root && *root ? root : ".", rel);
	return buf_take(&b);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A fixture message: \xHH is a byte, the rest as is. Caller frees. */
static char *
unescape(const char *s)
{
	struct buf b = BUF_INIT;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] == 'x' && hexval(s[2]) >= 0 && hexval(s[3]) >= 0) {
			buf_putc(&b, (char)(hexval(s[2]) * 16 + hexval(s[3])));
			s += 4;
		} else
			buf_putc(&b, *s++);
	}
	return buf_take(&b);
}

static enum sms_command
command_named(const char *name)
{
	static const char *const names[] = { "none", "stop", "start", "help" };

	for (size_t i = 0; i < NITEMS(names); i++)
		if (strcmp(name, names[i]) == 0)
			return (enum sms_command)i;
	fail_msg("unknown command \"%s\" in the fixture", name);
	return SMS_CMD_NONE;
}

/* Checks one fixture line; 1 if it was a case. */
static int
check_command_line(char *line, int lineno)
{
	char *tab = strchr(line, '\t'), *msg;
	enum sms_command want, got;

	line[strcspn(line, "\n")] = '\0';
	if (line[0] == '#' || line[0] == '\0')
		return 0;
	if (tab == NULL)
		fail_msg("commands.txt:%d: no tab", lineno);
	*tab = '\0';
	want = command_named(line);
	msg = unescape(tab + 1);
	if ((got = sms_command(msg)) != want)
		fail_msg("commands.txt:%d: \"%s\" is %d, not %s", lineno, tab + 1, got, line);
	free(msg);
	return 1;
}

static void
test_command_fixture(void **state)
{
	char *path = src_path("tests/fixtures/sms/commands.txt");
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0, cases = 0;

	(void)state;
	if (f == NULL)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f) != NULL)
		cases += check_command_line(line, ++lineno);
	fclose(f);
	free(path);
	assert_true(cases >= 85);		/* 88 when written */
}

static void
test_command_hostile(void **state)
{
	char *big = repeat("STOP ", BIG / 5), *zw = repeat(ZWSP, BIG / 3);
	char *padded = repeat(ZWSP, 1000), *s;

	(void)state;
	assert_int_equal(sms_command(big), SMS_CMD_STOP);	/* STOP STOP ... */
	assert_int_equal(sms_command(zw), SMS_CMD_NONE);
	s = malloc(strlen(padded) * 2 + 5);
	assert_non_null(s);
	sprintf(s, "%sSTOP%s", padded, padded);
	assert_int_equal(sms_command(s), SMS_CMD_STOP);
	free(s);
	free(padded);
	free(zw);
	free(big);
	big = repeat("Stop aux incivilités ", BIG / 22);
	assert_int_equal(sms_command(big), SMS_CMD_NONE);
	free(big);
}

/* ---- sms_vote_choice --------------------------------------------------- */

struct vote {
	const char	*text;
	int		 want;		/* 1, 0 or -1 */
	int		 choice;	/* when want is 1 */
};

static void
check_votes(const char *const *options, int n, const struct vote *v, size_t nv)
{
	for (size_t i = 0; i < nv; i++) {
		int choice = -7, r = sms_vote_choice(v[i].text, options, n, &choice);

		if (r != v[i].want)
			fail_msg("item %zu \"%s\": %d, not %d", i, v[i].text, r, v[i].want);
		if (r == 1 && choice != v[i].choice)
			fail_msg("item %zu \"%s\": option %d, not %d", i, v[i].text,
			    choice, v[i].choice);
		if (r != 1 && choice != -7)
			fail_msg("item %zu \"%s\": choice set to %d", i, v[i].text, choice);
	}
}

static const char *const oui_non[] = { "Oui", "Non" };

static void
test_vote_digits(void **state)
{
	static const struct vote v[] = {
		{ "1", 1, 0 }, { " 1 ", 1, 0 }, { "1.", 1, 0 }, { "1!", 1, 0 },
		{ "2", 1, 1 }, { "(2)", 1, 1 }, { "#1", 1, 0 }, { "n°2", 1, 1 },
		{ "N° 2", 1, 1 }, { "No 2", 1, 1 }, { "no.1", 1, 0 },
		{ "numéro 2", 1, 1 }, { "2 merci", 1, 1 }, { "Bonjour, 1 svp", 1, 0 },
		{ "\xef\xbc\x91", 1, 0 },			/* fullwidth 1 */
		{ "1" ZWSP, 1, 0 }, { "\xff" "1\xfe", 1, 0 },
		{ "1\xef\xb8\x8f\xe2\x83\xa3", 1, 0 },		/* keycap 1️⃣ */
		{ "1 1", 1, 0 },
		{ "3", -1, 0 }, { "0", -1, 0 }, { "99", -1, 0 },
		{ "1 ou 2", -1, 0 }, { "1, 2", -1, 0 }, { "1 et 3", -1, 0 },
		{ "\xd9\xa1", 0, 0 },				/* Arabic-Indic 1 */
		{ "2024", 0, 0 }, { "réponse 1", 0, 0 }, { "1er étage", 0, 0 },
		{ "n", 0, 0 }, { "ou", 0, 0 },
	};

	(void)state;
	check_votes(oui_non, 2, v, NITEMS(v));
}

static void
test_vote_oui_non(void **state)
{
	static const struct vote v[] = {
		{ "oui", 1, 0 }, { "OUI !", 1, 0 }, { "Oui.", 1, 0 }, { "non", 1, 1 },
		{ "NON", 1, 1 }, { "Non merci", 1, 1 }, { "« oui »", 1, 0 },
		{ "O" ZWSP "ui", 1, 0 }, { "ouais", 1, 0 }, { "Yes", 1, 0 },
		{ "d'accord", 1, 0 }, { "D’accord !", 1, 0 }, { "pas d'accord", 1, 1 },
		{ "no", 1, 1 }, { "oui oui", 1, 0 }, { "\xf0\x9f\x91\x8d oui", 1, 0 },
		{ "oui non", -1, 0 }, { "oui ou non", -1, 0 }, { "1 ou non", -1, 0 },
		{ "", 0, 0 }, { "   ", 0, 0 }, { "Merci", 0, 0 }, { "\xf0\x9f\x91\x8d", 0, 0 },
		{ "Oui, je suis d'accord avec le digicode", 0, 0 },
		{ "Stop aux incivilités", 0, 0 }, { "ok", 0, 0 },
	};

	(void)state;
	check_votes(oui_non, 2, v, NITEMS(v));
}

static void
test_vote_words(void **state)
{
	static const char *const days[] = { "Samedi matin", "Samedi après-midi", "Dimanche" };
	static const struct vote v[] = {
		{ "Samedi matin", 1, 0 }, { "samedi après midi", 1, 1 },
		{ "SAMEDI APRES-MIDI", 1, 1 }, { "dimanche!", 1, 2 }, { "dim", 1, 2 },
		{ "Dimanc", 1, 2 }, { "samedi m", 1, 0 }, { "3", 1, 2 },
		{ "samedi matin ou dimanche", -1, 0 }, { "sam", -1, 0 },
		{ "samedi", -1, 0 }, { "4", -1, 0 },
		{ "di", 0, 0 }, { "ouais", 0, 0 }, { "lundi", 0, 0 },
	};
	static const char *const pour[] = { "Pour", "Contre", "Abstention" };
	static const struct vote w[] = {
		{ "contre", 1, 1 }, { "abs", 1, 2 }, { "POUR", 1, 0 },
		{ "pour ou contre", -1, 0 }, { "oui", 0, 0 }, { "Je suis contre", 0, 0 },
	};

	(void)state;
	check_votes(days, 3, v, NITEMS(v));
	check_votes(pour, 3, w, NITEMS(w));
}

static void
test_vote_hostile(void **state)
{
	static const char *const dup[] = { "Oui", "oui !" };
	static const char *const holes[] = { NULL, "", "Non" };
	static const struct vote d[] = { { "oui", -1, 0 }, { "2", 1, 1 } };
	static const struct vote h[] = {
		{ "non", 1, 2 }, { "1", 1, 0 }, { "2", 1, 1 }, { "", 0, 0 },
	};
	char *big = repeat("1 ", BIG / 2), *words = repeat("oui merci ", BIG / 10);
	int choice = -7;

	(void)state;
	check_votes(dup, 2, d, NITEMS(d));
	check_votes(holes, 3, h, NITEMS(h));
	assert_int_equal(sms_vote_choice("1", NULL, 2, &choice), 1);
	assert_int_equal(choice, 0);
	assert_int_equal(sms_vote_choice("oui", NULL, 2, &choice), 0);
	assert_int_equal(sms_vote_choice("1", oui_non, 0, &choice), -1);
	assert_int_equal(sms_vote_choice("1", oui_non, -3, NULL), -1);
	assert_int_equal(sms_vote_choice("2", oui_non, 2, NULL), 1);
	assert_int_equal(sms_vote_choice(big, oui_non, 2, &choice), 1);
	assert_int_equal(sms_vote_choice(words, oui_non, 2, &choice), 0);
	free(words);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_space),
		cmocka_unit_test(test_normalize_invisible),
		cmocka_unit_test(test_normalize_emoji),
		cmocka_unit_test(test_normalize_invalid),
		cmocka_unit_test(test_normalize_big),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_command_fixture),
		cmocka_unit_test(test_command_hostile),
		cmocka_unit_test(test_vote_digits),
		cmocka_unit_test(test_vote_oui_non),
		cmocka_unit_test(test_vote_words),
		cmocka_unit_test(test_vote_hostile),
	};

	return cmocka_run_group_tests_name("sms_words", tests, NULL, NULL);
}
