/*
 * mail.c — from raw bytes to intake items: MIME parse, loop signatures,
 * auto-replies, reply trimming, bounces, Authentication-Results (only
 * from the configured authserv-id), dedup keys. Never lets a message it
 * could not commit be answered 250.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "ingest/commands.h"
#include "ingest/mail.h"
#include "ingest/mime.h"
#include "ingest/reply.h"

#define BOUNCE_MAX 50

/* What every recipient's item shares. */
struct shared {
	struct mail	 m;
	char		*body;
	char		*attachments;
	char		*bounces;
	char		*content_hash;
	const char	**hnames, **hvalues;
	int		 automatic, unverified, verified;
	const char	*automatic_why;
};

static char *
sha256_hex(const char *data, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *hex = xmalloc(65);

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

static char *
attachments_json(const struct mail *m)
{
	json_t *arr;
	char *s;

	if (m->nattachments == 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < m->nattachments; i++)
		json_array_append_new(arr, json_pack("{s:s?, s:s, s:I}",
		    "filename", m->attachments[i].filename,
		    "type", m->attachments[i].type ? m->attachments[i].type : "application/octet-stream",
		    "size", (json_int_t)m->attachments[i].size));
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/* Failed recipients from a DSN, or from the text of a non-standard bounce. */
static char *
bounces_json(const struct mail *m)
{
	json_t *arr = json_array();
	char *addrs[BOUNCE_MAX], *s = NULL;
	int permanent[BOUNCE_MAX], n;

	for (size_t i = 0; i < m->ndsn; i++) {
		const struct mail_dsn *d = &m->dsn[i];

		if (d->recipient == NULL || d->action == NULL ||
		    (strcmp(d->action, "failed") != 0 && strcmp(d->action, "delayed") != 0))
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:b, s:s?, s:s?}",
		    "address", d->recipient, "permanent", strcmp(d->action, "failed") == 0,
		    "status", d->status, "diagnostic", d->diagnostic));
	}
	if (json_array_size(arr) == 0 && (n = ingest_reply_bounce_scan(m, addrs, permanent, BOUNCE_MAX)) > 0)
		for (int i = 0; i < n; i++) {
			json_array_append_new(arr, json_pack("{s:s, s:b}", "address", addrs[i],
			    "permanent", permanent[i]));
			free(addrs[i]);
		}
	if (json_array_size(arr))
		s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

/* Our own List-Id on an incoming message: something we sent came back. */
static int
own_list_id(const struct mail *m, const char *domain)
{
	const char *lid = mail_header(m, "List-Id");
	char *want;
	int ours;

	if (lid == NULL)
		return 0;
	want = xasprintf(".%s>", domain);
	ours = strcasestr(lid, want) != NULL;
	free(want);
	return ours;
}

/*
 * What the Authentication-Results fields from our trusted authserv-id say:
 * -1 the sender failed DMARC (or both SPF and DKIM), 1 it passed DMARC,
 * DKIM or SPF, 0 nothing trusted is said. Fields from anyone else are
 * ignored: senders can write them too.
 */
static int
auth_result(const struct mail *m, const char *authserv_id)
{
	int verdict = 0;

	size_t idlen = strlen(authserv_id);

	if (idlen == 0)
		return 0;
	for (size_t i = 0; i < m->nheaders; i++) {
		const char *v = m->headers[i].value;

		if (strcasecmp(m->headers[i].name, "Authentication-Results") != 0)
			continue;
		while (isspace((unsigned char)*v))
			v++;
		if (strncasecmp(v, authserv_id, idlen) != 0 ||
		    (v[idlen] != ';' && !isspace((unsigned char)v[idlen])))
			continue;
		if (strcasestr(v, "dmarc=fail") ||
		    (strcasestr(v, "spf=fail") && strcasestr(v, "dkim=fail")))
			return -1;
		if (strcasestr(v, "dmarc=pass") || strcasestr(v, "dkim=pass") || strcasestr(v, "spf=pass"))
			verdict = 1;
	}
	return verdict;
}

static void
shared_free(struct shared *sh)
{
	mail_free(&sh->m);
	free(sh->body);
	free(sh->attachments);
	free(sh->bounces);
	free(sh->content_hash);
	free(sh->hnames);
	free(sh->hvalues);
}

static void
shared_fill(struct shared *sh, const struct mail_env *env, const char *raw, size_t len)
{
	sh->body = ingest_reply_trim(sh->m.text ? sh->m.text : "");
	sh->attachments = attachments_json(&sh->m);
	sh->bounces = bounces_json(&sh->m);
	sh->automatic = ingest_reply_is_automatic(&sh->m, &sh->automatic_why);
	sh->unverified = auth_result(&sh->m, env->authserv_id) < 0;
	sh->verified = auth_result(&sh->m, env->authserv_id) > 0;
	if (sh->m.message_id == NULL)
		sh->content_hash = sha256_hex(raw, len);
	sh->hnames = xcalloc(sh->m.nheaders + 1, sizeof(*sh->hnames));
	sh->hvalues = xcalloc(sh->m.nheaders + 1, sizeof(*sh->hvalues));
	for (size_t i = 0; i < sh->m.nheaders; i++) {
		sh->hnames[i] = sh->m.headers[i].name;
		sh->hvalues[i] = sh->m.headers[i].value;
	}
}

static void
item_fill(struct intake_item *it, const struct shared *sh, const struct mail_env *env,
    const char *raw, size_t len, const char *envelope_from)
{
	memset(it, 0, sizeof(*it));
	it->source = "email";
	it->via = env->via;
	it->envelope_from = envelope_from;
	/* No From: the envelope sender is all we know. */
	it->sender = sh->m.from_addr ? sh->m.from_addr : envelope_from && *envelope_from ?
	    envelope_from : "";
	it->sender_name = sh->m.from_name;
	it->subject = sh->m.subject ? sh->m.subject : "";
	it->body = sh->body;
	it->raw = raw;
	it->rawlen = len;
	it->attachments_json = sh->attachments;
	it->header_names = sh->hnames;
	it->header_values = sh->hvalues;
	it->nheaders = sh->m.nheaders;
	it->automatic = sh->automatic;
	it->automatic_why = sh->automatic_why;
	it->unverified = sh->unverified;
	it->verified = sh->verified;
	it->bounce_json = sh->bounces;
}

static char *
reply_for(const struct intake_item *it, const char *rcpt)
{
	switch (it->result) {
	case INTAKE_STORED:
		if (it->inbound_id == 0)
			return xasprintf("250 2.0.0 <%s> already stored", rcpt);
		return xasprintf("250 2.0.0 <%s> stored as message %ld", rcpt, it->inbound_id);
	case INTAKE_REJECT:
		return xasprintf("550 5.1.1 <%s> no such address here", rcpt);
	default:
		return xasprintf("451 4.3.0 <%s> cannot store the message now, try again later", rcpt);
	}
}

size_t
ingest_mail_deliver(const struct mail_env *env, const char *raw, size_t len,
    const char *envelope_from, const char *const *rcpts, const struct route *routes,
    size_t nrcpt, char **replies)
{
	struct shared sh;
	struct intake_item *items = xcalloc(nrcpt, sizeof(*items));
	struct intake_item **ptrs = xcalloc(nrcpt, sizeof(*ptrs));
	char **keys = xcalloc(nrcpt, sizeof(*keys));
	char **mod_reason = xcalloc(nrcpt, sizeof(*mod_reason));
	const char *why = NULL;
	size_t stored = 0;

	memset(&sh, 0, sizeof(sh));
	if (ingest_mime_parse(raw, len, &sh.m, &why) < 0) {
		log_info("mail_refused", "reason=%s", log_q(why));
		for (size_t i = 0; i < nrcpt; i++)
			replies[i] = xasprintf("554 5.6.0 <%s> message refused: %s", rcpts[i], why);
		goto out;
	}
	if (sh.m.received_count > MAIL_MAX_RECEIVED || own_list_id(&sh.m, env->domain)) {
		log_info("mail_refused", "reason=loop received=%d", sh.m.received_count);
		for (size_t i = 0; i < nrcpt; i++)
			replies[i] = xasprintf("554 5.4.6 <%s> mail loop: refused", rcpts[i]);
		goto out;
	}
	shared_fill(&sh, env, raw, len);
	for (size_t i = 0; i < nrcpt; i++) {
		item_fill(&items[i], &sh, env, raw, len, envelope_from);
		items[i].recipient = rcpts[i];
		items[i].route = routes[i];
		if (routes[i].kind == ROUTE_HELP && !sh.automatic && !sh.unverified) {
			struct command c = ingest_command_email(sh.m.subject, sh.body);

			items[i].command = c.name;
			items[i].answer = c.answer;
		}
		if ((routes[i].kind == ROUTE_MODERATE || routes[i].kind == ROUTE_POLL) &&
		    !sh.automatic && !sh.unverified)
			ingest_command_moderation(sh.m.subject, sh.body, &items[i].mod_action,
			    &items[i].mod_trust, &mod_reason[i]);
		keys[i] = sh.m.message_id ? xasprintf("mid:%s|%s", sh.m.message_id, rcpts[i]) :
		    xasprintf("sha256:%s|%s", sh.content_hash, rcpts[i]);
		for (char *k = keys[i]; *k; k++)
			*k = (char)tolower((unsigned char)*k);
		items[i].dedup_key = keys[i];
		items[i].mod_reason = mod_reason[i];
		ptrs[i] = &items[i];
	}
	ingest_intake_submit(env->intake, ptrs, nrcpt);
	for (size_t i = 0; i < nrcpt; i++) {
		replies[i] = reply_for(&items[i], rcpts[i]);
		stored += items[i].result == INTAKE_STORED;
		if (items[i].result == INTAKE_STORED && items[i].inbound_id)
			log_info("mail_stored", "via=%s inbound=%ld disposition=%s status=%s",
			    env->via, items[i].inbound_id, items[i].disposition,
			    *items[i].status ? items[i].status : "-");
	}
out:
	for (size_t i = 0; i < nrcpt; i++) {
		free(keys[i]);
		free(mod_reason[i]);
	}
	free(keys);
	free(mod_reason);
	free(items);
	free(ptrs);
	shared_free(&sh);
	return stored;
}
