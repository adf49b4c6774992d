/*
 * phone.h — French phone numbers to E.164.
 * Pure functions: no allocation, no I/O.
 */
#ifndef PALIER_CORE_PHONE_H
#define PALIER_CORE_PHONE_H

#include <stddef.h>

#define PHONE_E164_MAX	17	/* '+', up to 15 digits, NUL */

/*
 * Normalises a number as people write it into E.164 in out (PHONE_E164_MAX
 * bytes). Separators (spaces, no-break spaces, dots, dashes, slashes,
 * parentheses) are ignored; "+33 (0)6 ..." drops the (0).
 *   06 12 34 56 78, 0033 6 12 34 56 78    -> +33612345678
 *   overseas départements keep their national digits:
 *   0690 12 34 56 (Guadeloupe 0590/0690/0691 -> +590) -> +590690123456,
 *   Guyane 0594/0694 -> +594, Martinique 0596/0696/0697 -> +596,
 *   Réunion 0262/0692/0693 and Mayotte 0269/0639 -> +262,
 *   Saint-Pierre-et-Miquelon 0508 41 23 45 -> +508412345 (six digits)
 *   +CC... kept as written (digits only), 8 to 15 digits.
 * Returns 0, or -1 with *why set to a static English reason for the operator.
 */
int phone_normalize(const char *in, char out[PHONE_E164_MAX], const char **why);

/* 1 if s is already E.164 ('+', first digit 1-9, 8 to 15 digits in all). */
int phone_is_e164(const char *s);

#endif
