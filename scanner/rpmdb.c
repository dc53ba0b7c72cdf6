/*
 * rpmdb.c - the SQLite rpm database (rpm 4.16 and later, as in RHEL 9,
 * Fedora 33+, Amazon Linux 2023 and Rocky/Alma 9).
 *
 * The database has a Packages table (hnum INTEGER PRIMARY KEY, blob BLOB)
 * whose blobs are rpm headers without the lead and the header magic:
 *   uint32 il, uint32 dl            entry count and data length, big-endian
 *   il entries of 16 bytes          int32 tag, uint32 type, int32 offset,
 *                                   uint32 count, all big-endian
 *   dl bytes of data                strings NUL-terminated, integers
 *                                   big-endian, at their entry's offset
 * The tags read are NAME (1000), VERSION (1001), RELEASE (1002), EPOCH
 * (1003, INT32), ARCH (1022) and SOURCERPM (1044, "name-version-release
 * .src.rpm").
 * NOTE: the Berkeley DB (var/lib/rpm/Packages, RHEL 8, Amazon Linux 2) and
 * NDB (SUSE) rpm databases are not read, so those images list no OS
 * packages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "../common/log.h"
#include "scanner_int.h"

enum {
	RPMTAG_NAME = 1000,
	RPMTAG_VERSION = 1001,
	RPMTAG_RELEASE = 1002,
	RPMTAG_EPOCH = 1003,
	RPMTAG_ARCH = 1022,
	RPMTAG_SOURCERPM = 1044,
};

enum {
	RPM_INT32_TYPE = 4,
	RPM_STRING_TYPE = 6,
};

/* rpm's own limits on a header's entry count and data length. */
#define RPM_HEADER_MAX_ENTRIES 0xffff
#define RPM_HEADER_MAX_DATA 0x0fffffff

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct rpm_fields {
	const char *name, *version, *release, *arch, *sourcerpm;
	bool has_epoch;
	uint32_t epoch;
};

/* The NUL-terminated string at offset in data, or NULL when it runs out. */
static const char *data_string(const unsigned char *data, size_t dl, uint32_t offset)
{
	if (offset >= dl || memchr(data + offset, '\0', dl - offset) == NULL)
		return NULL;
	return (const char *)data + offset;
}

static bool header_fields(const unsigned char *blob, size_t len, struct rpm_fields *out)
{
	uint32_t il, dl;
	const unsigned char *data;

	memset(out, 0, sizeof(*out));
	if (len < 8)
		return false;
	il = be32(blob);
	dl = be32(blob + 4);
	if (il == 0 || il > RPM_HEADER_MAX_ENTRIES || dl > RPM_HEADER_MAX_DATA || 8 + (size_t)il * 16 + dl > len)
		return false;
	data = blob + 8 + (size_t)il * 16;
	for (uint32_t i = 0; i < il; i++) {
		const unsigned char *entry = blob + 8 + (size_t)i * 16;
		uint32_t tag = be32(entry), type = be32(entry + 4), offset = be32(entry + 8), count = be32(entry + 12);

		if (tag == RPMTAG_EPOCH && type == RPM_INT32_TYPE && count >= 1 && offset <= dl && dl - offset >= 4) {
			out->epoch = be32(data + offset);
			out->has_epoch = true;
			continue;
		}
		if (type != RPM_STRING_TYPE)
			continue;
		if (tag == RPMTAG_NAME)
			out->name = data_string(data, dl, offset);
		else if (tag == RPMTAG_VERSION)
			out->version = data_string(data, dl, offset);
		else if (tag == RPMTAG_RELEASE)
			out->release = data_string(data, dl, offset);
		else if (tag == RPMTAG_ARCH)
			out->arch = data_string(data, dl, offset);
		else if (tag == RPMTAG_SOURCERPM)
			out->sourcerpm = data_string(data, dl, offset);
	}
	return out->name != NULL && out->name[0] != '\0' && out->version != NULL;
}

/* Split "openssl-3.0.7-25.el9.src.rpm" into the source name "openssl" and
 * its "3.0.7-25.el9"; false when it has not that shape. */
static bool sourcerpm_split(const char *sourcerpm, char *name, size_t namelen, char *evr, size_t evrlen)
{
	size_t len = strlen(sourcerpm);
	const char *release_dash = NULL, *version_dash = NULL;

	if (len > strlen(".src.rpm") && strcmp(sourcerpm + len - strlen(".src.rpm"), ".src.rpm") == 0)
		len -= strlen(".src.rpm");
	else if (len > strlen(".nosrc.rpm") && strcmp(sourcerpm + len - strlen(".nosrc.rpm"), ".nosrc.rpm") == 0)
		len -= strlen(".nosrc.rpm");
	else
		return false;
	for (size_t i = len; i > 0; i--) {
		if (sourcerpm[i - 1] != '-')
			continue;
		if (release_dash == NULL) {
			release_dash = sourcerpm + i - 1;
		} else {
			version_dash = sourcerpm + i - 1;
			break;
		}
	}
	if (version_dash == NULL || version_dash == sourcerpm)
		return false;
	snprintf(name, namelen, "%.*s", (int)(version_dash - sourcerpm), sourcerpm);
	snprintf(evr, evrlen, "%.*s", (int)(sourcerpm + len - version_dash - 1), version_dash + 1);
	return true;
}

bool rpm_header_read(const unsigned char *blob, size_t len, const struct package_origin *origin,
		     struct package_list *list)
{
	struct rpm_fields f;
	char *version = NULL, *source_version = NULL;
	char source_name[256], source_evr[256];
	bool has_source, ok = false;
	int n;

	if (!header_fields(blob, len, &f) || strcmp(f.name, "gpg-pubkey") == 0)
		return true;
	if (f.has_epoch)
		n = asprintf(&version, "%u:%s%s%s", f.epoch, f.version, f.release ? "-" : "", f.release ? f.release : "");
	else
		n = asprintf(&version, "%s%s%s", f.version, f.release ? "-" : "", f.release ? f.release : "");
	if (n < 0)
		return false;
	has_source = f.sourcerpm != NULL &&
		     sourcerpm_split(f.sourcerpm, source_name, sizeof(source_name), source_evr, sizeof(source_evr));
	/* A source rpm's file name has no epoch; it shares the binary's. */
	if (has_source && f.has_epoch)
		n = asprintf(&source_version, "%u:%s", f.epoch, source_evr);
	else if (has_source)
		n = asprintf(&source_version, "%s", source_evr);
	if (n < 0)
		goto done;
	if (source_version != NULL && strcmp(source_version, version) == 0) {
		free(source_version);
		source_version = NULL;
	}
	ok = package_list_add(list, origin, f.name, version, has_source ? source_name : NULL, source_version, f.arch,
			      "OS");
done:
	free(version);
	free(source_version);
	return ok;
}

bool inventory_parse_rpmdb(unsigned char *data, size_t len, const struct package_origin *origin,
			   struct package_list *list)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	bool ok = true;
	int rc;

	/* The database header: 16 bytes of magic, and at offsets 18 and 19 the
	 * write and read format versions, 2 for write-ahead logging. */
	if (len < 100 || memcmp(data, "SQLite format 3", 16) != 0) {
		log_warn("scanner: %s is not an SQLite database", origin->path);
		return true;
	}
	if (data[18] == 2)
		data[18] = 1;
	if (data[19] == 2)
		data[19] = 1;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		ok = false;
		goto done;
	}
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	rc = sqlite3_deserialize(db, "main", data, (sqlite3_int64)len, (sqlite3_int64)len, SQLITE_DESERIALIZE_READONLY);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT blob FROM Packages", -1, &stmt, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(stmt, 0);
		int blob_len = sqlite3_column_bytes(stmt, 0);

		rc = SQLITE_OK;
		if (blob != NULL && blob_len > 0 && !rpm_header_read(blob, (size_t)blob_len, origin, list)) {
			ok = false;
			goto done;
		}
	}
	if (rc != SQLITE_DONE)
		log_warn("scanner: cannot read the rpm database %s: %s", origin->path, sqlite3_errmsg(db));
done:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return ok;
}
