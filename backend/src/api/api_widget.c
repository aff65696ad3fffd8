/* The widget's HTTP resource: POST /api/widget/session.
 *
 * Called by the widget's loader from the host page (any origin the site
 * allows, hence CORS with the exact origin echoed, never "*"); our own
 * frame's origin does not count unless the site lists it. Returns a
 * visitor token: 256-bit random, only its SHA-256 stored, bound to one site
 * and one visitor. With identity verification the site's backend signs the
 * visitor's external id, and the name and email when it sends them (hex
 * HMAC-SHA256 under the site secret); a verified visitor is the same
 * visitor row on every device, and their name and email change only with a
 * new verified identity (the socket's pre-chat and visitor.update cannot).
 *
 * And POST /api/widget/beat: the loader's page views and heartbeats (a
 * small text/plain body, so no preflight and sendBeacon works), checked by
 * the beat ticket the session hands out (core/ticket: no query) and queued
 * for chat/online's writer; the answer says when to beat next and whether
 * an invitation waits. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/online.h"
#include "chat/sites.h"
#include "chat/visitors.h"
#include "core/clock.h"
#include "core/geoip.h"
#include "core/jfield.h"
#include "core/peer.h"
#include "core/ratelimit.h"
#include "core/text.h"
#include "core/ticket.h"
#include "core/token.h"
#include "core/uagent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void allow_origin(struct http_req *req, const char *origin)
{
    http_add_header(req, "Access-Control-Allow-Origin", origin);
    http_add_header(req, "Vary", "Origin");
}

void api_widget_session_preflight(struct http_req *req)
{
    const char *origin = http_header(req, "Origin");
    /* The preflight carries no site key, so it cannot be checked against a
     * site here; the POST that follows is, and gets no CORS grant if the
     * origin is not allowed. */
    if (origin && strlen(origin) < 256 && strncmp(origin, "http", 4) == 0) {
        allow_origin(req, origin);
        http_add_header(req, "Access-Control-Allow-Methods", "POST");
        http_add_header(req, "Access-Control-Allow-Headers", "Content-Type");
        http_add_header(req, "Access-Control-Max-Age", "600");
    }
    http_send_empty(req, 204);
}

struct identity {
    const char *id, *hash, *name, *email;
};

/* Reads the identity as the site's backend signed it: name and email
 * exactly as sent (identity_clean comes after the hash is checked). */
static int read_identity(json_t *body, struct identity *idn, struct problem_field *err)
{
    static const char *const fields[] = {"id", "hash", "name", "email", NULL};
    json_t *obj = json_object_get(body, "identity");
    memset(idn, 0, sizeof(*idn));
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj)) {
        err->field = "identity";
        err->message = "must be an object";
        return -1;
    }
    if (jfield_only(obj, fields, err) != 0 || jfield_string(obj, "id", JF_REQUIRED, 1, 255, &idn->id, err) != 0 ||
        jfield_string(obj, "hash", JF_REQUIRED, 64, 64, &idn->hash, err) != 0 ||
        jfield_string(obj, "name", 0, 1, 200, &idn->name, err) != 0 ||
        jfield_string(obj, "email", 0, 3, 254, &idn->email, err) != 0) {
        err->field = "identity";
        return -1;
    }
    return 0;
}

/* Once the hash matched: the name and email as they will be stored, with
 * invisible characters and bidi controls removed (text_ident_clean); one
 * with nothing visible left counts as not given. The signed originals in
 * idn are replaced. */
static int identity_clean(json_t *body, struct identity *idn, struct problem_field *err)
{
    json_t *obj = json_object_get(body, "identity");
    if (jfield_string(obj, "name", JF_NAME_CLEAN, 1, 200, &idn->name, err) != 0 ||
        jfield_string(obj, "email", JF_NAME_CLEAN, 3, 254, &idn->email, err) != 0) {
        err->field = "identity";
        return -1;
    }
    return 0;
}

/* 1 when hash is hex(HMAC-SHA256(secret, message)), compared in constant
 * time. The message is the id alone, or, when the identity carries a name
 * or an email, "id LF name LF email" (an absent one empty): every field the
 * identity carries is signed, so a visitor holding their own valid hash
 * cannot put another name or email beside it. jfield refuses control
 * characters in all three, so the line feeds are unambiguous. */
static int identity_valid(const char *secret, const struct identity *idn)
{
    uint8_t mac[32];
    char hex[65], given[65];
    char message[4 * (255 + 200 + 254) + 3]; /* characters are at most 4 bytes */
    int n;
    if (idn->name || idn->email)
        n = snprintf(message, sizeof(message), "%s\n%s\n%s", idn->id, idn->name ? idn->name : "",
                     idn->email ? idn->email : "");
    else
        n = snprintf(message, sizeof(message), "%s", idn->id);
    if (n < 0 || (size_t)n >= sizeof(message))
        return 0;
    if (!secret || !*secret || token_hmac(secret, strlen(secret), message, (size_t)n, mac) != 0)
        return 0;
    token_hex(mac, sizeof(mac), hex);
    snprintf(given, sizeof(given), "%s", idn->hash);
    for (char *p = given; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    return token_equal(hex, given);
}

#define BEAT_TICKET_SECONDS 86400 /* a day; then the loader asks for a new session */
#define BEAT_BODY_MAX       4096

/* The User-Agent header, kept for the agent's visitor panel: printable
 * ASCII only. */
static void printable_user_agent(struct http_req *req, char *ua, size_t len)
{
    const char *agent = http_header(req, "User-Agent");
    size_t n = 0;
    for (const char *p = agent ? agent : ""; *p && n < len - 1; p++)
        ua[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    ua[n] = '\0';
}

/* Where the client is (looked up before the address is cut) and the
 * address as PARLEY_IP_STORAGE keeps it. */
static void place_of(struct http_req *req, struct geo_place *geo, char *stored, size_t len)
{
    const char *ip = http_remote_ip(req);
    if (geoip_lookup(req->app->geoip, ip, geo) != 0)
        memset(geo, 0, sizeof(*geo));
    peer_address_to_store(ip, req->app->cfg->ip_storage, stored, len);
}

/* {browser, browser_version, os, os_version, device, screen, language}
 * with the parts known (a new reference, or NULL). */
static json_t *device_of(const char *ua, const char *screen, const char *language)
{
    struct uagent u;
    json_t *d = json_object();
    uagent_parse(ua, &u);
    const char *keys[] = {"browser", "browser_version", "os", "os_version", "device", "screen", "language"};
    const char *values[] = {u.browser, u.browser_version, u.os, u.os_version, u.device, screen, language};
    for (size_t i = 0; d && i < sizeof(keys) / sizeof(keys[0]); i++)
        if (values[i] && values[i][0])
            json_object_set_new(d, keys[i], json_string(values[i]));
    return d;
}

void api_widget_session(struct http_req *req)
{
    static const char *const fields[] = {"site_key", "visitor_token", "identity", NULL};
    const char *origin = http_header(req, "Origin");
    const char *site_key = NULL, *token = NULL;
    struct problem_field err;
    struct identity idn;
    struct site_gate site = {0};
    json_t *body = http_read_json(req), *visitor = NULL, *device = NULL;
    char ua[1001], token_out[TOKEN_MAX_LEN], *device_text = NULL;

    if (!body)
        return;
    /* Each session may create a visitor row: bound how fast one address can. */
    int wait = ratelimit_take(req->app->session_rate, http_remote_ip(req), clock_now());
    if (wait > 0) {
        http_send_rate_limited(req, wait, "too many new visitor sessions from this address");
        goto done;
    }
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "site_key", JF_REQUIRED, 8, 64, &site_key, &err) != 0 ||
        jfield_string(body, "visitor_token", 0, 1, 128, &token, &err) != 0 || read_identity(body, &idn, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (!origin || strlen(origin) > 255) {
        http_send_problem(req, 403, "origin_forbidden", "the Origin header is required");
        goto done;
    }
    enum chat_err e = sites_gate(req->app->db, site_key, origin, &site);
    if (e != CHAT_OK) {
        api_send_error(req, e, "no site has this key", NULL);
        goto done;
    }
    /* Only the site's own origins: not even our frame's, or any page could
     * frame us and mint tokens for any site. */
    if (!site.origin_allowed) {
        http_send_problem(req, 403, "origin_forbidden", "this site does not allow the page's origin");
        goto done;
    }
    allow_origin(req, origin);
    if (idn.id && !identity_valid(site.identity_secret, &idn)) {
        http_send_problem(req, 403, "identity_invalid",
                          "the identity hash does not match its id (and name and email, when given)");
        goto done;
    }
    if (idn.id && identity_clean(body, &idn, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (!idn.id && site.identity_required) {
        http_send_problem(req, 403, "identity_required", "this site requires a verified identity");
        goto done;
    }
    printable_user_agent(req, ua, sizeof(ua));
    struct geo_place geo;
    char stored_ip[PEER_ADDR_MAX];
    place_of(req, &geo, stored_ip, sizeof(stored_ip));
    device = device_of(ua, NULL, NULL);
    device_text = device ? json_dumps(device, JSON_COMPACT) : NULL;
    struct visitor_start start = {.site_id = site.id,
                                  .token = token,
                                  .identity_id = idn.id,
                                  .name = idn.id ? idn.name : NULL,
                                  .email = idn.id ? idn.email : NULL,
                                  .user_agent = ua[0] ? ua : NULL,
                                  .ip = stored_ip,
                                  .country = geo.country,
                                  .region = geo.region,
                                  .city = geo.city,
                                  .time_zone = geo.time_zone,
                                  .device_json = device_text};
    if (visitors_start(req->app->db, &start, token_out, &visitor) != CHAT_OK) {
        http_send_problem(req, 503, "unavailable", "could not start a visitor session");
        goto done;
    }
    char ticket[TICKET_MAX_LEN];
    if (ticket_make(req->app->beat_key, (long long)json_integer_value(json_object_get(visitor, "id")), site.id, origin,
                    (long long)time(NULL) + BEAT_TICKET_SECONDS, ticket, sizeof(ticket)) != 0) {
        http_send_problem(req, 500, "internal", NULL);
        goto done;
    }
    json_t *public_site = json_loads(site.public_json, 0, NULL);
    http_send_json(req, 200,
                   json_pack("{s:s, s:o, s:o, s:{s:s, s:i}}", "visitor_token", token_out, "visitor", visitor, "site",
                             public_site ? public_site : json_null(), "beat", "ticket", ticket, "every",
                             req->app->cfg->visitor_beat_seconds));
    visitor = NULL; /* the answer's */
done:
    free(device_text);
    json_decref(device);
    json_decref(visitor);
    sites_gate_free(&site);
    json_decref(body);
}

/* A page URL or referrer the way we keep one: http or https, printable,
 * at most ONLINE_URL_MAX bytes. */
static int web_url_ok(const char *s)
{
    size_t n = strlen(s);
    return n <= ONLINE_URL_MAX && (strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0) &&
           text_utf8_chars(s, n) >= 0 && !text_has_controls(s, n, 0) && !text_has_bidi_controls(s, n);
}

/* "1280x800": two numbers of 1..5 digits. */
static int screen_ok(const char *s)
{
    size_t w = strspn(s, "0123456789");
    if (w < 1 || w > 5 || s[w] != 'x')
        return 0;
    size_t h = strspn(s + w + 1, "0123456789");
    return h >= 1 && h <= 5 && s[w + 1 + h] == '\0';
}

/* A BCP 47 tag's characters. */
static int language_ok(const char *s)
{
    return strlen(s) <= ONLINE_LANGUAGE_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

/* An IANA zone name's characters ("America/Argentina/Buenos_Aires",
 * "Etc/GMT+3"). */
static int zone_ok(const char *s)
{
    return strlen(s) <= 64 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") == strlen(s) &&
           s[0] != '/' && !strstr(s, "..");
}

/* 0/1 from a flag sent as 1, 0, true or false (absent: 0); -1 otherwise. */
static int flag_of(json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    if (!v || json_is_false(v) || (json_is_integer(v) && json_integer_value(v) == 0))
        return 0;
    if (json_is_true(v) || (json_is_integer(v) && json_integer_value(v) == 1))
        return 1;
    return -1;
}

void api_widget_beat(struct http_req *req)
{
    static const char *const fields[] = {"b", "v", "u", "n", "r", "s", "l", "z", "x", "q", NULL};
    const char *origin = http_header(req, "Origin");
    const char *ticket = NULL, *url = NULL, *title = NULL, *referrer = NULL, *screen = NULL, *language = NULL,
               *zone = NULL;
    struct problem_field err;
    long long visitor = 0, site = 0;
    char key[32], title_clean[ONLINE_TITLE_MAX * 4 + 1], ua[1001];
    json_t *body = NULL, *device = NULL;

    if (!origin || strlen(origin) > 255) {
        http_send_problem(req, 403, "origin_forbidden", "the Origin header is required");
        return;
    }
    allow_origin(req, origin);
    if (!(body = http_read_json_limited(req, BEAT_BODY_MAX, 1)))
        return;
    int view = flag_of(body, "v"), leave = flag_of(body, "q"), closed = flag_of(body, "x");
    if (jfield_only(body, fields, &err) != 0 ||
        jfield_string(body, "b", JF_REQUIRED, 1, TICKET_MAX_LEN - 1, &ticket, &err) != 0 ||
        jfield_string(body, "u", leave ? 0 : JF_REQUIRED, 1, ONLINE_URL_MAX, &url, &err) != 0 ||
        jfield_string(body, "n", 0, 0, ONLINE_TITLE_MAX * 4, &title, &err) != 0 ||
        jfield_string(body, "r", 0, 0, ONLINE_URL_MAX, &referrer, &err) != 0 ||
        jfield_string(body, "s", 0, 0, 11, &screen, &err) != 0 ||
        jfield_string(body, "l", 0, 0, ONLINE_LANGUAGE_MAX, &language, &err) != 0 ||
        jfield_string(body, "z", 0, 1, 64, &zone, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (view < 0 || leave < 0 || closed < 0) {
        struct problem_field f = {view < 0 ? "v" : leave < 0 ? "q" : "x", "must be 0 or 1"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        goto done;
    }
    /* The first field whose shape is wrong, checked once. */
    const char *bad = url && !web_url_ok(url)                            ? "u"
                      : referrer && referrer[0] && !web_url_ok(referrer) ? "r"
                      : screen && screen[0] && !screen_ok(screen)        ? "s"
                      : language && !language_ok(language)               ? "l"
                      : zone && !zone_ok(zone)                           ? "z"
                                                                         : NULL;
    if (bad) {
        struct problem_field f = {bad, "is not allowed (URLs must be http or https, printable, at most 2048 bytes)"};
        http_send_problem_fields(req, 400, "invalid_request", NULL, &f, 1);
        goto done;
    }
    if (ticket_check(req->app->beat_key, ticket, origin, (long long)time(NULL), &visitor, &site) != 0) {
        http_send_problem(req, 401, "beat_ticket_invalid",
                          "the beat ticket is expired or not for this page; start a new session");
        goto done;
    }
    snprintf(key, sizeof(key), "b%lld", visitor);
    int wait = ratelimit_take(req->app->beat_rate, key, clock_now());
    if (wait > 0) {
        http_send_rate_limited(req, wait, "too many beats from this visitor");
        goto done;
    }
    /* A title is whatever the page says: kept as text, cut to its bound,
     * controls dropped. */
    if (title) {
        size_t n = text_ident_clean(title, strlen(title), title_clean);
        if (text_utf8_chars(title_clean, n) > ONLINE_TITLE_MAX) {
            size_t keep = 0;
            for (long chars = 0; keep < n && chars < ONLINE_TITLE_MAX; chars++)
                do
                    keep++;
                while (keep < n && ((unsigned char)title_clean[keep] & 0xC0) == 0x80);
            title_clean[keep] = '\0';
        }
        title = title_clean;
    }
    struct online_beat beat = {.visitor_id = visitor,
                               .site_id = site,
                               .kind = leave  ? ONLINE_LEAVE
                                       : view ? ONLINE_VIEW
                                              : ONLINE_BEAT,
                               .widget_closed = closed,
                               .url = url,
                               .title = title,
                               .referrer = referrer};
    struct geo_place geo;
    char stored_ip[PEER_ADDR_MAX];
    if (beat.kind == ONLINE_VIEW) {
        place_of(req, &geo, stored_ip, sizeof(stored_ip));
        printable_user_agent(req, ua, sizeof(ua));
        device = device_of(ua, screen, language);
        beat.ip = stored_ip;
        beat.country = geo.country;
        beat.region = geo.region;
        beat.city = geo.city;
        /* The browser's own zone is the visitor's clock; the address's
         * place is a guess (and DB-IP Lite has no zones). */
        beat.time_zone = zone ? zone : geo.time_zone;
        beat.device = device;
    }
    if (online_add(req->app->online, &beat) != 0) {
        http_add_header(req, "Retry-After", "5");
        http_send_problem(req, 503, "unavailable", "too many beats waiting to be written; try again");
        goto done;
    }
    if (leave)
        http_send_empty(req, 204);
    else
        http_send_json(req, 200,
                       json_pack("{s:i, s:b}", "every", req->app->cfg->visitor_beat_seconds, "invite",
                                 online_invited(req->app->online, visitor)));
done:
    json_decref(device);
    json_decref(body);
}

/* GET /api/widget/sites/{key}: what the loader needs before any visitor
 * exists: the site's public widget settings and whether anyone of its team
 * is online (the offline form otherwise). Public data, but still only for
 * pages of an allowed origin (or our own frame, whose same-origin GET has
 * no Origin header). */
void api_widget_site(struct http_req *req)
{
    const char *origin = http_header(req, "Origin");
    char *json = NULL;
    int allowed = 0;
    enum chat_err e = sites_widget_json(req->app->db, req->app->zones, req->params[0], origin ? origin : "",
                                        req->app->cfg->public_origin, &allowed, &json);
    if (e != CHAT_OK) {
        api_send_error(req, e, "no site has this key", NULL);
    } else if (!allowed) {
        /* Readable by the refused page, so its console says why. */
        allow_origin(req, origin);
        http_send_problem(req, 403, "origin_forbidden", "this site does not allow the page's origin");
    } else {
        if (origin)
            allow_origin(req, origin);
        api_send_json_text(req, 200, json);
    }
    free(json);
}

/* GET /demo: a sample shop page carrying the snippet of the first site, so
 * that `make run` shows the widget at once. */
void api_demo_page(struct http_req *req)
{
    char *page = NULL, *key = NULL;
    enum chat_err e = sites_first_key(req->app->db, &key);
    if (e != CHAT_OK) {
        api_send_error(req, e, "no site exists yet", NULL);
        return;
    }
    /* Site keys are [A-Za-z0-9_-] (a CHECK constraint): safe in an attribute. */
    int n = asprintf(
        &page,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>Parley demo shop</title>\n<link rel=\"stylesheet\" href=\"/demo/demo.css\">\n</head>\n"
        "<body>\n<header><h1>Northwind Coffee</h1><p>Small-batch roasts, shipped fresh.</p></header>\n"
        "<main class=\"products\">\n"
        "<article><h2>Ethiopia Guji</h2><p>Floral, bergamot, peach.</p><p class=\"price\">$18</p></article>\n"
        "<article><h2>Colombia Huila</h2><p>Caramel, red apple.</p><p class=\"price\">$16</p></article>\n"
        "<article><h2>Sumatra Mandheling</h2><p>Cedar, dark chocolate.</p><p class=\"price\">$17</p></article>\n"
        "</main>\n<footer><p>Questions? Use the chat button in the corner.</p></footer>\n"
        "<script src=\"%s/widget.js\" data-site=\"%s\" async></script>\n</body>\n</html>\n",
        req->app->cfg->public_url, key);
    free(key);
    if (n < 0) {
        http_send_problem(req, 500, "internal", NULL);
        return;
    }
    req->cache_control = "no-cache";
    http_send_body(req, 200, "text/html; charset=utf-8", page, (size_t)n);
    free(page);
}
