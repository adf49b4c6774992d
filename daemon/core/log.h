/*
 * log.h — one line per event, key=value, to stderr.
 * Values from outside go through log_q() (escaped, bounded); phone numbers
 * through log_phone() (masked). A message body is never logged.
 */
#ifndef PALIER_CORE_LOG_H
#define PALIER_CORE_LOG_H

#include <stdarg.h>

enum log_level { L_DEBUG, L_INFO, L_WARN, L_ERROR, L_FATAL };

/* prog names the program in every line; level is the least one printed. */
void log_init(const char *prog, enum log_level level);
void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_eventv(enum log_level level, const char *event, const char *fmt, va_list ap);

#define log_debug(ev, ...)	log_event(L_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)	log_event(L_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)	log_event(L_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...)	log_event(L_ERROR, ev, __VA_ARGS__)

/* Logs at level fatal and exits with status 1 (start-up only). */
void fatal(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/*
 * A value fit for a log line: control characters and invalid UTF-8 escaped,
 * quoted when it holds a space, '=' or '"', cut at 200 bytes. The result is
 * a thread-local buffer reused after eight calls: use it at once.
 */
const char *log_q(const char *s);
/* A phone number with its middle digits masked: +33612****78. Same buffers. */
const char *log_phone(const char *e164);

#endif
