/*
 * fanout.h — palierd's fanout role: published posts and bulletins become
 * outgoing messages for every resident in scope; digests are built when due.
 */
#ifndef PALIER_FANOUT_FANOUT_H
#define PALIER_FANOUT_FANOUT_H

struct fanout;

/* Starts the fan-out thread; it connects to url as needed. */
struct fanout *fanout_start(const char *url);
/* Stops it after the batch in hand. */
void fanout_stop(struct fanout *f);

#endif
