/*
 * seed.c - seed files: the repositories, settings, policies, images,
 * account settings and fault rules a server starts with.  `serve --seed
 * FILE` applies one before the server listens, POST /_localecr/reset
 * applies it again after emptying the store, POST /_localecr/seed applies
 * a request body, and `localecr seed FILE` posts a file to a running server.
 *
 * The format (docs/seed.md has a full example), every field optional
 * unless marked:
 *
 *   {"repositories": [{"name" (required), "registryId", "region",
 *                      "imageTagMutability", "imageTagMutabilityExclusionFilters",
 *                      "scanOnPush", "tags": [{"Key","Value"}],
 *                      "repositoryPolicy": {...}, "lifecyclePolicy": {...},
 *                      "images": [{"oci": DIR, "ref": TAG, "tag": TAG} |
 *                                 {"dockerArchive": FILE, "tag": TAG (required)}]}],
 *    "accountSettings": [{"name", "value"}],
 *    "faults": [the objects POST /_localecr/faults takes]}
 *
 * Loading has two steps.  seed_load parses the text and validates all of it
 * (fields, names, policies, lifecycle policies, that every image file can be
 * read) without changing anything.  seed_apply then writes it through the
 * registry API, so seeding writes no CloudTrail records and emits no push
 * events.  Images stored in a scan-on-push repository are queued for a scan
 * as after a push.  Identities are not part of a seed: they come from --identities.
 */
#include "seed_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../common/log.h"
#include "../common/status.h"
#include "../policy/policy.h"
#include "../registry/lifecycle.h"

/* Seed files larger than this are rejected; images are read from their own
 * files, so a seed is only names and settings. */
#define SEED_TEXT_MAX (1024 * 1024)
#define WHERE_BUF 256

/* ECR's limits on repository resource tags. */
#define RESOURCE_TAGS_MAX 50
#define RESOURCE_TAG_KEY_MAX 128
#define RESOURCE_TAG_VALUE_MAX 256

static const char *const top_fields[] = {"repositories", "accountSettings", "faults", NULL};
static const char *const repository_fields[] = {"name", "registryId", "region", "imageTagMutability",
						"imageTagMutabilityExclusionFilters", "scanOnPush", "tags",
						"repositoryPolicy", "lifecyclePolicy", "images", NULL};
static const char *const setting_fields[] = {"name", "value", NULL};
static const char *const fault_fields[] = {"operation", "repository", "fault", "count", "probability", "delay_ms",
					   NULL};

int seed_fail(const struct seed *seed, const char *where, int status, char *err, size_t errlen, const char *fmt, ...)
{
	char message[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (where != NULL && where[0] != '\0')
		snprintf(err, errlen, "%s: %s: %s", seed->label, where, message);
	else
		snprintf(err, errlen, "%s: %s", seed->label, message);
	return status;
}

void seed_where(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
}

void seed_resolve_path(const struct seed *seed, const char *path, char *out, size_t outlen)
{
	if (path[0] == '/' || seed->base_dir[0] == '\0')
		snprintf(out, outlen, "%s", path);
	else
		snprintf(out, outlen, "%s/%s", seed->base_dir, path);
}

void seed_free(struct seed *seed)
{
	if (seed == NULL)
		return;
	json_decref(seed->root);
	free(seed);
}

/* Reject a field the format does not define, so that a misspelt one is not
 * silently ignored. */
static int check_fields(const struct seed *seed, json_t *object, const char *const *allowed, const char *where,
			char *err, size_t errlen)
{
	const char *key;
	json_t *value;

	if (!json_is_object(object))
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "expected a JSON object");
	json_object_foreach(object, key, value) {
		bool known = false;

		for (size_t i = 0; allowed[i] != NULL && !known; i++)
			known = strcmp(allowed[i], key) == 0;
		if (!known)
			return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "unknown field '%s'", key);
	}
	return LCR_OK;
}

/* Fetch an optional string field; a present non-string is an error. */
static int optional_string(const struct seed *seed, json_t *object, const char *field, const char *where,
			   const char **out, char *err, size_t errlen)
{
	json_t *value = json_object_get(object, field);

	*out = NULL;
	if (value == NULL)
		return LCR_OK;
	if (!json_is_string(value))
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "%s must be a string", field);
	*out = json_string_value(value);
	return LCR_OK;
}

/* Fetch an optional array field. */
static int optional_array(const struct seed *seed, json_t *object, const char *field, const char *where,
			  json_t **out, char *err, size_t errlen)
{
	json_t *value = json_object_get(object, field);

	*out = NULL;
	if (value == NULL)
		return LCR_OK;
	if (!json_is_array(value))
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "%s must be an array", field);
	*out = value;
	return LCR_OK;
}

/* The policy text to store: a string as given, an object serialized. */
static char *policy_text(json_t *value)
{
	if (json_is_string(value))
		return strdup(json_string_value(value));
	return json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

/* Validate imageTagMutability and its exclusion filters with ECR's rules:
 * the *_WITH_EXCLUSION modes need 1 to 5 WILDCARD filters of
 * [0-9a-zA-Z._*-]{1,128}, the other modes take none. */
static int check_mutability(const struct seed *seed, json_t *repo, const char *where, char *err, size_t errlen)
{
	const char *mode;
	json_t *filters = json_object_get(repo, "imageTagMutabilityExclusionFilters"), *filter;
	char at[WHERE_BUF];
	size_t i;
	int status = optional_string(seed, repo, "imageTagMutability", where, &mode, err, errlen);

	if (status != LCR_OK)
		return status;
	seed_where(at, sizeof(at), "%s.imageTagMutability", where);
	if (mode != NULL && strcmp(mode, "MUTABLE") != 0 && strcmp(mode, "IMMUTABLE") != 0 &&
	    strcmp(mode, "IMMUTABLE_WITH_EXCLUSION") != 0 && strcmp(mode, "MUTABLE_WITH_EXCLUSION") != 0)
		return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "expected MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION, got '%s'",
				 mode);
	seed_where(at, sizeof(at), "%s.imageTagMutabilityExclusionFilters", where);
	if (mode == NULL || strstr(mode, "_WITH_EXCLUSION") == NULL) {
		if (filters != NULL)
			return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
					 "exclusion filters need imageTagMutability IMMUTABLE_WITH_EXCLUSION or "
					 "MUTABLE_WITH_EXCLUSION");
		return LCR_OK;
	}
	if (!json_is_array(filters) || json_array_size(filters) < 1 || json_array_size(filters) > 5)
		return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "%s needs an array of 1 to 5 filters", mode);
	json_array_foreach(filters, i, filter) {
		const char *type = json_string_value(json_object_get(filter, "filterType"));
		const char *text = json_string_value(json_object_get(filter, "filter"));

		seed_where(at, sizeof(at), "%s.imageTagMutabilityExclusionFilters[%zu]", where, i);
		if (!json_is_object(filter) || json_object_size(filter) != 2 || type == NULL ||
		    strcmp(type, "WILDCARD") != 0 || text == NULL)
			return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
					 "expected {\"filterType\": \"WILDCARD\", \"filter\": \"<pattern>\"}");
		if (strlen(text) < 1 || strlen(text) > 128 ||
		    strspn(text, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._*-") != strlen(text))
			return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
					 "filter '%s' must match ^[0-9a-zA-Z._*-]{1,128}$", text);
	}
	return LCR_OK;
}

static int check_resource_tags(const struct seed *seed, json_t *repo, const char *where, char *err, size_t errlen)
{
	json_t *tags, *tag;
	char at[WHERE_BUF];
	size_t i;
	int status = optional_array(seed, repo, "tags", where, &tags, err, errlen);

	if (status != LCR_OK || tags == NULL)
		return status;
	if (json_array_size(tags) > RESOURCE_TAGS_MAX)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "a repository can have at most %d tags; this one has %zu", RESOURCE_TAGS_MAX,
				 json_array_size(tags));
	json_array_foreach(tags, i, tag) {
		const char *key = json_string_value(json_object_get(tag, "Key"));
		const char *value = json_string_value(json_object_get(tag, "Value"));

		seed_where(at, sizeof(at), "%s.tags[%zu]", where, i);
		if (!json_is_object(tag) || json_object_size(tag) != 2 || key == NULL || value == NULL)
			return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
					 "expected {\"Key\": \"<key>\", \"Value\": \"<value>\"}");
		if (strlen(key) < 1 || strlen(key) > RESOURCE_TAG_KEY_MAX || strncmp(key, "aws:", 4) == 0)
			return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
					 "Key must be 1 to %d characters and not start with 'aws:'", RESOURCE_TAG_KEY_MAX);
		if (strlen(value) > RESOURCE_TAG_VALUE_MAX)
			return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
					 "Value must be at most %d characters", RESOURCE_TAG_VALUE_MAX);
	}
	return LCR_OK;
}

struct principal_check {
	const struct identity_store *store;
	const char *missing;
};

static bool principal_known(void *ctx, const char *principal)
{
	struct principal_check *check = ctx;

	if (identity_principal_exists(check->store, principal))
		return true;
	check->missing = principal;
	return false;
}

/* Validate a repository policy as SetRepositoryPolicy does: it must parse,
 * name no Resource, and in IAM mode name only principals the identities
 * file defines. */
static int check_repository_policy(struct server *srv, const struct seed *seed, json_t *value, const char *where,
				   char *err, size_t errlen)
{
	struct policy *policy = NULL;
	struct principal_check check = {srv->identities, NULL};
	char detail[512], *text;
	int status = LCR_OK;

	if (!json_is_object(value) && !json_is_string(value))
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "expected a policy document (an object, or its text as a string)");
	text = policy_text(value);
	if (text == NULL)
		return LCR_ERR_INTERNAL;
	if (policy_parse(text, strlen(text), POLICY_KIND_RESOURCE, "repository policy", &policy, detail,
			 sizeof(detail)) != LCR_OK)
		status = seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "%s", detail);
	else if (policy_has_resource_element(policy))
		status = seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				   "a repository policy applies to its repository and may not name a Resource");
	else if (srv->config.iam_mode) {
		policy_each_principal(policy, principal_known, &check);
		if (check.missing != NULL)
			status = seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
					   "principal %s is not in the identities file", check.missing);
	}
	policy_free(policy);
	free(text);
	return status;
}

static int check_lifecycle_policy(const struct seed *seed, json_t *value, const char *where, char *err, size_t errlen)
{
	struct lifecycle_policy *policy = NULL;
	char detail[1024], *text;
	int status = LCR_OK;

	if (!json_is_object(value) && !json_is_string(value))
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "expected a lifecycle policy (an object, or its text as a string)");
	text = policy_text(value);
	if (text == NULL)
		return LCR_ERR_INTERNAL;
	if (lifecycle_parse(text, strlen(text), &policy, detail, sizeof(detail)) != LCR_OK)
		status = seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "%s", detail);
	lifecycle_free(policy);
	free(text);
	return status;
}

static int check_images(const struct seed *seed, json_t *repo, const char *where, char *err, size_t errlen)
{
	json_t *images, *image;
	char at[WHERE_BUF];
	size_t i;
	int status = optional_array(seed, repo, "images", where, &images, err, errlen);

	if (status != LCR_OK || images == NULL)
		return status;
	json_array_foreach(images, i, image) {
		seed_where(at, sizeof(at), "%s.images[%zu]", where, i);
		status = seed_image_check(seed, image, at, err, errlen);
		if (status != LCR_OK)
			return status;
	}
	return LCR_OK;
}

static int check_repository(struct server *srv, const struct seed *seed, json_t *repo, const char *where, char *err,
			    size_t errlen)
{
	const char *name, *registry_id, *region;
	json_t *value;
	char at[WHERE_BUF], detail[512];
	int status = check_fields(seed, repo, repository_fields, where, err, errlen);

	if (status == LCR_OK)
		status = optional_string(seed, repo, "name", where, &name, err, errlen);
	if (status == LCR_OK)
		status = optional_string(seed, repo, "registryId", where, &registry_id, err, errlen);
	if (status == LCR_OK)
		status = optional_string(seed, repo, "region", where, &region, err, errlen);
	if (status != LCR_OK)
		return status;
	seed_where(at, sizeof(at), "%s.name", where);
	if (name == NULL)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "missing field 'name'");
	if (registry_repository_name_check(name, detail, sizeof(detail)) != LCR_OK)
		return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen, "%s", detail);
	seed_where(at, sizeof(at), "%s.registryId", where);
	if (registry_id != NULL && (strlen(registry_id) != 12 || strspn(registry_id, "0123456789") != 12))
		return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen, "expected 12 digits, got '%s'",
				 registry_id);
	seed_where(at, sizeof(at), "%s.region", where);
	if (region != NULL && (strlen(region) == 0 || strlen(region) >= REGION_BUF ||
			       strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region)))
		return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
				 "expected a region name like us-east-1, got '%s'", region);
	value = json_object_get(repo, "scanOnPush");
	seed_where(at, sizeof(at), "%s.scanOnPush", where);
	if (value != NULL && !json_is_boolean(value))
		return seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen, "expected true or false");
	status = check_mutability(seed, repo, where, err, errlen);
	if (status == LCR_OK)
		status = check_resource_tags(seed, repo, where, err, errlen);
	if (status == LCR_OK && (value = json_object_get(repo, "repositoryPolicy")) != NULL) {
		seed_where(at, sizeof(at), "%s.repositoryPolicy", where);
		status = check_repository_policy(srv, seed, value, at, err, errlen);
	}
	if (status == LCR_OK && (value = json_object_get(repo, "lifecyclePolicy")) != NULL) {
		seed_where(at, sizeof(at), "%s.lifecyclePolicy", where);
		status = check_lifecycle_policy(seed, value, at, err, errlen);
	}
	if (status == LCR_OK)
		status = check_images(seed, repo, where, err, errlen);
	return status;
}

static int check_account_setting(const struct seed *seed, json_t *setting, const char *where, char *err,
				 size_t errlen)
{
	const char *name, *value;
	char detail[512];
	int status = check_fields(seed, setting, setting_fields, where, err, errlen);

	if (status == LCR_OK)
		status = optional_string(seed, setting, "name", where, &name, err, errlen);
	if (status == LCR_OK)
		status = optional_string(seed, setting, "value", where, &value, err, errlen);
	if (status != LCR_OK)
		return status;
	if (name == NULL || value == NULL)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "expected a name and a value");
	if (registry_account_setting_check(name, value, detail, sizeof(detail)) != LCR_OK)
		return seed_fail(seed, where, LCR_ERR_INVALID_PARAMETER, err, errlen, "%s", detail);
	return LCR_OK;
}

/* True when both objects lack field or hold equal values in it (jansson's
 * json_equal is false when either value is missing). */
static bool same_field(json_t *a, json_t *b, const char *field)
{
	json_t *x = json_object_get(a, field), *y = json_object_get(b, field);

	return (x == NULL && y == NULL) || json_equal(x, y);
}

/* Walk the whole document; the first problem found is the error. */
static int check_document(struct server *srv, const struct seed *seed, char *err, size_t errlen)
{
	json_t *list, *item;
	char at[WHERE_BUF];
	size_t i;
	int status = check_fields(seed, seed->root, top_fields, "", err, errlen);

	if (status == LCR_OK)
		status = optional_array(seed, seed->root, "repositories", "", &list, err, errlen);
	for (i = 0; status == LCR_OK && list != NULL && i < json_array_size(list); i++) {
		json_t *other;

		item = json_array_get(list, i);
		seed_where(at, sizeof(at), "repositories[%zu]", i);
		status = check_repository(srv, seed, item, at, err, errlen);
		for (size_t j = 0; status == LCR_OK && j < i; j++) {
			other = json_array_get(list, j);
			if (same_field(other, item, "name") && same_field(other, item, "registryId") &&
			    same_field(other, item, "region"))
				status = seed_fail(seed, at, LCR_ERR_INVALID_PARAMETER, err, errlen,
						   "repository '%s' is already listed as repositories[%zu]",
						   json_string_value(json_object_get(item, "name")), j);
		}
	}
	if (status == LCR_OK)
		status = optional_array(seed, seed->root, "accountSettings", "", &list, err, errlen);
	for (i = 0; status == LCR_OK && list != NULL && i < json_array_size(list); i++) {
		seed_where(at, sizeof(at), "accountSettings[%zu]", i);
		status = check_account_setting(seed, json_array_get(list, i), at, err, errlen);
	}
	if (status == LCR_OK)
		status = optional_array(seed, seed->root, "faults", "", &list, err, errlen);
	for (i = 0; status == LCR_OK && list != NULL && i < json_array_size(list); i++) {
		seed_where(at, sizeof(at), "faults[%zu]", i);
		status = check_fields(seed, json_array_get(list, i), fault_fields, at, err, errlen);
	}
	return status;
}

int seed_load(struct server *srv, const char *text, size_t len, const char *label, const char *base_dir,
	      struct seed **out, char *err, size_t errlen)
{
	struct seed *seed = calloc(1, sizeof(*seed));
	json_error_t jerr;
	int status;

	*out = NULL;
	if (seed == NULL)
		return LCR_ERR_INTERNAL;
	snprintf(seed->label, sizeof(seed->label), "%s", label);
	snprintf(seed->base_dir, sizeof(seed->base_dir), "%s", base_dir ? base_dir : "");
	if (len > SEED_TEXT_MAX) {
		status = seed_fail(seed, NULL, LCR_ERR_INVALID_PARAMETER, err, errlen,
				   "the seed is %zu bytes; at most %d are accepted", len, SEED_TEXT_MAX);
		goto out;
	}
	seed->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (seed->root == NULL) {
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", label, jerr.line, jerr.column, jerr.text);
		status = LCR_ERR_INVALID_PARAMETER;
		goto out;
	}
	status = check_document(srv, seed, err, errlen);
out:
	if (status != LCR_OK)
		seed_free(seed);
	else
		*out = seed;
	return status;
}

int seed_load_file(struct server *srv, const char *path, struct seed **out, char *err, size_t errlen)
{
	char base[PATH_MAX], *slash;
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long size = -1;
	int status;

	*out = NULL;
	if (f != NULL && fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size < 0 || size > SEED_TEXT_MAX || fseek(f, 0, SEEK_SET) != 0 ||
	    (text = malloc((size_t)size + 1)) == NULL || fread(text, 1, (size_t)size, f) != (size_t)size) {
		if (f == NULL || size < 0)
			snprintf(err, errlen, "%s: cannot read the seed file: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s: cannot read the seed file: it must be at most %d bytes", path,
				 SEED_TEXT_MAX);
		if (f != NULL)
			fclose(f);
		free(text);
		return LCR_ERR_INVALID_PARAMETER;
	}
	fclose(f);
	snprintf(base, sizeof(base), "%s", path);
	slash = strrchr(base, '/');
	if (slash == NULL)
		snprintf(base, sizeof(base), ".");
	else if (slash == base)
		base[1] = '\0';
	else
		*slash = '\0';
	status = seed_load(srv, text, (size_t)size, path, base, out, err, errlen);
	free(text);
	return status;
}

/* Create the repository, or find it when it exists, and give it the seed's
 * settings. */
static int apply_repository_settings(struct server *srv, const struct seed *seed, json_t *spec, const char *where,
				     struct repository *repo, char *err, size_t errlen)
{
	const char *registry_id = json_string_value(json_object_get(spec, "registryId"));
	const char *region = json_string_value(json_object_get(spec, "region"));
	const char *mode = json_string_value(json_object_get(spec, "imageTagMutability"));
	json_t *filters = json_object_get(spec, "imageTagMutabilityExclusionFilters");
	char filters_text[1024] = "", detail[1024];
	char *dumped = filters ? json_dumps(filters, JSON_COMPACT) : NULL;
	int status;

	memset(repo, 0, sizeof(*repo));
	snprintf(repo->registry_id, sizeof(repo->registry_id), "%s", registry_id ? registry_id : srv->config.account_id);
	snprintf(repo->region, sizeof(repo->region), "%s", region ? region : srv->config.region);
	snprintf(repo->name, sizeof(repo->name), "%s", json_string_value(json_object_get(spec, "name")));
	snprintf(repo->tag_mutability, sizeof(repo->tag_mutability), "%s", mode ? mode : "MUTABLE");
	if (dumped != NULL)
		snprintf(filters_text, sizeof(filters_text), "%s", dumped);
	free(dumped);
	snprintf(repo->tag_mutability_filters, sizeof(repo->tag_mutability_filters), "%s", filters_text);
	repo->scan_on_push = json_is_true(json_object_get(spec, "scanOnPush"));
	status = registry_repository_create(srv->registry, repo, detail, sizeof(detail));
	if (status == LCR_ERR_REPOSITORY_ALREADY_EXISTS) {
		status = registry_repository_get(srv->registry, repo->registry_id, repo->region, repo->name, repo, detail,
						 sizeof(detail));
		if (status == LCR_OK)
			status = registry_repository_set_mutability(srv->registry, repo, mode ? mode : "MUTABLE",
								    filters_text, detail, sizeof(detail));
		if (status == LCR_OK)
			status = registry_repository_set_scan_on_push(srv->registry, repo,
								      json_is_true(json_object_get(spec, "scanOnPush")));
	}
	if (status != LCR_OK)
		return seed_fail(seed, where, status, err, errlen, "%s", detail);
	return LCR_OK;
}

static int apply_resource_tags(struct server *srv, const struct seed *seed, json_t *spec, const char *where,
			       const struct repository *repo, char *err, size_t errlen)
{
	json_t *tags = json_object_get(spec, "tags");
	size_t n = json_array_size(tags);
	const char **keys, **values;
	char detail[512];
	int status;

	if (n == 0)
		return LCR_OK;
	keys = calloc(n, sizeof(*keys));
	values = calloc(n, sizeof(*values));
	if (keys == NULL || values == NULL) {
		free(keys);
		free(values);
		return LCR_ERR_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		keys[i] = json_string_value(json_object_get(json_array_get(tags, i), "Key"));
		values[i] = json_string_value(json_object_get(json_array_get(tags, i), "Value"));
	}
	status = registry_repository_tags_set(srv->registry, repo->id, keys, values, n, detail, sizeof(detail));
	free(keys);
	free(values);
	if (status != LCR_OK)
		return seed_fail(seed, where, status, err, errlen, "tags: %s", detail);
	return LCR_OK;
}

/* Store the repository and lifecycle policies, both already validated. */
static int apply_policies(struct server *srv, const struct seed *seed, json_t *spec, const char *where,
			  const struct repository *repo, char *err, size_t errlen)
{
	json_t *value;
	char detail[512], *text;
	int status = LCR_OK;

	if ((value = json_object_get(spec, "repositoryPolicy")) != NULL) {
		text = policy_text(value);
		status = text ? registry_repository_policy_set(srv->registry, repo, text, detail, sizeof(detail))
			      : LCR_ERR_INTERNAL;
		free(text);
		if (status != LCR_OK)
			return seed_fail(seed, where, status, err, errlen, "repositoryPolicy: %s", detail);
	}
	if ((value = json_object_get(spec, "lifecyclePolicy")) != NULL) {
		text = policy_text(value);
		status = text ? registry_lifecycle_policy_set(srv->registry, repo, text, detail, sizeof(detail))
			      : LCR_ERR_INTERNAL;
		free(text);
		if (status != LCR_OK)
			return seed_fail(seed, where, status, err, errlen, "lifecyclePolicy: %s", detail);
	}
	return status;
}

static int apply_repository(struct server *srv, const struct seed *seed, json_t *spec, const char *where,
			    int *images_pushed, char *err, size_t errlen)
{
	struct repository repo;
	json_t *images = json_object_get(spec, "images"), *image;
	char at[WHERE_BUF];
	size_t i;
	int status = apply_repository_settings(srv, seed, spec, where, &repo, err, errlen);

	if (status == LCR_OK)
		status = apply_resource_tags(srv, seed, spec, where, &repo, err, errlen);
	if (status == LCR_OK)
		status = apply_policies(srv, seed, spec, where, &repo, err, errlen);
	json_array_foreach(images, i, image) {
		if (status != LCR_OK)
			break;
		seed_where(at, sizeof(at), "%s.images[%zu]", where, i);
		status = seed_image_push(srv, seed, &repo, image, at, images_pushed, err, errlen);
	}
	return status;
}

int seed_apply(struct server *srv, const struct seed *seed, json_t **out_summary, char *err, size_t errlen)
{
	json_t *list, *item;
	char at[WHERE_BUF], detail[512];
	int images = 0, status = LCR_OK;
	size_t i;

	*out_summary = NULL;
	/* Fault rules go first: faults_add_json is where their values are
	 * checked, so a bad rule stops the seed before any repository changes.
	 * NOTE: rules of the same seed added before the bad one stay. */
	list = json_object_get(seed->root, "faults");
	json_array_foreach(list, i, item) {
		json_t *rule = NULL;

		seed_where(at, sizeof(at), "faults[%zu]", i);
		status = faults_add_json(item, detail, sizeof(detail), &rule);
		json_decref(rule);
		if (status != LCR_OK)
			return seed_fail(seed, at, status, err, errlen, "%s", detail);
	}
	list = json_object_get(seed->root, "accountSettings");
	json_array_foreach(list, i, item) {
		seed_where(at, sizeof(at), "accountSettings[%zu]", i);
		status = registry_account_setting_put(srv->registry, srv->config.account_id, srv->config.region,
						      json_string_value(json_object_get(item, "name")),
						      json_string_value(json_object_get(item, "value")), detail,
						      sizeof(detail));
		if (status != LCR_OK)
			return seed_fail(seed, at, status, err, errlen, "%s", detail);
	}
	list = json_object_get(seed->root, "repositories");
	json_array_foreach(list, i, item) {
		seed_where(at, sizeof(at), "repositories[%zu]", i);
		status = apply_repository(srv, seed, item, at, &images, err, errlen);
		if (status != LCR_OK)
			return status;
	}
	*out_summary = json_pack("{s:I, s:I, s:I, s:I}", "repositories",
				 (json_int_t)json_array_size(json_object_get(seed->root, "repositories")), "images",
				 (json_int_t)images, "accountSettings",
				 (json_int_t)json_array_size(json_object_get(seed->root, "accountSettings")), "faults",
				 (json_int_t)json_array_size(json_object_get(seed->root, "faults")));
	return LCR_OK;
}

int seed_apply_file(struct server *srv, const char *path, json_t **out_summary, char *err, size_t errlen)
{
	struct seed *seed = NULL;
	int status = seed_load_file(srv, path, &seed, err, errlen);

	*out_summary = NULL;
	if (status == LCR_OK)
		status = seed_apply(srv, seed, out_summary, err, errlen);
	seed_free(seed);
	return status;
}

/* POST /_localecr/seed?name=LABEL&base=DIR with a seed as the body.  name
 * labels messages (default "seed"); relative image paths resolve against
 * base, or against the server's working directory without it. */
int admin_seed(struct request *req)
{
	const char *label = request_query(req, "name"), *base = request_query(req, "base");
	struct seed *seed = NULL;
	json_t *summary = NULL;
	int status = seed_load(req->srv, req->body.data ? req->body.data : "", req->body.len, label ? label : "seed",
			       base, &seed, req->err, sizeof(req->err));

	if (status == LCR_OK)
		status = seed_apply(req->srv, seed, &summary, req->err, sizeof(req->err));
	seed_free(seed);
	if (status != LCR_OK) {
		log_warn("request %s: seed failed: %s", req->id, req->err);
		return status;
	}
	log_info("request %s: seeded %lld repositories and %lld images", req->id,
		 (long long)json_integer_value(json_object_get(summary, "repositories")),
		 (long long)json_integer_value(json_object_get(summary, "images")));
	json_object_set_new(summary, "status", json_string("seeded"));
	request_respond_json(req, MHD_HTTP_OK, summary);
	return LCR_OK;
}

static size_t collect_response(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *body = ctx;

	return buf_append(body, data, size * nmemb) ? size * nmemb : 0;
}

/* Read a whole file into out, which has its own maximum size. */
static int read_seed_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "localecr: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (!buf_append(out, chunk, n)) {
			fprintf(stderr, "localecr: %s is larger than %d bytes\n", path, SEED_TEXT_MAX);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* `localecr seed FILE [--server URL]`: post FILE to a running server, with
 * its folder as the base of relative paths; returns the exit status. */
int seed_command(int argc, char **argv)
{
	const char *server = "http://127.0.0.1:5000", *path = NULL;
	char base[PATH_MAX], url[8192], *slash, *base_escaped = NULL, *name_escaped = NULL;
	struct buf body, response;
	struct curl_slist *headers = NULL;
	long http_status = 0;
	json_t *reply = NULL;
	CURL *curl = NULL;
	int exit_status = 1;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			server = argv[++i];
		} else if (path == NULL && argv[i][0] != '-') {
			path = argv[i];
		} else {
			fprintf(stderr, "usage: localecr seed FILE [--server URL]\n");
			return 2;
		}
	}
	if (path == NULL) {
		fprintf(stderr, "usage: localecr seed FILE [--server URL]\n");
		return 2;
	}
	buf_init(&body, SEED_TEXT_MAX);
	buf_init(&response, 1024 * 1024);
	if (read_seed_file(path, &body) < 0)
		goto out;
	if (realpath(path, base) == NULL) {
		fprintf(stderr, "localecr: cannot resolve %s: %s\n", path, strerror(errno));
		goto out;
	}
	slash = strrchr(base, '/');
	if (slash == base)
		base[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	if (curl == NULL)
		goto out;
	base_escaped = curl_easy_escape(curl, base, 0);
	name_escaped = curl_easy_escape(curl, path, 0);
	snprintf(url, sizeof(url), "%s/_localecr/seed?base=%s&name=%s", server, base_escaped, name_escaped);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data ? body.data : "");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body.len);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_response);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
	if (curl_easy_perform(curl) != CURLE_OK) {
		fprintf(stderr, "localecr: failed to reach %s; is the server running?\n", server);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
	reply = json_loadb(response.data ? response.data : "", response.len, 0, NULL);
	if (http_status != 200) {
		const char *message = json_string_value(json_object_get(reply, "message"));

		fprintf(stderr, "localecr: seeding failed (HTTP %ld): %s\n", http_status,
			message ? message : "the server sent no message");
		goto out;
	}
	printf("seeded %lld repositories, %lld images, %lld account settings, %lld fault rules\n",
	       (long long)json_integer_value(json_object_get(reply, "repositories")),
	       (long long)json_integer_value(json_object_get(reply, "images")),
	       (long long)json_integer_value(json_object_get(reply, "accountSettings")),
	       (long long)json_integer_value(json_object_get(reply, "faults")));
	exit_status = 0;
out:
	json_decref(reply);
	curl_free(base_escaped);
	curl_free(name_escaped);
	curl_slist_free_all(headers);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	buf_release(&body);
	buf_release(&response);
	return exit_status;
}
