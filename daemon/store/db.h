/*
 * db.h — the libpq connection behind struct store, for daemon/store/ only.
 */
#ifndef PALIER_STORE_DB_H
#define PALIER_STORE_DB_H

#include <libpq-fe.h>

#include "core/buf.h"
#include "store/store.h"

/* What publishes a post notifies; the fan-out listens (store_listen_fanout). */
#define FANOUT_CHANNEL	"palier_fanout"

struct store {
	PGconn		*conn;
	int		 down;		/* the last failure was the database's */
	struct buf	 err;		/* the last failure, for the caller */
	char		**prepared;	/* names of the statements prepared on this connection */
	size_t		 nprepared;
};

/*
 * Runs one parameterised statement (text parameters, NULL for SQL NULL).
 * Returns the result, or NULL after recording the failure in s. The caller
 * clears a non-NULL result before returning.
 */
PGresult *db_exec(struct store *s, const char *sql, int nparams, const char *const *params);
/* db_exec for statements whose rows don't matter: 0 or -1. */
int db_run(struct store *s, const char *sql, int nparams, const char *const *params);
/*
 * Like db_exec, for a statement run often: prepared on this connection the
 * first time, then only executed (one name, one sql text: a statement
 * whose text varies needs a name per text).
 * lengths and formats may be NULL (all text).
 */
PGresult *db_exec_prepared(struct store *s, const char *name, const char *sql, int nparams,
    const char *const *params, const int *lengths, const int *formats);
/* Prepares name once per connection; 0 or -1. */
int db_prepare(struct store *s, const char *name, const char *sql, int nparams);
int db_begin(struct store *s);
int db_commit(struct store *s);
/* Rolls back, keeping the error that made us roll back. */
void db_rollback(struct store *s);
/* Records a failure of ours (not the database's) in s. */
void db_fail(struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A one-dimensional array parameter in PostgreSQL's binary form, into b
 * (pass it with format 1): no quoting to get wrong. Elements of type oid
 * (DB_TEXT or DB_BYTEA) given by their bytes: v[i] NULL for SQL NULL,
 * len[i] their length (len NULL: each a string).
 */
#define DB_BYTEA	17
#define DB_TEXT		25
void db_array(struct buf *b, unsigned oid, const char *const *v, const size_t *len, size_t n);
/* Copies a field into a new string; NULL for SQL NULL. */
char *db_strdup(const PGresult *r, int row, int col);

#endif
