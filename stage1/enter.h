/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `pod-stage1 enter` (ABI.md "enter"): the target of a command run inside a running pod,
 * as one of its apps, and running it there.
 *
 * The target is read from the host's /proc before anything is joined: the pod init (from
 * the pod dir's "pid") gives the PID, UTS, IPC and network namespaces; the app's process
 * gives the mount namespace (its root is the app's pivoted rootfs), the cgroup,
 * uid/gid/groups, capability sets (never more than the pod's configuration gives the app: an
 * app in a user namespace of its own making shows every capability there), no_new_privs,
 * seccomp mode and environment.  Which
 * process is the app's is decided by what stage1 wrote, never by what an app can write: the
 * init records the identity of each app's mount namespace in the pod dir's "app-mntns"
 * (init.c), and the app's process is the child of the init in that namespace.  Both
 * processes are pinned by pidfds while their namespace fds are opened, then re-checked, so
 * a recycled PID is detected.
 *
 * Order (as stage1 does it for the app itself): the app's cgroup (cgroup v2 only) ->
 * setns() into every namespace (the PID namespace applies to children, hence a fork) -> close
 * every fd above 2 -> cwd "/" -> setgroups/setresgid/setresuid with keepcaps -> bounding set
 * -> capset -> ambient -> no_new_privs -> seccomp -> exec; with no_new_privs off the filter
 * is loaded before the privileges are dropped (loading it needs CAP_SYS_ADMIN then).  The
 * filter itself cannot be read back from the kernel: it is rebuilt from the pod manifest by
 * seccomp.c through the callback.
 *
 * Owns: finding the app process (enter-target.c), reproducing its credentials, joining,
 * spawning and waiting (enter.c).  Does not own: the pod directory and the choice of the
 * app (enter.c's entry point), the filter (seccomp.c), the terminal (the command inherits
 * stdin, stdout and stderr as they are). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "macro.h"

struct stage1_enter_target {
        pid_t init_pid;
        pid_t app_pid;
        int init_pidfd;
        int app_pidfd;
        int ns_fds[5];     /* ipc, uts, net, pid of the init; mnt of the app */
        int cgroup_fd;     /* the app's cgroup v2 directory, or -EBADF (hybrid/v1, not writable) */
        int userns_fd;     /* the pod's user namespace, or -EBADF */
        bool userns_first; /* rootless: join it first (we own it); --private-users: last */

        uid_t uid[3]; /* real, effective, saved */
        gid_t gid[3];
        gid_t *groups;
        size_t n_groups;
        uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
        bool no_new_privs;
        int seccomp_mode; /* 0 none, 1 strict, 2 filter */
        char **env;       /* the app's environment at its execve() */
};

struct stage1_enter_target *stage1_enter_target_free(struct stage1_enter_target *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct stage1_enter_target *, stage1_enter_target_free)

/* The identity of app's mount namespace as the init recorded it in the pod dir's
 * "app-mntns" (lines "<app> <st_dev>:<st_ino>").  -ENOENT (with a message) when there is
 * none. */
int stage1_enter_read_mntns(int pod_dir_fd, const char *app, dev_t *ret_dev, ino_t *ret_ino,
                            struct pod_error *reterr);

/* Reads everything listed above for the child of init_pid whose mount namespace is
 * (dev, ino).  -ESRCH when there is none (the app exited, or the pod is still starting).
 * Checks, through the pidfds, that both processes are still alive after the namespace fds
 * were opened and that the app's is still in that namespace. */
int stage1_enter_target_open(pid_t init_pid, const char *app, dev_t dev, ino_t ino,
                             struct stage1_enter_target **ret, struct pod_error *reterr);

/* Called in the child right where the filter belongs in the order above; returns < 0 (and
 * fills reterr) if it could not be loaded. */
typedef int (*stage1_enter_seccomp_fn)(const struct stage1_enter_target *t, void *userdata,
                                       struct pod_error *reterr);

/* Forks, joins the target's namespaces, forks again, sets up the command as described above and
 * executes argv (searched in the app's PATH) with the app's environment, plus term (e.g.
 * "TERM=xterm", may be NULL) replacing any TERM there.  Waits for it: *ret_status is its
 * exit status, 128+N when killed by signal N.  While waiting, SIGINT and SIGQUIT are
 * ignored (the terminal sends them to the command too) and SIGTERM and SIGHUP are
 * forwarded.  A failure in the children before the exec (including the exec itself) is
 * returned here with its message; it travels in a shared anonymous mapping, not an fd, so
 * that the command gets nothing but fds 0, 1 and 2.  The caller must hold no fd of the host's
 * file systems that the children could inherit beyond the target's own (they close
 * everything above 2 anyway, before any app can see them). */
int stage1_enter_run(struct stage1_enter_target *t, char *const *argv, const char *term,
                     stage1_enter_seccomp_fn seccomp, void *userdata, int *ret_status,
                     struct pod_error *reterr);
