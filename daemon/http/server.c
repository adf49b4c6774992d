/*
 * server.c — the http role on libmicrohttpd: a few threads, each serving
 * its connections with epoll; our own listening socket with a backlog of
 * 1024 (gateways send in bursts), bodies capped, routes dispatched.
 * Answers 200 to a webhook only after its message is committed: the
 * connection is suspended meanwhile, and resumed by the intake's writer,
 * so a thread is never parked per message (Kannel keeps hundreds of
 * requests in flight).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "http/http.h"
#include "http/routes.h"
#include "ingest/sms.h"

#define MAX_BODY	(64 * 1024)
#define MAX_URI		(16 * 1024)
/*
 * Threads serving connections. Handlers other than the webhooks (delivery
 * reports, poll pages) ask the database while their thread waits: a few
 * threads keep one slow answer from holding up the others.
 */
#define THREADS		4

struct http_server {
	struct MHD_Daemon	*mhd;
	int			 fd;
	struct http_ctx		 ctx;
	/*
	 * Connections suspended for the intake, from their suspension until
	 * their handler runs again (MHD_stop_daemon must not find one: it
	 * aborts), and whether we stop (then none is suspended any more).
	 */
	pthread_mutex_t		 mu;
	int			 waiting;
	int			 stopping;
};

/* One request in flight: its raw URI and its body so far. */
struct pending {
	char		*uri;
	struct buf	 body;
	int		 too_big;
	int		 headers_seen;	/* MHD's first call has the headers only */
	struct http_server *h;
	struct MHD_Connection *conn;
	struct response	 resp;		/* kept while a job waits for the intake */
};

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->uri = xstrndup(uri, MAX_URI);
	p->too_big = strlen(uri) >= MAX_URI;
	p->h = cls;
	p->conn = c;
	return p;
}

static void unwait(struct http_server *h);

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct pending *p = *con_cls;

	if (p == NULL)
		return;
	if (p->resp.job) {	/* a connection closed while resumed, before its answer */
		http_sms_answer(&p->resp);
		unwait(p->h);
	}
	buf_free(&p->resp.body);
	free(p->uri);
	buf_free(&p->body);
	free(p);
	*con_cls = NULL;
}

/* The intake's writer has the job's result: the connection may answer. */
static void
job_done(void *arg)
{
	struct pending *p = arg;

	MHD_resume_connection(p->conn);
}

/* Whether a connection may wait for the intake: not once we stop. */
static int
may_wait(struct http_server *h)
{
	int ok;

	pthread_mutex_lock(&h->mu);
	if ((ok = !h->stopping))
		h->waiting++;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

/* A resumed connection's handler has run (or it closed): it no longer waits. */
static void
unwait(struct http_server *h)
{
	pthread_mutex_lock(&h->mu);
	h->waiting--;
	pthread_mutex_unlock(&h->mu);
}

static void
client_of(struct MHD_Connection *c, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, size, "unix");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size);
}

static enum MHD_Result
respond(struct MHD_Connection *c, struct response *resp)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(resp->body.len,
	    resp->body.data ? resp->body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", resp->type ? resp->type : "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return rc;
}

static void
build_request(struct MHD_Connection *c, struct pending *p, const char *method,
    const char *url, struct request *req)
{
	const char *q = strchr(p->uri, '?');
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

	memset(req, 0, sizeof(*req));
	req->method = method;
	req->path = url;
	client_of(c, req->client, sizeof(req->client));
	req->signature = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Twilio-Signature");
	if (q) {
		req->query = q + 1;
		request_parse_form(req, q + 1, strlen(q + 1));
	}
	req->nquery = req->nparams;
	if (type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0) {
		req->form_body = 1;
		request_parse_form(req, p->body.data ? p->body.data : "", p->body.len);
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_server *h = cls;
	struct pending *p = *con_cls;
	struct request req;
	enum MHD_Result rc;

	if (p == NULL)
		return MHD_NO;
	if (!p->headers_seen) {
		p->headers_seen = 1;
		return MHD_YES;
	}
	if (*upload_size) {
		if (p->body.len + *upload_size > MAX_BODY)
			p->too_big = 1;
		else
			buf_append(&p->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (p->resp.job) {	/* resumed: the intake is done with it */
		http_sms_answer(&p->resp);
		unwait(h);
	} else if (p->too_big) {
		p->resp.status = 413;
		buf_puts(&p->resp.body, "request too large\n");
	} else {
		p->resp.status = 200;
		build_request(c, p, method, url, &req);
		http_route(&h->ctx, &req, &p->resp);
		request_clear(&req);
		if (p->resp.job && may_wait(h)) {
			/* Suspended before it is queued: the writer may resume it at once. */
			MHD_suspend_connection(c);
			ingest_sms_submit(h->ctx.opts.intake, p->resp.job, job_done, p);
			return MHD_YES;
		}
		if (p->resp.job)	/* stopping: never queued, so 503 */
			http_sms_answer(&p->resp);
	}
	rc = respond(c, &p->resp);
	buf_free(&p->resp.body);
	return rc;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("http_server", "error=%s", log_q(msg));
}

struct http_server *
http_start(const struct http_opts *o, char **err)
{
	struct http_server *h = xcalloc(1, sizeof(*h));

	h->ctx.opts = *o;
	pthread_mutex_init(&h->mu, NULL);
	if ((h->fd = net_listen(o->listen, 1024, err)) < 0) {
		free(h);
		return NULL;
	}
	http_store_start(&h->ctx);
	h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,	/* first, or MHD warns */
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS,
	    MHD_OPTION_LISTEN_SOCKET, h->fd,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		*err = xasprintf("http: cannot start on %s", o->listen);
		close(h->fd);
		http_store_stop(&h->ctx);
		free(h);
		return NULL;
	}
	log_info("http_listening", "address=%s", log_q(o->listen));
	return h;
}

void
http_stop(struct http_server *h)
{
	if (h == NULL)
		return;
	/*
	 * No new connections; the intake answers every job it was given (its
	 * writer stops after us), and a daemon must not stop with connections
	 * suspended.
	 */
	MHD_quiesce_daemon(h->mhd);
	pthread_mutex_lock(&h->mu);
	h->stopping = 1;
	while (h->waiting > 0) {
		pthread_mutex_unlock(&h->mu);
		usleep(10 * 1000);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	MHD_stop_daemon(h->mhd);
	close(h->fd);
	http_store_stop(&h->ctx);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
