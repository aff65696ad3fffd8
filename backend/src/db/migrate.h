/* migrate: the schema's version and how it moves forward.
 *
 * Owns the list of migrations (migrations/NNNN_name.sql, compiled into the
 * binary by the build so a deployed parleyd always carries its own schema),
 * the schema_migrations table, and the advisory lock that lets several nodes
 * start at once without racing. */
#ifndef PARLEY_MIGRATE_H
#define PARLEY_MIGRATE_H

#include "db/db.h"

#include <stddef.h>

struct migration {
    int version;
    const char *name;
    const char *sql;
};

/* Defined in the generated migrations_gen.c. */
extern const struct migration migrate_list[];
extern const size_t migrate_count;

/* Applies every migration not yet recorded, each in its own transaction, in
 * order, holding a session advisory lock for the whole run. Returns the
 * number applied (0: already current) or -1 on error (logged). */
int migrate_apply(struct db_pool *pool);

/* The newest version this binary knows. */
int migrate_latest_version(void);

/* The database's version (0 if never migrated) or -1 if unreachable. */
int migrate_current_version(struct db_pool *pool);

#endif
