/*
 * commands.c — reading a command word from an email to aide@. Looks at
 * the subject, then the first three non-empty lines of what the resident
 * wrote; the first word that is a command wins. Pure; no I/O.
 */
#include <stdlib.h>
#include <string.h>

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
