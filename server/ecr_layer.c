/*
 * ecr_layer.c - the layer half of the ECR API: InitiateLayerUpload,
 * UploadLayerPart, CompleteLayerUpload, BatchCheckLayerAvailability and
 * GetDownloadUrlForLayer.
 *
 * These share upload sessions and blobs with /v2/, so a layer uploaded here
 * can be named by a manifest pushed there and the other way round.  Part
 * rules follow the ECR API reference: parts arrive in order, every part but
 * the last is at least 5 MiB (checked at completion, which is when the last
 * part is known), and a part carries at most 20 MiB.
 */
#include "ecr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/status.h"

#define PART_SIZE_MIN (5 * 1024 * 1024)
#define PART_SIZE_MAX (20 * 1024 * 1024)
/* partSize returned by InitiateLayerUpload: what clients should send. */
#define PART_SIZE_PREFERRED (10 * 1024 * 1024)
/* How long a GetDownloadUrlForLayer URL works.
 * NOTE: ECR's pre-signed S3 URLs have a lifetime ECR does not document;
 * one hour is localecr's choice. */
#define DOWNLOAD_URL_LIFETIME_SECONDS 3600
/* ECR reports this media type for layers in BatchCheckLayerAvailability. */
#define LAYER_MEDIA_TYPE "application/vnd.docker.container.image.rootfs.diff+x-gtar"

static int upload_not_found(struct request *req, const char *upload_id)
{
	return lcr_fail(LCR_ERR_BLOB_UPLOAD_UNKNOWN, req->err, sizeof(req->err),
			"Upload with id '%s' is not found in repository '%s' in registry '%s'", upload_id,
			req->repo.name, req->repo.registry_id);
}

static int read_upload_id(struct request *req, const char **out)
{
	int status = ecr_input_string(req, req->input, "uploadId", true, 0, 128, out);

	if (status == LCR_OK && !uuid_valid(*out))
		return ecr_invalid(req, "uploadId", "Member must satisfy regular expression "
				   "'[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}'");
	return status;
}

int ecr_initiate_layer_upload(struct request *req)
{
	char uuid[UUID_BUF];
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = registry_upload_create(req->srv->registry, req->repo.id, uuid, req->err, sizeof(req->err));
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:s, s:I}", "uploadId", uuid, "partSize", (json_int_t)PART_SIZE_PREFERRED));
	return status;
}

/* Fail with InvalidLayerPartException, which carries the upload's current
 * position. */
static int invalid_part(struct request *req, const char *upload_id, uint64_t size, const char *fmt,
			unsigned long long a, unsigned long long b)
{
	char message[512];
	json_t *body;

	snprintf(message, sizeof(message), fmt, a, b);
	body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "__type", "InvalidLayerPartException", "message", message,
			 "registryId", req->repo.registry_id, "repositoryName", req->repo.name, "uploadId", upload_id,
			 "lastValidByteReceived", (json_int_t)(size > 0 ? size - 1 : 0));
	request_respond_json(req, 400, body);
	return lcr_fail(LCR_ERR_BLOB_UPLOAD_INVALID, req->err, sizeof(req->err), "%s", message);
}

int ecr_upload_layer_part(struct request *req)
{
	const char *upload_id, *blob_text;
	long long first = 0, last = 0;
	bool has_first = false, has_last = false;
	unsigned char *part = NULL;
	size_t part_len = 0;
	struct blob_writer *writer = NULL;
	uint64_t size, span;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = read_upload_id(req, &upload_id);
	if (status == LCR_OK)
		status = ecr_input_int(req, req->input, "partFirstByte", 0, INT64_MAX, &has_first, &first);
	if (status == LCR_OK)
		status = ecr_input_int(req, req->input, "partLastByte", 0, INT64_MAX, &has_last, &last);
	if (status == LCR_OK && (!has_first || !has_last))
		status = ecr_invalid(req, has_first ? "partLastByte" : "partFirstByte", "Member must not be null");
	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "layerPartBlob", true, 0, SIZE_MAX, &blob_text);
	if (status != LCR_OK)
		return status;
	part = base64_decode(blob_text, &part_len);
	if (part == NULL)
		return lcr_fail(LCR_ERR_SERIALIZATION, req->err, sizeof(req->err),
				"layerPartBlob is not valid base64");
	if (part_len == 0 || part_len > PART_SIZE_MAX) {
		free(part);
		return ecr_invalid(req, "layerPartBlob", "Member must have length between 1 and %d bytes", PART_SIZE_MAX);
	}
	status = registry_upload_writer_open(req->srv->registry, req->repo.id, upload_id, &writer, req->err,
					     sizeof(req->err));
	if (status == LCR_ERR_BLOB_UPLOAD_UNKNOWN)
		status = upload_not_found(req, upload_id);
	if (status != LCR_OK)
		goto out;
	size = blob_writer_size(writer);
	if ((uint64_t)first != size) {
		status = invalid_part(req, upload_id, size, "The part starts at byte %llu but the upload has %llu bytes",
				      (unsigned long long)first, (unsigned long long)size);
		goto out;
	}
	/* In unsigned arithmetic, since partLastByte may be as large as the
	 * largest 64-bit number. */
	span = last >= first ? (uint64_t)last - (uint64_t)first + 1 : 0;
	if (span != part_len) {
		status = invalid_part(req, upload_id, size,
				      "The part holds %llu bytes but partFirstByte and partLastByte span %llu",
				      (unsigned long long)part_len, (unsigned long long)span);
		goto out;
	}
	status = blob_writer_write(writer, part, part_len);
	if (status == LCR_OK)
		status = registry_upload_note_part(req->srv->registry, upload_id, part_len, PART_SIZE_MIN);
	if (status == LCR_OK) {
		status = blob_writer_close(writer);
		writer = NULL;
		if (status == LCR_ERR_BLOB_UPLOAD_UNKNOWN)
			status = upload_not_found(req, upload_id);
	}
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:s, s:s, s:s, s:I}", "registryId", req->repo.registry_id, "repositoryName",
					       req->repo.name, "uploadId", upload_id, "lastByteReceived", (json_int_t)last));
out:
	blob_writer_close(writer);
	free(part);
	return status;
}

static int read_layer_digest(struct request *req, const char *digest, const char *field)
{
	if (!digest_valid(digest))
		return ecr_invalid(req, field, "Member must satisfy regular expression 'sha256:[a-f0-9]{64}'");
	return LCR_OK;
}

int ecr_complete_layer_upload(struct request *req)
{
	const char *upload_id, *digest;
	json_t *digests;
	struct blob_writer *writer = NULL;
	bool small_part = false;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = read_upload_id(req, &upload_id);
	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "layerDigests", 1, 100, &digests);
	if (status == LCR_OK && digests == NULL)
		status = ecr_invalid(req, "layerDigests", "Member must not be null");
	if (status != LCR_OK)
		return status;
	digest = json_string_value(json_array_get(digests, 0));
	if (digest == NULL)
		return lcr_fail(LCR_ERR_SERIALIZATION, req->err, sizeof(req->err),
				"Unexpected value type for field 'layerDigests': expected strings");
	status = read_layer_digest(req, digest, "layerDigests");
	if (status != LCR_OK)
		return status;
	status = registry_upload_writer_open(req->srv->registry, req->repo.id, upload_id, &writer, req->err,
					     sizeof(req->err));
	if (status == LCR_ERR_BLOB_UPLOAD_UNKNOWN)
		return upload_not_found(req, upload_id);
	if (status != LCR_OK)
		return status;
	if (blob_writer_size(writer) == 0) {
		blob_writer_close(writer);
		return lcr_fail(LCR_ERR_EMPTY_UPLOAD, req->err, sizeof(req->err),
				"The upload with id '%s' in repository '%s' contains no layer parts", upload_id,
				req->repo.name);
	}
	registry_upload_small_part_seen(req->srv->registry, upload_id, &small_part);
	if (small_part) {
		blob_writer_close(writer);
		return lcr_fail(LCR_ERR_LAYER_PART_TOO_SMALL, req->err, sizeof(req->err),
				"Layer parts must be at least 5 MiB in size.");
	}
	if (registry_blob_stat(req->srv->registry, req->repo.id, digest, NULL) == LCR_OK) {
		blob_writer_close(writer);
		registry_upload_cancel(req->srv->registry, req->repo.id, upload_id);
		return lcr_fail(LCR_ERR_LAYER_ALREADY_EXISTS, req->err, sizeof(req->err),
				"The layer with digest '%s' already exists in the repository with name '%s' in registry "
				"with id '%s'",
				digest, req->repo.name, req->repo.registry_id);
	}
	status = registry_upload_complete(req->srv->registry, req->repo.id, writer, digest, req->err, sizeof(req->err));
	if (status == LCR_ERR_DIGEST_INVALID)
		return lcr_fail(status, req->err, sizeof(req->err),
				"The layer digest '%s' does not match the digest computed for the uploaded parts", digest);
	if (status == LCR_OK)
		request_respond_json(req, MHD_HTTP_OK,
				     json_pack("{s:s, s:s, s:s, s:s}", "registryId", req->repo.registry_id, "repositoryName",
					       req->repo.name, "uploadId", upload_id, "layerDigest", digest));
	return status;
}

int ecr_batch_check_layer_availability(struct request *req)
{
	json_t *digests, *layers = json_array(), *failures = json_array(), *value;
	size_t i;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_array(req, req->input, "layerDigests", 1, 100, &digests);
	if (status == LCR_OK && digests == NULL)
		status = ecr_invalid(req, "layerDigests", "Member must not be null");
	if (status != LCR_OK)
		goto out;
	json_array_foreach(digests, i, value) {
		const char *digest = json_string_value(value);
		int64_t size = 0;

		if (digest == NULL) {
			status = lcr_fail(LCR_ERR_SERIALIZATION, req->err, sizeof(req->err),
					  "Unexpected value type for field 'layerDigests': expected strings");
			goto out;
		}
		if (!digest_valid(digest)) {
			json_array_append_new(failures, json_pack("{s:s, s:s, s:s}", "layerDigest", digest, "failureCode",
								  "InvalidLayerDigest", "failureReason",
								  "Invalid layer digest"));
		} else if (registry_blob_stat(req->srv->registry, req->repo.id, digest, &size) != LCR_OK) {
			json_array_append_new(failures, json_pack("{s:s, s:s, s:s}", "layerDigest", digest, "failureCode",
								  "MissingLayerDigest", "failureReason",
								  "Could not find layer"));
		} else {
			json_array_append_new(layers, json_pack("{s:s, s:s, s:I, s:s}", "layerDigest", digest,
								"layerAvailability", "AVAILABLE", "layerSize",
								(json_int_t)size, "mediaType", LAYER_MEDIA_TYPE));
		}
	}
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:O, s:O}", "layers", layers, "failures", failures));
out:
	json_decref(layers);
	json_decref(failures);
	return status;
}

int ecr_get_download_url_for_layer(struct request *req)
{
	const char *digest;
	json_t *claims;
	char *token, *url = NULL;
	int status = ecr_repository(req);

	if (status == LCR_OK)
		status = ecr_input_string(req, req->input, "layerDigest", true, 0, 256, &digest);
	if (status == LCR_OK)
		status = read_layer_digest(req, digest, "layerDigest");
	if (status != LCR_OK)
		return status;
	if (registry_blob_stat(req->srv->registry, req->repo.id, digest, NULL) != LCR_OK)
		return lcr_fail(LCR_ERR_LAYERS_NOT_FOUND, req->err, sizeof(req->err),
				"The layer with digest '%s' does not exist in the repository with name '%s' in the "
				"registry with id '%s'",
				digest, req->repo.name, req->repo.registry_id);
	claims = json_pack("{s:I, s:s, s:I}", "repository", (json_int_t)req->repo.id, "digest", digest, "exp",
			   (json_int_t)(clock_now() + DOWNLOAD_URL_LIFETIME_SECONDS));
	token = claims ? auth_sign_claims(req->srv, claims) : NULL;
	json_decref(claims);
	if (token == NULL || asprintf(&url, "%s://%s/_localecr/layers/%s", req->srv->config.tls ? "https" : "http", request_host(req),
					 token) < 0) {
		free(token);
		return LCR_ERR_INTERNAL;
	}
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:s, s:s}", "downloadUrl", url, "layerDigest", digest));
	free(token);
	free(url);
	return LCR_OK;
}
