/*
 * vote.h — whether an inbound text is a vote, in which poll and for which
 * option, given the polls its resident was invited to. Pure functions: the
 * database decides afterwards whether the vote counts (poll still open,
 * resident an elector, sender theirs).
 */
#ifndef PALIER_INGEST_VOTE_H
#define PALIER_INGEST_VOTE_H

#include <stddef.h>

#include "store/polls.h"

enum vote_kind {
	VOTE_NONE = 0,		/* not a vote: an SMS is then a post */
	VOTE_COUNT,		/* a clear choice in an open poll */
	VOTE_UNCLEAR,		/* looks like a vote, names no single option: ask again, once */
	VOTE_LATE,		/* an answer to a poll that is closed */
};

struct vote_decision {
	enum vote_kind	 kind;
	long		 poll, resident;
	int		 choice;	/* 1.., 0 when unclear */
	int		 several;	/* the resident has several open polls: name them by code */
};

/*
 * An SMS from a resident with these polls (newest first). A leading code
 * ("B2", "b 2", "B: oui") picks a poll; without one, a text that answers
 * exactly one open poll counts, an answer that could be for several open
 * polls is unclear, and an answer to a poll closed lately is late.
 */
void vote_decide_sms(const char *text, const struct vote_poll *polls, size_t n,
    struct vote_decision *d);

/*
 * A reply to vote+<token> for polls[0] (the token's poll): the choice is
 * read from the first of the first lines the resident wrote that is an
 * answer, else the whole of it, else the subject. Anything else is unclear: an address for votes only.
 */
void vote_decide_email(const char *body, const char *subject, const struct vote_poll *polls,
    size_t n, struct vote_decision *d);

#endif
