/*
 * cmd_import.c — palierctl migrate and palierctl import FILE.csv.
 * The whole roster is read and checked before the database is touched;
 * a file with any bad line writes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "ctl/ctl.h"
#include "ingest/roster.h"

#define ROSTER_MAX (256L * 1024 * 1024)

int
cmd_migrate(struct ctl *c, int argc, char **argv)
{
	int rc;

	if (argc != 0)
		return ctl_fail(c, "takes no arguments");
	if ((rc = ctl_connect(c, 1)) != EXIT_OK)
		return rc;
	if (store_migrate(c->store, stdout) < 0)
		return ctl_store_fail(c);
	return EXIT_OK;
}

/* Reads a whole file ("-" for stdin) into buf; an error message (owned) or NULL. */
static char *
read_all(const char *path, struct buf *b)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (fp == NULL)
		return xasprintf("%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		buf_append(b, chunk, n);
		if (b->len > ROSTER_MAX) {
			if (fp != stdin)
				fclose(fp);
			return xasprintf("%s: larger than %ld MB", path, ROSTER_MAX >> 20);
		}
	}
	if (ferror(fp)) {
		char *msg = xasprintf("%s: %s", path, strerror(errno));

		if (fp != stdin)
			fclose(fp);
		return msg;
	}
	if (fp != stdin)
		fclose(fp);
	return NULL;
}

static void
print_stats(const char *path, const struct roster *r, const struct roster_stats *st)
{
	printf("%s: %zu residents (%ld new, %ld updated, %ld unchanged),"
	    " %zu channels (%ld new, %ld updated)\n", path, r->nresidents,
	    st->residents_new, st->residents_updated, st->residents_unchanged,
	    r->nchannels, st->channels_new, st->channels_updated);
}

int
cmd_import(struct ctl *c, int argc, char **argv)
{
	struct buf data = BUF_INIT, errors = BUF_INIT;
	struct roster roster;
	struct roster_stats st;
	char *err;
	int problems, cp1252, rc;

	if (argc != 1)
		return ctl_fail(c, "needs one FILE.csv (or - for standard input)");
	if ((err = read_all(argv[0], &data)) != NULL) {
		rc = ctl_fail(c, "%s", err);
		free(err);
		buf_free(&data);
		return rc;
	}
	problems = ingest_roster_parse(data.data ? data.data : "", data.len, &roster, &errors, &cp1252);
	buf_free(&data);
	if (cp1252)
		fprintf(stderr, "palierctl: import: %s is not UTF-8: read as Windows-1252\n", argv[0]);
	if (problems) {
		fputs(buf_cstr(&errors), stderr);
		rc = ctl_fail(c, "%s: %d problem%s; nothing was written", argv[0], problems,
		    problems > 1 ? "s" : "");
	} else if ((rc = ctl_connect(c, 0)) == EXIT_OK) {
		if (store_roster_apply(c->store, &roster, &st, &errors) == 0) {
			print_stats(argv[0], &roster, &st);
		} else if (errors.len) {
			fputs(buf_cstr(&errors), stderr);
			rc = ctl_fail(c, "%s: conflicts with the directory; nothing was written", argv[0]);
		} else {
			rc = ctl_store_fail(c);
		}
	}
	roster_free(&roster);
	buf_free(&errors);
	return rc;
}
