/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "isolator.h"
#include "json-util.h"
#include "manifest.h"
#include "path-util.h"

static const char *const type_names[_POD_ISOLATOR_TYPE_MAX] = {
        [POD_ISOLATOR_MEMORY] = "resource/memory",
        [POD_ISOLATOR_CPU] = "resource/cpu",
        [POD_ISOLATOR_BLOCK_BANDWIDTH] = "resource/block-bandwidth",
        [POD_ISOLATOR_BLOCK_IOPS] = "resource/block-iops",
        [POD_ISOLATOR_NETWORK_BANDWIDTH] = "resource/network-bandwidth",
        [POD_ISOLATOR_CAPS_RETAIN] = "os/linux/capabilities-retain-set",
        [POD_ISOLATOR_CAPS_REMOVE] = "os/linux/capabilities-remove-set",
        [POD_ISOLATOR_NO_NEW_PRIVILEGES] = "os/linux/no-new-privileges",
        [POD_ISOLATOR_SECCOMP_RETAIN] = "os/linux/seccomp-retain-set",
        [POD_ISOLATOR_SECCOMP_REMOVE] = "os/linux/seccomp-remove-set",
        [POD_ISOLATOR_OOM_SCORE_ADJ] = "os/linux/oom-score-adj",
        [POD_ISOLATOR_CPU_SHARES] = "os/linux/cpu-shares",
        [POD_ISOLATOR_SELINUX_CONTEXT] = "os/linux/selinux-context",
        [POD_ISOLATOR_APPARMOR_PROFILE] = "os/linux/apparmor-profile",
        [POD_ISOLATOR_SYSCTL] = "os/unix/sysctl",
        [POD_ISOLATOR_UNKNOWN] = NULL,
};

const char *pod_isolator_type_to_name(enum pod_isolator_type t) {
        if (t < 0 || t >= _POD_ISOLATOR_TYPE_MAX)
                return NULL;
        return type_names[t];
}

enum pod_isolator_type pod_isolator_type_from_name(const char *name) {
        for (int t = 0; t < _POD_ISOLATOR_TYPE_MAX; t++)
                if (type_names[t] && streq(type_names[t], name))
                        return t;
        return POD_ISOLATOR_UNKNOWN;
}

/* Capability names as the kernel headers spell them. */
static const char *const cap_names[] = {
        [CAP_CHOWN] = "CAP_CHOWN",
        [CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
        [CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
        [CAP_FOWNER] = "CAP_FOWNER",
        [CAP_FSETID] = "CAP_FSETID",
        [CAP_KILL] = "CAP_KILL",
        [CAP_SETGID] = "CAP_SETGID",
        [CAP_SETUID] = "CAP_SETUID",
        [CAP_SETPCAP] = "CAP_SETPCAP",
        [CAP_LINUX_IMMUTABLE] = "CAP_LINUX_IMMUTABLE",
        [CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
        [CAP_NET_BROADCAST] = "CAP_NET_BROADCAST",
        [CAP_NET_ADMIN] = "CAP_NET_ADMIN",
        [CAP_NET_RAW] = "CAP_NET_RAW",
        [CAP_IPC_LOCK] = "CAP_IPC_LOCK",
        [CAP_IPC_OWNER] = "CAP_IPC_OWNER",
        [CAP_SYS_MODULE] = "CAP_SYS_MODULE",
        [CAP_SYS_RAWIO] = "CAP_SYS_RAWIO",
        [CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
        [CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
        [CAP_SYS_PACCT] = "CAP_SYS_PACCT",
        [CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
        [CAP_SYS_BOOT] = "CAP_SYS_BOOT",
        [CAP_SYS_NICE] = "CAP_SYS_NICE",
        [CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
        [CAP_SYS_TIME] = "CAP_SYS_TIME",
        [CAP_SYS_TTY_CONFIG] = "CAP_SYS_TTY_CONFIG",
        [CAP_MKNOD] = "CAP_MKNOD",
        [CAP_LEASE] = "CAP_LEASE",
        [CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
        [CAP_AUDIT_CONTROL] = "CAP_AUDIT_CONTROL",
        [CAP_SETFCAP] = "CAP_SETFCAP",
        [CAP_MAC_OVERRIDE] = "CAP_MAC_OVERRIDE",
        [CAP_MAC_ADMIN] = "CAP_MAC_ADMIN",
        [CAP_SYSLOG] = "CAP_SYSLOG",
        [CAP_WAKE_ALARM] = "CAP_WAKE_ALARM",
        [CAP_BLOCK_SUSPEND] = "CAP_BLOCK_SUSPEND",
        [CAP_AUDIT_READ] = "CAP_AUDIT_READ",
#ifdef CAP_PERFMON
        [CAP_PERFMON] = "CAP_PERFMON",
#endif
#ifdef CAP_BPF
        [CAP_BPF] = "CAP_BPF",
#endif
#ifdef CAP_CHECKPOINT_RESTORE
        [CAP_CHECKPOINT_RESTORE] = "CAP_CHECKPOINT_RESTORE",
#endif
};

int pod_capability_from_name(const char *name) {
        if (!name || strncasecmp(name, "CAP_", 4) != 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(cap_names); i++)
                if (cap_names[i] && strcasecmp(cap_names[i], name) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *pod_capability_to_name(int cap) {
        if (cap < 0 || (size_t)cap >= ELEMENTSOF(cap_names))
                return NULL;
        return cap_names[cap];
}

int pod_errno_from_name(const char *name) {
        /* Second names of one number: strerrorname_np() knows only the first. */
        static const struct {
                const char *name;
                int value;
        } aliases[] = {
                { "ENOTSUP", ENOTSUP },
                { "EWOULDBLOCK", EWOULDBLOCK },
                { "EDEADLOCK", EDEADLOCK },
        };

        if (!name || name[0] != 'E')
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (streq(aliases[i].name, name))
                        return aliases[i].value;
        /* glibc knows every errno name it was built with; ask it instead of keeping a copy. */
        for (int i = 1; i < 4096; i++) {
                const char *n = strerrorname_np(i);

                if (n && streq(n, name))
                        return i;
        }
        return -EINVAL;
}

/* ---- quantities ---- */

static const struct {
        const char *suffix;
        unsigned base, exp; /* multiplier base^exp */
} suffixes[] = {
        { "", 10, 0 },   { "m", 10, 0 },  { "k", 10, 3 },  { "K", 10, 3 },  { "M", 10, 6 },
        { "G", 10, 9 },  { "T", 10, 12 }, { "P", 10, 15 }, { "E", 10, 18 }, { "Ki", 2, 10 },
        { "Mi", 2, 20 }, { "Gi", 2, 30 }, { "Ti", 2, 40 }, { "Pi", 2, 50 }, { "Ei", 2, 60 },
};

typedef unsigned __int128 u128;

static bool mul_ok(u128 *a, u128 b) {
        return !__builtin_mul_overflow(*a, b, a);
}

int pod_quantity_parse(const char *s, uint64_t scale, uint64_t *ret) {
        u128 mantissa = 0, num, den = 1, q;
        size_t int_digits = 0, frac_digits = 0;
        const char *p = s;
        long exp10 = 0;
        bool milli = false, found = false;

        if (!s || scale == 0)
                return -EINVAL;

        if (*p == '+')
                p++;
        else if (*p == '-')
                return -ERANGE;

        /* Mantissa: digits[.digits]; leading zeros do not count towards the limits. */
        for (; isdigit((unsigned char)*p); p++) {
                if (mantissa == 0 && *p == '0') {
                        found = true;
                        continue;
                }
                if (++int_digits > 20)
                        return -ERANGE;
                mantissa = mantissa * 10 + (unsigned)(*p - '0');
                found = true;
        }
        if (*p == '.') {
                p++;
                for (; isdigit((unsigned char)*p); p++) {
                        if (++frac_digits > 18)
                                return -EINVAL;
                        mantissa = mantissa * 10 + (unsigned)(*p - '0');
                        den *= 10;
                        found = true;
                }
        }
        if (!found)
                return -EINVAL;

        num = mantissa;
        /* Decimal exponent ("1e3", "5E-2") or a suffix ("Mi", "m", "E"). */
        if ((*p == 'e' || *p == 'E') &&
            (isdigit((unsigned char)p[1]) ||
             ((p[1] == '-' || p[1] == '+') && isdigit((unsigned char)p[2])))) {
                char *end;

                errno = 0;
                exp10 = strtol(p + 1, &end, 10);
                if (errno != 0 || *end != 0 || exp10 > 36 || exp10 < -36)
                        return -ERANGE;
                for (long i = 0; i < (exp10 < 0 ? -exp10 : exp10); i++)
                        if (!mul_ok(exp10 < 0 ? &den : &num, 10))
                                return -ERANGE;
        } else {
                size_t i;

                for (i = 0; i < ELEMENTSOF(suffixes); i++)
                        if (streq(p, suffixes[i].suffix))
                                break;
                if (i >= ELEMENTSOF(suffixes))
                        return -EINVAL;
                milli = streq(suffixes[i].suffix, "m");
                for (unsigned k = 0; k < suffixes[i].exp; k++)
                        if (!mul_ok(&num, suffixes[i].base))
                                return -ERANGE;
        }
        if (milli && !mul_ok(&den, 1000))
                return -ERANGE;
        if (!mul_ok(&num, scale))
                return -ERANGE;

        q = num / den + (num % den != 0); /* round up, as Kubernetes does */
        if (q > UINT64_MAX)
                return -ERANGE;
        *ret = (uint64_t)q;
        return 0;
}

/* ---- parsing ---- */

void pod_isolator_done(struct pod_isolator *i) {
        if (!i)
                return;
        switch (i->type) {
        case POD_ISOLATOR_CAPS_RETAIN:
        case POD_ISOLATOR_CAPS_REMOVE:
                strv_free(i->caps.set);
                break;
        case POD_ISOLATOR_SECCOMP_RETAIN:
        case POD_ISOLATOR_SECCOMP_REMOVE:
                strv_free(i->seccomp.set);
                free(i->seccomp.errno_name);
                break;
        case POD_ISOLATOR_SELINUX_CONTEXT:
                free(i->selinux.user);
                free(i->selinux.role);
                free(i->selinux.type);
                free(i->selinux.level);
                break;
        case POD_ISOLATOR_APPARMOR_PROFILE:
                free(i->apparmor_profile);
                break;
        case POD_ISOLATOR_SYSCTL:
                (void)pod_kv_free(i->sysctl.entries, i->sysctl.n_entries);
                break;
        default:
                break;
        }
        free(i->name);
        free(i->value_json);
        *i = (struct pod_isolator){};
}

struct pod_isolator *pod_isolators_free(struct pod_isolator *list, size_t n) {
        for (size_t i = 0; list && i < n; i++)
                pod_isolator_done(&list[i]);
        free(list);
        return NULL;
}

static void isolator_donep(struct pod_isolator *i) {
        pod_isolator_done(i);
}

static int parse_quantity(struct json_object *v, const struct pod_json_path *p, uint64_t scale,
                          uint64_t *ret, struct pod_error *reterr) {
        const char *s;
        int r;

        /* k8s quantities are strings, but a bare JSON number means the same. */
        if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
                s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        else {
                r = pod_json_as_string(v, p, &s, reterr);
                if (r < 0)
                        return r;
        }
        r = pod_quantity_parse(s, scale, ret);
        if (r == -ERANGE)
                return pod_json_error(reterr, -EINVAL, p, "quantity '%s' is out of range", s);
        if (r < 0)
                return pod_json_error(reterr, -EINVAL, p, "'%s' is not a valid quantity", s);
        return 0;
}

static int parse_resource(struct pod_isolator *i, struct json_object *value,
                          const struct pod_json_path *p, struct pod_error *reterr) {
        uint64_t scale = i->type == POD_ISOLATOR_CPU ? 1000 : 1;
        bool has_request_field = i->type == POD_ISOLATOR_MEMORY || i->type == POD_ISOLATOR_CPU;
        struct json_object *v;
        int r;

        r = pod_json_as_object(value, p, reterr);
        if (r < 0)
                return r;

        v = pod_json_get(value, "limit");
        if (v) {
                r = parse_quantity(v, POD_JSON_KEY(p, "limit"), scale, &i->resource.limit, reterr);
                if (r < 0)
                        return r;
                i->resource.has_limit = true;
        }
        if (has_request_field) {
                v = pod_json_get(value, "request");
                if (v) {
                        r = parse_quantity(v, POD_JSON_KEY(p, "request"), scale,
                                           &i->resource.request, reterr);
                        if (r < 0)
                                return r;
                        i->resource.has_request = true;
                }
                if (!i->resource.has_request && !i->resource.has_limit)
                        return pod_json_error(reterr, -EINVAL, p, "needs a limit or a request");
                if (!i->resource.has_request)
                        i->resource.request = i->resource.limit;
                if (i->resource.has_limit && i->resource.request > i->resource.limit)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "request"),
                                              "%" PRIu64 " exceeds the limit %" PRIu64,
                                              i->resource.request, i->resource.limit);
        } else {
                r = pod_json_get_bool(value, "default", p, &i->resource.is_default, reterr);
                if (r < 0)
                        return r;
                if (!i->resource.has_limit)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "limit"),
                                              "is required");
        }
        return 0;
}

static int parse_set(struct json_object *value, const struct pod_json_path *p, char ***ret,
                     struct pod_error *reterr) {
        struct json_object *set;
        int r;

        r = pod_json_as_object(value, p, reterr);
        if (r < 0)
                return r;
        set = pod_json_get(value, "set");
        if (!set)
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "set"), "is required");
        r = pod_json_as_strv(set, POD_JSON_KEY(p, "set"), true, ret, reterr);
        if (r < 0)
                return r;
        if (!*ret)
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "set"), "must not be empty");
        return 0;
}

static int parse_caps(struct pod_isolator *i, struct json_object *value,
                      const struct pod_json_path *p, struct pod_error *reterr) {
        int r;

        r = parse_set(value, p, &i->caps.set, reterr);
        if (r < 0)
                return r;
        for (size_t k = 0; i->caps.set[k]; k++) {
                int cap = pod_capability_from_name(i->caps.set[k]);
                char *canon;

                if (cap < 0)
                        return pod_json_error(reterr, -EINVAL,
                                              POD_JSON_IDX(POD_JSON_KEY(p, "set"), k),
                                              "'%s' is not a capability name", i->caps.set[k]);
                canon = strdup(cap_names[cap]);
                if (!canon)
                        return -ENOMEM;
                free(i->caps.set[k]);
                i->caps.set[k] = canon;
                i->caps.mask |= UINT64_C(1) << cap;
        }
        return 0;
}

static bool syscall_name_valid(const char *s) {
        if (s[0] == '@') /* a group: "@appc.io/all", "@rkt/default-whitelist" */
                return ac_identifier_valid(s + 1);
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
                        return false;
        return true;
}

static int parse_seccomp(struct pod_isolator *i, struct json_object *value,
                         const struct pod_json_path *p, struct pod_error *reterr) {
        int r;

        r = parse_set(value, p, &i->seccomp.set, reterr);
        if (r < 0)
                return r;
        for (size_t k = 0; i->seccomp.set[k]; k++)
                if (!syscall_name_valid(i->seccomp.set[k]))
                        return pod_json_error(
                                reterr, -EINVAL, POD_JSON_IDX(POD_JSON_KEY(p, "set"), k),
                                "'%s' is not a syscall or @group name", i->seccomp.set[k]);

        r = pod_json_get_string(value, "errno", p, false, &i->seccomp.errno_name, reterr);
        if (r < 0)
                return r;
        if (i->seccomp.errno_name && i->seccomp.errno_name[0]) {
                r = pod_errno_from_name(i->seccomp.errno_name);
                if (r < 0)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "errno"),
                                              "'%s' is not an errno name", i->seccomp.errno_name);
                i->seccomp.errno_value = r;
        }
        return 0;
}

static bool sysctl_key_valid(const char *k) {
        /* Only the network namespace's sysctls are per-pod; anything else would change the
         * host.  Components are [a-z0-9_-]+ joined by '.'; no "..", "/" or trailing dot. */
        if (!string_has_prefix(k, "net.") || !k[4])
                return false;
        for (const char *c = k; *c; c++) {
                if (*c == '.') {
                        if (c[1] == '.' || c[1] == 0)
                                return false;
                } else if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                             (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
                        return false;
        }
        return true;
}

static int parse_sysctl(struct pod_isolator *i, struct json_object *value,
                        const struct pod_json_path *p, struct pod_error *reterr) {
        int r;

        r = pod_json_as_object(value, p, reterr);
        if (r < 0)
                return r;
        json_object_object_foreach (value, k, v) {
                const char *s;

                if (!sysctl_key_valid(k))
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, k),
                                              "only net.* sysctls may be set");
                if (!v)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, k),
                                              "must be a string, not null");
                r = pod_json_as_string(v, POD_JSON_KEY(p, k), &s, reterr);
                if (r < 0)
                        return r;
                r = pod_kv_add(&i->sysctl.entries, &i->sysctl.n_entries, k, s);
                if (r == -EEXIST)
                        return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, k), "is set twice");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_int_value(struct json_object *value, const struct pod_json_path *p, int64_t min,
                           int64_t max, int64_t *ret, struct pod_error *reterr) {
        if (!value)
                return pod_json_error(reterr, -EINVAL, p, "is required");
        return pod_json_as_int(value, p, min, max, ret, reterr);
}

int pod_isolator_from_json(const char *name, struct json_object *value, struct pod_isolator *ret,
                           struct pod_error *reterr) {
        _cleanup_(isolator_donep) struct pod_isolator i = {};
        const struct pod_json_path *p = POD_JSON_KEY(NULL, "value");
        int64_t n;
        int r;

        if (!ac_identifier_valid(name))
                return pod_json_error(reterr, -EINVAL, POD_JSON_KEY(NULL, "name"),
                                      "'%s' is not a valid AC Identifier", name);
        i.type = pod_isolator_type_from_name(name);
        i.name = strdup(name);
        if (!i.name)
                return -ENOMEM;
        r = pod_json_to_string(value, false, &i.value_json);
        if (r < 0)
                return r;

        if (i.type != POD_ISOLATOR_UNKNOWN && !value)
                return pod_json_error(reterr, -EINVAL, p, "is required");

        switch (i.type) {
        case POD_ISOLATOR_MEMORY:
        case POD_ISOLATOR_CPU:
        case POD_ISOLATOR_BLOCK_BANDWIDTH:
        case POD_ISOLATOR_BLOCK_IOPS:
        case POD_ISOLATOR_NETWORK_BANDWIDTH:
                r = parse_resource(&i, value, p, reterr);
                break;
        case POD_ISOLATOR_CAPS_RETAIN:
        case POD_ISOLATOR_CAPS_REMOVE:
                r = parse_caps(&i, value, p, reterr);
                break;
        case POD_ISOLATOR_NO_NEW_PRIVILEGES:
                if (!json_object_is_type(value, json_type_boolean))
                        return pod_json_error(reterr, -EINVAL, p, "must be true or false");
                i.no_new_privileges = json_object_get_boolean(value);
                r = 0;
                break;
        case POD_ISOLATOR_SECCOMP_RETAIN:
        case POD_ISOLATOR_SECCOMP_REMOVE:
                r = parse_seccomp(&i, value, p, reterr);
                break;
        case POD_ISOLATOR_OOM_SCORE_ADJ:
                r = parse_int_value(value, p, -1000, 1000, &n, reterr);
                i.oom_score_adj = (int)n;
                break;
        case POD_ISOLATOR_CPU_SHARES:
                r = parse_int_value(value, p, 2, 262144, &n, reterr);
                i.cpu_shares = (uint64_t)n;
                break;
        case POD_ISOLATOR_SELINUX_CONTEXT:
                r = pod_json_as_object(value, p, reterr);
                if (r >= 0)
                        r = pod_json_get_string(value, "user", p, true, &i.selinux.user, reterr);
                if (r >= 0)
                        r = pod_json_get_string(value, "role", p, true, &i.selinux.role, reterr);
                if (r >= 0)
                        r = pod_json_get_string(value, "type", p, true, &i.selinux.type, reterr);
                if (r >= 0)
                        r = pod_json_get_string(value, "level", p, true, &i.selinux.level, reterr);
                break;
        case POD_ISOLATOR_APPARMOR_PROFILE:
                r = pod_json_as_object(value, p, reterr);
                if (r >= 0)
                        r = pod_json_get_string(value, "profile", p, true, &i.apparmor_profile,
                                                reterr);
                if (r >= 0 && !i.apparmor_profile[0])
                        r = pod_json_error(reterr, -EINVAL, POD_JSON_KEY(p, "profile"),
                                           "must not be empty");
                break;
        case POD_ISOLATOR_SYSCTL:
                r = parse_sysctl(&i, value, p, reterr);
                break;
        default: /* unknown: kept verbatim in value_json for the caller to report */
                r = 0;
                break;
        }
        if (r < 0)
                return r;

        *ret = i;
        i = (struct pod_isolator){};
        return 0;
}

/* Which family an isolator belongs to for the "not both retain and remove" and "at most one"
 * rules; -1 for those that may repeat (unknown ones). */
static int family(enum pod_isolator_type t) {
        switch (t) {
        case POD_ISOLATOR_CAPS_REMOVE:
                return POD_ISOLATOR_CAPS_RETAIN;
        case POD_ISOLATOR_SECCOMP_REMOVE:
                return POD_ISOLATOR_SECCOMP_RETAIN;
        case POD_ISOLATOR_UNKNOWN:
                return -1;
        default:
                return t;
        }
}

static bool app_only(enum pod_isolator_type t) {
        switch (t) {
        case POD_ISOLATOR_CAPS_RETAIN:
        case POD_ISOLATOR_CAPS_REMOVE:
        case POD_ISOLATOR_NO_NEW_PRIVILEGES:
        case POD_ISOLATOR_SECCOMP_RETAIN:
        case POD_ISOLATOR_SECCOMP_REMOVE:
        case POD_ISOLATOR_OOM_SCORE_ADJ:
        case POD_ISOLATOR_CPU_SHARES:
                return true;
        default:
                return false;
        }
}

int pod_isolators_validate(const struct pod_isolator *list, size_t n, enum pod_isolator_scope scope,
                           struct pod_error *reterr) {
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *p = POD_JSON_IDX(NULL, i);
                int f = family(list[i].type);

                if (scope == POD_ISOLATOR_SCOPE_POD && app_only(list[i].type))
                        return pod_json_error(reterr, -EINVAL, p,
                                              "%s can only be set on an app, not on the pod",
                                              list[i].name);
                if (scope == POD_ISOLATOR_SCOPE_APP && list[i].type == POD_ISOLATOR_SYSCTL)
                        return pod_json_error(reterr, -EINVAL, p,
                                              "%s can only be set on the pod, not on an app",
                                              list[i].name);
                if (f < 0)
                        continue;
                for (size_t j = 0; j < i; j++) {
                        if (family(list[j].type) != f)
                                continue;
                        if (list[j].type != list[i].type)
                                return pod_json_error(reterr, -EINVAL, p,
                                                      "%s cannot be combined with %s (at [%zu])",
                                                      list[i].name, list[j].name, j);
                        return pod_json_error(reterr, -EINVAL, p,
                                              "%s may be given only once (also at [%zu])",
                                              list[i].name, j);
                }
        }
        return 0;
}

int pod_isolators_parse_json(struct json_object *array, const struct pod_json_path *p,
                             enum pod_isolator_scope scope, struct pod_isolator **ret,
                             size_t *ret_n, struct pod_error *reterr) {
        struct pod_isolator *list = NULL;
        size_t n, k = 0;
        struct pod_error e = {};
        char path[256];
        int r;

        if (!json_object_is_type(array, json_type_array))
                return pod_json_error(reterr, -EINVAL, p, "must be an array");
        n = json_object_array_length(array);
        if (n > 0) {
                list = calloc(n, sizeof(*list));
                if (!list)
                        return -ENOMEM;
        }
        for (; k < n; k++) {
                struct json_object *o = json_object_array_get_idx(array, k);
                const struct pod_json_path *ip = POD_JSON_IDX(p, k);
                _cleanup_free_ char *name = NULL;

                r = o ? pod_json_as_object(o, ip, reterr)
                      : pod_json_error(reterr, -EINVAL, ip, "must be an object, not null");
                if (r >= 0)
                        r = pod_json_get_string(o, "name", ip, true, &name, reterr);
                if (r >= 0) {
                        /* The isolator reports paths relative to itself; prefix ours. */
                        r = pod_isolator_from_json(name, pod_json_get(o, "value"), &list[k], &e);
                        if (r < 0 && e.error) {
                                pod_json_path_format(ip, path, sizeof(path));
                                r = pod_error_set(reterr, r, "%s%s%s", path, path[0] ? "." : "",
                                                  e.msg);
                        }
                }
                if (r < 0) {
                        (void)pod_isolators_free(list, k);
                        return r;
                }
        }

        r = pod_isolators_validate(list, n, scope, &e);
        if (r < 0) {
                (void)pod_isolators_free(list, n);
                pod_json_path_format(p, path, sizeof(path));
                return pod_error_set(reterr, r, "%s%s", path, e.msg);
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

int pod_isolators_parse(const char *text, size_t size, enum pod_isolator_scope scope,
                        struct pod_isolator **ret, size_t *ret_n, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *o = NULL;
        int r;

        r = pod_json_parse(text, size, POD_MANIFEST_MAX, &o, reterr);
        if (r < 0)
                return r;
        return pod_isolators_parse_json(o, NULL, scope, ret, ret_n, reterr);
}

int pod_isolator_copy(const struct pod_isolator *src, struct pod_isolator *ret) {
        _cleanup_json_ struct json_object *v = NULL;
        struct pod_error e = {};
        int r;

        /* Re-parsing the stored value is the one copy path that cannot drift from the parser. */
        if (src->value_json) {
                r = pod_json_parse(src->value_json, strlen(src->value_json), POD_MANIFEST_MAX, &v,
                                   &e);
                if (r < 0 && !streq(src->value_json, "null"))
                        return r;
        }
        return pod_isolator_from_json(src->name, v, ret, NULL);
}

const struct pod_isolator *pod_isolators_find(const struct pod_isolator *list, size_t n,
                                              enum pod_isolator_type t) {
        for (size_t i = 0; i < n; i++)
                if (list[i].type == t)
                        return &list[i];
        return NULL;
}
