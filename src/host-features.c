/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statfs.h>

#include "dlopen-systemd.h"
#include "fd-util.h"
#include "host-features.h"
#include "macro.h"

static bool file_contains_word(const char *path, const char *word) {
        _cleanup_free_ char *text = NULL;
        const char *p;
        size_t n = strlen(word);

        if (read_full_file_at(-100 /* AT_FDCWD */, path, 1 << 20, &text, NULL) < 0)
                return false;
        for (p = text; (p = strstr(p, word)); p += n) {
                bool start = p == text || strchr(" \t\n", p[-1]);
                bool end = !p[n] || strchr(" \t\n", p[n]);
                if (start && end)
                        return true;
        }
        return false;
}

void pod_features_probe(struct pod_features *ret) {
        struct pod_features f = {};
        _cleanup_free_ char *text = NULL;
        struct statfs sfs;

        /* overlay is a module on Debian: listed once loaded; the module file counts too. */
        f.overlayfs = file_contains_word("/proc/filesystems", "overlay") ||
                      access("/sys/module/overlay", F_OK) == 0;

        if (read_full_file_at(-100, "/proc/sys/user/max_user_namespaces", 64, &text, NULL) >= 0)
                f.user_namespaces = atoi(text) > 0;

        /* PR_GET_SECCOMP answers 0 when seccomp is built in and we are not filtered;
         * EINVAL when the kernel lacks it.  Filter mode needs CONFIG_SECCOMP_FILTER, which
         * shows up as "Seccomp_filters" in /proc/self/status. */
        f.seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
                    file_contains_word("/proc/self/status", "Seccomp_filters:");

        if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
                f.cgroup_v2 = true;
                f.cgroup_v2_memory =
                        file_contains_word("/sys/fs/cgroup/cgroup.controllers", "memory");
        }

        if (pod_dlopen_systemd(NULL) >= 0 && sd_booted() > 0) {
                sd_bus *bus = NULL;
                if (sd_bus_open_system(&bus) >= 0)
                        f.systemd = true;
                sd_bus_flush_close_unref(bus);
        }

        *ret = f;
}
