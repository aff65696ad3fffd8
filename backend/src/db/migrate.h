/* migrate: the schema's version, how it moves forward, and its functions.
 *
 * Owns the list of migrations (migrations/NNNN_name.sql) and of function
 * files (backend/src/db/sql/NN_name.sql), both compiled into the binary by
 * the build so that a deployed parleyd always carries its own schema; the
 * schema_migrations table with a SHA-256 checksum per migration; and the
 * advisory lock that lets several nodes start at once without racing.
 *
 * Migrations are history: each is applied once, and one that differs from
 * what was applied (an edited file) stops start-up. Functions and triggers
 * are code: the function files are re-applied (CREATE OR REPLACE) whenever
 * their checksum differs from the one recorded in schema_functions, so a
 * function changes without a new migration. A binary older than the
 * database's schema applies neither. */
#ifndef PARLEY_MIGRATE_H
#define PARLEY_MIGRATE_H

#include "db/db.h"

#include <stddef.h>

struct migration {
    int version; /* 0 for a function file */
    const char *name;
    const char *sql;
};

/* Defined in the generated migrations_gen.c. */
extern const struct migration migrate_list[];
extern const size_t migrate_count;
extern const struct migration migrate_functions[];
extern const size_t migrate_functions_count;

/* Under a session advisory lock: checks the recorded checksums of applied
 * migrations (a missing one is recorded), applies every migration not yet
 * recorded, each in its own transaction, in order, then the function files
 * in one transaction when they changed. Returns the number of migrations
 * applied (0: already current) or -1 on error (logged). */
int migrate_apply(struct db_pool *pool);

/* The newest version this binary knows. */
int migrate_latest_version(void);

/* The database's version (0 if never migrated) or -1 if unreachable. */
int migrate_current_version(struct db_pool *pool);

#endif
