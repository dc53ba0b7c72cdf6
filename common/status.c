/*
 * status.c - the table from lcr_status to ECR exceptions and OCI error codes.
 *
 * ECR JSON errors are HTTP 400 for client faults and 500 for ServerException
 * (awsJson1_1 convention).  OCI codes and statuses follow the distribution
 * spec's error code table.  Where ECR is known to respond differently on
 * /v2/ (401 plain text, 403 DENIED), the ECR behaviour wins.
 */
#include "status.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>

static const struct lcr_status_info status_table[LCR_STATUS_COUNT] = {
	[LCR_OK] = {"ok", NULL, 200, NULL, 200},
	[LCR_ERR_INTERNAL] = {"internal", "ServerException", 500, "UNKNOWN", 500},
	[LCR_ERR_INVALID_PARAMETER] = {"invalid_parameter", "InvalidParameterException", 400, "UNSUPPORTED", 400},
	[LCR_ERR_SERIALIZATION] = {"serialization", "SerializationException", 400, "UNSUPPORTED", 400},
	[LCR_ERR_UNKNOWN_OPERATION] = {"unknown_operation", "UnknownOperationException", 400, "UNSUPPORTED", 405},
	[LCR_ERR_MISSING_AUTH] = {"missing_auth", "MissingAuthenticationTokenException", 400, "UNAUTHORIZED", 401},
	[LCR_ERR_INCOMPLETE_SIGNATURE] = {"incomplete_signature", "IncompleteSignatureException", 400, "UNAUTHORIZED", 401},
	[LCR_ERR_UNAUTHORIZED] = {"unauthorized", "UnrecognizedClientException", 400, "UNAUTHORIZED", 401},
	[LCR_ERR_TOKEN_INVALID] = {"token_invalid", "UnrecognizedClientException", 400, "DENIED", 400},
	[LCR_ERR_TOKEN_EXPIRED] = {"token_expired", "ExpiredTokenException", 400, "DENIED", 403},
	[LCR_ERR_DENIED] = {"denied", "AccessDeniedException", 400, "DENIED", 403},
	[LCR_ERR_REPOSITORY_NOT_FOUND] = {"repository_not_found", "RepositoryNotFoundException", 400, "NAME_UNKNOWN", 404},
	[LCR_ERR_REPOSITORY_ALREADY_EXISTS] = {"repository_already_exists", "RepositoryAlreadyExistsException", 400, "DENIED", 409},
	[LCR_ERR_REPOSITORY_NOT_EMPTY] = {"repository_not_empty", "RepositoryNotEmptyException", 400, "DENIED", 409},
	[LCR_ERR_INVALID_TAG_PARAMETER] = {"invalid_tag_parameter", "InvalidTagParameterException", 400, "UNSUPPORTED", 400},
	[LCR_ERR_TOO_MANY_TAGS] = {"too_many_tags", "TooManyTagsException", 400, "UNSUPPORTED", 400},
	[LCR_ERR_IMAGE_NOT_FOUND] = {"image_not_found", "ImageNotFoundException", 400, "MANIFEST_UNKNOWN", 404},
	[LCR_ERR_IMAGE_ALREADY_EXISTS] = {"image_already_exists", "ImageAlreadyExistsException", 400, "MANIFEST_INVALID", 400},
	[LCR_ERR_IMAGE_TAG_ALREADY_EXISTS] = {"image_tag_already_exists", "ImageTagAlreadyExistsException", 400, "TAG_INVALID", 400},
	[LCR_ERR_IMAGE_DIGEST_MISMATCH] = {"image_digest_mismatch", "ImageDigestDoesNotMatchException", 400, "DIGEST_INVALID", 400},
	[LCR_ERR_IMAGE_REFERENCED] = {"image_referenced", "InvalidParameterException", 400, "DENIED", 409},
	[LCR_ERR_LAYERS_NOT_FOUND] = {"layers_not_found", "LayersNotFoundException", 400, "MANIFEST_BLOB_UNKNOWN", 400},
	[LCR_ERR_REFERENCED_IMAGES_NOT_FOUND] = {"referenced_images_not_found", "ReferencedImagesNotFoundException", 400, "MANIFEST_UNKNOWN", 400},
	[LCR_ERR_MANIFEST_INVALID] = {"manifest_invalid", "InvalidParameterException", 400, "MANIFEST_INVALID", 400},
	[LCR_ERR_MANIFEST_TOO_LARGE] = {"manifest_too_large", "InvalidParameterException", 400, "SIZE_INVALID", 400},
	[LCR_ERR_TAG_INVALID] = {"tag_invalid", "InvalidParameterException", 400, "TAG_INVALID", 400},
	[LCR_ERR_TAG_IMMUTABLE] = {"tag_immutable", "ImageTagAlreadyExistsException", 400, "TAG_INVALID", 400},
	[LCR_ERR_NAME_INVALID] = {"name_invalid", "InvalidParameterException", 400, "NAME_INVALID", 400},
	[LCR_ERR_BLOB_UNKNOWN] = {"blob_unknown", "LayersNotFoundException", 400, "BLOB_UNKNOWN", 404},
	[LCR_ERR_BLOB_UPLOAD_UNKNOWN] = {"blob_upload_unknown", "UploadNotFoundException", 400, "BLOB_UPLOAD_UNKNOWN", 404},
	[LCR_ERR_BLOB_UPLOAD_INVALID] = {"blob_upload_invalid", "InvalidLayerPartException", 400, "BLOB_UPLOAD_INVALID", 400},
	[LCR_ERR_RANGE_NOT_SATISFIABLE] = {"range_not_satisfiable", "InvalidLayerPartException", 400, "BLOB_UPLOAD_INVALID", 416},
	[LCR_ERR_DIGEST_INVALID] = {"digest_invalid", "InvalidLayerException", 400, "DIGEST_INVALID", 400},
	[LCR_ERR_BODY_TOO_LARGE] = {"body_too_large", "InvalidParameterException", 400, "SIZE_INVALID", 413},
	[LCR_ERR_UNSUPPORTED] = {"unsupported", "InvalidParameterException", 400, "UNSUPPORTED", 400},
	[LCR_ERR_METHOD_NOT_ALLOWED] = {"method_not_allowed", "UnknownOperationException", 400, "UNSUPPORTED", 405},
	[LCR_ERR_NOT_FOUND] = {"not_found", "UnknownOperationException", 404, "NOT_FOUND", 404},
	[LCR_ERR_LIMIT_EXCEEDED] = {"limit_exceeded", "LimitExceededException", 400, "TOOMANYREQUESTS", 429},
	[LCR_ERR_EMPTY_UPLOAD] = {"empty_upload", "EmptyUploadException", 400, "BLOB_UPLOAD_INVALID", 400},
	[LCR_ERR_LAYER_PART_TOO_SMALL] = {"layer_part_too_small", "LayerPartTooSmallException", 400, "BLOB_UPLOAD_INVALID", 400},
	[LCR_ERR_LAYER_ALREADY_EXISTS] = {"layer_already_exists", "LayerAlreadyExistsException", 400, "BLOB_UPLOAD_INVALID", 400},
	[LCR_ERR_VALIDATION] = {"validation", "ValidationException", 400, "UNSUPPORTED", 400},
	[LCR_ERR_INVALID_SIGNATURE] = {"invalid_signature", "InvalidSignatureException", 400, "DENIED", 403},
	[LCR_ERR_UNRECOGNIZED_CLIENT] = {"unrecognized_client", "UnrecognizedClientException", 400, "DENIED", 403},
	[LCR_ERR_REPOSITORY_POLICY_NOT_FOUND] = {"repository_policy_not_found", "RepositoryPolicyNotFoundException", 400, "DENIED", 404},
	[LCR_ERR_THROTTLED] = {"throttled", "ThrottlingException", 400, "TOOMANYREQUESTS", 429},
	[LCR_ERR_SERVICE_UNAVAILABLE] = {"service_unavailable", "ServerException", 503, "UNAVAILABLE", 503},
	[LCR_ERR_SCAN_NOT_FOUND] = {"scan_not_found", "ScanNotFoundException", 400, "DENIED", 404},
	[LCR_ERR_UNSUPPORTED_IMAGE_TYPE] = {"unsupported_image_type", "UnsupportedImageTypeException", 400, "UNSUPPORTED", 400},
	[LCR_ERR_IMAGE_ARCHIVED] = {"image_archived", "ImageArchivedException", 400, "DENIED", 404},
	[LCR_ERR_LIFECYCLE_POLICY_NOT_FOUND] = {"lifecycle_policy_not_found", "LifecyclePolicyNotFoundException", 400, "DENIED", 404},
	[LCR_ERR_LIFECYCLE_PREVIEW_NOT_FOUND] = {"lifecycle_preview_not_found", "LifecyclePolicyPreviewNotFoundException", 400, "DENIED", 404},
	[LCR_ERR_STORAGE_CLASS_UPDATE_NOT_SUPPORTED] = {"storage_class_update_not_supported", "ImageStorageClassUpdateNotSupportedException", 400, "UNSUPPORTED", 400},
	[LCR_ERR_REGISTRY_POLICY_NOT_FOUND] = {"registry_policy_not_found", "RegistryPolicyNotFoundException", 400, "DENIED", 404},
};

const struct lcr_status_info *lcr_status_info(int status)
{
	if (status < 0 || status >= LCR_STATUS_COUNT)
		status = LCR_ERR_INTERNAL;
	assert(status_table[status].name != NULL);
	return &status_table[status];
}

int lcr_fail(int status, char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	if (out != NULL && outlen > 0) {
		va_start(ap, fmt);
		vsnprintf(out, outlen, fmt, ap);
		va_end(ap);
	}
	return status;
}
