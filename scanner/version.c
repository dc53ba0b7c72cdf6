/*
 * version.c - version ordering for each ecosystem the scanner matches.
 *
 * - dpkg, after deb-version(7): [epoch:]upstream[-revision].  Each part is
 *   compared as alternating runs of non-digits and digits.  In a non-digit
 *   run "~" sorts before everything, even the end of the string, letters
 *   sort before all other characters, and the rest sort by ASCII.  Digit
 *   runs compare as numbers.
 * - apk, after apk-tools' version rules: digits separated by ".", one
 *   optional letter, suffixes "_alpha" < "_beta" < "_pre" < "_rc" < no
 *   suffix < "_cvs" < "_svn" < "_git" < "_hg" < "_p", each with an optional
 *   number, then "-r<revision>".
 * - rpm, after rpmvercmp: [epoch:]version[-release]; alphanumeric segments,
 *   digits beat letters, "~" sorts before everything and "^" after the end
 *   of the string but before anything else.
 * - PEP 440: [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local], with the
 *   normalizations of the PEP (case, "alpha"/"c"/"pre"/"preview"/"rev"/"r"
 *   spellings, "-", "_" and "." separators, implicit numbers, "1.0-1" as a
 *   post-release, a leading "v").
 * - SemVer 2.0: MAJOR.MINOR.PATCH[-pre-release][+build], with build
 *   metadata ignored.  A leading "v" or "=" is accepted, and so are fewer
 *   or more than three numeric components, missing ones counting as 0.
 *
 * Numbers are compared as digit strings, so no length overflows.  Strings
 * that do not parse in the PEP 440 and SemVer schemes sort before every
 * valid version and among themselves by strcmp, so every comparison is a
 * total order.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner_int.h"

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Compare two runs of decimal digits as numbers. */
static int digits_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	int c;

	while (alen > 0 && *a == '0') {
		a++;
		alen--;
	}
	while (blen > 0 && *b == '0') {
		b++;
		blen--;
	}
	if (alen != blen)
		return alen < blen ? -1 : 1;
	c = alen == 0 ? 0 : memcmp(a, b, alen);
	return sign(c);
}

static size_t digit_run(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && isdigit((unsigned char)s[n]))
		n++;
	return n;
}

/* Split "[epoch:]rest" where epoch is all digits. */
static void split_epoch(const char *v, const char **out_epoch, size_t *out_epoch_len, const char **out_rest)
{
	const char *colon = strchr(v, ':');
	size_t n = colon == NULL ? 0 : (size_t)(colon - v);

	if (colon != NULL && n > 0 && digit_run(v, n) == n) {
		*out_epoch = v;
		*out_epoch_len = n;
		*out_rest = colon + 1;
	} else {
		*out_epoch = "0";
		*out_epoch_len = 1;
		*out_rest = v;
	}
}

/* ---- dpkg ---- */

static int dpkg_order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c != 0)
		return c + 256;
	return 0;
}

static int dpkg_part_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

	while (i < alen || j < blen) {
		while ((i < alen && !isdigit((unsigned char)a[i])) || (j < blen && !isdigit((unsigned char)b[j]))) {
			int ac = i < alen ? dpkg_order((unsigned char)a[i]) : 0;
			int bc = j < blen ? dpkg_order((unsigned char)b[j]) : 0;

			if (ac != bc)
				return ac < bc ? -1 : 1;
			i++;
			j++;
		}
		size_t an = digit_run(a + i, alen - i);
		size_t bn = digit_run(b + j, blen - j);
		int c = digits_compare(a + i, an, b + j, bn);

		if (c != 0)
			return c;
		i += an;
		j += bn;
	}
	return 0;
}

int version_compare_dpkg(const char *a, const char *b)
{
	const char *ae, *be, *ar, *br, *ah, *bh;
	size_t ael, bel;
	int c;

	split_epoch(a, &ae, &ael, &ar);
	split_epoch(b, &be, &bel, &br);
	c = digits_compare(ae, ael, be, bel);
	if (c != 0)
		return c;
	/* The revision follows the last hyphen; without one it is empty, which
	 * compares equal to "0". */
	ah = strrchr(ar, '-');
	bh = strrchr(br, '-');
	c = dpkg_part_compare(ar, ah ? (size_t)(ah - ar) : strlen(ar), br, bh ? (size_t)(bh - br) : strlen(br));
	if (c != 0)
		return c;
	return dpkg_part_compare(ah ? ah + 1 : "", ah ? strlen(ah + 1) : 0, bh ? bh + 1 : "", bh ? strlen(bh + 1) : 0);
}

/* ---- rpm ---- */

static int rpm_segment_compare(const char *a, const char *b)
{
	const char *one = a, *two = b;

	while (*one || *two) {
		while (*one && !isalnum((unsigned char)*one) && *one != '~' && *one != '^')
			one++;
		while (*two && !isalnum((unsigned char)*two) && *two != '~' && *two != '^')
			two++;

		/* "~" sorts before everything, the end of the string included. */
		if (*one == '~' || *two == '~') {
			if (*one != '~')
				return 1;
			if (*two != '~')
				return -1;
			one++;
			two++;
			continue;
		}
		/* "^" sorts after the end of the string but before anything else. */
		if (*one == '^' || *two == '^') {
			if (*one == '\0')
				return -1;
			if (*two == '\0')
				return 1;
			if (*one != '^')
				return 1;
			if (*two != '^')
				return -1;
			one++;
			two++;
			continue;
		}
		if (*one == '\0' || *two == '\0')
			break;

		const char *s1 = one, *s2 = two;
		bool numeric = isdigit((unsigned char)*one);
		int c;

		if (numeric) {
			while (isdigit((unsigned char)*s1))
				s1++;
			while (isdigit((unsigned char)*s2))
				s2++;
		} else {
			while (isalpha((unsigned char)*s1))
				s1++;
			while (isalpha((unsigned char)*s2))
				s2++;
		}
		/* Segments of different types: a number is newer than letters. */
		if (s2 == two)
			return numeric ? 1 : -1;
		if (numeric) {
			c = digits_compare(one, (size_t)(s1 - one), two, (size_t)(s2 - two));
		} else {
			size_t l1 = (size_t)(s1 - one), l2 = (size_t)(s2 - two);

			c = memcmp(one, two, l1 < l2 ? l1 : l2);
			if (c == 0 && l1 != l2)
				c = l1 < l2 ? -1 : 1;
			c = sign(c);
		}
		if (c != 0)
			return c;
		one = s1;
		two = s2;
	}
	if (*one == '\0' && *two == '\0')
		return 0;
	return *one == '\0' ? -1 : 1;
}

/* Split "[epoch:]version[-release]" into copies held in the caller's
 * buffers; *out_release is NULL when there is no release. */
static void rpm_split(const char *v, char *buf, size_t buflen, const char **out_epoch, const char **out_version,
		      const char **out_release)
{
	const char *epoch, *rest;
	size_t epoch_len;
	char *hyphen;

	split_epoch(v, &epoch, &epoch_len, &rest);
	snprintf(buf, buflen, "%.*s", (int)epoch_len, epoch);
	*out_epoch = buf;
	buf += epoch_len + 1;
	buflen -= epoch_len + 1;
	snprintf(buf, buflen, "%s", rest);
	*out_version = buf;
	hyphen = strrchr(buf, '-');
	*out_release = NULL;
	if (hyphen != NULL) {
		*hyphen = '\0';
		*out_release = hyphen + 1;
	}
}

int version_compare_rpm(const char *a, const char *b)
{
	const char *ae, *av, *ar, *be, *bv, *br;
	char *abuf, *bbuf;
	size_t alen = strlen(a) + 32, blen = strlen(b) + 32;
	int c;

	abuf = malloc(alen);
	bbuf = malloc(blen);
	if (abuf == NULL || bbuf == NULL) {
		free(abuf);
		free(bbuf);
		return sign(strcmp(a, b));
	}
	rpm_split(a, abuf, alen, &ae, &av, &ar);
	rpm_split(b, bbuf, blen, &be, &bv, &br);
	c = digits_compare(ae, strlen(ae), be, strlen(be));
	if (c == 0)
		c = rpm_segment_compare(av, bv);
	/* As rpm does: a missing release sorts before any release. */
	if (c == 0 && (ar != NULL || br != NULL)) {
		if (ar == NULL)
			c = -1;
		else if (br == NULL)
			c = 1;
		else
			c = rpm_segment_compare(ar, br);
	}
	free(abuf);
	free(bbuf);
	return c;
}

/* ---- apk ---- */

/* Token types in the order apk-tools ranks them: when two versions agree up
 * to where one of them goes on, the one whose next token ranks lower is
 * newer, except that a pre-release suffix makes it older. */
enum apk_token {
	APK_TOKEN_INVALID = -1,
	APK_TOKEN_DIGIT_OR_ZERO,
	APK_TOKEN_DIGIT,
	APK_TOKEN_LETTER,
	APK_TOKEN_SUFFIX,
	APK_TOKEN_SUFFIX_NO,
	APK_TOKEN_REVISION_NO,
	APK_TOKEN_END
};

struct apk_cursor {
	const char *p;
	size_t len;
	int type; /* the type of the token at p */
};

static const char *const apk_pre_suffixes[] = {"alpha", "beta", "pre", "rc"};
static const char *const apk_post_suffixes[] = {"cvs", "svn", "git", "hg", "p"};

/* Consume the separator after a token and settle the next token's type. */
static void apk_next_type(struct apk_cursor *c)
{
	int next = APK_TOKEN_INVALID;

	if (c->len == 0) {
		next = APK_TOKEN_END;
	} else if ((c->type == APK_TOKEN_DIGIT || c->type == APK_TOKEN_DIGIT_OR_ZERO) && islower((unsigned char)c->p[0])) {
		next = APK_TOKEN_LETTER;
	} else if (c->type == APK_TOKEN_LETTER && isdigit((unsigned char)c->p[0])) {
		next = APK_TOKEN_DIGIT;
	} else if (c->type == APK_TOKEN_SUFFIX && isdigit((unsigned char)c->p[0])) {
		next = APK_TOKEN_SUFFIX_NO;
	} else {
		if (c->p[0] == '.') {
			next = APK_TOKEN_DIGIT_OR_ZERO;
		} else if (c->p[0] == '_') {
			next = APK_TOKEN_SUFFIX;
		} else if (c->p[0] == '-' && c->len > 1 && c->p[1] == 'r') {
			next = APK_TOKEN_REVISION_NO;
			c->p++;
			c->len--;
		}
		c->p++;
		c->len--;
	}
	/* Tokens come in rank order.  Going back is allowed only from a digit
	 * to the next dotted number, from a suffix number to the next suffix,
	 * and from a letter to digits. */
	if (next < c->type &&
	    !((next == APK_TOKEN_DIGIT_OR_ZERO && c->type == APK_TOKEN_DIGIT) ||
	      (next == APK_TOKEN_SUFFIX && c->type == APK_TOKEN_SUFFIX_NO) ||
	      (next == APK_TOKEN_DIGIT && c->type == APK_TOKEN_LETTER)))
		next = APK_TOKEN_INVALID;
	c->type = next;
}

static long long apk_number(struct apk_cursor *c, size_t *i)
{
	long long v = 0;

	while (*i < c->len && isdigit((unsigned char)c->p[*i])) {
		/* Saturate: longer numbers tie instead of overflowing. */
		if (v < 100000000000000000LL)
			v = v * 10 + (c->p[*i] - '0');
		(*i)++;
	}
	return v;
}

static bool apk_suffix(struct apk_cursor *c, long long *out_value, size_t *out_len)
{
	for (size_t k = 0; k < sizeof(apk_pre_suffixes) / sizeof(apk_pre_suffixes[0]); k++) {
		size_t n = strlen(apk_pre_suffixes[k]);

		if (n <= c->len && strncmp(apk_pre_suffixes[k], c->p, n) == 0) {
			*out_value = (long long)k - (long long)(sizeof(apk_pre_suffixes) / sizeof(apk_pre_suffixes[0]));
			*out_len = n;
			return true;
		}
	}
	for (size_t k = 0; k < sizeof(apk_post_suffixes) / sizeof(apk_post_suffixes[0]); k++) {
		size_t n = strlen(apk_post_suffixes[k]);

		if (n <= c->len && strncmp(apk_post_suffixes[k], c->p, n) == 0) {
			*out_value = (long long)k;
			*out_len = n;
			return true;
		}
	}
	return false;
}

/* Read the token at the cursor and return its value: a number, a letter's
 * code, a suffix's rank (negative for pre-release suffixes), or for zeros
 * after a dot minus their count, so that "1.01" sorts before "1.1". */
static long long apk_token_value(struct apk_cursor *c)
{
	long long v = 0;
	size_t i = 0;
	int next = APK_TOKEN_INVALID;

	if (c->len == 0) {
		c->type = APK_TOKEN_END;
		return 0;
	}
	switch (c->type) {
	case APK_TOKEN_DIGIT_OR_ZERO:
		if (c->p[0] == '0') {
			while (i < c->len && c->p[i] == '0')
				i++;
			v = -(long long)i;
			/* Digits after the zeros are the next token; anything
			 * else follows as after any number, so "1.0_rc1" still
			 * sorts before "1.0". */
			if (i < c->len && isdigit((unsigned char)c->p[i]))
				next = APK_TOKEN_DIGIT;
			break;
		}
		v = apk_number(c, &i);
		break;
	case APK_TOKEN_DIGIT:
	case APK_TOKEN_SUFFIX_NO:
	case APK_TOKEN_REVISION_NO:
		v = apk_number(c, &i);
		break;
	case APK_TOKEN_LETTER:
		v = (unsigned char)c->p[i++];
		break;
	case APK_TOKEN_SUFFIX:
		if (!apk_suffix(c, &v, &i)) {
			c->type = APK_TOKEN_INVALID;
			return -1;
		}
		break;
	default:
		c->type = APK_TOKEN_INVALID;
		return -1;
	}
	c->p += i;
	c->len -= i;
	if (c->len == 0)
		c->type = APK_TOKEN_END;
	else if (next != APK_TOKEN_INVALID)
		c->type = next;
	else
		apk_next_type(c);
	return v;
}

int version_compare_apk(const char *a, const char *b)
{
	struct apk_cursor ca = {a, strlen(a), APK_TOKEN_DIGIT};
	struct apk_cursor cb = {b, strlen(b), APK_TOKEN_DIGIT};
	long long av = 0, bv = 0;

	while (ca.type == cb.type && ca.type != APK_TOKEN_END && ca.type != APK_TOKEN_INVALID && av == bv) {
		av = apk_token_value(&ca);
		bv = apk_token_value(&cb);
	}
	if (av != bv)
		return av < bv ? -1 : 1;
	if (ca.type == cb.type)
		return 0;

	/* Equal so far and one goes on: it is newer, unless it goes on with a
	 * pre-release suffix. */
	if (ca.type == APK_TOKEN_SUFFIX) {
		struct apk_cursor peek = ca;

		if (apk_token_value(&peek) < 0)
			return -1;
	}
	if (cb.type == APK_TOKEN_SUFFIX) {
		struct apk_cursor peek = cb;

		if (apk_token_value(&peek) < 0)
			return 1;
	}
	if (ca.type > cb.type)
		return -1;
	if (cb.type > ca.type)
		return 1;
	return 0;
}

/* ---- fallback for strings outside a scheme's grammar ---- */

/* Compare digit runs as numbers and everything else byte by byte. */
static int natural_compare(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			size_t an = digit_run(a, SIZE_MAX), bn = digit_run(b, SIZE_MAX);
			int c = digits_compare(a, an, b, bn);

			if (c != 0)
				return c;
			a += an;
			b += bn;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	if (*a != '\0')
		return 1;
	return *b != '\0' ? -1 : 0;
}

/* ---- PEP 440 ---- */

#define PEP440_MAX_RELEASE 32

struct span {
	const char *p;
	size_t len;
};

struct pep440 {
	struct span epoch;
	struct span release[PEP440_MAX_RELEASE];
	size_t nrelease;
	int pre_phase; /* -1 none, 0 a, 1 b, 2 rc */
	struct span pre;
	bool has_post;
	struct span post;
	bool has_dev;
	struct span dev;
	struct span local; /* without the "+", len 0 when none */
};

struct pep440_word {
	const char *word;
	int value;
};

/* Longer spellings first, so "alpha" is not read as "a" + "lpha". */
static const struct pep440_word pep440_pre_words[] = {
	{"alpha", 0}, {"beta", 1}, {"preview", 2}, {"pre", 2}, {"rc", 2}, {"a", 0}, {"b", 1}, {"c", 2},
};
static const struct pep440_word pep440_post_words[] = {{"post", 0}, {"rev", 0}, {"r", 0}};

static bool pep440_is_separator(char c)
{
	return c == '.' || c == '-' || c == '_';
}

static struct span pep440_digits(const char **s)
{
	struct span out = {*s, 0};

	while (isdigit((unsigned char)(*s)[out.len]))
		out.len++;
	*s += out.len;
	if (out.len == 0)
		out = (struct span){"0", 1}; /* an implicit number: "1.0a" is "1.0a0" */
	return out;
}

/* Match one of words at *s (case-insensitively), after an optional
 * separator; on success advance *s past it and return its value. */
static int pep440_word(const char **s, const struct pep440_word *words, size_t nwords)
{
	const char *p = *s;

	if (pep440_is_separator(*p))
		p++;
	for (size_t i = 0; i < nwords; i++) {
		size_t n = strlen(words[i].word);

		if (strncasecmp(p, words[i].word, n) == 0) {
			p += n;
			if (pep440_is_separator(*p) && isdigit((unsigned char)p[1]))
				p++;
			*s = p;
			return words[i].value;
		}
	}
	return -1;
}

static bool pep440_parse(const char *v, struct pep440 *out)
{
	const char *s = v;

	memset(out, 0, sizeof(*out));
	out->pre_phase = -1;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == 'v' || *s == 'V')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;

	const char *start = s;
	size_t n = digit_run(s, SIZE_MAX);

	if (s[n] == '!') {
		out->epoch = (struct span){start, n};
		s += n + 1;
	} else {
		out->epoch = (struct span){"0", 1};
	}
	for (;;) {
		if (!isdigit((unsigned char)*s) || out->nrelease == PEP440_MAX_RELEASE)
			return false;
		out->release[out->nrelease++] = pep440_digits(&s);
		if (*s == '.' && isdigit((unsigned char)s[1]))
			s++;
		else
			break;
	}

	out->pre_phase = pep440_word(&s, pep440_pre_words, sizeof(pep440_pre_words) / sizeof(pep440_pre_words[0]));
	if (out->pre_phase >= 0)
		out->pre = pep440_digits(&s);

	if (*s == '-' && isdigit((unsigned char)s[1])) {
		/* "1.0-1" is the implicit spelling of "1.0.post1". */
		s++;
		out->has_post = true;
		out->post = pep440_digits(&s);
	} else if (pep440_word(&s, pep440_post_words, sizeof(pep440_post_words) / sizeof(pep440_post_words[0])) >= 0) {
		out->has_post = true;
		out->post = pep440_digits(&s);
	}

	static const struct pep440_word dev_word[] = {{"dev", 0}};

	if (pep440_word(&s, dev_word, 1) >= 0) {
		out->has_dev = true;
		out->dev = pep440_digits(&s);
	}

	if (*s == '+') {
		s++;
		out->local.p = s;
		while (isalnum((unsigned char)*s) || (pep440_is_separator(*s) && isalnum((unsigned char)s[1]) &&
						      s != out->local.p))
			s++;
		out->local.len = (size_t)(s - out->local.p);
		if (out->local.len == 0)
			return false;
	}
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

static int pep440_release_compare(const struct pep440 *a, const struct pep440 *b)
{
	size_t n = a->nrelease > b->nrelease ? a->nrelease : b->nrelease;
	static const struct span zero = {"0", 1};

	for (size_t i = 0; i < n; i++) {
		const struct span *x = i < a->nrelease ? &a->release[i] : &zero;
		const struct span *y = i < b->nrelease ? &b->release[i] : &zero;
		int c = digits_compare(x->p, x->len, y->p, y->len);

		if (c != 0)
			return c;
	}
	return 0;
}

/* Rank of the pre-release part: a dev release of the final version sorts
 * before its pre-releases, and no pre-release after all of them. */
static int pep440_pre_rank(const struct pep440 *v)
{
	if (v->pre_phase < 0 && !v->has_post && v->has_dev)
		return 0;
	if (v->pre_phase < 0)
		return 2;
	return 1;
}

/* Advance s past a segment of n bytes and the separator that follows it. */
static void span_skip_segment(struct span *s, size_t n)
{
	s->p += n;
	s->len -= n;
	if (s->len > 0) {
		s->p++;
		s->len--;
	}
}

static size_t local_segment(const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && !pep440_is_separator(p[n]))
		n++;
	return n;
}

/* Local segments: numbers compare as numbers and sort after words, words
 * compare case-insensitively, and a longer label with an equal prefix is
 * newer. */
static int pep440_local_compare(struct span a, struct span b)
{
	if (a.len == 0 || b.len == 0)
		return a.len == b.len ? 0 : (a.len == 0 ? -1 : 1);
	while (a.len > 0 && b.len > 0) {
		size_t an = local_segment(a.p, a.len), bn = local_segment(b.p, b.len);
		bool anum = digit_run(a.p, an) == an, bnum = digit_run(b.p, bn) == bn;
		int c;

		if (anum && bnum) {
			c = digits_compare(a.p, an, b.p, bn);
		} else if (anum != bnum) {
			c = anum ? 1 : -1;
		} else {
			c = strncasecmp(a.p, b.p, an < bn ? an : bn);
			if (c == 0 && an != bn)
				c = an < bn ? -1 : 1;
		}
		if (c != 0)
			return sign(c);
		span_skip_segment(&a, an);
		span_skip_segment(&b, bn);
	}
	if (a.len == b.len)
		return 0;
	return a.len == 0 ? -1 : 1;
}

int version_compare_pep440(const char *a, const char *b)
{
	struct pep440 x, y;
	bool xv = pep440_parse(a, &x), yv = pep440_parse(b, &y);
	int c;

	if (!xv || !yv)
		return natural_compare(a, b);
	c = digits_compare(x.epoch.p, x.epoch.len, y.epoch.p, y.epoch.len);
	if (c == 0)
		c = pep440_release_compare(&x, &y);
	if (c == 0) {
		int xr = pep440_pre_rank(&x), yr = pep440_pre_rank(&y);

		c = sign(xr - yr);
		if (c == 0 && xr == 1 && x.pre_phase != y.pre_phase)
			c = x.pre_phase < y.pre_phase ? -1 : 1;
		if (c == 0 && xr == 1)
			c = digits_compare(x.pre.p, x.pre.len, y.pre.p, y.pre.len);
	}
	if (c == 0 && x.has_post != y.has_post)
		c = x.has_post ? 1 : -1;
	if (c == 0 && x.has_post)
		c = digits_compare(x.post.p, x.post.len, y.post.p, y.post.len);
	if (c == 0 && x.has_dev != y.has_dev)
		c = x.has_dev ? -1 : 1;
	if (c == 0 && x.has_dev)
		c = digits_compare(x.dev.p, x.dev.len, y.dev.p, y.dev.len);
	if (c == 0)
		c = pep440_local_compare(x.local, y.local);
	return c;
}

/* ---- SemVer ---- */

#define SEMVER_MAX_NUMBERS 16

struct semver {
	struct span numbers[SEMVER_MAX_NUMBERS];
	size_t nnumbers;
	struct span pre; /* without the "-", len 0 when none */
};

static bool semver_identifier_char(char c)
{
	return isalnum((unsigned char)c) || c == '-';
}

/* Advance past dot-separated non-empty identifiers; false if one is empty. */
static bool semver_identifiers(const char **s)
{
	for (;;) {
		const char *start = *s;

		while (semver_identifier_char(**s))
			(*s)++;
		if (*s == start)
			return false;
		if (**s != '.')
			return true;
		(*s)++;
	}
}

static bool semver_parse(const char *v, struct semver *out)
{
	const char *s = v;

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*s))
		s++;
	if (*s == 'v' || *s == 'V' || *s == '=')
		s++;
	for (;;) {
		if (!isdigit((unsigned char)*s) || out->nnumbers == SEMVER_MAX_NUMBERS)
			return false;
		size_t n = digit_run(s, SIZE_MAX);

		out->numbers[out->nnumbers++] = (struct span){s, n};
		s += n;
		if (*s != '.')
			break;
		s++;
	}
	if (*s == '-') {
		s++;
		out->pre.p = s;
		if (!semver_identifiers(&s))
			return false;
		out->pre.len = (size_t)(s - out->pre.p);
	}
	if (*s == '+') {
		s++;
		if (!semver_identifiers(&s))
			return false;
	}
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

/* Compare pre-release identifiers.  Numeric ones compare as numbers and
 * sort before alphanumeric ones, which compare in ASCII order.  With an
 * equal prefix the longer list is newer. */
static int semver_pre_compare(struct span a, struct span b)
{
	while (a.len > 0 && b.len > 0) {
		size_t an = 0, bn = 0;
		int c;

		while (an < a.len && a.p[an] != '.')
			an++;
		while (bn < b.len && b.p[bn] != '.')
			bn++;

		bool anum = digit_run(a.p, an) == an, bnum = digit_run(b.p, bn) == bn;

		if (anum && bnum) {
			c = digits_compare(a.p, an, b.p, bn);
		} else if (anum != bnum) {
			c = anum ? -1 : 1;
		} else {
			c = sign(memcmp(a.p, b.p, an < bn ? an : bn));
			if (c == 0 && an != bn)
				c = an < bn ? -1 : 1;
		}
		if (c != 0)
			return c;
		span_skip_segment(&a, an);
		span_skip_segment(&b, bn);
	}
	if (a.len == b.len)
		return 0;
	return a.len == 0 ? -1 : 1;
}

int version_compare_semver(const char *a, const char *b)
{
	struct semver x, y;
	size_t n;

	if (!semver_parse(a, &x) || !semver_parse(b, &y))
		return natural_compare(a, b);
	n = x.nnumbers > y.nnumbers ? x.nnumbers : y.nnumbers;
	for (size_t i = 0; i < n; i++) {
		struct span zero = {"0", 1};
		const struct span *p = i < x.nnumbers ? &x.numbers[i] : &zero;
		const struct span *q = i < y.nnumbers ? &y.numbers[i] : &zero;
		int c = digits_compare(p->p, p->len, q->p, q->len);

		if (c != 0)
			return c;
	}
	/* A pre-release sorts before its release. */
	if (x.pre.len == 0 || y.pre.len == 0)
		return x.pre.len == y.pre.len ? 0 : (x.pre.len == 0 ? 1 : -1);
	return semver_pre_compare(x.pre, y.pre);
}

/* ---- dispatch ---- */

static bool ecosystem_is(const char *ecosystem, const char *base)
{
	size_t n = strlen(base);

	return strncmp(ecosystem, base, n) == 0 && (ecosystem[n] == '\0' || ecosystem[n] == ':');
}

int version_compare(const char *ecosystem, const char *a, const char *b)
{
	static const char *const rpm_family[] = {
		"Red Hat", "Rocky Linux", "AlmaLinux", "Amazon Linux", "Oracle Linux", "Fedora", "CentOS",
		"SUSE", "openSUSE", "Photon OS", "Mageia", "openEuler",
	};

	if (ecosystem_is(ecosystem, "Debian") || ecosystem_is(ecosystem, "Ubuntu"))
		return version_compare_dpkg(a, b);
	if (ecosystem_is(ecosystem, "Alpine") || ecosystem_is(ecosystem, "Wolfi") ||
	    ecosystem_is(ecosystem, "Chainguard"))
		return version_compare_apk(a, b);
	for (size_t i = 0; i < sizeof(rpm_family) / sizeof(rpm_family[0]); i++) {
		if (ecosystem_is(ecosystem, rpm_family[i]))
			return version_compare_rpm(a, b);
	}
	if (ecosystem_is(ecosystem, "PyPI"))
		return version_compare_pep440(a, b);
	return version_compare_semver(a, b);
}
