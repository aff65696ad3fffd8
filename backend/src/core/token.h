/* token: random secrets and the digests we store instead of them.
 *
 * Owns the format of every bearer secret parleyd hands out (session cookies,
 * visitor tokens, API tokens): 32 random bytes from RAND_bytes, base64url
 * without padding (43 chars), optionally behind a short prefix. Only the
 * SHA-256 of a secret is ever stored. Also HMAC-SHA256 and constant-time
 * comparison for everything that checks a secret. */
#ifndef PARLEY_TOKEN_H
#define PARLEY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_RANDOM_BYTES 32
#define TOKEN_B64_LEN      43 /* base64url length of 32 bytes, unpadded */
#define TOKEN_MAX_LEN      64 /* prefix + body + NUL always fit */
#define TOKEN_DIGEST_LEN   32

/* Writes prefix (may be "") followed by a fresh random token into out
 * (size >= TOKEN_MAX_LEN). Returns 0 or -1 if the RNG failed or it won't fit. */
int token_generate(const char *prefix, char *out, size_t outlen);

/* SHA-256 of the token's bytes into digest[TOKEN_DIGEST_LEN]. */
void token_digest(const char *token, size_t len, uint8_t digest[TOKEN_DIGEST_LEN]);

/* HMAC-SHA256(key, msg) into mac[32]. Returns 0 or -1. */
int token_hmac(const void *key, size_t keylen, const void *msg, size_t msglen, uint8_t mac[32]);

/* Constant-time equality of two strings (length may leak, content doesn't). */
int token_equal(const char *a, const char *b);

/* base64url (no padding) of n bytes into out; returns length written or -1
 * if outlen is too small (needs 4*ceil(n/3)+1). */
int token_b64url_encode(const uint8_t *in, size_t n, char *out, size_t outlen);

/* Decodes unpadded base64url; returns bytes written or -1 on bad input or
 * overflow of outlen. */
int token_b64url_decode(const char *in, size_t len, uint8_t *out, size_t outlen);

/* Lower-case hex of n bytes into out (size >= 2n+1). */
void token_hex(const uint8_t *in, size_t n, char *out);

/* A token's shape check (prefix, then exactly 43 base64url chars). */
int token_well_formed(const char *prefix, const char *token);

#endif
