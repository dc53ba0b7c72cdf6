/*
 * auth.c - who is calling: SigV4 on the ECR JSON API, registry tokens on
 * /v2/.
 *
 * Open mode: a well-formed SigV4 Authorization header, or presigned query,
 * is accepted without checking the signature.  The caller acts as the root
 * user of the configured account, in the region named by the credential
 * scope.  IAM mode: sigv4.c verifies the signature with the secret of the
 * access key from the identities file, or of a temporary credential minted
 * by AssumeRole, and the caller acts as that key's principal.
 *
 * Temporary credentials are stateless: the access key id is "ASIA" plus 16
 * random characters, the secret is derived from it with the server key, and
 * the session token is signed claims naming the key, the role, the session
 * name and the expiry.  They survive restarts like registry tokens do.
 *
 * Signed claims: base64url(JSON payload) "." base64url(HMAC-SHA256(key,
 * payload)), with a random key kept in the data directory, so they survive
 * restarts and cannot be forged or edited by clients.  Registry tokens
 * (GetAuthorizationToken returns base64("AWS:" + password)) use payload
 * {"v":1,"account","region","arn","exp"}; GetDownloadUrlForLayer URLs use
 * {"repository","digest","exp"}.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* Copy the value of "key=value" from a comma-separated SigV4 header into
 * out; return false when the key is absent or empty. */
static bool sigv4_param(const char *header, const char *key, char *out, size_t outlen)
{
	size_t keylen = strlen(key);
	const char *p = header;

	while ((p = strstr(p, key)) != NULL) {
		bool at_start = p == header || p[-1] == ' ' || p[-1] == ',';

		if (at_start && p[keylen] == '=') {
			const char *value = p + keylen + 1;
			size_t n = strcspn(value, ", ");

			if (n == 0 || n >= outlen)
				return false;
			memcpy(out, value, n);
			out[n] = '\0';
			return true;
		}
		p += keylen;
	}
	return false;
}

/* Split "AKID/20240101/us-east-1/ecr/aws4_request" into its parts. */
static int parse_credential_scope(struct request *req, const char *credential)
{
	char copy[512], *parts[5], *save = NULL, *tok;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", credential);
	for (tok = strtok_r(copy, "/", &save); tok != NULL && n < 5; tok = strtok_r(NULL, "/", &save))
		parts[n++] = tok;
	if (n != 5 || tok != NULL || strlen(parts[1]) != 8 || strcmp(parts[4], "aws4_request") != 0)
		return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
				"Credential should be scoped to a valid region, e.g. "
				"AKID/YYYYMMDD/us-east-1/ecr/aws4_request; got '%s'",
				credential);
	if (strlen(parts[0]) > 128 || strlen(parts[2]) >= sizeof(req->region))
		return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
				"Credential has an access key or region that is too long");
	snprintf(req->access_key, sizeof(req->access_key), "%s", parts[0]);
	snprintf(req->region, sizeof(req->region), "%s", parts[2]);
	return LCR_OK;
}

static void act_as_account_root(struct request *req)
{
	principal_release(&req->principal);
	memset(&req->principal, 0, sizeof(req->principal));
	req->principal.type = PRINCIPAL_ROOT;
	snprintf(req->principal.account, sizeof(req->principal.account), "%s", req->srv->config.account_id);
	snprintf(req->principal.arn, sizeof(req->principal.arn), "arn:aws:iam::%s:root", req->srv->config.account_id);
	snprintf(req->principal.name, sizeof(req->principal.name), "root");
	snprintf(req->principal.user_id, sizeof(req->principal.user_id), "%s", req->srv->config.account_id);
	snprintf(req->account, sizeof(req->account), "%s", req->srv->config.account_id);
	snprintf(req->caller_account, sizeof(req->caller_account), "%s", req->srv->config.account_id);
	snprintf(req->principal_arn, sizeof(req->principal_arn), "%s", req->principal.arn);
}

/* Open mode: check the form of the signature, not its value. */
static int parse_unverified(struct request *req)
{
	const char *header = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *query_credential = request_query(req, "X-Amz-Credential");
	char credential[512], signed_headers[1024], signature[256];
	int status;

	if (header == NULL && query_credential != NULL) {
		const char *algorithm = request_query(req, "X-Amz-Algorithm");

		if (algorithm == NULL || strcmp(algorithm, SIGV4_ALGORITHM) != 0 ||
		    request_query(req, "X-Amz-Signature") == NULL || request_query(req, "X-Amz-Date") == NULL)
			return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
					"AWS query-string parameters must include 'X-Amz-Algorithm', "
					"'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders' and 'X-Amz-Date'");
		status = parse_credential_scope(req, query_credential);
		if (status == LCR_OK)
			act_as_account_root(req);
		return status;
	}
	if (header == NULL)
		return lcr_fail(LCR_ERR_MISSING_AUTH, req->err, sizeof(req->err), "Missing Authentication Token");
	if (strncmp(header, SIGV4_ALGORITHM " ", strlen(SIGV4_ALGORITHM) + 1) != 0)
		return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
				"Authorization header requires the AWS4-HMAC-SHA256 algorithm");
	if (!sigv4_param(header, "Credential", credential, sizeof(credential)) ||
	    !sigv4_param(header, "SignedHeaders", signed_headers, sizeof(signed_headers)) ||
	    !sigv4_param(header, "Signature", signature, sizeof(signature)))
		return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
				"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
				"parameters");
	status = parse_credential_scope(req, credential);
	if (status == LCR_OK)
		act_as_account_root(req);
	return status;
}

int auth_signed_request(struct request *req, const char *service)
{
	int status;

	if (!req->srv->config.iam_mode)
		return parse_unverified(req);
	status = sigv4_verify(req, service, req->body.data, req->body.len);
	if (status == LCR_OK) {
		snprintf(req->account, sizeof(req->account), "%s", req->principal.account);
		snprintf(req->caller_account, sizeof(req->caller_account), "%s", req->principal.account);
		snprintf(req->principal_arn, sizeof(req->principal_arn), "%s", req->principal.arn);
	}
	return status;
}

static int unrecognized(struct request *req)
{
	return lcr_fail(LCR_ERR_UNRECOGNIZED_CLIENT, req->err, sizeof(req->err),
			"The security token included in the request is invalid.");
}

static int expired_token(struct request *req)
{
	return lcr_fail(LCR_ERR_TOKEN_EXPIRED, req->err, sizeof(req->err),
			"The security token included in the request is expired");
}

/* Derive the secret of a temporary access key from the server key. */
static char *session_secret(struct server *srv, const char *access_key)
{
	unsigned char mac[32];
	unsigned int len = sizeof(mac);
	char *label = NULL, *secret;

	if (asprintf(&label, "session-secret:%s", access_key) < 0)
		return NULL;
	HMAC(EVP_sha256(), srv->token_key, sizeof(srv->token_key), (const unsigned char *)label, strlen(label), mac, &len);
	free(label);
	secret = base64_encode(mac, 30);
	return secret;
}

/* Turn a role principal into one of its sessions. */
static void make_session(struct principal *p, const char *session_name)
{
	char role_name[128];

	snprintf(role_name, sizeof(role_name), "%s", p->name);
	snprintf(p->session_name, sizeof(p->session_name), "%s", session_name);
	snprintf(p->arn, sizeof(p->arn), "arn:aws:sts::%s:assumed-role/%s/%s", p->account, role_name, session_name);
	snprintf(p->user_id + strlen(p->user_id), sizeof(p->user_id) - strlen(p->user_id), ":%s", session_name);
}

static int lookup_session(struct request *req, const char *access_key, const char *session_token,
			  struct credential *out)
{
	static _Thread_local char secret_copy[64];
	json_t *claims;
	const char *key, *role, *session;
	const struct policy *trust;
	double max_session;
	char *secret;
	int status;

	if (session_token == NULL)
		return unrecognized(req);
	claims = auth_verify_claims(req->srv, session_token);
	key = json_string_value(json_object_get(claims, "akid"));
	role = json_string_value(json_object_get(claims, "role"));
	session = json_string_value(json_object_get(claims, "session"));
	if (key == NULL || role == NULL || session == NULL || strcmp(key, access_key) != 0 ||
	    !json_is_integer(json_object_get(claims, "exp"))) {
		json_decref(claims);
		return unrecognized(req);
	}
	if ((double)json_integer_value(json_object_get(claims, "exp")) <= clock_now()) {
		json_decref(claims);
		return expired_token(req);
	}
	status = identity_find_role(req->srv->identities, role, &trust, &max_session, &req->principal) ? LCR_OK
												       : unrecognized(req);
	if (status == LCR_OK)
		make_session(&req->principal, session);
	json_decref(claims);
	secret = status == LCR_OK ? session_secret(req->srv, access_key) : NULL;
	if (status == LCR_OK && secret == NULL)
		status = LCR_ERR_INTERNAL;
	if (secret != NULL) {
		snprintf(secret_copy, sizeof(secret_copy), "%s", secret);
		free(secret);
		out->secret = secret_copy;
		out->session_token = session_token;
		out->expiration = 0;
	}
	return status;
}

int auth_credential_lookup(struct request *req, const char *access_key, const char *session_token,
			   struct credential *out)
{
	if (strncmp(access_key, "ASIA", 4) == 0 && !identity_find_access_key(req->srv->identities, access_key, out,
									   &req->principal))
		return lookup_session(req, access_key, session_token, out);
	principal_release(&req->principal);
	if (!identity_find_access_key(req->srv->identities, access_key, out, &req->principal))
		return unrecognized(req);
	if (out->session_token != NULL) {
		if (session_token == NULL || strcmp(session_token, out->session_token) != 0)
			return unrecognized(req);
		if (out->expiration > 0 && out->expiration <= clock_now())
			return expired_token(req);
	}
	return LCR_OK;
}

int auth_session_mint(struct server *srv, const struct principal *role, const char *session_name, double expires_at,
		      char **out_access_key, char **out_secret, char **out_token)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char random[16];
	char access_key[21];
	json_t *claims;

	*out_access_key = *out_secret = *out_token = NULL;
	if (!random_bytes(random, sizeof(random)))
		return LCR_ERR_INTERNAL;
	memcpy(access_key, "ASIA", 4);
	for (int i = 0; i < 16; i++)
		access_key[4 + i] = alphabet[random[i] & 31];
	access_key[20] = '\0';
	claims = json_pack("{s:s, s:s, s:s, s:I}", "akid", access_key, "role", role->role_arn, "session", session_name,
			   "exp", (json_int_t)expires_at);
	*out_token = claims ? auth_sign_claims(srv, claims) : NULL;
	json_decref(claims);
	*out_secret = session_secret(srv, access_key);
	*out_access_key = strdup(access_key);
	if (*out_token == NULL || *out_secret == NULL || *out_access_key == NULL) {
		free(*out_token);
		free(*out_secret);
		free(*out_access_key);
		*out_access_key = *out_secret = *out_token = NULL;
		return LCR_ERR_INTERNAL;
	}
	return LCR_OK;
}

static void token_mac(const unsigned char *key, const char *payload, unsigned char out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), key, 32, (const unsigned char *)payload, strlen(payload), out, &len);
}

char *auth_sign_claims(struct server *srv, json_t *claims)
{
	char *text = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char mac[32];
	char *encoded = NULL, *encoded_mac = NULL, *signed_text = NULL;

	if (text == NULL)
		return NULL;
	token_mac(srv->token_key, text, mac);
	encoded = base64url_encode(text, strlen(text));
	encoded_mac = base64url_encode(mac, sizeof(mac));
	if (encoded != NULL && encoded_mac != NULL && asprintf(&signed_text, "%s.%s", encoded, encoded_mac) < 0)
		signed_text = NULL;
	free(text);
	free(encoded);
	free(encoded_mac);
	return signed_text;
}

json_t *auth_verify_claims(struct server *srv, const char *signed_text)
{
	const char *dot = strchr(signed_text, '.');
	char *payload_b64 = NULL;
	unsigned char *payload = NULL, *mac = NULL, expected[32];
	size_t payload_len = 0, mac_len = 0;
	json_t *claims = NULL;
	json_error_t jerr;

	if (dot == NULL)
		return NULL;
	payload_b64 = strndup(signed_text, (size_t)(dot - signed_text));
	payload = payload_b64 ? base64url_decode(payload_b64, &payload_len) : NULL;
	mac = base64url_decode(dot + 1, &mac_len);
	/* Accept only the canonical encoding of the MAC: a last character whose
	 * unused bits differ decodes to the same bytes, and such a changed
	 * token must not verify. */
	if (mac != NULL) {
		char *canonical = base64url_encode(mac, mac_len);

		if (canonical == NULL || strcmp(canonical, dot + 1) != 0) {
			free(mac);
			mac = NULL;
		}
		free(canonical);
	}
	if (payload != NULL && mac != NULL && strlen((char *)payload) == payload_len) {
		token_mac(srv->token_key, (const char *)payload, expected);
		if (constant_time_equal(mac, mac_len, expected, sizeof(expected)))
			claims = json_loadb((const char *)payload, payload_len, 0, &jerr);
	}
	if (claims != NULL && !json_is_object(claims)) {
		json_decref(claims);
		claims = NULL;
	}
	free(payload_b64);
	free(payload);
	free(mac);
	return claims;
}

char *auth_token_mint(struct request *req, double expires_at)
{
	json_t *claims = json_pack("{s:i, s:s, s:s, s:s, s:I}", "v", 1, "account", req->caller_account, "region",
				   req->region, "arn", req->principal_arn, "exp", (json_int_t)expires_at);

	if (claims != NULL && req->principal.type == PRINCIPAL_ASSUMED_ROLE) {
		json_object_set_new(claims, "role", json_string(req->principal.role_arn));
		json_object_set_new(claims, "session", json_string(req->principal.session_name));
	}
	char *password = claims ? auth_sign_claims(req->srv, claims) : NULL;

	json_decref(claims);
	return password;
}

static int token_invalid(struct request *req)
{
	return lcr_fail(LCR_ERR_TOKEN_INVALID, req->err, sizeof(req->err), "Your Authorization Token is invalid.");
}

/* Resolve the principal a registry token was minted for.  In IAM mode a
 * principal removed from the identities file no longer gets in. */
static int token_principal(struct request *req, json_t *claims)
{
	const char *role = json_string_value(json_object_get(claims, "role"));
	const char *session = json_string_value(json_object_get(claims, "session"));
	const struct policy *trust;
	double max_session;

	principal_release(&req->principal);
	if (!req->srv->config.iam_mode) {
		memset(&req->principal, 0, sizeof(req->principal));
		req->principal.type = PRINCIPAL_ROOT;
		snprintf(req->principal.account, sizeof(req->principal.account), "%s", req->caller_account);
		snprintf(req->principal.arn, sizeof(req->principal.arn), "%s", req->principal_arn);
		return LCR_OK;
	}
	if (role != NULL && session != NULL) {
		if (!identity_find_role(req->srv->identities, role, &trust, &max_session, &req->principal))
			return token_invalid(req);
		make_session(&req->principal, session);
		return LCR_OK;
	}
	if (!identity_find_principal(req->srv->identities, req->principal_arn, &req->principal))
		return token_invalid(req);
	return LCR_OK;
}

/* Check the password half of a token and fill in the caller from it. */
static int verify_password(struct request *req, const char *password)
{
	json_t *claims = auth_verify_claims(req->srv, password);
	int status = token_invalid(req);

	if (claims == NULL || !json_is_string(json_object_get(claims, "account")) ||
	    !json_is_string(json_object_get(claims, "region")) || !json_is_string(json_object_get(claims, "arn")) ||
	    !json_is_integer(json_object_get(claims, "exp")))
		goto out;
	if ((double)json_integer_value(json_object_get(claims, "exp")) <= clock_now()) {
		status = lcr_fail(LCR_ERR_TOKEN_EXPIRED, req->err, sizeof(req->err),
				  "Your authorization token has expired. Reauthenticate and try again.");
		goto out;
	}
	snprintf(req->caller_account, sizeof(req->caller_account), "%s",
		 json_string_value(json_object_get(claims, "account")));
	snprintf(req->account, sizeof(req->account), "%s", req->caller_account);
	snprintf(req->region, sizeof(req->region), "%s", json_string_value(json_object_get(claims, "region")));
	snprintf(req->principal_arn, sizeof(req->principal_arn), "%s",
		 json_string_value(json_object_get(claims, "arn")));
	status = token_principal(req, claims);
out:
	json_decref(claims);
	return status;
}

/* The registry host <account>.dkr.ecr.<region>.<suffix> names the registry
 * a /v2/ request addresses (suffix: --registry-suffix, or amazonaws.com).
 * Other hosts (127.0.0.1:5000, localhost) address the token's own account.
 * A token is minted for one region: used on another region's host it is
 * rejected, as ECR rejects it (docker login fails with 400). */
static int select_registry_host(struct request *req)
{
	const char *host = request_header(req, MHD_HTTP_HEADER_HOST);
	char account[REGISTRY_ID_BUF], region[REGION_BUF], rest[256];
	size_t suffix_len;

	if (host == NULL || sscanf(host, "%12[0-9].dkr.ecr.%31[a-z0-9-].%255[^:]", account, region, rest) != 3 ||
	    strlen(account) != 12)
		return LCR_OK;
	suffix_len = strlen(req->srv->config.registry_suffix);
	if (strcmp(rest, "amazonaws.com") != 0 &&
	    !(strlen(rest) >= suffix_len && strcmp(rest + strlen(rest) - suffix_len, req->srv->config.registry_suffix) == 0))
		return LCR_OK;
	if (strcmp(region, req->region) != 0)
		return lcr_fail(LCR_ERR_TOKEN_INVALID, req->err, sizeof(req->err),
				"Your authorization token is invalid for region %s: it was issued in %s.", region,
				req->region);
	snprintf(req->account, sizeof(req->account), "%s", account);
	return LCR_OK;
}

int auth_registry_token(struct request *req)
{
	const char *header = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char *decoded;
	size_t len = 0;
	char *colon;
	int status;

	if (header == NULL)
		return lcr_fail(LCR_ERR_UNAUTHORIZED, req->err, sizeof(req->err), "Not Authorized");
	if (strncasecmp(header, "Basic ", 6) != 0)
		return lcr_fail(LCR_ERR_UNAUTHORIZED, req->err, sizeof(req->err),
				"Not Authorized: use Basic authentication with the token from GetAuthorizationToken");
	header += 6;
	while (*header == ' ')
		header++;
	decoded = base64_decode(header, &len);
	if (decoded == NULL)
		return token_invalid(req);
	colon = strchr((char *)decoded, ':');
	if (colon == NULL || strlen((char *)decoded) != len || (size_t)(colon - (char *)decoded) != 3 ||
	    strncmp((char *)decoded, "AWS", 3) != 0) {
		free(decoded);
		return token_invalid(req);
	}
	status = verify_password(req, colon + 1);
	free(decoded);
	if (status == LCR_OK)
		status = select_registry_host(req);
	return status;
}
