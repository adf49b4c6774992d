/*
 * imap.h — the IMAP intake of palierd's ingest role, for deployments that
 * only have a mailbox: one long-lived connection, IDLE when offered.
 */
#ifndef PALIER_INGEST_IMAP_H
#define PALIER_INGEST_IMAP_H

#include <stddef.h>

#include "core/secret.h"
#include "ingest/mail.h"

/*
 * What the intake leaves on the server, so that an operator can see it:
 *   committed (stored, or already stored)  \Seen $PalierDone, then moved
 *                                          to done_folder when one is set
 *                                          (MOVE; else COPY, \Deleted and
 *                                          UID EXPUNGE when UIDPLUS allows)
 *   no address of ours in the message       \Flagged $PalierIgnored, left
 *     (or only channels that don't exist)
 *   refused for good (too big, unparsable,  \Flagged $PalierRefused, left
 *     a loop: the intake's 5xx)
 *   not committed (database down)           untouched, tried again later
 * Each of these is logged once (imap_delivered, imap_ignored, imap_refused;
 * imap_deferred at each try). A message is for the first address of ours
 * in Delivered-To, then X-Original-To, To, Cc; its envelope sender is its
 * Return-Path.
 * A server that cannot keep keywords (no \* in PERMANENTFLAGS) gets \Seen
 * for the first and \Seen \Flagged for the next two instead, and only
 * unseen messages are read. Remove the flags to have a message read again
 * (at the next connection): the database's dedup makes that harmless.
 */
#define IMAP_KW_DONE	"$PalierDone"
#define IMAP_KW_IGNORED	"$PalierIgnored"
#define IMAP_KW_REFUSED	"$PalierRefused"

struct imap_opts {
	const char	*url;		/* imap[s]://user:pass@host[:port][/mailbox] */
	const char	*done_folder;	/* NULL or "": committed messages stay, flagged */
	const char	*domain;
	const char	*authserv_id;
	size_t		 max_size;	/* bigger messages are refused */
	const unsigned char *key;	/* SECRET_LEN bytes, borrowed */
	struct intake	*intake;	/* borrowed; freed only after ingest_imap_stop */
};

/* An imap:// or imaps:// URL, percent-decoded; every string owned. */
struct imap_url {
	int		 tls;		/* imaps:// */
	char		*user, *pass, *host, *mailbox;
	unsigned short	 port;		/* 143 or 993 unless given */
};

/*
 * Reads url, %-escapes decoded. The user name may hold a raw '@' (the
 * last '@' of the URL ends it: one in the mailbox must be written %40, a
 * ':' in the user or a '/' or '@' in the password too). The mailbox
 * defaults to INBOX and is used as written (a name outside ASCII in IMAP's
 * modified UTF-7). 0, or -1 with *err (caller frees); never echoes the URL.
 */
int ingest_imap_url_parse(const char *url, struct imap_url *u, char **err);
void ingest_imap_url_clear(struct imap_url *u);

struct imap_intake;

/* Checks the URL, then connects and reads in a thread of its own. NULL and *err on failure. */
struct imap_intake *ingest_imap_start(const struct imap_opts *o, char **err);
/*
 * Stops promptly, even in IDLE or in the middle of a command (after a
 * two-second grace the socket is shut down), waits for the thread, frees.
 * NULL does nothing.
 */
void ingest_imap_stop(struct imap_intake *im);

#endif
