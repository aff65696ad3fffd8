#include "chat/presence.h"

#include "chat/convo.h"
#include "db/db.h"
#include "live/events.h"
#include "core/log.h"
#include "live/proto.h"
#include "chat/router.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HEARTBEAT_SECONDS 5
#define MAX_REQUEUE_TEAMS 32

/* The ticker is a singleton per process, started and stopped by main. */
static struct {
    pthread_t thread;
    atomic_int stop;
    int started;
} ticker;

static int notify_presence(PGconn *conn, long long agent_id, const char *name)
{
    char id[24];
    const char *params[2] = {id, name};
    snprintf(id, sizeof(id), "%lld", agent_id);
    /* connected = some live node holds a connection for the agent */
    return db_exec(conn, NULL, "SELECT parley_notify_presence($1::bigint, $2)", 2, params);
}

struct count_ctx {
    struct app *app;
    long long agent_id;
    const char *name;
    int delta;
};

static int count_tx(PGconn *conn, void *arg)
{
    struct count_ctx *ctx = arg;
    char id[24], delta[8];
    const char *params[3] = {ctx->app->node_id, id, delta};
    snprintf(id, sizeof(id), "%lld", ctx->agent_id);
    snprintf(delta, sizeof(delta), "%d", ctx->delta);
    int rc = db_exec(conn, NULL,
                     "INSERT INTO agent_presence (node_id, agent_id, connections)"
                     " VALUES ($1, $2::bigint, greatest($3::int, 0))"
                     " ON CONFLICT (agent_id, node_id) DO UPDATE"
                     "   SET connections = greatest(agent_presence.connections + $3::int, 0)",
                     3, params);
    if (rc == DB_OK)
        rc = db_exec(conn, NULL, "UPDATE agents SET last_connected_at = now() WHERE id = $1::bigint", 1,
                     (const char *const[]){id});
    if (rc == DB_OK)
        rc = notify_presence(conn, ctx->agent_id, ctx->name);
    return rc;
}

void presence_agent_connected(struct app *app, long long agent_id, const char *name)
{
    struct count_ctx ctx = {app, agent_id, name, 1};
    if (db_transaction(app->db, count_tx, &ctx) == DB_OK)
        router_drain_agent_teams(app, agent_id); /* no-op unless they are online */
}

void presence_agent_disconnected(struct app *app, long long agent_id, const char *name)
{
    struct count_ctx ctx = {app, agent_id, name, -1};
    db_transaction(app->db, count_tx, &ctx);
}

struct status_ctx {
    long long agent_id;
    const char *name, *status;
};

static int status_tx(PGconn *conn, void *arg)
{
    struct status_ctx *ctx = arg;
    char id[24];
    snprintf(id, sizeof(id), "%lld", ctx->agent_id);
    int rc = db_exec(conn, NULL, "UPDATE agents SET status = $2, updated_at = now() WHERE id = $1::bigint", 2,
                     (const char *const[]){id, ctx->status});
    if (rc == DB_OK)
        rc = notify_presence(conn, ctx->agent_id, ctx->name);
    return rc;
}

const char *presence_set_status(struct app *app, long long agent_id, const char *name, const char *status)
{
    struct status_ctx ctx = {agent_id, name, status};
    int rc = db_transaction(app->db, status_tx, &ctx);
    if (rc != DB_OK)
        return rc == DB_E_UNAVAILABLE ? PE_UNAVAILABLE : PE_INTERNAL;
    if (strcmp(status, "online") == 0)
        router_drain_agent_teams(app, agent_id);
    return NULL;
}

static void heartbeat(struct app *app)
{
    const char *params[1] = {app->node_id};
    db_query(app->db, NULL,
             "WITH hb AS (UPDATE nodes SET heartbeat_at = now() WHERE id = $1 RETURNING id)"
             " UPDATE agents a SET last_connected_at = now() FROM agent_presence p"
             " WHERE p.node_id = (SELECT id FROM hb) AND p.agent_id = a.id AND p.connections > 0",
             1, params);
    /* Nodes silent for an hour are gone for good; their presence rows go too. */
    db_query(app->db, NULL, "DELETE FROM nodes WHERE heartbeat_at < now() - interval '1 hour'", 0, NULL);
}

struct sweep_ctx {
    long long agent_id;
    long long teams[MAX_REQUEUE_TEAMS];
    int nteams;
    int moved;
};

static int requeue_tx(PGconn *conn, void *arg)
{
    struct sweep_ctx *ctx = arg;
    char id[24];
    PGresult *res = NULL;
    snprintf(id, sizeof(id), "%lld", ctx->agent_id);
    /* Re-check under the agent's row lock: another node may have swept, or
     * the agent may have come back, since the candidate query ran. */
    int rc =
        db_exec(conn, &res, "SELECT 1 FROM agents a WHERE a.id = $1::bigint FOR UPDATE", 1, (const char *const[]){id});
    PQclear(res);
    if (rc != DB_OK)
        return rc;
    rc = db_exec(conn, &res, "SELECT 1 WHERE NOT parley_agent_live($1::bigint)", 1, (const char *const[]){id});
    int gone = rc == DB_OK && PQntuples(res) == 1;
    PQclear(res);
    if (rc != DB_OK || !gone)
        return rc;
    ctx->moved = convo_requeue_agent_tx(conn, ctx->agent_id, ctx->teams, MAX_REQUEUE_TEAMS, &ctx->nteams);
    return ctx->moved < 0 ? DB_E_QUERY : DB_OK;
}

static void sweep(struct app *app)
{
    char grace[16];
    const char *params[1] = {grace};
    PGresult *res = NULL;
    snprintf(grace, sizeof(grace), "%d", app->cfg->agent_grace_seconds);
    if (db_query(app->db, &res,
                 "SELECT a.id FROM agents a"
                 " WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.assignee_id = a.id AND c.status = 'assigned')"
                 "   AND coalesce(a.last_connected_at, '-infinity') < now() - make_interval(secs => $1::int)"
                 "   AND NOT parley_agent_live(a.id)"
                 " LIMIT 100",
                 1, params) != DB_OK)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        struct sweep_ctx ctx = {.agent_id = db_get_ll(res, i, 0, 0)};
        if (db_transaction(app->db, requeue_tx, &ctx) != DB_OK || ctx.moved <= 0)
            continue;
        char id[24], moved[16];
        snprintf(id, sizeof(id), "%lld", ctx.agent_id);
        snprintf(moved, sizeof(moved), "%d", ctx.moved);
        log_info("grace period over: conversations requeued", "agent", id, "count", moved);
        for (int k = 0; k < ctx.nteams; k++)
            router_drain(app, ctx.teams[k]);
    }
    PQclear(res);
}

static void *ticker_main(void *arg)
{
    struct app *app = arg;
    int ticks = 0;
    while (!atomic_load(&ticker.stop)) {
        struct timespec ts = {0, 250 * 1000000L};
        nanosleep(&ts, NULL);
        ticks++;
        if (ticks % (HEARTBEAT_SECONDS * 4) == 0)
            heartbeat(app);
        if (ticks % 4 == 0)
            sweep(app);
    }
    return NULL;
}

int presence_start(struct app *app)
{
    const char *params[1] = {app->node_id};
    if (db_query(app->db, NULL, "INSERT INTO nodes (id) VALUES ($1)", 1, params) != DB_OK)
        return -1;
    atomic_init(&ticker.stop, 0);
    if (pthread_create(&ticker.thread, NULL, ticker_main, app) != 0)
        return -1;
    ticker.started = 1;
    return 0;
}

void presence_stop(struct app *app)
{
    const char *params[1] = {app->node_id};
    if (ticker.started) {
        atomic_store(&ticker.stop, 1);
        pthread_join(ticker.thread, NULL);
        ticker.started = 0;
    }
    /* Our agents' connections are gone; the grace period starts now. */
    db_query(app->db, NULL,
             "WITH gone AS (DELETE FROM agent_presence WHERE node_id = $1 RETURNING agent_id)"
             " UPDATE agents SET last_connected_at = now() WHERE id IN (SELECT agent_id FROM gone)",
             1, params);
    db_query(app->db, NULL, "DELETE FROM nodes WHERE id = $1", 1, params);
}
