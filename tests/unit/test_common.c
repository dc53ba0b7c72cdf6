/* test_common.c - digests, base64, names and tags. */
#include "check.h"

#include <stdlib.h>

#include "../../common/buf.h"
#include "../../common/clock.h"
#include "../../common/digest.h"
#include "../../common/status.h"
#include "../../registry/registry.h"

static void test_digest(void)
{
	char d[DIGEST_BUF];

	digest_of("", 0, d);
	CHECK_STR(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK(digest_valid(d));
	CHECK(!digest_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
	CHECK(!digest_valid("sha256:abc"));
	CHECK(!digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK(digest_syntax("sha512:abc"));
	CHECK(digest_syntax("sha256+b64u:abc_-="));
	CHECK(!digest_syntax("latest"));
	CHECK(!digest_syntax("Sha256:abc"));
	CHECK(!digest_syntax(":abc"));
}

static void test_base64(void)
{
	size_t len = 0;
	char *e = base64_encode("AWS:secret", 10);
	unsigned char *d;

	CHECK_STR(e, "QVdTOnNlY3JldA==");
	d = base64_decode(e, &len);
	CHECK(d != NULL && len == 10 && memcmp(d, "AWS:secret", 10) == 0);
	free(d);
	free(e);
	CHECK(base64_decode("abc", &len) == NULL);
	CHECK(base64_decode("ab!d", &len) == NULL);
	e = base64url_encode("\xfb\xff", 2);
	CHECK_STR(e, "-_8");
	d = base64url_decode(e, &len);
	CHECK(d != NULL && len == 2 && d[0] == 0xfb && d[1] == 0xff);
	free(d);
	free(e);
	CHECK(base64url_decode("a+b", &len) == NULL);
}

static void test_repository_names(void)
{
	static const char *valid[] = {"ab", "my-app", "team/app", "a.b_c__d---e/f0", "0digit"};
	static const char *invalid[] = {"a", "UPPER", "-lead", "trail-", "a//b", "/a", "a/", "a_-b", "a___b", "sp ace"};
	char err[512];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		CHECK(registry_repository_name_check(valid[i], err, sizeof(err)) == LCR_OK);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		int status = registry_repository_name_check(invalid[i], err, sizeof(err));

		if (status == LCR_OK)
			fprintf(stderr, "name '%s' was accepted\n", invalid[i]);
		CHECK(status == LCR_ERR_INVALID_PARAMETER);
	}
	registry_repository_name_check("a", err, sizeof(err));
	CHECK(strstr(err, "Invalid parameter at 'repositoryName'") != NULL);
}

static void test_tags(void)
{
	char long_tag[302];

	CHECK(registry_tag_valid_oci("latest"));
	CHECK(registry_tag_valid_oci("_v1.0-rc"));
	CHECK(!registry_tag_valid_oci(".hidden"));
	CHECK(!registry_tag_valid_oci("-dash"));
	CHECK(!registry_tag_valid_oci(""));
	CHECK(!registry_tag_valid_oci("a/b"));
	memset(long_tag, 'a', 129);
	long_tag[129] = '\0';
	CHECK(!registry_tag_valid_oci(long_tag));
	CHECK(registry_tag_valid_ecr(long_tag));
	memset(long_tag, 'a', 301);
	long_tag[301] = '\0';
	CHECK(!registry_tag_valid_ecr(long_tag));
}

static void test_buf_max(void)
{
	struct buf b;

	buf_init(&b, 8);
	CHECK(buf_append(&b, "12345", 5));
	CHECK(!buf_append(&b, "6789", 4));
	CHECK(b.len == 5);
	CHECK(buf_appendf(&b, "%d", 678));
	CHECK_STR(b.data, "12345678");
	CHECK(!buf_appendf(&b, "x"));
	buf_release(&b);
}

static void test_clock(void)
{
	double t = 0;
	char text[64];

	CHECK(clock_parse_rfc3339("2024-01-01T00:00:00Z", &t) == 0);
	CHECK(t == 1704067200.0);
	CHECK(clock_parse_rfc3339("2024-01-01T02:00:00+02:00", &t) == 0);
	CHECK(t == 1704067200.0);
	CHECK(clock_parse_rfc3339("2024-01-01", &t) == -1);
	clock_format_rfc3339(1704067200.0, text, sizeof(text));
	CHECK_STR(text, "2024-01-01T00:00:00Z");
	clock_set(1704067200.0);
	CHECK(clock_now() >= 1704067200.0 && clock_now() < 1704067260.0);
}

static void test_status_table(void)
{
	for (int s = 1; s < LCR_STATUS_COUNT; s++) {
		const struct lcr_status_info *info = lcr_status_info(s);

		CHECK(info->name != NULL && info->ecr_exception != NULL && info->oci_code != NULL);
		CHECK(info->ecr_http_status >= 400 && info->oci_http_status >= 400);
	}
}

int main(void)
{
	test_digest();
	test_base64();
	test_repository_names();
	test_tags();
	test_buf_max();
	test_clock();
	test_status_table();
	return check_summary();
}
