/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test driver for the fetch chain the fetch verb uses (discovery.h): meta discovery of an
 * image, download of the ACI and its signature, verification against a keystore.
 *
 *   pod-discover [--pubkeys] [--allow-http] [--insecure-tls] [--verify SYSCONFDIR VENDORDIR]
 *                NAME [LABEL=VALUE...]
 *
 * Prints "page URL", "aci URL", "sig URL" or "pubkey URL" lines, then with --verify
 * "verified FINGERPRINT KEYFILE".  On failure prints "error ERRNO-NAME: message" and exits 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "discovery.h"
#include "http.h"
#include "keystore.h"
#include "macro.h"
#include "verify.h"

static int fail(int r, const struct pod_error *e) {
        printf("error %s: %s\n", strerrorname_np(-r) ? strerrorname_np(-r) : "?",
               e->msg[0] ? e->msg : strerror(-r));
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(pod_discovery_result_freep) struct pod_discovery_result *d = NULL;
        struct pod_discovery_label labels[16];
        struct pod_http_options http = {};
        struct pod_error e = {};
        const char *sysconf = NULL, *vendor = NULL, *name;
        bool pubkeys = false;
        size_t n = 0;
        int i = 1, r;

        for (; i < argc && argv[i][0] == '-'; i++) {
                if (streq(argv[i], "--pubkeys"))
                        pubkeys = true;
                else if (streq(argv[i], "--allow-http"))
                        http.allow_http = true;
                else if (streq(argv[i], "--insecure-tls"))
                        http.insecure_tls = true;
                else if (streq(argv[i], "--verify") && i + 2 < argc) {
                        sysconf = argv[++i];
                        vendor = argv[++i];
                } else {
                        fprintf(stderr, "bad option %s\n", argv[i]);
                        return 2;
                }
        }
        if (i >= argc)
                return 2;
        name = argv[i++];
        for (; i < argc && n < ELEMENTSOF(labels); i++) {
                char *eq = strchr(argv[i], '=');
                if (!eq)
                        return 2;
                *eq = 0;
                labels[n++] = (struct pod_discovery_label){ argv[i], eq + 1 };
        }

        if (pubkeys) {
                r = pod_discovery_pubkeys(name, &http, &d, &e);
                if (r < 0)
                        return fail(r, &e);
                printf("page %s\n", d->page_url);
                STRV_FOREACH (u, d->pubkeys)
                        printf("pubkey %s\n", *u);
                return 0;
        }

        r = pod_discovery_resolve(name, labels, n, &http, &d, &e);
        if (r < 0)
                return fail(r, &e);
        printf("page %s\n", d->page_url);
        for (size_t k = 0; k < d->n_endpoints; k++)
                printf("aci %s\nsig %s\n", d->endpoints[k].aci_url, d->endpoints[k].sig_url);

        if (sysconf) {
                const struct pod_keystore ks = { .vendordir = vendor, .sysconfdir = sysconf };
                struct pod_http_options sig_http = http;
                struct pod_http_response resp = {};
                struct pod_verify_info info = {};
                _cleanup_free_ char *sig = NULL;
                _cleanup_close_ int fd = -EBADF;
                char tmpl[] = "/tmp/pod-discover-XXXXXX";
                size_t sig_size = 0;

                fd = mkostemp(tmpl, O_CLOEXEC);
                if (fd < 0)
                        return 1;
                (void)unlink(tmpl);
                r = pod_http_download(d->endpoints[0].aci_url, fd, &http, &resp, &e);
                pod_http_response_done(&resp);
                if (r < 0)
                        return fail(r, &e);

                sig_http.max_size = 1024 * 1024;
                r = pod_http_get(d->endpoints[0].sig_url, &sig_http, &sig, &sig_size, NULL, &e);
                if (r == -ENOENT) {
                        /* No signature published: unsigned, as the fetch verb will say. */
                        pod_error_clear(&e);
                        sig_size = 0;
                } else if (r < 0)
                        return fail(r, &e);

                r = pod_verify_detached(name, fd, r >= 0 ? sig : NULL, sig_size, &ks, &info, &e);
                if (r < 0) {
                        pod_verify_info_done(&info);
                        return fail(r, &e);
                }
                printf("verified %s %s\n", info.fingerprint, info.key_path);
                pod_verify_info_done(&info);
        }
        return 0;
}
