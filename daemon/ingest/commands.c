/*
 * commands.c — reading a command word from an email to aide@. Looks at
 * the subject, then the first three non-empty lines of what the resident
 * wrote; the first word that is a command wins. Pure; no I/O.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/slug.h"
#include "ingest/commands.h"

static const struct {
	const char	*word;		/* as slug_from_name folds it */
	struct command	 cmd;
} words[] = {
	{ "aide", { "help", "command-aide" } },
	{ "help", { "help", "command-aide" } },
	{ "stop", { "stop", "command-stop" } },
	{ "arret", { "stop", "command-stop" } },
	{ "desabonner", { "stop", "command-stop" } },
	{ "desinscrire", { "stop", "command-stop" } },
	{ "reprendre", { "start", "command-reprendre" } },
	{ "start", { "start", "command-reprendre" } },
	{ "quotidien", { "daily", "command-frequency" } },
	{ "quotidienne", { "daily", "command-frequency" } },
	{ "hebdo", { "weekly", "command-frequency" } },
	{ "hebdomadaire", { "weekly", "command-frequency" } },
	{ "immediat", { "immediate", "command-frequency" } },
	{ "immediatement", { "immediate", "command-frequency" } },
};

/* The command among the first words of text (folded to a slug), if any. */
static const struct command *
find(const char *text, int max_words)
{
	char *slug = slug_from_name(text), *save = NULL;
	const struct command *found = NULL;
	int n = 0;

	for (char *w = strtok_r(slug, "-", &save); w && !found && n < max_words;
	    w = strtok_r(NULL, "-", &save), n++) {
		if (strcmp(w, "re") == 0 || strcmp(w, "tr") == 0 || strcmp(w, "fwd") == 0) {
			n--;	/* "Re:" and "TR:" are not words of the resident's */
			continue;
		}
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strcmp(w, words[i].word) == 0) {
				found = &words[i].cmd;
				break;
			}
	}
	free(slug);
	return found;
}

struct command
ingest_command_email(const char *subject, const char *body)
{
	static const struct command unknown = { "unknown", "command-unknown" };
	const struct command *c = find(subject ? subject : "", 3);
	const char *p = body ? body : "";
	int lines = 0;

	while (c == NULL && *p && lines < 3) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n);

		if (line[strspn(line, " \t\r")] != '\0') {
			c = find(line, 3);
			lines++;
		}
		free(line);
		p += n + (p[n] == '\n');
	}
	return c ? *c : unknown;
}

static const struct {
	const char	*word;
	const char	*action;
} mod_words[] = {
	{ "ok", "ok" }, { "oui", "ok" }, { "publier", "ok" }, { "accepter", "ok" },
	{ "valider", "ok" }, { "d-accord", "ok" },
	{ "refus", "refuse" }, { "refuser", "refuse" }, { "non", "refuse" },
	{ "rejeter", "refuse" }, { "supprimer", "refuse" },
};

/* The action a line starts with, and where its reason begins; NULL if none. */
static const char *
mod_action_of(const char *line, const char **rest)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t' || *p == '>')
		p++;
	for (size_t i = 0; i < sizeof(mod_words) / sizeof(mod_words[0]); i++) {
		const char *w = mod_words[i].word;
		size_t n = strlen(w);
		char *first = slug_from_name(p);
		int hit = strncmp(first, w, n) == 0 && (first[n] == '\0' || first[n] == '-');

		free(first);
		if (hit) {
			/* Skip the word as written (it may have accents or an apostrophe). */
			size_t skip = strcspn(p, " \t:,.!;");

			*rest = p + skip;
			return mod_words[i].action;
		}
	}
	return NULL;
}

static char *
reason_from(const char *rest)
{
	size_t n;

	while (*rest == ' ' || *rest == ':' || *rest == ',' || *rest == '.' || *rest == '-' ||
	    *rest == '!' || *rest == ';')
		rest++;
	n = strcspn(rest, "\r\n");
	while (n && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
		n--;
	return n ? xstrndup(rest, n) : NULL;
}

void
ingest_command_moderation(const char *subject, const char *body, const char **action,
    int *trust, char **reason)
{
	const char *p = body ? body : "", *rest = NULL;
	char *line = NULL, *folded;

	*action = NULL;
	*trust = 0;
	*reason = NULL;
	while (*p && line == NULL) {
		size_t n = strcspn(p, "\n");

		if (p[strspn(p, " \t\r")] != '\n' && p[strspn(p, " \t\r")] != '\0')
			line = xstrndup(p, n);
		p += n + (p[n] == '\n');
	}
	if ((line == NULL || (*action = mod_action_of(line, &rest)) == NULL) && subject) {
		const char *s = subject;

		while (strncasecmp(s, "re:", 3) == 0 || strncasecmp(s, "re :", 4) == 0)
			s += s[2] == ':' ? 3 : 4;
		*action = mod_action_of(s, &rest);
	}
	if (*action) {
		folded = slug_from_name(rest);
		*trust = strstr(folded, "confiance") != NULL;
		free(folded);
		if (strcmp(*action, "refuse") == 0)
			*reason = reason_from(rest);
	}
	free(line);
}
