/*
 * fanout.h — palierd's fanout role: published posts and bulletins become
 * outgoing messages for every resident in scope; digests are built when due.
 */
#ifndef PALIER_FANOUT_FANOUT_H
#define PALIER_FANOUT_FANOUT_H

struct fanout;

#include <stddef.h>
#include <time.h>

#include "core/config.h"

/*
 * Starts the fan-out thread; it connects to url as needed. cfg is borrowed
 * for its life. queued(arg), if set, is called from the thread after
 * messages were queued (to wake this process's delivery workers).
 */
struct fanout *fanout_start(const char *url, const struct config *cfg, void (*queued)(void *),
    void *arg);
/*
 * The period ("2026-11-26", "2026-W48") of the frequency's digest if one is
 * due at now (Paris time past [digest] daily_at, and weekly_on for weekly),
 * written into period; NULL if none is due.
 */
const char *fanout_digest_due(const struct config *cfg, time_t now, const char *frequency,
    char *period, size_t size);
/* Stops it after the batch in hand. */
void fanout_stop(struct fanout *f);

#endif
