/*
 * scan_bench.c - time the scanner's inventory pass over an OCI layout's
 * image (bench/run points it at the real Debian fixture image).
 *
 * Usage: scan_bench LAYOUT [REPS]
 * Prints one line: SCAN bytes=<compressed layer bytes> packages=<n>
 * seconds=<best of REPS> layers=<paths separated by commas>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "../scanner/scanner.h"

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Path of a blob in an OCI layout. */
static void blob_path(const char *layout, const char *digest, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/blobs/sha256/%s", layout, digest + 7);
}

int main(int argc, char **argv)
{
	char path[4096], err[512];
	json_error_t jerr;
	json_t *index, *manifest, *layers, *layer;
	struct scan_layer *list;
	char (*paths)[4096];
	size_t n, i;
	long long bytes = 0;
	double best = 1e9;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	size_t packages = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: scan_bench LAYOUT [REPS]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/index.json", argv[1]);
	index = json_load_file(path, 0, &jerr);
	if (index == NULL) {
		fprintf(stderr, "scan_bench: cannot read %s: %s\n", path, jerr.text);
		return 1;
	}
	blob_path(argv[1], json_string_value(json_object_get(json_array_get(json_object_get(index, "manifests"), 0),
							      "digest")),
		  path, sizeof(path));
	manifest = json_load_file(path, 0, &jerr);
	layers = json_object_get(manifest, "layers");
	n = json_array_size(layers);
	if (manifest == NULL || n == 0) {
		fprintf(stderr, "scan_bench: %s has no layers\n", path);
		return 1;
	}
	list = calloc(n, sizeof(*list));
	paths = calloc(n, sizeof(*paths));
	json_array_foreach(layers, i, layer) {
		struct stat st;

		blob_path(argv[1], json_string_value(json_object_get(layer, "digest")), paths[i], sizeof(paths[i]));
		list[i].path = paths[i];
		list[i].digest = json_string_value(json_object_get(layer, "digest"));
		list[i].media_type = json_string_value(json_object_get(layer, "mediaType"));
		if (stat(paths[i], &st) == 0)
			bytes += st.st_size;
	}
	for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
		struct scan_inventory inv;
		double start = now_seconds(), took;

		if (scanner_inventory(list, n, &inv, err, sizeof(err)) != 0) {
			fprintf(stderr, "scan_bench: %s\n", err);
			return 1;
		}
		took = now_seconds() - start;
		if (took < best)
			best = took;
		packages = inv.npackages;
		scanner_inventory_release(&inv);
	}
	printf("SCAN bytes=%lld packages=%zu seconds=%.4f layers=", bytes, packages, best);
	for (i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", paths[i]);
	printf("\n");
	free(list);
	free(paths);
	json_decref(manifest);
	json_decref(index);
	return 0;
}
