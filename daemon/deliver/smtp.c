/*
 * smtp.c — delivery to an SMTP relay through libesmtp: one session carries
 * a whole batch (PIPELINING when the relay offers it), each message with
 * its own envelope. libesmtp never sets TCP_NODELAY, and a message's final
 * "." then waits for the peer's delayed ACK (≈ 40 ms a message): this file
 * interposes connect() for libesmtp's calls alone and sets it.
 * Only talks to the relay; never reads the database.
 */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <stddef.h>
#include <libesmtp.h>

#include "core/alloc.h"
#include "core/log.h"
#include "deliver/deliver.h"

/* Set while this thread is inside smtp_start_session. */
static _Thread_local int want_nodelay;

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

/*
 * Every connect() of the process passes through here; only libesmtp's,
 * made while want_nodelay is set, get TCP_NODELAY.
 */
int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static connect_fn real;
	int rc, one = 1;

	if (real == NULL)
		real = (connect_fn)dlsym(RTLD_NEXT, "connect");
	if (want_nodelay && sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6))
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = real(fd, sa, len);
	return rc;
}

struct smtp_backend {
	struct deliver_backend	 b;
	char			*hostport;
	char			*helo;
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
	want_nodelay = 1;
	ok = smtp_start_session(session);
	want_nodelay = 0;
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
