/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Step 6: the syscall filter (libseccomp), loaded last before execve().
 *
 * Default (no seccomp isolator): everything is allowed except the denylist below, which
 * fails with EPERM.  These calls either reconfigure the whole machine, reach across
 * process or namespace boundaries, or are the usual first step of a kernel exploit; most
 * also need capabilities the default set does not grant, and the filter is the second lock.
 *   - kernel modules and kexec: init_module finit_module delete_module kexec_load
 *     kexec_file_load; reboot
 *   - mounts: mount umount umount2 pivot_root fsopen fsconfig fsmount fspick move_mount
 *     open_tree mount_setattr
 *   - swap, accounting, quotas, clock: swapon swapoff acct quotactl quotactl_fd
 *     clock_settime clock_settime64 settimeofday stime adjtimex clock_adjtime
 *     clock_adjtime64
 *   - other processes: ptrace process_vm_readv process_vm_writev kcmp pidfd_getfd
 *   - kernel attack surface: bpf perf_event_open userfaultfd keyctl add_key request_key
 *     open_by_handle_at name_to_handle_at lookup_dcookie iopl ioperm vm86 vm86old
 *     uselib _sysctl sysfs nfsservctl syslog
 *   - namespaces: setns (any), unshare and clone when asked for CLONE_NEWUSER, clone3
 *     (its flags live in memory a filter cannot read: ENOSYS, so libc falls back to clone)
 *   - io_uring: io_uring_setup io_uring_enter io_uring_register (its queued operations
 *     bypass any syscall filter; a steady source of kernel exploits)
 *   - terminal input injection: ioctl TIOCSTI and TIOCLINUX
 * How this differs from Docker's default profile and systemd's @system-service, and why:
 * ABI.md "Seccomp" and pod-run(1), CONFINEMENT.
 * os/linux/seccomp-remove-set adds its set to the denylist with its own errno ("" = kill
 * the process with SIGSYS); "@appc.io/empty" adds nothing.  Either set may name rkt's groups
 * (seccomp-groups.c), mixed with syscall names: a group stands for its members, minus those
 * libseccomp does not know on this architecture (a name the user wrote himself must exist).
 * os/linux/seccomp-retain-set is an allowlist: the set, plus execve and execveat (to start the app)
 * and, when no_new_privs is off (the filter is then loaded before capabilities are dropped), the
 * calls that drop them and the checks before the exec (prctl, getcwd);
 * "@appc.io/all" allows everything.  Every native ABI is covered: on x86-64 the i386 and
 * x32 ABIs are added too, so a 32-bit binary cannot step around a denylist; calls from any
 * other ABI kill the process (libseccomp's default bad-arch action).  A filter that fails to
 * build or load fails the app: nothing runs unfiltered. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include "error.h"
#include "log.h"
#include "seccomp-lib.h"
#include "stage1.h"
#include "syscall.h"

static const char *const denylist[] = {
        "init_module",
        "finit_module",
        "delete_module",
        "kexec_load",
        "kexec_file_load",
        "reboot",
        "mount",
        "umount",
        "umount2",
        "pivot_root",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "move_mount",
        "open_tree",
        "mount_setattr",
        "swapon",
        "swapoff",
        "acct",
        "quotactl",
        "quotactl_fd",
        "clock_settime",
        "clock_settime64",
        "settimeofday",
        "stime",
        "adjtimex",
        "clock_adjtime",
        "clock_adjtime64",
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "kcmp",
        "pidfd_getfd",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "keyctl",
        "add_key",
        "request_key",
        "open_by_handle_at",
        "name_to_handle_at",
        "lookup_dcookie",
        "iopl",
        "ioperm",
        "vm86",
        "vm86old",
        "uselib",
        "_sysctl",
        "sysfs",
        "nfsservctl",
        "syslog",
        "setns",
        /* io_uring does file and socket I/O outside of any per-syscall filter (its
         * operations never pass through seccomp) and has been a steady source of kernel
         * privilege escalations; Docker 25 and ChromeOS block it too (ABI.md). */
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
};

/* What stage1 itself still calls after loading the filter: the exec (execveat: the app's
 * binary runs from an fd resolved inside its root, init.c); and when no_new_privs is off (the
 * filter is then loaded first) the credential switch and the checks before the exec. */
#define RETAIN_ALWAYS_EXEC 2
static const char *const retain_always[] = { "execve",    "execveat",  "capset",
                                             "capget",    "prctl",     "setgroups",
                                             "setresuid", "setresgid", "getcwd" };

static bool is_group(const char *s) {
        return s[0] == '@';
}

int stage1_seccomp_check(const struct stage1_app *app, struct pod_error *reterr) {
        int r;

        if (app->seccomp_mode == STAGE1_SECCOMP_DEFAULT)
                return 0;
        r = pod_dlopen_seccomp(reterr);
        if (r < 0)
                return r;
        STRV_FOREACH (s, app->seccomp_set) {
                if (is_group(*s)) {
                        if ((app->seccomp_mode == STAGE1_SECCOMP_RETAIN &&
                             streq(*s, "@appc.io/all")) ||
                            (app->seccomp_mode == STAGE1_SECCOMP_REMOVE &&
                             streq(*s, "@appc.io/empty")) ||
                            stage1_seccomp_group_find(*s))
                                continue;
                        return pod_error_set(reterr, -EINVAL,
                                             "App '%s': unknown seccomp group '%s'", app->name, *s);
                }
                if (seccomp_syscall_resolve_name(*s) == __NR_SCMP_ERROR)
                        return pod_error_set(reterr, -EINVAL, "App '%s': unknown syscall '%s'",
                                             app->name, *s);
        }
        return 0;
}

static int add_arches(scmp_filter_ctx ctx) {
        int r;

#if defined(__x86_64__)
        r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
        if (r < 0 && r != -EEXIST)
                return r;
        r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
        if (r < 0 && r != -EEXIST)
                return r;
#elif defined(__aarch64__)
        r = seccomp_arch_add(ctx, SCMP_ARCH_ARM);
        if (r < 0 && r != -EEXIST)
                return r;
#endif
        (void)r;
        return 0;
}

static int deny(scmp_filter_ctx ctx, const char *name, uint32_t action) {
        int nr = seccomp_syscall_resolve_name(name);
        int r;

        if (nr == __NR_SCMP_ERROR)
                return 0; /* not a syscall of any architecture libseccomp knows */
        r = seccomp_rule_add(ctx, action, nr, 0);
        /* -EDOM: the call does not exist on this architecture, nothing to deny;
         * -EEXIST: already there (from the remove set, with its own errno). */
        return r == -EDOM || r == -EEXIST ? 0 : r;
}

/* One entry of a set: a syscall, or every member of a group ("@appc.io/..." are the
 * caller's: nothing to add for them here). */
static int add_entry(scmp_filter_ctx ctx, const char *s, uint32_t action) {
        const struct stage1_seccomp_group *g;
        int r;

        if (!is_group(s))
                return deny(ctx, s, action);
        g = stage1_seccomp_group_find(s);
        if (!g)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(g->lists) && g->lists[i]; i++)
                for (const char *const *n = g->lists[i]; *n; n++) {
                        r = deny(ctx, *n, action);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int add_denylist(scmp_filter_ctx ctx) {
        int r;

        for (size_t i = 0; i < ELEMENTSOF(denylist); i++) {
                r = deny(ctx, denylist[i], SCMP_ACT_ERRNO(EPERM));
                if (r < 0)
                        return r;
        }
        /* User namespaces: the way around every capability we dropped.  (A remove set that
         * names unshare or clone already denies them outright: -EEXIST.) */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        if (r < 0 && r != -EEXIST)
                return r;
#if !defined(__s390__) && !defined(__s390x__)
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        if (r < 0 && r != -EEXIST)
                return r;
#endif
        /* Terminal input injection: TIOCSTI pushes bytes into a terminal's input queue, so an
         * app holding the terminal of `pod run --interactive` or of an entered command (an
         * fd of the operator's shell session) could type commands there; TIOCLINUX can do
         * the same on a virtual console.  The request is an int: compare its low 32 bits. */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
        if (r < 0 && r != -EEXIST)
                return r;
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
        if (r < 0 && r != -EEXIST)
                return r;
        return deny(ctx, "clone3", SCMP_ACT_ERRNO(ENOSYS));
}

int stage1_seccomp_build(const struct stage1_app *app, scmp_filter_ctx *ret,
                         struct pod_error *reterr) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        uint32_t set_action = app->seccomp_errno > 0 ? SCMP_ACT_ERRNO((uint32_t)app->seccomp_errno)
                                                     : SCMP_ACT_KILL_PROCESS;
        bool retain = app->seccomp_mode == STAGE1_SECCOMP_RETAIN, allow_all = false;
        bool clone3_enosys = false;
        int r;

        r = pod_dlopen_seccomp(reterr);
        if (r < 0)
                return r;
        if (retain)
                STRV_FOREACH (s, app->seccomp_set) {
                        const struct stage1_seccomp_group *g = stage1_seccomp_group_find(*s);

                        allow_all = allow_all || streq(*s, "@appc.io/all");
                        clone3_enosys = clone3_enosys || (g && g->clone3_enosys);
                }

        ctx = seccomp_init(retain && !allow_all ? set_action : SCMP_ACT_ALLOW);
        if (!ctx)
                return pod_error_set(reterr, -ENOMEM, "Failed to allocate the seccomp filter");
        r = add_arches(ctx);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to add seccomp architectures: %m");
        /* libseccomp sets no_new_privs itself on load unless told not to: whether the app
         * gets it is caps.c's decision (the isolator), not a side effect of the filter. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, app->no_new_privs);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to configure the seccomp filter: %m");

        if (allow_all)
                log_debug("App '%s': seccomp retain set allows every syscall", app->name);
        else if (retain) {
                STRV_FOREACH (s, app->seccomp_set) {
                        r = add_entry(ctx, *s, SCMP_ACT_ALLOW);
                        if (r < 0)
                                return pod_error_set(reterr, r, "Failed to allow '%s': %m", *s);
                }
                for (size_t i = 0; i < ELEMENTSOF(retain_always); i++) {
                        if (i >= RETAIN_ALWAYS_EXEC && app->no_new_privs)
                                break;
                        r = deny(ctx, retain_always[i], SCMP_ACT_ALLOW);
                        if (r < 0)
                                return pod_error_set(reterr, r, "Failed to allow '%s': %m",
                                                     retain_always[i]);
                }
                /* Docker's allowlist answers clone3 with ENOSYS (its flags cannot be
                 * inspected), and glibc then falls back to clone; failing it with the set's
                 * errno or SIGSYS would break every thread a libc >= 2.34 creates.  A set
                 * that names clone3 itself keeps it allowed (-EEXIST); with errno=ENOSYS the
                 * default action says it already (libseccomp refuses a rule that repeats it). */
                if (clone3_enosys && set_action != SCMP_ACT_ERRNO(ENOSYS)) {
                        r = deny(ctx, "clone3", SCMP_ACT_ERRNO(ENOSYS));
                        if (r < 0)
                                return pod_error_set(reterr, r, "Failed to add clone3: %m");
                }
        } else {
                /* The remove set first, so that its errno wins over the denylist's EPERM
                 * for calls on both lists. */
                if (app->seccomp_mode == STAGE1_SECCOMP_REMOVE)
                        STRV_FOREACH (s, app->seccomp_set) {
                                r = add_entry(ctx, *s, set_action);
                                if (r < 0)
                                        return pod_error_set(reterr, r, "Failed to deny '%s': %m",
                                                             *s);
                        }
                r = add_denylist(ctx);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to build the seccomp denylist: %m");
        }

        *ret = TAKE_PTR(ctx);
        return 0;
}

int stage1_seccomp_apply(const struct stage1_config *c, const struct stage1_app *app,
                         struct pod_error *reterr) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        if (c->disable_seccomp)
                return 0;
        /* Compiled on the host before the init was forked (seccomp-cache.c): load it as
         * libseccomp's seccomp_load() would, no_new_privs first when the filter asks for it
         * (without it, loading needs CAP_SYS_ADMIN, which init.c keeps until then). */
        if (app->seccomp_prog) {
                struct sock_fprog prog = {
                        .len = (unsigned short)app->seccomp_prog_len,
                        .filter = app->seccomp_prog,
                };

                if (app->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        return pod_error_set(reterr, -errno, "Failed to set no_new_privs: %m");
                if (sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                        return pod_error_set(reterr, -errno,
                                             "Failed to load the seccomp filter: %m");
                return 0;
        }
        r = stage1_seccomp_build(app, &ctx, reterr);
        if (r < 0)
                return r;
        /* The filter is inherited by every child and survives execve(). */
        r = seccomp_load(ctx);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to load the seccomp filter: %m");
        return 0;
}
