/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The rkt-compatible command line of "pod run" and "pod prepare":
 *   pod run [POD FLAGS] IMAGE [APP FLAGS] [-- ARGS...] [--- IMAGE [APP FLAGS] [-- ARGS...]]...
 * Pod flags come before the first image; app flags follow the image they apply to.  "--"
 * starts the app's arguments, which run until "---" (the next app) or the end.  Several
 * images may also simply follow each other.
 * Owns: turning argv into struct run_args, with the misuse named.  Does not know what the
 * values mean beyond their syntax (volumes, quantities ... are validated later). */

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct run_app_args {
        char *image;
        char *exec;
        char *name;
        char *user;
        char *group;
        char *supplementary_gids; /* comma-separated, as given */
        char *working_dir;
        char **environment; /* K=V */
        char *memory;
        char *cpu;
        char *caps_retain;
        char *caps_remove;
        char *seccomp;
        char **mounts; /* volume=NAME,target=PATH */
        char *signature;
        char *oom_score_adj;     /* os/linux/oom-score-adj, -1000..1000 */
        char *cpu_shares;        /* os/linux/cpu-shares, 2..262144 */
        char **annotations;      /* K=V: the pod manifest app's "annotations" */
        char **user_annotations; /* K=V: the app's "userAnnotations" (rkt run's) */
        char **user_labels;      /* K=V: the app's "userLabels" (--user-label, --label) */
        bool readonly_rootfs;    /* this app's --readonly-rootfs (or the pod's) */
        char **args;             /* after "--" */
        bool have_args;          /* "--" was given (possibly with no args: replaces exec's args) */
};

struct run_args {
        char *uuid_file_save;
        char *hostname;
        char **volumes; /* NAME,kind=host,source=... */
        char **mounts;  /* pod-level --mount */
        char **set_env; /* K=V */
        char **set_env_file;
        bool inherit_env;
        bool interactive;
        bool no_overlay;
        char *rootfs; /* --rootfs=auto|overlay|copy (rootfs-mode.h); NULL: not given */
        char *net;
        char **dns;
        char **dns_search;
        char **dns_opt;
        char *dns_domain;
        char **hosts_entry;
        char **ports;
        int keep_unit; /* -1 auto, 0 --no-keep-unit, 1 --keep-unit */
        bool readonly_rootfs;
        char *pull_policy;
        char *platform;    /* docker:// images: os/arch[/variant] to pick from an index */
        unsigned insecure; /* --insecure-options given after the verb, OR-ed with the global */
        bool quiet;
        bool mds_register;   /* rkt's --mds-register (the metadata service: not yet) */
        char *ipc;           /* --ipc=auto|private|parent, NULL: auto */
        char *pod_manifest;  /* --pod-manifest=FILE: no IMAGE, no app flags */
        char *private_users; /* --private-users[=VALUE]: "pick" when bare; NULL: not given */
        char *private_users_ownership; /* auto|map|chown; NULL: userns.conf's, else auto */
        /* rkt's stage1 selection (at most one; stage0/verb-run.c): a binary, a name in pod's
         * stage1 directory, or a stage1 image by name, ID or URL. */
        char *stage1_path;
        char *stage1_from_dir;
        char *stage1_name;
        char *stage1_hash;
        char *stage1_url;
        /* Before the first image (rkt app sandbox's pod-level flags): the pod manifest's
         * "annotations", "userAnnotations" and "userLabels", K=V each. */
        char **annotations;
        char **user_annotations;
        char **user_labels;

        struct run_app_args *apps;
        size_t n_apps;
};

/* argv[0] is the verb name.  Returns 0, or -EINVAL with reterr naming the bad argument. */
int run_args_parse(int argc, char *argv[], struct run_args *ret, struct pod_error *reterr);
void run_args_done(struct run_args *a);

/* The flag list for "pod help run" and the man page check. */
extern const char run_args_usage[];
extern const char run_args_fly_usage[];
