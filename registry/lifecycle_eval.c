/*
 * lifecycle_eval.c - decide what a parsed lifecycle policy does to each
 * image of a repository (pure: images and time come from the caller).
 *
 * The order follows ECR's lifecycle documentation:
 * - every rule selects the images of its storage class whose tags satisfy
 *   its tagStatus and tag list, and its count criterion marks some of them;
 * - an image belongs to the first rule, in ascending rulePriority, that
 *   selects it, and only that rule may act on it, because "an image that
 *   matches the tagging requirements of a rule cannot be expired or
 *   archived by a rule with a lower priority";
 * - a rule still counts the images that higher-priority rules own, so
 *   imageCountMoreThan keeps its newest countNumber images among all the
 *   images it selects ("rules ... can still identify them");
 * - an image that an index in the repository lists is never acted on, but
 *   it still counts towards imageCountMoreThan.
 * The images are sorted newest first once, and each rule scans them once,
 * so a policy costs O(n log n + rules * n) tag matches.
 */
#include "lifecycle.h"

#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "lifecycle_int.h"

/* An image with the time that orders it for imageCountMoreThan. */
struct ranked_image {
	double time;
	size_t index;
};

/* Match literal segments between the stars: the first must start the tag
 * and the last must end it.  Each segment between is taken at its leftmost
 * place after the one before, because a later place can only leave less
 * room for the rest. */
bool lifecycle_pattern_match(const char *pattern, const char *tag)
{
	const char *star = strchr(pattern, '*');
	size_t segment, remaining;

	if (star == NULL)
		return strcmp(pattern, tag) == 0;
	segment = (size_t)(star - pattern);
	if (strncmp(pattern, tag, segment) != 0)
		return false;
	tag += segment;
	pattern = star + 1;

	while ((star = strchr(pattern, '*')) != NULL) {
		segment = (size_t)(star - pattern);
		if (segment > 0) {
			const char *found = memmem(tag, strlen(tag), pattern, segment);

			if (found == NULL)
				return false;
			tag = found + segment;
		}
		pattern = star + 1;
	}

	segment = strlen(pattern);
	remaining = strlen(tag);
	return remaining >= segment && memcmp(tag + remaining - segment, pattern, segment) == 0;
}

static bool has_tag_with_prefix(const struct lifecycle_image *image, const char *prefix)
{
	size_t len = strlen(prefix);

	for (size_t i = 0; i < image->ntags; i++)
		if (strncmp(image->tags[i], prefix, len) == 0)
			return true;
	return false;
}

static bool has_tag_matching(const struct lifecycle_image *image, const char *pattern)
{
	for (size_t i = 0; i < image->ntags; i++)
		if (lifecycle_pattern_match(pattern, image->tags[i]))
			return true;
	return false;
}

/* Whether rule selects image: same storage class, and for tagged rules
 * every entry of the tag list matches at least one of the image's tags. */
static bool rule_selects(const struct lifecycle_rule *rule, const struct lifecycle_image *image)
{
	if (rule->archive != image->archived)
		return false;
	switch (rule->tag_status) {
	case LIFECYCLE_TAG_STATUS_ANY:
		return true;
	case LIFECYCLE_TAG_STATUS_UNTAGGED:
		return image->ntags == 0;
	case LIFECYCLE_TAG_STATUS_TAGGED:
		break;
	}
	if (image->ntags == 0)
		return false;
	for (size_t i = 0; i < rule->npatterns; i++)
		if (!has_tag_matching(image, rule->patterns[i]))
			return false;
	for (size_t i = 0; i < rule->nprefixes; i++)
		if (!has_tag_with_prefix(image, rule->prefixes[i]))
			return false;
	return true;
}

/* The time imageCountMoreThan orders by: when the image was pushed, or
 * when it was last restored from archive ("last_activated_at is used
 * instead of pushed_at_time"). */
static double count_order_time(const struct lifecycle_image *image)
{
	return image->last_activated_at > 0 ? image->last_activated_at : image->pushed_at;
}

/* The time a since* count type measures from.  0 means the image has none
 * and is never marked. */
static double since_time(const struct lifecycle_rule *rule, const struct lifecycle_image *image)
{
	switch (rule->count_type) {
	case LIFECYCLE_COUNT_TYPE_SINCE_IMAGE_PUSHED:
		return image->pushed_at;
	case LIFECYCLE_COUNT_TYPE_SINCE_IMAGE_PULLED:
		/* ECR: a restored image not pulled since it was restored counts
		 * from last_activated_at, an image never pulled from its push. */
		if (image->last_activated_at > 0 && image->last_pulled_at < image->last_activated_at)
			return image->last_activated_at;
		if (image->last_pulled_at > 0)
			return image->last_pulled_at;
		return image->pushed_at;
	case LIFECYCLE_COUNT_TYPE_SINCE_IMAGE_TRANSITIONED:
		return image->last_archived_at;
	case LIFECYCLE_COUNT_TYPE_IMAGE_COUNT_MORE_THAN:
		break;
	}
	return 0;
}

/* Order newest first.  On equal times the image later in the caller's array
 * counts as newer.  NOTE: ECR does not document how it breaks ties. */
static int compare_newest_first(const void *a, const void *b)
{
	const struct ranked_image *x = a, *y = b;

	if (x->time != y->time)
		return x->time > y->time ? -1 : 1;
	return (x->index < y->index) - (x->index > y->index);
}

/* Record the action of rule on an image it owns, when the rule marked the
 * image and no index lists it. */
static void record_action(const struct lifecycle_rule *rule, const struct lifecycle_image *image, bool marked,
			struct lifecycle_outcome *outcome)
{
	if (!marked || image->referenced_by_index)
		return;
	outcome->action = rule->action;
	outcome->rule_priority = rule->priority;
}

/* Walk the images newest first.  The rule keeps the first countNumber images
 * it selects and marks the rest. */
static void apply_count_rule(const struct lifecycle_rule *rule, const struct lifecycle_image *images,
			     const struct ranked_image *newest_first, size_t n, bool *owned,
			     struct lifecycle_outcome *out)
{
	size_t selected = 0;

	for (size_t k = 0; k < n; k++) {
		size_t i = newest_first[k].index;
		size_t rank;

		if (!rule_selects(rule, &images[i]))
			continue;
		rank = selected++;
		if (owned[i])
			continue;
		owned[i] = true;
		record_action(rule, &images[i], rank >= (size_t)rule->count_number, &out[i]);
	}
}

static void apply_age_rule(const struct lifecycle_rule *rule, const struct lifecycle_image *images, size_t n,
			   double now, bool *owned, struct lifecycle_outcome *out)
{
	double max_age = (double)rule->count_number * LIFECYCLE_SECONDS_PER_DAY;

	for (size_t i = 0; i < n; i++) {
		double since;

		if (owned[i] || !rule_selects(rule, &images[i]))
			continue;
		owned[i] = true;
		since = since_time(rule, &images[i]);
		/* "Older than countNumber days": exactly countNumber days is
		 * not yet marked. */
		record_action(rule, &images[i], since > 0 && now - since > max_age, &out[i]);
	}
}

int lifecycle_evaluate(const struct lifecycle_policy *p, const struct lifecycle_image *images, size_t n, double now,
		       struct lifecycle_outcome *out)
{
	struct ranked_image *newest_first = NULL;
	bool *owned = NULL;
	int status = LCR_OK;

	for (size_t i = 0; i < n; i++) {
		out[i].action = LIFECYCLE_ACTION_NONE;
		out[i].rule_priority = 0;
	}
	if (n == 0)
		return LCR_OK;

	newest_first = calloc(n, sizeof(*newest_first));
	owned = calloc(n, sizeof(*owned));
	if (newest_first == NULL || owned == NULL) {
		status = LCR_ERR_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		newest_first[i].time = count_order_time(&images[i]);
		newest_first[i].index = i;
	}
	qsort(newest_first, n, sizeof(newest_first[0]), compare_newest_first);

	for (size_t r = 0; r < p->nrules; r++) {
		const struct lifecycle_rule *rule = &p->rules[r];

		if (rule->count_type == LIFECYCLE_COUNT_TYPE_IMAGE_COUNT_MORE_THAN)
			apply_count_rule(rule, images, newest_first, n, owned, out);
		else
			apply_age_rule(rule, images, n, now, owned, out);
	}
out:
	free(newest_first);
	free(owned);
	return status;
}
