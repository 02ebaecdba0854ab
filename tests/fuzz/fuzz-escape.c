/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the terminal-safe escaping (escape.c): no crash, no read past the input, and every
 * result is terminal-safe, fits its buffer and is stable under the in-place filter.  The
 * full escaping must also be reversible (unescaping gives the input back). */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "escape.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c) {
        return c >= 'a' ? c - 'a' + 10 : c - '0';
}

/* Reverses pod_cescape(): "\\\\" -> '\', "\\xNN" -> byte. */
static char *unescape(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;

        assert(out);
        while (*s) {
                if (*s != '\\') {
                        *o++ = *s++;
                        continue;
                }
                if (s[1] == '\\') {
                        *o++ = '\\';
                        s += 2;
                        continue;
                }
                assert(s[1] == 'x' && s[2] && s[3]);
                *o++ = (char)(hexval(s[2]) << 4 | hexval(s[3]));
                s += 4;
        }
        *o = 0;
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL, *e = NULL, *back = NULL;
        char small[POD_ESCAPE_MAX], msg[64], copy[64];
        struct pod_error err = {};

        if (size > 4096)
                return 0;
        s = strndup((const char *)data, size);
        if (!s)
                return 0;

        e = pod_cescape(s);
        assert(e);
        assert(pod_string_is_terminal_safe(e));
        back = unescape(e);
        assert(streq(back, s));

        pod_cescape_buf(s, small, sizeof(small));
        assert(strlen(small) < sizeof(small) && pod_string_is_terminal_safe(small));

        (void)snprintf(msg, sizeof(msg), "%s", s);
        pod_escape_unsafe_inplace(msg, sizeof(msg));
        assert(strlen(msg) < sizeof(msg) && pod_string_is_terminal_safe(msg));
        memcpy(copy, msg, sizeof(copy));
        pod_escape_unsafe_inplace(msg, sizeof(msg));
        assert(streq(copy, msg));

        (void)pod_error_set(&err, -EINVAL, "entry '%s'", s);
        assert(pod_string_is_terminal_safe(err.msg));
        return 0;
}
