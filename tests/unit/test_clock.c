/*
 * test_clock.c — unit tests for core/clock.c: adding milliseconds carries
 * into seconds, comparisons, and a deadline from now.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/clock.h"

static void
test_add(void **state)
{
	struct timespec t = { 10, 999000000L };

	(void)state;
	ts_add_ms(&t, 1);
	assert_int_equal(t.tv_sec, 11);
	assert_int_equal(t.tv_nsec, 0);
	ts_add_ms(&t, 2500);
	assert_int_equal(t.tv_sec, 13);
	assert_int_equal(t.tv_nsec, 500000000L);
	ts_add_ms(&t, 999);
	assert_int_equal(t.tv_sec, 14);
	assert_int_equal(t.tv_nsec, 499000000L);
	ts_add_ms(&t, 0);
	assert_int_equal(t.tv_sec, 14);
	assert_int_equal(t.tv_nsec, 499000000L);
}

static void
test_before(void **state)
{
	struct timespec a = { 5, 100 }, b = { 5, 200 }, c = { 6, 0 };

	(void)state;
	assert_true(ts_before(&a, &b));
	assert_true(ts_before(&b, &c));
	assert_false(ts_before(&b, &a));
	assert_false(ts_before(&a, &a));
	assert_false(ts_before(&c, &a));
}

static void
test_from_now(void **state)
{
	struct timespec now, later;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &now);
	later = ts_from_now(CLOCK_MONOTONIC, 60000);
	assert_true(ts_before(&now, &later));
	ts_add_ms(&now, 59000);
	assert_true(ts_before(&now, &later));
	ts_add_ms(&now, 3600000);
	assert_false(ts_before(&now, &later));
	assert_true(later.tv_nsec >= 0 && later.tv_nsec < 1000000000L);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_before),
		cmocka_unit_test(test_from_now),
	};

	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
