/*
 * http.c - libmicrohttpd glue: the request context, routing, body intake,
 * error rendering and the access log.
 *
 * libmicrohttpd calls on_request several times per request: once with the
 * headers, then once per chunk of body, then once with no data.  The first
 * call routes, authenticates and runs the route's begin hook, so a bad
 * request gets its response before its body is read (and "Expect: 100-continue"
 * gets a final status instead of 100).  Bodies of streaming routes go
 * straight into an upload writer; others are buffered up to the route's cap.
 * The last call runs the handler.  on_completed writes the access line and
 * frees the context however the request ended.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"

#define ECR_TARGET_PREFIX "AmazonEC2ContainerRegistry_V20150921."

/* Memory libmicrohttpd gives each connection for its headers and the body
 * data it hands over.  Measured here: with 1 MiB, each kept-alive connection
 * stayed about 1 MiB resident, and 512 KiB made 256 MiB uploads only about
 * 5% faster than this size. */
#define CONNECTION_MEMORY (128 * 1024)

const char *request_header(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *request_query(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *request_host(struct request *req)
{
	const char *host = request_header(req, MHD_HTTP_HEADER_HOST);

	return host != NULL && host[0] != '\0' ? host : req->srv->bound_address;
}

char *json_render(json_t *value)
{
	return json_dumps(value, JSON_COMPACT | JSON_REAL_PRECISION(15));
}

struct MHD_Response *response_empty(void)
{
	return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
}

struct MHD_Response *response_text(const char *text)
{
	return MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
}

void request_respond(struct request *req, unsigned http_status, struct MHD_Response *resp)
{
	if (req->response != NULL)
		MHD_destroy_response(req->response);
	req->response = resp;
	req->http_status = http_status;
}

void request_respond_json(struct request *req, unsigned http_status, json_t *body_new)
{
	char *text = json_render(body_new);
	struct MHD_Response *resp;
	const char *type = req->route != NULL && req->route->protocol == PROTOCOL_ECR
				   ? "application/x-amz-json-1.1"
				   : "application/json";

	json_decref(body_new);
	if (text == NULL) {
		req->status = LCR_ERR_INTERNAL;
		return;
	}
	req->bytes_out = strlen(text);
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	request_respond(req, http_status, resp);
}

/* Seconds on the monotonic clock: durations stay right when the server
 * clock is moved. */
static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum protocol protocol_of_url(const char *url)
{
	if (strncmp(url, "/v2", 3) == 0 && (url[3] == '\0' || url[3] == '/'))
		return PROTOCOL_V2;
	if (strncmp(url, "/_localecr/", 11) == 0)
		return PROTOCOL_ADMIN;
	return PROTOCOL_ECR;
}

/* Render req->status as the protocol's error body. */
static void render_error(struct request *req, enum protocol protocol)
{
	const struct lcr_status_info *info = lcr_status_info(req->status);
	const char *message = req->err;
	struct MHD_Response *resp;
	char realm[256];

	if (req->status == LCR_ERR_INTERNAL) {
		log_error("request %s failed: %s", req->id, req->err[0] ? req->err : "internal error");
		message = "An internal error occurred. Try again later.";
	}
	if (protocol == PROTOCOL_ECR || protocol == PROTOCOL_STS) {
		request_respond_json(req, (unsigned)info->ecr_http_status,
				     json_pack("{s:s, s:s}", "__type", info->ecr_exception, "message", message));
		return;
	}
	if (protocol == PROTOCOL_ADMIN) {
		request_respond_json(req, (unsigned)info->oci_http_status,
				     json_pack("{s:s, s:s}", "error", info->name, "message", message));
		return;
	}
	if (info->oci_http_status == MHD_HTTP_UNAUTHORIZED) {
		/* ECR responds to an unauthenticated /v2/ call with a Basic
		 * challenge and a plain-text body. */
		resp = response_text("Not Authorized\n");
		snprintf(realm, sizeof(realm),
			 "Basic realm=\"https://%s.dkr.ecr.%s.amazonaws.com/\",service=\"ecr.amazonaws.com\"",
			 req->srv->config.account_id, req->srv->config.region);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, realm);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
		req->bytes_out = 15;
		request_respond(req, MHD_HTTP_UNAUTHORIZED, resp);
		return;
	}
	request_respond_json(req, (unsigned)info->oci_http_status,
			     json_pack("{s:[{s:s, s:s, s:{}}]}", "errors", "code", info->oci_code, "message", message,
				       "detail"));
}

static void fail_request(struct request *req, int status, const char *fmt, const char *arg)
{
	req->status = status;
	snprintf(req->err, sizeof(req->err), fmt, arg);
}

static void route_request(struct request *req, const char *url, const char *method)
{
	enum protocol protocol = protocol_of_url(url);
	enum v2_path path;

	if (protocol == PROTOCOL_V2) {
		req->route = route_find_v2(method, url, &req->name, &req->reference, &path);
		if (req->route == NULL && path != V2_PATH_NONE)
			fail_request(req, LCR_ERR_METHOD_NOT_ALLOWED, "method %s is not supported on this endpoint",
				     method);
		else if (req->route == NULL)
			fail_request(req, LCR_ERR_NOT_FOUND, "no such endpoint: %s", url);
		if (req->name != NULL)
			snprintf(req->log_repository, sizeof(req->log_repository), "%s", req->name);
		return;
	}
	if (protocol == PROTOCOL_ADMIN) {
		req->route = route_find_admin(method, url);
		if (req->route == NULL)
			fail_request(req, LCR_ERR_NOT_FOUND, "no such admin endpoint: %s", url);
		return;
	}
	{
		const char *target = request_header(req, "X-Amz-Target");

		const char *content_type = request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);

		if (strcmp(url, "/") != 0 || strcmp(method, "POST") != 0) {
			fail_request(req, LCR_ERR_NOT_FOUND, "no such endpoint: %s", url);
		} else if (target == NULL && content_type != NULL &&
			   strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0) {
			req->route = route_find_sts();
		} else if (target == NULL || strncmp(target, ECR_TARGET_PREFIX, strlen(ECR_TARGET_PREFIX)) != 0) {
			fail_request(req, LCR_ERR_UNKNOWN_OPERATION, "unknown operation %s", target ? target : "(none)");
		} else {
			req->route = route_find_ecr(target + strlen(ECR_TARGET_PREFIX));
			if (req->route == NULL)
				fail_request(req, LCR_ERR_UNKNOWN_OPERATION, "unknown operation %s", target);
		}
	}
}

/* Authenticate what needs only the headers: /v2/ registry tokens.  Signed
 * JSON and STS calls are authenticated once their body is in, since the
 * signature covers it. */
static int authenticate_early(struct request *req)
{
	int status;

	if ((req->route->flags & ROUTE_NO_AUTH) || req->route->protocol != PROTOCOL_V2)
		return LCR_OK;
	status = auth_registry_token(req);
	if (status == LCR_OK && (req->route->flags & ROUTE_GLOBAL))
		status = request_authorize(req, NULL, NULL);
	return status;
}

static struct request *request_new(struct server *srv, struct MHD_Connection *conn, const char *url,
				   const char *method)
{
	struct request *req = calloc(1, sizeof(*req));
	const union MHD_ConnectionInfo *ci;

	if (req == NULL)
		return NULL;
	req->srv = srv;
	req->conn = conn;
	req->started = clock_now();
	req->started_mono = monotonic_seconds();
	req->url = strdup(url);
	uuid_generate_v4(req->id);
	snprintf(req->method, sizeof(req->method), "%s", method);
	snprintf(req->client, sizeof(req->client), "-");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->client, sizeof(req->client));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->client,
				  sizeof(req->client));
	}
	buf_init(&req->body, 0);
	return req;
}

static void request_free(struct request *req)
{
	/* A monolithic upload (POST with ?digest=) that did not finish leaves
	 * a session the client never heard of: remove it with its bytes.  A
	 * chunk that failed keeps its session, which the client can query and
	 * resume or cancel. */
	if (req->writer != NULL && req->route != NULL && req->route->v2_path == V2_PATH_UPLOAD_START)
		blob_writer_abort(req->writer);
	else if (req->writer != NULL)
		blob_writer_close(req->writer);
	if (req->response != NULL)
		MHD_destroy_response(req->response);
	json_decref(req->input);
	principal_release(&req->principal);
	buf_release(&req->body);
	free(req->name);
	free(req->reference);
	free(req->url);
	free(req);
}

static void consume_body(struct request *req, const char *data, size_t len)
{
	req->bytes_in += len;
	if (req->route == NULL || req->status != LCR_OK)
		return;
	if (req->route->flags & ROUTE_STREAM_BODY) {
		if (req->writer != NULL && req->stream_status == LCR_OK)
			req->stream_status = blob_writer_write(req->writer, data, len);
		return;
	}
	if (!req->body_overflow && !buf_append(&req->body, data, len))
		req->body_overflow = true;
}

static int parse_ecr_input(struct request *req)
{
	json_error_t jerr;

	if (req->body.len == 0) {
		req->input = json_object();
		return LCR_OK;
	}
	req->input = json_loadb(req->body.data, req->body.len, 0, &jerr);
	if (req->input == NULL || !json_is_object(req->input))
		return lcr_fail(LCR_ERR_SERIALIZATION, req->err, sizeof(req->err),
				"The request body is not a valid JSON object: %s", req->input ? "not an object" : jerr.text);
	{
		const char *name = json_string_value(json_object_get(req->input, "repositoryName"));

		if (name != NULL)
			snprintf(req->log_repository, sizeof(req->log_repository), "%s", name);
	}
	return LCR_OK;
}

/* Run the handler.  In IAM mode every route with an IAM action must have
 * checked it.  A handler that returns success without that check is a bug,
 * so the request fails with an internal error instead. */
static int run_checked(struct request *req)
{
	int status = req->route->handle(req);

	if (status == LCR_OK && req->srv->config.iam_mode && req->route->action != NULL && !req->authorized) {
		log_error("request %s: route %s finished without checking %s", req->id, req->route->name,
			  req->route->action);
		if (req->response != NULL) {
			MHD_destroy_response(req->response);
			req->response = NULL;
		}
		return lcr_fail(LCR_ERR_INTERNAL, req->err, sizeof(req->err), "authorization was not checked");
	}
	return status;
}

static int run_handler(struct request *req)
{
	if (req->body_overflow)
		return lcr_fail(LCR_ERR_BODY_TOO_LARGE, req->err, sizeof(req->err),
				"request body is larger than the limit of %zu bytes for this operation",
				req->route->body_max);
	if (req->stream_status != LCR_OK)
		return lcr_fail(req->stream_status, req->err, sizeof(req->err), "writing the upload failed");
	if (req->route->protocol == PROTOCOL_ECR) {
		int status = auth_signed_request(req, "ecr");

		if (status == LCR_OK)
			status = parse_ecr_input(req);
		if (status == LCR_OK && (req->route->flags & ROUTE_GLOBAL))
			status = request_authorize(req, NULL, NULL);
		if (status == LCR_OK)
			status = faults_apply(req);
		if (status != LCR_OK)
			return status;
	}
	return run_checked(req);
}

static enum MHD_Result queue(struct request *req)
{
	enum MHD_Result result;

	if (req->response == NULL) {
		req->status = LCR_ERR_INTERNAL;
		render_error(req, req->route ? req->route->protocol : protocol_of_url(req->url));
	}
	if (req->route == NULL || req->route->protocol == PROTOCOL_V2) {
		if (protocol_of_url(req->url) == PROTOCOL_V2)
			MHD_add_response_header(req->response, "Docker-Distribution-Api-Version", "registry/2.0");
	}
	if (protocol_of_url(req->url) == PROTOCOL_ECR)
		MHD_add_response_header(req->response, "x-amzn-RequestId", req->id);
	/* Submitted before the client can read the response, so a query of
	 * the trail right after it finds the record. */
	audit_record_request(req);
	result = MHD_queue_response(req->conn, req->http_status, req->response);
	MHD_destroy_response(req->response);
	req->response = NULL;
	return result;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct server *srv = cls;
	struct request *req = *con_cls;

	(void)version;
	if (req == NULL) {
		req = request_new(srv, conn, url, method);
		if (req == NULL)
			return MHD_NO;
		*con_cls = req;
		route_request(req, url, method);
		if (req->status == LCR_OK) {
			buf_init(&req->body, req->route->body_max);
			req->status = authenticate_early(req);
		}
		/* Faults on /v2/ apply before the body, as a failing registry
		 * front end would respond. */
		if (req->status == LCR_OK && req->route->protocol == PROTOCOL_V2)
			req->status = faults_apply(req);
		if (req->status == LCR_OK && req->route->begin != NULL)
			req->status = req->route->begin(req);
		if (req->status != LCR_OK) {
			if (req->response == NULL)
				render_error(req, req->route ? req->route->protocol : protocol_of_url(url));
			return queue(req);
		}
		return MHD_YES;
	}
	if (req->http_status != 0) {
		/* The response was queued before the body, so discard the rest. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		consume_body(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	req->status = run_handler(req);
	if (req->status != LCR_OK && req->response == NULL)
		render_error(req, req->route->protocol);
	return queue(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct request *req = *con_cls;
	char path[512], repo[300], principal[300];
	const char *operation;

	(void)cls;
	(void)conn;
	if (req == NULL)
		return;
	/* A request that ended without a response, such as an upload the
	 * client broke off, is recorded here. */
	audit_record_request(req);
	operation = req->route != NULL && req->route->protocol == PROTOCOL_ECR ? req->route->name : NULL;
	/* A download URL's path is its credential: log the route, not the token. */
	if (strncmp(req->url, "/_localecr/layers/", 18) == 0)
		operation = "/_localecr/layers/<token>";
	log_escape(path, sizeof(path), operation != NULL ? operation : req->url);
	log_escape(repo, sizeof(repo), req->log_repository[0] ? req->log_repository : "-");
	log_escape(principal, sizeof(principal), req->principal_arn[0] ? req->principal_arn : "-");
	log_access("id=%s client=%s method=%s path=\"%s\" repository=\"%s\" principal=\"%s\" status=%u error=%s "
		   "in=%llu out=%llu ms=%.1f%s",
		   req->id, req->client, req->method, path, repo, principal, req->http_status,
		   req->status == LCR_OK ? "-" : lcr_status_info(req->status)->name,
		   (unsigned long long)req->bytes_in, (unsigned long long)req->bytes_out,
		   (monotonic_seconds() - req->started_mono) * 1000.0,
		   code == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	request_free(req);
	*con_cls = NULL;
}

/* Parse "host:port", "[v6]:port" or ":port" and open a listening socket. */
static int open_listener(const char *listen_spec, char *bound, size_t boundlen, char *err, size_t errlen)
{
	char host[128] = "", port[16] = "";
	const char *colon;
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int fd = -1, one = 1, rc;
	char addr[INET6_ADDRSTRLEN];

	if (listen_spec[0] == '[') {
		const char *close_bracket = strchr(listen_spec, ']');

		if (close_bracket == NULL || close_bracket[1] != ':')
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close_bracket - listen_spec - 1), listen_spec + 1);
		snprintf(port, sizeof(port), "%s", close_bracket + 2);
	} else {
		colon = strrchr(listen_spec, ':');
		if (colon == NULL)
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - listen_spec), listen_spec);
		snprintf(port, sizeof(port), "%s", colon + 1);
	}
	if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 || atoi(port) > 65535)
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (rc != 0) {
		lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "cannot resolve listen address %s: %s", listen_spec,
			 gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 512) < 0) {
		lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot listen on %s: %s", listen_spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	getsockname(fd, (struct sockaddr *)&ss, &sslen);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
		snprintf(bound, boundlen, "[%s]:%u", addr, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
		snprintf(bound, boundlen, "%s:%u", addr, ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	return fd;
bad:
	lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
		 "invalid listen address '%s': expected HOST:PORT, [IPV6]:PORT or :PORT with a port from 0 to 65535",
		 listen_spec);
	return -1;
}

int server_start(struct server *srv, char *err, size_t errlen)
{
	srv->listen_fd = open_listener(srv->config.listen, srv->bound_address, sizeof(srv->bound_address), err, errlen);
	if (srv->listen_fd < 0)
		return LCR_ERR_INVALID_PARAMETER;
	if (srv->config.tls) {
		char *key = NULL, *cert = NULL;
		int status = tls_prepare(srv, &key, &cert, err, errlen);

		if (status != LCR_OK) {
			close(srv->listen_fd);
			return status;
		}
		srv->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
						       MHD_USE_POLL | MHD_USE_TLS,
					       0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
					       MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
					       (unsigned int)600, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
					       MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
		/* libmicrohttpd copies nothing: the PEM strings must outlive the
		 * daemon, so they stay allocated for the life of the process. */
	} else {
		srv->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
						       MHD_USE_POLL,
					       0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
					       MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
					       (unsigned int)600, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
					       MHD_OPTION_END);
	}
	if (srv->daemon == NULL) {
		close(srv->listen_fd);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot start the HTTP server on %s", srv->bound_address);
	}
	return LCR_OK;
}

void server_stop(struct server *srv)
{
	if (srv->daemon != NULL)
		MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
}
