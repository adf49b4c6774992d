/*
 * routes.h — the handlers of the http role, and what they share.
 */
#ifndef PALIER_HTTP_ROUTES_H
#define PALIER_HTTP_ROUTES_H

#include "http/http.h"
#include "http/request.h"

struct http_ctx {
	struct http_opts	opts;
};

/* Answers req into resp (status 200 unless the handler says otherwise). */
void http_route(struct http_ctx *ctx, const struct request *req, struct response *resp);

void http_sms_kannel(struct http_ctx *ctx, const struct request *req, struct response *resp);
void http_sms_twilio(struct http_ctx *ctx, const struct request *req, struct response *resp);

#endif
