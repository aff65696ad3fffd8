#include "core/metrics.h"

#include "core/strbuf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COUNTERS 512
#define MAX_ROUTES   128

static const double latency_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))

struct request_counter {
    const char *method, *route;
    int status;
    unsigned long long count;
};

struct route_histogram {
    const char *route;
    unsigned long long buckets[NBUCKETS]; /* non-cumulative; summed on render */
    unsigned long long count;
    double sum;
};

struct metrics {
    pthread_mutex_t lock;
    struct request_counter counters[MAX_COUNTERS];
    size_t ncounters;
    struct route_histogram routes[MAX_ROUTES];
    size_t nroutes;
    atomic_long ws_open;
    unsigned long long bus_events; /* guarded by lock */
    double bus_seconds;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    atomic_init(&m->ws_open, 0);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void metrics_observe_http(struct metrics *m, const char *method, const char *route, int status, double seconds)
{
    size_t i;
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->ncounters; i++) {
        struct request_counter *c = &m->counters[i];
        if (c->status == status && strcmp(c->route, route) == 0 && strcmp(c->method, method) == 0)
            break;
    }
    if (i == m->ncounters && i < MAX_COUNTERS) {
        m->counters[i] = (struct request_counter){method, route, status, 0};
        m->ncounters++;
    }
    if (i < m->ncounters)
        m->counters[i].count++;
    for (i = 0; i < m->nroutes; i++)
        if (strcmp(m->routes[i].route, route) == 0)
            break;
    if (i == m->nroutes && i < MAX_ROUTES) {
        memset(&m->routes[i], 0, sizeof(m->routes[i]));
        m->routes[i].route = route;
        m->nroutes++;
    }
    if (i < m->nroutes) {
        struct route_histogram *h = &m->routes[i];
        size_t b = 0;
        while (b < NBUCKETS && seconds > latency_buckets[b])
            b++;
        if (b < NBUCKETS)
            h->buckets[b]++;
        h->count++;
        h->sum += seconds;
    }
    pthread_mutex_unlock(&m->lock);
}

void metrics_bus_observe(struct metrics *m, double seconds)
{
    pthread_mutex_lock(&m->lock);
    m->bus_events++;
    m->bus_seconds += seconds;
    pthread_mutex_unlock(&m->lock);
}

void metrics_ws_opened(struct metrics *m)
{
    atomic_fetch_add(&m->ws_open, 1);
}

void metrics_ws_closed(struct metrics *m)
{
    atomic_fetch_sub(&m->ws_open, 1);
}

long metrics_ws_open(struct metrics *m)
{
    return atomic_load(&m->ws_open);
}

char *metrics_render(struct metrics *m, const struct metrics_gauges *g)
{
    struct strbuf b = {0};
    pthread_mutex_lock(&m->lock);
    strbuf_printf(&b, "# HELP parley_http_requests_total HTTP requests served, by method, route and status.\n"
                      "# TYPE parley_http_requests_total counter\n");
    for (size_t i = 0; i < m->ncounters; i++) {
        const struct request_counter *c = &m->counters[i];
        strbuf_printf(&b, "parley_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n", c->method,
                      c->route, c->status, c->count);
    }
    strbuf_printf(&b, "# HELP parley_http_request_duration_seconds Time from request start to response end.\n"
                      "# TYPE parley_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->nroutes; i++) {
        const struct route_histogram *h = &m->routes[i];
        unsigned long long cumulative = 0;
        for (size_t k = 0; k < NBUCKETS; k++) {
            cumulative += h->buckets[k];
            strbuf_printf(&b, "parley_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", h->route,
                          latency_buckets[k], cumulative);
        }
        strbuf_printf(&b, "parley_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", h->route,
                      h->count);
        strbuf_printf(&b, "parley_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", h->route, h->sum);
        strbuf_printf(&b, "parley_http_request_duration_seconds_count{route=\"%s\"} %llu\n", h->route, h->count);
    }
    strbuf_printf(&b,
                  "# HELP parley_bus_notifications_total Notifications the bus delivered to this node's sockets.\n"
                  "# TYPE parley_bus_notifications_total counter\n"
                  "parley_bus_notifications_total %llu\n"
                  "# HELP parley_bus_dispatch_seconds_total Time the bus thread spent delivering them.\n"
                  "# TYPE parley_bus_dispatch_seconds_total counter\n"
                  "parley_bus_dispatch_seconds_total %.6f\n",
                  m->bus_events, m->bus_seconds);
    pthread_mutex_unlock(&m->lock);
    strbuf_printf(&b,
                  "# HELP parley_msgstore_queue_length Chat messages waiting for the committer.\n"
                  "# TYPE parley_msgstore_queue_length gauge\n"
                  "parley_msgstore_queue_length %ld\n",
                  g->msgqueue_length);
    strbuf_printf(&b,
                  "# HELP parley_db_pool_connections_in_use Pooled PostgreSQL connections lent out now.\n"
                  "# TYPE parley_db_pool_connections_in_use gauge\n"
                  "parley_db_pool_connections_in_use %d\n"
                  "# HELP parley_db_pool_size Configured PostgreSQL pool size.\n"
                  "# TYPE parley_db_pool_size gauge\n"
                  "parley_db_pool_size %d\n"
                  "# HELP parley_http_requests_in_flight HTTP requests being served now (each holds a worker).\n"
                  "# TYPE parley_http_requests_in_flight gauge\n"
                  "parley_http_requests_in_flight %d\n"
                  "# HELP parley_ws_connections_open WebSocket connections open now.\n"
                  "# TYPE parley_ws_connections_open gauge\n"
                  "parley_ws_connections_open %ld\n",
                  g->db_pool_in_use, g->db_pool_size, g->http_inflight, metrics_ws_open(m));
    strbuf_printf(&b,
                  "# HELP parley_connections_refused_total Connections, requests and sockets refused because their "
                  "client address held its limit.\n"
                  "# TYPE parley_connections_refused_total counter\n"
                  "parley_connections_refused_total{limit=\"tcp_per_ip\"} %llu\n"
                  "parley_connections_refused_total{limit=\"http_per_ip\"} %llu\n"
                  "parley_connections_refused_total{limit=\"ws_per_ip\"} %llu\n"
                  "parley_connections_refused_total{limit=\"ws_unauthenticated_per_ip\"} %llu\n",
                  g->refused_tcp, g->refused_http, g->refused_ws, g->refused_ws_unauth);
    strbuf_printf(&b,
                  "# HELP parley_webhook_attempts_total Webhook delivery attempts made by this node, by result.\n"
                  "# TYPE parley_webhook_attempts_total counter\n"
                  "parley_webhook_attempts_total{result=\"delivered\"} %llu\n"
                  "parley_webhook_attempts_total{result=\"failed\"} %llu\n"
                  "# HELP parley_webhook_deliveries_given_up_total Deliveries that failed their last scheduled attempt "
                  "(this node).\n"
                  "# TYPE parley_webhook_deliveries_given_up_total counter\n"
                  "parley_webhook_deliveries_given_up_total %llu\n"
                  "# HELP parley_webhook_endpoints_disabled_total Endpoints this node disabled (410 Gone, or failing "
                  "too long).\n"
                  "# TYPE parley_webhook_endpoints_disabled_total counter\n"
                  "parley_webhook_endpoints_disabled_total %llu\n"
                  "# HELP parley_webhook_in_flight Webhook deliveries this node is making now.\n"
                  "# TYPE parley_webhook_in_flight gauge\n"
                  "parley_webhook_in_flight %d\n",
                  g->hook_delivered, g->hook_failed, g->hook_given_up, g->hook_disabled, g->hook_inflight);
    if (g->hook_backlog >= 0)
        strbuf_printf(&b,
                      "# HELP parley_webhook_backlog Deliveries waiting (due or retrying), all nodes.\n"
                      "# TYPE parley_webhook_backlog gauge\n"
                      "parley_webhook_backlog %lld\n"
                      "# HELP parley_webhook_oldest_pending_seconds Age of the oldest delivery still waiting, all "
                      "nodes.\n"
                      "# TYPE parley_webhook_oldest_pending_seconds gauge\n"
                      "parley_webhook_oldest_pending_seconds %.3f\n",
                      g->hook_backlog, g->hook_oldest_seconds);
    return strbuf_take(&b);
}
