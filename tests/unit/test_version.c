/* test_version.c - version order in each ecosystem's scheme, as tables of
 * (a, b, expected sign of compare(a, b)); every case is also checked
 * reversed. */
#include "check.h"

#include "../../scanner/scanner_int.h"

struct version_case {
	const char *a;
	const char *b;
	int expected;
};

static const struct version_case dpkg_cases[] = {
	{"1.0", "1.0", 0},
	{"1.0", "1.1", -1},
	{"1:1.0", "2.0", 1},
	{"0:1.0", "1.0", 0},
	{"2:1.0", "10:0.1", -1},
	{"1:0.1", "0:9.9", 1},
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~~", "1.0~", -1},
	{"1.0~", "1.0", -1},
	{"1.0-1", "1.0-2", -1},
	{"1.0-1", "1.0", 1},
	{"1.0", "1.0-0", 0},
	{"1.0a", "1.0", 1},
	{"1.0a", "1.0+", -1},
	{"1.0+", "1.0.", -1},
	{"1.0+dfsg-1", "1.0-1", 1},
	{"1.0-a", "1.0-1", 1},
	{"2.36-9+deb12u4", "2.36-9+deb12u3", 1},
	{"2.36-9+deb12u10", "2.36-9+deb12u9", 1},
	{"7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1},
	{"1.2.3-1ubuntu1", "1.2.3-1", 1},
	{"1.0-1~bpo1", "1.0-1", -1},
	{"3.0.11-1~deb12u2", "3.0.11-1~deb12u1", 1},
	{"10", "9", 1},
	{"010", "10", 0},
	{"1.2.13.dfsg-1", "1.2.13-1", 1},
	{"a", "b", -1},
};

static const struct version_case rpm_cases[] = {
	{"1.0", "1.0", 0},
	{"1.0", "2.0", -1},
	{"2.0.1", "2.0", 1},
	{"2.0", "2.0.1", -1},
	{"2.0.1a", "2.0.1", 1},
	{"5.5p1", "5.5p2", -1},
	{"5.5p10", "5.5p1", 1},
	{"10xyz", "10.1xyz", -1},
	{"xyz10", "xyz10.1", -1},
	{"xyz.4", "8", -1},
	{"1b.fc17", "1.fc17", -1},
	{"2.0", "2_0", 0},
	{"2.0a", "2.0.a", 0},
	{"4.999.9", "5.0", -1},
	{"20101121", "20101122", -1},
	{"1.0~rc1", "1.0", -1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~rc1~git123", "1.0~rc1", -1},
	{"1.0^", "1.0", 1},
	{"1.0^git1", "1.0", 1},
	{"1.0^git1", "1.01", -1},
	{"1.0^20160101", "1.0.1", -1},
	{"1.0^20160101^git1", "1.0^20160101", 1},
	{"1.0~rc1^git1", "1.0~rc1", 1},
	{"1.0^git1~pre", "1.0^git1", -1},
	{"1:1.0-1", "2.0-1", 1},
	{"0:1.0-1", "1.0-1", 0},
	{"1.0-1.el9", "1.0-2.el9", -1},
	{"3.0.7-25.el9", "3.0.7-24.el9_3", 1},
	{"1.0", "1.0-1", -1},
	{"2:3.0-1", "1:9.0-1", 1},
};

static const struct version_case apk_cases[] = {
	{"1.0", "1.0", 0},
	{"1.0", "1.1", -1},
	{"1.0", "1.0.1", -1},
	{"2.10", "2.9", 1},
	{"1.01", "1.1", -1},
	{"1.0-r1", "1.0-r2", -1},
	{"1.0-r10", "1.0-r9", 1},
	{"1.0", "1.0-r1", -1},
	{"1.36.1-r15", "1.36.1-r2", 1},
	{"1.0_rc1", "1.0", -1},
	{"1.0_alpha", "1.0_beta", -1},
	{"1.0_beta", "1.0_pre", -1},
	{"1.0_pre", "1.0_rc", -1},
	{"1.0_rc1", "1.0_rc2", -1},
	{"1.0_p1", "1.0", 1},
	{"1.0_git20230101", "1.0", 1},
	{"1.0_cvs", "1.0_svn", -1},
	{"1.0_hg", "1.0_p", -1},
	{"1.0_rc1_p1", "1.0_rc1", 1},
	{"1.0a", "1.0", 1},
	{"1.0a", "1.0b", -1},
	{"1.0a", "1.0.1", -1},
	{"1.2.3_rc1-r0", "1.2.3-r0", -1},
	{"1.0_p1-r1", "1.0_p1-r0", 1},
	{"3.0.11-r0", "3.0.12-r0", -1},
	{"20230101", "20221231", 1},
};

static const struct version_case pep440_cases[] = {
	{"1.0", "1.0.0", 0},
	{"1.0", "1.1", -1},
	{"1.0.0.0.1", "1.0", 1},
	{"1!0.1", "2.0", 1},
	{"1.0a1", "1.0", -1},
	{"1.0a1", "1.0b1", -1},
	{"1.0b2", "1.0rc1", -1},
	{"1.0rc1", "1.0c1", 0},
	{"1.0alpha1", "1.0a1", 0},
	{"1.0-rc.1", "1.0rc1", 0},
	{"1.0a", "1.0a0", 0},
	{"2.0.0rc1", "2.0.0", -1},
	{"1.0.dev1", "1.0a1", -1},
	{"1.0a1.dev1", "1.0a1", -1},
	{"1.0.DEV2", "1.0.dev10", -1},
	{"1.0.post1", "1.0", 1},
	{"1.0-1", "1.0.post1", 0},
	{"1.0rev1", "1.0.post1", 0},
	{"1.0_post_2", "1.0.post2", 0},
	{"1.0.post1.dev1", "1.0.post1", -1},
	{"1.0.post1.dev1", "1.0", 1},
	{"1.0+local", "1.0", 1},
	{"1.0+abc", "1.0+1", -1},
	{"1.0+1.2", "1.0+1", 1},
	{"1.0.dev0", "1.0.dev0+abc", -1},
	{"V1.0", "1.0", 0},
	{"2.31.0", "2.4.0", 1},
};

static const struct version_case semver_cases[] = {
	{"1.0.0", "1.0.0", 0},
	{"1.0.0", "2.0.0", -1},
	{"2.0.0", "2.1.0", -1},
	{"2.1.0", "2.1.1", -1},
	{"10.0.0", "9.0.0", 1},
	{"0.0.1", "0.0.0", 1},
	{"4.17.21", "4.17.4", 1},
	{"1.0.0-alpha", "1.0.0", -1},
	{"1.0.0-alpha", "1.0.0-alpha.1", -1},
	{"1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
	{"1.0.0-alpha.beta", "1.0.0-beta", -1},
	{"1.0.0-beta", "1.0.0-beta.2", -1},
	{"1.0.0-beta.2", "1.0.0-beta.11", -1},
	{"1.0.0-beta.11", "1.0.0-rc.1", -1},
	{"1.0.0-rc.1", "1.0.0", -1},
	{"1.0.0-2", "1.0.0-10", -1},
	{"1.0.0-a", "1.0.0-1", 1},
	{"1.0.0-x-y-z.--", "1.0.0-x-y-z", 1},
	{"1.0.0+build.1", "1.0.0+build.2", 0},
	{"1.0.0-rc.1+build", "1.0.0-rc.1", 0},
	{"v1.2.3", "1.2.3", 0},
	{"=1.2.3", "1.2.3", 0},
	{"1.2", "1.2.0", 0},
	{"1.2.3.4", "1.2.3", 1},
	{"5.4.10.Final", "5.4.9.Final", 1},
};

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void check_table(const char *scheme, const struct version_case *cases, size_t n,
			int (*compare)(const char *, const char *))
{
	for (size_t i = 0; i < n; i++) {
		int forward = sign(compare(cases[i].a, cases[i].b));
		int backward = sign(compare(cases[i].b, cases[i].a));

		if (forward != cases[i].expected || backward != -cases[i].expected)
			fprintf(stderr, "%s: compare(%s, %s) = %d, reversed %d, expected %d\n", scheme, cases[i].a,
				cases[i].b, forward, backward, cases[i].expected);
		CHECK(forward == cases[i].expected);
		CHECK(backward == -cases[i].expected);
	}
}

#define TABLE(name, cases, compare) check_table(name, cases, sizeof(cases) / sizeof(cases[0]), compare)

static void test_dpkg_order(void)
{
	TABLE("dpkg", dpkg_cases, version_compare_dpkg);
}

static void test_rpm_order(void)
{
	TABLE("rpm", rpm_cases, version_compare_rpm);
}

static void test_apk_order(void)
{
	TABLE("apk", apk_cases, version_compare_apk);
}

static void test_pep440_order(void)
{
	TABLE("pep440", pep440_cases, version_compare_pep440);
}

static void test_semver_order(void)
{
	TABLE("semver", semver_cases, version_compare_semver);
}

static void test_ecosystem_dispatch(void)
{
	CHECK(version_compare("Debian:12", "1.0~rc1", "1.0") < 0);
	CHECK(version_compare("Ubuntu:22.04", "1:1.0", "2.0") > 0);
	CHECK(version_compare("Alpine:v3.19", "1.0_rc1", "1.0") < 0);
	CHECK(version_compare("Red Hat:enterprise_linux:9", "1.0^git1", "1.0") > 0);
	CHECK(version_compare("Rocky Linux:9", "1.0~rc1", "1.0") < 0);
	CHECK(version_compare("PyPI", "1.0.post1", "1.0") > 0);
	CHECK(version_compare("npm", "1.0.0-rc.1", "1.0.0") < 0);
	CHECK(version_compare("Maven", "5.4.10.Final", "5.4.9.Final") > 0);
	/* Not a dpkg ecosystem: "~" is an ordinary character in SemVer's
	 * fallback, so the order differs from dpkg's. */
	CHECK(version_compare("npm", "1.0~rc1", "1.0") > 0);
}

static void test_invalid_versions_ordered(void)
{
	static const char *const odd[] = {"", "~", "^", "-", ":", "1:", ":1", "_", "-r", "1.0-r", "1..0", "+", "!", "v"};
	int (*const compares[])(const char *, const char *) = {version_compare_dpkg, version_compare_rpm,
								version_compare_apk, version_compare_pep440,
								version_compare_semver};

	for (size_t c = 0; c < sizeof(compares) / sizeof(compares[0]); c++) {
		for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
			CHECK(compares[c](odd[i], odd[i]) == 0);
			for (size_t j = 0; j < sizeof(odd) / sizeof(odd[0]); j++)
				CHECK(sign(compares[c](odd[i], odd[j])) == -sign(compares[c](odd[j], odd[i])));
		}
	}
}

int main(void)
{
	test_dpkg_order();
	test_rpm_order();
	test_apk_order();
	test_pep440_order();
	test_semver_order();
	test_ecosystem_dispatch();
	test_invalid_versions_ordered();
	return check_summary();
}
