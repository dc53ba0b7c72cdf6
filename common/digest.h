/*
 * digest.h - content digests, encodings and random identifiers.
 *
 * localecr stores and accepts only sha256 digests, written
 * "sha256:<64 lowercase hex>" (DIGEST_LEN characters).
 */
#ifndef LCR_DIGEST_H
#define LCR_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_LEN 71      /* strlen("sha256:") + 64 */
#define DIGEST_BUF 72
#define UUID_BUF 37

/* True when s is a well-formed sha256 digest. */
bool digest_valid(const char *s);

/* True when s has the OCI digest grammar algorithm:encoded, whatever the
 * algorithm; used to tell a digest reference from a tag. */
bool digest_syntax(const char *s);

/* Write "sha256:<hex>" of data into out. */
void digest_of(const void *data, size_t len, char out[DIGEST_BUF]);

void digest_hex(const unsigned char *raw, size_t len, char *out);

/* Standard base64 with padding; the result is malloc'd and NUL-terminated. */
char *base64_encode(const void *data, size_t len);
/* Decode standard base64; return NULL on malformed input. *out_len gets the
 * decoded length and the result is NUL-terminated for convenience. */
unsigned char *base64_decode(const char *text, size_t *out_len);

/* URL-safe base64 without padding. */
char *base64url_encode(const void *data, size_t len);
unsigned char *base64url_decode(const char *text, size_t *out_len);

/* Random version-4 UUID, lowercase. */
void uuid_generate_v4(char out[UUID_BUF]);

/* True when s is a lowercase or uppercase hyphenated UUID. */
bool uuid_valid(const char *s);

/* Fill buf with cryptographically strong random bytes; false on failure. */
bool random_bytes(void *buf, size_t len);

/* Compare two byte strings in time independent of where they differ. */
bool constant_time_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
