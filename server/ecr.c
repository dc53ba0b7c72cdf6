/*
 * ecr.c - shared pieces of the ECR JSON API: input validation with ECR's
 * messages, registry and repository resolution, pagination, shapes.
 *
 * Type errors (a number where the model expects a string) are
 * SerializationException, as the AWS JSON protocol reports them.  Range and
 * pattern violations are InvalidParameterException with ECR's wording.
 */
#include "ecr_int.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"

int ecr_invalid(struct request *req, const char *field, const char *constraint_fmt, ...)
{
	char constraint[1024];
	va_list ap;

	va_start(ap, constraint_fmt);
	vsnprintf(constraint, sizeof(constraint), constraint_fmt, ap);
	va_end(ap);
	return lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
			"Invalid parameter at '%s' failed to satisfy constraint: '%s'", field, constraint);
}

static int wrong_type(struct request *req, const char *field, const char *expected)
{
	return lcr_fail(LCR_ERR_SERIALIZATION, req->err, sizeof(req->err),
			"Unexpected value type for field '%s': expected %s", field, expected);
}

int ecr_input_string(struct request *req, json_t *obj, const char *field, bool required, size_t minlen,
		     size_t maxlen, const char **out)
{
	json_t *value = json_object_get(obj, field);
	size_t len;

	*out = NULL;
	if (value == NULL || json_is_null(value)) {
		if (required)
			return ecr_invalid(req, field, "Member must not be null");
		return LCR_OK;
	}
	if (!json_is_string(value))
		return wrong_type(req, field, "a string");
	len = json_string_length(value);
	if (strlen(json_string_value(value)) != len)
		return ecr_invalid(req, field, "Member must not contain NUL characters");
	if (len < minlen)
		return ecr_invalid(req, field, "Member must have length greater than or equal to %zu", minlen);
	if (len > maxlen)
		return ecr_invalid(req, field, "Member must have length less than or equal to %zu", maxlen);
	*out = json_string_value(value);
	return LCR_OK;
}

int ecr_input_int(struct request *req, json_t *obj, const char *field, long long min, long long max,
		  bool *out_present, long long *out)
{
	json_t *value = json_object_get(obj, field);

	*out_present = false;
	if (value == NULL || json_is_null(value))
		return LCR_OK;
	if (!json_is_integer(value))
		return wrong_type(req, field, "an integer");
	*out = json_integer_value(value);
	if (*out < min)
		return ecr_invalid(req, field, "Member must have value greater than or equal to %lld", min);
	if (*out > max)
		return ecr_invalid(req, field, "Member must have value less than or equal to %lld", max);
	*out_present = true;
	return LCR_OK;
}

int ecr_input_bool(struct request *req, json_t *obj, const char *field, bool *out)
{
	json_t *value = json_object_get(obj, field);

	if (value == NULL || json_is_null(value))
		return LCR_OK;
	if (!json_is_boolean(value))
		return wrong_type(req, field, "a boolean");
	*out = json_is_true(value);
	return LCR_OK;
}

int ecr_input_array(struct request *req, json_t *obj, const char *field, size_t min, size_t max, json_t **out)
{
	json_t *value = json_object_get(obj, field);

	*out = NULL;
	if (value == NULL || json_is_null(value))
		return LCR_OK;
	if (!json_is_array(value))
		return wrong_type(req, field, "a list");
	if (json_array_size(value) < min)
		return ecr_invalid(req, field, "Member must have length greater than or equal to %zu", min);
	if (json_array_size(value) > max)
		return ecr_invalid(req, field, "Member must have length less than or equal to %zu", max);
	*out = value;
	return LCR_OK;
}

int ecr_input_object(struct request *req, json_t *obj, const char *field, json_t **out)
{
	json_t *value = json_object_get(obj, field);

	*out = NULL;
	if (value == NULL || json_is_null(value))
		return LCR_OK;
	if (!json_is_object(value))
		return wrong_type(req, field, "a structure");
	*out = value;
	return LCR_OK;
}

static bool registry_id_valid(const char *id)
{
	if (strlen(id) != 12)
		return false;
	for (int i = 0; i < 12; i++)
		if (!isdigit((unsigned char)id[i]))
			return false;
	return true;
}

int ecr_registry_id(struct request *req, const char **out)
{
	const char *id;
	int status = ecr_input_string(req, req->input, "registryId", false, 0, 64, &id);

	if (status != LCR_OK)
		return status;
	if (id != NULL && !registry_id_valid(id))
		return ecr_invalid(req, "registryId", "must satisfy regular expression '[0-9]{12}'");
	/* NOTE: open mode lets a caller address any registry id; IAM mode
	 * will require cross-account permission. */
	*out = id != NULL ? id : req->account;
	return LCR_OK;
}

int ecr_repository(struct request *req)
{
	const char *registry_id, *name;
	int status = ecr_registry_id(req, &registry_id);

	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "repositoryName", true, 0, 1024, &name);
	if (status == LCR_OK)
		status = registry_repository_name_check(name, req->err, sizeof(req->err));
	if (status != LCR_OK)
		return status;
	status = registry_repository_get(req->srv->registry, registry_id, req->region, name, &req->repo, req->err,
					 sizeof(req->err));
	if (status == LCR_OK) {
		req->have_repo = true;
		return request_authorize(req, &req->repo, NULL);
	}
	if (status == LCR_ERR_REPOSITORY_NOT_FOUND) {
		int denied = request_authorize_missing(req, registry_id, req->region, name);

		if (denied != LCR_OK)
			return denied;
	}
	return status;
}

int ecr_authorize_named(struct request *req, const char *registry_id, const char *name)
{
	return request_authorize_missing(req, registry_id, req->region, name);
}

json_t *ecr_time(double t)
{
	/* Epoch seconds with millisecond precision, as awsJson 1.1 sends
	 * timestamps. */
	return json_real(round(t * 1000.0) / 1000.0);
}

json_t *ecr_repository_json(struct request *req, const struct repository *repo)
{
	char arn[512], uri[600];
	json_t *encryption;

	snprintf(arn, sizeof(arn), "arn:aws:ecr:%s:%s:repository/%s", repo->region, repo->registry_id, repo->name);
	/* The URI names this server, so `docker push <repositoryUri>:tag`
	 * reaches it. */
	snprintf(uri, sizeof(uri), "%s/%s", request_host(req), repo->name);
	json_t *shape;

	encryption = json_pack("{s:s}", "encryptionType", repo->encryption_type);
	if (repo->kms_key[0])
		json_object_set_new(encryption, "kmsKey", json_string(repo->kms_key));
	shape = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:{s:b}, s:o}", "repositoryArn", arn, "registryId",
			 repo->registry_id, "repositoryName", repo->name, "repositoryUri", uri, "createdAt",
			 ecr_time(repo->created_at), "imageTagMutability", repo->tag_mutability,
			 "imageScanningConfiguration", "scanOnPush", repo->scan_on_push, "encryptionConfiguration",
			 encryption);
	if (repo->tag_mutability_filters[0])
		json_object_set_new(shape, "imageTagMutabilityExclusionFilters",
				    json_loads(repo->tag_mutability_filters, 0, NULL));
	return shape;
}

/* nextToken is base64url("offset:<n>"); clients treat it as opaque. */
int ecr_page(struct request *req, size_t total, long long default_page, long long max_results_limit,
	     size_t *out_start, size_t *out_count)
{
	const char *token;
	long long max_results = default_page;
	bool present = false;
	int status;

	*out_start = 0;
	status = ecr_input_int(req, req->input, "maxResults", 1, max_results_limit, &present, &max_results);
	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "nextToken", false, 0, 8192, &token);
	if (status != LCR_OK)
		return status;
	if (!present)
		max_results = default_page;
	if (token != NULL) {
		size_t len = 0;
		unsigned char *decoded = base64url_decode(token, &len);
		char *end = NULL;
		unsigned long long offset = 0;

		if (decoded != NULL && strncmp((char *)decoded, "offset:", 7) == 0)
			offset = strtoull((char *)decoded + 7, &end, 10);
		if (decoded == NULL || end == NULL || *end != '\0' || end == (char *)decoded + 7) {
			free(decoded);
			return ecr_invalid(req, "nextToken", "Invalid NextToken");
		}
		free(decoded);
		*out_start = offset > total ? total : (size_t)offset;
	}
	*out_count = total - *out_start < (size_t)max_results ? total - *out_start : (size_t)max_results;
	return LCR_OK;
}

void ecr_page_token(json_t *body, size_t next, size_t total)
{
	char text[64];
	char *token;

	if (next >= total)
		return;
	snprintf(text, sizeof(text), "offset:%zu", next);
	token = base64url_encode(text, strlen(text));
	if (token != NULL)
		json_object_set_new(body, "nextToken", json_string(token));
	free(token);
}
