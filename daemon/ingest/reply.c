/*
 * reply.c — reads what comes back: keeps the words a person wrote in a reply
 * (dropping quotes, attributions, signatures and mobile footers), tells mail
 * sent by machines from mail sent by people, and finds the failed recipients
 * of bounces that are not standard DSNs. Owns only what it returns. Never
 * logs a body; every scan is one linear pass over bounded lines (no regex).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "ingest/reply.h"

#define NORM_MAX	512	/* bytes of a line read for its shape */
#define ATTRIB_MAX	400	/* longer (joined) lines are never attributions */
#define FOOTER_MAX	100	/* mobile footers are short */
#define HDR_WINDOW	12	/* lines searched for an Outlook header block */
#define RULE_BACK	16	/* lines looked back for a rule above an attribution */
#define BOUNCE_LINE_MAX	4096	/* bytes of a bounce line read for codes and words */
#define BOUNCE_INTRO_MAX 400	/* lines searched for the opening of a report */
#define BOUNCE_BODY_MAX	2000	/* lines of a report read (real ones have tens) */
#define LOCAL_MAX	64
#define DOMAIN_MAX	253

/* ------------------------------------------------------------------ */
/* Comparison form: lower case, no French accents, plain spaces.       */
/* ------------------------------------------------------------------ */

enum { N_SPACE = -1, N_SKIP = -2, N_OE = -3 };

/* U+00C0-U+00FF without accents, lower case (× and ÷ kept as signs). */
static const char latin1_base[] =
    "aaaaaaaceeeeiiiidnooooo*ouuuuyts"
    "aaaaaaaceeeeiiiidnooooo/ouuuuyty";

/* One character of s: a byte to emit, or N_SPACE, N_SKIP, N_OE; advances *pp. */
static int
norm_char(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	size_t left = (size_t)(end - p);

	*pp = p + 1;
	if (p[0] < 0x80) {
		if (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))
			return N_SPACE;
		return p[0] >= 'A' && p[0] <= 'Z' ? p[0] + ('a' - 'A') : p[0];
	}
	if (left >= 2 && (p[1] & 0xc0) == 0x80) {
		*pp = p + 2;
		if (p[0] == 0xc3)
			return latin1_base[p[1] - 0x80];
		if (p[0] == 0xc2 && p[1] == 0xa0)
			return N_SPACE;
		if (p[0] == 0xc2 && (p[1] == 0xab || p[1] == 0xbb))
			return '"';
		if (p[0] == 0xc5 && (p[1] == 0x92 || p[1] == 0x93))
			return N_OE;
		if (p[0] == 0xcc || (p[0] == 0xcd && p[1] <= 0xaf))
			return N_SKIP;		/* combining accent (NFD text) */
		*pp = p + 1;
	}
	if (left >= 3 && p[0] == 0xe2 && p[1] == 0x80) {
		*pp = p + 3;
		if (p[2] == 0x98 || p[2] == 0x99)
			return '\'';
		if (p[2] == 0x93 || p[2] == 0x94)
			return '-';
		if (p[2] <= 0x8a || p[2] == 0xaf)
			return N_SPACE;
		*pp = p + 1;
	}
	return p[0];
}

/* Sets b to the comparison form of s[0..n), spaces collapsed and trimmed. Never longer than n. */
static void
norm(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	int space = 0;

	b->len = 0;
	if (b->cap <= n)
		buf_grow(b, n);
	while (p < end) {
		int c = norm_char(&p, end);

		if (c == N_SKIP)
			continue;
		if (c == N_SPACE) {
			space = b->len > 0;
			continue;
		}
		if (space)
			b->data[b->len++] = ' ';
		space = 0;
		if (c == N_OE) {
			b->data[b->len++] = 'o';
			c = 'e';
		}
		b->data[b->len++] = (char)c;
	}
	b->data[b->len] = '\0';
}

/* A literal with its length, for lists read on every line. */
struct lit {
	const char	*s;
	size_t		 n;
};
#define LIT(x)	{ x, sizeof(x) - 1 }

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
has_prefix(const char *s, const char *p)
{
	return s[0] == p[0] && strncmp(s, p, strlen(p)) == 0;	/* most lines fail at once */
}

/* 1 if s[0..n) ends with one of the count literals in list. */
static int
lit_suffix(const char *s, size_t n, const struct lit *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (n >= list[i].n && memcmp(s + n - list[i].n, list[i].s, list[i].n) == 0)
			return 1;
	return 0;
}

static int
any_prefix(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (has_prefix(s, *list))
			return 1;
	return 0;
}

static int
any_infix(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (memmem(s, n, *list, strlen(*list)) != NULL)
			return 1;
	return 0;
}

/* 1 if s holds a clock time: "10:12" or "10h12". */
static int
has_time(const char *s, size_t n)
{
	for (size_t i = 1; i + 2 < n; i++)
		if ((s[i] == ':' || s[i] == 'h') && is_digit(s[i - 1]) &&
		    is_digit(s[i + 1]) && is_digit(s[i + 2]))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* What one line of a reply looks like.                                */
/* ------------------------------------------------------------------ */

enum { L_BLANK, L_TEXT, L_QUOTE, L_SIG, L_FOOTER };
enum { HK_NONE, HK_FROM, HK_SENT, HK_TO, HK_SUBJ, HK_OTHER };

struct line {
	const char	*p;	/* borrowed from the input */
	size_t		 n;	/* without trailing white space */
	unsigned char	 kind;	/* L_* */
	unsigned char	 key;	/* HK_*: "De :", "Sent:"... */
	unsigned char	 at;	/* a From key whose value has an '@' */
	unsigned char	 attr;	/* an attribution or separator on its own */
	unsigned char	 lead;	/* starts like a wrapped attribution ("Le ... 10:12") */
	unsigned char	 ends;	/* ends like one ("écrit :", "wrote:") */
	unsigned char	 keep;	/* among the person's words */
	unsigned char	 loose;	/* among the unquoted-looking lines (first fallback) */
};

struct trim {
	struct line	*l;	/* owned */
	size_t		 n;
	struct buf	 nb;	/* comparison form of the line being read */
	struct buf	 jb;	/* wrapped lines joined */
};

static const struct lit attrib_ends[] = {
	LIT("a ecrit :"), LIT("a ecrit:"), LIT("a ecrit"), LIT("wrote:"), LIT("wrote :"),
	LIT("escribio:"), LIT("escreveu:"),
};

/* How the last line of a wrapped attribution ends ("a\nécrit :"). */
static const struct lit wrap_ends[] = {
	LIT("ecrit :"), LIT("ecrit:"), LIT("ecrit"), LIT("wrote:"), LIT("wrote :"),
	LIT("escribio:"), LIT("escreveu:"),
};

#define NLIT(a)	(sizeof(a) / sizeof((a)[0]))

/* "Le lun. 3 nov. 2026 à 10:12, Marie <m@example.fr> a écrit :", "On ... wrote:". */
static int
attrib_text(const char *s, size_t n)
{
	int at = memchr(s, '@', n) != NULL;

	if (n > ATTRIB_MAX || !(at || has_time(s, n)))
		return 0;
	if (lit_suffix(s, n, attrib_ends, NLIT(attrib_ends)))
		return at || has_prefix(s, "le ") || has_prefix(s, "on ");
	return n > 0 && s[n - 1] == ':' &&	/* "X a écrit le 03/11/2026 10:12 :", on one line */
	    (memmem(s, n, " a ecrit le ", 12) || memmem(s, n, " wrote on ", 10));
}

static int
is_deco(int c)
{
	return c == '-' || c == '=' || c == '_' || c == '*';
}

/* "-----Message d'origine-----", "----- Mail original -----", "Begin forwarded message:". */
static int
is_separator(const char *s, size_t n)
{
	static const char *const bare[] = {
		"debut du message reexpedie :", "debut du message reexpedie:",
		"begin forwarded message:", "begin forwarded message :", NULL
	};
	static const char *const cores[] = {
		"original message", "message d'origine", "message original",
		"message transfere", "forwarded message", "mail original",
		"mail d'origine", "mail transfere", "message initial",
		"courriel original", "courriel d'origine", "message reexpedie", NULL
	};
	size_t a = 0, z = n, deco = 0;

	for (const char *const *b = bare; (s[0] == 'd' || s[0] == 'b') && *b; b++)
		if (strcmp(s, *b) == 0)
			return 1;
	if (n == 0 || (!is_deco(s[0]) && !is_deco(s[n - 1])))
		return 0;		/* decorated on neither side */
	for (; a < z && (s[a] == ' ' || is_deco(s[a])); a++)
		deco += s[a] != ' ';
	for (; z > a && (s[z - 1] == ' ' || s[z - 1] == ':' || is_deco(s[z - 1])); z--)
		deco += is_deco(s[z - 1]);
	if (deco < 4)
		return 0;
	for (const char *const *c = cores; *c; c++)
		if (strlen(*c) == z - a && memcmp(s + a, *c, z - a) == 0)
			return 1;
	return 0;
}

/* The Outlook header key a line starts with ("De :", "*Objet :*"), HK_NONE if none. */
static int
header_key(const char *s, size_t n, unsigned char *at)
{
	static const struct { struct lit k; int cls; } keys[] = {
		{ LIT("de"), HK_FROM }, { LIT("from"), HK_FROM }, { LIT("expediteur"), HK_FROM },
		{ LIT("envoye"), HK_SENT }, { LIT("envoye le"), HK_SENT }, { LIT("sent"), HK_SENT },
		{ LIT("date"), HK_SENT }, { LIT("a"), HK_TO }, { LIT("to"), HK_TO },
		{ LIT("pour"), HK_TO }, { LIT("cc"), HK_TO }, { LIT("cci"), HK_TO },
		{ LIT("bcc"), HK_TO }, { LIT("copie a"), HK_TO }, { LIT("destinataire"), HK_TO },
		{ LIT("repondre a"), HK_TO }, { LIT("reply-to"), HK_TO },
		{ LIT("objet"), HK_SUBJ }, { LIT("subject"), HK_SUBJ }, { LIT("sujet"), HK_SUBJ },
		{ LIT("importance"), HK_OTHER }, { LIT("pieces jointes"), HK_OTHER },
		{ LIT("attachments"), HK_OTHER },
	};
	const char *p = s, *colon;
	size_t kl;

	while (*p == '*')
		p++;
	n -= (size_t)(p - s);
	for (colon = p; colon < p + n && colon < p + 24 && *colon != ':'; colon++)
		;
	if (colon == p + n || colon == p + 24)
		return HK_NONE;
	for (kl = (size_t)(colon - p); kl > 0 && (p[kl - 1] == ' ' || p[kl - 1] == '*'); kl--)
		;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].k.n == kl && p[0] == keys[i].k.s[0] && memcmp(p, keys[i].k.s, kl) == 0) {
			*at = strchr(colon, '@') != NULL;
			return keys[i].cls;
		}
	return HK_NONE;
}

static int
is_footer(const char *s, size_t n)
{
	static const struct lit footers[] = {
		LIT("envoye de mon "), LIT("envoye depuis mon "), LIT("envoye a partir de mon "),
		LIT("envoye de ma "), LIT("envoye depuis ma "), LIT("sent from my "),
		LIT("sent from mail for windows"), LIT("sent from yahoo mail"),
		LIT("sent from outlook"), LIT("envoye de l'application "),
		LIT("envoye depuis l'application "), LIT("envoye de yahoo mail"),
		LIT("envoye depuis yahoo mail"), LIT("envoye a partir de yahoo mail"),
		LIT("envoye depuis outlook"), LIT("envoye de outlook"),
		LIT("envoye avec outlook"), LIT("telecharger outlook pour "),
		LIT("obtenir outlook pour "), LIT("get outlook for "),
		LIT("provenance : courrier"), LIT("provenance: courrier"),
		LIT("envoye a partir de outlook"), LIT("envoye avec proton"),
		LIT("sent with proton"),
	};

	if (n < 13 || n > FOOTER_MAX || strchr("estogp", s[0]) == NULL)
		return 0;		/* too short, or not the first letter of any footer */
	for (size_t i = 0; i < sizeof(footers) / sizeof(footers[0]); i++)
		if (n >= footers[i].n && s[0] == footers[i].s[0] &&
		    memcmp(s, footers[i].s, footers[i].n) == 0)
			return 1;
	return 0;
}

/* Length of line p[0..n) without trailing white space (ASCII or no-break). */
static size_t
rtrim_len(const char *p, size_t n)
{
	while (n > 0) {
		unsigned char c = (unsigned char)p[n - 1];

		if (c == ' ' || (c >= '\t' && c <= '\r'))
			n--;
		else if (c == 0xa0 && n >= 2 && (unsigned char)p[n - 2] == 0xc2)
			n -= 2;
		else
			break;
	}
	return n;
}

/* 1 if the first visible character is '>' (any nesting, any spacing). */
static int
is_quote(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' ||
	    ((unsigned char)p[i] == 0xc2 && i + 1 < n && (unsigned char)p[i + 1] == 0xa0)))
		i += p[i] == ' ' || p[i] == '\t' ? 1 : 2;
	return i < n && p[i] == '>';
}

static void
line_classify(struct line *l, struct buf *nb)
{
	const char *s;
	size_t a, z;

	l->kind = l->n == 0 ? L_BLANK : is_quote(l->p, l->n) ? L_QUOTE :
	    l->n == 2 && memcmp(l->p, "--", 2) == 0 ? L_SIG : L_TEXT;
	if (l->kind != L_TEXT)
		return;
	norm(nb, l->p, l->n < NORM_MAX ? l->n : NORM_MAX);
	s = nb->data;
	if (is_footer(s, nb->len)) {
		l->kind = L_FOOTER;
		return;
	}
	l->key = (unsigned char)header_key(s, nb->len, &l->at);
	for (a = 0; a < nb->len && (s[a] == ' ' || is_deco(s[a])); a++)
		;		/* "---- Le ... a écrit ----" reads as its core */
	for (z = nb->len; z > a && (s[z - 1] == ' ' || is_deco(s[z - 1])); z--)
		;
	l->ends = l->n <= ATTRIB_MAX && lit_suffix(s + a, z - a, wrap_ends, NLIT(wrap_ends));
	l->attr = is_separator(s, nb->len) ||
	    (has_prefix(s, "message du ") && is_digit(s[11])) ||
	    ((l->ends || (z > a && s[z - 1] == ':')) && attrib_text(s + a, z - a));
	l->lead = l->n <= ATTRIB_MAX && (has_prefix(s, "le ") || has_prefix(s, "on ")) &&
	    has_time(s, nb->len);
}

static void
trim_split(struct trim *t, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *e;
	size_t lines = 1;

	for (e = text; e < end; e++)	/* a plain loop: memchr costs more on short lines */
		lines += *e == '\n';
	t->l = xcalloc(lines, sizeof(*t->l));
	for (;;) {
		struct line *l = &t->l[t->n++];

		e = memchr(p, '\n', (size_t)(end - p));
		l->p = p;
		l->n = rtrim_len(p, (size_t)((e ? e : end) - p));
		line_classify(l, &t->nb);
		if (e == NULL)
			break;
		p = e + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Where the quoted original starts.                                   */
/* ------------------------------------------------------------------ */

/* Lines of an Outlook header block starting at i ("De :" "Envoyé :" "À :" "Objet :"), 0 if none. */
static size_t
header_block(const struct trim *t, size_t i)
{
	unsigned mask = 0, at = 0, kinds = 0;
	size_t last = i, gap = 0;

	if (i > 0 && t->l[i - 1].kind == L_TEXT && t->l[i - 1].key)
		return 0;		/* inside a block already judged */
	for (size_t j = i; j < t->n && j < i + HDR_WINDOW; j++) {
		const struct line *l = &t->l[j];

		if (l->kind == L_TEXT && l->key) {
			mask |= 1u << l->key;
			at |= l->key == HK_FROM && l->at;
			last = j;
			gap = 0;
		} else if (++gap > 1 || l->kind == L_QUOTE)
			break;
	}
	for (unsigned m = mask; m; m &= m - 1)
		kinds++;
	if (!(mask & (1u << HK_FROM)) || kinds < 2)
		return 0;
	if (!(mask & ((1u << HK_SENT) | (1u << HK_SUBJ))) && !at)
		return 0;
	return last - i + 1;
}

/* 1 if lines i..i+k-1, joined with spaces, read as one attribution. */
static int
joined_attrib(struct trim *t, size_t i, size_t k)
{
	buf_reset(&t->jb);
	for (size_t j = i; j < i + k; j++) {
		if (t->l[j].kind != L_TEXT || t->jb.len + t->l[j].n > ATTRIB_MAX)
			return 0;
		buf_append(&t->jb, t->l[j].p, t->l[j].n);
		buf_putc(&t->jb, ' ');
	}
	norm(&t->nb, t->jb.data, t->jb.len);
	return attrib_text(t->nb.data, t->nb.len);
}

/*
 * Lines of an attribution that Gmail wrapped (2 or 3) starting at i, 0 if
 * none. Its first line has the date and time; its last ends in "écrit :".
 */
static size_t
wrapped_attrib(struct trim *t, size_t i)
{
	const struct line *first = &t->l[i];
	int sentence;

	if (!first->lead)
		return 0;
	sentence = strchr(".!?", first->p[first->n - 1]) != NULL;
	for (size_t k = 2; k <= 3 && i + k <= t->n; k++) {
		const struct line *last = &t->l[i + k - 1];

		if (last->lead || (last->attr && sentence))
			return 0;	/* a whole attribution starts below: i is the person's */
		if (last->ends && joined_attrib(t, i, k))
			return k;
	}
	return 0;
}

/* Lines of the attribution, separator or header block starting at i, 0 if none. */
static size_t
attrib_span(struct trim *t, size_t i)
{
	size_t k;

	if (t->l[i].kind != L_TEXT)
		return 0;
	if (t->l[i].attr)
		return 1;
	if (t->l[i].key && (k = header_block(t, i)) > 0)
		return k;
	return wrapped_attrib(t, i);
}

static int
is_rule(const struct line *l)
{
	if (l->kind != L_TEXT || l->n < 3)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (!is_deco(l->p[i]))
			return 0;
	return 1;
}

/* Drops the "______" rule Outlook draws above its header block. */
static void
drop_rules_before(struct trim *t, size_t i)
{
	for (size_t j = i, steps = 0; j > 0 && steps < RULE_BACK; steps++) {
		struct line *l = &t->l[--j];

		if (is_rule(l))
			l->keep = l->loose = 0;
		else if (l->kind != L_BLANK)
			break;
	}
}

/* 1 if the first non-blank line from j is quoted: the attribution covers only that quote. */
static int
quote_follows(const struct trim *t, size_t j)
{
	while (j < t->n && t->l[j].kind == L_BLANK)
		j++;
	return j < t->n && t->l[j].kind == L_QUOTE;
}

/*
 * Marks the person's lines (keep) and the unquoted-looking ones (loose).
 * Quotes are dropped wherever they are, so bottom-posted and interleaved
 * answers survive; an attribution followed by unquoted text (Outlook) starts
 * the original, which runs to the end; "-- " drops lines up to the next quote.
 */
static void
trim_mark(struct trim *t)
{
	int sig = 0, tail = 0;

	for (size_t i = 0; i < t->n;) {
		struct line *l = &t->l[i];
		size_t span;

		if (l->kind == L_QUOTE || l->kind == L_SIG) {
			sig = l->kind == L_SIG;
			i++;
		} else if ((span = attrib_span(t, i)) > 0) {
			drop_rules_before(t, i);
			sig = 0;
			tail |= !quote_follows(t, i + span);
			i += span;
		} else {
			l->loose = !sig && l->kind != L_FOOTER;
			l->keep = l->loose && !tail;
			i++;
		}
	}
}

enum { LV_KEEP, LV_LOOSE, LV_ALL };

/* The chosen lines, blank runs made one blank line, none at either end. */
static char *
trim_emit(const struct trim *t, size_t hint, int level)
{
	struct buf b = BUF_INIT;
	int blank = 0;

	buf_grow(&b, hint);
	for (size_t i = 0; i < t->n; i++) {
		const struct line *l = &t->l[i];

		if (level == LV_KEEP ? !l->keep : level == LV_LOOSE ? !l->loose : 0)
			continue;
		if (l->n == 0) {
			blank = 1;
			continue;
		}
		if (b.len + l->n + 2 >= b.cap)	/* never, as output is no longer than input */
			buf_grow(&b, l->n + 2);
		if (b.len > 0) {	/* written in place: this loop is the hot path */
			b.data[b.len++] = '\n';
			if (blank)
				b.data[b.len++] = '\n';
		}
		memcpy(b.data + b.len, l->p, l->n);
		b.len += l->n;
		b.data[b.len] = '\0';
		blank = 0;
	}
	return buf_take(&b);
}

char *
ingest_reply_trim(const char *text)
{
	struct trim t = { NULL, 0, BUF_INIT, BUF_INIT };
	size_t len;
	char *out;

	if (text == NULL)
		return xstrdup("");
	if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;		/* byte order mark */
	len = strlen(text);
	trim_split(&t, text, len);
	trim_mark(&t);
	out = trim_emit(&t, len, LV_KEEP);
	for (int level = LV_LOOSE; *out == '\0' && level <= LV_ALL; level++) {
		free(out);		/* all of it looked quoted: never lose the words */
		out = trim_emit(&t, len, level);
	}
	free(t.l);
	buf_free(&t.nb);
	buf_free(&t.jb);
	return out;
}

/* ------------------------------------------------------------------ */
/* Mail written by machines.                                           */
/* ------------------------------------------------------------------ */

/*
 * The first header named name, or NULL. Kept here rather than calling
 * mail_header so that this file links without the MIME parser.
 */
static const char *
hdr(const struct mail *m, const char *name)
{
	for (size_t i = 0; i < m->nheaders; i++)
		if (m->headers[i].name && strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value ? m->headers[i].value : "";
	return NULL;
}

static int
is_tokensep(char c)
{
	return c == ' ' || c == '\t' || c == ',' || c == ';';
}

/* 1 if v starts (after blanks) with the word w, case-insensitive. */
static int
word_at(const char *v, const char *w)
{
	size_t k = strlen(w);

	while (*v == ' ' || *v == '\t')
		v++;
	return strncasecmp(v, w, k) == 0 && (v[k] == '\0' || is_tokensep(v[k]) || v[k] == '(');
}

/* 1 if one of v's comma, semicolon or space separated words is w. */
static int
has_token(const char *v, const char *w)
{
	while (*v) {
		while (is_tokensep(*v))
			v++;
		if (*v && word_at(v, w))
			return 1;
		while (*v && !is_tokensep(*v))
			v++;
	}
	return 0;
}

static int
is_null_path(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v++ != '<')
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v++ != '>')
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	return *v == '\0';
}

static int
sign(const char **why, const char *what)
{
	*why = what;
	return 1;
}

static int
auto_headers(const struct mail *m, const char **why)
{
	const char *v;

	if ((v = hdr(m, "Auto-Submitted")) && !word_at(v, "no"))
		return sign(why, "Auto-Submitted header");
	if (hdr(m, "X-Autoreply"))
		return sign(why, "X-Autoreply header");
	if (hdr(m, "X-Autorespond"))
		return sign(why, "X-Autorespond header");
	if ((v = hdr(m, "X-Auto-Response-Suppress")) &&
	    (has_token(v, "oof") || has_token(v, "all")))
		return sign(why, "X-Auto-Response-Suppress header");
	if ((v = hdr(m, "Precedence")) && (has_token(v, "bulk") || has_token(v, "junk") ||
	    has_token(v, "list") || has_token(v, "auto_reply")))
		return sign(why, "Precedence header");
	if (hdr(m, "List-Id"))
		return sign(why, "List-Id header");
	if (hdr(m, "List-Unsubscribe"))
		return sign(why, "List-Unsubscribe header");
	if ((v = hdr(m, "Return-Path")) && is_null_path(v))
		return sign(why, "null Return-Path");
	if ((v = hdr(m, "Content-Type")) && word_at(v, "multipart/report"))
		return sign(why, "multipart/report");
	return 0;
}

enum { SIGN_NONE, SIGN_SYSTEM, SIGN_NOREPLY, SIGN_OOF, SIGN_BOUNCE };

/* SIGN_SYSTEM if addr's local part names a mail system, SIGN_NOREPLY a no-reply box. */
static int
auto_local(const char *addr)
{
	static const char *const systems[] = { "mailer-daemon", "postmaster", NULL };
	static const char *const noreply[] = {
		"noreply", "no-reply", "no_reply", "no.reply", "ne-pas-repondre",
		"nepasrepondre", "ne_pas_repondre", "ne.pas.repondre",
		"donotreply", "do-not-reply", "do_not_reply", NULL
	};
	const char *at = strrchr(addr, '@');
	struct buf nb = BUF_INIT;
	int hit = SIGN_NONE;

	norm(&nb, addr, at ? (size_t)(at - addr) : strlen(addr));
	if (any_prefix(nb.data, systems))
		hit = SIGN_SYSTEM;
	else if (any_infix(nb.data, nb.len, noreply))
		hit = SIGN_NOREPLY;
	buf_free(&nb);
	return hit;
}

/* SIGN_OOF for an out-of-office subject, SIGN_BOUNCE for a delivery failure's. */
static int
auto_subject(const char *subject)
{
	static const char *const oof[] = {
		"reponse automatique", "automatic reply", "out of office", "absence du bureau",
		"auto-reply", "autoreply", "auto reply", "message d'absence",
		"away from the office", "away from office", "notification d'absence",
		"absent du bureau", "absente du bureau", NULL
	};
	static const char *const oof_start[] = {
		"je suis absent", "absent du ", "absente du ", "absent(e) du ",
		"absent (e) du ", "absent(e) ", NULL
	};
	static const char *const bounce[] = {
		"undeliverable", "undelivered mail", "mail delivery failed",
		"delivery status notification", "echec de la remise", "message non delivre",
		"delivery failure", "message non remis", "non distribuable", NULL
	};
	static const char *const bounce_start[] = {
		"non remis", "returned mail", "failure notice", NULL
	};
	char *f = utf8_fold(subject);
	struct buf nb = BUF_INIT;
	int hit = SIGN_NONE;

	norm(&nb, f, strlen(f));
	if (any_infix(nb.data, nb.len, oof) || any_prefix(nb.data, oof_start))
		hit = SIGN_OOF;
	else if (any_infix(nb.data, nb.len, bounce) || any_prefix(nb.data, bounce_start))
		hit = SIGN_BOUNCE;
	buf_free(&nb);
	free(f);
	return hit;
}

int
ingest_reply_is_automatic(const struct mail *m, const char **why)
{
	const char *ignored;

	if (why == NULL)
		why = &ignored;
	*why = NULL;
	if (m == NULL)
		return 0;
	if (auto_headers(m, why))
		return 1;
	switch (m->from_addr ? auto_local(m->from_addr) : SIGN_NONE) {
	case SIGN_SYSTEM:
		return sign(why, "mail-system sender");
	case SIGN_NOREPLY:
		return sign(why, "no-reply sender");
	}
	if (m->is_dsn)
		return sign(why, "delivery status notification");
	switch (m->subject ? auto_subject(m->subject) : SIGN_NONE) {
	case SIGN_OOF:
		return sign(why, "out-of-office subject");
	case SIGN_BOUNCE:
		return sign(why, "bounce subject");
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Bounces that are not standard DSNs.                                 */
/* ------------------------------------------------------------------ */

/* What a bounce says about one recipient; first seen wins. */
struct ev {
	signed char	full;	/* mailbox full: temporary, whatever the code */
	signed char	xcode;	/* enhanced status class: 4, 5, or 0 */
	signed char	bcode;	/* SMTP reply class: 4, 5, or 0 */
	signed char	word;	/* 1 permanent, 0 temporary, -1 silent */
};

#define EV_NONE	((struct ev){ 0, 0, 0, -1 })

struct scan {
	const struct mail *m;
	char		**addrs;	/* the caller's; filled with owned copies */
	int		 *perm;
	int		  max, n;
	struct ev	 *own;		/* per address: the lines that follow it */
	struct ev	 *grp;		/* per address: its "following addresses had..." group */
	struct ev	  group, global;
	int		 *cur;		/* addresses named by the last line that named any */
	int		  ncur;
	struct buf	  nb;
};

static void
ev_merge(struct ev *d, const struct ev *s)
{
	d->full |= s->full;
	if (!d->xcode)
		d->xcode = s->xcode;
	if (!d->bcode)
		d->bcode = s->bcode;
	if (d->word < 0)
		d->word = s->word;
}

static int
ev_verdict(const struct ev *e)
{
	if (e->full)
		return 0;
	if (e->xcode)
		return e->xcode == 5;
	if (e->bcode)
		return e->bcode == 5;
	return e->word;
}

/* Length of the run of 1 to 3 digits at s, 0 if none. */
static size_t
digits(const char *s)
{
	size_t k = 0;

	while (k < 4 && is_digit(s[k]))
		k++;
	return k >= 1 && k <= 3 ? k : 0;
}

/* Reads "5.1.1" (enhanced) and "550" (SMTP) status codes in s. */
static void
ev_codes(const char *s, size_t n, struct ev *e)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i], before = i ? s[i - 1] : ' ';
		size_t a, b;

		if ((c != '4' && c != '5') || is_digit(before) || before == '.')
			continue;
		if (s[i + 1] == '.' && (a = digits(s + i + 2)) && s[i + 2 + a] == '.' &&
		    (b = digits(s + i + 3 + a)) && !is_digit(s[i + 3 + a + b]) &&
		    s[i + 3 + a + b] != '.') {
			if (!e->xcode)
				e->xcode = (signed char)(c - '0');
			e->full |= a == 1 && b == 1 && s[i + 2] == '2' && s[i + 4] == '2';
		} else if (is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
		    (s[i + 3] == '\0' || s[i + 3] == ' ' || s[i + 3] == '-' || s[i + 3] == ')') &&
		    (before == ' ' || before == '#' || before == '(' || i == 0) && !e->bcode)
			e->bcode = (signed char)(c - '0');
	}
}

static void
ev_line(const char *s, size_t n, struct ev *e)
{
	static const char *const full[] = {
		"mailbox full", "mailbox is full", "quota", "boite pleine",
		"boite aux lettres pleine", "est pleine", "insufficient storage", NULL
	};
	static const char *const temp[] = {
		"non-fatal", "transient", "temporary", "temporarily", "temporairement",
		"temporaire", "delayed", "will retry", "will be retried",
		"not yet been delivered", "n'a pas encore ete", "try again later",
		"nouvelle tentative", "differe", "retarde", "va reessayer", NULL
	};
	static const char *const perm[] = {
		"permanent", "fatal", "does not exist", "doesn't exist", "introuvable",
		"n'existe pas", "user unknown", "unknown user", "mailbox unavailable",
		"no such user", "address not found", "couldn't be found",
		"could not be found", "not found", "recipnotfound", "inconnu",
		"invalid recipient", "given up", "giving up", NULL
	};

	*e = EV_NONE;
	ev_codes(s, n, e);
	e->full = e->full || any_infix(s, n, full);
	if (any_infix(s, n, temp))
		e->word = 0;
	else if (any_infix(s, n, perm))
		e->word = 1;
}

static int
is_atext(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 || (c && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

static int
is_dtext(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 || c == '.' || c == '-';
}

/* The address around the '@' at p[at]: [*a, *z); 0 if it is not one. */
static int
addr_around(const char *p, size_t n, size_t at, size_t *a, size_t *z)
{
	size_t i = at, j = at + 1, dot;

	while (i > 0 && is_atext((unsigned char)p[i - 1]))
		i--;
	while (i < at && !is_alnum(p[i]) && p[i] != '_' && (unsigned char)p[i] < 0x80)
		i++;
	while (j < n && is_dtext((unsigned char)p[j]))
		j++;
	while (j > at + 1 && (p[j - 1] == '.' || p[j - 1] == '-'))
		j--;
	if (i == at || j == at + 1 || at - i > LOCAL_MAX || j - at - 1 > DOMAIN_MAX)
		return 0;
	for (dot = j; dot > at + 1 && p[dot - 1] != '.'; dot--)
		;
	if (dot <= at + 2 || j - dot < 2)
		return 0;	/* no dot, or a one-letter top-level label */
	*a = i;
	*z = j;
	return 1;
}

/* 1 if addr (lower case) must not be reported: palier's own, the bounce's sender, a mail system. */
static int
addr_excluded(const struct scan *s, const char *addr)
{
	if (has_prefix(addr, "bounce+") || has_prefix(addr, "mailer-daemon@") ||
	    has_prefix(addr, "postmaster@"))
		return 1;
	return s->m->from_addr && strcasecmp(addr, s->m->from_addr) == 0;
}

/* Index of addr among those found, adding it when there is room; -1 if none. */
static int
addr_index(struct scan *s, char *addr)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->addrs[i], addr) == 0) {
			free(addr);
			return i;
		}
	if (s->n == s->max) {
		free(addr);
		return -1;
	}
	s->addrs[s->n] = addr;
	s->own[s->n] = EV_NONE;
	s->grp[s->n] = s->group;
	return s->n++;
}

/* Notes the addresses line p names; they become the ones its next lines speak of. */
static void
scan_addrs(struct scan *s, const char *p, size_t n)
{
	int named = 0;
	size_t a, z;

	for (size_t i = 0; i < n; i++) {
		const char *q = memchr(p + i, '@', n - i);
		char *addr;
		int k;

		if (q == NULL)
			break;
		i = (size_t)(q - p);
		if (!addr_around(p, n, i, &a, &z))
			continue;
		addr = xstrndup(p + a, z - a);
		for (char *c = addr; *c; c++)
			*c = *c >= 'A' && *c <= 'Z' ? (char)(*c + ('a' - 'A')) : *c;
		i = z - 1;
		if (addr_excluded(s, addr)) {
			free(addr);
			continue;
		}
		if (!named++)
			s->ncur = 0;
		if ((k = addr_index(s, addr)) >= 0 && s->ncur < s->max)
			s->cur[s->ncur++] = k;
	}
}

static void
scan_line(struct scan *s, const char *p, size_t n)
{
	struct ev e;

	norm(&s->nb, p, n < BOUNCE_LINE_MAX ? n : BOUNCE_LINE_MAX);
	ev_line(s->nb.data, s->nb.len, &e);
	ev_merge(&s->global, &e);
	if (strstr(s->nb.data, "following addresses had")) {
		s->group = e;		/* old Sendmail: a heading per class of failure */
		s->ncur = 0;
		return;
	}
	scan_addrs(s, p, n);
	for (int i = 0; i < s->ncur; i++)
		ev_merge(&s->own[s->cur[i]], &e);
}

/* 1 if normalized line s opens a bounce report. */
static int
bounce_intro(const char *s, size_t n)
{
	static const char *const intro[] = {
		"mail delivery software", "could not be delivered", "couldn't be delivered",
		"not yet been delivered", "qmail-send program", "wasn't able to deliver",
		"following addresses had", "delivery has failed to these recipients",
		"i'm sorry to have to inform you", "this is the mail system at host",
		"your message wasn't delivered", "your message was not delivered",
		"address not found", "adresse introuvable", "delivery to the following recipient",
		"delivery incomplete", "temporary problem delivering", "message not delivered",
		"n'a pas pu etre remis", "n'a pas pu etre distribue", "n'a pas ete distribue",
		"n'a pas ete remis", "echec de la remise", "la remise aux destinataires",
		"message non delivre", "impossible de remettre", "unable to deliver",
		"probleme temporaire", "delivery failed", NULL
	};

	return any_infix(s, n, intro);
}

/* 1 if raw line p starts the copy of the returned message. */
static int
bounce_end(struct buf *nb, const char *p, size_t n)
{
	static const char *const ends[] = {
		"this is a copy of the message", "below this line is a copy",
		"original message", "message d'origine", "message original",
		"en-tetes de message", "en-tetes du message", "unsent message follows",
		"returned mail follows", "copy of the original message", "received:",
		"return-path:", "message-id:", "dkim-signature:", "content-type:",
		"mime-version:", "from:", "to:", "subject:", "date:", NULL
	};
	const char *s;

	norm(nb, p, n < NORM_MAX ? n : NORM_MAX);
	for (s = nb->data; *s == ' ' || *s == '>' || is_deco(*s); s++)
		;
	return any_prefix(s, ends);
}

/*
 * Scans text's report: from its opening line (or the top) to the returned
 * copy, within the first BOUNCE_INTRO_MAX + BOUNCE_BODY_MAX lines.
 */
static void
scan_text(struct scan *s, const char *text, int from_top)
{
	const char *p = text, *end = text + strlen(text), *e;
	int in = from_top, seen = 0, read = 0;

	for (; p < end && seen < BOUNCE_INTRO_MAX && read < BOUNCE_BODY_MAX; p = e + 1) {
		size_t n = (size_t)(((e = memchr(p, '\n', (size_t)(end - p))) ? e : end) - p);

		if (in && bounce_end(&s->nb, p, n))
			break;
		if (!in) {
			norm(&s->nb, p, n < NORM_MAX ? n : NORM_MAX);
			in = bounce_intro(s->nb.data, s->nb.len);
			seen++;
		}
		if (in) {
			scan_line(s, p, n);
			read++;
		}
		if (e == NULL)
			break;
	}
}

static int
from_mail_system(const struct mail *m)
{
	return m->from_addr && auto_local(m->from_addr) == SIGN_SYSTEM;
}

/*
 * 1 if the envelope of m says "delivery failure": a mail-system sender, a
 * null Return-Path, a report, Auto-Submitted or a bounce subject. Every
 * incoming message is scanned, and a resident writing "mon message n'a pas
 * pu être remis à x@example.fr" must not mark x's address as failing.
 */
static int
bounce_shaped(const struct mail *m)
{
	const char *v;

	if (m->is_dsn || from_mail_system(m))
		return 1;
	if ((v = hdr(m, "Return-Path")) && is_null_path(v))
		return 1;
	if ((v = hdr(m, "Content-Type")) && word_at(v, "multipart/report"))
		return 1;
	if ((v = hdr(m, "Auto-Submitted")) && !word_at(v, "no"))
		return 1;
	return m->subject && auto_subject(m->subject) == SIGN_BOUNCE;
}

int
ingest_reply_bounce_scan(const struct mail *m, char **addrs, int *permanent, int max)
{
	struct scan s = { m, addrs, permanent, max, 0, NULL, NULL, EV_NONE, EV_NONE,
	    NULL, 0, BUF_INIT };

	if (m == NULL || m->text == NULL || max <= 0 || (m->is_dsn && m->ndsn > 0))
		return 0;	/* a standard DSN is read from its report, not here */
	if (!bounce_shaped(m))
		return 0;
	s.own = xcalloc((size_t)max, sizeof(*s.own));
	s.grp = xcalloc((size_t)max, sizeof(*s.grp));
	s.cur = xcalloc((size_t)max, sizeof(*s.cur));
	scan_text(&s, m->text, 0);
	if (s.n == 0 && from_mail_system(m))
		scan_text(&s, m->text, 1);
	for (int i = 0; i < s.n; i++) {
		int v = ev_verdict(&s.own[i]);

		if (v < 0)
			v = ev_verdict(&s.grp[i]);
		if (v < 0)
			v = ev_verdict(&s.global);
		permanent[i] = v != 0;	/* a bounce that says nothing has given up */
	}
	free(s.own);
	free(s.grp);
	free(s.cur);
	buf_free(&s.nb);
	return s.n;
}
