/*
 * test_lifecycle.c - lifecycle policy grammar, validation and evaluation.
 *
 * Policies are written with single quotes to keep the tables readable.
 * policy_text() turns them into double quotes and pads the text with
 * trailing spaces to ECR's 100-character minimum.  The evaluation vectors
 * are the worked examples of ECR's lifecycle policy documentation, with
 * the outcomes stated there.
 */
#include "check.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/status.h"
#include "../../registry/lifecycle.h"

#define NOW 1700000000.0
#define DAY 86400.0
#define ERROR_PREFIX \
	"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: "

/* Rules in single-quoted JSON. */
#define EXPIRE "'action':{'type':'expire'}"
#define ARCHIVE "'action':{'type':'transition','targetStorageClass':'archive'}"
#define COUNT_MORE_THAN(n) "'countType':'imageCountMoreThan','countNumber':" #n
#define SINCE(type, n) "'countType':'" type "','countUnit':'days','countNumber':" #n
#define RULE(priority, selection, action) "{'rulePriority':" #priority ",'selection':{" selection "}," action "}"
#define POLICY(...) "{'rules':[" __VA_ARGS__ "]}"

#define TAGGED_PATTERNS(list) "'tagStatus':'tagged','tagPatternList':[" list "],"
#define TAGGED_PREFIXES(list) "'tagStatus':'tagged','tagPrefixList':[" list "],"
#define UNTAGGED "'tagStatus':'untagged',"
#define ANY "'tagStatus':'any',"

/* Write spec into out with ' turned into ", padded with spaces to the
 * 100-character minimum when pad is set. */
static void policy_text(const char *spec, bool pad, char *out, size_t outlen)
{
	size_t len = strlen(spec);

	if (len + 1 > outlen)
		len = outlen - 1;
	for (size_t i = 0; i < len; i++)
		out[i] = spec[i] == '\'' ? '"' : spec[i];
	while (pad && len < LIFECYCLE_TEXT_MIN && len + 1 < outlen)
		out[len++] = ' ';
	out[len] = '\0';
}

static int parse_spec(const char *spec, struct lifecycle_policy **out, char *err, size_t errlen)
{
	char text[8192];

	policy_text(spec, true, text, sizeof(text));
	return lifecycle_parse(text, strlen(text), out, err, errlen);
}

/* ---- Evaluation vectors ---- */

/* One image of a vector.  Times are days before NOW, and 0 means never for
 * pulled, activated and archived. */
struct vector_image {
	const char *name;
	const char *tags[4];
	double pushed_days;
	double pulled_days;
	double activated_days;
	double archived_days;
	bool archived;
	bool referenced;
	enum lifecycle_action expected;
	int expected_priority;
};

struct vector {
	const char *name;
	const char *policy;
	struct vector_image images[10]; /* ends at the first entry without a name */
};

#define NONE LIFECYCLE_ACTION_NONE
#define EXPIRED LIFECYCLE_ACTION_EXPIRE
#define ARCHIVED LIFECYCLE_ACTION_TRANSITION

static const struct vector vectors[] = {
	/* T1: rule 2 would mark A and B, but rule 1 selects both first. */
	{"t1_prod_before_beta",
	 POLICY(RULE(1, TAGGED_PATTERNS("'prod*'") COUNT_MORE_THAN(1), EXPIRE) ","
	        RULE(2, TAGGED_PATTERNS("'beta*'") COUNT_MORE_THAN(1), EXPIRE)),
	 {{"A", {"beta-1", "prod-1"}, 10, .expected = EXPIRED, .expected_priority = 1},
	  {"B", {"beta-2", "prod-2"}, 9, .expected = NONE},
	  {"C", {"beta-3"}, 8, .expected = NONE}}},
	/* T1 with the tagPrefixList of ECR's 2022 documentation. */
	{"t1_with_prefix_lists",
	 POLICY(RULE(1, TAGGED_PREFIXES("'prod'") COUNT_MORE_THAN(1), EXPIRE) ","
	        RULE(2, TAGGED_PREFIXES("'beta'") COUNT_MORE_THAN(1), EXPIRE)),
	 {{"A", {"beta-1", "prod-1"}, 10, .expected = EXPIRED, .expected_priority = 1},
	  {"B", {"beta-2", "prod-2"}, 9, .expected = NONE},
	  {"C", {"beta-3"}, 8, .expected = NONE}}},
	{"t2_beta_before_prod",
	 POLICY(RULE(1, TAGGED_PATTERNS("'beta*'") COUNT_MORE_THAN(1), EXPIRE) ","
	        RULE(2, TAGGED_PATTERNS("'prod*'") COUNT_MORE_THAN(1), EXPIRE)),
	 {{"A", {"beta-1", "prod-1"}, 10, .expected = EXPIRED, .expected_priority = 1},
	  {"B", {"beta-2", "prod-2"}, 9, .expected = EXPIRED, .expected_priority = 1},
	  {"C", {"beta-3"}, 8, .expected = NONE}}},
	/* T2 again with the rules listed in reverse: priority, not document
	 * order, decides. */
	{"t2_document_order_ignored",
	 POLICY(RULE(2, TAGGED_PATTERNS("'prod*'") COUNT_MORE_THAN(1), EXPIRE) ","
	        RULE(1, TAGGED_PATTERNS("'beta*'") COUNT_MORE_THAN(1), EXPIRE)),
	 {{"A", {"beta-1", "prod-1"}, 10, .expected = EXPIRED, .expected_priority = 1},
	  {"B", {"beta-2", "prod-2"}, 9, .expected = EXPIRED, .expected_priority = 1},
	  {"C", {"beta-3"}, 8, .expected = NONE}}},
	/* T3: only C and F carry both an alpha and a beta tag. */
	{"t3_every_pattern_must_match",
	 POLICY(RULE(1, TAGGED_PATTERNS("'alpha*','beta*'") SINCE("sinceImagePushed", 5), EXPIRE)),
	 {{"A", {"alpha-1"}, 12, .expected = NONE},
	  {"B", {"beta-1"}, 11, .expected = NONE},
	  {"C", {"alpha-2", "beta-2"}, 10, .expected = EXPIRED, .expected_priority = 1},
	  {"D", {"alpha-3"}, 4, .expected = NONE},
	  {"E", {"beta-3"}, 3, .expected = NONE},
	  {"F", {"alpha-4", "beta-4"}, 2, .expected = NONE}}},
	/* T4: extra tags do not stop a match. */
	{"t4_tags_not_exclusive",
	 POLICY(RULE(1, TAGGED_PATTERNS("'alpha*','beta*'") COUNT_MORE_THAN(1), EXPIRE)),
	 {{"A", {"alpha-1", "beta-1", "gamma-1"}, 10, .expected = EXPIRED, .expected_priority = 1},
	  {"B", {"alpha-2", "beta-2"}, 9, .expected = EXPIRED, .expected_priority = 1},
	  {"C", {"alpha-3", "beta-3", "gamma-2"}, 8, .expected = NONE}}},
	{"t5_any_keeps_newest",
	 POLICY(RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE)),
	 {{"A", {"alpha-1"}, 4, .expected = EXPIRED, .expected_priority = 1},
	  {"B", {"beta-1"}, 3, .expected = EXPIRED, .expected_priority = 1},
	  {"C", {NULL}, 2, .expected = EXPIRED, .expected_priority = 1},
	  {"D", {"alpha-2"}, 1, .expected = NONE}}},
	/* T6: D and E were both pushed a day ago.  E comes later in the list,
	 * so it counts as the newest and rule 3 keeps it. */
	{"t6_all_rule_types",
	 POLICY(RULE(1, TAGGED_PATTERNS("'alpha*'") COUNT_MORE_THAN(1), EXPIRE) ","
	        RULE(2, UNTAGGED SINCE("sinceImagePushed", 1), EXPIRE) ","
	        RULE(3, ANY COUNT_MORE_THAN(1), EXPIRE)),
	 {{"A", {"alpha-1", "beta-1"}, 4, .expected = EXPIRED, .expected_priority = 1},
	  {"B", {NULL}, 3, .expected = EXPIRED, .expected_priority = 2},
	  {"C", {"alpha-2"}, 2, .expected = NONE},
	  {"D", {"git hash"}, 1, .expected = EXPIRED, .expected_priority = 3},
	  {"E", {NULL}, 1, .expected = NONE}}},
	{"untagged_keeps_newest_untagged",
	 POLICY(RULE(1, UNTAGGED COUNT_MORE_THAN(1), EXPIRE)),
	 {{"old", {NULL}, 5, .expected = EXPIRED, .expected_priority = 1},
	  {"middle", {NULL}, 3, .expected = EXPIRED, .expected_priority = 1},
	  {"newest", {NULL}, 1, .expected = NONE},
	  {"tagged", {"v1"}, 10, .expected = NONE}}},
	{"pulled_90_days_archives",
	 POLICY(RULE(1, ANY SINCE("sinceImagePulled", 90), ARCHIVE)),
	 {{"never_pulled_old", {"a"}, 100, .expected = ARCHIVED, .expected_priority = 1},
	  {"never_pulled_new", {"b"}, 30, .expected = NONE},
	  {"pulled_recently", {"c"}, 200, .pulled_days = 10, .expected = NONE},
	  {"pulled_long_ago", {NULL}, 200, .pulled_days = 120, .expected = ARCHIVED, .expected_priority = 1},
	  {"restored_recently", {"d"}, 300, .pulled_days = 200, .activated_days = 10, .expected = NONE},
	  {"restored_long_ago", {"e"}, 300, .activated_days = 100, .expected = ARCHIVED, .expected_priority = 1},
	  {"pulled_after_restore", {"f"}, 300, .pulled_days = 95, .activated_days = 200, .expected = ARCHIVED,
	   .expected_priority = 1},
	  {"pulled_just_after_restore", {"g"}, 300, .pulled_days = 20, .activated_days = 200, .expected = NONE},
	  {"already_archived", {"h"}, 400, .archived_days = 200, .archived = true, .expected = NONE}}},
	{"transitioned_365_days_expires",
	 POLICY(RULE(1, ANY "'storageClass':'archive'," SINCE("sinceImageTransitioned", 365), EXPIRE)),
	 {{"archived_long_ago", {"a"}, 500, .archived_days = 400, .archived = true, .expected = EXPIRED,
	   .expected_priority = 1},
	  {"archived_recently", {"b"}, 500, .archived_days = 100, .archived = true, .expected = NONE},
	  {"standard_old", {"c"}, 1000, .expected = NONE}}},
	/* ECR's example that archives after 30 days and deletes after a year
	 * in archive: one any rule per storage class. */
	{"archive_then_expire",
	 POLICY(RULE(1, ANY SINCE("sinceImagePushed", 30), ARCHIVE) ","
	        RULE(2, ANY "'storageClass':'archive'," SINCE("sinceImageTransitioned", 365), EXPIRE)),
	 {{"standard_new", {"a"}, 10, .expected = NONE},
	  {"standard_old", {"b"}, 40, .expected = ARCHIVED, .expected_priority = 1},
	  {"archived_long_ago", {"c"}, 800, .archived_days = 400, .archived = true, .expected = EXPIRED,
	   .expected_priority = 2},
	  {"archived_recently", {NULL}, 800, .archived_days = 200, .archived = true, .expected = NONE}}},
	/* An image an index lists is never acted on but still counts. */
	{"index_child_counts_not_expired",
	 POLICY(RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE)),
	 {{"child", {NULL}, 3, .referenced = true, .expected = NONE},
	  {"older", {"v1"}, 4, .expected = EXPIRED, .expected_priority = 1},
	  {"middle", {"v2"}, 2, .expected = EXPIRED, .expected_priority = 1},
	  {"newest", {"v3"}, 1, .expected = NONE}}},
	/* The referenced image still belongs to rule 1, so rule 2 cannot
	 * act on it either. */
	{"index_child_owned_by_first_rule",
	 POLICY(RULE(1, TAGGED_PATTERNS("'base*'") COUNT_MORE_THAN(5), EXPIRE) ","
	        RULE(2, ANY COUNT_MORE_THAN(1), EXPIRE)),
	 {{"child", {"base-1"}, 9, .referenced = true, .expected = NONE},
	  {"old", {"app-1"}, 8, .expected = EXPIRED, .expected_priority = 2},
	  {"new", {"app-2"}, 1, .expected = NONE}}},
	/* A restored image counts from its restore time. */
	{"restored_counts_as_new",
	 POLICY(RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE)),
	 {{"restored", {"old"}, 100, .activated_days = 1, .expected = NONE},
	  {"pushed", {"new"}, 5, .expected = EXPIRED, .expected_priority = 1}}},
	/* Archived images are outside a standard rule: not counted, not
	 * expired. */
	{"standard_rule_skips_archive",
	 POLICY(RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE)),
	 {{"archived_newest", {"a"}, 1, .archived_days = 1, .archived = true, .expected = NONE},
	  {"newer", {"b"}, 3, .expected = NONE},
	  {"older", {"c"}, 5, .expected = EXPIRED, .expected_priority = 1}}},
	/* "Older than" is strict: exactly countNumber days is kept. */
	{"pushed_age_is_strict",
	 POLICY(RULE(1, TAGGED_PATTERNS("'v*'") SINCE("sinceImagePushed", 5), EXPIRE)),
	 {{"exactly", {"v1"}, 5, .expected = NONE},
	  {"older", {"v2"}, 5.01, .expected = EXPIRED, .expected_priority = 1},
	  {"untagged", {NULL}, 50, .expected = NONE}}},
	{"wildcard_in_middle",
	 POLICY(RULE(1, TAGGED_PATTERNS("'*prod*'") COUNT_MORE_THAN(1), EXPIRE)),
	 {{"old", {"repo-production"}, 3, .expected = EXPIRED, .expected_priority = 1},
	  {"other", {"staging"}, 2, .expected = NONE},
	  {"new", {"prod-team"}, 1, .expected = NONE}}},
	/* A rule that selects an image but does not mark it still keeps
	 * later rules from acting on it. */
	{"unmarked_image_protected",
	 POLICY(RULE(1, TAGGED_PREFIXES("'release'") SINCE("sinceImagePushed", 365), EXPIRE) ","
	        RULE(2, ANY SINCE("sinceImagePushed", 7), EXPIRE)),
	 {{"release", {"release-1.0"}, 30, .expected = NONE},
	  {"feature", {"feature-x"}, 30, .expected = EXPIRED, .expected_priority = 2},
	  {"fresh", {"feature-y"}, 1, .expected = NONE}}},
};

static const char *action_name(enum lifecycle_action action)
{
	switch (action) {
	case LIFECYCLE_ACTION_NONE:
		return "none";
	case LIFECYCLE_ACTION_EXPIRE:
		return "expire";
	case LIFECYCLE_ACTION_TRANSITION:
		return "transition";
	}
	return "?";
}

static double days_ago(double days)
{
	return days > 0 ? NOW - days * DAY : 0;
}

static void run_vector(const struct vector *v)
{
	struct lifecycle_image images[10];
	struct lifecycle_outcome outcomes[10];
	struct lifecycle_policy *policy = NULL;
	char err[1024] = "";
	size_t n = 0;
	int status = parse_spec(v->policy, &policy, err, sizeof(err));

	CHECK(status == LCR_OK);
	if (status != LCR_OK) {
		fprintf(stderr, "vector %s: policy rejected: %s\n", v->name, err);
		return;
	}
	for (; n < 10 && v->images[n].name != NULL; n++) {
		const struct vector_image *src = &v->images[n];
		size_t ntags = 0;

		while (ntags < 4 && src->tags[ntags] != NULL)
			ntags++;
		images[n] = (struct lifecycle_image){
			.digest = src->name,
			.tags = src->tags,
			.ntags = ntags,
			.pushed_at = NOW - src->pushed_days * DAY,
			.last_pulled_at = days_ago(src->pulled_days),
			.last_activated_at = days_ago(src->activated_days),
			.last_archived_at = days_ago(src->archived_days),
			.archived = src->archived,
			.referenced_by_index = src->referenced,
		};
	}
	CHECK(lifecycle_evaluate(policy, images, n, NOW, outcomes) == LCR_OK);
	for (size_t i = 0; i < n; i++) {
		const struct vector_image *src = &v->images[i];
		int expected_priority = src->expected == NONE ? 0 : src->expected_priority;
		bool action_ok = outcomes[i].action == src->expected;
		bool priority_ok = outcomes[i].rule_priority == expected_priority;

		CHECK(action_ok);
		CHECK(priority_ok);
		if (!action_ok || !priority_ok)
			fprintf(stderr, "vector %s image %s: expected %s by rule %d, got %s by rule %d\n", v->name,
				src->name, action_name(src->expected), expected_priority,
				action_name(outcomes[i].action), outcomes[i].rule_priority);
	}
	lifecycle_free(policy);
}

static void test_evaluation_vectors(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		run_vector(&vectors[i]);
}

static void test_evaluate_no_images(void)
{
	struct lifecycle_policy *policy = NULL;
	char err[1024] = "";

	CHECK(parse_spec(POLICY(RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE)), &policy, err, sizeof(err)) == LCR_OK);
	CHECK(lifecycle_evaluate(policy, NULL, 0, NOW, NULL) == LCR_OK);
	lifecycle_free(policy);
	lifecycle_free(NULL);
}

/* ---- Validation ---- */

struct invalid_case {
	const char *name;
	const char *policy;
	const char *detail; /* expected substring of the detail */
};

static const struct invalid_case invalid_cases[] = {
	/* Shape, in the JSON-schema validator's words. */
	{"not_json", "{'rules':[", "Could not map policyString into LifecyclePolicy."},
	{"root_not_object", "[" RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE) "]",
	 "Could not map policyString into LifecyclePolicy."},
	{"duplicate_key", "{'rules':[],'rules':[" RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE) "]}",
	 "Could not map policyString into LifecyclePolicy."},
	{"rules_missing", "{'ruless':[" RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE) "]}",
	 "object has missing required properties ([\"rules\"])"},
	{"root_unknown_property", "{'foo':1,'rules':[" RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE) "],'bar':2}",
	 "object instance has properties which are not allowed by the schema: ([\"bar\",\"foo\"])"},
	{"rules_not_array", "{'rules':" RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE) "}",
	 "instance type (object) does not match any allowed primitive type (allowed: [\"array\"])"},
	{"rules_empty", "{'rules':[]}",
	 "array is too short: must have at least 1 elements but instance has 0 elements"},
	{"rule_not_object", "{'rules':[1]}",
	 "instance type (integer) does not match any allowed primitive type (allowed: [\"object\"])"},
	{"rule_priority_missing", "{'rules':[{'selection':{" ANY COUNT_MORE_THAN(1) "}," EXPIRE "}]}",
	 "object has missing required properties ([\"rulePriority\"])"},
	{"rule_selection_action_missing", "{'rules':[{'rulePriority':1}]}",
	 "object has missing required properties ([\"action\",\"selection\"])"},
	{"rule_unknown_property",
	 "{'rules':[{'rulePriority':1,'foo':true,'selection':{" ANY COUNT_MORE_THAN(1) "}," EXPIRE "}]}",
	 "object instance has properties which are not allowed by the schema: ([\"foo\"])"},
	{"rule_priority_zero", POLICY(RULE(0, ANY COUNT_MORE_THAN(1), EXPIRE)),
	 "numeric instance is lower than the required minimum (minimum: 1, found: 0)"},
	{"rule_priority_string", POLICY(RULE('1', ANY COUNT_MORE_THAN(1), EXPIRE)),
	 "instance type (string) does not match any allowed primitive type (allowed: [\"integer\"])"},
	{"rule_priority_fraction", POLICY(RULE(1.5, ANY COUNT_MORE_THAN(1), EXPIRE)),
	 "instance type (number) does not match any allowed primitive type (allowed: [\"integer\"])"},
	{"rule_priority_too_large", POLICY(RULE(2147483648, ANY COUNT_MORE_THAN(1), EXPIRE)),
	 "numeric instance is greater than the required maximum (maximum: 2147483647, found: 2147483648)"},
	{"description_not_string",
	 "{'rules':[{'rulePriority':1,'description':7,'selection':{" ANY COUNT_MORE_THAN(1) "}," EXPIRE "}]}",
	 "instance type (integer) does not match any allowed primitive type (allowed: [\"string\"])"},
	{"selection_not_object", "{'rules':[{'rulePriority':1,'selection':'any'," EXPIRE "}]}",
	 "instance type (string) does not match any allowed primitive type (allowed: [\"object\"])"},
	{"selection_count_number_missing",
	 "{'rules':[{'rulePriority':1,'selection':{'tagStatus':'any','countType':'imageCountMoreThan'}," EXPIRE "}]}",
	 "object has missing required properties ([\"countNumber\"])"},
	{"selection_unknown_property", POLICY(RULE(1, ANY "'tagList':['a']," COUNT_MORE_THAN(1), EXPIRE)),
	 "object instance has properties which are not allowed by the schema: ([\"tagList\"])"},
	{"tag_status_unknown", POLICY(RULE(1, "'tagStatus':'bogus'," COUNT_MORE_THAN(1), EXPIRE)),
	 "instance value (\"bogus\") not found in enum :(possible values: [\"any\",\"tagged\",\"untagged\"])"},
	{"tag_status_number", POLICY(RULE(1, "'tagStatus':3," COUNT_MORE_THAN(1), EXPIRE)),
	 "instance value (3) not found in enum :(possible values: [\"any\",\"tagged\",\"untagged\"])"},
	{"pattern_list_empty", POLICY(RULE(1, TAGGED_PATTERNS("") COUNT_MORE_THAN(1), EXPIRE)),
	 "array is too short: must have at least 1 elements but instance has 0 elements"},
	{"pattern_list_not_array", POLICY(RULE(1, "'tagStatus':'tagged','tagPatternList':'a*'," COUNT_MORE_THAN(1),
					       EXPIRE)),
	 "instance type (string) does not match any allowed primitive type (allowed: [\"array\"])"},
	{"pattern_empty_string", POLICY(RULE(1, TAGGED_PATTERNS("'a*',''") COUNT_MORE_THAN(1), EXPIRE)),
	 "string \"\" is too short (length: 0, required minimum: 1)"},
	{"prefix_not_string", POLICY(RULE(1, TAGGED_PREFIXES("'a',2") COUNT_MORE_THAN(1), EXPIRE)),
	 "instance type (integer) does not match any allowed primitive type (allowed: [\"string\"])"},
	{"storage_class_unknown", POLICY(RULE(1, ANY "'storageClass':'glacier'," COUNT_MORE_THAN(1), EXPIRE)),
	 "instance value (\"glacier\") not found in enum :(possible values: [\"archive\",\"standard\"])"},
	{"count_type_unknown", POLICY(RULE(1, ANY "'countType':'imageCountLessThan','countNumber':1", EXPIRE)),
	 "instance failed to match exactly one schema (matched 0 out of 2)"},
	{"count_unit_unknown",
	 POLICY(RULE(1, ANY "'countType':'sinceImagePushed','countUnit':'hours','countNumber':1", EXPIRE)),
	 "instance value (\"hours\") not found in enum :(possible values: [\"days\"])"},
	{"count_number_zero", POLICY(RULE(1, ANY COUNT_MORE_THAN(0), EXPIRE)),
	 "numeric instance is lower than the required minimum (minimum: 1, found: 0)"},
	{"count_number_negative", POLICY(RULE(1, ANY COUNT_MORE_THAN(-3), EXPIRE)),
	 "numeric instance is lower than the required minimum (minimum: 1, found: -3)"},
	{"count_number_string", POLICY(RULE(1, ANY COUNT_MORE_THAN('1'), EXPIRE)),
	 "instance type (string) does not match any allowed primitive type (allowed: [\"integer\"])"},
	{"action_not_object", "{'rules':[{'rulePriority':1,'selection':{" ANY COUNT_MORE_THAN(1) "},'action':'expire'}]}",
	 "instance type (string) does not match any allowed primitive type (allowed: [\"object\"])"},
	{"action_type_missing", POLICY(RULE(1, ANY COUNT_MORE_THAN(1), "'action':{'targetStorageClass':'archive'}")),
	 "object has missing required properties ([\"type\"])"},
	{"action_unknown_property", POLICY(RULE(1, ANY COUNT_MORE_THAN(1), "'action':{'type':'expire','when':'now'}")),
	 "object instance has properties which are not allowed by the schema: ([\"when\"])"},
	{"action_type_unknown", POLICY(RULE(1, ANY COUNT_MORE_THAN(1), "'action':{'type':'delete'}")),
	 "instance value (\"delete\") not found in enum :(possible values: [\"expire\",\"transition\"])"},
	{"target_storage_class_unknown",
	 POLICY(RULE(1, ANY SINCE("sinceImagePulled", 90), "'action':{'type':'transition','targetStorageClass':'standard'}")),
	 "instance value (\"standard\") not found in enum :(possible values: [\"archive\"])"},

	/* The documented rules for one rule. */
	{"tagged_without_list", POLICY(RULE(4, "'tagStatus':'tagged'," COUNT_MORE_THAN(1), EXPIRE)),
	 "Rule with rulePriority 4: tagStatus \"tagged\" requires tagPatternList or tagPrefixList"},
	{"tagged_with_both_lists",
	 POLICY(RULE(1, "'tagStatus':'tagged','tagPatternList':['a*'],'tagPrefixList':['a']," COUNT_MORE_THAN(1),
		     EXPIRE)),
	 "Rule with rulePriority 1: tagPatternList and tagPrefixList cannot both be set in one rule"},
	{"untagged_with_patterns", POLICY(RULE(1, UNTAGGED "'tagPatternList':['a*']," COUNT_MORE_THAN(1), EXPIRE)),
	 "Rule with rulePriority 1: tagPatternList is only allowed with tagStatus \"tagged\", not \"untagged\""},
	{"any_with_prefixes", POLICY(RULE(2, ANY "'tagPrefixList':['a']," COUNT_MORE_THAN(1), EXPIRE)),
	 "Rule with rulePriority 2: tagPrefixList is only allowed with tagStatus \"tagged\", not \"any\""},
	{"pattern_six_wildcards", POLICY(RULE(1, TAGGED_PATTERNS("'test*1*2*3*4*5*6'") COUNT_MORE_THAN(1), EXPIRE)),
	 "Rule with rulePriority 1: tagPatternList entry \"test*1*2*3*4*5*6\" has 6 wildcards (*), but at most 4 "
	 "are allowed"},
	{"pattern_five_wildcards", POLICY(RULE(1, TAGGED_PATTERNS("'ok*','*a*b*c*d*'") COUNT_MORE_THAN(1), EXPIRE)),
	 "has 5 wildcards (*), but at most 4 are allowed"},
	{"count_unit_missing", POLICY(RULE(3, ANY "'countType':'sinceImagePushed','countNumber':1", EXPIRE)),
	 "Rule with rulePriority 3: countType \"sinceImagePushed\" requires countUnit \"days\""},
	{"count_unit_with_count_type",
	 POLICY(RULE(1, ANY "'countType':'imageCountMoreThan','countUnit':'days','countNumber':1", EXPIRE)),
	 "Rule with rulePriority 1: countUnit is not allowed with countType \"imageCountMoreThan\""},
	{"transitioned_default_standard", POLICY(RULE(1, ANY SINCE("sinceImageTransitioned", 365), EXPIRE)),
	 "Rule with rulePriority 1: countType \"sinceImageTransitioned\" requires storageClass \"archive\""},
	{"pushed_in_archive", POLICY(RULE(1, ANY "'storageClass':'archive'," SINCE("sinceImagePushed", 30), EXPIRE)),
	 "Rule with rulePriority 1: countType \"sinceImagePushed\" requires storageClass \"standard\""},
	{"count_in_archive", POLICY(RULE(1, ANY "'storageClass':'archive'," COUNT_MORE_THAN(3), EXPIRE)),
	 "Rule with rulePriority 1: countType \"imageCountMoreThan\" requires storageClass \"standard\""},
	{"pulled_in_archive", POLICY(RULE(1, ANY "'storageClass':'archive'," SINCE("sinceImagePulled", 90), ARCHIVE)),
	 "Rule with rulePriority 1: countType \"sinceImagePulled\" requires storageClass \"standard\""},
	{"transitioned_with_transition",
	 POLICY(RULE(1, ANY "'storageClass':'archive'," SINCE("sinceImageTransitioned", 365), ARCHIVE)),
	 "Rule with rulePriority 1: countType \"sinceImageTransitioned\" requires action type \"expire\""},
	{"pulled_with_expire", POLICY(RULE(1, ANY SINCE("sinceImagePulled", 90), EXPIRE)),
	 "Rule with rulePriority 1: countType \"sinceImagePulled\" requires action type \"transition\""},
	{"transition_without_target", POLICY(RULE(1, ANY SINCE("sinceImagePulled", 90), "'action':{'type':'transition'}")),
	 "Rule with rulePriority 1: action type \"transition\" requires targetStorageClass \"archive\""},
	{"expire_with_target",
	 POLICY(RULE(1, ANY COUNT_MORE_THAN(1), "'action':{'type':'expire','targetStorageClass':'archive'}")),
	 "Rule with rulePriority 1: targetStorageClass is only allowed with action type \"transition\""},
	{"transitioned_under_90_days",
	 POLICY(RULE(1, ANY "'storageClass':'archive'," SINCE("sinceImageTransitioned", 30), EXPIRE)),
	 "Rule with rulePriority 1: countNumber for countType \"sinceImageTransitioned\" must be at least 90 days"},

	/* The rules across rules. */
	{"priority_duplicate",
	 POLICY(RULE(1, TAGGED_PATTERNS("'a*'") COUNT_MORE_THAN(1), EXPIRE) ","
		RULE(1, TAGGED_PATTERNS("'b*'") COUNT_MORE_THAN(1), EXPIRE)),
	 "rulePriority 1 is used by more than one rule; each rule needs a unique rulePriority"},
	{"any_not_last",
	 POLICY(RULE(1, ANY COUNT_MORE_THAN(5), EXPIRE) "," RULE(2, UNTAGGED COUNT_MORE_THAN(1), EXPIRE)),
	 "Rule with rulePriority 1: a rule with tagStatus \"any\" must have the highest rulePriority of the rules "
	 "for storageClass \"standard\", but the rule with rulePriority 2 comes later"},
	{"any_not_last_listed_last",
	 POLICY(RULE(9, TAGGED_PREFIXES("'v'") COUNT_MORE_THAN(1), EXPIRE) "," RULE(3, ANY COUNT_MORE_THAN(5), EXPIRE)),
	 "Rule with rulePriority 3: a rule with tagStatus \"any\" must have the highest rulePriority"},
	{"any_not_last_in_archive",
	 POLICY(RULE(1, ANY "'storageClass':'archive'," SINCE("sinceImageTransitioned", 365), EXPIRE) ","
		RULE(2, UNTAGGED "'storageClass':'archive'," SINCE("sinceImageTransitioned", 90), EXPIRE)),
	 "for storageClass \"archive\", but the rule with rulePriority 2 comes later"},
	{"two_untagged_rules",
	 POLICY(RULE(1, UNTAGGED COUNT_MORE_THAN(1), EXPIRE) "," RULE(2, UNTAGGED SINCE("sinceImagePushed", 5), EXPIRE)),
	 "Rules with rulePriority 1 and 2 both select untagged images; only one rule per storage class (here "
	 "\"standard\") may select untagged images"},
	{"same_prefix_set",
	 POLICY(RULE(1, TAGGED_PREFIXES("'a','b'") COUNT_MORE_THAN(1), EXPIRE) ","
		RULE(2, TAGGED_PREFIXES("'b','a','b'") SINCE("sinceImagePushed", 5), EXPIRE)),
	 "Rules with rulePriority 1 and 2 select the same tagPrefixList; each rule for a storage class (here "
	 "\"standard\") needs a unique set of tags"},
	{"same_pattern_set",
	 POLICY(RULE(5, TAGGED_PATTERNS("'prod*'") COUNT_MORE_THAN(1), EXPIRE) ","
		RULE(7, TAGGED_PATTERNS("'prod*'") SINCE("sinceImagePulled", 90), ARCHIVE)),
	 "Rules with rulePriority 5 and 7 select the same tagPatternList"},
};

static void test_invalid_policies(void)
{
	for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		struct lifecycle_policy *policy = NULL;
		char err[1024] = "";
		int status = parse_spec(c->policy, &policy, err, sizeof(err));
		size_t len = strlen(err);
		bool prefixed = strncmp(err, ERROR_PREFIX, strlen(ERROR_PREFIX)) == 0;
		bool closed = len > 0 && err[len - 1] == '\'';
		bool has_detail = strstr(err, c->detail) != NULL;

		CHECK(status == LCR_ERR_INVALID_PARAMETER);
		CHECK(policy == NULL);
		CHECK(prefixed);
		CHECK(closed);
		CHECK(has_detail);
		if (status != LCR_ERR_INVALID_PARAMETER || !prefixed || !closed || !has_detail)
			fprintf(stderr, "invalid case %s: status %d, message: %s\n  expected detail: %s\n", c->name,
				status, err, c->detail);
		lifecycle_free(policy);
	}
}

struct valid_case {
	const char *name;
	const char *policy;
	size_t rules;
};

static const struct valid_case valid_cases[] = {
	{"image_age", POLICY(RULE(1, TAGGED_PATTERNS("'prod*'") SINCE("sinceImagePushed", 14), EXPIRE)), 1},
	{"last_pulled", POLICY(RULE(1, ANY SINCE("sinceImagePulled", 90), ARCHIVE)), 1},
	{"archive_transition_time",
	 POLICY(RULE(1, ANY "'storageClass':'archive'," SINCE("sinceImageTransitioned", 365), EXPIRE)), 1},
	{"explicit_standard", POLICY(RULE(1, UNTAGGED "'storageClass':'standard'," COUNT_MORE_THAN(1), EXPIRE)), 1},
	{"archive_by_push_age", POLICY(RULE(1, TAGGED_PATTERNS("'prod*'") SINCE("sinceImagePushed", 30), ARCHIVE)), 1},
	{"archive_by_count", POLICY(RULE(1, UNTAGGED COUNT_MORE_THAN(10), ARCHIVE)), 1},
	{"archive_then_expire",
	 POLICY(RULE(1, ANY SINCE("sinceImagePushed", 30), ARCHIVE) ","
		RULE(2, ANY "'storageClass':'archive'," SINCE("sinceImageTransitioned", 365), EXPIRE)), 2},
	{"four_wildcards", POLICY(RULE(1, TAGGED_PATTERNS("'*test*1*2*3','test*1*2*3*'") COUNT_MORE_THAN(1), EXPIRE)), 1},
	{"patterns_and_prefixes_across_rules",
	 POLICY(RULE(1, TAGGED_PATTERNS("'prod*'") COUNT_MORE_THAN(1), EXPIRE) ","
		RULE(2, TAGGED_PREFIXES("'beta'") COUNT_MORE_THAN(1), EXPIRE)), 2},
	{"overlapping_prefix_sets",
	 POLICY(RULE(1, TAGGED_PREFIXES("'a','b'") COUNT_MORE_THAN(1), EXPIRE) ","
		RULE(2, TAGGED_PREFIXES("'a'") COUNT_MORE_THAN(1), EXPIRE)), 2},
	{"same_prefix_other_storage_class",
	 POLICY(RULE(1, TAGGED_PREFIXES("'a'") COUNT_MORE_THAN(1), EXPIRE) ","
		RULE(2, TAGGED_PREFIXES("'a'") "'storageClass':'archive'," SINCE("sinceImageTransitioned", 90), EXPIRE)), 2},
	{"untagged_per_storage_class",
	 POLICY(RULE(1, UNTAGGED COUNT_MORE_THAN(1), ARCHIVE) ","
		RULE(2, UNTAGGED "'storageClass':'archive'," SINCE("sinceImageTransitioned", 90), EXPIRE)), 2},
	{"all_rule_types",
	 POLICY(RULE(10, TAGGED_PATTERNS("'alpha*'") COUNT_MORE_THAN(1), EXPIRE) ","
		RULE(20, UNTAGGED SINCE("sinceImagePushed", 1), EXPIRE) "," RULE(30, ANY COUNT_MORE_THAN(1), EXPIRE)), 3},
	{"any_listed_first_highest_priority",
	 POLICY(RULE(99, ANY COUNT_MORE_THAN(100), EXPIRE) "," RULE(3, UNTAGGED COUNT_MORE_THAN(1), EXPIRE)), 2},
	{"description_and_unicode",
	 "{'rules':[{'rulePriority':1,'description':'Keep r\xc3\xa9sum\xc3\xa9 builds','selection':{"
	 TAGGED_PATTERNS("'r\xc3\xa9*'") COUNT_MORE_THAN(3) "}," EXPIRE "}]}", 1},
	{"count_number_large", POLICY(RULE(2147483647, ANY COUNT_MORE_THAN(2147483647), EXPIRE)), 1},
};

static void test_valid_policies(void)
{
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct valid_case *c = &valid_cases[i];
		struct lifecycle_policy *policy = NULL;
		char err[1024] = "";
		int status = parse_spec(c->policy, &policy, err, sizeof(err));

		CHECK(status == LCR_OK);
		if (status != LCR_OK) {
			fprintf(stderr, "valid case %s rejected: %s\n", c->name, err);
			continue;
		}
		CHECK(lifecycle_rule_count(policy) == c->rules);
		lifecycle_free(policy);
	}
}

/* Write a policy of n rules with distinct tag prefixes into out. */
static void many_rules_policy(size_t n, char *out, size_t outlen)
{
	size_t len = (size_t)snprintf(out, outlen, "{\"rules\":[");

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, outlen - len,
					"%s{\"rulePriority\":%zu,\"selection\":{\"tagStatus\":\"tagged\","
					"\"tagPrefixList\":[\"p%zu-\"],\"countType\":\"imageCountMoreThan\","
					"\"countNumber\":1},\"action\":{\"type\":\"expire\"}}",
					i == 0 ? "" : ",", i + 1, i);
	snprintf(out + len, outlen - len, "]}");
}

static void test_rule_limit(void)
{
	static char text[16384];
	struct lifecycle_policy *policy = NULL;
	char err[1024] = "";

	many_rules_policy(LIFECYCLE_RULES_MAX, text, sizeof(text));
	CHECK(lifecycle_parse(text, strlen(text), &policy, err, sizeof(err)) == LCR_OK);
	CHECK(policy != NULL);
	if (policy != NULL)
		CHECK(lifecycle_rule_count(policy) == LIFECYCLE_RULES_MAX);
	lifecycle_free(policy);
	policy = NULL;

	many_rules_policy(LIFECYCLE_RULES_MAX + 1, text, sizeof(text));
	CHECK(lifecycle_parse(text, strlen(text), &policy, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(policy == NULL);
	CHECK(strstr(err, "array is too long: must have at most 50 elements but instance has 51 elements") != NULL);
}

static void test_text_length(void)
{
	static char text[LIFECYCLE_TEXT_MAX + 16];
	const char *spec = POLICY(RULE(1, ANY COUNT_MORE_THAN(1), EXPIRE));
	struct lifecycle_policy *policy = NULL;
	char err[1024] = "";
	size_t len;

	/* Every valid policy is longer than the minimum, so the bounds are
	 * shown with "{}" padded to 99 and 100 characters: the first fails the
	 * length check, the second gets as far as the missing rules. */
	policy_text("{}", true, text, sizeof(text));
	CHECK(strlen(text) == LIFECYCLE_TEXT_MIN);
	CHECK(lifecycle_parse(text, LIFECYCLE_TEXT_MIN - 1, &policy, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(strstr(err, "lifecyclePolicyText must be 100 to 30720 characters long, but it has 99") != NULL);
	CHECK(lifecycle_parse(text, LIFECYCLE_TEXT_MIN, &policy, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(strstr(err, "object has missing required properties ([\"rules\"])") != NULL);

	/* A policy padded to exactly the maximum is accepted, one more
	 * character is not. */
	policy_text(spec, false, text, sizeof(text));
	len = strlen(text);
	while (len < LIFECYCLE_TEXT_MAX)
		text[len++] = ' ';
	text[len] = '\0';
	CHECK(lifecycle_parse(text, len, &policy, err, sizeof(err)) == LCR_OK);
	lifecycle_free(policy);
	policy = NULL;

	text[len++] = ' ';
	text[len] = '\0';
	CHECK(lifecycle_parse(text, len, &policy, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(strstr(err, "but it has 30721") != NULL);

	/* Characters, not bytes: 60 two-byte characters are 120 bytes but
	 * only 60 characters, so the length check rejects them. */
	len = 0;
	for (int i = 0; i < 60; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "\xc3\xa9");
	CHECK(lifecycle_parse(text, len, &policy, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(strstr(err, "but it has 60") != NULL);

	/* A character outside the Basic Multilingual Plane counts twice, as in
	 * UTF-16: 50 of them pass the length check and fail as JSON. */
	len = 0;
	for (int i = 0; i < 50; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "\xf0\x9f\x98\x80");
	CHECK(lifecycle_parse(text, len, &policy, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(strstr(err, "Could not map policyString into LifecyclePolicy.") != NULL);
}

/* ---- Reports and pattern matching ---- */

static void test_rule_info(void)
{
	const char *spec = "{'rules':[{'rulePriority':7,'description':'Archive stale builds','selection':{"
			   TAGGED_PREFIXES("'build-','ci-'") SINCE("sinceImagePulled", 90) "}," ARCHIVE "},"
			   RULE(2, UNTAGGED COUNT_MORE_THAN(3), EXPIRE) "]}";
	struct lifecycle_policy *policy = NULL;
	struct lifecycle_rule_info info;
	const char *const *tags;
	char err[1024] = "";
	size_t count = 99;
	bool is_prefix = false;

	CHECK(parse_spec(spec, &policy, err, sizeof(err)) == LCR_OK);
	if (policy == NULL)
		return;
	CHECK(lifecycle_rule_count(policy) == 2);

	lifecycle_rule_info(policy, 0, &info);
	CHECK(info.priority == 2);
	CHECK_STR(info.description, "");
	CHECK_STR(info.tag_status, "untagged");
	CHECK_STR(info.count_type, "imageCountMoreThan");
	CHECK(info.count_number == 3);
	CHECK_STR(info.action, "expire");
	CHECK_STR(info.storage_class, "standard");
	tags = lifecycle_rule_tag_list(policy, 0, &count, &is_prefix);
	CHECK(tags == NULL);
	CHECK(count == 0);

	lifecycle_rule_info(policy, 1, &info);
	CHECK(info.priority == 7);
	CHECK_STR(info.description, "Archive stale builds");
	CHECK_STR(info.tag_status, "tagged");
	CHECK_STR(info.count_type, "sinceImagePulled");
	CHECK(info.count_number == 90);
	CHECK_STR(info.action, "transition");
	CHECK_STR(info.storage_class, "standard");
	tags = lifecycle_rule_tag_list(policy, 1, &count, &is_prefix);
	CHECK(count == 2);
	CHECK(is_prefix);
	if (count == 2) {
		CHECK_STR(tags[0], "build-");
		CHECK_STR(tags[1], "ci-");
	}
	lifecycle_free(policy);
}

struct pattern_case {
	const char *pattern;
	const char *tag;
	bool expected;
};

static const struct pattern_case pattern_cases[] = {
	{"prod*", "prod", true},
	{"prod*", "prod1", true},
	{"prod*", "production-team1", true},
	{"*prod*", "repo-production", true},
	{"*prod*", "prod-team", true},
	{"prod*", "pro", false},
	{"prod*", "my-prod", false},
	{"prod", "prod", true},
	{"prod", "production", false},
	{"prod", "Prod", false},
	{"*", "", true},
	{"*", "anything", true},
	{"", "", true},
	{"", "a", false},
	{"a*b*c", "axxbyyc", true},
	{"a*b*c", "axxbyyd", false},
	{"a*b*c", "abcbc", true},
	{"*a", "ba", true},
	{"a*a", "a", false},
	{"**", "x", true},
	{"*test*1*2*3", "my-test-1-2-3", true},
	{"test*1*2*3*", "test-3-2-1", false},
	{"v*.*", "v1.2", true},
	{"v*.*", "v12", false},
};

static void test_pattern_match(void)
{
	for (size_t i = 0; i < sizeof(pattern_cases) / sizeof(pattern_cases[0]); i++) {
		const struct pattern_case *c = &pattern_cases[i];
		bool matched = lifecycle_pattern_match(c->pattern, c->tag);

		CHECK(matched == c->expected);
		if (matched != c->expected)
			fprintf(stderr, "pattern \"%s\" against tag \"%s\": expected %s\n", c->pattern, c->tag,
				c->expected ? "match" : "no match");
	}
}

int main(void)
{
	test_evaluation_vectors();
	test_evaluate_no_images();
	test_invalid_policies();
	test_valid_policies();
	test_rule_limit();
	test_text_length();
	test_rule_info();
	test_pattern_match();
	return check_summary();
}
