/*
 * render.c — turns a claimed message into bytes for its resident. The
 * template is chosen by the content's purpose; Reply-To carries the
 * resident's reply+ token for the thread, the envelope their bounce+ token
 * for this very message, List-Unsubscribe their own link. Every value is
 * escaped by the template's context and the mail writer; nothing from
 * outside reaches a header raw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/token.h"
#include "deliver/compose.h"
#include "deliver/sms_text.h"
#include "fanout/render.h"
#include "fanout/render_poll.h"
#include "fanout/words.h"

/*
 * How a text cut to [sms] max_segments ends: "the rest is in your email"
 * only when the same message also went by email (bulletins and poll
 * invitations, to a resident whose address palier can reach).
 */
#define SMS_CUT_EMAIL	" (suite par courriel)"
#define SMS_CUT_ONLY	" (message coupé)"

static void addr_token(struct buf *out, const struct sender_opts *o, const char *local,
    enum token_kind kind, long a, long b);

static json_t *
resident_json(const struct sender_opts *o, const struct store_out *m)
{
	struct buf b = BUF_INIT;
	json_t *r = json_object();

	json_object_set_new(r, "name", json_string(m->resident_name ? m->resident_name : ""));
	json_object_set_new(r, "sms", json_boolean(m->resident_sms && m->resident_phone));
	if (m->resident_digest && strcmp(m->resident_digest, "none") == 0) {
		json_object_set_new(r, "frequency", json_null());
	} else {
		words_frequency(&b, m->resident_digest, o->cfg);
		json_object_set_new(r, "frequency", tpl_str_take(&b));
	}
	if (m->resident_building) {
		buf_printf(&b, "%s@%s", m->resident_building, o->cfg->mail_domain);
		json_object_set_new(r, "post_address", tpl_str_take(&b));
	}
	buf_free(&b);
	return r;
}

static json_t *
post_json(const struct store_out *m)
{
	struct buf b = BUF_INIT;
	json_t *p = json_object();
	const char *topic = words_topic(m->c->post_topic);

	json_object_set_new(p, "section", json_string(words_section(m->c->channel_kind)));
	json_object_set_new(p, "place", json_string(m->c->channel_name ? m->c->channel_name : ""));
	if (topic)
		json_object_set_new(p, "topic", json_string(topic));
	json_object_set_new(p, "subject", json_string(m->c->post_subject ? m->c->post_subject : ""));
	json_object_set_new(p, "author", json_string(m->c->post_author ? m->c->post_author : ""));
	words_date(&b, (time_t)m->c->post_time, 1);
	json_object_set_new(p, "date", tpl_str_take(&b));
	json_object_set_new(p, "text", json_string(m->c->post_body ? m->c->post_body : ""));
	buf_free(&b);
	return p;
}

static json_t *
bulletin_json(const struct store_out *m)
{
	struct buf b = BUF_INIT;
	json_t *p = json_object();

	json_object_set_new(p, "sender", json_string(m->c->post_author ? m->c->post_author : ""));
	words_scope(&b, m->c->channel_kind, m->c->channel_name ? m->c->channel_name : "");
	json_object_set_new(p, "scope", tpl_str_take(&b));
	words_date(&b, (time_t)m->c->post_time, 0);
	json_object_set_new(p, "date", tpl_str_take(&b));
	json_object_set_new(p, "subject", json_string(m->c->post_subject ? m->c->post_subject : ""));
	json_object_set_new(p, "text", json_string(m->c->post_body ? m->c->post_body : ""));
	json_object_set_new(p, "can_reply", json_true());
	buf_free(&b);
	return p;
}

/* A held post, for its moderators or its author. */
static json_t *
held_json(const struct store_out *m)
{
	struct buf b = BUF_INIT;
	json_t *p = json_object();

	json_object_set_new(p, "author", json_string(m->c->post_author ? m->c->post_author : ""));
	json_object_set_new(p, "sender", json_string(m->c->post_sender ? m->c->post_sender : ""));
	json_object_set_new(p, "channel", json_string(m->c->channel_name ? m->c->channel_name : ""));
	words_date(&b, (time_t)m->c->post_time, 1);
	json_object_set_new(p, "date", tpl_str_take(&b));
	json_object_set_new(p, "subject", json_string(m->c->post_subject ? m->c->post_subject : ""));
	json_object_set_new(p, "reason", json_string(m->c->post_reason ? m->c->post_reason : ""));
	json_object_set_new(p, "text", json_string(m->c->post_body ? m->c->post_body : ""));
	buf_free(&b);
	return p;
}

/* The section of a digest for a channel kind, created on first use. */
static json_t *
digest_section(json_t *sections, const char *kind, const char *place)
{
	const char *title = words_section(kind);
	size_t i;
	json_t *sec;

	json_array_foreach(sections, i, sec)
		if (strcmp(json_string_value(json_object_get(sec, "title")), title) == 0)
			return sec;
	sec = json_pack("{s:s, s:o, s:[]}", "title", title,
	    "place", strcmp(kind, "city") == 0 || place == NULL ? json_null() : json_string(place),
	    "topics");
	json_array_append_new(sections, sec);
	return sec;
}

static json_t *
digest_topic(json_t *section, const char *topic)
{
	json_t *topics = json_object_get(section, "topics"), *t;
	const char *title = words_topic(topic);
	size_t i;

	json_array_foreach(topics, i, t) {
		const char *have = json_string_value(json_object_get(t, "title"));

		if ((have == NULL && title == NULL) || (have && title && strcmp(have, title) == 0))
			return t;
	}
	t = json_pack("{s:o, s:[]}", "title", title ? json_string(title) : json_null(), "posts");
	json_array_append_new(topics, t);
	return t;
}

/*
 * A digest for one resident: the building's posts (in the content, in the
 * order the store sorted them) numbered, grouped by section and topic,
 * each with the reply address of its thread, for this resident.
 */
static void
digest_json(const struct sender_opts *o, const struct store_out *m, json_t *content, json_t *d)
{
	json_t *sections = json_array(), *posts = json_object_get(content, "posts"), *p;
	struct buf b = BUF_INIT;
	size_t i, n = 0;

	json_array_foreach(posts, i, p) {
		json_t *sec = digest_section(sections, json_string_value(json_object_get(p, "channel_kind")),
		    json_string_value(json_object_get(p, "channel_name")));
		json_t *topic = digest_topic(sec, json_string_value(json_object_get(p, "topic")));
		json_t *item = json_object();

		json_object_set_new(item, "number", json_integer((json_int_t)++n));
		json_object_set(item, "subject", json_object_get(p, "subject"));
		json_object_set(item, "author", json_object_get(p, "author"));
		json_object_set(item, "text", json_object_get(p, "text"));
		words_date(&b, (time_t)json_integer_value(json_object_get(p, "at")), 1);
		json_object_set_new(item, "date", tpl_str_take(&b));
		addr_token(&b, o, "reply", TOKEN_REPLY, m->resident_id,
		    (long)json_integer_value(json_object_get(p, "thread")));
		json_object_set_new(item, "reply", tpl_str_take(&b));
		json_array_append_new(json_object_get(topic, "posts"), item);
	}
	json_object_set_new(d, "sections", sections);
	render_poll_digest(o, m, content, d);
	buf_puts(&b, strcmp(m->resident_digest ? m->resident_digest : "", "weekly") == 0 ?
	    "de la semaine" : "du jour");
	json_object_set_new(d, "period", tpl_str_take(&b));
	buf_printf(&b, "%zu message%s", n, n > 1 ? "s" : "");
	json_object_set_new(d, "summary", tpl_str_take(&b));
	buf_free(&b);
}

/*
 * What a content makes of itself for the templates, the same for every
 * resident: its data parsed, and the part its purpose shows (a bulletin's
 * or a post's, with a body of some kilobytes). A worker sends a batch of
 * one content's messages in a row: it is made once, not for each of them.
 * A content never changes once written, so its id is the key. One per
 * thread; render_thread_end() lets it go.
 */
struct content_cache {
	long	 id;
	json_t	*data;		/* the content's data, parsed; NULL if none */
	json_t	*part;		/* bulletin_json, post_json or held_json; NULL if none */
};

static _Thread_local struct content_cache cache;

void
render_thread_end(void)
{
	json_decref(cache.data);
	json_decref(cache.part);
	memset(&cache, 0, sizeof(cache));
}

static const struct content_cache *
content_of(const struct store_out *m)
{
	const char *p = m->c->purpose;

	if (cache.id == m->c->id && m->c->id != 0)
		return &cache;
	render_thread_end();
	cache.id = m->c->id;
	cache.data = m->c->data ? json_loads(m->c->data, 0, NULL) : NULL;
	if (strcmp(p, "bulletin") == 0)
		cache.part = bulletin_json(m);
	else if (strcmp(p, "post") == 0)
		cache.part = post_json(m);
	else if (strcmp(p, "moderation") == 0 || strcmp(p, "refusal") == 0)
		cache.part = held_json(m);
	return &cache;
}

/* The template's base name (the caller frees it) and its data; NULL for an unknown purpose. */
static char *
template_data(const struct sender_opts *o, const struct store_out *m, json_t *d)
{
	char *name = NULL;
	const struct content_cache *cc = content_of(m);
	json_t *content = cc->data;
	char *aide = xasprintf("aide@%s", o->cfg->mail_domain);

	json_object_set_new(d, "aide", json_string(aide));
	json_object_set_new(d, "from_name", json_string(o->cfg->mail_from_name));
	json_object_set_new(d, "resident", resident_json(o, m));
	if (strcmp(m->c->purpose, "bulletin") == 0) {
		name = xstrdup("bulletin");
		json_object_set(d, "bulletin", cc->part);
	} else if (strcmp(m->c->purpose, "post") == 0) {
		name = xstrdup("post");
		json_object_set(d, "post", cc->part);
	} else if (strcmp(m->c->purpose, "moderation") == 0 || strcmp(m->c->purpose, "refusal") == 0) {
		name = xstrdup(m->c->purpose);
		json_object_set(d, "post", cc->part);
		json_object_set_new(d, "moderator", json_pack("{s:s}", "name",
		    m->moderator_name ? m->moderator_name : ""));
	} else if (strcmp(m->c->purpose, "digest") == 0 && content) {
		name = xstrdup("digest");
		digest_json(o, m, content, d);
	} else if (strncmp(m->c->purpose, "poll-", 5) == 0 && content) {
		name = render_poll_data(o, m, content, d);
	} else if (strcmp(m->c->purpose, "answer") == 0 && content &&
	    json_string_value(json_object_get(content, "template"))) {
		name = xstrdup(json_string_value(json_object_get(content, "template")));
	}
	free(aide);
	return name;
}

/* Renders base.ext into out; -1 if there is no such template or it fails. */
static int
render_one(const struct sender_opts *o, const char *base, const char *ext, const json_t *d,
    struct buf *out)
{
	char *file = xasprintf("%s.%s", base, ext);
	const struct tpl *t = tpl_get(o->templates, file);
	int rc = t ? tpl_render(t, d, out) : -1;

	free(file);
	return rc;
}

static void
addr_token(struct buf *out, const struct sender_opts *o, const char *local,
    enum token_kind kind, long a, long b)
{
	char tok[TOKEN_MAX];

	token_make(o->key, kind, (uint64_t)a, (uint64_t)b, tok);
	buf_printf(out, "%s+%s@%s", local, tok, o->cfg->mail_domain);
}

static int
render_email(const struct sender_opts *o, const struct store_out *m, const char *name,
    const json_t *d, struct rendered *r)
{
	struct buf subject = BUF_INIT, text = BUF_INIT, html = BUF_INIT, from = BUF_INIT;
	struct buf reply = BUF_INIT, env = BUF_INIT, mid = BUF_INIT, list = BUF_INIT, unsub = BUF_INIT;
	struct compose_in c;
	char *mailto = xasprintf("aide@%s?subject=STOP", o->cfg->mail_domain);
	int rc = -1, has_html;

	if (render_one(o, name, "subject", d, &subject) < 0 || render_one(o, name, "txt", d, &text) < 0)
		goto out;
	has_html = render_one(o, name, "html", d, &html) == 0;
	memset(&c, 0, sizeof(c));
	c.to_addr = m->recipient;
	c.to_name = m->resident_name;
	c.subject = buf_cstr(&subject);
	c.text = buf_cstr(&text);
	c.html = has_html ? buf_cstr(&html) : NULL;
	c.date = (long long)time(NULL);
	c.auto_generated = 1;
	c.unsub_mailto = mailto;
	addr_token(&env, o, "bounce", TOKEN_BOUNCE, m->resident_id, m->id);
	/* Stable: a copy sent again after a crash has the same Message-ID. */
	buf_printf(&mid, "o%ld.%.8s@%s", m->id, strchr(buf_cstr(&env), '+') + 1, o->cfg->mail_domain);
	c.message_id = buf_cstr(&mid);
	if (m->moderator_id) {
		/* A moderation notice: answered with OK or REFUS, for this moderator and post. */
		buf_printf(&from, "aide@%s", o->cfg->mail_domain);
		c.from_addr = buf_cstr(&from);
		c.from_name = o->cfg->mail_from_name;
		addr_token(&reply, o, "moderation", TOKEN_MODERATE, m->moderator_id, m->c->post_id);
		c.reply_to = buf_cstr(&reply);
	} else if (m->c->channel_slug && strcmp(m->c->purpose, "refusal") != 0) {
		/* A post, a bulletin or a digest: from its channel; a post's answers go to its thread. */
		buf_printf(&from, "%s@%s", m->c->channel_slug, o->cfg->mail_domain);
		c.from_addr = buf_cstr(&from);
		c.from_name = m->c->post_author ? m->c->post_author : m->c->channel_name;
		if (m->c->post_id) {
			addr_token(&reply, o, "reply", TOKEN_REPLY, m->resident_id, m->c->thread_id);
			c.reply_to = buf_cstr(&reply);
			c.reply_to_name = m->c->channel_name;
		} else if (render_poll_reply_to(d) && strcmp(m->c->purpose, "poll-results") != 0) {
			/* An invitation and its answers: replying is voting (again). */
			c.reply_to = render_poll_reply_to(d);
			c.reply_to_name = m->c->channel_name;
		}
		buf_printf(&list, "%s <%s.%s>", m->c->channel_name, m->c->channel_slug, o->cfg->mail_domain);
		c.list_id = buf_cstr(&list);
	} else {
		buf_printf(&from, "aide@%s", o->cfg->mail_domain);
		c.from_addr = buf_cstr(&from);
		c.from_name = o->cfg->mail_from_name;
	}
	if (m->resident_id) {	/* moderators are not residents: no unsubscribe link */
		char tok[TOKEN_MAX];

		token_make(o->key, TOKEN_UNSUBSCRIBE, (uint64_t)m->resident_id, 0, tok);
		buf_printf(&unsub, "%s/unsubscribe/%s", o->cfg->http_public_url, tok);
		c.unsub_url = buf_cstr(&unsub);
	} else {
		c.unsub_mailto = NULL;
	}
	if (deliver_compose(&c, &r->data) < 0) {
		r->error = xstrdup(deliver_compose_check(&c));
		goto out;
	}
	r->envelope_from = buf_take(&env);
	rc = 0;
out:
	if (rc < 0 && r->error == NULL)
		r->error = xasprintf("template %s cannot be rendered", name);
	buf_free(&subject);
	buf_free(&text);
	buf_free(&html);
	buf_free(&from);
	buf_free(&reply);
	buf_free(&env);
	buf_free(&mid);
	buf_free(&list);
	buf_free(&unsub);
	free(mailto);
	return rc;
}

static int
also_by_email(const struct store_out *m)
{
	const char *p = m->c->purpose ? m->c->purpose : "";

	return m->resident_email && (strcmp(p, "bulletin") == 0 || strcmp(p, "poll-invite") == 0);
}

static int
render_sms(const struct sender_opts *o, const struct store_out *m, const char *name, const json_t *d,
    struct rendered *r)
{
	struct buf text = BUF_INIT;
	char *cut;
	int enc;

	if (render_one(o, name, "sms", d, &text) < 0) {
		r->error = xasprintf("template %s.sms cannot be rendered", name);
		buf_free(&text);
		return -1;
	}
	if (strcmp(o->cfg->sms_fold, "yes") == 0 && sms_encoding(buf_cstr(&text)) == SMS_UCS2) {
		/* One ê makes every part 70 characters instead of 160: fold where meaning survives. */
		char *folded = sms_fold_gsm7(buf_cstr(&text));

		buf_reset(&text);
		buf_puts(&text, folded);
		free(folded);
	}
	if ((cut = sms_cut(buf_cstr(&text), (int)o->cfg->sms_max_segments,
	    also_by_email(m) ? SMS_CUT_EMAIL : SMS_CUT_ONLY)) == NULL)
		cut = xstrdup(buf_cstr(&text));
	buf_puts(&r->data, cut);
	r->segments = sms_segments(cut, &enc);
	free(cut);
	buf_free(&text);
	return 0;
}

int
render_message(const struct sender_opts *o, const struct store_out *m, struct rendered *r)
{
	json_t *d = json_object();
	char *name = m->c->purpose ? template_data(o, m, d) : NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if (name == NULL) {
		r->error = xasprintf("no template for purpose %s", m->c->purpose ? m->c->purpose : "(none)");
		json_decref(d);
		return -1;
	}
	rc = strcmp(m->kind, "sms") == 0 ? render_sms(o, m, name, d, r) : render_email(o, m, name, d, r);
	json_decref(d);
	free(name);
	return rc;
}

void
rendered_clear(struct rendered *r)
{
	buf_free(&r->data);
	free(r->envelope_from);
	free(r->error);
	memset(r, 0, sizeof(*r));
}
