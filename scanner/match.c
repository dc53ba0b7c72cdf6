/*
 * match.c - match an inventory against the loaded OSV database and build
 * findings.
 *
 * A package is looked up by its ecosystem's name and its package name.
 * Debian, Ubuntu and Alpine advisories are keyed on source packages, so
 * for those a package with a source name is looked up by it, with the
 * source's version.  An affected entry applies when its ecosystem covers
 * the package's (osv_ecosystem_applies) and the version is in one of its
 * ranges or listed in its versions.  An entry with neither ranges nor
 * versions affects every version.  A range is evaluated as the OSV schema
 * specifies: walk its events in version order, an "introduced" at or below
 * the version turns it affected, a "fixed" or "limit" at or below it and a
 * "last_affected" below it turn it unaffected.
 *
 * One finding is made per advisory and package.  Its fixed version is the
 * lowest "fixed" event above the installed version among the ranges that
 * contain it.  Findings are sorted by severity (CRITICAL first), then id,
 * then package name.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"
#include "scanner_int.h"

void osv_index_key(const char *ecosystem, const char *name, char *out, size_t outlen)
{
	size_t base_len = strcspn(ecosystem, ":");
	size_t n;

	n = (size_t)snprintf(out, outlen, "%.*s\x1f", (int)base_len, ecosystem);
	if (n >= outlen)
		return;
	if (!(base_len == 4 && strncmp(ecosystem, "PyPI", 4) == 0)) {
		snprintf(out + n, outlen - n, "%s", name);
		return;
	}
	for (const char *p = name; *p != '\0' && n + 1 < outlen; p++) {
		if (*p == '-' || *p == '_' || *p == '.') {
			if (n == 0 || out[n - 1] != '-')
				out[n++] = '-';
			continue;
		}
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = '\0';
}

bool osv_ecosystem_applies(const char *advisory_ecosystem, const char *package_ecosystem)
{
	size_t base = strcspn(advisory_ecosystem, ":");
	size_t package_len = strlen(package_ecosystem);

	if (strncmp(advisory_ecosystem, package_ecosystem, base) != 0 ||
	    (package_ecosystem[base] != '\0' && package_ecosystem[base] != ':'))
		return false;
	if (advisory_ecosystem[base] == '\0')
		return true;
	if (package_ecosystem[base] == '\0')
		return false;
	return strncmp(advisory_ecosystem, package_ecosystem, package_len) == 0 &&
	       (advisory_ecosystem[package_len] == '\0' || advisory_ecosystem[package_len] == ':');
}

static int range_compare(const struct osv_range *r, const char *ecosystem, const char *a, const char *b)
{
	return r->semver ? version_compare_semver(a, b) : version_compare(ecosystem, a, b);
}

/* True when version is in range r; *io_fixed is lowered to the range's
 * first "fixed" event above version when there is one. */
static bool range_contains(const struct osv_range *r, const char *ecosystem, const char *version,
			   const char **io_fixed)
{
	bool affected = false;

	for (size_t i = 0; i < r->nevents; i++) {
		const struct osv_event *e = &r->events[i];
		int c = e->type == OSV_EVENT_INTRODUCED && strcmp(e->version, "0") == 0 ?
				1 :
				range_compare(r, ecosystem, version, e->version);

		switch (e->type) {
		case OSV_EVENT_INTRODUCED:
			if (c >= 0)
				affected = true;
			break;
		case OSV_EVENT_FIXED:
		case OSV_EVENT_LIMIT:
			if (c >= 0)
				affected = false;
			break;
		case OSV_EVENT_LAST_AFFECTED:
			if (c > 0)
				affected = false;
			break;
		}
	}
	if (!affected)
		return false;
	for (size_t i = 0; i < r->nevents; i++) {
		const struct osv_event *e = &r->events[i];

		if (e->type == OSV_EVENT_FIXED && range_compare(r, ecosystem, e->version, version) > 0 &&
		    (*io_fixed == NULL || range_compare(r, ecosystem, e->version, *io_fixed) < 0))
			*io_fixed = e->version;
	}
	return true;
}

static bool affected_contains(const struct osv_affected *a, const char *version, const char **io_fixed)
{
	bool hit = false;

	if (a->nranges == 0 && a->ngit_ranges == 0 && a->nversions == 0)
		return true;
	for (size_t i = 0; i < a->nranges; i++) {
		if (range_contains(&a->ranges[i], a->ecosystem, version, io_fixed))
			hit = true;
	}
	for (size_t i = 0; !hit && i < a->nversions; i++) {
		if (strcmp(a->versions[i], version) == 0 || version_compare(a->ecosystem, a->versions[i], version) == 0)
			hit = true;
	}
	return hit;
}

/* ---- findings ---- */

struct finding_list {
	struct scan_finding *items;
	size_t count;
	size_t cap;
};

static void finding_release(struct scan_finding *f)
{
	free(f->id);
	free(f->advisory_id);
	free(f->summary);
	free(f->description);
	free(f->uri);
	free(f->cvss_vector);
	free(f->cvss_version);
	free(f->fixed_version);
	for (size_t i = 0; i < f->nreferences; i++)
		free(f->references[i]);
	free(f->references);
	for (size_t i = 0; i < f->naliases; i++)
		free(f->aliases[i]);
	free(f->aliases);
}

void scan_findings_free(struct scan_finding *findings, size_t n)
{
	for (size_t i = 0; i < n; i++)
		finding_release(&findings[i]);
	free(findings);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static bool strings_copy(char *const *items, size_t n, char ***out)
{
	*out = calloc(n + 1, sizeof(**out));
	if (*out == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		(*out)[i] = strdup(items[i]);
		if ((*out)[i] == NULL)
			return false;
	}
	return true;
}

/* Fill f from the advisory and the affected entry that matched. */
static bool finding_fill(struct scan_finding *f, const struct osv_advisory *adv, const struct osv_affected *a,
			 const struct scan_package *package, const char *fixed)
{
	const struct osv_severity *s = a->severity.rank > adv->severity.rank ? &a->severity : &adv->severity;

	memset(f, 0, sizeof(*f));
	f->package = package;
	f->severity = s->rank > 0 ? s->severity : SCAN_SEVERITY_UNDEFINED;
	f->cvss_score = s->vector != NULL ? s->score : 0;
	f->published = adv->published;
	f->modified = adv->modified;
	f->id = strdup(adv->finding_id);
	f->advisory_id = strdup(adv->id);
	f->summary = dup_or_null(adv->summary);
	f->description = dup_or_null(adv->details != NULL ? adv->details : adv->summary);
	f->cvss_vector = dup_or_null(s->vector);
	f->cvss_version = dup_or_null(s->vector != NULL ? s->version : NULL);
	f->fixed_version = dup_or_null(fixed);
	if (adv->nreferences > 0)
		f->uri = strdup(adv->references[0]);
	else if (asprintf(&f->uri, "https://osv.dev/vulnerability/%s", adv->id) < 0)
		f->uri = NULL;
	f->nreferences = adv->nreferences;
	f->naliases = adv->naliases;
	if (!strings_copy(adv->references, adv->nreferences, &f->references) ||
	    !strings_copy(adv->aliases, adv->naliases, &f->aliases))
		return false;
	return f->id != NULL && f->advisory_id != NULL && f->uri != NULL &&
	       (adv->summary == NULL || f->summary != NULL) &&
	       ((adv->details == NULL && adv->summary == NULL) || f->description != NULL) &&
	       (s->vector == NULL || (f->cvss_vector != NULL && f->cvss_version != NULL)) &&
	       (fixed == NULL || f->fixed_version != NULL);
}

static struct scan_finding *finding_add(struct finding_list *list)
{
	if (list->count == list->cap) {
		size_t cap = list->cap == 0 ? 32 : list->cap * 2;
		struct scan_finding *grown = realloc(list->items, cap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		list->items = grown;
		list->cap = cap;
	}
	memset(&list->items[list->count], 0, sizeof(list->items[0]));
	return &list->items[list->count++];
}

/* Severity rank for sorting: CRITICAL first, UNDEFINED last. */
static int severity_rank(enum scan_severity s)
{
	return s == SCAN_SEVERITY_UNDEFINED ? -1 : (int)s;
}

static int finding_compare(const void *a, const void *b)
{
	const struct scan_finding *x = a, *y = b;
	int c = severity_rank(y->severity) - severity_rank(x->severity);

	if (c == 0)
		c = strcmp(x->id, y->id);
	if (c == 0)
		c = strcmp(x->package->name, y->package->name);
	if (c == 0)
		c = strcmp(x->package->version, y->package->version);
	return c;
}

static bool uses_source_package(const char *ecosystem)
{
	return strncmp(ecosystem, "Debian", 6) == 0 || strncmp(ecosystem, "Ubuntu", 6) == 0 ||
	       strncmp(ecosystem, "Alpine", 6) == 0;
}

/* Add the findings for one package; false when out of memory. */
static bool package_match(const struct vuln_db *db, const struct scan_package *p, struct finding_list *list)
{
	const char *name = p->name, *version = p->version;
	struct scan_finding *current = NULL;
	size_t current_advisory = (size_t)-1;
	const char *current_fixed = NULL;
	struct osv_index_list *entries;
	void *found;
	char key[1024];

	if (p->source_name != NULL && uses_source_package(p->ecosystem)) {
		name = p->source_name;
		if (p->source_version != NULL)
			version = p->source_version;
	}
	osv_index_key(p->ecosystem, name, key, sizeof(key));
	if (!str_map_find(&db->index, key, &found))
		return true;
	entries = found;
	for (size_t i = 0; i < entries->count; i++) {
		const struct osv_advisory *adv = &db->advisories[entries->items[i].advisory];
		const struct osv_affected *a = &adv->affected[entries->items[i].affected];
		const char *fixed = current_advisory == entries->items[i].advisory ? current_fixed : NULL;

		if (!osv_ecosystem_applies(a->ecosystem, p->ecosystem) || !affected_contains(a, version, &fixed))
			continue;
		/* Entries of one advisory are adjacent in the index, so a
		 * second match of the same advisory only lowers the fix. */
		if (current != NULL && current_advisory == entries->items[i].advisory) {
			if (fixed != current_fixed) {
				char *copy = strdup(fixed);

				if (copy == NULL)
					return false;
				free(current->fixed_version);
				current->fixed_version = copy;
				current_fixed = fixed;
			}
			continue;
		}
		current = finding_add(list);
		if (current == NULL)
			return false;
		if (!finding_fill(current, adv, a, p, fixed))
			return false;
		current_advisory = entries->items[i].advisory;
		current_fixed = fixed;
	}
	return true;
}

int vuln_db_match(const struct vuln_db *db, const struct scan_inventory *inv, struct scan_finding **out,
		  size_t *out_count)
{
	struct finding_list list = {0};

	*out = NULL;
	*out_count = 0;
	for (size_t i = 0; i < inv->npackages; i++) {
		if (!package_match(db, &inv->packages[i], &list)) {
			scan_findings_free(list.items, list.count);
			return LCR_ERR_INTERNAL;
		}
	}
	if (list.count > 0)
		qsort(list.items, list.count, sizeof(list.items[0]), finding_compare);
	*out = list.items;
	*out_count = list.count;
	return LCR_OK;
}
