/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "key = value" configuration files: conf-file.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "conf-file.h"
#include "fd-util.h"
#include "macro.h"
#include "path-util.h"

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = 0;
        return s;
}

int pod_conf_file_parse(const char *dir, const char *name,
                        int (*kv)(const char *path, unsigned line, const char *key,
                                  const char *value, void *userdata, struct pod_error *reterr),
                        void *userdata, struct pod_error *reterr) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t size = 0;
        unsigned n = 0;
        char *line, *next;
        int r;

        if (!dir)
                return 0;
        path = path_join(dir, name);
        if (!path)
                return -ENOMEM;
        r = read_full_file_at(AT_FDCWD, path, POD_CONF_FILE_MAX, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s': %s", path, strerror(-r));
        if (memchr(text, 0, size))
                return pod_error_set(reterr, -EINVAL, "'%s' holds a NUL byte", path);
        for (line = text; line; line = next) {
                char *c, *eq;

                n++;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                c = strchr(line, '#');
                if (c)
                        *c = 0;
                line = strip(line);
                if (!*line)
                        continue;
                eq = strchr(line, '=');
                if (!eq)
                        return pod_error_set(reterr, -EINVAL, "%s:%u: expected 'key = value'", path,
                                             n);
                *eq = 0;
                r = kv(path, n, strip(line), strip(eq + 1), userdata, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}
