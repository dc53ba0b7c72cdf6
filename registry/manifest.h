/*
 * manifest.h - parse and validate image manifests and indexes.
 *
 * Accepted: Docker image manifest v2 schema 2, Docker manifest list, OCI
 * image manifest and OCI image index (with OCI 1.1 artifactType and
 * subject).  Docker schema 1 is rejected, as ECR no longer accepts it for new
 * pushes.  Parsing is pure: it touches no storage.
 */
#ifndef LCR_MANIFEST_H
#define LCR_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "../common/digest.h"

#define MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_TYPE_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_TYPE_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

enum manifest_kind {
	MANIFEST_KIND_IMAGE,
	MANIFEST_KIND_INDEX
};

struct descriptor {
	char digest[DIGEST_BUF];
	int64_t size;
	char media_type[256];
	char platform_os[64];
	char platform_arch[64];
	char platform_variant[64];
	int has_urls; /* foreign (non-distributable) layer fetched from urls */
};

struct manifest_info {
	enum manifest_kind kind;
	char media_type[256];        /* the resolved manifest media type */
	char artifact_type[256];     /* OCI 1.1 artifactType, "" if none */
	struct descriptor config;    /* image manifests only */
	struct descriptor *layers;   /* image manifests only */
	size_t nlayers;
	struct descriptor *manifests; /* indexes only */
	size_t nmanifests;
	char subject_digest[DIGEST_BUF]; /* "" if no subject */
	int64_t layers_size;          /* sum of layer sizes */
};

/* Parse data (len bytes).  content_type is the media type the client
 * declared (Content-Type or imageManifestMediaType), or NULL.  Returns
 * LCR_OK or LCR_ERR_MANIFEST_INVALID with the reason in err. */
int manifest_parse(const char *data, size_t len, const char *content_type,
		   struct manifest_info *out, char *err, size_t errlen);
void manifest_info_release(struct manifest_info *info);

/* Rewrite an image manifest between the Docker schema 2 and OCI formats
 * (target_media_type is one of the two manifest types), as ECR does for a
 * pull by tag whose Accept header lacks the stored format.  Layers and
 * config keep their digests; only media types change.  *out is malloc'd.
 * Returns LCR_ERR_UNSUPPORTED when the manifest has no equivalent in the
 * target format (zstd layers, artifacts, subject). */
int manifest_convert(const char *data, size_t len, const char *target_media_type, char **out,
		     size_t *out_len);

/* Build the descriptor that lists a referrer (OCI 1.1): mediaType, digest,
 * size, artifactType (the manifest's, else its config media type) and
 * annotations.  Returns a new JSON object, or NULL if data does not parse. */
struct json_t;
struct json_t *manifest_referrer_descriptor(const char *data, size_t len, const char *media_type,
					    const char *digest);

/* True for the four manifest media types localecr stores. */
int manifest_media_type_supported(const char *media_type);

#endif
