/*
 * digest.c - SHA-256 and HMAC-SHA256 through libcrypto, the only file
 * that includes OpenSSL (scripts/check-layers.sh).  Checked against the
 * FIPS 180-4 and RFC 4231 test vectors in tests/unit/test_lib.c.
 */
#include <errno.h>
#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/digest.h"

int
ew_sha256(const void *data, size_t n, unsigned char out[EW_SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != EW_SHA256_LEN)
		return -EIO;
	return 0;
}

int
ew_sha256_hex(const void *data, size_t n, char out[EW_SHA256_HEXLEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EW_SHA256_LEN];
	size_t i;
	int rc;

	out[0] = '\0';
	if ((rc = ew_sha256(data, n, md)) != 0)
		return rc;
	for (i = 0; i < EW_SHA256_LEN; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * EW_SHA256_LEN] = '\0';
	return 0;
}

int
ew_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
    unsigned char out[EW_SHA256_LEN])
{
	unsigned int len = EW_SHA256_LEN;

	if (keylen > (size_t)INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, msg, n, out, &len) == NULL ||
	    len != EW_SHA256_LEN)
		return -EIO;
	return 0;
}

void
ew_cleanse(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int
ew_ct_memcmp(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n);
}
