/*
 * value.c - condition values as IAM's typed operators read them.
 *
 * Condition values and request values are both text.  The Numeric, Date,
 * Bool, BinaryEquals and IpAddress operators convert each side with these
 * functions and a value that does not convert never matches.  Formats:
 * - numbers: decimal integers or decimals with an optional exponent; no hex,
 *   infinity or NaN;
 * - dates: ISO 8601 such as "2024-05", "2024-05-01" or
 *   "2024-05-01T12:00:00Z", with optional fractional seconds and a +hh:mm
 *   or -hh:mm offset (UTC when there is none), or whole epoch seconds.
 *   aws:CurrentTime and aws:EpochTime carry these two forms;
 * - booleans: "true" or "false" in any case;
 * - binary: standard base64, padding optional;
 * - IP addresses: IPv4 or IPv6, plain or in CIDR notation.
 */
#include "policy_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool policy_value_number(const char *text, double *out)
{
	const char *p = text;
	char *end;
	bool digits = false;

	if (*p == '-' || *p == '+')
		p++;
	while (isdigit((unsigned char)*p)) {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p != '\0')
		return false;
	*out = strtod(text, &end);
	return end == p;
}

/* Read exactly n digits at *p into *out and advance *p. */
static bool read_digits(const char **p, int n, int *out)
{
	int value = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		value = value * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = value;
	return true;
}

/* Days from 1970-01-01 to the given proleptic Gregorian date (Howard
 * Hinnant's days_from_civil algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* "Z", "+hh:mm", "-hhmm", "+hh" or nothing; the offset in seconds. */
static bool parse_zone(const char *p, int64_t *out_seconds)
{
	int sign, hours, minutes = 0;

	*out_seconds = 0;
	if (*p == '\0')
		return true;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return true;
	if (*p != '+' && *p != '-')
		return false;
	sign = *p == '-' ? -1 : 1;
	p++;
	if (!read_digits(&p, 2, &hours) || hours > 23)
		return false;
	if (*p == ':')
		p++;
	if (*p != '\0' && (!read_digits(&p, 2, &minutes) || minutes > 59))
		return false;
	if (*p != '\0')
		return false;
	*out_seconds = sign * (hours * 3600 + minutes * 60);
	return true;
}

/* The time of day after 'T': hh:mm[:ss[.fraction]] and a zone. */
static bool parse_time_of_day(const char *p, int64_t *out_ms)
{
	int hour, minute, second = 0, millis = 0;
	int64_t zone;

	if (!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &minute))
		return false;
	if (*p == ':') {
		p++;
		if (!read_digits(&p, 2, &second))
			return false;
		if (*p == '.' || *p == ',') {
			int scale = 100;

			p++;
			if (!isdigit((unsigned char)*p))
				return false;
			for (; isdigit((unsigned char)*p); p++, scale /= 10)
				millis += (*p - '0') * scale;
		}
	}
	if (hour > 23 || minute > 59 || second > 60 || !parse_zone(p, &zone))
		return false;
	*out_ms = ((int64_t)hour * 3600 + minute * 60 + second - zone) * 1000 + millis;
	return true;
}

bool policy_value_date(const char *text, int64_t *out_ms)
{
	const char *p = text;
	int year, month, day;
	int64_t time_ms = 0;
	size_t n = strspn(text, "0123456789");

	/* Epoch seconds: all digits, at most 15 of them so milliseconds fit.
	 * NOTE: a bare year such as "2024", which W3C's ISO 8601 profile
	 * allows, is read as epoch seconds here. */
	if (n > 0 && text[n] == '\0') {
		if (n > 15)
			return false;
		*out_ms = strtoll(text, NULL, 10) * 1000;
		return true;
	}
	if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &month))
		return false;
	day = 1; /* "2024-05" is the first of the month, as in W3C's ISO 8601 profile */
	if (*p != '\0' && (*p++ != '-' || !read_digits(&p, 2, &day)))
		return false;
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return false;
	if (*p == 'T' || *p == 't') {
		if (!parse_time_of_day(p + 1, &time_ms))
			return false;
	} else if (*p != '\0') {
		return false;
	}
	*out_ms = days_from_civil(year, month, day) * 86400000 + time_ms;
	return true;
}

bool policy_value_bool(const char *text, bool *out)
{
	if (strcasecmp(text, "true") == 0)
		*out = true;
	else if (strcasecmp(text, "false") == 0)
		*out = false;
	else
		return false;
	return true;
}

static int base64_digit(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool policy_value_base64(const char *text, unsigned char **out, size_t *out_len)
{
	size_t len = strlen(text), used = len, n = 0;
	unsigned char *bytes;
	uint32_t acc = 0;
	int bits = 0;

	*out = NULL;
	*out_len = 0;
	while (used > 0 && text[used - 1] == '=')
		used--;
	if (len - used > 2 || (len != used && len % 4 != 0) || used % 4 == 1)
		return false;
	bytes = malloc(used * 3 / 4 + 1);
	if (bytes == NULL)
		return false;
	for (size_t i = 0; i < used; i++) {
		int digit = base64_digit((unsigned char)text[i]);

		if (digit < 0) {
			free(bytes);
			return false;
		}
		acc = (acc << 6) | (uint32_t)digit;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bytes[n++] = (unsigned char)(acc >> bits);
		}
	}
	*out = bytes;
	*out_len = n;
	return true;
}

bool policy_value_cidr(const char *text, struct policy_cidr *out)
{
	static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char address[64];
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned max;

	if (n == 0 || n >= sizeof(address))
		return false;
	memcpy(address, text, n);
	address[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, address, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, address, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	out->prefix = max;
	if (slash != NULL) {
		size_t digits = strspn(slash + 1, "0123456789");

		if (digits == 0 || digits > 3 || slash[1 + digits] != '\0')
			return false;
		out->prefix = (unsigned)atoi(slash + 1);
		if (out->prefix > max)
			return false;
	}
	/* ::ffff:a.b.c.d is the IPv4 address a.b.c.d, as a dual-stack socket
	 * reports an IPv4 client. */
	if (out->family == AF_INET6 && memcmp(out->addr, v4_mapped, 12) == 0 && out->prefix >= 96) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->family = AF_INET;
		out->prefix -= 96;
	}
	return true;
}

bool policy_cidr_contains(const struct policy_cidr *net, const struct policy_cidr *addr)
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;
	unsigned char mask;

	if (net->family != addr->family)
		return false;
	if (memcmp(net->addr, addr->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (addr->addr[full] & mask);
}
