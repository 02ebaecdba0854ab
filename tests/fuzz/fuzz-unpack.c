/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Feeds bytes to the ACI unpacker as an archive, extracting into base/a/target: whatever the
 * outcome, nothing may appear in base/a or base besides the target.  The manifest peek that
 * runs before signature verification (aci-peek.c) reads the same bytes: whenever the unpack
 * succeeds it must find the very manifest the unpack returned (the name verified is the
 * name imported).  The same bytes then go through layer mode (POD_UNPACK_LAYER), under the
 * same rule. */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci.h"
#include "fd-util.h"
#include "macro.h"
#include "unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_entries(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        assert(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        return n;
}

static char base[] = "/tmp/fuzz-unpack.XXXXXX";

static void remove_base(void) {
        (void)rm_rf_at(AT_FDCWD, base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool made;
        struct pod_unpack_result res = {};
        struct pod_error e = {}, pe = {};
        _cleanup_close_ int in = -EBADF, t = -EBADF;
        _cleanup_free_ char *peeked = NULL;
        struct pod_unpack_options lo = POD_UNPACK_OPTIONS_INIT;
        size_t peeked_size = 0;
        char a[64], target[80];
        int r, q;

        if (size > (1u << 20))
                return 0;
        lo.flags = POD_UNPACK_LAYER;
        if (!made) {
                assert(mkdtemp(base));
                made = true;
                (void)atexit(remove_base);
        }
        (void)snprintf(a, sizeof(a), "%s/a", base);
        (void)snprintf(target, sizeof(target), "%s/a/target", base);
        assert(mkdir(a, 0755) == 0);
        assert(mkdir(target, 0755) == 0);
        t = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        in = memfd_create("fuzz-unpack", MFD_CLOEXEC);
        assert(t >= 0 && in >= 0);
        assert(loop_write(in, data, size) == 0);
        assert(lseek(in, 0, SEEK_SET) == 0);

        r = pod_unpack(in, t, NULL, &res, &e);
        assert(r < 0 ? e.msg[0] != 0 || r == -ENOMEM : strlen(res.id) == 135);

        q = pod_aci_peek_manifest(in, NULL, &peeked, &peeked_size, &pe);
        assert(q < 0 ? pe.msg[0] != 0 || q == -ENOMEM : peeked != NULL);
        if (r >= 0)
                assert(q >= 0 && peeked_size == res.manifest_size &&
                       memcmp(peeked, res.manifest, peeked_size) == 0);
        pod_unpack_result_done(&res);

        /* Nothing outside the target, whatever happened. */
        assert(count_entries(base) == 1);
        assert(count_entries(a) == 1);
        assert(rm_rf_at(AT_FDCWD, a) == 0);

        /* The same bytes as a Docker/OCI layer (whiteouts, no manifest): the same rule. */
        assert(mkdir(a, 0755) == 0);
        assert(mkdir(target, 0755) == 0);
        t = safe_close(t);
        t = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert(t >= 0 && lseek(in, 0, SEEK_SET) == 0);
        pod_error_clear(&e);
        r = pod_unpack(in, t, &lo, &res, &e);
        assert(r < 0 ? e.msg[0] != 0 || r == -ENOMEM
                     : strlen(res.diff_id) == 71 && strlen(res.blob_digest) == 71 && !res.id[0]);
        pod_unpack_result_done(&res);
        assert(count_entries(base) == 1);
        assert(count_entries(a) == 1);
        assert(rm_rf_at(AT_FDCWD, a) == 0);
        return 0;
}
