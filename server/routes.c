/*
 * routes.c - the route table: one row per /v2/ route, ECR operation and
 * admin endpoint, with the handler, the IAM action it needs, flags and the
 * body size cap.
 */
#include "server.h"

#include <stdlib.h>
#include <string.h>

#define KIB 1024
#define MIB (1024 * 1024)

/* JSON bodies of ECR calls.  PutImage carries a manifest of up to 4 MiB
 * that JSON escaping can grow, so it gets a larger cap. */
#define ECR_BODY_MAX (1 * MIB)
#define ECR_PUT_IMAGE_BODY_MAX (32 * MIB)
/* UploadLayerPart carries up to 20 MiB of layer data, base64-encoded. */
#define ECR_UPLOAD_PART_BODY_MAX (32 * MIB)

static const struct route routes[] = {
	/* OCI distribution API */
	{PROTOCOL_V2, "GET", V2_PATH_BASE, "base", NULL, NULL, v2_base, 0, 0},
	{PROTOCOL_V2, "GET", V2_PATH_CATALOG, "catalog", "ecr:DescribeRepositories", NULL, v2_catalog, 0, ROUTE_GLOBAL},
	{PROTOCOL_V2, "GET", V2_PATH_TAGS, "tags.list", "ecr:ListImages", NULL, v2_tags_list, 0, 0},
	{PROTOCOL_V2, "GET", V2_PATH_MANIFEST, "manifest.get", "ecr:BatchGetImage", NULL, v2_manifest_get, 0, 0},
	{PROTOCOL_V2, "HEAD", V2_PATH_MANIFEST, "manifest.head", "ecr:BatchGetImage", NULL, v2_manifest_get, 0, 0},
	{PROTOCOL_V2, "PUT", V2_PATH_MANIFEST, "manifest.put", "ecr:PutImage", NULL, v2_manifest_put,
	 MANIFEST_MAX, 0},
	{PROTOCOL_V2, "DELETE", V2_PATH_MANIFEST, "manifest.delete", "ecr:BatchDeleteImage", NULL,
	 v2_manifest_delete, 0, 0},
	{PROTOCOL_V2, "GET", V2_PATH_BLOB, "blob.get", "ecr:GetDownloadUrlForLayer", NULL, v2_blob_get, 0, 0},
	{PROTOCOL_V2, "HEAD", V2_PATH_BLOB, "blob.head", "ecr:BatchCheckLayerAvailability", NULL, v2_blob_get, 0,
	 0},
	{PROTOCOL_V2, "DELETE", V2_PATH_BLOB, "blob.delete", "ecr:BatchDeleteImage", NULL, v2_blob_delete, 0, 0},
	{PROTOCOL_V2, "GET", V2_PATH_REFERRERS, "referrers", "ecr:BatchGetImage", NULL, v2_referrers, 0, 0},
	{PROTOCOL_V2, "POST", V2_PATH_UPLOAD_START, "upload.start", "ecr:InitiateLayerUpload", v2_upload_begin,
	 v2_upload_start, 0, ROUTE_STREAM_BODY},
	{PROTOCOL_V2, "GET", V2_PATH_UPLOAD, "upload.get", "ecr:UploadLayerPart", NULL, v2_upload_get, 0, 0},
	{PROTOCOL_V2, "PATCH", V2_PATH_UPLOAD, "upload.patch", "ecr:UploadLayerPart", v2_upload_open_writer,
	 v2_upload_patch, 0, ROUTE_STREAM_BODY},
	{PROTOCOL_V2, "PUT", V2_PATH_UPLOAD, "upload.put", "ecr:CompleteLayerUpload", v2_upload_open_writer,
	 v2_upload_put, 0, ROUTE_STREAM_BODY},
	{PROTOCOL_V2, "DELETE", V2_PATH_UPLOAD, "upload.delete", "ecr:UploadLayerPart", NULL, v2_upload_delete, 0,
	 0},

	/* ECR JSON API */
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "CreateRepository", "ecr:CreateRepository", NULL,
	 ecr_create_repository, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "DescribeRepositories", "ecr:DescribeRepositories", NULL,
	 ecr_describe_repositories, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "DeleteRepository", "ecr:DeleteRepository", NULL,
	 ecr_delete_repository, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "ListImages", "ecr:ListImages", NULL, ecr_list_images, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "DescribeImages", "ecr:DescribeImages", NULL, ecr_describe_images,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "BatchGetImage", "ecr:BatchGetImage", NULL, ecr_batch_get_image,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "PutImage", "ecr:PutImage", NULL, ecr_put_image,
	 ECR_PUT_IMAGE_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "BatchDeleteImage", "ecr:BatchDeleteImage", NULL,
	 ecr_batch_delete_image, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "GetAuthorizationToken", "ecr:GetAuthorizationToken", NULL,
	 ecr_get_authorization_token, ECR_BODY_MAX, ROUTE_GLOBAL},

	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "InitiateLayerUpload", "ecr:InitiateLayerUpload", NULL, ecr_initiate_layer_upload,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "UploadLayerPart", "ecr:UploadLayerPart", NULL, ecr_upload_layer_part,
	 ECR_UPLOAD_PART_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "CompleteLayerUpload", "ecr:CompleteLayerUpload", NULL, ecr_complete_layer_upload,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "BatchCheckLayerAvailability", "ecr:BatchCheckLayerAvailability", NULL, ecr_batch_check_layer_availability,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "GetDownloadUrlForLayer", "ecr:GetDownloadUrlForLayer", NULL, ecr_get_download_url_for_layer,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "ListImageReferrers", "ecr:BatchGetImage", NULL, ecr_list_image_referrers,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "DescribeRegistry", "ecr:DescribeRegistry", NULL, ecr_describe_registry,
	 ECR_BODY_MAX, ROUTE_GLOBAL},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "TagResource", "ecr:TagResource", NULL, ecr_tag_resource,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "UntagResource", "ecr:UntagResource", NULL, ecr_untag_resource,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "ListTagsForResource", "ecr:ListTagsForResource", NULL, ecr_list_tags_for_resource,
	 ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "GetAccountSetting", "ecr:GetAccountSetting", NULL, ecr_get_account_setting,
	 ECR_BODY_MAX, ROUTE_GLOBAL},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "PutAccountSetting", "ecr:PutAccountSetting", NULL, ecr_put_account_setting,
	 ECR_BODY_MAX, ROUTE_GLOBAL},

	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "PutImageTagMutability", "ecr:PutImageTagMutability", NULL,
	 ecr_put_image_tag_mutability, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "PutLifecyclePolicy", "ecr:PutLifecyclePolicy", NULL,
	 ecr_put_lifecycle_policy, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "GetLifecyclePolicy", "ecr:GetLifecyclePolicy", NULL,
	 ecr_get_lifecycle_policy, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "DeleteLifecyclePolicy", "ecr:DeleteLifecyclePolicy", NULL,
	 ecr_delete_lifecycle_policy, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "StartLifecyclePolicyPreview", "ecr:StartLifecyclePolicyPreview", NULL,
	 ecr_start_lifecycle_policy_preview, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "GetLifecyclePolicyPreview", "ecr:GetLifecyclePolicyPreview", NULL,
	 ecr_get_lifecycle_policy_preview, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "UpdateImageStorageClass", "ecr:UpdateImageStorageClass", NULL,
	 ecr_update_image_storage_class, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "StartImageScan", "ecr:StartImageScan", NULL,
	 ecr_start_image_scan, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "DescribeImageScanFindings", "ecr:DescribeImageScanFindings", NULL,
	 ecr_describe_image_scan_findings, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "PutImageScanningConfiguration", "ecr:PutImageScanningConfiguration", NULL,
	 ecr_put_image_scanning_configuration, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "PutRegistryScanningConfiguration", "ecr:PutRegistryScanningConfiguration", NULL,
	 ecr_put_registry_scanning_configuration, ECR_BODY_MAX, ROUTE_GLOBAL},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "GetRegistryScanningConfiguration", "ecr:GetRegistryScanningConfiguration", NULL,
	 ecr_get_registry_scanning_configuration, ECR_BODY_MAX, ROUTE_GLOBAL},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "BatchGetRepositoryScanningConfiguration", "ecr:BatchGetRepositoryScanningConfiguration", NULL,
	 ecr_batch_get_repository_scanning_configuration, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "SetRepositoryPolicy", "ecr:SetRepositoryPolicy", NULL,
	 ecr_set_repository_policy, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "GetRepositoryPolicy", "ecr:GetRepositoryPolicy", NULL,
	 ecr_get_repository_policy, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "DeleteRepositoryPolicy", "ecr:DeleteRepositoryPolicy", NULL,
	 ecr_delete_repository_policy, ECR_BODY_MAX, 0},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "PutRegistryPolicy", "ecr:PutRegistryPolicy", NULL,
	 ecr_put_registry_policy, ECR_BODY_MAX, ROUTE_GLOBAL},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "GetRegistryPolicy", "ecr:GetRegistryPolicy", NULL,
	 ecr_get_registry_policy, ECR_BODY_MAX, ROUTE_GLOBAL},
	{PROTOCOL_ECR, "POST", V2_PATH_NONE, "DeleteRegistryPolicy", "ecr:DeleteRegistryPolicy", NULL,
	 ecr_delete_registry_policy, ECR_BODY_MAX, ROUTE_GLOBAL},

	/* STS on the same endpoint; sts.c picks the action from the form body. */
	{PROTOCOL_STS, "POST", V2_PATH_NONE, "sts", NULL, NULL, sts_dispatch, 64 * KIB, 0},

	/* admin endpoints */
	{PROTOCOL_ADMIN, "GET", V2_PATH_NONE, "/_localecr/health", NULL, NULL, admin_health, 0, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "POST", V2_PATH_NONE, "/_localecr/lifecycle/run", NULL, NULL, admin_lifecycle_run, 4 * KIB,
	 ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "GET", V2_PATH_NONE, "/_localecr/clock", NULL, NULL, admin_clock_get, 0, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "POST", V2_PATH_NONE, "/_localecr/vulndb/reload", NULL, NULL, admin_vulndb_reload, 0,
	 ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "POST", V2_PATH_NONE, "/_localecr/reset", NULL, NULL, admin_reset, 4 * KIB, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "POST", V2_PATH_NONE, "/_localecr/seed", NULL, NULL, admin_seed, 1 * MIB, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "GET", V2_PATH_NONE, "/_localecr/state", NULL, NULL, admin_state, 0, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "POST", V2_PATH_NONE, "/_localecr/faults", NULL, NULL, admin_faults_add, 16 * KIB,
	 ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "GET", V2_PATH_NONE, "/_localecr/faults", NULL, NULL, admin_faults_list, 0, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "DELETE", V2_PATH_NONE, "/_localecr/faults", NULL, NULL, admin_faults_clear, 0, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "GET", V2_PATH_NONE, "/_localecr/audit", NULL, NULL, admin_audit_list, 0, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "GET", V2_PATH_NONE, "/_localecr/events", NULL, NULL, admin_events_list, 0, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "GET", V2_PATH_NONE, "/_localecr/events/deliveries", NULL, NULL, admin_event_deliveries, 0,
	 ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "POST", V2_PATH_NONE, "/_localecr/clock", NULL, NULL, admin_clock_set, 4 * KIB, ROUTE_NO_AUTH},
	{PROTOCOL_ADMIN, "POST", V2_PATH_NONE, "/_localecr/policy/simulate", NULL, NULL, admin_policy_simulate,
	 64 * KIB, ROUTE_NO_AUTH},
	/* GetDownloadUrlForLayer URLs: the signed token in the path is the credential. */
	{PROTOCOL_ADMIN, "GET", V2_PATH_NONE, "/_localecr/layers/", NULL, NULL, admin_layer_download, 0,
	 ROUTE_NO_AUTH | ROUTE_PREFIX},
};

#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

/* Find the last occurrence of needle in haystack. */
static const char *find_last(const char *haystack, const char *needle)
{
	const char *last = NULL, *p = haystack;

	while ((p = strstr(p, needle)) != NULL) {
		last = p;
		p++;
	}
	return last;
}

/* Split url into the repository name and the part after marker. */
static enum v2_path split_at(const char *rest, const char *at, size_t marker_len, enum v2_path path,
			     char **out_name, char **out_reference)
{
	if (at == rest)
		return V2_PATH_NONE;
	*out_name = strndup(rest, (size_t)(at - rest));
	*out_reference = strdup(at + marker_len);
	return path;
}

static enum v2_path parse_v2_path(const char *url, char **out_name, char **out_reference)
{
	const char *rest, *at;
	size_t len;

	*out_name = NULL;
	*out_reference = NULL;
	if (strcmp(url, "/v2") == 0 || strcmp(url, "/v2/") == 0)
		return V2_PATH_BASE;
	if (strncmp(url, "/v2/", 4) != 0)
		return V2_PATH_NONE;
	rest = url + 4;
	if (strcmp(rest, "_catalog") == 0)
		return V2_PATH_CATALOG;
	len = strlen(rest);
	if (len > 10 && strcmp(rest + len - 10, "/tags/list") == 0)
		return split_at(rest, rest + len - 10, 10, V2_PATH_TAGS, out_name, out_reference);
	if ((at = find_last(rest, "/blobs/uploads")) != NULL) {
		const char *tail = at + 14;

		if (*tail == '\0' || strcmp(tail, "/") == 0)
			return split_at(rest, at, strlen(at), V2_PATH_UPLOAD_START, out_name, out_reference);
		if (*tail == '/' && strchr(tail + 1, '/') == NULL)
			return split_at(rest, at, 15, V2_PATH_UPLOAD, out_name, out_reference);
	}
	if ((at = find_last(rest, "/manifests/")) != NULL && at[11] != '\0' && strchr(at + 11, '/') == NULL)
		return split_at(rest, at, 11, V2_PATH_MANIFEST, out_name, out_reference);
	if ((at = find_last(rest, "/blobs/")) != NULL && at[7] != '\0' && strchr(at + 7, '/') == NULL)
		return split_at(rest, at, 7, V2_PATH_BLOB, out_name, out_reference);
	if ((at = find_last(rest, "/referrers/")) != NULL && at[11] != '\0' && strchr(at + 11, '/') == NULL)
		return split_at(rest, at, 11, V2_PATH_REFERRERS, out_name, out_reference);
	return V2_PATH_NONE;
}

bool route_v2_path_known(enum v2_path path)
{
	return path != V2_PATH_NONE;
}

const struct route *route_find_v2(const char *method, const char *url, char **out_name, char **out_reference,
				  enum v2_path *out_path)
{
	*out_path = parse_v2_path(url, out_name, out_reference);
	if (*out_path == V2_PATH_NONE)
		return NULL;
	for (size_t i = 0; i < ROUTE_COUNT; i++)
		if (routes[i].protocol == PROTOCOL_V2 && routes[i].v2_path == *out_path &&
		    strcmp(routes[i].method, method) == 0)
			return &routes[i];
	return NULL;
}

const struct route *route_find_ecr(const char *operation)
{
	for (size_t i = 0; i < ROUTE_COUNT; i++)
		if (routes[i].protocol == PROTOCOL_ECR && strcmp(routes[i].name, operation) == 0)
			return &routes[i];
	return NULL;
}

const struct route *route_find_admin(const char *method, const char *url)
{
	for (size_t i = 0; i < ROUTE_COUNT; i++) {
		const struct route *r = &routes[i];
		bool matches = (r->flags & ROUTE_PREFIX) ? strncmp(url, r->name, strlen(r->name)) == 0
							 : strcmp(url, r->name) == 0;

		if (r->protocol == PROTOCOL_ADMIN && matches && strcmp(r->method, method) == 0)
			return r;
	}
	return NULL;
}

const struct route *route_find_sts(void)
{
	for (size_t i = 0; i < ROUTE_COUNT; i++)
		if (routes[i].protocol == PROTOCOL_STS)
			return &routes[i];
	return NULL;
}
