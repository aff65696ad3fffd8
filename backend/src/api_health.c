#include "api.h"
#include "db.h"
#include "metrics.h"
#include "migrate.h"
#include "msgstore.h"

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

void api_metrics(struct http_req *req)
{
    struct metrics_gauges g = {
        .db_pool_in_use = db_pool_in_use(req->app->db),
        .db_pool_size = db_pool_size(req->app->db),
        .msgstore_queued = req->app->msgs ? msgstore_queued(req->app->msgs) : 0,
    };
    char *text = metrics_render(req->app->metrics, &g);
    if (!text) {
        http_send_problem(req, 500, "internal", NULL);
        return;
    }
    http_send_body(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
}
