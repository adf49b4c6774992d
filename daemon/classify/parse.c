/*
 * parse.c — reads rule files line by line into a struct rules: a lexer for
 * words, /patterns/ and "reasons", then one function per keyword. Compiles
 * each pattern once (with JIT); matches nothing. The first error wins and
 * is kept as "path:line: reason".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "classify/rules.h"

struct lex {
	const char	*p;
};

struct tok {
	const char	*s;
	int		 n;
};

static const char *const role_words[] = { "resident", "publisher", "unknown", NULL };
static const char *const source_words[] = { "email", "sms", NULL };

static int perr(struct parse *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
perr(struct parse *ps, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (ps->err)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	ps->err = xasprintf("%s:%d: %s", ps->set->files[ps->file].path, ps->line,
	    msg ? msg : "out of memory");
	free(msg);
	return -1;
}

static struct rule *
cur_rule(struct parse *ps)
{
	return &ps->set->v[ps->set->n - 1];
}

static void
lex_space(struct lex *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t')
		lx->p++;
}

/* The next blank-separated word into *t; 0 at the end of the line. */
static int
lex_word(struct lex *lx, struct tok *t)
{
	lex_space(lx);
	t->s = lx->p;
	while (*lx->p != '\0' && *lx->p != ' ' && *lx->p != '\t')
		lx->p++;
	t->n = (int)(lx->p - t->s);
	return t->n > 0;
}

static int
tok_is(struct tok t, const char *word)
{
	return strlen(word) == (size_t)t.n && memcmp(t.s, word, (size_t)t.n) == 0;
}

static int
lex_end(struct parse *ps, struct lex *lx)
{
	struct tok t;

	if (lex_word(lx, &t))
		return perr(ps, "unexpected '%.*s'", t.n, t.s);
	return 0;
}

/* Topic, tag and rule names: ASCII letters, digits, '-', '_' ('.' if dot). */
static int
tok_name(struct tok t, int lower_only)
{
	for (int i = 0; i < t.n; i++) {
		char c = t.s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || (!lower_only && ((c >= 'A' && c <= 'Z') || c == '.'))))
			return 0;
	}
	return t.n > 0;
}

/* A /pattern/flags: *pat its text (escapes kept: pcre2 reads them). */
static int
lex_pattern(struct parse *ps, struct lex *lx, char **pat, int *raw)
{
	const char *s;

	lex_space(lx);
	if (*lx->p != '/')
		return perr(ps, "expected a /pattern/");
	for (s = ++lx->p; *lx->p != '\0' && *lx->p != '/'; lx->p++)
		if (*lx->p == '\\' && lx->p[1] != '\0')
			lx->p++;
	if (*lx->p != '/')
		return perr(ps, "missing closing / of the pattern");
	*pat = xstrndup(s, (size_t)(lx->p++ - s));
	for (*raw = 0; *lx->p != '\0' && *lx->p != ' ' && *lx->p != '\t'; lx->p++) {
		if (*lx->p != 'r') {
			free(*pat);
			return perr(ps, "unknown pattern flag '%c' (only r)", *lx->p);
		}
		*raw = 1;
	}
	return 0;
}

/* A "quoted reason"; \" and \\ are the only escapes. */
static int
lex_quoted(struct parse *ps, struct lex *lx, char **out)
{
	struct buf b = BUF_INIT;

	lex_space(lx);
	if (*lx->p != '"')
		return perr(ps, "expected a \"reason\"");
	for (lx->p++; *lx->p != '\0' && *lx->p != '"'; lx->p++) {
		if (*lx->p == '\\' && (lx->p[1] == '"' || lx->p[1] == '\\'))
			lx->p++;
		buf_putc(&b, *lx->p);
	}
	if (*lx->p != '"') {
		buf_free(&b);
		return perr(ps, "missing closing quote");
	}
	lx->p++;
	if (b.len == 0)
		return perr(ps, "empty reason");
	*out = buf_take(&b);
	return 0;
}

static pcre2_code *
compile(struct parse *ps, const char *pat, int raw)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C |
	    (raw ? PCRE2_UCP : PCRE2_CASELESS);
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *re;
	int code;

	re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &code, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		perr(ps, "bad pattern: %s at offset %zu", (char *)msg, (size_t)off);
		return NULL;
	}
	/* Without JIT (unsupported platform) the interpreter's limits still hold. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static int
cond_pattern(struct parse *ps, struct lex *lx, struct cond *c)
{
	char *pat = NULL;

	if (lex_pattern(ps, lx, &pat, &c->raw) < 0)
		return -1;
	c->re = compile(ps, pat, c->raw);
	free(pat);
	return c->re ? 0 : -1;
}

static int
cond_field(struct parse *ps, struct lex *lx, struct tok t, struct cond *c)
{
	static const char *const names[] = { "", "subject", "body", "text", "header" };
	struct tok h;

	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (tok_is(t, names[i]))
			c->field = (enum cond_field)i;
	if (c->field == FIELD_NONE)
		return perr(ps, "unknown field '%.*s'", t.n, t.s);
	if (c->field != FIELD_HEADER)
		return 0;
	if (!lex_word(lx, &h) || h.s[0] == '/' || memchr(h.s, ':', (size_t)h.n))
		return perr(ps, "'header' needs a field name, as in header List-Id /x/");
	c->header = xstrndup(h.s, (size_t)h.n);
	return 0;
}

static int
cond_threshold(struct parse *ps, struct lex *lx, long max, long *out)
{
	struct tok t;
	char *end;

	if (!lex_word(lx, &t) || !tok_is(t, ">="))
		return perr(ps, "expected '>= NUMBER'");
	if (!lex_word(lx, &t))
		return perr(ps, "expected '>= NUMBER'");
	errno = 0;
	*out = strtol(t.s, &end, 10);
	if (end != t.s + t.n || errno != 0 || *out < 1 || *out > max)
		return perr(ps, "bad number '%.*s' (1 to %ld)", t.n, t.s, max);
	return 0;
}

static int
cond_words(struct parse *ps, struct lex *lx, const char *what,
    const char *const *words, unsigned *mask)
{
	struct tok t;

	while (lex_word(lx, &t)) {
		size_t i;

		for (i = 0; words[i] != NULL && !tok_is(t, words[i]); i++)
			continue;
		if (words[i] == NULL)
			return perr(ps, "unknown %s '%.*s'", what, t.n, t.s);
		*mask |= 1u << i;
	}
	return *mask ? 0 : perr(ps, "'%s' needs at least one value", what);
}

/* The condition after "if [not]", whose first word is t. */
static int
cond_parse(struct parse *ps, struct lex *lx, struct tok t, struct cond *c)
{
	struct tok f;

	if (tok_is(t, "role")) {
		c->kind = COND_ROLE;
		return cond_words(ps, lx, "role", role_words, &c->mask);
	}
	if (tok_is(t, "source")) {
		c->kind = COND_SOURCE;
		return cond_words(ps, lx, "source", source_words, &c->mask);
	}
	if (!tok_is(t, "count") && !tok_is(t, "caps")) {
		c->kind = COND_MATCH;
		return cond_field(ps, lx, t, c) < 0 ? -1 : cond_pattern(ps, lx, c);
	}
	c->kind = tok_is(t, "count") ? COND_COUNT : COND_CAPS;
	if (!lex_word(lx, &f))
		return perr(ps, "'%.*s' needs a field", t.n, t.s);
	if (cond_field(ps, lx, f, c) < 0)
		return -1;
	if (c->kind == COND_CAPS) {
		c->raw = 1;	/* folded text has no capitals left to count */
		return cond_threshold(ps, lx, 100, &c->min);
	}
	if (cond_pattern(ps, lx, c) < 0)
		return -1;
	return cond_threshold(ps, lx, 1000, &c->min);
}

static void
cond_clear(struct cond *c)
{
	free(c->header);
	pcre2_code_free(c->re);
}

/* Role and source tests go first: they cost nothing and often fail. */
static void
cond_add(struct rule *r, const struct cond *c)
{
	size_t at = r->nconds;

	if (c->kind == COND_ROLE || c->kind == COND_SOURCE)
		for (at = 0; at < r->nconds; at++)
			if (r->conds[at].kind != COND_ROLE && r->conds[at].kind != COND_SOURCE)
				break;
	r->conds = xreallocarray(r->conds, r->nconds + 1, sizeof(*r->conds));
	memmove(r->conds + at + 1, r->conds + at, (r->nconds - at) * sizeof(*r->conds));
	r->conds[at] = *c;
	r->nconds++;
}

static int
kw_if(struct parse *ps, struct lex *lx)
{
	struct cond c = { .kind = COND_MATCH };
	struct tok t;

	if (!lex_word(lx, &t))
		return perr(ps, "'if' needs a condition");
	if (tok_is(t, "not")) {
		c.negate = 1;
		if (!lex_word(lx, &t))
			return perr(ps, "'not' needs a condition");
	}
	if (cond_parse(ps, lx, t, &c) < 0 || lex_end(ps, lx) < 0) {
		cond_clear(&c);
		return -1;
	}
	cond_add(cur_rule(ps), &c);
	return 0;
}

static void
act_add(struct parse *ps, enum act_kind kind, char *arg, enum classify_scope scope)
{
	struct rule *r = cur_rule(ps);

	r->acts = xreallocarray(r->acts, r->nacts + 1, sizeof(*r->acts));
	r->acts[r->nacts++] = (struct action){ kind, arg, scope, ps->line };
}

/* topic NAME and tag NAME. */
static int
act_named(struct parse *ps, struct lex *lx, enum act_kind kind)
{
	const char *what = kind == ACT_TOPIC ? "topic" : "tag";
	struct tok t;

	if (!lex_word(lx, &t))
		return perr(ps, "'%s' needs a name", what);
	if (!tok_name(t, 1))
		return perr(ps, "bad %s '%.*s' (a-z, 0-9, - and _)", what, t.n, t.s);
	if (lex_end(ps, lx) < 0)
		return -1;
	act_add(ps, kind, xstrndup(t.s, (size_t)t.n), CLASSIFY_SAME);
	return 0;
}

static int
kw_topic(struct parse *ps, struct lex *lx)
{
	return act_named(ps, lx, ACT_TOPIC);
}

static int
kw_tag(struct parse *ps, struct lex *lx)
{
	return act_named(ps, lx, ACT_TAG);
}

static int
kw_scope(struct parse *ps, struct lex *lx)
{
	struct tok t;
	enum classify_scope scope;

	if (!lex_word(lx, &t))
		return perr(ps, "'scope' needs district or city");
	if (tok_is(t, "district"))
		scope = CLASSIFY_DISTRICT;
	else if (tok_is(t, "city"))
		scope = CLASSIFY_CITY;
	else
		return perr(ps, "unknown scope '%.*s' (district or city)", t.n, t.s);
	if (lex_end(ps, lx) < 0)
		return -1;
	act_add(ps, ACT_SCOPE, NULL, scope);
	return 0;
}

static int
act_reason(struct parse *ps, struct lex *lx, enum act_kind kind)
{
	char *reason = NULL;

	if (lex_quoted(ps, lx, &reason) < 0)
		return -1;
	if (lex_end(ps, lx) < 0) {
		free(reason);
		return -1;
	}
	act_add(ps, kind, reason, CLASSIFY_SAME);
	return 0;
}

static int
kw_hold(struct parse *ps, struct lex *lx)
{
	return act_reason(ps, lx, ACT_HOLD);
}

static int
kw_refuse(struct parse *ps, struct lex *lx)
{
	return act_reason(ps, lx, ACT_REFUSE);
}

static int
kw_stop(struct parse *ps, struct lex *lx)
{
	if (lex_end(ps, lx) < 0)
		return -1;
	act_add(ps, ACT_STOP, NULL, CLASSIFY_SAME);
	return 0;
}

static int
rule_name_taken(const struct parse *ps, struct tok t)
{
	for (size_t i = 0; i < ps->set->n; i++)
		if (ps->set->v[i].file == ps->file && tok_is(t, ps->set->v[i].name))
			return ps->set->v[i].line;
	return 0;
}

static int
kw_rule(struct parse *ps, struct lex *lx)
{
	struct rules *set = ps->set;
	struct tok t;
	int prev;

	if (classify_parse_end(ps) < 0)
		return -1;
	if (!lex_word(lx, &t))
		return perr(ps, "'rule' needs a name");
	if (!tok_name(t, 0))
		return perr(ps, "bad rule name '%.*s' (letters, digits, - _ .)", t.n, t.s);
	if ((prev = rule_name_taken(ps, t)) != 0)
		return perr(ps, "rule '%.*s' already defined on line %d", t.n, t.s, prev);
	if (lex_end(ps, lx) < 0)
		return -1;
	set->v = xreallocarray(set->v, set->n + 1, sizeof(*set->v));
	set->v[set->n++] = (struct rule){ .file = ps->file, .line = ps->line,
	    .name = xstrndup(t.s, (size_t)t.n) };
	ps->in_rule = 1;
	return 0;
}

static void
topic_declare(struct rules *set, struct tok t)
{
	for (size_t i = 0; i < set->ntopics; i++)
		if (tok_is(t, set->topics[i]))
			return;
	set->topics = xreallocarray(set->topics, set->ntopics + 1, sizeof(*set->topics));
	set->topics[set->ntopics++] = xstrndup(t.s, (size_t)t.n);
}

static int
kw_declare(struct parse *ps, struct lex *lx)
{
	struct tok t;
	int n = 0;

	if (ps->in_rule)
		return perr(ps, "'declare' must come before the first rule of its file");
	if (!lex_word(lx, &t) || !tok_is(t, "topic"))
		return perr(ps, "expected 'declare topic NAME...'");
	for (; lex_word(lx, &t); n++) {
		if (!tok_name(t, 1))
			return perr(ps, "bad topic '%.*s' (a-z, 0-9, - and _)", t.n, t.s);
		topic_declare(ps->set, t);
	}
	return n ? 0 : perr(ps, "expected 'declare topic NAME...'");
}

static const struct keyword {
	const char	*word;
	int		(*fn)(struct parse *, struct lex *);
	int		 in_rule;	/* only inside a rule */
} keywords[] = {
	{ "rule", kw_rule, 0 },		{ "declare", kw_declare, 0 },
	{ "if", kw_if, 1 },		{ "topic", kw_topic, 1 },
	{ "scope", kw_scope, 1 },	{ "hold", kw_hold, 1 },
	{ "refuse", kw_refuse, 1 },	{ "tag", kw_tag, 1 },
	{ "stop", kw_stop, 1 },
};

int
classify_parse_line(struct parse *ps, const char *line)
{
	struct lex lx = { line };
	struct tok t;

	if (!utf8_valid(line, strlen(line), NULL))
		return perr(ps, "not UTF-8");
	lex_space(&lx);
	if (*lx.p == '\0' || *lx.p == '#')
		return 0;
	lex_word(&lx, &t);
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (!tok_is(t, keywords[i].word))
			continue;
		if (keywords[i].in_rule && !ps->in_rule)
			return perr(ps, "'%s' outside a rule (start one with 'rule NAME')",
			    keywords[i].word);
		return keywords[i].fn(ps, &lx);
	}
	return perr(ps, "unknown keyword '%.*s' (rule, declare, if, topic, scope, "
	    "hold, refuse, tag, stop)", t.n, t.s);
}

int
classify_parse_end(struct parse *ps)
{
	struct rule *r;

	if (!ps->in_rule)
		return 0;
	ps->in_rule = 0;
	r = cur_rule(ps);
	if (r->nacts > 0)
		return 0;
	ps->line = r->line;
	return perr(ps, "rule '%s' has no action", r->name);
}

void
classify_rule_clear(struct rule *r)
{
	for (size_t i = 0; i < r->nconds; i++)
		cond_clear(&r->conds[i]);
	for (size_t i = 0; i < r->nacts; i++)
		free(r->acts[i].arg);
	free(r->conds);
	free(r->acts);
	free(r->name);
}
