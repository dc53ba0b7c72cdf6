/* test_sigv4.c - SigV4 signing key derivation and signature. */
#include "check.h"

#include "../../server/server.h"

/* The worked example of AWS's "Create a signed AWS API request" guide
 * (IAM ListUsers, 2015-08-30). */
static void test_aws_documented_example(void)
{
	const char *string_to_sign =
		"AWS4-HMAC-SHA256\n"
		"20150830T123600Z\n"
		"20150830/us-east-1/iam/aws4_request\n"
		"f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
	char signature[65];

	CHECK(sigv4_compute("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam", string_to_sign,
			    signature) == 0);
	CHECK_STR(signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

static void test_inputs_change_signature(void)
{
	const char *string_to_sign = "AWS4-HMAC-SHA256\n20240101T000000Z\n20240101/us-east-1/ecr/aws4_request\nabc";
	char a[65], b[65], c[65], d[65];

	sigv4_compute("secret", "20240101", "us-east-1", "ecr", string_to_sign, a);
	sigv4_compute("secret2", "20240101", "us-east-1", "ecr", string_to_sign, b);
	sigv4_compute("secret", "20240101", "eu-west-1", "ecr", string_to_sign, c);
	sigv4_compute("secret", "20240102", "us-east-1", "ecr", string_to_sign, d);
	CHECK(strcmp(a, b) != 0);
	CHECK(strcmp(a, c) != 0);
	CHECK(strcmp(a, d) != 0);
	CHECK(strlen(a) == 64);
}

int main(void)
{
	test_aws_documented_example();
	test_inputs_change_signature();
	return check_summary();
}
