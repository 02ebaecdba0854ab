/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "fd-util.h"
#include "macro.h"
#include "path-util.h"
#include "poddir.h"
#include "statedir.h"

static const char *const phase_names[_POD_PHASE_MAX] = {
        [POD_PHASE_EMBRYO] = "embryo",
        [POD_PHASE_PREPARE] = "prepare",
        [POD_PHASE_PREPARED] = "prepared",
        [POD_PHASE_RUN] = "run",
        [POD_PHASE_EXITED_GARBAGE] = "exited-garbage",
        [POD_PHASE_GARBAGE] = "garbage",
};

static const char *const state_names[_POD_STATE_MAX] = {
        [POD_STATE_EMBRYO] = "embryo",
        [POD_STATE_PREPARING] = "preparing",
        [POD_STATE_ABORTED_PREPARE] = "aborted prepare",
        [POD_STATE_PREPARED] = "prepared",
        [POD_STATE_RUNNING] = "running",
        [POD_STATE_EXITED] = "exited",
        [POD_STATE_EXITED_GARBAGE] = "exited garbage",
        [POD_STATE_DELETING] = "deleting",
        [POD_STATE_GARBAGE] = "garbage",
};

const char *pod_phase_to_string(enum pod_phase p) {
        if (p < 0 || p >= _POD_PHASE_MAX)
                return NULL;
        return phase_names[p];
}

enum pod_phase pod_phase_from_string(const char *s) {
        for (int i = 0; i < _POD_PHASE_MAX; i++)
                if (streq(phase_names[i], s))
                        return (enum pod_phase)i;
        return _POD_PHASE_INVALID;
}

const char *pod_state_to_string(enum pod_state s) {
        if (s < 0 || s >= _POD_STATE_MAX)
                return NULL;
        return state_names[s];
}

enum pod_state pod_state_from_phase(enum pod_phase phase, bool locked) {
        switch (phase) {
        case POD_PHASE_EMBRYO:
                return POD_STATE_EMBRYO;
        case POD_PHASE_PREPARE:
                return locked ? POD_STATE_PREPARING : POD_STATE_ABORTED_PREPARE;
        case POD_PHASE_PREPARED:
                /* Locked only for the instant between run-prepared's lock and rename, or
                 * while gc expires it: still prepared. */
                return POD_STATE_PREPARED;
        case POD_PHASE_RUN:
                return locked ? POD_STATE_RUNNING : POD_STATE_EXITED;
        case POD_PHASE_EXITED_GARBAGE:
                return locked ? POD_STATE_DELETING : POD_STATE_EXITED_GARBAGE;
        case POD_PHASE_GARBAGE:
                return locked ? POD_STATE_DELETING : POD_STATE_GARBAGE;
        default:
                return _POD_STATE_INVALID;
        }
}

bool pod_state_is_final(enum pod_state s) {
        return s == POD_STATE_EXITED || s == POD_STATE_EXITED_GARBAGE || s == POD_STATE_GARBAGE;
}

static void phase_path(char *buf, enum pod_phase phase, const char *uuid) {
        /* phase names and canonical UUIDs are short: no truncation possible */
        (void)snprintf(buf, PATH_MAX, "%s/%s", phase_names[phase], uuid);
}

int pod_pods_open(const char *data_dir, bool create, int *ret_fd) {
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        int r;

        /* The data dir and pods/ are private (statedir.h): a pod's tree holds the image's
         * set-uid and file-capability binaries. */
        r = pod_statedir_open(AT_FDCWD, data_dir, create, &dfd, NULL);
        if (r < 0)
                return r;
        r = pod_statedir_open(dfd, "pods", create, &fd, NULL);
        if (r < 0)
                return r;
        if (create)
                for (int i = 0; i < _POD_PHASE_MAX; i++)
                        if (mkdirat(fd, phase_names[i], 0700) < 0 && errno != EEXIST)
                                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

struct pod_poddir *pod_poddir_free(struct pod_poddir *p) {
        if (!p)
                return NULL;
        (void)safe_close(p->fd);
        (void)safe_close(p->pods_fd);
        free(p);
        return NULL;
}

static int poddir_new(int pods_fd, const char *uuid, enum pod_phase phase, int fd,
                      struct pod_poddir **ret) {
        struct pod_poddir *p;
        int pfd;

        pfd = fcntl(pods_fd, F_DUPFD_CLOEXEC, 3);
        if (pfd < 0)
                return -errno;
        p = calloc(1, sizeof(*p));
        if (!p) {
                (void)safe_close(pfd);
                return -ENOMEM;
        }
        (void)snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
        p->phase = phase;
        p->pods_fd = pfd;
        p->fd = fd;
        p->sync = true;
        *ret = p;
        return 0;
}

int pod_poddir_create(int pods_fd, const char *uuid_file_save, bool sync, struct pod_poddir **ret,
                      struct pod_error *reterr) {
        _cleanup_close_ int embryo_fd = -EBADF, fd = -EBADF, cfd = -EBADF;
        char uuid[POD_UUID_STRING_MAX], from[PATH_MAX], to[PATH_MAX];
        struct pod_poddir *p = NULL;
        struct pod_uuid u;
        int r;

        r = pod_uuid_generate(&u);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to generate a pod UUID: %s", strerror(-r));
        (void)pod_uuid_format(&u, uuid);

        embryo_fd = openat(pods_fd, "embryo", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (embryo_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open 'pods/embryo': %s",
                                     strerror(errno));
        /* The embryo rule (poddir.h): from mkdir until our own lock is taken, a shared lock
         * on embryo/ says "a create is in progress here".  gc only collects embryos while
         * it holds embryo/ exclusively, and only the unlocked ones.  It holds it for an
         * instant (no sweeping), so blocking here is short. */
        while (flock(embryo_fd, LOCK_SH) < 0)
                if (errno != EINTR)
                        return pod_error_set(reterr, -errno, "Failed to lock 'pods/embryo': %s",
                                             strerror(errno));
        if (mkdirat(embryo_fd, uuid, 0750) < 0)
                return pod_error_set(reterr, -errno, "Failed to create pod directory '%s': %s",
                                     uuid, strerror(errno));

        if (uuid_file_save) {
                r = pod_uuid_file_save(uuid_file_save, uuid);
                if (r < 0) {
                        (void)unlinkat(embryo_fd, uuid, AT_REMOVEDIR);
                        return pod_error_set(reterr, r, "Failed to save the pod UUID to '%s': %s",
                                             uuid_file_save, strerror(-r));
                }
        }

        fd = openat(embryo_fd, uuid, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                r = -errno;
        else if (flock(fd, LOCK_EX) < 0)
                r = -errno;
        else if (flock(embryo_fd, LOCK_UN) < 0) /* our own lock protects the embryo now */
                r = -errno;
        else if (fchmod(fd, 0750) < 0) /* whatever the umask */
                r = -errno;
        else {
                /* "pod-created": its mtime is the creation time shown by list and status. */
                cfd = openat(fd, "pod-created",
                             O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                r = cfd < 0 ? -errno : 0;
        }
        phase_path(from, POD_PHASE_EMBRYO, uuid);
        phase_path(to, POD_PHASE_PREPARE, uuid);
        if (r >= 0 && renameat(pods_fd, from, pods_fd, to) < 0)
                r = -errno;
        if (r >= 0 && sync)
                r = fsync_directory_of(pods_fd, to);
        if (r < 0) {
                (void)rm_rf_at(pods_fd, from);
                (void)rm_rf_at(pods_fd, to);
                return pod_error_set(reterr, r, "Failed to create pod '%s': %s", uuid,
                                     strerror(-r));
        }

        r = poddir_new(pods_fd, uuid, POD_PHASE_PREPARE, fd, &p);
        if (r < 0) {
                (void)rm_rf_at(pods_fd, to);
                return pod_error_set(reterr, r, "Failed to create pod '%s': %s", uuid,
                                     strerror(-r));
        }
        TAKE_FD(fd);
        p->lock = LOCK_EX;
        p->sync = sync;
        *ret = p;
        return 0;
}

/* Finds uuid in the phases from `from` on.  Forward-only transitions mean a pod that moves
 * while we look is found in a later phase; only deletion makes it vanish. */
static int open_from_phase(int pods_fd, const char *uuid, enum pod_phase from, int *ret_fd,
                           enum pod_phase *ret_phase) {
        char path[PATH_MAX];

        for (int i = from; i < _POD_PHASE_MAX; i++) {
                int fd;

                phase_path(path, (enum pod_phase)i, uuid);
                fd = openat(pods_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                *ret_fd = fd;
                *ret_phase = (enum pod_phase)i;
                return 0;
        }
        return -ENOENT;
}

int pod_poddir_open(int pods_fd, const char *uuid, struct pod_poddir **ret) {
        _cleanup_close_ int fd = -EBADF;
        enum pod_phase phase;
        int r;

        if (!pod_uuid_string_valid(uuid))
                return -EINVAL;
        r = open_from_phase(pods_fd, uuid, POD_PHASE_PREPARE, &fd, &phase);
        if (r < 0)
                return r;
        r = poddir_new(pods_fd, uuid, phase, fd, ret);
        if (r < 0)
                return r;
        TAKE_FD(fd);
        return 0;
}

int pod_poddir_refresh(struct pod_poddir *p) {
        struct stat mine;
        char path[PATH_MAX];

        if (fstat(p->fd, &mine) < 0)
                return -errno;
        for (int i = p->phase; i < _POD_PHASE_MAX; i++) {
                struct stat st;

                phase_path(path, (enum pod_phase)i, p->uuid);
                if (fstatat(p->pods_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (st.st_dev != mine.st_dev || st.st_ino != mine.st_ino)
                        return -ENOENT; /* a different directory under our name */
                p->phase = (enum pod_phase)i;
                return 0;
        }
        return -ENOENT;
}

static int add_candidate(char ***list, size_t *n, const char *uuid) {
        char **l;

        for (size_t i = 0; i < *n; i++)
                if (streq((*list)[i], uuid))
                        return 0; /* seen in an earlier phase while it moved */
        l = realloc(*list, (*n + 2) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        *list = l;
        l[*n] = strdup(uuid);
        if (!l[*n])
                return -ENOMEM;
        l[++*n] = NULL;
        return 0;
}

int pod_poddir_lookup(int pods_fd, const char *prefix, char *ret_uuid, struct pod_error *reterr) {
        static const enum pod_phase phases[] = { POD_PHASE_PREPARE, POD_PHASE_PREPARED,
                                                 POD_PHASE_RUN, POD_PHASE_EXITED_GARBAGE };
        _cleanup_strv_free_ char **found = NULL;
        char lower[POD_UUID_STRING_MAX];
        size_t n = 0, len = strlen(prefix);
        int r;

        if (len > POD_UUID_STRING_LEN)
                return pod_error_set(reterr, -EINVAL, "'%s' is not a pod UUID", prefix);
        for (size_t i = 0; i <= len; i++)
                lower[i] =
                        (char)((prefix[i] >= 'A' && prefix[i] <= 'F') ? prefix[i] + 32 : prefix[i]);
        if (!pod_uuid_prefix_valid(lower))
                return pod_error_set(reterr, -EINVAL, "'%s' is not a pod UUID or UUID prefix",
                                     prefix);

        /* A whole UUID names at most one pod: a lookup per phase, not a read of every phase
         * dir (with 1,000 pods, most of `pod status UUID`).  The same phases in the same
         * order as below, so a pod moving forward meanwhile is found as it is there. */
        if (len == POD_UUID_STRING_LEN && pod_uuid_string_valid(lower)) {
                for (size_t k = 0; k < ELEMENTSOF(phases); k++) {
                        char path[64];
                        struct stat st;

                        (void)snprintf(path, sizeof(path), "%s/%s", phase_names[phases[k]], lower);
                        if (fstatat(pods_fd, path, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                                (void)snprintf(ret_uuid, POD_UUID_STRING_MAX, "%s", lower);
                                return 0;
                        }
                        if (errno != ENOENT)
                                return pod_error_set(reterr, -errno,
                                                     "Failed to look up 'pods/%s': %s", path,
                                                     strerror(errno));
                }
                return pod_error_set(reterr, -ENOENT, "No pod matches '%s'", prefix);
        }

        for (size_t k = 0; k < ELEMENTSOF(phases); k++) {
                _cleanup_closedir_ DIR *d = NULL;
                struct dirent *de;
                int dfd;

                dfd = openat(pods_fd, phase_names[phases[k]],
                             O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dfd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return pod_error_set(reterr, -errno, "Failed to open 'pods/%s': %s",
                                             phase_names[phases[k]], strerror(errno));
                }
                d = fdopendir(dfd);
                if (!d) {
                        r = -errno;
                        (void)close(dfd);
                        return pod_error_set(reterr, r, "Failed to read 'pods/%s'",
                                             phase_names[phases[k]]);
                }
                while ((de = readdir(d))) {
                        if (!strneq(de->d_name, lower, len) || !pod_uuid_string_valid(de->d_name))
                                continue;
                        r = add_candidate(&found, &n, de->d_name);
                        if (r < 0)
                                return pod_error_set(reterr, r, "Out of memory");
                }
        }

        if (n == 0)
                return pod_error_set(reterr, -ENOENT, "No pod matches '%s'", prefix);
        if (n > 1) {
                char list[POD_ERROR_MSG_MAX] = "";
                size_t used = 0;

                for (size_t i = 0; i < n && used < sizeof(list); i++) {
                        int k = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                                         found[i]);
                        if (k < 0)
                                break;
                        used += (size_t)k;
                }
                return pod_error_set(reterr, -ENOTUNIQ,
                                     "UUID prefix '%s' is ambiguous, %zu pods match: %s", prefix, n,
                                     list);
        }
        (void)snprintf(ret_uuid, POD_UUID_STRING_MAX, "%s", found[0]);
        return 0;
}

int pod_poddir_fd_is_locked(int fd) {
        if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        return 1;
                return -errno;
        }
        if (flock(fd, LOCK_UN) < 0)
                return -errno;
        return 0;
}

int pod_poddir_get_state(struct pod_poddir *p, enum pod_state *ret) {
        bool locked = p->lock != 0;

        if (!locked) {
                int r = pod_poddir_fd_is_locked(p->fd);
                if (r < 0)
                        return r;
                locked = r > 0;
        }
        *ret = pod_state_from_phase(p->phase, locked);
        return 0;
}

int pod_poddir_lock(struct pod_poddir *p, int how) {
        int tries = (how & LOCK_NB) && (how & LOCK_EX) ? 20 : 1;

        for (int i = 0; i < tries; i++) {
                if (flock(p->fd, how) >= 0) {
                        p->lock = how & (LOCK_SH | LOCK_EX);
                        return 0;
                }
                if (errno == EINTR && !(how & LOCK_NB)) {
                        i--;
                        continue;
                }
                if (errno != EWOULDBLOCK)
                        return -errno;
                /* A list or status may hold LOCK_SH for an instant: give it 100 ms. */
                if (i + 1 < tries)
                        (void)nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
        }
        return -EBUSY;
}

int pod_poddir_unlock(struct pod_poddir *p) {
        if (flock(p->fd, LOCK_UN) < 0)
                return -errno;
        p->lock = 0;
        return 0;
}

static int poddir_move(struct pod_poddir *p, enum pod_phase to) {
        char a[PATH_MAX], b[PATH_MAX];
        int r;

        phase_path(a, p->phase, p->uuid);
        phase_path(b, to, p->uuid);
        if (renameat(p->pods_fd, a, p->pods_fd, b) < 0)
                return -errno;
        p->phase = to;
        if (!p->sync)
                return 0;
        r = fsync_directory_of(p->pods_fd, b);
        if (r < 0)
                return r;
        return 0;
}

static int require_prepare_locked(struct pod_poddir *p, const char *what,
                                  struct pod_error *reterr) {
        if (p->phase != POD_PHASE_PREPARE || p->lock != LOCK_EX)
                return pod_error_set(reterr, -EINVAL,
                                     "Cannot %s pod '%s': it is not being prepared by us", what,
                                     p->uuid);
        return 0;
}

int pod_poddir_to_prepared(struct pod_poddir *p, struct pod_error *reterr) {
        int r;

        r = require_prepare_locked(p, "mark prepared", reterr);
        if (r < 0)
                return r;
        r = poddir_move(p, POD_PHASE_PREPARED);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to move pod '%s' to prepared: %s", p->uuid,
                                     strerror(-r));
        r = pod_poddir_unlock(p);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to unlock pod '%s': %s", p->uuid,
                                     strerror(-r));
        return 0;
}

int pod_poddir_to_run(struct pod_poddir *p, struct pod_error *reterr) {
        int r;

        r = require_prepare_locked(p, "run", reterr);
        if (r < 0)
                return r;
        r = poddir_move(p, POD_PHASE_RUN);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to move pod '%s' to run: %s", p->uuid,
                                     strerror(-r));
        return 0;
}

int pod_poddir_run_prepared(struct pod_poddir *p, struct pod_error *reterr) {
        int r;

        if (p->phase != POD_PHASE_PREPARED)
                return pod_error_set(reterr, -EINVAL, "Pod '%s' is not prepared", p->uuid);
        r = pod_poddir_lock(p, LOCK_EX | LOCK_NB);
        if (r == -EBUSY)
                return pod_error_set(reterr, r,
                                     "Pod '%s' is locked by another process (being started "
                                     "or removed)",
                                     p->uuid);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to lock pod '%s': %s", p->uuid,
                                     strerror(-r));
        r = poddir_move(p, POD_PHASE_RUN);
        if (r < 0) {
                (void)pod_poddir_unlock(p);
                if (r == -ENOENT)
                        return pod_error_set(reterr, r,
                                             "Pod '%s' is no longer prepared: another process "
                                             "started or removed it",
                                             p->uuid);
                return pod_error_set(reterr, r, "Failed to move pod '%s' to run: %s", p->uuid,
                                     strerror(-r));
        }
        return 0;
}

int pod_poddir_prepare_exec_lock(struct pod_poddir *p) {
        char buf[32];
        int r;

        if (p->lock != LOCK_EX)
                return -ENOLCK;
        r = fd_cloexec(p->fd, false);
        if (r < 0)
                return r;
        (void)snprintf(buf, sizeof(buf), "%d", p->fd);
        if (setenv(POD_LOCK_FD_ENV, buf, 1) < 0)
                return -errno;
        return p->fd;
}

int pod_poddir_lock_fd_from_env(int *ret_fd) {
        const char *e = getenv(POD_LOCK_FD_ENV);
        struct stat st;
        char *end = NULL;
        long v;
        int r;

        if (!e)
                return -ENXIO;
        errno = 0;
        v = strtol(e, &end, 10);
        if (errno != 0 || !end || *end != 0 || end == e || v < 0 || v > INT_MAX)
                return -EINVAL;
        if (fstat((int)v, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        r = fd_cloexec((int)v, true);
        if (r < 0)
                return r;
        *ret_fd = (int)v;
        return 0;
}

/* Small decimal files: "pid", "status/<app>". */
static int read_small_int(int fd, const char *name, long long min, long long max, long long *ret,
                          struct timespec *ret_mtime) {
        _cleanup_close_ int ffd = -EBADF;
        char buf[64], *end = NULL;
        struct stat st;
        ssize_t k;
        long long v;

        ffd = openat(fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (ffd < 0)
                return -errno;
        if (ret_mtime && fstat(ffd, &st) < 0)
                return -errno;
        k = loop_read(ffd, buf, sizeof(buf) - 1);
        if (k < 0)
                return (int)k;
        buf[k] = 0;
        while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == ' '))
                buf[--k] = 0;
        if (k == 0)
                return -ENODATA; /* being written */
        errno = 0;
        v = strtoll(buf, &end, 10);
        if (errno != 0 || *end != 0 || v < min || v > max)
                return -EBADMSG;
        *ret = v;
        if (ret_mtime)
                *ret_mtime = st.st_mtim;
        return 0;
}

int pod_poddir_read_pid(int fd, pid_t *ret_pid, struct timespec *ret_started) {
        long long v;
        int r;

        r = read_small_int(fd, "pid", 1, INT_MAX, &v, ret_started);
        if (r < 0)
                return r;
        *ret_pid = (pid_t)v;
        return 0;
}

int pod_poddir_read_app_status(int fd, const char *app, int *ret_code) {
        char path[PATH_MAX];
        long long v;
        int r;

        if (!ac_name_valid(app))
                return -EINVAL;
        (void)snprintf(path, sizeof(path), "status/%s", app);
        r = read_small_int(fd, path, INT_MIN, INT_MAX, &v, NULL);
        if (r < 0)
                return r;
        *ret_code = (int)v;
        return 0;
}

int pod_poddir_read_unit(int fd, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t size = 0;
        int r;

        r = read_full_file_at(fd, "unit", 256, &s, &size);
        if (r < 0)
                return r;
        while (size > 0 && (s[size - 1] == '\n' || s[size - 1] == ' '))
                s[--size] = 0;
        if (size == 0)
                return -ENODATA;
        for (size_t i = 0; i < size; i++)
                if ((unsigned char)s[i] <= ' ' || s[i] == 127)
                        return -EBADMSG;
        *ret = TAKE_PTR(s);
        return 0;
}

int pod_poddir_read_manifest(int fd, char **ret, size_t *ret_size) {
        return read_full_file_at(fd, "pod", POD_PODDIR_MANIFEST_MAX, ret, ret_size);
}

int pod_poddir_get_created(int fd, struct timespec *ret) {
        struct stat st;

        if (fstatat(fd, "pod-created", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        *ret = st.st_mtim;
        return 0;
}

int pod_poddir_stop(struct pod_poddir *p, bool force, struct pod_error *reterr) {
        _cleanup_close_ int pidfd = -EBADF;
        int sig = force ? SIGKILL : SIGTERM;
        enum pod_state state;
        pid_t pid;
        int r;

        r = pod_poddir_refresh(p);
        if (r < 0)
                return pod_error_set(reterr, r, "Pod '%s' disappeared", p->uuid);
        r = pod_poddir_get_state(p, &state);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to probe the lock of pod '%s': %s", p->uuid,
                                     strerror(-r));
        switch (state) {
        case POD_STATE_RUNNING:
                break;
        case POD_STATE_EXITED:
        case POD_STATE_EXITED_GARBAGE:
        case POD_STATE_GARBAGE:
        case POD_STATE_DELETING:
                return 0;
        default:
                return pod_error_set(reterr, -EINVAL, "Pod '%s' is not running (%s)", p->uuid,
                                     pod_state_to_string(state));
        }

        r = pod_poddir_read_pid(p->fd, &pid, NULL);
        if (r < 0) {
                if (r == -ENOENT || r == -ENODATA)
                        return pod_error_set(reterr, -ESRCH,
                                             "Pod '%s' is running but has no pid yet (starting)",
                                             p->uuid);
                return pod_error_set(reterr, r, "Failed to read the pid of pod '%s': %s", p->uuid,
                                     strerror(-r));
        }

        /* Pin the process first, then check the pod still runs: if the lock is still held
         * after pidfd_open(), the pidfd is the pod's init and not a recycled PID. */
        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0 && errno != ENOSYS) {
                r = -errno;
                if (pod_poddir_fd_is_locked(p->fd) == 0)
                        return 0; /* exited meanwhile */
                return pod_error_set(reterr, r, "Failed to open pid %d of pod '%s': %s", (int)pid,
                                     p->uuid, strerror(-r));
        }
        r = pod_poddir_fd_is_locked(p->fd);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to probe the lock of pod '%s': %s", p->uuid,
                                     strerror(-r));
        if (r == 0)
                return 0;

        if (pidfd >= 0)
                r = pidfd_send_signal(pidfd, sig, NULL, 0);
        else
                r = kill(pid, sig); /* kernels before 5.3 */
        if (r < 0) {
                if (errno == ESRCH)
                        return 0;
                return pod_error_set(reterr, -errno, "Failed to signal pid %d of pod '%s': %s",
                                     (int)pid, p->uuid, strerror(errno));
        }
        return 1;
}

int pod_poddir_wait_unlocked(int fd, int extra_fd, uint64_t timeout_usec) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        struct timespec deadline = {};
        pid_t parent = getpid(), child;
        int pipefd[2], status, r;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        rfd = pipefd[0];
        wfd = pipefd[1];

        if (timeout_usec != POD_USEC_INFINITY) {
                (void)clock_gettime(CLOCK_MONOTONIC, &deadline);
                deadline.tv_sec += (time_t)(timeout_usec / POD_USEC_PER_SEC);
                deadline.tv_nsec += (long)(timeout_usec % POD_USEC_PER_SEC) * 1000;
                if (deadline.tv_nsec >= 1000000000L) {
                        deadline.tv_sec++;
                        deadline.tv_nsec -= 1000000000L;
                }
        }

        child = fork();
        if (child < 0)
                return -errno;
        if (child == 0) {
                int nfd;

                /* Our own open file description: a lock on the inherited one would outlive
                 * us in the parent.  Die with the parent. */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(1);
                nfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (nfd < 0)
                        _exit(1);
                while (flock(nfd, LOCK_SH) < 0)
                        if (errno != EINTR)
                                _exit(1);
                _exit(0); /* closing wfd tells the parent */
        }
        wfd = safe_close(wfd);

        for (;;) {
                struct pollfd pfd[2] = { { .fd = rfd, .events = POLLIN },
                                         { .fd = extra_fd, .events = POLLIN } };
                struct timespec left, now, *tp = NULL;
                int n;

                if (timeout_usec != POD_USEC_INFINITY) {
                        (void)clock_gettime(CLOCK_MONOTONIC, &now);
                        left.tv_sec = deadline.tv_sec - now.tv_sec;
                        left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
                        if (left.tv_nsec < 0) {
                                left.tv_sec--;
                                left.tv_nsec += 1000000000L;
                        }
                        if (left.tv_sec < 0)
                                left = (struct timespec){};
                        tp = &left;
                }
                n = ppoll(pfd, extra_fd >= 0 ? 2 : 1, tp, NULL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (n == 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                if (pfd[0].revents) {
                        while (waitpid(child, &status, 0) < 0)
                                if (errno != EINTR)
                                        return -errno;
                        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : -EIO;
                }
                r = 2;
                break;
        }
        (void)kill(child, SIGKILL);
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        break;
        return r;
}

static uint64_t mono_usec(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * POD_USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t remaining(uint64_t deadline) {
        uint64_t now;

        if (deadline == POD_USEC_INFINITY)
                return POD_USEC_INFINITY;
        now = mono_usec();
        return now >= deadline ? 0 : deadline - now;
}

/* Watches the pod directory inode itself: it follows the pod through renames. */
static int watch_pod(struct pod_poddir *p, uint32_t mask, int *ret_ifd) {
        _cleanup_close_ int ifd = -EBADF;
        char path[64];

        ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ifd < 0)
                return -errno;
        (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", p->fd);
        if (inotify_add_watch(ifd, path, mask | IN_ONLYDIR) < 0)
                return -errno;
        *ret_ifd = TAKE_FD(ifd);
        return 0;
}

/* Reads all pending events; true if one is about `name` or the directory itself. */
static bool drain_events(int ifd, const char *name) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool relevant = false;

        for (;;) {
                ssize_t k = read(ifd, buf, sizeof(buf));
                if (k <= 0)
                        return relevant;
                for (char *q = buf; q < buf + k;) {
                        const struct inotify_event *ev = (const struct inotify_event *)q;

                        if (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_Q_OVERFLOW | IN_IGNORED))
                                relevant = true;
                        else if (!name || (ev->len > 0 && streq(ev->name, name)))
                                relevant = true;
                        q += sizeof(*ev) + ev->len;
                }
        }
}

static int wait_fd(int ifd, uint64_t timeout_usec) {
        struct pollfd pfd = { .fd = ifd, .events = POLLIN };
        struct timespec ts, *tp = NULL;
        int n;

        if (timeout_usec != POD_USEC_INFINITY) {
                ts.tv_sec = (time_t)(timeout_usec / POD_USEC_PER_SEC);
                ts.tv_nsec = (long)(timeout_usec % POD_USEC_PER_SEC) * 1000;
                tp = &ts;
        }
        n = ppoll(&pfd, 1, tp, NULL);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        return n == 0 ? -ETIMEDOUT : 0;
}

int pod_poddir_wait_exited(struct pod_poddir *p, uint64_t timeout_usec) {
        uint64_t deadline =
                timeout_usec == POD_USEC_INFINITY ? POD_USEC_INFINITY : mono_usec() + timeout_usec;
        _cleanup_close_ int ifd = -EBADF;
        int r;

        r = watch_pod(p, IN_MOVE_SELF | IN_DELETE_SELF, &ifd);
        if (r < 0)
                return r;

        for (;;) {
                enum pod_state state;

                (void)drain_events(ifd, NULL);
                r = pod_poddir_refresh(p);
                if (r < 0)
                        return r;
                r = pod_poddir_get_state(p, &state);
                if (r < 0)
                        return r;

                switch (state) {
                case POD_STATE_EXITED:
                case POD_STATE_EXITED_GARBAGE:
                case POD_STATE_GARBAGE:
                        return 0;
                case POD_STATE_DELETING:
                        return p->phase == POD_PHASE_EXITED_GARBAGE ? 0 : -ECANCELED;
                case POD_STATE_ABORTED_PREPARE:
                        return -ECANCELED;
                case POD_STATE_PREPARING:
                case POD_STATE_RUNNING:
                        r = pod_poddir_wait_unlocked(p->fd, -EBADF, remaining(deadline));
                        if (r < 0)
                                return r;
                        break;
                case POD_STATE_PREPARED:
                default:
                        /* Until someone starts it (or gc expires it): the rename wakes us. */
                        r = wait_fd(ifd, remaining(deadline));
                        if (r < 0)
                                return r;
                        break;
                }
        }
}

int pod_poddir_wait_ready(struct pod_poddir *p, uint64_t timeout_usec) {
        uint64_t deadline =
                timeout_usec == POD_USEC_INFINITY ? POD_USEC_INFINITY : mono_usec() + timeout_usec;
        _cleanup_close_ int ifd = -EBADF;
        int r;

        r = watch_pod(p,
                      IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVE_SELF |
                              IN_DELETE_SELF,
                      &ifd);
        if (r < 0)
                return r;

        for (;;) {
                enum pod_state state;
                pid_t pid;

                (void)drain_events(ifd, NULL);
                r = pod_poddir_refresh(p);
                if (r < 0)
                        return r == -ENOENT ? -ESRCH : r;
                r = pod_poddir_get_state(p, &state);
                if (r < 0)
                        return r;

                switch (state) {
                case POD_STATE_RUNNING:
                        if (pod_poddir_read_pid(p->fd, &pid, NULL) >= 0)
                                return 0;
                        __attribute__((fallthrough));
                case POD_STATE_PREPARING:
                        /* Wakes on the lock going away (exit, or prepare -> prepared) or on
                         * a change in the directory (pid written, moved to run/). */
                        for (;;) {
                                r = pod_poddir_wait_unlocked(p->fd, ifd, remaining(deadline));
                                if (r < 0)
                                        return r;
                                if (r == 1 || drain_events(ifd, "pid"))
                                        break;
                        }
                        break;
                case POD_STATE_PREPARED:
                        r = wait_fd(ifd, remaining(deadline));
                        if (r < 0)
                                return r;
                        break;
                default:
                        return -ESRCH;
                }
        }
}
