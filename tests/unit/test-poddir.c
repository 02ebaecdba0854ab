/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "fd-util.h"
#include "poddir.h"
#include "podgc.h"
#include "podinfo.h"
#include "tap.h"
#include "uuid.h"

static char root[] = "/tmp/test-poddir.XXXXXX";
static int pods_fd = -EBADF;

static bool exists(const char *phase, const char *uuid) {
        char p[256];
        struct stat st;

        (void)snprintf(p, sizeof(p), "%s/%s", phase, uuid);
        return fstatat(pods_fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A pod directory made by hand, as stage0/stage1 would leave it. */
static void make_pod(const char *phase, const char *uuid, const char *app) {
        char p[256], m[512];
        int fd;

        (void)snprintf(p, sizeof(p), "%s/%s", phase, uuid);
        if (mkdirat(pods_fd, p, 0750) < 0)
                abort();
        fd = openat(pods_fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        (void)snprintf(m, sizeof(m),
                       "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[{\"name\":"
                       "\"%s\",\"image\":{\"name\":\"example.com/%s\",\"id\":\"sha512-%064d\"}}]}",
                       app, app, 0);
        if (write_file_atomic_at(fd, "pod", m, strlen(m), 0644) < 0 ||
            write_file_atomic_at(fd, "pod-created", "", 0, 0644) < 0)
                abort();
        close(fd);
}

/* Holds the lock of pods/<phase>/<uuid> on its own open file description. */
static int hold_lock(const char *phase, const char *uuid, int how) {
        char p[256];
        int fd;

        (void)snprintf(p, sizeof(p), "%s/%s", phase, uuid);
        fd = openat(pods_fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || flock(fd, how) < 0)
                abort();
        return fd;
}

static enum pod_state state_of(const char *uuid) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        enum pod_state s;

        if (pod_poddir_open(pods_fd, uuid, &p) < 0 || pod_poddir_get_state(p, &s) < 0)
                return _POD_STATE_INVALID;
        return s;
}

static void test_uuid(void) {
        char a[POD_UUID_STRING_MAX], b[POD_UUID_STRING_MAX];
        struct pod_uuid u, v;

        tap_is_int(pod_uuid_generate(&u), 0, "uuid: generate");
        pod_uuid_format(&u, a);
        tap_ok(pod_uuid_string_valid(a), "uuid: generated '%s' is canonical", a);
        tap_ok(a[14] == '4', "uuid: version 4");
        tap_ok(strchr("89ab", a[19]) != NULL, "uuid: RFC 4122 variant");
        tap_is_int(pod_uuid_generate(&v), 0, "uuid: generate again");
        tap_ok(memcmp(&u, &v, sizeof(u)) != 0, "uuid: two UUIDs differ");
        tap_is_int(pod_uuid_parse("6BA7B810-9DAD-41D1-80B4-00C04FD430C8", &u), 0,
                   "uuid: parse upper case");
        tap_is_str(pod_uuid_format(&u, b), "6ba7b810-9dad-41d1-80b4-00c04fd430c8",
                   "uuid: formats lower case");
        tap_is_int(pod_uuid_parse("6ba7b8109dad41d180b400c04fd430c8", &v), 0,
                   "uuid: parse without dashes");
        tap_ok(memcmp(&u, &v, sizeof(u)) == 0, "uuid: both forms equal");
        tap_is_int(pod_uuid_parse("6ba7b810-9dad-41d1-80b4-00c04fd430c", &u), -EINVAL,
                   "uuid: short refused");
        tap_is_int(pod_uuid_parse("6ba7b810x9dad-41d1-80b4-00c04fd430c8", &u), -EINVAL,
                   "uuid: misplaced dash refused");
        tap_is_int(pod_uuid_parse("6ba7b810-9dad-41d1-80b4-00c04fd430cg", &u), -EINVAL,
                   "uuid: non-hex refused");
        tap_ok(!pod_uuid_string_valid("6BA7B810-9DAD-41D1-80B4-00C04FD430C8"),
               "uuid: upper case is not a directory name");
        tap_ok(pod_uuid_prefix_valid("6ba7b810-9"), "uuid: prefix across a dash");
        tap_ok(!pod_uuid_prefix_valid("6ba7b8109"), "uuid: prefix missing a dash");
        tap_ok(!pod_uuid_prefix_valid("") && !pod_uuid_prefix_valid("../x"),
               "uuid: empty and path prefixes refused");
}

static void test_duration(void) {
        static const struct {
                const char *s;
                uint64_t usec;
        } ok[] = {
                { "30m", 1800000000ULL },
                { "24h", 86400000000ULL },
                { "90s", 90000000ULL },
                { "1h30m", 5400000000ULL },
                { "0", 0 },
                { "0s", 0 },
                { "1.5h", 5400000000ULL },
                { "250ms", 250000 },
                { "10", 10000000ULL },
                { "1m 30s", 90000000ULL },
                { "2d", 172800000000ULL },
                { "1500us", 1500 },
                { "5min", 300000000ULL },
        };
        static const char *const bad[] = { "", "h", "1x", "1h30", "-5s", "s30", "1..5s" };
        uint64_t u;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                u = 12345;
                tap_is_int(pod_duration_parse(ok[i].s, &u), 0, "duration parses");
                tap_is_int(u, ok[i].usec, ok[i].s);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                tap_is_int(pod_duration_parse(bad[i], &u), -EINVAL, bad[i]);
        tap_is_int(pod_duration_parse("99999999999999999999h", &u), -ERANGE, "overflow");
        tap_is_int(pod_duration_parse("18446744073.8s", &u), -ERANGE,
                   "overflow through the fraction");
}

static void test_lifecycle(void) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL, *q = NULL, *r2 = NULL;
        char uuid[POD_UUID_STRING_MAX], saved[POD_UUID_STRING_MAX], path[512];
        _cleanup_free_ char *text = NULL;
        struct pod_error e = {};
        struct stat st;
        int fd, r;

        (void)snprintf(path, sizeof(path), "%s/uuid", root);
        tap_is_int(pod_poddir_create(pods_fd, path, true, &p, &e), 0, "create");
        (void)snprintf(uuid, sizeof(uuid), "%s", p->uuid);
        tap_ok(exists("prepare", uuid) && !exists("embryo", uuid), "create: in prepare/");
        tap_is_int(p->lock, LOCK_EX, "create: locked by us");
        tap_is_int(read_full_file_at(AT_FDCWD, path, 100, &text, NULL), 0, "uuid file read");
        tap_is_str(text, uuid, "uuid file: bare UUID, no newline");
        tap_ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "uuid file: mode 0644");
        tap_is_int(pod_uuid_file_load(path, saved), 0, "uuid file loads");
        tap_is_str(saved, uuid, "uuid file round trip");
        tap_ok(fstatat(p->fd, "pod-created", &st, 0) == 0, "pod-created written");
        tap_ok(fstat(p->fd, &st) == 0 && (st.st_mode & 07777) == 0750, "pod dir mode 0750");
        tap_is_int(state_of(uuid), POD_STATE_PREPARING, "state: preparing (seen by another)");

        tap_is_int(pod_poddir_to_prepared(p, &e), 0, "prepare -> prepared");
        tap_ok(exists("prepared", uuid) && !exists("prepare", uuid), "now in prepared/");
        tap_is_int(p->lock, 0, "prepared: unlocked");
        tap_is_int(state_of(uuid), POD_STATE_PREPARED, "state: prepared");

        /* Two starters race for one prepared pod: one wins, the loser gets ENOENT. */
        tap_is_int(pod_poddir_open(pods_fd, uuid, &q), 0, "second handle");
        tap_is_int(pod_poddir_run_prepared(p, &e), 0, "run-prepared");
        tap_ok(exists("run", uuid) && !exists("prepared", uuid), "now in run/");
        tap_is_int(state_of(uuid), POD_STATE_RUNNING, "state: running");
        e = (struct pod_error){};
        tap_is_int(pod_poddir_run_prepared(q, &e), -EBUSY, "loser: lock held -> EBUSY");
        fd = pod_poddir_prepare_exec_lock(p);
        tap_is_int(fd, p->fd, "exec lock: returns the pod fd");
        tap_ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0, "exec lock: FD_CLOEXEC cleared");
        tap_is_str(getenv(POD_LOCK_FD_ENV), (snprintf(path, sizeof(path), "%d", fd), path),
                   "exec lock: POD_LOCK_FD set");
        tap_is_int(pod_poddir_lock_fd_from_env(&r), 0, "lock fd from env");
        tap_is_int(r, fd, "lock fd from env: same fd");
        tap_ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "lock fd from env: cloexec again");
        (void)unsetenv(POD_LOCK_FD_ENV);

        /* The pod "exits": the lock goes; the loser now gets the lock but loses the rename. */
        p = pod_poddir_free(p);
        tap_is_int(state_of(uuid), POD_STATE_EXITED, "state: exited");
        e = (struct pod_error){};
        tap_is_int(pod_poddir_run_prepared(q, &e), -ENOENT, "loser: rename lost -> ENOENT");
        tap_ok(strstr(e.msg, "no longer prepared") != NULL, "loser message: %s", e.msg);
        tap_is_int(q->lock, 0, "loser dropped the lock");

        /* files stage1 writes */
        tap_is_int(pod_poddir_refresh(q), 0, "refresh");
        tap_is_int(q->phase, POD_PHASE_RUN, "refresh finds run/");
        tap_is_int(write_file_atomic_at(q->fd, "pid", "4242\n", 5, 0644), 0, "write pid");
        tap_is_int(write_file_atomic_at(q->fd, "unit", "pod-x.scope\n", 12, 0644), 0, "unit");
        tap_is_int(mkdirat(q->fd, "status", 0755), 0, "status dir");
        tap_is_int(write_file_atomic_at(q->fd, "status/web", "7", 1, 0644), 0, "status file");
        {
                pid_t pid = 0;
                struct timespec ts = {};
                _cleanup_free_ char *unit = NULL;
                int code = -1;

                tap_is_int(pod_poddir_read_pid(q->fd, &pid, &ts), 0, "read pid");
                tap_is_int(pid, 4242, "pid value");
                tap_ok(ts.tv_sec > 0, "started time from pid mtime");
                tap_is_int(pod_poddir_read_unit(q->fd, &unit), 0, "read unit");
                tap_is_str(unit, "pod-x.scope", "unit value");
                tap_is_int(pod_poddir_read_app_status(q->fd, "web", &code), 0, "read status");
                tap_is_int(code, 7, "exit code");
                tap_is_int(pod_poddir_read_app_status(q->fd, "../x", &code), -EINVAL,
                           "status: app name must be an AC name");
                tap_is_int(write_file_atomic_at(q->fd, "status/bad", "x1", 2, 0644), 0, "bad");
                tap_is_int(pod_poddir_read_app_status(q->fd, "bad", &code), -EBADMSG,
                           "status: garbage refused");
        }
        tap_is_int(pod_poddir_stop(q, false, &e), 0, "stop: exited pod is a no-op");

        /* rm of the exited pod */
        e = (struct pod_error){};
        tap_is_int(pod_gc_remove(q, false, &e), 0, "rm exited pod");
        tap_ok(!exists("run", uuid) && !exists("exited-garbage", uuid), "rm: gone");

        /* never-ran pod: prepare -> prepared -> stop refuses */
        tap_is_int(pod_poddir_create(pods_fd, NULL, false, &r2, &e), 0, "create another");
        tap_is_int(pod_poddir_to_run(r2, &e), 0, "prepare -> run keeps the lock");
        tap_is_int(r2->lock, LOCK_EX, "run: still locked");
        tap_is_int(state_of(r2->uuid), POD_STATE_RUNNING, "state: running");
        {
                _cleanup_(pod_poddir_freep) struct pod_poddir *o = NULL;

                e = (struct pod_error){};
                tap_is_int(pod_poddir_open(pods_fd, r2->uuid, &o), 0, "open running");
                tap_is_int(pod_gc_remove(o, false, &e), -EBUSY, "rm refuses a running pod");
                tap_ok(strstr(e.msg, "running") != NULL, "rm message: %s", e.msg);
                e = (struct pod_error){};
                tap_is_int(pod_poddir_stop(o, false, &e), -ESRCH, "stop: no pid yet -> ESRCH");
        }
        tap_is_int(pod_poddir_wait_unlocked(r2->fd, -EBADF, 100000), -ETIMEDOUT,
                   "wait: times out while locked");
        (void)pod_poddir_unlock(r2);
        tap_is_int(pod_poddir_wait_unlocked(r2->fd, -EBADF, POD_USEC_INFINITY), 1,
                   "wait: returns once unlocked");
        tap_is_int(pod_poddir_wait_exited(r2, 1000000), 0, "wait_exited on an exited pod");
        tap_is_int(pod_poddir_wait_ready(r2, 1000000), -ESRCH, "wait_ready on an exited pod");
}

static void test_lookup(void) {
        static const char *a = "aaaa1111-0000-4000-8000-000000000001",
                          *b = "aaaa2222-0000-4000-8000-000000000002",
                          *c = "bbbb0000-0000-4000-8000-000000000003",
                          *g = "cccc0000-0000-4000-8000-000000000004";
        char out[POD_UUID_STRING_MAX];
        struct pod_error e = {};

        make_pod("run", a, "web");
        make_pod("prepared", b, "db");
        make_pod("exited-garbage", c, "job");
        make_pod("garbage", g, "old");

        tap_is_int(pod_poddir_lookup(pods_fd, "aaaa1", out, &e), 0, "lookup unique prefix");
        tap_is_str(out, a, "lookup: right pod");
        tap_is_int(pod_poddir_lookup(pods_fd, "AAAA2", out, &e), 0, "lookup upper case");
        tap_is_str(out, b, "lookup: in prepared/");
        tap_is_int(pod_poddir_lookup(pods_fd, "bbbb", out, &e), 0, "lookup in exited-garbage/");
        tap_is_int(pod_poddir_lookup(pods_fd, a, out, &e), 0, "lookup full UUID");
        e = (struct pod_error){};
        tap_is_int(pod_poddir_lookup(pods_fd, "aaaa", out, &e), -ENOTUNIQ, "ambiguous");
        tap_ok(strstr(e.msg, a) && strstr(e.msg, b), "ambiguous lists candidates: %s", e.msg);
        e = (struct pod_error){};
        tap_is_int(pod_poddir_lookup(pods_fd, "cccc", out, &e), -ENOENT,
                   "garbage/ is not looked up");
        tap_is_int(pod_poddir_lookup(pods_fd, "dddd", out, &e), -ENOENT, "no match");
        tap_is_int(pod_poddir_lookup(pods_fd, "../run", out, &e), -EINVAL, "not a prefix");
        /* whole UUIDs: looked up by name, with the prefix scan's answers */
        tap_is_int(pod_poddir_lookup(pods_fd, "AAAA2222-0000-4000-8000-000000000002", out, &e), 0,
                   "full UUID in upper case");
        tap_is_str(out, b, "full UUID in upper case: the pod, in lower case");
        tap_is_int(pod_poddir_lookup(pods_fd, c, out, &e), 0, "full UUID in exited-garbage/");
        tap_is_str(out, c, "full UUID in exited-garbage/: the pod");
        tap_is_int(pod_poddir_lookup(pods_fd, g, out, &e), -ENOENT,
                   "full UUID: garbage/ is not looked up");
        tap_is_int(pod_poddir_lookup(pods_fd, "dddd0000-0000-4000-8000-000000000004", out, &e),
                   -ENOENT, "full UUID: no such pod");
        tap_is_int(pod_poddir_lookup(pods_fd, "aaaa1111-0000-4000-8000-00000000000/", out, &e),
                   -EINVAL, "a UUID-long string that is not a UUID");
}

static void test_gc(void) {
        static const char *exited = "eeee0000-0000-4000-8000-000000000001",
                          *running = "eeee0000-0000-4000-8000-000000000002",
                          *aborted = "eeee0000-0000-4000-8000-000000000003",
                          *preparing = "eeee0000-0000-4000-8000-000000000004",
                          *prepared = "eeee0000-0000-4000-8000-000000000005",
                          *deleting = "eeee0000-0000-4000-8000-000000000006";
        struct pod_info **l = NULL;
        struct pod_gc_stats st = {};
        int hold_run, hold_prep, hold_del;
        size_t n = 0;
        bool seen[_POD_STATE_MAX] = {};

        make_pod("run", exited, "a");
        make_pod("run", running, "b");
        make_pod("prepare", aborted, "c");
        make_pod("prepare", preparing, "d");
        make_pod("prepared", prepared, "e");
        make_pod("exited-garbage", deleting, "f");
        hold_run = hold_lock("run", running, LOCK_EX);
        hold_prep = hold_lock("prepare", preparing, LOCK_EX);
        hold_del = hold_lock("exited-garbage", deleting, LOCK_EX);

        {
                static const char *damaged = "dddd0000-0000-4000-8000-000000000001";
                char path[256];
                struct pod_info *di = NULL;
                int dfd;

                make_pod("exited-garbage", damaged, "z");
                (void)snprintf(path, sizeof(path), "exited-garbage/%s", damaged);
                dfd = openat(pods_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                tap_is_int(write_file_atomic_at(dfd, "pod", "{\"apps\": [", 10, 0644), 0,
                           "damage a manifest");
                tap_is_int(pod_info_load_fd(dfd, damaged, POD_PHASE_EXITED_GARBAGE, false, 0, &di),
                           0, "a damaged manifest does not fail the pod info");
                tap_ok(di && di->manifest_missing && di->n_apps == 0,
                       "damaged manifest: no apps shown");
                (void)pod_info_free(di);
                close(dfd);
        }
        tap_is_int(pod_info_list(pods_fd, 0, &l, &n), 0, "list all pods");
        for (size_t i = 0; i < n; i++) {
                seen[l[i]->state] = true;
                if (streq(l[i]->uuid, exited)) {
                        tap_ok(l[i]->n_apps == 1 && streq(l[i]->apps[0].name, "a") &&
                                       l[i]->apps[0].image_name &&
                                       streq(l[i]->apps[0].image_name, "example.com/a"),
                               "list: app and image name from the pod manifest");
                        tap_ok(!l[i]->manifest_missing, "list: manifest parsed");
                }
        }
        tap_ok(seen[POD_STATE_EXITED] && seen[POD_STATE_RUNNING] &&
                       seen[POD_STATE_ABORTED_PREPARE] && seen[POD_STATE_PREPARING] &&
                       seen[POD_STATE_PREPARED] && seen[POD_STATE_DELETING] &&
                       seen[POD_STATE_EXITED_GARBAGE] && seen[POD_STATE_GARBAGE],
               "list shows every state");
        pod_info_list_free(l, n);

        tap_is_int(pod_gc(pods_fd, 3600 * POD_USEC_PER_SEC, 24 * 3600 * POD_USEC_PER_SEC, true,
                          NULL, NULL, &st),
                   0, "gc --mark-only");
        tap_ok(exists("exited-garbage", exited), "mark: exited -> exited-garbage/");
        tap_ok(exists("garbage", aborted), "mark: aborted prepare -> garbage/");
        tap_ok(exists("run", running), "mark: running pod left alone");
        tap_ok(exists("prepare", preparing), "mark: preparing pod left alone");
        tap_ok(exists("prepared", prepared), "mark: young prepared pod kept");
        tap_ok(exists("garbage", "cccc0000-0000-4000-8000-000000000004"),
               "mark-only: garbage not swept");

        tap_is_int(pod_gc(pods_fd, 3600 * POD_USEC_PER_SEC, 24 * 3600 * POD_USEC_PER_SEC, false,
                          NULL, NULL, &st),
                   0, "gc with a long grace");
        tap_ok(exists("exited-garbage", exited), "grace: recently marked pod kept");
        tap_ok(!exists("garbage", aborted), "garbage/ swept without grace");

        tap_is_int(pod_gc(pods_fd, 0, 0, false, NULL, NULL, &st), 0, "gc, grace 0, expire 0");
        tap_ok(!exists("exited-garbage", exited), "sweep: exited pod removed");
        tap_ok(!exists("prepared", prepared) && !exists("garbage", prepared),
               "expired prepared pod removed");
        tap_ok(exists("run", running), "sweep: running pod left alone");
        tap_ok(exists("exited-garbage", deleting), "sweep: locked exited-garbage pod skipped");
        tap_ok(st.skipped >= 1, "skipped counted");

        close(hold_run);
        close(hold_prep);
        close(hold_del);
        tap_is_int(pod_gc(pods_fd, 0, 0, false, NULL, NULL, &st), 0, "gc after unlock");
        tap_ok(!exists("run", running) && !exists("exited-garbage", running),
               "formerly running pod collected");
        tap_ok(!exists("exited-garbage", deleting), "formerly locked pod collected");
        tap_ok(!exists("garbage", preparing), "aborted prepare collected");
}

static unsigned count_entries(const char *phase) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        unsigned n = 0;
        int fd;

        fd = openat(pods_fd, phase, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd)))
                abort();
        while ((de = readdir(d)))
                if (pod_uuid_string_valid(de->d_name))
                        n++;
        return n;
}

/* Embryos left by creates that died: collected only when unlocked, old enough, and while no
 * create is between its mkdir and its flock (the embryo rule in poddir.h). */
static void test_gc_embryo(void) {
        static const char *dead = "ffff0000-0000-4000-8000-000000000001",
                          *locked = "ffff0000-0000-4000-8000-000000000002";
        struct pod_gc_stats st = {};
        int hold, efd, status;
        unsigned before;
        pid_t child;

        if (mkdirat(pods_fd, "embryo/ffff0000-0000-4000-8000-000000000001", 0750) < 0)
                abort();
        make_pod("embryo", locked, "l");
        hold = hold_lock("embryo", locked, LOCK_EX);

        tap_is_int(pod_gc(pods_fd, 3600 * POD_USEC_PER_SEC, 24 * 3600 * POD_USEC_PER_SEC, false,
                          NULL, NULL, &st),
                   0, "gc, long grace");
        tap_ok(exists("embryo", dead), "embryo: young abandoned embryo kept within the grace");

        /* A create between mkdir and flock holds embryo/ shared: gc must not touch it. */
        efd = openat(pods_fd, "embryo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        tap_ok(efd >= 0 && flock(efd, LOCK_SH) == 0, "embryo/ share-locked (a create's window)");
        tap_is_int(pod_gc(pods_fd, 0, 0, false, NULL, NULL, &st), 0, "gc during a create");
        tap_ok(exists("embryo", dead),
               "embryo: unlocked embryo kept while a create is in progress");
        (void)flock(efd, LOCK_UN);

        tap_is_int(pod_gc(pods_fd, 0, 0, false, NULL, NULL, &st), 0, "gc, grace 0");
        tap_ok(!exists("embryo", dead) && !exists("garbage", dead),
               "embryo: abandoned embryo collected");
        tap_ok(exists("embryo", locked), "embryo: locked embryo (creator alive) kept");
        tap_ok(st.skipped >= 1, "embryo: locked embryo counted as skipped");
        close(hold);
        tap_is_int(pod_gc(pods_fd, 0, 0, true, NULL, NULL, &st), 0, "gc --mark-only");
        tap_ok(exists("garbage", locked) && !exists("embryo", locked),
               "embryo: marked to garbage/ once its creator is gone");
        tap_is_int(pod_gc(pods_fd, 0, 0, false, NULL, NULL, &st), 0, "gc sweeps it");
        tap_ok(!exists("garbage", locked), "embryo: swept from garbage/");

        /* While gc holds embryo/, a create waits before its mkdir (it never finishes then,
         * however slow the machine: no timing is asserted, only that it cannot be done). */
        tap_ok(flock(efd, LOCK_EX) == 0, "embryo/ locked as gc does");
        child = fork();
        if (child == 0) {
                struct pod_poddir *p = NULL;

                _exit(pod_poddir_create(pods_fd, NULL, true, &p, NULL) < 0 ? 1 : 0);
        }
        (void)nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
        tap_ok(count_entries("embryo") == 0 && waitpid(child, &status, WNOHANG) == 0,
               "create waits for gc's embryo/ lock before its mkdir");
        (void)flock(efd, LOCK_UN);
        tap_ok(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "create goes on once gc lets go");
        close(efd);
        tap_is_int(pod_gc(pods_fd, 0, 0, false, NULL, NULL, &st), 0, "gc its aborted prepare");

        /* Creates racing a gc loop with grace 0: none loses its directory. */
        before = count_entries("prepared");
        {
                enum { N_CHILDREN = 4, N_CREATES = 40 };
                pid_t kids[N_CHILDREN];
                bool all_ok = true;
                int alive = N_CHILDREN;

                for (int k = 0; k < N_CHILDREN; k++) {
                        kids[k] = fork();
                        if (kids[k] < 0)
                                abort();
                        if (kids[k] == 0) {
                                for (int i = 0; i < N_CREATES; i++) {
                                        struct pod_poddir *p = NULL;
                                        struct pod_error e = {};

                                        if (pod_poddir_create(pods_fd, NULL, true, &p, &e) < 0 ||
                                            pod_poddir_refresh(p) < 0 ||
                                            p->phase != POD_PHASE_PREPARE ||
                                            pod_poddir_to_prepared(p, &e) < 0) {
                                                fprintf(stderr, "# create %d: %s\n", i, e.msg);
                                                _exit(1);
                                        }
                                        (void)pod_poddir_free(p);
                                }
                                _exit(0);
                        }
                }
                while (alive > 0) {
                        pid_t w;

                        (void)pod_gc(pods_fd, 0, 24 * 3600 * POD_USEC_PER_SEC, false, NULL, NULL,
                                     &st);
                        while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
                                alive--;
                                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                                        all_ok = false;
                        }
                }
                tap_ok(all_ok, "creates racing gc all succeed");
                tap_is_int((int)(count_entries("prepared") - before), N_CHILDREN * N_CREATES,
                           "every racing create ended up prepared");
                tap_is_int(count_entries("embryo"), 0, "no embryo left behind");
        }
}

int main(void) {
        char cmd[512];

        test_uuid();
        test_duration();

        if (!mkdtemp(root))
                return tap_skip_all("mkdtemp failed");
        tap_is_int(pod_pods_open(root, false, &pods_fd), -ENOENT, "pods tree: missing");
        tap_is_int(pod_pods_open(root, true, &pods_fd), 0, "pods tree: created");
        for (int i = 0; i < _POD_PHASE_MAX; i++) {
                struct stat st;
                tap_ok(fstatat(pods_fd, pod_phase_to_string((enum pod_phase)i), &st, 0) == 0,
                       "phase dir %s", pod_phase_to_string((enum pod_phase)i));
        }
        tap_is_int(pod_phase_from_string("exited-garbage"), POD_PHASE_EXITED_GARBAGE,
                   "phase from string");
        tap_is_str(pod_state_to_string(pod_state_from_phase(POD_PHASE_PREPARE, false)),
                   "aborted prepare", "state names");

        test_lifecycle();
        test_lookup();
        test_gc();
        test_gc_embryo();

        (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        (void)system(cmd);
        return tap_done();
}
