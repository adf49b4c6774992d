/*
 * digest.c — the digests of one frequency, built in one transaction: the
 * posts of each building's scope since the last run (bulletins are left
 * out: everyone got them already), as one content per building, and one
 * outgoing message per resident. Runs once per period under an advisory
 * lock; an empty building gets no digest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/db.h"
#include "store/polls.h"

static const char digest_sql[] =
    "WITH prev AS (SELECT coalesce(max(until), now() - CASE WHEN $1 = 'weekly'"
    "     THEN interval '7 days' ELSE interval '1 day' END) AS since"
    "   FROM digest_runs WHERE frequency = $1),"
    " w AS (SELECT prev.since, now() AS until FROM prev),"
    " items AS (SELECT b.id AS building, p.id, coalesce(p.thread_id, p.id) AS thread, p.kind,"
    "     p.subject, p.body, p.author, p.topic, extract(epoch FROM p.created_at)::bigint AS at,"
    "     c.kind AS ckind, c.name AS cname"
    "   FROM w, channels b LEFT JOIN channels d ON d.id = b.parent_id"
    /* The building, its district, its city: three equality joins, not every building against every post. */
    "   CROSS JOIN LATERAL (VALUES (b.id), (b.parent_id), (d.parent_id)) AS up (channel_id)"
    "   JOIN posts p ON p.channel_id = up.channel_id"
    "   JOIN channels c ON c.id = p.channel_id"
    "   WHERE b.kind = 'building' AND p.status = 'published' AND p.kind <> 'bulletin'"
    "     AND p.decided_at > w.since AND p.decided_at <= w.until"
    "     AND EXISTS (SELECT 1 FROM residents r WHERE r.building_id = b.id AND r.digest = $1)),"
    " groups AS (SELECT building, jsonb_build_object('posts', jsonb_agg(jsonb_build_object("
    "     'id', id, 'thread', thread, 'kind', kind, 'subject', subject, 'text', body,"
    "     'author', author, 'topic', topic, 'at', at, 'channel_kind', ckind,"
    "     'channel_name', cname) ORDER BY ckind = 'city', ckind = 'district', topic, id))"
    /* The polls of the building's scope: open ones (how to vote), and the results of those closed since. */
    "     || jsonb_build_object('polls', (SELECT coalesce(jsonb_agg(" POLL_DATA("op")
    "       ORDER BY op.id), '[]')"
    "       FROM channels b2 LEFT JOIN channels d2 ON d2.id = b2.parent_id"
    "       JOIN polls op ON op.channel_id IN (b2.id, b2.parent_id, d2.parent_id)"
    "       WHERE b2.id = items.building AND op.state = 'open'),"
    "     'results', (SELECT coalesce(jsonb_agg(ct.data->'poll' ORDER BY cp.id), '[]')"
    "       FROM channels b3 LEFT JOIN channels d3 ON d3.id = b3.parent_id"
    "       JOIN polls cp ON cp.channel_id IN (b3.id, b3.parent_id, d3.parent_id)"
    "       JOIN contents ct ON ct.poll_id = cp.id AND ct.purpose = 'poll-results'"
    "       WHERE b3.id = items.building AND cp.state = 'closed'"
    "         AND cp.closed_at > (SELECT since FROM w) AND cp.closed_at <= (SELECT until FROM w)))"
    "     AS data"
    "   FROM items GROUP BY building),"
    " c AS (INSERT INTO contents (purpose, channel_id, data)"
    "   SELECT 'digest', building, data FROM groups RETURNING id, channel_id),"
    " o AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient)"
    "   SELECT c.id, 'email', r.id, r.email FROM c JOIN residents r ON r.building_id = c.channel_id"
    "   WHERE r.digest = $1 AND r.email IS NOT NULL AND r.email_stopped_at IS NULL"
    "     AND r.email_suspended_at IS NULL RETURNING resident_id),"
    " seen AS (UPDATE residents SET last_digest_at = now() WHERE id IN (SELECT resident_id FROM o)),"
    " run AS (INSERT INTO digest_runs (frequency, period, since, until, contents, messages)"
    "   SELECT $1, $2, w.since, w.until, (SELECT count(*) FROM c), (SELECT count(*) FROM o) FROM w"
    "   ON CONFLICT (frequency, period) DO UPDATE SET until = EXCLUDED.until,"
    "     contents = digest_runs.contents + EXCLUDED.contents,"
    "     messages = digest_runs.messages + EXCLUDED.messages, run_at = now()"
    "   RETURNING contents, messages)"
    " SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM o)";

/* 1 if the period was run already, 0 if not, -1 on error. */
static int
already_run(struct store *s, const char *frequency, const char *period)
{
	const char *params[2] = { frequency, period };
	PGresult *r = db_exec(s, "SELECT 1 FROM digest_runs WHERE frequency = $1 AND period = $2",
	    2, params);
	int found;

	if (r == NULL)
		return -1;
	found = PQntuples(r) > 0;
	PQclear(r);
	return found;
}

int
store_digest_run(struct store *s, const char *frequency, const char *period, int force,
    struct digest_stats *st)
{
	static const char *const lock[1] = { "7092897034834292" };
	const char *params[2] = { frequency, period };
	PGresult *r;
	int done;

	memset(st, 0, sizeof(*st));
	if (db_begin(s) < 0)
		return -1;
	if (db_run(s, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock) < 0 ||
	    (done = already_run(s, frequency, period)) < 0)
		goto fail;
	if (done && !force) {
		st->already = 1;
		return db_commit(s);
	}
	if ((r = db_exec(s, digest_sql, 2, params)) == NULL)
		goto fail;
	st->contents = atol(PQgetvalue(r, 0, 0));
	st->messages = atol(PQgetvalue(r, 0, 1));
	PQclear(r);
	if (db_commit(s) < 0)
		goto fail;
	log_info("digest_built", "frequency=%s period=%s buildings=%ld messages=%ld", frequency,
	    period, st->contents, st->messages);
	return 0;
fail:
	db_rollback(s);
	return -1;
}
