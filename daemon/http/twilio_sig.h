/*
 * twilio_sig.h — checking the X-Twilio-Signature of a Twilio webhook, so
 * that nobody but Twilio can post an SMS, a STOP or a vote as a resident.
 */
#ifndef PALIER_HTTP_TWILIO_SIG_H
#define PALIER_HTTP_TWILIO_SIG_H

#include <stddef.h>

/*
 * 1 if signature_b64 is Twilio's signature of this request, else 0.
 * Twilio's scheme: base64(HMAC-SHA1(auth_token, url || name1 value1 ||
 * name2 value2 ...)), with url the full URL Twilio requested (scheme, host,
 * port if any, path, query string), and the POST parameters sorted by name
 * in byte order, each pair appended without separators. A name that occurs
 * several times contributes each of its values, sorted in byte order too:
 * that is what Twilio's own validators do (twilio-python sorts the values of
 * a repeated key), whatever order the form had.
 * Like those validators, the check also accepts the URL without its port,
 * and with the scheme's default port (443 for https, else 80) when it has
 * none: Twilio does not sign consistently one way or the other. The
 * scheme, host, path and query must match exactly: https is not http.
 * names and values are the n decoded (not percent-encoded) parameters,
 * borrowed. A NULL or empty token, a NULL url, parameter or signature, or
 * a signature of the wrong length is 0. Compared in constant time.
 */
int twilio_signature_ok(const char *auth_token, const char *url,
    const char *const *names, const char *const *values, size_t n,
    const char *signature_b64);

#endif
