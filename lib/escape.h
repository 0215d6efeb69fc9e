/* The one rule by which dbtrust shows untrusted text (certificate names and extension values,
 * keystore aliases, file names, server strings): nothing in it can drive a terminal. */
#ifndef DBT_ESCAPE_H
#define DBT_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Escaped, each byte as "\xNN" (two lowercase hex digits):
 *   - C0 controls U+0000-U+001F, tab and newline included (a value shown is one line), and DEL;
 *   - C1 controls U+0080-U+009F (bytes C2 80-C2 9F: U+009B is a terminal's CSI);
 *   - the line and paragraph separators U+2028, U+2029 and the bidirectional embeddings,
 *     overrides and isolates U+202A-U+202E, U+2066-U+2069, which reorder what is displayed;
 *   - every byte that is not part of well-formed UTF-8 (overlong forms, surrogates and values
 *     above U+10FFFF are not well-formed).
 * Everything else is kept as it is, backslashes included, so that the result is valid UTF-8
 * and escaping it again changes nothing (text may be escaped where it is made and again where
 * it is printed). Work and output are linear in the input: at most 4 bytes out per byte in.
 */

/* 1 when the code point must be escaped (or cannot be shown: a surrogate or above U+10FFFF). */
int dbt_escape_cp_unsafe(uint32_t cp);

/* 1 when dbt_escape would change s (n bytes). */
int dbt_escape_needed(const char *s, size_t n);

/* Bytes that escaping s (n bytes) produces, without the terminating NUL. */
size_t dbt_escape_len(const char *s, size_t n);

/*
 * Writes s (n bytes) escaped to out, NUL-terminated when outsz > 0. When out is too small the
 * text is cut before the first character or escape that does not fit, never inside one, so the
 * result stays valid UTF-8. Returns the bytes written, without the NUL.
 */
size_t dbt_escape(const char *s, size_t n, char *out, size_t outsz);

/* s escaped in a new string (free() it); NULL when memory runs out. */
char *dbt_escape_dup(const char *s, size_t n);

/*
 * s as one word of a POSIX shell command, in single quotes (a ' inside becomes '\''), in a new
 * string (free() it); NULL when memory runs out. Nothing in it is expanded. It does not escape:
 * text that dbt_escape_needed says would change must not be offered as a command to paste,
 * since what is shown would not be the name.
 */
char *dbt_shell_quote_dup(const char *s);

#endif
