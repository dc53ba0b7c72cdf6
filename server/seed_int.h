/*
 * seed_int.h - what seed.c and seed_image.c share: error text that names a
 * place in the seed file, and the image loaders.
 */
#ifndef LCR_SEED_INT_H
#define LCR_SEED_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "server.h"

/* A parsed seed file.  label names it in messages ("seed.json"); relative
 * image paths resolve against base_dir, or against the working directory
 * when base_dir is "". */
struct seed {
	json_t *root;
	char label[256];
	char base_dir[1024];
};

/* Write "<label>: <where>: <message>" into err and return status. */
int seed_fail(const struct seed *seed, const char *where, int status, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Format the JSON path of a value (e.g. "repositories[1].images[0].oci");
 * a path longer than outlen is cut. */
void seed_where(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Resolve a path from the seed file against its base folder. */
void seed_resolve_path(const struct seed *seed, const char *path, char *out, size_t outlen);

/* Check, without changing anything, that the image an "images" entry names
 * can be read: an OCI layout whose index.json lists ref, or a docker-archive
 * tar with a manifest.json.  where is the entry's JSON path. */
int seed_image_check(const struct seed *seed, json_t *image, const char *where, char *err, size_t errlen);

/* Copy the image's blobs into repo and store its manifest under tag; an
 * OCI index's child manifests go first.  *out_pushed counts the manifests
 * stored. */
int seed_image_push(struct server *srv, const struct seed *seed, const struct repository *repo, json_t *image,
		    const char *where, int *out_pushed, char *err, size_t errlen);

#endif
