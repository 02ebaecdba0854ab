/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `pod enter`: running a command inside a running pod, as one of its apps.
 *
 * The target is read from the host's /proc before anything is joined: the pod init (from
 * the pod dir's "pid") gives the PID, UTS, IPC and network namespaces and the cgroup; the
 * app's main process (a child of the init whose environment says AC_APP_NAME=<app> and
 * whose mount namespace is not the init's, stage1/ABI.md "Processes") gives the mount
 * namespace (its root is the app's pivoted rootfs), uid/gid/groups, capability sets,
 * no_new_privs, seccomp mode and environment.  Both processes are pinned by pidfds while
 * their namespace fds are opened, so a recycled PID is detected.
 *
 * Order (as stage1 does it for the app itself): setns() into every namespace (the PID
 * namespace applies to children, hence a fork) -> cgroup.procs of the init's cgroup
 * (cgroup v2 only) -> cwd "/" -> setgroups/setresgid/setresuid with keepcaps -> bounding
 * set -> capset -> ambient -> no_new_privs -> seccomp -> exec; with no_new_privs off the
 * filter is loaded before the privileges are dropped (loading it needs CAP_SYS_ADMIN then).
 * The filter itself cannot be read back from the kernel without CAP_SYS_ADMIN tricks
 * (PTRACE_SECCOMP_GET_FILTER needs ptrace and CONFIG_CHECKPOINT_RESTORE): the caller
 * rebuilds it from the pod manifest through the callback.
 *
 * Owns: finding the app process, reading and reproducing its credentials, joining,
 * spawning and waiting.  Does not own: the pod directory (poddir.h), the seccomp filter
 * (stage1/seccomp.c, passed in as a callback), the terminal (the command inherits stdin,
 * stdout and stderr as they are). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "macro.h"

struct pod_enter_target {
        pid_t init_pid;
        pid_t app_pid;
        int init_pidfd;
        int app_pidfd;
        int ns_fds[5]; /* ipc, uts, net, pid of the init; mnt of the app */
        int cgroup_fd; /* the init's cgroup v2 directory, or -EBADF (hybrid/v1, not writable) */

        uid_t uid[3]; /* real, effective, saved */
        gid_t gid[3];
        gid_t *groups;
        size_t n_groups;
        uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
        bool no_new_privs;
        int seccomp_mode; /* 0 none, 1 strict, 2 filter */
        char **env;       /* the app's environment at its execve() */
};

struct pod_enter_target *pod_enter_target_free(struct pod_enter_target *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_enter_target *, pod_enter_target_free)

/* Finds the main process of app among the children of init_pid.  -ESRCH when the app has no
 * process (it exited, or the pod is still starting). */
int pod_enter_find_app(pid_t init_pid, const char *app, pid_t *ret, struct pod_error *reterr);

/* Reads everything listed above.  The caller has checked that the pod runs (its lock is
 * held); this checks again, through the pidfds, that init_pid is still alive after the
 * namespace fds were opened. */
int pod_enter_target_open(pid_t init_pid, const char *app, struct pod_enter_target **ret,
                          struct pod_error *reterr);

/* Called in the child right where the filter belongs in the order above; returns < 0 (and
 * fills reterr) if it could not be loaded.  May be NULL when seccomp_mode is 0. */
typedef int (*pod_enter_seccomp_fn)(const struct pod_enter_target *t, void *userdata,
                                    struct pod_error *reterr);

/* Forks, joins the target's namespaces, forks again, sets up the command as described above and
 * executes argv (searched in the app's PATH) with the app's environment, plus term (e.g.
 * "TERM=xterm", may be NULL) replacing any TERM there.  Waits for it: *ret_status is its
 * exit status, 128+N when killed by signal N.  While waiting, SIGINT and SIGQUIT are
 * ignored (the terminal sends them to the command too) and SIGTERM and SIGHUP are
 * forwarded.  A failure in the child before the exec (including the exec itself) is
 * returned here with its message.  The namespaces are joined by an intermediate child
 * that waits for the command: the caller stays where it is. */
int pod_enter_run(struct pod_enter_target *t, char *const *argv, const char *term,
                  pod_enter_seccomp_fn seccomp, void *userdata, int *ret_status,
                  struct pod_error *reterr);
