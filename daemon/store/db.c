/*
 * db.c — the PostgreSQL connection: open, run parameterised statements,
 * transactions, and telling a dead database from a refused statement.
 * Never builds SQL from values; never logs a parameter.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/db.h"

static void
ignore_notice(void *arg, const char *msg)
{
}

/*
 * Seconds a connection attempt may take, unless the URL says otherwise
 * (connect_timeout): without it, a database host that drops packets holds
 * a thread for the kernel's whole TCP timeout, about two minutes.
 */
#define CONNECT_TIMEOUT	"10"

struct store *
store_open(const char *url, char **err)
{
	/* Later keywords win: the URL, expanded from dbname, overrides our default. */
	static const char *const keys[] = { "connect_timeout", "dbname", NULL };
	const char *values[] = { CONNECT_TIMEOUT, url, NULL };
	struct store *s;
	PGconn *conn = PQconnectdbParams(keys, values, 1);

	if (PQstatus(conn) != CONNECTION_OK) {
		const char *msg = PQerrorMessage(conn);
		size_t n = strlen(msg);

		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			n--;
		*err = xstrndup(msg, n);
		PQfinish(conn);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->conn = conn;
	/* Notices (like "relation already exists, skipping") are not events. */
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	return s;
}

int
store_refusal(const char *err)
{
	static const char *const signs[] = {
		"does not exist", "authentication failed", "no pg_hba.conf entry",
		"password", "invalid connection option", "invalid URI", "permission denied",
	};

	for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++)
		if (strstr(err, signs[i]))
			return 1;
	return 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	PQfinish(s->conn);
	buf_free(&s->err);
	for (size_t i = 0; i < s->nprepared; i++)
		free(s->prepared[i]);
	free(s->prepared);
	free(s);
}

int
store_down(const struct store *s)
{
	return s->down;
}

const char *
store_error(const struct store *s)
{
	return buf_cstr(&s->err);
}

void
db_fail(struct store *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	buf_reset(&s->err);
	buf_puts(&s->err, msg ? msg : "error");
	free(msg);
	s->down = 0;
}

/* A lost connection, a server shutting down or refusing: the database's fault. */
static int
is_down(PGconn *conn, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(conn) != CONNECTION_OK)
		return 1;
	if (state == NULL)
		return r == NULL;
	return strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0;
}

static void
record_failure(struct store *s, const PGresult *r)
{
	const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn);
	size_t n = strlen(msg);

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	buf_reset(&s->err);
	buf_append(&s->err, msg, n);
	s->down = is_down(s->conn, r);
	log_debug("db_error", "down=%d error=%s", s->down, log_q(buf_cstr(&s->err)));
}

PGresult *
db_exec(struct store *s, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN)
		return r;
	record_failure(s, r);
	PQclear(r);
	return NULL;
}

int
db_prepare(struct store *s, const char *name, const char *sql, int nparams)
{
	PGresult *r;

	for (size_t i = 0; i < s->nprepared; i++)
		if (strcmp(s->prepared[i], name) == 0)
			return 0;
	r = PQprepare(s->conn, name, sql, nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		record_failure(s, r);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	s->prepared = xreallocarray(s->prepared, s->nprepared + 1, sizeof(*s->prepared));
	s->prepared[s->nprepared++] = xstrdup(name);
	return 0;
}

PGresult *
db_exec_prepared(struct store *s, const char *name, const char *sql, int nparams,
    const char *const *params, const int *lengths, const int *formats)
{
	PGresult *r;
	ExecStatusType st;

	if (db_prepare(s, name, sql, nparams) < 0)
		return NULL;
	r = PQexecPrepared(s->conn, name, nparams, params, lengths, formats, 0);
	st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	record_failure(s, r);
	PQclear(r);
	return NULL;
}

int
db_run(struct store *s, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = db_exec(s, sql, nparams, params);

	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

int
db_begin(struct store *s)
{
	return db_run(s, "BEGIN", 0, NULL);
}

int
db_commit(struct store *s)
{
	return db_run(s, "COMMIT", 0, NULL);
}

void
db_rollback(struct store *s)
{
	PGresult *r;

	if (PQstatus(s->conn) != CONNECTION_OK)
		return;
	r = PQexec(s->conn, "ROLLBACK");
	PQclear(r);
}

char *
db_strdup(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return xstrdup(PQgetvalue(r, row, col));
}

int
store_listen_fanout(struct store *s)
{
	return db_run(s, "LISTEN " FANOUT_CHANNEL, 0, NULL);
}

int
store_notify_fanout(struct store *s)
{
	return db_run(s, "NOTIFY " FANOUT_CHANNEL, 0, NULL);
}

/* Drops the notifications libpq holds; 1 if there were any. */
static int
drain_notifies(struct store *s)
{
	PGnotify *n;
	int got = 0;

	while ((n = PQnotifies(s->conn)) != NULL) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}

int
store_await(struct store *s, int ms, int wake_fd)
{
	struct pollfd p[2] = { { PQsocket(s->conn), POLLIN, 0 }, { wake_fd, POLLIN, 0 } };

	if (drain_notifies(s))	/* arrived with an earlier statement's results */
		return 1;
	if (poll(p, wake_fd >= 0 ? 2 : 1, ms) < 0 || !(p[0].revents & (POLLIN | POLLERR | POLLHUP)))
		return 0;
	if (PQconsumeInput(s->conn) == 0) {
		record_failure(s, NULL);
		s->down = 1;
		return -1;
	}
	return drain_notifies(s);
}

static void
put_be32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16 & 0xff, v >> 8 & 0xff, v & 0xff };

	buf_append(b, x, 4);
}

void
db_array(struct buf *b, unsigned oid, const char *const *v, const size_t *len, size_t n)
{
	int nulls = 0;

	for (size_t i = 0; i < n; i++)
		nulls |= v[i] == NULL;
	put_be32(b, 1);			/* dimensions */
	put_be32(b, (uint32_t)nulls);	/* flags: has NULLs */
	put_be32(b, oid);		/* element type */
	put_be32(b, (uint32_t)n);	/* length of the dimension */
	put_be32(b, 1);			/* its lower bound */
	for (size_t i = 0; i < n; i++) {
		size_t k = v[i] == NULL ? 0 : len ? len[i] : strlen(v[i]);

		put_be32(b, v[i] ? (uint32_t)k : UINT32_MAX);	/* -1: NULL */
		if (k > 0)
			buf_append(b, v[i], k);
	}
}
