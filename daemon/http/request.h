/*
 * request.h — what an HTTP handler sees of a request: method, path, client
 * address, and its parameters (query string and form body), percent-decoded
 * with their lengths (a UTF-16 text holds NUL bytes).
 */
#ifndef PALIER_HTTP_REQUEST_H
#define PALIER_HTTP_REQUEST_H

#include <stddef.h>

#include "core/buf.h"

struct param {
	char	*name;		/* decoded, NUL-terminated */
	char	*value;		/* decoded; NUL-terminated too, but may hold NULs: use len */
	size_t	 len;
};

struct request {
	const char	*method;
	const char	*path;
	char		 client[64];	/* the peer's address, no port */
	const char	*signature;	/* X-Twilio-Signature, or NULL */
	const char	*query;		/* the raw query string, or NULL */
	struct param	*params;	/* query first, then body, in order */
	size_t		 nparams;
	size_t		 nquery;	/* how many of params came from the query */
	int		 form_body;	/* the body was a form */
};

struct sms_job;

struct response {
	int		 status;
	const char	*type;		/* Content-Type */
	struct buf	 body;
	/*
	 * A webhook whose answer waits for the intake leaves its job here; the
	 * server submits it, serves other connections meanwhile, and answers
	 * with http_sms_answer() once it is done: ok_type and ok_body (static)
	 * when stored, 503 otherwise.
	 */
	struct sms_job	*job;
	const char	*ok_type, *ok_body;
};

/* The first parameter named name, or NULL. */
const struct param *request_param(const struct request *r, const char *name);
/* 1 if name appears more than once. */
int request_param_repeated(const struct request *r, const char *name);
/* Adds the pairs of an application/x-www-form-urlencoded string (len bytes). */
void request_parse_form(struct request *r, const char *s, size_t len);
void request_clear(struct request *r);

#endif
