/*
 * scanner_int.h - what the scanner's own files share: the string map, the
 * set of files kept from the layers, the package database parsers and the
 * per-scheme version comparisons.
 *
 * The scan runs in two passes.  layers.c streams every layer once, in order,
 * and keeps in memory only the files a parser needs (scan_path_classify
 * decides which), applying whiteouts as it goes.  inventory.c then parses
 * the kept files of the final file system into packages.  Nothing here is
 * thread-shared: each scan owns its file set, and a loaded vuln_db is only
 * read after vuln_db_load returns.
 */
#ifndef LCR_SCANNER_INT_H
#define LCR_SCANNER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scanner.h"

/* Per-file caps on what the layer reader keeps, in bytes.  A file over its
 * cap is skipped with a warning, except Python METADATA, whose headers come
 * first: only its first SCAN_CAP_PYTHON_METADATA bytes are kept.  A jar is
 * read whole into a temporary buffer, and only its pom.properties files are
 * kept. */
#define SCAN_CAP_OS_RELEASE (64u * 1024)
#define SCAN_CAP_DPKG_STATUS (64u * 1024 * 1024)
#define SCAN_CAP_DPKG_STATUS_D (1024u * 1024)
#define SCAN_CAP_APK_INSTALLED (64u * 1024 * 1024)
#define SCAN_CAP_RPMDB (256u * 1024 * 1024)
#define SCAN_CAP_PYTHON_METADATA (256u * 1024)
#define SCAN_CAP_NPM_PACKAGE_JSON (1024u * 1024)
#define SCAN_CAP_JAR (64u * 1024 * 1024)
#define SCAN_CAP_NESTED_JAR (16u * 1024 * 1024)
#define SCAN_CAP_POM_PROPERTIES (64u * 1024)

/* Cap on the bytes kept for all files of one scan at once; a scan that
 * passes it fails with LCR_ERR_LIMIT_EXCEEDED. */
#define SCAN_MAX_KEPT_BYTES (512u * 1024 * 1024)

/* A string-keyed hash map with open addressing.  Keys are copied; values
 * are borrowed pointers.  There is no removal: the scanner marks entries
 * absent instead. */
struct str_map_slot {
	char *key;
	void *value;
	uint64_t hash;
};

struct str_map {
	struct str_map_slot *slots;
	size_t cap;   /* a power of two, or 0 before the first put */
	size_t count;
};

void str_map_init(struct str_map *m);
/* Free the keys and, when free_value is not NULL, every value. */
void str_map_release(struct str_map *m, void (*free_value)(void *));
/* Set key to value, replacing an existing value; false when out of memory. */
bool str_map_put(struct str_map *m, const char *key, void *value);
/* True when key is present; *out_value (when not NULL) gets its value. */
bool str_map_find(const struct str_map *m, const char *key, void **out_value);

/* Kinds of files the inventory reads. */
enum scan_file_kind {
	SCAN_FILE_NONE = -1,
	SCAN_FILE_OS_RELEASE,
	SCAN_FILE_DPKG_STATUS,
	SCAN_FILE_DPKG_STATUS_D,
	SCAN_FILE_APK_INSTALLED,
	SCAN_FILE_RPMDB_SQLITE,
	SCAN_FILE_PYTHON_METADATA,
	SCAN_FILE_NPM_PACKAGE_JSON,
	SCAN_FILE_JAR
};

/* Classify a normalized path (no leading "/" or "./", no "." or ".."
 * components).  Returns SCAN_FILE_NONE for a path the inventory ignores,
 * else the kind, with its per-file cap in *out_cap. */
enum scan_file_kind scan_path_classify(const char *path, size_t *out_cap);

/* An earlier version of a package database file, reduced to the keys
 * (scan_package_key) of the packages it listed.  It lets the inventory
 * report the layer that last changed each package instead of the layer
 * that last rewrote the whole database. */
struct scan_file_version {
	size_t layer;
	struct str_map keys;
};

/* One kept file.  For a jar, data contains the pom.properties files found in
 * it, each preceded by a line SCAN_POM_MARKER "<path inside the jar>", and
 * its packages get the path "<jar>!<path inside the jar>". */
struct scan_file {
	char *path;
	enum scan_file_kind kind;
	bool present;        /* false once a later layer deleted or replaced it */
	size_t layer;        /* index into the layer array of its last change */
	unsigned char *data; /* NUL-terminated, len excludes the terminator */
	size_t len;
	struct scan_file_version *history; /* oldest first */
	size_t nhistory;
};

#define SCAN_POM_MARKER "#localecr-pom "

struct scan_file_set {
	struct str_map files;     /* path -> struct scan_file */
	struct str_map kept_dirs; /* every directory that contains or contained a kept file */
	size_t kept_bytes;
};

void scan_file_set_init(struct scan_file_set *set);
void scan_file_set_release(struct scan_file_set *set);

/* Stream the layers in order into set, applying whiteouts.  Returns
 * LCR_OK, LCR_ERR_INTERNAL when a blob file cannot be read,
 * LCR_ERR_UNSUPPORTED for a layer that is not a (compressed) tar, or
 * LCR_ERR_LIMIT_EXCEEDED past SCAN_MAX_KEPT_BYTES; err names the layer. */
int scan_layers_read(const struct scan_layer *layers, size_t nlayers, struct scan_file_set *set, char *err,
		     size_t errlen);

/* Append the pom.properties files found in the jar (data, len) to out as
 * described for struct scan_file, descending into jars nested in it up to
 * depth levels.  Each marker line names the file inside the jar, after
 * prefix (the path of a nested jar and "!").  Stops at the first append
 * that fails (out's maximum or out of memory).  Returns the number of
 * pom.properties files appended. */
struct buf;
size_t jar_extract_poms(const void *data, size_t len, int depth, const char *prefix, struct buf *out);

/* A growable list of packages. */
struct package_list {
	struct scan_package *items;
	size_t count;
	size_t cap;
};

/* The values the parsers stamp on every package of one file.  ecosystem
 * may be NULL for parsers that set their own (PyPI, npm, Maven). */
struct package_origin {
	const char *ecosystem;
	const char *layer_digest;
	const char *path;
};

void package_list_release(struct package_list *list);

/* The package database parsers.  Each reads data (len bytes, not
 * necessarily NUL-terminated) and appends what it finds to list.  Entries
 * it cannot read are skipped, so it returns false only when out of
 * memory. */
bool inventory_parse_dpkg(const char *data, size_t len, bool status_d, const struct package_origin *origin,
			  struct package_list *list);
bool inventory_parse_apk(const char *data, size_t len, const struct package_origin *origin,
			 struct package_list *list);
bool inventory_parse_python(const char *data, size_t len, const struct package_origin *origin,
			    struct package_list *list);
bool inventory_parse_npm(const char *data, size_t len, const struct package_origin *origin,
			 struct package_list *list);
bool inventory_parse_poms(const char *data, size_t len, const struct package_origin *origin,
			  struct package_list *list);
/* The SQLite rpm database.  data must be writable: the reader marks a
 * write-ahead-log database as a rollback-journal one in place, because
 * SQLite's in-memory database cannot open WAL mode. */
bool inventory_parse_rpmdb(unsigned char *data, size_t len, const struct package_origin *origin,
			   struct package_list *list);
/* Read one rpm header blob (as stored in the rpmdb Packages table) and
 * append its package to list.  A malformed blob, one without a name and
 * the gpg-pubkey pseudo-packages are skipped.  Returns false only when out
 * of memory. */
bool rpm_header_read(const unsigned char *blob, size_t len, const struct package_origin *origin,
		     struct package_list *list);

/* Append a package with copies of the given strings; source_name,
 * source_version and arch may be NULL.  False when out of memory. */
bool package_list_add(struct package_list *list, const struct package_origin *origin, const char *name,
		      const char *version, const char *source_name, const char *source_version, const char *arch,
		      const char *package_manager);

/* Parse a kept file of a package database kind into list, dispatching on
 * kind; ecosystem is the OS ecosystem for OS package databases. */
bool inventory_parse_file(enum scan_file_kind kind, unsigned char *data, size_t len,
			  const struct package_origin *origin, struct package_list *list);

/* Write "name\x1fversion\x1farch" of p into key (size keylen). */
void scan_package_key(const struct scan_package *p, char *key, size_t keylen);

/* os-release: the fields the inventory uses. */
struct os_release {
	char id[64];
	char version_id[64];
	char pretty_name[128];
	char id_like[128];
};

void os_release_parse(const char *data, size_t len, struct os_release *out);
/* True when id and version_id are in ECR's basic-scanning support table. */
bool os_release_supported(const char *id, const char *version_id);
/* The OSV ecosystem for the OS packages of this os-release, e.g.
 * "Debian:12", "Alpine:v3.19", "Rocky Linux:9", into out (size outlen).
 * package_manager is "dpkg", "apk" or "rpm", and picks a family when the
 * os-release is missing or unknown. */
void os_ecosystem(const struct os_release *os, const char *package_manager, char *out, size_t outlen);

/* Version comparison per scheme; each returns <0, 0 or >0 and accepts any
 * string, ordering invalid versions consistently. */
int version_compare_dpkg(const char *a, const char *b);
int version_compare_apk(const char *a, const char *b);
int version_compare_rpm(const char *a, const char *b);
int version_compare_pep440(const char *a, const char *b);
int version_compare_semver(const char *a, const char *b);

/* ---- the loaded OSV database (osv.c loads it, match.c reads it) ---- */

enum osv_event_type {
	OSV_EVENT_INTRODUCED,
	OSV_EVENT_FIXED,
	OSV_EVENT_LAST_AFFECTED,
	OSV_EVENT_LIMIT
};

struct osv_event {
	enum osv_event_type type;
	char *version;
};

/* A range of type ECOSYSTEM or SEMVER; GIT ranges are dropped at load,
 * because commits cannot be compared with installed versions.  Events are
 * sorted at load in the range's version order, with "introduced: 0"
 * first. */
struct osv_range {
	bool semver;
	struct osv_event *events;
	size_t nevents;
};

/* A severity and the evidence for it, ranked: a CVSS v3 vector (3) beats
 * a CVSS v2 vector (2), which beats a severity word (1).  Rank 0 means no
 * severity was found. */
struct osv_severity {
	int rank;
	enum scan_severity severity;
	double score;
	char *vector;
	const char *version; /* static "3.1", "3.0" or "2.0"; NULL without a vector */
};

struct osv_affected {
	char *ecosystem;
	char *name;
	struct osv_range *ranges;
	size_t nranges;
	size_t ngit_ranges;
	char **versions;
	size_t nversions;
	struct osv_severity severity;
};

struct osv_advisory {
	char *id;
	char *finding_id; /* the CVE alias (or upstream id) when there is one, else id */
	char *summary;
	char *details;
	char **aliases;
	size_t naliases;
	char **references;
	size_t nreferences;
	double published;
	double modified;
	struct osv_severity severity;
	struct osv_affected *affected;
	size_t naffected;
};

/* One place a package name appears: the advisory and affected entry
 * indexes. */
struct osv_index_entry {
	size_t advisory;
	size_t affected;
};

struct osv_index_list {
	struct osv_index_entry *items;
	size_t count;
	size_t cap;
};

struct vuln_db {
	struct osv_advisory *advisories;
	size_t count;
	size_t cap;
	struct str_map index; /* osv_index_key -> struct osv_index_list */
	double updated_at;
	char fingerprint[80];
};

/* The index key of a package: its ecosystem's name before any ":", a
 * 0x1f separator and the name, normalized for PyPI as PEP 503 does
 * (lowercase, runs of "-", "_" and "." as one "-"). */
void osv_index_key(const char *ecosystem, const char *name, char *out, size_t outlen);

/* True when an advisory's affected ecosystem covers a package's: the same
 * name, and either no release in the advisory ("Debian"), the same release
 * ("Debian:12"), or the package's release extended ("Ubuntu:22.04:LTS" for
 * "Ubuntu:22.04"). */
bool osv_ecosystem_applies(const char *advisory_ecosystem, const char *package_ecosystem);

/* Severity words as OSV databases write them ("HIGH", "Moderate",
 * "important", "negligible"); SCAN_SEVERITY_UNDEFINED for others. */
enum scan_severity severity_from_word(const char *word);
/* The severity of a CVSS score, with CRITICAL only for version 3. */
enum scan_severity severity_from_score(double score, bool version3);

/* CVSS base scores; false when the vector is not a valid base vector of
 * that version.  out_version gets "3.0" or "3.1" for version 3. */
bool cvss3_base_score(const char *vector, double *out_score, const char **out_version);
bool cvss2_base_score(const char *vector, double *out_score);

#endif
