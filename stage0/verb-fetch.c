/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod fetch: image references to verified images in the store (src/fetch.h); prints one
 * image ID per reference on stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "fetch.h"
#include "insecure.h"
#include "log.h"
#include "macro.h"
#include "podlimits.h"
#include "store.h"
#include "verbs.h"

/* "sha512-" + 64 hex: the length rkt printed, still unique in practice and accepted back. */
#define ID_LONG_LEN (7 + 64)

static enum pod_pull_policy arg_pull_policy = POD_PULL_UPDATE;
static const char *arg_signature;
static bool arg_quiet;
static bool arg_full;
static const char *arg_os;
static const char *arg_arch;
static bool arg_trust_keys_from_https;
static const char *arg_platform;

enum {
        ARG_PULL_POLICY = 0x100,
        ARG_SIGNATURE,
        ARG_QUIET,
        ARG_FULL,
        ARG_INSECURE,
        ARG_OS,
        ARG_ARCH,
        ARG_TRUST_KEYS_FROM_HTTPS,
        ARG_PLATFORM,
};

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "pull-policy", required_argument, NULL, ARG_PULL_POLICY },
                { "signature", required_argument, NULL, ARG_SIGNATURE },
                { "quiet", optional_argument, NULL, ARG_QUIET },
                { "full", optional_argument, NULL, ARG_FULL },
                { "insecure-options", required_argument, NULL, ARG_INSECURE },
                { "os", required_argument, NULL, ARG_OS },
                { "arch", required_argument, NULL, ARG_ARCH },
                { "trust-keys-from-https", optional_argument, NULL, ARG_TRUST_KEYS_FROM_HTTPS },
                { "platform", required_argument, NULL, ARG_PLATFORM },
                {},
        };
        int c, r = 0;

        arg_pull_policy = POD_PULL_UPDATE;
        arg_signature = arg_os = arg_arch = arg_platform = NULL;
        arg_quiet = arg_full = arg_trust_keys_from_https = false;
        while ((c = getopt_long(argc, argv, "q", options, NULL)) >= 0) {
                const char *bad = NULL;
                unsigned bits;

                switch (c) {
                case ARG_PULL_POLICY:
                        arg_pull_policy = pod_pull_policy_from_string(optarg);
                        if (arg_pull_policy < 0)
                                return pod_usage_error("fetch",
                                                       "Invalid pull policy '%s' (new, update or "
                                                       "never)",
                                                       optarg);
                        break;
                case ARG_SIGNATURE:
                        arg_signature = optarg;
                        break;
                case 'q':
                        arg_quiet = true;
                        break;
                /* pflag-style booleans, as rkt's: --flag, --flag=true|false */
                case ARG_QUIET:
                        r = pod_bool_arg("fetch", "quiet", optarg, &arg_quiet);
                        break;
                case ARG_FULL:
                        r = pod_bool_arg("fetch", "full", optarg, &arg_full);
                        break;
                case ARG_INSECURE:
                        /* Also accepted after the verb, as rkt users type it. */
                        if (pod_insecure_parse(optarg, &bits, &bad) < 0)
                                return pod_usage_error("fetch", "Unknown insecure option '%s'",
                                                       bad);
                        arg_insecure |= bits;
                        break;
                case ARG_OS:
                        arg_os = optarg;
                        break;
                case ARG_ARCH:
                        arg_arch = optarg;
                        break;
                case ARG_TRUST_KEYS_FROM_HTTPS:
                        r = pod_bool_arg("fetch", "trust-keys-from-https", optarg,
                                         &arg_trust_keys_from_https);
                        break;
                case ARG_PLATFORM:
                        arg_platform = optarg;
                        break;
                default:
                        return pod_usage_error("fetch", "Invalid option");
                }
                if (r < 0)
                        return r;
        }
        if (optind >= argc)
                return pod_usage_error("fetch", "Missing image reference");
        if (arg_signature && argc - optind > 1)
                return pod_usage_error("fetch", "--signature applies to exactly one image");
        return 0;
}

int verb_fetch(int argc, char *argv[]) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_(pod_auth_freep) struct pod_auth *auth = NULL, *docker_auth = NULL;
        struct trust_implicit_config tc = {};
        struct pod_fetch_options o = {};
        struct pod_limits limits;
        struct pod_error e = {};
        int r, ret = 0;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;

        r = pod_store_open(arg_dir, &s, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        r = pod_auth_load(arg_vendordir, arg_sysconfdir, &auth, &e);
        if (r >= 0)
                r = pod_auth_load_user(auth, arg_userdir, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        r = pod_limits_load(arg_vendordir, arg_sysconfdir, &limits, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        /* docker's and podman's credential files, for docker:// images. */
        docker_auth = calloc(1, sizeof(*docker_auth));
        if (!docker_auth)
                return log_error_errno(-ENOMEM, "Out of memory");
        r = pod_auth_load_docker_files(docker_auth, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        tc = (struct trust_implicit_config){ .from_https = arg_trust_keys_from_https,
                                             .auth = auth };

        o = (struct pod_fetch_options){
                .insecure = arg_insecure,
                .pull_policy = arg_pull_policy,
                .keystore = { .vendordir = arg_vendordir,
                              .sysconfdir = arg_sysconfdir,
                              .userdir = arg_userdir },
                .signature = arg_signature,
                .progress = !arg_quiet,
                .os = arg_os,
                .arch = arg_arch,
                .auth = auth,
                .no_trusted_key = trust_implicit,
                .userdata = &tc,
                .limits = &limits,
                .platform = arg_platform,
                .docker_auth = docker_auth,
        };
        if (arg_insecure & POD_INSECURE_IMAGE)
                log_warning("Image signature verification is off (--insecure-options=image)");
        if (arg_insecure & POD_INSECURE_TLS)
                log_warning("TLS certificate verification is off (--insecure-options=tls)");

        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *id = NULL;

                pod_error_clear(&e);
                r = pod_fetch_image(s, argv[i], &o, &id, &e);
                if (r < 0) {
                        if (e.msg[0])
                                log_error("Failed to fetch '%s': %s", argv[i], e.msg);
                        else
                                (void)log_error_errno(r, "Failed to fetch '%s': %m", argv[i]);
                        ret = r;
                        continue;
                }
                printf("%.*s\n", arg_full ? (int)strlen(id) : ID_LONG_LEN, id);
                (void)fflush(stdout);
        }
        return ret;
}
