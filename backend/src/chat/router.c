#include "chat/router.h"

#include "chat/convo.h"
#include "db/db.h"
#include "live/events.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>

#define DRAIN_BATCH       50
#define DRAIN_MAX_AGENTS  200
#define ROUTER_LOCK_CLASS 7351 /* advisory lock class for per-team draining */

int router_eligible(const struct router_agent *a)
{
    return a->online && a->connected && a->in_team;
}

int router_pick_agent(const struct router_agent *agents, size_t n)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const struct router_agent *a = &agents[i];
        if (!router_eligible(a) || a->open >= a->max_chats)
            continue;
        if (best < 0) {
            best = (int)i;
            continue;
        }
        const struct router_agent *b = &agents[best];
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

size_t router_plan(const long long *conversations, size_t nconv, struct router_agent *agents, size_t nagents,
                   double now, struct router_assignment *out, size_t max_out)
{
    size_t n = 0;
    for (size_t i = 0; i < nconv && n < max_out; i++) {
        int pick = router_pick_agent(agents, nagents);
        if (pick < 0)
            break;
        out[n].conversation_id = conversations[i];
        out[n].agent_id = agents[pick].id;
        agents[pick].open++;
        agents[pick].last_assigned_at = now;
        n++;
    }
    return n;
}

struct drain_ctx {
    struct app *app;
    long long team_id;
    int assigned;
};

static int drain_tx(PGconn *conn, void *arg)
{
    struct drain_ctx *ctx = arg;
    char team[24], klass[16];
    const char *p_team[1] = {team};
    const char *p_lock[2] = {klass, team};
    PGresult *qres = NULL, *ares = NULL;
    long long convs[DRAIN_BATCH];
    struct router_agent agents[DRAIN_MAX_AGENTS];
    struct router_assignment plan[DRAIN_BATCH];
    size_t nconv, nagents;
    int rc;

    snprintf(team, sizeof(team), "%lld", ctx->team_id);
    snprintf(klass, sizeof(klass), "%d", ROUTER_LOCK_CLASS);
    ctx->assigned = 0;
    /* One drainer per team at a time, cluster-wide. */
    rc = db_exec(conn, NULL, "SELECT pg_advisory_xact_lock($1::int, $2::int)", 2, p_lock);
    if (rc != DB_OK)
        goto done;
    rc = db_exec(conn, &qres,
                 "SELECT id FROM conversations WHERE team_id = $1::bigint AND status = 'queued'"
                 " ORDER BY queued_at, id LIMIT 50 FOR UPDATE",
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
                 "  (SELECT count(*) FROM conversations c WHERE c.assignee_id = a.id AND c.status = 'assigned'),"
                 "  coalesce(extract(epoch FROM a.last_assigned_at), 0), a.status = 'online',"
                 "  parley_agent_live(a.id)"
                 " FROM agents a JOIN team_members tm ON tm.agent_id = a.id AND tm.team_id = $1::bigint"
                 " WHERE a.active ORDER BY a.status = 'online' DESC, a.id LIMIT 200",
                 1, p_team);
    if (rc != DB_OK)
        goto done;
    nconv = (size_t)PQntuples(qres);
    nagents = (size_t)PQntuples(ares);
    for (size_t i = 0; i < nconv; i++)
        convs[i] = db_get_ll(qres, (int)i, 0, 0);
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
    size_t n = router_plan(convs, nconv, agents, nagents, 1e18, plan, DRAIN_BATCH);
    for (size_t i = 0; i < n; i++) {
        rc = convo_assign_tx(conn, plan[i].conversation_id, plan[i].agent_id, "assigned");
        if (rc != DB_OK)
            goto done;
        ctx->assigned++;
    }
done:
    PQclear(qres);
    PQclear(ares);
    return rc;
}

int router_drain(struct app *app, long long team_id)
{
    struct drain_ctx ctx = {.app = app, .team_id = team_id};
    int total = 0;
    /* A batch at a time until the queue or the capacity runs out. */
    for (;;) {
        int rc = db_transaction(app->db, drain_tx, &ctx);
        if (rc != DB_OK) {
            char team[24];
            snprintf(team, sizeof(team), "%lld", team_id);
            log_warn("router drain failed", "team", team);
            return -1;
        }
        total += ctx.assigned;
        if (ctx.assigned < DRAIN_BATCH)
            break;
    }
    return total;
}

void router_drain_agent_teams(struct app *app, long long agent_id)
{
    char id[24];
    const char *params[1] = {id};
    PGresult *res = NULL;
    snprintf(id, sizeof(id), "%lld", agent_id);
    if (db_query(app->db, &res, "SELECT team_id FROM team_members WHERE agent_id = $1::bigint", 1, params) != DB_OK)
        return;
    for (int i = 0; i < PQntuples(res); i++)
        router_drain(app, db_get_ll(res, i, 0, 0));
    PQclear(res);
}
