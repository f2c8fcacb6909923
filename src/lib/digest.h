/*
 * digest.h - SHA-256 and HMAC-SHA256.
 *
 * The one digest of the tree: the raw mail's and the trace-free mail's
 * digests, the policy digests the history records, the hash of an
 * expanded list, SAFECOOKIE's HMAC.  digest.c is the only file that
 * includes OpenSSL (libcrypto).
 */
#ifndef EW_LIB_DIGEST_H
#define EW_LIB_DIGEST_H

#include <stddef.h>

#define EW_SHA256_LEN 32
/* 64 hex digits and a NUL. */
#define EW_SHA256_HEXLEN 65

/* SHA-256 of the n bytes at data.  0, or -ENOMEM/-EIO. */
int ew_sha256(const void *data, size_t n, unsigned char out[EW_SHA256_LEN]);
/* The same as 64 lowercase hex digits. */
int ew_sha256_hex(const void *data, size_t n, char out[EW_SHA256_HEXLEN]);
/* HMAC-SHA256 of msg under key.  0, or -EIO. */
int ew_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
    unsigned char out[EW_SHA256_LEN]);

/* Wipe n bytes of a secret (not optimised away). */
void ew_cleanse(void *p, size_t n);
/* Compare n bytes in a time that does not depend on where they differ:
 * 0 when equal. */
int ew_ct_memcmp(const void *a, const void *b, size_t n);

#endif
