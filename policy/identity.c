/*
 * identity.c - the identities file: accounts, users, groups, roles, access
 * keys, tags and the policies attached to each.
 *
 * The parsed JSON tree is kept for the life of the store and every string
 * in the indexes below points into it.  Policies are parsed once at load,
 * so a bad document stops the start with its location instead of failing
 * requests later.
 */
#include "identity.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "../common/clock.h"
#include "../common/status.h"

#define MAX_ATTACHED 32

struct id_key {
	const char *access_key_id;
	const char *secret;
	const char *session_token;
	double expiration;
	int kind;         /* 0 root, 1 user */
	size_t account;
	size_t owner;     /* user index */
};

struct id_named_policy {
	const char *arn;
	struct policy *policy;
};

struct id_group {
	const char *name;
	struct policy *attached[MAX_ATTACHED];
	size_t nattached;
};

struct id_user {
	char arn[512];
	const char *name;
	json_t *tags;
	struct policy *attached[MAX_ATTACHED]; /* inline, managed and group policies */
	size_t nattached;
};

struct id_role {
	char arn[512];
	const char *name;
	json_t *tags;
	struct policy *trust;
	double max_session_seconds;
	struct policy *attached[MAX_ATTACHED];
	size_t nattached;
};

struct id_account {
	const char *id;
	struct id_user *users;
	size_t nusers;
	struct id_group *groups;
	size_t ngroups;
	struct id_role *roles;
	size_t nroles;
};

struct identity_store {
	json_t *root;
	struct id_account *accounts;
	size_t naccounts;
	struct id_key *keys;
	size_t nkeys;
	/* every parsed policy, owned here: inline, managed, trust, AWS managed */
	struct policy **owned;
	size_t nowned;
	size_t owned_cap;
	struct id_named_policy *managed; /* by ARN */
	size_t nmanaged;
	size_t managed_cap;
};

/* AWS managed policies that labs attach by ARN.  The documents follow the
 * ones AWS publishes for ECR (actions only; AWS's versions change over time
 * and add actions of other services, which localecr does not serve). */
static const struct {
	const char *arn;
	const char *document;
} aws_managed[] = {
	{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
	 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ecr:GetAuthorizationToken\","
	 "\"ecr:BatchCheckLayerAvailability\",\"ecr:GetDownloadUrlForLayer\",\"ecr:GetRepositoryPolicy\","
	 "\"ecr:DescribeRepositories\",\"ecr:ListImages\",\"ecr:DescribeImages\",\"ecr:BatchGetImage\","
	 "\"ecr:GetLifecyclePolicy\",\"ecr:GetLifecyclePolicyPreview\",\"ecr:ListTagsForResource\","
	 "\"ecr:DescribeImageScanFindings\"],\"Resource\":\"*\"}]}"},
	{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
	 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ecr:GetAuthorizationToken\","
	 "\"ecr:BatchCheckLayerAvailability\",\"ecr:GetDownloadUrlForLayer\",\"ecr:GetRepositoryPolicy\","
	 "\"ecr:DescribeRepositories\",\"ecr:ListImages\",\"ecr:DescribeImages\",\"ecr:BatchGetImage\","
	 "\"ecr:GetLifecyclePolicy\",\"ecr:GetLifecyclePolicyPreview\",\"ecr:ListTagsForResource\","
	 "\"ecr:DescribeImageScanFindings\",\"ecr:InitiateLayerUpload\",\"ecr:UploadLayerPart\","
	 "\"ecr:CompleteLayerUpload\",\"ecr:PutImage\"],\"Resource\":\"*\"}]}"},
	{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess",
	 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ecr:*\",\"Resource\":\"*\"}]}"},
	{"arn:aws:iam::aws:policy/AdministratorAccess",
	 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"},
};

void principal_release(struct principal *p)
{
	for (size_t i = 0; i < p->ntags; i++) {
		free(p->tag_keys[i]);
		free(p->tag_values[i]);
	}
	p->ntags = 0;
}

void identity_store_free(struct identity_store *store)
{
	if (store == NULL)
		return;
	for (size_t i = 0; i < store->nowned; i++)
		policy_free(store->owned[i]);
	free(store->owned);
	free(store->managed);
	for (size_t i = 0; i < store->naccounts; i++) {
		free(store->accounts[i].users);
		free(store->accounts[i].groups);
		free(store->accounts[i].roles);
	}
	free(store->accounts);
	free(store->keys);
	json_decref(store->root);
	free(store);
}

static int load_error(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	char message[1024];

	snprintf(message, sizeof(message), fmt, a, b);
	return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "%s", message);
}

static bool own_policy(struct identity_store *store, struct policy *p)
{
	if (store->nowned == store->owned_cap) {
		size_t cap = store->owned_cap ? store->owned_cap * 2 : 32;
		struct policy **grown = realloc(store->owned, cap * sizeof(*grown));

		if (grown == NULL)
			return false;
		store->owned = grown;
		store->owned_cap = cap;
	}
	store->owned[store->nowned++] = p;
	return true;
}

/* Parse a policy given as a JSON object (or a JSON string holding one). */
static int parse_document(struct identity_store *store, json_t *document, enum policy_kind kind, const char *name,
			  struct policy **out, char *err, size_t errlen)
{
	char *text = json_is_string(document) ? strdup(json_string_value(document))
					      : json_dumps(document, JSON_COMPACT);
	char detail[768];
	int status;

	if (text == NULL || !(json_is_object(document) || json_is_string(document))) {
		free(text);
		return load_error(err, errlen, "%s: the policy document must be a JSON object%s", name, "");
	}
	status = policy_parse(text, strlen(text), kind, name, out, detail, sizeof(detail));
	free(text);
	if (status != LCR_OK)
		return load_error(err, errlen, "%s: %s", name, detail);
	if (!own_policy(store, *out)) {
		policy_free(*out);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	}
	return LCR_OK;
}

static int add_managed(struct identity_store *store, const char *arn, struct policy *p)
{
	if (store->nmanaged == store->managed_cap) {
		size_t cap = store->managed_cap ? store->managed_cap * 2 : 16;
		struct id_named_policy *grown = realloc(store->managed, cap * sizeof(*grown));

		if (grown == NULL)
			return LCR_ERR_INTERNAL;
		store->managed = grown;
		store->managed_cap = cap;
	}
	store->managed[store->nmanaged].arn = arn;
	store->managed[store->nmanaged].policy = p;
	store->nmanaged++;
	return LCR_OK;
}

static struct policy *find_managed(const struct identity_store *store, const char *arn)
{
	for (size_t i = 0; i < store->nmanaged; i++)
		if (strcmp(store->managed[i].arn, arn) == 0)
			return store->managed[i].policy;
	return NULL;
}

static bool account_id_valid(const char *id)
{
	return id != NULL && strlen(id) == 12 && strspn(id, "0123456789") == 12;
}

/* Attach "policies" (inline) and "managed_policies" (ARNs) of obj. */
static int attach_policies(struct identity_store *store, json_t *obj, const char *owner, struct policy **attached,
			   size_t *nattached, char *err, size_t errlen)
{
	json_t *inline_policies = json_object_get(obj, "policies");
	json_t *managed = json_object_get(obj, "managed_policies");
	json_t *item;
	size_t i;
	char name[512];
	int status;

	json_array_foreach(inline_policies, i, item) {
		const char *policy_name = json_string_value(json_object_get(item, "name"));
		struct policy *p;

		snprintf(name, sizeof(name), "inline policy %s of %s", policy_name ? policy_name : "(unnamed)", owner);
		if (*nattached == MAX_ATTACHED)
			return load_error(err, errlen, "%s: more than 32 policies%s", owner, "");
		status = parse_document(store, json_object_get(item, "document"), POLICY_KIND_IDENTITY, name, &p, err,
					errlen);
		if (status != LCR_OK)
			return status;
		attached[(*nattached)++] = p;
	}
	json_array_foreach(managed, i, item) {
		const char *arn = json_string_value(item);
		struct policy *p = arn ? find_managed(store, arn) : NULL;

		if (p == NULL)
			return load_error(err, errlen, "%s: managed policy '%s' is not defined", owner, arn ? arn : "?");
		if (*nattached == MAX_ATTACHED)
			return load_error(err, errlen, "%s: more than 32 policies%s", owner, "");
		attached[(*nattached)++] = p;
	}
	return LCR_OK;
}

static int add_key(struct identity_store *store, json_t *key, int kind, size_t account, size_t owner, char *err,
		   size_t errlen)
{
	struct id_key *k;
	const char *expiration = json_string_value(json_object_get(key, "expiration"));
	struct id_key *grown = realloc(store->keys, (store->nkeys + 1) * sizeof(*grown));

	if (grown == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	store->keys = grown;
	k = &store->keys[store->nkeys];
	memset(k, 0, sizeof(*k));
	k->access_key_id = json_string_value(json_object_get(key, "access_key_id"));
	k->secret = json_string_value(json_object_get(key, "secret_access_key"));
	k->session_token = json_string_value(json_object_get(key, "session_token"));
	k->kind = kind;
	k->account = account;
	k->owner = owner;
	if (k->access_key_id == NULL || strlen(k->access_key_id) < 16 || k->secret == NULL || k->secret[0] == '\0')
		return load_error(err, errlen, "access key '%s': access_key_id (16 characters or more) and "
				  "secret_access_key are required%s", k->access_key_id ? k->access_key_id : "?", "");
	if (expiration != NULL && clock_parse_rfc3339(expiration, &k->expiration) != 0)
		return load_error(err, errlen, "access key '%s': expiration '%s' is not RFC 3339", k->access_key_id,
				  expiration);
	for (size_t i = 0; i < store->nkeys; i++)
		if (strcmp(store->keys[i].access_key_id, k->access_key_id) == 0)
			return load_error(err, errlen, "access key '%s' is defined twice%s", k->access_key_id, "");
	store->nkeys++;
	return LCR_OK;
}

static bool tags_valid(json_t *tags)
{
	const char *key;
	json_t *value;

	if (tags == NULL)
		return true;
	if (!json_is_object(tags) || json_object_size(tags) > PRINCIPAL_TAGS_MAX)
		return false;
	json_object_foreach(tags, key, value)
		if (!json_is_string(value))
			return false;
	return true;
}

static const char *path_of(json_t *obj)
{
	const char *path = json_string_value(json_object_get(obj, "path"));

	return path != NULL ? path : "/";
}

static int load_groups(struct identity_store *store, struct id_account *acct, json_t *groups, char *err, size_t errlen)
{
	json_t *g;
	size_t i;
	char owner[256];

	acct->ngroups = json_array_size(groups);
	acct->groups = calloc(acct->ngroups + 1, sizeof(*acct->groups));
	if (acct->groups == NULL)
		return LCR_ERR_INTERNAL;
	json_array_foreach(groups, i, g) {
		struct id_group *group = &acct->groups[i];
		int status;

		group->name = json_string_value(json_object_get(g, "name"));
		if (group->name == NULL)
			return load_error(err, errlen, "account %s: a group has no name%s", acct->id, "");
		snprintf(owner, sizeof(owner), "group %s", group->name);
		status = attach_policies(store, g, owner, group->attached, &group->nattached, err, errlen);
		if (status != LCR_OK)
			return status;
	}
	return LCR_OK;
}

static struct id_group *find_group(struct id_account *acct, const char *name)
{
	for (size_t i = 0; i < acct->ngroups; i++)
		if (strcmp(acct->groups[i].name, name) == 0)
			return &acct->groups[i];
	return NULL;
}

static int load_users(struct identity_store *store, size_t account_index, json_t *users, char *err, size_t errlen)
{
	struct id_account *acct = &store->accounts[account_index];
	json_t *u, *item;
	size_t i, j;
	char owner[256];

	acct->nusers = json_array_size(users);
	acct->users = calloc(acct->nusers + 1, sizeof(*acct->users));
	if (acct->users == NULL)
		return LCR_ERR_INTERNAL;
	json_array_foreach(users, i, u) {
		struct id_user *user = &acct->users[i];
		int status;

		user->name = json_string_value(json_object_get(u, "name"));
		if (user->name == NULL || user->name[0] == '\0')
			return load_error(err, errlen, "account %s: a user has no name%s", acct->id, "");
		snprintf(user->arn, sizeof(user->arn), "arn:aws:iam::%s:user%s%s", acct->id, path_of(u), user->name);
		user->tags = json_object_get(u, "tags");
		if (!tags_valid(user->tags))
			return load_error(err, errlen, "user %s: tags must be an object of at most 50 strings%s", user->name, "");
		snprintf(owner, sizeof(owner), "user %s", user->name);
		status = attach_policies(store, u, owner, user->attached, &user->nattached, err, errlen);
		if (status != LCR_OK)
			return status;
		json_array_foreach(json_object_get(u, "groups"), j, item) {
			struct id_group *group = json_string_value(item) ? find_group(acct, json_string_value(item)) : NULL;

			if (group == NULL)
				return load_error(err, errlen, "user %s: group '%s' is not defined", user->name,
						  json_string_value(item) ? json_string_value(item) : "?");
			for (size_t k = 0; k < group->nattached && user->nattached < MAX_ATTACHED; k++)
				user->attached[user->nattached++] = group->attached[k];
		}
		json_array_foreach(json_object_get(u, "access_keys"), j, item) {
			status = add_key(store, item, 1, account_index, i, err, errlen);
			if (status != LCR_OK)
				return status;
		}
	}
	return LCR_OK;
}

static int load_roles(struct identity_store *store, struct id_account *acct, json_t *roles, char *err, size_t errlen)
{
	json_t *r;
	size_t i;
	char owner[256];

	acct->nroles = json_array_size(roles);
	acct->roles = calloc(acct->nroles + 1, sizeof(*acct->roles));
	if (acct->roles == NULL)
		return LCR_ERR_INTERNAL;
	json_array_foreach(roles, i, r) {
		struct id_role *role = &acct->roles[i];
		json_t *duration = json_object_get(r, "max_session_duration");
		int status;

		role->name = json_string_value(json_object_get(r, "name"));
		if (role->name == NULL || role->name[0] == '\0')
			return load_error(err, errlen, "account %s: a role has no name%s", acct->id, "");
		snprintf(role->arn, sizeof(role->arn), "arn:aws:iam::%s:role%s%s", acct->id, path_of(r), role->name);
		role->tags = json_object_get(r, "tags");
		if (!tags_valid(role->tags))
			return load_error(err, errlen, "role %s: tags must be an object of at most 50 strings%s", role->name, "");
		role->max_session_seconds = json_is_integer(duration) ? (double)json_integer_value(duration) : 3600;
		snprintf(owner, sizeof(owner), "trust policy of role %s", role->name);
		if (json_object_get(r, "trust_policy") == NULL)
			return load_error(err, errlen, "role %s: trust_policy is required%s", role->name, "");
		status = parse_document(store, json_object_get(r, "trust_policy"), POLICY_KIND_TRUST, owner, &role->trust,
					err, errlen);
		if (status != LCR_OK)
			return status;
		snprintf(owner, sizeof(owner), "role %s", role->name);
		status = attach_policies(store, r, owner, role->attached, &role->nattached, err, errlen);
		if (status != LCR_OK)
			return status;
	}
	return LCR_OK;
}

static int load_account(struct identity_store *store, size_t index, json_t *a, char *err, size_t errlen)
{
	struct id_account *acct = &store->accounts[index];
	json_t *item;
	size_t i;
	int status;

	acct->id = json_string_value(json_object_get(a, "id"));
	if (!account_id_valid(acct->id))
		return load_error(err, errlen, "accounts[%s]: id must be 12 digits%s", acct->id ? acct->id : "?", "");
	json_array_foreach(json_object_get(a, "managed_policies"), i, item) {
		const char *name = json_string_value(json_object_get(item, "name"));
		char arn[512];
		struct policy *p;
		json_t *arn_value;

		if (name == NULL)
			return load_error(err, errlen, "account %s: a managed policy has no name%s", acct->id, "");
		snprintf(arn, sizeof(arn), "arn:aws:iam::%s:policy/%s", acct->id, name);
		arn_value = json_string(arn);
		json_object_set_new(item, "_arn", arn_value);
		status = parse_document(store, json_object_get(item, "document"), POLICY_KIND_IDENTITY, arn, &p, err, errlen);
		if (status == LCR_OK)
			status = add_managed(store, json_string_value(arn_value), p);
		if (status != LCR_OK)
			return status;
	}
	status = load_groups(store, acct, json_object_get(a, "groups"), err, errlen);
	if (status == LCR_OK)
		status = load_users(store, index, json_object_get(a, "users"), err, errlen);
	if (status == LCR_OK)
		status = load_roles(store, acct, json_object_get(a, "roles"), err, errlen);
	json_array_foreach(json_object_get(a, "root_access_keys"), i, item) {
		if (status == LCR_OK)
			status = add_key(store, item, 0, index, 0, err, errlen);
	}
	return status;
}

int identity_store_load(const char *path, struct identity_store **out, char *err, size_t errlen)
{
	struct identity_store *store = calloc(1, sizeof(*store));
	json_error_t jerr;
	json_t *accounts, *a;
	size_t i;
	int status = LCR_OK;

	*out = NULL;
	if (store == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	store->root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (store->root == NULL) {
		identity_store_free(store);
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column,
				jerr.text);
	}
	for (i = 0; i < sizeof(aws_managed) / sizeof(aws_managed[0]) && status == LCR_OK; i++) {
		struct policy *p;

		json_t *document = json_string(aws_managed[i].document);

		status = parse_document(store, document, POLICY_KIND_IDENTITY, aws_managed[i].arn, &p, err, errlen);
		json_decref(document);
		if (status == LCR_OK)
			status = add_managed(store, aws_managed[i].arn, p);
	}
	accounts = json_object_get(store->root, "accounts");
	if (status == LCR_OK && (!json_is_array(accounts) || json_array_size(accounts) == 0))
		status = lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "%s: \"accounts\" must be a non-empty list", path);
	if (status == LCR_OK) {
		store->naccounts = json_array_size(accounts);
		store->accounts = calloc(store->naccounts, sizeof(*store->accounts));
		if (store->accounts == NULL)
			status = LCR_ERR_INTERNAL;
	}
	json_array_foreach(accounts, i, a) {
		if (status == LCR_OK)
			status = load_account(store, i, a, err, errlen);
	}
	if (status != LCR_OK) {
		identity_store_free(store);
		return status;
	}
	*out = store;
	return LCR_OK;
}

/* Deterministic IAM-style unique ids: prefix + 17 characters from a hash. */
static void unique_id(const char *prefix, const char *arn, char *out, size_t outlen)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char hash[SHA256_DIGEST_LENGTH];
	char suffix[18];

	SHA256((const unsigned char *)arn, strlen(arn), hash);
	for (int i = 0; i < 17; i++)
		suffix[i] = alphabet[hash[i] & 31];
	suffix[17] = '\0';
	snprintf(out, outlen, "%s%s", prefix, suffix);
}

static void copy_tags(struct principal *p, json_t *tags)
{
	const char *key;
	json_t *value;

	json_object_foreach(tags, key, value) {
		if (p->ntags == PRINCIPAL_TAGS_MAX)
			break;
		p->tag_keys[p->ntags] = strdup(key);
		p->tag_values[p->ntags] = strdup(json_string_value(value));
		p->ntags++;
	}
}

static void fill_root(struct principal *out, const char *account)
{
	memset(out, 0, sizeof(*out));
	out->type = PRINCIPAL_ROOT;
	snprintf(out->account, sizeof(out->account), "%s", account);
	snprintf(out->arn, sizeof(out->arn), "arn:aws:iam::%s:root", account);
	snprintf(out->name, sizeof(out->name), "root");
	snprintf(out->user_id, sizeof(out->user_id), "%s", account);
}

static void fill_user(struct principal *out, const struct id_account *acct, const struct id_user *user)
{
	memset(out, 0, sizeof(*out));
	out->type = PRINCIPAL_USER;
	snprintf(out->account, sizeof(out->account), "%s", acct->id);
	snprintf(out->arn, sizeof(out->arn), "%s", user->arn);
	snprintf(out->name, sizeof(out->name), "%s", user->name);
	unique_id("AIDA", user->arn, out->user_id, sizeof(out->user_id));
	copy_tags(out, user->tags);
	for (size_t i = 0; i < user->nattached; i++)
		out->policies[out->npolicies++] = user->attached[i];
}

static void fill_role(struct principal *out, const struct id_account *acct, const struct id_role *role)
{
	memset(out, 0, sizeof(*out));
	out->type = PRINCIPAL_ASSUMED_ROLE;
	snprintf(out->account, sizeof(out->account), "%s", acct->id);
	snprintf(out->arn, sizeof(out->arn), "%s", role->arn);
	snprintf(out->role_arn, sizeof(out->role_arn), "%s", role->arn);
	snprintf(out->name, sizeof(out->name), "%s", role->name);
	unique_id("AROA", role->arn, out->user_id, sizeof(out->user_id));
	copy_tags(out, role->tags);
	for (size_t i = 0; i < role->nattached; i++)
		out->policies[out->npolicies++] = role->attached[i];
}

bool identity_find_access_key(const struct identity_store *store, const char *access_key_id,
			      struct credential *out_credential, struct principal *out_principal)
{
	for (size_t i = 0; i < store->nkeys; i++) {
		const struct id_key *k = &store->keys[i];
		const struct id_account *acct;

		if (strcmp(k->access_key_id, access_key_id) != 0)
			continue;
		acct = &store->accounts[k->account];
		out_credential->secret = k->secret;
		out_credential->session_token = k->session_token;
		out_credential->expiration = k->expiration;
		if (k->kind == 0)
			fill_root(out_principal, acct->id);
		else
			fill_user(out_principal, acct, &acct->users[k->owner]);
		return true;
	}
	return false;
}

static const struct id_role *find_role(const struct identity_store *store, const char *arn, const struct id_account **out_acct)
{
	for (size_t a = 0; a < store->naccounts; a++)
		for (size_t r = 0; r < store->accounts[a].nroles; r++)
			if (strcmp(store->accounts[a].roles[r].arn, arn) == 0) {
				*out_acct = &store->accounts[a];
				return &store->accounts[a].roles[r];
			}
	return NULL;
}

bool identity_find_principal(const struct identity_store *store, const char *arn, struct principal *out)
{
	const struct id_account *acct;
	const struct id_role *role;

	for (size_t a = 0; a < store->naccounts; a++) {
		acct = &store->accounts[a];
		if (strncmp(arn, "arn:aws:iam::", 13) == 0 && strncmp(arn + 13, acct->id, 12) == 0 &&
		    strcmp(arn + 25, ":root") == 0) {
			fill_root(out, acct->id);
			return true;
		}
		for (size_t u = 0; u < acct->nusers; u++)
			if (strcmp(acct->users[u].arn, arn) == 0) {
				fill_user(out, acct, &acct->users[u]);
				return true;
			}
	}
	role = find_role(store, arn, &acct);
	if (role == NULL)
		return false;
	fill_role(out, acct, role);
	return true;
}

bool identity_find_role(const struct identity_store *store, const char *role_arn, const struct policy **out_trust,
			double *out_max_session_seconds, struct principal *out_role)
{
	const struct id_account *acct;
	const struct id_role *role = find_role(store, role_arn, &acct);

	if (role == NULL)
		return false;
	*out_trust = role->trust;
	*out_max_session_seconds = role->max_session_seconds;
	fill_role(out_role, acct, role);
	return true;
}

bool identity_account_exists(const struct identity_store *store, const char *account)
{
	for (size_t a = 0; a < store->naccounts; a++)
		if (strcmp(store->accounts[a].id, account) == 0)
			return true;
	return false;
}

bool identity_principal_exists(const struct identity_store *store, const char *principal)
{
	struct principal p;
	char role_arn[512];
	const char *slash;
	bool found;

	if (account_id_valid(principal))
		return identity_account_exists(store, principal);
	if (strncmp(principal, "arn:aws:sts::", 13) == 0 && strlen(principal) > 25 &&
	    strncmp(principal + 25, ":assumed-role/", 14) == 0) {
		/* arn:aws:sts::<acct>:assumed-role/<role>/<session> names a
		 * session of role <role>. */
		slash = strchr(principal + 39, '/');
		if (slash == NULL)
			return false;
		snprintf(role_arn, sizeof(role_arn), "arn:aws:iam::%.12s:role/%.*s", principal + 13,
			 (int)(slash - (principal + 39)), principal + 39);
		principal = role_arn;
	}
	found = identity_find_principal(store, principal, &p);
	if (found)
		principal_release(&p);
	return found;
}
