/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libseccomp for stage1's filter code (seccomp.c, config.c).  pod-stage1 links it (also
 * for "pod-stage1 enter", which rebuilds an app's filter: stage0 no longer compiles this
 * code).  pod_dlopen_seccomp() is kept as the hook before the first libseccomp call of an
 * entry point; linked, it has nothing to do. */

#include <seccomp.h>

#include "error.h"

static inline int pod_dlopen_seccomp(struct pod_error *reterr) {
        (void)reterr;
        return 0;
}
