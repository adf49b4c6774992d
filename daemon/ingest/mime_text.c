/*
 * mime_text.c — charsets (libetpan's charconv over iconv), format=flowed,
 * HTML to text (libxml2's HTML parser, no network, errors ignored) and
 * RFC 2047 header words. Output is always valid UTF-8 without NUL or
 * control characters but \n and \t.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>
#include <libxml/HTMLparser.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "ingest/mime_text.h"

/* Drops NUL and control characters, makes CRLF and lone CR into LF. */
static char *
clean(const char *s, size_t n)
{
	struct buf b = BUF_INIT;

	buf_grow(&b, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				continue;
			c = '\n';
		}
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			continue;
		buf_putc(&b, (char)c);
	}
	return buf_take(&b);
}

static int
charset_is(const char *cs, const char *const *names)
{
	for (; *names; names++)
		if (strcasecmp(cs, *names) == 0)
			return 1;
	return 0;
}

char *
mime_text_utf8(const char *data, size_t n, const char *charset, const char **used)
{
	static const char *const utf8[] = { "utf-8", "utf8", "unicode-1-1-utf-8", NULL };
	static const char *const latin[] = { "us-ascii", "ascii", "iso-8859-1", "latin1",
		"iso_8859-1", "windows-1252", "cp1252", "x-user-defined", NULL };
	char *out = NULL, *conv = NULL;
	size_t outlen;

	if (charset && *charset && !charset_is(charset, utf8) && !charset_is(charset, latin) &&
	    charconv_buffer("utf-8", charset, data, n, &conv, &outlen) == MAIL_CHARCONV_NO_ERROR &&
	    utf8_valid(conv, outlen, NULL)) {
		out = clean(conv, outlen);
		*used = "declared";
	}
	if (conv)
		charconv_buffer_free(conv);
	if (out)
		return out;
	if (utf8_valid(data, n, NULL)) {
		*used = "utf-8";
		return clean(data, n);
	}
	if ((conv = utf8_from_cp1252(data, n, &outlen)) == NULL) {
		/* 0x81, 0x8d... undefined in 1252: read as ISO-8859-1, byte for byte. */
		struct buf b = BUF_INIT;

		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)data[i];

			if (c < 0x80) {
				buf_putc(&b, (char)c);
			} else {
				buf_putc(&b, (char)(0xc0 | c >> 6));
				buf_putc(&b, (char)(0x80 | (c & 0x3f)));
			}
		}
		outlen = b.len;
		conv = buf_take(&b);
	}
	*used = "windows-1252";
	out = clean(conv, outlen);
	free(conv);
	return out;
}

char *
mime_text_unflow(const char *text, int delsp)
{
	struct buf b = BUF_INIT;
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");
		const char *line = p;
		int soft;

		if (line[0] == ' ')	/* space-stuffing */
			line++, n--;
		/* A line ending in a space continues, except the signature separator. */
		soft = n > 0 && line[n - 1] == ' ' && !(n == 3 && memcmp(line, "-- ", 3) == 0) &&
		    line[0] != '>';
		buf_append(&b, line, soft && delsp ? n - 1 : n);
		p = line + n;
		if (*p == '\n') {
			p++;
			if (!soft)
				buf_putc(&b, '\n');
		}
	}
	return buf_take(&b);
}

/* ---- HTML ---- */

struct html_walk {
	struct buf	out;
	int		quote;		/* blockquote depth */
	int		space;		/* a space is pending */
	int		bol;		/* at the start of a line */
};

static void
html_newline(struct html_walk *w)
{
	/* Trailing spaces and runs of blank lines collapse. */
	while (w->out.len && w->out.data[w->out.len - 1] == ' ')
		w->out.len--;
	if (w->out.len >= 2 && w->out.data[w->out.len - 1] == '\n' &&
	    w->out.data[w->out.len - 2] == '\n')
		return;
	if (w->out.len)
		buf_putc(&w->out, '\n');
	w->bol = 1;
	w->space = 0;
}

static void
html_text(struct html_walk *w, const char *s)
{
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			w->space = !w->bol;
			continue;
		}
		if (w->bol) {
			for (int i = 0; i < w->quote; i++)
				buf_puts(&w->out, "> ");
			w->bol = 0;
		} else if (w->space) {
			buf_putc(&w->out, ' ');
		}
		w->space = 0;
		buf_putc(&w->out, *s);
	}
}

static int
is_block(const char *name)
{
	static const char *const blocks[] = {
		"p", "div", "table", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
		"pre", "hr", "section", "article", "header", "footer", "address", "li", "dl",
		"dt", "dd", "center", "form", "fieldset", NULL
	};

	for (const char *const *b = blocks; *b; b++)
		if (strcasecmp(name, *b) == 0)
			return 1;
	return 0;
}

/* The containers mail clients put a quoted original in. */
static int
is_quote(xmlNode *n)
{
	xmlChar *cls = xmlGetProp(n, (const xmlChar *)"class");
	int q = strcasecmp((const char *)n->name, "blockquote") == 0 ||
	    (cls && (strstr((const char *)cls, "gmail_quote") || strstr((const char *)cls, "yahoo_quoted")));

	/* Outlook's divRplyFwdMsg stays text: the reply trimmer reads its "De : ... Objet :". */
	xmlFree(cls);
	return q;
}

static void html_children(struct html_walk *w, xmlNode *n);

static void
html_node(struct html_walk *w, xmlNode *n)
{
	const char *name = (const char *)n->name;

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content)
			html_text(w, (const char *)n->content);
		return;
	}
	if (n->type != XML_ELEMENT_NODE || strcasecmp(name, "script") == 0 ||
	    strcasecmp(name, "style") == 0 || strcasecmp(name, "head") == 0 ||
	    strcasecmp(name, "title") == 0)
		return;
	if (strcasecmp(name, "br") == 0) {
		buf_putc(&w->out, '\n');
		w->bol = 1;
		w->space = 0;
		return;
	}
	if (is_quote(n)) {
		html_newline(w);
		w->quote++;
		html_children(w, n);
		w->quote--;
		html_newline(w);
		return;
	}
	if (is_block(name))
		html_newline(w);
	if (strcasecmp(name, "li") == 0)
		html_text(w, "- ");
	html_children(w, n);
	if (is_block(name))
		html_newline(w);
}

static void
html_children(struct html_walk *w, xmlNode *n)
{
	for (xmlNode *c = n->children; c; c = c->next)
		html_node(w, c);
}

char *
mime_text_from_html(const char *html, size_t n)
{
	struct html_walk w;
	htmlDocPtr doc;
	char *text;

	memset(&w, 0, sizeof(w));
	w.bol = 1;
	doc = htmlReadMemory(html, (int)n, NULL, "UTF-8", HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	    HTML_PARSE_NONET | HTML_PARSE_RECOVER);
	if (doc && xmlDocGetRootElement(doc))
		html_node(&w, xmlDocGetRootElement(doc));
	if (doc)
		xmlFreeDoc(doc);
	while (w.out.len && (w.out.data[w.out.len - 1] == '\n' || w.out.data[w.out.len - 1] == ' '))
		w.out.len--;
	buf_putc(&w.out, '\n');
	w.out.len--;
	w.out.data[w.out.len] = '\0';
	text = clean(buf_cstr(&w.out), w.out.len);
	buf_free(&w.out);
	return text;
}

char *
mime_text_header(const char *value)
{
	size_t idx = 0, n = strlen(value);
	char *decoded = NULL, *out;

	if (strstr(value, "=?") &&
	    mailmime_encoded_phrase_parse("windows-1252", value, n, &idx, "utf-8", &decoded) ==
	    MAILIMF_NO_ERROR && decoded && utf8_valid(decoded, strlen(decoded), NULL)) {
		out = clean(decoded, strlen(decoded));
		free(decoded);
	} else {
		const char *used;

		free(decoded);
		out = mime_text_utf8(value, n, NULL, &used);
	}
	/* A header is one line. */
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	return out;
}
