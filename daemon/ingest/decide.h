/*
 * decide.h — what an inbound item becomes (DESIGN.md, Addresses; issue
 * "Who and where"): a post, a bulletin, a reply, a held post, a bounce,
 * a stored auto-reply. Pure decisions over what the directory said.
 */
#ifndef PALIER_INGEST_DECIDE_H
#define PALIER_INGEST_DECIDE_H

#include "classify/classify.h"
#include "ingest/intake.h"
#include "ingest/poll_draft.h"
#include "store/store.h"

/* What one decision allocated; freed after the write. */
struct decide_scratch {
	struct classify_result	 cls;
	char			*tags_json;
	char			*note;
	char			*author;
	struct poll_draft	 draft;		/* a publisher's "Sondage :" */
	char			*draft_options;
};

/* Fills the directory question for an item. */
void decide_who(const struct intake_item *it, struct store_who *w);
/*
 * Decides the row to write. Returns 0, or -1 when the item is settled
 * without a write (its result set: a channel that no longer exists).
 */
int decide_row(struct intake_item *it, const struct store_who *w,
    const struct rules *rules, struct store_inbound *row, struct decide_scratch *sc);
/* Copies the written row's outcome back into the item. */
void decide_finish(struct intake_item *it, const struct store_inbound *row);
void decide_scratch_free(struct decide_scratch *sc);

#endif
