#include "live/deliver.h"

#include "chat/calls.h"
#include "chat/convo.h"
#include "chat/messages.h"
#include "chat/queue.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "live/hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "{"type":"<type>",<extra>"<key>":<json>}" built by concatenation: the JSON
 * parts come from PostgreSQL (valid by construction) or from jansson. */
static struct ws_frame *frame_wrap(const char *type, const char *extra, const char *key, const char *json)
{
    size_t cap = strlen(type) + strlen(extra) + strlen(key) + strlen(json) + 32;
    char *buf = malloc(cap);
    struct ws_frame *f = NULL;
    if (!buf)
        return NULL;
    int n = snprintf(buf, cap, "{\"type\":\"%s\",%s\"%s\":%s}", type, extra, key, json);
    if (n > 0 && (size_t)n < cap)
        f = wsconn_frame_new(buf, (size_t)n);
    free(buf);
    return f;
}

static struct ws_frame *frame_json(json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    struct ws_frame *f = text ? wsconn_frame_new(text, strlen(text)) : NULL;
    json_decref(doc);
    free(text);
    return f;
}

static void publish(struct app *app, struct hub_event *ev)
{
    hub_publish(app->hub, ev);
    if (ev->visitor_frame)
        wsconn_frame_unref(ev->visitor_frame);
    if (ev->agent_frame)
        wsconn_frame_unref(ev->agent_frame);
}

/* The participants ("p": [agent ids]) of a notification, into ev. */
static void participants_of(json_t *p, struct hub_event *ev)
{
    json_t *id;
    size_t i;
    ev->nparticipants = 0;
    json_array_foreach(json_object_get(p, "p"), i, id)
    {
        if (ev->nparticipants < HUB_MAX_PARTICIPANTS && json_integer_value(id) > 0)
            ev->participants[ev->nparticipants++] = json_integer_value(id);
    }
}

/* Who hears a message (its frames still to set). While a conversation
 * waits, its team may read along before accepting; once assigned, only the
 * assignee (and supervisors). */
static struct hub_event message_audience(const struct message_views *m)
{
    struct hub_event ev = {
        .audience = HUB_VISITOR | HUB_INVOLVED | HUB_PRIV_WATCHERS | (m->queued ? HUB_TEAM_WATCHERS : 0),
        .visitor_id = m->visitor_id,
        .team_id = m->team_id,
        .assignee_id = m->assignee_id,
    };
    for (int i = 0; i < m->nparticipants && i < HUB_MAX_PARTICIPANTS; i++)
        ev.participants[ev.nparticipants++] = m->participants[i];
    return ev;
}

/* Publishes one stored message, loaded by reference, to its audience. */
static void publish_message(const struct message_views *m, void *arg)
{
    struct app *app = arg;
    struct hub_event ev = message_audience(m);
    /* Internal notes have no visitor view: they never reach the visitor. */
    if (m->visitor_json)
        ev.visitor_frame = frame_wrap("message.created", "", "message", m->visitor_json);
    ev.agent_frame = frame_wrap("message.created", "", "message", m->agent_json);
    publish(app, &ev);
}

/* Messages too large to travel in a notification, loaded by reference
 * with one query: refs holds "[[conversation_id,seq],..." (the closing
 * bracket is added here), and is emptied. */
static void dispatch_message_refs(struct app *app, struct strbuf *refs)
{
    if (!refs->len)
        return;
    strbuf_put(refs, "]", 1);
    if (refs->failed || messages_by_refs(app->db, refs->data, publish_message, app) != CHAT_OK)
        log_warn("messages not delivered: the database is not reachable (clients resync on reconnect)");
    strbuf_free(refs);
}

/* One line of a message notification, "c v t a q p<TAB>agent frame<TAB>
 * visitor frame" (end: the line's end; the visitor frame "=" when it is the
 * agents'): the frames are forwarded as they are, nothing is parsed but the
 * routing. 0 when the line is malformed. */
static int publish_line(struct app *app, const char *line, const char *end)
{
    char *p;
    long long route[5];
    const char *at = line;
    for (int i = 0; i < 5; i++) {
        route[i] = strtoll(at, &p, 10);
        if (p == at || *p != ' ')
            return 0;
        at = p + 1;
    }
    struct message_views m = {
        .visitor_id = route[1],
        .team_id = route[2],
        .assignee_id = route[3],
        .queued = route[4] == 1,
    };
    while (*at != '\t' && at < end) {
        long long id = strtoll(at, &p, 10);
        if (p != at && m.nparticipants < MESSAGE_MAX_PARTICIPANTS)
            m.participants[m.nparticipants++] = id;
        at = p == at ? at + 1 : p;
    }
    if (at >= end)
        return 0;
    const char *agent = at + 1, *tab = agent < end ? memchr(agent, '\t', (size_t)(end - agent)) : NULL;
    if (!tab || tab == agent)
        return 0;
    struct hub_event ev = message_audience(&m);
    /* Every node hears every message: a frame is copied only when this
     * node has a socket that may want it. A note has no visitor frame: it
     * never reaches the visitor. */
    int same = end - tab == 2 && tab[1] == '=';
    int to_visitor = end > tab + 1 && hub_has_visitor(app->hub, m.visitor_id);
    if (hub_has_agents(app->hub) || (same && to_visitor))
        ev.agent_frame = wsconn_frame_new(agent, (size_t)(tab - agent));
    if (same && to_visitor && ev.agent_frame)
        ev.visitor_frame = wsconn_frame_ref(ev.agent_frame);
    else if (!same && to_visitor)
        ev.visitor_frame = wsconn_frame_new(tab + 1, (size_t)(end - tab - 1));
    if (ev.agent_frame || ev.visitor_frame)
        publish(app, &ev);
    return 1;
}

/* "M\n" and a line per message (db/sql/40_messages.sql): carried lines
 * are published at once; references ("R c seq") are loaded together, in
 * their place, so that a conversation's messages keep their order. */
static void dispatch_messages(struct app *app, const char *text)
{
    struct strbuf refs = {0};
    for (const char *line = text, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        if (!end)
            break;
        long long conv, seq;
        if (line[0] == 'R' && sscanf(line, "R %lld %lld", &conv, &seq) == 2) {
            strbuf_printf(&refs, "%c[%lld,%lld]", refs.len ? ',' : '[', conv, seq);
            continue;
        }
        dispatch_message_refs(app, &refs);
        if (!publish_line(app, line, end))
            log_warn("bus: unreadable message line");
    }
    dispatch_message_refs(app, &refs);
}

static void dispatch_conversation(struct app *app, json_t *p)
{
    char extra[64];
    const char *change = json_string_value(json_object_get(p, "ch"));
    struct convo_views v;
    long long team = 0, old_team = json_integer_value(json_object_get(p, "ot"));
    if (!change || strlen(change) > 20 || strspn(change, "abcdefghijklmnopqrstuvwxyz_") != strlen(change))
        return;
    snprintf(extra, sizeof(extra), "\"change\":\"%s\",", change);
    enum chat_err err = convo_views(app->db, json_integer_value(json_object_get(p, "c")), &v);
    if (err == CHAT_OK) {
        struct hub_event ev = {
            .audience = HUB_VISITOR | HUB_INVOLVED | HUB_TEAM_WATCHERS,
            .visitor_id = v.visitor_id,
            .team_id = v.team_id,
            .assignee_id = v.assignee_id,
            .prev_assignee_id = json_integer_value(json_object_get(p, "pa")),
            .visitor_frame = frame_wrap("conversation.updated", extra, "conversation", v.visitor_json),
            .agent_frame = frame_wrap("conversation.updated", extra, "conversation", v.agent_json),
        };
        for (int i = 0; i < v.nparticipants && i < HUB_MAX_PARTICIPANTS; i++)
            ev.participants[ev.nparticipants++] = v.participants[i];
        team = ev.team_id;
        publish(app, &ev);
        /* The old team's watchers must see it leave their queue. */
        if (old_team && old_team != team) {
            struct hub_event gone = {
                .audience = HUB_TEAM_WATCHERS,
                .team_id = old_team,
                .skip_agent_id = ev.prev_assignee_id,
                .agent_frame = frame_wrap("conversation.updated", extra, "conversation", v.agent_json),
            };
            publish(app, &gone);
        }
        convo_views_free(&v);
    } else if (err != CHAT_E_NOT_FOUND) {
        log_warn("conversation change not delivered: the database is not reachable");
    }
    if (team)
        deliver_queue_positions(app, team);
    if (old_team && old_team != team)
        deliver_queue_positions(app, old_team);
}

static void send_position(const struct queue_position *p, void *arg)
{
    struct app *app = arg;
    if (!hub_has_visitor(app->hub, p->visitor_id))
        return;
    struct ws_frame *f = frame_json(json_pack("{s:s, s:I, s:I, s:I}", "type", "queue.position", "conversation_id",
                                              (json_int_t)p->conversation_id, "position", (json_int_t)p->position,
                                              "estimated_wait_seconds", (json_int_t)p->wait_seconds));
    if (f) {
        hub_send_visitor(app->hub, p->visitor_id, f);
        wsconn_frame_unref(f);
    }
}

void deliver_queue_positions(struct app *app, long long team_id)
{
    if (hub_has_visitors(app->hub) && queue_positions(app->db, team_id, send_position, app) != CHAT_OK)
        log_warn("queue positions not sent: the database is not reachable");
}

void deliver_queue_position_of(struct app *app, long long visitor_id)
{
    long long teams[16];
    int n = 0;
    if (queue_teams_of_visitor(app->db, visitor_id, teams, 16, &n) != CHAT_OK) {
        log_warn("queue position not sent: the database is not reachable");
        return;
    }
    for (int i = 0; i < n; i++)
        deliver_queue_positions(app, teams[i]);
}

static void dispatch_typing_or_read(struct app *app, json_t *p, int is_typing)
{
    const char *side = json_string_value(json_object_get(p, "side"));
    json_t *out;
    if (!side || (strcmp(side, "visitor") != 0 && strcmp(side, "agent") != 0))
        return;
    /* Typing an internal note or a whisper is not news for the visitor. */
    int to_visitor = strcmp(side, "agent") == 0 && !json_is_true(json_object_get(p, "i"));
    struct hub_event ev = {
        .audience = HUB_INVOLVED | HUB_PRIV_WATCHERS | (to_visitor ? HUB_VISITOR : 0),
        .visitor_id = json_integer_value(json_object_get(p, "v")),
        .team_id = json_integer_value(json_object_get(p, "t")),
        .assignee_id = json_integer_value(json_object_get(p, "a")),
    };
    participants_of(p, &ev);
    json_int_t conv = json_integer_value(json_object_get(p, "c"));
    if (is_typing) {
        out = json_pack("{s:s, s:I, s:s, s:b}", "type", "typing", "conversation_id", conv, "side", side, "on",
                        json_is_true(json_object_get(p, "on")));
        if (out && json_is_string(json_object_get(p, "n")))
            json_object_set(out, "name", json_object_get(p, "n"));
        /* The visitor hears the name; agents also which colleague, and
         * whether a note is typed (that one never reaches the visitor). */
        if (out && to_visitor)
            ev.visitor_frame = frame_json(json_copy(out));
        if (out && json_is_integer(json_object_get(p, "ai"))) {
            json_object_set(out, "agent_id", json_object_get(p, "ai"));
            json_object_set_new(out, "note", json_boolean(json_is_true(json_object_get(p, "i"))));
        }
    } else {
        /* The visitor learns that the agent read; agents learn both sides. */
        ev.audience |= HUB_VISITOR;
        out = json_pack("{s:s, s:I, s:s, s:I}", "type", "read", "conversation_id", conv, "side", side, "last_read_seq",
                        json_integer_value(json_object_get(p, "seq")));
    }
    ev.agent_frame = frame_json(out);
    /* A read marker: one text serves both sides, nothing in it is internal. */
    if (ev.agent_frame && !ev.visitor_frame && !is_typing && (ev.audience & HUB_VISITOR))
        ev.visitor_frame = wsconn_frame_ref(ev.agent_frame);
    publish(app, &ev);
}

/* {"e":"viewers","c","a","t","p","l":[{id,name,typing}]}: who has the
 * conversation open, for every agent who may see it. */
static void dispatch_viewers(struct app *app, json_t *p)
{
    json_t *list = json_object_get(p, "l");
    if (!json_is_array(list))
        return;
    struct hub_event ev = {
        .audience = HUB_INVOLVED | HUB_PRIV_WATCHERS | HUB_TEAM_WATCHERS,
        .team_id = json_integer_value(json_object_get(p, "t")),
        .assignee_id = json_integer_value(json_object_get(p, "a")),
    };
    participants_of(p, &ev);
    ev.agent_frame = frame_json(json_pack("{s:s, s:O, s:O}", "type", "conversation.viewers", "conversation_id",
                                          json_object_get(p, "c"), "viewers", list));
    publish(app, &ev);
}

void deliver_resync_all(struct app *app)
{
    static const char resync[] = "{\"type\":\"resync\"}";
    struct ws_frame *f = wsconn_frame_new(resync, sizeof(resync) - 1);
    if (f) {
        hub_broadcast(app->hub, f);
        wsconn_frame_unref(f);
    }
}

/* {"e":"session_off","ag":agent,"h":[hex, ...]} (or "h" one string): the
 * sockets opened with those sessions close with 4002. */
static void dispatch_sessions_off(struct app *app, json_t *p)
{
    json_t *h = json_object_get(p, "h"), *v;
    const char *hashes[100];
    size_t n = 0, i;
    if (json_is_string(h) && strlen(json_string_value(h)) == 64) {
        hashes[n++] = json_string_value(h);
    } else if (json_is_array(h)) {
        json_array_foreach(h, i, v)
        {
            if (n < sizeof(hashes) / sizeof(hashes[0]) && json_is_string(v) && strlen(json_string_value(v)) == 64)
                hashes[n++] = json_string_value(v);
        }
    }
    if (n > 0)
        hub_close_sessions(app->hub, json_integer_value(json_object_get(p, "ag")), hashes, n, PROTO_CLOSE_LOGGED_OUT,
                           "logged out");
}

/* Sends a text frame (not freed) to the sockets of a visitor (agent 0) or
 * agent; key (NULL: all of them) names the one that is a call's end. */
static void send_text(struct app *app, int agent, long long id, const char *key, const char *text)
{
    struct ws_frame *f = text && id > 0 ? wsconn_frame_new(text, strlen(text)) : NULL;
    if (!f)
        return;
    if (key)
        hub_send_call_end(app->hub, agent, id, key, f);
    else if (agent)
        hub_send_agent(app->hub, id, f);
    else
        hub_send_visitor(app->hub, id, f);
    wsconn_frame_unref(f);
}

/* {"e":"call"}: call.updated to the visitor's sockets and the agent's.
 * {"e":"sig","to","id","n","k","f"|"r"}: a signal for one socket, which
 * only its node has; a large one is read from its row by that node alone. */
static void dispatch_call(struct app *app, json_t *p, int signal)
{
    if (!signal) {
        send_text(app, 0, json_integer_value(json_object_get(p, "v")), NULL,
                  json_string_value(json_object_get(p, "fv")));
        send_text(app, 1, json_integer_value(json_object_get(p, "a")), NULL,
                  json_string_value(json_object_get(p, "fa")));
        return;
    }
    const char *node = json_string_value(json_object_get(p, "n"));
    const char *key = json_string_value(json_object_get(p, "k"));
    const char *to = json_string_value(json_object_get(p, "to"));
    long long id = json_integer_value(json_object_get(p, "id"));
    long long row = json_integer_value(json_object_get(p, "r"));
    char *loaded = NULL;
    if (!node || !key || !to || strcmp(node, app->node_id) != 0)
        return;
    if (row > 0 && calls_signal_frame(app, row, &loaded) != CHAT_OK)
        log_warn("a call signal was not relayed: the database is not reachable");
    send_text(app, strcmp(to, "agent") == 0, id, key, row > 0 ? loaded : json_string_value(json_object_get(p, "f")));
    free(loaded);
}

void deliver_notification(struct app *app, const char *payload)
{
    if (strncmp(payload, "M\n", 2) == 0) {
        if (hub_has_visitors(app->hub) || hub_has_agents(app->hub))
            dispatch_messages(app, payload + 2);
        return;
    }
    json_t *p = json_loads(payload, 0, NULL);
    const char *e = json_string_value(json_object_get(p, "e"));
    if (!e) {
        log_warn("bus: unreadable notification");
        json_decref(p);
        return;
    }
    if (strcmp(e, "conv") == 0) {
        dispatch_conversation(app, p);
    } else if (strcmp(e, "viewers") == 0) {
        if (hub_has_agents(app->hub))
            dispatch_viewers(app, p);
    } else if (strcmp(e, "typing") == 0) {
        dispatch_typing_or_read(app, p, 1);
    } else if (strcmp(e, "read") == 0) {
        dispatch_typing_or_read(app, p, 0);
    } else if (strcmp(e, "presence") == 0) {
        struct hub_event ev = {.audience = HUB_ALL_AGENTS};
        json_t *out = json_pack("{s:s, s:O, s:O, s:O}", "type", "agent.presence", "agent_id", json_object_get(p, "ag"),
                                "status", json_object_get(p, "st"), "connected", json_object_get(p, "cn"));
        if (out && json_is_string(json_object_get(p, "n")))
            json_object_set(out, "name", json_object_get(p, "n"));
        ev.agent_frame = frame_json(out);
        publish(app, &ev);
    } else if (strcmp(e, "session_off") == 0) {
        dispatch_sessions_off(app, p);
    } else if (strcmp(e, "agent_off") == 0) {
        hub_close_agent(app->hub, json_integer_value(json_object_get(p, "ag")), PROTO_CLOSE_AUTH_FIRST, "deactivated");
    } else if (strcmp(e, "agent_rights") == 0) {
        /* Closed, not patched: the console reconnects at once and rebuilds
         * every view from the new rights (architecture.md). */
        long long agent = json_integer_value(json_object_get(p, "ag"));
        if (agent > 0)
            hub_close_agent(app->hub, agent, PROTO_CLOSE_RIGHTS_CHANGED, "rights changed");
    } else if (strcmp(e, "invitation") == 0) {
        /* What became of an agent's invitation: to that agent only. */
        long long agent = json_integer_value(json_object_get(p, "ag"));
        json_t *inv = json_object_get(p, "i");
        if (agent > 0 && json_is_object(inv) && hub_agent_connections(app->hub, agent) > 0) {
            struct ws_frame *f = frame_json(json_pack("{s:s, s:O}", "type", "invitation.updated", "invitation", inv));
            if (f) {
                hub_send_agent(app->hub, agent, f);
                wsconn_frame_unref(f);
            }
        }
    } else if (strcmp(e, "call") == 0 || strcmp(e, "sig") == 0) {
        dispatch_call(app, p, e[0] == 's');
    } else if (strcmp(e, "site_identity") == 0) {
        long long site = json_integer_value(json_object_get(p, "s"));
        if (site > 0)
            hub_close_unverified(app->hub, site, PROTO_CLOSE_AUTH_REFUSED, PE_IDENTITY_REQUIRED);
    }
    json_decref(p);
}
