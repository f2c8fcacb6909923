/*
 * tm.c - ISO 8601 times and durations, with calendar arithmetic done by
 * hand (Howard Hinnant's days-from-civil) so that nothing depends on the
 * C library's time zone state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/num.h"
#include "lib/tm.h"

int64_t
ew_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y += *m <= 2;
}

static int
days_in_month(int64_t y, unsigned m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

static int
num(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	return ew_parse_uint(s, n, 0, max, v);
}

int
ew_time_parse(const char *s, size_t n, int64_t *out)
{
	uint64_t y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0;
	int64_t t;
	size_t i;
	int sign = 0;

	if (n < 10 || s[4] != '-' || s[7] != '-' || num(s, 4, 9999, &y) ||
	    num(s + 5, 2, 12, &mo) || num(s + 8, 2, 31, &d) || mo < 1 ||
	    d < 1 || d > (uint64_t)days_in_month((int64_t)y, (unsigned)mo))
		return -1;
	i = 10;
	if (i < n) {
		if ((s[i] != 'T' && s[i] != ' ') || n < i + 6 ||
		    s[i + 3] != ':' || num(s + i + 1, 2, 23, &h) ||
		    num(s + i + 4, 2, 59, &mi))
			return -1;
		i += 6;
		if (i < n && s[i] == ':') {
			if (n < i + 3 || num(s + i + 1, 2, 60, &se))
				return -1;
			if (se == 60)
				se = 59; /* a leap second is read as :59 */
			i += 3;
		}
		if (i == n)
			return -1; /* a time of day needs a zone */
		if (s[i] == 'Z' && i + 1 == n) {
			i++;
		} else if (s[i] == '+' || s[i] == '-') {
			sign = s[i] == '+' ? 1 : -1;
			if (n == i + 6 && s[i + 3] == ':') {
				if (num(s + i + 1, 2, 23, &oh) ||
				    num(s + i + 4, 2, 59, &om))
					return -1;
			} else if (n == i + 5) {
				if (num(s + i + 1, 2, 23, &oh) ||
				    num(s + i + 3, 2, 59, &om))
					return -1;
			} else {
				return -1;
			}
			i = n;
		} else {
			return -1;
		}
	}
	if (i != n)
		return -1;
	t = ew_days_from_civil((int64_t)y, (unsigned)mo, (unsigned)d) * 86400 +
	    (int64_t)(h * 3600 + mi * 60 + se);
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	/* the UTC time must still print as YYYY-... (years 0-9999) */
	if (t < ew_days_from_civil(0, 1, 1) * 86400 ||
	    t >= ew_days_from_civil(10000, 1, 1) * 86400)
		return -1;
	*out = t;
	return 0;
}

char *
ew_time_format(int64_t t, char *out, size_t cap)
{
	int64_t days = t / 86400, rem = t % 86400, y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, cap, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m,
	    d, (unsigned)(rem / 3600), (unsigned)(rem % 3600 / 60),
	    (unsigned)(rem % 60));
	return out;
}

int
ew_duration_parse(const char *s, size_t n, int64_t *out)
{
	uint64_t v, mul;

	if (n < 2)
		return -1;
	switch (s[n - 1]) {
	case 's':
		mul = 1;
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	case 'w':
		mul = 7 * 86400;
		break;
	default:
		return -1;
	}
	if (ew_parse_uint(s, n - 1, 1, (uint64_t)100 * 366 * 86400 / mul, &v))
		return -1;
	*out = (int64_t)(v * mul);
	return 0;
}

int64_t
ew_time_now(void)
{
#ifdef EW_TEST_HOOKS
	const char *e = getenv("EW_NOW");
	int64_t t;

	if (e != NULL && ew_time_parse(e, strlen(e), &t) == 0)
		return t;
#endif
	return (int64_t)time(NULL);
}
