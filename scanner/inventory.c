/*
 * inventory.c - list the packages of an image: one parser per package
 * database, and scanner_inventory, which reads the layers and runs the
 * parsers over the files of the final file system.
 *
 * Formats read here:
 * - dpkg status (var/lib/dpkg/status) and distroless status.d files: RFC 822
 *   style paragraphs separated by blank lines, continuation lines starting
 *   with a space or tab.  A package counts when its Status is
 *   "install ok installed" or "hold ok installed"; status.d files carry no
 *   Status field, and every paragraph in them counts.
 * - apk installed database (lib/apk/db/installed): paragraphs of "K:value"
 *   lines, P name, V version, A architecture, o origin.
 * - Python core metadata (dist-info METADATA, egg-info PKG-INFO): the
 *   header block up to the first blank line, Name and Version.
 * - npm package.json: the name and version members.
 * - Maven pom.properties found in jars: groupId, artifactId and version.
 * The SQLite rpm database is read in rpmdb.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "../common/status.h"
#include "scanner_int.h"

/* ---- the package list ---- */

static void package_release(struct scan_package *p)
{
	free(p->name);
	free(p->version);
	free(p->source_name);
	free(p->source_version);
	free(p->arch);
	free(p->ecosystem);
	free(p->package_manager);
	free(p->layer_digest);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

void package_list_release(struct package_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		package_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

void scanner_inventory_release(struct scan_inventory *inv)
{
	struct package_list list = {inv->packages, inv->npackages, inv->npackages};

	package_list_release(&list);
	memset(inv, 0, sizeof(*inv));
}

/* A field value of a package being assembled: a span of the input. */
struct field {
	const char *p;
	size_t len;
};

static char *field_dup(struct field f)
{
	return f.p == NULL ? NULL : strndup(f.p, f.len);
}

/* The fields one parser found for one package, before they are copied. */
struct package_fields {
	struct field name, version, source_name, source_version, arch;
	const char *ecosystem;
	const char *package_manager;
};

static bool package_append(struct package_list *list, const struct package_origin *origin,
			   const struct package_fields *fields)
{
	struct scan_package *p;

	if (list->count == list->cap) {
		size_t cap = list->cap == 0 ? 64 : list->cap * 2;
		struct scan_package *grown = realloc(list->items, cap * sizeof(*grown));

		if (grown == NULL)
			return false;
		list->items = grown;
		list->cap = cap;
	}
	p = &list->items[list->count];
	memset(p, 0, sizeof(*p));
	p->name = field_dup(fields->name);
	p->version = field_dup(fields->version);
	p->source_name = field_dup(fields->source_name);
	p->source_version = field_dup(fields->source_version);
	p->arch = field_dup(fields->arch);
	p->ecosystem = strdup(fields->ecosystem != NULL ? fields->ecosystem : origin->ecosystem);
	p->package_manager = strdup(fields->package_manager);
	p->layer_digest = strdup(origin->layer_digest);
	p->path = strdup(origin->path);
	if (p->name == NULL || p->version == NULL || p->ecosystem == NULL || p->package_manager == NULL ||
	    p->layer_digest == NULL || p->path == NULL || (fields->source_name.p != NULL && p->source_name == NULL) ||
	    (fields->source_version.p != NULL && p->source_version == NULL) ||
	    (fields->arch.p != NULL && p->arch == NULL)) {
		package_release(p);
		return false;
	}
	/* A NUL byte in the input can leave a name or version empty. */
	if (p->name[0] == '\0' || p->version[0] == '\0') {
		package_release(p);
		return true;
	}
	list->count++;
	return true;
}

static struct field field_of(const char *s)
{
	return (struct field){s, s != NULL ? strlen(s) : 0};
}

bool package_list_add(struct package_list *list, const struct package_origin *origin, const char *name,
		      const char *version, const char *source_name, const char *source_version, const char *arch,
		      const char *package_manager)
{
	struct package_fields fields = {0};

	fields.name = field_of(name);
	fields.version = field_of(version);
	fields.source_name = field_of(source_name);
	fields.source_version = field_of(source_version);
	fields.arch = field_of(arch);
	fields.package_manager = package_manager;
	return package_append(list, origin, &fields);
}

void scan_package_key(const struct scan_package *p, char *key, size_t keylen)
{
	snprintf(key, keylen, "%s\x1f%s\x1f%s", p->name, p->version, p->arch ? p->arch : "");
}

/* ---- line reading ---- */

struct lines {
	const char *p;
	const char *end;
};

/* Return the next line without its "\n" or "\r\n"; false at the end. */
static bool lines_next(struct lines *r, struct field *out)
{
	const char *nl;

	if (r->p >= r->end)
		return false;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	out->p = r->p;
	out->len = nl ? (size_t)(nl - r->p) : (size_t)(r->end - r->p);
	r->p = nl ? nl + 1 : r->end;
	if (out->len > 0 && out->p[out->len - 1] == '\r')
		out->len--;
	return true;
}

static struct field field_trim(struct field f)
{
	while (f.len > 0 && (f.p[0] == ' ' || f.p[0] == '\t')) {
		f.p++;
		f.len--;
	}
	while (f.len > 0 && (f.p[f.len - 1] == ' ' || f.p[f.len - 1] == '\t'))
		f.len--;
	return f;
}

static bool field_is(struct field f, const char *word)
{
	return f.len == strlen(word) && memcmp(f.p, word, f.len) == 0;
}

static bool field_blank(struct field f)
{
	return field_trim(f).len == 0;
}

/* Split "Key: value" into key and trimmed value; false when there is no
 * colon or the line is a continuation line. */
static bool header_split(struct field line, struct field *out_key, struct field *out_value)
{
	const char *colon;

	if (line.len == 0 || line.p[0] == ' ' || line.p[0] == '\t')
		return false;
	colon = memchr(line.p, ':', line.len);
	if (colon == NULL)
		return false;
	out_key->p = line.p;
	out_key->len = (size_t)(colon - line.p);
	out_value->p = colon + 1;
	out_value->len = line.len - out_key->len - 1;
	*out_value = field_trim(*out_value);
	return true;
}

/* ---- dpkg ---- */

struct dpkg_paragraph {
	struct field package, version, source, arch, status;
	bool has_status;
};

/* True for "install ok installed" and "hold ok installed". */
static bool dpkg_installed(struct field status)
{
	char words[3][32];
	char text[128];

	if (status.len >= sizeof(text))
		return false;
	memcpy(text, status.p, status.len);
	text[status.len] = '\0';
	if (sscanf(text, "%31s %31s %31s", words[0], words[1], words[2]) != 3)
		return false;
	return (strcmp(words[0], "install") == 0 || strcmp(words[0], "hold") == 0) && strcmp(words[1], "ok") == 0 &&
	       strcmp(words[2], "installed") == 0;
}

static bool dpkg_emit(const struct dpkg_paragraph *para, bool status_d, const struct package_origin *origin,
		      struct package_list *list)
{
	struct package_fields fields = {0};

	if (para->package.len == 0 || para->version.len == 0)
		return true;
	if (para->has_status ? !dpkg_installed(para->status) : !status_d)
		return true;
	fields.name = para->package;
	fields.version = para->version;
	if (para->arch.len > 0)
		fields.arch = para->arch;
	if (para->source.len > 0) {
		/* "Source: glibc (2.36-9+deb12u4)": the source package's own
		 * version, when it differs from the binary's, is in brackets. */
		const char *open = memchr(para->source.p, '(', para->source.len);

		fields.source_name = para->source;
		if (open != NULL) {
			const char *close = memchr(open, ')', para->source.len - (size_t)(open - para->source.p));

			fields.source_name.len = (size_t)(open - para->source.p);
			fields.source_name = field_trim(fields.source_name);
			if (close != NULL)
				fields.source_version = field_trim((struct field){open + 1, (size_t)(close - open - 1)});
		}
		/* Without a source name a version alone means nothing. */
		if (fields.source_name.len == 0 || fields.source_version.len == 0)
			fields.source_version = (struct field){NULL, 0};
		if (fields.source_name.len == 0)
			fields.source_name = (struct field){NULL, 0};
	}
	fields.package_manager = "OS";
	return package_append(list, origin, &fields);
}

bool inventory_parse_dpkg(const char *data, size_t len, bool status_d, const struct package_origin *origin,
			  struct package_list *list)
{
	struct lines lines = {data, data + len};
	struct dpkg_paragraph para = {0};
	struct field line, key, value;

	while (lines_next(&lines, &line)) {
		if (field_blank(line)) {
			if (!dpkg_emit(&para, status_d, origin, list))
				return false;
			memset(&para, 0, sizeof(para));
			continue;
		}
		if (!header_split(line, &key, &value))
			continue;
		if (field_is(key, "Package")) {
			para.package = value;
		} else if (field_is(key, "Version")) {
			para.version = value;
		} else if (field_is(key, "Source")) {
			para.source = value;
		} else if (field_is(key, "Architecture")) {
			para.arch = value;
		} else if (field_is(key, "Status")) {
			para.status = value;
			para.has_status = true;
		}
	}
	return dpkg_emit(&para, status_d, origin, list);
}

/* ---- apk ---- */

struct apk_paragraph {
	struct field name, version, arch, origin;
};

static bool apk_emit(const struct apk_paragraph *para, const struct package_origin *origin,
		     struct package_list *list)
{
	struct package_fields fields = {0};

	if (para->name.len == 0 || para->version.len == 0)
		return true;
	fields.name = para->name;
	fields.version = para->version;
	if (para->arch.len > 0)
		fields.arch = para->arch;
	if (para->origin.len > 0)
		fields.source_name = para->origin;
	fields.package_manager = "OS";
	return package_append(list, origin, &fields);
}

bool inventory_parse_apk(const char *data, size_t len, const struct package_origin *origin,
			 struct package_list *list)
{
	struct lines lines = {data, data + len};
	struct apk_paragraph para = {0};
	struct field line;

	while (lines_next(&lines, &line)) {
		if (field_blank(line)) {
			if (!apk_emit(&para, origin, list))
				return false;
			memset(&para, 0, sizeof(para));
			continue;
		}
		if (line.len < 2 || line.p[1] != ':')
			continue;

		struct field value = field_trim((struct field){line.p + 2, line.len - 2});

		switch (line.p[0]) {
		case 'P':
			para.name = value;
			break;
		case 'V':
			para.version = value;
			break;
		case 'A':
			para.arch = value;
			break;
		case 'o':
			para.origin = value;
			break;
		default:
			break;
		}
	}
	return apk_emit(&para, origin, list);
}

/* ---- Python ---- */

bool inventory_parse_python(const char *data, size_t len, const struct package_origin *origin,
			    struct package_list *list)
{
	struct lines lines = {data, data + len};
	struct package_fields fields = {0};
	struct field line, key, value;

	while (lines_next(&lines, &line) && !field_blank(line)) {
		if (!header_split(line, &key, &value))
			continue;
		/* Header names are case-insensitive, as in RFC 822. */
		if (key.len == 4 && strncasecmp(key.p, "Name", 4) == 0 && fields.name.p == NULL)
			fields.name = value;
		else if (key.len == 7 && strncasecmp(key.p, "Version", 7) == 0 && fields.version.p == NULL)
			fields.version = value;
	}
	if (fields.name.len == 0 || fields.version.len == 0)
		return true;
	fields.ecosystem = "PyPI";
	fields.package_manager = "PYTHONPKG";
	return package_append(list, origin, &fields);
}

/* ---- npm ---- */

bool inventory_parse_npm(const char *data, size_t len, const struct package_origin *origin,
			 struct package_list *list)
{
	struct package_fields fields = {0};
	json_error_t error;
	json_t *root = json_loadb(data, len, 0, &error);
	const char *name, *version;
	bool ok = true;

	if (root == NULL)
		return true;
	name = json_string_value(json_object_get(root, "name"));
	version = json_string_value(json_object_get(root, "version"));
	if (name != NULL && version != NULL && name[0] != '\0' && version[0] != '\0') {
		fields.name = (struct field){name, strlen(name)};
		fields.version = (struct field){version, strlen(version)};
		fields.ecosystem = "npm";
		fields.package_manager = "NODEPKG";
		ok = package_append(list, origin, &fields);
	}
	json_decref(root);
	return ok;
}

/* ---- Maven pom.properties ---- */

struct pom {
	struct field inner_path; /* the pom.properties file inside the jar */
	struct field group, artifact, version;
};

static bool pom_emit(const struct pom *pom, const struct package_origin *origin, struct package_list *list)
{
	struct package_fields fields = {0};
	struct package_origin inner = *origin;
	char *name = NULL, *path = NULL;
	bool ok = false;

	if (pom->group.len == 0 || pom->artifact.len == 0 || pom->version.len == 0)
		return true;
	/* Maven coordinates in OSV are "groupId:artifactId". */
	if (asprintf(&name, "%.*s:%.*s", (int)pom->group.len, pom->group.p, (int)pom->artifact.len,
		     pom->artifact.p) < 0) {
		name = NULL;
		goto done;
	}
	/* "app.jar!META-INF/maven/g/a/pom.properties", as Java writes a path
	 * inside a jar. */
	if (pom->inner_path.len > 0) {
		if (asprintf(&path, "%s!%.*s", origin->path, (int)pom->inner_path.len, pom->inner_path.p) < 0) {
			path = NULL;
			goto done;
		}
		inner.path = path;
	}
	fields.name = (struct field){name, strlen(name)};
	fields.version = pom->version;
	fields.ecosystem = "Maven";
	fields.package_manager = "JAR";
	ok = package_append(list, &inner, &fields);
done:
	free(name);
	free(path);
	return ok;
}

/* Split a properties line "key=value", "key: value" or "key value". */
static bool property_split(struct field line, struct field *out_key, struct field *out_value)
{
	size_t i = 0;

	line = field_trim(line);
	if (line.len == 0 || line.p[0] == '#' || line.p[0] == '!')
		return false;
	while (i < line.len && line.p[i] != '=' && line.p[i] != ':' && line.p[i] != ' ' && line.p[i] != '\t')
		i++;
	*out_key = (struct field){line.p, i};
	while (i < line.len && (line.p[i] == ' ' || line.p[i] == '\t'))
		i++;
	if (i < line.len && (line.p[i] == '=' || line.p[i] == ':'))
		i++;
	*out_value = field_trim((struct field){line.p + i, line.len - i});
	return true;
}

bool inventory_parse_poms(const char *data, size_t len, const struct package_origin *origin,
			  struct package_list *list)
{
	struct lines lines = {data, data + len};
	struct pom pom = {0};
	struct field line, key, value;
	size_t marker_len = strlen(SCAN_POM_MARKER);

	while (lines_next(&lines, &line)) {
		if (line.len >= marker_len && memcmp(line.p, SCAN_POM_MARKER, marker_len) == 0) {
			if (!pom_emit(&pom, origin, list))
				return false;
			memset(&pom, 0, sizeof(pom));
			pom.inner_path = (struct field){line.p + marker_len, line.len - marker_len};
			continue;
		}
		if (!property_split(line, &key, &value))
			continue;
		if (field_is(key, "groupId"))
			pom.group = value;
		else if (field_is(key, "artifactId"))
			pom.artifact = value;
		else if (field_is(key, "version"))
			pom.version = value;
	}
	return pom_emit(&pom, origin, list);
}

/* ---- dispatch and the inventory ---- */

bool inventory_parse_file(enum scan_file_kind kind, unsigned char *data, size_t len,
			  const struct package_origin *origin, struct package_list *list)
{
	const char *text = (const char *)data;

	switch (kind) {
	case SCAN_FILE_DPKG_STATUS:
		return inventory_parse_dpkg(text, len, false, origin, list);
	case SCAN_FILE_DPKG_STATUS_D:
		return inventory_parse_dpkg(text, len, true, origin, list);
	case SCAN_FILE_APK_INSTALLED:
		return inventory_parse_apk(text, len, origin, list);
	case SCAN_FILE_RPMDB_SQLITE:
		return inventory_parse_rpmdb(data, len, origin, list);
	case SCAN_FILE_PYTHON_METADATA:
		return inventory_parse_python(text, len, origin, list);
	case SCAN_FILE_NPM_PACKAGE_JSON:
		return inventory_parse_npm(text, len, origin, list);
	case SCAN_FILE_JAR:
		return inventory_parse_poms(text, len, origin, list);
	case SCAN_FILE_OS_RELEASE:
	case SCAN_FILE_NONE:
		break;
	}
	return true;
}

static int file_path_compare(const void *a, const void *b)
{
	const struct scan_file *const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/* The present files of set sorted by path, so the inventory's order does
 * not depend on hashing. */
static struct scan_file **files_sorted(const struct scan_file_set *set, size_t *out_count)
{
	struct scan_file **files = calloc(set->files.count + 1, sizeof(*files));
	size_t n = 0;

	if (files == NULL)
		return NULL;
	for (size_t i = 0; i < set->files.cap; i++) {
		struct scan_file *f = set->files.slots[i].value;

		if (set->files.slots[i].key != NULL && f->present)
			files[n++] = f;
	}
	qsort(files, n, sizeof(*files), file_path_compare);
	*out_count = n;
	return files;
}

static const struct scan_file *os_release_file(struct scan_file **files, size_t n)
{
	const struct scan_file *fallback = NULL;

	/* etc/os-release wins; on most distributions it is a symbolic link to
	 * usr/lib/os-release, which the layer reader does not follow. */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(files[i]->path, "etc/os-release") == 0)
			return files[i];
		if (strcmp(files[i]->path, "usr/lib/os-release") == 0)
			fallback = files[i];
	}
	return fallback;
}

/* Set each package read from f to the layer that last changed it: walk
 * back through f's earlier versions while they list the same package. */
static bool history_apply(const struct scan_file *f, struct package_list *list, size_t first,
			  const struct scan_layer *layers)
{
	char key[1024];

	for (size_t i = first; i < list->count; i++) {
		struct scan_package *p = &list->items[i];
		size_t layer = f->layer;

		scan_package_key(p, key, sizeof(key));
		for (size_t h = f->nhistory; h > 0 && str_map_find(&f->history[h - 1].keys, key, NULL); h--)
			layer = f->history[h - 1].layer;
		if (layer == f->layer)
			continue;

		char *digest = strdup(layers[layer].digest);

		if (digest == NULL)
			return false;
		free(p->layer_digest);
		p->layer_digest = digest;
	}
	return true;
}

static const char *file_ecosystem(enum scan_file_kind kind, const char *dpkg, const char *apk, const char *rpm)
{
	switch (kind) {
	case SCAN_FILE_DPKG_STATUS:
	case SCAN_FILE_DPKG_STATUS_D:
		return dpkg;
	case SCAN_FILE_APK_INSTALLED:
		return apk;
	case SCAN_FILE_RPMDB_SQLITE:
		return rpm;
	default:
		return NULL;
	}
}

int scanner_inventory(const struct scan_layer *layers, size_t nlayers, struct scan_inventory *out, char *err,
		      size_t errlen)
{
	struct scan_file_set set;
	struct package_list list = {0};
	struct scan_file **files = NULL;
	struct os_release os = {0};
	const struct scan_file *os_file;
	char dpkg_ecosystem[96], apk_ecosystem[96], rpm_ecosystem[96];
	size_t nfiles = 0;
	int status;

	memset(out, 0, sizeof(*out));
	scan_file_set_init(&set);
	status = scan_layers_read(layers, nlayers, &set, err, errlen);
	if (status != LCR_OK)
		goto done;
	files = files_sorted(&set, &nfiles);
	if (files == NULL) {
		status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory listing the kept files");
		goto done;
	}

	os_file = os_release_file(files, nfiles);
	if (os_file != NULL)
		os_release_parse((const char *)os_file->data, os_file->len, &os);
	snprintf(out->os_id, sizeof(out->os_id), "%s", os.id);
	snprintf(out->os_version, sizeof(out->os_version), "%s", os.version_id);
	snprintf(out->os_pretty, sizeof(out->os_pretty), "%s", os.pretty_name);
	out->os_supported = os_release_supported(os.id, os.version_id);
	os_ecosystem(&os, "dpkg", dpkg_ecosystem, sizeof(dpkg_ecosystem));
	os_ecosystem(&os, "apk", apk_ecosystem, sizeof(apk_ecosystem));
	os_ecosystem(&os, "rpm", rpm_ecosystem, sizeof(rpm_ecosystem));

	for (size_t i = 0; i < nfiles; i++) {
		const struct scan_file *f = files[i];
		const char *ecosystem = file_ecosystem(f->kind, dpkg_ecosystem, apk_ecosystem, rpm_ecosystem);
		struct package_origin origin = {ecosystem, layers[f->layer].digest, f->path};
		size_t first = list.count;

		if (!inventory_parse_file(f->kind, f->data, f->len, &origin, &list) ||
		    !history_apply(f, &list, first, layers)) {
			status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory reading %s", f->path);
			goto done;
		}
	}
	out->packages = list.items;
	out->npackages = list.count;
	memset(&list, 0, sizeof(list));
done:
	free(files);
	package_list_release(&list);
	scan_file_set_release(&set);
	return status;
}
