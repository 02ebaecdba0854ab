/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rootless pods: the subordinate ID lookup, entering the user namespace, the map reader
 * (rootless.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "macro.h"
#include "rootless.h"

/* Decimal, no sign, no leading blanks, fits 32 bits; *end at the first other character. */
static int parse_u32(const char *s, const char **end, uint32_t *ret) {
        uint64_t v = 0;
        const char *p = s;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > UINT32_MAX)
                        return -ERANGE;
        }
        *end = p;
        *ret = (uint32_t)v;
        return 0;
}

/* "OWNER:START:COUNT" (trailing newline stripped by the caller). */
static bool subid_line(char *line, const char *name, const char *id, struct pod_subid_range *ret) {
        char *c1 = strchr(line, ':'), *c2;
        const char *end;
        uint32_t start, count;

        if (!c1)
                return false;
        *c1 = 0;
        if (!(name && streq(line, name)) && !streq(line, id))
                return false;
        c2 = strchr(c1 + 1, ':');
        if (!c2)
                return false;
        *c2 = 0;
        if (parse_u32(c1 + 1, &end, &start) < 0 || *end)
                return false;
        if (parse_u32(c2 + 1, &end, &count) < 0 || *end || count == 0)
                return false;
        if ((uint64_t)start + count > UINT32_MAX) /* 2^32 - 1 is no ID (the "-1" of chown) */
                return false;
        ret->start = start;
        ret->count = count;
        return true;
}

int pod_subid_find(const char *path, const char *name, uint32_t id, struct pod_subid_range *ret,
                   struct pod_error *reterr) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        char ids[16];
        size_t size = 0;
        ssize_t n;

        (void)snprintf(ids, sizeof(ids), "%" PRIu32, id);
        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT)
                        return -ENOENT;
                return pod_error_set(reterr, -errno, "Failed to open '%s': %s", path,
                                     strerror(errno));
        }
        while ((n = getline(&line, &size, f)) >= 0) {
                if (n > 0 && line[n - 1] == '\n')
                        line[n - 1] = 0;
                if (line[0] == '#' || line[0] == 0)
                        continue;
                if (subid_line(line, name, ids, ret))
                        return 0;
        }
        if (ferror(f))
                return pod_error_set(reterr, -EIO, "Failed to read '%s'", path);
        return -ENOENT;
}

int pod_id_map_load(const char *path, struct pod_id_map *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        struct pod_id_map m = {};
        size_t size = 0;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (getline(&line, &size, f) >= 0) {
                const char *p = line;
                uint32_t v[3];

                for (int i = 0; i < 3; i++) {
                        while (*p == ' ')
                                p++;
                        if (parse_u32(p, &p, &v[i]) < 0)
                                return -EBADMSG;
                }
                if (*p != '\n' && *p != 0)
                        return -EBADMSG;
                if (m.n >= POD_ID_MAP_MAX)
                        return -EBADMSG;
                m.e[m.n].inside = v[0];
                m.e[m.n].outside = v[1];
                m.e[m.n].count = v[2];
                m.n++;
        }
        if (ferror(f))
                return -EIO;
        *ret = m;
        return 0;
}

bool pod_id_map_is_identity(const struct pod_id_map *m) {
        return m->n == 1 && m->e[0].inside == 0 && m->e[0].outside == 0 &&
               m->e[0].count == UINT32_MAX;
}

bool pod_id_map_contains(const struct pod_id_map *m, uint32_t id) {
        for (size_t i = 0; i < m->n; i++)
                if (id >= m->e[i].inside && id - m->e[i].inside < m->e[i].count)
                        return true;
        return false;
}

void pod_id_map_format(const struct pod_id_map *m, char *buf, size_t size) {
        size_t len = 0;

        if (size == 0)
                return;
        buf[0] = 0;
        if (m->n == 0) {
                (void)snprintf(buf, size, "none");
                return;
        }
        for (size_t i = 0, j; i < m->n && len < size; i = j) {
                uint64_t last = (uint64_t)m->e[i].inside + m->e[i].count - 1;
                int k;

                /* extents that continue each other ("0 UID 1" + "1 START COUNT") as one */
                for (j = i + 1; j < m->n && m->e[j].inside == last + 1; j++)
                        last += m->e[j].count;
                if (last == m->e[i].inside)
                        k = snprintf(buf + len, size - len, "%s%" PRIu32, i ? ", " : "",
                                     m->e[i].inside);
                else
                        k = snprintf(buf + len, size - len, "%s%" PRIu32 "-%" PRIu64, i ? ", " : "",
                                     m->e[i].inside, last);
                if (k < 0)
                        return;
                len += (size_t)k;
        }
}

int pod_id_maps_load_self(struct pod_id_maps **ret, struct pod_error *reterr) {
        _cleanup_free_ struct pod_id_maps *m = malloc(sizeof(struct pod_id_maps));
        int r;

        if (!m)
                return -ENOMEM;
        r = pod_id_map_load("/proc/self/uid_map", &m->uid);
        if (r >= 0)
                r = pod_id_map_load("/proc/self/gid_map", &m->gid);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read this user namespace's ID maps: %s",
                                     strerror(-r));
        *ret = TAKE_PTR(m);
        return 0;
}

int pod_id_maps_check_owner(const struct pod_id_maps *m, int64_t uid, int64_t gid, const char *what,
                            struct pod_error *reterr) {
        char uids[128], gids[128];

        if (uid >= 0 && uid < UINT32_MAX && gid >= 0 && gid < UINT32_MAX &&
            pod_id_map_contains(&m->uid, (uint32_t)uid) &&
            pod_id_map_contains(&m->gid, (uint32_t)gid))
                return 0;
        pod_id_map_format(&m->uid, uids, sizeof(uids));
        pod_id_map_format(&m->gid, gids, sizeof(gids));
        return pod_error_set(reterr, -ERANGE,
                             "Refusing archive entry '%s': its owner %" PRId64 ":%" PRId64
                             " is outside the IDs of your rootless user namespace (uids %s, "
                             "gids %s: you are 0, 1 and up are your range in /etc/subuid and "
                             "/etc/subgid)",
                             what, uid, gid, uids, gids);
}

bool pod_in_user_namespace(void) {
        static int cached = -1; /* written once with the same value by whoever comes first */
        struct pod_id_map m;
        int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);

        if (v >= 0)
                return v;
        /* Without /proc, nothing tells: the initial namespace is the safe guess for callers
         * that only relax rules inside one (they would then just fail as before). */
        v = pod_id_map_load("/proc/self/uid_map", &m) >= 0 && !pod_id_map_is_identity(&m);
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
        return v;
}

/* An executable named name in $PATH, else in /usr/bin; NULL if neither. */
static char *find_helper(const char *name) {
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = NULL;
        char *p;

        if (path && *path) {
                copy = strdup(path);
                if (!copy)
                        return NULL;
                for (char *dir = strtok_r(copy, ":", &p); dir; dir = strtok_r(NULL, ":", &p)) {
                        char *f;

                        if (dir[0] != '/') /* a relative $PATH entry: not here */
                                continue;
                        if (asprintf(&f, "%s/%s", dir, name) < 0)
                                return NULL;
                        if (access(f, X_OK) == 0)
                                return f;
                        free(f);
                }
        }
        if (asprintf(&p, "/usr/bin/%s", name) < 0)
                return NULL;
        if (access(p, X_OK) == 0)
                return p;
        free(p);
        return NULL;
}

static int write_proc_self(const char *name, const char *text) {
        _cleanup_close_ int fd = -EBADF;
        char path[64];

        /* one write(2): the kernel takes a map in a single write only */
        (void)snprintf(path, sizeof(path), "/proc/self/%s", name);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                return errno ? -errno : -EIO;
        return 0;
}

/* In the helper child: runs argv[0] with argv, returns its exit status (or 127/128+sig). */
static int run_helper(char *const argv[]) {
        pid_t pid = fork();
        int status;

        if (pid < 0)
                return 126;
        if (pid == 0) {
                execv(argv[0], argv);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return 126;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

struct helper_args {
        char *uidmap[9], *gidmap[9]; /* NULL-terminated */
        char pid[16], id[2][16], start[2][16], count[2][16];
};

static void helper_args_init(struct helper_args *a, char *newuidmap, char *newgidmap,
                             const struct pod_rootless *rl) {
        (void)snprintf(a->pid, sizeof(a->pid), "%d", (int)getpid());
        (void)snprintf(a->id[0], sizeof(a->id[0]), "%u", (unsigned)rl->uid);
        (void)snprintf(a->id[1], sizeof(a->id[1]), "%u", (unsigned)rl->gid);
        (void)snprintf(a->start[0], sizeof(a->start[0]), "%" PRIu32, rl->subuid.start);
        (void)snprintf(a->start[1], sizeof(a->start[1]), "%" PRIu32, rl->subgid.start);
        (void)snprintf(a->count[0], sizeof(a->count[0]), "%" PRIu32, rl->subuid.count);
        (void)snprintf(a->count[1], sizeof(a->count[1]), "%" PRIu32, rl->subgid.count);
        for (int i = 0; i < 2; i++) {
                char **v = i == 0 ? a->uidmap : a->gidmap;

                /* newuidmap PID 0 UID 1 1 START COUNT */
                v[0] = i == 0 ? newuidmap : newgidmap;
                v[1] = a->pid;
                v[2] = (char *)"0";
                v[3] = a->id[i];
                v[4] = (char *)"1";
                v[5] = (char *)"1";
                v[6] = a->start[i];
                v[7] = a->count[i];
                v[8] = NULL;
        }
}

/* Forks the child that writes our maps with newuidmap/newgidmap once we have unshared (it
 * must be outside the new namespace: the helpers check the caller's ranges as the host sees
 * them), unshares, and waits for it. */
static int enter_range(const struct pod_rootless *rl, char *newuidmap, char *newgidmap,
                       struct pod_error *reterr) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        struct helper_args a = {};
        int fds[2], status, r;
        pid_t pid;

        helper_args_init(&a, newuidmap, newgidmap, rl);
        if (pipe2(fds, O_CLOEXEC) < 0)
                return pod_error_set(reterr, -errno, "Failed to create a pipe: %s",
                                     strerror(errno));
        rfd = fds[0];
        wfd = fds[1];
        pid = fork();
        if (pid < 0)
                return pod_error_set(reterr, -errno, "Failed to fork: %s", strerror(errno));
        if (pid == 0) {
                char c;

                wfd = safe_close(wfd);
                /* EOF without a byte: the parent could not unshare, nothing to map. */
                if (read(rfd, &c, 1) != 1)
                        _exit(1);
                r = run_helper(a.uidmap);
                if (r != 0)
                        _exit(r == 127 ? 20 : 10);
                r = run_helper(a.gidmap);
                _exit(r == 0 ? 0 : r == 127 ? 21 : 11);
        }
        rfd = safe_close(rfd);
        r = unshare(CLONE_NEWUSER) < 0 ? -errno : 0;
        if (r == 0 && write(wfd, "x", 1) != 1)
                r = -errno;
        wfd = safe_close(wfd);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return pod_error_set(reterr, -errno, "Failed to wait for the ID helper: %s",
                                             strerror(errno));
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Failed to create a user namespace for a rootless pod: %s "
                                     "(are unprivileged user namespaces disabled? see the "
                                     "sysctls user.max_user_namespaces and "
                                     "kernel.unprivileged_userns_clone)",
                                     strerror(-r));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                int s = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                bool gid = s == 11 || s == 21;

                return pod_error_set(
                        reterr, -EPERM,
                        "Failed to map the %s range %" PRIu32 "+%" PRIu32
                        " of /etc/sub%s into the rootless pod's user namespace: "
                        "'%s' %s",
                        gid ? "group" : "user", gid ? rl->subgid.start : rl->subuid.start,
                        gid ? rl->subgid.count : rl->subuid.count, gid ? "gid" : "uid",
                        gid ? newgidmap : newuidmap,
                        s == 20 || s == 21 ? "could not be run" : "failed (see its message above)");
        }
        return 0;
}

static int enter_single(uid_t uid, gid_t gid, struct pod_error *reterr) {
        char map[64];
        int r;

        if (unshare(CLONE_NEWUSER) < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to create a user namespace for a rootless pod: %s "
                                     "(are unprivileged user namespaces disabled? see the "
                                     "sysctls user.max_user_namespaces and "
                                     "kernel.unprivileged_userns_clone)",
                                     strerror(errno));
        /* An unprivileged writer of gid_map must give up setgroups(2) first
         * (user_namespaces(7)): else dropping a group could grant access. */
        r = write_proc_self("setgroups", "deny");
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write /proc/self/setgroups: %s",
                                     strerror(-r));
        (void)snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
        r = write_proc_self("uid_map", map);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write /proc/self/uid_map: %s",
                                     strerror(-r));
        (void)snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
        r = write_proc_self("gid_map", map);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write /proc/self/gid_map: %s",
                                     strerror(-r));
        return 0;
}

int pod_rootless_enter(const struct pod_rootless_paths *paths, struct pod_rootless *ret,
                       struct pod_error *reterr) {
        const struct pod_rootless_paths def = { .subuid = "/etc/subuid", .subgid = "/etc/subgid" };
        _cleanup_free_ char *newuidmap = NULL, *newgidmap = NULL, *name = NULL;
        struct pod_rootless rl = { .uid = geteuid(), .gid = getegid() };
        struct passwd *pw;
        char env[16];
        int r, r2;

        if (!paths)
                paths = &def;
        if (rl.uid == 0)
                return pod_error_set(reterr, -EINVAL, "Rootless mode is for users other than root");

        /* shadow matches a line by the user's name or by the decimal UID */
        pw = getpwuid(rl.uid);
        if (pw && pw->pw_name) {
                name = strdup(pw->pw_name);
                if (!name)
                        return -ENOMEM;
        }
        r = pod_subid_find(paths->subuid, name, rl.uid, &rl.subuid, reterr);
        if (r < 0 && r != -ENOENT)
                return r;
        /* newgidmap looks the range up by the user (name or UID) too, not by the group */
        r2 = r < 0 ? r : pod_subid_find(paths->subgid, name, rl.uid, &rl.subgid, reterr);
        if (r2 < 0 && r2 != -ENOENT)
                return r2;
        newuidmap = paths->newuidmap ? strdup(paths->newuidmap) : find_helper("newuidmap");
        newgidmap = paths->newgidmap ? strdup(paths->newgidmap) : find_helper("newgidmap");

        if (r < 0 || r2 < 0)
                (void)snprintf(rl.why_single, sizeof(rl.why_single), "no range for '%s' in %s",
                               name ?: "?", r < 0 ? paths->subuid : paths->subgid);
        else if (!newuidmap || !newgidmap)
                (void)snprintf(rl.why_single, sizeof(rl.why_single),
                               "%s not found (Debian's package uidmap)",
                               !newuidmap ? "newuidmap" : "newgidmap");

        if (rl.why_single[0]) {
                rl.mode = POD_ROOTLESS_SINGLE;
                rl.subuid = rl.subgid = (struct pod_subid_range){};
                r = enter_single(rl.uid, rl.gid, reterr);
        } else {
                rl.mode = POD_ROOTLESS_RANGE;
                r = enter_range(&rl, newuidmap, newgidmap, reterr);
        }
        if (r < 0)
                return r;

        /* Our IDs are already 0 in the namespace (the host IDs map to 0); say so explicitly
         * for the saved IDs too, which is what gives every capability of the namespace on
         * exec (capabilities(7), "Capabilities and execution of programs by root"). */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to become root of the rootless pod's user "
                                     "namespace: %s",
                                     strerror(errno));

        (void)snprintf(env, sizeof(env), "%u", (unsigned)rl.uid);
        if (setenv(POD_ROOTLESS_UID_ENV, env, 1) < 0)
                return -errno;
        (void)snprintf(env, sizeof(env), "%u", (unsigned)rl.gid);
        if (setenv(POD_ROOTLESS_GID_ENV, env, 1) < 0)
                return -errno;

        *ret = rl;
        return 0;
}
