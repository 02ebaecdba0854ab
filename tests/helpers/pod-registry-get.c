/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives src/registry.c against a real registry for tests/integration/registry-client.sh:
 *   pod-registry-get [--http] [--insecure-tls] [--auth-dir DIR] [--docker-config FILE]
 *                    REGISTRY REPOSITORY manifest REF      prints digest=, kind=, type=
 *                    REGISTRY REPOSITORY blob DIGEST [SIZE] verified into memory, prints size=
 *                    REGISTRY REPOSITORY stream DIGEST      raw bytes to stdout (a pipe)
 * Errors: the pod_error message on stderr, exit 1. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "fd-util.h"
#include "macro.h"
#include "registry.h"

static int fail(int r, const struct pod_error *e) {
        fprintf(stderr, "error %d: %s\n", r, e->msg[0] ? e->msg : strerror(-r));
        return 1;
}

int main(int argc, char *argv[]) {
        static const struct option opts[] = {
                { "http", no_argument, NULL, 'h' },
                { "insecure-tls", no_argument, NULL, 't' },
                { "auth-dir", required_argument, NULL, 'a' },
                { "docker-config", required_argument, NULL, 'd' },
                {},
        };
        _cleanup_(pod_auth_freep) struct pod_auth *auth = NULL, *extra = calloc(1, sizeof(*extra));
        _cleanup_(pod_registry_freep) struct pod_registry *reg = NULL;
        struct pod_registry_options o = {};
        const char *auth_dir = NULL, *docker_config = NULL;
        struct pod_error e = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'h':
                        o.allow_http = true;
                        break;
                case 't':
                        o.insecure_tls = true;
                        break;
                case 'a':
                        auth_dir = optarg;
                        break;
                case 'd':
                        docker_config = optarg;
                        break;
                default:
                        return 2;
                }
        if (argc - optind < 4 || !extra)
                return 2;
        r = pod_auth_load(auth_dir, NULL, &auth, &e);
        if (r < 0)
                return fail(r, &e);
        if (docker_config) {
                _cleanup_free_ char *text = NULL;
                size_t size = 0;

                r = read_full_file_at(AT_FDCWD, docker_config, POD_AUTH_FILE_MAX, &text, &size);
                if (r >= 0)
                        r = pod_auth_parse_docker_config(extra, text, size, docker_config, &e);
                if (r < 0)
                        return fail(r, &e);
        }
        o.auth = auth;
        o.auth_extra = extra;
        r = pod_registry_new(argv[optind], argv[optind + 1], &o, &reg);
        if (r < 0)
                return fail(r, &e);

        if (streq(argv[optind + 2], "manifest")) {
                _cleanup_(pod_registry_manifest_done) struct pod_registry_manifest m = {};

                r = pod_registry_get_manifest(reg, argv[optind + 3], &m, &e);
                if (r < 0)
                        return fail(r, &e);
                printf("digest=%s\nkind=%d\ntype=%s\nurl=%s\nsize=%zu\n", m.digest, (int)m.kind,
                       m.content_type ?: "", m.url, m.size);
        } else if (streq(argv[optind + 2], "blob")) {
                _cleanup_free_ char *b = NULL;
                size_t n = 0;

                r = pod_registry_get_blob(reg, argv[optind + 3],
                                          argc - optind > 4 ? strtoull(argv[optind + 4], NULL, 10)
                                                            : 0,
                                          POD_OCI_JSON_MAX, &b, &n, &e);
                if (r < 0)
                        return fail(r, &e);
                printf("size=%zu\n", n);
        } else if (streq(argv[optind + 2], "stream")) {
                r = pod_registry_download_blob(reg, argv[optind + 3], STDOUT_FILENO, NULL, NULL,
                                               &e);
                if (r < 0)
                        return fail(r, &e);
        } else
                return 2;
        return 0;
}
