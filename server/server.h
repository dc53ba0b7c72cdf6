/*
 * server.h - the process: configuration, the request context, the route
 * table and the handlers of both wire protocols.
 *
 * Path of a request: http.c matches a route row and authenticates the
 * caller (SigV4 on the ECR JSON API, Basic "AWS:<token>" on /v2/).  It then
 * streams or buffers the body and runs the row's handler.  Errors are
 * rendered from the status table, and one access-log line is written when
 * libmicrohttpd completes the request.
 */
#ifndef LCR_SERVER_H
#define LCR_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include <jansson.h>
#include <microhttpd.h>

#include "../common/buf.h"
#include "../common/digest.h"
#include "../policy/identity.h"
#include "../registry/registry.h"

#define LOCALECR_VERSION "0.1.0"

/* Registry tokens from GetAuthorizationToken live this long, as on ECR. */
#define TOKEN_LIFETIME_SECONDS (12 * 3600)

struct server_config {
	char listen[128];
	char data_dir[1024];
	char account_id[REGISTRY_ID_BUF];
	char region[REGION_BUF];
	bool create_on_push;
	bool iam_mode;               /* --auth iam: verify signatures, enforce policies */
	char identities_path[1024];
	char registry_suffix[128];   /* <acct>.dkr.ecr.<region>.<suffix> selects a registry on /v2/ */
	double upload_expiry;    /* seconds an idle upload session lives */
	int db_busy_timeout_ms;
	bool allow_immutable_repush;
	double lifecycle_interval;   /* seconds between scheduled lifecycle runs; 0 = only on demand */
	double audit_retention_days;
	char events_file[1024];       /* every event as a JSON line; "" = none */
	char event_rules[1024];       /* rules file; "" = none */
	bool allow_remote_webhooks;
	char vuln_db[1024];
	bool tls;                     /* serve HTTPS with the local CA's certificate */           /* OSV advisories folder; "" = no database */
	char seed_path[1024];         /* --seed: applied at start and after every reset; "" = none */
};

struct server {
	struct server_config config;
	struct registry *registry;
	struct identity_store *identities; /* IAM mode only */
	struct audit_log *audit;
	struct MHD_Daemon *daemon;
	unsigned char token_key[32];
	double started_at;
	int listen_fd;
	char bound_address[160]; /* host:port actually listened on */
	pthread_t maintenance_thread;
	bool maintenance_running;
	pthread_mutex_t maintenance_lock;
	pthread_cond_t maintenance_wake;
	bool stopping;
	double last_lifecycle_run;
};

enum protocol {
	PROTOCOL_V2,
	PROTOCOL_ECR,
	PROTOCOL_ADMIN,
	PROTOCOL_STS
};

/* /v2/ path shapes. */
enum v2_path {
	V2_PATH_NONE,
	V2_PATH_BASE,         /* /v2/ */
	V2_PATH_CATALOG,      /* /v2/_catalog */
	V2_PATH_TAGS,         /* /v2/<name>/tags/list */
	V2_PATH_MANIFEST,     /* /v2/<name>/manifests/<reference> */
	V2_PATH_BLOB,         /* /v2/<name>/blobs/<digest> */
	V2_PATH_UPLOAD_START, /* /v2/<name>/blobs/uploads/ */
	V2_PATH_UPLOAD,       /* /v2/<name>/blobs/uploads/<uuid> */
	V2_PATH_REFERRERS     /* /v2/<name>/referrers/<digest> */
};

enum route_flags {
	ROUTE_NO_AUTH = 1 << 0,     /* no credentials needed */
	ROUTE_STREAM_BODY = 1 << 1, /* body goes to req->writer, not req->body */
	ROUTE_PREFIX = 1 << 2,      /* admin rows: name is a path prefix */
	ROUTE_GLOBAL = 1 << 3,      /* action on resource "*", checked before the handler */
};

struct request;

/* One row of the route table: routing, authentication, authorization and
 * the access log all read it. */
struct route {
	enum protocol protocol;
	const char *method;    /* HTTP method */
	enum v2_path v2_path;  /* /v2/ rows */
	const char *name;      /* ECR operation or admin path */
	const char *action;    /* IAM action checked, NULL for none */
	int (*begin)(struct request *req); /* optional, before the body */
	int (*handle)(struct request *req);
	size_t body_max;
	unsigned flags;
};

struct request {
	struct server *srv;
	struct MHD_Connection *conn;
	const struct route *route;
	char id[UUID_BUF];
	char method[16];
	char *url;
	double started;         /* server clock, for records */
	double started_mono;    /* monotonic seconds, for durations */
	char client[64];

	/* /v2/ path parts, owned */
	char *name;
	char *reference;

	/* who is calling, from the token or the signature */
	char account[REGISTRY_ID_BUF];
	char region[REGION_BUF];
	char principal_arn[512];
	char access_key[129];
	char caller_account[REGISTRY_ID_BUF]; /* the principal's account */
	struct principal principal;
	bool authorized;               /* IAM mode: the route's action was checked */
	bool audited;                  /* its CloudTrail record was submitted */

	struct repository repo;
	bool have_repo;

	/* request body: buffered, or streamed into an upload */
	struct buf body;
	bool body_overflow;
	struct blob_writer *writer;
	int stream_status;
	json_t *input; /* parsed ECR JSON body */
	uint64_t bytes_in;
	uint64_t bytes_out;

	/* outcome */
	struct MHD_Response *response;
	unsigned http_status;
	int status;
	char err[2048];
	char log_repository[REPOSITORY_NAME_MAX + 1];
	char audit_event_name[64];     /* set where the route does not name the action (STS) */
};

/* routes.c */
const struct route *route_find_v2(const char *method, const char *url, char **out_name, char **out_reference,
				  enum v2_path *out_path);
const struct route *route_find_ecr(const char *operation);
const struct route *route_find_admin(const char *method, const char *url);
const struct route *route_find_sts(void);
bool route_v2_path_known(enum v2_path path);

/* http.c */
int server_start(struct server *srv, char *err, size_t errlen);
void server_stop(struct server *srv);

/* maintenance.c: the thread that expires idle upload sessions. */
int maintenance_start(struct server *srv);
void maintenance_stop(struct server *srv);
const char *request_header(struct request *req, const char *name);
const char *request_query(struct request *req, const char *name);
/* Set the response; takes ownership of resp. */
void request_respond(struct request *req, unsigned http_status, struct MHD_Response *resp);
void request_respond_json(struct request *req, unsigned http_status, json_t *body_new);
struct MHD_Response *response_empty(void);
struct MHD_Response *response_text(const char *text);
/* The host:port the client addressed, for URLs that point back at us. */
const char *request_host(struct request *req);
/* Serialize JSON the way every response does (compact, epoch times with
 * millisecond precision). */
char *json_render(json_t *value);

/* auth.c */
/* Authenticate a SigV4-signed call to service ("ecr" or "sts") with its
 * body: parsed only in open mode, verified in IAM mode. */
int auth_signed_request(struct request *req, const char *service);
/* Find the secret for an access key (with its session token, if any) and
 * make the request act as its principal. */
int auth_credential_lookup(struct request *req, const char *access_key, const char *session_token,
			   struct credential *out);
/* Mint temporary credentials for a role session (AssumeRole). */
int auth_session_mint(struct server *srv, const struct principal *role, const char *session_name, double expires_at,
		      char **out_access_key, char **out_secret, char **out_token);
int auth_registry_token(struct request *req);

/* sigv4.c */
int sigv4_verify(struct request *req, const char *service, const void *body, size_t len);
int sigv4_compute(const char *secret, const char *date, const char *region, const char *service,
		  const char *string_to_sign, char out_hex[65]);

/* authorize.c */
/* Check the route's IAM action for the request's principal on repo (or on
 * resource_arn, or "*" when both are NULL); no-op in open mode.  A denial is
 * LCR_ERR_DENIED with AWS's message. */
int request_authorize(struct request *req, const struct repository *repo, const char *resource_arn);
int request_authorize_action(struct request *req, const char *action, const struct repository *repo,
			     const char *resource_arn);
/* Authorize the route's action on a repository that does not exist, as IAM
 * decides before existence on AWS: a caller without permission learns
 * nothing about which repositories exist.  Keeps req->err when allowed. */
int request_authorize_missing(struct request *req, const char *registry_id, const char *region, const char *name);
/* Evaluate action for the request's principal with the request's condition
 * keys against resource_policy and, when with_identity, the principal's
 * identity policies.  On a deny, message gets AWS's denial text. */
int request_decide(struct request *req, const char *action, const struct repository *repo, const char *resource_arn,
		   const struct policy *resource_policy, bool with_identity, struct policy_decision *out,
		   char *message, size_t messagelen);
/* Mint the password half of a registry token for the caller. */
char *auth_token_mint(struct request *req, double expires_at);
/* Sign claims (a JSON object) into "payload.mac" with the server's key, and
 * check such a string back; verify returns a new reference or NULL. */
char *auth_sign_claims(struct server *srv, json_t *claims);
json_t *auth_verify_claims(struct server *srv, const char *signed_text);

/* v2.c */
int v2_base(struct request *req);
int v2_catalog(struct request *req);
int v2_tags_list(struct request *req);
int v2_manifest_get(struct request *req);
int v2_manifest_put(struct request *req);
int v2_manifest_delete(struct request *req);
int v2_blob_get(struct request *req);
int v2_blob_delete(struct request *req);
int v2_upload_begin(struct request *req);
int v2_upload_start(struct request *req);
int v2_upload_get(struct request *req);
int v2_upload_patch(struct request *req);
int v2_upload_put(struct request *req);
int v2_upload_delete(struct request *req);
int v2_upload_open_writer(struct request *req);
int v2_referrers(struct request *req);
/* Respond to GET or HEAD of a blob from fd (size bytes, and takes fd),
 * honouring a Range header.  Used by /v2/ and GetDownloadUrlForLayer URLs. */
int blob_respond(struct request *req, int fd, int64_t size, const char *digest);

/* ecr_*.c */
int ecr_create_repository(struct request *req);
int ecr_describe_repositories(struct request *req);
int ecr_delete_repository(struct request *req);
int ecr_list_images(struct request *req);
int ecr_describe_images(struct request *req);
int ecr_batch_get_image(struct request *req);
int ecr_put_image(struct request *req);
int ecr_batch_delete_image(struct request *req);
int ecr_get_authorization_token(struct request *req);
int ecr_initiate_layer_upload(struct request *req);
int ecr_upload_layer_part(struct request *req);
int ecr_complete_layer_upload(struct request *req);
int ecr_batch_check_layer_availability(struct request *req);
int ecr_get_download_url_for_layer(struct request *req);
int ecr_list_image_referrers(struct request *req);
int ecr_describe_registry(struct request *req);
int ecr_tag_resource(struct request *req);
int ecr_untag_resource(struct request *req);
int ecr_list_tags_for_resource(struct request *req);
int ecr_get_account_setting(struct request *req);
int ecr_put_account_setting(struct request *req);
int ecr_put_image_tag_mutability(struct request *req);
int ecr_put_lifecycle_policy(struct request *req);
int ecr_get_lifecycle_policy(struct request *req);
int ecr_delete_lifecycle_policy(struct request *req);
int ecr_start_lifecycle_policy_preview(struct request *req);
int ecr_get_lifecycle_policy_preview(struct request *req);
int ecr_update_image_storage_class(struct request *req);
int ecr_set_repository_policy(struct request *req);
int ecr_get_repository_policy(struct request *req);
int ecr_delete_repository_policy(struct request *req);
int ecr_put_registry_policy(struct request *req);
int ecr_get_registry_policy(struct request *req);
int ecr_delete_registry_policy(struct request *req);

/* sts.c */
int sts_dispatch(struct request *req);

/* admin.c */
int admin_health(struct request *req);
int admin_layer_download(struct request *req);
int admin_clock_get(struct request *req);
int admin_audit_list(struct request *req);
int admin_reset(struct request *req);
int admin_state(struct request *req);
int admin_clock_set(struct request *req);

/* lifecycle_run.c */
struct lifecycle_policy;
/* Dry-run policy over repo: previewResults entries as a new JSON array. */
int lifecycle_preview_results(struct server *srv, const struct repository *repo, const struct lifecycle_policy *policy,
			      json_t **out_results, char *err, size_t errlen);
/* Apply repo's stored policy, appending what was done to the arrays. */
int lifecycle_apply(struct server *srv, const struct repository *repo, json_t *expired, json_t *transitioned, char *err,
		    size_t errlen);
/* Apply every repository's policy (or only_name's, when not NULL). */
int lifecycle_apply_all(struct server *srv, const char *only_name, json_t *expired, json_t *transitioned, int *out_count);
int admin_lifecycle_run(struct request *req);

/* audit_record.c */
struct audit_log;
/* Submit the request's CloudTrail record once (routes with an IAM action only). */
void audit_record_request(struct request *req);
json_t *audit_user_identity(const struct principal *p, const char *access_key);
/* A CloudTrail AwsServiceEvent record (lifecycle's PolicyExecutionEvent). */
json_t *audit_service_event(struct server *srv, const char *account, const char *region, const char *event_name,
			    json_t *resources_new, json_t *details_new);

/* events.c */
int events_start(struct server *srv, char *err, size_t errlen);
void events_stop(void);
/* Emit an EventBridge event; takes both references. */
void events_emit(struct server *srv, const char *account, const char *region, const char *detail_type,
		 json_t *resources_new, json_t *detail_new);
/* "ECR Image Action" with action PUSH, DELETE ...; digest and tag may be NULL. */
void events_image_action(struct server *srv, const struct repository *repo, const char *action, bool success,
			 const char *digest, const char *tag);
/* PUSH success or failure of a manifest, plus a referrer event when it has
 * a subject. */
void events_push(struct server *srv, const struct repository *repo, bool success, const struct image_put_result *result,
		 const char *tag);
int admin_events_list(struct request *req);
int admin_event_deliveries(struct request *req);
int events_tail_command(int argc, char **argv);
void events_reset(void);

/* scan.c */
int scans_start(struct server *srv);
void scans_stop(void);
/* Queue a scan of digest when the repository scans on push. */
void scans_on_push(struct server *srv, const struct repository *repo, const char *digest);
/* Reload the database when its folder changed; queue continuous rescans. */
void scans_check_database(struct server *srv);
/* Add imageScanStatus and imageScanFindingsSummary to a DescribeImages entry. */
void scans_describe_image(struct server *srv, const struct image *img, json_t *detail);
const char *scan_frequency(struct server *srv, const struct repository *repo, char *type, size_t typelen,
			   json_t **out_filters);
int ecr_start_image_scan(struct request *req);
int ecr_describe_image_scan_findings(struct request *req);
int ecr_put_image_scanning_configuration(struct request *req);
int ecr_put_registry_scanning_configuration(struct request *req);
int ecr_get_registry_scanning_configuration(struct request *req);
int ecr_batch_get_repository_scanning_configuration(struct request *req);
int admin_vulndb_reload(struct request *req);

/* faults.c */
/* Apply an injected fault to the request, if a rule matches: returns its
 * status (and may have set a response), or LCR_OK to go on. */
int faults_apply(struct request *req);
bool faults_scan_should_fail(const char *repository);
int faults_add_json(json_t *body, char *err, size_t errlen, json_t **out_rule);
void faults_clear(void);
int admin_faults_add(struct request *req);
int admin_faults_list(struct request *req);
int admin_faults_clear(struct request *req);

/* tls.c */
/* Create or load the CA and issue the server certificate; PEM strings are
 * malloc'd. */
int tls_prepare(struct server *srv, char **out_key_pem, char **out_cert_pem, char *err, size_t errlen);
int ca_command(int argc, char **argv, const char *default_data_dir);

/* report.c: `localecr report findings ...`; returns the exit status. */
int report_command(int argc, char **argv, const char *default_data_dir);

/* seed.c: seed files (the format is described at the top of seed.c). */
struct seed;
/* Parse and validate a seed without changing anything.  Messages name it
 * by label, and relative image paths resolve against base_dir (the working
 * directory when NULL or ""). */
int seed_load(struct server *srv, const char *text, size_t len, const char *label, const char *base_dir,
	      struct seed **out, char *err, size_t errlen);
/* seed_load of a file, with its folder as the base of relative paths. */
int seed_load_file(struct server *srv, const char *path, struct seed **out, char *err, size_t errlen);
/* Create or update what the seed lists; *out_summary gets the counts as a
 * new JSON object. */
int seed_apply(struct server *srv, const struct seed *seed, json_t **out_summary, char *err, size_t errlen);
int seed_apply_file(struct server *srv, const char *path, json_t **out_summary, char *err, size_t errlen);
void seed_free(struct seed *seed);
int admin_seed(struct request *req);
/* `localecr seed FILE [--server URL]`; returns the exit status. */
int seed_command(int argc, char **argv);

/* simulate.c */
int admin_policy_simulate(struct request *req);
/* `localecr policy simulate|validate ...`; returns the exit status. */
int policy_command(int argc, char **argv);

#endif
