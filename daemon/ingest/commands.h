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

/*
 * A moderator's answer to a moderation notice: OK (publish) or REFUS
 * (refuse), read from the first line of what they wrote, else from the
 * start of the subject; "confiance" on that line also trusts the sender
 * from then on; what follows REFUS is the reason (newly allocated in
 * *reason, or NULL). *action is NULL when neither word is there.
 */
void ingest_command_moderation(const char *subject, const char *body, const char **action,
    int *trust, char **reason);

#endif
