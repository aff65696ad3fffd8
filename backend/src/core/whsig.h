/* whsig: Standard Webhooks signing (https://www.standardwebhooks.com/).
 *
 * Owns the webhook secret's text form ("whsec_" + standard base64 of the
 * key) and the signature a receiver checks: "v1," + base64 of
 * HMAC-SHA256(key, id "." timestamp "." body), the scheme the Svix and
 * Standard Webhooks libraries verify, so receivers can use them unchanged.
 * Only signing: Parley never receives webhooks. Pure functions over
 * OpenSSL; secrets pass through caller-owned buffers only. */
#ifndef PARLEY_WHSIG_H
#define PARLEY_WHSIG_H

#include <stddef.h>

#define WHSIG_KEY_BYTES  32 /* the key of a secret Parley makes */
#define WHSIG_SECRET_MAX 64 /* "whsec_" + base64(32) + NUL */
#define WHSIG_SIG_MAX    64 /* "v1," + base64(32) + NUL */
#define WHSIG_PARSE_MAX  64 /* the longest key whsig_secret_parse takes */

/* A fresh random key (RAND_bytes) and its text "whsec_<base64>" (50
 * chars). Returns 0, or -1 when the RNG failed (key and text are then
 * cleared). */
int whsig_secret_new(unsigned char key[WHSIG_KEY_BYTES], char text[WHSIG_SECRET_MAX]);

/* The key of a secret "whsec_<base64>": standard alphabet, padded to a
 * multiple of 4, no whitespace, unused bits zero (so one key has one
 * spelling), 1..WHSIG_PARSE_MAX bytes and at most keymax. Returns 0 with
 * *keylen set, or -1 (key then holds nothing worth reading). */
int whsig_secret_parse(const char *text, unsigned char *key, size_t keymax, size_t *keylen);

/* "v1,<base64 HMAC-SHA256(key, id + "." + ts + "." + body)>" into out,
 * ts in decimal as sent in webhook-timestamp. body is bodylen bytes (NUL
 * not needed, may hold anything). Returns 0, or -1 for an empty key or an
 * OpenSSL failure. */
int whsig_sign(const unsigned char *key, size_t keylen, const char *id, long long ts, const char *body, size_t bodylen,
               char out[WHSIG_SIG_MAX]);

/* Standard base64 with padding of n bytes into out, NUL-terminated.
 * Returns the length written, or 0 when out is too small (it needs
 * 4 * ceil(n / 3) + 1 bytes); n == 0 writes "" and returns 0 too. */
size_t whsig_base64(const unsigned char *in, size_t n, char *out, size_t outmax);

#endif
