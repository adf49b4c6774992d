/*
 * token.h — the tokens in reply+, vote+, bounce+, moderation+ and sondage+
 * addresses.
 * A token names two numbers (a resident and a thread, poll or outgoing
 * message) and carries an 80-bit HMAC-SHA256 under the deployment's key,
 * bound to its kind. Checked without a database lookup. Lower-case base32:
 * survives mail clients that lower-case addresses; no '-', '.' or '+'.
 */
#ifndef PALIER_CORE_TOKEN_H
#define PALIER_CORE_TOKEN_H

#include <stdint.h>

#include "core/secret.h"

enum token_kind {
	TOKEN_REPLY = 1,	/* a: resident, b: thread (post id) */
	TOKEN_VOTE = 2,		/* a: resident, b: poll */
	TOKEN_BOUNCE = 3,	/* a: resident, b: outgoing message */
	TOKEN_MODERATE = 4,	/* a: moderator, b: held post */
	TOKEN_UNSUBSCRIBE = 5,	/* a: resident, b: 0 */
	TOKEN_POLL = 6,		/* a: publisher, b: a poll they drafted by email */
};

#define TOKEN_MAX 48	/* longest encoded token, with its NUL */

/* Writes the token for (kind, a, b) into out. */
void token_make(const unsigned char key[SECRET_LEN], enum token_kind kind,
    uint64_t a, uint64_t b, char out[TOKEN_MAX]);
/* 0 and *a, *b set if s is a genuine token of this kind (case-insensitive); else -1. */
int token_read(const unsigned char key[SECRET_LEN], enum token_kind kind,
    const char *s, uint64_t *a, uint64_t *b);

#endif
