/*
 * faults.c - fault injection for CI suites: make chosen operations fail so
 * that a client's retries and error handling can be tested.
 *
 * A rule names an operation (an ECR operation such as "PutImage", a /v2/
 * route such as "upload.patch", or "*"), a repository wildcard, a fault and
 * how often: a count of matching requests, or a probability.  Faults:
 *   throttle      ThrottlingException (JSON, HTTP 400, which the AWS SDKs
 *                 retry) or 429 TOOMANYREQUESTS with Retry-After (/v2/)
 *   server_error  ServerException (500) or 500 UNKNOWN
 *   unavailable   503 on /v2/ (a registry 5xx, e.g. on blob upload)
 *   slow          wait delay_ms, then serve normally
 *   scan_failed   the next scan of a matching repository ends FAILED
 * Rules come from POST /_localecr/faults (one rule per call) and are
 * listed by GET and cleared by DELETE on the same path.
 */
#include "server.h"

#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/digest.h"
#include "../common/log.h"
#include "../common/status.h"

#define FAULT_RULES_MAX 64

struct fault_rule {
	char id[UUID_BUF];
	char operation[64];
	char repository[257];
	char fault[32];
	long remaining;      /* -1 = unlimited (probability rules) */
	double probability;  /* 0 = always when counting */
	long delay_ms;
	long fired;
};

static struct {
	pthread_mutex_t lock;
	struct fault_rule rules[FAULT_RULES_MAX];
	size_t n;
	atomic_bool armed; /* n > 0, read without the lock on every request */
} faults = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool glob(const char *pattern, const char *text)
{
	if (*pattern == '\0')
		return *text == '\0';
	if (*pattern == '*')
		return glob(pattern + 1, text) || (*text != '\0' && glob(pattern, text + 1));
	return *text == *pattern && glob(pattern + 1, text + 1);
}

static bool chance(double probability)
{
	unsigned int r = 0;

	if (probability <= 0)
		return true;
	random_bytes(&r, sizeof(r));
	return (double)r / 4294967296.0 < probability;
}

/* Find a rule for this operation and repository, consuming one count. */
static bool take(const char *operation, const char *repository, const char *only_fault, struct fault_rule *out)
{
	bool hit = false;

	pthread_mutex_lock(&faults.lock);
	for (size_t i = 0; i < faults.n && !hit; i++) {
		struct fault_rule *r = &faults.rules[i];

		if (r->remaining == 0 || (only_fault != NULL) != (strcmp(r->fault, "scan_failed") == 0) ||
		    (only_fault != NULL && strcmp(r->fault, only_fault) != 0))
			continue;
		if (!glob(r->operation, operation) || !glob(r->repository, repository ? repository : ""))
			continue;
		if (!chance(r->probability))
			continue;
		if (r->remaining > 0)
			r->remaining--;
		r->fired++;
		*out = *r;
		hit = true;
	}
	pthread_mutex_unlock(&faults.lock);
	return hit;
}

static const char *operation_name(const struct request *req)
{
	return req->route->name;
}

int faults_apply(struct request *req)
{
	struct fault_rule rule;
	struct MHD_Response *resp;

	if (!atomic_load_explicit(&faults.armed, memory_order_relaxed) || req->route == NULL ||
	    req->route->protocol == PROTOCOL_ADMIN || !take(operation_name(req), req->log_repository, NULL, &rule))
		return LCR_OK;
	log_info("request %s: injected fault %s (rule %s)", req->id, rule.fault, rule.id);
	if (strcmp(rule.fault, "slow") == 0) {
		struct timespec pause = {rule.delay_ms / 1000, (rule.delay_ms % 1000) * 1000000L};

		nanosleep(&pause, NULL);
		return LCR_OK;
	}
	if (strcmp(rule.fault, "throttle") == 0) {
		if (req->route->protocol == PROTOCOL_V2) {
			resp = response_text("{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"Rate exceeded\"}]}");
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
			MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
			request_respond(req, 429, resp);
		}
		return lcr_fail(LCR_ERR_THROTTLED, req->err, sizeof(req->err), "Rate exceeded");
	}
	if (strcmp(rule.fault, "unavailable") == 0)
		return lcr_fail(LCR_ERR_SERVICE_UNAVAILABLE, req->err, sizeof(req->err),
				"The service is unavailable (injected fault)");
	return lcr_fail(LCR_ERR_INTERNAL, req->err, sizeof(req->err), "injected server error");
}

bool faults_scan_should_fail(const char *repository)
{
	struct fault_rule rule;

	return atomic_load_explicit(&faults.armed, memory_order_relaxed) &&
	       take("*", repository, "scan_failed", &rule);
}

static json_t *rule_json(const struct fault_rule *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:I, s:I}", "id", r->id, "operation", r->operation, "repository",
			 r->repository, "fault", r->fault, "remaining", (json_int_t)r->remaining, "probability",
			 r->probability, "delayMs", (json_int_t)r->delay_ms, "fired", (json_int_t)r->fired);
}

int faults_add_json(json_t *body, char *err, size_t errlen, json_t **out_rule)
{
	static const char *const kinds[] = {"throttle", "server_error", "unavailable", "slow", "scan_failed"};
	const char *operation = json_string_value(json_object_get(body, "operation"));
	const char *repository = json_string_value(json_object_get(body, "repository"));
	const char *fault = json_string_value(json_object_get(body, "fault"));
	json_t *count = json_object_get(body, "count"), *probability = json_object_get(body, "probability");
	json_t *delay = json_object_get(body, "delay_ms");
	struct fault_rule r;
	bool known = false;

	memset(&r, 0, sizeof(r));
	if ((json_object_get(body, "operation") != NULL && operation == NULL) ||
	    (json_object_get(body, "repository") != NULL && repository == NULL))
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "operation and repository must be strings");
	if ((operation != NULL && strlen(operation) >= sizeof(r.operation)) ||
	    (repository != NULL && strlen(repository) >= sizeof(r.repository)))
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "operation or repository is too long");
	for (size_t i = 0; fault != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		known |= strcmp(fault, kinds[i]) == 0;
	if (!known)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
				"fault must be one of throttle, server_error, unavailable, slow, scan_failed");
	/* A scan failure is not tied to a request, so it matches repositories
	 * only. */
	if (strcmp(fault, "scan_failed") == 0 && operation != NULL && strcmp(operation, "*") != 0)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
				"a scan_failed rule applies to scans of its repositories; leave operation out or set it to \"*\"");
	if ((count != NULL && (!json_is_integer(count) || json_integer_value(count) < 1)) ||
	    (probability != NULL && (!json_is_number(probability) || json_number_value(probability) <= 0 ||
				     json_number_value(probability) > 1)) ||
	    (delay != NULL && (!json_is_integer(delay) || json_integer_value(delay) < 0 ||
			       json_integer_value(delay) > 600000)))
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
				"count must be a whole number of at least 1, probability a number in (0, 1], delay_ms 0 to "
				"600000");
	uuid_generate_v4(r.id);
	snprintf(r.operation, sizeof(r.operation), "%s", operation ? operation : "*");
	snprintf(r.repository, sizeof(r.repository), "%s", repository ? repository : "*");
	snprintf(r.fault, sizeof(r.fault), "%s", fault);
	r.remaining = count ? (long)json_integer_value(count) : (probability ? -1 : 1);
	r.probability = probability ? json_number_value(probability) : 0;
	r.delay_ms = delay ? (long)json_integer_value(delay) : 1000;
	pthread_mutex_lock(&faults.lock);
	if (faults.n == FAULT_RULES_MAX) {
		pthread_mutex_unlock(&faults.lock);
		return lcr_fail(LCR_ERR_LIMIT_EXCEEDED, err, errlen, "at most %d fault rules", FAULT_RULES_MAX);
	}
	faults.rules[faults.n++] = r;
	atomic_store_explicit(&faults.armed, true, memory_order_relaxed);
	pthread_mutex_unlock(&faults.lock);
	*out_rule = rule_json(&r);
	return LCR_OK;
}

void faults_clear(void)
{
	pthread_mutex_lock(&faults.lock);
	faults.n = 0;
	atomic_store_explicit(&faults.armed, false, memory_order_relaxed);
	pthread_mutex_unlock(&faults.lock);
}

/* POST /_localecr/faults {"operation","repository","fault","count"|"probability","delay_ms"} */
int admin_faults_add(struct request *req)
{
	json_error_t jerr;
	json_t *body = json_loadb(req->body.data ? req->body.data : "", req->body.len, 0, &jerr), *rule = NULL;
	int status = json_is_object(body) ? faults_add_json(body, req->err, sizeof(req->err), &rule)
					  : lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
						     "the body must be a JSON object describing one fault rule");

	json_decref(body);
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_CREATED, rule);
	return status;
}

int admin_faults_list(struct request *req)
{
	json_t *list = json_array();

	pthread_mutex_lock(&faults.lock);
	for (size_t i = 0; i < faults.n; i++)
		json_array_append_new(list, rule_json(&faults.rules[i]));
	pthread_mutex_unlock(&faults.lock);
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:o}", "faults", list));
	return LCR_OK;
}

int admin_faults_clear(struct request *req)
{
	faults_clear();
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:[]}", "faults"));
	return LCR_OK;
}
