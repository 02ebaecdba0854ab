/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See path-resolve.h.  Why not a string check and open() later: stage1 runs these lookups
 * as root with every capability, where a /proc/PID/root or /proc/PID/cwd in the path is a
 * handle on another process's root (the host's, for the pod init outside an app), and the
 * image's own symlinks may point there too.  Resolving once, to an fd, and using only the fd
 * afterwards leaves nothing to swap in between (STYLE.md section 8). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "path-resolve.h"
#include "syscall.h"

#define SYMLINKS_MAX 40 /* the kernel's own limit (path_resolution(7)) */
#define DEPTH_MAX    256

/* Opens the last component name (not a symlink: checked) in dir with the caller's flags and
 * checks it is the inode the O_PATH lookup found. */
static int reopen_final(int dir, const char *name, int path_fd, int flags) {
        _cleanup_close_ int fd = -EBADF;
        struct stat a, b;

        if ((flags & O_PATH) && !(flags & ~(O_PATH | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY)))
                fd = fcntl(path_fd, F_DUPFD_CLOEXEC, 3);
        else
                fd = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &a) < 0 || fstat(path_fd, &b) < 0)
                return -errno;
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return -EAGAIN; /* renamed under us */
        if ((flags & O_DIRECTORY) && !S_ISDIR(a.st_mode))
                return -ENOTDIR;
        return TAKE_FD(fd);
}

int pod_open_in_root_walk(int root_fd, const char *path, int flags) {
        _cleanup_free_ char *todo = NULL;
        int stack[DEPTH_MAX]; /* stack[0] = root; stack[depth] = the current directory */
        size_t depth = 0, links = 0;
        char *p;
        int r;

        if ((flags & O_CREAT) || !path)
                return -EINVAL;
        todo = strdup(path);
        if (!todo)
                return -ENOMEM;
        stack[0] = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (stack[0] < 0)
                return -errno;

        p = todo;
        for (;;) {
                _cleanup_close_ int fd = -EBADF;
                char *comp, *slash;
                struct stat st;

                while (*p == '/')
                        p++;
                if (!*p) { /* the path named a directory we are in (or the root itself) */
                        r = reopen_final(stack[depth], ".", stack[depth], flags);
                        break;
                }
                comp = p;
                slash = strchr(p, '/');
                if (slash) {
                        *slash = 0;
                        p = slash + 1;
                } else
                        p += strlen(p);
                if (streq(comp, "."))
                        continue;
                if (streq(comp, "..")) {
                        if (depth > 0)
                                safe_close(stack[depth--]);
                        continue;
                }
                fd = openat(stack[depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        r = -errno;
                        break;
                }
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        break;
                }
                if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t n;
                        char *next;

                        if (++links > SYMLINKS_MAX) {
                                r = -ELOOP;
                                break;
                        }
                        /* Our own text resolution: a magic link's text is a path as seen
                         * from the target process, which we resolve inside root_fd, never
                         * the kernel's jump to the object itself. */
                        n = readlinkat(fd, "", target, sizeof(target) - 1);
                        if (n < 0) {
                                r = -errno;
                                break;
                        }
                        target[n] = 0;
                        if (asprintf(&next, "%s/%s", target, p) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        free(todo);
                        todo = next;
                        p = todo;
                        if (target[0] == '/')
                                while (depth > 0)
                                        safe_close(stack[depth--]);
                        continue;
                }
                while (*p == '/')
                        p++;
                if (!*p) { /* the last component */
                        r = reopen_final(stack[depth], comp, fd, flags);
                        break;
                }
                if (!S_ISDIR(st.st_mode)) {
                        r = -ENOTDIR;
                        break;
                }
                if (depth + 1 >= DEPTH_MAX) {
                        r = -ENAMETOOLONG;
                        break;
                }
                stack[++depth] = TAKE_FD(fd);
        }
        for (size_t i = 0; i <= depth; i++)
                safe_close(stack[i]);
        return r;
}

int pod_open_in_root(int root_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        if (flags & O_CREAT)
                return -EINVAL;
        for (int i = 0; i < 8; i++) {
                fd = sys_openat2(root_fd, path, &how, sizeof(how));
                if (fd >= 0)
                        return fd;
                if (errno == ENOSYS)
                        return pod_open_in_root_walk(root_fd, path, flags);
                /* EAGAIN: a rename anywhere on the system raced with the lookup. */
                if (errno != EAGAIN)
                        return -errno;
        }
        return -EAGAIN;
}
