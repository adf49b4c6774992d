/*
 * palierctl.c — the operator's tool: options, command dispatch, exit codes.
 * Each command lives in its own cmd_*.c; this file never touches the
 * database itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "ctl/ctl.h"

static const struct command {
	const char	*name;
	int		(*run)(struct ctl *, int, char **);
	const char	*usage;
} commands[] = {
	{ "migrate",	cmd_migrate,	"migrate" },
	{ "import",	cmd_import,	"import FILE.csv" },
	{ "channels",	cmd_channels,	"channels [--json]" },
	{ "residents",	cmd_residents,	"residents [--channel SLUG] [--json]" },
	{ "publisher",	cmd_publisher,	"publisher add SLUG EMAIL [--name NAME]" },
	{ "posts",	cmd_posts,	"posts [--channel SLUG] [--status S] [--json]" },
	{ "post",	cmd_post,	"post show ID [--json]" },
	{ "hold",	cmd_hold,	"hold [--json] | hold approve ID [--trust] | hold reject ID [--reason TEXT]" },
	{ "moderator",	cmd_moderator,	"moderator add SLUG EMAIL [--name NAME]" },
	{ "bulletin",	cmd_bulletin,	"bulletin send --channel SLUG --subject S --file BODY [--from NAME]" },
	{ "poll",	cmd_poll,	"poll create --channel SLUG --question Q --option A --option B ... --closes TIME [--from NAME]\n"
			"  poll list [--json] | poll results ID [--json] | poll close ID" },
	{ "digest",	cmd_digest,	"digest run [--now]" },
	{ "queue",	cmd_queue,	"queue [--json]" },
	{ "filters",	cmd_filters,	"filters test [FILE.eml | -] [--role resident|publisher|unknown] [--sms]" },
	{ "config",	cmd_config,	"config (print the configuration in force)" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: palierctl [-c FILE] COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %s\n", commands[i].usage);
}

int
ctl_fail(const struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "palierctl: %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USER;
}

int
ctl_store_fail(const struct ctl *c)
{
	if (c->store && store_down(c->store)) {
		fprintf(stderr, "palierctl: %s: the database is unreachable: %s\n",
		    c->cmd, store_error(c->store));
		return EXIT_TEMPFAIL;
	}
	return ctl_fail(c, "%s", c->store ? store_error(c->store) : "no database");
}

int
ctl_connect(struct ctl *c, int migrating)
{
	char *err = NULL;
	int missing;

	if ((c->store = store_open(c->cfg->database_url, &err)) == NULL) {
		int refused = store_refusal(err);

		fprintf(stderr, "palierctl: %s: %s: %s\n", c->cmd, refused ?
		    "the database refused the connection" : "the database is unreachable", err);
		free(err);
		return refused ? EXIT_USER : EXIT_TEMPFAIL;
	}
	if (!migrating && store_schema_check(c->store, &missing) < 0)
		return ctl_store_fail(c);
	return EXIT_OK;
}

int
ctl_take_flag(int *argc, char **argv, const char *flag)
{
	for (int i = 0; i < *argc; i++)
		if (strcmp(argv[i], flag) == 0) {
			memmove(argv + i, argv + i + 1, (size_t)(*argc - i) * sizeof(*argv));
			(*argc)--;
			return 1;
		}
	return 0;
}

const char *
ctl_take_opt(int *argc, char **argv, const char *name, int *bad)
{
	for (int i = 0; i < *argc; i++) {
		size_t n = strlen(name);
		const char *v;

		if (strcmp(argv[i], name) == 0) {
			if (i + 1 >= *argc) {
				*bad = -1;
				return NULL;
			}
			v = argv[i + 1];
			memmove(argv + i, argv + i + 2, (size_t)(*argc - i - 1) * sizeof(*argv));
			*argc -= 2;
			return v;
		}
		if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
			v = argv[i] + n + 1;
			memmove(argv + i, argv + i + 1, (size_t)(*argc - i) * sizeof(*argv));
			(*argc)--;
			return v;
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct ctl c = { NULL, NULL, "palierctl" };
	const char *conf = NULL;
	char *err = NULL;
	int i = 1, rc;

	log_init("palierctl", L_WARN);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "palierctl: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USER;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USER;
	}
	for (size_t k = 0; k < NCOMMANDS; k++) {
		if (strcmp(argv[i], commands[k].name) != 0)
			continue;
		c.cmd = commands[k].name;
		if ((c.cfg = config_load(config_choose(conf), &err)) == NULL) {
			fprintf(stderr, "palierctl: %s\n", err);
			free(err);
			return EXIT_USER;
		}
		rc = commands[k].run(&c, argc - i - 1, argv + i + 1);
		store_close(c.store);
		config_free(c.cfg);
		return rc;
	}
	fprintf(stderr, "palierctl: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return EXIT_USER;
}
