/*
 * reply.h — what a person actually wrote in a reply, and whether a message
 * was written by a person at all.
 */
#ifndef PALIER_INGEST_REPLY_H
#define PALIER_INGEST_REPLY_H

#include "ingest/mime.h"

/*
 * The sender's own words from a reply's text: quoted lines ("> "),
 * attribution lines and the quoted original below them (Gmail "Le lun.
 * 3 nov. 2026 à 10:12, X a écrit :", Outlook/OWA "De : ... Envoyé : ...
 * À : ... Objet :", "-----Message d'origine-----", "-----Original
 * Message-----", Apple Mail, Thunderbird, Orange, Free, SFR, La Poste,
 * Yahoo), "-- " signatures and mobile footers ("Envoyé de mon iPhone"),
 * in French and English, top- or bottom-posted. Trailing and leading
 * blank lines are removed. Returns a newly allocated string ("" if
 * nothing is left).
 */
char *ingest_reply_trim(const char *text);

/*
 * 1 if the message was sent by a machine on a person's behalf or by a
 * mail system: Auto-Submitted other than "no", X-Autoreply, X-Autorespond,
 * Precedence bulk/junk/list, List-Id or List-Unsubscribe from elsewhere,
 * X-Auto-Response-Suppress: All/OOF, French and English out-of-office
 * subjects ("Absence du bureau", "Réponse automatique", "Out of Office",
 * "Automatic reply", "Je suis absent"...), mailer-daemon/postmaster
 * senders, DSNs. *why names the sign (static text).
 */
int ingest_reply_is_automatic(const struct mail *m, const char **why);

/*
 * For a bounce that is not a standard DSN (Exim, qmail, old Sendmail,
 * Microsoft, French ISPs): the failed recipients and whether the failure is
 * permanent, read from the text. Returns the number found (up to max),
 * filling addrs (newly allocated) and permanent[].
 */
int ingest_reply_bounce_scan(const struct mail *m, char **addrs, int *permanent, int max);

#endif
