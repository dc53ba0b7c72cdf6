/*
 * authorize.c - IAM-mode authorization of every action on both APIs.
 *
 * The policies that apply are the principal's identity policies and, for an
 * action on a repository, that repository's policy.  The condition keys are
 * those ECR populates: the principal's (aws:PrincipalArn, PrincipalAccount,
 * PrincipalType, PrincipalTag/<key>, userid, username), the request's
 * (aws:SourceIp from the client address, CurrentTime, EpochTime,
 * SecureTransport, RequestTag/<key> and TagKeys where the call carries tags) and
 * the repository's (aws:ResourceTag/<key> and ecr:ResourceTag/<key>).  A denial
 * becomes AccessDeniedException (JSON) or 403 DENIED (/v2/) with AWS's
 * message.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"

#define KEYS_MAX 256

struct key_list {
	struct policy_key keys[KEYS_MAX];
	const char *single[KEYS_MAX]; /* one-value keys point here */
	char *owned[KEYS_MAX * 2];    /* strings to free */
	size_t nkeys;
	size_t nowned;
};

static const char *keep(struct key_list *list, char *s)
{
	if (s != NULL && list->nowned < sizeof(list->owned) / sizeof(list->owned[0]))
		list->owned[list->nowned++] = s;
	return s;
}

static void add_key(struct key_list *list, const char *name, const char *value)
{
	if (list->nkeys == KEYS_MAX || value == NULL || name == NULL)
		return;
	list->single[list->nkeys] = value;
	list->keys[list->nkeys].name = name;
	list->keys[list->nkeys].values = &list->single[list->nkeys];
	list->keys[list->nkeys].nvalues = 1;
	list->nkeys++;
}

static void add_keyf(struct key_list *list, const char *prefix, const char *suffix, const char *value)
{
	char *name = NULL;

	if (asprintf(&name, "%s%s", prefix, suffix) < 0)
		return;
	add_key(list, keep(list, name), keep(list, strdup(value)));
}

static void key_list_release(struct key_list *list)
{
	for (size_t i = 0; i < list->nowned; i++)
		free(list->owned[i]);
	for (size_t i = 0; i < list->nkeys; i++)
		if (list->keys[i].values != &list->single[i])
			free((void *)list->keys[i].values);
}

static const char *principal_type_name(enum principal_type type)
{
	switch (type) {
	case PRINCIPAL_ROOT:
		return "Account";
	case PRINCIPAL_USER:
		return "User";
	default:
		return "AssumedRole";
	}
}

static void add_principal_keys(struct key_list *list, const struct principal *p, const char *client)
{
	char now[40], epoch[32];

	add_key(list, "aws:PrincipalArn", p->type == PRINCIPAL_ASSUMED_ROLE ? p->role_arn : p->arn);
	add_key(list, "aws:PrincipalAccount", p->account);
	add_key(list, "aws:PrincipalType", principal_type_name(p->type));
	add_key(list, "aws:userid", p->user_id);
	if (p->type == PRINCIPAL_USER)
		add_key(list, "aws:username", p->name);
	for (size_t i = 0; i < p->ntags; i++)
		add_keyf(list, "aws:PrincipalTag/", p->tag_keys[i], p->tag_values[i]);
	add_key(list, "aws:SourceIp", client);
	add_key(list, "aws:SecureTransport", "false");
	clock_format_rfc3339(clock_now(), now, sizeof(now));
	snprintf(epoch, sizeof(epoch), "%lld", (long long)clock_now());
	add_key(list, "aws:CurrentTime", keep(list, strdup(now)));
	add_key(list, "aws:EpochTime", keep(list, strdup(epoch)));
}

static void add_resource_tag_keys(struct request *req, struct key_list *list, const struct repository *repo)
{
	char **keys = NULL, **values = NULL;
	size_t n = 0;

	if (repo == NULL || registry_repository_tags_list(req->srv->registry, repo->id, &keys, &values, &n) != LCR_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		add_keyf(list, "aws:ResourceTag/", keys[i], values[i]);
		add_keyf(list, "ecr:ResourceTag/", keys[i], values[i]);
	}
	registry_string_arrays_free(keys, values, n);
}

/* aws:RequestTag/<key> and aws:TagKeys from a "tags" list, or aws:TagKeys from
 * UntagResource's "tagKeys". */
static void add_request_tag_keys(struct request *req, struct key_list *list)
{
	json_t *tags = req->input ? json_object_get(req->input, "tags") : NULL;
	json_t *tag_keys = req->input ? json_object_get(req->input, "tagKeys") : NULL;
	size_t n = json_array_size(tags) + json_array_size(tag_keys), k = 0, i;
	const char **values;
	json_t *item;

	if (n == 0 || list->nkeys == KEYS_MAX)
		return;
	values = calloc(n, sizeof(*values));
	if (values == NULL)
		return;
	json_array_foreach(tags, i, item) {
		const char *key = json_string_value(json_object_get(item, "Key"));
		const char *value = json_string_value(json_object_get(item, "Value"));

		if (key != NULL && value != NULL) {
			add_keyf(list, "aws:RequestTag/", key, value);
			values[k++] = key;
		}
	}
	json_array_foreach(tag_keys, i, item)
		if (json_string_value(item) != NULL)
			values[k++] = json_string_value(item);
	if (list->nkeys == KEYS_MAX) {
		free(values);
		return;
	}
	list->keys[list->nkeys].name = "aws:TagKeys";
	list->keys[list->nkeys].values = values;
	list->keys[list->nkeys].nvalues = k;
	list->nkeys++;
}

static void repository_arn(const struct repository *repo, char *out, size_t outlen)
{
	snprintf(out, outlen, "arn:aws:ecr:%s:%s:repository/%s", repo->region, repo->registry_id, repo->name);
}

/* Parse the repository's policy, if it has one; NULL otherwise. */
static struct policy *load_repository_policy(struct request *req, const struct repository *repo)
{
	char *text = NULL, err[512];
	struct policy *p = NULL;

	if (repo == NULL || repo->id == 0 ||
	    registry_repository_policy_get(req->srv->registry, repo, &text, err, sizeof(err)) != LCR_OK)
		return NULL;
	if (policy_parse(text, strlen(text), POLICY_KIND_RESOURCE, "repository policy", &p, err, sizeof(err)) != LCR_OK)
		log_error("stored policy of repository %s no longer parses: %s", repo->name, err);
	free(text);
	return p;
}

int request_decide(struct request *req, const char *action, const struct repository *repo, const char *resource_arn,
		   const struct policy *resource_policy, bool with_identity, struct policy_decision *out,
		   char *message, size_t messagelen)
{
	struct key_list keys;
	struct policy_request preq;
	struct policy_set set;
	char arn[1024];
	int rc;

	memset(&keys, 0, sizeof(keys));
	if (repo != NULL)
		repository_arn(repo, arn, sizeof(arn));
	else
		snprintf(arn, sizeof(arn), "%s", resource_arn != NULL ? resource_arn : "*");
	add_principal_keys(&keys, &req->principal, req->client);
	add_resource_tag_keys(req, &keys, repo);
	add_request_tag_keys(req, &keys);
	memset(&preq, 0, sizeof(preq));
	preq.action = action;
	preq.resource = arn;
	preq.resource_account = repo != NULL ? repo->registry_id : NULL;
	preq.principal_arn = req->principal.arn;
	preq.principal_account = req->principal.account;
	preq.principal_role_arn = req->principal.type == PRINCIPAL_ASSUMED_ROLE ? req->principal.role_arn : NULL;
	preq.principal_is_root = req->principal.type == PRINCIPAL_ROOT;
	preq.keys = keys.keys;
	preq.nkeys = keys.nkeys;
	set.identity = with_identity ? req->principal.policies : NULL;
	set.nidentity = with_identity ? req->principal.npolicies : 0;
	set.resource = resource_policy;
	rc = policy_evaluate(&set, &preq, out);
	if (rc == 0 && message != NULL && out->result != POLICY_ALLOW)
		policy_denial_message(out, &preq, message, messagelen);
	key_list_release(&keys);
	return rc == 0 ? LCR_OK : LCR_ERR_INTERNAL;
}

int request_authorize_action(struct request *req, const char *action, const struct repository *repo,
			     const char *resource_arn)
{
	struct policy_decision decision;
	struct policy *resource_policy;
	char message[2048];
	int status;

	req->authorized = true;
	if (!req->srv->config.iam_mode || action == NULL)
		return LCR_OK;
	resource_policy = load_repository_policy(req, repo);
	status = request_decide(req, action, repo, resource_arn, resource_policy, true, &decision, message,
				sizeof(message));
	if (status != LCR_OK) {
		status = lcr_fail(LCR_ERR_INTERNAL, req->err, sizeof(req->err), "policy evaluation failed");
	} else {
		if (decision.result != POLICY_ALLOW) {
			log_info("request %s denied: %s", req->id, message);
			status = lcr_fail(LCR_ERR_DENIED, req->err, sizeof(req->err), "%s", message);
		}
		policy_decision_release(&decision);
	}
	policy_free(resource_policy);
	return status;
}

int request_authorize(struct request *req, const struct repository *repo, const char *resource_arn)
{
	return request_authorize_action(req, req->route != NULL ? req->route->action : NULL, repo, resource_arn);
}

int request_authorize_missing(struct request *req, const char *registry_id, const char *region, const char *name)
{
	char message[sizeof(req->err)];
	struct repository named;
	int status;

	/* The caller's not-found message is kept for when IAM allows. */
	snprintf(message, sizeof(message), "%s", req->err);
	memset(&named, 0, sizeof(named));
	snprintf(named.registry_id, sizeof(named.registry_id), "%s", registry_id);
	snprintf(named.region, sizeof(named.region), "%s", region);
	snprintf(named.name, sizeof(named.name), "%s", name);
	status = request_authorize(req, &named, NULL);
	if (status == LCR_OK)
		snprintf(req->err, sizeof(req->err), "%s", message);
	return status;
}
