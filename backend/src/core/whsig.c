#include "core/whsig.h"
#include "core/text.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define SECRET_PREFIX     "whsec_"
#define SECRET_PREFIX_LEN (sizeof(SECRET_PREFIX) - 1)

size_t whsig_base64(const unsigned char *in, size_t n, char *out, size_t outmax)
{
    size_t need;
    if (n > (size_t)INT_MAX / 4 * 3) /* EVP_EncodeBlock takes and returns an int */
        return 0;
    need = (n + 2) / 3 * 4 + 1;
    if (!out || outmax < need)
        return 0;
    /* EVP_EncodeBlock pads and NUL-terminates; it never inserts newlines
     * (unlike the EVP_Encode* streaming calls). */
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int whsig_secret_new(unsigned char key[WHSIG_KEY_BYTES], char text[WHSIG_SECRET_MAX])
{
    int rc = -1;
    memcpy(text, SECRET_PREFIX, SECRET_PREFIX_LEN);
    if (RAND_bytes(key, WHSIG_KEY_BYTES) != 1)
        goto done;
    if (whsig_base64(key, WHSIG_KEY_BYTES, text + SECRET_PREFIX_LEN, WHSIG_SECRET_MAX - SECRET_PREFIX_LEN) == 0)
        goto done;
    rc = 0;
done:
    if (rc < 0) {
        OPENSSL_cleanse(key, WHSIG_KEY_BYTES);
        OPENSSL_cleanse(text, WHSIG_SECRET_MAX);
    }
    return rc;
}

int whsig_secret_parse(const char *text, unsigned char *key, size_t keymax, size_t *keylen)
{
    /* Room for the longest accepted key as EVP_DecodeBlock writes it
     * (padding included, as zero bytes), plus a group of slack. */
    unsigned char buf[(WHSIG_PARSE_MAX + 2) / 3 * 3 + 3];
    const char *b64;
    size_t len, pad = 0, n;
    int rc = -1;

    *keylen = 0;
    if (!text || strncmp(text, SECRET_PREFIX, SECRET_PREFIX_LEN) != 0)
        goto done;
    b64 = text + SECRET_PREFIX_LEN;
    len = strlen(b64);
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(buf))
        goto done;
    if (b64[len - 1] == '=')
        pad = b64[len - 2] == '=' ? 2 : 1;
    /* Check the alphabet here: EVP_DecodeBlock skips leading and trailing
     * whitespace, and takes '=' anywhere in the last group. */
    for (size_t i = 0; i < len - pad; i++)
        if (text_base64_digit(b64[i], 0) < 0)
            goto done;
    /* The bits the padding leaves over must be zero, or several texts
     * would name one key (and a copy-paste slip would go unnoticed). */
    if (pad == 1 && (text_base64_digit(b64[len - 2], 0) & 0x03) != 0)
        goto done;
    if (pad == 2 && (text_base64_digit(b64[len - 3], 0) & 0x0F) != 0)
        goto done;
    /* EVP_DecodeBlock counts the padding as zero bytes: take them off. */
    if (EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len) != (int)(len / 4 * 3))
        goto done;
    n = len / 4 * 3 - pad;
    if (n == 0 || n > WHSIG_PARSE_MAX || n > keymax)
        goto done;
    memcpy(key, buf, n);
    *keylen = n;
    rc = 0;
done:
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

int whsig_sign(const unsigned char *key, size_t keylen, const char *id, long long ts, const char *body, size_t bodylen,
               char out[WHSIG_SIG_MAX])
{
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    unsigned char digest[32];
    char tsbuf[24];
    size_t dlen = 0;
    int tslen, rc = -1;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };

    out[0] = '\0';
    if (keylen == 0)
        goto done;
    tslen = snprintf(tsbuf, sizeof(tsbuf), "%lld", ts);
    /* EVP_MAC rather than HMAC(): the signed text is fed in pieces, so the
     * body (up to the largest event) is never copied to join it. */
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (!ctx || !EVP_MAC_init(ctx, key, keylen, params))
        goto done;
    if (!EVP_MAC_update(ctx, (const unsigned char *)id, strlen(id)) ||
        !EVP_MAC_update(ctx, (const unsigned char *)".", 1) ||
        !EVP_MAC_update(ctx, (const unsigned char *)tsbuf, (size_t)tslen) ||
        !EVP_MAC_update(ctx, (const unsigned char *)".", 1) ||
        !EVP_MAC_update(ctx, (const unsigned char *)body, bodylen))
        goto done;
    if (!EVP_MAC_final(ctx, digest, &dlen, sizeof(digest)) || dlen != sizeof(digest))
        goto done;
    memcpy(out, "v1,", 3);
    if (whsig_base64(digest, sizeof(digest), out + 3, WHSIG_SIG_MAX - 3) == 0)
        goto done;
    rc = 0;
done:
    if (rc < 0)
        out[0] = '\0';
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    OPENSSL_cleanse(digest, sizeof(digest));
    return rc;
}
