/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* idunshift.h and the ACI writer's unshift option (pod export of a --private-users pod):
 * owners, v3 capability root IDs and ACL IDs in [BASE, BASE+COUNT) are written minus BASE;
 * anything outside (host root's files, v2 capabilities) is refused, naming the file. */
#include <archive.h>
#include <archive_entry.h>
#include <endian.h>
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
#include "idunshift.h"
#include "macro.h"
#include "tap.h"

static const struct pod_idmap M = { .base = 200000, .count = 65536 };

static void le32(unsigned char *p, uint32_t v) {
        v = htole32(v);
        memcpy(p, &v, 4);
}

static uint32_t rd32(const unsigned char *p) {
        uint32_t v;

        memcpy(&v, p, 4);
        return le32toh(v);
}

static void test_ids(void) {
        uint32_t id = 7;

        tap_ok(pod_idunshift_id(&M, 200000, &id) == 0 && id == 0, "BASE -> 0");
        tap_ok(pod_idunshift_id(&M, 265535, &id) == 0 && id == 65535, "last ID -> COUNT-1");
        tap_is_int(pod_idunshift_id(&M, 265536, &id), -ERANGE, "BASE+COUNT refused");
        tap_is_int(pod_idunshift_id(&M, 0, &id), -ERANGE, "host root refused");
        tap_is_int(pod_idunshift_id(&M, 199999, &id), -ERANGE, "BASE-1 refused");
}

static void test_caps(void) {
        unsigned char v3[24] = {}, v2[20] = {};
        _cleanup_free_ void *out = NULL;
        size_t n = 0;

        le32(v3, 0x03000001); /* v3, effective */
        le32(v3 + 4, 0x400);  /* permitted: CAP_NET_BIND_SERVICE */
        le32(v3 + 20, 200000);
        tap_is_int(pod_idunshift_xattr(&M, "security.capability", v3, 24, &out, &n), 1,
                   "v3 capability of the pod's root shifted");
        tap_ok(out && n == 20 && rd32(out) == 0x02000001 && rd32((unsigned char *)out + 4) == 0x400,
               "  written as v2, flags and sets kept");
        free(out);
        out = NULL;
        le32(v3 + 20, 201000);
        tap_is_int(pod_idunshift_xattr(&M, "security.capability", v3, 24, &out, &n), 1,
                   "v3 capability of pod user 1000");
        tap_ok(out && n == 24 && rd32((unsigned char *)out + 20) == 1000, "  root ID 1000");
        free(out);
        out = NULL;
        le32(v3 + 20, 0);
        tap_is_int(pod_idunshift_xattr(&M, "security.capability", v3, 24, &out, &n), -ERANGE,
                   "v3 capability of host root refused");
        le32(v2, 0x02000000);
        tap_is_int(pod_idunshift_xattr(&M, "security.capability", v2, 20, &out, &n), -ERANGE,
                   "v2 capability (host root's) refused");
        tap_is_int(pod_idunshift_xattr(&M, "security.capability", v3, 23, &out, &n), -EBADMSG,
                   "short v3 capability refused");
        tap_is_int(pod_idunshift_xattr(&M, "user.x", "abc", 3, &out, &n), 0,
                   "other xattrs untouched");
        tap_ok(out == NULL, "  no copy");
}

static void test_acl(void) {
        unsigned char acl[4 + 4 * 8] = {};
        _cleanup_free_ void *out = NULL;
        size_t n = 0;

        le32(acl, 2);
        /* USER_OBJ, USER 201000, GROUP 200050, OTHER */
        acl[4] = 0x01;
        le32(acl + 8, 0xffffffff);
        acl[12] = 0x02;
        le32(acl + 16, 201000);
        acl[20] = 0x08;
        le32(acl + 24, 200050);
        acl[28] = 0x20;
        le32(acl + 32, 0xffffffff);
        tap_is_int(pod_idunshift_xattr(&M, "system.posix_acl_access", acl, sizeof(acl), &out, &n),
                   1, "ACL shifted");
        tap_ok(out && n == sizeof(acl) && rd32((unsigned char *)out + 16) == 1000 &&
                       rd32((unsigned char *)out + 24) == 50 &&
                       rd32((unsigned char *)out + 8) == 0xffffffff,
               "  named entries shifted, others kept");
        free(out);
        out = NULL;
        le32(acl + 16, 5);
        tap_is_int(pod_idunshift_xattr(&M, "system.posix_acl_default", acl, sizeof(acl), &out, &n),
                   -ERANGE, "ACL naming a host user refused");
        tap_is_int(pod_idunshift_xattr(&M, "system.posix_acl_access", acl, 7, &out, &n), -EBADMSG,
                   "malformed ACL refused");
}

/* The other way (store-shift.h): N -> BASE+N, v1/v2 capabilities become v3 with root ID BASE,
 * and a shift followed by an unshift is the identity. */
static void test_shift(void) {
        unsigned char v2[20] = {}, v3[24] = {}, v1[12] = {}, acl[4 + 2 * 8] = {};
        _cleanup_free_ void *out = NULL, *back = NULL;
        size_t n = 0, nb = 0;
        uint32_t id = 0;

        tap_ok(pod_idshift_id(&M, 0, &id) == 0 && id == 200000, "shift: 0 -> BASE");
        tap_ok(pod_idshift_id(&M, 65535, &id) == 0 && id == 265535, "shift: COUNT-1 -> last ID");
        tap_is_int(pod_idshift_id(&M, 65536, &id), -ERANGE, "shift: COUNT refused");
        le32(v2, 0x02000001);
        le32(v2 + 4, 0x400);
        tap_is_int(pod_idshift_xattr(&M, "security.capability", v2, 20, &out, &n), 1,
                   "shift: v2 capability");
        tap_ok(out && n == 24 && rd32(out) == 0x03000001 &&
                       rd32((unsigned char *)out + 4) == 0x400 &&
                       rd32((unsigned char *)out + 20) == 200000,
               "  becomes v3, root ID BASE, flags and sets kept");
        tap_is_int(pod_idunshift_xattr(&M, "security.capability", out, n, &back, &nb), 1,
                   "  and unshifts");
        tap_ok(back && nb == 20 && memcmp(back, v2, 20) == 0, "  back to the same v2 bytes");
        free(out);
        out = NULL;
        le32(v1, 0x01000000);
        le32(v1 + 4, 0x1);
        tap_is_int(pod_idshift_xattr(&M, "security.capability", v1, 12, &out, &n), 1,
                   "shift: v1 capability");
        tap_ok(out && n == 24 && rd32(out) == 0x03000000 && rd32((unsigned char *)out + 4) == 1 &&
                       rd32((unsigned char *)out + 12) == 0 &&
                       rd32((unsigned char *)out + 20) == 200000,
               "  becomes v3 with upper sets 0");
        free(out);
        out = NULL;
        le32(v3, 0x03000000);
        le32(v3 + 20, 1000);
        tap_is_int(pod_idshift_xattr(&M, "security.capability", v3, 24, &out, &n), 1,
                   "shift: v3 capability of user 1000");
        tap_ok(out && rd32((unsigned char *)out + 20) == 201000, "  root ID BASE+1000");
        free(out);
        out = NULL;
        le32(v3 + 20, 70000);
        tap_is_int(pod_idshift_xattr(&M, "security.capability", v3, 24, &out, &n), -ERANGE,
                   "shift: v3 root ID beyond COUNT refused");
        tap_is_int(pod_idshift_xattr(&M, "security.capability", v2, 19, &out, &n), -EBADMSG,
                   "shift: short v2 refused");
        le32(acl, 2);
        acl[4] = 0x02;
        le32(acl + 8, 1000);
        acl[12] = 0x08;
        le32(acl + 16, 50);
        tap_is_int(pod_idshift_xattr(&M, "system.posix_acl_access", acl, sizeof(acl), &out, &n), 1,
                   "shift: ACL");
        tap_ok(out && rd32((unsigned char *)out + 8) == 201000 &&
                       rd32((unsigned char *)out + 16) == 200050,
               "  named user and group shifted");
        le32(acl + 16, 65536);
        free(out);
        out = NULL;
        tap_is_int(pod_idshift_xattr(&M, "system.posix_acl_default", acl, sizeof(acl), &out, &n),
                   -ERANGE, "shift: ACL naming an ID beyond COUNT refused");
}

static char top[] = "/tmp/test-idunshift.XXXXXX";

static char *p(const char *rel) {
        static char b[4][512];
        static int i;

        i = (i + 1) % 4;
        (void)snprintf(b[i], sizeof(b[i]), "%s/%s", top, rel);
        return b[i];
}

/* uid:gid of an archive entry, or -1. */
static long long owner_in(const char *aci, const char *name, long long *ret_gid) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        long long uid = -1;

        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_filename(a, aci, 16384) != ARCHIVE_OK) {
                archive_read_free(a);
                return -1;
        }
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                const char *pn = archive_entry_pathname(e);
                size_t l = strlen(name);

                /* directories are stored as "NAME/" */
                if (strneq(pn, name, l) && (pn[l] == 0 || streq(pn + l, "/"))) {
                        uid = archive_entry_uid(e);
                        *ret_gid = archive_entry_gid(e);
                        break;
                }
        }
        archive_read_free(a);
        return uid;
}

/* The revision word of rootfs/NAME's security.capability in the archive, 0 when none. */
static uint32_t cap_in(const char *aci, const char *name) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        uint32_t magic = 0;

        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_filename(a, aci, 16384) != ARCHIVE_OK) {
                archive_read_free(a);
                return 0;
        }
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                const char *xn;
                const void *xv;
                size_t xl;

                if (!streq(archive_entry_pathname(e), name))
                        continue;
                archive_entry_xattr_reset(e);
                while (archive_entry_xattr_next(e, &xn, &xv, &xl) == ARCHIVE_OK)
                        if (streq(xn, "security.capability") && xl >= 4)
                                magic = rd32(xv) & 0xFF000000u;
                break;
        }
        archive_read_free(a);
        return magic;
}

static void test_build(void) {
        static const char manifest[] =
                "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/"
                "shifted\"}";
        struct pod_aci_build_options o = { .unshift = &M };
        struct pod_error e = {};
        long long gid = -1;

        if (geteuid() != 0) {
                tap_ok(true, "# SKIP build checks need root (chown)");
                return;
        }
        (void)mkdir(p("img"), 0755);
        (void)mkdir(p("img/rootfs"), 0755);
        (void)write_file_atomic_at(AT_FDCWD, p("img/manifest"), manifest, strlen(manifest), 0644);
        (void)write_file_atomic_at(AT_FDCWD, p("img/rootfs/f"), "x", 1, 0644);
        (void)mkdir(p("img/rootfs/d"), 0755);
        (void)symlinkat("f", AT_FDCWD, p("img/rootfs/l"));
        tap_ok(chown(p("img/rootfs"), 200000, 200000) == 0 &&
                       chown(p("img/rootfs/f"), 201000, 201001) == 0 &&
                       chown(p("img/rootfs/d"), 200000, 200033) == 0 &&
                       lchown(p("img/rootfs/l"), 200005, 200006) == 0,
               "tree owned by IDs of the range");
        tap_is_int(pod_aci_build(p("img"), p("a.aci"), &o, NULL, &e), 0, "build with unshift");
        tap_ok(owner_in(p("a.aci"), "rootfs/f", &gid) == 1000 && gid == 1001,
               "file owner shifted back");
        tap_ok(owner_in(p("a.aci"), "rootfs/d", &gid) == 0 && gid == 33, "dir owner shifted back");
        tap_ok(owner_in(p("a.aci"), "rootfs/l", &gid) == 5 && gid == 6,
               "symlink owner shifted back");
        tap_ok(owner_in(p("a.aci"), "rootfs", &gid) == 0 && gid == 0, "root dir: 0:0");

        tap_ok(lchown(p("img/rootfs/d"), 0, 200000) == 0, "a directory owned by host root");
        e = (struct pod_error){};
        tap_is_int(pod_aci_build(p("img"), p("b.aci"), &o, NULL, &e), -ERANGE,
                   "host root's file refused");
        tap_ok(strstr(e.msg, "rootfs/d") != NULL, "  naming it (%s)", e.msg);
        tap_ok(faccessat(AT_FDCWD, p("b.aci"), F_OK, 0) < 0, "  nothing written");
        (void)lchown(p("img/rootfs/d"), 200000, 200000);

        /* The writer without unshift keeps host IDs (what pod export did before). */
        o.unshift = NULL;
        tap_is_int(pod_aci_build(p("img"), p("c.aci"), &o, NULL, &e), 0, "build without unshift");
        tap_ok(owner_in(p("c.aci"), "rootfs/f", &gid) == 201000, "  host IDs kept");

        /* A v3 capability set by the pod's root becomes a v2 one. */
        {
                unsigned char v3[24] = {};

                le32(v3, 0x03000000);
                le32(v3 + 4, 0x400);
                le32(v3 + 20, 200000);
                if (setxattr(p("img/rootfs/f"), "security.capability", v3, sizeof(v3), 0) < 0) {
                        tap_ok(true, "# SKIP cannot set security.capability here");
                        return;
                }
        }
        o.unshift = &M;
        tap_is_int(pod_aci_build(p("img"), p("d.aci"), &o, NULL, &e), 0, "build with a capability");
        tap_ok(cap_in(p("d.aci"), "rootfs/f") == 0x02000000,
               "  the pod root's v3 capability is written as v2");
}

int main(void) {
        test_ids();
        test_caps();
        test_acl();
        test_shift();
        if (!mkdtemp(top))
                return tap_skip_all("no temp dir");
        test_build();
        (void)rm_rf_at(AT_FDCWD, top);
        return tap_done();
}
