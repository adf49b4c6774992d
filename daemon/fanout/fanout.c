/*
 * fanout.c — the fan-out thread: as soon as a post is published (what
 * publishes one notifies the fan-out), else every half second, turns
 * published posts into outgoing messages, a batch of posts per
 * transaction; closes polls whose time is up and builds the digests that
 * are due. Never sends anything itself: the deliver role does.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/calendar.h"
#include "core/clock.h"
#include "core/log.h"
#include "fanout/fanout.h"
#include "store/polls.h"
#include "store/store.h"

#define FANOUT_BATCH	20
/*
 * Buildings per post and transaction (some 4,000 residents here): delivery
 * starts once the first chunk is committed, not after the whole scope.
 */
#define FANOUT_CHUNK	100
#define IDLE_MS		500
#define RETRY_MS	2000
#define POLL_CHECK_S	2

struct fanout {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 stopping;
	int		 wake[2];	/* a byte in [1]: stop waiting on the database */
	char		*url;
	const struct config *cfg;
	void		(*queued)(void *);
	void		*queued_arg;
	time_t		 next_digest_check;
	time_t		 next_poll_check;
};

/*
 * Waits ms, or until a post is published (with a connection: it listens),
 * or until stopped; 1 if stopping. A connection that failed while waiting
 * is seen by the next statement.
 */
static int
pause_ms(struct fanout *f, struct store *s, int ms)
{
	struct timespec ts;
	int stop;

	if (s && ms > 0) {
		(void)store_await(s, ms, f->wake[0]);
		ms = 0;
	}
	ts = ts_from_now(CLOCK_REALTIME, ms);
	pthread_mutex_lock(&f->mu);
	if (!f->stopping && ms > 0)
		pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	stop = f->stopping;
	pthread_mutex_unlock(&f->mu);
	return stop;
}

const char *
fanout_digest_due(const struct config *cfg, time_t now, const char *frequency, char *period, size_t size)
{
	struct tm tm;

	paris_time(now, &tm, NULL);
	if (tm.tm_hour * 60 + tm.tm_min < cfg->digest_daily_at)
		return NULL;
	if (strcmp(frequency, "daily") == 0) {
		strftime(period, size, "%Y-%m-%d", &tm);
		return period;
	}
	if (tm.tm_wday != cfg->digest_weekly_on)
		return NULL;
	strftime(period, size, "%G-W%V", &tm);
	return period;
}

/* Once a minute: builds the daily and weekly digests that are due. */
static void
digests(struct fanout *f, struct store *s)
{
	static const char *const freqs[] = { "daily", "weekly" };
	time_t now = time(NULL);

	if (now < f->next_digest_check)
		return;
	f->next_digest_check = now + 60;
	for (int i = 0; i < 2; i++) {
		char period[32];
		struct digest_stats st;

		if (fanout_digest_due(f->cfg, now, freqs[i], period, sizeof(period)) &&
		    store_digest_run(s, freqs[i], period, 0, &st) < 0)
			log_error("digest_failed", "frequency=%s error=%s", freqs[i],
			    log_q(store_error(s)));
	}
}

/*
 * Every few seconds: opens the polls publishers confirmed by email, closes
 * those whose time is up and queues their results.
 */
static void
polls(struct fanout *f, struct store *s)
{
	time_t now = time(NULL);
	long closed, opened;

	if (now < f->next_poll_check)
		return;
	f->next_poll_check = now + POLL_CHECK_S;
	if (store_poll_open_confirmed(s, &opened) < 0)
		log_error("poll_open_failed", "error=%s", log_q(store_error(s)));
	if (store_poll_close(s, 0, &closed) < 0)
		log_error("poll_close_failed", "error=%s", log_q(store_error(s)));
}

static void *
fanout_main(void *arg)
{
	struct fanout *f = arg;
	struct store *s = NULL;
	int wait = 0;

	while (!pause_ms(f, s, wait)) {
		struct store_fanout_stats st;
		long held, notices;
		char *err = NULL;

		if (s == NULL) {
			if ((s = store_open(f->url, &err)) == NULL) {
				log_warn("fanout_db_unreachable", "error=%s", log_q(err));
				free(err);
				wait = RETRY_MS;
				continue;
			}
			if (store_listen_fanout(s) < 0)	/* then it looks every IDLE_MS only */
				log_warn("fanout_listen_failed", "error=%s", log_q(store_error(s)));
		}
		if (store_fanout_posts(s, FANOUT_BATCH, FANOUT_CHUNK, &st) < 0) {
			log_error("fanout_failed", "error=%s", log_q(store_error(s)));
			if (store_down(s)) {
				store_close(s);
				s = NULL;
			}
			wait = RETRY_MS;
			continue;
		}
		wait = st.posts + st.unfinished == FANOUT_BATCH || st.unfinished ? 0 : IDLE_MS;
		if ((st.emails || st.sms) && f->queued)
			f->queued(f->queued_arg);
		if (store_fanout_moderation(s, FANOUT_BATCH, &held, &notices) < 0)
			log_error("moderation_notices_failed", "error=%s", log_q(store_error(s)));
		if (st.posts == 0 && st.unfinished == 0) {
			polls(f, s);
			digests(f, s);
		}
	}
	store_close(s);
	return NULL;
}

struct fanout *
fanout_start(const char *url, const struct config *cfg, void (*queued)(void *), void *arg)
{
	struct fanout *f = xcalloc(1, sizeof(*f));

	f->cfg = cfg;
	f->queued = queued;
	f->queued_arg = arg;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		fatal("pipe2", "what=fanout");
	f->url = xstrdup(url);
	if (pthread_create(&f->thread, NULL, fanout_main, f) != 0)
		fatal("pthread_create", "what=fanout");
	return f;
}

void
fanout_stop(struct fanout *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stopping = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	(void)!write(f->wake[1], "", 1);
	pthread_join(f->thread, NULL);
	close(f->wake[0]);
	close(f->wake[1]);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f->url);
	free(f);
}
