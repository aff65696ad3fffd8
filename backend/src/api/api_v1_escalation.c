/* REST API v1, several agents in one conversation and its triage:
 * participants (add, remove), escalate, and PATCH of a conversation's
 * priority and labels (conversations:write). Each through the same domain
 * function the sockets use (chat/participants, chat/triage) as a privileged
 * actor of kind api; the answer is {"conversation": ...} as agents see it. */
#include "api/api.h"
#include "api/api_common.h"
#include "chat/participants.h"
#include "chat/triage.h"
#include "core/jfield.h"
#include "http/bearer.h"
#include "http/params.h"
#include "live/proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The token's actor and the conversation of the path; -1 with the answer
 * sent. */
static int write_access(struct http_req *req, struct actor *a, long long *conv)
{
    struct apitoken t;
    if (bearer_require_scope(req, &t, APITOKEN_SCOPE_CONVERSATIONS_WRITE) != 0 ||
        params_path_id(req, "no such conversation", conv) != 0)
        return -1;
    api_token_actor(&t, a);
    return 0;
}

void api_v1_participant_add(struct http_req *req)
{
    static const char *const fields[] = {"agent_id", NULL};
    struct problem_field err;
    struct actor a;
    long long conv, agent = 0;
    json_t *doc, *result = NULL;
    if (write_access(req, &a, &conv) != 0 || !(doc = http_read_json(req)))
        return;
    if (jfield_only(doc, fields, &err) != 0 ||
        jfield_int(doc, "agent_id", JF_REQUIRED, 1, INT64_MAX, &agent, &err) != 0)
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
    else {
        enum chat_err e = participants_invite(req->app, &a, conv, agent, &result);
        api_answer_move(req, e, result, NULL);
    }
    json_decref(doc);
}

void api_v1_participant_remove(struct http_req *req)
{
    struct actor a;
    long long conv, agent;
    json_t *result = NULL;
    if (write_access(req, &a, &conv) != 0 || params_path_id_at(req, 1, "no such participant", &agent) != 0)
        return;
    enum chat_err e = participants_leave(req->app, &a, conv, agent, &result);
    api_answer_move(req, e, result, NULL);
}

void api_v1_escalate(struct http_req *req)
{
    static const char *const fields[] = {"agent_id", "team_id", "reason", "priority", NULL};
    static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
    struct problem_field err;
    struct actor a;
    long long conv, agent = 0, team = 0;
    const char *reason = NULL, *priority = NULL;
    json_t *doc, *result = NULL;
    if (write_access(req, &a, &conv) != 0 || !(doc = http_read_json(req)))
        return;
    if (jfield_only(doc, fields, &err) != 0 || jfield_int(doc, "agent_id", 0, 1, INT64_MAX, &agent, &err) != 0 ||
        jfield_int(doc, "team_id", 0, 1, INT64_MAX, &team, &err) != 0 ||
        jfield_string(doc, "reason", JF_TEXT, 0, PROTO_REASON_MAX, &reason, &err) != 0 ||
        jfield_enum(doc, "priority", 0, priorities, &priority, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
    } else if ((agent != 0) == (team != 0)) {
        params_invalid(req, "agent_id", "give exactly one of agent_id and team_id");
    } else {
        struct assign_work work = {.nteams = 0};
        enum chat_err e = participants_escalate(req->app, &a, conv, agent, team, reason,
                                                priority ? triage_priority_value(priority) : -1, &result, &work);
        api_answer_move(req, e, result, &work);
    }
    json_decref(doc);
}

void api_v1_conversation_update(struct http_req *req)
{
    static const char *const fields[] = {"priority", "label_ids", NULL};
    static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
    struct problem_field err;
    struct actor a;
    long long conv, *ids = NULL;
    int nids = -1;
    const char *priority = NULL;
    json_t *doc, *result = NULL;
    if (write_access(req, &a, &conv) != 0 || !(doc = http_read_json(req)))
        return;
    if (jfield_only(doc, fields, &err) != 0 || jfield_enum(doc, "priority", 0, priorities, &priority, &err) != 0 ||
        api_read_ids(doc, "label_ids", &ids, &nids, &err) != 0) {
        http_send_problem_fields(req, 400, "invalid_request", NULL, &err, 1);
    } else if (nids > TRIAGE_LABELS_MAX) {
        params_invalid(req, "label_ids", "a conversation carries at most 20 labels");
    } else if (!priority && nids < 0) {
        params_invalid(req, "priority", "give priority, label_ids or both");
    } else {
        enum chat_err e = CHAT_OK;
        if (priority)
            e = triage_set_priority(req->app, &a, conv, triage_priority_value(priority), &result);
        if (e == CHAT_OK && nids >= 0) {
            json_decref(result);
            result = NULL;
            e = triage_set_labels(req->app, &a, conv, ids, (size_t)nids, &result);
        }
        api_answer_move(req, e, result, NULL);
    }
    free(ids);
    json_decref(doc);
}
