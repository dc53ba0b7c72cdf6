/*
 * audit.c - the CloudTrail-format audit trail: queue, batched writer,
 * listing, read-only SQL and CloudTrail log-file export.
 *
 * <data>/audit.db is its own SQLite file, so audit writes never hold the
 * metadata database's write lock.  Its one table:
 *   cloudtrail(eventID PRIMARY KEY, eventVersion, eventTime, eventEpoch,
 *              eventSource, eventName, awsRegion, sourceIPAddress,
 *              userAgent, userIdentity, requestParameters,
 *              responseElements, serviceEventDetails, requestID,
 *              eventType, recipientAccountId, readOnly, resources,
 *              errorCode, errorMessage,
 *              principalArn, principalType, principalAccount, accessKeyId,
 *              userName, repositoryName, record)
 * userIdentity, requestParameters, responseElements, serviceEventDetails
 * and resources contain JSON text, and record contains the whole record.  The
 * flattened columns repeat the nested values most queries filter on.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <sqlite3.h>

#include "../common/buf.h"
#include "../common/clock.h"
#include "../common/digest.h"
#include "../common/log.h"
#include "../common/status.h"

/* Batches are written at least this often, or sooner when this many
 * records wait. */
#define AUDIT_FLUSH_MS 200
#define AUDIT_BATCH_MAX 512
/* A burst beyond this many queued records drops the oldest ones with a
 * warning rather than growing without bound. */
#define AUDIT_QUEUE_MAX 100000

static const char *const audit_schema =
	"CREATE TABLE IF NOT EXISTS cloudtrail ("
	" eventID TEXT PRIMARY KEY, eventVersion TEXT, eventTime TEXT, eventEpoch REAL, eventSource TEXT,"
	" eventName TEXT, awsRegion TEXT, sourceIPAddress TEXT, userAgent TEXT, userIdentity TEXT,"
	" requestParameters TEXT, responseElements TEXT, serviceEventDetails TEXT, requestID TEXT,"
	" eventType TEXT, recipientAccountId TEXT, readOnly INTEGER, resources TEXT, errorCode TEXT,"
	" errorMessage TEXT, principalArn TEXT, principalType TEXT, principalAccount TEXT, accessKeyId TEXT,"
	" userName TEXT, repositoryName TEXT, record TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS cloudtrail_time ON cloudtrail(eventEpoch);"
	"CREATE INDEX IF NOT EXISTS cloudtrail_name ON cloudtrail(eventName);";

struct audit_log {
	char *path;
	sqlite3 *db;            /* the writer's connection, NULL until opened or when it failed */
	double retention_days;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t drained;
	json_t *queue;          /* array of pending records */
	bool stopping;
	bool writing;
	bool ready;             /* the writer has opened db or failed to */
	double last_retention_pass;
};

static const char *text_or_null(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void bind_text(sqlite3_stmt *stmt, int index, const char *value)
{
	if (value != NULL)
		sqlite3_bind_text(stmt, index, value, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, index);
}

static void bind_json(sqlite3_stmt *stmt, int index, json_t *value)
{
	char *text;

	if (value == NULL || json_is_null(value)) {
		sqlite3_bind_null(stmt, index);
		return;
	}
	text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	sqlite3_bind_text(stmt, index, text ? text : "null", -1, SQLITE_TRANSIENT);
	free(text);
}

static void insert_record(sqlite3_stmt *stmt, json_t *r)
{
	json_t *identity = json_object_get(r, "userIdentity");
	json_t *params = json_object_get(r, "requestParameters");
	json_t *details = json_object_get(r, "serviceEventDetails");
	const char *repository = text_or_null(params, "repositoryName");
	double epoch = 0;
	char *whole = json_dumps(r, JSON_COMPACT);

	if (repository == NULL)
		repository = text_or_null(details, "repositoryName");
	clock_parse_rfc3339(text_or_null(r, "eventTime") ? text_or_null(r, "eventTime") : "", &epoch);
	sqlite3_reset(stmt);
	bind_text(stmt, 1, text_or_null(r, "eventID"));
	bind_text(stmt, 2, text_or_null(r, "eventVersion"));
	bind_text(stmt, 3, text_or_null(r, "eventTime"));
	sqlite3_bind_double(stmt, 4, epoch);
	bind_text(stmt, 5, text_or_null(r, "eventSource"));
	bind_text(stmt, 6, text_or_null(r, "eventName"));
	bind_text(stmt, 7, text_or_null(r, "awsRegion"));
	bind_text(stmt, 8, text_or_null(r, "sourceIPAddress"));
	bind_text(stmt, 9, text_or_null(r, "userAgent"));
	bind_json(stmt, 10, identity);
	bind_json(stmt, 11, params);
	bind_json(stmt, 12, json_object_get(r, "responseElements"));
	bind_json(stmt, 13, details);
	bind_text(stmt, 14, text_or_null(r, "requestID"));
	bind_text(stmt, 15, text_or_null(r, "eventType"));
	bind_text(stmt, 16, text_or_null(r, "recipientAccountId"));
	sqlite3_bind_int(stmt, 17, json_is_true(json_object_get(r, "readOnly")));
	bind_json(stmt, 18, json_object_get(r, "resources"));
	bind_text(stmt, 19, text_or_null(r, "errorCode"));
	bind_text(stmt, 20, text_or_null(r, "errorMessage"));
	bind_text(stmt, 21, text_or_null(identity, "arn"));
	bind_text(stmt, 22, text_or_null(identity, "type"));
	bind_text(stmt, 23, text_or_null(identity, "accountId"));
	bind_text(stmt, 24, text_or_null(identity, "accessKeyId"));
	bind_text(stmt, 25, text_or_null(identity, "userName"));
	bind_text(stmt, 26, repository);
	sqlite3_bind_text(stmt, 27, whole ? whole : "{}", -1, SQLITE_TRANSIENT);
	free(whole);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		log_warn("audit: cannot store record %s: %s", text_or_null(r, "eventID"),
			 sqlite3_errmsg(sqlite3_db_handle(stmt)));
}

static void write_batch(struct audit_log *log, json_t *batch)
{
	sqlite3_stmt *stmt = NULL;
	json_t *r;
	size_t i;

	if (sqlite3_exec(log->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(log->db,
			       "INSERT OR IGNORE INTO cloudtrail VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
			       " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &stmt, NULL) != SQLITE_OK) {
		log_warn("audit: cannot write %zu record(s): %s", json_array_size(batch), sqlite3_errmsg(log->db));
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	json_array_foreach(batch, i, r)
		insert_record(stmt, r);
	sqlite3_finalize(stmt);
	if (sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_warn("audit: cannot commit %zu record(s): %s", json_array_size(batch), sqlite3_errmsg(log->db));
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	}
}

static void apply_retention(struct audit_log *log)
{
	sqlite3_stmt *stmt;

	if (log->retention_days <= 0 || clock_now() - log->last_retention_pass < 3600)
		return;
	log->last_retention_pass = clock_now();
	if (sqlite3_prepare_v2(log->db, "DELETE FROM cloudtrail WHERE eventEpoch < ?", -1, &stmt, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_double(stmt, 1, clock_now() - log->retention_days * 86400);
	sqlite3_step(stmt);
	sqlite3_finalize(stmt);
}

/* Open and set up audit.db on the writer's connection, or log why the
 * trail is disabled and leave db NULL. */
static void open_database(struct audit_log *log)
{
	sqlite3 *db = NULL;

	/* The busy timeout comes first, so that another process holding a lock
	 * on audit.db for a moment delays the set-up rather than failing it. */
	if (sqlite3_open_v2(log->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 10000) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, audit_schema, NULL, NULL, NULL) != SQLITE_OK) {
		log_warn("audit trail disabled: cannot open %s: %s", log->path,
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close_v2(db);
		return;
	}
	log->db = db;
}

/* The writer thread opens the database, so that start-up does not wait for
 * its schema and fsyncs.  Records submitted meanwhile wait in the queue. */
static void *writer_main(void *arg)
{
	struct audit_log *log = arg;

	open_database(log);
	pthread_mutex_lock(&log->lock);
	log->ready = true;
	pthread_cond_broadcast(&log->drained);
	for (;;) {
		json_t *batch;
		struct timespec deadline;

		while (json_array_size(log->queue) == 0 && !log->stopping) {
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_nsec += AUDIT_FLUSH_MS * 1000000L;
			if (deadline.tv_nsec >= 1000000000L) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&log->wake, &log->lock, &deadline);
		}
		if (json_array_size(log->queue) == 0 && log->stopping)
			break;
		batch = log->queue;
		log->queue = json_array();
		log->writing = true;
		pthread_mutex_unlock(&log->lock);
		if (log->db != NULL) {
			write_batch(log, batch);
			apply_retention(log);
		}
		json_decref(batch);
		pthread_mutex_lock(&log->lock);
		log->writing = false;
		pthread_cond_broadcast(&log->drained);
	}
	pthread_mutex_unlock(&log->lock);
	return NULL;
}

int audit_open(const char *data_dir, double retention_days, struct audit_log **out, char *err, size_t errlen)
{
	struct audit_log *log = calloc(1, sizeof(*log));

	*out = NULL;
	if (log == NULL || asprintf(&log->path, "%s/audit.db", data_dir) < 0) {
		free(log);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	}
	log->retention_days = retention_days;
	log->queue = json_array();
	pthread_mutex_init(&log->lock, NULL);
	pthread_cond_init(&log->wake, NULL);
	pthread_cond_init(&log->drained, NULL);
	if (log->queue == NULL || pthread_create(&log->thread, NULL, writer_main, log) != 0) {
		json_decref(log->queue);
		pthread_mutex_destroy(&log->lock);
		pthread_cond_destroy(&log->wake);
		pthread_cond_destroy(&log->drained);
		free(log->path);
		free(log);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot start the audit writer");
	}
	*out = log;
	return LCR_OK;
}

void audit_submit(struct audit_log *log, json_t *record_new)
{
	if (log == NULL) {
		json_decref(record_new);
		return;
	}
	pthread_mutex_lock(&log->lock);
	if (log->ready && log->db == NULL) {
		pthread_mutex_unlock(&log->lock);
		json_decref(record_new);
		return;
	}
	if (json_array_size(log->queue) >= AUDIT_QUEUE_MAX) {
		json_array_remove(log->queue, 0);
		log_warn("audit: queue full, dropped the oldest record");
	}
	json_array_append_new(log->queue, record_new);
	if (json_array_size(log->queue) >= AUDIT_BATCH_MAX)
		pthread_cond_signal(&log->wake);
	pthread_mutex_unlock(&log->lock);
}

bool audit_enabled(struct audit_log *log)
{
	bool enabled;

	if (log == NULL)
		return false;
	pthread_mutex_lock(&log->lock);
	while (!log->ready)
		pthread_cond_wait(&log->drained, &log->lock);
	enabled = log->db != NULL;
	pthread_mutex_unlock(&log->lock);
	return enabled;
}

void audit_flush(struct audit_log *log)
{
	if (log == NULL)
		return;
	pthread_mutex_lock(&log->lock);
	pthread_cond_signal(&log->wake);
	while (!log->ready || json_array_size(log->queue) > 0 || log->writing)
		pthread_cond_wait(&log->drained, &log->lock);
	pthread_mutex_unlock(&log->lock);
}

void audit_close(struct audit_log *log)
{
	if (log == NULL)
		return;
	pthread_mutex_lock(&log->lock);
	log->stopping = true;
	pthread_cond_signal(&log->wake);
	pthread_mutex_unlock(&log->lock);
	pthread_join(log->thread, NULL);
	json_decref(log->queue);
	sqlite3_close_v2(log->db);
	pthread_mutex_destroy(&log->lock);
	pthread_cond_destroy(&log->wake);
	pthread_cond_destroy(&log->drained);
	free(log->path);
	free(log);
}

json_t *audit_list(struct audit_log *log, const char *event_name, const char *principal, const char *error_code,
		   double since, double until, int limit)
{
	sqlite3_stmt *stmt = NULL;
	json_t *records = json_array();
	json_error_t jerr;

	if (log == NULL)
		return records;
	audit_flush(log);
	if (log->db == NULL)
		return records;
	if (sqlite3_prepare_v2(log->db,
			       "SELECT record FROM cloudtrail WHERE (?1 IS NULL OR eventName = ?1)"
			       " AND (?2 IS NULL OR principalArn = ?2) AND (?3 IS NULL OR errorCode = ?3)"
			       " AND (?4 = 0 OR eventEpoch >= ?4) AND (?5 = 0 OR eventEpoch <= ?5)"
			       " ORDER BY eventEpoch DESC, rowid DESC LIMIT ?6",
			       -1, &stmt, NULL) != SQLITE_OK)
		return records;
	bind_text(stmt, 1, event_name);
	bind_text(stmt, 2, principal);
	bind_text(stmt, 3, error_code);
	sqlite3_bind_double(stmt, 4, since);
	sqlite3_bind_double(stmt, 5, until);
	sqlite3_bind_int(stmt, 6, limit);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		json_t *r = json_loads((const char *)sqlite3_column_text(stmt, 0), 0, &jerr);

		if (r != NULL)
			json_array_append_new(records, r);
	}
	sqlite3_finalize(stmt);
	return records;
}

static int open_readonly(const char *data_dir, sqlite3 **out, FILE *errout)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/audit.db", data_dir);
	if (access(path, R_OK) != 0) {
		fprintf(errout, "localecr: no audit database at %s\n", path);
		return 2;
	}
	if (sqlite3_open_v2(path, out, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(errout, "localecr: cannot open %s: %s\n", path, *out ? sqlite3_errmsg(*out) : "out of memory");
		sqlite3_close_v2(*out);
		return 2;
	}
	sqlite3_busy_timeout(*out, 10000);
	return 0;
}

static void print_cell(FILE *out, sqlite3_stmt *stmt, int i)
{
	const char *v = (const char *)sqlite3_column_text(stmt, i);

	fputs(v != NULL ? v : "NULL", out);
}

int audit_query(const char *data_dir, const char *sql, bool json_lines, FILE *out, FILE *errout)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int rc = open_readonly(data_dir, &db, errout), cols, step;
	bool header = false;

	if (rc != 0)
		return rc;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK || !sqlite3_stmt_readonly(stmt)) {
		fprintf(errout, "localecr: %s\n", stmt == NULL ? sqlite3_errmsg(db) : "only read-only SQL is allowed");
		sqlite3_finalize(stmt);
		sqlite3_close_v2(db);
		return 1;
	}
	cols = sqlite3_column_count(stmt);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (json_lines) {
			json_t *row = json_object();
			char *text;

			for (int i = 0; i < cols; i++) {
				const char *name = sqlite3_column_name(stmt, i);

				switch (sqlite3_column_type(stmt, i)) {
				case SQLITE_INTEGER:
					json_object_set_new(row, name, json_integer(sqlite3_column_int64(stmt, i)));
					break;
				case SQLITE_FLOAT:
					json_object_set_new(row, name, json_real(sqlite3_column_double(stmt, i)));
					break;
				case SQLITE_NULL:
					json_object_set_new(row, name, json_null());
					break;
				default:
					json_object_set_new(row, name, json_string((const char *)sqlite3_column_text(stmt, i)));
				}
			}
			text = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fprintf(out, "%s\n", text ? text : "{}");
			free(text);
			json_decref(row);
			continue;
		}
		if (!header) {
			for (int i = 0; i < cols; i++)
				fprintf(out, "%s%s", i ? "\t" : "", sqlite3_column_name(stmt, i));
			fputc('\n', out);
			header = true;
		}
		for (int i = 0; i < cols; i++) {
			if (i)
				fputc('\t', out);
			print_cell(out, stmt, i);
		}
		fputc('\n', out);
	}
	if (step != SQLITE_DONE) {
		fprintf(errout, "localecr: %s\n", sqlite3_errmsg(db));
		rc = 1;
	}
	sqlite3_finalize(stmt);
	sqlite3_close_v2(db);
	return rc;
}

/* Write one CloudTrail log file: gzip of {"Records":[...]}. */
static int write_log_file(const char *path, json_t *records)
{
	json_t *body = json_pack("{s:O}", "Records", records);
	char *text = json_dumps(body, JSON_COMPACT);
	struct archive *a = archive_write_new();
	struct archive_entry *entry = NULL;
	int rc = -1;

	json_decref(body);
	if (text == NULL || a == NULL)
		goto out;
	/* A raw-format archive with a gzip filter is a plain .gz file. */
	if (archive_write_add_filter_gzip(a) != ARCHIVE_OK || archive_write_set_format_raw(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, path) != ARCHIVE_OK)
		goto out;
	entry = archive_entry_new();
	archive_entry_set_filetype(entry, AE_IFREG);
	archive_entry_set_size(entry, (la_int64_t)strlen(text));
	if (archive_write_header(a, entry) == ARCHIVE_OK && archive_write_data(a, text, strlen(text)) >= 0 &&
	    archive_write_close(a) == ARCHIVE_OK)
		rc = 0;
out:
	archive_entry_free(entry);
	archive_write_free(a);
	free(text);
	return rc;
}

static int make_dirs(const char *path)
{
	char copy[4400];

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(copy, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int audit_export(const char *data_dir, const char *out_dir, double since, FILE *out, FILE *errout)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	json_t *group = json_array();
	char key[128] = "", current[128] = "";
	char account[16] = "", region[40] = "", hour[16] = "";
	int rc = open_readonly(data_dir, &db, errout), files = 0;

	if (rc != 0) {
		json_decref(group);
		return rc;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT recipientAccountId, awsRegion, strftime('%Y%m%dT%H00Z', eventEpoch, 'unixepoch'), record"
			       " FROM cloudtrail WHERE eventEpoch >= ? ORDER BY recipientAccountId, awsRegion, eventEpoch",
			       -1, &stmt, NULL) != SQLITE_OK) {
		fprintf(errout, "localecr: %s\n", sqlite3_errmsg(db));
		sqlite3_close_v2(db);
		json_decref(group);
		return 1;
	}
	sqlite3_bind_double(stmt, 1, since);
	for (;;) {
		int step = sqlite3_step(stmt);
		bool row = step == SQLITE_ROW;

		if (row)
			snprintf(key, sizeof(key), "%s|%s|%s", sqlite3_column_text(stmt, 0) ? (const char *)sqlite3_column_text(stmt, 0) : "000000000000",
				 sqlite3_column_text(stmt, 1) ? (const char *)sqlite3_column_text(stmt, 1) : "us-east-1",
				 sqlite3_column_text(stmt, 2));
		if ((!row || strcmp(key, current) != 0) && json_array_size(group) > 0) {
			char dir[4200], path[4400], suffix[17], uuid[UUID_BUF];

			uuid_generate_v4(uuid);
			snprintf(suffix, sizeof(suffix), "%.8s%.4s%.4s", uuid, uuid + 9, uuid + 14);
			snprintf(dir, sizeof(dir), "%s/AWSLogs/%s/CloudTrail/%s/%.4s/%.2s/%.2s", out_dir, account, region, hour,
				 hour + 4, hour + 6);
			/* CloudTrail's file name: <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 characters>.json.gz */
			snprintf(path, sizeof(path), "%s/%s_CloudTrail_%s_%s_%s.json.gz", dir, account, region, hour, suffix);
			if (make_dirs(dir) < 0 || write_log_file(path, group) < 0) {
				fprintf(errout, "localecr: cannot write %s: %s\n", path, strerror(errno));
				rc = 1;
			} else {
				fprintf(out, "%s (%zu records)\n", path, json_array_size(group));
				files++;
			}
			json_array_clear(group);
		}
		if (!row)
			break;
		snprintf(current, sizeof(current), "%s", key);
		sscanf(key, "%15[^|]|%39[^|]|%15s", account, region, hour);
		{
			json_error_t jerr;
			json_t *r = json_loads((const char *)sqlite3_column_text(stmt, 3), 0, &jerr);

			if (r != NULL)
				json_array_append_new(group, r);
		}
	}
	sqlite3_finalize(stmt);
	sqlite3_close_v2(db);
	json_decref(group);
	fprintf(out, "%d file(s) written\n", files);
	return rc;
}

void audit_reset(struct audit_log *log)
{
	if (log == NULL)
		return;
	audit_flush(log);
	if (log->db == NULL)
		return;
	pthread_mutex_lock(&log->lock);
	sqlite3_exec(log->db, "DELETE FROM cloudtrail", NULL, NULL, NULL);
	pthread_mutex_unlock(&log->lock);
}

long long audit_count(struct audit_log *log)
{
	sqlite3_stmt *stmt = NULL;
	long long n = 0;

	if (log == NULL)
		return 0;
	audit_flush(log);
	if (log->db == NULL)
		return 0;
	pthread_mutex_lock(&log->lock);
	if (sqlite3_prepare_v2(log->db, "SELECT count(*) FROM cloudtrail", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	pthread_mutex_unlock(&log->lock);
	return n;
}
