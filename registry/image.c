/*
 * image.c - images (stored manifests), their tags and index references.
 *
 * An image is one manifest digest in one repository.  Tags point at images;
 * moving a tag leaves the old image in place, untagged, as ECR does.  An
 * index records the child manifests it lists in image_references so that a
 * child cannot be deleted while an index in the repository still needs it.
 */
#include "registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/clock.h"
#include "../common/status.h"
#include "manifest.h"

void image_release(struct image *img)
{
	for (size_t i = 0; i < img->ntags; i++)
		free(img->tags[i]);
	free(img->tags);
	free(img->manifest);
	img->tags = NULL;
	img->ntags = 0;
	img->manifest = NULL;
	img->manifest_len = 0;
}

void image_array_free(struct image *imgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		image_release(&imgs[i]);
	free(imgs);
}

/* The tag characters: [a-zA-Z0-9_][a-zA-Z0-9._-]*, 1 to max_len long. */
static bool tag_chars_valid(const char *tag, size_t max_len)
{
	size_t len = strlen(tag);

	if (len == 0 || len > max_len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = tag[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			  (i > 0 && (c == '.' || c == '-'));

		if (!ok)
			return false;
	}
	return true;
}

/* Docker and OCI tag grammar: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127} */
bool registry_tag_valid_oci(const char *tag)
{
	return tag_chars_valid(tag, 128);
}

/* ECR's API accepts 1 to 300 characters.  They follow the tag grammar so
 * that every tag set through the API can be pulled on /v2/. */
bool registry_tag_valid_ecr(const char *tag)
{
	return tag_chars_valid(tag, IMAGE_TAG_MAX);
}

static int load_tags(struct registry *reg, struct image *img)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT tag FROM image_tags WHERE image_id = ? ORDER BY tag");
	size_t cap = 0;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, img->id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		if (img->ntags == cap) {
			char **grown;

			cap = cap ? cap * 2 : 4;
			grown = realloc(img->tags, cap * sizeof(*grown));
			if (grown == NULL) {
				sqlite3_finalize(stmt);
				return LCR_ERR_INTERNAL;
			}
			img->tags = grown;
		}
		img->tags[img->ntags] = strdup((const char *)sqlite3_column_text(stmt, 0));
		if (img->tags[img->ntags] == NULL) {
			sqlite3_finalize(stmt);
			return LCR_ERR_INTERNAL;
		}
		img->ntags++;
	}
	sqlite3_finalize(stmt);
	return LCR_OK;
}

#define IMAGE_COLUMNS                                                                                  \
	"i.id, i.digest, i.media_type, i.artifact_media_type, i.size, i.pushed_at, i.last_pulled_at,"     \
	" i.storage_class, i.last_archived_at, i.last_activated_at, i.subject_digest"
/* Queries that also load the manifest select it right after IMAGE_COLUMNS. */
#define IMAGE_MANIFEST_COLUMN 11

static void read_image(sqlite3_stmt *stmt, struct image *out)
{
	const char *artifact = (const char *)sqlite3_column_text(stmt, 3);

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(stmt, 0);
	snprintf(out->digest, sizeof(out->digest), "%s", sqlite3_column_text(stmt, 1));
	snprintf(out->media_type, sizeof(out->media_type), "%s", sqlite3_column_text(stmt, 2));
	snprintf(out->artifact_media_type, sizeof(out->artifact_media_type), "%s", artifact ? artifact : "");
	out->size = sqlite3_column_int64(stmt, 4);
	out->pushed_at = sqlite3_column_double(stmt, 5);
	out->last_pulled_at = sqlite3_column_double(stmt, 6);
	snprintf(out->storage_class, sizeof(out->storage_class), "%s",
		 sqlite3_column_text(stmt, 7) ? (const char *)sqlite3_column_text(stmt, 7) : "STANDARD");
	out->last_archived_at = sqlite3_column_double(stmt, 8);
	out->last_activated_at = sqlite3_column_double(stmt, 9);
	snprintf(out->subject_digest, sizeof(out->subject_digest), "%s",
		 sqlite3_column_text(stmt, 10) ? (const char *)sqlite3_column_text(stmt, 10) : "");
}

static int image_not_found(const struct repository *repo, const char *reference, char *err, size_t errlen)
{
	if (digest_syntax(reference))
		return lcr_fail(LCR_ERR_IMAGE_NOT_FOUND, err, errlen,
				"The image with imageId {imageDigest:'%s', imageTag:'null'} does not exist within the "
				"repository with name '%s' in the registry with id '%s'",
				reference, repo->name, repo->registry_id);
	return lcr_fail(LCR_ERR_IMAGE_NOT_FOUND, err, errlen,
			"The image with imageId {imageDigest:'null', imageTag:'%s'} does not exist within the "
			"repository with name '%s' in the registry with id '%s'",
			reference, repo->name, repo->registry_id);
}

int registry_image_get(struct registry *reg, const struct repository *repo, const char *reference,
		       bool with_manifest, struct image *out, char *err, size_t errlen)
{
	bool by_digest = digest_syntax(reference);
	sqlite3_stmt *stmt = registry_prepare(reg, by_digest
		? "SELECT " IMAGE_COLUMNS ", i.manifest FROM images i WHERE i.repository_id = ? AND i.digest = ?"
		: "SELECT " IMAGE_COLUMNS ", i.manifest FROM images i JOIN image_tags t ON t.image_id = i.id"
		  " WHERE t.repository_id = ? AND t.tag = ?");
	int status = LCR_OK;

	memset(out, 0, sizeof(*out));
	if (stmt == NULL)
		return registry_db_error(reg, "read image", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	sqlite3_bind_text(stmt, 2, reference, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		return image_not_found(repo, reference, err, errlen);
	}
	read_image(stmt, out);
	if (with_manifest) {
		int len = sqlite3_column_bytes(stmt, IMAGE_MANIFEST_COLUMN);

		out->manifest = malloc((size_t)len + 1);
		if (out->manifest == NULL) {
			status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
		} else {
			memcpy(out->manifest, sqlite3_column_blob(stmt, IMAGE_MANIFEST_COLUMN), (size_t)len);
			out->manifest[len] = '\0';
			out->manifest_len = (size_t)len;
		}
	}
	sqlite3_finalize(stmt);
	if (status == LCR_OK && load_tags(reg, out) != LCR_OK)
		status = registry_db_error(reg, "read image tags", err, errlen);
	if (status != LCR_OK)
		image_release(out);
	return status;
}

/* Run a query over images (first bound parameter: the repository id,
 * then optionally subject) and collect the rows with their tags. */
static int collect_images(struct registry *reg, sqlite3_stmt *stmt, bool with_manifest, struct image **out,
			  size_t *out_count, char *err, size_t errlen)
{
	struct image *list = NULL;
	size_t n = 0, cap = 0;

	while (sqlite3_step(stmt) == SQLITE_ROW) {
		if (n == cap) {
			struct image *grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (grown == NULL) {
				sqlite3_finalize(stmt);
				image_array_free(list, n);
				return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
			}
			list = grown;
		}
		read_image(stmt, &list[n]);
		if (with_manifest) {
			int len = sqlite3_column_bytes(stmt, IMAGE_MANIFEST_COLUMN);

			list[n].manifest = malloc((size_t)len + 1);
			if (list[n].manifest != NULL) {
				memcpy(list[n].manifest, sqlite3_column_blob(stmt, IMAGE_MANIFEST_COLUMN), (size_t)len);
				list[n].manifest[len] = '\0';
				list[n].manifest_len = (size_t)len;
			}
		}
		n++;
	}
	sqlite3_finalize(stmt);
	for (size_t i = 0; i < n; i++) {
		if (load_tags(reg, &list[i]) != LCR_OK || (with_manifest && list[i].manifest == NULL)) {
			image_array_free(list, n);
			return registry_db_error(reg, "list images", err, errlen);
		}
	}
	*out = list;
	*out_count = n;
	return LCR_OK;
}

int registry_image_list(struct registry *reg, const struct repository *repo, struct image **out,
			size_t *out_count, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT " IMAGE_COLUMNS " FROM images i WHERE i.repository_id = ? ORDER BY i.pushed_at DESC, i.id DESC");

	*out = NULL;
	*out_count = 0;
	if (stmt == NULL)
		return registry_db_error(reg, "list images", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	return collect_images(reg, stmt, false, out, out_count, err, errlen);
}

int registry_referrers_list(struct registry *reg, const struct repository *repo, const char *subject_digest,
			    struct image **out, size_t *out_count, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT " IMAGE_COLUMNS ", i.manifest FROM images i WHERE i.repository_id = ? AND i.subject_digest = ?"
		" ORDER BY i.pushed_at DESC, i.id DESC");

	*out = NULL;
	*out_count = 0;
	if (stmt == NULL)
		return registry_db_error(reg, "list referrers", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	sqlite3_bind_text(stmt, 2, subject_digest, -1, SQLITE_TRANSIENT);
	return collect_images(reg, stmt, true, out, out_count, err, errlen);
}

/* Collect the blobs the manifest names that are not linked to the
 * repository, as ECR's "[d1, d2]" list. */
static int check_blobs(struct registry *reg, const struct repository *repo, const struct manifest_info *info,
		       char *err, size_t errlen)
{
	struct buf missing;
	int status = LCR_OK;

	buf_init(&missing, 64 * 1024);
	if (info->kind == MANIFEST_KIND_IMAGE && registry_blob_stat(reg, repo->id, info->config.digest, NULL) != LCR_OK)
		buf_appendf(&missing, "%s", info->config.digest);
	for (size_t i = 0; i < info->nlayers; i++) {
		if (info->layers[i].has_urls)
			continue;
		if (registry_blob_stat(reg, repo->id, info->layers[i].digest, NULL) != LCR_OK)
			buf_appendf(&missing, "%s%s", missing.len ? ", " : "", info->layers[i].digest);
	}
	if (missing.len > 0)
		status = lcr_fail(LCR_ERR_LAYERS_NOT_FOUND, err, errlen,
				  "Layers with digests '[%s]' required for pushing image into repository with name '%s' "
				  "in the registry with id '%s' do not exist",
				  missing.data, repo->name, repo->registry_id);
	buf_release(&missing);
	return status;
}

/* Every manifest an index lists must be an image in the repository; the
 * sum of their sizes becomes the index's size. */
static int check_children(struct registry *reg, const struct repository *repo, const struct manifest_info *info,
			  int64_t *out_size, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT size FROM images WHERE repository_id = ? AND digest = ?");
	struct buf missing;
	int status = LCR_OK;

	*out_size = 0;
	if (stmt == NULL)
		return registry_db_error(reg, "check index children", err, errlen);
	buf_init(&missing, 64 * 1024);
	for (size_t i = 0; i < info->nmanifests; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, repo->id);
		sqlite3_bind_text(stmt, 2, info->manifests[i].digest, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW)
			*out_size += sqlite3_column_int64(stmt, 0);
		else
			buf_appendf(&missing, "%s%s", missing.len ? ", " : "", info->manifests[i].digest);
	}
	sqlite3_finalize(stmt);
	if (missing.len > 0)
		status = lcr_fail(LCR_ERR_REFERENCED_IMAGES_NOT_FOUND, err, errlen,
				  "Manifests with digests '[%s]' referenced by the image index do not exist in the "
				  "repository with name '%s' in the registry with id '%s'",
				  missing.data, repo->name, repo->registry_id);
	buf_release(&missing);
	return status;
}

/* Restore image_id if it is archived, as ECR does when an archived image
 * is pushed again.  *out_restored is true when it was archived. */
static int restore_if_archived(struct registry *reg, int64_t image_id, bool *out_restored, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"UPDATE images SET storage_class = 'STANDARD', last_activated_at = ?"
		" WHERE id = ? AND storage_class = 'ARCHIVE'");
	int rc;

	if (stmt == NULL)
		return registry_db_error(reg, "restore image", err, errlen);
	sqlite3_bind_double(stmt, 1, clock_now());
	sqlite3_bind_int64(stmt, 2, image_id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return registry_db_error(reg, "restore image", err, errlen);
	*out_restored = sqlite3_changes(registry_db(reg)) > 0;
	return LCR_OK;
}

int registry_image_set_storage_class(struct registry *reg, int64_t image_id, const char *storage_class, char *err,
				     size_t errlen)
{
	bool archive = strcmp(storage_class, "ARCHIVE") == 0;
	sqlite3_stmt *stmt = registry_prepare(reg, archive
		? "UPDATE images SET storage_class = 'ARCHIVE', last_archived_at = ? WHERE id = ?"
		: "UPDATE images SET storage_class = 'STANDARD', last_activated_at = ? WHERE id = ?");
	int rc;

	if (stmt == NULL)
		return registry_db_error(reg, "change storage class", err, errlen);
	sqlite3_bind_double(stmt, 1, clock_now());
	sqlite3_bind_int64(stmt, 2, image_id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : registry_db_error(reg, "change storage class", err, errlen);
}

/* Find the image with digest, or insert it.  *out_id is its row id and
 * *out_created is true when it was inserted. */
static int upsert_image(struct registry *reg, const struct repository *repo, const char *digest,
			const char *manifest, size_t len, const struct manifest_info *info, int64_t size,
			int64_t *out_id, bool *out_created, bool *out_restored, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT id FROM images WHERE repository_id = ? AND digest = ?");
	int rc;

	*out_created = false;
	if (stmt == NULL)
		return registry_db_error(reg, "find image", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	sqlite3_bind_text(stmt, 2, digest, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out_id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		return restore_if_archived(reg, *out_id, out_restored, err, errlen);
	stmt = registry_prepare(reg,
		"INSERT INTO images (repository_id, digest, media_type, artifact_media_type, manifest, size,"
		" pushed_at, subject_digest, artifact_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return registry_db_error(reg, "insert image", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	sqlite3_bind_text(stmt, 2, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, info->media_type, -1, SQLITE_STATIC);
	if (info->kind == MANIFEST_KIND_IMAGE && info->config.media_type[0])
		sqlite3_bind_text(stmt, 4, info->config.media_type, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 4);
	sqlite3_bind_blob(stmt, 5, manifest, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 6, size);
	sqlite3_bind_double(stmt, 7, clock_now());
	if (info->subject_digest[0])
		sqlite3_bind_text(stmt, 8, info->subject_digest, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 8);
	if (info->artifact_type[0])
		sqlite3_bind_text(stmt, 9, info->artifact_type, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 9);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return registry_db_error(reg, "insert image", err, errlen);
	*out_id = sqlite3_last_insert_rowid(registry_db(reg));
	*out_created = true;
	if (info->kind != MANIFEST_KIND_INDEX)
		return LCR_OK;
	stmt = registry_prepare(reg, "INSERT OR IGNORE INTO image_references (image_id, child_digest) VALUES (?, ?)");
	if (stmt == NULL)
		return registry_db_error(reg, "record index references", err, errlen);
	for (size_t i = 0; i < info->nmanifests; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, *out_id);
		sqlite3_bind_text(stmt, 2, info->manifests[i].digest, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			sqlite3_finalize(stmt);
			return registry_db_error(reg, "record index references", err, errlen);
		}
	}
	sqlite3_finalize(stmt);
	return LCR_OK;
}

/* Point tag at image_id.  A tag already on another image moves, unless the
 * repository is IMMUTABLE. */
static int set_tag(struct registry *reg, const struct repository *repo, const char *tag, int64_t image_id,
		   bool *out_changed, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT image_id FROM image_tags WHERE repository_id = ? AND tag = ?");
	int64_t current = 0;
	int rc;

	*out_changed = false;
	if (stmt == NULL)
		return registry_db_error(reg, "read tag", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	sqlite3_bind_text(stmt, 2, tag, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		current = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	/* A protected tag cannot be pushed again, by default even for the digest
	 * it already points to, because ECR is reported to reject such re-pushes
	 * (docker push and PutImage alike). */
	if (current != 0 && registry_tag_protected(repo, tag) &&
	    !(current == image_id && reg->allow_immutable_repush))
		return lcr_fail(LCR_ERR_TAG_IMMUTABLE, err, errlen,
				"The image tag '%s' already exists in the '%s' repository and cannot be overwritten "
				"because the tag is immutable.",
				tag, repo->name);
	if (current == image_id)
		return LCR_OK;
	stmt = registry_prepare(reg,
		"INSERT INTO image_tags (repository_id, tag, image_id, updated_at) VALUES (?, ?, ?, ?)"
		" ON CONFLICT (repository_id, tag) DO UPDATE SET image_id = excluded.image_id,"
		" updated_at = excluded.updated_at");
	if (stmt == NULL)
		return registry_db_error(reg, "write tag", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	sqlite3_bind_text(stmt, 2, tag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, image_id);
	sqlite3_bind_double(stmt, 4, clock_now());
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return registry_db_error(reg, "write tag", err, errlen);
	*out_changed = true;
	return LCR_OK;
}

int registry_image_put(struct registry *reg, const struct repository *repo, const char *manifest, size_t len,
		       const char *media_type, const char *tag, struct image_put_result *out, char *err,
		       size_t errlen)
{
	struct manifest_info info;
	int64_t image_id = 0, size = 0;
	int status;

	memset(out, 0, sizeof(*out));
	if (len > MANIFEST_MAX)
		return lcr_fail(LCR_ERR_MANIFEST_TOO_LARGE, err, errlen,
				"manifest is %zu bytes, more than the limit of %d bytes", len, MANIFEST_MAX);
	status = manifest_parse(manifest, len, media_type, &info, err, errlen);
	if (status != LCR_OK)
		return status;
	digest_of(manifest, len, out->digest);
	memcpy(out->subject_digest, info.subject_digest, sizeof(out->subject_digest));
	snprintf(out->media_type, sizeof(out->media_type), "%s", info.media_type);
	snprintf(out->artifact_media_type, sizeof(out->artifact_media_type), "%s",
		 info.artifact_type[0] ? info.artifact_type : info.config.media_type);
	status = registry_begin(reg, err, errlen);
	if (status != LCR_OK)
		goto out;
	if (info.kind == MANIFEST_KIND_INDEX)
		status = check_children(reg, repo, &info, &size, err, errlen);
	else
		status = check_blobs(reg, repo, &info, err, errlen);
	if (info.kind == MANIFEST_KIND_IMAGE)
		size = info.layers_size;
	if (status == LCR_OK)
		status = upsert_image(reg, repo, out->digest, manifest, len, &info, size, &image_id,
				      &out->image_created, &out->restored, err, errlen);
	if (status == LCR_OK && tag != NULL)
		status = set_tag(reg, repo, tag, image_id, &out->tag_changed, err, errlen);
	if (status != LCR_OK) {
		registry_rollback(reg);
		goto out;
	}
	status = registry_commit(reg, err, errlen);
out:
	manifest_info_release(&info);
	return status;
}

int registry_image_is_referenced(struct registry *reg, const struct repository *repo, const char *digest,
				 bool *out)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT 1 FROM image_references r JOIN images i ON i.id = r.image_id"
		" WHERE i.repository_id = ? AND r.child_digest = ? LIMIT 1");

	*out = false;
	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, repo->id);
	sqlite3_bind_text(stmt, 2, digest, -1, SQLITE_STATIC);
	*out = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return LCR_OK;
}

static int delete_image_row(struct registry *reg, int64_t image_id, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "DELETE FROM images WHERE id = ?");
	int rc;

	if (stmt == NULL)
		return registry_db_error(reg, "delete image", err, errlen);
	sqlite3_bind_int64(stmt, 1, image_id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : registry_db_error(reg, "delete image", err, errlen);
}

static int referenced_error(const struct repository *repo, const char *digest, char *err, size_t errlen)
{
	return lcr_fail(LCR_ERR_IMAGE_REFERENCED, err, errlen,
			"The image with digest '%s' in the repository with name '%s' is referenced by a manifest "
			"list and cannot be deleted",
			digest, repo->name);
}

int registry_image_delete(struct registry *reg, const struct repository *repo, const char *digest, char *err,
			  size_t errlen)
{
	struct image img;
	bool referenced = false;
	int status = registry_begin(reg, err, errlen);

	if (status != LCR_OK)
		return status;
	status = registry_image_get(reg, repo, digest, false, &img, err, errlen);
	if (status == LCR_OK) {
		registry_image_is_referenced(reg, repo, digest, &referenced);
		if (referenced)
			status = referenced_error(repo, digest, err, errlen);
		else
			status = delete_image_row(reg, img.id, err, errlen);
		image_release(&img);
	}
	if (status != LCR_OK) {
		registry_rollback(reg);
		return status;
	}
	return registry_commit(reg, err, errlen);
}

int registry_tag_delete(struct registry *reg, const struct repository *repo, const char *tag,
			char out_digest[DIGEST_BUF], char *err, size_t errlen)
{
	struct image img;
	sqlite3_stmt *stmt;
	bool referenced = false;
	int status = registry_begin(reg, err, errlen);

	if (status != LCR_OK)
		return status;
	status = registry_image_get(reg, repo, tag, false, &img, err, errlen);
	if (status != LCR_OK) {
		registry_rollback(reg);
		return status;
	}
	snprintf(out_digest, DIGEST_BUF, "%s", img.digest);
	if (img.ntags == 1) {
		/* Removing the last tag deletes the image, as BatchDeleteImage does. */
		registry_image_is_referenced(reg, repo, img.digest, &referenced);
		if (referenced)
			status = referenced_error(repo, img.digest, err, errlen);
		else
			status = delete_image_row(reg, img.id, err, errlen);
	} else {
		stmt = registry_prepare(reg, "DELETE FROM image_tags WHERE repository_id = ? AND tag = ?");
		if (stmt == NULL) {
			status = registry_db_error(reg, "delete tag", err, errlen);
		} else {
			sqlite3_bind_int64(stmt, 1, repo->id);
			sqlite3_bind_text(stmt, 2, tag, -1, SQLITE_STATIC);
			if (sqlite3_step(stmt) != SQLITE_DONE)
				status = registry_db_error(reg, "delete tag", err, errlen);
			sqlite3_finalize(stmt);
		}
	}
	image_release(&img);
	if (status != LCR_OK) {
		registry_rollback(reg);
		return status;
	}
	return registry_commit(reg, err, errlen);
}

void registry_image_touch_pull(struct registry *reg, int64_t image_id)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "UPDATE images SET last_pulled_at = ? WHERE id = ?");

	if (stmt == NULL)
		return;
	sqlite3_bind_double(stmt, 1, clock_now());
	sqlite3_bind_int64(stmt, 2, image_id);
	sqlite3_step(stmt);
	sqlite3_finalize(stmt);
}
