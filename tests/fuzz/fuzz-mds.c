/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the metadata service's request parser and router (src/mds.h) with what an app in
 * the pod may send: no crash or leak; a request either parses or gets an error response;
 * every response is a complete HTTP/1.1 response whose Content-Length is its body's; and
 * nothing but this pod's data (and never the key) is in it. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "mds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pod_kv annots[] = { { (char *)"a", (char *)"1" } };
static const struct pod_mds_app apps[] = { {
        .name = "web",
        .image_id = "sha512-abc",
        .image_manifest = "{}",
        .image_annotations = annots,
        .n_image_annotations = 1,
        .annotations = annots,
        .n_annotations = 1,
} };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct pod_mds m = {
                .token = "0123456789abcdef0123456789abcdef",
                .uuid = "6f1b2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
                .pod_manifest = "{}",
                .annotations = annots,
                .n_annotations = 1,
                .apps = apps,
                .n_apps = 1,
        };
        struct pod_mds_request req = {};
        _cleanup_free_ char *out = NULL;
        size_t out_size = 0, len = 0;
        const char *b, *cl;
        int r;

        if (size > POD_MDS_REQUEST_MAX + 64)
                return 0;
        memset(m.key, 'K', sizeof(m.key));
        r = pod_mds_request_parse((const char *)data, size, &req);
        assert(r == 0 || r == -EAGAIN || r == -EMSGSIZE || r == -EOPNOTSUPP || r == -EBADMSG);
        if (r == -EAGAIN)
                return 0;
        if (r == 0) {
                assert(req.path && req.path[0] == '/' && req.body);
                assert(req.body_size <= POD_MDS_REQUEST_MAX);
                r = pod_mds_respond(&m, &req, &out, &out_size);
                pod_mds_request_done(&req);
        } else
                r = pod_mds_error_response(r, &out, &out_size);
        assert(r == 0 || r == -ENOMEM);
        if (r < 0)
                return 0;
        assert(out_size > 17 && memcmp(out, "HTTP/1.1 ", 9) == 0);
        b = memmem(out, out_size, "\r\n\r\n", 4);
        assert(b);
        b += 4;
        cl = memmem(out, (size_t)(b - out), "Content-Length: ", 16);
        assert(cl);
        len = strtoul(cl + 16, NULL, 10);
        assert(len == out_size - (size_t)(b - out));
        assert(!memmem(out, out_size, m.key, 8));
        return 0;
}
