/*
 * unsubscribe.c — List-Unsubscribe by link: RFC 8058 one-click (POST) stops
 * a resident's email at once; a browser's GET gets a page in plain French
 * with one button, so that a link scanner can't unsubscribe anybody.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/token.h"
#include "http/routes.h"

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Ne plus recevoir de courriels</title></head>\n"
    "<body style=\"font-family: sans-serif; font-size: 1.3em; line-height: 1.5; max-width: 40em;"
    " margin: 2em auto; padding: 0 1em; color: #000; background: #fff\">\n";

static void
page(struct response *resp, int status, const char *body)
{
	resp->status = status;
	resp->type = "text/html; charset=utf-8";
	buf_puts(&resp->body, page_head);
	buf_puts(&resp->body, body);
	buf_puts(&resp->body, "\n</body></html>\n");
}

static int
stop_email(struct http_ctx *ctx, long id)
{
	struct store *s = http_store_get(ctx, "unsubscribe_db_unreachable");
	int rc;

	if (s == NULL)
		return -1;
	rc = store_resident_email_stop(s, id);
	http_store_put(ctx, rc < 0);
	return rc;
}

void
http_unsubscribe(struct http_ctx *ctx, const struct request *req, struct response *resp)
{
	const char *tok = req->path + strlen("/unsubscribe/");
	uint64_t id, zero;
	int rc;

	if (token_read(ctx->opts.key, TOKEN_UNSUBSCRIBE, tok, &id, &zero) < 0 || zero != 0) {
		page(resp, 404, "<h1>Ce lien ne fonctionne pas</h1>\n<p>Il est peut-être incomplet."
		    " Pour ne plus recevoir de courriels, répondez STOP à l'un de nos messages.</p>");
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		page(resp, 200, "<h1>Ne plus recevoir de courriels</h1>\n"
		    "<p>Pour ne plus recevoir nos courriels, appuyez sur le bouton.</p>\n"
		    "<form method=\"post\"><p><button type=\"submit\" style=\"font-size: 1.2em;"
		    " padding: 0.5em 1em\">Ne plus recevoir de courriels</button></p></form>");
		return;
	}
	if ((rc = stop_email(ctx, (long)id)) < 0) {
		page(resp, 503, "<h1>Un problème est survenu</h1>\n<p>Merci de réessayer dans"
		    " quelques minutes.</p>");
		return;
	}
	log_info("unsubscribed", "resident=%ld found=%d", (long)id, rc == 0);
	page(resp, 200, "<h1>C'est noté</h1>\n<p>Vous ne recevrez plus nos courriels."
	    " Pour les recevoir de nouveau, écrivez REPRENDRE à l'adresse d'aide.</p>");
}
