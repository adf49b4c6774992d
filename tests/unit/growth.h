/*
 * growth.h — how unit tests check that hostile input costs linear time.
 *
 * A test never fails because the machine is slow or busy: speed is what
 * `make bench` measures. What a unit test can check on any machine is the
 * shape of the cost: the same input sixteen times larger must cost about
 * sixteen times more CPU, not 256 times (quadratic) or forever. The best of
 * a few rounds removes most of what the neighbours do; CPU time of the
 * calling thread removes the rest of the load.
 *
 * Include after <cmocka.h>.
 */
#ifndef PALIER_TESTS_GROWTH_H
#define PALIER_TESTS_GROWTH_H

#include <stdio.h>
#include <time.h>

#define GROWTH_ROUNDS	3
#define GROWTH_FACTOR	16	/* the big input is this many times the small one */
#define GROWTH_LIMIT	64.0	/* linear is 16, quadratic 256 */
#define GROWTH_SLACK_MS	25.0	/* what a timer tick or a page fault adds */

/* CPU time of the calling thread, in milliseconds. */
static inline double
growth_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The cheapest of GROWTH_ROUNDS calls of fn(arg), in milliseconds of CPU. */
static inline double
growth_best_ms(void (*fn)(void *), void *arg)
{
	double best = 1e12;

	for (int i = 0; i < GROWTH_ROUNDS; i++) {
		double t0 = growth_cpu_ms(), ms;

		fn(arg);
		ms = growth_cpu_ms() - t0;
		best = ms < best ? ms : best;
	}
	return best;
}

/*
 * Fails the test unless the big run cost at most GROWTH_LIMIT times the
 * small one (plus a little slack for very short runs).
 */
static inline void
growth_assert_linear(const char *what, double small_ms, double big_ms)
{
	printf("# %s: %.2f ms, %d times larger: %.2f ms CPU\n", what, small_ms,
	    GROWTH_FACTOR, big_ms);
	if (big_ms > small_ms * GROWTH_LIMIT + GROWTH_SLACK_MS)
		fail_msg("%s grows faster than its input: %.2f ms, then %.2f ms for %d times more",
		    what, small_ms, big_ms, GROWTH_FACTOR);
}

#endif
