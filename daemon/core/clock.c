/*
 * clock.c — timespec arithmetic for deadlines and timed waits.
 */
#include "core/clock.h"

void
ts_add_ms(struct timespec *t, long ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

struct timespec
ts_from_now(clockid_t c, long ms)
{
	struct timespec t;

	clock_gettime(c, &t);
	ts_add_ms(&t, ms);
	return t;
}
