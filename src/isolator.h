/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* appc isolators (spec section 5): parsing and validation of the "isolators" arrays of image
 * and pod manifests, and k8s-style resource quantities.
 * Owns: turning {"name": ..., "value": ...} into typed records (bytes, millicores, capability
 * masks, seccomp sets, ...), and the per-list rules (retain/remove exclusive, max 1).
 * Does not own: enforcing anything (stage1), nor deciding which isolators a stage1 supports
 * beyond marking the ones this parser does not know as POD_ISOLATOR_UNKNOWN. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct json_object;
struct pod_json_path;
struct pod_kv;

enum pod_isolator_type {
        POD_ISOLATOR_MEMORY,            /* resource/memory: bytes */
        POD_ISOLATOR_CPU,               /* resource/cpu: millicores */
        POD_ISOLATOR_BLOCK_BANDWIDTH,   /* resource/block-bandwidth: limit in bytes/s */
        POD_ISOLATOR_BLOCK_IOPS,        /* resource/block-iops: limit in ops/s */
        POD_ISOLATOR_NETWORK_BANDWIDTH, /* resource/network-bandwidth: limit in bytes/s */
        POD_ISOLATOR_CAPS_RETAIN,       /* os/linux/capabilities-retain-set */
        POD_ISOLATOR_CAPS_REMOVE,       /* os/linux/capabilities-remove-set */
        POD_ISOLATOR_NO_NEW_PRIVILEGES, /* os/linux/no-new-privileges */
        POD_ISOLATOR_SECCOMP_RETAIN,    /* os/linux/seccomp-retain-set */
        POD_ISOLATOR_SECCOMP_REMOVE,    /* os/linux/seccomp-remove-set */
        POD_ISOLATOR_OOM_SCORE_ADJ,     /* os/linux/oom-score-adj */
        POD_ISOLATOR_CPU_SHARES,        /* os/linux/cpu-shares */
        POD_ISOLATOR_SELINUX_CONTEXT,   /* os/linux/selinux-context */
        POD_ISOLATOR_APPARMOR_PROFILE,  /* os/linux/apparmor-profile */
        POD_ISOLATOR_SYSCTL,            /* os/unix/sysctl */
        POD_ISOLATOR_UNKNOWN,           /* kept verbatim, reported, not an error */
        _POD_ISOLATOR_TYPE_MAX,
        _POD_ISOLATOR_TYPE_INVALID = -EINVAL,
};

struct pod_isolator {
        char *name; /* as written, e.g. "resource/memory" */
        enum pod_isolator_type type;
        char *value_json; /* the "value" as compact JSON; used to serialise */
        union {
                struct { /* MEMORY, CPU, BLOCK_*, NETWORK_BANDWIDTH */
                        bool has_request, has_limit;
                        uint64_t request; /* defaults to limit when absent */
                        uint64_t limit;
                        bool is_default; /* block/network "default": true */
                } resource;
                struct {               /* CAPS_RETAIN, CAPS_REMOVE */
                        char **set;    /* NULL-terminated, canonical "CAP_X" spelling */
                        uint64_t mask; /* bit n = capability number n */
                } caps;
                bool no_new_privileges;
                struct {                  /* SECCOMP_RETAIN, SECCOMP_REMOVE */
                        char **set;       /* syscall names and "@group" names, as written */
                        char *errno_name; /* NULL or "" = kill with SIGSYS */
                        int errno_value;  /* positive errno number, 0 when errno_name empty */
                } seccomp;
                int oom_score_adj;   /* -1000..1000 */
                uint64_t cpu_shares; /* 2..262144 */
                struct {
                        char *user, *role, *type, *level;
                } selinux;
                char *apparmor_profile;
                struct {
                        struct pod_kv *entries; /* key "net.x.y", value string */
                        size_t n_entries;
                } sysctl;
        };
};

/* Where an isolator list sits; affects which rules apply. */
enum pod_isolator_scope {
        POD_ISOLATOR_SCOPE_APP,
        POD_ISOLATOR_SCOPE_POD,
        _POD_ISOLATOR_SCOPE_MAX,
        _POD_ISOLATOR_SCOPE_INVALID = -EINVAL,
};

const char *pod_isolator_type_to_name(enum pod_isolator_type t);      /* "resource/memory", ... */
enum pod_isolator_type pod_isolator_type_from_name(const char *name); /* UNKNOWN if unknown */

/* k8s quantity ("256Mi", "1G", "500m", "0.5", "2") in base units times scale, rounded up:
 * scale 1 gives bytes, scale 1000 gives millicores.  -EINVAL on syntax, -ERANGE on overflow
 * or a negative value. */
int pod_quantity_parse(const char *s, uint64_t scale, uint64_t *ret);

/* Parses one isolator from its name and JSON value (json-c object; may be NULL for JSON
 * null).  Fills *ret (caller owns; release with pod_isolator_done()).  Errors name the
 * field relative to the isolator, e.g. "value.limit: ...". */
int pod_isolator_from_json(const char *name, struct json_object *value, struct pod_isolator *ret,
                           struct pod_error *reterr);
/* Parses a whole JSON array text of isolators, e.g. '[{"name":...,"value":...}]'. */
int pod_isolators_parse(const char *text, size_t size, enum pod_isolator_scope scope,
                        struct pod_isolator **ret, size_t *ret_n, struct pod_error *reterr);
/* The same for a json-c array at field path p (used by the manifest parser). */
int pod_isolators_parse_json(struct json_object *array, const struct pod_json_path *p,
                             enum pod_isolator_scope scope, struct pod_isolator **ret,
                             size_t *ret_n, struct pod_error *reterr);
/* Cross-entry rules for a parsed list: retain/remove of one family not combined, max-1
 * isolators at most once.  The message names the offending index, e.g. "[2]: ...". */
int pod_isolators_validate(const struct pod_isolator *list, size_t n, enum pod_isolator_scope scope,
                           struct pod_error *reterr);

/* Releases what an isolator owns (not the struct itself). */
void pod_isolator_done(struct pod_isolator *i);
/* Releases an array of n isolators; returns NULL. */
struct pod_isolator *pod_isolators_free(struct pod_isolator *list, size_t n);
/* Deep copy. */
int pod_isolator_copy(const struct pod_isolator *src, struct pod_isolator *ret);

/* First isolator of the given type in list, or NULL. */
const struct pod_isolator *pod_isolators_find(const struct pod_isolator *list, size_t n,
                                              enum pod_isolator_type t);

/* Capability names (kernel spelling "CAP_CHOWN") <-> numbers; case-insensitive lookup,
 * "CAP_" prefix required.  -EINVAL if unknown. */
int pod_capability_from_name(const char *name);
const char *pod_capability_to_name(int cap);
/* Errno name ("EPERM") -> positive number; -EINVAL if unknown. */
int pod_errno_from_name(const char *name);
