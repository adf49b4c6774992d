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

#define IN_FLIGHT	64
#define TIMEOUT_S	30

struct gateway {
	struct deliver_backend	 b;
	int			 twilio;
	char			*url, *user, *password, *sender, *dlr_url;
	CURLM			*multi;
	CURL			*handles[IN_FLIGHT];
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

/* Waits until one message may go. */
static void
bucket_take(void)
{
	for (;;) {
		double t = now_s(), wait;

		pthread_mutex_lock(&bucket_mu);
		bucket_tokens += (t - bucket_last) * bucket_rate;
		if (bucket_tokens > bucket_rate)
			bucket_tokens = bucket_rate;	/* at most a second's burst */
		bucket_last = t;
		if (bucket_tokens >= 1) {
			bucket_tokens -= 1;
			pthread_mutex_unlock(&bucket_mu);
			return;
		}
		wait = (1 - bucket_tokens) / bucket_rate;
		pthread_mutex_unlock(&bucket_mu);
		usleep((useconds_t)(wait * 1e6) + 1);
	}
}

/* ---- requests ---- */

struct req {
	struct outmsg	*m;
	struct buf	 body;		/* the response */
	char		*url;
	char		*post;
	struct curl_slist *headers;
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

static CURL *
request_new(struct gateway *g, struct outmsg *m)
{
	CURL *c = curl_easy_init();
	struct req *r = xcalloc(1, sizeof(*r));

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
	return c;
}

static void
request_done(struct gateway *g, CURL *c, CURLcode cc)
{
	struct req *r = NULL;
	long code = 0;

	curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&r);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	settle(g, r, cc, code);
	curl_multi_remove_handle(g->multi, c);
	curl_easy_cleanup(c);
	buf_free(&r->body);
	free(r->url);
	free(r->post);
	free(r);
}

static int
gateway_send(struct deliver_backend *b, struct outmsg *msgs, size_t n)
{
	struct gateway *g = (struct gateway *)b;
	size_t next = 0;
	int active = 0;

	while (next < n || active > 0) {
		CURLMsg *msg;
		int left, running;

		while (active < IN_FLIGHT && next < n) {
			bucket_take();
			curl_multi_add_handle(g->multi, request_new(g, &msgs[next++]));
			active++;
		}
		curl_multi_perform(g->multi, &running);
		while ((msg = curl_multi_info_read(g->multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE) {
				request_done(g, msg->easy_handle, msg->data.result);
				active--;
			}
		if (active > 0)
			curl_multi_poll(g->multi, NULL, 0, 100, NULL);
	}
	return 0;
}

static void
gateway_free(struct deliver_backend *b)
{
	struct gateway *g = (struct gateway *)b;

	curl_multi_cleanup(g->multi);
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
	g->multi = curl_multi_init();
	curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long)IN_FLIGHT);
	return &g->b;
}
