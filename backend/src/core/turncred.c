#include "core/turncred.h"
#include "core/whsig.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

static int url_char_ok(char c)
{
    return c > ' ' && c < 0x7f && c != '"' && c != '\'' && c != '\\' && c != ',';
}

/* Calls fn for each URL of a checked list; n is its length. */
typedef int (*url_fn)(const char *url, size_t n, void *arg);

static int each_url(const char *list, url_fn fn, void *arg)
{
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (fn(p, n, arg) != 0)
            return -1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

struct check_ctx {
    int turn, count;
};

static int check_one(const char *url, size_t n, void *arg)
{
    struct check_ctx *ctx = arg;
    static const char *const stun[] = {"stun:", "stuns:", NULL};
    static const char *const turn[] = {"turn:", "turns:", NULL};
    const char *const *schemes = ctx->turn ? turn : stun;
    size_t scheme = 0;
    for (int i = 0; schemes[i]; i++)
        if (n > strlen(schemes[i]) && strncmp(url, schemes[i], strlen(schemes[i])) == 0)
            scheme = strlen(schemes[i]);
    if (!scheme || n > TURNCRED_URL_MAX || ++ctx->count > TURNCRED_MAX_URLS)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!url_char_ok(url[i]))
            return -1;
    return 0;
}

int turncred_check_urls(const char *list, int turn)
{
    struct check_ctx ctx = {turn, 0};
    /* An empty element (",," or a trailing comma) is a typo, not a URL. */
    size_t len = strlen(list);
    if (len && (list[0] == ',' || list[len - 1] == ',' || strstr(list, ",,")))
        return -1;
    return each_url(list, check_one, &ctx);
}

int turncred_sign(const char *secret, long long expiry, const char *id, char *username, size_t ulen, char *password,
                  size_t plen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int n = snprintf(username, ulen, "%lld:%s", expiry, id);
    if (n < 0 || (size_t)n >= ulen)
        return -1;
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)username, (size_t)n, mac, &maclen))
        return -1;
    return whsig_base64(mac, maclen, password, plen) > 0 ? 0 : -1;
}

static int add_url(const char *url, size_t n, void *arg)
{
    return json_array_append_new(arg, json_stringn(url, n));
}

json_t *turncred_url_list(const char *list)
{
    json_t *urls = json_array();
    if (urls && each_url(list, add_url, urls) != 0) {
        json_decref(urls);
        urls = NULL;
    }
    return urls;
}

/* {"urls": [...list], ...extra}: appended to servers. Returns 0 or -1. */
static int add_server(json_t *servers, const char *list, const char *username, const char *password)
{
    json_t *urls = turncred_url_list(list), *server = json_object();
    int rc = -1;
    if (urls && server && json_object_set(server, "urls", urls) == 0 &&
        (!username || (json_object_set_new(server, "username", json_string(username)) == 0 &&
                       json_object_set_new(server, "credential", json_string(password)) == 0)))
        rc = json_array_append(servers, server);
    json_decref(urls);
    json_decref(server);
    return rc;
}

json_t *turncred_ice_servers(const char *stun_urls, const char *turn_urls, const char *secret, int ttl, const char *id,
                             long long now)
{
    json_t *servers = json_array();
    char username[96], password[64];
    if (servers && stun_urls[0] && add_server(servers, stun_urls, NULL, NULL) != 0)
        goto fail;
    if (servers && turn_urls[0] && secret[0] &&
        (turncred_sign(secret, now + ttl, id, username, sizeof(username), password, sizeof(password)) != 0 ||
         add_server(servers, turn_urls, username, password) != 0))
        goto fail;
    return servers;
fail:
    json_decref(servers);
    return NULL;
}
