/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unpacker against real archives: every compression gives the tar's SHA-512 as ID, modes,
 * links and times survive, and a corpus of hostile archives is refused with a message naming
 * the entry while nothing appears outside the target directory. */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "aci-gen.h"
#include "fd-util.h"
#include "macro.h"
#include "sha512.h"
#include "tap.h"
#include "unpack.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

static char base[] = "/tmp/test-unpack.XXXXXX";
static int n_targets;
static struct stat passwd_before;

static int count_entries(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

/* Nothing may appear anywhere but in the targets: base holds arch/, outside/ (with only the
 * untouched victim file) and t0..tN; /etc/passwd keeps its link count. */
static bool nothing_outside(void) {
        char p[512];
        _cleanup_free_ char *victim = NULL;
        struct stat st;

        (void)snprintf(p, sizeof(p), "%s/outside", base);
        if (count_entries(base) != 2 + n_targets || count_entries(p) != 1)
                return false;
        (void)snprintf(p, sizeof(p), "%s/outside/victim", base);
        if (read_full_file_at(AT_FDCWD, p, 100, &victim, NULL) < 0 || !streq(victim, "safe"))
                return false;
        if (stat("/etc/passwd", &st) < 0 || st.st_nlink != passwd_before.st_nlink)
                return false;
        return access("/tmp/pod-unpack-escape", F_OK) < 0;
}

/* Unpacks archive into a fresh target t<N>; returns the result, message in e. */
static int unpack_file(const char *archive, unsigned flags, struct pod_unpack_result *res,
                       struct pod_error *e, int *ret_target_fd) {
        struct pod_unpack_options o = POD_UNPACK_OPTIONS_INIT;
        _cleanup_close_ int fd = -EBADF, t = -EBADF;
        char p[512];
        int r;

        (void)snprintf(p, sizeof(p), "%s/t%d", base, n_targets++);
        if (mkdir(p, 0755) < 0)
                return -errno;
        t = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        fd = open(archive, O_RDONLY | O_CLOEXEC);
        if (t < 0 || fd < 0)
                return -errno;
        o.flags = flags;
        pod_error_clear(e);
        r = pod_unpack(fd, t, &o, res, e);
        if (ret_target_fd)
                *ret_target_fd = TAKE_FD(t);
        return r;
}

static void hostile(const char *name, const struct gen_entry *entries, size_t n,
                    enum pod_compression c, int expect_r, const char *expect_msg) {
        struct pod_unpack_result res = {};
        struct pod_error e = {};
        char archive[512];
        int r;

        (void)snprintf(archive, sizeof(archive), "%s/arch/%s.aci", base, name);
        r = gen_aci(archive, c, entries, n);
        tap_ok(r == 0, "%s: generated", name);
        r = unpack_file(archive, 0, &res, &e, NULL);
        tap_ok(r == expect_r && strstr(e.msg, expect_msg), "%s: refused (%d: %s)", name, r, e.msg);
        tap_ok(nothing_outside(), "%s: nothing outside the target", name);
        pod_unpack_result_done(&res);
}

#define M \
        { "manifest", AE_IFREG, 0644, GEN_MANIFEST, 0, NULL }
#define R \
        { "rootfs", AE_IFDIR, 0755, NULL, 0, NULL }
#define HOSTILE(name, c, r, msg, ...)                           \
        do {                                                    \
                const struct gen_entry _e_[] = { __VA_ARGS__ }; \
                hostile(name, _e_, ELEMENTSOF(_e_), c, r, msg); \
        } while (0)

static void test_hostile(void) {
        char abs_victim[512], abs_outside[512];

        (void)snprintf(abs_victim, sizeof(abs_victim), "%s/outside/pwned", base);
        (void)snprintf(abs_outside, sizeof(abs_outside), "%s/outside", base);

        HOSTILE("dotdot", POD_COMPRESSION_NONE, -EPERM,
                "'rootfs/../../outside/pwned': path contains '..'", M, R,
                { "rootfs/../../outside/pwned", AE_IFREG, 0644, "x", 0, NULL });
        HOSTILE("dotdot-top", POD_COMPRESSION_GZIP, -EPERM, "path contains '..'", M,
                { "../outside/pwned", AE_IFREG, 0644, "x", 0, NULL });
        HOSTILE("absolute", POD_COMPRESSION_NONE, -EPERM, "absolute path", M, R,
                { abs_victim, AE_IFREG, 0644, "x", 0, NULL });
        HOSTILE("absolute-tmp", POD_COMPRESSION_NONE, -EPERM, "absolute path", M, R,
                { "/tmp/pod-unpack-escape", AE_IFREG, 0644, "x", 0, NULL });
        HOSTILE("symlink-then-file", POD_COMPRESSION_NONE, -EPERM,
                "'rootfs/x/pwned': it lies below the symlink 'rootfs/x'", M, R,
                { "rootfs/x", AE_IFLNK, 0777, NULL, 0, abs_outside },
                { "rootfs/x/pwned", AE_IFREG, 0644, "x", 0, NULL });
        HOSTILE("symlink-relative-escape", POD_COMPRESSION_NONE, -EPERM,
                "symlink target '../../outside' climbs out of rootfs/", M, R,
                { "rootfs/y", AE_IFLNK, 0777, NULL, 0, "../../outside" },
                { "rootfs/y/pwned", AE_IFREG, 0644, "x", 0, NULL });
        HOSTILE("symlink-deep-escape", POD_COMPRESSION_NONE, -EPERM, "climbs out of rootfs/", M, R,
                { "rootfs/a/b/c", AE_IFLNK, 0777, NULL, 0, "../x/../../../etc" });
        HOSTILE("hardlink-passwd", POD_COMPRESSION_NONE, -EPERM, "absolute path", M, R,
                { "rootfs/passwd", 0, 0, NULL, 0, "/etc/passwd" });
        HOSTILE("hardlink-dotdot", POD_COMPRESSION_NONE, -EPERM, "path contains '..'", M, R,
                { "rootfs/passwd", 0, 0, NULL, 0, "rootfs/../../../../../etc/passwd" });
        HOSTILE("hardlink-through-symlink", POD_COMPRESSION_NONE, -EPERM,
                "which is not an earlier regular file", M, R,
                { "rootfs/root", AE_IFLNK, 0777, NULL, 0, "/" },
                { "rootfs/passwd", 0, 0, NULL, 0, "rootfs/root/etc/passwd" });
        HOSTILE("hardlink-to-symlink", POD_COMPRESSION_NONE, -EPERM,
                "which is not an earlier regular file", M, R,
                { "rootfs/l", AE_IFLNK, 0777, NULL, 0, "/etc/passwd" },
                { "rootfs/h", 0, 0, NULL, 0, "rootfs/l" });
        HOSTILE("hardlink-manifest", POD_COMPRESSION_NONE, -EPERM, "hard link outside rootfs/", M,
                R, { "rootfs/m", 0, 0, NULL, 0, "manifest" });
        HOSTILE("device-node", POD_COMPRESSION_NONE, -EPERM,
                "'rootfs/dev/null': device node (not allowed)", M, R,
                { "rootfs/dev/null", AE_IFCHR, 0666, NULL, 0, NULL });
        HOSTILE("block-device", POD_COMPRESSION_NONE, -EPERM, "device node", M, R,
                { "rootfs/sda", AE_IFBLK, 0660, NULL, 0, NULL });
        HOSTILE("duplicate", POD_COMPRESSION_NONE, -EPERM, "'rootfs/a': duplicate entry", M, R,
                { "rootfs/a", AE_IFREG, 0644, "first", 0, NULL },
                { "rootfs/a", AE_IFREG, 0644, "second", 0, NULL });
        HOSTILE("duplicate-manifest", POD_COMPRESSION_NONE, -EPERM, "'manifest': duplicate entry",
                M, R, M);
        HOSTILE("dir-then-file", POD_COMPRESSION_NONE, -EPERM, "a non-directory where", M, R,
                { "rootfs/d/f", AE_IFREG, 0644, "x", 0, NULL },
                { "rootfs/d", AE_IFREG, 0644, "x", 0, NULL });
        HOSTILE("outside-rootfs", POD_COMPRESSION_NONE, -EPERM,
                "'etc/passwd': outside 'manifest' and 'rootfs/'", M, R,
                { "etc/passwd", AE_IFREG, 0644, "root::0:0::/:/bin/sh", 0, NULL });
        HOSTILE("rootfs-symlink", POD_COMPRESSION_NONE, -EPERM, "'rootfs' is not a directory", M,
                { "rootfs", AE_IFLNK, 0777, NULL, 0, "/" });
        HOSTILE("manifest-dir", POD_COMPRESSION_NONE, -EPERM, "'manifest' is not a regular file",
                { "manifest", AE_IFDIR, 0755, NULL, 0, NULL }, R);
        HOSTILE("dot-component", POD_COMPRESSION_NONE, -EPERM, "path contains '.'", M, R,
                { "rootfs/./a", AE_IFREG, 0644, "x", 0, NULL });
        HOSTILE("empty-component", POD_COMPRESSION_NONE, -EPERM, "empty path component", M, R,
                { "rootfs//a", AE_IFREG, 0644, "x", 0, NULL });
        HOSTILE("huge-manifest", POD_COMPRESSION_GZIP, -EFBIG, "manifest is 2097152 bytes", R,
                { "manifest", AE_IFREG, 0644, NULL, 2u << 20, NULL });
        HOSTILE("no-manifest", POD_COMPRESSION_NONE, -ENOENT, "no 'manifest' entry", R,
                { "rootfs/a", AE_IFREG, 0644, "x", 0, NULL });
}

/* Damaged compressed data: truncated and bit-flipped. */
static void test_corrupt(void) {
        static const enum pod_compression cs[] = { POD_COMPRESSION_GZIP, POD_COMPRESSION_ZSTD,
                                                   POD_COMPRESSION_XZ, POD_COMPRESSION_BZIP2 };
        const struct gen_entry e[] = { M, R, { "rootfs/big", AE_IFREG, 0644, NULL, 300000, NULL } };

        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                const char *cn = pod_compression_to_string(cs[i]);
                struct pod_unpack_result res = {};
                struct pod_error err = {};
                char archive[512];
                struct stat st;
                int r;

                (void)snprintf(archive, sizeof(archive), "%s/arch/trunc-%s.aci", base, cn);
                r = gen_aci(archive, cs[i], e, ELEMENTSOF(e));
                tap_ok(r == 0 && stat(archive, &st) == 0, "%s: generated", archive);
                tap_ok(truncate(archive, st.st_size / 2) == 0, "truncated %s", cn);
                r = unpack_file(archive, 0, &res, &err, NULL);
                tap_ok(r < 0 && (strstr(err.msg, "Corrupt") || strstr(err.msg, "truncated")),
                       "truncated %s refused (%d: %s)", cn, r, err.msg);
                tap_ok(nothing_outside(), "truncated %s: nothing outside", cn);

                (void)snprintf(archive, sizeof(archive), "%s/arch/flip-%s.aci", base, cn);
                r = gen_aci(archive, cs[i], e, ELEMENTSOF(e));
                if (r == 0) {
                        _cleanup_close_ int fd = open(archive, O_RDWR | O_CLOEXEC);
                        unsigned char junk[64];

                        memset(junk, 0x5a, sizeof(junk));
                        r = fd >= 0 && stat(archive, &st) == 0 &&
                                            pwrite(fd, junk, sizeof(junk), st.st_size / 2) ==
                                                    (ssize_t)sizeof(junk)
                                    ? 0
                                    : -EIO;
                }
                tap_ok(r == 0, "corrupted %s", cn);
                r = unpack_file(archive, 0, &res, &err, NULL);
                tap_ok(r < 0, "corrupt %s refused (%d: %s)", cn, r, err.msg);
                tap_ok(nothing_outside(), "corrupt %s: nothing outside", cn);
                pod_unpack_result_done(&res);
        }

        /* Not an archive at all: an OpenPGP-encrypted-looking blob. */
        {
                struct pod_unpack_result res = {};
                struct pod_error err = {};
                char archive[512];
                int r;

                (void)snprintf(archive, sizeof(archive), "%s/arch/pgp.aci", base);
                r = write_file_atomic_at(AT_FDCWD, archive,
                                         "\x85\x01\x0c\x03pgp-symmetric-encrypted....", 30, 0644);
                tap_ok(r == 0, "wrote fake encrypted file");
                r = unpack_file(archive, 0, &res, &err, NULL);
                tap_ok(r == -EMEDIUMTYPE && strstr(err.msg, "encrypted or unknown format"),
                       "encrypted/unknown refused (%s)", err.msg);
                (void)snprintf(archive, sizeof(archive), "%s/arch/empty.aci", base);
                r = write_file_atomic_at(AT_FDCWD, archive, "", 0, 0644);
                r = unpack_file(archive, 0, &res, &err, NULL);
                tap_ok(r == -EMEDIUMTYPE && strstr(err.msg, "empty"), "empty refused (%s)",
                       err.msg);
                tap_ok(nothing_outside(), "unknown formats: nothing outside");
        }
}

static void test_good(void) {
        static const enum pod_compression cs[] = { POD_COMPRESSION_NONE, POD_COMPRESSION_GZIP,
                                                   POD_COMPRESSION_BZIP2, POD_COMPRESSION_XZ,
                                                   POD_COMPRESSION_ZSTD };
        const struct gen_entry e[] = {
                { "./manifest", AE_IFREG, 0640, GEN_MANIFEST, 0, NULL },
                { "rootfs/", AE_IFDIR, 0755, NULL, 0, NULL },
                { "rootfs/bin", AE_IFDIR, 0711, NULL, 0, NULL },
                { "rootfs/bin/su", AE_IFREG, 04755, "#!/bin/true\n", 0, NULL },
                { "rootfs/bin/sh", AE_IFLNK, 0777, NULL, 0, "su" },
                { "rootfs/bin/abs", AE_IFLNK, 0777, NULL, 0, "/bin/su" },
                { "rootfs/bin/up", AE_IFLNK, 0777, NULL, 0, "../bin/su" },
                { "rootfs/bin/su2", 0, 0, NULL, 0, "rootfs/bin/su" },
                { "rootfs/fifo", AE_IFIFO, 0600, NULL, 0, NULL },
                { "rootfs/implied/dir/file", AE_IFREG, 0600, NULL, 200000, NULL },
                { "rootfs/implied", AE_IFDIR, 0700, NULL, 0, NULL },
        };
        char plain_hex[POD_SHA512_HEX_SIZE + 1], plain_id[POD_IMAGE_ID_SIZE];
        char archive[512], p[600];

        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                const char *cn = pod_compression_to_string(cs[i]);
                struct pod_unpack_result res = {};
                struct pod_error err = {};
                _cleanup_close_ int t = -EBADF;
                struct stat st, st2;
                char link[64];
                ssize_t k;
                int r;

                (void)snprintf(archive, sizeof(archive), "%s/arch/good.aci.%s", base, cn);
                tap_ok(gen_aci(archive, cs[i], e, ELEMENTSOF(e)) == 0, "good %s: generated", cn);
                if (cs[i] == POD_COMPRESSION_NONE) {
                        _cleanup_close_ int fd = open(archive, O_RDONLY | O_CLOEXEC);

                        tap_ok(fd >= 0 && pod_sha512_fd(fd, plain_hex) == 0, "hashed plain tar");
                        (void)snprintf(plain_id, sizeof(plain_id), "sha512-%s", plain_hex);
                }
                r = unpack_file(archive, POD_UNPACK_HASH_INPUT, &res, &err, &t);
                tap_ok(r == 0, "good %s: unpacked (%s)", cn, err.msg);
                if (r < 0)
                        continue;
                tap_is_str(res.id, plain_id, "ID is the SHA-512 of the uncompressed tar");
                {
                        _cleanup_close_ int fd = open(archive, O_RDONLY | O_CLOEXEC);
                        char hex[POD_SHA512_HEX_SIZE + 1] = "";

                        (void)pod_sha512_fd(fd, hex);
                        tap_ok(streq(res.input_sha512, hex),
                               "POD_UNPACK_HASH_INPUT: the SHA-512 of the %s file", cn);
                }
                tap_is_int(res.compression, cs[i], "compression detected by content");
                tap_ok(res.manifest && streq(res.manifest, GEN_MANIFEST), "manifest returned");
                tap_ok(fstatat(t, "manifest", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               (st.st_mode & 07777) == 0640 && st.st_mtime == 1000000000,
                       "manifest mode and mtime");
                /* Set-id bits need the tar's owner restored (root); otherwise they go. */
                tap_ok(fstatat(t, "rootfs/bin/su", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               (st.st_mode & 07777) == (geteuid() == 0 ? 04755 : 0755) &&
                               st.st_mtime == 1000000003,
                       "setuid bit (as root) and mtime kept as in the tar");
                tap_ok(fstatat(t, "rootfs/bin", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               (st.st_mode & 07777) == 0711,
                       "directory mode");
                tap_ok(fstatat(t, "rootfs/bin/su2", &st2, AT_SYMLINK_NOFOLLOW) == 0 &&
                               fstatat(t, "rootfs/bin/su", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               st.st_ino == st2.st_ino,
                       "hard link");
                k = readlinkat(t, "rootfs/bin/abs", link, sizeof(link) - 1);
                tap_ok(k > 0 && (link[k] = 0, streq(link, "/bin/su")), "absolute symlink kept");
                tap_ok(fstatat(t, "rootfs/fifo", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               S_ISFIFO(st.st_mode),
                       "fifo");
                tap_ok(fstatat(t, "rootfs/implied/dir/file", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               st.st_size == 200000,
                       "file below implied directories");
                tap_ok(fstatat(t, "rootfs/implied", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               (st.st_mode & 0777) == 0700,
                       "later entry of an implied directory applies its mode");
                tap_ok(nothing_outside(), "good %s: nothing outside", cn);
                pod_unpack_result_done(&res);
        }

        /* rootfs-only, and a check-only pass with the entry callback and copy fd. */
        {
                struct pod_unpack_options o = POD_UNPACK_OPTIONS_INIT;
                struct pod_unpack_result res = {};
                struct pod_error err = {};
                _cleanup_close_ int t = -EBADF, fd = -EBADF, copy = -EBADF;
                char hex[POD_SHA512_HEX_SIZE + 1], hex2[POD_SHA512_HEX_SIZE + 1];
                int r, n = 0;

                (void)snprintf(archive, sizeof(archive), "%s/arch/good.aci.zstd", base);
                r = unpack_file(archive, POD_UNPACK_ROOTFS_ONLY, &res, &err, &t);
                tap_ok(r == 0 && faccessat(t, "bin/su", F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
                               faccessat(t, "manifest", F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
                               faccessat(t, "rootfs", F_OK, AT_SYMLINK_NOFOLLOW) < 0,
                       "rootfs-only puts the rootfs contents at the target (%s)", err.msg);
                pod_unpack_result_done(&res);

                (void)snprintf(p, sizeof(p), "%s/copy", base);
                copy = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                (void)unlink(p);
                fd = open(archive, O_RDONLY | O_CLOEXEC);
                o.copy_fd = copy;
                o.entry_cb = NULL;
                r = pod_unpack(fd, -EBADF, &o, &res, &err);
                tap_ok(r == 0 && streq(res.id, plain_id), "check-only pass gives the same ID");
                tap_ok(lseek(copy, 0, SEEK_SET) == 0 && pod_sha512_fd(copy, hex) == 0 &&
                               lseek(fd, 0, SEEK_SET) == 0 && pod_sha512_fd(fd, hex2) == 0 &&
                               streq(hex, hex2),
                       "copy fd received the input bytes unchanged");
                pod_unpack_result_done(&res);
                (void)n;

                /* Bytes after the compressed stream still reach the copy: the stored blob is
                 * the file as published. */
                {
                        _cleanup_free_ char *gz = NULL;
                        _cleanup_close_ int in = -EBADF, out = -EBADF;
                        size_t gzn = 0;

                        (void)snprintf(archive, sizeof(archive), "%s/arch/good.aci.gzip", base);
                        tap_ok(read_full_file_at(AT_FDCWD, archive, 1 << 24, &gz, &gzn) == 0,
                               "read gzip ACI");
                        (void)snprintf(p, sizeof(p), "%s/arch/trailing.aci", base);
                        in = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                        tap_ok(in >= 0 && loop_write(in, gz, gzn) == 0 &&
                                       loop_write(in, "TRAILING", 8) == 0 &&
                                       lseek(in, 0, SEEK_SET) == 0,
                               "gzip ACI with trailing bytes");
                        (void)snprintf(p, sizeof(p), "%s/copy2", base);
                        out = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                        (void)unlink(p);
                        o.copy_fd = out;
                        o.flags |= POD_UNPACK_HASH_INPUT;
                        r = pod_unpack(in, -EBADF, &o, &res, &err);
                        tap_ok(r == 0 && streq(res.id, plain_id) && res.input_size == gzn + 8,
                               "trailing bytes: same ID, all input read (%s)", err.msg);
                        tap_ok(lseek(out, 0, SEEK_SET) == 0 && pod_sha512_fd(out, hex) == 0 &&
                                       lseek(in, 0, SEEK_SET) == 0 &&
                                       pod_sha512_fd(in, hex2) == 0 && streq(hex, hex2),
                               "trailing bytes: the copy is the whole file");
                        tap_is_str(res.input_sha512, hex2,
                                   "trailing bytes: the input's SHA-512 covers them");
                        pod_unpack_result_done(&res);
                }
        }

        /* Devices are fine when allowed (and we can create them). */
        if (geteuid() == 0) {
                const struct gen_entry d[] = { M,
                                               R,
                                               { "rootfs/null", AE_IFCHR, 0666, NULL, 0, NULL } };
                struct pod_unpack_result res = {};
                struct pod_error err = {};
                _cleanup_close_ int t = -EBADF;
                struct stat st;
                int r;

                (void)snprintf(archive, sizeof(archive), "%s/arch/device.aci", base);
                tap_ok(gen_aci(archive, POD_COMPRESSION_NONE, d, ELEMENTSOF(d)) == 0,
                       "device archive");
                r = unpack_file(archive, POD_UNPACK_ALLOW_DEVICES, &res, &err, &t);
                tap_ok(r == 0 && fstatat(t, "rootfs/null", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
                       "device node created with POD_UNPACK_ALLOW_DEVICES (%s)", err.msg);
                pod_unpack_result_done(&res);
        }
}

/* Zero blocks of plain (non-sparse) entries become holes, at any offset and at the end of a
 * file, and the bytes read back are exactly the tar's: the unpacker finds the zero blocks
 * itself and hands the rest to the disk writer in large writes. */
static void test_holes(void) {
        static const struct {
                const char *path;
                size_t size;
                size_t data_at[3]; /* 4 KiB of 'd' at these offsets (0: none, except first) */
        } files[] = {
                { "rootfs/zeros", 4u << 20, { 0 } },                    /* all zeros */
                { "rootfs/mid", 3u << 20, { 1, (2u << 20) + 100, 0 } }, /* data, hole, data */
                { "rootfs/tail", (1u << 20) + 777, { 1, 0, 0 } },       /* data, then a hole */
                { "rootfs/odd", 10007, { 1, 5000, 0 } },                /* unaligned data */
        };
        char archive[512], p[600];
        struct pod_unpack_result res = {};
        struct pod_error err = {};
        _cleanup_close_ int t = -EBADF;
        struct archive *a = archive_write_new();
        int r = ARCHIVE_OK;

        (void)snprintf(archive, sizeof(archive), "%s/arch/holes.aci", base);
        r = archive_write_set_format_pax_restricted(a);
        if (r == ARCHIVE_OK)
                r = archive_write_add_filter_zstd(a);
        if (r == ARCHIVE_OK)
                r = archive_write_open_filename(a, archive);
        for (size_t i = 0; r == ARCHIVE_OK && i <= ELEMENTSOF(files); i++) {
                struct archive_entry *ae = archive_entry_new();
                bool m = i == ELEMENTSOF(files);
                size_t size = m ? strlen(GEN_MANIFEST) : files[i].size;
                char *buf = calloc(1, size);

                archive_entry_set_pathname(ae, m ? "manifest" : files[i].path);
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_perm(ae, 0644);
                archive_entry_set_size(ae, (la_int64_t)size);
                if (m)
                        memcpy(buf, GEN_MANIFEST, size);
                for (size_t j = 0; !m && j < 3; j++) {
                        size_t at = files[i].data_at[j] == 1 ? 0 : files[i].data_at[j];

                        if (files[i].data_at[j] == 0)
                                continue;
                        memset(buf + at, 'd', MIN(4096, size - at));
                }
                r = archive_write_header(a, ae);
                if (r == ARCHIVE_OK && archive_write_data(a, buf, size) != (la_ssize_t)size)
                        r = ARCHIVE_FATAL;
                archive_entry_free(ae);
                free(buf);
        }
        if (archive_write_close(a) != ARCHIVE_OK)
                r = ARCHIVE_FATAL;
        (void)archive_write_free(a);
        tap_ok(r == ARCHIVE_OK, "holes: generated");

        r = unpack_file(archive, 0, &res, &err, &t);
        tap_ok(r == 0, "holes: unpacked (%s)", err.msg);
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *want = calloc(1, files[i].size), *got = NULL;
                size_t n = 0;
                struct stat st;

                for (size_t j = 0; j < 3; j++) {
                        size_t at = files[i].data_at[j] == 1 ? 0 : files[i].data_at[j];

                        if (files[i].data_at[j] != 0)
                                memset(want + at, 'd', MIN(4096, files[i].size - at));
                }
                (void)snprintf(p, sizeof(p), "%s", files[i].path);
                tap_ok(read_full_file_at(t, p, 16u << 20, &got, &n) >= 0 && n == files[i].size &&
                               memcmp(got, want, n) == 0,
                       "holes: '%s' reads back as in the tar (%zu bytes)", p, n);
                tap_ok(fstatat(t, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               (uint64_t)st.st_size == files[i].size &&
                               (uint64_t)st.st_blocks * 512 <= 3 * 4096 + 65536,
                       "holes: '%s' has its size and its zero blocks are holes (%lld allocated)", p,
                       (long long)st.st_blocks * 512);
        }
        pod_unpack_result_done(&res);
}

static void test_detect(void) {
        enum pod_compression c;
        char tar[512] = {};

        memcpy(tar + 257, "ustar", 5);
        tap_ok(pod_compression_detect("\x1f\x8b\x08", 3, &c) == 0 && c == POD_COMPRESSION_GZIP,
               "detect gzip");
        tap_ok(pod_compression_detect("\x28\xb5\x2f\xfd", 4, &c) == 0 && c == POD_COMPRESSION_ZSTD,
               "detect zstd");
        tap_ok(pod_compression_detect(tar, sizeof(tar), &c) == 0 && c == POD_COMPRESSION_NONE,
               "detect tar");
        tap_ok(pod_compression_detect("\x04\x22\x4d\x18", 4, &c) == -EMEDIUMTYPE, "lz4 refused");
        tap_is_str(pod_compression_to_string(POD_COMPRESSION_XZ), "xz", "name");
        tap_is_int(pod_compression_from_string("zstd"), POD_COMPRESSION_ZSTD, "from name");
        tap_is_int(pod_compression_from_string("lzma"), -EINVAL, "unknown name");
}

int main(void) {
        char p[512];

        if (!mkdtemp(base))
                return tap_skip_all("no temp dir");
        (void)stat("/etc/passwd", &passwd_before);
        (void)snprintf(p, sizeof(p), "%s/arch", base);
        (void)mkdir(p, 0755);
        (void)snprintf(p, sizeof(p), "%s/outside", base);
        (void)mkdir(p, 0755);
        (void)snprintf(p, sizeof(p), "%s/outside/victim", base);
        (void)write_file_atomic_at(AT_FDCWD, p, "safe", 4, 0644);

        test_detect();
        test_good();
        test_hostile();
        test_corrupt();
        test_holes();

        (void)rm_rf_at(AT_FDCWD, base);
        return tap_done();
}
