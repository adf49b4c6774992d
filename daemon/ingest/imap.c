/*
 * imap.c — reads one mailbox over IMAP (libetpan) into the intake: one
 * connection, IDLE when offered (else a search every 30 s); each message is
 * fetched with BODY.PEEK[], committed, and only then flagged or moved. Never
 * logs a body or the password, nor sends it before a TLS chain is verified.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingest/imap.h"

#define NET_TIMEOUT	60		/* seconds for one read or write */
#define LOGOUT_TIMEOUT	2
#define CONNECT_MS	15000
#define POLL_MS		30000		/* between searches without IDLE */
#define IDLE_MS		(10 * 60 * 1000)	/* IDLE renewed well within RFC 2177's 29 minutes */
#define STOP_GRACE_S	2
#define BACKOFF_MAX_S	60

enum outcome { OUT_DONE, OUT_IGNORED, OUT_REFUSED, OUT_DEFER };

static const char *const keyword_of[] = { IMAP_KW_DONE, IMAP_KW_IGNORED, IMAP_KW_REFUSED };

struct imap_intake {
	struct imap_url	 url;
	char		*done_folder;	/* NULL: none */
	char		*domain, *authserv_id;
	size_t		 max_size;
	const unsigned char *key;
	struct intake	*intake;
	int		 stop_pipe[2];	/* a byte in [0]: stop */
	atomic_int	 stopping;
	pthread_t	 thread;
	pthread_mutex_t	 mu;		/* guards fd and finished */
	pthread_cond_t	 ended;
	int		 fd;		/* the open connection, for a forced stop; -1 */
	int		 finished;

	/* The session: the thread's alone. */
	mailimap	*s;
	int		 keywords, idle, move, uidplus, move_warned;
	uint32_t	 uidvalidity, last_uid;
	int		 failures;	/* in a row, for the backoff */
	int		 serving;	/* the session got as far as reading */
};

static int
stopping(struct imap_intake *im)
{
	return atomic_load(&im->stopping);
}

/* Sleeps ms, or less when asked to stop: -1 then. */
static int
nap(struct imap_intake *im, int ms)
{
	struct pollfd pfd = { im->stop_pipe[0], POLLIN, 0 };

	if (!stopping(im))
		(void)poll(&pfd, 1, ms);
	return stopping(im) ? -1 : 0;
}

static int
backoff_s(int failures)
{
	return failures > 6 ? BACKOFF_MAX_S : 1 << (failures > 0 ? failures - 1 : 0);
}

static int
is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* ---- the URL ---- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* [p, p+n) percent-decoded, newly allocated; NULL on a bad escape or a NUL. */
static char *
pct_decode(const char *p, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (p[i] != '%') {
			*o++ = p[i];
			continue;
		}
		if (i + 2 >= n || (hi = hexval(p[i + 1])) < 0 ||
		    (lo = hexval(p[i + 2])) < 0 || (hi | lo) == 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

static int
url_fail(struct imap_url *u, char **err, const char *why)
{
	ingest_imap_url_clear(u);
	*err = xasprintf("imap url: %s", why);
	return -1;
}

/* "host", "host:port", "[v6]" or "[v6]:port" in [p, end). */
static int
url_host(struct imap_url *u, const char *p, const char *end, char **err)
{
	const char *hend = end, *port = NULL;

	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL || (rb + 1 < end && rb[1] != ':'))
			return url_fail(u, err, "bad [address]");
		port = rb + 1 < end ? rb + 2 : NULL;
		p++;
		hend = rb;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (colon) {
			hend = colon;
			port = colon + 1;
		}
	}
	if (hend == p)
		return url_fail(u, err, "no host");
	u->host = xstrndup(p, (size_t)(hend - p));
	if (port) {
		char *e;
		unsigned long v = strtoul(port, &e, 10);

		if (port == end || *port < '0' || *port > '9' || e != end || v == 0 || v > 65535)
			return url_fail(u, err, "bad port");
		u->port = (unsigned short)v;
	}
	return 0;
}

/* "user:pass" in [p, end). */
static int
url_userinfo(struct imap_url *u, const char *p, const char *end, char **err)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));

	if (colon == NULL || colon == p)
		return url_fail(u, err, "needs user:password@ before the host");
	u->user = pct_decode(p, (size_t)(colon - p));
	u->pass = pct_decode(colon + 1, (size_t)(end - colon - 1));
	if (u->user == NULL || u->pass == NULL)
		return url_fail(u, err, "bad %-escape in user or password");
	return 0;
}

int
ingest_imap_url_parse(const char *url, struct imap_url *u, char **err)
{
	const char *p, *at, *slash;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "imaps://", 8) == 0) {
		u->tls = 1;
		p = url + 8;
	} else if (strncmp(url, "imap://", 7) == 0) {
		p = url + 7;
	} else {
		return url_fail(u, err, "is not an imap:// or imaps:// URL");
	}
	u->port = u->tls ? 993 : 143;
	if ((at = strrchr(p, '@')) == NULL)
		return url_fail(u, err, "needs user:password@ before the host");
	slash = strchr(at, '/');
	if (url_userinfo(u, p, at, err) < 0 ||
	    url_host(u, at + 1, slash ? slash : at + strlen(at), err) < 0)
		return -1;
	u->mailbox = slash && slash[1] ? pct_decode(slash + 1, strlen(slash + 1)) : xstrdup("INBOX");
	if (u->mailbox == NULL)
		return url_fail(u, err, "bad %-escape in the mailbox");
	return 0;
}

void
ingest_imap_url_clear(struct imap_url *u)
{
	if (u->pass)
		explicit_bzero(u->pass, strlen(u->pass));
	free(u->user);
	free(u->pass);
	free(u->host);
	free(u->mailbox);
	memset(u, 0, sizeof(*u));
}

/* ---- the connection ---- */

static void
fd_register(struct imap_intake *im, int fd)
{
	pthread_mutex_lock(&im->mu);
	im->fd = fd;
	pthread_mutex_unlock(&im->mu);
}

/* A libetpan error that means the connection is gone (not a NO from the server). */
static int
broken(int r)
{
	return r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_FATAL || r == MAILIMAP_ERROR_PARSE ||
	    r == MAILIMAP_ERROR_PROTOCOL || r == MAILIMAP_ERROR_BAD_STATE || r == MAILIMAP_ERROR_MEMORY;
}

static const char *
errname(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM:	return "connection_lost";
	case MAILIMAP_ERROR_FATAL:	return "server_said_bye";
	case MAILIMAP_ERROR_PARSE:	return "unreadable_answer";
	case MAILIMAP_ERROR_PROTOCOL:	return "protocol_error";
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION: return "connection_refused";
	case MAILIMAP_ERROR_LOGIN:	return "login_refused";
	case MAILIMAP_ERROR_SELECT:	return "select_refused";
	default:			return "command_refused";
	}
}

/*
 * Logs a failed step, quietly when stopping; -1. Losing a connection that
 * worked is news (info); failing again, or failing to set one up, is a warning.
 */
static int
imap_fail(struct imap_intake *im, const char *stage, int r)
{
	const char *said = im->s && im->s->imap_response ? im->s->imap_response : "";

	if (!stopping(im))
		log_event(im->serving && im->failures == 0 ? L_INFO : L_WARN, "imap_failed",
		    "host=%s stage=%s error=%s code=%d server=%s", log_q(im->url.host), stage,
		    errname(r), r, log_q(said));
	return -1;
}

/* One address of host: a connected blocking socket, or -1 with errno. */
static int
tcp_try(struct imap_intake *im, const struct addrinfo *ai)
{
	struct pollfd pfd[2];
	socklen_t len = sizeof(int);
	int fd, soerr = 0, rc, saved;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto ok;
	if (errno != EINPROGRESS)
		goto fail;
	pfd[0] = (struct pollfd){ fd, POLLOUT, 0 };
	pfd[1] = (struct pollfd){ im->stop_pipe[0], POLLIN, 0 };
	if ((rc = poll(pfd, 2, CONNECT_MS)) <= 0 || pfd[0].revents == 0) {
		errno = rc == 0 ? ETIMEDOUT : rc < 0 ? errno : ECANCELED;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
		errno = soerr ? soerr : errno;
		goto fail;
	}
ok:
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0)
		return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* A TCP connection that a stop request interrupts; -1 after logging. */
static int
tcp_connect(struct imap_intake *im)
{
	struct addrinfo hints, *res, *ai;
	char port[8];
	int fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", im->url.port);
	if ((rc = getaddrinfo(im->url.host, port, &hints, &res)) != 0) {
		log_warn("imap_connect_failed", "host=%s error=%s", log_q(im->url.host),
		    log_q(gai_strerror(rc)));
		return -1;
	}
	errno = 0;
	for (ai = res; ai && fd < 0 && !stopping(im); ai = ai->ai_next)
		fd = tcp_try(im, ai);
	freeaddrinfo(res);
	if (fd >= FD_SETSIZE) {
		/* libetpan waits with select(): a higher descriptor would overflow its fd_set. */
		log_error("imap_connect_failed", "host=%s error=\"descriptor %d above FD_SETSIZE\"",
		    log_q(im->url.host), fd);
		close(fd);
		return -1;
	}
	if (fd < 0 && !stopping(im))
		log_warn("imap_connect_failed", "host=%s port=%u error=%s", log_q(im->url.host),
		    im->url.port, log_q(strerror(errno)));
	return fd;
}

static void
tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
	const struct imap_intake *im = data;

	if (!is_ip(im->url.host))
		mailstream_ssl_set_server_name(ctx, im->url.host);	/* SNI */
}

/* The server's chain from the handshake, parsed: the leaf and the rest. */
static X509 *
tls_chain(mailstream *st, STACK_OF(X509) *rest)
{
	carray *chain = mailstream_get_certificate_chain(st);
	X509 *leaf = NULL;

	for (unsigned i = 0; chain && i < carray_count(chain); i++) {
		MMAPString *der = carray_get(chain, i);
		const unsigned char *p = (const unsigned char *)der->str;
		X509 *x = d2i_X509(NULL, &p, (long)der->len);

		if (x == NULL)
			break;
		if (leaf == NULL)
			leaf = x;
		else
			sk_X509_push(rest, x);
	}
	if (chain)
		mailstream_certificate_chain_free(chain);
	return leaf;
}

/*
 * libetpan checks no certificate: the chain is verified here, before the
 * password is sent, against the system's CAs (or SSL_CERT_FILE/_DIR) and
 * for host. 0, or -1 with *why.
 */
static int
tls_verify(mailstream *st, const char *host, const char **why)
{
	STACK_OF(X509) *rest = sk_X509_new_null();
	X509 *leaf = tls_chain(st, rest);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = 0;

	*why = "no readable certificate";
	if (leaf && store && ctx && X509_STORE_set_default_paths(store) == 1 &&
	    X509_STORE_CTX_init(ctx, store, leaf, rest) == 1) {
		X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);

		if (is_ip(host))
			X509_VERIFY_PARAM_set1_ip_asc(vp, host);
		else
			X509_VERIFY_PARAM_set1_host(vp, host, 0);
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
		if (!(ok = X509_verify_cert(ctx) == 1))
			*why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(leaf);
	sk_X509_pop_free(rest, X509_free);
	return ok ? 0 : -1;
}

/* A stream over fd (taken), TLS checked; NULL after logging. */
static mailstream *
stream_open(struct imap_intake *im, int fd)
{
	mailstream *st;
	const char *why;

	if (!im->url.tls) {
		if ((st = mailstream_socket_open_timeout(fd, NET_TIMEOUT)) == NULL)
			close(fd);
		return st;
	}
	if ((st = mailstream_ssl_open_with_callback_timeout(fd, NET_TIMEOUT, tls_setup, im)) == NULL) {
		close(fd);
		if (!stopping(im))
			log_warn("imap_tls_failed", "host=%s error=\"TLS handshake failed\"",
			    log_q(im->url.host));
		return NULL;
	}
	if (tls_verify(st, im->url.host, &why) < 0) {
		log_warn("imap_tls_untrusted", "host=%s error=%s", log_q(im->url.host), log_q(why));
		mailstream_close(st);
		return NULL;
	}
	return st;
}

/* Connects, reads the greeting, logs in; 0, or -1 after logging. */
static int
session_open(struct imap_intake *im)
{
	mailstream *st;
	int fd, r;

	if ((im->s = mailimap_new(0, NULL)) == NULL || (fd = tcp_connect(im)) < 0)
		return -1;
	fd_register(im, fd);
	if ((st = stream_open(im, fd)) == NULL) {
		fd_register(im, -1);
		return -1;
	}
	r = mailimap_connect(im->s, st);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED)
		return imap_fail(im, "greeting", r);
	if (r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    (r = mailimap_login(im->s, im->url.user, im->url.pass)) != MAILIMAP_NO_ERROR)
		return imap_fail(im, "login", r);
	return 0;
}

/* Logs out when polite (briefly), else just drops the connection; frees the session. */
static void
session_close(struct imap_intake *im, int polite)
{
	if (im->s == NULL)
		return;
	/* Unregistered first: once closed, the descriptor's number may be another's. */
	fd_register(im, -1);
	if (im->s->imap_stream && polite) {
		mailstream_low_set_timeout(mailstream_get_low(im->s->imap_stream), LOGOUT_TIMEOUT);
		mailimap_logout(im->s);
	} else if (im->s->imap_stream) {
		mailstream_close(im->s->imap_stream);
		im->s->imap_stream = NULL;
	}
	mailimap_free(im->s);
	im->s = NULL;
}

/* Whether keywords stick: \* in PERMANENTFLAGS (or no PERMANENTFLAGS: RFC 3501 says all do). */
static int
keywords_kept(const struct mailimap_selection_info *sel)
{
	if (sel->sel_perm_flags == NULL)
		return 1;
	for (clistiter *c = clist_begin(sel->sel_perm_flags); c; c = clist_next(c)) {
		const struct mailimap_flag_perm *fp = clist_content(c);

		if (fp->fl_type == MAILIMAP_FLAG_PERM_ALL)
			return 1;
	}
	return 0;
}

/* Capabilities, the done folder, SELECT; 0, or -1 after logging. */
static int
session_select(struct imap_intake *im)
{
	struct mailimap_capability_data *cap = NULL;
	const struct mailimap_selection_info *sel;
	int r;

	if ((r = mailimap_capability(im->s, &cap)) != MAILIMAP_NO_ERROR)
		return imap_fail(im, "capability", r);
	mailimap_capability_data_free(cap);
	/* Made if missing; "already exists" is the usual answer. */
	if (im->done_folder && mailimap_create(im->s, im->done_folder) == MAILIMAP_NO_ERROR)
		log_info("imap_folder_created", "folder=%s", log_q(im->done_folder));
	if ((r = mailimap_select(im->s, im->url.mailbox)) != MAILIMAP_NO_ERROR)
		return imap_fail(im, "select", r);
	sel = im->s->imap_selection_info;
	im->keywords = keywords_kept(sel);
	im->idle = mailimap_has_idle(im->s);
	im->move = mailimap_has_extension(im->s, "MOVE");
	im->uidplus = mailimap_has_uidplus(im->s);
	im->last_uid = 0;	/* each connection looks at everything not marked yet */
	log_info("imap_connected", "host=%s user=%s mailbox=%s uidvalidity=%u idle=%s keywords=%s",
	    log_q(im->url.host), log_q(im->url.user), log_q(im->url.mailbox), sel->sel_uidvalidity,
	    im->idle ? "yes" : "no", im->keywords ? "yes" : "no");
	return 0;
}

/* ---- reading a message ---- */

/* Whether spec is one of our addresses: 1 (r, *rcpt set), 0, or -1 when the database can't say. */
static int
try_address(struct imap_intake *im, const char *spec, char **rcpt, struct route *r)
{
	int known = 1;

	if (ingest_address_route(spec, im->domain, im->key, r) < 0)
		return 0;
	if (r->kind == ROUTE_CHANNEL && (known = ingest_intake_channel_known(im->intake, r->slug)) <= 0)
		return known;
	*rcpt = xstrdup(spec);
	return 1;
}

/* One parsed mailbox; a mangled one (what a lenient parse makes of a broken value) sets *odd. */
static int
try_mailbox(struct imap_intake *im, const struct mailimf_mailbox *mb, char **rcpt, struct route *r,
    int *odd)
{
	if (strpbrk(mb->mb_addr_spec, "<>\" \t") != NULL) {
		*odd = 1;
		return 0;
	}
	return try_address(im, mb->mb_addr_spec, rcpt, r);
}

/* A value that is not a valid address list (raw 8-bit names, stray quotes): every a@b in it. */
static int
try_loose(struct imap_intake *im, const char *value, char **rcpt, struct route *r)
{
	static const char stop[] = " \t\r\n<>,;:\"()[]";
	int found = 0;

	for (const char *p = value + strspn(value, stop); *p && found == 0; p += strspn(p, stop)) {
		size_t n = strcspn(p, stop);
		char *word = xstrndup(p, n);

		if (strchr(word, '@'))
			found = try_address(im, word, rcpt, r);
		free(word);
		p += n;
	}
	return found;
}

/* The first address of ours in one header value (an address list). */
static int
try_value(struct imap_intake *im, const char *value, char **rcpt, struct route *r)
{
	struct mailimf_address_list *al = NULL;
	size_t idx = 0;
	int found = 0, odd = 0;

	if (mailimf_address_list_parse(value, strlen(value), &idx, &al) != MAILIMF_NO_ERROR)
		return try_loose(im, value, rcpt, r);
	for (clistiter *c = clist_begin(al->ad_list); c && found == 0; c = clist_next(c)) {
		const struct mailimf_address *a = clist_content(c);
		const struct mailimf_mailbox_list *ml = a->ad_type == MAILIMF_ADDRESS_GROUP ?
		    a->ad_data.ad_group->grp_mb_list : NULL;

		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX)
			found = try_mailbox(im, a->ad_data.ad_mailbox, rcpt, r, &odd);
		for (clistiter *g = ml ? clist_begin(ml->mb_list) : NULL; g && found == 0; g = clist_next(g))
			found = try_mailbox(im, clist_content(g), rcpt, r, &odd);
	}
	mailimf_address_list_free(al);
	return found == 0 && odd ? try_loose(im, value, rcpt, r) : found;
}

/*
 * Who the message was for: the first address of ours in Delivered-To,
 * then X-Original-To, To, Cc. 1, 0 (none), or -1 (ask again later).
 */
static int
find_recipient(struct imap_intake *im, const struct mailimf_fields *f, char **rcpt, struct route *r)
{
	static const char *const names[] = { "Delivered-To", "X-Original-To", "To", "Cc" };
	int found = 0;

	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]) && found == 0; n++)
		for (clistiter *c = clist_begin(f->fld_list); c && found == 0; c = clist_next(c)) {
			const struct mailimf_field *fld = clist_content(c);
			const struct mailimf_optional_field *of = fld->fld_data.fld_optional_field;

			if (fld->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD && strcasecmp(of->fld_name, names[n]) == 0)
				found = try_value(im, of->fld_value, rcpt, r);
		}
	return found;
}

/* The envelope sender from Return-Path ("" for <>), or NULL. Newly allocated. */
static char *
return_path(const struct mailimf_fields *f)
{
	for (clistiter *c = clist_begin(f->fld_list); c; c = clist_next(c)) {
		const struct mailimf_field *fld = clist_content(c);
		const char *v, *lt, *gt;

		if (fld->fld_type != MAILIMF_FIELD_OPTIONAL_FIELD ||
		    strcasecmp(fld->fld_data.fld_optional_field->fld_name, "Return-Path") != 0)
			continue;
		v = fld->fld_data.fld_optional_field->fld_value;
		if ((lt = strchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL)
			return xstrndup(lt + 1, (size_t)(gt - lt - 1));
		v += strspn(v, " \t");
		return xstrndup(v, strcspn(v, " \t\r\n"));
	}
	return NULL;
}

/* Who it is for and who sent it, from the header: 1, 0 (nobody of ours), -1 (ask again later). */
static int
read_header(struct imap_intake *im, const char *raw, size_t len, char **rcpt, struct route *r,
    char **from)
{
	struct mailimf_fields *f = NULL;
	size_t idx = 0;
	int found;

	*rcpt = *from = NULL;
	if (len > 5 && memcmp(raw, "From ", 5) == 0) {	/* an mbox separator line */
		const char *nl = memchr(raw, '\n', len);

		idx = nl ? (size_t)(nl - raw) + 1 : len;
	}
	if (mailimf_optional_fields_parse(raw, len, &idx, &f) != MAILIMF_NO_ERROR)
		return 0;
	found = find_recipient(im, f, rcpt, r);
	*from = return_path(f);
	mailimf_fields_free(f);
	return found;
}

/* Hands one message to the intake; what to do with it on the server. */
static enum outcome
deliver_one(struct imap_intake *im, uint32_t uid, const char *raw, size_t len)
{
	struct mail_env env = { im->intake, im->domain, im->authserv_id, "imap" };
	struct route route;
	char *rcpt, *from, *reply = NULL;
	enum outcome out;
	int found = read_header(im, raw, len, &rcpt, &route, &from);

	if (found <= 0) {
		log_info(found < 0 ? "imap_deferred" : "imap_ignored", "uid=%u reason=%s", uid,
		    found < 0 ? "cannot_check_address" : "no_address_of_ours");
		out = found < 0 ? OUT_DEFER : OUT_IGNORED;
	} else {
		ingest_mail_deliver(&env, raw, len, from, (const char *const *)&rcpt, &route, 1, &reply);
		out = reply[0] == '2' ? OUT_DONE : reply[0] == '4' ? OUT_DEFER : OUT_REFUSED;
		log_info(out == OUT_DONE ? "imap_delivered" : out == OUT_DEFER ? "imap_deferred" :
		    "imap_refused", "uid=%u reply=%s", uid, log_q(reply));
	}
	free(reply);
	free(rcpt);
	free(from);
	return out;
}

/* ---- talking to the mailbox ---- */

/* UID FETCH uid (UID att); *res for the caller to free. 0, or -1 after logging. */
static int
fetch(struct imap_intake *im, uint32_t uid, struct mailimap_fetch_att *att, clist **res)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, att);
	*res = NULL;
	r = mailimap_uid_fetch(im->s, set, ft, res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : imap_fail(im, "fetch", r);
}

/* The attribute of that type in the answer for uid; NULL if the message went away. */
static const struct mailimap_msg_att_static *
att_find(clist *res, uint32_t uid, int type)
{
	for (clistiter *m = res ? clist_begin(res) : NULL; m; m = clist_next(m)) {
		const struct mailimap_msg_att *ma = clist_content(m);
		const struct mailimap_msg_att_static *hit = NULL;
		uint32_t got = 0;

		for (clistiter *i = clist_begin(ma->att_list); i; i = clist_next(i)) {
			const struct mailimap_msg_att_item *it = clist_content(i);
			const struct mailimap_msg_att_static *st = it->att_data.att_static;

			if (it->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || st == NULL)
				continue;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				got = st->att_data.att_uid;
			else if (st->att_type == type)
				hit = st;
		}
		if (got == uid && hit)	/* unsolicited FETCHes for other messages are skipped */
			return hit;
	}
	return NULL;
}

/* UID STORE uid +FLAGS.SILENT (fl, taken); 0, or -1 after logging. */
static int
store_flags(struct imap_intake *im, uint32_t uid, struct mailimap_flag_list *fl)
{
	struct mailimap_store_att_flags *sf = mailimap_store_att_flags_new_add_flags_silent(fl);
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r = mailimap_uid_store(im->s, set, sf);

	mailimap_store_att_flags_free(sf);
	mailimap_set_free(set);
	return r == MAILIMAP_NO_ERROR ? 0 : imap_fail(im, "store", r);
}

/* After a COPY: \Deleted, and UID EXPUNGE of that one message when UIDPLUS allows it. */
static int
drop_copied(struct imap_intake *im, uint32_t uid, struct mailimap_set *set)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();

	mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	if (store_flags(im, uid, fl) < 0)
		return -1;
	return im->uidplus ? mailimap_uid_expunge(im->s, set) : MAILIMAP_NO_ERROR;
}

/* Into the done folder: MOVE, else COPY and drop. Only a broken connection fails (-1). */
static int
move_done(struct imap_intake *im, uint32_t uid)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r = im->move ? mailimap_uid_move(im->s, set, im->done_folder) :
	    mailimap_uid_copy(im->s, set, im->done_folder);

	if (r == MAILIMAP_NO_ERROR && !im->move)
		r = drop_copied(im, uid, set);
	mailimap_set_free(set);
	if (r == MAILIMAP_NO_ERROR)
		return 0;
	if (r < 0 || broken(r))
		return r < 0 ? -1 : imap_fail(im, "move", r);
	if (!im->move_warned++)	/* the message is marked done already: only the tidying failed */
		log_warn("imap_move_failed", "folder=%s server=%s", log_q(im->done_folder),
		    log_q(im->s->imap_response ? im->s->imap_response : ""));
	return 0;
}

/* Marks a message after its outcome is final (see imap.h); 0, or -1 after logging. */
static int
mark(struct imap_intake *im, uint32_t uid, enum outcome out)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();

	if (out == OUT_DONE || !im->keywords)
		mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (out != OUT_DONE)
		mailimap_flag_list_add(fl, mailimap_flag_new_flagged());
	if (im->keywords)
		mailimap_flag_list_add(fl, mailimap_flag_new_flag_keyword(xstrdup(keyword_of[out])));
	if (store_flags(im, uid, fl) < 0)
		return -1;
	return out == OUT_DONE && im->done_folder ? move_done(im, uid) : 0;
}

/* Fetches uid and delivers it, *out set: 1, or 0 when it went away, -1 on trouble. */
static int
read_one(struct imap_intake *im, uint32_t uid, enum outcome *out)
{
	const struct mailimap_msg_att_static *a;
	const struct mailimap_msg_att_body_section *b;
	clist *res;
	uint32_t size;

	if (fetch(im, uid, mailimap_fetch_att_new_rfc822_size(), &res) < 0)
		return -1;
	a = att_find(res, uid, MAILIMAP_MSG_ATT_RFC822_SIZE);
	size = a ? a->att_data.att_rfc822_size : 0;
	if (res)
		mailimap_fetch_list_free(res);
	if (a == NULL)
		return 0;
	if (size > im->max_size) {
		log_info("imap_refused", "uid=%u reason=too_big size=%u", uid, size);
		*out = OUT_REFUSED;
		return 1;
	}
	if (fetch(im, uid, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)), &res) < 0)
		return -1;
	if ((a = att_find(res, uid, MAILIMAP_MSG_ATT_BODY_SECTION)) == NULL) {
		if (res)
			mailimap_fetch_list_free(res);
		return 0;
	}
	b = a->att_data.att_body_section;
	if (b == NULL || b->sec_body_part == NULL) {
		log_info("imap_refused", "uid=%u reason=no_content", uid);
		*out = OUT_REFUSED;
	} else {
		*out = deliver_one(im, uid, b->sec_body_part, b->sec_length);
	}
	mailimap_fetch_list_free(res);
	return 1;
}

/* One message: 1 handled (or gone), 0 deferred, -1 connection trouble. */
static int
handle(struct imap_intake *im, uint32_t uid)
{
	enum outcome out;
	int rc = read_one(im, uid, &out);

	if (rc <= 0)
		return rc < 0 ? -1 : 1;
	if (out == OUT_DEFER)
		return 0;
	return mark(im, uid, out) < 0 ? -1 : 1;
}

/* ---- the loop ---- */

static struct mailimap_search_key *
key_simple(int type)
{
	return mailimap_search_key_new(type, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);
}

/* UID last+1:*, not deleted, not marked by us yet. */
static struct mailimap_search_key *
search_key(const struct imap_intake *im)
{
	struct mailimap_search_key *k = mailimap_search_key_new_multiple_empty();

	mailimap_search_key_multiple_add(k,
	    mailimap_search_key_new_uid(mailimap_set_new_interval(im->last_uid + 1, 0)));
	mailimap_search_key_multiple_add(k, key_simple(MAILIMAP_SEARCH_KEY_UNDELETED));
	if (!im->keywords) {
		mailimap_search_key_multiple_add(k, key_simple(MAILIMAP_SEARCH_KEY_UNSEEN));
		return k;
	}
	for (size_t i = 0; i < sizeof(keyword_of) / sizeof(keyword_of[0]); i++)
		mailimap_search_key_multiple_add(k, mailimap_search_key_new_unkeyword(xstrdup(keyword_of[i])));
	return k;
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The UIDs to read, in order; n set. NULL with n = 0 when none, or -1 returned after logging. */
static int
search(struct imap_intake *im, uint32_t **uids, size_t *n)
{
	struct mailimap_search_key *k = search_key(im);
	clist *res = NULL;
	int r = mailimap_uid_search(im->s, NULL, k, &res);

	mailimap_search_key_free(k);
	*uids = NULL;
	*n = 0;
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(im, "search", r);
	if (res == NULL)
		return 0;
	*uids = xcalloc((size_t)clist_count(res) + 1, sizeof(**uids));
	for (clistiter *c = clist_begin(res); c; c = clist_next(c)) {
		uint32_t uid = *(const uint32_t *)clist_content(c);

		if (uid > im->last_uid)	/* "n:*" always matches the last message, even below n */
			(*uids)[(*n)++] = uid;
	}
	mailimap_search_result_free(res);
	qsort(*uids, *n, sizeof(**uids), uid_cmp);
	return 0;
}

/* Reads everything not yet handled: 1 done, 0 deferred (try later), -1 connection trouble. */
static int
scan(struct imap_intake *im)
{
	const struct mailimap_selection_info *sel = im->s->imap_selection_info;
	uint32_t *uids, validity = sel ? sel->sel_uidvalidity : im->uidvalidity;
	size_t n;
	int rc = 1;

	if (validity != im->uidvalidity) {
		if (im->uidvalidity != 0)
			log_info("imap_uidvalidity_changed", "old=%u new=%u", im->uidvalidity, validity);
		im->uidvalidity = validity;
		im->last_uid = 0;
	}
	if (search(im, &uids, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 1 && !stopping(im); i++)
		if ((rc = handle(im, uids[i])) == 1)
			im->last_uid = uids[i];
	free(uids);
	return rc;
}

/* Until something may have changed: 1; 0 when stopping; -1 on a broken connection. */
static int
wait_news(struct imap_intake *im)
{
	struct pollfd pfd[2];
	int r;

	if (!im->idle)
		return nap(im, POLL_MS) < 0 ? 0 : 1;
	if ((r = mailimap_idle(im->s)) != MAILIMAP_NO_ERROR)
		return imap_fail(im, "idle", r);
	pfd[0] = (struct pollfd){ mailimap_idle_get_fd(im->s), POLLIN, 0 };
	pfd[1] = (struct pollfd){ im->stop_pipe[0], POLLIN, 0 };
	/* What the server said along with "+ idling" may be read already. */
	if (im->s->imap_stream->read_buffer_len == 0)
		(void)poll(pfd, 2, IDLE_MS);
	if ((r = mailimap_idle_done(im->s)) != MAILIMAP_NO_ERROR)
		return imap_fail(im, "idle", r);
	return stopping(im) ? 0 : 1;
}

/* Reads and waits until stopping (0) or the connection breaks (-1). */
static int
serve(struct imap_intake *im)
{
	int deferred = 0, rc;

	im->serving = 1;
	for (;;) {
		if ((rc = scan(im)) < 0)
			return -1;
		im->failures = 0;
		if (rc == 0) {
			/* The database is down: the messages stay as they are, tried again. */
			if (nap(im, backoff_s(++deferred) * 1000) < 0)
				return 0;
			continue;
		}
		deferred = 0;
		if (stopping(im) || (rc = wait_news(im)) <= 0)
			return stopping(im) ? 0 : rc;
	}
}

static void *
imap_main(void *arg)
{
	struct imap_intake *im = arg;

	while (!stopping(im)) {
		int rc = session_open(im) == 0 && session_select(im) == 0 ? serve(im) : -1;

		session_close(im, rc == 0);
		im->serving = 0;
		if (rc < 0 && !stopping(im))
			nap(im, backoff_s(++im->failures) * 1000);
	}
	pthread_mutex_lock(&im->mu);
	im->finished = 1;
	pthread_cond_broadcast(&im->ended);
	pthread_mutex_unlock(&im->mu);
	return NULL;
}

/* ---- start and stop ---- */

static void
imap_free(struct imap_intake *im)
{
	ingest_imap_url_clear(&im->url);
	free(im->done_folder);
	free(im->domain);
	free(im->authserv_id);
	if (im->stop_pipe[0] >= 0)
		close(im->stop_pipe[0]);
	if (im->stop_pipe[1] >= 0)
		close(im->stop_pipe[1]);
	pthread_mutex_destroy(&im->mu);
	pthread_cond_destroy(&im->ended);
	free(im);
}

static int
loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

struct imap_intake *
ingest_imap_start(const struct imap_opts *o, char **err)
{
	struct imap_intake *im = xcalloc(1, sizeof(*im));

	im->stop_pipe[0] = im->stop_pipe[1] = im->fd = -1;
	pthread_mutex_init(&im->mu, NULL);
	pthread_cond_init(&im->ended, NULL);
	im->done_folder = o->done_folder && *o->done_folder ? xstrdup(o->done_folder) : NULL;
	im->domain = xstrdup(o->domain);
	im->authserv_id = xstrdup(o->authserv_id ? o->authserv_id : "");
	im->max_size = o->max_size ? o->max_size : SIZE_MAX;
	im->key = o->key;
	im->intake = o->intake;
	if (ingest_imap_url_parse(o->url, &im->url, err) < 0) {
		imap_free(im);
		return NULL;
	}
	if (pipe2(im->stop_pipe, O_CLOEXEC) < 0 || pthread_create(&im->thread, NULL, imap_main, im) != 0) {
		*err = xasprintf("imap: %s", strerror(errno));
		imap_free(im);
		return NULL;
	}
	if (!im->url.tls && !loopback(im->url.host))
		log_warn("imap_plaintext", "host=%s note=\"the password crosses the network in clear: use imaps://\"",
		    log_q(im->url.host));
	return im;
}

void
ingest_imap_stop(struct imap_intake *im)
{
	struct timespec until;

	if (im == NULL)
		return;
	atomic_store(&im->stopping, 1);
	(void)!write(im->stop_pipe[1], "", 1);
	until = ts_from_now(CLOCK_REALTIME, STOP_GRACE_S * 1000L);
	pthread_mutex_lock(&im->mu);
	while (!im->finished)
		if (pthread_cond_timedwait(&im->ended, &im->mu, &until) == ETIMEDOUT)
			break;
	/* Still busy after the grace: whatever it waits for on the network ends now. */
	if (!im->finished && im->fd >= 0)
		shutdown(im->fd, SHUT_RDWR);
	pthread_mutex_unlock(&im->mu);
	pthread_join(im->thread, NULL);
	log_info("imap_stopped", "host=%s", log_q(im->url.host));
	imap_free(im);
}
