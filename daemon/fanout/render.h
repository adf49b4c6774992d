/*
 * render.h — one outgoing message, made for its resident: the template's
 * data, the tokens only this resident holds, and the finished bytes (an
 * RFC 5322 message, or an SMS text within its segment cap).
 */
#ifndef PALIER_FANOUT_RENDER_H
#define PALIER_FANOUT_RENDER_H

#include "core/buf.h"
#include "fanout/send.h"
#include "store/store.h"

struct rendered {
	struct buf	 data;		/* what the backend sends */
	char		*envelope_from;	/* email: bounce+<token>@domain */
	int		 segments;	/* SMS parts */
	char		*error;		/* why it could not be rendered (owned) */
};

int render_message(const struct sender_opts *o, const struct store_out *m, struct rendered *r);
void rendered_clear(struct rendered *r);
/* Lets go of what this thread kept of the last content it rendered. */
void render_thread_end(void);

#endif
