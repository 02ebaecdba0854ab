/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod_layer_merge() (layer-merge.h) over synthetic overlay-format layers made here with
 * mknod (whiteouts) and setxattr (opaque dirs): whiteout of a file and of a directory, an
 * opaque directory, a symlink replaced by a directory (never followed), a file replaced by a
 * directory and back, hard links kept, set-uid bits dropped or kept, hard-link mode sharing
 * inodes with the layers except where privileges must be dropped.  Needs root (mknod of a
 * 0/0 device, trusted.* xattrs). */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fd-util.h"
#include "layer-merge.h"
#include "macro.h"
#include "tap.h"

static char base[] = "/tmp/test-layer-merge.XXXXXX";

static void must(bool ok, const char *what) {
        if (!ok) {
                printf("Bail out! setup: %s: %m\n", what);
                exit(1);
        }
}

static void put(int dir, const char *path, const char *text, mode_t mode) {
        _cleanup_close_ int fd = openat(dir, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

        must(fd >= 0 && loop_write(fd, text, strlen(text)) >= 0 && fchmod(fd, mode) >= 0, path);
}

static void whiteout(int dir, const char *path) {
        must(mknodat(dir, path, S_IFCHR | 0, makedev(0, 0)) >= 0, path);
}

static int layer(int n) {
        char p[64];

        (void)snprintf(p, sizeof(p), "l%d", n);
        must(mkdir(p, 0755) >= 0, p);
        return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static char *content(int dir, const char *path) {
        char *t = NULL;

        if (read_full_file_at(dir, path, 4096, &t, NULL) < 0)
                return strdup("(none)");
        return t;
}

static bool exists(int dir, const char *path) {
        struct stat st;

        return fstatat(dir, path, &st, AT_SYMLINK_NOFOLLOW) >= 0;
}

static mode_t type_of(int dir, const char *path) {
        struct stat st;

        return fstatat(dir, path, &st, AT_SYMLINK_NOFOLLOW) < 0 ? 0 : st.st_mode & S_IFMT;
}

static ino_t ino_of(int dir, const char *path) {
        struct stat st;

        return fstatat(dir, path, &st, AT_SYMLINK_NOFOLLOW) < 0 ? 0 : st.st_ino;
}

static int merge_into(const char *name, const int *fds, size_t n, unsigned flags) {
        struct pod_error e = {};
        int to, r;

        must(mkdir(name, 0755) >= 0, name);
        to = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        must(to >= 0, name);
        r = pod_layer_merge(fds, n, to, flags, &e);
        tap_ok(r >= 0, "merge into %s (flags %u) succeeds%s%s", name, flags, r < 0 ? ": " : "",
               r < 0 ? e.msg : "");
        return to;
}

static void check_common(int to, const char *what) {
        char v[8], p[64];
        _cleanup_free_ char *f = NULL, *g = NULL, *inside = NULL, *onew = NULL, *keep = NULL;

        tap_ok(!exists(to, "a"), "%s: whited-out file is gone", what);
        tap_ok(!exists(to, "d"), "%s: whited-out directory is gone with its contents", what);
        tap_ok(!exists(to, "o/old"), "%s: opaque dir hides the lower entries", what);
        onew = content(to, "o/new");
        tap_is_str(onew, "new", "opaque dir keeps its own entries");
        keep = content(to, "o2/keep");
        tap_is_str(keep, "keep", "a non-opaque dir merges with the lower one");
        tap_ok(exists(to, "o2/more"), "%s: ... and gets the upper entries", what);
        (void)snprintf(p, sizeof(p), "%s/o", what);
        tap_ok(lgetxattr(p, "trusted.overlay.opaque", v, sizeof(v)) < 0,
               "%s: no opaque marker in the result", what);
        tap_is_int(type_of(to, "s"), S_IFDIR, "symlink replaced by a directory");
        inside = content(to, "s/inside");
        tap_is_str(inside, "inside", "the directory's file is in it");
        tap_ok(!exists(AT_FDCWD, "target/inside"), "%s: the old symlink was not followed", what);
        f = content(to, "f");
        tap_is_str(f, "f2", "file -> directory -> file: the top file wins");
        tap_ok(!exists(to, "f/z"), "%s: the middle directory is gone", what);
        g = content(to, "g");
        tap_is_str(g, "g-file", "directory replaced by a file");
        tap_ok(ino_of(to, "h1") != 0 && ino_of(to, "h1") == ino_of(to, "h2"),
               "%s: hard links stay hard links", what);
        tap_is_int(type_of(to, "link"), S_IFLNK, "symlinks are copied as symlinks");
        tap_ok(!exists(to, "wh-top"), "%s: a whiteout with nothing below leaves nothing", what);
}

int main(void) {
        _cleanup_close_ int l0 = -EBADF, l1 = -EBADF, l2 = -EBADF, c = -EBADF, k = -EBADF,
                            h = -EBADF, hk = -EBADF;
        struct stat st, src;
        int fds[3];

        if (geteuid() != 0)
                return tap_skip_all("needs root (mknod of whiteouts, trusted.* xattrs)"), 77;
        must(mkdtemp(base) != NULL, "mkdtemp");
        must(chdir(base) >= 0, "chdir");
        must(mkdir("target", 0755) >= 0, "target");

        /* Layer 0 (bottom). */
        l0 = layer(0);
        put(l0, "a", "a", 0644);
        must(mkdirat(l0, "d", 0755) >= 0, "d");
        put(l0, "d/x", "x", 0644);
        must(mkdirat(l0, "o", 0755) >= 0, "o");
        put(l0, "o/old", "old", 0644);
        must(mkdirat(l0, "o2", 0755) >= 0, "o2");
        put(l0, "o2/keep", "keep", 0644);
        must(symlinkat("../target", l0, "s") >= 0, "s");
        put(l0, "f", "f0", 0644);
        must(mkdirat(l0, "g", 0755) >= 0, "g");
        put(l0, "g/1", "1", 0644);
        put(l0, "h1", "hard", 0644);
        must(linkat(l0, "h1", l0, "h2", 0) >= 0, "h2");
        put(l0, "su", "setuid", 04755);
        must(symlinkat("h1", l0, "link") >= 0, "link");

        /* Layer 1. */
        l1 = layer(1);
        whiteout(l1, "a");
        whiteout(l1, "d");
        whiteout(l1, "wh-top");
        must(mkdirat(l1, "o", 0750) >= 0, "o");
        must(lsetxattr("l1/o", "trusted.overlay.opaque", "y", 1, 0) >= 0, "opaque");
        put(l1, "o/new", "new", 0644);
        must(mkdirat(l1, "o2", 0755) >= 0, "o2");
        put(l1, "o2/more", "more", 0644);
        must(mkdirat(l1, "s", 0755) >= 0, "s dir");
        put(l1, "s/inside", "inside", 0644);
        must(mkdirat(l1, "f", 0755) >= 0, "f dir");
        put(l1, "f/z", "z", 0644);
        put(l1, "g", "g-file", 0644);

        /* Layer 2 (top): the file comes back. */
        l2 = layer(2);
        put(l2, "f", "f2", 0644);
        must(fchmod(l2, 0751) >= 0, "root mode");

        fds[0] = l0;
        fds[1] = l1;
        fds[2] = l2;

        c = merge_into("copy", fds, 3, 0);
        check_common(c, "copy");
        tap_ok(fstatat(c, "su", &st, AT_SYMLINK_NOFOLLOW) >= 0 && !(st.st_mode & S_ISUID),
               "copy: set-uid bit dropped without KEEP_PRIVILEGES");
        tap_ok(fstatat(c, "o", &st, AT_SYMLINK_NOFOLLOW) >= 0 && (st.st_mode & 07777) == 0750,
               "copy: a merged directory has the upper layer's mode");
        tap_ok(fstat(c, &st) >= 0 && (st.st_mode & 07777) == 0751,
               "copy: the root has the top layer's mode");
        tap_ok(ino_of(c, "h1") != ino_of(l0, "h1"), "copy: files are copies, not the layers'");

        k = merge_into("keep", fds, 3, POD_LAYER_MERGE_KEEP_PRIVILEGES);
        tap_ok(fstatat(k, "su", &st, AT_SYMLINK_NOFOLLOW) >= 0 && (st.st_mode & S_ISUID),
               "keep: set-uid bit kept with KEEP_PRIVILEGES");

        h = merge_into("link", fds, 3, POD_LAYER_MERGE_LINK);
        check_common(h, "link");
        tap_ok(ino_of(h, "h1") == ino_of(l0, "h1"), "link: files are the layers' inodes");
        tap_ok(ino_of(h, "su") != ino_of(l0, "su") &&
                       fstatat(h, "su", &st, AT_SYMLINK_NOFOLLOW) >= 0 && !(st.st_mode & S_ISUID),
               "link: a set-uid file is copied without the bit, never linked");
        tap_ok(fstatat(l0, "su", &src, AT_SYMLINK_NOFOLLOW) >= 0 && (src.st_mode & S_ISUID),
               "link: the layer's set-uid file is untouched");

        hk = merge_into("link-keep", fds, 3,
                        POD_LAYER_MERGE_LINK | POD_LAYER_MERGE_KEEP_PRIVILEGES);
        tap_ok(ino_of(hk, "su") == ino_of(l0, "su"), "link+keep: the set-uid file is linked");

        /* A rootless store's opaque marker (user.overlay.opaque, rootless.h) works the same,
         * and is not copied into the result either. */
        {
                _cleanup_close_ int u0 = layer(10), u1 = layer(11), u = -EBADF;
                int ufds[2] = { u0, u1 };
                char v[8];

                must(mkdirat(u0, "uo", 0755) >= 0, "uo");
                put(u0, "uo/old", "old", 0644);
                must(mkdirat(u1, "uo", 0755) >= 0, "uo upper");
                if (lsetxattr("l11/uo", "user.overlay.opaque", "y", 1, 0) < 0)
                        tap_ok(true, "# SKIP user.* xattrs not supported here");
                else {
                        put(u1, "uo/new", "new", 0644);
                        u = merge_into("user-opaque", ufds, 2, 0);
                        tap_ok(!exists(u, "uo/old") && exists(u, "uo/new"),
                               "user.overlay.opaque hides the lower entries");
                        tap_ok(lgetxattr("user-opaque/uo", "user.overlay.opaque", v, sizeof(v)) < 0,
                               "no user.overlay.opaque in the result");
                }
        }

        /* The layers themselves are untouched by every merge. */
        tap_ok(exists(l0, "a") && exists(l0, "d/x") && exists(l0, "o/old") &&
                       type_of(l0, "s") == S_IFLNK && type_of(l1, "a") == S_IFCHR,
               "the layers are unchanged");

        {
                char cmd[600];

                (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
                (void)system(cmd);
        }
        return tap_done();
}
