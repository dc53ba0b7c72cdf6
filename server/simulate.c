/*
 * simulate.c - the policy simulator: `localecr policy simulate`, `localecr
 * policy validate` and the admin endpoint POST /_localecr/policy/simulate.
 *
 * Like IAM's simulate-custom-policy, it evaluates one action on one
 * resource for one principal and reports the decision with IAM's names
 * (allowed, explicitDeny, implicitDeny), every statement that matched and
 * why, and the message AWS would return on a denial.  Against a running
 * server it uses that server's identities and repository policies; offline
 * it takes the policies as files.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/clock.h"
#include "../common/status.h"

/* Inputs of one simulation. */
struct simulation {
	const char *principal_arn;
	const char *action;
	const char *resource;
	struct policy *identity[64];
	size_t nidentity;
	struct policy *resource_policy;
	struct policy_key keys[64];
	const char *values[64];
	size_t nkeys;
};

/* Account of an ARN (the fifth field), or "" when it has none. */
static void arn_account(const char *arn, char out[13])
{
	const char *p = arn;

	out[0] = '\0';
	for (int field = 0; field < 4 && p != NULL; field++) {
		p = strchr(p, ':');
		if (p != NULL)
			p++;
	}
	if (p != NULL && strlen(p) >= 12 && strspn(p, "0123456789") >= 12)
		snprintf(out, 13, "%.12s", p);
}

/* Evaluate sim and describe the outcome as JSON. */
static json_t *simulate_run(struct simulation *sim)
{
	struct policy_request preq;
	struct policy_set set;
	struct policy_decision decision;
	char principal_account[13], resource_account[13], role_arn[600] = "", message[2048];
	json_t *matches, *result;

	arn_account(sim->principal_arn, principal_account);
	arn_account(sim->resource, resource_account);
	memset(&preq, 0, sizeof(preq));
	preq.action = sim->action;
	preq.resource = sim->resource;
	preq.resource_account = resource_account[0] ? resource_account : NULL;
	preq.principal_arn = sim->principal_arn;
	preq.principal_account = principal_account;
	preq.principal_is_root = strstr(sim->principal_arn, ":root") != NULL;
	if (strncmp(sim->principal_arn, "arn:aws:sts::", 13) == 0 && strstr(sim->principal_arn, ":assumed-role/")) {
		const char *role = strstr(sim->principal_arn, ":assumed-role/") + 14;
		const char *slash = strchr(role, '/');

		snprintf(role_arn, sizeof(role_arn), "arn:aws:iam::%s:role/%.*s", principal_account,
			 slash ? (int)(slash - role) : (int)strlen(role), role);
		preq.principal_role_arn = role_arn;
	}
	preq.keys = sim->keys;
	preq.nkeys = sim->nkeys;
	set.identity = sim->identity;
	set.nidentity = sim->nidentity;
	set.resource = sim->resource_policy;
	if (policy_evaluate(&set, &preq, &decision) != 0)
		return NULL;
	matches = json_array();
	for (size_t i = 0; i < decision.nmatches; i++) {
		const struct policy_match *m = &decision.matches[i];

		json_array_append_new(matches, json_pack("{s:s, s:i, s:s, s:s, s:s}", "SourcePolicyId", m->policy,
							 "StatementIndex", m->statement, "Sid", m->sid, "Effect",
							 m->allow ? "Allow" : "Deny", "Why", m->why));
	}
	result = json_pack("{s:s, s:s, s:s, s:s, s:o}", "EvalActionName", sim->action, "EvalResourceName", sim->resource,
			   "PrincipalArn", sim->principal_arn, "EvalDecision", policy_result_name(decision.result),
			   "MatchedStatements", matches);
	if (decision.result != POLICY_ALLOW) {
		policy_denial_message(&decision, &preq, message, sizeof(message));
		json_object_set_new(result, "Message", json_string(message));
	}
	policy_decision_release(&decision);
	return result;
}

/* Add "key=value" context entries. */
static int add_context(struct simulation *sim, const char *name, const char *value)
{
	if (sim->nkeys == sizeof(sim->keys) / sizeof(sim->keys[0]))
		return -1;
	sim->values[sim->nkeys] = value;
	sim->keys[sim->nkeys].name = name;
	sim->keys[sim->nkeys].values = &sim->values[sim->nkeys];
	sim->keys[sim->nkeys].nvalues = 1;
	sim->nkeys++;
	return 0;
}

static void simulation_release(struct simulation *sim, bool owns_identity)
{
	if (owns_identity)
		for (size_t i = 0; i < sim->nidentity; i++)
			policy_free(sim->identity[i]);
	policy_free(sim->resource_policy);
}

/* True when the context already sets name (given keys win over derived ones). */
static bool has_key(const struct simulation *sim, const char *name)
{
	for (size_t i = 0; i < sim->nkeys; i++)
		if (strcasecmp(sim->keys[i].name, name) == 0)
			return true;
	return false;
}

/* Add a derived key; strings are kept alive in the JSON array owner. */
static void add_derived(struct simulation *sim, json_t *owner, const char *name, const char *value)
{
	json_t *n = json_string(name), *v = json_string(value);

	json_array_append_new(owner, n);
	json_array_append_new(owner, v);
	if (!has_key(sim, name))
		add_context(sim, json_string_value(n), json_string_value(v));
}

/* Fill in what the server would: the principal's keys and tags and the
 * repository's tags, unless the context already gives them. */
static void add_known_keys(struct request *req, struct simulation *sim, const struct principal *principal,
			   json_t **owner)
{
	char region[REGION_BUF], account[REGISTRY_ID_BUF], name[REPOSITORY_NAME_MAX + 1], key[300];
	struct repository repo;
	char err[256], **keys = NULL, **values = NULL;
	size_t n = 0;
	int consumed = 0;

	if (principal->arn[0]) {
		add_derived(sim, *owner, "aws:PrincipalArn", principal->type == PRINCIPAL_ASSUMED_ROLE ? principal->role_arn
												    : principal->arn);
		add_derived(sim, *owner, "aws:PrincipalAccount", principal->account);
		if (principal->type == PRINCIPAL_USER)
			add_derived(sim, *owner, "aws:username", principal->name);
		add_derived(sim, *owner, "aws:userid", principal->user_id);
		for (size_t i = 0; i < principal->ntags; i++) {
			snprintf(key, sizeof(key), "aws:PrincipalTag/%s", principal->tag_keys[i]);
			add_derived(sim, *owner, key, principal->tag_values[i]);
		}
	}
	if (sscanf(sim->resource, "arn:aws:ecr:%31[a-z0-9-]:%12[0-9]:repository/%256[a-z0-9._/-]%n", region, account,
		   name, &consumed) != 3 || sim->resource[consumed] != '\0')
		return;
	if (registry_repository_get(req->srv->registry, account, region, name, &repo, err, sizeof(err)) != LCR_OK ||
	    registry_repository_tags_list(req->srv->registry, repo.id, &keys, &values, &n) != LCR_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "aws:ResourceTag/%s", keys[i]);
		add_derived(sim, *owner, key, values[i]);
		snprintf(key, sizeof(key), "ecr:ResourceTag/%s", keys[i]);
		add_derived(sim, *owner, key, values[i]);
	}
	registry_string_arrays_free(keys, values, n);
}

/* POST /_localecr/policy/simulate {"principal","action","resource","context":{k:v}} */
int admin_policy_simulate(struct request *req)
{
	json_error_t jerr;
	json_t *input = json_loadb(req->body.data ? req->body.data : "", req->body.len, 0, &jerr), *context, *value;
	struct simulation sim;
	struct principal principal;
	const char *key;
	json_t *result, *tag_strings = json_array();
	char region[REGION_BUF], account[REGISTRY_ID_BUF], name[REPOSITORY_NAME_MAX + 1];
	int consumed = 0;

	memset(&sim, 0, sizeof(sim));
	memset(&principal, 0, sizeof(principal));
	sim.principal_arn = json_string_value(json_object_get(input, "principal"));
	sim.action = json_string_value(json_object_get(input, "action"));
	sim.resource = json_string_value(json_object_get(input, "resource"));
	if (sim.principal_arn == NULL || sim.action == NULL || sim.resource == NULL) {
		json_decref(input);
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
				"the body must be a JSON object with principal, action and resource strings");
	}
	if (req->srv->identities != NULL &&
	    identity_find_principal(req->srv->identities, sim.principal_arn, &principal)) {
		for (size_t i = 0; i < principal.npolicies; i++)
			sim.identity[sim.nidentity++] = principal.policies[i];
	}
	if (sscanf(sim.resource, "arn:aws:ecr:%31[a-z0-9-]:%12[0-9]:repository/%256[a-z0-9._/-]%n", region, account, name,
		   &consumed) == 3 && sim.resource[consumed] == '\0') {
		struct repository repo;
		char err[256], *text = NULL;

		if (registry_repository_get(req->srv->registry, account, region, name, &repo, err, sizeof(err)) == LCR_OK &&
		    registry_repository_policy_get(req->srv->registry, &repo, &text, err, sizeof(err)) == LCR_OK)
			policy_parse(text, strlen(text), POLICY_KIND_RESOURCE, "repository policy", &sim.resource_policy, err,
				     sizeof(err));
		free(text);
	}
	context = json_object_get(input, "context");
	json_object_foreach(context, key, value)
		if (json_is_string(value))
			add_context(&sim, key, json_string_value(value));
	add_known_keys(req, &sim, &principal, &tag_strings);
	result = simulate_run(&sim);
	simulation_release(&sim, false);
	principal_release(&principal);
	json_decref(tag_strings);
	json_decref(input);
	if (result == NULL)
		return LCR_ERR_INTERNAL;
	request_respond_json(req, MHD_HTTP_OK, result);
	return LCR_OK;
}

static char *read_file(const char *path, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > POLICY_TEXT_MAX ||
	    fseek(f, 0, SEEK_SET) != 0) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	data = malloc((size_t)len + 1);
	if (data != NULL && fread(data, 1, (size_t)len, f) != (size_t)len) {
		free(data);
		data = NULL;
	}
	fclose(f);
	if (data != NULL) {
		data[len] = '\0';
		*out_len = (size_t)len;
	}
	return data;
}

static int load_policy_file(const char *path, enum policy_kind kind, struct policy **out)
{
	size_t len = 0;
	char *text = read_file(path, &len), err[1024];
	int status;

	if (text == NULL) {
		fprintf(stderr, "localecr: cannot read policy file %s (missing, unreadable or over %d bytes)\n", path,
			POLICY_TEXT_MAX);
		return -1;
	}
	status = policy_parse(text, len, kind, path, out, err, sizeof(err));
	free(text);
	if (status != LCR_OK) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	return 0;
}

static void print_text(json_t *result)
{
	json_t *matches = json_object_get(result, "MatchedStatements"), *m;
	size_t i;

	printf("decision: %s\n", json_string_value(json_object_get(result, "EvalDecision")));
	json_array_foreach(matches, i, m) {
		const char *sid = json_string_value(json_object_get(m, "Sid"));

		printf("matched: %s statement %lld%s%s%s (%s): %s\n", json_string_value(json_object_get(m, "SourcePolicyId")),
		       (long long)json_integer_value(json_object_get(m, "StatementIndex")), sid[0] ? " \"" : "", sid,
		       sid[0] ? "\"" : "", json_string_value(json_object_get(m, "Effect")),
		       json_string_value(json_object_get(m, "Why")));
	}
	if (json_array_size(matches) == 0)
		printf("matched: no statement\n");
	if (json_object_get(result, "Message") != NULL)
		printf("message: %s\n", json_string_value(json_object_get(result, "Message")));
}

static void simulate_usage(void)
{
	fprintf(stderr,
		"usage: localecr policy simulate --principal ARN --action ACTION --resource ARN\n"
		"           [--context KEY=VALUE]... [--output text|json]\n"
		"           (--identity-policy FILE... [--resource-policy FILE] | --identities FILE)\n"
		"       localecr policy validate [--kind identity|resource|trust] FILE\n");
}

static int simulate_command(int argc, char **argv)
{
	struct simulation sim;
	struct identity_store *store = NULL;
	struct principal principal;
	bool json_output = false, owns = true;
	char err[1024];
	json_t *result;
	int rc = 2;

	memset(&sim, 0, sizeof(sim));
	memset(&principal, 0, sizeof(principal));
	for (int i = 0; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (value == NULL) {
			simulate_usage();
			goto out;
		}
		if (strcmp(argv[i], "--principal") == 0) {
			sim.principal_arn = value;
		} else if (strcmp(argv[i], "--action") == 0) {
			sim.action = value;
		} else if (strcmp(argv[i], "--resource") == 0) {
			sim.resource = value;
		} else if (strcmp(argv[i], "--output") == 0) {
			if (strcmp(value, "json") != 0 && strcmp(value, "text") != 0) {
				fprintf(stderr, "localecr: invalid --output '%s': expected text or json\n", value);
				simulate_usage();
				goto out;
			}
			json_output = strcmp(value, "json") == 0;
		} else if (strcmp(argv[i], "--identities") == 0) {
			if (identity_store_load(value, &store, err, sizeof(err)) != LCR_OK) {
				fprintf(stderr, "localecr: %s\n", err);
				goto out;
			}
		} else if (strcmp(argv[i], "--identity-policy") == 0) {
			if (sim.nidentity == sizeof(sim.identity) / sizeof(sim.identity[0]) ||
			    load_policy_file(value, POLICY_KIND_IDENTITY, &sim.identity[sim.nidentity]) < 0)
				goto out;
			sim.nidentity++;
		} else if (strcmp(argv[i], "--resource-policy") == 0) {
			if (load_policy_file(value, POLICY_KIND_RESOURCE, &sim.resource_policy) < 0)
				goto out;
		} else if (strcmp(argv[i], "--context") == 0 && strchr(value, '=') != NULL) {
			char *copy = strdup(value), *eq = strchr(copy, '=');

			*eq = '\0';
			/* The strings live until the process exits. */
			add_context(&sim, copy, eq + 1);
		} else {
			simulate_usage();
			goto out;
		}
		i++;
	}
	if (sim.principal_arn == NULL || sim.action == NULL || sim.resource == NULL) {
		simulate_usage();
		goto out;
	}
	if (store != NULL && identity_find_principal(store, sim.principal_arn, &principal)) {
		for (size_t i = 0; i < sim.nidentity; i++)
			policy_free(sim.identity[i]);
		sim.nidentity = 0;
		owns = false;
		for (size_t i = 0; i < principal.npolicies; i++)
			sim.identity[sim.nidentity++] = principal.policies[i];
	}
	result = simulate_run(&sim);
	if (result == NULL)
		goto out;
	if (json_output) {
		char *text = json_dumps(result, JSON_INDENT(2));

		printf("%s\n", text);
		free(text);
	} else {
		print_text(result);
	}
	rc = strcmp(json_string_value(json_object_get(result, "EvalDecision")), "allowed") == 0 ? 0 : 1;
	json_decref(result);
out:
	simulation_release(&sim, owns);
	principal_release(&principal);
	identity_store_free(store);
	return rc;
}

static int validate_command(int argc, char **argv)
{
	enum policy_kind kind = POLICY_KIND_IDENTITY;
	const char *path = NULL;
	struct policy *p = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
			const char *k = argv[++i];

			if (strcmp(k, "resource") == 0)
				kind = POLICY_KIND_RESOURCE;
			else if (strcmp(k, "trust") == 0)
				kind = POLICY_KIND_TRUST;
			else if (strcmp(k, "identity") != 0) {
				simulate_usage();
				return 2;
			}
		} else if (path == NULL) {
			path = argv[i];
		} else {
			simulate_usage();
			return 2;
		}
	}
	if (path == NULL) {
		simulate_usage();
		return 2;
	}
	if (load_policy_file(path, kind, &p) < 0)
		return 1;
	printf("%s: valid\n", path);
	policy_free(p);
	return 0;
}

int policy_command(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "simulate") == 0)
		return simulate_command(argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "validate") == 0)
		return validate_command(argc - 1, argv + 1);
	simulate_usage();
	return 2;
}
