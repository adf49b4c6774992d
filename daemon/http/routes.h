/*
 * routes.h — the handlers of the http role, and what they share.
 */
#ifndef PALIER_HTTP_ROUTES_H
#define PALIER_HTTP_ROUTES_H

#include "http/http.h"
#include "http/request.h"

#include <pthread.h>

#include "store/store.h"

struct http_ctx {
	struct http_opts	 opts;
	pthread_mutex_t		 store_mu;	/* one connection for delivery reports */
	struct store		*store;
};

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
