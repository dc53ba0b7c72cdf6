/*
 * manifest.c - manifest parsing and validation (pure, no storage).
 *
 * Rules, following the OCI image spec and docker distribution:
 * - the body must be a JSON object with schemaVersion 2;
 * - the media type is the "mediaType" field, else the declared content type;
 *   when both are present they must agree;
 * - an image manifest has a config descriptor and a layers array, an index
 *   has a manifests array; every descriptor has a sha256 digest and a size;
 * - "subject" (OCI 1.1) must be a descriptor when present.
 */
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/status.h"

int manifest_media_type_supported(const char *media_type)
{
	return strcmp(media_type, MEDIA_TYPE_DOCKER_MANIFEST) == 0 ||
	       strcmp(media_type, MEDIA_TYPE_DOCKER_LIST) == 0 ||
	       strcmp(media_type, MEDIA_TYPE_OCI_MANIFEST) == 0 ||
	       strcmp(media_type, MEDIA_TYPE_OCI_INDEX) == 0;
}

static int is_schema1(const char *media_type)
{
	return strcmp(media_type, MEDIA_TYPE_DOCKER_SCHEMA1) == 0 ||
	       strcmp(media_type, MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED) == 0;
}

/* Strip parameters ("; charset=utf-8") from a Content-Type into out. */
static void media_type_base(const char *content_type, char *out, size_t outlen)
{
	size_t n = strcspn(content_type, ";");

	while (n > 0 && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, content_type, n);
	out[n] = '\0';
}

static int parse_descriptor(json_t *obj, const char *where, struct descriptor *out, char *err,
			    size_t errlen)
{
	json_t *digest, *size, *media_type, *platform, *urls;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "%s is not a descriptor object", where);
	digest = json_object_get(obj, "digest");
	size = json_object_get(obj, "size");
	media_type = json_object_get(obj, "mediaType");
	if (!json_is_string(digest) || !digest_valid(json_string_value(digest)))
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen,
				"%s has a missing or invalid digest (expected sha256:<64 hex>)", where);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "%s has a missing or negative size", where);
	if (media_type != NULL && !json_is_string(media_type))
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "%s has a mediaType that is not a string", where);
	snprintf(out->digest, sizeof(out->digest), "%s", json_string_value(digest));
	out->size = json_integer_value(size);
	if (media_type != NULL)
		snprintf(out->media_type, sizeof(out->media_type), "%s", json_string_value(media_type));
	platform = json_object_get(obj, "platform");
	if (json_is_object(platform)) {
		const char *os = json_string_value(json_object_get(platform, "os"));
		const char *arch = json_string_value(json_object_get(platform, "architecture"));
		const char *variant = json_string_value(json_object_get(platform, "variant"));

		snprintf(out->platform_os, sizeof(out->platform_os), "%s", os ? os : "");
		snprintf(out->platform_arch, sizeof(out->platform_arch), "%s", arch ? arch : "");
		snprintf(out->platform_variant, sizeof(out->platform_variant), "%s", variant ? variant : "");
	}
	urls = json_object_get(obj, "urls");
	out->has_urls = json_is_array(urls) && json_array_size(urls) > 0;
	return LCR_OK;
}

static int parse_descriptor_array(json_t *array, const char *name, struct descriptor **out,
				  size_t *out_count, char *err, size_t errlen)
{
	size_t n = json_array_size(array);
	struct descriptor *d;
	char where[64];
	int status;

	*out = NULL;
	*out_count = 0;
	if (n == 0)
		return LCR_OK;
	d = calloc(n, sizeof(*d));
	if (d == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	for (size_t i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "%s[%zu]", name, i);
		status = parse_descriptor(json_array_get(array, i), where, &d[i], err, errlen);
		if (status != LCR_OK) {
			free(d);
			return status;
		}
	}
	*out = d;
	*out_count = n;
	return LCR_OK;
}

/* Settle the manifest's media type from its mediaType field, the declared
 * content type and, failing both, its shape. */
static int resolve_media_type(json_t *root, const char *content_type, struct manifest_info *out,
			      char *err, size_t errlen)
{
	json_t *field = json_object_get(root, "mediaType");
	char declared[256] = "";

	if (content_type != NULL && content_type[0] != '\0')
		media_type_base(content_type, declared, sizeof(declared));
	if (field != NULL && !json_is_string(field))
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "mediaType is not a string");
	if (field != NULL) {
		const char *value = json_string_value(field);

		if (declared[0] != '\0' && strcmp(declared, value) != 0 &&
		    strcmp(declared, "application/json") != 0)
			return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen,
					"manifest mediaType '%s' does not match the declared media type '%s'",
					value, declared);
		snprintf(out->media_type, sizeof(out->media_type), "%s", value);
	} else if (declared[0] != '\0' && strcmp(declared, "application/json") != 0) {
		snprintf(out->media_type, sizeof(out->media_type), "%s", declared);
	} else if (json_object_get(root, "manifests") != NULL) {
		snprintf(out->media_type, sizeof(out->media_type), "%s", MEDIA_TYPE_OCI_INDEX);
	} else {
		snprintf(out->media_type, sizeof(out->media_type), "%s", MEDIA_TYPE_OCI_MANIFEST);
	}
	if (is_schema1(out->media_type))
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen,
				"Docker image manifest schema 1 is not supported; push with schema 2 or OCI");
	if (!manifest_media_type_supported(out->media_type))
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "unsupported manifest media type '%s'",
				out->media_type);
	return LCR_OK;
}

static int parse_image(json_t *root, struct manifest_info *out, char *err, size_t errlen)
{
	json_t *layers = json_object_get(root, "layers");
	int status;

	out->kind = MANIFEST_KIND_IMAGE;
	if (json_object_get(root, "manifests") != NULL)
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen,
				"an image manifest must not have a manifests field");
	status = parse_descriptor(json_object_get(root, "config"), "config", &out->config, err, errlen);
	if (status != LCR_OK)
		return status;
	if (!json_is_array(layers))
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "layers is missing or not an array");
	status = parse_descriptor_array(layers, "layers", &out->layers, &out->nlayers, err, errlen);
	if (status != LCR_OK)
		return status;
	for (size_t i = 0; i < out->nlayers; i++)
		out->layers_size += out->layers[i].size;
	return LCR_OK;
}

static int parse_index(json_t *root, struct manifest_info *out, char *err, size_t errlen)
{
	json_t *manifests = json_object_get(root, "manifests");

	out->kind = MANIFEST_KIND_INDEX;
	if (!json_is_array(manifests))
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "manifests is missing or not an array");
	if (json_object_get(root, "layers") != NULL || json_object_get(root, "config") != NULL)
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen,
				"an index must not have config or layers fields");
	return parse_descriptor_array(manifests, "manifests", &out->manifests, &out->nmanifests, err, errlen);
}

int manifest_parse(const char *data, size_t len, const char *content_type,
		   struct manifest_info *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *version, *subject, *artifact_type;
	int status;

	memset(out, 0, sizeof(*out));
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "manifest is not valid JSON: %s (line %d)",
				jerr.text, jerr.line);
	if (!json_is_object(root)) {
		status = lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "manifest is not a JSON object");
		goto out;
	}
	version = json_object_get(root, "schemaVersion");
	if (json_is_integer(version) && json_integer_value(version) == 1) {
		status = lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen,
				  "Docker image manifest schema 1 is not supported; push with schema 2 or OCI");
		goto out;
	}
	if (!json_is_integer(version) || json_integer_value(version) != 2) {
		status = lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "schemaVersion must be 2");
		goto out;
	}
	status = resolve_media_type(root, content_type, out, err, errlen);
	if (status != LCR_OK)
		goto out;
	if (strcmp(out->media_type, MEDIA_TYPE_OCI_INDEX) == 0 || strcmp(out->media_type, MEDIA_TYPE_DOCKER_LIST) == 0)
		status = parse_index(root, out, err, errlen);
	else
		status = parse_image(root, out, err, errlen);
	if (status != LCR_OK)
		goto out;
	artifact_type = json_object_get(root, "artifactType");
	if (artifact_type != NULL) {
		if (!json_is_string(artifact_type)) {
			status = lcr_fail(LCR_ERR_MANIFEST_INVALID, err, errlen, "artifactType is not a string");
			goto out;
		}
		snprintf(out->artifact_type, sizeof(out->artifact_type), "%s", json_string_value(artifact_type));
	}
	subject = json_object_get(root, "subject");
	if (subject != NULL) {
		struct descriptor d;

		status = parse_descriptor(subject, "subject", &d, err, errlen);
		if (status != LCR_OK)
			goto out;
		memcpy(out->subject_digest, d.digest, sizeof(d.digest));
	}
out:
	json_decref(root);
	if (status != LCR_OK)
		manifest_info_release(out);
	return status;
}

void manifest_info_release(struct manifest_info *info)
{
	free(info->layers);
	free(info->manifests);
	info->layers = NULL;
	info->manifests = NULL;
	info->nlayers = 0;
	info->nmanifests = 0;
}

/* Media type pairs that mean the same bytes in both formats. */
static const struct {
	const char *docker;
	const char *oci;
} equivalent_types[] = {
	{"application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"},
	{"application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.oci.image.layer.v1.tar+gzip"},
	{"application/vnd.docker.image.rootfs.diff.tar", "application/vnd.oci.image.layer.v1.tar"},
	{"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	 "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
};

/* Replace the mediaType of descriptor d by its equivalent; false when
 * there is none. */
static int convert_descriptor(json_t *d, int to_docker)
{
	const char *type = json_string_value(json_object_get(d, "mediaType"));

	if (type == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(equivalent_types) / sizeof(equivalent_types[0]); i++) {
		const char *from = to_docker ? equivalent_types[i].oci : equivalent_types[i].docker;
		const char *to = to_docker ? equivalent_types[i].docker : equivalent_types[i].oci;

		if (strcmp(type, from) == 0 || strcmp(type, to) == 0) {
			json_object_set_new(d, "mediaType", json_string(to));
			if (to_docker)
				json_object_del(d, "annotations");
			return 1;
		}
	}
	return 0;
}

int manifest_convert(const char *data, size_t len, const char *target_media_type, char **out, size_t *out_len)
{
	int to_docker = strcmp(target_media_type, MEDIA_TYPE_DOCKER_MANIFEST) == 0;
	json_t *root, *layers, *layer;
	json_error_t jerr;
	size_t i;
	int status = LCR_ERR_UNSUPPORTED;

	*out = NULL;
	if (!to_docker && strcmp(target_media_type, MEDIA_TYPE_OCI_MANIFEST) != 0)
		return LCR_ERR_UNSUPPORTED;
	root = json_loadb(data, len, 0, &jerr);
	if (!json_is_object(root) || json_object_get(root, "subject") != NULL ||
	    json_object_get(root, "artifactType") != NULL)
		goto out;
	layers = json_object_get(root, "layers");
	if (!json_is_array(layers) || !convert_descriptor(json_object_get(root, "config"), to_docker))
		goto out;
	json_array_foreach(layers, i, layer)
		if (!convert_descriptor(layer, to_docker))
			goto out;
	json_object_set_new(root, "mediaType", json_string(target_media_type));
	if (to_docker)
		json_object_del(root, "annotations");
	*out = json_dumps(root, JSON_INDENT(3));
	if (*out == NULL) {
		status = LCR_ERR_INTERNAL;
		goto out;
	}
	*out_len = strlen(*out);
	status = LCR_OK;
out:
	json_decref(root);
	return status;
}

json_t *manifest_referrer_descriptor(const char *data, size_t len, const char *media_type, const char *digest)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr), *descriptor, *annotations;
	const char *artifact_type;

	if (!json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	artifact_type = json_string_value(json_object_get(root, "artifactType"));
	if (artifact_type == NULL)
		artifact_type = json_string_value(json_object_get(json_object_get(root, "config"), "mediaType"));
	descriptor = json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size", (json_int_t)len);
	if (artifact_type != NULL)
		json_object_set_new(descriptor, "artifactType", json_string(artifact_type));
	annotations = json_object_get(root, "annotations");
	if (json_is_object(annotations) && json_object_size(annotations) > 0)
		json_object_set(descriptor, "annotations", annotations);
	json_decref(root);
	return descriptor;
}
