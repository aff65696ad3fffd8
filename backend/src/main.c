/* parleyd: start-up, signals and subcommands.
 *
 *   parleyd serve                  migrate, then serve until SIGTERM/SIGINT
 *   parleyd migrate                apply pending migrations and exit
 *   parleyd agent add --email E --name N --role R   (password on stdin)
 *   parleyd token add --name N --scope S [--scope S ...] [--expires-days D]
 *   parleyd --help | --version
 *
 * No SQL here: the data of each subcommand belongs to a chat/ module
 * (agents, apitokens, workspace for the first start). */
#include "chat/agents.h"
#include "chat/apitokens.h"
#include "chat/automation.h"
#include "chat/calendar.h"
#include "chat/workspace.h"
#include "live/bus.h"
#include "core/connlimit.h"
#include "live/hub.h"
#include "live/msgqueue.h"
#include "chat/files.h"
#include "chat/online.h"
#include "core/seal.h"
#include "chat/webhooks.h"
#include "hooks/sender.h"
#include "chat/presence.h"
#include "core/token.h"
#include "live/ws.h"
#include "api/api.h"
#include "core/app.h"
#include "core/config.h"
#include "core/geoip.h"
#include "db/db.h"
#include "http/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db/migrate.h"
#include "core/password.h"
#include "core/ratelimit.h"
#include "core/text.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#ifndef PARLEY_VERSION
#define PARLEY_VERSION "0.0.0-dev"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "parleyd %s: the Parley live-chat server\n\n"
            "Usage:\n"
            "  parleyd serve                 apply migrations, then serve HTTP and WebSocket\n"
            "  parleyd migrate               apply pending database migrations and exit\n"
            "  parleyd agent add --email E --name N --role admin|supervisor|agent\n"
            "                                create an agent; the password is read from stdin\n"
            "  parleyd token add --name N --scope S [--scope S ...] [--expires-days D]\n"
            "                                create a REST API token and print it (once)\n"
            "  parleyd --help | --version\n\n",
            PARLEY_VERSION);
}

/* Loads config and opens the pool; everything a subcommand needs. */
static int app_open(struct app *app, struct config *cfg, int with_password)
{
    char err[512];
    if (config_load(cfg, config_getenv, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "parleyd: %s\n", err);
        return -1;
    }
    log_set_level(cfg->log_level);
    app->cfg = cfg;
    if (with_password && password_init(cfg->hash_concurrency, cfg->scrypt_log2n) != 0) {
        fprintf(stderr, "parleyd: scrypt is not available in this OpenSSL\n");
        return -1;
    }
    /* The settings the SQL functions read (db/sql): one place, every session.
     * No JIT: parleyd's statements are short, and a report over a range the
     * planner misjudges was compiled for 0.7 s to run for 0.15 s
     * (docs/performance.md). */
    char options[192];
    snprintf(options, sizeof(options),
             "-c jit=off -c parley.node_timeout_seconds=%d -c parley.upload_max_bytes=%ld"
             " -c parley.online_timeout_seconds=%d",
             cfg->node_timeout_seconds, cfg->upload_max_bytes, cfg->online_timeout_seconds);
    app->db = db_pool_open(cfg->database_url, options, cfg->db_pool_size, cfg->db_acquire_timeout_ms, err, sizeof(err));
    if (!app->db) {
        fprintf(stderr, "parleyd: %s\n", err);
        return -1;
    }
    return 0;
}

/* The key of the widget's beat tickets: HMAC of a fixed label under the
 * secret key file, so every node of a deployment derives the same one and
 * it never sits in the database. */
static int derive_beat_key(struct app *app, char *err, size_t errlen)
{
    static const char label[] = "parley beat tickets v1";
    unsigned char key[SEAL_KEY_BYTES];
    int rc = seal_key_load(app->cfg->secret_key_file, key, err, errlen);
    if (rc == 0 && token_hmac(key, sizeof(key), label, sizeof(label) - 1, app->beat_key) != 0) {
        snprintf(err, errlen, "cannot derive the beat ticket key");
        rc = -1;
    }
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

static int run_migrate(struct app *app)
{
    int applied = migrate_apply(app->db);
    if (applied < 0) {
        fprintf(stderr, "parleyd: migration failed (see log)\n");
        return -1;
    }
    if (applied == 0)
        printf("schema up to date (version %d)\n", migrate_latest_version());
    else
        printf("applied %d migration(s); schema version %d\n", applied, migrate_latest_version());
    return 0;
}

/* parleyd token add --name N --scope S [--scope S ...] [--expires-days D]:
 * prints the new API token once. */
static int cmd_token_add(struct app *app, int argc, char **argv)
{
    const char *name = NULL, *days = NULL;
    json_t *scopes = json_array(), *doc = NULL;
    char token[TOKEN_MAX_LEN], *scopes_text = NULL;
    int rc = 2;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--name") == 0) {
            name = argv[i + 1];
        } else if (strcmp(argv[i], "--scope") == 0) {
            if (!apitokens_scope_bit(argv[i + 1])) {
                fprintf(stderr,
                        "parleyd token add: unknown scope %s (conversations:read, conversations:write, "
                        "transcripts:read, reports:read, admin)\n",
                        argv[i + 1]);
                goto done;
            }
            json_array_append_new(scopes, json_string(argv[i + 1]));
        } else if (strcmp(argv[i], "--expires-days") == 0) {
            days = argv[i + 1];
        } else {
            fprintf(stderr, "parleyd token add: unknown option %s\n", argv[i]);
            goto done;
        }
    }
    if (!name || argc % 2 != 0 || json_array_size(scopes) == 0 || strlen(name) > 100) {
        fprintf(stderr, "parleyd token add: --name and at least one --scope are required\n");
        goto done;
    }
    /* A token's name is shown as the author of what it writes: an identifier. */
    if (text_utf8_chars(name, strlen(name)) < 0 || text_ident_error(name, strlen(name))) {
        fprintf(stderr, "parleyd token add: --name %s\n",
                text_utf8_chars(name, strlen(name)) < 0 ? "must be valid UTF-8" : text_ident_error(name, strlen(name)));
        goto done;
    }
    if (days && (strspn(days, "0123456789") != strlen(days) || atoi(days) < 1 || atoi(days) > 3650)) {
        fprintf(stderr, "parleyd token add: --expires-days must be 1 to 3650\n");
        goto done;
    }
    scopes_text = json_dumps(scopes, JSON_COMPACT);
    rc = 1;
    if (apitokens_create(app->db, name, scopes_text, days ? atoi(days) : 0, 0, token, &doc) != CHAT_OK) {
        fprintf(stderr, "parleyd token add: database error (see log)\n");
        goto done;
    }
    printf("%s\n", token);
    rc = 0;
done:
    json_decref(scopes);
    json_decref(doc);
    free(scopes_text);
    return rc;
}

static int cmd_agent_add(struct app *app, int argc, char **argv)
{
    const char *email = NULL, *name = NULL, *role = NULL, *field = NULL, *message = NULL;
    char password[PASSWORD_MAX_LEN + 2];
    long long id = 0;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--email") == 0)
            email = argv[i + 1];
        else if (strcmp(argv[i], "--name") == 0)
            name = argv[i + 1];
        else if (strcmp(argv[i], "--role") == 0)
            role = argv[i + 1];
        else {
            fprintf(stderr, "parleyd agent add: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!email || !name || !role || argc % 2 != 0) {
        fprintf(stderr, "parleyd agent add: --email, --name and --role are required\n");
        return 2;
    }
    if (!fgets(password, sizeof(password), stdin)) {
        fprintf(stderr, "parleyd agent add: write the password on stdin\n");
        return 2;
    }
    password[strcspn(password, "\r\n")] = '\0';
    enum chat_err err = agents_create(app->db, email, name, role, password, &id, &field, &message);
    memset(password, 0, sizeof(password));
    if (err == CHAT_E_TAKEN) {
        fprintf(stderr, "parleyd agent add: an agent with email %s exists already\n", email);
        return 1;
    }
    if (err != CHAT_OK) {
        fprintf(stderr, "parleyd agent add: %s\n", message ? message : "database error (see log)");
        return 1;
    }
    printf("%lld\n", id);
    return 0;
}

/* A random id for this process's row in `nodes`. */
static int make_node_id(char *out, size_t len)
{
    char tok[TOKEN_MAX_LEN];
    if (token_generate("", tok, sizeof(tok)) != 0)
        return -1;
    snprintf(out, len, "node-%.16s", tok);
    return 0;
}

/* Every waiting connection, worker and pooled database connection is a
 * file descriptor: take the hard limit, and say so when even that cannot
 * hold what the configuration allows. */
static void raise_fd_limit(const struct config *cfg)
{
    struct rlimit rl;
    long need = (long)cfg->max_waiting_connections + cfg->http_threads + cfg->db_pool_size + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < need) {
        char have[24], want[24];
        snprintf(have, sizeof(have), "%ld", (long)rl.rlim_cur);
        snprintf(want, sizeof(want), "%ld", need);
        log_warn("open-file limit below what the connection limits allow; raise it (ulimit -n) or lower "
                 "PARLEY_MAX_WAITING_CONNECTIONS",
                 "limit", have, "wanted", want);
    }
}

static int cmd_serve(struct app *app)
{
    char err[512], password[64], site_key[TOKEN_MAX_LEN], static_root[PATH_MAX];
    sigset_t stop;
    int sig = 0, rc = 1, created = 0;

    if (run_migrate(app) != 0)
        return 1;
    if (workspace_bootstrap_admin(app->db, app->cfg->admin_email, password, sizeof(password), &created) != CHAT_OK)
        return 1;
    if (created)
        printf("first start: created admin agent\n  admin login: %s\n  admin password: %s\n"
               "(shown once; change it in the console)\n",
               app->cfg->admin_email, password);
    /* On a fresh database: a "Support" team holding every agent, and a demo
     * site for it whose widget may run on our own origin. */
    if (workspace_bootstrap(app->db, app->cfg->public_origin, site_key, sizeof(site_key), &created) != CHAT_OK)
        return 1;
    if (created)
        printf("first start: created team Support and a demo site (site key %s)\n", site_key);
    fflush(stdout);
    if (mkdir(app->cfg->data_dir, 0700) != 0 && access(app->cfg->data_dir, W_OK) != 0) {
        fprintf(stderr, "parleyd: PARLEY_DATA_DIR: %s is not a writable directory\n", app->cfg->data_dir);
        return 1;
    }
    if (realpath(app->cfg->static_dir, static_root))
        snprintf(app->static_root, sizeof(app->static_root), "%s", static_root);
    else
        log_warn("static directory missing; console and widget are not served", "path", app->cfg->static_dir);
    /* Geolocation is a nicety: without a database visitors are simply of
     * unknown place, so a missing or bad file is one warning, not a stop. */
    if (app->cfg->geoip_db[0]) {
        app->geoip = geoip_open(app->cfg->geoip_db, err, sizeof(err));
        if (app->geoip)
            log_info("geolocation database loaded", "db", geoip_description(app->geoip));
        else
            log_warn("geolocation off: cannot open PARLEY_GEOIP_DB", "error", err);
    } else {
        log_info("geolocation off: PARLEY_GEOIP_DB is empty");
    }

    /* Block the stop signals in every thread (all later threads inherit the
     * mask), then wait for them here: no async-signal-safety puzzles. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    app->metrics = metrics_new();
    app->hub = hub_new();
    app->visitor_rate = ratelimit_new(app->cfg->visitor_rate_messages, app->cfg->visitor_rate_window_seconds);
    app->api_rate = ratelimit_new(app->cfg->api_rate_per_minute, 60);
    app->session_rate = ratelimit_new(app->cfg->session_rate_per_minute, 60);
    app->beat_rate = ratelimit_new(ONLINE_BEATS_PER_MINUTE, 60);
    app->zones = calendar_zones_new(app->cfg->zoneinfo_dir);
    app->automation = automation_new();
    app->conns = connlimit_new((const int[CONNLIMIT_NCLASSES]){
        [CONNLIMIT_TCP] = app->cfg->max_connections_per_ip,
        [CONNLIMIT_HTTP] = app->cfg->http_max_per_ip,
        [CONNLIMIT_WS] = app->cfg->ws_max_per_ip,
        [CONNLIMIT_WS_UNAUTH] = app->cfg->ws_max_unauth_per_ip,
    });
    raise_fd_limit(app->cfg);
    if (!app->metrics || !app->hub || !app->visitor_rate || !app->api_rate || !app->session_rate || !app->beat_rate ||
        !app->conns || !app->zones || !app->automation || make_node_id(app->node_id, sizeof(app->node_id)) != 0) {
        fprintf(stderr, "parleyd: out of memory\n");
        goto done;
    }
    app->msgs = msgqueue_start(app);
    app->bus = bus_start(app, err, sizeof(err));
    if (!app->msgs || !app->bus || presence_start(app) != 0) {
        fprintf(stderr, "parleyd: %s\n", app->bus ? "cannot start the realtime services" : err);
        goto done;
    }
    if (!(app->files = files_open(app, err, sizeof(err)))) {
        fprintf(stderr, "parleyd: %s\n", err);
        goto done;
    }
    if (!(app->hooks = webhooks_open(app, err, sizeof(err))) ||
        !(app->sender = sender_start(app, app->hooks, err, sizeof(err)))) {
        fprintf(stderr, "parleyd: %s\n", err);
        goto done;
    }
    if (derive_beat_key(app, err, sizeof(err)) != 0 ||
        !(app->online = online_start(app->db, app->cfg->journey_retention_days))) {
        fprintf(stderr, "parleyd: %s\n", app->online ? err : "cannot start the visitor beat writer");
        goto done;
    }
    if (ws_start(app) != 0) {
        fprintf(stderr, "parleyd: cannot start the WebSocket service\n");
        goto done;
    }
    if (http_start(app, api_routes, api_nroutes, ws_register, err, sizeof(err)) != 0) {
        fprintf(stderr, "parleyd: %s\n", err);
        goto done;
    }
    char port[16];
    snprintf(port, sizeof(port), "%d", app->cfg->listen_port);
    log_info("listening", "host", app->cfg->listen_host, "port", port, "public_url", app->cfg->public_url, "node",
             app->node_id);
    sigwait(&stop, &sig);
    log_info("stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    rc = 0;
done:
    /* Graceful order: refuse new work and let HTTP requests finish; commit
     * queued messages (their acks get queued); then tell sockets we are
     * going away (the writers flush what is queued first); then stop. */
    if (app->mg && http_drain(app, 10000) != 0)
        log_warn("requests still running at shutdown");
    msgqueue_stop(app->msgs);
    app->msgs = NULL;
    if (app->mg)
        ws_close_all(app, 1001, "server shutting down", 2000);
    /* civetweb's close handlers run inside http_stop and still use the hub,
     * presence and the pool: stop those after it. */
    http_stop(app);
    sender_stop(app->sender);
    app->sender = NULL;
    webhooks_close(app->hooks);
    app->hooks = NULL;
    files_close(app->files);
    app->files = NULL;
    online_stop(app->online);
    app->online = NULL;
    presence_stop(app);
    bus_stop(app->bus);
    app->bus = NULL;
    ws_stop(app);
    ws_free(app);
    hub_free(app->hub);
    app->hub = NULL;
    ratelimit_free(app->visitor_rate);
    ratelimit_free(app->api_rate);
    ratelimit_free(app->session_rate);
    ratelimit_free(app->beat_rate);
    connlimit_free(app->conns);
    calendar_zones_free(app->zones);
    app->zones = NULL;
    automation_free(app->automation);
    app->automation = NULL;
    geoip_close(app->geoip);
    app->geoip = NULL;
    log_info("stopped");
    return rc;
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct app app;
    int rc = 1;

    memset(&app, 0, sizeof(app));
    /* Before any thread: libcurl's global state (OpenSSL, the resolver). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "parleyd: libcurl did not initialise\n");
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        if (argc >= 2)
            config_print_help();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("parleyd %s\n", PARLEY_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0) {
        if (app_open(&app, &cfg, 1) == 0)
            rc = cmd_serve(&app);
    } else if (strcmp(argv[1], "migrate") == 0) {
        if (app_open(&app, &cfg, 0) == 0)
            rc = run_migrate(&app) == 0 ? 0 : 1;
    } else if (strcmp(argv[1], "token") == 0 && argc >= 3 && strcmp(argv[2], "add") == 0) {
        if (app_open(&app, &cfg, 0) == 0 && migrate_apply(app.db) >= 0)
            rc = cmd_token_add(&app, argc - 3, argv + 3);
    } else if (strcmp(argv[1], "agent") == 0 && argc >= 3 && strcmp(argv[2], "add") == 0) {
        /* Works on a fresh database too: the schema comes first. */
        if (app_open(&app, &cfg, 1) == 0 && migrate_apply(app.db) >= 0)
            rc = cmd_agent_add(&app, argc - 3, argv + 3);
    } else {
        fprintf(stderr, "parleyd: unknown command %s\n\n", argv[1]);
        usage(stderr);
        rc = 2;
    }
    db_pool_close(app.db);
    metrics_free(app.metrics);
    return rc;
}
