/*
 * fuzz_dpkg.c - libFuzzer target for the dpkg status parser.
 *
 * Each input is parsed as a var/lib/dpkg/status file and as a distroless
 * status.d file.  Every package found must have a non-empty name and
 * version, and its version must compare equal to itself in dpkg order.
 * Build and run it with tests/fuzz/run-scanner-fuzz.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../scanner/scanner_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_packages(const struct package_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct scan_package *p = &list->items[i];

		if (p->name == NULL || p->version == NULL || p->ecosystem == NULL || p->layer_digest == NULL)
			abort();
		if (p->name[0] == '\0' || p->version[0] == '\0')
			abort();
		if (version_compare_dpkg(p->version, p->version) != 0)
			abort();
		if (p->source_version != NULL && p->source_name == NULL)
			abort(); /* a source version comes only with a source name */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct package_origin origin = {"Debian:12", "sha256:fuzz", "var/lib/dpkg/status"};

	for (int status_d = 0; status_d < 2; status_d++) {
		struct package_list list = {0};

		if (!inventory_parse_dpkg((const char *)data, size, status_d, &origin, &list))
			abort(); /* only running out of memory may fail */
		check_packages(&list);
		package_list_release(&list);
	}
	return 0;
}
