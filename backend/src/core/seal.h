/* seal: small secrets sealed at rest, readable only by parleyd.
 *
 * Owns the key file (PARLEY's data key: 32 random bytes, hex, mode 0600,
 * made on first start) and the sealed format of a secret kept in the
 * database, such as a webhook signing key: AES-256-GCM with a fresh random
 * 12-byte nonce, laid out nonce | ciphertext | tag. A dump of the database
 * without the key file reveals no secret, and a sealed value moved to
 * another row fails to open when the caller binds it to its row with aad.
 *
 * Random nonces are safe for up to about 2^32 seals under one key, far
 * beyond a few secrets per webhook endpoint. Pure functions but for the
 * key file; no state kept between calls. */
#ifndef PARLEY_SEAL_H
#define PARLEY_SEAL_H

#include <stddef.h>

#define SEAL_KEY_BYTES 32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
#define SEAL_OVERHEAD  28 /* SEAL_NONCE_LEN + SEAL_TAG_LEN */

/* Reads the key at path: exactly 64 hex digits, then optionally one
 * newline. When path does not exist, makes it: 32 random bytes written as
 * hex to a temporary file beside it (mode 0600), fsync'd, then link()ed to
 * path, so two processes starting at once agree on one key (the loser's
 * link fails with EEXIST and it reads the winner's). Refuses a file that
 * group or others may read or write, anything but a regular file, and a
 * malformed one, with a message in err naming the path. Returns 0 or -1
 * (key then cleared). */
int seal_key_load(const char *path, unsigned char key[SEAL_KEY_BYTES], char *err, size_t errlen);

/* Seals n bytes of plain into out (n + SEAL_OVERHEAD bytes; must not
 * overlap plain). aad (aadlen bytes; NULL when 0) is authenticated, not
 * stored: the same aad must be given to open it. Returns 0 or -1. */
int seal_encrypt(const unsigned char key[SEAL_KEY_BYTES], const void *aad, size_t aadlen, const void *plain, size_t n,
                 unsigned char *out);

/* Opens n sealed bytes of in into out (n - SEAL_OVERHEAD bytes; must not
 * overlap in). Returns 0, or -1 when n is too short, the data was
 * tampered with, or the key or aad differ; out is then wiped, never left
 * holding unauthenticated plaintext. */
int seal_decrypt(const unsigned char key[SEAL_KEY_BYTES], const void *aad, size_t aadlen, const unsigned char *in,
                 size_t n, unsigned char *out);

#endif
