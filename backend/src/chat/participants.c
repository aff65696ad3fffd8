#include "chat/participants.h"

#include "chat/convo.h"
#include "chat/messages.h"
#include "chat/notify.h"
#include "db/db.h"

#include <stdio.h>
#include <string.h>

struct part_ctx {
    const struct actor *a;
    long long conv;
    long long agent_id; /* invite, leave: who; escalate: to_agent */
    long long to_team;  /* escalate */
    const char *reason; /* escalate */
    int priority;       /* escalate: -1 or 0..3 */
    json_t *reply;
    struct assign_work work;
};

/* The agent behind an actor, for meta and notes; 0 for an integration. */
static long long agent_of(const struct actor *a)
{
    return a->kind == ACTOR_AGENT ? a->id : 0;
}

/* db_transaction may run a move again after a rollback. */
static void begin(struct part_ctx *ctx)
{
    json_decref(ctx->reply);
    ctx->reply = NULL;
    memset(&ctx->work, 0, sizeof(ctx->work));
}

/* Locks the conversation and checks that the actor may act in it (owner,
 * participant, supervisor or admin, an integration) and that it is open. */
static int lock_for_move(PGconn *conn, const struct part_ctx *ctx, struct convo_row *c)
{
    int rc = convo_lock_tx(conn, ctx->a, ctx->conv, c);
    if (rc != DB_OK)
        return rc;
    if (ctx->a->kind == ACTOR_AGENT && !c->privileged && c->assignee_id != ctx->a->id && !c->participant)
        return c->in_team ? CHAT_E_FORBIDDEN : CHAT_E_NOT_FOUND;
    if (strcmp(c->status, "closed") == 0 || strcmp(c->status, "bot") == 0)
        return CHAT_E_INVALID_STATE;
    return DB_OK;
}

/* Adds agent_id as a participant with role, unless they own it or are in
 * it already (CHAT_E_INVALID_STATE) or it is full (CHAT_E_LIMIT). */
static int add_participant(PGconn *conn, const struct convo_row *c, long long agent_id, const char *role, long long by)
{
    PGresult *res = NULL;
    if (agent_id == c->assignee_id)
        return CHAT_E_INVALID_STATE;
    int rc = db_exec(conn, &res,
                     "WITH n AS (SELECT count(*) AS k, bool_or(agent_id = $2::bigint) AS dup"
                     "           FROM conversation_participants WHERE conversation_id = $1::bigint)"
                     " INSERT INTO conversation_participants (conversation_id, agent_id, role, added_by)"
                     " SELECT $1::bigint, $2::bigint, $3, nullif($4::bigint, 0) FROM n"
                     "  WHERE NOT coalesce(n.dup, false) AND n.k < $5::int"
                     " RETURNING 1, (SELECT coalesce(dup, false) FROM n)",
                     5, (const char *const[]){DB_ID(c->id), DB_ID(agent_id), role, DB_ID(by), DB_ID(PARTICIPANTS_MAX)});
    if (rc == DB_OK && PQntuples(res) == 0) {
        PGresult *dup = NULL;
        rc = db_exec(conn, &dup,
                     "SELECT EXISTS (SELECT 1 FROM conversation_participants"
                     " WHERE conversation_id = $1::bigint AND agent_id = $2::bigint)",
                     2, (const char *const[]){DB_ID(c->id), DB_ID(agent_id)});
        if (rc == DB_OK)
            rc = db_get_bool(dup, 0, 0) ? CHAT_E_INVALID_STATE : CHAT_E_LIMIT;
        PQclear(dup);
    }
    PQclear(res);
    return rc;
}

/* The owner of c, who no longer owns it (the row was updated), stays in
 * it as a collaborator. */
static int add_former_owner(PGconn *conn, const struct convo_row *c, long long by)
{
    struct convo_row now = *c;
    now.assignee_id = 0;
    return add_participant(conn, &now, c->assignee_id, "collaborator", by);
}

/* An active agent with a live connection somewhere, by name (cleaned). */
static int present_agent(PGconn *conn, long long agent_id, char *name, size_t len)
{
    PGresult *res = NULL;
    int rc = convo_agent_name_tx(conn, agent_id, name, len);
    if (rc != DB_OK)
        return rc;
    rc = db_exec(conn, &res, "SELECT parley_agent_live($1::bigint)", 1, (const char *const[]){DB_ID(agent_id)});
    int live = rc == DB_OK && db_get_bool(res, 0, 0);
    PQclear(res);
    if (rc != DB_OK)
        return rc;
    return live ? DB_OK : CHAT_E_AGENT_UNAVAILABLE;
}

/* The event line about agent_id, then conversation.updated, then the reply. */
static int finish(PGconn *conn, struct part_ctx *ctx, const char *body, json_t *meta, const char *change,
                  long long gone)
{
    int rc = messages_post_event_tx(conn, ctx->conv, body, meta);
    if (rc == DB_OK)
        rc = notify_conv(conn, ctx->conv, change, gone, 0);
    if (rc == DB_OK)
        rc = convo_json_tx(conn, ctx->conv, "agent", &ctx->reply);
    return rc;
}

static int invite_tx(PGconn *conn, void *arg)
{
    struct part_ctx *ctx = arg;
    struct convo_row c;
    char name[512], by_name[512] = "", body[1200];
    begin(ctx);
    int rc = lock_for_move(conn, ctx, &c);
    if (rc == DB_OK)
        rc = present_agent(conn, ctx->agent_id, name, sizeof(name));
    if (rc == DB_OK && agent_of(ctx->a))
        rc = convo_agent_name_tx(conn, ctx->a->id, by_name, sizeof(by_name));
    if (rc == DB_OK)
        rc = add_participant(conn, &c, ctx->agent_id, "collaborator", agent_of(ctx->a));
    if (rc != DB_OK)
        return rc;
    if (*by_name)
        snprintf(body, sizeof(body), "%s joined the conversation, invited by %s", name, by_name);
    else
        snprintf(body, sizeof(body), "%s joined the conversation", name);
    json_t *meta =
        json_pack("{s:s, s:I, s:s}", "event", "joined", "agent_id", (json_int_t)ctx->agent_id, "role", "collaborator");
    if (meta && agent_of(ctx->a))
        json_object_set_new(meta, "by_agent_id", json_integer(ctx->a->id));
    return finish(conn, ctx, body, meta, "participants", 0);
}

static int join_tx(PGconn *conn, void *arg)
{
    struct part_ctx *ctx = arg;
    struct convo_row c;
    char name[512], body[600];
    begin(ctx);
    int rc = convo_lock_tx(conn, ctx->a, ctx->conv, &c);
    if (rc != DB_OK)
        return rc;
    /* Barging in is a supervisor's (or an admin's) right. */
    if (ctx->a->kind != ACTOR_AGENT || !c.privileged)
        return CHAT_E_FORBIDDEN;
    if (strcmp(c.status, "closed") == 0 || strcmp(c.status, "bot") == 0)
        return CHAT_E_INVALID_STATE;
    rc = convo_agent_name_tx(conn, ctx->a->id, name, sizeof(name));
    if (rc == DB_OK)
        rc = add_participant(conn, &c, ctx->a->id, "supervisor", ctx->a->id);
    if (rc != DB_OK)
        return rc;
    snprintf(body, sizeof(body), "%s joined the conversation", name);
    return finish(
        conn, ctx, body,
        json_pack("{s:s, s:I, s:s}", "event", "joined", "agent_id", (json_int_t)ctx->a->id, "role", "supervisor"),
        "participants", 0);
}

static int leave_tx(PGconn *conn, void *arg)
{
    struct part_ctx *ctx = arg;
    struct convo_row c;
    char name[512], body[600];
    PGresult *res = NULL;
    begin(ctx);
    int rc = convo_lock_tx(conn, ctx->a, ctx->conv, &c);
    if (rc != DB_OK)
        return rc;
    /* An agent leaves by themselves; an integration may remove anyone. */
    if (ctx->a->kind == ACTOR_AGENT && ctx->agent_id != ctx->a->id)
        return CHAT_E_FORBIDDEN;
    if (ctx->a->kind == ACTOR_AGENT && !c.participant)
        return c.assignee_id == ctx->a->id ? CHAT_E_INVALID_STATE : CHAT_E_NOT_FOUND;
    rc = db_exec(conn, &res,
                 "DELETE FROM conversation_participants WHERE conversation_id = $1::bigint AND agent_id = $2::bigint"
                 " RETURNING (SELECT name FROM agents WHERE id = $2::bigint)",
                 2, (const char *const[]){DB_ID(c.id), DB_ID(ctx->agent_id)});
    if (rc == DB_OK && PQntuples(res) != 1)
        rc = CHAT_E_NOT_FOUND;
    if (rc == DB_OK)
        assign_name_for_text(db_get_str(res, 0, 0), name, sizeof(name));
    PQclear(res);
    if (rc != DB_OK)
        return rc;
    snprintf(body, sizeof(body), "%s left the conversation", name);
    json_t *meta = json_pack("{s:s, s:I}", "event", "left", "agent_id", (json_int_t)ctx->agent_id);
    /* The one who left still hears that they did (then nothing more). */
    return finish(conn, ctx, body, meta, "participants", ctx->agent_id);
}

static int take_tx(PGconn *conn, void *arg)
{
    struct part_ctx *ctx = arg;
    struct convo_row c;
    char name[512], body[1200];
    begin(ctx);
    int rc = convo_lock_tx(conn, ctx->a, ctx->conv, &c);
    if (rc != DB_OK)
        return rc;
    if (ctx->a->kind != ACTOR_AGENT)
        return CHAT_E_FORBIDDEN;
    if (!c.privileged && !c.participant)
        return c.in_team ? CHAT_E_FORBIDDEN : CHAT_E_NOT_FOUND;
    if (strcmp(c.status, "closed") == 0 || strcmp(c.status, "bot") == 0 || c.assignee_id == ctx->a->id)
        return CHAT_E_INVALID_STATE;
    rc = convo_agent_name_tx(conn, ctx->a->id, name, sizeof(name));
    if (rc != DB_OK)
        return rc;
    /* The previous owner stays, as one of the others. */
    rc = db_exec(conn, NULL,
                 "WITH me AS (DELETE FROM conversation_participants"
                 "            WHERE conversation_id = $1::bigint AND agent_id = $2::bigint)"
                 " UPDATE conversations SET status = 'assigned', assignee_id = $2::bigint, assigned_at = now(),"
                 "  queued_at = NULL, updated_at = now() WHERE id = $1::bigint",
                 2, (const char *const[]){DB_ID(c.id), DB_ID(ctx->a->id)});
    if (rc == DB_OK && c.assignee_id)
        rc = add_former_owner(conn, &c, ctx->a->id);
    if (rc == DB_OK)
        rc = db_exec(conn, NULL, "UPDATE agents SET last_assigned_at = now() WHERE id = $1::bigint", 1,
                     (const char *const[]){DB_ID(ctx->a->id)});
    if (rc != DB_OK)
        return rc;
    snprintf(body, sizeof(body), "%s took over the conversation", name);
    json_t *meta = json_pack("{s:s, s:I}", "event", "taken", "agent_id", (json_int_t)ctx->a->id);
    if (meta && c.assignee_id)
        json_object_set_new(meta, "from_agent_id", json_integer(c.assignee_id));
    /* Taken from the queue: the team's line moved. */
    if (strcmp(c.status, "queued") == 0)
        assign_work_team(&ctx->work, c.team_id);
    return finish(conn, ctx, body, meta, "taken", c.assignee_id);
}

/* A note by the escalating actor with the reason, for the agents only (the
 * visitor sees the event line, not why). */
static int reason_note(PGconn *conn, const struct part_ctx *ctx, const char *target)
{
    char note[1200];
    if (!ctx->reason || !*ctx->reason)
        return DB_OK;
    snprintf(note, sizeof(note), "Escalated to %s: %s", target, ctx->reason);
    struct message_post post = {.conversation_id = ctx->conv, .author = *ctx->a, .kind = "note", .body = note};
    post.author.privileged = 1; /* checked in this transaction */
    return messages_post_tx(conn, &post);
}

static int escalate_tx(PGconn *conn, void *arg)
{
    struct part_ctx *ctx = arg;
    struct convo_row c;
    char target[512], by_name[512] = "", body[1200];
    PGresult *res = NULL;
    begin(ctx);
    int rc = lock_for_move(conn, ctx, &c);
    if (rc == DB_OK && agent_of(ctx->a))
        rc = convo_agent_name_tx(conn, ctx->a->id, by_name, sizeof(by_name));
    if (rc != DB_OK)
        return rc;
    json_t *meta = json_pack("{s:s}", "event", "escalated");
    if (!meta)
        return CHAT_E_INTERNAL;
    if (agent_of(ctx->a))
        json_object_set_new(meta, "by_agent_id", json_integer(ctx->a->id));
    if (ctx->reason && *ctx->reason)
        json_object_set_new(meta, "reason", json_string(ctx->reason));
    if (ctx->agent_id) {
        rc = present_agent(conn, ctx->agent_id, target, sizeof(target));
        if (rc == DB_OK)
            rc = add_participant(conn, &c, ctx->agent_id, "escalation", agent_of(ctx->a));
        if (rc == DB_OK && ctx->priority >= 0) {
            char prio[16];
            snprintf(prio, sizeof(prio), "%d", ctx->priority);
            rc = db_exec(conn, NULL, "UPDATE conversations SET priority = $2::smallint WHERE id = $1::bigint", 2,
                         (const char *const[]){DB_ID(c.id), prio});
        }
        json_object_set_new(meta, "agent_id", json_integer(ctx->agent_id));
    } else {
        rc = db_exec(conn, &res, "SELECT name FROM teams WHERE id = $1::bigint", 1,
                     (const char *const[]){DB_ID(ctx->to_team)});
        if (rc == DB_OK && PQntuples(res) != 1)
            rc = CHAT_E_NOT_FOUND;
        if (rc == DB_OK)
            assign_name_for_text(db_get_str(res, 0, 0), target, sizeof(target));
        PQclear(res);
        if (rc == DB_OK && ctx->to_team == c.team_id && strcmp(c.status, "queued") == 0)
            rc = CHAT_E_INVALID_STATE;
        if (rc == DB_OK) {
            char prio[16];
            int p = ctx->priority >= 0 ? ctx->priority : (c.priority > 2 ? c.priority : 2);
            snprintf(prio, sizeof(prio), "%d", p);
            rc = db_exec(conn, NULL,
                         "UPDATE conversations SET team_id = $2::bigint, status = 'queued', assignee_id = NULL,"
                         " assigned_at = NULL, queued_at = now(), priority = $3::smallint, updated_at = now()"
                         " WHERE id = $1::bigint",
                         3, (const char *const[]){DB_ID(c.id), DB_ID(ctx->to_team), prio});
        }
        /* The owner stays in it while the team's next agent takes it. */
        if (rc == DB_OK && c.assignee_id)
            rc = add_former_owner(conn, &c, agent_of(ctx->a));
        /* The record sees a change of team (a transfer); that it was an
         * escalation only this move knows (docs/reports.md). */
        if (rc == DB_OK)
            rc = db_exec(conn, NULL, "SELECT parley_report_event($1::bigint, 'escalated', NULL, $2::bigint, NULL)", 2,
                         (const char *const[]){DB_ID(c.id), DB_ID(ctx->to_team)});
        json_object_set_new(meta, "team_id", json_integer(ctx->to_team));
        assign_work_team(&ctx->work, ctx->to_team);
    }
    if (rc == DB_OK)
        rc = reason_note(conn, ctx, target);
    if (rc != DB_OK) {
        json_decref(meta);
        return rc;
    }
    if (*by_name)
        snprintf(body, sizeof(body), "Escalated to %s by %s", target, by_name);
    else
        snprintf(body, sizeof(body), "Escalated to %s", target);
    rc = messages_post_event_tx(conn, c.id, body, meta);
    if (rc == DB_OK)
        rc = notify_conv(conn, c.id, "escalated", 0, ctx->agent_id ? 0 : c.team_id);
    if (rc == DB_OK)
        rc = convo_json_tx(conn, c.id, "agent", &ctx->reply);
    return rc;
}

static enum chat_err run(struct app *app, db_tx_fn fn, struct part_ctx *ctx, json_t **reply, struct assign_work *work)
{
    int rc = db_transaction(app->db, fn, ctx);
    if (rc != DB_OK) {
        json_decref(ctx->reply);
        *reply = NULL;
        return chat_err_of(rc);
    }
    *reply = json_pack("{s:o}", "conversation", ctx->reply);
    if (work)
        assign_work_merge(work, &ctx->work);
    return *reply ? CHAT_OK : CHAT_E_INTERNAL;
}

enum chat_err participants_invite(struct app *app, const struct actor *a, long long conv, long long agent_id,
                                  json_t **reply)
{
    struct part_ctx ctx = {.a = a, .conv = conv, .agent_id = agent_id};
    return run(app, invite_tx, &ctx, reply, NULL);
}

enum chat_err participants_join(struct app *app, const struct actor *a, long long conv, json_t **reply)
{
    struct part_ctx ctx = {.a = a, .conv = conv};
    return run(app, join_tx, &ctx, reply, NULL);
}

enum chat_err participants_leave(struct app *app, const struct actor *a, long long conv, long long agent_id,
                                 json_t **reply)
{
    struct part_ctx ctx = {.a = a, .conv = conv, .agent_id = agent_id};
    return run(app, leave_tx, &ctx, reply, NULL);
}

enum chat_err participants_take(struct app *app, const struct actor *a, long long conv, json_t **reply,
                                struct assign_work *work)
{
    struct part_ctx ctx = {.a = a, .conv = conv};
    return run(app, take_tx, &ctx, reply, work);
}

enum chat_err participants_escalate(struct app *app, const struct actor *a, long long conv, long long to_agent,
                                    long long to_team, const char *reason, int priority, json_t **reply,
                                    struct assign_work *work)
{
    struct part_ctx ctx = {
        .a = a, .conv = conv, .agent_id = to_agent, .to_team = to_team, .reason = reason, .priority = priority};
    return run(app, escalate_tx, &ctx, reply, work);
}
