/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verb table's contract.  A verb gets argv with argv[0] = verb name, parses its own
 * flags with getopt_long (optind is reset to 0 before the call), and returns:
 *   < 0   pod's own failure (already logged): exit status 254
 *   >= 0  the exit status (e.g. an app's, for run). */

#include <stdbool.h>

/* Global options, parsed by pod.c before the verb. */
extern const char *arg_dir;        /* --dir, default /var/lib/pod (rootless: $XDG_DATA_HOME/pod
                                    * or ~/.local/share/pod) */
extern const char *arg_sysconfdir; /* --local-config, default /etc/pod */
extern const char *arg_vendordir;  /* --system-config for vendor files, default /usr/lib/pod */
extern const char *arg_userdir;    /* --user-config: the user's trust and auth, default
                                    * $XDG_CONFIG_HOME/pod or ~/.config/pod; "" none */
extern const char *arg_runtimedir; /* rootless: $XDG_RUNTIME_DIR/pod or NULL; root: NULL */
extern bool arg_rootless;          /* started by a user other than root (rootless.h) */
extern unsigned arg_insecure;      /* --insecure-options bits (insecure.h) */
extern bool arg_debug;

#define POD_EXIT_FAILURE 254

struct pod_verb {
        const char *name;
        int min_args; /* positional arguments after the verb's own flags */
        int max_args; /* -1: unlimited */
        int (*fn)(int argc, char *argv[]);
        const char *summary;
        const char *usage; /* flags and arguments, printed by "pod help VERB" */
};

const struct pod_verb *pod_verb_find(const char *name);
/* Prints "Try 'pod help VERB'." style hint and returns -EINVAL. */
int pod_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A boolean flag's value, pflag style (rkt's flags): absent (--flag) is true; --flag=VALUE
 * takes 1, t, T, true, TRUE, True and 0, f, F, false, FALSE, False.  Declare such flags
 * optional_argument.  Anything else: a usage error naming the flag (-EINVAL). */
int pod_bool_arg(const char *verb, const char *flag, const char *value, bool *ret);

int verb_version(int argc, char *argv[]);
int verb_help(int argc, char *argv[]);
int verb_image(int argc, char *argv[]);
int verb_fetch(int argc, char *argv[]);
int verb_trust(int argc, char *argv[]);

/* Implicit trust on a name fetch (verb-trust.c), as pod_fetch_options.no_trusted_key with a
 * struct trust_implicit_config as userdata. */
struct pod_auth;
struct pod_error;
struct trust_implicit_config {
        bool from_https; /* --trust-keys-from-https */
        const struct pod_auth *auth;
};
int trust_implicit(const char *name, void *userdata, struct pod_error *reterr);

/* run: pod lifecycle */
int verb_cat_manifest(int argc, char *argv[]);
int verb_config(int argc, char *argv[]);
int verb_enter(int argc, char *argv[]);
int verb_export(int argc, char *argv[]);
int verb_fly(int argc, char *argv[]);
int verb_gc(int argc, char *argv[]);
int verb_list(int argc, char *argv[]);
int verb_prepare(int argc, char *argv[]);
int verb_rm(int argc, char *argv[]);
int verb_run(int argc, char *argv[]);
int verb_run_prepared(int argc, char *argv[]);
int verb_status(int argc, char *argv[]);
int verb_stop(int argc, char *argv[]);
