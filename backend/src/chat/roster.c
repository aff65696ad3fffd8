#include "chat/roster.h"

#include "chat/agents.h"
#include "chat/convo.h"
#include "chat/notify.h"
#include "chat/sessions.h"
#include "core/password.h"

#include <stdlib.h>
#include <string.h>

struct add_tx {
    const struct roster_new *n;
    const char *hash;
    char *teams; /* bigint[] text (db_id_array) */
    json_t *agent;
};

static int add_tx(PGconn *conn, void *arg)
{
    struct add_tx *t = arg;
    char *json = NULL;
    long long id = 0;
    /* The statements' codes stay the db layer's until db_transaction has
     * seen them, so that a serialization failure is retried. */
    int rc = agents_insert_tx(conn, t->n->email, t->n->name, t->n->role, t->hash, &id);
    json_decref(t->agent); /* a rerun starts over */
    t->agent = NULL;
    if (rc != CHAT_OK)
        return rc;
    const char *params[3] = {DB_ID(id), DB_ID(t->n->max_chats), t->teams};
    rc = db_exec(conn, NULL,
                 "WITH u AS (UPDATE agents SET max_chats = $2::int WHERE id = $1::bigint)"
                 " INSERT INTO team_members (team_id, agent_id)"
                 " SELECT t.id, $1::bigint FROM teams t WHERE t.id = ANY ($3::bigint[])",
                 3, params);
    /* A second statement: parley_agent_json reads the teams, which the
     * statement that inserted them could not see. */
    if (rc == DB_OK)
        rc = db_exec_text(conn, &json, "SELECT parley_agent_json(a)::text FROM agents a WHERE a.id = $1::bigint", 1,
                          (const char *const[]){DB_ID(id)});
    if (rc == DB_OK && !(t->agent = json_loads(json, 0, NULL)))
        rc = CHAT_E_INTERNAL;
    free(json);
    return rc;
}

enum chat_err roster_add(struct db_pool *db, const struct roster_new *n, json_t **agent, const char **field,
                         const char **message)
{
    char hash[PASSWORD_HASH_MAX];
    struct add_tx t = {.n = n, .hash = hash};
    enum chat_err err;
    *agent = NULL;
    /* Hashing takes a while: before the transaction, not inside it. */
    err = agents_check_new(n->email, n->name, n->role, n->password, hash, field, message);
    if (err != CHAT_OK)
        return err;
    t.teams = db_id_array(n->team_ids, n->nteam_ids > 0 ? (size_t)n->nteam_ids : 0);
    if (!t.teams)
        return CHAT_E_INTERNAL;
    err = chat_err_of_write(db_transaction(db, add_tx, &t));
    if (err == CHAT_OK)
        *agent = t.agent;
    else
        json_decref(t.agent);
    free(t.teams);
    return err;
}

struct change_tx {
    const struct roster_change *c;
    char *teams; /* bigint[] text (db_id_array), or NULL: unchanged */
    struct assign_work work;
};

static int change_tx(PGconn *conn, void *arg)
{
    struct change_tx *t = arg;
    const struct roster_change *c = t->c;
    PGresult *res = NULL;
    memset(&t->work, 0, sizeof(t->work)); /* a rerun starts over */
    const char *params[6] = {DB_ID(c->id),
                             c->name,
                             c->role,
                             c->max_chats >= 0 ? DB_ID(c->max_chats) : NULL,
                             c->active < 0 ? NULL
                             : c->active   ? "true"
                                           : "false",
                             c->password_hash};
    /* Codes stay the db layer's until db_transaction has seen them, so
     * that a serialization failure is retried. */
    int rc = db_exec(conn, &res,
                     "UPDATE agents SET name = coalesce($2, name), role = coalesce($3, role),"
                     " max_chats = coalesce($4::int, max_chats), active = coalesce($5::boolean, active),"
                     " password_hash = coalesce($6, password_hash), updated_at = now()"
                     " WHERE id = $1::bigint RETURNING id",
                     6, params);
    if (rc == DB_OK && PQntuples(res) != 1)
        rc = CHAT_E_NOT_FOUND;
    PQclear(res);
    if (rc == DB_OK && t->teams)
        rc = db_exec(
            conn, NULL,
            "WITH d AS (DELETE FROM team_members WHERE agent_id = $1::bigint AND NOT team_id = ANY ($2::bigint[]))"
            " INSERT INTO team_members (team_id, agent_id) SELECT t.id, $1::bigint FROM teams t"
            " WHERE t.id = ANY ($2::bigint[]) ON CONFLICT DO NOTHING",
            2, (const char *const[]){DB_ID(c->id), t->teams});
    if (rc != DB_OK)
        return rc;
    /* A role or team change NOTIFYs agent_rights by trigger: the agent's
     * sockets close on every node and reconnect with the new rights. */
    if (c->active == 0) {
        /* Deactivated: every socket is told to close (this notification
         * first, so they close with 4001 "deactivated"), every session
         * ends now, and their chats go back to the queue. */
        rc = notify_agent_off(conn, c->id);
        if (rc == CHAT_OK)
            rc = sessions_end_tx(conn, c->id, NULL);
        if (rc == CHAT_OK && convo_requeue_agent_tx(conn, c->id, &t->work) < 0)
            rc = CHAT_E_INTERNAL;
    } else if (c->password_hash) {
        /* Whoever knew the old password may hold a session: end them all
         * (but the admin's own current one), and their sockets. */
        rc = sessions_end_tx(conn, c->id, c->keep_session);
    }
    return rc;
}

enum chat_err roster_change(struct db_pool *db, const struct roster_change *c, char **json, struct assign_work *work)
{
    struct change_tx t = {.c = c};
    enum chat_err err;
    *json = NULL;
    memset(work, 0, sizeof(*work));
    if (c->nteam_ids >= 0 && !(t.teams = db_id_array(c->team_ids, (size_t)c->nteam_ids)))
        return CHAT_E_INTERNAL;
    err = chat_err_of_write(db_transaction(db, change_tx, &t));
    free(t.teams);
    if (err != CHAT_OK)
        return err;
    *work = t.work;
    /* More capacity, new teams, or freed chats: someone may be waiting. */
    if (c->max_chats >= 0 || c->nteam_ids >= 0)
        assign_work_agent(work, c->id);
    return agents_get_json(db, c->id, json);
}
