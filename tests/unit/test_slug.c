/*
 * test_slug.c — unit tests for core/slug.c: slugs derived from the names a
 * landlord's spreadsheet holds, slug_check and email_check reasons.
 * Owns the slugs it asks for and frees them; never touches the network or disk.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/slug.h"

struct pair {
	const char	*in;
	const char	*out;	/* expected slug, or reason (NULL: accepted) */
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define A32		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B32		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define E_ACUTE16	"éééééééééééééééé"
#define E16		"eeeeeeeeeeeeeeee"

static void
check_slugs(const struct pair *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *s = slug_from_name(p[i].in);

		if (strcmp(s, p[i].out) != 0)
			fail_msg("\"%s\" -> \"%s\", wanted \"%s\"",
			    p[i].in != NULL ? p[i].in : "(null)", s, p[i].out);
		/* Whatever comes out is empty or has the shape of a slug. */
		if (s[0] != '\0' && slug_check(s) != NULL &&
		    strcmp(slug_check(s), "is reserved for palier's own "
		    "addresses") != 0)
			fail_msg("\"%s\" -> \"%s\": %s", p[i].in, s,
			    slug_check(s));
		free(s);
	}
}

static void
check_reasons(const char *(*check)(const char *), const struct pair *p,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *why = check(p[i].in);

		if (p[i].out == NULL && why != NULL)
			fail_msg("\"%s\" refused: %s", p[i].in, why);
		if (p[i].out != NULL && why == NULL)
			fail_msg("\"%s\" accepted, wanted: %s", p[i].in,
			    p[i].out);
		if (p[i].out != NULL)
			assert_string_equal(why, p[i].out);
	}
}

static void
test_slug_names(void **state)
{
	static const struct pair p[] = {
		{ "Résidence Les Tilleuls", "residence-les-tilleuls" },
		{ "Rue de l'Église", "rue-de-l-eglise" },
		{ "Rue de l\xe2\x80\x99" "Église", "rue-de-l-eglise" },
		{ "  Œuvre   d'Été  ", "oeuvre-d-ete" },
		{ "Bâtiment B2", "batiment-b2" },
		{ "Cité Ælia", "cite-aelia" },
		{ "Straße", "strasse" },
		{ "Ça Gère À Noël", "ca-gere-a-noel" },
		{ "CŒUR DE VILLE", "coeur-de-ville" },
		{ "sœur", "soeur" },
		{ "Les Hauts-de-Seine (92)", "les-hauts-de-seine-92" },
		{ "Bât. A -- 1er étage", "bat-a-1er-etage" },
		{ "Résidence\xc2\xa0" "Bellevue", "residence-bellevue" },
		{ "ﬁlature №3", "filature-no3" },	/* compatibility forms */
		{ "Øresund", "oresund" },
		{ "déjà-vu", "deja-vu" },
		{ "already-a-slug", "already-a-slug" },
		{ "UPPER", "upper" },
		{ "- - -", "" },
		{ "!!! ??? ***", "" },
		{ "—", "" },
		{ "北京", "" },
		{ "", "" },
		{ NULL, "" },
	};

	(void)state;
	check_slugs(p, NITEMS(p));
}

static void
test_slug_invalid_utf8(void **state)
{
	static const struct pair p[] = {
		{ "caf\xe9 du march\xe9", "caf-du-march" },	/* Latin-1 */
		{ "a\xffz", "a-z" },
		{ "\xc3", "" },				/* truncated */
		{ "ab\xc3", "ab" },
		{ "x\xe2\x82", "x" },
		{ "\xed\xa0\x80" "abc", "abc" },	/* surrogate */
		{ "\xc0\xaf" "etc", "etc" },		/* overlong '/' */
		{ "\xf8\x88\x80\x80\x80" "z", "z" },
		{ "\x80\x80\x80", "" },
	};

	(void)state;
	check_slugs(p, NITEMS(p));
}

static void
test_slug_long(void **state)
{
	static const struct pair p[] = {
		/* 64 exactly: kept whole */
		{ A32 A32,
		  A32 A32 },
		/* byte 65 is a '-': cut there */
		{ "Résidence des Jardins Fleuris du Quartier Saint-Exupéry "
		  "Bâtiment Nord",
		  "residence-des-jardins-fleuris-du-quartier-saint-exupery-batiment" },
		/* one byte more: cut at the dash before the word */
		{ "Résidence des Jardins Fleuris du Quartier Saint-Exupéry "
		  "Bâtiments Nord",
		  "residence-des-jardins-fleuris-du-quartier-saint-exupery" },
		/* byte 65 is a '-' again, in a plain word */
		{ A32 A32 " bb",
		  A32 A32 },
		/* no dash worth cutting at: cut in the word */
		{ "a " B32 B32 "bbbbbbbbbb",
		  "a-" B32 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" },
		/* 65 accented letters: 130 bytes in, cut to 64 */
		{ E_ACUTE16 E_ACUTE16 E_ACUTE16 E_ACUTE16 "é",
		  E16 E16 E16 E16 },
	};
	size_t i;
	char *s;

	(void)state;
	check_slugs(p, NITEMS(p));
	for (i = 0; i < NITEMS(p); i++) {
		s = slug_from_name(p[i].in);
		assert_true(strlen(s) <= SLUG_MAX);
		free(s);
	}
}

static void
test_slug_huge(void **state)
{
	size_t n = 100000, i;
	char *name = xmalloc(n + 1), *s;

	(void)state;
	for (i = 0; i < n; i++)
		name[i] = "Ab c-\xc3\xa9"[i % 7];
	name[n] = '\0';	/* may end in half a character: fine */
	s = slug_from_name(name);
	assert_true(strlen(s) <= SLUG_MAX);
	assert_null(slug_check(s));
	free(s);
	free(name);
}

static void
test_slug_check(void **state)
{
	static const struct pair p[] = {
		{ "residence-les-tilleuls", NULL },
		{ "b2", NULL },
		{ "a", NULL },
		{ "42", NULL },
		{ "aide-juridique", NULL },
		{ "listes", NULL },
		{ A32 A32,
		  NULL },
		{ A32 A32 "a",
		  "is longer than 64 characters" },
		{ "", "is empty" },
		{ NULL, "is empty" },
		{ "-abc", "starts or ends with '-'" },
		{ "abc-", "starts or ends with '-'" },
		{ "-", "starts or ends with '-'" },
		{ "a--b", "has two '-' in a row" },
		{ "Residence", "has capital letters; a slug is lower-case "
		  "(like residence-les-tilleuls)" },
		{ "les tilleuls", "may only have a-z, 0-9 and '-' "
		  "(like residence-les-tilleuls)" },
		{ "les_tilleuls", "may only have a-z, 0-9 and '-' "
		  "(like residence-les-tilleuls)" },
		{ "reply+abc", "may only have a-z, 0-9 and '-' "
		  "(like residence-les-tilleuls)" },
		{ "résidence", "may only have a-z, 0-9 and '-' "
		  "(like residence-les-tilleuls)" },
		{ "a.b", "may only have a-z, 0-9 and '-' "
		  "(like residence-les-tilleuls)" },
	};
	static const char *const reserved[] = {
		"aide", "help", "reply", "vote", "bounce", "postmaster",
		"abuse", "mailer-daemon", "noreply", "no-reply", "root",
		"admin", "hostmaster", "webmaster", "www", "palier",
		"moderateurs", "moderation", "liste", "list", "unsubscribe",
		"desabonnement",
	};
	size_t i;

	(void)state;
	check_reasons(slug_check, p, NITEMS(p));
	for (i = 0; i < NITEMS(reserved); i++)
		assert_string_equal(slug_check(reserved[i]),
		    "is reserved for palier's own addresses");
}

static void
test_email_good(void **state)
{
	static const struct pair p[] = {
		{ "marie@example.fr", NULL },
		{ "Marie.Dupont@Example.FR", NULL },
		{ "marie+palier@example.fr", NULL },
		{ "m.dupont-2@mail.sous-domaine.example.fr", NULL },
		{ "o'brien@example.ie", NULL },
		{ "a!#$%&*/=?^_`{|}~-@example.com", NULL },
		{ "x@a.b", NULL },
		{ "andré@exemple.fr", NULL },		/* RFC 6531 */
		{ "marie@été.fr", NULL },
		{ "用户@例子.广告", NULL },
		{ "marie@123.example.fr", NULL },
	};

	(void)state;
	check_reasons(email_check, p, NITEMS(p));
}

static void
test_email_bad(void **state)
{
	static const struct pair p[] = {
		{ "", "is empty" },
		{ NULL, "is empty" },
		{ "marie", "is not an email address (like marie@example.fr)" },
		{ "marie.example.fr",
		  "is not an email address (like marie@example.fr)" },
		{ "marie @example.fr", "has a space in it" },
		{ " marie@example.fr", "has a space in it" },
		{ "Marie Dupont <marie@example.fr>", "has a space in it" },
		{ "marie\xc2\xa0@example.fr", "has a space in it" },
		{ "marie@example.fr\r", "has a control character in it" },
		{ "ma\trie@example.fr", "has a control character in it" },
		{ "marie@@example.fr", "has two @" },
		{ "marie@example@fr", "has two @" },
		{ "marie\xe9@example.fr", "is not valid UTF-8" },
		{ "@example.fr", "has nothing before the @" },
		{ "marie@", "has nothing after the @" },
		{ "\"marie\"@example.fr", "has a quoted part before the @; "
		  "palier does not take those" },
		{ "<marie@example.fr>", "has a character that is not allowed "
		  "before the @ (one of ( ) < > [ ] , ; : \\ \")" },
		{ "marie,paul@example.fr", "has a character that is not "
		  "allowed before the @ (one of ( ) < > [ ] , ; : \\ \")" },
		{ "ma(rie)@example.fr", "has a character that is not "
		  "allowed before the @ (one of ( ) < > [ ] , ; : \\ \")" },
		{ ".marie@example.fr", "has a dot at the start or end of the "
		  "part before the @" },
		{ "marie.@example.fr", "has a dot at the start or end of the "
		  "part before the @" },
		{ "ma..rie@example.fr", "has two dots in a row" },
		{ "marie@localhost",
		  "has no dot in its domain (like marie@example.fr)" },
		{ "marie@example..fr", "has an empty part in its domain "
		  "(two dots, or a dot at an end)" },
		{ "marie@.example.fr", "has an empty part in its domain "
		  "(two dots, or a dot at an end)" },
		{ "marie@example.fr.", "has an empty part in its domain "
		  "(two dots, or a dot at an end)" },
		{ "marie@-example.fr", "has a domain part that starts or "
		  "ends with '-'" },
		{ "marie@example_1.fr", "has a character that is not allowed "
		  "in its domain (letters, digits, '-' and dots only)" },
		{ "marie@[192.168.0.1]", "has a character that is not allowed "
		  "in its domain (letters, digits, '-' and dots only)" },
		{ "marie@192.168.0.1",
		  "has a domain that ends in digits (like marie@example.fr)" },
		{ A32 A32 "a"
		  "@example.fr", "has more than 64 characters before the @" },
		{ "marie@" A32 A32 ".fr",
		  "has a domain part longer than 63 characters" },
	};

	(void)state;
	check_reasons(email_check, p, NITEMS(p));
}

static void
test_email_length(void **state)
{
	struct { size_t len; const char *why; } c[] = {
		{ 254, NULL },
		{ 255, "is longer than 254 characters" },
	};
	size_t i, j, n;
	char *a;

	(void)state;
	for (i = 0; i < NITEMS(c); i++) {
		/* "m@" then 60-byte labels and dots, ending in ".fr" */
		n = c[i].len;
		a = xmalloc(n + 1);
		memset(a, 'a', n);
		a[0] = 'm';
		a[1] = '@';
		for (j = 62; j < n - 3; j += 61)
			a[j] = '.';
		memcpy(a + n - 3, ".fr", 4);
		if (c[i].why == NULL)
			assert_null(email_check(a));
		else
			assert_string_equal(email_check(a), c[i].why);
		free(a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slug_names),
		cmocka_unit_test(test_slug_invalid_utf8),
		cmocka_unit_test(test_slug_long),
		cmocka_unit_test(test_slug_huge),
		cmocka_unit_test(test_slug_check),
		cmocka_unit_test(test_email_good),
		cmocka_unit_test(test_email_bad),
		cmocka_unit_test(test_email_length),
	};

	return cmocka_run_group_tests_name("slug", tests, NULL, NULL);
}
