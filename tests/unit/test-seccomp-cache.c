/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cache of compiled seccomp filters (stage1/seccomp-cache.c): for several apps' inputs the
 * program from a cold cache (compiled) and from a warm one (read back) is instruction for
 * instruction the one libseccomp exports; other inputs give another entry; a corrupted or
 * truncated entry, or one made for other inputs, is a miss that compiles and repairs; and a
 * program read from the cache, loaded in a child, blocks what the denylist blocks. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "seccomp-lib.h"
#include "stage1.h"
#include "syscall.h"
#include "tap.h"

static struct stage1_app make_app(enum stage1_seccomp_mode mode, int err, char **set, bool nnp) {
        return (struct stage1_app){
                .name = "test",
                .seccomp_mode = mode,
                .seccomp_set = set,
                .seccomp_errno = err,
                .no_new_privs = nnp,
        };
}

static bool same_as_compiled(const struct stage1_app *app, const struct sock_filter *prog,
                             size_t len) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_free_ struct sock_filter *want = NULL;
        size_t n = 0;

        if (stage1_seccomp_build(app, &ctx, NULL) < 0 || stage1_seccomp_export(ctx, &want, &n) < 0)
                return false;
        return n == len && memcmp(want, prog, len * sizeof(*prog)) == 0;
}

/* cache_get into dir; the result (1 hit, 0 miss) and whether the program is libseccomp's. */
static int get(int dir, const struct stage1_app *app, bool *ret_same) {
        _cleanup_free_ struct sock_filter *prog = NULL;
        size_t len = 0;
        int r;

        r = stage1_seccomp_cache_get(dir, app, &prog, &len, NULL);
        *ret_same = r >= 0 && same_as_compiled(app, prog, len);
        return r;
}

static char *entry_name(const struct stage1_app *app) {
        _cleanup_free_ char *key = NULL;
        static char name[STAGE1_SECCOMP_CACHE_NAME_SIZE];
        size_t size;

        return stage1_seccomp_cache_key(app, &key, &size, name) < 0 ? NULL : name;
}

/* In a child: load the app's program as read from the cache, then probe. */
static int child_probe(int dir, const struct stage1_app *app) {
        _cleanup_free_ struct sock_filter *prog = NULL;
        size_t len = 0;
        pid_t pid;
        int status;

        if (stage1_seccomp_cache_get(dir, app, &prog, &len, NULL) != 1)
                return -1;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                struct sock_fprog fp = { .len = (unsigned short)len, .filter = prog };

                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
                        _exit(10);
                if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM)
                        _exit(11);
                if (syscall(SYS_io_uring_setup, 1, NULL) == 0 || errno != EPERM)
                        _exit(12);
                if (getppid() <= 0)
                        _exit(13);
                _exit(0);
        }
        if (waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

int main(void) {
        char tmpl[] = "/tmp/test-seccomp-cache.XXXXXX";
        char *remove_set[] = { (char *)"@rkt/default-blacklist", (char *)"socket", NULL };
        char *remove_other[] = { (char *)"socket", (char *)"@rkt/default-blacklist", NULL };
        char *retain_set[] = { (char *)"@rkt/default-whitelist", (char *)"umount2", NULL };
        struct stage1_app apps[] = {
                make_app(STAGE1_SECCOMP_DEFAULT, 0, NULL, true),
                make_app(STAGE1_SECCOMP_DEFAULT, 0, NULL, false),
                make_app(STAGE1_SECCOMP_REMOVE, 0, remove_set, true),
                make_app(STAGE1_SECCOMP_REMOVE, ENOTSUP, remove_set, true),
                make_app(STAGE1_SECCOMP_REMOVE, 0, remove_other, true),
                make_app(STAGE1_SECCOMP_RETAIN, 0, retain_set, true),
                make_app(STAGE1_SECCOMP_RETAIN, EPERM, retain_set, false),
        };
        _cleanup_close_ int dir = -EBADF;
        char names[ELEMENTSOF(apps)][STAGE1_SECCOMP_CACHE_NAME_SIZE];
        bool same;
        int r;

        if (!entry_name(&apps[0])) {
                printf("1..0 # SKIP no build ID in this test binary\n");
                return 77;
        }
        if (!mkdtemp(tmpl))
                return 1;
        dir = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return 1;

        for (size_t i = 0; i < ELEMENTSOF(apps); i++) {
                snprintf(names[i], sizeof(names[i]), "%s", entry_name(&apps[i]));
                for (size_t j = 0; j < i; j++)
                        tap_ok(strcmp(names[i], names[j]) != 0, "inputs %zu and %zu: other entries",
                               i, j);
                r = get(dir, &apps[i], &same);
                tap_ok(r == 0 && same, "inputs %zu, cold: compiled, libseccomp's program", i);
                r = get(dir, &apps[i], &same);
                tap_ok(r == 1 && same, "inputs %zu, warm: from the cache, the same program", i);
        }

        /* A corrupted byte in the program, then a truncation: misses, then repaired. */
        {
                _cleanup_close_ int fd = openat(dir, names[0], O_RDWR | O_CLOEXEC);
                struct stat st;
                char c;

                tap_ok(fd >= 0 && fstat(fd, &st) == 0, "entry 0 exists");
                tap_ok(pread(fd, &c, 1, st.st_size - 70) == 1, "read a byte of its program");
                c ^= 0x01;
                tap_ok(pwrite(fd, &c, 1, st.st_size - 70) == 1, "corrupt it");
                r = get(dir, &apps[0], &same);
                tap_ok(r == 0 && same, "corrupted entry: a miss, compiled");
                r = get(dir, &apps[0], &same);
                tap_ok(r == 1 && same, "... and repaired");
                fd = safe_close(fd);
                fd = openat(dir, names[0], O_RDWR | O_CLOEXEC);
                tap_ok(fd >= 0 && ftruncate(fd, 100) == 0, "truncate it");
                r = get(dir, &apps[0], &same);
                tap_ok(r == 0 && same, "truncated entry: a miss, compiled");
        }

        /* A valid entry of other inputs under this name. */
        tap_ok(renameat(dir, names[5], dir, names[0]) == 0, "retain-set entry moved to entry 0");
        r = get(dir, &apps[0], &same);
        tap_ok(r == 0 && same, "entry of other inputs: a miss, compiled");
        r = get(dir, &apps[0], &same);
        tap_ok(r == 1 && same, "... and repaired");

        /* Group- or world-writable: never read. */
        tap_ok(fchmodat(dir, names[0], 0620, 0) == 0, "entry 0 made group-writable");
        r = get(dir, &apps[0], &same);
        tap_ok(r == 0 && same, "group-writable entry: a miss");

        /* No cache directory: compiled. */
        r = get(-EBADF, &apps[0], &same);
        tap_ok(r == 0 && same, "no cache: compiled");

        /* What a program from the cache blocks, loaded in a child. */
        tap_is_int(child_probe(dir, &apps[0]), 0,
                   "default filter from the cache: unshare(CLONE_NEWUSER) and io_uring_setup "
                   "fail with EPERM, getppid works");

        for (size_t i = 0; i < ELEMENTSOF(apps); i++)
                (void)unlinkat(dir, names[i], 0);
        (void)rmdir(tmpl);
        return tap_done();
}
