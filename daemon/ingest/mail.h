/*
 * mail.h — one internet message for one or more of our recipients, from
 * LMTP or IMAP: read, checked for loops and auto-replies, trimmed, handed
 * to the intake, and answered per recipient in LMTP's terms.
 */
#ifndef PALIER_INGEST_MAIL_H
#define PALIER_INGEST_MAIL_H

#include <stddef.h>

#include "ingest/address.h"
#include "ingest/intake.h"

#define MAIL_MAX_RECEIVED 30	/* more Received fields than this: a loop */

struct mail_env {
	struct intake	*intake;
	const char	*domain;	/* ours, for our own List-Id */
	const char	*authserv_id;	/* whose Authentication-Results to trust; "" for nobody's */
	const char	*via;		/* lmtp, imap */
};

/*
 * Delivers raw to each recipient (routes decided at RCPT time). Sets
 * replies[i] to a newly allocated LMTP reply line without CRLF, e.g.
 * "250 2.0.0 <addr> stored as message 12". Returns the number stored.
 */
size_t ingest_mail_deliver(const struct mail_env *env, const char *raw, size_t len,
    const char *envelope_from, const char *const *rcpts, const struct route *routes,
    size_t nrcpt, char **replies);

#endif
