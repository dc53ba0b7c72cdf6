/*
 * check.c - consistency checks and garbage collection of the store
 * (`localecr fsck` and `localecr gc`).
 *
 * fsck reads everything and changes nothing.  A problem is anything that
 * can lose or corrupt data: a blob whose file is missing or hashes to
 * another digest, an image whose manifest does not hash to its digest or
 * names a blob or child manifest the repository lacks, an upload session
 * without its file.  Blob files that no row records, and upload files no
 * session owns, are left-overs of a crash: fsck lists them as notes, gc and
 * the start-up sweep remove them.
 *
 * gc removes blobs that no image manifest references and that are older
 * than the grace period.  It decides and deletes inside one write
 * transaction, and manifest pushes check their blobs inside theirs, so a
 * push running at the same time either sees the blob or fails cleanly with
 * a missing-blob error; it never stores an image whose blob gc removed.
 */
#include "registry_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"
#include "manifest.h"

struct fsck_state {
	struct registry *reg;
	FILE *out;
	int problems;
	int notes;
};

static void problem(struct fsck_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct fsck_state *st, const char *fmt, ...)
{
	va_list ap;

	fputs("problem: ", st->out);
	va_start(ap, fmt);
	vfprintf(st->out, fmt, ap);
	va_end(ap);
	fputc('\n', st->out);
	st->problems++;
}

static void note(struct fsck_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct fsck_state *st, const char *fmt, ...)
{
	va_list ap;

	fputs("note: ", st->out);
	va_start(ap, fmt);
	vfprintf(st->out, fmt, ap);
	va_end(ap);
	fputc('\n', st->out);
	st->notes++;
}

/* Hash the file at path (relative to dirfd); -1 if it cannot be read. */
static int hash_file(int dirfd, const char *path, char out[DIGEST_BUF], int64_t *out_size)
{
	unsigned char chunk[65536], raw[EVP_MAX_MD_SIZE];
	unsigned int rawlen = 0;
	EVP_MD_CTX *ctx;
	int64_t size = 0;
	ssize_t n;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		EVP_DigestUpdate(ctx, chunk, (size_t)n);
		size += n;
	}
	close(fd);
	EVP_DigestFinal_ex(ctx, raw, &rawlen);
	EVP_MD_CTX_free(ctx);
	if (n < 0)
		return -1;
	memcpy(out, "sha256:", 7);
	digest_hex(raw, rawlen, out + 7);
	*out_size = size;
	return 0;
}

static void blob_file_path(const char *digest, char *out, size_t outlen)
{
	snprintf(out, outlen, "sha256/%.2s/%s", digest + 7, digest + 7);
}

static void check_blob_rows(struct fsck_state *st)
{
	sqlite3_stmt *stmt = registry_prepare(st->reg, "SELECT digest, size FROM blobs ORDER BY digest");

	while (stmt != NULL && sqlite3_step(stmt) == SQLITE_ROW) {
		const char *digest = (const char *)sqlite3_column_text(stmt, 0);
		int64_t recorded = sqlite3_column_int64(stmt, 1), size = 0;
		char path[128], actual[DIGEST_BUF];

		if (!digest_valid(digest)) {
			problem(st, "blob row has a malformed digest '%s'", digest);
			continue;
		}
		blob_file_path(digest, path, sizeof(path));
		if (hash_file(st->reg->blobs_fd, path, actual, &size) < 0)
			problem(st, "blob %s: file blobs/%s is missing or unreadable", digest, path);
		else if (strcmp(actual, digest) != 0)
			problem(st, "blob %s: file content hashes to %s", digest, actual);
		else if (size != recorded)
			problem(st, "blob %s: file has %lld bytes, the database records %lld", digest, (long long)size,
				(long long)recorded);
	}
	sqlite3_finalize(stmt);
}

/* Call fn for every file name under blobs/sha256/<ab>/. */
static void each_blob_file(struct registry *reg, void (*fn)(void *ctx, const char *hex), void *ctx)
{
	int sha_fd = openat(reg->blobs_fd, "sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *top = sha_fd >= 0 ? fdopendir(sha_fd) : NULL;
	struct dirent *prefix;

	if (top == NULL) {
		if (sha_fd >= 0)
			close(sha_fd);
		return;
	}
	while ((prefix = readdir(top)) != NULL) {
		int sub_fd;
		DIR *sub;
		struct dirent *entry;

		if (prefix->d_name[0] == '.')
			continue;
		sub_fd = openat(dirfd(top), prefix->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		sub = sub_fd >= 0 ? fdopendir(sub_fd) : NULL;
		if (sub == NULL) {
			if (sub_fd >= 0)
				close(sub_fd);
			continue;
		}
		while ((entry = readdir(sub)) != NULL)
			if (entry->d_name[0] != '.')
				fn(ctx, entry->d_name);
		closedir(sub);
	}
	closedir(top);
}

static bool blob_row_exists(struct registry *reg, const char *digest)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT 1 FROM blobs WHERE digest = ?");
	bool found;

	if (stmt == NULL)
		return true;
	sqlite3_bind_text(stmt, 1, digest, -1, SQLITE_STATIC);
	found = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return found;
}

static void check_blob_file(void *ctx, const char *hex)
{
	struct fsck_state *st = ctx;
	char digest[DIGEST_BUF + 64];

	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	if (!digest_valid(digest))
		note(st, "stray file blobs/sha256/%.2s/%s", hex, hex);
	else if (!blob_row_exists(st->reg, digest))
		note(st, "blob file %s has no database row (left by an interrupted upload; gc removes it)", digest);
}

static void check_images(struct fsck_state *st)
{
	sqlite3_stmt *stmt = registry_prepare(st->reg,
		"SELECT r.name, r.id, i.digest, i.media_type, i.manifest FROM images i"
		" JOIN repositories r ON r.id = i.repository_id ORDER BY r.name, i.digest");
	sqlite3_stmt *child = registry_prepare(st->reg, "SELECT 1 FROM images WHERE repository_id = ? AND digest = ?");

	while (stmt != NULL && child != NULL && sqlite3_step(stmt) == SQLITE_ROW) {
		const char *repo = (const char *)sqlite3_column_text(stmt, 0);
		int64_t repo_id = sqlite3_column_int64(stmt, 1);
		const char *digest = (const char *)sqlite3_column_text(stmt, 2);
		const char *media_type = (const char *)sqlite3_column_text(stmt, 3);
		const char *manifest = sqlite3_column_blob(stmt, 4);
		size_t len = (size_t)sqlite3_column_bytes(stmt, 4);
		struct manifest_info info;
		char actual[DIGEST_BUF], err[256];

		digest_of(manifest ? manifest : "", len, actual);
		if (strcmp(actual, digest) != 0) {
			problem(st, "image %s@%s: manifest hashes to %s", repo, digest, actual);
			continue;
		}
		if (manifest_parse(manifest, len, media_type, &info, err, sizeof(err)) != LCR_OK) {
			problem(st, "image %s@%s: stored manifest does not parse: %s", repo, digest, err);
			continue;
		}
		if (info.kind == MANIFEST_KIND_IMAGE &&
		    registry_blob_stat(st->reg, repo_id, info.config.digest, NULL) != LCR_OK)
			problem(st, "image %s@%s: config blob %s is not in the repository", repo, digest, info.config.digest);
		for (size_t i = 0; i < info.nlayers; i++)
			if (!info.layers[i].has_urls &&
			    registry_blob_stat(st->reg, repo_id, info.layers[i].digest, NULL) != LCR_OK)
				problem(st, "image %s@%s: layer %s is not in the repository", repo, digest,
					info.layers[i].digest);
		for (size_t i = 0; i < info.nmanifests; i++) {
			sqlite3_reset(child);
			sqlite3_bind_int64(child, 1, repo_id);
			sqlite3_bind_text(child, 2, info.manifests[i].digest, -1, SQLITE_STATIC);
			if (sqlite3_step(child) != SQLITE_ROW)
				problem(st, "index %s@%s: child manifest %s is not in the repository", repo, digest,
					info.manifests[i].digest);
		}
		manifest_info_release(&info);
	}
	sqlite3_finalize(stmt);
	sqlite3_finalize(child);
}

static void note_stray_upload_files(struct fsck_state *st)
{
	int fd = dup(st->reg->uploads_fd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	sqlite3_stmt *stmt = registry_prepare(st->reg, "SELECT 1 FROM uploads WHERE uuid = ?");
	struct dirent *entry;

	while (dir != NULL && stmt != NULL && (entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, entry->d_name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(stmt) != SQLITE_ROW)
			note(st, "upload file uploads/%s has no session (the next server start removes it)", entry->d_name);
	}
	if (dir != NULL)
		closedir(dir);
	else if (fd >= 0)
		close(fd);
	sqlite3_finalize(stmt);
}

static void check_uploads(struct fsck_state *st)
{
	sqlite3_stmt *stmt = registry_prepare(st->reg, "SELECT uuid FROM uploads");
	struct stat sb;

	while (stmt != NULL && sqlite3_step(stmt) == SQLITE_ROW) {
		const char *uuid = (const char *)sqlite3_column_text(stmt, 0);

		if (fstatat(st->reg->uploads_fd, uuid, &sb, 0) < 0)
			problem(st, "upload session %s has no file", uuid);
	}
	sqlite3_finalize(stmt);
}

int registry_fsck(struct registry *reg, FILE *out, int *out_problems)
{
	struct fsck_state st = {reg, out, 0, 0};
	sqlite3_stmt *stmt = registry_prepare(reg, "PRAGMA integrity_check");

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	if (sqlite3_step(stmt) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") != 0)
		problem(&st, "SQLite integrity check failed: %s",
			sqlite3_column_text(stmt, 0) ? (const char *)sqlite3_column_text(stmt, 0) : "no answer");
	sqlite3_finalize(stmt);
	check_blob_rows(&st);
	each_blob_file(reg, check_blob_file, &st);
	check_images(&st);
	check_uploads(&st);
	note_stray_upload_files(&st);
	fprintf(out, "%d problem(s), %d note(s)\n", st.problems, st.notes);
	*out_problems = st.problems;
	return LCR_OK;
}

/* gc */

/* Fill the temporary table gc_keep with every blob a manifest names. */
static int collect_referenced(struct registry *reg)
{
	sqlite3_stmt *images, *keep;
	char err[256];

	if (registry_exec(reg, "CREATE TEMP TABLE IF NOT EXISTS gc_keep (digest TEXT PRIMARY KEY);"
			       "DELETE FROM gc_keep", err, sizeof(err)) != LCR_OK)
		return LCR_ERR_INTERNAL;
	images = registry_prepare(reg, "SELECT manifest, media_type FROM images");
	keep = registry_prepare(reg, "INSERT OR IGNORE INTO gc_keep VALUES (?)");
	if (images == NULL || keep == NULL) {
		sqlite3_finalize(images);
		sqlite3_finalize(keep);
		return LCR_ERR_INTERNAL;
	}
	while (sqlite3_step(images) == SQLITE_ROW) {
		struct manifest_info info;

		if (manifest_parse(sqlite3_column_blob(images, 0), (size_t)sqlite3_column_bytes(images, 0),
				   (const char *)sqlite3_column_text(images, 1), &info, err, sizeof(err)) != LCR_OK)
			continue;
		for (size_t i = 0; i <= info.nlayers; i++) {
			const char *digest = i < info.nlayers ? info.layers[i].digest : info.config.digest;

			if (info.kind != MANIFEST_KIND_IMAGE)
				break;
			sqlite3_reset(keep);
			sqlite3_bind_text(keep, 1, digest, -1, SQLITE_TRANSIENT);
			sqlite3_step(keep);
		}
		manifest_info_release(&info);
	}
	sqlite3_finalize(images);
	sqlite3_finalize(keep);
	return LCR_OK;
}

struct orphan_state {
	struct registry *reg;
	double cutoff;
	int removed;
	int64_t bytes;
};

static void remove_orphan_file(void *ctx, const char *hex)
{
	struct orphan_state *st = ctx;
	char digest[DIGEST_BUF + 64], path[160];
	struct stat sb;

	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	if (!digest_valid(digest) || blob_row_exists(st->reg, digest))
		return;
	blob_file_path(digest, path, sizeof(path));
	if (fstatat(st->reg->blobs_fd, path, &sb, 0) == 0 && (double)sb.st_mtime < st->cutoff &&
	    unlinkat(st->reg->blobs_fd, path, 0) == 0) {
		st->removed++;
		st->bytes += sb.st_size;
	}
}

static int delete_blob_rows(struct registry *reg, const char *digest)
{
	static const char *const statements[] = {
		"DELETE FROM blob_links WHERE digest = ?",
		"DELETE FROM blobs WHERE digest = ?",
	};

	for (size_t i = 0; i < 2; i++) {
		sqlite3_stmt *stmt = registry_prepare(reg, statements[i]);
		int rc;

		if (stmt == NULL)
			return LCR_ERR_INTERNAL;
		sqlite3_bind_text(stmt, 1, digest, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		sqlite3_finalize(stmt);
		if (rc != SQLITE_DONE)
			return LCR_ERR_INTERNAL;
	}
	return LCR_OK;
}

int registry_gc(struct registry *reg, double grace_seconds, int *out_removed, int64_t *out_bytes, char *err,
		size_t errlen)
{
	sqlite3_stmt *stmt;
	double cutoff = clock_now() - grace_seconds;
	struct orphan_state orphans;
	int status;

	*out_removed = 0;
	*out_bytes = 0;
	status = registry_begin(reg, err, errlen);
	if (status != LCR_OK)
		return status;
	if (collect_referenced(reg) != LCR_OK) {
		registry_rollback(reg);
		return registry_db_error(reg, "collect referenced blobs", err, errlen);
	}
	stmt = registry_prepare(reg,
		"SELECT digest, size FROM blobs WHERE created_at < ? AND digest NOT IN (SELECT digest FROM gc_keep)");
	if (stmt == NULL) {
		registry_rollback(reg);
		return registry_db_error(reg, "select garbage", err, errlen);
	}
	sqlite3_bind_double(stmt, 1, cutoff);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		char digest[DIGEST_BUF], path[128];

		snprintf(digest, sizeof(digest), "%s", sqlite3_column_text(stmt, 0));
		if (delete_blob_rows(reg, digest) != LCR_OK)
			continue;
		/* NOTE: the file goes before COMMIT, so that an upload of the same
		 * digest cannot re-create its row in between; should COMMIT then
		 * fail, fsck reports the rows whose file is gone. */
		blob_file_path(digest, path, sizeof(path));
		if (unlinkat(reg->blobs_fd, path, 0) < 0 && errno != ENOENT)
			log_warn("gc: cannot remove blobs/%s: %s", path, strerror(errno));
		*out_removed += 1;
		*out_bytes += sqlite3_column_int64(stmt, 1);
	}
	sqlite3_finalize(stmt);
	orphans.reg = reg;
	orphans.cutoff = cutoff;
	orphans.removed = 0;
	orphans.bytes = 0;
	each_blob_file(reg, remove_orphan_file, &orphans);
	*out_removed += orphans.removed;
	*out_bytes += orphans.bytes;
	return registry_commit(reg, err, errlen);
}
