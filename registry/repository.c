/*
 * repository.c - repositories: names, creation, listing and deletion.
 */
#include "registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/clock.h"
#include "../common/status.h"

/* The pattern the current ECR model gives for repositoryName, quoted in the
 * error as ECR does; match_component() below implements it. */
#define REPOSITORY_NAME_PATTERN \
	"[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*"

static int is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static const char *match_component(const char *p)
{
	if (!is_alnum_lower(*p))
		return NULL;
	while (is_alnum_lower(*p))
		p++;
	for (;;) {
		const char *q = p;

		if (*q == '.') {
			q++;
		} else if (*q == '_') {
			q++;
			if (*q == '_')
				q++;
		} else if (*q == '-') {
			while (*q == '-')
				q++;
		} else {
			return p;
		}
		if (!is_alnum_lower(*q))
			return p;
		while (is_alnum_lower(*q))
			q++;
		p = q;
	}
}

int registry_repository_name_check(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);
	const char *p = name;

	if (len < 2)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
				"Invalid parameter at 'repositoryName' failed to satisfy constraint: "
				"'Member must have length greater than or equal to 2'");
	if (len > REPOSITORY_NAME_MAX)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
				"Invalid parameter at 'repositoryName' failed to satisfy constraint: "
				"'Member must have length less than or equal to 256'");
	for (;;) {
		p = match_component(p);
		if (p == NULL)
			break;
		if (*p == '\0')
			return LCR_OK;
		if (*p != '/')
			break;
		p++;
	}
	return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
			"Invalid parameter at 'repositoryName' failed to satisfy constraint: "
			"'must satisfy regular expression '" REPOSITORY_NAME_PATTERN "''");
}

static void read_repository(sqlite3_stmt *stmt, struct repository *out)
{
	const char *kms = (const char *)sqlite3_column_text(stmt, 8);
	const char *filters;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(stmt, 0);
	snprintf(out->registry_id, sizeof(out->registry_id), "%s", sqlite3_column_text(stmt, 1));
	snprintf(out->region, sizeof(out->region), "%s", sqlite3_column_text(stmt, 2));
	snprintf(out->name, sizeof(out->name), "%s", sqlite3_column_text(stmt, 3));
	out->created_at = sqlite3_column_double(stmt, 4);
	snprintf(out->tag_mutability, sizeof(out->tag_mutability), "%s", sqlite3_column_text(stmt, 5));
	out->scan_on_push = sqlite3_column_int(stmt, 6) != 0;
	snprintf(out->encryption_type, sizeof(out->encryption_type), "%s", sqlite3_column_text(stmt, 7));
	snprintf(out->kms_key, sizeof(out->kms_key), "%s", kms ? kms : "");
	filters = (const char *)sqlite3_column_text(stmt, 9);
	snprintf(out->tag_mutability_filters, sizeof(out->tag_mutability_filters), "%s", filters ? filters : "");
}

#define REPOSITORY_COLUMNS \
	"id, registry_id, region, name, created_at, tag_mutability, scan_on_push, encryption_type, kms_key," \
	" tag_mutability_filters"

int registry_repository_create(struct registry *reg, struct repository *repo, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"INSERT INTO repositories (registry_id, region, name, created_at, tag_mutability,"
		" scan_on_push, encryption_type, kms_key, tag_mutability_filters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	int rc;

	if (stmt == NULL)
		return registry_db_error(reg, "create repository", err, errlen);
	repo->created_at = clock_now();
	sqlite3_bind_text(stmt, 1, repo->registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, repo->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, repo->name, -1, SQLITE_STATIC);
	sqlite3_bind_double(stmt, 4, repo->created_at);
	sqlite3_bind_text(stmt, 5, repo->tag_mutability[0] ? repo->tag_mutability : "MUTABLE", -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 6, repo->scan_on_push);
	sqlite3_bind_text(stmt, 7, repo->encryption_type[0] ? repo->encryption_type : "AES256", -1, SQLITE_STATIC);
	if (repo->kms_key[0])
		sqlite3_bind_text(stmt, 8, repo->kms_key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 8);
	if (repo->tag_mutability_filters[0])
		sqlite3_bind_text(stmt, 9, repo->tag_mutability_filters, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 9);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_CONSTRAINT)
		return lcr_fail(LCR_ERR_REPOSITORY_ALREADY_EXISTS, err, errlen,
				"The repository with name '%s' already exists in the registry with id '%s'", repo->name,
				repo->registry_id);
	if (rc != SQLITE_DONE)
		return registry_db_error(reg, "create repository", err, errlen);
	repo->id = sqlite3_last_insert_rowid(registry_db(reg));
	if (repo->tag_mutability[0] == '\0')
		snprintf(repo->tag_mutability, sizeof(repo->tag_mutability), "MUTABLE");
	if (repo->encryption_type[0] == '\0')
		snprintf(repo->encryption_type, sizeof(repo->encryption_type), "AES256");
	return LCR_OK;
}

int registry_repository_get(struct registry *reg, const char *registry_id, const char *region, const char *name,
			    struct repository *out, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT " REPOSITORY_COLUMNS " FROM repositories WHERE registry_id = ? AND region = ? AND name = ?");
	int status;

	if (stmt == NULL)
		return registry_db_error(reg, "read repository", err, errlen);
	sqlite3_bind_text(stmt, 1, registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, name, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		read_repository(stmt, out);
		status = LCR_OK;
	} else {
		status = lcr_fail(LCR_ERR_REPOSITORY_NOT_FOUND, err, errlen,
				  "The repository with name '%s' does not exist in the registry with id '%s'", name,
				  registry_id);
	}
	sqlite3_finalize(stmt);
	return status;
}

int registry_repository_list(struct registry *reg, const char *registry_id, const char *region,
			     struct repository **out, size_t *out_count, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT " REPOSITORY_COLUMNS " FROM repositories WHERE registry_id = ? AND region = ? ORDER BY name");
	struct repository *list = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*out_count = 0;
	if (stmt == NULL)
		return registry_db_error(reg, "list repositories", err, errlen);
	sqlite3_bind_text(stmt, 1, registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, region, -1, SQLITE_STATIC);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		if (n == cap) {
			struct repository *grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (grown == NULL) {
				free(list);
				sqlite3_finalize(stmt);
				return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
			}
			list = grown;
		}
		read_repository(stmt, &list[n++]);
	}
	sqlite3_finalize(stmt);
	*out = list;
	*out_count = n;
	return LCR_OK;
}

int registry_repository_image_count(struct registry *reg, int64_t repository_id, int64_t *out)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT count(*) FROM images WHERE repository_id = ?");

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, repository_id);
	*out = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	return LCR_OK;
}

int registry_repository_delete(struct registry *reg, const struct repository *repo, bool force, char *err,
			       size_t errlen)
{
	sqlite3_stmt *stmt;
	int64_t count = 0;
	int status, rc;

	status = registry_begin(reg, err, errlen);
	if (status != LCR_OK)
		return status;
	registry_repository_image_count(reg, repo->id, &count);
	if (count > 0 && !force) {
		registry_rollback(reg);
		return lcr_fail(LCR_ERR_REPOSITORY_NOT_EMPTY, err, errlen,
				"The repository with name '%s' in registry with id '%s' cannot be deleted because it "
				"still contains images",
				repo->name, repo->registry_id);
	}
	/* Uploads, links, images and tags go through ON DELETE CASCADE; the
	 * blob files stay for other repositories that link them. */
	stmt = registry_prepare(reg, "DELETE FROM repositories WHERE id = ?");
	if (stmt == NULL) {
		registry_rollback(reg);
		return registry_db_error(reg, "delete repository", err, errlen);
	}
	sqlite3_bind_int64(stmt, 1, repo->id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		registry_rollback(reg);
		return registry_db_error(reg, "delete repository", err, errlen);
	}
	return registry_commit(reg, err, errlen);
}

int registry_repository_tags_set(struct registry *reg, int64_t repository_id, const char **keys,
				 const char **values, size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"INSERT INTO repository_tags (repository_id, key, value) VALUES (?, ?, ?)"
		" ON CONFLICT (repository_id, key) DO UPDATE SET value = excluded.value");

	if (stmt == NULL)
		return registry_db_error(reg, "tag repository", err, errlen);
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, repository_id);
		sqlite3_bind_text(stmt, 2, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, values[i], -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			sqlite3_finalize(stmt);
			return registry_db_error(reg, "tag repository", err, errlen);
		}
	}
	sqlite3_finalize(stmt);
	return LCR_OK;
}

int registry_repository_tags_list(struct registry *reg, int64_t repository_id, char ***out_keys, char ***out_values,
				  size_t *out_count)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT key, value FROM repository_tags WHERE repository_id = ? ORDER BY key");
	char **keys = NULL, **values = NULL;
	size_t n = 0, cap = 0;

	*out_keys = NULL;
	*out_values = NULL;
	*out_count = 0;
	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, repository_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		if (n == cap) {
			char **grown_keys, **grown_values;

			cap = cap ? cap * 2 : 8;
			grown_keys = realloc(keys, cap * sizeof(char *));
			if (grown_keys != NULL)
				keys = grown_keys;
			grown_values = realloc(values, cap * sizeof(char *));
			if (grown_values != NULL)
				values = grown_values;
			if (grown_keys == NULL || grown_values == NULL) {
				sqlite3_finalize(stmt);
				registry_string_arrays_free(keys, values, n);
				return LCR_ERR_INTERNAL;
			}
		}
		keys[n] = strdup((const char *)sqlite3_column_text(stmt, 0));
		values[n] = strdup((const char *)sqlite3_column_text(stmt, 1));
		n++;
	}
	sqlite3_finalize(stmt);
	*out_keys = keys;
	*out_values = values;
	*out_count = n;
	return LCR_OK;
}

void registry_string_arrays_free(char **keys, char **values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(keys ? keys[i] : NULL);
		free(values ? values[i] : NULL);
	}
	free(keys);
	free(values);
}

int registry_repository_tags_remove(struct registry *reg, int64_t repository_id, const char **keys, size_t n,
				    char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "DELETE FROM repository_tags WHERE repository_id = ? AND key = ?");

	if (stmt == NULL)
		return registry_db_error(reg, "untag repository", err, errlen);
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, repository_id);
		sqlite3_bind_text(stmt, 2, keys[i], -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			sqlite3_finalize(stmt);
			return registry_db_error(reg, "untag repository", err, errlen);
		}
	}
	sqlite3_finalize(stmt);
	return LCR_OK;
}

int registry_repository_set_mutability(struct registry *reg, struct repository *repo, const char *mutability,
				       const char *filters_json, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"UPDATE repositories SET tag_mutability = ?, tag_mutability_filters = ? WHERE id = ?");
	int rc;

	if (stmt == NULL)
		return registry_db_error(reg, "set tag mutability", err, errlen);
	sqlite3_bind_text(stmt, 1, mutability, -1, SQLITE_STATIC);
	if (filters_json != NULL && filters_json[0])
		sqlite3_bind_text(stmt, 2, filters_json, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 2);
	sqlite3_bind_int64(stmt, 3, repo->id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return registry_db_error(reg, "set tag mutability", err, errlen);
	snprintf(repo->tag_mutability, sizeof(repo->tag_mutability), "%s", mutability);
	snprintf(repo->tag_mutability_filters, sizeof(repo->tag_mutability_filters), "%s", filters_json ? filters_json : "");
	return LCR_OK;
}

/* Full-string wildcard match: '*' matches any run of characters. */
static bool wildcard_match(const char *pattern, const char *text)
{
	if (*pattern == '\0')
		return *text == '\0';
	if (*pattern == '*')
		return wildcard_match(pattern + 1, text) || (*text != '\0' && wildcard_match(pattern, text + 1));
	return *text == *pattern && wildcard_match(pattern + 1, text + 1);
}

/* True when a filter in the JSON array filters_json matches tag. */
static bool filters_match(const char *filters_json, const char *tag)
{
	json_error_t jerr;
	json_t *filters = json_loads(filters_json, 0, &jerr), *f;
	size_t i;
	bool found = false;

	json_array_foreach(filters, i, f) {
		const char *pattern = json_string_value(json_object_get(f, "filter"));

		if (pattern != NULL && wildcard_match(pattern, tag)) {
			found = true;
			break;
		}
	}
	json_decref(filters);
	return found;
}

bool registry_tag_protected(const struct repository *repo, const char *tag)
{
	if (strcmp(repo->tag_mutability, "IMMUTABLE") == 0)
		return true;
	if (strcmp(repo->tag_mutability, "IMMUTABLE_WITH_EXCLUSION") == 0)
		return !filters_match(repo->tag_mutability_filters, tag);
	if (strcmp(repo->tag_mutability, "MUTABLE_WITH_EXCLUSION") == 0)
		return filters_match(repo->tag_mutability_filters, tag);
	return false;
}
