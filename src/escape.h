/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Making untrusted bytes safe to print (threat: terminal control sequences in archive entry
 * names, link targets, manifest strings, discovery pages and HTTP replies that reach an
 * operator's terminal or a log line: an OSC title, ESC[2J, a newline that forges a line).
 * Owns: the escaping rules and the last-resort filter that error.c and log.c apply to every
 * formatted message.  Does not own: JSON output (json-c escapes control characters itself)
 * or deciding which strings are untrusted (callers do).
 *
 * Escaped as \xNN, one per byte: C0 controls, DEL, bytes that are not part of valid UTF-8
 * (also overlong forms and surrogates), the UTF-8 forms of the C1 controls U+0080..U+009F
 * (8-bit CSI and OSC) and of the line/paragraph separators and bidirectional overrides
 * (U+2028, U+2029, U+202A..U+202E, U+2066..U+2069).  Valid printable UTF-8 stays. */

#include <stdbool.h>
#include <stddef.h>

/* Room for a typical name escaped; longer results are cut with "...". */
#define POD_ESCAPE_MAX 256

/* Full escaping, like a C string body: also doubles '\', so the result is unambiguous.
 * Returns a new string, or NULL when out of memory (s NULL gives "(null)"). */
char *pod_cescape(const char *s);

/* The same into buf (size >= 4); a result that does not fit is cut at an escape boundary
 * and ends in "...".  Returns buf. */
const char *pod_cescape_buf(const char *s, char *buf, size_t size);

/* For printf arguments: "'%s'", POD_ESC(name).  The buffer lives until the end of the
 * enclosing block. */
#define POD_ESC(s) pod_cescape_buf((s), (char[POD_ESCAPE_MAX]){ 0 }, POD_ESCAPE_MAX)

/* Last-resort filter for a whole formatted message (size bytes of storage, NUL-terminated):
 * escapes the unsafe bytes above in place, but leaves '\' alone, so it is idempotent and
 * a message built from already-escaped parts is unchanged.  Cut at an escape boundary. */
void pod_escape_unsafe_inplace(char *s, size_t size);

/* True if the string contains nothing pod_escape_unsafe_inplace() would change. */
bool pod_string_is_terminal_safe(const char *s);

/* For JSON text from json-c (which escapes C0 controls in strings but not DEL, C1 controls
 * or bidi overrides): returns a copy with those written as \uXXXX (a stray non-UTF-8 byte as
 * a raw U+FFFD, so that output parsed and serialised again is the same), so JSON output is
 * terminal-safe too.  NULL when out of memory or json is NULL. */
char *pod_json_escape_unsafe(const char *json);
