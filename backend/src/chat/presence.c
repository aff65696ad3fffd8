#include "chat/presence.h"

#include "chat/bots.h"
#include "chat/calls.h"

#include "chat/assign.h"
#include "chat/convo.h"
#include "chat/notify.h"
#include "chat/reports.h"
#include "chat/sla.h"
#include "chat/viewers.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEARTBEAT_SECONDS 5
#define DRAIN_SECONDS     5
#define MAX_AGENTS        4096 /* agents with connections on this node tracked in memory */

/* This node's agent connections, the ticker, and its stop signal. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    int started;
    pthread_t thread;
    long long agents[MAX_AGENTS]; /* agents with a count, and their counts */
    int counts[MAX_AGENTS];
    int nagents;
    int dirty; /* a count did not reach the database: write them all again */
} presence = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Under the lock: this node's count of an agent's connections, changed by
 * delta (an agent back to 0 leaves the table). */
static void count_locked(long long agent_id, int delta)
{
    int i;
    for (i = 0; i < presence.nagents; i++)
        if (presence.agents[i] == agent_id)
            break;
    if (i == presence.nagents) {
        if (delta <= 0 || i == MAX_AGENTS)
            return;
        presence.agents[i] = agent_id;
        presence.counts[i] = 0;
        presence.nagents++;
    }
    presence.counts[i] += delta;
    if (presence.counts[i] <= 0) {
        presence.nagents--;
        presence.agents[i] = presence.agents[presence.nagents];
        presence.counts[i] = presence.counts[presence.nagents];
    }
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
    char delta[8];
    const char *id = DB_ID(ctx->agent_id);
    const char *params[3] = {ctx->app->node_id, id, delta};
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

static int count(struct app *app, long long agent_id, const char *name, int delta)
{
    struct count_ctx ctx = {app, agent_id, name, delta};
    pthread_mutex_lock(&presence.lock);
    count_locked(agent_id, delta);
    pthread_mutex_unlock(&presence.lock);
    int rc = db_transaction(app->db, count_tx, &ctx);
    if (rc != DB_OK) {
        char id[24];
        snprintf(id, sizeof(id), "%lld", agent_id);
        log_warn("agent presence not recorded; the next heartbeat writes it", "agent", id);
        pthread_mutex_lock(&presence.lock);
        presence.dirty = 1;
        pthread_mutex_unlock(&presence.lock);
    }
    return rc;
}

void presence_agent_connected(struct app *app, long long agent_id, const char *name)
{
    if (count(app, agent_id, name, 1) == DB_OK) {
        struct assign_work work = {.nagents = 0};
        assign_work_agent(&work, agent_id); /* nothing happens unless they are online */
        assign_run(app, &work);
    }
}

void presence_agent_disconnected(struct app *app, long long agent_id, const char *name)
{
    (void)count(app, agent_id, name, -1); /* a failure is recorded for the heartbeat */
}

struct status_ctx {
    long long agent_id;
    const char *name, *status;
};

static int status_tx(PGconn *conn, void *arg)
{
    struct status_ctx *ctx = arg;
    int rc = db_exec(conn, NULL, "UPDATE agents SET status = $2, updated_at = now() WHERE id = $1::bigint", 2,
                     (const char *const[]){DB_ID(ctx->agent_id), ctx->status});
    if (rc == DB_OK)
        rc = notify_presence(conn, ctx->agent_id, ctx->name);
    return rc;
}

enum chat_err presence_set_status(struct app *app, long long agent_id, const char *name, const char *status)
{
    struct status_ctx ctx = {agent_id, name, status};
    enum chat_err err = chat_err_of(db_transaction(app->db, status_tx, &ctx));
    if (err == CHAT_OK && strcmp(status, "online") == 0) {
        struct assign_work work = {.nagents = 0};
        assign_work_agent(&work, agent_id);
        assign_run(app, &work);
    }
    return err;
}

/* Writes every count of this node again (after a count was missed). */
static int rewrite_counts(struct app *app)
{
    char ids[MAX_AGENTS * 21 + 3], counts[MAX_AGENTS * 12 + 3];
    size_t ni = 0, nc = 0;
    pthread_mutex_lock(&presence.lock);
    presence.dirty = 0;
    ids[ni++] = '{';
    counts[nc++] = '{';
    for (int i = 0; i < presence.nagents; i++) {
        ni += (size_t)snprintf(ids + ni, sizeof(ids) - ni, "%s%lld", i ? "," : "", presence.agents[i]);
        nc += (size_t)snprintf(counts + nc, sizeof(counts) - nc, "%s%d", i ? "," : "", presence.counts[i]);
    }
    pthread_mutex_unlock(&presence.lock);
    snprintf(ids + ni, sizeof(ids) - ni, "}");
    snprintf(counts + nc, sizeof(counts) - nc, "}");
    int rc = db_query(app->db, NULL,
                      "WITH gone AS (DELETE FROM agent_presence WHERE node_id = $1),"
                      " n AS (SELECT * FROM unnest($2::bigint[], $3::int[]) AS x(agent_id, connections))"
                      " INSERT INTO agent_presence (node_id, agent_id, connections)"
                      " SELECT $1, n.agent_id, n.connections FROM n JOIN agents a ON a.id = n.agent_id"
                      " ON CONFLICT (agent_id, node_id) DO UPDATE SET connections = excluded.connections",
                      3, (const char *const[]){app->node_id, ids, counts});
    if (rc != DB_OK) {
        pthread_mutex_lock(&presence.lock);
        presence.dirty = 1;
        pthread_mutex_unlock(&presence.lock);
    }
    return rc;
}

static void heartbeat(struct app *app)
{
    const char *params[1] = {app->node_id};
    pthread_mutex_lock(&presence.lock);
    int dirty = presence.dirty;
    pthread_mutex_unlock(&presence.lock);
    if (dirty && rewrite_counts(app) == DB_OK)
        log_info("agent presence written again after a missed update");
    if (db_query(app->db, NULL,
                 "WITH hb AS (UPDATE nodes SET heartbeat_at = now() WHERE id = $1 RETURNING id)"
                 " UPDATE agents a SET last_connected_at = now() FROM agent_presence p"
                 " WHERE p.node_id = (SELECT id FROM hb) AND p.agent_id = a.id AND p.connections > 0",
                 1, params) != DB_OK)
        log_warn("heartbeat failed");
    /* Nodes silent for an hour are gone for good; their presence rows go too. */
    (void)db_query(app->db, NULL, "DELETE FROM nodes WHERE heartbeat_at < now() - interval '1 hour'", 0, NULL);
}

struct sweep_ctx {
    long long agent_id;
    struct assign_work work; /* the teams requeued into */
    int moved;
};

static int requeue_tx(PGconn *conn, void *arg)
{
    struct sweep_ctx *ctx = arg;
    const char *id = DB_ID(ctx->agent_id);
    PGresult *res = NULL;
    ctx->moved = 0;
    memset(&ctx->work, 0, sizeof(ctx->work)); /* a rerun starts over */
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
    ctx->moved = convo_requeue_agent_tx(conn, ctx->agent_id, &ctx->work);
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
        assign_run(app, &ctx.work);
    }
    PQclear(res);
}

static void *ticker_main(void *arg)
{
    struct app *app = arg;
    double next_heartbeat = clock_now() + HEARTBEAT_SECONDS, next_drain = clock_now() + DRAIN_SECONDS;
    pthread_mutex_lock(&presence.lock);
    while (!presence.stop) {
        struct timespec until = clock_deadline(1000);
        pthread_cond_timedwait(&presence.wake, &presence.lock, &until);
        if (presence.stop)
            break;
        pthread_mutex_unlock(&presence.lock);
        double now = clock_now();
        if (now >= next_heartbeat) {
            heartbeat(app);
            next_heartbeat = now + HEARTBEAT_SECONDS;
        }
        sweep(app);
        if (viewers_sweep(app, NULL) < 0)
            log_warn("viewers of stopped nodes not removed");
        struct assign_work handed = {0};
        bots_sweep(app, &handed);
        sla_sweep(app, &handed);
        reports_sweep(app);
        calls_sweep(app);
        assign_run(app, &handed);
        if (now >= next_drain) {
            if (assign_drain_waiting(app) != CHAT_OK)
                log_warn("periodic drain failed");
            next_drain = now + DRAIN_SECONDS;
        }
        pthread_mutex_lock(&presence.lock);
    }
    pthread_mutex_unlock(&presence.lock);
    return NULL;
}

int presence_start(struct app *app)
{
    const char *params[1] = {app->node_id};
    if (db_query(app->db, NULL, "INSERT INTO nodes (id) VALUES ($1)", 1, params) != DB_OK)
        return -1;
    clock_cond_init(&presence.wake);
    presence.stop = 0;
    presence.nagents = 0;
    presence.dirty = 0;
    if (pthread_create(&presence.thread, NULL, ticker_main, app) != 0)
        return -1;
    presence.started = 1;
    return 0;
}

void presence_stop(struct app *app)
{
    const char *params[1] = {app->node_id};
    if (presence.started) {
        pthread_mutex_lock(&presence.lock);
        presence.stop = 1;
        pthread_cond_signal(&presence.wake);
        pthread_mutex_unlock(&presence.lock);
        pthread_join(presence.thread, NULL);
        pthread_cond_destroy(&presence.wake);
        presence.started = 0;
    }
    /* Our agents' connections are gone; the grace period starts now, and
     * the others no longer see them looking at conversations. */
    if (viewers_sweep(app, app->node_id) < 0)
        log_warn("could not remove this node's viewers; they go with its row");
    if (db_query(app->db, NULL,
                 "WITH gone AS (DELETE FROM agent_presence WHERE node_id = $1 RETURNING agent_id)"
                 " UPDATE agents SET last_connected_at = now() WHERE id IN (SELECT agent_id FROM gone)",
                 1, params) != DB_OK ||
        db_query(app->db, NULL, "DELETE FROM nodes WHERE id = $1", 1, params) != DB_OK)
        log_warn("could not remove this node's presence; other nodes will count it gone after its heartbeat times out");
}
