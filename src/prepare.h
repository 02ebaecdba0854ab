/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* stage0's half of running a pod (issue 4, appc digest sections 4, 9, 11): from image
 * references and overrides to a prepared pod directory, and from a pod directory in run/ to
 * the exec of pod-stage1 (stage1/ABI.md).
 *
 *   1. every app's image is fetched with the rules of fetch.h (signatures on);
 *   2. the reified pod manifest is built: the image's app with the overrides applied (exec,
 *      user, group, environment with rkt's precedence, isolators), volumes, mounts (image
 *      mountPoints without a volume get an empty one, as rkt did), then validated;
 *   3. the pod directory is created (poddir.h) and filled: "pod", appsinfo/<app>/manifest and
 *      stage1/rootfs/opt/stage2/<app>/rootfs.
 *
 * The app trees (prepare-tree.h): the store's trees themselves are the overlay's lower dirs
 * (listed in the pod dir, nothing created per file), kept by the store while the pod exists
 * (podusers.h); with no_overlay a private copy that the apps write to.  Apps of Docker/OCI
 * images follow docker run's exec rule (--exec replaces the Entrypoint and drops the Cmd,
 * arguments replace the Cmd) and its User rule (stage1 resolves the primary group).
 *
 * Owns: the meaning of the run/prepare values (volume and mount specs, environment files,
 * quantities, seccomp specs), the pod manifest stage0 writes, the rootfs copies, the stage1
 * command line.  Does not own: command-line syntax (stage0/run-args.c), the pod directory
 * state machine (poddir.h), enforcing anything (stage1). */

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "fetch.h"

struct pod_pod_manifest;
struct pod_poddir;
struct pod_store;

struct pod_prepare_app {
        const char *image;     /* reference, as for pod fetch */
        const char *signature; /* local signature file, NULL: default */
        const char *name;      /* NULL: from the image name */
        const char *exec;      /* replaces exec[0] */
        char **args;           /* replace exec[1..] when have_args */
        bool have_args;
        const char *user;
        const char *group;
        const char *supplementary_gids; /* "GID[,GID...]" */
        const char *working_dir;
        char **environment; /* K=V, highest precedence */
        const char *memory; /* k8s quantity */
        const char *cpu;    /* k8s quantity (cores) */
        const char *caps_retain;
        const char *caps_remove;
        const char *seccomp;       /* mode=retain|remove[,errno=E],SYSCALL|@GROUP,... */
        char **mounts;             /* volume=NAME,target=PATH */
        bool readonly_rootfs;      /* this app's root is read-only (as with the pod-wide flag) */
        const char *oom_score_adj; /* "-1000".."1000": isolator os/linux/oom-score-adj */
        const char *cpu_shares;    /* "2".."262144": isolator os/linux/cpu-shares */
        char **annotations;        /* K=V (K an AC Identifier): apps[].annotations */
        char **user_annotations;   /* K=V: apps[].app.userAnnotations */
        char **user_labels;        /* K=V: apps[].app.userLabels */
};

struct pod_prepare_options {
        struct pod_fetch_options fetch; /* insecure, pull policy, keystore, progress */
        const struct pod_prepare_app *apps;
        size_t n_apps;
        char **volumes;      /* NAME,kind=host,source=/ABS[,readOnly=B][,recursive=B][,suid=B]
                              * [,idmap=B] or
                              * NAME,kind=empty[,mode=0755][,uid=N][,gid=N][,readOnly=B] */
        char **mounts;       /* pod level: every app */
        char **ports;        /* NAME:[HOSTIP:]HOSTPORT: the pod manifest's "ports" */
        char **set_env;      /* K=V */
        char **set_env_file; /* files of K=V lines ('#' comments, empty lines) */
        char **inherit_env;  /* environ to inherit (NULL: none) */
        bool readonly_rootfs;
        bool no_overlay;
        const char *fuse_overlayfs; /* rootless: the overlay through this program (rootfs-mode.h) */
        const char *uuid_file_save;
        bool no_sync; /* the pod runs right away (pod run): no fsync of its files (poddir.h) */
        char **annotations;      /* K=V: the pod manifest's "annotations" */
        char **user_annotations; /* K=V: its "userAnnotations" */
        char **user_labels;      /* K=V: its "userLabels" */
        /* --pod-manifest: a pod manifest file used as given (apps, volumes, ...), instead of
         * apps and the options above.  Every app's image is resolved as pod fetch would:
         * image.id (a stored image, any unique prefix) or else image.name with
         * image.labels; the written manifest then carries the full ID. */
        const char *pod_manifest;
        /* The stage1 chosen with --stage1-*, recorded in the pod dir (stage1sel.h): an
         * absolute path, or with stage1_image the ID of a stage1 image (pinned like the
         * apps' images: in use while the pod exists).  NULL: the built-in stage1. */
        const char *stage1;
        bool stage1_image;
        /* --private-users (userns-alloc.h): NULL or POD_USERNS_NO for none.  Otherwise a range
         * is allocated under data_fd (the --dir) right after the pod directory exists and
         * recorded in it as "private-users"; if that fails, the pod directory is removed. */
        const struct pod_userns_request *private_users;
        int data_fd;
};

/* Fetches the images and builds the reified, validated pod manifest.  *ret_image_ids gets
 * one full image ID per app (NULL-terminated). */
int pod_prepare_manifest(struct pod_store *s, const struct pod_prepare_options *o,
                         struct pod_pod_manifest **ret, char ***ret_image_ids,
                         struct pod_error *reterr);

/* pod_prepare_manifest(), then a new pod directory (left in prepare/, locked by us) with
 * every file stage1 reads.  On failure after the directory was made, it stays behind
 * unlocked in prepare/ (an aborted prepare, which `pod gc` removes). */
int pod_prepare(struct pod_store *s, int pods_fd, const struct pod_prepare_options *o,
                struct pod_poddir **ret, struct pod_error *reterr);

/* The pod dir's record of fuse_overlayfs ("stage0-fuse-overlayfs": the program's path and a
 * newline): the path, malloc'ed, in *ret; -ENOENT without one. */
int pod_prepare_fuse_overlayfs(int pod_fd, char **ret);

/* Whether the pod was prepared with no_overlay (its app trees are private copies). */
bool pod_prepare_is_no_overlay(int pod_fd);

/* Parses "NAME,kind=..." (see volumes above) into v (caller releases its strings).  Host
 * sources must be absolute, exist and not be symlinks. */
struct pod_volume;
int pod_prepare_parse_volume(const char *spec, struct pod_volume *ret, struct pod_error *reterr);

/* --dns: NULL or {"host"} = the host's resolv.conf, {"none"} = the image's; else name
 * server addresses (IPv4/IPv6), written with search/opt/domain as "resolv.conf" in the pod
 * dir.  *ret_mode gets the stage1 --resolv-conf value ("host", "none", "pod"). */
int pod_prepare_resolv_conf(int pod_fd, char **dns, char **search, char **opt, const char *domain,
                            const char **ret_mode, struct pod_error *reterr);
/* The same checks without writing anything (before a pod dir exists). */
int pod_prepare_check_dns(char **dns, char **search, char **opt, const char *domain,
                          struct pod_error *reterr);

struct pod_stage1_options {
        const char *path; /* pod-stage1 */
        bool debug;
        const char *net;      /* "host", "none", "default" or NAME[:ARGS][,...] */
        char **ports;         /* --port=NAME:[HOSTIP:]HOSTPORT, passed on (run-prepared's;
                               * run and prepare put theirs in the pod manifest) */
        char **hosts_entries; /* --hosts-entry=..., passed on */
        const char *hostname;
        bool interactive;
        bool no_overlay;
        unsigned insecure;       /* POD_INSECURE_CAPABILITIES|PATHS|SECCOMP become --disable-* */
        int keep_unit;           /* -1 detect, 0 --no-keep-unit, 1 --keep-unit */
        const char *resolv_conf; /* "auto" (or NULL), "host", "none", "pod" */
        bool ipc_parent;         /* --ipc=parent: the pod stays in our IPC namespace */
        int mds_key_fd;          /* > 2: the metadata service's signing key (mds.h), passed as
                                  * $POD_MDS_KEY_FD; else stage1 makes up a key of the pod's own */
        bool sealed;             /* pod's own pod-stage1: executed from a sealed copy
                                  * (sealed-exec.h), which spares its re-execution */
};

/* The stage1 ABI we speak (stage1/ABI.md): passed to stage1 as $POD_STAGE1_ABI, which it
 * checks (another version: it refuses the pod, exit 254, naming both).  Checking is
 * stage1's job, so that no extra exec of it precedes every pod. */
#define POD_STAGE1_ABI          4
#define POD_STAGE1_ABI_STR_(x)  #x
#define POD_STAGE1_ABI_STR_X(x) POD_STAGE1_ABI_STR_(x)
#define POD_STAGE1_ABI_STR      POD_STAGE1_ABI_STR_X(POD_STAGE1_ABI)
#define POD_STAGE1_ABI_ENV      "POD_STAGE1_ABI"
/* Before a prepared pod runs: a pod whose manifest forwards ports ("ports", from prepare's
 * --port) cannot run with --net=host or --net=none (-EINVAL, naming the first port). */
int pod_prepare_check_net(int pod_fd, const char *net, struct pod_error *reterr);

/* Before anything is prepared: PATH is an executable file. */
int pod_stage1_check(const char *path, struct pod_error *reterr);

/* Execs stage1 for a pod in run/ that we hold locked: cwd = pod dir, POD_LOCK_FD; a pod dir
 * with "private-users" (userns-alloc.h) gets --private-users=BASE:COUNT (one that cannot be
 * read fails the pod).  Returns only on failure. */
int pod_stage1_exec(struct pod_poddir *p, const struct pod_stage1_options *o,
                    struct pod_error *reterr);
