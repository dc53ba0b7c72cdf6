/*
 * scan.c - image scanning: configuration operations, StartImageScan,
 * DescribeImageScanFindings, scan on push, continuous rescans and the
 * worker thread that runs scans.
 *
 * A scan request is a row in the scans table (see registry/scan_store.c),
 * so queued scans survive a restart.  The worker reads the image's layer
 * blobs with scanner/, matches the packages against the --vuln-db folder
 * and stores the findings in both shapes ECR returns: basic findings
 * (name, severity, attributes) and enhanced findings (Amazon Inspector's
 * packageVulnerabilityDetails, CVSS, remediation, fixAvailable).  Which
 * shape DescribeImageScanFindings returns follows the registry's scan type.
 * An index is scanned through its platform images: its findings are theirs
 * together.  ECR's quota applies: one scan per image per 24 hours.
 */
#include "ecr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"
#include "../registry/manifest.h"
#include "../scanner/scanner.h"

#define SCAN_QUOTA_SECONDS 86400

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running;
	bool stopping;
	struct vuln_db *db;
	double db_mtime;
} scans = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static const char *status_description(const char *status)
{
	if (strcmp(status, "COMPLETE") == 0)
		return "The scan was completed successfully.";
	if (strcmp(status, "IN_PROGRESS") == 0 || strcmp(status, "PENDING") == 0)
		return "The scan is in progress.";
	if (strcmp(status, "UNSUPPORTED_IMAGE") == 0)
		return "UnsupportedImageError: The operating system and/or package manager are not supported.";
	return "The scan failed.";
}

/* Newest modification time of the database folder and the files in it
 * (one level), so an advisory rewritten in place counts as a change. */
static double folder_mtime(const char *dir)
{
	struct stat st;
	double newest = stat(dir, &st) == 0 ? (double)st.st_mtime : 0;
	DIR *d = opendir(dir);
	struct dirent *entry;
	char path[4200];

	while (d != NULL && (entry = readdir(d)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		if (stat(path, &st) == 0 && (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9 > newest)
			newest = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
	}
	if (d != NULL)
		closedir(d);
	return newest;
}

static void load_db(struct server *srv)
{
	struct vuln_db *db = NULL;
	char err[512];

	if (srv->config.vuln_db[0] == '\0')
		return;
	if (vuln_db_load(srv->config.vuln_db, &db, err, sizeof(err)) != LCR_OK) {
		log_warn("cannot load the vulnerability database %s: %s", srv->config.vuln_db, err);
		return;
	}
	pthread_mutex_lock(&scans.lock);
	vuln_db_free(scans.db);
	scans.db = db;
	scans.db_mtime = folder_mtime(srv->config.vuln_db);
	pthread_mutex_unlock(&scans.lock);
	log_info("vulnerability database %s loaded: %zu advisories", srv->config.vuln_db, vuln_db_count(db));
}

static json_t *basic_finding(const struct scan_finding *f)
{
	json_t *attributes = json_pack("[{s:s, s:s}, {s:s, s:s}]", "key", "package_version", "value", f->package->version,
				       "key", "package_name", "value", f->package->name);

	if (f->cvss_vector != NULL) {
		char score[16];

		snprintf(score, sizeof(score), "%.1f", f->cvss_score);
		json_array_append_new(attributes, json_pack("{s:s, s:s}", "key",
							    f->cvss_version && f->cvss_version[0] == '2' ? "CVSS2_VECTOR"
													  : "CVSS3_VECTOR",
							    "value", f->cvss_vector));
		json_array_append_new(attributes, json_pack("{s:s, s:s}", "key",
							    f->cvss_version && f->cvss_version[0] == '2' ? "CVSS2_SCORE"
													  : "CVSS3_SCORE",
							    "value", score));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", f->id, "description",
			 f->description ? f->description : (f->summary ? f->summary : ""), "uri", f->uri ? f->uri : "",
			 "severity", scan_severity_name(f->severity), "attributes", attributes);
}

static json_t *enhanced_finding(const struct scan_finding *f, const struct repository *repo, const struct image *img,
				const struct scan_inventory *inv, double now)
{
	char arn[700], finding_arn[700], resource_id[800], title[512], platform[160];
	json_t *references = json_array(), *related = json_array(), *cvss = json_array(), *tags = json_array();
	const char *fix = f->fixed_version ? f->fixed_version : "NotAvailable";

	for (size_t i = 0; i < f->nreferences; i++)
		json_array_append_new(references, json_string(f->references[i]));
	for (size_t i = 0; i < f->naliases; i++)
		json_array_append_new(related, json_string(f->aliases[i]));
	if (f->cvss_vector != NULL)
		json_array_append_new(cvss, json_pack("{s:f, s:s, s:s, s:s}", "baseScore", f->cvss_score, "scoringVector",
						      f->cvss_vector, "source", "NVD", "version",
						      f->cvss_version ? f->cvss_version : "3.1"));
	for (size_t i = 0; i < img->ntags; i++)
		json_array_append_new(tags, json_string(img->tags[i]));
	snprintf(arn, sizeof(arn), "arn:aws:ecr:%s:%s:repository/%s", repo->region, repo->registry_id, repo->name);
	{
		/* One ARN per finding: the image, the vulnerability and the
		 * package together name it. */
		char key[1200], hash[DIGEST_BUF];

		snprintf(key, sizeof(key), "%s|%s|%s|%s", img->digest, f->id, f->package->name,
			 f->package->path ? f->package->path : "");
		digest_of(key, strlen(key), hash);
		snprintf(finding_arn, sizeof(finding_arn), "arn:aws:inspector2:%s:%s:finding/%.32s", repo->region,
			 repo->registry_id, hash + 7);
	}
	snprintf(resource_id, sizeof(resource_id), "%s/%s", arn, img->digest);
	snprintf(title, sizeof(title), "%s - %s", f->id, f->package->name);
	snprintf(platform, sizeof(platform), "%s_%s", inv->os_id, inv->os_version);
	for (char *p = platform; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	return json_pack(
		"{s:s, s:s, s:s, s:f, s:f, s:{s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s}]},"
		" s:{s:{s:s, s:s}}, s:[{s:{s:{s:s, s:s, s:o, s:s, s:f, s:s, s:s}}, s:s, s:o, s:s}], s:f, s:s, s:s, s:s,"
		" s:s, s:f, s:s, s:s}",
		"awsAccountId", repo->registry_id, "description", f->description ? f->description : "", "findingArn",
		finding_arn, "firstObservedAt", now, "lastObservedAt", now, "packageVulnerabilityDetails", "cvss", cvss,
		"referenceUrls", references, "relatedVulnerabilities", related, "source",
		f->package->package_manager && strcmp(f->package->package_manager, "OS") == 0 ? "DEBIAN_CVE" : "GITHUB",
		"sourceUrl", f->uri ? f->uri : "", "vendorSeverity", scan_severity_name(f->severity), "vulnerabilityId",
		f->id, "vulnerablePackages", "name", f->package->name, "version", f->package->version, "packageManager",
		f->package->package_manager ? f->package->package_manager : "OS", "sourceLayerHash",
		f->package->layer_digest ? f->package->layer_digest : "", "fixedInVersion", fix, "remediation",
		"recommendation", "text",
		f->fixed_version ? "Upgrade the package to the fixed version." : "None Provided", "url", f->uri ? f->uri : "",
		"resources", "details", "awsEcrContainerImage", "architecture", f->package->arch ? f->package->arch : "",
		"imageHash", img->digest, "imageTags", tags, "platform", platform, "pushedAt", img->pushed_at, "registry",
		repo->registry_id, "repositoryName", repo->name, "id", resource_id, "tags", json_object(), "type",
		"AWS_ECR_CONTAINER_IMAGE", "score", f->cvss_score, "severity", scan_severity_name(f->severity), "status",
		"ACTIVE", "title", title, "type", "PACKAGE_VULNERABILITY", "updatedAt", now, "fixAvailable",
		f->fixed_version ? "YES" : "NO", "exploitAvailable", "NO");
}

/* Scan one image manifest: inventory its layers and match them. */
static int scan_manifest(struct server *srv, const struct repository *repo, const struct image *img, json_t *basic,
			 json_t *enhanced, bool *out_supported, char *err, size_t errlen)
{
	struct manifest_info info;
	struct scan_layer *layers = NULL;
	char (*paths)[4300] = NULL;
	struct scan_inventory inv;
	struct scan_finding *findings = NULL;
	size_t nfindings = 0;
	double now = clock_now();
	int status = manifest_parse(img->manifest, img->manifest_len, img->media_type, &info, err, errlen);

	if (status != LCR_OK)
		return status;
	layers = calloc(info.nlayers + 1, sizeof(*layers));
	paths = calloc(info.nlayers + 1, sizeof(*paths));
	if (layers == NULL || paths == NULL) {
		status = LCR_ERR_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < info.nlayers; i++) {
		registry_blob_file_path(srv->registry, info.layers[i].digest, paths[i], sizeof(paths[i]));
		layers[i].path = paths[i];
		layers[i].digest = info.layers[i].digest;
		layers[i].media_type = info.layers[i].media_type;
	}
	status = scanner_inventory(layers, info.nlayers, &inv, err, errlen);
	if (status != LCR_OK)
		goto out;
	/* An index is supported when any of its platform images is. */
	*out_supported = *out_supported || inv.os_supported || inv.npackages > 0;
	pthread_mutex_lock(&scans.lock);
	if (scans.db != NULL)
		vuln_db_match(scans.db, &inv, &findings, &nfindings);
	pthread_mutex_unlock(&scans.lock);
	for (size_t i = 0; i < nfindings; i++) {
		json_array_append_new(basic, basic_finding(&findings[i]));
		json_array_append_new(enhanced, enhanced_finding(&findings[i], repo, img, &inv, now));
	}
	scan_findings_free(findings, nfindings);
	scanner_inventory_release(&inv);
out:
	free(layers);
	free(paths);
	manifest_info_release(&info);
	return status;
}

static json_t *severity_counts(json_t *basic)
{
	json_t *counts = json_object(), *f;
	size_t i;

	json_array_foreach(basic, i, f) {
		const char *severity = json_string_value(json_object_get(f, "severity"));
		json_int_t n = json_integer_value(json_object_get(counts, severity));

		json_object_set_new(counts, severity, json_integer(n + 1));
	}
	return counts;
}

static void run_scan(struct server *srv, int64_t image_id)
{
	struct repository repo;
	struct image img;
	json_t *basic = json_array(), *enhanced = json_array(), *result;
	bool supported = false;
	char err[512] = "", fingerprint[80] = "";
	const char *final = "COMPLETE";
	double db_updated = 0;
	char *text;
	int status;

	if (registry_image_by_id(srv->registry, image_id, &repo, &img) != LCR_OK) {
		json_decref(basic);
		json_decref(enhanced);
		return;
	}
	registry_scan_set_status(srv->registry, image_id, "IN_PROGRESS", NULL);
	if (strcmp(img.media_type, MEDIA_TYPE_OCI_INDEX) == 0 || strcmp(img.media_type, MEDIA_TYPE_DOCKER_LIST) == 0) {
		struct manifest_info info;

		status = manifest_parse(img.manifest, img.manifest_len, img.media_type, &info, err, sizeof(err));
		for (size_t i = 0; status == LCR_OK && i < info.nmanifests; i++) {
			struct image child;

			if (registry_image_get(srv->registry, &repo, info.manifests[i].digest, true, &child, err, sizeof(err)) !=
			    LCR_OK)
				continue;
			status = scan_manifest(srv, &repo, &child, basic, enhanced, &supported, err, sizeof(err));
			image_release(&child);
		}
		if (status == LCR_OK)
			manifest_info_release(&info);
	} else {
		status = scan_manifest(srv, &repo, &img, basic, enhanced, &supported, err, sizeof(err));
	}
	if (status == LCR_OK && faults_scan_should_fail(repo.name)) {
		status = LCR_ERR_INTERNAL;
		snprintf(err, sizeof(err), "The scan failed (injected fault).");
	}
	if (status != LCR_OK) {
		final = "FAILED";
		log_warn("scan of %s in %s failed: %s", img.digest, repo.name, err);
	} else if (!supported) {
		final = "UNSUPPORTED_IMAGE";
	}
	pthread_mutex_lock(&scans.lock);
	if (scans.db != NULL) {
		snprintf(fingerprint, sizeof(fingerprint), "%s", vuln_db_fingerprint(scans.db));
		db_updated = vuln_db_updated_at(scans.db);
	}
	pthread_mutex_unlock(&scans.lock);
	if (status != LCR_OK) {
		/* A failed scan reports no findings, partial or otherwise. */
		json_array_clear(basic);
		json_array_clear(enhanced);
	}
	result = json_pack("{s:O, s:O, s:o}", "findings", basic, "enhancedFindings", enhanced, "findingSeverityCounts",
			   severity_counts(basic));
	text = json_dumps(result, JSON_COMPACT);
	registry_scan_complete(srv->registry, image_id, final, status != LCR_OK ? err : status_description(final), text,
			       fingerprint, db_updated);
	log_info("scan of %s in %s: %s, %zu finding(s)", img.digest, repo.name, final, json_array_size(basic));
	{
		json_t *tags = json_array(), *detail;
		char arn[600];

		for (size_t i = 0; i < img.ntags; i++)
			json_array_append_new(tags, json_string(img.tags[i]));
		snprintf(arn, sizeof(arn), "arn:aws:ecr:%s:%s:repository/%s", repo.region, repo.registry_id, repo.name);
		detail = json_pack("{s:s, s:s, s:O, s:s, s:o}", "scan-status", final, "repository-name", repo.name,
				   "finding-severity-counts", json_object_get(result, "findingSeverityCounts"), "image-digest",
				   img.digest, "image-tags", tags);
		events_emit(srv, repo.registry_id, repo.region, "ECR Image Scan", json_pack("[s]", arn), detail);
	}
	free(text);
	json_decref(result);
	json_decref(basic);
	json_decref(enhanced);
	image_release(&img);
}

static void *scan_main(void *arg)
{
	struct server *srv = arg;

	for (;;) {
		int64_t *ids = NULL;
		size_t n = 0;

		pthread_mutex_lock(&scans.lock);
		if (scans.stopping) {
			pthread_mutex_unlock(&scans.lock);
			break;
		}
		pthread_mutex_unlock(&scans.lock);
		registry_scan_queue(srv->registry, &ids, &n);
		for (size_t i = 0; i < n; i++)
			run_scan(srv, ids[i]);
		free(ids);
		pthread_mutex_lock(&scans.lock);
		if (n == 0 && !scans.stopping) {
			struct timespec deadline;

			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_sec += 1;
			pthread_cond_timedwait(&scans.wake, &scans.lock, &deadline);
		}
		pthread_mutex_unlock(&scans.lock);
	}
	return NULL;
}

int scans_start(struct server *srv)
{
	load_db(srv);
	if (pthread_create(&scans.thread, NULL, scan_main, srv) != 0)
		return LCR_ERR_INTERNAL;
	scans.running = true;
	return LCR_OK;
}

void scans_stop(void)
{
	if (scans.running) {
		pthread_mutex_lock(&scans.lock);
		scans.stopping = true;
		pthread_cond_signal(&scans.wake);
		pthread_mutex_unlock(&scans.lock);
		pthread_join(scans.thread, NULL);
		scans.running = false;
	}
	vuln_db_free(scans.db);
	scans.db = NULL;
}

static void wake_worker(void)
{
	pthread_mutex_lock(&scans.lock);
	pthread_cond_signal(&scans.wake);
	pthread_mutex_unlock(&scans.lock);
}

/* Full wildcard match: '*' matches any run of characters. */
static bool wildcard_matches(const char *pattern, const char *name)
{
	if (*pattern == '\0')
		return *name == '\0';
	if (*pattern == '*')
		return wildcard_matches(pattern + 1, name) || (*name != '\0' && wildcard_matches(pattern, name + 1));
	return *name == *pattern && wildcard_matches(pattern + 1, name + 1);
}

/* Registry scanning rules matching: a filter without '*' matches names
 * that contain it; with '*', a full wildcard match (ECR's user guide). */
static bool filter_matches(const char *filter, const char *name)
{
	if (strchr(filter, '*') == NULL)
		return strstr(name, filter) != NULL;
	return wildcard_matches(filter, name);
}

static int frequency_rank(const char *frequency)
{
	if (strcmp(frequency, "CONTINUOUS_SCAN") == 0)
		return 3;
	if (strcmp(frequency, "SCAN_ON_PUSH") == 0)
		return 2;
	return 1;
}

/* The repository's effective scan frequency: CONTINUOUS_SCAN beats
 * SCAN_ON_PUSH when both match; with no matching rule, BASIC falls back to
 * the repository's scanOnPush and otherwise MANUAL. */
const char *scan_frequency(struct server *srv, const struct repository *repo, char *type, size_t typelen,
			   json_t **out_filters)
{
	char *rules_text = NULL;
	json_t *rules, *rule;
	const char *frequency = NULL;
	size_t i;

	*out_filters = json_array();
	registry_scanning_config_get(srv->registry, repo->registry_id, repo->region, type, typelen, &rules_text);
	rules = json_loads(rules_text ? rules_text : "[]", 0, NULL);
	free(rules_text);
	json_array_foreach(rules, i, rule) {
		const char *f = json_string_value(json_object_get(rule, "scanFrequency"));
		json_t *filters = json_object_get(rule, "repositoryFilters"), *filter;
		size_t j;

		json_array_foreach(filters, j, filter) {
			const char *pattern = json_string_value(json_object_get(filter, "filter"));

			if (pattern == NULL || f == NULL || !filter_matches(pattern, repo->name))
				continue;
			json_array_append(*out_filters, filter);
			/* CONTINUOUS_SCAN beats SCAN_ON_PUSH, which beats MANUAL. */
			if (frequency == NULL || frequency_rank(f) > frequency_rank(frequency))
				frequency = strcmp(f, "CONTINUOUS_SCAN") == 0 ? "CONTINUOUS_SCAN"
					    : strcmp(f, "SCAN_ON_PUSH") == 0 ? "SCAN_ON_PUSH"
									     : "MANUAL";
		}
	}
	json_decref(rules);
	if (frequency != NULL)
		return frequency;
	if (strcmp(type, "BASIC") == 0)
		return repo->scan_on_push ? "SCAN_ON_PUSH" : "MANUAL";
	return "MANUAL";
}

void scans_on_push(struct server *srv, const struct repository *repo, const char *digest)
{
	struct image img;
	char type[16], err[256];
	json_t *filters;
	const char *frequency = scan_frequency(srv, repo, type, sizeof(type), &filters);

	json_decref(filters);
	if (strcmp(frequency, "MANUAL") == 0)
		return;
	if (registry_image_get(srv->registry, repo, digest, false, &img, err, sizeof(err)) != LCR_OK)
		return;
	registry_scan_request(srv->registry, img.id);
	image_release(&img);
	wake_worker();
}

void scans_check_database(struct server *srv)
{
	int64_t *ids = NULL;
	size_t n = 0;
	char fingerprint[80] = "";

	if (srv->config.vuln_db[0] == '\0' || folder_mtime(srv->config.vuln_db) == scans.db_mtime)
		return;
	load_db(srv);
	pthread_mutex_lock(&scans.lock);
	if (scans.db != NULL)
		snprintf(fingerprint, sizeof(fingerprint), "%s", vuln_db_fingerprint(scans.db));
	pthread_mutex_unlock(&scans.lock);
	registry_scan_stale(srv->registry, fingerprint, &ids, &n);
	for (size_t i = 0; i < n; i++) {
		struct repository repo;
		struct image img;
		char type[16];
		json_t *filters;

		if (registry_image_by_id(srv->registry, ids[i], &repo, &img) != LCR_OK)
			continue;
		if (strcmp(scan_frequency(srv, &repo, type, sizeof(type), &filters), "CONTINUOUS_SCAN") == 0)
			registry_scan_request(srv->registry, ids[i]);
		json_decref(filters);
		image_release(&img);
	}
	free(ids);
	wake_worker();
}

/* ECR operations */

static int read_image_id(struct request *req, struct image *out)
{
	json_t *id;
	const char *digest = NULL, *tag = NULL;
	int status = ecr_input_object(req, req->input, "imageId", &id);

	if (status == LCR_OK && id == NULL)
		status = ecr_invalid(req, "imageId", "Member must not be null");
	if (status == LCR_OK)
		status = ecr_input_string(req, id, "imageDigest", false, 0, 256, &digest);
	if (status == LCR_OK)
		status = ecr_input_string(req, id, "imageTag", false, 1, IMAGE_TAG_MAX, &tag);
	if (status == LCR_OK && digest == NULL && tag == NULL)
		status = ecr_invalid(req, "imageId", "image digest and tag can not both be null");
	if (status != LCR_OK)
		return status;
	status = registry_image_get(req->srv->registry, &req->repo, tag ? tag : digest, false, out, req->err,
				    sizeof(req->err));
	if (status == LCR_OK && tag != NULL && digest != NULL && strcmp(digest, out->digest) != 0) {
		image_release(out);
		status = lcr_fail(LCR_ERR_IMAGE_NOT_FOUND, req->err, sizeof(req->err),
				  "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the "
				  "repository with name '%s' in the registry with id '%s'",
				  digest, tag, req->repo.name, req->repo.registry_id);
	}
	return status;
}

static json_t *image_id_json(const struct image *img)
{
	json_t *id = json_pack("{s:s}", "imageDigest", img->digest);

	if (img->ntags > 0)
		json_object_set_new(id, "imageTag", json_string(img->tags[0]));
	return id;
}

int ecr_start_image_scan(struct request *req)
{
	struct image img;
	struct scan_record record;
	char type[16];
	json_t *filters;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = read_image_id(req, &img);
	if (status != LCR_OK)
		return status;
	if (strcmp(img.storage_class, "ARCHIVE") == 0) {
		image_release(&img);
		return lcr_fail(LCR_ERR_IMAGE_ARCHIVED, req->err, sizeof(req->err),
				"The image is archived and cannot be scanned; restore it first");
	}
	scan_frequency(req->srv, &req->repo, type, sizeof(type), &filters);
	json_decref(filters);
	if (strcmp(type, "ENHANCED") == 0) {
		image_release(&img);
		return lcr_fail(LCR_ERR_VALIDATION, req->err, sizeof(req->err),
				"Manual scans are not supported when the registry uses enhanced scanning");
	}
	if (registry_scan_get(req->srv->registry, img.id, &record) == LCR_OK) {
		bool recent = clock_now() - record.requested_at < SCAN_QUOTA_SECONDS;

		scan_record_release(&record);
		if (recent) {
			image_release(&img);
			return lcr_fail(LCR_ERR_LIMIT_EXCEEDED, req->err, sizeof(req->err),
					"The scan quota per image has been exceeded. Wait and try again.");
		}
	}
	status = registry_scan_request(req->srv->registry, img.id);
	if (status == LCR_OK) {
		wake_worker();
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "registryId", req->repo.registry_id,
					       "repositoryName", req->repo.name, "imageId", image_id_json(&img),
					       "imageScanStatus", "status", "IN_PROGRESS", "description",
					       status_description("IN_PROGRESS")));
	}
	image_release(&img);
	return status;
}

int ecr_describe_image_scan_findings(struct request *req)
{
	struct image img;
	struct scan_record record;
	char type[16];
	json_t *filters, *stored = NULL, *list, *page, *findings, *body;
	const char *key;
	size_t start = 0, count = 0;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = read_image_id(req, &img);
	if (status != LCR_OK)
		return status;
	if (registry_scan_get(req->srv->registry, img.id, &record) != LCR_OK) {
		status = lcr_fail(LCR_ERR_SCAN_NOT_FOUND, req->err, sizeof(req->err),
				  "Image scan does not exist for the image with '{imageDigest:%s}' in the repository with "
				  "name '%s' in the registry with id '%s'",
				  img.digest, req->repo.name, req->repo.registry_id);
		image_release(&img);
		return status;
	}
	scan_frequency(req->srv, &req->repo, type, sizeof(type), &filters);
	json_decref(filters);
	key = strcmp(type, "ENHANCED") == 0 ? "enhancedFindings" : "findings";
	body = json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "registryId", req->repo.registry_id, "repositoryName",
			 req->repo.name, "imageId", image_id_json(&img), "imageScanStatus", "status",
			 strcmp(record.status, "PENDING") == 0 ? "IN_PROGRESS" : record.status, "description",
			 record.description[0] ? record.description : status_description(record.status));
	if (record.findings != NULL)
		stored = json_loads(record.findings, 0, NULL);
	if (stored != NULL) {
		list = json_object_get(stored, key);
		status = ecr_page(req, json_array_size(list), 100, 1000, &start, &count);
		if (status == LCR_OK) {
			page = json_array();
			for (size_t i = start; i < start + count; i++)
				json_array_append(page, json_array_get(list, i));
			findings = json_pack("{s:o, s:f, s:O}", "imageScanCompletedAt", ecr_time(record.completed_at),
					     "vulnerabilitySourceUpdatedAt", record.db_updated_at, "findingSeverityCounts",
					     json_object_get(stored, "findingSeverityCounts"));
			json_object_set_new(findings, key, page);
			json_object_set_new(body, "imageScanFindings", findings);
			ecr_page_token(body, start + count, json_array_size(list));
		}
	}
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK, body);
	else
		json_decref(body);
	json_decref(stored);
	scan_record_release(&record);
	image_release(&img);
	return status;
}

int ecr_put_image_scanning_configuration(struct request *req)
{
	json_t *config;
	bool scan_on_push = false;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_object(req, req->input, "imageScanningConfiguration", &config);
	if (status == LCR_OK && config == NULL)
		status = ecr_invalid(req, "imageScanningConfiguration", "Member must not be null");
	if (status == LCR_OK)
		status = ecr_input_bool(req, config, "scanOnPush", &scan_on_push);
	if (status == LCR_OK)
		status = registry_repository_set_scan_on_push(req->srv->registry, &req->repo, scan_on_push);
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:s, s:s, s:{s:b}}", "registryId", req->repo.registry_id, "repositoryName",
					       req->repo.name, "imageScanningConfiguration", "scanOnPush", scan_on_push));
	return status;
}

/* Check rules as the model constrains them: 0..2 rules, each with a
 * scanFrequency and 0..100 WILDCARD filters of ECR's filter pattern. */
static int read_scanning_rules(struct request *req, const char *type, json_t *rules)
{
	json_t *rule, *filter;
	size_t i, j;

	if (json_array_size(rules) > 2)
		return ecr_invalid(req, "rules", "Member must have length less than or equal to 2");
	json_array_foreach(rules, i, rule) {
		const char *f = json_string_value(json_object_get(rule, "scanFrequency"));
		json_t *filters = json_object_get(rule, "repositoryFilters");

		if (f == NULL || (strcmp(f, "SCAN_ON_PUSH") != 0 && strcmp(f, "CONTINUOUS_SCAN") != 0 &&
				  strcmp(f, "MANUAL") != 0))
			return ecr_invalid(req, "rules.scanFrequency",
					   "Member must satisfy enum value set: [SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL]");
		if (strcmp(type, "BASIC") == 0 && strcmp(f, "CONTINUOUS_SCAN") == 0)
			return lcr_fail(LCR_ERR_VALIDATION, req->err, sizeof(req->err),
					"CONTINUOUS_SCAN is only supported with the ENHANCED scan type");
		if (!json_is_array(filters) || json_array_size(filters) > 100)
			return ecr_invalid(req, "rules.repositoryFilters", "Member must have length less than or equal to 100");
		json_array_foreach(filters, j, filter) {
			const char *pattern = json_string_value(json_object_get(filter, "filter"));
			const char *filter_type = json_string_value(json_object_get(filter, "filterType"));

			if (pattern == NULL || strlen(pattern) < 1 || strlen(pattern) > 255 ||
			    strspn(pattern, "abcdefghijklmnopqrstuvwxyz0123456789._-/*") != strlen(pattern))
				return ecr_invalid(req, "rules.repositoryFilters.filter",
						   "Member must satisfy regular expression pattern: "
						   "^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$");
			if (filter_type == NULL || strcmp(filter_type, "WILDCARD") != 0)
				return ecr_invalid(req, "rules.repositoryFilters.filterType",
						   "Member must satisfy enum value set: [WILDCARD]");
		}
	}
	return LCR_OK;
}

int ecr_put_registry_scanning_configuration(struct request *req)
{
	const char *type;
	json_t *rules;
	char *text;
	int status = ecr_input_string(req, req->input, "scanType", false, 0, 16, &type);

	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "rules", 0, 100, &rules);
	if (status != LCR_OK)
		return status;
	if (type == NULL)
		type = "BASIC";
	if (strcmp(type, "BASIC") != 0 && strcmp(type, "ENHANCED") != 0)
		return ecr_invalid(req, "scanType", "Member must satisfy enum value set: [BASIC, ENHANCED]");
	status = read_scanning_rules(req, type, rules);
	if (status != LCR_OK)
		return status;
	text = json_dumps(rules ? rules : json_array(), JSON_COMPACT);
	status = registry_scanning_config_set(req->srv->registry, req->account, req->region, type, text ? text : "[]");
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:{s:s, s:o}}", "registryScanningConfiguration", "scanType", type, "rules",
					       json_loads(text ? text : "[]", 0, NULL)));
	free(text);
	return status;
}

int ecr_get_registry_scanning_configuration(struct request *req)
{
	char type[16], *rules = NULL;
	int status = registry_scanning_config_get(req->srv->registry, req->account, req->region, type, sizeof(type), &rules);

	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:s, s:{s:s, s:o}}", "registryId", req->account, "scanningConfiguration",
					       "scanType", type, "rules", json_loads(rules, 0, NULL)));
	free(rules);
	return status;
}

int ecr_batch_get_repository_scanning_configuration(struct request *req)
{
	json_t *names, *name, *configs = json_array(), *failures = json_array();
	size_t i;
	int status = ecr_input_array(req, req->input, "repositoryNames", 1, 25, &names);

	if (status == LCR_OK && names == NULL)
		status = ecr_invalid(req, "repositoryNames", "Member must not be null");
	json_array_foreach(names, i, name) {
		struct repository repo;
		char type[16], arn[600], err[512];
		json_t *filters;
		const char *frequency;

		if (status != LCR_OK)
			break;
		if (!json_is_string(name) ||
		    registry_repository_get(req->srv->registry, req->account, req->region, json_string_value(name), &repo,
					    err, sizeof(err)) != LCR_OK) {
			json_array_append_new(failures, json_pack("{s:s, s:s, s:s}", "repositoryName",
								  json_is_string(name) ? json_string_value(name) : "",
								  "failureCode", "REPOSITORY_NOT_FOUND", "failureReason",
								  "REPOSITORY_NOT_FOUND"));
			continue;
		}
		status = request_authorize(req, &repo, NULL);
		if (status != LCR_OK)
			break;
		frequency = scan_frequency(req->srv, &repo, type, sizeof(type), &filters);
		snprintf(arn, sizeof(arn), "arn:aws:ecr:%s:%s:repository/%s", repo.region, repo.registry_id, repo.name);
		json_array_append_new(configs, json_pack("{s:s, s:s, s:b, s:s, s:o}", "repositoryArn", arn, "repositoryName",
							 repo.name, "scanOnPush", strcmp(frequency, "MANUAL") != 0,
							 "scanFrequency", frequency, "appliedScanFilters", filters));
	}
	/* Only missing repositories: the call was still authorized by name. */
	if (status == LCR_OK && json_array_size(configs) == 0)
		req->authorized = true;
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:O, s:O}", "scanningConfigurations", configs, "failures", failures));
	json_decref(configs);
	json_decref(failures);
	return status;
}

void scans_describe_image(struct server *srv, const struct image *img, json_t *detail)
{
	struct scan_record record;
	json_t *stored;

	if (registry_scan_get(srv->registry, img->id, &record) != LCR_OK)
		return;
	json_object_set_new(detail, "imageScanStatus",
			    json_pack("{s:s, s:s}", "status", strcmp(record.status, "PENDING") == 0 ? "IN_PROGRESS" : record.status,
				      "description", record.description[0] ? record.description
									   : status_description(record.status)));
	stored = record.findings ? json_loads(record.findings, 0, NULL) : NULL;
	if (stored != NULL)
		json_object_set_new(detail, "imageScanFindingsSummary",
				    json_pack("{s:o, s:f, s:O}", "imageScanCompletedAt", ecr_time(record.completed_at),
					      "vulnerabilitySourceUpdatedAt", record.db_updated_at, "findingSeverityCounts",
					      json_object_get(stored, "findingSeverityCounts")));
	json_decref(stored);
	scan_record_release(&record);
}

/* POST /_localecr/vulndb/reload: load the database folder again now. */
int admin_vulndb_reload(struct request *req)
{
	scans.db_mtime = -1;
	scans_check_database(req->srv);
	pthread_mutex_lock(&scans.lock);
	request_respond_json(req, MHD_HTTP_OK,
			     json_pack("{s:I, s:s}", "advisories", (json_int_t)(scans.db ? vuln_db_count(scans.db) : 0),
				       "fingerprint", scans.db ? vuln_db_fingerprint(scans.db) : ""));
	pthread_mutex_unlock(&scans.lock);
	return LCR_OK;
}
