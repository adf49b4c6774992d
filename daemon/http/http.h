/*
 * http.h — palierd's http role (libmicrohttpd): the SMS gateways' webhooks
 * and delivery reports, one-click unsubscribe, poll pages.
 */
#ifndef PALIER_HTTP_HTTP_H
#define PALIER_HTTP_HTTP_H

#include "core/secret.h"
#include "fanout/template.h"
#include "ingest/intake.h"

struct http_opts {
	const char	*listen;	/* host:port or a socket path */
	const char	*public_url;	/* how gateways reach us: Twilio signs it */
	const char	*webhook_secret;	/* Kannel: ?secret=... must match when set */
	const char	*allow;		/* Kannel: client addresses allowed, space-separated */
	const char	*twilio_token;	/* Twilio's auth token ([sms] password) */
	const unsigned char *key;
	const char	*db_url;	/* for delivery reports */
	struct intake	*intake;	/* borrowed */
	const struct tpl_set *templates;	/* poll pages; borrowed */
};

struct http_server;

struct http_server *http_start(const struct http_opts *o, char **err);
void http_stop(struct http_server *h);

#endif
