#include "core/password.h"

#include "core/text.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 16
#define HASH_LEN 32

static sem_t hash_slots;
static int hash_log2n = 17;
static char dummy_phc[PASSWORD_HASH_MAX];

static int b64_encode(const uint8_t *in, size_t n, char *out, size_t outlen)
{
    if (outlen < 4 * ((n + 2) / 3) + 1)
        return -1;
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
    return len;
}

/* Unpadded standard base64 into out; returns the decoded length or -1. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t outlen)
{
    char padded[128];
    uint8_t buf[96];
    size_t pad = (4 - len % 4) % 4;
    if (len == 0 || pad == 3 || len + pad >= sizeof(padded))
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return -1;
    }
    memcpy(padded, in, len);
    memset(padded + len, '=', pad);
    padded[len + pad] = '\0';
    int n = EVP_DecodeBlock(buf, (const unsigned char *)padded, (int)(len + pad));
    if (n < 0)
        return -1;
    n -= (int)pad; /* EVP_DecodeBlock counts padding as zero bytes */
    if (n < 0 || (size_t)n > outlen)
        return -1;
    memcpy(out, buf, (size_t)n);
    return n;
}

static int scrypt_derive(const char *password, const uint8_t *salt, size_t saltlen, int log2n, uint32_t r, uint32_t p,
                         uint8_t *out, size_t outlen)
{
    uint64_t n = (uint64_t)1 << log2n;
    uint64_t maxmem = (uint64_t)1100 * 1024 * 1024;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *ctx = NULL;
    int rc = -1;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password, strlen(password)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };

    kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    if (!kdf)
        goto done;
    ctx = EVP_KDF_CTX_new(kdf);
    if (!ctx)
        goto done;
    /* The semaphore bounds memory: n=2^17, r=8 needs 128 MiB per call. */
    while (sem_wait(&hash_slots) != 0) {
    }
    rc = EVP_KDF_derive(ctx, out, outlen, params) == 1 ? 0 : -1;
    sem_post(&hash_slots);
done:
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

static int format_phc(int log2n, const uint8_t *salt, const uint8_t *hash, char *out, size_t outlen)
{
    char salt64[32], hash64[48];
    if (b64_encode(salt, SALT_LEN, salt64, sizeof(salt64)) < 0 ||
        b64_encode(hash, HASH_LEN, hash64, sizeof(hash64)) < 0)
        return -1;
    int n = snprintf(out, outlen, "$scrypt$ln=%d,r=8,p=1$%s$%s", log2n, salt64, hash64);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int password_init(int concurrency, int log2n)
{
    uint8_t salt[SALT_LEN] = {0}, hash[HASH_LEN];
    if (concurrency < 1 || log2n < 10 || log2n > 20 || sem_init(&hash_slots, 0, (unsigned)concurrency) != 0)
        return -1;
    hash_log2n = log2n;
    /* A hash of a random password, only ever used to burn equal time. */
    if (RAND_bytes(salt, sizeof(salt)) != 1 ||
        scrypt_derive("parley-dummy-password", salt, sizeof(salt), log2n, 8, 1, hash, sizeof(hash)) != 0)
        return -1;
    return format_phc(log2n, salt, hash, dummy_phc, sizeof(dummy_phc));
}

int password_hash(const char *password, char *out, size_t outlen)
{
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    int rc = -1;
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        goto done;
    if (scrypt_derive(password, salt, sizeof(salt), hash_log2n, 8, 1, hash, sizeof(hash)) != 0)
        goto done;
    rc = format_phc(hash_log2n, salt, hash, out, outlen);
done:
    OPENSSL_cleanse(hash, sizeof(hash));
    return rc;
}

/* Parses "$scrypt$ln=L,r=R,p=P$salt$hash" strictly. */
static int parse_phc(const char *phc, int *log2n, uint32_t *r, uint32_t *p, uint8_t *salt, int *saltlen, uint8_t *hash,
                     int *hashlen)
{
    int consumed = 0;
    unsigned ln, rr, pp;
    const char *salt64, *hash64, *end;
    if (strncmp(phc, "$scrypt$", 8) != 0)
        return -1;
    if (sscanf(phc + 8, "ln=%2u,r=%2u,p=%2u$%n", &ln, &rr, &pp, &consumed) != 3 || consumed == 0)
        return -1;
    if (ln < 10 || ln > 20 || rr < 1 || rr > 32 || pp < 1 || pp > 4)
        return -1;
    /* Refuse parameters whose memory need would exceed our ceiling. */
    if (((uint64_t)128 * rr << ln) > (uint64_t)1024 * 1024 * 1024)
        return -1;
    salt64 = phc + 8 + consumed;
    end = strchr(salt64, '$');
    if (!end)
        return -1;
    hash64 = end + 1;
    *saltlen = b64_decode(salt64, (size_t)(end - salt64), salt, 64);
    *hashlen = b64_decode(hash64, strlen(hash64), hash, 64);
    if (*saltlen < 8 || *hashlen < 16)
        return -1;
    *log2n = (int)ln;
    *r = rr;
    *p = pp;
    return 0;
}

int password_verify(const char *password, const char *phc)
{
    uint8_t salt[64], expected[64], actual[64];
    int saltlen, hashlen, log2n, rc = -1;
    uint32_t r, p;
    if (!password || !phc || parse_phc(phc, &log2n, &r, &p, salt, &saltlen, expected, &hashlen) != 0)
        goto done;
    if (scrypt_derive(password, salt, (size_t)saltlen, log2n, r, p, actual, (size_t)hashlen) != 0)
        goto done;
    rc = CRYPTO_memcmp(actual, expected, (size_t)hashlen) == 0 ? 1 : 0;
done:
    OPENSSL_cleanse(actual, sizeof(actual));
    return rc;
}

int password_verify_dummy(const char *password)
{
    (void)password_verify(password, dummy_phc);
    return 0;
}

const char *password_policy_error(const char *password)
{
    size_t n = strlen(password);
    long chars;
    if (n > PASSWORD_MAX_LEN)
        return "must be at most 1024 bytes";
    chars = text_utf8_chars(password, n);
    if (chars < 0)
        return "must be valid UTF-8";
    if (text_has_controls(password, n, 0))
        return "must not contain control characters";
    if (chars < PASSWORD_MIN_LEN)
        return "must be at least 8 characters";
    return NULL;
}
