#include "core/seal.h"
#include "core/text.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_HEX_LEN (2 * SEAL_KEY_BYTES)

/* --- the key file -------------------------------------------------------- */

/* The key from the file's got bytes: 64 hex digits, then at most a
 * newline. Returns 0 or -1. */
static int key_parse(const char *buf, size_t got, unsigned char key[SEAL_KEY_BYTES])
{
    if (!(got == KEY_HEX_LEN || (got == KEY_HEX_LEN + 1 && buf[KEY_HEX_LEN] == '\n')))
        return -1;
    for (int i = 0; i < SEAL_KEY_BYTES; i++) {
        int hi = text_hex_digit(buf[2 * i]), lo = text_hex_digit(buf[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* Reads and checks the key file. Returns 0, 1 when path does not exist,
 * or -1 with err set. */
static int key_read(const char *path, unsigned char key[SEAL_KEY_BYTES], char *err, size_t errlen)
{
    char buf[KEY_HEX_LEN + 2]; /* one byte more than allowed, to see a longer file */
    struct stat st;
    ssize_t got = 0;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
        goto done;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "cannot stat key file %s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "key file %s is not a regular file", path);
        goto done;
    }
    /* Whoever can read the key can open every sealed secret; whoever can
     * write it can make parleyd seal under their key. Refuse rather than
     * fix the mode: a loose mode may mean the key has already leaked. */
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen, "key file %s has mode %04o: group and others must have no access (chmod 600 %s)", path,
                 (unsigned)(st.st_mode & 07777), path);
        goto done;
    }
    while ((size_t)got < sizeof(buf)) {
        ssize_t r = read(fd, buf + got, sizeof(buf) - (size_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        got += r;
    }
    if (key_parse(buf, (size_t)got, key) < 0) {
        snprintf(err, errlen, "key file %s must hold exactly %d hex digits and an optional newline", path, KEY_HEX_LEN);
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

/* fsync of the directory holding path, so a link() made in it survives a
 * crash (the file's own fsync does not cover its name). */
static int sync_dir(const char *path)
{
    char copy[PATH_MAX];
    int fd, rc;
    snprintf(copy, sizeof(copy), "%s", path);
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Makes a new key file at path. Returns 0 with key set, 1 when another
 * process made path first, or -1 with err set. */
static int key_create(const char *path, unsigned char key[SEAL_KEY_BYTES], char *err, size_t errlen)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[PATH_MAX], text[KEY_HEX_LEN + 1];
    int fd = -1, rc = -1, made_tmp = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "key file path %s is too long", path);
        goto done;
    }
    if (RAND_bytes(key, SEAL_KEY_BYTES) != 1) {
        snprintf(err, errlen, "cannot make a key for %s: the random generator failed", path);
        goto done;
    }
    for (int i = 0; i < SEAL_KEY_BYTES; i++) {
        text[2 * i] = hex[key[i] >> 4];
        text[2 * i + 1] = hex[key[i] & 15];
    }
    text[KEY_HEX_LEN] = '\n';
    /* mkstemp makes the file 0600 whatever the umask; it gets its name
     * only once complete, so no reader ever sees half a key. */
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create key file %s: %s", tmp, strerror(errno));
        goto done;
    }
    made_tmp = 1;
    for (size_t off = 0; off < sizeof(text);) {
        ssize_t w = write(fd, text + off, sizeof(text) - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            snprintf(err, errlen, "cannot write key file %s: %s", tmp, strerror(errno));
            goto done;
        }
        off += (size_t)w;
    }
    if (fsync(fd) < 0) {
        snprintf(err, errlen, "cannot fsync key file %s: %s", tmp, strerror(errno));
        goto done;
    }
    /* link(), not rename(): rename would replace a key another process
     * has just made (and may already have sealed with); link fails with
     * EEXIST instead, and the loser reads the winner's key. */
    if (link(tmp, path) < 0) {
        if (errno == EEXIST) {
            rc = 1;
            goto done;
        }
        snprintf(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
        goto done;
    }
    if (sync_dir(path) < 0) {
        snprintf(err, errlen, "cannot fsync the directory of key file %s: %s", path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    if (made_tmp)
        unlink(tmp);
    OPENSSL_cleanse(text, sizeof(text));
    if (rc != 0)
        OPENSSL_cleanse(key, SEAL_KEY_BYTES);
    return rc;
}

int seal_key_load(const char *path, unsigned char key[SEAL_KEY_BYTES], char *err, size_t errlen)
{
    int rc;
    if (!err)
        errlen = 0;
    else if (errlen)
        err[0] = '\0';
    rc = key_read(path, key, err, errlen);
    if (rc == 1)
        rc = key_create(path, key, err, errlen);
    if (rc == 1) /* lost the race: the winner's file is complete */
        rc = key_read(path, key, err, errlen);
    if (rc == 1) {
        snprintf(err, errlen, "key file %s vanished while it was being created", path);
        rc = -1;
    }
    if (rc < 0)
        OPENSSL_cleanse(key, SEAL_KEY_BYTES);
    return rc;
}

/* --- sealing ------------------------------------------------------------- */

int seal_encrypt(const unsigned char key[SEAL_KEY_BYTES], const void *aad, size_t aadlen, const void *plain, size_t n,
                 unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *nonce = out, *ct = out + SEAL_NONCE_LEN;
    int len = 0, fin = 0, rc = -1;

    if (n > INT_MAX - SEAL_OVERHEAD || aadlen > INT_MAX)
        goto done;
    if (RAND_bytes(nonce, SEAL_NONCE_LEN) != 1)
        goto done;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || !EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) ||
        !EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce))
        goto done;
    if (aadlen && !EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen))
        goto done;
    len = 0;
    if (n && !EVP_EncryptUpdate(ctx, ct, &len, plain, (int)n))
        goto done;
    /* GCM is a stream mode: Update wrote all n bytes, Final writes none. */
    if (len != (int)n || !EVP_EncryptFinal_ex(ctx, ct + len, &fin) || fin != 0)
        goto done;
    if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + n))
        goto done;
    rc = 0;
done:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int seal_decrypt(const unsigned char key[SEAL_KEY_BYTES], const void *aad, size_t aadlen, const unsigned char *in,
                 size_t n, unsigned char *out)
{
    EVP_CIPHER_CTX *ctx = NULL;
    const unsigned char *nonce = in, *ct = in + SEAL_NONCE_LEN;
    size_t ctlen;
    int len = 0, fin = 0, rc = -1;

    if (n < SEAL_OVERHEAD || n > INT_MAX || aadlen > INT_MAX)
        return -1;
    ctlen = n - SEAL_OVERHEAD;
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || !EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) ||
        !EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce))
        goto done;
    if (aadlen && !EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen))
        goto done;
    len = 0;
    if (ctlen && !EVP_DecryptUpdate(ctx, out, &len, ct, (int)ctlen))
        goto done;
    if (len != (int)ctlen)
        goto done;
    if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, (void *)(ct + ctlen)))
        goto done;
    /* The tag is checked here, after the plaintext was written: on failure
     * out holds decrypted but unauthenticated bytes, wiped below. */
    if (EVP_DecryptFinal_ex(ctx, out + len, &fin) != 1 || fin != 0)
        goto done;
    rc = 0;
done:
    if (rc < 0 && ctlen)
        OPENSSL_cleanse(out, ctlen);
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}
