/*
 * test_strmap.c — unit tests for core/strmap.c: put, get, replace, growth
 * to 100000 keys, missing and empty keys, and keys copied on put.
 * Owns only the maps it makes; frees every one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/strmap.h"

static void
test_new_free(void **state)
{
	struct strmap *m = strmap_new();
	long v = 99;

	(void)state;
	assert_non_null(m);
	assert_int_equal(strmap_count(m), 0);
	assert_int_equal(strmap_get(m, "anything", &v), 0);
	assert_int_equal(v, 99);
	strmap_free(m);
	strmap_free(NULL);
}

static void
test_put_get_replace(void **state)
{
	struct strmap *m = strmap_new();
	long v = 0;

	(void)state;
	strmap_put(m, "lyon", 1);
	strmap_put(m, "paris", 2);
	strmap_put(m, "sète", 3);
	assert_int_equal(strmap_count(m), 3);
	assert_int_equal(strmap_get(m, "lyon", &v), 1);
	assert_int_equal(v, 1);
	assert_int_equal(strmap_get(m, "paris", &v), 1);
	assert_int_equal(v, 2);
	assert_int_equal(strmap_get(m, "sète", &v), 1);
	assert_int_equal(v, 3);

	strmap_put(m, "paris", 20);		/* replace: same count, new value */
	assert_int_equal(strmap_count(m), 3);
	assert_int_equal(strmap_get(m, "paris", &v), 1);
	assert_int_equal(v, 20);
	assert_int_equal(strmap_get(m, "lyon", &v), 1);
	assert_int_equal(v, 1);
	strmap_free(m);
}

static void
test_missing(void **state)
{
	struct strmap *m = strmap_new();
	long v = -7;

	(void)state;
	strmap_put(m, "abc", 1);
	assert_int_equal(strmap_get(m, "ab", &v), 0);
	assert_int_equal(strmap_get(m, "abcd", &v), 0);
	assert_int_equal(strmap_get(m, "ABC", &v), 0);	/* keys are exact */
	assert_int_equal(strmap_get(m, "", &v), 0);
	assert_int_equal(v, -7);			/* untouched when absent */
	strmap_free(m);
}

static void
test_empty_key(void **state)
{
	struct strmap *m = strmap_new();
	long v = 0;

	(void)state;
	strmap_put(m, "", 5);
	assert_int_equal(strmap_count(m), 1);
	assert_int_equal(strmap_get(m, "", &v), 1);
	assert_int_equal(v, 5);
	strmap_put(m, "", 6);
	assert_int_equal(strmap_count(m), 1);
	assert_int_equal(strmap_get(m, "", &v), 1);
	assert_int_equal(v, 6);
	assert_int_equal(strmap_get(m, "x", &v), 0);
	strmap_free(m);
}

static void
test_extreme_values(void **state)
{
	struct strmap *m = strmap_new();
	long v = 0;

	(void)state;
	strmap_put(m, "min", LONG_MIN);
	strmap_put(m, "max", LONG_MAX);
	strmap_put(m, "zero", 0);
	strmap_put(m, "neg", -1);
	assert_true(strmap_get(m, "min", &v));
	assert_true(v == LONG_MIN);
	assert_true(strmap_get(m, "max", &v));
	assert_true(v == LONG_MAX);
	assert_true(strmap_get(m, "zero", &v));
	assert_int_equal(v, 0);
	assert_true(strmap_get(m, "neg", &v));
	assert_int_equal(v, -1);
	strmap_free(m);
}

static void
test_keys_copied(void **state)
{
	struct strmap *m = strmap_new();
	char key[16];
	long v = 0;

	(void)state;
	strcpy(key, "building");
	strmap_put(m, key, 42);
	memset(key, 'Z', sizeof(key) - 1);	/* the map holds its own copy */
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(strmap_get(m, "building", &v), 1);
	assert_int_equal(v, 42);
	assert_int_equal(strmap_get(m, key, &v), 0);
	strmap_free(m);
}

/* Keys with the separator the roster uses between its parts. */
static void
test_binary_like_keys(void **state)
{
	struct strmap *m = strmap_new();
	long v = 0;

	(void)state;
	strmap_put(m, "1\x1f" "3b\x1f" "marie dupont", 2);
	strmap_put(m, "1\x1f" "3b\x1f" "marie", 3);
	strmap_put(m, "\xc3\xa9t\xc3\xa9", 4);
	assert_int_equal(strmap_count(m), 3);
	assert_true(strmap_get(m, "1\x1f" "3b\x1f" "marie dupont", &v));
	assert_int_equal(v, 2);
	assert_true(strmap_get(m, "1\x1f" "3b\x1f" "marie", &v));
	assert_int_equal(v, 3);
	assert_true(strmap_get(m, "été", &v));
	assert_int_equal(v, 4);
	strmap_free(m);
}

static void
test_many_keys(void **state)
{
	enum { N = 100000 };
	struct strmap *m = strmap_new();
	char key[32];
	long v;

	(void)state;
	for (long i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key-%ld", i);
		strmap_put(m, key, i);
	}
	assert_int_equal(strmap_count(m), N);
	for (long i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key-%ld", i);
		v = -1;
		if (!strmap_get(m, key, &v) || v != i)
			fail_msg("%s: got %ld", key, v);
	}
	/* Replace every other one; the count stays. */
	for (long i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "key-%ld", i);
		strmap_put(m, key, -i);
	}
	assert_int_equal(strmap_count(m), N);
	for (long i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key-%ld", i);
		v = 0;
		assert_true(strmap_get(m, key, &v));
		if (v != (i % 2 ? i : -i))
			fail_msg("%s: got %ld after replace", key, v);
	}
	/* Keys never put, including near misses. */
	for (long i = N; i < N + 1000; i++) {
		snprintf(key, sizeof(key), "key-%ld", i);
		assert_int_equal(strmap_get(m, key, &v), 0);
	}
	assert_int_equal(strmap_get(m, "key-", &v), 0);
	assert_int_equal(strmap_get(m, "key-01", &v), 0);
	assert_int_equal(strmap_get(m, "", &v), 0);
	strmap_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_empty_key),
		cmocka_unit_test(test_extreme_values),
		cmocka_unit_test(test_keys_copied),
		cmocka_unit_test(test_binary_like_keys),
		cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests_name("strmap", tests, NULL, NULL);
}
