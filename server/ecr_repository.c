/*
 * ecr_repository.c - CreateRepository, DescribeRepositories,
 * DeleteRepository and GetAuthorizationToken.
 */
#include "ecr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/status.h"

/* ECR's limits on repository resource tags. */
#define RESOURCE_TAGS_MAX 50
#define RESOURCE_TAG_KEY_MAX 128
#define RESOURCE_TAG_VALUE_MAX 256

/* Validate imageTagMutabilityExclusionFilters: 1 to 5 WILDCARD filters of
 * [0-9a-zA-Z._*-]{1,128}, as the ECR model gives them; out gets the
 * normalised JSON array text. */
static int read_exclusion_filters(struct request *req, json_t *filters, char *out, size_t outlen)
{
	json_t *f, *normalised;
	size_t i;
	char *text;

	if (!json_is_array(filters))
		return lcr_fail(LCR_ERR_SERIALIZATION, req->err, sizeof(req->err),
				"Unexpected value type for field 'imageTagMutabilityExclusionFilters': expected a list");
	if (json_array_size(filters) < 1 || json_array_size(filters) > 5)
		return ecr_invalid(req, "imageTagMutabilityExclusionFilters",
				   "Member must have length between 1 and 5");
	normalised = json_array();
	json_array_foreach(filters, i, f) {
		const char *type = json_string_value(json_object_get(f, "filterType"));
		const char *filter = json_string_value(json_object_get(f, "filter"));

		if (type == NULL || strcmp(type, "WILDCARD") != 0) {
			json_decref(normalised);
			return ecr_invalid(req, "imageTagMutabilityExclusionFilters.filterType",
					   "Member must satisfy enum value set: [WILDCARD]");
		}
		if (filter == NULL || strlen(filter) < 1 || strlen(filter) > 128 ||
		    strspn(filter, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._*-") != strlen(filter)) {
			json_decref(normalised);
			return ecr_invalid(req, "imageTagMutabilityExclusionFilters.filter",
					   "Member must satisfy regular expression pattern: ^[0-9a-zA-Z._*-]{1,128}$");
		}
		json_array_append_new(normalised, json_pack("{s:s, s:s}", "filterType", type, "filter", filter));
	}
	text = json_dumps(normalised, JSON_COMPACT);
	json_decref(normalised);
	if (text == NULL || strlen(text) >= outlen) {
		free(text);
		return LCR_ERR_INTERNAL;
	}
	snprintf(out, outlen, "%s", text);
	free(text);
	return LCR_OK;
}

/* Read imageTagMutability and its exclusion filters; ECR's pairing rules:
 * the *_WITH_EXCLUSION modes need filters, the others take none. */
int ecr_read_mutability(struct request *req, bool required, char *out_mode, size_t modelen, char *out_filters,
			size_t filterlen)
{
	const char *mutability;
	json_t *filters = json_object_get(req->input, "imageTagMutabilityExclusionFilters");
	int status = ecr_input_string(req, req->input, "imageTagMutability", required, 0, 64, &mutability);

	out_filters[0] = '\0';
	if (status != LCR_OK)
		return status;
	if (mutability == NULL)
		mutability = "MUTABLE";
	if (strcmp(mutability, "MUTABLE") != 0 && strcmp(mutability, "IMMUTABLE") != 0 &&
	    strcmp(mutability, "IMMUTABLE_WITH_EXCLUSION") != 0 && strcmp(mutability, "MUTABLE_WITH_EXCLUSION") != 0)
		return ecr_invalid(req, "imageTagMutability",
				   "Member must satisfy enum value set: [IMMUTABLE_WITH_EXCLUSION, MUTABLE, "
				   "MUTABLE_WITH_EXCLUSION, IMMUTABLE]");
	if (filters != NULL && json_is_null(filters))
		filters = NULL;
	if (strstr(mutability, "_WITH_EXCLUSION") != NULL) {
		if (filters == NULL)
			return ecr_invalid(req, "imageTagMutabilityExclusionFilters",
					   "ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is "
					   "set as %s",
					   mutability);
		status = read_exclusion_filters(req, filters, out_filters, filterlen);
		if (status != LCR_OK)
			return status;
	} else if (filters != NULL) {
		return ecr_invalid(req, "imageTagMutabilityExclusionFilters",
				   "ImageTagMutabilityExclusionFilters can only be set when imageTagMutability is "
				   "IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION");
	}
	snprintf(out_mode, modelen, "%s", mutability);
	return LCR_OK;
}

static int read_mutability(struct request *req, struct repository *repo)
{
	return ecr_read_mutability(req, false, repo->tag_mutability, sizeof(repo->tag_mutability),
				   repo->tag_mutability_filters, sizeof(repo->tag_mutability_filters));
}

int ecr_put_image_tag_mutability(struct request *req)
{
	char mode[32], filters[1024];
	json_t *body;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_read_mutability(req, true, mode, sizeof(mode), filters, sizeof(filters));
	if (status == LCR_OK)
		status = registry_repository_set_mutability(req->srv->registry, &req->repo, mode, filters, req->err,
							    sizeof(req->err));
	if (status != LCR_OK)
		return status;
	body = json_pack("{s:s, s:s, s:s}", "registryId", req->repo.registry_id, "repositoryName", req->repo.name,
			 "imageTagMutability", mode);
	if (filters[0])
		json_object_set_new(body, "imageTagMutabilityExclusionFilters", json_loads(filters, 0, NULL));
	request_respond_json(req, MHD_HTTP_OK, body);
	return LCR_OK;
}

static int read_encryption(struct request *req, struct repository *repo)
{
	json_t *config;
	const char *type, *key;
	int status = ecr_input_object(req, req->input, "encryptionConfiguration", &config);

	snprintf(repo->encryption_type, sizeof(repo->encryption_type), "AES256");
	if (status != LCR_OK || config == NULL)
		return status;
	status = ecr_input_string(req, config, "encryptionType", true, 0, 64, &type);
	if (status == LCR_OK)
		status = ecr_input_string(req, config, "kmsKey", false, 1, 2048, &key);
	if (status != LCR_OK)
		return status;
	if (strcmp(type, "AES256") != 0 && strcmp(type, "KMS") != 0 && strcmp(type, "KMS_DSSE") != 0)
		return ecr_invalid(req, "encryptionConfiguration.encryptionType",
				   "Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]");
	if (key != NULL && strcmp(type, "AES256") == 0)
		return ecr_invalid(req, "encryptionConfiguration.kmsKey",
				   "KMS key can only be specified when encryption type is KMS or KMS_DSSE");
	snprintf(repo->encryption_type, sizeof(repo->encryption_type), "%s", type);
	if (key != NULL)
		snprintf(repo->kms_key, sizeof(repo->kms_key), "%s", key);
	return LCR_OK;
}

/* Validate the tags list; keys and values point into req->input. */
static int read_resource_tags(struct request *req, const char ***out_keys, const char ***out_values,
			      size_t *out_count)
{
	json_t *tags = json_object_get(req->input, "tags");
	size_t n;

	*out_keys = NULL;
	*out_values = NULL;
	*out_count = 0;
	if (tags == NULL || json_is_null(tags))
		return LCR_OK;
	if (!json_is_array(tags))
		return lcr_fail(LCR_ERR_SERIALIZATION, req->err, sizeof(req->err),
				"Unexpected value type for field 'tags': expected a list");
	n = json_array_size(tags);
	if (n > RESOURCE_TAGS_MAX)
		return lcr_fail(LCR_ERR_TOO_MANY_TAGS, req->err, sizeof(req->err),
				"The repository can have at most %d tags; the request has %zu", RESOURCE_TAGS_MAX, n);
	*out_keys = calloc(n + 1, sizeof(char *));
	*out_values = calloc(n + 1, sizeof(char *));
	if (*out_keys == NULL || *out_values == NULL)
		return LCR_ERR_INTERNAL;
	for (size_t i = 0; i < n; i++) {
		json_t *tag = json_array_get(tags, i);
		const char *key = json_string_value(json_object_get(tag, "Key"));
		const char *value = json_string_value(json_object_get(tag, "Value"));

		if (!json_is_object(tag) || key == NULL || strlen(key) == 0 || strlen(key) > RESOURCE_TAG_KEY_MAX)
			return lcr_fail(LCR_ERR_INVALID_TAG_PARAMETER, req->err, sizeof(req->err),
					"Tag keys must be 1 to %d characters long", RESOURCE_TAG_KEY_MAX);
		if (strncmp(key, "aws:", 4) == 0)
			return lcr_fail(LCR_ERR_INVALID_TAG_PARAMETER, req->err, sizeof(req->err),
					"Tag key '%s' uses the reserved prefix 'aws:'", key);
		if (value == NULL || strlen(value) > RESOURCE_TAG_VALUE_MAX)
			return lcr_fail(LCR_ERR_INVALID_TAG_PARAMETER, req->err, sizeof(req->err),
					"Tag values must be 0 to %d characters long", RESOURCE_TAG_VALUE_MAX);
		(*out_keys)[i] = key;
		(*out_values)[i] = value;
	}
	*out_count = n;
	return LCR_OK;
}

int ecr_create_repository(struct request *req)
{
	struct repository repo;
	json_t *scanning;
	const char *registry_id, *name, **keys = NULL, **values = NULL;
	size_t ntags = 0;
	bool scan_on_push = false;
	int status;

	memset(&repo, 0, sizeof(repo));
	status = ecr_registry_id(req, &registry_id);
	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "repositoryName", true, 0, 1024, &name);
	if (status == LCR_OK)
		status = registry_repository_name_check(name, req->err, sizeof(req->err));
	if (status == LCR_OK)
		status = read_mutability(req, &repo);
	if (status == LCR_OK)
		status = ecr_input_object(req, req->input, "imageScanningConfiguration", &scanning);
	if (status == LCR_OK && scanning != NULL)
		status = ecr_input_bool(req, scanning, "scanOnPush", &scan_on_push);
	if (status == LCR_OK)
		status = read_encryption(req, &repo);
	if (status == LCR_OK)
		status = read_resource_tags(req, &keys, &values, &ntags);
	if (status != LCR_OK)
		goto out;
	snprintf(repo.registry_id, sizeof(repo.registry_id), "%s", registry_id);
	snprintf(repo.region, sizeof(repo.region), "%s", req->region);
	snprintf(repo.name, sizeof(repo.name), "%s", name);
	repo.scan_on_push = scan_on_push;
	status = ecr_authorize_named(req, registry_id, name);
	if (status == LCR_OK)
		status = registry_repository_create(req->srv->registry, &repo, req->err, sizeof(req->err));
	if (status == LCR_OK && ntags > 0)
		status = registry_repository_tags_set(req->srv->registry, repo.id, keys, values, ntags, req->err,
						      sizeof(req->err));
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK, json_pack("{s:o}", "repository", ecr_repository_json(req, &repo)));
out:
	free(keys);
	free(values);
	return status;
}

static int describe_named(struct request *req, const char *registry_id, json_t *names)
{
	json_t *list = json_array();
	struct repository repo;
	size_t i;
	json_t *name;
	int status = LCR_OK;

	json_array_foreach(names, i, name) {
		if (!json_is_string(name)) {
			status = lcr_fail(LCR_ERR_SERIALIZATION, req->err, sizeof(req->err),
					  "Unexpected value type for field 'repositoryNames': expected strings");
			break;
		}
		status = registry_repository_name_check(json_string_value(name), req->err, sizeof(req->err));
		if (status == LCR_OK)
			status = registry_repository_get(req->srv->registry, registry_id, req->region,
							 json_string_value(name), &repo, req->err, sizeof(req->err));
		/* The repository's own policy counts, so authorize with it once
		 * loaded; a missing one is authorized by name first. */
		if (status == LCR_OK) {
			status = request_authorize(req, &repo, NULL);
		} else if (status == LCR_ERR_REPOSITORY_NOT_FOUND &&
			   request_authorize_missing(req, registry_id, req->region, json_string_value(name)) != LCR_OK) {
			status = LCR_ERR_DENIED;
		}
		if (status != LCR_OK)
			break;
		json_array_append_new(list, ecr_repository_json(req, &repo));
	}
	if (status != LCR_OK) {
		json_decref(list);
		return status;
	}
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:o}", "repositories", list));
	return LCR_OK;
}

int ecr_describe_repositories(struct request *req)
{
	const char *registry_id;
	json_t *names, *list, *body;
	struct repository *repos = NULL;
	size_t count = 0, start = 0, page = 0;
	int status = ecr_registry_id(req, &registry_id);

	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "repositoryNames", 1, 100, &names);
	if (status != LCR_OK)
		return status;
	if (names != NULL) {
		if (json_object_get(req->input, "maxResults") != NULL || json_object_get(req->input, "nextToken") != NULL)
			return ecr_invalid(req, "maxResults",
					   "maxResults and nextToken cannot be used together with repositoryNames");
		return describe_named(req, registry_id, names);
	}
	/* Listing every repository is authorized on the ARN ending "repository/" and a wildcard. */
	status = ecr_authorize_named(req, registry_id, "*");
	if (status == LCR_OK)
		status = registry_repository_list(req->srv->registry, registry_id, req->region, &repos, &count, req->err,
						  sizeof(req->err));
	if (status == LCR_OK)
		status = ecr_page(req, count, 100, 1000, &start, &page);
	if (status != LCR_OK) {
		free(repos);
		return status;
	}
	list = json_array();
	for (size_t i = start; i < start + page; i++)
		json_array_append_new(list, ecr_repository_json(req, &repos[i]));
	body = json_pack("{s:o}", "repositories", list);
	ecr_page_token(body, start + page, count);
	request_respond_json(req, MHD_HTTP_OK, body);
	free(repos);
	return LCR_OK;
}

int ecr_delete_repository(struct request *req)
{
	bool force = false;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_bool(req, req->input, "force", &force);
	if (status == LCR_OK)
		status = registry_repository_delete(req->srv->registry, &req->repo, force, req->err, sizeof(req->err));
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:o}", "repository", ecr_repository_json(req, &req->repo)));
	return status;
}

/* The registry URL for GetAuthorizationToken's proxyEndpoint.  A client
 * that reached the API under an ECR name (api.ecr.<region>.<domain>, as the
 * amazon-ecr-credential-helper does with its host mapped to localecr) gets
 * the ECR-shaped registry name https://<account>.dkr.ecr.<region>.<domain>,
 * which the helper checks; any other client gets this server as it reached
 * it. */
static void proxy_endpoint(struct request *req, char *out, size_t outlen)
{
	const char *host = request_host(req);
	const char *scheme = req->srv->config.tls ? "https" : "http";
	const char *rest = NULL;

	if (strncmp(host, "api.ecr.", 8) == 0)
		rest = host + 8;
	else if (strncmp(host, "ecr.", 4) == 0)
		rest = host + 4;
	if (rest != NULL && strchr(rest, '.') != NULL)
		snprintf(out, outlen, "%s://%s.dkr.ecr.%s", scheme, req->caller_account, rest);
	else
		snprintf(out, outlen, "%s://%s", scheme, host);
}

int ecr_get_authorization_token(struct request *req)
{
	json_t *ids, *data = json_array();
	double expires_at = clock_now() + TOKEN_LIFETIME_SECONDS;
	char *password = NULL, *userpass = NULL, *token = NULL, endpoint[600];
	size_t count;
	int status = ecr_input_array(req, req->input, "registryIds", 1, 10, &ids);

	if (status != LCR_OK)
		goto out;
	for (size_t i = 0; ids != NULL && i < json_array_size(ids); i++) {
		const char *id = json_string_value(json_array_get(ids, i));

		if (id == NULL || strlen(id) != 12 || strspn(id, "0123456789") != 12) {
			status = ecr_invalid(req, "registryIds", "Member must satisfy regular expression '[0-9]{12}'");
			goto out;
		}
	}
	password = auth_token_mint(req, expires_at);
	if (password == NULL || asprintf(&userpass, "AWS:%s", password) < 0) {
		userpass = NULL;
		status = LCR_ERR_INTERNAL;
		goto out;
	}
	token = base64_encode(userpass, strlen(userpass));
	if (token == NULL) {
		status = LCR_ERR_INTERNAL;
		goto out;
	}
	proxy_endpoint(req, endpoint, sizeof(endpoint));
	count = ids != NULL ? json_array_size(ids) : 1;
	for (size_t i = 0; i < count; i++)
		json_array_append_new(data, json_pack("{s:s, s:o, s:s}", "authorizationToken", token, "expiresAt",
						      ecr_time(expires_at), "proxyEndpoint", endpoint));
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:O}", "authorizationData", data));
out:
	json_decref(data);
	free(password);
	free(userpass);
	free(token);
	return status;
}
