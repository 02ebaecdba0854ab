/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hole finder of the unpacker: runs of data between all-zero 4 KiB blocks of the file,
 * at any buffer offset and length; no data byte is ever left out of a run. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "zero-runs.h"

#define B POD_ZERO_BLOCK

/* Every non-zero byte lies in a returned run, runs are in order, do not overlap, and end or
 * start at block boundaries of the file or at the buffer's ends. */
static bool covers(const char *buf, size_t size, int64_t off, size_t *ret_runs) {
        size_t pos = 0, start, len, end = 0, runs = 0;
        char *seen = calloc(1, size ? size : 1);

        if (!seen)
                return false;
        while (pod_zero_runs_next(buf, size, off, &pos, &start, &len)) {
                if (start < end || len == 0 || start + len > size || pos != start + len)
                        return free(seen), false;
                if ((start != 0 && (uint64_t)(off + (int64_t)start) % B != 0) ||
                    (start + len != size && (uint64_t)(off + (int64_t)(start + len)) % B != 0))
                        return free(seen), false;
                memset(seen + start, 1, len);
                end = start + len;
                runs++;
        }
        for (size_t i = 0; i < size; i++)
                if (buf[i] != 0 && !seen[i])
                        return free(seen), false;
        free(seen);
        *ret_runs = runs;
        return pos == size;
}

int main(void) {
        size_t size = 64 * B, runs = 0;
        char *buf = calloc(1, size);

        if (!buf)
                return tap_skip_all("out of memory");

        tap_ok(covers(buf, size, 0, &runs) && runs == 0, "all zero: no run");
        tap_ok(covers(buf, 0, 0, &runs) && runs == 0, "empty buffer: no run");

        memset(buf, 'x', size);
        tap_ok(covers(buf, size, 0, &runs) && runs == 1, "all data: one run (%zu)", runs);
        tap_ok(covers(buf, size, 100, &runs) && runs == 1, "unaligned offset: one run");

        memset(buf + 2 * B, 0, 3 * B); /* a 3-block hole */
        tap_ok(covers(buf, size, 0, &runs) && runs == 2, "one hole: two runs (%zu)", runs);
        /* Shifted by 1 byte the hole is only 2 whole blocks of the file, still a hole. */
        tap_ok(covers(buf, size, 1, &runs) && runs == 2, "shifted: two runs (%zu)", runs);

        memset(buf, 'x', size);
        buf[B + 7] = 0; /* a single zero byte is not a hole */
        memset(buf + 10 * B, 0, B - 1);
        tap_ok(covers(buf, size, 0, &runs) && runs == 1, "partial zero blocks: one run (%zu)",
               runs);

        memset(buf, 0, size); /* data in the last byte only */
        buf[size - 1] = 1;
        tap_ok(covers(buf, size, 0, &runs) && runs == 1, "last byte: one run");
        buf[size - 1] = 0;
        buf[0] = 1;
        tap_ok(covers(buf, size, 12345, &runs) && runs == 1, "first byte: one run");

        /* Pseudo-random pattern of data and zero blocks at many offsets. */
        srand(1);
        for (int k = 0; k < 200; k++) {
                int64_t off = rand() % (3 * B);
                size_t n = (size_t)(rand() % (int)size);

                memset(buf, 0, size);
                for (size_t i = 0; i < n; i += 512)
                        if (rand() % 3 == 0)
                                buf[i + (size_t)(rand() % 512) % (n - i)] = 'd';
                if (!covers(buf, n, off, &runs)) {
                        tap_ok(false, "random %d: every data byte in a run (off %lld, %zu bytes)",
                               k, (long long)off, n);
                        break;
                }
                if (k == 199)
                        tap_ok(true, "200 random buffers: every data byte in a run");
        }
        free(buf);
        return tap_done();
}
