/*
 * ecr_registry.c - registry-wide and resource operations: DescribeRegistry,
 * GetAccountSetting, PutAccountSetting, TagResource, UntagResource,
 * ListTagsForResource and ListImageReferrers.
 */
#include "ecr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "../registry/manifest.h"

/* ECR's limits on repository resource tags. */
#define RESOURCE_TAGS_MAX 50
#define RESOURCE_TAG_KEY_MAX 128
#define RESOURCE_TAG_VALUE_MAX 256

int ecr_describe_registry(struct request *req)
{
	request_respond_json(req, MHD_HTTP_OK,
			     json_pack("{s:s, s:{s:[]}}", "registryId", req->account, "replicationConfiguration", "rules"));
	return LCR_OK;
}

static int read_setting_name(struct request *req, const char **out)
{
	int status = ecr_input_string(req, req->input, "name", true, 1, 64, out);

	if (status == LCR_OK)
		status = registry_account_setting_check(*out, NULL, req->err, sizeof(req->err));
	return status;
}

int ecr_get_account_setting(struct request *req)
{
	const char *name;
	char value[64];
	int status = read_setting_name(req, &name);

	if (status == LCR_OK)
		status = registry_account_setting_get(req->srv->registry, req->account, req->region, name, value,
						      sizeof(value), req->err, sizeof(req->err));
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK, json_pack("{s:s, s:s}", "name", name, "value", value));
	return status;
}

int ecr_put_account_setting(struct request *req)
{
	const char *name, *value;
	int status = read_setting_name(req, &name);

	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "value", true, 1, 64, &value);
	if (status == LCR_OK)
		status = registry_account_setting_put(req->srv->registry, req->account, req->region, name, value, req->err,
						      sizeof(req->err));
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK, json_pack("{s:s, s:s}", "name", name, "value", value));
	return status;
}

/* Resolve arn:aws:ecr:<region>:<account>:repository/<name> into req->repo. */
static int resource_repository(struct request *req)
{
	const char *arn;
	char region[REGION_BUF], account[REGISTRY_ID_BUF], name[REPOSITORY_NAME_MAX + 1];
	int consumed = 0;
	int status = ecr_input_string(req, req->input, "resourceArn", true, 1, 1011, &arn);

	if (status != LCR_OK)
		return status;
	if (sscanf(arn, "arn:aws:ecr:%31[a-z0-9-]:%12[0-9]:repository/%256[a-z0-9._/-]%n", region, account, name,
		   &consumed) != 3 || arn[consumed] != '\0' || strlen(account) != 12)
		return ecr_invalid(req, "resourceArn", "Invalid ARN '%s': expected "
				   "arn:aws:ecr:<region>:<account>:repository/<name>", arn);
	if (registry_repository_name_check(name, NULL, 0) != LCR_OK)
		return ecr_invalid(req, "resourceArn", "Invalid repository name in ARN '%s'", arn);
	snprintf(req->log_repository, sizeof(req->log_repository), "%s", name);
	status = registry_repository_get(req->srv->registry, account, region, name, &req->repo, req->err,
					 sizeof(req->err));
	if (status == LCR_OK) {
		req->have_repo = true;
		return request_authorize(req, &req->repo, NULL);
	}
	if (status == LCR_ERR_REPOSITORY_NOT_FOUND) {
		int denied = request_authorize_missing(req, account, region, name);

		if (denied != LCR_OK)
			return denied;
	}
	return status;
}

static int tag_error(struct request *req, int status, const char *fmt, const char *arg)
{
	char message[512];

	snprintf(message, sizeof(message), fmt, arg);
	return lcr_fail(status, req->err, sizeof(req->err), "%s", message);
}

int ecr_tag_resource(struct request *req)
{
	json_t *tags, *tag;
	char **old_keys = NULL, **old_values = NULL;
	const char **keys = NULL, **values = NULL;
	size_t old_count = 0, n, i, added = 0;
	int status = resource_repository(req);

	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "tags", 0, 200, &tags);
	if (status == LCR_OK && tags == NULL)
		status = ecr_invalid(req, "tags", "Member must not be null");
	if (status != LCR_OK)
		return status;
	n = json_array_size(tags);
	keys = calloc(n + 1, sizeof(*keys));
	values = calloc(n + 1, sizeof(*values));
	if (keys == NULL || values == NULL) {
		status = LCR_ERR_INTERNAL;
		goto out;
	}
	json_array_foreach(tags, i, tag) {
		const char *key = json_string_value(json_object_get(tag, "Key"));
		const char *value = json_string_value(json_object_get(tag, "Value"));

		if (key == NULL || strlen(key) == 0 || strlen(key) > RESOURCE_TAG_KEY_MAX) {
			status = tag_error(req, LCR_ERR_INVALID_TAG_PARAMETER, "Tag keys must be 1 to 128 characters%s", "");
			goto out;
		}
		if (strncmp(key, "aws:", 4) == 0) {
			status = tag_error(req, LCR_ERR_INVALID_TAG_PARAMETER,
					   "Tag key '%s' uses the reserved prefix 'aws:'", key);
			goto out;
		}
		if (value == NULL || strlen(value) > RESOURCE_TAG_VALUE_MAX) {
			status = tag_error(req, LCR_ERR_INVALID_TAG_PARAMETER,
					   "Tag values must be 0 to 256 characters%s", "");
			goto out;
		}
		keys[i] = key;
		values[i] = value;
	}
	status = registry_repository_tags_list(req->srv->registry, req->repo.id, &old_keys, &old_values, &old_count);
	if (status != LCR_OK)
		goto out;
	/* Count the keys that are new, since a repeated key only changes its
	 * value and does not count against the limit twice. */
	for (i = 0; i < n; i++) {
		bool known = false;

		for (size_t j = 0; j < old_count && !known; j++)
			known = strcmp(old_keys[j], keys[i]) == 0;
		for (size_t j = 0; j < i && !known; j++)
			known = strcmp(keys[j], keys[i]) == 0;
		added += !known;
	}
	if (old_count + added > RESOURCE_TAGS_MAX) {
		status = lcr_fail(LCR_ERR_TOO_MANY_TAGS, req->err, sizeof(req->err),
				  "A repository can have at most %d tags; it has %zu and the request adds %zu",
				  RESOURCE_TAGS_MAX, old_count, added);
		goto out;
	}
	status = registry_repository_tags_set(req->srv->registry, req->repo.id, keys, values, n, req->err,
					      sizeof(req->err));
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK, json_object());
out:
	registry_string_arrays_free(old_keys, old_values, old_count);
	free(keys);
	free(values);
	return status;
}

int ecr_untag_resource(struct request *req)
{
	json_t *tag_keys, *key;
	const char **keys = NULL;
	size_t i;
	int status = resource_repository(req);

	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "tagKeys", 0, 200, &tag_keys);
	if (status == LCR_OK && tag_keys == NULL)
		status = ecr_invalid(req, "tagKeys", "Member must not be null");
	if (status != LCR_OK)
		return status;
	keys = calloc(json_array_size(tag_keys) + 1, sizeof(*keys));
	if (keys == NULL)
		return LCR_ERR_INTERNAL;
	json_array_foreach(tag_keys, i, key) {
		keys[i] = json_string_value(key);
		if (keys[i] == NULL || strlen(keys[i]) == 0 || strlen(keys[i]) > RESOURCE_TAG_KEY_MAX) {
			free(keys);
			return tag_error(req, LCR_ERR_INVALID_TAG_PARAMETER, "Tag keys must be 1 to 128 characters%s", "");
		}
	}
	status = registry_repository_tags_remove(req->srv->registry, req->repo.id, keys, json_array_size(tag_keys),
						 req->err, sizeof(req->err));
	free(keys);
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK, json_object());
	return status;
}

int ecr_list_tags_for_resource(struct request *req)
{
	char **keys = NULL, **values = NULL;
	size_t n = 0;
	json_t *tags;
	int status = resource_repository(req);

	if (status == LCR_OK)
		status = registry_repository_tags_list(req->srv->registry, req->repo.id, &keys, &values, &n);
	if (status != LCR_OK)
		return status;
	tags = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", keys[i], "Value", values[i]));
	registry_string_arrays_free(keys, values, n);
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:o}", "tags", tags));
	return LCR_OK;
}

static bool artifact_type_matches(json_t *artifact_types, const char *artifact_type)
{
	size_t i;
	json_t *value;

	if (artifact_types == NULL)
		return true;
	json_array_foreach(artifact_types, i, value)
		if (artifact_type != NULL && json_is_string(value) && strcmp(json_string_value(value), artifact_type) == 0)
			return true;
	return false;
}

int ecr_list_image_referrers(struct request *req)
{
	json_t *subject, *filter = NULL, *artifact_types = NULL, *referrers = NULL, *page, *body;
	const char *digest;
	struct image *images = NULL;
	size_t count = 0, start = 0, page_count = 0;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_object(req, req->input, "subjectId", &subject);
	if (status == LCR_OK && subject == NULL)
		status = ecr_invalid(req, "subjectId", "Member must not be null");
	if (status == LCR_OK)
		status = ecr_input_string(req, subject, "imageDigest", true, 0, 256, &digest);
	if (status == LCR_OK && !digest_valid(digest))
		status = ecr_invalid(req, "subjectId.imageDigest", "Member must satisfy regular expression "
				     "'sha256:[a-f0-9]{64}'");
	if (status == LCR_OK)
		status = ecr_input_object(req, req->input, "filter", &filter);
	if (status == LCR_OK && filter != NULL)
		status = ecr_input_array(req, filter, "artifactTypes", 1, 5, &artifact_types);
	if (status == LCR_OK)
		status = registry_referrers_list(req->srv->registry, &req->repo, digest, &images, &count, req->err,
						 sizeof(req->err));
	if (status != LCR_OK)
		return status;
	referrers = json_array();
	for (size_t i = 0; i < count; i++) {
		json_t *d = manifest_referrer_descriptor(images[i].manifest, images[i].manifest_len, images[i].media_type,
							 images[i].digest);

		if (d != NULL &&
		    artifact_type_matches(artifact_types, json_string_value(json_object_get(d, "artifactType")))) {
			json_object_set_new(d, "artifactStatus", json_string("ACTIVE"));
			json_array_append_new(referrers, d);
		} else {
			json_decref(d);
		}
	}
	image_array_free(images, count);
	status = ecr_page(req, json_array_size(referrers), 50, 50, &start, &page_count);
	if (status != LCR_OK) {
		json_decref(referrers);
		return status;
	}
	page = json_array();
	for (size_t i = start; i < start + page_count; i++)
		json_array_append(page, json_array_get(referrers, i));
	body = json_pack("{s:o}", "referrers", page);
	ecr_page_token(body, start + page_count, json_array_size(referrers));
	json_decref(referrers);
	request_respond_json(req, MHD_HTTP_OK, body);
	return LCR_OK;
}
