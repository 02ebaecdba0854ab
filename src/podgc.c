/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "podgc.h"
#include "prepare.h"
#include "userns-alloc.h"

#define MOUNTINFO_MAX (64u << 20)

struct mnt {
        unsigned long id;
        char *path;
};

static int cmp_deepest_first(const void *a, const void *b) {
        const struct mnt *x = a, *y = b;
        size_t lx = strlen(x->path), ly = strlen(y->path);

        if (lx != ly)
                return lx > ly ? -1 : 1;
        /* the same path mounted over: the later (higher id, usually) on top */
        if (x->id != y->id)
                return x->id > y->id ? -1 : 1;
        return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s) {
        char *w = s;

        for (char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
                        r += 4;
                } else
                        *w++ = *r++;
        }
        *w = 0;
}

static void mnts_free(struct mnt *m, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(m[i].path);
        free(m);
}

int pod_gc_unmount_below(int fd, struct pod_error *reterr) {
        _cleanup_free_ char *info = NULL;
        struct mnt *m = NULL;
        char self[64], dir[PATH_MAX];
        size_t n = 0, dlen;
        ssize_t k;
        char *save = NULL;
        int r = 0;

        (void)snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
        k = readlink(self, dir, sizeof(dir) - 1);
        if (k < 0)
                return pod_error_set(reterr, -errno, "Failed to resolve the pod directory: %s",
                                     strerror(errno));
        dir[k] = 0;
        dlen = (size_t)k;
        if (dir[0] != '/')
                return pod_error_set(reterr, -EINVAL, "Pod directory '%s' is not reachable", dir);

        r = read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_MAX, &info, NULL);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read /proc/self/mountinfo: %s",
                                     strerror(-r));

        for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[5] = {}, *s2 = NULL, *tok;
                struct mnt *t;
                int i = 0;

                /* id parent major:minor root mount-point ... */
                for (tok = strtok_r(line, " ", &s2); tok && i < 5; tok = strtok_r(NULL, " ", &s2))
                        f[i++] = tok;
                if (i < 5)
                        continue;
                unescape_octal(f[4]);
                if (!strneq(f[4], dir, dlen) || (f[4][dlen] != 0 && f[4][dlen] != '/'))
                        continue;
                t = realloc(m, (n + 1) * sizeof(*m));
                if (!t) {
                        mnts_free(m, n);
                        return pod_error_set(reterr, -ENOMEM, "Out of memory");
                }
                m = t;
                m[n].id = strtoul(f[0], NULL, 10);
                m[n].path = strdup(f[4]);
                if (!m[n].path) {
                        mnts_free(m, n);
                        return pod_error_set(reterr, -ENOMEM, "Out of memory");
                }
                n++;
        }

        if (n > 1)
                qsort(m, n, sizeof(*m), cmp_deepest_first);
        r = 0;
        for (size_t i = 0; i < n; i++)
                /* EINVAL: no longer a mount point (went with its parent); ENOENT: gone. */
                if (umount2(m[i].path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL &&
                    errno != ENOENT) {
                        r = pod_error_set(reterr, -errno, "Failed to unmount '%s': %s", m[i].path,
                                          strerror(errno));
                        break;
                }
        mnts_free(m, n);
        return r;
}

static const char *gc_stage1;

void pod_gc_set_stage1(const char *path) {
        gc_stage1 = path;
}

/* Whether systemd still has a cgroup for the pod's own scope (stage1 creates
 * pod-<uuid>.scope in machine.slice; systemd removes the cgroup when it collects the unit).
 * The "unit" file is no guide: stage1 writes it only once the scope's start job is done,
 * and a stage1 killed before that may still leave a scope behind.  cgroup v2, or v1's
 * name=systemd hierarchy. */
static bool scope_cgroup_exists(const char *uuid) {
        static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/systemd" };
        char path[PATH_MAX];

        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                (void)snprintf(path, sizeof(path), "%s/machine.slice/pod-%s.scope", roots[i], uuid);
                if (access(path, F_OK) >= 0)
                        return true;
        }
        return false;
}

/* "pod-stage1 gc UUID" with cwd = the pod dir, for pods whose stage1 left "net" behind,
 * registered a scope, or made a device or limit cgroup ("devices-cgroup", "limits-cgroups",
 * without systemd) (ABI.md
 * "gc"): CNI DEL and the netns file, before the directory with the persisted attachments
 * goes; the scope, if systemd still has it; the device cgroup. */
static int stage1_gc(int fd, const char *uuid, bool force, struct pod_error *reterr) {
        struct stat st;
        pid_t pid;
        int ws;

        if (!gc_stage1 || (fstatat(fd, "net", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                           fstatat(fd, "devices-cgroup", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                           fstatat(fd, "limits-cgroups", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
                           !scope_cgroup_exists(uuid)))
                return 0;
        pid = fork();
        if (pid < 0)
                return pod_error_set(reterr, -errno, "Failed to fork: %m");
        if (pid == 0) {
                if (fchdir(fd) < 0 || setenv(POD_STAGE1_ABI_ENV, POD_STAGE1_ABI_STR, 1) < 0)
                        _exit(127);
                const char *argv[6];
                size_t n = 0;

                argv[n++] = "pod-stage1";
                argv[n++] = "gc";
                if (log_get_max_level() >= LOG_DEBUG)
                        argv[n++] = "--debug";
                if (force)
                        argv[n++] = "--force";
                argv[n++] = uuid;
                argv[n] = NULL;
                execv(gc_stage1, (char *const *)argv);
                _exit(127);
        }
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return pod_error_set(reterr, -errno, "Failed to wait for stage1 gc: %m");
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                return pod_error_set(
                        reterr, -EIO,
                        "Failed to release what stage1 set up for pod '%s' ('%s gc' exited "
                        "with %d); the pod is kept for the next gc",
                        uuid, gc_stage1, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
        return 0;
}

static void phase_path(char *buf, enum pod_phase phase, const char *uuid) {
        (void)snprintf(buf, PATH_MAX, "%s/%s", pod_phase_to_string(phase), uuid);
}

/* Failed stage1 gc runs so far, from GC_FAILURES_FILE (0 when absent or unreadable). */
static unsigned gc_failures(int fd) {
        _cleanup_free_ char *text = NULL;
        unsigned long n;
        char *end;

        if (read_full_file_at(fd, GC_FAILURES_FILE, 64, &text, NULL) < 0)
                return 0;
        errno = 0;
        n = strtoul(text, &end, 10);
        return errno == 0 && end != text && n < 1000 ? (unsigned)n : 0;
}

static void gc_failures_set(int fd, unsigned n) {
        char buf[16];
        _cleanup_close_ int f = -EBADF;

        (void)snprintf(buf, sizeof(buf), "%u", n);
        f = openat(fd, GC_FAILURES_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                   0600);
        if (f >= 0)
                (void)!write(f, buf, strlen(buf));
}

/* The --private-users range of a pod that is gone: free for the next pod only now that
 * nothing the pod wrote (owned by IDs of the range) exists any more.  The records live in
 * <data>/userns, next to pods/.  A failure here is left to gc's sweep. */
static void release_range(int pods_fd, const char *uuid) {
        _cleanup_close_ int data_fd = -EBADF;

        data_fd = openat(pods_fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (data_fd >= 0)
                (void)pod_userns_release(data_fd, uuid, NULL);
}

static int pod_exists(const char *uuid, void *userdata) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        int r;

        r = pod_poddir_open(*(int *)userdata, uuid, &p);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : 1;
}

/* Allocation records whose pod is gone (a crash between deleting a pod and releasing its
 * range).  Records are written only for pods already out of embryo/, under the records'
 * lock, which the sweep holds: a record's pod that cannot be found is gone for good. */
static void sweep_ranges(int pods_fd, struct pod_gc_stats *stats) {
        _cleanup_close_ int data_fd = -EBADF;
        unsigned bad = 0;
        int r;

        data_fd = openat(pods_fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (data_fd < 0)
                return;
        r = pod_userns_sweep(data_fd, pod_exists, &pods_fd, &bad, NULL);
        if (r > 0)
                stats->ranges_released += (unsigned)r;
        stats->ranges_bad = bad;
}

/* The pod directory fd is locked exclusively by us and is pods/<phase>/<uuid>.  stage1's gc
 * (CNI DEL above all) is retried by later gc runs; the POD_GC_STAGE1_TRIES-th failure, or
 * force, removes the pod anyway with `gc --force`, which names what stays behind. */
static int delete_locked(int pods_fd, int fd, enum pod_phase phase, const char *uuid, bool force,
                         struct pod_error *reterr) {
        char path[PATH_MAX];
        int r;

        r = stage1_gc(fd, uuid, force, reterr);
        if (r < 0 && !force) {
                unsigned n = gc_failures(fd) + 1;

                if (n < POD_GC_STAGE1_TRIES) {
                        char first[sizeof(reterr->msg)];

                        gc_failures_set(fd, n);
                        (void)snprintf(first, sizeof(first), "%s",
                                       reterr ? reterr->msg : "stage1 gc failed");
                        if (reterr)
                                *reterr = (struct pod_error){}; /* the first message wins */
                        return pod_error_set(reterr, r,
                                             "%s (attempt %u of %u; the pod is removed anyway "
                                             "after the last one, or now with 'pod rm --force')",
                                             first, n, POD_GC_STAGE1_TRIES);
                }
                r = stage1_gc(fd, uuid, true, reterr);
        }
        if (r < 0)
                return r;
        r = pod_gc_unmount_below(fd, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Failed to remove pod '%s'", uuid);
        phase_path(path, phase, uuid);
        r = rm_rf_at(pods_fd, path);
        if (r == -EXDEV)
                return pod_error_set(reterr, r,
                                     "Failed to remove pod '%s': something is still mounted "
                                     "below it",
                                     uuid);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to remove pod '%s': %s", uuid,
                                     strerror(-r));
        release_range(pods_fd, uuid);
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * POD_USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static bool older_than(const struct stat *st, uint64_t now, uint64_t age_usec) {
        uint64_t c;

        if (age_usec == 0)
                return true;
        if (st->st_ctim.tv_sec < 0)
                return true;
        c = (uint64_t)st->st_ctim.tv_sec * POD_USEC_PER_SEC + (uint64_t)st->st_ctim.tv_nsec / 1000;
        return c <= now && now - c >= age_usec;
}

typedef int (*phase_fn)(int pods_fd, int phase_fd, const char *uuid, void *ctx);

static int for_each_in_phase(int pods_fd, enum pod_phase phase, phase_fn fn, void *ctx) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int dfd, r;

        dfd = openat(pods_fd, pod_phase_to_string(phase),
                     O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                (void)close(dfd);
                return r;
        }
        while ((de = readdir(d)))
                if (pod_uuid_string_valid(de->d_name)) {
                        r = fn(pods_fd, dirfd(d), de->d_name, ctx);
                        if (r < 0)
                                return r;
                }
        return 0;
}

struct gc_ctx {
        enum pod_phase phase;
        uint64_t now, age; /* mark: expire-prepared; sweep: grace */
        pod_gc_failure_cb cb;
        void *userdata;
        struct pod_gc_stats *stats;
};

/* Mark: move share-lockable pods of ctx->phase forward.  We hold LOCK_SH during the
 * rename, so a run-prepared (which needs LOCK_EX) cannot take a prepared pod from under
 * us; run/ and prepare/ pods that were unlocked once stay unlocked for good. */
static int mark_one(int pods_fd, int phase_fd, const char *uuid, void *userdata) {
        struct gc_ctx *c = userdata;
        _cleanup_close_ int fd = -EBADF;
        enum pod_phase to =
                c->phase == POD_PHASE_RUN ? POD_PHASE_EXITED_GARBAGE : POD_PHASE_GARBAGE;
        char a[PATH_MAX], b[PATH_MAX];

        if (c->phase == POD_PHASE_PREPARED || c->phase == POD_PHASE_EMBRYO) {
                struct stat st;

                if (fstatat(phase_fd, uuid, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return errno == ENOENT ? 0 : -errno;
                if (!older_than(&st, c->now, c->age))
                        return 0;
        }
        fd = openat(phase_fd, uuid, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return -errno;
                if (c->phase == POD_PHASE_PREPARED || c->phase == POD_PHASE_EMBRYO)
                        c->stats->skipped++; /* being started, or created, right now */
                return 0;
        }
        phase_path(a, c->phase, uuid);
        phase_path(b, to, uuid);
        if (renameat(pods_fd, a, pods_fd, b) < 0) {
                if (errno == ENOENT) { /* another gc or rm was first */
                        c->stats->skipped++;
                        return 0;
                }
                return -errno;
        }
        c->stats->marked++;
        return 0;
}

static int sweep_one(int pods_fd, int phase_fd, const char *uuid, void *userdata) {
        struct gc_ctx *c = userdata;
        struct pod_error e = {};
        _cleanup_close_ int fd = -EBADF;
        struct stat st, mine;
        int r;

        if (fstatat(phase_fd, uuid, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (c->phase == POD_PHASE_EXITED_GARBAGE && !older_than(&st, c->now, c->age)) {
                c->stats->skipped++;
                return 0;
        }
        fd = openat(phase_fd, uuid, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return -errno;
                c->stats->skipped++; /* being deleted by someone else, or probed */
                return 0;
        }
        /* Still the directory we locked?  Another sweeper may have deleted it between
         * our open and our lock. */
        if (fstat(fd, &mine) < 0)
                return -errno;
        if (fstatat(phase_fd, uuid, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino != mine.st_ino ||
            st.st_dev != mine.st_dev)
                return 0;

        r = delete_locked(pods_fd, fd, c->phase, uuid, false, &e);
        if (r < 0) {
                c->stats->failed++;
                if (c->cb)
                        c->cb(uuid, r, e.msg, c->userdata);
                return 0;
        }
        c->stats->removed++;
        return 0;
}

/* Embryos (the embryo rule in poddir.h): only while we hold embryo/ exclusively, so that no
 * create is between its mkdir and its flock; then an embryo whose own lock is free and
 * that is older than the grace period is left over by a create that died or failed. */
static int mark_embryos(int pods_fd, struct gc_ctx *c) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(pods_fd, pod_phase_to_string(POD_PHASE_EMBRYO),
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                /* creates in progress: their embryos wait for the next gc */
                return errno == EWOULDBLOCK ? 0 : -errno;
        return for_each_in_phase(pods_fd, POD_PHASE_EMBRYO, mark_one, c);
}

int pod_gc(int pods_fd, uint64_t grace_usec, uint64_t expire_prepared_usec, bool mark_only,
           pod_gc_failure_cb cb, void *userdata, struct pod_gc_stats *ret_stats) {
        struct pod_gc_stats stats = {};
        struct gc_ctx c = {
                .now = now_usec(),
                .cb = cb,
                .userdata = userdata,
                .stats = &stats,
        };
        int r;

        c.phase = POD_PHASE_EMBRYO;
        c.age = grace_usec;
        r = mark_embryos(pods_fd, &c);
        if (r < 0)
                return r;
        c.phase = POD_PHASE_RUN;
        r = for_each_in_phase(pods_fd, POD_PHASE_RUN, mark_one, &c);
        if (r < 0)
                return r;
        c.phase = POD_PHASE_PREPARE;
        r = for_each_in_phase(pods_fd, POD_PHASE_PREPARE, mark_one, &c);
        if (r < 0)
                return r;
        c.phase = POD_PHASE_PREPARED;
        c.age = expire_prepared_usec;
        r = for_each_in_phase(pods_fd, POD_PHASE_PREPARED, mark_one, &c);
        if (r < 0)
                return r;
        if (stats.marked > 0) {
                (void)fsync_directory_of(pods_fd, "exited-garbage/x");
                (void)fsync_directory_of(pods_fd, "garbage/x");
        }

        if (!mark_only) {
                c.phase = POD_PHASE_EXITED_GARBAGE;
                c.age = grace_usec;
                c.now = now_usec();
                r = for_each_in_phase(pods_fd, POD_PHASE_EXITED_GARBAGE, sweep_one, &c);
                if (r < 0)
                        return r;
                c.phase = POD_PHASE_GARBAGE;
                r = for_each_in_phase(pods_fd, POD_PHASE_GARBAGE, sweep_one, &c);
                if (r < 0)
                        return r;
                sweep_ranges(pods_fd, &stats);
        }
        if (ret_stats)
                *ret_stats = stats;
        return 0;
}

int pod_gc_remove(struct pod_poddir *p, bool force, struct pod_error *reterr) {
        enum pod_state state;
        enum pod_phase to;
        int r;

        r = pod_poddir_refresh(p);
        if (r < 0)
                return pod_error_set(reterr, r, "Pod '%s' disappeared", p->uuid);
        r = pod_poddir_lock(p, LOCK_EX | LOCK_NB);
        if (r == -EBUSY) {
                /* Someone holds it: tell which kind of holder from the phase. */
                state = pod_state_from_phase(p->phase, true);
                if (p->phase == POD_PHASE_PREPARED)
                        return pod_error_set(reterr, r, "Pod '%s' is being started", p->uuid);
                return pod_error_set(reterr, r, "Pod '%s' is %s, refusing to remove it%s", p->uuid,
                                     pod_state_to_string(state),
                                     state == POD_STATE_RUNNING ? " (stop it first)" : "");
        }
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to lock pod '%s': %s", p->uuid,
                                     strerror(-r));

        /* With our exclusive lock nobody else moves it: see where it is now. */
        r = pod_poddir_refresh(p);
        if (r < 0)
                return pod_error_set(reterr, r, "Pod '%s' disappeared", p->uuid);

        switch (p->phase) {
        case POD_PHASE_RUN:
                to = POD_PHASE_EXITED_GARBAGE;
                break;
        case POD_PHASE_PREPARE:
        case POD_PHASE_PREPARED:
                to = POD_PHASE_GARBAGE;
                break;
        case POD_PHASE_EXITED_GARBAGE:
        case POD_PHASE_GARBAGE:
                to = p->phase;
                break;
        default:
                return pod_error_set(reterr, -EBUSY, "Pod '%s' is being created", p->uuid);
        }
        if (to != p->phase) {
                char a[PATH_MAX], b[PATH_MAX];

                phase_path(a, p->phase, p->uuid);
                phase_path(b, to, p->uuid);
                if (renameat(p->pods_fd, a, p->pods_fd, b) < 0)
                        return pod_error_set(reterr, -errno, "Failed to mark pod '%s': %s", p->uuid,
                                             strerror(errno));
                p->phase = to;
        }
        return delete_locked(p->pods_fd, p->fd, p->phase, p->uuid, force, reterr);
}
