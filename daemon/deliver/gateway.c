/*
 * gateway.c — SMS out through HTTP gateways with libcurl's multi
 * interface: many requests in flight over kept-alive connections. Kannel's
 * sendsms (GET, UTF-8 or UCS-2 chosen per message, a delivery report URL
 * naming our message) or a Twilio-compatible REST API (form POST, basic
 * auth). A token bucket shared by all workers holds the contract rate.
 * A request that timed out may have been accepted: it is not sent again
 * blindly; its delivery report settles it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "deliver/deliver.h"
#include "deliver/gateway.h"
#include "deliver/sms_text.h"

/*
 * Requests in flight, all workers together. Each sendsms request waits
 * some 20 ms in Kannel (smsbox asks bearerbox, which stores the message):
 * the rate comes from requests in flight. Measured against Kannel here, 64
 * sends ~1.3x what 32 does (the benchmark's ceiling, wrk, uses 64 too).
 */
#define IN_FLIGHT	64
/*
 * ...reached gradually: at first no more than this many at once, one more
 * with every answer. Kannel's sendsms listens with a backlog of 10: a burst
 * of connects beyond it loses SYNs, and each lost one costs a second.
 */
#define IN_FLIGHT_START	8
#define TIMEOUT_S	30

struct gateway {
	struct deliver_backend	 b;
	int			 twilio;
	char			*url, *user, *password, *sender, *dlr_url;
};

/* ---- the token bucket: one per process, shared by every worker ---- */

static pthread_mutex_t bucket_mu = PTHREAD_MUTEX_INITIALIZER;
static double bucket_tokens, bucket_rate = 50, bucket_last;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
deliver_gateway_rate(double per_second)
{
	pthread_mutex_lock(&bucket_mu);
	bucket_rate = per_second;
	pthread_mutex_unlock(&bucket_mu);
}

/* Takes one token and returns 0, or returns the seconds until there is one. */
static double
bucket_try(void)
{
	double t = now_s(), wait = 0;

	pthread_mutex_lock(&bucket_mu);
	bucket_tokens += (t - bucket_last) * bucket_rate;
	if (bucket_tokens > bucket_rate)
		bucket_tokens = bucket_rate;	/* at most a second's burst */
	bucket_last = t;
	if (bucket_tokens >= 1)
		bucket_tokens -= 1;
	else
		wait = (1 - bucket_tokens) / bucket_rate;
	pthread_mutex_unlock(&bucket_mu);
	return wait;
}

/* ---- requests ---- */

/* One send() call waiting for its requests. On the caller's stack. */
struct batch {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	size_t		 pending;	/* requests not settled yet */
};

struct req {
	struct req	*next;		/* in the engine's queue */
	CURL		*c;
	struct gateway	*g;
	struct batch	*batch;
	struct outmsg	*m;
	struct buf	 body;		/* the response */
	char		*url;
	char		*post;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;

	if (r->body.len < 4096)
		buf_append(&r->body, p, size * n);
	return size * n;
}

static char *
escape(CURL *c, const char *s)
{
	char *e = curl_easy_escape(c, s ? s : "", 0);
	char *copy = xstrdup(e ? e : "");

	curl_free(e);
	return copy;
}

static void
kannel_request(struct gateway *g, CURL *c, struct req *r)
{
	int ucs2 = sms_encoding(r->m->data) == SMS_UCS2;
	char *user = escape(c, g->user), *pass = escape(c, g->password);
	char *from = escape(c, g->sender), *to = escape(c, r->m->recipient);
	char *text = escape(c, r->m->data), *dlr = NULL;
	struct buf u = BUF_INIT;

	buf_printf(&u, "%s?username=%s&password=%s&to=%s&text=%s&charset=UTF-8&coding=%d",
	    g->url, user, pass, to, text, ucs2 ? 2 : 0);
	if (*g->sender)
		buf_printf(&u, "&from=%s", from);
	if (g->dlr_url) {
		char *cb = xasprintf("%s%cid=%ld&status=%%d", g->dlr_url,
		    strchr(g->dlr_url, '?') ? '&' : '?', r->m->id);

		dlr = escape(c, cb);
		free(cb);
		buf_printf(&u, "&dlr-mask=31&dlr-url=%s", dlr);
	}
	r->url = buf_take(&u);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	free(user);
	free(pass);
	free(from);
	free(to);
	free(text);
	free(dlr);
}

static void
twilio_request(struct gateway *g, CURL *c, struct req *r)
{
	char *from = escape(c, g->sender), *to = escape(c, r->m->recipient);
	char *body = escape(c, r->m->data);
	struct buf p = BUF_INIT;

	buf_printf(&p, "From=%s&To=%s&Body=%s", from, to, body);
	if (g->dlr_url) {
		char *cb = xasprintf("%s%cid=%ld", g->dlr_url, strchr(g->dlr_url, '?') ? '&' : '?',
		    r->m->id), *ecb = escape(c, cb);

		buf_printf(&p, "&StatusCallback=%s", ecb);
		free(cb);
		free(ecb);
	}
	r->post = buf_take(&p);
	r->url = xasprintf("%s/Accounts/%s/Messages.json", g->url, g->user);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->post);
	curl_easy_setopt(c, CURLOPT_USERNAME, g->user);
	curl_easy_setopt(c, CURLOPT_PASSWORD, g->password);
	free(from);
	free(to);
	free(body);
}

/* The gateway's id for the message, from its answer (Twilio: "sid"). */
static void
gateway_id(struct req *r, int twilio)
{
	const char *sid = twilio ? strstr(buf_cstr(&r->body), "\"sid\": \"") : NULL;

	if (sid == NULL && twilio)
		sid = strstr(buf_cstr(&r->body), "\"sid\":\"");
	if (sid) {
		sid = strchr(sid + 5, '"');
		sid = sid ? strchr(sid + 1, '"') : NULL;
		if (sid)
			snprintf(r->m->gateway_id, sizeof(r->m->gateway_id), "%.*s",
			    (int)strcspn(sid + 1, "\""), sid + 1);
	}
}

static void
settle(struct gateway *g, struct req *r, CURLcode cc, long code)
{
	struct outmsg *m = r->m;

	if (cc == CURLE_OPERATION_TIMEDOUT && code == 0) {
		/* It may have been accepted: the delivery report will tell. */
		m->result = DELIVER_OK;
		snprintf(m->error, sizeof(m->error), "timeout: waiting for the delivery report");
	} else if (cc != CURLE_OK) {
		m->result = DELIVER_TEMP;
		snprintf(m->error, sizeof(m->error), "%s", curl_easy_strerror(cc));
	} else if (code >= 200 && code < 300) {
		m->result = DELIVER_OK;
		gateway_id(r, g->twilio);
	} else {
		m->result = code == 429 || code >= 500 ? DELIVER_TEMP : DELIVER_PERM;
		snprintf(m->error, sizeof(m->error), "HTTP %ld: %.150s", code, buf_cstr(&r->body));
		m->error[strcspn(m->error, "\r\n")] = '\0';
	}
}

static struct req *
request_new(struct gateway *g, struct batch *batch, struct outmsg *m)
{
	CURL *c = curl_easy_init();
	struct req *r = xcalloc(1, sizeof(*r));

	r->c = c;
	r->g = g;
	r->batch = batch;
	r->m = m;
	if (g->twilio)
		twilio_request(g, c, r);
	else
		kannel_request(g, c, r);
	curl_easy_setopt(c, CURLOPT_PRIVATE, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	return r;
}

/* ---- the engine: one curl multi and its thread, shared by every gateway ---- */

static pthread_mutex_t engine_life = PTHREAD_MUTEX_INITIALIZER;	/* refs, start, stop */
static int engine_refs;
static pthread_t engine_thread;

static pthread_mutex_t engine_mu = PTHREAD_MUTEX_INITIALIZER;	/* the queue, stopping */
static struct req *queue_head, *queue_tail;
static int engine_stopping;
static CURLM *engine_multi;	/* set before the thread starts, freed after it ended */

/* Settles a finished request, frees it, and wakes its caller after its last. */
static void
request_done(CURL *c, CURLcode cc)
{
	struct req *r = NULL;
	struct batch *b;
	long code = 0;

	curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&r);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	settle(r->g, r, cc, code);
	curl_multi_remove_handle(engine_multi, c);
	curl_easy_cleanup(c);
	b = r->batch;
	buf_free(&r->body);
	free(r->url);
	free(r->post);
	free(r);
	pthread_mutex_lock(&b->mu);
	if (--b->pending == 0)
		pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

/*
 * Moves queued requests into the multi while there is room and the bucket
 * has tokens. Returns how long the engine may sleep (ms), or -1 once it is
 * stopping with nothing left to do.
 */
static long
engine_feed(int *active, int window)
{
	long sleep_ms = 1000;

	pthread_mutex_lock(&engine_mu);
	while (*active < window && queue_head) {
		struct req *r = queue_head;
		double wait = bucket_try();

		if (wait > 0) {
			sleep_ms = (long)(wait * 1000) + 1;
			break;
		}
		queue_head = r->next;
		if (queue_head == NULL)
			queue_tail = NULL;
		curl_multi_add_handle(engine_multi, r->c);
		(*active)++;
	}
	if (engine_stopping && queue_head == NULL && *active == 0)
		sleep_ms = -1;
	pthread_mutex_unlock(&engine_mu);
	return sleep_ms;
}

static void *
engine_main(void *arg)
{
	int active = 0, window = IN_FLIGHT_START;
	long sleep_ms;

	(void)arg;
	while ((sleep_ms = engine_feed(&active, window)) >= 0) {
		CURLMsg *msg;
		int left, running, finished = 0;

		curl_multi_perform(engine_multi, &running);
		while ((msg = curl_multi_info_read(engine_multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE) {
				request_done(msg->easy_handle, msg->data.result);
				active--;
				finished++;
				if (window < IN_FLIGHT)
					window++;
			}
		if (finished == 0)	/* else room was made: feed it first */
			curl_multi_poll(engine_multi, NULL, 0, (int)sleep_ms, NULL);
	}
	return NULL;
}

static void
engine_ref(void)
{
	pthread_mutex_lock(&engine_life);
	if (engine_refs++ == 0) {
		engine_multi = curl_multi_init();
		curl_multi_setopt(engine_multi, CURLMOPT_MAXCONNECTS, (long)IN_FLIGHT);
		curl_multi_setopt(engine_multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)IN_FLIGHT);
		curl_multi_setopt(engine_multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)IN_FLIGHT);
		engine_stopping = 0;
		if (pthread_create(&engine_thread, NULL, engine_main, NULL) != 0)
			fatal("pthread_create", "what=sms_gateway");
	}
	pthread_mutex_unlock(&engine_life);
}

static void
engine_unref(void)
{
	pthread_mutex_lock(&engine_life);
	if (--engine_refs == 0) {
		pthread_mutex_lock(&engine_mu);
		engine_stopping = 1;
		pthread_mutex_unlock(&engine_mu);
		curl_multi_wakeup(engine_multi);
		pthread_join(engine_thread, NULL);
		curl_multi_cleanup(engine_multi);
		engine_multi = NULL;
	}
	pthread_mutex_unlock(&engine_life);
}

/* Queues every message with the engine and waits until each is settled. */
static int
gateway_send(struct deliver_backend *b, struct outmsg *msgs, size_t n)
{
	struct gateway *g = (struct gateway *)b;
	struct batch batch = { .pending = n };
	struct req *first = NULL, *last = NULL;

	if (n == 0)
		return 0;
	pthread_mutex_init(&batch.mu, NULL);
	pthread_cond_init(&batch.cv, NULL);
	for (size_t i = 0; i < n; i++) {
		struct req *r = request_new(g, &batch, &msgs[i]);

		if (last)
			last->next = r;
		else
			first = r;
		last = r;
	}
	pthread_mutex_lock(&engine_mu);
	if (queue_tail)
		queue_tail->next = first;
	else
		queue_head = first;
	queue_tail = last;
	pthread_mutex_unlock(&engine_mu);
	curl_multi_wakeup(engine_multi);

	pthread_mutex_lock(&batch.mu);
	while (batch.pending > 0)
		pthread_cond_wait(&batch.cv, &batch.mu);
	pthread_mutex_unlock(&batch.mu);
	pthread_mutex_destroy(&batch.mu);
	pthread_cond_destroy(&batch.cv);
	return 0;
}

static void
gateway_free(struct deliver_backend *b)
{
	struct gateway *g = (struct gateway *)b;

	engine_unref();
	free(g->url);
	free(g->user);
	free(g->password);
	free(g->sender);
	free(g->dlr_url);
	free(g);
}

static void
curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct deliver_backend *
deliver_gateway_new(const char *kind, const char *url, const char *user, const char *password,
    const char *sender, const char *dlr_url, char **err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct gateway *g;

	if (url == NULL || *url == '\0') {
		*err = xasprintf("[sms] gateway = %s needs [sms] url", kind);
		return NULL;
	}
	pthread_once(&once, curl_init_once);
	g = xcalloc(1, sizeof(*g));
	g->b.name = kind;
	g->b.send = gateway_send;
	g->b.free = gateway_free;
	g->twilio = strcmp(kind, "twilio") == 0;
	g->url = xstrdup(url);
	g->user = xstrdup(user ? user : "");
	g->password = xstrdup(password ? password : "");
	g->sender = xstrdup(sender ? sender : "");
	g->dlr_url = dlr_url && *dlr_url ? xstrdup(dlr_url) : NULL;
	engine_ref();
	return &g->b;
}
