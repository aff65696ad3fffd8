#include "db/migrate.h"

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>

/* Arbitrary but fixed: every parleyd node takes the same lock key. */
#define MIGRATE_LOCK_KEY "7350210611"

int migrate_latest_version(void)
{
    return migrate_count ? migrate_list[migrate_count - 1].version : 0;
}

static int migrate_one(PGconn *conn, const struct migration *m)
{
    char version[16];
    const char *params[2] = {version, m->name};
    PGresult *res;
    int rc = -1;

    snprintf(version, sizeof(version), "%d", m->version);
    if (db_exec(conn, NULL, "BEGIN", 0, NULL) != DB_OK)
        return -1;
    /* A migration file is several statements of fixed SQL (no data), which
     * only the simple query protocol runs; it is code, not input. */
    res = PQexec(conn, m->sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        log_error("migration failed", "name", m->name, "error", PQresultErrorMessage(res));
        goto done;
    }
    if (db_exec(conn, NULL, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2, params) != DB_OK)
        goto done;
    if (db_exec(conn, NULL, "COMMIT", 0, NULL) != DB_OK)
        goto done;
    log_info("migration applied", "version", version, "name", m->name);
    rc = 0;
done:
    PQclear(res);
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
                0, NULL) != DB_OK)
        goto done;
    if (db_exec(conn, &res, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL) != DB_OK)
        goto done;
    long long current = db_get_ll(res, 0, 0, 0);
    applied = 0;
    for (size_t i = 0; i < migrate_count; i++) {
        if (migrate_list[i].version <= current)
            continue;
        if (migrate_one(conn, &migrate_list[i]) != 0) {
            applied = -1;
            break;
        }
        applied++;
    }
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
    if (db_query(pool, &res,
                 "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0"
                 " ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END",
                 0, NULL) != DB_OK)
        return -1;
    version = (int)db_get_ll(res, 0, 0, 0);
    PQclear(res);
    return version;
}
