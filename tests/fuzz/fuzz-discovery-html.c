/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the discovery page parser and template rendering: no crash, no leak, and what
 * comes out is clean (no whitespace or control characters, a known kind, a non-empty
 * prefix and value); rendering never leaves a '{' from the template unexpanded. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discovery-html.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void assert_clean(const char *s) {
        assert(s && *s);
        for (; *s; s++)
                assert((unsigned char)*s > 0x20 && *s != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(pod_discovery_metas_freep) struct pod_discovery_metas *m = NULL;
        _cleanup_free_ char *decoded = NULL;
        const struct pod_discovery_label labels[] = {
                { "version", "1.0" },
                { "os", "linux" },
                { "arch", "amd64" },
        };

        /* The caller caps the page at 1 MiB; stay well below for speed. */
        if (size > 256 * 1024)
                return 0;

        decoded = pod_html_decode_entities((const char *)data, size);
        assert(decoded && strlen(decoded) <= size);

        if (pod_discovery_html_parse((const char *)data, size, &m) < 0)
                return 0;
        assert(m->n <= POD_DISCOVERY_METAS_MAX);
        for (size_t i = 0; i < m->n; i++) {
                _cleanup_free_ char *url = NULL;

                assert(m->items[i].kind == POD_DISCOVERY_IMAGE ||
                       m->items[i].kind == POD_DISCOVERY_PUBKEYS);
                assert_clean(m->items[i].prefix);
                assert_clean(m->items[i].value);
                if (pod_discovery_render(m->items[i].value, "example.com/app", labels,
                                         ELEMENTSOF(labels), "aci", &url) == 0)
                        assert(!strchr(url, '{'));
        }
        return 0;
}
