/*
 * sms.h — one inbound SMS, as a gateway delivered it, into the intake:
 * a command (STOP, START, AIDE), or a post in the sender's building.
 * Asynchronous: the webhook's thread serves other connections meanwhile.
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

struct sms_job;

/* Reads it into a job (what it needs is copied). */
struct sms_job *ingest_sms_job(const struct sms_in *sms);
/*
 * Queues the job to be stored (or found stored already) and returns:
 * done(arg) is called from the intake's writer once it has its result.
 */
void ingest_sms_submit(struct intake *in, struct sms_job *job, void (*done)(void *), void *arg);
/* Logs the job's outcome and frees it: INTAKE_STORED, or INTAKE_TEMPFAIL. */
enum intake_result ingest_sms_finish(struct sms_job *job);

#endif
