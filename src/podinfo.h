/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What `pod list` and `pod status` show about a pod, gathered from its directory with a
 * handful of openat/fstatat calls and one lock probe per pod (no exec, no per-pod
 * process), and its JSON form.
 *
 * Networks come from "net-info.json" in the pod directory, written by stage1's network
 * setup in rkt's format: a JSON array of objects with at least "netName" and "ip"
 * (optionally "ifName", "mask", "hostIP"); absent = no networks known.
 *
 * Owns: struct pod_info, reading it, enumerating all pods, JSON output.  Does not own:
 * the state machine (poddir.h), parsing pod manifests (manifest.h; a pod whose manifest is
 * missing or does not parse is still listed, without apps). */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "macro.h"
#include "poddir.h"

struct pod_pod_manifest;
struct pod_provenance;

struct pod_info_app {
        char *name;
        char *image_name; /* NULL if the manifest has none */
        char *image_id;   /* NULL if the manifest has none */
        /* NULL unless the caller loaded it from the store (pod status); shown in JSON. */
        struct pod_provenance *provenance;
        int exit_code;
        bool has_exit_code;       /* status/<app> was there (POD_INFO_EXIT_CODES) */
        struct timespec finished; /* mtime of status/<app> (POD_INFO_EXIT_CODES); 0: unknown */
};

/* One entry of net-info.json; everything but name may be NULL. */
struct pod_info_net {
        char *name;
        char *ip;
        char *ifname;
        char *conf;   /* "netConf": the configuration file */
        char *plugin; /* "pluginPath" */
        char *args;   /* "args": CNI_ARGS */
        char *mask;
        char *host_ip; /* "hostIP": the gateway */
};

struct pod_info {
        char uuid[POD_UUID_STRING_MAX];
        enum pod_phase phase;
        enum pod_state state;
        struct timespec created, started; /* tv_sec == 0: unknown */
        pid_t pid;                        /* 0: unknown */
        char *unit;                       /* NULL: unknown */
        struct pod_info_app *apps;
        size_t n_apps;
        bool manifest_missing; /* no readable "pod" file (preparing, or damaged) */
        struct pod_info_net *nets;
        size_t n_nets;
        /* --private-users: the pod dir's "private-users" (userns-alloc.h); count 0: none (or
         * unreadable) */
        uint32_t private_users_base, private_users_count;
        /* The parsed manifest (POD_INFO_MANIFEST), NULL if not asked for or unreadable: user
         * annotations and labels, mounts. */
        struct pod_pod_manifest *manifest;
};

enum {
        POD_INFO_EXIT_CODES = 1 << 0,    /* read status/<app> of pods that are not running */
        POD_INFO_PID = 1 << 1,           /* read the pid value (its mtime, "started", always) */
        POD_INFO_MANIFEST = 1 << 2,      /* also parse the whole manifest (what JSON shows) */
        POD_INFO_PRIVATE_USERS = 1 << 3, /* read "private-users" (status, JSON) */
};

/* Frees n apps (as pod_info_parse_apps() returns them) and the array. */
void pod_info_apps_free(struct pod_info_app *a, size_t n);
struct pod_info *pod_info_free(struct pod_info *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_info *, pod_info_free)

/* The apps' names and image names in a pod manifest's text, without building a JSON tree:
 * what `pod list` shows.  Checks the JSON syntax and the names; whatever
 * pod_pod_manifest_parse() accepts gives the same names.  -EBADMSG if it does not scan. */
int pod_info_parse_apps(const char *text, size_t size, struct pod_info_app **ret, size_t *ret_n);

/* From an open pod directory; locked says whether its lock is held (by anyone). */
int pod_info_load_fd(int fd, const char *uuid, enum pod_phase phase, bool locked, unsigned flags,
                     struct pod_info **ret);
/* From a pod handle (probes the lock unless we hold it). */
int pod_info_load(struct pod_poddir *p, unsigned flags, struct pod_info **ret);

/* Every pod in every phase, sorted by creation time then UUID.  A pod moving between
 * phases while we read is shown once, in its later phase; one deleted meanwhile is
 * skipped.  The lock probe of each pod is a LOCK_SH|LOCK_NB kept while its files are read
 * (so it cannot be deleted under us), about a dozen system calls per pod in all. */
int pod_info_list(int pods_fd, unsigned flags, struct pod_info ***ret, size_t *ret_n);
void pod_info_list_free(struct pod_info **l, size_t n);

/* JSON: one pod, or an array of pods, as rkt's api/v1 "Pod" (rkt list/status
 * --format=json): "name", "state", "networks" (netName, netConf, pluginPath, ifName, ip, args,
 * mask: strings), "app_names", "apps" (name, state, created_at/started_at/finished_at in
 * nanoseconds, exit_code, image_id, mounts, user_annotations, user_labels), "created_at" and
 * "started_at" in seconds (rkt's Unix()), "user_annotations", "user_labels"; empty ones left
 * out as rkt's omitempty does.  pod's own additions use names rkt never had: "phase", "pid",
 * "unit", "exited", "private_users" ({"base": N, "count": N}, only for pods with
 * --private-users), per app "image_name" and "provenance", per network "hostIP".  Pretty
 * output is indented with tabs, as rkt's.  *ret is malloc'ed text. */
int pod_info_to_json(const struct pod_info *i, bool pretty, char **ret);
int pod_info_list_to_json(struct pod_info *const *l, size_t n, bool pretty, char **ret);

/* The pod manifest text, re-indented when pretty (and checked to be JSON either way). */
int pod_info_manifest_text(int fd, bool pretty, char **ret, struct pod_error *reterr);
