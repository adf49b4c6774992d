/*
 * request.c — form and query strings: split on '&' and '=', '+' is a
 * space, %XX a byte (kept even when it is NUL: lengths travel with values).
 * A malformed %-escape is kept as written. Bounded by the caller's limits.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hex.h"
#include "http/request.h"

/* Decodes n bytes into a new buffer (NUL-terminated); *outlen its length. */
static char *
decode(const char *s, size_t n, size_t *outlen)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && (hi = hex_digit((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hex_digit((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

void
request_parse_form(struct request *r, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - s) : len;
		const char *eq = memchr(s + i, '=', end - i);
		size_t nlen = eq ? (size_t)(eq - (s + i)) : end - i, ignored;
		struct param *p;

		if (end > i) {
			r->params = xreallocarray(r->params, r->nparams + 1, sizeof(*r->params));
			p = &r->params[r->nparams++];
			p->name = decode(s + i, nlen, &ignored);
			p->value = eq ? decode(eq + 1, end - (size_t)(eq + 1 - s), &p->len) :
			    decode("", 0, &p->len);
		}
		i = end + 1;
	}
}

const struct param *
request_param(const struct request *r, const char *name)
{
	for (size_t i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].name, name) == 0)
			return &r->params[i];
	return NULL;
}

int
request_param_repeated(const struct request *r, const char *name)
{
	int n = 0;

	for (size_t i = 0; i < r->nparams; i++)
		n += strcmp(r->params[i].name, name) == 0;
	return n > 1;
}

void
request_clear(struct request *r)
{
	for (size_t i = 0; i < r->nparams; i++) {
		free(r->params[i].name);
		free(r->params[i].value);
	}
	free(r->params);
	r->params = NULL;
	r->nparams = 0;
}
