/*
 * fuzz_version.c - libFuzzer target for the version comparisons.
 *
 * The input is split at its first newline into two versions a and b (a
 * NUL byte ends a version early).  In each scheme (dpkg, rpm, apk, PEP 440,
 * SemVer) a version must compare equal to itself, and compare(a, b) must
 * have the opposite sign of compare(b, a).  Build and run it with
 * tests/fuzz/run-scanner-fuzz.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../scanner/scanner_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*const compares[])(const char *, const char *) = {
		version_compare_dpkg, version_compare_rpm, version_compare_apk, version_compare_pep440,
		version_compare_semver,
	};
	const uint8_t *nl = memchr(data, '\n', size);
	size_t alen = nl != NULL ? (size_t)(nl - data) : size;
	size_t blen = nl != NULL ? size - alen - 1 : 0;
	char *a = strndup((const char *)data, alen);
	char *b = strndup(nl != NULL ? (const char *)nl + 1 : "", blen);

	if (a == NULL || b == NULL)
		abort();
	for (size_t i = 0; i < sizeof(compares) / sizeof(compares[0]); i++) {
		if (compares[i](a, a) != 0 || compares[i](b, b) != 0)
			abort();
		if (sign(compares[i](a, b)) != -sign(compares[i](b, a)))
			abort();
	}
	free(a);
	free(b);
	return 0;
}
