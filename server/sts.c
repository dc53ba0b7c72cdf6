/*
 * sts.c - the STS operations labs need, on the same endpoint:
 * GetCallerIdentity and AssumeRole (AWS query protocol: a form-encoded POST
 * body with Action=..., with an XML response).
 *
 * AssumeRole evaluates the role's trust policy as the resource policy and
 * the caller's identity policies as usual, so a same-account trust policy
 * naming the caller is enough, and a cross-account caller also needs an
 * identity policy allowing sts:AssumeRole on the role.
 */
#include "server.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"

#define STS_NAMESPACE "https://sts.amazonaws.com/doc/2011-06-15/"
#define SESSION_SECONDS_MIN 900

/* Decode one application/x-www-form-urlencoded value in place. */
static void form_decode(char *s)
{
	char *out = s;

	for (; *s != '\0'; s++) {
		if (*s == '+') {
			*out++ = ' ';
		} else if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = {s[1], s[2], '\0'};

			*out++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* Find name in the form body; returns a malloc'd decoded value or NULL. */
static char *form_value(const char *body, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = body; p != NULL && *p != '\0'; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, name, len) == 0 && p[len] == '=') {
			char *value = strndup(p + len + 1, strcspn(p + len + 1, "&"));

			if (value != NULL)
				form_decode(value);
			return value;
		}
	}
	return NULL;
}

static void xml_escape(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': buf_appendf(out, "&lt;"); break;
		case '>': buf_appendf(out, "&gt;"); break;
		case '&': buf_appendf(out, "&amp;"); break;
		case '"': buf_appendf(out, "&quot;"); break;
		default: buf_append(out, s, 1);
		}
	}
}

static void respond_xml(struct request *req, unsigned http_status, struct buf *body)
{
	struct MHD_Response *resp;

	req->bytes_out = body->len;
	resp = MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE);
	body->data = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/xml");
	MHD_add_response_header(resp, "x-amzn-RequestId", req->id);
	request_respond(req, http_status, resp);
}

/* STS error codes for localecr statuses. */
static const char *sts_code(int status)
{
	switch (status) {
	case LCR_ERR_MISSING_AUTH: return "MissingAuthenticationToken";
	case LCR_ERR_INCOMPLETE_SIGNATURE: return "IncompleteSignature";
	case LCR_ERR_INVALID_SIGNATURE: return "SignatureDoesNotMatch";
	case LCR_ERR_UNRECOGNIZED_CLIENT: return "InvalidClientTokenId";
	case LCR_ERR_TOKEN_EXPIRED: return "ExpiredToken";
	case LCR_ERR_DENIED: return "AccessDenied";
	case LCR_ERR_INVALID_PARAMETER: return "ValidationError";
	case LCR_ERR_UNKNOWN_OPERATION: return "InvalidAction";
	case LCR_ERR_INTERNAL: return "InternalFailure";
	default: return "InvalidParameterValue";
	}
}

/* Render req->status as an STS ErrorResponse. */
static int sts_error(struct request *req, int status)
{
	struct buf body;
	unsigned http_status = status == LCR_ERR_DENIED || status == LCR_ERR_UNRECOGNIZED_CLIENT ||
					       status == LCR_ERR_INVALID_SIGNATURE || status == LCR_ERR_TOKEN_EXPIRED ||
					       status == LCR_ERR_MISSING_AUTH
				       ? 403
				       : status == LCR_ERR_INTERNAL ? 500 : 400;

	buf_init(&body, 64 * 1024);
	buf_appendf(&body, "<ErrorResponse xmlns=\"" STS_NAMESPACE "\"><Error><Type>%s</Type><Code>%s</Code><Message>",
		    http_status >= 500 ? "Receiver" : "Sender", sts_code(status));
	xml_escape(&body, status == LCR_ERR_INTERNAL ? "An internal error occurred." : req->err);
	buf_appendf(&body, "</Message></Error><RequestId>%s</RequestId></ErrorResponse>", req->id);
	respond_xml(req, http_status, &body);
	return status;
}

static int get_caller_identity(struct request *req)
{
	struct buf body;

	buf_init(&body, 64 * 1024);
	buf_appendf(&body, "<GetCallerIdentityResponse xmlns=\"" STS_NAMESPACE "\"><GetCallerIdentityResult><Arn>");
	xml_escape(&body, req->principal.arn);
	buf_appendf(&body, "</Arn><UserId>");
	xml_escape(&body, req->principal.user_id);
	buf_appendf(&body, "</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>%s"
			   "</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
		    req->principal.account, req->id);
	respond_xml(req, MHD_HTTP_OK, &body);
	return LCR_OK;
}

static bool session_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len < 2 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && strchr("_+=,.@-", name[i]) == NULL)
			return false;
	return true;
}

/* Evaluate sts:AssumeRole with the role's trust policy as the resource
 * policy, with STS's rules for trust policies.  The trust policy must always
 * allow, because an identity policy alone never opens a role.  A trust policy
 * naming only the caller's account defers to that account's identity
 * policies, and across accounts both sides must allow. */
static int check_trust(struct request *req, const char *role_arn, const struct policy *trust, const char *role_account)
{
	struct policy_request preq;
	struct policy_set set = {req->principal.policies, req->principal.npolicies, trust};
	struct policy_decision decision;
	bool allowed;

	memset(&preq, 0, sizeof(preq));
	preq.action = "sts:AssumeRole";
	preq.resource = role_arn;
	preq.resource_account = role_account;
	preq.principal_arn = req->principal.arn;
	preq.principal_account = req->principal.account;
	preq.principal_role_arn = req->principal.type == PRINCIPAL_ASSUMED_ROLE ? req->principal.role_arn : NULL;
	/* Being root grants nothing on another principal's trust policy. */
	preq.principal_is_root = false;
	if (policy_evaluate(&set, &preq, &decision) != 0)
		return LCR_ERR_INTERNAL;
	allowed = decision.result == POLICY_ALLOW;
	policy_decision_release(&decision);
	if (!allowed)
		/* STS's message has no "because" clause. */
		return lcr_fail(LCR_ERR_DENIED, req->err, sizeof(req->err),
				"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", req->principal.arn,
				role_arn);
	return LCR_OK;
}

static int assume_role(struct request *req, const char *body)
{
	char *role_arn = form_value(body, "RoleArn"), *session = form_value(body, "RoleSessionName");
	char *duration_text = form_value(body, "DurationSeconds");
	char *access_key = NULL, *secret = NULL, *token = NULL, expiration[40];
	const struct policy *trust;
	struct principal role;
	double max_session = 3600, duration = 3600, expires_at;
	struct buf out;
	int status = LCR_OK;

	memset(&role, 0, sizeof(role));
	if (role_arn == NULL || session == NULL)
		status = lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
				  "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member "
				  "must not be null",
				  role_arn == NULL ? "roleArn" : "roleSessionName");
	else if (!session_name_valid(session))
		status = lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
				  "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy "
				  "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
				  session);
	else if (!identity_find_role(req->srv->identities, role_arn, &trust, &max_session, &role))
		status = lcr_fail(LCR_ERR_DENIED, req->err, sizeof(req->err),
				  "User: %s is not authorized to perform: sts:AssumeRole on resource: %s",
				  req->principal.arn, role_arn);
	if (status == LCR_OK && duration_text != NULL) {
		char *end;

		duration = strtod(duration_text, &end);
		if (*end != '\0' || duration < SESSION_SECONDS_MIN)
			status = lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
					  "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy "
					  "constraint: Member must have value greater than or equal to %d",
					  duration_text, SESSION_SECONDS_MIN);
		else if (duration > max_session)
			status = lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
					  "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
	}
	if (status == LCR_OK)
		status = check_trust(req, role_arn, trust, role.account);
	expires_at = clock_now() + duration;
	if (status == LCR_OK)
		status = auth_session_mint(req->srv, &role, session, expires_at, &access_key, &secret, &token);
	if (status == LCR_OK) {
		char session_arn[700];

		clock_format_rfc3339(expires_at, expiration, sizeof(expiration));
		snprintf(session_arn, sizeof(session_arn), "arn:aws:sts::%s:assumed-role/%s/%s", role.account, role.name,
			 session);
		buf_init(&out, 64 * 1024);
		buf_appendf(&out, "<AssumeRoleResponse xmlns=\"" STS_NAMESPACE "\"><AssumeRoleResult><Credentials>"
				  "<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s"
				  "</SessionToken><Expiration>%s</Expiration></Credentials><AssumedRoleUser>"
				  "<AssumedRoleId>%s:",
			    access_key, secret, token, expiration, role.user_id);
		xml_escape(&out, session);
		buf_appendf(&out, "</AssumedRoleId><Arn>");
		xml_escape(&out, session_arn);
		buf_appendf(&out, "</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>%s</RequestId>"
				  "</ResponseMetadata></AssumeRoleResponse>",
			    req->id);
		log_info("request %s: %s assumed %s as session %s", req->id, req->principal.arn, role_arn, session);
		respond_xml(req, MHD_HTTP_OK, &out);
	}
	principal_release(&role);
	free(role_arn);
	free(session);
	free(duration_text);
	free(access_key);
	free(secret);
	free(token);
	return status;
}

int sts_dispatch(struct request *req)
{
	const char *body = req->body.data ? req->body.data : "";
	char *action;
	int status = auth_signed_request(req, "sts");

	if (status != LCR_OK)
		return sts_error(req, status);
	action = form_value(body, "Action");
	if (action != NULL)
		snprintf(req->audit_event_name, sizeof(req->audit_event_name), "%.63s", action);
	if (action != NULL && strcmp(action, "GetCallerIdentity") == 0) {
		status = get_caller_identity(req);
	} else if (action != NULL && strcmp(action, "AssumeRole") == 0) {
		if (!req->srv->config.iam_mode)
			status = lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
					  "AssumeRole needs IAM mode (--auth iam with an identities file)");
		else
			status = assume_role(req, body);
	} else {
		status = lcr_fail(LCR_ERR_UNKNOWN_OPERATION, req->err, sizeof(req->err),
				  "Could not find operation %s for version 2011-06-15", action ? action : "(none)");
	}
	free(action);
	if (status != LCR_OK && req->response == NULL)
		sts_error(req, status);
	return status;
}
