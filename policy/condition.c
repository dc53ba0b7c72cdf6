/*
 * condition.c - the Condition element: operators, value checks, evaluation.
 *
 * IAM's rules, as its condition operator and multi-valued key pages state
 * them:
 * - all operators of a block must match, and all keys under an operator.
 *   The caller ANDs the conditions of a statement.
 * - several values for one key are ORed.  For a negated operator
 *   (StringNotEquals, NotIpAddress, ArnNotLike, ...) they are NORed, so the
 *   request value must match none of them.
 * - a key missing from the request makes the condition false, except for
 *   negated operators and "...IfExists" operators, which are then true.
 *   Null tests presence: "true" matches a missing key, "false" a present one.
 * - "ForAllValues:" is true when every request value satisfies the operator,
 *   and also when the key is missing or has no values.
 * - "ForAnyValue:" is true when at least one request value satisfies it, so
 *   it is false when there is none.
 * A key that the request carries with zero values counts as missing.
 * Policy variables are substituted in the values of the String, Bool and
 * ARN operators, the ones IAM documents as supporting them.  Numeric, Date,
 * BinaryEquals, IpAddress and Null values are literal and checked at parse
 * time.
 */
#include "policy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/status.h"

static const struct policy_operator operators[] = {
	{"StringEquals", POLICY_VALUE_STRING, POLICY_COMPARE_EQUAL, false, false, true},
	{"StringNotEquals", POLICY_VALUE_STRING, POLICY_COMPARE_EQUAL, true, false, true},
	{"StringEqualsIgnoreCase", POLICY_VALUE_STRING, POLICY_COMPARE_EQUAL, false, true, true},
	{"StringNotEqualsIgnoreCase", POLICY_VALUE_STRING, POLICY_COMPARE_EQUAL, true, true, true},
	{"StringLike", POLICY_VALUE_STRING, POLICY_COMPARE_LIKE, false, false, true},
	{"StringNotLike", POLICY_VALUE_STRING, POLICY_COMPARE_LIKE, true, false, true},
	{"NumericEquals", POLICY_VALUE_NUMERIC, POLICY_COMPARE_EQUAL, false, false, false},
	{"NumericNotEquals", POLICY_VALUE_NUMERIC, POLICY_COMPARE_EQUAL, true, false, false},
	{"NumericLessThan", POLICY_VALUE_NUMERIC, POLICY_COMPARE_LESS, false, false, false},
	{"NumericLessThanEquals", POLICY_VALUE_NUMERIC, POLICY_COMPARE_LESS_EQUAL, false, false, false},
	{"NumericGreaterThan", POLICY_VALUE_NUMERIC, POLICY_COMPARE_GREATER, false, false, false},
	{"NumericGreaterThanEquals", POLICY_VALUE_NUMERIC, POLICY_COMPARE_GREATER_EQUAL, false, false, false},
	{"DateEquals", POLICY_VALUE_DATE, POLICY_COMPARE_EQUAL, false, false, false},
	{"DateNotEquals", POLICY_VALUE_DATE, POLICY_COMPARE_EQUAL, true, false, false},
	{"DateLessThan", POLICY_VALUE_DATE, POLICY_COMPARE_LESS, false, false, false},
	{"DateLessThanEquals", POLICY_VALUE_DATE, POLICY_COMPARE_LESS_EQUAL, false, false, false},
	{"DateGreaterThan", POLICY_VALUE_DATE, POLICY_COMPARE_GREATER, false, false, false},
	{"DateGreaterThanEquals", POLICY_VALUE_DATE, POLICY_COMPARE_GREATER_EQUAL, false, false, false},
	{"Bool", POLICY_VALUE_BOOL, POLICY_COMPARE_EQUAL, false, false, true},
	{"BinaryEquals", POLICY_VALUE_BINARY, POLICY_COMPARE_EQUAL, false, false, false},
	{"IpAddress", POLICY_VALUE_IP, POLICY_COMPARE_EQUAL, false, false, false},
	{"NotIpAddress", POLICY_VALUE_IP, POLICY_COMPARE_EQUAL, true, false, false},
	/* IAM documents ArnEquals and ArnLike as the same test. */
	{"ArnEquals", POLICY_VALUE_ARN, POLICY_COMPARE_LIKE, false, false, true},
	{"ArnLike", POLICY_VALUE_ARN, POLICY_COMPARE_LIKE, false, false, true},
	{"ArnNotEquals", POLICY_VALUE_ARN, POLICY_COMPARE_LIKE, true, false, true},
	{"ArnNotLike", POLICY_VALUE_ARN, POLICY_COMPARE_LIKE, true, false, true},
	{"Null", POLICY_VALUE_NULL, POLICY_COMPARE_EQUAL, false, false, false},
};

#define IF_EXISTS "IfExists"

bool policy_condition_operator_parse(const char *name, struct policy_condition *cond, char *problem,
				     size_t problemlen)
{
	const char *base = name;
	size_t len, suffix = strlen(IF_EXISTS);

	cond->set = POLICY_SET_NONE;
	if (strncmp(base, "ForAnyValue:", 12) == 0) {
		cond->set = POLICY_SET_ANY_VALUE;
		base += 12;
	} else if (strncmp(base, "ForAllValues:", 13) == 0) {
		cond->set = POLICY_SET_ALL_VALUES;
		base += 13;
	}
	len = strlen(base);
	cond->if_exists = len > suffix && strcmp(base + len - suffix, IF_EXISTS) == 0;
	if (cond->if_exists)
		len -= suffix;
	cond->op = NULL;
	for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++)
		if (strlen(operators[i].name) == len && strncmp(operators[i].name, base, len) == 0)
			cond->op = &operators[i];
	if (cond->op == NULL) {
		snprintf(problem, problemlen, "unknown operator '%s'", name);
		return false;
	}
	if (cond->op->type == POLICY_VALUE_NULL && (cond->if_exists || cond->set != POLICY_SET_NONE)) {
		snprintf(problem, problemlen,
			 "operator '%s' is not valid: Null takes neither the IfExists suffix nor a set prefix", name);
		return false;
	}
	return true;
}

/* Whether IAM would substitute policy variables in value. */
static bool uses_variables(const struct policy_condition *cond, const char *value, bool variables)
{
	return variables && cond->op->variables && strstr(value, "${") != NULL;
}

/* Whether value converts to the type that cond's operator compares. */
static bool value_type_valid(const struct policy_condition *cond, const char *value)
{
	unsigned char *bytes = NULL;
	struct policy_cidr cidr;
	size_t nbytes;
	int64_t ms;
	double number;
	bool flag, ok;

	switch (cond->op->type) {
	case POLICY_VALUE_NUMERIC:
		return policy_value_number(value, &number);
	case POLICY_VALUE_DATE:
		return policy_value_date(value, &ms);
	case POLICY_VALUE_BOOL:
	case POLICY_VALUE_NULL:
		return policy_value_bool(value, &flag);
	case POLICY_VALUE_BINARY:
		ok = policy_value_base64(value, &bytes, &nbytes);
		free(bytes);
		return ok;
	case POLICY_VALUE_IP:
		return policy_value_cidr(value, &cidr);
	case POLICY_VALUE_STRING:
	case POLICY_VALUE_ARN:
		break;
	}
	return true;
}

bool policy_condition_value_check(const struct policy_condition *cond, const char *value, bool variables,
				  char *problem, size_t problemlen)
{
	static const char *const expected[] = {
		[POLICY_VALUE_NUMERIC] = "a number",
		[POLICY_VALUE_DATE] = "a date (ISO 8601 such as 2024-05-01T12:00:00Z, or epoch seconds)",
		[POLICY_VALUE_BOOL] = "true or false",
		[POLICY_VALUE_NULL] = "true or false",
		[POLICY_VALUE_BINARY] = "valid base64",
		[POLICY_VALUE_IP] = "an IPv4 or IPv6 address or CIDR block",
	};

	if (uses_variables(cond, value, variables))
		return policy_variables_check(value, problem, problemlen);
	if (value_type_valid(cond, value))
		return true;
	snprintf(problem, problemlen, "'%s' is not %s, as %s requires", value, expected[cond->op->type],
		 cond->op->name);
	return false;
}

/* The policy values of a condition ready to compare: policy variables
 * substituted where they apply.  A value whose variable has no value is
 * unresolved and matches nothing. */
struct prepared_values {
	const char **text;
	char **owned;
	bool *resolved;
	bool escaped; /* texts are glob patterns with '\' escapes */
	size_t count;
};

static void prepared_release(struct prepared_values *pv)
{
	for (size_t i = 0; pv->owned != NULL && i < pv->count; i++)
		free(pv->owned[i]);
	free(pv->text);
	free(pv->owned);
	free(pv->resolved);
}

static int prepare_values(const struct policy_condition *cond, const struct policy_request *req, bool variables,
			  struct prepared_values *out)
{
	enum policy_expand_mode mode = cond->op->compare == POLICY_COMPARE_LIKE ? POLICY_EXPAND_PATTERN
										: POLICY_EXPAND_PLAIN;
	size_t n = cond->values.count;
	struct buf expanded;
	int status = LCR_OK;

	memset(out, 0, sizeof(*out));
	buf_init(&expanded, POLICY_EXPANSION_MAX);
	out->text = calloc(n + 1, sizeof(*out->text));
	out->owned = calloc(n + 1, sizeof(*out->owned));
	out->resolved = calloc(n + 1, sizeof(*out->resolved));
	out->count = n;
	if (out->text == NULL || out->owned == NULL || out->resolved == NULL) {
		status = LCR_ERR_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *value = cond->values.items[i];

		out->text[i] = value;
		out->resolved[i] = true;
		if (!uses_variables(cond, value, variables))
			continue;
		status = policy_variables_expand(value, req, mode, &expanded, &out->resolved[i]);
		if (status != LCR_OK)
			goto out;
		out->owned[i] = strdup(expanded.data);
		if (out->owned[i] == NULL) {
			status = LCR_ERR_INTERNAL;
			goto out;
		}
		out->text[i] = out->owned[i];
		out->escaped = out->escaped || mode == POLICY_EXPAND_PATTERN;
	}
out:
	buf_release(&expanded);
	return status;
}

static bool compare_order(enum policy_compare compare, int order)
{
	switch (compare) {
	case POLICY_COMPARE_EQUAL:
	case POLICY_COMPARE_LIKE:
		return order == 0;
	case POLICY_COMPARE_LESS:
		return order < 0;
	case POLICY_COMPARE_LESS_EQUAL:
		return order <= 0;
	case POLICY_COMPARE_GREATER:
		return order > 0;
	case POLICY_COMPARE_GREATER_EQUAL:
		return order >= 0;
	}
	return false;
}

/* -1, 0 or 1 as a is less than, equal to or greater than b. */
static int order_of(double a, double b)
{
	if (a < b)
		return -1;
	return a > b ? 1 : 0;
}

static bool binary_equal(const char *request, const char *policy)
{
	unsigned char *a = NULL, *b = NULL;
	size_t alen, blen;
	bool equal;

	equal = policy_value_base64(request, &a, &alen) && policy_value_base64(policy, &b, &blen) && alen == blen &&
		(alen == 0 || memcmp(a, b, alen) == 0);
	free(a);
	free(b);
	return equal;
}

/* The positive test of one request value against one policy value: what
 * StringEquals, NumericLessThan and so on check before any negation.
 * escaped is true when the policy value is a pattern with '\' escapes. */
static bool value_compare(const struct policy_operator *op, const char *request, const char *policy, bool escaped)
{
	struct policy_cidr net, addr;
	double rn, pn;
	int64_t rd, pd;
	bool rb, pb;

	switch (op->type) {
	case POLICY_VALUE_STRING:
		if (op->compare == POLICY_COMPARE_LIKE)
			return policy_glob_match_n(policy, strlen(policy), request, strlen(request), false, escaped);
		return op->ignore_case ? strcasecmp(request, policy) == 0 : strcmp(request, policy) == 0;
	case POLICY_VALUE_NUMERIC:
		if (!policy_value_number(request, &rn) || !policy_value_number(policy, &pn))
			return false;
		return compare_order(op->compare, order_of(rn, pn));
	case POLICY_VALUE_DATE:
		if (!policy_value_date(request, &rd) || !policy_value_date(policy, &pd))
			return false;
		if (rd == pd)
			return compare_order(op->compare, 0);
		return compare_order(op->compare, rd < pd ? -1 : 1);
	case POLICY_VALUE_BOOL:
		return policy_value_bool(request, &rb) && policy_value_bool(policy, &pb) && rb == pb;
	case POLICY_VALUE_BINARY:
		return binary_equal(request, policy);
	case POLICY_VALUE_IP:
		return policy_value_cidr(policy, &net) && policy_value_cidr(request, &addr) &&
		       policy_cidr_contains(&net, &addr);
	case POLICY_VALUE_ARN:
		return policy_arn_match(policy, request, escaped);
	case POLICY_VALUE_NULL:
		break;
	}
	return false;
}

/* Whether one request value satisfies the operator: it matches one of the
 * policy values, or for a negated operator none of them.  *out_index gets
 * the policy value that matched, or stays unchanged. */
static bool value_satisfies(const struct policy_condition *cond, const struct prepared_values *pv,
			    const char *request, size_t *out_index)
{
	for (size_t i = 0; i < pv->count; i++) {
		if (!pv->resolved[i])
			continue;
		if (value_compare(cond->op, request, pv->text[i], pv->escaped && pv->owned[i] != NULL)) {
			*out_index = i;
			return !cond->op->negated;
		}
	}
	return cond->op->negated;
}

static bool evaluate_null(const struct policy_condition *cond, bool present, char *why, size_t whylen)
{
	bool absent_expected;

	for (size_t i = 0; i < cond->values.count; i++) {
		if (policy_value_bool(cond->values.items[i], &absent_expected) && absent_expected != present) {
			snprintf(why, whylen, "condition Null %s = '%s' (key %s)", cond->key, cond->values.items[i],
				 present ? "present" : "absent");
			return true;
		}
	}
	return false;
}

/* The outcome for a key that the request lacks or carries without values. */
static bool evaluate_missing(const struct policy_condition *cond, char *why, size_t whylen)
{
	bool matched;

	if (cond->if_exists || cond->set == POLICY_SET_ALL_VALUES)
		matched = true;
	else if (cond->set == POLICY_SET_ANY_VALUE)
		matched = false;
	else
		matched = cond->op->negated;
	if (matched)
		snprintf(why, whylen, "condition %s %s (key absent)", cond->operator_name, cond->key);
	return matched;
}

/* Evaluate cond over the request values of key.  Without a set operator, a
 * negated operator must hold for every request value, so no request value
 * matches any policy value, and a positive operator for at least one.
 * ForAllValues and ForAnyValue choose "every" or "at least one" directly. */
static bool evaluate_values(const struct policy_condition *cond, const struct policy_key *key,
			    const struct prepared_values *pv, char *why, size_t whylen)
{
	bool need_all = cond->set == POLICY_SET_ALL_VALUES || (cond->set == POLICY_SET_NONE && cond->op->negated);
	size_t index = pv->count, first = key->nvalues;
	bool ok;

	for (size_t r = 0; r < key->nvalues; r++) {
		const char *request = key->values[r] != NULL ? key->values[r] : "";

		ok = value_satisfies(cond, pv, request, &index);
		if (ok && first == key->nvalues)
			first = r;
		if (need_all && !ok)
			return false;
		if (!need_all && ok)
			break;
	}
	if (first == key->nvalues)
		return false;
	if (cond->set == POLICY_SET_ALL_VALUES && key->nvalues > 1)
		snprintf(why, whylen, "condition %s %s (all %zu request values match)", cond->operator_name, cond->key,
			 key->nvalues);
	else if (index < pv->count && !cond->op->negated)
		snprintf(why, whylen, "condition %s %s = '%s'", cond->operator_name, cond->key, cond->values.items[index]);
	else
		snprintf(why, whylen, "condition %s %s (request value '%s' matches none)", cond->operator_name,
			 cond->key, key->values[first] != NULL ? key->values[first] : "");
	return true;
}

int policy_condition_evaluate(const struct policy_condition *cond, const struct policy_request *req, bool variables,
			      bool *out_matched, char *why, size_t whylen)
{
	const struct policy_key *key = policy_request_key(req, cond->key);
	bool present = key != NULL && key->nvalues > 0;
	struct prepared_values pv;
	int status;

	why[0] = '\0';
	if (cond->op->type == POLICY_VALUE_NULL) {
		*out_matched = evaluate_null(cond, present, why, whylen);
		return LCR_OK;
	}
	if (!present) {
		*out_matched = evaluate_missing(cond, why, whylen);
		return LCR_OK;
	}
	status = prepare_values(cond, req, variables, &pv);
	if (status == LCR_OK)
		*out_matched = evaluate_values(cond, key, &pv, why, whylen);
	prepared_release(&pv);
	return status;
}
