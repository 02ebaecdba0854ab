/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Host ID ranges for pods with --private-users (issue 14): which range a pod gets, and the
 * records that keep two pods from ever sharing one.
 *
 * Records live in <data>/userns/ (0700): "lock" (flock, exclusive, held for every allocation,
 * release and sweep) and one file per allocation named by its decimal BASE, holding
 * "UUID COUNT\n", written atomically.  The pod directory gets "private-users" ("BASE COUNT\n",
 * decimal), which is what stage0 passes to stage1 as --private-users=BASE:COUNT.
 *
 * "pick": 65536 IDs, 65536-aligned, within [POD_USERNS_PICK_MIN, POD_USERNS_PICK_MAX]; the
 * first candidate comes from a hash of the pod's UUID, then linear probing (wrapping).  A
 * candidate is refused when it overlaps another pod's range, a range in /etc/subuid or
 * /etc/subgid (delegated to a host user, who could then own the pod's files), or a host user
 * or group (any entry of the passwd/group files inside the range; getpwuid/getgrgid of its
 * first and last ID).  An explicit BASE[:COUNT] is refused for BASE 0 (the pod's root would
 * be host root), overflow, an overlap with another pod (named) or with subuid/subgid (the
 * user named).
 *
 * Owns: the flag's syntax, the configured default (userns.conf), allocation, release, sweep
 * and the pod dir's "private-users".  Does not own: the namespace itself (idmap.h, stage1),
 * deciding when a pod is gone (the caller's callback, podgc.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "idmap.h"

#define POD_USERNS_DIR         "userns"
#define POD_USERNS_LOCK        "lock"
#define POD_USERNS_RECORD      "private-users" /* in the pod directory */
#define POD_USERNS_CONF_FILE   "userns.conf"
#define POD_USERNS_RANGE       UINT32_C(0x10000)
#define POD_USERNS_PICK_MIN    UINT32_C(0x00080000)
#define POD_USERNS_PICK_MAX    UINT32_C(0x6FFF0000) /* the last base pick may return */
#define POD_USERNS_RECORDS_MAX 65536u               /* allocation files read, at most */

enum pod_userns_mode {
        POD_USERNS_NO,
        POD_USERNS_PICK,
        POD_USERNS_FIXED,
        _POD_USERNS_MODE_MAX,
        _POD_USERNS_MODE_INVALID = -EINVAL,
};

/* How the pod's IDs reach the image's files (--private-users-ownership, pod-run(1)): idmapped
 * mounts of the lower dirs (map), chown-shifted copies kept in the store (chown,
 * store-shift.h), or map where the kernel and file system can, else chown (auto). */
enum pod_userns_ownership {
        POD_USERNS_OWNERSHIP_AUTO,
        POD_USERNS_OWNERSHIP_MAP,
        POD_USERNS_OWNERSHIP_CHOWN,
        _POD_USERNS_OWNERSHIP_MAX,
        _POD_USERNS_OWNERSHIP_INVALID = -EINVAL,
};

#define POD_USERNS_OWNERSHIP_RECORD "private-users-ownership" /* in the pod dir: "chown\n" */

struct pod_userns_request {
        enum pod_userns_mode mode;
        enum pod_userns_ownership ownership;
        /* PICK: bases to take first when free by pick's own rules (in the pick window,
         * aligned, no pod's, no subuid/subgid range, no host user): the ranges that already
         * have chown-shifted copies in the store (store-shift.h), so that those are reused. */
        const uint32_t *prefer;
        size_t n_prefer;
        uint32_t base;  /* FIXED only */
        uint32_t count; /* FIXED only */
};

/* The value of --private-users: NULL (the bare flag), "pick", "yes", "true": PICK; "no",
 * "false": NO; "UID" or "UID:COUNT" (decimal; COUNT default 65536): FIXED, checked for base 0,
 * count 0 and overflow.  -EINVAL with reterr naming the value. */
int pod_userns_parse(const char *s, struct pod_userns_request *ret, struct pod_error *reterr);

/* "auto", "map" or "chown"; -EINVAL with reterr naming the value. */
int pod_userns_ownership_parse(const char *s, enum pod_userns_ownership *ret,
                               struct pod_error *reterr);
const char *pod_userns_ownership_to_string(enum pod_userns_ownership o);

/* The configured default: "private-users = pick|no|..." (the flag's values) and
 * "private-users-ownership = auto|map|chown" in userns.conf of vendordir and then sysconfdir
 * (either may be NULL; the latter wins).  Without any: NO, AUTO.
 * -EINVAL naming the file and line on an unknown key or a bad value. */
int pod_userns_conf_load(const char *vendordir, const char *sysconfdir,
                         struct pod_userns_request *ret, struct pod_error *reterr);

/* Where the host's delegations and users are read from; NULL fields: the host's
 * (/etc/subuid, /etc/subgid, /etc/passwd, /etc/group).  With no_nss, getpwuid/getgrgid are
 * not asked (unit tests: only the files count). */
struct pod_userns_sources {
        const char *subuid;
        const char *subgid;
        const char *passwd;
        const char *group;
        bool no_nss;
};

/* Allocates a range for the pod uuid under data_fd (the --dir) per req (PICK or FIXED), writes
 * its record, and returns it in *ret.  -EEXIST (explicit overlap), -ENOSPC (pick found nothing
 * free), -EINVAL, with reterr saying why. */
int pod_userns_allocate(int data_fd, const char *uuid, const struct pod_userns_request *req,
                        const struct pod_userns_sources *src, struct pod_idmap *ret,
                        struct pod_error *reterr);

/* Removes every allocation record that names uuid (none: 0).  Returns how many went. */
int pod_userns_release(int data_fd, const char *uuid, struct pod_error *reterr);

/* Removes allocation records whose pod no longer exists: exists(uuid, userdata) returns 1
 * (keep), 0 (gone: remove) or < 0 (keep, unknown).  A record that cannot be parsed is kept
 * and counted in *ret_bad.  Returns how many were removed.  A missing userns/ is 0. */
int pod_userns_sweep(int data_fd, int (*exists)(const char *uuid, void *userdata), void *userdata,
                     unsigned *ret_bad, struct pod_error *reterr);

/* pod_userns_allocate() for the pod dir pod_fd of pod uuid, then its "private-users"; when
 * writing that fails the allocation is released again.  *ret (may be NULL): the range. */
int pod_userns_allocate_pod(int data_fd, int pod_fd, const char *uuid,
                            const struct pod_userns_request *req,
                            const struct pod_userns_sources *src, bool sync, struct pod_idmap *ret,
                            struct pod_error *reterr);

/* Whether a pod holds the range base/count (its allocation record exists with that count):
 * 1 yes, 0 no, < 0 unknown. */
int pod_userns_range_held(int data_fd, uint32_t base, uint32_t count);

/* The pod directory's "private-users-ownership": written only for CHOWN ("chown\n");
 * read: MAP when absent (every pod before the record existed was idmapped). */
int pod_userns_ownership_record_write(int pod_fd, enum pod_userns_ownership o, bool sync);
int pod_userns_ownership_record_read(int pod_fd, enum pod_userns_ownership *ret);

/* The pod directory's "private-users".  read: -ENOENT when the pod has none; -EBADMSG when
 * it cannot be parsed. */
int pod_userns_record_write(int pod_fd, const struct pod_idmap *m, bool sync);
int pod_userns_record_read(int pod_fd, struct pod_idmap *ret);
