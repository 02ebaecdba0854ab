/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>

#include "error.h"
#include "insecure.h"
#include "tap.h"

int main(void) {
        struct pod_error e = {};
        const char *bad = NULL;
        unsigned bits = 0;

        tap_is_int(pod_error_set(&e, -ENOENT, "Failed to open '%s'", "x"), -ENOENT,
                   "pod_error_set returns r");
        tap_is_str(e.msg, "Failed to open 'x'", "message formatted");
        tap_is_int(pod_error_set(&e, -EIO, "outer"), -EIO, "second set returns its r");
        tap_is_str(e.msg, "Failed to open 'x'", "first error wins");
        tap_is_int(e.error, -ENOENT, "first errno kept");
        tap_is_int(pod_error_prefix(&e, -ENOENT, "fetch"), -ENOENT, "prefix returns r");
        tap_is_str(e.msg, "fetch: Failed to open 'x'", "prefix prepended");
        pod_error_clear(&e);
        tap_is_int(pod_error_prefix(&e, -EACCES, "ctx"), -EACCES, "prefix on empty error");
        tap_is_str(e.msg, "ctx: Permission denied", "prefix on empty uses strerror");
        tap_is_int(pod_error_set(NULL, -EINVAL, "x"), -EINVAL, "NULL error is fine");

        tap_is_int(pod_insecure_parse("image,tls", &bits, &bad), 0, "insecure list parses");
        tap_is_int(bits, POD_INSECURE_IMAGE | POD_INSECURE_TLS, "insecure bits");
        tap_is_int(pod_insecure_parse("image,bogus", &bits, &bad), -EINVAL, "unknown refused");
        tap_is_str(bad, "bogus", "offending word reported");
        tap_is_int(pod_insecure_parse("all-run", &bits, &bad), 0, "all-run parses");
        tap_is_int(bits, POD_INSECURE_ALL_RUN, "all-run bits");
        tap_is_int(pod_insecure_parse("devices", &bits, &bad), 0, "devices parses");
        tap_ok(bits == POD_INSECURE_DEVICES && (POD_INSECURE_ALL_RUN & POD_INSECURE_DEVICES),
               "devices is a run option");
        return tap_done();
}
