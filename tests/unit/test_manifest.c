/* test_manifest.c - manifest parsing and validation cases. */
#include "check.h"

#include "../../common/status.h"
#include "../../registry/manifest.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

struct parse_case {
	const char *name;
	const char *body;
	const char *content_type;
	int expected_status;
	const char *expected_media_type;
};

static const struct parse_case cases[] = {
	{"oci_manifest_with_field",
	 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1 "\",\"size\":10},"
	 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D2 "\",\"size\":20}]}",
	 NULL, LCR_OK, MEDIA_TYPE_OCI_MANIFEST},
	{"docker_manifest_from_content_type",
	 "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}",
	 MEDIA_TYPE_DOCKER_MANIFEST, LCR_OK, MEDIA_TYPE_DOCKER_MANIFEST},
	{"oci_manifest_inferred_without_type",
	 "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}",
	 NULL, LCR_OK, MEDIA_TYPE_OCI_MANIFEST},
	{"oci_index_inferred_without_type",
	 "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1,"
	 "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
	 NULL, LCR_OK, MEDIA_TYPE_OCI_INDEX},
	{"docker_list",
	 "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_TYPE_DOCKER_LIST "\",\"manifests\":[]}",
	 MEDIA_TYPE_DOCKER_LIST, LCR_OK, MEDIA_TYPE_DOCKER_LIST},
	{"content_type_parameters_ignored",
	 "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_TYPE_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
	 "\",\"size\":1},\"layers\":[]}",
	 MEDIA_TYPE_OCI_MANIFEST "; charset=utf-8", LCR_OK, MEDIA_TYPE_OCI_MANIFEST},
	{"media_type_mismatch",
	 "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_TYPE_OCI_MANIFEST "\",\"config\":{\"digest\":\"" D1
	 "\",\"size\":1},\"layers\":[]}",
	 MEDIA_TYPE_DOCKER_MANIFEST, LCR_ERR_MANIFEST_INVALID, NULL},
	{"schema1_rejected", "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"y\",\"fsLayers\":[]}", NULL,
	 LCR_ERR_MANIFEST_INVALID, NULL},
	{"schema1_content_type_rejected", "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}",
	 MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED, LCR_ERR_MANIFEST_INVALID, NULL},
	{"not_json", "{not json", NULL, LCR_ERR_MANIFEST_INVALID, NULL},
	{"not_object", "[1,2]", NULL, LCR_ERR_MANIFEST_INVALID, NULL},
	{"schema_version_missing", "{\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}", NULL,
	 LCR_ERR_MANIFEST_INVALID, NULL},
	{"config_missing", "{\"schemaVersion\":2,\"layers\":[]}", MEDIA_TYPE_OCI_MANIFEST, LCR_ERR_MANIFEST_INVALID, NULL},
	{"layer_digest_bad",
	 "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[{\"digest\":\"md5:abc\",\"size\":1}]}",
	 NULL, LCR_ERR_MANIFEST_INVALID, NULL},
	{"layer_size_negative",
	 "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[{\"digest\":\"" D2 "\",\"size\":-1}]}",
	 NULL, LCR_ERR_MANIFEST_INVALID, NULL},
	{"unknown_media_type", "{\"schemaVersion\":2,\"mediaType\":\"text/plain\",\"layers\":[]}", NULL,
	 LCR_ERR_MANIFEST_INVALID, NULL},
	{"index_with_layers",
	 "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_TYPE_OCI_INDEX "\",\"manifests\":[],\"layers\":[]}", NULL,
	 LCR_ERR_MANIFEST_INVALID, NULL},
	{"duplicate_keys_rejected",
	 "{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}", NULL,
	 LCR_ERR_MANIFEST_INVALID, NULL},
	{"bad_subject",
	 "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[],\"subject\":{\"size\":1}}",
	 NULL, LCR_ERR_MANIFEST_INVALID, NULL},
};

static void test_parse_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct manifest_info info;
		char err[512] = "";
		int status = manifest_parse(cases[i].body, strlen(cases[i].body), cases[i].content_type, &info, err,
					    sizeof(err));

		if (status != cases[i].expected_status)
			fprintf(stderr, "case %s: status %d (%s), expected %d\n", cases[i].name, status, err,
				cases[i].expected_status);
		CHECK(status == cases[i].expected_status);
		if (status == LCR_OK && cases[i].expected_media_type != NULL)
			CHECK_STR(info.media_type, cases[i].expected_media_type);
		if (status != LCR_OK)
			CHECK(err[0] != '\0');
		manifest_info_release(&info);
	}
}

static void test_image_fields(void)
{
	const char *body =
		"{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_TYPE_OCI_MANIFEST "\",\"artifactType\":\"text/sbom\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" D1 "\",\"size\":2},"
		"\"layers\":[{\"digest\":\"" D2 "\",\"size\":20},{\"digest\":\"" D1 "\",\"size\":22,\"urls\":[\"http://x\"]}],"
		"\"subject\":{\"digest\":\"" D2 "\",\"size\":5}}";
	struct manifest_info info;
	char err[256];

	CHECK(manifest_parse(body, strlen(body), NULL, &info, err, sizeof(err)) == LCR_OK);
	CHECK(info.kind == MANIFEST_KIND_IMAGE);
	CHECK(info.nlayers == 2);
	CHECK(info.layers_size == 42);
	CHECK(info.layers[1].has_urls);
	CHECK(!info.layers[0].has_urls);
	CHECK_STR(info.config.media_type, "application/vnd.oci.empty.v1+json");
	CHECK_STR(info.artifact_type, "text/sbom");
	CHECK_STR(info.subject_digest, D2);
	manifest_info_release(&info);
}

static void test_index_platforms(void)
{
	const char *body = "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_TYPE_OCI_INDEX "\",\"manifests\":["
			   "{\"digest\":\"" D1 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
			   "{\"digest\":\"" D2 "\",\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\","
			   "\"variant\":\"v8\"}}]}";
	struct manifest_info info;
	char err[256];

	CHECK(manifest_parse(body, strlen(body), MEDIA_TYPE_OCI_INDEX, &info, err, sizeof(err)) == LCR_OK);
	CHECK(info.kind == MANIFEST_KIND_INDEX);
	CHECK(info.nmanifests == 2);
	CHECK_STR(info.manifests[0].platform_arch, "amd64");
	CHECK_STR(info.manifests[1].platform_variant, "v8");
	manifest_info_release(&info);
}

int main(void)
{
	test_parse_cases();
	test_image_fields();
	test_index_platforms();
	return check_summary();
}
