/*
 * cmd_filters.c — palierctl filters test [FILE.eml | -] [--role R] [--sms]:
 * how a message would be classified, and every rule that matched, with
 * its file and line. Reads the message as the intake does (MIME, the
 * sender's own words); touches no database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify/classify.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "ctl/ctl.h"
#include "ingest/mime.h"
#include "ingest/reply.h"

static int
read_input(const char *path, struct buf *b, char **err)
{
	FILE *fp = path == NULL || strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (fp == NULL) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b->len < (64u << 20))
		buf_append(b, chunk, n);
	if (fp != stdin)
		fclose(fp);
	return 0;
}

/* The slug of the first To/Cc address in our domain, if any. */
static char *
addressed(const struct mail *m, const char *domain)
{
	static const char *const fields[] = { "Delivered-To", "X-Original-To", "To", "Cc" };
	char *want = xasprintf("@%s", domain), *slug = NULL;

	for (size_t f = 0; f < 4 && slug == NULL; f++) {
		const char *v = mail_header(m, fields[f]), *at;

		while (v && (at = strcasestr(v, want)) != NULL && slug == NULL) {
			const char *start = at;

			while (start > v && start[-1] != '<' && start[-1] != ' ' && start[-1] != ',' &&
			    start[-1] != ':')
				start--;
			if (at > start)
				slug = xstrndup(start, (size_t)(at - start));
			v = at + 1;
		}
	}
	free(want);
	return slug;
}

static void
report(const struct classify_result *r, const char *channel)
{
	static const char *const decisions[] = { "publish", "hold", "refuse" };
	static const char *const scopes[] = { "the channel written to", "its district", "its city" };

	printf("channel:  %s%s%s\n", channel ? channel : "(none of ours)",
	    r->scope != CLASSIFY_SAME ? ", moved to " : "", r->scope != CLASSIFY_SAME ? scopes[r->scope] : "");
	printf("topic:    %s\n", r->topic ? r->topic : "(none)");
	printf("decision: %s%s%s\n", decisions[r->decision], r->reason ? " — " : "",
	    r->reason ? r->reason : "");
	if (r->ntags) {
		printf("tags:    ");
		for (size_t i = 0; i < r->ntags; i++)
			printf(" %s", r->tags[i]);
		printf("\n");
	}
	if (r->limited)
		printf("note:     a rule hit its time or depth limit (palierd holds such a post)\n");
	printf("rules that matched:%s\n", r->nmatches ? "" : " none");
	for (size_t i = 0; i < r->nmatches; i++)
		printf("  %s:%d  %s\n", r->matches[i].file, r->matches[i].line, r->matches[i].name);
}

static int
role_of(const char *s, enum classify_role *role)
{
	if (s == NULL || strcmp(s, "resident") == 0)
		*role = CLASSIFY_RESIDENT;
	else if (strcmp(s, "publisher") == 0)
		*role = CLASSIFY_PUBLISHER;
	else if (strcmp(s, "unknown") == 0)
		*role = CLASSIFY_UNKNOWN;
	else
		return -1;
	return 0;
}

static struct rules *
load_rules(const struct ctl *c, char **err)
{
	char *dir = config_data_dir(c->cfg->filters_dir, "filters");
	const char *dirs[3] = { dir, c->cfg->filters_local_dir, NULL };
	struct rules *r = classify_rules_load(dirs, err);

	free(dir);
	return r;
}

int
cmd_filters(struct ctl *c, int argc, char **argv)
{
	int bad = 0, sms = ctl_take_flag(&argc, argv, "--sms"), rc = EXIT_OK;
	const char *role_s = ctl_take_opt(&argc, argv, "--role", &bad), *why = NULL;
	struct classify_input in;
	struct classify_result res;
	struct buf data = BUF_INIT;
	struct mail m;
	struct rules *rules;
	char *err = NULL, *body = NULL, *channel = NULL;
	const char **names = NULL, **values = NULL;

	memset(&in, 0, sizeof(in));
	if (bad || argc < 1 || argc > 2 || strcmp(argv[0], "test") != 0 || role_of(role_s, &in.role) < 0)
		return ctl_fail(c, "usage: filters test [FILE.eml | -] [--role resident|publisher|unknown] [--sms]");
	if ((rules = load_rules(c, &err)) == NULL || read_input(argc == 2 ? argv[1] : NULL, &data, &err) < 0) {
		rc = ctl_fail(c, "%s", err);
		free(err);
		classify_rules_free(rules);
		buf_free(&data);
		return rc;
	}
	memset(&m, 0, sizeof(m));
	if (sms) {
		in.source = CLASSIFY_SMS;
		in.subject = "";
		in.body = buf_cstr(&data);
	} else if (ingest_mime_parse(data.data ? data.data : "", data.len, &m, &why) < 0) {
		rc = ctl_fail(c, "%s: %s", argc == 2 ? argv[1] : "stdin", why);
		goto out;
	} else {
		names = xcalloc(m.nheaders + 1, sizeof(*names));
		values = xcalloc(m.nheaders + 1, sizeof(*values));
		for (size_t i = 0; i < m.nheaders; i++) {
			names[i] = m.headers[i].name;
			values[i] = m.headers[i].value;
		}
		body = ingest_reply_trim(m.text ? m.text : "");
		channel = addressed(&m, c->cfg->mail_domain);
		in.source = CLASSIFY_EMAIL;
		in.subject = m.subject ? m.subject : "";
		in.body = body;
		in.header_names = names;
		in.header_values = values;
		in.nheaders = m.nheaders;
	}
	classify_run(rules, &in, &res);
	report(&res, channel);
	classify_result_free(&res);
out:
	free(names);
	free(values);
	mail_free(&m);
	free(body);
	free(channel);
	buf_free(&data);
	classify_rules_free(rules);
	return rc;
}
