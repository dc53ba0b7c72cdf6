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

#include "../common/status.h"

static int repository_policy_missing(const struct repository *repo, char *err, size_t errlen)
{
	return lcr_fail(LCR_ERR_REPOSITORY_POLICY_NOT_FOUND, err, errlen,
			"Repository policy does not exist for the repository with name '%s' in the registry with id "
			"'%s'",
			repo->name, repo->registry_id);
}

int registry_repository_policy_get(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				   size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT policy_text FROM repositories WHERE id = ?");
	int status;

	*out_text = NULL;
	if (stmt == NULL)
		return registry_db_error(reg, "read repository policy", err, errlen);
	sqlite3_bind_int64(stmt, 1, repo->id);
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
		*out_text = strdup((const char *)sqlite3_column_text(stmt, 0));
		status = *out_text != NULL ? LCR_OK : LCR_ERR_INTERNAL;
	} else {
		status = repository_policy_missing(repo, err, errlen);
	}
	sqlite3_finalize(stmt);
	return status;
}

static int write_repository_policy(struct registry *reg, const struct repository *repo, const char *text, char *err,
				   size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "UPDATE repositories SET policy_text = ? WHERE id = ?");
	int rc;

	if (stmt == NULL)
		return registry_db_error(reg, "write repository policy", err, errlen);
	if (text != NULL)
		sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 1);
	sqlite3_bind_int64(stmt, 2, repo->id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : registry_db_error(reg, "write repository policy", err, errlen);
}

int registry_repository_policy_set(struct registry *reg, const struct repository *repo, const char *text, char *err,
				   size_t errlen)
{
	return write_repository_policy(reg, repo, text, err, errlen);
}

int registry_repository_policy_delete(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				      size_t errlen)
{
	int status = registry_repository_policy_get(reg, repo, out_text, err, errlen);

	if (status == LCR_OK)
		status = write_repository_policy(reg, repo, NULL, err, errlen);
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
