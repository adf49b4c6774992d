/*
 * render_poll.c — the template data of poll messages (invitations, vote
 * confirmations, clarifications, "closed" answers, results) from their
 * content: numbered options, French dates and figures, and the resident's
 * own vote+ address.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/token.h"
#include "fanout/render_poll.h"
#include "fanout/template.h"
#include "fanout/words.h"

/* 1840 -> "1 840" (a plain space: SMS stay in GSM-7). */
void
render_poll_count(struct buf *out, long long n)
{
	char digits[32];
	int len = snprintf(digits, sizeof(digits), "%lld", n < 0 ? -n : n);

	if (n < 0)
		buf_putc(out, '-');
	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf_putc(out, ' ');
		buf_putc(out, digits[i]);
	}
}

/* part of whole, rounded, as "36 %"; "0 %" when nobody voted. */
void
render_poll_percent(struct buf *out, long long part, long long whole)
{
	buf_printf(out, "%lld %%", whole > 0 ? (part * 100 + whole / 2) / whole : 0);
}

/* "1, 2 ou 3" (with the code: "A1, A2 ou A3"). */
static void
choices(struct buf *out, const char *code, size_t n)
{
	for (size_t i = 1; i <= n; i++)
		buf_printf(out, "%s%s%zu", i == 1 ? "" : i == n ? " ou " : ", ", code, i);
}

/* [{number, label, code}] from an array of labels. */
static json_t *
numbered(const json_t *labels, const char *code)
{
	json_t *arr = json_array(), *l;
	size_t i;

	json_array_foreach(labels, i, l)
		json_array_append_new(arr, json_pack("{s:I, s:O, s:s}", "number", (json_int_t)i + 1,
		    "label", l, "code", code));
	return arr;
}

static void
set_date(json_t *o, const char *key, const json_t *epoch, int with_time)
{
	struct buf b = BUF_INIT;

	if (!json_is_integer(epoch))
		return;
	words_date(&b, (time_t)json_integer_value(epoch), with_time);
	json_object_set_new(o, key, tpl_str_take(&b));
	buf_free(&b);
}

/* The poll of an invitation or an answer, for the templates. */
static json_t *
poll_view(const struct sender_opts *o, const struct store_out *m, const json_t *p)
{
	json_t *v = json_object();
	const char *code = json_string_value(json_object_get(p, "code"));
	const json_t *opts = json_object_get(p, "options");
	struct buf b = BUF_INIT;
	char tok[TOKEN_MAX];

	code = code ? code : "";
	json_object_set(v, "question", json_object_get(p, "question"));
	json_object_set(v, "sender", json_object_get(p, "sender"));
	json_object_set_new(v, "code", json_string(code));
	json_object_set_new(v, "options", numbered(opts, code));
	choices(&b, code, json_array_size(opts));
	json_object_set_new(v, "choices", tpl_str_take(&b));
	set_date(v, "closes", json_object_get(p, "closes"), 1);
	set_date(v, "closed", json_object_get(p, "closed"), 1);
	if (m->resident_id && json_is_integer(json_object_get(p, "id"))) {
		token_make(o->key, TOKEN_VOTE, (uint64_t)m->resident_id,
		    (uint64_t)json_integer_value(json_object_get(p, "id")), tok);
		buf_printf(&b, "vote+%s@%s", tok, o->cfg->mail_domain);
		json_object_set_new(v, "address", tpl_str_take(&b));
	}
	buf_free(&b);
	return v;
}

/* The results of a closed poll: figures as residents read them. */
static json_t *
results_view(const struct sender_opts *o, const json_t *p)
{
	json_t *v = json_object(), *opts = json_array(), *x;
	long long voted = json_integer_value(json_object_get(p, "voted"));
	long long electorate = json_integer_value(json_object_get(p, "electorate"));
	struct buf b = BUF_INIT;
	size_t i;

	json_object_set(v, "question", json_object_get(p, "question"));
	json_object_set(v, "sender", json_object_get(p, "sender"));
	render_poll_count(&b, electorate);
	json_object_set_new(v, "electorate", tpl_str_take(&b));
	render_poll_count(&b, voted);
	json_object_set_new(v, "voted", tpl_str_take(&b));
	render_poll_percent(&b, voted, electorate);
	json_object_set_new(v, "turnout", tpl_str_take(&b));
	json_array_foreach(json_object_get(p, "options"), i, x) {
		long long n = json_integer_value(json_object_get(x, "votes"));

		render_poll_percent(&b, n, voted);
		json_array_append_new(opts, json_pack("{s:O, s:I, s:o}", "label",
		    json_object_get(x, "label"), "votes", (json_int_t)n, "percent", tpl_str_take(&b)));
	}
	json_object_set_new(v, "options", opts);
	set_date(v, "closed", json_object_get(p, "closed_at"), 1);
	buf_printf(&b, "%s/polls/%lld", o->cfg->http_public_url,
	    (long long)json_integer_value(json_object_get(p, "id")));
	json_object_set_new(v, "url", tpl_str_take(&b));
	buf_free(&b);
	return v;
}

/* Renders template name over data into a new JSON string ("" if it fails). */
static json_t *
rendered(const struct sender_opts *o, const char *name, const json_t *data)
{
	const struct tpl *t = tpl_get(o->templates, name);
	struct buf b = BUF_INIT;
	json_t *j;

	if (t == NULL || tpl_render(t, data, &b) < 0)
		buf_reset(&b);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.len--;
	j = json_string(buf_cstr(&b));
	buf_free(&b);
	return j ? j : json_string("");
}

/*
 * A publisher's poll by email, for them: the problem found in it, or what
 * residents will receive (the invitation rendered for an example
 * resident) and the sondage+ address their OK goes to.
 */
static char *
draft_data(const struct sender_opts *o, const struct store_out *m, const json_t *content,
    json_t *d)
{
	const json_t *poll = json_object_get(content, "poll"), *problem = json_object_get(content, "problem");
	json_t *view, *example;
	struct buf b = BUF_INIT;
	char tok[TOKEN_MAX];

	json_object_set(d, "question", json_object_get(content, "question"));
	if (json_is_string(problem) || !json_is_object(poll)) {
		json_object_set_new(d, "problem", json_is_string(problem) ? json_copy((json_t *)(uintptr_t)problem) :
		    json_string("le sondage n'a pas pu être lu"));
		return xstrdup("poll-draft");
	}
	json_object_set_new(d, "problem", json_null());
	view = poll_view(o, m, poll);
	json_object_set_new(d, "poll", view);
	words_scope(&b, m->c->channel_kind, m->c->channel_name ? m->c->channel_name : "");
	json_object_set_new(d, "scope", tpl_str_take(&b));
	example = json_pack("{s:{s:s}, s:O}", "resident", "name", "(nom de l'habitant)", "poll", view);
	json_object_set_new(d, "preview", json_pack("{s:o, s:o}",
	    "sms", rendered(o, "poll-invite.sms", example), "text", rendered(o, "poll-invite.txt", example)));
	json_decref(example);
	token_make(o->key, TOKEN_POLL, (uint64_t)json_integer_value(json_object_get(content, "publisher")),
	    (uint64_t)json_integer_value(json_object_get(poll, "id")), tok);
	buf_printf(&b, "sondage+%s@%s", tok, o->cfg->mail_domain);
	json_object_set_new(d, "confirm_address", tpl_str_take(&b));
	buf_free(&b);
	return xstrdup("poll-draft");
}

char *
render_poll_data(const struct sender_opts *o, const struct store_out *m, const json_t *content,
    json_t *d)
{
	const json_t *poll = json_object_get(content, "poll"), *x;
	json_t *polls;
	size_t i;

	if (strcmp(m->c->purpose, "poll-draft") == 0)
		return draft_data(o, m, content, d);
	if (strncmp(m->c->purpose, "poll-", 5) != 0 || !json_is_object(poll))
		return NULL;
	if (strcmp(m->c->purpose, "poll-results") == 0) {
		json_object_set_new(d, "poll", results_view(o, poll));
		return xstrdup(m->c->purpose);
	}
	if (strcmp(m->c->purpose, "poll-invite") != 0 && strcmp(m->c->purpose, "poll-vote") != 0 &&
	    strcmp(m->c->purpose, "poll-clarify") != 0 && strcmp(m->c->purpose, "poll-closed") != 0)
		return NULL;
	json_object_set_new(d, "poll", poll_view(o, m, poll));
	if (json_is_object(json_object_get(content, "vote")))
		json_object_set(d, "vote", json_object_get(content, "vote"));
	json_object_set_new(d, "several", json_boolean(json_is_true(json_object_get(content, "several"))));
	polls = json_array();
	json_array_foreach(json_object_get(content, "polls"), i, x)
		json_array_append_new(polls, poll_view(o, m, x));
	json_object_set_new(d, "polls", polls);
	return xstrdup(m->c->purpose);
}

void
render_poll_digest(const struct sender_opts *o, const struct store_out *m, const json_t *content,
    json_t *d)
{
	json_t *polls = json_array(), *results = json_array(), *x;
	size_t i;

	json_array_foreach(json_object_get(content, "polls"), i, x)
		json_array_append_new(polls, poll_view(o, m, x));
	json_array_foreach(json_object_get(content, "results"), i, x)
		if (json_is_object(x))
			json_array_append_new(results, results_view(o, x));
	json_object_set_new(d, "polls", polls);
	json_object_set_new(d, "results", results);
}

const char *
render_poll_reply_to(const json_t *d)
{
	if (json_is_string(json_object_get(d, "confirm_address")))
		return json_string_value(json_object_get(d, "confirm_address"));
	return json_string_value(json_object_get(json_object_get(d, "poll"), "address"));
}
