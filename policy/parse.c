/*
 * parse.c - policy documents from JSON to struct policy, with validation.
 *
 * The grammar follows IAM's policy language:
 *   {"Version": "2012-10-17" | "2008-10-17",   (missing means 2008-10-17)
 *    "Id": string,                             (optional)
 *    "Statement": statement | [statement, ...]}
 *   statement = {"Sid", "Effect", "Action" | "NotAction",
 *                "Resource" | "NotResource", "Principal" | "NotPrincipal",
 *                "Condition"}
 * Element names are case-sensitive and unknown elements are errors, so a
 * misspelt "Condtion" cannot silently widen a statement.  Identity policies
 * need Resource or NotResource and must not name a principal.  Resource
 * policies need Principal or NotPrincipal, trust policies need Principal,
 * and NotPrincipal is only valid with Deny.  Every error names its
 * location, such as "Statement[2].Condition.StringLike.aws:TagKeys".
 */
#include "policy_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/status.h"

/* Parsing state shared by the element parsers. */
struct parser {
	struct policy *policy;
	char *err;
	size_t errlen;
};

static int parse_fail(struct parser *ps, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int parse_fail(struct parser *ps, const char *where, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return lcr_fail(LCR_ERR_INVALID_PARAMETER, ps->err, ps->errlen, "%s: %s", where, detail);
}

static int out_of_memory(struct parser *ps)
{
	return lcr_fail(LCR_ERR_INTERNAL, ps->err, ps->errlen, "out of memory");
}

void policy_list_clear(struct policy_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

/* Append a copy of value to list. */
static bool list_add(struct policy_list *list, const char *value)
{
	char **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
	char *copy;

	if (grown == NULL)
		return false;
	list->items = grown;
	copy = strdup(value);
	if (copy == NULL)
		return false;
	list->items[list->count++] = copy;
	return true;
}

/* Validate one string of a string-or-array element; false with a reason. */
typedef bool (*item_check_fn)(struct parser *ps, const char *value, char *problem, size_t problemlen);

/* Parse an element that is a string or a non-empty array of strings, such
 * as Action or Resource, checking each item with check. */
static int parse_string_list(struct parser *ps, json_t *node, const char *where, item_check_fn check,
			     struct policy_list *out)
{
	char problem[256], item_where[320];
	size_t count = json_is_array(node) ? json_array_size(node) : 1;

	if (!json_is_string(node) && !json_is_array(node))
		return parse_fail(ps, where, "must be a string or an array of strings");
	if (count == 0)
		return parse_fail(ps, where, "must not be an empty array");
	for (size_t i = 0; i < count; i++) {
		json_t *item = json_is_array(node) ? json_array_get(node, i) : node;
		const char *value = json_string_value(item);

		if (json_is_array(node))
			snprintf(item_where, sizeof(item_where), "%s[%zu]", where, i);
		else
			snprintf(item_where, sizeof(item_where), "%s", where);
		if (value == NULL)
			return parse_fail(ps, item_where, "must be a string");
		if (check != NULL && !check(ps, value, problem, sizeof(problem)))
			return parse_fail(ps, item_where, "%s", problem);
		if (!list_add(out, value))
			return out_of_memory(ps);
	}
	return LCR_OK;
}

static bool is_action_name_char(int c)
{
	return isalnum(c) || c == '*' || c == '?' || c == '_' || c == '-';
}

/* "*" or "service:Action", where Action may hold wildcards. */
static bool check_action(struct parser *ps, const char *value, char *problem, size_t problemlen)
{
	const char *colon = strchr(value, ':');
	const char *p;

	(void)ps;
	if (strcmp(value, "*") == 0)
		return true;
	if (colon == NULL || colon == value || colon[1] == '\0')
		goto invalid;
	for (p = value; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			goto invalid;
	for (p = colon + 1; *p != '\0'; p++)
		if (!is_action_name_char((unsigned char)*p))
			goto invalid;
	return true;
invalid:
	snprintf(problem, problemlen, "'%s' is not a valid action (expected \"*\" or \"service:ActionName\")", value);
	return false;
}

/* "*" or an ARN "arn:partition:service:region:account:resource", which may
 * hold wildcards and, in a 2012-10-17 policy, policy variables.  An ARN
 * cut short by a final '*' ("arn:aws:ecr:*") is accepted because that '*'
 * matches the remaining components. */
static bool check_resource(struct parser *ps, const char *value, char *problem, size_t problemlen)
{
	size_t colons = 0;
	char reason[160];

	if (strcmp(value, "*") == 0)
		return true;
	for (const char *p = value; *p != '\0'; p++)
		colons += *p == ':';
	if (strncmp(value, "arn:", 4) != 0 || (colons < 5 && value[strlen(value) - 1] != '*')) {
		snprintf(problem, problemlen,
			 "'%s' is not \"*\" or an ARN (arn:partition:service:region:account-id:resource)", value);
		return false;
	}
	if (ps->policy->variables && !policy_variables_check(value, reason, sizeof(reason))) {
		snprintf(problem, problemlen, "'%s': %s", value, reason);
		return false;
	}
	return true;
}

static bool is_account_id(const char *s)
{
	size_t n = 0;

	while (isdigit((unsigned char)s[n]))
		n++;
	return n == 12 && s[n] == '\0';
}

/* An IAM name, optionally with a path ("team/alice"): characters allowed
 * in IAM user, role and session names, no empty path segment. */
static bool is_iam_name(const char *s, size_t n, bool allow_path)
{
	if (n == 0 || s[0] == '/' || s[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/' && allow_path && s[i + 1] != '/')
			continue;
		if (!isalnum(c) && strchr("+=,.@_-", c) == NULL)
			return false;
	}
	return true;
}

/* "*", a 12-digit account id, or an account root, user, role or
 * assumed-role session ARN.  IAM rejects wildcards inside principal ARNs. */
static bool check_aws_principal(struct parser *ps, const char *value, char *problem, size_t problemlen)
{
	const char *rest;

	(void)ps;
	if (strcmp(value, "*") == 0 || is_account_id(value))
		return true;
	if (strncmp(value, "arn:aws:iam::", 13) == 0 && strlen(value) > 26 && value[25] == ':') {
		char account[13];

		memcpy(account, value + 13, 12);
		account[12] = '\0';
		rest = value + 26;
		if (is_account_id(account) &&
		    (strcmp(rest, "root") == 0 ||
		     (strncmp(rest, "user/", 5) == 0 && is_iam_name(rest + 5, strlen(rest + 5), true)) ||
		     (strncmp(rest, "role/", 5) == 0 && is_iam_name(rest + 5, strlen(rest + 5), true))))
			return true;
	}
	if (strncmp(value, "arn:aws:sts::", 13) == 0 && strlen(value) > 26 && value[25] == ':') {
		char account[13];
		const char *slash;

		memcpy(account, value + 13, 12);
		account[12] = '\0';
		rest = value + 26;
		if (is_account_id(account) && strncmp(rest, "assumed-role/", 13) == 0) {
			rest += 13;
			slash = strchr(rest, '/');
			if (slash != NULL && is_iam_name(rest, (size_t)(slash - rest), false) &&
			    is_iam_name(slash + 1, strlen(slash + 1), false))
				return true;
		}
	}
	snprintf(problem, problemlen,
		 "'%s' is not a valid AWS principal (expected \"*\", a 12-digit account ID, or an "
		 "arn:aws:iam::<account>:root, user/..., role/... or arn:aws:sts::<account>:assumed-role/<role>/<session> ARN)",
		 value);
	return false;
}

static bool check_not_empty(struct parser *ps, const char *value, char *problem, size_t problemlen)
{
	(void)ps;
	if (value[0] != '\0')
		return true;
	snprintf(problem, problemlen, "must not be empty");
	return false;
}

static void principals_clear(struct policy_principals *p)
{
	policy_list_clear(&p->aws);
	policy_list_clear(&p->service);
	policy_list_clear(&p->federated);
	policy_list_clear(&p->canonical_user);
	p->wildcard = false;
}

/* Principal or NotPrincipal: "*" or {"AWS": ..., "Service": ...,
 * "Federated": ..., "CanonicalUser": ...}. */
static int parse_principals(struct parser *ps, json_t *node, const char *where, struct policy_principals *out)
{
	static const char *const types[] = {"AWS", "Service", "Federated", "CanonicalUser"};
	struct policy_list *lists[] = {&out->aws, &out->service, &out->federated, &out->canonical_user};
	item_check_fn checks[] = {check_aws_principal, check_not_empty, check_not_empty, check_not_empty};
	char type_where[320];
	const char *type;
	json_t *value;
	int status;

	if (json_is_string(node)) {
		if (strcmp(json_string_value(node), "*") != 0)
			return parse_fail(ps, where, "must be \"*\" or an object such as {\"AWS\": \"<ARN>\"}, not '%s'",
					  json_string_value(node));
		out->wildcard = true;
		return LCR_OK;
	}
	if (!json_is_object(node) || json_object_size(node) == 0)
		return parse_fail(ps, where, "must be \"*\" or a non-empty object such as {\"AWS\": \"<ARN>\"}");
	json_object_foreach(node, type, value) {
		size_t i = 0;

		while (i < 4 && strcmp(type, types[i]) != 0)
			i++;
		if (i == 4)
			return parse_fail(ps, where,
					  "unknown principal type '%s' (expected AWS, Service, Federated or CanonicalUser)",
					  type);
		snprintf(type_where, sizeof(type_where), "%s.%s", where, type);
		status = parse_string_list(ps, value, type_where, checks[i], lists[i]);
		if (status != LCR_OK)
			return status;
	}
	return LCR_OK;
}

static void condition_clear(struct policy_condition *c)
{
	free(c->operator_name);
	free(c->key);
	policy_list_clear(&c->values);
}

/* The text form of a JSON condition value: strings as they are, numbers
 * and booleans as IAM reads them; NULL for other types. */
static const char *condition_value_text(json_t *item, char *scratch, size_t scratchlen)
{
	if (json_is_string(item))
		return json_string_value(item);
	if (json_is_integer(item)) {
		snprintf(scratch, scratchlen, "%" JSON_INTEGER_FORMAT, json_integer_value(item));
		return scratch;
	}
	if (json_is_real(item)) {
		snprintf(scratch, scratchlen, "%.17g", json_real_value(item));
		return scratch;
	}
	if (json_is_boolean(item))
		return json_is_true(item) ? "true" : "false";
	return NULL;
}

/* The values of one key under one operator: a scalar or a non-empty array
 * of scalars, each checked against the operator's value type. */
static int parse_condition_values(struct parser *ps, json_t *node, const char *where, struct policy_condition *cond)
{
	size_t count = json_is_array(node) ? json_array_size(node) : 1;
	char scratch[64], problem[256], item_where[672];

	if (json_is_array(node) && count == 0)
		return parse_fail(ps, where, "must not be an empty array");
	for (size_t i = 0; i < count; i++) {
		json_t *item = json_is_array(node) ? json_array_get(node, i) : node;
		const char *text = condition_value_text(item, scratch, sizeof(scratch));

		if (json_is_array(node))
			snprintf(item_where, sizeof(item_where), "%s[%zu]", where, i);
		else
			snprintf(item_where, sizeof(item_where), "%s", where);
		if (text == NULL)
			return parse_fail(ps, item_where, "must be a string, number or boolean, or an array of them");
		if (!policy_condition_value_check(cond, text, ps->policy->variables, problem, sizeof(problem)))
			return parse_fail(ps, item_where, "%s", problem);
		if (!list_add(&cond->values, text))
			return out_of_memory(ps);
	}
	return LCR_OK;
}

/* Append one condition (operator and key) to statement s. */
static int add_condition(struct parser *ps, struct policy_statement *s, const char *operator_name, const char *key,
			 json_t *values, const char *where)
{
	struct policy_condition *grown, *cond;
	char problem[256], key_where[640];

	grown = realloc(s->conditions, (s->nconditions + 1) * sizeof(*grown));
	if (grown == NULL)
		return out_of_memory(ps);
	s->conditions = grown;
	cond = &s->conditions[s->nconditions++];
	memset(cond, 0, sizeof(*cond));
	cond->operator_name = strdup(operator_name);
	cond->key = strdup(key);
	if (cond->operator_name == NULL || cond->key == NULL)
		return out_of_memory(ps);
	if (!policy_condition_operator_parse(operator_name, cond, problem, sizeof(problem)))
		return parse_fail(ps, where, "%s", problem);
	snprintf(key_where, sizeof(key_where), "%s.%s.%s", where, operator_name, key);
	if (key[0] == '\0')
		return parse_fail(ps, key_where, "the condition key name must not be empty");
	return parse_condition_values(ps, values, key_where, cond);
}

/* Condition: {operator: {key: value | [values]}}. */
static int parse_condition(struct parser *ps, json_t *node, const char *where, struct policy_statement *s)
{
	char op_where[320];
	const char *operator_name, *key;
	json_t *block, *values;
	int status;

	if (!json_is_object(node))
		return parse_fail(ps, where, "must be an object of condition operators");
	json_object_foreach(node, operator_name, block) {
		snprintf(op_where, sizeof(op_where), "%s.%s", where, operator_name);
		if (!json_is_object(block))
			return parse_fail(ps, op_where, "must be an object of condition keys");
		if (json_object_size(block) == 0) {
			struct policy_condition probe;
			char problem[256];

			/* An operator with no keys constrains nothing, but its
			 * name must still be valid. */
			memset(&probe, 0, sizeof(probe));
			if (!policy_condition_operator_parse(operator_name, &probe, problem, sizeof(problem)))
				return parse_fail(ps, where, "%s", problem);
		}
		json_object_foreach(block, key, values) {
			status = add_condition(ps, s, operator_name, key, values, where);
			if (status != LCR_OK)
				return status;
		}
	}
	return LCR_OK;
}

static void statement_clear(struct policy_statement *s)
{
	free(s->sid);
	policy_list_clear(&s->actions);
	policy_list_clear(&s->resources);
	principals_clear(&s->principals);
	for (size_t i = 0; i < s->nconditions; i++)
		condition_clear(&s->conditions[i]);
	free(s->conditions);
	memset(s, 0, sizeof(*s));
}

static const char *const statement_elements[] = {
	"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition",
};

static int check_statement_elements(struct parser *ps, json_t *node, const char *where)
{
	const char *name;
	json_t *value;

	json_object_foreach(node, name, value) {
		size_t i = 0, n = sizeof(statement_elements) / sizeof(statement_elements[0]);

		(void)value;
		while (i < n && strcmp(name, statement_elements[i]) != 0)
			i++;
		if (i == n)
			return parse_fail(ps, where, "unknown element '%s'", name);
	}
	return LCR_OK;
}

/* Find element or its Not form in node; *out_not is true for the Not form.
 * Both present is an error, and neither leaves *out NULL. */
static int pick_element(struct parser *ps, json_t *node, const char *element, const char *where, json_t **out,
			bool *out_not)
{
	char not_element[32];
	json_t *plain, *negated;

	snprintf(not_element, sizeof(not_element), "Not%s", element);
	plain = json_object_get(node, element);
	negated = json_object_get(node, not_element);
	if (plain != NULL && negated != NULL)
		return parse_fail(ps, where, "must not have both %s and %s", element, not_element);
	*out = plain != NULL ? plain : negated;
	*out_not = negated != NULL;
	return LCR_OK;
}

static int parse_effect(struct parser *ps, json_t *node, const char *where, struct policy_statement *s)
{
	json_t *effect = json_object_get(node, "Effect");
	char effect_where[160];
	const char *value = json_string_value(effect);

	snprintf(effect_where, sizeof(effect_where), "%s.Effect", where);
	if (effect == NULL)
		return parse_fail(ps, effect_where, "is required and must be \"Allow\" or \"Deny\"");
	if (value == NULL || (strcmp(value, "Allow") != 0 && strcmp(value, "Deny") != 0))
		return parse_fail(ps, effect_where, "must be \"Allow\" or \"Deny\"%s%s%s", value ? ", not '" : "",
				  value ? value : "", value ? "'" : "");
	s->allow = strcmp(value, "Allow") == 0;
	return LCR_OK;
}

static int parse_sid(struct parser *ps, json_t *node, const char *where, struct policy_statement *s)
{
	json_t *sid = json_object_get(node, "Sid");
	char sid_where[160];

	if (sid == NULL)
		return LCR_OK;
	snprintf(sid_where, sizeof(sid_where), "%s.Sid", where);
	if (!json_is_string(sid))
		return parse_fail(ps, sid_where, "must be a string");
	s->sid = strdup(json_string_value(sid));
	return s->sid != NULL ? LCR_OK : out_of_memory(ps);
}

static int parse_actions(struct parser *ps, json_t *node, const char *where, struct policy_statement *s)
{
	char element_where[160];
	json_t *actions;
	int status;

	status = pick_element(ps, node, "Action", where, &actions, &s->not_action);
	if (status != LCR_OK)
		return status;
	if (actions == NULL)
		return parse_fail(ps, where, "exactly one of Action or NotAction is required");
	snprintf(element_where, sizeof(element_where), "%s.%s", where, s->not_action ? "NotAction" : "Action");
	return parse_string_list(ps, actions, element_where, check_action, &s->actions);
}

static int parse_resources(struct parser *ps, json_t *node, const char *where, struct policy_statement *s)
{
	char element_where[160];
	json_t *resources;
	int status;

	status = pick_element(ps, node, "Resource", where, &resources, &s->not_resource);
	if (status != LCR_OK)
		return status;
	if (resources == NULL) {
		if (ps->policy->kind == POLICY_KIND_IDENTITY)
			return parse_fail(ps, where, "Resource or NotResource is required in an identity-based policy");
		return LCR_OK;
	}
	s->has_resource = true;
	snprintf(element_where, sizeof(element_where), "%s.%s", where, s->not_resource ? "NotResource" : "Resource");
	return parse_string_list(ps, resources, element_where, check_resource, &s->resources);
}

static int parse_statement_principals(struct parser *ps, json_t *node, const char *where, struct policy_statement *s)
{
	char element_where[160];
	const char *element;
	json_t *principals;
	int status;

	status = pick_element(ps, node, "Principal", where, &principals, &s->not_principal);
	if (status != LCR_OK)
		return status;
	element = s->not_principal ? "NotPrincipal" : "Principal";
	snprintf(element_where, sizeof(element_where), "%s.%s", where, element);
	if (principals == NULL) {
		if (ps->policy->kind == POLICY_KIND_TRUST)
			return parse_fail(ps, where, "Principal is required in a trust policy");
		if (ps->policy->kind == POLICY_KIND_RESOURCE)
			return parse_fail(ps, where, "Principal or NotPrincipal is required in a resource-based policy");
		return LCR_OK;
	}
	if (ps->policy->kind == POLICY_KIND_IDENTITY)
		return parse_fail(ps, element_where, "is not allowed in an identity-based policy");
	/* IAM's NotPrincipal reference excludes role trust policies. */
	if (s->not_principal && ps->policy->kind == POLICY_KIND_TRUST)
		return parse_fail(ps, element_where, "is not allowed in a trust policy, which must use Principal");
	if (s->not_principal && s->allow)
		return parse_fail(ps, element_where, "is only valid with \"Effect\": \"Deny\"");
	s->has_principal = true;
	return parse_principals(ps, principals, element_where, &s->principals);
}

static int parse_statement(struct parser *ps, json_t *node, const char *where, struct policy_statement *s)
{
	json_t *condition;
	char condition_where[160];
	int status;

	if (!json_is_object(node))
		return parse_fail(ps, where, "must be an object");
	status = check_statement_elements(ps, node, where);
	if (status == LCR_OK)
		status = parse_sid(ps, node, where, s);
	if (status == LCR_OK)
		status = parse_effect(ps, node, where, s);
	if (status == LCR_OK)
		status = parse_actions(ps, node, where, s);
	if (status == LCR_OK)
		status = parse_resources(ps, node, where, s);
	if (status == LCR_OK)
		status = parse_statement_principals(ps, node, where, s);
	if (status != LCR_OK)
		return status;
	condition = json_object_get(node, "Condition");
	if (condition == NULL)
		return LCR_OK;
	snprintf(condition_where, sizeof(condition_where), "%s.Condition", where);
	return parse_condition(ps, condition, condition_where, s);
}

static int parse_statements(struct parser *ps, json_t *node)
{
	struct policy *p = ps->policy;
	size_t count = json_is_array(node) ? json_array_size(node) : 1;
	char where[64];
	int status;

	if (node == NULL)
		return parse_fail(ps, "Statement", "is required");
	if (!json_is_object(node) && !json_is_array(node))
		return parse_fail(ps, "Statement", "must be an object or an array of objects");
	if (count == 0)
		return parse_fail(ps, "Statement", "must contain at least one statement");
	p->statements = calloc(count, sizeof(*p->statements));
	if (p->statements == NULL)
		return out_of_memory(ps);
	for (size_t i = 0; i < count; i++) {
		json_t *item = json_is_array(node) ? json_array_get(node, i) : node;

		if (json_is_array(node))
			snprintf(where, sizeof(where), "Statement[%zu]", i);
		else
			snprintf(where, sizeof(where), "Statement");
		p->nstatements = i + 1;
		status = parse_statement(ps, item, where, &p->statements[i]);
		if (status != LCR_OK)
			return status;
	}
	return LCR_OK;
}

/* Version, Id and the set of top-level elements. */
static int parse_header(struct parser *ps, json_t *root)
{
	json_t *version = json_object_get(root, "Version");
	json_t *id = json_object_get(root, "Id");
	const char *name;
	json_t *value;

	json_object_foreach(root, name, value) {
		(void)value;
		if (strcmp(name, "Version") != 0 && strcmp(name, "Id") != 0 && strcmp(name, "Statement") != 0)
			return parse_fail(ps, "Policy", "unknown element '%s' (expected Version, Id and Statement)", name);
	}
	if (version != NULL) {
		const char *v = json_string_value(version);

		if (v == NULL || (strcmp(v, "2012-10-17") != 0 && strcmp(v, "2008-10-17") != 0))
			return parse_fail(ps, "Version", "must be \"2012-10-17\" or \"2008-10-17\"");
		ps->policy->variables = strcmp(v, "2012-10-17") == 0;
	}
	if (id != NULL && !json_is_string(id))
		return parse_fail(ps, "Id", "must be a string");
	return LCR_OK;
}

int policy_parse(const char *text, size_t len, enum policy_kind kind, const char *name, struct policy **out,
		 char *err, size_t errlen)
{
	struct parser ps = {.policy = NULL, .err = err, .errlen = errlen};
	json_t *root = NULL;
	json_error_t jerr;
	int status;

	*out = NULL;
	if (len > POLICY_TEXT_MAX)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
				"Policy: the document is %zu bytes, more than the maximum of %d", len, POLICY_TEXT_MAX);
	ps.policy = calloc(1, sizeof(*ps.policy));
	if (ps.policy == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	ps.policy->kind = kind;
	ps.policy->name = strdup(name != NULL ? name : "");
	if (ps.policy->name == NULL) {
		status = out_of_memory(&ps);
		goto out;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		status = lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
				  "Policy: not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
		goto out;
	}
	if (!json_is_object(root)) {
		status = parse_fail(&ps, "Policy", "must be a JSON object");
		goto out;
	}
	status = parse_header(&ps, root);
	if (status == LCR_OK)
		status = parse_statements(&ps, json_object_get(root, "Statement"));
out:
	json_decref(root);
	if (status != LCR_OK) {
		policy_free(ps.policy);
		return status;
	}
	*out = ps.policy;
	return LCR_OK;
}

void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nstatements; i++)
		statement_clear(&p->statements[i]);
	free(p->statements);
	free(p->name);
	free(p);
}
