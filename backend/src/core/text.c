#include "core/text.h"

#include <string.h>

/* The code point at s[i] (i < n) in *cp and its length in bytes, or 0 when
 * what starts there is not valid UTF-8: strict, no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
static size_t decode_strict(const unsigned char *s, size_t n, size_t i, unsigned *cp)
{
    unsigned c = s[i], v;
    size_t len;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if (i + len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

long text_utf8_chars(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    long count = 0;
    unsigned cp;
    for (size_t i = 0; i < n; count++) {
        size_t len = decode_strict(s, n, i, &cp);
        if (!len)
            return -1;
        i += len;
    }
    return count;
}

int text_has_controls(const char *str, size_t n, int allow_newlines)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == 0x7f)
            return 1;
        if (s[i] < 0x20) {
            if (allow_newlines && (s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
                continue;
            return 1;
        }
    }
    return 0;
}

/* ---- code points ---- */

/* The code point at s[i] (i < n) in *cp; returns its length in bytes. The
 * input is valid UTF-8 (checked by the caller); a byte that still does not
 * decode is taken alone as U+FFFD rather than read past. */
static size_t decode(const unsigned char *s, size_t n, size_t i, unsigned *cp)
{
    size_t len = decode_strict(s, n, i, cp);
    if (len)
        return len;
    *cp = 0xFFFD;
    return 1;
}

/* LRE, RLE, PDF, LRO, RLO and LRI, RLI, FSI, PDI. */
static int is_bidi_control(unsigned cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* LRM, RLM, ALM: invisible strong characters. */
static int is_bidi_mark(unsigned cp)
{
    return cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

static int is_joiner(unsigned cp)
{
    return cp == 0x200C || cp == 0x200D;
}

static int is_variation_selector(unsigned cp)
{
    return (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF) || (cp >= 0x180B && cp <= 0x180D) ||
           cp == 0x180F;
}

/* What an identifier may not carry, before the exceptions for joiners and
 * variation selectors: C1 controls, Default_Ignorable_Code_Point (which
 * holds every bidi control and mark, the zero-width characters, the
 * fillers that look like nothing, variation selectors and tags), the
 * interlinear annotation characters and the line and paragraph separators. */
static int is_invisible(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0xAD || cp == 0x34F || cp == 0x61C || cp == 0x115F || cp == 0x1160 ||
           cp == 0x17B4 || cp == 0x17B5 || (cp >= 0x180B && cp <= 0x180F) || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0x3164 ||
           (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || cp == 0xFFA0 || (cp >= 0xFFF0 && cp <= 0xFFFB) ||
           (cp >= 0x1BCA0 && cp <= 0x1BCA3) || (cp >= 0x1D173 && cp <= 0x1D17A) || (cp >= 0xE0000 && cp <= 0xE0FFF);
}

/* White space, and the braille blank that passes for it. */
static int is_space(unsigned cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000 || cp == 0x2800;
}

/* Letters of the right-to-left scripts (bidi classes R and AL by default). */
static int is_rtl(unsigned cp)
{
    return (cp >= 0x0590 && cp <= 0x08FF) || (cp >= 0xFB1D && cp <= 0xFDFF) || (cp >= 0xFE70 && cp <= 0xFEFE) ||
           (cp >= 0x10800 && cp <= 0x10FFF) || (cp >= 0x1E800 && cp <= 0x1EFFF);
}

/* ---- identifiers ---- */

enum ident_verdict { V_KEEP, V_CONTROL, V_CONTROL_SPACE, V_INVISIBLE, V_INVISIBLE_SPACE };

static const char msg_controls[] = "must not contain control characters";
static const char msg_invisible[] =
    "must not contain invisible characters or text-direction controls (such as U+200B or U+202E)";

/* The rule for cp between prev (the last code point kept, 0 at the start)
 * and next (the following one, 0 at the end). A joiner joins two non-ASCII
 * characters (where scripts and emoji need one, never inside Latin words
 * where it would only make two names that look alike); a variation selector
 * follows the character it selects a form of. */
static enum ident_verdict ident_verdict(unsigned prev, unsigned cp, unsigned next)
{
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
        return (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x85) ? V_CONTROL_SPACE : V_CONTROL;
    if (!is_invisible(cp))
        return V_KEEP;
    if (cp == 0x2028 || cp == 0x2029)
        return V_INVISIBLE_SPACE;
    if (is_joiner(cp))
        return prev >= 0x80 && !is_space(prev) && next >= 0x80 && !is_space(next) && !is_invisible(next) ? V_KEEP
                                                                                                         : V_INVISIBLE;
    if (is_variation_selector(cp))
        return prev && !is_space(prev) && !is_invisible(prev) ? V_KEEP : V_INVISIBLE;
    return V_INVISIBLE;
}

static int is_visible(unsigned cp)
{
    return !is_space(cp) && !is_invisible(cp) && cp >= 0x20 && cp != 0x7F;
}

const char *text_ident_error(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned prev = 0, cp = 0, next;
    size_t i = 0, len = n ? decode(s, n, 0, &cp) : 0;
    int visible = 0;
    while (i < n) {
        size_t j = i + len, next_len = 0;
        next = 0;
        if (j < n)
            next_len = decode(s, n, j, &next);
        switch (ident_verdict(prev, cp, next)) {
        case V_CONTROL:
        case V_CONTROL_SPACE:
            return msg_controls;
        case V_INVISIBLE:
        case V_INVISIBLE_SPACE:
            return msg_invisible;
        case V_KEEP:
            break;
        }
        visible |= is_visible(cp);
        prev = cp;
        i = j;
        cp = next;
        len = next_len;
    }
    return visible ? NULL : "must contain a visible character";
}

size_t text_ident_clean(const char *str, size_t n, char *out)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned prev = 0, cp = 0, next;
    size_t i = 0, len = n ? decode(s, n, 0, &cp) : 0, o = 0, start = 0, end = 0;
    while (i < n) {
        size_t j = i + len, next_len = 0;
        next = 0;
        if (j < n)
            next_len = decode(s, n, j, &next);
        switch (ident_verdict(prev, cp, next)) {
        case V_KEEP:
            memcpy(out + o, s + i, len);
            o += len;
            prev = cp;
            break;
        case V_CONTROL_SPACE:
        case V_INVISIBLE_SPACE:
            out[o++] = ' ';
            prev = ' ';
            break;
        case V_CONTROL:
        case V_INVISIBLE:
            break; /* removed; prev stays what the output now ends with */
        }
        i = j;
        cp = next;
        len = next_len;
    }
    /* Trim: keep [first non-space, end of the last non-space). */
    for (i = 0; i < o; i += len) {
        len = decode((const unsigned char *)out, o, i, &cp);
        if (!is_space(cp)) {
            if (end == 0)
                start = i;
            end = i + len;
        }
    }
    memmove(out, out + start, end - start);
    out[end - start] = '\0';
    return end - start;
}

int text_ident_blank(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned cp;
    size_t i = 0;
    while (i < n) {
        i += decode(s, n, i, &cp);
        if (is_visible(cp))
            return 0;
    }
    return 1;
}

/* ---- free text ---- */

int text_has_bidi_controls(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    /* U+202A-U+202E are E2 80 AA-AE; U+2066-U+2069 are E2 81 A6-A9. */
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == 0xE2 && ((s[i + 1] == 0x80 && s[i + 2] >= 0xAA && s[i + 2] <= 0xAE) ||
                             (s[i + 1] == 0x81 && s[i + 2] >= 0xA6 && s[i + 2] <= 0xA9)))
            return 1;
    return 0;
}

/* A byte valid UTF-8 never holds: marks the controls to remove. */
#define DROPPED 0xFF

static void drop_control(unsigned char *p)
{
    p[0] = p[1] = p[2] = DROPPED; /* every bidi control is three bytes long */
}

size_t text_bidi_balance(const char *str, size_t n, char *out)
{
    unsigned char *o = (unsigned char *)out;
    size_t open[TEXT_BIDI_MAX_DEPTH]; /* offsets of the openers not closed yet */
    unsigned char isolate[TEXT_BIDI_MAX_DEPTH];
    size_t depth = 0, i, w = 0;
    memcpy(out, str, n);
    out[n] = '\0';
    if (!text_has_bidi_controls(str, n))
        return n;
    for (i = 0; i < n;) {
        unsigned cp;
        size_t len = decode(o, n, i, &cp);
        if ((cp >= 0x202A && cp <= 0x202E && cp != 0x202C) || (cp >= 0x2066 && cp <= 0x2068)) {
            if (depth < TEXT_BIDI_MAX_DEPTH) {
                open[depth] = i;
                isolate[depth++] = cp >= 0x2066;
            } else {
                drop_control(o + i);
            }
        } else if (cp == 0x202C) { /* PDF: closes an embedding inside the current isolate only */
            if (depth && !isolate[depth - 1])
                depth--;
            else
                drop_control(o + i);
        } else if (cp == 0x2069) { /* PDI: closes the innermost isolate and what it holds */
            size_t k = depth;
            while (k && !isolate[k - 1])
                k--;
            if (!k) {
                drop_control(o + i);
            } else {
                while (depth > k)
                    drop_control(o + open[--depth]); /* ended by the PDI, never by their own PDF */
                depth--;
            }
        } else if (cp == '\n' || cp == '\r' || (cp >= 0x1C && cp <= 0x1E) || cp == 0x85 || cp == 0x2029) {
            while (depth) /* the paragraph ends every embedding and isolate */
                drop_control(o + open[--depth]);
        }
        i += len;
    }
    while (depth)
        drop_control(o + open[--depth]);
    for (i = 0; i < n; i++)
        if (o[i] != DROPPED)
            o[w++] = o[i];
    o[w] = '\0';
    return w;
}

/* ---- plain-text output ---- */

int text_needs_isolation(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned cp;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        i += decode(s, n, i, &cp);
        if (is_rtl(cp) || is_bidi_control(cp) || is_bidi_mark(cp))
            return 1;
    }
    return 0;
}

size_t text_isolate(const char *s, size_t n, char *out)
{
    size_t len = text_bidi_balance(s, n, out + 3);
    if (!text_needs_isolation(out + 3, len)) {
        memmove(out, out + 3, len + 1);
        return len;
    }
    memcpy(out, "\xE2\x81\xA8", 3);           /* FSI: direction from its own first strong letter */
    memcpy(out + 3 + len, "\xE2\x81\xA9", 4); /* PDI and the NUL */
    return len + 6;
}

int text_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int text_base64_digit(char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}
