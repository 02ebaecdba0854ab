/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes oci.h: classification, manifests, index selection and configs with their appc
 * conversion.  No crash or leak; every failure fills the error; whatever parses has the
 * invariants the callers rely on (valid digests, bounded layer counts), and a converted
 * config serialises to a manifest that manifest.c accepts. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "manifest.h"
#include "oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void manifest(const char *text, size_t size) {
        struct pod_oci_manifest m = {};
        struct pod_error e = {};
        enum pod_oci_kind k;

        if (pod_oci_classify(NULL, text, size, &k, &e) < 0)
                assert(e.error < 0 && e.msg[0]);
        pod_error_clear(&e);
        if (pod_oci_manifest_parse(text, size, &m, &e) < 0) {
                assert(e.error < 0 && e.msg[0]);
                return;
        }
        assert(pod_oci_digest_valid(m.config.digest));
        assert(m.n_layers <= POD_OCI_LAYERS_MAX);
        for (size_t i = 0; i < m.n_layers; i++)
                assert(pod_oci_digest_valid(m.layers[i].digest) && m.layers[i].media_type);
        pod_oci_manifest_done(&m);
}

static void index_select(const char *text, size_t size) {
        static const char *const plats[] = { "linux/amd64", "linux/arm64/v8", "linux/arm" };

        for (size_t i = 0; i < ELEMENTSOF(plats); i++) {
                struct pod_oci_platform p = {};
                struct pod_oci_descriptor d = {};
                struct pod_error e = {};

                assert(pod_oci_platform_parse(plats[i], &p, NULL) >= 0);
                if (pod_oci_index_select(text, size, &p, &d, &e) < 0)
                        assert(e.error < 0 && e.msg[0]);
                else
                        assert(pod_oci_digest_valid(d.digest) && streq(d.os, "linux"));
                pod_oci_descriptor_done(&d);
                pod_oci_platform_done(&p);
        }
}

static void config(const char *text, size_t size) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL, *back = NULL;
        _cleanup_free_ char *json = NULL;
        struct pod_oci_config c = {};
        struct pod_error e = {};
        const struct pod_oci_origin o = {
                .registry = "Reg.example:5000",
                .repository = "a/B_c",
                .tag = "1.0",
                .config_digest =
                        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        };

        if (pod_oci_config_parse(text, size, &c, &e) < 0) {
                assert(e.error < 0 && e.msg[0]);
                return;
        }
        assert(c.n_diff_ids <= POD_OCI_LAYERS_MAX);
        if (pod_oci_config_to_appc(&c, &o, &m, &e) >= 0) {
                assert(pod_image_manifest_to_json(m, &json) >= 0);
                assert(pod_image_manifest_parse(json, strlen(json), &back, NULL) >= 0);
        } else
                assert(e.error < 0 && e.msg[0]);
        pod_oci_config_done(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text;

        if (size > 256 * 1024)
                return 0;
        text = malloc(size ? size : 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        manifest(text, size);
        index_select(text, size);
        config(text, size);
        free(text);
        return 0;
}
