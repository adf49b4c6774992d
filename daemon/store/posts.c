/*
 * posts.c — reading posts for the operator, deciding held ones, and the
 * operator's own bulletins. Every decision is one UPDATE that only touches
 * a post still held: two moderators can't both decide it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/db.h"
#include "store/moderation.h"

#define POST_COLUMNS \
    "p.id, coalesce(p.thread_id, 0), c.slug, p.kind, p.topic, p.status, p.reason, p.source," \
    " p.author, p.sender, p.subject, p.body," \
    " to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')," \
    " coalesce(p.inbound_id, 0)," \
    " (SELECT count(*) FROM attachments a WHERE a.inbound_id = p.inbound_id)"

static void
post_fill(struct post_row *p, const PGresult *r, int i)
{
	p->id = atol(PQgetvalue(r, i, 0));
	p->thread = atol(PQgetvalue(r, i, 1));
	p->channel = db_strdup(r, i, 2);
	p->kind = db_strdup(r, i, 3);
	p->topic = db_strdup(r, i, 4);
	p->status = db_strdup(r, i, 5);
	p->reason = db_strdup(r, i, 6);
	p->source = db_strdup(r, i, 7);
	p->author = db_strdup(r, i, 8);
	p->sender = db_strdup(r, i, 9);
	p->subject = db_strdup(r, i, 10);
	p->body = db_strdup(r, i, 11);
	p->created_at = db_strdup(r, i, 12);
	p->inbound_id = atol(PQgetvalue(r, i, 13));
	p->attachments = atoi(PQgetvalue(r, i, 14));
}

int
store_posts_list(struct store *s, const char *slug, const char *status, long limit,
    struct rows *out)
{
	char lim[24];
	const char *params[3] = { slug, status, lim };
	struct post_row *rows;
	PGresult *r;
	int n;

	snprintf(lim, sizeof(lim), "%ld", limit);
	r = db_exec(s, "WITH RECURSIVE scope AS ("
	    "  SELECT id FROM channels WHERE $1::text IS NULL OR slug = $1"
	    "  UNION SELECT c.id FROM channels c JOIN scope s ON c.parent_id = s.id)"
	    " SELECT " POST_COLUMNS " FROM posts p JOIN channels c ON c.id = p.channel_id"
	    " WHERE p.channel_id IN (SELECT id FROM scope) AND ($2::text IS NULL OR p.status = $2)"
	    " ORDER BY p.id DESC LIMIT $3", 3, params);
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	rows = xcalloc((size_t)n + 1, sizeof(*rows));
	for (int i = 0; i < n; i++)
		post_fill(&rows[i], r, i);
	PQclear(r);
	out->items = rows;
	out->n = (size_t)n;
	return 0;
}

int
store_post_get(struct store *s, long id, struct post_row *out)
{
	char ids[24];
	const char *params[1] = { ids };
	PGresult *r;
	int found;

	snprintf(ids, sizeof(ids), "%ld", id);
	r = db_exec(s, "SELECT " POST_COLUMNS " FROM posts p JOIN channels c ON c.id = p.channel_id"
	    " WHERE p.id = $1", 1, params);
	if (r == NULL)
		return -1;
	if ((found = PQntuples(r) == 1))
		post_fill(out, r, 0);
	PQclear(r);
	return found;
}

void
store_post_clear(struct post_row *p)
{
	free(p->channel);
	free(p->kind);
	free(p->topic);
	free(p->status);
	free(p->reason);
	free(p->source);
	free(p->author);
	free(p->sender);
	free(p->subject);
	free(p->body);
	free(p->created_at);
	memset(p, 0, sizeof(*p));
}

void
store_posts_free(struct rows *rows)
{
	struct post_row *p = rows->items;

	for (size_t i = 0; i < rows->n; i++)
		store_post_clear(&p[i]);
	free(p);
	rows->items = NULL;
	rows->n = 0;
}

int
store_hold_decide(struct store *s, long id, int approve, int trust, const char *reason,
    const char *by)
{
	char ids[24];
	const char *params[5] = { ids, approve ? "published" : "refused", reason,
		trust ? "t" : "f", by };
	PGresult *r;
	int n;

	snprintf(ids, sizeof(ids), "%ld", id);
	r = db_exec(s, "WITH d AS (UPDATE posts SET status = $2, decided_at = now(), decided_by = $5,"
	    "   reason = CASE WHEN $2 = 'refused' THEN coalesce($3, reason) ELSE reason END"
	    "   WHERE id = $1 AND status = 'held'"
	    "   RETURNING id, channel_id, sender, source, author_verified, status, resident_id),"
	    MODERATION_EFFECTS("d", "$4::boolean", "$5")
	    " SELECT id FROM d", 5, params);
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	if (n == 1)
		log_info("hold_decided", "post=%ld status=%s", id, params[1]);
	if (n == 1 && approve)
		(void)store_notify_fanout(s);	/* else the fan-out finds it at its next look */
	return n == 1 ? 0 : 1;
}

int
store_moderator_add(struct store *s, const char *slug, const char *email, const char *name)
{
	const char *params[3] = { slug, email, name };
	PGresult *r;
	int added;

	r = db_exec(s, "INSERT INTO moderators (channel_id, email, name)"
	    " SELECT id, $2, $3 FROM channels WHERE slug = $1"
	    " ON CONFLICT (channel_id, lower(email)) DO UPDATE SET name = coalesce(EXCLUDED.name, moderators.name)"
	    " RETURNING (xmax = 0)", 3, params);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		db_fail(s, "no channel has the slug '%s' (see palierctl channels)", slug);
		return -1;
	}
	added = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return added ? 0 : 1;
}

long
store_bulletin_insert(struct store *s, const char *slug, const char *author,
    const char *subject, const char *body)
{
	char key[64];
	struct timespec ts;
	const char *params[5] = { key, slug, author, subject, body };
	PGresult *r;
	long id = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(key, sizeof(key), "ctl:%lld.%09ld.%d", (long long)ts.tv_sec, ts.tv_nsec, rand());
	r = db_exec(s, "WITH ch AS (SELECT id FROM channels WHERE slug = $2),"
	    " ins AS (INSERT INTO inbound (source, via, dedup_key, recipient, sender, subject, disposition)"
	    "   SELECT 'email', 'palierctl', $1, $2, 'palierctl', $4, 'bulletin' FROM ch RETURNING id)"
	    " INSERT INTO posts (inbound_id, channel_id, kind, status, source, author, sender, subject,"
	    "   body, decided_at)"
	    " SELECT ins.id, ch.id, 'bulletin', 'published', 'email', $3, 'palierctl', $4, $5, now()"
	    " FROM ins, ch RETURNING id", 5, params);
	if (r == NULL)
		return 0;
	if (PQntuples(r) == 1)
		id = atol(PQgetvalue(r, 0, 0));
	else
		db_fail(s, "no channel has the slug '%s' (see palierctl channels)", slug);
	PQclear(r);
	if (id)
		(void)store_notify_fanout(s);	/* else the fan-out finds it at its next look */
	return id;
}
