/* admin.c - endpoints under /_localecr/ for scripts and tests. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"
#include "../registry/audit.h"

int admin_health(struct request *req)
{
	request_respond_json(req, MHD_HTTP_OK,
			     json_pack("{s:s, s:s, s:f}", "status", "ok", "version", LOCALECR_VERSION, "uptime_seconds",
				       clock_now() - req->srv->started_at));
	return LCR_OK;
}

/* GET /_localecr/layers/<signed claims>: the download URL handed out by
 * GetDownloadUrlForLayer, standing in for ECR's pre-signed S3 URL. */
int admin_layer_download(struct request *req)
{
	const char *token = req->url + strlen("/_localecr/layers/");
	json_t *claims = auth_verify_claims(req->srv, token);
	json_t *repository_id = json_object_get(claims, "repository");
	const char *digest = json_string_value(json_object_get(claims, "digest"));
	json_t *expires = json_object_get(claims, "exp");
	int64_t size = 0;
	int fd = -1, status;

	if (!json_is_integer(repository_id) || digest == NULL || !json_is_integer(expires)) {
		json_decref(claims);
		return lcr_fail(LCR_ERR_DENIED, req->err, sizeof(req->err), "The download URL is not valid.");
	}
	if ((double)json_integer_value(expires) <= clock_now()) {
		json_decref(claims);
		return lcr_fail(LCR_ERR_DENIED, req->err, sizeof(req->err), "The download URL has expired.");
	}
	status = registry_blob_open(req->srv->registry, json_integer_value(repository_id), digest, &fd, &size);
	if (status == LCR_OK)
		status = blob_respond(req, fd, size, digest);
	else if (status == LCR_ERR_BLOB_UNKNOWN)
		lcr_fail(status, req->err, sizeof(req->err), "blob %s no longer exists", digest);
	json_decref(claims);
	return status;
}

static void respond_clock(struct request *req)
{
	char now[40];

	clock_format_rfc3339(clock_now(), now, sizeof(now));
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:s}", "now", now));
}

/* GET /_localecr/clock: {"now": "<RFC 3339>"} */
int admin_clock_get(struct request *req)
{
	respond_clock(req);
	return LCR_OK;
}

/* POST /_localecr/clock with {"now": "<RFC 3339>"} or {"advance_seconds": N}.
 * Tokens, signature windows, upload expiry and lifecycle ages all follow. */
int admin_clock_set(struct request *req)
{
	json_error_t jerr;
	json_t *body = json_loadb(req->body.data ? req->body.data : "", req->body.len, 0, &jerr);
	json_t *now = json_object_get(body, "now"), *advance = json_object_get(body, "advance_seconds");
	double t;

	if (json_is_string(now) && advance == NULL && clock_parse_rfc3339(json_string_value(now), &t) == 0) {
		clock_set(t);
	} else if (json_is_number(advance) && now == NULL) {
		clock_set(clock_now() + json_number_value(advance));
	} else {
		json_decref(body);
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
				"expected {\"now\": \"<RFC 3339 time>\"} or {\"advance_seconds\": <number>}");
	}
	json_decref(body);
	respond_clock(req);
	return LCR_OK;
}

/* GET /_localecr/audit?eventName=&principal=&errorCode=&since=&until=&limit=
 * Recent CloudTrail records, newest first; since and until are RFC 3339. */
int admin_audit_list(struct request *req)
{
	const char *since_text = request_query(req, "since"), *until_text = request_query(req, "until");
	const char *limit_text = request_query(req, "limit");
	double since = 0, until = 0;
	long limit = limit_text ? strtol(limit_text, NULL, 10) : 100;

	if (!audit_enabled(req->srv->audit))
		return lcr_fail(LCR_ERR_SERVICE_UNAVAILABLE, req->err, sizeof(req->err),
				"the audit trail is disabled: audit.db could not be opened (see the server log)");
	if ((since_text != NULL && clock_parse_rfc3339(since_text, &since) != 0) ||
	    (until_text != NULL && clock_parse_rfc3339(until_text, &until) != 0) || limit < 1 || limit > 10000)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
				"since and until must be RFC 3339 times and limit a number from 1 to 10000");
	request_respond_json(req, MHD_HTTP_OK,
			     json_pack("{s:o}", "Records",
				       audit_list(req->srv->audit, request_query(req, "eventName"),
						  request_query(req, "principal"), request_query(req, "errorCode"), since,
						  until, (int)limit)));
	return LCR_OK;
}

/* POST /_localecr/reset: back to an empty registry in milliseconds, for
 * test isolation: repositories, images, blobs, uploads, settings,
 * policies, scans, audit records, recent events and fault rules go.  A
 * server started with --seed then loads its seed file again; the file is
 * read and validated before anything is removed, so a broken file fails
 * the reset and leaves the state as it was. */
int admin_reset(struct request *req)
{
	struct seed *seed = NULL;
	json_t *summary = NULL, *body;
	int status = LCR_OK;

	if (req->srv->config.seed_path[0] != '\0')
		status = seed_load_file(req->srv, req->srv->config.seed_path, &seed, req->err, sizeof(req->err));
	if (status == LCR_OK)
		status = registry_reset(req->srv->registry, req->err, sizeof(req->err));
	if (status != LCR_OK) {
		seed_free(seed);
		return status;
	}
	audit_reset(req->srv->audit);
	events_reset();
	faults_clear();
	if (seed != NULL) {
		status = seed_apply(req->srv, seed, &summary, req->err, sizeof(req->err));
		seed_free(seed);
		if (status != LCR_OK) {
			log_error("reset emptied the store but the seed failed: %s", req->err);
			return status;
		}
	}
	log_info("state reset through the admin API%s", summary != NULL ? ", seed applied again" : "");
	body = json_pack("{s:s}", "status", "reset");
	if (summary != NULL)
		json_object_set_new(body, "seed", summary);
	request_respond_json(req, MHD_HTTP_OK, body);
	return LCR_OK;
}

/* GET /_localecr/state: what is stored. */
int admin_state(struct request *req)
{
	json_t *state = NULL;
	char now[40];

	registry_state(req->srv->registry, &state);
	clock_format_rfc3339(clock_now(), now, sizeof(now));
	json_object_set_new(state, "auditRecords", json_integer(audit_count(req->srv->audit)));
	json_object_set_new(state, "clock", json_string(now));
	json_object_set_new(state, "authMode", json_string(req->srv->config.iam_mode ? "iam" : "open"));
	request_respond_json(req, MHD_HTTP_OK, state);
	return LCR_OK;
}
