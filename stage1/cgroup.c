/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-app sub-cgroups (stage1/ABI.md "systemd"): a pod of several apps where some app has
 * its own resource/memory, resource/cpu or os/linux/cpu-shares isolator.  systemd owns the pod's
 * unit; with Delegate=yes (our scopes always, a kept service only when its unit file says so) the
 * subtree below the unit's cgroup is ours (systemd.io/CGROUP_DELEGATION), cgroup v2 only:
 *
 *   <unit cgroup>/            subtree_control: +memory and/or +cpu, no process of its own
 *   <unit cgroup>/pod/        stage1 and the pod init (cgroup v2's "no internal processes"
 *                             rule: a cgroup that hands controllers down holds no process)
 *   <unit cgroup>/app-<name>/ every process of app <name>; memory.max, cpu.max, cpu.weight
 *
 * Every app gets its sub-cgroup (those without a limit have "max").  Where this cannot be
 * enforced (no cgroup v2, no delegation, a controller not available to the unit) the pod
 * fails: a limit is never silently loosened into the pod-wide one.  stage1 never touches
 * cgroup v1 hierarchies (the device allow-list's own cgroup is devices.c's). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "stage1.h"

#define CGROUP_ROOT   "/sys/fs/cgroup"
#define CPU_PERIOD_US 100000ULL

uint64_t stage1_cpu_shares_to_weight(uint64_t shares) {
        /* systemd's cgroup_cpu_shares_to_weight(): the defaults (1024 shares, weight 100)
         * map onto each other, then clamp to cpu.weight's range. */
        uint64_t w = shares * 100 / 1024;

        return w < 1 ? 1 : w > 10000 ? 10000 : w;
}

static int write_at(int dir_fd, const char *name, const char *text) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dir_fd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (write(fd, text, strlen(text)) < 0)
                return -errno;
        return 0;
}

/* Our own cgroup, from the "0::/path" line of /proc/self/cgroup. */
int stage1_cgroup_own(char **ret) {
        _cleanup_free_ char *text = NULL;
        char *p, *end;
        int r;

        r = read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &text, NULL);
        if (r < 0)
                return r;
        p = strstr(text, "0::/");
        if (!p || (p != text && p[-1] != '\n'))
                return -ENOENT;
        p += 3;
        end = strchr(p, '\n');
        if (end)
                *end = 0;
        *ret = strdup(p);
        return *ret ? 0 : -ENOMEM;
}

static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

/* Moves every process of cg into cg/pod (ourselves included).  Processes may fork while we
 * move them: repeat until the list is empty. */
static int move_processes(int cg_fd, int pod_fd) {
        for (int round = 0; round < 16; round++) {
                _cleanup_free_ char *procs = NULL;
                bool any = false;
                int r;

                r = read_full_file_at(cg_fd, "cgroup.procs", 1 << 20, &procs, NULL);
                if (r < 0)
                        return r;
                for (char *line = procs, *next; line && *line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = 0;
                        r = write_at(pod_fd, "cgroup.procs", line);
                        if (r < 0 && r != -ESRCH)
                                return r;
                        any = true;
                }
                if (!any)
                        return 0;
        }
        return -EBUSY;
}

int stage1_cgroup_setup(struct stage1_config *c, struct pod_error *reterr) {
        _cleanup_close_ int cg_fd = -EBADF, pod_fd = -EBADF;
        _cleanup_free_ char *path = NULL, *full = NULL, *controllers = NULL;
        bool memory = false, cpu = false;
        char subtree[32] = "";
        struct statfs sfs;
        int r;

        if (!c->per_app_limits)
                return 0;
        for (size_t i = 0; i < c->n_apps; i++) {
                memory = memory || c->apps[i].has_memory_max;
                cpu = cpu || c->apps[i].has_cpu_quota || c->apps[i].cpu_shares > 0;
        }

        if (statfs(CGROUP_ROOT, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "Per-app resource limits need the unified cgroup hierarchy "
                                     "(cgroup v2) on " CGROUP_ROOT);
        r = stage1_cgroup_own(&path);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to find our cgroup: %m");
        if (asprintf(&full, CGROUP_ROOT "%s", path) < 0)
                return -ENOMEM;
        cg_fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open cgroup '%s': %m", full);
        r = read_full_file_at(cg_fd, "cgroup.controllers", 4096, &controllers, NULL);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s/cgroup.controllers': %m", full);
        if ((memory && !has_word(controllers, "memory")) || (cpu && !has_word(controllers, "cpu")))
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "Per-app resource limits: the %s controller is not available "
                                     "in cgroup '%s' (is the unit delegated?)",
                                     memory && !has_word(controllers, "memory") ? "memory" : "cpu",
                                     full);

        if (mkdirat(cg_fd, "pod", 0755) < 0 && errno != EEXIST)
                return pod_error_set(reterr, -errno, "Failed to create cgroup '%s/pod': %m", full);
        pod_fd = openat(cg_fd, "pod", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (pod_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open cgroup '%s/pod': %m", full);
        r = move_processes(cg_fd, pod_fd);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Failed to move the pod's processes into '%s/pod': %m", full);
        (void)snprintf(subtree, sizeof(subtree), "%s%s%s", memory ? "+memory" : "",
                       memory && cpu ? " " : "", cpu ? "+cpu" : "");
        r = write_at(cg_fd, "cgroup.subtree_control", subtree);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to enable '%s' in '%s': %m", subtree, full);

        for (size_t i = 0; i < c->n_apps; i++) {
                struct stage1_app *app = &c->apps[i];
                _cleanup_close_ int fd = -EBADF;
                _cleanup_free_ char *name = NULL;
                char buf[64];

                if (asprintf(&name, "app-%s", app->name) < 0)
                        return -ENOMEM;
                if (mkdirat(cg_fd, name, 0755) < 0 && errno != EEXIST)
                        return pod_error_set(reterr, -errno, "Failed to create cgroup '%s/%s': %m",
                                             full, name);
                fd = openat(cg_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return pod_error_set(reterr, -errno, "Failed to open cgroup '%s/%s': %m",
                                             full, name);
                if (app->has_memory_max) {
                        (void)snprintf(buf, sizeof(buf), "%" PRIu64, app->memory_max);
                        r = write_at(fd, "memory.max", buf);
                        if (r < 0)
                                return pod_error_set(reterr, r,
                                                     "Failed to write memory.max of app '%s': %m",
                                                     app->name);
                }
                if (app->has_cpu_quota) {
                        /* The kernel wants at least 1000 us per period. */
                        unsigned long long period = CPU_PERIOD_US,
                                           quota = app->cpu_quota_usec * CPU_PERIOD_US / 1000000;
                        if (quota < 1000) {
                                period = 1000000;
                                quota = app->cpu_quota_usec < 1000 ? 1000 : app->cpu_quota_usec;
                        }
                        (void)snprintf(buf, sizeof(buf), "%llu %llu", quota, period);
                        r = write_at(fd, "cpu.max", buf);
                        if (r < 0)
                                return pod_error_set(reterr, r,
                                                     "Failed to write cpu.max of app '%s': %m",
                                                     app->name);
                }
                if (app->cpu_shares > 0) {
                        (void)snprintf(buf, sizeof(buf), "%" PRIu64,
                                       stage1_cpu_shares_to_weight(app->cpu_shares));
                        r = write_at(fd, "cpu.weight", buf);
                        if (r < 0)
                                return pod_error_set(reterr, r,
                                                     "Failed to write cpu.weight of app '%s' "
                                                     "(--cpu-shares=%" PRIu64 "): %m",
                                                     app->name, app->cpu_shares);
                }
                /* --private-users: the app's own subtree is its root's (cgroup-owner.c); the
                 * limits above stay root's files and bound everything below. */
                {
                        _cleanup_free_ char *sub = NULL;

                        if (asprintf(&sub, "%s/%s", full, name) < 0)
                                return -ENOMEM;
                        r = stage1_cgroup_chown_fd(c, fd, sub, reterr);
                        if (r < 0)
                                return r;
                }
                app->cgroup_fd = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (app->cgroup_fd < 0)
                        return pod_error_set(reterr, -errno,
                                             "Failed to open cgroup.procs of app '%s': %m",
                                             app->name);
                log_debug("App '%s': cgroup '%s/%s'", app->name, full, name);
        }
        return 0;
}
