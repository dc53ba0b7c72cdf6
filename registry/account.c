/*
 * account.c - per-registry account settings (GetAccountSetting and
 * PutAccountSetting).
 *
 * Each setting has a fixed set of values and a default that applies until
 * it is first written.  The names, values and defaults follow the ECR API
 * model (PutAccountSetting).  BLOB_MOUNTING starts DISABLED because ECR
 * requires registries to opt in to it.
 */
#include "registry_int.h"

#include <stdio.h>
#include <string.h>

#include "../common/status.h"

struct setting_rule {
	const char *name;
	const char *default_value;
	const char *values[3];
};

static const struct setting_rule setting_rules[] = {
	{"BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE", {"AWS_NATIVE", "CLAIR", NULL}},
	{"REGISTRY_POLICY_SCOPE", "V2", {"V1", "V2", NULL}},
	{"BLOB_MOUNTING", "DISABLED", {"ENABLED", "DISABLED", NULL}},
};

static const struct setting_rule *find_rule(const char *name)
{
	for (size_t i = 0; i < sizeof(setting_rules) / sizeof(setting_rules[0]); i++)
		if (strcmp(setting_rules[i].name, name) == 0)
			return &setting_rules[i];
	return NULL;
}

int registry_account_setting_check(const char *name, const char *value, char *err, size_t errlen)
{
	const struct setting_rule *rule = find_rule(name);

	if (rule == NULL)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
				"Invalid parameter at 'name' failed to satisfy constraint: 'Member must satisfy enum "
				"value set: [BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE, BLOB_MOUNTING]'");
	if (value == NULL)
		return LCR_OK;
	for (size_t i = 0; rule->values[i] != NULL; i++)
		if (strcmp(rule->values[i], value) == 0)
			return LCR_OK;
	return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
			"Invalid parameter at 'value' failed to satisfy constraint: 'Value '%s' is not valid for "
			"account setting %s; expected %s%s%s'",
			value, name, rule->values[0], rule->values[1] ? " or " : "", rule->values[1] ? rule->values[1] : "");
}

int registry_account_setting_get(struct registry *reg, const char *registry_id, const char *region, const char *name,
				 char *out, size_t outlen, char *err, size_t errlen)
{
	const struct setting_rule *rule = find_rule(name);
	sqlite3_stmt *stmt;
	int status = registry_account_setting_check(name, NULL, err, errlen);

	if (status != LCR_OK)
		return status;
	snprintf(out, outlen, "%s", rule->default_value);
	stmt = registry_prepare(reg,
		"SELECT value FROM account_settings WHERE registry_id = ? AND region = ? AND name = ?");
	if (stmt == NULL)
		return registry_db_error(reg, "read account setting", err, errlen);
	sqlite3_bind_text(stmt, 1, registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, name, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		snprintf(out, outlen, "%s", sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return LCR_OK;
}

int registry_account_setting_put(struct registry *reg, const char *registry_id, const char *region, const char *name,
				 const char *value, char *err, size_t errlen)
{
	sqlite3_stmt *stmt;
	int status = registry_account_setting_check(name, value, err, errlen);
	int rc;

	if (status != LCR_OK)
		return status;
	stmt = registry_prepare(reg,
		"INSERT INTO account_settings (registry_id, region, name, value) VALUES (?, ?, ?, ?)"
		" ON CONFLICT (registry_id, region, name) DO UPDATE SET value = excluded.value");
	if (stmt == NULL)
		return registry_db_error(reg, "write account setting", err, errlen);
	sqlite3_bind_text(stmt, 1, registry_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : registry_db_error(reg, "write account setting", err, errlen);
}
