/*
 * registry_int.h - what the registry's own files share.
 */
#ifndef LCR_REGISTRY_INT_H
#define LCR_REGISTRY_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "registry.h"

struct hash_state;

struct registry {
	char *data_dir;
	char *db_path;
	int dir_fd;      /* the data directory */
	int blobs_fd;    /* <data>/blobs */
	int uploads_fd;  /* <data>/uploads */
	pthread_key_t conn_key;
	pthread_mutex_t hash_lock;
	struct hash_state *hash_states; /* cached SHA-256 state per upload session */
	int busy_timeout_ms;            /* how long a statement waits for a lock */
	bool allow_immutable_repush;
};

/* The calling thread's connection, opened on first use; NULL on failure. */
sqlite3 *registry_db(struct registry *reg);

/* Run one statement with no result rows. */
int registry_exec(struct registry *reg, const char *sql, char *err, size_t errlen);

/* Prepare sql on the thread's connection; logs and returns NULL on error. */
sqlite3_stmt *registry_prepare(struct registry *reg, const char *sql);

/* Report a SQLite failure as LCR_ERR_INTERNAL, logging the detail. */
int registry_db_error(struct registry *reg, const char *what, char *err, size_t errlen);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK on the thread's connection. */
int registry_begin(struct registry *reg, char *err, size_t errlen);
int registry_commit(struct registry *reg, char *err, size_t errlen);
void registry_rollback(struct registry *reg);

/* Remove upload files that no session row owns; run at start-up. */
void registry_sweep_uploads(struct registry *reg);

/* Free every cached upload hash state; used at close. */
void registry_hash_states_free(struct registry *reg);

/* Link an existing blob to a repository (idempotent). */
int registry_blob_link(struct registry *reg, int64_t repository_id, const char *digest, char *err,
		       size_t errlen);

#endif
