/*
 * status.h - the one status enum every localecr function returns.
 *
 * Each value maps to exactly one wire error per protocol: the ECR JSON API
 * exception name with its HTTP status, and the OCI distribution error code
 * with its HTTP status.  server/ renders errors from this table only, so a
 * new failure mode means a new row here, never an ad hoc status elsewhere.
 * Functions return LCR_OK (0) on success and put human-readable detail into
 * a caller-supplied buffer.
 */
#ifndef LCR_STATUS_H
#define LCR_STATUS_H

#include <stddef.h>

enum lcr_status {
	LCR_OK = 0,
	LCR_ERR_INTERNAL,
	LCR_ERR_INVALID_PARAMETER,
	LCR_ERR_SERIALIZATION,
	LCR_ERR_UNKNOWN_OPERATION,
	LCR_ERR_MISSING_AUTH,
	LCR_ERR_INCOMPLETE_SIGNATURE,
	LCR_ERR_UNAUTHORIZED,
	LCR_ERR_TOKEN_INVALID,
	LCR_ERR_TOKEN_EXPIRED,
	LCR_ERR_DENIED,
	LCR_ERR_REPOSITORY_NOT_FOUND,
	LCR_ERR_REPOSITORY_ALREADY_EXISTS,
	LCR_ERR_REPOSITORY_NOT_EMPTY,
	LCR_ERR_INVALID_TAG_PARAMETER,
	LCR_ERR_TOO_MANY_TAGS,
	LCR_ERR_IMAGE_NOT_FOUND,
	LCR_ERR_IMAGE_ALREADY_EXISTS,
	LCR_ERR_IMAGE_TAG_ALREADY_EXISTS,
	LCR_ERR_IMAGE_DIGEST_MISMATCH,
	LCR_ERR_IMAGE_REFERENCED,
	LCR_ERR_LAYERS_NOT_FOUND,
	LCR_ERR_REFERENCED_IMAGES_NOT_FOUND,
	LCR_ERR_MANIFEST_INVALID,
	LCR_ERR_MANIFEST_TOO_LARGE,
	LCR_ERR_TAG_INVALID,
	LCR_ERR_TAG_IMMUTABLE,
	LCR_ERR_NAME_INVALID,
	LCR_ERR_BLOB_UNKNOWN,
	LCR_ERR_BLOB_UPLOAD_UNKNOWN,
	LCR_ERR_BLOB_UPLOAD_INVALID,
	LCR_ERR_RANGE_NOT_SATISFIABLE,
	LCR_ERR_DIGEST_INVALID,
	LCR_ERR_BODY_TOO_LARGE,
	LCR_ERR_UNSUPPORTED,
	LCR_ERR_METHOD_NOT_ALLOWED,
	LCR_ERR_NOT_FOUND,
	LCR_ERR_LIMIT_EXCEEDED,
	LCR_ERR_EMPTY_UPLOAD,
	LCR_ERR_LAYER_PART_TOO_SMALL,
	LCR_ERR_LAYER_ALREADY_EXISTS,
	LCR_ERR_VALIDATION,
	LCR_ERR_INVALID_SIGNATURE,
	LCR_ERR_UNRECOGNIZED_CLIENT,
	LCR_ERR_REPOSITORY_POLICY_NOT_FOUND,
	LCR_ERR_REGISTRY_POLICY_NOT_FOUND,
	LCR_ERR_LIFECYCLE_POLICY_NOT_FOUND,
	LCR_ERR_SCAN_NOT_FOUND,
	LCR_ERR_THROTTLED,
	LCR_ERR_SERVICE_UNAVAILABLE,
	LCR_ERR_UNSUPPORTED_IMAGE_TYPE,
	LCR_ERR_IMAGE_ARCHIVED,
	LCR_ERR_LIFECYCLE_PREVIEW_NOT_FOUND,
	LCR_ERR_STORAGE_CLASS_UPDATE_NOT_SUPPORTED,
	LCR_STATUS_COUNT
};

/* Rendering of one status on each wire protocol. */
struct lcr_status_info {
	const char *name;          /* stable identifier for logs and tests */
	const char *ecr_exception; /* __type in ECR JSON error bodies */
	int ecr_http_status;
	const char *oci_code;      /* code in OCI {"errors":[...]} bodies */
	int oci_http_status;
};

const struct lcr_status_info *lcr_status_info(int status);

/* Format detail into out (size outlen) and return status; a convenience for
 * the "set message, return code" pattern at every error site. */
int lcr_fail(int status, char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
