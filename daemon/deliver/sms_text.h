/*
 * sms_text.h — what an outgoing SMS costs, and how to make it cost less:
 * GSM 03.38 / UCS-2 encoding choice, units, segments, folding to GSM-7 and
 * cutting at a word boundary. Pure functions over UTF-8; no I/O.
 */
#ifndef PALIER_DELIVER_SMS_TEXT_H
#define PALIER_DELIVER_SMS_TEXT_H

#include <stddef.h>

/*
 * The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) holds ASCII letters,
 * digits and most punctuation, plus é è à ù ì ò É Ç Ø ø Å å Ä ä Ö ö Ñ ñ Ü ü ß
 * Æ æ ¿ ¡ § £ ¥ ¤ Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ, LF and CR. Its extension table adds
 * { } [ ] ~ \ ^ | € and form feed, each sent as ESC + code: 2 septets.
 * Not in it: ê â î ô û ë ï œ À È ` tab, the typographic quotes, dashes and
 * no-break spaces French text is full of, and lower-case ç.
 *
 * ç and Ç: code 0x09 of the default alphabet is "Ç", U+00C7 (capital C
 * cedilla) in TS 23.038, but many handsets display it as "ç". We follow the
 * standard: U+00C7 is GSM-7; U+00E7 "ç" is not, and a single "ç" makes the
 * whole message UCS-2 unless the text is folded first (sms_fold_gsm7 turns
 * "ç" into "c": "garçon" -> "garcon", never "garÇon").
 *
 * Counting is of the bytes given: a decomposed "e" + U+0301 is two
 * characters, the second not GSM-7; fold (which composes) or NFC first.
 * Bytes that are not UTF-8 count as one "?" each; they never crash anything.
 */
#define SMS_GSM7	0
#define SMS_UCS2	1

#define SMS_GSM7_SINGLE	160	/* septets in a one-part message */
#define SMS_GSM7_PART	153	/* septets per part: 7 go to the UDH */
#define SMS_UCS2_SINGLE	70	/* UTF-16 code units in a one-part message */
#define SMS_UCS2_PART	67	/* UTF-16 code units per part */

/* SMS_GSM7 if every character of utf8 is in the default alphabet or its
 * extension table, else SMS_UCS2. "" is SMS_GSM7. */
int sms_encoding(const char *utf8);

/*
 * The length of utf8 in enc's units. SMS_GSM7: septets, extension
 * characters 2 (a character outside GSM-7 counts 1: the "?" a gateway
 * would send). SMS_UCS2: UTF-16 code units, 2 for a character outside the
 * BMP (most emoji).
 */
size_t sms_units(const char *utf8, int enc);

/*
 * How many SMS parts utf8 takes, with *enc (if enc is not NULL) set to the
 * encoding chosen. One part up to 160 septets / 70 units; beyond that parts
 * of 153 / 67, counted by walking the text: an escape pair or a surrogate
 * pair is never split, so a 2-unit character that finds one unit left in a
 * part starts the next. "" is one (empty) part.
 */
int sms_segments(const char *utf8, int *enc);

/*
 * A GSM-7 copy of utf8, for senders that would rather lose accents than
 * pay for UCS-2 (a 70-character part instead of 160). Newly allocated;
 * the caller frees it. The text is first composed (NFC); then:
 *   GSM-7 characters stay as they are (é è à ù É Ç € ...);
 *   ç -> c, ê â î ô û ë ï ÿ á í ó ú ã õ ... -> the bare letter, and every
 *     other letter whose base letter is GSM-7 (À -> A, Ê -> E), and
 *     compatibility forms (ﬁ -> fi, m² -> m2, ½ -> 1/2, fullwidth Ａ -> A);
 *   œ Œ -> oe OE;  ’ ‘ ‚ ‹ › ` ′ -> ';  « » “ ” „ ″ -> ";
 *   ‐ ‑ ‒ – — ― − • -> -;  … -> ...;  · -> . ("voisin·e·s" -> "voisin.e.s");
 *   n° / N° -> no / No; other ° are dropped ("19°" -> "19");
 *   no-break, thin and other spaces, tab -> space;
 *   other letters, digits and currency signs (Cyrillic, Arabic, CJK,
 *     ₹ ...) -> "?", so the reader sees that something was there;
 *   everything else (emoji, other symbols, controls, format characters,
 *     lone combining marks) is dropped: a "?" left by a cake emoji would
 *     read as a question.
 *   Then runs of spaces become one, and spaces at the start and end of
 *   each line go. Bytes that are not UTF-8 become "?".
 * The result always satisfies sms_encoding() == SMS_GSM7.
 */
char *sms_fold_gsm7(const char *utf8);

/*
 * utf8 made to fit in max_segments parts. If it already fits: a copy.
 * Otherwise the longest prefix ending at a word boundary (before white
 * space), with trailing white space and , ; : - – — removed, then suffix
 * (NULL means ""), such that prefix + suffix fits in max_segments in the
 * encoding of that result (cutting away the only "ê" can make it GSM-7).
 * A text with no usable boundary is cut between characters. Newly
 * allocated; the caller frees it. NULL if max_segments < 1 or suffix alone
 * does not fit (a caller's bug, not a resident's).
 */
char *sms_cut(const char *utf8, int max_segments, const char *suffix);

#endif
