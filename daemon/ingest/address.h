/*
 * address.h — what a recipient address of ours means (DESIGN.md, Addresses).
 */
#ifndef PALIER_INGEST_ADDRESS_H
#define PALIER_INGEST_ADDRESS_H

#include <stdint.h>

#include "core/secret.h"

enum route_kind {
	ROUTE_NONE = 0,		/* not ours, or no such address: 550 5.1.1 */
	ROUTE_CHANNEL,		/* <slug>@: a new post */
	ROUTE_REPLY,		/* reply+<token>@ */
	ROUTE_VOTE,		/* vote+<token>@ */
	ROUTE_BOUNCE,		/* bounce+<token>@ */
	ROUTE_MODERATE,		/* moderation+<token>@ */
	ROUTE_HELP,		/* aide@: commands */
	ROUTE_POLL,		/* sondage+<token>@: a publisher confirms the poll they drafted */
	ROUTE_HOME,		/* an SMS: a post in the sender's building */
};

struct route {
	enum route_kind	 kind;
	char		 slug[65];	/* ROUTE_CHANNEL, lower case */
	uint64_t	 a, b;		/* from the token */
};

/*
 * Reads addr (an addr-spec, angle brackets already removed) against our
 * domain: sets r and returns 0, or -1 when it is not an address of ours
 * (other domain, bad token, malformed). A channel slug is only checked for
 * form here; whether the channel exists is the caller's question.
 */
int ingest_address_route(const char *addr, const char *domain,
    const unsigned char key[SECRET_LEN], struct route *r);

#endif
