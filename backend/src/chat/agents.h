/* agents: agent accounts (the people who answer chats).
 *
 * Owns creating and reading agent rows and their JSON shape
 * (parley_agent_json, db/sql/30_shapes.sql), the rules for a valid email,
 * name and role, and checking an agent's password (login, and the current
 * password before a change). Passwords are handed to the password module
 * and only their hash is stored. Changing an agent, which ends sessions and
 * requeues chats, is chat/roster; the first-run admin is chat/workspace. */
#ifndef PARLEY_AGENTS_H
#define PARLEY_AGENTS_H

#include "chat/errors.h"
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

/* Checks a new agent's fields and hashes the password into hash (size
 * PASSWORD_HASH_MAX). CHAT_OK; CHAT_E_INVALID with *field ("email",
 * "name", "role" or "password") and *message (static text) set; or
 * CHAT_E_INTERNAL when hashing failed. Slow on purpose (scrypt): call it
 * before any transaction is opened. */
enum chat_err agents_check_new(const char *email, const char *name, const char *role, const char *password, char *hash,
                               const char **field, const char **message) CHAT_CHECKED;

/* Inside a transaction (or as its own statement): inserts an agent checked
 * by agents_check_new. CHAT_OK with *id set; CHAT_E_TAKEN when the email is
 * in use. */
enum chat_err agents_insert_tx(PGconn *conn, const char *email, const char *name, const char *role, const char *hash,
                               long long *id) CHAT_CHECKED;

/* agents_check_new, then agents_insert_tx on its own: what `parleyd agent
 * add` and the first-run admin use. Returns like those two. */
enum chat_err agents_create(struct db_pool *db, const char *email, const char *name, const char *role,
                            const char *password, long long *id, const char **field, const char **message) CHAT_CHECKED;

/* Every agent, by id, as {key: [parley_agent_json, ...]} JSON text (key:
 * "agents" for the console, "data" for the REST API); the caller frees
 * *json. */
enum chat_err agents_list_json(struct db_pool *db, const char *key, char **json) CHAT_CHECKED;

/* One agent as {"agent": parley_agent_json} JSON text (the caller frees
 * *json). CHAT_E_NOT_FOUND when there is none. */
enum chat_err agents_get_json(struct db_pool *db, long long id, char **json) CHAT_CHECKED;

/* *all = 1 when each of ids[0..n) names an agent (n 0: 1). */
enum chat_err agents_all_exist(struct db_pool *db, const long long *ids, int n, int *all) CHAT_CHECKED;

/* Login: the active agent with this email (any case) into *out, and
 * *verified = 1 when password is theirs. An unknown email costs the same
 * scrypt work (password_verify_dummy) and gives *verified = 0, so the
 * answer does not tell which accounts exist. */
enum chat_err agents_check_login(struct db_pool *db, const char *email, const char *password, struct agent *out,
                                 int *verified) CHAT_CHECKED;

/* *verified = 1 when password is the active agent's current one (0 when
 * it is not, or the agent is gone or inactive). */
enum chat_err agents_check_password(struct db_pool *db, long long id, const char *password, int *verified) CHAT_CHECKED;

/* Fills *a from columns (id, email, name, role, status, max_chats) starting at col. */
void agents_from_row(const PGresult *res, int row, int col, struct agent *a);

/* New JSON object describing a (caller owns the reference). */
json_t *agents_to_json(const struct agent *a);

#endif
