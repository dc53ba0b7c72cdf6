/*
 * clock.h - the server's one clock.
 *
 * Every expiry decision (registry tokens, SigV4 windows, upload expiry,
 * push and pull times) reads clock_now(), so tests can move time by setting
 * an offset instead of waiting.
 */
#ifndef LCR_CLOCK_H
#define LCR_CLOCK_H

#include <stddef.h>

/* Seconds since the Unix epoch, with sub-second precision. */
double clock_now(void);

/* Make clock_now() return t from now on, advancing with real time. */
void clock_set(double t);

/* Format t as RFC 3339 UTC with seconds ("2024-01-01T00:00:00Z"). */
void clock_format_rfc3339(double t, char *out, size_t outlen);

/* Parse RFC 3339 ("2024-01-01T00:00:00Z", optional fraction and offset);
 * return 0 on success, -1 on malformed input. */
int clock_parse_rfc3339(const char *s, double *out);

#endif
