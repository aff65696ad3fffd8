/* password: scrypt password hashes in a PHC-style string.
 *
 *   $scrypt$ln=17,r=8,p=1$<salt, base64 unpadded>$<hash, base64 unpadded>
 *
 * Owns hashing (OpenSSL EVP_KDF "SCRYPT", 16-byte salt, 32-byte hash) and
 * constant-time verification. Each hash at ln=17 takes 128 MiB, so the module
 * holds a process-wide semaphore (set up by password_init) that bounds how
 * many run at once; callers beyond that wait. */
#ifndef PARLEY_PASSWORD_H
#define PARLEY_PASSWORD_H

#include <stddef.h>

#define PASSWORD_HASH_MAX 160
#define PASSWORD_MIN_LEN  8
#define PASSWORD_MAX_LEN  1024

/* Sets the number of hashes that may run at once and the cost of new hashes.
 * Call once before any other function here. Returns 0 or -1. */
int password_init(int concurrency, int log2n);

/* Hashes password into out (size >= PASSWORD_HASH_MAX). Returns 0 or -1. */
int password_hash(const char *password, char *out, size_t outlen);

/* 1 when password matches phc, 0 when it does not, -1 when phc is malformed,
 * has parameters out of range, or hashing failed. */
int password_verify(const char *password, const char *phc);

/* Spends the same work as a real verification and returns 0; used when the
 * account does not exist so that timing does not reveal that. */
int password_verify_dummy(const char *password);

/* Checks length and UTF-8 validity of a new password; returns NULL when
 * acceptable, else a static message. */
const char *password_policy_error(const char *password);

#endif
