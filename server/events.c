/*
 * events.c - EventBridge-format events: emission, rules and targets.
 *
 * Every event gets ECR's envelope {version, id, detail-type, source
 * "aws.ecr", account, time, region, resources, detail}, is appended to the
 * --events-file (one JSON line, no rule needed), kept in a ring of recent
 * events for /_localecr/events and `localecr events tail`, and matched
 * against the rules of --event-rules.  A matching rule's targets get it: a
 * JSON-lines file, or an HTTP webhook POST delivered by a worker thread
 * with retries and exponential backoff (1, 2, 4, 8 s), every attempt
 * recorded.  Webhooks may only point at loopback addresses unless
 * --allow-remote-webhooks is given.
 */
#include "server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"
#include "../registry/event_pattern.h"

#define RING_MAX 1000
#define DELIVERY_ATTEMPTS_MAX 5
#define DELIVERY_LOG_MAX 1000

struct event_target {
	bool webhook;
	char *where; /* URL or path */
};

struct event_rule {
	char *name;
	struct event_pattern *pattern;
	struct event_target *targets;
	size_t ntargets;
};

struct delivery {
	char *url;
	char *body;
	char *rule;
	char event_id[UUID_BUF];
	int attempts;
	double next_at;
	struct delivery *next;
};

struct event_bus {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running;
	bool stopping;
	FILE *events_file;
	struct event_rule *rules;
	size_t nrules;
	json_t *ring;            /* [{"seq", "event"}] */
	long long next_seq;
	struct delivery *queue;
	json_t *deliveries;      /* delivery log */
	bool allow_remote;
};

static struct event_bus bus = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

/* True for http(s) URLs whose host is a loopback address or localhost. */
static bool url_is_loopback(const char *url)
{
	char host[256] = "";
	const char *p = strstr(url, "://");
	struct in_addr a4;
	struct in6_addr a6;

	if (p == NULL)
		return false;
	p += 3;
	if (*p == '[') {
		sscanf(p + 1, "%255[^]]", host);
		return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	sscanf(p, "%255[^:/]", host);
	if (strcmp(host, "localhost") == 0)
		return true;
	return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

static void append_line(FILE *f, const char *line)
{
	if (f == NULL)
		return;
	fprintf(f, "%s\n", line);
	fflush(f);
}

static int load_rules(const char *path, bool allow_remote, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *rules, *r;
	size_t i;

	if (root == NULL)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	rules = json_object_get(root, "rules");
	if (!json_is_array(rules)) {
		json_decref(root);
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "%s: \"rules\" must be a list", path);
	}
	bus.rules = calloc(json_array_size(rules) + 1, sizeof(*bus.rules));
	json_array_foreach(rules, i, r) {
		struct event_rule *rule = &bus.rules[i];
		const char *name = json_string_value(json_object_get(r, "name"));
		json_t *pattern = json_object_get(r, "event_pattern"), *targets = json_object_get(r, "targets"), *t;
		char *text = pattern ? json_dumps(pattern, JSON_COMPACT) : NULL;
		char detail[512];
		size_t j;

		if (name == NULL || text == NULL || !json_is_array(targets)) {
			free(text);
			json_decref(root);
			return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
					"%s: rules[%zu] needs a name, an event_pattern object and a targets list", path, i);
		}
		if (event_pattern_parse(text, strlen(text), &rule->pattern, detail, sizeof(detail)) != LCR_OK) {
			/* Format before json_decref: name points into the tree. */
			int status = lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "%s: rule %s: %s", path, name, detail);

			free(text);
			json_decref(root);
			return status;
		}
		free(text);
		rule->name = strdup(name);
		rule->targets = calloc(json_array_size(targets) + 1, sizeof(*rule->targets));
		json_array_foreach(targets, j, t) {
			const char *type = json_string_value(json_object_get(t, "type"));
			const char *url = json_string_value(json_object_get(t, "url"));
			const char *file = json_string_value(json_object_get(t, "path"));

			if (type != NULL && strcmp(type, "webhook") == 0 && url != NULL) {
				if (!allow_remote && !url_is_loopback(url)) {
					int status = lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
							      "%s: rule %s: webhook %s is not a loopback address; start with "
							      "--allow-remote-webhooks to allow it",
							      path, name, url);

					json_decref(root);
					return status;
				}
				rule->targets[j].webhook = true;
				rule->targets[j].where = strdup(url);
			} else if (type != NULL && strcmp(type, "file") == 0 && file != NULL) {
				rule->targets[j].where = strdup(file);
			} else {
				int status = lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen,
						      "%s: rule %s: targets[%zu] must be {\"type\":\"webhook\",\"url\"} or "
						      "{\"type\":\"file\",\"path\"}",
						      path, name, j);

				json_decref(root);
				return status;
			}
			rule->ntargets++;
		}
		bus.nrules++;
	}
	json_decref(root);
	return LCR_OK;
}

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void)ptr;
	(void)userdata;
	return size * nmemb;
}

/* POST body to url; returns the HTTP status, or 0 on a transport error. */
static long post_once(const char *url, const char *body, char *err, size_t errlen)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	long code = 0;
	CURLcode rc;

	if (curl == NULL)
		return 0;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	else
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return code;
}

static void record_delivery(const struct delivery *d, long code, const char *error, bool final)
{
	char now[40];

	clock_format_rfc3339(clock_now(), now, sizeof(now));
	if (json_array_size(bus.deliveries) >= DELIVERY_LOG_MAX)
		json_array_remove(bus.deliveries, 0);
	json_array_append_new(bus.deliveries,
			      json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:b}", "time", now, "rule", d->rule, "url", d->url,
					"attempt", d->attempts, "status", (json_int_t)code, "error", error, "eventId",
					d->event_id, "final", final));
}

static void free_delivery(struct delivery *d)
{
	free(d->url);
	free(d->body);
	free(d->rule);
	free(d);
}

static void *delivery_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&bus.lock);
	while (!bus.stopping) {
		struct delivery *d = NULL, **p;
		double now = monotonic_now();

		for (p = &bus.queue; *p != NULL; p = &(*p)->next) {
			if ((*p)->next_at <= now) {
				d = *p;
				*p = d->next;
				break;
			}
		}
		if (d == NULL) {
			struct timespec deadline;

			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_nsec += 200000000L;
			if (deadline.tv_nsec >= 1000000000L) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&bus.wake, &bus.lock, &deadline);
			continue;
		}
		pthread_mutex_unlock(&bus.lock);
		{
			char error[256] = "";
			long code = post_once(d->url, d->body, error, sizeof(error));
			bool ok = code >= 200 && code < 300;

			d->attempts++;
			pthread_mutex_lock(&bus.lock);
			if (ok || d->attempts >= DELIVERY_ATTEMPTS_MAX) {
				record_delivery(d, code, ok ? "" : (error[0] ? error : "non-2xx answer"), true);
				if (ok)
					log_info("event %s delivered to %s on attempt %d", d->event_id, d->url, d->attempts);
				else
					log_warn("event %s not delivered to %s after %d attempts", d->event_id, d->url,
						 d->attempts);
				free_delivery(d);
			} else {
				record_delivery(d, code, error[0] ? error : "non-2xx answer", false);
				/* Backoff: 1, 2, 4, 8 seconds between attempts. */
				d->next_at = monotonic_now() + (double)(1 << (d->attempts - 1));
				d->next = bus.queue;
				bus.queue = d;
			}
		}
	}
	pthread_mutex_unlock(&bus.lock);
	return NULL;
}

int events_start(struct server *srv, char *err, size_t errlen)
{
	int status;

	bus.ring = json_array();
	bus.deliveries = json_array();
	bus.next_seq = 1;
	bus.allow_remote = srv->config.allow_remote_webhooks;
	if (srv->config.events_file[0]) {
		bus.events_file = fopen(srv->config.events_file, "a");
		if (bus.events_file == NULL)
			return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "cannot open --events-file %s",
					srv->config.events_file);
	}
	if (srv->config.event_rules[0]) {
		status = load_rules(srv->config.event_rules, srv->config.allow_remote_webhooks, err, errlen);
		if (status != LCR_OK)
			return status;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (pthread_create(&bus.thread, NULL, delivery_main, NULL) != 0)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot start the event delivery thread");
	bus.running = true;
	return LCR_OK;
}

void events_stop(void)
{
	if (bus.running) {
		pthread_mutex_lock(&bus.lock);
		bus.stopping = true;
		pthread_cond_signal(&bus.wake);
		pthread_mutex_unlock(&bus.lock);
		pthread_join(bus.thread, NULL);
		bus.running = false;
	}
	if (bus.events_file != NULL)
		fclose(bus.events_file);
	bus.events_file = NULL;
}

void events_emit(struct server *srv, const char *account, const char *region, const char *detail_type,
		 json_t *resources_new, json_t *detail_new)
{
	char id[UUID_BUF], now[40];
	json_t *event;
	char *line;

	uuid_generate_v4(id);
	clock_format_rfc3339(clock_now(), now, sizeof(now));
	event = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "version", "0", "id", id, "detail-type",
			  detail_type, "source", "aws.ecr", "account", account, "time", now, "region",
			  region ? region : srv->config.region, "resources", resources_new ? resources_new : json_array(),
			  "detail", detail_new);
	if (event == NULL)
		return;
	line = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);
	pthread_mutex_lock(&bus.lock);
	append_line(bus.events_file, line);
	if (bus.ring != NULL) {
		if (json_array_size(bus.ring) >= RING_MAX)
			json_array_remove(bus.ring, 0);
		json_array_append_new(bus.ring, json_pack("{s:I, s:O}", "seq", (json_int_t)bus.next_seq++, "event", event));
	}
	for (size_t i = 0; i < bus.nrules; i++) {
		struct event_rule *rule = &bus.rules[i];

		if (!event_pattern_match(rule->pattern, event))
			continue;
		for (size_t j = 0; j < rule->ntargets; j++) {
			if (!rule->targets[j].webhook) {
				FILE *f = fopen(rule->targets[j].where, "a");

				append_line(f, line);
				if (f != NULL)
					fclose(f);
				continue;
			}
			{
				struct delivery *d = calloc(1, sizeof(*d));

				if (d == NULL)
					continue;
				d->url = strdup(rule->targets[j].where);
				d->body = strdup(line);
				d->rule = strdup(rule->name);
				snprintf(d->event_id, sizeof(d->event_id), "%s", id);
				d->next = bus.queue;
				bus.queue = d;
				pthread_cond_signal(&bus.wake);
			}
		}
	}
	pthread_mutex_unlock(&bus.lock);
	free(line);
	json_decref(event);
}

/* GET /_localecr/events?after=SEQ&limit=N: recent events after a sequence
 * number, oldest first, for `localecr events tail`. */
int admin_events_list(struct request *req)
{
	const char *after_text = request_query(req, "after"), *limit_text = request_query(req, "limit");
	long long after = after_text ? strtoll(after_text, NULL, 10) : 0;
	long limit = limit_text ? strtol(limit_text, NULL, 10) : 100;
	json_t *out = json_array(), *item;
	long long last = after;
	size_t i;

	if (limit < 1 || limit > RING_MAX)
		limit = 100;
	pthread_mutex_lock(&bus.lock);
	json_array_foreach(bus.ring, i, item) {
		long long seq = json_integer_value(json_object_get(item, "seq"));

		if (seq <= after || (long)json_array_size(out) >= limit)
			continue;
		json_array_append(out, item);
		last = seq;
	}
	pthread_mutex_unlock(&bus.lock);
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:o, s:I}", "events", out, "next", (json_int_t)last));
	return LCR_OK;
}

/* GET /_localecr/events/deliveries: the webhook delivery log. */
int admin_event_deliveries(struct request *req)
{
	json_t *copy;

	pthread_mutex_lock(&bus.lock);
	copy = json_deep_copy(bus.deliveries ? bus.deliveries : json_array());
	pthread_mutex_unlock(&bus.lock);
	request_respond_json(req, MHD_HTTP_OK, json_pack("{s:o}", "deliveries", copy));
	return LCR_OK;
}

/* Convenience shapes for ECR's detail types. */
void events_image_action(struct server *srv, const struct repository *repo, const char *action, bool success,
			 const char *digest, const char *tag)
{
	json_t *detail = json_pack("{s:s, s:s, s:s}", "result", success ? "SUCCESS" : "FAILURE", "repository-name",
				   repo->name, "action-type", action);

	if (digest != NULL && digest[0])
		json_object_set_new(detail, "image-digest", json_string(digest));
	if (tag != NULL && tag[0])
		json_object_set_new(detail, "image-tag", json_string(tag));
	events_emit(srv, repo->registry_id, repo->region, "ECR Image Action", json_array(), detail);
}

void events_push(struct server *srv, const struct repository *repo, bool success, const struct image_put_result *result,
		 const char *tag)
{
	events_image_action(srv, repo, "PUSH", success, result->digest, tag);
	if (success)
		scans_on_push(srv, repo, result->digest);
	if (success && result->subject_digest[0]) {
		/* An artifact naming a subject is also a referrer push. */
		events_emit(srv, repo->registry_id, repo->region, "ECR Referrer Action", json_array(),
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "action-type", "PUSH", "result", "SUCCESS",
				      "repository-name", repo->name, "image-digest", result->digest, "subject-digest",
				      result->subject_digest, "manifest-media-type", result->media_type, "artifact-media-type",
				      result->artifact_media_type));
	}
}

static size_t collect_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;

	return buf_append(b, ptr, size * nmemb) ? size * nmemb : 0;
}

/* `localecr events tail [--server URL] [--count N]`: print events as the
 * server emits them, one JSON line each, polling /_localecr/events. */
int events_tail_command(int argc, char **argv)
{
	const char *server = "http://127.0.0.1:5000";
	long long after = -1, printed = 0, count = -1;
	CURL *curl;

	if (argc < 1 || strcmp(argv[0], "tail") != 0) {
		fprintf(stderr, "usage: localecr events tail [--server URL] [--count N]\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			server = argv[++i];
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			count = strtoll(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: localecr events tail [--server URL] [--count N]\n");
			return 2;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	while (curl != NULL && (count < 0 || printed < count)) {
		char url[2048];
		struct buf body;
		json_t *root, *events, *item;
		json_error_t jerr;
		size_t i;

		/* The first poll only reads the current stream position, so old
		 * events are not replayed. */
		snprintf(url, sizeof(url), "%s/_localecr/events?after=%lld&limit=1000", server, after < 0 ? 0 : after);
		buf_init(&body, 64 * 1024 * 1024);
		curl_easy_setopt(curl, CURLOPT_URL, url);
		curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
		if (curl_easy_perform(curl) != CURLE_OK) {
			fprintf(stderr, "localecr: cannot reach %s\n", server);
			buf_release(&body);
			curl_easy_cleanup(curl);
			return 1;
		}
		root = json_loadb(body.data ? body.data : "", body.len, 0, &jerr);
		buf_release(&body);
		events = json_object_get(root, "events");
		if (after >= 0) {
			json_array_foreach(events, i, item) {
				char *line = json_dumps(json_object_get(item, "event"), JSON_COMPACT | JSON_PRESERVE_ORDER);

				printf("%s\n", line ? line : "{}");
				free(line);
				printed++;
				if (count >= 0 && printed >= count)
					break;
			}
			fflush(stdout);
		}
		after = json_integer_value(json_object_get(root, "next"));
		json_decref(root);
		if (count < 0 || printed < count) {
			struct timespec pause = {0, 300000000L};

			nanosleep(&pause, NULL);
		}
	}
	curl_easy_cleanup(curl);
	return 0;
}

void events_reset(void)
{
	pthread_mutex_lock(&bus.lock);
	if (bus.ring != NULL)
		json_array_clear(bus.ring);
	if (bus.deliveries != NULL)
		json_array_clear(bus.deliveries);
	pthread_mutex_unlock(&bus.lock);
}
