/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rootfs-mode.h: the mode names, rootfs.conf (vendor then admin, bad lines named), and the
 * probe's test switch and its cleanup; the probe against a real kernel refusal is
 * tests/integration/rootless-rootfs.sh's (it needs a user namespace of a user). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "macro.h"
#include "rootfs-mode.h"
#include "tap.h"

static char dir[] = "/tmp/test-rootfs-mode.XXXXXX";

static void put(const char *sub, const char *text) {
        char p[4096];
        FILE *f;

        (void)snprintf(p, sizeof(p), "%s/%s", dir, sub);
        (void)mkdir(p, 0755);
        (void)snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, POD_ROOTFS_CONF_FILE);
        f = fopen(p, "we");
        if (!f)
                return;
        (void)fputs(text, f);
        (void)fclose(f);
}

static int entries(int fd) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int n = 0, dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);

        d = fdopendir(dfd);
        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

int main(void) {
        struct pod_error e = {};
        enum pod_rootfs_mode m = _POD_ROOTFS_MODE_INVALID;
        char vendor[4096], admin[4096];
        _cleanup_close_ int fd = -EBADF;
        int r;

        tap_is_int(pod_rootfs_mode_from_string("auto"), POD_ROOTFS_AUTO, "auto");
        tap_is_int(pod_rootfs_mode_from_string("overlay"), POD_ROOTFS_OVERLAY, "overlay");
        tap_is_int(pod_rootfs_mode_from_string("copy"), POD_ROOTFS_COPY, "copy");
        tap_is_int(pod_rootfs_mode_from_string("fuse-overlayfs"), POD_ROOTFS_FUSE,
                   "fuse-overlayfs");
        tap_is_int(pod_rootfs_mode_from_string("fuse"), -EINVAL, "fuse: not a mode");
        tap_is_int(pod_rootfs_mode_from_string("Copy"), -EINVAL, "names are exact");
        tap_is_int(pod_rootfs_mode_from_string(NULL), -EINVAL, "NULL");
        tap_is_str(pod_rootfs_mode_to_string(POD_ROOTFS_COPY), "copy", "to_string");

        if (!mkdtemp(dir)) {
                tap_ok(false, "mkdtemp: %s", strerror(errno));
                return tap_done();
        }
        (void)snprintf(vendor, sizeof(vendor), "%s/vendor", dir);
        (void)snprintf(admin, sizeof(admin), "%s/admin", dir);

        r = pod_rootfs_conf_load(vendor, admin, &m, &e);
        tap_ok(r == 0 && m == POD_ROOTFS_AUTO, "no file: auto");
        put("vendor", "# comment\n\n rootfs = overlay \n");
        r = pod_rootfs_conf_load(vendor, admin, &m, &e);
        tap_ok(r == 0 && m == POD_ROOTFS_OVERLAY, "the vendor's value");
        put("admin", "rootfs=copy\n");
        r = pod_rootfs_conf_load(vendor, admin, &m, &e);
        tap_ok(r == 0 && m == POD_ROOTFS_COPY, "the admin's value wins");
        put("admin", "rootfs = sometimes\n");
        m = POD_ROOTFS_AUTO;
        r = pod_rootfs_conf_load(vendor, admin, &m, &e);
        tap_ok(r == -EINVAL && strstr(e.msg, "rootfs.conf:1:") && strstr(e.msg, "sometimes"),
               "a bad value names file, line and value (%s)", e.msg);
        put("admin", "\nrootfs-mode = copy\n");
        e = (struct pod_error){}; /* pod_error_set() keeps a first message */
        r = pod_rootfs_conf_load(vendor, admin, &m, &e);
        tap_ok(r == -EINVAL && strstr(e.msg, ":2: unknown key 'rootfs-mode'"),
               "an unknown key is an error (%s)", e.msg);
        put("admin", "rootfs\n");
        r = pod_rootfs_conf_load(vendor, admin, &m, &e);
        tap_ok(r == -EINVAL, "a line without '=' is an error");

        {
                struct pod_rootfs_conf c = {};
                _cleanup_free_ char *path = NULL;

                put("admin", "rootfs = fuse-overlayfs\nfuse-overlayfs = /opt/f/fuse-overlayfs\n");
                r = pod_rootfs_conf_load_full(vendor, admin, &c, &e);
                tap_ok(r == 0 && c.mode == POD_ROOTFS_FUSE && c.fuse_overlayfs &&
                               streq(c.fuse_overlayfs, "/opt/f/fuse-overlayfs"),
                       "rootfs.conf: the mode and the program's path");
                free(c.fuse_overlayfs);
                c.fuse_overlayfs = NULL;
                put("admin", "fuse-overlayfs = fuse-overlayfs\n");
                e = (struct pod_error){};
                r = pod_rootfs_conf_load_full(vendor, admin, &c, &e);
                tap_ok(r == -EINVAL && strstr(e.msg, "absolute path or 'no'"),
                       "a relative program path is an error (%s)", e.msg);
                e = (struct pod_error){};
                r = pod_rootfs_fuse_find("no", &path, &e);
                tap_ok(r == -ENOENT && strstr(e.msg, "turned off"),
                       "fuse-overlayfs = no: none (%s)", e.msg);
                e = (struct pod_error){};
                r = pod_rootfs_fuse_find("/nonexistent/fuse-overlayfs", &path, &e);
                tap_ok(r == -ENOENT && strstr(e.msg, "/nonexistent/fuse-overlayfs"),
                       "a configured path that does not exist is an error naming it (%s)", e.msg);
        }

        tap_ok(pod_rootfs_probe_refused(-EPERM) && pod_rootfs_probe_refused(-EINVAL) &&
                       pod_rootfs_probe_refused(-ENODEV) && pod_rootfs_probe_refused(-EOPNOTSUPP),
               "EPERM, EINVAL, ENODEV, EOPNOTSUPP: refused");
        tap_ok(!pod_rootfs_probe_refused(-ENOSPC) && !pod_rootfs_probe_refused(-EIO) &&
                       !pod_rootfs_probe_refused(0),
               "ENOSPC, EIO: errors, not a refusal");

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        (void)setenv(POD_ROOTFS_PROBE_TEST_ENV, "refuse", 1);
        tap_is_int(pod_rootfs_probe_overlay(fd, &e), -EPERM,
                   "POD_TEST_OVERLAY_PROBE=refuse: EPERM");
        (void)setenv(POD_ROOTFS_PROBE_TEST_ENV, "allow", 1);
        r = pod_rootfs_probe_overlay(fd, &e);
        tap_ok(r == 0 || r < 0, "any other value does not force anything (probe: %d)", r);
        (void)unsetenv(POD_ROOTFS_PROBE_TEST_ENV);
        tap_is_int(entries(fd), 2, "the probe leaves nothing behind (vendor/, admin/ only)");

        (void)rm_rf_at(AT_FDCWD, dir);
        return tap_done();
}
