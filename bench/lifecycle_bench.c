/*
 * lifecycle_bench.c - time lifecycle_evaluate over many synthetic images.
 *
 * Builds a repository of synthetic images (100,000 by default) with a mix
 * of tags, ages, pull times, archived and restored images and images that an
 * index lists.  Then it parses a seven-rule policy that uses every count
 * type, tag patterns and prefixes and both storage classes, and times
 * lifecycle_evaluate on the whole set several times.  The images are made
 * once from a fixed seed, so every run evaluates the same input.
 *
 * Only the evaluation is timed: not the parse (done once), not building the
 * images, and not what the server does around it (reading the images from
 * SQLite, then expiring and archiving them).
 *
 * Usage: lifecycle_bench [--images N] [--reps N]
 * Prints a human summary on stderr and one line on stdout:
 *   LIFECYCLE images=N rules=R reps=K ms=t1,t2,... expire=E transition=T none=X
 * Exit status 0, or 1 when the policy does not parse or evaluation fails.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/status.h"
#include "../registry/lifecycle.h"

#define DEFAULT_IMAGES 100000
#define DEFAULT_REPS 5
#define MAX_TAGS_PER_IMAGE 3
#define TAG_LENGTH 40
#define DAY 86400.0

/* A realistic policy for a busy repository: releases, production, dev and
 * pull-request builds, untagged leftovers, then the archive. */
static const char POLICY[] =
	"{\"rules\":["
	"{\"rulePriority\":1,\"description\":\"keep the 50 newest releases active\",\"selection\":{\"tagStatus\":"
	"\"tagged\",\"tagPatternList\":[\"release-*\"],\"countType\":\"imageCountMoreThan\",\"countNumber\":50},"
	"\"action\":{\"type\":\"transition\",\"targetStorageClass\":\"archive\"}},"
	"{\"rulePriority\":2,\"description\":\"archive production images after 90 days\",\"selection\":{\"tagStatus\":"
	"\"tagged\",\"tagPrefixList\":[\"prod\"],\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\","
	"\"countNumber\":90},\"action\":{\"type\":\"transition\",\"targetStorageClass\":\"archive\"}},"
	"{\"rulePriority\":3,\"description\":\"expire dev builds after 14 days\",\"selection\":{\"tagStatus\":"
	"\"tagged\",\"tagPatternList\":[\"dev-*\"],\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\","
	"\"countNumber\":14},\"action\":{\"type\":\"expire\"}},"
	"{\"rulePriority\":4,\"description\":\"keep the 100 newest pull-request builds\",\"selection\":{\"tagStatus\":"
	"\"tagged\",\"tagPatternList\":[\"pr-*-build*\"],\"countType\":\"imageCountMoreThan\",\"countNumber\":100},"
	"\"action\":{\"type\":\"expire\"}},"
	"{\"rulePriority\":5,\"description\":\"expire untagged images after 7 days\",\"selection\":{\"tagStatus\":"
	"\"untagged\",\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\",\"countNumber\":7},"
	"\"action\":{\"type\":\"expire\"}},"
	"{\"rulePriority\":6,\"description\":\"archive what nobody pulled for 180 days\",\"selection\":{\"tagStatus\":"
	"\"any\",\"countType\":\"sinceImagePulled\",\"countUnit\":\"days\",\"countNumber\":180},"
	"\"action\":{\"type\":\"transition\",\"targetStorageClass\":\"archive\"}},"
	"{\"rulePriority\":7,\"description\":\"expire images archived for a year\",\"selection\":{\"tagStatus\":"
	"\"any\",\"storageClass\":\"archive\",\"countType\":\"sinceImageTransitioned\",\"countUnit\":\"days\","
	"\"countNumber\":365},\"action\":{\"type\":\"expire\"}}"
	"]}";

/* xorshift64*: a fixed sequence, so every run builds the same images. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t next_random(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static double uniform(void)
{
	return (double)(next_random() >> 11) / 9007199254740992.0;
}

static size_t below(size_t n)
{
	return (size_t)(next_random() % n);
}

/* Everything the images point into, freed at the end. */
struct image_set {
	struct lifecycle_image *images;
	char (*digests)[72];
	char (*tag_text)[MAX_TAGS_PER_IMAGE][TAG_LENGTH];
	const char *(*tag_ptrs)[MAX_TAGS_PER_IMAGE];
	size_t count;
};

/* One tag in the style of one kind of build. */
static void make_tag(char *out, size_t index, size_t t)
{
	switch (below(6)) {
	case 0:
		snprintf(out, TAG_LENGTH, "release-%zu.%zu", index / 100, t);
		break;
	case 1:
		snprintf(out, TAG_LENGTH, "prod-%zu-%zu", index, t);
		break;
	case 2:
		snprintf(out, TAG_LENGTH, "dev-%zu-%zu", index, t);
		break;
	case 3:
		snprintf(out, TAG_LENGTH, "pr-%zu-build%zu", below(5000), index * 4 + t);
		break;
	case 4:
		snprintf(out, TAG_LENGTH, "sha-%016llx", (unsigned long long)next_random());
		break;
	default:
		snprintf(out, TAG_LENGTH, "v%zu.%zu.%zu", index / 10000, (index / 100) % 100, index % 100 + t);
		break;
	}
}

static int build_images(struct image_set *set, size_t count, double now)
{
	memset(set, 0, sizeof(*set));
	set->images = calloc(count, sizeof(*set->images));
	set->digests = calloc(count, sizeof(*set->digests));
	set->tag_text = calloc(count, sizeof(*set->tag_text));
	set->tag_ptrs = calloc(count, sizeof(*set->tag_ptrs));
	if (set->images == NULL || set->digests == NULL || set->tag_text == NULL || set->tag_ptrs == NULL)
		return -1;
	set->count = count;
	for (size_t i = 0; i < count; i++) {
		struct lifecycle_image *image = &set->images[i];
		/* A quarter untagged, the rest with one to three tags. */
		size_t ntags = below(4) == 0 ? 0 : 1 + below(MAX_TAGS_PER_IMAGE);
		double roll = uniform();

		snprintf(set->digests[i], sizeof(set->digests[i]), "sha256:%016llx%016llx%016llx%016llx",
			 (unsigned long long)next_random(), (unsigned long long)next_random(),
			 (unsigned long long)next_random(), (unsigned long long)next_random());
		for (size_t t = 0; t < ntags; t++) {
			make_tag(set->tag_text[i][t], i, t);
			set->tag_ptrs[i][t] = set->tag_text[i][t];
		}
		image->digest = set->digests[i];
		image->tags = set->tag_ptrs[i];
		image->ntags = ntags;
		/* Pushed over the last two years; half pulled since. */
		image->pushed_at = now - uniform() * 730 * DAY;
		if (uniform() < 0.5)
			image->last_pulled_at = image->pushed_at + uniform() * (now - image->pushed_at);
		/* 10 % archived, 2 % restored from the archive, 5 % listed by an index. */
		if (roll < 0.10) {
			image->archived = true;
			image->last_archived_at = image->pushed_at + uniform() * (now - image->pushed_at);
		} else if (roll < 0.12) {
			image->last_archived_at = image->pushed_at + uniform() * (now - image->pushed_at) / 2;
			image->last_activated_at = image->last_archived_at + uniform() * (now - image->last_archived_at);
		}
		image->referenced_by_index = uniform() < 0.05;
	}
	return 0;
}

static void free_images(struct image_set *set)
{
	free(set->images);
	free(set->digests);
	free(set->tag_text);
	free(set->tag_ptrs);
}

static double elapsed_ms(const struct timespec *start, const struct timespec *end)
{
	return (double)(end->tv_sec - start->tv_sec) * 1e3 + (double)(end->tv_nsec - start->tv_nsec) / 1e6;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int parse_count(const char *name, const char *value, size_t *out)
{
	char *end;
	unsigned long long number = value ? strtoull(value, &end, 10) : 0;

	if (value == NULL || *value == '\0' || *end != '\0' || number == 0 || number > 100000000ULL) {
		fprintf(stderr, "lifecycle_bench: %s needs a number from 1 to 100000000\n", name);
		return -1;
	}
	*out = (size_t)number;
	return 0;
}

int main(int argc, char **argv)
{
	size_t count = DEFAULT_IMAGES, reps = DEFAULT_REPS, tally[3] = {0, 0, 0};
	struct lifecycle_policy *policy = NULL;
	struct lifecycle_outcome *outcomes;
	struct image_set set;
	double now = 1767225600.0; /* 2026-01-01T00:00:00Z */
	double *times;
	char err[1024];

	for (int i = 1; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--images") == 0 && parse_count("--images", value, &count) == 0) {
			i++;
		} else if (strcmp(argv[i], "--reps") == 0 && parse_count("--reps", value, &reps) == 0) {
			i++;
		} else {
			fprintf(stderr, "usage: lifecycle_bench [--images N] [--reps N]\n");
			return 2;
		}
	}

	if (lifecycle_parse(POLICY, strlen(POLICY), &policy, err, sizeof(err)) != LCR_OK) {
		fprintf(stderr, "lifecycle_bench: the policy does not parse: %s\n", err);
		return 1;
	}
	outcomes = calloc(count, sizeof(*outcomes));
	times = calloc(reps, sizeof(*times));
	if (outcomes == NULL || times == NULL || build_images(&set, count, now) != 0) {
		fprintf(stderr, "lifecycle_bench: out of memory\n");
		return 1;
	}

	for (size_t r = 0; r < reps; r++) {
		struct timespec start, end;

		clock_gettime(CLOCK_MONOTONIC, &start);
		if (lifecycle_evaluate(policy, set.images, count, now, outcomes) != LCR_OK) {
			fprintf(stderr, "lifecycle_bench: lifecycle_evaluate failed\n");
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &end);
		times[r] = elapsed_ms(&start, &end);
	}
	for (size_t i = 0; i < count; i++)
		tally[outcomes[i].action]++;

	printf("LIFECYCLE images=%zu rules=%zu reps=%zu ms=", count, lifecycle_rule_count(policy), reps);
	for (size_t r = 0; r < reps; r++)
		printf("%s%.3f", r ? "," : "", times[r]);
	printf(" expire=%zu transition=%zu none=%zu\n", tally[LIFECYCLE_ACTION_EXPIRE],
	       tally[LIFECYCLE_ACTION_TRANSITION], tally[LIFECYCLE_ACTION_NONE]);
	qsort(times, reps, sizeof(*times), compare_doubles);
	fprintf(stderr, "lifecycle_evaluate over %zu images, %zu rules: median %.3f ms, min %.3f ms, max %.3f ms (%zu runs)\n",
		count, lifecycle_rule_count(policy), times[reps / 2], times[0], times[reps - 1], reps);

	free(times);
	free(outcomes);
	free_images(&set);
	lifecycle_free(policy);
	return 0;
}
