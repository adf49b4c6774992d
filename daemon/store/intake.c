/*
 * intake.c — the directory questions an inbound message asks (who is the
 * sender, may they post here, which thread) and the one transaction that
 * writes what palier made of it. Batched: one lookup query and one
 * transaction for many messages. Duplicates (same dedup key) write nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/strmap.h"
#include "store/db.h"
#include "store/moderation.h"
#include "store/polls.h"

static const char who_sql[] =
    "SELECT j.i, ch.id, ch.kind, res.id, res.name, anyres.id, anyres.building_id,"
    "  pub.id, pub.name, th.root, up.district, up.city,"
    "  EXISTS (SELECT 1 FROM trusted_senders t WHERE t.sender = lower(j.sender)"
    "    AND t.channel_id IN (ch.id, ch.parent_id, (SELECT parent_id FROM channels WHERE id = ch.parent_id)))"
    " FROM jsonb_to_recordset($1::jsonb)"
    "   AS j(i int, sender text, slug text, tres bigint, thread bigint, phone boolean, home boolean)"
    " LEFT JOIN LATERAL (SELECT coalesce(p.thread_id, p.id) AS root, p.channel_id FROM posts p"
    "   WHERE j.thread > 0 AND p.id = j.thread LIMIT 1) th ON true"
    " LEFT JOIN LATERAL (SELECT c.id, c.kind, c.parent_id FROM channels c"
    "   WHERE c.slug = j.slug OR c.id = th.channel_id OR (j.home AND c.id ="
    "     (SELECT building_id FROM residents r WHERE r.phone = j.sender ORDER BY r.id LIMIT 1))"
    "   LIMIT 1) ch ON true"
    " LEFT JOIN LATERAL (SELECT r.id, r.name FROM residents r"
    "   JOIN channels b ON b.id = r.building_id LEFT JOIN channels d ON d.id = b.parent_id"
    "   WHERE ((j.phone AND r.phone = j.sender) OR (NOT j.phone AND lower(r.email) = lower(j.sender)))"
    "     AND (j.tres = 0 OR r.id = j.tres) AND ch.id IN (b.id, b.parent_id, d.parent_id)"
    "   ORDER BY r.id LIMIT 1) res ON true"
    " LEFT JOIN LATERAL (SELECT r.id, r.building_id FROM residents r"
    "   WHERE (j.phone AND r.phone = j.sender) OR (NOT j.phone AND lower(r.email) = lower(j.sender))"
    "   ORDER BY r.id LIMIT 1) anyres ON true"
    " LEFT JOIN LATERAL (SELECT p.id, p.name FROM publishers p"
    "   WHERE NOT j.phone AND lower(p.email) = lower(j.sender) AND p.channel_id IN"
    "     (ch.id, ch.parent_id, (SELECT parent_id FROM channels WHERE id = ch.parent_id))"
    "   ORDER BY p.id LIMIT 1) pub ON true"
    " LEFT JOIN LATERAL (SELECT"
    "   CASE WHEN ch.kind = 'district' THEN ch.id WHEN p1.kind = 'district' THEN p1.id END AS district,"
    "   CASE WHEN ch.kind = 'city' THEN ch.id WHEN p1.kind = 'city' THEN p1.id ELSE p2.id END AS city"
    "   FROM (SELECT 1) one LEFT JOIN channels p1 ON p1.id = ch.parent_id"
    "   LEFT JOIN channels p2 ON p2.id = p1.parent_id) up ON true"
    " ORDER BY j.i";

/*
 * The common SMS: a number writing to its own building. Its first resident
 * with that number gives the channel and all the rest, in one lookup where
 * who_sql makes five. The same columns as who_sql; $1 a text[] of senders.
 */
static const char who_phone_sql[] =
    "SELECT j.i - 1, b.id, b.kind, r.id, r.name, r.id, r.building_id,"
    "  NULL::bigint, NULL::text, NULL::bigint,"
    "  CASE WHEN b.kind = 'district' THEN b.id WHEN p1.kind = 'district' THEN p1.id END,"
    "  CASE WHEN b.kind = 'city' THEN b.id WHEN p1.kind = 'city' THEN p1.id ELSE p2.id END,"
    "  EXISTS (SELECT 1 FROM trusted_senders t WHERE t.sender = lower(j.sender)"
    "    AND t.channel_id IN (b.id, b.parent_id, p1.parent_id))"
    " FROM unnest($1::text[]) WITH ORDINALITY AS j(sender, i)"
    " LEFT JOIN LATERAL (SELECT r.id, r.name, r.building_id FROM residents r"
    "   WHERE r.phone = j.sender ORDER BY r.id LIMIT 1) r ON true"
    " LEFT JOIN channels b ON b.id = r.building_id"
    " LEFT JOIN channels p1 ON p1.id = b.parent_id"
    " LEFT JOIN channels p2 ON p2.id = p1.parent_id";

static long
num(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : atol(PQgetvalue(r, row, col));
}

static int
phone_home(const struct store_who *w)
{
	return w->by_phone && w->home && w->slug == NULL && w->thread == 0 && w->token_resident == 0;
}

/* who_sql's input: the items at[0..n-1] of w, each with its index in w. */
static char *
who_json(const struct store_who *w, const size_t *at, size_t n)
{
	json_t *arr = json_array();
	char *s;

	for (size_t k = 0; k < n; k++) {
		const struct store_who *x = &w[at[k]];

		json_array_append_new(arr, json_pack("{s:i, s:s?, s:s?, s:I, s:I, s:b, s:b}",
		    "i", (int)at[k], "sender", x->sender, "slug", x->slug,
		    "tres", (json_int_t)x->token_resident, "thread", (json_int_t)x->thread,
		    "phone", x->by_phone, "home", x->home));
	}
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/* Reads a who result; its first column is an index into at (NULL: into w). */
static void
who_read(struct store_who *w, size_t n, const size_t *at, const PGresult *r)
{
	for (int row = 0; row < PQntuples(r); row++) {
		size_t k = (size_t)atol(PQgetvalue(r, row, 0));
		struct store_who *x;

		if (k >= n)
			continue;
		x = &w[at ? at[k] : k];
		x->channel_id = num(r, row, 1);
		snprintf(x->channel_kind, sizeof(x->channel_kind), "%s", PQgetvalue(r, row, 2));
		x->resident_id = num(r, row, 3);
		x->resident_name = db_strdup(r, row, 4);
		x->any_resident_id = num(r, row, 5);
		x->building_id = num(r, row, 6);
		x->publisher_id = num(r, row, 7);
		x->publisher_name = db_strdup(r, row, 8);
		x->thread_root = num(r, row, 9);
		x->district_id = num(r, row, 10);
		x->city_id = num(r, row, 11);
		x->trusted = PQgetvalue(r, row, 12)[0] == 't';
	}
}

/*
 * The next result of a pipeline, the NULL that ends it consumed: the result
 * if its status is want, else NULL after recording the first failure in s
 * (what names the part that failed).
 */
static PGresult *
pipe_next(struct store *s, ExecStatusType want, const char *what, int *failed)
{
	PGresult *r = PQgetResult(s->conn), *extra;

	while (r && (extra = PQgetResult(s->conn)) != NULL)
		PQclear(extra);
	if (r && PQresultStatus(r) == want)
		return r;
	if (!*failed) {
		*failed = 1;
		if (r && PQresultStatus(r) != PGRES_PIPELINE_ABORTED)
			db_fail(s, "%s: %.*s", what, (int)strcspn(PQresultErrorMessage(r), "\n"),
			    PQresultErrorMessage(r));
		else
			db_fail(s, "%s: %s", what, PQerrorMessage(s->conn));
		s->down = PQstatus(s->conn) != CONNECTION_OK;
	}
	PQclear(r);
	return NULL;
}

/* Reads the pipeline's end (its sync), recording a failure if it is missing, and leaves pipeline mode. */
static void
pipe_end(struct store *s, const char *what, int *failed)
{
	PGresult *r = PQgetResult(s->conn);

	if (r == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		if (!*failed)
			db_fail(s, "%s: %s", what, PQerrorMessage(s->conn));
		*failed = 1;
		s->down = PQstatus(s->conn) != CONNECTION_OK;
	}
	PQclear(r);
	PQexitPipelineMode(s->conn);
}

int
store_intake_lookup(struct store *s, struct store_who *w, size_t n, struct vote_query *q, size_t m)
{
	size_t *gen = xcalloc(n + 1, sizeof(*gen)), *ph = xcalloc(n + 1, sizeof(*ph)), ng = 0, np = 0;
	const char **senders = xcalloc(n + 1, sizeof(*senders));
	struct buf arr = BUF_INIT;
	char *doc = NULL;
	PGresult *r;
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		if (phone_home(&w[i])) {
			senders[np] = w[i].sender;
			ph[np++] = i;
		} else {
			gen[ng++] = i;
		}
	}
	if (db_prepare(s, "who", who_sql, 1) < 0 || db_prepare(s, "who_phone", who_phone_sql, 1) < 0 ||
	    (m > 0 && store_vote_lookup_prepare(s) < 0) || PQenterPipelineMode(s->conn) != 1) {
		failed = 1;
		goto out;
	}
	if (ng > 0) {
		const char *p[1] = { doc = who_json(w, gen, ng) };

		PQsendQueryPrepared(s->conn, "who", 1, p, NULL, NULL, 0);
	}
	if (np > 0) {
		const char *p[1];
		int len[1], fmt[1] = { 1 };

		db_array(&arr, DB_TEXT, senders, NULL, np);
		p[0] = arr.data;
		len[0] = (int)arr.len;
		PQsendQueryPrepared(s->conn, "who_phone", 1, p, len, fmt, 0);
	}
	if (m > 0)
		store_vote_lookup_send(s, q, m);
	PQpipelineSync(s->conn);
	if (ng > 0 && (r = pipe_next(s, PGRES_TUPLES_OK, "lookup", &failed)) != NULL) {
		who_read(w, n, NULL, r);
		PQclear(r);
	}
	if (np > 0 && (r = pipe_next(s, PGRES_TUPLES_OK, "lookup", &failed)) != NULL) {
		who_read(w, np, ph, r);
		PQclear(r);
	}
	if (m > 0 && (r = pipe_next(s, PGRES_TUPLES_OK, "lookup", &failed)) != NULL) {
		store_vote_lookup_read(q, m, r);
		PQclear(r);
	}
	pipe_end(s, "lookup", &failed);
out:
	free(gen);
	free(ph);
	free(senders);
	free(doc);
	buf_free(&arr);
	return failed ? -1 : 0;
}

void
store_who_clear(struct store_who *w)
{
	free(w->resident_name);
	free(w->publisher_name);
	w->resident_name = w->publisher_name = NULL;
}

static const char write_sql[] =
    "WITH ins AS ("
    " INSERT INTO inbound (source, via, dedup_key, envelope_from, recipient, sender, subject,"
    "   raw, disposition, note)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9, $10)"
    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id),"
    " att AS (INSERT INTO attachments (inbound_id, filename, content_type, size)"
    "   SELECT ins.id, a->>'filename', a->>'type', (a->>'size')::bigint"
    "   FROM ins, jsonb_array_elements(coalesce($11::jsonb, '[]')) a),"
    " post AS (INSERT INTO posts (inbound_id, channel_id, kind, status, reason, topic, tags,"
    "   source, resident_id, publisher_id, author, sender, subject, body, thread_id, decided_at,"
    "   author_verified)"
    "   SELECT ins.id, $12, $13, $14, $15, $16,"
    "     ARRAY(SELECT jsonb_array_elements_text(coalesce($17::jsonb, '[]'))),"
    "     $1, $18, $19, $20, $6, $21, $22, $23,"
    "     CASE WHEN $14::text <> 'held' THEN now() END, $30::boolean"
    "   FROM ins WHERE $13::text IS NOT NULL RETURNING id),"
    " bnc AS (INSERT INTO bounces (inbound_id, outgoing_id, resident_id, address, permanent,"
    "   status, diagnostic)"
    "   SELECT ins.id, $24, $25, b->>'address', (b->>'permanent')::boolean, b->>'status',"
    "     b->>'diagnostic'"
    "   FROM ins, jsonb_array_elements(coalesce($26::jsonb, '[]')) b RETURNING permanent),"
    " hard AS (SELECT count(*) AS n FROM bnc WHERE permanent),"
    " score AS (UPDATE residents SET bounce_score = bounce_score + hard.n,"
    "   email_suspended_at = CASE WHEN bounce_score + hard.n >= 3"
    "     THEN coalesce(email_suspended_at, now()) ELSE email_suspended_at END"
    "   FROM hard WHERE residents.id = $25 AND hard.n > 0),"
    " who AS (SELECT r.id, CASE WHEN $28::boolean THEN r.sms_stopped_at IS NOT NULL"
    "     ELSE r.email_stopped_at IS NOT NULL END AS was_stopped"
    "   FROM residents r, ins WHERE $27::text IS NOT NULL AND"
    "     (($28::boolean AND r.phone = $6) OR (NOT $28::boolean AND lower(r.email) = lower($6)))"
    "   FOR UPDATE OF r),"
    " cmd AS (UPDATE residents r SET updated_at = now(),"
    "   sms_stopped_at = CASE WHEN NOT $28::boolean THEN r.sms_stopped_at"
    "     WHEN $27 = 'stop' THEN coalesce(r.sms_stopped_at, now())"
    "     WHEN $27 = 'start' THEN NULL ELSE r.sms_stopped_at END,"
    "   email_stopped_at = CASE WHEN $28::boolean THEN r.email_stopped_at"
    "     WHEN $27 = 'stop' THEN coalesce(r.email_stopped_at, now())"
    "     WHEN $27 = 'start' THEN NULL ELSE r.email_stopped_at END,"
    "   digest = CASE WHEN $27 IN ('immediate', 'daily', 'weekly') THEN $27 ELSE r.digest END,"
    "   digest_by_resident = r.digest_by_resident OR $27 IN ('immediate', 'daily', 'weekly')"
    "   FROM who WHERE r.id = who.id RETURNING r.id),"
    " changed AS (SELECT min(id) AS id FROM who WHERE $27 <> 'stop' OR NOT was_stopped HAVING count(*) > 0),"
    " gate AS (INSERT INTO auto_answers AS a (sender, kind)"
    "   SELECT lower($6), $27 FROM changed WHERE $29::text IS NOT NULL"
    "   ON CONFLICT (sender, kind) DO UPDATE SET answered_at = now()"
    "   WHERE a.answered_at < now() - interval '1 day' RETURNING 1),"
    " ans AS (INSERT INTO contents (purpose, data)"
    "   SELECT 'answer', jsonb_build_object('template', $29::text) FROM gate RETURNING id),"
    " ansq AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient, urgent, after_stop)"
    "   SELECT ans.id, CASE WHEN $28::boolean THEN 'sms' ELSE 'email' END, changed.id, $6, true,"
    "     $27 = 'stop' FROM ans, changed),"
    " modp AS (UPDATE posts p SET status = CASE WHEN $31 = 'ok' THEN 'published' ELSE 'refused' END,"
    "   decided_at = now(), decided_by = $6,"
    "   reason = CASE WHEN $31 = 'refuse' THEN coalesce($34, p.reason) ELSE p.reason END"
    "   FROM ins WHERE $31::text IS NOT NULL AND p.id = $32 AND p.status = 'held'"
    "     AND EXISTS (SELECT 1 FROM moderators m JOIN channels c ON c.id = p.channel_id"
    "       LEFT JOIN channels c1 ON c1.id = c.parent_id WHERE m.id = $33"
    "       AND lower(m.email) = lower($6) AND m.channel_id IN (c.id, c.parent_id, c1.parent_id))"
    "   RETURNING p.id, p.channel_id, p.sender, p.source, p.author_verified, p.status, p.resident_id),"
    MODERATION_EFFECTS("modp", "$35::boolean", "$6")
    " SELECT (SELECT id FROM ins), (SELECT id FROM post)";

#define NPARAMS 35

/*
 * The common case — a post, a reply, an auto-reply — without the commands,
 * moderation and bounce parts of write_sql: PostgreSQL runs every part of
 * a statement, even the empty ones, and this is most of what arrives.
 */
static const char lean_sql[] =
    "WITH ins AS ("
    " INSERT INTO inbound (source, via, dedup_key, envelope_from, recipient, sender, subject,"
    "   raw, disposition, note)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9, $10)"
    " ON CONFLICT (dedup_key) DO NOTHING RETURNING id),"
    " att AS (INSERT INTO attachments (inbound_id, filename, content_type, size)"
    "   SELECT ins.id, a->>'filename', a->>'type', (a->>'size')::bigint"
    "   FROM ins, jsonb_array_elements(coalesce($11::jsonb, '[]')) a WHERE $11::text IS NOT NULL),"
    " post AS (INSERT INTO posts (inbound_id, channel_id, kind, status, reason, topic, tags,"
    "   source, resident_id, publisher_id, author, sender, subject, body, thread_id, decided_at,"
    "   author_verified)"
    "   SELECT ins.id, $12, $13, $14, $15, $16,"
    "     ARRAY(SELECT jsonb_array_elements_text(coalesce($17::jsonb, '[]'))),"
    "     $1, $18, $19, $20, $6, $21, $22, $23,"
    "     CASE WHEN $14::text <> 'held' THEN now() END, $24::boolean"
    "   FROM ins WHERE $13::text IS NOT NULL RETURNING id)"
    " SELECT (SELECT id FROM ins), (SELECT id FROM post)";

#define NLEAN 24

/*
 * The lean items of a batch in one statement: each of lean_sql's
 * parameters an array with a row per item, so that PostgreSQL starts one
 * plan for them all. Its rows: the item's ordinal, its inbound id and post
 * id; a duplicate has no row. No two items may share a dedup key.
 */
static const char lean_many_sql[] =
    "WITH j AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "   $6::text[], $7::text[], $8::bytea[], $9::text[], $10::text[], $11::text[], $12::text[],"
    "   $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[],"
    "   $20::text[], $21::text[], $22::text[], $23::text[], $24::text[]) WITH ORDINALITY"
    "   AS j(source, via, dedup_key, envelope_from, recipient, sender, subject, raw, disposition,"
    "     note, att, channel, kind, status, reason, topic, tags, resident, publisher, author,"
    "     post_subject, body, thread, verified, i)),"
    " ins AS (INSERT INTO inbound (source, via, dedup_key, envelope_from, recipient, sender, subject,"
    "   raw, disposition, note)"
    "   SELECT source, via, dedup_key, envelope_from, recipient, sender, subject, raw, disposition,"
    "     note FROM j ORDER BY i"
    "   ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key),"
    " att AS (INSERT INTO attachments (inbound_id, filename, content_type, size)"
    "   SELECT ins.id, a->>'filename', a->>'type', (a->>'size')::bigint"
    "   FROM ins JOIN j USING (dedup_key), jsonb_array_elements(j.att::jsonb) a"
    "   WHERE j.att IS NOT NULL),"
    " post AS (INSERT INTO posts (inbound_id, channel_id, kind, status, reason, topic, tags,"
    "   source, resident_id, publisher_id, author, sender, subject, body, thread_id, decided_at,"
    "   author_verified)"
    "   SELECT ins.id, j.channel::bigint, j.kind, j.status, j.reason, j.topic,"
    "     ARRAY(SELECT jsonb_array_elements_text(coalesce(j.tags::jsonb, '[]'))),"
    "     j.source, j.resident::bigint, j.publisher::bigint, j.author, j.sender, j.post_subject,"
    "     j.body, j.thread::bigint, CASE WHEN j.status <> 'held' THEN now() END,"
    "     j.verified::boolean"
    "   FROM ins JOIN j USING (dedup_key) WHERE j.kind IS NOT NULL ORDER BY j.i"
    "   RETURNING id, inbound_id)"
    " SELECT j.i, ins.id, post.id FROM j JOIN ins USING (dedup_key)"
    "   LEFT JOIN post ON post.inbound_id = ins.id";

static int
is_lean(const struct store_inbound *it)
{
	return it->command == NULL && it->mod_action == NULL && it->bounce_json == NULL;
}


/* Narrows the full parameters to lean_sql's: $1..$23, then author_verified. */
static void
lean_params(const char **p, int *lengths, int *formats)
{
	p[23] = p[29];
	lengths[23] = lengths[29];
	formats[23] = formats[29];
}

/* A bigint parameter: NULL for 0. */
static const char *
idparam(char *buf, size_t size, long v)
{
	if (v == 0)
		return NULL;
	snprintf(buf, size, "%ld", v);
	return buf;
}

/* The parameters of one item's statement, into p (which borrows from it and ids). */
static void
write_params(const struct store_inbound *it, const char *p[NPARAMS], char ids[8][24],
    int lengths[NPARAMS], int formats[NPARAMS])
{
	const char *v[NPARAMS] = {
		it->source, it->via, it->dedup_key, it->envelope_from, it->recipient,
		it->sender, it->subject, it->raw, it->disposition, it->note,
		it->attachments_json, idparam(ids[0], 24, it->channel_id), it->post_kind,
		it->status, it->reason, it->topic, it->tags_json,
		idparam(ids[1], 24, it->resident_id), idparam(ids[2], 24, it->publisher_id),
		it->author, it->post_subject, it->body, idparam(ids[3], 24, it->thread_id),
		idparam(ids[4], 24, it->bounce_outgoing), idparam(ids[5], 24, it->bounce_resident),
		it->bounce_json, it->command, it->command_by_phone ? "t" : "f", it->answer,
		it->author_verified ? "t" : "f", it->mod_action, idparam(ids[6], 24, it->mod_post),
		idparam(ids[7], 24, it->mod_id), it->mod_reason, it->mod_trust ? "t" : "f",
	};

	memcpy(p, v, sizeof(v));
	memset(lengths, 0, NPARAMS * sizeof(*lengths));
	memset(formats, 0, NPARAMS * sizeof(*formats));
	lengths[7] = (int)it->rawlen;
	formats[7] = 1;		/* the raw message goes as bytes, unescaped */
}

static void
write_result(struct store_inbound *it, const PGresult *r)
{
	it->inbound_id = num(r, 0, 0);
	it->post_id = num(r, 0, 1);
	it->duplicate = it->inbound_id == 0;
	if (PQnfields(r) > 2)
		snprintf(it->vote_outcome, sizeof(it->vote_outcome), "%s", PQgetvalue(r, 0, 2));
}

/* Reads one pipelined query's result; 0 if it is what we expect. */
static int
pipe_result(struct store *s, ExecStatusType want, struct store_inbound *it, int *failed)
{
	PGresult *r = pipe_next(s, want, "inbound", failed);

	if (r && it)
		write_result(it, r);
	PQclear(r);
	return r ? 0 : -1;
}

/* Sends its statement in the pipeline: a vote, a lean one or the full one. */
static void
send_item(struct store *s, const struct store_inbound *it)
{
	const char *p[NPARAMS];
	char ids[8][24];
	int lengths[NPARAMS], formats[NPARAMS];

	const char *name, *sql;
	int np;

	if ((np = store_poll_statement(it, &name, &sql, p, ids, lengths, formats)) > 0) {
		PQsendQueryPrepared(s->conn, name, np, p, lengths, formats, 0);
		return;
	}
	write_params(it, p, ids, lengths, formats);
	if (is_lean(it)) {
		lean_params(p, lengths, formats);
		PQsendQueryPrepared(s->conn, "inbound_lean", NLEAN, p, lengths, formats, 0);
	} else {
		PQsendQueryPrepared(s->conn, "inbound", NPARAMS, p, lengths, formats, 0);
	}
}

/* Whether an item may go in lean_many_sql's statement. */
static int
many_ok(const struct store_inbound *it)
{
	const char *name, *sql;

	return is_lean(it) && store_poll_statement(it, &name, &sql, NULL, NULL, NULL, NULL) == 0;
}

/*
 * Marks in many[] the items that go in one lean_many_sql statement: lean
 * ones, each dedup key once (a repeat goes alone, after it, and finds it
 * written). Returns how many; fewer than 2 are not worth it (0).
 */
static size_t
choose_many(const struct store_inbound *items, size_t n, char *many)
{
	struct strmap *keys = strmap_new();
	size_t m = 0;
	long seen;

	for (size_t i = 0; i < n; i++) {
		many[i] = many_ok(&items[i]) && !strmap_get(keys, items[i].dedup_key, &seen);
		if (many[i])
			strmap_put(keys, items[i].dedup_key, 1);
		m += many[i];
	}
	strmap_free(keys);
	if (m < 2) {
		memset(many, 0, n);
		m = 0;
	}
	return m;
}

#define NMANY	NLEAN

/* Sends the marked items' lean_many_sql statement; arrays are its parameters' storage. */
static void
send_many(struct store *s, const struct store_inbound *items, size_t n, const char *many,
    struct buf arrays[NMANY])
{
	const char **col = xcalloc(n * NMANY, sizeof(*col));
	size_t *rawlen = xcalloc(n, sizeof(*rawlen)), m = 0;
	char (*ids)[8][24] = xcalloc(n, sizeof(*ids));
	const char *p[NMANY];
	int lengths[NMANY], formats[NMANY];

	for (size_t i = 0; i < n; i++) {
		const char *v[NPARAMS];
		int vl[NPARAMS], vf[NPARAMS];

		if (!many[i])
			continue;
		write_params(&items[i], v, ids[i], vl, vf);
		lean_params(v, vl, vf);
		for (int c = 0; c < NMANY; c++)
			col[c * n + m] = v[c];
		rawlen[m++] = items[i].rawlen;
	}
	for (int c = 0; c < NMANY; c++) {
		db_array(&arrays[c], c == 7 ? DB_BYTEA : DB_TEXT, &col[c * n], c == 7 ? rawlen : NULL, m);
		p[c] = arrays[c].data;
		lengths[c] = (int)arrays[c].len;
		formats[c] = 1;
	}
	PQsendQueryPrepared(s->conn, "inbound_many", NMANY, p, lengths, formats, 0);
	free(col);
	free(rawlen);
	free(ids);
}

/* Reads lean_many_sql's rows into the marked items: those without one are duplicates. */
static void
many_result(struct store *s, struct store_inbound *items, size_t n, const char *many, int *failed)
{
	PGresult *r = pipe_next(s, PGRES_TUPLES_OK, "inbound", failed);
	size_t *at = xcalloc(n + 1, sizeof(*at)), m = 0;

	for (size_t i = 0; i < n; i++)
		if (many[i]) {
			at[m++] = i;
			items[i].inbound_id = items[i].post_id = 0;
			items[i].duplicate = 1;
		}
	for (int row = 0; r && row < PQntuples(r); row++) {
		size_t k = (size_t)atol(PQgetvalue(r, row, 0)) - 1;

		if (k >= m)
			continue;
		items[at[k]].inbound_id = num(r, row, 1);
		items[at[k]].post_id = num(r, row, 2);
		items[at[k]].duplicate = 0;
	}
	PQclear(r);
	free(at);
}

/* Whether the batch publishes a post (or approves one): the fan-out has work. */
static int
publishes(const struct store_inbound *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((items[i].post_kind && items[i].status && strcmp(items[i].status, "published") == 0) ||
		    (items[i].mod_action && strcmp(items[i].mod_action, "ok") == 0))
			return 1;
	return 0;
}

/*
 * The whole batch in one round trip: BEGIN, every item, COMMIT, sent in
 * pipeline mode and read back together. Any failure aborts the transaction.
 */
static int
write_pipelined(struct store *s, struct store_inbound *items, size_t n)
{
	int failed = 0, notify = publishes(items, n);
	char *many = xcalloc(n, 1);
	size_t nmany = choose_many(items, n, many);
	struct buf arrays[NMANY];

	for (int c = 0; c < NMANY; c++)
		arrays[c] = (struct buf)BUF_INIT;
	if (db_prepare(s, "inbound", write_sql, NPARAMS) < 0 ||
	    db_prepare(s, "inbound_lean", lean_sql, NLEAN) < 0 ||
	    (nmany > 0 && db_prepare(s, "inbound_many", lean_many_sql, NMANY) < 0)) {
		failed = 1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {	/* what the pipeline will need, prepared before it */
		const char *name, *sql;
		int np = store_poll_statement(&items[i], &name, &sql, NULL, NULL, NULL, NULL);

		if (np > 0 && db_prepare(s, name, sql, np) < 0) {
			failed = 1;
			goto out;
		}
	}
	if (PQenterPipelineMode(s->conn) != 1) {
		failed = 1;
		goto out;
	}
	PQsendQueryParams(s->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
	if (nmany > 0)
		send_many(s, items, n, many, arrays);
	for (size_t i = 0; i < n; i++)
		if (!many[i])
			send_item(s, &items[i]);
	if (notify)	/* heard by the fan-out at the commit */
		PQsendQueryParams(s->conn, "NOTIFY " FANOUT_CHANNEL, 0, NULL, NULL, NULL, NULL, 0);
	PQsendQueryParams(s->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
	PQpipelineSync(s->conn);
	pipe_result(s, PGRES_COMMAND_OK, NULL, &failed);
	if (nmany > 0)
		many_result(s, items, n, many, &failed);
	for (size_t i = 0; i < n; i++)
		if (!many[i])
			pipe_result(s, PGRES_TUPLES_OK, &items[i], &failed);
	if (notify)
		pipe_result(s, PGRES_COMMAND_OK, NULL, &failed);
	pipe_result(s, PGRES_COMMAND_OK, NULL, &failed);
	pipe_end(s, "inbound", &failed);
	if (failed)
		db_rollback(s);
out:
	for (int c = 0; c < NMANY; c++)
		buf_free(&arrays[c]);
	free(many);
	return failed ? -1 : 0;
}

/* The lookups for senders nobody has, then the write of no item: run, nothing written. */
int
store_intake_warm(struct store *s)
{
	struct store_who w[2] = {
		{ .sender = "+0", .by_phone = 1, .home = 1 },	/* who_phone */
		{ .sender = "nobody@invalid" },			/* who */
	};
	struct vote_query q = { .phone = "+0" };
	struct buf arrays[NMANY];
	int failed = store_intake_lookup(s, w, 2, &q, 1) < 0;

	store_who_clear(&w[0]);
	store_who_clear(&w[1]);
	store_vote_query_clear(&q);
	if (failed || db_prepare(s, "inbound", write_sql, NPARAMS) < 0 ||
	    db_prepare(s, "inbound_lean", lean_sql, NLEAN) < 0 ||
	    db_prepare(s, "inbound_many", lean_many_sql, NMANY) < 0 ||
	    PQenterPipelineMode(s->conn) != 1)
		return -1;
	for (int c = 0; c < NMANY; c++)
		arrays[c] = (struct buf)BUF_INIT;
	send_many(s, NULL, 0, "", arrays);
	PQpipelineSync(s->conn);
	PQclear(pipe_next(s, PGRES_TUPLES_OK, "warm", &failed));
	pipe_end(s, "warm", &failed);
	for (int c = 0; c < NMANY; c++)
		buf_free(&arrays[c]);
	return failed ? -1 : 0;
}

/* One item is a batch too: one round trip instead of three (BEGIN, it, COMMIT). */
int
store_inbound_write(struct store *s, struct store_inbound *items, size_t n)
{
	return write_pipelined(s, items, n);
}

int
store_channel_slugs(struct store *s, void (*fn)(void *, const char *), void *arg)
{
	PGresult *r = db_exec(s, "SELECT slug FROM channels", 0, NULL);

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		fn(arg, PQgetvalue(r, i, 0));
	PQclear(r);
	return 0;
}
