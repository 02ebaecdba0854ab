/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cap-util.h"
#include "enter.h"
#include "fd-util.h"
#include "path-util.h"
#include "syscall.h"

#define CAP_BIT(c)    (UINT64_C(1) << (c))
#define PROC_FILE_MAX (4u << 20)

static const char *const ns_names[] = { "ipc", "uts", "net", "pid", "mnt" };
static const int ns_types[] = { CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID,
                                CLONE_NEWNS };

struct pod_enter_target *pod_enter_target_free(struct pod_enter_target *t) {
        if (!t)
                return NULL;
        safe_close(t->init_pidfd);
        safe_close(t->app_pidfd);
        for (size_t i = 0; i < ELEMENTSOF(t->ns_fds); i++)
                safe_close(t->ns_fds[i]);
        safe_close(t->cgroup_fd);
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

static bool environ_has(const char *buf, size_t size, const char *entry) {
        size_t n = strlen(entry);

        for (size_t i = 0; i < size;) {
                size_t len = strnlen(buf + i, size - i);
                if (len == n && memcmp(buf + i, entry, n) == 0)
                        return true;
                i += len + 1;
        }
        return false;
}

static int ns_inode(pid_t pid, const char *ns, ino_t *ret) {
        char p[64];
        struct stat st;

        (void)snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns);
        if (stat(p, &st) < 0)
                return -errno;
        *ret = st.st_ino;
        return 0;
}

/* Whether pid is a process of app: a child of the init in its own mount namespace whose
 * environment names the app. */
static int is_app_process(pid_t pid, ino_t init_mnt, const char *entry) {
        _cleanup_free_ char *env = NULL;
        size_t size = 0;
        ino_t mnt;
        int r;

        r = ns_inode(pid, "mnt", &mnt);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (mnt == init_mnt)
                return 0;
        r = read_proc_file(pid, "environ", &env, &size);
        if (r < 0)
                return r == -ENOENT || r == -ESRCH ? 0 : r;
        return environ_has(env, size, entry);
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

int pod_enter_find_app(pid_t init_pid, const char *app, pid_t *ret, struct pod_error *reterr) {
        _cleanup_free_ pid_t *children = NULL;
        _cleanup_free_ char *entry = NULL;
        size_t n = 0;
        ino_t init_mnt;
        int r;

        r = ns_inode(init_pid, "mnt", &init_mnt);
        if (r < 0)
                return pod_error_set(reterr, r == -ENOENT ? -ESRCH : r,
                                     "Failed to inspect the pod init (pid %d): %m", (int)init_pid);
        r = list_children(init_pid, &children, &n);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to list the processes of pid %d: %m",
                                     (int)init_pid);
        if (asprintf(&entry, "AC_APP_NAME=%s", app) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = is_app_process(children[i], init_mnt, entry);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to inspect pid %d: %m",
                                             (int)children[i]);
                if (r > 0) {
                        *ret = children[i];
                        return 0;
                }
        }
        return pod_error_set(reterr, -ESRCH, "App '%s' has no running process", app);
}

static int read_credentials(struct pod_enter_target *t, struct pod_error *reterr) {
        _cleanup_free_ char *st = NULL, *env = NULL;
        unsigned ids[3];
        size_t size = 0;
        const char *v;
        int r;

        r = read_proc_file(t->app_pid, "status", &st, NULL);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the status of pid %d: %m",
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

int pod_enter_target_open(pid_t init_pid, const char *app, struct pod_enter_target **ret,
                          struct pod_error *reterr) {
        _cleanup_(pod_enter_target_freep) struct pod_enter_target *t = NULL;
        char p[64];
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->init_pidfd = t->app_pidfd = t->cgroup_fd = -EBADF;
        for (size_t i = 0; i < ELEMENTSOF(t->ns_fds); i++)
                t->ns_fds[i] = -EBADF;
        t->init_pid = init_pid;

        /* Pin the init before looking at its children. */
        t->init_pidfd = pidfd_open(init_pid, 0);
        if (t->init_pidfd < 0)
                return pod_error_set(reterr, -errno, "Failed to open the pod init (pid %d): %m",
                                     (int)init_pid);
        r = pod_enter_find_app(init_pid, app, &t->app_pid, reterr);
        if (r < 0)
                return r;
        t->app_pidfd = pidfd_open(t->app_pid, 0);
        if (t->app_pidfd < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to open the process of app '%s' (pid %d): %m", app,
                                     (int)t->app_pid);

        for (size_t i = 0; i < ELEMENTSOF(ns_names); i++) {
                pid_t pid = ns_types[i] == CLONE_NEWNS ? t->app_pid : init_pid;

                (void)snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns_names[i]);
                t->ns_fds[i] = open(p, O_RDONLY | O_CLOEXEC);
                if (t->ns_fds[i] < 0)
                        return pod_error_set(reterr, -errno, "Failed to open '%s': %m", p);
        }
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

/* The app's credentials and capability sets, exactly as /proc showed them. */
static int apply_credentials(const struct pod_enter_target *t, struct pod_error *reterr) {
        uint64_t have = 0;
        int r, last = pod_cap_last();

        r = pod_cap_get_permitted(&have);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read our capabilities: %m");
        if ((t->cap_prm & ~have) || (t->cap_eff & ~have) || (t->cap_inh & ~have))
                return pod_error_set(reterr, -EPERM,
                                     "The app holds capabilities we lack (%#" PRIx64
                                     "): run pod enter as root",
                                     (t->cap_prm | t->cap_eff | t->cap_inh) & ~have);

        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to set keepcaps: %m");
        if (setgroups(t->n_groups, t->groups) < 0)
                return pod_error_set(reterr, -errno, "Failed to set supplementary groups: %m");
        if (setresgid(t->gid[0], t->gid[1], t->gid[2]) < 0)
                return pod_error_set(reterr, -errno, "Failed to set gid %u: %m",
                                     (unsigned)t->gid[1]);
        if (setresuid(t->uid[0], t->uid[1], t->uid[2]) < 0)
                return pod_error_set(reterr, -errno, "Failed to set uid %u: %m",
                                     (unsigned)t->uid[1]);
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to clear keepcaps: %m");
        /* The uid change cleared the effective set; dropping from the bounding set needs
         * CAP_SETPCAP in it. */
        if (pod_cap_set(have, have, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to restore capabilities: %m");
        for (int cap = 0; cap <= last; cap++)
                if (!(t->cap_bnd & CAP_BIT(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        return pod_error_set(reterr, -errno,
                                             "Failed to drop capability %d from the bounding "
                                             "set: %m",
                                             cap);
        if (pod_cap_set(t->cap_eff, t->cap_prm, t->cap_inh) < 0)
                return pod_error_set(reterr, -errno, "Failed to set capabilities: %m");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return pod_error_set(reterr, -errno, "Failed to clear ambient capabilities: %m");
        for (int cap = 0; cap <= last; cap++)
                if ((t->cap_amb & CAP_BIT(cap)) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                        return pod_error_set(reterr, -errno,
                                             "Failed to raise ambient capability %d: %m", cap);
        if (t->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to set no_new_privs: %m");
        return 0;
}

static int set_term(char ***env, const char *term) {
        size_t n = 0;
        char **l, *s;

        if (!term)
                return 0;
        s = strdup(term);
        if (!s)
                return -ENOMEM;
        for (l = *env; l && *l; l++, n++)
                if (strneq(*l, "TERM=", 5)) {
                        free(*l);
                        *l = s;
                        return 0;
                }
        l = reallocarray(*env, n + 2, sizeof(*l));
        if (!l) {
                free(s);
                return -ENOMEM;
        }
        l[n] = s;
        l[n + 1] = NULL;
        *env = l;
        return 0;
}

/* The child: never returns.  Errors go to the parent through err_fd (closed on exec). */
_noreturn_ static void child(struct pod_enter_target *t, char *const *argv,
                             pod_enter_seccomp_fn seccomp, void *userdata, int err_fd) {
        extern char **environ;
        struct pod_error e = {};
        sigset_t none;
        int r = 0;

        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)signal(SIGINT, SIG_DFL);
        (void)signal(SIGQUIT, SIG_DFL);
        (void)signal(SIGTERM, SIG_DFL);
        (void)signal(SIGHUP, SIG_DFL);
        /* Ask to die with pod enter: a command left behind would escape its waiter. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

        /* "0" = the writer itself; the fd was opened in the host's mount namespace. */
        if (t->cgroup_fd >= 0) {
                int fd = openat(t->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
                r = fd < 0 ? -errno : loop_write(fd, "0", 1);
                safe_close(fd);
                if (r < 0)
                        (void)pod_error_set(&e, r, "Failed to join the pod's cgroup: %m");
        }
        /* setns(CLONE_NEWNS) already set root and cwd to the app's root: be explicit. */
        if (r >= 0 && chdir("/") < 0)
                r = pod_error_set(&e, -errno, "Failed to change to '/': %m");
        if (r >= 0 && !t->no_new_privs) {
                if (t->seccomp_mode != 0)
                        r = seccomp(t, userdata, &e);
                if (r >= 0)
                        r = apply_credentials(t, &e);
        } else if (r >= 0) {
                r = apply_credentials(t, &e);
                if (r >= 0 && t->seccomp_mode != 0)
                        r = seccomp(t, userdata, &e);
        }
        if (r >= 0) {
                environ = t->env;
                execvp(argv[0], argv);
                r = pod_error_set(&e, -errno, "Failed to execute '%s': %m", argv[0]);
        }
        (void)loop_write(err_fd, &e, sizeof(e));
        _exit(r == -ENOENT ? 127 : 126);
}

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig) {
        if (child_pid > 0)
                (void)kill(child_pid, sig);
}

/* The intermediate process: joins the namespaces (the caller never does: it stays in its
 * own, where sanitizers and anything else at its exit still find their /proc), forks the
 * command into the pod's PID namespace, waits for it and exits with its status. */
_noreturn_ static void joiner(struct pod_enter_target *t, char *const *argv,
                              pod_enter_seccomp_fn seccomp, void *userdata, int err_fd) {
        struct pod_error e = {};
        int status;
        pid_t pid;

        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        for (size_t i = 0; i < ELEMENTSOF(t->ns_fds); i++)
                if (setns(t->ns_fds[i], ns_types[i]) < 0) {
                        (void)pod_error_set(&e, -errno, "Failed to join the pod's %s namespace: %m",
                                            ns_names[i]);
                        (void)loop_write(err_fd, &e, sizeof(e));
                        _exit(254);
                }
        pid = fork();
        if (pid < 0) {
                (void)pod_error_set(&e, -errno, "Failed to fork: %m");
                (void)loop_write(err_fd, &e, sizeof(e));
                _exit(254);
        }
        if (pid == 0)
                child(t, argv, seccomp, userdata, err_fd);
        child_pid = pid;
        err_fd = safe_close(err_fd);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(254);
        if (WIFEXITED(status))
                _exit(WEXITSTATUS(status));
        _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255);
}

int pod_enter_run(struct pod_enter_target *t, char *const *argv, const char *term,
                  pod_enter_seccomp_fn seccomp, void *userdata, int *ret_status,
                  struct pod_error *reterr) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        struct sigaction fwd = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
        struct sigaction ign = { .sa_handler = SIG_IGN };
        struct pod_error ce = {};
        int pipefd[2], status, r;
        ssize_t n;
        pid_t pid;

        if (t->seccomp_mode == 1)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The app runs in strict seccomp mode: nothing can join it");
        if (t->seccomp_mode == 2 && !seccomp)
                return pod_error_set(reterr, -EINVAL, "No way to rebuild the app's filter");
        r = set_term(&t->env, term);
        if (r < 0)
                return r;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return pod_error_set(reterr, -errno, "Failed to create a pipe: %m");
        rfd = pipefd[0];
        wfd = pipefd[1];

        (void)sigemptyset(&fwd.sa_mask);
        (void)sigemptyset(&ign.sa_mask);
        if (sigaction(SIGINT, &ign, NULL) < 0 || sigaction(SIGQUIT, &ign, NULL) < 0 ||
            sigaction(SIGTERM, &fwd, NULL) < 0 || sigaction(SIGHUP, &fwd, NULL) < 0)
                return pod_error_set(reterr, -errno, "Failed to set up signal handling: %m");

        pid = fork();
        if (pid < 0)
                return pod_error_set(reterr, -errno, "Failed to fork: %m");
        if (pid == 0) {
                rfd = safe_close(rfd);
                joiner(t, argv, seccomp, userdata, TAKE_FD(wfd));
        }
        child_pid = pid;
        wfd = safe_close(wfd);

        /* EOF once the command was executed (close-on-exec) and the joiner is gone. */
        n = loop_read(rfd, &ce, sizeof(ce));
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return pod_error_set(reterr, -errno, "Failed to wait for pid %d: %m",
                                             (int)pid);
        child_pid = 0;
        if (n == (ssize_t)sizeof(ce) && ce.error < 0) {
                if (reterr)
                        *reterr = ce;
                return ce.error;
        }
        if (WIFEXITED(status))
                *ret_status = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
                *ret_status = 128 + WTERMSIG(status);
        else
                *ret_status = 255;
        return 0;
}
