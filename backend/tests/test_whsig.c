/* Unit tests for whsig: the Standard Webhooks test vector (as the Svix
 * libraries check it), a changed body, id or timestamp changing the
 * signature, secrets made and read back, malformed secrets refused, and
 * base64 buffer limits. */
#include "core/whsig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

/* From the Svix / Standard Webhooks libraries' tests; the signature was
 * checked independently with
 *   printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:31f290f6...2da4b0 -binary | base64 */
#define VEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VEC_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VEC_TS     1614265330LL
#define VEC_BODY   "{\"test\": 2432232314}"
#define VEC_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void test_known_vector(void **state)
{
    unsigned char key[64];
    size_t keylen = 0;
    char sig[WHSIG_SIG_MAX], other[WHSIG_SIG_MAX];
    (void)state;
    assert_int_equal(whsig_secret_parse(VEC_SECRET, key, sizeof(key), &keylen), 0);
    assert_int_equal(keylen, 24);
    assert_int_equal(whsig_sign(key, keylen, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig), 0);
    assert_string_equal(sig, VEC_SIG);

    /* One byte of the body, the id or the timestamp: another signature. */
    assert_int_equal(whsig_sign(key, keylen, VEC_ID, VEC_TS, "{\"test\": 2432232315}", strlen(VEC_BODY), other), 0);
    assert_string_not_equal(other, VEC_SIG);
    assert_int_equal(strncmp(other, "v1,", 3), 0);
    assert_int_equal(whsig_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJel", VEC_TS, VEC_BODY, strlen(VEC_BODY), other),
                     0);
    assert_string_not_equal(other, VEC_SIG);
    assert_int_equal(whsig_sign(key, keylen, VEC_ID, VEC_TS + 1, VEC_BODY, strlen(VEC_BODY), other), 0);
    assert_string_not_equal(other, VEC_SIG);
    /* bodylen, not the NUL, says where the body ends. */
    assert_int_equal(whsig_sign(key, keylen, VEC_ID, VEC_TS, VEC_BODY "trailing", strlen(VEC_BODY), other), 0);
    assert_string_equal(other, VEC_SIG);
    /* No key, no signature. */
    assert_int_equal(whsig_sign(key, 0, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), other), -1);
    assert_string_equal(other, "");
}

static void test_secret_round_trip(void **state)
{
    unsigned char key[WHSIG_KEY_BYTES], back[64];
    char text[WHSIG_SECRET_MAX], text2[WHSIG_SECRET_MAX];
    size_t keylen = 0;
    (void)state;
    assert_int_equal(whsig_secret_new(key, text), 0);
    assert_int_equal(strncmp(text, "whsec_", 6), 0);
    assert_int_equal(strlen(text), 6 + 44);
    assert_int_equal(text[49], '='); /* 32 bytes: one padding character */
    assert_int_equal(whsig_secret_parse(text, back, sizeof(back), &keylen), 0);
    assert_int_equal(keylen, WHSIG_KEY_BYTES);
    assert_memory_equal(key, back, WHSIG_KEY_BYTES);
    assert_int_equal(whsig_secret_new(key, text2), 0);
    assert_string_not_equal(text, text2);
    /* A key exactly as long as keymax fits; one byte less does not. */
    assert_int_equal(whsig_secret_parse(text, back, WHSIG_KEY_BYTES, &keylen), 0);
    assert_int_equal(whsig_secret_parse(text, back, WHSIG_KEY_BYTES - 1, &keylen), -1);
    assert_int_equal(keylen, 0);

    /* Every key length 1..64 comes back as it went in. */
    for (size_t n = 1; n <= 64; n++) {
        unsigned char in[64];
        char t[128] = "whsec_";
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)(0xA5 ^ (i * 29 + n));
        assert_true(whsig_base64(in, n, t + 6, sizeof(t) - 6) > 0);
        assert_int_equal(whsig_secret_parse(t, back, sizeof(back), &keylen), 0);
        assert_int_equal(keylen, n);
        assert_memory_equal(in, back, n);
    }
}

static void test_secret_refusals(void **state)
{
    unsigned char key[128];
    size_t keylen = 99;
    char long_key[200] = "whsec_";
    (void)state;
    static const char *const bad[] = {
        "",
        "whsec_",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",        /* no prefix */
        "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  /* prefix is lower case */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",   /* not a multiple of 4 */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS ",  /* space */
        " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", /* leading space */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La-aS_", /* base64url alphabet */
        "whsec_MfKQ9r8G=YqrTwjUPD8ILPZIo2LaLaSw", /* padding inside */
        "whsec_QQ=A",
        "whsec_Q===",
        "whsec_====",
        "whsec_QR==", /* spare bits set: would read as "A" too */
        "whsec_QUJ=", /* spare bits set */
        "whsec_QUI=QUI=",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        keylen = 99;
        if (whsig_secret_parse(bad[i], key, sizeof(key), &keylen) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(keylen, 0);
    }
    assert_int_equal(whsig_secret_parse(NULL, key, sizeof(key), &keylen), -1);
    /* Padded forms that are right are read. */
    assert_int_equal(whsig_secret_parse("whsec_QQ==", key, sizeof(key), &keylen), 0);
    assert_int_equal(keylen, 1);
    assert_int_equal(key[0], 'A');
    assert_int_equal(whsig_secret_parse("whsec_QUI=", key, sizeof(key), &keylen), 0);
    assert_int_equal(keylen, 2);
    /* 65 bytes is over the limit, whatever keymax says. */
    unsigned char big[65];
    memset(big, 7, sizeof(big));
    assert_true(whsig_base64(big, sizeof(big), long_key + 6, sizeof(long_key) - 6) > 0);
    assert_int_equal(whsig_secret_parse(long_key, key, sizeof(key), &keylen), -1);
}

static void test_base64(void **state)
{
    char out[16];
    (void)state;
    assert_int_equal(whsig_base64((const unsigned char *)"foobar", 6, out, sizeof(out)), 8);
    assert_string_equal(out, "Zm9vYmFy");
    assert_int_equal(whsig_base64((const unsigned char *)"fooba", 5, out, sizeof(out)), 8);
    assert_string_equal(out, "Zm9vYmE=");
    assert_int_equal(whsig_base64((const unsigned char *)"f", 1, out, sizeof(out)), 4);
    assert_string_equal(out, "Zg==");
    assert_int_equal(whsig_base64((const unsigned char *)"", 0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* "foobar" needs 9 bytes with its NUL. */
    assert_int_equal(whsig_base64((const unsigned char *)"foobar", 6, out, 9), 8);
    assert_int_equal(whsig_base64((const unsigned char *)"foobar", 6, out, 8), 0);
    /* A MAC's 44 characters do not fit in 16. */
    unsigned char mac[32] = {0xFF};
    assert_int_equal(whsig_base64(mac, sizeof(mac), out, sizeof(out)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vector),
        cmocka_unit_test(test_secret_round_trip),
        cmocka_unit_test(test_secret_refusals),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests_name("whsig", tests, NULL, NULL);
}
