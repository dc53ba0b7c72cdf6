/*
 * layers.c - stream an image's layers and keep the files the inventory
 * reads, as the final file system has them.
 *
 * Each layer is a tar archive, plain or compressed (libarchive detects gzip,
 * zstd and the rest from the bytes, so the media type is only checked for
 * encryption).  Layers are read once, base first, and the file system rules
 * of the OCI image spec ("Representing Changes") are applied:
 * - a file replaces the same path from earlier layers, and a non-directory
 *   also hides whatever earlier layers had below that path;
 * - a whiteout ".wh.<name>" deletes <name> and everything under it from
 *   earlier layers;
 * - an opaque whiteout ".wh..wh..opq" deletes the earlier contents of its
 *   directory;
 * - entries of one layer never delete each other, so deletions are applied
 *   when the layer ends, to files from earlier layers only.
 * Hard links and symbolic links are not followed: a link at a kept path
 * only hides the earlier file.  Paths with ".." components are ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "../common/status.h"
#include "scanner_int.h"

#define LAYER_READ_BLOCK (128 * 1024)
#define SCAN_PATH_MAX 4096
/* Bytes of pom.properties text kept from one jar, nested jars included. */
#define JAR_POMS_MAX (1024 * 1024)

/* ---- which files to keep ---- */

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static bool span_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(s, word, len) == 0;
}

/* The last (up to) four components of path, last first. */
struct tail {
	const char *p[4];
	size_t len[4];
	size_t count;
};

static void path_tail(const char *path, struct tail *out)
{
	const char *end = path + strlen(path);

	memset(out, 0, sizeof(*out));
	while (out->count < 4 && end > path) {
		const char *start = end;

		while (start > path && start[-1] != '/')
			start--;
		out->p[out->count] = start;
		out->len[out->count] = (size_t)(end - start);
		out->count++;
		end = start > path ? start - 1 : path;
	}
}

static bool is_packages_dir(const struct tail *t, size_t i)
{
	return i < t->count && (span_is(t->p[i], t->len[i], "site-packages") ||
				span_is(t->p[i], t->len[i], "dist-packages"));
}

enum scan_file_kind scan_path_classify(const char *path, size_t *out_cap)
{
	static const struct {
		const char *path;
		enum scan_file_kind kind;
		size_t cap;
	} exact[] = {
		{"etc/os-release", SCAN_FILE_OS_RELEASE, SCAN_CAP_OS_RELEASE},
		{"usr/lib/os-release", SCAN_FILE_OS_RELEASE, SCAN_CAP_OS_RELEASE},
		{"var/lib/dpkg/status", SCAN_FILE_DPKG_STATUS, SCAN_CAP_DPKG_STATUS},
		{"lib/apk/db/installed", SCAN_FILE_APK_INSTALLED, SCAN_CAP_APK_INSTALLED},
		{"var/lib/rpm/rpmdb.sqlite", SCAN_FILE_RPMDB_SQLITE, SCAN_CAP_RPMDB},
		{"usr/lib/sysimage/rpm/rpmdb.sqlite", SCAN_FILE_RPMDB_SQLITE, SCAN_CAP_RPMDB},
	};
	struct tail t;

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if (strcmp(path, exact[i].path) == 0) {
			*out_cap = exact[i].cap;
			return exact[i].kind;
		}
	}
	path_tail(path, &t);
	if (t.count == 0)
		return SCAN_FILE_NONE;

	/* Distroless images keep one status file per package, next to its
	 * .md5sums list. */
	if (starts_with(path, "var/lib/dpkg/status.d/") && strchr(path + strlen("var/lib/dpkg/status.d/"), '/') == NULL &&
	    t.p[0][0] != '.' && !ends_with(t.p[0], t.len[0], ".md5sums")) {
		*out_cap = SCAN_CAP_DPKG_STATUS_D;
		return SCAN_FILE_DPKG_STATUS_D;
	}

	*out_cap = SCAN_CAP_PYTHON_METADATA;
	if (span_is(t.p[0], t.len[0], "METADATA") && t.count >= 3 && ends_with(t.p[1], t.len[1], ".dist-info") &&
	    is_packages_dir(&t, 2))
		return SCAN_FILE_PYTHON_METADATA;
	if ((span_is(t.p[0], t.len[0], "PKG-INFO") || span_is(t.p[0], t.len[0], "METADATA")) && t.count >= 2 &&
	    ends_with(t.p[1], t.len[1], ".egg-info"))
		return SCAN_FILE_PYTHON_METADATA;
	/* distutils installs write the egg-info as a single file. */
	if (ends_with(t.p[0], t.len[0], ".egg-info") && is_packages_dir(&t, 1))
		return SCAN_FILE_PYTHON_METADATA;

	if (span_is(t.p[0], t.len[0], "package.json") && t.count >= 3) {
		*out_cap = SCAN_CAP_NPM_PACKAGE_JSON;
		if (span_is(t.p[2], t.len[2], "node_modules") && t.p[1][0] != '@' && t.p[1][0] != '.')
			return SCAN_FILE_NPM_PACKAGE_JSON;
		if (t.count >= 4 && span_is(t.p[3], t.len[3], "node_modules") && t.p[2][0] == '@' && t.len[2] > 1)
			return SCAN_FILE_NPM_PACKAGE_JSON;
	}
	if (ends_with(t.p[0], t.len[0], ".jar") && t.len[0] > strlen(".jar")) {
		*out_cap = SCAN_CAP_JAR;
		return SCAN_FILE_JAR;
	}
	return SCAN_FILE_NONE;
}

/* Write path without leading "/", "." components, empty components and a
 * trailing "/" into out.  False for ".." components or an overlong path. */
static bool path_normalize(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	while (*in != '\0') {
		size_t len = strcspn(in, "/");

		if (len == 2 && in[0] == '.' && in[1] == '.')
			return false;
		if (len > 0 && !(len == 1 && in[0] == '.')) {
			if (n + len + 2 > outlen)
				return false;
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, in, len);
			n += len;
		}
		in += len;
		while (*in == '/')
			in++;
	}
	out[n] = '\0';
	return true;
}

/* ---- the kept file set ---- */

static void file_history_clear(struct scan_file *f)
{
	for (size_t i = 0; i < f->nhistory; i++)
		str_map_release(&f->history[i].keys, NULL);
	free(f->history);
	f->history = NULL;
	f->nhistory = 0;
}

static void file_free(void *value)
{
	struct scan_file *f = value;

	if (f == NULL)
		return;
	file_history_clear(f);
	free(f->data);
	free(f->path);
	free(f);
}

void scan_file_set_init(struct scan_file_set *set)
{
	memset(set, 0, sizeof(*set));
	str_map_init(&set->files);
	str_map_init(&set->kept_dirs);
}

void scan_file_set_release(struct scan_file_set *set)
{
	str_map_release(&set->files, file_free);
	str_map_release(&set->kept_dirs, NULL);
}

static void file_drop(struct scan_file_set *set, struct scan_file *f)
{
	set->kept_bytes -= f->len;
	free(f->data);
	f->data = NULL;
	f->len = 0;
	f->present = false;
	file_history_clear(f);
}

static bool keeps_history(enum scan_file_kind kind)
{
	return kind == SCAN_FILE_DPKG_STATUS || kind == SCAN_FILE_APK_INSTALLED || kind == SCAN_FILE_RPMDB_SQLITE;
}

/* Reduce f's current content to the keys of its packages and push that
 * onto its history, before a later layer replaces the content. */
static bool file_history_push(struct scan_file *f)
{
	struct package_origin origin = {"", "", f->path};
	struct package_list list = {0};
	struct scan_file_version *grown;
	struct scan_file_version *version;
	char key[1024];
	bool ok = false;

	grown = realloc(f->history, (f->nhistory + 1) * sizeof(*grown));
	if (grown == NULL)
		return false;
	f->history = grown;
	if (!inventory_parse_file(f->kind, f->data, f->len, &origin, &list))
		goto done;
	version = &f->history[f->nhistory];
	version->layer = f->layer;
	str_map_init(&version->keys);
	f->nhistory++;
	for (size_t i = 0; i < list.count; i++) {
		scan_package_key(&list.items[i], key, sizeof(key));
		if (!str_map_put(&version->keys, key, NULL))
			goto done;
	}
	ok = true;
done:
	package_list_release(&list);
	return ok;
}

/* Record every ancestor directory of path in kept_dirs, so that a later
 * non-directory at one of them can hide the file. */
static bool kept_dirs_add(struct scan_file_set *set, const char *path)
{
	char dir[SCAN_PATH_MAX];
	const char *slash = path;

	while ((slash = strchr(slash, '/')) != NULL) {
		size_t n = (size_t)(slash - path);

		memcpy(dir, path, n);
		dir[n] = '\0';
		if (!str_map_put(&set->kept_dirs, dir, NULL))
			return false;
		slash++;
	}
	return true;
}

/* Store data (taking ownership) as the content of path from layer. */
static int file_keep(struct scan_file_set *set, const char *path, enum scan_file_kind kind, size_t layer,
		     unsigned char *data, size_t len, char *err, size_t errlen)
{
	struct scan_file *f = NULL;
	void *found;

	if (str_map_find(&set->files, path, &found)) {
		f = found;
	} else {
		f = calloc(1, sizeof(*f));
		if (f == NULL || (f->path = strdup(path)) == NULL || !str_map_put(&set->files, path, f)) {
			file_free(f);
			free(data);
			return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory keeping %s", path);
		}
	}
	if (f->present && keeps_history(kind) && f->kind == kind && f->layer < layer && !file_history_push(f)) {
		free(data);
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory keeping %s", path);
	}
	/* The history stays: a new version of the file is no deletion. */
	if (f->present) {
		set->kept_bytes -= f->len;
		free(f->data);
		f->data = NULL;
		f->len = 0;
	}
	f->kind = kind;
	f->layer = layer;
	f->data = data;
	f->len = len;
	f->present = true;
	set->kept_bytes += len;
	if (!kept_dirs_add(set, path))
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory keeping %s", path);
	if (set->kept_bytes > SCAN_MAX_KEPT_BYTES)
		return lcr_fail(LCR_ERR_LIMIT_EXCEEDED, err, errlen,
				"the files kept for the inventory pass %u MiB at %s", SCAN_MAX_KEPT_BYTES >> 20, path);
	return LCR_OK;
}

/* ---- whiteouts ---- */

/* Deletions that one layer makes to the files of earlier layers. */
struct layer_changes {
	struct str_map deleted; /* paths deleted with everything under them */
	struct str_map opaque;  /* directories whose earlier contents are deleted */
};

/* True when path or one of its ancestors is in deleted, or one of its
 * ancestors (the root "" included) is in opaque. */
static bool path_deleted(const struct layer_changes *changes, const char *path)
{
	char prefix[SCAN_PATH_MAX];
	const char *slash = path;

	if (str_map_find(&changes->opaque, "", NULL) || str_map_find(&changes->deleted, path, NULL))
		return true;
	while ((slash = strchr(slash, '/')) != NULL) {
		size_t n = (size_t)(slash - path);

		memcpy(prefix, path, n);
		prefix[n] = '\0';
		if (str_map_find(&changes->deleted, prefix, NULL) || str_map_find(&changes->opaque, prefix, NULL))
			return true;
		slash++;
	}
	return false;
}

static void layer_changes_apply(struct scan_file_set *set, const struct layer_changes *changes, size_t layer)
{
	if (changes->deleted.count == 0 && changes->opaque.count == 0)
		return;
	for (size_t i = 0; i < set->files.cap; i++) {
		struct scan_file *f = set->files.slots[i].value;

		if (set->files.slots[i].key == NULL || !f->present || f->layer >= layer)
			continue;
		if (path_deleted(changes, f->path))
			file_drop(set, f);
	}
}

/* Record the whiteout entry at path (whose last component starts with
 * ".wh."); false when out of memory. */
static bool whiteout_record(struct layer_changes *changes, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t dir_len = slash ? (size_t)(slash - path) : 0;
	char target[SCAN_PATH_MAX];

	if (strcmp(name, ".wh..wh..opq") == 0) {
		snprintf(target, sizeof(target), "%.*s", (int)dir_len, path);
		return str_map_put(&changes->opaque, target, NULL);
	}
	/* Other ".wh..wh." names are aufs bookkeeping, not deletions. */
	if (starts_with(name, ".wh..wh.") || name[strlen(".wh.")] == '\0')
		return true;
	if (dir_len > 0)
		snprintf(target, sizeof(target), "%.*s/%s", (int)dir_len, path, name + strlen(".wh."));
	else
		snprintf(target, sizeof(target), "%s", name + strlen(".wh."));
	return str_map_put(&changes->deleted, target, NULL);
}

/* ---- reading entries ---- */

/* Read the current entry's data, at most cap bytes.  When the entry is
 * larger, a truncatable entry keeps its first cap bytes and any other gets
 * *out_data NULL.  Returns LCR_OK or LCR_ERR_UNSUPPORTED for a damaged
 * archive. */
static int entry_read(struct archive *a, struct archive_entry *entry, size_t cap, bool truncate,
		      unsigned char **out_data, size_t *out_len, char *err, size_t errlen)
{
	int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
	size_t alloc = size > 0 && (uint64_t)size < cap ? (size_t)size : (size > 0 ? cap : 4096);
	unsigned char *data = NULL;
	size_t len = 0;

	*out_data = NULL;
	*out_len = 0;
	if (size > 0 && (uint64_t)size > cap && !truncate)
		return LCR_OK;
	data = malloc(alloc + 1);
	if (data == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory reading %s", archive_entry_pathname(entry));
	for (;;) {
		la_ssize_t n;

		if (len == alloc) {
			unsigned char *grown;

			if (alloc >= cap) {
				if (truncate)
					break;
				free(data);
				return LCR_OK;
			}
			alloc = alloc * 2 < cap ? alloc * 2 : cap;
			grown = realloc(data, alloc + 1);
			if (grown == NULL) {
				free(data);
				return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory reading %s",
						archive_entry_pathname(entry));
			}
			data = grown;
		}
		n = archive_read_data(a, data + len, alloc - len);
		if (n < 0) {
			lcr_fail(LCR_ERR_UNSUPPORTED, err, errlen, "cannot read %s: %s", archive_entry_pathname(entry),
				 archive_error_string(a));
			free(data);
			return LCR_ERR_UNSUPPORTED;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	data[len] = '\0';
	*out_data = data;
	*out_len = len;
	return LCR_OK;
}

/* Read a jar entry and replace its data with the pom.properties found in
 * it; *out_data is NULL when there are none. */
static int jar_read(struct archive *a, struct archive_entry *entry, unsigned char **out_data, size_t *out_len,
		    char *err, size_t errlen)
{
	unsigned char *jar = NULL;
	size_t jar_len = 0;
	struct buf poms;
	int status;

	*out_data = NULL;
	*out_len = 0;
	status = entry_read(a, entry, SCAN_CAP_JAR, false, &jar, &jar_len, err, errlen);
	if (status != LCR_OK || jar == NULL)
		return status;
	buf_init(&poms, JAR_POMS_MAX);
	if (jar_extract_poms(jar, jar_len, 1, "", &poms) > 0) {
		*out_data = (unsigned char *)poms.data;
		*out_len = poms.len;
		poms.data = NULL;
	}
	buf_release(&poms);
	free(jar);
	return LCR_OK;
}

/* Handle one non-directory, non-whiteout entry. */
static int entry_process(struct scan_file_set *set, struct layer_changes *changes, struct archive *a,
			 struct archive_entry *entry, const char *path, size_t layer, const char *digest, char *err,
			 size_t errlen)
{
	enum scan_file_kind kind;
	unsigned char *data = NULL;
	size_t len = 0, cap = 0;
	void *found;
	int status;

	/* A non-directory hides an earlier directory at its path. */
	if (str_map_find(&set->kept_dirs, path, NULL) && !str_map_put(&changes->deleted, path, NULL))
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");

	kind = scan_path_classify(path, &cap);
	if (kind == SCAN_FILE_NONE || archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != NULL) {
		if (str_map_find(&set->files, path, &found) && ((struct scan_file *)found)->present)
			file_drop(set, found);
		return LCR_OK;
	}
	if (kind == SCAN_FILE_JAR)
		status = jar_read(a, entry, &data, &len, err, errlen);
	else
		status = entry_read(a, entry, cap, kind == SCAN_FILE_PYTHON_METADATA, &data, &len, err, errlen);
	if (status != LCR_OK)
		return status;
	if (data == NULL) {
		if (kind != SCAN_FILE_JAR)
			log_warn("scanner: layer %s: skipped %s, larger than its %zu-byte cap", digest, path, cap);
		if (str_map_find(&set->files, path, &found) && ((struct scan_file *)found)->present)
			file_drop(set, found);
		return LCR_OK;
	}
	return file_keep(set, path, kind, layer, data, len, err, errlen);
}

static const char *entry_path(struct archive_entry *entry)
{
	const char *path = archive_entry_pathname(entry);

	return path != NULL ? path : archive_entry_pathname_utf8(entry);
}

static int layer_walk(struct scan_file_set *set, struct archive *a, size_t layer, const char *digest,
		      struct layer_changes *changes, char *err, size_t errlen)
{
	struct archive_entry *entry;
	char path[SCAN_PATH_MAX];
	int r, status;

	for (;;) {
		r = archive_read_next_header(a, &entry);
		if (r == ARCHIVE_EOF)
			return LCR_OK;
		if (r == ARCHIVE_RETRY)
			continue;
		if (r < ARCHIVE_WARN)
			return lcr_fail(LCR_ERR_UNSUPPORTED, err, errlen, "not a readable tar archive: %s",
					archive_error_string(a));
		const char *raw = entry_path(entry);
		const char *name;

		if (raw == NULL || !path_normalize(raw, path, sizeof(path)) || path[0] == '\0')
			continue;
		name = strrchr(path, '/');
		name = name ? name + 1 : path;
		if (starts_with(name, ".wh.")) {
			if (!whiteout_record(changes, path))
				return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
			continue;
		}
		if (archive_entry_filetype(entry) == AE_IFDIR)
			continue;
		status = entry_process(set, changes, a, entry, path, layer, digest, err, errlen);
		if (status != LCR_OK)
			return status;
	}
}

static int layer_read(struct scan_file_set *set, const struct scan_layer *layer, size_t index, char *err,
		      size_t errlen)
{
	struct archive *a = NULL;
	struct layer_changes changes;
	char detail[512] = "";
	int fd = -1;
	int status = LCR_OK;

	str_map_init(&changes.deleted);
	str_map_init(&changes.opaque);
	if (layer->media_type != NULL && strstr(layer->media_type, "+encrypted") != NULL) {
		status = lcr_fail(LCR_ERR_UNSUPPORTED, err, errlen, "layer %s is encrypted (%s)", layer->digest,
				  layer->media_type);
		goto done;
	}
	fd = open(layer->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "layer %s: cannot open %s: %s", layer->digest,
				  layer->path, strerror(errno));
		goto done;
	}
	a = archive_read_new();
	if (a == NULL) {
		status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "out of memory");
		goto done;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_fd(a, fd, LAYER_READ_BLOCK) != ARCHIVE_OK) {
		status = lcr_fail(LCR_ERR_UNSUPPORTED, err, errlen, "layer %s is not a readable tar archive: %s",
				  layer->digest, archive_error_string(a));
		goto done;
	}
	status = layer_walk(set, a, index, layer->digest, &changes, detail, sizeof(detail));
	if (status != LCR_OK) {
		lcr_fail(status, err, errlen, "layer %s: %s", layer->digest, detail);
		goto done;
	}
	layer_changes_apply(set, &changes, index);
done:
	if (a != NULL)
		archive_read_free(a);
	if (fd >= 0)
		close(fd);
	str_map_release(&changes.deleted, NULL);
	str_map_release(&changes.opaque, NULL);
	return status;
}

int scan_layers_read(const struct scan_layer *layers, size_t nlayers, struct scan_file_set *set, char *err,
		     size_t errlen)
{
	int status;

	for (size_t i = 0; i < nlayers; i++) {
		status = layer_read(set, &layers[i], i, err, errlen);
		if (status != LCR_OK)
			return status;
	}
	return LCR_OK;
}

/* ---- jars ---- */

static bool is_pom_properties(const char *name)
{
	return starts_with(name, "META-INF/maven/") && ends_with(name, strlen(name), "/pom.properties");
}

size_t jar_extract_poms(const void *data, size_t len, int depth, const char *prefix, struct buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	size_t found = 0;
	int r;

	if (a == NULL)
		return 0;
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK)
		goto done;
	while ((r = archive_read_next_header(a, &entry)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = entry_path(entry);
		bool nested = depth > 0 && name != NULL && ends_with(name, strlen(name), ".jar");
		unsigned char *content = NULL;
		size_t content_len = 0;
		char detail[256];

		if (name == NULL || (!is_pom_properties(name) && !nested))
			continue;
		if (entry_read(a, entry, nested ? SCAN_CAP_NESTED_JAR : SCAN_CAP_POM_PROPERTIES, false, &content,
			       &content_len, detail, sizeof(detail)) != LCR_OK ||
		    content == NULL)
			continue;
		if (nested) {
			char *inner_prefix = NULL;

			if (asprintf(&inner_prefix, "%s%s!", prefix, name) >= 0)
				found += jar_extract_poms(content, content_len, depth - 1, inner_prefix, out);
			free(inner_prefix);
		} else if (buf_appendf(out, "%s%s%s\n", SCAN_POM_MARKER, prefix, name) &&
			   buf_append(out, content, content_len) && buf_append(out, "\n", 1)) {
			found++;
		}
		free(content);
	}
done:
	archive_read_free(a);
	return found;
}
