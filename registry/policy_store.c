/*
 * policy_store.c - repository policies (SetRepositoryPolicy and friends)
 * and registry policies (PutRegistryPolicy and friends).
 *
 * The text is stored as sent, since Get*Policy returns it unchanged;
 * validation belongs to the caller (policy/).
 */
#include "registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/status.h"

static int repository_policy_missing(const struct repository *repo, char *err, size_t errlen)
{
	return lcr_fail(LCR_ERR_REPOSITORY_POLICY_NOT_FOUND, err, errlen,
			"Repository policy does not exist for the repository with name '%s' in the registry with id "
			"'%s'",
			repo->name, repo->registry_id);
}

/* The repository columns that hold a document (the name goes into SQL
 * text, so only these constants may be passed). */
#define POLICY_COLUMN "policy_text"
#define LIFECYCLE_COLUMN "lifecycle_policy"

/* Read a document column of a repository; *out_text is NULL when unset. */
static int read_column(struct registry *reg, const struct repository *repo, const char *column, char **out_text,
		       char *err, size_t errlen)
{
	char sql[96];
	sqlite3_stmt *stmt;
	int status = LCR_OK;

	*out_text = NULL;
	snprintf(sql, sizeof(sql), "SELECT %s FROM repositories WHERE id = ?", column);
	stmt = registry_prepare(reg, sql);
	if (stmt == NULL)
		return registry_db_error(reg, "read repository document", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
		*out_text = strdup((const char *)sqlite3_column_text(stmt, 0));
		if (*out_text == NULL)
			status = LCR_ERR_INTERNAL;
	}
	sqlite3_finalize(stmt);
	return status;
}

/* Write a document column; text NULL clears it. */
static int write_column(struct registry *reg, const struct repository *repo, const char *column, const char *text,
			char *err, size_t errlen)
{
	char sql[96];
	sqlite3_stmt *stmt;
	int rc;

	snprintf(sql, sizeof(sql), "UPDATE repositories SET %s = ? WHERE id = ?", column);
	stmt = registry_prepare(reg, sql);
	if (stmt == NULL)
		return registry_db_error(reg, "write repository document", err, errlen);
	if (text != NULL)
		sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 1);
	sqlite3_bind_int64(stmt, 2, repo->id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : registry_db_error(reg, "write repository document", err, errlen);
}

int registry_repository_policy_get(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				   size_t errlen)
{
	int status = read_column(reg, repo, POLICY_COLUMN, out_text, err, errlen);

	if (status == LCR_OK && *out_text == NULL)
		return repository_policy_missing(repo, err, errlen);
	return status;
}

int registry_repository_policy_set(struct registry *reg, const struct repository *repo, const char *text, char *err,
				   size_t errlen)
{
	return write_column(reg, repo, POLICY_COLUMN, text, err, errlen);
}

int registry_repository_policy_delete(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				      size_t errlen)
{
	int status = registry_repository_policy_get(reg, repo, out_text, err, errlen);

	if (status == LCR_OK)
		status = write_column(reg, repo, POLICY_COLUMN, NULL, err, errlen);
	return status;
}

static int registry_policy_missing(const char *registry_id, char *err, size_t errlen)
{
	return lcr_fail(LCR_ERR_REGISTRY_POLICY_NOT_FOUND, err, errlen,
			"Registry policy does not exist in the registry with id '%s'", registry_id);
}

int registry_policy_get(struct registry *reg, const char *registry_id, const char *region, char **out_text,
			char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT policy_text FROM registry_policies WHERE registry_id = ? AND region = ?");
	int status;

	*out_text = NULL;
	if (stmt == NULL)
		return registry_db_error(reg, "read registry policy", err, errlen);
	sqlite3_bind_text(stmt, 1, registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, region, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		*out_text = strdup((const char *)sqlite3_column_text(stmt, 0));
		status = *out_text != NULL ? LCR_OK : LCR_ERR_INTERNAL;
	} else {
		status = registry_policy_missing(registry_id, err, errlen);
	}
	sqlite3_finalize(stmt);
	return status;
}

int registry_policy_set(struct registry *reg, const char *registry_id, const char *region, const char *text,
			char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"INSERT INTO registry_policies (registry_id, region, policy_text) VALUES (?, ?, ?)"
		" ON CONFLICT (registry_id, region) DO UPDATE SET policy_text = excluded.policy_text");
	int rc;

	if (stmt == NULL)
		return registry_db_error(reg, "write registry policy", err, errlen);
	sqlite3_bind_text(stmt, 1, registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : registry_db_error(reg, "write registry policy", err, errlen);
}

int registry_policy_delete(struct registry *reg, const char *registry_id, const char *region, char **out_text,
			   char *err, size_t errlen)
{
	sqlite3_stmt *stmt;
	int status = registry_policy_get(reg, registry_id, region, out_text, err, errlen), rc;

	if (status != LCR_OK)
		return status;
	stmt = registry_prepare(reg, "DELETE FROM registry_policies WHERE registry_id = ? AND region = ?");
	if (stmt == NULL)
		return registry_db_error(reg, "delete registry policy", err, errlen);
	sqlite3_bind_text(stmt, 1, registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, region, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : registry_db_error(reg, "delete registry policy", err, errlen);
}

/* Lifecycle policies and previews */

static int lifecycle_missing(const struct repository *repo, char *err, size_t errlen)
{
	return lcr_fail(LCR_ERR_LIFECYCLE_POLICY_NOT_FOUND, err, errlen,
			"Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'",
			repo->name, repo->registry_id);
}

int registry_lifecycle_policy_get(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				  size_t errlen)
{
	int status = read_column(reg, repo, LIFECYCLE_COLUMN, out_text, err, errlen);

	if (status == LCR_OK && *out_text == NULL)
		return lifecycle_missing(repo, err, errlen);
	return status;
}

int registry_lifecycle_policy_set(struct registry *reg, const struct repository *repo, const char *text, char *err,
				  size_t errlen)
{
	return write_column(reg, repo, LIFECYCLE_COLUMN, text, err, errlen);
}

int registry_lifecycle_policy_delete(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				     size_t errlen)
{
	int status = registry_lifecycle_policy_get(reg, repo, out_text, err, errlen);

	if (status == LCR_OK)
		status = write_column(reg, repo, LIFECYCLE_COLUMN, NULL, err, errlen);
	return status;
}

int registry_lifecycle_preview_get(struct registry *reg, const struct repository *repo, char **out_policy,
				   char **out_results, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT policy_text, results FROM lifecycle_previews WHERE repository_id = ?");
	int status = LCR_OK;

	*out_policy = *out_results = NULL;
	if (stmt == NULL)
		return registry_db_error(reg, "read lifecycle preview", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		*out_policy = strdup((const char *)sqlite3_column_text(stmt, 0));
		*out_results = strdup((const char *)sqlite3_column_text(stmt, 1));
		if (*out_policy == NULL || *out_results == NULL)
			status = LCR_ERR_INTERNAL;
	} else {
		status = lcr_fail(LCR_ERR_LIFECYCLE_PREVIEW_NOT_FOUND, err, errlen,
				  "Lifecycle policy preview does not exist for the repository with name '%s' in the "
				  "registry with id '%s'",
				  repo->name, repo->registry_id);
	}
	sqlite3_finalize(stmt);
	return status;
}

int registry_lifecycle_preview_set(struct registry *reg, const struct repository *repo, const char *policy,
				   const char *results, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"INSERT INTO lifecycle_previews (repository_id, policy_text, results, created_at) VALUES (?, ?, ?, ?)"
		" ON CONFLICT (repository_id) DO UPDATE SET policy_text = excluded.policy_text,"
		" results = excluded.results, created_at = excluded.created_at");
	int rc;

	if (stmt == NULL)
		return registry_db_error(reg, "write lifecycle preview", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	sqlite3_bind_text(stmt, 2, policy, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, results, -1, SQLITE_STATIC);
	sqlite3_bind_double(stmt, 4, clock_now());
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : registry_db_error(reg, "write lifecycle preview", err, errlen);
}

int registry_lifecycle_repositories(struct registry *reg, struct repository **out, size_t *out_count, char *err,
				    size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT registry_id, region, name FROM repositories WHERE lifecycle_policy IS NOT NULL ORDER BY id");
	struct repository *list = NULL;
	size_t n = 0;

	*out = NULL;
	*out_count = 0;
	if (stmt == NULL)
		return registry_db_error(reg, "list lifecycle repositories", err, errlen);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		struct repository *grown = realloc(list, (n + 1) * sizeof(*list));

		if (grown == NULL)
			break;
		list = grown;
		if (registry_repository_get(reg, (const char *)sqlite3_column_text(stmt, 0),
					    (const char *)sqlite3_column_text(stmt, 1), (const char *)sqlite3_column_text(stmt, 2),
					    &list[n], err, errlen) == LCR_OK)
			n++;
	}
	sqlite3_finalize(stmt);
	*out = list;
	*out_count = n;
	return LCR_OK;
}
