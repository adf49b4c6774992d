/*
 * decide.c — who may post where. A resident of the channel posts; a
 * publisher of it (or above) sends a bulletin; anyone else is held. A
 * reply token used from another address is held, never trusted. Posts go
 * through the filter rules; auto-replies are kept and never posted.
 * Reasons are French: moderators read them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/log.h"
#include "ingest/decide.h"

void
decide_who(const struct intake_item *it, struct store_who *w)
{
	memset(w, 0, sizeof(*w));
	w->sender = it->sender ? it->sender : "";
	w->by_phone = it->by_phone;
	if (it->route.kind == ROUTE_CHANNEL)
		w->slug = it->route.slug;
	w->home = it->route.kind == ROUTE_HOME;
	if (it->route.kind == ROUTE_REPLY) {
		w->token_resident = (long)it->route.a;
		w->thread = (long)it->route.b;
	}
}

static void
row_base(const struct intake_item *it, struct store_inbound *row, const char *disposition)
{
	memset(row, 0, sizeof(*row));
	row->source = it->source;
	row->via = it->via;
	row->dedup_key = it->dedup_key;
	row->envelope_from = it->envelope_from;
	row->recipient = it->recipient;
	row->sender = it->sender;
	row->subject = it->subject;
	row->raw = it->raw;
	row->rawlen = it->rawlen;
	row->attachments_json = it->attachments_json;
	row->disposition = disposition;
}

static void
classify(const struct intake_item *it, enum classify_role role, const struct rules *rules,
    struct decide_scratch *sc)
{
	struct classify_input in = {
		it->by_phone ? CLASSIFY_SMS : CLASSIFY_EMAIL, role,
		it->subject ? it->subject : "", it->body ? it->body : "",
		it->header_names, it->header_values, it->nheaders,
	};

	if (rules == NULL) {
		memset(&sc->cls, 0, sizeof(sc->cls));
		return;
	}
	classify_run(rules, &in, &sc->cls);
}

static const char *
tags_json(struct decide_scratch *sc)
{
	json_t *arr;

	if (sc->cls.ntags == 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < sc->cls.ntags; i++)
		json_array_append_new(arr, json_string(sc->cls.tags[i]));
	sc->tags_json = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return sc->tags_json;
}

/* The post's status and reason: the rules' decision, never milder than forced. */
static void
post_status(struct store_inbound *row, struct decide_scratch *sc, const char *forced_hold)
{
	row->topic = sc->cls.topic;
	row->tags_json = tags_json(sc);
	if (sc->cls.decision == CLASSIFY_REFUSE) {
		row->status = "refused";
		row->reason = sc->cls.reason;
	} else if (forced_hold || sc->cls.decision == CLASSIFY_HOLD || sc->cls.limited) {
		/* A rule cut short by its limits could have held it: fail closed. */
		row->status = "held";
		row->reason = forced_hold ? forced_hold : sc->cls.decision == CLASSIFY_HOLD ?
		    sc->cls.reason : "les filtres n'ont pas pu lire ce message jusqu'au bout";
	} else {
		row->status = "published";
	}
}

/* Nothing but spaces and line ends (or nothing at all). */
static int
blank(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/*
 * A post that says nothing — no text and no subject of its own (clients
 * write "(sans objet)" for none) — is held, not sent to a whole building.
 */
static int
says_nothing(const char *subject, const char *body)
{
	return blank(body) && (blank(subject) || strcasecmp(subject, "(sans objet)") == 0 ||
	    strcasecmp(subject, "(no subject)") == 0 || strcasecmp(subject, "(pas d'objet)") == 0);
}

#define EMPTY_REASON	"le message est vide"

/* The body without the "#quartier" or "#ville" that moved it. Borrowed from body. */
static const char *
without_hashtag(const char *body)
{
	static const char *const tags[] = { "#quartier", "#ville" };
	const char *p = body ? body : "";

	while (*p == ' ' || *p == '\n' || *p == '\t')
		p++;
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(tags[i]);

		if (strncasecmp(p, tags[i], n) == 0 && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n' ||
		    p[n] == ':' || p[n] == ',')) {
			p += n;
			while (*p == ' ' || *p == '\n' || *p == ':' || *p == ',')
				p++;
			return p;
		}
	}
	return body ? body : "";
}

/* Moves a post up to its district or city when a rule says so. */
static long
scoped_channel(const struct store_who *w, const struct decide_scratch *sc)
{
	if (sc->cls.scope == CLASSIFY_DISTRICT && w->district_id)
		return w->district_id;
	if (sc->cls.scope == CLASSIFY_CITY && w->city_id)
		return w->city_id;
	return w->channel_id;
}

static int
decide_channel(struct intake_item *it, const struct store_who *w, const struct rules *rules,
    struct store_inbound *row, struct decide_scratch *sc)
{
	const char *hold = NULL;
	enum classify_role role;

	if (w->channel_id == 0 && it->route.kind == ROUTE_HOME) {
		row_base(it, row, "ignored");	/* an unknown number: kept, never answered */
		row->note = "unknown number";
		return 0;
	}
	if (w->channel_id == 0) {
		it->result = INTAKE_REJECT;
		return -1;
	}
	if (it->automatic) {
		row_base(it, row, "automatic");
		row->note = it->automatic_why;
		return 0;
	}
	if (w->publisher_id && !it->by_phone && !it->unverified &&
	    poll_draft_parse(it->subject, it->body, &sc->draft)) {
		row_base(it, row, "command");
		row->note = "poll by email";
		row->poll_draft = 1;
		row->channel_id = w->channel_id;
		row->publisher_id = w->publisher_id;
		sc->author = xstrdup(w->publisher_name ? w->publisher_name :
		    it->sender_name ? it->sender_name : it->sender);
		row->author = sc->author;
		row->draft_question = sc->draft.question;
		sc->draft_options = store_poll_options_literal((const char *const *)sc->draft.options,
		    sc->draft.noptions);
		row->draft_options = sc->draft_options;
		row->draft_closes = sc->draft.closes;
		row->draft_problem = sc->draft.problem;
		return 0;
	}
	if (w->publisher_id && !it->by_phone) {
		role = CLASSIFY_PUBLISHER;
		row_base(it, row, "bulletin");
		row->post_kind = "bulletin";
		row->publisher_id = w->publisher_id;
		sc->author = xstrdup(w->publisher_name ? w->publisher_name :
		    it->sender_name ? it->sender_name : it->sender);
	} else {
		/* A sender a moderator trusted goes through the rules as a resident does. */
		role = w->resident_id || w->trusted ? CLASSIFY_RESIDENT : CLASSIFY_UNKNOWN;
		row_base(it, row, "post");
		row->post_kind = "post";
		row->resident_id = w->resident_id;
		sc->author = xstrdup(w->resident_name ? w->resident_name :
		    it->sender_name ? it->sender_name : it->sender ? it->sender : "?");
		if (!w->resident_id && !w->trusted)
			hold = "l'expéditeur n'est pas un résident de ce canal";
	}
	if (it->unverified)
		hold = "l'adresse de l'expéditeur n'a pas pu être vérifiée";
	if (hold == NULL && says_nothing(it->subject, it->body))
		hold = EMPTY_REASON;
	classify(it, role, rules, sc);
	post_status(row, sc, hold);
	row->channel_id = scoped_channel(w, sc);
	row->author_verified = it->verified;
	row->author = sc->author;
	row->post_subject = it->subject ? it->subject : "";
	row->body = sc->cls.scope != CLASSIFY_SAME ? without_hashtag(it->body) : it->body ? it->body : "";
	return 0;
}

static int
decide_reply(struct intake_item *it, const struct store_who *w, const struct rules *rules,
    struct store_inbound *row, struct decide_scratch *sc)
{
	const char *hold = NULL;

	if (w->thread_root == 0 || w->channel_id == 0) {
		it->result = INTAKE_REJECT;
		return -1;
	}
	if (it->automatic) {
		row_base(it, row, "automatic");
		row->note = it->automatic_why;
		return 0;
	}
	row_base(it, row, "reply");
	row->post_kind = "reply";
	row->author_verified = it->verified;
	row->thread_id = w->thread_root;
	row->channel_id = w->channel_id;
	row->resident_id = w->resident_id;
	if (!w->resident_id)
		hold = "jeton de réponse utilisé depuis une autre adresse";
	else if (it->unverified)
		hold = "l'adresse de l'expéditeur n'a pas pu être vérifiée";
	else if (blank(it->body))	/* only a quote, or nothing: "Re: ..." is not a text */
		hold = EMPTY_REASON;
	sc->author = xstrdup(w->resident_name ? w->resident_name :
	    it->sender_name ? it->sender_name : it->sender ? it->sender : "?");
	classify(it, w->resident_id ? CLASSIFY_RESIDENT : CLASSIFY_UNKNOWN, rules, sc);
	post_status(row, sc, hold);
	row->author = sc->author;
	row->post_subject = it->subject ? it->subject : "";
	row->body = it->body ? it->body : "";
	return 0;
}

/* A vote: written by the vote statement, which decides whether it counts. */
static int
decide_vote(struct intake_item *it, struct store_inbound *row)
{
	static const char *const notes[] = {
		[VOTE_COUNT] = "vote", [VOTE_UNCLEAR] = "vote not understood",
		[VOTE_LATE] = "vote after the close",
	};

	row_base(it, row, "vote");
	row->note = notes[it->vote.kind];
	row->vote_poll = it->vote.poll;
	row->vote_resident = it->vote.resident;
	row->vote_choice = it->vote.choice;
	row->vote_by_phone = it->by_phone;
	row->vote_several = it->vote.several;
	return 0;
}

int
decide_row(struct intake_item *it, const struct store_who *w, const struct rules *rules,
    struct store_inbound *row, struct decide_scratch *sc)
{
	memset(sc, 0, sizeof(*sc));
	if (it->command && !it->automatic) {
		row_base(it, row, "command");
		row->command = it->command;
		row->command_by_phone = it->by_phone;
		row->answer = it->answer;
		return 0;
	}
	if (it->vote.kind != VOTE_NONE && !it->automatic)
		return decide_vote(it, row);
	switch (it->route.kind) {
	case ROUTE_CHANNEL:
	case ROUTE_HOME:
		return decide_channel(it, w, rules, row, sc);
	case ROUTE_REPLY:
		return decide_reply(it, w, rules, row, sc);
	case ROUTE_BOUNCE:
		if (it->bounce_json) {
			row_base(it, row, "bounce");
			row->bounce_json = it->bounce_json;
			row->bounce_outgoing = (long)it->route.b;
			row->bounce_resident = (long)it->route.a;
		} else {
			row_base(it, row, it->automatic ? "automatic" : "ignored");
			row->note = it->automatic ? it->automatic_why : "not a bounce";
		}
		return 0;
	case ROUTE_VOTE:
		/* No such poll for this token, or its resident was never asked. */
		row_base(it, row, it->automatic ? "automatic" : "ignored");
		row->note = it->automatic ? it->automatic_why : "no poll for this vote address";
		return 0;
	case ROUTE_POLL:	/* a publisher's OK (or REFUS) to the poll they drafted */
		row_base(it, row, it->automatic || it->mod_action == NULL ? "ignored" : "command");
		row->note = it->automatic ? it->automatic_why : it->mod_action ? "poll confirmation" :
		    "an answer to a poll draft without OK or REFUS";
		if (!it->automatic && it->mod_action) {
			row->poll_confirm = (long)it->route.b;
			row->publisher_id = (long)it->route.a;
			row->mod_action = it->mod_action;
		}
		return 0;
	case ROUTE_HELP:	/* an auto-reply, or a forged sender: kept, never answered */
		row_base(it, row, it->automatic ? "automatic" : "ignored");
		row->note = it->automatic ? it->automatic_why : "the sender could not be verified";
		return 0;
	case ROUTE_MODERATE:
		row_base(it, row, it->automatic || it->mod_action == NULL ? "ignored" : "command");
		row->note = it->automatic ? it->automatic_why : it->mod_action ? "moderation" :
		    "a moderator's answer without OK or REFUS";
		if (!it->automatic && it->mod_action) {
			row->mod_action = it->mod_action;
			row->mod_id = (long)it->route.a;
			row->mod_post = (long)it->route.b;
			row->mod_reason = it->mod_reason;
			row->mod_trust = it->mod_trust;
		}
		return 0;
	default:
		row_base(it, row, "ignored");
		row->note = "no handler for this address";
		return 0;
	}
}

void
decide_finish(struct intake_item *it, const struct store_inbound *row)
{
	it->result = INTAKE_STORED;
	it->inbound_id = row->inbound_id;
	it->post_id = row->post_id;
	snprintf(it->disposition, sizeof(it->disposition), "%s", row->disposition);
	snprintf(it->status, sizeof(it->status), "%s", row->post_kind && row->status ? row->status : "");
}

void
decide_scratch_free(struct decide_scratch *sc)
{
	classify_result_free(&sc->cls);
	free(sc->tags_json);
	free(sc->note);
	free(sc->author);
	free(sc->draft_options);
	poll_draft_free(&sc->draft);
	memset(sc, 0, sizeof(*sc));
}
