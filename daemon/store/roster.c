/*
 * roster.c — writes a parsed roster in one transaction: channels upserted
 * parents first, residents through COPY into a temporary table and one
 * INSERT ... ON CONFLICT. A re-import of the same file changes no row.
 * A slug that the database already gives to another kind of channel
 * rejects the file with its line; nothing is half-written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/db.h"

static const char *const kind_names[] = { "city", "district", "building" };

void
roster_free(struct roster *r)
{
	for (size_t i = 0; i < r->nchannels; i++) {
		free(r->channels[i].slug);
		free(r->channels[i].name);
		free(r->channels[i].address);
	}
	for (size_t i = 0; i < r->nresidents; i++) {
		free(r->residents[i].unit);
		free(r->residents[i].name);
		free(r->residents[i].email);
		free(r->residents[i].phone);
	}
	free(r->channels);
	free(r->residents);
	memset(r, 0, sizeof(*r));
}

/* Slugs the file uses for one kind that the database gives to another. */
static int
check_kinds(struct store *s, const struct roster *r, struct buf *errors)
{
	struct buf arr = BUF_INIT;
	const char *params[1];
	PGresult *res;
	int conflicts = 0;

	buf_putc(&arr, '{');
	for (size_t i = 0; i < r->nchannels; i++)	/* slugs are [a-z0-9-]: safe in an array literal */
		buf_printf(&arr, "%s%s", i ? "," : "", r->channels[i].slug);
	buf_putc(&arr, '}');
	params[0] = buf_cstr(&arr);
	res = db_exec(s, "SELECT c.slug, c.kind, coalesce(p.slug, '') FROM channels c"
	    " LEFT JOIN channels p ON p.id = c.parent_id WHERE c.slug = ANY($1::text[])", 1, params);
	buf_free(&arr);
	if (res == NULL)
		return -1;
	for (int row = 0; row < PQntuples(res); row++) {
		const char *slug = PQgetvalue(res, row, 0), *kind = PQgetvalue(res, row, 1);
		const char *parent = PQgetvalue(res, row, 2);

		for (size_t i = 0; i < r->nchannels; i++) {
			const struct roster_channel *c = &r->channels[i];
			const char *want = c->parent >= 0 ? r->channels[c->parent].slug : "";

			if (strcmp(c->slug, slug) != 0)
				continue;
			if (strcmp(kind_names[c->kind], kind) != 0) {
				buf_printf(errors, "line %d: the %s slug '%s' already names a %s;"
				    " choose another with a %s_slug column\n", c->line,
				    kind_names[c->kind], slug, kind, kind_names[c->kind]);
				conflicts++;
			} else if (strcmp(want, parent) != 0) {
				/* Never move another place's channel (and its residents) silently. */
				buf_printf(errors, "line %d: the %s slug '%s' already names a %s in '%s';"
				    " choose another with a %s_slug column\n", c->line, kind_names[c->kind],
				    slug, kind, *parent ? parent : "no parent", kind_names[c->kind]);
				conflicts++;
			}
		}
	}
	PQclear(res);
	return conflicts ? -1 : 0;
}

static int
upsert_channels(struct store *s, const struct roster *r, struct roster_stats *st)
{
	static const char sql[] =
	    "INSERT INTO channels AS c (kind, slug, name, parent_id, address)"
	    " VALUES ($1, $2, $3, (SELECT id FROM channels WHERE slug = $4), $5)"
	    " ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name,"
	    "   parent_id = EXCLUDED.parent_id,"
	    "   address = coalesce(EXCLUDED.address, c.address), updated_at = now()"
	    " WHERE (c.name, c.parent_id, c.address) IS DISTINCT FROM"
	    "   (EXCLUDED.name, EXCLUDED.parent_id, coalesce(EXCLUDED.address, c.address))"
	    " RETURNING (xmax = 0)";

	for (size_t i = 0; i < r->nchannels; i++) {
		const struct roster_channel *c = &r->channels[i];
		const char *params[5] = {
			kind_names[c->kind], c->slug, c->name,
			c->parent >= 0 ? r->channels[c->parent].slug : NULL, c->address
		};
		PGresult *res = db_exec(s, sql, 5, params);

		if (res == NULL)
			return -1;
		if (PQntuples(res) == 1) {
			if (PQgetvalue(res, 0, 0)[0] == 't')
				st->channels_new++;
			else
				st->channels_updated++;
		}
		PQclear(res);
	}
	return 0;
}

/* COPY text format: backslash, tab, newline and carriage return escaped. */
static void
copy_field(struct buf *b, const char *v, int last)
{
	if (v == NULL) {
		buf_puts(b, "\\N");
	} else {
		for (; *v; v++) {
			switch (*v) {
			case '\\': buf_puts(b, "\\\\"); break;
			case '\t': buf_puts(b, "\\t"); break;
			case '\n': buf_puts(b, "\\n"); break;
			case '\r': buf_puts(b, "\\r"); break;
			default: buf_putc(b, *v);
			}
		}
	}
	buf_putc(b, last ? '\n' : '\t');
}

static int
copy_residents(struct store *s, const struct roster *r)
{
	struct buf b = BUF_INIT;
	PGresult *res;
	int rc = 0;

	if (db_run(s, "CREATE TEMP TABLE roster_in (line int, building text, unit text,"
	    " name text, email text, phone text, digest text, sms boolean) ON COMMIT DROP",
	    0, NULL) < 0)
		return -1;
	if ((res = db_exec(s, "COPY roster_in FROM STDIN", 0, NULL)) == NULL)
		return -1;
	PQclear(res);
	for (size_t i = 0; i < r->nresidents; i++) {
		const struct roster_resident *p = &r->residents[i];

		buf_printf(&b, "%d\t", p->line);
		copy_field(&b, r->channels[p->building].slug, 0);
		copy_field(&b, p->unit, 0);
		copy_field(&b, p->name, 0);
		copy_field(&b, p->email, 0);
		copy_field(&b, p->phone, 0);
		copy_field(&b, p->digest, 0);
		copy_field(&b, p->sms ? "t" : "f", 1);
		if (b.len > 65536 || i + 1 == r->nresidents) {
			if (PQputCopyData(s->conn, b.data, (int)b.len) != 1)
				rc = -1;
			buf_reset(&b);
		}
	}
	buf_free(&b);
	if (PQputCopyEnd(s->conn, rc ? "aborted" : NULL) != 1)
		rc = -1;
	while ((res = PQgetResult(s->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
			db_fail(s, "copy: %s", PQresultErrorMessage(res));
			s->down = PQstatus(s->conn) != CONNECTION_OK;
			rc = -1;
		}
		PQclear(res);
	}
	return rc;
}

/*
 * A resident's own choice of digest outlives the landlord's spreadsheet; a
 * new email clears its bounce record, a new phone its STOP.
 */
static const char upsert_residents_sql[] =
    "WITH up AS ("
    " INSERT INTO residents AS t (building_id, unit, name, email, phone, digest, sms, sms_consent_at)"
    " SELECT c.id, r.unit, r.name, r.email, r.phone, r.digest, r.sms,"
    "        CASE WHEN r.sms THEN now() END"
    " FROM roster_in r JOIN channels c ON c.slug = r.building AND c.kind = 'building'"
    " ON CONFLICT (building_id, lower(unit), lower(name)) DO UPDATE SET"
    "   unit = EXCLUDED.unit, name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone,"
    "   digest = CASE WHEN t.digest_by_resident THEN t.digest ELSE EXCLUDED.digest END,"
    "   sms = EXCLUDED.sms,"
    "   sms_consent_at = CASE WHEN EXCLUDED.sms AND NOT t.sms THEN now() ELSE t.sms_consent_at END,"
    "   consent_at = CASE WHEN (t.email, t.phone) IS DISTINCT FROM (EXCLUDED.email, EXCLUDED.phone)"
    "                THEN now() ELSE t.consent_at END,"
    "   email_suspended_at = CASE WHEN t.email IS DISTINCT FROM EXCLUDED.email"
    "                THEN NULL ELSE t.email_suspended_at END,"
    "   bounce_score = CASE WHEN t.email IS DISTINCT FROM EXCLUDED.email THEN 0 ELSE t.bounce_score END,"
    "   sms_stopped_at = CASE WHEN t.phone IS DISTINCT FROM EXCLUDED.phone"
    "                THEN NULL ELSE t.sms_stopped_at END,"
    "   updated_at = now()"
    " WHERE (t.unit, t.name, t.email, t.phone, t.sms) IS DISTINCT FROM"
    "       (EXCLUDED.unit, EXCLUDED.name, EXCLUDED.email, EXCLUDED.phone, EXCLUDED.sms)"
    "    OR (NOT t.digest_by_resident AND t.digest <> EXCLUDED.digest)"
    " RETURNING (xmax = 0) AS inserted)"
    " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up";

static int
upsert_residents(struct store *s, const struct roster *r, struct roster_stats *st)
{
	PGresult *res = db_exec(s, upsert_residents_sql, 0, NULL);

	if (res == NULL)
		return -1;
	st->residents_new = atol(PQgetvalue(res, 0, 0));
	st->residents_updated = atol(PQgetvalue(res, 0, 1));
	st->residents_unchanged = (long)r->nresidents - st->residents_new - st->residents_updated;
	PQclear(res);
	return 0;
}

int
store_roster_apply(struct store *s, const struct roster *r, struct roster_stats *st,
    struct buf *errors)
{
	static const char *const lock[1] = { "7092897034834291" };

	memset(st, 0, sizeof(*st));
	if (db_begin(s) < 0)
		return -1;
	/* One import at a time: two would race on the same channels. */
	if (db_run(s, "SELECT pg_advisory_xact_lock($1::bigint)", 1, lock) < 0 ||
	    check_kinds(s, r, errors) < 0 || upsert_channels(s, r, st) < 0 ||
	    copy_residents(s, r) < 0 || upsert_residents(s, r, st) < 0 ||
	    db_commit(s) < 0) {
		db_rollback(s);
		return -1;
	}
	log_info("roster_imported", "channels_new=%ld residents_new=%ld residents_updated=%ld",
	    st->channels_new, st->residents_new, st->residents_updated);
	/*
	 * Fresh statistics now, not when autovacuum gets to it: the intake's
	 * plans are chosen from them, and a plan made for an empty directory
	 * scans the whole table once it is full. The import is already
	 * committed: a failure here is only logged.
	 */
	if ((st->channels_new || st->residents_new || st->residents_updated) &&
	    db_run(s, "ANALYZE channels, residents, publishers", 0, NULL) < 0)
		log_warn("roster_analyze_failed", "error=%s", log_q(store_error(s)));
	return 0;
}
