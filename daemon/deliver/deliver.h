/*
 * deliver.h — the last stage: handing finished messages to a relay or a
 * gateway. A backend sends a batch and says, per message, sent, try again
 * later, or failed for good. Only deliver/ talks to relays and gateways.
 */
#ifndef PALIER_DELIVER_DELIVER_H
#define PALIER_DELIVER_DELIVER_H

#include <stddef.h>

enum deliver_result { DELIVER_PENDING = 0, DELIVER_OK, DELIVER_TEMP, DELIVER_PERM };

struct outmsg {
	long		 id;		/* the outgoing row, for names and logs */
	const char	*recipient;	/* an address, or an E.164 number */
	const char	*envelope_from;	/* email: bounce+<token>@domain */
	const char	*data;		/* email: the whole message, CRLF; SMS: UTF-8 text */
	size_t		 len;
	int		 urgent;
	/* set by the backend */
	enum deliver_result result;
	char		 error[200];
	char		 gateway_id[64];
	/*
	 * A message made as it is sent (only for backends with lazy set):
	 * when load is set, envelope_from, data and len are made by load just
	 * before the backend needs them, and released by unload once the
	 * message is written; a worker then holds one or two messages, never
	 * its whole batch. load returns -1 after setting result and error.
	 */
	int		(*load)(struct outmsg *m);
	void		(*unload)(struct outmsg *m);
	void		*ctx;		/* the loader's */
};

/* Makes m's bytes if they are made lazily: 0, or -1 with m's result and error set. */
int deliver_msg_load(struct outmsg *m);
/* Releases what deliver_msg_load made (nothing for a message made beforehand). */
void deliver_msg_unload(struct outmsg *m);

struct deliver_backend {
	const char	*name;
	int		 lazy;		/* takes messages made as they are sent (outmsg load) */
	/* Sends every message; sets each result. Returns 0, -1 if nothing could be tried. */
	int		(*send)(struct deliver_backend *b, struct outmsg *msgs, size_t n);
	void		(*free)(struct deliver_backend *b);
};

/*
 * The backend a config string names: "file:DIR" writes files (DIR/NNN.eml
 * for email, DIR/NNN.sms for SMS); "host:port" is an SMTP relay. NULL and
 * *err when the string names nothing we know.
 */
struct deliver_backend *deliver_email_new(const char *relay, char **err);
void deliver_backend_free(struct deliver_backend *b);

/* file:DIR, for email (.eml) or SMS (.sms). */
struct deliver_backend *deliver_file_new(const char *dir, const char *ext, char **err);
/* An SMTP relay at host:port, through libesmtp. */
struct deliver_backend *deliver_smtp_new(const char *hostport, const char *helo, char **err);

#endif
