/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libseccomp for stage0, which needs it only in `pod version` (to report it): loaded then
 * (dlopen-util.h).  pod-stage1 links libseccomp (stage1/seccomp-lib.h); `pod enter` runs
 * "pod-stage1 enter", so stage0 never builds a filter. */

#include <seccomp.h>

#include "dlopen-util.h"

#define POD_SECCOMP_SYMBOLS(X)          \
        X(seccomp_arch_add)             \
        X(seccomp_attr_set)             \
        X(seccomp_init)                 \
        X(seccomp_load)                 \
        X(seccomp_release)              \
        X(seccomp_rule_add)             \
        X(seccomp_syscall_resolve_name) \
        X(seccomp_version)

POD_SECCOMP_SYMBOLS(POD_DLSYM_DECLARE)

/* Loads seccomp (once); -EOPNOTSUPP with reterr naming the package if it is missing. */
int pod_dlopen_seccomp(struct pod_error *reterr);

#define seccomp_arch_add             sym_seccomp_arch_add
#define seccomp_attr_set             sym_seccomp_attr_set
#define seccomp_init                 sym_seccomp_init
#define seccomp_load                 sym_seccomp_load
#define seccomp_release              sym_seccomp_release
#define seccomp_rule_add             sym_seccomp_rule_add
#define seccomp_syscall_resolve_name sym_seccomp_syscall_resolve_name
#define seccomp_version              sym_seccomp_version
