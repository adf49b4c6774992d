/*
 * lmtp.c — LMTP (RFC 2033): LHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, with
 * PIPELINING, 8BITMIME, SIZE and ENHANCEDSTATUSCODES. One thread per
 * session. Answers 250 for a recipient only after the intake committed;
 * a bare CR or LF in DATA is refused (SMTP smuggling), and only CRLF . CRLF
 * after a CRLF-ended line ends a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/net.h"
#include "ingest/lmtp.h"

#define MAX_LISTEN	4
#define IN_SIZE		65536
#define CMD_MAX		1000	/* RFC 5321: 512 for commands; be generous */
#define WRITE_TIMEOUT	60000
#define IDLE_S		10	/* a session thread waits this long for another connection */

struct lmtp_server {
	struct lmtp_opts opts;
	char		*listen, *domain, *authserv_id;
	int		 fds[MAX_LISTEN];
	size_t		 nfds;
	int		 stop_pipe[2];	/* closing [1] wakes everyone */
	pthread_t	 acceptor;
	pthread_mutex_t	 mu;
	pthread_cond_t	 gone;		/* a session ended, or a thread */
	int		 sessions;
	/*
	 * Session threads outlive their session: for IDLE_S they wait for the
	 * next connection (a thread made per connection cost the intake some
	 * 15 % of its CPU). handoff holds connections given to waiting threads.
	 */
	pthread_cond_t	 work;		/* a connection was handed off, or stopping */
	struct session	*handoff;
	int		 idle;		/* threads waiting and not yet given one */
	int		 threads;	/* session threads alive */
	atomic_int	 stopping;
};

struct session {
	struct lmtp_server *srv;
	struct session	*next;		/* in srv->handoff */
	int		 fd;
	char		 peer[64];
	char		 in[IN_SIZE];
	size_t		 inlen, inpos;
	struct buf	 out;
	int		 lhlo;
	char		*from;		/* NULL: no MAIL yet; "" the null sender */
	char		**rcpts;
	struct route	*routes;
	size_t		 nrcpt;
	struct buf	 msg;
};

enum rd { RD_OK, RD_EOF, RD_ERR, RD_STOP };

/* Sends what is queued in out. */
static int
flush(struct session *s)
{
	int rc = 0;

	if (s->out.len)
		rc = net_write_all(s->fd, s->out.data, s->out.len, WRITE_TIMEOUT);
	buf_reset(&s->out);
	return rc;
}

static void
reply(struct session *s, const char *line)
{
	buf_puts(&s->out, line);
	buf_puts(&s->out, "\r\n");
}

/* Reads more input; when idle, a stop request ends the wait. */
static enum rd
read_more(struct session *s, int idle)
{
	struct pollfd pfd[2] = { { s->fd, POLLIN, 0 }, { s->srv->stop_pipe[0], POLLIN, 0 } };
	ssize_t n;
	int rc;

	if (s->inpos > 0) {
		memmove(s->in, s->in + s->inpos, s->inlen - s->inpos);
		s->inlen -= s->inpos;
		s->inpos = 0;
	}
	/* Pipelined replies go out only when there is nothing more to read. */
	if (flush(s) < 0)
		return RD_ERR;
	/* Within a message, what follows has usually arrived already: no poll for it. */
	if (!idle) {
		n = recv(s->fd, s->in + s->inlen, IN_SIZE - s->inlen, MSG_DONTWAIT);
		if (n > 0) {
			s->inlen += (size_t)n;
			return RD_OK;
		}
		if (n == 0)
			return RD_EOF;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return RD_ERR;
	}
	rc = poll(pfd, idle ? 2 : 1, s->srv->opts.timeout * 1000);
	if (rc == 0)
		return RD_ERR;
	if (rc < 0)
		return errno == EINTR ? RD_OK : RD_ERR;
	if (idle && (pfd[1].revents & (POLLIN | POLLHUP)) && !(pfd[0].revents & POLLIN))
		return RD_STOP;
	n = recv(s->fd, s->in + s->inlen, IN_SIZE - s->inlen, 0);
	if (n == 0)
		return RD_EOF;
	if (n < 0)
		return errno == EINTR ? RD_OK : RD_ERR;
	s->inlen += (size_t)n;
	return RD_OK;
}

/*
 * The next line, terminator included, or a full buffer's worth of a longer
 * line (*partial set). Valid until the next call.
 */
static enum rd
next_line(struct session *s, const char **line, size_t *len, int *partial, int idle)
{
	for (;;) {
		char *start = s->in + s->inpos, *nl = memchr(start, '\n', s->inlen - s->inpos);
		enum rd r;

		if (nl || s->inlen == IN_SIZE) {
			*line = start;
			*len = nl ? (size_t)(nl - start) + 1 : s->inlen - s->inpos;
			*partial = nl == NULL;
			s->inpos += *len;
			return RD_OK;
		}
		if ((r = read_more(s, idle && s->inpos == s->inlen)) != RD_OK)
			return r;
	}
}

static void
transaction_reset(struct session *s)
{
	free(s->from);
	s->from = NULL;
	for (size_t i = 0; i < s->nrcpt; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	free(s->routes);
	s->rcpts = NULL;
	s->routes = NULL;
	s->nrcpt = 0;
	buf_reset(&s->msg);
}

/* "FROM:<addr> params" -> addr (newly allocated) and the params; -1 if malformed. */
static int
parse_path(const char *arg, const char *prefix, char **addr, const char **params)
{
	size_t plen = strlen(prefix);
	const char *lt, *gt;

	if (strncasecmp(arg, prefix, plen) != 0)
		return -1;
	lt = arg + plen;
	while (*lt == ' ')
		lt++;
	if (*lt != '<' || (gt = strchr(lt, '>')) == NULL)
		return -1;
	lt++;
	/* An obsolete source route (@a,@b:user@c) is dropped. */
	if (*lt == '@') {
		const char *colon = memchr(lt, ':', (size_t)(gt - lt));

		if (colon == NULL)
			return -1;
		lt = colon + 1;
	}
	for (const char *c = lt; c < gt; c++)
		if ((unsigned char)*c <= ' ' || *c == '<')
			return -1;
	*addr = xstrndup(lt, (size_t)(gt - lt));
	*params = gt + 1;
	while (**params == ' ')
		(*params)++;
	return 0;
}

static void
cmd_lhlo(struct session *s, const char *arg)
{
	char line[128];

	if (*arg == '\0') {
		reply(s, "501 5.5.4 LHLO needs a host name");
		return;
	}
	transaction_reset(s);
	s->lhlo = 1;
	snprintf(line, sizeof(line), "250-%s", s->srv->domain);
	reply(s, line);
	reply(s, "250-PIPELINING");
	reply(s, "250-8BITMIME");
	reply(s, "250-ENHANCEDSTATUSCODES");
	snprintf(line, sizeof(line), "250 SIZE %zu", s->srv->opts.max_size);
	reply(s, line);
}

/* MAIL parameters: SIZE and BODY; -1 after replying. */
static int
mail_params(struct session *s, const char *params)
{
	char *copy = xstrdup(params), *save = NULL;
	int rc = 0;

	for (char *p = strtok_r(copy, " ", &save); p && rc == 0; p = strtok_r(NULL, " ", &save)) {
		if (strncasecmp(p, "SIZE=", 5) == 0) {
			if (strtoull(p + 5, NULL, 10) > s->srv->opts.max_size) {
				reply(s, "552 5.3.4 message size exceeds the limit");
				rc = -1;
			}
		} else if (strcasecmp(p, "BODY=8BITMIME") != 0 && strcasecmp(p, "BODY=7BIT") != 0) {
			reply(s, "555 5.5.4 unsupported MAIL parameter");
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

static void
cmd_mail(struct session *s, const char *arg)
{
	const char *params;
	char *addr;

	if (!s->lhlo) {
		reply(s, "503 5.5.1 LHLO first");
		return;
	}
	if (s->from) {
		reply(s, "503 5.5.1 nested MAIL command");
		return;
	}
	if (parse_path(arg, "FROM:", &addr, &params) < 0) {
		reply(s, "501 5.5.4 syntax: MAIL FROM:<address>");
		return;
	}
	if (mail_params(s, params) < 0) {
		free(addr);
		return;
	}
	s->from = addr;
	reply(s, "250 2.1.0 sender ok");
}

static void
cmd_rcpt(struct session *s, const char *arg)
{
	struct route r;
	const char *params;
	char *addr;
	int known = 1;

	if (s->from == NULL) {
		reply(s, "503 5.5.1 MAIL first");
		return;
	}
	if (parse_path(arg, "TO:", &addr, &params) < 0 || *params) {
		reply(s, "501 5.5.4 syntax: RCPT TO:<address>");
		return;
	}
	if (s->nrcpt >= (size_t)s->srv->opts.max_recipients) {
		reply(s, "452 4.5.3 too many recipients");
		free(addr);
		return;
	}
	if (ingest_address_route(addr, s->srv->domain, s->srv->opts.key, &r) < 0 ||
	    (r.kind == ROUTE_CHANNEL && (known = ingest_intake_channel_known(s->srv->opts.intake,
	    r.slug)) == 0)) {
		reply(s, "550 5.1.1 no such address here");
		free(addr);
		return;
	}
	if (known < 0) {
		reply(s, "451 4.3.0 cannot check the address now, try again later");
		free(addr);
		return;
	}
	s->rcpts = xreallocarray(s->rcpts, s->nrcpt + 1, sizeof(*s->rcpts));
	s->routes = xreallocarray(s->routes, s->nrcpt + 1, sizeof(*s->routes));
	s->rcpts[s->nrcpt] = addr;
	s->routes[s->nrcpt++] = r;
	reply(s, "250 2.1.5 recipient ok");
}

struct data_state {
	int	at_bol;		/* the previous line ended with CRLF */
	int	after_cr;	/* the previous chunk ended with CR */
	int	in_header;
	size_t	header_len;
	int	bare;		/* a CR or LF that isn't part of CRLF */
	int	oversize;
	int	header_big;
};

/* Scans one chunk for a CR or LF outside CRLF. */
static void
data_check_bare(struct data_state *d, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && !(i > 0 ? p[i - 1] == '\r' : d->after_cr))
			d->bare = 1;
		if (p[i] == '\r' && i + 1 < len && p[i + 1] != '\n')
			d->bare = 1;
	}
	d->after_cr = len > 0 && p[len - 1] == '\r';
}

static void
data_take(struct session *s, struct data_state *d, int bol, const char *p, size_t len)
{
	if (d->in_header) {
		if (bol && len == 2 && p[0] == '\r' && p[1] == '\n')
			d->in_header = 0;
		else if ((d->header_len += len) > s->srv->opts.max_header)
			d->header_big = 1;
	}
	if (s->msg.len + len > s->srv->opts.max_size)
		d->oversize = 1;
	else
		buf_append(&s->msg, p, len);
}

/* Reads DATA up to CRLF . CRLF; RD_OK when the end was seen. */
static enum rd
data_read(struct session *s, struct data_state *d)
{
	int line_start = 1;	/* this chunk begins a line (after any LF) */

	memset(d, 0, sizeof(*d));
	d->at_bol = 1;
	d->in_header = 1;
	for (;;) {
		const char *line;
		size_t len;
		int partial, bol = d->at_bol, cr_before = d->after_cr;
		enum rd r = next_line(s, &line, &len, &partial, 0);

		if (r != RD_OK)
			return r;
		/* Only CRLF . CRLF ends a message: after a bare LF, "." is data. */
		if (bol && len == 3 && memcmp(line, ".\r\n", 3) == 0)
			return RD_OK;
		data_check_bare(d, line, len);
		d->at_bol = !partial && (len >= 2 ? line[len - 2] == '\r' : cr_before);
		if (line_start && line[0] == '.') {
			line++;
			len--;
		}
		line_start = !partial;
		data_take(s, d, bol, line, len);
	}
}

static void
reply_each(struct session *s, const char *code)
{
	for (size_t i = 0; i < s->nrcpt; i++) {
		char *line = xasprintf("%s <%s>", code, s->rcpts[i]);

		reply(s, line);
		free(line);
	}
}

static void
deliver(struct session *s)
{
	struct mail_env env = {
		s->srv->opts.intake, s->srv->domain, s->srv->authserv_id, "lmtp"
	};
	char **replies = xcalloc(s->nrcpt, sizeof(*replies));
	size_t stored;

	stored = ingest_mail_deliver(&env, s->msg.data ? s->msg.data : "", s->msg.len, s->from,
	    (const char *const *)s->rcpts, s->routes, s->nrcpt, replies);
	for (size_t i = 0; i < s->nrcpt; i++) {
		reply(s, replies[i]);
		free(replies[i]);
	}
	free(replies);
	log_debug("lmtp_data", "peer=%s bytes=%zu rcpts=%zu stored=%zu", s->peer, s->msg.len,
	    s->nrcpt, stored);
}

/* DATA; -1 when the connection is gone. */
static int
cmd_data(struct session *s)
{
	struct data_state d;
	enum rd r;

	if (s->from == NULL || s->nrcpt == 0) {
		reply(s, s->from ? "554 5.5.1 no valid recipients" : "503 5.5.1 MAIL first");
		return 0;
	}
	reply(s, "354 go ahead, end with <CRLF>.<CRLF>");
	if ((r = data_read(s, &d)) != RD_OK)
		return -1;
	if (d.oversize)
		reply_each(s, "552 5.3.4 message too big:");
	else if (d.header_big)
		reply_each(s, "552 5.3.4 header section too big:");
	else if (d.bare)
		reply_each(s, "550 5.5.2 bare CR or LF in the message (RFC 5321 2.3.8), refused:");
	else
		deliver(s);
	if (d.bare || d.oversize)
		log_info("lmtp_refused", "peer=%s bare=%d oversize=%d", s->peer, d.bare, d.oversize);
	transaction_reset(s);
	return 0;
}

/* One command line; -1 to end the session. */
static int
command(struct session *s, char *line)
{
	char *arg = line + strcspn(line, " ");

	if (*arg)
		*arg++ = '\0';
	while (*arg == ' ')
		arg++;
	if (strcasecmp(line, "LHLO") == 0)
		cmd_lhlo(s, arg);
	else if (strcasecmp(line, "MAIL") == 0)
		cmd_mail(s, arg);
	else if (strcasecmp(line, "RCPT") == 0)
		cmd_rcpt(s, arg);
	else if (strcasecmp(line, "DATA") == 0)
		return cmd_data(s);
	else if (strcasecmp(line, "RSET") == 0) {
		transaction_reset(s);
		reply(s, "250 2.0.0 ok");
	} else if (strcasecmp(line, "NOOP") == 0)
		reply(s, "250 2.0.0 ok");
	else if (strcasecmp(line, "QUIT") == 0) {
		reply(s, "221 2.0.0 bye");
		return -1;
	} else if (strcasecmp(line, "VRFY") == 0)
		reply(s, "252 2.5.2 cannot verify, send some mail");
	else if (strcasecmp(line, "HELO") == 0 || strcasecmp(line, "EHLO") == 0)
		reply(s, "500 5.5.1 this is LMTP: say LHLO");
	else
		reply(s, "500 5.5.2 unknown command");
	return 0;
}

static void
session_loop(struct session *s)
{
	char greet[160];

	snprintf(greet, sizeof(greet), "220 %s LMTP palier ready", s->srv->domain);
	reply(s, greet);
	for (;;) {
		const char *line;
		size_t len;
		int partial;
		enum rd r = next_line(s, &line, &len, &partial, 1);
		char *cmd;

		if (r == RD_STOP)
			reply(s, "421 4.3.2 shutting down, come back later");
		if (r != RD_OK)
			break;
		if (partial || len > CMD_MAX) {
			while (partial && next_line(s, &line, &len, &partial, 0) == RD_OK)
				;	/* discard the rest of the line */
			reply(s, "500 5.5.2 line too long");
			continue;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		cmd = xstrndup(line, len);
		r = command(s, cmd) < 0 ? RD_EOF : RD_OK;
		free(cmd);
		if (r != RD_OK)
			break;
	}
	flush(s);
}

/* Waits for the next connection handed to this thread; NULL when none came. */
static struct session *
next_session(struct lmtp_server *srv)
{
	struct session *s;
	struct timespec until = ts_from_now(CLOCK_REALTIME, IDLE_S * 1000L);

	srv->idle++;
	while (srv->handoff == NULL && !atomic_load(&srv->stopping))
		if (pthread_cond_timedwait(&srv->work, &srv->mu, &until) == ETIMEDOUT)
			break;
	if ((s = srv->handoff) == NULL) {
		srv->idle--;	/* nobody counted on this thread */
		return NULL;
	}
	srv->handoff = s->next;	/* session_start counted this thread out of idle */
	return s;
}

static void *
session_main(void *arg)
{
	struct session *s = arg;
	struct lmtp_server *srv = s->srv;

	while (s) {
		session_loop(s);
		transaction_reset(s);
		close(s->fd);
		buf_free(&s->out);
		buf_free(&s->msg);
		free(s);
		pthread_mutex_lock(&srv->mu);
		srv->sessions--;
		pthread_cond_broadcast(&srv->gone);
		s = next_session(srv);
		if (s == NULL) {
			srv->threads--;
			pthread_cond_broadcast(&srv->gone);
		}
		pthread_mutex_unlock(&srv->mu);
	}
	return NULL;
}

static void
session_start(struct lmtp_server *srv, int fd)
{
	struct session *s;
	pthread_attr_t attr;
	pthread_t tid;

	pthread_mutex_lock(&srv->mu);
	if (srv->sessions >= srv->opts.max_sessions) {
		pthread_mutex_unlock(&srv->mu);
		(void)!write(fd, "421 4.3.2 too many sessions, try again later\r\n", 46);
		close(fd);
		log_warn("lmtp_busy", "sessions=%d", srv->opts.max_sessions);
		return;
	}
	srv->sessions++;
	s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->fd = fd;
	snprintf(s->peer, sizeof(s->peer), "%s", net_peer(fd));
	if (srv->idle > 0) {	/* a waiting thread takes it */
		srv->idle--;
		s->next = srv->handoff;
		srv->handoff = s;
		pthread_cond_signal(&srv->work);
		pthread_mutex_unlock(&srv->mu);
		return;
	}
	srv->threads++;
	pthread_mutex_unlock(&srv->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	if (pthread_create(&tid, &attr, session_main, s) != 0) {
		log_error("lmtp_thread", "error=%s", log_q(strerror(errno)));
		close(fd);
		free(s);
		pthread_mutex_lock(&srv->mu);
		srv->sessions--;
		srv->threads--;
		pthread_mutex_unlock(&srv->mu);
	}
	pthread_attr_destroy(&attr);
}

static void *
acceptor_main(void *arg)
{
	struct lmtp_server *srv = arg;
	struct pollfd pfd[MAX_LISTEN + 1];

	for (size_t i = 0; i < srv->nfds; i++)
		pfd[i] = (struct pollfd){ srv->fds[i], POLLIN, 0 };
	pfd[srv->nfds] = (struct pollfd){ srv->stop_pipe[0], POLLIN, 0 };
	while (!atomic_load(&srv->stopping)) {
		if (poll(pfd, srv->nfds + 1, -1) < 0 && errno != EINTR)
			break;
		if (pfd[srv->nfds].revents)
			break;
		for (size_t i = 0; i < srv->nfds; i++) {
			int fd;

			if (!(pfd[i].revents & POLLIN))
				continue;
			if ((fd = accept4(srv->fds[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
				session_start(srv, fd);
			else if (errno == EMFILE || errno == ENFILE)
				usleep(100000);
		}
	}
	return NULL;
}

static int
listen_all(struct lmtp_server *srv, char **err)
{
	char *copy = xstrdup(srv->listen), *save = NULL;
	int rc = 0;

	for (char *tok = strtok_r(copy, " \t", &save); tok && rc == 0; tok = strtok_r(NULL, " \t", &save)) {
		int fd = net_listen(tok, 1024, err);

		if (fd < 0 || srv->nfds == MAX_LISTEN) {
			if (fd >= 0)
				close(fd);
			rc = -1;
			break;
		}
		srv->fds[srv->nfds++] = fd;
		log_info("lmtp_listening", "address=%s", log_q(tok));
	}
	free(copy);
	return rc;
}

static void
server_free(struct lmtp_server *srv)
{
	for (size_t i = 0; i < srv->nfds; i++)
		close(srv->fds[i]);
	if (srv->stop_pipe[0] >= 0)
		close(srv->stop_pipe[0]);
	if (srv->stop_pipe[1] >= 0)
		close(srv->stop_pipe[1]);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->gone);
	pthread_cond_destroy(&srv->work);
	free(srv->listen);
	free(srv->domain);
	free(srv->authserv_id);
	free(srv);
}

struct lmtp_server *
ingest_lmtp_start(const struct lmtp_opts *o, char **err)
{
	struct lmtp_server *srv = xcalloc(1, sizeof(*srv));

	srv->opts = *o;
	srv->listen = xstrdup(o->listen);
	srv->domain = xstrdup(o->domain);
	srv->authserv_id = xstrdup(o->authserv_id ? o->authserv_id : "");
	srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->gone, NULL);
	pthread_cond_init(&srv->work, NULL);
	if (pipe2(srv->stop_pipe, O_CLOEXEC) < 0 || listen_all(srv, err) < 0 ||
	    pthread_create(&srv->acceptor, NULL, acceptor_main, srv) != 0) {
		if (*err == NULL)
			*err = xasprintf("lmtp: %s", strerror(errno));
		server_free(srv);
		return NULL;
	}
	return srv;
}

void
ingest_lmtp_stop(struct lmtp_server *srv)
{
	struct timespec deadline;

	if (srv == NULL)
		return;
	atomic_store(&srv->stopping, 1);
	close(srv->stop_pipe[1]);
	srv->stop_pipe[1] = -1;
	pthread_join(srv->acceptor, NULL);
	deadline = ts_from_now(CLOCK_REALTIME, srv->opts.timeout * 1000L);
	pthread_mutex_lock(&srv->mu);
	pthread_cond_broadcast(&srv->work);	/* idle threads leave */
	while (srv->threads > 0)
		if (pthread_cond_timedwait(&srv->gone, &srv->mu, &deadline) == ETIMEDOUT)
			break;
	if (srv->threads > 0) {
		/* Sessions still in flight keep the server: leak it rather than free under them. */
		log_warn("lmtp_stop_timeout", "sessions=%d", srv->sessions);
		pthread_mutex_unlock(&srv->mu);
		return;
	}
	pthread_mutex_unlock(&srv->mu);
	server_free(srv);
}
