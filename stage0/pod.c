/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "insecure.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "rootless.h"
#include "run-args.h"
#include "verbs.h"

const char *arg_dir = POD_LOCALSTATEDIR "/lib/pod";
const char *arg_sysconfdir = POD_SYSCONFDIR "/pod";
const char *arg_vendordir = POD_VENDORDIR;
const char *arg_userdir;
const char *arg_runtimedir;
bool arg_rootless;
unsigned arg_insecure;
bool arg_debug;

/* Keep sorted as "pod --help" shows them. */
/* Verbs that parse their own flags but take no positional argument say -1 here (pod.c's
 * pre-check would count their flags) and check positionals themselves. */
static const struct pod_verb verbs[] = {
        { "cat-manifest", 0, 1, verb_cat_manifest, "Show the manifest of a pod",
          "[--pretty-print[=true|false]] UUID|--uuid-file=PATH" },
        { "config", 0, -1, verb_config, "Show the configuration (rkt's JSON view)",
          "[--pretty-print[=true|false]] [--format=json|paths]" },
        { "enter", 0, -1, verb_enter, "Run a command inside a running pod, as one of its apps",
          "[--app=NAME] UUID|--uuid-file=PATH [[--] CMD [ARGS...]]\n\n"
          "  --app=NAME                 The app to enter (needed when the pod has several)\n"
          "  --uuid-file=PATH           Read the pod's UUID from PATH (then no UUID argument)\n"
          "CMD (default /bin/sh) runs in the pod's namespaces and cgroup, in the app's root,\n"
          "with its user, groups, capabilities, no_new_privs, seccomp filter and environment;\n"
          "it inherits stdin, stdout and stderr.  Exit status: CMD's." },
        { "export", 0, -1, verb_export, "Write an exited pod's app's root file system as an ACI",
          "[--overwrite] [--app=NAME] UUID|--uuid-file=PATH OUT.aci\n\n"
          "  --overwrite                Replace OUT.aci if it exists\n"
          "  --app=NAME                 The app to export (needed for a pod of several apps)\n"
          "  --uuid-file=PATH           Read the pod's UUID from PATH (then no UUID argument)\n"
          "The image is the app's image with the pod's changes; its manifest is the app's\n"
          "image manifest.  Prints the new image ID." },
        { "fetch", 1, -1, verb_fetch, "Fetch images into the store and verify their signatures",
          "[--pull-policy=new|update|never] [--signature=FILE] [--quiet[=BOOL]]\n"
          "       [--full[=BOOL]] [--insecure-options=LIST] [--os=OS] [--arch=ARCH]\n"
          "       [--platform=P] [--trust-keys-from-https[=BOOL]] IMAGE...\n\n"
          "  --pull-policy=POLICY       new: use a stored match, else fetch; update (default):\n"
          "                             discover again and revalidate (ETag, max-age);\n"
          "                             never: the store only\n"
          "  --signature=FILE           Signature of a file or URL image (default: IMAGE.asc)\n"
          "  -q, --quiet                No progress bar\n"
          "  --full                     Print full image IDs (default: sha512- + 64 hex)\n"
          "  --insecure-options=LIST    As the global option (image, tls, http)\n"
          "  --os=OS, --arch=ARCH       Discover for this os/arch instead of the host's\n"
          "  --platform=OS/ARCH[/VAR]   docker:// images: the index entry to fetch\n"
          "  --trust-keys-from-https    No key trusted for a NAME: trust the keys its\n"
          "                             discovery offers over https (shown, not asked)\n"
          "IMAGE is NAME[:VERSION][,LABEL=VALUE...], an https:// or http:// ACI URL, a\n"
          "file:// URL or path, or an image ID prefix (sha512-...)." },
        { "fly", 1, -1, verb_fly,
          "Run one trusted app as a host process in its own mount namespace (rkt fly)",
          run_args_fly_usage },
        { "gc", 0, -1, verb_gc,
          "Remove exited pods after a grace period, and expired prepared pods",
          "[--grace-period=DURATION (30m)] [--expire-prepared=DURATION (24h)] [--mark-only]" },
        { "help", 0, 1, verb_help, "Show help for pod or for one verb", "[VERB]" },
        { "image", 1, -1, verb_image, "Manage images in the local store",
          "SUBCOMMAND [OPTIONS] [ARGS...]\n\n"
          "Subcommands:\n"
          "  import FILE.aci...             Import local ACIs (needs --insecure-options=image:\n"
          "                                 no signature check; 'pod fetch' verifies)\n"
          "  import [--platform=OS/ARCH] [--name=NAME] ARCHIVE...\n"
          "                                 Import docker save archives and OCI layouts\n"
          "                                 (dir or tar), every image and tag in them\n"
          "  list [--format=text|json|json-pretty] [--no-legend[=BOOL]] [--full[=BOOL]]\n"
          "       [--fields=FIELD,...] [--sort=FIELD,...] [--order=asc|desc]\n"
          "                                 List stored images (--full: with provenance);\n"
          "                                 fields: id,name,size,importtime,lastused,latest,\n"
          "                                 provenance; sort (default importtime, asc) by\n"
          "                                 any but provenance\n"
          "  status [--format=text|json|json-pretty] ID|NAME\n"
          "                                 Show an image and where it came from: origin,\n"
          "                                 signer key, the trust that matched\n"
          "  rm ID|NAME...                  Remove images\n"
          "  cat-manifest [--pretty-print[=BOOL]] [--oci[=manifest|config]] ID|NAME\n"
          "                                 Print an image manifest, indented unless\n"
          "                                 --pretty-print=false (--oci: the stored registry\n"
          "                                 manifest or config of an OCI image, as stored\n"
          "                                 unless --pretty-print)\n"
          "  export [--overwrite[=BOOL]] ID|NAME OUT.aci\n"
          "                                 Write the stored ACI (same bytes, same ID); an\n"
          "                                 OCI image as an OCI layout + docker save tar\n"
          "  extract [--rootfs-only[=BOOL]] [--overwrite[=BOOL]] [--keep-privileges[=BOOL]]\n"
          "          ID|NAME DIR\n"
          "                                 Unpack an image (re-checked against its ID)\n"
          "  render [--rootfs-only[=BOOL]] [--overwrite[=BOOL]] [--keep-privileges[=BOOL]]\n"
          "         ID|NAME DIR\n"
          "                                 Like extract, with the image's dependencies\n"
          "                                 layered below it and pathWhitelist applied\n"
          "  gc [--grace-period=24h]        Remove images unused for the grace period,\n"
          "                                 orphaned trees and blobs, stale temp files\n"
          "  verify [ID|NAME...]            Re-hash blobs and check trees; fails on damage\n"
          "  build [--compression=none|gzip|zstd|xz] [--reproducible[=BOOL]]\n"
          "        [--overwrite[=BOOL]] DIR OUT.aci\n"
          "                                 Write DIR (manifest + rootfs/) as an ACI (an\n"
          "                                 existing OUT only with --overwrite);\n"
          "                                 --reproducible uses SOURCE_DATE_EPOCH or 0\n"
          "  validate FILE.aci...           Check structure, entries and manifest\n\n"
          "BOOL is true or false (a boolean flag alone means true).\n"
          "ID is a full image ID, a unique prefix (sha512- and at least 2 hex digits) or\n"
          "NAME[:VERSION][,LABEL=VALUE...]." },
        { "list", 0, -1, verb_list, "List pods and their state",
          "[--full[=true|false]] [--no-legend[=true|false]] [--format=text|json|json-pretty]" },
        { "prepare", 1, -1, verb_prepare,
          "Prepare a pod from images (run it later with run-prepared); prints its UUID",
          run_args_usage },
        { "rm", 0, -1, verb_rm, "Remove pods that are not running", "UUID...|--uuid-file=PATH" },
        { "run", 1, -1, verb_run, "Run a pod from images; exits with the app's status",
          run_args_usage },
        { "run-prepared", 1, -1, verb_run_prepared, "Run a prepared pod",
          "[--net=...] [--port=...] [--hosts-entry=...] [--hostname=NAME] [--interactive]\n"
          "       [--dns=host|none|IP...] [--dns-search=D] [--dns-opt=O] [--dns-domain=D]\n"
          "       [--keep-unit|--no-keep-unit] [--insecure-options=LIST] UUID\n\n"
          "  --net=host|none|default|NAME[:ARGS][,NAME[:ARGS]...]\n"
          "                             Network (default: default, a CNI bridge)\n"
          "  --port=NAME:[HOSTIP:]HOSTPORT  Forward a host port to app port NAME\n"
          "  --hosts-entry=IP=NAME[,NAME]|host  Add an /etc/hosts line (host: the host's)\n"
          "  --hostname=NAME            Pod hostname (default: pod-<uuid>)\n"
          "  --interactive              Single app, stdin and tty passed through\n"
          "  --dns=host|none|IP         /etc/resolv.conf: the host's (default), the\n"
          "                             image's, or one naming these servers\n"
          "  --dns-search, --dns-opt, --dns-domain  search, options, domain lines (with IPs)\n"
          "  --keep-unit, --no-keep-unit  Run in the calling service / always in\n"
          "                             pod-<uuid>.scope (default: detect)\n"
          "  --insecure-options=LIST    capabilities, paths, seccomp: disable each" },
        { "status", 0, 1, verb_status, "Show the status of a pod",
          "[--wait[=true|false|DURATION]] [--wait-ready[=true|false|DURATION]]\n"
          "       [--format=text|json|json-pretty] "
          "UUID|--uuid-file=PATH" },
        { "stop", 0, -1, verb_stop, "Stop running pods (SIGTERM, or SIGKILL with --force)",
          "[--force] UUID...|--uuid-file=PATH" },
        { "trust", 0, -1, verb_trust, "Trust a signing key for an image name prefix or all images",
          "[--prefix=PREFIX | --root] [--skip-fingerprint-review] [--insecure-allow-http]\n"
          "       [KEYFILE|URL...]\n"
          "       pod trust --list\n\n"
          "  --prefix=PREFIX            Trust the key for image names under PREFIX; without\n"
          "                             KEYFILE|URL, discover it (ac-discovery-pubkeys)\n"
          "  --root                     Trust the key for every image (needs KEYFILE|URL)\n"
          "  --skip-fingerprint-review  Do not ask for confirmation (for scripts)\n"
          "  --insecure-allow-http      Keys and discovery over plain http (rkt's flag; as\n"
          "                             --insecure-options=http,pubkey)\n"
          "  --list                     List trusted keys (vendor and admin)\n"
          "Key URLs must be https:// unless --insecure-options=pubkey is given" },
        { "version", 0, 0, verb_version, "Show versions, libraries and usable kernel features",
          "" },
};

const struct pod_verb *pod_verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

int pod_usage_error(const char *verb, const char *fmt, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (verb)
                log_error("%s. Try 'pod help %s'.", buf, verb);
        else
                log_error("%s. Try 'pod --help'.", buf);
        return -EINVAL;
}

int pod_bool_arg(const char *verb, const char *flag, const char *value, bool *ret) {
        if (!value) {
                *ret = true;
                return 0;
        }
        if (pod_parse_bool(value, ret) >= 0)
                return 0;
        return pod_usage_error(verb, "Invalid value '%s' for --%s: expected true or false", value,
                               flag);
}

static void print_global_help(void) {
        printf("pod - a daemonless, systemd-native container runtime (appc images)\n\n"
               "Usage: pod [GLOBAL OPTIONS] VERB [ARGS...]\n\n"
               "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-16s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nGlobal options:\n"
               "  --dir=DIR                 State directory (default %s)\n"
               "  --local-config=DIR        Admin configuration (default %s)\n"
               "  --system-config=DIR       Vendor configuration (default %s)\n"
               "  --user-config=DIR         The user's trust and auth (default\n"
               "                            $XDG_CONFIG_HOME/pod or ~/.config/pod)\n"
               "  --insecure-options=LIST   Disable checks: none,image,tls,http,pubkey,\n"
               "                            capabilities,paths,seccomp,devices,all-fetch,\n"
               "                            all-run,all\n"
               "  --debug                   Verbose messages (also POD_LOG_LEVEL=debug)\n"
               "  -h, --help                Show this help\n"
               "  --version                 Same as 'pod version'\n\n"
               "Exit status: 0 on success, 254 when pod itself fails; 'pod run' returns the\n"
               "app's status (128+N when it was killed by signal N).\n"
               "See 'pod help VERB' and pod(1).\n",
               arg_dir ?: "$XDG_DATA_HOME/pod", arg_sysconfdir, arg_vendordir);
}

static void print_verb_help(const struct pod_verb *v) {
        printf("Usage: pod %s %s\n\n%s.\n", v->name, v->usage, v->summary);
}

int verb_help(int argc, char *argv[]) {
        const struct pod_verb *v;

        if (argc < 2) {
                print_global_help();
                return 0;
        }
        v = pod_verb_find(argv[1]);
        if (!v)
                return pod_usage_error(NULL, "Unknown verb '%s'", argv[1]);
        print_verb_help(v);
        return 0;
}

/* rkt's names: --local-config is the admin's directory (/etc/pod), --system-config the
 * vendor's (/usr/lib/pod); --user-config the user's own trust and auth. */
enum {
        ARG_DIR = 0x100,
        ARG_SYSCONF,
        ARG_LOCALCONF,
        ARG_USERCONF,
        ARG_INSECURE,
        ARG_DEBUG,
        ARG_VERSION
};

static bool arg_dir_given;

static int parse_global(int argc, char *argv[]) {
        static const struct option options[] = {
                { "dir", required_argument, NULL, ARG_DIR },
                { "system-config", required_argument, NULL, ARG_SYSCONF },
                { "local-config", required_argument, NULL, ARG_LOCALCONF },
                { "user-config", required_argument, NULL, ARG_USERCONF },
                { "insecure-options", required_argument, NULL, ARG_INSECURE },
                { "debug", optional_argument, NULL, ARG_DEBUG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        /* '+': stop at the first non-option (the verb); verb flags are the verb's. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                const char *bad = NULL;
                unsigned bits;

                switch (c) {
                case ARG_DIR:
                        arg_dir = optarg;
                        arg_dir_given = true;
                        break;
                case ARG_SYSCONF:
                        arg_vendordir = optarg;
                        break;
                case ARG_LOCALCONF:
                        arg_sysconfdir = optarg;
                        break;
                case ARG_USERCONF:
                        arg_userdir = optarg;
                        break;
                case ARG_INSECURE:
                        if (pod_insecure_parse(optarg, &bits, &bad) < 0)
                                return pod_usage_error(NULL, "Unknown insecure option '%s'", bad);
                        arg_insecure |= bits;
                        break;
                case ARG_DEBUG:
                        if (pod_bool_arg(NULL, "debug", optarg, &arg_debug) < 0)
                                return -EINVAL;
                        if (arg_debug)
                                log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        return 1;
                case ARG_VERSION:
                        return 2;
                case '?':
                default:
                        return pod_usage_error(NULL, "Unknown option '%s'", argv[optind - 1]);
                }
        }
        return 0;
}

/* $XDG_CONFIG_HOME/pod, else $HOME/.config/pod (rkt's user config, under pod's name); NULL
 * without either.  Kept for the process: it is one of pod's global options. */
static const char *default_userdir(void) {
        static char path[PATH_MAX];
        const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");

        if (x && x[0] == '/')
                (void)snprintf(path, sizeof(path), "%s/pod", x);
        else if (h && h[0] == '/')
                (void)snprintf(path, sizeof(path), "%s/.config/pod", h);
        else
                return NULL;
        return path;
}

/* A rootless user's state directory: $XDG_DATA_HOME/pod, else $HOME/.local/share/pod (the XDG
 * base directory spec; relative values are to be ignored); NULL without either. */
static const char *default_rootless_dir(void) {
        static char path[PATH_MAX];
        const char *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");

        if (x && x[0] == '/')
                (void)snprintf(path, sizeof(path), "%s/pod", x);
        else if (h && h[0] == '/')
                (void)snprintf(path, sizeof(path), "%s/.local/share/pod", h);
        else
                return NULL;
        return path;
}

/* $XDG_RUNTIME_DIR/pod for a rootless user (root's runtime files stay in /run/pod); NULL
 * without $XDG_RUNTIME_DIR: what needs it refuses then. */
static const char *default_rootless_runtimedir(void) {
        static char path[PATH_MAX];
        const char *x = getenv("XDG_RUNTIME_DIR");

        if (!x || x[0] != '/')
                return NULL;
        (void)snprintf(path, sizeof(path), "%s/pod", x);
        return path;
}

/* The verbs that do not put pod into a rootless user namespace: help and version need none,
 * and `enter` runs stage1 as the user itself, which joins the pod's own user namespace (one
 * made by an earlier pod, which the user owns) before its others. */
static bool verb_stays_outside(const char *name) {
        return streq(name, "enter") || streq(name, "version") || streq(name, "help");
}

/* Rootless: the user's own namespace, paths and environment for the programs pod runs. */
static int setup_rootless(const struct pod_verb *v) {
        struct pod_rootless rl = {};
        struct pod_error e = {};
        char id[16];
        int r;

        if (streq(v->name, "version") || streq(v->name, "help"))
                return 0;
        if (!arg_dir)
                return log_error_errno(-EINVAL,
                                       "Rootless pod keeps its state in $XDG_DATA_HOME/pod or "
                                       "$HOME/.local/share/pod, and neither is set: set one, or "
                                       "give --dir=DIR");
        if (verb_stays_outside(v->name)) {
                (void)snprintf(id, sizeof(id), "%u", (unsigned)geteuid());
                if (setenv(POD_ROOTLESS_UID_ENV, id, 1) < 0)
                        return log_error_errno(-errno, "Failed to set the environment: %m");
                (void)snprintf(id, sizeof(id), "%u", (unsigned)getegid());
                if (setenv(POD_ROOTLESS_GID_ENV, id, 1) < 0)
                        return log_error_errno(-errno, "Failed to set the environment: %m");
                return 0;
        }

        r = pod_rootless_enter(NULL, &rl, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        /* Once, where it matters: the verbs that store images or start pods (listing, status,
         * gc and the like stay quiet, so their stderr stays for errors). */
        if (rl.mode == POD_ROOTLESS_SINGLE &&
            (streq(v->name, "fetch") || streq(v->name, "image") || streq(v->name, "run") ||
             streq(v->name, "prepare") || streq(v->name, "run-prepared")))
                log_notice("Note: rootless pod with a single ID (%s): only your own user and "
                           "group exist in its user namespace, as root. Images with files owned "
                           "by anyone else cannot be stored, and apps run as root only. Add a "
                           "range for your user to /etc/subuid and /etc/subgid (and install "
                           "newuidmap/newgidmap) for more.",
                           rl.why_single);
        else if (rl.mode != POD_ROOTLESS_SINGLE)
                log_debug("Rootless: uids 0=%u 1-%u=%u+, gids 0=%u 1-%u=%u+", (unsigned)rl.uid,
                          (unsigned)rl.subuid.count, (unsigned)rl.subuid.start, (unsigned)rl.gid,
                          (unsigned)rl.subgid.count, (unsigned)rl.subgid.start);

        /* Made here (0700, the user's) so stage1 finds it; stage1 gets it as POD_RUNTIME_DIR
         * (stage1/ABI.md) and refuses what needs it when it is missing. */
        if (arg_runtimedir) {
                if (mkdir(arg_runtimedir, 0700) < 0 && errno != EEXIST)
                        return log_error_errno(-errno, "Failed to create '%s': %m", arg_runtimedir);
                if (setenv("POD_RUNTIME_DIR", arg_runtimedir, 1) < 0)
                        return log_error_errno(-errno, "Failed to set the environment: %m");
        } else
                (void)unsetenv("POD_RUNTIME_DIR");
        return 0;
}

int main(int argc, char *argv[]) {
        const struct pod_verb *v;
        int r, nargs;

        log_parse_environment();

        r = parse_global(argc, argv);
        if (r < 0)
                return POD_EXIT_FAILURE;
        if (!arg_userdir)
                arg_userdir = default_userdir();
        arg_rootless = geteuid() != 0;
        if (arg_rootless) {
                if (!arg_dir_given)
                        arg_dir = default_rootless_dir();
                arg_runtimedir = default_rootless_runtimedir();
        }
        if (r == 1) {
                print_global_help();
                return 0;
        }
        if (r == 2)
                return verb_version(1, (char *[]){ (char *)"version", NULL }) < 0 ? POD_EXIT_FAILURE
                                                                                  : 0;
        if (optind >= argc) {
                print_global_help();
                return POD_EXIT_FAILURE;
        }

        v = pod_verb_find(argv[optind]);
        if (!v) {
                (void)pod_usage_error(NULL, "Unknown verb '%s'", argv[optind]);
                return POD_EXIT_FAILURE;
        }

        argc -= optind;
        argv += optind;

        /* "pod VERB --help" everywhere, before the verb's own parser sees it. */
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        print_verb_help(v);
                        return 0;
                }

        /* Positional count check for verbs without their own flags handling. */
        nargs = argc - 1;
        if (v->max_args == 0 && nargs > 0) {
                (void)pod_usage_error(v->name, "'%s' takes no arguments", v->name);
                return POD_EXIT_FAILURE;
        }

        if (arg_rootless) {
                r = setup_rootless(v);
                if (r < 0)
                        return POD_EXIT_FAILURE;
        }

        optind = 0;
        opterr = 1;
        r = v->fn(argc, argv);
        if (r < 0)
                return POD_EXIT_FAILURE;
        return r;
}
