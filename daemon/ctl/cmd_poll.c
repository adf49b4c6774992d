/*
 * cmd_poll.c — polls: open one (its invitations go at once), list them,
 * read the tally, close one now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "ctl/ctl.h"
#include "ctl/table.h"
#include "store/polls.h"

#define USAGE_CREATE "poll create --channel SLUG --question Q --option A --option B ... " \
    "--closes 'YYYY-MM-DD HH:MM' [--from NAME]"

static int
print_doc(json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

	puts(s ? s : "null");
	free(s);
	return EXIT_OK;
}

static int
valid_text(const char *s)
{
	return utf8_valid(s, strlen(s), NULL);
}

static int
poll_create(struct ctl *c, int argc, char **argv)
{
	int bad = 0, rc, n = 0;
	const char *slug = ctl_take_opt(&argc, argv, "--channel", &bad);
	const char *question = ctl_take_opt(&argc, argv, "--question", &bad);
	const char *closes = ctl_take_opt(&argc, argv, "--closes", &bad);
	const char *from = ctl_take_opt(&argc, argv, "--from", &bad);
	const char *options[POLL_MAX_OPTIONS + 1], *o;
	struct poll_new p;
	struct poll_opened out;

	while ((o = ctl_take_opt(&argc, argv, "--option", &bad)) != NULL)
		if (n <= POLL_MAX_OPTIONS)
			options[n++] = o;
	if (bad || argc != 1 || !slug || !question || !closes)
		return ctl_fail(c, "usage: " USAGE_CREATE);
	if (n < 2 || n > POLL_MAX_OPTIONS)
		return ctl_fail(c, "a poll has 2 to %d options (--option, once for each)", POLL_MAX_OPTIONS);
	if (!valid_text(question) || (from && !valid_text(from)))
		return ctl_fail(c, "the question and --from must be UTF-8 text");
	for (int i = 0; i < n; i++)
		if (!valid_text(options[i]))
			return ctl_fail(c, "option %d is not UTF-8 text", i + 1);
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	p.slug = slug;
	p.question = question;
	p.options = options;
	p.noptions = n;
	p.closes = closes;
	p.sender = from ? from : c->cfg->mail_from_name;
	p.created_by = "palierctl";
	if (store_poll_create(c->store, &p, &out) < 0)
		return ctl_store_fail(c);
	printf("poll %ld opened (code %s): %ld residents asked, %ld invitations by email and %ld by SMS queued\n",
	    out.id, out.code, out.electorate, out.emails, out.sms);
	return EXIT_OK;
}

static int
parse_id(const char *s, long *id)
{
	char *end;

	*id = strtol(s, &end, 10);
	return *s && *end == '\0' && *id > 0;
}

static int
poll_results(struct ctl *c, int argc, char **argv)
{
	int json = ctl_take_flag(&argc, argv, "--json"), rc, found;
	long id, electorate, voted;
	char *doc;
	json_t *d, *x;
	size_t i;

	if (argc != 2 || !parse_id(argv[1], &id))
		return ctl_fail(c, "usage: poll results ID [--json]");
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	if ((found = store_poll_results(c->store, id, &doc)) < 0)
		return ctl_store_fail(c);
	if (found == 0)
		return ctl_fail(c, "no poll has the id %ld (see palierctl poll list)", id);
	d = json_loads(doc, JSON_DECODE_ANY, NULL);
	free(doc);
	if (d == NULL)
		return ctl_fail(c, "the tally could not be read");
	if (json) {
		print_doc(d);
		json_decref(d);
		return EXIT_OK;
	}
	electorate = (long)json_integer_value(json_object_get(d, "electorate"));
	voted = (long)json_integer_value(json_object_get(d, "voted"));
	printf("poll %ld (%s), %s: %s\n", id, json_string_value(json_object_get(d, "channel")),
	    json_is_true(json_object_get(d, "closed")) ? "closed" : "open",
	    json_string_value(json_object_get(d, "question")));
	json_array_foreach(json_object_get(d, "options"), i, x) {
		long v = (long)json_integer_value(json_object_get(x, "votes"));

		printf("  %zu. %-30s %6ld  %3ld %%\n", i + 1, json_string_value(json_object_get(x, "label")),
		    v, voted ? (v * 100 + voted / 2) / voted : 0);
	}
	printf("voted: %ld of %ld (%ld %%); by email %lld, by SMS %lld\n", voted, electorate,
	    electorate ? (voted * 100 + electorate / 2) / electorate : 0,
	    (long long)json_integer_value(json_object_get(json_object_get(d, "by_channel"), "email")),
	    (long long)json_integer_value(json_object_get(json_object_get(d, "by_channel"), "sms")));
	json_decref(d);
	return EXIT_OK;
}

static int
poll_close(struct ctl *c, int argc, char **argv)
{
	long id, closed;
	int rc;

	if (argc != 2 || !parse_id(argv[1], &id))
		return ctl_fail(c, "usage: poll close ID");
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	if ((rc = store_poll_close(c->store, id, &closed)) < 0)
		return ctl_store_fail(c);
	if (rc == 1)
		return ctl_fail(c, "no open poll has the id %ld", id);
	printf("poll %ld closed: its results are queued\n", id);
	return EXIT_OK;
}

static int
poll_list(struct ctl *c, int argc, char **argv)
{
	int json = ctl_take_flag(&argc, argv, "--json"), rc;
	static const char *const head[] = { "ID", "CODE", "CHANNEL", "STATE", "CLOSES", "VOTED", "QUESTION" };
	char *doc;
	json_t *d, *x;
	struct table *t;
	size_t i;

	if (argc != 1)
		return ctl_fail(c, "usage: poll list [--json]");
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	if (store_polls_list(c->store, &doc) < 0)
		return ctl_store_fail(c);
	d = json_loads(doc, 0, NULL);
	free(doc);
	if (d == NULL)
		return ctl_fail(c, "the list could not be read");
	if (json) {
		print_doc(d);
		json_decref(d);
		return EXIT_OK;
	}
	if (json_array_size(d) == 0) {
		printf("no polls\n");
		json_decref(d);
		return EXIT_OK;
	}
	t = table_new(7, head);
	json_array_foreach(d, i, x) {
		char *id = xasprintf("%lld", (long long)json_integer_value(json_object_get(x, "id")));
		char *voted = xasprintf("%lld/%lld", (long long)json_integer_value(json_object_get(x, "voted")),
		    (long long)json_integer_value(json_object_get(x, "electorate")));
		const char *cells[] = { id, json_string_value(json_object_get(x, "code")),
			json_string_value(json_object_get(x, "channel")),
			json_string_value(json_object_get(x, "state")),
			json_string_value(json_object_get(x, "closes_at")), voted,
			json_string_value(json_object_get(x, "question")) };

		table_row(t, cells);
		free(id);
		free(voted);
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(d);
	return EXIT_OK;
}

int
cmd_poll(struct ctl *c, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "create") == 0)
		return poll_create(c, argc, argv);
	if (argc >= 1 && strcmp(argv[0], "results") == 0)
		return poll_results(c, argc, argv);
	if (argc >= 1 && strcmp(argv[0], "close") == 0)
		return poll_close(c, argc, argv);
	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return poll_list(c, argc, argv);
	return ctl_fail(c, "usage: " USAGE_CREATE " | poll list [--json] | poll results ID [--json] | "
	    "poll close ID");
}
