/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "path-util.h"

char *path_join_many(const char *first, ...) {
        va_list ap;
        size_t len = 0;
        char *out, *p;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                len += strlen(s) + 1;
        va_end(ap);

        out = malloc(len + 1);
        if (!out)
                return NULL;
        p = out;
        *p = 0;

        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *)) {
                if (p > out && p[-1] != '/' && s[0] != '/')
                        *p++ = '/';
                else if (p > out && p[-1] == '/' && s[0] == '/')
                        s++;
                size_t l = strlen(s);
                memcpy(p, s, l);
                p += l;
        }
        va_end(ap);
        *p = 0;
        return out;
}

bool path_is_absolute(const char *p) {
        return p && p[0] == '/';
}

bool path_is_safe_relative(const char *p) {
        const char *c = p;

        if (!p || !*p || p[0] == '/')
                return false;
        while (*c) {
                const char *e = strchrnul(c, '/');
                size_t n = (size_t)(e - c);

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (!*e)
                        break;
                c = e + 1;
                if (!*c)
                        return false; /* trailing slash */
        }
        return true;
}

int path_normalize_absolute(const char *p, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        const char *c;

        if (!path_is_absolute(p))
                return -EINVAL;
        out = malloc(strlen(p) + 2);
        if (!out)
                return -ENOMEM;

        c = p;
        while (*c) {
                while (*c == '/')
                        c++;
                if (!*c)
                        break;
                const char *e = strchrnul(c, '/');
                size_t n = (size_t)(e - c);

                if (n == 1 && c[0] == '.') {
                        /* skip */
                } else if (n == 2 && c[0] == '.' && c[1] == '.') {
                        if (len == 0)
                                return -EINVAL;
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        len--; /* drop the '/' too */
                } else {
                        out[len++] = '/';
                        memcpy(out + len, c, n);
                        len += n;
                }
                c = e;
        }
        if (len == 0)
                out[len++] = '/';
        out[len] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Runs of [a-z0-9]+ separated by exactly one separator from seps. */
static bool separated_alnum(const char *s, const char *seps) {
        bool need_alnum = true;

        if (!s || !*s)
                return false;
        for (; *s; s++) {
                if (is_lower_alnum(*s))
                        need_alnum = false;
                else if (strchr(seps, *s)) {
                        if (need_alnum)
                                return false;
                        need_alnum = true;
                } else
                        return false;
        }
        return !need_alnum;
}

bool ac_identifier_valid(const char *s) {
        return separated_alnum(s, "-._~/");
}

bool ac_name_valid(const char *s) {
        return separated_alnum(s, "-");
}

bool env_name_valid(const char *s) {
        if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
                return false;
        for (s++; *s; s++)
                if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-'))
                        return false;
        return true;
}

bool image_id_valid(const char *s, bool full) {
        size_t n = 0;

        if (!s || strncmp(s, "sha512-", 7) != 0)
                return false;
        for (s += 7; *s; s++, n++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return full ? n == 128 : (n >= 1 && n <= 128);
}

char *ac_name_from_image_name(const char *image_name) {
        const char *base = strrchr(image_name, '/');
        char *out, *o;

        base = base ? base + 1 : image_name;
        out = malloc(strlen(base) + 1);
        if (!out)
                return NULL;
        o = out;
        for (const char *c = base; *c; c++) {
                char ch = (char)tolower((unsigned char)*c);
                if (!is_lower_alnum(ch))
                        ch = '-';
                if (ch == '-' && (o == out || o[-1] == '-'))
                        continue;
                *o++ = ch;
        }
        while (o > out && o[-1] == '-')
                o--;
        *o = 0;
        if (!*out) {
                free(out);
                return NULL;
        }
        return out;
}

bool string_has_prefix(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}
