/*
 * sms.c — an inbound SMS into the intake. The number is read into E.164
 * (a sender we can't read, like an alphanumeric one, is kept and never
 * answered); the text is normalised; STOP, START and AIDE are commands,
 * anything else a post in the sender's building. Never logs the text or a
 * whole number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/phone.h"
#include "ingest/sms.h"
#include "ingest/sms_words.h"

static char *
dedup_key(const struct sms_in *sms)
{
	unsigned char md[32];
	unsigned int n = 0;
	char *joined, hex[17];

	if (sms->gateway_id && *sms->gateway_id)
		return xasprintf("sms:%s:%s", sms->via, sms->gateway_id);
	/* No id: the same text from the same number to the same number is one message. */
	joined = xasprintf("%s\n%s\n%s", sms->from, sms->to ? sms->to : "", sms->text);
	EVP_Digest(joined, strlen(joined), md, &n, EVP_sha256(), NULL);
	free(joined);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return xasprintf("sms:%s:sha256:%s", sms->via, hex);
}

/* text: normalized */
static void
command_of(struct intake_item *it, const char *text)
{
	switch (sms_command_normalized(text)) {
	case SMS_CMD_STOP:
		it->command = "stop";
		it->answer = "sms-stop";
		break;
	case SMS_CMD_START:
		it->command = "start";
		it->answer = "sms-start";
		break;
	case SMS_CMD_HELP:
		it->command = "help";
		it->answer = "sms-help";
		break;
	default:
		break;
	}
}

/* One SMS on its way through the intake: the item and what it borrows. */
struct sms_job {
	struct intake_item it;
	char		 phone[PHONE_E164_MAX];
	int		 known;		/* the sender is a phone number */
	char		*from, *to, *raw, *text, *key;
};

struct sms_job *
ingest_sms_job(const struct sms_in *sms)
{
	struct sms_job *job = xcalloc(1, sizeof(*job));
	struct intake_item *it = &job->it;
	const char *why;

	job->from = xstrdup(sms->from ? sms->from : "");
	job->to = sms->to ? xstrdup(sms->to) : NULL;
	job->raw = xstrdup(sms->text ? sms->text : "");
	job->text = sms_normalize(job->raw);
	job->key = dedup_key(sms);
	job->known = phone_normalize(job->from, job->phone, &why) == 0;
	it->source = "sms";
	it->via = sms->via;
	it->dedup_key = job->key;
	it->recipient = job->to;
	it->sender = job->known ? job->phone : job->from;
	it->subject = "";
	it->body = job->text;
	it->raw = job->raw;
	it->rawlen = strlen(job->raw);
	it->by_phone = 1;
	it->route.kind = ROUTE_HOME;
	if (job->known)
		command_of(it, job->text);
	if (*job->text == '\0') {
		it->automatic = 1;	/* nothing to post, nothing to answer */
		it->automatic_why = "empty text";
	}
	return job;
}

void
ingest_sms_submit(struct intake *in, struct sms_job *job, void (*done)(void *), void *arg)
{
	ingest_intake_submit_async(in, &job->it, done, arg);
}

enum intake_result
ingest_sms_finish(struct sms_job *job)
{
	enum intake_result r = job->it.result == INTAKE_STORED ? INTAKE_STORED : INTAKE_TEMPFAIL;

	log_info("sms_received", "via=%s from=%s result=%s disposition=%s", job->it.via,
	    job->known ? log_phone(job->phone) : "(not a number)",
	    r == INTAKE_STORED ? "stored" : "tempfail", r == INTAKE_STORED ? job->it.disposition : "-");
	free(job->from);
	free(job->to);
	free(job->raw);
	free(job->text);
	free(job->key);
	free(job);
	return r;
}
