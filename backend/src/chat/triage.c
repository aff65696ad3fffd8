#include "chat/triage.h"

#include "chat/convo.h"
#include "chat/messages.h"
#include "chat/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const priorities[] = {"low", "normal", "high", "urgent"};

const char *triage_priority_name(int value)
{
    return value >= 0 && value < 4 ? priorities[value] : NULL;
}

int triage_priority_value(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, priorities[i]) == 0)
            return i;
    return -1;
}

struct triage_ctx {
    const struct actor *a;
    long long conv;
    int priority;
    const long long *ids;
    size_t n;
    json_t *reply;
};

/* Locks the conversation; the actor must see it (an agent of its team, in
 * it, or privileged; an integration) and it must be open. */
static int lock_seen(PGconn *conn, const struct triage_ctx *ctx, struct convo_row *c)
{
    int rc = convo_lock_tx(conn, ctx->a, ctx->conv, c);
    if (rc != DB_OK)
        return rc;
    if (ctx->a->kind == ACTOR_AGENT && !c->privileged && !c->in_team && !c->participant && c->assignee_id != ctx->a->id)
        return CHAT_E_NOT_FOUND;
    if (ctx->a->kind == ACTOR_VISITOR || ctx->a->kind == ACTOR_BOT)
        return CHAT_E_FORBIDDEN;
    return strcmp(c->status, "closed") == 0 ? CHAT_E_INVALID_STATE : DB_OK;
}

static int priority_tx(PGconn *conn, void *arg)
{
    struct triage_ctx *ctx = arg;
    struct convo_row c;
    char value[16], body[64];
    json_decref(ctx->reply);
    ctx->reply = NULL;
    int rc = lock_seen(conn, ctx, &c);
    if (rc != DB_OK || c.priority == ctx->priority) {
        if (rc == DB_OK)
            rc = convo_json_tx(conn, c.id, "agent", &ctx->reply);
        return rc;
    }
    snprintf(value, sizeof(value), "%d", ctx->priority);
    rc = db_exec(conn, NULL,
                 "UPDATE conversations SET priority = $2::smallint, updated_at = now() WHERE id = $1::bigint", 2,
                 (const char *const[]){DB_ID(c.id), value});
    if (rc != DB_OK)
        return rc;
    /* A note, not an event line: how urgent the team finds it is not the
     * visitor's business. */
    snprintf(body, sizeof(body), "Priority set to %s", priorities[ctx->priority]);
    struct message_post note = {
        .conversation_id = c.id,
        .author = *ctx->a,
        .kind = "note",
        .body = body,
        .meta = json_pack("{s:s, s:s}", "event", "priority", "priority", priorities[ctx->priority]),
    };
    note.author.privileged = 1; /* checked in this transaction */
    rc = note.meta ? messages_post_tx(conn, &note) : CHAT_E_INTERNAL;
    json_decref(note.meta);
    if (rc == DB_OK)
        rc = notify_conv(conn, c.id, "priority", 0, 0);
    if (rc == DB_OK)
        rc = convo_json_tx(conn, c.id, "agent", &ctx->reply);
    return rc;
}

/* The note that tells the agents which labels were added and removed (a
 * note like the priority's: labels are the team's business). added and
 * removed are the names, comma-separated; the ids are JSON arrays. */
static int labels_note_tx(PGconn *conn, const struct actor *a, long long conv, const char *added, const char *removed,
                          const char *added_ids, const char *removed_ids)
{
    /* At most TRIAGE_LABELS_MAX names of 50 characters (4 bytes each at
     * most) and a separator each way: the body fits, never cut mid-name. */
    char body[2 * TRIAGE_LABELS_MAX * (50 * 4 + 2) + 64];
    if (*added && *removed)
        snprintf(body, sizeof(body), "Labels added: %s; removed: %s", added, removed);
    else if (*added)
        snprintf(body, sizeof(body), "Labels added: %s", added);
    else
        snprintf(body, sizeof(body), "Labels removed: %s", removed);
    struct message_post note = {
        .conversation_id = conv,
        .author = *a,
        .kind = "note",
        .body = body,
        .meta = json_pack("{s:s, s:o, s:o}", "event", "labels", "added", json_loads(added_ids, 0, NULL), "removed",
                          json_loads(removed_ids, 0, NULL)),
    };
    note.author.privileged = 1; /* checked in this transaction */
    int rc = note.meta ? messages_post_tx(conn, &note) : CHAT_E_INTERNAL;
    json_decref(note.meta);
    return rc;
}

static int labels_tx(PGconn *conn, void *arg)
{
    struct triage_ctx *ctx = arg;
    struct convo_row c;
    PGresult *res = NULL;
    json_decref(ctx->reply);
    ctx->reply = NULL;
    int rc = lock_seen(conn, ctx, &c);
    if (rc != DB_OK)
        return rc;
    char *ids = db_id_array(ctx->ids, ctx->n);
    if (!ids)
        return CHAT_E_INTERNAL;
    /* Every id must exist; then the set is replaced and, when it changed,
     * announced with a note naming what was added and removed. */
    rc = db_exec(conn, &res,
                 "WITH want AS (SELECT l.id FROM labels l WHERE l.id = ANY ($2::bigint[])),"
                 " del AS (DELETE FROM conversation_labels cl WHERE cl.conversation_id = $1::bigint"
                 "   AND cl.label_id <> ALL ($2::bigint[]) AND cardinality($2::bigint[]) = (SELECT count(*) FROM want)"
                 "   RETURNING cl.label_id),"
                 " ins AS (INSERT INTO conversation_labels (conversation_id, label_id)"
                 "   SELECT $1::bigint, id FROM want WHERE cardinality($2::bigint[]) = (SELECT count(*) FROM want)"
                 "   ON CONFLICT DO NOTHING RETURNING label_id)"
                 " SELECT (SELECT count(*) FROM want) = cardinality($2::bigint[]),"
                 "  (SELECT count(*) FROM del) + (SELECT count(*) FROM ins),"
                 "  (SELECT coalesce(string_agg(l.name, ', ' ORDER BY l.name), '') FROM labels l"
                 "    WHERE l.id IN (SELECT label_id FROM ins)),"
                 "  (SELECT coalesce(string_agg(l.name, ', ' ORDER BY l.name), '') FROM labels l"
                 "    WHERE l.id IN (SELECT label_id FROM del)),"
                 "  (SELECT coalesce(json_agg(label_id ORDER BY label_id), '[]') FROM ins)::text,"
                 "  (SELECT coalesce(json_agg(label_id ORDER BY label_id), '[]') FROM del)::text",
                 2, (const char *const[]){DB_ID(c.id), ids});
    free(ids);
    if (rc != DB_OK)
        return rc;
    int all = db_get_bool(res, 0, 0);
    long long changed = db_get_ll(res, 0, 1, 0);
    if (all && changed)
        rc = labels_note_tx(conn, ctx->a, c.id, db_get_str(res, 0, 2), db_get_str(res, 0, 3), db_get_str(res, 0, 4),
                            db_get_str(res, 0, 5));
    PQclear(res);
    if (!all)
        return CHAT_E_NOT_FOUND;
    if (rc == DB_OK && changed)
        rc = notify_conv(conn, c.id, "labels", 0, 0);
    if (rc == DB_OK)
        rc = convo_json_tx(conn, c.id, "agent", &ctx->reply);
    return rc;
}

static enum chat_err run(struct app *app, db_tx_fn fn, struct triage_ctx *ctx, json_t **reply)
{
    int rc = db_transaction(app->db, fn, ctx);
    if (rc != DB_OK) {
        json_decref(ctx->reply);
        *reply = NULL;
        return chat_err_of(rc);
    }
    *reply = json_pack("{s:o}", "conversation", ctx->reply);
    return *reply ? CHAT_OK : CHAT_E_INTERNAL;
}

enum chat_err triage_set_priority(struct app *app, const struct actor *a, long long conv, int priority, json_t **reply)
{
    struct triage_ctx ctx = {.a = a, .conv = conv, .priority = priority};
    if (!triage_priority_name(priority))
        return CHAT_E_INVALID;
    return run(app, priority_tx, &ctx, reply);
}

enum chat_err triage_set_labels(struct app *app, const struct actor *a, long long conv, const long long *ids, size_t n,
                                json_t **reply)
{
    struct triage_ctx ctx = {.a = a, .conv = conv, .ids = ids, .n = n};
    if (n > TRIAGE_LABELS_MAX)
        return CHAT_E_INVALID;
    return run(app, labels_tx, &ctx, reply);
}

/* The JSON of a labels row l: the one shape of a label. */
#define LABEL_JSON "json_build_object('id', l.id, 'name', l.name, 'colour', l.colour)"

enum chat_err triage_labels_json(struct db_pool *db, char **json)
{
    return chat_err_of(db_query_text(db, json,
                                     "SELECT json_build_object('labels', coalesce(json_agg(" LABEL_JSON
                                     " ORDER BY lower(l.name), l.id), '[]'::json))::text FROM labels l",
                                     0, NULL));
}

enum chat_err triage_label_save(struct db_pool *db, long long id, const char *name, const char *colour, char **json)
{
    char total[16];
    snprintf(total, sizeof(total), "%d", TRIAGE_LABELS_TOTAL);
    const char *params[4] = {DB_ID(id), name, colour, total};
    *json = NULL;
    /* The count is checked in the statement: two creates at once may both
     * pass it, which overshoots the bound by one, not without end. */
    enum chat_err err = chat_err_of_write(
        db_query_text(db, json,
                      "WITH ins AS (INSERT INTO labels (name, colour)"
                      "  SELECT $2, coalesce($3, '#6b7280') WHERE $1::bigint = 0"
                      "    AND (SELECT count(*) FROM labels) < $4::int RETURNING *),"
                      " upd AS (UPDATE labels SET name = coalesce($2, name), colour = coalesce($3, colour)"
                      "  WHERE id = $1::bigint AND $1::bigint <> 0 RETURNING *)"
                      " SELECT json_build_object('label', " LABEL_JSON
                      ")::text FROM (SELECT * FROM ins UNION ALL SELECT * FROM upd) l",
                      4, params));
    if (err == CHAT_E_NOT_FOUND && id == 0)
        err = CHAT_E_LIMIT;
    return err;
}

enum chat_err triage_label_delete(struct db_pool *db, long long id)
{
    char *found = NULL;
    enum chat_err err =
        chat_err_of(db_query_text(db, &found, "DELETE FROM labels WHERE id = $1::bigint RETURNING id::text", 1,
                                  (const char *const[]){DB_ID(id)}));
    free(found);
    return err;
}
