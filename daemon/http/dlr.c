/*
 * dlr.c — delivery reports for the SMS we sent, from Kannel (dlr-url with
 * our message id and Kannel's status bits) or Twilio (status callback,
 * signed). A failure marks the message failed; nothing is sent again.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/routes.h"

/* Kannel's dlr-mask bits: 1 delivered, 2 failed, 4 buffered, 8 accepted, 16 rejected. */
static const char *
kannel_report(const char *status)
{
	switch (atoi(status ? status : "0")) {
	case 1: return "delivered";
	case 2: case 16: return "failed";
	case 4: return "buffered";
	case 8: return "accepted";
	default: return NULL;
	}
}

static const char *
twilio_report(const char *status)
{
	if (status == NULL)
		return NULL;
	if (strcmp(status, "delivered") == 0)
		return "delivered";
	if (strcmp(status, "failed") == 0 || strcmp(status, "undelivered") == 0)
		return "failed";
	if (strcmp(status, "sent") == 0 || strcmp(status, "queued") == 0 ||
	    strcmp(status, "accepted") == 0 || strcmp(status, "sending") == 0)
		return "accepted";
	return NULL;
}

/* Records the report over the shared connection; the HTTP status to answer. */
static int
record(struct http_ctx *ctx, long id, const char *report)
{
	struct store *s = http_store_get(ctx, "dlr_db_unreachable");
	int rc;

	if (s == NULL)
		return 503;
	rc = store_outgoing_report(s, id, report, NULL);
	http_store_put(ctx, rc < 0);
	return rc < 0 ? 503 : 200;
}

void
http_sms_dlr(struct http_ctx *ctx, const struct request *req, struct response *resp)
{
	const char *gw = req->path + strlen("/sms/dlr/");
	const struct param *id = request_param(req, "id");
	const char *report = NULL;
	int ok;

	if (strcmp(gw, "kannel") == 0) {
		ok = http_kannel_allowed(ctx, req);
		report = kannel_report(request_param(req, "status") ?
		    request_param(req, "status")->value : NULL);
	} else if (strcmp(gw, "twilio") == 0) {
		ok = http_twilio_signed(ctx, req);
		report = twilio_report(request_param(req, "MessageStatus") ?
		    request_param(req, "MessageStatus")->value : NULL);
	} else {
		resp->status = 404;
		buf_puts(&resp->body, "no such gateway\n");
		return;
	}
	if (!ok) {
		resp->status = 403;
		buf_puts(&resp->body, "forbidden\n");
		return;
	}
	if (id == NULL || atol(id->value) <= 0 || report == NULL) {
		resp->status = 400;
		buf_puts(&resp->body, "needs id and a known status\n");
		return;
	}
	resp->status = record(ctx, atol(id->value), report);
	log_info("sms_report", "via=%s outgoing=%ld report=%s status=%d", gw, atol(id->value), report,
	    resp->status);
}
