/*
 * send.h — palierd's deliver role: workers that claim outgoing messages,
 * render each for its resident (templates, tokens, headers) and hand them
 * to the email or SMS backend, then record what happened.
 */
#ifndef PALIER_FANOUT_SEND_H
#define PALIER_FANOUT_SEND_H

#include "core/config.h"
#include "core/secret.h"
#include "deliver/deliver.h"
#include "fanout/template.h"

struct sender_opts {
	const char		*url;		/* database */
	const char		*kind;		/* "email" or "sms" */
	int			 workers;
	const struct config	*cfg;		/* borrowed for the sender's life */
	const unsigned char	*key;		/* SECRET_LEN bytes, borrowed */
	const struct tpl_set	*templates;	/* borrowed */
	/* Makes a backend for one worker (each has its own). */
	struct deliver_backend	*(*backend_new)(const struct config *cfg, char **err);
};

struct sender;

struct sender *sender_start(const struct sender_opts *o, char **err);
/* Finishes the batches in hand, then stops. */
void sender_stop(struct sender *s);
/* Wakes its idle workers: messages were just queued. s may be NULL. */
void sender_kick(struct sender *s);

#endif
