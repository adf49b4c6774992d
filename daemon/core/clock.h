/*
 * clock.h — timespec arithmetic for deadlines and timed waits.
 */
#ifndef PALIER_CORE_CLOCK_H
#define PALIER_CORE_CLOCK_H

#include <time.h>

/* Moves t ms milliseconds later (ms >= 0), nanoseconds kept below a second. */
void ts_add_ms(struct timespec *t, long ms);
/* Whether a is before b. */
int ts_before(const struct timespec *a, const struct timespec *b);
/* Clock c's time ms milliseconds from now: a deadline (CLOCK_REALTIME for pthread_cond_timedwait). */
struct timespec ts_from_now(clockid_t c, long ms);

#endif
