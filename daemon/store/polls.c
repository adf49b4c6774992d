/*
 * polls.c — consultative polls: opening (electorate and invitations in one
 * transaction), the vote statement the intake sends, closing with results
 * queued, and the tally. One ballot per resident and poll is the primary
 * key of ballots; a vote and the close serialise on the poll's row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/db.h"
#include "store/polls.h"

/* Residents in scope of a channel: its buildings, whatever its level. */
#define IN_SCOPE(chan) \
    " JOIN channels b ON b.id = r.building_id LEFT JOIN channels d ON d.id = b.parent_id" \
    " WHERE " chan " IN (b.id, b.parent_id, d.parent_id)"

#define EMAIL_OK(r)	"(" r ".email IS NOT NULL AND " r ".email_stopped_at IS NULL AND " \
    r ".email_suspended_at IS NULL)"
#define PHONE_OK(r)	"(" r ".phone IS NOT NULL AND " r ".sms_stopped_at IS NULL)"

/* "2026-12-01 18:00" is Paris time; a text with an offset or Z says its own. */
#define CLOSES(p) \
    "(CASE WHEN " p " ~ '([+-][0-9]{2}(:?[0-9]{2})?|Z)$' THEN " p "::timestamptz" \
    " ELSE " p "::timestamp AT TIME ZONE 'Europe/Paris' END)"

static const char check_sql[] =
    "SELECT (SELECT id FROM channels WHERE slug = $1), " CLOSES("$2") " > now() + interval '1 second'";

static const char insert_sql[] =
    "INSERT INTO polls (channel_id, question, options, sender, state, created_by, closes_at)"
    " SELECT id, $2, $3::text[], $4, 'confirmed', $5, " CLOSES("$6")
    " FROM channels WHERE slug = $1"
    " RETURNING id";

/*
 * Opens a confirmed poll: the first code no open poll has (under a lock:
 * two polls opening at once get two codes); a poll whose end has passed
 * meanwhile, or with no code left, is cancelled instead.
 */
static const char open_sql[] =
    "WITH lock AS (SELECT pg_advisory_xact_lock(hashtext('palier:poll-codes')) AS l),"
    " code AS (SELECT chr(65 + g) AS c FROM lock, generate_series(0, 25) g"
    "   WHERE chr(65 + g) NOT IN (SELECT code FROM polls WHERE state = 'open' AND code IS NOT NULL)"
    "   ORDER BY g LIMIT 1)"
    " UPDATE polls p SET opened_at = now(), code = coalesce(code.c, p.code),"
    "   state = CASE WHEN code.c IS NULL OR p.closes_at <= now() THEN 'cancelled' ELSE 'open' END"
    " FROM (SELECT 1) one LEFT JOIN code ON true"
    " WHERE p.id = $1 AND p.state = 'confirmed'"
    " RETURNING p.state, coalesce(p.code, '')";

/*
 * The electorate and the invitations: an email to each usable address, an
 * SMS to each usable phone whose resident chose SMS or has no usable
 * address (as bulletins go). Residents with another open poll get the
 * invitation that carries this poll's code.
 */
static const char invite_sql[] =
    "WITH p AS (SELECT * FROM polls WHERE id = $1),"
    " sc AS (SELECT r.id, r.building_id, r.email, r.phone, r.sms,"
    "     " EMAIL_OK("r") " AS email_ok, " PHONE_OK("r") " AS phone_ok"
    "   FROM p, residents r" IN_SCOPE("p.channel_id")
    "     AND (" EMAIL_OK("r") " OR " PHONE_OK("r") ")),"
    " el AS (INSERT INTO electorate (poll_id, resident_id, building_id)"
    "   SELECT $1, id, building_id FROM sc RETURNING resident_id),"
    " other AS (SELECT DISTINCT e.resident_id FROM electorate e JOIN polls o ON o.id = e.poll_id"
    "   WHERE o.state = 'open' AND o.id <> $1),"
    " ct AS (INSERT INTO contents (purpose, channel_id, poll_id, data)"
    "   SELECT 'poll-invite', p.channel_id, p.id, jsonb_build_object('poll'," POLL_DATA("p")
    "     || jsonb_build_object('code', CASE WHEN coded THEN p.code ELSE '' END))"
    "   FROM p, (VALUES (false), (true)) v(coded) RETURNING id, (data->'poll'->>'code') <> '' AS coded),"
    " inv AS (SELECT sc.*, other.resident_id IS NOT NULL AS coded FROM sc"
    "   LEFT JOIN other ON other.resident_id = sc.id),"
    " e AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient)"
    "   SELECT ct.id, 'email', inv.id, inv.email FROM inv JOIN ct ON ct.coded = inv.coded"
    "   WHERE inv.email_ok RETURNING 1),"
    " m AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient)"
    "   SELECT ct.id, 'sms', inv.id, inv.phone FROM inv JOIN ct ON ct.coded = inv.coded"
    "   WHERE inv.phone_ok AND (inv.sms OR NOT inv.email_ok) RETURNING 1)"
    " SELECT (SELECT count(*) FROM el), (SELECT count(*) FROM e), (SELECT count(*) FROM m)";

char *
store_poll_options_literal(const char *const *options, int n)
{
	struct buf b = BUF_INIT;

	/* A PostgreSQL array literal: every element quoted, " and \ escaped. */
	buf_putc(&b, '{');
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_putc(&b, '"');
		for (const char *c = options[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_putc(&b, '\\');
			buf_putc(&b, *c);
		}
		buf_putc(&b, '"');
	}
	buf_putc(&b, '}');
	return buf_take(&b);
}

/* Trims and checks one option or question; an error message or NULL. */
static const char *
check_text(const char *t, size_t max)
{
	size_t n = strlen(t);

	if (n == 0 || strspn(t, " \t\r\n") == n)
		return "is empty";
	if (n > max)
		return "is too long";
	if (strpbrk(t, "\r\n"))
		return "holds a line break";
	return NULL;
}

/*
 * Opens confirmed poll out->id in the caller's transaction: its code, its
 * electorate, its invitations. out->electorate is -1 when it could not
 * open (cancelled: no code left, or its end has passed). 0, or -1.
 */
static int
poll_open(struct store *s, struct poll_opened *out)
{
	char idbuf[24];
	const char *params[1] = { idbuf };
	PGresult *r;

	snprintf(idbuf, sizeof(idbuf), "%ld", out->id);
	if ((r = db_exec(s, open_sql, 1, params)) == NULL)
		return -1;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "open") != 0) {
		PQclear(r);
		out->electorate = -1;
		log_warn("poll_cancelled", "poll=%ld why=%s", out->id,
		    "no code left or its end has passed");
		return 0;
	}
	snprintf(out->code, sizeof(out->code), "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	if ((r = db_exec(s, invite_sql, 1, params)) == NULL)
		return -1;
	out->electorate = atol(PQgetvalue(r, 0, 0));
	out->emails = atol(PQgetvalue(r, 0, 1));
	out->sms = atol(PQgetvalue(r, 0, 2));
	PQclear(r);
	log_info("poll_opened", "poll=%ld code=%s electorate=%ld emails=%ld sms=%ld", out->id,
	    out->code, out->electorate, out->emails, out->sms);
	return 0;
}

int
store_poll_open_confirmed(struct store *s, long *opened)
{
	PGresult *r;
	struct poll_opened out;

	*opened = 0;
	for (;;) {
		if (db_begin(s) < 0)
			return -1;
		r = db_exec(s, "SELECT id FROM polls WHERE state = 'confirmed' ORDER BY id LIMIT 1"
		    " FOR UPDATE SKIP LOCKED", 0, NULL);
		if (r == NULL)
			goto fail;
		if (PQntuples(r) == 0) {
			PQclear(r);
			db_rollback(s);
			return 0;
		}
		memset(&out, 0, sizeof(out));
		out.id = atol(PQgetvalue(r, 0, 0));
		PQclear(r);
		if (poll_open(s, &out) < 0 || db_commit(s) < 0)
			goto fail;
		*opened += out.electorate >= 0;
	}
fail:
	db_rollback(s);
	return -1;
}

/* The channel exists and the closing time is a date to come; -1 with the reason. */
static int
open_check(struct store *s, const struct poll_new *p)
{
	const char *params[2] = { p->slug, p->closes };
	PGresult *r = db_exec(s, check_sql, 2, params);
	int rc = -1;

	if (r == NULL) {
		if (!store_down(s))
			db_fail(s, "the closing time '%s' is not a date: write it YYYY-MM-DD HH:MM (Paris time)",
			    p->closes);
		return -1;
	}
	if (PQgetisnull(r, 0, 0))
		db_fail(s, "no channel has the slug '%s' (see palierctl channels)", p->slug);
	else if (PQgetvalue(r, 0, 1)[0] != 't')
		db_fail(s, "the closing time '%s' is already past", p->closes);
	else
		rc = 0;
	PQclear(r);
	return rc;
}

int
store_poll_create(struct store *s, const struct poll_new *p, struct poll_opened *out)
{
	char *opts;
	const char *why;
	const char *params[6];
	PGresult *r;

	memset(out, 0, sizeof(*out));
	if (p->noptions < 2 || p->noptions > POLL_MAX_OPTIONS) {
		db_fail(s, "a poll has 2 to %d options, not %d", POLL_MAX_OPTIONS, p->noptions);
		return -1;
	}
	if ((why = check_text(p->question, 300)) != NULL) {
		db_fail(s, "the question %s", why);
		return -1;
	}
	for (int i = 0; i < p->noptions; i++) {
		if ((why = check_text(p->options[i], 80)) != NULL) {
			db_fail(s, "option %d %s", i + 1, why);
			return -1;
		}
		for (int k = 0; k < i; k++)
			if (strcasecmp(p->options[i], p->options[k]) == 0) {
				db_fail(s, "options %d and %d are the same", k + 1, i + 1);
				return -1;
			}
	}
	if (open_check(s, p) < 0)
		return -1;
	opts = store_poll_options_literal(p->options, p->noptions);
	params[0] = p->slug;
	params[1] = p->question;
	params[2] = opts;
	params[3] = p->sender;
	params[4] = p->created_by;
	params[5] = p->closes;
	if (db_begin(s) < 0) {
		free(opts);
		return -1;
	}
	r = db_exec(s, insert_sql, 6, params);
	free(opts);
	if (r == NULL)
		goto fail;
	if (PQntuples(r) != 1) {
		db_fail(s, "no channel has the slug '%s' (see palierctl channels)", p->slug);
		PQclear(r);
		goto fail;
	}
	out->id = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (poll_open(s, out) < 0)
		goto fail;
	if (out->electorate < 0) {
		db_fail(s, "26 polls are open already: close one first");
		goto fail;
	}
	if (db_commit(s) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(s);
	memset(out, 0, sizeof(*out));
	return -1;
}
/* ---- the tally ---- */

static const char results_sql[] =
    "WITH p AS (SELECT * FROM polls WHERE id = $1),"
    " t AS (SELECT b.choice, b.source, e.building_id FROM ballots b"
    "   JOIN electorate e ON e.poll_id = b.poll_id AND e.resident_id = b.resident_id"
    "   WHERE b.poll_id = $1),"
    " opt AS (SELECT o.n, o.label FROM p, unnest(p.options) WITH ORDINALITY o(label, n)),"
    " el AS (SELECT building_id, count(*) AS n FROM electorate WHERE poll_id = $1 GROUP BY 1),"
    " bc AS (SELECT building_id, choice, count(*) AS n FROM t GROUP BY 1, 2),"
    " bb AS (SELECT el.building_id, c.slug, c.name, el.n AS electorate,"
    "     (SELECT coalesce(sum(n), 0) FROM bc WHERE bc.building_id = el.building_id) AS voted,"
    "     (SELECT jsonb_agg(coalesce((SELECT n FROM bc WHERE bc.building_id = el.building_id"
    "       AND bc.choice = opt.n), 0) ORDER BY opt.n) FROM opt) AS votes"
    "   FROM el JOIN channels c ON c.id = el.building_id)"
    " SELECT jsonb_build_object('id', p.id, 'question', p.question, 'sender', p.sender,"
    "   'channel', ch.slug, 'channel_name', ch.name, 'channel_kind', ch.kind, 'code', p.code,"
    "   'closed', p.state = 'closed',"
    "   'opened_at', extract(epoch FROM p.opened_at)::bigint,"
    "   'closes_at', extract(epoch FROM p.closes_at)::bigint,"
    "   'closed_at', extract(epoch FROM p.closed_at)::bigint,"
    "   'electorate', (SELECT coalesce(sum(n), 0) FROM el)::bigint,"
    "   'voted', (SELECT count(*) FROM t),"
    "   'options', (SELECT jsonb_agg(jsonb_build_object('label', opt.label, 'votes',"
    "     (SELECT count(*) FROM t WHERE t.choice = opt.n)) ORDER BY opt.n) FROM opt),"
    "   'by_channel', jsonb_build_object("
    "     'email', (SELECT count(*) FROM t WHERE source = 'email'),"
    "     'sms', (SELECT count(*) FROM t WHERE source = 'sms')),"
    "   'by_building', (SELECT coalesce(jsonb_agg(jsonb_build_object('building', slug, 'name', name,"
    "     'electorate', electorate, 'voted', voted, 'votes', votes) ORDER BY name, slug), '[]')"
    "     FROM bb))::text"
    " FROM p JOIN channels ch ON ch.id = p.channel_id";

int
store_poll_results(struct store *s, long id, char **json)
{
	char idbuf[24];
	const char *params[1] = { idbuf };
	PGresult *r;
	int found;

	*json = NULL;
	snprintf(idbuf, sizeof(idbuf), "%ld", id);
	if ((r = db_exec(s, results_sql, 1, params)) == NULL)
		return -1;
	found = PQntuples(r) == 1;
	if (found)
		*json = db_strdup(r, 0, 0);
	PQclear(r);
	return found;
}

int
store_polls_list(struct store *s, char **json)
{
	PGresult *r = db_exec(s,
	    "SELECT coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'channel', c.slug,"
	    "   'question', p.question, 'state', p.state, 'code', p.code,"
	    "   'closes_at', to_char(p.closes_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	    "   'electorate', (SELECT count(*) FROM electorate e WHERE e.poll_id = p.id),"
	    "   'voted', (SELECT count(*) FROM ballots b WHERE b.poll_id = p.id)) ORDER BY p.id DESC), '[]')::text"
	    " FROM polls p JOIN channels c ON c.id = p.channel_id", 0, NULL);

	*json = NULL;
	if (r == NULL)
		return -1;
	*json = db_strdup(r, 0, 0);
	PQclear(r);
	return 0;
}

/* ---- closing ---- */

static const char close_sql[] =
    "UPDATE polls SET state = 'closed', closed_at = now()"
    " WHERE state = 'open' AND (id = $1::bigint OR ($1 IS NULL AND closes_at <= now()))"
    " RETURNING id";

/*
 * The results, once: by email to the voters who voted by email, one SMS
 * to those who voted by SMS (as long as they can still be reached).
 */
static const char results_queue_sql[] =
    "WITH p AS (SELECT * FROM polls WHERE id = $1),"
    " ct AS (INSERT INTO contents (purpose, channel_id, poll_id, data)"
    "   SELECT 'poll-results', p.channel_id, p.id, jsonb_build_object('poll', $2::jsonb) FROM p"
    "   RETURNING id),"
    " v AS (SELECT r.id, r.email, r.phone, b.source, " EMAIL_OK("r") " AS email_ok,"
    "     " PHONE_OK("r") " AS phone_ok"
    "   FROM ballots b JOIN residents r ON r.id = b.resident_id WHERE b.poll_id = $1),"
    " e AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient)"
    "   SELECT ct.id, 'email', v.id, v.email FROM ct, v WHERE v.source = 'email' AND v.email_ok"
    "   RETURNING 1),"
    " m AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient)"
    "   SELECT ct.id, 'sms', v.id, v.phone FROM ct, v WHERE v.source = 'sms' AND v.phone_ok"
    "   RETURNING 1)"
    " SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM m)";

int
store_poll_close(struct store *s, long id, long *closed)
{
	char idbuf[24], *doc;
	const char *params[2] = { id ? idbuf : NULL, NULL };
	PGresult *r;
	long *ids = NULL;
	int n;

	*closed = 0;
	snprintf(idbuf, sizeof(idbuf), "%ld", id);
	if (db_begin(s) < 0)
		return -1;
	if ((r = db_exec(s, close_sql, 1, params)) == NULL)
		goto fail;
	n = PQntuples(r);
	ids = xcalloc((size_t)n + 1, sizeof(*ids));
	for (int i = 0; i < n; i++)
		ids[i] = atol(PQgetvalue(r, i, 0));
	PQclear(r);
	for (int i = 0; i < n; i++) {
		if (store_poll_results(s, ids[i], &doc) != 1)
			goto fail;
		snprintf(idbuf, sizeof(idbuf), "%ld", ids[i]);
		params[0] = idbuf;
		params[1] = doc;
		r = db_exec(s, results_queue_sql, 2, params);
		free(doc);
		if (r == NULL)
			goto fail;
		log_info("poll_closed", "poll=%ld emails=%s sms=%s", ids[i], PQgetvalue(r, 0, 0),
		    PQgetvalue(r, 0, 1));
		PQclear(r);
	}
	if (db_commit(s) < 0)
		goto fail;
	free(ids);
	*closed = n;
	return id && n == 0 ? 1 : 0;
fail:
	free(ids);
	db_rollback(s);
	return -1;
}

/* ---- votes ---- */

/*
 * For each message: the polls of its resident (by phone, the first
 * resident with that number, as the intake does; by token, the token's)
 * that are open or closed lately, newest first.
 */
static const char lookup_sql[] =
    "SELECT j.i, p.id, e.resident_id, p.code, p.state = 'open' AND p.closes_at > now(),"
    "   to_jsonb(p.options)::text"
    " FROM jsonb_to_recordset($1::jsonb) AS j(i int, phone text, resident bigint, poll bigint)"
    " LEFT JOIN LATERAL (SELECT r.id FROM residents r WHERE j.phone IS NOT NULL AND r.phone = j.phone"
    "   ORDER BY r.id LIMIT 1) who ON true"
    " JOIN electorate e ON e.resident_id = coalesce(who.id, j.resident)"
    "   AND (j.poll = 0 OR e.poll_id = j.poll)"
    " JOIN polls p ON p.id = e.poll_id"
    " WHERE p.state = 'open' OR p.closed_at > now() - make_interval(days => $2::int)"
    "   OR j.poll > 0"
    " ORDER BY j.i, p.id DESC";

int
store_vote_lookup_prepare(struct store *s)
{
	return db_prepare(s, "vote_lookup", lookup_sql, 2);
}

void
store_vote_lookup_send(struct store *s, struct vote_query *q, size_t n)
{
	json_t *arr = json_array();
	char days[16], *doc;
	const char *params[2];

	for (size_t i = 0; i < n; i++) {
		q[i].polls = NULL;
		q[i].npolls = 0;
		json_array_append_new(arr, json_pack("{s:i, s:s?, s:I, s:I}", "i", (int)i,
		    "phone", q[i].phone, "resident", (json_int_t)q[i].resident_id,
		    "poll", (json_int_t)q[i].poll_id));
	}
	doc = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	snprintf(days, sizeof(days), "%d", POLL_LATE_DAYS);
	params[0] = doc;
	params[1] = days;
	PQsendQueryPrepared(s->conn, "vote_lookup", 2, params, NULL, NULL, 0);
	free(doc);
}

void
store_vote_lookup_read(struct vote_query *q, size_t n, const PGresult *r)
{
	for (int row = 0; row < PQntuples(r); row++) {
		size_t at = (size_t)atoi(PQgetvalue(r, row, 0));
		struct vote_query *x;
		struct vote_poll *vp;
		json_t *opts, *o;
		size_t k;

		if (at >= n)
			continue;
		x = &q[at];
		opts = json_loads(PQgetvalue(r, row, 5), 0, NULL);
		x->polls = xreallocarray(x->polls, x->npolls + 1, sizeof(*x->polls));
		vp = &x->polls[x->npolls++];
		memset(vp, 0, sizeof(*vp));
		vp->id = atol(PQgetvalue(r, row, 1));
		vp->resident_id = atol(PQgetvalue(r, row, 2));
		vp->code = PQgetvalue(r, row, 3)[0];
		vp->open = PQgetvalue(r, row, 4)[0] == 't';
		json_array_foreach(opts, k, o)
			if (k < POLL_MAX_OPTIONS && json_string_value(o))
				vp->options[vp->noptions++] = xstrdup(json_string_value(o));
		json_decref(opts);
	}
}

void
store_vote_query_clear(struct vote_query *q)
{
	for (size_t i = 0; i < q->npolls; i++)
		for (int k = 0; k < q->polls[i].noptions; k++)
			free(q->polls[i].options[k]);
	free(q->polls);
	q->polls = NULL;
	q->npolls = 0;
}

/*
 * $1 source, $2 via, $3 dedup key, $4 envelope sender, $5 recipient,
 * $6 sender, $7 subject, $8 raw, $9 note, $10 poll, $11 resident,
 * $12 choice (NULL: not understood), $13 by SMS, $14 the resident's
 * other open polls are to be named (several).
 */
static const char store_vote_sql[] =
    "WITH ins AS (INSERT INTO inbound (source, via, dedup_key, envelope_from, recipient, sender,"
    "   subject, raw, disposition, note)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, 'vote', $9)"
    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id),"
    /* The poll's row, shared: a close waits for this vote, or this vote sees the close. */
    " p AS (SELECT p.*, p.state = 'open' AND p.closes_at > now() AS open FROM polls p, ins"
    "   WHERE p.id = $10 FOR SHARE OF p),"
    " el AS (SELECT 1 FROM electorate e WHERE e.poll_id = $10 AND e.resident_id = $11),"
    " own AS (SELECT 1 FROM residents r WHERE r.id = $11 AND CASE WHEN $13::boolean"
    "   THEN r.phone = $6 ELSE lower(r.email) = lower($6) END),"
    " before AS (SELECT count(*) FILTER (WHERE outcome = 'unclear') AS unclear,"
    "   count(*) FILTER (WHERE outcome = 'late') AS late FROM votes"
    "   WHERE poll_id = $10 AND resident_id = $11),"
    " v AS (INSERT INTO votes (poll_id, resident_id, inbound_id, choice, source, outcome)"
    "   SELECT $10, $11, ins.id, $12::smallint, $1,"
    "     CASE WHEN NOT EXISTS (SELECT 1 FROM el) OR NOT EXISTS (SELECT 1 FROM own) THEN 'held'"
    "       WHEN NOT p.open THEN 'late'"
    "       WHEN $12 IS NULL OR $12::int > array_length(p.options, 1) THEN 'unclear'"
    "       ELSE 'counted' END"
    "   FROM ins, p RETURNING id, outcome, choice),"
    " b AS (INSERT INTO ballots AS b (poll_id, resident_id, choice, source, vote_id)"
    "   SELECT $10, $11, v.choice, $1, v.id FROM v WHERE v.outcome = 'counted'"
    "   ON CONFLICT (poll_id, resident_id) DO UPDATE SET choice = EXCLUDED.choice,"
    "     source = EXCLUDED.source, vote_id = EXCLUDED.vote_id, cast_at = now(),"
    "     changes = b.changes + 1"
    "   RETURNING 1),"
    " mine AS (SELECT o.* FROM electorate e JOIN polls o ON o.id = e.poll_id"
    "   WHERE e.resident_id = $11 AND o.state = 'open' AND o.closes_at > now()),"
    " ans AS (SELECT CASE v.outcome WHEN 'counted' THEN 'poll-vote' WHEN 'late' THEN 'poll-closed'"
    "     ELSE 'poll-clarify' END AS purpose,"
    "     jsonb_build_object('poll', " POLL_DATA("p") ","
    "       'vote', jsonb_build_object('number', v.choice, 'label', p.options[v.choice]),"
    "       'several', $14::boolean,"
    "       'polls', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', mine.id,"
    "         'question', mine.question, 'code', CASE WHEN $14::boolean THEN mine.code ELSE '' END,"
    "         'options', to_jsonb(mine.options)) ORDER BY mine.id), '[]') FROM mine)) AS data"
    "   FROM v, p, before"
    "   WHERE v.outcome = 'counted' OR (v.outcome = 'late' AND before.late = 0)"
    "     OR (v.outcome = 'unclear' AND before.unclear = 0)),"
    " ct AS (INSERT INTO contents (purpose, channel_id, poll_id, data)"
    "   SELECT ans.purpose, p.channel_id, p.id, ans.data FROM ans, p RETURNING id),"
    " q AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient, urgent)"
    "   SELECT ct.id, CASE WHEN $13::boolean THEN 'sms' ELSE 'email' END, $11, $6, true FROM ct)"
    " SELECT (SELECT id FROM ins), NULL::bigint, (SELECT outcome FROM v)";

/*
 * A publisher's poll by email. $1..$9 the inbound row, $10 channel, $11
 * question, $12 options, $13 who asks, $14 publisher, $15 its end (Paris
 * time) or NULL for a week at 18:00, $16 the problem found in it, or NULL.
 */
static const char draft_sql[] =
    "WITH ins AS (INSERT INTO inbound (source, via, dedup_key, envelope_from, recipient, sender,"
    "   subject, raw, disposition, note)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, 'command', $9)"
    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id),"
    " w AS (SELECT coalesce($15::timestamp AT TIME ZONE 'Europe/Paris',"
    "     (date_trunc('day', now() AT TIME ZONE 'Europe/Paris') + interval '7 days 18 hours')"
    "       AT TIME ZONE 'Europe/Paris') AS closes),"
    " prob AS (SELECT coalesce($16::text, CASE WHEN w.closes <= now() + interval '1 hour'"
    "   THEN 'la date de fin est déjà passée' END) AS problem FROM w),"
    " p AS (INSERT INTO polls (channel_id, question, options, sender, state, created_by,"
    "   publisher_id, closes_at)"
    "   SELECT $10, $11, $12::text[], $13, 'draft', lower($6), $14, w.closes"
    "   FROM ins, w, prob WHERE prob.problem IS NULL RETURNING *),"
    " ct AS (INSERT INTO contents (purpose, channel_id, poll_id, data)"
    "   SELECT 'poll-draft', $10, (SELECT id FROM p), jsonb_build_object('publisher', $14::bigint,"
    "     'problem', prob.problem, 'question', $11::text,"
    "     'poll', (SELECT " POLL_DATA("p") " || jsonb_build_object('code', '') FROM p))"
    "   FROM ins, prob RETURNING id),"
    " q AS (INSERT INTO outgoing (content_id, kind, recipient, urgent)"
    "   SELECT ct.id, 'email', $6, true FROM ct)"
    " SELECT (SELECT id FROM ins), NULL::bigint,"
    "   CASE WHEN (SELECT problem FROM prob) IS NULL THEN 'draft' ELSE 'refused' END";

/* A publisher's answer: $1..$9 the inbound row, $10 the poll, $11 the publisher, $12 ok or refuse. */
static const char confirm_sql[] =
    "WITH ins AS (INSERT INTO inbound (source, via, dedup_key, envelope_from, recipient, sender,"
    "   subject, raw, disposition, note)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, 'command', $9)"
    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id),"
    " c AS (UPDATE polls p SET state = CASE WHEN $12 = 'ok' THEN 'confirmed' ELSE 'cancelled' END"
    "   FROM ins, publishers pub"
    "   WHERE p.id = $10 AND p.state = 'draft' AND p.publisher_id = $11 AND pub.id = $11"
    "     AND lower(pub.email) = lower($6) RETURNING p.state)"
    " SELECT (SELECT id FROM ins), NULL::bigint, (SELECT state FROM c)";

static const char *
idp(char *buf, long v)
{
	if (v <= 0)
		return NULL;
	snprintf(buf, 24, "%ld", v);
	return buf;
}

int
store_poll_statement(const struct store_inbound *it, const char **name, const char **sql,
    const char **p, char ids[4][24], int *lengths, int *formats)
{
	const char *row[9] = {
		it->source, it->via, it->dedup_key, it->envelope_from, it->recipient, it->sender,
		it->subject, it->raw, it->note,
	};
	const char *v[7];
	int n;

	if (it->vote_poll) {
		*name = "vote";
		*sql = store_vote_sql;
		n = 14;
	} else if (it->poll_draft) {
		*name = "poll_draft";
		*sql = draft_sql;
		n = 16;
	} else if (it->poll_confirm) {
		*name = "poll_confirm";
		*sql = confirm_sql;
		n = 12;
	} else {
		return 0;
	}
	if (p == NULL)
		return n;
	if (it->vote_poll) {
		v[0] = idp(ids[0], it->vote_poll);
		v[1] = idp(ids[1], it->vote_resident);
		v[2] = idp(ids[2], it->vote_choice);
		v[3] = it->vote_by_phone ? "t" : "f";
		v[4] = it->vote_several ? "t" : "f";
	} else if (it->poll_draft) {
		v[0] = idp(ids[0], it->channel_id);
		v[1] = it->draft_question;
		v[2] = it->draft_options;
		v[3] = it->author;
		v[4] = idp(ids[1], it->publisher_id);
		v[5] = it->draft_closes;
		v[6] = it->draft_problem;
	} else {
		v[0] = idp(ids[0], it->poll_confirm);
		v[1] = idp(ids[1], it->publisher_id);
		v[2] = it->mod_action;
	}
	memcpy(p, row, sizeof(row));
	memcpy(p + 9, v, (size_t)(n - 9) * sizeof(*v));
	memset(lengths, 0, (size_t)n * sizeof(*lengths));
	memset(formats, 0, (size_t)n * sizeof(*formats));
	lengths[7] = (int)it->rawlen;
	formats[7] = 1;
	return n;
}
