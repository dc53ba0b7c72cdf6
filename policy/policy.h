/*
 * policy.h - IAM-like policy documents: parse, validate and evaluate.
 *
 * Pure code: nothing here depends on HTTP, the database or the identities
 * file.  The caller gathers the policies that apply to a request (the
 * principal's identity policies, the repository policy) and the request
 * context (action, resource, principal, condition keys) and asks for a
 * decision.  Evaluation follows AWS's documented order:
 *   1. an explicit Deny in any applicable policy wins;
 *   2. same account: an Allow in an identity policy OR the resource policy
 *      allows;
 *   3. cross account: the identity policy AND the resource policy must both
 *      allow;
 *   4. otherwise the request is implicitly denied.
 * The account root user needs no identity policy in its own account, but an
 * explicit Deny in a resource policy still applies to it.
 * A role trust policy (POLICY_KIND_TRUST as the resource policy) must itself
 * allow, even in the same account.  When it allows only through an account
 * entry, the identity policies must allow as well.
 */
#ifndef LCR_POLICY_H
#define LCR_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* Maximum policy document size, in bytes.  ECR limits repository policy
 * text to 10,240 characters and IAM managed policies to 6,144 without
 * whitespace, so localecr applies one generous cap to every document. */
#define POLICY_TEXT_MAX (64 * 1024)

struct policy; /* opaque parsed document */

enum policy_kind {
	POLICY_KIND_IDENTITY, /* attached to a user, group or role: no Principal, Resource required */
	POLICY_KIND_RESOURCE, /* repository or registry policy: Principal required */
	POLICY_KIND_TRUST     /* role trust policy: Principal required, Action sts:AssumeRole... */
};

/* Parse and validate text (len bytes).  On failure returns non-zero (an
 * lcr_status, LCR_ERR_INVALID_PARAMETER) and writes into err a message that
 * names the location, e.g. "Statement[1].Condition: unknown operator
 * 'StringEqualz'".  name is a label used in explanations (a policy ARN,
 * "inline policy push of user alice", "repository policy"); it is copied. */
int policy_parse(const char *text, size_t len, enum policy_kind kind, const char *name, struct policy **out,
		 char *err, size_t errlen);
void policy_free(struct policy *p);
const char *policy_name(const struct policy *p);

/* True when a Resource or NotResource element appears in any statement. */
bool policy_has_resource_element(const struct policy *p);

/* Call fn for every principal ARN or account id that a statement's
 * Principal/NotPrincipal names under "AWS" (not "*"), so a caller can check
 * that they exist ("Principal not found"). Stops early when fn returns false. */
void policy_each_principal(const struct policy *p, bool (*fn)(void *ctx, const char *principal), void *ctx);

/* One condition key of the request and its values (multi-valued keys such
 * as aws:TagKeys have several).  Names compare case-insensitively, as IAM's
 * condition keys do.  A key with no values counts as missing, and a key
 * that BinaryEquals compares carries base64 text. */
struct policy_key {
	const char *name;
	const char *const *values;
	size_t nvalues;
};

/* The request being decided. */
struct policy_request {
	const char *action;            /* "ecr:PutImage" */
	const char *resource;          /* an ARN, or "*" */
	const char *resource_account;  /* account owning the resource; NULL when resource is "*" */
	const char *principal_arn;     /* user, root or assumed-role session ARN */
	const char *principal_account; /* 12 digits */
	/* For an assumed-role session, the role's ARN
	 * (arn:aws:iam::<acct>:role/<path><name>), which a Principal element
	 * may name instead of the session ARN; NULL otherwise. */
	const char *principal_role_arn;
	bool principal_is_root;
	const struct policy_key *keys; /* condition keys and policy variables */
	size_t nkeys;
};

enum policy_result {
	POLICY_ALLOW,
	POLICY_EXPLICIT_DENY,
	POLICY_IMPLICIT_DENY
};

/* Reason for an implicit or explicit deny, used in AWS's message. */
enum policy_reason {
	POLICY_REASON_NONE,                    /* allowed */
	POLICY_REASON_NO_IDENTITY_ALLOW,       /* same account, nothing allows */
	POLICY_REASON_NO_RESOURCE_ALLOW,       /* cross account, resource policy does not allow */
	POLICY_REASON_EXPLICIT_DENY_IDENTITY,  /* a Deny in an identity policy */
	POLICY_REASON_EXPLICIT_DENY_RESOURCE   /* a Deny in a resource policy */
};

/* A statement that matched the request. */
struct policy_match {
	char policy[256];   /* policy_name() of the document */
	int statement;      /* index in Statement */
	char sid[128];      /* "" when the statement has no Sid */
	bool allow;         /* Effect */
	char why[512];      /* what matched: action, resource, principal, conditions */
};

struct policy_decision {
	enum policy_result result;
	enum policy_reason reason;
	struct policy_match *matches; /* every statement that matched, in order */
	size_t nmatches;
};

/* The applicable policies.  identity may be empty; resource may be NULL. */
struct policy_set {
	struct policy *const *identity;
	size_t nidentity;
	const struct policy *resource;
};

/* Decide req against set.  Returns 0, or non-zero on allocation failure,
 * and then out contains no matches.  Release out with
 * policy_decision_release(). */
int policy_evaluate(const struct policy_set *set, const struct policy_request *req, struct policy_decision *out);
void policy_decision_release(struct policy_decision *d);

/* AWS's denial message: "User: <principal> is not authorized to perform:
 * <action> on resource: <resource> because <context>".  With
 * POLICY_REASON_NONE it ends after the resource, like AWS's older form. */
void policy_denial_message(const struct policy_decision *d, const struct policy_request *req, char *out,
			   size_t outlen);

/* IAM simulator wording of a result: "allowed", "explicitDeny",
 * "implicitDeny". */
const char *policy_result_name(enum policy_result result);

/* Glob match as IAM does for actions (case-insensitive) and ARNs
 * (case-sensitive): '*' matches any run of characters, '?' one character. */
bool policy_glob_match(const char *pattern, const char *text, bool ignore_case);

#endif
