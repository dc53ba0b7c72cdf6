/*
 * osv.c - load a vulnerability database in OSV format from a folder.
 *
 * Every file named *.json under the folder (subfolders included, names
 * starting with "." skipped) contains one OSV record or a JSON array of
 * them.
 * The fields read are those of the OSV schema 1.x: id, aliases, upstream,
 * summary, details, modified, published, withdrawn, severity[] {type,
 * score}, database_specific.severity, affected[] {package {ecosystem, name},
 * ranges[] {type, events[]}, versions[], severity[],
 * ecosystem_specific.severity, database_specific.severity} and
 * references[] {url}.  Withdrawn records are skipped.  When two records
 * share an id, the one modified last is kept.
 *
 * A file over VULN_DB_MAX_FILE bytes, a file that is not valid JSON and a
 * record without an id are skipped with a warning naming the file; the load
 * fails only when the folder cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "../common/digest.h"
#include "../common/log.h"
#include "../common/status.h"
#include "scanner_int.h"

/* Cap on one database file: a single record is a few kilobytes, and an
 * array of a whole ecosystem's records stays well under it. */
#define VULN_DB_MAX_FILE (64L * 1024 * 1024)
/* Subfolder depth searched below the database folder. */
#define VULN_DB_MAX_DEPTH 16

/* ---- small helpers ---- */

static char *json_strdup(json_t *value)
{
	const char *s = json_string_value(value);

	return s != NULL ? strdup(s) : NULL;
}

static void strings_free(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* Copy the strings of a JSON array (non-strings skipped); false when out
 * of memory. */
static bool strings_from_json(json_t *array, char ***out, size_t *out_count)
{
	size_t n = json_array_size(array), count = 0;
	char **items;

	*out = NULL;
	*out_count = 0;
	if (n == 0)
		return true;
	items = calloc(n, sizeof(*items));
	if (items == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(array, i);

		if (!json_is_string(item))
			continue;
		items[count] = strdup(json_string_value(item));
		if (items[count] == NULL) {
			strings_free(items, count);
			return false;
		}
		count++;
	}
	*out = items;
	*out_count = count;
	return true;
}

/* RFC 3339 time ("2024-01-02T03:04:05.678Z", "+01:00" offsets, or a bare
 * date) in epoch seconds; 0 when it does not parse. */
static double time_parse(const char *s)
{
	struct tm tm = {0};
	int year, month, day, hour = 0, minute = 0, second = 0, used = 0;
	double fraction = 0;
	long offset = 0;
	const char *p;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%n", &year, &month, &day, &used) != 3)
		return 0;
	p = s + used;
	if ((*p == 'T' || *p == 't' || *p == ' ') && sscanf(p + 1, "%2d:%2d:%2d%n", &hour, &minute, &second, &used) == 3) {
		p += 1 + used;
		if (*p == '.') {
			double scale = 0.1;

			for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
				fraction += (*p - '0') * scale;
		}
		if (*p == '+' || *p == '-') {
			int oh = 0, om = 0;

			if (sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
				offset = (*p == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
		}
	}
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	return (double)(timegm(&tm) - offset) + fraction;
}

/* ---- severity ---- */

const char *scan_severity_name(enum scan_severity s)
{
	static const char *const names[] = {
		[SCAN_SEVERITY_INFORMATIONAL] = "INFORMATIONAL", [SCAN_SEVERITY_LOW] = "LOW",
		[SCAN_SEVERITY_MEDIUM] = "MEDIUM",               [SCAN_SEVERITY_HIGH] = "HIGH",
		[SCAN_SEVERITY_CRITICAL] = "CRITICAL",           [SCAN_SEVERITY_UNDEFINED] = "UNDEFINED",
	};

	if ((int)s < 0 || (size_t)s >= sizeof(names) / sizeof(names[0]))
		return "UNDEFINED";
	return names[s];
}

enum scan_severity severity_from_word(const char *word)
{
	static const struct {
		const char *word;
		enum scan_severity severity;
	} words[] = {
		{"critical", SCAN_SEVERITY_CRITICAL}, {"high", SCAN_SEVERITY_HIGH},
		{"important", SCAN_SEVERITY_HIGH},    {"medium", SCAN_SEVERITY_MEDIUM},
		{"moderate", SCAN_SEVERITY_MEDIUM},   {"low", SCAN_SEVERITY_LOW},
		{"negligible", SCAN_SEVERITY_INFORMATIONAL}, {"unimportant", SCAN_SEVERITY_INFORMATIONAL},
		{"informational", SCAN_SEVERITY_INFORMATIONAL}, {"none", SCAN_SEVERITY_INFORMATIONAL},
	};

	for (size_t i = 0; word != NULL && i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(word, words[i].word) == 0)
			return words[i].severity;
	}
	return SCAN_SEVERITY_UNDEFINED;
}

/* CVSS v3 qualitative ratings; version 2 has no CRITICAL (NVD tops it at
 * HIGH for 7.0-10.0). */
enum scan_severity severity_from_score(double score, bool version3)
{
	if (version3 && score >= 9.0)
		return SCAN_SEVERITY_CRITICAL;
	if (score >= 7.0)
		return SCAN_SEVERITY_HIGH;
	if (score >= 4.0)
		return SCAN_SEVERITY_MEDIUM;
	if (score > 0)
		return SCAN_SEVERITY_LOW;
	return SCAN_SEVERITY_INFORMATIONAL;
}

static void severity_release(struct osv_severity *s)
{
	free(s->vector);
	memset(s, 0, sizeof(*s));
}

/* Raise s to a candidate of a higher rank; the first of a rank stays. */
static bool severity_offer(struct osv_severity *s, int rank, enum scan_severity severity, double score,
			   const char *vector, const char *version)
{
	char *copy = NULL;

	if (rank <= s->rank)
		return true;
	if (vector != NULL && (copy = strdup(vector)) == NULL)
		return false;
	free(s->vector);
	s->rank = rank;
	s->severity = severity;
	s->score = score;
	s->vector = copy;
	s->version = version;
	return true;
}

/* Read a severity[] array and an object holding a "severity" word (the
 * database_specific or ecosystem_specific member) into s. */
static bool severity_read(json_t *array, json_t *specific, struct osv_severity *s)
{
	size_t i;
	json_t *item;
	const char *word = json_string_value(json_object_get(specific, "severity"));

	json_array_foreach(array, i, item) {
		const char *type = json_string_value(json_object_get(item, "type"));
		const char *score_text = json_string_value(json_object_get(item, "score"));
		const char *version;
		double score;

		if (type == NULL || score_text == NULL)
			continue;
		if (strcmp(type, "CVSS_V3") == 0 && cvss3_base_score(score_text, &score, &version)) {
			if (!severity_offer(s, 3, severity_from_score(score, true), score, score_text, version))
				return false;
		} else if (strcmp(type, "CVSS_V2") == 0 && cvss2_base_score(score_text, &score)) {
			if (!severity_offer(s, 2, severity_from_score(score, false), score, score_text, "2.0"))
				return false;
		} else if (strcmp(type, "Ubuntu") == 0 && severity_from_word(score_text) != SCAN_SEVERITY_UNDEFINED) {
			if (!severity_offer(s, 1, severity_from_word(score_text), 0, NULL, NULL))
				return false;
		}
	}
	if (word != NULL && severity_from_word(word) != SCAN_SEVERITY_UNDEFINED)
		return severity_offer(s, 1, severity_from_word(word), 0, NULL, NULL);
	return true;
}

/* ---- records ---- */

static void range_release(struct osv_range *r)
{
	for (size_t i = 0; i < r->nevents; i++)
		free(r->events[i].version);
	free(r->events);
}

static void affected_release(struct osv_affected *a)
{
	free(a->ecosystem);
	free(a->name);
	for (size_t i = 0; i < a->nranges; i++)
		range_release(&a->ranges[i]);
	free(a->ranges);
	strings_free(a->versions, a->nversions);
	severity_release(&a->severity);
}

static void advisory_release(struct osv_advisory *adv)
{
	free(adv->id);
	free(adv->finding_id);
	free(adv->summary);
	free(adv->details);
	strings_free(adv->aliases, adv->naliases);
	strings_free(adv->references, adv->nreferences);
	severity_release(&adv->severity);
	for (size_t i = 0; i < adv->naffected; i++)
		affected_release(&adv->affected[i]);
	free(adv->affected);
	memset(adv, 0, sizeof(*adv));
}

static int event_compare(const struct osv_range *r, const char *ecosystem, const struct osv_event *a,
			 const struct osv_event *b)
{
	bool a_zero = a->type == OSV_EVENT_INTRODUCED && strcmp(a->version, "0") == 0;
	bool b_zero = b->type == OSV_EVENT_INTRODUCED && strcmp(b->version, "0") == 0;
	int c;

	if (a_zero || b_zero)
		return a_zero && b_zero ? 0 : (a_zero ? -1 : 1);
	c = r->semver ? version_compare_semver(a->version, b->version) : version_compare(ecosystem, a->version, b->version);
	if (c != 0)
		return c;
	/* At one version, an introduction comes before what closes it. */
	return (a->type != OSV_EVENT_INTRODUCED) - (b->type != OSV_EVENT_INTRODUCED);
}

/* Insertion sort: ranges have a handful of events, and it needs no
 * comparison context beyond the arguments. */
static void events_sort(struct osv_range *r, const char *ecosystem)
{
	for (size_t i = 1; i < r->nevents; i++) {
		struct osv_event e = r->events[i];
		size_t j = i;

		while (j > 0 && event_compare(r, ecosystem, &r->events[j - 1], &e) > 0) {
			r->events[j] = r->events[j - 1];
			j--;
		}
		r->events[j] = e;
	}
}

static bool range_read(json_t *obj, bool semver, const char *ecosystem, struct osv_range *out)
{
	static const struct {
		const char *key;
		enum osv_event_type type;
	} keys[] = {
		{"introduced", OSV_EVENT_INTRODUCED},
		{"fixed", OSV_EVENT_FIXED},
		{"last_affected", OSV_EVENT_LAST_AFFECTED},
		{"limit", OSV_EVENT_LIMIT},
	};
	json_t *events = json_object_get(obj, "events");
	size_t n = json_array_size(events);

	memset(out, 0, sizeof(*out));
	out->semver = semver;
	out->events = calloc(n + 1, sizeof(*out->events));
	if (out->events == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_t *event = json_array_get(events, i);

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			const char *version = json_string_value(json_object_get(event, keys[k].key));

			if (version == NULL)
				continue;
			out->events[out->nevents].type = keys[k].type;
			out->events[out->nevents].version = strdup(version);
			if (out->events[out->nevents].version == NULL)
				return false;
			out->nevents++;
			break;
		}
	}
	events_sort(out, ecosystem);
	return true;
}

static bool affected_read(json_t *obj, struct osv_affected *out)
{
	json_t *package = json_object_get(obj, "package");
	json_t *ranges = json_object_get(obj, "ranges");
	size_t i;
	json_t *range;

	memset(out, 0, sizeof(*out));
	/* An entry without a package (a GIT-only record) is left empty. */
	if (!json_is_string(json_object_get(package, "ecosystem")) || !json_is_string(json_object_get(package, "name")))
		return true;
	out->ecosystem = json_strdup(json_object_get(package, "ecosystem"));
	out->name = json_strdup(json_object_get(package, "name"));
	if (out->ecosystem == NULL || out->name == NULL)
		return false;
	out->ranges = calloc(json_array_size(ranges) + 1, sizeof(*out->ranges));
	if (out->ranges == NULL)
		return false;
	json_array_foreach(ranges, i, range) {
		const char *type = json_string_value(json_object_get(range, "type"));

		if (type == NULL)
			continue;
		if (strcmp(type, "ECOSYSTEM") != 0 && strcmp(type, "SEMVER") != 0) {
			out->ngit_ranges++;
			continue;
		}
		if (!range_read(range, strcmp(type, "SEMVER") == 0, out->ecosystem, &out->ranges[out->nranges++]))
			return false;
	}
	if (!strings_from_json(json_object_get(obj, "versions"), &out->versions, &out->nversions))
		return false;
	if (!severity_read(json_object_get(obj, "severity"), json_object_get(obj, "ecosystem_specific"),
			   &out->severity))
		return false;
	return severity_read(NULL, json_object_get(obj, "database_specific"), &out->severity);
}

/* "CVE-YYYY-N" at the end of an id such as "ALPINE-CVE-2023-1234" or
 * "DEBIAN-CVE-2023-1234", or NULL. */
static const char *cve_suffix(const char *id)
{
	const char *p = strstr(id, "-CVE-");

	return p != NULL ? p + 1 : NULL;
}

static bool is_cve(const char *s)
{
	return strncmp(s, "CVE-", 4) == 0;
}

/* The id a finding is reported under: a CVE, as ECR's findings are named,
 * from the id, the aliases, the upstream ids or the id's suffix. */
static char *finding_id_pick(const struct osv_advisory *adv, json_t *upstream)
{
	size_t i;
	json_t *item;

	if (is_cve(adv->id))
		return strdup(adv->id);
	for (i = 0; i < adv->naliases; i++) {
		if (is_cve(adv->aliases[i]))
			return strdup(adv->aliases[i]);
	}
	json_array_foreach(upstream, i, item) {
		const char *s = json_string_value(item);

		if (s != NULL && is_cve(s))
			return strdup(s);
	}
	if (cve_suffix(adv->id) != NULL)
		return strdup(cve_suffix(adv->id));
	return strdup(adv->id);
}

static bool references_read(json_t *array, struct osv_advisory *adv)
{
	size_t i;
	json_t *item;

	adv->references = calloc(json_array_size(array) + 1, sizeof(*adv->references));
	if (adv->references == NULL)
		return false;
	json_array_foreach(array, i, item) {
		const char *url = json_string_value(json_object_get(item, "url"));

		if (url == NULL)
			continue;
		adv->references[adv->nreferences] = strdup(url);
		if (adv->references[adv->nreferences] == NULL)
			return false;
		adv->nreferences++;
	}
	return true;
}

/* Read one record into adv.  Returns LCR_OK, LCR_ERR_INVALID_PARAMETER
 * for a record to skip (reason in err) or LCR_ERR_INTERNAL. */
static int advisory_read(json_t *obj, struct osv_advisory *adv, char *err, size_t errlen)
{
	json_t *affected = json_object_get(obj, "affected");
	size_t i;
	json_t *item;

	memset(adv, 0, sizeof(*adv));
	if (!json_is_object(obj))
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "a record is not a JSON object");
	if (json_string_value(json_object_get(obj, "id")) == NULL)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "a record has no id");
	if (json_object_get(obj, "withdrawn") != NULL)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "%s is withdrawn",
				json_string_value(json_object_get(obj, "id")));
	adv->id = json_strdup(json_object_get(obj, "id"));
	adv->summary = json_strdup(json_object_get(obj, "summary"));
	adv->details = json_strdup(json_object_get(obj, "details"));
	adv->published = time_parse(json_string_value(json_object_get(obj, "published")));
	adv->modified = time_parse(json_string_value(json_object_get(obj, "modified")));
	adv->affected = calloc(json_array_size(affected) + 1, sizeof(*adv->affected));
	if (adv->id == NULL || adv->affected == NULL ||
	    !strings_from_json(json_object_get(obj, "aliases"), &adv->aliases, &adv->naliases) ||
	    !references_read(json_object_get(obj, "references"), adv) ||
	    !severity_read(json_object_get(obj, "severity"), json_object_get(obj, "database_specific"),
			   &adv->severity))
		goto oom;
	json_array_foreach(affected, i, item) {
		struct osv_affected *a = &adv->affected[adv->naffected];

		if (!affected_read(item, a)) {
			affected_release(a);
			goto oom;
		}
		if (a->ecosystem == NULL || a->name == NULL) {
			affected_release(a);
			memset(a, 0, sizeof(*a));
			continue;
		}
		adv->naffected++;
	}
	adv->finding_id = finding_id_pick(adv, json_object_get(obj, "upstream"));
	if (adv->finding_id == NULL)
		goto oom;
	return LCR_OK;
oom:
	advisory_release(adv);
	return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
}

/* ---- the database ---- */

static void index_list_free(void *value)
{
	struct osv_index_list *list = value;

	if (list != NULL)
		free(list->items);
	free(list);
}

void vuln_db_free(struct vuln_db *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < db->count; i++)
		advisory_release(&db->advisories[i]);
	free(db->advisories);
	str_map_release(&db->index, index_list_free);
	free(db);
}

size_t vuln_db_count(const struct vuln_db *db)
{
	return db->count;
}

double vuln_db_updated_at(const struct vuln_db *db)
{
	return db->updated_at;
}

const char *vuln_db_fingerprint(const struct vuln_db *db)
{
	return db->fingerprint;
}

/* Add adv (taking its contents) unless a record with its id modified later
 * is already there.  ids maps an id to its index plus one. */
static bool db_add(struct vuln_db *db, struct str_map *ids, struct osv_advisory *adv)
{
	void *found;

	if (str_map_find(ids, adv->id, &found)) {
		struct osv_advisory *old = &db->advisories[(size_t)(uintptr_t)found - 1];

		if (adv->modified >= old->modified) {
			advisory_release(old);
			*old = *adv;
		} else {
			advisory_release(adv);
		}
		return true;
	}
	if (db->count == db->cap) {
		size_t cap = db->cap == 0 ? 256 : db->cap * 2;
		struct osv_advisory *grown = realloc(db->advisories, cap * sizeof(*grown));

		if (grown == NULL)
			return false;
		db->advisories = grown;
		db->cap = cap;
	}
	db->advisories[db->count++] = *adv;
	return str_map_put(ids, adv->id, (void *)(uintptr_t)db->count);
}

/* Add the record or records of one parsed file; false when out of memory. */
static bool db_add_json(struct vuln_db *db, struct str_map *ids, json_t *root, const char *path)
{
	size_t n = json_is_array(root) ? json_array_size(root) : 1;
	char reason[256];

	for (size_t i = 0; i < n; i++) {
		json_t *obj = json_is_array(root) ? json_array_get(root, i) : root;
		struct osv_advisory adv;
		int status = advisory_read(obj, &adv, reason, sizeof(reason));

		if (status == LCR_ERR_INTERNAL)
			return false;
		if (status != LCR_OK) {
			if (strstr(reason, "withdrawn") != NULL)
				log_debug("scanner: skipped a record in %s: %s", path, reason);
			else
				log_warn("scanner: skipped a record in %s: %s", path, reason);
			continue;
		}
		if (!db_add(db, ids, &adv)) {
			advisory_release(&adv);
			return false;
		}
	}
	return true;
}

/* Read the file at path into memory; NULL with a warning when it cannot
 * be read or passes VULN_DB_MAX_FILE. */
static char *file_read(const char *path, size_t *out_len)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		log_warn("scanner: skipped %s: %s", path, strerror(errno));
		goto done;
	}
	if (st.st_size > VULN_DB_MAX_FILE) {
		log_warn("scanner: skipped %s: %lld bytes, over the %ld-byte cap on a database file", path,
			 (long long)st.st_size, VULN_DB_MAX_FILE);
		goto done;
	}
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL)
		goto done;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("scanner: skipped %s: %s", path, n < 0 ? strerror(errno) : "the file shrank while read");
			free(data);
			data = NULL;
			goto done;
		}
		len += (size_t)n;
	}
	data[len] = '\0';
	*out_len = len;
done:
	if (fd >= 0)
		close(fd);
	return data;
}

struct path_list {
	char **items;
	size_t count;
	size_t cap;
};

static bool path_list_add(struct path_list *list, const char *path)
{
	if (list->count == list->cap) {
		size_t cap = list->cap == 0 ? 64 : list->cap * 2;
		char **grown = realloc(list->items, cap * sizeof(*grown));

		if (grown == NULL)
			return false;
		list->items = grown;
		list->cap = cap;
	}
	list->items[list->count] = strdup(path);
	return list->items[list->count++] != NULL;
}

/* Collect the *.json files under dir into list, as full paths.  Symbolic
 * links to files are followed and links to folders are not, so a link
 * cannot make the walk loop. */
static int files_collect(const char *dir, int depth, struct path_list *list, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	int status = LCR_OK;

	if (d == NULL)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, err, errlen, "cannot read the vulnerability database folder %s: %s",
				dir, strerror(errno));
	while (status == LCR_OK && (entry = readdir(d)) != NULL) {
		struct stat lst, st;
		char *path;
		size_t len = strlen(entry->d_name);

		if (entry->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, entry->d_name) < 0) {
			status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
			break;
		}
		if (lstat(path, &lst) == 0 && S_ISDIR(lst.st_mode) && depth < VULN_DB_MAX_DEPTH)
			status = files_collect(path, depth + 1, list, err, errlen);
		else if (len > 5 && strcmp(entry->d_name + len - 5, ".json") == 0 && stat(path, &st) == 0 &&
			 S_ISREG(st.st_mode) && !path_list_add(list, path))
			status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
		free(path);
	}
	closedir(d);
	return status;
}

static int path_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fold one loaded file into the fingerprint: its path below the folder,
 * its length and its bytes. */
static void fingerprint_update(EVP_MD_CTX *ctx, const char *relative, const char *data, size_t len)
{
	unsigned char size[8];

	for (int i = 0; i < 8; i++)
		size[i] = (unsigned char)((uint64_t)len >> (8 * (7 - i)));
	EVP_DigestUpdate(ctx, relative, strlen(relative) + 1);
	EVP_DigestUpdate(ctx, size, sizeof(size));
	EVP_DigestUpdate(ctx, data, len);
}

static bool index_add(struct vuln_db *db, size_t advisory, size_t affected)
{
	const struct osv_affected *a = &db->advisories[advisory].affected[affected];
	struct osv_index_list *list;
	void *found;
	char key[1024];

	osv_index_key(a->ecosystem, a->name, key, sizeof(key));
	if (str_map_find(&db->index, key, &found)) {
		list = found;
	} else {
		list = calloc(1, sizeof(*list));
		if (list == NULL || !str_map_put(&db->index, key, list)) {
			free(list);
			return false;
		}
	}
	if (list->count == list->cap) {
		size_t cap = list->cap == 0 ? 4 : list->cap * 2;
		struct osv_index_entry *grown = realloc(list->items, cap * sizeof(*grown));

		if (grown == NULL)
			return false;
		list->items = grown;
		list->cap = cap;
	}
	list->items[list->count++] = (struct osv_index_entry){advisory, affected};
	return true;
}

static bool index_build(struct vuln_db *db)
{
	for (size_t i = 0; i < db->count; i++) {
		const struct osv_advisory *adv = &db->advisories[i];

		if (adv->modified > db->updated_at)
			db->updated_at = adv->modified;
		for (size_t k = 0; k < adv->naffected; k++) {
			if (!index_add(db, i, k))
				return false;
		}
	}
	return true;
}

/* Load one file into db; false only when out of memory. */
static bool db_load_file(struct vuln_db *db, struct str_map *ids, const char *path, const char *relative,
			 EVP_MD_CTX *ctx)
{
	json_error_t error;
	size_t len = 0;
	char *data = file_read(path, &len);
	json_t *root;
	bool ok;

	if (data == NULL)
		return true;
	root = json_loadb(data, len, 0, &error);
	if (root == NULL || (!json_is_object(root) && !json_is_array(root))) {
		if (root == NULL)
			log_warn("scanner: skipped %s: invalid JSON at line %d: %s", path, error.line, error.text);
		else
			log_warn("scanner: skipped %s: neither an OSV record nor an array of them", path);
		json_decref(root);
		free(data);
		return true;
	}
	fingerprint_update(ctx, relative, data, len);
	free(data);
	ok = db_add_json(db, ids, root, path);
	json_decref(root);
	return ok;
}

int vuln_db_load(const char *dir, struct vuln_db **out, char *err, size_t errlen)
{
	struct vuln_db *db = NULL;
	struct path_list paths = {0};
	struct str_map ids;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char raw[32];
	unsigned int raw_len = 0;
	int status;

	*out = NULL;
	str_map_init(&ids);
	db = calloc(1, sizeof(*db));
	if (db == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
		goto done;
	}
	str_map_init(&db->index);
	status = files_collect(dir, 0, &paths, err, errlen);
	if (status != LCR_OK)
		goto done;
	qsort(paths.items, paths.count, sizeof(*paths.items), path_compare);
	for (size_t i = 0; i < paths.count; i++) {
		if (!db_load_file(db, &ids, paths.items[i], paths.items[i] + strlen(dir) + 1, ctx)) {
			status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory loading %s", paths.items[i]);
			goto done;
		}
	}
	if (!index_build(db)) {
		status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory indexing the vulnerability database");
		goto done;
	}
	EVP_DigestFinal_ex(ctx, raw, &raw_len);
	memcpy(db->fingerprint, "sha256:", 7);
	digest_hex(raw, raw_len, db->fingerprint + 7);
	*out = db;
	db = NULL;
done:
	vuln_db_free(db);
	strings_free(paths.items, paths.count);
	str_map_release(&ids, NULL);
	EVP_MD_CTX_free(ctx);
	return status;
}
