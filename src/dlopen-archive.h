/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libarchive, loaded when the first image is unpacked or built (dlopen-util.h).  Include
 * this instead of <archive.h> and <archive_entry.h>: the calls below then go through
 * pointers that pod_dlopen_archive() sets.  A module calling a libarchive function missing
 * from this list fails to link `pod` (libarchive is not linked): add the function here. */

#include <archive.h>
#include <archive_entry.h>

#include "dlopen-util.h"

#define POD_ARCHIVE_SYMBOLS(X)                     \
        X(archive_entry_copy_gname)                \
        X(archive_entry_copy_hardlink)             \
        X(archive_entry_copy_pathname)             \
        X(archive_entry_copy_stat)                 \
        X(archive_entry_copy_symlink)              \
        X(archive_entry_copy_uname)                \
        X(archive_entry_filetype)                  \
        X(archive_entry_free)                      \
        X(archive_entry_gid)                       \
        X(archive_entry_hardlink)                  \
        X(archive_entry_linkify)                   \
        X(archive_entry_linkresolver_free)         \
        X(archive_entry_linkresolver_new)          \
        X(archive_entry_linkresolver_set_strategy) \
        X(archive_entry_mode)                      \
        X(archive_entry_rdevmajor)                 \
        X(archive_entry_rdevminor)                 \
        X(archive_entry_mtime)                     \
        X(archive_entry_mtime_nsec)                \
        X(archive_entry_new)                       \
        X(archive_entry_pathname)                  \
        X(archive_entry_perm)                      \
        X(archive_entry_set_mtime)                 \
        X(archive_entry_set_perm)                  \
        X(archive_entry_size)                      \
        X(archive_entry_size_is_set)               \
        X(archive_entry_sparse_add_entry)          \
        X(archive_entry_symlink)                   \
        X(archive_entry_uid)                       \
        X(archive_entry_unset_atime)               \
        X(archive_entry_unset_birthtime)           \
        X(archive_entry_unset_ctime)               \
        X(archive_entry_xattr_add_entry)           \
        X(archive_entry_xattr_clear)               \
        X(archive_entry_xattr_next)                \
        X(archive_entry_xattr_reset)               \
        X(archive_errno)                           \
        X(archive_error_string)                    \
        X(archive_read_append_filter)              \
        X(archive_read_data)                       \
        X(archive_read_data_block)                 \
        X(archive_read_data_skip)                  \
        X(archive_read_free)                       \
        X(archive_read_new)                        \
        X(archive_read_next_header)                \
        X(archive_read_open)                       \
        X(archive_read_support_format_raw)         \
        X(archive_read_support_format_tar)         \
        X(archive_set_error)                       \
        X(archive_version_details)                 \
        X(archive_write_add_filter_bzip2)          \
        X(archive_write_add_filter_gzip)           \
        X(archive_write_add_filter_xz)             \
        X(archive_write_add_filter_zstd)           \
        X(archive_write_close)                     \
        X(archive_write_data)                      \
        X(archive_write_data_block)                \
        X(archive_write_disk_new)                  \
        X(archive_write_disk_set_options)          \
        X(archive_write_finish_entry)              \
        X(archive_write_free)                      \
        X(archive_write_header)                    \
        X(archive_write_new)                       \
        X(archive_write_open_fd)                   \
        X(archive_write_set_filter_option)         \
        X(archive_write_set_format_pax_restricted)

POD_ARCHIVE_SYMBOLS(POD_DLSYM_DECLARE)

/* Loads archive (once); -EOPNOTSUPP with reterr naming the package if it is missing. */
int pod_dlopen_archive(struct pod_error *reterr);

#define archive_entry_copy_gname                sym_archive_entry_copy_gname
#define archive_entry_copy_hardlink             sym_archive_entry_copy_hardlink
#define archive_entry_copy_pathname             sym_archive_entry_copy_pathname
#define archive_entry_copy_stat                 sym_archive_entry_copy_stat
#define archive_entry_copy_symlink              sym_archive_entry_copy_symlink
#define archive_entry_copy_uname                sym_archive_entry_copy_uname
#define archive_entry_filetype                  sym_archive_entry_filetype
#define archive_entry_free                      sym_archive_entry_free
#define archive_entry_gid                       sym_archive_entry_gid
#define archive_entry_hardlink                  sym_archive_entry_hardlink
#define archive_entry_rdevmajor                 sym_archive_entry_rdevmajor
#define archive_entry_rdevminor                 sym_archive_entry_rdevminor
#define archive_entry_linkify                   sym_archive_entry_linkify
#define archive_entry_linkresolver_free         sym_archive_entry_linkresolver_free
#define archive_entry_linkresolver_new          sym_archive_entry_linkresolver_new
#define archive_entry_linkresolver_set_strategy sym_archive_entry_linkresolver_set_strategy
#define archive_entry_mode                      sym_archive_entry_mode
#define archive_entry_mtime                     sym_archive_entry_mtime
#define archive_entry_mtime_nsec                sym_archive_entry_mtime_nsec
#define archive_entry_new                       sym_archive_entry_new
#define archive_entry_pathname                  sym_archive_entry_pathname
#define archive_entry_perm                      sym_archive_entry_perm
#define archive_entry_set_mtime                 sym_archive_entry_set_mtime
#define archive_entry_set_perm                  sym_archive_entry_set_perm
#define archive_entry_size                      sym_archive_entry_size
#define archive_entry_size_is_set               sym_archive_entry_size_is_set
#define archive_entry_sparse_add_entry          sym_archive_entry_sparse_add_entry
#define archive_entry_symlink                   sym_archive_entry_symlink
#define archive_entry_uid                       sym_archive_entry_uid
#define archive_entry_unset_atime               sym_archive_entry_unset_atime
#define archive_entry_unset_birthtime           sym_archive_entry_unset_birthtime
#define archive_entry_unset_ctime               sym_archive_entry_unset_ctime
#define archive_entry_xattr_add_entry           sym_archive_entry_xattr_add_entry
#define archive_entry_xattr_clear               sym_archive_entry_xattr_clear
#define archive_entry_xattr_next                sym_archive_entry_xattr_next
#define archive_entry_xattr_reset               sym_archive_entry_xattr_reset
#define archive_errno                           sym_archive_errno
#define archive_error_string                    sym_archive_error_string
#define archive_read_append_filter              sym_archive_read_append_filter
#define archive_read_data                       sym_archive_read_data
#define archive_read_data_block                 sym_archive_read_data_block
#define archive_read_data_skip                  sym_archive_read_data_skip
#define archive_read_free                       sym_archive_read_free
#define archive_read_new                        sym_archive_read_new
#define archive_read_next_header                sym_archive_read_next_header
#define archive_read_open                       sym_archive_read_open
#define archive_read_support_format_raw         sym_archive_read_support_format_raw
#define archive_read_support_format_tar         sym_archive_read_support_format_tar
#define archive_set_error                       sym_archive_set_error
#define archive_version_details                 sym_archive_version_details
#define archive_write_add_filter_bzip2          sym_archive_write_add_filter_bzip2
#define archive_write_add_filter_gzip           sym_archive_write_add_filter_gzip
#define archive_write_add_filter_xz             sym_archive_write_add_filter_xz
#define archive_write_add_filter_zstd           sym_archive_write_add_filter_zstd
#define archive_write_close                     sym_archive_write_close
#define archive_write_data                      sym_archive_write_data
#define archive_write_data_block                sym_archive_write_data_block
#define archive_write_disk_new                  sym_archive_write_disk_new
#define archive_write_disk_set_options          sym_archive_write_disk_set_options
#define archive_write_finish_entry              sym_archive_write_finish_entry
#define archive_write_free                      sym_archive_write_free
#define archive_write_header                    sym_archive_write_header
#define archive_write_new                       sym_archive_write_new
#define archive_write_open_fd                   sym_archive_write_open_fd
#define archive_write_set_filter_option         sym_archive_write_set_filter_option
#define archive_write_set_format_pax_restricted sym_archive_write_set_format_pax_restricted
