/*
 * test_buf.c — unit tests for core/buf.c: appending, formatted growth past
 * the first 64 bytes, taking and resetting, and a zeroed struct as a valid
 * empty buffer. Owns only the buffers it makes; frees every one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* The invariants every buffer keeps once it holds storage. */
static void
check_shape(const struct buf *b)
{
	assert_non_null(b->data);
	assert_true(b->cap > b->len);
	assert_int_equal(b->data[b->len], '\0');
}

static void
test_zeroed_is_empty(void **state)
{
	struct buf b;
	struct buf init = BUF_INIT;
	char *s;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_string_equal(buf_cstr(&b), "");
	assert_string_equal(buf_cstr(&init), "");
	buf_reset(&b);				/* no storage yet: must not write */
	assert_null(b.data);
	buf_free(&b);				/* no storage: nothing to free */
	buf_free(&b);				/* and twice is harmless */
	assert_null(b.data);
	assert_int_equal(b.len, 0);

	s = buf_take(&init);			/* an empty buffer gives "" */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_null(init.data);
}

static void
test_append(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_append(&b, "abc", 3);
	check_shape(&b);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	buf_append(&b, "defgh", 2);		/* only n bytes are taken */
	assert_int_equal(b.len, 5);
	assert_string_equal(buf_cstr(&b), "abcde");
	buf_puts(&b, "-xyz");
	buf_putc(&b, '!');
	assert_int_equal(b.len, 10);
	assert_string_equal(buf_cstr(&b), "abcde-xyz!");
	buf_append(&b, "", 0);			/* nothing added, still terminated */
	assert_int_equal(b.len, 10);
	check_shape(&b);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
}

static void
test_append_zero_on_empty(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_append(&b, "", 0);
	check_shape(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_free(&b);
}

static void
test_append_large(void **state)
{
	struct buf b = BUF_INIT;
	char chunk[1000];

	(void)state;
	memset(chunk, 'q', sizeof(chunk));
	for (int i = 0; i < 100; i++) {
		buf_append(&b, chunk, sizeof(chunk));
		check_shape(&b);
	}
	assert_int_equal(b.len, 100000);
	assert_int_equal(strlen(b.data), 100000);
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] != 'q')
			fail_msg("byte %zu is %d", i, b.data[i]);
	buf_free(&b);
}

static void
test_embedded_nul(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_append(&b, "a\0b", 3);
	buf_append(&b, "\0", 1);
	buf_putc(&b, '\0');
	buf_puts(&b, "c");
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "a\0b\0\0c\0", 7);
	assert_string_equal(buf_cstr(&b), "a");	/* a C string stops at the NUL */
	buf_free(&b);
}

static void
test_printf_small(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_printf(&b, "%s=%d", "n", 42);
	check_shape(&b);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "n=42");
	buf_printf(&b, "%s", "");
	assert_int_equal(b.len, 4);
	buf_printf(&b, " %05.1f|%-3s|%x", 3.14159, "a", 255);
	assert_string_equal(b.data, "n=42 003.1|a  |ff");
	assert_int_equal(b.len, strlen("n=42 003.1|a  |ff"));
	buf_free(&b);
}

static void
test_printf_empty_first(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_printf(&b, "%s", "");
	check_shape(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_free(&b);
}

/*
 * Formatted output of every length around the growth points, appended after
 * every prefix length around them: the second vsnprintf path must be exact.
 */
static void
test_printf_growth(void **state)
{
	static const size_t lens[] = {
		0, 1, 62, 63, 64, 65, 66, 126, 127, 128, 129, 255, 256, 257, 1000, 5000
	};
	static const size_t pre[] = { 0, 1, 10, 62, 63, 64, 65, 127, 128, 200 };
	char *text = malloc(5001), *prefix = malloc(201);

	(void)state;
	assert_non_null(text);
	assert_non_null(prefix);
	for (size_t i = 0; i < 5000; i++)
		text[i] = (char)('a' + i % 26);
	text[5000] = '\0';
	memset(prefix, '#', 200);
	prefix[200] = '\0';
	for (size_t p = 0; p < sizeof(pre) / sizeof(pre[0]); p++) {
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct buf b = BUF_INIT;

			buf_append(&b, prefix, pre[p]);
			buf_printf(&b, "%.*s", (int)lens[l], text);
			check_shape(&b);
			if (b.len != pre[p] + lens[l])
				fail_msg("prefix %zu + %zu bytes gave len %zu", pre[p],
				    lens[l], b.len);
			assert_memory_equal(b.data, prefix, pre[p]);
			assert_memory_equal(b.data + pre[p], text, lens[l]);
			assert_int_equal(strlen(b.data), b.len);
			buf_free(&b);
		}
	}
	free(text);
	free(prefix);
}

static void
test_printf_many_calls(void **state)
{
	struct buf b = BUF_INIT;
	char *want = malloc(200000), *w;

	(void)state;
	assert_non_null(want);
	w = want;
	for (int i = 0; i < 10000; i++) {
		buf_printf(&b, "%d:%s,", i, i % 7 ? "x" : "seven");
		w += sprintf(w, "%d:%s,", i, i % 7 ? "x" : "seven");
	}
	check_shape(&b);
	assert_int_equal(b.len, (size_t)(w - want));
	assert_string_equal(b.data, want);
	buf_free(&b);
	free(want);
}

static void
test_take(void **state)
{
	struct buf b = BUF_INIT;
	char *s;

	(void)state;
	buf_puts(&b, "hello");
	s = buf_take(&b);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_string_equal(buf_cstr(&b), "");
	/* The emptied buffer is usable again and independent of s. */
	buf_puts(&b, "world");
	assert_string_equal(buf_cstr(&b), "world");
	assert_string_equal(s, "hello");
	free(s);
	buf_free(&b);
}

static void
test_reset(void **state)
{
	struct buf b = BUF_INIT;
	size_t cap;

	(void)state;
	buf_printf(&b, "%0100d", 7);
	cap = b.cap;
	assert_int_equal(b.len, 100);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, cap);		/* storage is kept */
	assert_non_null(b.data);
	assert_string_equal(buf_cstr(&b), "");
	buf_puts(&b, "again");
	assert_int_equal(b.len, 5);
	assert_string_equal(buf_cstr(&b), "again");
	buf_reset(&b);
	buf_printf(&b, "%s-%s", "x", "y");
	assert_string_equal(buf_cstr(&b), "x-y");
	buf_free(&b);
}

static void
test_grow(void **state)
{
	struct buf b = BUF_INIT;
	size_t cap;

	(void)state;
	buf_grow(&b, 1000);
	assert_non_null(b.data);
	assert_true(b.cap >= 1001);
	assert_int_equal(b.len, 0);
	cap = b.cap;
	buf_grow(&b, 10);			/* enough room: no change */
	assert_int_equal(b.cap, cap);
	buf_append(&b, "abc", 3);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "abc");
	buf_free(&b);
}

/*
 * buf.h promises a buffer that is always NUL-terminated and buf_cstr ""
 * for an empty one. M_PERTURB makes fresh heap bytes non-zero, so the
 * result does not depend on what the allocator happened to leave there
 * (ASan fills fresh blocks with 0xbe on its own).
 */
static void
test_grow_keeps_terminated(void **state)
{
	struct buf b = BUF_INIT;
	char *s;
	int first, taken;

	(void)state;
	mallopt(M_PERTURB, 0x5a);
	buf_grow(&b, 5000);		/* past glibc's tcache: always perturbed */
	first = (unsigned char)buf_cstr(&b)[0];
	s = buf_take(&b);
	taken = (unsigned char)s[0];
	free(s);
	mallopt(M_PERTURB, 0);
	assert_int_equal(first, '\0');		/* buf_cstr of an empty buffer */
	assert_int_equal(taken, '\0');		/* buf_take of an empty buffer */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zeroed_is_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_append_zero_on_empty),
		cmocka_unit_test(test_append_large),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_printf_small),
		cmocka_unit_test(test_printf_empty_first),
		cmocka_unit_test(test_printf_growth),
		cmocka_unit_test(test_printf_many_calls),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_grow_keeps_terminated),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
