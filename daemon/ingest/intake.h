/*
 * intake.h — where every inbound message goes after it was read: the
 * sender is looked up, the post classified, and the result committed in a
 * group with other sessions' messages. A caller learns the outcome of each
 * of its items only after the commit (or the failure).
 */
#ifndef PALIER_INGEST_INTAKE_H
#define PALIER_INGEST_INTAKE_H

#include <stddef.h>

#include "classify/classify.h"
#include "core/secret.h"
#include "ingest/address.h"
#include "ingest/vote.h"

enum intake_result {
	INTAKE_PENDING = 0,
	INTAKE_STORED,		/* committed (or was already: a duplicate) */
	INTAKE_TEMPFAIL,	/* not committed: try again later */
	INTAKE_REJECT,		/* no such destination */
};

struct intake_waiter;

/* One message for one recipient. Everything borrowed until the result is in. */
struct intake_item {
	const char	*source;		/* email, sms */
	const char	*via;			/* lmtp, imap, kannel, twilio */
	const char	*dedup_key;
	const char	*envelope_from, *recipient;
	const char	*sender;		/* From addr-spec, or E.164; NULL if none */
	const char	*sender_name;		/* display name, may be NULL */
	const char	*subject;		/* decoded; "" for SMS */
	const char	*body;			/* the sender's own words */
	const char	*raw;
	size_t		 rawlen;
	const char	*attachments_json;
	const char *const *header_names, *const *header_values;
	size_t		 nheaders;
	struct route	 route;
	int		 by_phone;
	int		 automatic;		/* an auto-reply or the like: kept, never posted */
	const char	*automatic_why;
	int		 unverified;		/* the trusted Authentication-Results say it failed */
	int		 verified;		/* ...or that it passed */
	const char	*bounce_json;		/* for bounce+: [{address, permanent, status, diagnostic}] */
	const char	*command;		/* stop, start, help, daily, weekly, immediate, unknown */
	const char	*answer;		/* the template that answers it */
	const char	*mod_action;		/* a moderator's answer: ok, refuse, or NULL */
	const char	*mod_reason;
	int		 mod_trust;
	struct vote_decision vote;		/* set by the intake: a vote, or VOTE_NONE */

	enum intake_result result;
	struct intake_waiter *waiter;		/* the intake's own */
	void		(*done)(void *);	/* ingest_intake_submit_async()'s */
	void		*done_arg;
	long		 inbound_id, post_id;	/* 0 for a duplicate */
	char		 disposition[16];
	char		 status[12];		/* published, held, refused; "" without a post */
};

struct intake;

/* Starts the writer threads (they connect to url at once, and again as needed). */
struct intake *ingest_intake_new(const char *url, const unsigned char key[SECRET_LEN]);
/* Waits for queued items, stops the writers, frees. */
void ingest_intake_free(struct intake *in);
/* Replaces the rule set (taken; the old one is freed once unused). NULL: no rules. */
void ingest_intake_set_rules(struct intake *in, struct rules *rules);
/* Whether a channel slug exists: 1, 0, or -1 when the database can't say. */
int ingest_intake_channel_known(struct intake *in, const char *slug);
/* Queues n items and waits until every one has its result. */
void ingest_intake_submit(struct intake *in, struct intake_item **items, size_t n);
/*
 * Queues one item and returns: done(arg) is called from a writer thread
 * once the item has its result, and nothing of the item is touched after
 * (done may free it). For callers that serve many clients per thread.
 */
void ingest_intake_submit_async(struct intake *in, struct intake_item *it,
    void (*done)(void *), void *arg);

#endif
