/*
 * scanner.h - image scanning: read an image's layers, list the packages
 * installed, match them against a vulnerability database in OSV format and
 * produce findings.
 *
 * Pure code with respect to the server: it reads blob files and a database
 * folder, and does not depend on HTTP or on the metadata database.  The
 * server runs scans on worker threads and turns findings into ECR's basic
 * and enhanced shapes.
 */
#ifndef LCR_SCANNER_H
#define LCR_SCANNER_H

#include <stdbool.h>
#include <stddef.h>

/* One layer of the image, in order (base first). */
struct scan_layer {
	const char *path;        /* the blob file */
	const char *digest;      /* sha256:... of the blob */
	const char *media_type;  /* selects gzip, zstd or plain tar; "" to sniff */
};

/* One installed package. */
struct scan_package {
	char *name;
	char *version;          /* as the package manager writes it, epoch included */
	char *source_name;      /* dpkg Source, apk origin, rpm source; NULL if none */
	char *arch;             /* NULL if unknown */
	char *ecosystem;        /* OSV ecosystem: "Debian:12", "Alpine:v3.19", "Red Hat", "PyPI", "npm", "Maven" */
	char *package_manager;  /* ECR enhanced-finding value: "OS", "PYTHONPKG", "NODEPKG", "JAR" */
	char *layer_digest;     /* the layer that installed it (its last change) */
	char *path;             /* the file it was read from, e.g. var/lib/dpkg/status */
	char *source_version;   /* dpkg "Source: name (version)"; NULL when the source has the binary's version */
};

struct scan_inventory {
	char os_id[64];          /* os-release ID, "" when no os-release was found */
	char os_version[64];     /* os-release VERSION_ID */
	char os_pretty[128];     /* PRETTY_NAME */
	bool os_supported;       /* in ECR's basic-scanning support table */
	struct scan_package *packages;
	size_t npackages;
};

/* Read the layers in order, applying whiteouts (.wh.<name>) and opaque
 * directories (.wh..wh..opq), and list the packages of the final file
 * system: dpkg status and status.d, apk installed, the SQLite rpm database,
 * Python dist-info/egg-info METADATA, npm package.json under node_modules,
 * and pom.properties inside jar files.  Returns an lcr_status; err names
 * the layer and file on failure.  The statuses are LCR_ERR_INTERNAL when a
 * blob file cannot be opened, LCR_ERR_UNSUPPORTED for a layer that is not a
 * plain or compressed tar archive (or is encrypted), and
 * LCR_ERR_LIMIT_EXCEEDED when the files kept for the inventory pass
 * 512 MiB.  OS packages are listed whether or not os_supported is set. */
int scanner_inventory(const struct scan_layer *layers, size_t nlayers, struct scan_inventory *out, char *err,
		      size_t errlen);
void scanner_inventory_release(struct scan_inventory *inv);

/* The vulnerability database: every *.json OSV file under a folder.
 * vuln_db_load fails with LCR_ERR_INVALID_PARAMETER when the folder cannot
 * be read; files it cannot use are skipped with a warning.  A loaded
 * database is never written, so threads may match against it at once. */
struct vuln_db;
int vuln_db_load(const char *dir, struct vuln_db **out, char *err, size_t errlen);
void vuln_db_free(struct vuln_db *db);
size_t vuln_db_count(const struct vuln_db *db);
/* Newest "modified" time of the advisories, epoch seconds. */
double vuln_db_updated_at(const struct vuln_db *db);
/* A digest of the loaded content, so a caller can tell a changed
 * database from a reloaded same one. */
const char *vuln_db_fingerprint(const struct vuln_db *db);

enum scan_severity {
	SCAN_SEVERITY_INFORMATIONAL,
	SCAN_SEVERITY_LOW,
	SCAN_SEVERITY_MEDIUM,
	SCAN_SEVERITY_HIGH,
	SCAN_SEVERITY_CRITICAL,
	SCAN_SEVERITY_UNDEFINED
};
const char *scan_severity_name(enum scan_severity s); /* "CRITICAL", ... */

/* One vulnerability affecting one installed package. */
struct scan_finding {
	char *id;               /* the CVE alias when the advisory has one, else the OSV id */
	char *advisory_id;      /* the OSV id */
	char *summary;
	char *description;
	char *uri;              /* first reference, or the advisory's own page */
	enum scan_severity severity;
	double cvss_score;      /* 0 when unknown */
	char *cvss_vector;      /* NULL when unknown */
	char *cvss_version;     /* "3.1", "3.0", "2.0"; NULL when unknown */
	char *fixed_version;    /* NULL when no fix is known */
	char **references;
	size_t nreferences;
	char **aliases;
	size_t naliases;
	double published;       /* epoch seconds, 0 when unknown */
	double modified;
	const struct scan_package *package; /* points into the inventory */
};

/* Match every package of inv against db (ecosystem, name, and the
 * affected ranges and versions with the ecosystem's version order). */
int vuln_db_match(const struct vuln_db *db, const struct scan_inventory *inv, struct scan_finding **out,
		  size_t *out_count);
void scan_findings_free(struct scan_finding *findings, size_t n);

/* Compare versions in an ecosystem's order: dpkg for Debian/Ubuntu, apk
 * for Alpine, rpm for Red Hat family, PEP 440 for PyPI, SemVer for npm and
 * others.  Returns <0, 0 or >0. */
int version_compare(const char *ecosystem, const char *a, const char *b);

#endif
