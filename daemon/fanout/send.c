/*
 * send.c — the deliver role's workers. Each claims a batch of outgoing
 * messages under a lease, renders each for its resident (templates, its
 * own tokens in Reply-To and the VERP return path, List-Unsubscribe),
 * hands the batch to its backend, and records every result in one
 * statement. A worker that dies leaves its lease to expire: at least once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/calendar.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/token.h"
#include "deliver/compose.h"
#include "deliver/sms_text.h"
#include "fanout/render.h"
#include "fanout/send.h"
#include "store/store.h"

#define BATCH		200
#define EAGER_BATCH	100	/* for backends that take their batch rendered */
#define LEASE_S		300
#define CLAIM_AHEAD_S	10	/* SMS: seconds of sending claimed ahead, at most */
#define IDLE_MS		250
#define RETRY_MS	2000

struct sender {
	struct sender_opts	 o;
	pthread_t		*threads;
	int			 nthreads;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 stopping;
};

static int
pause_ms(struct sender *s, int ms)
{
	struct timespec ts = ts_from_now(CLOCK_REALTIME, ms);
	int stop;

	pthread_mutex_lock(&s->mu);
	if (!s->stopping && ms > 0)
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	stop = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static enum store_out_result
result_of(enum deliver_result r)
{
	switch (r) {
	case DELIVER_OK: return OUT_SENT;
	case DELIVER_PERM: return OUT_PERMFAIL;
	default: return OUT_TEMPFAIL;
	}
}

/* A message rendered as its backend reaches it (outmsg load and unload). */
struct lazy {
	const struct sender_opts *o;
	struct store_out	*msg;
	struct rendered		 r;
};

static int
lazy_load(struct outmsg *m)
{
	struct lazy *l = m->ctx;

	if (render_message(l->o, l->msg, &l->r) < 0) {
		m->result = DELIVER_PERM;
		snprintf(m->error, sizeof(m->error), "%s", l->r.error ? l->r.error : "cannot render");
		rendered_clear(&l->r);
		return -1;
	}
	m->envelope_from = l->r.envelope_from;
	m->data = l->r.data.data;
	m->len = l->r.data.len;
	l->msg->segments = l->r.segments;
	return 0;
}

static void
lazy_unload(struct outmsg *m)
{
	struct lazy *l = m->ctx;

	rendered_clear(&l->r);
	m->envelope_from = NULL;
	m->data = NULL;
	m->len = 0;
}

/*
 * Renders (all at once, or one by one as a lazy backend sends them),
 * sends and records one claimed batch.
 */
static void
send_batch(struct sender *s, struct store *st, struct deliver_backend *be,
    struct store_out *msgs, size_t n)
{
	struct outmsg *out = xcalloc(n, sizeof(*out));
	struct lazy *lz = xcalloc(n, sizeof(*lz));
	size_t m = 0, sent = 0;
	size_t *map = xcalloc(n, sizeof(*map));

	for (size_t i = 0; i < n; i++) {
		struct lazy *l = &lz[i];

		if (msgs[i].cancelled)
			continue;	/* recorded as cancelled by the claim */
		l->o = &s->o;
		l->msg = &msgs[i];
		out[m] = (struct outmsg){ .id = msgs[i].id, .recipient = msgs[i].recipient,
		    .result = DELIVER_PENDING, .ctx = l };
		if (be->lazy) {
			out[m].load = lazy_load;
			out[m].unload = lazy_unload;
		} else if (lazy_load(&out[m]) < 0) {
			msgs[i].result = OUT_PERMFAIL;
			msgs[i].error = xstrdup(out[m].error);
			continue;
		}
		map[m++] = i;
	}
	if (m > 0)
		be->send(be, out, m);
	for (size_t k = 0; k < m; k++) {
		struct store_out *msg = &msgs[map[k]];

		msg->result = result_of(out[k].result);
		sent += msg->result == OUT_SENT;
		if (out[k].error[0])
			msg->error = xstrdup(out[k].error);
		if (out[k].gateway_id[0])
			msg->gateway_id = xstrdup(out[k].gateway_id);
	}
	if (store_outgoing_done(st, msgs, n) < 0)
		log_error("send_record_failed", "error=%s", log_q(store_error(st)));
	log_info("sent", "kind=%s backend=%s messages=%zu ok=%zu", s->o.kind, be->name, m, sent);
	for (size_t i = 0; i < n; i++)
		rendered_clear(&lz[i].r);
	free(lz);
	free(out);
	free(map);
}

/*
 * How many messages a worker claims at once. SMS then wait in the gateway
 * for the rate's tokens, every worker's batch after the others': all
 * workers together hold at most CLAIM_AHEAD_S seconds of sending at the
 * contract rate, well within the lease (it can't expire on a message
 * still waiting: it would go twice), and a STOP still cancels what was
 * queued before it within seconds. A backend that needs its whole batch
 * rendered before it starts (libesmtp adds every message to its session
 * first) gets smaller batches: each worker then holds EAGER_BATCH rendered
 * messages, not BATCH (a bulletin's, text, HTML and quoted-printable, is
 * some 30 KB).
 */
static int
claim_limit(const struct sender *s, const struct deliver_backend *be)
{
	long long fits;

	if (strcmp(s->o.kind, "sms") != 0)
		return be && !be->lazy ? EAGER_BATCH : BATCH;
	fits = s->o.cfg->sms_rate * CLAIM_AHEAD_S / s->nthreads;
	return fits >= BATCH ? BATCH : fits > 1 ? (int)fits : 1;
}

static void *
worker_main(void *arg)
{
	struct sender *s = arg;
	struct store *st = NULL;
	struct deliver_backend *be = NULL;
	int wait = 0;

	while (!pause_ms(s, wait)) {
		struct store_batch b;
		int limit;
		char *err = NULL;
		int quiet = strcmp(s->o.kind, "sms") == 0 &&
		    paris_quiet(time(NULL), &s->o.cfg->sms_quiet_hours);

		if ((st == NULL && (st = store_open(s->o.url, &err)) == NULL) ||
		    (be == NULL && (be = s->o.backend_new(s->o.cfg, &err)) == NULL)) {
			log_warn("send_not_ready", "kind=%s error=%s", s->o.kind, log_q(err));
			free(err);
			wait = RETRY_MS;
			continue;
		}
		limit = claim_limit(s, be);
		if (store_outgoing_claim(st, s->o.kind, limit, LEASE_S, quiet, &b) < 0) {
			log_error("send_claim_failed", "error=%s", log_q(store_error(st)));
			if (store_down(st)) {
				store_close(st);
				st = NULL;
			}
			wait = RETRY_MS;
			continue;
		}
		if (b.n > 0)
			send_batch(s, st, be, b.msgs, b.n);
		wait = b.n == (size_t)limit ? 0 : IDLE_MS;
		store_batch_clear(&b);
	}
	deliver_backend_free(be);
	store_close(st);
	render_thread_end();
	return NULL;
}

struct sender *
sender_start(const struct sender_opts *o, char **err)
{
	struct sender *s = xcalloc(1, sizeof(*s));

	s->o = *o;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->nthreads = o->workers > 0 ? o->workers : 1;
	s->threads = xcalloc((size_t)s->nthreads, sizeof(*s->threads));
	for (int i = 0; i < s->nthreads; i++)
		if (pthread_create(&s->threads[i], NULL, worker_main, s) != 0) {
			*err = xstrdup("cannot start a delivery thread");
			s->nthreads = i;
			sender_stop(s);
			return NULL;
		}
	return s;
}

void
sender_stop(struct sender *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->threads);
	free(s);
}

void
sender_kick(struct sender *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}
