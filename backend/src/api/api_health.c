#include "api/api.h"
#include "chat/webhooks.h"
#include "hooks/sender.h"
#include "core/connlimit.h"
#include "db/db.h"
#include "core/metrics.h"
#include "db/migrate.h"
#include "live/msgqueue.h"
#include "core/token.h"

#include <stdlib.h>
#include <string.h>

void api_healthz(struct http_req *req)
{
    http_send_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

void api_readyz(struct http_req *req)
{
    int current = migrate_current_version(req->app->db);
    int latest = migrate_latest_version();
    if (current < 0) {
        http_send_problem(req, 503, "not_ready", "the database is not reachable");
        return;
    }
    if (current != latest) {
        http_send_problem(req, 503, "not_ready",
                          current < latest ? "the schema is behind this build; run parleyd migrate"
                                           : "the schema is newer than this build");
        return;
    }
    http_send_json(req, 200, json_pack("{s:s, s:i}", "status", "ready", "schema_version", current));
}

/* 1 for 127.0.0.0/8 and ::1 (and IPv4-mapped loopback). */
static int is_loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0;
}

/* /metrics tells a lot about the service (routes, load, failures): with
 * PARLEY_METRICS_TOKEN set it wants that bearer token, otherwise it answers
 * loopback clients only (a scraper on the host, or behind a proxy that
 * forwards the client address). */
static int metrics_allowed(struct http_req *req)
{
    const char *token = req->app->cfg->metrics_token;
    const char *auth = http_header(req, "Authorization");
    if (!token[0]) {
        if (is_loopback(http_remote_ip(req)))
            return 1;
        http_send_problem(req, 403, "forbidden",
                          "metrics are served to loopback clients only (or set PARLEY_METRICS_TOKEN)");
        return 0;
    }
    if (auth && strncmp(auth, "Bearer ", 7) == 0 && token_equal(auth + 7, token))
        return 1;
    http_add_header(req, "WWW-Authenticate", "Bearer realm=\"metrics\"");
    http_send_problem(req, 401, "unauthenticated", "send Authorization: Bearer with PARLEY_METRICS_TOKEN");
    return 0;
}

void api_metrics(struct http_req *req)
{
    if (!metrics_allowed(req))
        return;
    struct connlimit *cl = req->app->conns;
    struct metrics_gauges g = {
        .db_pool_in_use = db_pool_in_use(req->app->db),
        .db_pool_size = db_pool_size(req->app->db),
        .msgqueue_length = req->app->msgs ? msgqueue_length(req->app->msgs) : 0,
        .http_inflight = http_inflight(),
        .refused_tcp = connlimit_refused(cl, CONNLIMIT_TCP),
        .refused_http = connlimit_refused(cl, CONNLIMIT_HTTP),
        .refused_ws = connlimit_refused(cl, CONNLIMIT_WS),
        .refused_ws_unauth = connlimit_refused(cl, CONNLIMIT_WS_UNAUTH),
    };
    struct webhooks_stats hs = {.backlog = -1};
    if (req->app->hooks)
        webhooks_stats(req->app->hooks, &hs);
    g.hook_delivered = hs.delivered;
    g.hook_failed = hs.failed_attempts;
    g.hook_given_up = hs.given_up;
    g.hook_disabled = hs.disabled;
    g.hook_backlog = hs.backlog;
    g.hook_oldest_seconds = hs.oldest_seconds;
    g.hook_inflight = sender_inflight(req->app->sender);
    char *text = metrics_render(req->app->metrics, &g);
    if (!text) {
        http_send_problem(req, 500, "internal", NULL);
        return;
    }
    http_send_body(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}
