/*
 * v2.c - the OCI distribution API (/v2/) handlers.
 *
 * Errors use the spec's {"errors":[{"code","message","detail"}]} bodies; the
 * messages follow what ECR's registry front end returns where that is known
 * (NAME_UNKNOWN, MANIFEST_UNKNOWN, TAG_INVALID).  Repository and account come
 * from the registry token, so a token only reaches its own registry.
 */
#include "server.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/status.h"
#include "../registry/manifest.h"

/* Page size of tags/list and _catalog when the client sets no n, and the
 * largest n accepted (ECR's maxResults limit behind these endpoints). */
#define V2_PAGE_DEFAULT 100
#define V2_PAGE_MAX 1000

static bool is_push(const struct request *req)
{
	return strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0 ||
	       strcmp(req->method, "PATCH") == 0;
}

/* Resolve req->name in the caller's registry into req->repo.  With
 * --create-on-push, a push to a missing repository creates it. */
static int v2_repository(struct request *req)
{
	int status;

	if (req->have_repo)
		return LCR_OK;
	if (registry_repository_name_check(req->name, NULL, 0) != LCR_OK)
		return lcr_fail(LCR_ERR_NAME_INVALID, req->err, sizeof(req->err), "invalid repository name '%s'",
				req->name);
	status = registry_repository_get(req->srv->registry, req->account, req->region, req->name, &req->repo,
					 req->err, sizeof(req->err));
	if (status == LCR_ERR_REPOSITORY_NOT_FOUND && req->srv->config.create_on_push && is_push(req)) {
		memset(&req->repo, 0, sizeof(req->repo));
		snprintf(req->repo.registry_id, sizeof(req->repo.registry_id), "%s", req->account);
		snprintf(req->repo.region, sizeof(req->repo.region), "%s", req->region);
		snprintf(req->repo.name, sizeof(req->repo.name), "%s", req->name);
		status = registry_repository_create(req->srv->registry, &req->repo, req->err, sizeof(req->err));
		if (status == LCR_ERR_REPOSITORY_ALREADY_EXISTS)
			status = registry_repository_get(req->srv->registry, req->account, req->region, req->name,
							 &req->repo, req->err, sizeof(req->err));
		else if (status == LCR_OK)
			log_info("repository %s created on push in registry %s", req->name, req->account);
	}
	if (status == LCR_OK) {
		req->have_repo = true;
		return request_authorize(req, &req->repo, NULL);
	}
	if (status == LCR_ERR_REPOSITORY_NOT_FOUND && req->srv->config.iam_mode) {
		int denied = request_authorize_missing(req, req->account, req->region, req->name);

		if (denied != LCR_OK)
			return denied;
	}
	return status;
}

static int parse_page_size(struct request *req, int *out)
{
	const char *n = request_query(req, "n");
	char *end;
	long value;

	*out = V2_PAGE_DEFAULT;
	if (n == NULL)
		return LCR_OK;
	value = strtol(n, &end, 10);
	if (*n == '\0' || *end != '\0' || value < 0)
		return lcr_fail(LCR_ERR_UNSUPPORTED, req->err, sizeof(req->err),
				"Invalid parameter at 'maxResults' failed to satisfy constraint: "
				"'Member must have value greater than or equal to 1'");
	if (value > V2_PAGE_MAX)
		return lcr_fail(LCR_ERR_UNSUPPORTED, req->err, sizeof(req->err),
				"Invalid parameter at 'maxResults' failed to satisfy constraint: "
				"'Member must have value less than or equal to 1000'");
	*out = (int)value;
	return LCR_OK;
}

/* Respond to a list endpoint: names sorted, starting after ?last=, at most n,
 * with a Link header when more remain. */
static void respond_page(struct request *req, const char *key, const char *name, char **items, size_t count,
			 int page, const char *base)
{
	const char *last = request_query(req, "last");
	json_t *list = json_array(), *body;
	size_t i = 0, added = 0;
	struct MHD_Response *resp;
	char *text, link[1024];

	if (last != NULL)
		while (i < count && strcmp(items[i], last) <= 0)
			i++;
	for (; i < count && added < (size_t)page; i++, added++)
		json_array_append_new(list, json_string(items[i]));
	body = name ? json_pack("{s:s, s:o}", "name", name, key, list) : json_pack("{s:o}", key, list);
	text = json_render(body);
	json_decref(body);
	req->bytes_out = strlen(text);
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (i < count && added > 0) {
		snprintf(link, sizeof(link), "<%s?n=%d&last=%s>; rel=\"next\"", base, page, items[i - 1]);
		MHD_add_response_header(resp, "Link", link);
	}
	request_respond(req, MHD_HTTP_OK, resp);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int v2_base(struct request *req)
{
	request_respond_json(req, MHD_HTTP_OK, json_object());
	return LCR_OK;
}

int v2_catalog(struct request *req)
{
	struct repository *repos = NULL;
	size_t count = 0;
	char **names;
	int page, status = parse_page_size(req, &page);

	if (status != LCR_OK)
		return status;
	status = registry_repository_list(req->srv->registry, req->account, req->region, &repos, &count, req->err,
					  sizeof(req->err));
	if (status != LCR_OK)
		return status;
	names = calloc(count + 1, sizeof(*names));
	for (size_t i = 0; names != NULL && i < count; i++)
		names[i] = repos[i].name;
	if (names == NULL) {
		free(repos);
		return LCR_ERR_INTERNAL;
	}
	respond_page(req, "repositories", NULL, names, count, page, "/v2/_catalog");
	free(names);
	free(repos);
	return LCR_OK;
}

int v2_tags_list(struct request *req)
{
	struct image *images = NULL;
	size_t count = 0, ntags = 0, k = 0;
	char **tags, base[600];
	int page, status = parse_page_size(req, &page);

	if (status == LCR_OK)
		status = v2_repository(req);
	if (status == LCR_OK)
		status = registry_image_list(req->srv->registry, &req->repo, &images, &count, req->err, sizeof(req->err));
	if (status != LCR_OK)
		return status;
	for (size_t i = 0; i < count; i++)
		ntags += images[i].ntags;
	tags = calloc(ntags + 1, sizeof(*tags));
	if (tags == NULL) {
		image_array_free(images, count);
		return LCR_ERR_INTERNAL;
	}
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < images[i].ntags; j++)
			tags[k++] = images[i].tags[j];
	qsort(tags, ntags, sizeof(*tags), compare_strings);
	snprintf(base, sizeof(base), "/v2/%s/tags/list", req->name);
	respond_page(req, "tags", req->name, tags, ntags, page, base);
	free(tags);
	image_array_free(images, count);
	return LCR_OK;
}

struct accept_list {
	struct buf text;
};

static enum MHD_Result collect_accept(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct accept_list *list = cls;

	(void)kind;
	if (strcasecmp(key, "Accept") == 0 && value != NULL) {
		if (list->text.len > 0)
			buf_append(&list->text, ",", 1);
		buf_append(&list->text, value, strlen(value));
	}
	return MHD_YES;
}

/* True when the Accept headers (all of them, comma lists included) name
 * media_type or a wildcard; also true when there is no Accept header. */
static bool accepts(const char *accept_text, const char *media_type)
{
	const char *p = accept_text;

	if (accept_text == NULL || accept_text[0] == '\0')
		return true;
	while (*p != '\0') {
		size_t n, end;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ",");
		end = strcspn(p, ";,");
		while (end > 0 && p[end - 1] == ' ')
			end--;
		if ((end == strlen(media_type) && strncmp(p, media_type, end) == 0) || (end == 3 && strncmp(p, "*/*", 3) == 0))
			return true;
		p += n;
	}
	return false;
}

/* For a client that cannot take an index pulled by tag, pick the
 * linux/amd64 child it can take, as the reference registry does. */
static int pick_platform_child(struct request *req, struct image *img, const char *accept_text)
{
	struct manifest_info info;
	char err[256];
	int status = LCR_ERR_IMAGE_NOT_FOUND;

	if (manifest_parse(img->manifest, img->manifest_len, img->media_type, &info, err, sizeof(err)) != LCR_OK)
		return LCR_ERR_INTERNAL;
	for (size_t i = 0; i < info.nmanifests; i++) {
		const struct descriptor *d = &info.manifests[i];

		if (strcmp(d->platform_os, "linux") != 0 || strcmp(d->platform_arch, "amd64") != 0 ||
		    !accepts(accept_text, d->media_type))
			continue;
		image_release(img);
		status = registry_image_get(req->srv->registry, &req->repo, d->digest, true, img, req->err,
					    sizeof(req->err));
		break;
	}
	manifest_info_release(&info);
	return status;
}

/* Translate a manifest pulled by tag into the other image manifest format
 * when only that one is accepted.  Replaces img->manifest, media type and
 * digest; the result is not stored, as with ECR's conversion. */
static int convert_for_client(struct image *img, const char *accept_text)
{
	static const char *targets[] = {MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_OCI_MANIFEST};

	for (size_t i = 0; i < 2; i++) {
		char *converted;
		size_t len;

		if (!accepts(accept_text, targets[i]) || strcmp(img->media_type, targets[i]) == 0)
			continue;
		if (manifest_convert(img->manifest, img->manifest_len, targets[i], &converted, &len) != LCR_OK)
			continue;
		free(img->manifest);
		img->manifest = converted;
		img->manifest_len = len;
		snprintf(img->media_type, sizeof(img->media_type), "%s", targets[i]);
		digest_of(converted, len, img->digest);
		return LCR_OK;
	}
	return LCR_ERR_IMAGE_NOT_FOUND;
}

/* Make img something the client's Accept headers allow.  Pulls by digest
 * are never changed, as on ECR. */
static int negotiate(struct request *req, struct image *img)
{
	struct accept_list accept;
	int status = LCR_OK;

	buf_init(&accept.text, 64 * 1024);
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_accept, &accept);
	if (!accepts(accept.text.data, img->media_type)) {
		bool is_index = strcmp(img->media_type, MEDIA_TYPE_OCI_INDEX) == 0 ||
				strcmp(img->media_type, MEDIA_TYPE_DOCKER_LIST) == 0;

		status = LCR_ERR_IMAGE_NOT_FOUND;
		if (!digest_syntax(req->reference))
			status = is_index ? pick_platform_child(req, img, accept.text.data)
					  : convert_for_client(img, accept.text.data);
	}
	buf_release(&accept.text);
	if (status == LCR_ERR_IMAGE_NOT_FOUND)
		return lcr_fail(status, req->err, sizeof(req->err),
				"Requested image not found: its media type is not in the Accept header");
	return status;
}

int v2_manifest_get(struct request *req)
{
	struct image img;
	struct MHD_Response *resp;
	int status = v2_repository(req);

	if (status != LCR_OK)
		return status;
	status = registry_image_get(req->srv->registry, &req->repo, req->reference, true, &img, req->err,
				    sizeof(req->err));
	if (status != LCR_OK)
		return lcr_fail(status, req->err, sizeof(req->err), "Requested image not found");
	if (strcmp(img.storage_class, "ARCHIVE") == 0) {
		/* Archived images cannot be pulled, so ECR returns 404. */
		image_release(&img);
		return lcr_fail(LCR_ERR_IMAGE_NOT_FOUND, req->err, sizeof(req->err),
				"Requested image is archived; restore it with UpdateImageStorageClass or push it again");
	}
	status = negotiate(req, &img);
	if (status != LCR_OK) {
		image_release(&img);
		return status;
	}
	resp = MHD_create_response_from_buffer(img.manifest_len, img.manifest, MHD_RESPMEM_MUST_FREE);
	req->bytes_out = strcmp(req->method, "HEAD") == 0 ? 0 : img.manifest_len;
	img.manifest = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, img.media_type);
	MHD_add_response_header(resp, "Docker-Content-Digest", img.digest);
	if (strcmp(req->method, "GET") == 0)
		registry_image_touch_pull(req->srv->registry, img.id);
	request_respond(req, MHD_HTTP_OK, resp);
	image_release(&img);
	return LCR_OK;
}

int v2_manifest_put(struct request *req)
{
	struct image_put_result result;
	struct MHD_Response *resp;
	const char *tag = NULL;
	char computed[DIGEST_BUF], location[600];
	int status = v2_repository(req);

	if (status != LCR_OK)
		return status;
	if (digest_syntax(req->reference)) {
		if (!digest_valid(req->reference))
			return lcr_fail(LCR_ERR_DIGEST_INVALID, req->err, sizeof(req->err),
					"unsupported digest '%s': only sha256 is supported", req->reference);
		digest_of(req->body.data ? req->body.data : "", req->body.len, computed);
		if (strcmp(computed, req->reference) != 0)
			return lcr_fail(LCR_ERR_DIGEST_INVALID, req->err, sizeof(req->err),
					"manifest digest %s does not match the digest in the URL %s", computed,
					req->reference);
	} else if (!registry_tag_valid_oci(req->reference)) {
		return lcr_fail(LCR_ERR_TAG_INVALID, req->err, sizeof(req->err),
				"invalid tag '%s': a tag is 1 to 128 characters of [A-Za-z0-9_.-] and does not start "
				"with '.' or '-'",
				req->reference);
	} else {
		tag = req->reference;
	}
	status = registry_image_put(req->srv->registry, &req->repo, req->body.data ? req->body.data : "", req->body.len,
				    request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE), tag, &result, req->err,
				    sizeof(req->err));
	events_push(req->srv, &req->repo, status == LCR_OK, &result, tag);
	if (status != LCR_OK)
		return status;
	resp = response_empty();
	snprintf(location, sizeof(location), "/v2/%s/manifests/%s", req->name, result.digest);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	MHD_add_response_header(resp, "Docker-Content-Digest", result.digest);
	if (result.subject_digest[0] != '\0')
		MHD_add_response_header(resp, "OCI-Subject", result.subject_digest);
	request_respond(req, MHD_HTTP_CREATED, resp);
	return LCR_OK;
}

int v2_manifest_delete(struct request *req)
{
	char digest[DIGEST_BUF];
	int status = v2_repository(req);

	if (status != LCR_OK)
		return status;
	if (digest_syntax(req->reference))
		status = registry_image_delete(req->srv->registry, &req->repo, req->reference, req->err,
					       sizeof(req->err));
	else
		status = registry_tag_delete(req->srv->registry, &req->repo, req->reference, digest, req->err,
					     sizeof(req->err));
	if (status == LCR_ERR_IMAGE_NOT_FOUND)
		return lcr_fail(status, req->err, sizeof(req->err), "Requested image not found");
	if (status != LCR_OK)
		return status;
	events_image_action(req->srv, &req->repo, "DELETE", true, digest_syntax(req->reference) ? req->reference : digest,
			    digest_syntax(req->reference) ? NULL : req->reference);
	request_respond(req, MHD_HTTP_ACCEPTED, response_empty());
	return LCR_OK;
}

static int check_digest_param(struct request *req, const char *digest)
{
	if (digest == NULL || !digest_valid(digest))
		return lcr_fail(LCR_ERR_DIGEST_INVALID, req->err, sizeof(req->err),
				"invalid digest '%s': expected sha256:<64 lowercase hex>", digest ? digest : "");
	return LCR_OK;
}

/* Parse a single "bytes=" range against size into [*start, *end]; false
 * when it is malformed or unsatisfiable. */
static bool parse_range(const char *header, int64_t size, int64_t *start, int64_t *end)
{
	long long a = -1, b = -1;
	const char *p;
	char *stop;

	if (strncmp(header, "bytes=", 6) != 0 || strchr(header, ',') != NULL)
		return false;
	p = header + 6;
	if (*p == '-') {
		b = strtoll(p + 1, &stop, 10);
		if (stop == p + 1 || *stop != '\0' || b <= 0 || size == 0)
			return false;
		*start = b >= size ? 0 : size - b;
		*end = size - 1;
		return true;
	}
	a = strtoll(p, &stop, 10);
	if (stop == p || *stop != '-' || a < 0)
		return false;
	p = stop + 1;
	if (*p != '\0') {
		b = strtoll(p, &stop, 10);
		if (stop == p || *stop != '\0' || b < a)
			return false;
	}
	if (a >= size)
		return false;
	*start = a;
	*end = (b < 0 || b >= size) ? size - 1 : b;
	return true;
}

int blob_respond(struct request *req, int fd, int64_t size, const char *digest)
{
	const char *range = request_header(req, MHD_HTTP_HEADER_RANGE);
	struct MHD_Response *resp;
	int64_t start = 0, end = size - 1;
	unsigned http_status = MHD_HTTP_OK;
	char content_range[96];

	/* RFC 7233 section 3.1: ignore Range on methods other than GET, with
	 * a unit other than bytes, and (a choice it allows) with several
	 * ranges, and send the whole blob instead. */
	if (range != NULL && (strcmp(req->method, "GET") != 0 || strncmp(range, "bytes=", 6) != 0 ||
			      strchr(range, ',') != NULL))
		range = NULL;
	if (range != NULL) {
		if (!parse_range(range, size, &start, &end)) {
			close(fd);
			resp = response_empty();
			snprintf(content_range, sizeof(content_range), "bytes */%lld", (long long)size);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
			request_respond(req, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
			return lcr_fail(LCR_ERR_RANGE_NOT_SATISFIABLE, req->err, sizeof(req->err),
					"range '%s' cannot be satisfied for a blob of %lld bytes", range, (long long)size);
		}
		http_status = MHD_HTTP_PARTIAL_CONTENT;
		snprintf(content_range, sizeof(content_range), "bytes %lld-%lld/%lld", (long long)start, (long long)end,
			 (long long)size);
	}
	resp = MHD_create_response_from_fd_at_offset64((uint64_t)(end - start + 1), fd, (uint64_t)start);
	if (resp == NULL) {
		close(fd);
		return LCR_ERR_INTERNAL;
	}
	if (http_status == MHD_HTTP_PARTIAL_CONTENT)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
	req->bytes_out = strcmp(req->method, "HEAD") == 0 ? 0 : (uint64_t)(end - start + 1);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	MHD_add_response_header(resp, "Docker-Content-Digest", digest);
	request_respond(req, http_status, resp);
	return LCR_OK;
}

int v2_blob_get(struct request *req)
{
	int64_t size = 0;
	int fd = -1;
	int status = v2_repository(req);

	if (status == LCR_OK)
		status = check_digest_param(req, req->reference);
	if (status != LCR_OK)
		return status;
	status = registry_blob_open(req->srv->registry, req->repo.id, req->reference, &fd, &size);
	if (status == LCR_ERR_BLOB_UNKNOWN)
		return lcr_fail(status, req->err, sizeof(req->err), "blob %s is unknown to the repository",
				req->reference);
	if (status != LCR_OK)
		return status;
	return blob_respond(req, fd, size, req->reference);
}

/* Remove a blob from this repository only.  Images that still reference
 * it fail their next pull of that blob, which the OCI spec allows. */
int v2_blob_delete(struct request *req)
{
	int status = v2_repository(req);

	if (status == LCR_OK)
		status = check_digest_param(req, req->reference);
	if (status != LCR_OK)
		return status;
	status = registry_blob_unlink(req->srv->registry, req->repo.id, req->reference);
	if (status == LCR_ERR_BLOB_UNKNOWN)
		return lcr_fail(status, req->err, sizeof(req->err), "blob %s is unknown to the repository",
				req->reference);
	if (status != LCR_OK)
		return status;
	request_respond(req, MHD_HTTP_ACCEPTED, response_empty());
	return LCR_OK;
}

/* Location, Range and Docker-Upload-UUID of an open session. */
static void respond_session(struct request *req, unsigned http_status, const char *uuid, uint64_t size)
{
	struct MHD_Response *resp = response_empty();
	char location[600], range[64];

	snprintf(location, sizeof(location), "/v2/%s/blobs/uploads/%s", req->name, uuid);
	/* An empty session reports "0-0", as docker distribution does. */
	snprintf(range, sizeof(range), "0-%llu", (unsigned long long)(size > 0 ? size - 1 : 0));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_RANGE, range);
	MHD_add_response_header(resp, "Docker-Upload-UUID", uuid);
	request_respond(req, http_status, resp);
}

static void respond_blob_created(struct request *req, const char *digest)
{
	struct MHD_Response *resp = response_empty();
	char location[600];

	snprintf(location, sizeof(location), "/v2/%s/blobs/%s", req->name, digest);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	MHD_add_response_header(resp, "Docker-Content-Digest", digest);
	request_respond(req, MHD_HTTP_CREATED, resp);
}

/* POST .../blobs/uploads/: with ?digest= the body is the whole blob
 * (monolithic upload), streamed into a fresh session right away. */
int v2_upload_begin(struct request *req)
{
	const char *digest = request_query(req, "digest");
	char uuid[UUID_BUF];
	int status = v2_repository(req);

	if (status != LCR_OK || digest == NULL)
		return status;
	status = check_digest_param(req, digest);
	if (status == LCR_OK)
		status = registry_upload_create(req->srv->registry, req->repo.id, uuid, req->err, sizeof(req->err));
	if (status == LCR_OK)
		status = registry_upload_writer_open(req->srv->registry, req->repo.id, uuid, &req->writer, req->err,
						     sizeof(req->err));
	return status;
}

/* Cross-repository mount (?mount=<digest>&from=<repository>): link the
 * blob when the account setting BLOB_MOUNTING is ENABLED and the source
 * repository, in the same registry with the same encryption, can read it.
 * Anything else falls back to a new upload session, as the OCI spec
 * recommends. */
static int try_mount(struct request *req)
{
	const char *digest = request_query(req, "mount");
	const char *from = request_query(req, "from");
	struct repository source;
	char setting[32], err[256];
	int status;

	if (digest == NULL || from == NULL || !digest_valid(digest))
		return LCR_ERR_UNSUPPORTED;
	status = registry_account_setting_get(req->srv->registry, req->account, req->region, "BLOB_MOUNTING", setting,
					      sizeof(setting), err, sizeof(err));
	if (status != LCR_OK || strcmp(setting, "ENABLED") != 0)
		return LCR_ERR_UNSUPPORTED;
	if (registry_repository_get(req->srv->registry, req->account, req->region, from, &source, err, sizeof(err)) !=
		    LCR_OK ||
	    request_authorize_action(req, "ecr:GetDownloadUrlForLayer", &source, NULL) != LCR_OK ||
	    strcmp(source.encryption_type, req->repo.encryption_type) != 0 ||
	    strcmp(source.kms_key, req->repo.kms_key) != 0)
		return LCR_ERR_UNSUPPORTED;
	if (registry_blob_mount(req->srv->registry, source.id, req->repo.id, digest, err, sizeof(err)) != LCR_OK)
		return LCR_ERR_UNSUPPORTED;
	respond_blob_created(req, digest);
	return LCR_OK;
}

int v2_upload_start(struct request *req)
{
	char uuid[UUID_BUF];
	struct blob_writer *writer = req->writer;
	const char *digest = request_query(req, "digest");
	int status;

	if (writer != NULL) {
		req->writer = NULL;
		status = registry_upload_complete(req->srv->registry, req->repo.id, writer, digest, req->err,
						  sizeof(req->err));
		if (status != LCR_OK)
			return status;
		respond_blob_created(req, digest);
		return LCR_OK;
	}
	if (try_mount(req) == LCR_OK)
		return LCR_OK;
	status = registry_upload_create(req->srv->registry, req->repo.id, uuid, req->err, sizeof(req->err));
	if (status != LCR_OK)
		return status;
	respond_session(req, MHD_HTTP_ACCEPTED, uuid, 0);
	return LCR_OK;
}

/* Parse "<start>-<end>" of a Content-Range into its two byte offsets.
 * sscanf's %llu accepts a sign, so each number must start with a digit. */
static bool parse_content_range(const char *text, unsigned long long *start, unsigned long long *end)
{
	const char *dash = strchr(text, '-');
	int consumed = 0;

	if (dash == NULL || !isdigit((unsigned char)text[0]) || !isdigit((unsigned char)dash[1]))
		return false;
	if (sscanf(text, "%llu-%llu%n", start, end, &consumed) != 2 || text[consumed] != '\0')
		return false;
	return *end >= *start;
}

/* A chunk must start where the session ends, and its Content-Range must
 * span its Content-Length (OCI distribution spec, chunked upload):
 * otherwise 416 with the session's current Range. */
static int check_content_range(struct request *req)
{
	const char *range = request_header(req, "Content-Range");
	const char *length = request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t size = blob_writer_size(req->writer);
	unsigned long long start, end;

	if (range == NULL)
		return LCR_OK;
	if (strncmp(range, "bytes ", 6) == 0)
		range += 6;
	if (!parse_content_range(range, &start, &end))
		return lcr_fail(LCR_ERR_BLOB_UPLOAD_INVALID, req->err, sizeof(req->err),
				"invalid Content-Range '%s': expected <start>-<end>", range);
	if (start != size) {
		lcr_fail(LCR_ERR_RANGE_NOT_SATISFIABLE, req->err, sizeof(req->err),
			 "chunk starts at byte %llu but the upload has %llu bytes", start, (unsigned long long)size);
	} else if (length != NULL && (strtoull(length, NULL, 10) != end - start + 1 || end - start + 1 == 0)) {
		lcr_fail(LCR_ERR_RANGE_NOT_SATISFIABLE, req->err, sizeof(req->err),
			 "Content-Range %llu-%llu does not match the Content-Length of %s bytes", start, end, length);
	} else {
		return LCR_OK;
	}
	blob_writer_close(req->writer);
	req->writer = NULL;
	respond_session(req, MHD_HTTP_RANGE_NOT_SATISFIABLE, req->reference, size);
	return LCR_ERR_RANGE_NOT_SATISFIABLE;
}

int v2_upload_open_writer(struct request *req)
{
	int status = v2_repository(req);

	if (status != LCR_OK)
		return status;
	if (strcmp(req->method, "PUT") == 0) {
		status = check_digest_param(req, request_query(req, "digest"));
		if (status != LCR_OK)
			return status;
	}
	status = registry_upload_writer_open(req->srv->registry, req->repo.id, req->reference, &req->writer,
					     req->err, sizeof(req->err));
	if (status == LCR_ERR_BLOB_UPLOAD_UNKNOWN)
		return lcr_fail(status, req->err, sizeof(req->err), "upload %s is unknown to the repository",
				req->reference);
	if (status == LCR_OK)
		status = check_content_range(req);
	return status;
}

int v2_upload_patch(struct request *req)
{
	uint64_t size = blob_writer_size(req->writer);
	int status = blob_writer_close(req->writer);

	req->writer = NULL;
	if (status == LCR_ERR_BLOB_UPLOAD_UNKNOWN)
		return lcr_fail(status, req->err, sizeof(req->err),
				"upload %s was cancelled or expired while the chunk was being received", req->reference);
	if (status != LCR_OK)
		return status;
	registry_upload_touch(req->srv->registry, req->reference);
	respond_session(req, MHD_HTTP_ACCEPTED, req->reference, size);
	return LCR_OK;
}

int v2_upload_put(struct request *req)
{
	const char *digest = request_query(req, "digest");
	struct blob_writer *writer = req->writer;
	int status;

	req->writer = NULL;
	status = registry_upload_complete(req->srv->registry, req->repo.id, writer, digest, req->err,
					  sizeof(req->err));
	if (status != LCR_OK)
		return status;
	respond_blob_created(req, digest);
	return LCR_OK;
}

int v2_upload_get(struct request *req)
{
	uint64_t size = 0;
	int status = v2_repository(req);

	if (status == LCR_OK)
		status = registry_upload_stat(req->srv->registry, req->repo.id, req->reference, &size);
	if (status == LCR_ERR_BLOB_UPLOAD_UNKNOWN)
		return lcr_fail(status, req->err, sizeof(req->err), "upload %s is unknown to the repository",
				req->reference);
	if (status != LCR_OK)
		return status;
	respond_session(req, MHD_HTTP_NO_CONTENT, req->reference, size);
	return LCR_OK;
}

int v2_upload_delete(struct request *req)
{
	int status = v2_repository(req);

	if (status == LCR_OK)
		status = registry_upload_cancel(req->srv->registry, req->repo.id, req->reference);
	if (status == LCR_ERR_BLOB_UPLOAD_UNKNOWN)
		return lcr_fail(status, req->err, sizeof(req->err), "upload %s is unknown to the repository",
				req->reference);
	if (status != LCR_OK)
		return status;
	request_respond(req, MHD_HTTP_NO_CONTENT, response_empty());
	return LCR_OK;
}

/* GET /v2/<name>/referrers/<digest>: an OCI index of the manifests whose
 * subject is digest, filtered by ?artifactType= (OCI distribution 1.1). */
int v2_referrers(struct request *req)
{
	const char *artifact_type = request_query(req, "artifactType");
	struct image *images = NULL;
	size_t count = 0;
	json_t *manifests, *body;
	struct MHD_Response *resp;
	char *text;
	int status = v2_repository(req);

	if (status == LCR_OK)
		status = check_digest_param(req, req->reference);
	if (status == LCR_OK)
		status = registry_referrers_list(req->srv->registry, &req->repo, req->reference, &images, &count,
						 req->err, sizeof(req->err));
	if (status != LCR_OK)
		return status;
	manifests = json_array();
	for (size_t i = 0; i < count; i++) {
		json_t *d = manifest_referrer_descriptor(images[i].manifest, images[i].manifest_len, images[i].media_type,
							 images[i].digest);
		const char *type = d ? json_string_value(json_object_get(d, "artifactType")) : NULL;

		if (d != NULL && (artifact_type == NULL || (type != NULL && strcmp(type, artifact_type) == 0)))
			json_array_append_new(manifests, d);
		else
			json_decref(d);
	}
	image_array_free(images, count);
	body = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MEDIA_TYPE_OCI_INDEX, "manifests", manifests);
	text = json_render(body);
	json_decref(body);
	if (text == NULL)
		return LCR_ERR_INTERNAL;
	req->bytes_out = strlen(text);
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, MEDIA_TYPE_OCI_INDEX);
	if (artifact_type != NULL)
		MHD_add_response_header(resp, "OCI-Filters-Applied", "artifactType");
	request_respond(req, MHD_HTTP_OK, resp);
	return LCR_OK;
}
