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
#include "classify/classify.h"
#include "deliver/deliver.h"
#include "deliver/gateway.h"
#include "fanout/fanout.h"
#include "fanout/send.h"
#include "fanout/template.h"
#include "http/http.h"
#include "ingest/imap.h"
#include "ingest/intake.h"
#include "ingest/lmtp.h"
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
	struct intake	*intake;	/* ingest and http roles */
	struct lmtp_server *lmtp;	/* ingest */
	struct imap_intake *imap;	/* ingest, when [imap] url is set */
	struct http_server *http;	/* http */
	struct fanout	*fanout;	/* fanout */
	struct tpl_set	*templates;	/* deliver, http */
	struct sender	*email, *sms;	/* deliver */
	struct config	**retired;	/* configs replaced by reloads: the workers may still read them */
	size_t		 nretired;
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

/* The filter rules of the config's directories; NULL and *err on a bad rule. */
static struct rules *
rules_load(const struct config *cfg, char **err)
{
	char *dir = config_data_dir(cfg->filters_dir, "filters");
	const char *dirs[3] = { dir, cfg->filters_local_dir, NULL };
	struct rules *r = classify_rules_load(dirs, err);

	free(dir);
	return r;
}

/* -n: everything that can be checked without serving. */
static int
check_only(struct daemon *d)
{
	char *err = NULL, *roles, *tdir;
	struct rules *rules;
	int ok;

	/* A key file that exists must be usable; a missing one is made at start. */
	if (access(d->cfg->security_secret_file, F_OK) == 0 &&
	    secret_load(d->cfg->security_secret_file, d->key, 0, &err) < 0) {
		fprintf(stderr, "palierd: %s\n", err);
		free(err);
		return -1;
	}
	if (*d->cfg->imap_url) {
		struct imap_url u;

		if (ingest_imap_url_parse(d->cfg->imap_url, &u, &err) < 0) {
			fprintf(stderr, "palierd: %s: %s\n", d->cfg->path, err);
			free(err);
			return -1;
		}
		ingest_imap_url_clear(&u);
	}
	if (strncmp(d->cfg->sms_gateway, "file:", 5) != 0 && *d->cfg->sms_url == '\0') {
		fprintf(stderr, "palierd: %s: [sms] gateway = %s needs [sms] url\n", d->cfg->path,
		    d->cfg->sms_gateway);
		return -1;
	}
	if ((rules = rules_load(d->cfg, &err)) == NULL) {
		fprintf(stderr, "palierd: %s\n", err);
		free(err);
		return -1;
	}
	tdir = config_data_dir(d->cfg->templates_dir, "templates");
	ok = tpl_check_dir(tdir, &err) == 0;
	free(tdir);
	if (!ok) {
		fprintf(stderr, "palierd: %s\n", err);
		free(err);
		classify_rules_free(rules);
		return -1;
	}
	roles = roles_text(d->roles);
	printf("palierd: %s: configuration is valid (roles %s, %zu filter rules, templates render)\n",
	    d->cfg->path, roles, classify_rules_count(rules));
	classify_rules_free(rules);
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
	struct rules *rules = NULL;

	sd_notify_state("RELOADING=1");
	if ((cfg = config_load(d->conf_path, &err)) == NULL) {
		log_error("reload_refused", "error=%s", log_q(err));
		free(err);
	} else if ((d->roles & (ROLE_INGEST | ROLE_HTTP)) && (rules = rules_load(cfg, &err)) == NULL) {
		/* A bad rule keeps the previous rules and config running. */
		log_error("reload_refused", "error=%s", log_q(err));
		free(err);
		config_free(cfg);
	} else {
		if (d->intake)
			ingest_intake_set_rules(d->intake, rules);
		else
			classify_rules_free(rules);
		if (strcmp(cfg->database_url, d->cfg->database_url) != 0) {
			store_close(d->store);
			d->store = NULL;
		}
		/* The delivery workers keep the config they started with (restart to change it). */
		d->retired = xreallocarray(d->retired, d->nretired + 1, sizeof(*d->retired));
		d->retired[d->nretired++] = d->cfg;
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

static void
start_lmtp(struct daemon *d)
{
	struct lmtp_opts lo;
	char *err = NULL;

	memset(&lo, 0, sizeof(lo));
	lo.listen = d->cfg->lmtp_listen;
	lo.domain = d->cfg->mail_domain;
	lo.authserv_id = d->cfg->mail_authserv_id;
	lo.max_size = (size_t)d->cfg->lmtp_max_size;
	lo.max_header = (size_t)d->cfg->lmtp_max_header;
	lo.max_recipients = (int)d->cfg->lmtp_max_recipients;
	lo.max_sessions = (int)d->cfg->lmtp_max_sessions;
	lo.timeout = (int)d->cfg->lmtp_timeout;
	lo.key = d->key;
	lo.intake = d->intake;
	if ((d->lmtp = ingest_lmtp_start(&lo, &err)) == NULL)
		fatal("lmtp", "error=%s", log_q(err));
}

/* The IMAP intake, when the deployment reads a mailbox ([imap] url). */
static void
start_imap(struct daemon *d)
{
	struct imap_opts io;
	char *err = NULL;

	if (*d->cfg->imap_url == '\0')
		return;
	memset(&io, 0, sizeof(io));
	io.url = d->cfg->imap_url;
	io.done_folder = d->cfg->imap_done_folder;
	io.domain = d->cfg->mail_domain;
	io.authserv_id = d->cfg->mail_authserv_id;
	io.max_size = (size_t)d->cfg->lmtp_max_size;
	io.key = d->key;
	io.intake = d->intake;
	if ((d->imap = ingest_imap_start(&io, &err)) == NULL)
		fatal("imap", "error=%s", log_q(err));
}

/* The templates, loaded once for the roles that render (deliver, http). */
static const struct tpl_set *
load_templates(struct daemon *d)
{
	char *err = NULL, *tdir;

	if (d->templates)
		return d->templates;
	tdir = config_data_dir(d->cfg->templates_dir, "templates");
	if ((d->templates = tpl_set_load(tdir, &err)) == NULL)
		fatal("templates", "error=%s", log_q(err));
	free(tdir);
	return d->templates;
}

static void
start_http(struct daemon *d)
{
	struct http_opts ho;
	char *err = NULL;

	memset(&ho, 0, sizeof(ho));
	ho.listen = d->cfg->http_listen;
	ho.public_url = d->cfg->http_public_url;
	ho.webhook_secret = d->cfg->sms_webhook_secret;
	ho.allow = d->cfg->sms_allow;
	ho.twilio_token = d->cfg->sms_password;
	ho.key = d->key;
	ho.db_url = d->cfg->database_url;
	ho.intake = d->intake;
	ho.templates = load_templates(d);
	if ((d->http = http_start(&ho, &err)) == NULL)
		fatal("http", "error=%s", log_q(err));
}

static struct deliver_backend *
email_backend(const struct config *cfg, char **err)
{
	return deliver_email_new(cfg->smtp_relay, err);
}

static struct deliver_backend *
sms_backend(const struct config *cfg, char **err)
{
	char *dlr;
	struct deliver_backend *b;

	if (strncmp(cfg->sms_gateway, "file:", 5) == 0)
		return deliver_file_new(cfg->sms_gateway + 5, "sms", err);
	dlr = *cfg->sms_webhook_secret ?
	    xasprintf("%s/sms/dlr/%s?secret=%s", cfg->http_public_url, cfg->sms_gateway,
	    cfg->sms_webhook_secret) :
	    xasprintf("%s/sms/dlr/%s", cfg->http_public_url, cfg->sms_gateway);
	b = deliver_gateway_new(cfg->sms_gateway, cfg->sms_url, cfg->sms_user, cfg->sms_password,
	    cfg->sms_sender, dlr, err);
	free(dlr);
	return b;
}

static void
start_deliver(struct daemon *d)
{
	struct sender_opts so;
	char *err = NULL;

	load_templates(d);
	deliver_gateway_rate((double)d->cfg->sms_rate);
	memset(&so, 0, sizeof(so));
	so.url = d->cfg->database_url;
	so.cfg = d->cfg;
	so.key = d->key;
	so.templates = d->templates;
	so.kind = "email";
	so.workers = (int)d->cfg->smtp_sessions;
	so.backend_new = email_backend;
	if ((d->email = sender_start(&so, &err)) == NULL)
		fatal("deliver", "error=%s", log_q(err));
	so.kind = "sms";
	so.workers = 8;
	so.backend_new = sms_backend;
	if ((d->sms = sender_start(&so, &err)) == NULL)
		fatal("deliver", "error=%s", log_q(err));
}

/* From the fan-out thread: messages were queued, wake the workers now. */
static void
kick_delivery(void *arg)
{
	struct daemon *d = arg;

	sender_kick(d->email);
	sender_kick(d->sms);
}

static void
roles_start(struct daemon *d)
{
	struct rules *rules;
	char *err = NULL;

	if (d->roles & (ROLE_INGEST | ROLE_HTTP)) {
		if ((rules = rules_load(d->cfg, &err)) == NULL)
			fatal("filters", "error=%s", log_q(err));
		log_info("filters_loaded", "rules=%zu", classify_rules_count(rules));
		d->intake = ingest_intake_new(d->cfg->database_url, d->key);
		ingest_intake_set_rules(d->intake, rules);
	}
	if (d->roles & ROLE_INGEST) {
		start_lmtp(d);
		start_imap(d);
	}
	if (d->roles & ROLE_HTTP)
		start_http(d);
	if (d->roles & ROLE_DELIVER)	/* first: the fan-out wakes its workers */
		start_deliver(d);
	if (d->roles & ROLE_FANOUT)
		d->fanout = fanout_start(d->cfg->database_url, d->cfg, kick_delivery, d);
}

/*
 * Drains in flow order: no new sessions or requests, finish the open ones,
 * then the writers; fan-out and delivery finish the batch in hand.
 */
static void
roles_stop(struct daemon *d)
{
	ingest_imap_stop(d->imap);
	ingest_lmtp_stop(d->lmtp);
	http_stop(d->http);
	ingest_intake_free(d->intake);
	fanout_stop(d->fanout);
	sender_stop(d->email);
	sender_stop(d->sms);
	tpl_set_free(d->templates);
	d->imap = NULL;
	d->lmtp = NULL;
	d->http = NULL;
	d->intake = NULL;
	d->fanout = NULL;
	d->email = d->sms = NULL;
	d->templates = NULL;
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
	roles_start(&d);
	sd_notify_state("READY=1");
	serve(&d);
	sd_notify_state("STOPPING=1");
	roles_stop(&d);
	for (size_t i = 0; i < d.nretired; i++)
		config_free(d.retired[i]);
	free(d.retired);
	store_close(d.store);
	config_free(d.cfg);
	explicit_bzero(d.key, sizeof(d.key));
	close(d.sigfd);
	log_info("stopped", NULL);
	return 0;
}
