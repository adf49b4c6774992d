/*
 * poll_draft.h — a poll written by a publisher in an email: the subject
 * "Sondage : <question>", the options as numbered lines ("1. Oui",
 * "2) Non"), and optionally its end ("Fin : 15/12/2026 18h"). Pure.
 */
#ifndef PALIER_INGEST_POLL_DRAFT_H
#define PALIER_INGEST_POLL_DRAFT_H

#include "store/polls.h"

struct poll_draft {
	char		*question;
	char		*options[POLL_MAX_OPTIONS];
	int		 noptions;
	char		*closes;	/* "YYYY-MM-DD HH:MM" (Paris), or NULL: in 7 days */
	const char	*problem;	/* why it cannot be a poll (French, for the publisher), or NULL */
};

/* 1 when subject asks for a poll (d filled, maybe with a problem), else 0. */
int poll_draft_parse(const char *subject, const char *body, struct poll_draft *d);
void poll_draft_free(struct poll_draft *d);

#endif
