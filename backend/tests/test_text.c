/* Unit tests for the text policy: UTF-8 counting, identifiers (refused and
 * cleaned), the balancing of explicit bidi controls in free text, and the
 * FSI ... PDI isolation of plain-text output. Strings are written with
 * their UTF-8 bytes; the names below say which characters they are. */
#include "core/text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LRE           "\xE2\x80\xAA"
#define RLE           "\xE2\x80\xAB"
#define PDF           "\xE2\x80\xAC"
#define LRO           "\xE2\x80\xAD"
#define RLO           "\xE2\x80\xAE"
#define LRI           "\xE2\x81\xA6"
#define RLI           "\xE2\x81\xA7"
#define FSI           "\xE2\x81\xA8"
#define PDI           "\xE2\x81\xA9"
#define LRM           "\xE2\x80\x8E"
#define RLM           "\xE2\x80\x8F"
#define ALM           "\xD8\x9C"
#define ZWSP          "\xE2\x80\x8B"
#define ZWNJ          "\xE2\x80\x8C"
#define ZWJ           "\xE2\x80\x8D"
#define WJ            "\xE2\x81\xA0"
#define BOM           "\xEF\xBB\xBF"
#define SHY           "\xC2\xAD"
#define NEL           "\xC2\x85"
#define MVS           "\xE1\xA0\x8E"
#define VS16          "\xEF\xB8\x8F"
#define VS17          "\xF3\xA0\x84\x80"
#define TAG_A         "\xF3\xA0\x81\x81"
#define HANGUL_FILLER "\xE3\x85\xA4"
#define LS            "\xE2\x80\xA8"
#define PS            "\xE2\x80\xA9"
#define NBSP          "\xC2\xA0"
#define ARABIC        "\xD9\x85\xD8\xAD\xD9\x85\xD8\xAF"                                 /* محمد */
#define HEBREW        "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D"                                 /* שלום */
#define PERSIAN_ZWNJ  "\xD9\x85\xDB\x8C" ZWNJ "\xD8\xAE\xD9\x88\xD8\xA7\xD9\x87\xD9\x85" /* می‌خواهم */
#define TECHNOLOGIST  "\xF0\x9F\x91\xA9" ZWJ "\xF0\x9F\x92\xBB"                          /* woman, ZWJ, laptop */
#define HEART_FIRE    "\xE2\x9D\xA4" VS16 ZWJ "\xF0\x9F\x94\xA5"
#define KEYCAP_1      "1" VS16 "\xE2\x83\xA3"
#define CJK_VS17      "\xE8\x91\x9B" VS17 /* an ideographic variant */

static const char *ident_error(const char *s)
{
    return text_ident_error(s, strlen(s));
}

/* text_ident_clean into a static buffer. */
static const char *clean(const char *s)
{
    static char out[512];
    size_t n = text_ident_clean(s, strlen(s), out);
    assert_int_equal(n, strlen(out));
    assert_true(n <= strlen(s));
    return out;
}

static const char *balance(const char *s)
{
    static char out[4096];
    size_t n = text_bidi_balance(s, strlen(s), out);
    assert_int_equal(n, strlen(out));
    assert_true(n <= strlen(s));
    return out;
}

static const char *isolate(const char *s)
{
    static char out[4096];
    size_t n = text_isolate(s, strlen(s), out);
    assert_int_equal(n, strlen(out));
    assert_true(n <= strlen(s) + TEXT_ISOLATE_EXTRA - 1);
    return out;
}

static void test_utf8(void **state)
{
    (void)state;
    assert_int_equal(text_utf8_chars("abc", 3), 3);
    assert_int_equal(text_utf8_chars(ARABIC, strlen(ARABIC)), 4);
    assert_int_equal(text_utf8_chars(RLO, 3), 1);
    assert_int_equal(text_utf8_chars("\xC0\xAF", 2), -1);     /* overlong */
    assert_int_equal(text_utf8_chars("\xED\xA0\x80", 3), -1); /* surrogate */
    assert_int_equal(text_utf8_chars("\xE2\x80", 2), -1);     /* cut short */
    assert_true(text_has_controls("a\x01", 2, 1));
    assert_false(text_has_controls("a\n\t", 3, 1));
    assert_true(text_has_controls("a\n", 2, 0));
}

static void test_ident_accepts_real_names(void **state)
{
    (void)state;
    const char *ok[] = {"Ann",
                        "Ann-Marie O'Neill",
                        ARABIC,
                        HEBREW " Cohen",
                        PERSIAN_ZWNJ,               /* ZWNJ inside a Persian word */
                        TECHNOLOGIST " Support",    /* emoji ZWJ sequence */
                        HEART_FIRE,                 /* variation selector, then ZWJ */
                        KEYCAP_1,                   /* keycap: digit, VS16, enclosing keycap */
                        CJK_VS17,                   /* ideographic variation sequence */
                        "\xE6\x9D\x8E\xE9\x9B\xB7", /* 李雷 */
                        "ann@example.com",
                        NULL};
    for (int i = 0; ok[i]; i++)
        if (ident_error(ok[i]))
            fail_msg("refused \"%s\": %s", ok[i], ident_error(ok[i]));
}

static void test_ident_refuses(void **state)
{
    (void)state;
    const char *invisible[] = {RLO "gnp.exe",
                               "Ann" PDF,
                               LRI "Ann" PDI,
                               "Ann" LRM,
                               RLM "Ann",
                               ALM "x",
                               "An" ZWSP "n",
                               "Ann" WJ,
                               BOM "Ann",
                               "Ann" SHY,
                               "Ann" TAG_A,
                               "Mongol" MVS "ian",
                               HANGUL_FILLER "Ann",
                               "A" ZWJ "nn",          /* a joiner inside a Latin word: a look-alike name */
                               ZWJ ARABIC,            /* a joiner with nothing before it */
                               ARABIC ZWNJ,           /* ... or after it */
                               ARABIC ZWJ ZWJ ARABIC, /* two in a row */
                               VS16 "Ann",            /* a variation selector without its character */
                               "Ann " VS16,
                               "Ann" LS "Lee",
                               "Ann" PS,
                               NULL};
    for (int i = 0; invisible[i]; i++) {
        const char *e = ident_error(invisible[i]);
        if (!e || !strstr(e, "invisible"))
            fail_msg("case %d: got %s", i, e ? e : "accepted");
    }
    assert_string_equal(ident_error("Ann\x01"), "must not contain control characters");
    assert_string_equal(ident_error("Ann\nLee"), "must not contain control characters");
    assert_string_equal(ident_error("Ann" NEL), "must not contain control characters"); /* C1 */
    assert_string_equal(ident_error("Ann\x7f"), "must not contain control characters");
    assert_string_equal(ident_error(""), "must contain a visible character");
    assert_string_equal(ident_error("   "), "must contain a visible character");
    assert_string_equal(ident_error(NBSP "\xE3\x80\x80"), "must contain a visible character");
}

static void test_ident_clean(void **state)
{
    (void)state;
    assert_string_equal(clean(RLO "gnp.exe"), "gnp.exe");
    assert_string_equal(clean(" " ZWSP "Ann" LRM " "), "Ann");
    assert_string_equal(clean(RLI "Ann" PDI " " PDF "Lee"), "Ann Lee");
    assert_string_equal(clean("Ann\nLee\tS"), "Ann Lee S");
    assert_string_equal(clean("Ann" NEL "Lee" LS "X"), "Ann Lee X");
    assert_string_equal(clean("A" ZWJ "nn" BOM), "Ann");
    assert_string_equal(clean(VS16 "Ann"), "Ann");
    assert_string_equal(clean("Ann\x01\x7f"), "Ann");
    assert_string_equal(clean(NBSP "Ann" NBSP), "Ann");
    /* what scripts and emoji need stays */
    assert_string_equal(clean(PERSIAN_ZWNJ), PERSIAN_ZWNJ);
    assert_string_equal(clean(TECHNOLOGIST), TECHNOLOGIST);
    assert_string_equal(clean(HEART_FIRE), HEART_FIRE);
    assert_string_equal(clean(ARABIC " " HEBREW), ARABIC " " HEBREW);
    /* nothing visible left */
    assert_string_equal(clean(ZWSP RLO HANGUL_FILLER), "");
    assert_true(text_ident_blank("", 0));
    assert_true(text_ident_blank(" " ZWJ, 4));
    assert_true(text_ident_blank(HANGUL_FILLER NBSP, 5));
    assert_false(text_ident_blank(" a", 2));
}

/* Whatever goes in, what comes out of text_ident_clean is an identifier
 * (or blank), and cleaning it again changes nothing. */
static void test_ident_clean_property(void **state)
{
    (void)state;
    static const char *const parts[] = {
        "a", "Z",  " ", "\n",   ARABIC, "\xE6\x9D\x8E",    ZWJ, ZWNJ, VS16, RLO, PDI, LRM, ZWSP, BOM, TAG_A,
        NEL, NBSP, LS,  "\x01", SHY,    "\xF0\x9F\x91\xA9"};
    const size_t nparts = sizeof(parts) / sizeof(parts[0]);
    uint32_t seed = 12345;
    char in[256], once[256], twice[256];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        int count = (int)(seed % 8);
        for (int k = 0; k < count; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = parts[(seed >> 16) % nparts];
            memcpy(in + len, p, strlen(p));
            len += strlen(p);
        }
        seed = seed * 1103515245u + 12345u;
        in[len] = '\0';
        size_t n1 = text_ident_clean(in, len, once);
        size_t n2 = text_ident_clean(once, n1, twice);
        if (n1 != n2 || memcmp(once, twice, n1) != 0)
            fail_msg("round %d: cleaning twice changed the result", round);
        if (!text_ident_blank(once, n1) && text_ident_error(once, n1))
            fail_msg("round %d: cleaned text refused: %s", round, text_ident_error(once, n1));
        if (text_ident_blank(once, n1) != (text_ident_error(once, n1) != NULL))
            fail_msg("round %d: blank and refused disagree", round);
    }
}

static void test_balance_vectors(void **state)
{
    (void)state;
    /* no controls: the same bytes */
    assert_string_equal(balance("plain text, " ARABIC), "plain text, " ARABIC);
    /* marks stay: they are how right-to-left writers fix punctuation */
    assert_string_equal(balance(RLM "abc" LRM ALM), RLM "abc" LRM ALM);
    /* an override without its PDF is removed: the file-name trick */
    assert_string_equal(balance("invoice " RLO "fdp.exe"), "invoice fdp.exe");
    assert_string_equal(balance(RLO "gnp.exe"), "gnp.exe");
    /* paired controls stay */
    assert_string_equal(balance(RLO "abc" PDF " d"), RLO "abc" PDF " d");
    assert_string_equal(balance(RLI "abc" PDI), RLI "abc" PDI);
    assert_string_equal(balance(LRE "a" RLE "b" PDF PDF), LRE "a" RLE "b" PDF PDF);
    /* closers that close nothing are removed: they could end the isolate
     * the text is shown in */
    assert_string_equal(balance("a" PDF "b" PDI "c"), "abc");
    assert_string_equal(balance(PDI RLO "gnp.exe"), "gnp.exe");
    /* a PDF cannot close an embedding outside its isolate */
    assert_string_equal(balance(LRE "x" FSI "y" PDF "z" PDI PDF), LRE "x" FSI "yz" PDI PDF);
    /* an embedding ended by a PDI (not by its own PDF) is removed */
    assert_string_equal(balance(FSI RLE "x" PDI), FSI "x" PDI);
    /* an isolate inside an unclosed embedding stays, the embedding goes */
    assert_string_equal(balance(RLE "a" LRI "b" PDI), "a" LRI "b" PDI);
    /* paragraphs are balanced one by one */
    assert_string_equal(balance(RLO "ab\ncd" PDF), "ab\ncd");
    assert_string_equal(balance(RLI "ab\r\ncd" PDI), "ab\r\ncd");
    assert_string_equal(balance(RLI "a" PS "b" PDI), "a" PS "b");
    assert_string_equal(balance(RLI "a" NEL "b" PDI), "a" NEL "b");
    assert_string_equal(balance(RLO "a" PDF "\n" RLO "b" PDF), RLO "a" PDF "\n" RLO "b" PDF);
    /* a line separator does not end a paragraph */
    assert_string_equal(balance(RLO "a" LS "b" PDF), RLO "a" LS "b" PDF);
}

static void test_balance_depth(void **state)
{
    (void)state;
    char in[(TEXT_BIDI_MAX_DEPTH + 1) * 6 + 2], out[sizeof(in)];
    size_t len = 0;
    for (int i = 0; i <= TEXT_BIDI_MAX_DEPTH; i++, len += 3)
        memcpy(in + len, RLE, 3);
    in[len++] = 'x';
    for (int i = 0; i <= TEXT_BIDI_MAX_DEPTH; i++, len += 3)
        memcpy(in + len, PDF, 3);
    /* the 126th opener goes, and the closer left over with it */
    assert_int_equal(text_bidi_balance(in, len, out), TEXT_BIDI_MAX_DEPTH * 6 + 1);
}

/* Checks the promise of text_bidi_balance on its output: within every
 * paragraph each PDF closes an embedding of the current isolate, each PDI
 * an isolate with nothing left open inside it, and nothing stays open at
 * the paragraph's end. */
static int balanced(const char *s, size_t n)
{
    char stack[256];
    size_t depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            if (depth)
                return 0;
            continue;
        }
        if (i + 3 > n || memcmp(s + i, "\xE2", 1) != 0)
            continue;
        if (!memcmp(s + i, LRE, 3) || !memcmp(s + i, RLE, 3) || !memcmp(s + i, LRO, 3) || !memcmp(s + i, RLO, 3))
            stack[depth++] = 'E';
        else if (!memcmp(s + i, LRI, 3) || !memcmp(s + i, RLI, 3) || !memcmp(s + i, FSI, 3))
            stack[depth++] = 'I';
        else if (!memcmp(s + i, PDF, 3) && (!depth || stack[--depth] != 'E'))
            return 0;
        else if (!memcmp(s + i, PDI, 3) && (!depth || stack[--depth] != 'I'))
            return 0;
        i += 2;
    }
    return depth == 0;
}

static void test_balance_property(void **state)
{
    (void)state;
    static const char *const parts[] = {"a", ARABIC, "\n", LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, RLM};
    const size_t nparts = sizeof(parts) / sizeof(parts[0]);
    uint32_t seed = 42;
    char in[512], once[512], twice[512];
    for (int round = 0; round < 50000; round++) {
        size_t len = 0;
        int count = (int)(seed % 24);
        for (int k = 0; k < count; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = parts[(seed >> 16) % nparts];
            memcpy(in + len, p, strlen(p));
            len += strlen(p);
        }
        seed = seed * 1103515245u + 12345u;
        size_t n1 = text_bidi_balance(in, len, once);
        if (n1 > len || !balanced(once, n1))
            fail_msg("round %d: output not balanced", round);
        if (balanced(in, len) && (n1 != len || memcmp(in, once, len) != 0))
            fail_msg("round %d: balanced input was changed", round);
        size_t n2 = text_bidi_balance(once, n1, twice);
        if (n1 != n2 || memcmp(once, twice, n1) != 0)
            fail_msg("round %d: balancing twice changed the result", round);
    }
}

static void test_has_bidi_controls(void **state)
{
    (void)state;
    assert_false(text_has_bidi_controls("abc " ARABIC, strlen("abc " ARABIC)));
    assert_false(text_has_bidi_controls(RLM LRM ZWJ, 9)); /* marks are not controls */
    assert_true(text_has_bidi_controls("a" RLO, 4));
    assert_true(text_has_bidi_controls(PDI, 3));
    assert_false(text_has_bidi_controls("\xE2\x80", 2));
}

static void test_isolation(void **state)
{
    (void)state;
    assert_false(text_needs_isolation("Ann Lee (visitor) 42", 20));
    assert_false(text_needs_isolation("\xE6\x9D\x8E\xE9\x9B\xB7", 6));
    assert_true(text_needs_isolation(ARABIC, strlen(ARABIC)));
    assert_true(text_needs_isolation(HEBREW, strlen(HEBREW)));
    assert_true(text_needs_isolation("Ann" RLM, 6));
    assert_true(text_needs_isolation("a" PDI, 4));
    assert_true(text_needs_isolation("\xF0\x9E\xA4\x80", 4)); /* Adlam */
    /* left-to-right text is printed as it is */
    assert_string_equal(isolate("Ann"), "Ann");
    assert_string_equal(isolate(""), "");
    /* right-to-left text is isolated */
    assert_string_equal(isolate(ARABIC), FSI ARABIC PDI);
    assert_string_equal(isolate(ARABIC " 42"), FSI ARABIC " 42" PDI);
    /* balanced first, so that nothing inside can end the isolate early */
    assert_string_equal(isolate(PDI RLO ARABIC), FSI ARABIC PDI);
    assert_string_equal(isolate(RLO "gnp.exe"), "gnp.exe");
    assert_string_equal(isolate("abc" RLI "x" PDI), FSI "abc" RLI "x" PDI PDI);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_ident_accepts_real_names),
        cmocka_unit_test(test_ident_refuses),
        cmocka_unit_test(test_ident_clean),
        cmocka_unit_test(test_ident_clean_property),
        cmocka_unit_test(test_balance_vectors),
        cmocka_unit_test(test_balance_depth),
        cmocka_unit_test(test_balance_property),
        cmocka_unit_test(test_has_bidi_controls),
        cmocka_unit_test(test_isolation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
