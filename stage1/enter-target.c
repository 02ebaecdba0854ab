/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `pod-stage1 enter`: finding the app's process and reading what the entered command will
 * reproduce of it (enter.h).  Everything here runs on the host side, before anything of the
 * pod is joined. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "enter.h"
#include "fd-util.h"
#include "path-util.h"
#include "syscall.h"

#define PROC_FILE_MAX (4u << 20)
#define MNTNS_FILE    "app-mntns"

static const char *const ns_names[] = { "ipc", "uts", "net", "pid", "mnt" };

struct stage1_enter_target *stage1_enter_target_free(struct stage1_enter_target *t) {
        if (!t)
                return NULL;
        safe_close(t->init_pidfd);
        safe_close(t->app_pidfd);
        for (size_t i = 0; i < ELEMENTSOF(t->ns_fds); i++)
                safe_close(t->ns_fds[i]);
        safe_close(t->cgroup_fd);
        safe_close(t->userns_fd);
        free(t->groups);
        strv_free(t->env);
        free(t);
        return NULL;
}

static int read_proc_file(pid_t pid, const char *name, char **ret, size_t *ret_size) {
        char p[64];

        (void)snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, name);
        return read_full_file_at(AT_FDCWD, p, PROC_FILE_MAX, ret, ret_size);
}

/* Value of "Key:" in a /proc/PID/status text, or NULL. */
static const char *status_field(const char *text, const char *key) {
        size_t n = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strneq(l, key, n) && l[n] == ':')
                        return l + n + 1 + strspn(l + n + 1, " \t");
        return NULL;
}

static int parse_ids(const char *s, unsigned ret[3]) {
        for (size_t i = 0; i < 3; i++) {
                char *end;
                unsigned long v;

                if (!s)
                        return -EBADMSG;
                errno = 0;
                v = strtoul(s, &end, 10);
                if (errno != 0 || end == s || v > UINT32_MAX)
                        return -EBADMSG;
                ret[i] = (unsigned)v;
                s = end;
        }
        return 0;
}

static int parse_hex64(const char *s, uint64_t *ret) {
        char *end;

        if (!s)
                return -EBADMSG;
        errno = 0;
        *ret = strtoull(s, &end, 16);
        if (errno != 0 || end == s)
                return -EBADMSG;
        return 0;
}

static int parse_groups(const char *s, gid_t **ret, size_t *ret_n) {
        _cleanup_free_ gid_t *l = NULL;
        size_t n = 0;

        if (!s)
                return -EBADMSG;
        while (*s && *s != '\n') {
                char *end;
                unsigned long v;
                gid_t *nl;

                s += strspn(s, " \t");
                if (!*s || *s == '\n')
                        break;
                errno = 0;
                v = strtoul(s, &end, 10);
                if (errno != 0 || end == s || v > UINT32_MAX)
                        return -EBADMSG;
                nl = reallocarray(l, n + 1, sizeof(*l));
                if (!nl)
                        return -ENOMEM;
                l = nl;
                l[n++] = (gid_t)v;
                s = end;
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

static int environ_to_strv(const char *buf, size_t size, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = 0;

        for (size_t i = 0; i < size;) {
                size_t len = strnlen(buf + i, size - i);
                char **nl;

                if (len > 0) {
                        nl = reallocarray(l, n + 2, sizeof(*l));
                        if (!nl)
                                return -ENOMEM;
                        l = nl;
                        l[n] = strndup(buf + i, len);
                        if (!l[n])
                                return -ENOMEM;
                        l[++n] = NULL;
                }
                i += len + 1;
        }
        if (!l) {
                l = calloc(1, sizeof(*l));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int ns_stat(pid_t pid, const char *ns, struct stat *ret) {
        char p[64];

        (void)snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns);
        if (stat(p, ret) < 0)
                return -errno;
        return 0;
}

/* The init's children: /proc/PID/task/PID/children (CONFIG_PROC_CHILDREN), else a scan of
 * /proc for PPid. */
static int list_children(pid_t init_pid, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ pid_t *l = NULL;
        char p[64];
        size_t n = 0;
        int r;

        (void)snprintf(p, sizeof(p), "task/%d/children", (int)init_pid);
        r = read_proc_file(init_pid, p, &text, NULL);
        if (r >= 0) {
                for (char *s = text, *end; *s; s = end) {
                        long v;
                        pid_t *nl;

                        s += strspn(s, " \n");
                        if (!*s)
                                break;
                        v = strtol(s, &end, 10);
                        if (end == s || v <= 0)
                                return -EBADMSG;
                        nl = reallocarray(l, n + 1, sizeof(*l));
                        if (!nl)
                                return -ENOMEM;
                        l = nl;
                        l[n++] = (pid_t)v;
                }
        } else if (r == -ENOENT) {
                _cleanup_closedir_ DIR *d = opendir("/proc");
                struct dirent *de;

                if (!d)
                        return -errno;
                while ((de = readdir(d))) {
                        _cleanup_free_ char *st = NULL;
                        const char *pp;
                        long pid;
                        char *end;
                        pid_t *nl;

                        pid = strtol(de->d_name, &end, 10);
                        if (*end || pid <= 0)
                                continue;
                        if (read_proc_file((pid_t)pid, "status", &st, NULL) < 0)
                                continue; /* gone meanwhile */
                        pp = status_field(st, "PPid");
                        if (!pp || strtol(pp, NULL, 10) != init_pid)
                                continue;
                        nl = reallocarray(l, n + 1, sizeof(*l));
                        if (!nl)
                                return -ENOMEM;
                        l = nl;
                        l[n++] = (pid_t)pid;
                }
        } else
                return r;
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

int stage1_enter_read_mntns(int pod_dir_fd, const char *app, dev_t *ret_dev, ino_t *ret_ino,
                            struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t n = strlen(app);
        int r;

        r = read_full_file_at(pod_dir_fd, MNTNS_FILE, PROC_FILE_MAX, &text, NULL);
        if (r == -ENOENT)
                return pod_error_set(reterr, r,
                                     "The pod dir has no '" MNTNS_FILE "' (the pod is still "
                                     "starting, or its stage1 is older than ABI 3)");
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '" MNTNS_FILE "': %m");
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                unsigned long long dev, ino;
                char *end;

                if (!strneq(l, app, n) || l[n] != ' ')
                        continue;
                errno = 0;
                dev = strtoull(l + n + 1, &end, 10);
                if (errno != 0 || end == l + n + 1 || *end != ':')
                        break;
                ino = strtoull(end + 1, &end, 10);
                if (errno != 0 || (*end != '\n' && *end != 0))
                        break;
                *ret_dev = (dev_t)dev;
                *ret_ino = (ino_t)ino;
                return 0;
        }
        return pod_error_set(reterr, -ENOENT,
                             "'" MNTNS_FILE "' has no valid line for app '%s' (the pod is still "
                             "starting?)",
                             app);
}

/* The first child of the init (in fork order: the app's pre-start, main or post-stop
 * process before any orphan the init adopted later) in the mount namespace (dev, ino). */
static int find_app(pid_t init_pid, const char *app, dev_t dev, ino_t ino, pid_t *ret,
                    struct pod_error *reterr) {
        _cleanup_free_ pid_t *children = NULL;
        size_t n = 0;
        int r;

        r = list_children(init_pid, &children, &n);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to list the processes of pid %d: %m",
                                     (int)init_pid);
        for (size_t i = 0; i < n; i++) {
                struct stat st;

                r = ns_stat(children[i], "mnt", &st);
                if (r == -ENOENT || r == -ESRCH)
                        continue; /* gone meanwhile */
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to inspect pid %d: %m",
                                             (int)children[i]);
                if (st.st_dev == dev && st.st_ino == ino) {
                        *ret = children[i];
                        return 0;
                }
        }
        return pod_error_set(reterr, -ESRCH, "App '%s' has no running process", app);
}

static int read_credentials(struct stage1_enter_target *t, struct pod_error *reterr) {
        _cleanup_free_ char *st = NULL, *env = NULL;
        unsigned ids[3];
        size_t size = 0;
        const char *v;
        int r;

        r = read_proc_file(t->app_pid, "status", &st, NULL);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the status of pid %d: %m",
                                     (int)t->app_pid);
        /* A PID recycled between the listing and the pidfd would have another parent (the
         * pidfd check at the end makes sure this text is the pinned process's). */
        v = status_field(st, "PPid");
        if (!v || strtol(v, NULL, 10) != t->init_pid)
                return pod_error_set(reterr, -ESRCH, "Pid %d is no longer a child of the pod init",
                                     (int)t->app_pid);
        r = parse_ids(status_field(st, "Uid"), ids);
        if (r < 0)
                return pod_error_set(reterr, r, "Pid %d: unreadable Uid", (int)t->app_pid);
        for (size_t i = 0; i < 3; i++)
                t->uid[i] = ids[i];
        r = parse_ids(status_field(st, "Gid"), ids);
        if (r < 0)
                return pod_error_set(reterr, r, "Pid %d: unreadable Gid", (int)t->app_pid);
        for (size_t i = 0; i < 3; i++)
                t->gid[i] = ids[i];
        r = parse_groups(status_field(st, "Groups"), &t->groups, &t->n_groups);
        if (r < 0)
                return pod_error_set(reterr, r, "Pid %d: unreadable Groups", (int)t->app_pid);
        if (parse_hex64(status_field(st, "CapInh"), &t->cap_inh) < 0 ||
            parse_hex64(status_field(st, "CapPrm"), &t->cap_prm) < 0 ||
            parse_hex64(status_field(st, "CapEff"), &t->cap_eff) < 0 ||
            parse_hex64(status_field(st, "CapBnd"), &t->cap_bnd) < 0 ||
            parse_hex64(status_field(st, "CapAmb"), &t->cap_amb) < 0)
                return pod_error_set(reterr, -EBADMSG, "Pid %d: unreadable capability sets",
                                     (int)t->app_pid);
        v = status_field(st, "NoNewPrivs");
        if (!v)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The kernel does not show NoNewPrivs in /proc");
        t->no_new_privs = *v == '1';
        v = status_field(st, "Seccomp");
        if (!v)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The kernel does not show Seccomp in /proc");
        t->seccomp_mode = *v - '0';
        if (t->seccomp_mode < 0 || t->seccomp_mode > 2)
                return pod_error_set(reterr, -EBADMSG, "Pid %d: unknown seccomp mode '%c'",
                                     (int)t->app_pid, *v);

        r = read_proc_file(t->app_pid, "environ", &env, &size);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the environment of pid %d: %m",
                                     (int)t->app_pid);
        return environ_to_strv(env, size, &t->env);
}

/* The cgroup of pid (the app's main process: with app-level limits every app has its own,
 * <unit>/app-<name>, whose limits then bind the entered command too) when the host has
 * only the unified (v2) hierarchy: on hybrid hosts
 * /sys/fs/cgroup is a tmpfs of v1 controllers and the pod's "0::" path lives elsewhere;
 * systemd owns those, so we stay out.  Not writable (we are not root): -EBADF, skipped. */
static int open_cgroup(pid_t pid, int *ret_fd, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL, *path = NULL;
        _cleanup_close_ int root = -EBADF, fd = -EBADF;
        struct statfs sfs;
        char *line, *nl;
        int r;

        *ret_fd = -EBADF;
        if (statfs("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                return 0;
        r = read_proc_file(pid, "cgroup", &text, NULL);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the cgroup of pid %d: %m",
                                     (int)pid);
        line = strstr(text, "0::/");
        if (!line || (line != text && line[-1] != '\n'))
                return 0;
        line += 3;
        nl = strchr(line, '\n');
        if (nl)
                *nl = 0;
        if (strstr(line, " (deleted)"))
                return 0;
        root = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return pod_error_set(reterr, -errno, "Failed to open /sys/fs/cgroup: %m");
        path = strdup(line[1] ? line + 1 : ".");
        if (!path)
                return -ENOMEM;
        if (!streq(path, ".") && !path_is_safe_relative(path))
                return pod_error_set(reterr, -EBADMSG, "Pid %d: odd cgroup path '%s'", (int)pid,
                                     line);
        fd = openat(root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open cgroup '%s': %m", line);
        if (faccessat(fd, "cgroup.procs", W_OK, AT_EACCESS) < 0)
                return 0;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int stage1_enter_target_open(pid_t init_pid, const char *app, dev_t dev, ino_t ino,
                             struct stage1_enter_target **ret, struct pod_error *reterr) {
        _cleanup_(stage1_enter_target_freep) struct stage1_enter_target *t = NULL;
        struct stat st;
        char p[64];
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->init_pidfd = t->app_pidfd = t->cgroup_fd = t->userns_fd = -EBADF;
        for (size_t i = 0; i < ELEMENTSOF(t->ns_fds); i++)
                t->ns_fds[i] = -EBADF;
        t->init_pid = init_pid;

        /* Pin the init before looking at its children. */
        t->init_pidfd = pidfd_open(init_pid, 0);
        if (t->init_pidfd < 0)
                return pod_error_set(reterr, -errno, "Failed to open the pod init (pid %d): %m",
                                     (int)init_pid);
        r = find_app(init_pid, app, dev, ino, &t->app_pid, reterr);
        if (r < 0)
                return r;
        t->app_pidfd = pidfd_open(t->app_pid, 0);
        if (t->app_pidfd < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to open the process of app '%s' (pid %d): %m", app,
                                     (int)t->app_pid);

        for (size_t i = 0; i < ELEMENTSOF(ns_names); i++) {
                pid_t pid = streq(ns_names[i], "mnt") ? t->app_pid : init_pid;

                (void)snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns_names[i]);
                t->ns_fds[i] = open(p, O_RDONLY | O_CLOEXEC);
                if (t->ns_fds[i] < 0)
                        return pod_error_set(reterr, -errno, "Failed to open '%s': %m", p);
        }
        /* What will be joined is this fd: it must be the namespace stage1 recorded, whatever
         * the PID meanwhile became. */
        if (fstat(t->ns_fds[4], &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to inspect a namespace fd: %m");
        if (st.st_dev != dev || st.st_ino != ino)
                return pod_error_set(reterr, -ESRCH, "App '%s' (pid %d) left its mount namespace",
                                     app, (int)t->app_pid);
        r = open_cgroup(t->app_pid, &t->cgroup_fd, reterr);
        if (r < 0)
                return r;
        r = read_credentials(t, reterr);
        if (r < 0)
                return r;

        /* Everything above came from these two processes only if they are still alive: a
         * PID reused in between would have a different pidfd. */
        if (pidfd_send_signal(t->init_pidfd, 0, NULL, 0) < 0)
                return pod_error_set(reterr, -ESRCH, "The pod init (pid %d) exited", (int)init_pid);
        if (pidfd_send_signal(t->app_pidfd, 0, NULL, 0) < 0)
                return pod_error_set(reterr, -ESRCH, "App '%s' (pid %d) exited", app,
                                     (int)t->app_pid);
        *ret = TAKE_PTR(t);
        return 0;
}
