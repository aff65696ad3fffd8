/* agents: agent accounts (the people who answer chats).
 *
 * Owns creating and reading agent rows and their JSON shape, the rules for a
 * valid email, name and role, and the first-run admin. Passwords are handed
 * to the password module and only their hash is stored. */
#ifndef PARLEY_AGENTS_H
#define PARLEY_AGENTS_H

#include "db/db.h"

#include <jansson.h>
#include <stddef.h>

#define AGENT_EMAIL_MAX 254
#define AGENT_NAME_MAX  100 /* characters */

struct agent {
    long long id;
    char email[AGENT_EMAIL_MAX + 1];
    char name[AGENT_NAME_MAX * 4 + 1];
    char role[16];   /* admin | supervisor | agent */
    char status[16]; /* online | away | offline */
    int max_chats;
};

/* NULL when the value is acceptable, else a static message. */
const char *agents_email_error(const char *email);
const char *agents_name_error(const char *name);
const char *agents_role_error(const char *role);

/* Validates, hashes the password and inserts. Returns DB_OK with *id set;
 * DB_E_UNIQUE if the email is taken; DB_E_QUERY with *message set when a
 * value is invalid; another DB_E_* code otherwise. */
int agents_create(struct db_pool *pool, const char *email, const char *name, const char *role, const char *password,
                  long long *id, const char **message);

/* When no agent exists yet, creates an admin with a random password written
 * to password_out. Returns 1 created, 0 nothing to do, -1 error. */
int agents_bootstrap_admin(struct db_pool *pool, const char *email, char *password_out, size_t outlen);

/* Fills *a from columns (id, email, name, role, status, max_chats) starting at col. */
void agents_from_row(const PGresult *res, int row, int col, struct agent *a);

/* New JSON object describing a (caller owns the reference). */
json_t *agents_to_json(const struct agent *a);

#endif
