/*
 * report.c - `localecr report findings`: the findings of every completed
 * scan across repositories, filtered by minimum severity and repository,
 * as a table, JSON lines or CSV.  It reads the data directory directly and
 * is safe while a server runs.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/status.h"

struct report {
	int min_rank;
	const char *repository;
	enum { REPORT_TABLE, REPORT_JSON, REPORT_CSV } format;
	int rows;
};

static int severity_rank(const char *s)
{
	static const char *const order[] = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"};

	for (int i = 0; i < 5; i++)
		if (s != NULL && strcmp(s, order[i]) == 0)
			return i;
	return -1; /* UNDEFINED and unknown values rank lowest */
}

static const char *attribute(json_t *finding, const char *key)
{
	json_t *attrs = json_object_get(finding, "attributes"), *a;
	size_t i;

	json_array_foreach(attrs, i, a)
		if (strcmp(json_string_value(json_object_get(a, "key")) ? json_string_value(json_object_get(a, "key")) : "",
			   key) == 0)
			return json_string_value(json_object_get(a, "value"));
	return "";
}

/* Quote a CSV field when it needs it. */
static void csv_field(const char *s, bool last)
{
	if (strpbrk(s, ",\"\n") != NULL) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else {
		fputs(s, stdout);
	}
	putchar(last ? '\n' : ',');
}

static int report_image(void *ctx, const char *repository, const char *digest, const char *tags, const char *findings)
{
	struct report *r = ctx;
	json_t *root = json_loads(findings, 0, NULL), *f;
	size_t i;

	if (r->repository != NULL && strcmp(r->repository, repository) != 0) {
		json_decref(root);
		return 0;
	}
	json_array_foreach(json_object_get(root, "findings"), i, f) {
		const char *severity = json_string_value(json_object_get(f, "severity"));
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *package = attribute(f, "package_name"), *version = attribute(f, "package_version");

		if (severity_rank(severity) < r->min_rank)
			continue;
		r->rows++;
		if (r->format == REPORT_JSON) {
			json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "repositoryName", repository,
						"imageDigest", digest, "imageTags", tags, "severity", severity ? severity : "",
						"name", name ? name : "", "packageName", package, "packageVersion", version);
			char *text = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);

			printf("%s\n", text ? text : "{}");
			free(text);
			json_decref(row);
		} else if (r->format == REPORT_CSV) {
			csv_field(repository, false);
			csv_field(digest, false);
			csv_field(tags, false);
			csv_field(severity ? severity : "", false);
			csv_field(name ? name : "", false);
			csv_field(package, false);
			csv_field(version, true);
		} else {
			printf("%-30s %-19.19s %-12s %-9s %-18s %s %s\n", repository, digest, tags, severity ? severity : "",
			       name ? name : "", package, version);
		}
	}
	json_decref(root);
	return 0;
}

int report_command(int argc, char **argv, const char *default_data_dir)
{
	struct report r = {severity_rank("INFORMATIONAL") - 1, NULL, REPORT_TABLE, 0};
	const char *data_dir = default_data_dir;
	struct registry *reg = NULL;
	char err[1024], path[1200];

	if (argc < 1 || strcmp(argv[0], "findings") != 0)
		goto usage;
	for (int i = 1; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (value == NULL)
			goto usage;
		if (strcmp(argv[i], "--severity") == 0) {
			r.min_rank = severity_rank(value);
			if (r.min_rank < 0 && strcmp(value, "UNDEFINED") != 0) {
				fprintf(stderr, "localecr: invalid --severity '%s': expected INFORMATIONAL, LOW, MEDIUM, HIGH or "
						"CRITICAL\n", value);
				return 2;
			}
		} else if (strcmp(argv[i], "--repository") == 0) {
			r.repository = value;
		} else if (strcmp(argv[i], "--data-dir") == 0) {
			data_dir = value;
		} else if (strcmp(argv[i], "--format") == 0) {
			if (strcmp(value, "table") == 0)
				r.format = REPORT_TABLE;
			else if (strcmp(value, "json") == 0)
				r.format = REPORT_JSON;
			else if (strcmp(value, "csv") == 0)
				r.format = REPORT_CSV;
			else
				goto usage;
		} else {
			goto usage;
		}
		i++;
	}
	snprintf(path, sizeof(path), "%s/localecr.db", data_dir);
	if (access(path, F_OK) != 0 || registry_open(data_dir, false, &reg, err, sizeof(err)) != LCR_OK) {
		fprintf(stderr, "localecr: no localecr data directory at %s\n", data_dir);
		return 2;
	}
	if (r.format == REPORT_CSV)
		printf("repositoryName,imageDigest,imageTags,severity,name,packageName,packageVersion\n");
	else if (r.format == REPORT_TABLE)
		printf("%-30s %-19s %-12s %-9s %-18s %s\n", "REPOSITORY", "DIGEST", "TAGS", "SEVERITY", "FINDING", "PACKAGE");
	registry_scan_each(reg, report_image, &r);
	registry_close(reg);
	if (r.format == REPORT_TABLE)
		printf("%d finding(s)\n", r.rows);
	return 0;
usage:
	fprintf(stderr, "usage: localecr report findings [--data-dir DIR] [--severity LEVEL] [--repository NAME]\n"
			"           [--format table|json|csv]\n");
	return 2;
}
