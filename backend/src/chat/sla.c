#include "chat/sla.h"

#include "chat/calendar.h"
#include "chat/messages.h"
#include "chat/notify.h"
#include "chat/triage.h"
#include "core/jfield.h"
#include "core/log.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ validation */

static int refuse(char *field, size_t flen, const char *prefix, const char *key, char *reason, size_t rlen,
                  const char *why)
{
    snprintf(field, flen, "%s%s%s", prefix, key && *key ? "." : "", key ? key : "");
    snprintf(reason, rlen, "%s", why);
    return -1;
}

int sla_validate_policy(json_t *doc, char *field, size_t flen, char *reason, size_t rlen)
{
    static const char *const keys[] = {"first_response_seconds", "next_response_seconds", "resolution_seconds",
                                       "business_time", NULL};
    struct problem_field err;
    long long v = 0;
    int b = 0, targets = 0;
    if (!json_is_object(doc))
        return refuse(field, flen, "sla", NULL, reason, rlen, "must be an object or null");
    if (jfield_only(doc, keys, &err) != 0)
        return refuse(field, flen, "sla", NULL, reason, rlen, "has a member it does not take");
    for (int i = 0; i < 3; i++) {
        json_t *t = json_object_get(doc, keys[i]);
        if (!t || json_is_null(t))
            continue;
        if (jfield_int(doc, keys[i], 0, SLA_TARGET_MIN, SLA_TARGET_MAX, &v, &err) != 0)
            return refuse(field, flen, "sla", keys[i], reason, rlen, "must be seconds from 10 to 31536000");
        targets++;
    }
    if (jfield_bool(doc, "business_time", 0, &b, &err) != 0)
        return refuse(field, flen, "sla", "business_time", reason, rlen, err.message);
    if (!targets)
        return refuse(field, flen, "sla", "first_response_seconds", reason, rlen,
                      "give at least one target (or null for no SLA)");
    return 0;
}

int sla_validate_escalation(json_t *doc, long long *to_team, char *field, size_t flen, char *reason, size_t rlen)
{
    static const char *const keys[] = {"queue_wait", "reassign_after_seconds", "visitor_idle", NULL};
    static const char *const wait_keys[] = {"after_seconds", "to_team_id", "priority", NULL};
    static const char *const idle_keys[] = {"after_seconds", "message", NULL};
    static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
    struct problem_field err;
    long long v = 0;
    const char *s = NULL;
    *to_team = 0;
    if (!json_is_object(doc))
        return refuse(field, flen, "escalation", NULL, reason, rlen, "must be an object or null");
    if (jfield_only(doc, keys, &err) != 0)
        return refuse(field, flen, "escalation", NULL, reason, rlen, "has a member it does not take");
    json_t *wait = json_object_get(doc, "queue_wait"), *idle = json_object_get(doc, "visitor_idle");
    if (wait && !json_is_null(wait)) {
        if (!json_is_object(wait) || jfield_only(wait, wait_keys, &err) != 0)
            return refuse(field, flen, "escalation", "queue_wait", reason, rlen,
                          "must be {after_seconds, to_team_id or priority}");
        if (jfield_int(wait, "after_seconds", JF_REQUIRED, SLA_RULE_AFTER_MIN, SLA_RULE_AFTER_MAX, &v, &err) != 0)
            return refuse(field, flen, "escalation", "queue_wait.after_seconds", reason, rlen,
                          "must be seconds from 5 to 604800");
        if (jfield_int(wait, "to_team_id", 0, 1, INT64_MAX, to_team, &err) != 0)
            return refuse(field, flen, "escalation", "queue_wait.to_team_id", reason, rlen, err.message);
        if (jfield_enum(wait, "priority", 0, priorities, &s, &err) != 0)
            return refuse(field, flen, "escalation", "queue_wait.priority", reason, rlen, err.message);
        if ((*to_team != 0) == (s != NULL))
            return refuse(field, flen, "escalation", "queue_wait.to_team_id", reason, rlen,
                          "give exactly one of to_team_id and priority");
    }
    json_t *re = json_object_get(doc, "reassign_after_seconds");
    if (re && !json_is_null(re) &&
        jfield_int(doc, "reassign_after_seconds", 0, SLA_RULE_AFTER_MIN, SLA_RULE_AFTER_MAX, &v, &err) != 0)
        return refuse(field, flen, "escalation", "reassign_after_seconds", reason, rlen,
                      "must be seconds from 5 to 604800");
    if (idle && !json_is_null(idle)) {
        if (!json_is_object(idle) || jfield_only(idle, idle_keys, &err) != 0)
            return refuse(field, flen, "escalation", "visitor_idle", reason, rlen, "must be {after_seconds, message}");
        if (jfield_int(idle, "after_seconds", JF_REQUIRED, SLA_RULE_AFTER_MIN, SLA_RULE_AFTER_MAX, &v, &err) != 0)
            return refuse(field, flen, "escalation", "visitor_idle.after_seconds", reason, rlen,
                          "must be seconds from 5 to 604800");
        if (jfield_string(idle, "message", JF_REQUIRED | JF_MULTILINE | JF_TEXT, 1, SLA_IDLE_MESSAGE_MAX, &s, &err) !=
            0)
            return refuse(field, flen, "escalation", "visitor_idle.message", reason, rlen, err.message);
    }
    return 0;
}

/* ------------------------------------------------------------- due times */

/* One team's settings for a round. */
struct team_rules {
    long long id;
    const char *hours_text; /* teams.business_hours, NULL: always open */
    json_t *sla, *escalation;
    struct bizcal cal;
    int has_cal;
};

/* When `seconds` of the team's clock have passed since start: business
 * time when the policy says so and the team has hours, else wall time.
 * 0 when beyond the calendar's horizon (no due time then). */
static long long deadline(const struct team_rules *t, int business, long long start, long long seconds)
{
    if (business && t->has_cal) {
        int64_t due = bizcal_add(&t->cal, start, seconds);
        return due > 0 ? due : 0;
    }
    return start + seconds;
}

static const char *target_text(json_t *sla, const char *key, char *buf, size_t len)
{
    json_t *v = json_object_get(sla, key);
    if (!json_is_integer(v))
        return NULL;
    snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    return buf;
}

/* Writes the due times that apply and are unset for the team's open
 * conversations (a batch per round). The same computation on two nodes
 * writes the same values; each column is set only while unset (and the
 * next-response one only while its anchor is the one it was computed
 * from), and the agents hear of it. */
static void due_times(struct app *app, struct team_rules *t)
{
    char first[24], next[24], res_[24];
    const char *p_first = target_text(t->sla, "first_response_seconds", first, sizeof(first));
    const char *p_next = target_text(t->sla, "next_response_seconds", next, sizeof(next));
    const char *p_res = target_text(t->sla, "resolution_seconds", res_, sizeof(res_));
    int business = json_is_true(json_object_get(t->sla, "business_time"));
    PGresult *res = NULL;
    const char *params[4] = {DB_ID(t->id), p_first ? "t" : "f", p_next ? "t" : "f", p_res ? "t" : "f"};
    int rc = db_query(app->db, &res,
                      /* Whole seconds, rounded down: a due time is never later than the target. */
                      "SELECT id, floor(extract(epoch FROM CASE WHEN bot_id IS NOT NULL THEN coalesce(queued_at,"
                      "         created_at) ELSE created_at END))::bigint,"
                      "  floor(extract(epoch FROM awaiting_since))::bigint, awaiting_since::text,"
                      "  $2::boolean AND sla_first_due_at IS NULL AND first_response_at IS NULL,"
                      "  $3::boolean AND sla_next_due_at IS NULL AND awaiting_since IS NOT NULL"
                      "    AND first_response_at IS NOT NULL,"
                      "  $4::boolean AND sla_resolution_due_at IS NULL"
                      " FROM conversations WHERE team_id = $1::bigint AND status IN ('queued', 'assigned')"
                      "  AND (($2::boolean AND sla_first_due_at IS NULL AND first_response_at IS NULL)"
                      "    OR ($3::boolean AND sla_next_due_at IS NULL AND awaiting_since IS NOT NULL"
                      "        AND first_response_at IS NOT NULL)"
                      "    OR ($4::boolean AND sla_resolution_due_at IS NULL))"
                      " ORDER BY id LIMIT 200",
                      4, params);
    for (int i = 0; rc == DB_OK && i < PQntuples(res); i++) {
        long long start = db_get_ll(res, i, 1, 0), waiting = db_get_ll(res, i, 2, 0);
        char d_first[24] = "", d_next[24] = "", d_res[24] = "";
        if (db_get_bool(res, i, 4))
            snprintf(d_first, sizeof(d_first), "%lld", deadline(t, business, start, atoll(p_first)));
        if (db_get_bool(res, i, 5))
            snprintf(d_next, sizeof(d_next), "%lld", deadline(t, business, waiting, atoll(p_next)));
        if (db_get_bool(res, i, 6))
            snprintf(d_res, sizeof(d_res), "%lld", deadline(t, business, start, atoll(p_res)));
        const char *up[5] = {DB_ID(db_get_ll(res, i, 0, 0)), *d_first && strcmp(d_first, "0") ? d_first : NULL,
                             *d_next && strcmp(d_next, "0") ? d_next : NULL,
                             *d_res && strcmp(d_res, "0") ? d_res : NULL, db_get_str(res, i, 3)};
        rc = db_query(app->db, NULL,
                      "WITH u AS (UPDATE conversations SET"
                      "   sla_first_due_at = coalesce(sla_first_due_at, to_timestamp($2::bigint)),"
                      "   sla_next_due_at = CASE WHEN awaiting_since = $5::timestamptz"
                      "     THEN coalesce(sla_next_due_at, to_timestamp($3::bigint)) ELSE sla_next_due_at END,"
                      "   sla_resolution_due_at = coalesce(sla_resolution_due_at, to_timestamp($4::bigint))"
                      "  WHERE id = $1::bigint AND ((sla_first_due_at IS NULL AND $2::bigint IS NOT NULL)"
                      "    OR (sla_next_due_at IS NULL AND $3::bigint IS NOT NULL AND awaiting_since = $5::timestamptz)"
                      "    OR (sla_resolution_due_at IS NULL AND $4::bigint IS NOT NULL))"
                      "  RETURNING id)"
                      " SELECT parley_notify_conv(id, 'sla') FROM u",
                      5, up);
    }
    if (rc != DB_OK)
        log_warn("SLA due times not written; the next round tries again");
    PQclear(res);
}

/* ----------------------------------------------------------------- rules */

struct rule_ctx {
    struct team_rules *t;
    long long after;
    struct assign_work work;
    int acted;
};

/* A chat waiting in the queue past queue_wait: to another team, or raised
 * in priority, once per wait in this team. */
static int queue_wait_tx(PGconn *conn, void *arg)
{
    struct rule_ctx *ctx = arg;
    json_t *wait = json_object_get(ctx->t->escalation, "queue_wait");
    long long to_team = json_integer_value(json_object_get(wait, "to_team_id"));
    int priority = triage_priority_value(json_string_value(json_object_get(wait, "priority")));
    char after[24], prio[16], body[700], team_name[512] = "";
    PGresult *res = NULL;
    memset(&ctx->work, 0, sizeof(ctx->work));
    ctx->acted = 0;
    snprintf(after, sizeof(after), "%lld", ctx->after);
    snprintf(prio, sizeof(prio), "%d", priority < 0 ? 1 : priority);
    if (to_team) {
        int rc = db_exec(conn, &res, "SELECT name FROM teams WHERE id = $1::bigint", 1,
                         (const char *const[]){DB_ID(to_team)});
        if (rc == DB_OK && PQntuples(res) == 1)
            assign_name_for_text(db_get_str(res, 0, 0), team_name, sizeof(team_name));
        PQclear(res);
        res = NULL;
        if (rc != DB_OK)
            return rc;
        if (!*team_name || to_team == ctx->t->id)
            return DB_OK; /* the team it names is gone: the rule does nothing */
    }
    /* Moving resets the marker (the new team's own rule starts with the
     * new wait); raising sets it (once per wait). */
    int rc = db_exec(conn, &res,
                     "WITH due AS (SELECT id FROM conversations WHERE team_id = $1::bigint AND status = 'queued'"
                     "    AND queued_at < now() - make_interval(secs => $2::int)"
                     "    AND (queue_rule_at IS NULL OR queue_rule_at < queued_at)"
                     "  ORDER BY queued_at LIMIT 50 FOR UPDATE SKIP LOCKED)"
                     " UPDATE conversations c SET"
                     "   team_id = CASE WHEN $3::bigint IS NULL THEN c.team_id ELSE $3::bigint END,"
                     "   queued_at = CASE WHEN $3::bigint IS NULL THEN c.queued_at ELSE now() END,"
                     "   queue_rule_at = CASE WHEN $3::bigint IS NULL THEN now() END,"
                     "   priority = CASE WHEN $3::bigint IS NULL THEN greatest(c.priority, $4::smallint)"
                     "     ELSE c.priority END, updated_at = now()"
                     "  FROM due WHERE c.id = due.id"
                     " RETURNING c.id, extract(epoch FROM now() - (SELECT queued_at FROM conversations o"
                     "   WHERE o.id = c.id))::bigint",
                     4, (const char *const[]){DB_ID(ctx->t->id), after, to_team ? DB_ID(to_team) : NULL, prio});
    for (int i = 0; rc == DB_OK && i < PQntuples(res); i++) {
        long long conv = db_get_ll(res, i, 0, 0), waited = db_get_ll(res, i, 1, ctx->after) / 60;
        if (to_team) {
            snprintf(body, sizeof(body), "Escalated to %s: waited %lld min in the queue", team_name, waited);
            rc = messages_post_event_tx(conn, conv, body,
                                        json_pack("{s:s, s:I, s:s}", "event", "escalated", "team_id",
                                                  (json_int_t)to_team, "rule", "queue_wait"));
            if (rc == DB_OK)
                rc = notify_conv(conn, conv, "escalated", 0, ctx->t->id);
        } else {
            snprintf(body, sizeof(body), "Priority raised to %s: waited %lld min in the queue",
                     triage_priority_name(priority), waited);
            struct message_post note = {.conversation_id = conv,
                                        .author = {.kind = ACTOR_SYSTEM},
                                        .kind = "note",
                                        .body = body,
                                        .meta = json_pack("{s:s, s:s, s:s}", "event", "priority", "priority",
                                                          triage_priority_name(priority), "rule", "queue_wait")};
            rc = note.meta ? messages_post_tx(conn, &note) : CHAT_E_INTERNAL;
            json_decref(note.meta);
            if (rc == DB_OK)
                rc = notify_conv(conn, conv, "priority", 0, 0);
        }
        ctx->acted++;
    }
    PQclear(res);
    if (ctx->acted)
        assign_work_team(&ctx->work, to_team ? to_team : ctx->t->id);
    return rc;
}

/* A chat the router gave an agent who has not answered in time: back at
 * the front of the queue, not offered to that agent again. */
static int reassign_tx(PGconn *conn, void *arg)
{
    struct rule_ctx *ctx = arg;
    char after[24], body[700], name[512];
    PGresult *res = NULL;
    memset(&ctx->work, 0, sizeof(ctx->work));
    ctx->acted = 0;
    snprintf(after, sizeof(after), "%lld", ctx->after);
    int rc = db_exec(conn, &res,
                     "WITH due AS (SELECT id, assignee_id FROM conversations WHERE team_id = $1::bigint"
                     "    AND status = 'assigned' AND auto_assigned"
                     "    AND assigned_at < now() - make_interval(secs => $2::int)"
                     "    AND (last_reply_at IS NULL OR last_reply_at < assigned_at)"
                     "  ORDER BY assigned_at LIMIT 50 FOR UPDATE SKIP LOCKED)"
                     " UPDATE conversations c SET status = 'queued', assignee_id = NULL, assigned_at = NULL,"
                     "   auto_assigned = false,"
                     "   declined_agent_ids = (c.declined_agent_ids || due.assignee_id)[greatest("
                     "     cardinality(c.declined_agent_ids) - 6, 1):],"
                     "   queued_at = least(c.created_at, (SELECT min(q.queued_at) FROM conversations q"
                     "     WHERE q.team_id = c.team_id AND q.status = 'queued') - interval '1 millisecond'),"
                     "   updated_at = now()"
                     "  FROM due WHERE c.id = due.id"
                     " RETURNING c.id, due.assignee_id, (SELECT a.name FROM agents a WHERE a.id = due.assignee_id)",
                     2, (const char *const[]){DB_ID(ctx->t->id), after});
    for (int i = 0; rc == DB_OK && i < PQntuples(res); i++) {
        long long conv = db_get_ll(res, i, 0, 0), agent = db_get_ll(res, i, 1, 0);
        assign_name_for_text(db_get_str(res, i, 2), name, sizeof(name));
        snprintf(body, sizeof(body), "%s did not answer in time; waiting for another agent", name);
        rc = messages_post_event_tx(
            conn, conv, body,
            json_pack("{s:s, s:I, s:s}", "event", "requeued", "agent_id", (json_int_t)agent, "rule", "not_answered"));
        if (rc == DB_OK)
            rc = notify_conv(conn, conv, "requeued", agent, 0);
        ctx->acted++;
    }
    PQclear(res);
    if (ctx->acted)
        assign_work_team(&ctx->work, ctx->t->id);
    return rc;
}

/* A chat whose visitor has been silent past visitor_idle since the agent's
 * answer: the team's closing message, then closed by the system. */
static int visitor_idle_tx(PGconn *conn, void *arg)
{
    struct rule_ctx *ctx = arg;
    json_t *idle = json_object_get(ctx->t->escalation, "visitor_idle");
    const char *text = json_string_value(json_object_get(idle, "message"));
    char after[24];
    PGresult *res = NULL;
    memset(&ctx->work, 0, sizeof(ctx->work));
    ctx->acted = 0;
    if (!text)
        return DB_OK;
    snprintf(after, sizeof(after), "%lld", ctx->after);
    int rc = db_exec(conn, &res,
                     "SELECT id, assignee_id FROM conversations WHERE team_id = $1::bigint AND status = 'assigned'"
                     "  AND awaiting_since IS NULL AND last_reply_at < now() - make_interval(secs => $2::int)"
                     " ORDER BY last_reply_at LIMIT 50 FOR UPDATE SKIP LOCKED",
                     2, (const char *const[]){DB_ID(ctx->t->id), after});
    for (int i = 0; rc == DB_OK && i < PQntuples(res); i++) {
        long long conv = db_get_ll(res, i, 0, 0), agent = db_get_ll(res, i, 1, 0);
        struct message_post bye = {.conversation_id = conv,
                                   .author = {.kind = ACTOR_SYSTEM},
                                   .kind = "message",
                                   .body = text,
                                   .meta = json_pack("{s:s}", "rule", "visitor_idle")};
        rc = bye.meta ? messages_post_tx(conn, &bye) : CHAT_E_INTERNAL;
        json_decref(bye.meta);
        if (rc == DB_OK)
            rc = db_exec(conn, NULL,
                         "UPDATE conversations SET status = 'closed', closed_at = now(), closed_by_kind = 'system',"
                         " queued_at = NULL, updated_at = now() WHERE id = $1::bigint",
                         1, (const char *const[]){DB_ID(conv)});
        if (rc == DB_OK)
            rc = messages_post_event_tx(
                conn, conv, "Conversation closed: the visitor did not answer",
                json_pack("{s:s, s:s, s:s}", "event", "closed", "by", "system", "rule", "visitor_idle"));
        if (rc == DB_OK)
            rc = notify_conv(conn, conv, "closed", 0, 0);
        assign_work_agent(&ctx->work, agent);
        ctx->acted++;
    }
    PQclear(res);
    return rc;
}

static void run_rule(struct app *app, struct team_rules *t, db_tx_fn fn, long long after, const char *what,
                     struct assign_work *work)
{
    struct rule_ctx ctx = {.t = t, .after = after};
    if (after <= 0)
        return;
    if (db_transaction(app->db, fn, &ctx) != DB_OK) {
        log_warn("escalation rule not applied; the next round tries again", "rule", what);
        return;
    }
    assign_work_merge(work, &ctx.work);
}

static void rules(struct app *app, struct team_rules *t, struct assign_work *work)
{
    json_t *e = t->escalation;
    run_rule(app, t, queue_wait_tx,
             json_integer_value(json_object_get(json_object_get(e, "queue_wait"), "after_seconds")), "queue_wait",
             work);
    run_rule(app, t, reassign_tx, json_integer_value(json_object_get(e, "reassign_after_seconds")), "reassign", work);
    run_rule(app, t, visitor_idle_tx,
             json_integer_value(json_object_get(json_object_get(e, "visitor_idle"), "after_seconds")), "visitor_idle",
             work);
}

void sla_sweep(struct app *app, struct assign_work *work)
{
    PGresult *res = NULL;
    int rc = db_query(app->db, &res,
                      "SELECT id, business_hours::text, sla::text, escalation::text FROM teams"
                      " WHERE sla IS NOT NULL OR escalation IS NOT NULL ORDER BY id LIMIT 1000",
                      0, NULL);
    for (int i = 0; rc == DB_OK && i < PQntuples(res); i++) {
        struct team_rules t = {.id = db_get_ll(res, i, 0, 0), .hours_text = db_get_str(res, i, 1)};
        const char *sla = db_get_str(res, i, 2), *esc = db_get_str(res, i, 3);
        t.sla = sla ? json_loads(sla, 0, NULL) : NULL;
        t.escalation = esc ? json_loads(esc, 0, NULL) : NULL;
        t.has_cal = calendar_load(app->zones, t.hours_text, &t.cal) == 0;
        if (json_is_object(t.sla))
            due_times(app, &t);
        if (json_is_object(t.escalation))
            rules(app, &t, work);
        json_decref(t.sla);
        json_decref(t.escalation);
    }
    PQclear(res);
    if (rc != DB_OK)
        return;
    /* Breaches of every team, each once (db/sql/95_sla.sql). */
    if (db_query(app->db, NULL, "SELECT parley_sla_breaches()", 0, NULL) != DB_OK)
        log_warn("SLA breaches not recorded; the next round tries again");
}
