/*
 * identity.h - principals and their credentials, loaded from an identities
 * file (IAM mode).
 *
 * The file is JSON (fixtures/identities.example.json shows every field):
 *   {"accounts": [{"id": "111111111111",
 *                  "root_access_keys": [{"access_key_id", "secret_access_key"}],
 *                  "users": [{"name", "path", "tags", "groups", "policies",
 *                             "managed_policies", "access_keys"}],
 *                  "groups": [{"name", "policies", "managed_policies"}],
 *                  "roles": [{"name", "path", "trust_policy", "policies",
 *                             "managed_policies", "tags", "max_session_duration"}],
 *                  "managed_policies": [{"name", "document"}]}]}
 * An access key may also carry "session_token" and "expiration" (RFC 3339),
 * making it a temporary credential that needs X-Amz-Security-Token.
 * Managed policies are named by ARN: the account's own
 * (arn:aws:iam::<acct>:policy/<name>) or one of the AWS managed policies
 * localecr includes (arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly,
 * ...PowerUser, ...FullAccess, AdministratorAccess).
 */
#ifndef LCR_IDENTITY_H
#define LCR_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

struct identity_store;

enum principal_type {
	PRINCIPAL_ROOT,
	PRINCIPAL_USER,
	PRINCIPAL_ASSUMED_ROLE
};

#define PRINCIPAL_TAGS_MAX 50

/* Principal a request acts as, with the identity policies that apply to
 * it.  Policies are borrowed from the store, which outlives every request. */
struct principal {
	enum principal_type type;
	char arn[512];
	char account[13];
	char name[128];         /* user or role name; "root" for the root user */
	char session_name[65];  /* assumed roles only */
	char user_id[200];      /* aws:userid: AIDA..., AROA...:session, or the account id */
	char role_arn[512];     /* assumed roles only */
	char *tag_keys[PRINCIPAL_TAGS_MAX];
	char *tag_values[PRINCIPAL_TAGS_MAX];
	size_t ntags;
	struct policy *policies[64];
	size_t npolicies;
};

void principal_release(struct principal *p);

int identity_store_load(const char *path, struct identity_store **out, char *err, size_t errlen);
void identity_store_free(struct identity_store *store);

/* Credentials for access_key_id.  *out_session_token is NULL for long-term
 * keys, else the token the request must carry; *out_expiration is 0 or
 * when a temporary key expires. */
struct credential {
	const char *secret;
	const char *session_token;
	double expiration;
};
/* Look up an access key; false when the store has no such key. */
bool identity_find_access_key(const struct identity_store *store, const char *access_key_id,
			      struct credential *out_credential, struct principal *out_principal);

/* Fill out for a user, root or role ARN known to the store; false when
 * unknown.  For a role it gives the role's policies (the caller turns it into
 * a session). */
bool identity_find_principal(const struct identity_store *store, const char *arn, struct principal *out);

/* A role for AssumeRole: its trust policy and maximum session length. */
bool identity_find_role(const struct identity_store *store, const char *role_arn, const struct policy **out_trust,
			double *out_max_session_seconds, struct principal *out_role);

/* True when an account id, or a root, user or role ARN, is in the store
 * (assumed-role session ARNs are checked through their role). */
bool identity_principal_exists(const struct identity_store *store, const char *principal);

/* True when the account is defined in the store. */
bool identity_account_exists(const struct identity_store *store, const char *account);

#endif
