/* digest.c - sha256 digests, base64 and random identifiers over OpenSSL. */
#include "digest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

bool digest_valid(const char *s)
{
	if (s == NULL || strncmp(s, "sha256:", 7) != 0 || strlen(s) != DIGEST_LEN)
		return false;
	for (s += 7; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* OCI image spec: algorithm ::= component (separator component)*,
 * component ::= [a-z0-9]+, separator ::= [+._-], then ':' and [a-zA-Z0-9=_-]+. */
bool digest_syntax(const char *s)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL || colon == s || colon[1] == '\0')
		return false;
	for (const char *p = s; p < colon; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("+._-", *p)))
			return false;
	for (const char *p = colon + 1; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || strchr("=_-", *p)))
			return false;
	return true;
}

void digest_hex(const unsigned char *raw, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * len] = '\0';
}

void digest_of(const void *data, size_t len, char out[DIGEST_BUF])
{
	unsigned char raw[SHA256_DIGEST_LENGTH];

	SHA256(data, len, raw);
	memcpy(out, "sha256:", 7);
	digest_hex(raw, sizeof(raw), out + 7);
}

char *base64_encode(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

unsigned char *base64_decode(const char *text, size_t *out_len)
{
	size_t len = strlen(text);
	unsigned char *out;
	int n;
	size_t pad = 0;

	if (len % 4 != 0)
		return NULL;
	out = malloc(3 * (len / 4) + 1);
	if (out == NULL)
		return NULL;
	n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts padding bytes as data; remove them. */
	if (len > 0 && text[len - 1] == '=')
		pad++;
	if (len > 1 && text[len - 2] == '=')
		pad++;
	*out_len = (size_t)n - pad;
	out[*out_len] = '\0';
	return out;
}

char *base64url_encode(const void *data, size_t len)
{
	char *out = base64_encode(data, len);
	size_t n;

	if (out == NULL)
		return NULL;
	for (n = 0; out[n] != '\0'; n++) {
		if (out[n] == '+')
			out[n] = '-';
		else if (out[n] == '/')
			out[n] = '_';
	}
	while (n > 0 && out[n - 1] == '=')
		out[--n] = '\0';
	return out;
}

unsigned char *base64url_decode(const char *text, size_t *out_len)
{
	size_t len = strlen(text);
	char *std = malloc(len + 4);
	unsigned char *out;
	size_t i;

	if (std == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		char c = text[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '+' || c == '/' || c == '=') {
			free(std);
			return NULL;
		}
		std[i] = c;
	}
	while (i % 4 != 0)
		std[i++] = '=';
	std[i] = '\0';
	out = base64_decode(std, out_len);
	free(std);
	return out;
}

bool random_bytes(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1;
}

void uuid_generate_v4(char out[UUID_BUF])
{
	unsigned char b[16];
	char hex[33];

	if (!random_bytes(b, sizeof(b)))
		abort();
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	digest_hex(b, sizeof(b), hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}

bool uuid_valid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

bool constant_time_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return false;
	return CRYPTO_memcmp(a, b, alen) == 0;
}
