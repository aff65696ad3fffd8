/* Unit tests for protocol validation: every malformed or oversized frame
 * gets its stable error code (and field), each role only its own types,
 * and good frames parse into the right fields. */
#include "live/proto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static const struct proto_limits limits = {.max_frame_bytes = 2048, .max_message_chars = 10};

static void expect_error(enum proto_role role, const char *frame, const char *code, const char *field)
{
    struct proto_msg m;
    struct proto_error e;
    if (proto_parse(frame, strlen(frame), role, &limits, &m, &e) == 0) {
        proto_msg_free(&m);
        fail_msg("accepted: %s", frame);
    }
    if (strcmp(e.code, code) != 0)
        fail_msg("%s: got %s, want %s", frame, e.code, code);
    if (field && (!e.field || strcmp(e.field, field) != 0))
        fail_msg("%s: field %s, want %s", frame, e.field ? e.field : "(none)", field);
}

static void test_envelope_errors(void **state)
{
    (void)state;
    expect_error(PROTO_VISITOR, "not json", PE_BAD_JSON, NULL);
    expect_error(PROTO_VISITOR, "[1,2]", PE_BAD_JSON, NULL);
    expect_error(PROTO_VISITOR, "{\"type\":\"ping\",\"type\":\"ping\"}", PE_BAD_JSON, NULL); /* duplicate keys */
    expect_error(PROTO_VISITOR, "{}", PE_INVALID_FIELD, "type");
    expect_error(PROTO_VISITOR, "{\"type\":5}", PE_INVALID_FIELD, "type");
    expect_error(PROTO_VISITOR, "{\"type\":\"nope\"}", PE_UNKNOWN_TYPE, "type");
    expect_error(PROTO_VISITOR, "{\"type\":\"ping\",\"id\":7}", PE_INVALID_FIELD, "id");
    expect_error(PROTO_VISITOR, "{\"type\":\"ping\",\"id\":\"\"}", PE_INVALID_FIELD, "id");
    expect_error(PROTO_VISITOR, "{\"type\":\"ping\",\"extra\":1}", PE_INVALID_FIELD, NULL);
    char big[4096];
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "{\"type\":\"ping\"}", 15);
    expect_error(PROTO_VISITOR, big, PE_FRAME_TOO_LARGE, NULL);
}

static void test_roles(void **state)
{
    (void)state;
    /* agent-only types are unknown to visitors, and the reverse */
    expect_error(PROTO_VISITOR, "{\"type\":\"conversation.accept\",\"conversation_id\":1}", PE_UNKNOWN_TYPE, "type");
    expect_error(PROTO_VISITOR, "{\"type\":\"note.send\",\"conversation_id\":1,\"client_msg_id\":\"a\",\"body\":\"x\"}",
                 PE_UNKNOWN_TYPE, "type");
    expect_error(PROTO_VISITOR, "{\"type\":\"status.set\",\"status\":\"online\"}", PE_UNKNOWN_TYPE, "type");
    expect_error(PROTO_AGENT, "{\"type\":\"conversation.start\"}", PE_UNKNOWN_TYPE, "type");
}

static void test_message_send_errors(void **state)
{
    (void)state;
    expect_error(PROTO_VISITOR, "{\"type\":\"message.send\",\"client_msg_id\":\"a\",\"body\":\"x\"}", PE_INVALID_FIELD,
                 "conversation_id");
    expect_error(PROTO_VISITOR,
                 "{\"type\":\"message.send\",\"conversation_id\":\"1\",\"client_msg_id\":\"a\",\"body\":\"x\"}",
                 PE_INVALID_FIELD, "conversation_id");
    expect_error(PROTO_VISITOR,
                 "{\"type\":\"message.send\",\"conversation_id\":0,\"client_msg_id\":\"a\",\"body\":\"x\"}",
                 PE_INVALID_FIELD, "conversation_id");
    expect_error(PROTO_VISITOR, "{\"type\":\"message.send\",\"conversation_id\":1,\"body\":\"x\"}", PE_INVALID_FIELD,
                 "client_msg_id");
    expect_error(PROTO_VISITOR,
                 "{\"type\":\"message.send\",\"conversation_id\":1,\"client_msg_id\":\"a b\",\"body\":\"x\"}",
                 PE_INVALID_FIELD, "client_msg_id");
    expect_error(PROTO_VISITOR, "{\"type\":\"message.send\",\"conversation_id\":1,\"client_msg_id\":\"a\"}",
                 PE_INVALID_FIELD, "body");
    expect_error(PROTO_VISITOR,
                 "{\"type\":\"message.send\",\"conversation_id\":1,\"client_msg_id\":\"a\",\"body\":\"\"}",
                 PE_INVALID_FIELD, "body");
    expect_error(PROTO_VISITOR,
                 "{\"type\":\"message.send\",\"conversation_id\":1,\"client_msg_id\":\"a\",\"body\":\" \\n \"}",
                 PE_INVALID_FIELD, "body");
    expect_error(PROTO_VISITOR,
                 "{\"type\":\"message.send\",\"conversation_id\":1,\"client_msg_id\":\"a\",\"body\":\"12345678901\"}",
                 PE_MESSAGE_TOO_LONG, "body");
    /* an escaped NUL is refused by the JSON reader itself */
    expect_error(PROTO_VISITOR,
                 "{\"type\":\"message.send\",\"conversation_id\":1,\"client_msg_id\":\"a\",\"body\":\"a\\u0000b\"}",
                 PE_BAD_JSON, NULL);
    expect_error(PROTO_VISITOR,
                 "{\"type\":\"message.send\",\"conversation_id\":1,\"client_msg_id\":\"a\",\"body\":\"a\\u0007b\"}",
                 PE_INVALID_FIELD, "body");
}

static void test_other_types_errors(void **state)
{
    (void)state;
    expect_error(PROTO_VISITOR, "{\"type\":\"typing\",\"conversation_id\":1}", PE_INVALID_FIELD, "on");
    expect_error(PROTO_VISITOR, "{\"type\":\"typing\",\"conversation_id\":1,\"on\":1}", PE_INVALID_FIELD, "on");
    expect_error(PROTO_VISITOR, "{\"type\":\"read\",\"conversation_id\":1,\"seq\":-1}", PE_INVALID_FIELD, "seq");
    expect_error(PROTO_VISITOR, "{\"type\":\"sync\",\"conversation_id\":1}", PE_INVALID_FIELD, "after_seq");
    expect_error(PROTO_VISITOR, "{\"type\":\"sync\",\"conversation_id\":1,\"after_seq\":0,\"limit\":501}",
                 PE_INVALID_FIELD, "limit");
    expect_error(PROTO_VISITOR, "{\"type\":\"conversation.start\",\"page_url\":\"javascript:alert(1)\"}",
                 PE_INVALID_FIELD, "page_url");
    expect_error(PROTO_VISITOR, "{\"type\":\"conversation.start\",\"prechat\":[1]}", PE_INVALID_FIELD, "prechat");
    expect_error(PROTO_VISITOR, "{\"type\":\"conversation.start\",\"prechat\":{\"name\":1}}", PE_INVALID_FIELD,
                 "prechat");
    expect_error(PROTO_AGENT, "{\"type\":\"status.set\",\"status\":\"busy\"}", PE_INVALID_FIELD, "status");
    expect_error(PROTO_AGENT, "{\"type\":\"conversation.transfer\",\"conversation_id\":1}", PE_INVALID_FIELD,
                 "to_agent_id");
    expect_error(PROTO_AGENT,
                 "{\"type\":\"conversation.transfer\",\"conversation_id\":1,\"to_agent_id\":2,\"to_team_id\":3}",
                 PE_INVALID_FIELD, "to_agent_id");
    expect_error(PROTO_AGENT, "{\"type\":\"auth\",\"csrf_token\":5}", PE_INVALID_FIELD, "csrf_token");
}

static void test_good_frames(void **state)
{
    struct proto_msg m;
    struct proto_error e;
    const char *f1 = "{\"type\":\"message.send\",\"id\":\"r1\",\"conversation_id\":42,\"client_msg_id\":\"c-1\","
                     "\"body\":\"hé\\nworld\"}";
    (void)state;
    assert_int_equal(proto_parse(f1, strlen(f1), PROTO_VISITOR, &limits, &m, &e), 0);
    assert_int_equal(m.type, PT_MESSAGE_SEND);
    assert_string_equal(m.id, "r1");
    assert_int_equal(m.conversation_id, 42);
    assert_string_equal(m.client_msg_id, "c-1");
    assert_string_equal(m.body, "hé\nworld");
    proto_msg_free(&m);

    const char *f2 = "{\"type\":\"sync\",\"conversation_id\":3,\"after_seq\":7}";
    assert_int_equal(proto_parse(f2, strlen(f2), PROTO_AGENT, &limits, &m, &e), 0);
    assert_int_equal(m.after_seq, 7);
    assert_int_equal(m.limit, PROTO_SYNC_LIMIT_MAX);
    assert_null(m.id);
    proto_msg_free(&m);

    const char *f3 =
        "{\"type\":\"conversation.transfer\",\"conversation_id\":3,\"to_team_id\":2,\"reason\":\"billing\"}";
    assert_int_equal(proto_parse(f3, strlen(f3), PROTO_AGENT, &limits, &m, &e), 0);
    assert_int_equal(m.to_team_id, 2);
    assert_int_equal(m.to_agent_id, 0);
    assert_string_equal(m.reason, "billing");
    proto_msg_free(&m);

    const char *f4 = "{\"type\":\"conversation.start\",\"prechat\":{\"name\":\"Vic\",\"Order #\":\"123\"},"
                     "\"page_url\":\"https://shop.example/p\"}";
    assert_int_equal(proto_parse(f4, strlen(f4), PROTO_VISITOR, &limits, &m, &e), 0);
    assert_string_equal(json_string_value(json_object_get(m.prechat, "Order #")), "123");
    proto_msg_free(&m);
}

/* The text policy at the protocol's edge: free text loses unpaired bidi
 * controls, the visitor's name and email are cleaned, keys are refused. */
static void test_text_policy(void **state)
{
    struct proto_msg m;
    struct proto_error e;
    (void)state;
    /* \u202e (RLO) without its PDF is removed from a body; a paired one stays */
    const char *f1 = "{\"type\":\"message.send\",\"conversation_id\":1,\"client_msg_id\":\"a\","
                     "\"body\":\"\\u202egnp \\u2067x\\u2069\"}";
    assert_int_equal(proto_parse(f1, strlen(f1), PROTO_VISITOR, &limits, &m, &e), 0);
    assert_string_equal(m.body, "gnp \xE2\x81\xA7x\xE2\x81\xA9");
    proto_msg_free(&m);
    /* a body of nothing but invisible characters is empty */
    expect_error(
        PROTO_VISITOR,
        "{\"type\":\"message.send\",\"conversation_id\":1,\"client_msg_id\":\"a\",\"body\":\"\\u200b\\u202e\"}",
        PE_INVALID_FIELD, "body");
    const char *f2 = "{\"type\":\"conversation.rate\",\"conversation_id\":1,\"rating\":\"bad\","
                     "\"comment\":\"ok\\u2069\\u202eevil\"}";
    assert_int_equal(proto_parse(f2, strlen(f2), PROTO_VISITOR, &limits, &m, &e), 0);
    assert_string_equal(m.comment, "okevil");
    proto_msg_free(&m);
    /* the visitor's name and email are cleaned, not refused */
    const char *f3 = "{\"type\":\"visitor.update\",\"name\":\" \\u202egnp.exe\\u200f\",\"email\":\"v\\u200b@x.io\","
                     "\"attributes\":{\"plan\":\"\\u202epro\"}}";
    assert_int_equal(proto_parse(f3, strlen(f3), PROTO_VISITOR, &limits, &m, &e), 0);
    assert_string_equal(m.name, "gnp.exe");
    assert_string_equal(m.email, "v@x.io");
    assert_string_equal(json_string_value(json_object_get(m.attributes, "plan")), "pro");
    proto_msg_free(&m);
    /* a name with nothing visible is no name */
    const char *f4 = "{\"type\":\"visitor.update\",\"name\":\"\\u3164\\u200b\"}";
    assert_int_equal(proto_parse(f4, strlen(f4), PROTO_VISITOR, &limits, &m, &e), 0);
    assert_null(m.name);
    proto_msg_free(&m);
    expect_error(PROTO_VISITOR, "{\"type\":\"visitor.update\",\"attributes\":{\"a\\u202eb\":1}}", PE_INVALID_FIELD,
                 "attributes");
    /* pre-chat: name and email cleaned (dropped when blank), answers balanced */
    const char *f5 = "{\"type\":\"conversation.start\",\"prechat\":{\"name\":\"\\u2066Vic\\u2069\\u202e\","
                     "\"email\":\"\\u200b\",\"order\":\"\\u202b42\"}}";
    assert_int_equal(proto_parse(f5, strlen(f5), PROTO_VISITOR, &limits, &m, &e), 0);
    assert_string_equal(json_string_value(json_object_get(m.prechat, "name")), "Vic");
    assert_null(json_object_get(m.prechat, "email"));
    assert_string_equal(json_string_value(json_object_get(m.prechat, "order")), "42");
    proto_msg_free(&m);
    expect_error(PROTO_VISITOR, "{\"type\":\"conversation.start\",\"prechat\":{\"\\u200bname\":\"x\"}}",
                 PE_INVALID_FIELD, "prechat");
    const char *f6 =
        "{\"type\":\"conversation.transfer\",\"conversation_id\":3,\"to_team_id\":2,\"reason\":\"x\\u202c\"}";
    assert_int_equal(proto_parse(f6, strlen(f6), PROTO_AGENT, &limits, &m, &e), 0);
    assert_string_equal(m.reason, "x");
    proto_msg_free(&m);
}

static void expect_ok(enum proto_role role, const char *frame, struct proto_msg *m)
{
    struct proto_error e;
    if (proto_parse(frame, strlen(frame), role, &limits, m, &e) != 0)
        fail_msg("refused (%s %s): %s", e.code, e.field ? e.field : "", frame);
}

static void test_call_frames(void **state)
{
    static const struct proto_limits wide = {.max_frame_bytes = 65536, .max_message_chars = 10};
    struct proto_msg m;
    struct proto_error e;
    (void)state;
    expect_ok(PROTO_AGENT, "{\"type\":\"call.start\",\"conversation_id\":3,\"media\":\"video\"}", &m);
    assert_int_equal(m.type, PT_CALL_START);
    assert_int_equal(m.conversation_id, 3);
    assert_string_equal(m.media, "video");
    proto_msg_free(&m);
    expect_error(PROTO_VISITOR, "{\"type\":\"call.start\",\"conversation_id\":3,\"media\":\"screen\"}",
                 PE_INVALID_FIELD, "media");
    expect_error(PROTO_VISITOR, "{\"type\":\"call.accept\"}", PE_INVALID_FIELD, "call_id");
    expect_error(PROTO_VISITOR, "{\"type\":\"call.hangup\",\"call_id\":0}", PE_INVALID_FIELD, "call_id");

    expect_ok(PROTO_VISITOR,
              "{\"type\":\"call.signal\",\"call_id\":9,\"description\":{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}}",
              &m);
    assert_int_equal(m.type, PT_CALL_SIGNAL);
    assert_int_equal(m.call_id, 9);
    assert_string_equal(m.signal_kind, "description");
    proto_msg_free(&m);
    expect_ok(PROTO_VISITOR, "{\"type\":\"call.signal\",\"call_id\":9,\"candidate\":null}", &m);
    assert_true(json_is_null(m.signal));
    proto_msg_free(&m);
    expect_ok(PROTO_AGENT, "{\"type\":\"call.signal\",\"call_id\":9,\"control\":{\"kind\":\"screen_request\"}}", &m);
    proto_msg_free(&m);
    /* Only an agent asks for the screen; a media control says all three. */
    expect_error(PROTO_VISITOR, "{\"type\":\"call.signal\",\"call_id\":9,\"control\":{\"kind\":\"screen_request\"}}",
                 PE_INVALID_FIELD, "control");
    expect_error(PROTO_AGENT,
                 "{\"type\":\"call.signal\",\"call_id\":9,\"control\":{\"kind\":\"media\",\"audio\":true}}",
                 PE_INVALID_FIELD, "control");
    expect_error(PROTO_AGENT, "{\"type\":\"call.signal\",\"call_id\":9}", PE_INVALID_FIELD, NULL);
    expect_error(PROTO_AGENT,
                 "{\"type\":\"call.signal\",\"call_id\":9,\"candidate\":{\"candidate\":\"a\",\"sdpMLineIndex\":65}}",
                 PE_INVALID_FIELD, "candidate");
    expect_error(PROTO_AGENT,
                 "{\"type\":\"call.signal\",\"call_id\":9,\"description\":{\"type\":\"rollback\",\"sdp\":\"\"}}",
                 PE_INVALID_FIELD, "description");

    /* The SDP's limit is 32768 bytes, whatever the frame's. */
    static char frame[40000];
    const char *head = "{\"type\":\"call.signal\",\"call_id\":9,\"description\":{\"type\":\"offer\",\"sdp\":\"";
    size_t n = strlen(head);
    memcpy(frame, head, n);
    memset(frame + n, 'a', PROTO_SDP_MAX);
    strcpy(frame + n + PROTO_SDP_MAX, "\"}}");
    assert_int_equal(proto_parse(frame, strlen(frame), PROTO_AGENT, &wide, &m, &e), 0);
    proto_msg_free(&m);
    memset(frame + n, 'a', PROTO_SDP_MAX + 1);
    strcpy(frame + n + PROTO_SDP_MAX + 1, "\"}}");
    assert_int_equal(proto_parse(frame, strlen(frame), PROTO_AGENT, &wide, &m, &e), -1);
    assert_string_equal(e.code, PE_INVALID_FIELD);
    assert_string_equal(e.field, "description");
}

static void test_error_frame(void **state)
{
    (void)state;
    char *s = proto_error_frame("r9", PE_RATE_LIMITED, "slow down", NULL);
    json_t *doc = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "error");
    assert_string_equal(json_string_value(json_object_get(doc, "id")), "r9");
    assert_string_equal(json_string_value(json_object_get(doc, "code")), "rate_limited");
    json_decref(doc);
    free(s);
    s = proto_error_frame(NULL, PE_BAD_JSON, "x", "body");
    doc = json_loads(s, 0, NULL);
    assert_true(json_is_null(json_object_get(doc, "id")) || !json_object_get(doc, "id"));
    assert_string_equal(json_string_value(json_object_get(doc, "field")), "body");
    json_decref(doc);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_errors),     cmocka_unit_test(test_roles),
        cmocka_unit_test(test_message_send_errors), cmocka_unit_test(test_other_types_errors),
        cmocka_unit_test(test_good_frames),         cmocka_unit_test(test_text_policy),
        cmocka_unit_test(test_error_frame),         cmocka_unit_test(test_call_frames),
    };
    return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
