/* app: the handful of process-wide objects every handler needs.
 *
 * Built once by main before the server starts and torn down after it stops;
 * handlers get it through their request and never change its pointers. */
#ifndef PARLEY_APP_H
#define PARLEY_APP_H

#include "core/config.h"

#include <stdatomic.h>

struct db_pool;
struct metrics;
struct mg_context;
struct hub;
struct bus;
struct msgqueue;
struct ws_state;
struct wsconn_writer;
struct ratelimit;
struct connlimit;
struct files;
struct webhooks;
struct sender;
struct calendar_zones;
struct automation;
struct online;
struct geoip;

struct app {
    const struct config *cfg;
    struct db_pool *db;
    struct metrics *metrics;
    struct mg_context *mg;
    struct hub *hub;                 /* live sessions on this node */
    struct bus *bus;                 /* LISTEN/NOTIFY between nodes */
    struct msgqueue *msgs;           /* batching message committer */
    struct ws_state *ws;             /* WebSocket bookkeeping */
    struct wsconn_writer *ws_writer; /* writes every WebSocket's frames */
    char node_id[40];                /* random per process start */
    struct ratelimit *visitor_rate;  /* messages and updates per visitor */
    struct ratelimit *api_rate;      /* REST requests per API token */
    struct ratelimit *session_rate;  /* widget sessions per client IP */
    struct connlimit *conns;         /* what each client address holds at once */
    struct files *files;             /* uploads, downloads, the file sweeper */
    struct webhooks *hooks;          /* webhook endpoints, deliveries, the sealing key */
    struct sender *sender;           /* this node's webhook delivery worker */
    struct calendar_zones *zones;    /* time zones loaded for business hours */
    struct automation *automation;   /* the automation rules' cache */
    struct online *online;           /* visitor beats waiting to be written, pending invitations */
    struct ratelimit *beat_rate;     /* widget beats per visitor */
    unsigned char beat_key[32];      /* signs beat tickets (core/ticket), derived from the secret key */
    struct geoip *geoip;             /* visitor geolocation (read-only, lock-free); NULL: off or no database */
    char static_root[4096];          /* realpath of cfg->static_dir, "" when absent */
    atomic_int draining;             /* shutting down: new requests and sockets are refused */
    atomic_int reports_running;      /* reports being computed or exported on this node */
    atomic_int reports_waiting;      /* report requests waiting for their turn */
};

#endif
