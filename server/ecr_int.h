/*
 * ecr_int.h - helpers shared by the ECR JSON API handlers: input checks
 * with ECR's messages, pagination tokens and response shapes.
 */
#ifndef LCR_ECR_INT_H
#define LCR_ECR_INT_H

#include "server.h"

/* ECR's validation message: Invalid parameter at 'field' failed to satisfy
 * constraint: 'constraint'. */
int ecr_invalid(struct request *req, const char *field, const char *constraint_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read an optional string member (required: missing is an error) with a
 * length range; *out is NULL when absent. */
int ecr_input_string(struct request *req, json_t *obj, const char *field, bool required, size_t minlen,
		     size_t maxlen, const char **out);
/* Read an optional integer member in [min, max].  *out_present is true when
 * the request contains it. */
int ecr_input_int(struct request *req, json_t *obj, const char *field, long long min, long long max,
		  bool *out_present, long long *out);
int ecr_input_bool(struct request *req, json_t *obj, const char *field, bool *out);
/* Read an optional array member with an entry count range; *out is NULL
 * when absent. */
int ecr_input_array(struct request *req, json_t *obj, const char *field, size_t min, size_t max,
		    json_t **out);
int ecr_input_object(struct request *req, json_t *obj, const char *field, json_t **out);

/* Check registryId and return the registry the call addresses. */
int ecr_registry_id(struct request *req, const char **out);
/* Read repositoryName and registryId and load the repository into
 * req->repo. */
int ecr_repository(struct request *req);

/* Authorize the route's action on a repository that may not exist (yet). */
int ecr_authorize_named(struct request *req, const char *registry_id, const char *name);

/* Read imageTagMutability (required or defaulting to MUTABLE) and its
 * exclusion filters, checked as ECR checks them. */
int ecr_read_mutability(struct request *req, bool required, char *out_mode, size_t modelen, char *out_filters,
			size_t filterlen);

json_t *ecr_time(double t);
json_t *ecr_repository_json(struct request *req, const struct repository *repo);

/* Pagination over an in-memory list of total entries: reads nextToken and
 * maxResults (1..max_results_limit, default default_page) and returns the
 * first index and count of this page. */
int ecr_page(struct request *req, size_t total, long long default_page, long long max_results_limit,
	     size_t *out_start, size_t *out_count);
/* Add "nextToken" to body when entries remain after this page. */
void ecr_page_token(json_t *body, size_t next, size_t total);

#endif
