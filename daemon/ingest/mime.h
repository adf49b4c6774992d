/*
 * mime.h — an internet message, understood: the header fields palier
 * needs (decoded to UTF-8), the text the sender wrote (text/plain
 * preferred, HTML turned into text otherwise), attachments as metadata,
 * and delivery status notifications. Parsing is bounded: at most
 * MIME_MAX_DEPTH levels of nesting and MIME_MAX_PARTS parts.
 */
#ifndef PALIER_INGEST_MIME_H
#define PALIER_INGEST_MIME_H

#include <stddef.h>

#define MIME_MAX_DEPTH	100
#define MIME_MAX_PARTS	10000

struct mail_header {
	char	*name;		/* as written, e.g. "Subject" */
	char	*value;		/* unfolded, RFC 2047 decoded to UTF-8, control characters removed */
};

struct mail_attachment {
	char	*filename;	/* decoded (RFC 2047/2231) UTF-8, NULL if none; never used as a path */
	char	*type;		/* "application/pdf", lower case */
	size_t	 size;		/* decoded bytes */
};

/* One per-recipient block of a delivery status notification (RFC 3464). */
struct mail_dsn {
	char	*recipient;	/* Final-Recipient (or Original-Recipient) addr-spec */
	char	*action;	/* failed, delayed, delivered, relayed, expanded (lower case) */
	char	*status;	/* "5.1.1" */
	char	*diagnostic;	/* Diagnostic-Code, may be NULL */
};

struct mail {
	struct mail_header	*headers;	/* every header field, in order */
	size_t			 nheaders;

	/* Shortcuts into what the headers say (owned copies, NULL when absent). */
	char	*from_addr;	/* the From addr-spec, domain lower-cased; never the display name */
	char	*from_name;	/* the From display name, decoded */
	char	*subject;	/* decoded, unfolded */
	char	*message_id;	/* without angle brackets */
	char	*in_reply_to;	/* first msg-id, without angle brackets */
	int	 received_count;

	char	*text;		/* the body as UTF-8 text, "" when there is none */
	int	 text_from_html;	/* 1 if text came from an HTML part */
	char	*charset_used;	/* the charset text was decoded from ("utf-8", "windows-1252", ...) */

	struct mail_attachment	*attachments;
	size_t			 nattachments;

	int	 is_dsn;	/* multipart/report; report-type=delivery-status */
	struct mail_dsn		*dsn;
	size_t			 ndsn;

	size_t	 nparts;	/* MIME parts seen */
};

/*
 * Parses a whole message (CRLF or LF line ends). Returns 0, or -1 with
 * *why set (static English text) when the message is unusable: too deep,
 * too many parts, no header. A message that is merely odd (bad charset
 * label, broken base64) still parses, as well as can be done.
 * The caller frees out with mail_free, whatever the result.
 */
int ingest_mime_parse(const char *raw, size_t len, struct mail *out, const char **why);
void mail_free(struct mail *m);
/* The first header named name (case-insensitive), or NULL. Borrowed. */
const char *mail_header(const struct mail *m, const char *name);

#endif
