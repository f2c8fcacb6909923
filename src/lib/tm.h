/*
 * tm.h - times and durations.
 *
 * Times are int64_t seconds since the epoch, UTC.  Nothing in the
 * libraries reads the clock: "now" is always a parameter, so tests of
 * expiring rules are deterministic.  The CLI takes it from --now or from
 * ew_time_now().
 */
#ifndef EW_LIB_TM_H
#define EW_LIB_TM_H

#include <stddef.h>
#include <stdint.h>

/* Large enough for "YYYY-MM-DDTHH:MM:SSZ" and a NUL. */
#define EW_TIME_STRLEN 24

/*
 * Parse an ISO 8601 time: "YYYY-MM-DD" (midnight UTC),
 * "YYYY-MM-DDTHH:MM", "YYYY-MM-DDTHH:MM:SS", each time form followed by
 * "Z" or an offset "+HH:MM" / "-HH:MM" (or "+HHMM").  A space may stand
 * for the "T".  The n bytes at s must be exactly that.  0 on success,
 * -1 otherwise.
 */
int ew_time_parse(const char *s, size_t n, int64_t *out);

/* Format as "YYYY-MM-DDTHH:MM:SSZ"; returns out. */
char *ew_time_format(int64_t t, char *out, size_t cap);

/*
 * Parse a duration: a positive number and a unit, s (seconds), m
 * (minutes), h (hours), d (days), w (weeks); e.g. "90d", "12h".  0 on
 * success, -1 otherwise.
 */
int ew_duration_parse(const char *s, size_t n, int64_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t ew_days_from_civil(int64_t y, unsigned m, unsigned d);

/*
 * The real clock, for the CLI only (a command's --now replaces it).  In
 * a test build only (CMake EW_TEST_HOOKS: the dev and asan presets),
 * EW_NOW in the environment, if set to a time ew_time_parse accepts,
 * overrides it; a release build never reads it.
 */
int64_t ew_time_now(void);

#endif
