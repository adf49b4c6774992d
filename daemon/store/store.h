/*
 * store.h — everything palier keeps in PostgreSQL goes through here.
 * Only daemon/store/ includes libpq; the rest of palier sees plain structs.
 * Every statement is parameterised. Functions return 0 or -1; after -1,
 * store_down() tells a dead database (retry later) from a refused request.
 */
#ifndef PALIER_STORE_STORE_H
#define PALIER_STORE_STORE_H

#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"

struct store;

/* Connects; NULL (and *err, caller frees) when the database is unreachable. */
struct store *store_open(const char *url, char **err);
/*
 * The fan-out's wake-up: store_notify_fanout after publishing a post (at
 * its commit, the fan-out listening with store_listen_fanout hears it).
 */
int store_listen_fanout(struct store *s);
int store_notify_fanout(struct store *s);
/*
 * Waits up to ms for a notification this connection listens to, or for
 * wake_fd to be readable (-1: none). 1 notified, 0 not, -1 the connection
 * failed (store_down).
 */
int store_await(struct store *s, int ms, int wake_fd);
/*
 * 1 if a connection error (the text store_open gave) is the operator's to
 * fix — an unknown role or database, a refused password — rather than a
 * database that is down.
 */
int store_refusal(const char *err);
void store_close(struct store *s);
/* 1 if the last failure came from a lost or unreachable database. */
int store_down(const struct store *s);
/* The last error's text (borrowed, valid until the next call). */
const char *store_error(const struct store *s);

/* Applies every migration not yet recorded, each in its own transaction, under an advisory lock. */
int store_migrate(struct store *s, FILE *progress);
/* -1 and *missing set if the schema lacks migrations the binary knows. */
int store_schema_check(struct store *s, int *missing);

/* ---- the roster, as parsed from CSV by ingest/roster.c ---- */

enum channel_kind { CHANNEL_CITY, CHANNEL_DISTRICT, CHANNEL_BUILDING };

struct roster_channel {
	enum channel_kind kind;
	char	*slug;
	char	*name;
	char	*address;	/* buildings only; NULL when not given */
	long	 parent;	/* index into roster.channels, -1 for a city */
	int	 line;		/* first line that named it */
};

struct roster_resident {
	int	 line;
	long	 building;	/* index into roster.channels */
	char	*unit;
	char	*name;
	char	*email;		/* NULL when none */
	char	*phone;		/* E.164, NULL when none */
	const char *digest;	/* "immediate", "daily", "weekly" or "none" (static) */
	int	 sms;
};

struct roster {
	struct roster_channel	*channels;	/* parents before children */
	size_t			 nchannels, capchannels;
	struct roster_resident	*residents;
	size_t			 nresidents, capresidents;
};

struct roster_stats {
	long	channels_new, channels_updated;
	long	residents_new, residents_updated, residents_unchanged;
};

void roster_free(struct roster *r);

/*
 * Writes the whole roster in one transaction. A conflict with what the
 * database holds (a slug already naming another kind of channel) adds
 * "line N: reason" lines to errors and writes nothing; so does any failure.
 */
int store_roster_apply(struct store *s, const struct roster *r,
    struct roster_stats *st, struct buf *errors);

/* ---- the directory, for listings ---- */

struct channel_row {
	long	 id;
	char	*slug, *name, *kind, *parent;	/* parent NULL for a city */
	char	*address;			/* postal, buildings only */
	long	 residents;			/* in this channel and below */
	int	 depth;				/* 0 for a city */
};

struct resident_row {
	long	 id;
	char	*name, *city, *district, *building, *unit;	/* district may be NULL */
	char	*email, *phone, *digest;			/* email, phone may be NULL */
	int	 sms, sms_stopped, email_suspended;
};

struct rows {
	void	*items;
	size_t	 n;
};

/* The tree in depth-first order, siblings by name. */
int store_channels_list(struct store *s, struct rows *out);
void store_channels_free(struct rows *rows);
/* Residents of channel slug and below (all when slug is NULL), by building, unit, name. -1 with store_error "no channel" if slug is unknown. */
int store_residents_list(struct store *s, const char *slug, struct rows *out);
void store_residents_free(struct rows *rows);

/* Stops all email to resident id (one-click unsubscribe). 0 done, 1 no such resident, -1 error. */
int store_resident_email_stop(struct store *s, long id);

/* Allows email to publish to channel slug and below. 0 added, 1 already there, -1 error. */
int store_publisher_add(struct store *s, const char *slug, const char *email, const char *name);


/* ---- intake: what an inbound message's recipient turns into ---- */

/* What the directory says about one sender and one destination. */
struct store_who {
	/* in */
	const char	*sender;	/* From addr-spec or E.164 number */
	const char	*slug;		/* the channel addressed, or NULL */
	long		 token_resident;	/* from a reply+ token, else 0 */
	long		 thread;	/* from a reply+ token, else 0 */
	int		 by_phone;	/* sender is a phone number */
	int		 home;		/* the channel is the sender's building (SMS) */
	/* out */
	long		 channel_id;	/* the slug's channel, or the thread's; 0 if none */
	char		 channel_kind[12];
	long		 district_id;	/* the channel's district (itself if one), 0 if none */
	long		 city_id;	/* the channel's city */
	long		 resident_id;	/* a resident with this address in the channel's scope
					 * (for a token: the token's resident if the address is theirs) */
	char		*resident_name;
	long		 any_resident_id;	/* a resident with this address anywhere */
	long		 building_id;	/* any_resident's building */
	long		 publisher_id;	/* may publish to the channel */
	char		*publisher_name;
	long		 thread_root;	/* the thread's first post, 0 if no such post */
	int		 trusted;	/* a moderator trusts this sender in this channel */
};

struct vote_query;
/*
 * Everything the intake asks before classifying a batch, in one round
 * trip: who each sender is (w, n) and, for the m messages that may be
 * votes, their polls (store/polls.h). 0, or -1 on failure.
 */
int store_intake_lookup(struct store *s, struct store_who *w, size_t n, struct vote_query *q,
    size_t m);
void store_who_clear(struct store_who *w);
/*
 * Readies a new connection for the intake: its statements prepared and the
 * lookups run once, for senders nobody has, so that PostgreSQL has loaded
 * the tables it will use. 0, or -1 on failure.
 */
int store_intake_warm(struct store *s);

struct store_inbound {
	/* the inbound row */
	const char	*source;	/* email, sms */
	const char	*via;
	const char	*dedup_key;
	const char	*envelope_from, *recipient, *sender, *subject;
	const char	*raw;
	size_t		 rawlen;
	const char	*disposition;
	const char	*note;
	const char	*attachments_json;	/* [{"filename","type","size"}] or NULL */
	/* the post, when post_kind is set */
	const char	*post_kind;	/* post, bulletin, reply, or NULL */
	long		 channel_id;
	const char	*status, *reason, *topic;
	const char	*tags_json;	/* ["x","y"] or NULL */
	long		 resident_id, publisher_id, thread_id;
	const char	*author, *post_subject, *body;
	/* a bounce, when bounce_json is set: [{"address","permanent","status","diagnostic"}] */
	const char	*bounce_json;
	long		 bounce_outgoing, bounce_resident;
	/*
	 * A command from the sender (a resident, found by phone or address):
	 * stop, start, help, daily, weekly, immediate, unknown. answer names
	 * the template of the reply, sent at most once a day per sender and
	 * kind, a STOP's only when it stopped something.
	 */
	const char	*command;
	int		 command_by_phone;
	const char	*answer;
	int		 author_verified;	/* the post's sender passed authentication */
	/* A moderator's answer (moderation+ token): ok or refuse, with trust and a reason. */
	const char	*mod_action;
	long		 mod_post, mod_id;
	const char	*mod_reason;
	int		 mod_trust;
	/*
	 * A vote (store/polls.h writes it): the poll and resident, the choice
	 * (0: not understood), whether it came by SMS, whether the resident's
	 * open polls must be told apart by their codes.
	 */
	long		 vote_poll, vote_resident;
	int		 vote_choice, vote_by_phone, vote_several;
	/*
	 * A publisher's poll by email (poll_draft set): kept as a draft in
	 * channel_id, from publisher_id and author, and a confirmation (or
	 * the problem) sent back. A publisher's answer to it: poll_confirm
	 * with mod_action ok or refuse.
	 */
	int		 poll_draft;
	const char	*draft_question, *draft_options, *draft_closes, *draft_problem;
	long		 poll_confirm;
	/* out */
	char		 vote_outcome[12];	/* counted, unclear, late, held; "" for a duplicate */
	long		 inbound_id;	/* 0 when it was a duplicate */
	long		 post_id;
	int		 duplicate;
};

/* Writes every item in one transaction (the caller holds none open). */
int store_inbound_write(struct store *s, struct store_inbound *items, size_t n);
/* The slugs of every channel, for a cache: calls fn for each. */
int store_channel_slugs(struct store *s, void (*fn)(void *, const char *), void *arg);

/* ---- fan-out and the outgoing queue ---- */

struct store_fanout_stats {
	long	posts;			/* fanned out completely */
	long	unfinished;		/* with residents left for the next pass */
	long	emails, sms;
};

/*
 * Fans out up to limit published posts, the next chunk buildings of each,
 * in one transaction that also records how far each post went: a bulletin
 * to every resident in scope (email, and SMS for those who chose it or
 * whose email is suspended), a post to the residents in scope who asked
 * for immediate notices (never its author). Called again while any post is
 * unfinished; a pass after a crash resumes where the last commit stopped.
 */
int store_fanout_posts(struct store *s, int limit, int chunk, struct store_fanout_stats *st);

/* Notices to moderators for held posts not yet notified. */
int store_fanout_moderation(struct store *s, int limit, long *posts, long *notices);

enum store_out_result { OUT_PENDING = 0, OUT_SENT, OUT_TEMPFAIL, OUT_PERMFAIL };

/* What every message of one content shares: a post, a bulletin, a digest... */
struct store_content {
	long	 id;
	char	*purpose;		/* bulletin, post, ... */
	char	*data;			/* the content's JSON */
	long	 post_id, thread_id;	/* thread_id: the thread's first post */
	char	*post_kind, *post_subject, *post_body, *post_author, *post_topic;
	char	*channel_slug, *channel_name, *channel_kind;
	char	*post_sender, *post_reason;
	long	 post_time;		/* Unix time the post arrived */
};

/* A claimed outgoing message: its recipient, and what rendering it needs. */
struct store_out {
	long	 id, content_id, resident_id;
	char	 kind[8];		/* email, sms */
	char	*recipient;
	int	 attempts;
	const struct store_content *c;	/* borrowed from the batch */
	char	*resident_name, *resident_digest;
	char	*resident_building;	/* the slug of the resident's building */
	long	 moderator_id;		/* a moderation notice's moderator */
	char	*moderator_name;
	int	 resident_sms, resident_phone;
	int	 resident_email;	/* an address mail reaches: set, not stopped, not suspended */
	int	 cancelled;		/* the resident stopped: not to be sent */
	/* set by the sender */
	enum store_out_result result;
	char	*error;			/* owned */
	char	*gateway_id;		/* owned */
	int	 segments;
};

/* A claimed batch: the messages, and each content they name, once. */
struct store_batch {
	struct store_out	*msgs;
	size_t			 n;
	struct store_content	*contents;
	size_t			 ncontents;
};

/*
 * Claims up to limit messages of kind under a lease of lease_s seconds
 * (only urgent ones when urgent_only), and reads their contents once.
 * Messages for residents who stopped come back with cancelled set: they
 * are already recorded as cancelled. b is emptied first; clear it after.
 */
int store_outgoing_claim(struct store *s, const char *kind, int limit, int lease_s,
    int urgent_only, struct store_batch *b);
/* Records each message's result: sent, retried later with backoff, or failed (cancelled ones are skipped). */
int store_outgoing_done(struct store *s, struct store_out *msgs, size_t n);
void store_batch_clear(struct store_batch *b);

/*
 * A delivery report for outgoing message id (an SMS): report is
 * delivered, failed, buffered or accepted. A failure marks it failed (it
 * is not sent again). 0, 1 if no such SMS, -1 on error.
 */
int store_outgoing_report(struct store *s, long id, const char *report, const char *detail);

struct queue_row {
	char	kind[8], state[12];
	long	count, segments;
};
int store_queue_stats(struct store *s, struct rows *out);

/* ---- posts and moderation ---- */

struct post_row {
	long	 id, thread;		/* thread: the thread's first post, 0 for a first post */
	char	*channel, *kind, *topic, *status, *reason, *source, *author, *sender;
	char	*subject, *body, *created_at;
	long	 inbound_id;
	int	 attachments;
};

/* Posts, newest first; slug and status may be NULL. -1 with an error for an unknown slug. */
int store_posts_list(struct store *s, const char *slug, const char *status, long limit,
    struct rows *out);
/* One post; 1 if found, 0 if not, -1 on error. */
int store_post_get(struct store *s, long id, struct post_row *out);
void store_posts_free(struct rows *rows);
void store_post_clear(struct post_row *p);

/*
 * Decides a held post: published (approve; trust: its sender is trusted in
 * the channel from then on) or refused (its author told once, if they can
 * be told safely). by names who decided. 0 done, 1 when the post is not
 * held (or doesn't exist), -1 on error.
 */
int store_hold_decide(struct store *s, long id, int approve, int trust, const char *reason,
    const char *by);
/* Adds a moderator of channel slug and below. 0 added, 1 already there, -1 error. */
int store_moderator_add(struct store *s, const char *slug, const char *email, const char *name);

/* A bulletin written by the operator, as if a publisher had emailed it. Returns the post id, 0 on error. */
long store_bulletin_insert(struct store *s, const char *slug, const char *author,
    const char *subject, const char *body);

/* ---- digests ---- */

struct digest_stats {
	long	contents, messages;
	int	already;		/* this period's run was done before */
};

/*
 * Builds the digests of frequency (daily, weekly) for period (a label such
 * as "2026-11-26" or "2026-W48", unique per run): for every building, the
 * posts published in its scope since the previous run, one content per
 * building with posts, one message per resident who chose frequency and
 * can receive email. No posts, no digest. Once per period, even with
 * several palierd. force makes a run even if the period was done.
 */
int store_digest_run(struct store *s, const char *frequency, const char *period, int force,
    struct digest_stats *st);

#endif
