/*
 * store.c — the one database connection of the handlers that ask the
 * database themselves (delivery reports, poll pages, unsubscribe links).
 *
 * Such a handler runs on one of the server's four threads, and every
 * connection that thread serves waits meanwhile, webhooks included. So no
 * handler connects: a thread of our own does, at start and whenever a
 * handler finds no connection, and the handler waits CONNECT_WAIT_MS for
 * it at most (a database that does not answer takes connect_timeout, 10 s
 * by default). For a second after connecting failed, handlers do not wait
 * at all; nor more than STORE_WAIT_MS for another handler still using the
 * connection. They answer 503 instead: the gateway or the resident tries
 * again.
 */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/routes.h"

#define STORE_WAIT_MS	2000
#define CONNECT_WAIT_MS	500
#define STORE_RETRY_MS	1000

static void *
connector_main(void *arg)
{
	struct http_ctx *ctx = arg;
	struct store *s;
	char *err;

	pthread_mutex_lock(&ctx->store_mu);
	for (;;) {
		while (!ctx->store_stopping && !(ctx->store == NULL && ctx->store_wanted))
			pthread_cond_wait(&ctx->store_cv, &ctx->store_mu);
		if (ctx->store_stopping)
			break;
		pthread_mutex_unlock(&ctx->store_mu);
		err = NULL;
		s = store_open(ctx->opts.db_url, &err);
		pthread_mutex_lock(&ctx->store_mu);
		ctx->store_wanted = 0;
		free(ctx->store_err);
		ctx->store_err = err;
		if ((ctx->store = s) == NULL)
			ctx->retry_at = ts_from_now(CLOCK_MONOTONIC, STORE_RETRY_MS);
		pthread_cond_broadcast(&ctx->store_cv);
	}
	pthread_mutex_unlock(&ctx->store_mu);
	return NULL;
}

void
http_store_start(struct http_ctx *ctx)
{
	pthread_mutex_init(&ctx->store_mu, NULL);
	pthread_cond_init(&ctx->store_cv, NULL);
	ctx->store_wanted = 1;		/* connected before the first handler asks */
	if (pthread_create(&ctx->connector, NULL, connector_main, ctx) != 0)
		fatal("pthread_create", "what=http_connector");
}

void
http_store_stop(struct http_ctx *ctx)
{
	pthread_mutex_lock(&ctx->store_mu);
	ctx->store_stopping = 1;
	pthread_cond_broadcast(&ctx->store_cv);
	pthread_mutex_unlock(&ctx->store_mu);
	pthread_join(ctx->connector, NULL);
	store_close(ctx->store);
	ctx->store = NULL;
	free(ctx->store_err);
	pthread_mutex_destroy(&ctx->store_mu);
	pthread_cond_destroy(&ctx->store_cv);
}

struct store *
http_store_get(struct http_ctx *ctx, const char *event)
{
	struct timespec until = ts_from_now(CLOCK_REALTIME, STORE_WAIT_MS), now;
	char *why;

	if (pthread_mutex_timedlock(&ctx->store_mu, &until) != 0) {
		log_warn(event, "error=%s", log_q("the database connection stayed busy"));
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ctx->store == NULL && !ts_before(&now, &ctx->retry_at)) {
		ctx->store_wanted = 1;
		pthread_cond_broadcast(&ctx->store_cv);
		until = ts_from_now(CLOCK_REALTIME, CONNECT_WAIT_MS);
		while (ctx->store == NULL && ctx->store_wanted &&
		    pthread_cond_timedwait(&ctx->store_cv, &ctx->store_mu, &until) == 0)
			;
	}
	if (ctx->store)
		return ctx->store;
	why = xstrdup(ctx->store_wanted ? "connecting takes long" :
	    ctx->store_err ? ctx->store_err : "not connected");
	pthread_mutex_unlock(&ctx->store_mu);
	log_warn(event, "error=%s", log_q(why));
	free(why);
	return NULL;
}

void
http_store_put(struct http_ctx *ctx, int failed)
{
	if (failed && store_down(ctx->store)) {
		store_close(ctx->store);
		ctx->store = NULL;
	}
	pthread_mutex_unlock(&ctx->store_mu);
}
