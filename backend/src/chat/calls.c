#include "chat/calls.h"

#include "chat/convo.h"
#include "chat/messages.h"
#include "core/log.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_BATCH 32

static const char *side_of(const struct actor *a)
{
    return a->kind == ACTOR_VISITOR ? "visitor" : "agent";
}

/* A call as the transaction that changes it reads it (locked). */
struct call_row {
    long long id, conversation_id, agent_id;
    char state[8], media[8], caller[8];
    int closed; /* its conversation is */
    int is_end; /* the acting socket is the actor's end of it */
};

enum call_op { CALL_ACCEPT, CALL_DECLINE, CALL_HANGUP, CALL_REJOIN };

struct call_ctx {
    enum call_op op; /* change_tx's */
    const struct actor *a;
    long long conv, call;
    const char *media;
    const struct call_end *end;
    json_t *reply;
};

/* Loads and locks call for actor a, who must be one of its parties
 * (CHAT_E_NOT_FOUND otherwise: nobody else learns that it exists); end
 * (may be NULL) is compared with the actor's end of it. */
static int lock_call_tx(PGconn *conn, const struct actor *a, long long call, const struct call_end *end,
                        struct call_row *k)
{
    const char *params[6] = {DB_ID(call),           side_of(a),       DB_ID(a->id), end ? end->node : NULL,
                             end ? end->key : NULL, DB_ID(a->site_id)};
    PGresult *res = NULL;
    int rc = db_exec(conn, &res,
                     "SELECT k.id, k.conversation_id, k.agent_id, k.state, k.media, k.caller, c.status = 'closed',"
                     "  coalesce(CASE WHEN $2 = 'agent' THEN k.agent_node = $4 AND k.agent_key = $5"
                     "                ELSE k.visitor_node = $4 AND k.visitor_key = $5 END, false)"
                     " FROM calls k JOIN conversations c ON c.id = k.conversation_id"
                     " WHERE k.id = $1::bigint AND CASE WHEN $2 = 'agent' THEN k.agent_id = $3::bigint"
                     "   ELSE k.visitor_id = $3::bigint AND c.site_id = $6::bigint END"
                     " FOR UPDATE OF k",
                     6, params);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return CHAT_E_NOT_FOUND;
    }
    k->id = db_get_ll(res, 0, 0, 0);
    k->conversation_id = db_get_ll(res, 0, 1, 0);
    k->agent_id = db_get_ll(res, 0, 2, 0);
    snprintf(k->state, sizeof(k->state), "%s", db_get_str(res, 0, 3));
    snprintf(k->media, sizeof(k->media), "%s", db_get_str(res, 0, 4));
    snprintf(k->caller, sizeof(k->caller), "%s", db_get_str(res, 0, 5));
    k->closed = db_get_bool(res, 0, 6);
    k->is_end = db_get_bool(res, 0, 7);
    PQclear(res);
    return DB_OK;
}

/* Writes the event line of a call's change: code (call_offered ...), the
 * party who did it (by: visitor, agent, system or NULL), the call's agent
 * (its name goes with the line as event_agent) and, for an answered call that ended, its duration in
 * seconds (-1: none). */
static int post_event_tx(PGconn *conn, const struct call_row *k, const char *code, const char *body, const char *by,
                         long long agent_id, long long duration)
{
    json_t *call = json_pack("{s:I, s:s}", "id", (json_int_t)k->id, "media", k->media);
    json_t *meta = json_pack("{s:s, s:o*}", "event", code, "call", call);
    if (meta && duration >= 0)
        json_object_set_new(call, "duration", json_integer(duration));
    if (meta && by)
        json_object_set_new(meta, "by", json_string(by));
    if (meta && agent_id)
        json_object_set_new(meta, "agent_id", json_integer(agent_id));
    return messages_post_event_tx(conn, k->conversation_id, body, meta);
}

/* {"e":"call"}: both parties' sockets get the call as it is now. */
static int notify_call_tx(PGconn *conn, long long call)
{
    return db_exec(conn, NULL, "SELECT parley_notify_call(k) FROM calls k WHERE k.id = $1::bigint", 1,
                   (const char *const[]){DB_ID(call)});
}

/* Notifies both parties (notify) and puts the call as audience sees it
 * into *reply ({"call": ...}). */
static int finish_tx(PGconn *conn, long long call, const char *audience, int notify, json_t **reply)
{
    const char *params[2] = {DB_ID(call), audience};
    char *text = NULL;
    int rc = DB_OK;
    if (notify)
        rc = notify_call_tx(conn, call);
    if (rc == DB_OK)
        rc = db_exec_text(conn, &text,
                          "SELECT json_build_object('call', parley_call_json(k, $2))::text"
                          " FROM calls k WHERE k.id = $1::bigint",
                          2, params);
    if (rc == DB_OK) {
        *reply = json_loads(text, 0, NULL);
        if (!*reply)
            rc = CHAT_E_INTERNAL;
    }
    free(text);
    return rc;
}

/* Ends call k for reason, by a party or the system, with its event line;
 * the caller notifies. */
static int end_tx(PGconn *conn, const struct call_row *k, const char *reason, const char *by)
{
    const char *params[3] = {DB_ID(k->id), reason, by};
    PGresult *res = NULL;
    char body[64];
    int rc = db_exec(conn, &res,
                     "UPDATE calls SET state = 'ended', ended_at = now(), end_reason = $2, ended_by = $3"
                     " WHERE id = $1::bigint"
                     " RETURNING floor(extract(epoch FROM ended_at - answered_at))::bigint",
                     3, params);
    if (rc != DB_OK)
        return rc;
    long long duration = db_get_ll(res, 0, 0, -1);
    PQclear(res);
    if (strcmp(k->state, "active") == 0) {
        snprintf(body, sizeof(body), "Call ended (%lld:%02lld)", duration / 60, duration % 60);
        return post_event_tx(conn, k, "call_ended", body, by, k->agent_id, duration);
    }
    if (strcmp(reason, "declined") == 0)
        return post_event_tx(conn, k, "call_declined", "Call declined", by, k->agent_id, -1);
    if (strcmp(reason, "missed") == 0)
        return post_event_tx(conn, k, "call_missed", "Missed call", by, k->agent_id, -1);
    return post_event_tx(conn, k, "call_cancelled", "Call cancelled", by, k->agent_id, -1);
}

static int start_tx(PGconn *conn, void *arg)
{
    struct call_ctx *ctx = arg;
    const struct actor *a = ctx->a;
    const char *side = side_of(a);
    struct convo_row c;
    struct call_row k = {0};
    PGresult *res = NULL;
    char name[128], body[200];
    int rc = convo_lock_tx(conn, a, ctx->conv, &c);
    if (rc != DB_OK)
        return rc;
    if (a->kind == ACTOR_AGENT && c.assignee_id != a->id && !c.participant)
        return CHAT_E_FORBIDDEN;
    if (strcmp(c.status, "closed") == 0)
        return CHAT_E_CLOSED;
    if (strcmp(c.status, "assigned") != 0 || !c.assignee_id)
        return CHAT_E_INVALID_STATE;
    long long agent = a->kind == ACTOR_AGENT ? a->id : c.assignee_id;
    rc = db_exec(conn, &res,
                 "SELECT coalesce(s.widget_settings->>'calls', 'agent'),"
                 "  EXISTS (SELECT 1 FROM calls k WHERE k.state <> 'ended'"
                 "          AND (k.conversation_id = $2::bigint OR k.agent_id = $3::bigint))"
                 " FROM sites s WHERE s.id = $1::bigint",
                 3, (const char *const[]){DB_ID(c.site_id), DB_ID(c.id), DB_ID(agent)});
    if (rc != DB_OK)
        return rc;
    const char *setting = PQntuples(res) == 1 ? db_get_str(res, 0, 0) : "off";
    int busy = PQntuples(res) == 1 && db_get_bool(res, 0, 1);
    int allowed = strcmp(setting, "visitor") == 0 || (strcmp(setting, "agent") == 0 && a->kind == ACTOR_AGENT);
    PQclear(res);
    if (!allowed)
        return CHAT_E_CALLS_DISABLED;
    if (busy)
        return CHAT_E_CALL_IN_PROGRESS;
    const char *params[7] = {DB_ID(c.id),         ctx->media,     side,         DB_ID(agent),
                             DB_ID(c.visitor_id), ctx->end->node, ctx->end->key};
    rc = db_exec(conn, &res,
                 "INSERT INTO calls (conversation_id, state, media, caller, agent_id, visitor_id,"
                 "  agent_node, agent_key, visitor_node, visitor_key)"
                 " VALUES ($1::bigint, 'ringing', $2, $3, $4::bigint, $5::bigint,"
                 "  CASE WHEN $3 = 'agent' THEN $6 END, CASE WHEN $3 = 'agent' THEN $7 END,"
                 "  CASE WHEN $3 = 'visitor' THEN $6 END, CASE WHEN $3 = 'visitor' THEN $7 END)"
                 " RETURNING id",
                 7, params);
    /* Another node's call won the race the check above could not see. */
    if (rc == DB_E_UNIQUE)
        return CHAT_E_CALL_IN_PROGRESS;
    if (rc != DB_OK)
        return rc;
    k.id = db_get_ll(res, 0, 0, 0);
    PQclear(res);
    k.conversation_id = c.id;
    snprintf(k.media, sizeof(k.media), "%s", ctx->media);
    rc = convo_agent_name_tx(conn, agent, name, sizeof(name));
    if (rc != DB_OK)
        return rc;
    const char *what = strcmp(ctx->media, "video") == 0 ? "video" : "voice";
    if (a->kind == ACTOR_AGENT)
        snprintf(body, sizeof(body), "%s started a %s call", name, what);
    else
        snprintf(body, sizeof(body), "The visitor asked for a %s call", what);
    rc = post_event_tx(conn, &k, a->kind == ACTOR_AGENT ? "call_offered" : "call_requested", body, side, agent, -1);
    if (rc == DB_OK)
        rc = finish_tx(conn, k.id, side, 1, &ctx->reply);
    return rc;
}

/* Makes socket end the actor's end of call k and the party present again;
 * answering also makes the call active. */
static int bind_end_tx(PGconn *conn, const struct call_row *k, const char *side, const struct call_end *end,
                       int answering)
{
    const char *params[5] = {DB_ID(k->id), side, end->node, end->key, answering ? "true" : "false"};
    return db_exec(conn, NULL,
                   "UPDATE calls SET"
                   "  state = CASE WHEN $5::boolean THEN 'active' ELSE state END,"
                   "  answered_at = CASE WHEN $5::boolean THEN now() ELSE answered_at END,"
                   "  agent_node = CASE WHEN $2 = 'agent' THEN $3 ELSE agent_node END,"
                   "  agent_key = CASE WHEN $2 = 'agent' THEN $4 ELSE agent_key END,"
                   "  agent_gone_at = CASE WHEN $2 = 'agent' THEN NULL ELSE agent_gone_at END,"
                   "  visitor_node = CASE WHEN $2 = 'visitor' THEN $3 ELSE visitor_node END,"
                   "  visitor_key = CASE WHEN $2 = 'visitor' THEN $4 ELSE visitor_key END,"
                   "  visitor_gone_at = CASE WHEN $2 = 'visitor' THEN NULL ELSE visitor_gone_at END"
                   " WHERE id = $1::bigint",
                   5, params);
}

/* accept, decline, hangup and rejoin: what a party does to its call. */
static int change_tx(PGconn *conn, void *arg)
{
    struct call_ctx *ctx = arg;
    const char *side = side_of(ctx->a);
    int callee = 0, notify = 1;
    struct call_row k;
    int rc = lock_call_tx(conn, ctx->a, ctx->call, NULL, &k);
    if (rc != DB_OK)
        return rc;
    callee = strcmp(k.caller, side) != 0;
    switch (ctx->op) {
    case CALL_ACCEPT:
        if (k.closed)
            return CHAT_E_CLOSED;
        if (strcmp(k.state, "ringing") != 0 || !callee)
            return CHAT_E_INVALID_STATE;
        rc = bind_end_tx(conn, &k, side, ctx->end, 1);
        if (rc == DB_OK)
            rc = post_event_tx(conn, &k, "call_accepted", "Call accepted", side, k.agent_id, -1);
        break;
    case CALL_DECLINE:
        if (strcmp(k.state, "ringing") != 0 || !callee)
            return CHAT_E_INVALID_STATE;
        rc = end_tx(conn, &k, "declined", side);
        break;
    case CALL_HANGUP:
        if (strcmp(k.state, "ended") == 0)
            return CHAT_E_INVALID_STATE;
        rc = end_tx(conn, &k, strcmp(k.state, "active") == 0 ? "hangup" : callee ? "declined" : "cancelled", side);
        break;
    case CALL_REJOIN:
        /* The callee has no end to take back while it rings. */
        if (strcmp(k.state, "ended") == 0 || k.closed || (strcmp(k.state, "ringing") == 0 && callee))
            return CHAT_E_INVALID_STATE;
        rc = bind_end_tx(conn, &k, side, ctx->end, 0);
        notify = 0;
        break;
    }
    if (rc == DB_OK)
        rc = finish_tx(conn, k.id, side, notify, &ctx->reply);
    return rc;
}

static enum chat_err run(struct app *app, db_tx_fn fn, struct call_ctx *ctx, json_t **reply)
{
    enum chat_err err = chat_err_of(db_transaction(app->db, fn, ctx));
    if (err != CHAT_OK) {
        json_decref(ctx->reply);
        ctx->reply = NULL;
    }
    *reply = ctx->reply;
    return err;
}

enum chat_err calls_start(struct app *app, const struct actor *a, long long conv, const char *media,
                          const struct call_end *end, json_t **reply)
{
    struct call_ctx ctx = {.a = a, .conv = conv, .media = media, .end = end};
    return run(app, start_tx, &ctx, reply);
}

enum chat_err calls_accept(struct app *app, const struct actor *a, long long call, const struct call_end *end,
                           json_t **reply)
{
    struct call_ctx ctx = {.op = CALL_ACCEPT, .a = a, .call = call, .end = end};
    return run(app, change_tx, &ctx, reply);
}

enum chat_err calls_decline(struct app *app, const struct actor *a, long long call, json_t **reply)
{
    struct call_ctx ctx = {.op = CALL_DECLINE, .a = a, .call = call};
    return run(app, change_tx, &ctx, reply);
}

enum chat_err calls_hangup(struct app *app, const struct actor *a, long long call, json_t **reply)
{
    struct call_ctx ctx = {.op = CALL_HANGUP, .a = a, .call = call};
    return run(app, change_tx, &ctx, reply);
}

enum chat_err calls_rejoin(struct app *app, const struct actor *a, long long call, const struct call_end *end,
                           json_t **reply)
{
    struct call_ctx ctx = {.op = CALL_REJOIN, .a = a, .call = call, .end = end};
    return run(app, change_tx, &ctx, reply);
}

enum chat_err calls_signal(struct app *app, const struct actor *a, long long call, const struct call_end *end,
                           const char *frame)
{
    const char *params[7] = {DB_ID(call), side_of(a), DB_ID(a->id), end->node, end->key, DB_ID(a->site_id), frame};
    /* One statement, not retried: a signal relayed twice could confuse
     * the negotiation, one lost is recovered by an ICE restart. */
    static const struct db_stmt relay = {
        "SELECT k.state = 'active', c.status = 'closed', x.is_end,"
        "  CASE WHEN k.state = 'active' AND c.status <> 'closed' AND x.is_end"
        "       THEN parley_call_relay(k, CASE WHEN $2 = 'agent' THEN 'visitor' ELSE 'agent' END, $7) END"
        " FROM calls k JOIN conversations c ON c.id = k.conversation_id,"
        "  LATERAL (SELECT coalesce(CASE WHEN $2 = 'agent' THEN k.agent_node = $4 AND k.agent_key = $5"
        "                          ELSE k.visitor_node = $4 AND k.visitor_key = $5 END, false) AS is_end) x"
        " WHERE k.id = $1::bigint AND CASE WHEN $2 = 'agent' THEN k.agent_id = $3::bigint"
        "   ELSE k.visitor_id = $3::bigint AND c.site_id = $6::bigint END",
        7};
    PGresult *res = NULL;
    enum chat_err err;
    PGconn *conn = db_acquire(app->db);
    if (!conn)
        return CHAT_E_UNAVAILABLE;
    err = chat_err_of(db_exec_stmt(conn, &res, &relay, params));
    db_release(app->db, conn);
    if (err != CHAT_OK)
        return err;
    if (PQntuples(res) != 1)
        err = CHAT_E_NOT_FOUND;
    else if (db_get_bool(res, 0, 1))
        err = CHAT_E_CLOSED;
    else if (!db_get_bool(res, 0, 0) || !db_get_bool(res, 0, 2))
        err = CHAT_E_INVALID_STATE;
    PQclear(res);
    return err;
}

enum chat_err calls_party_live(struct app *app, const struct actor *a, int *live)
{
    PGresult *res = NULL;
    static const struct db_stmt party = {
        "SELECT EXISTS (SELECT 1 FROM calls k WHERE k.state <> 'ended' AND CASE WHEN $1 = 'agent'"
        "  THEN k.agent_id = $2::bigint ELSE k.visitor_id = $2::bigint END)",
        2};
    enum chat_err err =
        chat_err_of(db_read_stmt(app->db, &res, &party, (const char *const[]){side_of(a), DB_ID(a->id)}));
    *live = err == CHAT_OK && db_get_bool(res, 0, 0);
    PQclear(res);
    return err;
}

enum chat_err calls_live(struct app *app, const struct actor *a, json_t **calls)
{
    char *text = NULL;
    static const char sql[] =
        "SELECT coalesce(json_agg(parley_call_json(k, $1) ORDER BY k.id), '[]')::text FROM calls k"
        " JOIN conversations c ON c.id = k.conversation_id"
        " WHERE k.state <> 'ended' AND CASE WHEN $1 = 'agent' THEN k.agent_id = $2::bigint"
        "   ELSE k.visitor_id = $2::bigint AND c.site_id = $3::bigint END";
    enum chat_err err = chat_err_of(
        db_query_text(app->db, &text, sql, 3, (const char *const[]){side_of(a), DB_ID(a->id), DB_ID(a->site_id)}));
    *calls = err == CHAT_OK ? json_loads(text, 0, NULL) : NULL;
    if (err == CHAT_OK && !*calls)
        err = CHAT_E_INTERNAL;
    free(text);
    return err;
}

enum chat_err calls_signal_frame(struct app *app, long long row, char **frame)
{
    return chat_err_of(db_query_text(app->db, frame, "SELECT frame FROM call_signals WHERE id = $1::bigint", 1,
                                     (const char *const[]){DB_ID(row)}));
}

void calls_socket_closed(struct app *app, const struct actor *a, const struct call_end *end)
{
    const char *params[4] = {side_of(a), DB_ID(a->id), end->node, end->key};
    if (db_query(app->db, NULL,
                 "UPDATE calls SET"
                 "  agent_gone_at = CASE WHEN $1 = 'agent' THEN now() ELSE agent_gone_at END,"
                 "  visitor_gone_at = CASE WHEN $1 = 'visitor' THEN now() ELSE visitor_gone_at END"
                 " WHERE state <> 'ended' AND CASE WHEN $1 = 'agent'"
                 "   THEN agent_id = $2::bigint AND agent_node = $3 AND agent_key = $4"
                 "   ELSE visitor_id = $2::bigint AND visitor_node = $3 AND visitor_key = $4 END",
                 4, params) != DB_OK)
        log_warn("a call's party not marked gone: the database is not reachable (its node's heartbeat will end it)");
}

struct sweep_ctx {
    struct app *app;
    int ended;
};

static int sweep_tx(PGconn *conn, void *arg)
{
    struct sweep_ctx *ctx = arg;
    const struct config *cfg = ctx->app->cfg;
    char ring[16], lost[16], longest[16], batch[16];
    PGresult *res = NULL;
    snprintf(ring, sizeof(ring), "%d", cfg->call_ring_seconds);
    snprintf(lost, sizeof(lost), "%d", cfg->call_lost_seconds);
    snprintf(longest, sizeof(longest), "%d", cfg->call_max_minutes);
    snprintf(batch, sizeof(batch), "%d", SWEEP_BATCH);
    int rc = db_exec(conn, &res,
                     "SELECT k.id, k.conversation_id, k.agent_id, k.state, k.media, k.caller,"
                     "  CASE WHEN c.status = 'closed' THEN 'closed'"
                     "       WHEN k.state = 'ringing' AND k.created_at < now() - make_interval(secs => $1::int)"
                     "         THEN 'missed'"
                     "       WHEN k.answered_at < now() - make_interval(mins => $3::int) THEN 'hangup'"
                     "       ELSE 'lost' END"
                     " FROM calls k JOIN conversations c ON c.id = k.conversation_id"
                     " WHERE k.state <> 'ended' AND (c.status = 'closed'"
                     "   OR (k.state = 'ringing' AND k.created_at < now() - make_interval(secs => $1::int))"
                     "   OR k.answered_at < now() - make_interval(mins => $3::int)"
                     "   OR parley_call_end_gone(k.agent_node, k.agent_gone_at, $2::int)"
                     "   OR parley_call_end_gone(k.visitor_node, k.visitor_gone_at, $2::int))"
                     " ORDER BY k.id LIMIT $4::int FOR UPDATE OF k SKIP LOCKED",
                     4, (const char *const[]){ring, lost, longest, batch});
    if (rc != DB_OK)
        return rc;
    for (int i = 0; rc == DB_OK && i < PQntuples(res); i++) {
        struct call_row k = {.id = db_get_ll(res, i, 0, 0),
                             .conversation_id = db_get_ll(res, i, 1, 0),
                             .agent_id = db_get_ll(res, i, 2, 0)};
        snprintf(k.state, sizeof(k.state), "%s", db_get_str(res, i, 3));
        snprintf(k.media, sizeof(k.media), "%s", db_get_str(res, i, 4));
        snprintf(k.caller, sizeof(k.caller), "%s", db_get_str(res, i, 5));
        rc = end_tx(conn, &k, db_get_str(res, i, 6), "system");
        if (rc == DB_OK)
            rc = notify_call_tx(conn, k.id);
        ctx->ended++;
    }
    PQclear(res);
    if (rc == DB_OK)
        rc = db_exec(conn, NULL, "DELETE FROM call_signals WHERE created_at < now() - interval '1 minute'", 0, NULL);
    return rc;
}

void calls_sweep(struct app *app)
{
    struct sweep_ctx ctx = {app, 0};
    PGresult *res = NULL;
    /* Most seconds there is nothing to sweep: one prepared read says so. */
    static const struct db_stmt anything = {
        "SELECT EXISTS (SELECT 1 FROM calls WHERE state <> 'ended') OR EXISTS (SELECT 1 FROM call_signals)", 0};
    int rc = db_read_stmt(app->db, &res, &anything, NULL);
    int some = rc == DB_OK && db_get_bool(res, 0, 0);
    PQclear(res);
    if (rc == DB_OK && !some)
        return;
    if (rc != DB_OK || db_transaction(app->db, sweep_tx, &ctx) != DB_OK)
        log_warn("calls not swept: the database is not reachable");
}
