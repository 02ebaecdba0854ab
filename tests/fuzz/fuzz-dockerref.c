/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes docker:// reference parsing: no crash, every failure has a message, and a parsed
 * reference prints to a canonical string that parses back to the same parts. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dockerref.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const char *a, const char *b) {
        return (!a && !b) || (a && b && streq(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct pod_dockerref r = {}, r2 = {};
        _cleanup_free_ char *s = NULL, *c = NULL;
        struct pod_error e = {};

        if (size > 4096)
                return 0;
        s = strndup((const char *)data, size);
        if (!s)
                return 0;
        if (pod_dockerref_parse(s, NULL, &r, &e) < 0) {
                assert(e.error < 0 && e.msg[0]);
                return 0;
        }
        assert(pod_docker_registry_valid(r.registry));
        assert(r.repository && r.repository[0]);
        assert(r.tag || r.digest);
        c = pod_dockerref_to_string(&r);
        assert(c);
        assert(pod_dockerref_parse(c, NULL, &r2, &e) >= 0);
        assert(same(r.registry, r2.registry) && same(r.repository, r2.repository) &&
               same(r.tag, r2.tag) && same(r.digest, r2.digest));
        pod_dockerref_done(&r);
        pod_dockerref_done(&r2);
        return 0;
}
