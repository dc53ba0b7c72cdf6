/* clock.c - wall clock plus a settable offset shared by all threads. */
#include "clock.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Offset from the real clock in nanoseconds, read and written atomically. */
static _Atomic long long clock_offset_ns;

static long long real_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double clock_now(void)
{
	long long now = real_now_ns() + atomic_load(&clock_offset_ns);

	/* Whole seconds and the fraction separately, so a clock set to a
	 * whole second never reads as the second before. */
	return (double)(now / 1000000000LL) + (double)(now % 1000000000LL) / 1e9;
}

void clock_set(double t)
{
	double whole = floor(t);
	long long target = (long long)whole * 1000000000LL + llround((t - whole) * 1e9);

	atomic_store(&clock_offset_ns, target - real_now_ns());
}

void clock_format_rfc3339(double t, char *out, size_t outlen)
{
	time_t secs = (time_t)t;
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int clock_parse_rfc3339(const char *s, double *out)
{
	struct tm tm;
	const char *p;
	double frac = 0;
	long offset = 0;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		char *end;

		frac = strtod(p, &end);
		p = end;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;

		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return -1;
		offset = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*out = (double)(timegm(&tm) - offset) + frac;
	return 0;
}
