/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Probes which kernel and system features pod can use on this machine right now.
 * Owns: the probes and their human-readable verdicts.  Read-only: changes nothing. */

#include <stdbool.h>

struct pod_features {
        bool overlayfs;        /* "overlay" in /proc/filesystems (or loadable) */
        bool user_namespaces;  /* user.max_user_namespaces > 0 */
        bool seccomp;          /* the kernel has seccomp filter mode */
        bool cgroup_v2;        /* /sys/fs/cgroup is cgroup2 (unified) */
        bool cgroup_v2_memory; /* unified hierarchy with the memory controller */
        bool systemd;          /* systemd is PID 1 and the system bus answers */
};

void pod_features_probe(struct pod_features *ret);
