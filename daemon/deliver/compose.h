/*
 * compose.h — the message writer: one rendered, personalised message in,
 * the exact bytes handed to the SMTP relay out (CRLF, 7-bit, RFC 5322 +
 * MIME). The envelope sender (bounce+<token>, VERP) is not part of it: the
 * relay gets it as MAIL FROM and writes Return-Path itself.
 */

/*
 * What comes out, always:
 * - Only 7-bit ASCII; every line ends with CRLF, none passes 998 bytes;
 *   header lines are folded to stay within 78 where a token allows it, body
 *   lines within 76 (quoted-printable).
 * - Header values from outside lose every control character (C0, DEL, C1,
 *   U+2028/9): a run of them becomes one space, runs of spaces collapse and
 *   the ends are trimmed. A CR or LF can never start another header line.
 * - Unstructured text and display names stay as they are when printable
 *   ASCII (display names quoted when they hold specials); otherwise, or when
 *   they hold "=?", they become RFC 2047 UTF-8 encoded-words: Q (readable
 *   for French) unless Q would be half as long again as B (Cyrillic, emoji),
 *   each word at most 75 bytes, whole characters only. Bytes that are not UTF-8 become U+FFFD. Text is not
 *   normalised here: ingest stores NFC.
 * - Date in Europe/Paris time, whatever TZ says: +0100, or +0200 from the
 *   last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC
 *   (the EU rule since 1996). Pure, thread-safe, no tzset().
 * - Header order: Date, From, To, Reply-To, Subject, Message-ID,
 *   In-Reply-To, References, List-Id, List-Unsubscribe,
 *   List-Unsubscribe-Post, Auto-Submitted, X-Auto-Response-Suppress,
 *   Precedence, MIME-Version, Content-Type, Content-Transfer-Encoding.
 * - Bodies in quoted-printable, UTF-8: text/plain alone, or text/plain then
 *   text/html in multipart/alternative. The boundary is "=_palier_" and a
 *   hash of the Message-ID: deterministic, and a sequence ("=_") that
 *   quoted-printable can never produce, so it never occurs in a body.
 *   QP also encodes a line's leading "." (=2E) and "From " (=46rom), white
 *   space ending a line, and never cuts a UTF-8 character across a soft
 *   break. No format=flowed: every client joins QP soft breaks, so long
 *   lines reach the reader whole and wrap to the window; flowed would add
 *   space-stuffing rules that Outlook ignores anyway.
 */
#ifndef PALIER_DELIVER_COMPOSE_H
#define PALIER_DELIVER_COMPOSE_H

#include "core/buf.h"

/*
 * Every pointer is borrowed. Optional fields are NULL or "" when absent.
 * Addresses are plain ASCII addr-specs (local@domain, no quotes, no domain
 * literal); anything else is refused, never repaired.
 */
struct compose_in {
	const char	*from_name;	/* "Mairie de Saint-Aubin"; optional */
	const char	*from_addr;	/* required */
	const char	*to_name;	/* optional */
	const char	*to_addr;	/* required */
	const char	*reply_to_name;	/* optional */
	const char	*reply_to;	/* reply+<token>@domain; optional */
	const char	*subject;	/* UTF-8, required (may be "") */
	const char	*message_id;	/* "o123.abc@domain", <> optional; required */
	const char	*in_reply_to;	/* ids, white-space separated, <> optional;
					   printable ASCII; optional */
	const char	*references;	/* the same; folded, never trimmed */
	long long	 date;		/* Unix time, written in Europe/Paris time */
	const char	*list_id;	/* "Résidence Les Tilleuls <les-tilleuls.example>"
					   or just the id; optional */
	const char	*unsub_mailto;	/* "aide@domain?subject=STOP", "mailto:" optional */
	const char	*unsub_url;	/* http(s) URL; One-Click (RFC 8058) only if https */
	int		 auto_generated; /* Auto-Submitted, X-Auto-Response-Suppress, Precedence */
	const char	*text;		/* UTF-8 plain text, required (may be "") */
	const char	*html;		/* UTF-8 HTML; optional: multipart/alternative */
};

/*
 * Appends the whole message to out. Returns 0, or -1 (out left as it was)
 * when a required field is missing, an address, id or URL is malformed, or
 * a body is not UTF-8: deliver_compose_check() says which.
 * Auto-generated messages say "X-Auto-Response-Suppress: OOF, AutoReply",
 * not "All": "All" also asks Exchange to suppress non-delivery reports,
 * and the VERP bounces are how palier learns an address is dead.
 * "Precedence: list" goes with them: old vacation programs and procmail
 * recipes look for it, and nothing else does.
 */
int deliver_compose(const struct compose_in *in, struct buf *out);

/* NULL if deliver_compose() would accept in; else why not (a static string). */
const char *deliver_compose_check(const struct compose_in *in);

/*
 * Appends one whole header field, "Name: value" CRLF, folded: value is
 * cleaned as above, then written as unstructured text (phrase 0) or as a
 * display name (phrase 1: quoted if it holds specials). NULL is "".
 * Exposed for the tests.
 */
void deliver_header_encode(struct buf *out, const char *name, const char *utf8_value,
    int phrase);

#endif
