/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEMPORARY (dk-store branch): placeholder so pod_store_extract() of OCI images links until
 * dk-overlay's src/layer-merge.c lands; drop this file at merge. */
#include <errno.h>

#include "layer-merge.h"

int pod_layer_merge(const int *lower_fds, size_t n, int to_fd, unsigned flags,
                    struct pod_error *reterr) {
        (void)lower_fds;
        (void)n;
        (void)to_fd;
        (void)flags;
        return pod_error_set(reterr, -EOPNOTSUPP, "Flattening layers is not implemented yet");
}
