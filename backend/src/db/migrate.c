#include "db/migrate.h"

#include "core/log.h"
#include "core/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Arbitrary but fixed: every parleyd node takes the same lock key. */
#define MIGRATE_LOCK_KEY "7350210611"

int migrate_latest_version(void)
{
    return migrate_count ? migrate_list[migrate_count - 1].version : 0;
}

/* Hex SHA-256 of text (out holds 65 bytes). */
static void checksum_of(const char *text, char out[2 * TOKEN_DIGEST_LEN + 1])
{
    uint8_t digest[TOKEN_DIGEST_LEN];
    token_digest(text, strlen(text), digest);
    token_hex(digest, sizeof(digest), out);
}

/* Several statements of fixed SQL (no data): only the simple query
 * protocol runs them. It is code, not input. */
static int run_script(PGconn *conn, const struct migration *m)
{
    PGresult *res = PQexec(conn, m->sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        log_error("schema script failed", "name", m->name, "error", PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

static int migrate_one(PGconn *conn, const struct migration *m)
{
    char version[16], sum[2 * TOKEN_DIGEST_LEN + 1];
    const char *params[3] = {version, m->name, sum};
    int rc = -1;

    snprintf(version, sizeof(version), "%d", m->version);
    checksum_of(m->sql, sum);
    if (db_exec(conn, NULL, "BEGIN", 0, NULL) != DB_OK)
        return -1;
    if (run_script(conn, m) != 0)
        goto done;
    if (db_exec(conn, NULL, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::int, $2, $3)", 3,
                params) != DB_OK)
        goto done;
    if (db_exec(conn, NULL, "COMMIT", 0, NULL) != DB_OK)
        goto done;
    log_info("migration applied", "version", version, "name", m->name);
    rc = 0;
done:
    if (rc != 0 && PQtransactionStatus(conn) != PQTRANS_IDLE)
        db_exec(conn, NULL, "ROLLBACK", 0, NULL);
    return rc;
}

/* Every applied migration this binary knows must be the file it carries.
 * A row without a checksum (recorded before checksums existed) adopts the
 * file's. Returns 0, or -1 (logged) when history was edited. */
static int check_history(PGconn *conn)
{
    PGresult *res = NULL;
    int rc = -1;
    if (db_exec(conn, &res, "SELECT version, checksum FROM schema_migrations ORDER BY version", 0, NULL) != DB_OK)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        long long version = db_get_ll(res, i, 0, 0);
        const char *recorded = db_get_str(res, i, 1);
        const struct migration *m = NULL;
        char sum[2 * TOKEN_DIGEST_LEN + 1], v[16];
        for (size_t k = 0; k < migrate_count; k++)
            if (migrate_list[k].version == version)
                m = &migrate_list[k];
        if (!m)
            continue; /* newer than this binary: readyz says so */
        checksum_of(m->sql, sum);
        snprintf(v, sizeof(v), "%lld", version);
        if (!recorded) {
            if (db_exec(conn, NULL, "UPDATE schema_migrations SET checksum = $2 WHERE version = $1::int", 2,
                        (const char *const[]){v, sum}) != DB_OK)
                goto done;
        } else if (strcmp(recorded, sum) != 0) {
            log_error("a migration differs from the one applied: migrations are history; add a new migration instead "
                      "of editing an applied one",
                      "name", m->name, "applied", recorded, "file", sum);
            goto done;
        }
    }
    rc = 0;
done:
    PQclear(res);
    return rc;
}

/* The function files, in one transaction, when their checksum changed. */
static int apply_functions(PGconn *conn)
{
    char sum[2 * TOKEN_DIGEST_LEN + 1];
    PGresult *res = NULL;
    size_t total = 1;
    int rc = -1;
    for (size_t i = 0; i < migrate_functions_count; i++)
        total += strlen(migrate_functions[i].name) + strlen(migrate_functions[i].sql) + 2;
    char *all = malloc(total);
    if (!all)
        return -1;
    all[0] = '\0';
    for (size_t i = 0; i < migrate_functions_count; i++) {
        strcat(all, migrate_functions[i].name);
        strcat(all, "\n");
        strcat(all, migrate_functions[i].sql);
        strcat(all, "\n");
    }
    checksum_of(all, sum);
    free(all);
    if (db_exec(conn, &res, "SELECT checksum FROM schema_functions", 0, NULL) != DB_OK)
        return -1;
    int current = PQntuples(res) == 1 && db_get_str(res, 0, 0) && strcmp(db_get_str(res, 0, 0), sum) == 0;
    PQclear(res);
    if (current)
        return 0;
    if (db_exec(conn, NULL, "BEGIN", 0, NULL) != DB_OK)
        return -1;
    for (size_t i = 0; i < migrate_functions_count; i++)
        if (run_script(conn, &migrate_functions[i]) != 0)
            goto done;
    if (db_exec(conn, NULL,
                "INSERT INTO schema_functions (checksum) VALUES ($1)"
                " ON CONFLICT (id) DO UPDATE SET checksum = excluded.checksum, applied_at = now()",
                1, (const char *const[]){sum}) != DB_OK)
        goto done;
    if (db_exec(conn, NULL, "COMMIT", 0, NULL) != DB_OK)
        goto done;
    log_info("schema functions applied", "checksum", sum);
    rc = 0;
done:
    if (rc != 0 && PQtransactionStatus(conn) != PQTRANS_IDLE)
        db_exec(conn, NULL, "ROLLBACK", 0, NULL);
    return rc;
}

int migrate_apply(struct db_pool *pool)
{
    PGconn *conn = db_acquire(pool);
    PGresult *res = NULL;
    int applied = -1, locked = 0;
    if (!conn)
        return -1;
    if (db_exec(conn, NULL, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL) != DB_OK)
        goto done;
    locked = 1;
    if (db_exec(conn, NULL,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                0, NULL) != DB_OK ||
        db_exec(conn, NULL, "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text", 0, NULL) != DB_OK ||
        db_exec(conn, NULL,
                "CREATE TABLE IF NOT EXISTS schema_functions ("
                " id boolean PRIMARY KEY DEFAULT true CHECK (id), checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                0, NULL) != DB_OK)
        goto done;
    if (check_history(conn) != 0)
        goto done;
    if (db_exec(conn, &res, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL) != DB_OK)
        goto done;
    long long current = db_get_ll(res, 0, 0, 0);
    int n = 0;
    for (size_t i = 0; i < migrate_count; i++) {
        if (migrate_list[i].version <= current)
            continue;
        if (migrate_one(conn, &migrate_list[i]) != 0)
            goto done;
        n++;
    }
    /* An older binary must not put back its older functions. */
    if (current > migrate_latest_version()) {
        log_warn("the database's schema is newer than this binary; its functions are left as they are");
    } else if (apply_functions(conn) != 0) {
        goto done;
    }
    applied = n;
done:
    PQclear(res);
    if (locked)
        db_exec(conn, NULL, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL);
    db_release(pool, conn);
    return applied;
}

int migrate_current_version(struct db_pool *pool)
{
    PGresult *res = NULL;
    int version;
    /* to_regclass keeps a never-migrated database from raising an error. */
    if (db_read(pool, &res,
                "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0"
                " ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END",
                0, NULL) != DB_OK)
        return -1;
    version = (int)db_get_ll(res, 0, 0, 0);
    PQclear(res);
    return version;
}
