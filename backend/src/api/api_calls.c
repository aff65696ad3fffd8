/* api_calls: the ICE servers a party's browser uses for its call.
 *
 *   GET /api/calls/ice-servers          agent session (the console)
 *   GET /api/widget/calls/ice-servers   Bearer visitor token (the widget)
 *   GET /api/calls/settings             admin session: the server's call
 *                                       settings, for the admin pages (never
 *                                       the TURN secret)
 *
 * Both answer {"ice_servers": RTCConfiguration.iceServers,
 * "ice_transport_policy": "all" or, with PARLEY_CALL_RELAY_ONLY, "relay"
 * (RTCConfiguration.iceTransportPolicy: the parties' addresses stay hidden
 * from each other behind the TURN server), "ttl": seconds}
 * with a TURN credential of its own for the asking party (core/turncred),
 * and only to a party with a live call (ringing or active): the TURN
 * server relays any traffic for whoever holds a credential, so none is
 * handed out for nothing. The signalling itself is WebSocket (chat/calls). */
#include "api/api.h"
#include "api/api_common.h"

#include "chat/calls.h"
#include "core/turncred.h"
#include "http/auth.h"

#include <stdio.h>
#include <time.h>

static void send_ice_servers(struct http_req *req, const struct actor *a)
{
    const struct config *cfg = req->app->cfg;
    char id[32];
    int live = 0;
    enum chat_err err = calls_party_live(req->app, a, &live);
    if (err != CHAT_OK) {
        api_send_error(req, err, NULL, NULL);
        return;
    }
    if (!live) {
        http_send_problem(req, 409, "no_call", "ICE servers are given to the parties of a ringing or active call");
        return;
    }
    snprintf(id, sizeof(id), "%c%lld", a->kind == ACTOR_VISITOR ? 'v' : 'a', a->id);
    json_t *servers = turncred_ice_servers(cfg->stun_urls, cfg->turn_urls, cfg->turn_secret, cfg->turn_ttl_seconds, id,
                                           (long long)time(NULL));
    if (!servers) {
        http_send_problem(req, 500, "internal", "the TURN credential could not be made");
        return;
    }
    http_send_json(req, 200,
                   json_pack("{s:o, s:s, s:i}", "ice_servers", servers, "ice_transport_policy",
                             cfg->call_relay_only ? "relay" : "all", "ttl", cfg->turn_ttl_seconds));
}

void api_calls_ice_servers(struct http_req *req)
{
    struct session s;
    struct actor a;
    if (auth_require_agent(req, &s, 0) != 0)
        return;
    api_agent_actor(&s, &a);
    send_ice_servers(req, &a);
}

void api_widget_calls_ice_servers(struct http_req *req)
{
    struct actor a;
    const char *token = api_bearer_token(req);
    if (!token || api_visitor_from_bearer(req, token, &a) != 0) {
        http_send_problem(req, 401, "unauthenticated", "the visitor token is not valid");
        return;
    }
    send_ice_servers(req, &a);
}

void api_calls_settings(struct http_req *req)
{
    const struct config *cfg = req->app->cfg;
    if (api_require_admin(req, 0) != 0)
        return;
    json_t *stun = turncred_url_list(cfg->stun_urls), *turn = turncred_url_list(cfg->turn_urls);
    if (!stun || !turn) {
        json_decref(stun);
        json_decref(turn);
        http_send_problem(req, 500, "internal", "out of memory");
        return;
    }
    http_send_json(req, 200,
                   json_pack("{s:o, s:o, s:b, s:i, s:i, s:i, s:i}", "stun_urls", stun, "turn_urls", turn, "relay_only",
                             cfg->call_relay_only, "turn_ttl_seconds", cfg->turn_ttl_seconds, "ring_seconds",
                             cfg->call_ring_seconds, "lost_seconds", cfg->call_lost_seconds, "max_minutes",
                             cfg->call_max_minutes));
}
