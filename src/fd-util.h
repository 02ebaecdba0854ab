/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* File-descriptor level helpers: reading and atomically writing whole files relative to a
 * directory fd, recursive mkdir/rm that never follow symlinks, fsync of directories.
 * Owns: no policy about what is written where (that is the store's and pod dir's). */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads all of dir_fd/path (AT_FDCWD allowed) into a NUL-terminated buffer.  Fails with
 * -EFBIG beyond max bytes, -ELOOP if the last component is a symlink. */
int read_full_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_size);

/* Writes data to dir_fd/path via a temp file in the same directory, fsync, rename, fsync of
 * the directory: readers see the old or the new content, never a mix, even after a crash. */
int write_file_atomic_at(int dir_fd, const char *path, const void *data, size_t size, mode_t mode);
/* The same; without sync, no fsync at all: still atomic for readers and across a kill, not
 * across a power loss (for files whose directory is itself not committed yet). */
int write_file_at(int dir_fd, const char *path, const void *data, size_t size, mode_t mode,
                  bool sync);

/* Write everything, retrying on EINTR and short writes. */
int loop_write(int fd, const void *buf, size_t n);
/* Read up to n bytes, retrying on EINTR and short reads; returns bytes read. */
ssize_t loop_read(int fd, void *buf, size_t n);

/* mkdir -p relative to dir_fd; refuses to traverse symlinks (-ELOOP). */
int mkdir_p_at(int dir_fd, const char *path, mode_t mode);

/* rm -rf of dir_fd/name, staying on one file system, never following symlinks.
 * A missing name is success. */
int rm_rf_at(int dir_fd, const char *name);

int fsync_directory_of(int dir_fd, const char *path);

/* Clears or sets FD_CLOEXEC. */
int fd_cloexec(int fd, bool cloexec);

/* Copying one file's parts (prepare's --no-overlay trees, the store's layered trees):
 * the extended attributes of from onto to that xattr_name_allowed() lets through
 * (XATTR_KEEP_CAPS for fd_copy_xattrs(); none supported: 0); owner, then mode (chown clears
 * set-id bits), then times from st; all of in's data into the empty out (a reflink where the
 * file system can, else copy_file_range, else read/write), data ranges only: holes
 * (SEEK_HOLE) stay holes and the size is in's. */
struct stat;
int fd_copy_xattrs(int from, int to);
int fd_copy_xattrs_flags(int from, int to, unsigned xattr_flags);
int fd_copy_attrs(int fd, const struct stat *st);
int fd_copy_data(int in, int out);

enum {
        FD_COPY_KEEP_CAPS = 1 << 0,  /* security.capability */
        FD_COPY_KEEP_SETID = 1 << 1, /* S_ISUID and S_ISGID of non-directories */
};
/* Owner, allowed xattrs, mode and times of from (described by st) onto to, in the order that
 * keeps them all: chown first (it clears set-id bits and security.capability), the xattrs while
 * to is still writable (0600/0700 as created), then mode, then times.  Without the FD_COPY_KEEP_*
 * flags, file capabilities and set-id bits are dropped (trees handed to the user). */
int fd_copy_metadata(int from, int to, const struct stat *st, unsigned flags);
/* A symlink (target, owner, times) or a node (device, FIFO, socket: mode, owner) described
 * by st, from from_dir/name to to_dir/name. */
int fd_copy_special_at(int from_dir, int to_dir, const char *name, const struct stat *st);
