/* db: the PostgreSQL connection pool and the only way parleyd talks SQL.
 *
 * Owns a fixed set of libpq connections (a singleton per process, guarded by
 * one mutex + condition variable), their health, and the mapping of libpq
 * failures to a few error codes. Every statement is parameterised: there is
 * no function here that takes SQL assembled at run time from data.
 *
 * A connection found dead (PostgreSQL restarted, network cut) is reset when
 * it is handed out. A statement whose connection breaks after it was sent
 * is not retried: whether it ran (and, outside a transaction, committed) is
 * unknown, and running a write twice is worse than reporting
 * DB_E_UNAVAILABLE. Only db_read/db_read_stmt, for statements that may run
 * twice, try once more on a fresh connection.
 *
 * Statements on hot paths are struct db_stmt: prepared on a connection the
 * first time it runs them (named per connection; a reset connection
 * prepares again), then executed by name. */
#ifndef PARLEY_DB_H
#define PARLEY_DB_H

#include <libpq-fe.h>

enum db_error {
    DB_OK = 0,
    DB_E_UNAVAILABLE = -1,   /* no connection could be had or it broke */
    DB_E_UNIQUE = -2,        /* unique_violation (23505) */
    DB_E_CONSTRAINT = -3,    /* other integrity violation (23xxx) */
    DB_E_SERIALIZATION = -4, /* 40001 / 40P01: safe to retry the transaction */
    DB_E_QUERY = -5,         /* any other error: a bug or bad data */
    DB_E_NOT_FOUND = -6,     /* used by callers: no row where one was expected */
};

struct db_pool;

/* Opens the pool; connections are made on first use, except one made now so
 * that a wrong DATABASE_URL is reported at start-up. options: libpq's
 * "options" for every session (e.g. "-c parley.node_timeout_seconds=15",
 * the settings the SQL functions read), may be NULL. Returns NULL on failure
 * (message in err). Free with db_pool_close. */
struct db_pool *db_pool_open(const char *conninfo, const char *options, int size, int acquire_timeout_ms, char *err,
                             size_t errlen);
void db_pool_close(struct db_pool *pool);

/* A connection outside the pool (for LISTEN) to the pool's database with its
 * session options: 5 s connect timeout, server notices to the debug log.
 * Check PQstatus; the caller PQfinish()es it. */
PGconn *db_connect(struct db_pool *pool, const char *application_name);

/* Borrow a healthy connection (waits up to the acquire timeout). Returns NULL
 * when none could be had. Give it back with db_release. */
PGconn *db_acquire(struct db_pool *pool);
void db_release(struct db_pool *pool, PGconn *conn);

int db_pool_in_use(struct db_pool *pool);
int db_pool_size(struct db_pool *pool);

/* Runs one parameterised statement (text parameters, NULL for SQL NULL).
 * On success returns DB_OK and, if out is not NULL, the result (caller
 * PQclear()s it). On failure returns a DB_E_* code and sets *out to NULL. */
int db_exec(PGconn *conn, PGresult **out, const char *sql, int nparams, const char *const *params);

/* db_exec for binary data (file chunks): params[i] with formats[i] = 1 is
 * lengths[i] raw bytes (bytea); binary_result = 1 returns every column in
 * binary (a bytea column as its raw bytes, PQgetlength says how many). */
int db_exec_bytes(PGconn *conn, PGresult **out, const char *sql, int nparams, const char *const *params,
                  const int *lengths, const int *formats, int binary_result);

/* db_exec on a connection borrowed from the pool for this one statement. */
int db_query(struct db_pool *pool, PGresult **out, const char *sql, int nparams, const char *const *params);

/* db_query for a statement that may safely run twice (a read, an
 * idempotent touch): when the connection breaks, it runs once more on a
 * fresh one. */
int db_read(struct db_pool *pool, PGresult **out, const char *sql, int nparams, const char *const *params);

/* A statement prepared once per connection. Define it static const next to
 * its one caller: static const struct db_stmt find = {"SELECT ...", 1}; */
struct db_stmt {
    const char *sql;
    int nparams;
};
#define DB_STMT_MAX 64 /* prepared per connection; more run unprepared */

int db_exec_stmt(PGconn *conn, PGresult **out, const struct db_stmt *stmt, const char *const *params);
int db_read_stmt(struct db_pool *pool, PGresult **out, const struct db_stmt *stmt, const char *const *params);

/* Runs fn inside BEGIN ... COMMIT on one pooled connection. fn returns 0 to
 * commit or a negative code to roll back (that code is returned). A
 * serialization failure or deadlock reruns fn, up to three times. */
typedef int (*db_tx_fn)(PGconn *conn, void *arg);
int db_transaction(struct db_pool *pool, db_tx_fn fn, void *arg);

/* Field accessors for a result row; NULL/absent values give the fallback. */
long long db_get_ll(const PGresult *res, int row, int col, long long fallback);
const char *db_get_str(const PGresult *res, int row, int col); /* NULL for SQL NULL */
int db_get_bool(const PGresult *res, int row, int col);

/* An id as a text parameter, in a buffer that lives as long as the
 * enclosing block: db_exec(conn, NULL, sql, 1, (const char *const[]){DB_ID(id)}).
 * Parameters travel as text; this keeps the formatting in one place. */
#define DB_ID_LEN 24
#define DB_ID(v)  db_id_text((char[DB_ID_LEN]){""}, (v))
const char *db_id_text(char *buf, long long v);

/* Formats n bytes as a bytea text literal ("\\x..."), out size >= 2n+3. */
void db_bytea_hex(const unsigned char *bytes, size_t n, char *out);

/* ids[0..n) as a bigint[] text parameter ("{1,2,3}"), malloc'd: the caller
 * frees. NULL when out of memory. */
char *db_id_array(const long long *ids, size_t n);

/* Reads ids from text such as "3,5,8" (array_to_string of a bigint[]) into
 * out[0..max); returns how many (0 for NULL or empty text; ids beyond max
 * and anything that is not a positive id are left out). */
int db_id_list(const char *text, long long *out, int max);

/* *all = whether every id in ids[0..n) names a row of table (its "id"
 * column). table is a literal in the caller, never input: a table name is the
 * one part of a statement that cannot be a parameter. */
int db_ids_exist(struct db_pool *pool, const char *table, const long long *ids, size_t n, int *all);

/* For statements whose answer is one text value (row 0, column 0), such as
 * a JSON document built by SQL: DB_OK with *text a malloc'd copy (the
 * caller frees), DB_E_NOT_FOUND when there is no row or the value is NULL,
 * or another DB_E_* code; *text is NULL on every failure. */
int db_exec_text(PGconn *conn, char **text, const char *sql, int nparams, const char *const *params);
/* db_exec_text on a connection borrowed from the pool. */
int db_query_text(struct db_pool *pool, char **text, const char *sql, int nparams, const char *const *params);

/* A long read streamed in batches: one statement's rows, read from a
 * server-side cursor in a read-only repeatable-read transaction (one
 * snapshot: a row changing meanwhile is neither missed on one batch nor
 * repeated on the next), so memory stays flat whatever the number of rows.
 * The cursor holds a pooled connection until db_cursor_close. */
struct db_cursor;

/* Opens the cursor on sql (parameterised like db_exec). DB_OK with *out
 * (close it with db_cursor_close), or a DB_E_* code and *out NULL. */
int db_cursor_open(struct db_pool *pool, const char *sql, int nparams, const char *const *params,
                   struct db_cursor **out);
/* Called with column 0 of each row (text, len bytes; "" for NULL); returns
 * 0 to go on, anything else to stop. */
typedef int (*db_row_fn)(const char *text, size_t len, void *arg);
/* Hands the next batch (at most batch rows) to fn. *more = 0 once every
 * row was handed or fn stopped. */
int db_cursor_next(struct db_cursor *c, int batch, db_row_fn fn, void *arg, int *more);
/* Ends the transaction (a rollback: it only read) and gives the connection
 * back. NULL is fine. */
void db_cursor_close(struct db_cursor *c);

#endif
