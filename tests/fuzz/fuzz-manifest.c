/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the image and pod manifest parsers: no crash or leak, and whatever parses
 * serialises to JSON that parses again and serialises to the same text (the pod manifest
 * is written by stage0 and read by stage1, so this round trip must never break). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void image(const char *text, size_t size) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL, *m2 = NULL;
        _cleanup_(pod_app_freep) struct pod_app *copy = NULL;
        _cleanup_free_ char *s1 = NULL, *s2 = NULL;
        struct pod_error e = {};

        if (pod_image_manifest_parse(text, size, &m, &e) < 0) {
                assert(e.error < 0 && e.msg[0]);
                return;
        }
        assert(pod_image_manifest_to_json(m, &s1) >= 0);
        assert(pod_image_manifest_parse(s1, strlen(s1), &m2, &e) >= 0);
        assert(pod_image_manifest_to_json(m2, &s2) >= 0);
        assert(streq(s1, s2));
        assert(pod_image_manifest_validate(m2, NULL) >= 0);
        if (m->app)
                assert(pod_app_copy(m->app, &copy) >= 0);
}

static void pod(const char *text, size_t size) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL, *m2 = NULL;
        _cleanup_free_ char *s1 = NULL, *s2 = NULL;
        struct pod_error e = {};

        if (pod_pod_manifest_parse(text, size, &m, &e) < 0) {
                assert(e.error < 0 && e.msg[0]);
                return;
        }
        assert(pod_pod_manifest_to_json(m, &s1) >= 0);
        assert(pod_pod_manifest_parse(s1, strlen(s1), &m2, &e) >= 0);
        assert(pod_pod_manifest_to_json(m2, &s2) >= 0);
        assert(streq(s1, s2));
        for (size_t i = 0; i < m->n_apps; i++)
                if (m->apps[i].app) {
                        _cleanup_(pod_app_freep) struct pod_app *copy = NULL;

                        assert(pod_app_copy(m->apps[i].app, &copy) >= 0);
                }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text;

        if (size > 256 * 1024)
                return 0;
        /* An exact-size copy, so reads past the end are caught by ASan. */
        text = malloc(size ? size : 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        image(text, size);
        pod(text, size);
        free(text);
        return 0;
}
