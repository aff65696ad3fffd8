#include "chat/assign.h"

#include "chat/messages.h"
#include "chat/notify.h"
#include "core/log.h"
#include "core/text.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAIN_BATCH       50
#define DRAIN_MAX_AGENTS  200
#define ASSIGN_LOCK_CLASS 7351 /* advisory lock class for per-team draining */

int assign_eligible(const struct assign_agent *a)
{
    return a->online && a->connected && a->in_team;
}

static int declined(const struct assign_queued *q, long long agent_id)
{
    for (int i = 0; q && i < q->ndeclined && i < ASSIGN_DECLINED_MAX; i++)
        if (q->declined[i] == agent_id)
            return 1;
    return 0;
}

/* The pick for conversation q (NULL: any), leaving out who declined it. */
static int pick_for(const struct assign_agent *agents, size_t n, const struct assign_queued *q)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const struct assign_agent *a = &agents[i];
        if (!assign_eligible(a) || a->open >= a->max_chats || declined(q, a->id))
            continue;
        if (best < 0) {
            best = (int)i;
            continue;
        }
        const struct assign_agent *b = &agents[best];
        if (a->open != b->open) {
            if (a->open < b->open)
                best = (int)i;
        } else if (a->last_assigned_at != b->last_assigned_at) {
            if (a->last_assigned_at < b->last_assigned_at)
                best = (int)i;
        } else if (a->id < b->id) {
            best = (int)i;
        }
    }
    return best;
}

int assign_pick_agent(const struct assign_agent *agents, size_t n)
{
    return pick_for(agents, n, NULL);
}

size_t assign_plan(const struct assign_queued *conversations, size_t nconv, struct assign_agent *agents, size_t nagents,
                   double now, struct assign_plan_item *out, size_t max_out)
{
    size_t n = 0;
    for (size_t i = 0; i < nconv && n < max_out; i++) {
        int pick = pick_for(agents, nagents, &conversations[i]);
        /* Nobody for this one (those left declined it): maybe for the next. */
        if (pick < 0) {
            if (assign_pick_agent(agents, nagents) < 0)
                break;
            continue;
        }
        out[n].conversation_id = conversations[i].id;
        out[n].agent_id = agents[pick].id;
        agents[pick].open++;
        agents[pick].last_assigned_at = now;
        n++;
    }
    return n;
}

/* A stored name for the text of an event line ("Ann joined the
 * conversation"): cleaned as an identifier, because rows written before
 * names were checked (text_ident_error) may still hide a U+202E that would
 * reverse the rest of the sentence. out holds len bytes. */
void assign_name_for_text(const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    if (n >= len)
        n = len - 1; /* names are at most 100 characters: never cut */
    text_ident_clean(name, n, out);
}

enum chat_err assign_tx(PGconn *conn, long long conv, long long agent_id, const char *change)
{
    char name[512], body[600];
    const char *agent = DB_ID(agent_id);
    PGresult *res = NULL;
    enum chat_err err;
    err = chat_err_of(db_exec(conn, &res, "SELECT name FROM agents WHERE id = $1::bigint AND active", 1,
                              (const char *const[]){agent}));
    if (err == CHAT_OK && PQntuples(res) != 1)
        err = CHAT_E_NOT_FOUND;
    if (err == CHAT_OK)
        assign_name_for_text(db_get_str(res, 0, 0), name, sizeof(name));
    PQclear(res);
    res = NULL;
    if (err != CHAT_OK)
        return err;
    err = chat_err_of(db_exec(conn, &res,
                              "WITH old AS (SELECT assignee_id FROM conversations WHERE id = $1::bigint),"
                              " upd AS (UPDATE conversations SET status = 'assigned', assignee_id = $2::bigint,"
                              "         assigned_at = now(), queued_at = NULL, closed_at = NULL, updated_at = now(),"
                              "         auto_assigned = false"
                              "         WHERE id = $1::bigint RETURNING id),"
                              " ag AS (UPDATE agents SET last_assigned_at = now() WHERE id = $2::bigint),"
                              /* The owner is no longer one of the others. */
                              " pt AS (DELETE FROM conversation_participants"
                              "        WHERE conversation_id = $1::bigint AND agent_id = $2::bigint)"
                              " SELECT (SELECT assignee_id FROM old) FROM upd",
                              2, (const char *const[]){DB_ID(conv), agent}));
    long long prev = err == CHAT_OK ? db_get_ll(res, 0, 0, 0) : 0;
    PQclear(res);
    if (err != CHAT_OK)
        return err;
    snprintf(body, sizeof(body),
             strcmp(change, "reopened") == 0 ? "%s reopened the conversation" : "%s joined the conversation", name);
    json_t *meta = json_pack("{s:s, s:I}", "event", change, "agent_id", (json_int_t)agent_id);
    err = messages_post_event_tx(conn, conv, body, meta);
    if (err == CHAT_OK)
        err = notify_conv(conn, conv, change, prev != agent_id ? prev : 0, 0);
    return err;
}

static int queued_cmp(const void *x, const void *y)
{
    const struct assign_queued *a = x, *b = y;
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    if (a->queued_at != b->queued_at)
        return a->queued_at < b->queued_at ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

void assign_order_queue(struct assign_queued *q, size_t n)
{
    qsort(q, n, sizeof(*q), queued_cmp);
}

struct drain_ctx {
    long long team_id;
    int assigned;
};

static int drain_tx(PGconn *conn, void *arg)
{
    struct drain_ctx *ctx = arg;
    char klass[16];
    const char *team = DB_ID(ctx->team_id);
    const char *p_team[1] = {team};
    const char *p_lock[2] = {klass, team};
    PGresult *qres = NULL, *ares = NULL;
    struct assign_queued queued[DRAIN_BATCH];
    struct assign_agent agents[DRAIN_MAX_AGENTS];
    struct assign_plan_item plan[DRAIN_BATCH];
    size_t nconv, nagents;
    int rc;

    snprintf(klass, sizeof(klass), "%d", ASSIGN_LOCK_CLASS);
    /* A rerun (serialization failure) starts over. */
    ctx->assigned = 0;
    /* One drainer per team at a time, cluster-wide. */
    rc = db_exec(conn, NULL, "SELECT pg_advisory_xact_lock($1::int, $2::int)", 2, p_lock);
    if (rc != DB_OK)
        goto done;
    rc = db_exec(conn, &qres,
                 "SELECT id, priority, extract(epoch FROM queued_at), array_to_string(declined_agent_ids, ',')"
                 " FROM conversations"
                 " WHERE team_id = $1::bigint AND status = 'queued'"
                 " ORDER BY priority DESC, queued_at, id LIMIT 50 FOR UPDATE",
                 1, p_team);
    if (rc != DB_OK || PQntuples(qres) == 0)
        goto done;
    /* The team's active members with what the policy needs to know. Lock
     * the online ones first (an agent in two teams may be drained for both
     * at once), then count open chats in a fresh snapshot. */
    rc = db_exec(conn, NULL,
                 "SELECT 1 FROM agents a JOIN team_members tm ON tm.agent_id = a.id AND tm.team_id = $1::bigint"
                 " WHERE a.active AND a.status = 'online' ORDER BY a.id FOR UPDATE OF a",
                 1, p_team);
    if (rc != DB_OK)
        goto done;
    rc = db_exec(conn, &ares,
                 "SELECT a.id, a.max_chats,"
                 "  parley_agent_load(a.id),"
                 "  coalesce(extract(epoch FROM a.last_assigned_at), 0), a.status = 'online',"
                 "  parley_agent_live(a.id)"
                 " FROM agents a JOIN team_members tm ON tm.agent_id = a.id AND tm.team_id = $1::bigint"
                 " WHERE a.active ORDER BY a.status = 'online' DESC, a.id LIMIT 200",
                 1, p_team);
    if (rc != DB_OK)
        goto done;
    nconv = (size_t)PQntuples(qres);
    nagents = (size_t)PQntuples(ares);
    for (size_t i = 0; i < nconv; i++) {
        queued[i] = (struct assign_queued){.id = db_get_ll(qres, (int)i, 0, 0),
                                           .priority = (int)db_get_ll(qres, (int)i, 1, 1),
                                           .queued_at = strtod(db_get_str(qres, (int)i, 2), NULL)};
        queued[i].ndeclined = db_id_list(db_get_str(qres, (int)i, 3), queued[i].declined, ASSIGN_DECLINED_MAX);
    }
    assign_order_queue(queued, nconv);
    for (size_t i = 0; i < nagents; i++) {
        agents[i].id = db_get_ll(ares, (int)i, 0, 0);
        agents[i].max_chats = (int)db_get_ll(ares, (int)i, 1, 0);
        agents[i].open = (int)db_get_ll(ares, (int)i, 2, 0);
        agents[i].last_assigned_at = strtod(db_get_str(ares, (int)i, 3), NULL);
        agents[i].online = db_get_bool(ares, (int)i, 4);
        agents[i].connected = db_get_bool(ares, (int)i, 5);
        agents[i].in_team = 1;
    }
    /* "now" only has to sort after every real last_assigned_at. */
    size_t n = assign_plan(queued, nconv, agents, nagents, 1e18, plan, DRAIN_BATCH);
    for (size_t i = 0; i < n; i++) {
        rc = assign_tx(conn, plan[i].conversation_id, plan[i].agent_id, "assigned");
        /* The router chose: the team's "reassign if not answered" applies. */
        if (rc == CHAT_OK)
            rc = db_exec(conn, NULL, "UPDATE conversations SET auto_assigned = true WHERE id = $1::bigint", 1,
                         (const char *const[]){DB_ID(plan[i].conversation_id)});
        if (rc != CHAT_OK)
            goto done;
        ctx->assigned++;
    }
done:
    PQclear(qres);
    PQclear(ares);
    return rc;
}

enum chat_err assign_drain(struct app *app, long long team_id, int *assigned)
{
    struct drain_ctx ctx = {.team_id = team_id};
    int total = 0;
    enum chat_err err = CHAT_OK;
    /* A batch at a time until the queue or the capacity runs out. */
    for (;;) {
        err = chat_err_of(db_transaction(app->db, drain_tx, &ctx));
        if (err != CHAT_OK) {
            char team[24];
            snprintf(team, sizeof(team), "%lld", team_id);
            log_warn("drain failed; the periodic drain will retry", "team", team);
            break;
        }
        total += ctx.assigned;
        if (ctx.assigned < DRAIN_BATCH)
            break;
    }
    if (assigned)
        *assigned = total;
    return err;
}

void assign_work_team(struct assign_work *w, long long team_id)
{
    for (int i = 0; i < w->nteams; i++)
        if (w->teams[i] == team_id)
            return;
    if (team_id > 0 && w->nteams < ASSIGN_WORK_MAX)
        w->teams[w->nteams++] = team_id;
    else if (team_id > 0)
        w->overflow = 1;
}

void assign_work_agent(struct assign_work *w, long long agent_id)
{
    for (int i = 0; i < w->nagents; i++)
        if (w->agents[i] == agent_id)
            return;
    if (agent_id > 0 && w->nagents < ASSIGN_WORK_MAX)
        w->agents[w->nagents++] = agent_id;
    else if (agent_id > 0)
        w->overflow = 1;
}

void assign_work_merge(struct assign_work *w, const struct assign_work *from)
{
    for (int i = 0; i < from->nteams; i++)
        assign_work_team(w, from->teams[i]);
    for (int i = 0; i < from->nagents; i++)
        assign_work_agent(w, from->agents[i]);
    w->overflow |= from->overflow;
}

/* The teams of an agent, drained. */
static void drain_agent_teams(struct app *app, long long agent_id)
{
    const char *id = DB_ID(agent_id);
    PGresult *res = NULL;
    if (db_query(app->db, &res, "SELECT team_id FROM team_members WHERE agent_id = $1::bigint", 1,
                 (const char *const[]){id}) != DB_OK) {
        log_warn("drain failed; the periodic drain will retry", "agent", id);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++)
        if (assign_drain(app, db_get_ll(res, i, 0, 0), NULL) != CHAT_OK)
            break; /* logged there; the periodic drain retries */
    PQclear(res);
}

void assign_run(struct app *app, const struct assign_work *w)
{
    if (w->overflow) {
        if (assign_drain_waiting(app) != CHAT_OK)
            log_warn("drain failed; the periodic drain will retry");
        return;
    }
    for (int i = 0; i < w->nteams; i++)
        if (assign_drain(app, w->teams[i], NULL) != CHAT_OK)
            continue; /* logged there; the periodic drain retries */
    for (int i = 0; i < w->nagents; i++)
        drain_agent_teams(app, w->agents[i]);
}

enum chat_err assign_drain_waiting(struct app *app)
{
    PGresult *res = NULL;
    enum chat_err err = chat_err_of(db_query(app->db, &res,
                                             "SELECT DISTINCT team_id FROM conversations WHERE status = 'queued'"
                                             " AND team_id IS NOT NULL LIMIT 1000",
                                             0, NULL));
    for (int i = 0; err == CHAT_OK && i < PQntuples(res); i++)
        err = assign_drain(app, db_get_ll(res, i, 0, 0), NULL);
    PQclear(res);
    return err;
}
