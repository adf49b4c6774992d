/*
 * directory.c — reads of the channel tree and the residents for listings,
 * and the publishers table. Returns plain rows; no PGresult leaves here.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/db.h"

static const char channels_sql[] =
    "WITH RECURSIVE tree AS ("
    "  SELECT id, parent_id, 0 AS depth, ARRAY[slug] AS path"
    "  FROM channels WHERE parent_id IS NULL"
    "  UNION ALL"
    "  SELECT c.id, c.parent_id, t.depth + 1, t.path || c.slug"
    "  FROM channels c JOIN tree t ON c.parent_id = t.id)"
    " SELECT c.id, c.slug, c.name, c.kind, p.slug, c.address, t.depth,"
    "   (SELECT count(*) FROM residents r WHERE r.building_id = c.id)"
    " FROM tree t JOIN channels c ON c.id = t.id LEFT JOIN channels p ON p.id = c.parent_id"
    " ORDER BY t.path";

int
store_channels_list(struct store *s, struct rows *out)
{
	PGresult *r = db_exec(s, channels_sql, 0, NULL);
	struct channel_row *rows;
	int n;

	if (r == NULL)
		return -1;
	n = PQntuples(r);
	rows = xcalloc((size_t)n + 1, sizeof(*rows));
	for (int i = 0; i < n; i++) {
		rows[i].id = atol(PQgetvalue(r, i, 0));
		rows[i].slug = db_strdup(r, i, 1);
		rows[i].name = db_strdup(r, i, 2);
		rows[i].kind = db_strdup(r, i, 3);
		rows[i].parent = db_strdup(r, i, 4);
		rows[i].address = db_strdup(r, i, 5);
		rows[i].depth = atoi(PQgetvalue(r, i, 6));
		rows[i].residents = atol(PQgetvalue(r, i, 7));
	}
	PQclear(r);
	/* Rows come depth first: add each one's count to its ancestors. */
	for (int i = n - 1; i >= 0; i--)
		for (int j = i - 1; j >= 0; j--)
			if (rows[j].depth == rows[i].depth - 1) {
				rows[j].residents += rows[i].residents;
				break;
			}
	out->items = rows;
	out->n = (size_t)n;
	return 0;
}

void
store_channels_free(struct rows *rows)
{
	struct channel_row *c = rows->items;

	for (size_t i = 0; i < rows->n; i++) {
		free(c[i].slug);
		free(c[i].name);
		free(c[i].kind);
		free(c[i].parent);
		free(c[i].address);
	}
	free(c);
	rows->items = NULL;
	rows->n = 0;
}

static const char residents_sql[] =
    "WITH RECURSIVE scope AS ("
    "  SELECT id FROM channels WHERE ($1::text IS NULL AND parent_id IS NULL) OR slug = $1"
    "  UNION ALL SELECT c.id FROM channels c JOIN scope s ON c.parent_id = s.id)"
    " SELECT r.id, r.name, city.slug, d.slug, b.slug, r.unit, r.email, r.phone, r.digest,"
    "   r.sms, r.sms_stopped_at IS NOT NULL, r.email_suspended_at IS NOT NULL"
    " FROM residents r JOIN channels b ON b.id = r.building_id"
    " JOIN channels p ON p.id = b.parent_id"
    " LEFT JOIN channels d ON d.id = p.id AND p.kind = 'district'"
    " JOIN channels city ON city.id = CASE WHEN p.kind = 'city' THEN p.id ELSE p.parent_id END"
    " WHERE r.building_id IN (SELECT id FROM scope)"
    " ORDER BY city.slug, d.slug NULLS FIRST, b.slug, r.unit, r.name, r.id";

static int
channel_exists(struct store *s, const char *slug)
{
	const char *params[1] = { slug };
	PGresult *r = db_exec(s, "SELECT 1 FROM channels WHERE slug = $1", 1, params);
	int found;

	if (r == NULL)
		return -1;
	found = PQntuples(r) == 1;
	PQclear(r);
	if (!found)
		db_fail(s, "no channel has the slug '%s' (see palierctl channels)", slug);
	return found ? 0 : -1;
}

int
store_residents_list(struct store *s, const char *slug, struct rows *out)
{
	const char *params[1] = { slug };
	struct resident_row *rows;
	PGresult *r;
	int n;

	if (slug && channel_exists(s, slug) < 0)
		return -1;
	if ((r = db_exec(s, residents_sql, 1, params)) == NULL)
		return -1;
	n = PQntuples(r);
	rows = xcalloc((size_t)n + 1, sizeof(*rows));
	for (int i = 0; i < n; i++) {
		rows[i].id = atol(PQgetvalue(r, i, 0));
		rows[i].name = db_strdup(r, i, 1);
		rows[i].city = db_strdup(r, i, 2);
		rows[i].district = db_strdup(r, i, 3);
		rows[i].building = db_strdup(r, i, 4);
		rows[i].unit = db_strdup(r, i, 5);
		rows[i].email = db_strdup(r, i, 6);
		rows[i].phone = db_strdup(r, i, 7);
		rows[i].digest = db_strdup(r, i, 8);
		rows[i].sms = PQgetvalue(r, i, 9)[0] == 't';
		rows[i].sms_stopped = PQgetvalue(r, i, 10)[0] == 't';
		rows[i].email_suspended = PQgetvalue(r, i, 11)[0] == 't';
	}
	PQclear(r);
	out->items = rows;
	out->n = (size_t)n;
	return 0;
}

void
store_residents_free(struct rows *rows)
{
	struct resident_row *p = rows->items;

	for (size_t i = 0; i < rows->n; i++) {
		free(p[i].name);
		free(p[i].city);
		free(p[i].district);
		free(p[i].building);
		free(p[i].unit);
		free(p[i].email);
		free(p[i].phone);
		free(p[i].digest);
	}
	free(p);
	rows->items = NULL;
	rows->n = 0;
}

int
store_publisher_add(struct store *s, const char *slug, const char *email, const char *name)
{
	const char *params[3] = { slug, email, name };
	PGresult *r;
	int added;

	if (channel_exists(s, slug) < 0)
		return -1;
	r = db_exec(s, "INSERT INTO publishers (channel_id, email, name)"
	    " SELECT id, $2, $3 FROM channels WHERE slug = $1"
	    " ON CONFLICT (channel_id, lower(email)) DO UPDATE SET name = coalesce(EXCLUDED.name, publishers.name)"
	    " RETURNING (xmax = 0)", 3, params);
	if (r == NULL)
		return -1;
	added = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return added ? 0 : 1;
}

int
store_resident_email_stop(struct store *s, long id)
{
	char ids[24];
	const char *params[1] = { ids };
	PGresult *r;
	int n;

	snprintf(ids, sizeof(ids), "%ld", id);
	r = db_exec(s, "UPDATE residents SET email_stopped_at = coalesce(email_stopped_at, now()),"
	    " updated_at = now() WHERE id = $1 RETURNING id", 1, params);
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	return n == 1 ? 0 : 1;
}
