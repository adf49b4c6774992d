/*
 * mime_text.h — the text of a MIME part, made readable: any charset to
 * UTF-8 (with a fallback chain for mislabelled 8-bit text), format=flowed
 * unwrapped, HTML turned into plain text (quoted regions as "> " lines).
 */
#ifndef PALIER_INGEST_MIME_TEXT_H
#define PALIER_INGEST_MIME_TEXT_H

#include <stddef.h>

/*
 * n bytes in charset (may be NULL or unknown) to clean UTF-8: declared
 * charset first (us-ascii and iso-8859-1 read as windows-1252, what
 * senders mean), then valid UTF-8 as is, then windows-1252. NUL and
 * control characters other than \n and \t are dropped; CRLF becomes \n.
 * *used names the charset that worked (static). Newly allocated.
 */
char *mime_text_utf8(const char *data, size_t n, const char *charset, const char **used);
/* Unwraps format=flowed text (RFC 3676), delsp as given. Newly allocated. */
char *mime_text_unflow(const char *text, int delsp);
/* Readable text from HTML (UTF-8); quoted regions become "> " lines. Newly allocated. */
char *mime_text_from_html(const char *html, size_t n);
/* Decodes RFC 2047 encoded words in a header value to UTF-8, cleaned. Newly allocated. */
char *mime_text_header(const char *value);

#endif
