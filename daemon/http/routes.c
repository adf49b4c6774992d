/*
 * routes.c — which handler answers which path. Unknown paths get 404;
 * nothing here touches the database.
 */
#include <string.h>

#include "http/routes.h"

void
http_route(struct http_ctx *ctx, const struct request *req, struct response *resp)
{
	resp->status = 200;
	if (strcmp(req->path, "/sms/kannel") == 0) {
		http_sms_kannel(ctx, req, resp);
	} else if (strcmp(req->path, "/sms/twilio") == 0) {
		http_sms_twilio(ctx, req, resp);
	} else if (strncmp(req->path, "/sms/dlr/", 9) == 0) {
		http_sms_dlr(ctx, req, resp);
	} else if (strncmp(req->path, "/unsubscribe/", 13) == 0) {
		http_unsubscribe(ctx, req, resp);
	} else if (strncmp(req->path, "/polls/", 7) == 0) {
		http_poll_page(ctx, req, resp);
	} else if (strcmp(req->path, "/healthz") == 0) {
		buf_puts(&resp->body, "ok\n");
	} else {
		resp->status = 404;
		buf_puts(&resp->body, "not found\n");
	}
}
