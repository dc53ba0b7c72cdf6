/*
 * tls.c - HTTPS with a local certificate authority (--tls).
 *
 * On first use localecr creates a CA (ca.pem and ca-key.pem, EC P-256, ten
 * years) in the data directory; on every start it issues a server
 * certificate from it (server.pem, server-key.pem) for localhost, the
 * loopback addresses, the host of --listen, the registry names
 * *.dkr.ecr.<region>.<suffix> and *.dkr.ecr.<region>.amazonaws.com and the
 * API names api.ecr.<region>.amazonaws.com and ecr.<region>.amazonaws.com, so
 * docker and the amazon-ecr-credential-helper can reach it under an
 * ECR-shaped name once the CA is trusted (`localecr ca print`).  Keys are
 * written to a temporary file, mode 0600, then renamed.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../common/log.h"
#include "../common/status.h"

#define CA_DAYS 3650
#define SERVER_DAYS 825

static char *pem_of_key(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *copy = NULL;
	long len;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
		len = BIO_get_mem_data(bio, &data);
		copy = strndup(data, (size_t)len);
	}
	BIO_free(bio);
	return copy;
}

static char *pem_of_cert(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *copy = NULL;
	long len;

	if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1) {
		len = BIO_get_mem_data(bio, &data);
		copy = strndup(data, (size_t)len);
	}
	BIO_free(bio);
	return copy;
}

static int write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[1200], tmp[1300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	chmod(tmp, mode);
	if (fputs(text, f) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fclose(f);
	return rename(tmp, path);
}

static char *read_text(const char *dir, const char *name)
{
	char path[1200];
	FILE *f;
	char *text = NULL;
	size_t cap = 0, len = 0;
	int c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	while ((c = fgetc(f)) != EOF) {
		if (len + 2 > cap) {
			char *grown = realloc(text, cap = cap ? cap * 2 : 4096);

			if (grown == NULL)
				break;
			text = grown;
		}
		text[len++] = (char)c;
	}
	fclose(f);
	if (text != NULL)
		text[len] = '\0';
	return text;
}

static void add_extension(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext != NULL) {
		X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
	}
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, int days)
{
	X509 *cert = X509_new();
	unsigned char serial[16];
	BIGNUM *bn;

	random_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	X509_set_version(cert, 2);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400);
	X509_set_pubkey(cert, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "O", MBSTRING_ASC, (const unsigned char *)"localecr", -1,
				   -1, 0);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	return cert;
}

/* Load the CA from the data directory, creating it on first use. */
static int load_or_create_ca(const char *dir, EVP_PKEY **out_key, X509 **out_cert, char *err, size_t errlen)
{
	char *key_pem = read_text(dir, "ca-key.pem"), *cert_pem = read_text(dir, "ca.pem");
	BIO *bio;

	*out_key = NULL;
	*out_cert = NULL;
	if (key_pem != NULL && cert_pem != NULL) {
		bio = BIO_new_mem_buf(key_pem, -1);
		*out_key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
		bio = BIO_new_mem_buf(cert_pem, -1);
		*out_cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	free(key_pem);
	free(cert_pem);
	if (*out_key != NULL && *out_cert != NULL)
		return LCR_OK;
	EVP_PKEY_free(*out_key);
	X509_free(*out_cert);
	*out_key = EVP_EC_gen("P-256");
	if (*out_key == NULL)
		return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot generate the CA key");
	*out_cert = new_cert(*out_key, "localecr local CA", CA_DAYS);
	X509_set_issuer_name(*out_cert, X509_get_subject_name(*out_cert));
	add_extension(*out_cert, *out_cert, NID_basic_constraints, "critical,CA:TRUE");
	add_extension(*out_cert, *out_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_extension(*out_cert, *out_cert, NID_subject_key_identifier, "hash");
	X509_sign(*out_cert, *out_key, EVP_sha256());
	{
		char *k = pem_of_key(*out_key), *c = pem_of_cert(*out_cert);
		int rc = (k && c) ? write_file(dir, "ca-key.pem", k, 0600) | write_file(dir, "ca.pem", c, 0644) : -1;

		free(k);
		free(c);
		if (rc != 0)
			return lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot write the CA to %s: %s", dir, strerror(errno));
	}
	log_info("created a local certificate authority in %s/ca.pem", dir);
	return LCR_OK;
}

int tls_prepare(struct server *srv, char **out_key_pem, char **out_cert_pem, char *err, size_t errlen)
{
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *cert = NULL;
	char san[1024], host[128] = "";
	int status = load_or_create_ca(srv->config.data_dir, &ca_key, &ca, err, errlen);

	*out_key_pem = *out_cert_pem = NULL;
	if (status != LCR_OK)
		return status;
	sscanf(srv->config.listen[0] == '[' ? srv->config.listen + 1 : srv->config.listen, "%127[^]:]", host);
	snprintf(san, sizeof(san),
		 "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:*.dkr.ecr.%s.%s,DNS:*.dkr.ecr.%s.amazonaws.com,"
		 "DNS:api.ecr.%s.amazonaws.com,DNS:ecr.%s.amazonaws.com%s%s%s",
		 srv->config.region, srv->config.registry_suffix, srv->config.region, srv->config.region,
		 srv->config.region,
		 host[0] && strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0 ? "," : "",
		 host[0] && strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0
			 ? (strspn(host, "0123456789.:") == strlen(host) ? "IP:" : "DNS:")
			 : "",
		 host[0] && strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0 ? host : "");
	key = EVP_EC_gen("P-256");
	if (key == NULL) {
		status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot generate the server key");
		goto out;
	}
	cert = new_cert(key, "localhost", SERVER_DAYS);
	X509_set_issuer_name(cert, X509_get_subject_name(ca));
	add_extension(cert, ca, NID_subject_alt_name, san);
	add_extension(cert, ca, NID_basic_constraints, "critical,CA:FALSE");
	add_extension(cert, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment");
	add_extension(cert, ca, NID_ext_key_usage, "serverAuth");
	add_extension(cert, ca, NID_authority_key_identifier, "keyid:always");
	X509_sign(cert, ca_key, EVP_sha256());
	*out_key_pem = pem_of_key(key);
	*out_cert_pem = pem_of_cert(cert);
	if (*out_key_pem == NULL || *out_cert_pem == NULL ||
	    write_file(srv->config.data_dir, "server-key.pem", *out_key_pem, 0600) != 0 ||
	    write_file(srv->config.data_dir, "server.pem", *out_cert_pem, 0644) != 0)
		status = lcr_fail(LCR_ERR_INTERNAL, err, errlen, "cannot write the server certificate");
out:
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	X509_free(ca);
	X509_free(cert);
	return status;
}

int ca_command(int argc, char **argv, const char *default_data_dir)
{
	const char *dir = default_data_dir;
	char *pem;

	if (argc < 1 || strcmp(argv[0], "print") != 0 || (argc == 3 && strcmp(argv[1], "--data-dir") != 0) ||
	    (argc != 1 && argc != 3)) {
		fprintf(stderr, "usage: localecr ca print [--data-dir DIR]\n");
		return 2;
	}
	if (argc == 3)
		dir = argv[2];
	pem = read_text(dir, "ca.pem");
	if (pem == NULL) {
		fprintf(stderr, "localecr: no CA in %s; start the server once with --tls to create it\n", dir);
		return 1;
	}
	fputs(pem, stdout);
	free(pem);
	return 0;
}
