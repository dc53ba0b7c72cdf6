/*
 * fuzz_apk.c - libFuzzer target for the apk installed-database parser.
 *
 * Each input is parsed as a lib/apk/db/installed file; every package found
 * must have a name and a version, and the versions found must compare
 * consistently in apk order (each equal to itself, and a < b exactly when
 * b > a).  Build and run it with tests/fuzz/run-scanner-fuzz.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../scanner/scanner_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct package_origin origin = {"Alpine:v3.19", "sha256:fuzz", "lib/apk/db/installed"};
	struct package_list list = {0};

	if (!inventory_parse_apk((const char *)data, size, &origin, &list))
		abort(); /* only running out of memory may fail */
	for (size_t i = 0; i < list.count; i++) {
		const struct scan_package *p = &list.items[i];

		if (p->name == NULL || p->version == NULL || p->name[0] == '\0' || p->version[0] == '\0')
			abort();
		if (version_compare_apk(p->version, p->version) != 0)
			abort();
		if (i > 0) {
			const char *previous = list.items[i - 1].version;

			if (sign(version_compare_apk(previous, p->version)) != -sign(version_compare_apk(p->version, previous)))
				abort();
		}
	}
	package_list_release(&list);
	return 0;
}
