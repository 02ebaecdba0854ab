/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Rootless pod (issue 14, "Rootless"): pod run by a user other than root first puts itself
 * (the same PID) into a new user namespace in which it is root, so that every code path of
 * the store, the pod dirs and stage1 works unchanged, as root of that namespace.
 *   - With the user's first range in /etc/subuid and /etc/subgid (by user name or numeric
 *     ID, as shadow's newuidmap matches them) and newuidmap/newgidmap (Debian's uidmap):
 *     maps "0 UID 1" + "1 START COUNT", written by those set-id helpers, run from a child
 *     forked before unshare(CLONE_NEWUSER).  Every invocation gets the same maps, so files
 *     on disk keep their owners from one invocation to the next.
 *   - Otherwise: the single map "0 UID 1" written by pod itself after "deny" in
 *     /proc/self/setgroups (the kernel's rule for an unprivileged writer).
 * Also reads /proc/self/{uid,gid}_map so the store can tell which IDs it may chown to.
 * Owns: the subuid/subgid lookup, entering the namespace, the map reader.  Does not own:
 * the paths a rootless pod uses (stage0/pod.c), what stage1 does in the namespace
 * (stage1/ABI.md "Rootless"). */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pod_error;

#define POD_ROOTLESS_UID_ENV "POD_ROOTLESS_UID"
#define POD_ROOTLESS_GID_ENV "POD_ROOTLESS_GID"

struct pod_subid_range {
        uint32_t start;
        uint32_t count; /* >= 1 */
};

/* The first line "OWNER:START:COUNT" of the subuid/subgid file at path whose OWNER is name
 * (may be NULL) or the decimal id.  Comments ('#'), blank and malformed lines (a zero count,
 * START + COUNT past 2^32 - 1) are skipped.  -ENOENT: no such line, or no file. */
int pod_subid_find(const char *path, const char *name, uint32_t id, struct pod_subid_range *ret,
                   struct pod_error *reterr);

/* One user namespace ID map (/proc/PID/uid_map's format: "INSIDE OUTSIDE COUNT" lines; the
 * kernel allows 340). */
#define POD_ID_MAP_MAX 340
struct pod_id_map {
        size_t n;
        struct {
                uint32_t inside, outside, count;
        } e[POD_ID_MAP_MAX];
};

/* Parses the map file at path; -EBADMSG for a malformed line. */
int pod_id_map_load(const char *path, struct pod_id_map *ret);
/* "0 0 4294967295": the initial namespace (no user namespace at all). */
bool pod_id_map_is_identity(const struct pod_id_map *m);
/* Whether ID id of the namespace is mapped to a host ID. */
bool pod_id_map_contains(const struct pod_id_map *m, uint32_t id);
/* The namespace's mapped IDs for messages: "0-65536" or "0, 1000-1999", cut to size. */
void pod_id_map_format(const struct pod_id_map *m, char *buf, size_t size);

/* This process's uid and gid maps. */
struct pod_id_maps {
        struct pod_id_map uid, gid;
};
/* Reads /proc/self/uid_map and gid_map into a new object (free() it). */
int pod_id_maps_load_self(struct pod_id_maps **ret, struct pod_error *reterr);
/* 0 when both IDs are mapped; else -ERANGE and a message naming what (an archive entry, as
 * the caller escaped it), the owner and the mapped IDs. */
int pod_id_maps_check_owner(const struct pod_id_maps *m, int64_t uid, int64_t gid, const char *what,
                            struct pod_error *reterr);

/* Whether this process runs in a user namespace other than the initial one (its uid_map is
 * not the identity map); read once. */
bool pod_in_user_namespace(void);

enum pod_rootless_mode {
        POD_ROOTLESS_RANGE,  /* 0 UID 1 + 1 START COUNT, by newuidmap/newgidmap */
        POD_ROOTLESS_SINGLE, /* 0 UID 1 only */
        _POD_ROOTLESS_MODE_MAX,
        _POD_ROOTLESS_MODE_INVALID = -EINVAL,
};

struct pod_rootless {
        enum pod_rootless_mode mode;
        uid_t uid; /* the host IDs (the namespace's 0) */
        gid_t gid;
        struct pod_subid_range subuid, subgid; /* RANGE only */
        char why_single[256]; /* SINGLE only: why no range ("no range for 'alice' in /etc/subuid")
                               */
};

struct pod_rootless_paths {
        const char *subuid;    /* /etc/subuid */
        const char *subgid;    /* /etc/subgid */
        const char *newuidmap; /* NULL: search $PATH, then /usr/bin */
        const char *newgidmap;
};

/* Enters a new user namespace as described above and becomes its root (uid and gid 0, all
 * capabilities in it), then sets POD_ROOTLESS_UID and POD_ROOTLESS_GID to the host IDs for
 * the programs pod runs.  Must run while the process has a single thread.  Fails (message in
 * reterr) when user namespaces are not allowed or newuidmap/newgidmap refuse the range.
 * paths NULL: the defaults. */
int pod_rootless_enter(const struct pod_rootless_paths *paths, struct pod_rootless *ret,
                       struct pod_error *reterr);
