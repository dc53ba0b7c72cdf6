/*
 * lifecycle.h - ECR lifecycle policies: parse, validate and evaluate.
 *
 * Pure code: the caller passes the repository's images and the time, and
 * gets back, per image, the action the policy takes (expire, transition to
 * the archive storage class, or none) and the priority of the rule that
 * took it.  Evaluation follows ECR's documented rules.  Every rule is
 * evaluated against all images, then rules apply in priority order (lowest
 * rulePriority first).  An image is acted on by at most one rule: the first
 * whose selection matches it, and only when that rule's count criterion
 * marks it.  A rule with tagStatus "any" must have the highest priority.
 */
#ifndef LCR_LIFECYCLE_H
#define LCR_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

/* ECR's limits: lifecyclePolicyText is 100 to 30,720 characters, at most
 * 50 rules. */
#define LIFECYCLE_TEXT_MIN 100
#define LIFECYCLE_TEXT_MAX 30720
#define LIFECYCLE_RULES_MAX 50

struct lifecycle_policy;

/* Parse and validate.  On failure returns LCR_ERR_INVALID_PARAMETER and
 * writes ECR's message into err, e.g. "Invalid parameter at
 * 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy
 * validation failure: <detail>'". */
int lifecycle_parse(const char *text, size_t len, struct lifecycle_policy **out, char *err, size_t errlen);
void lifecycle_free(struct lifecycle_policy *p);

/* Image attributes that lifecycle rules read.  Times are epoch seconds,
 * and 0 means never. */
struct lifecycle_image {
	const char *digest;
	const char *const *tags;
	size_t ntags;
	double pushed_at;
	double last_pulled_at;
	double last_activated_at;    /* restored from archive */
	double last_archived_at;
	bool archived;               /* storage class ARCHIVE, else STANDARD */
	bool referenced_by_index;    /* an index in the repository lists it: never acted on */
};

enum lifecycle_action {
	LIFECYCLE_ACTION_NONE,
	LIFECYCLE_ACTION_EXPIRE,
	LIFECYCLE_ACTION_TRANSITION  /* to the ARCHIVE storage class */
};

struct lifecycle_outcome {
	enum lifecycle_action action;
	int rule_priority;  /* of the rule that acted; 0 with no action */
};

/* Decide every image: out has n entries, in the order of images. */
int lifecycle_evaluate(const struct lifecycle_policy *p, const struct lifecycle_image *images, size_t n, double now,
		       struct lifecycle_outcome *out);

/* Rules, for reports (CloudTrail PolicyExecutionEvent and previews).  Index
 * 0 is the rule with the lowest rulePriority, whatever the document order. */
size_t lifecycle_rule_count(const struct lifecycle_policy *p);
struct lifecycle_rule_info {
	int priority;
	const char *description;  /* "" when absent */
	const char *tag_status;   /* "tagged", "untagged" or "any" */
	const char *count_type;   /* "imageCountMoreThan", "sinceImagePushed", ... */
	long count_number;
	const char *action;       /* "expire" or "transition" */
	const char *storage_class; /* "standard" or "archive" */
};
void lifecycle_rule_info(const struct lifecycle_policy *p, size_t index, struct lifecycle_rule_info *out);

/* Return the tagPatternList or tagPrefixList of rule index, in the order
 * the policy lists them, with its length in out_count and out_is_prefix
 * telling which list it is (out_is_prefix may be NULL).  Returns NULL with a count of 0 for untagged and any rules.  The
 * strings belong to p. */
const char *const *lifecycle_rule_tag_list(const struct lifecycle_policy *p, size_t index, size_t *out_count,
					   bool *out_is_prefix);

/* Tag pattern match as lifecycle's tagPatternList uses it: '*' matches any
 * run of characters, the rest matches exactly. */
bool lifecycle_pattern_match(const char *pattern, const char *tag);

#endif
