/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* path-resolve.c: openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) and the component walk
 * used where openat2 is missing must both keep every lookup inside the root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "path-resolve.h"
#include "tap.h"

typedef int (*open_fn)(int, const char *, int);

static char base[] = "/tmp/test-path-resolve.XXXXXX";
static int root_fd = -EBADF;

static void mk(const char *rel, bool dir) {
        char p[512];
        int fd;

        (void)snprintf(p, sizeof(p), "%s/%s", base, rel);
        if (dir) {
                if (mkdir(p, 0755) < 0)
                        abort();
                return;
        }
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, rel, strlen(rel)) < 0)
                abort();
        close(fd);
}

static void ln(const char *target, const char *rel) {
        char p[512];

        (void)snprintf(p, sizeof(p), "%s/%s", base, rel);
        if (symlink(target, p) < 0)
                abort();
}

/* Returns what the opened file contains (its own path, see mk()), or the -errno. */
static char *resolve(open_fn f, int rootfd, const char *path, int flags) {
        static char buf[256];
        int fd = f(rootfd, path, flags);
        ssize_t n;

        if (fd < 0) {
                (void)snprintf(buf, sizeof(buf), "errno %d", -fd);
                return buf;
        }
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                (void)snprintf(buf, sizeof(buf), "read errno %d", errno);
        else
                buf[n] = 0;
        close(fd);
        return buf;
}

static bool same_inode(open_fn f, const char *path, const char *rel) {
        struct stat a, b;
        char p[512];
        int fd = f(root_fd, path, O_PATH);
        bool ok;

        if (fd < 0)
                return false;
        (void)snprintf(p, sizeof(p), "%s/%s", base, rel);
        ok = fstat(fd, &a) == 0 && stat(p, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
        close(fd);
        return ok;
}

static void run(const char *name, open_fn f) {
        char e[32];
        int p[2], fd;

        tap_is_str(resolve(f, root_fd, "/etc/passwd", O_RDONLY), "root/etc/passwd", name);
        tap_is_str(resolve(f, root_fd, "etc/passwd", O_RDONLY), "root/etc/passwd", "relative path");
        tap_is_str(resolve(f, root_fd, "/abs/passwd", O_RDONLY), "root/etc/passwd",
                   "absolute symlink resolves inside the root");
        tap_is_str(resolve(f, root_fd, "/rel/passwd", O_RDONLY), "root/etc/passwd",
                   "relative symlink with .. resolves inside the root");
        tap_is_str(resolve(f, root_fd, "/../../../../etc/passwd", O_RDONLY), "root/etc/passwd",
                   ".. stops at the root");
        tap_is_str(resolve(f, root_fd, "/up/etc/passwd", O_RDONLY), "root/etc/passwd",
                   "a symlink of .. stops at the root");
        tap_is_str(resolve(f, root_fd, "/esc", O_RDONLY), "errno 2",
                   "a symlink to ../outside does not reach outside");
        tap_is_str(resolve(f, root_fd, "/chain1/passwd", O_RDONLY), "root/etc/passwd",
                   "a chain of symlinks");
        tap_is_str(resolve(f, root_fd, "/loop", O_RDONLY), "errno 40", "a symlink loop: ELOOP");
        (void)snprintf(e, sizeof(e), "errno %d", ENOTDIR);
        tap_is_str(resolve(f, root_fd, "/etc/passwd/x", O_RDONLY), e, "a file is no directory");
        tap_is_str(resolve(f, root_fd, "/etc", O_RDONLY | O_DIRECTORY), "read errno 21",
                   "a directory opens as one");
        tap_ok(same_inode(f, "/", "root"), "'/' is the root itself");
        tap_ok(same_inode(f, "/abs", "root/etc"), "a final symlink is followed (inside)");
        tap_ok(same_inode(f, "/abs/", "root/etc"), "a trailing slash");
        tap_ok(same_inode(f, "/a/b/../../abs/.", "root/etc"), ".. and . in the middle");

        /* A magic link: a /proc/self/fd/N of a pipe is no path anywhere; the kernel would
         * open the pipe itself.  Both must refuse (openat2: ELOOP; the walk resolves the
         * text "pipe:[...]" inside the root: ENOENT). */
        if (pipe2(p, O_CLOEXEC) < 0)
                abort();
        {
                char path[64];
                int slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

                (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
                fd = f(slash, path, O_RDONLY | O_NONBLOCK);
                tap_ok(fd == -ELOOP || fd == -ENOENT, "a /proc magic link is not followed (%d)",
                       fd);
                if (fd >= 0)
                        close(fd);
                close(slash);
        }
        close(p[0]);
        close(p[1]);
}

int main(void) {
        char outside[512];
        int fd;

        if (!mkdtemp(base))
                return tap_skip_all("mkdtemp failed");
        (void)snprintf(outside, sizeof(outside), "%s/outside", base);
        fd = open(outside, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        close(fd);
        mk("root", true);
        mk("root/etc", true);
        mk("root/etc/passwd", false);
        mk("root/a", true);
        mk("root/a/b", true);
        ln("/etc", "root/abs");
        ln("a/b/../../etc", "root/rel");
        ln("../../..", "root/up");
        ln("../outside", "root/esc");
        ln("chain2", "root/chain1");
        ln("/a/../abs", "root/chain2");
        ln("loop", "root/loop");
        {
                char p[512];

                (void)snprintf(p, sizeof(p), "%s/root", base);
                root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (root_fd < 0)
                        return tap_skip_all("cannot open the test root");
        }
        /* The two implementations see the same paths with the same results. */
        run("openat2 (or the walk where it is missing)", pod_open_in_root);
        run("the component walk", pod_open_in_root_walk);
        (void)system("rm -rf /tmp/test-path-resolve.*"); /* best effort */
        return tap_done();
}
