/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* appc image manifests (spec section 3) and pod manifests (section 4): parse from bytes,
 * validate, serialise back to JSON.  Parsing is tolerant where rkt's Go decoder was
 * (object keys matched case-insensitively, unknown keys ignored, "supplementaryGIDs" and
 * "supplementaryGids" both accepted) and strict on what matters (kinds, versions, names,
 * labels, app, ports, paths).  Errors name the field path: "manifest: app.ports[1].port: ...".
 * Owns: the in-memory manifest types, their JSON form and validation.
 * Does not own: reading files, rootfs checks (working directory existence), merging a pod
 * app's override with its image (callers pick app ?: image app), or enforcing isolators. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "isolator.h"
#include "macro.h"

#define POD_AC_VERSION   "0.8.11"    /* what we write */
#define POD_MANIFEST_MAX (16u << 20) /* refuse larger manifest texts (-EFBIG) */

struct pod_kv {
        char *name;
        char *value;
}; /* labels, annotations, environment, userLabels/userAnnotations, sysctl */

struct pod_mount_point {
        char *name;     /* AC Name */
        char *path;     /* absolute */
        bool read_only; /* default false */
};

struct pod_port {
        char *name;     /* AC Name */
        char *protocol; /* "tcp", "udp", ... (non-empty) */
        unsigned port;  /* 1..65535 */
        unsigned count; /* >= 1, default 1; port + count - 1 <= 65535 */
        bool socket_activated;
};

struct pod_app {
        char **exec; /* NULL-terminated argv, NULL when absent or [] */
        char *user;  /* required: name, number or absolute path */
        char *group; /* required */
        uint32_t *supplementary_gids;
        size_t n_supplementary_gids;
        char *working_directory; /* absolute, NULL when absent (means "/") */
        struct pod_kv *environment;
        size_t n_environment;
        char **pre_start; /* eventHandlers "pre-start" exec, NULL when absent */
        char **post_stop; /* eventHandlers "post-stop" exec, NULL when absent */
        struct pod_mount_point *mount_points;
        size_t n_mount_points;
        struct pod_port *ports;
        size_t n_ports;
        struct pod_isolator *isolators;
        size_t n_isolators;
        struct pod_kv *user_annotations;
        size_t n_user_annotations;
        struct pod_kv *user_labels;
        size_t n_user_labels;
};

struct pod_dependency {
        char *image_name; /* AC Identifier, required */
        char *image_id;   /* "sha512-<hex>" or NULL */
        struct pod_kv *labels;
        size_t n_labels;
        uint64_t size; /* 0 when absent */
};

struct pod_image_manifest {
        char *ac_version; /* semver */
        char *name;       /* AC Identifier */
        struct pod_kv *labels;
        size_t n_labels;
        struct pod_app *app; /* NULL if absent */
        struct pod_dependency *dependencies;
        size_t n_dependencies;
        char **path_whitelist; /* NULL-terminated absolute paths, NULL when absent */
        struct pod_kv *annotations;
        size_t n_annotations;
};

enum pod_volume_kind {
        POD_VOLUME_HOST,
        POD_VOLUME_EMPTY,
        _POD_VOLUME_KIND_MAX,
        _POD_VOLUME_KIND_INVALID = -EINVAL,
};

struct pod_volume {
        char *name; /* AC Name */
        enum pod_volume_kind kind;
        bool read_only; /* default false */
        char *source;   /* host: absolute, required; empty: NULL */
        bool recursive; /* host: default true */
        bool suid;      /* host: honour setuid/setgid bits and file capabilities (pod's own
                         * "suid" key, not in appc; default false: mounted nosuid) */
        bool idmap;     /* host: mounted idmapped through the pod's user namespace, so host ID
                         * N is N inside (pod's own "idmap" key; needs --private-users) */
        mode_t mode;    /* empty: default 0755 (JSON: string "0755") */
        uid_t uid;      /* empty: default 0 */
        gid_t gid;      /* empty: default 0 */
};

struct pod_mount {
        char *volume;                  /* AC Name */
        char *path;                    /* absolute path inside the app (or a mountPoint name, as rkt
                                        * accepted); non-empty */
        struct pod_volume *app_volume; /* inline volume, NULL if absent */
};

struct pod_runtime_image {
        char *name; /* AC Identifier or NULL */
        char *id;   /* required: "sha512-" + 64 or 128 lowercase hex */
        struct pod_kv *labels;
        size_t n_labels;
};

struct pod_runtime_app {
        char *name; /* AC Name, unique in the pod */
        struct pod_runtime_image image;
        struct pod_app *app; /* override of the image's whole app, NULL if absent */
        bool read_only_root_fs;
        struct pod_mount *mounts;
        size_t n_mounts;
        struct pod_kv *annotations;
        size_t n_annotations;
};

/* Pod manifest "ports": a host port forwarded to the app port "name" (image manifest
 * app.ports; several entries may name one app port).  No two entries share a hostPort on
 * the same hostIP (absent: every address, so it clashes with any entry for that port). */
struct pod_exposed_port {
        char *name;         /* AC Name of an app port */
        unsigned host_port; /* 1..65535 */
        char *host_ip;      /* IPv4/IPv6 literal, NULL if absent */
        unsigned pod_port;  /* 0 if absent, else 1..65535 */
};

struct pod_pod_manifest {
        char *ac_version;
        struct pod_runtime_app *apps;
        size_t n_apps;
        struct pod_volume *volumes;
        size_t n_volumes;
        struct pod_isolator *isolators;
        size_t n_isolators;
        struct pod_kv *annotations;
        size_t n_annotations;
        struct pod_exposed_port *ports;
        size_t n_ports;
        struct pod_kv *user_annotations;
        size_t n_user_annotations;
        struct pod_kv *user_labels;
        size_t n_user_labels;
};

/* Image manifest.  text need not be NUL-terminated; size > POD_MANIFEST_MAX gives -EFBIG.
 * -EBADMSG for JSON syntax (message has byte offset and line), -EINVAL for rule violations,
 * -ENOMEM. */
int pod_image_manifest_parse(const char *text, size_t size, struct pod_image_manifest **ret,
                             struct pod_error *reterr);
struct pod_image_manifest *pod_image_manifest_free(struct pod_image_manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_image_manifest *, pod_image_manifest_free)
/* Serialises to canonical JSON (pretty-printed, keys in spec spelling); *ret is malloc'ed. */
int pod_image_manifest_to_json(const struct pod_image_manifest *m, char **ret);
/* Re-checks every rule on an in-memory manifest (e.g. one built by code). */
int pod_image_manifest_validate(const struct pod_image_manifest *m, struct pod_error *reterr);

/* Pod manifest, same conventions. */
int pod_pod_manifest_parse(const char *text, size_t size, struct pod_pod_manifest **ret,
                           struct pod_error *reterr);
struct pod_pod_manifest *pod_pod_manifest_free(struct pod_pod_manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_pod_manifest *, pod_pod_manifest_free)
int pod_pod_manifest_to_json(const struct pod_pod_manifest *m, char **ret);
int pod_pod_manifest_validate(const struct pod_pod_manifest *m, struct pod_error *reterr);
/* The first volume (pod-level, then apps' inline appVolumes) with "idmap": true, or NULL. */
const struct pod_volume *pod_pod_manifest_idmap_volume(const struct pod_pod_manifest *m);
/* The refusal of such a volume in a pod without a user namespace (stage0 and stage1). */
#define POD_VOLUME_IDMAP_NEEDS_USERNS                                                   \
        "Volume '%s': idmap=true (\"idmap\": true) needs --private-users: it maps the " \
        "volume's IDs through the pod's user namespace, and this pod has none"

/* Value of the first entry called name, or NULL. */
const char *pod_kv_get(const struct pod_kv *list, size_t n, const char *name);
/* Appends (name, value) copies to *list; -EEXIST if name is already there. */
int pod_kv_add(struct pod_kv **list, size_t *n, const char *name, const char *value);
struct pod_kv *pod_kv_free(struct pod_kv *list, size_t n);

struct pod_app *pod_app_free(struct pod_app *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_app *, pod_app_free)
/* Deep copy (e.g. to put an image's app into a pod manifest). */
int pod_app_copy(const struct pod_app *a, struct pod_app **ret);

/* Semantic version 2.0 check for acVersion. */
bool pod_semver_valid(const char *s);
/* os/arch label whitelist (appc spelling, section 3): true when the pair is known. */
bool pod_os_arch_valid(const char *os, const char *arch);
