/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "zero-runs.h"

static bool all_zero(const char *p, size_t n) {
        /* memcmp() against itself shifted by one: vectorised, and data that is not zero stops
         * it at once. */
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Length of the piece at buf[i] (file offset off + i): up to the next block boundary. */
static size_t piece_len(int64_t off, size_t i, size_t size) {
        size_t to_boundary =
                POD_ZERO_BLOCK - (size_t)((uint64_t)(off + (int64_t)i) % POD_ZERO_BLOCK);

        return to_boundary < size - i ? to_boundary : size - i;
}

bool pod_zero_runs_next(const char *buf, size_t size, int64_t off, size_t *pos, size_t *ret_start,
                        size_t *ret_len) {
        size_t i = *pos, start, n;

        for (;;) {
                if (i >= size) {
                        *pos = size;
                        return false;
                }
                n = piece_len(off, i, size);
                if (!all_zero(buf + i, n))
                        break;
                i += n;
        }
        start = i;
        i += n;
        while (i < size) {
                n = piece_len(off, i, size);
                if (all_zero(buf + i, n))
                        break;
                i += n;
        }
        *pos = i;
        *ret_start = start;
        *ret_len = i - start;
        return true;
}
