/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource limits where no systemd unit carries them (stage1/ABI.md "Limits without
 * systemd"), as rkt enforced --memory and --cpu on any host.  Owns: the cgroups stage1 makes
 * for resource/memory and resource/cpu when systemd is not PID 1, the limits written there,
 * moving the pod init and the apps in, and removing them.  Does not own: the limits under
 * systemd (scope.c: unit properties; cgroup.c: per-app sub-cgroups of a delegated unit) or
 * the device allow-list's cgroup (devices.c), which on a pure cgroup2 host is the same
 * directory: a process is in one cgroup2 cgroup only, so the limits go onto it.
 *
 * Per controller (memory, cpu), wherever the host has it:
 *   cgroup v1 (the hybrid layout of the development machines too):
 *     /sys/fs/cgroup/<controller><our cgroup>/pod-<uuid>/        the init, pod-wide limit
 *     /sys/fs/cgroup/<controller><our cgroup>/pod-<uuid>/app-<name>/  per-app limit
 *     memory.limit_in_bytes (and memory.memsw.limit_in_bytes where swap is accounted, so
 *     that the limit is not escaped into swap); cpu.cfs_period_us / cpu.cfs_quota_us;
 *     cpu.shares (os/linux/cpu-shares).
 *   cgroup v2 (the controller not bound to a v1 hierarchy): <cgroup2><our cgroup>/pod-<uuid>
 *     (devices.c's), the controller enabled in our cgroup's subtree_control, memory.max /
 *     cpu.max / cpu.weight (cpu-shares converted as systemd does).  Per-app limits there would need
 * the pod cgroup to hand the controllers down with the init in a leaf of its own: refused (they
 * work under systemd, cgroup.c). A controller that is missing, or that our cgroup cannot hand down,
 * fails the pod with a message naming the controller and the cgroup: a limit is never silently
 * dropped.
 *
 * The paths are recorded in the pod dir's `limits-cgroups` before they exist, so that
 * `pod gc` (stage1 gc) removes them whatever killed the pod, as devices.c does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "dlopen-systemd.h"
#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "path-util.h"
#include "stage1.h"

#define LIMITS_FILE   "limits-cgroups"
#define CPU_PERIOD_US 100000ULL

enum { CTRL_MEMORY, CTRL_CPU, _CTRL_MAX };
static const char *const ctrl_name[_CTRL_MAX] = { "memory", "cpu" };

static bool is_fs(const char *path, long magic) {
        struct statfs sfs;

        return statfs(path, &sfs) >= 0 && sfs.f_type == magic;
}

/* The cgroup2 mount: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid). */
static const char *cgroup2_mount(void) {
        if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
                return "/sys/fs/cgroup";
        if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
                return "/sys/fs/cgroup/unified";
        return NULL;
}

/* Our cgroup in the v1 hierarchy that has controller ("N:cpu,cpuacct:/path" lines), or
 * -ENOENT when no v1 hierarchy has it. */
static int own_v1(const char *controller, char **ret) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                char *ctrls, *path;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                ctrls = strchr(line, ':');
                if (!ctrls)
                        continue;
                ctrls++;
                path = strchr(ctrls, ':');
                if (!path)
                        continue;
                *path++ = 0;
                for (char *w = ctrls, *comma; w; w = comma ? comma + 1 : NULL) {
                        comma = strchr(w, ',');
                        if ((comma ? strncmp(w, controller, (size_t)(comma - w)) == 0 &&
                                             strlen(controller) == (size_t)(comma - w)
                                   : streq(w, controller)) &&
                            path[0] == '/') {
                                *ret = strdup(path);
                                return *ret ? 0 : -ENOMEM;
                        }
                }
        }
        return -ENOENT;
}

static int write_at(int dir_fd, const char *name, const char *text) {
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        fd = openat(dir_fd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        n = write(fd, text, strlen(text));
        if (n < 0)
                return -errno;
        return (size_t)n == strlen(text) ? 0 : -EIO;
}

static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

static bool needs(const struct stage1_config *c, int ctrl) {
        if (ctrl == CTRL_MEMORY && c->has_memory_max)
                return true;
        if (ctrl == CTRL_CPU && (c->has_cpu_quota || c->cpu_shares))
                return true;
        for (size_t i = 0; c->per_app_limits && i < c->n_apps; i++)
                if (ctrl == CTRL_MEMORY ? c->apps[i].has_memory_max
                                        : c->apps[i].has_cpu_quota || c->apps[i].cpu_shares)
                        return true;
        return false;
}

/* os/linux/cpu-shares: v1's cpu.shares takes the value as is; v2's cpu.weight the way
 * systemd converts CPUShares= (cgroup.c). */
static int write_shares(int fd, bool v2, uint64_t shares, const char *where,
                        struct pod_error *reterr) {
        char buf[32];
        int r;

        if (shares == 0)
                return 0;
        (void)snprintf(buf, sizeof(buf), "%" PRIu64,
                       v2 ? stage1_cpu_shares_to_weight(shares) : shares);
        r = write_at(fd, v2 ? "cpu.weight" : "cpu.shares", buf);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to set the CPU shares of '%s' (%s): %m",
                                     where, v2 ? "cpu.weight" : "cpu.shares");
        return 0;
}

static int write_limit(int fd, int ctrl, bool v2, bool has, uint64_t value, const char *where,
                       struct pod_error *reterr) {
        char buf[64];
        int r;

        if (!has)
                return 0;
        if (ctrl == CTRL_MEMORY) {
                (void)snprintf(buf, sizeof(buf), "%" PRIu64, value);
                r = write_at(fd, v2 ? "memory.max" : "memory.limit_in_bytes", buf);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Failed to set the memory limit of '%s': %m", where);
                /* v1 with swap accounting: the limit covers memory+swap too (it must be set
                 * after memory.limit_in_bytes, which it may not undercut). */
                if (!v2) {
                        r = write_at(fd, "memory.memsw.limit_in_bytes", buf);
                        if (r < 0 && r != -ENOENT)
                                return pod_error_set(
                                        reterr, r,
                                        "Failed to set the memory+swap limit of '%s': %m", where);
                } else {
                        r = write_at(fd, "memory.swap.max", "0");
                        if (r < 0 && r != -ENOENT)
                                return pod_error_set(reterr, r,
                                                     "Failed to set memory.swap.max of '%s': %m",
                                                     where);
                }
                return 0;
        }

        /* cpu: quota per period; the kernel wants at least 1000 us of quota. */
        unsigned long long period = CPU_PERIOD_US, quota = value * CPU_PERIOD_US / 1000000;
        if (quota < 1000) {
                period = 1000000;
                quota = value < 1000 ? 1000 : value;
        }
        if (v2) {
                (void)snprintf(buf, sizeof(buf), "%llu %llu", quota, period);
                r = write_at(fd, "cpu.max", buf);
        } else {
                (void)snprintf(buf, sizeof(buf), "%llu", period);
                r = write_at(fd, "cpu.cfs_period_us", buf);
                if (r >= 0) {
                        (void)snprintf(buf, sizeof(buf), "%llu", quota);
                        r = write_at(fd, "cpu.cfs_quota_us", buf);
                }
        }
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to set the CPU limit of '%s': %m", where);
        return 0;
}

static int record(struct stage1_config *c, const char *path, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;

        for (size_t i = 0; i < c->n_limit_cgroups; i++)
                if (streq(c->limit_cgroups[i], path))
                        return 0;
        char **l = realloc(c->limit_cgroups, (c->n_limit_cgroups + 1) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        c->limit_cgroups = l;
        l[c->n_limit_cgroups] = strdup(path);
        if (!l[c->n_limit_cgroups])
                return -ENOMEM;
        c->n_limit_cgroups++;
        for (size_t i = 0; i < c->n_limit_cgroups; i++)
                n += strlen(c->limit_cgroups[i]) + 1;
        text = calloc(1, n + 1);
        if (!text)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_limit_cgroups; i++) {
                strcat(text, c->limit_cgroups[i]);
                strcat(text, "\n");
        }
        int r = stage1_write_file(c->pod_dir_fd, LIMITS_FILE, text);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write '" LIMITS_FILE "': %m");
        return 0;
}

static int open_or_make(const char *path, struct pod_error *reterr) {
        int fd;

        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return pod_error_set(reterr, -errno, "Failed to create cgroup '%s': %m", path);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open cgroup '%s': %m", path);
        return fd;
}

static int setup_v1(struct stage1_config *c, int ctrl, const char *own, struct pod_error *reterr) {
        _cleanup_free_ char *mnt = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *name = ctrl_name[ctrl];
        int r;

        if (asprintf(&mnt, "/sys/fs/cgroup/%s", name) < 0)
                return -ENOMEM;
        if (!is_fs(mnt, CGROUP_SUPER_MAGIC))
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The pod has a %s limit, systemd is not running and the %s "
                                     "controller's cgroup v1 hierarchy is not mounted on '%s': "
                                     "the limit cannot be enforced",
                                     name, name, mnt);
        if (asprintf(&path, "%s%s/pod-%s", mnt, streq(own, "/") ? "" : own, c->uuid) < 0)
                return -ENOMEM;
        r = record(c, path, reterr);
        if (r < 0)
                return r;
        fd = open_or_make(path, reterr);
        if (fd < 0)
                return fd;
        r = write_limit(fd, ctrl, false, ctrl == CTRL_MEMORY ? c->has_memory_max : c->has_cpu_quota,
                        ctrl == CTRL_MEMORY ? c->memory_max : c->cpu_quota_usec, path, reterr);
        if (r >= 0 && ctrl == CTRL_CPU)
                r = write_shares(fd, false, c->cpu_shares, path, reterr);
        if (r < 0)
                return r;
        c->limit_init_fds[ctrl] = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (c->limit_init_fds[ctrl] < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s/cgroup.procs': %m", path);

        for (size_t i = 0; c->per_app_limits && i < c->n_apps; i++) {
                struct stage1_app *app = &c->apps[i];
                _cleanup_free_ char *sub = NULL;
                _cleanup_close_ int afd = -EBADF;
                bool has = ctrl == CTRL_MEMORY ? app->has_memory_max
                                               : app->has_cpu_quota || app->cpu_shares;

                if (!has)
                        continue;
                if (asprintf(&sub, "%s/app-%s", path, app->name) < 0)
                        return -ENOMEM;
                afd = open_or_make(sub, reterr);
                if (afd < 0)
                        return afd;
                r = write_limit(afd, ctrl, false,
                                ctrl == CTRL_MEMORY ? app->has_memory_max : app->has_cpu_quota,
                                ctrl == CTRL_MEMORY ? app->memory_max : app->cpu_quota_usec, sub,
                                reterr);
                if (r >= 0 && ctrl == CTRL_CPU)
                        r = write_shares(afd, false, app->cpu_shares, sub, reterr);
                if (r < 0)
                        return r;
                app->limit_fds[ctrl] =
                        openat(afd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (app->limit_fds[ctrl] < 0)
                        return pod_error_set(reterr, -errno, "Failed to open '%s/cgroup.procs': %m",
                                             sub);
                log_debug("App '%s': %s limit in cgroup '%s'", app->name, name, sub);
        }
        log_debug("Pod %s limit: cgroup '%s'", name, path);
        return 0;
}

static int setup_v2(struct stage1_config *c, int ctrl, struct pod_error *reterr) {
        _cleanup_free_ char *own = NULL, *parent = NULL, *path = NULL, *ctrls = NULL;
        _cleanup_close_ int pfd = -EBADF, fd = -EBADF;
        const char *name = ctrl_name[ctrl], *mnt = cgroup2_mount();
        char enable[16];
        int r;

        if (!mnt)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The pod has a %s limit, systemd is not running and no cgroup "
                                     "hierarchy has the %s controller: the limit cannot be "
                                     "enforced",
                                     name, name);
        if (c->per_app_limits)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "Per-app %s limits without systemd need the %s controller in "
                                     "a cgroup v1 hierarchy; on cgroup v2 they need a delegated "
                                     "systemd unit",
                                     name, name);
        r = stage1_cgroup_own(&own);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to find our cgroup: %m");
        if (asprintf(&parent, "%s%s", mnt, streq(own, "/") ? "" : own) < 0 ||
            asprintf(&path, "%s/pod-%s", parent, c->uuid) < 0)
                return -ENOMEM;
        pfd = open(parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (pfd < 0)
                return pod_error_set(reterr, -errno, "Failed to open cgroup '%s': %m", parent);
        r = read_full_file_at(pfd, "cgroup.controllers", 4096, &ctrls, NULL);
        if (r < 0 || !has_word(ctrls, name))
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The pod has a %s limit, systemd is not running and the %s "
                                     "controller is not available in cgroup '%s': the limit "
                                     "cannot be enforced",
                                     name, name, parent);
        (void)snprintf(enable, sizeof(enable), "+%s", name);
        r = write_at(pfd, "cgroup.subtree_control", enable);
        if (r < 0)
                return pod_error_set(
                        reterr, r,
                        "The pod has a %s limit and systemd is not running, but cgroup "
                        "'%s' cannot hand the %s controller down (%m; a cgroup2 "
                        "cgroup that holds processes can only do so at the root): the "
                        "limit cannot be enforced",
                        name, parent, name);
        r = record(c, path, reterr);
        if (r < 0)
                return r;
        fd = open_or_make(path, reterr);
        if (fd < 0)
                return fd;
        r = write_limit(fd, ctrl, true, ctrl == CTRL_MEMORY ? c->has_memory_max : c->has_cpu_quota,
                        ctrl == CTRL_MEMORY ? c->memory_max : c->cpu_quota_usec, path, reterr);
        if (r >= 0 && ctrl == CTRL_CPU)
                r = write_shares(fd, true, c->cpu_shares, path, reterr);
        if (r < 0)
                return r;
        c->limit_init_fds[ctrl] = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (c->limit_init_fds[ctrl] < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s/cgroup.procs': %m", path);
        log_debug("Pod %s limit: cgroup '%s'", name, path);
        return 0;
}

int stage1_limits_setup(struct stage1_config *c, bool have_unit, struct pod_error *reterr) {
        int r;

        if (have_unit)
                return 0;
        /* Rootless without a unit: the cgroup file system is host root's (scope.c refused
         * already; this is the last line). */
        if (c->rootless) {
                for (int ctrl = 0; ctrl < _CTRL_MAX; ctrl++)
                        if (needs(c, ctrl))
                                return pod_error_set(reterr, -EOPNOTSUPP,
                                                     "Resource limits (%s) of a rootless pod "
                                                     "need the user's systemd manager: "
                                                     "cgroupfs limits need root",
                                                     ctrl_name[ctrl]);
                return 0;
        }
        if (sd_booted() > 0)
                return 0;
        for (int ctrl = 0; ctrl < _CTRL_MAX; ctrl++) {
                _cleanup_free_ char *own = NULL;

                if (!needs(c, ctrl))
                        continue;
                r = own_v1(ctrl_name[ctrl], &own);
                if (r == -ENOENT)
                        r = setup_v2(c, ctrl, reterr);
                else if (r < 0)
                        return pod_error_set(reterr, r, "Failed to read /proc/self/cgroup: %m");
                else
                        r = setup_v1(c, ctrl, own, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int stage1_limits_enter(const struct stage1_config *c, pid_t pid, struct pod_error *reterr) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

        for (int ctrl = 0; ctrl < _CTRL_MAX; ctrl++)
                if (c->limit_init_fds[ctrl] >= 0 &&
                    write(c->limit_init_fds[ctrl], buf, (size_t)n) != n)
                        return pod_error_set(reterr, -errno,
                                             "Failed to move the pod init into its %s cgroup: %m",
                                             ctrl_name[ctrl]);
        return 0;
}

int stage1_limits_enter_app(const struct stage1_app *app) {
        for (int ctrl = 0; ctrl < _CTRL_MAX; ctrl++)
                if (app->limit_fds[ctrl] >= 0 && write(app->limit_fds[ctrl], "0", 1) != 1)
                        return -errno;
        return 0;
}

/* Only what we can have made: /sys/fs/cgroup/.../pod-<uuid>, no "." or ".." components. */
static bool path_ours(const char *path, const char *uuid) {
        _cleanup_free_ char *suffix = NULL;
        size_t n = strlen(path), m;

        if (asprintf(&suffix, "/pod-%s", uuid) < 0)
                return false;
        m = strlen(suffix);
        if (!string_has_prefix(path, "/sys/fs/cgroup/") || n <= m || !streq(path + n - m, suffix))
                return false;
        for (const char *p = path; (p = strchr(p, '/')); p++)
                if (strneq(p, "/./", 3) || strneq(p, "/../", 4) || strneq(p, "//", 2) ||
                    streq(p, "/.") || streq(p, "/.."))
                        return false;
        return true;
}

/* Kills what is left in path (after a crash the pod's processes may still be there), then
 * removes it; -errno after about two seconds of EBUSY. */
static int remove_cgroup(const char *path) {
        for (int i = 0; i < 100; i++) {
                _cleanup_free_ char *procs = NULL, *procs_path = NULL;

                if (rmdir(path) >= 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || i == 99)
                        return -errno;
                if (asprintf(&procs_path, "%s/cgroup.procs", path) < 0)
                        return -ENOMEM;
                if (read_full_file_at(AT_FDCWD, procs_path, 1 << 20, &procs, NULL) >= 0)
                        for (char *p = procs, *next; p && *p; p = next) {
                                next = strchr(p, '\n');
                                if (next)
                                        *next++ = 0;
                                if (atoi(p) > 1 && atoi(p) != (int)getpid())
                                        (void)kill((pid_t)atoi(p), SIGKILL);
                        }
                (void)nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
        }
        return -EBUSY;
}

int stage1_limits_release(int pod_dir_fd, const char *uuid, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file_at(pod_dir_fd, LIMITS_FILE, 1 << 16, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '" LIMITS_FILE "': %m");
        for (char *path = text, *next; path && *path; path = next) {
                _cleanup_closedir_ DIR *d = NULL;
                struct dirent *de;

                next = strchr(path, '\n');
                if (next)
                        *next++ = 0;
                if (!path_ours(path, uuid))
                        return pod_error_set(reterr, -EINVAL,
                                             "'" LIMITS_FILE "' names '%s', not a cgroup of pod "
                                             "%s: not removing it",
                                             path, uuid);
                d = opendir(path);
                while (d && (de = readdir(d))) {
                        _cleanup_free_ char *sub = NULL;

                        if (de->d_type != DT_DIR || !string_has_prefix(de->d_name, "app-"))
                                continue;
                        if (asprintf(&sub, "%s/%s", path, de->d_name) < 0)
                                return -ENOMEM;
                        r = remove_cgroup(sub);
                        if (r < 0)
                                return pod_error_set(reterr, r, "Failed to remove cgroup '%s': %m",
                                                     sub);
                }
                r = remove_cgroup(path);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to remove cgroup '%s': %m", path);
                log_debug("Removed cgroup '%s'", path);
        }
        if (unlinkat(pod_dir_fd, LIMITS_FILE, 0) < 0 && errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to remove '" LIMITS_FILE "': %m");
        return 0;
}
