/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes image reference parsing: no crash, every failure has a message, and a parsed name
 * reference prints to a canonical string that parses back to the same string. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imageref.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(pod_imageref_freep) struct pod_imageref *r = NULL, *r2 = NULL;
        _cleanup_free_ char *s = NULL, *c1 = NULL, *c2 = NULL;
        struct pod_error e = {};

        if (size > 8192)
                return 0;
        s = strndup((const char *)data, size);
        if (!s)
                return 0;

        if (pod_imageref_parse(s, &r, &e) < 0) {
                assert(e.error < 0 && e.msg[0]);
                return 0;
        }
        assert(pod_imageref_kind_to_string(r->kind));
        assert(pod_imageref_to_string(r, &c1) >= 0);
        switch (r->kind) {
        case POD_IMAGEREF_NAME:
                assert(ac_identifier_valid(r->name));
                assert(pod_kv_get(r->labels, r->n_labels, "os"));
                assert(pod_kv_get(r->labels, r->n_labels, "arch"));
                assert(pod_imageref_parse(c1, &r2, &e) >= 0);
                /* A file of that name in the current directory would (rightly) win. */
                if (r2->kind == POD_IMAGEREF_NAME) {
                        assert(pod_imageref_to_string(r2, &c2) >= 0);
                        assert(streq(c1, c2));
                }
                break;
        case POD_IMAGEREF_HASH:
                assert(image_id_valid(r->hash, false));
                break;
        case POD_IMAGEREF_FILE:
                assert(r->path && r->path[0]);
                break;
        default:
                assert(r->url);
                break;
        }
        return 0;
}
