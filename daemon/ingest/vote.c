/*
 * vote.c — reading a vote out of an SMS or an email reply. The words
 * themselves are sms_vote_choice's job; this file picks the poll.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "ingest/sms_words.h"
#include "ingest/vote.h"

/* sms_vote_choice for a poll: 1 with *choice (1-based), -1 unclear, 0 not a vote. */
static int
choice_in(const char *text, const struct vote_poll *p, int *choice)
{
	int c = 0, r = sms_vote_choice(text, (const char *const *)p->options, p->noptions, &c);

	*choice = r == 1 ? c + 1 : 0;
	return r;
}

/*
 * A leading poll code: one letter, then spaces or punctuation or straight
 * a digit ("B2", "b 2", "B: oui"), and something after it. Returns the
 * rest and sets *code (upper case); NULL if the text does not start so.
 */
static const char *
code_prefix(const char *text, char *code)
{
	const unsigned char *p = (const unsigned char *)text;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (!isalpha(*p) || *p >= 0x80)
		return NULL;
	*code = (char)toupper(*p);
	p++;
	if (isalpha(*p) || *p >= 0x80)		/* a word, not a code */
		return NULL;
	while (*p == ' ' || *p == ':' || *p == '-' || *p == '.' || *p == ',' || *p == ')')
		p++;
	return *p ? (const char *)p : NULL;
}

static void
set(struct vote_decision *d, enum vote_kind kind, const struct vote_poll *p, int choice)
{
	d->kind = kind;
	d->poll = p->id;
	d->resident = p->resident_id;
	d->choice = kind == VOTE_COUNT ? choice : 0;
}

/* A coded answer: 1 if the code named one of the polls and the rest is an answer. */
static int
coded(const char *text, const struct vote_poll *polls, size_t n, struct vote_decision *d)
{
	char code;
	const char *rest = code_prefix(text, &code);
	const struct vote_poll *p = NULL;
	int choice, r;

	if (rest == NULL)
		return 0;
	for (size_t i = 0; i < n && p == NULL; i++)	/* an open poll first: codes are reused */
		if (polls[i].code == code && polls[i].open)
			p = &polls[i];
	for (size_t i = 0; i < n && p == NULL; i++)
		if (polls[i].code == code)
			p = &polls[i];
	if (p == NULL || (r = choice_in(rest, p, &choice)) == 0)
		return 0;
	set(d, !p->open ? VOTE_LATE : r == 1 ? VOTE_COUNT : VOTE_UNCLEAR, p, choice);
	return 1;
}

void
vote_decide_sms(const char *text, const struct vote_poll *polls, size_t n,
    struct vote_decision *d)
{
	const struct vote_poll *answered = NULL, *looks = NULL;
	int nopen = 0, nanswered = 0, choice = 0;

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < n; i++)
		nopen += polls[i].open;
	d->several = nopen > 1;
	if (coded(text, polls, n, d))
		return;
	for (size_t i = 0; i < n; i++) {
		int c, r;

		if (!polls[i].open)
			continue;
		r = choice_in(text, &polls[i], &c);
		if (r != 0 && looks == NULL)
			looks = &polls[i];
		if (r == 1) {
			nanswered++;
			answered = &polls[i];
			choice = c;
		} else if (r == -1) {
			nanswered += 2;		/* unclear for this one: unclear overall */
		}
	}
	if (nanswered == 1) {		/* only one open poll has such an option */
		set(d, VOTE_COUNT, answered, choice);
		return;
	}
	if (looks) {
		set(d, VOTE_UNCLEAR, looks, 0);
		return;
	}
	/* No open poll takes it: an answer to the latest closed one is late. */
	for (size_t i = 0; i < n && nopen == 0; i++) {
		int c;

		if (!polls[i].open) {
			if (choice_in(text, &polls[i], &c) != 0)
				set(d, VOTE_LATE, &polls[i], 0);
			return;
		}
	}
}

#define EMAIL_LINES	5	/* the lines of a reply read one by one for a choice */

/* The first n lines with something on them, into lines[]; how many. Owned. */
static size_t
first_lines(const char *text, char **lines, size_t n)
{
	const char *p = text;
	size_t k = 0;

	while (p && *p && k < n) {
		size_t len = strcspn(p, "\n");
		size_t blank = strspn(p, " \t\r\xc2\xa0");

		if (blank < len)
			lines[k++] = xstrndup(p, len);
		p += len + (p[len] == '\n');
	}
	return k;
}

/* The subject without its "Re:" / "RE :" / "TR:" / "Fwd:" prefixes. Borrowed. */
static const char *
bare_subject(const char *s)
{
	static const char *const pre[] = { "re", "tr", "fw", "fwd", "aw", "sv" };
	int again = 1;

	while (s && again) {
		again = 0;
		while (*s == ' ')
			s++;
		for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
			size_t n = strlen(pre[i]);
			const char *q = s + n;

			if (strncasecmp(s, pre[i], n) != 0)
				continue;
			while (*q == ' ')
				q++;
			if (*q == ':') {
				s = q + 1;
				again = 1;
				break;
			}
		}
	}
	return s ? s : "";
}

void
vote_decide_email(const char *body, const char *subject, const struct vote_poll *polls,
    size_t n, struct vote_decision *d)
{
	char *lines[EMAIL_LINES];
	const char *tries[EMAIL_LINES + 2];
	size_t nl = first_lines(body ? body : "", lines, EMAIL_LINES), nt = 0;
	const struct vote_poll *p;
	int r = 0, choice = 0, done = 0;

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < nl; i++)
		tries[nt++] = lines[i];
	tries[nt++] = body;
	tries[nt++] = bare_subject(subject);
	for (size_t i = 0; i < nt && n > 0 && r == 0 && !done; i++) {
		struct vote_decision c;

		if (tries[i] == NULL || *tries[i] == '\0')
			continue;
		memset(&c, 0, sizeof(c));
		if (coded(tries[i], &polls[0], 1, &c)) {
			*d = c;
			done = 1;
		} else {
			r = choice_in(tries[i], &polls[0], &choice);
		}
	}
	for (size_t i = 0; i < nl; i++)
		free(lines[i]);
	if (n == 0 || done)
		return;
	p = &polls[0];
	set(d, !p->open ? VOTE_LATE : r == 1 ? VOTE_COUNT : VOTE_UNCLEAR, p, choice);
}
