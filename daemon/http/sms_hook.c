/*
 * sms_hook.c — the inbound SMS webhooks. Kannel (GET or POST, from an
 * allowed address, with our secret when one is set; UCS-2 texts arrive as
 * raw UTF-16BE) and Twilio (form POST, X-Twilio-Signature checked against
 * the public URL). 200 only after commit, 503 when we could not commit:
 * the gateway then retries with the same message id. A handler only reads
 * the request into a job; the server waits for its commit (server.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/utf8.h"
#include "http/routes.h"
#include "http/twilio_sig.h"
#include "ingest/sms.h"

#define TEXT_MAX 8192	/* bytes of decoded text; a long SMS is ~1,600 */

/* UTF-16BE bytes to UTF-8; unpaired surrogates dropped. */
static char *
from_utf16be(const unsigned char *s, size_t n)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned cp = (unsigned)s[i] << 8 | s[i + 1];
		char enc[4];
		int len;

		if (cp >= 0xd800 && cp < 0xdc00 && i + 3 < n) {
			unsigned lo = (unsigned)s[i + 2] << 8 | s[i + 3];

			if (lo < 0xdc00 || lo > 0xdfff)
				continue;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		} else if (cp >= 0xd800 && cp <= 0xdfff) {
			continue;
		}
		if (cp < 0x80) {
			enc[0] = (char)cp;
			len = 1;
		} else if (cp < 0x800) {
			enc[0] = (char)(0xc0 | cp >> 6);
			enc[1] = (char)(0x80 | (cp & 0x3f));
			len = 2;
		} else if (cp < 0x10000) {
			enc[0] = (char)(0xe0 | cp >> 12);
			enc[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			enc[2] = (char)(0x80 | (cp & 0x3f));
			len = 3;
		} else {
			enc[0] = (char)(0xf0 | cp >> 18);
			enc[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			enc[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
			enc[3] = (char)(0x80 | (cp & 0x3f));
			len = 4;
		}
		buf_append(&b, enc, (size_t)len);
	}
	return buf_take(&b);
}

/* The text as UTF-8, whatever the gateway's charset said; NUL bytes dropped. */
static char *
text_utf8(const struct param *text, const struct param *coding, const struct param *charset)
{
	const char *cs = charset ? charset->value : "";
	size_t len = text->len, outlen;
	char *s;

	if (strcasecmp(cs, "UTF-16BE") == 0 || strcasecmp(cs, "UCS-2") == 0 ||
	    (coding && strcmp(coding->value, "2") == 0 && *cs == '\0'))
		return from_utf16be((const unsigned char *)text->value, len);
	if (utf8_valid(text->value, len, NULL) && strcasecmp(cs, "ISO-8859-1") != 0 &&
	    strcasecmp(cs, "WINDOWS-1252") != 0)
		s = xstrndup(text->value, len);
	else if ((s = utf8_from_cp1252(text->value, len, &outlen)) == NULL)
		s = xstrdup("");
	return s;	/* a NUL byte ends the text: nothing after it is read */
}

static int
allowed(const char *client, const char *allow)
{
	char *copy = xstrdup(allow), *save = NULL;
	int ok = 0;

	for (char *tok = strtok_r(copy, " ,\t", &save); tok && !ok; tok = strtok_r(NULL, " ,\t", &save))
		ok = strcmp(tok, client) == 0;
	free(copy);
	return ok;
}

static int
secret_ok(const char *want, const struct param *got)
{
	size_t n = strlen(want);

	if (n == 0)
		return 1;
	return got && got->len == n && CRYPTO_memcmp(want, got->value, n) == 0;
}

static void
reply(struct response *resp, int status, const char *text)
{
	resp->status = status;
	buf_puts(&resp->body, text);
}

/* Leaves the job for the server, which answers once it is committed. */
static void
deliver(struct sms_in *sms, struct response *resp, const char *ok_type, const char *ok_body)
{
	resp->job = ingest_sms_job(sms);
	resp->ok_type = ok_type;
	resp->ok_body = ok_body;
}

void
http_sms_answer(struct response *resp)
{
	if (ingest_sms_finish(resp->job) == INTAKE_STORED) {
		reply(resp, 200, resp->ok_body);
		resp->type = resp->ok_type;
	} else {
		reply(resp, 503, "cannot store the message now, try again later\n");
	}
	resp->job = NULL;
}

int
http_kannel_allowed(const struct http_ctx *ctx, const struct request *req)
{
	return allowed(req->client, ctx->opts.allow) &&
	    secret_ok(ctx->opts.webhook_secret, request_param(req, "secret"));
}

void
http_sms_kannel(struct http_ctx *ctx, const struct request *req, struct response *resp)
{
	const struct param *from = request_param(req, "from"), *text = request_param(req, "text");
	const struct param *id = request_param(req, "id");
	struct sms_in sms;
	char *utf8;

	if (!http_kannel_allowed(ctx, req)) {
		log_warn("sms_forbidden", "via=kannel client=%s", log_q(req->client));
		reply(resp, 403, "forbidden\n");
		return;
	}
	if (from == NULL || text == NULL || request_param_repeated(req, "text") ||
	    request_param_repeated(req, "from") || text->len > TEXT_MAX * 2) {
		reply(resp, 400, "needs one from and one text\n");
		return;
	}
	utf8 = text_utf8(text, request_param(req, "coding"), request_param(req, "charset"));
	memset(&sms, 0, sizeof(sms));
	sms.via = "kannel";
	sms.gateway_id = id ? id->value : NULL;
	sms.from = from->value;
	sms.to = request_param(req, "to") ? request_param(req, "to")->value : NULL;
	sms.text = utf8;
	deliver(&sms, resp, NULL, "");
	free(utf8);
}

/* The URL Twilio called: the public URL and the path (and query) it asked for. */
static char *
twilio_url(const struct http_ctx *ctx, const struct request *req)
{
	const char *base = ctx->opts.public_url;
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	return xasprintf("%.*s%s%s%s", (int)n, base, req->path, req->query ? "?" : "",
	    req->query ? req->query : "");
}

int
http_twilio_signed(const struct http_ctx *ctx, const struct request *req)
{
	const char **names = xcalloc(req->nparams + 1, sizeof(*names));
	const char **values = xcalloc(req->nparams + 1, sizeof(*values));
	char *url = twilio_url(ctx, req);
	size_t n = 0;
	int ok;

	/* Twilio signs the body's parameters; the query is part of the URL. */
	for (size_t i = req->nquery; i < req->nparams; i++, n++) {
		names[n] = req->params[i].name;
		values[n] = req->params[i].value;
	}
	ok = strcmp(req->method, "POST") == 0 && req->form_body && *ctx->opts.twilio_token &&
	    req->signature && twilio_signature_ok(ctx->opts.twilio_token, url, names, values,
	    n, req->signature);
	free(names);
	free(values);
	free(url);
	return ok;
}

void
http_sms_twilio(struct http_ctx *ctx, const struct request *req, struct response *resp)
{
	const struct param *from = request_param(req, "From"), *body = request_param(req, "Body");
	const struct param *sid = request_param(req, "MessageSid");
	struct sms_in sms;

	if (!http_twilio_signed(ctx, req)) {
		log_warn("sms_forbidden", "via=twilio client=%s", log_q(req->client));
		reply(resp, 403, "bad signature\n");
		return;
	}
	if (from == NULL || body == NULL || strlen(body->value) != body->len ||
	    !utf8_valid(body->value, body->len, NULL) || body->len > TEXT_MAX) {
		reply(resp, 400, "needs From and a UTF-8 Body\n");
		return;
	}
	memset(&sms, 0, sizeof(sms));
	sms.via = "twilio";
	sms.gateway_id = sid ? sid->value : NULL;
	sms.from = from->value;
	sms.to = request_param(req, "To") ? request_param(req, "To")->value : NULL;
	sms.text = body->value;
	deliver(&sms, resp, "text/xml",
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>\n");
}
