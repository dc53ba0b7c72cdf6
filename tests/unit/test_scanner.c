/*
 * test_scanner.c - layer reading with whiteouts, the package inventory, the
 * OSV database and matching.  The layers (gzip, zstd and plain tar), a jar,
 * an rpm database and an OSV folder are built here in a temporary folder.
 */
#include "check.h"

#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>

#include "../../common/buf.h"
#include "../../common/log.h"
#include "../../common/status.h"
#include "../../scanner/scanner.h"
#include "../../scanner/scanner_int.h"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DIGEST_C "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char workdir[256];

/* ---- building layers ---- */

enum entry_type {
	ENTRY_FILE,
	ENTRY_DIR,
	ENTRY_SYMLINK
};

struct layer_entry {
	const char *path;
	const char *content; /* the link target for a symbolic link */
	size_t len;          /* 0: strlen(content) */
	enum entry_type type;
};

enum compression {
	COMPRESSION_NONE,
	COMPRESSION_GZIP,
	COMPRESSION_ZSTD
};

static bool zstd_written; /* whether the writer supported zstd */

static void layer_write(const char *path, enum compression compression, const struct layer_entry *entries,
			size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	if (compression == COMPRESSION_GZIP)
		archive_write_add_filter_gzip(a);
	if (compression == COMPRESSION_ZSTD)
		zstd_written = archive_write_add_filter_zstd(a) == ARCHIVE_OK;
	CHECK(archive_write_open_filename(a, path) == ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		size_t len = entries[i].type == ENTRY_FILE ?
				     (entries[i].len ? entries[i].len : strlen(entries[i].content)) :
				     0;

		archive_entry_clear(e);
		archive_entry_set_pathname(e, entries[i].path);
		archive_entry_set_mtime(e, 1700000000, 0);
		if (entries[i].type == ENTRY_DIR) {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
		} else if (entries[i].type == ENTRY_SYMLINK) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, entries[i].content);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)len);
		}
		CHECK(archive_write_header(a, e) == ARCHIVE_OK);
		if (len > 0)
			CHECK(archive_write_data(a, entries[i].content, len) == (la_ssize_t)len);
	}
	archive_entry_free(e);
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
}

/* Write a jar (a zip) with a manifest and one more entry into out; returns
 * its length. */
static size_t jar_build_entry(const char *entry_path, const char *content, size_t content_len, char *out,
			      size_t outlen)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	const char *manifest = "Manifest-Version: 1.0\n";
	size_t used = 0;

	archive_write_set_format_zip(a);
	CHECK(archive_write_open_memory(a, out, outlen, &used) == ARCHIVE_OK);
	archive_entry_set_pathname(e, "META-INF/MANIFEST.MF");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(manifest));
	CHECK(archive_write_header(a, e) == ARCHIVE_OK);
	archive_write_data(a, manifest, strlen(manifest));
	archive_entry_clear(e);
	archive_entry_set_pathname(e, entry_path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)content_len);
	CHECK(archive_write_header(a, e) == ARCHIVE_OK);
	archive_write_data(a, content, content_len);
	archive_entry_free(e);
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
	return used;
}

static size_t jar_build(const char *pom_path, const char *pom_text, char *out, size_t outlen)
{
	return jar_build_entry(pom_path, pom_text, strlen(pom_text), out, outlen);
}

static void test_jar_nested_poms(void)
{
	static char inner[8192], outer[16384];
	size_t inner_len = jar_build("META-INF/maven/org.example/inner/pom.properties",
				     "groupId=org.example\nartifactId=inner\nversion=2.0.0\n", inner, sizeof(inner));
	size_t outer_len = jar_build_entry("BOOT-INF/lib/inner-2.0.0.jar", inner, inner_len, outer, sizeof(outer));
	struct package_origin origin = {NULL, DIGEST_A, "app/app.jar"};
	struct package_list list = {0};
	struct buf poms;

	buf_init(&poms, 65536);
	CHECK(jar_extract_poms(outer, outer_len, 1, "", &poms) == 1);
	CHECK(inventory_parse_poms(poms.data, poms.len, &origin, &list));
	CHECK(list.count == 1);
	if (list.count == 1) {
		CHECK_STR(list.items[0].name, "org.example:inner");
		CHECK_STR(list.items[0].version, "2.0.0");
		CHECK_STR(list.items[0].path,
			  "app/app.jar!BOOT-INF/lib/inner-2.0.0.jar!META-INF/maven/org.example/inner/pom.properties");
	}
	package_list_release(&list);
	buf_release(&poms);

	/* Depth 0 does not open nested jars. */
	buf_init(&poms, 65536);
	CHECK(jar_extract_poms(outer, outer_len, 0, "", &poms) == 0);
	buf_release(&poms);
}

static void path_in_workdir(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s", workdir, name);
}

static void file_write(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	path_in_workdir(path, sizeof(path), name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

static const struct scan_package *package_find(const struct scan_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->npackages; i++) {
		if (strcmp(inv->packages[i].name, name) == 0)
			return &inv->packages[i];
	}
	return NULL;
}

/* ---- the Debian image ---- */

static const char debian_os_release[] = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
					"NAME=\"Debian GNU/Linux\"\n"
					"VERSION_ID=\"12\"\n"
					"VERSION=\"12 (bookworm)\"\n"
					"ID=debian\n";

static const char dpkg_status_v1[] = "Package: libssl3\n"
				     "Status: install ok installed\n"
				     "Architecture: amd64\n"
				     "Source: openssl\n"
				     "Version: 3.0.11-1~deb12u2\n"
				     "Description: Secure Sockets Layer toolkit\n"
				     " This package is part of the OpenSSL project.\n"
				     "\n"
				     "Package: libc6\n"
				     "Status: install ok installed\n"
				     "Architecture: amd64\n"
				     "Source: glibc\n"
				     "Version: 2.36-9+deb12u3\n"
				     "\n"
				     "Package: bash\n"
				     "Status: install ok installed\n"
				     "Architecture: amd64\n"
				     "Source: bash (5.2.15-2)\n"
				     "Version: 5.2.15-2+b2\n"
				     "\n"
				     "Package: zlib1g\n"
				     "Status: hold ok installed\n"
				     "Architecture: amd64\n"
				     "Source: zlib\n"
				     "Version: 1:1.2.13.dfsg-1\n"
				     "\n"
				     "Package: removed-pkg\n"
				     "Status: deinstall ok config-files\n"
				     "Architecture: amd64\n"
				     "Version: 1.0-1\n"
				     "\n";

/* Layer 3 installs curl: the others keep layer 1 as their last change. */
static const char dpkg_status_v2[] = "Package: libssl3\n"
				     "Status: install ok installed\n"
				     "Architecture: amd64\n"
				     "Source: openssl\n"
				     "Version: 3.0.11-1~deb12u2\n"
				     "\n"
				     "Package: libc6\n"
				     "Status: install ok installed\n"
				     "Architecture: amd64\n"
				     "Source: glibc\n"
				     "Version: 2.36-9+deb12u3\n"
				     "\n"
				     "Package: bash\n"
				     "Status: install ok installed\n"
				     "Architecture: amd64\n"
				     "Source: bash (5.2.15-2)\n"
				     "Version: 5.2.15-2+b2\n"
				     "\n"
				     "Package: zlib1g\n"
				     "Status: hold ok installed\n"
				     "Architecture: amd64\n"
				     "Source: zlib\n"
				     "Version: 1:1.2.13.dfsg-1\n"
				     "\n"
				     "Package: curl\n"
				     "Status: install ok installed\n"
				     "Architecture: amd64\n"
				     "Version: 7.88.1-10+deb12u5\n";

static char jar_bytes[16384];
static size_t jar_len;

static void debian_layers_write(struct scan_layer layers[3])
{
	static char paths[3][512];

	/* Before the entry tables below, which read jar_len. */
	jar_len = jar_build("META-INF/maven/com.example/demo/pom.properties",
			    "#Generated by Maven\ngroupId=com.example\nartifactId=demo\nversion=1.1.0\n", jar_bytes,
			    sizeof(jar_bytes));

	const struct layer_entry layer1[] = {
		{"./", NULL, 0, ENTRY_DIR},
		{"./usr/lib/os-release", debian_os_release, 0, ENTRY_FILE},
		{"./etc/os-release", "../usr/lib/os-release", 0, ENTRY_SYMLINK},
		{"./var/lib/dpkg/status", dpkg_status_v1, 0, ENTRY_FILE},
		{"./usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA",
		 "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nSummary: HTTP\n\nName: not-this\n", 0, ENTRY_FILE},
		{"./usr/lib/python3/dist-packages/urllib3-1.26.0.dist-info/METADATA",
		 "Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.0\n", 0, ENTRY_FILE},
		{"./usr/lib/python3/dist-packages/six-1.16.0.egg-info", "Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\n",
		 0, ENTRY_FILE},
		{"./app/node_modules/lodash/package.json", "{\"name\": \"lodash\", \"version\": \"4.17.20\"}", 0, ENTRY_FILE},
		{"./app/node_modules/@types/node/package.json", "{\"name\": \"@types/node\", \"version\": \"20.1.0\"}", 0,
		 ENTRY_FILE},
		{"./app/node_modules/lodash/lib/package.json", "{\"name\": \"not-a-package\", \"version\": \"1.0.0\"}", 0,
		 ENTRY_FILE},
		{"./srv/node_modules/left-pad/package.json", "{\"name\": \"left-pad\", \"version\": \"1.3.0\"}", 0,
		 ENTRY_FILE},
		{"./app/lib/demo.jar", jar_bytes, jar_len, ENTRY_FILE},
	};
	const struct layer_entry layer2[] = {
		{"var/lib/dpkg/status.d/tzdata",
		 "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n", 0, ENTRY_FILE},
		{"var/lib/dpkg/status.d/tzdata.md5sums", "0123 usr/share/zoneinfo/UTC\n", 0, ENTRY_FILE},
		{"var/lib/dpkg/status.d/base-files",
		 "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n", 0, ENTRY_FILE},
		{"usr/lib/python3/dist-packages/.wh.urllib3-1.26.0.dist-info", "", 0, ENTRY_FILE},
	};
	const struct layer_entry layer3[] = {
		{"var/lib/dpkg/status.d/.wh.base-files", "", 0, ENTRY_FILE},
		{"var/lib/dpkg/status", dpkg_status_v2, 0, ENTRY_FILE},
		{"srv/.wh..wh..opq", "", 0, ENTRY_FILE},
		{"srv/node_modules/right-pad/package.json", "{\"name\": \"right-pad\", \"version\": \"1.0.1\"}", 0,
		 ENTRY_FILE},
	};

	path_in_workdir(paths[0], sizeof(paths[0]), "layer1.tar.gz");
	path_in_workdir(paths[1], sizeof(paths[1]), "layer2.tar.zst");
	path_in_workdir(paths[2], sizeof(paths[2]), "layer3.tar");
	layer_write(paths[0], COMPRESSION_GZIP, layer1, sizeof(layer1) / sizeof(layer1[0]));
	layer_write(paths[1], COMPRESSION_ZSTD, layer2, sizeof(layer2) / sizeof(layer2[0]));
	layer_write(paths[2], COMPRESSION_NONE, layer3, sizeof(layer3) / sizeof(layer3[0]));
	layers[0] = (struct scan_layer){paths[0], DIGEST_A, "application/vnd.oci.image.layer.v1.tar+gzip"};
	layers[1] = (struct scan_layer){paths[1], DIGEST_B, "application/vnd.oci.image.layer.v1.tar+zstd"};
	layers[2] = (struct scan_layer){paths[2], DIGEST_C, ""};
}

static void check_package(const struct scan_inventory *inv, const char *name, const char *version,
			  const char *ecosystem, const char *manager, const char *layer)
{
	const struct scan_package *p = package_find(inv, name);

	CHECK(p != NULL);
	if (p == NULL) {
		fprintf(stderr, "package %s missing\n", name);
		return;
	}
	CHECK_STR(p->version, version);
	CHECK_STR(p->ecosystem, ecosystem);
	CHECK_STR(p->package_manager, manager);
	CHECK_STR(p->layer_digest, layer);
}

static void test_inventory_debian_layers(void)
{
	struct scan_layer layers[3];
	struct scan_inventory inv;
	const struct scan_package *p;
	char err[512] = "";

	debian_layers_write(layers);
	printf("zstd layer written with zstd: %s\n", zstd_written ? "yes" : "no (plain tar)");
	CHECK(scanner_inventory(layers, 3, &inv, err, sizeof(err)) == LCR_OK);
	CHECK_STR(inv.os_id, "debian");
	CHECK_STR(inv.os_version, "12");
	CHECK_STR(inv.os_pretty, "Debian GNU/Linux 12 (bookworm)");
	CHECK(inv.os_supported);

	check_package(&inv, "libssl3", "3.0.11-1~deb12u2", "Debian:12", "OS", DIGEST_A);
	check_package(&inv, "libc6", "2.36-9+deb12u3", "Debian:12", "OS", DIGEST_A);
	check_package(&inv, "zlib1g", "1:1.2.13.dfsg-1", "Debian:12", "OS", DIGEST_A);
	check_package(&inv, "curl", "7.88.1-10+deb12u5", "Debian:12", "OS", DIGEST_C);
	check_package(&inv, "tzdata", "2024a-0+deb12u1", "Debian:12", "OS", DIGEST_B);
	check_package(&inv, "requests", "2.31.0", "PyPI", "PYTHONPKG", DIGEST_A);
	check_package(&inv, "six", "1.16.0", "PyPI", "PYTHONPKG", DIGEST_A);
	check_package(&inv, "lodash", "4.17.20", "npm", "NODEPKG", DIGEST_A);
	check_package(&inv, "@types/node", "20.1.0", "npm", "NODEPKG", DIGEST_A);
	check_package(&inv, "right-pad", "1.0.1", "npm", "NODEPKG", DIGEST_C);
	check_package(&inv, "com.example:demo", "1.1.0", "Maven", "JAR", DIGEST_A);

	p = package_find(&inv, "bash");
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_STR(p->source_name, "bash");
		CHECK_STR(p->source_version, "5.2.15-2");
		CHECK_STR(p->arch, "amd64");
		CHECK_STR(p->path, "var/lib/dpkg/status");
	}
	p = package_find(&inv, "libssl3");
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_STR(p->source_name, "openssl");
		CHECK(p->source_version == NULL);
	}
	p = package_find(&inv, "com.example:demo");
	CHECK(p != NULL);
	if (p != NULL)
		CHECK_STR(p->path, "app/lib/demo.jar!META-INF/maven/com.example/demo/pom.properties");

	/* Deleted by whiteouts, not installed, or not a package. */
	CHECK(package_find(&inv, "urllib3") == NULL);
	CHECK(package_find(&inv, "base-files") == NULL);
	CHECK(package_find(&inv, "left-pad") == NULL);
	CHECK(package_find(&inv, "removed-pkg") == NULL);
	CHECK(package_find(&inv, "not-a-package") == NULL);
	CHECK(package_find(&inv, "not-this") == NULL);
	CHECK(inv.npackages == 12);
	scanner_inventory_release(&inv);
	CHECK(inv.packages == NULL);
	CHECK(inv.npackages == 0);
}

static void test_inventory_alpine(void)
{
	char path[512], err[512] = "";
	const struct layer_entry entries[] = {
		{"etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n"
				   "PRETTY_NAME=\"Alpine Linux v3.19\"\n", 0, ENTRY_FILE},
		{"lib/apk/db/installed", "C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n\n"
					 "C:Q1def=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\nT:crypto\n\n", 0,
		 ENTRY_FILE},
	};
	struct scan_layer layer = {path, DIGEST_A, "application/vnd.docker.image.rootfs.diff.tar.gzip"};
	struct scan_inventory inv;
	const struct scan_package *p;

	path_in_workdir(path, sizeof(path), "alpine.tar.gz");
	layer_write(path, COMPRESSION_GZIP, entries, 2);
	CHECK(scanner_inventory(&layer, 1, &inv, err, sizeof(err)) == LCR_OK);
	CHECK_STR(inv.os_id, "alpine");
	CHECK(inv.os_supported);
	CHECK(inv.npackages == 2);
	p = package_find(&inv, "libcrypto3");
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_STR(p->version, "3.1.4-r5");
		CHECK_STR(p->source_name, "openssl");
		CHECK_STR(p->arch, "x86_64");
		CHECK_STR(p->ecosystem, "Alpine:v3.19");
	}
	scanner_inventory_release(&inv);
}

/* An rpm header blob with the given string tags and an epoch. */
static size_t rpm_blob_build(unsigned char *out, const char *name, const char *version, const char *release,
			     uint32_t epoch, const char *arch, const char *sourcerpm)
{
	const struct {
		uint32_t tag;
		const char *value;
	} strings[] = {{1000, name}, {1001, version}, {1002, release}, {1022, arch}, {1044, sourcerpm}};
	uint32_t il = 6, dl = 0;
	unsigned char *index = out + 8, data[1024];

#define PUT32(p, v)                                                                          \
	do {                                                                                 \
		(p)[0] = (unsigned char)((v) >> 24);                                         \
		(p)[1] = (unsigned char)((v) >> 16);                                         \
		(p)[2] = (unsigned char)((v) >> 8);                                          \
		(p)[3] = (unsigned char)(v);                                                 \
	} while (0)
	for (size_t i = 0; i < 5; i++) {
		PUT32(index + i * 16, strings[i].tag);
		PUT32(index + i * 16 + 4, 6u);
		PUT32(index + i * 16 + 8, dl);
		PUT32(index + i * 16 + 12, 1u);
		memcpy(data + dl, strings[i].value, strlen(strings[i].value) + 1);
		dl += (uint32_t)strlen(strings[i].value) + 1;
	}
	while (dl % 4 != 0)
		data[dl++] = 0;
	PUT32(index + 5 * 16, 1003u);
	PUT32(index + 5 * 16 + 4, 4u);
	PUT32(index + 5 * 16 + 8, dl);
	PUT32(index + 5 * 16 + 12, 1u);
	PUT32(data + dl, epoch);
	dl += 4;
	PUT32(out, il);
	PUT32(out + 4, dl);
	memcpy(out + 8 + il * 16, data, dl);
#undef PUT32
	return 8 + il * 16 + dl;
}

/* Build an rpmdb.sqlite in write-ahead-log mode, as rpm leaves it, and
 * return its bytes (malloc'd). */
static char *rpmdb_build(size_t *out_len)
{
	char path[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	unsigned char blob[2048];
	size_t len;
	FILE *f;
	char *data;
	long size;

	path_in_workdir(path, sizeof(path), "rpmdb.sqlite");
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE Packages (hnum INTEGER PRIMARY KEY "
			       "AUTOINCREMENT, blob BLOB NOT NULL);", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1, &stmt, NULL) == SQLITE_OK);
	len = rpm_blob_build(blob, "openssl-libs", "3.0.7", "25.el9_3", 1, "x86_64", "openssl-3.0.7-25.el9_3.src.rpm");
	sqlite3_bind_blob(stmt, 1, blob, (int)len, SQLITE_TRANSIENT);
	CHECK(sqlite3_step(stmt) == SQLITE_DONE);
	sqlite3_reset(stmt);
	len = rpm_blob_build(blob, "gpg-pubkey", "8483c65d", "5ccc5b19", 0, "(none)", "(none)");
	sqlite3_bind_blob(stmt, 1, blob, (int)len, SQLITE_TRANSIENT);
	CHECK(sqlite3_step(stmt) == SQLITE_DONE);
	sqlite3_reset(stmt);
	sqlite3_bind_blob(stmt, 1, "\0\0\0\x09garbage", 11, SQLITE_TRANSIENT);
	CHECK(sqlite3_step(stmt) == SQLITE_DONE);
	sqlite3_finalize(stmt);
	CHECK(sqlite3_close(db) == SQLITE_OK);

	f = fopen(path, "rb");
	CHECK(f != NULL);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)size);
	CHECK(fread(data, 1, (size_t)size, f) == (size_t)size);
	fclose(f);
	CHECK(data[18] == 2); /* the header says WAL */
	*out_len = (size_t)size;
	return data;
}

static void test_inventory_rpm(void)
{
	char path[512], err[512] = "";
	size_t rpmdb_len = 0;
	char *rpmdb = rpmdb_build(&rpmdb_len);
	const struct layer_entry entries[] = {
		{"etc/os-release", "NAME=\"Rocky Linux\"\nVERSION_ID=\"9.3\"\nID=\"rocky\"\nPRETTY_NAME=\"Rocky Linux 9.3\"\n",
		 0, ENTRY_FILE},
		{"usr/lib/sysimage/rpm/rpmdb.sqlite", rpmdb, rpmdb_len, ENTRY_FILE},
	};
	struct scan_layer layer = {path, DIGEST_A, ""};
	struct scan_inventory inv;
	const struct scan_package *p;

	path_in_workdir(path, sizeof(path), "rocky.tar");
	layer_write(path, COMPRESSION_NONE, entries, 2);
	free(rpmdb);
	CHECK(scanner_inventory(&layer, 1, &inv, err, sizeof(err)) == LCR_OK);
	CHECK_STR(inv.os_id, "rocky");
	CHECK(inv.os_supported);
	CHECK(inv.npackages == 1);
	p = package_find(&inv, "openssl-libs");
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_STR(p->version, "1:3.0.7-25.el9_3");
		CHECK_STR(p->source_name, "openssl");
		CHECK(p->source_version == NULL);
		CHECK_STR(p->arch, "x86_64");
		CHECK_STR(p->ecosystem, "Rocky Linux:9");
		CHECK_STR(p->path, "usr/lib/sysimage/rpm/rpmdb.sqlite");
	}
	scanner_inventory_release(&inv);
}

static void test_inventory_without_os_release(void)
{
	char path[512], err[512] = "";
	const struct layer_entry entries[] = {
		{"usr/src/app/node_modules/express/package.json", "{\"name\":\"express\",\"version\":\"4.18.2\"}", 0,
		 ENTRY_FILE},
		{"usr/src/app/node_modules/broken/package.json", "{\"name\":", 0, ENTRY_FILE},
	};
	struct scan_layer layer = {path, DIGEST_A, NULL};
	struct scan_inventory inv;

	path_in_workdir(path, sizeof(path), "scratch.tar.gz");
	layer_write(path, COMPRESSION_GZIP, entries, 2);
	CHECK(scanner_inventory(&layer, 1, &inv, err, sizeof(err)) == LCR_OK);
	CHECK_STR(inv.os_id, "");
	CHECK(!inv.os_supported);
	CHECK(inv.npackages == 1);
	check_package(&inv, "express", "4.18.2", "npm", "NODEPKG", DIGEST_A);
	scanner_inventory_release(&inv);
}

static void test_inventory_unreadable_layers(void)
{
	char missing[512], garbage[512], err[512] = "";
	struct scan_layer layer = {missing, DIGEST_A, ""};
	struct scan_inventory inv;

	path_in_workdir(missing, sizeof(missing), "no-such-layer");
	CHECK(scanner_inventory(&layer, 1, &inv, err, sizeof(err)) == LCR_ERR_INTERNAL);
	CHECK(strstr(err, DIGEST_A) != NULL);
	CHECK(inv.npackages == 0);

	file_write("garbage.tar", "this is not a tar archive, not even close to one, and it goes on for a while "
				  "so that libarchive has enough bytes to look at before it gives up on it");
	path_in_workdir(garbage, sizeof(garbage), "garbage.tar");
	layer.path = garbage;
	CHECK(scanner_inventory(&layer, 1, &inv, err, sizeof(err)) == LCR_ERR_UNSUPPORTED);
	CHECK(strstr(err, DIGEST_A) != NULL);

	layer.media_type = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted";
	CHECK(scanner_inventory(&layer, 1, &inv, err, sizeof(err)) == LCR_ERR_UNSUPPORTED);
}

/* ---- pure helpers ---- */

static void test_path_classify(void)
{
	static const struct {
		const char *path;
		enum scan_file_kind kind;
	} cases[] = {
		{"etc/os-release", SCAN_FILE_OS_RELEASE},
		{"usr/lib/os-release", SCAN_FILE_OS_RELEASE},
		{"var/lib/dpkg/status", SCAN_FILE_DPKG_STATUS},
		{"var/lib/dpkg/status-old", SCAN_FILE_NONE},
		{"var/lib/dpkg/status.d/libc6", SCAN_FILE_DPKG_STATUS_D},
		{"var/lib/dpkg/status.d/libc6.md5sums", SCAN_FILE_NONE},
		{"var/lib/dpkg/status.d/sub/x", SCAN_FILE_NONE},
		{"lib/apk/db/installed", SCAN_FILE_APK_INSTALLED},
		{"var/lib/rpm/rpmdb.sqlite", SCAN_FILE_RPMDB_SQLITE},
		{"usr/lib/sysimage/rpm/rpmdb.sqlite", SCAN_FILE_RPMDB_SQLITE},
		{"var/lib/rpm/Packages", SCAN_FILE_NONE},
		{"usr/lib/python3.11/site-packages/a-1.dist-info/METADATA", SCAN_FILE_PYTHON_METADATA},
		{"usr/lib/python3/dist-packages/a-1.dist-info/METADATA", SCAN_FILE_PYTHON_METADATA},
		{"opt/src/a-1.dist-info/METADATA", SCAN_FILE_NONE},
		{"opt/src/a.egg-info/PKG-INFO", SCAN_FILE_PYTHON_METADATA},
		{"usr/lib/python3/dist-packages/a-1.egg-info", SCAN_FILE_PYTHON_METADATA},
		{"node_modules/a/package.json", SCAN_FILE_NPM_PACKAGE_JSON},
		{"app/node_modules/@scope/a/package.json", SCAN_FILE_NPM_PACKAGE_JSON},
		{"app/node_modules/a/node_modules/b/package.json", SCAN_FILE_NPM_PACKAGE_JSON},
		{"app/node_modules/@scope/package.json", SCAN_FILE_NONE},
		{"app/node_modules/a/lib/package.json", SCAN_FILE_NONE},
		{"app/package.json", SCAN_FILE_NONE},
		{"opt/app/app.jar", SCAN_FILE_JAR},
		{".jar", SCAN_FILE_NONE},
		{"usr/bin/bash", SCAN_FILE_NONE},
	};
	size_t cap;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum scan_file_kind kind = scan_path_classify(cases[i].path, &cap);

		if (kind != cases[i].kind)
			fprintf(stderr, "classify %s: %d, expected %d\n", cases[i].path, kind, cases[i].kind);
		CHECK(kind == cases[i].kind);
	}
}

static void test_os_table(void)
{
	static const struct {
		const char *id, *version;
		bool supported;
		const char *ecosystem;
	} cases[] = {
		{"debian", "11", true, "Debian:11"},
		{"debian", "12", true, "Debian:12"},
		{"debian", "13", true, "Debian:13"},
		{"debian", "10", false, "Debian:10"},
		{"ubuntu", "16.04", true, "Ubuntu:16.04"},
		{"ubuntu", "24.10", true, "Ubuntu:24.10"},
		{"ubuntu", "23.04", false, "Ubuntu:23.04"},
		{"alpine", "3.19.1", true, "Alpine:v3.19"},
		{"alpine", "3.23.0", true, "Alpine:v3.23"},
		{"alpine", "3.18.4", false, "Alpine:v3.18"},
		{"amzn", "2", true, "Amazon Linux:2"},
		{"amzn", "2023", true, "Amazon Linux:2023"},
		{"rhel", "9.4", true, "Red Hat:enterprise_linux:9"},
		{"rhel", "10.0", true, "Red Hat:enterprise_linux:10"},
		{"rhel", "7.9", false, "Red Hat:enterprise_linux:7"},
		{"rocky", "8.9", true, "Rocky Linux:8"},
		{"rocky", "10.0", false, "Rocky Linux:10"},
		{"almalinux", "10.0", true, "AlmaLinux:10"},
		{"ol", "9.3", true, "Oracle Linux:9"},
		{"fedora", "41", true, "Fedora:41"},
		{"fedora", "40", false, "Fedora:40"},
		{"opensuse-leap", "15.6", true, "openSUSE:Leap 15.6"},
		{"sles", "15.6", true, "SUSE:Linux Enterprise Server 15 SP6"},
		{"sles", "15.5", false, "SUSE:Linux Enterprise Server 15 SP5"},
		{"photon", "5.0", true, "Photon OS:5.0"},
		{"photon", "3.0", false, "Photon OS:3.0"},
		{"arch", "", false, "Red Hat"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct os_release os = {0};
		char ecosystem[96];

		snprintf(os.id, sizeof(os.id), "%s", cases[i].id);
		snprintf(os.version_id, sizeof(os.version_id), "%s", cases[i].version);
		os_ecosystem(&os, "rpm", ecosystem, sizeof(ecosystem));
		CHECK(os_release_supported(cases[i].id, cases[i].version) == cases[i].supported);
		CHECK_STR(ecosystem, cases[i].ecosystem);
	}
}

static void test_os_release_quoting(void)
{
	static const char text[] = "# comment\nID='ubuntu'\r\nVERSION_ID=\"22.04\"\nPRETTY_NAME=\"A \\\"quoted\\\" name\"\n"
				   "ID_LIKE=debian\nIDX=wrong\n";
	struct os_release os;

	os_release_parse(text, strlen(text), &os);
	CHECK_STR(os.id, "ubuntu");
	CHECK_STR(os.version_id, "22.04");
	CHECK_STR(os.pretty_name, "A \"quoted\" name");
	CHECK_STR(os.id_like, "debian");
}

static void test_cvss_scores(void)
{
	static const struct {
		const char *vector;
		double score;
	} v3[] = {
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
		{"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 6.5},
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N/E:P/RL:O", 7.4},
	};
	static const char *const invalid3[] = {
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L",
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"AV:N/AC:L/Au:N/C:P/I:P/A:P",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
	};
	static const struct {
		const char *vector;
		double score;
	} v2[] = {
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5},
		{"AV:L/AC:L/Au:N/C:P/I:P/A:P", 4.6},
		{"AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3},
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0},
		{"(AV:N/AC:L/Au:S/C:P/I:N/A:N)", 4.0},
	};
	const char *version;
	double score;

	for (size_t i = 0; i < sizeof(v3) / sizeof(v3[0]); i++) {
		CHECK(cvss3_base_score(v3[i].vector, &score, &version));
		if (score != v3[i].score)
			fprintf(stderr, "%s: %.1f, expected %.1f\n", v3[i].vector, score, v3[i].score);
		CHECK(score == v3[i].score);
	}
	CHECK(cvss3_base_score(v3[2].vector, &score, &version));
	CHECK_STR(version, "3.0");
	for (size_t i = 0; i < sizeof(invalid3) / sizeof(invalid3[0]); i++)
		CHECK(!cvss3_base_score(invalid3[i], &score, &version));
	for (size_t i = 0; i < sizeof(v2) / sizeof(v2[0]); i++) {
		CHECK(cvss2_base_score(v2[i].vector, &score));
		if (score != v2[i].score)
			fprintf(stderr, "%s: %.1f, expected %.1f\n", v2[i].vector, score, v2[i].score);
		CHECK(score == v2[i].score);
	}
	CHECK(!cvss2_base_score("AV:N/AC:L/Au:N/C:P/I:P", &score));
	CHECK(severity_from_score(9.8, true) == SCAN_SEVERITY_CRITICAL);
	CHECK(severity_from_score(10.0, false) == SCAN_SEVERITY_HIGH);
	CHECK(severity_from_score(4.0, true) == SCAN_SEVERITY_MEDIUM);
	CHECK(severity_from_score(0.1, true) == SCAN_SEVERITY_LOW);
	CHECK(severity_from_score(0, true) == SCAN_SEVERITY_INFORMATIONAL);
	CHECK(severity_from_word("Moderate") == SCAN_SEVERITY_MEDIUM);
	CHECK(severity_from_word("important") == SCAN_SEVERITY_HIGH);
	CHECK(severity_from_word("unknown") == SCAN_SEVERITY_UNDEFINED);
	CHECK_STR(scan_severity_name(SCAN_SEVERITY_CRITICAL), "CRITICAL");
	CHECK_STR(scan_severity_name(SCAN_SEVERITY_UNDEFINED), "UNDEFINED");
}

static void test_ecosystem_applies(void)
{
	CHECK(osv_ecosystem_applies("Debian:12", "Debian:12"));
	CHECK(osv_ecosystem_applies("Debian", "Debian:12"));
	CHECK(!osv_ecosystem_applies("Debian:11", "Debian:12"));
	CHECK(!osv_ecosystem_applies("Debian:1", "Debian:12"));
	CHECK(!osv_ecosystem_applies("Debian:12", "Debian"));
	CHECK(!osv_ecosystem_applies("Ubuntu:22.04", "Debian:12"));
	CHECK(osv_ecosystem_applies("Ubuntu:22.04:LTS", "Ubuntu:22.04"));
	CHECK(osv_ecosystem_applies("Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9"));
	CHECK(!osv_ecosystem_applies("Red Hat:enterprise_linux:8::appstream", "Red Hat:enterprise_linux:9"));
	CHECK(!osv_ecosystem_applies("PyPIx", "PyPI"));
	CHECK(osv_ecosystem_applies("PyPI", "PyPI"));
}

/* ---- the OSV database and matching ---- */

static const char osv_debian_openssl[] =
	"{\"id\": \"DSA-5532-1\", \"aliases\": [\"CVE-2023-5678\"], \"summary\": \"openssl security update\","
	" \"details\": \"Excessive time spent in DH checks.\", \"modified\": \"2024-01-10T08:00:00Z\","
	" \"published\": \"2023-11-06T00:00:00Z\","
	" \"severity\": [{\"type\": \"CVSS_V3\", \"score\": \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
	" \"affected\": ["
	"  {\"package\": {\"ecosystem\": \"Debian:11\", \"name\": \"openssl\"},"
	"   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"1.1.1w-0+deb11u1\"}]}]},"
	"  {\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"openssl\"},"
	"   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"3.0.11-1~deb12u3\"}]}]}],"
	" \"references\": [{\"type\": \"ADVISORY\", \"url\": \"https://www.debian.org/security/2023/dsa-5532\"}]}";

/* Fixed in Debian 12 before the installed glibc: must not match. */
static const char osv_debian_glibc_fixed[] =
	"{\"id\": \"DEBIAN-CVE-2023-4911\", \"upstream\": [\"CVE-2023-4911\"], \"modified\": \"2023-10-03T00:00:00Z\","
	" \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"glibc\"},"
	"   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"2.36-9+deb12u2\"}]}]}]}";

/* A list file: a last_affected range, an explicit versions list, a bare
 * "Debian" ecosystem matched through the source package and version, a
 * range with two intervals, and a withdrawn record. */
static const char osv_list[] =
	"[{\"id\": \"GHSA-j8r2-6x86-q33q\", \"aliases\": [\"CVE-2023-32681\"], \"summary\": \"requests leaks headers\","
	"  \"modified\": \"2024-02-01T00:00:00.123Z\", \"database_specific\": {\"severity\": \"MODERATE\"},"
	"  \"affected\": [{\"package\": {\"ecosystem\": \"PyPI\", \"name\": \"Requests\"},"
	"   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"2.3.0\"}, {\"last_affected\": \"2.31.0\"}]}]}]},"
	" {\"id\": \"GHSA-p6mc-m468-83gw\", \"summary\": \"Prototype pollution in lodash\","
	"  \"modified\": \"2023-05-01T00:00:00Z\","
	"  \"severity\": [{\"type\": \"CVSS_V3\", \"score\": \"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N\"}],"
	"  \"affected\": [{\"package\": {\"ecosystem\": \"npm\", \"name\": \"lodash\"},"
	"   \"versions\": [\"4.17.19\", \"4.17.20\"]}]},"
	" {\"id\": \"DEBIAN-CVE-2022-3715\", \"modified\": \"2023-01-01T00:00:00Z\","
	"  \"affected\": [{\"package\": {\"ecosystem\": \"Debian\", \"name\": \"bash\"},"
	"   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"5.2.15-2+b1\"}]}]}]},"
	" {\"id\": \"DEBIAN-CVE-2023-45853\", \"modified\": \"2023-12-01T00:00:00Z\","
	"  \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\", \"name\": \"zlib\"},"
	"   \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"1:1.3\"}, {\"fixed\": \"1:1.3.1\"},"
	"    {\"introduced\": \"0\"}, {\"fixed\": \"1:1.2.13.dfsg-2\"}]}]}]},"
	" {\"id\": \"GHSA-withdrawn\", \"withdrawn\": \"2023-01-01T00:00:00Z\","
	"  \"affected\": [{\"package\": {\"ecosystem\": \"npm\", \"name\": \"lodash\"}}]},"
	" {\"summary\": \"a record without an id\"}]";

static const char osv_maven[] =
	"{\"id\": \"GHSA-demo-0001\", \"aliases\": [\"CVE-2024-0001\", \"GHSA-demo-0001\"],"
	" \"modified\": \"2024-03-01T12:00:00+02:00\","
	" \"severity\": [{\"type\": \"CVSS_V2\", \"score\": \"AV:N/AC:L/Au:N/C:P/I:P/A:P\"}],"
	" \"affected\": [{\"package\": {\"ecosystem\": \"Maven\", \"name\": \"com.example:demo\"},"
	"   \"ranges\": [{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"1.0.0\"}, {\"fixed\": \"1.2.0\"}]},"
	"               {\"type\": \"GIT\", \"repo\": \"https://example.com/demo.git\", \"events\": [{\"introduced\": \"0\"}]}]}]}";

static void osv_folder_write(void)
{
	char path[512];

	path_in_workdir(path, sizeof(path), "osv");
	mkdir(path, 0755);
	path_in_workdir(path, sizeof(path), "osv/debian");
	mkdir(path, 0755);
	file_write("osv/debian/DSA-5532-1.json", osv_debian_openssl);
	file_write("osv/debian/DEBIAN-CVE-2023-4911.json", osv_debian_glibc_fixed);
	file_write("osv/list.json", osv_list);
	file_write("osv/maven.json", osv_maven);
	file_write("osv/broken.json", "{\"id\": \"BROKEN\", ");
	file_write("osv/notes.txt", "not a database file");
}

static const struct scan_finding *finding_find(const struct scan_finding *findings, size_t n, const char *id,
					       const char *package)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(findings[i].id, id) == 0 && strcmp(findings[i].package->name, package) == 0)
			return &findings[i];
	}
	return NULL;
}

static void test_vuln_db_match(void)
{
	struct scan_layer layers[3];
	struct scan_inventory inv;
	struct scan_finding *findings = NULL;
	const struct scan_finding *f;
	struct vuln_db *db = NULL, *again = NULL;
	size_t n = 0;
	char path[512], err[512] = "";
	int saved_threshold = log_threshold;

	debian_layers_write(layers);
	CHECK(scanner_inventory(layers, 3, &inv, err, sizeof(err)) == LCR_OK);
	osv_folder_write();
	path_in_workdir(path, sizeof(path), "osv");
	log_threshold = LOG_LEVEL_ERROR; /* broken.json and the id-less record warn */
	CHECK(vuln_db_load(path, &db, err, sizeof(err)) == LCR_OK);
	CHECK(vuln_db_load(path, &again, err, sizeof(err)) == LCR_OK);
	log_threshold = saved_threshold;
	if (db == NULL || again == NULL) {
		vuln_db_free(db);
		vuln_db_free(again);
		scanner_inventory_release(&inv);
		return;
	}
	CHECK(vuln_db_count(db) == 7);
	CHECK(vuln_db_updated_at(db) == 1709287200.0); /* 2024-03-01T12:00:00+02:00 */
	CHECK(strncmp(vuln_db_fingerprint(db), "sha256:", 7) == 0);
	CHECK(strlen(vuln_db_fingerprint(db)) == 71);
	CHECK_STR(vuln_db_fingerprint(again), vuln_db_fingerprint(db));

	CHECK(vuln_db_match(db, &inv, &findings, &n) == LCR_OK);
	for (size_t i = 0; i < n; i++)
		printf("finding %s %s %s %s fixed=%s\n", findings[i].id, scan_severity_name(findings[i].severity),
		       findings[i].package->name, findings[i].package->version,
		       findings[i].fixed_version ? findings[i].fixed_version : "-");
	CHECK(n == 6);

	/* Debian:12 advisory on the source package openssl, CVE alias first. */
	f = finding_find(findings, n, "CVE-2023-5678", "libssl3");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK_STR(f->advisory_id, "DSA-5532-1");
		CHECK(f->severity == SCAN_SEVERITY_CRITICAL);
		CHECK(f->cvss_score == 9.8);
		CHECK_STR(f->cvss_version, "3.1");
		CHECK_STR(f->cvss_vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
		CHECK_STR(f->fixed_version, "3.0.11-1~deb12u3");
		CHECK_STR(f->uri, "https://www.debian.org/security/2023/dsa-5532");
		CHECK_STR(f->summary, "openssl security update");
		CHECK_STR(f->description, "Excessive time spent in DH checks.");
		CHECK(f->naliases == 1);
		CHECK_STR(f->aliases[0], "CVE-2023-5678");
		CHECK(f->nreferences == 1);
		CHECK(f->published == 1699228800.0);
	}
	/* last_affected is inclusive, and no fix is known. */
	f = finding_find(findings, n, "CVE-2023-32681", "requests");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK(f->severity == SCAN_SEVERITY_MEDIUM);
		CHECK(f->fixed_version == NULL);
		CHECK(f->cvss_vector == NULL);
		CHECK(f->cvss_score == 0);
		CHECK_STR(f->uri, "https://osv.dev/vulnerability/GHSA-j8r2-6x86-q33q");
	}
	/* An explicit versions list and no CVE: the OSV id names it. */
	f = finding_find(findings, n, "GHSA-p6mc-m468-83gw", "lodash");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK(f->severity == SCAN_SEVERITY_HIGH);
		CHECK(f->cvss_score == 7.4);
		CHECK(f->fixed_version == NULL);
	}
	/* Plain "Debian" applies to Debian 12; the source version 5.2.15-2
	 * is compared, not the binary's 5.2.15-2+b2. */
	f = finding_find(findings, n, "CVE-2022-3715", "bash");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK_STR(f->fixed_version, "5.2.15-2+b1");
		CHECK(f->severity == SCAN_SEVERITY_UNDEFINED);
	}
	/* Two intervals: the fix is the first one above the version. */
	f = finding_find(findings, n, "CVE-2023-45853", "zlib1g");
	CHECK(f != NULL);
	if (f != NULL)
		CHECK_STR(f->fixed_version, "1:1.2.13.dfsg-2");
	/* SEMVER range and a CVSS v2 vector. */
	f = finding_find(findings, n, "CVE-2024-0001", "com.example:demo");
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK(f->severity == SCAN_SEVERITY_HIGH);
		CHECK(f->cvss_score == 7.5);
		CHECK_STR(f->cvss_version, "2.0");
		CHECK_STR(f->fixed_version, "1.2.0");
	}
	/* Fixed before the installed version. */
	CHECK(finding_find(findings, n, "CVE-2023-4911", "libc6") == NULL);
	/* Sorted by severity, CRITICAL first. */
	if (n > 0) {
		CHECK(findings[0].severity == SCAN_SEVERITY_CRITICAL);
		CHECK(findings[n - 1].severity == SCAN_SEVERITY_UNDEFINED);
	}

	scan_findings_free(findings, n);
	vuln_db_free(db);
	vuln_db_free(again);
	scanner_inventory_release(&inv);
}

static void test_vuln_db_fingerprint_changes(void)
{
	struct vuln_db *before = NULL, *after = NULL;
	char path[512], err[512] = "";
	int saved_threshold = log_threshold;

	path_in_workdir(path, sizeof(path), "osv2");
	mkdir(path, 0755);
	file_write("osv2/a.json", osv_maven);
	CHECK(vuln_db_load(path, &before, err, sizeof(err)) == LCR_OK);
	file_write("osv2/b.json", osv_debian_openssl);
	CHECK(vuln_db_load(path, &after, err, sizeof(err)) == LCR_OK);
	CHECK(before != NULL);
	CHECK(after != NULL);
	if (before != NULL && after != NULL) {
		CHECK(vuln_db_count(before) == 1);
		CHECK(vuln_db_count(after) == 2);
		CHECK(strcmp(vuln_db_fingerprint(before), vuln_db_fingerprint(after)) != 0);
	}
	vuln_db_free(before);
	vuln_db_free(after);

	log_threshold = LOG_LEVEL_ERROR;
	path_in_workdir(path, sizeof(path), "no-such-folder");
	CHECK(vuln_db_load(path, &before, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(before == NULL);
	log_threshold = saved_threshold;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	snprintf(workdir, sizeof(workdir), "%s/localecr-scanner-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(workdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_path_classify();
	test_os_table();
	test_os_release_quoting();
	test_cvss_scores();
	test_ecosystem_applies();
	test_jar_nested_poms();
	test_inventory_debian_layers();
	test_inventory_alpine();
	test_inventory_rpm();
	test_inventory_without_os_release();
	test_inventory_unreadable_layers();
	test_vuln_db_match();
	test_vuln_db_fingerprint_changes();
	nftw(workdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_summary();
}
