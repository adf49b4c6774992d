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

static void
command_of(struct intake_item *it, const char *text)
{
	switch (sms_command(text)) {
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

enum intake_result
ingest_sms_deliver(struct intake *in, const struct sms_in *sms)
{
	struct intake_item it, *ptr = &it;
	char phone[PHONE_E164_MAX];
	const char *why;
	char *text = sms_normalize(sms->text ? sms->text : "");
	char *key = dedup_key(sms);
	int known = phone_normalize(sms->from ? sms->from : "", phone, &why) == 0;

	memset(&it, 0, sizeof(it));
	it.source = "sms";
	it.via = sms->via;
	it.dedup_key = key;
	it.recipient = sms->to;
	it.sender = known ? phone : sms->from;
	it.subject = "";
	it.body = text;
	it.raw = sms->text;
	it.rawlen = strlen(sms->text ? sms->text : "");
	it.by_phone = 1;
	it.route.kind = ROUTE_HOME;
	if (known)
		command_of(&it, text);
	if (*text == '\0') {
		it.automatic = 1;	/* nothing to post, nothing to answer */
		it.automatic_why = "empty text";
	}
	ingest_intake_submit(in, &ptr, 1);
	log_info("sms_received", "via=%s from=%s result=%s disposition=%s", sms->via,
	    known ? log_phone(phone) : "(not a number)",
	    it.result == INTAKE_STORED ? "stored" : "tempfail",
	    it.result == INTAKE_STORED ? it.disposition : "-");
	free(text);
	free(key);
	return it.result == INTAKE_STORED ? INTAKE_STORED : INTAKE_TEMPFAIL;
}
