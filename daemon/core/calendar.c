/*
 * calendar.c — Europe/Paris time by rule (CET, CEST from the last Sunday
 * of March 01:00 UTC to the last Sunday of October 01:00 UTC) and French
 * public holidays (fixed ones, and Easter Monday, Ascension, Whit Monday
 * computed from Easter).
 */
#include <string.h>

#include "core/calendar.h"

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long
days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Unix time of 01:00 UTC on the last Sunday of month m of year y. */
static time_t
last_sunday_1utc(int y, int m)
{
	long last = days_from_civil(y, m + 1, 1) - 1;	/* m < 12 here */
	long wday = ((last % 7) + 11) % 7;		/* 1970-01-01 was a Thursday (4) */

	return (time_t)((last - wday) * 86400L + 3600);
}

void
paris_time(time_t t, struct tm *out, int *offset)
{
	struct tm utc;
	time_t start, end;
	int off;

	gmtime_r(&t, &utc);
	start = last_sunday_1utc(utc.tm_year + 1900, 3);
	end = last_sunday_1utc(utc.tm_year + 1900, 10);
	off = t >= start && t < end ? 7200 : 3600;
	t += off;
	gmtime_r(&t, out);
	if (offset)
		*offset = off;
}

/* Easter Sunday (anonymous Gregorian algorithm): month and day. */
static void
easter(int y, int *month, int *day)
{
	int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
	int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
	int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
	int m = (a + 11 * h + 22 * l) / 451;

	*month = (h + l - 7 * m + 114) / 31;
	*day = ((h + l - 7 * m + 114) % 31) + 1;
}

int
paris_holiday(const struct tm *day)
{
	static const int fixed[][2] = {
		{ 1, 1 }, { 5, 1 }, { 5, 8 }, { 7, 14 }, { 8, 15 }, { 11, 1 }, { 11, 11 }, { 12, 25 },
	};
	int y = day->tm_year + 1900, m = day->tm_mon + 1, em, ed;
	long today = days_from_civil(y, m, day->tm_mday), sunday;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i][0] == m && fixed[i][1] == day->tm_mday)
			return 1;
	easter(y, &em, &ed);
	sunday = days_from_civil(y, em, ed);
	return today == sunday + 1 || today == sunday + 39 || today == sunday + 50;
}

int
paris_quiet(time_t t, const struct cfg_span *span)
{
	struct tm tm;
	int minute;

	if (span->none)
		return 0;
	paris_time(t, &tm, NULL);
	if (tm.tm_wday == 0 || paris_holiday(&tm))
		return 1;
	minute = tm.tm_hour * 60 + tm.tm_min;
	if (span->start <= span->end)
		return minute >= span->start && minute < span->end;
	return minute >= span->start || minute < span->end;	/* across midnight */
}

time_t
paris_at(time_t t, int minutes)
{
	struct tm tm;
	int off;

	paris_time(t, &tm, &off);
	return t - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) + minutes * 60;
}
