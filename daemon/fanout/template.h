/*
 * template.h — the renderer of every message palier writes (templates/):
 * logic-less, mustache-like templates over jansson data, with escaping that
 * is always on for the template's context. Never outputs raw data, never
 * runs logic, never encodes headers (the mail writer does RFC 2047).
 *
 * Syntax (nothing else is accepted; an unknown tag is a parse error):
 *   {{name}} {{a.b.c}}    a value; a missing or null value renders as
 *                         nothing; strings and numbers render, true, false,
 *                         lists and objects render nothing
 *   {{#name}}...{{/name}} a list: once per item, the item in scope;
 *                         any other true value: once, the value in scope;
 *                         false, null, missing, "", 0 and [] render nothing
 *   {{^name}}...{{/name}} once when the value is false, null, missing, "",
 *                         0 or []
 *   {{.}}                 the value in scope (a list of strings)
 *   {{@index}}            in a list, the item's number, from 1
 *   {{@first}} {{@last}}  in a list, true on the first / last item (for
 *                         sections: {{^@last}}, {{/@last}})
 *   {{! comment }}        nothing
 * A name is looked up in the innermost scope that has its first part, then
 * outwards (an explicit null stops the search); the rest of a dotted name
 * is looked up from there only. A section, inverted section or comment tag
 * alone on its line takes the whole line with it. There are no triple
 * braces, no {{&...}}, no partials and no delimiter changes: data is always
 * escaped, and no data can become markup.
 *
 * Contexts (from the file extension in a template directory):
 *   TPL_TEXT   .txt      control characters other than \n and \t removed
 *                        (CR too); invalid UTF-8 becomes U+FFFD
 *   TPL_HTML   .html     as text, and & < > " ' escaped; a newline in data
 *                        becomes "<br>\n". Templates may not contain <img>,
 *                        <script>, <style>, <link>, url(): no remote content
 *   TPL_HEADER .subject  one line: every run of white space (CR and LF
 *                        included) becomes one space, ends trimmed
 *   TPL_SMS    .sms      as text; a run of white space (CR included) becomes
 *                        one space, or one newline if it held one; ends
 *                        trimmed; no-break spaces become spaces (they would
 *                        cost GSM-7)
 *   TPL_PAGE   .page     a web page the http role serves: as TPL_HTML, and
 *                        the template may draw with inline <svg>
 * These apply to the data in every context, and to the template's own text
 * too in the header and SMS contexts.
 */
#ifndef PALIER_FANOUT_TEMPLATE_H
#define PALIER_FANOUT_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"

enum tpl_context {
	TPL_TEXT,
	TPL_HTML,
	TPL_HEADER,
	TPL_SMS,
	TPL_PAGE
};

struct tpl;
struct tpl_set;

/*
 * Parses len bytes of UTF-8 text (CRLF read as LF). Returns the template
 * (the caller frees it with tpl_free), or NULL with *err set to a newly
 * allocated "LINE: reason" when err is not NULL. Bounded: 1 MiB of text,
 * 32 nested sections.
 */
struct tpl *tpl_parse(const char *text, size_t len, enum tpl_context ctx, char **err);
void tpl_free(struct tpl *t);
enum tpl_context tpl_context_of(const struct tpl *t);

/*
 * Appends the rendering of t over data (borrowed; NULL is an empty object)
 * to out. Thread-safe: any number of threads may render one parsed template
 * at once. Returns 0, or -1 when the output would pass 8 MiB (out is then
 * left as it was).
 */
int tpl_render(const struct tpl *t, const json_t *data, struct buf *out);
/* b's text as a JSON string for a template's data ("" if it is not UTF-8); b emptied. */
json_t *tpl_str_take(struct buf *b);

/*
 * Loads every *.txt, *.html, *.subject and *.sms file of dir. Returns the
 * set (free it with tpl_set_free), or NULL with *err set to a newly
 * allocated list of "DIR/FILE:LINE: reason" lines (every bad file is
 * named, one per line).
 */
struct tpl_set *tpl_set_load(const char *dir, char **err);
void tpl_set_free(struct tpl_set *s);
/* The template loaded from file name ("digest.html"), or NULL. Borrowed. */
const struct tpl *tpl_get(const struct tpl_set *s, const char *name);
/* The templates in name order: count, and the i-th file name (borrowed). */
size_t tpl_set_count(const struct tpl_set *s);
const char *tpl_set_name(const struct tpl_set *s, size_t i);

/*
 * The check of palierd -n. samples is an object keyed by template base name
 * ("digest" for digest.subject, digest.txt and digest.html). Every template
 * palier sends must be in the set; every template must have samples and
 * render non-empty from them without naming anything the samples lack (a
 * misspelt name fails here, where at run time it would render as nothing)
 * and without printing a list, an object or a boolean as text; every sample
 * must belong to a template. Returns 0, or -1 with *err a newly allocated
 * list of "DIR/FILE:LINE: reason" lines.
 */
int tpl_set_check(const struct tpl_set *s, const json_t *samples, char **err);
/* tpl_set_load(dir), DIR/samples.json and tpl_set_check, for palierd -n. */
int tpl_check_dir(const char *dir, char **err);

#endif
