/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the WWW-Authenticate challenge parser (registry.h): no crash, every failure has a
 * message, a parsed challenge has a lower-case scheme and a bounded parameter count. */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        struct pod_registry_challenge c = {};
        struct pod_error e = {};

        if (size > 8192)
                return 0;
        s = strndup((const char *)data, size);
        if (!s)
                return 0;
        if (pod_registry_parse_challenge(s, &c, &e) < 0) {
                assert(e.error < 0 && e.msg[0]);
                return 0;
        }
        assert(c.scheme && c.scheme[0]);
        for (const char *k = c.scheme; *k; k++)
                assert(!isupper((unsigned char)*k));
        assert(c.n_params <= POD_REGISTRY_CHALLENGE_PARAMS_MAX);
        pod_registry_challenge_done(&c);
        return 0;
}
