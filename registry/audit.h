/*
 * audit.h - the CloudTrail-format audit trail.
 *
 * Records are CloudTrail JSON objects.  They are queued in memory and a
 * writer thread inserts them in batches into <data>/audit.db, so a
 * request does not wait for the audit write.  The table "cloudtrail" has one
 * column per CloudTrail field (nested ones as JSON text, reachable with
 * SQLite's JSON functions) plus flattened columns for the common nested
 * values.  Records older than the retention are deleted by the writer.
 */
#ifndef LCR_AUDIT_H
#define LCR_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct json_t;
struct audit_log;

/* Start the writer thread, which opens (creating) <data_dir>/audit.db.
 * Records submitted before it is open wait in the queue.  When it cannot
 * be opened, the writer logs a warning and drops every record. */
int audit_open(const char *data_dir, double retention_days, struct audit_log **out, char *err, size_t errlen);
/* Return whether audit.db is open, waiting for the writer to try. */
bool audit_enabled(struct audit_log *log);
/* Flush what is queued, stop the writer and close. */
void audit_close(struct audit_log *log);

/* Queue a record and take the reference.  The caller waits only for the
 * queue lock, which audit_reset and audit_count hold during their statement. */
void audit_submit(struct audit_log *log, struct json_t *record_new);

/* Write everything queued now (tests and shutdown). */
void audit_flush(struct audit_log *log);

/* Delete every record (POST /_localecr/reset). */
void audit_reset(struct audit_log *log);
long long audit_count(struct audit_log *log);

/* Records matching the filters (NULL = any), newest first, at most limit,
 * as a new JSON array. since/until are epoch seconds, 0 = open. */
struct json_t *audit_list(struct audit_log *log, const char *event_name, const char *principal, const char *error_code,
			  double since, double until, int limit);

/* Run read-only SQL against <data_dir>/audit.db, printing a table or JSON
 * lines; returns an exit status (0 ok, 1 SQL error, 2 no audit database). */
int audit_query(const char *data_dir, const char *sql, bool json_lines, FILE *out, FILE *errout);

/* Write CloudTrail log files (gzip JSON {"Records":[...]}) under
 * out_dir/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/ with
 * CloudTrail's file names, one file per account, region and hour. */
int audit_export(const char *data_dir, const char *out_dir, double since, FILE *out, FILE *errout);

#endif
