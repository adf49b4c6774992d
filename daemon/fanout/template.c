/*
 * template.c — parses a template once into a flat list of nodes, renders it
 * many times over jansson data with the escaping of its context, and loads
 * and checks a directory of templates. Owns parsed templates and sets;
 * never keeps the data it renders, never writes data unescaped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "fanout/template.h"

#define TPL_MAX_SIZE	(1024 * 1024)		/* bytes of template text */
#define TPL_MAX_DEPTH	32			/* nested sections */
#define TPL_MAX_NAME	128			/* bytes in a name */
#define TPL_MAX_OUTPUT	(8 * 1024 * 1024)	/* bytes of one rendering */

enum op { OP_TEXT, OP_VAR, OP_SECTION, OP_INVERTED };
enum special { SP_NONE, SP_DOT, SP_INDEX, SP_FIRST, SP_LAST };

struct node {
	enum op		 op;
	enum special	 sp;
	unsigned	 line;
	size_t		 end;		/* sections: index of the node after the body */
	const char	*text;		/* OP_TEXT: borrowed from the template's src */
	size_t		 len;
	char		*name;		/* as written, trimmed; owned */
	struct seg {
		const char	*s;	/* into name */
		size_t		 len;
	}		*seg;		/* the parts of a dotted name; owned array */
	size_t		 nseg;
};

struct tpl {
	enum tpl_context	 ctx;
	char			*src;	/* the text, CRLF made LF; owned */
	struct node		*nodes;
	size_t			 n, cap;
};

/* ------------------------------------------------------------------ */
/* Output: the escaping of each context.                               */
/* ------------------------------------------------------------------ */

/* What a byte is, before the context decides what to do with it. */
enum kind { K_PLAIN, K_SP, K_TAB, K_NL, K_CR, K_CTL, K_HTML, K_HIGH };

#define C16	K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, \
		K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, K_CTL
#define P16	K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, \
		K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN
#define H16	K_HIGH, K_HIGH, K_HIGH, K_HIGH, K_HIGH, K_HIGH, K_HIGH, K_HIGH, \
		K_HIGH, K_HIGH, K_HIGH, K_HIGH, K_HIGH, K_HIGH, K_HIGH, K_HIGH

static const unsigned char kinds[256] = {
	/* 0x00 */ K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, K_CTL, K_CTL,
		   K_CTL, K_TAB, K_NL, K_CTL, K_CTL, K_CR, K_CTL, K_CTL,
	/* 0x10 */ C16,
	/* 0x20 */ K_SP, K_PLAIN, K_HTML, K_PLAIN, K_PLAIN, K_PLAIN, K_HTML, K_HTML,
		   K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN,
	/* 0x30 */ K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN,
		   K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_HTML, K_PLAIN, K_HTML, K_PLAIN,
	/* 0x40 */ P16, P16, P16,
	/* 0x70 */ K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN,
		   K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_PLAIN, K_CTL,
	/* 0x80 */ H16, H16, H16, H16, H16, H16, H16, H16,
};

#define KB(k)	(1u << (k))

/* The kinds each context copies as they are; the rest go to put_special. */
static const unsigned copy_kinds[] = {
	[TPL_TEXT]	= KB(K_PLAIN) | KB(K_SP) | KB(K_TAB) | KB(K_NL) | KB(K_HTML),
	[TPL_HTML]	= KB(K_PLAIN) | KB(K_SP) | KB(K_TAB),
	[TPL_HEADER]	= KB(K_PLAIN) | KB(K_HTML),
	[TPL_SMS]	= KB(K_PLAIN) | KB(K_HTML),
	[TPL_PAGE]	= KB(K_PLAIN) | KB(K_SP) | KB(K_TAB),
};

enum owed { OWE_NONE, OWE_SPACE, OWE_NEWLINE };

/*
 * The output of one rendering. out_text writes straight into space it
 * reserved in the buffer (at most ESC_MAX bytes out for a byte in, a chunk
 * at a time): no call per character, no call per run.
 */
#define ESC_MAX		6		/* "&quot;" */
#define ESC_CHUNK	4096

struct out {
	struct buf		*b;
	enum tpl_context	 ctx;
	enum owed		 owed;		/* header, SMS: white space not yet written */
	int			 started;	/* header, SMS: something written */
};

static int
collapses(enum tpl_context ctx)
{
	return ctx == TPL_HEADER || ctx == TPL_SMS;
}

/* Writes the white space owed, if any, before text at w. */
static char *
put_owed(struct out *o, char *w)
{
	if (o->owed != OWE_NONE) {
		if (o->started)
			*w++ = o->owed == OWE_NEWLINE ? '\n' : ' ';
		o->owed = OWE_NONE;
	}
	o->started = 1;
	return w;
}

static char *
put(struct out *o, char *w, const void *s, size_t n)
{
	w = put_owed(o, w);
	memcpy(w, s, n);
	return w + n;
}

/* White space in a collapsing context: owed, written before the next text. */
static void
owe(struct out *o, enum owed w)
{
	if (w > o->owed)
		o->owed = w;
}

/* A code point of 3 bytes that is white space (for collapsing contexts). */
static int
wide_space(unsigned cp)
{
	return cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f ||
	    cp == 0x205f || cp == 0x3000;
}

/* A byte of 0x80 or more: U+FFFD for bad UTF-8, C1 controls and BOMs dropped. */
static size_t
put_high(struct out *o, char **w, const unsigned char *p, const unsigned char *end)
{
	size_t n = utf8_seq(p, end);
	unsigned cp;

	if (n == 0) {
		*w = put(o, *w, "\xef\xbf\xbd", 3);
		return 1;
	}
	if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return n;
	if (n == 2 && p[0] == 0xc2 && p[1] == 0xa0 && collapses(o->ctx)) {
		owe(o, OWE_SPACE);
		return n;
	}
	if (n == 3) {
		cp = (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
		if (cp == 0xfeff)
			return n;
		if (collapses(o->ctx) && (cp == 0x2028 || cp == 0x2029)) {
			owe(o, o->ctx == TPL_SMS ? OWE_NEWLINE : OWE_SPACE);
			return n;
		}
		if (collapses(o->ctx) && wide_space(cp)) {
			owe(o, OWE_SPACE);
			return n;
		}
	}
	*w = put(o, *w, p, n);
	return n;
}

static char *
put_entity(struct out *o, char *w, unsigned char c)
{
	switch (c) {
	case '&':	return put(o, w, "&amp;", 5);
	case '<':	return put(o, w, "&lt;", 4);
	case '>':	return put(o, w, "&gt;", 4);
	case '"':	return put(o, w, "&quot;", 6);
	default:	return put(o, w, "&#39;", 5);
	}
}

/* A byte the context does not copy as it is; returns the bytes consumed. */
static size_t
put_special(struct out *o, char **w, const unsigned char *p, const unsigned char *end)
{
	switch (kinds[*p]) {
	case K_HIGH:
		return put_high(o, w, p, end);
	case K_HTML:
		*w = put_entity(o, *w, *p);
		return 1;
	case K_NL:
		if (o->ctx == TPL_HTML || o->ctx == TPL_PAGE)
			*w = put(o, *w, "<br>\n", 5);
		else
			owe(o, o->ctx == TPL_SMS ? OWE_NEWLINE : OWE_SPACE);
		return 1;
	case K_SP:
	case K_TAB:
		owe(o, OWE_SPACE);
		return 1;
	case K_CR:
		if (collapses(o->ctx))
			owe(o, OWE_SPACE);	/* text and HTML drop it */
		return 1;
	default:
		return 1;	/* a control character: dropped */
	}
}

/* Text from data (or, in collapsing contexts, the template's own text). */
static void
out_text(struct out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	unsigned copy = copy_kinds[o->ctx];

	while (p < end) {
		size_t chunk = (size_t)(end - p) < ESC_CHUNK ? (size_t)(end - p) : ESC_CHUNK;
		const unsigned char *stop = p + chunk;
		char *w;

		/* A sequence begun before stop may end 3 bytes after it. */
		buf_grow(o->b, (chunk + 4) * ESC_MAX + 1);
		w = o->b->data + o->b->len;
		while (p < stop) {
			if (copy >> kinds[*p] & 1) {
				const unsigned char *q = p + 1;

				while (q < stop && (copy >> kinds[*q] & 1))
					q++;
				w = put(o, w, p, (size_t)(q - p));
				p = q;
			} else {
				p += put_special(o, &w, p, end);
			}
		}
		o->b->len = (size_t)(w - o->b->data);
		o->b->data[o->b->len] = '\0';
	}
}

static void
out_literal(struct out *o, const char *s, size_t n)
{
	if (collapses(o->ctx))
		out_text(o, s, n);
	else
		buf_append(o->b, s, n);
}

/* An integer, in decimal. */
static void
out_integer(struct out *o, long long v)
{
	char num[24], *p = num + sizeof(num);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	out_text(o, p, (size_t)(num + sizeof(num) - p));
}

/* ------------------------------------------------------------------ */
/* Parsing.                                                            */
/* ------------------------------------------------------------------ */

struct parser {
	struct tpl	*t;
	const char	*src, *end;
	const char	*text;		/* the literal text not yet made a node */
	unsigned	 text_line;
	const char	*counted;	/* lines are counted up to here */
	unsigned	 line;
	size_t		 open[TPL_MAX_DEPTH];	/* indexes of open section nodes */
	size_t		 depth;
	char		*err;
};

/* Strings an HTML template may not hold: no remote content, no scripts. */
static const char *const html_banned[] = {
	"<script", "<style", "<link", "<img", "<iframe", "<frame", "<object",
	"<embed", "<form", "<base", "<svg", "<video", "<audio", "<picture",
	"src=", "srcset=", "background=", "url(", "@import", "javascript:",
	"http-equiv",
};

/* The line of pos; pos never goes backwards. */
static unsigned
line_at(struct parser *ps, const char *pos)
{
	for (; ps->counted < pos; ps->counted++)
		if (*ps->counted == '\n')
			ps->line++;
	return ps->line;
}

static int __attribute__((format(printf, 3, 4)))
parse_fail(struct parser *ps, unsigned line, const char *fmt, ...)
{
	va_list ap;
	struct buf b = BUF_INIT;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	buf_printf(&b, "%u: %s", line, msg ? msg : "out of memory");
	free(msg);
	if (ps->err == NULL)
		ps->err = buf_take(&b);
	buf_free(&b);
	return -1;
}

static struct node *
node_add(struct tpl *t, enum op op, unsigned line)
{
	struct node *n;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->nodes = xreallocarray(t->nodes, t->cap, sizeof(*t->nodes));
	}
	n = &t->nodes[t->n++];
	memset(n, 0, sizeof(*n));
	n->op = op;
	n->line = line;
	return n;
}

/* page: a web page, which may draw with inline SVG (a mail may not). */
static int
html_lint(struct parser *ps, const char *s, size_t len, unsigned line, int page)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			line++;
		if (strchr("<sbu@jhSBUJH", s[i]) == NULL || s[i] == '\0')
			continue;
		for (size_t k = 0; k < sizeof(html_banned) / sizeof(*html_banned); k++) {
			size_t bl = strlen(html_banned[k]);

			if (page && strcmp(html_banned[k], "<svg") == 0)
				continue;
			if (bl <= len - i && strncasecmp(s + i, html_banned[k], bl) == 0)
				return parse_fail(ps, line, "'%s' is not allowed in an HTML "
				    "template: no images, scripts, style sheets or remote content",
				    html_banned[k]);
		}
	}
	return 0;
}

/* Makes [ps->text, upto) a text node; the pending text then starts at next. */
static int
flush_text(struct parser *ps, const char *upto, const char *next)
{
	if (upto > ps->text) {
		struct node *n = node_add(ps->t, OP_TEXT, ps->text_line);

		n->text = ps->text;
		n->len = (size_t)(upto - ps->text);
		if ((ps->t->ctx == TPL_HTML || ps->t->ctx == TPL_PAGE) &&
		    html_lint(ps, n->text, n->len, n->line, ps->t->ctx == TPL_PAGE) < 0)
			return -1;
	}
	ps->text = next;
	ps->text_line = line_at(ps, next);
	return 0;
}

/*
 * A section, inverted or comment tag alone on its line (blanks aside)
 * takes the line: *ls is where the line starts, *le just past its newline.
 */
static int
standalone(const struct parser *ps, const char *open, const char *after,
    const char **ls, const char **le)
{
	const char *a = open, *b = after;

	while (a > ps->src && (a[-1] == ' ' || a[-1] == '\t'))
		a--;
	if (a > ps->src && a[-1] != '\n')
		return 0;
	while (b < ps->end && (*b == ' ' || *b == '\t'))
		b++;
	if (b < ps->end && *b != '\n')
		return 0;
	*ls = a;
	*le = b < ps->end ? b + 1 : b;
	return 1;
}

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
name_special(struct parser *ps, struct node *n)
{
	if (strcmp(n->name, "@index") == 0)
		n->sp = SP_INDEX;
	else if (strcmp(n->name, "@first") == 0)
		n->sp = SP_FIRST;
	else if (strcmp(n->name, "@last") == 0)
		n->sp = SP_LAST;
	else
		return parse_fail(ps, n->line, "unknown name '%s' (only @index, "
		    "@first and @last begin with '@')", n->name);
	if (ps->depth == 0)
		return parse_fail(ps, n->line, "'%s' outside a section", n->name);
	return 0;
}

/* Checks and splits the name of n, from the text [a, b) of its tag. */
static int
name_set(struct parser *ps, struct node *n, const char *a, const char *b)
{
	char *p;

	while (a < b && (*a == ' ' || *a == '\t'))
		a++;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	if (a == b)
		return parse_fail(ps, n->line, "a tag without a name");
	if ((size_t)(b - a) > TPL_MAX_NAME)
		return parse_fail(ps, n->line, "a name longer than %d bytes", TPL_MAX_NAME);
	n->name = xstrndup(a, (size_t)(b - a));
	if (strcmp(n->name, ".") == 0) {
		n->sp = SP_DOT;
		return 0;
	}
	if (n->name[0] == '@')
		return name_special(ps, n);
	for (p = n->name; *p; p++)
		if (!name_char(*p) && !(*p == '.' && p > n->name && p[-1] != '.' && p[1]))
			return parse_fail(ps, n->line, "'%s' is not a name (letters, digits, "
			    "'_' and '-', parts joined by '.')", n->name);
	n->nseg = 1;
	for (p = n->name; *p; p++)
		n->nseg += *p == '.';
	n->seg = xreallocarray(NULL, n->nseg, sizeof(*n->seg));
	n->nseg = 0;
	for (p = n->name; ; p++) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		n->seg[n->nseg++] = (struct seg){ p, len };
		if (dot == NULL)
			break;
		p += len;
	}
	return 0;
}

static int
section_open(struct parser *ps, enum op op, unsigned line, const char *a, const char *b)
{
	struct node *n;

	if (ps->depth == TPL_MAX_DEPTH)
		return parse_fail(ps, line, "sections nested deeper than %d", TPL_MAX_DEPTH);
	n = node_add(ps->t, op, line);
	if (name_set(ps, n, a, b) < 0)
		return -1;
	ps->open[ps->depth++] = ps->t->n - 1;
	return 0;
}

static int
section_close(struct parser *ps, unsigned line, const char *a, const char *b)
{
	struct node *open;

	while (a < b && (*a == ' ' || *a == '\t'))
		a++;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	if (ps->depth == 0)
		return parse_fail(ps, line, "'{{/%.*s}}' closes no section",
		    (int)(b - a), a);
	open = &ps->t->nodes[ps->open[ps->depth - 1]];
	if (strlen(open->name) != (size_t)(b - a) || memcmp(open->name, a, (size_t)(b - a)) != 0)
		return parse_fail(ps, line, "'{{/%.*s}}' closes section '%s' of line %u",
		    (int)(b - a), a, open->name, open->line);
	open->end = ps->t->n;
	ps->depth--;
	return 0;
}

/* Why a tag that begins with c is refused, or NULL when c may begin a tag. */
static const char *
tag_refused(char c)
{
	if (c == '{' || c == '&')
		return "is not allowed: data is always escaped";
	if (c == '#' || c == '^' || c == '/' || c == '!' || c == '.' || c == '@' ||
	    c == ' ' || c == '\t' || c == '}' || name_char(c))
		return NULL;
	return "is not a tag palier knows (no partials, no delimiter changes)";
}

/* The tag that opens at open; *next is where the scan goes on. */
static int
parse_tag(struct parser *ps, const char *open, const char **next)
{
	unsigned line = line_at(ps, open);
	const char *in = open + 2, *close, *after, *ls, *le;
	const char *why;
	char kind;

	kind = in < ps->end ? *in : '\0';
	if (kind != '\0' && (why = tag_refused(kind)) != NULL)
		return parse_fail(ps, line, "'{{%c' %s", kind, why);
	close = memmem(in, (size_t)(ps->end - in), "}}", 2);
	if (close == NULL)
		return parse_fail(ps, line, "'{{' is never closed by '}}'");
	if (kind != '!' && memchr(in, '\n', (size_t)(close - in)) != NULL)
		return parse_fail(ps, line, "'{{' is not closed by '}}' on its line");
	after = close + 2;
	if (kind != '#' && kind != '^' && kind != '/' && kind != '!') {
		struct node *n;

		if (flush_text(ps, open, after) < 0)
			return -1;
		n = node_add(ps->t, OP_VAR, line);
		*next = after;
		return name_set(ps, n, in, close);
	}
	if (standalone(ps, open, after, &ls, &le)) {
		if (flush_text(ps, ls, le) < 0)
			return -1;
	} else if (flush_text(ps, open, after) < 0) {
		return -1;
	}
	*next = ps->text;
	if (kind == '#')
		return section_open(ps, OP_SECTION, line, in + 1, close);
	if (kind == '^')
		return section_open(ps, OP_INVERTED, line, in + 1, close);
	if (kind == '/')
		return section_close(ps, line, in + 1, close);
	return 0;
}

static int
parse_all(struct parser *ps)
{
	const char *p = ps->src, *open;

	while ((open = memmem(p, (size_t)(ps->end - p), "{{", 2)) != NULL)
		if (parse_tag(ps, open, &p) < 0)
			return -1;
	if (flush_text(ps, ps->end, ps->end) < 0)
		return -1;
	if (ps->depth > 0) {
		const struct node *n = &ps->t->nodes[ps->open[ps->depth - 1]];

		return parse_fail(ps, n->line, "section '%s' is never closed", n->name);
	}
	return 0;
}

/* A copy of the text without a leading BOM and with CRLF made LF. */
static char *
normalize(const char *text, size_t len, size_t *outlen)
{
	char *s = xmalloc(len + 1);
	size_t o = 0, i = 0;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (; i < len; i++)
		if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n'))
			s[o++] = text[i];
	s[o] = '\0';
	*outlen = o;
	return s;
}

/* Template text must be UTF-8 without NUL bytes: "LINE: reason" or NULL. */
static char *
text_problem(const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);
	size_t bad = len, at;
	unsigned line = 1;

	if (utf8_valid(s, len, &bad))
		bad = len;
	at = nul && (size_t)(nul - s) < bad ? (size_t)(nul - s) : bad;
	if (at == len)
		return NULL;
	for (size_t i = 0; i < at; i++)
		line += s[i] == '\n';
	return xasprintf("%u: %s", line, s + at == nul ? "a NUL byte" : "not UTF-8 text");
}

struct tpl *
tpl_parse(const char *text, size_t len, enum tpl_context ctx, char **err)
{
	struct parser ps;
	struct tpl *t;
	size_t n;
	char *why;

	if (err)
		*err = NULL;
	if (len > TPL_MAX_SIZE) {
		if (err)
			*err = xasprintf("1: a template longer than %d bytes", TPL_MAX_SIZE);
		return NULL;
	}
	if ((why = text_problem(text, len)) != NULL) {
		if (err)
			*err = why;
		else
			free(why);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	t->src = normalize(text, len, &n);
	memset(&ps, 0, sizeof(ps));
	ps.t = t;
	ps.src = ps.text = ps.counted = t->src;
	ps.end = t->src + n;
	ps.line = ps.text_line = 1;
	if (parse_all(&ps) < 0) {
		if (err)
			*err = ps.err;
		else
			free(ps.err);
		tpl_free(t);
		return NULL;
	}
	return t;
}

void
tpl_free(struct tpl *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->nodes[i].name);
		free(t->nodes[i].seg);
	}
	free(t->nodes);
	free(t->src);
	free(t);
}

enum tpl_context
tpl_context_of(const struct tpl *t)
{
	return t->ctx;
}

/* ------------------------------------------------------------------ */
/* Rendering.                                                          */
/* ------------------------------------------------------------------ */

struct frame {
	const json_t	*v;
	size_t		 index;		/* a list item: its number from 1; else 0 */
	size_t		 count;		/* a list item: the list's length */
};

struct render {
	const struct tpl	*t;
	struct out		 o;
	struct frame		 stack[TPL_MAX_DEPTH + 1];
	size_t			 depth;
	size_t			 start;		/* out's length before */
	int			 overflow;
	int			 strict;	/* note names the data lacks */
	const struct node	*bad;		/* strict: the first node at fault */
	const char		*why;
};

static void
note(struct render *r, const struct node *n, const char *why)
{
	if (r->strict && r->bad == NULL) {
		r->bad = n;
		r->why = why;
	}
}

/* The value a name refers to, or NULL. */
static const json_t *
lookup(struct render *r, const struct node *n)
{
	const json_t *v = NULL;

	if (n->sp == SP_DOT)
		return r->stack[r->depth - 1].v;
	for (size_t i = r->depth; i-- > 0; ) {
		const json_t *f = r->stack[i].v;

		if (f && json_is_object(f) &&
		    (v = json_object_getn(f, n->seg[0].s, n->seg[0].len)) != NULL)
			break;
	}
	for (size_t k = 1; v != NULL && k < n->nseg; k++)
		v = json_is_object(v) ? json_object_getn(v, n->seg[k].s, n->seg[k].len) : NULL;
	if (v == NULL)
		note(r, n, "names nothing in the sample data");
	return v;
}

/* The innermost list item in scope, or NULL. */
static const struct frame *
list_item(const struct render *r)
{
	for (size_t i = r->depth; i-- > 0; )
		if (r->stack[i].count > 0)
			return &r->stack[i];
	return NULL;
}

static int
special_true(const struct render *r, enum special sp)
{
	const struct frame *f = list_item(r);

	if (f == NULL)
		return 0;
	if (sp == SP_FIRST)
		return f->index == 1;
	if (sp == SP_LAST)
		return f->index == f->count;
	return 1;
}

static int
truthy(const json_t *v)
{
	if (v == NULL)
		return 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT:	return 1;
	case JSON_ARRAY:	return json_array_size(v) > 0;
	case JSON_STRING:	return json_string_length(v) > 0;
	case JSON_INTEGER:	return json_integer_value(v) != 0;
	case JSON_REAL:		return json_real_value(v) != 0.0;
	case JSON_TRUE:		return 1;
	default:		return 0;
	}
}

static void render_range(struct render *r, size_t from, size_t to);

static void
render_real(struct render *r, double v)
{
	char num[32];
	int len = snprintf(num, sizeof(num), "%.15g", v);

	if (len > 0 && (size_t)len < sizeof(num))
		out_text(&r->o, num, (size_t)len);
}

static void
render_var(struct render *r, const struct node *n)
{
	const json_t *v;

	if (n->sp == SP_INDEX) {
		const struct frame *f = list_item(r);

		if (f)
			out_integer(&r->o, (long long)f->index);
		return;
	}
	if (n->sp == SP_FIRST || n->sp == SP_LAST) {
		note(r, n, "is true or false, not text");
		return;
	}
	v = lookup(r, n);
	if (v == NULL)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		out_text(&r->o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		out_integer(&r->o, json_integer_value(v));
		break;
	case JSON_REAL:
		render_real(r, json_real_value(v));
		break;
	case JSON_NULL:
		break;
	default:
		note(r, n, "is a list, an object, true or false: not text");
		break;
	}
}

static void
render_in(struct render *r, const json_t *v, size_t index, size_t count,
    size_t from, size_t to)
{
	struct frame *f = &r->stack[r->depth++];

	f->v = v;
	f->index = index;
	f->count = count;
	render_range(r, from, to);
	r->depth--;
}

static void
render_section(struct render *r, const struct node *n, size_t i)
{
	const json_t *v;

	if (n->sp == SP_INDEX || n->sp == SP_FIRST || n->sp == SP_LAST) {
		if ((n->op == OP_SECTION) == special_true(r, n->sp))
			render_range(r, i + 1, n->end);
		return;
	}
	v = lookup(r, n);
	if (n->op == OP_INVERTED) {
		if (!truthy(v))
			render_range(r, i + 1, n->end);
	} else if (v && json_is_array(v)) {
		size_t count = json_array_size(v);

		for (size_t k = 0; k < count && !r->overflow; k++)
			render_in(r, json_array_get(v, k), k + 1, count, i + 1, n->end);
	} else if (truthy(v)) {
		render_in(r, v, 0, 0, i + 1, n->end);
	}
}

static void
render_range(struct render *r, size_t from, size_t to)
{
	const struct node *nodes = r->t->nodes;

	for (size_t i = from; i < to && !r->overflow; ) {
		const struct node *n = &nodes[i];

		switch (n->op) {
		case OP_TEXT:
			out_literal(&r->o, n->text, n->len);
			i++;
			break;
		case OP_VAR:
			render_var(r, n);
			i++;
			break;
		default:
			render_section(r, n, i);
			i = n->end;
			break;
		}
		if (r->o.b->len - r->start > TPL_MAX_OUTPUT)
			r->overflow = 1;
	}
}

/* Renders; in strict mode *bad and *why tell the first name the data lacks. */
static int
render_run(const struct tpl *t, const json_t *data, struct buf *out, int strict,
    const struct node **bad, const char **why)
{
	struct render r;

	memset(&r, 0, sizeof(r));
	r.t = t;
	r.o.b = out;
	r.o.ctx = t->ctx;
	r.start = out->len;
	r.strict = strict;
	r.stack[0].v = data;
	r.depth = 1;
	buf_grow(out, 256);
	render_range(&r, 0, t->n);
	if (bad) {
		*bad = r.bad;
		*why = r.why;
	}
	if (r.overflow) {
		out->len = r.start;
		out->data[out->len] = '\0';
		return -1;
	}
	return 0;
}

json_t *
tpl_str_take(struct buf *b)
{
	json_t *j = json_string(buf_cstr(b));

	buf_reset(b);
	return j ? j : json_string("");
}

int
tpl_render(const struct tpl *t, const json_t *data, struct buf *out)
{
	return render_run(t, data, out, 0, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* A directory of templates.                                           */
/* ------------------------------------------------------------------ */

struct entry {
	char		*name;		/* the file name; owned */
	struct tpl	*t;
};

struct tpl_set {
	char		*dir;
	struct entry	*v;
	size_t		 n;
};

/* What palier sends: palierd -n fails when one of these is missing. */
static const char *const tpl_required[] = {
	"digest.subject", "digest.txt", "digest.html",
	"post.subject", "post.txt", "post.html",
	"bulletin.subject", "bulletin.txt", "bulletin.html", "bulletin.sms",
	"moderation.subject", "moderation.txt",
	"refusal.subject", "refusal.txt",
	"command-aide.subject", "command-aide.txt",
	"command-stop.subject", "command-stop.txt",
	"command-frequency.subject", "command-frequency.txt",
	"command-reprendre.subject", "command-reprendre.txt",
	"command-unknown.subject", "command-unknown.txt",
	"sms-stop.sms", "sms-start.sms", "sms-help.sms",
	"poll-invite.subject", "poll-invite.txt", "poll-invite.html", "poll-invite.sms",
	"poll-vote.subject", "poll-vote.txt", "poll-vote.sms",
	"poll-closed.subject", "poll-closed.txt", "poll-closed.sms",
	"poll-clarify.subject", "poll-clarify.txt", "poll-clarify.sms",
	"poll-results.subject", "poll-results.txt", "poll-results.sms", "poll.page",
	"poll-draft.subject", "poll-draft.txt",
};

/* The context a file name asks for; -1 when it is not a template. */
static int
file_context(const char *name, enum tpl_context *ctx)
{
	static const struct {
		const char		*ext;
		enum tpl_context	 ctx;
	} exts[] = {
		{ ".txt", TPL_TEXT }, { ".html", TPL_HTML }, { ".page", TPL_PAGE },
		{ ".subject", TPL_HEADER }, { ".sms", TPL_SMS },
	};
	const char *dot = strrchr(name, '.');

	if (name[0] == '.' || dot == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(exts) / sizeof(*exts); i++)
		if (strcmp(dot, exts[i].ext) == 0) {
			*ctx = exts[i].ctx;
			return 0;
		}
	return -1;
}

/* The whole of a regular file of at most max bytes; NULL with *why set. */
static char *
file_read(const char *path, size_t max, size_t *len, const char **why)
{
	struct buf b = BUF_INIT;
	struct stat st;
	char chunk[8192];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		*why = strerror(errno);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		close(fd);
		return NULL;
	}
	while (b.len <= max && (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t)n);
	if (b.len <= max && n < 0)
		*why = strerror(errno);
	else if (b.len > max)
		*why = "larger than 1 MiB";
	close(fd);
	if (b.len > max || n < 0) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	buf_grow(&b, 0);
	return buf_take(&b);
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Loads dir/name into s, or appends why not to errs. */
static void
set_add(struct tpl_set *s, const char *name, enum tpl_context ctx, struct buf *errs)
{
	char *path = xasprintf("%s/%s", s->dir, name), *text, *err = NULL;
	const char *why = NULL;
	struct tpl *t;
	size_t len = 0;

	text = file_read(path, TPL_MAX_SIZE, &len, &why);
	if (text == NULL) {
		buf_printf(errs, "%s: %s\n", path, why);
		free(path);
		return;
	}
	t = tpl_parse(text, len, ctx, &err);
	if (t == NULL) {
		buf_printf(errs, "%s:%s\n", path, err);
	} else {
		s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
		s->v[s->n].name = xstrdup(name);
		s->v[s->n++].t = t;
	}
	free(err);
	free(text);
	free(path);
}

/* Hands the lines of errs (without the last newline) to *err. */
static void
errs_take(struct buf *errs, char **err)
{
	while (errs->len > 0 && errs->data[errs->len - 1] == '\n')
		errs->data[--errs->len] = '\0';
	if (err)
		*err = buf_take(errs);
	buf_free(errs);
}

struct tpl_set *
tpl_set_load(const char *dir, char **err)
{
	struct tpl_set *s;
	struct buf errs = BUF_INIT;
	struct dirent *e;
	DIR *d;

	if (err)
		*err = NULL;
	if ((d = opendir(dir)) == NULL) {
		if (err)
			*err = xasprintf("%s: %s", dir, strerror(errno));
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->dir = xstrdup(dir);
	while ((e = readdir(d)) != NULL) {
		enum tpl_context ctx;

		if (file_context(e->d_name, &ctx) == 0)
			set_add(s, e->d_name, ctx, &errs);
	}
	closedir(d);
	if (errs.len == 0 && s->n == 0)
		buf_printf(&errs, "%s: no templates (*.txt, *.html, *.subject, *.sms)", dir);
	if (errs.len > 0) {
		errs_take(&errs, err);
		tpl_set_free(s);
		return NULL;
	}
	qsort(s->v, s->n, sizeof(*s->v), entry_cmp);
	return s;
}

void
tpl_set_free(struct tpl_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		tpl_free(s->v[i].t);
	}
	free(s->v);
	free(s->dir);
	free(s);
}

const struct tpl *
tpl_get(const struct tpl_set *s, const char *name)
{
	struct entry key = { (char *)(uintptr_t)name, NULL };
	const struct entry *e = bsearch(&key, s->v, s->n, sizeof(*s->v), entry_cmp);

	return e ? e->t : NULL;
}

size_t
tpl_set_count(const struct tpl_set *s)
{
	return s->n;
}

const char *
tpl_set_name(const struct tpl_set *s, size_t i)
{
	return i < s->n ? s->v[i].name : NULL;
}

/* 1 if the template name has the base name base ("digest" of digest.txt). */
static int
has_base(const char *name, const char *base)
{
	size_t bl = strlen(base);

	return strncmp(name, base, bl) == 0 && name[bl] == '.' && strchr(name + bl + 1, '.') == NULL;
}

/* Renders one template from its samples the strict way; problems to errs. */
static void
check_one(const struct tpl_set *s, const struct entry *e, const json_t *samples,
    struct buf *errs)
{
	const char *dot = strrchr(e->name, '.');
	char *base = xstrndup(e->name, (size_t)(dot - e->name));
	const json_t *data = json_object_get(samples, base);
	const struct node *bad = NULL;
	const char *why = NULL;
	struct buf out = BUF_INIT;
	size_t i;

	if (data == NULL || !json_is_object(data)) {
		buf_printf(errs, "%s/%s: samples.json has no object \"%s\" to render it with\n",
		    s->dir, e->name, base);
	} else if (render_run(e->t, data, &out, 1, &bad, &why) < 0) {
		buf_printf(errs, "%s/%s: renders more than 8 MiB\n", s->dir, e->name);
	} else if (bad != NULL) {
		buf_printf(errs, "%s/%s:%u: '%s' %s\n", s->dir, e->name, bad->line,
		    bad->name, why);
	} else {
		for (i = 0; i < out.len && strchr(" \t\n", out.data[i]); i++)
			;
		if (i == out.len)
			buf_printf(errs, "%s/%s: renders empty from its samples\n",
			    s->dir, e->name);
	}
	buf_free(&out);
	free(base);
}

int
tpl_set_check(const struct tpl_set *s, const json_t *samples, char **err)
{
	struct buf errs = BUF_INIT;
	const char *key;
	json_t *value;

	if (err)
		*err = NULL;
	if (samples == NULL || !json_is_object(samples)) {
		if (err)
			*err = xasprintf("%s/samples.json: not a JSON object", s->dir);
		return -1;
	}
	for (size_t i = 0; i < sizeof(tpl_required) / sizeof(*tpl_required); i++)
		if (tpl_get(s, tpl_required[i]) == NULL)
			buf_printf(&errs, "%s/%s: missing (palier sends it)\n", s->dir,
			    tpl_required[i]);
	for (size_t i = 0; i < s->n; i++)
		check_one(s, &s->v[i], samples, &errs);
	json_object_foreach((json_t *)(uintptr_t)samples, key, value) {
		size_t i;

		for (i = 0; i < s->n && !has_base(s->v[i].name, key); i++)
			;
		if (i == s->n)
			buf_printf(&errs, "%s/samples.json: \"%s\" belongs to no template\n",
			    s->dir, key);
	}
	if (errs.len == 0) {
		buf_free(&errs);
		return 0;
	}
	errs_take(&errs, err);
	return -1;
}

int
tpl_check_dir(const char *dir, char **err)
{
	struct tpl_set *s = tpl_set_load(dir, err);
	char *path;
	json_error_t jerr;
	json_t *samples;
	int rc;

	if (s == NULL)
		return -1;
	path = xasprintf("%s/samples.json", dir);
	samples = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (samples == NULL) {
		if (err)
			*err = xasprintf("%s:%d: %s", path, jerr.line, jerr.text);
		rc = -1;
	} else {
		rc = tpl_set_check(s, samples, err);
	}
	json_decref(samples);
	free(path);
	tpl_set_free(s);
	return rc;
}
