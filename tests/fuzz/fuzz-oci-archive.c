/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes oci-archive.h's reading of a hostile tar: the member table (ustar, pax, GNU long
 * names, links), docker save's manifest.json and OCI index.json/manifests/configs, through
 * pod_oci_archive_probe() and pod_oci_archive_import() into a private store.  No crash or
 * leak; every failure fills the error; a failed import leaves the image list as it was. */
#include <assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "oci-archive.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t n_images(struct pod_store *s) {
        struct pod_store_image **l = NULL;
        size_t n = 0;

        assert(pod_store_list(s, &l, &n, NULL) >= 0);
        pod_store_image_list_free(l, n);
        return n;
}

static struct pod_store *s;
static char dir[] = "/tmp/fuzz-oci-archive.XXXXXX";

static void cleanup(void) {
        s = pod_store_free(s);
        (void)rm_rf_at(AT_FDCWD, dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        enum pod_oci_archive_kind kind;
        struct pod_error e = {};
        char path[64];
        size_t before;
        int r;

        if (!s) {
                assert(mkdtemp(dir));
                assert(pod_store_open(dir, &s, NULL) >= 0);
                (void)atexit(cleanup);
        }
        fd = memfd_create("archive", MFD_CLOEXEC);
        assert(fd >= 0);
        assert(loop_write(fd, data, size) >= 0);
        (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

        r = pod_oci_archive_probe(path, &kind, &e);
        if (r < 0) {
                assert(e.error < 0 && e.msg[0]);
                return 0;
        }
        if (kind == POD_OCI_ARCHIVE_NONE)
                return 0;
        before = n_images(s);
        {
                struct pod_oci_archive_import_options o = { .name = "example.com/fuzz" };
                _cleanup_strv_free_ char **ids = NULL;

                pod_error_clear(&e);
                r = pod_oci_archive_import(s, path, &o, &ids, &e);
                if (r < 0) {
                        assert(e.error < 0 && e.msg[0]);
                        assert(n_images(s) == before);
                } else
                        assert(ids && ids[0]);
        }
        return 0;
}
