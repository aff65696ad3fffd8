/* Unit tests for password: hashes verify, wrong passwords and tampered or
 * malformed hashes are refused, the policy holds. Uses the real cost
 * (n=2^17) for the format check and a lower one where many hashes run. */
#include "core/password.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static int setup(void **state)
{
    (void)state;
    return password_init(2, 17);
}

static void test_hash_format_and_verify(void **state)
{
    char phc[PASSWORD_HASH_MAX], phc2[PASSWORD_HASH_MAX];
    (void)state;
    assert_int_equal(password_hash("correct horse battery staple", phc, sizeof(phc)), 0);
    assert_int_equal(strncmp(phc, "$scrypt$ln=17,r=8,p=1$", 22), 0);
    assert_int_equal(password_verify("correct horse battery staple", phc), 1);
    assert_int_equal(password_verify("correct horse battery stapl", phc), 0);
    assert_int_equal(password_verify("", phc), 0);
    /* a fresh salt each time */
    assert_int_equal(password_hash("correct horse battery staple", phc2, sizeof(phc2)), 0);
    assert_string_not_equal(phc, phc2);
}

static void test_tampered_hashes_refused(void **state)
{
    char phc[PASSWORD_HASH_MAX], t[PASSWORD_HASH_MAX];
    const char *pw = "s3cret-passw0rd";
    (void)state;
    assert_int_equal(password_hash(pw, phc, sizeof(phc)), 0);

    /* flip one character of the hash part */
    strcpy(t, phc);
    char *last = t + strlen(t) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    assert_int_equal(password_verify(pw, t), 0);

    /* flip one character of the salt */
    strcpy(t, phc);
    char *salt = strchr(t + 8, '$') + 1;
    *salt = *salt == 'A' ? 'B' : 'A';
    assert_int_equal(password_verify(pw, t), 0);

    /* changed cost parameter: still a valid format, but a different hash */
    strcpy(t, phc);
    memcpy(strstr(t, "ln=17"), "ln=16", 5);
    assert_int_equal(password_verify(pw, t), 0);

    /* malformed: truncated, wrong algorithm, absurd parameters, bad base64 */
    const char *bad[] = {
        "",
        "$scrypt$",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$scrypt$ln=17,r=8,p=1$",
        "$scrypt$ln=17,r=8,p=1$c2FsdHNhbHRzYWx0$",
        "$scrypt$ln=99,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=17,r=0,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=20,r=32,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=17,r=8,p=1$c2Fs!HNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=17,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=17,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (password_verify(pw, bad[i]) != -1)
            fail_msg("malformed hash accepted: %s", bad[i]);
    assert_int_equal(password_verify(pw, NULL), -1);
}

static void test_dummy_verify(void **state)
{
    (void)state;
    assert_int_equal(password_verify_dummy("anything"), 0);
}

static void test_policy(void **state)
{
    (void)state;
    assert_null(password_policy_error("12345678"));
    assert_null(password_policy_error("密码密码密码密码"));
    assert_non_null(password_policy_error("1234567"));
    assert_non_null(password_policy_error("密码密码"));
    assert_non_null(password_policy_error("abc\x01"
                                          "defgh"));
    assert_non_null(password_policy_error("abcdefgh\xff"));
    char big[PASSWORD_MAX_LEN + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_non_null(password_policy_error(big));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_format_and_verify),
        cmocka_unit_test(test_tampered_hashes_refused),
        cmocka_unit_test(test_dummy_verify),
        cmocka_unit_test(test_policy),
    };
    return cmocka_run_group_tests_name("password", tests, setup, NULL);
}
