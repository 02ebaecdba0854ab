/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the pod manifest scan of `pod list` (pod_info_parse_apps): no crash or leak, and
 * whenever the scan accepts a text that the full manifest parser accepts too, both give the
 * same app names and image names (the list must not show something else than `pod status`
 * would).  The scan may refuse what only json-c's lenient parser takes (comments, single
 * quotes, raw control characters in strings): stage0 writes strict JSON.  And the pod
 * summary of the text (podsummary.h), when one can be written, reads back as the same apps
 * as the scan, image IDs included. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "manifest.h"
#include "podinfo.h"
#include "podsummary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        _cleanup_free_ char *text = malloc(size + 1);
        struct pod_info_app *apps = NULL;
        size_t n = 0;
        int r;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;

        r = pod_info_parse_apps(text, size, &apps, &n);
        assert(r == 0 || r == -EBADMSG || r == -ENOMEM);
        if (r == 0 && pod_pod_manifest_parse(text, size, &m, NULL) >= 0) {
                assert(n == m->n_apps);
                for (size_t k = 0; k < n; k++) {
                        assert(streq(apps[k].name, m->apps[k].name));
                        assert(!apps[k].image_name == !m->apps[k].image.name);
                        assert(!apps[k].image_name ||
                               streq(apps[k].image_name, m->apps[k].image.name));
                }
        }
        if (r == 0) {
                _cleanup_free_ char *sum = NULL;
                struct pod_info_app *b = NULL;
                size_t nb = 0;
                bool extras;

                if (pod_summary_format(text, size, &sum) == 0) {
                        assert(pod_summary_parse(sum, strlen(sum), &b, &nb, &extras, NULL) == 0);
                        assert(nb == n);
                        for (size_t k = 0; k < n; k++) {
                                assert(streq(apps[k].name, b[k].name));
                                assert(!apps[k].image_name == !b[k].image_name);
                                assert(!apps[k].image_name ||
                                       streq(apps[k].image_name, b[k].image_name));
                                assert(!apps[k].image_id == !b[k].image_id);
                                assert(!apps[k].image_id || streq(apps[k].image_id, b[k].image_id));
                        }
                        pod_info_apps_free(b, nb);
                }
                pod_info_apps_free(apps, n);
        }
        /* the summary parser on its own, on hostile bytes */
        {
                struct pod_info_app *b = NULL;
                size_t nb = 0;
                bool extras;

                r = pod_summary_parse(text, size, &b, &nb, &extras, NULL);
                assert(r == 0 || r == -EBADMSG || r == -ENOMEM);
                if (r == 0)
                        pod_info_apps_free(b, nb);
        }
        return 0;
}
