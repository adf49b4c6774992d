/*
 * test_classify.c — unit tests for classify/: the golden posts of
 * tests/fixtures/classify/golden.txt against the default filters/, every
 * refusal of a bad rule file ("file:line: reason"), reload semantics,
 * directory overrides, each condition and action, pathological patterns and
 * 1 MB bodies under 50 ms, and several threads sharing one rule set.
 * Writes rule files under a mkdtemp directory in $TMPDIR and removes them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify/classify.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXHDR		8
#define BIG		(1024 * 1024)

/* ---- helpers ------------------------------------------------------------- */

/* A path under $PALIER_SRC if set, else relative to the cwd. Caller frees. */
static char *
src_path(const char *rel)
{
	const char *root = getenv("PALIER_SRC");
	char *p;

	if (root == NULL || *root == '\0')
		root = ".";
	p = malloc(strlen(root) + strlen(rel) + 2);
	assert_non_null(p);
	sprintf(p, "%s/%s", root, rel);
	return p;
}

static char *
tmp_dir(void)
{
	const char *t = getenv("TMPDIR");
	char *d;

	if (t == NULL || *t == '\0')
		t = "/tmp";
	d = malloc(strlen(t) + sizeof("/palier-classify-XXXXXX"));
	assert_non_null(d);
	sprintf(d, "%s/palier-classify-XXXXXX", t);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
put_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Removes dir, its files, and frees the name. */
static void
rm_dir(char *dir)
{
	struct dirent *de;
	char path[4096];
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	free(dir);
}

/* Loads one directory holding one file name = text; fails the test on error. */
static struct rules *
load_text(const char *text)
{
	char *dir = tmp_dir(), *err = NULL;
	const char *dirs[] = { dir, NULL };
	struct rules *r;

	put_file(dir, "t.rules", text);
	r = classify_rules_load(dirs, &err);
	if (r == NULL)
		fail_msg("load: %s", err);
	rm_dir(dir);
	return r;
}

static struct rules *
load_default(void)
{
	char *dir = src_path("filters"), *err = NULL;
	const char *dirs[] = { dir, NULL };
	struct rules *r = classify_rules_load(dirs, &err);

	if (r == NULL)
		fail_msg("default rules: %s", err);
	free(dir);
	return r;
}

static struct classify_input
post(enum classify_source src, enum classify_role role, const char *subject,
    const char *body)
{
	return (struct classify_input){ .source = src, .role = role,
	    .subject = subject, .body = body };
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	/* CPU time of this thread: a loaded machine must not fail the test. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int
has_tag(const struct classify_result *res, const char *tag)
{
	for (size_t i = 0; i < res->ntags; i++)
		if (strcmp(res->tags[i], tag) == 0)
			return 1;
	return 0;
}

/* ---- golden posts -------------------------------------------------------- */

struct golden {
	int			 line;
	struct classify_input	 in;
	char			*subject;
	char			*body;
	char			*hname[MAXHDR];
	char			*hval[MAXHDR];
	char			*expect;
};

static const char *const scope_names[] = { "same", "district", "city" };
static const char *const decision_names[] = { "publish", "hold", "refuse" };

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static void
golden_clear(struct golden *g)
{
	free(g->subject);
	free(g->body);
	free(g->expect);
	for (size_t i = 0; i < g->in.nheaders; i++) {
		free(g->hname[i]);
		free(g->hval[i]);
	}
	memset(g, 0, sizeof(*g));
	g->in.source = CLASSIFY_EMAIL;
	g->in.role = CLASSIFY_RESIDENT;
}

static void
append_line(char **dst, const char *v)
{
	size_t n = *dst ? strlen(*dst) : 0;

	*dst = realloc(*dst, n + strlen(v) + 2);
	assert_non_null(*dst);
	if (n)
		(*dst)[n++] = '\n';
	strcpy(*dst + n, v);
}

static void
golden_header(struct golden *g, char *v)
{
	char *colon = strchr(v, ':');

	assert_non_null(colon);
	assert_true(g->in.nheaders < MAXHDR);
	*colon = '\0';
	g->hname[g->in.nheaders] = strdup(trim(v));
	g->hval[g->in.nheaders] = strdup(trim(colon + 1));
	g->in.nheaders++;
}

static void
golden_field(struct golden *g, const char *key, char *v, int line)
{
	if (strcmp(key, "source") == 0)
		g->in.source = strcmp(v, "sms") == 0 ? CLASSIFY_SMS : CLASSIFY_EMAIL;
	else if (strcmp(key, "role") == 0)
		g->in.role = strcmp(v, "publisher") == 0 ? CLASSIFY_PUBLISHER :
		    strcmp(v, "unknown") == 0 ? CLASSIFY_UNKNOWN : CLASSIFY_RESIDENT;
	else if (strcmp(key, "subject") == 0)
		append_line(&g->subject, v);
	else if (strcmp(key, "body") == 0)
		append_line(&g->body, v);
	else if (strcmp(key, "header") == 0)
		golden_header(g, v);
	else if (strcmp(key, "expect") == 0)
		g->expect = strdup(v);
	else
		fail_msg("golden.txt:%d: unknown field %s", line, key);
}

static void
describe(const struct classify_result *res, char *out, size_t n)
{
	int k = snprintf(out, n, "topic=%s scope=%s decision=%s", res->topic ? res->topic : "none",
	    scope_names[res->scope], decision_names[res->decision]);

	for (size_t i = 0; i < res->ntags && k > 0 && (size_t)k < n; i++)
		k += snprintf(out + k, n - (size_t)k, " tag=%s", res->tags[i]);
	for (size_t i = 0; i < res->nmatches && k > 0 && (size_t)k < n; i++)
		k += snprintf(out + k, n - (size_t)k, "%s%s", i ? "," : " rules=",
		    res->matches[i].name);
}

/* Each word of the expectation must hold; returns 1 if all do. */
static int
golden_ok(const struct golden *g, const struct classify_result *res)
{
	char *copy = strdup(g->expect), *save = NULL, *w;
	char want[64];
	int ok = 1;

	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (strncmp(w, "topic=", 6) == 0)
			snprintf(want, sizeof(want), "%s", res->topic ? res->topic : "none");
		else if (strncmp(w, "scope=", 6) == 0)
			snprintf(want, sizeof(want), "%s", scope_names[res->scope]);
		else if (strncmp(w, "decision=", 9) == 0)
			snprintf(want, sizeof(want), "%s", decision_names[res->decision]);
		else if (strncmp(w, "tag=", 4) == 0)
			snprintf(want, sizeof(want), "%s", has_tag(res, w + 4) ? w + 4 : "(missing)");
		else
			fail_msg("golden.txt:%d: bad expectation %s", g->line, w);
		ok &= strcmp(strchr(w, '=') + 1, want) == 0;
	}
	free(copy);
	return ok;
}

/* Runs one record; 1 if it passed, else prints what came out. */
static int
golden_run(const struct rules *r, struct golden *g)
{
	struct classify_result res;
	char got[1024];
	int ok;

	if (g->expect == NULL)
		fail_msg("golden.txt:%d: record without expect", g->line);
	g->in.subject = g->subject ? g->subject : "";
	g->in.body = g->body ? g->body : "";
	g->in.header_names = (const char *const *)g->hname;
	g->in.header_values = (const char *const *)g->hval;
	assert_int_equal(classify_run(r, &g->in, &res), 0);
	if (!(ok = golden_ok(g, &res))) {
		describe(&res, got, sizeof(got));
		print_message("golden.txt:%d: want %s\n    got %s\n", g->line, g->expect, got);
	}
	classify_result_free(&res);
	return ok;
}

struct golden_tally {
	int	n;
	int	bad;
};

/* Runs the record g holds, if any, and starts a new one. */
static void
golden_flush(const struct rules *r, struct golden *g, struct golden_tally *t)
{
	if (g->line) {
		t->n++;
		t->bad += !golden_run(r, g);
	}
	golden_clear(g);
}

static void
golden_read(const struct rules *r, FILE *f, struct golden_tally *t)
{
	struct golden g = { 0 };
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;

	golden_clear(&g);
	while (getline(&line, &cap, f) >= 0) {
		char *v = trim(line), *colon;

		lineno++;
		if (*v == '#')
			continue;
		if (*v == '\0') {
			golden_flush(r, &g, t);
			continue;
		}
		if ((colon = strchr(v, ':')) == NULL)
			fail_msg("golden.txt:%d: expected 'field: value'", lineno);
		*colon = '\0';
		g.line = g.line ? g.line : lineno;
		golden_field(&g, v, trim(colon + 1), lineno);
	}
	golden_flush(r, &g, t);
	free(line);
}

static void
test_golden(void **state)
{
	struct rules *r = load_default();
	char *path = src_path("tests/fixtures/classify/golden.txt");
	FILE *f = fopen(path, "r");
	struct golden_tally t = { 0, 0 };

	(void)state;
	assert_non_null(f);
	golden_read(r, f, &t);
	fclose(f);
	free(path);
	classify_rules_free(r);
	print_message("golden: %d posts, %d wrong\n", t.n, t.bad);
	assert_true(t.n >= 60);
	assert_int_equal(t.bad, 0);
}

/* ---- loading ------------------------------------------------------------- */

static void
test_load_default(void **state)
{
	struct rules *r = load_default();

	(void)state;
	assert_true(classify_rules_count(r) >= 20);
	classify_rules_free(r);
}

static void
test_load_empty(void **state)
{
	const char *none[] = { NULL };
	const char *blank[] = { "", NULL };
	struct classify_input in = post(CLASSIFY_SMS, CLASSIFY_RESIDENT, "", "bonjour");
	struct classify_result res;
	char *err = NULL;
	struct rules *r;

	(void)state;
	assert_non_null(r = classify_rules_load(none, &err));
	assert_int_equal(classify_rules_count(r), 0);
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_null(res.topic);
	assert_int_equal(res.decision, CLASSIFY_PUBLISH);
	classify_result_free(&res);
	classify_rules_free(r);
	assert_non_null(r = classify_rules_load(blank, &err));
	classify_rules_free(r);
	classify_rules_free(NULL);
}

struct bad_case {
	const char	*text;
	const char	*err;	/* after "DIR/t.rules:" */
};

static const struct bad_case bad_cases[] = {
	{ "rule a\n\tif body /(fuite/\n\ttag x\n",
	  "2: bad pattern: missing closing parenthesis at offset 6" },
	{ "rule a\n\tif body /fuite/\n\tpublish\n",
	  "3: unknown keyword 'publish' (rule, declare, if, topic, scope, hold, refuse, tag, stop)" },
	{ "rule a\n\tif bdy /x/\n\ttag x\n", "2: unknown field 'bdy'" },
	{ "rule a\n\tif body /x/\n\thold \"à relire\n", "3: missing closing quote" },
	{ "rule a\n\tif body /x\n\ttag x\n", "2: missing closing / of the pattern" },
	{ "rule a\n\tif body /x/i\n\ttag x\n", "2: unknown pattern flag 'i' (only r)" },
	{ "rule a\n\tif body x\n\ttag x\n", "2: expected a /pattern/" },
	{ "rule a\n\tif role voisin\n\ttag x\n", "2: unknown role 'voisin'" },
	{ "rule a\n\tif source fax\n\ttag x\n", "2: unknown source 'fax'" },
	{ "rule a\n\tif role\n\ttag x\n", "2: 'role' needs at least one value" },
	{ "rule a\n\tscope building\n", "2: unknown scope 'building' (district or city)" },
	{ "rule a\n\ttopic enfants\n", "2: unknown topic 'enfants' (add 'declare topic enfants')" },
	{ "rule a\n\tif body /x/\n\n# rien\nrule b\n\ttag y\n", "1: rule 'a' has no action" },
	{ "rule a\n\tif body /x/\n", "1: rule 'a' has no action" },
	{ "\tif body /x/\nrule a\n\ttag x\n", "1: 'if' outside a rule (start one with 'rule NAME')" },
	{ "rule a\n\ttag x\nrule a\n\ttag y\n", "3: rule 'a' already defined on line 1" },
	{ "rule a b\n\ttag x\n", "1: unexpected 'b'" },
	{ "rule a\n\ttag x y\n", "2: unexpected 'y'" },
	{ "rule a\n\ttag X\n", "2: bad tag 'X' (a-z, 0-9, - and _)" },
	{ "rule a\n\thold \"\"\n", "2: empty reason" },
	{ "rule a\n\trefuse raison\n", "2: expected a \"reason\"" },
	{ "rule a\n\tif count body /x/ > 3\n\ttag x\n", "2: expected '>= NUMBER'" },
	{ "rule a\n\tif caps text >= 120\n\ttag x\n", "2: bad number '120' (1 to 100)" },
	{ "rule a\n\tif header /x/\n\ttag x\n",
	  "2: 'header' needs a field name, as in header List-Id /x/" },
	{ "rule a\n\ttag x\ndeclare topic t\n",
	  "3: 'declare' must come before the first rule of its file" },
	{ "rule a\n\ttag x\n\tstop now\n", "3: unexpected 'now'" },
	{ "rule a\n\tif body /caf\xe9/\n\ttag x\n", "2: not UTF-8" },
	{ "rule a\n\tif body /*x/\n\ttag x\n",
	  "2: bad pattern: quantifier does not follow a repeatable item at offset 0" },
};

static void
test_bad_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < NITEMS(bad_cases); i++) {
		char *dir = tmp_dir(), *err = NULL, want[512];
		const char *dirs[] = { dir, NULL };

		put_file(dir, "t.rules", bad_cases[i].text);
		assert_null(classify_rules_load(dirs, &err));
		snprintf(want, sizeof(want), "%s/t.rules:%s", dir, bad_cases[i].err);
		if (err == NULL || strcmp(err, want) != 0)
			fail_msg("case %zu:\n  got  %s\n  want %s", i, err ? err : "(null)", want);
		free(err);
		rm_dir(dir);
	}
}

static void
test_missing_dir(void **state)
{
	const char *dirs[] = { "/nonexistent/palier-filters", NULL };
	char *err = NULL;

	(void)state;
	assert_null(classify_rules_load(dirs, &err));
	assert_string_equal(err, "/nonexistent/palier-filters: No such file or directory");
	free(err);
}

static const char set_a[] =
	"declare topic travaux\n"
	"rule fuite\n"
	"\tif text /fuite/\n"
	"\ttopic travaux\n";

static void
test_reload_keeps_previous(void **state)
{
	struct classify_input in = post(CLASSIFY_SMS, CLASSIFY_RESIDENT, "", "Fuite au 3e");
	char *dir = tmp_dir(), *err = NULL;
	const char *dirs[] = { dir, NULL };
	struct classify_result res;
	struct rules *a, *b;

	(void)state;
	a = load_text(set_a);
	put_file(dir, "10-ok.rules", set_a);
	put_file(dir, "20-bad.rules", "rule casse\n\tif text /[/\n\ttopic travaux\n");
	b = classify_rules_load(dirs, &err);
	assert_null(b);
	assert_non_null(strstr(err, "/20-bad.rules:2: bad pattern: "));
	free(err);
	assert_int_equal(classify_run(a, &in, &res), 0);
	assert_string_equal(res.topic, "travaux");
	classify_result_free(&res);
	classify_rules_free(a);
	rm_dir(dir);
}

/* Files merge by name across directories; a later directory's file wins. */
static void
test_dir_order_and_override(void **state)
{
	char *d1 = tmp_dir(), *d2 = tmp_dir(), *err = NULL;
	const char *dirs[] = { d1, "", d2, NULL };
	struct classify_input in = post(CLASSIFY_EMAIL, CLASSIFY_RESIDENT, "s", "b");
	struct classify_result res;
	struct rules *r;

	(void)state;
	put_file(d1, "10-a.rules", "rule a\n\ttag a\n");
	put_file(d1, "20-b.rules", "rule b-ours\n\ttag b1\n");
	put_file(d1, "README.md", "not rules\n");
	put_file(d2, "20-b.rules", "rule b-theirs\n\ttag b2\n");
	put_file(d2, "15-c.rules", "rule c\n\ttag c\n");
	assert_non_null(r = classify_rules_load(dirs, &err));
	assert_int_equal(classify_rules_count(r), 3);
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_int_equal(res.nmatches, 3);
	assert_string_equal(res.matches[0].file, "10-a.rules");
	assert_string_equal(res.matches[1].file, "15-c.rules");
	assert_string_equal(res.matches[2].name, "b-theirs");
	assert_int_equal(res.matches[2].line, 1);
	classify_result_free(&res);
	classify_rules_free(r);
	rm_dir(d1);
	rm_dir(d2);
}

/* ---- conditions and actions ---------------------------------------------- */

static const char cond_rules[] =
	"# conditions\n"
	"declare topic un deux\n"
	"rule pub\n"
	"\tif role publisher\n"
	"\tif source email\n"
	"\ttag officiel\n"
	"rule sms-court\n"
	"\tif source sms\n"
	"\tif not body /.{20}/\n"
	"\ttag court\n"
	"rule liste\n"
	"\tif header list-id /voisins/\n"
	"\ttag liste\n"
	"rule accents\n"
	"\tif subject /fete des voisins/\n"
	"\ttopic un\n"
	"\tscope district\n"
	"rule second\n"
	"\tif text /voisins/\n"
	"\ttopic deux\n"
	"\tscope city\n"
	"\ttag officiel\n"
	"rule brut\n"
	"\tif body /Fête/r\n"
	"\ttag brut\n"
	"rule liens\n"
	"\tif count body /https?:\\/\\// >= 2\n"
	"\thold \"deux liens\"\n"
	"rule cris\n"
	"\tif caps body >= 80\n"
	"\trefuse \"cris\"\n"
	"rule apres\n"
	"\thold \"jamais la raison\"\n"
	"\ttag apres\n"
	"rule arret\n"
	"\tif text /stop/\n"
	"\tstop\n"
	"rule jamais\n"
	"\ttag jamais\n";

static void
test_role_source_header(void **state)
{
	struct rules *r = load_text(cond_rules);
	const char *hn[] = { "Received", "LIST-ID" }, *hv[] = { "x", "<Voisins.example>" };
	struct classify_input in = post(CLASSIFY_EMAIL, CLASSIFY_PUBLISHER, "Info", "stop");
	struct classify_result res;

	(void)state;
	in.header_names = hn;
	in.header_values = hv;
	in.nheaders = 2;
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_true(has_tag(&res, "officiel") && has_tag(&res, "liste"));
	assert_false(has_tag(&res, "court") || has_tag(&res, "jamais"));
	classify_result_free(&res);
	in = post(CLASSIFY_SMS, CLASSIFY_RESIDENT, "", "merci, stop");
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_true(has_tag(&res, "court"));
	assert_false(has_tag(&res, "officiel") || has_tag(&res, "liste"));
	classify_result_free(&res);
	classify_rules_free(r);
}

static void
test_first_topic_and_scope_win(void **state)
{
	struct rules *r = load_text(cond_rules);
	struct classify_input in = post(CLASSIFY_EMAIL, CLASSIFY_RESIDENT,
	    "FÊTE des Voisins", "La Fête, c'est samedi. stop");
	struct classify_result res;

	(void)state;
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_string_equal(res.topic, "un");
	assert_int_equal(res.scope, CLASSIFY_DISTRICT);
	assert_true(has_tag(&res, "brut") && has_tag(&res, "apres"));
	assert_int_equal(res.ntags, 3);		/* officiel once, brut, apres */
	assert_int_equal(res.decision, CLASSIFY_HOLD);
	assert_string_equal(res.reason, "jamais la raison");
	assert_string_equal(res.matches[res.nmatches - 1].name, "arret");
	classify_result_free(&res);
	in.body = "la fete, stop";		/* "brut" wants the accent and capital */
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_false(has_tag(&res, "brut"));
	classify_result_free(&res);
	classify_rules_free(r);
}

static void
test_refuse_beats_hold(void **state)
{
	struct rules *r = load_text(cond_rules);
	struct classify_input in = post(CLASSIFY_EMAIL, CLASSIFY_RESIDENT, "",
	    "VOIR HTTP://A.EXAMPLE ET HTTPS://B.EXAMPLE MAINTENANT");
	struct classify_result res;

	(void)state;
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_int_equal(res.decision, CLASSIFY_REFUSE);
	assert_string_equal(res.reason, "cris");
	classify_result_free(&res);
	in.body = "voir http://a.example et https://b.example, stop";
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_int_equal(res.decision, CLASSIFY_HOLD);
	assert_string_equal(res.reason, "deux liens");
	classify_result_free(&res);
	classify_rules_free(r);
}

/* Patterns see the text lower-cased, without accents, with plain apostrophes. */
static void
test_folding(void **state)
{
	static const char *const pairs[][2] = {
		{ "/fete des voisins/", "FÊTE DES VOISINS" },
		{ "/d'eau au 3e etage/", "Fuite d’eau au 3ᵉ étage" },
		{ "/oeuvre d'art/", "Œuvre d\u02bcart" },
		{ "/\\bnoel\\b/", "Joyeux Noël !" },
		{ "/fin de chantier/", "ﬁn de chantier" },
		{ "/\\Aa la mairie\\z/", "À la mairie" },
		{ "/cafe creme/", "cafe\u0301 cre\u0300me" },
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(pairs); i++) {
		char text[256];
		struct rules *r;
		struct classify_input in = post(CLASSIFY_SMS, CLASSIFY_RESIDENT, "", pairs[i][1]);
		struct classify_result res;

		snprintf(text, sizeof(text), "rule f\n\tif body %s\n\ttag ok\n", pairs[i][0]);
		r = load_text(text);
		assert_int_equal(classify_run(r, &in, &res), 0);
		if (!has_tag(&res, "ok"))
			fail_msg("%s does not match %s", pairs[i][0], pairs[i][1]);
		classify_result_free(&res);
		classify_rules_free(r);
	}
}

/* Text that is not UTF-8, NULL fields and empty bodies never break a run. */
static void
test_odd_input(void **state)
{
	struct rules *r = load_default();
	struct classify_input in = post(CLASSIFY_SMS, CLASSIFY_RESIDENT, NULL,
	    "\xff\xfe Fuite d'eau \xc3 au 3e \xe2\x82");
	struct classify_result res;

	(void)state;
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_string_equal(res.topic, "travaux");
	classify_result_free(&res);
	assert_int_equal(classify_run(NULL, &in, &res), -1);
	assert_int_equal(res.decision, CLASSIFY_HOLD);
	assert_non_null(res.reason);
	classify_result_free(&res);
	classify_result_free(NULL);
	classify_rules_free(r);
}

/* ---- limits -------------------------------------------------------------- */

static char *
big_body(const char *unit, size_t total, const char *tail)
{
	size_t un = strlen(unit), tn = strlen(tail);
	char *b = malloc(total + tn + 1);

	assert_non_null(b);
	for (size_t i = 0; i < total; i++)
		b[i] = unit[i % un];
	memcpy(b + total, tail, tn + 1);
	return b;
}

static void
run_timed(const struct rules *r, const char *subject, const char *body, int want_limited)
{
	struct classify_input in = post(CLASSIFY_EMAIL, CLASSIFY_RESIDENT, subject, body);
	struct classify_result res;
	struct timespec t0;
	double ms;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	assert_int_equal(classify_run(r, &in, &res), 0);
	ms = ms_since(&t0);
	if (ms >= 50.0)
		fail_msg("classify took %.1f ms", ms);
	if (want_limited >= 0)
		assert_int_equal(res.limited, want_limited);
	classify_result_free(&res);
}

static void
test_pathological_pattern(void **state)
{
	struct rules *r = load_text(
	    "declare topic t\n"
	    "rule lent\n\tif body /^(a|aa)+$/\n\ttag lent\n"
	    "rule imbrique\n\tif text /(\\w+\\s?)*!$/\n\ttag imbrique\n"
	    "rule compte\n\tif count body /(a|aa)+b/ >= 1000\n\ttag compte\n"
	    "rule apres\n\tif body /a/\n\ttopic t\n");
	char *small = big_body("a", 40, "b"), *big = big_body("a", BIG, "b");
	char *words = big_body("bonjour ", 60000, "!x");
	struct classify_input in = post(CLASSIFY_EMAIL, CLASSIFY_RESIDENT, "", small);
	struct classify_result res;

	(void)state;
	run_timed(r, "", small, 1);
	run_timed(r, "", big, 1);
	run_timed(r, "", words, 1);
	assert_int_equal(classify_run(r, &in, &res), 0);
	assert_string_equal(res.topic, "t");	/* later rules still run */
	assert_false(has_tag(&res, "lent"));	/* a limited match is no match */
	classify_result_free(&res);
	free(small);
	free(big);
	free(words);
	classify_rules_free(r);
}

/* Many slow rules share one budget per post. */
static void
test_time_budget(void **state)
{
	char text[8192] = "";
	char *body = big_body("a", 40, "b");
	struct rules *r;

	(void)state;
	for (int i = 0; i < 100; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "rule r%d\n\tif body /^(a|aa)+$/\n\ttag t\n", i);
	r = load_text(text);
	run_timed(r, "", body, 1);
	free(body);
	classify_rules_free(r);
}

static void
test_adversarial_bodies(void **state)
{
	static const char *const units[] = {
		"a", "aaaa ", "http://", "https://x.example/ ", "!", "AAAA!! ", "é",
		"Fête ", "\xff", "\xc3", "#quartier ", "(((((", "fuite d'eau ",
		"cherche nounou mercredi ", "a\n", "ŒœÆæ ", "💩", "ﷺ", "ﷺ ",
	};
	struct rules *r = load_default();

	(void)state;
	for (size_t i = 0; i < NITEMS(units); i++) {
		char *body = big_body(units[i], BIG, "");
		char *subject = big_body(units[i], 4000, "");

		run_timed(r, subject, body, 0);
		free(body);
		free(subject);
	}
	classify_rules_free(r);
}

/* ---- threads ------------------------------------------------------------- */

static const char *const thread_posts[] = {
	"cherche nounou mercredi", "vends poussette", "fuite d'eau au 3e",
	"chat perdu", "clés trouvées dans le hall", "fête des voisins",
	"qui peut arroser mes plantes", "Viagra sans ordonnance",
};

struct worker {
	const struct rules	*r;
	int			 bad;
};

static char *
topic_of(const struct rules *r, const char *body)
{
	struct classify_input in = post(CLASSIFY_SMS, CLASSIFY_RESIDENT, "", body);
	struct classify_result res;
	char *t;

	if (classify_run(r, &in, &res) != 0)
		return NULL;
	t = strdup(res.topic ? res.topic : "none");
	classify_result_free(&res);
	return t;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char *want[NITEMS(thread_posts)];

	for (size_t i = 0; i < NITEMS(thread_posts); i++)
		want[i] = topic_of(w->r, thread_posts[i]);
	for (int k = 0; k < 300; k++) {
		size_t i = (size_t)k % NITEMS(thread_posts);
		char *got = topic_of(w->r, thread_posts[i]);

		w->bad += got == NULL || want[i] == NULL || strcmp(got, want[i]) != 0;
		free(got);
	}
	for (size_t i = 0; i < NITEMS(thread_posts); i++)
		free(want[i]);
	return NULL;
}

static void
test_threads(void **state)
{
	struct rules *r = load_default();
	struct worker w[4];
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ r, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	classify_rules_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_load_default),
		cmocka_unit_test(test_load_empty),
		cmocka_unit_test(test_bad_rules),
		cmocka_unit_test(test_missing_dir),
		cmocka_unit_test(test_reload_keeps_previous),
		cmocka_unit_test(test_dir_order_and_override),
		cmocka_unit_test(test_role_source_header),
		cmocka_unit_test(test_first_topic_and_scope_win),
		cmocka_unit_test(test_refuse_beats_hold),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_odd_input),
		cmocka_unit_test(test_pathological_pattern),
		cmocka_unit_test(test_time_budget),
		cmocka_unit_test(test_adversarial_bodies),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
