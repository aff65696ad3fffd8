#include "chat/files.h"

#include "chat/filestore.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/sniff.h"
#include "core/token.h"
#include "db/db.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINK_KEY_LEN 32
#define SWEEP_BATCH  100

struct files {
    struct app *app;
    struct filestore *store;
    unsigned char link_key[LINK_KEY_LEN];
    atomic_int receiving; /* uploads this node is receiving now */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    int sweeper_started;
    pthread_t sweeper;
};

struct file_upload {
    struct files *f;
    char id[FILE_ID_LEN + 1];
    long long conv;
    long long limit;
    json_t *types; /* the site's allowed types (array of strings) */
    char name[SNIFF_NAME_MAX + 1];
    long long received;
    int chunks;
    struct sniff_result sniffed;
    EVP_MD_CTX *sha;
    int finished; /* ready or rejected: nothing to delete at the end */
};

/* ----------------------------------------------------------- the link key */

/* The key every node signs file links with: created once by whichever
 * node comes first, read by all. */
static int load_link_key(struct db_pool *db, unsigned char key[LINK_KEY_LEN])
{
    unsigned char fresh[LINK_KEY_LEN];
    char hex[2 * LINK_KEY_LEN + 3];
    PGresult *res = NULL;
    if (RAND_bytes(fresh, sizeof(fresh)) != 1)
        return -1;
    db_bytea_hex(fresh, sizeof(fresh), hex);
    int rc = db_query(db, &res,
                      "WITH ins AS (INSERT INTO server_secrets (name, value) VALUES ('file_links', $1::bytea)"
                      "             ON CONFLICT (name) DO NOTHING RETURNING value)"
                      " SELECT encode(value, 'hex') FROM ins"
                      " UNION ALL SELECT encode(value, 'hex') FROM server_secrets WHERE name = 'file_links'"
                      " LIMIT 1",
                      1, (const char *const[]){hex});
    const char *got = rc == DB_OK && PQntuples(res) == 1 ? db_get_str(res, 0, 0) : NULL;
    int ok = got && strlen(got) >= 2 * LINK_KEY_LEN;
    for (int i = 0; ok && i < LINK_KEY_LEN; i++) {
        unsigned v;
        if (sscanf(got + 2 * i, "%2x", &v) != 1)
            ok = 0;
        key[i] = (unsigned char)v;
    }
    PQclear(res);
    return ok ? 0 : -1;
}

static void link_sig(const struct files *f, const char *id, long long expires, char hex[65])
{
    char msg[FILE_ID_LEN + 32];
    unsigned char mac[32];
    int n = snprintf(msg, sizeof(msg), "%s.%lld", id, expires);
    if (token_hmac(f->link_key, sizeof(f->link_key), msg, (size_t)n, mac) != 0)
        memset(mac, 0, sizeof(mac)); /* signs nothing anyone can produce: every link is refused */
    token_hex(mac, sizeof(mac), hex);
}

void files_link(struct app *app, const char *id, char *url, size_t len, long long *expires)
{
    char sig[65];
    /* Rounded to the minute: the same link for a minute, so browsers
     * reuse what they fetched. */
    long long until = ((long long)time(NULL) + app->cfg->file_link_seconds + 59) / 60 * 60;
    link_sig(app->files, id, until, sig);
    snprintf(url, len, "/api/files/%s?expires=%lld&sig=%s", id, until, sig);
    *expires = until;
}

int files_link_valid(struct app *app, const char *id, const char *expires, const char *sig)
{
    char want[65], *end = NULL;
    if (!expires || !sig || strlen(sig) != 64)
        return 0;
    long long until = strtoll(expires, &end, 10);
    if (!*expires || *end || until < (long long)time(NULL))
        return 0;
    /* A link never lives longer than the setting allows, whatever it says. */
    if (until > (long long)time(NULL) + app->cfg->file_link_seconds + 60)
        return 0;
    link_sig(app->files, id, until, want);
    return token_equal(want, sig);
}

/* ----------------------------------------------------------------- upload */

enum chat_err files_upload_begin(struct app *app, const struct actor *who, long long conv, const char *name,
                                 long long declared, struct file_upload **out, struct file_refusal *why)
{
    struct files *f = app->files;
    const struct config *cfg = app->cfg;
    unsigned char raw[FILE_ID_LEN / 2];
    char id[FILE_ID_LEN + 1], declared_text[24], per_minute[16], per_day[24];
    PGresult *res = NULL;
    struct file_upload *u = NULL;
    enum chat_err err;

    *out = NULL;
    why->retry_after = 0;
    why->max_bytes = cfg->upload_max_bytes;
    /* Each upload holds a worker thread while its body arrives: bound how
     * many this node receives at once. */
    if (atomic_fetch_add(&f->receiving, 1) >= cfg->upload_concurrency) {
        atomic_fetch_sub(&f->receiving, 1);
        why->retry_after = 5;
        return CHAT_E_AT_CAPACITY;
    }
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        err = CHAT_E_INTERNAL;
        goto fail;
    }
    token_hex(raw, sizeof(raw), id);
    snprintf(declared_text, sizeof(declared_text), "%lld", declared);
    snprintf(per_minute, sizeof(per_minute), "%d", cfg->upload_visitor_per_minute);
    snprintf(per_day, sizeof(per_day), "%ld", cfg->upload_site_bytes_per_day);
    const char *params[11] = {id,
                              DB_ID(conv),
                              actor_kind_name(who),
                              DB_ID(who->id),
                              who->privileged ? "true" : "false",
                              name,
                              app->node_id,
                              filestore_kind(f->store),
                              declared >= 0 ? declared_text : NULL,
                              per_minute,
                              per_day};
    err = chat_err_of(db_query(app->db, &res,
                               "SELECT status, max_bytes, array_to_json(types)::text, retry_after"
                               " FROM parley_file_begin($1, $2::bigint, $3, $4::bigint, $5::boolean, $6, $7, $8,"
                               "                        $9::bigint, $10::integer, $11::bigint)",
                               11, params));
    if (err != CHAT_OK)
        goto fail;
    const char *status = PQntuples(res) == 1 ? db_get_str(res, 0, 0) : "";
    why->retry_after = (int)db_get_ll(res, 0, 3, 0);
    why->max_bytes = db_get_ll(res, 0, 1, why->max_bytes);
    if (strcmp(status, "ok") != 0) {
        err = strcmp(status, "not_found") == 0          ? CHAT_E_NOT_FOUND
              : strcmp(status, "closed") == 0           ? CHAT_E_CLOSED
              : strcmp(status, "uploads_disabled") == 0 ? CHAT_E_UPLOADS_DISABLED
              : strcmp(status, "too_large") == 0        ? CHAT_E_FILE_TOO_LARGE
              : strcmp(status, "rate_limited") == 0     ? CHAT_E_RATE_LIMITED
              : strcmp(status, "quota") == 0            ? CHAT_E_RATE_LIMITED
                                                        : CHAT_E_INTERNAL;
        goto fail;
    }
    if (!(u = calloc(1, sizeof(*u)))) {
        err = CHAT_E_INTERNAL; /* the row stays pending: the sweeper takes it */
        goto fail;
    }
    u->f = f;
    memcpy(u->id, id, sizeof(u->id));
    u->conv = conv;
    u->limit = why->max_bytes;
    snprintf(u->name, sizeof(u->name), "%s", name);
    if (!(u->sha = EVP_MD_CTX_new()) || EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL) != 1 ||
        !(u->types = json_loads(db_get_str(res, 0, 2), 0, NULL))) {
        /* The row exists now: ended like any unfinished upload. */
        PQclear(res);
        files_upload_end(u);
        return CHAT_E_INTERNAL;
    }
    PQclear(res);
    *out = u;
    return CHAT_OK;
fail:
    PQclear(res);
    atomic_fetch_sub(&f->receiving, 1);
    return err;
}

long long files_upload_limit(const struct file_upload *u)
{
    return u->limit;
}

const char *files_upload_type(const struct file_upload *u)
{
    return u->sniffed.type; /* NULL until the first chunk is sniffed */
}

static int type_allowed(const json_t *types, const char *type)
{
    size_t i;
    json_t *t;
    int any = 0;
    json_array_foreach(types, i, t)
    {
        if (strcmp(json_string_value(t), type) == 0)
            return 1;
        if (strcmp(json_string_value(t), SNIFF_TYPE_UNKNOWN) == 0)
            any = 1;
    }
    /* "Any other file": whatever the bytes are, stored as what they are and
     * never served inline unless a raster image. */
    return any;
}

enum chat_err files_upload_write(struct file_upload *u, const unsigned char *data, size_t len)
{
    if (u->received + (long long)len > u->limit)
        return CHAT_E_FILE_TOO_LARGE;
    if (u->chunks == 0) {
        sniff_type(data, len, u->name, &u->sniffed);
        if (!type_allowed(u->types, u->sniffed.type))
            return CHAT_E_FILE_TYPE;
    }
    if (EVP_DigestUpdate(u->sha, data, len) != 1)
        return CHAT_E_INTERNAL;
    enum chat_err err = filestore_put(u->f->store, u->id, u->chunks, data, len);
    if (err == CHAT_OK) {
        u->chunks++;
        u->received += (long long)len;
    }
    return err;
}

/* Feeds the file to PARLEY_UPLOAD_SCAN_CMD on stdin (through /bin/sh) and
 * waits for its verdict: 0 clean (exit 0), 1 refused (any other exit, a
 * signal, a timeout, or a scanner that cannot run: fail closed). */
static int scan_refuses(struct file_upload *u, const char *cmd, int timeout_s)
{
    struct files *f = u->f;
    int fds[2], refused = 1, status = 0;
    pid_t pid = -1;
    unsigned char *buf = NULL;
    posix_spawn_file_actions_t fa;
    extern char **environ;
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    double deadline = clock_now() + timeout_s;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return 1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    if (rc != 0) {
        log_error("upload scan: cannot start", "error", strerror(rc));
        close(fds[1]);
        return 1;
    }
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    buf = malloc(FILESTORE_CHUNK);
    for (int n = 0; buf; n++) {
        size_t len = 0, off = 0;
        if (filestore_get(f->store, filestore_kind(f->store), u->id, n, buf, &len) != CHAT_OK || len == 0)
            break;
        while (off < len) {
            ssize_t w = write(fds[1], buf + off, len - off);
            if (w > 0) {
                off += (size_t)w;
                continue;
            }
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                break; /* the scanner stopped reading (EPIPE): its exit status decides */
            struct pollfd p = {.fd = fds[1], .events = POLLOUT};
            int left = (int)((deadline - clock_now()) * 1000);
            if (left <= 0 || poll(&p, 1, left) <= 0)
                break;
        }
        if (off < len)
            break;
    }
    free(buf);
    close(fds[1]);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            refused = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
        if (clock_now() > deadline) {
            log_warn("upload scan: timed out; the file is rejected", "file", u->id);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return refused;
}

enum chat_err files_upload_finish(struct file_upload *u, char **file_json)
{
    struct app *app = u->f->app;
    unsigned char digest[32];
    unsigned int dlen = 0;
    char sha_hex[2 * 32 + 3], size[24], width[16], height[16];
    *file_json = NULL;
    if (u->received == 0)
        return CHAT_E_INVALID;
    enum chat_err err = filestore_finish(u->f->store, u->id);
    if (err != CHAT_OK)
        return err;
    if (EVP_DigestFinal_ex(u->sha, digest, &dlen) != 1 || dlen != 32)
        return CHAT_E_INTERNAL;
    if (app->cfg->upload_scan_cmd[0] &&
        scan_refuses(u, app->cfg->upload_scan_cmd, app->cfg->upload_scan_timeout_seconds)) {
        /* Kept as a row (who sent what, when), without its bytes. */
        if (filestore_remove(u->f->store, filestore_kind(u->f->store), u->id) != CHAT_OK ||
            db_query(app->db, NULL, "UPDATE files SET state = 'rejected', size = $2::bigint WHERE id = $1", 2,
                     (const char *const[]){u->id, DB_ID(u->received)}) != DB_OK)
            return CHAT_E_UNAVAILABLE; /* ended as unfinished: deleted */
        u->finished = 1;
        log_info("upload refused by the scan", "file", u->id);
        return CHAT_E_FILE_REJECTED;
    }
    db_bytea_hex(digest, sizeof(digest), sha_hex);
    snprintf(size, sizeof(size), "%lld", u->received);
    snprintf(width, sizeof(width), "%d", u->sniffed.width);
    snprintf(height, sizeof(height), "%d", u->sniffed.height);
    const char *params[6] = {
        u->id, size, sha_hex, u->sniffed.type, u->sniffed.width ? width : NULL, u->sniffed.height ? height : NULL};
    err = chat_err_of(db_query_text(app->db, file_json,
                                    "UPDATE files SET state = 'ready', size = $2::bigint, sha256 = $3::bytea,"
                                    "  content_type = $4, width = $5::integer, height = $6::integer, ready_at = now()"
                                    " WHERE id = $1 AND state = 'pending' RETURNING parley_file_json(files)::text",
                                    6, params));
    if (err == CHAT_OK)
        u->finished = 1;
    else if (err == CHAT_E_NOT_FOUND)
        err = CHAT_E_UNAVAILABLE; /* swept meanwhile (took too long): send it again */
    return err;
}

void files_upload_end(struct file_upload *u)
{
    if (!u)
        return;
    struct app *app = u->f->app;
    if (!u->finished) {
        /* Bytes first, then the row: a crash in between leaves a pending
         * row for the sweeper, never bytes without a row. */
        if (filestore_remove(u->f->store, filestore_kind(u->f->store), u->id) != CHAT_OK ||
            db_query(app->db, NULL, "DELETE FROM files WHERE id = $1 AND state = 'pending'", 1,
                     (const char *const[]){u->id}) != DB_OK)
            log_warn("upload: could not delete an unfinished file; the sweeper will", "file", u->id);
    }
    if (u->received > 0 &&
        db_query(app->db, NULL,
                 "SELECT parley_file_count_bytes((SELECT site_id FROM conversations WHERE id = $1::bigint),"
                 " $2::bigint)",
                 2, (const char *const[]){DB_ID(u->conv), DB_ID(u->received)}) != DB_OK)
        log_warn("upload: bytes not counted against the site's day", "file", u->id);
    atomic_fetch_sub(&u->f->receiving, 1);
    json_decref(u->types);
    EVP_MD_CTX_free(u->sha);
    free(u);
}

/* --------------------------------------------------------------- download */

enum chat_err files_find(struct app *app, const char *id, const struct actor *who, int with_notes,
                         struct file_meta *out)
{
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    if (!messages_file_id_valid(id))
        return CHAT_E_NOT_FOUND;
    const char *params[5] = {id, who ? actor_kind_name(who) : "link", DB_ID(who ? who->id : 0),
                             who && who->privileged ? "true" : "false", with_notes ? "true" : "false"};
    enum chat_err err =
        chat_err_of(db_read(app->db, &res,
                            "SELECT f.state, f.storage, f.content_type, f.name, f.size,"
                            "  $2 = 'link' OR parley_file_visible(f, $2, $3::bigint, $4::boolean, $5::boolean)"
                            " FROM files f WHERE f.id = $1",
                            5, params));
    if (err != CHAT_OK)
        return err;
    if (PQntuples(res) != 1 || !db_get_bool(res, 0, 5)) {
        err = CHAT_E_NOT_FOUND;
    } else if (strcmp(db_get_str(res, 0, 0), "removed") == 0) {
        err = CHAT_E_FILE_REMOVED;
    } else if (strcmp(db_get_str(res, 0, 0), "ready") != 0) {
        err = CHAT_E_NOT_FOUND;
    } else {
        snprintf(out->id, sizeof(out->id), "%s", id);
        snprintf(out->storage, sizeof(out->storage), "%s", db_get_str(res, 0, 1));
        snprintf(out->type, sizeof(out->type), "%s", db_get_str(res, 0, 2));
        snprintf(out->name, sizeof(out->name), "%s", db_get_str(res, 0, 3));
        out->size = db_get_ll(res, 0, 4, 0);
    }
    PQclear(res);
    return err;
}

enum chat_err files_read(struct app *app, const struct file_meta *m, int n, void *buf, size_t *len)
{
    return filestore_get(app->files->store, m->storage, m->id, n, buf, len);
}

enum chat_err files_list_json(struct app *app, const struct actor *who, long long conv, char **json)
{
    const char *params[3] = {DB_ID(conv), DB_ID(who->id), who->privileged ? "true" : "false"};
    return chat_err_of(
        db_query_text(app->db, json,
                      "SELECT json_build_object('files', coalesce(jsonb_agg(parley_file_json(f) || jsonb_build_object("
                      "    'message_seq', m.seq, 'kind', m.kind,"
                      "    'author', parley_message_json(m, 'agent')->'author', 'created_at', parley_iso(m.created_at))"
                      "  ORDER BY m.seq, f.attached_at) FILTER (WHERE f.id IS NOT NULL), '[]'::jsonb))::text"
                      " FROM conversations c"
                      " LEFT JOIN files f ON f.conversation_id = c.id AND f.message_id IS NOT NULL"
                      " LEFT JOIN messages m ON m.id = f.message_id"
                      " WHERE c.id = $1::bigint"
                      "   AND parley_agent_sees(c, $2::bigint, $3::boolean)"
                      " GROUP BY c.id",
                      3, params));
}

/* ------------------------------------------------------------------ sweep */

static void remove_bytes(struct files *f, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++)
        if (filestore_remove(f->store, db_get_str(res, i, 1), db_get_str(res, i, 0)) != CHAT_OK)
            log_warn("file sweep: bytes not deleted", "file", db_get_str(res, i, 0));
}

void files_sweep(struct files *f)
{
    const struct config *cfg = f->app->cfg;
    char batch[16], upload_s[16], unattached_s[16];
    PGresult *res = NULL;
    snprintf(batch, sizeof(batch), "%d", SWEEP_BATCH);
    /* An upload is given its time to arrive and be scanned, and a minute more. */
    snprintf(upload_s, sizeof(upload_s), "%d",
             cfg->upload_timeout_seconds + (cfg->upload_scan_cmd[0] ? cfg->upload_scan_timeout_seconds : 0) + 60);
    snprintf(unattached_s, sizeof(unattached_s), "%d", cfg->upload_unattached_seconds);
    if (db_query(f->app->db, &res, "SELECT id, storage FROM parley_files_sweep($1::integer, $2::integer, $3::integer)",
                 3, (const char *const[]){batch, upload_s, unattached_s}) == DB_OK) {
        if (PQntuples(res) > 0) {
            char count[16];
            snprintf(count, sizeof(count), "%d", PQntuples(res));
            log_info("file sweep: removed unfinished or unsent files", "count", count);
        }
        remove_bytes(f, res);
    }
    PQclear(res);
    res = NULL;
    if (db_query(f->app->db, &res, "SELECT id, storage FROM parley_files_expire($1::integer)", 1,
                 (const char *const[]){batch}) == DB_OK)
        remove_bytes(f, res);
    PQclear(res);
    if (db_query(f->app->db, NULL, "DELETE FROM upload_counters WHERE window_start < now() - interval '2 days'", 0,
                 NULL) != DB_OK)
        log_debug("file sweep: counters not pruned");
}

static void *sweeper_main(void *arg)
{
    struct files *f = arg;
    pthread_mutex_lock(&f->lock);
    while (!f->stopping) {
        pthread_mutex_unlock(&f->lock);
        files_sweep(f);
        pthread_mutex_lock(&f->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += f->app->cfg->files_sweep_seconds;
        while (!f->stopping && pthread_cond_timedwait(&f->wake, &f->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

struct files *files_open(struct app *app, char *err, size_t errlen)
{
    struct files *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->app = app;
    atomic_init(&f->receiving, 0);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->wake, NULL);
    f->store = filestore_open(app->cfg->upload_storage, app->db, app->cfg->data_dir, err, errlen);
    if (!f->store) {
        files_close(f);
        return NULL;
    }
    if (load_link_key(app->db, f->link_key) != 0) {
        snprintf(err, errlen, "files: cannot read or create the link key (server_secrets)");
        files_close(f);
        return NULL;
    }
    if (pthread_create(&f->sweeper, NULL, sweeper_main, f) != 0) {
        snprintf(err, errlen, "files: cannot start the sweeper thread");
        files_close(f);
        return NULL;
    }
    f->sweeper_started = 1;
    return f;
}

void files_close(struct files *f)
{
    if (!f)
        return;
    if (f->sweeper_started) {
        pthread_mutex_lock(&f->lock);
        f->stopping = 1;
        pthread_cond_signal(&f->wake);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->sweeper, NULL);
    }
    filestore_close(f->store);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->wake);
    free(f);
}
