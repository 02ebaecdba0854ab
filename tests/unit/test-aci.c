/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ACI writer: round trip through the unpacker (modes, links, xattrs, fifo), determinism
 * and --reproducible mtimes, every compression, refusals (bad manifest, missing rootfs,
 * output inside the image dir), and validation of good and bad files. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "aci.h"
#include "fd-util.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"
#include "tap.h"
#include "unpack.h"

static char base[] = "/tmp/test-aci.XXXXXX";

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

static const char manifest[] =
        "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/built\","
        "\"labels\":[{\"name\":\"version\",\"value\":\"1\"}]}";

static int put(const char *rel, const char *data, mode_t mode) {
        char p[512];

        (void)snprintf(p, sizeof(p), "%s/%s", base, rel);
        return write_file_atomic_at(AT_FDCWD, p, data, strlen(data), mode);
}

static char *path(const char *rel) {
        static char p[4][512];
        static int i;

        i = (i + 1) % 4;
        (void)snprintf(p[i], sizeof(p[i]), "%s/%s", base, rel);
        return p[i];
}

static bool same_file(const char *a, const char *b) {
        _cleanup_free_ char *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;

        return read_full_file_at(AT_FDCWD, a, 64 << 20, &x, &nx) == 0 &&
               read_full_file_at(AT_FDCWD, b, 64 << 20, &y, &ny) == 0 && nx == ny &&
               memcmp(x, y, nx) == 0;
}

static bool same_size(const char *p, off_t size) {
        struct stat st;

        return stat(p, &st) == 0 && st.st_size == size;
}

int main(void) {
        struct pod_aci_build_options o = { .compression = POD_COMPRESSION_GZIP };
        _cleanup_free_ char *id1 = NULL, *id2 = NULL;
        struct pod_error e = {};
        bool xattrs;
        int r;

        if (!mkdtemp(base))
                return tap_skip_all("no temp dir");
        (void)mkdir(path("img"), 0755);
        (void)mkdir(path("img/rootfs"), 0755);
        (void)mkdir(path("img/rootfs/bin"), 0711);
        tap_ok(put("img/manifest", manifest, 0644) == 0, "manifest");
        tap_ok(put("img/rootfs/bin/tool", "#!/bin/true\n", 04755) == 0 &&
                       chmod(path("img/rootfs/bin/tool"), 04755) == 0,
               "setuid file");
        tap_ok(link(path("img/rootfs/bin/tool"), path("img/rootfs/bin/tool2")) == 0, "hard link");
        tap_ok(symlink("/bin/tool", path("img/rootfs/bin/abs")) == 0, "symlink");
        tap_ok(mkfifo(path("img/rootfs/fifo"), 0600) == 0, "fifo");
        xattrs = setxattr(path("img/rootfs/bin/tool"), "user.pod", "yes", 3, 0) == 0;

        /* build, then unpack and compare */
        r = pod_aci_build(path("img"), path("a.aci"), &o, &id1, &e);
        tap_ok(r == 0 && image_id_valid(id1, true), "build (%s)", e.msg);
        {
                struct pod_unpack_result res = {};
                _cleanup_close_ int fd = open(path("a.aci"), O_RDONLY | O_CLOEXEC), t = -EBADF;
                struct stat st, st2;
                char buf[16] = {};

                (void)mkdir(path("out"), 0755);
                t = open(path("out"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = pod_unpack(fd, t, NULL, &res, &e);
                tap_ok(r == 0 && streq(res.id, id1) && res.compression == POD_COMPRESSION_GZIP,
                       "built ACI unpacks to the same ID (%s)", e.msg);
                tap_ok(same_file(path("out/manifest"), path("img/manifest")), "manifest kept");
                tap_ok(stat(path("out/rootfs/bin/tool"), &st) == 0 && (st.st_mode & 07777) == 04755,
                       "setuid mode kept");
                tap_ok(stat(path("out/rootfs/bin/tool2"), &st2) == 0 && st.st_ino == st2.st_ino,
                       "hard link kept");
                tap_ok(stat(path("out/rootfs/bin"), &st) == 0 && (st.st_mode & 0777) == 0711,
                       "directory mode kept");
                tap_ok(lstat(path("out/rootfs/fifo"), &st) == 0 && S_ISFIFO(st.st_mode),
                       "fifo kept");
                if (xattrs)
                        tap_ok(getxattr(path("out/rootfs/bin/tool"), "user.pod", buf,
                                        sizeof(buf)) == 3 &&
                                       streq(buf, "yes"),
                               "xattr kept");
                pod_unpack_result_done(&res);
        }

        /* determinism: same input, same bytes; --reproducible ignores mtimes */
        r = pod_aci_build(path("img"), path("b.aci"), &o, &id2, &e);
        tap_ok(r == 0 && streq(id1, id2), "same tree builds the same ID");
        /* an existing out is replaced only with overwrite (issue 13 bug 4) */
        tap_ok(truncate(path("b.aci"), 1) == 0, "shorten b.aci");
        pod_error_clear(&e);
        r = pod_aci_build(path("img"), path("b.aci"), &o, NULL, &e);
        tap_ok(r == -EEXIST && strstr(e.msg, "--overwrite") && same_size(path("b.aci"), 1),
               "existing out refused and left alone: %s", e.msg);
        o.overwrite = true;
        pod_error_clear(&e);
        r = pod_aci_build(path("img"), path("b.aci"), &o, NULL, &e);
        tap_ok(r == 0 && !same_size(path("b.aci"), 1), "... replaced with overwrite (%s)", e.msg);
        o.overwrite = false;
        o.reproducible = true;
        o.mtime = 1700000000;
        o.compression = POD_COMPRESSION_ZSTD;
        id1 = mfree_str(id1);
        tap_ok(pod_aci_build(path("img"), path("r1.aci"), &o, NULL, &e) == 0, "reproducible 1");
        tap_ok(utimensat(AT_FDCWD, path("img/rootfs/bin/tool"), NULL, 0) == 0, "touch a file");
        tap_ok(pod_aci_build(path("img"), path("r2.aci"), &o, NULL, &e) == 0, "reproducible 2");
        tap_ok(same_file(path("r1.aci"), path("r2.aci")), "--reproducible output is identical");
        {
                struct pod_unpack_result res = {};
                _cleanup_close_ int fd = open(path("r1.aci"), O_RDONLY | O_CLOEXEC), t = -EBADF;
                struct stat st;

                (void)mkdir(path("out2"), 0755);
                t = open(path("out2"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                tap_ok(pod_unpack(fd, t, NULL, &res, &e) == 0 &&
                               res.compression == POD_COMPRESSION_ZSTD &&
                               stat(path("out2/rootfs/bin/tool"), &st) == 0 &&
                               st.st_mtime == 1700000000,
                       "--reproducible sets mtimes");
                pod_unpack_result_done(&res);
        }
        o.reproducible = false;
        o.overwrite = true; /* one c.aci, rebuilt with each compression */
        for (int c = 0; c < _POD_COMPRESSION_MAX; c++) {
                _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
                _cleanup_close_ int fd = -EBADF;
                char id[POD_IMAGE_ID_SIZE];

                o.compression = c;
                r = pod_aci_build(path("img"), path("c.aci"), &o, NULL, &e);
                fd = open(path("c.aci"), O_RDONLY | O_CLOEXEC);
                tap_ok(r == 0 && fd >= 0 && pod_aci_validate(fd, id, &m, &e) == 0 &&
                               streq(m->name, "example.com/built"),
                       "build and validate with %s", pod_compression_to_string(c));
        }

        /* refusals */
        o.compression = POD_COMPRESSION_NONE;
        pod_error_clear(&e);
        r = pod_aci_build(path("img"), path("img/rootfs/self.aci"), &o, NULL, &e);
        tap_ok(r == -EINVAL && strstr(e.msg, "must not be inside"), "output inside dir: %s", e.msg);
        tap_ok(access(path("img/rootfs/self.aci"), F_OK) < 0, "nothing written inside");
        tap_ok(put("img/manifest", "{\"acKind\":\"ImageManifest\",\"name\":\"BAD NAME\"}", 0644) ==
                       0,
               "break the manifest");
        pod_error_clear(&e);
        r = pod_aci_build(path("img"), path("bad.aci"), &o, NULL, &e);
        tap_ok(r < 0 && strstr(e.msg, "manifest") && access(path("bad.aci"), F_OK) < 0,
               "invalid manifest refused: %s", e.msg);
        (void)put("img/manifest", manifest, 0644);
        (void)rm_rf_at(AT_FDCWD, path("img/rootfs"));
        pod_error_clear(&e);
        r = pod_aci_build(path("img"), path("bad.aci"), &o, NULL, &e);
        tap_ok(r == -ENOTDIR && strstr(e.msg, "rootfs"), "missing rootfs refused: %s", e.msg);

        /* validate a non-ACI */
        {
                _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
                _cleanup_close_ int fd = -EBADF;
                char id[POD_IMAGE_ID_SIZE];

                (void)put("junk.aci", "this is not an archive at all, just some text....", 0644);
                fd = open(path("junk.aci"), O_RDONLY | O_CLOEXEC);
                pod_error_clear(&e);
                tap_ok(pod_aci_validate(fd, id, &m, &e) == -EMEDIUMTYPE, "junk refused: %s", e.msg);
        }

        (void)rm_rf_at(AT_FDCWD, base);
        return tap_done();
}
