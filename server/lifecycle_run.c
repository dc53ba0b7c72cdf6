/*
 * lifecycle_run.c - applying lifecycle policies: the preview (a dry run)
 * and the execution (on a schedule and through POST
 * /_localecr/lifecycle/run).
 *
 * Both build the same view of a repository's images (tags, push, pull,
 * archive and restore times, whether an index still lists them) and ask
 * registry/lifecycle.c for a decision.  Execution then expires or archives
 * each image and logs one line per action with the repository, digest,
 * tags and rule priority.  Artifacts whose subject was expired are expired
 * with it, as ECR expires referrers with their subject.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"
#include "../registry/audit.h"
#include "../registry/lifecycle.h"

/* The images of a repository in the shape lifecycle.c reads. */
struct lifecycle_view {
	struct image *images;
	size_t count;
	struct lifecycle_image *items;
	struct lifecycle_outcome *outcomes;
};

static void view_release(struct lifecycle_view *view)
{
	image_array_free(view->images, view->count);
	free(view->items);
	free(view->outcomes);
	memset(view, 0, sizeof(*view));
}

static int view_build(struct server *srv, const struct repository *repo, const struct lifecycle_policy *policy,
		      struct lifecycle_view *view, char *err, size_t errlen)
{
	int status;

	memset(view, 0, sizeof(*view));
	status = registry_image_list(srv->registry, repo, &view->images, &view->count, err, errlen);
	if (status != LCR_OK)
		return status;
	view->items = calloc(view->count + 1, sizeof(*view->items));
	view->outcomes = calloc(view->count + 1, sizeof(*view->outcomes));
	if (view->items == NULL || view->outcomes == NULL) {
		view_release(view);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
	}
	for (size_t i = 0; i < view->count; i++) {
		const struct image *img = &view->images[i];
		struct lifecycle_image *item = &view->items[i];
		bool referenced = false;

		registry_image_is_referenced(srv->registry, repo, img->digest, &referenced);
		item->digest = img->digest;
		item->tags = (const char *const *)img->tags;
		item->ntags = img->ntags;
		item->pushed_at = img->pushed_at;
		item->last_pulled_at = img->last_pulled_at;
		item->last_activated_at = img->last_activated_at;
		item->last_archived_at = img->last_archived_at;
		item->archived = strcmp(img->storage_class, "ARCHIVE") == 0;
		item->referenced_by_index = referenced;
	}
	if (lifecycle_evaluate(policy, view->items, view->count, clock_now(), view->outcomes) != 0) {
		view_release(view);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "lifecycle evaluation failed");
	}
	return LCR_OK;
}

static json_t *tags_json(const struct image *img)
{
	json_t *tags = json_array();

	for (size_t i = 0; i < img->ntags; i++)
		json_array_append_new(tags, json_string(img->tags[i]));
	return tags;
}

int lifecycle_preview_results(struct server *srv, const struct repository *repo, const struct lifecycle_policy *policy,
			      json_t **out_results, char *err, size_t errlen)
{
	struct lifecycle_view view;
	json_t *results;
	int status = view_build(srv, repo, policy, &view, err, errlen);

	*out_results = NULL;
	if (status != LCR_OK)
		return status;
	results = json_array();
	for (size_t i = 0; i < view.count; i++) {
		const struct image *img = &view.images[i];
		json_t *action, *entry;

		if (view.outcomes[i].action == LIFECYCLE_ACTION_NONE)
			continue;
		action = view.outcomes[i].action == LIFECYCLE_ACTION_EXPIRE
				 ? json_pack("{s:s}", "type", "EXPIRE")
				 : json_pack("{s:s, s:s}", "type", "TRANSITION", "targetStorageClass", "ARCHIVE");
		entry = json_pack("{s:o, s:s, s:f, s:o, s:i, s:s}", "imageTags", tags_json(img), "imageDigest", img->digest,
				  "imagePushedAt", img->pushed_at, "action", action, "appliedRulePriority",
				  view.outcomes[i].rule_priority, "storageClass", img->storage_class);
		json_array_append_new(results, entry);
	}
	view_release(&view);
	*out_results = results;
	return LCR_OK;
}

/* Log one lifecycle action with the image's tags and the rule priority. */
static void record_action(const struct repository *repo, const struct image *img, const char *action, int priority)
{
	char tags[1024] = "";
	size_t n = 0;

	for (size_t i = 0; i < img->ntags && n + 2 < sizeof(tags); i++)
		n += (size_t)snprintf(tags + n, sizeof(tags) - n, "%s%s", i ? "," : "", img->tags[i]);
	log_info("lifecycle: %s image %s in %s/%s (tags [%s]) by rule %d", action, img->digest, repo->registry_id, repo->name,
		 tags, priority);
}

/* Expire the images whose subject is digest (referrers go with their
 * subject). */
static void expire_referrers(struct server *srv, const struct repository *repo, const char *digest, int priority,
			     json_t *expired)
{
	struct image *referrers = NULL;
	size_t count = 0;
	char err[256];

	if (registry_referrers_list(srv->registry, repo, digest, &referrers, &count, err, sizeof(err)) != LCR_OK)
		return;
	for (size_t i = 0; i < count; i++) {
		if (registry_image_delete(srv->registry, repo, referrers[i].digest, err, sizeof(err)) != LCR_OK)
			continue;
		record_action(repo, &referrers[i], "expired referrer", priority);
		json_array_append_new(expired, json_pack("{s:s, s:s, s:i}", "repositoryName", repo->name, "imageDigest",
							 referrers[i].digest, "rulePriority", priority));
	}
	image_array_free(referrers, count);
}

/* ECR writes lifecycle actions as CloudTrail PolicyExecutionEvent records of
 * type AwsServiceEvent, at most 10 images per record, with prose-style
 * values ("Tagged", "Image count more than"). */
#define POLICY_EVENT_IMAGES_MAX 10

static const char *prose_count_type(const char *count_type)
{
	if (strcmp(count_type, "imageCountMoreThan") == 0)
		return "Image count more than";
	if (strcmp(count_type, "sinceImagePushed") == 0)
		return "Since image pushed";
	if (strcmp(count_type, "sinceImagePulled") == 0)
		return "Since image pulled";
	return "Since image transitioned";
}

static const char *prose_tag_status(const char *tag_status)
{
	if (strcmp(tag_status, "tagged") == 0)
		return "Tagged";
	if (strcmp(tag_status, "untagged") == 0)
		return "Untagged";
	return "Any";
}

static json_t *policy_event_rules(const struct lifecycle_policy *policy)
{
	json_t *rules = json_array();

	for (size_t i = 0; i < lifecycle_rule_count(policy); i++) {
		struct lifecycle_rule_info info;

		json_t *prefixes = json_array();
		size_t n = 0;
		const char *const *list;

		lifecycle_rule_info(policy, i, &info);
		list = lifecycle_rule_tag_list(policy, i, &n, NULL);
		for (size_t j = 0; list != NULL && j < n; j++)
			json_array_append_new(prefixes, json_string(list[j]));
		json_array_append_new(rules, json_pack("{s:i, s:s, s:{s:s, s:o, s:s, s:I}, s:s}", "rulePriority", info.priority,
						       "description", info.description, "lifecycleEventSelection",
						       "tagStatus", prose_tag_status(info.tag_status), "tagPrefixList", prefixes,
						       "countType", prose_count_type(info.count_type), "countNumber",
						       (json_int_t)info.count_number, "action", info.action));
	}
	return rules;
}

/* Submit the repository's actions as PolicyExecutionEvent records. */
static void record_policy_events(struct server *srv, const struct repository *repo, const struct lifecycle_policy *policy,
				 const char *policy_id, json_t *actions)
{
	char arn[600], now[40];
	size_t total = json_array_size(actions);

	if (srv->audit == NULL || total == 0)
		return;
	snprintf(arn, sizeof(arn), "arn:aws:ecr:%s:%s:repository/%s", repo->region, repo->registry_id, repo->name);
	clock_format_rfc3339(clock_now(), now, sizeof(now));
	for (size_t start = 0; start < total; start += POLICY_EVENT_IMAGES_MAX) {
		json_t *batch = json_array();

		for (size_t i = start; i < total && i < start + POLICY_EVENT_IMAGES_MAX; i++)
			json_array_append(batch, json_array_get(actions, i));
		audit_submit(srv->audit,
			     audit_service_event(srv, repo->registry_id, repo->region, "PolicyExecutionEvent",
						 json_pack("[{s:s, s:s, s:s}]", "ARN", arn, "accountId", repo->registry_id, "type",
							   "AWS::ECR::Repository"),
						 json_pack("{s:s, s:{s:o, s:s, s:s, s:s}, s:o}", "repositoryName", repo->name,
							   "lifecycleEventPolicy", "lifecycleEventRules", policy_event_rules(policy),
							   "lastEvaluatedAt", now, "policyVersion", "1", "policyId", policy_id,
							   "lifecycleEventImageActions", batch)));
	}
}

static json_t *image_action_json(const struct image *img, int priority)
{
	json_t *tags = json_array();

	for (size_t i = 0; i < img->ntags; i++)
		json_array_append_new(tags, json_string(img->tags[i]));
	return json_pack("{s:{s:s, s:s, s:o, s:I}, s:i}", "lifecycleEventImage", "digest", img->digest, "tagStatus",
			 img->ntags > 0 ? "Tagged" : "Untagged", "tagList", tags, "pushedAt",
			 (json_int_t)(img->pushed_at * 1000), "rulePriority", priority);
}

int lifecycle_apply(struct server *srv, const struct repository *repo, json_t *expired, json_t *transitioned, char *err,
		    size_t errlen)
{
	json_t *actions = json_array();
	char policy_id[40];

	struct lifecycle_policy *policy = NULL;
	struct lifecycle_view view;
	char *text = NULL;
	int status = registry_lifecycle_policy_get(srv->registry, repo, &text, err, errlen);

	if (status != LCR_OK) {
		json_decref(actions);
		return status;
	}
	status = lifecycle_parse(text, strlen(text), &policy, err, errlen);
	{
		/* A stable id per policy text, in UUID form. */
		char hash[DIGEST_BUF];

		digest_of(text, strlen(text), hash);
		snprintf(policy_id, sizeof(policy_id), "%.8s-%.4s-%.4s-%.4s-%.12s", hash + 7, hash + 15, hash + 19, hash + 23,
			 hash + 27);
	}
	free(text);
	if (status == LCR_OK)
		status = view_build(srv, repo, policy, &view, err, errlen);
	if (status != LCR_OK) {
		lifecycle_free(policy);
		json_decref(actions);
		return status;
	}
	for (size_t i = 0; i < view.count; i++) {
		const struct image *img = &view.images[i];
		int priority = view.outcomes[i].rule_priority;
		char detail[256];

		if (view.outcomes[i].action == LIFECYCLE_ACTION_EXPIRE) {
			if (registry_image_delete(srv->registry, repo, img->digest, detail, sizeof(detail)) != LCR_OK) {
				log_warn("lifecycle: cannot expire %s in %s: %s", img->digest, repo->name, detail);
				continue;
			}
			record_action(repo, img, "expired", priority);
			json_array_append_new(actions, image_action_json(img, priority));
			json_array_append_new(expired, json_pack("{s:s, s:s, s:o, s:i}", "repositoryName", repo->name,
								 "imageDigest", img->digest, "imageTags", tags_json(img),
								 "rulePriority", priority));
			expire_referrers(srv, repo, img->digest, priority, expired);
		} else if (view.outcomes[i].action == LIFECYCLE_ACTION_TRANSITION) {
			if (registry_image_set_storage_class(srv->registry, img->id, "ARCHIVE", detail, sizeof(detail)) != LCR_OK)
				continue;
			record_action(repo, img, "archived", priority);
			events_emit(srv, repo->registry_id, repo->region, "ECR Image Action", json_array(),
				    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "action-type", "UPDATE_STORAGE_CLASS", "result",
					      "SUCCESS", "repository-name", repo->name, "image-digest", img->digest,
					      "target-storage-class", "ARCHIVE", "manifest-media-type", img->media_type));
			json_array_append_new(actions, image_action_json(img, priority));
			json_array_append_new(transitioned, json_pack("{s:s, s:s, s:o, s:i, s:s}", "repositoryName",
								      repo->name, "imageDigest", img->digest, "imageTags",
								      tags_json(img), "rulePriority", priority,
								      "targetStorageClass", "ARCHIVE"));
		}
	}
	record_policy_events(srv, repo, policy, policy_id, actions);
	json_decref(actions);
	view_release(&view);
	lifecycle_free(policy);
	return LCR_OK;
}

int lifecycle_apply_all(struct server *srv, const char *only_name, json_t *expired, json_t *transitioned, int *out_count)
{
	struct repository *repos = NULL;
	size_t count = 0;
	char err[512];
	int status = registry_lifecycle_repositories(srv->registry, &repos, &count, err, sizeof(err));

	*out_count = 0;
	if (status != LCR_OK)
		return status;
	for (size_t i = 0; i < count; i++) {
		if (only_name != NULL && strcmp(repos[i].name, only_name) != 0)
			continue;
		if (lifecycle_apply(srv, &repos[i], expired, transitioned, err, sizeof(err)) != LCR_OK)
			log_warn("lifecycle: repository %s skipped: %s", repos[i].name, err);
		else
			(*out_count)++;
	}
	free(repos);
	return LCR_OK;
}

/* POST /_localecr/lifecycle/run [{"repository": "<name>"}] */
int admin_lifecycle_run(struct request *req)
{
	json_error_t jerr;
	json_t *body = req->body.len > 0 ? json_loadb(req->body.data, req->body.len, 0, &jerr) : json_object();
	json_t *expired = json_array(), *transitioned = json_array();
	const char *only = json_string_value(json_object_get(body, "repository"));
	int count = 0;
	int status;

	if (!json_is_object(body)) {
		json_decref(body);
		json_decref(expired);
		json_decref(transitioned);
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, req->err, sizeof(req->err),
				"expected an empty body or {\"repository\": \"<name>\"}");
	}
	status = lifecycle_apply_all(req->srv, only, expired, transitioned, &count);
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:i, s:O, s:O}", "repositoriesEvaluated", count, "expired", expired,
					       "transitioned", transitioned));
	json_decref(body);
	json_decref(expired);
	json_decref(transitioned);
	return status;
}
