/*
 * policy_int.h - what the files of policy/ share: the parsed form of a
 * policy document and the helpers that parse, match and expand it.
 *
 * parse.c builds a struct policy from JSON and rejects invalid documents.
 * match.c contains the glob, ARN and principal matching and the policy
 * variable expander, value.c converts condition values (numbers, dates, IP
 * addresses, base64, booleans), condition.c evaluates the Condition
 * element, and policy.c combines statements into a decision.
 */
#ifndef LCR_POLICY_INT_H
#define LCR_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "policy.h"

/* Largest expansion of one value with its policy variables substituted. */
#define POLICY_EXPANSION_MAX (1024 * 1024)

/* A list of strings owned by the policy. */
struct policy_list {
	char **items;
	size_t count;
};

/* Principal or NotPrincipal: "*" or one list per principal type. */
struct policy_principals {
	bool wildcard;
	struct policy_list aws;
	struct policy_list service;
	struct policy_list federated;
	struct policy_list canonical_user;
};

/* Kinds of value a condition operator compares. */
enum policy_value_type {
	POLICY_VALUE_STRING,
	POLICY_VALUE_NUMERIC,
	POLICY_VALUE_DATE,
	POLICY_VALUE_BOOL,
	POLICY_VALUE_BINARY,
	POLICY_VALUE_IP,
	POLICY_VALUE_ARN,
	POLICY_VALUE_NULL
};

enum policy_compare {
	POLICY_COMPARE_EQUAL,
	POLICY_COMPARE_LESS,
	POLICY_COMPARE_LESS_EQUAL,
	POLICY_COMPARE_GREATER,
	POLICY_COMPARE_GREATER_EQUAL,
	POLICY_COMPARE_LIKE /* glob: StringLike, ArnLike */
};

/* One base condition operator, without IfExists or a set prefix. */
struct policy_operator {
	const char *name;
	enum policy_value_type type;
	enum policy_compare compare;
	bool negated;     /* StringNotEquals, NotIpAddress, ...: true when the key is missing */
	bool ignore_case; /* StringEqualsIgnoreCase, StringNotEqualsIgnoreCase */
	bool variables;   /* IAM substitutes policy variables in its values */
};

/* ForAnyValue: and ForAllValues: prefixes for multi-valued keys. */
enum policy_set_operator {
	POLICY_SET_NONE,
	POLICY_SET_ANY_VALUE,
	POLICY_SET_ALL_VALUES
};

/* One key under one operator: "StringEquals": {"aws:username": [...]}. */
struct policy_condition {
	const struct policy_operator *op;
	enum policy_set_operator set;
	bool if_exists;
	char *operator_name; /* as written, for explanations */
	char *key;
	struct policy_list values; /* JSON numbers and booleans converted to text */
};

struct policy_statement {
	char *sid; /* NULL when absent */
	bool allow;
	bool not_action;
	struct policy_list actions;
	bool has_resource;
	bool not_resource;
	struct policy_list resources;
	bool has_principal;
	bool not_principal;
	struct policy_principals principals;
	struct policy_condition *conditions;
	size_t nconditions;
};

struct policy {
	char *name;
	enum policy_kind kind;
	bool variables; /* Version 2012-10-17: policy variables are substituted */
	struct policy_statement *statements;
	size_t nstatements;
};

/* parse.c */
void policy_list_clear(struct policy_list *list);

/* match.c: glob matching.  With escapes, "\x" in pattern matches the
 * character x literally; the variable expander writes such escapes for the
 * characters that substituted text contributes. */
bool policy_glob_match_n(const char *pattern, size_t plen, const char *text, size_t tlen, bool ignore_case,
			 bool escapes);

/* match.c: ARN comparison for ArnEquals and ArnLike.  Both ARNs are split
 * into their six colon-separated components and each component is matched
 * by glob, so a wildcard never spans a colon. */
bool policy_arn_match(const char *pattern, const char *arn, bool escapes);

/* match.c: principal matching for a Principal or NotPrincipal element.  On
 * a match, out_entry points at the entry that matched. */
bool policy_principals_match(const struct policy_principals *principals, const struct policy_request *req,
			     const char **out_entry);

/* match.c: whether a principal entry names a whole account (an account ID
 * or an account root ARN) rather than one principal. */
bool policy_principal_is_account(const char *entry);

/* match.c: the request's values of a condition key (names compare
 * case-insensitively); NULL when the request does not carry the key. */
const struct policy_key *policy_request_key(const struct policy_request *req, const char *name);

/* match.c: policy variables. */
enum policy_expand_mode {
	POLICY_EXPAND_PLAIN,  /* substituted text as is, for equality tests */
	POLICY_EXPAND_PATTERN /* a glob pattern in which substituted text is escaped */
};

/* Check the ${...} syntax of text; false with a reason in problem. */
bool policy_variables_check(const char *text, char *problem, size_t problemlen);

/* Substitute the policy variables of text from req's keys into out (reset
 * first).  Sets *out_resolved to false when a variable has no value and no
 * default.  Returns LCR_OK, or LCR_ERR_INTERNAL when out cannot grow. */
int policy_variables_expand(const char *text, const struct policy_request *req, enum policy_expand_mode mode,
			    struct buf *out, bool *out_resolved);

/* value.c: conversions of condition values; each returns false when text
 * is not a value of that type. */
bool policy_value_number(const char *text, double *out);
bool policy_value_date(const char *text, int64_t *out_ms);
bool policy_value_bool(const char *text, bool *out);
/* Decode base64 into a malloc'd buffer that the caller frees. */
bool policy_value_base64(const char *text, unsigned char **out, size_t *out_len);

struct policy_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
};

/* Parse "a.b.c.d", "a.b.c.d/n", an IPv6 address or an IPv6 CIDR; an
 * IPv4-mapped IPv6 address becomes IPv4. */
bool policy_value_cidr(const char *text, struct policy_cidr *out);
bool policy_cidr_contains(const struct policy_cidr *net, const struct policy_cidr *addr);

/* condition.c */
/* Parse an operator name such as "ForAnyValue:StringLikeIfExists" into
 * cond; false with a reason in problem. */
bool policy_condition_operator_parse(const char *name, struct policy_condition *cond, char *problem,
				     size_t problemlen);

/* Check one literal condition value against its operator's type; false
 * with a reason in problem. */
bool policy_condition_value_check(const struct policy_condition *cond, const char *value, bool variables,
				  char *problem, size_t problemlen);

/* Evaluate cond for req.  On a match, why receives what matched, such as
 * "condition StringEquals aws:username = 'alice'".  Returns LCR_OK, or
 * LCR_ERR_INTERNAL when a policy variable expansion cannot be stored. */
int policy_condition_evaluate(const struct policy_condition *cond, const struct policy_request *req, bool variables,
			      bool *out_matched, char *why, size_t whylen);

#endif
