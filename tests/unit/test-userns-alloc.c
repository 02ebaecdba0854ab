/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* userns-alloc.h: the --private-users value, the configured default, range allocation (pick
 * and explicit) with its refusals, release by the owner only, the sweep, and concurrent
 * allocation never handing one range out twice. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "tap.h"
#include "userns-alloc.h"

static const char U1[] = "11111111-2222-4333-8444-555555555555";
static const char U2[] = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

static char top[] = "/tmp/test-userns-alloc.XXXXXX";

static int new_data_dir(const char *name) {
        char p[4096];

        (void)snprintf(p, sizeof(p), "%s/%s", top, name);
        if (mkdir(p, 0700) < 0)
                return -errno;
        return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void write_text(const char *name, const char *text) {
        char p[4096];

        (void)snprintf(p, sizeof(p), "%s/%s", top, name);
        (void)write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0644);
}

static char *path_in_top(const char *name) {
        static char buf[8][4096];
        static int i;
        char *p = buf[i++ % 8];

        (void)snprintf(p, 4096, "%s/%s", top, name);
        return p;
}

static bool in_pick_zone(uint32_t base) {
        return base >= POD_USERNS_PICK_MIN && base <= POD_USERNS_PICK_MAX &&
               base % POD_USERNS_RANGE == 0;
}

static void test_parse(void) {
        struct pod_userns_request q;
        struct pod_error e = {};

        tap_ok(pod_userns_parse(NULL, &q, &e) == 0 && q.mode == POD_USERNS_PICK, "bare: pick");
        tap_ok(pod_userns_parse("pick", &q, &e) == 0 && q.mode == POD_USERNS_PICK, "pick");
        tap_ok(pod_userns_parse("yes", &q, &e) == 0 && q.mode == POD_USERNS_PICK, "yes");
        tap_ok(pod_userns_parse("true", &q, &e) == 0 && q.mode == POD_USERNS_PICK, "true");
        tap_ok(pod_userns_parse("no", &q, &e) == 0 && q.mode == POD_USERNS_NO, "no");
        tap_ok(pod_userns_parse("false", &q, &e) == 0 && q.mode == POD_USERNS_NO, "false");
        tap_ok(pod_userns_parse("1000000", &q, &e) == 0 && q.mode == POD_USERNS_FIXED &&
                       q.base == 1000000 && q.count == 65536,
               "UID: count 65536");
        tap_ok(pod_userns_parse("200000:1000", &q, &e) == 0 && q.base == 200000 && q.count == 1000,
               "UID:COUNT");
        e = (struct pod_error){};
        tap_is_int(pod_userns_parse("0", &q, &e), -EINVAL, "base 0 refused");
        tap_ok(strstr(e.msg, "host root") != NULL, "base 0: says why (%s)", e.msg);
        e = (struct pod_error){};
        tap_is_int(pod_userns_parse("0:10", &q, &e), -EINVAL, "base 0 with a count refused");
        tap_is_int(pod_userns_parse("100000:0", &q, &e), -EINVAL, "count 0 refused");
        tap_is_int(pod_userns_parse("4294967295", &q, &e), -EINVAL, "base at the top refused");
        tap_is_int(pod_userns_parse("4294901760:65536", &q, &e), -EINVAL,
                   "base+count = 2^32 refused");
        tap_is_int(pod_userns_parse("4294901759:65536", &q, &e), 0, "base+count = 2^32-1 accepted");
        tap_is_int(pod_userns_parse("4294967296", &q, &e), -EINVAL, "33-bit base refused");
        tap_is_int(pod_userns_parse("-1", &q, &e), -EINVAL, "negative refused");
        tap_is_int(pod_userns_parse("100000:", &q, &e), -EINVAL, "empty count refused");
        tap_is_int(pod_userns_parse("100000x", &q, &e), -EINVAL, "trailing text refused");
        tap_is_int(pod_userns_parse("0100000", &q, &e), -EINVAL, "leading zero refused");
        tap_is_int(pod_userns_parse("", &q, &e), -EINVAL, "empty refused");
        tap_is_int(pod_userns_parse("maybe", &q, &e), -EINVAL, "a word refused");
}

static void test_conf(void) {
        struct pod_userns_request q;
        struct pod_error e = {};
        char *vendor = path_in_top("vendor"), *local = path_in_top("local");

        (void)mkdir(vendor, 0755);
        (void)mkdir(local, 0755);
        tap_ok(pod_userns_conf_load(vendor, local, &q, &e) == 0 && q.mode == POD_USERNS_NO,
               "no config: no user namespace");
        write_text("vendor/userns.conf", "# vendor\nprivate-users = pick\n");
        tap_ok(pod_userns_conf_load(vendor, local, &q, &e) == 0 && q.mode == POD_USERNS_PICK,
               "vendor default pick");
        write_text("local/userns.conf", "private-users=no\n");
        tap_ok(pod_userns_conf_load(vendor, local, &q, &e) == 0 && q.mode == POD_USERNS_NO,
               "the admin's file wins");
        write_text("local/userns.conf", "private-users = 0\n");
        e = (struct pod_error){};
        tap_is_int(pod_userns_conf_load(vendor, local, &q, &e), -EINVAL, "base 0 in config");
        tap_ok(strstr(e.msg, "userns.conf:1") != NULL, "names file and line (%s)", e.msg);
        write_text("local/userns.conf", "private-user = pick\n");
        e = (struct pod_error){};
        tap_is_int(pod_userns_conf_load(vendor, local, &q, &e), -EINVAL, "unknown key");
        (void)unlink(path_in_top("local/userns.conf"));
        (void)unlink(path_in_top("vendor/userns.conf"));
}

static int record_exists(int data_fd, uint32_t base, char *ret_text, size_t n) {
        _cleanup_free_ char *text = NULL;
        char name[64];
        size_t size;
        int r;

        (void)snprintf(name, sizeof(name), "userns/%" PRIu32, base);
        r = read_full_file_at(data_fd, name, 256, &text, &size);
        if (r < 0)
                return r;
        if (ret_text)
                (void)snprintf(ret_text, n, "%s", text);
        return 1;
}

static const struct pod_userns_sources empty_src_proto = { .no_nss = true };

static void test_pick(void) {
        struct pod_userns_sources src = empty_src_proto;
        struct pod_userns_request pick = { .mode = POD_USERNS_PICK };
        _cleanup_close_ int a = -EBADF, b = -EBADF, c = -EBADF;
        struct pod_idmap m1, m2, m3, m4;
        struct pod_error e = {};
        char text[256], expect[256];
        struct stat st;

        src.subuid = path_in_top("none-subuid");
        src.subgid = path_in_top("none-subgid");
        src.passwd = path_in_top("none-passwd");
        src.group = path_in_top("none-group");

        a = new_data_dir("pick-a");
        b = new_data_dir("pick-b");
        tap_is_int(pod_userns_allocate(a, U1, &pick, &src, &m1, &e), 0, "pick in dir a");
        tap_is_int(pod_userns_allocate(b, U1, &pick, &src, &m2, &e), 0, "pick in dir b");
        tap_ok(m1.base == m2.base && m1.count == 65536, "pick is deterministic for a UUID");
        tap_ok(in_pick_zone(m1.base), "pick: aligned, in the zone (%" PRIu32 ")", m1.base);
        (void)snprintf(expect, sizeof(expect), "%s 65536\n", U1);
        tap_ok(record_exists(a, m1.base, text, sizeof(text)) == 1 && streq(text, expect),
               "record named by BASE holds 'UUID COUNT'");
        tap_ok(fstatat(a, "userns", &st, 0) == 0 && (st.st_mode & 07777) == 0700,
               "userns/ is 0700");
        tap_ok(fstatat(a, "userns/lock", &st, 0) == 0, "userns/lock exists");

        /* Another pod whose hash lands on a taken slot probes on: same UUID again stands in
         * for a colliding one. */
        tap_is_int(pod_userns_allocate(a, U1, &pick, &src, &m3, &e), 0, "second pick, same hash");
        tap_ok(m3.base == (m1.base == POD_USERNS_PICK_MAX ? POD_USERNS_PICK_MIN
                                                          : m1.base + POD_USERNS_RANGE),
               "probes to the next slot");

        /* subuid, subgid and host users make later candidates skip. */
        c = new_data_dir("pick-c");
        (void)snprintf(text, sizeof(text), "alice:%" PRIu32 ":65536\n", m1.base);
        write_text("subuid", text);
        (void)snprintf(text, sizeof(text), "bob:%" PRIu32 ":1\n", m1.base + 65536 + 100);
        write_text("subgid", text);
        (void)snprintf(text, sizeof(text),
                       "root:x:0:0::/root:/bin/sh\nu:x:%" PRIu32 ":100::/:/bin/sh\n",
                       m1.base + 2 * 65536 + 65535);
        write_text("passwd", text);
        (void)snprintf(text, sizeof(text), "g:x:%" PRIu32 ":\n", m1.base + 3 * 65536 + 7);
        write_text("group", text);
        src.subuid = path_in_top("subuid");
        src.subgid = path_in_top("subgid");
        src.passwd = path_in_top("passwd");
        src.group = path_in_top("group");
        if (m1.base + 5 * 65536 <= POD_USERNS_PICK_MAX) {
                tap_is_int(pod_userns_allocate(c, U1, &pick, &src, &m4, &e), 0,
                           "pick past subuid, subgid, user and group");
                tap_is_int(m4.base, m1.base + 4 * 65536, "skipped four occupied slots");
        } else
                tap_ok(true, "# SKIP hash lands at the zone's end");
}

static void test_explicit(void) {
        struct pod_userns_sources src = { .subuid = path_in_top("subuid"),
                                          .subgid = path_in_top("subgid"),
                                          .passwd = path_in_top("none-passwd"),
                                          .group = path_in_top("none-group"),
                                          .no_nss = true };
        _cleanup_close_ int d = -EBADF;
        struct pod_userns_request q;
        struct pod_idmap m;
        struct pod_error e = {};

        d = new_data_dir("explicit");
        write_text("subuid", "alice:100000:65536\n");
        write_text("subgid", "bob:300000:10\n");
        q = (struct pod_userns_request){ .mode = POD_USERNS_FIXED, .base = 200000, .count = 1000 };
        tap_is_int(pod_userns_allocate(d, U1, &q, &src, &m, &e), 0, "explicit range");
        tap_ok(m.base == 200000 && m.count == 1000, "explicit range kept");
        tap_ok(record_exists(d, 200000, NULL, 0) == 1, "explicit record");
        q = (struct pod_userns_request){ .mode = POD_USERNS_FIXED, .base = 200999, .count = 5 };
        e = (struct pod_error){};
        tap_is_int(pod_userns_allocate(d, U2, &q, &src, &m, &e), -EEXIST,
                   "overlap with another pod's last ID refused");
        tap_ok(strstr(e.msg, U1) != NULL, "names that pod (%s)", e.msg);
        q = (struct pod_userns_request){ .mode = POD_USERNS_FIXED, .base = 199000, .count = 1000 };
        tap_is_int(pod_userns_allocate(d, U2, &q, &src, &m, &e), 0, "adjacent below accepted");
        q = (struct pod_userns_request){ .mode = POD_USERNS_FIXED, .base = 165000, .count = 1000 };
        e = (struct pod_error){};
        tap_is_int(pod_userns_allocate(d, U2, &q, &src, &m, &e), -EEXIST, "subuid overlap");
        tap_ok(strstr(e.msg, "'alice'") != NULL, "names the user (%s)", e.msg);
        q = (struct pod_userns_request){ .mode = POD_USERNS_FIXED, .base = 300009, .count = 1 };
        e = (struct pod_error){};
        tap_is_int(pod_userns_allocate(d, U2, &q, &src, &m, &e), -EEXIST, "subgid overlap");
        tap_ok(strstr(e.msg, "'bob'") != NULL, "names the user (%s)", e.msg);
        q = (struct pod_userns_request){ .mode = POD_USERNS_FIXED, .base = 0, .count = 65536 };
        e = (struct pod_error){};
        tap_is_int(pod_userns_allocate(d, U2, &q, &src, &m, &e), -EINVAL, "base 0 refused");
        tap_ok(strstr(e.msg, "host root") != NULL, "says why (%s)", e.msg);
        tap_ok(record_exists(d, 0, NULL, 0) == -ENOENT, "no record for base 0");
        q = (struct pod_userns_request){ .mode = POD_USERNS_FIXED,
                                         .base = 4294967000u,
                                         .count = 65536 };
        tap_is_int(pod_userns_allocate(d, U2, &q, &src, &m, &e), -EINVAL, "overflow refused");
        tap_is_int(pod_userns_allocate(d, "not-a-uuid",
                                       &(struct pod_userns_request){ .mode = POD_USERNS_PICK },
                                       &src, &m, &e),
                   -EINVAL, "a bad UUID refused");

        /* A record that cannot be read could be any range: allocation stops. */
        write_text("explicit/userns/12345", "garbage\n");
        q = (struct pod_userns_request){ .mode = POD_USERNS_FIXED, .base = 900000, .count = 1 };
        e = (struct pod_error){};
        tap_ok(pod_userns_allocate(d, U2, &q, &src, &m, &e) < 0 && strstr(e.msg, "12345"),
               "a broken record stops allocation, named (%s)", e.msg);
}

static int exists_only_u1(const char *uuid, void *userdata) {
        (*(unsigned *)userdata)++;
        return streq(uuid, U1);
}

static void test_release_sweep(void) {
        struct pod_userns_sources src = { .subuid = path_in_top("none-subuid"),
                                          .subgid = path_in_top("none-subgid"),
                                          .passwd = path_in_top("none-passwd"),
                                          .group = path_in_top("none-group"),
                                          .no_nss = true };
        _cleanup_close_ int d = -EBADF, empty = -EBADF;
        struct pod_userns_request q = { .mode = POD_USERNS_FIXED, .count = 10 };
        struct pod_idmap m;
        struct pod_error e = {};
        unsigned calls = 0, bad = 9;

        d = new_data_dir("release");
        q.base = 100;
        tap_is_int(pod_userns_allocate(d, U1, &q, &src, &m, &e), 0, "U1 gets 100");
        q.base = 200;
        tap_is_int(pod_userns_allocate(d, U2, &q, &src, &m, &e), 0, "U2 gets 200");
        q.base = 300;
        tap_is_int(pod_userns_allocate(d, U2, &q, &src, &m, &e), 0, "U2 gets 300");
        tap_is_int(pod_userns_release(d, "33333333-2222-4333-8444-555555555555", &e), 0,
                   "release of a pod with nothing: 0");
        tap_ok(record_exists(d, 100, NULL, 0) == 1 && record_exists(d, 200, NULL, 0) == 1,
               "a stranger's release removes nothing");
        tap_is_int(pod_userns_release(d, U2, &e), 2, "U2's release removes its two");
        tap_ok(record_exists(d, 100, NULL, 0) == 1, "U1's stays");
        tap_ok(record_exists(d, 200, NULL, 0) == -ENOENT &&
                       record_exists(d, 300, NULL, 0) == -ENOENT,
               "U2's are gone");
        q.base = 200;
        tap_is_int(pod_userns_allocate(d, U2, &q, &src, &m, &e), 0, "released range reusable");

        write_text("release/userns/777", "broken");
        write_text("release/userns/555.tmp-99999", "a dead writer's");
        tap_is_int(pod_userns_sweep(d, exists_only_u1, &calls, &bad, &e), 1,
                   "sweep removes the gone pod's record");
        tap_is_int(calls, 2, "sweep asked about both records");
        tap_is_int(bad, 1, "sweep counts the broken record");
        tap_ok(record_exists(d, 100, NULL, 0) == 1 && record_exists(d, 200, NULL, 0) == -ENOENT &&
                       record_exists(d, 777, NULL, 0) == 1,
               "existing pod's record and the broken one stay");
        tap_ok(faccessat(d, "userns/555.tmp-99999", F_OK, 0) < 0,
               "a dead writer's temporary file is gone");

        empty = new_data_dir("never");
        tap_is_int(pod_userns_sweep(empty, exists_only_u1, &calls, &bad, &e), 0,
                   "sweep without userns/: 0");
        tap_is_int(pod_userns_release(empty, U1, &e), 0, "release without userns/: 0");
        tap_ok(faccessat(empty, "userns", F_OK, 0) < 0, "neither creates userns/");
}

static void test_pod_record(void) {
        _cleanup_close_ int d = -EBADF;
        struct pod_idmap m = { .base = 524288, .count = 65536 }, r;
        _cleanup_free_ char *text = NULL;
        size_t size;

        d = new_data_dir("poddir");
        tap_is_int(pod_userns_record_write(d, &m, false), 0, "pod record written");
        tap_ok(read_full_file_at(d, "private-users", 64, &text, &size) == 0 &&
                       streq(text, "524288 65536\n"),
               "pod record is 'BASE COUNT\\n'");
        tap_ok(pod_userns_record_read(d, &r) == 0 && r.base == 524288 && r.count == 65536,
               "pod record read back");
        write_text("poddir/private-users", "0 65536\n");
        tap_is_int(pod_userns_record_read(d, &r), -EBADMSG, "pod record with base 0 refused");
        (void)unlink(path_in_top("poddir/private-users"));
        tap_is_int(pod_userns_record_read(d, &r), -ENOENT, "no pod record: -ENOENT");
}

#define PROCS 6
#define EACH  15

static void test_concurrent(void) {
        struct pod_userns_sources src = { .subuid = path_in_top("none-subuid"),
                                          .subgid = path_in_top("none-subgid"),
                                          .passwd = path_in_top("none-passwd"),
                                          .group = path_in_top("none-group"),
                                          .no_nss = true };
        struct pod_userns_request q = { .mode = POD_USERNS_PICK };
        uint32_t got[PROCS * EACH];
        _cleanup_close_ int d = -EBADF;
        int barrier[2], results[2];
        size_t n = 0;
        bool dup = false, failed = false;
        unsigned records = 0;
        char name[64];

        d = new_data_dir("concurrent");
        if (pipe2(barrier, O_CLOEXEC) < 0 || pipe2(results, O_CLOEXEC) < 0) {
                tap_ok(false, "pipes");
                return;
        }
        for (int i = 0; i < PROCS; i++) {
                pid_t pid = fork();

                if (pid == 0) {
                        char c;

                        (void)close(barrier[1]);
                        (void)close(results[0]);
                        /* Wait until the parent lets every child go at once. */
                        (void)read(barrier[0], &c, 1);
                        for (int k = 0; k < EACH; k++) {
                                struct pod_idmap m = {};
                                struct pod_error e = {};

                                /* One UUID for all: every allocation starts at the same
                                 * candidate, the worst case for a race. */
                                if (pod_userns_allocate(d, U1, &q, &src, &m, &e) < 0)
                                        m.base = 0;
                                (void)write(results[1], &m.base, sizeof(m.base));
                        }
                        _exit(0);
                }
        }
        (void)close(barrier[0]);
        (void)close(results[1]);
        (void)close(barrier[1]); /* EOF releases them all together */
        while (n < ELEMENTSOF(got) && read(results[0], &got[n], sizeof(got[0])) == sizeof(got[0]))
                n++;
        (void)close(results[0]);
        while (wait(NULL) > 0)
                ;
        tap_is_int(n, PROCS * EACH, "every child reported");
        for (size_t i = 0; i < n; i++) {
                if (got[i] == 0)
                        failed = true;
                for (size_t j = 0; j < i; j++)
                        if (got[i] == got[j] && got[i] != 0)
                                dup = true;
        }
        tap_ok(!failed, "every concurrent allocation succeeded");
        tap_ok(!dup, "no range was handed out twice");
        for (size_t i = 0; i < n; i++)
                if (record_exists(d, got[i], name, sizeof(name)) == 1)
                        records++;
        tap_is_int(records, n, "one record per allocation");
}

/* Preferred bases (the ranges that have chown-shifted copies): the first free one is taken;
 * taken, unaligned or out-of-zone ones are skipped by pick's own rules. */
static void test_prefer(void) {
        struct pod_userns_sources src = empty_src_proto;
        const uint32_t prefer[] = { 12345, 0x10000000, 0x20000000 };
        struct pod_userns_request req = { .mode = POD_USERNS_PICK,
                                          .prefer = prefer,
                                          .n_prefer = 3 };
        struct pod_userns_request fixed = { .mode = POD_USERNS_FIXED,
                                            .base = 0x10000000,
                                            .count = 65536 };
        _cleanup_close_ int d = -EBADF;
        struct pod_idmap m, f;
        struct pod_error e = {};

        src.subuid = path_in_top("none-subuid");
        src.subgid = path_in_top("none-subgid");
        src.passwd = path_in_top("none-passwd");
        src.group = path_in_top("none-group");
        d = new_data_dir("prefer");
        tap_is_int(pod_userns_allocate(d, U2, &fixed, &src, &f, &e), 0, "a pod holds 0x10000000");
        tap_is_int(pod_userns_allocate(d, U1, &req, &src, &m, &e), 0, "pick with preferences");
        tap_ok(m.base == 0x20000000 && m.count == 65536,
               "the first free preferred base (unaligned and taken ones skipped): %" PRIu32,
               m.base);
        (void)pod_userns_release(d, U1, NULL);
        (void)pod_userns_release(d, U2, NULL);
        tap_is_int(pod_userns_allocate(d, U1, &req, &src, &m, &e), 0, "again, 0x10000000 free");
        tap_ok(m.base == 0x10000000, "the first preferred base now (%" PRIu32 ")", m.base);
}

int main(void) {
        if (!mkdtemp(top))
                return tap_skip_all("no temp dir");
        test_parse();
        test_conf();
        test_pick();
        test_prefer();
        test_explicit();
        test_release_sweep();
        test_pod_record();
        test_concurrent();
        (void)rm_rf_at(AT_FDCWD, top);
        return tap_done();
}
