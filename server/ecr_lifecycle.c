/*
 * ecr_lifecycle.c - PutLifecyclePolicy, GetLifecyclePolicy,
 * DeleteLifecyclePolicy, StartLifecyclePolicyPreview,
 * GetLifecyclePolicyPreview and UpdateImageStorageClass.
 *
 * A preview is computed when it is started and stored, so
 * GetLifecyclePolicyPreview reports COMPLETE at once and the SDK waiter
 * LifecyclePolicyPreviewComplete succeeds on its first poll.
 */
#include "ecr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/status.h"
#include "../registry/lifecycle.h"

static int read_policy_text(struct request *req, bool required, const char **out)
{
	int status = ecr_input_string(req, req->input, "lifecyclePolicyText", required, LIFECYCLE_TEXT_MIN,
				      LIFECYCLE_TEXT_MAX, out);
	struct lifecycle_policy *policy = NULL;

	if (status != LCR_OK || *out == NULL)
		return status;
	status = lifecycle_parse(*out, strlen(*out), &policy, req->err, sizeof(req->err));
	lifecycle_free(policy);
	return status;
}

static json_t *policy_body(struct request *req, const char *text)
{
	return json_pack("{s:s, s:s, s:s}", "registryId", req->repo.registry_id, "repositoryName", req->repo.name,
			 "lifecyclePolicyText", text);
}

int ecr_put_lifecycle_policy(struct request *req)
{
	const char *text;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = read_policy_text(req, true, &text);
	if (status == LCR_OK)
		status = registry_lifecycle_policy_set(req->srv->registry, &req->repo, text, req->err, sizeof(req->err));
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK, policy_body(req, text));
	return status;
}

/* Respond with the policy text and lastEvaluatedAt, then free text. */
static int respond_with_evaluated_policy(struct request *req, char *text)
{
	json_t *body = policy_body(req, text);

	json_object_set_new(body, "lastEvaluatedAt", ecr_time(clock_now()));
	request_respond_json(req, MHD_HTTP_OK, body);
	free(text);
	return LCR_OK;
}

int ecr_get_lifecycle_policy(struct request *req)
{
	char *text = NULL;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = registry_lifecycle_policy_get(req->srv->registry, &req->repo, &text, req->err, sizeof(req->err));
	if (status != LCR_OK)
		return status;
	return respond_with_evaluated_policy(req, text);
}

int ecr_delete_lifecycle_policy(struct request *req)
{
	char *text = NULL;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = registry_lifecycle_policy_delete(req->srv->registry, &req->repo, &text, req->err,
							  sizeof(req->err));
	if (status != LCR_OK)
		return status;
	return respond_with_evaluated_policy(req, text);
}

int ecr_start_lifecycle_policy_preview(struct request *req)
{
	const char *request_text;
	char *stored = NULL, *results_text = NULL;
	const char *text;
	struct lifecycle_policy *policy = NULL;
	json_t *results = NULL, *body;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = read_policy_text(req, false, &request_text);
	if (status == LCR_OK && request_text == NULL)
		status = registry_lifecycle_policy_get(req->srv->registry, &req->repo, &stored, req->err, sizeof(req->err));
	if (status != LCR_OK)
		return status;
	text = request_text != NULL ? request_text : stored;
	status = lifecycle_parse(text, strlen(text), &policy, req->err, sizeof(req->err));
	if (status == LCR_OK)
		status = lifecycle_preview_results(req->srv, &req->repo, policy, &results, req->err, sizeof(req->err));
	if (status == LCR_OK) {
		results_text = json_dumps(results, JSON_COMPACT);
		status = results_text != NULL ? registry_lifecycle_preview_set(req->srv->registry, &req->repo, text,
									      results_text, req->err, sizeof(req->err))
					      : LCR_ERR_INTERNAL;
	}
	if (status == LCR_OK) {
		body = policy_body(req, text);
		json_object_set_new(body, "status", json_string("IN_PROGRESS"));
		request_respond_json(req, MHD_HTTP_OK, body);
	}
	lifecycle_free(policy);
	json_decref(results);
	free(results_text);
	free(stored);
	return status;
}

/* True when entry (a preview result) passes the request's imageIds and
 * filter.tagStatus. */
static bool preview_matches_filter(json_t *entry, json_t *ids, const char *tag_status)
{
	json_t *tags = json_object_get(entry, "imageTags"), *id, *tag;
	size_t i, j;

	if (tag_status != NULL && strcmp(tag_status, "TAGGED") == 0 && json_array_size(tags) == 0)
		return false;
	if (tag_status != NULL && strcmp(tag_status, "UNTAGGED") == 0 && json_array_size(tags) > 0)
		return false;
	if (ids == NULL)
		return true;
	json_array_foreach(ids, i, id) {
		const char *digest = json_string_value(json_object_get(id, "imageDigest"));
		const char *filter_tag = json_string_value(json_object_get(id, "imageTag"));

		if (digest != NULL && strcmp(digest, json_string_value(json_object_get(entry, "imageDigest"))) == 0)
			return true;
		json_array_foreach(tags, j, tag)
			if (filter_tag != NULL && strcmp(filter_tag, json_string_value(tag)) == 0)
				return true;
	}
	return false;
}

int ecr_get_lifecycle_policy_preview(struct request *req)
{
	char *policy = NULL, *results_text = NULL;
	json_t *results = NULL, *matching, *page, *body, *ids, *filter, *entry;
	const char *tag_status = NULL;
	size_t i, start = 0, count = 0, expiring = 0, transitioning = 0;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "imageIds", 1, 100, &ids);
	if (status == LCR_OK)
		status = ecr_input_object(req, req->input, "filter", &filter);
	if (status == LCR_OK && filter != NULL)
		status = ecr_input_string(req, filter, "tagStatus", false, 0, 16, &tag_status);
	if (status == LCR_OK && tag_status != NULL && strcmp(tag_status, "TAGGED") != 0 &&
	    strcmp(tag_status, "UNTAGGED") != 0 && strcmp(tag_status, "ANY") != 0)
		status = ecr_invalid(req, "filter.tagStatus", "Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]");
	if (status == LCR_OK)
		status = registry_lifecycle_preview_get(req->srv->registry, &req->repo, &policy, &results_text, req->err,
							sizeof(req->err));
	if (status != LCR_OK)
		return status;
	results = json_loads(results_text, 0, NULL);
	matching = json_array();
	json_array_foreach(results, i, entry) {
		const char *type = json_string_value(json_object_get(json_object_get(entry, "action"), "type"));

		if (type != NULL && strcmp(type, "EXPIRE") == 0)
			expiring++;
		else
			transitioning++;
		if (preview_matches_filter(entry, ids, tag_status))
			json_array_append(matching, entry);
	}
	status = ecr_page(req, json_array_size(matching), 100, 100, &start, &count);
	if (status == LCR_OK) {
		page = json_array();
		for (i = start; i < start + count; i++)
			json_array_append(page, json_array_get(matching, i));
		body = policy_body(req, policy);
		json_object_set_new(body, "status", json_string("COMPLETE"));
		json_object_set_new(body, "previewResults", page);
		json_object_set_new(body, "summary",
				    json_pack("{s:I, s:[{s:s, s:I}]}", "expiringImageTotalCount", (json_int_t)expiring,
					      "transitioningImageTotalCounts", "targetStorageClass", "ARCHIVE",
					      "imageTotalCount", (json_int_t)transitioning));
		ecr_page_token(body, start + count, json_array_size(matching));
		request_respond_json(req, MHD_HTTP_OK, body);
	}
	json_decref(matching);
	json_decref(results);
	free(policy);
	free(results_text);
	return status;
}

int ecr_update_image_storage_class(struct request *req)
{
	json_t *id;
	const char *digest = NULL, *tag = NULL, *target;
	struct image img;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_object(req, req->input, "imageId", &id);
	if (status == LCR_OK && id == NULL)
		status = ecr_invalid(req, "imageId", "Member must not be null");
	if (status == LCR_OK)
		status = ecr_input_string(req, id, "imageDigest", false, 0, 256, &digest);
	if (status == LCR_OK)
		status = ecr_input_string(req, id, "imageTag", false, 1, IMAGE_TAG_MAX, &tag);
	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "targetStorageClass", true, 0, 16, &target);
	if (status == LCR_OK && strcmp(target, "STANDARD") != 0 && strcmp(target, "ARCHIVE") != 0)
		status = ecr_invalid(req, "targetStorageClass", "Member must satisfy enum value set: [STANDARD, ARCHIVE]");
	if (status == LCR_OK && digest == NULL && tag == NULL)
		status = ecr_invalid(req, "imageId", "image digest and tag can not both be null");
	if (status != LCR_OK)
		return status;
	status = registry_image_get(req->srv->registry, &req->repo, tag != NULL ? tag : digest, false, &img, req->err,
				    sizeof(req->err));
	if (status != LCR_OK)
		return status;
	if (strcmp(img.storage_class, target) == 0)
		status = lcr_fail(LCR_ERR_STORAGE_CLASS_UPDATE_NOT_SUPPORTED, req->err, sizeof(req->err),
				  "The image with digest '%s' is already in the %s storage class", img.digest, target);
	if (status == LCR_OK)
		status = registry_image_set_storage_class(req->srv->registry, img.id, target, req->err, sizeof(req->err));
	if (status == LCR_OK) {
		json_t *detail = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "action-type", "UPDATE_STORAGE_CLASS",
					   "result", "SUCCESS", "repository-name", req->repo.name, "image-digest", img.digest,
					   "target-storage-class", target, "manifest-media-type", img.media_type,
					   "artifact-media-type", img.artifact_media_type);
		char now[40];

		if (strcmp(target, "STANDARD") == 0) {
			clock_format_rfc3339(clock_now(), now, sizeof(now));
			json_object_set_new(detail, "last-activated-at", json_string(now));
		}
		events_emit(req->srv, req->repo.registry_id, req->repo.region, "ECR Image Action", json_array(), detail);
	}
	if (status == LCR_OK) {
		json_t *image_id = json_pack("{s:s}", "imageDigest", img.digest);

		if (tag != NULL)
			json_object_set_new(image_id, "imageTag", json_string(tag));
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:s, s:s, s:o, s:s}", "registryId", req->repo.registry_id, "repositoryName",
					       req->repo.name, "imageId", image_id, "imageStatus",
					       strcmp(target, "ARCHIVE") == 0 ? "ARCHIVED" : "ACTIVE"));
	}
	image_release(&img);
	return status;
}
