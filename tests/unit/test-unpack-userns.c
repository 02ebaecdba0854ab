/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* unpack.h in a user namespace (rootless, rootless.h): a child in a new user namespace whose
 * uid and gid maps are "0 0 1000" (written by this test as root) unpacks archives: an owner
 * the namespace does not map is refused by name (chown(2) would fail with EINVAL and
 * libarchive only warn, leaving the file to the namespace's root), an allowed device node is
 * skipped, an OCI opaque dir gets user.overlay.opaque, a whiteout is still made. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "rootless.h"
#include "tap.h"
#include "unpack.h"

struct ent {
        const char *path;
        mode_t type;
        int64_t uid, gid;
};

static char base[] = "/tmp/test-unpack-userns.XXXXXX";

#define MANIFEST                                                                         \
        "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/" \
        "test\"}"

static int gen(const char *out, const struct ent *e, size_t n) {
        struct archive *a = archive_write_new();
        int r;

        if (!a)
                return -ENOMEM;
        r = archive_write_set_format_pax_restricted(a);
        if (r == ARCHIVE_OK)
                r = archive_write_open_filename(a, out);
        for (size_t i = 0; r == ARCHIVE_OK && i < n; i++) {
                struct archive_entry *ae = archive_entry_new();
                bool man = streq(e[i].path, "manifest");
                size_t size = man ? strlen(MANIFEST) : e[i].type == AE_IFREG ? 1 : 0;

                archive_entry_set_pathname(ae, e[i].path);
                archive_entry_set_filetype(ae, e[i].type);
                archive_entry_set_perm(ae, e[i].type == AE_IFDIR ? 0755 : 0644);
                archive_entry_set_uid(ae, e[i].uid);
                archive_entry_set_gid(ae, e[i].gid);
                archive_entry_set_size(ae, (la_int64_t)size);
                if (e[i].type == AE_IFCHR)
                        archive_entry_set_rdev(ae, makedev(1, 3));
                r = archive_write_header(a, ae);
                archive_entry_free(ae);
                if (r == ARCHIVE_OK && size > 0 &&
                    archive_write_data(a, man ? MANIFEST : "x", size) != (la_ssize_t)size)
                        r = ARCHIVE_FATAL;
        }
        if (archive_write_close(a) != ARCHIVE_OK)
                r = ARCHIVE_FATAL;
        (void)archive_write_free(a);
        return r == ARCHIVE_OK ? 0 : -EIO;
}

static int unpack(const char *name, const struct ent *e, size_t n, unsigned flags, int *ret_t,
                  struct pod_error *err) {
        struct pod_unpack_options o = POD_UNPACK_OPTIONS_INIT;
        struct pod_unpack_result res = {};
        _cleanup_close_ int fd = -EBADF, t = -EBADF;
        char a[512], d[512];
        int r;

        (void)snprintf(a, sizeof(a), "%s/%s.tar", base, name);
        (void)snprintf(d, sizeof(d), "%s/%s", base, name);
        r = gen(a, e, n);
        if (r < 0)
                return r;
        if (mkdir(d, 0755) < 0)
                return -errno;
        t = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        fd = open(a, O_RDONLY | O_CLOEXEC);
        if (t < 0 || fd < 0)
                return -errno;
        o.flags = flags;
        pod_error_clear(err);
        r = pod_unpack(fd, t, &o, &res, err);
        pod_unpack_result_done(&res);
        *ret_t = TAKE_FD(t);
        return r;
}

static int in_namespace(void) {
        struct pod_error e = {};
        struct stat st;
        char v[8], p[600];
        ssize_t k;
        int t, r;

        tap_ok(pod_in_user_namespace(), "the child is in a user namespace");

        {
                const struct ent ok[] = {
                        { "manifest", AE_IFREG, 0, 0 },         { "rootfs", AE_IFDIR, 0, 0 },
                        { "rootfs/mine", AE_IFREG, 10, 20 },    { "rootfs/null", AE_IFCHR, 0, 0 },
                        { "rootfs/after", AE_IFREG, 999, 999 },
                };
                r = unpack("ok", ok, ELEMENTSOF(ok), POD_UNPACK_ALLOW_DEVICES, &t, &e);
                tap_ok(r == 0, "an archive of mapped owners with a device unpacks: %s", e.msg);
                tap_ok(fstatat(t, "rootfs/mine", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               st.st_uid == 10 && st.st_gid == 20,
                       "owners restored in the namespace's terms");
                tap_ok(fstatat(t, "rootfs/null", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT,
                       "the device node is skipped");
                tap_ok(fstatat(t, "rootfs/after", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               st.st_uid == 999,
                       "entries after the device are unpacked");
                (void)close(t);
        }
        {
                const struct ent far[] = {
                        { "manifest", AE_IFREG, 0, 0 },
                        { "rootfs", AE_IFDIR, 0, 0 },
                        { "rootfs/far", AE_IFREG, 5000, 0 },
                };
                r = unpack("far", far, ELEMENTSOF(far), 0, &t, &e);
                tap_is_int(r, -ERANGE, "an unmapped uid is refused");
                tap_ok(strstr(e.msg, "'rootfs/far'") && strstr(e.msg, "owner 5000:0") &&
                               strstr(e.msg, "uids 0-999"),
                       "... naming the entry, the owner and the mapped IDs: %s", e.msg);
                (void)close(t);
        }
        {
                const struct ent fargid[] = {
                        { "manifest", AE_IFREG, 0, 0 },
                        { "rootfs", AE_IFDIR, 0, 0 },
                        { "rootfs/g", AE_IFREG, 0, 1000 },
                };
                r = unpack("fargid", fargid, ELEMENTSOF(fargid), 0, &t, &e);
                tap_is_int(r, -ERANGE, "an unmapped gid is refused");
                (void)close(t);
        }
        {
                const struct ent farman[] = {
                        { "manifest", AE_IFREG, 4000, 4000 },
                        { "rootfs", AE_IFDIR, 0, 0 },
                };
                r = unpack("farman", farman, ELEMENTSOF(farman), 0, &t, &e);
                tap_is_int(r, -ERANGE, "an unmapped manifest owner is refused");
                (void)close(t);
        }
        {
                const struct ent noown[] = {
                        { "manifest", AE_IFREG, 0, 0 },
                        { "rootfs", AE_IFDIR, 0, 0 },
                        { "rootfs/far", AE_IFREG, 5000, 5000 },
                };
                r = unpack("noown", noown, ELEMENTSOF(noown), POD_UNPACK_NO_OWNER, &t, &e);
                tap_is_int(r, 0, "POD_UNPACK_NO_OWNER: no owner, no check");
                (void)close(t);
        }
        {
                const struct ent layer[] = {
                        { "d", AE_IFDIR, 0, 0 },
                        { "d/.wh..wh..opq", AE_IFREG, 0, 0 },
                        { "d/new", AE_IFREG, 0, 0 },
                        { ".wh.gone", AE_IFREG, 0, 0 },
                };
                r = unpack("layer", layer, ELEMENTSOF(layer), POD_UNPACK_LAYER, &t, &e);
                tap_ok(r == 0, "a layer with an opaque dir and a whiteout unpacks: %s", e.msg);
                (void)snprintf(p, sizeof(p), "%s/layer/d", base);
                k = getxattr(p, "user.overlay.opaque", v, sizeof(v));
                tap_ok(k == 1 && v[0] == 'y', "the opaque dir has user.overlay.opaque=y");
                k = getxattr(p, "trusted.overlay.opaque", v, sizeof(v));
                tap_ok(k < 0, "... and no trusted.overlay.opaque");
                tap_ok(fstatat(t, "gone", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
                               st.st_rdev == makedev(0, 0),
                       "the whiteout is a 0/0 character device");
                (void)close(t);
        }
        return tap_done();
}

static int write_map(pid_t pid, const char *what, const char *text) {
        char p[64];
        int fd, r = 0;

        (void)snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, what);
        fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                r = -errno;
        (void)close(fd);
        return r;
}

int main(void) {
        int go[2], ready[2], status;
        char c = 0, cmd[600];
        pid_t pid;

        if (geteuid() != 0)
                return tap_skip_all("needs root (writes a child's uid/gid maps)"), 77;
        if (!mkdtemp(base))
                return tap_skip_all("no temp dir"), 77;
        if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
                return 1;
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                if (unshare(CLONE_NEWUSER) < 0) {
                        (void)write(ready[1], "n", 1);
                        _exit(77);
                }
                (void)write(ready[1], "y", 1);
                if (read(go[0], &c, 1) != 1 || c != 'y')
                        _exit(1);
                status = in_namespace();
                fflush(stdout); /* _exit() does not */
                _exit(status);
        }
        if (read(ready[0], &c, 1) != 1 || c != 'y') {
                (void)waitpid(pid, NULL, 0);
                return tap_skip_all("user namespaces are not available"), 77;
        }
        if (write_map(pid, "uid_map", "0 0 1000\n") < 0 ||
            write_map(pid, "gid_map", "0 0 1000\n") < 0) {
                (void)write(go[1], "n", 1);
                (void)waitpid(pid, NULL, 0);
                printf("not ok 1 - writing the child's maps\n1..1\n");
                return 1;
        }
        (void)write(go[1], "y", 1);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return 1;
        (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        (void)system(cmd);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
