/*
 * sms.h — one inbound SMS, as a gateway delivered it, into the intake:
 * a command (STOP, START, AIDE), or a post in the sender's building.
 */
#ifndef PALIER_INGEST_SMS_H
#define PALIER_INGEST_SMS_H

#include <stddef.h>

#include "ingest/intake.h"

/* What the gateway said; every field borrowed. text is UTF-8 already. */
struct sms_in {
	const char	*via;		/* kannel, twilio */
	const char	*gateway_id;	/* the gateway's message id: the idempotency key; may be NULL */
	const char	*from;		/* as the gateway wrote it */
	const char	*to;
	const char	*text;
};

/* Stores it (or finds it stored already): INTAKE_STORED, or INTAKE_TEMPFAIL. */
enum intake_result ingest_sms_deliver(struct intake *in, const struct sms_in *sms);

#endif
