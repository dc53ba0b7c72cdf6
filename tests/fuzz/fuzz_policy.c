/*
 * fuzz_policy.c - libFuzzer target for policy_parse.
 *
 * Each input is parsed as an identity, a resource and a trust policy.  A
 * document that parses is also evaluated against a few fixed requests, so
 * the matching, condition and variable code runs on whatever the parser
 * accepts.  Build and run it with tests/fuzz/run-policy-fuzz.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/status.h"
#include "../../policy/policy.h"

static const char *const tag_keys[] = {"env", "team"};
static const char *const username[] = {"alice"};
static const char *const source_ip[] = {"203.0.113.7"};
static const char *const current_time[] = {"2024-05-01T12:00:00Z"};
static const char *const secure[] = {"true"};
static const char *const team[] = {"a*"};

static const struct policy_key keys[] = {
	{"aws:TagKeys", tag_keys, 2},
	{"aws:username", username, 1},
	{"aws:SourceIp", source_ip, 1},
	{"aws:CurrentTime", current_time, 1},
	{"aws:SecureTransport", secure, 1},
	{"aws:PrincipalTag/team", team, 1},
	{"aws:RequestTag/empty", NULL, 0},
};

static const struct policy_request requests[] = {
	{"ecr:PutImage", "arn:aws:ecr:us-east-1:111122223333:repository/app", "111122223333",
	 "arn:aws:iam::111122223333:user/alice", "111122223333", NULL, false, keys, sizeof(keys) / sizeof(keys[0])},
	{"ecr:BatchGetImage", "arn:aws:ecr:us-east-1:111122223333:repository/app", "111122223333",
	 "arn:aws:sts::444455556666:assumed-role/deploy/run", "444455556666", "arn:aws:iam::444455556666:role/deploy",
	 false, keys, 3},
	{"ecr:GetAuthorizationToken", "*", NULL, "arn:aws:iam::111122223333:root", "111122223333", NULL, true, NULL, 0},
};

static bool count_principal(void *ctx, const char *principal)
{
	size_t *count = ctx;

	*count += strlen(principal) > 0;
	return true;
}

static void exercise(struct policy *p)
{
	struct policy *const identity[] = {p};
	size_t count = 0;
	char message[1024];

	policy_each_principal(p, count_principal, &count);
	(void)policy_has_resource_element(p);
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		struct policy_set as_identity = {identity, 1, NULL};
		struct policy_set as_resource = {NULL, 0, p};
		struct policy_decision d;

		if (policy_evaluate(&as_identity, &requests[i], &d) == LCR_OK) {
			policy_denial_message(&d, &requests[i], message, sizeof(message));
			policy_decision_release(&d);
		}
		if (policy_evaluate(&as_resource, &requests[i], &d) == LCR_OK) {
			policy_denial_message(&d, &requests[i], message, sizeof(message));
			policy_decision_release(&d);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum policy_kind kinds[] = {POLICY_KIND_IDENTITY, POLICY_KIND_RESOURCE, POLICY_KIND_TRUST};
	char err[512];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct policy *p = NULL;

		if (policy_parse((const char *)data, size, kinds[i], "fuzz", &p, err, sizeof(err)) != LCR_OK) {
			if (p != NULL || err[0] == '\0')
				abort(); /* a failure must leave no policy and fill err */
			continue;
		}
		exercise(p);
		policy_free(p);
	}
	return 0;
}
