/*
 * lifecycle_int.h - the parsed lifecycle policy, shared by the parser
 * (lifecycle.c) and the evaluator (lifecycle_eval.c).
 *
 * Invariants after lifecycle_parse succeeds: rules are sorted by ascending
 * rulePriority and no two share one.  A tagged rule has exactly one of
 * patterns and prefixes, and an untagged or any rule has neither.  The
 * storage class, count type and action form a combination ECR accepts.
 */
#ifndef LCR_LIFECYCLE_INT_H
#define LCR_LIFECYCLE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "lifecycle.h"

#define LIFECYCLE_SECONDS_PER_DAY 86400.0

enum lifecycle_tag_status {
	LIFECYCLE_TAG_STATUS_TAGGED,
	LIFECYCLE_TAG_STATUS_UNTAGGED,
	LIFECYCLE_TAG_STATUS_ANY
};

enum lifecycle_count_type {
	LIFECYCLE_COUNT_TYPE_IMAGE_COUNT_MORE_THAN,
	LIFECYCLE_COUNT_TYPE_SINCE_IMAGE_PUSHED,
	LIFECYCLE_COUNT_TYPE_SINCE_IMAGE_PULLED,
	LIFECYCLE_COUNT_TYPE_SINCE_IMAGE_TRANSITIONED
};

struct lifecycle_rule {
	int priority;
	char *description;             /* NULL when absent */
	enum lifecycle_tag_status tag_status;
	char **patterns;               /* tagPatternList, NULL when absent */
	size_t npatterns;
	char **prefixes;               /* tagPrefixList, NULL when absent */
	size_t nprefixes;
	bool archive;                  /* storageClass "archive", else "standard" */
	enum lifecycle_count_type count_type;
	bool has_count_unit;           /* countUnit was given (its only value is "days") */
	long count_number;
	enum lifecycle_action action;  /* EXPIRE or TRANSITION, never NONE */
	bool has_target_storage_class; /* targetStorageClass was given (its only value is "archive") */
};

struct lifecycle_policy {
	struct lifecycle_rule *rules;
	size_t nrules;
};

#endif
