/*
 * seed_image.c - load the images of a seed file into the store: OCI image
 * layouts and docker-archive tars (the `docker save` format).
 *
 * Blobs are copied through the upload API (registry_upload_create, a blob
 * writer, registry_upload_complete, which checks every digest), then the
 * manifest is stored with registry_image_put, as a push would.  An image
 * index's child manifests are stored first, untagged.
 *
 * A docker archive has no registry manifest, so one is built: a Docker
 * image manifest v2 schema 2 naming the archive's config and its layers.
 * Layers are stored as they are in the archive, not recompressed: a plain
 * tar becomes application/vnd.docker.image.rootfs.diff.tar (its digest is
 * then the layer's diff ID), a gzip stream
 * application/vnd.docker.image.rootfs.diff.tar.gzip.
 */
#include "seed_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "../common/status.h"

#define OCI_REF_ANNOTATION "org.opencontainers.image.ref.name"
#define DOCKER_MANIFEST_TYPE "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_CONFIG_TYPE "application/vnd.docker.container.image.v1+json"
#define DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
/* index.json and a docker archive's manifest.json list images, not bytes. */
#define INDEX_TEXT_MAX (4 * 1024 * 1024)
#define CONFIG_MAX (16 * 1024 * 1024)
#define WHERE_BUF 256
#define CHUNK 65536

static const char *const oci_fields[] = {"oci", "ref", "tag", NULL};
static const char *const archive_fields[] = {"dockerArchive", "tag", NULL};

/* Streams bytes into a new upload session of a repository. */
struct blob_copy {
	struct registry *reg;
	const struct repository *repo;
	struct blob_writer *writer;
	EVP_MD_CTX *hash;
	int64_t size;
};

static int copy_begin(struct blob_copy *copy, struct registry *reg, const struct repository *repo, char *err,
		      size_t errlen)
{
	char uuid[UUID_BUF];
	int status;

	memset(copy, 0, sizeof(*copy));
	copy->reg = reg;
	copy->repo = repo;
	copy->hash = EVP_MD_CTX_new();
	if (copy->hash == NULL || EVP_DigestInit_ex(copy->hash, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(copy->hash);
		return LCR_ERR_INTERNAL;
	}
	status = registry_upload_create(reg, repo->id, uuid, err, errlen);
	if (status == LCR_OK)
		status = registry_upload_writer_open(reg, repo->id, uuid, &copy->writer, err, errlen);
	if (status != LCR_OK) {
		registry_upload_cancel(reg, repo->id, uuid);
		EVP_MD_CTX_free(copy->hash);
	}
	return status;
}

static int copy_write(struct blob_copy *copy, const void *data, size_t len)
{
	copy->size += (int64_t)len;
	EVP_DigestUpdate(copy->hash, data, len);
	return blob_writer_write(copy->writer, data, len);
}

static void copy_abort(struct blob_copy *copy)
{
	blob_writer_abort(copy->writer);
	EVP_MD_CTX_free(copy->hash);
}

/* Complete the upload; expected may be NULL when the digest is learnt from
 * the bytes.  out_digest gets the digest stored. */
static int copy_finish(struct blob_copy *copy, const char *expected, char out_digest[DIGEST_BUF], char *err,
		       size_t errlen)
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int rawlen = 0;
	char actual[DIGEST_BUF];

	EVP_DigestFinal_ex(copy->hash, raw, &rawlen);
	EVP_MD_CTX_free(copy->hash);
	memcpy(actual, "sha256:", 7);
	digest_hex(raw, rawlen, actual + 7);
	snprintf(out_digest, DIGEST_BUF, "%s", actual);
	return registry_upload_complete(copy->reg, copy->repo->id, copy->writer, expected ? expected : actual, err,
					errlen);
}

/* Path of a blob inside an OCI layout: blobs/<algorithm>/<encoded>. */
static int layout_blob_path(const char *layout, const char *digest, char *out, size_t outlen)
{
	const char *colon = strchr(digest, ':');

	if (!digest_valid(digest) || colon == NULL)
		return -1;
	snprintf(out, outlen, "%s/blobs/%.*s/%s", layout, (int)(colon - digest), digest, colon + 1);
	return 0;
}

static int read_file(const char *path, size_t max, char **out_text, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, len = 0, n;
	char *text = malloc(cap + 1);

	*out_text = NULL;
	if (f == NULL || text == NULL) {
		int saved = errno;

		if (f != NULL)
			fclose(f);
		free(text);
		errno = saved;
		return -1;
	}
	while ((n = fread(text + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			char *bigger = cap >= max ? NULL : realloc(text, cap * 2 + 1);

			if (bigger == NULL) {
				fclose(f);
				free(text);
				errno = EFBIG;
				return -1;
			}
			text = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	text[len] = '\0';
	*out_text = text;
	*out_len = len;
	return 0;
}

/* Find the descriptor of ref in an OCI layout's index.json; *out_index is
 * the parsed index, which owns *out_descriptor. */
static int oci_find_ref(const struct seed *seed, const char *layout_shown, const char *layout, const char *ref,
			const char *where, json_t **out_index, json_t **out_descriptor, char *err, size_t errlen)
{
	char path[4096], *text = NULL;
	size_t len = 0, i;
	struct stat st;
	json_t *index, *manifests, *descriptor;
	json_error_t jerr;

	*out_index = NULL;
	*out_descriptor = NULL;
	if (stat(layout, &st) != 0)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "cannot read OCI layout %s: %s",
				 layout_shown, strerror(errno));
	snprintf(path, sizeof(path), "%s/index.json", layout);
	if (read_file(path, INDEX_TEXT_MAX, &text, &len) != 0)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "cannot read OCI layout %s: index.json: %s", layout_shown, strerror(errno));
	index = json_loadb(text, len, 0, &jerr);
	free(text);
	manifests = json_object_get(index, "manifests");
	if (!json_is_array(manifests)) {
		json_decref(index);
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "OCI layout %s: index.json is not an image index", layout_shown);
	}
	json_array_foreach(manifests, i, descriptor) {
		const char *name = json_string_value(
			json_object_get(json_object_get(descriptor, "annotations"), OCI_REF_ANNOTATION));

		if (name != NULL && strcmp(name, ref) == 0) {
			*out_index = index;
			*out_descriptor = descriptor;
			return LCR_OK;
		}
	}
	json_decref(index);
	return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
			 "OCI layout %s has no manifest tagged '%s' in index.json", layout_shown, ref);
}

/* Open a docker archive for one pass over its entries. */
static struct archive *archive_open(const char *path)
{
	struct archive *a = archive_read_new();

	if (a == NULL)
		return NULL;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, CHUNK) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* An entry name without a leading "./". */
static const char *entry_name(struct archive_entry *entry)
{
	const char *name = archive_entry_pathname(entry);

	while (name != NULL && strncmp(name, "./", 2) == 0)
		name += 2;
	return name ? name : "";
}

/* Resolve a symbolic link's target against the folder of the link, folding
 * "." and ".." parts, as old `docker save` links duplicate layers. */
static void resolve_link(const char *link, const char *target, char *out, size_t outlen)
{
	char joined[4096], *parts[256], *save = NULL, *part;
	const char *slash = strrchr(link, '/');
	size_t n = 0, used = 0;

	if (target[0] == '/' || slash == NULL)
		snprintf(joined, sizeof(joined), "%s", target[0] == '/' ? target + 1 : target);
	else
		snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - link), link, target);
	for (part = strtok_r(joined, "/", &save); part != NULL; part = strtok_r(NULL, "/", &save)) {
		if (strcmp(part, ".") == 0)
			continue;
		if (strcmp(part, "..") == 0) {
			if (n > 0)
				n--;
			continue;
		}
		if (n < sizeof(parts) / sizeof(parts[0]))
			parts[n++] = part;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s", i ? "/" : "", parts[i]);
}

/* Read a docker archive's manifest.json (its first image) and the symbolic
 * links in the archive; *out_links maps link names to resolved targets. */
static int archive_read_manifest(const struct seed *seed, const char *path, const char *shown, const char *where,
				 json_t **out_image, json_t **out_links, char *err, size_t errlen)
{
	struct archive *a = archive_open(path);
	struct archive_entry *entry;
	json_t *manifest = NULL, *links = json_object(), *image, *layers, *layer;
	size_t i;
	int rc;

	*out_image = NULL;
	*out_links = NULL;
	if (a == NULL) {
		json_decref(links);
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "cannot read docker archive %s: %s",
				 shown, access(path, R_OK) != 0 ? strerror(errno) : "not a tar file");
	}
	while ((rc = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
		const char *name = entry_name(entry);

		if (archive_entry_filetype(entry) == AE_IFLNK && archive_entry_symlink(entry) != NULL) {
			char target[4096];

			resolve_link(name, archive_entry_symlink(entry), target, sizeof(target));
			json_object_set_new(links, name, json_string(target));
		} else if (strcmp(name, "manifest.json") == 0 && manifest == NULL) {
			int64_t size = archive_entry_size(entry);
			char *text = size >= 0 && size <= INDEX_TEXT_MAX ? malloc((size_t)size + 1) : NULL;

			if (text != NULL && archive_read_data(a, text, (size_t)size) == (la_ssize_t)size)
				manifest = json_loadb(text, (size_t)size, 0, NULL);
			free(text);
		}
	}
	archive_read_free(a);
	image = json_array_get(manifest, 0);
	layers = json_object_get(image, "Layers");
	rc = json_is_string(json_object_get(image, "Config")) && json_is_array(layers);
	json_array_foreach(layers, i, layer) {
		rc = rc && json_is_string(layer);
	}
	if (!rc) {
		json_decref(manifest);
		json_decref(links);
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "docker archive %s has no manifest.json with Config and Layers", shown);
	}
	*out_image = json_incref(image);
	*out_links = links;
	json_decref(manifest);
	return LCR_OK;
}

int seed_image_check(const struct seed *seed, json_t *image, const char *where, char *err, size_t errlen)
{
	const char *oci = json_string_value(json_object_get(image, "oci"));
	const char *archive = json_string_value(json_object_get(image, "dockerArchive"));
	const char *ref = json_string_value(json_object_get(image, "ref"));
	const char *tag = json_string_value(json_object_get(image, "tag"));
	json_t *value;
	char path[4096], at[WHERE_BUF];
	const char *key;
	int status;

	if (!json_is_object(image) || (oci == NULL) == (archive == NULL))
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "expected {\"oci\": \"<layout folder>\", ...} or {\"dockerArchive\": \"<tar file>\", ...}");
	json_object_foreach(image, key, value) {
		const char *const *allowed = oci ? oci_fields : archive_fields;
		bool known = false;

		for (size_t i = 0; allowed[i] != NULL; i++)
			known |= strcmp(allowed[i], key) == 0;
		if (!known)
			return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "unknown field '%s'", key);
		if (!json_is_string(value))
			return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "%s must be a string", key);
	}
	seed_where(at, sizeof(at), "%s.tag", where);
	if (archive != NULL && tag == NULL)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "a dockerArchive image needs a tag");
	if (oci != NULL && tag == NULL)
		tag = ref ? ref : "latest";
	if (!registry_tag_valid_oci(tag))
		return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "invalid tag '%s': expected 1 to 128 characters of [A-Za-z0-9_.-], not starting with "
				 "'.' or '-'",
				 tag);
	if (oci != NULL) {
		json_t *index, *descriptor;

		seed_where(at, sizeof(at), "%s.oci", where);
		seed_resolve_path(seed, oci, path, sizeof(path));
		status = oci_find_ref(seed, oci, path, ref ? ref : "latest", at, &index, &descriptor, err, errlen);
		json_decref(index);
	} else {
		json_t *manifest, *links;

		seed_where(at, sizeof(at), "%s.dockerArchive", where);
		seed_resolve_path(seed, archive, path, sizeof(path));
		status = archive_read_manifest(seed, path, archive, at, &manifest, &links, err, errlen);
		json_decref(manifest);
		json_decref(links);
	}
	return status;
}

/* Copy one blob file of an OCI layout into the repository, unless the
 * repository already has it. */
static int oci_push_blob(struct server *srv, const struct seed *seed, const struct repository *repo,
			 const char *layout, const char *shown, const char *digest, const char *where, char *err,
			 size_t errlen)
{
	char path[4096], buffer[CHUNK], stored[DIGEST_BUF], detail[512];
	struct blob_copy copy;
	int64_t size;
	ssize_t n;
	int fd, status;

	if (layout_blob_path(layout, digest, path, sizeof(path)) != 0)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "OCI layout %s names the invalid digest '%s'", shown, digest);
	if (registry_blob_stat(srv->registry, repo->id, digest, &size) == LCR_OK)
		return LCR_OK;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "OCI layout %s: blob %s: %s", shown,
				 digest, strerror(errno));
	status = copy_begin(&copy, srv->registry, repo, detail, sizeof(detail));
	while (status == LCR_OK && (n = read(fd, buffer, sizeof(buffer))) != 0) {
		if (n < 0 || copy_write(&copy, buffer, (size_t)n) != 0) {
			copy_abort(&copy);
			snprintf(detail, sizeof(detail), "cannot copy blob %s: %s", digest, strerror(errno));
			status = LCR_ERR_INVALID_PARAMETER;
		}
	}
	close(fd);
	if (status == LCR_OK)
		status = copy_finish(&copy, digest, stored, detail, sizeof(detail));
	if (status != LCR_OK)
		return seed_fail(seed, where, status, err, errlen, "OCI layout %s: %s", shown, detail);
	return LCR_OK;
}

/* Store a manifest under tag (or untagged when tag is NULL).  A tag that
 * already names the same digest, or an untagged manifest already stored, is
 * left alone, so seeding twice works in an immutable repository. */
static int put_manifest(struct server *srv, const struct seed *seed, const struct repository *repo, const char *text,
			size_t len, const char *media_type, const char *tag, const char *where, int *out_pushed,
			char *err, size_t errlen)
{
	struct image_put_result result;
	struct image existing;
	char digest[DIGEST_BUF], detail[1024];
	int status;

	digest_of(text, len, digest);
	if (registry_image_get(srv->registry, repo, tag ? tag : digest, false, &existing, detail, sizeof(detail)) ==
	    LCR_OK) {
		bool same = strcmp(existing.digest, digest) == 0;

		image_release(&existing);
		if (same)
			return LCR_OK;
	}
	status = registry_image_put(srv->registry, repo, text, len, media_type, tag, &result, detail, sizeof(detail));
	if (status != LCR_OK)
		return seed_fail(seed, where, status, err, errlen, "%s", detail);
	(*out_pushed)++;
	if (repo->scan_on_push)
		scans_on_push(srv, repo, result.digest);
	return LCR_OK;
}

/* Store the manifest descriptor names, after its blobs or child manifests. */
static int oci_push_manifest(struct server *srv, const struct seed *seed, const struct repository *repo,
			     const char *layout, const char *shown, json_t *descriptor, const char *tag, int depth,
			     const char *where, int *out_pushed, char *err, size_t errlen)
{
	const char *digest = json_string_value(json_object_get(descriptor, "digest"));
	const char *media_type = json_string_value(json_object_get(descriptor, "mediaType"));
	char path[4096], actual[DIGEST_BUF], *text = NULL;
	json_t *manifest = NULL, *children, *child, *layers, *layer;
	size_t len = 0, i;
	int status = LCR_OK;

	if (digest == NULL || layout_blob_path(layout, digest, path, sizeof(path)) != 0 || depth > 2)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "OCI layout %s has a manifest descriptor without a valid digest", shown);
	if (read_file(path, MANIFEST_MAX, &text, &len) != 0)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "OCI layout %s: manifest %s: %s",
				 shown, digest, strerror(errno));
	digest_of(text, len, actual);
	manifest = json_loadb(text, len, 0, NULL);
	if (strcmp(actual, digest) != 0 || manifest == NULL) {
		status = seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				   "OCI layout %s: manifest %s is corrupt (its bytes hash to %s)", shown, digest, actual);
		goto out;
	}
	children = json_object_get(manifest, "manifests");
	json_array_foreach(children, i, child) {
		status = oci_push_manifest(srv, seed, repo, layout, shown, child, NULL, depth + 1, where, out_pushed, err,
					   errlen);
		if (status != LCR_OK)
			goto out;
	}
	if (json_object_get(manifest, "config") != NULL)
		status = oci_push_blob(srv, seed, repo, layout, shown,
				       json_string_value(json_object_get(json_object_get(manifest, "config"), "digest")),
				       where, err, errlen);
	layers = json_object_get(manifest, "layers");
	json_array_foreach(layers, i, layer) {
		if (status != LCR_OK)
			break;
		status = oci_push_blob(srv, seed, repo, layout, shown, json_string_value(json_object_get(layer, "digest")),
				       where, err, errlen);
	}
	if (status == LCR_OK)
		status = put_manifest(srv, seed, repo, text, len, media_type, tag, where, out_pushed, err, errlen);
out:
	json_decref(manifest);
	free(text);
	return status;
}

/* Copy the current archive entry into the repository as one blob. */
static int archive_copy_entry(struct server *srv, struct archive *a, const struct repository *repo, bool *out_gzip,
			      json_t **out_descriptor, char *detail, size_t detaillen)
{
	char buffer[CHUNK], digest[DIGEST_BUF];
	struct blob_copy copy;
	la_ssize_t n;
	bool first = true;
	int status = copy_begin(&copy, srv->registry, repo, detail, detaillen);

	*out_gzip = false;
	while (status == LCR_OK && (n = archive_read_data(a, buffer, sizeof(buffer))) != 0) {
		if (n < 0 || copy_write(&copy, buffer, (size_t)n) != 0) {
			copy_abort(&copy);
			snprintf(detail, detaillen, "%s", n < 0 ? archive_error_string(a) : "cannot write the blob");
			return LCR_ERR_INVALID_PARAMETER;
		}
		if (first && n >= 2)
			*out_gzip = (unsigned char)buffer[0] == 0x1f && (unsigned char)buffer[1] == 0x8b;
		first = false;
	}
	if (status == LCR_OK)
		status = copy_finish(&copy, NULL, digest, detail, detaillen);
	if (status == LCR_OK)
		*out_descriptor = json_pack("{s:s, s:I, s:s}", "mediaType", *out_gzip ? DOCKER_LAYER_GZIP : DOCKER_LAYER_TAR,
					    "size", (json_int_t)copy.size, "digest", digest);
	return status;
}

/* The entry name a manifest.json path refers to, following links. */
static const char *archive_target(json_t *links, const char *name)
{
	const char *target = json_string_value(json_object_get(links, name));

	return target ? target : name;
}

/* Second pass over a docker archive: copy the config and the layers, and
 * fill descriptors (entry name to descriptor). */
static int archive_copy_blobs(struct server *srv, const char *path, const struct repository *repo, json_t *image,
			      json_t *links, json_t *descriptors, char *detail, size_t detaillen)
{
	struct archive *a = archive_open(path);
	struct archive_entry *entry;
	const char *config = archive_target(links, json_string_value(json_object_get(image, "Config")));
	json_t *layers = json_object_get(image, "Layers"), *layer;
	int status = LCR_OK;

	if (a == NULL) {
		snprintf(detail, detaillen, "cannot open it again: %s", strerror(errno));
		return LCR_ERR_INVALID_PARAMETER;
	}
	while (status == LCR_OK && archive_read_next_header(a, &entry) == ARCHIVE_OK) {
		const char *name = entry_name(entry);
		bool wanted = strcmp(name, config) == 0, gzip;
		size_t i;
		json_t *descriptor = NULL;

		json_array_foreach(layers, i, layer) {
			wanted |= strcmp(archive_target(links, json_string_value(layer)), name) == 0;
		}
		if (!wanted || archive_entry_filetype(entry) != AE_IFREG || json_object_get(descriptors, name) != NULL)
			continue;
		if (strcmp(name, config) == 0 && archive_entry_size(entry) > CONFIG_MAX) {
			snprintf(detail, detaillen, "config %s is larger than %d bytes", name, CONFIG_MAX);
			status = LCR_ERR_INVALID_PARAMETER;
			break;
		}
		status = archive_copy_entry(srv, a, repo, &gzip, &descriptor, detail, detaillen);
		if (status == LCR_OK)
			json_object_set_new(descriptors, name, descriptor);
	}
	archive_read_free(a);
	return status;
}

/* Build the Docker v2 schema 2 manifest from the copied blobs. */
static char *archive_manifest(json_t *image, json_t *links, json_t *descriptors, char *detail, size_t detaillen)
{
	const char *config_name = archive_target(links, json_string_value(json_object_get(image, "Config")));
	json_t *config = json_object_get(descriptors, config_name), *layers = json_array(), *layer, *manifest;
	size_t i;
	char *text = NULL;

	if (config == NULL) {
		snprintf(detail, detaillen, "the config %s named in manifest.json is not in the archive", config_name);
		goto out;
	}
	json_array_foreach(json_object_get(image, "Layers"), i, layer) {
		const char *name = archive_target(links, json_string_value(layer));
		json_t *descriptor = json_object_get(descriptors, name);

		if (descriptor == NULL) {
			snprintf(detail, detaillen, "the layer %s named in manifest.json is not in the archive", name);
			goto out;
		}
		json_array_append(layers, descriptor);
	}
	manifest = json_pack("{s:i, s:s, s:{s:s, s:O, s:O}, s:O}", "schemaVersion", 2, "mediaType", DOCKER_MANIFEST_TYPE,
			     "config", "mediaType", DOCKER_CONFIG_TYPE, "size", json_object_get(config, "size"),
			     "digest", json_object_get(config, "digest"), "layers", layers);
	text = json_dumps(manifest, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
	json_decref(manifest);
out:
	json_decref(layers);
	return text;
}

static int archive_push(struct server *srv, const struct seed *seed, const struct repository *repo, const char *shown,
			const char *path, const char *tag, const char *where, int *out_pushed, char *err,
			size_t errlen)
{
	json_t *image = NULL, *links = NULL, *descriptors = json_object();
	char detail[1024], *text = NULL;
	int status = archive_read_manifest(seed, path, shown, where, &image, &links, err, errlen);

	if (status != LCR_OK)
		goto out;
	status = archive_copy_blobs(srv, path, repo, image, links, descriptors, detail, sizeof(detail));
	if (status == LCR_OK && (text = archive_manifest(image, links, descriptors, detail, sizeof(detail))) == NULL)
		status = LCR_ERR_INVALID_PARAMETER;
	if (status != LCR_OK) {
		status = seed_fail(seed, where, status, err, errlen, "docker archive %s: %s", shown, detail);
		goto out;
	}
	status = put_manifest(srv, seed, repo, text, strlen(text), DOCKER_MANIFEST_TYPE, tag, where, out_pushed, err,
			      errlen);
out:
	free(text);
	json_decref(image);
	json_decref(links);
	json_decref(descriptors);
	return status;
}

int seed_image_push(struct server *srv, const struct seed *seed, const struct repository *repo, json_t *image,
		    const char *where, int *out_pushed, char *err, size_t errlen)
{
	const char *oci = json_string_value(json_object_get(image, "oci"));
	const char *archive = json_string_value(json_object_get(image, "dockerArchive"));
	const char *ref = json_string_value(json_object_get(image, "ref"));
	const char *tag = json_string_value(json_object_get(image, "tag"));
	char path[4096], at[WHERE_BUF];
	json_t *index = NULL, *descriptor;
	int status;

	if (archive != NULL) {
		seed_where(at, sizeof(at), "%s.dockerArchive", where);
		seed_resolve_path(seed, archive, path, sizeof(path));
		return archive_push(srv, seed, repo, archive, path, tag, at, out_pushed, err, errlen);
	}
	if (ref == NULL)
		ref = "latest";
	seed_where(at, sizeof(at), "%s.oci", where);
	seed_resolve_path(seed, oci, path, sizeof(path));
	status = oci_find_ref(seed, oci, path, ref, at, &index, &descriptor, err, errlen);
	if (status == LCR_OK)
		status = oci_push_manifest(srv, seed, repo, path, oci, descriptor, tag ? tag : ref, 0, at, out_pushed, err,
					   errlen);
	json_decref(index);
	return status;
}
