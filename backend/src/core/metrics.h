/* metrics: counters, gauges and histograms in Prometheus text format.
 *
 * Owns the HTTP request counters (by method, route and status), the request
 * latency histogram (by route), and the open WebSocket gauge. One instance per
 * process, created by main and shared by every thread; a mutex guards the
 * tables, the WebSocket gauge is atomic. Route labels are the route table's
 * static patterns, so label cardinality is bounded by the code, not by input. */
#ifndef PARLEY_METRICS_H
#define PARLEY_METRICS_H

#include <stddef.h>

struct metrics;

/* Values owned elsewhere, read at render time. */
struct metrics_gauges {
    int db_pool_in_use;
    int db_pool_size;
    long msgqueue_length;
    int http_inflight;
    /* Connections refused because one address held its limit. */
    unsigned long long refused_tcp, refused_http, refused_ws, refused_ws_unauth;
    /* Webhooks: this node's attempts and what came of them; the backlog
     * (all nodes; -1 when the database did not answer). */
    unsigned long long hook_delivered, hook_failed, hook_given_up, hook_disabled;
    int hook_inflight;
    long long hook_backlog;
    double hook_oldest_seconds;
};

struct metrics *metrics_new(void); /* free with metrics_free */
void metrics_free(struct metrics *m);

/* method and route must be static strings (they are kept, not copied). */
void metrics_observe_http(struct metrics *m, const char *method, const char *route, int status, double seconds);

/* One notification handled by the bus thread, and how long it took. */
void metrics_bus_observe(struct metrics *m, double seconds);

void metrics_ws_opened(struct metrics *m);
void metrics_ws_closed(struct metrics *m);
long metrics_ws_open(struct metrics *m);

/* Renders everything; returns a malloc'd string the caller frees, or NULL. */
char *metrics_render(struct metrics *m, const struct metrics_gauges *g);

#endif
