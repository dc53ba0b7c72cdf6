/*
 * scan_store.c - scan records, the scan queue and the registry scanning
 * configuration.
 *
 * A scan row exists once a scan was requested; PENDING and IN_PROGRESS
 * rows are the queue, so a restart resumes them.  Findings are stored as
 * the JSON the API returns, with the fingerprint of the vulnerability
 * database that produced them, which is how continuous scanning finds the
 * images to scan again after the database changes.
 */
#include "registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/status.h"

void scan_record_release(struct scan_record *r)
{
	free(r->findings);
	r->findings = NULL;
}

int registry_scan_get(struct registry *reg, int64_t image_id, struct scan_record *out)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT status, description, requested_at, completed_at, findings, db_fingerprint, db_updated_at"
		" FROM scans WHERE image_id = ?");
	int status = LCR_ERR_SCAN_NOT_FOUND;

	memset(out, 0, sizeof(*out));
	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, image_id);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *description = (const char *)sqlite3_column_text(stmt, 1);
		const char *findings = (const char *)sqlite3_column_text(stmt, 4);
		const char *fingerprint = (const char *)sqlite3_column_text(stmt, 5);

		out->image_id = image_id;
		snprintf(out->status, sizeof(out->status), "%s", sqlite3_column_text(stmt, 0));
		snprintf(out->description, sizeof(out->description), "%s", description ? description : "");
		out->requested_at = sqlite3_column_double(stmt, 2);
		out->completed_at = sqlite3_column_double(stmt, 3);
		out->findings = findings ? strdup(findings) : NULL;
		snprintf(out->db_fingerprint, sizeof(out->db_fingerprint), "%s", fingerprint ? fingerprint : "");
		out->db_updated_at = sqlite3_column_double(stmt, 6);
		status = LCR_OK;
	}
	sqlite3_finalize(stmt);
	return status;
}

/* Run sql with ?1 = image_id, ?2..?5 = the strings, ?6 and ?7 = the
 * numbers; a statement binds only the parameters it names (binding one it
 * lacks is a harmless SQLITE_RANGE). */
static int exec_bound(struct registry *reg, const char *sql, int64_t image_id, const char *a, const char *b,
		      const char *c, const char *d, double x, double y)
{
	sqlite3_stmt *stmt = registry_prepare(reg, sql);
	int rc;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, image_id);
	sqlite3_bind_text(stmt, 2, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, c, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, d, -1, SQLITE_STATIC);
	sqlite3_bind_double(stmt, 6, x);
	sqlite3_bind_double(stmt, 7, y);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : LCR_ERR_INTERNAL;
}

int registry_scan_request(struct registry *reg, int64_t image_id)
{
	return exec_bound(reg,
			  "INSERT INTO scans (image_id, status, description, requested_at) VALUES (?1, 'PENDING', NULL, ?6)"
			  " ON CONFLICT (image_id) DO UPDATE SET status = 'PENDING', description = NULL,"
			  " requested_at = ?6, completed_at = NULL, findings = NULL",
			  image_id, NULL, NULL, NULL, NULL, clock_now(), 0);
}

int registry_scan_set_status(struct registry *reg, int64_t image_id, const char *status, const char *description)
{
	return exec_bound(reg,
			  "UPDATE scans SET status = ?2, description = ?3 WHERE image_id = ?1",
			  image_id, status, description, NULL, NULL, 0, 0);
}

int registry_scan_complete(struct registry *reg, int64_t image_id, const char *status, const char *description,
			   const char *findings, const char *db_fingerprint, double db_updated_at)
{
	return exec_bound(reg,
			  "UPDATE scans SET status = ?2, description = ?3, findings = ?4, db_fingerprint = ?5,"
			  " completed_at = ?6, db_updated_at = ?7 WHERE image_id = ?1",
			  image_id, status, description, findings, db_fingerprint, clock_now(), db_updated_at);
}

static int collect_ids(struct registry *reg, const char *sql, const char *bind, int64_t **out, size_t *out_count)
{
	sqlite3_stmt *stmt = registry_prepare(reg, sql);
	int64_t *ids = NULL;
	size_t n = 0;

	*out = NULL;
	*out_count = 0;
	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	if (bind != NULL)
		sqlite3_bind_text(stmt, 1, bind, -1, SQLITE_STATIC);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t *grown = realloc(ids, (n + 1) * sizeof(*ids));

		if (grown == NULL)
			break;
		ids = grown;
		ids[n++] = sqlite3_column_int64(stmt, 0);
	}
	sqlite3_finalize(stmt);
	*out = ids;
	*out_count = n;
	return LCR_OK;
}

int registry_scan_queue(struct registry *reg, int64_t **out, size_t *out_count)
{
	return collect_ids(reg, "SELECT image_id FROM scans WHERE status IN ('PENDING', 'IN_PROGRESS')"
				" ORDER BY requested_at", NULL, out, out_count);
}

int registry_scan_stale(struct registry *reg, const char *fingerprint, int64_t **out, size_t *out_count)
{
	return collect_ids(reg, "SELECT image_id FROM scans WHERE status = 'COMPLETE' AND"
				" (db_fingerprint IS NULL OR db_fingerprint <> ?)", fingerprint, out, out_count);
}

int registry_image_by_id(struct registry *reg, int64_t image_id, struct repository *out_repo, struct image *out_image)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT r.registry_id, r.region, r.name, i.digest FROM images i JOIN repositories r ON r.id = i.repository_id"
		" WHERE i.id = ?");
	char registry_id[REGISTRY_ID_BUF], region[REGION_BUF], name[REPOSITORY_NAME_MAX + 1], digest[DIGEST_BUF], err[256];
	int found;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, image_id);
	found = sqlite3_step(stmt) == SQLITE_ROW;
	if (found) {
		snprintf(registry_id, sizeof(registry_id), "%s", sqlite3_column_text(stmt, 0));
		snprintf(region, sizeof(region), "%s", sqlite3_column_text(stmt, 1));
		snprintf(name, sizeof(name), "%s", sqlite3_column_text(stmt, 2));
		snprintf(digest, sizeof(digest), "%s", sqlite3_column_text(stmt, 3));
	}
	sqlite3_finalize(stmt);
	if (!found || registry_repository_get(reg, registry_id, region, name, out_repo, err, sizeof(err)) != LCR_OK)
		return LCR_ERR_IMAGE_NOT_FOUND;
	return registry_image_get(reg, out_repo, digest, true, out_image, err, sizeof(err));
}

int registry_scanning_config_get(struct registry *reg, const char *registry_id, const char *region, char *out_type,
				 size_t typelen, char **out_rules)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT scan_type, rules FROM scanning_configurations WHERE registry_id = ? AND region = ?");

	snprintf(out_type, typelen, "BASIC");
	*out_rules = NULL;
	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_text(stmt, 1, registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, region, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		snprintf(out_type, typelen, "%s", sqlite3_column_text(stmt, 0));
		*out_rules = strdup((const char *)sqlite3_column_text(stmt, 1));
	}
	sqlite3_finalize(stmt);
	if (*out_rules == NULL)
		*out_rules = strdup("[]");
	return *out_rules != NULL ? LCR_OK : LCR_ERR_INTERNAL;
}

int registry_scanning_config_set(struct registry *reg, const char *registry_id, const char *region, const char *type,
				 const char *rules)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"INSERT INTO scanning_configurations (registry_id, region, scan_type, rules) VALUES (?, ?, ?, ?)"
		" ON CONFLICT (registry_id, region) DO UPDATE SET scan_type = excluded.scan_type, rules = excluded.rules");
	int rc;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_text(stmt, 1, registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, rules, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : LCR_ERR_INTERNAL;
}

int registry_repository_set_scan_on_push(struct registry *reg, struct repository *repo, bool scan_on_push)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "UPDATE repositories SET scan_on_push = ? WHERE id = ?");
	int rc;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int(stmt, 1, scan_on_push);
	sqlite3_bind_int64(stmt, 2, repo->id);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return LCR_ERR_INTERNAL;
	repo->scan_on_push = scan_on_push;
	return LCR_OK;
}

int registry_scan_each(struct registry *reg, int (*fn)(void *ctx, const char *repository, const char *digest,
						     const char *tags, const char *findings),
		       void *ctx)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT r.name, i.digest, (SELECT group_concat(tag, ',') FROM image_tags t WHERE t.image_id = i.id),"
		" s.findings FROM scans s JOIN images i ON i.id = s.image_id JOIN repositories r ON r.id = i.repository_id"
		" WHERE s.status = 'COMPLETE' ORDER BY r.name, i.pushed_at DESC");
	int status = LCR_OK;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	while (status == LCR_OK && sqlite3_step(stmt) == SQLITE_ROW)
		status = fn(ctx, (const char *)sqlite3_column_text(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
			    sqlite3_column_text(stmt, 2) ? (const char *)sqlite3_column_text(stmt, 2) : "",
			    sqlite3_column_text(stmt, 3) ? (const char *)sqlite3_column_text(stmt, 3) : "{}");
	sqlite3_finalize(stmt);
	return status;
}
