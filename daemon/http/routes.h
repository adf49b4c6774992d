/*
 * routes.h — the handlers of the http role, and what they share.
 */
#ifndef PALIER_HTTP_ROUTES_H
#define PALIER_HTTP_ROUTES_H

#include "http/http.h"
#include "http/request.h"

#include <pthread.h>
#include <time.h>

#include "store/store.h"

struct http_ctx {
	struct http_opts	 opts;
	/* The handlers' own connection (http/store.c), and its connector; under store_mu. */
	pthread_mutex_t		 store_mu;
	pthread_cond_t		 store_cv;	/* wanted, connected, or a failure */
	pthread_t		 connector;
	struct store		*store;
	int			 store_wanted;	/* wanted, until the connector has tried */
	int			 store_stopping;
	char			*store_err;	/* why the last connection failed */
	struct timespec		 retry_at;	/* CLOCK_MONOTONIC: after a failure, not before */
};

/* Starts the connector thread, which connects at once; stops it, closing the connection. */
void http_store_start(struct http_ctx *ctx);
void http_store_stop(struct http_ctx *ctx);
/*
 * The handlers' connection, locked; or NULL (event logged: answer 503)
 * when it cannot be had soon: not connected within 0.5 s, connecting
 * failed less than a second ago, or busy with another handler for 2 s.
 */
struct store *http_store_get(struct http_ctx *ctx, const char *event);
void http_store_put(struct http_ctx *ctx, int failed);

/* Answers req into resp (status 200 unless the handler says otherwise). */
void http_route(struct http_ctx *ctx, const struct request *req, struct response *resp);

void http_sms_kannel(struct http_ctx *ctx, const struct request *req, struct response *resp);
void http_sms_twilio(struct http_ctx *ctx, const struct request *req, struct response *resp);
/* The answer to a webhook once its resp->job is done (the job freed). */
void http_sms_answer(struct response *resp);
void http_sms_dlr(struct http_ctx *ctx, const struct request *req, struct response *resp);
void http_unsubscribe(struct http_ctx *ctx, const struct request *req, struct response *resp);
void http_poll_page(struct http_ctx *ctx, const struct request *req, struct response *resp);
/* Whether a Kannel request may come in: an allowed address and our secret. */
int http_kannel_allowed(const struct http_ctx *ctx, const struct request *req);
/* Whether a Twilio request carries a good signature for the public URL. */
int http_twilio_signed(const struct http_ctx *ctx, const struct request *req);

#endif
