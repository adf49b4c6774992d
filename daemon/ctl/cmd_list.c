/*
 * cmd_list.c — the directory listings (channels, residents), publishers
 * and the configuration in force. --json prints one JSON document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/slug.h"
#include "ctl/ctl.h"
#include "ctl/table.h"

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Prints and frees a JSON document. */
static int
json_print(json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

	json_decref(doc);
	if (s == NULL)
		return EXIT_USER;
	puts(s);
	free(s);
	return EXIT_OK;
}

static void
channels_json(const struct ctl *c, const struct channel_row *rows, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		char *addr = xasprintf("%s@%s", rows[i].slug, c->cfg->mail_domain);

		json_object_set_new(o, "slug", json_string(rows[i].slug));
		json_object_set_new(o, "name", json_string(rows[i].name));
		json_object_set_new(o, "kind", json_string(rows[i].kind));
		json_object_set_new(o, "parent", jstr(rows[i].parent));
		json_object_set_new(o, "address", json_string(addr));
		json_object_set_new(o, "postal_address", jstr(rows[i].address));
		json_object_set_new(o, "residents", json_integer(rows[i].residents));
		json_array_append_new(arr, o);
		free(addr);
	}
	json_print(arr);
}

static void
channels_table(const struct ctl *c, const struct channel_row *rows, size_t n)
{
	static const char *const head[] = { "SLUG", "KIND", "RESIDENTS", "ADDRESS", "NAME" };
	struct table *t = table_new(5, head);

	for (size_t i = 0; i < n; i++) {
		char *slug = xasprintf("%*s%s", rows[i].depth * 2, "", rows[i].slug);
		char *count = xasprintf("%ld", rows[i].residents);
		char *addr = xasprintf("%s@%s", rows[i].slug, c->cfg->mail_domain);
		const char *cells[] = { slug, rows[i].kind, count, addr, rows[i].name };

		table_row(t, cells);
		free(slug);
		free(count);
		free(addr);
	}
	table_print(t, stdout);
	table_free(t);
}

int
cmd_channels(struct ctl *c, int argc, char **argv)
{
	int json = ctl_take_flag(&argc, argv, "--json"), rc;
	struct rows rows;

	if (argc != 0)
		return ctl_fail(c, "unexpected argument '%s' (usage: channels [--json])", argv[0]);
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	if (store_channels_list(c->store, &rows) < 0)
		return ctl_store_fail(c);
	if (json)
		channels_json(c, rows.items, rows.n);
	else if (rows.n == 0)
		printf("no channels yet: import a roster with palierctl import FILE.csv\n");
	else
		channels_table(c, rows.items, rows.n);
	store_channels_free(&rows);
	return EXIT_OK;
}

static void
residents_json(const struct resident_row *p, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "id", json_integer(p[i].id));
		json_object_set_new(o, "name", json_string(p[i].name));
		json_object_set_new(o, "city", json_string(p[i].city));
		json_object_set_new(o, "district", jstr(p[i].district));
		json_object_set_new(o, "building", json_string(p[i].building));
		json_object_set_new(o, "unit", json_string(p[i].unit));
		json_object_set_new(o, "email", jstr(p[i].email));
		json_object_set_new(o, "phone", jstr(p[i].phone));
		json_object_set_new(o, "digest", json_string(p[i].digest));
		json_object_set_new(o, "sms", json_boolean(p[i].sms));
		json_object_set_new(o, "sms_stopped", json_boolean(p[i].sms_stopped));
		json_object_set_new(o, "email_suspended", json_boolean(p[i].email_suspended));
		json_array_append_new(arr, o);
	}
	json_print(arr);
}

static void
residents_table(const struct resident_row *p, size_t n)
{
	static const char *const head[] = {
		"ID", "BUILDING", "UNIT", "NAME", "EMAIL", "PHONE", "DIGEST", "SMS"
	};
	struct table *t = table_new(8, head);

	for (size_t i = 0; i < n; i++) {
		char *id = xasprintf("%ld", p[i].id);
		char *email = p[i].email && p[i].email_suspended ?
		    xasprintf("%s (suspended)", p[i].email) : xstrdup(p[i].email ? p[i].email : "-");
		const char *sms = p[i].sms_stopped ? "stopped" : p[i].sms ? "yes" : "no";
		const char *cells[] = {
			id, p[i].building, p[i].unit, p[i].name, email, p[i].phone, p[i].digest, sms
		};

		table_row(t, cells);
		free(id);
		free(email);
	}
	table_print(t, stdout);
	table_free(t);
}

int
cmd_residents(struct ctl *c, int argc, char **argv)
{
	int json = ctl_take_flag(&argc, argv, "--json"), bad = 0, rc;
	const char *slug = ctl_take_opt(&argc, argv, "--channel", &bad);
	struct rows rows;

	if (bad || argc != 0)
		return ctl_fail(c, "usage: residents [--channel SLUG] [--json]");
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	if (store_residents_list(c->store, slug, &rows) < 0)
		return ctl_store_fail(c);
	if (json)
		residents_json(rows.items, rows.n);
	else
		residents_table(rows.items, rows.n);
	store_residents_free(&rows);
	return EXIT_OK;
}

int
cmd_publisher(struct ctl *c, int argc, char **argv)
{
	int bad = 0, rc;
	const char *name = ctl_take_opt(&argc, argv, "--name", &bad), *why;

	if (bad || argc != 3 || strcmp(argv[0], "add") != 0)
		return ctl_fail(c, "usage: publisher add SLUG EMAIL [--name NAME]");
	if ((why = email_check(argv[2])) != NULL)
		return ctl_fail(c, "'%s' %s", argv[2], why);
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	switch (store_publisher_add(c->store, argv[1], argv[2], name)) {
	case 0:
		printf("%s may now publish to %s and the channels below it\n", argv[2], argv[1]);
		return EXIT_OK;
	case 1:
		printf("%s could already publish to %s\n", argv[2], argv[1]);
		return EXIT_OK;
	default:
		return ctl_store_fail(c);
	}
}

int
cmd_config(struct ctl *c, int argc, char **argv)
{
	char *dump;

	if (argc != 0)
		return ctl_fail(c, "takes no arguments");
	dump = config_dump(c->cfg);
	fputs(dump, stdout);
	free(dump);
	return EXIT_OK;
}
