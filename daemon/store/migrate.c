/*
 * migrate.c — applies the compiled-in sql/NNN_*.sql migrations, each once,
 * in order, each in its own transaction, under an advisory lock so that two
 * palierctl migrate never race. Records every one in schema_migrations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/db.h"
#include "store/migrations.h"

#define MIGRATE_LOCK "7092897034834290" /* any constant; ours alone */

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

/* The highest version applied, 0 for none; -1 on error. */
static int
applied_version(struct store *s)
{
	PGresult *r = db_exec(s, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL);
	int v;

	if (r == NULL)
		return -1;
	v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static int
apply_one(struct store *s, const struct migration *m)
{
	char ver[16];
	const char *params[2] = { ver, m->name };
	PGresult *r;

	snprintf(ver, sizeof(ver), "%d", m->version);
	if (db_begin(s) < 0)
		return -1;
	/* Simple-query protocol: a migration is several statements of our own text. */
	r = PQexec(s->conn, m->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		db_fail(s, "%s: %s", m->name, PQresultErrorMessage(r));
		s->down = PQstatus(s->conn) != CONNECTION_OK;
		PQclear(r);
		db_rollback(s);
		return -1;
	}
	PQclear(r);
	if (db_run(s, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2, params) < 0 ||
	    db_commit(s) < 0) {
		db_rollback(s);
		return -1;
	}
	return 0;
}

int
store_migrate(struct store *s, FILE *progress)
{
	const char *lock[1] = { MIGRATE_LOCK };
	int have, rc = 0, count = 0;

	if (db_run(s, "SELECT pg_advisory_lock($1::bigint)", 1, lock) < 0)
		return -1;
	if (db_run(s, create_table, 0, NULL) < 0 || (have = applied_version(s)) < 0) {
		rc = -1;
		goto unlock;
	}
	for (const struct migration *m = store_migrations; m->name; m++) {
		if (m->version <= have)
			continue;
		if (apply_one(s, m) < 0) {
			rc = -1;
			break;
		}
		count++;
		have = m->version;	/* numbers may skip (a branch's 007 before 005) */
		log_info("migration_applied", "name=%s", m->name);
		if (progress)
			fprintf(progress, "applied %s\n", m->name);
	}
	if (rc == 0 && progress)
		fprintf(progress, count ? "schema is at version %d\n" :
		    "schema is up to date (version %d)\n", have);
unlock:
	if (!store_down(s)) {
		PGresult *r = PQexecParams(s->conn, "SELECT pg_advisory_unlock($1::bigint)",
		    1, NULL, lock, NULL, NULL, 0);
		PQclear(r);
	}
	return rc;
}

int
store_schema_check(struct store *s, int *missing)
{
	PGresult *r = db_exec(s, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL);
	int latest = 0, have = 0, exists;

	if (r == NULL)
		return -1;
	exists = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (exists && (have = applied_version(s)) < 0)
		return -1;
	for (const struct migration *m = store_migrations; m->name; m++)
		latest = m->version;
	*missing = latest > have ? latest - have : 0;
	if (*missing) {
		db_fail(s, "the database schema is %s: run 'palierctl migrate'",
		    have ? "older than this palier" : "not installed");
		return -1;
	}
	return 0;
}
