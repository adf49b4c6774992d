/*
 * run.c — classify_run: walks a loaded rule set over one post and fills in
 * its result. Keeps per-thread pcre2 state (match data, a match context
 * carrying the limits, a JIT stack) and never writes to the rule set, so
 * any number of threads may share one. Never logs any text of the post.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "classify/rules.h"

struct tstate {
	pcre2_match_data	*md;
	pcre2_match_context	*mc;
	pcre2_jit_stack		*js;
	struct buf		 fold;	/* folded subject, "\n", folded body */
	struct buf		 raw;	/* subject "\n" body as received */
};

struct span {
	const char	*s;
	size_t		 n;
};

struct view {
	const struct rules		*set;
	const struct classify_input	*in;
	struct tstate			*ts;
	struct span			 subj, body;	/* as received, capped */
	size_t				 fsubj_n;	/* the folded subject's length */
	int				 have_raw;	/* ts->raw is built */
	char				**hfold;	/* folded header values, on demand */
	struct timespec			 deadline;	/* of this thread's CPU clock */
	struct timespec			 wall;		/* the same length on the coarse wall clock */
	int				 over;		/* the time budget is spent */
	int				 limited;
	const struct rule		*logged;	/* the last rule logged as limited */
};

static pthread_key_t ts_key;
static pthread_once_t ts_once = PTHREAD_ONCE_INIT;
static int ts_key_ok;

static void
ts_free(void *p)
{
	struct tstate *ts = p;

	if (ts == NULL)
		return;
	pcre2_match_data_free(ts->md);
	pcre2_match_context_free(ts->mc);
	pcre2_jit_stack_free(ts->js);
	buf_free(&ts->fold);
	buf_free(&ts->raw);
	free(ts);
}

static void
ts_key_make(void)
{
	ts_key_ok = pthread_key_create(&ts_key, ts_free) == 0;
}

static struct tstate *
ts_new(void)
{
	struct tstate *ts = xcalloc(1, sizeof(*ts));

	ts->md = pcre2_match_data_create(1, NULL);
	ts->mc = pcre2_match_context_create(NULL);
	ts->js = pcre2_jit_stack_create(32 * 1024, CLASSIFY_JIT_STACK_MAX, NULL);
	if (ts->md == NULL || ts->mc == NULL || ts->js == NULL) {
		ts_free(ts);
		return NULL;
	}
	pcre2_set_match_limit(ts->mc, CLASSIFY_MATCH_LIMIT);
	pcre2_set_depth_limit(ts->mc, CLASSIFY_DEPTH_LIMIT);
	pcre2_set_heap_limit(ts->mc, CLASSIFY_HEAP_LIMIT_KB);
	pcre2_jit_stack_assign(ts->mc, NULL, ts->js);
	return ts;
}

/* This thread's match state, made on its first call; freed at thread exit. */
static struct tstate *
ts_get(void)
{
	struct tstate *ts;

	pthread_once(&ts_once, ts_key_make);
	if (!ts_key_ok)
		return NULL;
	if ((ts = pthread_getspecific(ts_key)) != NULL)
		return ts;
	if ((ts = ts_new()) != NULL && pthread_setspecific(ts_key, ts) != 0) {
		ts_free(ts);
		ts = NULL;
	}
	return ts;
}

static struct span
span_of(const char *s)
{
	s = s ? s : "";
	return (struct span){ s, classify_cap(s, strlen(s)) };
}

static void
view_init(struct view *v, const struct rules *set, const struct classify_input *in,
    struct tstate *ts)
{
	memset(v, 0, sizeof(*v));
	v->set = set;
	v->in = in;
	v->ts = ts;
	v->subj = span_of(in->subject);
	v->body = span_of(in->body);
	buf_reset(&ts->fold);
	classify_fold(&ts->fold, v->subj.s, v->subj.n);
	v->fsubj_n = ts->fold.len;
	buf_putc(&ts->fold, '\n');
	classify_fold(&ts->fold, v->body.s, v->body.n);
	/*
	 * The budget is CPU time of this thread: on a busy machine the wall
	 * clock would cut an ordinary post short and change its outcome.
	 */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &v->deadline);
	ts_add_ms(&v->deadline, CLASSIFY_BUDGET_MS);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &v->wall);
	ts_add_ms(&v->wall, CLASSIFY_BUDGET_MS);
}

static void
view_free(struct view *v)
{
	if (v->hfold != NULL)
		for (size_t i = 0; i < v->in->nheaders; i++)
			free(v->hfold[i]);
	free(v->hfold);
}

static struct span
view_field(struct view *v, enum cond_field f, int raw)
{
	const struct buf *fold = &v->ts->fold;

	if (!raw && f == FIELD_SUBJECT)
		return (struct span){ fold->data, v->fsubj_n };
	if (!raw && f == FIELD_BODY)
		return (struct span){ fold->data + v->fsubj_n + 1, fold->len - v->fsubj_n - 1 };
	if (!raw)
		return (struct span){ fold->data, fold->len };
	if (f == FIELD_SUBJECT)
		return v->subj;
	if (f == FIELD_BODY)
		return v->body;
	if (!v->have_raw) {
		buf_reset(&v->ts->raw);
		buf_append(&v->ts->raw, v->subj.s, v->subj.n);
		buf_putc(&v->ts->raw, '\n');
		buf_append(&v->ts->raw, v->body.s, v->body.n);
		v->have_raw = 1;
	}
	return (struct span){ v->ts->raw.data, v->ts->raw.len };
}

static struct span
view_header(struct view *v, size_t i, int raw)
{
	struct span sp = span_of(v->in->header_values[i]);
	struct buf b = BUF_INIT;

	if (raw)
		return sp;
	if (v->hfold == NULL)
		v->hfold = xcalloc(v->in->nheaders, sizeof(*v->hfold));
	if (v->hfold[i] == NULL) {
		classify_fold(&b, sp.s, sp.n);
		v->hfold[i] = buf_take(&b);
	}
	return span_of(v->hfold[i]);
}

/* The next text that c reads, from *pos on; 0 when none is left. */
static int
span_next(struct view *v, const struct cond *c, size_t *pos, struct span *sp)
{
	if (c->field != FIELD_HEADER) {
		if ((*pos)++ > 0)
			return 0;
		*sp = view_field(v, c->field, c->raw);
		return 1;
	}
	for (; *pos < v->in->nheaders; (*pos)++) {
		const char *name = v->in->header_names[*pos];

		if (name != NULL && strcasecmp(name, c->header) == 0) {
			*sp = view_header(v, (*pos)++, c->raw);
			return 1;
		}
	}
	return 0;
}

static void
limit_log(struct view *v, const struct rule *r, const char *why)
{
	v->limited = 1;
	if (v->logged == r)
		return;
	v->logged = r;
	log_warn("filter_limit", "file=%s line=%d rule=%s error=%s",
	    log_q(v->set->files[r->file].path), r->line, log_q(r->name), log_q(why));
}

/*
 * Before each match. A thread's CPU clock is a system call (several per
 * post were 2 % of the intake's time); the coarse wall clock is a vDSO
 * read. A thread cannot have used more CPU than the time that passed, so
 * the CPU clock is only asked once the budget's length has passed on the
 * wall clock: never for an ordinary post, every match for a slow one (on
 * a busy machine, the CPU clock keeps a slow wall clock from cutting it).
 */
static int
budget_ok(struct view *v, const struct rule *r)
{
	struct timespec now;

	if (v->over)
		return 0;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (ts_before(&now, &v->wall))
		return 1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	if (ts_before(&now, &v->deadline))
		return 1;
	v->over = 1;
	limit_log(v, r, "time budget spent, later patterns skipped");
	return 0;
}

/* Where to look after the match [from, to): one character on if it is empty. */
static size_t
next_offset(struct span sp, size_t from, size_t to)
{
	if (to > from)
		return to;
	if (to >= sp.n)
		return sp.n + 1;
	for (to++; to < sp.n && ((unsigned char)sp.s[to] & 0xc0) == 0x80; to++)
		continue;
	return to;
}

/* 1 on a match (*next set if next), 0 none, -1 a limit was hit (logged). */
static int
re_match(struct view *v, const struct rule *r, const struct cond *c, struct span sp,
    size_t *next)
{
	size_t off = next ? *next : 0;
	PCRE2_UCHAR msg[128];
	int rc;

	if (!budget_ok(v, r))
		return -1;
	rc = pcre2_match(c->re, (PCRE2_SPTR)sp.s, sp.n, off, 0, v->ts->md, v->ts->mc);
	if (rc >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(v->ts->md);

		if (next)
			*next = next_offset(sp, ov[0], ov[1]);
		return 1;
	}
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	pcre2_get_error_message(rc, msg, sizeof(msg));
	limit_log(v, r, (const char *)msg);
	return -1;
}

static int
cond_match(struct view *v, const struct rule *r, const struct cond *c)
{
	struct span sp;
	size_t pos = 0;
	int rc;

	while (span_next(v, c, &pos, &sp))
		if ((rc = re_match(v, r, c, sp, NULL)) != 0)
			return rc;
	return 0;
}

static int
cond_count(struct view *v, const struct rule *r, const struct cond *c)
{
	struct span sp;
	size_t pos = 0;
	long k = 0;

	while (k < c->min && span_next(v, c, &pos, &sp)) {
		size_t off = 0;
		int rc;

		while (k < c->min && off <= sp.n && (rc = re_match(v, r, c, sp, &off)) != 0) {
			if (rc < 0)
				return -1;
			k++;
		}
	}
	return k >= c->min;
}

static int
cond_caps(struct view *v, const struct cond *c)
{
	size_t upper = 0, lower = 0, pos = 0;
	struct span sp;

	while (span_next(v, c, &pos, &sp)) {
		size_t u, l;

		classify_count_case(sp.s, sp.n, &u, &l);
		upper += u;
		lower += l;
	}
	if (upper + lower < CLASSIFY_CAPS_MIN)
		return 0;
	return upper * 100 >= (size_t)c->min * (upper + lower);
}

/* A condition that hit a limit is false, negated or not. */
static int
cond_holds(struct view *v, const struct rule *r, const struct cond *c)
{
	int rc;

	switch (c->kind) {
	case COND_ROLE:
		rc = (unsigned)v->in->role < 3 && ((c->mask >> v->in->role) & 1);
		break;
	case COND_SOURCE:
		rc = (unsigned)v->in->source < 2 && ((c->mask >> v->in->source) & 1);
		break;
	case COND_MATCH:
		rc = cond_match(v, r, c);
		break;
	case COND_COUNT:
		rc = cond_count(v, r, c);
		break;
	default:
		rc = cond_caps(v, c);
		break;
	}
	if (rc < 0)
		return 0;
	return c->negate ? !rc : rc;
}

static int
rule_matches(struct view *v, const struct rule *r)
{
	for (size_t i = 0; i < r->nconds; i++)
		if (!cond_holds(v, r, &r->conds[i]))
			return 0;
	return 1;
}

/*
 * 1 if no action of r could change out any more (its topic and scope are
 * taken, its hold or refuse outranked): r is then not evaluated at all.
 */
static int
rule_spent(const struct rule *r, const struct classify_result *out)
{
	for (size_t i = 0; i < r->nacts; i++) {
		switch (r->acts[i].kind) {
		case ACT_TOPIC:
			if (out->topic == NULL)
				return 0;
			break;
		case ACT_SCOPE:
			if (out->scope == CLASSIFY_SAME)
				return 0;
			break;
		case ACT_HOLD:
			if (out->decision == CLASSIFY_PUBLISH)
				return 0;
			break;
		case ACT_REFUSE:
			if (out->decision != CLASSIFY_REFUSE)
				return 0;
			break;
		default:
			return 0;
		}
	}
	return 1;
}

static void
tag_add(struct classify_result *out, const char *tag)
{
	for (size_t i = 0; i < out->ntags; i++)
		if (strcmp(out->tags[i], tag) == 0)
			return;
	out->tags = xreallocarray(out->tags, out->ntags + 1, sizeof(*out->tags));
	out->tags[out->ntags++] = xstrdup(tag);
}

/* Topic and scope: the first rule that sets one wins. refuse > hold > publish. */
static void
act_apply(const struct action *a, struct classify_result *out)
{
	switch (a->kind) {
	case ACT_TOPIC:
		if (out->topic == NULL)
			out->topic = xstrdup(a->arg);
		break;
	case ACT_SCOPE:
		if (out->scope == CLASSIFY_SAME)
			out->scope = a->scope;
		break;
	case ACT_HOLD:
	case ACT_REFUSE:
		if ((a->kind == ACT_HOLD && out->decision != CLASSIFY_PUBLISH) ||
		    out->decision == CLASSIFY_REFUSE)
			break;
		free(out->reason);
		out->reason = xstrdup(a->arg);
		out->decision = a->kind == ACT_HOLD ? CLASSIFY_HOLD : CLASSIFY_REFUSE;
		break;
	case ACT_TAG:
		tag_add(out, a->arg);
		break;
	case ACT_STOP:
		break;
	}
}

/* Records r as matched and applies its actions; 1 if it says stop. */
static int
rule_apply(const struct rules *set, const struct rule *r, struct classify_result *out)
{
	struct classify_match *m;
	int stop = 0;

	out->matches = xreallocarray(out->matches, out->nmatches + 1, sizeof(*out->matches));
	m = &out->matches[out->nmatches++];
	m->file = xstrdup(set->files[r->file].base);
	m->line = r->line;
	m->name = xstrdup(r->name);
	for (size_t i = 0; i < r->nacts; i++) {
		act_apply(&r->acts[i], out);
		stop |= r->acts[i].kind == ACT_STOP;
	}
	return stop;
}

int
classify_run(const struct rules *set, const struct classify_input *in,
    struct classify_result *out)
{
	struct tstate *ts;
	struct view v;

	memset(out, 0, sizeof(*out));
	if (set == NULL || in == NULL || (ts = ts_get()) == NULL) {
		log_error("classify_failed", "reason=%s",
		    set && in ? "no_match_state" : "no_rules");
		out->decision = CLASSIFY_HOLD;
		out->reason = xstrdup("erreur interne des filtres");
		return -1;
	}
	view_init(&v, set, in, ts);
	for (size_t i = 0; i < set->n; i++)
		if (!rule_spent(&set->v[i], out) && rule_matches(&v, &set->v[i]) &&
		    rule_apply(set, &set->v[i], out))
			break;
	out->limited = v.limited;
	view_free(&v);
	return 0;
}

void
classify_result_free(struct classify_result *res)
{
	if (res == NULL)
		return;
	for (size_t i = 0; i < res->ntags; i++)
		free(res->tags[i]);
	for (size_t i = 0; i < res->nmatches; i++) {
		free(res->matches[i].file);
		free(res->matches[i].name);
	}
	free(res->topic);
	free(res->reason);
	free(res->tags);
	free(res->matches);
	memset(res, 0, sizeof(*res));
}
