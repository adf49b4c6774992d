/*
 * moderation.h — what follows a decision on a held post, shared by the
 * moderator's emailed answer (store/intake.c) and palierctl hold
 * (store/posts.c). For daemon/store/ only.
 */
#ifndef PALIER_STORE_MODERATION_H
#define PALIER_STORE_MODERATION_H

/*
 * SQL CTEs after a CTE named decided (columns id, channel_id, sender,
 * source, author_verified, status, resident_id) that set posts' statuses:
 * a published post's sender trusted in its channel when trust is true; a
 * refused post's author told once, by email, only if they are a resident
 * or their address was verified (never backscatter to a forged sender).
 */
#define MODERATION_EFFECTS(decided, trust, by) \
    " trust AS (INSERT INTO trusted_senders (channel_id, sender, trusted_by)" \
    "   SELECT channel_id, lower(sender), " by " FROM " decided \
    "   WHERE " trust " AND status = 'published' ON CONFLICT DO NOTHING)," \
    " refc AS (INSERT INTO contents (purpose, post_id, channel_id)" \
    "   SELECT 'refusal', id, channel_id FROM " decided " WHERE status = 'refused'" \
    "     AND source = 'email' AND (resident_id IS NOT NULL OR author_verified)" \
    "   RETURNING id, post_id)," \
    " refo AS (INSERT INTO outgoing (content_id, kind, resident_id, recipient)" \
    "   SELECT refc.id, 'email', d.resident_id, d.sender FROM refc JOIN " decided " d" \
    "     ON d.id = refc.post_id)"

#endif
