/* text: UTF-8 validation and character counting.
 *
 * Owns the one definition of "valid text" used for every limit we enforce in
 * characters (message length, names, passwords): strict UTF-8, no overlong
 * forms, no surrogates, nothing above U+10FFFF. Pure. */
#ifndef PARLEY_TEXT_H
#define PARLEY_TEXT_H

#include <stddef.h>

/* Number of code points in s[0..n), or -1 when it is not valid UTF-8. */
long text_utf8_chars(const char *s, size_t n);

/* 1 when s[0..n) holds a C0 control character other than tab, LF or CR, or DEL. */
int text_has_controls(const char *s, size_t n, int allow_newlines);

#endif
