/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Writes real (possibly hostile) ACI archives for tests with libarchive's writer, which
 * stores names and link targets exactly as given: "..", absolute paths, duplicates, devices. */

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "unpack.h"

struct gen_entry {
        const char *path;
        mode_t type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO; 0 = hard link */
        mode_t perm;
        const char *data; /* regular file contents (NUL-terminated) or NULL */
        size_t size;      /* used when data is NULL: that many 'x' bytes */
        const char *link; /* symlink or hard link target */
};

#define GEN_MANIFEST                                                                     \
        "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/" \
        "test\",\"labels\":[{\"name\":\"os\",\"value\":\"linux\"}]}"

static inline int gen_aci(const char *out, enum pod_compression c, const struct gen_entry *e,
                          size_t n) {
        struct archive *a = archive_write_new();
        int r = ARCHIVE_OK;

        if (!a)
                return -ENOMEM;
        r = archive_write_set_format_pax_restricted(a);
        if (r == ARCHIVE_OK && c == POD_COMPRESSION_GZIP)
                r = archive_write_add_filter_gzip(a);
        if (r == ARCHIVE_OK && c == POD_COMPRESSION_ZSTD)
                r = archive_write_add_filter_zstd(a);
        if (r == ARCHIVE_OK && c == POD_COMPRESSION_XZ)
                r = archive_write_add_filter_xz(a);
        if (r == ARCHIVE_OK && c == POD_COMPRESSION_BZIP2)
                r = archive_write_add_filter_bzip2(a);
        if (r == ARCHIVE_OK)
                r = archive_write_open_filename(a, out);
        for (size_t i = 0; r == ARCHIVE_OK && i < n; i++) {
                struct archive_entry *ae = archive_entry_new();
                size_t size = e[i].data ? strlen(e[i].data) : e[i].size;

                archive_entry_set_pathname(ae, e[i].path);
                archive_entry_set_mtime(ae, 1000000000 + (time_t)i, 0);
                archive_entry_set_uid(ae, 0);
                archive_entry_set_gid(ae, 0);
                if (e[i].type == 0) {
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, 0644);
                        archive_entry_set_hardlink(ae, e[i].link);
                        archive_entry_set_size(ae, 0);
                        size = 0;
                } else {
                        archive_entry_set_filetype(ae, e[i].type);
                        archive_entry_set_perm(ae, e[i].perm ? e[i].perm : 0644);
                        if (e[i].type == AE_IFLNK)
                                archive_entry_set_symlink(ae, e[i].link);
                        if (e[i].type == AE_IFCHR || e[i].type == AE_IFBLK)
                                archive_entry_set_rdev(ae, makedev(1, 3));
                        archive_entry_set_size(ae, e[i].type == AE_IFREG ? (la_int64_t)size : 0);
                        if (e[i].type != AE_IFREG)
                                size = 0;
                }
                r = archive_write_header(a, ae);
                archive_entry_free(ae);
                if (r == ARCHIVE_OK && size > 0) {
                        char *buf = malloc(size);

                        if (!buf)
                                r = ARCHIVE_FATAL;
                        else {
                                if (e[i].data)
                                        memcpy(buf, e[i].data, size);
                                else
                                        memset(buf, 'x', size);
                                if (archive_write_data(a, buf, size) != (la_ssize_t)size)
                                        r = ARCHIVE_FATAL;
                                free(buf);
                        }
                }
        }
        if (archive_write_close(a) != ARCHIVE_OK)
                r = ARCHIVE_FATAL;
        (void)archive_write_free(a);
        return r == ARCHIVE_OK ? 0 : -EIO;
}
