/*
 * intake.c — the group commit. Sessions (LMTP, IMAP, SMS webhooks) queue
 * items and wait; a writer takes everything queued, asks the directory
 * about all of it in one query, classifies, writes it in one transaction and
 * wakes the sessions. A session never hears "stored" before the commit.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/strmap.h"
#include "ingest/decide.h"
#include "ingest/intake.h"
#include "store/polls.h"
#include "store/store.h"

/*
 * One writer: the batch it takes is everything queued while it wrote the
 * last one. Two writers alternating made batches half as large for the
 * same sessions, and each batch costs a lookup, a commit and its fsync:
 * with 20 LMTP sessions one writer took 28 % less PostgreSQL CPU and 10 %
 * less of palierd's per message, and stored 10-20 % more (measured here).
 */
#define NWRITERS	1
#define BATCH_MAX	256
/*
 * Webhooks do not wait for one another (an SMS gateway keeps hundreds in
 * flight): a batch of them alone, if small, waits LINGER_US for more.
 * PostgreSQL's cost is mostly per batch. A session (LMTP, IMAP) waits for
 * its own commit, so a batch holding one of its items never waits.
 */
#define LINGER_US	1000
#define LINGER_ITEMS	64
/*
 * After a failed connection a writer fails its batches at once (451, 503:
 * the sender tries again) for RETRY_MS before trying again: a database
 * that does not answer takes connect_timeout (10 s by default) per try.
 */
#define RETRY_MS	1000
#define SLUGS_TTL	30	/* seconds a slug list is trusted */
#define SLUGS_MISS_TTL	1	/* ...or after a miss, seconds before asking again */

struct intake {
	pthread_mutex_t	 mu;
	pthread_cond_t	 more;		/* items were queued, or stopping */
	struct intake_item **queue;
	size_t		 n, cap;
	int		 stopping;
	pthread_t	 writers[NWRITERS];
	char		*url;
	unsigned char	 key[SECRET_LEN];

	pthread_rwlock_t rules_lock;
	struct rules	*rules;

	pthread_mutex_t	 slugs_mu;	/* the channel slugs, for RCPT */
	struct strmap	*slugs;
	time_t		 slugs_at;
	struct store	*slugs_store;
};

static void
fail_all(struct intake_item **items, size_t n, enum intake_result r)
{
	for (size_t i = 0; i < n; i++)
		items[i]->result = r;
}

/*
 * One ingest_intake_submit() call waiting for its items: a commit wakes
 * only the submitters it has results for, never every session at once.
 * Lives on the submitter's stack; its items point at it.
 */
struct intake_waiter {
	sem_t		 done;		/* posted once, when pending reaches 0 */
	atomic_size_t	 pending;	/* items without a result yet */
};

/*
 * Tells each item's submitter its result is in (results were set before).
 * An item may be freed by its submitter as soon as its waiter's count
 * reaches zero, or its done() is called: nothing of it is touched after
 * that. A semaphore, not a condition variable: the woken submitter does not
 * then wait for a mutex the writer still holds (two system calls more per
 * message).
 */
static void
wake_submitters(struct intake_item **items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct intake_waiter *w = items[i]->waiter;
		void (*done)(void *) = items[i]->done;

		if (done)
			done(items[i]->done_arg);
		else if (atomic_fetch_sub(&w->pending, 1) == 1)
			sem_post(&w->done);
	}
}

/* Writes the batch; on a failure that isn't the database's, item by item. */
static void
write_batch(struct store *s, struct intake_item **items, struct store_inbound *rows, size_t n)
{
	if (n == 0)
		return;
	if (store_inbound_write(s, rows, n) == 0) {
		for (size_t i = 0; i < n; i++)
			decide_finish(items[i], &rows[i]);
		return;
	}
	if (store_down(s) || n == 1) {
		log_error("intake_write_failed", "items=%zu down=%d error=%s", n, store_down(s),
		    log_q(store_error(s)));
		fail_all(items, n, INTAKE_TEMPFAIL);
		return;
	}
	for (size_t i = 0; i < n; i++)
		write_batch(s, &items[i], &rows[i], 1);
}

/* Whether an item may be a vote, and the question to ask the store for it. */
static int
vote_candidate(const struct intake_item *it, struct vote_query *q)
{
	memset(q, 0, sizeof(*q));
	if (it->automatic || it->command)
		return 0;
	if (it->route.kind == ROUTE_VOTE && !it->by_phone) {
		q->resident_id = (long)it->route.a;
		q->poll_id = (long)it->route.b;
		return 1;
	}
	if (it->route.kind == ROUTE_HOME && it->by_phone && it->sender) {
		q->phone = it->sender;
		return 1;
	}
	return 0;
}

/* The vote questions among the items: q[k] is about items[at[k]]; returns k. */
static size_t
vote_queries(struct intake_item **items, size_t n, struct vote_query *q, size_t *at)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&items[i]->vote, 0, sizeof(items[i]->vote));
		if (vote_candidate(items[i], &q[m]))
			at[m++] = i;
	}
	return m;
}

/* Reads the votes among the items: their text against their resident's polls. */
static void
find_votes(struct intake_item **items, struct vote_query *q, const size_t *at, size_t m)
{
	for (size_t k = 0; k < m; k++) {
		struct intake_item *it = items[at[k]];

		if (it->route.kind == ROUTE_VOTE)
			vote_decide_email(it->body, it->subject, q[k].polls, q[k].npolls, &it->vote);
		else
			vote_decide_sms(it->body, q[k].polls, q[k].npolls, &it->vote);
	}
}

/* A writer's connection, and when it may try connecting again. */
struct writer_conn {
	struct store	*s;
	struct timespec	 retry_at;	/* CLOCK_MONOTONIC */
};

/* Connects c and readies it (store_intake_warm); whether it is connected. */
static int
writer_connect(struct intake *in, struct writer_conn *c)
{
	struct timespec now;
	char *err = NULL;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ts_before(&now, &c->retry_at))
		return 0;
	if ((c->s = store_open(in->url, &err)) != NULL && store_intake_warm(c->s) == 0)
		return 1;
	log_error("intake_db_unreachable", "retry_ms=%d error=%s", RETRY_MS,
	    log_q(c->s ? store_error(c->s) : err));
	free(err);
	store_close(c->s);
	c->s = NULL;
	c->retry_at = ts_from_now(CLOCK_MONOTONIC, RETRY_MS);
	return 0;
}

static void
process(struct intake *in, struct writer_conn *c, struct intake_item **items, size_t n)
{
	struct store_who *who = xcalloc(n, sizeof(*who));
	struct store_inbound *rows = xcalloc(n, sizeof(*rows));
	struct decide_scratch *scratch = xcalloc(n, sizeof(*scratch));
	struct intake_item **todo = xcalloc(n, sizeof(*todo));
	struct store_inbound *torows = xcalloc(n, sizeof(*torows));
	struct vote_query *q = xcalloc(n, sizeof(*q));
	size_t *at = xcalloc(n, sizeof(*at)), m = 0, nq;

	if (c->s == NULL && !writer_connect(in, c)) {
		fail_all(items, n, INTAKE_TEMPFAIL);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		decide_who(items[i], &who[i]);
	nq = vote_queries(items, n, q, at);
	if (store_intake_lookup(c->s, who, n, q, nq) < 0) {
		log_error("intake_lookup_failed", "error=%s", log_q(store_error(c->s)));
		fail_all(items, n, INTAKE_TEMPFAIL);
		goto out;
	}
	find_votes(items, q, at, nq);
	pthread_rwlock_rdlock(&in->rules_lock);
	for (size_t i = 0; i < n; i++)
		if (decide_row(items[i], &who[i], in->rules, &rows[i], &scratch[i]) == 0) {
			todo[m] = items[i];
			torows[m++] = rows[i];
		}
	pthread_rwlock_unlock(&in->rules_lock);
	write_batch(c->s, todo, torows, m);
out:
	if (c->s && store_down(c->s)) {
		store_close(c->s);
		c->s = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		store_who_clear(&who[i]);
		decide_scratch_free(&scratch[i]);
		store_vote_query_clear(&q[i]);
	}
	free(q);
	free(at);
	free(who);
	free(rows);
	free(scratch);
	free(todo);
	free(torows);
}

/* Whether every queued item was submitted without waiting (a webhook's); in->mu held. */
static int
all_async(const struct intake *in)
{
	for (size_t i = 0; i < in->n; i++)
		if (in->queue[i]->done == NULL)
			return 0;
	return 1;
}

static void *
writer_main(void *arg)
{
	struct intake *in = arg;
	struct writer_conn c = { NULL, { 0, 0 } };
	struct intake_item *batch[BATCH_MAX];

	/*
	 * Connected and warm before the first batch. Cold, the first batch
	 * after a start took 160 ms (connecting 60, preparing and PostgreSQL
	 * loading the tables 70), while a gateway with SMS queued opened a
	 * connection per SMS waiting, up to its 512, and kept them all.
	 */
	writer_connect(in, &c);
	pthread_mutex_lock(&in->mu);
	for (;;) {
		size_t n;

		while (in->n == 0 && !in->stopping)
			pthread_cond_wait(&in->more, &in->mu);
		if (in->n == 0)
			break;
		if (in->n < LINGER_ITEMS && !in->stopping && all_async(in)) {
			pthread_mutex_unlock(&in->mu);
			usleep(LINGER_US);
			pthread_mutex_lock(&in->mu);
		}
		n = in->n < BATCH_MAX ? in->n : BATCH_MAX;
		memcpy(batch, in->queue, n * sizeof(*batch));
		memmove(in->queue, in->queue + n, (in->n - n) * sizeof(*in->queue));
		in->n -= n;
		pthread_mutex_unlock(&in->mu);
		process(in, &c, batch, n);
		wake_submitters(batch, n);
		pthread_mutex_lock(&in->mu);
	}
	pthread_mutex_unlock(&in->mu);
	store_close(c.s);
	return NULL;
}

struct intake *
ingest_intake_new(const char *url, const unsigned char key[SECRET_LEN])
{
	struct intake *in = xcalloc(1, sizeof(*in));

	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->more, NULL);
	pthread_rwlock_init(&in->rules_lock, NULL);
	pthread_mutex_init(&in->slugs_mu, NULL);
	in->url = xstrdup(url);
	memcpy(in->key, key, SECRET_LEN);
	for (int i = 0; i < NWRITERS; i++)
		if (pthread_create(&in->writers[i], NULL, writer_main, in) != 0)
			fatal("pthread_create", "what=intake_writer");
	return in;
}

void
ingest_intake_free(struct intake *in)
{
	if (in == NULL)
		return;
	pthread_mutex_lock(&in->mu);
	in->stopping = 1;
	pthread_cond_broadcast(&in->more);
	pthread_mutex_unlock(&in->mu);
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(in->writers[i], NULL);
	classify_rules_free(in->rules);
	strmap_free(in->slugs);
	store_close(in->slugs_store);
	free(in->queue);
	free(in->url);
	explicit_bzero(in->key, sizeof(in->key));
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->more);
	pthread_rwlock_destroy(&in->rules_lock);
	pthread_mutex_destroy(&in->slugs_mu);
	free(in);
}

void
ingest_intake_set_rules(struct intake *in, struct rules *rules)
{
	struct rules *old;

	pthread_rwlock_wrlock(&in->rules_lock);
	old = in->rules;
	in->rules = rules;
	pthread_rwlock_unlock(&in->rules_lock);
	classify_rules_free(old);
}

/* Appends items to the queue and wakes the writer. */
static void
enqueue(struct intake *in, struct intake_item **items, size_t n)
{
	pthread_mutex_lock(&in->mu);
	if (in->n + n > in->cap) {
		in->cap = (in->n + n) * 2;
		in->queue = xreallocarray(in->queue, in->cap, sizeof(*in->queue));
	}
	for (size_t i = 0; i < n; i++)
		in->queue[in->n++] = items[i];
	pthread_cond_signal(&in->more);
	pthread_mutex_unlock(&in->mu);
}

void
ingest_intake_submit(struct intake *in, struct intake_item **items, size_t n)
{
	struct intake_waiter w;

	if (n == 0)
		return;
	atomic_init(&w.pending, n);
	sem_init(&w.done, 0, 0);
	for (size_t i = 0; i < n; i++) {
		items[i]->result = INTAKE_PENDING;
		items[i]->waiter = &w;
		items[i]->done = NULL;
	}
	enqueue(in, items, n);
	while (sem_wait(&w.done) < 0)
		;	/* EINTR */
	sem_destroy(&w.done);
}

void
ingest_intake_submit_async(struct intake *in, struct intake_item *it, void (*done)(void *), void *arg)
{
	it->result = INTAKE_PENDING;
	it->waiter = NULL;
	it->done = done;
	it->done_arg = arg;
	enqueue(in, &it, 1);
}

static void
slug_add(void *arg, const char *slug)
{
	strmap_put(arg, slug, 1);
}

/* Refreshes the slug list; the caller holds slugs_mu. */
static int
slugs_refresh(struct intake *in)
{
	struct strmap *m = strmap_new();
	char *err = NULL;

	if (in->slugs_store == NULL && (in->slugs_store = store_open(in->url, &err)) == NULL) {
		free(err);
		strmap_free(m);
		return -1;
	}
	if (store_channel_slugs(in->slugs_store, slug_add, m) < 0) {
		store_close(in->slugs_store);
		in->slugs_store = NULL;
		strmap_free(m);
		return -1;
	}
	strmap_free(in->slugs);
	in->slugs = m;
	in->slugs_at = time(NULL);
	return 0;
}

int
ingest_intake_channel_known(struct intake *in, const char *slug)
{
	long v;
	int known = -1;
	time_t now = time(NULL);

	pthread_mutex_lock(&in->slugs_mu);
	if (in->slugs && now - in->slugs_at < SLUGS_TTL && strmap_get(in->slugs, slug, &v))
		known = 1;
	else if (in->slugs && now - in->slugs_at < SLUGS_MISS_TTL)
		known = 0;
	else if (slugs_refresh(in) == 0)
		known = strmap_get(in->slugs, slug, &v);
	pthread_mutex_unlock(&in->slugs_mu);
	return known;
}
