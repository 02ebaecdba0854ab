/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "escape.h"
#include "macro.h"
#include "tap.h"

static void is_escaped(const char *in, const char *want, const char *name) {
        _cleanup_free_ char *e = pod_cescape(in);

        tap_is_str(e, want, name);
}

int main(void) {
        struct pod_error err = {};
        char small[12], msg[64];

        is_escaped("plain/name-1.0", "plain/name-1.0", "printable ASCII unchanged");
        is_escaped("rootfs/\x1b[2J", "rootfs/\\x1b[2J", "ESC escaped");
        is_escaped("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07", "OSC title and BEL escaped");
        is_escaped("a\nImported sha512-0", "a\\x0aImported sha512-0", "newline escaped");
        is_escaped("tab\there\r", "tab\\x09here\\x0d", "tab and CR escaped");
        is_escaped("del\x7f", "del\\x7f", "DEL escaped");
        is_escaped("back\\slash", "back\\\\slash", "backslash doubled");
        is_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                   "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "valid UTF-8 kept");
        is_escaped("bad\xff\xfe", "bad\\xff\\xfe", "invalid bytes escaped");
        is_escaped("trunc\xe2\x82", "trunc\\xe2\\x82", "truncated sequence escaped");
        is_escaped("\xc0\xaf", "\\xc0\\xaf", "overlong '/' escaped");
        is_escaped("\xed\xa0\x80", "\\xed\\xa0\\x80", "surrogate escaped");
        is_escaped("\xc2\x9b"
                   "2J",
                   "\\xc2\\x9b2J", "8-bit CSI (U+009B) escaped");
        is_escaped("\xe2\x80\xae"
                   "txt",
                   "\\xe2\\x80\\xaetxt", "bidi override escaped");
        is_escaped("", "", "empty string");
        is_escaped(NULL, "(null)", "NULL");

        tap_is_str(pod_cescape_buf("abcdefghijklmnop", small, sizeof(small)), "abcdefgh...",
                   "long result cut with an ellipsis");
        tap_is_str(pod_cescape_buf("abcdef\x1b\x1b", small, sizeof(small)), "abcdef...",
                   "cut never splits an escape");
        tap_is_str(pod_cescape_buf("abcdefgh", small, sizeof(small)), "abcdefgh", "fits exactly");
        tap_is_str(POD_ESC("x\ny"), "x\\x0ay", "POD_ESC macro");

        strcpy(msg, "already \\x1b escaped \\ and \x1b[2J\n");
        pod_escape_unsafe_inplace(msg, sizeof(msg));
        tap_is_str(msg, "already \\x1b escaped \\ and \\x1b[2J\\x0a",
                   "in-place filter escapes controls, leaves backslashes");
        pod_escape_unsafe_inplace(msg, sizeof(msg));
        tap_is_str(msg, "already \\x1b escaped \\ and \\x1b[2J\\x0a", "in-place filter idempotent");
        strcpy(msg, "\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b");
        pod_escape_unsafe_inplace(msg, 20);
        tap_ok(strlen(msg) < 20 && pod_string_is_terminal_safe(msg),
               "in-place filter stays in size");
        tap_ok(!pod_string_is_terminal_safe("a\x1b"), "unsafe detected");
        tap_ok(pod_string_is_terminal_safe("caf\xc3\xa9"), "safe UTF-8 detected");

        {
                _cleanup_free_ char *j =
                        pod_json_escape_unsafe("{\n\t\"a\": \"del\x7f csi\xc2\x9b bidi\xe2\x80\xae "
                                               "bad\xff caf\xc3\xa9\"\n}");
                tap_is_str(j,
                           "{\n\t\"a\": \"del\\u007f csi\\u009b bidi\\u202e bad\xef\xbf\xbd "
                           "caf\xc3\xa9\"\n}",
                           "JSON: DEL, C1, bidi as \\u, a stray byte as U+FFFD, layout and UTF-8 "
                           "kept");
        }

        (void)pod_error_set(&err, -EPERM, "Refusing archive entry '%s'", "x\x1b]0;t\x07\ny");
        tap_is_str(err.msg, "Refusing archive entry 'x\\x1b]0;t\\x07\\x0ay'",
                   "pod_error_set filters the message");
        (void)pod_error_prefix(&err, -EPERM, "Failed to import '%s'", "f\r");
        tap_is_str(err.msg,
                   "Failed to import 'f\\x0d': Refusing archive entry 'x\\x1b]0;t\\x07\\x0ay'",
                   "pod_error_prefix filters the message");
        return tap_done();
}
