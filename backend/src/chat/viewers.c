#include "chat/viewers.h"

#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>

enum chat_err viewers_set(struct app *app, const struct actor *a, long long conv, int open, json_t **viewers)
{
    const char *params[5] = {DB_ID(conv), DB_ID(a->id), app->node_id, open ? "true" : "false",
                             a->privileged ? "true" : "false"};
    PGresult *res = NULL;
    /* Leaving needs no permission: it only removes this socket's own row. */
    enum chat_err err = chat_err_of(
        db_query(app->db, &res,
                 "SELECT parley_viewer_set(c.id, $2::bigint, $3, $4::boolean) FROM conversations c"
                 " WHERE c.id = $1::bigint AND (NOT $4::boolean OR parley_agent_sees(c, $2::bigint, $5::boolean))",
                 5, params));
    if (err == CHAT_OK && open && PQntuples(res) != 1)
        err = CHAT_E_NOT_FOUND;
    PQclear(res);
    /* A statement of its own: within the one above, the list would be read
     * from the snapshot taken before the row was added. */
    if (err == CHAT_OK && open && viewers) {
        char *text = NULL;
        err = chat_err_of(db_query_text(app->db, &text, "SELECT parley_viewers_json($1::bigint)::text", 1, params));
        if (err == CHAT_OK && !(*viewers = json_loads(text, 0, NULL)))
            err = CHAT_E_INTERNAL;
        free(text);
    }
    return err;
}

enum chat_err viewers_typing(struct app *app, long long agent_id, long long conv, int on, int note)
{
    char secs[16];
    snprintf(secs, sizeof(secs), "%d", VIEWERS_TYPING_SECONDS);
    const char *params[6] = {DB_ID(conv),           DB_ID(agent_id),         app->node_id,
                             on ? "true" : "false", note ? "true" : "false", secs};
    return chat_err_of(db_query(
        app->db, NULL, "SELECT parley_viewer_typing($1::bigint, $2::bigint, $3, $4::boolean, $5::boolean, $6::int)", 6,
        params));
}

int viewers_sweep(struct app *app, const char *node_id)
{
    PGresult *res = NULL;
    int rc = db_query(app->db, &res, "SELECT parley_viewers_sweep($1)", 1, (const char *const[]){node_id});
    int n = rc == DB_OK ? (int)db_get_ll(res, 0, 0, 0) : -1;
    PQclear(res);
    return n;
}
