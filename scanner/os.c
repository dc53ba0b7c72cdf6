/*
 * os.c - the image's operating system: os-release parsing, ECR's
 * basic-scanning support table and the OSV ecosystem of OS packages.
 *
 * os-release(5) is a list of KEY=value lines; values may be quoted with
 * double or single quotes, and inside double quotes a backslash escapes the
 * next character.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner_int.h"

/* Copy an os-release value (after the "=") into out, unquoted. */
static void value_copy(const char *p, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	char quote = 0;

	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		len--;
	if (len > 0 && (p[0] == '"' || p[0] == '\'')) {
		quote = p[0];
		p++;
		len--;
	}
	for (size_t i = 0; i < len && n + 1 < outlen; i++) {
		if (quote != 0 && p[i] == quote)
			break;
		if (quote == '"' && p[i] == '\\' && i + 1 < len)
			i++;
		out[n++] = p[i];
	}
	out[n] = '\0';
}

void os_release_parse(const char *data, size_t len, struct os_release *out)
{
	static const struct {
		const char *key;
		size_t offset;
		size_t size;
	} keys[] = {
		{"ID", offsetof(struct os_release, id), sizeof(out->id)},
		{"VERSION_ID", offsetof(struct os_release, version_id), sizeof(out->version_id)},
		{"PRETTY_NAME", offsetof(struct os_release, pretty_name), sizeof(out->pretty_name)},
		{"ID_LIKE", offsetof(struct os_release, id_like), sizeof(out->id_like)},
	};
	const char *end = data + len;

	memset(out, 0, sizeof(*out));
	while (data < end) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		const char *line_end = nl ? nl : end;
		const char *eq = memchr(data, '=', (size_t)(line_end - data));

		for (size_t i = 0; eq != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t key_len = strlen(keys[i].key);

			if ((size_t)(eq - data) == key_len && memcmp(data, keys[i].key, key_len) == 0)
				value_copy(eq + 1, (size_t)(line_end - eq - 1), (char *)out + keys[i].offset,
					   keys[i].size);
		}
		data = nl ? nl + 1 : end;
	}
}

/* The part of version before the first "." (all of it when none). */
static void version_major(const char *version, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.*s", (int)strcspn(version, "."), version);
}

/* "major.minor" of version. */
static void version_major_minor(const char *version, char *out, size_t outlen)
{
	const char *dot = strchr(version, '.');
	size_t n = dot == NULL ? strlen(version) : (size_t)(dot - version) + 1 + strcspn(dot + 1, "._-");

	snprintf(out, outlen, "%.*s", (int)n, version);
}

static bool word_in(const char *word, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(word, list[i]) == 0)
			return true;
	}
	return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The operating systems ECR's native basic scanning supports, after the
 * AWS ECR user guide's list: Alpine 3.19-3.23, AlmaLinux 8/9/10, Amazon
 * Linux 2 and 2023, Debian 11/12/13, Fedora 41, openSUSE Leap 15.6, Oracle
 * Linux 8/9, Photon OS 4/5, RHEL 8/9/10, Rocky Linux 8/9, SLES 15.6, and
 * Ubuntu 16.04, 18.04, 20.04, 22.04, 24.04 and 24.10. */
bool os_release_supported(const char *id, const char *version_id)
{
	static const char *const debian[] = {"11", "12", "13"};
	static const char *const ubuntu[] = {"16.04", "18.04", "20.04", "22.04", "24.04", "24.10"};
	static const char *const alpine[] = {"3.19", "3.20", "3.21", "3.22", "3.23"};
	static const char *const amzn[] = {"2", "2023"};
	static const char *const el_8_9_10[] = {"8", "9", "10"};
	static const char *const el_8_9[] = {"8", "9"};
	static const char *const fedora[] = {"41"};
	static const char *const suse[] = {"15.6"};
	static const char *const photon[] = {"4", "5"};
	char major[64], major_minor[64];

	version_major(version_id, major, sizeof(major));
	version_major_minor(version_id, major_minor, sizeof(major_minor));
	if (strcmp(id, "debian") == 0)
		return word_in(major, debian, COUNT(debian));
	if (strcmp(id, "ubuntu") == 0)
		return word_in(version_id, ubuntu, COUNT(ubuntu));
	if (strcmp(id, "alpine") == 0)
		return word_in(major_minor, alpine, COUNT(alpine));
	if (strcmp(id, "amzn") == 0)
		return word_in(version_id, amzn, COUNT(amzn));
	if (strcmp(id, "rhel") == 0 || strcmp(id, "almalinux") == 0)
		return word_in(major, el_8_9_10, COUNT(el_8_9_10));
	if (strcmp(id, "rocky") == 0 || strcmp(id, "ol") == 0)
		return word_in(major, el_8_9, COUNT(el_8_9));
	if (strcmp(id, "fedora") == 0)
		return word_in(version_id, fedora, COUNT(fedora));
	if (strcmp(id, "opensuse-leap") == 0 || strcmp(id, "sles") == 0)
		return word_in(major_minor, suse, COUNT(suse));
	if (strcmp(id, "photon") == 0)
		return word_in(major, photon, COUNT(photon));
	return false;
}

/* The ecosystem of OS packages by os-release ID, named as OSV names it:
 * "%M" is the major version, "%V" VERSION_ID, "%m" major.minor and "%S"
 * the SUSE service pack form.
 * NOTE: OSV has no Amazon Linux, Oracle Linux, Fedora or CentOS
 * ecosystems, so the names used for them here only match a database that
 * uses the same names. */
static const struct {
	const char *id;
	const char *pattern;
} ecosystems[] = {
	{"debian", "Debian:%M"},
	{"ubuntu", "Ubuntu:%V"},
	{"alpine", "Alpine:v%m"},
	{"rhel", "Red Hat:enterprise_linux:%M"},
	{"rocky", "Rocky Linux:%M"},
	{"almalinux", "AlmaLinux:%M"},
	{"amzn", "Amazon Linux:%V"},
	{"ol", "Oracle Linux:%M"},
	{"fedora", "Fedora:%V"},
	{"centos", "CentOS:%M"},
	{"opensuse-leap", "openSUSE:Leap %V"},
	{"sles", "SUSE:Linux Enterprise Server %S"},
	{"photon", "Photon OS:%V"},
	{"wolfi", "Wolfi"},
	{"chainguard", "Chainguard"},
};

/* Expand pattern for version into out. */
static void pattern_expand(const char *pattern, const char *version, char *out, size_t outlen)
{
	char major[64], major_minor[64], sp[80];
	size_t n = 0;

	version_major(version, major, sizeof(major));
	version_major_minor(version, major_minor, sizeof(major_minor));
	/* SUSE names service packs: VERSION_ID 15.6 is "15 SP6". */
	if (strchr(version, '.') != NULL)
		snprintf(sp, sizeof(sp), "%s SP%s", major, strchr(version, '.') + 1);
	else
		snprintf(sp, sizeof(sp), "%s", major);
	for (const char *p = pattern; *p != '\0' && n + 1 < outlen; p++) {
		const char *insert = NULL;

		if (p[0] == '%' && p[1] != '\0') {
			p++;
			if (*p == 'M')
				insert = major;
			else if (*p == 'V')
				insert = version;
			else if (*p == 'm')
				insert = major_minor;
			else if (*p == 'S')
				insert = sp;
			else
				insert = "";
			n += (size_t)snprintf(out + n, outlen - n, "%s", insert);
			if (n >= outlen)
				n = outlen - 1;
			continue;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
}

void os_ecosystem(const struct os_release *os, const char *package_manager, char *out, size_t outlen)
{
	for (size_t i = 0; i < COUNT(ecosystems); i++) {
		if (strcmp(os->id, ecosystems[i].id) != 0)
			continue;
		if (os->version_id[0] == '\0') {
			snprintf(out, outlen, "%.*s", (int)strcspn(ecosystems[i].pattern, ":"), ecosystems[i].pattern);
			return;
		}
		pattern_expand(ecosystems[i].pattern, os->version_id, out, outlen);
		return;
	}
	/* Unknown or missing os-release: the family's bare name, which only
	 * advisories that cover every release of it match. */
	if (strcmp(package_manager, "dpkg") == 0)
		snprintf(out, outlen, "%s", strstr(os->id_like, "ubuntu") != NULL ? "Ubuntu" : "Debian");
	else if (strcmp(package_manager, "apk") == 0)
		snprintf(out, outlen, "Alpine");
	else
		snprintf(out, outlen, "Red Hat");
}
