/* Unit tests for turncred: the coturn REST-API credential against a value
 * computed independently with
 *   printf '%s' '1700000000:v42' |
 *     openssl dgst -sha1 -mac HMAC -macopt key:s3cret-s3cret-s3cret -binary | base64
 * the URL list checks, and the iceServers document. */
#include "core/turncred.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static void test_known_credential(void **state)
{
    char user[96], pass[64];
    (void)state;
    assert_int_equal(turncred_sign("s3cret-s3cret-s3cret", 1700000000LL, "v42", user, sizeof(user), pass, sizeof(pass)),
                     0);
    assert_string_equal(user, "1700000000:v42");
    assert_string_equal(pass, "UxeaXbwggIHRP0oFgdqWMYLCc2I=");
    /* Another expiry or id: another password. */
    assert_int_equal(turncred_sign("s3cret-s3cret-s3cret", 1700000001LL, "v42", user, sizeof(user), pass, sizeof(pass)),
                     0);
    assert_string_not_equal(pass, "UxeaXbwggIHRP0oFgdqWMYLCc2I=");
    /* Buffers too small: refused, not cut. */
    assert_int_equal(turncred_sign("s", 1700000000LL, "v42", user, 10, pass, sizeof(pass)), -1);
    assert_int_equal(turncred_sign("s", 1700000000LL, "v42", user, sizeof(user), pass, 20), -1);
}

static void test_url_lists(void **state)
{
    (void)state;
    assert_int_equal(turncred_check_urls("", 0), 0);
    assert_int_equal(turncred_check_urls("stun:stun.example.com:3478", 0), 0);
    assert_int_equal(turncred_check_urls("turn:127.0.0.1:3478?transport=udp,turns:t.example:5349", 1), 0);
    assert_int_equal(turncred_check_urls("turn:a:1", 0), -1);  /* a TURN URL among STUN ones */
    assert_int_equal(turncred_check_urls("stun:a:1", 1), -1);  /* and the other way */
    assert_int_equal(turncred_check_urls("turn:", 1), -1);     /* no host */
    assert_int_equal(turncred_check_urls("turn:a:1,", 1), -1); /* an empty element */
    assert_int_equal(turncred_check_urls("turn:a:1,,turn:b:1", 1), -1);
    assert_int_equal(turncred_check_urls("turn:a b:1", 1), -1); /* a space */
    assert_int_equal(turncred_check_urls("turn:a\"b:1", 1), -1);
    assert_int_equal(turncred_check_urls("turn:1,turn:2,turn:3,turn:4,turn:5,turn:6,turn:7,turn:8", 1), 0);
    assert_int_equal(turncred_check_urls("turn:1,turn:2,turn:3,turn:4,turn:5,turn:6,turn:7,turn:8,turn:9", 1), -1);
}

static void test_ice_servers(void **state)
{
    (void)state;
    json_t *none = turncred_ice_servers("", "", "", 600, "a1", 1700000000LL);
    assert_non_null(none);
    assert_int_equal(json_array_size(none), 0);
    json_decref(none);

    json_t *all = turncred_ice_servers("stun:s:3478", "turn:t:3478,turns:t:5349", "s3cret-s3cret-s3cret", 600, "v42",
                                       1699999400LL);
    assert_int_equal(json_array_size(all), 2);
    json_t *stun = json_array_get(all, 0), *turn = json_array_get(all, 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(stun, "urls"), 0)), "stun:s:3478");
    assert_null(json_object_get(stun, "username"));
    assert_int_equal(json_array_size(json_object_get(turn, "urls")), 2);
    assert_string_equal(json_string_value(json_object_get(turn, "username")), "1700000000:v42");
    assert_string_equal(json_string_value(json_object_get(turn, "credential")), "UxeaXbwggIHRP0oFgdqWMYLCc2I=");
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_credential),
        cmocka_unit_test(test_url_lists),
        cmocka_unit_test(test_ice_servers),
    };
    return cmocka_run_group_tests_name("turncred", tests, NULL, NULL);
}
