/*
 * ecr_policy.c - SetRepositoryPolicy, GetRepositoryPolicy,
 * DeleteRepositoryPolicy, PutRegistryPolicy, GetRegistryPolicy and
 * DeleteRegistryPolicy.
 *
 * Validation follows ECR.  Any parse failure, and a Resource element (ECR
 * rejected those as of 2019), is "Invalid repository policy provided".  In
 * IAM mode a principal that the identities file does not define is
 * "Principal not found".  The parser's detail goes to the log, since ECR's
 * message does not carry it.
 */
#include "ecr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/status.h"

/* ECR's limit on policyText, in characters. */
#define POLICY_TEXT_LIMIT 10240

struct principal_check {
	const struct identity_store *store;
	const char *missing;
};

static bool principal_known(void *ctx, const char *principal)
{
	struct principal_check *check = ctx;

	if (identity_principal_exists(check->store, principal))
		return true;
	check->missing = principal;
	return false;
}

/* Parse and check a resource policy the way ECR does; kind_label is
 * "repository" or "registry". */
static int validate_policy(struct request *req, const char *text, const char *kind_label, struct policy **out)
{
	/* Repository policies apply to their repository and may not name a
	 * Resource, as ECR behaved in 2019.  Registry policies name the
	 * repositories they cover, as in AWS's replication examples. */
	bool resource_allowed = strcmp(kind_label, "registry") == 0;
	char detail[512];
	struct principal_check check = {req->srv->identities, NULL};

	*out = NULL;
	if (policy_parse(text, strlen(text), POLICY_KIND_RESOURCE, kind_label, out, detail, sizeof(detail)) != LCR_OK ||
	    (!resource_allowed && policy_has_resource_element(*out))) {
		log_info("request %s: %s policy rejected: %s", req->id, kind_label,
			 *out != NULL ? "it has a Resource element" : detail);
		policy_free(*out);
		*out = NULL;
		return ecr_invalid(req, "PolicyText", "Invalid %s policy provided", kind_label);
	}
	if (req->srv->config.iam_mode) {
		policy_each_principal(*out, principal_known, &check);
		if (check.missing != NULL) {
			log_info("request %s: %s policy names unknown principal %s", req->id, kind_label, check.missing);
			policy_free(*out);
			*out = NULL;
			return ecr_invalid(req, "PolicyText", "Principal not found");
		}
	}
	return LCR_OK;
}

/* The lock-out guard: without force, refuse a policy that explicitly denies
 * the caller ecr:SetRepositoryPolicy on this repository. */
static int check_lockout(struct request *req, struct policy *candidate)
{
	struct policy_decision decision;
	bool locked;

	if (request_decide(req, "ecr:SetRepositoryPolicy", &req->repo, NULL, candidate, false, &decision, NULL, 0) !=
	    LCR_OK)
		return LCR_ERR_INTERNAL;
	locked = decision.result == POLICY_EXPLICIT_DENY;
	policy_decision_release(&decision);
	if (locked)
		return ecr_invalid(req, "PolicyText",
				   "The policy would prevent you from setting a repository policy in the future; set "
				   "force to true to apply it anyway");
	return LCR_OK;
}

static void respond_repository_policy(struct request *req, const char *text)
{
	request_respond_json(req, MHD_HTTP_OK,
			     json_pack("{s:s, s:s, s:s}", "registryId", req->repo.registry_id, "repositoryName",
				       req->repo.name, "policyText", text));
}

int ecr_set_repository_policy(struct request *req)
{
	const char *text;
	bool force = false;
	struct policy *candidate = NULL;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "policyText", true, 0, POLICY_TEXT_LIMIT, &text);
	if (status == LCR_OK)
		status = ecr_input_bool(req, req->input, "force", &force);
	if (status == LCR_OK)
		status = validate_policy(req, text, "repository", &candidate);
	if (status == LCR_OK && !force)
		status = check_lockout(req, candidate);
	policy_free(candidate);
	if (status == LCR_OK)
		status = registry_repository_policy_set(req->srv->registry, &req->repo, text, req->err, sizeof(req->err));
	if (status == LCR_OK)
		respond_repository_policy(req, text);
	return status;
}

int ecr_get_repository_policy(struct request *req)
{
	char *text = NULL;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = registry_repository_policy_get(req->srv->registry, &req->repo, &text, req->err, sizeof(req->err));
	if (status == LCR_OK)
		respond_repository_policy(req, text);
	free(text);
	return status;
}

int ecr_delete_repository_policy(struct request *req)
{
	char *text = NULL;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = registry_repository_policy_delete(req->srv->registry, &req->repo, &text, req->err,
							   sizeof(req->err));
	if (status == LCR_OK)
		respond_repository_policy(req, text);
	free(text);
	return status;
}

static void respond_registry_policy(struct request *req, const char *text)
{
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:s, s:s}", "registryId", req->account, "policyText", text));
}

int ecr_put_registry_policy(struct request *req)
{
	const char *text;
	struct policy *candidate = NULL;
	int status = ecr_input_string(req, req->input, "policyText", true, 0, POLICY_TEXT_LIMIT, &text);

	if (status == LCR_OK)
		status = validate_policy(req, text, "registry", &candidate);
	policy_free(candidate);
	if (status == LCR_OK)
		status = registry_policy_set(req->srv->registry, req->account, req->region, text, req->err, sizeof(req->err));
	if (status == LCR_OK)
		respond_registry_policy(req, text);
	return status;
}

int ecr_get_registry_policy(struct request *req)
{
	char *text = NULL;
	int status = registry_policy_get(req->srv->registry, req->account, req->region, &text, req->err, sizeof(req->err));

	if (status == LCR_OK)
		respond_registry_policy(req, text);
	free(text);
	return status;
}

int ecr_delete_registry_policy(struct request *req)
{
	char *text = NULL;
	int status = registry_policy_delete(req->srv->registry, req->account, req->region, &text, req->err,
					    sizeof(req->err));

	if (status == LCR_OK)
		respond_registry_policy(req, text);
	free(text);
	return status;
}
