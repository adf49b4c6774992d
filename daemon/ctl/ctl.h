/*
 * ctl.h — what palierctl's commands share: the config, the database
 * connection and the exit codes of DESIGN.md.
 */
#ifndef PALIER_CTL_CTL_H
#define PALIER_CTL_CTL_H

#include "core/config.h"
#include "store/store.h"

enum {
	EXIT_OK = 0,
	EXIT_USER = 1,		/* a user error, with a one-line message */
	EXIT_TEMPFAIL = 75,	/* the database is unreachable */
};

struct ctl {
	struct config	*cfg;
	struct store	*store;		/* connected by ctl_connect */
	const char	*cmd;		/* for messages */
};

/* Connects and checks the schema (unless migrating); returns an exit code. */
int ctl_connect(struct ctl *c, int migrating);
/* Prints "palierctl: CMD: message" to stderr and returns EXIT_USER. */
int ctl_fail(const struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The exit code after a store call failed: 75 if the database is down, else 1. */
int ctl_store_fail(const struct ctl *c);
/* 1 if argv holds --json (removed from it), else 0. */
int ctl_take_flag(int *argc, char **argv, const char *flag);
/* The value of --name VALUE (removed from argv), or NULL. -1 in *bad when VALUE is missing. */
const char *ctl_take_opt(int *argc, char **argv, const char *name, int *bad);

int cmd_migrate(struct ctl *c, int argc, char **argv);
int cmd_import(struct ctl *c, int argc, char **argv);
int cmd_channels(struct ctl *c, int argc, char **argv);
int cmd_residents(struct ctl *c, int argc, char **argv);
int cmd_publisher(struct ctl *c, int argc, char **argv);
int cmd_config(struct ctl *c, int argc, char **argv);
int cmd_posts(struct ctl *c, int argc, char **argv);
int cmd_post(struct ctl *c, int argc, char **argv);
int cmd_hold(struct ctl *c, int argc, char **argv);
int cmd_queue(struct ctl *c, int argc, char **argv);
int cmd_bulletin(struct ctl *c, int argc, char **argv);
int cmd_digest(struct ctl *c, int argc, char **argv);
int cmd_moderator(struct ctl *c, int argc, char **argv);
int cmd_filters(struct ctl *c, int argc, char **argv);
int cmd_poll(struct ctl *c, int argc, char **argv);

#endif
