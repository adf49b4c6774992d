/*
 * twilio_sig.c — Twilio's webhook signature: HMAC-SHA1 under the auth token
 * over the URL and the sorted POST parameters, base64, compared in constant
 * time. Owns nothing past a call; must never log the token, the signature or
 * the parameters (they carry residents' numbers and words).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "http/twilio_sig.h"

#define SIG_B64_LEN	28	/* base64 of a 20-byte SHA-1 digest */

struct param {
	const char	*name;
	const char	*value;
};

static int
cmp_param(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/* The parameters in signing order, or NULL if one is missing. Caller frees. */
static struct param *
sorted_params(const char *const *names, const char *const *values, size_t n)
{
	struct param *p;

	if (n > 0 && (names == NULL || values == NULL))
		return NULL;
	p = xreallocarray(NULL, n + 1, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		if (names[i] == NULL || values[i] == NULL) {
			free(p);
			return NULL;
		}
		p[i].name = names[i];
		p[i].value = values[i];
	}
	qsort(p, n, sizeof(*p), cmp_param);
	return p;
}

/* 1 if the signature of url + params under token is sig. */
static int
signed_as(const char *token, const char *url, const struct param *p, size_t n,
    const char *sig)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int mdlen = 0;
	struct buf b = BUF_INIT;
	int ok = 0;

	buf_puts(&b, url);
	for (size_t i = 0; i < n; i++) {
		buf_puts(&b, p[i].name);
		buf_puts(&b, p[i].value);
	}
	if (HMAC(EVP_sha1(), token, (int)strlen(token), (const unsigned char *)buf_cstr(&b),
	    b.len, md, &mdlen) != NULL &&
	    EVP_EncodeBlock(b64, md, (int)mdlen) == SIG_B64_LEN)
		ok = CRYPTO_memcmp(b64, sig, SIG_B64_LEN) == 0;
	OPENSSL_cleanse(md, sizeof(md));
	buf_free(&b);
	return ok;
}

/* The offsets of url's authority [*host, *end), 0 if it has none. */
static int
authority(const char *url, size_t *host, size_t *end)
{
	const char *sep = strstr(url, "://"), *at;

	if (sep == NULL || sep == url)
		return 0;
	*host = (size_t)(sep + 3 - url);
	*end = *host + strcspn(url + *host, "/?#");
	at = memchr(url + *host, '@', *end - *host);
	if (at != NULL)
		*host = (size_t)(at + 1 - url);
	return 1;
}

/*
 * url with its port removed if it has one, else with the scheme's default
 * port added; NULL if url has no authority. Caller frees.
 */
static char *
url_other_port(const char *url)
{
	size_t host, end, colon;
	const char *bracket;
	struct buf b = BUF_INIT;

	if (!authority(url, &host, &end))
		return NULL;
	bracket = memchr(url + host, ']', end - host);	/* [IPv6] */
	colon = bracket ? (size_t)(bracket - url) + 1 : host;
	colon += strcspn(url + colon, ":/?#");
	if (colon < end && url[colon] == ':' &&
	    strspn(url + colon + 1, "0123456789") == end - colon - 1) {
		buf_append(&b, url, colon);
	} else {
		buf_append(&b, url, end);
		buf_puts(&b, strncmp(url, "https:", 6) == 0 ? ":443" : ":80");
	}
	buf_puts(&b, url + end);
	return buf_take(&b);
}

int
twilio_signature_ok(const char *auth_token, const char *url,
    const char *const *names, const char *const *values, size_t n,
    const char *signature_b64)
{
	struct param *p;
	char *other;
	int ok;

	if (auth_token == NULL || *auth_token == '\0' || url == NULL ||
	    signature_b64 == NULL || strlen(signature_b64) != SIG_B64_LEN)
		return 0;
	if ((p = sorted_params(names, values, n)) == NULL)
		return 0;
	ok = signed_as(auth_token, url, p, n, signature_b64);
	if (!ok && (other = url_other_port(url)) != NULL) {
		ok = signed_as(auth_token, other, p, n, signature_b64);
		free(other);
	}
	free(p);
	return ok;
}
