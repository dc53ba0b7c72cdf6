/*
 * sigv4.c - AWS Signature Version 4 verification (IAM mode).
 *
 * Rebuilds the canonical request the way botocore's SigV4Auth builds it:
 *   METHOD \n canonical URI \n canonical query \n canonical headers \n
 *   signed header names \n hex(sha256(payload))
 * with the URI path segments and query keys and values URI-encoded
 * (RFC 3986 unreserved characters kept), the query sorted by key then
 * value, header names lowercased and values trimmed with inner whitespace
 * runs collapsed, repeated headers joined with ",".  The string to sign is
 * AWS4-HMAC-SHA256 \n <X-Amz-Date> \n <scope> \n hex(sha256(canonical
 * request)), signed with the key derived from the secret, date, region and
 * service.  Requests must be within 15 minutes of the server clock, as ECR
 * enforces, and the error texts are AWS's.
 */
#include "server.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"

#define SIGV4_WINDOW_SECONDS (15 * 60)
#define SIGNATURE_MISMATCH                                                                                   \
	"The request signature we calculated does not match the signature you provided. Check your AWS Secret " \
	"Access Key and signing method. Consult the service documentation for details."

struct sigv4_parts {
	char access_key[129];
	char date[9];         /* scope date YYYYMMDD */
	char region[REGION_BUF];
	char service[32];
	char signed_headers[1024];
	char signature[65];
	char amz_date[17];    /* YYYYMMDDTHHMMSSZ */
	const char *security_token;
	bool presigned;
};

static void uri_encode(struct buf *out, const char *s, bool keep_slash)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
			buf_append(out, s, 1);
		else
			buf_appendf(out, "%%%02X", c);
	}
}

struct query_item {
	char *key;
	char *value;
};

struct query_list {
	struct query_item items[128];
	size_t n;
	bool presigned;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_list *list = cls;
	struct buf k, v;

	(void)kind;
	if (list->n == sizeof(list->items) / sizeof(list->items[0]))
		return MHD_NO;
	/* The signature itself is not part of what it signs. */
	if (list->presigned && strcmp(key, "X-Amz-Signature") == 0)
		return MHD_YES;
	buf_init(&k, 4096);
	buf_init(&v, 65536);
	uri_encode(&k, key, false);
	uri_encode(&v, value ? value : "", false);
	list->items[list->n].key = k.data ? k.data : strdup("");
	list->items[list->n].value = v.data ? v.data : strdup("");
	list->n++;
	return MHD_YES;
}

static int compare_query(const void *a, const void *b)
{
	const struct query_item *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : strcmp(x->value, y->value);
}

struct header_values {
	const char *name;
	struct buf *out;
	int count;
};

static void append_trimmed(struct buf *out, const char *value)
{
	bool space = false;

	while (*value == ' ' || *value == '\t')
		value++;
	for (; *value != '\0'; value++) {
		if (*value == ' ' || *value == '\t') {
			space = true;
			continue;
		}
		if (space && out->len > 0)
			buf_append(out, " ", 1);
		space = false;
		buf_append(out, value, 1);
	}
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct header_values *h = cls;
	struct buf one;

	(void)kind;
	if (strcasecmp(key, h->name) != 0)
		return MHD_YES;
	buf_init(&one, 65536);
	append_trimmed(&one, value ? value : "");
	if (h->count++ > 0)
		buf_append(h->out, ",", 1);
	if (one.data != NULL)
		buf_append(h->out, one.data, one.len);
	buf_release(&one);
	return MHD_YES;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char raw[SHA256_DIGEST_LENGTH];

	SHA256(data, len, raw);
	digest_hex(raw, sizeof(raw), out);
}

static void hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* Build the canonical request into out; false when a signed header is
 * missing. */
static bool canonical_request(struct request *req, const struct sigv4_parts *parts, const void *body, size_t len,
			      struct buf *out)
{
	struct query_list query = {.n = 0, .presigned = parts->presigned};
	char payload_hash[65], names[1024], *name, *save = NULL;
	const char *content_sha = request_header(req, "X-Amz-Content-Sha256");
	bool ok = true;

	buf_appendf(out, "%s\n", req->method);
	uri_encode(out, req->url, true);
	buf_append(out, "\n", 1);
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_query, &query);
	qsort(query.items, query.n, sizeof(query.items[0]), compare_query);
	for (size_t i = 0; i < query.n; i++) {
		buf_appendf(out, "%s%s=%s", i ? "&" : "", query.items[i].key, query.items[i].value);
		free(query.items[i].key);
		free(query.items[i].value);
	}
	buf_append(out, "\n", 1);
	snprintf(names, sizeof(names), "%s", parts->signed_headers);
	for (name = strtok_r(names, ";", &save); name != NULL; name = strtok_r(NULL, ";", &save)) {
		struct header_values h = {name, out, 0};

		buf_appendf(out, "%s:", name);
		MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_header, &h);
		if (h.count == 0)
			ok = false;
		buf_append(out, "\n", 1);
	}
	buf_appendf(out, "\n%s\n", parts->signed_headers);
	if (parts->presigned)
		snprintf(payload_hash, sizeof(payload_hash), "UNSIGNED-PAYLOAD");
	else if (content_sha != NULL && strcmp(content_sha, "UNSIGNED-PAYLOAD") == 0)
		snprintf(payload_hash, sizeof(payload_hash), "UNSIGNED-PAYLOAD");
	else
		sha256_hex(body ? body : "", len, payload_hash);
	buf_appendf(out, "%s", payload_hash);
	return ok;
}

/* Copy "key=value" from a comma-separated Authorization header. */
static bool header_param(const char *header, const char *key, char *out, size_t outlen)
{
	size_t keylen = strlen(key);

	for (const char *p = header; (p = strstr(p, key)) != NULL; p += keylen) {
		if ((p == header || p[-1] == ' ' || p[-1] == ',') && p[keylen] == '=') {
			size_t n = strcspn(p + keylen + 1, ", ");

			if (n == 0 || n >= outlen)
				return false;
			memcpy(out, p + keylen + 1, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

static int split_scope(struct request *req, const char *credential, struct sigv4_parts *parts)
{
	char copy[512];
	char *fields[6] = {0}, *save = NULL, *tok;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", credential);
	for (tok = strtok_r(copy, "/", &save); tok != NULL && n < 6; tok = strtok_r(NULL, "/", &save))
		fields[n++] = tok;
	if (n != 5 || strlen(fields[1]) != 8 || strcmp(fields[4], "aws4_request") != 0 ||
	    strlen(fields[0]) >= sizeof(parts->access_key) || strlen(fields[2]) >= sizeof(parts->region) ||
	    strlen(fields[3]) >= sizeof(parts->service))
		return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
				"Credential should be scoped to a valid region. The scope must look like "
				"<access key>/<YYYYMMDD>/<region>/<service>/aws4_request; got '%s'",
				credential);
	snprintf(parts->access_key, sizeof(parts->access_key), "%s", fields[0]);
	snprintf(parts->date, sizeof(parts->date), "%s", fields[1]);
	snprintf(parts->region, sizeof(parts->region), "%s", fields[2]);
	snprintf(parts->service, sizeof(parts->service), "%s", fields[3]);
	return LCR_OK;
}

static int read_parts(struct request *req, struct sigv4_parts *parts)
{
	const char *header = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *query_credential = request_query(req, "X-Amz-Credential");
	char credential[512];
	const char *date;

	memset(parts, 0, sizeof(*parts));
	if (header == NULL && query_credential != NULL) {
		const char *signed_headers = request_query(req, "X-Amz-SignedHeaders");
		const char *signature = request_query(req, "X-Amz-Signature");
		const char *algorithm = request_query(req, "X-Amz-Algorithm");

		date = request_query(req, "X-Amz-Date");
		if (algorithm == NULL || strcmp(algorithm, "AWS4-HMAC-SHA256") != 0 || signed_headers == NULL ||
		    signature == NULL || date == NULL)
			return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
					"AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', "
					"'X-Amz-Signature', 'X-Amz-SignedHeaders' and 'X-Amz-Date'. Re-examine the "
					"query-string parameters.");
		parts->presigned = true;
		snprintf(parts->signed_headers, sizeof(parts->signed_headers), "%s", signed_headers);
		snprintf(parts->signature, sizeof(parts->signature), "%s", signature);
		parts->security_token = request_query(req, "X-Amz-Security-Token");
		snprintf(credential, sizeof(credential), "%s", query_credential);
	} else {
		if (header == NULL)
			return lcr_fail(LCR_ERR_MISSING_AUTH, req->err, sizeof(req->err), "Missing Authentication Token");
		if (strncmp(header, "AWS4-HMAC-SHA256 ", 17) != 0 || !header_param(header, "Credential", credential,
										      sizeof(credential)) ||
		    !header_param(header, "SignedHeaders", parts->signed_headers, sizeof(parts->signed_headers)) ||
		    !header_param(header, "Signature", parts->signature, sizeof(parts->signature)))
			return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
					"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
					"parameters with the AWS4-HMAC-SHA256 algorithm");
		date = request_header(req, "X-Amz-Date");
		parts->security_token = request_header(req, "X-Amz-Security-Token");
		if (date == NULL)
			return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
					"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
					"header.");
	}
	if (strlen(date) != 16 || date[8] != 'T' || date[15] != 'Z')
		return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
				"X-Amz-Date must have the form YYYYMMDDTHHMMSSZ; got '%s'", date);
	snprintf(parts->amz_date, sizeof(parts->amz_date), "%s", date);
	return split_scope(req, credential, parts);
}

static void format_amz_date(double t, char out[17])
{
	time_t secs = (time_t)t;
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int check_clock(struct request *req, const struct sigv4_parts *parts)
{
	struct tm tm;
	double when, now = clock_now();
	char now_text[17], bound_text[17];

	memset(&tm, 0, sizeof(tm));
	if (strptime(parts->amz_date, "%Y%m%dT%H%M%SZ", &tm) == NULL)
		return lcr_fail(LCR_ERR_INCOMPLETE_SIGNATURE, req->err, sizeof(req->err),
				"X-Amz-Date '%s' is not a valid date", parts->amz_date);
	when = (double)timegm(&tm);
	if (strncmp(parts->amz_date, parts->date, 8) != 0)
		return lcr_fail(LCR_ERR_INVALID_SIGNATURE, req->err, sizeof(req->err),
				"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
				"HTTP: '%s' != '%.8s', from '%s'.",
				parts->date, parts->amz_date, parts->amz_date);
	format_amz_date(now, now_text);
	if (when < now - SIGV4_WINDOW_SECONDS) {
		format_amz_date(now - SIGV4_WINDOW_SECONDS, bound_text);
		return lcr_fail(LCR_ERR_INVALID_SIGNATURE, req->err, sizeof(req->err),
				"Signature expired: %s is now earlier than %s (%s - 15 min.)", parts->amz_date, bound_text,
				now_text);
	}
	if (when > now + SIGV4_WINDOW_SECONDS) {
		format_amz_date(now + SIGV4_WINDOW_SECONDS, bound_text);
		return lcr_fail(LCR_ERR_INVALID_SIGNATURE, req->err, sizeof(req->err),
				"Signature not yet current: %s is still later than %s (%s + 15 min.)", parts->amz_date,
				bound_text, now_text);
	}
	return LCR_OK;
}

int sigv4_compute(const char *secret, const char *date, const char *region, const char *service,
		  const char *string_to_sign, char out_hex[65])
{
	unsigned char k_date[32], k_region[32], k_service[32], k_signing[32], sig[32];
	char *key = NULL;

	if (asprintf(&key, "AWS4%s", secret) < 0)
		return LCR_ERR_INTERNAL;
	hmac(key, strlen(key), date, k_date);
	hmac(k_date, 32, region, k_region);
	hmac(k_region, 32, service, k_service);
	hmac(k_service, 32, "aws4_request", k_signing);
	hmac(k_signing, 32, string_to_sign, sig);
	digest_hex(sig, 32, out_hex);
	OPENSSL_cleanse(key, strlen(key));
	free(key);
	return LCR_OK;
}

int sigv4_verify(struct request *req, const char *service, const void *body, size_t len)
{
	struct sigv4_parts parts;
	struct credential credential;
	struct buf canonical, to_sign;
	char canonical_hash[65], expected[65];
	int status = read_parts(req, &parts);

	if (status != LCR_OK)
		return status;
	if (strcmp(parts.service, service) != 0)
		return lcr_fail(LCR_ERR_INVALID_SIGNATURE, req->err, sizeof(req->err),
				"Credential should be scoped to correct service: '%s'. ", service);
	if (strstr(parts.signed_headers, "host") == NULL)
		return lcr_fail(LCR_ERR_INVALID_SIGNATURE, req->err, sizeof(req->err),
				"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
	status = check_clock(req, &parts);
	if (status != LCR_OK)
		return status;
	principal_release(&req->principal);
	status = auth_credential_lookup(req, parts.access_key, parts.security_token, &credential);
	if (status != LCR_OK)
		return status;
	buf_init(&canonical, 1024 * 1024);
	buf_init(&to_sign, 64 * 1024);
	if (!canonical_request(req, &parts, body, len, &canonical)) {
		buf_release(&canonical);
		return lcr_fail(LCR_ERR_INVALID_SIGNATURE, req->err, sizeof(req->err), SIGNATURE_MISMATCH);
	}
	sha256_hex(canonical.data, canonical.len, canonical_hash);
	buf_appendf(&to_sign, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", parts.amz_date, parts.date, parts.region,
		    parts.service, canonical_hash);
	status = sigv4_compute(credential.secret, parts.date, parts.region, parts.service, to_sign.data, expected);
	if (status == LCR_OK && !constant_time_equal(expected, 64, parts.signature, strlen(parts.signature))) {
		log_debug("request %s: SigV4 mismatch for access key %s; canonical request:\n%s", req->id,
			  parts.access_key, canonical.data);
		status = lcr_fail(LCR_ERR_INVALID_SIGNATURE, req->err, sizeof(req->err), SIGNATURE_MISMATCH);
	}
	buf_release(&canonical);
	buf_release(&to_sign);
	if (status == LCR_OK) {
		snprintf(req->access_key, sizeof(req->access_key), "%s", parts.access_key);
		snprintf(req->region, sizeof(req->region), "%s", parts.region);
	}
	return status;
}
