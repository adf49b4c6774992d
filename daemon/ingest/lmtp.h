/*
 * lmtp.h — the LMTP listener (RFC 2033) of palierd's ingest role.
 */
#ifndef PALIER_INGEST_LMTP_H
#define PALIER_INGEST_LMTP_H

#include <stddef.h>

#include "core/secret.h"
#include "ingest/mail.h"

struct lmtp_opts {
	const char	*listen;	/* space-separated addresses */
	const char	*domain;
	const char	*authserv_id;
	size_t		 max_size;
	size_t		 max_header;
	int		 max_recipients;
	int		 max_sessions;
	int		 timeout;	/* seconds without input before a session is closed */
	const unsigned char *key;	/* SECRET_LEN bytes, borrowed */
	struct intake	*intake;	/* borrowed */
};

struct lmtp_server;

/* Listens and serves in threads of its own; NULL and *err on failure. */
struct lmtp_server *ingest_lmtp_start(const struct lmtp_opts *o, char **err);
/*
 * Stops accepting, tells idle sessions 421, lets sessions in a
 * transaction finish (at most timeout), then frees.
 */
void ingest_lmtp_stop(struct lmtp_server *srv);

#endif
