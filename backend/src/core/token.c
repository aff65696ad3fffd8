#include "core/token.h"
#include "core/text.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

static const char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int token_b64url_encode(const uint8_t *in, size_t n, char *out, size_t outlen)
{
    size_t need = (n / 3) * 4 + ((n % 3) ? (n % 3) + 1 : 0) + 1;
    size_t o = 0;
    if (outlen < need)
        return -1;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t rem = n - i;
        if (rem > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (rem > 2)
            v |= in[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        if (rem > 1)
            out[o++] = b64url_alphabet[(v >> 6) & 63];
        if (rem > 2)
            out[o++] = b64url_alphabet[v & 63];
    }
    out[o] = '\0';
    return (int)o;
}

int token_b64url_decode(const char *in, size_t len, uint8_t *out, size_t outlen)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (len % 4 == 1)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = text_base64_digit(in[i], 1);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outlen)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, or two strings would decode the same. */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (int)o;
}

int token_generate(const char *prefix, char *out, size_t outlen)
{
    uint8_t raw[TOKEN_RANDOM_BYTES];
    size_t plen = strlen(prefix);
    int rc = -1;
    if (plen + TOKEN_B64_LEN + 1 > outlen)
        goto done;
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        goto done;
    memcpy(out, prefix, plen);
    if (token_b64url_encode(raw, sizeof(raw), out + plen, outlen - plen) != TOKEN_B64_LEN)
        goto done;
    rc = 0;
done:
    OPENSSL_cleanse(raw, sizeof(raw));
    return rc;
}

void token_digest(const char *token, size_t len, uint8_t digest[TOKEN_DIGEST_LEN])
{
    SHA256((const unsigned char *)token, len, digest);
}

int token_hmac(const void *key, size_t keylen, const void *msg, size_t msglen, uint8_t mac[32])
{
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, mac, &maclen) || maclen != 32)
        return -1;
    return 0;
}

int token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return 0;
    return CRYPTO_memcmp(a, b, la) == 0;
}

void token_hex(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int token_well_formed(const char *prefix, const char *token)
{
    size_t plen = strlen(prefix);
    if (strncmp(token, prefix, plen) != 0 || strlen(token + plen) != TOKEN_B64_LEN)
        return 0;
    for (const char *p = token + plen; *p; p++)
        if (text_base64_digit(*p, 1) < 0)
            return 0;
    return 1;
}
