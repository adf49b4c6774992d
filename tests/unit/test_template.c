/*
 * test_template.c — unit tests for fanout/template.c: exact output of
 * variables, sections, inverted sections and list indexes; the escaping of
 * each context; parse errors with their lines; the check of palierd -n;
 * threads sharing a template; the render rate; and golden tests of every
 * shipped template (templates/ with templates/samples.json against
 * tests/fixtures/templates/NAME.out; TPL_GOLDEN_WRITE=1 rewrites them).
 * Writes only under a mkdtemp directory it removes (and the fixtures when
 * asked to).
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

#include <jansson.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "fanout/template.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))


/* ---- helpers ------------------------------------------------------------- */

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A path under $PALIER_SRC if set, else relative to the cwd. Caller frees. */
static char *
src_path(const char *rel)
{
	const char *root = getenv("PALIER_SRC");

	if (root == NULL || *root == '\0')
		return xstrdup(rel);
	return xasprintf("%s/%s", root, rel);
}

/* The whole file, or NULL; *len set when len is not NULL. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	buf_grow(&b, 0);
	return buf_take(&b);
}

static json_t *
json_of(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &e);

	if (j == NULL)
		fail_msg("bad test JSON line %d: %s", e.line, e.text);
	return j;
}

/* Renders text in ctx over the JSON data; the caller frees the result. */
static char *
render(const char *text, enum tpl_context ctx, const char *data)
{
	char *err = NULL;
	struct tpl *t = tpl_parse(text, strlen(text), ctx, &err);
	json_t *j = data ? json_of(data) : NULL;
	struct buf out = BUF_INIT;

	if (t == NULL)
		fail_msg("parse of \"%s\": %s", text, err);
	assert_int_equal(tpl_render(t, j, &out), 0);
	json_decref(j);
	tpl_free(t);
	buf_grow(&out, 0);
	return buf_take(&out);
}

static void
expect(const char *text, enum tpl_context ctx, const char *data, const char *want)
{
	char *got = render(text, ctx, data);

	if (strcmp(got, want) != 0)
		print_message("# template: %s\n# want: [%s]\n# got:  [%s]\n", text, want, got);
	assert_string_equal(got, want);
	free(got);
}

/* The parse error of text ("" when it parses). Caller frees. */
static char *
parse_error(const char *text, size_t len, enum tpl_context ctx)
{
	char *err = NULL;
	struct tpl *t = tpl_parse(text, len, ctx, &err);

	if (t != NULL) {
		tpl_free(t);
		return xstrdup("");
	}
	assert_non_null(err);
	return err;
}

static char *
tmp_dir(void)
{
	const char *t = getenv("TMPDIR");
	char *d = xasprintf("%s/palier-template-XXXXXX", t && *t ? t : "/tmp");

	assert_non_null(mkdtemp(d));
	return d;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static void
remove_dir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
	free(dir);
}

/* ---- variables and sections --------------------------------------------- */

static void
test_variables(void **state)
{
	(void)state;
	expect("Bonjour {{name}} !", TPL_TEXT, "{\"name\": \"Jeanne\"}", "Bonjour Jeanne !");
	expect("{{ name }}", TPL_TEXT, "{\"name\": \"x\"}", "x");
	expect("{{a.b.c}}/{{a.b}}", TPL_TEXT, "{\"a\": {\"b\": {\"c\": \"deep\"}}}", "deep/");
	expect("{{n}} {{r}} {{neg}}", TPL_TEXT, "{\"n\": 1840, \"r\": 2.5, \"neg\": -3}", "1840 2.5 -3");
	/* Booleans, lists and objects are not text: they render as nothing. */
	expect("[{{t}}{{f}}{{l}}{{o}}{{z}}]", TPL_TEXT,
	    "{\"t\": true, \"f\": false, \"l\": [1], \"o\": {}, \"z\": null}", "[]");
	expect("no tags at all\n", TPL_TEXT, "{}", "no tags at all\n");
	expect("", TPL_TEXT, "{}", "");
	expect("{{x}}", TPL_TEXT, NULL, "");
	/* A single brace or a lone "}}" is text. */
	expect("{ {x} }} {{x}}", TPL_TEXT, "{\"x\": 1}", "{ {x} }} 1");
}

/* Missing names render as nothing: a message goes out without the value
 * rather than not at all; palierd -n catches misspelt names (see below). */
static void
test_missing(void **state)
{
	(void)state;
	expect("Bonjour {{nom}},", TPL_TEXT, "{\"name\": \"Jeanne\"}", "Bonjour ,");
	expect("[{{a.b.c}}]", TPL_TEXT, "{\"a\": {\"b\": \"text\"}}", "[]");
	expect("[{{#nope}}x{{/nope}}{{^nope}}y{{/nope}}]", TPL_TEXT, "{}", "[y]");
}

static void
test_sections(void **state)
{
	const char *data =
	    "{\"city\": \"Villeneuve\", \"sections\": ["
	    " {\"title\": \"Immeuble\", \"posts\": [{\"s\": \"a\"}, {\"s\": \"b\"}]},"
	    " {\"title\": \"Quartier\", \"posts\": []},"
	    " {\"title\": \"Mairie\", \"posts\": [{\"s\": \"c\", \"title\": null}]}]}";

	(void)state;
	/* Outer names are seen from inside; an explicit null hides them. */
	expect("{{#sections}}<{{title}}:{{#posts}}{{s}}/{{title}}/{{city}};{{/posts}}>{{/sections}}",
	    TPL_TEXT, data, "<Immeuble:a/Immeuble/Villeneuve;b/Immeuble/Villeneuve;>"
	    "<Quartier:><Mairie:c//Villeneuve;>");
	/* A true value or an object renders once, the object in scope. */
	expect("{{#ok}}yes{{/ok}}{{#o}}{{v}}{{/o}}{{#s}}[{{.}}]{{/s}}{{#n}}{{.}}{{/n}}",
	    TPL_TEXT, "{\"ok\": true, \"o\": {\"v\": 7}, \"s\": \"str\", \"n\": 5}", "yes7[str]5");
	/* False, null, "", 0 and [] render nothing. */
	expect("{{#a}}a{{/a}}{{#b}}b{{/b}}{{#c}}c{{/c}}{{#d}}d{{/d}}{{#e}}e{{/e}}.",
	    TPL_TEXT, "{\"a\": false, \"b\": null, \"c\": \"\", \"d\": 0, \"e\": []}", ".");
	/* Dotted section names, and a section over a dotted list. */
	expect("{{#poll.options}}{{poll.code}}{{number}} {{/poll.options}}", TPL_TEXT,
	    "{\"poll\": {\"code\": \"B\", \"options\": [{\"number\": 1}, {\"number\": 2}]}}",
	    "B1 B2 ");
	/* Nested lists of strings. */
	expect("{{#rows}}{{#.}}{{.}}{{/.}}|{{/rows}}", TPL_TEXT,
	    "{\"rows\": [[\"a\", \"b\"], [\"c\"]]}", "ab|c|");
}

static void
test_inverted(void **state)
{
	(void)state;
	expect("{{^a}}A{{/a}}{{^b}}B{{/b}}{{^c}}C{{/c}}{{^d}}D{{/d}}{{^e}}E{{/e}}{{^m}}M{{/m}}",
	    TPL_TEXT, "{\"a\": false, \"b\": null, \"c\": \"\", \"d\": 0, \"e\": []}", "ABCDEM");
	expect("{{^a}}A{{/a}}{{^b}}B{{/b}}{{^c}}C{{/c}}{{^d}}D{{/d}}.",
	    TPL_TEXT, "{\"a\": true, \"b\": \"x\", \"c\": [0], \"d\": {}}", ".");
	expect("{{#subject}}{{subject}}{{/subject}}{{^subject}}un message de {{author}}{{/subject}}",
	    TPL_HEADER, "{\"subject\": \"\", \"author\": \"M. Leroy\"}", "un message de M. Leroy");
}

static void
test_list_index(void **state)
{
	const char *data = "{\"l\": [\"Oui\", \"Non\", \"Sans avis\"], \"n\": {\"m\": [1, 2]}}";

	(void)state;
	expect("{{#l}}{{@index}}={{.}}{{^@last}}, {{/@last}}{{/l}}.", TPL_TEXT, data,
	    "1=Oui, 2=Non, 3=Sans avis.");
	expect("{{#l}}{{#@first}}[{{/@first}}{{.}}{{#@last}}]{{/@last}}{{/l}}", TPL_TEXT, data,
	    "[OuiNonSans avis]");
	/* The innermost list counts; an object section does not reset it. */
	expect("{{#l}}{{#n}}{{#m}}{{@index}}{{/m}}:{{@index}}{{/n}} {{/l}}", TPL_TEXT, data,
	    "12:1 12:2 12:3 ");
	expect("{{#l}}{{^@index}}never{{/@index}}{{/l}}.", TPL_TEXT, data, ".");
}

/* A section, inverted or comment tag alone on its line takes the line. */
static void
test_standalone(void **state)
{
	(void)state;
	expect("Liste :\n{{#l}}\n  - {{.}}\n{{/l}}\nFin\n", TPL_TEXT, "{\"l\": [\"a\", \"b\"]}",
	    "Liste :\n  - a\n  - b\nFin\n");
	expect("A\n  {{! a comment\n   on two lines }}  \nB\n", TPL_TEXT, "{}", "A\nB\n");
	expect("A\r\n{{^x}}\r\nB\r\n{{/x}}\r\n", TPL_TEXT, "{}", "A\nB\n");
	/* Not alone: the text around stays. */
	expect("A {{#x}}X{{/x}} B\n{{x}}\n", TPL_TEXT, "{\"x\": \"v\"}", "A X B\nv\n");
	expect("{{#x}}\nlast line{{/x}}", TPL_TEXT, "{\"x\": 1}", "last line");
	expect("\xef\xbb\xbf" "BOM{{! at the start }}", TPL_TEXT, "{}", "BOM");
}

/* ---- escaping ------------------------------------------------------------ */

static void
test_escape_html(void **state)
{
	(void)state;
	expect("<p>{{x}}</p>", TPL_HTML, "{\"x\": \"<script>alert(\\\"x\\\")</script>\"}",
	    "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>");
	expect("<a title=\"{{t}}\" href='{{u}}'>", TPL_HTML,
	    "{\"t\": \"\\\" onmouseover=\\\"x\", \"u\": \"' onclick='y\"}",
	    "<a title=\"&quot; onmouseover=&quot;x\" href='&#39; onclick=&#39;y'>");
	expect("{{x}}", TPL_HTML, "{\"x\": \"Tom & Jerry's <b>\"}", "Tom &amp; Jerry&#39;s &lt;b&gt;");
	/* Entities in data are text, so they are escaped too. */
	expect("{{x}}", TPL_HTML, "{\"x\": \"&lt;b&gt;\"}", "&amp;lt;b&amp;gt;");
	/* Lines of data stay lines; CR and controls go. */
	expect("<p>{{x}}</p>", TPL_HTML, "{\"x\": \"un\\r\\ndeux\\u0007\\n\\ttrois\"}",
	    "<p>un<br>\ndeux<br>\n\ttrois</p>");
	/* The template's own markup is its own. */
	expect("<b>{{n}}</b>&nbsp;!", TPL_HTML, "{\"n\": 3}", "<b>3</b>&nbsp;!");
}

static void
test_escape_header(void **state)
{
	(void)state;
	expect("{{s}}", TPL_HEADER, "{\"s\": \"Sujet\\r\\nBcc: x@example.com\"}",
	    "Sujet Bcc: x@example.com");
	expect("Re : {{s}}\n", TPL_HEADER, "{\"s\": \"  a\\t\\t b\\n\\n\\nc  \\u00a0\"}",
	    "Re : a b c");
	expect("{{s}}", TPL_HEADER, "{\"s\": \"\\rTo: y@example.com\\r\"}", "To: y@example.com");
	/* Line separators, controls and the template's own line breaks. */
	expect("  {{a}}\n  {{b}}  \n", TPL_HEADER,
	    "{\"a\": \"un\\u2028deux\\u0000\", \"b\": \"\\u001btrois\\u0085\"}", "un deux trois");
	expect("{{s}}", TPL_HEADER, "{\"s\": \"\"}", "");
	/* Quotes and angle brackets are for the mail writer to encode. */
	expect("{{s}}", TPL_HEADER, "{\"s\": \"\\\"Marie\\\" <m@example.com>\"}",
	    "\"Marie\" <m@example.com>");
}

static void
test_escape_text(void **state)
{
	const char bad[] = "{{x}}";
	struct tpl *t = tpl_parse(bad, strlen(bad), TPL_TEXT, NULL);
	json_t *j;
	struct buf out = BUF_INIT;

	(void)state;
	expect("{{x}}", TPL_TEXT, "{\"x\": \"a\\r\\nb\\u0000c\\u0007d\\u001be\\u007ff\\tg\\n\"}",
	    "a\nbcdef\tg\n");
	/* C1 controls and BOMs go; accents, no-break spaces and emoji stay. */
	expect("{{x}}", TPL_TEXT, "{\"x\": \"\\u0085\\u009b\\ufeffé\\u00a0à \\ud83d\\ude00\"}",
	    "é\xc2\xa0" "à \xf0\x9f\x98\x80");
	/* Invalid UTF-8 in data (jansson checks strings; json_stringn_nocheck does not). */
	assert_non_null(t);
	j = json_pack("{s:o}", "x", json_stringn_nocheck("a\xff" "b\xc3", 4));
	assert_int_equal(tpl_render(t, j, &out), 0);
	assert_string_equal(buf_cstr(&out), "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	json_decref(j);
	buf_free(&out);
	tpl_free(t);
}

static void
test_escape_sms(void **state)
{
	(void)state;
	expect("{{s}} : {{t}}\n", TPL_SMS,
	    "{\"s\": \"Mairie\", \"t\": \"  Eau  coupée.\\r\\n\\r\\n\\r\\nMerci\\u00a0!\\u202f \\t\"}",
	    "Mairie : Eau coupée.\nMerci !");
	expect("\n  {{x}}  \n", TPL_SMS, "{\"x\": \"\\u0007un\\u0001\"}", "un");
	expect("{{a}} {{b}}", TPL_SMS, "{\"a\": \"\", \"b\": \"x\"}", "x");
	expect("{{x}}", TPL_SMS, "{\"x\": \"old\\rMac\\r\\nlines\"}", "old Mac\nlines");
}

/* tpl_render appends; data is borrowed and left as it was. */
static void
test_append(void **state)
{
	struct tpl *t = tpl_parse("[{{x}}]", 7, TPL_TEXT, NULL);
	json_t *j = json_of("{\"x\": \"y\"}");
	struct buf out = BUF_INIT;

	(void)state;
	buf_puts(&out, "before ");
	assert_int_equal(tpl_render(t, j, &out), 0);
	assert_int_equal(tpl_render(t, j, &out), 0);
	assert_string_equal(buf_cstr(&out), "before [y][y]");
	assert_int_equal(j->refcount, 1);
	json_decref(j);
	buf_free(&out);
	tpl_free(t);
	t = tpl_parse("", 0, TPL_SMS, NULL);
	assert_int_equal(tpl_context_of(t), TPL_SMS);
	tpl_free(t);
	tpl_free(NULL);
	tpl_set_free(NULL);
}

/* Output past 8 MiB fails, and out is left as it was. */
static void
test_overflow(void **state)
{
	struct tpl *t = tpl_parse("{{#l}}{{s}}{{/l}}", 17, TPL_TEXT, NULL);
	json_t *j = json_object(), *l = json_array();
	char *big = xmalloc(4096 + 1);
	struct buf out = BUF_INIT;

	(void)state;
	memset(big, 'x', 4096);
	big[4096] = '\0';
	json_object_set_new(j, "s", json_string(big));
	for (int i = 0; i < 2049; i++)		/* 8 MiB and 4 KiB */
		json_array_append_new(l, json_object());
	json_object_set_new(j, "l", l);
	buf_puts(&out, "kept");
	assert_int_equal(tpl_render(t, j, &out), -1);
	assert_string_equal(buf_cstr(&out), "kept");
	json_array_remove(l, 0);		/* 8 MiB exactly is fine */
	assert_int_equal(tpl_render(t, j, &out), 0);
	assert_int_equal(out.len, 4 + 2048 * 4096);
	free(big);
	json_decref(j);
	buf_free(&out);
	tpl_free(t);
}

/* ---- parse errors -------------------------------------------------------- */

struct bad_case {
	const char		*text;
	enum tpl_context	 ctx;
	const char		*err;
};

static const struct bad_case bad_cases[] = {
	{ "{{#a}}x", TPL_TEXT, "1: section 'a' is never closed" },
	{ "a\n{{#a}}\n{{#b}}\n{{/b}}\n", TPL_TEXT, "2: section 'a' is never closed" },
	{ "a\n{{#a}}\n{{/b}}", TPL_TEXT, "3: '{{/b}}' closes section 'a' of line 2" },
	{ "x\n{{/a}}", TPL_TEXT, "2: '{{/a}}' closes no section" },
	{ "x\n\nend {{name", TPL_TEXT, "3: '{{' is never closed by '}}'" },
	{ "a {{na\nme}}", TPL_TEXT, "1: '{{' is not closed by '}}' on its line" },
	{ "\n{{{x}}}", TPL_TEXT, "2: '{{{' is not allowed: data is always escaped" },
	{ "{{{x}}}", TPL_HTML, "1: '{{{' is not allowed: data is always escaped" },
	{ "{{&x}}", TPL_HTML, "1: '{{&' is not allowed: data is always escaped" },
	{ "{{>partial}}", TPL_TEXT,
	    "1: '{{>' is not a tag palier knows (no partials, no delimiter changes)" },
	{ "{{=<% %>=}}", TPL_TEXT,
	    "1: '{{=' is not a tag palier knows (no partials, no delimiter changes)" },
	{ "{{}}", TPL_TEXT, "1: a tag without a name" },
	{ "{{#  }}{{/}}", TPL_TEXT, "1: a tag without a name" },
	{ "{{a..b}}", TPL_TEXT,
	    "1: 'a..b' is not a name (letters, digits, '_' and '-', parts joined by '.')" },
	{ "{{a.}}", TPL_TEXT,
	    "1: 'a.' is not a name (letters, digits, '_' and '-', parts joined by '.')" },
	{ "{{a b}}", TPL_TEXT,
	    "1: 'a b' is not a name (letters, digits, '_' and '-', parts joined by '.')" },
	{ "{{@index}}", TPL_TEXT, "1: '@index' outside a section" },
	{ "{{#l}}\n{{@count}}{{/l}}", TPL_TEXT,
	    "2: unknown name '@count' (only @index, @first and @last begin with '@')" },
	{ "ok\n\xff", TPL_TEXT, "2: not UTF-8 text" },
	{ "a\nb\n\xc3", TPL_SMS, "3: not UTF-8 text" },
	{ "<p>\n<IMG src=\"https://tracker.example/x.gif\">", TPL_HTML,
	    "2: '<img' is not allowed in an HTML template: no images, scripts, style "
	    "sheets or remote content" },
	{ "<p style=\"background: url(x)\">", TPL_HTML,
	    "1: 'url(' is not allowed in an HTML template: no images, scripts, style "
	    "sheets or remote content" },
	{ "<style>p{}</style>", TPL_HTML,
	    "1: '<style' is not allowed in an HTML template: no images, scripts, style "
	    "sheets or remote content" },
};

static void
test_parse_errors(void **state)
{
	struct buf deep = BUF_INIT;
	char *err;

	(void)state;
	for (size_t i = 0; i < NITEMS(bad_cases); i++) {
		err = parse_error(bad_cases[i].text, strlen(bad_cases[i].text), bad_cases[i].ctx);
		if (strcmp(err, bad_cases[i].err) != 0)
			print_message("# case %zu: %s\n", i, bad_cases[i].text);
		assert_string_equal(err, bad_cases[i].err);
		free(err);
	}
	err = parse_error("a\n\nb\0c", 6, TPL_TEXT);
	assert_string_equal(err, "3: a NUL byte");
	free(err);
	/* An <img> is fine in a text template: it is just text there. */
	err = parse_error("<img src=x>", 11, TPL_TEXT);
	assert_string_equal(err, "");
	free(err);
	/* 32 nested sections parse; 33 do not. */
	for (int i = 0; i < 33; i++)
		buf_printf(&deep, "{{#s%d}}", i);
	err = parse_error(deep.data, deep.len, TPL_TEXT);
	assert_string_equal(err, "1: sections nested deeper than 32");
	free(err);
	buf_reset(&deep);
	for (int i = 0; i < 32; i++)
		buf_printf(&deep, "{{#s%d}}", i);
	for (int i = 31; i >= 0; i--)
		buf_printf(&deep, "{{/s%d}}", i);
	err = parse_error(deep.data, deep.len, TPL_TEXT);
	assert_string_equal(err, "");
	free(err);
	buf_free(&deep);
	/* err may be NULL. */
	assert_null(tpl_parse("{{#a}}", 6, TPL_TEXT, NULL));
}

/* ---- threads and speed --------------------------------------------------- */

/* About 1 KB of template, like a digest: a list of posts and a footer. */
static const char bench_tpl[] =
	"Bonjour {{resident.name}},\n\n"
	"Voici les nouvelles {{period}} : {{summary}}.\n"
	"Pour répondre à un message, écrivez à l'adresse donnée sous ce message.\n"
	"{{#sections}}\n\n"
	"==================================================\n"
	"{{title}}{{#place}} - {{place}}{{/place}}\n"
	"==================================================\n"
	"{{#posts}}\n\n"
	"{{number}}. {{subject}}\n"
	"De : {{author}}, {{date}}\n"
	"{{text}}\n"
	"Pour répondre : écrivez à {{reply}}\n"
	"{{/posts}}\n"
	"{{/sections}}\n\n"
	"--------------------------------------------------\n"
	"Vous recevez ces nouvelles {{resident.frequency}}.\n"
	"Pour les recevoir chaque jour : écrivez QUOTIDIEN à {{aide}}\n"
	"Pour les recevoir une fois par semaine : écrivez HEBDO à {{aide}}\n"
	"Pour recevoir chaque message dès qu'il arrive : écrivez IMMEDIAT à {{aide}}\n"
	"Pour ne plus rien recevoir : écrivez STOP à {{aide}}\n"
	"Pour obtenir de l'aide : écrivez AIDE à {{aide}}\n"
	"{{! padding to about one kilobyte of template text, as the real ones }}\n"
	"Ce message vous est envoyé parce que vous habitez {{resident.building}}.\n";

static json_t *
bench_data(void)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}",
	    "period", "du mardi 14 mai", "summary", "4 messages",
	    "aide", "aide@residence.example", "unused", "x",
	    "resident", "name", "Jeanne Martin", "frequency", "chaque jour, vers 18 h",
	    "building", "la Résidence Les Tilleuls");
	json_t *sections = json_array();

	for (int s = 0; s < 2; s++) {
		json_t *posts = json_array();

		for (int p = 0; p < 2; p++)
			json_array_append_new(posts, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}",
			    "number", s * 2 + p + 1, "subject", "Coupure d'eau jeudi matin",
			    "author", "M. Leroy (gardien)", "date", "lundi 13 mai à 9 h 30",
			    "text", "L'eau sera coupée jeudi 16 mai de 8 h à 12 h.\n"
			    "Pensez à remplir une bouteille la veille.",
			    "reply", "reply+k2m9x7q1p3z8w5cd@residence.example"));
		json_array_append_new(sections, json_pack("{s:s, s:s, s:o}", "title",
		    s ? "Votre quartier" : "Votre immeuble", "place", "Les Tilleuls",
		    "posts", posts));
	}
	json_object_set_new(d, "sections", sections);
	return d;
}

struct bench_job {
	const struct tpl	*t;
	const json_t		*data;
	const char		*want;
	int			 ok;
};

static void *
bench_thread(void *arg)
{
	struct bench_job *job = arg;
	struct buf out = BUF_INIT;

	job->ok = 1;
	for (int i = 0; i < 2000; i++) {
		buf_reset(&out);
		if (tpl_render(job->t, job->data, &out) != 0 || strcmp(buf_cstr(&out), job->want) != 0)
			job->ok = 0;
	}
	buf_free(&out);
	return NULL;
}

static void
test_threads(void **state)
{
	struct tpl *t = tpl_parse(bench_tpl, strlen(bench_tpl), TPL_HTML, NULL);
	json_t *d = bench_data();
	struct buf want = BUF_INIT;
	struct bench_job jobs[4];
	pthread_t th[4];

	(void)state;
	assert_non_null(t);
	assert_int_equal(tpl_render(t, d, &want), 0);
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct bench_job){ t, d, buf_cstr(&want), 0 };
		assert_int_equal(pthread_create(&th[i], NULL, bench_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(jobs[i].ok);
	}
	buf_free(&want);
	json_decref(d);
	tpl_free(t);
}

/*
 * Renders per second on one core, printed (never asserted: `make bench`
 * measures speed): CPU time of this thread, since on a
 * shared machine the wall clock also counts the time others had the CPU.
 */
static void
test_speed(void **state)
{
	enum tpl_context ctxs[] = { TPL_TEXT, TPL_HTML };
	const char *names[] = { "text", "HTML" };
	json_t *d = bench_data();

	(void)state;
	for (size_t c = 0; c < NITEMS(ctxs); c++) {
		struct tpl *t = tpl_parse(bench_tpl, strlen(bench_tpl), ctxs[c], NULL);
		struct buf out = BUF_INIT;
		size_t n = 0;
		double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
		double cpu, wall, rate;

		assert_non_null(t);
		do {
			for (int i = 0; i < 1000; i++) {
				buf_reset(&out);
				tpl_render(t, d, &out);
			}
			n += 1000;
			cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		} while (cpu < 0.5);
		wall = clock_s(CLOCK_MONOTONIC) - w0;
		rate = (double)n / cpu;
		print_message("# template: %.0f renders/s per core of a %zu-byte %s template "
		    "(%zu bytes out; %.0f/s by the wall clock)\n", rate, strlen(bench_tpl),
		    names[c], out.len, (double)n / wall);
		buf_free(&out);
		tpl_free(t);
	}
	json_decref(d);
}

/* ---- template directories ------------------------------------------------ */

static void
test_set_load_errors(void **state)
{
	char *dir = tmp_dir(), *err = NULL, *want;
	struct tpl_set *s;

	(void)state;
	assert_null(tpl_set_load("/nonexistent/palier", &err));
	assert_string_equal(err, "/nonexistent/palier: No such file or directory");
	free(err);

	s = tpl_set_load(dir, &err);
	assert_null(s);
	want = xasprintf("%s: no templates (*.txt, *.html, *.subject, *.sms)", dir);
	assert_string_equal(err, want);
	free(want);
	free(err);

	write_file(dir, "good.txt", "Bonjour {{name}}\n");
	write_file(dir, "a.html", "<p>\n{{#x}}\n</p>\n");
	write_file(dir, "b.subject", "Re : {{/y}}\n");
	write_file(dir, "notes.md", "{{ not a template }}");
	write_file(dir, ".hidden.txt", "{{#");
	write_file(dir, "good.txt~", "{{#");
	s = tpl_set_load(dir, &err);
	assert_null(s);
	want = xasprintf("%s/a.html:2: section 'x' is never closed\n"
	    "%s/b.subject:1: '{{/y}}' closes no section", dir, dir);
	/* readdir order is the directory's: compare as sets of lines. */
	if (strcmp(err, want) != 0) {
		free(want);
		want = xasprintf("%s/b.subject:1: '{{/y}}' closes no section\n"
		    "%s/a.html:2: section 'x' is never closed", dir, dir);
	}
	assert_string_equal(err, want);
	free(want);
	free(err);

	write_file(dir, "a.html", "<p>{{x}}</p>\n");
	write_file(dir, "b.subject", "Re : {{y}}\n");
	s = tpl_set_load(dir, &err);
	assert_non_null(s);
	assert_null(err);
	assert_int_equal(tpl_set_count(s), 3);
	assert_string_equal(tpl_set_name(s, 0), "a.html");
	assert_string_equal(tpl_set_name(s, 1), "b.subject");
	assert_string_equal(tpl_set_name(s, 2), "good.txt");
	assert_null(tpl_set_name(s, 3));
	assert_int_equal(tpl_context_of(tpl_get(s, "a.html")), TPL_HTML);
	assert_int_equal(tpl_context_of(tpl_get(s, "b.subject")), TPL_HEADER);
	assert_int_equal(tpl_context_of(tpl_get(s, "good.txt")), TPL_TEXT);
	assert_null(tpl_get(s, "good"));
	assert_null(tpl_get(s, "notes.md"));
	tpl_set_free(s);
	remove_dir(dir);
}

/* The check of palierd -n on a small directory: every problem, named. */
static void
test_set_check(void **state)
{
	char *dir = tmp_dir(), *err = NULL, *line;
	struct tpl_set *s;
	json_t *samples;

	(void)state;
	write_file(dir, "post.subject", "{{post.subjet}}\n");
	write_file(dir, "post.txt", "Bonjour {{resident.name}}\n{{#post}}{{text}}{{/post}}\n");
	write_file(dir, "sms-stop.sms", "{{#x}}{{x}}{{/x}}\n");
	write_file(dir, "sms-help.sms", "Aide : {{contact}}\n");
	write_file(dir, "poll-vote.sms", "{{vote}}\n");
	s = tpl_set_load(dir, &err);
	assert_non_null(s);
	samples = json_of("{\"post\": {\"resident\": {\"name\": \"J\"}, \"post\": {\"subject\": \"S\","
	    " \"text\": \"T\"}}, \"sms-stop\": {\"x\": false}, \"sms-help\": {\"contact\": \"0102\"},"
	    " \"poll-vote\": {\"vote\": {\"label\": \"Oui\"}}, \"digets\": {}}");
	assert_int_equal(tpl_set_check(s, samples, &err), -1);
	assert_non_null(err);
	line = xasprintf("%s/post.subject:1: 'post.subjet' names nothing in the sample data\n", dir);
	assert_non_null(strstr(err, line));
	free(line);
	line = xasprintf("%s/sms-stop.sms: renders empty from its samples\n", dir);
	assert_non_null(strstr(err, line));
	free(line);
	line = xasprintf("%s/poll-vote.sms:1: 'vote' is a list, an object, true or false: not text\n", dir);
	assert_non_null(strstr(err, line));
	free(line);
	line = xasprintf("%s/samples.json: \"digets\" belongs to no template", dir);
	assert_non_null(strstr(err, line));
	free(line);
	line = xasprintf("%s/digest.html: missing (palier sends it)\n", dir);
	assert_non_null(strstr(err, line));
	free(line);
	line = xasprintf("%s/post.txt", dir);
	assert_null(strstr(err, line));		/* post.txt is fine */
	free(line);
	line = xasprintf("%s/sms-help.sms", dir);
	assert_null(strstr(err, line));
	free(line);
	free(err);
	json_decref(samples);

	samples = json_of("{\"post\": {}}");
	assert_int_equal(tpl_set_check(s, samples, &err), -1);
	line = xasprintf("%s/sms-help.sms: samples.json has no object \"sms-help\" to render it with", dir);
	assert_non_null(strstr(err, line));
	free(line);
	free(err);
	json_decref(samples);
	assert_int_equal(tpl_set_check(s, NULL, &err), -1);
	free(err);
	tpl_set_free(s);

	write_file(dir, "samples.json", "{\"post\": {\n\"a\": 1,\n}");
	assert_int_equal(tpl_check_dir(dir, &err), -1);
	line = xasprintf("%s/samples.json:3:", dir);
	assert_memory_equal(err, line, strlen(line));
	free(line);
	free(err);
	remove_dir(dir);
}

/* ---- the shipped templates ----------------------------------------------- */

/* palierd -n on the shipped templates passes. */
static void
test_shipped_check(void **state)
{
	char *dir = src_path("templates"), *err = NULL;
	int rc = tpl_check_dir(dir, &err);

	(void)state;
	if (rc != 0)
		print_message("# %s\n", err);
	assert_int_equal(rc, 0);
	assert_null(err);
	free(dir);
}

struct golden {
	struct tpl_set	*set;
	json_t		*samples;
	char		*fixtures;
};

static int
golden_setup(void **state)
{
	struct golden *g = xcalloc(1, sizeof(*g));
	char *dir = src_path("templates"), *path = src_path("templates/samples.json");
	char *err = NULL;
	json_error_t e;

	g->set = tpl_set_load(dir, &err);
	if (g->set == NULL)
		print_message("# %s\n", err);
	g->samples = json_load_file(path, 0, &e);
	g->fixtures = src_path("tests/fixtures/templates");
	free(err);
	free(dir);
	free(path);
	*state = g;
	return g->set && g->samples ? 0 : -1;
}

static int
golden_teardown(void **state)
{
	struct golden *g = *state;

	tpl_set_free(g->set);
	json_decref(g->samples);
	free(g->fixtures);
	free(g);
	return 0;
}

/* The rendering of one shipped template from its samples. Caller frees. */
static char *
golden_render(const struct golden *g, const char *name)
{
	const char *dot = strrchr(name, '.');
	char *base = xstrndup(name, (size_t)(dot - name));
	struct buf out = BUF_INIT;

	assert_int_equal(tpl_render(tpl_get(g->set, name),
	    json_object_get(g->samples, base), &out), 0);
	free(base);
	buf_grow(&out, 0);
	return buf_take(&out);
}

static void
test_golden(void **state)
{
	const struct golden *g = *state;
	int write = getenv("TPL_GOLDEN_WRITE") != NULL, bad = 0;
	size_t n = tpl_set_count(g->set);

	assert_true(n >= 39);
	for (size_t i = 0; i < n; i++) {
		const char *name = tpl_set_name(g->set, i);
		char *path = xasprintf("%s/%s.out", g->fixtures, name);
		char *got = golden_render(g, name), *want = NULL;

		if (write) {
			FILE *f = fopen(path, "wb");

			assert_non_null(f);
			fputs(got, f);
			fclose(f);
			print_message("# wrote %s\n", path);
		} else if ((want = slurp(path, NULL)) == NULL) {
			print_message("# %s: missing\n", path);
			bad++;
		} else if (strcmp(got, want) != 0) {
			print_message("# %s differs:\n# --- want\n%s\n# --- got\n%s\n# ---\n",
			    path, want, got);
			bad++;
		}
		free(want);
		free(got);
		free(path);
	}
	assert_int_equal(bad, 0);
}

/* Every fixture has its template: none is left behind by a rename. */
static void
test_golden_stale(void **state)
{
	const struct golden *g = *state;
	DIR *d = opendir(g->fixtures);
	struct dirent *e;
	size_t seen = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *name;

		if (len <= 4 || strcmp(e->d_name + len - 4, ".out") != 0)
			continue;
		name = xstrndup(e->d_name, len - 4);
		if (tpl_get(g->set, name) == NULL)
			print_message("# %s/%s: no template %s\n", g->fixtures, e->d_name, name);
		assert_non_null(tpl_get(g->set, name));
		free(name);
		seen++;
	}
	closedir(d);
	assert_int_equal(seen, tpl_set_count(g->set));
}

/* Renders shipped template name over the sample, changed by the JSON patch. */
static char *
variant(const struct golden *g, const char *name, const char *patch)
{
	const char *dot = strrchr(name, '.');
	char *base = xstrndup(name, (size_t)(dot - name));
	json_t *data = json_deep_copy(json_object_get(g->samples, base)), *p = json_of(patch);
	struct buf out = BUF_INIT;

	assert_int_equal(json_object_update_recursive(data, p), 0);
	assert_int_equal(tpl_render(tpl_get(g->set, name), data, &out), 0);
	json_decref(p);
	json_decref(data);
	free(base);
	buf_grow(&out, 0);
	return buf_take(&out);
}

static void
expect_in(char *got, const char *want)
{
	if (strstr(got, want) == NULL)
		print_message("# want [%s] in:\n%s\n", want, got);
	assert_non_null(strstr(got, want));
	free(got);
}

/* The branches the samples do not take. */
static void
test_shipped_variants(void **state)
{
	const struct golden *g = *state;
	char *got;

	/* A sender who is not in the roster. */
	got = variant(g, "command-unknown.txt", "{\"resident\": null, \"contact\": null}");
	assert_memory_equal(got, "Bonjour,\n\nNous n'avons pas compris", 34);
	assert_null(strstr(got, "vos voisins"));
	expect_in(got, "AIDE : recevoir le mode d'emploi\n");
	expect_in(variant(g, "command-aide.txt", "{\"resident\": {\"frequency\": null}}"),
	    "Aujourd'hui, vous ne recevez pas les nouvelles.\n"
	    "Pour les recevoir : écrivez REPRENDRE à aide@residence.example\n");
	expect_in(variant(g, "bulletin.txt", "{\"bulletin\": {\"can_reply\": true, \"contact\": null}}"),
	    "---\nPour répondre, répondez simplement à ce courriel.\n"
	    "Pour ne plus rien recevoir");
	expect_in(variant(g, "command-stop.txt", "{\"resident\": {\"sms\": false}}"),
	    "Ce message est le dernier.\n\nPour recommencer");
	/* A post by SMS has no subject. */
	expect_in(variant(g, "post.subject", "{\"post\": {\"subject\": \"\"}}"),
	    "Votre immeuble : un message de M. Leroy (gardien)");
	expect_in(variant(g, "refusal.txt", "{\"post\": {\"subject\": \"\", \"reason\": null}}"),
	    "votre message du mardi 14 mai n'a pas été publié.\n"
	    "Il a été relu avant publication et n'a pas été accepté.\n\nVous pouvez");
	/* Several open polls: each choice carries its poll's code. */
	expect_in(variant(g, "poll-invite.sms", "{\"poll\": {\"code\": \"B\"}}"),
	    "Répondez B1 pour Oui, B2 pour Non, B3 pour Sans avis.");
	expect_in(variant(g, "poll-clarify.sms", "{\"several\": true, \"polls\": ["
	    "{\"code\": \"A\", \"question\": \"Bancs ?\", \"options\": [{\"number\": 1, \"label\": \"Oui\"},"
	    " {\"number\": 2, \"label\": \"Non\"}]}, {\"code\": \"B\", \"question\": \"Fête ?\","
	    " \"options\": [{\"number\": 1, \"label\": \"Samedi\"}, {\"number\": 2, \"label\": \"Dimanche\"}]}]}"),
	    "envoyez seulement le code de votre choix. Bancs ? A1 pour Oui, A2 pour Non. "
	    "Fête ? B1 pour Samedi, B2 pour Dimanche.");
	/* A digest with polls only, and a weekly resident. */
	got = variant(g, "digest.txt", "{\"sections\": [], \"summary\": \"1 sondage\", \"resident\":"
	    " {\"frequency\": \"une fois par semaine, le dimanche, en un seul courriel\"}}");
	assert_null(strstr(got, "Votre immeuble"));
	expect_in(got, "Votre avis est demandé");
}

/*
 * The text of an SMS template (its tags aside) stays in the GSM 7-bit
 * alphabet: one ê, ç, « or ’ would make every SMS UCS-2, 70 characters a
 * segment instead of 160.
 */
static const char gsm7[] =
	"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	"^{}\\[~]|€";

static int
gsm7_ok(const char *s, size_t n, const char **bad)
{
	size_t i = 0;

	while (i < n) {
		size_t k = 1;
		const char *p;

		while (i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k++;
		p = memmem(gsm7, sizeof(gsm7) - 1, s + i, k);
		if (p == NULL) {
			*bad = s + i;
			return 0;
		}
		i += k;
	}
	return 1;
}

static void
test_sms_alphabet(void **state)
{
	const struct golden *g = *state;
	char *dir = src_path("templates");
	size_t checked = 0;

	for (size_t i = 0; i < tpl_set_count(g->set); i++) {
		const char *name = tpl_set_name(g->set, i), *bad = NULL;
		char *path, *text, *p, *q;
		size_t len;

		if (strcmp(strrchr(name, '.'), ".sms") != 0)
			continue;
		path = xasprintf("%s/%s", dir, name);
		text = slurp(path, &len);
		assert_non_null(text);
		for (p = text; (q = strstr(p, "{{")) != NULL; p = strstr(q, "}}") + 2) {
			if (!gsm7_ok(p, (size_t)(q - p), &bad))
				print_message("# %s: not GSM 7-bit: %.8s\n", name, bad);
			assert_true(gsm7_ok(p, (size_t)(q - p), &bad));
		}
		assert_true(gsm7_ok(p, strlen(p), &bad));
		free(text);
		free(path);
		checked++;
	}
	assert_true(checked >= 9);
	free(dir);
}

/* Large type and no remote content in every HTML message. */
static void
test_html_large_type(void **state)
{
	const struct golden *g = *state;

	for (size_t i = 0; i < tpl_set_count(g->set); i++) {
		const char *name = tpl_set_name(g->set, i), *p;
		char *got;
		size_t sizes = 0;

		if (strcmp(strrchr(name, '.'), ".html") != 0)
			continue;
		got = golden_render(g, name);
		for (p = got; (p = strstr(p, "font-size:")) != NULL; p++) {
			assert_true(atoi(p + strlen("font-size:")) >= 18);
			sizes++;
		}
		assert_true(sizes > 0);
		assert_null(strstr(got, "http:"));
		assert_null(strstr(got, "https:"));
		assert_null(strstr(got, "<img"));
		assert_non_null(strstr(got, "<html lang=\"fr\">"));
		assert_non_null(strstr(got, "color: #000000; background-color: #ffffff"));
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_inverted),
		cmocka_unit_test(test_list_index),
		cmocka_unit_test(test_standalone),
		cmocka_unit_test(test_escape_html),
		cmocka_unit_test(test_escape_header),
		cmocka_unit_test(test_escape_text),
		cmocka_unit_test(test_escape_sms),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_set_load_errors),
		cmocka_unit_test(test_set_check),
		cmocka_unit_test(test_shipped_check),
		cmocka_unit_test_setup_teardown(test_golden, golden_setup, golden_teardown),
		cmocka_unit_test_setup_teardown(test_golden_stale, golden_setup, golden_teardown),
		cmocka_unit_test_setup_teardown(test_shipped_variants, golden_setup, golden_teardown),
		cmocka_unit_test_setup_teardown(test_sms_alphabet, golden_setup, golden_teardown),
		cmocka_unit_test_setup_teardown(test_html_large_type, golden_setup, golden_teardown),
	};

	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
