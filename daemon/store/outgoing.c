/*
 * outgoing.c — fan-out of published posts into the outgoing queue, and the
 * queue itself: claimed with FOR UPDATE SKIP LOCKED under a lease, marked
 * in batches. A worker that dies leaves a lease that expires: the message
 * goes again (at least once). Never one commit per recipient.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/db.h"

#define MAX_ATTEMPTS 12

/*
 * Up to $1 posts, the next $2 buildings in scope of each (by id, after the
 * post's cursor): their residents' messages, the new cursor and, once a
 * post has no building left, fanned_out_at, all in one transaction. A
 * post's content is made with its first chunk. A crash loses at most the
 * chunk in hand, which the next pass makes again from the committed cursor.
 * A bulletin goes to every resident in scope (email, and SMS for those who
 * chose it or whose email is suspended); a post to the residents in scope
 * who asked for immediate notices (never its author). A channel's scope is
 * its buildings, whatever its level.
 */
static const char fanout_sql[] =
    "WITH p AS (SELECT id, kind, channel_id, resident_id, fanout_content_id,"
    "   coalesce(fanout_after, 0) AS after FROM posts"
    "   WHERE status = 'published' AND fanned_out_at IS NULL ORDER BY id LIMIT $1"
    "   FOR UPDATE SKIP LOCKED),"
    " c AS (INSERT INTO contents (purpose, post_id, channel_id)"
    "   SELECT CASE WHEN kind = 'bulletin' THEN 'bulletin' ELSE 'post' END, id, channel_id FROM p"
    "   WHERE fanout_content_id IS NULL"
    "   RETURNING id, post_id),"
    " pc AS (SELECT p.id, p.kind = 'bulletin' AS bulletin, p.channel_id, p.resident_id AS author,"
    "   p.after, coalesce(p.fanout_content_id, c.id) AS content_id FROM p LEFT JOIN c ON c.post_id = p.id),"
    " bs AS (SELECT pc.id AS post_id, b.id AS building FROM pc CROSS JOIN LATERAL"
    "   (SELECT b.id FROM channels b LEFT JOIN channels d ON d.id = b.parent_id"
    "     WHERE b.id > pc.after AND pc.channel_id IN (b.id, b.parent_id, d.parent_id)"
    "     ORDER BY b.id LIMIT $2) b),"
    " scope AS (SELECT pc.content_id, pc.bulletin, pc.author, r.id, r.email,"
    "   r.phone, r.digest, r.sms, r.email_stopped_at, r.email_suspended_at, r.sms_stopped_at"
    "   FROM bs JOIN pc ON pc.id = bs.post_id JOIN residents r ON r.building_id = bs.building),"
    " e AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient)"
    "   SELECT content_id, 'email', id, email FROM scope"
    "   WHERE email IS NOT NULL AND email_stopped_at IS NULL AND email_suspended_at IS NULL"
    "     AND (bulletin OR (digest = 'immediate' AND id IS DISTINCT FROM author))"
    "   RETURNING 1),"
    " m AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient)"
    "   SELECT content_id, 'sms', id, phone FROM scope"
    "   WHERE bulletin AND phone IS NOT NULL AND sms_stopped_at IS NULL"
    "     AND (sms OR email IS NULL OR email_suspended_at IS NOT NULL)"
    "   RETURNING 1),"
    " reach AS (SELECT post_id, count(*) AS n, max(building) AS last FROM bs GROUP BY post_id),"
    " done AS (UPDATE posts x SET fanout_content_id = pc.content_id,"
    "   fanout_after = coalesce(reach.last, pc.after),"
    "   fanned_out_at = CASE WHEN coalesce(reach.n, 0) < $2 THEN now() END"
    "   FROM pc LEFT JOIN reach ON reach.post_id = pc.id WHERE x.id = pc.id"
    "   RETURNING x.fanned_out_at IS NOT NULL AS finished)"
    " SELECT (SELECT count(*) FILTER (WHERE finished) FROM done),"
    "   (SELECT count(*) FILTER (WHERE NOT finished) FROM done),"
    "   (SELECT count(*) FROM e), (SELECT count(*) FROM m)";

int
store_fanout_posts(struct store *s, int limit, int chunk, struct store_fanout_stats *st)
{
	char lim[16], ch[16];
	const char *params[2] = { lim, ch };
	PGresult *r;

	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(ch, sizeof(ch), "%d", chunk);
	memset(st, 0, sizeof(*st));
	if ((r = db_exec(s, fanout_sql, 2, params)) == NULL)
		return -1;
	st->posts = atol(PQgetvalue(r, 0, 0));
	st->unfinished = atol(PQgetvalue(r, 0, 1));
	st->emails = atol(PQgetvalue(r, 0, 2));
	st->sms = atol(PQgetvalue(r, 0, 3));
	PQclear(r);
	if (st->posts || st->emails || st->sms)
		log_info("fanout", "posts=%ld unfinished=%ld emails=%ld sms=%ld", st->posts,
		    st->unfinished, st->emails, st->sms);
	return 0;
}

/* One notice per held post and moderator of its channel or above. */
static const char notify_sql[] =
    "WITH h AS (SELECT p.id, p.channel_id FROM posts p WHERE p.status = 'held'"
    "   AND p.moderation_notified_at IS NULL"
    /* A post waits until its channel has a moderator: one added later hears of it. */
    "   AND EXISTS (SELECT 1 FROM channels c LEFT JOIN channels c1 ON c1.id = c.parent_id"
    "     JOIN moderators mo ON mo.channel_id IN (c.id, c.parent_id, c1.parent_id)"
    "     WHERE c.id = p.channel_id)"
    "   ORDER BY p.id LIMIT $1 FOR UPDATE SKIP LOCKED),"
    " m AS (SELECT h.id AS post_id, h.channel_id, mo.id AS moderator, mo.email"
    "   FROM h JOIN channels c ON c.id = h.channel_id LEFT JOIN channels c1 ON c1.id = c.parent_id"
    "   JOIN moderators mo ON mo.channel_id IN (c.id, c.parent_id, c1.parent_id)),"
    " ct AS (INSERT INTO contents (purpose, post_id, channel_id)"
    "   SELECT DISTINCT 'moderation', post_id, channel_id FROM m RETURNING id, post_id),"
    " o AS (INSERT INTO outgoing (content_id, kind, moderator_id, recipient, urgent)"
    "   SELECT ct.id, 'email', m.moderator, m.email, true FROM ct JOIN m ON m.post_id = ct.post_id"
    "   RETURNING 1),"
    " done AS (UPDATE posts SET moderation_notified_at = now() WHERE id IN (SELECT id FROM h)"
    "   RETURNING 1)"
    " SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM o)";

int
store_fanout_moderation(struct store *s, int limit, long *posts, long *notices)
{
	char lim[16];
	const char *params[1] = { lim };
	PGresult *r;

	snprintf(lim, sizeof(lim), "%d", limit);
	if ((r = db_exec(s, notify_sql, 1, params)) == NULL)
		return -1;
	*posts = atol(PQgetvalue(r, 0, 0));
	*notices = atol(PQgetvalue(r, 0, 1));
	PQclear(r);
	if (*posts)
		log_info("moderation_notices", "posts=%ld notices=%ld", *posts, *notices);
	return 0;
}

/*
 * The claim reads only what differs per message; the contents the batch
 * names are read once by contents_sql (a bulletin's 5 KB body once, not
 * 200 times). Expired leases first, then what is queued, most urgent and
 * longest waiting first; each from its own index (sql/008), so that a claim
 * never walks past the messages being sent, nor past those waiting for
 * later (quiet hours, retries). Prepared once per connection and batch
 * size: the size is written into the text, so that the plan PostgreSQL
 * keeps is made for that many rows (a LIMIT it cannot see is guessed at a
 * tenth of the queue, and that plan reads the whole queue to update a batch).
 * A message for a resident who stopped (or whose address is suspended) is
 * cancelled as it is claimed: a STOP holds even for what was queued before
 * it, except the STOP's own confirmation.
 */
static const char claim_fmt[] =
    "WITH e AS (SELECT o.id, o.resident_id FROM outgoing o WHERE o.kind = $1"
    "   AND o.state = 'sending' AND o.lease_until < now() AND o.urgent >= $3::boolean"
    "   ORDER BY o.lease_until LIMIT %d FOR UPDATE SKIP LOCKED),"
    " q AS (SELECT o.id, o.resident_id FROM outgoing o WHERE o.kind = $1"
    "   AND o.state = 'queued' AND o.urgent >= $3::boolean AND o.not_before <= now()"
    "   ORDER BY o.urgent DESC, o.not_before LIMIT %d FOR UPDATE SKIP LOCKED),"
    " c AS (SELECT * FROM e UNION ALL SELECT * FROM q LIMIT %d)"
    " UPDATE outgoing o SET attempts = o.attempts + 1,"
    "   state = CASE WHEN NOT o.after_stop AND ((o.kind = 'sms' AND r.sms_stopped_at IS NOT NULL)"
    "     OR (o.kind = 'email' AND (r.email_stopped_at IS NOT NULL OR r.email_suspended_at IS NOT NULL)))"
    "     THEN 'cancelled' ELSE 'sending' END,"
    "   lease_until = now() + make_interval(secs => $2::int)"
    " FROM c LEFT JOIN residents r ON r.id = c.resident_id"
    " WHERE o.id = c.id"
    " RETURNING o.id, o.content_id, o.resident_id, o.recipient, o.attempts, r.name, o.state,"
    "   r.digest, r.sms, r.phone IS NOT NULL,"
    "   (SELECT slug FROM channels WHERE id = r.building_id),"
    "   o.moderator_id, (SELECT coalesce(name, '') FROM moderators WHERE id = o.moderator_id),"
    "   r.email IS NOT NULL AND r.email_stopped_at IS NULL AND r.email_suspended_at IS NULL";

static const char contents_sql[] =
    "SELECT ct.id, ct.purpose, ct.data::text, p.id, coalesce(p.thread_id, p.id), p.kind, p.subject,"
    "   p.body, p.author, p.topic, ch.slug, ch.name, ch.kind,"
    "   extract(epoch FROM p.created_at)::bigint, p.sender, p.reason"
    " FROM contents ct LEFT JOIN posts p ON p.id = ct.post_id"
    "   LEFT JOIN channels ch ON ch.id = coalesce(p.channel_id, ct.channel_id)"
    " WHERE ct.id = ANY ($1::bigint[])";

static long
num(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : atol(PQgetvalue(r, row, col));
}

static void
out_fill(struct store_out *m, const PGresult *r, int i, const char *kind)
{
	m->id = num(r, i, 0);
	m->content_id = num(r, i, 1);
	m->resident_id = num(r, i, 2);
	snprintf(m->kind, sizeof(m->kind), "%s", kind);
	m->recipient = db_strdup(r, i, 3);
	m->attempts = (int)num(r, i, 4);
	m->resident_name = db_strdup(r, i, 5);
	m->cancelled = strcmp(PQgetvalue(r, i, 6), "cancelled") == 0;
	m->resident_digest = db_strdup(r, i, 7);
	m->resident_sms = PQgetvalue(r, i, 8)[0] == 't';
	m->resident_phone = PQgetvalue(r, i, 9)[0] == 't';
	m->resident_building = db_strdup(r, i, 10);
	m->moderator_id = num(r, i, 11);
	m->moderator_name = db_strdup(r, i, 12);
	m->resident_email = PQgetvalue(r, i, 13)[0] == 't';
}

static void
content_fill(struct store_content *c, const PGresult *r, int i)
{
	c->id = num(r, i, 0);
	c->purpose = db_strdup(r, i, 1);
	c->data = db_strdup(r, i, 2);
	c->post_id = num(r, i, 3);
	c->thread_id = num(r, i, 4);
	c->post_kind = db_strdup(r, i, 5);
	c->post_subject = db_strdup(r, i, 6);
	c->post_body = db_strdup(r, i, 7);
	c->post_author = db_strdup(r, i, 8);
	c->post_topic = db_strdup(r, i, 9);
	c->channel_slug = db_strdup(r, i, 10);
	c->channel_name = db_strdup(r, i, 11);
	c->channel_kind = db_strdup(r, i, 12);
	c->post_time = num(r, i, 13);
	c->post_sender = db_strdup(r, i, 14);
	c->post_reason = db_strdup(r, i, 15);
}

/* Reads the contents b's messages name, once each, and points each message at its own. */
static int
batch_contents(struct store *s, struct store_batch *b)
{
	struct buf ids = BUF_INIT;
	const char *params[1];
	PGresult *r;
	int rows;

	buf_putc(&ids, '{');
	for (size_t i = 0; i < b->n; i++)
		buf_printf(&ids, "%s%ld", i ? "," : "", b->msgs[i].content_id);
	buf_putc(&ids, '}');
	params[0] = buf_cstr(&ids);
	r = db_exec_prepared(s, "contents", contents_sql, 1, params, NULL, NULL);
	buf_free(&ids);
	if (r == NULL)
		return -1;
	rows = PQntuples(r);
	b->contents = xcalloc((size_t)rows + 1, sizeof(*b->contents));
	for (int i = 0; i < rows; i++)
		content_fill(&b->contents[i], r, i);
	b->ncontents = (size_t)rows;
	PQclear(r);
	/* A content no row names any more cannot happen (a foreign key): an empty one if so. */
	for (size_t i = 0; i < b->n; i++) {
		b->msgs[i].c = &b->contents[b->ncontents];
		for (size_t k = 0; k < b->ncontents; k++)
			if (b->contents[k].id == b->msgs[i].content_id) {
				b->msgs[i].c = &b->contents[k];
				break;
			}
	}
	return 0;
}

int
store_outgoing_claim(struct store *s, const char *kind, int limit, int lease_s,
    int urgent_only, struct store_batch *b)
{
	char name[32], lease[16], *sql;
	const char *params[3] = { kind, lease, urgent_only ? "t" : "f" };
	PGresult *r;
	int rows;

	snprintf(name, sizeof(name), "claim_%d", limit);
	snprintf(lease, sizeof(lease), "%d", lease_s);
	memset(b, 0, sizeof(*b));
	sql = xasprintf(claim_fmt, limit, limit, limit);
	r = db_exec_prepared(s, name, sql, 3, params, NULL, NULL);
	free(sql);
	if (r == NULL)
		return -1;
	rows = PQntuples(r);
	if (rows > 0) {
		b->msgs = xcalloc((size_t)rows, sizeof(*b->msgs));
		for (int i = 0; i < rows; i++)
			out_fill(&b->msgs[i], r, i, kind);
	}
	b->n = (size_t)rows;
	PQclear(r);
	/* The claim is committed: if the contents cannot be read, the lease brings them back. */
	if (rows > 0 && batch_contents(s, b) < 0) {
		store_batch_clear(b);
		return -1;
	}
	return 0;
}

/* Sent, retried with exponential backoff (1 min doubling to 4 h), or failed. */
static const char done_sql[] =
    "WITH u AS (SELECT * FROM jsonb_to_recordset($1::jsonb)"
    "   AS x(id bigint, result text, error text, gateway text, segments int)),"
    " upd AS (UPDATE outgoing o SET"
    "   state = CASE WHEN u.result = 'sent' THEN 'sent'"
    "     WHEN u.result = 'temp' AND o.attempts < $2 THEN 'queued' ELSE 'failed' END,"
    "   sent_at = CASE WHEN u.result = 'sent' THEN now() END,"
    "   not_before = CASE WHEN u.result = 'temp'"
    "     THEN now() + interval '1 minute' * least(power(2, o.attempts - 1), 240) ELSE o.not_before END,"
    "   lease_until = NULL, last_error = u.error,"
    "   gateway_id = coalesce(u.gateway, o.gateway_id), segments = coalesce(nullif(u.segments, 0), o.segments)"
    "   FROM u WHERE o.id = u.id RETURNING o.resident_id, o.kind, u.result)"
    " UPDATE residents r SET bounce_score = bounce_score + 1,"
    "   email_suspended_at = CASE WHEN bounce_score + 1 >= 3"
    "     THEN coalesce(email_suspended_at, now()) ELSE email_suspended_at END"
    " FROM upd WHERE upd.result = 'perm' AND upd.kind = 'email' AND r.id = upd.resident_id";

int
store_outgoing_done(struct store *s, struct store_out *msgs, size_t n)
{
	static const char *const results[] = { "temp", "sent", "temp", "perm" };
	json_t *arr = json_array();
	char attempts[16], *doc;
	const char *params[2];
	PGresult *r;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (!msgs[i].cancelled)	/* the claim recorded those */
			json_array_append_new(arr, json_pack("{s:I, s:s, s:s?, s:s?, s:i}",
			    "id", (json_int_t)msgs[i].id, "result", results[msgs[i].result],
			    "error", msgs[i].error, "gateway", msgs[i].gateway_id,
			    "segments", msgs[i].segments));
	doc = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	snprintf(attempts, sizeof(attempts), "%d", MAX_ATTEMPTS);
	params[0] = doc;
	params[1] = attempts;
	r = db_exec_prepared(s, "done", done_sql, 2, params, NULL, NULL);
	rc = r ? 0 : -1;
	PQclear(r);
	free(doc);
	return rc;
}

void
store_batch_clear(struct store_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct store_out *m = &b->msgs[i];

		free(m->recipient);
		free(m->resident_name);
		free(m->resident_digest);
		free(m->resident_building);
		free(m->moderator_name);
		free(m->error);
		free(m->gateway_id);
	}
	free(b->msgs);
	for (size_t i = 0; i < b->ncontents; i++) {
		struct store_content *c = &b->contents[i];

		free(c->purpose);
		free(c->data);
		free(c->post_kind);
		free(c->post_subject);
		free(c->post_body);
		free(c->post_author);
		free(c->post_topic);
		free(c->channel_slug);
		free(c->channel_name);
		free(c->channel_kind);
		free(c->post_sender);
		free(c->post_reason);
	}
	free(b->contents);
	memset(b, 0, sizeof(*b));
}

int
store_queue_stats(struct store *s, struct rows *out)
{
	PGresult *r = db_exec(s, "SELECT kind, state, count(*), coalesce(sum(segments), 0)"
	    " FROM outgoing GROUP BY kind, state ORDER BY kind, state", 0, NULL);
	struct queue_row *rows;
	int n;

	if (r == NULL)
		return -1;
	n = PQntuples(r);
	rows = xcalloc((size_t)n + 1, sizeof(*rows));
	for (int i = 0; i < n; i++) {
		snprintf(rows[i].kind, sizeof(rows[i].kind), "%s", PQgetvalue(r, i, 0));
		snprintf(rows[i].state, sizeof(rows[i].state), "%s", PQgetvalue(r, i, 1));
		rows[i].count = atol(PQgetvalue(r, i, 2));
		rows[i].segments = atol(PQgetvalue(r, i, 3));
	}
	PQclear(r);
	out->items = rows;
	out->n = (size_t)n;
	return 0;
}

int
store_outgoing_report(struct store *s, long id, const char *report, const char *detail)
{
	char ids[24];
	const char *params[3] = { ids, report, detail };
	PGresult *r;
	int n;

	snprintf(ids, sizeof(ids), "%ld", id);
	/* Reports arrive in any order: a final one (delivered, failed) is never
	 * replaced by an intermediate one (accepted, buffered). */
	r = db_exec(s, "UPDATE outgoing SET reported_at = now(),"
	    " report = CASE WHEN report IN ('delivered', 'failed') AND $2 IN ('accepted', 'buffered')"
	    "   THEN report ELSE $2 END,"
	    " state = CASE WHEN $2 = 'failed' THEN 'failed' ELSE state END,"
	    " last_error = CASE WHEN $2 = 'failed' THEN coalesce($3, 'delivery failed') ELSE last_error END"
	    " WHERE id = $1 AND kind = 'sms' RETURNING id", 3, params);
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	return n == 1 ? 0 : 1;
}
