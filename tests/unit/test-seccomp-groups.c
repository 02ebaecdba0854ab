/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rkt's seccomp groups (stage1/seccomp-groups.c) through stage1's own check and filter
 * builder (stage1/seccomp.c): every group resolves and builds in both modes, unknown names
 * are refused only where the user wrote them, and a few filters are loaded in a child to see
 * what the kernel answers. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "seccomp-lib.h"
#include "stage1.h"
#include "tap.h"

static struct stage1_app make_app(enum stage1_seccomp_mode mode, int err, char **set) {
        return (struct stage1_app){
                .name = "test",
                .seccomp_mode = mode,
                .seccomp_set = set,
                .seccomp_errno = err,
                .no_new_privs = true,
        };
}

static bool name_valid(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
                        return false;
        return true;
}

static void test_tables(void) {
        size_t n = 0;

        for (const struct stage1_seccomp_group *g = stage1_seccomp_groups; g->name; g++, n++) {
                size_t members = 0, known = 0;
                bool valid = true;

                tap_ok(stage1_seccomp_group_find(g->name) == g, "%s resolves", g->name);
                for (size_t i = 0; i < ELEMENTSOF(g->lists) && g->lists[i]; i++)
                        for (const char *const *s = g->lists[i]; *s; s++) {
                                members++;
                                valid = valid && name_valid(*s);
                                if (seccomp_syscall_resolve_name(*s) != __NR_SCMP_ERROR)
                                        known++;
                                else
                                        printf("# %s: '%s' unknown to libseccomp here\n", g->name,
                                               *s);
                        }
                tap_ok(valid, "%s: every member is a syscall name", g->name);
                tap_ok(known > 0, "%s: %zu of %zu members known here", g->name, known, members);
        }
        /* The twelve rkt groups (the two appc ones are seccomp.c's). */
        tap_is_int(n, 12, "twelve groups");
        tap_ok(!stage1_seccomp_group_find("@rkt/bogus"), "an unknown group does not resolve");
        tap_ok(!stage1_seccomp_group_find("@appc.io/all"), "the appc groups are not in the table");
}

static void test_check_and_build(void) {
        static const enum stage1_seccomp_mode modes[] = { STAGE1_SECCOMP_RETAIN,
                                                          STAGE1_SECCOMP_REMOVE };
        /* 0: kill; ENOSYS: the allowlists' own clone3 answer is then the default action. */
        static const int errnos[] = { 0, EPERM, ENOSYS };
        struct pod_error e = {};
        int r;

        for (const struct stage1_seccomp_group *g = stage1_seccomp_groups; g->name; g++)
                for (size_t m = 0; m < ELEMENTSOF(modes); m++)
                        for (size_t k = 0; k < ELEMENTSOF(errnos); k++) {
                                char *set[] = { (char *)g->name, (char *)"mkdir", NULL };
                                struct stage1_app a = make_app(modes[m], errnos[k], set);
                                _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;

                                r = stage1_seccomp_check(&a, &e);
                                tap_is_int(r, 0, g->name);
                                r = stage1_seccomp_build(&a, &ctx, &e);
                                tap_ok(r == 0 && ctx, "  builds (%s, errno %d): %s",
                                       m == 0 ? "retain" : "remove", errnos[k],
                                       r < 0 ? e.msg : "ok");
                        }

        char *unknown_group[] = { (char *)"mkdir", (char *)"@rkt/bogus", NULL };
        struct stage1_app a = make_app(STAGE1_SECCOMP_REMOVE, EPERM, unknown_group);
        e = (struct pod_error){};
        r = stage1_seccomp_check(&a, &e);
        tap_is_int(r, -EINVAL, "an unknown group is refused");
        tap_ok(strstr(e.msg, "'@rkt/bogus'"), "naming it: %s", e.msg);

        /* Named by the user, a syscall libseccomp does not know stays an error; inside a
         * group (@systemd/obsolete has several such) it is skipped. */
        char *unknown_name[] = { (char *)"@systemd/obsolete", (char *)"no_such_call", NULL };
        a = make_app(STAGE1_SECCOMP_RETAIN, EPERM, unknown_name);
        e = (struct pod_error){};
        r = stage1_seccomp_check(&a, &e);
        tap_is_int(r, -EINVAL, "an unknown syscall named directly is refused");
        tap_ok(strstr(e.msg, "'no_such_call'"), "naming it: %s", e.msg);

        char *mixed[] = { (char *)"@systemd/mount", (char *)"@docker/default-blacklist",
                          (char *)"socket", (char *)"@appc.io/empty", NULL };
        a = make_app(STAGE1_SECCOMP_REMOVE, 0, mixed);
        r = stage1_seccomp_check(&a, &e);
        tap_is_int(r, 0, "groups mix with each other, syscalls and @appc.io/empty");
}

/* Loads the filter for 'a' in a child and runs 'probe' there; the probe's result is the
 * child's exit status. */
static int in_child(const struct stage1_app *a, int (*probe)(void)) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        struct pod_error e = {};
        pid_t pid;
        int r, status;

        r = stage1_seccomp_build(a, &ctx, &e);
        if (r < 0)
                return 200;
        pid = fork();
        if (pid < 0)
                return 201;
        if (pid == 0) {
                if (seccomp_load(ctx) < 0)
                        _exit(202);
                _exit(probe());
        }
        if (waitpid(pid, &status, 0) < 0)
                return 203;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int errno_of(long r) {
        return r < 0 ? errno : 0;
}

/* remove,errno=ENOTSUP,@docker/default-blacklist */
static int probe_blacklist(void) {
        if (errno_of(syscall(SYS_unshare, 0)) != ENOTSUP) /* the set's errno wins */
                return 1;
        if (errno_of(syscall(SYS_umount2, "/nonexistent", 0)) != ENOTSUP)
                return 2;
        if (errno_of(syscall(SYS_mbind, NULL, 0, 0, NULL, 0, 0)) != ENOTSUP)
                return 3;
        if (errno_of(syscall(SYS_kexec_load, 0, 0, NULL, 0)) != ENOTSUP)
                return 4;
        if (syscall(SYS_getpid) <= 0) /* the rest is allowed */
                return 5;
        if (errno_of(syscall(SYS_io_uring_setup, 0, NULL)) != EPERM) /* pod's denylist */
                return 6;
        return 0;
}

/* retain,errno=EACCES,@rkt/default-whitelist */
static int probe_whitelist(void) {
        int fds[2];

        if (syscall(SYS_getpid) <= 0)
                return 1;
        if (syscall(SYS_pipe2, fds, O_CLOEXEC) < 0)
                return 2;
        if (errno_of(syscall(SYS_acct, NULL)) != EACCES) /* not in it */
                return 3;
        if (errno_of(syscall(SYS_ptrace, 0, 0, NULL, NULL)) != EACCES)
                return 4;
        if (errno_of(syscall(SYS_clone3, NULL, 0)) != ENOSYS) /* as Docker does */
                return 5;
#ifdef SYS_statx
        if (errno_of(syscall(SYS_statx, AT_FDCWD, "/", 0, 0, NULL)) == EACCES)
                return 6; /* a call Docker added since rkt took its list */
#endif
        return 0;
}

/* remove,errno=EROFS,@systemd/mount,mkdir */
static int probe_mount(void) {
        if (errno_of(syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0, NULL)) != EROFS)
                return 1;
        if (errno_of(syscall(SYS_pivot_root, ".", ".")) != EROFS)
                return 2;
        if (errno_of(syscall(SYS_mkdir, "/nonexistent/x", 0700)) != EROFS)
                return 3;
        if (errno_of(syscall(SYS_ptrace, 0, 0, NULL, NULL)) != EPERM) /* denylist stays */
                return 4;
        return 0;
}

/* retain,errno=EPERM,@systemd/default-whitelist,@systemd/network-io */
static int probe_systemd_retain(void) {
        int fd;

        fd = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return 1;
        if (syscall(SYS_gettid) <= 0)
                return 2;
        if (errno_of(syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_CLOEXEC)) != EPERM)
                return 3;
        return 0;
}

static void test_filters(void) {
        char *black[] = { (char *)"@docker/default-blacklist", NULL };
        char *white[] = { (char *)"@rkt/default-whitelist", NULL };
        char *mnt[] = { (char *)"@systemd/mount", (char *)"mkdir", NULL };
        char *sd[] = { (char *)"@systemd/default-whitelist", (char *)"@systemd/network-io", NULL };
        struct stage1_app a;

        a = make_app(STAGE1_SECCOMP_REMOVE, ENOTSUP, black);
        tap_is_int(in_child(&a, probe_blacklist), 0,
                   "remove @docker/default-blacklist: its calls fail with the set's errno");
        a = make_app(STAGE1_SECCOMP_RETAIN, EACCES, white);
        tap_is_int(in_child(&a, probe_whitelist), 0,
                   "retain @rkt/default-whitelist: allows its calls, not others; clone3 ENOSYS");
        a = make_app(STAGE1_SECCOMP_REMOVE, EROFS, mnt);
        tap_is_int(in_child(&a, probe_mount), 0, "remove @systemd/mount,mkdir");
        /* Under AddressSanitizer the probe's own runtime needs calls this narrow allowlist
         * leaves out (the gcc build runs it). */
#ifndef __SANITIZE_ADDRESS__
        a = make_app(STAGE1_SECCOMP_RETAIN, EPERM, sd);
        tap_is_int(in_child(&a, probe_systemd_retain), 0,
                   "retain @systemd/default-whitelist,@systemd/network-io");
#else
        (void)sd;
        (void)probe_systemd_retain;
#endif
}

int main(void) {
        test_tables();
        test_check_and_build();
        test_filters();
        return tap_done();
}
