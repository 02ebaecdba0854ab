/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Finding the data between the holes of a file being written.  A buffer that lands at a file
 * offset is cut at POD_ZERO_BLOCK boundaries of that offset; pieces that are all zero bytes
 * are holes, and each maximal run of the other pieces is returned in turn, so the writer
 * makes one write per run and seeks over the holes (the unpacker, unpack.c, in place of
 * libarchive's ARCHIVE_EXTRACT_SPARSE, which writes 4 KiB per write(2)).
 * Owns: the scan.  Does not own: writing, seeking or setting the file's size. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POD_ZERO_BLOCK 4096

/* Looks from buf[*pos] (buf lands at file offset off) for the next run of pieces that are
 * not all zero.  Returns true with [*ret_start, *ret_start + *ret_len) and *pos moved past
 * it, or false when only zero pieces are left (*pos = size). */
bool pod_zero_runs_next(const char *buf, size_t size, int64_t off, size_t *pos, size_t *ret_start,
                        size_t *ret_len);
