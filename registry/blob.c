/*
 * blob.c - the content-addressed blob store and upload sessions.
 *
 * An upload session is a row in uploads plus the file uploads/<uuid>.
 * Bytes are appended as they arrive and hashed at the same time.  The first
 * HASH_THREAD_AFTER bytes of a request are hashed inline.  After that a
 * hashing thread reads back from the page cache what the request thread has
 * written, so receiving and hashing a large blob use two cores.  The SHA-256
 * state is kept in memory between requests of one session.  A restart loses
 * it, so the bytes already on disk are then hashed again.
 * Completing a session fsyncs the file, compares its digest, renames it to
 * blobs/sha256/<ab>/<hex> (or drops it when that blob already exists), fsyncs
 * the directory, and only then records the blob and links it to the
 * repository.
 */
#include "registry_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"

struct hash_state {
	char uuid[UUID_BUF];
	EVP_MD_CTX *ctx;
	uint64_t offset; /* bytes hashed so far */
	struct hash_state *next;
};

struct blob_writer {
	struct registry *reg;
	int64_t repository_id;
	char uuid[UUID_BUF];
	int fd;
	EVP_MD_CTX *ctx;
	uint64_t size;
	uint64_t flushed; /* bytes handed to write-back so far */
	uint64_t opened_size; /* file size when this request opened the session */
	int failed;

	/* State shared with the hashing thread, once it is started.  size,
	 * hashed and stopping change under lock, and ctx belongs to the thread
	 * until it is joined. */
	bool hashing;
	pthread_t hasher;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t hashed; /* bytes of the file in ctx */
	bool stopping;
	bool hash_failed;
};

/* Start write-back every this many bytes, so the fsync that completes an
 * upload finds most of the data already on its way to disk. */
#define WRITEBACK_STEP (8 * 1024 * 1024)

/* Hash inline until a request has written this many bytes, then start a
 * hashing thread.  Small blobs never pay for a thread. */
#define HASH_THREAD_AFTER (4 * 1024 * 1024)

/* The hashing thread reads the file back in pieces of this size. */
#define HASH_READ_SIZE (1024 * 1024)

void registry_hash_states_free(struct registry *reg)
{
	struct hash_state *h = reg->hash_states, *next;

	for (; h != NULL; h = next) {
		next = h->next;
		EVP_MD_CTX_free(h->ctx);
		free(h);
	}
	reg->hash_states = NULL;
}

/* Remove and return the cached state for uuid, or NULL. */
static struct hash_state *hash_state_take(struct registry *reg, const char *uuid)
{
	struct hash_state **p, *h = NULL;

	pthread_mutex_lock(&reg->hash_lock);
	for (p = &reg->hash_states; *p != NULL; p = &(*p)->next) {
		if (strcmp((*p)->uuid, uuid) == 0) {
			h = *p;
			*p = h->next;
			break;
		}
	}
	pthread_mutex_unlock(&reg->hash_lock);
	return h;
}

static void hash_state_put(struct registry *reg, const char *uuid, EVP_MD_CTX *ctx, uint64_t offset)
{
	struct hash_state *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		EVP_MD_CTX_free(ctx);
		return;
	}
	snprintf(h->uuid, sizeof(h->uuid), "%s", uuid);
	h->ctx = ctx;
	h->offset = offset;
	pthread_mutex_lock(&reg->hash_lock);
	h->next = reg->hash_states;
	reg->hash_states = h;
	pthread_mutex_unlock(&reg->hash_lock);
}

static void blob_path(const char *digest, char *out, size_t outlen)
{
	const char *hex = digest + 7;

	snprintf(out, outlen, "sha256/%.2s/%s", hex, hex);
}

int registry_blob_stat(struct registry *reg, int64_t repository_id, const char *digest, int64_t *out_size)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"SELECT b.size FROM blob_links l JOIN blobs b ON b.digest = l.digest"
		" WHERE l.repository_id = ? AND l.digest = ?");
	int status = LCR_ERR_BLOB_UNKNOWN;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, repository_id);
	sqlite3_bind_text(stmt, 2, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		if (out_size != NULL)
			*out_size = sqlite3_column_int64(stmt, 0);
		status = LCR_OK;
	}
	sqlite3_finalize(stmt);
	return status;
}

int registry_blob_open(struct registry *reg, int64_t repository_id, const char *digest, int *out_fd,
		       int64_t *out_size)
{
	char path[128];
	int status = registry_blob_stat(reg, repository_id, digest, out_size);
	int fd;

	if (status != LCR_OK)
		return status;
	blob_path(digest, path, sizeof(path));
	fd = openat(reg->blobs_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("blob %s is recorded but its file cannot be opened: %s", digest, strerror(errno));
		return LCR_ERR_INTERNAL;
	}
	*out_fd = fd;
	return LCR_OK;
}

int registry_blob_link(struct registry *reg, int64_t repository_id, const char *digest, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = registry_prepare(reg,
		"INSERT OR IGNORE INTO blob_links (repository_id, digest, created_at) VALUES (?, ?, ?)");
	int rc;

	if (stmt == NULL)
		return registry_db_error(reg, "link blob", err, errlen);
	sqlite3_bind_int64(stmt, 1, repository_id);
	sqlite3_bind_text(stmt, 2, digest, -1, SQLITE_STATIC);
	sqlite3_bind_double(stmt, 3, clock_now());
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return registry_db_error(reg, "link blob", err, errlen);
	return LCR_OK;
}

int registry_upload_create(struct registry *reg, int64_t repository_id, char out_uuid[UUID_BUF], char *err,
			   size_t errlen)
{
	sqlite3_stmt *stmt;
	double now = clock_now();
	int fd, rc, status;

	uuid_generate_v4(out_uuid);
	/* The file and the row appear under one write lock, so a reset (which
	 * deletes both under the same lock) never leaves one without the
	 * other. */
	status = registry_begin(reg, err, errlen);
	if (status != LCR_OK)
		return status;
	fd = openat(reg->uploads_fd, out_uuid, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_error("cannot create upload file %s: %s", out_uuid, strerror(errno));
		registry_rollback(reg);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot create upload session");
	}
	close(fd);
	stmt = registry_prepare(reg,
		"INSERT INTO uploads (uuid, repository_id, created_at, updated_at) VALUES (?, ?, ?, ?)");
	rc = SQLITE_ERROR;
	if (stmt != NULL) {
		sqlite3_bind_text(stmt, 1, out_uuid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, repository_id);
		sqlite3_bind_double(stmt, 3, now);
		sqlite3_bind_double(stmt, 4, now);
		rc = sqlite3_step(stmt);
		sqlite3_finalize(stmt);
	}
	if (rc != SQLITE_DONE) {
		status = registry_db_error(reg, "create upload", err, errlen);
		registry_rollback(reg);
		unlinkat(reg->uploads_fd, out_uuid, 0);
		return status;
	}
	status = registry_commit(reg, err, errlen);
	if (status != LCR_OK)
		unlinkat(reg->uploads_fd, out_uuid, 0);
	return status;
}

int registry_upload_stat(struct registry *reg, int64_t repository_id, const char *uuid, uint64_t *out_size)
{
	sqlite3_stmt *stmt;
	struct stat st;
	int found;

	if (!uuid_valid(uuid))
		return LCR_ERR_BLOB_UPLOAD_UNKNOWN;
	stmt = registry_prepare(reg, "SELECT 1 FROM uploads WHERE uuid = ? AND repository_id = ?");
	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_text(stmt, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, repository_id);
	found = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	if (!found)
		return LCR_ERR_BLOB_UPLOAD_UNKNOWN;
	if (fstatat(reg->uploads_fd, uuid, &st, 0) < 0) {
		log_error("upload %s has a session but no file: %s", uuid, strerror(errno));
		return LCR_ERR_BLOB_UPLOAD_UNKNOWN;
	}
	if (out_size != NULL)
		*out_size = (uint64_t)st.st_size;
	return LCR_OK;
}

/* Hash the first size bytes of fd into ctx. */
static int rehash_file(int fd, uint64_t size, EVP_MD_CTX *ctx)
{
	char chunk[65536];
	uint64_t done = 0;

	while (done < size) {
		size_t want = size - done < sizeof(chunk) ? (size_t)(size - done) : sizeof(chunk);
		ssize_t n = pread(fd, chunk, want, (off_t)done);

		if (n <= 0)
			return -1;
		EVP_DigestUpdate(ctx, chunk, (size_t)n);
		done += (uint64_t)n;
	}
	return 0;
}

int registry_upload_writer_open(struct registry *reg, int64_t repository_id, const char *uuid,
				struct blob_writer **out, char *err, size_t errlen)
{
	struct blob_writer *w;
	struct hash_state *cached;
	struct stat st;
	uint64_t size = 0;
	int status = registry_upload_stat(reg, repository_id, uuid, &size);

	*out = NULL;
	if (status != LCR_OK)
		return lcr_fail(status, err, errlen, "upload %s is unknown to repository", uuid);
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	w->reg = reg;
	w->repository_id = repository_id;
	snprintf(w->uuid, sizeof(w->uuid), "%s", uuid);
	w->fd = openat(reg->uploads_fd, uuid, O_RDWR | O_APPEND | O_CLOEXEC);
	if (w->fd < 0) {
		free(w);
		log_error("cannot open upload file %s: %s", uuid, strerror(errno));
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot open upload session");
	}
	/* One writer per session at a time: a second request for the same
	 * session waits here, then reads the size the first one left, so two
	 * chunks sent for the same offset cannot both be appended.  The lock
	 * goes with the descriptor when the writer closes. */
	if (flock(w->fd, LOCK_EX) < 0 || fstat(w->fd, &st) < 0) {
		close(w->fd);
		free(w);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot lock upload session");
	}
	size = (uint64_t)st.st_size;
	w->size = size;
	w->flushed = size;
	w->opened_size = size;
	cached = hash_state_take(reg, uuid);
	if (cached != NULL && cached->offset == size) {
		w->ctx = cached->ctx;
		free(cached);
	} else {
		if (cached != NULL) {
			EVP_MD_CTX_free(cached->ctx);
			free(cached);
		}
		w->ctx = EVP_MD_CTX_new();
		if (w->ctx == NULL || EVP_DigestInit_ex(w->ctx, EVP_sha256(), NULL) != 1 ||
		    rehash_file(w->fd, size, w->ctx) < 0) {
			EVP_MD_CTX_free(w->ctx);
			close(w->fd);
			free(w);
			return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot read upload session");
		}
	}
	*out = w;
	return LCR_OK;
}

/* Hash what the request thread has written, reading it back from the file,
 * until join_hasher sets stopping and everything written is hashed. */
static void *hasher_main(void *arg)
{
	struct blob_writer *w = arg;
	char *chunk = malloc(HASH_READ_SIZE);
	uint64_t done, target;
	bool failed = chunk == NULL;

	pthread_mutex_lock(&w->lock);
	done = w->hashed;
	for (;;) {
		while (w->hashed == w->size && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->hashed == w->size || failed)
			break;
		target = w->size;
		pthread_mutex_unlock(&w->lock);
		while (done < target && !failed) {
			size_t want = target - done < HASH_READ_SIZE ? (size_t)(target - done) : HASH_READ_SIZE;
			ssize_t n = pread(w->fd, chunk, want, (off_t)done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || EVP_DigestUpdate(w->ctx, chunk, (size_t)n) != 1)
				failed = true;
			else
				done += (uint64_t)n;
		}
		pthread_mutex_lock(&w->lock);
		w->hashed = done;
	}
	w->hash_failed = failed;
	pthread_mutex_unlock(&w->lock);
	free(chunk);
	return NULL;
}

/* Start the hashing thread from the current size.  Without it the request
 * thread goes on hashing inline. */
static void start_hasher(struct blob_writer *w)
{
	if (pthread_mutex_init(&w->lock, NULL) != 0)
		return;
	if (pthread_cond_init(&w->cond, NULL) != 0) {
		pthread_mutex_destroy(&w->lock);
		return;
	}
	w->hashed = w->size;
	if (pthread_create(&w->hasher, NULL, hasher_main, w) != 0) {
		log_warn("cannot start a hashing thread for upload %s, hashing inline", w->uuid);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		return;
	}
	w->hashing = true;
}

/* Wait until the hashing thread has hashed everything written and has
 * exited, so ctx is complete again.  Marks the writer failed when the
 * thread could not read the file back. */
static void join_hasher(struct blob_writer *w)
{
	if (!w->hashing)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->hasher, NULL);
	w->hashing = false;
	if (w->hash_failed) {
		log_error("reading back upload %s to hash it failed", w->uuid);
		w->failed = 1;
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

int blob_writer_write(struct blob_writer *w, const void *data, size_t len)
{
	const char *p = data;

	if (w->failed)
		return LCR_ERR_INTERNAL;
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("write to upload %s failed: %s", w->uuid, strerror(errno));
			w->failed = 1;
			return LCR_ERR_INTERNAL;
		}
		if (w->hashing) {
			pthread_mutex_lock(&w->lock);
			w->size += (uint64_t)n;
			pthread_cond_signal(&w->cond);
			pthread_mutex_unlock(&w->lock);
		} else {
			EVP_DigestUpdate(w->ctx, p, (size_t)n);
			w->size += (uint64_t)n;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!w->hashing && w->size - w->opened_size >= HASH_THREAD_AFTER)
		start_hasher(w);
	if (w->size - w->flushed >= WRITEBACK_STEP) {
		sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->size - w->flushed), SYNC_FILE_RANGE_WRITE);
		w->flushed = w->size;
	}
	return LCR_OK;
}

uint64_t blob_writer_size(const struct blob_writer *w)
{
	return w->size;
}

static void blob_writer_free(struct blob_writer *w)
{
	join_hasher(w);
	if (w->fd >= 0)
		close(w->fd);
	EVP_MD_CTX_free(w->ctx);
	free(w);
}

int blob_writer_close(struct blob_writer *w)
{
	int status;

	if (w == NULL)
		return LCR_OK;
	join_hasher(w);
	/* A DELETE, a reset or an expiry may have removed the session while
	 * its bytes were arriving.  Then there is no hash state to keep. */
	status = registry_upload_stat(w->reg, w->repository_id, w->uuid, NULL);
	if (status == LCR_OK && !w->failed) {
		hash_state_put(w->reg, w->uuid, w->ctx, w->size);
		w->ctx = NULL;
	}
	blob_writer_free(w);
	return status;
}

static int delete_upload_row(struct registry *reg, const char *uuid)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "DELETE FROM uploads WHERE uuid = ?");
	int rc;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_text(stmt, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : LCR_ERR_INTERNAL;
}

/* Remove a session and its bytes.  The row goes first, so a crash leaves
 * at worst a file the start-up sweep removes.  On a full disk the delete can
 * fail, so the file is removed anyway to free space for a second try.  A row
 * left without its file is removed by the next start-up sweep. */
static int discard_upload(struct registry *reg, const char *uuid)
{
	struct hash_state *h = hash_state_take(reg, uuid);
	int status;

	if (h != NULL) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
	}
	status = delete_upload_row(reg, uuid);
	unlinkat(reg->uploads_fd, uuid, 0);
	if (status != LCR_OK)
		status = delete_upload_row(reg, uuid);
	if (status != LCR_OK)
		log_error("cannot delete upload session %s; the next start removes it", uuid);
	return status;
}

/* Move the verified upload file into the blob store.  An existing blob with
 * the same digest already contains the same bytes, so the upload is dropped. */
static int install_blob_file(struct registry *reg, const char *uuid, const char *digest)
{
	char path[128], dir[32];
	struct stat st;
	int dfd;

	blob_path(digest, path, sizeof(path));
	if (fstatat(reg->blobs_fd, path, &st, 0) == 0) {
		unlinkat(reg->uploads_fd, uuid, 0);
		return LCR_OK;
	}
	snprintf(dir, sizeof(dir), "sha256/%.2s", digest + 7);
	if (mkdirat(reg->blobs_fd, dir, 0750) < 0 && errno != EEXIST) {
		log_error("cannot create blob directory %s: %s", dir, strerror(errno));
		return LCR_ERR_INTERNAL;
	}
	if (renameat(reg->uploads_fd, uuid, reg->blobs_fd, path) < 0) {
		log_error("cannot move upload %s to %s: %s", uuid, path, strerror(errno));
		return LCR_ERR_INTERNAL;
	}
	dfd = openat(reg->blobs_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return LCR_OK;
}

/* Install the verified file and record it, all under the database write
 * lock, so that a concurrent gc (which deletes rows and files under the
 * same lock) never removes a file that this upload just recorded. */
static int record_blob(struct registry *reg, int64_t repository_id, const char *digest, uint64_t size,
		       const char *uuid, char *err, size_t errlen)
{
	sqlite3_stmt *stmt;
	int status, rc;

	status = registry_begin(reg, err, errlen);
	if (status != LCR_OK)
		return status;
	/* Under the write lock the session cannot go away any more, but a
	 * DELETE, a reset, an expiry or the repository's deletion may have
	 * removed it while its bytes were arriving. */
	status = registry_upload_stat(reg, repository_id, uuid, NULL);
	if (status != LCR_OK) {
		registry_rollback(reg);
		if (status == LCR_ERR_BLOB_UPLOAD_UNKNOWN)
			log_info("upload %s was removed before it completed", uuid);
		return lcr_fail(status, err, errlen, "upload %s was cancelled or expired before it completed", uuid);
	}
	status = install_blob_file(reg, uuid, digest);
	if (status != LCR_OK) {
		registry_rollback(reg);
		return lcr_fail(status, err, errlen, "cannot store blob");
	}
	stmt = registry_prepare(reg, "INSERT OR IGNORE INTO blobs (digest, size, created_at) VALUES (?, ?, ?)");
	if (stmt == NULL) {
		registry_rollback(reg);
		return registry_db_error(reg, "record blob", err, errlen);
	}
	sqlite3_bind_text(stmt, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (int64_t)size);
	sqlite3_bind_double(stmt, 3, clock_now());
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		registry_rollback(reg);
		return registry_db_error(reg, "record blob", err, errlen);
	}
	status = registry_blob_link(reg, repository_id, digest, err, errlen);
	if (status == LCR_OK && delete_upload_row(reg, uuid) != LCR_OK)
		status = registry_db_error(reg, "finish upload", err, errlen);
	if (status != LCR_OK) {
		registry_rollback(reg);
		return status;
	}
	return registry_commit(reg, err, errlen);
}

int registry_upload_complete(struct registry *reg, int64_t repository_id, struct blob_writer *w,
			     const char *expected_digest, char *err, size_t errlen)
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int rawlen = 0;
	char actual[DIGEST_BUF];
	char uuid[UUID_BUF];
	uint64_t size = w->size;
	int sync_errno = 0;
	int status;

	snprintf(uuid, sizeof(uuid), "%s", w->uuid);
	/* The file goes to disk while the hashing thread hashes its last bytes. */
	if (!w->failed && fsync(w->fd) < 0)
		sync_errno = errno;
	join_hasher(w);
	if (w->failed) {
		blob_writer_free(w);
		discard_upload(reg, uuid);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "writing the upload failed");
	}
	EVP_DigestFinal_ex(w->ctx, raw, &rawlen);
	memcpy(actual, "sha256:", 7);
	digest_hex(raw, rawlen, actual + 7);
	if (strcmp(actual, expected_digest) != 0) {
		blob_writer_free(w);
		discard_upload(reg, uuid);
		return lcr_fail(LCR_ERR_DIGEST_INVALID, err, errlen,
				"provided digest %s does not match the uploaded content (%s)", expected_digest, actual);
	}
	if (sync_errno != 0) {
		log_error("fsync of upload %s failed: %s", uuid, strerror(sync_errno));
		blob_writer_free(w);
		discard_upload(reg, uuid);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot persist upload");
	}
	blob_writer_free(w);
	status = record_blob(reg, repository_id, actual, size, uuid, err, errlen);
	if (status != LCR_OK)
		discard_upload(reg, uuid);
	return status;
}

int registry_upload_cancel(struct registry *reg, int64_t repository_id, const char *uuid)
{
	int status = registry_upload_stat(reg, repository_id, uuid, NULL);

	if (status != LCR_OK)
		return status;
	return discard_upload(reg, uuid);
}

void blob_writer_abort(struct blob_writer *w)
{
	struct registry *reg;
	char uuid[UUID_BUF];

	if (w == NULL)
		return;
	reg = w->reg;
	snprintf(uuid, sizeof(uuid), "%s", w->uuid);
	blob_writer_free(w);
	discard_upload(reg, uuid);
}

int registry_blob_unlink(struct registry *reg, int64_t repository_id, const char *digest)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "DELETE FROM blob_links WHERE repository_id = ? AND digest = ?");
	int rc;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, repository_id);
	sqlite3_bind_text(stmt, 2, digest, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return LCR_ERR_INTERNAL;
	return sqlite3_changes(registry_db(reg)) > 0 ? LCR_OK : LCR_ERR_BLOB_UNKNOWN;
}

int registry_blob_mount(struct registry *reg, int64_t from_repository_id, int64_t to_repository_id,
			const char *digest, char *err, size_t errlen)
{
	int status = registry_blob_stat(reg, from_repository_id, digest, NULL);

	if (status != LCR_OK)
		return status;
	return registry_blob_link(reg, to_repository_id, digest, err, errlen);
}

int registry_upload_note_part(struct registry *reg, const char *uuid, uint64_t part_size, uint64_t min_part_size)
{
	/* A part smaller than the minimum is allowed only as the last one,
	 * which is known only when the next part arrives or the upload
	 * completes. */
	sqlite3_stmt *stmt = registry_prepare(reg,
		"UPDATE uploads SET small_part_seen = small_part_seen OR (last_part_size > 0 AND last_part_size < ?),"
		" last_part_size = ?, updated_at = ? WHERE uuid = ?");
	int rc;

	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_int64(stmt, 1, (int64_t)min_part_size);
	sqlite3_bind_int64(stmt, 2, (int64_t)part_size);
	sqlite3_bind_double(stmt, 3, clock_now());
	sqlite3_bind_text(stmt, 4, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? LCR_OK : LCR_ERR_INTERNAL;
}

int registry_upload_small_part_seen(struct registry *reg, const char *uuid, bool *out)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT small_part_seen FROM uploads WHERE uuid = ?");

	*out = false;
	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_text(stmt, 1, uuid, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*out = sqlite3_column_int(stmt, 0) != 0;
	sqlite3_finalize(stmt);
	return LCR_OK;
}

void registry_upload_touch(struct registry *reg, const char *uuid)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "UPDATE uploads SET updated_at = ? WHERE uuid = ?");

	if (stmt == NULL)
		return;
	sqlite3_bind_double(stmt, 1, clock_now());
	sqlite3_bind_text(stmt, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_step(stmt);
	sqlite3_finalize(stmt);
}

/* Return whether a request holds the session's writer lock, which it does
 * for as long as it receives bytes into the session. */
static bool upload_in_use(struct registry *reg, const char *uuid)
{
	int fd = openat(reg->uploads_fd, uuid, O_RDONLY | O_CLOEXEC);
	bool busy;

	if (fd < 0)
		return false;
	busy = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

int registry_upload_expire(struct registry *reg, double idle_seconds, int *out_removed)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT uuid FROM uploads WHERE updated_at < ?");
	char (*uuids)[UUID_BUF] = NULL;
	size_t n = 0, cap = 0;

	*out_removed = 0;
	if (stmt == NULL)
		return LCR_ERR_INTERNAL;
	sqlite3_bind_double(stmt, 1, clock_now() - idle_seconds);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		if (n == cap) {
			void *grown = realloc(uuids, (cap = cap ? cap * 2 : 16) * sizeof(*uuids));

			if (grown == NULL)
				break;
			uuids = grown;
		}
		snprintf(uuids[n++], UUID_BUF, "%s", sqlite3_column_text(stmt, 0));
	}
	sqlite3_finalize(stmt);
	for (size_t i = 0; i < n; i++) {
		if (upload_in_use(reg, uuids[i]))
			continue;
		discard_upload(reg, uuids[i]);
		log_info("upload session %s expired after %.0f s without activity", uuids[i], idle_seconds);
		(*out_removed)++;
	}
	free(uuids);
	return LCR_OK;
}

void registry_blob_file_path(struct registry *reg, const char *digest, char *out, size_t outlen)
{
	char relative[128];

	blob_path(digest, relative, sizeof(relative));
	snprintf(out, outlen, "%s/blobs/%s", reg->data_dir, relative);
}
