/*
 * store.c - the data directory and the SQLite metadata database.
 *
 * Layout of the data directory:
 *
 *   localecr.db                      SQLite metadata (WAL mode)
 *   blobs/sha256/<ab>/<64 hex>       blob bytes, immutable once renamed in
 *   uploads/<uuid>                   bytes of an upload session in progress
 *
 * A blob file appears only after its bytes were fsynced and its digest
 * verified (see blob.c); metadata naming it is committed after the rename.
 * A crash therefore leaves the old state or the new one, plus upload files
 * that the start-up sweep removes.
 *
 * Schema (version 6):
 *   repositories(id, registry_id, region, name, created_at, tag_mutability,
 *                scan_on_push, encryption_type, kms_key, policy_text,
 *                tag_mutability_filters, lifecycle_policy)
 *   repository_tags(repository_id, key, value)       resource tags
 *   blobs(digest, size, created_at)                  files in blobs/
 *   blob_links(repository_id, digest, created_at)    what a repository may read
 *   images(id, repository_id, digest, media_type, artifact_media_type,
 *          manifest, size, pushed_at, last_pulled_at, subject_digest,
 *          artifact_type, storage_class, last_archived_at, last_activated_at)
 *   image_tags(repository_id, tag, image_id, updated_at)
 *   image_references(image_id, child_digest)         index -> child manifests
 *   uploads(uuid, repository_id, created_at, updated_at, last_part_size,
 *           small_part_seen)                       last two: ECR part rules
 *   account_settings(registry_id, region, name, value)
 *   registry_policies(registry_id, region, policy_text)
 *   lifecycle_previews(repository_id, policy_text, results, created_at)
 *   scans(image_id, status, description, requested_at, completed_at,
 *         findings, db_fingerprint, db_updated_at)        one per image
 *   scanning_configurations(registry_id, region, scan_type, rules)
 * Migrations run in order from the version stored in schema_version.
 */
#include "registry_int.h"

#include <jansson.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/status.h"

static const char *const migrations[] = {
	/* version 1 */
	"CREATE TABLE repositories ("
	" id INTEGER PRIMARY KEY,"
	" registry_id TEXT NOT NULL,"
	" region TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" created_at REAL NOT NULL,"
	" tag_mutability TEXT NOT NULL DEFAULT 'MUTABLE',"
	" scan_on_push INTEGER NOT NULL DEFAULT 0,"
	" encryption_type TEXT NOT NULL DEFAULT 'AES256',"
	" kms_key TEXT,"
	" UNIQUE (registry_id, region, name));"
	"CREATE TABLE repository_tags ("
	" repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY (repository_id, key));"
	"CREATE TABLE blobs ("
	" digest TEXT PRIMARY KEY, size INTEGER NOT NULL, created_at REAL NOT NULL);"
	"CREATE TABLE blob_links ("
	" repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
	" digest TEXT NOT NULL REFERENCES blobs(digest),"
	" created_at REAL NOT NULL,"
	" PRIMARY KEY (repository_id, digest));"
	"CREATE TABLE images ("
	" id INTEGER PRIMARY KEY,"
	" repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
	" digest TEXT NOT NULL,"
	" media_type TEXT NOT NULL,"
	" artifact_media_type TEXT,"
	" manifest BLOB NOT NULL,"
	" size INTEGER NOT NULL,"
	" pushed_at REAL NOT NULL,"
	" last_pulled_at REAL,"
	" subject_digest TEXT,"
	" artifact_type TEXT,"
	" UNIQUE (repository_id, digest));"
	"CREATE TABLE image_tags ("
	" repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
	" tag TEXT NOT NULL,"
	" image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	" updated_at REAL NOT NULL,"
	" PRIMARY KEY (repository_id, tag));"
	"CREATE INDEX image_tags_image ON image_tags(image_id);"
	"CREATE TABLE image_references ("
	" image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	" child_digest TEXT NOT NULL,"
	" PRIMARY KEY (image_id, child_digest));"
	"CREATE INDEX image_references_child ON image_references(child_digest);"
	"CREATE TABLE uploads ("
	" uuid TEXT PRIMARY KEY,"
	" repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
	" created_at REAL NOT NULL,"
	" updated_at REAL NOT NULL);",
	/* version 2: account settings, ECR layer part bookkeeping, referrers */
	"CREATE TABLE account_settings ("
	" registry_id TEXT NOT NULL,"
	" region TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (registry_id, region, name));"
	"ALTER TABLE uploads ADD COLUMN last_part_size INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE uploads ADD COLUMN small_part_seen INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX images_subject ON images(repository_id, subject_digest);",
	/* version 3: repository and registry policies */
	"ALTER TABLE repositories ADD COLUMN policy_text TEXT;"
	"CREATE TABLE registry_policies ("
	" registry_id TEXT NOT NULL,"
	" region TEXT NOT NULL,"
	" policy_text TEXT NOT NULL,"
	" PRIMARY KEY (registry_id, region));",
	/* version 4: tag immutability exclusion filters (a JSON array of
	 * {"filterType","filter"} objects) */
	"ALTER TABLE repositories ADD COLUMN tag_mutability_filters TEXT;",
	/* version 5: storage classes and lifecycle policies */
	"ALTER TABLE images ADD COLUMN storage_class TEXT NOT NULL DEFAULT 'STANDARD';"
	"ALTER TABLE images ADD COLUMN last_archived_at REAL;"
	"ALTER TABLE images ADD COLUMN last_activated_at REAL;"
	"ALTER TABLE repositories ADD COLUMN lifecycle_policy TEXT;"
	"CREATE TABLE lifecycle_previews ("
	" repository_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,"
	" policy_text TEXT NOT NULL,"
	" results TEXT NOT NULL,"
	" created_at REAL NOT NULL);",
	/* version 6: image scans and registry scanning configuration */
	"CREATE TABLE scans ("
	" image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
	" status TEXT NOT NULL,"
	" description TEXT,"
	" requested_at REAL NOT NULL,"
	" completed_at REAL,"
	" findings TEXT,"
	" db_fingerprint TEXT,"
	" db_updated_at REAL);"
	"CREATE TABLE scanning_configurations ("
	" registry_id TEXT NOT NULL,"
	" region TEXT NOT NULL,"
	" scan_type TEXT NOT NULL,"
	" rules TEXT NOT NULL,"
	" PRIMARY KEY (registry_id, region));",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static void close_connection(void *conn)
{
	sqlite3_close_v2(conn);
}

static sqlite3 *open_connection(const char *path, int busy_timeout_ms)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		log_error("cannot open database %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close_v2(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, busy_timeout_ms);
	/* WAL survives a process crash at synchronous=NORMAL: only a power
	 * loss can drop the last commits, and the blob files are fsynced. */
	if (sqlite3_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK) {
		log_error("cannot configure database %s: %s", path, sqlite3_errmsg(db));
		sqlite3_close_v2(db);
		return NULL;
	}
	return db;
}

sqlite3 *registry_db(struct registry *reg)
{
	sqlite3 *db = pthread_getspecific(reg->conn_key);

	if (db == NULL) {
		db = open_connection(reg->db_path, reg->busy_timeout_ms);
		if (db != NULL)
			pthread_setspecific(reg->conn_key, db);
	}
	return db;
}

int registry_db_error(struct registry *reg, const char *what, char *err, size_t errlen)
{
	sqlite3 *db = registry_db(reg);

	log_error("database error during %s: %s", what, db ? sqlite3_errmsg(db) : "no connection");
	return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "internal storage error");
}

int registry_exec(struct registry *reg, const char *sql, char *err, size_t errlen)
{
	sqlite3 *db = registry_db(reg);

	if (db == NULL || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return registry_db_error(reg, sql, err, errlen);
	return LCR_OK;
}

sqlite3_stmt *registry_prepare(struct registry *reg, const char *sql)
{
	sqlite3 *db = registry_db(reg);
	sqlite3_stmt *stmt = NULL;

	if (db == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		log_error("cannot prepare statement: %s: %s", sqlite3_errmsg(db), sql);
		return NULL;
	}
	return stmt;
}

int registry_begin(struct registry *reg, char *err, size_t errlen)
{
	return registry_exec(reg, "BEGIN IMMEDIATE", err, errlen);
}

int registry_commit(struct registry *reg, char *err, size_t errlen)
{
	int status = registry_exec(reg, "COMMIT", err, errlen);

	if (status != LCR_OK)
		registry_rollback(reg);
	return status;
}

void registry_rollback(struct registry *reg)
{
	sqlite3 *db = registry_db(reg);

	if (db != NULL && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static int schema_version(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	int version = 0;

	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", NULL, NULL,
			 NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return version;
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	int version;
	char sql[128];

	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot enable WAL: %s", sqlite3_errmsg(db));
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot lock database: %s", sqlite3_errmsg(db));
	version = schema_version(db);
	if (version < 0 || version > SCHEMA_VERSION) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen,
				"database schema version %d is unknown to this localecr (which knows up to %d)", version,
				SCHEMA_VERSION);
	}
	for (int v = version; v < SCHEMA_VERSION; v++) {
		if (sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
			int status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "migration to schema version %d failed: %s",
					      v + 1, sqlite3_errmsg(db));

			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return status;
		}
		log_info("database migrated to schema version %d", v + 1);
	}
	snprintf(sql, sizeof(sql), "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)", SCHEMA_VERSION);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot record schema version: %s", sqlite3_errmsg(db));
	}
	return LCR_OK;
}

static int open_subdir(int parent, const char *name, char *err, size_t errlen)
{
	int fd;

	if (mkdirat(parent, name, 0750) < 0 && errno != EEXIST) {
		lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot create %s: %s", name, strerror(errno));
		return -1;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot open %s: %s", name, strerror(errno));
	return fd;
}

/* mkdir -p: create path and any missing parents. */
static int make_directories(const char *path)
{
	char copy[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(copy, path, len + 1);
	for (char *p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0750) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(copy, 0750) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int registry_open(const char *data_dir, bool sweep, struct registry **out, char *err, size_t errlen)
{
	struct registry *reg = calloc(1, sizeof(*reg));
	sqlite3 *db = NULL;
	int status = LCR_ERR_INTERNAL;
	int sha_fd;

	*out = NULL;
	if (reg == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	reg->dir_fd = reg->blobs_fd = reg->uploads_fd = -1;
	reg->busy_timeout_ms = REGISTRY_BUSY_TIMEOUT_DEFAULT_MS;
	pthread_mutex_init(&reg->hash_lock, NULL);
	if (pthread_key_create(&reg->conn_key, close_connection) != 0) {
		free(reg);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot create thread key");
	}
	if (make_directories(data_dir) < 0) {
		lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot create data directory %s: %s", data_dir, strerror(errno));
		goto fail;
	}
	reg->data_dir = strdup(data_dir);
	reg->dir_fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (reg->data_dir == NULL || reg->dir_fd < 0) {
		lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot open data directory %s: %s", data_dir, strerror(errno));
		goto fail;
	}
	reg->blobs_fd = open_subdir(reg->dir_fd, "blobs", err, errlen);
	if (reg->blobs_fd < 0)
		goto fail;
	sha_fd = open_subdir(reg->blobs_fd, "sha256", err, errlen);
	if (sha_fd < 0)
		goto fail;
	close(sha_fd);
	reg->uploads_fd = open_subdir(reg->dir_fd, "uploads", err, errlen);
	if (reg->uploads_fd < 0)
		goto fail;
	if (asprintf(&reg->db_path, "%s/localecr.db", data_dir) < 0) {
		reg->db_path = NULL;
		goto fail;
	}
	db = registry_db(reg);
	if (db == NULL) {
		lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot open database %s", reg->db_path);
		goto fail;
	}
	status = migrate(db, err, errlen);
	if (status != LCR_OK)
		goto fail;
	if (sweep)
		registry_sweep_uploads(reg);
	*out = reg;
	return LCR_OK;
fail:
	registry_close(reg);
	return status == LCR_OK ? LCR_ERR_INTERNAL : status;
}

void registry_close(struct registry *reg)
{
	sqlite3 *db;

	if (reg == NULL)
		return;
	db = pthread_getspecific(reg->conn_key);
	if (db != NULL) {
		pthread_setspecific(reg->conn_key, NULL);
		sqlite3_close_v2(db);
	}
	pthread_key_delete(reg->conn_key);
	registry_hash_states_free(reg);
	if (reg->dir_fd >= 0)
		close(reg->dir_fd);
	if (reg->blobs_fd >= 0)
		close(reg->blobs_fd);
	if (reg->uploads_fd >= 0)
		close(reg->uploads_fd);
	pthread_mutex_destroy(&reg->hash_lock);
	free(reg->data_dir);
	free(reg->db_path);
	free(reg);
}

/* A crash after a completed upload's file was renamed into the blob store,
 * but before its session row was deleted, leaves a session without a file:
 * the upload itself either committed or never counted, so the row goes. */
static void sweep_sessions_without_file(struct registry *reg)
{
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT uuid FROM uploads");
	sqlite3_stmt *del = registry_prepare(reg, "DELETE FROM uploads WHERE uuid = ?");
	struct stat sb;
	int removed = 0;

	while (stmt != NULL && del != NULL && sqlite3_step(stmt) == SQLITE_ROW) {
		const char *uuid = (const char *)sqlite3_column_text(stmt, 0);

		if (fstatat(reg->uploads_fd, uuid, &sb, 0) == 0)
			continue;
		sqlite3_reset(del);
		sqlite3_bind_text(del, 1, uuid, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(del) == SQLITE_DONE)
			removed++;
	}
	sqlite3_finalize(stmt);
	sqlite3_finalize(del);
	if (removed > 0)
		log_info("upload sweep removed %d session(s) whose file was gone", removed);
}

void registry_sweep_uploads(struct registry *reg)
{
	int fd = dup(reg->uploads_fd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	sqlite3_stmt *stmt = registry_prepare(reg, "SELECT 1 FROM uploads WHERE uuid = ?");
	struct dirent *entry;
	int removed = 0;

	if (dir == NULL || stmt == NULL) {
		log_warn("upload sweep skipped: cannot read the uploads directory or database");
		if (dir != NULL)
			closedir(dir);
		else if (fd >= 0)
			close(fd);
		sqlite3_finalize(stmt);
		return;
	}
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, entry->d_name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(stmt) == SQLITE_ROW)
			continue;
		if (unlinkat(reg->uploads_fd, entry->d_name, 0) == 0)
			removed++;
		else
			log_warn("upload sweep: cannot remove %s: %s", entry->d_name, strerror(errno));
	}
	closedir(dir);
	sqlite3_finalize(stmt);
	if (removed > 0)
		log_info("upload sweep removed %d file(s) that no upload session owned", removed);
	sweep_sessions_without_file(reg);
}

int registry_secret_load(struct registry *reg, const char *name, unsigned char *out, size_t len, char *err,
			 size_t errlen)
{
	char tmp[256];
	int fd = openat(reg->dir_fd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd >= 0) {
		n = read(fd, out, len);
		close(fd);
		if (n == (ssize_t)len)
			return LCR_OK;
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "secret file %s/%s is damaged; remove it to make a new one",
				reg->data_dir, name);
	}
	if (!random_bytes(out, len))
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot generate random bytes");
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(reg->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot create %s: %s", tmp, strerror(errno));
	n = write(fd, out, len);
	if (n != (ssize_t)len || fsync(fd) < 0) {
		close(fd);
		unlinkat(reg->dir_fd, tmp, 0);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot write %s", tmp);
	}
	close(fd);
	if (renameat(reg->dir_fd, tmp, reg->dir_fd, name) < 0)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
	fsync(reg->dir_fd);
	return LCR_OK;
}

void registry_set_busy_timeout(struct registry *reg, int milliseconds)
{
	sqlite3 *db = pthread_getspecific(reg->conn_key);

	reg->busy_timeout_ms = milliseconds;
	if (db != NULL)
		sqlite3_busy_timeout(db, milliseconds);
}

void registry_set_allow_immutable_repush(struct registry *reg, bool allow)
{
	reg->allow_immutable_repush = allow;
}

/* Remove every file in the directory fd names (one level). */
static void empty_directory(int parent_fd, const char *name)
{
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *entry;

	while (dir != NULL && (entry = readdir(dir)) != NULL)
		if (entry->d_name[0] != '.')
			unlinkat(dirfd(dir), entry->d_name, 0);
	if (dir != NULL)
		closedir(dir);
	else if (fd >= 0)
		close(fd);
}

int registry_reset(struct registry *reg, char *err, size_t errlen)
{
	static const char *const tables[] = {"repositories", "blobs", "account_settings", "registry_policies",
					     "scanning_configurations", "uploads"};
	int sha_fd;
	DIR *dir;
	struct dirent *entry;
	int status = registry_begin(reg, err, errlen);

	for (size_t i = 0; status == LCR_OK && i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[80];

		snprintf(sql, sizeof(sql), "DELETE FROM %s", tables[i]);
		status = registry_exec(reg, sql, err, errlen);
	}
	if (status != LCR_OK) {
		registry_rollback(reg);
		return status;
	}
	/* Files go while the write lock is held: an upload installs its blob
	 * and records it inside its own write transaction, so it runs wholly
	 * before or wholly after this, never leaving a row without a file. */
	sha_fd = openat(reg->blobs_fd, "sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = sha_fd >= 0 ? fdopendir(sha_fd) : NULL;
	while (dir != NULL && (entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		empty_directory(dirfd(dir), entry->d_name);
	}
	if (dir != NULL)
		closedir(dir);
	else if (sha_fd >= 0)
		close(sha_fd);
	empty_directory(reg->dir_fd, "uploads");
	status = registry_commit(reg, err, errlen);
	pthread_mutex_lock(&reg->hash_lock);
	registry_hash_states_free(reg);
	pthread_mutex_unlock(&reg->hash_lock);
	return status;
}

int registry_state(struct registry *reg, json_t **out)
{
	static const char *const queries[][2] = {
		{"repositories", "SELECT count(*) FROM repositories"},
		{"images", "SELECT count(*) FROM images"},
		{"tags", "SELECT count(*) FROM image_tags"},
		{"blobs", "SELECT count(*) FROM blobs"},
		{"blobBytes", "SELECT coalesce(sum(size), 0) FROM blobs"},
		{"uploads", "SELECT count(*) FROM uploads"},
		{"scans", "SELECT count(*) FROM scans"},
		{"archivedImages", "SELECT count(*) FROM images WHERE storage_class = 'ARCHIVE'"},
		{"lifecyclePolicies", "SELECT count(*) FROM repositories WHERE lifecycle_policy IS NOT NULL"},
		{"repositoryPolicies", "SELECT count(*) FROM repositories WHERE policy_text IS NOT NULL"},
	};
	json_t *state = json_object();

	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		sqlite3_stmt *stmt = registry_prepare(reg, queries[i][1]);

		if (stmt != NULL && sqlite3_step(stmt) == SQLITE_ROW)
			json_object_set_new(state, queries[i][0], json_integer(sqlite3_column_int64(stmt, 0)));
		sqlite3_finalize(stmt);
	}
	*out = state;
	return LCR_OK;
}
