/* config: every runtime setting of parleyd, read once from the environment.
 *
 * Owns the table of settings (name, env var, default, bounds) and the one
 * struct the rest of the daemon reads. Nothing else calls getenv(). Loading is
 * a pure function over a lookup callback so it can be unit-tested. */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* What is kept of a client's IP address (PARLEY_IP_STORAGE); applied by
 * peer_address_to_store. Defined here, not in peer.h, because config reads
 * it and peer already includes config. */
enum ip_storage { IP_STORE_FULL, IP_STORE_TRUNCATED, IP_STORE_NONE };

#define CONFIG_MAX_RETRIES 20

struct config {
    char listen_host[64];                     /* PARLEY_LISTEN host part, e.g. 127.0.0.1 */
    int listen_port;                          /* PARLEY_LISTEN port part */
    char database_url[1024];                  /* DATABASE_URL (libpq conninfo or URI) */
    char public_url[512];                     /* PARLEY_PUBLIC_URL, no trailing slash */
    char public_origin[512];                  /* scheme://host[:port] of public_url */
    char data_dir[512];                       /* PARLEY_DATA_DIR */
    char static_dir[512];                     /* PARLEY_STATIC_DIR */
    char tls_cert[512];                       /* PARLEY_TLS_CERT (empty: plain HTTP) */
    char tls_key[512];                        /* PARLEY_TLS_KEY */
    char admin_email[256];                    /* PARLEY_ADMIN_EMAIL: first-run admin */
    char trusted_proxies[512];                /* PARLEY_TRUSTED_PROXIES: comma-separated IPs */
    enum log_level log_level;                 /* PARLEY_LOG_LEVEL */
    int http_threads;                         /* PARLEY_HTTP_THREADS */
    int db_pool_size;                         /* PARLEY_DB_POOL_SIZE */
    int db_acquire_timeout_ms;                /* PARLEY_DB_ACQUIRE_TIMEOUT_MS */
    long max_body_bytes;                      /* PARLEY_MAX_BODY_BYTES */
    int request_timeout_ms;                   /* PARLEY_REQUEST_TIMEOUT_MS */
    int session_idle_seconds;                 /* PARLEY_SESSION_IDLE_SECONDS */
    int session_max_seconds;                  /* PARLEY_SESSION_MAX_SECONDS */
    int login_account_limit;                  /* PARLEY_LOGIN_ACCOUNT_LIMIT */
    int login_ip_limit;                       /* PARLEY_LOGIN_IP_LIMIT */
    int login_window_seconds;                 /* PARLEY_LOGIN_WINDOW_SECONDS */
    int scrypt_log2n;                         /* PARLEY_SCRYPT_LOG2N */
    int hash_concurrency;                     /* PARLEY_HASH_CONCURRENCY */
    int agent_grace_seconds;                  /* PARLEY_AGENT_GRACE_SECONDS */
    int node_timeout_seconds;                 /* PARLEY_NODE_TIMEOUT_SECONDS */
    int visitor_beat_seconds;                 /* PARLEY_VISITOR_BEAT_SECONDS */
    int online_timeout_seconds;               /* PARLEY_ONLINE_TIMEOUT_SECONDS */
    int journey_retention_days;               /* PARLEY_JOURNEY_RETENTION_DAYS */
    int message_max_chars;                    /* PARLEY_MESSAGE_MAX_CHARS */
    int ws_max_frame_bytes;                   /* PARLEY_WS_MAX_FRAME_BYTES */
    int ws_auth_timeout_ms;                   /* PARLEY_WS_AUTH_TIMEOUT_MS */
    int ws_max_unauthenticated;               /* PARLEY_WS_MAX_UNAUTHENTICATED */
    int ws_queue_max_frames;                  /* PARLEY_WS_QUEUE_MAX_FRAMES */
    int ws_queue_max_bytes;                   /* PARLEY_WS_QUEUE_MAX_BYTES */
    int ws_idle_timeout_ms;                   /* PARLEY_WS_IDLE_TIMEOUT_MS */
    int message_batch_wait_ms;                /* PARLEY_MESSAGE_BATCH_WAIT_MS */
    int visitor_rate_messages;                /* PARLEY_VISITOR_RATE_MESSAGES */
    int visitor_rate_window_seconds;          /* PARLEY_VISITOR_RATE_WINDOW_SECONDS */
    int visitor_max_sockets;                  /* PARLEY_VISITOR_MAX_SOCKETS */
    int api_rate_per_minute;                  /* PARLEY_API_RATE_PER_MINUTE */
    int session_rate_per_minute;              /* PARLEY_SESSION_RATE_PER_MINUTE */
    int http_reserved_threads;                /* PARLEY_HTTP_RESERVED_THREADS */
    int header_timeout_ms;                    /* PARLEY_HEADER_TIMEOUT_MS */
    int max_waiting_connections;              /* PARLEY_MAX_WAITING_CONNECTIONS */
    int max_connections_per_ip;               /* PARLEY_MAX_CONNECTIONS_PER_IP */
    int http_max_per_ip;                      /* PARLEY_HTTP_MAX_PER_IP */
    int ws_max_per_ip;                        /* PARLEY_WS_MAX_PER_IP */
    int ws_max_unauth_per_ip;                 /* PARLEY_WS_MAX_UNAUTHENTICATED_PER_IP */
    char metrics_token[128];                  /* PARLEY_METRICS_TOKEN (empty: loopback only) */
    long upload_max_bytes;                    /* PARLEY_UPLOAD_MAX_BYTES */
    char upload_storage[8];                   /* PARLEY_UPLOAD_STORAGE: pg or disk */
    char upload_scan_cmd[1024];               /* PARLEY_UPLOAD_SCAN_CMD (empty: no scan) */
    int upload_scan_timeout_seconds;          /* PARLEY_UPLOAD_SCAN_TIMEOUT_SECONDS */
    int upload_timeout_seconds;               /* PARLEY_UPLOAD_TIMEOUT_SECONDS */
    int upload_concurrency;                   /* PARLEY_UPLOAD_CONCURRENCY */
    int upload_visitor_per_minute;            /* PARLEY_UPLOAD_VISITOR_PER_MINUTE */
    long upload_site_bytes_per_day;           /* PARLEY_UPLOAD_SITE_BYTES_PER_DAY */
    int upload_unattached_seconds;            /* PARLEY_UPLOAD_UNATTACHED_SECONDS */
    int file_link_seconds;                    /* PARLEY_FILE_LINK_SECONDS */
    int files_sweep_seconds;                  /* PARLEY_FILES_SWEEP_SECONDS */
    char secret_key_file[512];                /* PARLEY_SECRET_KEY_FILE ("": PARLEY_DATA_DIR/secret.key) */
    char zoneinfo_dir[512];                   /* PARLEY_ZONEINFO_DIR */
    int webhook_timeout_seconds;              /* PARLEY_WEBHOOK_TIMEOUT_SECONDS */
    char webhook_retry_schedule[256];         /* PARLEY_WEBHOOK_RETRY_SCHEDULE: seconds, comma-separated */
    int webhook_schedule[CONFIG_MAX_RETRIES]; /* ... parsed: seconds before attempt 1, 2, ... */
    int webhook_schedule_len;                 /* ... how many attempts in all */
    int webhook_disable_after_seconds;        /* PARLEY_WEBHOOK_DISABLE_AFTER_SECONDS */
    char webhook_allow_private[1024];         /* PARLEY_WEBHOOK_ALLOW_PRIVATE: CIDRs */
    int webhook_allow_http;                   /* PARLEY_WEBHOOK_ALLOW_HTTP: 0 or 1 */
    int webhook_concurrency;                  /* PARLEY_WEBHOOK_CONCURRENCY */
    int webhook_retention_days;               /* PARLEY_WEBHOOK_RETENTION_DAYS */
    char geoip_db[1024];                      /* PARLEY_GEOIP_DB: one .mmdb, or IPv4,IPv6 ("": off) */
    enum ip_storage ip_storage;               /* PARLEY_IP_STORAGE: full, truncated or none */
    char stun_urls[1024];                     /* PARLEY_STUN_URLS: comma-separated */
    char turn_urls[1024];                     /* PARLEY_TURN_URLS: comma-separated */
    char turn_secret[256];                    /* PARLEY_TURN_SECRET ("": no TURN) */
    int turn_ttl_seconds;                     /* PARLEY_TURN_TTL_SECONDS */
    int call_relay_only;                      /* PARLEY_CALL_RELAY_ONLY: 0 or 1 */
    int call_ring_seconds;                    /* PARLEY_CALL_RING_SECONDS */
    int call_lost_seconds;                    /* PARLEY_CALL_LOST_SECONDS */
    int call_max_minutes;                     /* PARLEY_CALL_MAX_MINUTES */
};

/* Returns the value of an environment variable or NULL; ctx is passed through. */
typedef const char *(*config_lookup_fn)(const char *name, void *ctx);

/* Fills *cfg from defaults overridden by lookup(). Returns 0, or -1 with a
 * message naming the offending variable written to err. */
int config_load(struct config *cfg, config_lookup_fn lookup, void *ctx, char *err, size_t errlen);

/* lookup backed by getenv(). */
const char *config_getenv(const char *name, void *ctx);

/* 1 when s is a literal IPv4 or IPv6 address. */
int config_is_ip(const char *s);

/* Prints the settings table (env var, default, meaning) for --help. */
void config_print_help(void);

#endif
