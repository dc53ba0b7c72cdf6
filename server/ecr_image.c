/*
 * ecr_image.c - ListImages, DescribeImages, BatchGetImage, PutImage and
 * BatchDeleteImage.
 *
 * Batch calls report per image: what worked goes into the result list and
 * what did not into "failures" with ECR's failureCode and failureReason.
 */
#include "ecr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"

enum tag_filter {
	TAG_FILTER_ANY,
	TAG_FILTER_TAGGED,
	TAG_FILTER_UNTAGGED
};

/* Read filter.imageStatus: ACTIVE (the default of DescribeImages), ARCHIVED
 * or ANY.  *out_active is true when active images pass, and *out_archived
 * when archived ones do. */
static int read_status_filter(struct request *req, const char *default_status, bool *out_active, bool *out_archived)
{
	json_t *filter = json_object_get(req->input, "filter");
	const char *value = json_string_value(json_object_get(filter, "imageStatus"));

	if (value == NULL)
		value = default_status;
	*out_active = strcmp(value, "ACTIVE") == 0 || strcmp(value, "ANY") == 0;
	*out_archived = strcmp(value, "ARCHIVED") == 0 || strcmp(value, "ANY") == 0;
	if (!*out_active && !*out_archived)
		return ecr_invalid(req, "filter.imageStatus", "Member must satisfy enum value set: [ACTIVE, ARCHIVED, ANY]");
	return LCR_OK;
}

static bool status_keeps(bool active, bool archived, const struct image *img)
{
	return strcmp(img->storage_class, "ARCHIVE") == 0 ? archived : active;
}

static int read_tag_filter(struct request *req, enum tag_filter *out)
{
	json_t *filter;
	const char *status_text;
	int status = ecr_input_object(req, req->input, "filter", &filter);

	*out = TAG_FILTER_ANY;
	if (status != LCR_OK || filter == NULL)
		return status;
	status = ecr_input_string(req, filter, "tagStatus", false, 0, 64, &status_text);
	if (status != LCR_OK || status_text == NULL)
		return status;
	if (strcmp(status_text, "TAGGED") == 0)
		*out = TAG_FILTER_TAGGED;
	else if (strcmp(status_text, "UNTAGGED") == 0)
		*out = TAG_FILTER_UNTAGGED;
	else if (strcmp(status_text, "ANY") != 0)
		return ecr_invalid(req, "filter.tagStatus", "Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]");
	return LCR_OK;
}

static bool filter_keeps(enum tag_filter filter, const struct image *img)
{
	if (filter == TAG_FILTER_TAGGED)
		return img->ntags > 0;
	if (filter == TAG_FILTER_UNTAGGED)
		return img->ntags == 0;
	return true;
}

static json_t *image_id_json(const char *digest, const char *tag)
{
	json_t *id = json_object();

	if (digest != NULL)
		json_object_set_new(id, "imageDigest", json_string(digest));
	if (tag != NULL)
		json_object_set_new(id, "imageTag", json_string(tag));
	return id;
}

int ecr_list_images(struct request *req)
{
	struct image *images = NULL;
	size_t count = 0, start = 0, page = 0;
	enum tag_filter filter;
	bool active = true, archived = true;
	json_t *ids = json_array(), *page_ids = json_array(), *body;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = read_tag_filter(req, &filter);
	if (status == LCR_OK)
		status = read_status_filter(req, "ANY", &active, &archived);
	if (status == LCR_OK)
		status = registry_image_list(req->srv->registry, &req->repo, &images, &count, req->err, sizeof(req->err));
	if (status != LCR_OK)
		goto out;
	/* One entry per tag; an untagged image is listed by digest alone. */
	for (size_t i = 0; i < count; i++) {
		if (!filter_keeps(filter, &images[i]) || !status_keeps(active, archived, &images[i]))
			continue;
		if (images[i].ntags == 0)
			json_array_append_new(ids, image_id_json(images[i].digest, NULL));
		for (size_t j = 0; j < images[i].ntags; j++)
			json_array_append_new(ids, image_id_json(images[i].digest, images[i].tags[j]));
	}
	status = ecr_page(req, json_array_size(ids), 100, 1000, &start, &page);
	if (status != LCR_OK)
		goto out;
	for (size_t i = start; i < start + page; i++)
		json_array_append(page_ids, json_array_get(ids, i));
	body = json_pack("{s:O}", "imageIds", page_ids);
	ecr_page_token(body, start + page, json_array_size(ids));
	request_respond_json(req, MHD_HTTP_OK, body);
out:
	json_decref(ids);
	json_decref(page_ids);
	image_array_free(images, count);
	return status;
}

static json_t *image_detail_json(const struct repository *repo, const struct image *img)
{
	json_t *detail = json_pack("{s:s, s:s, s:s, s:I, s:o, s:s}", "registryId", repo->registry_id, "repositoryName",
				   repo->name, "imageDigest", img->digest, "imageSizeInBytes", (json_int_t)img->size,
				   "imagePushedAt", ecr_time(img->pushed_at), "imageManifestMediaType", img->media_type);

	if (img->ntags > 0) {
		json_t *tags = json_array();

		for (size_t i = 0; i < img->ntags; i++)
			json_array_append_new(tags, json_string(img->tags[i]));
		json_object_set_new(detail, "imageTags", tags);
	}
	if (img->artifact_media_type[0])
		json_object_set_new(detail, "artifactMediaType", json_string(img->artifact_media_type));
	if (img->last_pulled_at > 0)
		json_object_set_new(detail, "lastRecordedPullTime", ecr_time(img->last_pulled_at));
	if (img->subject_digest[0])
		json_object_set_new(detail, "subjectManifestDigest", json_string(img->subject_digest));
	json_object_set_new(detail, "imageStatus",
			    json_string(strcmp(img->storage_class, "ARCHIVE") == 0 ? "ARCHIVED" : "ACTIVE"));
	if (img->last_archived_at > 0)
		json_object_set_new(detail, "lastArchivedAt", ecr_time(img->last_archived_at));
	if (img->last_activated_at > 0)
		json_object_set_new(detail, "lastActivatedAt", ecr_time(img->last_activated_at));
	return detail;
}

/* Read one ImageIdentifier; ECR's failure code goes to *out_failure. */
static int read_image_id(json_t *id, const char **out_digest, const char **out_tag, const char **out_failure,
			 const char **out_reason)
{
	json_t *digest = json_object_get(id, "imageDigest");
	json_t *tag = json_object_get(id, "imageTag");

	*out_digest = json_string_value(digest);
	*out_tag = json_string_value(tag);
	*out_failure = NULL;
	if (!json_is_object(id) || (digest != NULL && !json_is_string(digest)) || (tag != NULL && !json_is_string(tag)))
		return LCR_ERR_SERIALIZATION;
	if (*out_digest == NULL && *out_tag == NULL) {
		*out_failure = "MissingDigestAndTag";
		*out_reason = "Invalid request parameters: image digest and tag can not both be null.";
	} else if (*out_digest != NULL && !digest_valid(*out_digest)) {
		*out_failure = "InvalidImageDigest";
		*out_reason = "Invalid request parameters: image digest should satisfy the regex "
			      "'sha256:[a-f0-9]{64}'";
	} else if (*out_tag != NULL && !registry_tag_valid_ecr(*out_tag)) {
		*out_failure = "InvalidImageTag";
		*out_reason = "Invalid request parameters: image tag is invalid";
	}
	return LCR_OK;
}

static int image_ids_serialization_error(struct request *req)
{
	return lcr_fail(LCR_ERR_SERIALIZATION, req->err, sizeof(req->err),
			"Unexpected value type for field 'imageIds': expected ImageIdentifier structures");
}

/* Resolve an identifier to an image; both digest and tag must agree when
 * both are given. */
static int resolve_image(struct request *req, const char *digest, const char *tag, bool with_manifest,
			 struct image *out, const char **out_failure)
{
	int status = registry_image_get(req->srv->registry, &req->repo, tag != NULL ? tag : digest, with_manifest, out,
					req->err, sizeof(req->err));

	*out_failure = NULL;
	if (status == LCR_ERR_IMAGE_NOT_FOUND) {
		*out_failure = "ImageNotFound";
		return status;
	}
	if (status == LCR_OK && tag != NULL && digest != NULL && strcmp(out->digest, digest) != 0) {
		image_release(out);
		*out_failure = "ImageTagDoesNotMatchDigest";
		return LCR_ERR_IMAGE_NOT_FOUND;
	}
	return status;
}

static json_t *failure_json(const char *digest, const char *tag, const char *code, const char *reason)
{
	return json_pack("{s:o, s:s, s:s}", "imageId", image_id_json(digest, tag), "failureCode", code,
			 "failureReason", reason);
}

static const char *failure_reason(const char *code)
{
	if (strcmp(code, "ImageTagDoesNotMatchDigest") == 0)
		return "Invalid request parameters: given tag does not map to the given digest";
	return "Requested image not found";
}

static int describe_listed(struct request *req, json_t *ids)
{
	json_t *details = json_array(), *id;
	size_t i;
	int status = LCR_OK;

	json_array_foreach(ids, i, id) {
		const char *digest, *tag, *failure, *reason;
		struct image img;

		if (read_image_id(id, &digest, &tag, &failure, &reason) != LCR_OK) {
			status = image_ids_serialization_error(req);
			break;
		}
		if (failure != NULL) {
			status = lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err), "%s", reason);
			break;
		}
		status = resolve_image(req, digest, tag, false, &img, &failure);
		if (status == LCR_ERR_IMAGE_NOT_FOUND)
			status = lcr_fail(status, req->err, sizeof(req->err),
					  "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within "
					  "the repository with name '%s' in the registry with id '%s'",
					  digest ? digest : "null", tag ? tag : "null", req->repo.name, req->repo.registry_id);
		if (status != LCR_OK)
			break;
		json_array_append_new(details, image_detail_json(&req->repo, &img));
		scans_describe_image(req->srv, &img, json_array_get(details, json_array_size(details) - 1));
		image_release(&img);
	}
	if (status != LCR_OK) {
		json_decref(details);
		return status;
	}
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:o}", "imageDetails", details));
	return LCR_OK;
}

int ecr_describe_images(struct request *req)
{
	struct image *images = NULL;
	size_t count = 0, kept = 0, start = 0, page = 0;
	enum tag_filter filter;
	bool active = true, archived = false;
	json_t *ids, *details, *body;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "imageIds", 1, 100, &ids);
	if (status == LCR_OK)
		status = read_tag_filter(req, &filter);
	if (status != LCR_OK)
		return status;
	if (ids != NULL) {
		if (json_object_get(req->input, "maxResults") != NULL || json_object_get(req->input, "nextToken") != NULL)
			return ecr_invalid(req, "maxResults", "maxResults and nextToken cannot be used together with imageIds");
		return describe_listed(req, ids);
	}
	status = read_status_filter(req, "ACTIVE", &active, &archived);
	if (status == LCR_OK)
		status = registry_image_list(req->srv->registry, &req->repo, &images, &count, req->err, sizeof(req->err));
	if (status != LCR_OK)
		return status;
	for (size_t i = 0; i < count; i++)
		if (filter_keeps(filter, &images[i]) && status_keeps(active, archived, &images[i]))
			images[kept++] = images[i];
		else
			image_release(&images[i]);
	status = ecr_page(req, kept, 100, 1000, &start, &page);
	if (status != LCR_OK) {
		image_array_free(images, kept);
		return status;
	}
	details = json_array();
	for (size_t i = start; i < start + page; i++) {
		json_array_append_new(details, image_detail_json(&req->repo, &images[i]));
		scans_describe_image(req->srv, &images[i], json_array_get(details, json_array_size(details) - 1));
	}
	body = json_pack("{s:o}", "imageDetails", details);
	ecr_page_token(body, start + page, kept);
	request_respond_json(req, MHD_HTTP_OK, body);
	image_array_free(images, kept);
	return LCR_OK;
}

static bool media_type_accepted(json_t *accepted, const char *media_type)
{
	size_t i;
	json_t *value;

	if (accepted == NULL)
		return true;
	json_array_foreach(accepted, i, value)
		if (json_is_string(value) && strcmp(json_string_value(value), media_type) == 0)
			return true;
	return false;
}

int ecr_batch_get_image(struct request *req)
{
	json_t *ids, *accepted, *images = json_array(), *failures = json_array(), *id;
	size_t i;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "imageIds", 1, 100, &ids);
	if (status == LCR_OK && ids == NULL)
		status = ecr_invalid(req, "imageIds", "Member must not be null");
	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "acceptedMediaTypes", 1, 100, &accepted);
	if (status != LCR_OK)
		goto out;
	json_array_foreach(ids, i, id) {
		const char *digest, *tag, *failure, *reason;
		struct image img;

		if (read_image_id(id, &digest, &tag, &failure, &reason) != LCR_OK) {
			status = image_ids_serialization_error(req);
			goto out;
		}
		if (failure != NULL) {
			json_array_append_new(failures, failure_json(digest, tag, failure, reason));
			continue;
		}
		status = resolve_image(req, digest, tag, true, &img, &failure);
		if (failure != NULL) {
			json_array_append_new(failures, failure_json(digest, tag, failure, failure_reason(failure)));
			status = LCR_OK;
			continue;
		}
		if (status != LCR_OK)
			goto out;
		if (strcmp(img.storage_class, "ARCHIVE") == 0) {
			json_array_append_new(failures, failure_json(digest, tag, "ImageNotFound",
								     "Requested image is archived; restore it with "
								     "UpdateImageStorageClass to pull it"));
			image_release(&img);
			continue;
		}
		if (!media_type_accepted(accepted, img.media_type)) {
			/* NOTE: ECR converts between Docker and OCI formats here;
			 * localecr reports the image as not found instead. */
			json_array_append_new(failures, failure_json(digest, tag, "ImageNotFound",
								     "Requested image not found: its media type is not "
								     "in acceptedMediaTypes"));
			image_release(&img);
			continue;
		}
		json_array_append_new(images, json_pack("{s:s, s:s, s:o, s:s, s:s}", "registryId", req->repo.registry_id,
							"repositoryName", req->repo.name, "imageId",
							image_id_json(img.digest, tag), "imageManifest", img.manifest,
							"imageManifestMediaType", img.media_type));
		registry_image_touch_pull(req->srv->registry, img.id);
		image_release(&img);
	}
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:O, s:O}", "images", images, "failures", failures));
out:
	json_decref(images);
	json_decref(failures);
	return status;
}

/* Reword a registry failure for the PutImage caller. */
static int put_image_error(struct request *req, int status)
{
	char detail[sizeof(req->err)];

	if (status == LCR_ERR_MANIFEST_INVALID || status == LCR_ERR_MANIFEST_TOO_LARGE) {
		snprintf(detail, sizeof(detail), "%s", req->err);
		return ecr_invalid(req, "imageManifest", "%s", detail);
	}
	return status;
}

int ecr_put_image(struct request *req)
{
	const char *manifest, *media_type, *tag, *digest;
	struct image_put_result result;
	char computed[DIGEST_BUF];
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "imageManifest", true, 1, MANIFEST_MAX, &manifest);
	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "imageManifestMediaType", false, 0, 255, &media_type);
	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "imageTag", false, 1, IMAGE_TAG_MAX, &tag);
	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "imageDigest", false, 0, 256, &digest);
	if (status != LCR_OK)
		return status;
	if (tag != NULL && !registry_tag_valid_ecr(tag))
		return ecr_invalid(req, "imageTag", "Member must satisfy regular expression '[a-zA-Z0-9_][a-zA-Z0-9._-]*'");
	if (digest != NULL) {
		if (!digest_valid(digest))
			return ecr_invalid(req, "imageDigest", "Member must satisfy regular expression 'sha256:[a-f0-9]{64}'");
		digest_of(manifest, strlen(manifest), computed);
		if (strcmp(digest, computed) != 0)
			return lcr_fail(LCR_ERR_IMAGE_DIGEST_MISMATCH, req->err, sizeof(req->err),
					"The image digest '%s' does not match the digest '%s' computed for the manifest",
					digest, computed);
	}
	status = registry_image_put(req->srv->registry, &req->repo, manifest, strlen(manifest), media_type, tag, &result,
				    req->err, sizeof(req->err));
	events_push(req->srv, &req->repo,
		    status == LCR_OK && (result.image_created || result.tag_changed || result.restored), &result, tag);
	if (status != LCR_OK)
		return put_image_error(req, status);
	if (!result.image_created && !result.tag_changed && !result.restored)
		return lcr_fail(LCR_ERR_IMAGE_ALREADY_EXISTS, req->err, sizeof(req->err),
				"Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in "
				"registry with id '%s'",
				result.digest, tag ? tag : "null", req->repo.name, req->repo.registry_id);
	{
		struct image img;

		status = registry_image_get(req->srv->registry, &req->repo, result.digest, false, &img, req->err,
					    sizeof(req->err));
		if (status != LCR_OK)
			return status;
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:{s:s, s:s, s:o, s:s, s:s}}", "image", "registryId", req->repo.registry_id,
					       "repositoryName", req->repo.name, "imageId", image_id_json(result.digest, tag),
					       "imageManifest", manifest, "imageManifestMediaType", img.media_type));
		image_release(&img);
	}
	return LCR_OK;
}

/* Delete one identifier; appends to deleted or returns a failure code. */
static const char *delete_one(struct request *req, const char *digest, const char *tag, json_t *deleted)
{
	struct image img;
	const char *failure = NULL;
	char removed_digest[DIGEST_BUF];
	int status = resolve_image(req, digest, tag, false, &img, &failure);

	if (failure != NULL)
		return failure;
	if (status != LCR_OK)
		return "ImageNotFound";
	if (tag != NULL) {
		status = registry_tag_delete(req->srv->registry, &req->repo, tag, removed_digest, req->err, sizeof(req->err));
		if (status == LCR_OK) {
			json_array_append_new(deleted, image_id_json(img.digest, tag));
			events_image_action(req->srv, &req->repo, "DELETE", true, img.digest, tag);
		}
	} else {
		status = registry_image_delete(req->srv->registry, &req->repo, img.digest, req->err, sizeof(req->err));
		if (status == LCR_OK)
			events_image_action(req->srv, &req->repo, "DELETE", true, img.digest, img.ntags ? img.tags[0] : NULL);
		if (status == LCR_OK && img.ntags == 0)
			json_array_append_new(deleted, image_id_json(img.digest, NULL));
		for (size_t i = 0; status == LCR_OK && i < img.ntags; i++)
			json_array_append_new(deleted, image_id_json(img.digest, img.tags[i]));
	}
	image_release(&img);
	if (status == LCR_ERR_IMAGE_REFERENCED)
		return "ImageReferencedByManifestList";
	return status == LCR_OK ? NULL : "ImageNotFound";
}

int ecr_batch_delete_image(struct request *req)
{
	json_t *ids, *deleted = json_array(), *failures = json_array(), *id;
	size_t i;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "imageIds", 1, 100, &ids);
	if (status == LCR_OK && ids == NULL)
		status = ecr_invalid(req, "imageIds", "Member must not be null");
	if (status != LCR_OK)
		goto out;
	json_array_foreach(ids, i, id) {
		const char *digest, *tag, *failure, *reason;

		if (read_image_id(id, &digest, &tag, &failure, &reason) != LCR_OK) {
			status = image_ids_serialization_error(req);
			goto out;
		}
		if (failure == NULL) {
			failure = delete_one(req, digest, tag, deleted);
			if (failure != NULL && strcmp(failure, "ImageReferencedByManifestList") == 0)
				reason = "Requested image is referenced by a manifest list";
			else if (failure != NULL)
				reason = failure_reason(failure);
		}
		if (failure != NULL)
			json_array_append_new(failures, failure_json(digest, tag, failure, reason));
	}
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:O, s:O}", "imageIds", deleted, "failures", failures));
out:
	json_decref(deleted);
	json_decref(failures);
	return status;
}
