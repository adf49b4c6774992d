/*
 * log.c — one line per event, key=value, to stderr.
 * Owns the escaping of every value that came from outside; never writes a
 * message body or a whole phone number.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/utf8.h"

#define LOGQ_SLOTS	8
#define LOGQ_SIZE	512
#define LOGQ_MAX	200

static const char *log_prog = "palier";
static enum log_level log_min = L_INFO;
static int log_stamp = 1;

static const char *const level_names[] = {
	"debug", "info", "warn", "error", "fatal"
};

void
log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_min = level;
	/* Under journald the journal stamps each line itself. */
	log_stamp = getenv("JOURNAL_STREAM") == NULL;
}

void
log_eventv(enum log_level level, const char *event, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	char ts[32];

	if (level < log_min)
		return;
	if (log_stamp) {
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		buf_printf(&b, "ts=%s.%03ldZ ", ts, now.tv_nsec / 1000000);
	}
	buf_printf(&b, "prog=%s level=%s event=%s", log_prog,
	    level_names[level], event);
	if (fmt && *fmt) {
		va_list cp;
		char *rest;

		va_copy(cp, ap);
		if (vasprintf(&rest, fmt, cp) >= 0) {
			buf_putc(&b, ' ');
			buf_puts(&b, rest);
			free(rest);
		}
		va_end(cp);
	}
	buf_putc(&b, '\n');
	(void)!write(STDERR_FILENO, b.data, b.len);
	buf_free(&b);
}

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_eventv(level, event, fmt, ap);
	va_end(ap);
}

void
fatal(const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_eventv(L_FATAL, event, fmt, ap);
	va_end(ap);
	exit(1);
}

static char *
logq_slot(void)
{
	static _Thread_local char slots[LOGQ_SLOTS][LOGQ_SIZE];
	static _Thread_local unsigned next;

	return slots[next++ % LOGQ_SLOTS];
}

const char *
log_q(const char *s)
{
	char *out = logq_slot();
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *end = p + strlen((const char *)p);
	size_t o = 0, seq;
	int quote = (*p == '\0') || strpbrk((const char *)p, " =\"") != NULL;

	if (quote)
		out[o++] = '"';
	while (*p && o < LOGQ_MAX) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p++;
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			out[o++] = '\\';
			out[o++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", *p++);
		} else if (*p < 0x80) {
			out[o++] = (char)*p++;
		} else if ((seq = utf8_seq(p, end)) != 0) {
			memcpy(out + o, p, seq);
			o += seq;
			p += seq;
		} else {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", *p++);
		}
	}
	if (*p) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	if (quote)
		out[o++] = '"';
	out[o] = '\0';
	return out;
}

const char *
log_phone(const char *e164)
{
	char *out = logq_slot();
	size_t n = e164 ? strlen(e164) : 0;

	if (n < 8 || n > 20 || e164[0] != '+' || strspn(e164 + 1, "0123456789") != n - 1) {
		snprintf(out, LOGQ_SIZE, "(masked)");
		return out;
	}
	/* Keep the country and operator prefix and the last two digits. */
	snprintf(out, LOGQ_SIZE, "%.*s****%s", (int)(n - 6), e164, e164 + n - 2);
	return out;
}
