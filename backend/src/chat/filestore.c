#include "chat/filestore.h"

#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct filestore {
    struct db_pool *db;
    int disk;       /* new files go to disk */
    char root[600]; /* data_dir/files: "" when disk is not set up */
};

static int make_dir(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

struct filestore *filestore_open(const char *kind, struct db_pool *db, const char *data_dir, char *err, size_t errlen)
{
    struct filestore *fs = calloc(1, sizeof(*fs));
    if (!fs) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fs->db = db;
    fs->disk = strcmp(kind, "disk") == 0;
    /* The directory exists whenever it can be made, so that files a disk
     * installation stored stay readable after it switches to pg. */
    snprintf(fs->root, sizeof(fs->root), "%s/files", data_dir);
    if (make_dir(data_dir) != 0 || make_dir(fs->root) != 0) {
        if (fs->disk) {
            snprintf(err, errlen, "PARLEY_DATA_DIR: cannot create %s: %s", fs->root, strerror(errno));
            free(fs);
            return NULL;
        }
        fs->root[0] = '\0';
    }
    return fs;
}

void filestore_close(struct filestore *fs)
{
    free(fs);
}

const char *filestore_kind(const struct filestore *fs)
{
    return fs->disk ? "disk" : "pg";
}

/* data_dir/files/ab/<id>; ids are lowercase hex (checked by the caller's
 * schema), so the path holds nothing a client chose. */
static int disk_path(const struct filestore *fs, const char *id, char *out, size_t len, int make_parent)
{
    char dir[700];
    if (!fs->root[0] || strlen(id) < 2 || strspn(id, "0123456789abcdef") != strlen(id))
        return -1;
    snprintf(dir, sizeof(dir), "%s/%.2s", fs->root, id);
    if (make_parent && make_dir(dir) != 0)
        return -1;
    return snprintf(out, len, "%s/%s", dir, id) < (int)len ? 0 : -1;
}

static enum chat_err disk_put(struct filestore *fs, const char *id, int n, const void *data, size_t len)
{
    char path[800];
    if (disk_path(fs, id, path, sizeof(path), 1) != 0)
        return CHAT_E_INTERNAL;
    int fd = open(path, O_WRONLY | O_CREAT | (n == 0 ? O_TRUNC : 0) | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("file store: cannot open", "path", path, "error", strerror(errno));
        return CHAT_E_UNAVAILABLE;
    }
    ssize_t w = pwrite(fd, data, len, (off_t)n * FILESTORE_CHUNK);
    int saved = errno;
    close(fd);
    if (w != (ssize_t)len) {
        log_error("file store: write failed", "path", path, "error", strerror(w < 0 ? saved : ENOSPC));
        return CHAT_E_UNAVAILABLE;
    }
    return CHAT_OK;
}

enum chat_err filestore_put(struct filestore *fs, const char *id, int n, const void *data, size_t len)
{
    if (fs->disk)
        return disk_put(fs, id, n, data, len);
    char num[16];
    snprintf(num, sizeof(num), "%d", n);
    const char *params[3] = {id, num, data};
    const int lengths[3] = {0, 0, (int)len};
    const int formats[3] = {0, 0, 1};
    PGconn *conn = db_acquire(fs->db);
    if (!conn)
        return CHAT_E_UNAVAILABLE;
    /* One statement, committed on its own: no connection is held between
     * chunks, however slowly the client sends them. */
    int rc = db_exec_bytes(conn, NULL, "INSERT INTO file_chunks (file_id, n, data) VALUES ($1, $2::integer, $3::bytea)",
                           3, params, lengths, formats, 0);
    db_release(fs->db, conn);
    return chat_err_of(rc);
}

enum chat_err filestore_finish(struct filestore *fs, const char *id)
{
    char path[800];
    if (!fs->disk)
        return CHAT_OK;
    if (disk_path(fs, id, path, sizeof(path), 0) != 0)
        return CHAT_E_INTERNAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) /* an empty file wrote no chunk */
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -1;
    if (fd >= 0)
        close(fd);
    /* The directory entry too, so the file survives a crash. */
    char dir[800];
    snprintf(dir, sizeof(dir), "%s/%.2s", fs->root, id);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0)
            rc = -1;
        close(dfd);
    }
    return rc == 0 ? CHAT_OK : CHAT_E_UNAVAILABLE;
}

static enum chat_err disk_get(struct filestore *fs, const char *id, int n, void *buf, size_t *len)
{
    char path[800];
    if (disk_path(fs, id, path, sizeof(path), 0) != 0)
        return CHAT_E_INTERNAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CHAT_E_NOT_FOUND : CHAT_E_UNAVAILABLE;
    size_t got = 0;
    while (got < FILESTORE_CHUNK) {
        ssize_t r = pread(fd, (char *)buf + got, FILESTORE_CHUNK - got, (off_t)n * FILESTORE_CHUNK + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return CHAT_OK;
}

enum chat_err filestore_get(struct filestore *fs, const char *storage, const char *id, int n, void *buf, size_t *len)
{
    *len = 0;
    if (strcmp(storage, "disk") == 0)
        return disk_get(fs, id, n, buf, len);
    char num[16];
    PGresult *res = NULL;
    snprintf(num, sizeof(num), "%d", n);
    const char *params[2] = {id, num};
    PGconn *conn = db_acquire(fs->db);
    if (!conn)
        return CHAT_E_UNAVAILABLE;
    int rc = db_exec_bytes(conn, &res, "SELECT data FROM file_chunks WHERE file_id = $1 AND n = $2::integer", 2, params,
                           NULL, NULL, 1);
    db_release(fs->db, conn);
    if (rc != DB_OK)
        return chat_err_of(rc);
    enum chat_err err = CHAT_OK;
    if (PQntuples(res) == 1) {
        int got = PQgetlength(res, 0, 0);
        if (got < 0 || got > FILESTORE_CHUNK)
            err = CHAT_E_INTERNAL;
        else {
            memcpy(buf, PQgetvalue(res, 0, 0), (size_t)got);
            *len = (size_t)got;
        }
    }
    PQclear(res);
    return err;
}

enum chat_err filestore_remove(struct filestore *fs, const char *storage, const char *id)
{
    if (strcmp(storage, "disk") == 0) {
        char path[800];
        if (disk_path(fs, id, path, sizeof(path), 0) != 0)
            return CHAT_E_INTERNAL;
        return unlink(path) == 0 || errno == ENOENT ? CHAT_OK : CHAT_E_UNAVAILABLE;
    }
    return chat_err_of(
        db_query(fs->db, NULL, "DELETE FROM file_chunks WHERE file_id = $1", 1, (const char *const[]){id}));
}
