#include "chat/workspace.h"

#include "chat/agents.h"
#include "core/log.h"
#include "core/token.h"

#include <stdio.h>

enum chat_err workspace_bootstrap_admin(struct db_pool *db, const char *email, char *password_out, size_t outlen,
                                        int *created)
{
    PGresult *res = NULL;
    const char *field = NULL, *message = NULL;
    long long id;
    *created = 0;
    enum chat_err err = chat_err_of(db_query(db, &res, "SELECT EXISTS (SELECT 1 FROM agents)", 0, NULL));
    int exists = err == CHAT_OK && db_get_bool(res, 0, 0);
    PQclear(res);
    if (err != CHAT_OK || exists)
        return err;
    if (token_generate("", password_out, outlen) != 0)
        return CHAT_E_INTERNAL;
    password_out[20] = '\0'; /* 20 base64url chars: 120 bits, easy to type */
    err = agents_create(db, email, "Admin", "admin", password_out, &id, &field, &message);
    if (err == CHAT_E_TAKEN)
        return CHAT_OK; /* another node created it first */
    if (err != CHAT_OK) {
        log_error("cannot create the first admin", "detail", message ? message : "database error");
        return err;
    }
    *created = 1;
    return CHAT_OK;
}

enum chat_err workspace_bootstrap(struct db_pool *db, const char *public_origin, char *site_key, size_t keylen,
                                  int *created)
{
    char key[TOKEN_MAX_LEN];
    PGresult *res = NULL;
    *created = 0;
    if (token_generate("", key, sizeof(key)) != 0)
        return CHAT_E_INTERNAL;
    key[24] = '\0';
    /* One statement: on a database that has a team already it inserts
     * nothing, so every start (and every node) may run it. */
    enum chat_err err = chat_err_of(
        db_query(db, &res,
                 "WITH t AS (INSERT INTO teams (name) SELECT 'Support' WHERE NOT EXISTS (SELECT 1 FROM teams)"
                 "           RETURNING id),"
                 " s AS (INSERT INTO sites (name, public_key, allowed_origins, default_team_id)"
                 "       SELECT 'Demo site', $1, ARRAY[$2], id FROM t RETURNING public_key),"
                 " m AS (INSERT INTO team_members (team_id, agent_id) SELECT t.id, a.id FROM t, agents a)"
                 " SELECT public_key FROM s",
                 2, (const char *const[]){key, public_origin}));
    if (err == CHAT_OK && PQntuples(res) == 1) {
        snprintf(site_key, keylen, "%s", db_get_str(res, 0, 0));
        *created = 1;
    }
    PQclear(res);
    return err;
}
