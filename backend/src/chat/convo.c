#include "chat/convo.h"
#include "chat/invitations.h"

#include "chat/assign.h"
#include "chat/messages.h"
#include "chat/notify.h"
#include "core/log.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *audience_of(const struct actor *a)
{
    return a->kind == ACTOR_VISITOR ? "visitor" : "agent";
}

int convo_lock_tx(PGconn *conn, const struct actor *a, long long conv, struct convo_row *out)
{
    const char *params[2] = {DB_ID(conv), DB_ID(a->kind == ACTOR_AGENT ? a->id : 0)};
    PGresult *res = NULL;
    int rc;
    rc = db_exec(conn, &res,
                 "SELECT c.id, c.visitor_id, c.site_id, c.team_id, c.assignee_id, c.status,"
                 "  EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = c.team_id AND tm.agent_id = $2::bigint),"
                 "  parley_agent_privileged($2::bigint), $2::bigint = ANY (c.participant_ids), c.priority"
                 " FROM conversations c WHERE c.id = $1::bigint FOR UPDATE",
                 2, params);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return CHAT_E_NOT_FOUND;
    }
    out->id = db_get_ll(res, 0, 0, 0);
    out->visitor_id = db_get_ll(res, 0, 1, 0);
    out->site_id = db_get_ll(res, 0, 2, 0);
    out->team_id = db_get_ll(res, 0, 3, 0);
    out->assignee_id = db_get_ll(res, 0, 4, 0);
    snprintf(out->status, sizeof(out->status), "%s", db_get_str(res, 0, 5));
    out->in_team = db_get_bool(res, 0, 6);
    /* A socket's role is the one it authenticated with: a demotion counts
     * from its commit on, before the socket is closed. */
    out->privileged = a->privileged && (a->kind != ACTOR_AGENT || db_get_bool(res, 0, 7));
    out->participant = db_get_bool(res, 0, 8);
    out->priority = (int)db_get_ll(res, 0, 9, 1);
    PQclear(res);
    if (a->kind == ACTOR_VISITOR && (out->visitor_id != a->id || out->site_id != a->site_id))
        return CHAT_E_NOT_FOUND;
    return DB_OK;
}

int convo_json_tx(PGconn *conn, long long conv, const char *audience, json_t **out)
{
    const char *params[2] = {DB_ID(conv), audience};
    PGresult *res = NULL;
    int rc =
        db_exec(conn, &res, "SELECT parley_conversation_json(c, $2)::text FROM conversations c WHERE c.id = $1::bigint",
                2, params);
    if (rc == DB_OK) {
        *out = PQntuples(res) ? json_loads(db_get_str(res, 0, 0), 0, NULL) : NULL;
        if (!*out)
            rc = DB_E_QUERY;
    }
    PQclear(res);
    return rc;
}

int convo_agent_name_tx(PGconn *conn, long long agent_id, char *out, size_t len)
{
    PGresult *res = NULL;
    int rc = db_exec(conn, &res, "SELECT name FROM agents WHERE id = $1::bigint AND active", 1,
                     (const char *const[]){DB_ID(agent_id)});
    if (rc == DB_OK && PQntuples(res) != 1)
        rc = CHAT_E_NOT_FOUND;
    if (rc == DB_OK)
        assign_name_for_text(db_get_str(res, 0, 0), out, len);
    PQclear(res);
    return rc;
}

/* A note by the actor (who was checked in this transaction). */
static int post_note(PGconn *conn, long long conv, const struct actor *a, const char *body)
{
    struct message_post note = {.conversation_id = conv, .author = *a, .kind = "note", .body = body};
    note.author.privileged = 1;
    return messages_post_tx(conn, &note);
}

/* ---- start ---- */

struct start_ctx {
    const struct actor *a;
    const char *page_url, *referrer;
    json_t *prechat;
    int offline;
    long long invitation_id;
    json_t *reply;
    long long team_id;
    int created;
};

/* The pre-chat answers to store for a new conversation (a new reference).
 * A verified visitor's name and email come only from a verified identity
 * (POST /api/widget/session): pre-chat "name"/"email" that differ from the
 * stored ones are dropped, named in *ignored, and never applied. */
static json_t *prechat_for(json_t *prechat, const PGresult *visitor, json_t *ignored)
{
    static const char *const locked[] = {"name", "email"};
    json_t *out = prechat ? json_copy(prechat) : json_object();
    if (!out || !db_get_bool(visitor, 0, 2))
        return out;
    for (int i = 0; i < 2; i++) {
        const char *given = json_string_value(json_object_get(out, locked[i]));
        const char *stored = db_get_str(visitor, 0, 3 + i);
        if (given && (!stored || strcmp(given, stored) != 0)) {
            json_object_del(out, locked[i]);
            json_array_append_new(ignored, json_string(locked[i]));
        }
    }
    return out;
}

/* A new conversation that answers an invitation: it is accepted, an
 * agent's goes to that agent when they can take it (out of the bot's hands
 * and the queue), and its message is the conversation's first: the agent's
 * own, or the system's with the sender's name. */
static int start_invited(PGconn *conn, struct start_ctx *ctx, long long conv, int bot)
{
    long long agent = 0;
    char *message = NULL, *sender = NULL;
    enum chat_err err = invitations_accept_tx(conn, ctx->a->id, ctx->invitation_id, conv, &agent, &message, &sender);
    if (err == CHAT_OK && agent) {
        if (bot)
            err = chat_err_of(db_exec(conn, NULL,
                                      "UPDATE conversations SET bot_id = NULL, status = 'queued', queued_at = now()"
                                      " WHERE id = $1::bigint",
                                      1, (const char *const[]){DB_ID(conv)}));
        if (err == CHAT_OK)
            err = assign_tx(conn, conv, agent, "assigned");
        if (err == CHAT_OK)
            ctx->team_id = 0; /* nothing for the router */
    }
    if (err == CHAT_OK) {
        struct message_post post = {
            .conversation_id = conv,
            .author = {.kind = agent ? ACTOR_AGENT : ACTOR_SYSTEM, .id = agent},
            .kind = "message",
            .body = message,
            .meta = json_pack("{s:I, s:s}", "invitation_id", (json_int_t)ctx->invitation_id, "sender_name", sender)};
        err = post.meta ? messages_post_tx(conn, &post) : CHAT_E_INTERNAL;
        json_decref(post.meta);
    }
    free(message);
    free(sender);
    return err;
}

static int start_tx(PGconn *conn, void *arg)
{
    struct start_ctx *ctx = arg;
    const char *visitor = DB_ID(ctx->a->id), *site = DB_ID(ctx->a->site_id);
    char *prechat_text = NULL;
    const char *name = NULL, *email = NULL;
    json_t *prechat = NULL, *ignored = json_array();
    PGresult *res = NULL;
    long long conv;
    int rc;

    /* db_transaction may run this again after a rollback: start over. */
    json_decref(ctx->reply);
    ctx->reply = NULL;
    ctx->created = 0;
    ctx->team_id = 0;
    if (!ignored)
        return DB_E_QUERY;
    /* The visitor's row lock serialises two tabs starting at once. */
    rc = db_exec(conn, &res,
                 "SELECT (SELECT id FROM conversations WHERE visitor_id = v.id AND site_id = $2::bigint"
                 "        AND status <> 'closed' ORDER BY id DESC LIMIT 1),"
                 "       (SELECT default_team_id FROM sites WHERE id = $2::bigint), v.verified, v.name, v.email"
                 " FROM visitors v WHERE v.id = $1::bigint AND v.site_id = $2::bigint FOR UPDATE",
                 2, (const char *const[]){visitor, site});
    if (rc != DB_OK)
        goto done;
    if (PQntuples(res) != 1) {
        rc = CHAT_E_NOT_FOUND;
        goto done;
    }
    conv = db_get_ll(res, 0, 0, 0);
    ctx->team_id = db_get_ll(res, 0, 1, 0);
    if (!conv) {
        prechat = prechat_for(ctx->prechat, res, ignored);
        prechat_text = prechat ? json_dumps(prechat, JSON_COMPACT) : NULL;
        if (!prechat_text) {
            rc = DB_E_QUERY;
            goto done;
        }
        if (!db_get_bool(res, 0, 2)) {
            name = json_string_value(json_object_get(prechat, "name"));
            email = json_string_value(json_object_get(prechat, "email"));
        }
        PQclear(res);
        res = NULL;
        const char *params[8] = {site,         visitor, ctx->page_url, ctx->referrer,
                                 prechat_text, name,    email,         ctx->offline ? "true" : "false"};
        rc = db_exec(
            conn, &res,
            "WITH v AS (UPDATE visitors SET name = coalesce(left($6, 200), name),"
            "           email = coalesce(left($7, 254), email), last_seen_at = now()"
            "           WHERE id = $2::bigint)"
            " INSERT INTO conversations (site_id, visitor_id, team_id, status, queued_at, page_url,"
            "   referrer, prechat, offline, bot_id)"
            " SELECT $1::bigint, $2::bigint, s.default_team_id, CASE WHEN b.id IS NULL THEN 'queued' ELSE 'bot' END,"
            "   CASE WHEN b.id IS NULL THEN now() END, $3, $4, $5::jsonb, $8::boolean, b.id"
            " FROM sites s LEFT JOIN teams t ON t.id = s.default_team_id"
            /* The team's bot first, then the site's; a bot whose
             * endpoint is off is passed over. */
            " LEFT JOIN LATERAL (SELECT bb.id FROM bots bb JOIN webhook_endpoints e"
            "   ON e.id = bb.endpoint_id AND e.enabled WHERE bb.id IN (t.bot_id, s.bot_id)"
            "   ORDER BY bb.id = t.bot_id DESC LIMIT 1) b ON true"
            " WHERE s.id = $1::bigint RETURNING id, status = 'bot'",
            8, params);
        if (rc != DB_OK)
            goto done;
        conv = db_get_ll(res, 0, 0, 0);
        /* A bot's conversation enters the queue when the bot hands it off. */
        int bot = db_get_bool(res, 0, 1);
        if (bot)
            ctx->team_id = 0;
        else if ((rc = notify_conv(conn, conv, "queued", 0, 0)) != DB_OK)
            goto done;
        ctx->created = 1;
        if (ctx->invitation_id && (rc = start_invited(conn, ctx, conv, bot)) != DB_OK)
            goto done;
    } else if (ctx->invitation_id) {
        /* Already chatting: the invitation is answered by that chat. */
        rc = CHAT_E_VISITOR_CHATTING;
        goto done;
    }
    json_t *c = NULL;
    rc = convo_json_tx(conn, conv, "visitor", &c);
    if (rc == DB_OK) {
        ctx->reply = json_pack("{s:o, s:b}", "conversation", c, "created", ctx->created);
        if (ctx->reply && json_array_size(ignored) > 0)
            json_object_set(ctx->reply, "ignored", ignored);
    }
done:
    free(prechat_text);
    json_decref(prechat);
    json_decref(ignored);
    PQclear(res);
    return rc;
}

enum chat_err convo_start(struct app *app, const struct actor *a, const char *page_url, const char *referrer,
                          json_t *prechat, int offline, long long invitation_id, json_t **reply,
                          struct assign_work *work)
{
    struct start_ctx ctx = {.a = a,
                            .page_url = page_url,
                            .referrer = referrer,
                            .prechat = prechat,
                            .offline = offline,
                            .invitation_id = invitation_id};
    int rc = db_transaction(app->db, start_tx, &ctx);
    (void)app;
    *reply = ctx.reply;
    if (rc == DB_OK && ctx.created && ctx.team_id)
        assign_work_team(work, ctx.team_id);
    return chat_err_of(rc);
}

/* ---- accept, close, reopen, transfer: one context for the simple moves ---- */

struct move_ctx {
    const struct actor *a;
    long long conv;
    long long to_agent, to_team;
    const char *reason;
    json_t *reply;
    struct assign_work work; /* what to drain after commit */
};

/* db_transaction may run a move again after a rollback: each run starts
 * with no reply and no work. */
static void move_begin(struct move_ctx *ctx)
{
    json_decref(ctx->reply);
    ctx->reply = NULL;
    memset(&ctx->work, 0, sizeof(ctx->work));
}

static int accept_tx(PGconn *conn, void *arg)
{
    struct move_ctx *ctx = arg;
    move_begin(ctx);
    struct convo_row c;
    PGresult *res = NULL;
    int rc = convo_lock_tx(conn, ctx->a, ctx->conv, &c);
    if (rc != DB_OK)
        return rc;
    if (!c.privileged && !c.in_team)
        return CHAT_E_FORBIDDEN;
    if (strcmp(c.status, "queued") != 0)
        return CHAT_E_INVALID_STATE;
    if (!c.privileged) {
        rc = db_exec(conn, &res,
                     "SELECT parley_agent_load(a.id) >= a.max_chats FROM agents a WHERE a.id = $1::bigint FOR UPDATE",
                     1, (const char *const[]){DB_ID(ctx->a->id)});
        if (rc != DB_OK)
            return rc;
        int full = db_get_bool(res, 0, 0);
        PQclear(res);
        if (full)
            return CHAT_E_AT_CAPACITY;
    }
    rc = assign_tx(conn, c.id, ctx->a->id, "assigned");
    if (rc == DB_OK)
        rc = convo_json_tx(conn, c.id, "agent", &ctx->reply);
    return rc;
}

static int close_tx(PGconn *conn, void *arg)
{
    struct move_ctx *ctx = arg;
    move_begin(ctx);
    struct convo_row c;
    char by[16], body[64];
    int rc = convo_lock_tx(conn, ctx->a, ctx->conv, &c);
    if (rc != DB_OK)
        return rc;
    if (ctx->a->kind == ACTOR_AGENT && !c.privileged && c.assignee_id != ctx->a->id && !c.participant &&
        !(c.in_team && strcmp(c.status, "queued") == 0))
        return CHAT_E_FORBIDDEN;
    if (strcmp(c.status, "closed") == 0)
        return CHAT_E_INVALID_STATE;
    snprintf(by, sizeof(by), "%s", actor_kind_name(ctx->a));
    rc = db_exec(conn, NULL,
                 "UPDATE conversations SET status = 'closed', closed_at = now(), closed_by_kind = $2,"
                 " queued_at = NULL, updated_at = now() WHERE id = $1::bigint",
                 2, (const char *const[]){DB_ID(c.id), by});
    if (rc != DB_OK)
        return rc;
    snprintf(body, sizeof(body), "%s",
             ctx->a->kind == ACTOR_VISITOR ? "Conversation closed by the visitor"
             : ctx->a->kind == ACTOR_AGENT ? "Conversation closed by the agent"
                                           : "Conversation closed");
    rc = messages_post_event_tx(conn, c.id, body, json_pack("{s:s, s:s}", "event", "closed", "by", by));
    if (rc == DB_OK)
        rc = notify_conv(conn, c.id, "closed", 0, 0);
    if (rc == DB_OK)
        rc = convo_json_tx(conn, c.id, audience_of(ctx->a), &ctx->reply);
    if (strcmp(c.status, "assigned") == 0)
        assign_work_agent(&ctx->work, c.assignee_id);
    return rc;
}

static int reopen_tx(PGconn *conn, void *arg)
{
    struct move_ctx *ctx = arg;
    move_begin(ctx);
    struct convo_row c;
    int rc = convo_lock_tx(conn, ctx->a, ctx->conv, &c);
    if (rc != DB_OK)
        return rc;
    if (!c.privileged && !c.in_team && c.assignee_id != ctx->a->id && !c.participant)
        return CHAT_E_FORBIDDEN;
    if (strcmp(c.status, "closed") != 0)
        return CHAT_E_INVALID_STATE;
    if (ctx->a->kind == ACTOR_AGENT) {
        /* The agent who reopens takes it. */
        rc = assign_tx(conn, c.id, ctx->a->id, "reopened");
    } else {
        /* Reopened by an integration: back to its team's queue. */
        rc = db_exec(conn, NULL,
                     "UPDATE conversations SET status = 'queued', assignee_id = NULL, assigned_at = NULL,"
                     " closed_at = NULL, queued_at = now(), updated_at = now() WHERE id = $1::bigint",
                     1, (const char *const[]){DB_ID(c.id)});
        if (rc == DB_OK)
            rc = messages_post_event_tx(conn, c.id, "Conversation reopened", json_pack("{s:s}", "event", "reopened"));
        if (rc == DB_OK)
            rc = notify_conv(conn, c.id, "reopened", 0, 0);
        assign_work_team(&ctx->work, c.team_id);
    }
    if (rc == DB_OK)
        rc = convo_json_tx(conn, c.id, "agent", &ctx->reply);
    return rc;
}

static int transfer_tx(PGconn *conn, void *arg)
{
    struct move_ctx *ctx = arg;
    move_begin(ctx);
    struct convo_row c;
    char name[512], note[1200];
    PGresult *res = NULL;
    int rc = convo_lock_tx(conn, ctx->a, ctx->conv, &c);
    if (rc != DB_OK)
        return rc;
    if (!c.privileged && c.assignee_id != ctx->a->id)
        return CHAT_E_FORBIDDEN;
    if (strcmp(c.status, "closed") == 0)
        return CHAT_E_INVALID_STATE;
    if (ctx->to_agent) {
        if (ctx->to_agent == c.assignee_id)
            return CHAT_E_INVALID_STATE;
        rc = convo_agent_name_tx(conn, ctx->to_agent, name, sizeof(name));
        if (rc != DB_OK)
            return rc;
        /* Only to someone who is there: an agent with no live connection
         * would have it requeued by the grace sweep moments later. */
        rc =
            db_exec(conn, &res, "SELECT parley_agent_live($1::bigint)", 1, (const char *const[]){DB_ID(ctx->to_agent)});
        int present = rc == DB_OK && db_get_bool(res, 0, 0);
        PQclear(res);
        res = NULL;
        if (rc != DB_OK)
            return rc;
        if (!present)
            return CHAT_E_AGENT_UNAVAILABLE;
        snprintf(note, sizeof(note), "Transferred to %s%s%s", name, ctx->reason && *ctx->reason ? ": " : "",
                 ctx->reason ? ctx->reason : "");
        /* Assign first: the note is then delivered to its new owner (a
         * message travels with the routing of the moment it is posted). */
        rc = assign_tx(conn, c.id, ctx->to_agent, "transferred");
        if (rc == DB_OK)
            rc = post_note(conn, c.id, ctx->a, note);
    } else {
        rc = db_exec(conn, &res, "SELECT name FROM teams WHERE id = $1::bigint", 1,
                     (const char *const[]){DB_ID(ctx->to_team)});
        if (rc != DB_OK)
            return rc;
        if (PQntuples(res) != 1) {
            PQclear(res);
            return CHAT_E_NOT_FOUND;
        }
        assign_name_for_text(db_get_str(res, 0, 0), name, sizeof(name));
        PQclear(res);
        snprintf(note, sizeof(note), "Transferred to team %s%s%s", name, ctx->reason && *ctx->reason ? ": " : "",
                 ctx->reason ? ctx->reason : "");
        /* Requeue first, so the note reaches the new team's watchers. */
        rc = db_exec(conn, NULL,
                     "UPDATE conversations SET team_id = $2::bigint, status = 'queued', assignee_id = NULL,"
                     " assigned_at = NULL, queued_at = now(), updated_at = now() WHERE id = $1::bigint",
                     2, (const char *const[]){DB_ID(c.id), DB_ID(ctx->to_team)});
        if (rc == DB_OK)
            rc = post_note(conn, c.id, ctx->a, note);
        if (rc == DB_OK)
            rc = messages_post_event_tx(
                conn, c.id, "Transferred to another team",
                json_pack("{s:s, s:I}", "event", "transferred", "team_id", (json_int_t)ctx->to_team));
        if (rc == DB_OK)
            rc = notify_conv(conn, c.id, "transferred", c.assignee_id, c.team_id);
        assign_work_team(&ctx->work, ctx->to_team);
    }
    if (rc == DB_OK)
        rc = convo_json_tx(conn, c.id, "agent", &ctx->reply);
    if (c.assignee_id && c.assignee_id != ctx->to_agent)
        assign_work_agent(&ctx->work, c.assignee_id);
    return rc;
}

/* A move's work is recorded only once it commits: a rerun transaction or a
 * failure leaves the caller's work as it was. */
static enum chat_err run_move(struct app *app, db_tx_fn fn, struct move_ctx *ctx, json_t **reply,
                              struct assign_work *work)
{
    int rc = db_transaction(app->db, fn, ctx);
    if (rc != DB_OK) {
        json_decref(ctx->reply);
        *reply = NULL;
        return chat_err_of(rc);
    }
    *reply = json_pack("{s:o}", "conversation", ctx->reply);
    assign_work_merge(work, &ctx->work);
    return CHAT_OK;
}

enum chat_err convo_accept(struct app *app, const struct actor *a, long long conv, json_t **reply,
                           struct assign_work *work)
{
    struct move_ctx ctx = {.a = a, .conv = conv};
    return run_move(app, accept_tx, &ctx, reply, work);
}

enum chat_err convo_close(struct app *app, const struct actor *a, long long conv, json_t **reply,
                          struct assign_work *work)
{
    struct move_ctx ctx = {.a = a, .conv = conv};
    return run_move(app, close_tx, &ctx, reply, work);
}

enum chat_err convo_reopen(struct app *app, const struct actor *a, long long conv, json_t **reply,
                           struct assign_work *work)
{
    struct move_ctx ctx = {.a = a, .conv = conv};
    return run_move(app, reopen_tx, &ctx, reply, work);
}

enum chat_err convo_transfer(struct app *app, const struct actor *a, long long conv, long long to_agent,
                             long long to_team, const char *reason, json_t **reply, struct assign_work *work)
{
    struct move_ctx ctx = {.a = a, .conv = conv, .to_agent = to_agent, .to_team = to_team, .reason = reason};
    return run_move(app, transfer_tx, &ctx, reply, work);
}

enum chat_err convo_rate(struct app *app, const struct actor *a, long long conv, const char *rating,
                         const char *comment, json_t **reply)
{
    const char *params[5] = {DB_ID(conv), DB_ID(a->id), DB_ID(a->site_id), rating, comment};
    PGresult *res = NULL;
    /* Only the conversation's own visitor, and only once it is closed; a
     * second rating replaces the first. */
    int rc = db_query(app->db, &res,
                      "WITH u AS (UPDATE conversations SET rating = $4, rating_comment = nullif($5, ''),"
                      "  updated_at = now()"
                      "  WHERE id = $1::bigint AND visitor_id = $2::bigint AND site_id = $3::bigint"
                      "    AND status = 'closed' RETURNING id),"
                      " n AS (SELECT parley_notify_conv(id, 'rated') FROM u)"
                      " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM n),"
                      "  EXISTS (SELECT 1 FROM conversations WHERE id = $1::bigint AND visitor_id = $2::bigint"
                      "          AND site_id = $3::bigint)",
                      5, params);
    if (rc != DB_OK)
        return chat_err_of(rc);
    long long updated = db_get_ll(res, 0, 0, 0);
    int exists = db_get_bool(res, 0, 2);
    PQclear(res);
    if (!updated)
        return exists ? CHAT_E_INVALID_STATE : CHAT_E_NOT_FOUND;
    *reply = json_pack("{s:I, s:s}", "conversation_id", (json_int_t)conv, "rating", rating);
    return CHAT_OK;
}

enum chat_err convo_visitor_update(struct app *app, const struct actor *a, const char *name, const char *email,
                                   json_t *attributes, const char *page_url, json_t **reply)
{
    char *attrs = attributes ? json_dumps(attributes, JSON_COMPACT) : NULL;
    const char *params[6] = {DB_ID(a->id), DB_ID(a->site_id), name, email, attrs, page_url};
    PGresult *res = NULL;
    /* One statement: update the visitor, the open conversation's page, and
     * tell the agents (a conv event re-renders the visitor panel). */
    int rc = db_query(app->db, &res,
                      "WITH v AS (UPDATE visitors SET"
                      "   name = CASE WHEN verified THEN name ELSE coalesce($3, name) END,"
                      "   email = CASE WHEN verified THEN email ELSE coalesce($4, email) END,"
                      "   attributes = CASE WHEN $5::jsonb IS NULL THEN attributes"
                      "     ELSE jsonb_strip_nulls(attributes || $5::jsonb) END,"
                      "   last_seen_at = now()"
                      "  WHERE id = $1::bigint AND site_id = $2::bigint"
                      "  RETURNING json_build_object('id', id, 'name', name, 'email', email, 'verified', verified,"
                      "   'attributes', attributes)::text AS doc,"
                      "   verified AND $3::text IS DISTINCT FROM name AND $3::text IS NOT NULL AS name_ignored,"
                      "   verified AND $4::text IS DISTINCT FROM email AND $4::text IS NOT NULL AS email_ignored),"
                      " c AS (UPDATE conversations SET page_url = coalesce($6, page_url), updated_at = now()"
                      "  WHERE visitor_id = $1::bigint AND site_id = $2::bigint AND status <> 'closed' RETURNING id),"
                      " n AS (SELECT parley_notify_conv(id, 'visitor') FROM c)"
                      " SELECT (SELECT doc FROM v), (SELECT count(*) FROM n), (SELECT name_ignored FROM v),"
                      "   (SELECT email_ignored FROM v)",
                      6, params);
    free(attrs);
    if (rc != DB_OK)
        return chat_err_of(rc);
    json_t *doc = db_get_str(res, 0, 0) ? json_loads(db_get_str(res, 0, 0), 0, NULL) : NULL;
    /* A verified identity's name and email change only with a new verified
     * identity: what was refused is said, field by field. */
    json_t *ignored = json_array();
    if (db_get_bool(res, 0, 2))
        json_array_append_new(ignored, json_string("name"));
    if (db_get_bool(res, 0, 3))
        json_array_append_new(ignored, json_string("email"));
    PQclear(res);
    if (!doc) {
        json_decref(ignored);
        return CHAT_E_NOT_FOUND;
    }
    *reply = json_pack("{s:o}", "visitor", doc);
    if (*reply && json_array_size(ignored) > 0)
        json_object_set(*reply, "ignored", ignored);
    json_decref(ignored);
    return CHAT_OK;
}

/* ---- read receipts and typing: one statement each, no lock held ---- */

/* The permission test shared by the single-statement operations (called by
 * sockets only: visitors and agents): $2 is the actor id, $3 the site
 * (visitor), $4 'visitor'|'agent', $5 the socket's privilege, narrowed by
 * the agent's current role. */
#define VIEW_CHECK                                                                                                     \
    " (($4 = 'visitor' AND c.visitor_id = $2::bigint AND c.site_id = $3::bigint)"                                      \
    "  OR ($4 = 'agent' AND parley_agent_sees(c, $2::bigint, $5::boolean)))"

enum chat_err convo_read(struct app *app, const struct actor *a, long long conv, long long seq, json_t **reply)
{
    char upto[24];
    const char *params[6] = {
        DB_ID(conv), DB_ID(a->id), DB_ID(a->site_id), audience_of(a), a->privileged ? "true" : "false", upto};
    PGresult *res = NULL;
    snprintf(upto, sizeof(upto), "%lld", seq);
    static const struct db_stmt mark_read = {
        "WITH u AS (UPDATE conversations c SET"
        "   visitor_last_read_seq = CASE WHEN $4 = 'visitor'"
        "     THEN greatest(c.visitor_last_read_seq, least($6::bigint, c.last_seq))"
        "     ELSE c.visitor_last_read_seq END,"
        "   agent_last_read_seq = CASE WHEN $4 = 'agent'"
        "     THEN greatest(c.agent_last_read_seq, least($6::bigint, c.last_seq))"
        "     ELSE c.agent_last_read_seq END"
        "  WHERE c.id = $1::bigint AND" VIEW_CHECK "  RETURNING c.id,"
        "   CASE WHEN $4 = 'visitor' THEN c.visitor_last_read_seq ELSE c.agent_last_read_seq END AS seq)"
        /* (c is the row before the update: who follows it is the same.) */
        " SELECT u.seq, parley_notify_read(c, $4, u.seq) FROM u JOIN conversations c ON c.id = u.id",
        6};
    /* Read marks only move forward: safe to run twice. */
    int rc = db_read_stmt(app->db, &res, &mark_read, params);
    if (rc != DB_OK)
        return chat_err_of(rc);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return CHAT_E_NOT_FOUND;
    }
    *reply = json_pack("{s:I, s:I}", "conversation_id", (json_int_t)conv, "last_read_seq",
                       (json_int_t)db_get_ll(res, 0, 0, 0));
    PQclear(res);
    return CHAT_OK;
}

enum chat_err convo_typing(struct app *app, const struct actor *a, const char *name, long long conv, int on,
                           int internal)
{
    const char *params[8] = {DB_ID(conv),
                             DB_ID(a->id),
                             DB_ID(a->site_id),
                             audience_of(a),
                             a->privileged ? "true" : "false",
                             on ? "true" : "false",
                             a->kind == ACTOR_AGENT ? name : NULL,
                             internal && a->kind == ACTOR_AGENT ? "true" : "false"};
    PGresult *res = NULL;
    static const struct db_stmt typing = {
        "SELECT parley_notify_typing(c, $4, $6::boolean, $7, $8::boolean,"
        "  CASE WHEN $4 = 'agent' THEN $2::bigint END)"
        " FROM conversations c WHERE c.id = $1::bigint AND c.status <> 'closed' AND" VIEW_CHECK,
        8};
    int rc = db_read_stmt(app->db, &res, &typing, params); /* a second typing signal is harmless */
    if (rc != DB_OK)
        return chat_err_of(rc);
    int found = PQntuples(res) == 1;
    PQclear(res);
    return found ? CHAT_OK : CHAT_E_NOT_FOUND;
}

enum chat_err convo_sync(struct app *app, const struct actor *a, long long conv, long long after_seq, long long limit,
                         json_t **reply)
{
    char after[24], lim[24];
    const char *params[7] = {
        DB_ID(conv), DB_ID(a->id), DB_ID(a->site_id), audience_of(a), a->privileged ? "true" : "false", after, lim};
    PGresult *res = NULL;
    snprintf(after, sizeof(after), "%lld", after_seq);
    snprintf(lim, sizeof(lim), "%lld", limit);
    /* Fetch one more than asked to know whether there is more. Visitors
     * never receive notes; their seq numbers still advance, so a visitor
     * sees gaps where notes were and must not treat a gap as loss: sync is
     * by "after seq", which stays exact. */
    static const struct db_stmt sync = {
        "SELECT parley_conversation_json(c, $4)::text,"
        "  (SELECT coalesce(json_agg(x.j ORDER BY x.seq), '[]'::json)::text FROM ("
        "     SELECT m.seq, parley_message_json(m, $4) AS j FROM messages m"
        "     WHERE m.conversation_id = c.id AND m.seq > $6::bigint"
        "       AND ($4 = 'agent' OR m.kind <> 'note')"
        "     ORDER BY m.seq LIMIT $7::int) x),"
        "  (SELECT count(*) FROM (SELECT 1 FROM messages m WHERE m.conversation_id = c.id"
        "     AND m.seq > $6::bigint AND ($4 = 'agent' OR m.kind <> 'note') LIMIT $7::int + 1) y)"
        " FROM conversations c WHERE c.id = $1::bigint AND" VIEW_CHECK,
        7};
    int rc = db_read_stmt(app->db, &res, &sync, params);
    if (rc != DB_OK)
        return chat_err_of(rc);
    if (PQntuples(res) != 1) {
        PQclear(res);
        return CHAT_E_NOT_FOUND;
    }
    json_t *conv_doc = json_loads(db_get_str(res, 0, 0), 0, NULL);
    json_t *messages = json_loads(db_get_str(res, 0, 1), 0, NULL);
    int more = db_get_ll(res, 0, 2, 0) > limit;
    PQclear(res);
    if (!conv_doc || !messages) {
        json_decref(conv_doc);
        json_decref(messages);
        return CHAT_E_INTERNAL;
    }
    *reply = json_pack("{s:o, s:o, s:b}", "conversation", conv_doc, "messages", messages, "more", more);
    return CHAT_OK;
}

enum chat_err convo_list(struct app *app, const struct actor *a, json_t **reply)
{
    const char *params[4] = {DB_ID(a->id), DB_ID(a->site_id), audience_of(a), a->privileged ? "true" : "false"};
    PGresult *res = NULL;
    /* Visitor: their conversations on this site, newest first (a verified
     * visitor sees them from any device). Agent: assigned to them, those
     * they take part in (invited, joined), queued in their teams, and for
     * supervisors/admins every open one. */
    int rc = db_read(app->db, &res,
                     "SELECT coalesce(json_agg(parley_conversation_json(c, $3) ORDER BY c.id DESC), '[]'::json)::text"
                     " FROM (SELECT * FROM conversations c WHERE"
                     "   ($3 = 'visitor' AND c.visitor_id = $1::bigint AND c.site_id = $2::bigint)"
                     "   OR ($3 = 'agent' AND c.status <> 'closed'"
                     "       AND (($4::boolean AND parley_agent_privileged($1::bigint)) OR c.assignee_id = $1::bigint"
                     "       OR $1::bigint = ANY (c.participant_ids)"
                     "       OR (c.status = 'queued' AND EXISTS (SELECT 1 FROM team_members tm"
                     "           WHERE tm.team_id = c.team_id AND tm.agent_id = $1::bigint))))"
                     "   ORDER BY c.id DESC LIMIT 200) c",
                     4, params);
    if (rc != DB_OK)
        return chat_err_of(rc);
    json_t *list = json_loads(db_get_str(res, 0, 0), 0, NULL);
    PQclear(res);
    if (!list)
        return CHAT_E_INTERNAL;
    *reply = json_pack("{s:o}", "conversations", list);
    return CHAT_OK;
}

int convo_requeue_agent_tx(PGconn *conn, long long agent_id, struct assign_work *work)
{
    PGresult *res = NULL;
    int rc, moved;
    /* Back at the front: queued_at just before the oldest waiting one. */
    rc = db_exec(conn, &res,
                 "UPDATE conversations c SET status = 'queued', assignee_id = NULL, assigned_at = NULL,"
                 "  queued_at = least(c.created_at, (SELECT min(q.queued_at) FROM conversations q"
                 "    WHERE q.team_id = c.team_id AND q.status = 'queued') - interval '1 millisecond'),"
                 "  updated_at = now()"
                 " WHERE c.assignee_id = $1::bigint AND c.status = 'assigned' RETURNING c.id, c.team_id",
                 1, (const char *const[]){DB_ID(agent_id)});
    if (rc != DB_OK)
        return -1;
    moved = PQntuples(res);
    for (int i = 0; i < moved && rc == DB_OK; i++) {
        long long conv = db_get_ll(res, i, 0, 0), team = db_get_ll(res, i, 1, 0);
        rc = messages_post_event_tx(conn, conv, "The agent was disconnected; waiting for another agent",
                                    json_pack("{s:s, s:I}", "event", "requeued", "agent_id", (json_int_t)agent_id));
        if (rc == DB_OK)
            rc = notify_conv(conn, conv, "requeued", agent_id, 0);
        assign_work_team(work, team);
    }
    PQclear(res);
    return rc == DB_OK ? moved : -1;
}

enum chat_err convo_views(struct db_pool *db, long long conv, struct convo_views *out)
{
    static const struct db_stmt views = {
        "SELECT c.visitor_id, c.team_id, c.assignee_id, parley_conversation_json(c, 'visitor')::text,"
        "       parley_conversation_json(c, 'agent')::text, array_to_string(c.participant_ids, ',')"
        " FROM conversations c WHERE c.id = $1::bigint",
        1};
    PGresult *res = NULL;
    memset(out, 0, sizeof(*out));
    enum chat_err err = chat_err_of(db_read_stmt(db, &res, &views, (const char *const[]){DB_ID(conv)}));
    if (err == CHAT_OK && PQntuples(res) != 1)
        err = CHAT_E_NOT_FOUND;
    if (err == CHAT_OK) {
        out->visitor_id = db_get_ll(res, 0, 0, 0);
        out->team_id = db_get_ll(res, 0, 1, 0);
        out->assignee_id = db_get_ll(res, 0, 2, 0);
        out->visitor_json = strdup(db_get_str(res, 0, 3));
        out->agent_json = strdup(db_get_str(res, 0, 4));
        out->nparticipants = db_id_list(db_get_str(res, 0, 5), out->participants, MESSAGE_MAX_PARTICIPANTS);
        if (!out->visitor_json || !out->agent_json) {
            convo_views_free(out);
            err = CHAT_E_INTERNAL;
        }
    }
    PQclear(res);
    return err;
}

void convo_views_free(struct convo_views *v)
{
    free(v->visitor_json);
    free(v->agent_json);
    v->visitor_json = v->agent_json = NULL;
}
