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
 * new verified identity (the socket's pre-chat and visitor.update cannot). */
#include "api/api.h"
#include "core/clock.h"
#include "db/db.h"
#include "core/jfield.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VISITOR_TOKEN_PREFIX "pv_"

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

struct session_ctx {
    long long site_id;
    const char *token_in;       /* existing token, may be NULL */
    const struct identity *idn; /* verified identity or NULL */
    const char *user_agent, *ip;
    char token_out[TOKEN_MAX_LEN];
    json_t *visitor;
};

static int session_tx(PGconn *conn, void *arg)
{
    struct session_ctx *ctx = arg;
    char site[24], hash_hex[2 * TOKEN_DIGEST_LEN + 3];
    uint8_t digest[TOKEN_DIGEST_LEN];
    PGresult *res = NULL;
    long long visitor = 0, known = 0;
    int rc;

    snprintf(site, sizeof(site), "%lld", ctx->site_id);
    ctx->token_out[0] = '\0';
    if (ctx->token_in && token_well_formed(VISITOR_TOKEN_PREFIX, ctx->token_in)) {
        token_digest(ctx->token_in, strlen(ctx->token_in), digest);
        db_bytea_hex(digest, sizeof(digest), hash_hex);
        rc = db_exec(conn, &res,
                     "SELECT visitor_id FROM visitor_tokens WHERE token_hash = $1::bytea AND site_id = $2::bigint", 2,
                     (const char *const[]){hash_hex, site});
        if (rc != DB_OK)
            return rc;
        known = PQntuples(res) == 1 ? db_get_ll(res, 0, 0, 0) : 0;
        PQclear(res);
        res = NULL;
    }
    if (ctx->idn) {
        /* A verified identity is the one way to set a verified visitor's
         * name and email: replaced when given, kept when not. */
        const char *params[4] = {site, ctx->idn->id, ctx->idn->name, ctx->idn->email};
        rc = db_exec(conn, &res,
                     "INSERT INTO visitors (site_id, external_id, verified, name, email)"
                     " VALUES ($1::bigint, $2, true, $3, $4)"
                     " ON CONFLICT (site_id, external_id) WHERE external_id IS NOT NULL DO UPDATE"
                     "   SET verified = true, name = coalesce(EXCLUDED.name, visitors.name),"
                     "       email = coalesce(EXCLUDED.email, visitors.email), last_seen_at = now()"
                     " RETURNING id",
                     4, params);
        if (rc != DB_OK)
            return rc;
        visitor = db_get_ll(res, 0, 0, 0);
        PQclear(res);
        res = NULL;
        /* A token of another visitor (another identity, or anonymous) does
         * not carry over to this one. */
        if (known == visitor)
            snprintf(ctx->token_out, sizeof(ctx->token_out), "%s", ctx->token_in);
    } else if (known) {
        visitor = known;
        snprintf(ctx->token_out, sizeof(ctx->token_out), "%s", ctx->token_in);
    } else {
        rc = db_exec(conn, &res, "INSERT INTO visitors (site_id) VALUES ($1::bigint) RETURNING id", 1,
                     (const char *const[]){site});
        if (rc != DB_OK)
            return rc;
        visitor = db_get_ll(res, 0, 0, 0);
        PQclear(res);
        res = NULL;
    }
    char vid[24];
    snprintf(vid, sizeof(vid), "%lld", visitor);
    if (!ctx->token_out[0]) {
        if (token_generate(VISITOR_TOKEN_PREFIX, ctx->token_out, sizeof(ctx->token_out)) != 0)
            return DB_E_QUERY;
        token_digest(ctx->token_out, strlen(ctx->token_out), digest);
        db_bytea_hex(digest, sizeof(digest), hash_hex);
        rc = db_exec(
            conn, NULL,
            "INSERT INTO visitor_tokens (token_hash, visitor_id, site_id) VALUES ($1::bytea, $2::bigint, $3::bigint)",
            3, (const char *const[]){hash_hex, vid, site});
        if (rc != DB_OK)
            return rc;
    }
    rc = db_exec(conn, &res,
                 "UPDATE visitors SET last_seen_at = now(), user_agent = coalesce(left($2, 1000), user_agent),"
                 "  ip = coalesce($3::inet, ip) WHERE id = $1::bigint"
                 " RETURNING json_build_object('id', id, 'name', name, 'email', email, 'verified', verified)::text",
                 3, (const char *const[]){vid, ctx->user_agent, ctx->ip});
    if (rc == DB_OK) {
        json_decref(ctx->visitor); /* a retried transaction starts over */
        ctx->visitor = json_loads(db_get_str(res, 0, 0), 0, NULL);
    }
    PQclear(res);
    return rc;
}

void api_widget_session(struct http_req *req)
{
    static const char *const fields[] = {"site_key", "visitor_token", "identity", NULL};
    const char *origin = http_header(req, "Origin");
    const char *site_key = NULL, *token = NULL;
    struct problem_field err;
    struct identity idn;
    PGresult *res = NULL;
    json_t *body = http_read_json(req);
    struct session_ctx ctx;
    char ua[1001];

    if (!body)
        return;
    memset(&ctx, 0, sizeof(ctx));
    /* Each session may create a visitor row: bound how fast one address can. */
    int wait = ratelimit_take(req->app->session_rate, http_remote_ip(req), clock_now());
    if (wait > 0) {
        char retry[16];
        snprintf(retry, sizeof(retry), "%d", wait);
        http_add_header(req, "Retry-After", retry);
        http_send_problem(req, 429, "rate_limited", "too many new visitor sessions from this address");
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
    /* Only the site's own origins: not even our frame's, or any page could
     * frame us and mint tokens for any site. */
    const char *params[2] = {site_key, origin};
    if (db_query(req->app->db, &res,
                 "SELECT id, $2 = ANY (allowed_origins), identity_secret, identity_required,"
                 "  json_build_object('id', id, 'name', name, 'settings', widget_settings)::text"
                 " FROM sites WHERE public_key = $1",
                 2, params) != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        goto done;
    }
    if (PQntuples(res) != 1) {
        http_send_problem(req, 404, "not_found", "no site has this key");
        goto done;
    }
    if (!db_get_bool(res, 0, 1)) {
        http_send_problem(req, 403, "origin_forbidden", "this site does not allow the page's origin");
        goto done;
    }
    allow_origin(req, origin);
    if (idn.id && !identity_valid(db_get_str(res, 0, 2), &idn)) {
        http_send_problem(req, 403, "identity_invalid",
                          "the identity hash does not match its id (and name and email, when given)");
        goto done;
    }
    if (idn.id && identity_clean(body, &idn, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
        goto done;
    }
    if (!idn.id && db_get_bool(res, 0, 3)) {
        http_send_problem(req, 403, "identity_required", "this site requires a verified identity");
        goto done;
    }
    ctx.site_id = db_get_ll(res, 0, 0, 0);
    ctx.token_in = token;
    ctx.idn = idn.id ? &idn : NULL;
    /* Kept for the agent's visitor panel: printable ASCII only. */
    const char *agent = http_header(req, "User-Agent");
    size_t n = 0;
    for (const char *p = agent ? agent : ""; *p && n < sizeof(ua) - 1; p++)
        ua[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    ua[n] = '\0';
    ctx.user_agent = ua[0] ? ua : NULL;
    ctx.ip = http_remote_ip(req);
    if (db_transaction(req->app->db, session_tx, &ctx) != DB_OK || !ctx.visitor) {
        json_decref(ctx.visitor);
        http_send_problem(req, 503, "unavailable", "could not start a visitor session");
        goto done;
    }
    json_t *site = json_loads(db_get_str(res, 0, 4), 0, NULL);
    http_send_json(req, 200,
                   json_pack("{s:s, s:o, s:o}", "visitor_token", ctx.token_out, "visitor", ctx.visitor, "site",
                             site ? site : json_null()));
done:
    PQclear(res);
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
    PGresult *res = NULL;
    const char *params[3] = {req->params[0], origin ? origin : "", req->app->cfg->public_origin};
    if (db_query(req->app->db, &res,
                 "SELECT ($2 = '' OR $2 = ANY (s.allowed_origins) OR $2 = $3),"
                 "  json_build_object('name', s.name, 'settings', s.widget_settings,"
                 "   'online', EXISTS (SELECT 1 FROM team_members tm JOIN agents a ON a.id = tm.agent_id"
                 "     WHERE tm.team_id = s.default_team_id AND a.active AND a.status = 'online'"
                 "       AND parley_agent_live(a.id)))::text"
                 " FROM sites s WHERE s.public_key = $1",
                 3, params) != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return;
    }
    if (PQntuples(res) != 1) {
        http_send_problem(req, 404, "not_found", "no site has this key");
    } else if (!db_get_bool(res, 0, 0)) {
        /* Readable by the refused page, so its console says why. */
        allow_origin(req, origin);
        http_send_problem(req, 403, "origin_forbidden", "this site does not allow the page's origin");
    } else {
        if (origin)
            allow_origin(req, origin);
        const char *json = db_get_str(res, 0, 1);
        http_send_body(req, 200, "application/json; charset=utf-8", json, strlen(json));
    }
    PQclear(res);
}

/* GET /demo: a sample shop page carrying the snippet of the first site, so
 * that `make run` shows the widget at once. */
void api_demo_page(struct http_req *req)
{
    PGresult *res = NULL;
    char *page = NULL;
    if (db_query(req->app->db, &res, "SELECT public_key FROM sites ORDER BY id LIMIT 1", 0, NULL) != DB_OK) {
        http_send_problem(req, 503, "unavailable", "the database is not reachable");
        return;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        http_send_problem(req, 404, "not_found", "no site exists yet");
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
        req->app->cfg->public_url, db_get_str(res, 0, 0));
    PQclear(res);
    if (n < 0) {
        http_send_problem(req, 500, "internal", NULL);
        return;
    }
    req->cache_control = "no-cache";
    http_send_body(req, 200, "text/html; charset=utf-8", page, (size_t)n);
    free(page);
}
