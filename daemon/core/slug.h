/*
 * slug.h — channel slugs and the small text checks the roster needs.
 */
#ifndef PALIER_CORE_SLUG_H
#define PALIER_CORE_SLUG_H

#include <stddef.h>

#define SLUG_MAX	64

/*
 * Derives a slug from a UTF-8 name: lower-case ASCII, accents folded
 * (utf8proc), œ/æ/ß spelled out, every other run of characters turned into
 * one '-', no leading or trailing '-', cut at SLUG_MAX bytes at a '-' where
 * possible. "Résidence Les Tilleuls" -> "residence-les-tilleuls".
 * Returns a newly allocated string, "" when nothing is left (the caller
 * rejects it).
 */
char *slug_from_name(const char *name);

/*
 * Checks a slug given by the operator: [a-z0-9]+(-[a-z0-9]+)*, at most
 * SLUG_MAX bytes, and not a reserved local part (aide, reply, vote, bounce,
 * postmaster, abuse, mailer-daemon, noreply, root, ...). Returns NULL if it
 * is fine, else a static reason.
 */
const char *slug_check(const char *slug);

/*
 * Checks an email address as a roster holds it: one addr-spec, local@domain,
 * no spaces, no display name, no control characters, a domain with a dot.
 * Returns NULL if it is fine, else a static reason.
 */
const char *email_check(const char *addr);

#endif
