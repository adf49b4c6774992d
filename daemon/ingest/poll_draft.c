/*
 * poll_draft.c — reading a poll out of a publisher's email. The subject
 * starts with "Sondage" and a colon, whatever the case and accents; the
 * options are the numbered lines of the body, 1 to 9 in order; a line
 * starting "Fin", "Clôture", "Date limite" or "Jusqu'au" gives its end.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/slug.h"
#include "ingest/poll_draft.h"

#define QUESTION_MAX	300
#define OPTION_MAX	80

static char *
trimmed(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* "12/1/2027" [à] [18h | 18:30 | 18 h 30] -> "2027-01-12 18:30"; NULL if no date. */
static char *
closing(const char *p)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int d, m, y, h = 18, min = 0, used = 0;

	while (*p && !isdigit((unsigned char)*p))
		p++;
	/* Checked here to the day: a date PostgreSQL refuses would fail the whole batch. */
	if (sscanf(p, "%2d/%2d/%4d%n", &d, &m, &y, &used) != 3 || m < 1 || m > 12 || d < 1 ||
	    d > days[m - 1] || (m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))) ||
	    y < 2000 || y > 2999)
		return NULL;
	p += used;
	while (*p && !isdigit((unsigned char)*p) && *p != '\n')
		p++;
	if (isdigit((unsigned char)*p) && sscanf(p, "%2d", &h) == 1) {
		while (isdigit((unsigned char)*p))
			p++;
		while (*p == ' ' || *p == 'h' || *p == 'H' || *p == ':')
			p++;
		if (isdigit((unsigned char)*p))
			sscanf(p, "%2d", &min);
	}
	if (h < 0 || h > 23 || min < 0 || min > 59)
		return NULL;
	return xasprintf("%04d-%02d-%02d %02d:%02d", y, m, d, h, min);
}

/* Whether a line gives the end: "Fin :", "Clôture :", "Date limite", "Jusqu'au". */
static int
is_end_line(const char *line)
{
	static const char *const words[] = { "fin", "cloture", "date-limite", "jusqu-au", "jusqu" };
	char *f = slug_from_name(line);
	int hit = 0;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]) && !hit; i++) {
		size_t n = strlen(words[i]);

		hit = strncmp(f, words[i], n) == 0 && (f[n] == '-' || f[n] == '\0');
	}
	free(f);
	return hit;
}

int
poll_draft_parse(const char *subject, const char *body, struct poll_draft *d)
{
	char *folded;
	const char *colon, *p;
	int is_poll;

	memset(d, 0, sizeof(*d));
	if (subject == NULL || (colon = strchr(subject, ':')) == NULL)
		return 0;
	folded = slug_from_name(subject);
	is_poll = strncmp(folded, "sondage", 7) == 0 && strspn(subject, " \t") < (size_t)(colon - subject);
	free(folded);
	if (is_poll) {
		/* Only "Sondage" (any case, with spaces) before the colon. */
		char *head = trimmed(subject, (size_t)(colon - subject));
		char *h = slug_from_name(head);

		is_poll = strcmp(h, "sondage") == 0;
		free(h);
		free(head);
	}
	if (!is_poll)
		return 0;
	d->question = trimmed(colon + 1, strlen(colon + 1));
	for (p = body ? body : ""; *p; ) {
		size_t n = strcspn(p, "\n");
		char *line = trimmed(p, n);
		const char *l = line;

		p += n + (p[n] == '\n');
		if (*l == '>') {	/* quoted text: the publisher's own lines are above */
			free(line);
			break;
		}
		size_t punct = *l ? 1 + strspn(l + 1, " \t") : 0;

		if (isdigit((unsigned char)l[0]) && l[punct] != '\0' && strchr(".):-", l[punct]) != NULL) {
			int num = l[0] - '0';
			char *label = trimmed(l + punct + 1, strlen(l + punct + 1));

			if (num != d->noptions + 1 || d->noptions == POLL_MAX_OPTIONS || *label == '\0') {
				if (d->problem == NULL)
					d->problem = num != d->noptions + 1 ?
					    "les choix doivent être numérotés dans l'ordre : 1, 2, 3..." :
					    *label == '\0' ? "un choix numéroté est vide" :
					    "un sondage a au plus 9 choix";
				free(label);
			} else if (strlen(label) > OPTION_MAX) {
				d->problem = "un choix est trop long (80 caractères au plus)";
				free(label);
			} else {
				d->options[d->noptions++] = label;
			}
		} else if (is_end_line(l) && d->closes == NULL) {
			if ((d->closes = closing(l)) == NULL && d->problem == NULL)
				d->problem = "la date de fin n'est pas lisible : écrivez par exemple "
				    "« Fin : 15/12/2026 18h »";
		}
		free(line);
	}
	if (d->problem == NULL && *d->question == '\0')
		d->problem = "la question manque : écrivez-la dans l'objet, après « Sondage : »";
	else if (d->problem == NULL && strlen(d->question) > QUESTION_MAX)
		d->problem = "la question est trop longue (300 caractères au plus)";
	else if (d->problem == NULL && d->noptions < 2)
		d->problem = "il faut au moins deux choix, un par ligne : « 1. Oui », « 2. Non »";
	for (int i = 0; i < d->noptions && d->problem == NULL; i++)
		for (int k = 0; k < i; k++)
			if (strcasecmp(d->options[i], d->options[k]) == 0)
				d->problem = "deux choix sont identiques";
	return 1;
}

void
poll_draft_free(struct poll_draft *d)
{
	free(d->question);
	for (int i = 0; i < d->noptions; i++)
		free(d->options[i]);
	free(d->closes);
	memset(d, 0, sizeof(*d));
}
