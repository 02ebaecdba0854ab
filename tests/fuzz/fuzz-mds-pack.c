/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the metadata server's hand-over blob reader (src/mds-pack.h), which the static
 * server runs on its fd 4 before anything else: no crash, no leak, no read outside the
 * input; a blob is either refused with -EBADMSG or unpacked into exactly what packs back
 * into the same bytes (the format has one spelling per content). */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "mds-pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(pod_mds_unpacked_freep) struct pod_mds_unpacked *u = NULL;
        _cleanup_free_ char *again = NULL;
        size_t again_size = 0;
        int r;

        r = pod_mds_unpack(data, size, &u);
        assert(r == 0 || r == -EBADMSG || r == -E2BIG);
        if (r < 0)
                return 0;
        r = pod_mds_pack(&u->m, &again, &again_size);
        assert(r == 0);
        assert(again_size == size && memcmp(again, data, size) == 0);
        return 0;
}
