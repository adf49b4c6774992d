/*
 * commands.h — the commands residents write to aide@: AIDE, STOP,
 * QUOTIDIEN, HEBDO, IMMEDIAT, REPRENDRE, in the subject or the body.
 */
#ifndef PALIER_INGEST_COMMANDS_H
#define PALIER_INGEST_COMMANDS_H

struct command {
	const char	*name;		/* help, stop, start, daily, weekly, immediate, unknown */
	const char	*answer;	/* the template that answers it */
};

/*
 * The command in an email: the subject is read first, then the first
 * lines of the body the resident wrote; case and accents don't matter,
 * and "Re:" or punctuation around the word neither. Never NULL: a message
 * with no command is "unknown" (answered with the list of commands).
 */
struct command ingest_command_email(const char *subject, const char *body);

#endif
