#include "chat/rules.h"

#include "core/jfield.h"
#include "core/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op {
    OP_EQUALS,
    OP_NOT_EQUALS,
    OP_CONTAINS,
    OP_NOT_CONTAINS,
    OP_STARTS_WITH,
    OP_ENDS_WITH,
    OP_IN,
    OP_IS_SET,
    OP_IS_NOT_SET,
    OP_INCLUDES,    /* label */
    OP_EXCLUDES,    /* label */
    OP_HOURS_EQUALS /* business_hours */
};

/* What a condition's "value" must be for its operator. */
enum value_kind {
    VALUE_NONE,      /* no "value" at all */
    VALUE_TEXT,      /* a string of 1..RULES_MAX_VALUE_BYTES */
    VALUE_TEXT_LIST, /* 1..RULES_MAX_IN_VALUES such strings */
    VALUE_ID,        /* a positive integer */
    VALUE_HOURS      /* "open" or "closed" */
};

struct op_def {
    const char *name;
    enum op op;
    enum value_kind value;
};

static const struct op_def text_ops[] = {
    {"equals", OP_EQUALS, VALUE_TEXT},
    {"not_equals", OP_NOT_EQUALS, VALUE_TEXT},
    {"contains", OP_CONTAINS, VALUE_TEXT},
    {"not_contains", OP_NOT_CONTAINS, VALUE_TEXT},
    {"starts_with", OP_STARTS_WITH, VALUE_TEXT},
    {"ends_with", OP_ENDS_WITH, VALUE_TEXT},
    {"in", OP_IN, VALUE_TEXT_LIST},
    {"is_set", OP_IS_SET, VALUE_NONE},
    {"is_not_set", OP_IS_NOT_SET, VALUE_NONE},
    {NULL, 0, 0},
};
static const struct op_def label_ops[] = {
    {"includes", OP_INCLUDES, VALUE_ID},
    {"excludes", OP_EXCLUDES, VALUE_ID},
    {NULL, 0, 0},
};
static const struct op_def hours_ops[] = {
    {"equals", OP_HOURS_EQUALS, VALUE_HOURS},
    {NULL, 0, 0},
};

/* Triggers, and as bits the ones whose snapshot has a field. */
static const char *const triggers[] = {"conversation.created", "message.created", NULL};
#define ON_MESSAGE 2u /* 1 << index in triggers */
#define ON_ANY     3u

struct field_def {
    const char *name; /* the whole name, or with keyed the prefix before the key */
    int keyed;        /* "prechat.<key>": ctx[at] is an object, the value is ctx[at][key] */
    const char *at;   /* where the snapshot holds it */
    const struct op_def *ops;
    unsigned on; /* triggers whose snapshot has it */
};

static const struct field_def fields[] = {
    {"page_url", 0, "page_url", text_ops, ON_ANY},
    {"referrer", 0, "referrer", text_ops, ON_ANY},
    {"language", 0, "language", text_ops, ON_ANY},
    {"country", 0, "country", text_ops, ON_ANY},
    /* Only a new message has a text: on conversation.created the condition
     * could never be what its author meant. */
    {"message", 0, "message", text_ops, ON_MESSAGE},
    {"prechat.", 1, "prechat", text_ops, ON_ANY},
    {"attribute.", 1, "attributes", text_ops, ON_ANY},
    {"label", 0, "labels", label_ops, ON_ANY},
    {"business_hours", 0, "business_hours", hours_ops, ON_ANY},
    {NULL, 0, NULL, NULL, 0},
};

enum param_kind { PARAM_NONE, PARAM_ID, PARAM_PRIORITY, PARAM_BODY };

struct action_def {
    const char *type;
    const char *param; /* its one parameter, NULL for none */
    enum param_kind kind;
    int last; /* only as the last action: nothing runs on a closed conversation */
};

static const struct action_def actions[] = {
    {"assign_team", "team_id", PARAM_ID, 0},
    {"assign_agent", "agent_id", PARAM_ID, 0},
    {"set_priority", "priority", PARAM_PRIORITY, 0},
    {"add_label", "label_id", PARAM_ID, 0},
    {"send_message", "body", PARAM_BODY, 0},
    {"add_note", "body", PARAM_BODY, 0},
    {"close", NULL, PARAM_NONE, 1},
    {NULL, NULL, 0, 0},
};

static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
static const char *const match_modes[] = {"all", "any", NULL};
static const char *const hours_values[] = {"open", "closed", NULL};
static const char *const rule_keys[] = {"trigger", "match", "conditions", "actions", NULL};
static const char *const condition_keys[] = {"field", "op", "value", NULL};

/* A condition as checked: what rules_match evaluates. */
struct cond {
    const struct field_def *field;
    const char *key; /* of a keyed field, within the rule's own string */
    const struct op_def *op;
    const json_t *value;
};

struct checked {
    struct cond conds[RULES_MAX_CONDITIONS];
    size_t nconds;
    int any;
};

/* Where rules_validate's answer goes (NULL buffers: rules_match's quiet run). */
struct report {
    char *field;
    size_t flen;
    char *reason;
    size_t rlen;
};

/* Reports the field at.key (at alone when key is NULL, key alone when at is
 * empty) and returns -1. */
static int refuse(struct report *r, const char *at, const char *key, const char *reason)
{
    if (r->field && r->flen)
        snprintf(r->field, r->flen, "%s%s%s", at, *at && key ? "." : "", key ? key : "");
    if (r->reason && r->rlen)
        snprintf(r->reason, r->rlen, "%s", reason);
    return -1;
}

/* 1 for the key of prechat.<key> or attribute.<key>: what the widget and the
 * visitor API accept as names, and safe to print in a field path. */
static int key_ok(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
    return n >= 1 && n <= RULES_MAX_KEY && s[n] == '\0';
}

/* Fails on a key of obj that is not allowed. The key is named in the path
 * only when it looks like one of ours: it came from the document, and a path
 * is cut to its buffer, possibly inside a UTF-8 sequence. */
static int only_keys(struct report *r, const char *at, const json_t *obj, const char *const *allowed)
{
    struct problem_field err = {0};
    /* jfield takes a mutable object; jfield_only only reads it. */
    if (jfield_only((json_t *)obj, allowed, &err) == 0)
        return 0;
    if (key_ok(err.field))
        return refuse(r, at, err.field, err.message);
    return refuse(r, at, NULL, "has a key that is not a known field");
}

/* Why v is no acceptable text of 1..max_bytes bytes and 1..max_chars
 * characters, or NULL. The wording follows jfield_string's. */
static const char *text_problem(const json_t *v, size_t max_bytes, long max_chars)
{
    const char *s;
    size_t n;
    long chars;
    if (!v || json_is_null(v))
        return "is required";
    if (!json_is_string(v))
        return "must be a string";
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0)
        return "must not be empty";
    if (n > max_bytes) /* before anything reads it all */
        return "is too long";
    if (memchr(s, '\0', n))
        return "must not contain NUL characters";
    if ((chars = text_utf8_chars(s, n)) < 0)
        return "must be valid UTF-8";
    if (chars > max_chars)
        return "is too long";
    if (text_has_controls(s, n, 1))
        return "must not contain control characters";
    return NULL;
}

/* A message or note body: free text, sent as it is written. Free text loses
 * its unpaired bidi controls on the way in (text_bidi_balance); a rule
 * cannot be changed here (it is const), so it is refused instead, and the
 * administrator can fix it. */
static const char *body_problem(const json_t *v)
{
    /* A character takes at most 4 bytes: the byte bound only stops reading
     * early, the character bound decides. */
    const char *why = text_problem(v, (size_t)RULES_MAX_BODY_CHARS * 4, RULES_MAX_BODY_CHARS);
    const char *s;
    size_t n;
    char *balanced = NULL;
    if (why || !text_has_bidi_controls(s = json_string_value(v), n = json_string_length(v)))
        goto done;
    if (!(balanced = malloc(n + 1)))
        why = "could not be checked";
    else if (text_bidi_balance(s, n, balanced) != n || memcmp(balanced, s, n) != 0)
        why = "has unpaired bidi control characters";
done:
    free(balanced);
    return why;
}

static const struct field_def *field_lookup(const char *name, const char **key)
{
    for (const struct field_def *f = fields; f->name; f++) {
        size_t n = strlen(f->name);
        if (f->keyed ? strncmp(name, f->name, n) == 0 : strcmp(name, f->name) == 0) {
            *key = f->keyed ? name + n : NULL;
            return f;
        }
    }
    return NULL;
}

static const struct op_def *op_lookup(const struct op_def *ops, const char *name)
{
    for (; ops->name; ops++)
        if (strcmp(ops->name, name) == 0)
            return ops;
    return NULL;
}

static int check_value(struct report *r, const char *at, const json_t *cond, const struct op_def *op)
{
    struct problem_field err = {0};
    const json_t *v = json_object_get(cond, "value");
    const char *why = NULL, *s;
    long long id;
    char item[40]; /* "value[" a size_t "]" */
    size_t n;
    switch (op->value) {
    case VALUE_NONE:
        return v ? refuse(r, at, "value", "must not be given for this operator") : 0;
    case VALUE_TEXT:
        why = text_problem(v, RULES_MAX_VALUE_BYTES, RULES_MAX_VALUE_BYTES);
        return why ? refuse(r, at, "value", why) : 0;
    case VALUE_TEXT_LIST:
        if (!json_is_array(v))
            return refuse(r, at, "value", v && !json_is_null(v) ? "must be an array of strings" : "is required");
        if ((n = json_array_size(v)) == 0)
            return refuse(r, at, "value", "must not be empty");
        if (n > RULES_MAX_IN_VALUES)
            return refuse(r, at, "value", "has too many items (at most 50)");
        for (size_t i = 0; i < n; i++) {
            if ((why = text_problem(json_array_get(v, i), RULES_MAX_VALUE_BYTES, RULES_MAX_VALUE_BYTES))) {
                snprintf(item, sizeof(item), "value[%zu]", i);
                return refuse(r, at, item, why);
            }
        }
        return 0;
    case VALUE_ID:
        if (jfield_int((json_t *)cond, "value", JF_REQUIRED, 1, INT64_MAX, &id, &err) != 0)
            return refuse(r, at, err.field, err.message);
        return 0;
    case VALUE_HOURS:
        if (jfield_enum((json_t *)cond, "value", JF_REQUIRED, hours_values, &s, &err) != 0)
            return refuse(r, at, err.field, err.message);
        return 0;
    }
    return refuse(r, at, "value", "is not understood"); /* not reached: every kind is above */
}

static int check_condition(struct report *r, const char *at, const json_t *cond, unsigned trigger, struct cond *out)
{
    struct problem_field err = {0};
    const char *name, *opname;
    if (!json_is_object(cond))
        return refuse(r, at, NULL, "must be an object");
    if (only_keys(r, at, cond, condition_keys) != 0)
        return -1;
    /* jfield's getters take a mutable object; without JF_TEXT or
     * JF_NAME_CLEAN they only read it. */
    if (jfield_string((json_t *)cond, "field", JF_REQUIRED, 1, 100, &name, &err) != 0 ||
        jfield_string((json_t *)cond, "op", JF_REQUIRED, 1, 100, &opname, &err) != 0)
        return refuse(r, at, err.field, err.message);
    if (!(out->field = field_lookup(name, &out->key)))
        return refuse(r, at, "field", "is not a known field");
    if (out->key && !key_ok(out->key))
        return refuse(r, at, "field", "has an invalid key (1 to 64 of A-Z a-z 0-9 _ . -)");
    if (!(out->field->on & trigger))
        return refuse(r, at, "field", "is only for message.created");
    if (!(out->op = op_lookup(out->field->ops, opname)))
        return refuse(r, at, "op", "is not allowed for this field");
    out->value = json_object_get(cond, "value");
    return check_value(r, at, cond, out->op);
}

static int check_action(struct report *r, const char *at, const json_t *action, int is_last)
{
    struct problem_field err = {0};
    const struct action_def *def;
    const char *type, *s, *why;
    const char *allowed[3] = {"type", NULL, NULL};
    long long id;
    if (!json_is_object(action))
        return refuse(r, at, NULL, "must be an object");
    if (jfield_string((json_t *)action, "type", JF_REQUIRED, 1, 100, &type, &err) != 0)
        return refuse(r, at, err.field, err.message);
    for (def = actions; def->type && strcmp(def->type, type) != 0; def++)
        ;
    if (!def->type)
        return refuse(r, at, "type", "is not a known action");
    allowed[1] = def->param;
    if (only_keys(r, at, action, allowed) != 0)
        return -1;
    if (def->last && !is_last)
        return refuse(r, at, "type", "is only allowed as the last action");
    switch (def->kind) {
    case PARAM_NONE:
        return 0;
    case PARAM_ID:
        if (jfield_int((json_t *)action, def->param, JF_REQUIRED, 1, INT64_MAX, &id, &err) != 0)
            return refuse(r, at, err.field, err.message);
        return 0;
    case PARAM_PRIORITY:
        if (jfield_enum((json_t *)action, def->param, JF_REQUIRED, priorities, &s, &err) != 0)
            return refuse(r, at, err.field, err.message);
        return 0;
    case PARAM_BODY:
        why = body_problem(json_object_get(action, def->param));
        return why ? refuse(r, at, def->param, why) : 0;
    }
    return refuse(r, at, "type", "is not understood"); /* not reached: every kind is above */
}

/* The one check behind rules_validate and rules_match: the rule's shape and
 * bounds first (sizes before items), then each condition into out, then each
 * action. */
static int check_rule(struct report *r, const json_t *rule, struct checked *out)
{
    struct problem_field err = {0};
    const char *trigger, *match;
    const json_t *conds, *acts;
    char at[40]; /* "conditions[" a size_t "]" */
    size_t n;
    unsigned on = 0;
    if (!json_is_object(rule))
        return refuse(r, "", NULL, "must be an object");
    if (only_keys(r, "", rule, rule_keys) != 0)
        return -1;
    if (jfield_enum((json_t *)rule, "trigger", JF_REQUIRED, triggers, &trigger, &err) != 0 ||
        jfield_enum((json_t *)rule, "match", 0, match_modes, &match, &err) != 0)
        return refuse(r, "", err.field, err.message);
    for (size_t i = 0; triggers[i]; i++)
        if (triggers[i] == trigger)
            on = 1u << i;
    out->any = match && strcmp(match, "any") == 0;

    conds = json_object_get(rule, "conditions");
    if (conds && !json_is_null(conds) && !json_is_array(conds)) /* null: absent, as jfield has it */
        return refuse(r, "", "conditions", "must be an array");
    if ((out->nconds = json_array_size(conds)) > RULES_MAX_CONDITIONS)
        return refuse(r, "", "conditions", "has too many items (at most 20)");
    acts = json_object_get(rule, "actions");
    if (!json_is_array(acts))
        return refuse(r, "", "actions", acts && !json_is_null(acts) ? "must be an array" : "is required");
    if ((n = json_array_size(acts)) == 0)
        return refuse(r, "", "actions", "must not be empty");
    if (n > RULES_MAX_ACTIONS)
        return refuse(r, "", "actions", "has too many items (at most 10)");

    for (size_t i = 0; i < out->nconds; i++) {
        snprintf(at, sizeof(at), "conditions[%zu]", i);
        if (check_condition(r, at, json_array_get(conds, i), on, &out->conds[i]) != 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(at, sizeof(at), "actions[%zu]", i);
        if (check_action(r, at, json_array_get(acts, i), i + 1 == n) != 0)
            return -1;
    }
    return 0;
}

int rules_validate(const json_t *rule, char *field, size_t flen, char *reason, size_t rlen)
{
    struct report r = {field, flen, reason, rlen};
    struct checked c;
    return check_rule(&r, rule, &c);
}

static unsigned char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : (unsigned char)c;
}

static int fold_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fold(a[i]) != fold(b[i]))
            return 0;
    return 1;
}

/* 1 when needle (1..RULES_MAX_VALUE_BYTES bytes) occurs in hay, ASCII
 * letters folded. Knuth-Morris-Pratt, linear in both: the haystack is a
 * visitor's message of up to 16,000 characters, and a plain scan costs its
 * length times the needle's on text like "aaaa...". */
static int fold_contains(const char *hay, size_t hn, const char *needle, size_t nn)
{
    unsigned short next[RULES_MAX_VALUE_BYTES]; /* longest proper prefix that is a suffix */
    size_t k = 0;
    if (nn == 0 || nn > RULES_MAX_VALUE_BYTES)
        return nn == 0;
    next[0] = 0;
    for (size_t i = 1; i < nn; i++) {
        while (k && fold(needle[i]) != fold(needle[k]))
            k = next[k - 1];
        if (fold(needle[i]) == fold(needle[k]))
            k++;
        next[i] = (unsigned short)k;
    }
    k = 0;
    for (size_t i = 0; i < hn; i++) {
        while (k && fold(hay[i]) != fold(needle[k]))
            k = next[k - 1];
        if (fold(hay[i]) == fold(needle[k]) && ++k == nn)
            return 1;
    }
    return 0;
}

/* The text of a text field in the snapshot: a string as it is, a number or
 * boolean as its JSON text (written into buf). Returns 1 when set; anything
 * else (absent, null, an empty string, an object or array) is "" and 0. */
static int field_text(const struct cond *c, const json_t *ctx, char *buf, size_t blen, const char **s, size_t *n)
{
    const json_t *v = json_object_get(ctx, c->field->at);
    if (c->key)
        v = json_object_get(v, c->key);
    *s = "";
    *n = 0;
    if (json_is_string(v)) {
        *s = json_string_value(v);
        *n = json_string_length(v);
    } else if (json_is_number(v) || json_is_boolean(v)) {
        size_t len = json_dumpb(v, buf, blen, JSON_ENCODE_ANY);
        if (len > 0 && len <= blen) {
            *s = buf;
            *n = len;
        }
    }
    return *n > 0;
}

static int text_holds(const struct cond *c, const json_t *ctx)
{
    char buf[64]; /* the JSON text of any number */
    const char *s, *v = json_string_value(c->value);
    size_t n, vn = json_string_length(c->value);
    int set = field_text(c, ctx, buf, sizeof(buf), &s, &n);
    switch (c->op->op) {
    case OP_EQUALS:
        return n == vn && fold_equal(s, v, n);
    case OP_NOT_EQUALS:
        return !(n == vn && fold_equal(s, v, n));
    case OP_CONTAINS:
        return fold_contains(s, n, v, vn);
    case OP_NOT_CONTAINS:
        return !fold_contains(s, n, v, vn);
    case OP_STARTS_WITH:
        return n >= vn && fold_equal(s, v, vn);
    case OP_ENDS_WITH:
        return n >= vn && fold_equal(s + n - vn, v, vn);
    case OP_IN:
        for (size_t i = 0; i < json_array_size(c->value); i++) {
            const json_t *item = json_array_get(c->value, i);
            if (json_string_length(item) == n && fold_equal(s, json_string_value(item), n))
                return 1;
        }
        return 0;
    case OP_IS_SET:
        return set;
    case OP_IS_NOT_SET:
        return !set;
    default:
        return 0;
    }
}

static int label_present(const json_t *ctx, json_int_t id)
{
    const json_t *labels = json_object_get(ctx, "labels");
    for (size_t i = 0; i < json_array_size(labels); i++) {
        const json_t *l = json_array_get(labels, i);
        if (json_is_integer(l) && json_integer_value(l) == id)
            return 1;
    }
    return 0;
}

static int cond_holds(const struct cond *c, const json_t *ctx)
{
    const char *hours;
    switch (c->op->op) {
    case OP_INCLUDES:
        return label_present(ctx, json_integer_value(c->value));
    case OP_EXCLUDES:
        return !label_present(ctx, json_integer_value(c->value));
    case OP_HOURS_EQUALS:
        hours = json_string_value(json_object_get(ctx, "business_hours"));
        return hours && strcmp(hours, json_string_value(c->value)) == 0;
    default:
        return text_holds(c, ctx);
    }
}

int rules_match(const json_t *rule, const json_t *ctx)
{
    struct report quiet = {NULL, 0, NULL, 0};
    struct checked c;
    const char *want = json_string_value(json_object_get(rule, "trigger"));
    const char *have = json_string_value(json_object_get(ctx, "trigger"));
    /* Most rules are for the other trigger: answered before the check. */
    if (!want || !have || strcmp(want, have) != 0 || check_rule(&quiet, rule, &c) != 0)
        return 0;
    if (c.nconds == 0)
        return 1;
    for (size_t i = 0; i < c.nconds; i++) {
        if (cond_holds(&c.conds[i], ctx) == c.any)
            return c.any; /* the first that holds decides "any", the first that fails "all" */
    }
    return !c.any;
}
