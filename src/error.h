/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The error story that -errno alone cannot tell (STYLE.md section 4): a fixed-size record
 * of the error and a message naming the object and the cause.  No allocation, no release;
 * it can be copied across the stage1 sync pipe as-is.
 * Owns: struct pod_error and how it is filled.  Does not own: printing it (log.h). */

#include "macro.h"

#define POD_ERROR_MSG_MAX 512

struct pod_error {
        int error;                   /* negative errno, 0 when unset */
        char msg[POD_ERROR_MSG_MAX]; /* human-readable, names object and cause */
};

/* Fills e (may be NULL) and returns r (which must be < 0), so callers can write
 *      return pod_error_set(reterr, r, "Failed to ...", ...);
 * The first error set wins: an inner, more precise message is not overwritten by an
 * outer, vaguer one.  Use pod_error_prefix() to add context instead. */
int pod_error_set(struct pod_error *e, int r, const char *fmt, ...) _printf_(3, 4);

/* Prefix an already-set message with context ("ctx: old message"); sets it if unset. */
int pod_error_prefix(struct pod_error *e, int r, const char *fmt, ...) _printf_(3, 4);

static inline void pod_error_clear(struct pod_error *e) {
        if (e) {
                e->error = 0;
                e->msg[0] = 0;
        }
}
