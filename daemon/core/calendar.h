/*
 * calendar.h — time in Europe/Paris, whatever TZ says, and the hours when
 * palier keeps quiet (SMS): a span of the day, Sundays, French public
 * holidays. Pure and thread-safe (no tzset, no localtime).
 */
#ifndef PALIER_CORE_CALENDAR_H
#define PALIER_CORE_CALENDAR_H

#include <time.h>

#include "core/config.h"

/* Broken-down Paris time of t (EU summer time rule since 1996); *offset in seconds east of UTC. */
void paris_time(time_t t, struct tm *out, int *offset);
/* 1 if day (in Paris) is a French public holiday. */
int paris_holiday(const struct tm *day);
/* 1 if an SMS that isn't urgent should wait at t: in span, a Sunday or a holiday. */
int paris_quiet(time_t t, const struct cfg_span *span);
/* Unix time of HH:MM (minutes after midnight) Paris time on the day of t. */
time_t paris_at(time_t t, int minutes);

#endif
