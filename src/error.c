/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "escape.h"

int pod_error_set(struct pod_error *e, int r, const char *fmt, ...) {
        va_list ap;

        assert(r < 0);
        if (!e || e->error != 0)
                return r;

        e->error = r;
        va_start(ap, fmt);
        (void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        /* Messages name archive entries, manifest strings and URLs: no control byte from
         * them may reach a terminal, whichever caller forgot to escape (escape.h). */
        pod_escape_unsafe_inplace(e->msg, sizeof(e->msg));
        return r;
}

int pod_error_prefix(struct pod_error *e, int r, const char *fmt, ...) {
        char prefix[POD_ERROR_MSG_MAX], old[POD_ERROR_MSG_MAX];
        va_list ap;

        assert(r < 0);
        if (!e)
                return r;

        va_start(ap, fmt);
        (void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);

        if (e->error == 0 || e->msg[0] == 0) {
                e->error = r;
                (void)snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, strerror(-r));
                pod_escape_unsafe_inplace(e->msg, sizeof(e->msg));
                return r;
        }

        memcpy(old, e->msg, sizeof(old));
        (void)snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old);
        pod_escape_unsafe_inplace(e->msg, sizeof(e->msg));
        return r;
}
