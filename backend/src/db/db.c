#include "db/db.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/token.h"

#include <errno.h>
#include <libpq-events.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct db_slot {
    PGconn *conn;
    int busy;
};

struct db_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    char *conninfo;
    char *options;
    int size;
    int in_use;
    int acquire_timeout_ms;
    struct db_slot *slots;
};

/* What a pooled connection has prepared, attached to its PGconn as libpq
 * instance data: libpq tells db_event when the connection is reset (the
 * server forgot its statements) and when it is freed. */
struct db_conn_state {
    const struct db_stmt *prepared[DB_STMT_MAX]; /* statement i is named "s<i>" */
    int nprepared;
};

static int db_event(PGEventId id, void *info, void *passthrough)
{
    (void)passthrough;
    switch (id) {
    case PGEVT_REGISTER: {
        PGEventRegister *e = info;
        struct db_conn_state *st = calloc(1, sizeof(*st));
        return st && PQsetInstanceData(e->conn, db_event, st);
    }
    case PGEVT_CONNRESET: {
        PGEventConnReset *e = info;
        struct db_conn_state *st = PQinstanceData(e->conn, db_event);
        if (st)
            st->nprepared = 0;
        return 1;
    }
    case PGEVT_CONNDESTROY: {
        PGEventConnDestroy *e = info;
        free(PQinstanceData(e->conn, db_event));
        return 1;
    }
    default:
        return 1;
    }
}

/* Server notices (e.g. "relation exists, skipping") go to the debug log,
 * not to libpq's default of raw lines on stderr. */
static void db_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("db notice", "detail", message);
}

static PGconn *connect_with(const char *conninfo, const char *options, const char *application_name)
{
    /* dbname first: expand_dbname makes it the whole conninfo/URI, and the
     * keys after it override what that sets. */
    const char *keys[] = {"dbname", "connect_timeout", "application_name", options ? "options" : NULL, NULL};
    const char *vals[] = {conninfo, "5", application_name, options, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn) {
        PQsetNoticeProcessor(conn, db_notice, NULL);
        /* Without it (out of memory) statements simply run unprepared. */
        (void)PQregisterEventProc(conn, db_event, "parley", NULL);
    }
    return conn;
}

PGconn *db_connect(struct db_pool *pool, const char *application_name)
{
    return connect_with(pool->conninfo, pool->options, application_name);
}

struct db_pool *db_pool_open(const char *conninfo, const char *options, int size, int acquire_timeout_ms, char *err,
                             size_t errlen)
{
    struct db_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        goto fail;
    pool->slots = calloc((size_t)size, sizeof(*pool->slots));
    pool->conninfo = strdup(conninfo);
    pool->options = options ? strdup(options) : NULL;
    if (!pool->slots || !pool->conninfo || (options && !pool->options))
        goto fail;
    pool->size = size;
    pool->acquire_timeout_ms = acquire_timeout_ms;
    pthread_mutex_init(&pool->lock, NULL);
    clock_cond_init(&pool->freed);
    pool->slots[0].conn = db_connect(pool, "parleyd");
    if (PQstatus(pool->slots[0].conn) != CONNECTION_OK) {
        /* libpq's message ends with a newline; keep the first line. */
        snprintf(err, errlen, "DATABASE_URL: cannot connect: %.*s",
                 (int)strcspn(PQerrorMessage(pool->slots[0].conn), "\n"), PQerrorMessage(pool->slots[0].conn));
        db_pool_close(pool);
        return NULL;
    }
    return pool;
fail:
    snprintf(err, errlen, "out of memory");
    if (pool) {
        free(pool->slots);
        free(pool->conninfo);
        free(pool->options);
        free(pool);
    }
    return NULL;
}

void db_pool_close(struct db_pool *pool)
{
    if (!pool)
        return;
    for (int i = 0; i < pool->size; i++)
        if (pool->slots[i].conn)
            PQfinish(pool->slots[i].conn);
    pthread_cond_destroy(&pool->freed);
    pthread_mutex_destroy(&pool->lock);
    free(pool->slots);
    free(pool->conninfo);
    free(pool->options);
    free(pool);
}

/* A connection whose server went away shows it on non-blocking reads: an
 * idle one holds the server's termination notice and then end-of-file, so it
 * takes two reads (the first takes the notice, only the second finds the
 * end) before libpq marks it bad. Checking here means a restart of
 * PostgreSQL costs one reconnect, not one failed request per pooled
 * connection. */
static int db_ensure_healthy(struct db_pool *pool, struct db_slot *slot)
{
    /* The slot is ours (busy), but other threads compare slot->conn under the
     * lock while they look for theirs: it is only written under the lock. */
    PGconn *conn = slot->conn;
    if (!conn) {
        conn = db_connect(pool, "parleyd");
    } else if (PQconsumeInput(conn) == 0 || PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
        log_warn("db connection lost; reconnecting");
        PQreset(conn);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        log_error("db connect failed", "error", PQerrorMessage(conn));
        PQfinish(conn);
        conn = NULL;
    }
    if (conn != slot->conn) {
        pthread_mutex_lock(&pool->lock);
        slot->conn = conn;
        pthread_mutex_unlock(&pool->lock);
    }
    return conn ? 0 : -1;
}

PGconn *db_acquire(struct db_pool *pool)
{
    struct timespec deadline = clock_deadline(pool->acquire_timeout_ms);
    struct db_slot *slot = NULL;
    pthread_mutex_lock(&pool->lock);
    while (!slot) {
        /* Prefer a slot with an open connection over opening a new one. */
        for (int pass = 0; pass < 2 && !slot; pass++)
            for (int i = 0; i < pool->size; i++)
                if (!pool->slots[i].busy && (pass == 1 || pool->slots[i].conn)) {
                    slot = &pool->slots[i];
                    break;
                }
        if (slot)
            break;
        if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT)
            break;
    }
    if (slot) {
        slot->busy = 1;
        pool->in_use++;
    }
    pthread_mutex_unlock(&pool->lock);
    if (!slot) {
        log_warn("db pool exhausted");
        return NULL;
    }
    if (db_ensure_healthy(pool, slot) != 0) {
        pthread_mutex_lock(&pool->lock);
        slot->busy = 0;
        pool->in_use--;
        pthread_cond_signal(&pool->freed);
        pthread_mutex_unlock(&pool->lock);
        return NULL;
    }
    return slot->conn;
}

void db_release(struct db_pool *pool, PGconn *conn)
{
    if (!conn)
        return;
    /* A connection given back mid-transaction (a bug path) must not leak its
     * open transaction to the next borrower. */
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(conn, "ROLLBACK");
        PQclear(r);
    }
    pthread_mutex_lock(&pool->lock);
    for (int i = 0; i < pool->size; i++) {
        if (pool->slots[i].conn == conn && pool->slots[i].busy) {
            pool->slots[i].busy = 0;
            pool->in_use--;
            break;
        }
    }
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}

int db_pool_in_use(struct db_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    int n = pool->in_use;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

int db_pool_size(struct db_pool *pool)
{
    return pool->size;
}

static int db_map_error(const PGresult *res, PGconn *conn)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(conn) != CONNECTION_OK || !state)
        return DB_E_UNAVAILABLE;
    if (strcmp(state, "23505") == 0)
        return DB_E_UNIQUE;
    if (strncmp(state, "23", 2) == 0)
        return DB_E_CONSTRAINT;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return DB_E_SERIALIZATION;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 || strcmp(state, "53300") == 0)
        return DB_E_UNAVAILABLE;
    return DB_E_QUERY;
}

/* Takes res (a statement's result, or NULL): DB_OK with the result in *out
 * (when out is not NULL), or the error, logged. */
static int db_result(PGconn *conn, PGresult *res, PGresult **out)
{
    ExecStatusType st = PQresultStatus(res);
    int rc = DB_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = db_map_error(res, conn);
        if (rc == DB_E_UNIQUE || rc == DB_E_CONSTRAINT || rc == DB_E_SERIALIZATION)
            log_debug("db statement refused", "sqlstate", res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "");
        else
            log_error("db statement failed", "error", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        PQclear(res);
        res = NULL;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return rc;
}

int db_exec(PGconn *conn, PGresult **out, const char *sql, int nparams, const char *const *params)
{
    return db_result(conn, PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0), out);
}

int db_exec_bytes(PGconn *conn, PGresult **out, const char *sql, int nparams, const char *const *params,
                  const int *lengths, const int *formats, int binary_result)
{
    return db_result(conn, PQexecParams(conn, sql, nparams, NULL, params, lengths, formats, binary_result), out);
}

int db_exec_stmt(PGconn *conn, PGresult **out, const struct db_stmt *stmt, const char *const *params)
{
    struct db_conn_state *st = PQinstanceData(conn, db_event);
    char name[16];
    int i = 0;
    while (st && i < st->nprepared && st->prepared[i] != stmt)
        i++;
    if (!st || i == DB_STMT_MAX)
        return db_exec(conn, out, stmt->sql, stmt->nparams, params);
    snprintf(name, sizeof(name), "s%d", i);
    if (i == st->nprepared) {
        int rc = db_result(conn, PQprepare(conn, name, stmt->sql, stmt->nparams, NULL), NULL);
        if (rc != DB_OK) {
            if (out)
                *out = NULL;
            return rc;
        }
        st->prepared[st->nprepared++] = stmt;
    }
    return db_result(conn, PQexecPrepared(conn, name, stmt->nparams, params, NULL, NULL, 0), out);
}

int db_query(struct db_pool *pool, PGresult **out, const char *sql, int nparams, const char *const *params)
{
    PGconn *conn = db_acquire(pool);
    int rc;
    if (!conn) {
        if (out)
            *out = NULL;
        return DB_E_UNAVAILABLE;
    }
    rc = db_exec(conn, out, sql, nparams, params);
    db_release(pool, conn);
    return rc;
}

/* Runs a read (sql, or stmt when not NULL) on a pooled connection; once
 * more on a fresh connection when the first one broke. */
static int db_read_any(struct db_pool *pool, PGresult **out, const char *sql, const struct db_stmt *stmt, int nparams,
                       const char *const *params)
{
    int rc = DB_E_UNAVAILABLE;
    if (out)
        *out = NULL;
    for (int attempt = 0; attempt < 2 && rc == DB_E_UNAVAILABLE; attempt++) {
        PGconn *conn = db_acquire(pool);
        if (!conn)
            break;
        rc = stmt ? db_exec_stmt(conn, out, stmt, params) : db_exec(conn, out, sql, nparams, params);
        /* A broken connection is reset when it is next handed out. */
        db_release(pool, conn);
    }
    return rc;
}

int db_read(struct db_pool *pool, PGresult **out, const char *sql, int nparams, const char *const *params)
{
    return db_read_any(pool, out, sql, NULL, nparams, params);
}

int db_read_stmt(struct db_pool *pool, PGresult **out, const struct db_stmt *stmt, const char *const *params)
{
    return db_read_any(pool, out, NULL, stmt, stmt->nparams, params);
}

int db_transaction(struct db_pool *pool, db_tx_fn fn, void *arg)
{
    PGconn *conn = db_acquire(pool);
    int rc = DB_E_UNAVAILABLE;
    if (!conn)
        return rc;
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = db_exec(conn, NULL, "BEGIN", 0, NULL);
        if (rc != DB_OK)
            break;
        rc = fn(conn, arg);
        if (rc == DB_OK)
            rc = db_exec(conn, NULL, "COMMIT", 0, NULL);
        if (rc != DB_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
            db_exec(conn, NULL, "ROLLBACK", 0, NULL);
        if (rc != DB_E_SERIALIZATION)
            break;
    }
    db_release(pool, conn);
    return rc;
}

long long db_get_ll(const PGresult *res, int row, int col, long long fallback)
{
    if (row >= PQntuples(res) || col >= PQnfields(res) || PQgetisnull(res, row, col))
        return fallback;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *db_get_str(const PGresult *res, int row, int col)
{
    if (row >= PQntuples(res) || col >= PQnfields(res) || PQgetisnull(res, row, col))
        return NULL;
    return PQgetvalue(res, row, col);
}

int db_get_bool(const PGresult *res, int row, int col)
{
    const char *v = db_get_str(res, row, col);
    return v && v[0] == 't';
}

const char *db_id_text(char *buf, long long v)
{
    snprintf(buf, DB_ID_LEN, "%lld", v);
    return buf;
}

int db_id_list(const char *text, long long *out, int max)
{
    int n = 0;
    while (text && *text && n < max) {
        char *end = NULL;
        long long v = strtoll(text, &end, 10);
        if (end == text)
            break;
        if (v > 0)
            out[n++] = v;
        text = *end == ',' ? end + 1 : end;
        if (*end != ',')
            break;
    }
    return n;
}

void db_bytea_hex(const unsigned char *bytes, size_t n, char *out)
{
    out[0] = '\\';
    out[1] = 'x';
    token_hex(bytes, n, out + 2);
}

char *db_id_array(const long long *ids, size_t n)
{
    char *buf = malloc(n * 21 + 3), *p = buf; /* "-9223372036854775808," at most per id */
    if (!buf)
        return NULL;
    *p++ = '{';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%lld", i ? "," : "", ids[i]);
    *p++ = '}';
    *p = '\0';
    return buf;
}

int db_ids_exist(struct db_pool *pool, const char *table, const long long *ids, size_t n, int *all)
{
    char sql[192];
    PGresult *res = NULL;
    char *arr = db_id_array(ids, n);
    int rc = DB_E_QUERY;
    *all = 0;
    if (!arr)
        return rc;
    snprintf(sql, sizeof(sql),
             "SELECT (SELECT count(*) FROM %s WHERE id = ANY ($1::bigint[]))"
             " = (SELECT count(DISTINCT x) FROM unnest($1::bigint[]) x)",
             table);
    rc = db_query(pool, &res, sql, 1, (const char *const[]){arr});
    if (rc == DB_OK)
        *all = db_get_bool(res, 0, 0);
    PQclear(res);
    free(arr);
    return rc;
}

static int result_text(int rc, PGresult *res, char **text)
{
    const char *v = rc == DB_OK ? db_get_str(res, 0, 0) : NULL;
    if (rc == DB_OK && !v)
        rc = DB_E_NOT_FOUND;
    if (v && !(*text = strdup(v)))
        rc = DB_E_QUERY;
    PQclear(res);
    return rc;
}

int db_exec_text(PGconn *conn, char **text, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = NULL;
    *text = NULL;
    int rc = db_exec(conn, &res, sql, nparams, params); /* before res is read */
    return result_text(rc, res, text);
}

int db_query_text(struct db_pool *pool, char **text, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = NULL;
    *text = NULL;
    int rc = db_query(pool, &res, sql, nparams, params); /* before res is read */
    return result_text(rc, res, text);
}

/* ---------------------------------------------------------------- cursors */

struct db_cursor {
    struct db_pool *pool;
    PGconn *conn;
};

int db_cursor_open(struct db_pool *pool, const char *sql, int nparams, const char *const *params,
                   struct db_cursor **out)
{
    struct db_cursor *c = calloc(1, sizeof(*c));
    struct strbuf q = {0};
    int rc = DB_E_QUERY;
    *out = NULL;
    if (!c)
        goto done;
    c->pool = pool;
    if (!(c->conn = db_acquire(pool))) {
        rc = DB_E_UNAVAILABLE;
        goto done;
    }
    strbuf_str(&q, "DECLARE rows NO SCROLL CURSOR FOR ");
    strbuf_str(&q, sql);
    if (q.failed)
        goto done;
    rc = db_exec(c->conn, NULL, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
    if (rc == DB_OK)
        rc = db_exec(c->conn, NULL, q.data, nparams, params);
done:
    strbuf_free(&q);
    if (rc == DB_OK)
        *out = c;
    else
        db_cursor_close(c);
    return rc;
}

int db_cursor_next(struct db_cursor *c, int batch, db_row_fn fn, void *arg, int *more)
{
    PGresult *res = NULL;
    char sql[48];
    *more = 0;
    snprintf(sql, sizeof(sql), "FETCH %d FROM rows", batch);
    int rc = db_exec(c->conn, &res, sql, 0, NULL);
    if (rc != DB_OK)
        return rc;
    int n = PQntuples(res), stopped = 0;
    for (int i = 0; i < n && !stopped; i++)
        stopped = fn(PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0), arg) != 0;
    *more = !stopped && n == batch;
    PQclear(res);
    return DB_OK;
}

void db_cursor_close(struct db_cursor *c)
{
    if (!c)
        return;
    if (c->conn)
        db_release(c->pool, c->conn); /* rolls the read-only transaction back */
    free(c);
}
