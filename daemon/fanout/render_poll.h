/*
 * render_poll.h — the template data of poll messages, for render.c.
 */
#ifndef PALIER_FANOUT_RENDER_POLL_H
#define PALIER_FANOUT_RENDER_POLL_H

#include <jansson.h>

#include "core/buf.h"
#include "fanout/send.h"
#include "store/store.h"

/*
 * Fills d for a message whose purpose is poll-*, from its content; the
 * template's base name (owned), or NULL when it is not a poll message.
 */
char *render_poll_data(const struct sender_opts *o, const struct store_out *m,
    const json_t *content, json_t *d);
/*
 * The Reply-To of poll messages in d (borrowed), or NULL: the resident's
 * vote+ address, or the publisher's sondage+ one for a draft.
 */
const char *render_poll_reply_to(const json_t *d);

/* A digest's polls (open: how to vote, with the resident's vote+ address) and results, into d. */
void render_poll_digest(const struct sender_opts *o, const struct store_out *m,
    const json_t *content, json_t *d);

/* 1840 -> "1 840". */
void render_poll_count(struct buf *out, long long n);
/* "36 %" of whole, rounded; "0 %" of nothing. */
void render_poll_percent(struct buf *out, long long part, long long whole);

#endif
