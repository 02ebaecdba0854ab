/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Opening a path that an image, a manifest or a user gave, inside a directory that stands
 * for "/" (an app's rootfs): symlinks, absolute or relative, and ".." resolve inside it, and
 * no /proc magic link (/proc/PID/root, /proc/PID/cwd, /proc/PID/fd/N, ...) is ever followed.
 * Owns: that one resolution, for stage1 everywhere (mount targets, working directory, exec
 * and event handler paths, user and group paths, the image's /etc/passwd and /etc/group).
 * Does not own: what the caller then does with the fd (fchdir, execveat, mount). */

#include <sys/types.h>

/* Opens path (absolute or relative, both taken from root_fd) with open(2) flags (O_CLOEXEC
 * is always added; O_CREAT is not supported): openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), or where the kernel lacks openat2 (ENOSYS, < 5.6) the walk below.
 * Returns the fd or -errno (-ELOOP for a magic link or too many symlinks). */
int pod_open_in_root(int root_fd, const char *path, int flags);

/* The fallback, exported for its unit test: one component at a time with O_NOFOLLOW,
 * resolving each symlink's text itself (an absolute target restarts at root_fd, ".." never
 * climbs above it), at most 40 symlinks.  A magic link is opened O_PATH|O_NOFOLLOW like any
 * symlink and only its text is used, so it too resolves inside root_fd. */
int pod_open_in_root_walk(int root_fd, const char *path, int flags);
