/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Garbage collection and removal of pods (appc digest section 9), mark and sweep.
 *
 * Mark:  embryo/U that can be share-locked and whose ctime is older than grace, while
 *        embryo/ itself is locked exclusively (the embryo rule, poddir.h) -> garbage/U
 *        run/U that can be share-locked (its pod exited)      -> exited-garbage/U
 *        prepare/U that can be share-locked (aborted prepare)  -> garbage/U
 *        prepared/U with ctime older than expire_prepared       -> garbage/U
 * Sweep: exited-garbage/U with ctime (= mark time) older than grace, and every garbage/U:
 *        LOCK_EX|LOCK_NB (skipped when someone holds it), unmount whatever is still
 *        mounted below the pod directory (deepest first, MNT_DETACH), rm -rf on one file
 *        system.  Then the pod's --private-users range is released (userns-alloc.h).
 * Ranges:  allocation records in <data>/userns whose pod no longer exists are removed.
 *
 * Safe against itself and against run/list/status: every decision is a lock probe and
 * every move a rename; losing a race (-ENOENT, -EBUSY) just skips the pod this time.
 *
 * Owns: gc and rm.  Does not own: stage1's own gc entrypoint (network teardown), which
 * the sweep runs when pod_gc_set_stage1() named it. */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "poddir.h"

struct pod_gc_stats {
        unsigned marked;          /* moved to exited-garbage/ or garbage/ by this run */
        unsigned removed;         /* deleted by this run */
        unsigned skipped;         /* locked, still in grace, or lost a race */
        unsigned failed;          /* could not be deleted (see the callback) */
        unsigned ranges_released; /* --private-users records of gone pods swept */
        unsigned ranges_bad;      /* unreadable records in <data>/userns (kept) */
};

/* Before deleting a pod whose directory has "net" (stage1 attached CNI networks), sweep
 * and remove run "PATH gc UUID" with cwd = the pod dir (stage1/ABI.md); a failure keeps
 * the pod, counted in its GC_FAILURES_FILE, until the POD_GC_STAGE1_TRIES-th failure: then
 * "PATH gc --force UUID" gives up on what cannot be released, names it, and the pod goes
 * (rkt's gc reported stage1's failure and went on; a pod that can never be removed helps
 * nobody).  NULL (the default): never. */
#define POD_GC_STAGE1_TRIES 3
#define GC_FAILURES_FILE    "stage0-gc-failures"
void pod_gc_set_stage1(const char *path);

/* Called for each pod that could not be deleted (not for skipped ones). */
typedef void (*pod_gc_failure_cb)(const char *uuid, int error, const char *msg, void *userdata);

int pod_gc(int pods_fd, uint64_t grace_usec, uint64_t expire_prepared_usec, bool mark_only,
           pod_gc_failure_cb cb, void *userdata, struct pod_gc_stats *ret_stats);

/* Removes one pod now: exited, exited garbage, garbage, prepared and aborted-prepare pods
 * are marked, locked and swept at once; running, preparing and deleting ones are refused
 * with -EBUSY and a message naming the state.  force: stage1's gc is told to give up on
 * what it cannot release (a CNI DEL that fails for good) and to say what stays behind. */
int pod_gc_remove(struct pod_poddir *p, bool force, struct pod_error *reterr);

/* Unmounts everything mounted at or below the directory open as fd (per
 * /proc/self/mountinfo), deepest first, with MNT_DETACH. */
int pod_gc_unmount_below(int fd, struct pod_error *reterr);
