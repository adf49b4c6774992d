/*
 * palierd.c — the daemon: options, roles, signals, systemd notification.
 * Runs in the foreground and logs to stderr. SIGHUP reloads the config
 * (a bad one is refused and the old one kept); SIGTERM drains and exits.
 * Owns no protocol itself: each role lives in its stage's folder.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "store/store.h"

#define EX_USAGE	64
#define EX_CONFIG	78
#define DB_RETRY_MS	2000

enum role { ROLE_INGEST = 1, ROLE_FANOUT = 2, ROLE_DELIVER = 4, ROLE_HTTP = 8 };

static const struct { const char *name; enum role bit; } role_names[] = {
	{ "ingest", ROLE_INGEST }, { "fanout", ROLE_FANOUT },
	{ "deliver", ROLE_DELIVER }, { "http", ROLE_HTTP },
};
#define NROLES (sizeof(role_names) / sizeof(role_names[0]))

struct daemon {
	const char	*conf_path;	/* NULL: embedded defaults */
	struct config	*cfg;
	unsigned	 roles;
	struct store	*store;
	unsigned char	 key[SECRET_LEN];
	int		 sigfd;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: palierd [-c FILE] [--role ingest,fanout,deliver,http] [-n]\n");
}

/* Parses "ingest,http"; 0 on a name that is not a role. */
static unsigned
parse_roles(const char *list)
{
	char *copy = xstrdup(list), *save = NULL;
	unsigned roles = 0;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < NROLES && strcmp(tok, role_names[i].name) != 0; i++)
			;
		if (i == NROLES) {
			fprintf(stderr, "palierd: '%s' is not a role (ingest, fanout, deliver, http)\n", tok);
			free(copy);
			return 0;
		}
		roles |= role_names[i].bit;
	}
	free(copy);
	return roles;
}

static char *
roles_text(unsigned roles)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < NROLES; i++)
		if (roles & role_names[i].bit)
			buf_printf(&b, "%s%s", b.len ? "," : "", role_names[i].name);
	return buf_take(&b);
}

/* Tells systemd (Type=notify) how we are; nothing when not under systemd. */
static void
sd_notify_state(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)!sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	close(fd);
}

/* -n: everything that can be checked without serving. */
static int
check_only(struct daemon *d)
{
	char *err = NULL, *roles;

	/* A key file that exists must be usable; a missing one is made at start. */
	if (access(d->cfg->security_secret_file, F_OK) == 0 &&
	    secret_load(d->cfg->security_secret_file, d->key, 0, &err) < 0) {
		fprintf(stderr, "palierd: %s\n", err);
		free(err);
		return -1;
	}
	roles = roles_text(d->roles);
	printf("palierd: %s: configuration is valid (roles %s)\n", d->cfg->path, roles);
	free(roles);
	return 0;
}

static enum log_level
level_of(const char *name)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };

	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return (enum log_level)i;
	return L_INFO;
}

static void
db_connect(struct daemon *d)
{
	char *err = NULL;

	if (d->store)
		return;
	if ((d->store = store_open(d->cfg->database_url, &err)) == NULL) {
		log_warn("db_unreachable", "retry_ms=%d error=%s", DB_RETRY_MS, log_q(err));
		free(err);
		return;
	}
	log_info("db_connected", NULL);
}

static void
reload(struct daemon *d)
{
	char *err = NULL;
	struct config *cfg;

	sd_notify_state("RELOADING=1");
	if ((cfg = config_load(d->conf_path, &err)) == NULL) {
		log_error("reload_refused", "error=%s", log_q(err));
		free(err);
	} else {
		if (strcmp(cfg->database_url, d->cfg->database_url) != 0) {
			store_close(d->store);
			d->store = NULL;
		}
		config_free(d->cfg);
		d->cfg = cfg;
		log_init("palierd", level_of(cfg->log_level));
		log_info("reloaded", "config=%s", log_q(cfg->path));
	}
	sd_notify_state("READY=1");
}

static int
setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	return d->sigfd < 0 ? -1 : 0;
}

/* Runs until SIGTERM or SIGINT. */
static void
serve(struct daemon *d)
{
	for (;;) {
		struct pollfd pfd = { d->sigfd, POLLIN, 0 };
		struct signalfd_siginfo si;

		if (poll(&pfd, 1, d->store ? -1 : DB_RETRY_MS) < 0 && errno != EINTR)
			fatal("poll", "error=%s", log_q(strerror(errno)));
		if (!(pfd.revents & POLLIN)) {
			db_connect(d);
			continue;
		}
		if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			reload(d);
			db_connect(d);
		} else {
			log_info("stopping", "signal=%s", si.ssi_signo == SIGTERM ? "TERM" : "INT");
			return;
		}
	}
}

int
main(int argc, char **argv)
{
	struct daemon d;
	char *err = NULL, *roles;
	int check = 0;

	memset(&d, 0, sizeof(d));
	d.roles = ROLE_INGEST | ROLE_FANOUT | ROLE_DELIVER | ROLE_HTTP;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0) {
			check = 1;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			d.conf_path = argv[++i];
		} else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) {
			if ((d.roles = parse_roles(argv[++i])) == 0)
				return EX_USAGE;
		} else if (strncmp(argv[i], "--role=", 7) == 0) {
			if ((d.roles = parse_roles(argv[i] + 7)) == 0)
				return EX_USAGE;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return EX_USAGE;
		}
	}
	d.conf_path = config_choose(d.conf_path);
	if ((d.cfg = config_load(d.conf_path, &err)) == NULL) {
		fprintf(stderr, "palierd: %s\n", err);
		free(err);
		return EX_CONFIG;
	}
	if (check) {
		int rc = check_only(&d);

		config_free(d.cfg);
		return rc ? EX_CONFIG : 0;
	}
	log_init("palierd", level_of(d.cfg->log_level));
	if (secret_load(d.cfg->security_secret_file, d.key, 1, &err) < 0)
		fatal("secret", "error=%s", log_q(err));
	if (setup_signals(&d) < 0)
		fatal("signalfd", "error=%s", log_q(strerror(errno)));
	roles = roles_text(d.roles);
	log_info("started", "version=%s config=%s roles=%s", PALIER_VERSION, log_q(d.cfg->path), roles);
	free(roles);
	db_connect(&d);
	sd_notify_state("READY=1");
	serve(&d);
	sd_notify_state("STOPPING=1");
	store_close(d.store);
	config_free(d.cfg);
	explicit_bzero(d.key, sizeof(d.key));
	close(d.sigfd);
	log_info("stopped", NULL);
	return 0;
}
