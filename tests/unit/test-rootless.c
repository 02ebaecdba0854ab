/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rootless.h: the subuid/subgid lookup (by name and by UID, first range, hostile lines) and the
 * ID map reader, on injected files; entering a namespace is tests/integration/rootless.sh's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "rootless.h"
#include "tap.h"

static char dir[] = "/tmp/test-rootless.XXXXXX";

static const char *put(const char *name, const char *text) {
        static char p[4096];
        FILE *f;

        (void)snprintf(p, sizeof(p), "%s/%s", dir, name);
        f = fopen(p, "we");
        if (!f)
                return NULL;
        (void)fputs(text, f);
        (void)fclose(f);
        return p;
}

int main(void) {
        struct pod_subid_range r = {};
        struct pod_error e = {};
        struct pod_id_map m;
        const char *p;
        char buf[128];

        if (!mkdtemp(dir))
                return tap_skip_all("no temp dir");

        p = put("subuid", "# comment\n"
                          "\n"
                          "bob:100000:65536\n"
                          "alice:200000:65536\n"
                          "alice:300000:1000\n"
                          "1001:400000:10\n");
        tap_is_int(pod_subid_find(p, "alice", 1000, &r, &e), 0, "by name");
        tap_ok(r.start == 200000 && r.count == 65536, "the first range of the user");
        tap_is_int(pod_subid_find(p, "carol", 1001, &r, &e), 0, "by numeric UID");
        tap_ok(r.start == 400000 && r.count == 10, "the UID's range");
        tap_is_int(pod_subid_find(p, NULL, 1001, &r, &e), 0, "by UID without a name");
        tap_is_int(pod_subid_find(p, "dave", 1002, &r, &e), -ENOENT, "no range: -ENOENT");
        tap_is_int(pod_subid_find(p, "ali", 1000, &r, &e), -ENOENT, "a prefix of a name is not it");
        tap_is_int(pod_subid_find(p, "alice2", 1000, &r, &e), -ENOENT, "a longer name is not it");
        tap_is_int(pod_subid_find(p, "100", 100, &r, &e), -ENOENT, "UID 100 is not UID 1001");

        p = put("hostile", "eve:0:0\n"
                           "eve:4294967295:1\n"
                           "eve:4294967290:10\n"
                           "eve:-5:10\n"
                           "eve:1 :10\n"
                           "eve:99999999999:10\n"
                           "eve:10:20:30\n"
                           "eve::10\n"
                           "eve:500000:65536");
        tap_is_int(pod_subid_find(p, "eve", 2000, &r, &e), 0,
                   "malformed lines skipped, last line without a newline read");
        tap_ok(r.start == 500000 && r.count == 65536, "only the well-formed range is taken");
        p = put("hostile2", "eve:0:0\neve:4294967290:10\n");
        tap_is_int(pod_subid_find(p, "eve", 2000, &r, &e), -ENOENT,
                   "a zero count or a range past 2^32-1 is no range");

        (void)snprintf(buf, sizeof(buf), "%s/missing", dir);
        tap_is_int(pod_subid_find(buf, "alice", 1000, &r, &e), -ENOENT, "no file: -ENOENT");

        p = put("map-id", "         0          0 4294967295\n");
        tap_is_int(pod_id_map_load(p, &m), 0, "identity map parsed");
        tap_ok(pod_id_map_is_identity(&m), "identity map is the initial namespace");
        tap_ok(pod_id_map_contains(&m, 123456), "identity maps everything");

        p = put("map-range", "         0       1000          1\n"
                             "         1     100000      65536\n");
        tap_is_int(pod_id_map_load(p, &m), 0, "range map parsed");
        tap_ok(!pod_id_map_is_identity(&m), "range map is a user namespace");
        tap_ok(pod_id_map_contains(&m, 0) && pod_id_map_contains(&m, 1) &&
                       pod_id_map_contains(&m, 65536),
               "0, 1 and 65536 are mapped");
        tap_ok(!pod_id_map_contains(&m, 65537) && !pod_id_map_contains(&m, 4294967294u),
               "65537 and beyond are not");
        pod_id_map_format(&m, buf, sizeof(buf));
        tap_is_str(buf, "0-65536", "adjacent extents formatted as one range");

        p = put("map-gap", "0 1000 1\n5 100000 10\n");
        tap_is_int(pod_id_map_load(p, &m), 0, "map with a gap parsed");
        pod_id_map_format(&m, buf, sizeof(buf));
        tap_is_str(buf, "0, 5-14", "a gap is shown");

        p = put("map-single", "0 1000 1\n");
        tap_is_int(pod_id_map_load(p, &m), 0, "single map parsed");
        tap_ok(pod_id_map_contains(&m, 0) && !pod_id_map_contains(&m, 1), "only 0 is mapped");
        pod_id_map_format(&m, buf, sizeof(buf));
        tap_is_str(buf, "0", "single map formatted");
        pod_id_map_format(&m, buf, 1);
        tap_is_str(buf, "", "formatting into one byte: empty");

        p = put("map-bad", "0 1000\n");
        tap_is_int(pod_id_map_load(p, &m), -EBADMSG, "a short line is -EBADMSG");
        p = put("map-bad2", "0 1000 1 junk\n");
        tap_is_int(pod_id_map_load(p, &m), -EBADMSG, "trailing text is -EBADMSG");

        {
                struct pod_id_maps ms = {};

                p = put("map-u", "0 1000 1\n1 100000 65536\n");
                tap_is_int(pod_id_map_load(p, &ms.uid), 0, "uid map for the owner check");
                p = put("map-g", "0 1000 1\n");
                tap_is_int(pod_id_map_load(p, &ms.gid), 0, "gid map for the owner check");
                tap_is_int(pod_id_maps_check_owner(&ms, 65536, 0, "x", &e), 0, "mapped owner");
                tap_is_int(pod_id_maps_check_owner(&ms, 65537, 0, "rootfs/x", &e), -ERANGE,
                           "unmapped uid");
                tap_ok(strstr(e.msg, "'rootfs/x'") && strstr(e.msg, "owner 65537:0") &&
                               strstr(e.msg, "uids 0-65536, gids 0"),
                       "the message names the entry, the owner and the maps: %s", e.msg);
                tap_is_int(pod_id_maps_check_owner(&ms, 0, 1, "x", &e), -ERANGE, "unmapped gid");
                tap_is_int(pod_id_maps_check_owner(&ms, -1, 0, "x", &e), -ERANGE, "negative uid");
                tap_is_int(pod_id_maps_check_owner(&ms, 0, 4294967295LL, "x", &e), -ERANGE,
                           "gid 2^32-1");
        }

        tap_ok(pod_in_user_namespace() == pod_in_user_namespace(), "cached answer is stable");

        (void)snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
        (void)system(buf);
        return tap_done();
}
