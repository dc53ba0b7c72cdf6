/*
 * lifecycle.c - parse and validate ECR lifecycle policy text (pure, no
 * storage).  lifecycle_eval.c evaluates the parsed policy.
 *
 * Validation runs in three passes, and the first failure is reported:
 * 1. shape, the way ECR's JSON-schema validator checks it: required and
 *    unknown properties, types, enums and minimums, in document order;
 * 2. the per-rule rules of ECR's lifecycle documentation: which tag lists
 *    go with which tagStatus, at most 4 wildcards per pattern, countUnit
 *    only with the since* count types, the storage class and action each
 *    count type allows;
 * 3. the rules across rules, in rulePriority order: unique priorities, and
 *    per storage class an any rule last, one untagged rule and no two rules
 *    with the same tag list.
 * Every message is wrapped as "Invalid parameter at 'LifecyclePolicyText'
 * failed to satisfy constraint: 'Lifecycle policy validation failure:
 * <detail>'".  Shape failures use the JSON-schema validator's wording that
 * ECR returns.  ECR publishes no wording for the documented rules of
 * passes 2 and 3, so those details are ours and name the rulePriority.
 */
#include "lifecycle.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../common/status.h"
#include "lifecycle_int.h"

#define LIFECYCLE_ERROR_PREFIX                                                             \
	"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle " \
	"policy validation failure: "

/* ECR's lifecycle examples: "You cannot configure lifecycle policies that
 * delete images that have been in archive for less than 90 days." */
#define LIFECYCLE_ARCHIVE_MIN_DAYS 90

/* At most 4 '*' per tagPatternList entry, from ECR's lifecycle docs. */
#define LIFECYCLE_PATTERN_WILDCARDS_MAX 4

/* Longest JSON value quoted back in a message. */
#define LIFECYCLE_QUOTED_VALUE_MAX 200

static const char *const tag_status_names[] = {"tagged", "untagged", "any"};
static const char *const count_type_names[] = {"imageCountMoreThan", "sinceImagePushed", "sinceImagePulled",
					       "sinceImageTransitioned"};

/* Sorted, as the schema validator lists them in its messages. */
static const char *const tag_status_enum[] = {"any", "tagged", "untagged"};
static const char *const storage_class_enum[] = {"archive", "standard"};
static const char *const count_unit_enum[] = {"days"};
static const char *const action_type_enum[] = {"expire", "transition"};
static const char *const target_storage_class_enum[] = {"archive"};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Write the wrapped validation message and return LCR_ERR_INVALID_PARAMETER. */
__attribute__((format(printf, 3, 4))) static int validation_fail(char *err, size_t errlen, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, LIFECYCLE_ERROR_PREFIX "%s'", detail);
}

static const char *storage_class_name(bool archive)
{
	return archive ? "archive" : "standard";
}

/* ---- Pass 1: shape, in the JSON-schema validator's words ---- */

/* Type names as JSON Schema spells them. */
static const char *json_type_name(const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* Render value as compact JSON into out, cut at LIFECYCLE_QUOTED_VALUE_MAX. */
static void json_quote(const json_t *value, char *out, size_t outlen)
{
	char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);

	snprintf(out, outlen, "%.*s%s", LIFECYCLE_QUOTED_VALUE_MAX, text ? text : "?",
		 text && strlen(text) > LIFECYCLE_QUOTED_VALUE_MAX ? "..." : "");
	free(text);
}

/* Render names as a compact JSON array of strings: ["a","b"]. */
static void json_quote_names(const char *const *names, size_t count, char *out, size_t outlen)
{
	json_t *array = json_array();

	for (size_t i = 0; i < count; i++)
		json_array_append_new(array, json_string(names[i]));
	json_quote(array, out, outlen);
	json_decref(array);
}

static int require_type(const json_t *value, const char *expected, char *err, size_t errlen)
{
	const char *actual = json_type_name(value);

	if (strcmp(actual, expected) == 0)
		return LCR_OK;
	return validation_fail(err, errlen,
			       "instance type (%s) does not match any allowed primitive type (allowed: [\"%s\"])",
			       actual, expected);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool name_listed(const char *name, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Check that object has every required property (given sorted) and no
 * property outside allowed, reporting every offender as the schema
 * validator does. */
static int check_properties(json_t *object, const char *const *required, size_t nrequired,
			    const char *const *allowed, size_t nallowed, char *err, size_t errlen)
{
	const char *missing[8];
	const char **unknown = NULL;
	size_t nmissing = 0, nunknown = 0;
	const char *key;
	json_t *value;
	char names[512];
	int status = LCR_OK;

	assert(nrequired <= COUNT_OF(missing));
	for (size_t i = 0; i < nrequired; i++)
		if (json_object_get(object, required[i]) == NULL)
			missing[nmissing++] = required[i];
	if (nmissing > 0) {
		json_quote_names(missing, nmissing, names, sizeof(names));
		return validation_fail(err, errlen, "object has missing required properties (%s)", names);
	}

	unknown = calloc(json_object_size(object) + 1, sizeof(*unknown));
	if (unknown == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	json_object_foreach(object, key, value)
		if (!name_listed(key, allowed, nallowed))
			unknown[nunknown++] = key;
	if (nunknown > 0) {
		qsort(unknown, nunknown, sizeof(*unknown), compare_strings);
		json_quote_names(unknown, nunknown, names, sizeof(names));
		status = validation_fail(err, errlen,
					 "object instance has properties which are not allowed by the schema: (%s)",
					 names);
	}
	free(unknown);
	return status;
}

/* Match value against an enum of strings.  out_index receives the position
 * in names. */
static int check_enum(const json_t *value, const char *const *names, size_t count, size_t *out_index, char *err,
		      size_t errlen)
{
	char quoted[LIFECYCLE_QUOTED_VALUE_MAX + 8];
	char possible[256];

	if (json_is_string(value)) {
		for (size_t i = 0; i < count; i++) {
			if (strcmp(json_string_value(value), names[i]) == 0) {
				*out_index = i;
				return LCR_OK;
			}
		}
	}
	json_quote(value, quoted, sizeof(quoted));
	json_quote_names(names, count, possible, sizeof(possible));
	return validation_fail(err, errlen, "instance value (%s) not found in enum :(possible values: %s)", quoted,
			       possible);
}

/* An integer in [minimum, INT_MAX].  NOTE: ECR documents no maximum; INT_MAX
 * is the range of the integer the policy is read into here. */
static int check_integer(const json_t *value, long minimum, long *out, char *err, size_t errlen)
{
	json_int_t number;
	int status = require_type(value, "integer", err, errlen);

	if (status != LCR_OK)
		return status;
	number = json_integer_value(value);
	if (number < minimum)
		return validation_fail(err, errlen,
				       "numeric instance is lower than the required minimum (minimum: %ld, found: %lld)",
				       minimum, (long long)number);
	if (number > INT_MAX)
		return validation_fail(err, errlen,
				       "numeric instance is greater than the required maximum (maximum: %d, found: %lld)",
				       INT_MAX, (long long)number);
	*out = (long)number;
	return LCR_OK;
}

static int check_array_size(const json_t *value, size_t minimum, size_t maximum, char *err, size_t errlen)
{
	size_t size;
	int status = require_type(value, "array", err, errlen);

	if (status != LCR_OK)
		return status;
	size = json_array_size(value);
	if (size < minimum)
		return validation_fail(err, errlen,
				       "array is too short: must have at least %zu elements but instance has %zu elements",
				       minimum, size);
	if (size > maximum)
		return validation_fail(err, errlen,
				       "array is too long: must have at most %zu elements but instance has %zu elements",
				       maximum, size);
	return LCR_OK;
}

/* Copy a tagPatternList or tagPrefixList: a non-empty array of non-empty
 * strings. */
static int parse_tag_list(const json_t *value, char ***out, size_t *out_count, char *err, size_t errlen)
{
	char **list;
	size_t count;
	int status = check_array_size(value, 1, SIZE_MAX, err, errlen);

	if (status != LCR_OK)
		return status;
	count = json_array_size(value);
	for (size_t i = 0; i < count; i++) {
		const json_t *item = json_array_get(value, i);
		char quoted[LIFECYCLE_QUOTED_VALUE_MAX + 8];

		status = require_type(item, "string", err, errlen);
		if (status != LCR_OK)
			return status;
		if (json_string_length(item) == 0) {
			json_quote(item, quoted, sizeof(quoted));
			return validation_fail(err, errlen, "string %s is too short (length: 0, required minimum: 1)",
					       quoted);
		}
	}

	list = calloc(count, sizeof(*list));
	if (list == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	*out = list;
	for (size_t i = 0; i < count; i++) {
		list[i] = strdup(json_string_value(json_array_get(value, i)));
		if (list[i] == NULL)
			return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
		*out_count = i + 1;
	}
	return LCR_OK;
}

static int parse_selection(json_t *selection, struct lifecycle_rule *rule, char *err, size_t errlen)
{
	static const char *const required[] = {"countNumber", "countType", "tagStatus"};
	static const char *const allowed[] = {"countNumber", "countType",     "countUnit",    "storageClass",
					      "tagPatternList", "tagPrefixList", "tagStatus"};
	json_t *field;
	size_t index;
	int status = require_type(selection, "object", err, errlen);

	if (status != LCR_OK)
		return status;
	status = check_properties(selection, required, COUNT_OF(required), allowed, COUNT_OF(allowed), err, errlen);
	if (status != LCR_OK)
		return status;

	status = check_enum(json_object_get(selection, "tagStatus"), tag_status_enum, COUNT_OF(tag_status_enum),
			    &index, err, errlen);
	if (status != LCR_OK)
		return status;
	for (size_t i = 0; i < COUNT_OF(tag_status_names); i++)
		if (strcmp(tag_status_enum[index], tag_status_names[i]) == 0)
			rule->tag_status = (enum lifecycle_tag_status)i;

	field = json_object_get(selection, "tagPatternList");
	if (field != NULL) {
		status = parse_tag_list(field, &rule->patterns, &rule->npatterns, err, errlen);
		if (status != LCR_OK)
			return status;
	}
	field = json_object_get(selection, "tagPrefixList");
	if (field != NULL) {
		status = parse_tag_list(field, &rule->prefixes, &rule->nprefixes, err, errlen);
		if (status != LCR_OK)
			return status;
	}

	field = json_object_get(selection, "storageClass");
	if (field != NULL) {
		status = check_enum(field, storage_class_enum, COUNT_OF(storage_class_enum), &index, err, errlen);
		if (status != LCR_OK)
			return status;
		rule->archive = strcmp(storage_class_enum[index], "archive") == 0;
	}

	/* ECR reports an unknown countType with its oneOf wording, not the
	 * enum one. */
	field = json_object_get(selection, "countType");
	if (!json_is_string(field) ||
	    !name_listed(json_string_value(field), count_type_names, COUNT_OF(count_type_names)))
		return validation_fail(err, errlen, "instance failed to match exactly one schema (matched 0 out of 2)");
	for (size_t i = 0; i < COUNT_OF(count_type_names); i++)
		if (strcmp(json_string_value(field), count_type_names[i]) == 0)
			rule->count_type = (enum lifecycle_count_type)i;

	field = json_object_get(selection, "countUnit");
	if (field != NULL) {
		status = check_enum(field, count_unit_enum, COUNT_OF(count_unit_enum), &index, err, errlen);
		if (status != LCR_OK)
			return status;
		rule->has_count_unit = true;
	}

	return check_integer(json_object_get(selection, "countNumber"), 1, &rule->count_number, err, errlen);
}

static int parse_action(json_t *action, struct lifecycle_rule *rule, char *err, size_t errlen)
{
	static const char *const required[] = {"type"};
	static const char *const allowed[] = {"targetStorageClass", "type"};
	json_t *field;
	size_t index;
	int status = require_type(action, "object", err, errlen);

	if (status != LCR_OK)
		return status;
	status = check_properties(action, required, COUNT_OF(required), allowed, COUNT_OF(allowed), err, errlen);
	if (status != LCR_OK)
		return status;
	status = check_enum(json_object_get(action, "type"), action_type_enum, COUNT_OF(action_type_enum), &index,
			    err, errlen);
	if (status != LCR_OK)
		return status;
	rule->action = strcmp(action_type_enum[index], "expire") == 0 ? LIFECYCLE_ACTION_EXPIRE
								      : LIFECYCLE_ACTION_TRANSITION;
	field = json_object_get(action, "targetStorageClass");
	if (field != NULL) {
		status = check_enum(field, target_storage_class_enum, COUNT_OF(target_storage_class_enum), &index, err,
				    errlen);
		if (status != LCR_OK)
			return status;
		rule->has_target_storage_class = true;
	}
	return LCR_OK;
}

static int parse_rule(json_t *value, struct lifecycle_rule *rule, char *err, size_t errlen)
{
	static const char *const required[] = {"action", "rulePriority", "selection"};
	static const char *const allowed[] = {"action", "description", "rulePriority", "selection"};
	json_t *description;
	long priority;
	int status = require_type(value, "object", err, errlen);

	if (status != LCR_OK)
		return status;
	status = check_properties(value, required, COUNT_OF(required), allowed, COUNT_OF(allowed), err, errlen);
	if (status != LCR_OK)
		return status;
	status = check_integer(json_object_get(value, "rulePriority"), 1, &priority, err, errlen);
	if (status != LCR_OK)
		return status;
	rule->priority = (int)priority;

	description = json_object_get(value, "description");
	if (description != NULL) {
		status = require_type(description, "string", err, errlen);
		if (status != LCR_OK)
			return status;
		rule->description = strdup(json_string_value(description));
		if (rule->description == NULL)
			return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	}

	status = parse_selection(json_object_get(value, "selection"), rule, err, errlen);
	if (status != LCR_OK)
		return status;
	return parse_action(json_object_get(value, "action"), rule, err, errlen);
}

/* ---- Pass 2: the documented rules for one rule ---- */

static size_t count_wildcards(const char *pattern)
{
	size_t count = 0;

	for (; *pattern != '\0'; pattern++)
		if (*pattern == '*')
			count++;
	return count;
}

/* Check the tag lists: tagged needs exactly one of tagPatternList and
 * tagPrefixList, untagged and any take neither, and a pattern has at most 4
 * wildcards. */
static int validate_rule_tags(const struct lifecycle_rule *rule, char *err, size_t errlen)
{
	const char *status_name = tag_status_names[rule->tag_status];

	if (rule->tag_status == LIFECYCLE_TAG_STATUS_TAGGED && rule->patterns == NULL && rule->prefixes == NULL)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: tagStatus \"tagged\" requires tagPatternList or "
				       "tagPrefixList",
				       rule->priority);
	if (rule->patterns != NULL && rule->prefixes != NULL)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: tagPatternList and tagPrefixList cannot both be set "
				       "in one rule",
				       rule->priority);
	if (rule->tag_status != LIFECYCLE_TAG_STATUS_TAGGED && (rule->patterns != NULL || rule->prefixes != NULL))
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: %s is only allowed with tagStatus \"tagged\", not "
				       "\"%s\"",
				       rule->priority, rule->patterns != NULL ? "tagPatternList" : "tagPrefixList",
				       status_name);
	for (size_t i = 0; i < rule->npatterns; i++) {
		size_t wildcards = count_wildcards(rule->patterns[i]);

		if (wildcards > LIFECYCLE_PATTERN_WILDCARDS_MAX)
			return validation_fail(err, errlen,
					       "Rule with rulePriority %d: tagPatternList entry \"%.*s\" has %zu "
					       "wildcards (*), but at most %d are allowed",
					       rule->priority, LIFECYCLE_QUOTED_VALUE_MAX, rule->patterns[i],
					       wildcards, LIFECYCLE_PATTERN_WILDCARDS_MAX);
	}
	return LCR_OK;
}

/* Check the count type against the rest of the rule.  countUnit goes with
 * the since* count types only.  sinceImageTransitioned selects the archive
 * storage class and expires, and the other count types select the standard
 * class.  sinceImagePulled only transitions, and a transition names its
 * target class. */
static int validate_rule_counting(const struct lifecycle_rule *rule, char *err, size_t errlen)
{
	const char *count_type = count_type_names[rule->count_type];
	bool since = rule->count_type != LIFECYCLE_COUNT_TYPE_IMAGE_COUNT_MORE_THAN;
	bool needs_archive = rule->count_type == LIFECYCLE_COUNT_TYPE_SINCE_IMAGE_TRANSITIONED;

	if (since && !rule->has_count_unit)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: countType \"%s\" requires countUnit \"days\"",
				       rule->priority, count_type);
	if (!since && rule->has_count_unit)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: countUnit is not allowed with countType \"%s\"",
				       rule->priority, count_type);
	if (rule->archive != needs_archive)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: countType \"%s\" requires storageClass \"%s\"",
				       rule->priority, count_type, storage_class_name(needs_archive));
	if (needs_archive && rule->action != LIFECYCLE_ACTION_EXPIRE)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: countType \"%s\" requires action type \"expire\"",
				       rule->priority, count_type);
	if (rule->count_type == LIFECYCLE_COUNT_TYPE_SINCE_IMAGE_PULLED && rule->action != LIFECYCLE_ACTION_TRANSITION)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: countType \"%s\" requires action type "
				       "\"transition\"",
				       rule->priority, count_type);
	if (rule->action == LIFECYCLE_ACTION_TRANSITION && !rule->has_target_storage_class)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: action type \"transition\" requires "
				       "targetStorageClass \"archive\"",
				       rule->priority);
	if (rule->action == LIFECYCLE_ACTION_EXPIRE && rule->has_target_storage_class)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: targetStorageClass is only allowed with action type "
				       "\"transition\"",
				       rule->priority);
	if (needs_archive && rule->count_number < LIFECYCLE_ARCHIVE_MIN_DAYS)
		return validation_fail(err, errlen,
				       "Rule with rulePriority %d: countNumber for countType \"%s\" must be at least "
				       "%d days, because archived images have a %d-day minimum storage duration "
				       "(found: %ld)",
				       rule->priority, count_type, LIFECYCLE_ARCHIVE_MIN_DAYS,
				       LIFECYCLE_ARCHIVE_MIN_DAYS, rule->count_number);
	return LCR_OK;
}

/* ---- Pass 3: the rules across rules ---- */

static int compare_rule_priority(const void *a, const void *b)
{
	const struct lifecycle_rule *x = a, *y = b;

	return (x->priority > y->priority) - (x->priority < y->priority);
}

static bool list_contains(char *const *list, size_t count, const char *entry)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(list[i], entry) == 0)
			return true;
	return false;
}

/* Compare two tag lists as sets: order and repeats do not matter. */
static bool same_tag_set(char *const *a, size_t na, char *const *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		if (!list_contains(b, nb, a[i]))
			return false;
	for (size_t i = 0; i < nb; i++)
		if (!list_contains(a, na, b[i]))
			return false;
	return true;
}

static bool same_selection_tags(const struct lifecycle_rule *a, const struct lifecycle_rule *b)
{
	if (a->tag_status != LIFECYCLE_TAG_STATUS_TAGGED || b->tag_status != LIFECYCLE_TAG_STATUS_TAGGED)
		return false;
	if (a->patterns != NULL && b->patterns != NULL)
		return same_tag_set(a->patterns, a->npatterns, b->patterns, b->npatterns);
	if (a->prefixes != NULL && b->prefixes != NULL)
		return same_tag_set(a->prefixes, a->nprefixes, b->prefixes, b->nprefixes);
	return false;
}

/* Check the rules that select one storage class.  Rules are sorted by
 * priority, so the last one selecting the class has the highest. */
static int validate_storage_class(const struct lifecycle_policy *policy, bool archive, char *err, size_t errlen)
{
	const struct lifecycle_rule *last = NULL, *untagged = NULL;

	for (size_t i = 0; i < policy->nrules; i++)
		if (policy->rules[i].archive == archive)
			last = &policy->rules[i];

	for (size_t i = 0; i < policy->nrules; i++) {
		const struct lifecycle_rule *rule = &policy->rules[i];

		if (rule->archive != archive)
			continue;
		/* ECR: a rule with tagStatus any "must have the highest value
		 * for rulePriority and be evaluated last".  ECR's own example
		 * pairs an any rule for standard with a later any rule for
		 * archive, so the rule applies per storage class. */
		if (rule->tag_status == LIFECYCLE_TAG_STATUS_ANY && rule != last)
			return validation_fail(err, errlen,
					       "Rule with rulePriority %d: a rule with tagStatus \"any\" must have the "
					       "highest rulePriority of the rules for storageClass \"%s\", but the rule "
					       "with rulePriority %d comes later",
					       rule->priority, storage_class_name(archive), last->priority);
		if (rule->tag_status == LIFECYCLE_TAG_STATUS_UNTAGGED) {
			if (untagged != NULL)
				return validation_fail(err, errlen,
						       "Rules with rulePriority %d and %d both select untagged images; "
						       "only one rule per storage class (here \"%s\") may select "
						       "untagged images",
						       untagged->priority, rule->priority, storage_class_name(archive));
			untagged = rule;
		}
		/* ECR: "The set of all rules selecting a specific storage
		 * class must contain a unique set of prefixes."  Read here as:
		 * no two rules of a class list the same set of tags. */
		for (size_t j = 0; j < i; j++) {
			const struct lifecycle_rule *other = &policy->rules[j];

			if (other->archive == archive && same_selection_tags(other, rule))
				return validation_fail(err, errlen,
						       "Rules with rulePriority %d and %d select the same %s; each rule "
						       "for a storage class (here \"%s\") needs a unique set of tags",
						       other->priority, rule->priority,
						       rule->patterns != NULL ? "tagPatternList" : "tagPrefixList",
						       storage_class_name(archive));
		}
	}
	return LCR_OK;
}

static int validate_rules(struct lifecycle_policy *policy, char *err, size_t errlen)
{
	int status;

	qsort(policy->rules, policy->nrules, sizeof(policy->rules[0]), compare_rule_priority);
	for (size_t i = 1; i < policy->nrules; i++)
		if (policy->rules[i].priority == policy->rules[i - 1].priority)
			return validation_fail(err, errlen,
					       "rulePriority %d is used by more than one rule; each rule needs a "
					       "unique rulePriority",
					       policy->rules[i].priority);
	status = validate_storage_class(policy, false, err, errlen);
	if (status != LCR_OK)
		return status;
	return validate_storage_class(policy, true, err, errlen);
}

/* Count characters as UTF-16 code units, the unit in which AWS services
 * measure string lengths: a 4-byte UTF-8 sequence is 2 units, any other
 * sequence 1.  NOTE: the unit is an inference that ECR does not document. */
static size_t text_length(const char *text, size_t len)
{
	size_t units = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char byte = (unsigned char)text[i];

		if ((byte & 0xC0) != 0x80)
			units++;
		if (byte >= 0xF0)
			units++;
	}
	return units;
}

int lifecycle_parse(const char *text, size_t len, struct lifecycle_policy **out, char *err, size_t errlen)
{
	static const char *const required[] = {"rules"};
	static const char *const allowed[] = {"rules"};
	struct lifecycle_policy *policy = NULL;
	json_error_t json_error;
	json_t *root = NULL, *rules;
	size_t length = text_length(text, len), nrules;
	int status;

	*out = NULL;
	/* NOTE: ECR states this limit in its API model, where clients such as
	 * botocore enforce it before sending, so ECR's own message for it is
	 * not known. */
	if (length < LIFECYCLE_TEXT_MIN || length > LIFECYCLE_TEXT_MAX)
		return validation_fail(err, errlen,
				       "lifecyclePolicyText must be %d to %d characters long, but it has %zu", LIFECYCLE_TEXT_MIN,
				       LIFECYCLE_TEXT_MAX, length);

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_error);
	if (!json_is_object(root)) {
		status = validation_fail(err, errlen, "Could not map policyString into LifecyclePolicy.");
		goto out;
	}
	status = check_properties(root, required, COUNT_OF(required), allowed, COUNT_OF(allowed), err, errlen);
	if (status != LCR_OK)
		goto out;
	rules = json_object_get(root, "rules");
	status = check_array_size(rules, 1, LIFECYCLE_RULES_MAX, err, errlen);
	if (status != LCR_OK)
		goto out;

	nrules = json_array_size(rules);
	policy = calloc(1, sizeof(*policy));
	if (policy != NULL)
		policy->rules = calloc(nrules, sizeof(policy->rules[0]));
	if (policy == NULL || policy->rules == NULL) {
		status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nrules; i++) {
		policy->nrules = i + 1;
		status = parse_rule(json_array_get(rules, i), &policy->rules[i], err, errlen);
		if (status != LCR_OK)
			goto out;
	}
	for (size_t i = 0; i < nrules; i++) {
		status = validate_rule_tags(&policy->rules[i], err, errlen);
		if (status != LCR_OK)
			goto out;
		status = validate_rule_counting(&policy->rules[i], err, errlen);
		if (status != LCR_OK)
			goto out;
	}
	status = validate_rules(policy, err, errlen);
	if (status != LCR_OK)
		goto out;

	*out = policy;
	policy = NULL;
out:
	json_decref(root);
	lifecycle_free(policy);
	return status;
}

static void free_tag_list(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

void lifecycle_free(struct lifecycle_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		free(p->rules[i].description);
		free_tag_list(p->rules[i].patterns, p->rules[i].npatterns);
		free_tag_list(p->rules[i].prefixes, p->rules[i].nprefixes);
	}
	free(p->rules);
	free(p);
}

size_t lifecycle_rule_count(const struct lifecycle_policy *p)
{
	return p->nrules;
}

void lifecycle_rule_info(const struct lifecycle_policy *p, size_t index, struct lifecycle_rule_info *out)
{
	const struct lifecycle_rule *rule;

	assert(index < p->nrules);
	rule = &p->rules[index];
	out->priority = rule->priority;
	out->description = rule->description != NULL ? rule->description : "";
	out->tag_status = tag_status_names[rule->tag_status];
	out->count_type = count_type_names[rule->count_type];
	out->count_number = rule->count_number;
	out->action = rule->action == LIFECYCLE_ACTION_TRANSITION ? "transition" : "expire";
	out->storage_class = storage_class_name(rule->archive);
}

const char *const *lifecycle_rule_tag_list(const struct lifecycle_policy *p, size_t index, size_t *out_count,
					   bool *out_is_prefix)
{
	const struct lifecycle_rule *rule;

	assert(index < p->nrules);
	rule = &p->rules[index];
	if (out_is_prefix != NULL)
		*out_is_prefix = rule->prefixes != NULL;
	if (rule->prefixes != NULL) {
		*out_count = rule->nprefixes;
		return (const char *const *)rule->prefixes;
	}
	*out_count = rule->npatterns;
	return (const char *const *)rule->patterns;
}
