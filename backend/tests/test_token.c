/* Unit tests for token: shape and randomness of tokens, digests, HMAC
 * vectors, base64url round trips and refusals. */
#include "core/token.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static void test_generate_shape_and_uniqueness(void **state)
{
    char a[TOKEN_MAX_LEN], b[TOKEN_MAX_LEN];
    (void)state;
    assert_int_equal(token_generate("prl_", a, sizeof(a)), 0);
    assert_int_equal(token_generate("prl_", b, sizeof(b)), 0);
    assert_int_equal(strlen(a), 4 + TOKEN_B64_LEN);
    assert_true(token_well_formed("prl_", a));
    assert_string_not_equal(a, b);
    assert_int_equal(token_generate("", a, 10), -1); /* too small */
    assert_false(token_well_formed("prl_", "prl_short"));
    assert_false(token_well_formed("pv_", a));
    char bad[TOKEN_MAX_LEN];
    strcpy(bad, a);
    bad[10] = '+';
    assert_false(token_well_formed("prl_", bad));
}

static void test_digest_known_vector(void **state)
{
    uint8_t d[TOKEN_DIGEST_LEN];
    char hex[2 * TOKEN_DIGEST_LEN + 1];
    (void)state;
    token_digest("abc", 3, d);
    token_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hmac_rfc4231_case2(void **state)
{
    uint8_t mac[32];
    char hex[65];
    (void)state;
    assert_int_equal(token_hmac("Jefe", 4, "what do ya want for nothing?", 28, mac), 0);
    token_hex(mac, 32, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_b64url_round_trip_and_refusals(void **state)
{
    uint8_t in[40], out[40];
    char text[64];
    (void)state;
    for (size_t n = 0; n < sizeof(in); n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(i * 37 + n);
        int len = token_b64url_encode(in, n, text, sizeof(text));
        assert_true(len >= 0);
        assert_null(strchr(text, '='));
        assert_int_equal(token_b64url_decode(text, (size_t)len, out, sizeof(out)), (int)n);
        assert_memory_equal(in, out, n);
    }
    assert_int_equal(token_b64url_encode((const uint8_t *)"abc", 3, text, 4), -1);
    assert_int_equal(token_b64url_decode("a", 1, out, sizeof(out)), -1);    /* impossible length */
    assert_int_equal(token_b64url_decode("ab+/", 4, out, sizeof(out)), -1); /* standard alphabet */
    assert_int_equal(token_b64url_decode("QR", 2, out, sizeof(out)), -1);   /* non-zero spare bits */
    assert_int_equal(token_b64url_decode("QUJD", 4, out, 2), -1);           /* overflow */
}

static void test_equal(void **state)
{
    (void)state;
    assert_true(token_equal("abc", "abc"));
    assert_false(token_equal("abc", "abd"));
    assert_false(token_equal("abc", "abcd"));
    assert_true(token_equal("", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_shape_and_uniqueness),
        cmocka_unit_test(test_digest_known_vector),
        cmocka_unit_test(test_hmac_rfc4231_case2),
        cmocka_unit_test(test_b64url_round_trip_and_refusals),
        cmocka_unit_test(test_equal),
    };
    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
