/*
 * test_policy.c - policy parsing, condition operators, policy variables and
 * the evaluation order, as tables of cases.
 *
 * Policies in the tables are written with single quotes for readability.
 * json_text() turns them into double quotes before parsing, so a literal
 * single quote inside a policy is written as the JSON escape \u0027.
 */
#include "check.h"

#include <stdlib.h>

#include "../../common/status.h"
#include "../../policy/policy.h"

#define ACCOUNT_A "111122223333"
#define ACCOUNT_B "444455556666"
#define REPO_ARN "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/app-web"

/* Replace every single quote of text by a double quote (caller frees). */
static char *json_text(const char *text)
{
	char *s = strdup(text);

	for (char *p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static struct policy *parse_or_report(const char *text, enum policy_kind kind, const char *name)
{
	struct policy *p = NULL;
	char *json = json_text(text);
	char err[768] = "";

	if (policy_parse(json, strlen(json), kind, name, &p, err, sizeof(err)) != LCR_OK)
		fprintf(stderr, "unexpected parse failure of %s: %s\n", json, err);
	free(json);
	return p;
}

/* The principals the cases act as. */
enum who {
	ALICE,          /* user in account A, which owns the repositories */
	CAROL,          /* another user in account A */
	ROOT_A,         /* root user of account A */
	SESSION_DEPLOY, /* session of role deploy in account A */
	SESSION_OTHER,  /* session of role other in account A */
	BOB,            /* user in account B */
	ROOT_B          /* root user of account B */
};

static const struct {
	const char *arn;
	const char *account;
	const char *role_arn;
	bool root;
} principals[] = {
	[ALICE] = {"arn:aws:iam::" ACCOUNT_A ":user/alice", ACCOUNT_A, NULL, false},
	[CAROL] = {"arn:aws:iam::" ACCOUNT_A ":user/carol", ACCOUNT_A, NULL, false},
	[ROOT_A] = {"arn:aws:iam::" ACCOUNT_A ":root", ACCOUNT_A, NULL, true},
	[SESSION_DEPLOY] = {"arn:aws:sts::" ACCOUNT_A ":assumed-role/deploy/ci-run", ACCOUNT_A,
			    "arn:aws:iam::" ACCOUNT_A ":role/deploy", false},
	[SESSION_OTHER] = {"arn:aws:sts::" ACCOUNT_A ":assumed-role/other/ci-run", ACCOUNT_A,
			   "arn:aws:iam::" ACCOUNT_A ":role/other", false},
	[BOB] = {"arn:aws:iam::" ACCOUNT_B ":user/bob", ACCOUNT_B, NULL, false},
	[ROOT_B] = {"arn:aws:iam::" ACCOUNT_B ":root", ACCOUNT_B, NULL, true},
};

/* Condition keys written as "name=v1|v2;name2=v"; a name without '='
 * is a key present with no values. */
#define KEYS_MAX 16
#define VALUES_MAX 8

struct key_store {
	struct policy_key keys[KEYS_MAX];
	const char *values[KEYS_MAX][VALUES_MAX];
	char text[1024];
};

static size_t keys_parse(struct key_store *ks, const char *spec)
{
	size_t n = 0;
	char *save = NULL, *item;

	if (spec == NULL)
		return 0;
	snprintf(ks->text, sizeof(ks->text), "%s", spec);
	for (item = strtok_r(ks->text, ";", &save); item != NULL && n < KEYS_MAX; item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');
		size_t count = 0;

		ks->keys[n].name = item;
		ks->keys[n].values = ks->values[n];
		if (eq != NULL) {
			char *value = eq + 1;

			*eq = '\0';
			for (;;) {
				char *bar = strchr(value, '|');

				if (bar != NULL)
					*bar = '\0';
				if (count < VALUES_MAX)
					ks->values[n][count++] = value;
				if (bar == NULL)
					break;
				value = bar + 1;
			}
		}
		ks->keys[n].nvalues = count;
		n++;
	}
	return n;
}

static void request_init(struct policy_request *req, enum who who, const char *action, const char *resource,
			 struct key_store *ks, const char *keys)
{
	memset(req, 0, sizeof(*req));
	req->action = action != NULL ? action : "ecr:PutImage";
	req->resource = resource != NULL ? resource : REPO_ARN;
	req->resource_account = strcmp(req->resource, "*") == 0 ? NULL : ACCOUNT_A;
	req->principal_arn = principals[who].arn;
	req->principal_account = principals[who].account;
	req->principal_role_arn = principals[who].role_arn;
	req->principal_is_root = principals[who].root;
	req->keys = ks->keys;
	req->nkeys = keys_parse(ks, keys);
}

/* Statements reused by the evaluation cases. */
#define ALLOW_PUSH_IDENTITY \
	"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['ecr:PutImage','ecr:BatchGetImage']," \
	"'Resource':'arn:aws:ecr:*:" ACCOUNT_A ":repository/app-*'}]}"
#define ALLOW_ALL_IDENTITY "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}"
#define DENY_PUSH_IDENTITY \
	"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','Action':'ecr:PutImage','Resource':'*'}]}"
#define RESOURCE_ALLOWING(principal) \
	"{'Version':'2012-10-17','Statement':[{'Sid':'Grant','Effect':'Allow','Principal':" principal "," \
	"'Action':'ecr:*'}]}"
#define TRUST_ALLOWING(principal) \
	"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':" principal ",'Action':'sts:AssumeRole'}]}"
#define ROLE_ARN "arn:aws:iam::" ACCOUNT_A ":role/deploy"
#define RESOURCE_DENYING(principal) \
	"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','Principal':" principal ",'Action':'ecr:PutImage'}]}"

struct eval_case {
	const char *name;
	const char *identity;  /* NULL when the principal has no identity policy */
	const char *identity2; /* a second identity policy, or NULL */
	const char *resource;  /* the repository policy, or NULL */
	enum who who;
	const char *action;   /* NULL: ecr:PutImage */
	const char *resource_arn; /* NULL: REPO_ARN */
	const char *keys;
	enum policy_result result;
	enum policy_reason reason;
};

static const struct eval_case eval_cases[] = {
	/* Same account: either side allows. */
	{"same_account_identity_allows", ALLOW_PUSH_IDENTITY, NULL, NULL, ALICE, NULL, NULL, NULL, POLICY_ALLOW,
	 POLICY_REASON_NONE},
	{"same_account_resource_allows", NULL, NULL, RESOURCE_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_A ":user/alice'}"),
	 ALICE, NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"same_account_nothing_allows", ALLOW_PUSH_IDENTITY, NULL, NULL, ALICE, "ecr:DeleteRepository", NULL, NULL,
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"same_account_no_policies", NULL, NULL, NULL, ALICE, NULL, NULL, NULL, POLICY_IMPLICIT_DENY,
	 POLICY_REASON_NO_IDENTITY_ALLOW},
	{"same_account_resource_names_other_user", NULL, NULL,
	 RESOURCE_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_A ":user/carol'}"), ALICE, NULL, NULL, NULL,
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	/* Cross account: both sides must allow. */
	{"cross_account_identity_only", ALLOW_ALL_IDENTITY, NULL, NULL, BOB, NULL, NULL, NULL, POLICY_IMPLICIT_DENY,
	 POLICY_REASON_NO_RESOURCE_ALLOW},
	{"cross_account_resource_only", NULL, NULL, RESOURCE_ALLOWING("{'AWS':'" ACCOUNT_B "'}"), BOB, NULL, NULL, NULL,
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"cross_account_neither", NULL, NULL, NULL, BOB, NULL, NULL, NULL, POLICY_IMPLICIT_DENY,
	 POLICY_REASON_NO_RESOURCE_ALLOW},
	{"cross_account_both_allow", ALLOW_ALL_IDENTITY, NULL, RESOURCE_ALLOWING("{'AWS':'" ACCOUNT_B "'}"), BOB, NULL,
	 NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"cross_account_resource_names_root", ALLOW_ALL_IDENTITY, NULL,
	 RESOURCE_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_B ":root'}"), BOB, NULL, NULL, NULL, POLICY_ALLOW,
	 POLICY_REASON_NONE},
	{"cross_account_resource_names_user", ALLOW_ALL_IDENTITY, NULL,
	 RESOURCE_ALLOWING("{'AWS':['arn:aws:iam::" ACCOUNT_B ":user/bob']}"), BOB, NULL, NULL, NULL, POLICY_ALLOW,
	 POLICY_REASON_NONE},
	{"cross_account_resource_names_other_account", ALLOW_ALL_IDENTITY, NULL,
	 RESOURCE_ALLOWING("{'AWS':'999988887777'}"), BOB, NULL, NULL, NULL, POLICY_IMPLICIT_DENY,
	 POLICY_REASON_NO_RESOURCE_ALLOW},
	{"cross_account_resource_star", ALLOW_ALL_IDENTITY, NULL, RESOURCE_ALLOWING("'*'"), BOB, NULL, NULL, NULL,
	 POLICY_ALLOW, POLICY_REASON_NONE},
	{"resource_wildcard_is_own_account", ALLOW_ALL_IDENTITY, NULL, NULL, BOB, "ecr:GetAuthorizationToken", "*",
	 NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	/* An explicit deny wins over any allow. */
	{"identity_deny_beats_resource_allow", DENY_PUSH_IDENTITY, NULL, RESOURCE_ALLOWING("'*'"), ALICE, NULL, NULL,
	 NULL, POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_IDENTITY},
	{"identity_deny_beats_identity_allow", ALLOW_ALL_IDENTITY, DENY_PUSH_IDENTITY, NULL, ALICE, NULL, NULL, NULL,
	 POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_IDENTITY},
	{"resource_deny_beats_identity_allow", ALLOW_ALL_IDENTITY, NULL, RESOURCE_DENYING("{'AWS':'*'}"), ALICE, NULL,
	 NULL, NULL, POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_RESOURCE},
	{"both_deny_names_identity", DENY_PUSH_IDENTITY, NULL, RESOURCE_DENYING("'*'"), ALICE, NULL, NULL, NULL,
	 POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_IDENTITY},
	{"deny_for_other_action_ignored", ALLOW_ALL_IDENTITY, DENY_PUSH_IDENTITY, NULL, ALICE, "ecr:BatchGetImage",
	 NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"cross_account_deny_in_resource", ALLOW_ALL_IDENTITY, NULL,
	 "{'Statement':[{'Effect':'Allow','Principal':'*','Action':'ecr:*'},"
	 "{'Effect':'Deny','Principal':{'AWS':'" ACCOUNT_B "'},'Action':'ecr:PutImage'}]}",
	 BOB, NULL, NULL, NULL, POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_RESOURCE},
	/* NotAction, NotResource, NotPrincipal. */
	{"not_action_allows_others",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','NotAction':'ecr:Delete*','Resource':'*'}}", NULL, NULL,
	 ALICE, NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"not_action_excludes_listed",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','NotAction':'ecr:Delete*','Resource':'*'}}", NULL, NULL,
	 ALICE, "ecr:DeleteRepository", NULL, NULL, POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"not_resource_deny_outside_prefix", ALLOW_ALL_IDENTITY,
	 "{'Version':'2012-10-17','Statement':{'Effect':'Deny','Action':'ecr:*',"
	 "'NotResource':'arn:aws:ecr:*:*:repository/app-*'}}",
	 NULL, ALICE, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/secret", NULL, POLICY_EXPLICIT_DENY,
	 POLICY_REASON_EXPLICIT_DENY_IDENTITY},
	{"not_resource_inside_prefix_allowed", ALLOW_ALL_IDENTITY,
	 "{'Version':'2012-10-17','Statement':{'Effect':'Deny','Action':'ecr:*',"
	 "'NotResource':'arn:aws:ecr:*:*:repository/app-*'}}",
	 NULL, ALICE, NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"not_principal_deny_spares_listed", ALLOW_ALL_IDENTITY, NULL,
	 "{'Version':'2012-10-17','Statement':{'Effect':'Deny','NotPrincipal':{'AWS':["
	 "'arn:aws:iam::" ACCOUNT_A ":user/alice']},'Action':'ecr:*'}}",
	 ALICE, NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"not_principal_deny_hits_others", ALLOW_ALL_IDENTITY, NULL,
	 "{'Version':'2012-10-17','Statement':{'Effect':'Deny','NotPrincipal':{'AWS':["
	 "'arn:aws:iam::" ACCOUNT_A ":user/alice']},'Action':'ecr:*'}}",
	 CAROL, NULL, NULL, NULL, POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_RESOURCE},
	{"not_principal_account_spares_its_users", ALLOW_ALL_IDENTITY, NULL,
	 "{'Statement':{'Effect':'Deny','NotPrincipal':{'AWS':'arn:aws:iam::" ACCOUNT_A ":root'},'Action':'ecr:*'}}",
	 CAROL, NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"not_principal_service_only_hits_users", ALLOW_ALL_IDENTITY, NULL,
	 "{'Statement':{'Effect':'Deny','NotPrincipal':{'Service':'ecs.amazonaws.com'},'Action':'ecr:*'}}", ALICE, NULL,
	 NULL, NULL, POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_RESOURCE},
	/* The root user. */
	{"root_own_account_needs_no_policy", NULL, NULL, NULL, ROOT_A, NULL, NULL, NULL, POLICY_ALLOW,
	 POLICY_REASON_NONE},
	{"root_own_account_resource_deny", NULL, NULL, RESOURCE_DENYING("'*'"), ROOT_A, NULL, NULL, NULL,
	 POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_RESOURCE},
	{"root_own_account_deny_by_account", NULL, NULL, RESOURCE_DENYING("{'AWS':'" ACCOUNT_A "'}"), ROOT_A, NULL, NULL,
	 NULL, POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_RESOURCE},
	{"root_other_account_needs_resource_allow", NULL, NULL, NULL, ROOT_B, NULL, NULL, NULL, POLICY_IMPLICIT_DENY,
	 POLICY_REASON_NO_RESOURCE_ALLOW},
	{"root_other_account_with_resource_allow", NULL, NULL, RESOURCE_ALLOWING("{'AWS':'" ACCOUNT_B "'}"), ROOT_B,
	 NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	/* Assumed-role sessions. */
	{"session_matched_by_role_arn", NULL, NULL,
	 RESOURCE_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_A ":role/deploy'}"), SESSION_DEPLOY, NULL, NULL, NULL,
	 POLICY_ALLOW, POLICY_REASON_NONE},
	{"session_matched_by_session_arn", NULL, NULL,
	 RESOURCE_ALLOWING("{'AWS':'arn:aws:sts::" ACCOUNT_A ":assumed-role/deploy/ci-run'}"), SESSION_DEPLOY, NULL,
	 NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"session_of_other_role_not_matched", NULL, NULL,
	 RESOURCE_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_A ":role/deploy'}"), SESSION_OTHER, NULL, NULL, NULL,
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"session_matched_by_account", NULL, NULL, RESOURCE_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_A ":root'}"),
	 SESSION_OTHER, NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"other_session_arn_not_matched", NULL, NULL,
	 RESOURCE_ALLOWING("{'AWS':'arn:aws:sts::" ACCOUNT_A ":assumed-role/deploy/other-run'}"), SESSION_DEPLOY, NULL,
	 NULL, NULL, POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"service_principal_never_matches", NULL, NULL, RESOURCE_ALLOWING("{'Service':'ecs.amazonaws.com'}"), ALICE,
	 NULL, NULL, NULL, POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	/* Action and resource matching. */
	{"action_compares_case_insensitively",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ECR:putimage','Resource':'*'}}", NULL, NULL,
	 ALICE, NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"action_question_mark",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:?utImage','Resource':'*'}}", NULL, NULL,
	 ALICE, NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"resource_compares_case_sensitively",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/App-*'}}",
	 NULL, NULL, ALICE, NULL, NULL, NULL, POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"resource_star_spans_colons",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*','Resource':'arn:aws:ecr:*'}}", NULL,
	 NULL, ALICE, NULL, NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"arn_resource_does_not_match_star_request", ALLOW_PUSH_IDENTITY, NULL, NULL, ALICE, "ecr:PutImage", "*", NULL,
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	/* Policy variables in Resource. */
	{"resource_variable_username",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/${aws:username}/*'}}",
	 NULL, NULL, ALICE, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/alice/web", "aws:username=alice",
	 POLICY_ALLOW, POLICY_REASON_NONE},
	{"resource_variable_other_user",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/${aws:username}/*'}}",
	 NULL, NULL, CAROL, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/alice/web", "aws:username=carol",
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"resource_variable_missing_key",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/${aws:username}/*'}}",
	 NULL, NULL, SESSION_DEPLOY, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/alice/web", NULL,
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"resource_variable_default",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/${aws:username, \\u0027shared\\u0027}/*'}}",
	 NULL, NULL, SESSION_DEPLOY, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/shared/web", NULL,
	 POLICY_ALLOW, POLICY_REASON_NONE},
	{"resource_variable_key_case_insensitive",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/${AWS:UserName}/*'}}",
	 NULL, NULL, ALICE, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/alice/web", "aws:username=alice",
	 POLICY_ALLOW, POLICY_REASON_NONE},
	{"resource_variable_value_is_literal",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}'}}",
	 NULL, NULL, ALICE, NULL, NULL, "aws:PrincipalTag/team=*", POLICY_IMPLICIT_DENY,
	 POLICY_REASON_NO_IDENTITY_ALLOW},
	{"resource_variable_multi_valued_unresolved",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/${aws:TagKeys}'}}",
	 NULL, NULL, ALICE, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/a", "aws:TagKeys=a|b",
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"resource_literal_star_matches_star",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/a${*}b'}}",
	 NULL, NULL, ALICE, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/a*b", NULL, POLICY_ALLOW,
	 POLICY_REASON_NONE},
	{"resource_literal_star_is_not_wildcard",
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/a${*}b'}}",
	 NULL, NULL, ALICE, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/axyb", NULL, POLICY_IMPLICIT_DENY,
	 POLICY_REASON_NO_IDENTITY_ALLOW},
	{"version_2008_does_not_substitute",
	 "{'Version':'2008-10-17','Statement':{'Effect':'Allow','Action':'ecr:*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/${aws:username}'}}",
	 NULL, NULL, ALICE, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/alice", "aws:username=alice",
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"version_missing_does_not_substitute",
	 "{'Statement':{'Effect':'Allow','Action':'ecr:*','Resource':'arn:aws:ecr:*:*:repository/${aws:username}'}}",
	 NULL, NULL, ALICE, NULL, "arn:aws:ecr:us-east-1:" ACCOUNT_A ":repository/${aws:username}", "aws:username=alice",
	 POLICY_ALLOW, POLICY_REASON_NONE},
	/* Conditions in a resource policy. */
	{"resource_policy_source_ip_deny", ALLOW_ALL_IDENTITY, NULL,
	 "{'Version':'2012-10-17','Statement':{'Effect':'Deny','Principal':'*','Action':'ecr:*',"
	 "'Condition':{'NotIpAddress':{'aws:SourceIp':['10.0.0.0/8','192.0.2.0/24']}}}}",
	 ALICE, NULL, NULL, "aws:SourceIp=203.0.113.9", POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_RESOURCE},
	{"resource_policy_source_ip_inside", ALLOW_ALL_IDENTITY, NULL,
	 "{'Version':'2012-10-17','Statement':{'Effect':'Deny','Principal':'*','Action':'ecr:*',"
	 "'Condition':{'NotIpAddress':{'aws:SourceIp':['10.0.0.0/8','192.0.2.0/24']}}}}",
	 ALICE, NULL, NULL, "aws:SourceIp=192.0.2.77", POLICY_ALLOW, POLICY_REASON_NONE},
	/* Role trust policies must allow even in the same account. */
	{"trust_names_user_directly", NULL, NULL, TRUST_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_A ":user/alice'}"),
	 ALICE, "sts:AssumeRole", ROLE_ARN, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"trust_names_account_needs_identity", NULL, NULL, TRUST_ALLOWING("{'AWS':'" ACCOUNT_A "'}"), ALICE,
	 "sts:AssumeRole", ROLE_ARN, NULL, POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"trust_names_account_with_identity", ALLOW_ALL_IDENTITY, NULL,
	 TRUST_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_A ":root'}"), ALICE, "sts:AssumeRole", ROLE_ARN, NULL,
	 POLICY_ALLOW, POLICY_REASON_NONE},
	{"trust_not_naming_caller", ALLOW_ALL_IDENTITY, NULL,
	 TRUST_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_A ":user/carol'}"), ALICE, "sts:AssumeRole", ROLE_ARN, NULL,
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_RESOURCE_ALLOW},
	{"trust_missing_policy_allow", ALLOW_ALL_IDENTITY, NULL,
	 "{'Statement':{'Effect':'Deny','Principal':'*','Action':'sts:TagSession'}}", ALICE, "sts:AssumeRole", ROLE_ARN,
	 NULL, POLICY_IMPLICIT_DENY, POLICY_REASON_NO_RESOURCE_ALLOW},
	{"trust_star", NULL, NULL, TRUST_ALLOWING("'*'"), ALICE, "sts:AssumeRole", ROLE_ARN, NULL, POLICY_ALLOW,
	 POLICY_REASON_NONE},
	{"trust_names_role_for_session", NULL, NULL, TRUST_ALLOWING("{'AWS':'" ROLE_ARN "'}"), SESSION_DEPLOY,
	 "sts:AssumeRole", ROLE_ARN, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"trust_cross_account_without_identity", NULL, NULL,
	 TRUST_ALLOWING("{'AWS':'arn:aws:iam::" ACCOUNT_B ":user/bob'}"), BOB, "sts:AssumeRole", ROLE_ARN, NULL,
	 POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW},
	{"trust_cross_account_with_identity", ALLOW_ALL_IDENTITY, NULL, TRUST_ALLOWING("{'AWS':'" ACCOUNT_B "'}"), BOB,
	 "sts:AssumeRole", ROLE_ARN, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
	{"trust_deny_wins", ALLOW_ALL_IDENTITY, NULL,
	 "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'" ACCOUNT_A "'},'Action':'sts:AssumeRole'},"
	 "{'Effect':'Deny','Principal':{'AWS':'arn:aws:iam::" ACCOUNT_A ":user/alice'},'Action':'sts:*'}]}",
	 ALICE, "sts:AssumeRole", ROLE_ARN, NULL, POLICY_EXPLICIT_DENY, POLICY_REASON_EXPLICIT_DENY_RESOURCE},
	/* A repository policy naming the caller's own account is enough there. */
	{"resource_policy_account_same_account", NULL, NULL, RESOURCE_ALLOWING("{'AWS':'" ACCOUNT_A "'}"), ALICE, NULL,
	 NULL, NULL, POLICY_ALLOW, POLICY_REASON_NONE},
};

static struct policy *parse_kind(const char *text, enum policy_kind kind)
{
	return text != NULL ? parse_or_report(text, kind, "test policy") : NULL;
}

static void test_eval_cases(void)
{
	for (size_t i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++) {
		const struct eval_case *c = &eval_cases[i];
		struct policy *identity[2] = {parse_kind(c->identity, POLICY_KIND_IDENTITY),
					      parse_kind(c->identity2, POLICY_KIND_IDENTITY)};
		enum policy_kind resource_kind = c->action != NULL && strncmp(c->action, "sts:", 4) == 0
							 ? POLICY_KIND_TRUST
							 : POLICY_KIND_RESOURCE;
		struct policy *resource = parse_kind(c->resource, resource_kind);
		struct policy *const present[2] = {identity[0] != NULL ? identity[0] : identity[1],
						   identity[0] != NULL ? identity[1] : NULL};
		struct policy_set set = {present, (size_t)(identity[0] != NULL) + (identity[1] != NULL), resource};
		struct policy_decision d;
		struct policy_request req;
		struct key_store ks;

		CHECK((c->identity == NULL) == (identity[0] == NULL));
		CHECK((c->identity2 == NULL) == (identity[1] == NULL));
		CHECK((c->resource == NULL) == (resource == NULL));
		request_init(&req, c->who, c->action, c->resource_arn, &ks, c->keys);
		CHECK(policy_evaluate(&set, &req, &d) == LCR_OK);
		if (d.result != c->result || d.reason != c->reason)
			fprintf(stderr, "case %s: result %s reason %d, expected %s reason %d\n", c->name,
				policy_result_name(d.result), d.reason, policy_result_name(c->result), c->reason);
		CHECK(d.result == c->result);
		CHECK(d.reason == c->reason);
		policy_decision_release(&d);
		policy_free(identity[0]);
		policy_free(identity[1]);
		policy_free(resource);
	}
}

/* A condition block, the request's keys and whether the block holds. */
struct condition_case {
	const char *name;
	const char *condition;
	const char *keys;
	bool expected;
};

static const struct condition_case condition_cases[] = {
	/* String operators. */
	{"string_equals_match", "{'StringEquals':{'aws:username':'alice'}}", "aws:username=alice", true},
	{"string_equals_mismatch", "{'StringEquals':{'aws:username':'bob'}}", "aws:username=alice", false},
	{"string_equals_case_sensitive", "{'StringEquals':{'aws:username':'Alice'}}", "aws:username=alice", false},
	{"string_equals_values_or", "{'StringEquals':{'aws:username':['bob','alice']}}", "aws:username=alice", true},
	{"string_equals_missing_key", "{'StringEquals':{'aws:username':'alice'}}", NULL, false},
	{"string_equals_key_name_case", "{'StringEquals':{'AWS:USERNAME':'alice'}}", "aws:username=alice", true},
	{"string_equals_number_value", "{'StringEquals':{'ecr:count':5}}", "ecr:count=5", true},
	{"string_not_equals_differs", "{'StringNotEquals':{'aws:username':'bob'}}", "aws:username=alice", true},
	{"string_not_equals_same", "{'StringNotEquals':{'aws:username':'alice'}}", "aws:username=alice", false},
	{"string_not_equals_values_nor", "{'StringNotEquals':{'aws:username':['bob','alice']}}", "aws:username=alice",
	 false},
	{"string_not_equals_missing_key", "{'StringNotEquals':{'aws:username':'alice'}}", NULL, true},
	{"string_equals_ignore_case", "{'StringEqualsIgnoreCase':{'aws:username':'ALICE'}}", "aws:username=alice", true},
	{"string_equals_ignore_case_mismatch", "{'StringEqualsIgnoreCase':{'aws:username':'ALICIA'}}",
	 "aws:username=alice", false},
	{"string_not_equals_ignore_case", "{'StringNotEqualsIgnoreCase':{'aws:username':'ALICE'}}", "aws:username=alice",
	 false},
	{"string_not_equals_ignore_case_differs", "{'StringNotEqualsIgnoreCase':{'aws:username':'BOB'}}",
	 "aws:username=alice", true},
	{"string_like_star", "{'StringLike':{'aws:username':'ali*'}}", "aws:username=alice", true},
	{"string_like_question", "{'StringLike':{'aws:username':'a?ice'}}", "aws:username=alice", true},
	{"string_like_question_one_char", "{'StringLike':{'aws:username':'a?ce'}}", "aws:username=alice", false},
	{"string_like_mismatch", "{'StringLike':{'aws:username':'b*'}}", "aws:username=alice", false},
	{"string_like_case_sensitive", "{'StringLike':{'aws:username':'A*'}}", "aws:username=alice", false},
	{"string_like_utf8_question", "{'StringLike':{'aws:PrincipalTag/city':'M?nchen'}}",
	 "aws:PrincipalTag/city=M\xc3\xbcnchen", true},
	{"string_not_like_mismatch", "{'StringNotLike':{'aws:username':'b*'}}", "aws:username=alice", true},
	{"string_not_like_match", "{'StringNotLike':{'aws:username':'a*'}}", "aws:username=alice", false},
	{"string_not_like_missing_key", "{'StringNotLike':{'aws:username':'a*'}}", NULL, true},
	/* Numeric operators. */
	{"numeric_equals", "{'NumericEquals':{'ecr:n':'10'}}", "ecr:n=10", true},
	{"numeric_equals_decimal", "{'NumericEquals':{'ecr:n':10}}", "ecr:n=10.0", true},
	{"numeric_equals_mismatch", "{'NumericEquals':{'ecr:n':'10'}}", "ecr:n=11", false},
	{"numeric_equals_not_a_number", "{'NumericEquals':{'ecr:n':'10'}}", "ecr:n=ten", false},
	{"numeric_not_equals", "{'NumericNotEquals':{'ecr:n':'10'}}", "ecr:n=11", true},
	{"numeric_not_equals_same", "{'NumericNotEquals':{'ecr:n':'10'}}", "ecr:n=10", false},
	{"numeric_not_equals_missing_key", "{'NumericNotEquals':{'ecr:n':'10'}}", NULL, true},
	{"numeric_less_than", "{'NumericLessThan':{'ecr:n':'10'}}", "ecr:n=9.5", true},
	{"numeric_less_than_equal_value", "{'NumericLessThan':{'ecr:n':'10'}}", "ecr:n=10", false},
	{"numeric_less_than_equals", "{'NumericLessThanEquals':{'ecr:n':'10'}}", "ecr:n=10", true},
	{"numeric_less_than_equals_above", "{'NumericLessThanEquals':{'ecr:n':'10'}}", "ecr:n=11", false},
	{"numeric_greater_than", "{'NumericGreaterThan':{'ecr:n':'10'}}", "ecr:n=11", true},
	{"numeric_greater_than_equal_value", "{'NumericGreaterThan':{'ecr:n':'10'}}", "ecr:n=10", false},
	{"numeric_greater_than_equals", "{'NumericGreaterThanEquals':{'ecr:n':-1.5}}", "ecr:n=-1.5", true},
	{"numeric_greater_than_equals_below", "{'NumericGreaterThanEquals':{'ecr:n':'10'}}", "ecr:n=9", false},
	{"numeric_missing_key", "{'NumericLessThan':{'ecr:n':'10'}}", NULL, false},
	/* Date operators. */
	{"date_greater_than", "{'DateGreaterThan':{'aws:CurrentTime':'2024-01-01T00:00:00Z'}}",
	 "aws:CurrentTime=2024-06-01T12:00:00Z", true},
	{"date_greater_than_earlier", "{'DateGreaterThan':{'aws:CurrentTime':'2024-01-01T00:00:00Z'}}",
	 "aws:CurrentTime=2023-12-31T23:59:59Z", false},
	{"date_less_than", "{'DateLessThan':{'aws:CurrentTime':'2024-01-01T00:00:00Z'}}",
	 "aws:CurrentTime=2023-12-31T23:59:59Z", true},
	{"date_less_than_later", "{'DateLessThan':{'aws:CurrentTime':'2024-01-01'}}",
	 "aws:CurrentTime=2024-06-01T12:00:00Z", false},
	{"date_equals_epoch_and_iso", "{'DateEquals':{'aws:CurrentTime':'1704067200'}}",
	 "aws:CurrentTime=2024-01-01T00:00:00Z", true},
	{"date_equals_offset", "{'DateEquals':{'aws:CurrentTime':'2024-01-01T02:00:00+02:00'}}",
	 "aws:CurrentTime=2024-01-01T00:00:00Z", true},
	{"date_month_is_first_day", "{'DateEquals':{'aws:CurrentTime':'2024-02'}}",
	 "aws:CurrentTime=2024-02-01T00:00:00Z", true},
	{"date_leap_day", "{'DateLessThan':{'aws:CurrentTime':'2024-02-29T23:59:59-01:00'}}",
	 "aws:CurrentTime=2024-03-01T00:00:00Z", true},
	{"date_equals_day_is_midnight", "{'DateEquals':{'aws:CurrentTime':'2024-01-01'}}",
	 "aws:CurrentTime=2024-01-01T00:00:00Z", true},
	{"date_not_equals_same", "{'DateNotEquals':{'aws:EpochTime':'2024-01-01T00:00:00Z'}}",
	 "aws:EpochTime=1704067200", false},
	{"date_not_equals_differs", "{'DateNotEquals':{'aws:EpochTime':'2024-01-01T00:00:00Z'}}",
	 "aws:EpochTime=1704067201", true},
	{"date_less_than_equals", "{'DateLessThanEquals':{'aws:CurrentTime':'2024-01-01T00:00:00Z'}}",
	 "aws:CurrentTime=2024-01-01T00:00:00Z", true},
	{"date_greater_than_equals", "{'DateGreaterThanEquals':{'aws:CurrentTime':'2024-01-01T00:00:00Z'}}",
	 "aws:CurrentTime=2023-12-31T00:00:00Z", false},
	{"date_fractional_seconds", "{'DateGreaterThan':{'aws:CurrentTime':'2024-01-01T00:00:00Z'}}",
	 "aws:CurrentTime=2024-01-01T00:00:00.500Z", true},
	{"date_request_not_a_date", "{'DateGreaterThan':{'aws:CurrentTime':'2024-01-01T00:00:00Z'}}",
	 "aws:CurrentTime=yesterday", false},
	/* Bool and BinaryEquals. */
	{"bool_true", "{'Bool':{'aws:SecureTransport':'true'}}", "aws:SecureTransport=true", true},
	{"bool_json_true", "{'Bool':{'aws:SecureTransport':true}}", "aws:SecureTransport=true", true},
	{"bool_mismatch", "{'Bool':{'aws:SecureTransport':'true'}}", "aws:SecureTransport=false", false},
	{"bool_case_insensitive", "{'Bool':{'aws:SecureTransport':'TRUE'}}", "aws:SecureTransport=true", true},
	{"bool_missing_key", "{'Bool':{'aws:SecureTransport':'false'}}", NULL, false},
	{"binary_equals", "{'BinaryEquals':{'ecr:blob':'QmluYXJ5'}}", "ecr:blob=QmluYXJ5", true},
	{"binary_equals_padding", "{'BinaryEquals':{'ecr:blob':'QQ=='}}", "ecr:blob=QQ", true},
	{"binary_equals_mismatch", "{'BinaryEquals':{'ecr:blob':'QmluYXJ5'}}", "ecr:blob=QmluYXJ6", false},
	/* IP address operators. */
	{"ip_in_cidr", "{'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}", "aws:SourceIp=203.0.113.5", true},
	{"ip_outside_cidr", "{'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}", "aws:SourceIp=198.51.100.1", false},
	{"ip_plain_address", "{'IpAddress':{'aws:SourceIp':'203.0.113.5'}}", "aws:SourceIp=203.0.113.5", true},
	{"ip_plain_address_other", "{'IpAddress':{'aws:SourceIp':'203.0.113.5'}}", "aws:SourceIp=203.0.113.6", false},
	{"ip_cidr_odd_prefix", "{'IpAddress':{'aws:SourceIp':'10.0.0.0/9'}}", "aws:SourceIp=10.127.255.255", true},
	{"ip_cidr_odd_prefix_outside", "{'IpAddress':{'aws:SourceIp':'10.0.0.0/9'}}", "aws:SourceIp=10.128.0.0",
	 false},
	{"ip_v6_cidr", "{'IpAddress':{'aws:SourceIp':'2001:DB8::/32'}}", "aws:SourceIp=2001:db8::1", true},
	{"ip_v6_outside", "{'IpAddress':{'aws:SourceIp':'2001:db8::/32'}}", "aws:SourceIp=2001:db9::1", false},
	{"ip_v4_mapped", "{'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}", "aws:SourceIp=::ffff:203.0.113.5", true},
	{"ip_v4_against_v6", "{'IpAddress':{'aws:SourceIp':'::/0'}}", "aws:SourceIp=203.0.113.5", false},
	{"ip_any_of_several", "{'IpAddress':{'aws:SourceIp':['10.0.0.0/8','203.0.113.0/24']}}",
	 "aws:SourceIp=203.0.113.5", true},
	{"ip_request_not_an_address", "{'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}", "aws:SourceIp=localhost", false},
	{"not_ip_outside", "{'NotIpAddress':{'aws:SourceIp':'203.0.113.0/24'}}", "aws:SourceIp=198.51.100.1", true},
	{"not_ip_inside", "{'NotIpAddress':{'aws:SourceIp':'203.0.113.0/24'}}", "aws:SourceIp=203.0.113.1", false},
	{"not_ip_missing_key", "{'NotIpAddress':{'aws:SourceIp':'203.0.113.0/24'}}", NULL, true},
	/* ARN operators. */
	{"arn_like", "{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::" ACCOUNT_A ":user/*'}}",
	 "aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", true},
	{"arn_equals_with_wildcards", "{'ArnEquals':{'aws:PrincipalArn':'arn:aws:iam::*:user/al?ce'}}",
	 "aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", true},
	{"arn_like_other_account", "{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::" ACCOUNT_B ":user/*'}}",
	 "aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", false},
	{"arn_like_wildcard_stays_in_component", "{'ArnLike':{'aws:PrincipalArn':'arn:*:user/alice'}}",
	 "aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", false},
	{"string_like_wildcard_spans_colons", "{'StringLike':{'aws:PrincipalArn':'arn:*:user/alice'}}",
	 "aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", true},
	{"arn_like_resource_part_with_colons", "{'ArnLike':{'aws:SourceArn':'arn:aws:logs:*:*:log-group:app:*'}}",
	 "aws:SourceArn=arn:aws:logs:us-east-1:" ACCOUNT_A ":log-group:app:stream", true},
	/* IAM's own example of ArnLike and StringLike disagreeing. */
	{"arn_like_iam_example_fails", "{'ArnLike':{'aws:SourceArn':'arn:aws:someservice:*:111122223333:finance/*'}}",
	 "aws:SourceArn=arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", false},
	{"string_like_iam_example_matches",
	 "{'StringLike':{'aws:SourceArn':'arn:aws:someservice:*:111122223333:finance/*'}}",
	 "aws:SourceArn=arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", true},
	{"arn_like_request_not_an_arn", "{'ArnLike':{'aws:PrincipalArn':'*'}}", "aws:PrincipalArn=alice", false},
	{"arn_like_star_any_arn", "{'ArnLike':{'aws:PrincipalArn':'*'}}",
	 "aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", true},
	{"arn_not_like_mismatch", "{'ArnNotLike':{'aws:PrincipalArn':'arn:aws:iam::*:role/*'}}",
	 "aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", true},
	{"arn_not_like_match", "{'ArnNotLike':{'aws:PrincipalArn':'arn:aws:iam::*:user/*'}}",
	 "aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", false},
	{"arn_not_equals_match", "{'ArnNotEquals':{'aws:PrincipalArn':'arn:aws:iam::" ACCOUNT_A ":user/alice'}}",
	 "aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", false},
	{"arn_not_equals_missing_key", "{'ArnNotEquals':{'aws:PrincipalArn':'arn:aws:iam::*:user/alice'}}", NULL, true},
	{"arn_like_missing_key", "{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::*:user/alice'}}", NULL, false},
	/* Null. */
	{"null_true_key_missing", "{'Null':{'aws:TokenIssueTime':'true'}}", NULL, true},
	{"null_true_key_present", "{'Null':{'aws:TokenIssueTime':'true'}}", "aws:TokenIssueTime=2024-01-01", false},
	{"null_false_key_present", "{'Null':{'aws:TokenIssueTime':false}}", "aws:TokenIssueTime=2024-01-01", true},
	{"null_false_key_missing", "{'Null':{'aws:TokenIssueTime':'false'}}", NULL, false},
	{"null_true_key_without_values", "{'Null':{'aws:TagKeys':'true'}}", "aws:TagKeys", true},
	/* IfExists. */
	{"if_exists_missing_key", "{'StringEqualsIfExists':{'aws:username':'alice'}}", NULL, true},
	{"if_exists_match", "{'StringEqualsIfExists':{'aws:username':'alice'}}", "aws:username=alice", true},
	{"if_exists_mismatch", "{'StringEqualsIfExists':{'aws:username':'alice'}}", "aws:username=bob", false},
	{"if_exists_numeric_missing", "{'NumericLessThanIfExists':{'ecr:n':'3'}}", NULL, true},
	{"if_exists_numeric_present", "{'NumericLessThanIfExists':{'ecr:n':'3'}}", "ecr:n=5", false},
	{"if_exists_negated_present", "{'StringNotLikeIfExists':{'aws:username':'a*'}}", "aws:username=alice", false},
	{"if_exists_ip_missing", "{'IpAddressIfExists':{'aws:SourceIp':'10.0.0.0/8'}}", NULL, true},
	/* Set operators on multi-valued keys. */
	{"for_all_values_subset", "{'ForAllValues:StringEquals':{'aws:TagKeys':['env','team']}}", "aws:TagKeys=env",
	 true},
	{"for_all_values_all_listed", "{'ForAllValues:StringEquals':{'aws:TagKeys':['env','team']}}",
	 "aws:TagKeys=team|env", true},
	{"for_all_values_extra_value", "{'ForAllValues:StringEquals':{'aws:TagKeys':['env','team']}}",
	 "aws:TagKeys=env|cost", false},
	{"for_all_values_missing_key", "{'ForAllValues:StringEquals':{'aws:TagKeys':['env']}}", NULL, true},
	{"for_all_values_empty_key", "{'ForAllValues:StringEquals':{'aws:TagKeys':['env']}}", "aws:TagKeys", true},
	{"for_all_values_not_like", "{'ForAllValues:StringNotLike':{'aws:TagKeys':'secret*'}}", "aws:TagKeys=a|b", true},
	{"for_all_values_not_like_hit", "{'ForAllValues:StringNotLike':{'aws:TagKeys':'secret*'}}",
	 "aws:TagKeys=a|secret1", false},
	{"for_any_value_one_matches", "{'ForAnyValue:StringEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys=cost|env",
	 true},
	{"for_any_value_none_match", "{'ForAnyValue:StringEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys=cost|team",
	 false},
	{"for_any_value_missing_key", "{'ForAnyValue:StringEquals':{'aws:TagKeys':'env'}}", NULL, false},
	{"for_any_value_empty_key", "{'ForAnyValue:StringEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys", false},
	{"for_any_value_like", "{'ForAnyValue:StringLike':{'aws:TagKeys':'team-*'}}", "aws:TagKeys=x|team-a", true},
	{"for_any_value_not_equals", "{'ForAnyValue:StringNotEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys=env|cost",
	 true},
	{"for_any_value_not_equals_all_listed", "{'ForAnyValue:StringNotEquals':{'aws:TagKeys':'env'}}",
	 "aws:TagKeys=env", false},
	{"for_any_value_negated_missing_key", "{'ForAnyValue:StringNotEquals':{'aws:TagKeys':'env'}}", NULL, false},
	{"for_all_values_if_exists_missing", "{'ForAllValues:StringEqualsIfExists':{'aws:TagKeys':'env'}}", NULL, true},
	{"for_any_value_if_exists_missing", "{'ForAnyValue:StringEqualsIfExists':{'aws:TagKeys':'env'}}", NULL, true},
	{"for_any_value_numeric", "{'ForAnyValue:NumericGreaterThan':{'ecr:sizes':'100'}}", "ecr:sizes=5|500", true},
	{"plain_operator_multi_valued_any", "{'StringEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys=cost|env", true},
	{"plain_negated_multi_valued_none", "{'StringNotEquals':{'aws:TagKeys':'env'}}", "aws:TagKeys=cost|env", false},
	/* Several operators and keys are ANDed. */
	{"and_operators_both_hold",
	 "{'StringEquals':{'aws:username':'alice'},'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}",
	 "aws:username=alice;aws:SourceIp=10.1.2.3", true},
	{"and_operators_one_fails",
	 "{'StringEquals':{'aws:username':'alice'},'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}",
	 "aws:username=alice;aws:SourceIp=11.1.2.3", false},
	{"and_keys_one_fails", "{'StringEquals':{'aws:username':'alice','aws:PrincipalTag/team':'a'}}",
	 "aws:username=alice;aws:PrincipalTag/team=b", false},
	{"and_keys_both_hold", "{'StringEquals':{'aws:username':'alice','aws:PrincipalTag/team':'a'}}",
	 "aws:username=alice;aws:PrincipalTag/team=a", true},
	{"empty_condition_block", "{}", NULL, true},
	{"operator_without_keys", "{'StringEquals':{}}", NULL, true},
	/* Policy variables in condition values. */
	{"variable_in_string_equals", "{'StringEquals':{'aws:ResourceTag/owner':'${aws:username}'}}",
	 "aws:username=alice;aws:ResourceTag/owner=alice", true},
	{"variable_in_string_equals_other", "{'StringEquals':{'aws:ResourceTag/owner':'${aws:username}'}}",
	 "aws:username=alice;aws:ResourceTag/owner=bob", false},
	{"variable_unresolved", "{'StringEquals':{'aws:ResourceTag/owner':'${aws:username}'}}",
	 "aws:ResourceTag/owner=alice", false},
	{"variable_unresolved_negated", "{'StringNotEquals':{'aws:ResourceTag/owner':'${aws:username}'}}",
	 "aws:ResourceTag/owner=alice", true},
	{"variable_principal_tag", "{'StringEquals':{'aws:ResourceTag/team':'${aws:PrincipalTag/team}'}}",
	 "aws:PrincipalTag/team=a;aws:ResourceTag/team=a", true},
	{"variable_default_used", "{'StringEquals':{'aws:ResourceTag/team':'${aws:PrincipalTag/team, \\u0027none\\u0027}'}}",
	 "aws:ResourceTag/team=none", true},
	{"variable_default_not_used", "{'StringEquals':{'aws:ResourceTag/team':'${aws:PrincipalTag/team,\\u0027none\\u0027}'}}",
	 "aws:PrincipalTag/team=a;aws:ResourceTag/team=none", false},
	{"variable_userid_in_like", "{'StringLike':{'ecr:tag':'${aws:userid}-*'}}", "aws:userid=AIDAX;ecr:tag=AIDAX-1", true},
	{"variable_value_literal_in_like", "{'StringLike':{'ecr:tag':'${aws:PrincipalTag/prefix}'}}",
	 "aws:PrincipalTag/prefix=a*;ecr:tag=abc", false},
	{"variable_value_literal_star_matches", "{'StringLike':{'ecr:tag':'${aws:PrincipalTag/prefix}'}}",
	 "aws:PrincipalTag/prefix=a*;ecr:tag=a*", true},
	{"variable_dollar", "{'StringEquals':{'ecr:tag':'cost${$}'}}", "ecr:tag=cost$", true},
	{"variable_question_literal", "{'StringLike':{'ecr:tag':'a${?}'}}", "ecr:tag=a?", true},
	{"variable_question_not_wildcard", "{'StringLike':{'ecr:tag':'a${?}'}}", "ecr:tag=ab", false},
	{"variable_star_in_equals", "{'StringEquals':{'ecr:tag':'a${*}'}}", "ecr:tag=a*", true},
	{"variable_in_arn_like", "{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::${aws:PrincipalAccount}:user/*'}}",
	 "aws:PrincipalAccount=" ACCOUNT_A ";aws:PrincipalArn=arn:aws:iam::" ACCOUNT_A ":user/alice", true},
	{"variable_in_bool", "{'Bool':{'aws:SecureTransport':'${ecr:expected}'}}",
	 "ecr:expected=true;aws:SecureTransport=true", true},
	{"backslash_is_literal_with_variables", "{'StringLike':{'ecr:tag':'a\\\\\\\\*${aws:username}'}}",
	 "aws:username=x;ecr:tag=a\\\\zzx", true},
};

static void test_condition_cases(void)
{
	for (size_t i = 0; i < sizeof(condition_cases) / sizeof(condition_cases[0]); i++) {
		const struct condition_case *c = &condition_cases[i];
		char text[2048];
		struct policy *p;
		struct policy_decision d;
		struct policy_request req;
		struct key_store ks;

		snprintf(text, sizeof(text),
			 "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'ecr:*','Resource':'*',"
			 "'Condition':%s}]}",
			 c->condition);
		p = parse_or_report(text, POLICY_KIND_IDENTITY, "condition policy");
		CHECK(p != NULL);
		if (p == NULL)
			continue;
		request_init(&req, ALICE, NULL, NULL, &ks, c->keys);
		CHECK(policy_evaluate(&(struct policy_set){&p, 1, NULL}, &req, &d) == LCR_OK);
		if ((d.result == POLICY_ALLOW) != c->expected)
			fprintf(stderr, "case %s: condition %s, expected %s\n", c->name,
				d.result == POLICY_ALLOW ? "held" : "failed", c->expected ? "to hold" : "to fail");
		CHECK((d.result == POLICY_ALLOW) == c->expected);
		CHECK(d.nmatches == (c->expected ? 1u : 0u));
		policy_decision_release(&d);
		policy_free(p);
	}
}

/* An invalid document and a substring of the expected error. */
struct parse_error_case {
	const char *name;
	enum policy_kind kind;
	const char *text;
	const char *expected;
};

#define IDENTITY POLICY_KIND_IDENTITY
#define RESOURCE POLICY_KIND_RESOURCE
#define STATEMENT_WITH_CONDITION(condition) \
	"{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'ecr:*','Resource':'*','Condition':" \
	condition "}]}"

static const struct parse_error_case parse_error_cases[] = {
	{"not_json", IDENTITY, "{'Statement':", "Policy: not valid JSON"},
	{"not_object", IDENTITY, "['Statement']", "Policy: must be a JSON object"},
	{"duplicate_keys", IDENTITY,
	 "{'Version':'2012-10-17','Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}",
	 "duplicate object key"},
	{"duplicate_statement_keys", IDENTITY,
	 "{'Statement':{'Effect':'Allow','Effect':'Deny','Action':'*','Resource':'*'}}", "duplicate object key"},
	{"unknown_top_level", IDENTITY, "{'Statement':{'Effect':'Allow','Action':'*','Resource':'*'},'Foo':1}",
	 "Policy: unknown element 'Foo'"},
	{"bad_version", IDENTITY, "{'Version':'2012-10-18','Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}",
	 "Version: must be \"2012-10-17\" or \"2008-10-17\""},
	{"version_not_string", IDENTITY, "{'Version':2012,'Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}",
	 "Version: must be"},
	{"id_not_string", IDENTITY, "{'Id':7,'Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}",
	 "Id: must be a string"},
	{"statement_missing", IDENTITY, "{'Version':'2012-10-17'}", "Statement: is required"},
	{"statement_empty", IDENTITY, "{'Statement':[]}", "Statement: must contain at least one statement"},
	{"statement_string", IDENTITY, "{'Statement':'Allow'}", "Statement: must be an object or an array of objects"},
	{"statement_item_not_object", IDENTITY,
	 "{'Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},'x']}", "Statement[1]: must be an object"},
	{"unknown_statement_element", IDENTITY,
	 "{'Statement':[{'Effect':'Allow','Action':'*','Resource':'*','Condtion':{}}]}",
	 "Statement[0]: unknown element 'Condtion'"},
	{"effect_invalid", IDENTITY, "{'Statement':[{'Effect':'Permit','Action':'*','Resource':'*'}]}",
	 "Statement[0].Effect: must be \"Allow\" or \"Deny\""},
	{"effect_lower_case", IDENTITY, "{'Statement':[{'Effect':'allow','Action':'*','Resource':'*'}]}",
	 "Statement[0].Effect: must be \"Allow\" or \"Deny\", not 'allow'"},
	{"effect_missing", IDENTITY, "{'Statement':[{'Action':'*','Resource':'*'}]}",
	 "Statement[0].Effect: is required"},
	{"effect_in_object_statement", IDENTITY, "{'Statement':{'Effect':1,'Action':'*','Resource':'*'}}",
	 "Statement.Effect: must be"},
	{"sid_not_string", IDENTITY, "{'Statement':[{'Sid':1,'Effect':'Allow','Action':'*','Resource':'*'}]}",
	 "Statement[0].Sid: must be a string"},
	{"action_missing", IDENTITY, "{'Statement':[{'Effect':'Allow','Resource':'*'}]}",
	 "Statement[0]: exactly one of Action or NotAction is required"},
	{"action_and_not_action", IDENTITY,
	 "{'Statement':[{'Effect':'Allow','Action':'*','NotAction':'ecr:*','Resource':'*'}]}",
	 "Statement[0]: must not have both Action and NotAction"},
	{"action_without_service", IDENTITY, "{'Statement':[{'Effect':'Allow','Action':'PutImage','Resource':'*'}]}",
	 "Statement[0].Action: 'PutImage' is not a valid action"},
	{"action_item_invalid", IDENTITY,
	 "{'Statement':[{'Effect':'Allow','Action':['ecr:PutImage','ecr:'],'Resource':'*'}]}",
	 "Statement[0].Action[1]: 'ecr:' is not a valid action"},
	{"action_bad_character", IDENTITY,
	 "{'Statement':[{'Effect':'Allow','Action':'ecr:Put Image','Resource':'*'}]}", "is not a valid action"},
	{"action_empty_array", IDENTITY, "{'Statement':[{'Effect':'Allow','Action':[],'Resource':'*'}]}",
	 "Statement[0].Action: must not be an empty array"},
	{"action_number", IDENTITY, "{'Statement':[{'Effect':'Allow','Action':5,'Resource':'*'}]}",
	 "Statement[0].Action: must be a string or an array of strings"},
	{"action_item_number", IDENTITY, "{'Statement':[{'Effect':'Allow','Action':[5],'Resource':'*'}]}",
	 "Statement[0].Action[0]: must be a string"},
	{"not_action_invalid", IDENTITY, "{'Statement':[{'Effect':'Allow','NotAction':'x','Resource':'*'}]}",
	 "Statement[0].NotAction: 'x' is not a valid action"},
	{"identity_resource_missing", IDENTITY, "{'Statement':[{'Effect':'Allow','Action':'*'}]}",
	 "Statement[0]: Resource or NotResource is required in an identity-based policy"},
	{"resource_and_not_resource", IDENTITY,
	 "{'Statement':[{'Effect':'Allow','Action':'*','Resource':'*','NotResource':'*'}]}",
	 "Statement[0]: must not have both Resource and NotResource"},
	{"resource_not_arn", IDENTITY, "{'Statement':[{'Effect':'Allow','Action':'*','Resource':'my-repo'}]}",
	 "Statement[0].Resource: 'my-repo' is not \"*\" or an ARN"},
	{"resource_short_arn", IDENTITY, "{'Statement':[{'Effect':'Allow','Action':'*','Resource':['*','arn:aws:ecr']}]}",
	 "Statement[0].Resource[1]: 'arn:aws:ecr' is not"},
	{"not_resource_empty", IDENTITY, "{'Statement':[{'Effect':'Allow','Action':'*','NotResource':[]}]}",
	 "Statement[0].NotResource: must not be an empty array"},
	{"resource_unterminated_variable", IDENTITY,
	 "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*',"
	 "'Resource':'arn:aws:ecr:*:*:repository/${aws:username'}]}",
	 "Statement[0].Resource: 'arn:aws:ecr:*:*:repository/${aws:username': unterminated policy variable"},
	{"resource_empty_variable", IDENTITY,
	 "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'arn:aws:ecr:*:*:x/${}'}]}",
	 "empty policy variable name"},
	{"resource_default_unquoted", IDENTITY,
	 "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*',"
	 "'Resource':'arn:aws:ecr:*:*:x/${aws:username, shared}'}]}",
	 "the default value of a policy variable must be in single quotes"},
	{"identity_with_principal", IDENTITY,
	 "{'Statement':[{'Effect':'Allow','Principal':'*','Action':'*','Resource':'*'}]}",
	 "Statement[0].Principal: is not allowed in an identity-based policy"},
	{"identity_with_not_principal", IDENTITY,
	 "{'Statement':[{'Effect':'Deny','NotPrincipal':{'AWS':'" ACCOUNT_A "'},'Action':'*','Resource':'*'}]}",
	 "Statement[0].NotPrincipal: is not allowed in an identity-based policy"},
	{"resource_without_principal", RESOURCE, "{'Statement':[{'Effect':'Allow','Action':'ecr:*'}]}",
	 "Statement[0]: Principal or NotPrincipal is required in a resource-based policy"},
	{"trust_without_principal", POLICY_KIND_TRUST, "{'Statement':[{'Effect':'Allow','Action':'sts:AssumeRole'}]}",
	 "Statement[0]: Principal is required in a trust policy"},
	{"trust_with_not_principal", POLICY_KIND_TRUST,
	 "{'Statement':[{'Effect':'Deny','NotPrincipal':{'AWS':'" ACCOUNT_A "'},'Action':'sts:AssumeRole'}]}",
	 "Statement[0].NotPrincipal: is not allowed in a trust policy"},
	{"principal_and_not_principal", RESOURCE,
	 "{'Statement':[{'Effect':'Deny','Principal':'*','NotPrincipal':'*','Action':'ecr:*'}]}",
	 "Statement[0]: must not have both Principal and NotPrincipal"},
	{"not_principal_with_allow", RESOURCE,
	 "{'Statement':[{'Effect':'Allow','NotPrincipal':{'AWS':'" ACCOUNT_A "'},'Action':'ecr:*'}]}",
	 "Statement[0].NotPrincipal: is only valid with \"Effect\": \"Deny\""},
	{"principal_string_not_star", RESOURCE, "{'Statement':[{'Effect':'Allow','Principal':'alice','Action':'ecr:*'}]}",
	 "Statement[0].Principal: must be \"*\" or an object"},
	{"principal_empty_object", RESOURCE, "{'Statement':[{'Effect':'Allow','Principal':{},'Action':'ecr:*'}]}",
	 "Statement[0].Principal: must be \"*\" or a non-empty object"},
	{"principal_unknown_type", RESOURCE,
	 "{'Statement':[{'Effect':'Allow','Principal':{'User':'alice'},'Action':'ecr:*'}]}",
	 "Statement[0].Principal: unknown principal type 'User'"},
	{"principal_short_account", RESOURCE,
	 "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'1234'},'Action':'ecr:*'}]}",
	 "Statement[0].Principal.AWS: '1234' is not a valid AWS principal"},
	{"principal_wildcard_arn", RESOURCE,
	 "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" ACCOUNT_A ":user/*'},'Action':'ecr:*'}]}",
	 "is not a valid AWS principal"},
	{"principal_group_arn", RESOURCE,
	 "{'Statement':[{'Effect':'Allow','Principal':{'AWS':['" ACCOUNT_A "','arn:aws:iam::" ACCOUNT_A
	 ":group/devs']},'Action':'ecr:*'}]}",
	 "Statement[0].Principal.AWS[1]: 'arn:aws:iam::" ACCOUNT_A ":group/devs' is not a valid AWS principal"},
	{"principal_session_without_name", RESOURCE,
	 "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'arn:aws:sts::" ACCOUNT_A ":assumed-role/deploy'},"
	 "'Action':'ecr:*'}]}",
	 "is not a valid AWS principal"},
	{"principal_empty_service", RESOURCE,
	 "{'Statement':[{'Effect':'Allow','Principal':{'Service':''},'Action':'ecr:*'}]}",
	 "Statement[0].Principal.Service: must not be empty"},
	{"principal_aws_empty_array", RESOURCE, "{'Statement':[{'Effect':'Allow','Principal':{'AWS':[]},'Action':'ecr:*'}]}",
	 "Statement[0].Principal.AWS: must not be an empty array"},
	{"condition_not_object", IDENTITY, STATEMENT_WITH_CONDITION("[]"),
	 "Statement[0].Condition: must be an object of condition operators"},
	{"condition_unknown_operator", IDENTITY, STATEMENT_WITH_CONDITION("{'StringEqualz':{'aws:username':'a'}}"),
	 "Statement[0].Condition: unknown operator 'StringEqualz'"},
	{"condition_unknown_operator_without_keys", IDENTITY, STATEMENT_WITH_CONDITION("{'StringEqualz':{}}"),
	 "Statement[0].Condition: unknown operator 'StringEqualz'"},
	{"condition_operator_case", IDENTITY, STATEMENT_WITH_CONDITION("{'stringequals':{'aws:username':'a'}}"),
	 "unknown operator 'stringequals'"},
	{"condition_if_exists_alone", IDENTITY, STATEMENT_WITH_CONDITION("{'IfExists':{'aws:username':'a'}}"),
	 "unknown operator 'IfExists'"},
	{"condition_bad_set_prefix", IDENTITY, STATEMENT_WITH_CONDITION("{'ForSomeValues:StringEquals':{'k':'a'}}"),
	 "unknown operator 'ForSomeValues:StringEquals'"},
	{"condition_null_if_exists", IDENTITY, STATEMENT_WITH_CONDITION("{'NullIfExists':{'aws:username':'true'}}"),
	 "Null takes neither the IfExists suffix nor a set prefix"},
	{"condition_null_with_set", IDENTITY, STATEMENT_WITH_CONDITION("{'ForAnyValue:Null':{'aws:TagKeys':'true'}}"),
	 "Null takes neither"},
	{"condition_block_not_object", IDENTITY, STATEMENT_WITH_CONDITION("{'StringEquals':'alice'}"),
	 "Statement[0].Condition.StringEquals: must be an object of condition keys"},
	{"condition_value_null", IDENTITY, STATEMENT_WITH_CONDITION("{'StringEquals':{'aws:username':null}}"),
	 "Statement[0].Condition.StringEquals.aws:username: must be a string, number or boolean"},
	{"condition_value_object", IDENTITY, STATEMENT_WITH_CONDITION("{'StringEquals':{'aws:username':{'a':1}}}"),
	 "must be a string, number or boolean"},
	{"condition_value_nested_array", IDENTITY, STATEMENT_WITH_CONDITION("{'StringEquals':{'aws:username':['a',['b']]}}"),
	 "Statement[0].Condition.StringEquals.aws:username[1]: must be a string, number or boolean"},
	{"condition_values_empty", IDENTITY, STATEMENT_WITH_CONDITION("{'StringEquals':{'aws:username':[]}}"),
	 "Statement[0].Condition.StringEquals.aws:username: must not be an empty array"},
	{"condition_key_empty", IDENTITY, STATEMENT_WITH_CONDITION("{'StringEquals':{'':'a'}}"),
	 "the condition key name must not be empty"},
	{"condition_numeric_not_number", IDENTITY, STATEMENT_WITH_CONDITION("{'NumericLessThan':{'ecr:n':'ten'}}"),
	 "Statement[0].Condition.NumericLessThan.ecr:n: 'ten' is not a number, as NumericLessThan requires"},
	{"condition_numeric_hex", IDENTITY, STATEMENT_WITH_CONDITION("{'NumericEquals':{'ecr:n':'0x10'}}"),
	 "'0x10' is not a number"},
	{"condition_numeric_variable", IDENTITY, STATEMENT_WITH_CONDITION("{'NumericEquals':{'ecr:n':'${ecr:m}'}}"),
	 "'${ecr:m}' is not a number"},
	{"condition_numeric_array_item", IDENTITY, STATEMENT_WITH_CONDITION("{'NumericEquals':{'ecr:n':['1','x']}}"),
	 "Statement[0].Condition.NumericEquals.ecr:n[1]: 'x' is not a number"},
	{"condition_date_invalid", IDENTITY, STATEMENT_WITH_CONDITION("{'DateLessThan':{'aws:CurrentTime':'tomorrow'}}"),
	 "'tomorrow' is not a date"},
	{"condition_date_bad_month", IDENTITY,
	 STATEMENT_WITH_CONDITION("{'DateLessThan':{'aws:CurrentTime':'2024-13-01T00:00:00Z'}}"), "is not a date"},
	{"condition_date_bad_day", IDENTITY,
	 STATEMENT_WITH_CONDITION("{'DateLessThan':{'aws:CurrentTime':'2023-02-29'}}"), "is not a date"},
	{"condition_date_bad_zone", IDENTITY,
	 STATEMENT_WITH_CONDITION("{'DateLessThan':{'aws:CurrentTime':'2024-01-01T00:00:00Q'}}"), "is not a date"},
	{"condition_bool_invalid", IDENTITY, STATEMENT_WITH_CONDITION("{'Bool':{'aws:SecureTransport':'yes'}}"),
	 "'yes' is not true or false, as Bool requires"},
	{"condition_binary_invalid", IDENTITY, STATEMENT_WITH_CONDITION("{'BinaryEquals':{'ecr:blob':'!!!!'}}"),
	 "'!!!!' is not valid base64"},
	{"condition_binary_bad_length", IDENTITY, STATEMENT_WITH_CONDITION("{'BinaryEquals':{'ecr:blob':'QUJDR'}}"),
	 "is not valid base64"},
	{"condition_ip_prefix_too_long", IDENTITY,
	 STATEMENT_WITH_CONDITION("{'IpAddress':{'aws:SourceIp':'10.0.0.0/33'}}"),
	 "'10.0.0.0/33' is not an IPv4 or IPv6 address or CIDR block"},
	{"condition_ip_not_address", IDENTITY, STATEMENT_WITH_CONDITION("{'NotIpAddress':{'aws:SourceIp':'intranet'}}"),
	 "is not an IPv4 or IPv6 address"},
	{"condition_null_invalid", IDENTITY, STATEMENT_WITH_CONDITION("{'Null':{'aws:TagKeys':'maybe'}}"),
	 "'maybe' is not true or false, as Null requires"},
	{"condition_variable_unterminated", IDENTITY,
	 STATEMENT_WITH_CONDITION("{'StringEquals':{'aws:ResourceTag/owner':'${aws:username'}}"),
	 "Statement[0].Condition.StringEquals.aws:ResourceTag/owner: unterminated policy variable"},
	{"condition_variable_default_unterminated", IDENTITY,
	 STATEMENT_WITH_CONDITION("{'StringEquals':{'k':'${aws:username, \\u0027x}'}}"),
	 "unterminated default value in a policy variable"},
};

static void test_parse_errors(void)
{
	for (size_t i = 0; i < sizeof(parse_error_cases) / sizeof(parse_error_cases[0]); i++) {
		const struct parse_error_case *c = &parse_error_cases[i];
		struct policy *p = (struct policy *)1;
		char *json = json_text(c->text);
		char err[768] = "";
		int status = policy_parse(json, strlen(json), c->kind, "invalid", &p, err, sizeof(err));

		if (status != LCR_ERR_INVALID_PARAMETER || strstr(err, c->expected) == NULL)
			fprintf(stderr, "case %s: status %d, error \"%s\", expected \"%s\"\n", c->name, status, err,
				c->expected);
		CHECK(status == LCR_ERR_INVALID_PARAMETER);
		CHECK(p == NULL);
		CHECK(strstr(err, c->expected) != NULL);
		free(json);
	}
}

/* Documents that must parse. */
static const struct {
	const char *name;
	enum policy_kind kind;
	const char *text;
} valid_documents[] = {
	{"statement_object_no_version", IDENTITY, "{'Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}"},
	{"version_2008_keeps_dollar_brace", IDENTITY,
	 "{'Version':'2008-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'arn:aws:ecr:*:*:x/${a'}}"},
	{"id_and_sids", RESOURCE,
	 "{'Version':'2012-10-17','Id':'policy-1','Statement':[{'Sid':'same','Effect':'Allow','Principal':'*',"
	 "'Action':'ecr:*'},{'Sid':'same','Effect':'Deny','Principal':'*','Action':'ecr:Delete*'}]}"},
	{"every_principal_form", RESOURCE,
	 "{'Statement':{'Effect':'Allow','Action':'ecr:*','Principal':{'AWS':['*','" ACCOUNT_A "',"
	 "'arn:aws:iam::" ACCOUNT_A ":root','arn:aws:iam::" ACCOUNT_A ":user/team/alice',"
	 "'arn:aws:iam::" ACCOUNT_A ":role/service-role/deploy','arn:aws:sts::" ACCOUNT_A ":assumed-role/deploy/s@1'],"
	 "'Service':'ecs.amazonaws.com','Federated':'cognito-identity.amazonaws.com',"
	 "'CanonicalUser':'79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'}}}"},
	{"resource_policy_with_resource", RESOURCE,
	 "{'Statement':{'Effect':'Allow','Principal':'*','Action':'ecr:*','Resource':'" REPO_ARN "'}}"},
	{"trust_policy", POLICY_KIND_TRUST,
	 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Principal':{'AWS':'" ACCOUNT_B "'},"
	 "'Action':['sts:AssumeRole','sts:TagSession']}}"},
	{"condition_scalar_types", IDENTITY,
	 STATEMENT_WITH_CONDITION("{'NumericLessThan':{'ecr:n':[1,2.5,'3']},'Bool':{'aws:SecureTransport':true},"
				  "'DateGreaterThan':{'aws:EpochTime':1700000000}}")},
	{"empty_condition", IDENTITY, STATEMENT_WITH_CONDITION("{}")},
	{"variables_in_condition", IDENTITY,
	 STATEMENT_WITH_CONDITION("{'StringLike':{'k':['${aws:username}','${*}${?}${$}','${a:b, \\u0027d e\\u0027}']}}")},
	{"action_wildcards", IDENTITY,
	 "{'Statement':{'Effect':'Allow','Action':['*','ecr:*','ecr:Batch*','ecr:?utImage','sts:AssumeRole'],"
	 "'Resource':'*'}}"},
};

static void test_valid_documents(void)
{
	for (size_t i = 0; i < sizeof(valid_documents) / sizeof(valid_documents[0]); i++) {
		struct policy *p = parse_or_report(valid_documents[i].text, valid_documents[i].kind, "valid");

		if (p == NULL)
			fprintf(stderr, "case %s: failed to parse\n", valid_documents[i].name);
		CHECK(p != NULL);
		policy_free(p);
	}
}

/* Every operator with a value of its type parses bare, with IfExists and
 * with both set prefixes (Null takes neither). */
static void test_every_operator_parses(void)
{
	static const struct {
		const char *op;
		const char *value;
	} ops[] = {
		{"StringEquals", "a"}, {"StringNotEquals", "a"}, {"StringEqualsIgnoreCase", "a"},
		{"StringNotEqualsIgnoreCase", "a"}, {"StringLike", "a*"}, {"StringNotLike", "a*"},
		{"NumericEquals", "1"}, {"NumericNotEquals", "1"}, {"NumericLessThan", "1"},
		{"NumericLessThanEquals", "1"}, {"NumericGreaterThan", "1"}, {"NumericGreaterThanEquals", "1"},
		{"DateEquals", "2024-01-01"}, {"DateNotEquals", "2024-01-01"}, {"DateLessThan", "2024-01-01"},
		{"DateLessThanEquals", "2024-01-01"}, {"DateGreaterThan", "2024-01-01"},
		{"DateGreaterThanEquals", "2024-01-01"}, {"Bool", "true"}, {"BinaryEquals", "QQ=="},
		{"IpAddress", "10.0.0.0/8"}, {"NotIpAddress", "::1"}, {"ArnEquals", "arn:aws:iam::*:root"},
		{"ArnLike", "arn:*:*:*:*:*"}, {"ArnNotEquals", "*"}, {"ArnNotLike", "*"},
	};
	static const char *const forms[] = {"%s", "%sIfExists", "ForAnyValue:%s", "ForAllValues:%s",
					    "ForAllValues:%sIfExists"};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
			char op[96], condition[256], text[512];
			struct policy *p;

			snprintf(op, sizeof(op), forms[f], ops[i].op);
			snprintf(condition, sizeof(condition), "{'%s':{'k':'%s'}}", op, ops[i].value);
			snprintf(text, sizeof(text), STATEMENT_WITH_CONDITION("%s"), condition);
			p = parse_or_report(text, IDENTITY, "operators");
			CHECK(p != NULL);
			policy_free(p);
		}
	}
	policy_free(parse_or_report(STATEMENT_WITH_CONDITION("{'Null':{'k':'true'}}"), IDENTITY, "null"));
}

static void test_text_limit(void)
{
	const char *small_policy = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}";
	size_t len = POLICY_TEXT_MAX + 1;
	char *text = malloc(len + 1);
	struct policy *p = NULL;
	char err[256] = "";

	memset(text, ' ', len);
	memcpy(text, small_policy, strlen(small_policy));
	text[len] = '\0';
	CHECK(policy_parse(text, len, IDENTITY, "big", &p, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(strstr(err, "more than the maximum of 65536") != NULL);
	CHECK(p == NULL);
	CHECK(policy_parse(text, POLICY_TEXT_MAX, IDENTITY, "at limit", &p, err, sizeof(err)) == LCR_OK);
	policy_free(p);
	free(text);
}

static void test_denial_messages(void)
{
	static const struct {
		enum policy_reason reason;
		const char *expected;
	} cases[] = {
		{POLICY_REASON_NO_IDENTITY_ALLOW,
		 "User: arn:aws:iam::" ACCOUNT_A ":user/alice is not authorized to perform: ecr:PutImage on resource: " REPO_ARN
		 " because no identity-based policy allows the ecr:PutImage action"},
		{POLICY_REASON_NO_RESOURCE_ALLOW,
		 "User: arn:aws:iam::" ACCOUNT_A ":user/alice is not authorized to perform: ecr:PutImage on resource: " REPO_ARN
		 " because no resource-based policy allows the ecr:PutImage action"},
		{POLICY_REASON_EXPLICIT_DENY_IDENTITY,
		 "User: arn:aws:iam::" ACCOUNT_A ":user/alice is not authorized to perform: ecr:PutImage on resource: " REPO_ARN
		 " with an explicit deny in an identity-based policy"},
		{POLICY_REASON_EXPLICIT_DENY_RESOURCE,
		 "User: arn:aws:iam::" ACCOUNT_A ":user/alice is not authorized to perform: ecr:PutImage on resource: " REPO_ARN
		 " with an explicit deny in a resource-based policy"},
		{POLICY_REASON_NONE,
		 "User: arn:aws:iam::" ACCOUNT_A ":user/alice is not authorized to perform: ecr:PutImage on resource: " REPO_ARN},
	};
	struct policy_request req;
	struct key_store ks;
	char message[512];

	request_init(&req, ALICE, NULL, NULL, &ks, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_decision d = {POLICY_IMPLICIT_DENY, cases[i].reason, NULL, 0};

		policy_denial_message(&d, &req, message, sizeof(message));
		CHECK_STR(message, cases[i].expected);
	}
	/* The session ARN of an assumed role is the "User" in the message. */
	request_init(&req, SESSION_DEPLOY, "ecr:DescribeRepositories", "*", &ks, NULL);
	{
		struct policy_decision d = {POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW, NULL, 0};

		policy_denial_message(&d, &req, message, sizeof(message));
		CHECK_STR(message, "User: arn:aws:sts::" ACCOUNT_A ":assumed-role/deploy/ci-run is not authorized to "
				   "perform: ecr:DescribeRepositories on resource: * because no identity-based policy "
				   "allows the ecr:DescribeRepositories action");
	}
	/* A short buffer gets a cut, terminated message. */
	{
		struct policy_decision d = {POLICY_IMPLICIT_DENY, POLICY_REASON_NO_IDENTITY_ALLOW, NULL, 0};
		char small[16];

		policy_denial_message(&d, &req, small, sizeof(small));
		CHECK_STR(small, "User: arn:aws:s");
	}
}

static void test_decision_matches(void)
{
	struct policy *identity = parse_or_report(
		"{'Version':'2012-10-17','Statement':[{'Sid':'ReadAll','Effect':'Allow','Action':'ecr:BatchGetImage',"
		"'Resource':'*'},{'Sid':'PushApp','Effect':'Allow','Action':'ecr:*','Resource':"
		"'arn:aws:ecr:*:*:repository/app-*','Condition':{'StringEquals':{'aws:PrincipalTag/team':'a'}}}]}",
		IDENTITY, "arn:aws:iam::" ACCOUNT_A ":policy/push");
	struct policy *resource = parse_or_report(
		"{'Version':'2012-10-17','Statement':[{'Effect':'Deny','NotPrincipal':{'AWS':'" ACCOUNT_B "'},"
		"'NotAction':'ecr:Describe*','Condition':{'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'},"
		"'ForAllValues:StringEquals':{'aws:TagKeys':'x'}}}]}",
		RESOURCE, "repository policy");
	struct policy_request req;
	struct policy_decision d;
	struct key_store ks;

	CHECK(identity != NULL);
	CHECK(resource != NULL);
	if (identity == NULL || resource == NULL)
		goto out;
	request_init(&req, ALICE, NULL, NULL, &ks, "aws:PrincipalTag/team=a;aws:SourceIp=192.0.2.1");
	CHECK(policy_evaluate(&(struct policy_set){&identity, 1, resource}, &req, &d) == LCR_OK);
	CHECK(d.result == POLICY_EXPLICIT_DENY);
	CHECK(d.reason == POLICY_REASON_EXPLICIT_DENY_RESOURCE);
	CHECK(d.nmatches == 2);
	if (d.nmatches == 2) {
		CHECK_STR(d.matches[0].policy, "arn:aws:iam::" ACCOUNT_A ":policy/push");
		CHECK(d.matches[0].statement == 1);
		CHECK_STR(d.matches[0].sid, "PushApp");
		CHECK(d.matches[0].allow);
		CHECK_STR(d.matches[0].why, "action ecr:PutImage matches 'ecr:*'; resource matches "
					    "'arn:aws:ecr:*:*:repository/app-*'; condition StringEquals "
					    "aws:PrincipalTag/team = 'a'");
		CHECK_STR(d.matches[1].policy, "repository policy");
		CHECK(d.matches[1].statement == 0);
		CHECK_STR(d.matches[1].sid, "");
		CHECK(!d.matches[1].allow);
		CHECK_STR(d.matches[1].why,
			  "action ecr:PutImage matches no NotAction entry; principal arn:aws:iam::" ACCOUNT_A
			  ":user/alice is not in NotPrincipal; condition NotIpAddress aws:SourceIp (request value "
			  "'192.0.2.1' matches none); condition ForAllValues:StringEquals aws:TagKeys (key absent)");
	}
	policy_decision_release(&d);
	CHECK(d.matches == NULL);
	CHECK(d.nmatches == 0);

	/* Without the condition key the allowing statement no longer matches. */
	request_init(&req, ALICE, "ecr:DescribeImages", NULL, &ks, NULL);
	CHECK(policy_evaluate(&(struct policy_set){&identity, 1, resource}, &req, &d) == LCR_OK);
	CHECK(d.result == POLICY_IMPLICIT_DENY);
	CHECK(d.nmatches == 0);
	policy_decision_release(&d);
out:
	policy_free(identity);
	policy_free(resource);
}

static void test_explanations(void)
{
	static const struct {
		const char *condition;
		const char *keys;
		const char *why;
	} cases[] = {
		{"{'Null':{'ecr:k':'true'}}", NULL, "condition Null ecr:k = 'true' (key absent)"},
		{"{'StringEqualsIfExists':{'ecr:k':'v'}}", NULL, "condition StringEqualsIfExists ecr:k (key absent)"},
		{"{'ForAllValues:StringLike':{'ecr:k':'a*'}}", "ecr:k=ab|ac",
		 "condition ForAllValues:StringLike ecr:k (all 2 request values match)"},
		{"{'ForAnyValue:StringEquals':{'ecr:k':['x','ac']}}", "ecr:k=ab|ac",
		 "condition ForAnyValue:StringEquals ecr:k = 'ac'"},
		{"{'StringEquals':{'ecr:k':'${aws:username}'}}", "aws:username=alice;ecr:k=alice",
		 "condition StringEquals ecr:k = '${aws:username}'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		struct policy *p;
		struct policy_request req;
		struct policy_decision d;
		struct key_store ks;

		snprintf(text, sizeof(text), STATEMENT_WITH_CONDITION("%s"), cases[i].condition);
		p = parse_or_report(text, IDENTITY, "explain");
		CHECK(p != NULL);
		if (p == NULL)
			continue;
		request_init(&req, ALICE, NULL, NULL, &ks, cases[i].keys);
		CHECK(policy_evaluate(&(struct policy_set){&p, 1, NULL}, &req, &d) == LCR_OK);
		CHECK(d.nmatches == 1);
		if (d.nmatches == 1) {
			const char *why = strstr(d.matches[0].why, "condition");

			CHECK_STR(why, cases[i].why);
		}
		policy_decision_release(&d);
		policy_free(p);
	}
}

static bool collect_principal(void *ctx, const char *principal)
{
	char *out = ctx;

	strcat(out, principal);
	strcat(out, ",");
	return true;
}

static void test_accessors(void)
{
	struct policy *resource = parse_or_report(
		"{'Statement':[{'Effect':'Allow','Principal':{'AWS':['*','" ACCOUNT_B "'],'Service':'ecs.amazonaws.com'},"
		"'Action':'ecr:*'},{'Effect':'Deny','NotPrincipal':{'AWS':'arn:aws:iam::" ACCOUNT_A ":user/alice'},"
		"'Action':'ecr:*'}]}",
		RESOURCE, "repository policy");
	struct policy *with_resource = parse_or_report(
		"{'Statement':[{'Effect':'Allow','Principal':'*','Action':'ecr:*'},"
		"{'Effect':'Allow','Principal':'*','Action':'ecr:*','NotResource':'" REPO_ARN "'}]}",
		RESOURCE, "with resource");
	char seen[256] = "";

	CHECK(resource != NULL);
	CHECK(with_resource != NULL);
	if (resource == NULL || with_resource == NULL)
		goto out;
	CHECK_STR(policy_name(resource), "repository policy");
	CHECK(!policy_has_resource_element(resource));
	CHECK(policy_has_resource_element(with_resource));
	policy_each_principal(resource, collect_principal, seen);
	CHECK_STR(seen, ACCOUNT_B ",arn:aws:iam::" ACCOUNT_A ":user/alice,");
out:
	policy_free(resource);
	policy_free(with_resource);
	policy_free(NULL);
}

static bool stop_after_first(void *ctx, const char *principal)
{
	int *calls = ctx;

	(void)principal;
	(*calls)++;
	return false;
}

static void test_each_principal_stops(void)
{
	struct policy *p = parse_or_report(
		"{'Statement':{'Effect':'Allow','Principal':{'AWS':['" ACCOUNT_A "','" ACCOUNT_B "']},'Action':'ecr:*'}}",
		RESOURCE, "two principals");
	int calls = 0;

	CHECK(p != NULL);
	if (p == NULL)
		return;
	policy_each_principal(p, stop_after_first, &calls);
	CHECK(calls == 1);
	policy_free(p);
}

static void test_result_names(void)
{
	CHECK_STR(policy_result_name(POLICY_ALLOW), "allowed");
	CHECK_STR(policy_result_name(POLICY_EXPLICIT_DENY), "explicitDeny");
	CHECK_STR(policy_result_name(POLICY_IMPLICIT_DENY), "implicitDeny");
}

static void test_glob(void)
{
	static const struct {
		const char *pattern;
		const char *text;
		bool ignore_case;
		bool expected;
	} cases[] = {
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"a*", "a", false, true},
		{"a*b", "axxb", false, true},
		{"a*b", "axxbc", false, false},
		{"a*b*c", "abbbc", false, true},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
		{"?", "", false, false},
		{"?", "x", false, true},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"?", "\xc3\xbc", false, true},
		{"??", "\xc3\xbc", false, false},
		{"ECR:Put*", "ecr:PutImage", true, true},
		{"ECR:Put*", "ecr:PutImage", false, false},
		{"arn:aws:ecr:*:*:repository/*", "arn:aws:ecr:us-east-1:1:repository/a/b", false, true},
		{"a\\*", "a\\x", false, true},
		{"**", "x", false, true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = policy_glob_match(cases[i].pattern, cases[i].text, cases[i].ignore_case);

		if (got != cases[i].expected)
			fprintf(stderr, "glob '%s' against '%s': got %d\n", cases[i].pattern, cases[i].text, got);
		CHECK(got == cases[i].expected);
	}
}

int main(void)
{
	test_glob();
	test_eval_cases();
	test_condition_cases();
	test_parse_errors();
	test_valid_documents();
	test_every_operator_parses();
	test_text_limit();
	test_denial_messages();
	test_decision_matches();
	test_explanations();
	test_accessors();
	test_each_principal_stops();
	test_result_names();
	return check_summary();
}
