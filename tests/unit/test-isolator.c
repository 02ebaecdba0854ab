/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "isolator.h"
#include "macro.h"
#include "manifest.h"
#include "tap.h"

static void test_quantity(const char *s, uint64_t scale, int err, uint64_t expected) {
        uint64_t v = 0;
        int r;

        r = pod_quantity_parse(s, scale, &v);
        tap_is_int(r, err, s);
        if (err == 0)
                tap_is_int(v, expected, "  value");
}

static void test_quantities(void) {
        printf("# bytes\n");
        test_quantity("256Mi", 1, 0, UINT64_C(268435456));
        test_quantity("1G", 1, 0, UINT64_C(1000000000));
        test_quantity("1k", 1, 0, 1000);
        test_quantity("1K", 1, 0, 1000);
        test_quantity("1Ki", 1, 0, 1024);
        test_quantity("1.5Gi", 1, 0, UINT64_C(1610612736));
        test_quantity("0.5", 1, 0, 1);   /* rounded up */
        test_quantity("500m", 1, 0, 1);  /* 0.5 byte, rounded up */
        test_quantity("1500m", 1, 0, 2); /* 1.5 bytes, rounded up */
        test_quantity("0", 1, 0, 0);
        test_quantity("007", 1, 0, 7);
        test_quantity("+3", 1, 0, 3);
        test_quantity("1e3", 1, 0, 1000);
        test_quantity("1E", 1, 0, UINT64_C(1000000000000000000));
        test_quantity("15Ei", 1, 0, UINT64_C(15) << 60);
        test_quantity("16Ei", 1, -ERANGE, 0);
        test_quantity("18446744073709551615", 1, 0, UINT64_MAX);
        test_quantity("18446744073709551616", 1, -ERANGE, 0);
        test_quantity("123456789012345678901", 1, -ERANGE, 0);
        test_quantity("-1", 1, -ERANGE, 0);
        test_quantity("", 1, -EINVAL, 0);
        test_quantity(".", 1, -EINVAL, 0);
        test_quantity("Mi", 1, -EINVAL, 0);
        test_quantity("1MB", 1, -EINVAL, 0);
        test_quantity("1 Mi", 1, -EINVAL, 0);
        test_quantity("1mi", 1, -EINVAL, 0);
        test_quantity("0x10", 1, -EINVAL, 0);
        test_quantity("1.0000000000000000001", 1, -EINVAL, 0);
        printf("# millicores\n");
        test_quantity("500m", 1000, 0, 500);
        test_quantity("0.5", 1000, 0, 500);
        test_quantity("2", 1000, 0, 2000);
        test_quantity("1.0001", 1000, 0, 1001); /* rounded up */
        test_quantity("1u", 1000, -EINVAL, 0);
}

static int parse(const char *json, enum pod_isolator_scope scope, struct pod_isolator **ret,
                 size_t *ret_n, struct pod_error *e) {
        pod_error_clear(e);
        return pod_isolators_parse(json, strlen(json), scope, ret, ret_n, e);
}

static void expect_error(const char *json, enum pod_isolator_scope scope, const char *msg) {
        struct pod_isolator *l = NULL;
        struct pod_error e = {};
        size_t n = 0;
        int r;

        r = parse(json, scope, &l, &n, &e);
        tap_is_int(r, -EINVAL, msg);
        tap_is_str(e.msg, msg, "  message");
        l = pod_isolators_free(l, n);
}

#define ONE(name, value) "[{\"name\":\"" name "\",\"value\":" value "}]"

static void test_valid(void) {
        struct pod_isolator *l = NULL, copy = {};
        struct pod_error e = {};
        size_t n = 0;
        int r;

        r = parse(
                "[{\"name\":\"resource/"
                "memory\",\"value\":{\"request\":\"128Mi\",\"limit\":\"1Gi\"}},"
                "{\"name\":\"resource/cpu\",\"value\":{\"limit\":\"500m\"}},"
                "{\"name\":\"resource/block-bandwidth\",\"value\":{\"default\":true,\"limit\":"
                "\"10M\"}},"
                "{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":"
                "[\"CAP_NET_BIND_SERVICE\",\"cap_chown\"]}},"
                "{\"name\":\"os/linux/no-new-privileges\",\"value\":true},"
                "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"@appc.io/empty\","
                "\"reboot\",\"kexec_load\"],\"errno\":\"ENOSYS\"}},"
                "{\"name\":\"os/linux/oom-score-adj\",\"value\":-1000},"
                "{\"name\":\"os/linux/cpu-shares\",\"value\":262144},"
                "{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u\",\"role\":\"r\","
                "\"type\":\"t\",\"level\":\"s0\"}},"
                "{\"name\":\"os/linux/apparmor-profile\",\"value\":{\"profile\":\"pod\"}},"
                "{\"name\":\"example.com/gpu\",\"value\":{\"count\":2}},"
                "{\"name\":\"example.com/flag\"}]",
                POD_ISOLATOR_SCOPE_APP, &l, &n, &e);
        tap_is_int(r, 0, "every known isolator parses");
        if (r < 0) {
                printf("# %s\n", e.msg);
                return;
        }
        tap_is_int(n, 12, "12 isolators");
        tap_ok(l[0].type == POD_ISOLATOR_MEMORY && l[0].resource.request == 128u << 20 &&
                       l[0].resource.limit == 1u << 30,
               "memory request and limit in bytes");
        tap_ok(l[1].type == POD_ISOLATOR_CPU && l[1].resource.limit == 500 &&
                       l[1].resource.request == 500 && !l[1].resource.has_request,
               "cpu limit in millicores, request defaults to it");
        tap_ok(l[2].type == POD_ISOLATOR_BLOCK_BANDWIDTH && l[2].resource.is_default &&
                       l[2].resource.limit == 10000000,
               "block bandwidth");
        tap_ok(l[3].type == POD_ISOLATOR_CAPS_RETAIN &&
                       l[3].caps.mask == ((UINT64_C(1) << 10) | (UINT64_C(1) << 0)),
               "capability mask");
        tap_is_str(l[3].caps.set[1], "CAP_CHOWN", "capability name canonicalised");
        tap_ok(l[4].type == POD_ISOLATOR_NO_NEW_PRIVILEGES && l[4].no_new_privileges,
               "no-new-privileges");
        tap_ok(l[5].type == POD_ISOLATOR_SECCOMP_REMOVE && l[5].seccomp.errno_value == ENOSYS,
               "seccomp errno");
        tap_is_str(l[5].seccomp.set[0], "@appc.io/empty", "seccomp group kept as a string");
        tap_is_str(l[5].seccomp.errno_name, "ENOSYS", "seccomp errno name");
        tap_ok(l[6].type == POD_ISOLATOR_OOM_SCORE_ADJ && l[6].oom_score_adj == -1000,
               "oom-score-adj");
        tap_ok(l[7].type == POD_ISOLATOR_CPU_SHARES && l[7].cpu_shares == 262144, "cpu-shares");
        tap_is_str(l[8].selinux.level, "s0", "selinux level");
        tap_is_str(l[9].apparmor_profile, "pod", "apparmor profile");
        tap_ok(l[10].type == POD_ISOLATOR_UNKNOWN, "unknown isolator kept");
        tap_is_str(l[10].value_json, "{\"count\":2}", "unknown isolator value kept verbatim");
        tap_ok(l[11].type == POD_ISOLATOR_UNKNOWN, "unknown isolator without value kept");
        tap_is_str(l[11].value_json, "null", "  value null");
        tap_ok(pod_isolators_find(l, n, POD_ISOLATOR_CPU_SHARES) == &l[7], "find");
        tap_ok(!pod_isolators_find(l, n, POD_ISOLATOR_SYSCTL), "find absent");

        r = pod_isolator_copy(&l[5], &copy);
        tap_is_int(r, 0, "copy");
        tap_ok(copy.type == POD_ISOLATOR_SECCOMP_REMOVE &&
                       streq(copy.seccomp.set[2], "kexec_load") &&
                       copy.seccomp.errno_value == ENOSYS &&
                       copy.seccomp.set[0] != l[5].seccomp.set[0],
               "copy is deep");
        pod_isolator_done(&copy);
        r = pod_isolator_copy(&l[6], &copy);
        tap_ok(r == 0 && copy.oom_score_adj == -1000, "copy of a bare-number value");
        pod_isolator_done(&copy);
        r = pod_isolator_copy(&l[11], &copy);
        tap_ok(r == 0 && copy.type == POD_ISOLATOR_UNKNOWN, "copy of a null value");
        pod_isolator_done(&copy);
        l = pod_isolators_free(l, n);

        r = parse(ONE("os/linux/seccomp-retain-set", "{\"set\":[\"@appc.io/all\"],\"errno\":\"\"}"),
                  POD_ISOLATOR_SCOPE_APP, &l, &n, &e);
        tap_is_int(r, 0, "seccomp with empty errno parses");
        tap_ok(l && l[0].seccomp.errno_value == 0, "  empty errno = kill");
        l = pod_isolators_free(l, n);

        r = parse(ONE("os/unix/sysctl", "{\"net.ipv4.ip_forward\":\"1\",\"net.core.somaxconn\":"
                                        "\"1024\"}"),
                  POD_ISOLATOR_SCOPE_POD, &l, &n, &e);
        tap_is_int(r, 0, "sysctl at pod scope parses");
        tap_is_str(l ? pod_kv_get(l[0].sysctl.entries, l[0].sysctl.n_entries, "net.core.somaxconn")
                     : NULL,
                   "1024", "  sysctl value");
        l = pod_isolators_free(l, n);

        r = parse("[]", POD_ISOLATOR_SCOPE_POD, &l, &n, &e);
        tap_ok(r == 0 && n == 0, "empty list");
        l = pod_isolators_free(l, n);

        tap_is_int(pod_capability_from_name("CAP_SYS_ADMIN"), 21, "CAP_SYS_ADMIN is 21");
        tap_is_int(pod_capability_from_name("SYS_ADMIN"), -EINVAL, "CAP_ prefix required");
        tap_is_str(pod_capability_to_name(0), "CAP_CHOWN", "capability 0");
        tap_ok(!pod_capability_to_name(200), "capability 200 unknown");
        tap_is_int(pod_errno_from_name("EPERM"), EPERM, "EPERM");
        tap_is_int(pod_errno_from_name("EHWPOISON"), EHWPOISON, "EHWPOISON");
        tap_is_int(pod_errno_from_name("ENOTSUP"), ENOTSUP, "ENOTSUP (alias of EOPNOTSUPP)");
        tap_is_int(pod_errno_from_name("EOPNOTSUPP"), EOPNOTSUPP, "EOPNOTSUPP");
        tap_is_int(pod_errno_from_name("EWOULDBLOCK"), EAGAIN, "EWOULDBLOCK (alias of EAGAIN)");
        tap_is_int(pod_errno_from_name("eperm"), -EINVAL, "errno names are upper case");
        tap_is_int(pod_errno_from_name("EFOO"), -EINVAL, "unknown errno");
        tap_is_str(pod_isolator_type_to_name(POD_ISOLATOR_CPU), "resource/cpu", "type name");
        tap_is_int(pod_isolator_type_from_name("os/linux/cpu-shares"), POD_ISOLATOR_CPU_SHARES,
                   "type from name");
}

static void test_rejections(void) {
        expect_error(ONE("resource/memory", "{\"limit\":\"1Gi\",\"request\":\"2Gi\"}"),
                     POD_ISOLATOR_SCOPE_APP,
                     "[0].value.request: 2147483648 exceeds the limit 1073741824");
        expect_error(ONE("resource/memory", "{}"), POD_ISOLATOR_SCOPE_APP,
                     "[0].value: needs a limit or a request");
        expect_error(ONE("resource/memory", "\"1G\""), POD_ISOLATOR_SCOPE_APP,
                     "[0].value: must be an object, not a string");
        expect_error(ONE("resource/cpu", "{\"limit\":\"-1\"}"), POD_ISOLATOR_SCOPE_APP,
                     "[0].value.limit: quantity '-1' is out of range");
        expect_error(ONE("resource/cpu", "{\"limit\":true}"), POD_ISOLATOR_SCOPE_APP,
                     "[0].value.limit: must be a string, not a boolean");
        expect_error(ONE("resource/network-bandwidth", "{\"default\":true}"),
                     POD_ISOLATOR_SCOPE_APP, "[0].value.limit: is required");
        expect_error(ONE("resource/memory", "null"), POD_ISOLATOR_SCOPE_APP,
                     "[0].value: is required");
        expect_error(ONE("os/linux/capabilities-retain-set", "{\"set\":[]}"),
                     POD_ISOLATOR_SCOPE_APP, "[0].value.set: must not be empty");
        expect_error(ONE("os/linux/capabilities-retain-set", "{}"), POD_ISOLATOR_SCOPE_APP,
                     "[0].value.set: is required");
        expect_error(
                ONE("os/linux/capabilities-remove-set", "{\"set\":[\"CAP_CHOWN\",\"CAP_FLY\"]}"),
                POD_ISOLATOR_SCOPE_APP, "[0].value.set[1]: 'CAP_FLY' is not a capability name");
        expect_error(ONE("os/linux/capabilities-remove-set", "{\"set\":[\"NET_RAW\"]}"),
                     POD_ISOLATOR_SCOPE_APP,
                     "[0].value.set[0]: 'NET_RAW' is not a capability name");
        expect_error("[{\"name\":\"os/linux/capabilities-remove-set\",\"value\":{\"set\":"
                     "[\"CAP_KILL\"]}},{\"name\":\"os/linux/capabilities-retain-set\",\"value\":"
                     "{\"set\":[\"CAP_KILL\"]}}]",
                     POD_ISOLATOR_SCOPE_APP,
                     "[1]: os/linux/capabilities-retain-set cannot be combined with "
                     "os/linux/capabilities-remove-set (at [0])");
        expect_error(ONE("os/linux/no-new-privileges", "\"true\""), POD_ISOLATOR_SCOPE_APP,
                     "[0].value: must be true or false");
        expect_error(ONE("os/linux/seccomp-retain-set", "{\"set\":[\"read\"],\"errno\":\"EFOO\"}"),
                     POD_ISOLATOR_SCOPE_APP, "[0].value.errno: 'EFOO' is not an errno name");
        expect_error(ONE("os/linux/seccomp-retain-set", "{\"set\":[\"re ad\"]}"),
                     POD_ISOLATOR_SCOPE_APP,
                     "[0].value.set[0]: 're ad' is not a syscall or @group name");
        expect_error(ONE("os/linux/seccomp-retain-set", "{\"set\":[\"@\"]}"),
                     POD_ISOLATOR_SCOPE_APP,
                     "[0].value.set[0]: '@' is not a syscall or @group name");
        expect_error("[{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"read\"]}},"
                     "{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"write\"]}}]",
                     POD_ISOLATOR_SCOPE_APP,
                     "[1]: os/linux/seccomp-retain-set may be given only once (also at [0])");
        expect_error("[{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"read\"]}},"
                     "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"write\"]}}]",
                     POD_ISOLATOR_SCOPE_APP,
                     "[1]: os/linux/seccomp-remove-set cannot be combined with "
                     "os/linux/seccomp-retain-set (at [0])");
        expect_error(ONE("os/linux/oom-score-adj", "1001"), POD_ISOLATOR_SCOPE_APP,
                     "[0].value: 1001 is out of range -1000..1000");
        expect_error(ONE("os/linux/oom-score-adj", "\"5\""), POD_ISOLATOR_SCOPE_APP,
                     "[0].value: must be an integer, not a string");
        expect_error(ONE("os/linux/cpu-shares", "1"), POD_ISOLATOR_SCOPE_APP,
                     "[0].value: 1 is out of range 2..262144");
        expect_error(ONE("os/linux/cpu-shares", "262145"), POD_ISOLATOR_SCOPE_APP,
                     "[0].value: 262145 is out of range 2..262144");
        expect_error(ONE("os/linux/selinux-context", "{\"user\":\"u\",\"role\":\"r\",\"type\":"
                                                     "\"t\"}"),
                     POD_ISOLATOR_SCOPE_APP, "[0].value.level: is required");
        expect_error(ONE("os/linux/apparmor-profile", "{\"profile\":\"\"}"), POD_ISOLATOR_SCOPE_APP,
                     "[0].value.profile: must not be empty");
        expect_error(ONE("os/unix/sysctl", "{\"kernel.shmmax\":\"1\"}"), POD_ISOLATOR_SCOPE_POD,
                     "[0].value.kernel.shmmax: only net.* sysctls may be set");
        expect_error(ONE("os/unix/sysctl", "{\"net..x\":\"1\"}"), POD_ISOLATOR_SCOPE_POD,
                     "[0].value.net..x: only net.* sysctls may be set");
        expect_error(ONE("os/unix/sysctl", "{\"net.a/../../b\":\"1\"}"), POD_ISOLATOR_SCOPE_POD,
                     "[0].value.net.a/../../b: only net.* sysctls may be set");
        expect_error(ONE("os/unix/sysctl", "{\"net.x\":1}"), POD_ISOLATOR_SCOPE_POD,
                     "[0].value.net.x: must be a string, not an integer");
        expect_error(ONE("os/unix/sysctl", "{\"net.x\":\"1\"}"), POD_ISOLATOR_SCOPE_APP,
                     "[0]: os/unix/sysctl can only be set on the pod, not on an app");
        expect_error(ONE("os/linux/cpu-shares", "2"), POD_ISOLATOR_SCOPE_POD,
                     "[0]: os/linux/cpu-shares can only be set on an app, not on the pod");
        expect_error(ONE("Resource/Memory", "{}"), POD_ISOLATOR_SCOPE_APP,
                     "[0].name: 'Resource/Memory' is not a valid AC Identifier");
        expect_error("[{\"value\":1}]", POD_ISOLATOR_SCOPE_APP, "[0].name: is required");
        expect_error("[1]", POD_ISOLATOR_SCOPE_APP, "[0]: must be an object, not an integer");
        expect_error("{}", POD_ISOLATOR_SCOPE_APP, "must be an array");
}

int main(void) {
        test_quantities();
        test_valid();
        test_rejections();
        return tap_done();
}
