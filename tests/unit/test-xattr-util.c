/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xattr-util.h (which attributes of an image reach a tree) and the fd-util.h copy helpers
 * built on it: holes stay holes, set-id bits and capabilities only when asked for. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "tap.h"
#include "xattr-util.h"

static void test_names(void) {
        tap_ok(xattr_name_allowed("user.mime_type", 0), "user.* kept");
        tap_ok(!xattr_name_allowed("user.overlay.opaque", XATTR_KEEP_CAPS),
               "user.overlay.* dropped (overlayfs userxattr)");
        tap_ok(!xattr_name_allowed("user.overlay.whiteout", XATTR_KEEP_CAPS) &&
                       !xattr_name_allowed("user.overlay.redirect", XATTR_KEEP_CAPS) &&
                       !xattr_name_allowed("user.overlay.metacopy", XATTR_KEEP_CAPS),
               "user.overlay. xwhiteout, redirect and metacopy dropped");
        tap_ok(xattr_name_allowed("user.overlayish", 0), "user.overlayish kept (not the prefix)");
        tap_ok(!xattr_name_allowed("trusted.overlay.opaque", XATTR_KEEP_CAPS),
               "trusted.overlay.* dropped");
        tap_ok(!xattr_name_allowed("trusted.foo", XATTR_KEEP_CAPS), "trusted.* dropped");
        tap_ok(!xattr_name_allowed("security.selinux", XATTR_KEEP_CAPS),
               "security.selinux dropped");
        tap_ok(!xattr_name_allowed("security.SMACK64EXEC", XATTR_KEEP_CAPS),
               "security.SMACK64EXEC dropped");
        tap_ok(!xattr_name_allowed("security.ima", XATTR_KEEP_CAPS), "security.ima dropped");
        tap_ok(xattr_name_allowed("security.capability", XATTR_KEEP_CAPS),
               "security.capability kept with XATTR_KEEP_CAPS");
        tap_ok(!xattr_name_allowed("security.capability", 0),
               "security.capability dropped without it");
        tap_ok(xattr_name_allowed("system.posix_acl_access", 0), "POSIX access ACL kept");
        tap_ok(xattr_name_allowed("system.posix_acl_default", 0), "POSIX default ACL kept");
        tap_ok(!xattr_name_allowed("system.nfs4_acl", XATTR_KEEP_CAPS), "other system.* dropped");
        tap_ok(!xattr_name_allowed("user", XATTR_KEEP_CAPS) && !xattr_name_allowed("", 0),
               "no prefix, no namespace: dropped");
}

static void test_sparse_copy(const char *dir) {
        _cleanup_close_ int in = -EBADF, out = -EBADF, dfd = -EBADF;
        const off_t size = 256ll << 20; /* 256 MiB, 8 KiB of data */
        char buf[4096], back[4096];
        struct stat st;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        in = openat(dfd, "in", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        out = openat(dfd, "out", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        tap_ok(dfd >= 0 && in >= 0 && out >= 0, "sparse: files created");
        memset(buf, 'a', sizeof(buf));
        tap_ok(pwrite(in, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
                       pwrite(in, buf, sizeof(buf), 128ll << 20) == (ssize_t)sizeof(buf) &&
                       ftruncate(in, size) == 0,
               "sparse: data at 0 and 128 MiB, a hole after it");
        tap_is_int(fd_copy_data(in, out), 0, "sparse: copy");
        tap_ok(fstat(out, &st) == 0 && st.st_size == size, "sparse: the copy has the size");
        tap_ok(st.st_blocks * 512 < (1 << 20), "sparse: holes stay holes (%lld bytes allocated)",
               (long long)st.st_blocks * 512);
        tap_ok(pread(out, back, sizeof(back), 128ll << 20) == (ssize_t)sizeof(back) &&
                       memcmp(buf, back, sizeof(buf)) == 0,
               "sparse: the data between the holes");
        memset(back, 'x', sizeof(back));
        tap_ok(pread(out, back, sizeof(back), 64ll << 20) == (ssize_t)sizeof(back) &&
                       back[0] == 0 && back[sizeof(back) - 1] == 0,
               "sparse: holes read as zeros");
}

static void test_metadata(const char *dir) {
        _cleanup_close_ int dfd = -EBADF, from = -EBADF, a = -EBADF, b = -EBADF;
        struct stat st, sa, sb;
        char v[16];

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        from = openat(dfd, "suid", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        a = openat(dfd, "keep", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        b = openat(dfd, "drop", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        tap_ok(from >= 0 && a >= 0 && b >= 0 && fchmod(from, 06755) == 0 && fstat(from, &st) == 0,
               "metadata: a set-uid, set-gid file");
        if (fsetxattr(from, "user.keep", "ok", 2, 0) < 0 ||
            fsetxattr(from, "trusted.overlay.opaque", "y", 1, 0) < 0) {
                tap_ok(true, "# SKIP no user/trusted xattrs here (%s)", strerror(errno));
                return;
        }
        tap_is_int(fd_copy_metadata(from, a, &st, FD_COPY_KEEP_CAPS | FD_COPY_KEEP_SETID), 0,
                   "metadata: copy keeping privileges");
        tap_is_int(fd_copy_metadata(from, b, &st, 0), 0, "metadata: copy dropping them");
        tap_ok(fstat(a, &sa) == 0 && (sa.st_mode & 07777) == 06755, "metadata: set-id bits kept");
        tap_ok(fstat(b, &sb) == 0 && (sb.st_mode & 07777) == 0755, "metadata: set-id bits dropped");
        tap_ok(fgetxattr(a, "user.keep", v, sizeof(v)) == 2 &&
                       fgetxattr(b, "user.keep", v, sizeof(v)) == 2,
               "metadata: user.* copied");
        tap_ok(fgetxattr(a, "trusted.overlay.opaque", v, sizeof(v)) < 0 && errno == ENODATA,
               "metadata: trusted.* not copied");
        tap_is_int(xattr_has_refused_at(dfd, "suid", XATTR_KEEP_CAPS), 1,
                   "has_refused: trusted.* found");
        tap_is_int(xattr_has_refused_at(dfd, "keep", XATTR_KEEP_CAPS), 0,
                   "has_refused: a filtered copy is clean");
}

int main(void) {
        char dir[] = "/var/tmp/test-xattr-util.XXXXXX";

        test_names();
        if (!mkdtemp(dir))
                return tap_skip_all("no temp dir");
        test_sparse_copy(dir);
        if (geteuid() == 0)
                test_metadata(dir);
        (void)rm_rf_at(AT_FDCWD, dir);
        return tap_done();
}
