/*
 * test_mime.c — unit tests for ingest/mime.c: every .eml of tests/fixtures/eml
 * parsed and rendered, compared with its .expect file exactly; hostile
 * messages made here (deep nesting, many parts, long lines, NUL bytes); the
 * parse rate on a typical message, printed, not asserted. Owns what it makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "ingest/mime.h"

static char *
src_path(const char *rel)
{
	const char *src = getenv("PALIER_SRC");

	return xasprintf("%s%s%s", src && *src ? src : "", src && *src ? "/" : "", rel);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return b.data ? buf_take(&b) : xstrdup("");
}

static const char *
or_dash(const char *s)
{
	return s ? s : "-";
}

/*
 * A parse result in the .expect format: one "key: value" line per scalar
 * ("-" for NULL), "h: Name: value" per header field, "attachment: type
 * size filename" and "dsn: action status recipient" (+ "dsn-diagnostic:")
 * per item, then "--- text" and the text itself; or "error: why".
 */
static char *
render(const struct mail *m, int rc, const char *why)
{
	struct buf b = BUF_INIT;

	if (rc < 0) {
		buf_printf(&b, "error: %s\n", why);
		return buf_take(&b);
	}
	buf_printf(&b, "from: %s\nfrom-name: %s\nsubject: %s\n", or_dash(m->from_addr),
	    or_dash(m->from_name), or_dash(m->subject));
	buf_printf(&b, "message-id: %s\nin-reply-to: %s\nreceived: %d\n", or_dash(m->message_id),
	    or_dash(m->in_reply_to), m->received_count);
	buf_printf(&b, "charset: %s\nhtml: %d\nparts: %zu\n", or_dash(m->charset_used),
	    m->text_from_html, m->nparts);
	for (size_t i = 0; i < m->nheaders; i++)
		buf_printf(&b, "h: %s:%s%s\n", m->headers[i].name, m->headers[i].value[0] ? " " : "",
		    m->headers[i].value);
	for (size_t i = 0; i < m->nattachments; i++)
		buf_printf(&b, "attachment: %s %zu %s\n", m->attachments[i].type,
		    m->attachments[i].size, or_dash(m->attachments[i].filename));
	buf_printf(&b, "is-dsn: %d\n", m->is_dsn);
	for (size_t i = 0; i < m->ndsn; i++) {
		buf_printf(&b, "dsn: %s %s %s\n", or_dash(m->dsn[i].action),
		    or_dash(m->dsn[i].status), or_dash(m->dsn[i].recipient));
		if (m->dsn[i].diagnostic)
			buf_printf(&b, "dsn-diagnostic: %s\n", m->dsn[i].diagnostic);
	}
	buf_printf(&b, "--- text\n%s%s", m->text, m->text[0] ? "\n" : "");
	return buf_take(&b);
}

/* What every result must be, whatever the input. */
static void
check_invariants(const struct mail *m)
{
	const char *t = m->text;

	assert_non_null(t);
	assert_true(utf8_valid(t, strlen(t), NULL));
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		assert_true(*p >= 0x20 || *p == '\n' || *p == '\t');
	for (size_t i = 0; i < m->nheaders; i++) {
		assert_true(utf8_valid(m->headers[i].value, strlen(m->headers[i].value), NULL));
		for (const unsigned char *p = (const unsigned char *)m->headers[i].value; *p; p++)
			assert_true(*p >= 0x20 && *p != 0x7f);
	}
	if (m->from_addr)
		assert_non_null(strchr(m->from_addr, '@'));
}

/* Parses raw and renders it; the result checked for the invariants. */
static char *
parse_render(const char *raw, size_t len)
{
	struct mail m;
	const char *why = NULL;
	int rc = ingest_mime_parse(raw, len, &m, &why);
	char *out;

	if (rc == 0)
		check_invariants(&m);
	else
		assert_non_null(why);
	out = render(&m, rc, why);
	mail_free(&m);
	return out;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .eml fixtures, sorted; the caller frees each and the array. */
static char **
fixtures(size_t *n)
{
	char *dir = src_path("tests/fixtures/eml");
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;

	*n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".eml") == 0) {
			v = xreallocarray(v, *n + 1, sizeof(*v));
			v[(*n)++] = xasprintf("%s/%.*s", dir, (int)(len - 4), e->d_name);
		}
	}
	closedir(d);
	free(dir);
	qsort(v, *n, sizeof(*v), name_cmp);
	return v;
}

/* Every fixture renders exactly as its .expect says. */
static void
test_fixtures(void **state)
{
	size_t n, failed = 0;
	char **names = fixtures(&n);

	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++) {
		char *eml = xasprintf("%s.eml", names[i]), *exp = xasprintf("%s.expect", names[i]);
		size_t len, elen;
		char *raw = slurp(eml, &len), *want = slurp(exp, &elen), *got;

		assert_non_null(raw);
		got = parse_render(raw, len);
		if (want == NULL || strcmp(got, want) != 0) {
			failed++;
			print_message("# %s: rendered differently from %s\n# got:\n%s\n", eml, exp, got);
		}
		free(got);
		free(raw);
		free(want);
		free(eml);
		free(exp);
		free(names[i]);
	}
	free(names);
	assert_int_equal(failed, 0);
}

/* ---- hostile messages, made here ---- */

/*
 * A refusal must come early, before the whole message is parsed; the
 * ceilings are ten times what a modest machine needs, so that only a
 * parse that runs on to the end fails, never a busy or slow machine
 * (speed itself is measured by `make bench`). CPU time, not wall time.
 * Sanitizers make everything several times slower again.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SLOWER	100
#else
#define SLOWER	10
#endif

static void
expect_error(const char *raw, size_t len, const char *why_want, double max_ms)
{
	struct mail m;
	const char *why = NULL;
	struct timespec t0, t1;
	double ms;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	assert_int_equal(ingest_mime_parse(raw, len, &m, &why), -1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	mail_free(&m);
	assert_string_equal(why, why_want);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("# %s in %.2f ms (%zu bytes)\n", why, ms, len);
	assert_true(ms < max_ms * SLOWER);
}

/* multipart inside multipart, depth times, with a text at the bottom. */
static char *
nested(int depth, const char *type, size_t *len)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "From: a@example.org\nSubject: deep\nMIME-Version: 1.0\n");
	for (int i = 0; i < depth; i++)
		buf_printf(&b, "Content-Type: %s; boundary=\"b%d\"\n\n--b%d\n", type, i, i);
	buf_puts(&b, "Content-Type: text/plain\n\nbottom\n");
	for (int i = depth - 1; i >= 0; i--)
		buf_printf(&b, "--b%d--\n", i);
	*len = b.len;
	return buf_take(&b);
}

static void
test_deep_nesting(void **state)
{
	size_t len;
	char *raw = nested(200, "multipart/mixed", &len);

	expect_error(raw, len, "too deeply nested", 100);
	free(raw);
	raw = nested(100000, "multipart/mixed", &len);	/* 4 MB: must not touch the stack */
	expect_error(raw, len, "too deeply nested", 1000);
	free(raw);
}

/* message/rfc822 inside message/rfc822, depth times. */
static void
test_deep_messages(void **state)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "From: a@example.org\nSubject: deep\n");
	for (int i = 0; i < 300; i++)
		buf_puts(&b, "Content-Type: message/rfc822\n\nFrom: b@example.org\n");
	buf_puts(&b, "\nbottom\n");
	expect_error(b.data, b.len, "too deeply nested", 100);
	buf_free(&b);
}

/* Exactly at the limits is still a message. */
static void
test_at_limits(void **state)
{
	struct mail m;
	const char *why = NULL;
	size_t len;
	char *raw = nested(MIME_MAX_DEPTH - 1, "multipart/mixed", &len);

	assert_int_equal(ingest_mime_parse(raw, len, &m, &why), 0);
	assert_string_equal(m.text, "bottom");
	assert_int_equal(m.nparts, MIME_MAX_DEPTH);
	mail_free(&m);
	free(raw);
	raw = nested(MIME_MAX_DEPTH, "multipart/mixed", &len);
	assert_int_equal(ingest_mime_parse(raw, len, &m, &why), -1);
	assert_string_equal(why, "too deeply nested");
	mail_free(&m);
	free(raw);
}

static char *
many_parts(int parts, size_t *len)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "From: a@example.org\nSubject: many\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"sep\"\n\n");
	for (int i = 0; i < parts; i++)
		buf_printf(&b, "--sep\nContent-Type: text/plain\n\npart %d\n", i);
	buf_puts(&b, "--sep--\n");
	*len = b.len;
	return buf_take(&b);
}

static void
test_many_parts(void **state)
{
	struct mail m;
	const char *why = NULL;
	size_t len;
	char *raw = many_parts(20000, &len);

	expect_error(raw, len, "too many parts", 100);
	free(raw);
	raw = many_parts(MIME_MAX_PARTS - 1, &len);	/* and the container: exactly the limit */
	assert_int_equal(ingest_mime_parse(raw, len, &m, &why), 0);
	assert_int_equal(m.nparts, MIME_MAX_PARTS);
	assert_string_equal(m.text, "part 0");
	mail_free(&m);
	free(raw);
}

static void
test_long_header(void **state)
{
	struct buf b = BUF_INIT;
	struct mail m;
	const char *why = NULL;

	buf_puts(&b, "From: Marie <marie@example.fr>\nX-Long: ");
	for (int i = 0; i < 100 * 1024; i++)
		buf_putc(&b, (char)('a' + i % 26));
	buf_puts(&b, "\nSubject: =?UTF-8?Q?=C3=A9t=C3=A9?=\n\nBonjour\n");
	assert_int_equal(ingest_mime_parse(b.data, b.len, &m, &why), 0);
	assert_int_equal(strlen(mail_header(&m, "x-long")), 100 * 1024);
	assert_string_equal(m.subject, "été");
	assert_string_equal(m.text, "Bonjour");
	mail_free(&m);
	buf_free(&b);
}

static void
test_no_header(void **state)
{
	static const char *const bad[] = {
		"", "\n", "\r\n\r\nbody", "Hello world\n\nthis is not mail\n",
		"Subject: x\nno separator, and no header either\n", " folded: x\n\nbody\n",
	};
	struct mail m;
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(ingest_mime_parse(bad[i], strlen(bad[i]), &m, &why), -1);
		assert_string_equal(why, "no header");
		mail_free(&m);
	}
	why = NULL;
	assert_int_equal(ingest_mime_parse(NULL, 0, &m, &why), -1);
	assert_string_equal(why, "no header");
	mail_free(&m);
}

/* Random bytes and random cuts of the fixtures never break the invariants. */
static void
test_garbage(void **state)
{
	size_t n;
	char **names = fixtures(&n);
	unsigned seed = 12345;

	for (size_t i = 0; i < n; i++) {
		char *eml = xasprintf("%s.eml", names[i]);
		size_t len;
		char *raw = slurp(eml, &len);

		for (int k = 0; k < 20 && len > 0; k++) {
			char *copy = xmalloc(len);

			memcpy(copy, raw, len);
			for (int j = 0; j < 8; j++) {
				seed = seed * 1103515245 + 12345;
				copy[(seed >> 8) % len] = (char)(seed >> 16);
			}
			free(parse_render(copy, (seed >> 4) % (len + 1)));
			free(copy);
		}
		free(raw);
		free(eml);
		free(names[i]);
	}
	free(names);
}

static void
test_zeroed_free(void **state)
{
	struct mail m;

	memset(&m, 0, sizeof(m));
	mail_free(&m);
	mail_free(&m);
	mail_free(NULL);
	assert_null(mail_header(&m, "From"));
}

/* How many times a second of CPU one fixture parses (busy machines skew wall time), printed. */
static void
rate(const char *name)
{
	char *path = src_path(name);
	size_t len;
	char *raw = slurp(path, &len);
	struct timespec t0, t1;
	long count = 0;
	double s;

	assert_non_null(raw);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	do {
		for (int i = 0; i < 200; i++) {
			struct mail m;
			const char *why;

			assert_int_equal(ingest_mime_parse(raw, len, &m, &why), 0);
			mail_free(&m);
		}
		count += 200;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	} while (s < 0.3);
	print_message("# parse rate: %.0f msgs/s, %.1f us each (%s, %zu bytes)\n",
	    (double)count / s, s * 1e6 / (double)count, strrchr(name, '/') + 1, len);
	free(raw);
	free(path);
}

/* Typical messages: a plain-text reply, and an HTML-only one (libxml2 does most of that work). */
static void
test_rate(void **state)
{
	rate("tests/fixtures/eml/gmail-alternative-qp.eml");
	rate("tests/fixtures/eml/outlook-desktop-alternative.eml");
	rate("tests/fixtures/eml/owa-html-reply.eml");
}

/* The lookup is case-insensitive and finds the first field; out is written from scratch. */
static void
test_header_lookup(void **state)
{
	static const char raw[] = "Subject: one\r\nX-Tag: a\r\nx-tag: b\r\n"
	    "From: <A@B.EXAMPLE>\r\n\r\nbody\r\n";
	struct mail m;
	const char *why = "untouched";

	memset(&m, 0xa5, sizeof(m));	/* garbage: the parser must not read or free it */
	assert_int_equal(ingest_mime_parse(raw, sizeof(raw) - 1, &m, &why), 0);
	assert_string_equal(why, "untouched");
	assert_string_equal(mail_header(&m, "SUBJECT"), "one");
	assert_string_equal(mail_header(&m, "x-TAG"), "a");
	assert_null(mail_header(&m, "X-Missing"));
	assert_string_equal(m.from_addr, "A@b.example");
	assert_null(m.from_name);
	assert_string_equal(m.text, "body");
	mail_free(&m);
	assert_int_equal(ingest_mime_parse(raw, sizeof(raw) - 1, &m, NULL), 0);
	mail_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_deep_messages),
		cmocka_unit_test(test_at_limits),
		cmocka_unit_test(test_many_parts),
		cmocka_unit_test(test_long_header),
		cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_zeroed_free),
		cmocka_unit_test(test_header_lookup),
		cmocka_unit_test(test_rate),
	};

	return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
