/*
 * polls.h — consultative polls in the database: opening one (electorate and
 * invitations in one transaction), what an inbound vote needs to be read,
 * the statement that records a vote, closing and the tally.
 */
#ifndef PALIER_STORE_POLLS_H
#define PALIER_STORE_POLLS_H

#include <stddef.h>

#include "store/store.h"

#define POLL_MAX_OPTIONS	9
#define POLL_LATE_DAYS		30	/* a vote this long after the close still gets its polite reply */

/*
 * SQL: what templates need of poll row p (fanout/render_poll.c reads it):
 * id, question, sender, options, closes and closed (Unix time).
 */
#define POLL_DATA(p) \
    "jsonb_build_object('id', " p ".id, 'question', " p ".question, 'sender', " p ".sender," \
    " 'options', to_jsonb(" p ".options), 'closes', extract(epoch FROM " p ".closes_at)::bigint," \
    " 'closed', extract(epoch FROM coalesce(" p ".closed_at, " p ".closes_at))::bigint)"

struct poll_new {
	const char		*slug;		/* the channel: its residents and below are asked */
	const char		*question;
	const char *const	*options;
	int			 noptions;	/* 2 to 9 */
	const char		*closes;	/* "2026-12-01 18:00" (Paris time) or ISO 8601 with an offset */
	const char		*sender;	/* who asks, as residents read it */
	const char		*created_by;	/* palierctl, or the publisher's address */
};

struct poll_opened {
	long	id;
	char	code[2];
	long	electorate, emails, sms;	/* electors, invitations queued by email and by SMS */
};

/*
 * Opens a poll: fixes its electorate and queues its invitations, all in
 * one transaction. -1 with store_error set (an unknown slug, a close in
 * the past, bad options) and nothing written.
 */
int store_poll_create(struct store *s, const struct poll_new *p, struct poll_opened *out);

/* Opens the polls publishers confirmed by email (each in its own transaction). */
int store_poll_open_confirmed(struct store *s, long *opened);

/*
 * Closes poll id (0: every open poll whose time is up) and queues its
 * results: by email to those who voted by email, one SMS to those who
 * voted by SMS. *closed counts the polls closed. -1 on error; 1 when id
 * names no open poll.
 */
int store_poll_close(struct store *s, long id, long *closed);

/*
 * The tally of poll id as one JSON document (owned by the caller): id,
 * question, sender, channel, closed, closes_at, closed_at (Unix time),
 * electorate, voted, options [{label, votes}], by_channel {email, sms},
 * by_building [{building, name, electorate, voted, votes [n...]}].
 * 1 found, 0 no such poll, -1 on error.
 */
int store_poll_results(struct store *s, long id, char **json);

/* Polls, newest first, as a JSON array of {id, channel, question, state, closes_at, electorate, voted}. */
int store_polls_list(struct store *s, char **json);

/* options[0..n-1] as a PostgreSQL array literal (owned). */
char *store_poll_options_literal(const char *const *options, int n);

/* ---- votes, for the intake ---- */

/* A poll an inbound message may be a vote in, for its resident. */
struct vote_poll {
	long	 id;
	long	 resident_id;
	char	 code;			/* 'A'.. */
	int	 open;			/* still taking votes */
	int	 noptions;
	char	*options[POLL_MAX_OPTIONS];
};

/* What one inbound message asks about polls. */
struct vote_query {
	/* in */
	const char	*phone;		/* an SMS: its sender (E.164) */
	long		 resident_id;	/* an email to vote+: the token's resident and poll */
	long		 poll_id;
	/* out: the resident's polls (open, or closed in the last POLL_LATE_DAYS), newest first */
	struct vote_poll *polls;
	size_t		 npolls;
};

/*
 * One query for all of them, sent in the intake's lookup pipeline
 * (store_intake_lookup): prepared first (0 or -1), then sent, then its
 * result read into q.
 */
int store_vote_lookup_prepare(struct store *s);
void store_vote_lookup_send(struct store *s, struct vote_query *q, size_t n);
struct pg_result;
void store_vote_lookup_read(struct vote_query *q, size_t n, const struct pg_result *r);
void store_vote_query_clear(struct vote_query *q);

/*
 * The statement that writes an inbound item about polls, which the store's
 * write path sends instead of the inbound one:
 * - a vote (vote_poll): counted only if the poll is open, the resident an
 *   elector and the sender theirs; the ballot upserted; one reply queued
 *   (a confirmation for each counted vote; one clarification and one
 *   "closed" per resident and poll);
 * - a publisher's poll by email (poll_draft): kept as a draft, and the
 *   confirmation showing what will be sent (or the problem) queued;
 * - their answer (poll_confirm): the draft confirmed or cancelled.
 * Returns the number of parameters (*name and *sql set; p, when not NULL,
 * filled borrowing from it and ids), or 0 when it is none of these.
 */
#define STORE_POLL_MAXPARAMS 17
int store_poll_statement(const struct store_inbound *it, const char **name, const char **sql,
    const char **p, char ids[4][24], int *lengths, int *formats);

#endif
