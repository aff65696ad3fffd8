/* Unit tests for the rule engine: every operator and every field, all/any,
 * fields the snapshot lacks, numbers and booleans compared as JSON text,
 * ASCII-only case folding, the substring search against a naive one and on
 * text that makes a naive one slow; validation errors with their field
 * paths, the limits exactly at and past their bounds, and hostile documents
 * (thousands of conditions, values nested 100,000 deep) refused by
 * validation and never matched. JSON is written with ' for " below. */
#include "chat/rules.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RLO "\xE2\x80\xAE"
#define PDF "\xE2\x80\xAC"
#define E_A "\xC3\xA9" /* é, two bytes */

/* text with ' for ", parsed (NUL escapes allowed: the engine must see them). */
static json_t *doc(const char *text)
{
    char *s = strdup(text);
    json_t *d;
    json_error_t e;
    assert_non_null(s);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    d = json_loads(s, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
    if (!d)
        fail_msg("bad test JSON: %s in %s", e.text, s);
    free(s);
    return d;
}

/* unit repeated n times, as a string (under 16 KB), for long values. */
static const char *repeat(const char *unit, size_t n)
{
    static char buf[16384];
    size_t u = strlen(unit);
    assert_true(u * n < sizeof(buf));
    for (size_t i = 0; i < n; i++)
        memcpy(buf + i * u, unit, u);
    buf[u * n] = '\0';
    return buf;
}

static const char *const CONV =
    "{'trigger':'conversation.created','page_url':'https://Example.com/Pricing?plan=pro',"
    "'referrer':'https://www.google.com/search','language':'de-DE','country':'DE',"
    "'prechat':{'email':'ana@example.com','plan':'Pro','seats':42,'vip':true,'ratio':1.5,'none':null,"
    "'blank':'','obj':{'a':1},'arr':[1]},"
    "'attributes':{'tier':'Gold','age':30,'beta':false},'labels':[3,7],'business_hours':'open'}";

static const char *const MSG = "{'trigger':'message.created','message':'I want a REFUND, please',"
                               "'page_url':'https://example.com/account','labels':[],'business_hours':'closed'}";

/* The rule {trigger, conditions:[cond], actions:[close]} must validate; then
 * whether it matches ctx. */
static int holds_on(const char *trigger, const char *cond, const char *ctx_text)
{
    char text[20000], field[RULES_FIELD_MAX], reason[RULES_REASON_MAX];
    json_t *rule, *ctx = doc(ctx_text);
    int r;
    snprintf(text, sizeof(text), "{'trigger':'%s','conditions':[%s],'actions':[{'type':'close'}]}", trigger, cond);
    rule = doc(text);
    if (rules_validate(rule, field, sizeof(field), reason, sizeof(reason)) != 0)
        fail_msg("%s refused: %s %s", cond, field, reason);
    r = rules_match(rule, ctx);
    json_decref(rule);
    json_decref(ctx);
    return r;
}

static int holds(const char *cond)
{
    return holds_on("conversation.created", cond, CONV);
}

static int holds_msg(const char *cond)
{
    return holds_on("message.created", cond, MSG);
}

static void test_text_ops(void **state)
{
    (void)state;
    /* equals / not_equals: whole value, ASCII case folded */
    assert_int_equal(holds("{'field':'country','op':'equals','value':'de'}"), 1);
    assert_int_equal(holds("{'field':'country','op':'equals','value':'D'}"), 0);
    assert_int_equal(holds("{'field':'country','op':'not_equals','value':'fr'}"), 1);
    assert_int_equal(holds("{'field':'country','op':'not_equals','value':'De'}"), 0);
    /* contains / not_contains */
    assert_int_equal(holds("{'field':'page_url','op':'contains','value':'/pricing'}"), 1);
    assert_int_equal(holds("{'field':'page_url','op':'contains','value':'/pricing/'}"), 0);
    assert_int_equal(holds("{'field':'page_url','op':'not_contains','value':'/checkout'}"), 1);
    assert_int_equal(holds("{'field':'page_url','op':'not_contains','value':'EXAMPLE.COM'}"), 0);
    /* starts_with / ends_with, including the whole value and one byte more */
    assert_int_equal(holds("{'field':'page_url','op':'starts_with','value':'HTTPS://example'}"), 1);
    assert_int_equal(holds("{'field':'page_url','op':'starts_with','value':'http://'}"), 0);
    assert_int_equal(holds("{'field':'page_url','op':'starts_with','value':'https://example.com/pricing?plan=pro'}"),
                     1);
    assert_int_equal(holds("{'field':'page_url','op':'starts_with','value':'https://example.com/pricing?plan=pro!'}"),
                     0);
    assert_int_equal(holds("{'field':'page_url','op':'ends_with','value':'PLAN=PRO'}"), 1);
    assert_int_equal(holds("{'field':'page_url','op':'ends_with','value':'plan=pr'}"), 0);
    assert_int_equal(holds("{'field':'page_url','op':'ends_with','value':'xhttps://example.com/pricing?plan=pro'}"), 0);
    /* in: equality with any item */
    assert_int_equal(holds("{'field':'language','op':'in','value':['fr-FR','DE-de']}"), 1);
    assert_int_equal(holds("{'field':'language','op':'in','value':['de','de-DE-x']}"), 0);
    /* is_set / is_not_set */
    assert_int_equal(holds("{'field':'referrer','op':'is_set'}"), 1);
    assert_int_equal(holds("{'field':'referrer','op':'is_not_set'}"), 0);
}

static void test_each_field(void **state)
{
    (void)state;
    assert_int_equal(holds("{'field':'page_url','op':'contains','value':'pricing'}"), 1);
    assert_int_equal(holds("{'field':'referrer','op':'contains','value':'google.'}"), 1);
    assert_int_equal(holds("{'field':'referrer','op':'contains','value':'bing.'}"), 0);
    assert_int_equal(holds("{'field':'language','op':'starts_with','value':'de'}"), 1);
    assert_int_equal(holds("{'field':'country','op':'in','value':['AT','DE','CH']}"), 1);
    assert_int_equal(holds_msg("{'field':'message','op':'contains','value':'refund'}"), 1);
    assert_int_equal(holds_msg("{'field':'message','op':'contains','value':'invoice'}"), 0);
    assert_int_equal(holds("{'field':'prechat.email','op':'ends_with','value':'@EXAMPLE.com'}"), 1);
    assert_int_equal(holds("{'field':'prechat.plan','op':'equals','value':'pro'}"), 1);
    assert_int_equal(holds("{'field':'attribute.tier','op':'equals','value':'gold'}"), 1);
    assert_int_equal(holds("{'field':'attribute.tier','op':'equals','value':'silver'}"), 0);
    /* prechat and attributes are separate objects */
    assert_int_equal(holds("{'field':'attribute.plan','op':'is_set'}"), 0);
    assert_int_equal(holds("{'field':'prechat.tier','op':'is_set'}"), 0);
    /* label: includes / excludes an id */
    assert_int_equal(holds("{'field':'label','op':'includes','value':7}"), 1);
    assert_int_equal(holds("{'field':'label','op':'includes','value':4}"), 0);
    assert_int_equal(holds("{'field':'label','op':'excludes','value':4}"), 1);
    assert_int_equal(holds("{'field':'label','op':'excludes','value':3}"), 0);
    assert_int_equal(holds_msg("{'field':'label','op':'includes','value':3}"), 0); /* no labels */
    /* business_hours */
    assert_int_equal(holds("{'field':'business_hours','op':'equals','value':'open'}"), 1);
    assert_int_equal(holds("{'field':'business_hours','op':'equals','value':'closed'}"), 0);
    assert_int_equal(holds_msg("{'field':'business_hours','op':'equals','value':'closed'}"), 1);
}

static void test_case_folding_is_ascii_only(void **state)
{
    const char *ctx = "{'trigger':'conversation.created','page_url':'/STRASSE/" E_A "t" E_A "/\\u00c4RGER'}";
    (void)state;
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'contains','value':'strasse'}", ctx),
                     1);
    /* é matches itself byte for byte */
    assert_int_equal(
        holds_on("conversation.created", "{'field':'page_url','op':'contains','value':'/" E_A "T" E_A "/'}", ctx), 1);
    /* Ä (U+00C4) is not folded to ä (U+00E4): only ASCII letters are */
    assert_int_equal(
        holds_on("conversation.created", "{'field':'page_url','op':'ends_with','value':'\\u00e4rger'}", ctx), 0);
    assert_int_equal(
        holds_on("conversation.created", "{'field':'page_url','op':'ends_with','value':'\\u00c4rger'}", ctx), 1);
    /* the fold does not equate letters with the bytes 32 below them ('@' vs '`', '[' vs '{') */
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'contains','value':'[STRASSE'}",
                              "{'trigger':'conversation.created','page_url':'{strasse'}"),
                     0);
}

static void test_missing_fields(void **state)
{
    const char *bare = "{'trigger':'conversation.created'}";
    (void)state;
    /* a missing field is "" for text operators */
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'not_contains','value':'x'}", bare), 1);
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'not_equals','value':'x'}", bare), 1);
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'contains','value':'x'}", bare), 0);
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'equals','value':'x'}", bare), 0);
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'starts_with','value':'x'}", bare), 0);
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'ends_with','value':'x'}", bare), 0);
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'in','value':['x']}", bare), 0);
    /* ... and not set */
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'is_set'}", bare), 0);
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'is_not_set'}", bare), 1);
    assert_int_equal(holds_on("conversation.created", "{'field':'prechat.email','op':'is_not_set'}", bare), 1);
    assert_int_equal(
        holds_on("conversation.created", "{'field':'attribute.tier','op':'not_contains','value':'x'}", bare), 1);
    /* null, an empty string, an object or an array count as missing */
    assert_int_equal(holds("{'field':'prechat.none','op':'is_set'}"), 0);
    assert_int_equal(holds("{'field':'prechat.blank','op':'is_set'}"), 0);
    assert_int_equal(holds("{'field':'prechat.blank','op':'is_not_set'}"), 1);
    assert_int_equal(holds("{'field':'prechat.obj','op':'is_set'}"), 0);
    assert_int_equal(holds("{'field':'prechat.arr','op':'not_contains','value':'1'}"), 1);
    /* the message text on a message without one */
    assert_int_equal(holds_on("message.created", "{'field':'message','op':'not_contains','value':'x'}",
                              "{'trigger':'message.created'}"),
                     1);
    /* no labels, no business hours: a label is excluded, hours are neither */
    assert_int_equal(holds_on("conversation.created", "{'field':'label','op':'excludes','value':1}", bare), 1);
    assert_int_equal(holds_on("conversation.created", "{'field':'label','op':'includes','value':1}", bare), 0);
    assert_int_equal(holds_on("conversation.created", "{'field':'business_hours','op':'equals','value':'open'}", bare),
                     0);
    assert_int_equal(
        holds_on("conversation.created", "{'field':'business_hours','op':'equals','value':'closed'}", bare), 0);
    /* wrong types in the snapshot are missing too */
    const char *odd = "{'trigger':'conversation.created','page_url':7,'prechat':'x','attributes':[1],"
                      "'labels':{'3':3},'business_hours':true}";
    assert_int_equal(holds_on("conversation.created", "{'field':'prechat.x','op':'is_set'}", odd), 0);
    assert_int_equal(holds_on("conversation.created", "{'field':'attribute.x','op':'is_set'}", odd), 0);
    assert_int_equal(holds_on("conversation.created", "{'field':'label','op':'includes','value':3}", odd), 0);
    assert_int_equal(holds_on("conversation.created", "{'field':'business_hours','op':'equals','value':'open'}", odd),
                     0);
    assert_int_equal(holds_on("conversation.created", "{'field':'page_url','op':'equals','value':'7'}", odd), 1);
}

static void test_numbers_and_booleans_as_json_text(void **state)
{
    (void)state;
    assert_int_equal(holds("{'field':'prechat.seats','op':'equals','value':'42'}"), 1);
    assert_int_equal(holds("{'field':'prechat.seats','op':'starts_with','value':'4'}"), 1);
    assert_int_equal(holds("{'field':'prechat.seats','op':'in','value':['41','42']}"), 1);
    assert_int_equal(holds("{'field':'prechat.seats','op':'is_set'}"), 1);
    assert_int_equal(holds("{'field':'prechat.vip','op':'equals','value':'true'}"), 1);
    assert_int_equal(holds("{'field':'prechat.vip','op':'equals','value':'TRUE'}"), 1);
    assert_int_equal(holds("{'field':'prechat.ratio','op':'equals','value':'1.5'}"), 1);
    assert_int_equal(holds("{'field':'attribute.age','op':'equals','value':'30'}"), 1);
    assert_int_equal(holds("{'field':'attribute.beta','op':'equals','value':'false'}"), 1);
    assert_int_equal(holds("{'field':'attribute.beta','op':'is_set'}"), 1); /* false is a value */
}

static void test_all_and_any(void **state)
{
    const char *yes = "{'field':'country','op':'equals','value':'DE'}";
    const char *no = "{'field':'country','op':'equals','value':'FR'}";
    char text[1024];
    json_t *ctx = doc(CONV), *rule;
    const struct {
        const char *match, *a, *b;
        int want;
    } cases[] = {
        {"", yes, yes, 1},
        {"", yes, no, 0},
        {"", no, yes, 0},
        {",'match':'all'", yes, yes, 1},
        {",'match':'all'", no, yes, 0},
        {",'match':'any'", no, yes, 1},
        {",'match':'any'", yes, no, 1},
        {",'match':'any'", no, no, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text),
                 "{'trigger':'conversation.created'%s,'conditions':[%s,%s],'actions':[{'type':'close'}]}",
                 cases[i].match, cases[i].a, cases[i].b);
        rule = doc(text);
        assert_int_equal(rules_validate(rule, NULL, 0, NULL, 0), 0);
        assert_int_equal(rules_match(rule, ctx), cases[i].want);
        json_decref(rule);
    }
    /* no conditions: the trigger alone decides, in either mode */
    rule = doc("{'trigger':'conversation.created','match':'any','conditions':[],'actions':[{'type':'close'}]}");
    assert_int_equal(rules_match(rule, ctx), 1);
    json_decref(rule);
    rule = doc("{'trigger':'conversation.created','actions':[{'type':'close'}]}");
    assert_int_equal(rules_match(rule, ctx), 1);
    json_decref(rule);
    json_decref(ctx);
}

static void test_trigger_must_equal(void **state)
{
    json_t *rule = doc("{'trigger':'message.created','actions':[{'type':'add_note','body':'hi'}]}");
    json_t *msg = doc(MSG), *conv = doc(CONV), *none = doc("{'page_url':'x'}"), *odd = doc("{'trigger':5}");
    (void)state;
    assert_int_equal(rules_match(rule, msg), 1);
    assert_int_equal(rules_match(rule, conv), 0);
    assert_int_equal(rules_match(rule, none), 0);
    assert_int_equal(rules_match(rule, odd), 0);
    assert_int_equal(rules_match(rule, NULL), 0);
    assert_int_equal(rules_match(NULL, msg), 0);
    json_decref(rule);
    json_decref(msg);
    json_decref(conv);
    json_decref(none);
    json_decref(odd);
}

static int naive_contains(const char *hay, const char *needle)
{
    size_t hn = strlen(hay), nn = strlen(needle);
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn && (hay[i + k] | 0x20) == (needle[k] | 0x20)) /* letters only below */
            k++;
        if (k == nn)
            return 1;
    }
    return 0;
}

/* The substring search against a plain one, on short strings over a tiny
 * alphabet where prefixes repeat (what a failure table gets wrong first). */
static void test_contains_agrees_with_naive(void **state)
{
    const char alphabet[] = "aAbB";
    char hay[41], needle[8];
    unsigned seed = 12345;
    (void)state;
    for (int round = 0; round < 20000; round++) {
        size_t hn = (size_t)(rand_r(&seed) % 41), nn = 1 + (size_t)(rand_r(&seed) % 7);
        for (size_t i = 0; i < hn; i++)
            hay[i] = alphabet[rand_r(&seed) % 4];
        hay[hn] = '\0';
        for (size_t i = 0; i < nn; i++)
            needle[i] = alphabet[rand_r(&seed) % 4];
        needle[nn] = '\0';
        json_t *rule =
            json_pack("{s:s, s:[{s:s, s:s, s:s}], s:[{s:s}]}", "trigger", "conversation.created", "conditions", "field",
                      "page_url", "op", "contains", "value", needle, "actions", "type", "close");
        json_t *ctx = json_pack("{s:s, s:s}", "trigger", "conversation.created", "page_url", hay);
        assert_non_null(rule);
        assert_non_null(ctx);
        if (rules_match(rule, ctx) != naive_contains(hay, needle))
            fail_msg("contains(%s, %s)", hay, needle);
        json_decref(rule);
        json_decref(ctx);
    }
}

/* A visitor's 64 KB of "aaa..." against a 500-byte "aaa...ab": linear time
 * (a plain scan would compare 32 million bytes; this does 130 thousand). */
static void test_contains_is_linear(void **state)
{
    size_t hn = 64 * 1024;
    char *hay = malloc(hn + 2), needle[RULES_MAX_VALUE_BYTES + 1];
    struct timespec t0, t1;
    (void)state;
    assert_non_null(hay);
    memset(hay, 'a', hn);
    hay[hn] = '\0';
    memset(needle, 'A', RULES_MAX_VALUE_BYTES - 1);
    needle[RULES_MAX_VALUE_BYTES - 1] = 'b';
    needle[RULES_MAX_VALUE_BYTES] = '\0';
    json_t *rule = json_pack("{s:s, s:[{s:s, s:s, s:s}], s:[{s:s}]}", "trigger", "message.created", "conditions",
                             "field", "message", "op", "contains", "value", needle, "actions", "type", "close");
    json_t *ctx = json_pack("{s:s, s:s}", "trigger", "message.created", "message", hay);
    assert_non_null(rule);
    assert_non_null(ctx);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(rules_match(rule, ctx), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* 20 rounds: well under a second even under a sanitizer (a plain scan
     * takes several seconds there) */
    assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
    json_decref(ctx);
    hay[hn] = 'B'; /* now it ends with "aaa...ab" */
    hay[hn + 1] = '\0';
    ctx = json_pack("{s:s, s:s}", "trigger", "message.created", "message", hay);
    assert_int_equal(rules_match(rule, ctx), 1);
    json_decref(ctx);
    json_decref(rule);
    free(hay);
}

/* rule must be refused at field with reason, and never match. */
static void refused(const char *rule_text, const char *field, const char *reason)
{
    char f[RULES_FIELD_MAX], r[RULES_REASON_MAX];
    json_t *rule = doc(rule_text), *ctx = doc(CONV), *msg = doc(MSG);
    strcpy(f, "(unset)");
    strcpy(r, "(unset)");
    if (rules_validate(rule, f, sizeof(f), r, sizeof(r)) != -1)
        fail_msg("accepted: %s", rule_text);
    if (strcmp(f, field) != 0 || strcmp(r, reason) != 0)
        fail_msg("%s: got '%s' '%s', want '%s' '%s'", rule_text, f, r, field, reason);
    assert_int_equal(rules_match(rule, ctx), 0);
    assert_int_equal(rules_match(rule, msg), 0);
    json_decref(rule);
    json_decref(ctx);
    json_decref(msg);
}

/* A rule with one condition (and a close), refused at field with reason. */
static void cond_refused(const char *cond, const char *field, const char *reason)
{
    char text[24000];
    snprintf(text, sizeof(text), "{'trigger':'conversation.created','conditions':[%s],'actions':[{'type':'close'}]}",
             cond);
    refused(text, field, reason);
}

/* A rule with these actions, refused at field with reason. */
static void actions_refused(const char *acts, const char *field, const char *reason)
{
    char text[24000];
    snprintf(text, sizeof(text), "{'trigger':'conversation.created','actions':[%s]}", acts);
    refused(text, field, reason);
}

static void accepted(const char *rule_text)
{
    char f[RULES_FIELD_MAX] = "", r[RULES_REASON_MAX] = "";
    json_t *rule = doc(rule_text);
    if (rules_validate(rule, f, sizeof(f), r, sizeof(r)) != 0)
        fail_msg("refused: %s: %s %s", rule_text, f, r);
    json_decref(rule);
}

static void test_rule_shape_refused(void **state)
{
    (void)state;
    refused("[]", "", "must be an object");
    refused("'rule'", "", "must be an object");
    refused("{'trigger':'conversation.created','actions':[{'type':'close'}],'name':'x'}", "name",
            "is not a known field");
    refused("{'trigger':'conversation.created','actions':[{'type':'close'}],'na me':1}", "",
            "has a key that is not a known field");
    refused("{'actions':[{'type':'close'}]}", "trigger", "is required");
    refused("{'trigger':'visitor.left','actions':[{'type':'close'}]}", "trigger", "has a value that is not allowed");
    refused("{'trigger':['message.created'],'actions':[{'type':'close'}]}", "trigger", "must be a string");
    refused("{'trigger':'message.created','match':'most','actions':[{'type':'close'}]}", "match",
            "has a value that is not allowed");
    refused("{'trigger':'message.created','conditions':{},'actions':[{'type':'close'}]}", "conditions",
            "must be an array");
    refused("{'trigger':'message.created'}", "actions", "is required");
    refused("{'trigger':'message.created','actions':null}", "actions", "is required");
    refused("{'trigger':'message.created','actions':{'type':'close'}}", "actions", "must be an array");
    refused("{'trigger':'message.created','actions':[]}", "actions", "must not be empty");
}

static void test_condition_refused(void **state)
{
    (void)state;
    cond_refused("'page_url'", "conditions[0]", "must be an object");
    cond_refused("{'field':'page_url','op':'is_set','values':'x'}", "conditions[0].values", "is not a known field");
    cond_refused("{'op':'is_set'}", "conditions[0].field", "is required");
    cond_refused("{'field':'page_url'}", "conditions[0].op", "is required");
    cond_refused("{'field':'url','op':'is_set'}", "conditions[0].field", "is not a known field");
    cond_refused("{'field':'Page_url','op':'is_set'}", "conditions[0].field", "is not a known field");
    cond_refused("{'field':'prechat','op':'is_set'}", "conditions[0].field", "is not a known field");
    cond_refused("{'field':'prechat.','op':'is_set'}", "conditions[0].field",
                 "has an invalid key (1 to 64 of A-Z a-z 0-9 _ . -)");
    cond_refused("{'field':'attribute.a b','op':'is_set'}", "conditions[0].field",
                 "has an invalid key (1 to 64 of A-Z a-z 0-9 _ . -)");
    cond_refused("{'field':'attribute.\\u00e9','op':'is_set'}", "conditions[0].field",
                 "has an invalid key (1 to 64 of A-Z a-z 0-9 _ . -)");
    char text[20000];
    snprintf(text, sizeof(text), "{'field':'prechat.%s','op':'is_set'}", repeat("k", 65));
    cond_refused(text, "conditions[0].field", "has an invalid key (1 to 64 of A-Z a-z 0-9 _ . -)");
    snprintf(text, sizeof(text),
             "{'trigger':'message.created','conditions':[{'field':'prechat.%s','op':'is_set'}],"
             "'actions':[{'type':'close'}]}",
             repeat("k", 64));
    accepted(text);
    /* message text only on message.created */
    cond_refused("{'field':'message','op':'contains','value':'x'}", "conditions[0].field",
                 "is only for message.created");
    /* operators of another field */
    cond_refused("{'field':'page_url','op':'includes','value':3}", "conditions[0].op", "is not allowed for this field");
    cond_refused("{'field':'label','op':'contains','value':'vip'}", "conditions[0].op",
                 "is not allowed for this field");
    cond_refused("{'field':'label','op':'equals','value':3}", "conditions[0].op", "is not allowed for this field");
    cond_refused("{'field':'business_hours','op':'not_equals','value':'open'}", "conditions[0].op",
                 "is not allowed for this field");
    cond_refused("{'field':'country','op':'like','value':'d%'}", "conditions[0].op", "is not allowed for this field");
    cond_refused("{'field':'country','op':'EQUALS','value':'de'}", "conditions[0].op", "is not allowed for this field");
    /* text values */
    cond_refused("{'field':'country','op':'equals'}", "conditions[0].value", "is required");
    cond_refused("{'field':'country','op':'equals','value':null}", "conditions[0].value", "is required");
    cond_refused("{'field':'country','op':'equals','value':''}", "conditions[0].value", "must not be empty");
    cond_refused("{'field':'country','op':'equals','value':49}", "conditions[0].value", "must be a string");
    cond_refused("{'field':'country','op':'equals','value':['de']}", "conditions[0].value", "must be a string");
    cond_refused("{'field':'country','op':'equals','value':'d\\u0000e'}", "conditions[0].value",
                 "must not contain NUL characters");
    cond_refused("{'field':'country','op':'equals','value':'d\\u001be'}", "conditions[0].value",
                 "must not contain control characters");
    snprintf(text, sizeof(text), "{'field':'page_url','op':'contains','value':'%s'}", repeat("a", 501));
    cond_refused(text, "conditions[0].value", "is too long");
    /* 251 two-byte characters: 502 bytes, the bound is in bytes */
    char big[20000];
    snprintf(big, sizeof(big), "{'field':'page_url','op':'contains','value':'%s'}", repeat(E_A, 251));
    cond_refused(big, "conditions[0].value", "is too long");
    cond_refused("{'field':'page_url','op':'is_set','value':'x'}", "conditions[0].value",
                 "must not be given for this operator");
    cond_refused("{'field':'page_url','op':'is_not_set','value':null}", "conditions[0].value",
                 "must not be given for this operator");
    /* in lists */
    cond_refused("{'field':'country','op':'in'}", "conditions[0].value", "is required");
    cond_refused("{'field':'country','op':'in','value':null}", "conditions[0].value", "is required");
    cond_refused("{'field':'country','op':'in','value':'de'}", "conditions[0].value", "must be an array of strings");
    cond_refused("{'field':'country','op':'in','value':[]}", "conditions[0].value", "must not be empty");
    cond_refused("{'field':'country','op':'in','value':['de','at',3]}", "conditions[0].value[2]", "must be a string");
    cond_refused("{'field':'country','op':'in','value':['de','']}", "conditions[0].value[1]", "must not be empty");
    char list[4096] = "{'field':'country','op':'in','value':['x'";
    for (int i = 1; i < 51; i++)
        strcat(list, ",'x'");
    strcat(list, "]}");
    cond_refused(list, "conditions[0].value", "has too many items (at most 50)");
    /* label ids */
    cond_refused("{'field':'label','op':'includes'}", "conditions[0].value", "is required");
    cond_refused("{'field':'label','op':'includes','value':-1}", "conditions[0].value", "is out of range");
    cond_refused("{'field':'label','op':'includes','value':0}", "conditions[0].value", "is out of range");
    cond_refused("{'field':'label','op':'includes','value':'3'}", "conditions[0].value", "must be an integer");
    cond_refused("{'field':'label','op':'excludes','value':3.0}", "conditions[0].value", "must be an integer");
    /* business hours */
    cond_refused("{'field':'business_hours','op':'equals','value':'Open'}", "conditions[0].value",
                 "has a value that is not allowed");
    cond_refused("{'field':'business_hours','op':'equals','value':true}", "conditions[0].value", "must be a string");
}

static void test_action_refused(void **state)
{
    char text[20000];
    (void)state;
    actions_refused("'close'", "actions[0]", "must be an object");
    actions_refused("{'team_id':2}", "actions[0].type", "is required");
    actions_refused("{'type':'delete_conversation'}", "actions[0].type", "is not a known action");
    actions_refused("{'type':'assign_team','team_id':-2}", "actions[0].team_id", "is out of range");
    actions_refused("{'type':'assign_team','team_id':0}", "actions[0].team_id", "is out of range");
    actions_refused("{'type':'assign_team'}", "actions[0].team_id", "is required");
    actions_refused("{'type':'assign_team','team_id':'2'}", "actions[0].team_id", "must be an integer");
    actions_refused("{'type':'assign_team','agent_id':2}", "actions[0].agent_id", "is not a known field");
    actions_refused("{'type':'assign_agent','agent_id':-5}", "actions[0].agent_id", "is out of range");
    actions_refused("{'type':'add_label','label_id':1.5}", "actions[0].label_id", "must be an integer");
    actions_refused("{'type':'set_priority','priority':'critical'}", "actions[0].priority",
                    "has a value that is not allowed");
    actions_refused("{'type':'set_priority'}", "actions[0].priority", "is required");
    actions_refused("{'type':'send_message','body':''}", "actions[0].body", "must not be empty");
    actions_refused("{'type':'send_message'}", "actions[0].body", "is required");
    actions_refused("{'type':'add_note','body':{'text':'x'}}", "actions[0].body", "must be a string");
    actions_refused("{'type':'add_note','body':'a\\u0007b'}", "actions[0].body", "must not contain control characters");
    actions_refused("{'type':'send_message','body':'Hi " RLO "there'}", "actions[0].body",
                    "has unpaired bidi control characters");
    snprintf(text, sizeof(text), "{'type':'send_message','body':'%s'}", repeat(E_A, 2001));
    actions_refused(text, "actions[0].body", "is too long");
    actions_refused("{'type':'close'},{'type':'add_note','body':'closed'}", "actions[0].type",
                    "is only allowed as the last action");
    actions_refused("{'type':'close'},{'type':'close'}", "actions[0].type", "is only allowed as the last action");
    actions_refused("{'type':'add_note','body':'x'},{'type':'close','reason':'spam'}", "actions[1].reason",
                    "is not a known field");
    /* the first problem in document order is the one reported */
    refused("{'trigger':'conversation.created','conditions':[{'field':'page_url','op':'is_set'},"
            "{'field':'label','op':'contains','value':'x'}],'actions':[{'type':'assign_team','team_id':-1}]}",
            "conditions[1].op", "is not allowed for this field");
}

static void test_valid_rules(void **state)
{
    char text[65536], item[20000];
    (void)state;
    accepted("{'trigger':'conversation.created','match':'any','conditions':["
             "{'field':'page_url','op':'contains','value':'/pricing'},"
             "{'field':'referrer','op':'not_contains','value':'ads'},"
             "{'field':'language','op':'in','value':['de','de-DE']},"
             "{'field':'country','op':'not_equals','value':'US'},"
             "{'field':'prechat.order-id','op':'is_set'},"
             "{'field':'attribute.plan.tier_2','op':'starts_with','value':'ent'},"
             "{'field':'label','op':'excludes','value':9007199254740993},"
             "{'field':'business_hours','op':'equals','value':'closed'}],"
             "'actions':[{'type':'assign_team','team_id':2},{'type':'assign_agent','agent_id':5},"
             "{'type':'set_priority','priority':'urgent'},{'type':'add_label','label_id':3},"
             "{'type':'send_message','body':'Hello!\\nWe will be right with you.'},"
             "{'type':'add_note','body':'VIP " RLO "paired" PDF "'},{'type':'close'}]}");
    accepted("{'trigger':'message.created','match':'all','conditions':[],"
             "'actions':[{'type':'set_priority','priority':'low'}]}");
    accepted("{'trigger':'message.created','conditions':null,'match':null,"
             "'actions':[{'type':'set_priority','priority':'normal'}]}");
    /* every bound exactly reached: 20 conditions, 10 actions, a 50-item
     * list of 500-byte strings, 2000-character bodies */
    strcpy(text, "{'trigger':'message.created','conditions':[");
    for (int i = 0; i < RULES_MAX_CONDITIONS; i++) {
        snprintf(item, sizeof(item), "%s{'field':'message','op':'contains','value':'%s'}", i ? "," : "",
                 repeat(i % 2 ? "a" : E_A, i % 2 ? 500 : 250));
        strcat(text, item);
    }
    strcat(text, "],'actions':[");
    for (int i = 0; i < RULES_MAX_ACTIONS; i++) {
        snprintf(item, sizeof(item), "%s{'type':'add_label','label_id':%d}", i ? "," : "", i + 1);
        strcat(text, item);
    }
    strcat(text, "]}");
    accepted(text);
    strcpy(text, "{'trigger':'message.created','conditions':[{'field':'country','op':'in','value':[");
    for (int i = 0; i < RULES_MAX_IN_VALUES; i++) {
        snprintf(item, sizeof(item), "%s'%s'", i ? "," : "", repeat("x", 500));
        strcat(text, item);
    }
    strcat(text, "]}],'actions':[{'type':'add_note','body':'");
    strcat(text, repeat(E_A, RULES_MAX_BODY_CHARS));
    strcat(text, "'}]}");
    accepted(text);
}

/* Nested arrays depth deep around a string, built without the parser (which
 * stops at 2048) and freed from the outside in (jansson frees recursively). */
static json_t *nested(size_t depth)
{
    json_t *v = json_string("deep");
    for (size_t i = 0; i < depth; i++) {
        json_t *a = json_array();
        assert_non_null(a);
        assert_int_equal(json_array_append_new(a, v), 0);
        v = a;
    }
    return v;
}

static void free_nested(json_t *v)
{
    while (json_is_array(v) && json_array_size(v) == 1) {
        json_t *inner = json_incref(json_array_get(v, 0));
        json_decref(v);
        v = inner;
    }
    json_decref(v);
}

static void expect(const json_t *rule, const char *field, const char *reason)
{
    char f[RULES_FIELD_MAX], r[RULES_REASON_MAX];
    json_t *ctx = doc(CONV);
    assert_int_equal(rules_validate(rule, f, sizeof(f), r, sizeof(r)), -1);
    assert_string_equal(f, field);
    assert_string_equal(r, reason);
    assert_int_equal(rules_match(rule, ctx), 0);
    json_decref(ctx);
}

static void test_hostile_documents(void **state)
{
    json_t *rule, *list, *deep;
    char *huge;
    (void)state;
    /* 1,000 conditions (each valid and matching) and 1,000 actions */
    rule = doc("{'trigger':'conversation.created','conditions':[],'actions':[]}");
    list = json_object_get(rule, "conditions");
    for (int i = 0; i < 1000; i++)
        json_array_append_new(list, doc("{'field':'country','op':'equals','value':'de'}"));
    json_array_append_new(json_object_get(rule, "actions"), doc("{'type':'close'}"));
    expect(rule, "conditions", "has too many items (at most 20)");
    json_array_clear(list);
    list = json_object_get(rule, "actions");
    for (int i = 0; i < 1000; i++)
        json_array_append_new(list, doc("{'type':'add_label','label_id':1}"));
    expect(rule, "actions", "has too many items (at most 10)");
    json_array_clear(list);
    json_array_append_new(list, doc("{'type':'close'}"));
    /* an "in" list of 100,000 items */
    list = json_array();
    for (int i = 0; i < 100000; i++)
        json_array_append_new(list, json_string("de"));
    json_array_append_new(json_object_get(rule, "conditions"),
                          json_pack("{s:s, s:s, s:o}", "field", "country", "op", "in", "value", list));
    expect(rule, "conditions[0].value", "has too many items (at most 50)");
    json_array_clear(json_object_get(rule, "conditions"));
    /* a value 1 MB long */
    huge = malloc(1 << 20);
    assert_non_null(huge);
    memset(huge, 'a', (1 << 20) - 1);
    huge[(1 << 20) - 1] = '\0';
    json_array_append_new(json_object_get(rule, "conditions"),
                          json_pack("{s:s, s:s, s:s}", "field", "country", "op", "equals", "value", huge));
    expect(rule, "conditions[0].value", "is too long");
    json_array_clear(json_object_get(rule, "conditions"));
    free(huge);
    /* values, conditions and actions nested 100,000 deep: refused by type,
     * never walked */
    deep = nested(100000);
    json_array_append_new(json_object_get(rule, "conditions"),
                          json_pack("{s:s, s:s, s:O}", "field", "country", "op", "equals", "value", deep));
    expect(rule, "conditions[0].value", "must be a string");
    json_array_clear(json_object_get(rule, "conditions"));
    json_array_append(json_object_get(rule, "conditions"), deep);
    expect(rule, "conditions[0]", "must be an object");
    json_array_clear(json_object_get(rule, "conditions"));
    json_object_set(rule, "actions", deep);
    expect(rule, "actions[0]", "must be an object");
    json_object_set(rule, "trigger", deep);
    expect(rule, "trigger", "must be a string");
    expect(deep, "", "must be an object");
    /* a deep snapshot next to a valid rule: not walked either */
    json_t *ok = doc("{'trigger':'conversation.created','conditions':[{'field':'prechat.x','op':'is_set'},"
                     "{'field':'label','op':'excludes','value':1}],'actions':[{'type':'close'}]}");
    json_t *ctx = json_pack("{s:s, s:O, s:O, s:O}", "trigger", "conversation.created", "prechat", deep, "labels", deep,
                            "business_hours", deep);
    assert_int_equal(rules_match(ok, ctx), 0); /* prechat.x is not set */
    json_decref(ctx);
    json_decref(ok);
    json_decref(rule);
    free_nested(deep);
    /* the parser's own deepest: 2,000 levels in text, refused as well */
    char *text = malloc(4100);
    assert_non_null(text);
    strcpy(text, "{\"trigger\":\"conversation.created\",\"actions\":[{\"type\":\"close\"}],\"conditions\":");
    size_t at = strlen(text);
    for (int i = 0; i < 1990; i++)
        text[at++] = '[';
    for (int i = 0; i < 1990; i++)
        text[at++] = ']';
    strcpy(text + at, "}");
    rule = json_loads(text, 0, NULL);
    assert_non_null(rule);
    expect(rule, "conditions[0]", "must be an object");
    json_decref(rule);
    free(text);
}

static void test_report_buffers(void **state)
{
    char f[8], r[6];
    json_t *rule = doc("{'trigger':'conversation.created','conditions':[{'field':'label','op':'contains',"
                       "'value':'x'}],'actions':[{'type':'close'}]}");
    (void)state;
    assert_int_equal(rules_validate(rule, NULL, 0, NULL, 0), -1);
    assert_int_equal(rules_validate(rule, f, sizeof(f), r, sizeof(r)), -1);
    assert_string_equal(f, "conditi"); /* cut to the buffer */
    assert_string_equal(r, "is no");
    assert_int_equal(rules_validate(NULL, f, sizeof(f), r, sizeof(r)), -1);
    assert_string_equal(f, "");
    json_decref(rule);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_ops),
        cmocka_unit_test(test_each_field),
        cmocka_unit_test(test_case_folding_is_ascii_only),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_numbers_and_booleans_as_json_text),
        cmocka_unit_test(test_all_and_any),
        cmocka_unit_test(test_trigger_must_equal),
        cmocka_unit_test(test_contains_agrees_with_naive),
        cmocka_unit_test(test_contains_is_linear),
        cmocka_unit_test(test_rule_shape_refused),
        cmocka_unit_test(test_condition_refused),
        cmocka_unit_test(test_action_refused),
        cmocka_unit_test(test_valid_rules),
        cmocka_unit_test(test_hostile_documents),
        cmocka_unit_test(test_report_buffers),
    };
    return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
