/*
 * registry.h - repositories, images, tags, blobs and upload sessions.
 *
 * The registry owns the data directory: the SQLite metadata database and
 * the content-addressed blob store (see store.c for the layout).  Every
 * function is safe to call from any thread; each thread gets its own SQLite
 * connection.  Functions return an lcr_status and write human-readable
 * detail into err (errlen bytes) on failure; that text is what clients see,
 * so it follows ECR's wording.
 */
#ifndef LCR_REGISTRY_H
#define LCR_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/digest.h"

struct registry;
struct blob_writer;

#define REGISTRY_ID_BUF 13
#define REGION_BUF 32
#define REPOSITORY_NAME_MAX 256
#define IMAGE_TAG_MAX 300
#define MEDIA_TYPE_BUF 256
#define MANIFEST_MAX (4 * 1024 * 1024) /* ECR's ImageManifest limit, in bytes */

struct repository {
	int64_t id;
	char registry_id[REGISTRY_ID_BUF];
	char region[REGION_BUF];
	char name[REPOSITORY_NAME_MAX + 1];
	double created_at;
	char tag_mutability[32];
	bool scan_on_push;
	char encryption_type[16];
	char kms_key[2049];
	/* exclusion filters of the *_WITH_EXCLUSION modes, as a JSON array of
	 * {"filterType":"WILDCARD","filter":...}; "" when none */
	char tag_mutability_filters[1024];
};

/* One image: a stored manifest and the tags that point at it. */
struct image {
	int64_t id;
	char digest[DIGEST_BUF];
	char media_type[MEDIA_TYPE_BUF];
	char artifact_media_type[MEDIA_TYPE_BUF]; /* config media type, "" if none */
	int64_t size;                             /* sum of layer sizes */
	double pushed_at;
	double last_pulled_at;                    /* 0 when never pulled */
	char storage_class[16];                   /* STANDARD or ARCHIVE */
	double last_archived_at;                  /* 0 when never archived */
	double last_activated_at;                 /* 0 when never restored */
	char subject_digest[DIGEST_BUF];          /* OCI 1.1 subject, "" if none */
	char **tags;                              /* sorted, owned */
	size_t ntags;
	char *manifest;                           /* owned, NULL unless loaded */
	size_t manifest_len;
};

void image_release(struct image *img);
void image_array_free(struct image *imgs, size_t n);

/* Open (creating if needed) the data directory and its database and
 * migrate the schema.  With sweep (the server's start), also remove upload
 * files that no session owns and sessions whose file is gone.  fsck and gc
 * open without it, because a running server may be between the two steps of
 * creating a session. */
int registry_open(const char *data_dir, bool sweep, struct registry **out, char *err, size_t errlen);
void registry_close(struct registry *reg);

/* Time a database statement waits for another writer before it fails with
 * an internal error.  It applies to connections opened afterwards and to the
 * calling thread's connection. */
#define REGISTRY_BUSY_TIMEOUT_DEFAULT_MS 10000
void registry_set_busy_timeout(struct registry *reg, int milliseconds);

/* Remove every repository, image, blob, upload, setting and policy (the
 * token key stays, so tokens keep working). */
int registry_reset(struct registry *reg, char *err, size_t errlen);
/* Counts of what is stored, as a new JSON object. */
struct json_t;
int registry_state(struct registry *reg, struct json_t **out);

/* Read the secret file name in the data directory, creating it with len
 * random bytes (mode 0600, written then renamed) on first use. */
int registry_secret_load(struct registry *reg, const char *name, unsigned char *out, size_t len, char *err,
			 size_t errlen);

/* Repositories */

/* Check a name against ECR's repository name rules; fills err with ECR's
 * InvalidParameterException message. */
int registry_repository_name_check(const char *name, char *err, size_t errlen);

/* Insert repo (registry_id, region, name and settings filled in by the
 * caller); sets repo->id and repo->created_at. */
int registry_repository_create(struct registry *reg, struct repository *repo, char *err, size_t errlen);
int registry_repository_get(struct registry *reg, const char *registry_id, const char *region,
			    const char *name, struct repository *out, char *err, size_t errlen);
/* List repositories of one registry in name order; *out is malloc'd. */
int registry_repository_list(struct registry *reg, const char *registry_id, const char *region,
			     struct repository **out, size_t *out_count, char *err, size_t errlen);
/* Delete a repository; with force, its images go too, otherwise a
 * repository holding images is RepositoryNotEmptyException. */
int registry_repository_delete(struct registry *reg, const struct repository *repo, bool force,
			       char *err, size_t errlen);
/* Count the images of a repository. */
int registry_repository_image_count(struct registry *reg, int64_t repository_id, int64_t *out);

/* Change imageTagMutability and its exclusion filters (filters_json is
 * "" or a JSON array, already validated). */
int registry_repository_set_mutability(struct registry *reg, struct repository *repo, const char *mutability,
				       const char *filters_json, char *err, size_t errlen);
/* Whether pushing tag over an existing tag is refused in this repository:
 * IMMUTABLE protects every tag, MUTABLE none, IMMUTABLE_WITH_EXCLUSION all
 * but the tags a filter matches, MUTABLE_WITH_EXCLUSION only those. */
bool registry_tag_protected(const struct repository *repo, const char *tag);
/* Allow pushing the digest a protected tag already names again (off by
 * default: ECR is reported to refuse such re-pushes). */
void registry_set_allow_immutable_repush(struct registry *reg, bool allow);

/* Resource tags of a repository (key/value pairs, TagResource style). */
int registry_repository_tags_set(struct registry *reg, int64_t repository_id, const char **keys,
				 const char **values, size_t n, char *err, size_t errlen);

/* List a repository's resource tags sorted by key; free both arrays with
 * registry_string_arrays_free. */
int registry_repository_tags_list(struct registry *reg, int64_t repository_id, char ***out_keys, char ***out_values,
				  size_t *out_count);
void registry_string_arrays_free(char **keys, char **values, size_t n);
int registry_repository_tags_remove(struct registry *reg, int64_t repository_id, const char **keys, size_t n,
				    char *err, size_t errlen);

/* Repository and registry policies, stored as the text the client sent.
 * get returns REPOSITORY_POLICY_NOT_FOUND / REGISTRY_POLICY_NOT_FOUND when
 * none is set; *out_text is malloc'd.  delete returns the removed text. */
int registry_repository_policy_get(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				   size_t errlen);
int registry_repository_policy_set(struct registry *reg, const struct repository *repo, const char *text, char *err,
				   size_t errlen);
int registry_repository_policy_delete(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				      size_t errlen);
int registry_policy_get(struct registry *reg, const char *registry_id, const char *region, char **out_text,
			char *err, size_t errlen);
int registry_policy_set(struct registry *reg, const char *registry_id, const char *region, const char *text,
			char *err, size_t errlen);
int registry_policy_delete(struct registry *reg, const char *registry_id, const char *region, char **out_text,
			   char *err, size_t errlen);

/* Account settings: BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE,
 * BLOB_MOUNTING.  check validates a name (and a value unless NULL); get
 * returns the default until a value is put. */
int registry_account_setting_check(const char *name, const char *value, char *err, size_t errlen);
int registry_account_setting_get(struct registry *reg, const char *registry_id, const char *region, const char *name,
				 char *out, size_t outlen, char *err, size_t errlen);
int registry_account_setting_put(struct registry *reg, const char *registry_id, const char *region, const char *name,
				 const char *value, char *err, size_t errlen);

/* Blobs */

/* Look up a blob linked to the repository: BLOB_UNKNOWN if absent. */
int registry_blob_stat(struct registry *reg, int64_t repository_id, const char *digest,
		       int64_t *out_size);
/* Open a linked blob for reading; the caller closes *out_fd. */
int registry_blob_open(struct registry *reg, int64_t repository_id, const char *digest,
		       int *out_fd, int64_t *out_size);

/* Remove a blob from one repository (the file stays for other links);
 * BLOB_UNKNOWN when it was not linked. */
int registry_blob_unlink(struct registry *reg, int64_t repository_id, const char *digest);
/* Link a blob readable in one repository to another (cross-repository
 * mount); BLOB_UNKNOWN when the source cannot read it. */
int registry_blob_mount(struct registry *reg, int64_t from_repository_id, int64_t to_repository_id,
			const char *digest, char *err, size_t errlen);

/* The absolute path of a blob's file (for readers such as the scanner). */
void registry_blob_file_path(struct registry *reg, const char *digest, char *out, size_t outlen);

/* Upload sessions */

/* Record an ECR UploadLayerPart of part_size bytes; a previous part smaller
 * than min_part_size marks the session so completion can refuse it. */
int registry_upload_note_part(struct registry *reg, const char *uuid, uint64_t part_size, uint64_t min_part_size);
int registry_upload_small_part_seen(struct registry *reg, const char *uuid, bool *out);
/* Mark a session active now, postponing its expiry. */
void registry_upload_touch(struct registry *reg, const char *uuid);
/* Remove sessions idle for more than idle_seconds, with their files. */
int registry_upload_expire(struct registry *reg, double idle_seconds, int *out_removed);

int registry_upload_create(struct registry *reg, int64_t repository_id, char out_uuid[UUID_BUF],
			   char *err, size_t errlen);
/* Look a session up; BLOB_UPLOAD_UNKNOWN unless it exists for this repository. */
int registry_upload_stat(struct registry *reg, int64_t repository_id, const char *uuid,
			 uint64_t *out_size);
/* Open a session for appending.  Hashing continues from where the previous
 * request stopped when the hash state is still cached, else the bytes already
 * received are hashed again. */
int registry_upload_writer_open(struct registry *reg, int64_t repository_id, const char *uuid,
				struct blob_writer **out, char *err, size_t errlen);
int blob_writer_write(struct blob_writer *w, const void *data, size_t len);
uint64_t blob_writer_size(const struct blob_writer *w);
/* Close a writer without completing the upload; keeps the session.
 * Returns LCR_ERR_BLOB_UPLOAD_UNKNOWN when the session was removed while
 * the writer was open, so the bytes it received are gone. */
int blob_writer_close(struct blob_writer *w);
/* Close a writer and remove its session and bytes, for an upload that
 * failed before the client learnt of the session. */
void blob_writer_abort(struct blob_writer *w);
/* Finish: verify the bytes against expected_digest, fsync, rename into the
 * blob store and link the blob to the repository.  On a mismatch the session
 * and its bytes are removed (DIGEST_INVALID).  Consumes w. */
int registry_upload_complete(struct registry *reg, int64_t repository_id, struct blob_writer *w,
			     const char *expected_digest, char *err, size_t errlen);
int registry_upload_cancel(struct registry *reg, int64_t repository_id, const char *uuid);

/* Images */

/* Outcome of image_put. */
struct image_put_result {
	char digest[DIGEST_BUF];
	bool image_created;  /* the digest was new in this repository */
	bool tag_changed;    /* the tag was created or moved */
	bool restored;       /* the image was archived and the push restored it */
	char subject_digest[DIGEST_BUF]; /* OCI 1.1 subject, "" if none */
	char media_type[MEDIA_TYPE_BUF];          /* the manifest's media type */
	char artifact_media_type[MEDIA_TYPE_BUF]; /* artifactType, else the config media type */
};

/* Store a manifest (already size-checked) and optionally point tag at it.
 * media_type is the Content-Type or imageManifestMediaType given, or NULL.
 * Validates the manifest and that every blob and child manifest it names is
 * in the repository. */
int registry_image_put(struct registry *reg, const struct repository *repo, const char *manifest,
		       size_t len, const char *media_type, const char *tag,
		       struct image_put_result *out, char *err, size_t errlen);

/* Find an image by tag or digest (reference is either); loads the manifest
 * when with_manifest. */
int registry_image_get(struct registry *reg, const struct repository *repo, const char *reference,
		       bool with_manifest, struct image *out, char *err, size_t errlen);

/* List images with their tags, newest push first. */
int registry_image_list(struct registry *reg, const struct repository *repo, struct image **out,
			size_t *out_count, char *err, size_t errlen);

/* Delete by digest: the image and all its tags.  IMAGE_REFERENCED when an
 * index in the repository still lists it. */
int registry_image_delete(struct registry *reg, const struct repository *repo, const char *digest,
			  char *err, size_t errlen);
/* Remove one tag; when it was the image's last tag the image goes too, as
 * ECR's BatchDeleteImage does.  Returns the image digest in out_digest. */
int registry_tag_delete(struct registry *reg, const struct repository *repo, const char *tag,
			char out_digest[DIGEST_BUF], char *err, size_t errlen);
/* True when an index in the repository references digest. */
int registry_image_is_referenced(struct registry *reg, const struct repository *repo,
				 const char *digest, bool *out);

/* List the images whose manifest names subject_digest as its subject
 * (OCI 1.1 referrers), with manifests loaded, newest first. */
int registry_referrers_list(struct registry *reg, const struct repository *repo, const char *subject_digest,
			    struct image **out, size_t *out_count, char *err, size_t errlen);

/* Move an image to the ARCHIVE or STANDARD storage class, recording when
 * (lastArchivedAt or lastActivatedAt). */
int registry_image_set_storage_class(struct registry *reg, int64_t image_id, const char *storage_class, char *err,
				     size_t errlen);

/* A repository's lifecycle policy text; LIFECYCLE_POLICY_NOT_FOUND when
 * none.  *out_text is malloc'd; delete returns the removed text. */
int registry_lifecycle_policy_get(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				  size_t errlen);
int registry_lifecycle_policy_set(struct registry *reg, const struct repository *repo, const char *text, char *err,
				  size_t errlen);
int registry_lifecycle_policy_delete(struct registry *reg, const struct repository *repo, char **out_text, char *err,
				     size_t errlen);
/* The last lifecycle preview of a repository: the policy text it ran and
 * its results as JSON text (both malloc'd); LIFECYCLE_PREVIEW_NOT_FOUND
 * when none was started. */
int registry_lifecycle_preview_get(struct registry *reg, const struct repository *repo, char **out_policy,
				   char **out_results, char *err, size_t errlen);
int registry_lifecycle_preview_set(struct registry *reg, const struct repository *repo, const char *policy,
				   const char *results, char *err, size_t errlen);
/* Repositories of every registry that have a lifecycle policy. */
int registry_lifecycle_repositories(struct registry *reg, struct repository **out, size_t *out_count, char *err,
				    size_t errlen);

/* Image scans (one current scan per image). */
struct scan_record {
	int64_t image_id;
	char status[32];        /* PENDING, IN_PROGRESS, COMPLETE, FAILED, UNSUPPORTED_IMAGE */
	char description[256];
	double requested_at;
	double completed_at;    /* 0 until done */
	char *findings;         /* JSON text, owned; NULL until done */
	char db_fingerprint[80];
	double db_updated_at;
};
void scan_record_release(struct scan_record *r);
/* SCAN_NOT_FOUND when the image was never scanned. */
int registry_scan_get(struct registry *reg, int64_t image_id, struct scan_record *out);
/* Create or replace the image's scan as PENDING, requested now. */
int registry_scan_request(struct registry *reg, int64_t image_id);
int registry_scan_set_status(struct registry *reg, int64_t image_id, const char *status, const char *description);
int registry_scan_complete(struct registry *reg, int64_t image_id, const char *status, const char *description,
			   const char *findings, const char *db_fingerprint, double db_updated_at);
/* Image ids of PENDING or IN_PROGRESS scans, oldest first (restart resumes them). */
int registry_scan_queue(struct registry *reg, int64_t **out, size_t *out_count);
/* Image ids whose COMPLETE scan used another database than fingerprint. */
int registry_scan_stale(struct registry *reg, const char *fingerprint, int64_t **out, size_t *out_count);
/* Call fn for every completed scan (repository name, image digest, tags
 * joined with commas, findings JSON); stops when fn returns non-zero. */
int registry_scan_each(struct registry *reg, int (*fn)(void *ctx, const char *repository, const char *digest,
						     const char *tags, const char *findings),
		       void *ctx);
/* Load an image and its repository by image id. */
int registry_image_by_id(struct registry *reg, int64_t image_id, struct repository *out_repo, struct image *out_image);

/* The registry scanning configuration as stored JSON (scan type and rules);
 * defaults to BASIC with no rules. */
int registry_scanning_config_get(struct registry *reg, const char *registry_id, const char *region, char *out_type,
				 size_t typelen, char **out_rules);
int registry_scanning_config_set(struct registry *reg, const char *registry_id, const char *region, const char *type,
				 const char *rules);
/* Set a repository's scanOnPush (PutImageScanningConfiguration). */
int registry_repository_set_scan_on_push(struct registry *reg, struct repository *repo, bool scan_on_push);

/* Record a pull (lastRecordedPullTime). */
void registry_image_touch_pull(struct registry *reg, int64_t image_id);

/* Maintenance (check.c) */

/* Verify every blob's digest and every reference; print problems and notes
 * to out, one per line, then a count line. */
#include <stdio.h>
int registry_fsck(struct registry *reg, FILE *out, int *out_problems);
/* Remove blobs that no manifest references and that are older than
 * grace_seconds, and blob files without a database row. */
int registry_gc(struct registry *reg, double grace_seconds, int *out_removed, int64_t *out_bytes, char *err,
		size_t errlen);

/* Tag grammar checks */
bool registry_tag_valid_oci(const char *tag);
bool registry_tag_valid_ecr(const char *tag);

#endif
