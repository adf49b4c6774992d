/*
 * poll_page.c — GET /polls/<id>: a poll's public page, rendered from
 * templates/poll.page. While the poll is open it shows the question
 * and how to vote, never a partial count; once closed, the results as an
 * inline SVG bar chart and the same figures as text.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/log.h"
#include "fanout/render_poll.h"
#include "fanout/template.h"
#include "fanout/words.h"
#include "http/routes.h"
#include "store/polls.h"

#define CHART_W		640
#define ROW_H		96	/* a label line, then its bar */
#define BAR_MAX		420	/* the longest bar; its figures follow it */

/* The template's data from the tally (borrowed). */
static json_t *
page_data(const json_t *t)
{
	json_t *d = json_object(), *p = json_object(), *opts = json_array(), *x;
	long long voted = json_integer_value(json_object_get(t, "voted")), top = 0;
	long long electorate = json_integer_value(json_object_get(t, "electorate"));
	struct buf b = BUF_INIT;
	size_t i, n = json_array_size(json_object_get(t, "options"));

	json_array_foreach(json_object_get(t, "options"), i, x)
		if (json_integer_value(json_object_get(x, "votes")) > top)
			top = json_integer_value(json_object_get(x, "votes"));
	json_array_foreach(json_object_get(t, "options"), i, x) {
		long long v = json_integer_value(json_object_get(x, "votes"));
		long long w = top ? v * BAR_MAX / top : 0;

		render_poll_percent(&b, v, voted);
		json_array_append_new(opts, json_pack("{s:O, s:I, s:o, s:I, s:I, s:I, s:I, s:I}",
		    "label", json_object_get(x, "label"), "votes", (json_int_t)v, "percent", tpl_str_take(&b),
		    "label_y", (json_int_t)(i * ROW_H + 30), "bar_y", (json_int_t)(i * ROW_H + 44),
		    "bar_width", (json_int_t)(v > 0 && w == 0 ? 1 : w), "text_x", (json_int_t)(w + 12),
		    "text_y", (json_int_t)(i * ROW_H + 72)));
	}
	json_object_set(p, "question", json_object_get(t, "question"));
	json_object_set(p, "sender", json_object_get(t, "sender"));
	words_scope(&b, json_string_value(json_object_get(t, "channel_kind")),
	    json_string_value(json_object_get(t, "channel_name")));
	json_object_set_new(p, "scope", tpl_str_take(&b));
	json_object_set_new(p, "closed", json_boolean(json_is_true(json_object_get(t, "closed"))));
	if (json_is_integer(json_object_get(t, "closed_at"))) {
		words_date(&b, (time_t)json_integer_value(json_object_get(t, "closed_at")), 1);
		json_object_set_new(p, "closed_on", tpl_str_take(&b));
	}
	words_date(&b, (time_t)json_integer_value(json_object_get(t, "closes_at")), 1);
	json_object_set_new(p, "closes", tpl_str_take(&b));
	render_poll_count(&b, electorate);
	json_object_set_new(p, "electorate", tpl_str_take(&b));
	render_poll_count(&b, voted);
	json_object_set_new(p, "voted", tpl_str_take(&b));
	render_poll_percent(&b, voted, electorate);
	json_object_set_new(p, "turnout", tpl_str_take(&b));
	json_object_set_new(p, "options", opts);
	json_object_set_new(d, "poll", p);
	json_object_set_new(d, "chart", json_pack("{s:i, s:I}", "width", CHART_W, "height",
	    (json_int_t)(n * ROW_H + 8)));
	buf_free(&b);
	return d;
}

static void
text(struct response *resp, int status, const char *msg)
{
	resp->status = status;
	resp->type = "text/plain; charset=utf-8";
	buf_puts(&resp->body, msg);
}

void
http_poll_page(struct http_ctx *ctx, const struct request *req, struct response *resp)
{
	const char *s = req->path + strlen("/polls/");
	char *end, *doc = NULL;
	struct store *st;
	const struct tpl *t = ctx->opts.templates ? tpl_get(ctx->opts.templates, "poll.page") : NULL;
	long id = strtol(s, &end, 10);
	json_t *tally, *d;
	int found;

	if (*s < '1' || *s > '9' || *end != '\0' || id <= 0 || strlen(s) > 18) {
		text(resp, 404, "Ce sondage n'existe pas.\n");
		return;
	}
	if ((st = http_store_get(ctx, "poll_page_db_unreachable")) == NULL) {
		text(resp, 503, "Le service est momentanément indisponible. Réessayez dans quelques minutes.\n");
		return;
	}
	found = store_poll_results(st, id, &doc);
	http_store_put(ctx, found < 0);
	if (found < 0 || t == NULL) {
		text(resp, 503, "Le service est momentanément indisponible. Réessayez dans quelques minutes.\n");
		free(doc);
		return;
	}
	if (found == 0) {
		text(resp, 404, "Ce sondage n'existe pas.\n");
		return;
	}
	tally = json_loads(doc, 0, NULL);
	free(doc);
	d = page_data(tally);
	resp->type = "text/html; charset=utf-8";
	if (tpl_render(t, d, &resp->body) < 0)
		text(resp, 500, "Cette page n'a pas pu être affichée.\n");
	json_decref(d);
	json_decref(tally);
}
