/*
 * auth.c - who is calling: SigV4 on the ECR JSON API, registry tokens on
 * /v2/.
 *
 * Open mode (the only mode so far): a well-formed SigV4 Authorization
 * header, or presigned query, is accepted without checking the signature;
 * the caller acts as the root user of the configured account, in the region
 * named by the credential scope.
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
	snprintf(req->account, sizeof(req->account), "%s", req->srv->config.account_id);
	snprintf(req->principal_arn, sizeof(req->principal_arn), "arn:aws:iam::%s:root", req->account);
}

int auth_sigv4_parse(struct request *req)
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
	if (status != LCR_OK)
		return status;
	/* NOTE: open mode; the signature is parsed but not verified. */
	act_as_account_root(req);
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
	json_t *claims = json_pack("{s:i, s:s, s:s, s:s, s:I}", "v", 1, "account", req->account, "region",
				   req->region, "arn", req->principal_arn, "exp", (json_int_t)expires_at);
	char *password = claims ? auth_sign_claims(req->srv, claims) : NULL;

	json_decref(claims);
	return password;
}

static int token_invalid(struct request *req)
{
	return lcr_fail(LCR_ERR_TOKEN_INVALID, req->err, sizeof(req->err), "Your authorization token is invalid.");
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
	snprintf(req->account, sizeof(req->account), "%s", json_string_value(json_object_get(claims, "account")));
	snprintf(req->region, sizeof(req->region), "%s", json_string_value(json_object_get(claims, "region")));
	snprintf(req->principal_arn, sizeof(req->principal_arn), "%s",
		 json_string_value(json_object_get(claims, "arn")));
	status = LCR_OK;
out:
	json_decref(claims);
	return status;
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
	return status;
}
