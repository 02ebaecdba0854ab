/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TEMP (dk-registry): stand-ins for store-oci.h until dk-store's src/store-oci.c lands.
 * Every function fails with -EOPNOTSUPP.  Drop this file and its Makefile.am line on merge. */
#include "config.h"

#include <errno.h>

#include "store-oci.h"

int pod_store_oci_have_layer(struct pod_store *s, const char *diff_id, struct pod_error *reterr) {
        return pod_error_set(reterr, -EOPNOTSUPP, "store-oci.c is not merged yet");
}

int pod_store_oci_import_layer_fd(struct pod_store *s, int fd, const struct pod_store_oci_layer *l,
                                  const struct pod_limits *limits, unsigned unpack_flags,
                                  struct pod_error *reterr) {
        return pod_error_set(reterr, -EOPNOTSUPP, "store-oci.c is not merged yet");
}

int pod_store_oci_commit(struct pod_store *s, const struct pod_store_oci_image *img, char **ret_id,
                         struct pod_error *reterr) {
        return pod_error_set(reterr, -EOPNOTSUPP, "store-oci.c is not merged yet");
}

int pod_store_oci_resolve(struct pod_store *s, const char *registry, const char *repository,
                          const char *tag, const char *digest, char **ret_id,
                          struct pod_error *reterr) {
        return pod_error_set(reterr, -ENOENT, "store-oci.c is not merged yet");
}
