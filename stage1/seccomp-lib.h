/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libseccomp for stage1's filter code (seccomp.c, config.c).  pod-stage1 links it (also
 * for "pod-stage1 enter", which rebuilds an app's filter: stage0 no longer compiles this
 * code).  pod_dlopen_seccomp() is kept as the hook before the first libseccomp call of an
 * entry point; linked, it has nothing to do. */

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "macro.h"

struct sock_filter;
struct stage1_app;

DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release)

static inline int pod_dlopen_seccomp(struct pod_error *reterr) {
        (void)reterr;
        return 0;
}

/* seccomp-groups.c: rkt's named syscall groups ("@rkt/default-whitelist", "@systemd/mount",
 * ...; not the appc ones, which seccomp.c handles itself).  A group is the union of up to
 * three NULL-terminated lists of syscall names, some of them unknown on a given
 * architecture. */
struct stage1_seccomp_group {
        const char *name;
        const char *const *lists[3];
        bool clone3_enosys; /* an allowlist group: clone3 fails with ENOSYS (libc falls back) */
};

/* Ends with an entry whose name is NULL. */
extern const struct stage1_seccomp_group stage1_seccomp_groups[];

/* NULL when 'name' is no such group. */
const struct stage1_seccomp_group *stage1_seccomp_group_find(const char *name);

/* seccomp.c: the app's filter, built but not loaded (stage1_seccomp_apply() loads it; the
 * unit test inspects it). */
int stage1_seccomp_build(const struct stage1_app *app, scmp_filter_ctx *ret,
                         struct pod_error *reterr);

/* seccomp-cache.c, for its unit test: the entry's key (all its inputs) and name (hex SHA-512
 * prefix of the key; -ENOPKG without a build ID); a filter context as a BPF program; the
 * app's program from the entry in dir_fd (1) or compiled and written there (0; dir_fd < 0:
 * compiled only). */
#define STAGE1_SECCOMP_CACHE_NAME_SIZE 65
int stage1_seccomp_cache_key(const struct stage1_app *app, char **ret_key, size_t *ret_size,
                             char ret_name[STAGE1_SECCOMP_CACHE_NAME_SIZE]);
int stage1_seccomp_export(scmp_filter_ctx ctx, struct sock_filter **ret, size_t *ret_len);
int stage1_seccomp_cache_get(int dir_fd, const struct stage1_app *app, struct sock_filter **ret,
                             size_t *ret_len, struct pod_error *reterr);
