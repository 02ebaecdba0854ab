/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The only home of raw syscalls (STYLE.md section 7): libc-like wrappers returning -1 with
 * errno set, ENOSYS when the headers do not know the number.  Callers own fallbacks. */

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int sys_pivot_root(const char *new_root, const char *put_old) {
#if HAVE_DECL___NR_PIVOT_ROOT
        return (int)syscall(__NR_pivot_root, new_root, put_old);
#else
        errno = ENOSYS;
        return -1;
#endif
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static inline int sys_close_range(unsigned first, unsigned last, unsigned flags) {
#if HAVE_DECL___NR_CLOSE_RANGE
        return (int)syscall(__NR_close_range, first, last, flags);
#else
        errno = ENOSYS;
        return -1;
#endif
}
