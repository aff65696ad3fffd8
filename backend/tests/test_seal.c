/* Unit tests for seal: sealing round trips (empty, with and without aad),
 * every tampering, a wrong aad and a wrong key refused; the key file made,
 * read back, refused when others may read it or it is malformed, and one
 * key agreed on by processes that start at once. Key files live in a
 * fresh temporary directory. */
#include "core/seal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/parley-seal-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[512];
    (void)state;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
        if (unlink(path) < 0)
            rmdir(path);
    }
    if (d)
        closedir(d);
    return rmdir(tmpdir);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_round_trip(void **state)
{
    unsigned char key[SEAL_KEY_BYTES];
    const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    size_t n = strlen(secret);
    unsigned char sealed[128], again[128], plain[128];
    (void)state;
    memset(key, 0x42, sizeof(key));
    assert_int_equal(seal_encrypt(key, "endpoint:3", 10, secret, n, sealed), 0);
    assert_int_equal(seal_decrypt(key, "endpoint:3", 10, sealed, n + SEAL_OVERHEAD, plain), 0);
    assert_memory_equal(plain, secret, n);
    /* The secret does not show through, and each seal has its own nonce. */
    assert_null(memmem(sealed, n + SEAL_OVERHEAD, "whsec_", 6));
    assert_int_equal(seal_encrypt(key, "endpoint:3", 10, secret, n, again), 0);
    assert_memory_not_equal(sealed, again, SEAL_NONCE_LEN);
    assert_memory_not_equal(sealed + SEAL_NONCE_LEN, again + SEAL_NONCE_LEN, n);

    /* No aad, and nothing to seal: still authenticated. */
    assert_int_equal(seal_encrypt(key, NULL, 0, secret, n, sealed), 0);
    assert_int_equal(seal_decrypt(key, NULL, 0, sealed, n + SEAL_OVERHEAD, plain), 0);
    assert_memory_equal(plain, secret, n);
    assert_int_equal(seal_encrypt(key, "x", 1, NULL, 0, sealed), 0);
    assert_int_equal(seal_decrypt(key, "x", 1, sealed, SEAL_OVERHEAD, plain), 0);
    assert_int_equal(seal_decrypt(key, "y", 1, sealed, SEAL_OVERHEAD, plain), -1);
}

static void test_tamper_aad_key(void **state)
{
    unsigned char key[SEAL_KEY_BYTES], other[SEAL_KEY_BYTES];
    const char *secret = "the quick brown fox";
    size_t n = strlen(secret), total = n + SEAL_OVERHEAD;
    unsigned char sealed[64], copy[64], plain[64];
    (void)state;
    memset(key, 1, sizeof(key));
    memcpy(other, key, sizeof(other));
    other[31] ^= 1;
    assert_int_equal(seal_encrypt(key, "row:1", 5, secret, n, sealed), 0);

    /* One bit flipped anywhere (nonce, ciphertext, tag): refused, and the
     * output holds no guess at the plaintext. */
    for (size_t i = 0; i < total; i++) {
        memcpy(copy, sealed, total);
        copy[i] ^= 0x01;
        memset(plain, 'Z', sizeof(plain));
        if (seal_decrypt(key, "row:1", 5, copy, total, plain) != -1)
            fail_msg("a flipped bit at byte %zu was not noticed", i);
        for (size_t j = 0; j < n; j++)
            assert_int_equal(plain[j], 0);
    }
    assert_int_equal(seal_decrypt(key, "row:2", 5, sealed, total, plain), -1);
    assert_int_equal(seal_decrypt(key, "row:1x", 6, sealed, total, plain), -1);
    assert_int_equal(seal_decrypt(key, NULL, 0, sealed, total, plain), -1);
    assert_int_equal(seal_decrypt(other, "row:1", 5, sealed, total, plain), -1);
    /* Cut short, or too short to hold a nonce and tag. */
    assert_int_equal(seal_decrypt(key, "row:1", 5, sealed, total - 1, plain), -1);
    assert_int_equal(seal_decrypt(key, "row:1", 5, sealed, SEAL_OVERHEAD - 1, plain), -1);
    assert_int_equal(seal_decrypt(key, "row:1", 5, sealed, 0, plain), -1);
    /* And the untouched one still opens. */
    assert_int_equal(seal_decrypt(key, "row:1", 5, sealed, total, plain), 0);
    assert_memory_equal(plain, secret, n);
}

static void test_key_file_create_and_reload(void **state)
{
    unsigned char key[SEAL_KEY_BYTES], again[SEAL_KEY_BYTES], zero[SEAL_KEY_BYTES] = {0};
    char path[512], err[256], text[80];
    struct stat st;
    (void)state;
    snprintf(path, sizeof(path), "%s/data.key", tmpdir);
    assert_int_equal(seal_key_load(path, key, err, sizeof(err)), 0);
    assert_memory_not_equal(key, zero, sizeof(key));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 65);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, text, sizeof(text)), 65);
    close(fd);
    assert_int_equal(text[64], '\n');
    assert_int_equal(strspn(text, "0123456789abcdef"), 64);

    assert_int_equal(seal_key_load(path, again, err, sizeof(err)), 0);
    assert_memory_equal(key, again, sizeof(key));

    /* A key written by hand, upper case and without a newline, is read. */
    write_file(path, "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff", 0600);
    assert_int_equal(seal_key_load(path, key, err, sizeof(err)), 0);
    assert_int_equal(key[0], 0x00);
    assert_int_equal(key[10], 0xAA);
    assert_int_equal(key[31], 0xFF);

    /* Only the key file is left behind: no temporary files. */
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            entries++;
    closedir(d);
    assert_int_equal(entries, 1);
    unlink(path);
}

static void test_key_file_refusals(void **state)
{
    unsigned char key[SEAL_KEY_BYTES];
    char path[512], err[256];
    const char *hex64 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char text[200];
    (void)state;
    snprintf(path, sizeof(path), "%s/loose.key", tmpdir);

    /* Readable by group, by others, writable by group: each refused with
     * the path, the mode and the fix. */
    static const mode_t loose[] = {0640, 0604, 0620, 0644, 0660};
    for (size_t i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
        snprintf(text, sizeof(text), "%s\n", hex64);
        write_file(path, text, loose[i]);
        err[0] = '\0';
        assert_int_equal(seal_key_load(path, key, err, sizeof(err)), -1);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "chmod 600"));
    }
    write_file(path, text, 0400); /* read-only to its owner is fine */
    assert_int_equal(seal_key_load(path, key, err, sizeof(err)), 0);
    unlink(path);

    static const char *const malformed[] = {
        "",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",   /* 63 */
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0", /* 65 */
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n\n",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\r\n",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
        " 0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        write_file(path, malformed[i], 0600);
        err[0] = '\0';
        if (seal_key_load(path, key, err, sizeof(err)) != -1)
            fail_msg("accepted key file \"%s\"", malformed[i]);
        assert_non_null(strstr(err, "64 hex digits"));
        unlink(path);
    }

    /* A directory where the file should be, a directory that is not
     * there: refused, not created. */
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(seal_key_load(path, key, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
    rmdir(path);
    snprintf(path, sizeof(path), "%s/missing/data.key", tmpdir);
    assert_int_equal(seal_key_load(path, key, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot create"));
}

/* Several processes load a key file that does not exist yet, at once:
 * all end with the same key (the link() race has one winner). */
static void test_key_file_race(void **state)
{
    enum { ROUNDS = 20, PROCS = 6 };
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        char path[512];
        int fds[PROCS][2];
        pid_t pids[PROCS];
        unsigned char keys[PROCS][SEAL_KEY_BYTES];
        snprintf(path, sizeof(path), "%s/race%d.key", tmpdir, round);
        for (int p = 0; p < PROCS; p++) {
            assert_int_equal(pipe(fds[p]), 0);
            pids[p] = fork();
            assert_true(pids[p] >= 0);
            if (pids[p] == 0) {
                unsigned char k[SEAL_KEY_BYTES];
                char err[256];
                close(fds[p][0]);
                if (seal_key_load(path, k, err, sizeof(err)) != 0)
                    _exit(1);
                _exit(write(fds[p][1], k, sizeof(k)) == (ssize_t)sizeof(k) ? 0 : 1);
            }
            close(fds[p][1]);
        }
        for (int p = 0; p < PROCS; p++) {
            int status = 0;
            assert_int_equal(read(fds[p][0], keys[p], SEAL_KEY_BYTES), SEAL_KEY_BYTES);
            close(fds[p][0]);
            assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            assert_memory_equal(keys[p], keys[0], SEAL_KEY_BYTES);
        }
        unsigned char onfile[SEAL_KEY_BYTES];
        char err[256];
        assert_int_equal(seal_key_load(path, onfile, err, sizeof(err)), 0);
        assert_memory_equal(onfile, keys[0], SEAL_KEY_BYTES);
        unlink(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tamper_aad_key),
        cmocka_unit_test(test_key_file_create_and_reload),
        cmocka_unit_test(test_key_file_refusals),
        cmocka_unit_test(test_key_file_race),
    };
    return cmocka_run_group_tests_name("seal", tests, setup_dir, teardown_dir);
}
