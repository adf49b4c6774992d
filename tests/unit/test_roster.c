/*
 * test_roster.c — unit tests for ingest/roster.c: rosters as landlords
 * export them (any column order, ',' ';' or tab, BOM and CRLF, quoting,
 * Windows-1252), the channels they give, and the exact "line N: reason"
 * of every problem. Inline CSV only; frees every roster and buffer.
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
#include "ingest/roster.h"
#include "store/store.h"

struct result {
	struct roster	r;
	struct buf	errors;
	int		cp1252;
	int		n;		/* ingest_roster_parse's return */
};

static void
parse_n(const char *data, size_t len, struct result *res)
{
	memset(res, 0, sizeof(*res));
	res->cp1252 = -1;
	res->n = ingest_roster_parse(data, len, &res->r, &res->errors, &res->cp1252);
}

static void
parse(const char *csv, struct result *res)
{
	parse_n(csv, strlen(csv), res);
}

static void
result_free(struct result *res)
{
	roster_free(&res->r);
	buf_free(&res->errors);
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* csv must give exactly want as its errors, and return one per line. */
static void
expect_errors_n(const char *csv, size_t len, const char *want)
{
	struct result res;
	int errors_as_expected, one_per_line, lines;

	parse_n(csv, len, &res);
	errors_as_expected = strcmp(buf_cstr(&res.errors), want) == 0;
	lines = count_lines(buf_cstr(&res.errors));
	one_per_line = res.n == lines;
	if (!errors_as_expected)
		print_error("wanted:\n%sgot:\n%s", want, buf_cstr(&res.errors));
	if (!one_per_line)
		print_error("returned %d for %d lines\n", res.n, lines);
	result_free(&res);
	assert_true(errors_as_expected);
	assert_true(one_per_line);
}

static void
expect_errors(const char *csv, const char *want)
{
	expect_errors_n(csv, strlen(csv), want);
}

/* csv must parse with no problem; the caller checks res, then frees it. */
static void
expect_ok(const char *csv, struct result *res)
{
	parse(csv, res);
	if (res->n != 0) {
		print_error("unexpected problems:\n%s", buf_cstr(&res->errors));
		result_free(res);
		fail();
	}
	assert_string_equal(buf_cstr(&res->errors), "");
}

/* The index of the channel with this slug, -1 if none. */
static long
channel_index(const struct roster *r, const char *slug)
{
	for (size_t i = 0; i < r->nchannels; i++)
		if (strcmp(r->channels[i].slug, slug) == 0)
			return (long)i;
	return -1;
}

static void
check_channel(const struct roster *r, long i, enum channel_kind kind, const char *slug,
    const char *name, long parent, int line)
{
	assert_true(i >= 0 && (size_t)i < r->nchannels);
	assert_int_equal(r->channels[i].kind, kind);
	assert_string_equal(r->channels[i].slug, slug);
	assert_string_equal(r->channels[i].name, name);
	assert_int_equal(r->channels[i].parent, parent);
	assert_int_equal(r->channels[i].line, line);
}

/* Every channel after its parent; a city has none, others have one of the kind above. */
static void
check_tree(const struct roster *r)
{
	for (size_t i = 0; i < r->nchannels; i++) {
		const struct roster_channel *c = &r->channels[i];

		if (c->kind == CHANNEL_CITY) {
			assert_int_equal(c->parent, -1);
			continue;
		}
		assert_true(c->parent >= 0 && (size_t)c->parent < i);
		if (c->kind == CHANNEL_DISTRICT)
			assert_int_equal(r->channels[c->parent].kind, CHANNEL_CITY);
		else
			assert_int_not_equal(r->channels[c->parent].kind, CHANNEL_BUILDING);
	}
	for (size_t i = 0; i < r->nresidents; i++) {
		long b = r->residents[i].building;

		assert_true(b >= 0 && (size_t)b < r->nchannels);
		assert_int_equal(r->channels[b].kind, CHANNEL_BUILDING);
	}
}

static void
check_nullable(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void
check_resident(const struct roster *r, size_t i, int line, const char *building_slug,
    const char *unit, const char *name, const char *email, const char *phone,
    const char *digest, int sms)
{
	const struct roster_resident *p;

	assert_true(i < r->nresidents);
	p = &r->residents[i];
	assert_int_equal(p->line, line);
	assert_string_equal(r->channels[p->building].slug, building_slug);
	assert_string_equal(p->unit, unit);
	assert_string_equal(p->name, name);
	check_nullable(p->email, email);
	check_nullable(p->phone, phone);
	assert_string_equal(p->digest, digest);
	assert_int_equal(p->sms, sms);
}

/* ---- formats ---- */

static void
test_plain_comma(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city,district,building,unit,name,email,phone,digest,sms\n"
	    "Lyon,Croix-Rousse,Résidence Les Tilleuls,3B,Marie Dupont,marie@example.fr,"
	    "06 12 34 56 78,daily,yes\n"
	    "Lyon,Croix-Rousse,Résidence Les Tilleuls,4A,Jean Martin,jean@example.fr,,weekly,\n"
	    "Lyon,,Le Parc,1,Ana Silva,,0690 12 34 56,,\n", &res);
	assert_int_equal(res.cp1252, 0);
	assert_int_equal(res.r.nchannels, 4);
	check_channel(&res.r, 0, CHANNEL_CITY, "lyon", "Lyon", -1, 2);
	check_channel(&res.r, 1, CHANNEL_DISTRICT, "croix-rousse", "Croix-Rousse", 0, 2);
	check_channel(&res.r, 2, CHANNEL_BUILDING, "residence-les-tilleuls",
	    "Résidence Les Tilleuls", 1, 2);
	check_channel(&res.r, 3, CHANNEL_BUILDING, "le-parc", "Le Parc", 0, 4);
	assert_int_equal(res.r.nresidents, 3);
	check_resident(&res.r, 0, 2, "residence-les-tilleuls", "3B", "Marie Dupont",
	    "marie@example.fr", "+33612345678", "daily", 1);
	check_resident(&res.r, 1, 3, "residence-les-tilleuls", "4A", "Jean Martin",
	    "jean@example.fr", NULL, "weekly", 0);
	check_resident(&res.r, 2, 4, "le-parc", "1", "Ana Silva", NULL, "+590690123456",
	    "daily", 1);
	check_tree(&res.r);
	result_free(&res);
}

static void
test_column_order(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "Name, EMAIL ,Building,unit,CITY\n"
	    "Marie Dupont,marie@example.fr,Les Tilleuls,12,Lyon\n", &res);
	assert_int_equal(res.r.nchannels, 2);
	check_channel(&res.r, 0, CHANNEL_CITY, "lyon", "Lyon", -1, 2);
	check_channel(&res.r, 1, CHANNEL_BUILDING, "les-tilleuls", "Les Tilleuls", 0, 2);
	check_resident(&res.r, 0, 2, "les-tilleuls", "12", "Marie Dupont",
	    "marie@example.fr", NULL, "daily", 0);
	result_free(&res);
}

/* Excel's "CSV (séparateur : point-virgule)" in UTF-8: BOM, ';' and CRLF. */
static void
test_excel_semicolon(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "\xef\xbb\xbf" "city;building;unit;name;email;phone\r\n"
	    "Paris;Les Lilas;12;Roux, Élodie;elodie@example.fr;06 11 22 33 44\r\n"
	    "Paris;Les Lilas;13;Paul Roux;;07 11 22 33 44\r\n", &res);
	assert_int_equal(res.cp1252, 0);
	assert_int_equal(res.r.nresidents, 2);
	check_channel(&res.r, 0, CHANNEL_CITY, "paris", "Paris", -1, 2);
	check_channel(&res.r, 1, CHANNEL_BUILDING, "les-lilas", "Les Lilas", 0, 2);
	check_resident(&res.r, 0, 2, "les-lilas", "12", "Roux, Élodie", "elodie@example.fr",
	    "+33611223344", "daily", 0);
	check_resident(&res.r, 1, 3, "les-lilas", "13", "Paul Roux", NULL, "+33711223344",
	    "daily", 1);
	result_free(&res);

	/* Line numbers count CRLF lines too. */
	expect_errors(
	    "\xef\xbb\xbf" "city;building;name;email\r\n"
	    "Paris;Les Lilas;Paul;paul@example.fr\r\n"
	    "\r\n"
	    "Paris;Les Lilas;Jeanne;jeanne@example\r\n",
	    "line 4: email 'jeanne@example' has no dot in its domain (like marie@example.fr)\n");
}

static void
test_tab_separated(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city\tbuilding\tname\temail\tphone\n"
	    "Lyon\tLe Parc, bât. A\tAna Silva\tana@example.fr\t06.12.34.56.78\n", &res);
	assert_int_equal(res.r.nresidents, 1);
	check_channel(&res.r, 1, CHANNEL_BUILDING, "le-parc-bat-a", "Le Parc, bât. A", 0, 2);
	check_resident(&res.r, 0, 2, "le-parc-bat-a", "", "Ana Silva", "ana@example.fr",
	    "+33612345678", "daily", 0);
	result_free(&res);
}

static void
test_quoted_fields(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city,building,unit,name,email\n"
	    "Lyon,\"Le Parc, bâtiment A\",1,\"Jean \"\"Jeannot\"\" Martin\",jean@example.fr\n"
	    "Lyon,Le Parc,2,\"Anne\n"
	    "Marie Durand\",anne@example.fr\n"
	    "Lyon,Le Parc,3,Bob,bob@example.fr\n", &res);
	assert_int_equal(res.r.nresidents, 3);
	check_resident(&res.r, 0, 2, "le-parc-batiment-a", "1", "Jean \"Jeannot\" Martin",
	    "jean@example.fr", NULL, "daily", 0);
	check_channel(&res.r, 1, CHANNEL_BUILDING, "le-parc-batiment-a", "Le Parc, bâtiment A",
	    0, 2);
	/* The embedded newline is a space in the name; the record began on line 3. */
	check_resident(&res.r, 1, 3, "le-parc", "2", "Anne Marie Durand", "anne@example.fr",
	    NULL, "daily", 0);
	check_resident(&res.r, 2, 5, "le-parc", "3", "Bob", "bob@example.fr", NULL, "daily", 0);
	result_free(&res);
}

/* A record spanning lines 3-4 makes the next record line 5. */
static void
test_quoted_newline_line_numbers(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,unit,name,email\n"
	    "Lyon,\"Le Parc, bâtiment A\",1,\"Jean \"\"Jeannot\"\" Martin\",jean@example.fr\n"
	    "Lyon,Le Parc,2,\"Anne\n"
	    "Marie Durand\",anne@example.fr\n"
	    "Lyon,Le Parc,3,Bob,bob@example\n",
	    "line 5: email 'bob@example' has no dot in its domain (like marie@example.fr)\n");

	/* A problem inside the spanning record is on the line it began. */
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,\"Ana\n"
	    "Silva\",ana@example\n"
	    "Lyon,Le Parc,Bob,bob@example\n",
	    "line 2: email 'ana@example' has no dot in its domain (like marie@example.fr)\n"
	    "line 4: email 'bob@example' has no dot in its domain (like marie@example.fr)\n");

	/* The newline in the first field, and with CRLF. */
	expect_errors(
	    "city,building,name,email\r\n"
	    "\"Lyon\r\n"
	    "Nord\",Le Parc,Ana,ana@example.fr\r\n"
	    "\"Lyon\r\n"
	    "\r\n"
	    "Nord\",Le Parc,Bob,bob@example\r\n",
	    "line 4: email 'bob@example' has no dot in its domain (like marie@example.fr)\n");
}

static void
test_quoted_first_field_newline(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city,building,name,email\n"
	    "\"Lyon\n"
	    "Nord\",Le Parc,Ana,ana@example.fr\n"
	    "Lyon Nord,Le Parc,Bob,bob@example.fr\n", &res);
	assert_int_equal(res.r.nchannels, 2);
	check_channel(&res.r, 0, CHANNEL_CITY, "lyon-nord", "Lyon Nord", -1, 2);
	check_resident(&res.r, 0, 2, "le-parc", "", "Ana", "ana@example.fr", NULL, "daily", 0);
	check_resident(&res.r, 1, 4, "le-parc", "", "Bob", "bob@example.fr", NULL, "daily", 0);
	result_free(&res);
}

static void
test_cp1252(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city;building;name;email\r\n"
	    "S\xe8te;R\xe9sidence \xc9t\xe9;Ren\xe9" "e C\x9cur;renee@example.fr\r\n", &res);
	assert_int_equal(res.cp1252, 1);
	check_channel(&res.r, 0, CHANNEL_CITY, "sete", "Sète", -1, 2);
	check_channel(&res.r, 1, CHANNEL_BUILDING, "residence-ete", "Résidence Été", 0, 2);
	check_resident(&res.r, 0, 2, "residence-ete", "", "Renée Cœur", "renee@example.fr",
	    NULL, "daily", 0);
	result_free(&res);
}

static void
test_not_text(void **state)
{
	struct result res;

	(void)state;
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana\x81,ana@example.fr\n",
	    "line 2: is not UTF-8 text (save the file as \"CSV UTF-8\")\n");
	/* A UTF-8 file is never marked as Windows-1252. */
	parse("city,building,name,email\nLyon,Le Parc,Zoé,zoe@example.fr\n", &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.cp1252, 0);
	result_free(&res);
}

/* ---- the header ---- */

static void
test_unknown_column(void **state)
{
	(void)state;
	/* The rows after a bad header are not read: one problem only. */
	expect_errors(
	    "city,building,name,email,floor\n"
	    "Lyon,Le Parc,Ana,ana@example,3\n",
	    "line 1: unknown column 'floor' (the columns are city, district, building,"
	    " building_address, unit, name, email, phone, digest, sms, city_slug,"
	    " district_slug, building_slug)\n");
}

static void
test_duplicate_column(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,Email,email\n"
	    "Lyon,Le Parc,Ana,ana@example.fr,ana@example.fr\n",
	    "line 1: the column 'email' appears twice\n");
}

static void
test_missing_columns(void **state)
{
	(void)state;
	expect_errors("district,unit,email\nCroix-Rousse,1,ana@example.fr\n",
	    "line 1: there is no 'city' column\n"
	    "line 1: there is no 'building' column\n"
	    "line 1: there is no 'name' column\n");
	expect_errors("city,building,name,unit\nLyon,Le Parc,Ana,1\n",
	    "line 1: there is neither an 'email' nor a 'phone' column\n");
	expect_errors("city,name,phone\nLyon,Ana,0612345678\n",
	    "line 1: there is no 'building' column\n");
	expect_errors("unit\n1\n",
	    "line 1: there is no 'city' column\n"
	    "line 1: there is no 'building' column\n"
	    "line 1: there is no 'name' column\n"
	    "line 1: there is neither an 'email' nor a 'phone' column\n");
}

/* A phone column alone is enough; an email column alone too. */
static void
test_phone_only_column(void **state)
{
	struct result res;

	(void)state;
	expect_ok("city,building,name,phone\nLyon,Le Parc,Ana,06 12 34 56 78\n", &res);
	check_resident(&res.r, 0, 2, "le-parc", "", "Ana", NULL, "+33612345678", "daily", 1);
	result_free(&res);
}

/* ---- rows ---- */

static void
test_empty_rows_skipped(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana,ana@example.fr\n"
	    "\n"
	    ",,,\n"
	    " , ,\t,\n"
	    "Lyon,Le Parc,Bob,bob@example.fr\n", &res);
	assert_int_equal(res.r.nresidents, 2);
	assert_int_equal(res.r.residents[0].line, 2);
	assert_int_equal(res.r.residents[1].line, 6);
	result_free(&res);
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana,ana@example.fr\n"
	    "\n"
	    ",,,\n"
	    "Lyon,Le Parc,Bob,bob@example\n",
	    "line 5: email 'bob@example' has no dot in its domain (like marie@example.fr)\n");
}

static void
test_excel_trailing_fields(void **state)
{
	struct result res;

	(void)state;
	/* Trailing separators in the header and in the rows. */
	expect_ok(
	    "city;building;name;email;;;\r\n"
	    "Lyon;Le Parc;Ana;ana@example.fr;;;\r\n"
	    ";;;;;;\r\n", &res);
	assert_int_equal(res.r.nresidents, 1);
	result_free(&res);
	/* Trailing separators in the rows only. */
	expect_ok(
	    "city;building;name;email\r\n"
	    "Lyon;Le Parc;Ana;ana@example.fr;;;\r\n"
	    "Lyon;Le Parc;Bob;bob@example.fr\r\n", &res);
	assert_int_equal(res.r.nresidents, 2);
	result_free(&res);
	/* Fewer fields than the header: the missing ones are empty. */
	expect_ok(
	    "city;building;name;email;phone;digest\r\n"
	    "Lyon;Le Parc;Ana;ana@example.fr\r\n", &res);
	check_resident(&res.r, 0, 2, "le-parc", "", "Ana", "ana@example.fr", NULL, "daily", 0);
	result_free(&res);
}

static void
test_extra_field(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana,ana@example.fr\n"
	    "Lyon,Le Parc,Dupont, Marie,marie@example.fr\n",
	    "line 3: has 5 fields but the header has 4 (a value holding the separator"
	    " needs quotes)\n");
}

static void
test_bad_phone(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,phone\n"
	    "Lyon,Le Parc,Ana,0612\n",
	    "line 2: phone '0612' has 4 digits; a French number has 10 (like 06 12 34 56 78)\n");
	expect_errors(
	    "city,building,name,phone\n"
	    "Lyon,Le Parc,Ana,06 12 AB 56 78\n",
	    "line 2: phone '06 12 AB 56 78' has letters in it\n");
}

static void
test_bad_email(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana,marie@example\n",
	    "line 2: email 'marie@example' has no dot in its domain (like marie@example.fr)\n");
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana,Ana Silva <ana@example.fr>\n",
	    "line 2: email 'Ana Silva <ana@example.fr>' has a space in it\n");
}

static void
test_missing_contact(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,email,phone\n"
	    "Lyon,Le Parc,Ana,,\n",
	    "line 2: a resident needs an email or a phone\n");
}

static void
test_empty_values(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,email\n"
	    ",Le Parc,Ana,ana@example.fr\n"
	    "Lyon,,Bob,bob@example.fr\n"
	    "Lyon,Le Parc,,cyd@example.fr\n",
	    "line 2: the city is empty\n"
	    "line 3: the building is empty\n"
	    "line 4: the name is empty\n");
}

static void
test_digest(void **state)
{
	struct result res;

	(void)state;
	expect_errors(
	    "city,building,name,email,digest\n"
	    "Lyon,Le Parc,Ana,ana@example.fr,monthly\n",
	    "line 2: digest 'monthly' is not immediate, daily, weekly or none\n");
	expect_ok(
	    "city,building,unit,name,email,digest\n"
	    "Lyon,Le Parc,1,A,a@example.fr,quotidien\n"
	    "Lyon,Le Parc,2,B,b@example.fr,Hebdo\n"
	    "Lyon,Le Parc,3,C,c@example.fr,Immédiat\n"
	    "Lyon,Le Parc,4,D,d@example.fr,aucun\n"
	    "Lyon,Le Parc,5,E,e@example.fr,hebdomadaire\n"
	    "Lyon,Le Parc,6,F,f@example.fr,Jamais\n"
	    "Lyon,Le Parc,7,G,g@example.fr,Quotidienne\n"
	    "Lyon,Le Parc,8,H,h@example.fr,IMMEDIATE\n"
	    "Lyon,Le Parc,9,I,i@example.fr, weekly \n"
	    "Lyon,Le Parc,10,J,j@example.fr,none\n"
	    "Lyon,Le Parc,11,K,k@example.fr,\n", &res);
	{
		static const char *const want[] = {
			"daily", "weekly", "immediate", "none", "weekly", "none", "daily",
			"immediate", "weekly", "none", "daily"
		};

		assert_int_equal(res.r.nresidents, 11);
		for (size_t i = 0; i < 11; i++)
			assert_string_equal(res.r.residents[i].digest, want[i]);
	}
	result_free(&res);
}

static void
test_sms(void **state)
{
	static const int want[] = { 1, 0, 0, 1, 0, 1, 0, 1, 1 };
	struct result res;

	(void)state;
	expect_ok(
	    "city,building,unit,name,email,phone,sms\n"
	    "Lyon,Le Parc,1,A,,06 12 34 56 71,\n"
	    "Lyon,Le Parc,2,B,b@example.fr,06 12 34 56 72,\n"
	    "Lyon,Le Parc,3,C,c@example.fr,,\n"
	    "Lyon,Le Parc,4,D,d@example.fr,06 12 34 56 74,oui\n"
	    "Lyon,Le Parc,5,E,,06 12 34 56 75,non\n"
	    "Lyon,Le Parc,6,F,f@example.fr,06 12 34 56 76,yes\n"
	    "Lyon,Le Parc,7,G,,06 12 34 56 77,no\n"
	    "Lyon,Le Parc,8,H,h@example.fr,06 12 34 56 78,OUI\n"
	    "Lyon,Le Parc,9,I,i@example.fr,06 12 34 56 79,x\n", &res);
	assert_int_equal(res.r.nresidents, 9);
	for (size_t i = 0; i < 9; i++)
		if (res.r.residents[i].sms != want[i])
			fail_msg("resident %zu: sms %d", i, res.r.residents[i].sms);
	result_free(&res);

	expect_errors(
	    "city,building,name,email,phone,sms\n"
	    "Lyon,Le Parc,Ana,ana@example.fr,,yes\n"
	    "Lyon,Le Parc,Bob,bob@example.fr,06 12 34 56 78,peut-être\n",
	    "line 2: sms is yes but there is no phone\n"
	    "line 3: sms 'peut-être' is not yes or no\n");
}

static void
test_same_resident(void **state)
{
	struct result res;

	(void)state;
	expect_errors(
	    "city,building,unit,name,email\n"
	    "Lyon,Le Parc,3B,Marie Dupont,marie@example.fr\n"
	    "Lyon,Le Parc,3b,MARIE DUPONT,marie2@example.fr\n",
	    "line 3: the same resident as line 2 (same building, unit and name)\n");
	/* Spaces and accents written differently are still the same person. */
	expect_errors(
	    "city,building,unit,name,email\n"
	    "Lyon,Le Parc,3B,Élodie Roux,elodie@example.fr\n"
	    "Lyon,Le Parc,4,Bob,bob@example.fr\n"
	    "Lyon,Le Parc,3B,\"  E\xcc\x81LODIE\xc2\xa0 roux \",elodie2@example.fr\n",
	    "line 4: the same resident as line 2 (same building, unit and name)\n");
	/* Another unit or another building: two people. */
	expect_ok(
	    "city,building,unit,name,email\n"
	    "Lyon,Le Parc,3B,Marie Dupont,marie@example.fr\n"
	    "Lyon,Le Parc,4A,Marie Dupont,marie@example.fr\n"
	    "Lyon,Les Lilas,3B,Marie Dupont,marie@example.fr\n", &res);
	assert_int_equal(res.r.nresidents, 3);
	result_free(&res);
}

/* ---- quoting errors ---- */

static void
expect_prefix(const char *csv, const char *prefix)
{
	struct result res;
	int one_line_with_prefix;

	parse(csv, &res);
	one_line_with_prefix = strncmp(buf_cstr(&res.errors), prefix, strlen(prefix)) == 0 &&
	    count_lines(buf_cstr(&res.errors)) == 1 && res.n == 1;
	if (!one_line_with_prefix)
		print_error("wanted one line starting \"%s\", got (%d):\n%s", prefix, res.n,
		    buf_cstr(&res.errors));
	result_free(&res);
	assert_true(one_line_with_prefix);
}

static void
test_broken_quoting(void **state)
{
	(void)state;
	expect_prefix(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana,ana@example.fr\n"
	    "Lyon,\"abc\"def,Bob,bob@example.fr\n",
	    "line 3: broken quoting");
	expect_prefix(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,\"Ana\n"
	    "Silva\",ana@example.fr\n"
	    "Lyon,\"Le\" Parc,Bob,bob@example.fr\n",
	    "line 4: broken quoting");
}

static void
test_unclosed_quote(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana,ana@example.fr\n"
	    "Lyon,\"Le Parc,Bob,bob@example.fr\n",
	    "line 3: a quoted value is never closed\n");
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana,ana@example.fr\n"
	    "Lyon,\"Le Parc,Bob,bob@example.fr\n"
	    "Lyon,Le Parc,Cyd,cyd@example.fr\n",
	    "line 3: a quoted value is never closed\n");
}

/* The quote opens on line 4; the blank line 3 before it is not the culprit. */
static void
test_unclosed_quote_after_blank(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana,ana@example.fr\n"
	    "\n"
	    "Lyon,\"Le Parc,Bob,bob@example.fr\n",
	    "line 4: a quoted value is never closed\n");
}

/* ---- channels ---- */

static void
test_channels_parents_first(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city,district,building,name,email\n"
	    "Lyon,Croix-Rousse,Résidence Les Tilleuls,Ana,ana@example.fr\n"
	    "Lyon,Croix-Rousse,Le Parc,Bob,bob@example.fr\n"
	    "Lyon,,Les Lilas,Cyd,cyd@example.fr\n"
	    "Villeurbanne,Gratte-Ciel,Le Totem,Dan,dan@example.fr\n"
	    "Lyon,Croix-Rousse,Résidence Les Tilleuls,Eve,eve@example.fr\n", &res);
	assert_int_equal(res.r.nchannels, 8);
	check_channel(&res.r, 0, CHANNEL_CITY, "lyon", "Lyon", -1, 2);
	check_channel(&res.r, 1, CHANNEL_DISTRICT, "croix-rousse", "Croix-Rousse", 0, 2);
	check_channel(&res.r, 2, CHANNEL_BUILDING, "residence-les-tilleuls",
	    "Résidence Les Tilleuls", 1, 2);
	check_channel(&res.r, 3, CHANNEL_BUILDING, "le-parc", "Le Parc", 1, 3);
	check_channel(&res.r, 4, CHANNEL_BUILDING, "les-lilas", "Les Lilas", 0, 4);
	check_channel(&res.r, 5, CHANNEL_CITY, "villeurbanne", "Villeurbanne", -1, 5);
	check_channel(&res.r, 6, CHANNEL_DISTRICT, "gratte-ciel", "Gratte-Ciel", 5, 5);
	check_channel(&res.r, 7, CHANNEL_BUILDING, "le-totem", "Le Totem", 6, 5);
	assert_int_equal(res.r.nresidents, 5);
	assert_int_equal(res.r.residents[0].building, 2);
	assert_int_equal(res.r.residents[1].building, 3);
	assert_int_equal(res.r.residents[2].building, 4);
	assert_int_equal(res.r.residents[3].building, 7);
	assert_int_equal(res.r.residents[4].building, 2);
	check_tree(&res.r);
	/* Buildings have no address unless a building_address column gives one. */
	for (size_t i = 0; i < res.r.nchannels; i++)
		assert_null(res.r.channels[i].address);
	result_free(&res);
}

static void
test_slug_columns(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city,city_slug,district,district_slug,building,building_slug,name,email\n"
	    "Lyon,lyon-69,Croix-Rousse,croix,Les Tilleuls,tilleuls-3,Ana,ana@example.fr\n"
	    "Lyon,lyon-69,Croix-Rousse,croix,Les Tilleuls,,Bob,bob@example.fr\n", &res);
	assert_int_equal(res.r.nchannels, 4);
	check_channel(&res.r, 0, CHANNEL_CITY, "lyon-69", "Lyon", -1, 2);
	check_channel(&res.r, 1, CHANNEL_DISTRICT, "croix", "Croix-Rousse", 0, 2);
	check_channel(&res.r, 2, CHANNEL_BUILDING, "tilleuls-3", "Les Tilleuls", 1, 2);
	check_channel(&res.r, 3, CHANNEL_BUILDING, "les-tilleuls", "Les Tilleuls", 1, 3);
	check_tree(&res.r);
	result_free(&res);

	expect_errors(
	    "city,building,building_slug,name,email\n"
	    "Lyon,Les Tilleuls,Tilleuls 3,Ana,ana@example.fr\n",
	    "line 2: building_slug 'Tilleuls 3' has capital letters; a slug is lower-case"
	    " (like residence-les-tilleuls)\n");
	expect_errors(
	    "city,city_slug,building,name,email\n"
	    "Lyon,postmaster,Les Tilleuls,Ana,ana@example.fr\n",
	    "line 2: city_slug 'postmaster' is reserved for palier's own addresses\n");
}

static void
test_reserved_slug(void **state)
{
	struct result res;

	(void)state;
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Aide,Ana,ana@example.fr\n",
	    "line 2: the building 'Aide' would get the slug 'aide', which is reserved for"
	    " palier's own addresses; add a building_slug column\n");
	expect_ok(
	    "city,building,building_slug,name,email\n"
	    "Lyon,Aide,immeuble-aide,Ana,ana@example.fr\n", &res);
	check_channel(&res.r, 1, CHANNEL_BUILDING, "immeuble-aide", "Aide", 0, 2);
	result_free(&res);
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,***,Ana,ana@example.fr\n",
	    "line 2: the building '***' gives no usable slug; add a building_slug column\n");
}

static void
test_same_building_two_districts(void **state)
{
	struct result res;

	(void)state;
	expect_errors(
	    "city,district,building,name,email\n"
	    "Lyon,Croix-Rousse,Les Tilleuls,Ana,ana@example.fr\n"
	    "Lyon,Part-Dieu,Les Tilleuls,Bob,bob@example.fr\n",
	    "line 3: the building 'Les Tilleuls' (slug 'les-tilleuls') is in 'Part-Dieu'"
	    " here but in 'Croix-Rousse' on line 2; give one of them a building_slug"
	    " column\n");
	expect_ok(
	    "city,district,building,building_slug,name,email\n"
	    "Lyon,Croix-Rousse,Les Tilleuls,tilleuls-croix,Ana,ana@example.fr\n"
	    "Lyon,Part-Dieu,Les Tilleuls,tilleuls-part-dieu,Bob,bob@example.fr\n", &res);
	assert_int_equal(res.r.nchannels, 5);
	check_channel(&res.r, 2, CHANNEL_BUILDING, "tilleuls-croix", "Les Tilleuls", 1, 2);
	check_channel(&res.r, 4, CHANNEL_BUILDING, "tilleuls-part-dieu", "Les Tilleuls", 3, 3);
	check_tree(&res.r);
	result_free(&res);
}

static void
test_slug_kind_clash(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,email\n"
	    "Aix,Aix,Ana,ana@example.fr\n",
	    "line 2: the building 'Aix' gets the slug 'aix', which line 2 gives to the"
	    " city 'Aix'; add a building_slug column\n");
}

static void
test_building_address(void **state)
{
	struct result res;
	long b;

	(void)state;
	expect_ok(
	    "city,building,building_address,name,email\n"
	    "Lyon,Le Parc,\"12 rue des Lilas, 69004 Lyon\",Ana,ana@example.fr\n", &res);
	b = channel_index(&res.r, "le-parc");
	assert_true(b >= 0);
	assert_null(res.r.channels[channel_index(&res.r, "lyon")].address);
	if (res.r.channels[b].address == NULL) {
		result_free(&res);
		fail_msg("the building_address column was not kept");
	}
	assert_string_equal(res.r.channels[b].address, "12 rue des Lilas, 69004 Lyon");
	result_free(&res);
}

/* ---- values ---- */

static void
test_overseas_phone(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city,building,name,phone\n"
	    "Pointe-à-Pitre,Les Palmiers,Ana,0690 12 34 56\n", &res);
	check_channel(&res.r, 0, CHANNEL_CITY, "pointe-a-pitre", "Pointe-à-Pitre", -1, 2);
	check_resident(&res.r, 0, 2, "les-palmiers", "", "Ana", NULL, "+590690123456", "daily", 1);
	result_free(&res);
}

static void
test_spaces_cleaned(void **state)
{
	struct result res;

	(void)state;
	expect_ok(
	    "city,building,unit,name,email,phone\n"
	    "  Lyon ,Le\xc2\xa0\xc2\xa0Parc, 3\xe2\x80\xaf" "B ,"
	    "Marie\xc2\xa0\xc2\xa0 Dupont  , marie@example.fr ,06\xc2\xa0" "12 34 56 78\n"
	    "Lyon,Le Parc,4,\"\tJean   Martin\t\",jean@example.fr,\n", &res);
	check_channel(&res.r, 0, CHANNEL_CITY, "lyon", "Lyon", -1, 2);
	check_channel(&res.r, 1, CHANNEL_BUILDING, "le-parc", "Le Parc", 0, 2);
	check_resident(&res.r, 0, 2, "le-parc", "3 B", "Marie Dupont", "marie@example.fr",
	    "+33612345678", "daily", 0);
	check_resident(&res.r, 1, 3, "le-parc", "4", "Jean Martin", "jean@example.fr", NULL,
	    "daily", 0);
	result_free(&res);
}

static void
test_control_character(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,name,email\n"
	    "Lyon,Le Parc,Ana\x01Silva,ana@example.fr\n"
	    "Lyon,Le Parc\x7f,Bob,bob@example.fr\n",
	    "line 2: the name holds a control character\n"
	    "line 3: the building holds a control character\n");
}

static void
test_nul_byte(void **state)
{
	static const char csv[] =
	    "city,building,name,email\n"
	    "Lyon,Le\0Parc,Ana,ana@example.fr\n";

	(void)state;
	expect_errors_n(csv, sizeof(csv) - 1, "line 2: holds a NUL byte\n");
}

static void
test_too_long(void **state)
{
	char csv[600];
	char name[202];

	(void)state;
	memset(name, 'n', 201);
	name[201] = '\0';
	snprintf(csv, sizeof(csv), "city,building,name,email\nLyon,Le Parc,%s,a@example.fr\n",
	    name);
	expect_errors(csv, "line 2: the name is longer than 200 bytes\n");
	name[200] = '\0';			/* 200 bytes: fine */
	snprintf(csv, sizeof(csv), "city,building,name,email\nLyon,Le Parc,%s,a@example.fr\n",
	    name);
	expect_errors(csv, "");
}

/* ---- whole files ---- */

static void
test_empty_file(void **state)
{
	(void)state;
	expect_errors("", "line 1: the file is empty; it needs a header row\n");
	expect_errors("\r\n \n\t\n", "line 1: the file is empty; it needs a header row\n");
	expect_errors("\xef\xbb\xbf", "line 1: the file is empty; it needs a header row\n");
	expect_errors("city,building,name,email\n",
	    "line 1: the file has a header but no resident\n");
	expect_errors("city,building,name,email\r\n,,,\r\n\r\n",
	    "line 1: the file has a header but no resident\n");
}

/*
 * data need not end in a NUL: only len bytes are the file. Here the byte
 * after them is not white space, which must not make an empty file non-empty.
 */
static void
test_length_honoured(void **state)
{
	static const char data[] = "  \r\n\t\nX";

	(void)state;
	expect_errors_n(data, 6, "line 1: the file is empty; it needs a header row\n");
}

static void
test_every_problem(void **state)
{
	(void)state;
	expect_errors(
	    "city,building,unit,name,email,phone,digest\n"
	    "Lyon,Le Parc,1,Ana,,0612,\n"
	    "Lyon,Le Parc,2,Bob,bob@example,,monthly\n"
	    "Lyon,Le Parc,3,Cyd,,,\n"
	    "Lyon,Le Parc,4,Dan,dan@example.fr,,\n",
	    "line 2: phone '0612' has 4 digits; a French number has 10 (like 06 12 34 56 78)\n"
	    "line 3: email 'bob@example' has no dot in its domain (like marie@example.fr)\n"
	    "line 3: digest 'monthly' is not immediate, daily, weekly or none\n"
	    "line 4: a resident needs an email or a phone\n");
}

/* The caller frees the roster after problems too: nothing must leak. */
static void
test_free_after_problems(void **state)
{
	struct result res;

	(void)state;
	parse("city,district,building,name,email\n"
	    "Lyon,Croix-Rousse,Le Parc,Ana,ana@example.fr\n"
	    "Lyon,Croix-Rousse,Le Parc,Bob,bob@example\n", &res);
	assert_int_equal(res.n, 1);
	result_free(&res);
	assert_int_equal(res.r.nchannels, 0);
	assert_null(res.r.channels);
	roster_free(&res.r);			/* twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_comma),
		cmocka_unit_test(test_column_order),
		cmocka_unit_test(test_excel_semicolon),
		cmocka_unit_test(test_tab_separated),
		cmocka_unit_test(test_quoted_fields),
		cmocka_unit_test(test_quoted_newline_line_numbers),
		cmocka_unit_test(test_quoted_first_field_newline),
		cmocka_unit_test(test_cp1252),
		cmocka_unit_test(test_not_text),
		cmocka_unit_test(test_unknown_column),
		cmocka_unit_test(test_duplicate_column),
		cmocka_unit_test(test_missing_columns),
		cmocka_unit_test(test_phone_only_column),
		cmocka_unit_test(test_empty_rows_skipped),
		cmocka_unit_test(test_excel_trailing_fields),
		cmocka_unit_test(test_extra_field),
		cmocka_unit_test(test_bad_phone),
		cmocka_unit_test(test_bad_email),
		cmocka_unit_test(test_missing_contact),
		cmocka_unit_test(test_empty_values),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_sms),
		cmocka_unit_test(test_same_resident),
		cmocka_unit_test(test_broken_quoting),
		cmocka_unit_test(test_unclosed_quote),
		cmocka_unit_test(test_unclosed_quote_after_blank),
		cmocka_unit_test(test_channels_parents_first),
		cmocka_unit_test(test_slug_columns),
		cmocka_unit_test(test_reserved_slug),
		cmocka_unit_test(test_same_building_two_districts),
		cmocka_unit_test(test_slug_kind_clash),
		cmocka_unit_test(test_building_address),
		cmocka_unit_test(test_overseas_phone),
		cmocka_unit_test(test_spaces_cleaned),
		cmocka_unit_test(test_control_character),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_length_honoured),
		cmocka_unit_test(test_every_problem),
		cmocka_unit_test(test_free_after_problems),
	};

	return cmocka_run_group_tests_name("roster", tests, NULL, NULL);
}
