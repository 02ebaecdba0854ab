/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pod directories and their state machine (appc digest section 9).
 *
 * One directory per pod, <data>/pods/<phase>/<uuid>; the state is the phase directory plus
 * whether the pod directory's flock is held.  Every transition is a rename(2) within pods/
 * (atomic: a pod is in exactly one phase), every exclusion is a flock(2) on the pod
 * directory's own open file description.  There is no daemon and no other lock: any number
 * of `pod` processes (run, list, status, gc, rm) may work on the same tree at once.
 * A process that loses a race sees -ENOENT (the pod moved or vanished) or -EBUSY (someone
 * else holds the lock) and reports it.
 *
 *   phase dir        locked                     unlocked
 *   embryo/          -                          being created (POD_STATE_EMBRYO)
 *   prepare/         preparing                  aborted prepare
 *   prepared/        -                          prepared
 *   run/             running                    exited
 *   exited-garbage/  deleting                   exited garbage
 *   garbage/         deleting                   garbage
 *
 * Transitions only ever move forward in the order of enum pod_phase, which is what lets
 * pod_poddir_open() find a pod that is moving while it looks.
 *
 * The embryo rule.  An embryo's own lock cannot protect it from birth: the directory exists
 * (mkdir) before it can be opened and locked.  So a create holds LOCK_SH on the embryo/
 * phase directory itself from before its mkdir until it holds the new directory's
 * LOCK_EX, and gc collects embryos only while it holds LOCK_EX|LOCK_NB on embryo/ (and
 * skips them when it cannot get it).  Under gc's lock no create is between mkdir and
 * flock, so an embryo whose own lock is free has lost its creator for good (it died, or
 * failed before renaming it to prepare/).  From prepare/ on a pod is locked from birth
 * (the lock is taken in embryo/ and carried by the rename), so an unlocked prepare/U is an
 * aborted prepare with no further rule.
 *
 * Files in a pod directory read here: "pod" (pod manifest), "pod-created" (mtime =
 * creation), "pid" (pod init, mtime = start), "unit" (systemd unit name), "status/<app>"
 * (exit code, decimal text, written by stage1), "net-info.json" (see podinfo.h).
 *
 * Owns: the layout, creating, locking, moving, finding, stopping and waiting for pods.
 * Does not own: what is inside a pod directory beyond the files above (stage1), garbage
 * collection (podgc.h), the summary shown by list/status (podinfo.h). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "macro.h"
#include "uuid.h"

#define POD_LOCK_FD_ENV "POD_LOCK_FD"

enum pod_phase {
        POD_PHASE_EMBRYO,
        POD_PHASE_PREPARE,
        POD_PHASE_PREPARED,
        POD_PHASE_RUN,
        POD_PHASE_EXITED_GARBAGE,
        POD_PHASE_GARBAGE,
        _POD_PHASE_MAX,
        _POD_PHASE_INVALID = -EINVAL,
};

enum pod_state {
        POD_STATE_EMBRYO,
        POD_STATE_PREPARING,
        POD_STATE_ABORTED_PREPARE,
        POD_STATE_PREPARED,
        POD_STATE_RUNNING,
        POD_STATE_EXITED,
        POD_STATE_EXITED_GARBAGE,
        POD_STATE_DELETING,
        POD_STATE_GARBAGE,
        _POD_STATE_MAX,
        _POD_STATE_INVALID = -EINVAL,
};

/* Directory name of a phase ("exited-garbage"); NULL when out of range. */
const char *pod_phase_to_string(enum pod_phase p);
enum pod_phase pod_phase_from_string(const char *s);
/* rkt's words: "embryo", "preparing", "aborted prepare", "prepared", "running", "exited",
 * "exited garbage", "deleting", "garbage". */
const char *pod_state_to_string(enum pod_state s);
enum pod_state pod_state_from_phase(enum pod_phase phase, bool locked);
/* exited, exited garbage, or garbage: the pod ran (or never will) and will not change
 * again except by being deleted. */
bool pod_state_is_final(enum pod_state s);

struct pod_poddir {
        char uuid[POD_UUID_STRING_MAX];
        enum pod_phase phase; /* where it was when last moved or found by us */
        int pods_fd;          /* <data>/pods, owned */
        int fd;               /* the pod directory; its open file description carries the lock */
        int lock;             /* 0, LOCK_SH or LOCK_EX: what we hold on fd */
        bool sync; /* fsync what we write and rename (pod_poddir_create's sync, or true) */
};

/* Opens <data_dir>/pods.  With create, makes it and every phase directory (0700) first.
 * Without create, a missing tree is -ENOENT.  data_dir and pods/ follow statedir.h: 0700
 * (tightened when wider), and as root -EPERM when another user owns them. */
int pod_pods_open(const char *data_dir, bool create, int *ret_fd);

/* Closes the directory (which drops any lock we hold) and frees.  Accepts NULL. */
struct pod_poddir *pod_poddir_free(struct pod_poddir *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_poddir *, pod_poddir_free)

/* A new pod: flock(embryo/, LOCK_SH) -> mkdir embryo/U (0750) -> open -> flock(LOCK_EX) ->
 * unlock embryo/ -> write pod-created -> rename to prepare/U -> fsync(prepare/).  The returned pod
 * is in PREPARE, locked exclusively.  If uuid_file_save is not NULL the UUID is saved there right
 * after mkdir.  Without sync (a pod that runs right away: after a power loss it is garbage
 * anyway) neither this nor later moves and writes of the pod call fsync. */
int pod_poddir_create(int pods_fd, const char *uuid_file_save, bool sync, struct pod_poddir **ret,
                      struct pod_error *reterr);

/* Opens the pod with exactly this UUID in whichever phase it is (not embryo).  -ENOENT if
 * there is none.  No lock is taken. */
int pod_poddir_open(int pods_fd, const char *uuid, struct pod_poddir **ret);

/* Resolves a unique UUID prefix over prepare/, prepared/, run/ and exited-garbage/ into
 * ret_uuid (POD_UUID_STRING_MAX bytes).  -ENOENT: no such pod; -ENOTUNIQ: ambiguous, the
 * message lists the candidates; -EINVAL: not a UUID prefix. */
int pod_poddir_lookup(int pods_fd, const char *prefix, char *ret_uuid, struct pod_error *reterr);

/* Re-reads which phase the pod is in now (it may have been moved by someone else);
 * -ENOENT if it is gone. */
int pod_poddir_refresh(struct pod_poddir *p);

/* Whether anyone else holds the lock on a pod directory fd: takes LOCK_SH|LOCK_NB and
 * gives it back.  1 = locked, 0 = free.  Only valid for fds on which we hold nothing. */
int pod_poddir_fd_is_locked(int fd);

/* State of the pod: phase + lock (a lock we hold ourselves counts as held). */
int pod_poddir_get_state(struct pod_poddir *p, enum pod_state *ret);

/* Takes the lock; how is LOCK_SH or LOCK_EX, optionally | LOCK_NB (then -EBUSY when held).
 * Non-blocking exclusive attempts retry for up to ~100 ms, since list and status probe
 * the lock for an instant. */
int pod_poddir_lock(struct pod_poddir *p, int how);
int pod_poddir_unlock(struct pod_poddir *p);

/* prepare/U -> prepared/U, then unlock.  Requires PREPARE with our exclusive lock. */
int pod_poddir_to_prepared(struct pod_poddir *p, struct pod_error *reterr);
/* prepare/U -> run/U, keeping the lock.  Requires PREPARE with our exclusive lock. */
int pod_poddir_to_run(struct pod_poddir *p, struct pod_error *reterr);
/* prepared/U: lock exclusively (-EBUSY if someone holds it), then rename to run/U.
 * -ENOENT when another process moved it first (started it, or gc expired it). */
int pod_poddir_run_prepared(struct pod_poddir *p, struct pod_error *reterr);

/* Hands our exclusive lock to what we exec next: clears FD_CLOEXEC on the pod directory
 * fd and sets $POD_LOCK_FD to its number.  Returns the fd. */
int pod_poddir_prepare_exec_lock(struct pod_poddir *p);
/* The receiving side (stage1): the fd from $POD_LOCK_FD, checked to be an open directory,
 * made close-on-exec again.  -ENXIO if the variable is unset. */
int pod_poddir_lock_fd_from_env(int *ret_fd);

/* Files in a pod directory (fd = the pod directory). */
int pod_poddir_read_pid(int fd, pid_t *ret_pid, struct timespec *ret_started);
int pod_poddir_read_unit(int fd, char **ret);
int pod_poddir_read_app_status(int fd, const char *app, int *ret_code);
/* The pod manifest "pod", at most POD_PODDIR_MANIFEST_MAX bytes. */
#define POD_PODDIR_MANIFEST_MAX (16u << 20)
int pod_poddir_read_manifest(int fd, char **ret, size_t *ret_size);
int pod_poddir_get_created(int fd, struct timespec *ret);

/* SIGTERM (SIGKILL with force) to the pod's init from "pid", only while the pod is
 * running (its lock is held), race-free against PID reuse through a pidfd.  stage1
 * forwards the signal to the apps.  Returns 1 when signalled, 0 when the pod had already
 * exited (idempotent), -EINVAL for pods that never ran (prepared, preparing), -ESRCH
 * when a running pod has no "pid" yet. */
int pod_poddir_stop(struct pod_poddir *p, bool force, struct pod_error *reterr);

/* Blocks until nobody holds the lock on the pod directory fd, without spinning: a child
 * process sleeps in flock(LOCK_SH) on its own open file description and exits when it
 * gets it.  Also returns when extra_fd (if >= 0, e.g. an inotify fd) becomes readable.
 * timeout_usec may be POD_USEC_INFINITY.  Returns 1 = lock free, 2 = extra_fd readable,
 * -ETIMEDOUT. */
int pod_poddir_wait_unlocked(int fd, int extra_fd, uint64_t timeout_usec);

/* `pod status --wait`: returns 0 once the pod has exited (or was marked/removed after
 * exiting).  Blocks on the lock while it runs or is prepared by someone, and on inotify
 * (the pod directory being moved) while it is prepared.  -ETIMEDOUT after timeout_usec,
 * -ECANCELED for an aborted prepare (it will never run), -ENOENT if it was deleted. */
int pod_poddir_wait_exited(struct pod_poddir *p, uint64_t timeout_usec);
/* `pod status --wait-ready`: returns 0 once the pod is running and "pid" is readable.
 * stage1 should write "pid" atomically (temp file + rename).  -ETIMEDOUT, or -ESRCH when
 * the pod exited (or was aborted) before becoming ready. */
int pod_poddir_wait_ready(struct pod_poddir *p, uint64_t timeout_usec);
