/*
 * smtp.c — delivery to an SMTP relay through libesmtp: one session carries
 * a whole batch (PIPELINING when the relay offers it), each message with
 * its own envelope. Only talks to the relay; never reads the database.
 *
 * Two things libesmtp does not do are done here, by interposing the few
 * system calls it makes (connect, write, poll, read, close) for the
 * calls a thread makes inside smtp_start_session() alone:
 *  - TCP_NODELAY. Without it a message's final "." waits for the peer's
 *    delayed ACK (about 40 ms a message).
 *  - Writing in large pieces. libesmtp writes through a 2 KB buffer, and
 *    polls before each write: a 15 KB bulletin took ten writes and six
 *    polls. Its writes are kept here (up to WBUF_SIZE) and go out at
 *    once when libesmtp waits for an answer (a blocking poll for input, a
 *    read) or closes; a poll for output is answered without a system
 *    call while there is room. libesmtp still waits for every answer, so
 *    nothing is taken as sent that was not.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libesmtp.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "deliver/deliver.h"

#define WBUF_SIZE	(64 * 1024)
#define FLUSH_MS	120000	/* a relay that takes nothing for this long is gone */

/* What a thread inside smtp_start_session has written and not yet sent. */
struct wbuf {
	int	 fd;		/* libesmtp's socket, -1 before it connects */
	int	 err;		/* errno of a failed flush: every later call fails */
	size_t	 len;
	char	 data[WBUF_SIZE];
};

/* Set while this thread is inside smtp_start_session. */
static _Thread_local struct wbuf *session_buf;

static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_read)(int, void *, size_t);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_close)(int);

__attribute__((constructor)) static void
find_real(void)
{
	real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
	real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	real_poll = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (!real_connect || !real_write || !real_read || !real_poll || !real_close)
		abort();
}

/* The session's buffer when fd is its socket, else NULL. */
static struct wbuf *
ours(int fd)
{
	struct wbuf *w = session_buf;

	return w && fd >= 0 && w->fd == fd ? w : NULL;
}

/*
 * Sends p whole, waiting while the socket is full. net_write_all's poll
 * must be the real one: the session's buffer is set aside meanwhile.
 */
static int
send_now(struct wbuf *w, const void *p, size_t n)
{
	int rc;

	session_buf = NULL;
	rc = net_write_all(w->fd, p, n, FLUSH_MS);
	session_buf = w;
	if (rc < 0)
		w->err = errno ? errno : EIO;
	return rc;
}

static int
flush(struct wbuf *w)
{
	if (w->err) {
		errno = w->err;
		return -1;
	}
	if (w->len && send_now(w, w->data, w->len) < 0)
		return -1;
	w->len = 0;
	return 0;
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct wbuf *w = session_buf;
	int one = 1;

	if (w && sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		w->fd = fd;	/* libesmtp tries each address in turn: the last one is the session's */
		w->len = 0;
		w->err = 0;
	}
	return real_connect(fd, sa, len);
}

ssize_t
write(int fd, const void *p, size_t n)
{
	struct wbuf *w = ours(fd);

	if (w == NULL)
		return real_write(fd, p, n);
	if (w->len + n > sizeof(w->data) && flush(w) < 0)
		return -1;
	if (n > sizeof(w->data))
		return send_now(w, p, n) < 0 ? -1 : (ssize_t)n;
	memcpy(w->data + w->len, p, n);
	w->len += n;
	return (ssize_t)n;
}

ssize_t
read(int fd, void *p, size_t n)
{
	struct wbuf *w = ours(fd);

	if (w && flush(w) < 0)
		return -1;
	return real_read(fd, p, n);
}

/* glibc declares poll's array write-only; a wrapper has to read it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct wbuf *w = session_buf;
	int mine = 0, want_in = 0, ready = 0;

	if (w == NULL || w->fd < 0)
		return real_poll(fds, nfds, timeout);
	for (nfds_t i = 0; i < nfds; i++)
		if (fds[i].fd == w->fd) {
			mine++;
			want_in |= fds[i].events & POLLIN;
		}
	if (mine == 0)
		return real_poll(fds, nfds, timeout);
	if (mine == (int)nfds && (w->err || w->len < sizeof(w->data))) {
		/* Room to write (or a dead socket): said at once, no system call. */
		for (nfds_t i = 0; i < nfds; i++) {
			fds[i].revents = w->err ? POLLERR : fds[i].events & POLLOUT;
			ready += fds[i].revents != 0;
		}
		if (ready)
			return ready;
	}
	/* Waiting for an answer: what it answers must have gone out. */
	if (want_in && timeout != 0 && flush(w) < 0) {
		for (nfds_t i = 0; i < nfds; i++)
			fds[i].revents = fds[i].fd == w->fd ? POLLERR : 0;
		return mine;
	}
	return real_poll(fds, nfds, timeout);
}
#pragma GCC diagnostic pop

int
close(int fd)
{
	struct wbuf *w = ours(fd);

	if (w) {
		(void)flush(w);		/* QUIT, if libesmtp did not wait for its answer */
		w->fd = -1;
		w->len = 0;
	}
	return real_close(fd);
}

struct smtp_backend {
	struct deliver_backend	 b;
	char			*hostport;
	char			*helo;
	struct wbuf		 wbuf;	/* one worker's: a backend is never shared */
};

/*
 * Feeds a message to libesmtp in one piece. libesmtp frees *ctx itself
 * when it is done with the message: the state kept there must be ours,
 * from malloc (a flag: has the message been given yet).
 */
static const char *
message_cb(void **ctx, int *len, void *arg)
{
	struct outmsg *m = arg;
	int *given = *ctx;

	if (given == NULL)
		*ctx = given = xcalloc(1, sizeof(*given));
	if (len == NULL) {		/* rewind */
		*given = 0;
		return NULL;
	}
	if (*given) {
		*len = 0;
		return NULL;
	}
	*given = 1;
	*len = (int)m->len;
	return m->data;
}

static void
result_from(struct outmsg *m, smtp_message_t msg, smtp_recipient_t rcpt)
{
	const smtp_status_t *st = smtp_recipient_status(rcpt);
	const smtp_status_t *mst = smtp_message_transfer_status(msg);
	int code = st && st->code ? st->code : 0;

	if (code >= 200 && code < 300 && mst && mst->code >= 200 && mst->code < 300) {
		m->result = DELIVER_OK;
		return;
	}
	/* The recipient's refusal says why; else the message's (DATA) answer. */
	if (code < 400 || code >= 600)
		code = mst && mst->code ? mst->code : code;
	m->result = code >= 500 && code < 600 ? DELIVER_PERM : DELIVER_TEMP;
	snprintf(m->error, sizeof(m->error), "%d %s", code,
	    st && st->code == code && st->text ? st->text : mst && mst->text ? mst->text : "no answer");
	m->error[strcspn(m->error, "\r\n")] = '\0';
}

static int
smtp_send(struct deliver_backend *b, struct outmsg *msgs, size_t n)
{
	struct smtp_backend *sb = (struct smtp_backend *)b;
	smtp_session_t session = smtp_create_session();
	smtp_message_t *mm = xcalloc(n, sizeof(*mm));
	smtp_recipient_t *rr = xcalloc(n, sizeof(*rr));
	int ok;

	smtp_set_server(session, sb->hostport);
	smtp_set_hostname(session, sb->helo);
	smtp_set_timeout(session, Timeout_GREETING | Timeout_OVERRIDE_RFC2822_MINIMUM, 30);
	smtp_set_timeout(session, Timeout_DATA | Timeout_OVERRIDE_RFC2822_MINIMUM, 120);
	for (size_t i = 0; i < n; i++) {
		mm[i] = smtp_add_message(session);
		smtp_set_reverse_path(mm[i], msgs[i].envelope_from);
		smtp_set_messagecb(mm[i], message_cb, &msgs[i]);
		rr[i] = smtp_add_recipient(mm[i], msgs[i].recipient);
	}
	session_buf = &sb->wbuf;
	sb->wbuf.fd = -1;
	sb->wbuf.len = 0;
	sb->wbuf.err = 0;
	ok = smtp_start_session(session);
	session_buf = NULL;
	for (size_t i = 0; i < n; i++) {
		if (ok)
			result_from(&msgs[i], mm[i], rr[i]);
		else {
			char err[128];

			msgs[i].result = DELIVER_TEMP;
			snprintf(msgs[i].error, sizeof(msgs[i].error), "relay %s: %s", sb->hostport,
			    smtp_strerror(smtp_errno(), err, sizeof(err)));
		}
	}
	if (!ok)
		log_warn("smtp_session_failed", "relay=%s error=%s", log_q(sb->hostport),
		    log_q(msgs[0].error));
	smtp_destroy_session(session);
	free(mm);
	free(rr);
	return ok ? 0 : -1;
}

static void
smtp_free(struct deliver_backend *b)
{
	struct smtp_backend *sb = (struct smtp_backend *)b;

	free(sb->hostport);
	free(sb->helo);
	free(sb);
}

struct deliver_backend *
deliver_smtp_new(const char *hostport, const char *helo, char **err)
{
	struct smtp_backend *sb;

	if (strchr(hostport, ':') == NULL) {
		*err = xasprintf("%s: not host:port", hostport);
		return NULL;
	}
	sb = xcalloc(1, sizeof(*sb));
	sb->b.name = "smtp";
	sb->b.send = smtp_send;
	sb->b.free = smtp_free;
	sb->hostport = xstrdup(hostport);
	sb->helo = xstrdup(helo ? helo : "localhost");
	return &sb->b;
}
