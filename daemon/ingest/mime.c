/*
 * mime.c — an internet message understood with libetpan: the header
 * fields (unfolded, RFC 2047 decoded), the From addr-spec, the text the
 * sender wrote (text/plain preferred, else HTML made text), attachments as
 * metadata only (a filename is never a path), delivery status
 * notifications. Bounded before libetpan's recursive parser ever runs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "ingest/mime.h"
#include "ingest/mime_text.h"

/* What the walk keeps while it looks for the body. */
struct walk {
	struct mail	*m;
	const char	*plain;		/* the first text/plain body part, decoded */
	char		*plain_buf, *html_buf;
	size_t		 plain_len, html_len;
	const char	*plain_cs, *html_cs;
	int		 flowed, delsp;
	char		*report;	/* a message/delivery-status part's text */
};

/* ---- header fields ---- */

static void
header_add(struct mail *m, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct buf v = BUF_INIT;
	char *raw;

	/* Unfold: CRLF followed by white space is white space. */
	for (size_t i = 0; i < vlen; i++) {
		if (value[i] == '\r' || value[i] == '\n')
			continue;
		buf_putc(&v, value[i]);
	}
	raw = buf_take(&v);
	m->headers = xreallocarray(m->headers, m->nheaders + 1, sizeof(*m->headers));
	m->headers[m->nheaders].name = xstrndup(name, nlen);
	m->headers[m->nheaders].value = mime_text_header(raw + strspn(raw, " \t"));
	m->nheaders++;
	free(raw);
}

/* Reads the header section; returns the offset of the body, or -1 if there is no header. */
static long
headers_read(struct mail *m, const char *raw, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start = i, colon, end;

		if (raw[i] == '\n' || (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n'))
			return (long)(i + (raw[i] == '\r' ? 2 : 1));
		for (colon = i; colon < len && raw[colon] != ':' && raw[colon] != '\n'; colon++)
			;
		for (end = colon; end < len; end++)
			if (raw[end] == '\n' && (end + 1 >= len || (raw[end + 1] != ' ' && raw[end + 1] != '\t')))
				break;
		if (colon < len && raw[colon] == ':' && colon > start)
			header_add(m, raw + start, colon - start, raw + colon + 1, end - colon - 1);
		else if (m->nheaders == 0)
			return -1;	/* not a header line at the start: not a message */
		i = end + 1;
	}
	return m->nheaders ? (long)len : -1;
}

const char *
mail_header(const struct mail *m, const char *name)
{
	for (size_t i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	return NULL;
}

/* The raw value of a field, for the parsers that need it undecoded. */
static char *
raw_field(const char *raw, size_t len, long body, const char *name)
{
	size_t n = strlen(name);

	for (long i = 0; i < body; ) {
		const char *line = raw + i;
		const char *nl = memchr(line, '\n', (size_t)(body - i));
		long next = nl ? (long)(nl - raw) + 1 : body;

		if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
			long end = next;

			while (end < body && (raw[end] == ' ' || raw[end] == '\t')) {
				const char *nl2 = memchr(raw + end, '\n', (size_t)(body - end));

				end = nl2 ? (long)(nl2 - raw) + 1 : body;
			}
			return xstrndup(line + n + 1, (size_t)(end - i) - n - 1);
		}
		i = next;
	}
	(void)len;
	return NULL;
}

/* The first addr-spec of a From field, and its display name. */
static void
from_read(struct mail *m, const char *field)
{
	struct mailimf_mailbox_list *list = NULL;
	size_t idx = 0;

	if (field == NULL)
		return;
	if (mailimf_mailbox_list_parse(field, strlen(field), &idx, &list) == MAILIMF_NO_ERROR &&
	    list && clist_begin(list->mb_list)) {
		struct mailimf_mailbox *mb = clist_content(clist_begin(list->mb_list));

		if (mb->mb_addr_spec && strchr(mb->mb_addr_spec, '@')) {
			char *at;

			m->from_addr = xstrdup(mb->mb_addr_spec);
			for (at = strrchr(m->from_addr, '@'); *at; at++)
				*at = (char)tolower((unsigned char)*at);
		}
		if (mb->mb_display_name)
			m->from_name = mime_text_header(mb->mb_display_name);
	}
	if (list)
		mailimf_mailbox_list_free(list);
}

/* A msg-id without its angle brackets or spaces: the first one in field. */
static char *
msgid_read(const char *field)
{
	const char *lt, *gt;

	if (field == NULL)
		return NULL;
	if ((lt = strchr(field, '<')) != NULL && (gt = strchr(lt, '>')) != NULL && gt > lt + 1)
		return xstrndup(lt + 1, (size_t)(gt - lt - 1));
	field += strspn(field, " \t\r\n");
	return *field ? xstrndup(field, strcspn(field, " \t\r\n")) : NULL;
}

/* ---- the parts ---- */

/* Counts what could nest before libetpan's recursive parser sees it. */
static size_t
nesting_bound(const char *raw, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i + 10 <= len; i++)
		if ((raw[i] == 'm' || raw[i] == 'M') &&
		    (strncasecmp(raw + i, "multipart/", 10) == 0 ||
		    (i + 14 <= len && strncasecmp(raw + i, "message/rfc822", 14) == 0)))
			n++;
	return n;
}

static char *
lower_type(const struct mailmime_content *ct)
{
	const char *type = "application";

	if (ct == NULL)
		return xstrdup("text/plain");
	if (ct->ct_type && ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		static const char *const names[] = { "error", "text", "image", "audio", "video",
			"application", NULL };
		const struct mailmime_discrete_type *d = ct->ct_type->tp_data.tp_discrete_type;

		type = d->dt_type == MAILMIME_DISCRETE_TYPE_EXTENSION ? d->dt_extension :
		    names[d->dt_type < 6 ? d->dt_type : 0];
	} else if (ct->ct_type) {
		const struct mailmime_composite_type *c = ct->ct_type->tp_data.tp_composite_type;

		type = c->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE ? "message" :
		    c->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART ? "multipart" : c->ct_token;
	}
	{
		char *s = xasprintf("%s/%s", type ? type : "application", ct->ct_subtype ? ct->ct_subtype : "");

		for (char *p = s; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		return s;
	}
}

static const char *
ct_param(const struct mailmime_content *ct, const char *name)
{
	clistiter *it;

	if (ct == NULL || ct->ct_parameters == NULL)
		return NULL;
	for (it = clist_begin(ct->ct_parameters); it; it = clist_next(it)) {
		struct mailmime_parameter *p = clist_content(it);

		if (p->pa_name && strcasecmp(p->pa_name, name) == 0)
			return p->pa_value;
	}
	return NULL;
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void
pct_append(struct buf *b, const char *p)
{
	for (; *p; p++) {
		int hi, lo;

		if (*p == '%' && (hi = hexval((unsigned char)p[1])) >= 0 &&
		    (lo = hexval((unsigned char)p[2])) >= 0) {
			buf_putc(b, (char)(hi << 4 | lo));
			p += 2;
		} else {
			buf_putc(b, *p);
		}
	}
}

static long
param_find(const char *const *names, size_t n, const char *name, const char *suffix)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncasecmp(names[i], name, nlen) == 0 && strcasecmp(names[i] + nlen, suffix) == 0)
			return (long)i;
	return -1;
}

/* charset'language'value: the charset (newly allocated) and where the value starts. */
static const char *
split_charset(const char *v, char **charset)
{
	const char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;

	if (q2 == NULL)
		return v;
	free(*charset);
	*charset = xstrndup(v, (size_t)(q1 - v));
	return q2 + 1;
}

/* A parameter by RFC 2231 (name*, or name*0*, name*1...) or plain, from a list of pairs. */
static char *
param_2231(const char *const *names, const char *const *values, size_t n, const char *name)
{
	struct buf b = BUF_INIT;
	char *charset = NULL, *out = NULL, suffix[16];
	const char *used;
	long i;
	int found = 0;

	if ((i = param_find(names, n, name, "*")) >= 0) {
		pct_append(&b, split_charset(values[i], &charset));
		found = 1;
	} else {
		for (int k = 0; k < 100; k++) {
			snprintf(suffix, sizeof(suffix), "*%d*", k);
			if ((i = param_find(names, n, name, suffix)) >= 0) {
				pct_append(&b, k == 0 ? split_charset(values[i], &charset) : values[i]);
			} else {
				snprintf(suffix, sizeof(suffix), "*%d", k);
				if ((i = param_find(names, n, name, suffix)) < 0)
					break;
				buf_puts(&b, values[i]);
			}
			found = 1;
		}
	}
	if (found)
		out = mime_text_utf8(buf_cstr(&b), b.len, charset, &used);
	else if ((i = param_find(names, n, name, "")) >= 0)
		out = mime_text_header(values[i]);
	free(charset);
	buf_free(&b);
	return out;
}

/* A part's filename: Content-Disposition's, else Content-Type's name (RFC 2231 or 2047). */
static char *
part_filename(const struct mailmime *mime)
{
	const char *names[64], *values[64];
	size_t n = 0;
	char *name = NULL;
	clistiter *it;

	if (mime->mm_mime_fields)
		for (it = clist_begin(mime->mm_mime_fields->fld_list); it && n < 64; it = clist_next(it)) {
			struct mailmime_field *f = clist_content(it);
			clistiter *pi;

			if (f->fld_type != MAILMIME_FIELD_DISPOSITION || f->fld_data.fld_disposition == NULL)
				continue;
			for (pi = clist_begin(f->fld_data.fld_disposition->dsp_parms); pi && n < 64; pi = clist_next(pi)) {
				struct mailmime_disposition_parm *p = clist_content(pi);

				if (p->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME) {
					names[n] = "filename";
					values[n++] = p->pa_data.pa_filename;
				} else if (p->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER) {
					names[n] = p->pa_data.pa_parameter->pa_name;
					values[n++] = p->pa_data.pa_parameter->pa_value;
				}
			}
		}
	if ((name = param_2231(names, values, n, "filename")) != NULL)
		return name;
	n = 0;
	if (mime->mm_content_type && mime->mm_content_type->ct_parameters)
		for (it = clist_begin(mime->mm_content_type->ct_parameters); it && n < 64; it = clist_next(it)) {
			struct mailmime_parameter *p = clist_content(it);

			names[n] = p->pa_name;
			values[n++] = p->pa_value;
		}
	return param_2231(names, values, n, "name");
}

static int
is_attachment(const struct mailmime *mime)
{
	clistiter *it;

	if (mime->mm_mime_fields == NULL)
		return 0;
	for (it = clist_begin(mime->mm_mime_fields->fld_list); it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);

		if (f->fld_type == MAILMIME_FIELD_DISPOSITION && f->fld_data.fld_disposition &&
		    f->fld_data.fld_disposition->dsp_type->dsp_type == MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return 1;
	}
	return 0;
}

static int
part_encoding(const struct mailmime *mime)
{
	clistiter *it;

	if (mime->mm_mime_fields == NULL)
		return MAILMIME_MECHANISM_8BIT;
	for (it = clist_begin(mime->mm_mime_fields->fld_list); it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);

		if (f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING && f->fld_data.fld_encoding)
			return f->fld_data.fld_encoding->enc_type;
	}
	return MAILMIME_MECHANISM_8BIT;
}

/* The decoded bytes of a single part (newly allocated, *n set). */
static char *
part_bytes(const struct mailmime *mime, size_t *n)
{
	const struct mailmime_data *d = mime->mm_data.mm_single;
	char *dec = NULL, *copy;
	size_t idx = 0, len = 0;
	int enc = part_encoding(mime);

	*n = 0;
	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return xstrdup("");
	if (enc != MAILMIME_MECHANISM_BASE64 && enc != MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		*n = d->dt_data.dt_text.dt_length;
		return xstrndup(d->dt_data.dt_text.dt_data, *n);	/* NULs end it: text only */
	}
	if (mailmime_part_parse(d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length, &idx,
	    enc, &dec, &len) != MAILIMF_NO_ERROR || dec == NULL)
		return xstrdup("");
	copy = xmalloc(len + 1);
	memcpy(copy, dec, len);
	copy[len] = '\0';
	*n = len;
	mailmime_decoded_part_free(dec);
	return copy;
}

static void
attachment_add(struct mail *m, const struct mailmime *mime, const char *type)
{
	struct mail_attachment *a;
	size_t n;
	char *bytes = part_bytes(mime, &n);

	free(bytes);
	m->attachments = xreallocarray(m->attachments, m->nattachments + 1, sizeof(*m->attachments));
	a = &m->attachments[m->nattachments++];
	a->filename = part_filename(mime);
	a->type = xstrdup(type);
	a->size = mime->mm_type == MAILMIME_SINGLE ? n : mime->mm_length;
}

static void
text_part(struct walk *w, const struct mailmime *mime, const char *type)
{
	const struct mailmime_content *ct = mime->mm_content_type;
	size_t n;
	char *bytes = part_bytes(mime, &n);

	if (strcmp(type, "text/plain") == 0 && w->plain_buf == NULL) {
		const char *fmt = ct_param(ct, "format"), *delsp = ct_param(ct, "delsp");

		w->plain_buf = bytes;
		w->plain_len = n;
		w->plain_cs = ct_param(ct, "charset");
		w->flowed = fmt && strcasecmp(fmt, "flowed") == 0;
		w->delsp = delsp && strcasecmp(delsp, "yes") == 0;
	} else if (strcmp(type, "text/html") == 0 && w->html_buf == NULL) {
		w->html_buf = bytes;
		w->html_len = n;
		w->html_cs = ct_param(ct, "charset");
	} else {
		free(bytes);
		attachment_add(w->m, mime, type);
	}
}

static int
walk(struct walk *w, const struct mailmime *mime, int depth, int attached, const char **why)
{
	char *type;
	int rc = 0;

	if (depth > MIME_MAX_DEPTH) {
		*why = "too deeply nested";
		return -1;
	}
	if (++w->m->nparts > MIME_MAX_PARTS) {
		*why = "too many parts";
		return -1;
	}
	type = lower_type(mime->mm_content_type);
	if (mime->mm_type == MAILMIME_MULTIPLE) {
		const char *rt = ct_param(mime->mm_content_type, "report-type");
		clistiter *it;

		if (strcmp(type, "multipart/report") == 0 && rt && strcasecmp(rt, "delivery-status") == 0)
			w->m->is_dsn = 1;
		for (it = clist_begin(mime->mm_data.mm_multipart.mm_mp_list); it && rc == 0; it = clist_next(it))
			rc = walk(w, clist_content(it), depth + 1, attached, why);
	} else if (mime->mm_type == MAILMIME_MESSAGE) {
		/* A forwarded message is an attachment: its text is not the sender's. */
		if (depth > 0)
			attachment_add(w->m, mime, type);
		if (mime->mm_data.mm_message.mm_msg_mime)
			rc = walk(w, mime->mm_data.mm_message.mm_msg_mime, depth + 1, depth > 0 || attached, why);
	} else if (strcmp(type, "message/delivery-status") == 0 ||
	    strcmp(type, "message/global-delivery-status") == 0) {
		size_t n;

		free(w->report);
		w->report = part_bytes(mime, &n);
	} else if (!attached && !is_attachment(mime) && strncmp(type, "text/", 5) == 0 &&
	    (strcmp(type, "text/plain") == 0 || strcmp(type, "text/html") == 0)) {
		text_part(w, mime, type);
	} else if (!attached) {
		attachment_add(w->m, mime, type);
	}
	free(type);
	return rc;
}

/* ---- delivery status notifications (RFC 3464) ---- */

/* The value of "Name:" in a block of unfolded lines, trimmed (newly allocated), or NULL. */
static char *
dsn_field(const char *block, const char *name)
{
	size_t n = strlen(name);
	const char *p = block;

	while (*p) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			size_t len = strcspn(v, "\n");

			while (*v == ' ' || *v == '\t')
				v++, len--;
			while (len && (v[len - 1] == ' ' || v[len - 1] == '\r'))
				len--;
			return xstrndup(v, len);
		}
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return NULL;
}

/* "rfc822; <bob@example.fr>" -> "bob@example.fr", lower case. */
static char *
dsn_address(char *v)
{
	char *a, *semi;

	if (v == NULL)
		return NULL;
	semi = strchr(v, ';');
	a = semi ? semi + 1 : v;
	a += strspn(a, " <");
	a[strcspn(a, "> ")] = '\0';
	a = *a && strchr(a, '@') ? xstrdup(a) : NULL;
	for (char *p = a; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	free(v);
	return a;
}

static void
dsn_block(struct mail *m, const char *block)
{
	char *rcpt = dsn_address(dsn_field(block, "Final-Recipient"));
	struct mail_dsn *d;

	if (rcpt == NULL)
		rcpt = dsn_address(dsn_field(block, "Original-Recipient"));
	if (rcpt == NULL)
		return;
	m->dsn = xreallocarray(m->dsn, m->ndsn + 1, sizeof(*m->dsn));
	d = &m->dsn[m->ndsn++];
	d->recipient = rcpt;
	d->action = dsn_field(block, "Action");
	for (char *p = d->action; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	d->status = dsn_field(block, "Status");
	d->diagnostic = dsn_field(block, "Diagnostic-Code");
}

/* Splits the report in blocks at blank lines, unfolding each. */
static void
dsn_parse(struct mail *m, const char *report)
{
	struct buf block = BUF_INIT;
	const char *p = report;

	while (*p && m->ndsn < 1000) {
		size_t n = strcspn(p, "\n");
		int blank = p[strspn(p, " \t\r")] == '\n' || p[strspn(p, " \t\r")] == '\0';

		if (blank) {
			dsn_block(m, buf_cstr(&block));
			buf_reset(&block);
		} else if ((*p == ' ' || *p == '\t') && block.len) {
			block.len--;		/* a continuation: drop the newline */
			buf_putc(&block, ' ');
			buf_append(&block, p + strspn(p, " \t"), n - strspn(p, " \t"));
			buf_putc(&block, '\n');
		} else {
			buf_append(&block, p, n);
			buf_putc(&block, '\n');
		}
		p += n + (p[n] == '\n');
	}
	dsn_block(m, buf_cstr(&block));
	buf_free(&block);
}

/* ---- the whole message ---- */

static void
body_choose(struct walk *w)
{
	struct mail *m = w->m;
	const char *used = "utf-8";

	if (w->plain_buf) {
		char *text = mime_text_utf8(w->plain_buf, w->plain_len, w->plain_cs, &used);

		m->text = w->flowed ? mime_text_unflow(text, w->delsp) : xstrdup(text);
		free(text);
	} else if (w->html_buf) {
		char *html = mime_text_utf8(w->html_buf, w->html_len, w->html_cs, &used);

		m->text = mime_text_from_html(html, strlen(html));
		m->text_from_html = 1;
		free(html);
	} else {
		m->text = xstrdup("");
	}
	if (strcmp(used, "declared") == 0)
		used = w->plain_buf ? w->plain_cs : w->html_cs;
	m->charset_used = xstrdup(used ? used : "utf-8");
	for (char *p = m->charset_used; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static void
fields_read(struct mail *m, const char *raw, size_t len, long body)
{
	char *from = raw_field(raw, len, body, "From");
	char *mid = raw_field(raw, len, body, "Message-ID");
	char *irt = raw_field(raw, len, body, "In-Reply-To");

	from_read(m, from);
	m->message_id = msgid_read(mid);
	m->in_reply_to = msgid_read(irt);
	m->subject = mail_header(m, "Subject") ? xstrdup(mail_header(m, "Subject")) : NULL;
	for (size_t i = 0; i < m->nheaders; i++)
		m->received_count += strcasecmp(m->headers[i].name, "Received") == 0;
	free(from);
	free(mid);
	free(irt);
}

int
ingest_mime_parse(const char *raw, size_t len, struct mail *out, const char **why)
{
	struct walk w;
	struct mailmime *mime = NULL;
	size_t idx = 0;
	long body;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.m = out;
	if (len == 0 || (body = headers_read(out, raw, len)) < 0) {
		*why = "no header";
		return -1;
	}
	fields_read(out, raw, len, body);
	/* libetpan parses nested parts recursively: bound the nesting first. */
	if (nesting_bound(raw, len) > 3 * MIME_MAX_DEPTH) {
		*why = "too deeply nested";
		return -1;
	}
	if (mailmime_parse(raw, len, &idx, &mime) == MAILIMF_NO_ERROR && mime)
		rc = walk(&w, mime, 0, 0, why);
	if (rc == 0) {
		body_choose(&w);
		if (w.report)
			dsn_parse(out, w.report);
		else if (out->is_dsn)
			dsn_parse(out, out->text);
	}
	if (mime)
		mailmime_free(mime);
	free(w.plain_buf);
	free(w.html_buf);
	free(w.report);
	return rc;
}

void
mail_free(struct mail *m)
{
	for (size_t i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	for (size_t i = 0; i < m->nattachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].type);
	}
	for (size_t i = 0; i < m->ndsn; i++) {
		free(m->dsn[i].recipient);
		free(m->dsn[i].action);
		free(m->dsn[i].status);
		free(m->dsn[i].diagnostic);
	}
	free(m->headers);
	free(m->from_addr);
	free(m->from_name);
	free(m->subject);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->text);
	free(m->charset_used);
	free(m->attachments);
	free(m->dsn);
	memset(m, 0, sizeof(*m));
}
