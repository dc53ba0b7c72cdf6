/*
 * audit_record.c - one CloudTrail record per ECR action, on both APIs.
 *
 * Records follow CloudTrail's record contents: eventVersion 1.08,
 * userIdentity (Root, IAMUser or AssumedRole with its sessionContext),
 * eventTime, eventSource ecr.amazonaws.com (sts.amazonaws.com for STS),
 * eventName (the ECR action a /v2/ request maps to), awsRegion,
 * sourceIPAddress, userAgent, requestParameters, responseElements,
 * requestID, eventID, readOnly, resources, eventType AwsApiCall,
 * recipientAccountId, and errorCode/errorMessage for failures and denials.
 * /v2/ requests are logged the way ECR's registry front end logs them:
 * userIdentity.invokedBy and sourceIPAddress "AWS Internal".  Layer part
 * bytes, tokens, signatures and secrets are never written.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/status.h"
#include "../registry/audit.h"

#define EVENT_VERSION "1.08"

static bool read_only_action(const char *name)
{
	static const char *const prefixes[] = {"Describe", "List", "Get", "BatchGet", "BatchCheck"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

json_t *audit_user_identity(const struct principal *p, const char *access_key)
{
	json_t *identity;
	const char *type = "AssumedRole";

	if (p->arn[0] == '\0')
		return json_pack("{s:s}", "type", "Unknown");
	if (p->type == PRINCIPAL_ROOT)
		type = "Root";
	else if (p->type == PRINCIPAL_USER)
		type = "IAMUser";
	identity = json_pack("{s:s, s:s, s:s, s:s}", "type", type,
			     "principalId", p->user_id[0] ? p->user_id : p->account, "arn", p->arn, "accountId", p->account);
	if (access_key != NULL && access_key[0])
		json_object_set_new(identity, "accessKeyId", json_string(access_key));
	if (p->type == PRINCIPAL_USER)
		json_object_set_new(identity, "userName", json_string(p->name));
	if (p->type == PRINCIPAL_ASSUMED_ROLE) {
		char role_id[200];

		snprintf(role_id, sizeof(role_id), "%.*s", (int)strcspn(p->user_id, ":"), p->user_id);
		json_object_set_new(identity, "sessionContext",
				    json_pack("{s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s}}", "sessionIssuer", "type", "Role",
					      "principalId", role_id, "arn", p->role_arn, "accountId", p->account, "userName",
					      p->name, "attributes", "mfaAuthenticated", "false"));
	}
	return identity;
}

/* requestParameters: the JSON input without layer bytes, or for /v2/ the
 * parameters ECR logs for the mapped action. */
static json_t *request_parameters(struct request *req)
{
	json_t *params;

	if (req->route->protocol == PROTOCOL_ECR) {
		if (!json_is_object(req->input))
			return json_null();
		params = json_deep_copy(req->input);
		if (json_object_get(params, "layerPartBlob") != NULL)
			json_object_set_new(params, "layerPartBlob", json_string("HIDDEN_DUE_TO_SECURITY_REASONS"));
		return params;
	}
	if (req->route->protocol == PROTOCOL_STS)
		return json_null();
	params = json_pack("{s:s}", "registryId", req->account);
	if (req->name != NULL)
		json_object_set_new(params, "repositoryName", json_string(req->name));
	if (req->reference != NULL && req->route->v2_path == V2_PATH_MANIFEST)
		json_object_set_new(params, digest_syntax(req->reference) ? "imageDigest" : "imageTag",
				    json_string(req->reference));
	/* ECR logs the pushed manifest with PutImage. */
	if (req->route->v2_path == V2_PATH_MANIFEST && strcmp(req->method, "PUT") == 0 && req->body.data != NULL)
		json_object_set_new(params, "imageManifest", json_stringn(req->body.data, req->body.len));
	else if (req->reference != NULL && (req->route->v2_path == V2_PATH_BLOB || req->route->v2_path == V2_PATH_REFERRERS))
		json_object_set_new(params, "layerDigest", json_string(req->reference));
	else if (req->reference != NULL && req->route->v2_path == V2_PATH_UPLOAD)
		json_object_set_new(params, "uploadId", json_string(req->reference));
	return params;
}

/* The event name: the route's IAM action without "ecr:", or the STS action. */
static const char *event_name(struct request *req)
{
	if (req->audit_event_name[0])
		return req->audit_event_name;
	if (req->route->action == NULL)
		return NULL;
	return strchr(req->route->action, ':') ? strchr(req->route->action, ':') + 1 : req->route->action;
}

void audit_record_request(struct request *req)
{
	const char *name;
	const char *agent = request_header(req, MHD_HTTP_HEADER_USER_AGENT);
	char event_id[UUID_BUF], now[40];
	bool v2;
	json_t *record, *identity;

	if (req->audited)
		return;
	req->audited = true;
	if (req->srv->audit == NULL || req->route == NULL || (name = event_name(req)) == NULL)
		return;
	v2 = req->route->protocol == PROTOCOL_V2;
	uuid_generate_v4(event_id);
	clock_format_rfc3339(req->started, now, sizeof(now));
	identity = audit_user_identity(&req->principal, v2 ? NULL : req->access_key);
	if (v2)
		json_object_set_new(identity, "invokedBy", json_string("AWS Internal"));
	record = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:n, s:s, s:s, s:b, s:s, s:b, s:s, s:s}",
			   "eventVersion", EVENT_VERSION, "userIdentity", identity, "eventTime", now, "eventSource",
			   req->route->protocol == PROTOCOL_STS ? "sts.amazonaws.com" : "ecr.amazonaws.com", "eventName",
			   name, "awsRegion", req->region[0] ? req->region : req->srv->config.region, "sourceIPAddress",
			   v2 ? "AWS Internal" : req->client, "userAgent", v2 ? "AWS Internal" : (agent ? agent : ""),
			   "requestParameters", request_parameters(req), "responseElements", "requestID", req->id,
			   "eventID", event_id, "readOnly", read_only_action(name), "eventType", "AwsApiCall",
			   "managementEvent", true, "recipientAccountId",
			   req->account[0] ? req->account : req->srv->config.account_id, "eventCategory", "Management");
	if (record == NULL)
		return;
	if (req->have_repo || req->log_repository[0]) {
		char arn[600];
		const char *repo_name = req->have_repo ? req->repo.name : req->log_repository;
		const char *account = req->have_repo ? req->repo.registry_id : req->account;

		snprintf(arn, sizeof(arn), "arn:aws:ecr:%s:%s:repository/%s",
			 req->have_repo ? req->repo.region : req->region, account, repo_name);
		if (req->route->protocol != PROTOCOL_STS)
			json_object_set_new(record, "resources",
					    json_pack("[{s:s, s:s, s:s}]", "ARN", arn, "accountId", account, "type",
						      "AWS::ECR::Repository"));
	}
	/* A HEAD on a blob that is not there is a push's existence check;
	 * ECR reports it as an availability failure, not an error. */
	bool existence_check = req->status == LCR_ERR_BLOB_UNKNOWN && strcmp(req->method, "HEAD") == 0;

	if (req->status != LCR_OK && !existence_check) {
		const struct lcr_status_info *info = lcr_status_info(req->status);

		json_object_set_new(record, "errorCode", json_string(info->ecr_exception));
		json_object_set_new(record, "errorMessage",
				    json_string(req->status == LCR_ERR_INTERNAL ? "An internal error occurred." : req->err));
	}
	audit_submit(req->srv->audit, record);
}

json_t *audit_service_event(struct server *srv, const char *account, const char *region, const char *event_name,
			    json_t *resources_new, json_t *details_new)
{
	char event_id[UUID_BUF], now[40];

	uuid_generate_v4(event_id);
	clock_format_rfc3339(clock_now(), now, sizeof(now));
	(void)srv;
	return json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:s, s:b, s:s, s:s, s:o, s:o}",
			 "eventVersion", EVENT_VERSION, "userIdentity", "accountId", account, "invokedBy", "AWS Internal",
			 "eventTime", now, "eventSource", "ecr.amazonaws.com", "eventName", event_name, "awsRegion", region,
			 "sourceIPAddress", "AWS Internal", "userAgent", "AWS Internal", "requestParameters",
			 "responseElements", "eventID", event_id, "readOnly", true, "eventType", "AwsServiceEvent",
			 "recipientAccountId", account, "resources", resources_new, "serviceEventDetails", details_new);
}
