/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "macro.h"

/* Length of the valid UTF-8 sequence at s that is safe to show as-is, 0 if the byte at s
 * must be escaped.  Never reads past a NUL (a NUL is never a continuation byte). */
static size_t safe_sequence_len(const unsigned char *s) {
        uint32_t cp;
        size_t n;

        if (s[0] < 0x20 || s[0] == 0x7f)
                return 0;
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                n = 2;
                cp = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                n = 3;
                cp = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                n = 4;
                cp = s[0] & 0x07;
        } else
                return 0; /* continuation byte, 0xc0/0xc1 (overlong), > 0xf4 */

        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0; /* overlong or beyond Unicode */
        if (cp >= 0xd800 && cp <= 0xdfff)
                return 0; /* surrogate */
        if (cp >= 0x80 && cp <= 0x9f)
                return 0; /* C1 controls: 8-bit CSI (U+009B), OSC (U+009D) ... */
        if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
                return 0; /* line breaks and bidi overrides that reorder what is shown */
        return n;
}

/* Escapes s into out (size > 0); double_backslash selects full cescape.  Returns true when
 * everything fit.  Each piece is written whole or not at all. */
static bool escape_into(const char *s, bool double_backslash, char *out, size_t size,
                        size_t reserve) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s;
        size_t o = 0, room = size - 1 - reserve;

        while (*p) {
                size_t n = safe_sequence_len(p);

                if (n == 0) {
                        if (o + 4 > room)
                                break;
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[*p >> 4];
                        out[o++] = hex[*p & 15];
                        p++;
                } else if (n == 1 && *p == '\\' && double_backslash) {
                        if (o + 2 > room)
                                break;
                        out[o++] = '\\';
                        out[o++] = '\\';
                        p++;
                } else {
                        if (o + n > room)
                                break;
                        memcpy(out + o, p, n);
                        o += n;
                        p += n;
                }
        }
        out[o] = 0;
        return *p == 0;
}

const char *pod_cescape_buf(const char *s, char *buf, size_t size) {
        if (!s)
                s = "(null)";
        if (size < 4) {
                if (size > 0)
                        buf[0] = 0;
                return buf;
        }
        if (escape_into(s, true, buf, size, 0))
                return buf;
        /* Did not fit: again with room for the ellipsis. */
        (void)escape_into(s, true, buf, size, 3);
        strcat(buf, "...");
        return buf;
}

char *pod_cescape(const char *s) {
        size_t size;
        char *buf;

        if (!s)
                s = "(null)";
        size = strlen(s) * 4 + 1; /* worst case: every byte as \xNN */
        buf = malloc(size);
        if (!buf)
                return NULL;
        (void)escape_into(s, true, buf, size, 0);
        return buf;
}

bool pod_string_is_terminal_safe(const char *s) {
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                size_t n = safe_sequence_len(p);

                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

void pod_escape_unsafe_inplace(char *s, size_t size) {
        char tmp[2048];

        if (!s || size == 0 || pod_string_is_terminal_safe(s))
                return;
        if (size > sizeof(tmp))
                size = sizeof(tmp);
        if (!escape_into(s, false, tmp, size, 0)) {
                (void)escape_into(s, false, tmp, size, 3);
                strcat(tmp, "...");
        }
        memcpy(s, tmp, strlen(tmp) + 1);
}

/* Code point of the (structurally valid) UTF-8 sequence at s, its length in *ret_len; -1 for
 * a byte that starts no valid sequence. */
static long decode_utf8(const unsigned char *s, size_t *ret_len) {
        size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
        long cp = n == 1 ? s[0] : n == 2 ? s[0] & 0x1f : n == 3 ? s[0] & 0x0f : s[0] & 0x07;

        if (n == 0 || s[0] > 0xf4)
                return -1;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return -1;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        *ret_len = n;
        return cp;
}

char *pod_json_escape_unsafe(const char *json) {
        const unsigned char *p = (const unsigned char *)json;
        size_t o = 0;
        char *out;

        if (!json)
                return NULL;
        out = malloc(strlen(json) * 6 + 1); /* worst case: every byte as \uXXXX */
        if (!out)
                return NULL;
        while (*p) {
                size_t n = safe_sequence_len(p), len = 1;
                long cp;

                if (n > 0 || *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
                        n = n > 0 ? n : 1;
                        memcpy(out + o, p, n);
                        o += n;
                        p += n;
                        continue;
                }
                /* json-c escapes C0 controls in strings, so what is left (DEL, C1, bidi
                 * overrides, stray bytes) is inside a string and may be written as \uXXXX;
                 * a byte that is not UTF-8 has no code point and becomes U+FFFD. */
                cp = decode_utf8(p, &len);
                if (cp < 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0xffff) {
                        /* U+FFFD itself, raw: json-c writes it back the same way, so a
                         * document serialised again is unchanged (state files, manifests). */
                        memcpy(out + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        p += cp < 0 ? 1 : len;
                        continue;
                }
                o += (size_t)sprintf(out + o, "\\u%04lx", cp);
                p += len;
        }
        out[o] = 0;
        return out;
}
