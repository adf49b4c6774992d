/*
 * address.c — the local parts palier answers to: <slug>, reply+, vote+,
 * bounce+, moderation+, sondage+ tokens (checked by HMAC, no database) and
 * aide.
 * Never trusts a token it could not verify.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/slug.h"
#include "core/token.h"
#include "ingest/address.h"

static const struct {
	const char	*prefix;
	enum route_kind	 route;
	enum token_kind	 token;
} tokened[] = {
	{ "reply+", ROUTE_REPLY, TOKEN_REPLY },
	{ "vote+", ROUTE_VOTE, TOKEN_VOTE },
	{ "bounce+", ROUTE_BOUNCE, TOKEN_BOUNCE },
	{ "moderation+", ROUTE_MODERATE, TOKEN_MODERATE },
	{ "sondage+", ROUTE_POLL, TOKEN_POLL },
};

int
ingest_address_route(const char *addr, const char *domain,
    const unsigned char key[SECRET_LEN], struct route *r)
{
	const char *at = strrchr(addr, '@');
	char local[65];
	size_t n;

	memset(r, 0, sizeof(*r));
	if (at == NULL || strcasecmp(at + 1, domain) != 0)
		return -1;
	n = (size_t)(at - addr);
	if (n == 0 || n >= sizeof(local))
		return -1;
	for (size_t i = 0; i < n; i++)
		local[i] = (char)tolower((unsigned char)addr[i]);
	local[n] = '\0';
	for (size_t i = 0; i < sizeof(tokened) / sizeof(tokened[0]); i++) {
		size_t plen = strlen(tokened[i].prefix);

		if (strncmp(local, tokened[i].prefix, plen) != 0)
			continue;
		if (token_read(key, tokened[i].token, local + plen, &r->a, &r->b) < 0)
			return -1;
		r->kind = tokened[i].route;
		return 0;
	}
	if (strcmp(local, "aide") == 0 || strcmp(local, "help") == 0) {
		r->kind = ROUTE_HELP;
		return 0;
	}
	if (slug_check(local) != NULL)
		return -1;
	r->kind = ROUTE_CHANNEL;
	memcpy(r->slug, local, n + 1);
	return 0;
}
