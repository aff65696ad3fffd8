/* text: what "valid text" is, and what text from people may carry.
 *
 * Owns the one definition of valid text used for every limit we enforce in
 * characters (message length, names, passwords): strict UTF-8, no overlong
 * forms, no surrogates, nothing above U+10FFFF. And the policy for the
 * characters that change how other text looks without being seen themselves
 * (docs/architecture.md, "Text from people"):
 *
 *   identifiers  what people recognise each other by (agent, team, site and
 *                token names, emails, the visitor's name): no bidi
 *                formatting characters, no direction marks, no invisible
 *                formatting characters. text_ident_error() refuses them
 *                (input an administrator types and can fix);
 *                text_ident_clean() removes them (input a visitor cannot
 *                see, so cannot fix).
 *   free text    messages, notes, comments, reasons: right-to-left writers
 *                use marks and isolates legitimately, so they stay; only
 *                unpaired explicit controls are removed, paragraph by
 *                paragraph (text_bidi_balance), so that nothing inside can
 *                reach the text placed around it.
 *   plain-text   text_isolate() wraps what needs it in FSI ... PDI, the
 *   output       plain-text equivalent of HTML's <bdi>.
 *
 * Every function below text_has_controls expects valid UTF-8 (check with
 * text_utf8_chars first), and an output buffer that does not overlap its
 * input. Pure. */
#ifndef PARLEY_TEXT_H
#define PARLEY_TEXT_H

#include <stddef.h>

/* The value of one hexadecimal digit (either case), or -1. */
int text_hex_digit(char c);
/* The value of one base64 digit, standard alphabet (+ /) or, with url,
 * the URL-safe one (- _); -1 for anything else (padding included). */
int text_base64_digit(char c, int url);

/* Number of code points in s[0..n), or -1 when it is not valid UTF-8. */
long text_utf8_chars(const char *s, size_t n);

/* 1 when s[0..n) holds a C0 control character other than tab, LF or CR, or DEL. */
int text_has_controls(const char *s, size_t n, int allow_newlines);

/* The deepest nesting of explicit bidi controls text_bidi_balance keeps:
 * the Unicode Bidirectional Algorithm's own max_depth (UAX #9, BD2). */
#define TEXT_BIDI_MAX_DEPTH 125

/* Bytes text_isolate() may add: FSI and PDI (3 bytes each) and the NUL. */
#define TEXT_ISOLATE_EXTRA 7

/* NULL when s[0..n) is acceptable as an identifier, else a static message
 * (for a problem's field). Refused: control characters (C0, DEL, C1); the
 * bidi embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069 and
 * the marks U+200E, U+200F, U+061C; the invisible formatting characters of
 * Unicode's Default_Ignorable_Code_Point (U+00AD, U+034F, U+115F, U+1160,
 * U+17B4, U+17B5, U+180B-U+180F, U+200B-U+200F, U+2060-U+206F, U+3164,
 * U+FE00-U+FE0F, U+FEFF, U+FFA0, U+FFF0-U+FFF8, U+1BCA0-U+1BCA3,
 * U+1D173-U+1D17A, U+E0000-U+E0FFF), U+FFF9-U+FFFB, and the separators
 * U+2028, U+2029. Kept where writing needs them: ZWNJ U+200C and ZWJ U+200D
 * between two non-ASCII characters (Persian, Indic scripts, emoji
 * sequences), a variation selector (U+FE00-U+FE0F, U+E0100-U+E01EF, the
 * Mongolian U+180B-U+180D, U+180F) right after the character it varies.
 * An identifier also needs one visible character (not only spaces). */
const char *text_ident_error(const char *s, size_t n);

/* Copies s[0..n) into out (n + 1 bytes) without what text_ident_error
 * refuses: line breaks and tabs become spaces, the rest is removed, and
 * leading and trailing white space is trimmed. The result passes
 * text_ident_error unless it has no visible character left
 * (text_ident_blank). Returns its length; out is NUL-terminated. */
size_t text_ident_clean(const char *s, size_t n, char *out);

/* 1 when s[0..n) has no visible character: empty, white space, or only
 * characters text_ident_clean removes. */
int text_ident_blank(const char *s, size_t n);

/* 1 when s[0..n) holds an explicit bidi control (U+202A-U+202E,
 * U+2066-U+2069): the quick test before text_bidi_balance. */
int text_has_bidi_controls(const char *s, size_t n);

/* Copies s[0..n) into out (n + 1 bytes) without its unpaired explicit bidi
 * controls, paragraph by paragraph (a paragraph ends at LF, CR, U+001C-
 * U+001E, U+0085 or U+2029, as in UAX #9): an embedding or override
 * (LRE, RLE, LRO, RLO) without its PDF, an isolate (LRI, RLI, FSI) without
 * its PDI, a PDF or PDI that closes nothing, an embedding that a PDI closes
 * implicitly, and openers nested deeper than TEXT_BIDI_MAX_DEPTH. What stays
 * is balanced: it cannot change the order of text before or after it in
 * the same line, nor end an isolate it is placed in. Marks and paired
 * controls are kept. Never longer than the input. Returns the length; out
 * is NUL-terminated. */
size_t text_bidi_balance(const char *s, size_t n, char *out);

/* 1 when s[0..n) could change the order of neutral characters or numbers
 * placed next to it in a left-to-right line: it holds a right-to-left
 * letter (Hebrew, Arabic, Syriac, Thaana, N'Ko ... U+0590-U+08FF,
 * U+FB1D-U+FDFF, U+FE70-U+FEFE, U+10800-U+10FFF, U+1E800-U+1EFFF) or a bidi
 * formatting character or mark. */
int text_needs_isolation(const char *s, size_t n);

/* One line of plain-text output: s[0..n) balanced (text_bidi_balance) and,
 * when text_needs_isolation, wrapped in FSI U+2068 ... PDI U+2069 so that
 * it cannot reorder what is printed around it. out holds
 * n + TEXT_ISOLATE_EXTRA bytes. s is one paragraph: split it at line breaks
 * first (an isolate ends at the end of its paragraph anyway). Returns the
 * length; out is NUL-terminated. */
size_t text_isolate(const char *s, size_t n, char *out);

#endif
