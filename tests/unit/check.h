/*
 * check.h - a minimal harness for the C unit tests.
 *
 * CHECK records a failure with its line and goes on; each test binary ends
 * with check_summary(), which prints "N passed, N failed" and sets the exit
 * status meson reads.
 */
#ifndef LCR_CHECK_H
#define LCR_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (cond) {                                                           \
			check_passed++;                                               \
		} else {                                                              \
			check_failed++;                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                     \
	} while (0)

#define CHECK_STR(actual, expected)                                                   \
	do {                                                                          \
		const char *a_ = (actual), *e_ = (expected);                          \
		if (a_ != NULL && strcmp(a_, e_) == 0) {                              \
			check_passed++;                                               \
		} else {                                                              \
			check_failed++;                                               \
			fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, e_, \
				a_ ? a_ : "(null)");                                  \
		}                                                                     \
	} while (0)

static int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed == 0 ? 0 : 1;
}

#endif
