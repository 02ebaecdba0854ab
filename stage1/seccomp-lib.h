/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libseccomp for stage1's filter code (seccomp.c, config.c), which is also built into pod
 * for `pod enter`: there (POD_SECCOMP_DLOPEN) the library is loaded when first needed
 * (src/dlopen-seccomp.h), in pod-stage1 it is linked.  Call pod_dlopen_seccomp() before
 * the first libseccomp call of an entry point; in pod-stage1 it does nothing. */

#ifdef POD_SECCOMP_DLOPEN
#include "dlopen-seccomp.h"
#else
#include <seccomp.h>

#include "error.h"

static inline int pod_dlopen_seccomp(struct pod_error *reterr) {
        (void)reterr;
        return 0;
}
#endif
