#include "live/proto.h"

#include "core/jfield.h"
#include "core/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ROLE_V    1u
#define ROLE_A    2u
#define ROLE_BOTH (ROLE_V | ROLE_A)

struct type_spec {
    const char *name;
    enum proto_type type;
    unsigned roles;
    const char *const *fields; /* allowed keys besides "type" and "id" */
};

static const char *const f_none[] = {"type", "id", NULL};
static const char *const f_auth[] = {"type", "id", "token", "csrf_token", NULL};
static const char *const f_start[] = {"type",     "id",      "prechat",       "page_url",
                                      "referrer", "offline", "invitation_id", NULL};
static const char *const f_invitation[] = {"type", "id", "invitation_id", NULL};
static const char *const f_rate[] = {"type", "id", "conversation_id", "rating", "comment", NULL};
static const char *const f_visitor[] = {"type", "id", "name", "email", "attributes", "page_url", NULL};
static const char *const f_send[] = {"type", "id", "conversation_id", "client_msg_id", "body", "attachments", NULL};
static const char *const f_note[] = {"type", "id",          "conversation_id", "client_msg_id",
                                     "body", "attachments", "whisper",         NULL};
static const char *const f_typing[] = {"type", "id", "conversation_id", "on", "note", NULL};
static const char *const f_invite[] = {"type", "id", "conversation_id", "agent_id", NULL};
static const char *const f_escalate[] = {"type",       "id",     "conversation_id", "to_agent_id",
                                         "to_team_id", "reason", "priority",        NULL};
static const char *const f_priority[] = {"type", "id", "conversation_id", "priority", NULL};
static const char *const f_labels[] = {"type", "id", "conversation_id", "label_ids", NULL};
static const char *const f_view[] = {"type", "id", "conversation_id", "on", NULL};
static const char *const f_read[] = {"type", "id", "conversation_id", "seq", NULL};
static const char *const f_sync[] = {"type", "id", "conversation_id", "after_seq", "limit", NULL};
static const char *const f_conv[] = {"type", "id", "conversation_id", NULL};
static const char *const f_transfer[] = {"type", "id", "conversation_id", "to_agent_id", "to_team_id", "reason", NULL};
static const char *const f_status[] = {"type", "id", "status", NULL};
static const char *const f_call_start[] = {"type", "id", "conversation_id", "media", NULL};
static const char *const f_call[] = {"type", "id", "call_id", NULL};
static const char *const f_call_signal[] = {"type", "id", "call_id", "description", "candidate", "control", NULL};

static const struct type_spec types[] = {
    {"auth", PT_AUTH, ROLE_BOTH, f_auth},
    {"ping", PT_PING, ROLE_BOTH, f_none},
    {"conversation.start", PT_CONVERSATION_START, ROLE_V, f_start},
    {"message.send", PT_MESSAGE_SEND, ROLE_BOTH, f_send},
    {"note.send", PT_NOTE_SEND, ROLE_A, f_note},
    {"typing", PT_TYPING, ROLE_BOTH, f_typing},
    {"read", PT_READ, ROLE_BOTH, f_read},
    {"sync", PT_SYNC, ROLE_BOTH, f_sync},
    {"conversation.close", PT_CONVERSATION_CLOSE, ROLE_BOTH, f_conv},
    {"conversation.reopen", PT_CONVERSATION_REOPEN, ROLE_A, f_conv},
    {"conversation.accept", PT_CONVERSATION_ACCEPT, ROLE_A, f_conv},
    {"conversation.transfer", PT_CONVERSATION_TRANSFER, ROLE_A, f_transfer},
    {"status.set", PT_STATUS_SET, ROLE_A, f_status},
    {"queue.subscribe", PT_QUEUE_SUBSCRIBE, ROLE_A, f_none},
    {"conversations.list", PT_CONVERSATIONS_LIST, ROLE_BOTH, f_none},
    {"conversation.rate", PT_CONVERSATION_RATE, ROLE_V, f_rate},
    {"visitor.update", PT_VISITOR_UPDATE, ROLE_V, f_visitor},
    {"conversation.invite", PT_CONVERSATION_INVITE, ROLE_A, f_invite},
    {"conversation.join", PT_CONVERSATION_JOIN, ROLE_A, f_conv},
    {"conversation.leave", PT_CONVERSATION_LEAVE, ROLE_A, f_conv},
    {"conversation.take", PT_CONVERSATION_TAKE, ROLE_A, f_conv},
    {"conversation.escalate", PT_CONVERSATION_ESCALATE, ROLE_A, f_escalate},
    {"conversation.set_priority", PT_CONVERSATION_PRIORITY, ROLE_A, f_priority},
    {"conversation.set_labels", PT_CONVERSATION_LABELS, ROLE_A, f_labels},
    {"conversation.view", PT_CONVERSATION_VIEW, ROLE_A, f_view},
    {"board.get", PT_BOARD_GET, ROLE_A, f_none},
    {"invitation.get", PT_INVITATION_GET, ROLE_V, f_none},
    {"invitation.dismiss", PT_INVITATION_DISMISS, ROLE_V, f_invitation},
    {"call.start", PT_CALL_START, ROLE_BOTH, f_call_start},
    {"call.accept", PT_CALL_ACCEPT, ROLE_BOTH, f_call},
    {"call.decline", PT_CALL_DECLINE, ROLE_BOTH, f_call},
    {"call.hangup", PT_CALL_HANGUP, ROLE_BOTH, f_call},
    {"call.rejoin", PT_CALL_REJOIN, ROLE_BOTH, f_call},
    {"call.signal", PT_CALL_SIGNAL, ROLE_BOTH, f_call_signal},
};

const char *proto_type_name(enum proto_type type)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (types[i].type == type)
            return types[i].name;
    return "unknown";
}

static int fail(struct proto_error *err, const char *code, const char *field, const char *message)
{
    err->code = code;
    err->field = field;
    err->message = message;
    return -1;
}

static int fail_field(struct proto_error *err, const struct problem_field *f)
{
    return fail(err, PE_INVALID_FIELD, f->field, f->message);
}

static int need_conversation(json_t *root, struct proto_msg *m, struct proto_error *err)
{
    struct problem_field f;
    if (jfield_int(root, "conversation_id", JF_REQUIRED, 1, INT64_MAX, &m->conversation_id, &f) != 0)
        return fail_field(err, &f);
    return 0;
}

/* A client_msg_id is an opaque client key: printable ASCII keeps it safe to
 * log and to echo. */
static int valid_client_key(const char *s)
{
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return 0;
    return 1;
}

static int parse_body(json_t *root, const struct proto_limits *lim, struct proto_msg *m, struct proto_error *err)
{
    struct problem_field f;
    json_t *body = json_object_get(root, "body");
    if (need_conversation(root, m, err) != 0)
        return -1;
    if (jfield_string(root, "client_msg_id", JF_REQUIRED, 1, PROTO_ID_MAX, &m->client_msg_id, &f) != 0)
        return fail_field(err, &f);
    if (!valid_client_key(m->client_msg_id))
        return fail(err, PE_INVALID_FIELD, "client_msg_id", "must be printable ASCII without spaces");
    /* Length is its own code so that clients can tell the user exactly why. */
    if (json_is_string(body)) {
        long chars = text_utf8_chars(json_string_value(body), json_string_length(body));
        if (chars > lim->max_message_chars)
            return fail(err, PE_MESSAGE_TOO_LONG, "body", "the message is too long");
    }
    const char *why = messages_file_ids(json_object_get(root, "attachments"), m->file_ids, &m->nfiles);
    if (why)
        return fail(err, PE_INVALID_FIELD, "attachments", why);
    /* With files the text may be empty (a picture says it all). */
    if (jfield_string(root, "body", JF_REQUIRED | JF_MULTILINE | JF_TEXT, m->nfiles ? 0 : 1, lim->max_message_chars,
                      &m->body, &f) != 0)
        return fail_field(err, &f);
    /* Only white space or invisible characters is no message at all. */
    if (!m->nfiles && text_ident_blank(m->body, strlen(m->body)))
        return fail(err, PE_INVALID_FIELD, "body", "must not be empty");
    return 0;
}

static int parse_url_field(json_t *root, const char *key, const char **out, struct proto_error *err)
{
    struct problem_field f;
    if (jfield_string(root, key, 0, 0, PROTO_URL_MAX, out, &f) != 0)
        return fail_field(err, &f);
    if (*out && **out && strncmp(*out, "http://", 7) != 0 && strncmp(*out, "https://", 8) != 0)
        return fail(err, PE_INVALID_FIELD, key, "must be an http or https URL");
    return 0;
}

/* A key of attributes or prechat: shown to agents as a label, so an
 * identifier (text_ident_error) of 1 to 64 characters. */
static int valid_key(const char *key)
{
    long chars = text_utf8_chars(key, strlen(key));
    return chars >= 1 && chars <= 64 && !text_ident_error(key, strlen(key));
}

/* attributes: a flat object of strings, numbers and booleans set by the
 * site (plan, order count ...); shown to agents as text. String values are
 * free text (JF_TEXT). */
static int parse_attributes(json_t *root, struct proto_msg *m, struct proto_error *err)
{
    json_t *obj = json_object_get(root, "attributes");
    const char *key;
    json_t *v;
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return fail(err, PE_INVALID_FIELD, "attributes", "must be an object");
    if (json_object_size(obj) > PROTO_ATTR_MAX_KEYS)
        return fail(err, PE_INVALID_FIELD, "attributes", "has too many keys");
    json_object_foreach(obj, key, v)
    {
        if (!valid_key(key))
            return fail(err, PE_INVALID_FIELD, "attributes", "has an invalid key");
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            size_t n = json_string_length(v);
            if (strlen(s) != n || text_has_controls(s, n, 0) || text_utf8_chars(s, n) > PROTO_ATTR_VALUE_MAX)
                return fail(err, PE_INVALID_FIELD, "attributes", "has a value that is too long or not plain text");
            if (!jfield_normalise(obj, key, JF_TEXT))
                return fail(err, PE_INTERNAL, "attributes", "could not be stored");
        } else if (!json_is_number(v) && !json_is_boolean(v) && !json_is_null(v)) {
            return fail(err, PE_INVALID_FIELD, "attributes", "values must be strings, numbers or booleans");
        }
    }
    m->attributes = obj;
    return 0;
}

/* prechat: a flat object of short strings (name, email, custom fields).
 * "name" and "email" become the visitor's, so they are identifiers from a
 * visitor (JF_NAME_CLEAN; one with nothing visible left is dropped); the
 * other answers are free text (JF_TEXT). */
static int parse_prechat(json_t *root, struct proto_msg *m, struct proto_error *err)
{
    json_t *pre = json_object_get(root, "prechat");
    const char *key;
    json_t *v, *tmp;
    if (!pre || json_is_null(pre))
        return 0;
    if (!json_is_object(pre))
        return fail(err, PE_INVALID_FIELD, "prechat", "must be an object");
    if (json_object_size(pre) > PROTO_PRECHAT_MAX_FIELDS)
        return fail(err, PE_INVALID_FIELD, "prechat", "has too many fields");
    json_object_foreach_safe(pre, tmp, key, v)
    {
        if (!valid_key(key))
            return fail(err, PE_INVALID_FIELD, "prechat", "has an invalid field name");
        if (!json_is_string(v))
            return fail(err, PE_INVALID_FIELD, "prechat", "values must be strings");
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (strlen(s) != n || text_has_controls(s, n, 1) || text_utf8_chars(s, n) > PROTO_PRECHAT_VALUE_MAX)
            return fail(err, PE_INVALID_FIELD, "prechat", "has a value that is too long or not plain text");
        int ident = strcmp(key, "name") == 0 || strcmp(key, "email") == 0;
        if (!(s = jfield_normalise(pre, key, ident ? JF_NAME_CLEAN : JF_TEXT)))
            return fail(err, PE_INTERNAL, "prechat", "could not be stored");
        if (ident && text_ident_blank(s, strlen(s)))
            json_object_del(pre, key); /* nothing visible: as if not given */
    }
    m->prechat = pre;
    return 0;
}

/* label_ids: the complete set, 0..PROTO_LABELS_MAX distinct positive ids. */
static int parse_label_ids(json_t *root, struct proto_msg *m, struct proto_error *err)
{
    json_t *ids = json_object_get(root, "label_ids"), *v;
    size_t i;
    if (!json_is_array(ids))
        return fail(err, PE_INVALID_FIELD, "label_ids", "must be an array of label ids");
    if (json_array_size(ids) > PROTO_LABELS_MAX)
        return fail(err, PE_INVALID_FIELD, "label_ids", "has more than 20 labels");
    json_array_foreach(ids, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return fail(err, PE_INVALID_FIELD, "label_ids", "must be an array of label ids");
        for (size_t j = 0; j < m->nlabels; j++)
            if (m->label_ids[j] == json_integer_value(v))
                return fail(err, PE_INVALID_FIELD, "label_ids", "names a label twice");
        m->label_ids[m->nlabels++] = json_integer_value(v);
    }
    return 0;
}

/* A string of at most max bytes of printable ASCII (and, multiline, CR LF
 * and tab): what SDP and ICE lines are made of (RFC 8866, RFC 8839). */
static int signal_string(json_t *v, size_t max, int multiline)
{
    if (!json_is_string(v) || json_string_length(v) > max)
        return 0;
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    for (size_t i = 0, n = json_string_length(v); i < n; i++)
        if ((s[i] < 0x20 && !(multiline && (s[i] == '\r' || s[i] == '\n' || s[i] == '\t'))) || s[i] >= 0x7f)
            return 0;
    return 1;
}

static int null_or(json_t *v, int ok)
{
    return !v || json_is_null(v) || ok;
}

/* call.signal: exactly one of description {type offer|answer, sdp},
 * candidate (null: end of candidates; or {candidate, sdpMid,
 * sdpMLineIndex, usernameFragment}) and control ({kind:"media", audio,
 * video, screen} or, from an agent, {kind:"screen_request"}). Relayed as
 * checked here, so every key is known and every value bounded. */
static int parse_signal(json_t *root, enum proto_role role, struct proto_msg *m, struct proto_error *err)
{
    static const char *const k_description[] = {"type", "sdp", NULL};
    static const char *const k_candidate[] = {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment", NULL};
    static const char *const k_control[] = {"kind", "audio", "video", "screen", NULL};
    static const char *const kinds[] = {"description", "candidate", "control"};
    struct problem_field f;
    json_t *v, *x;
    int n = 0;
    if (jfield_int(root, "call_id", JF_REQUIRED, 1, INT64_MAX, &m->call_id, &f) != 0)
        return fail_field(err, &f);
    for (int i = 0; i < 3; i++)
        if (json_object_get(root, kinds[i])) {
            m->signal_kind = kinds[i];
            n++;
        }
    if (n != 1)
        return fail(err, PE_INVALID_FIELD, NULL, "give exactly one of description, candidate and control");
    v = m->signal = json_object_get(root, m->signal_kind);
    if (strcmp(m->signal_kind, "description") == 0) {
        const char *type = json_string_value(json_object_get(v, "type"));
        if (!json_is_object(v) || jfield_only(v, k_description, &f) != 0 || !type ||
            (strcmp(type, "offer") != 0 && strcmp(type, "answer") != 0))
            return fail(err, PE_INVALID_FIELD, "description", "must be {type: offer|answer, sdp}");
        if (!signal_string(json_object_get(v, "sdp"), PROTO_SDP_MAX, 1))
            return fail(err, PE_INVALID_FIELD, "description", "sdp must be SDP text of at most 32768 bytes");
        return 0;
    }
    if (strcmp(m->signal_kind, "candidate") == 0) {
        if (json_is_null(v))
            return 0;
        x = json_object_get(v, "sdpMLineIndex");
        if (!json_is_object(v) || jfield_only(v, k_candidate, &f) != 0 ||
            !signal_string(json_object_get(v, "candidate"), PROTO_CANDIDATE_MAX, 0) ||
            !null_or(json_object_get(v, "sdpMid"), signal_string(json_object_get(v, "sdpMid"), 64, 0)) ||
            !null_or(x, json_is_integer(x) && json_integer_value(x) >= 0 && json_integer_value(x) <= 64) ||
            !null_or(json_object_get(v, "usernameFragment"),
                     signal_string(json_object_get(v, "usernameFragment"), 256, 0)))
            return fail(err, PE_INVALID_FIELD, "candidate",
                        "must be null or {candidate, sdpMid, sdpMLineIndex, usernameFragment} within their limits");
        return 0;
    }
    const char *kind = json_string_value(json_object_get(v, "kind"));
    if (!json_is_object(v) || jfield_only(v, k_control, &f) != 0 || !kind)
        return fail(err, PE_INVALID_FIELD, "control", "must be {kind, ...}");
    if (strcmp(kind, "screen_request") == 0 && role == PROTO_AGENT && json_object_size(v) == 1)
        return 0;
    if (strcmp(kind, "media") == 0 && !jfield_bool(v, "audio", JF_REQUIRED, &n, &f) &&
        !jfield_bool(v, "video", JF_REQUIRED, &n, &f) && !jfield_bool(v, "screen", JF_REQUIRED, &n, &f))
        return 0;
    return fail(err, PE_INVALID_FIELD, "control",
                "must be {kind: media, audio, video, screen} or, from an agent, {kind: screen_request}");
}

static int parse_fields(json_t *root, const struct type_spec *spec, const struct proto_limits *lim,
                        enum proto_role role, struct proto_msg *m, struct proto_error *err)
{
    static const char *const media[] = {"audio", "video", NULL};
    static const char *const statuses[] = {"online", "away", "offline", NULL};
    static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
    struct problem_field f;
    int on = 0;
    switch (spec->type) {
    case PT_AUTH:
        if (jfield_string(root, "token", 0, 1, 128, &m->token, &f) != 0 ||
            jfield_string(root, "csrf_token", 0, 1, 128, &m->csrf_token, &f) != 0)
            return fail_field(err, &f);
        return 0;
    case PT_PING:
    case PT_BOARD_GET:
    case PT_INVITATION_GET:
    case PT_QUEUE_SUBSCRIBE:
    case PT_CONVERSATIONS_LIST:
        return 0;
    case PT_CONVERSATION_START:
        if (parse_url_field(root, "page_url", &m->page_url, err) != 0 ||
            parse_url_field(root, "referrer", &m->referrer, err) != 0)
            return -1;
        if (jfield_bool(root, "offline", 0, &on, &f) != 0 ||
            jfield_int(root, "invitation_id", 0, 1, INT64_MAX, &m->invitation_id, &f) != 0)
            return fail_field(err, &f);
        m->offline = on;
        return parse_prechat(root, m, err);
    case PT_MESSAGE_SEND:
        return parse_body(root, lim, m, err);
    case PT_NOTE_SEND:
        if (jfield_bool(root, "whisper", 0, &m->whisper, &f) != 0)
            return fail_field(err, &f);
        return parse_body(root, lim, m, err);
    case PT_TYPING:
    case PT_CONVERSATION_VIEW:
        if (need_conversation(root, m, err) != 0)
            return -1;
        if (jfield_bool(root, "on", JF_REQUIRED, &on, &f) != 0 || jfield_bool(root, "note", 0, &m->internal, &f) != 0)
            return fail_field(err, &f);
        m->on = on;
        return 0;
    case PT_CONVERSATION_INVITE:
        if (need_conversation(root, m, err) != 0)
            return -1;
        if (jfield_int(root, "agent_id", JF_REQUIRED, 1, INT64_MAX, &m->agent_id, &f) != 0)
            return fail_field(err, &f);
        return 0;
    case PT_CONVERSATION_JOIN:
    case PT_CONVERSATION_LEAVE:
    case PT_CONVERSATION_TAKE:
        return need_conversation(root, m, err);
    case PT_INVITATION_DISMISS:
        if (jfield_int(root, "invitation_id", JF_REQUIRED, 1, INT64_MAX, &m->invitation_id, &f) != 0)
            return fail_field(err, &f);
        return 0;
    case PT_CONVERSATION_ESCALATE:
        if (need_conversation(root, m, err) != 0)
            return -1;
        if (jfield_int(root, "to_agent_id", 0, 1, INT64_MAX, &m->to_agent_id, &f) != 0 ||
            jfield_int(root, "to_team_id", 0, 1, INT64_MAX, &m->to_team_id, &f) != 0 ||
            jfield_string(root, "reason", JF_TEXT, 0, PROTO_REASON_MAX, &m->reason, &f) != 0 ||
            jfield_enum(root, "priority", 0, priorities, &m->priority, &f) != 0)
            return fail_field(err, &f);
        if ((m->to_agent_id != 0) == (m->to_team_id != 0))
            return fail(err, PE_INVALID_FIELD, "to_agent_id", "give exactly one of to_agent_id and to_team_id");
        return 0;
    case PT_CONVERSATION_PRIORITY:
        if (need_conversation(root, m, err) != 0)
            return -1;
        if (jfield_enum(root, "priority", JF_REQUIRED, priorities, &m->priority, &f) != 0)
            return fail_field(err, &f);
        return 0;
    case PT_CONVERSATION_LABELS:
        if (need_conversation(root, m, err) != 0)
            return -1;
        return parse_label_ids(root, m, err);
    case PT_READ:
        if (need_conversation(root, m, err) != 0)
            return -1;
        if (jfield_int(root, "seq", JF_REQUIRED, 0, INT64_MAX, &m->seq, &f) != 0)
            return fail_field(err, &f);
        return 0;
    case PT_SYNC:
        m->limit = PROTO_SYNC_LIMIT_MAX;
        if (need_conversation(root, m, err) != 0)
            return -1;
        if (jfield_int(root, "after_seq", JF_REQUIRED, 0, INT64_MAX, &m->after_seq, &f) != 0 ||
            jfield_int(root, "limit", 0, 1, PROTO_SYNC_LIMIT_MAX, &m->limit, &f) != 0)
            return fail_field(err, &f);
        return 0;
    case PT_CONVERSATION_CLOSE:
    case PT_CONVERSATION_REOPEN:
    case PT_CONVERSATION_ACCEPT:
        return need_conversation(root, m, err);
    case PT_CONVERSATION_TRANSFER:
        if (need_conversation(root, m, err) != 0)
            return -1;
        if (jfield_int(root, "to_agent_id", 0, 1, INT64_MAX, &m->to_agent_id, &f) != 0 ||
            jfield_int(root, "to_team_id", 0, 1, INT64_MAX, &m->to_team_id, &f) != 0 ||
            jfield_string(root, "reason", JF_TEXT, 0, PROTO_REASON_MAX, &m->reason, &f) != 0)
            return fail_field(err, &f);
        if ((m->to_agent_id != 0) == (m->to_team_id != 0))
            return fail(err, PE_INVALID_FIELD, "to_agent_id", "give exactly one of to_agent_id and to_team_id");
        return 0;
    case PT_CONVERSATION_RATE: {
        static const char *const ratings[] = {"good", "bad", NULL};
        if (need_conversation(root, m, err) != 0)
            return -1;
        if (jfield_enum(root, "rating", JF_REQUIRED, ratings, &m->rating, &f) != 0 ||
            jfield_string(root, "comment", JF_MULTILINE | JF_TEXT, 0, PROTO_COMMENT_MAX, &m->comment, &f) != 0)
            return fail_field(err, &f);
        return 0;
    }
    case PT_VISITOR_UPDATE:
        /* The visitor's own name and email: cleaned, never refused (the
         * page or the visitor cannot tell what is invisible in them). */
        if (jfield_string(root, "name", JF_NAME_CLEAN, 1, 200, &m->name, &f) != 0 ||
            jfield_string(root, "email", JF_NAME_CLEAN, 3, 254, &m->email, &f) != 0)
            return fail_field(err, &f);
        if (m->email && (!strchr(m->email, '@') || strpbrk(m->email, " <>\"'")))
            return fail(err, PE_INVALID_FIELD, "email", "must be an email address");
        if (parse_url_field(root, "page_url", &m->page_url, err) != 0)
            return -1;
        return parse_attributes(root, m, err);
    case PT_STATUS_SET:
        if (jfield_enum(root, "status", JF_REQUIRED, statuses, &m->status, &f) != 0)
            return fail_field(err, &f);
        return 0;
    case PT_CALL_START:
        if (need_conversation(root, m, err) != 0)
            return -1;
        if (jfield_enum(root, "media", JF_REQUIRED, media, &m->media, &f) != 0)
            return fail_field(err, &f);
        return 0;
    case PT_CALL_ACCEPT:
    case PT_CALL_DECLINE:
    case PT_CALL_HANGUP:
    case PT_CALL_REJOIN:
        if (jfield_int(root, "call_id", JF_REQUIRED, 1, INT64_MAX, &m->call_id, &f) != 0)
            return fail_field(err, &f);
        return 0;
    case PT_CALL_SIGNAL:
        return parse_signal(root, role, m, err);
    }
    return fail(err, PE_UNKNOWN_TYPE, "type", "unknown message type");
}

int proto_parse(const char *text, size_t len, enum proto_role role, const struct proto_limits *limits,
                struct proto_msg *out, struct proto_error *err)
{
    struct problem_field f;
    const char *type = NULL;
    const struct type_spec *spec = NULL;
    json_t *root;
    unsigned role_bit = role == PROTO_VISITOR ? ROLE_V : ROLE_A;

    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    if ((long)len > limits->max_frame_bytes)
        return fail(err, PE_FRAME_TOO_LARGE, NULL, "the frame is too large");
    root = jfield_parse(text, len);
    if (!root)
        return fail(err, PE_BAD_JSON, NULL,
                    "the frame is not valid JSON (or nests deeper than " JFIELD_MAX_DEPTH_TEXT " levels)");
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(err, PE_BAD_JSON, NULL, "the frame must be a JSON object");
    }
    /* Read the id first so that every later error can carry it. */
    if (jfield_string(root, "id", 0, 1, PROTO_ID_MAX, &out->id, &f) != 0) {
        json_decref(root);
        return fail(err, PE_INVALID_FIELD, "id", "must be a string of 1 to 64 characters");
    }
    if (out->id)
        strcpy(err->id, out->id);
    if (jfield_string(root, "type", JF_REQUIRED, 1, 32, &type, &f) != 0) {
        json_decref(root);
        return fail(err, PE_INVALID_FIELD, "type", f.message);
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i].name, type) == 0 && (types[i].roles & role_bit))
            spec = &types[i];
    if (!spec) {
        json_decref(root);
        return fail(err, PE_UNKNOWN_TYPE, "type", "unknown message type");
    }
    if (jfield_only(root, spec->fields, &f) != 0) {
        /* the key points into root: report the generic field name */
        json_decref(root);
        return fail(err, PE_INVALID_FIELD, NULL, "the frame has a field this type does not take");
    }
    out->type = spec->type;
    out->root = root;
    if (parse_fields(root, spec, limits, role, out, err) != 0) {
        out->root = NULL;
        json_decref(root);
        return -1;
    }
    return 0;
}

void proto_msg_free(struct proto_msg *msg)
{
    json_decref(msg->root);
    msg->root = NULL;
}

char *proto_error_frame(const char *id, const char *code, const char *message, const char *field)
{
    json_t *doc = json_pack("{s:s, s:s?, s:s, s:s}", "type", "error", "id", id, "code", code, "message", message);
    char *out = NULL;
    if (!doc)
        return NULL;
    if (field)
        json_object_set_new(doc, "field", json_string(field));
    out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return out;
}
