/*
 * cmd_posts.c — posts, post show, the moderation queue (hold), the outgoing
 * queue and the operator's bulletins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/slug.h"
#include "core/utf8.h"
#include "ctl/ctl.h"
#include "ctl/table.h"

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
post_json(const struct post_row *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(p->id));
	json_object_set_new(o, "channel", jstr(p->channel));
	json_object_set_new(o, "kind", jstr(p->kind));
	json_object_set_new(o, "topic", jstr(p->topic));
	json_object_set_new(o, "status", jstr(p->status));
	json_object_set_new(o, "reason", jstr(p->reason));
	json_object_set_new(o, "source", jstr(p->source));
	json_object_set_new(o, "author", jstr(p->author));
	json_object_set_new(o, "sender", jstr(p->sender));
	json_object_set_new(o, "subject", jstr(p->subject));
	json_object_set_new(o, "body", jstr(p->body));
	json_object_set_new(o, "thread", p->thread ? json_integer(p->thread) : json_null());
	json_object_set_new(o, "created_at", jstr(p->created_at));
	json_object_set_new(o, "attachments", json_integer(p->attachments));
	return o;
}

static int
print_json(json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

	json_decref(doc);
	puts(s ? s : "null");
	free(s);
	return EXIT_OK;
}

/* The first line of a text, cut for a table cell. */
static char *
first_line(const char *s, size_t max)
{
	size_t n = strcspn(s ? s : "", "\n");
	struct buf b = BUF_INIT;

	buf_append(&b, s ? s : "", n);
	if (b.len > max) {
		size_t cut = max;

		while (cut > 0 && (b.data[cut] & 0xc0) == 0x80)
			cut--;	/* not inside a UTF-8 character */
		b.len = cut;
		b.data[cut] = '\0';
		buf_puts(&b, "…");
	}
	return buf_take(&b);
}

static void
posts_table(const struct post_row *p, size_t n, int with_reason)
{
	static const char *const head[] = { "ID", "CHANNEL", "STATUS", "TOPIC", "AUTHOR", "SUBJECT" };
	struct table *t = table_new(6, head);

	for (size_t i = 0; i < n; i++) {
		char *id = xasprintf("%ld", p[i].id);
		char *subj = first_line(p[i].subject && *p[i].subject ? p[i].subject : p[i].body, 48);
		char *status = with_reason && p[i].reason ?
		    xasprintf("%s (%s)", p[i].status, p[i].reason) : xstrdup(p[i].status);
		const char *cells[] = { id, p[i].channel, status, p[i].topic, p[i].author, subj };

		table_row(t, cells);
		free(id);
		free(subj);
		free(status);
	}
	table_print(t, stdout);
	table_free(t);
}

static int
list_posts(struct ctl *c, const char *slug, const char *status, int json, int with_reason)
{
	struct rows rows;
	int rc;

	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	if (store_posts_list(c->store, slug, status, 1000, &rows) < 0)
		return ctl_store_fail(c);
	if (json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < rows.n; i++)
			json_array_append_new(arr, post_json(&((struct post_row *)rows.items)[i]));
		print_json(arr);
	} else if (rows.n == 0) {
		printf(status && strcmp(status, "held") == 0 ? "no post is waiting for moderation\n" :
		    "no posts\n");
	} else {
		posts_table(rows.items, rows.n, with_reason);
	}
	store_posts_free(&rows);
	return EXIT_OK;
}

static const char *const statuses[] = { "published", "held", "refused", NULL };

int
cmd_posts(struct ctl *c, int argc, char **argv)
{
	int json = ctl_take_flag(&argc, argv, "--json"), bad = 0, ok = 0;
	const char *slug = ctl_take_opt(&argc, argv, "--channel", &bad);
	const char *status = ctl_take_opt(&argc, argv, "--status", &bad);

	if (bad || argc != 0)
		return ctl_fail(c, "usage: posts [--channel SLUG] [--status published|held|refused] [--json]");
	for (int i = 0; status && statuses[i]; i++)
		ok |= strcmp(status, statuses[i]) == 0;
	if (status && !ok)
		return ctl_fail(c, "'%s' is not a status (published, held, refused)", status);
	return list_posts(c, slug, status, json, 0);
}

static int
parse_id(const char *s, long *id)
{
	char *end;

	errno = 0;
	*id = strtol(s, &end, 10);
	return errno || *end || end == s || *id <= 0 ? -1 : 0;
}

int
cmd_post(struct ctl *c, int argc, char **argv)
{
	int json = ctl_take_flag(&argc, argv, "--json"), rc;
	struct post_row p;
	long id;

	if (argc != 2 || strcmp(argv[0], "show") != 0 || parse_id(argv[1], &id) < 0)
		return ctl_fail(c, "usage: post show ID [--json]");
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	if ((rc = store_post_get(c->store, id, &p)) < 0)
		return ctl_store_fail(c);
	if (rc == 0)
		return ctl_fail(c, "no post has the id %ld", id);
	if (json) {
		print_json(post_json(&p));
	} else {
		printf("post %ld in %s (%s, %s)\nfrom: %s <%s>\nstatus: %s%s%s\ntopic: %s\n"
		    "subject: %s\n\n%s\n", p.id, p.channel, p.kind, p.source, p.author, p.sender,
		    p.status, p.reason ? " — " : "", p.reason ? p.reason : "",
		    p.topic ? p.topic : "-", p.subject, p.body);
	}
	store_post_clear(&p);
	return EXIT_OK;
}

int
cmd_hold(struct ctl *c, int argc, char **argv)
{
	int json = ctl_take_flag(&argc, argv, "--json"), trust = ctl_take_flag(&argc, argv, "--trust");
	int bad = 0, rc, approve;
	const char *reason = ctl_take_opt(&argc, argv, "--reason", &bad);
	long id;

	if (argc == 0 && !bad)
		return list_posts(c, NULL, "held", json, 1);
	if (bad || argc != 2 || (strcmp(argv[0], "approve") != 0 && strcmp(argv[0], "reject") != 0) ||
	    parse_id(argv[1], &id) < 0)
		return ctl_fail(c, "usage: hold [--json] | hold approve ID [--trust] |"
		    " hold reject ID [--reason TEXT]");
	approve = strcmp(argv[0], "approve") == 0;
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	switch (store_hold_decide(c->store, id, approve, approve && trust, reason, "palierctl")) {
	case 0:
		printf("post %ld %s\n", id, approve ? "published" : "refused");
		return EXIT_OK;
	case 1:
		return ctl_fail(c, "post %ld is not waiting for moderation", id);
	default:
		return ctl_store_fail(c);
	}
}

int
cmd_moderator(struct ctl *c, int argc, char **argv)
{
	int bad = 0, rc;
	const char *name = ctl_take_opt(&argc, argv, "--name", &bad), *why;

	if (bad || argc != 3 || strcmp(argv[0], "add") != 0)
		return ctl_fail(c, "usage: moderator add SLUG EMAIL [--name NAME]");
	if ((why = email_check(argv[2])) != NULL)
		return ctl_fail(c, "'%s' %s", argv[2], why);
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	switch (store_moderator_add(c->store, argv[1], argv[2], name)) {
	case 0:
		printf("%s now moderates %s and the channels below it\n", argv[2], argv[1]);
		return EXIT_OK;
	case 1:
		printf("%s already moderated %s\n", argv[2], argv[1]);
		return EXIT_OK;
	default:
		return ctl_store_fail(c);
	}
}

int
cmd_queue(struct ctl *c, int argc, char **argv)
{
	int json = ctl_take_flag(&argc, argv, "--json"), rc;
	struct rows rows;
	struct queue_row *q;

	if (argc != 0)
		return ctl_fail(c, "usage: queue [--json]");
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	if (store_queue_stats(c->store, &rows) < 0)
		return ctl_store_fail(c);
	q = rows.items;
	if (json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < rows.n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I}", "kind", q[i].kind,
			    "state", q[i].state, "count", (json_int_t)q[i].count,
			    "segments", (json_int_t)q[i].segments));
		print_json(arr);
	} else if (rows.n == 0) {
		printf("the outgoing queue is empty\n");
	} else {
		static const char *const head[] = { "KIND", "STATE", "COUNT", "SEGMENTS" };
		struct table *t = table_new(4, head);

		for (size_t i = 0; i < rows.n; i++) {
			char *n = xasprintf("%ld", q[i].count);
			char *seg = strcmp(q[i].kind, "sms") == 0 ? xasprintf("%ld", q[i].segments) : xstrdup("-");
			const char *cells[] = { q[i].kind, q[i].state, n, seg };

			table_row(t, cells);
			free(n);
			free(seg);
		}
		table_print(t, stdout);
		table_free(t);
	}
	free(rows.items);
	return EXIT_OK;
}

/* Reads a UTF-8 text file (or "-") whole; an error (owned) or NULL. */
static char *
read_text(const char *path, struct buf *b)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (fp == NULL)
		return xasprintf("%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b->len < (1 << 20))
		buf_append(b, chunk, n);
	if (fp != stdin)
		fclose(fp);
	if (b->len >= (1 << 20))
		return xasprintf("%s: longer than 1 MB", path);
	if (!utf8_valid(buf_cstr(b), b->len, NULL) || strlen(buf_cstr(b)) != b->len)
		return xasprintf("%s: not UTF-8 text", path);
	return NULL;
}

int
cmd_bulletin(struct ctl *c, int argc, char **argv)
{
	int bad = 0, rc;
	const char *slug = ctl_take_opt(&argc, argv, "--channel", &bad);
	const char *subject = ctl_take_opt(&argc, argv, "--subject", &bad);
	const char *file = ctl_take_opt(&argc, argv, "--file", &bad);
	const char *author = ctl_take_opt(&argc, argv, "--from", &bad);
	struct buf body = BUF_INIT;
	char *err;
	long id;

	if (bad || argc != 1 || strcmp(argv[0], "send") != 0 || !slug || !subject || !file)
		return ctl_fail(c, "usage: bulletin send --channel SLUG --subject S --file BODY [--from NAME]");
	if ((err = read_text(file, &body)) != NULL) {
		rc = ctl_fail(c, "%s", err);
		free(err);
		buf_free(&body);
		return rc;
	}
	if ((rc = ctl_connect(c, 0)) == EXIT_OK) {
		id = store_bulletin_insert(c->store, slug, author ? author : c->cfg->mail_from_name,
		    subject, buf_cstr(&body));
		if (id == 0)
			rc = ctl_store_fail(c);
		else
			printf("bulletin %ld queued for %s\n", id, slug);
	}
	buf_free(&body);
	return rc;
}
