/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading an ACI's manifest without extracting anything, so that the signature can be
 * checked over the archive bytes (for the name the manifest gives) before a single file is
 * written: rkt's order.  The manifest may be anywhere in the tar (appc's own writer puts it
 * last), so the scan may have to decompress the whole archive; it writes nothing, and the
 * import limits (podlimits.h) bound how much it decompresses.
 * Owns: the scan.  Does not own: the entry checks of an import (unpack.c runs them all
 * again on the verified bytes) or manifest parsing (manifest.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aci.h"
#include "dlopen-archive.h"
#include "macro.h"
#include "podlimits.h"
#include "unpack.h"

#define PEEK_BUF (256u * 1024)

struct peek {
        int fd;
        unsigned char *buf;
        uint64_t read; /* compressed bytes read */
};

static la_ssize_t peek_read(struct archive *a, void *userdata, const void **ret_buf) {
        struct peek *p = userdata;
        ssize_t n;

        do
                n = read(p->fd, p->buf, PEEK_BUF);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                archive_set_error(a, errno, "read failed");
                return -1;
        }
        p->read += (uint64_t)n;
        *ret_buf = p->buf;
        return n;
}

static int add_filter(struct archive *a, enum pod_compression c) {
        switch (c) {
        case POD_COMPRESSION_GZIP:
                return archive_read_append_filter(a, ARCHIVE_FILTER_GZIP);
        case POD_COMPRESSION_BZIP2:
                return archive_read_append_filter(a, ARCHIVE_FILTER_BZIP2);
        case POD_COMPRESSION_XZ:
                return archive_read_append_filter(a, ARCHIVE_FILTER_XZ);
        case POD_COMPRESSION_ZSTD:
                return archive_read_append_filter(a, ARCHIVE_FILTER_ZSTD);
        default:
                return ARCHIVE_OK;
        }
}

/* The same bounds as an import's (unpack.c), counted on the tar's entries. */
static int check_scan(const struct pod_limits *l, uint64_t tar, uint64_t in,
                      struct pod_error *reterr) {
        char a[32];

        if (l->image_max_unpacked > 0 && tar > l->image_max_unpacked)
                return pod_error_set(reterr, -EFBIG,
                                     "The image unpacks to more than %s, the limit "
                                     "image-max-unpacked-size in " POD_LIMITS_FILE
                                     " (raise it there, see pod-config(1))",
                                     pod_limits_format_bytes(l->image_max_unpacked, a));
        if (l->image_max_ratio > 0 && tar > POD_LIMITS_RATIO_FLOOR &&
            tar / (in ? in : 1) >= l->image_max_ratio)
                return pod_error_set(reterr, -EFBIG,
                                     "The image expands more than %" PRIu64
                                     " times: a compression bomb? The limit is "
                                     "image-max-expansion-ratio in " POD_LIMITS_FILE
                                     " (raise it there, see pod-config(1))",
                                     l->image_max_ratio);
        return 0;
}

static int scan(struct archive *a, struct peek *p, const struct pod_limits *l, char **ret,
                size_t *ret_size, struct pod_error *reterr) {
        _cleanup_free_ char *buf = NULL;
        struct archive_entry *e;
        uint64_t tar = 0;
        int r;

        for (;;) {
                const char *name;
                la_int64_t size;

                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        return pod_error_set(reterr, -ENOENT, "Archive has no 'manifest' entry");
                if (r < ARCHIVE_WARN)
                        return pod_error_set(reterr, -EBADMSG, "Corrupt archive: %s",
                                             strna(archive_error_string(a)));
                name = archive_entry_pathname(e);
                size = archive_entry_size(e);
                if (!name || size < 0)
                        return pod_error_set(reterr, -EBADMSG, "Corrupt archive entry");
                if (strncmp(name, "./", 2) == 0)
                        name += 2;
                tar += 512 + (uint64_t)size;
                r = check_scan(l, tar, p->read, reterr);
                if (r < 0)
                        return r;
                if (!streq(name, "manifest")) {
                        if (archive_read_data_skip(a) < ARCHIVE_WARN)
                                return pod_error_set(reterr, -EBADMSG, "Corrupt archive: %s",
                                                     strna(archive_error_string(a)));
                        continue;
                }
                if (archive_entry_filetype(e) != AE_IFREG || !archive_entry_size_is_set(e))
                        return pod_error_set(reterr, -EPERM,
                                             "Refusing archive entry 'manifest': not a regular "
                                             "file with a size");
                if ((uint64_t)size > POD_UNPACK_MANIFEST_MAX)
                        return pod_error_set(reterr, -EFBIG,
                                             "Refusing archive entry 'manifest': %lld bytes, more "
                                             "than %u",
                                             (long long)size, POD_UNPACK_MANIFEST_MAX);
                buf = malloc((size_t)size + 1);
                if (!buf)
                        return -ENOMEM;
                if (archive_read_data(a, buf, (size_t)size) != size)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Failed to read archive entry 'manifest': %s",
                                             strna(archive_error_string(a)));
                buf[size] = 0;
                *ret_size = (size_t)size;
                *ret = TAKE_PTR(buf);
                return 0;
        }
}

int pod_aci_peek_manifest(int fd, const struct pod_limits *limits, char **ret, size_t *ret_size,
                          struct pod_error *reterr) {
        _cleanup_free_ unsigned char *buf = NULL;
        struct peek p = { .fd = fd };
        enum pod_compression c;
        struct archive *a;
        ssize_t k;
        int r;

        r = pod_dlopen_archive(reterr);
        if (r < 0)
                return r;
        buf = malloc(PEEK_BUF);
        if (!buf)
                return -ENOMEM;
        p.buf = buf;
        k = pread(fd, buf, 512, 0);
        if (k < 0)
                return pod_error_set(reterr, -errno, "Failed to read the archive: %m");
        r = pod_compression_detect(buf, (size_t)k, &c);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Not an ACI: neither a tar archive nor gzip, bzip2, xz or "
                                     "zstd compressed");
        if (lseek(fd, 0, SEEK_SET) < 0)
                return pod_error_set(reterr, -errno, "Failed to rewind the archive: %m");

        a = archive_read_new();
        if (!a)
                return -ENOMEM;
        (void)archive_read_support_format_tar(a);
        if (add_filter(a, c) != ARCHIVE_OK)
                r = pod_error_set(reterr, -EOPNOTSUPP, "libarchive cannot decompress %s",
                                  pod_compression_to_string(c));
        else if (archive_read_open(a, &p, NULL, peek_read, NULL) != ARCHIVE_OK)
                r = pod_error_set(reterr, -EBADMSG, "Failed to open the archive: %s",
                                  strna(archive_error_string(a)));
        else
                r = scan(a, &p, limits ?: &pod_limits_default, ret, ret_size, reterr);
        (void)archive_read_free(a);
        if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
                return pod_error_set(reterr, -errno, "Failed to rewind the archive: %m");
        return r;
}
