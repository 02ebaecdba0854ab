/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd integration, all optional except where a promise depends on it.
 *
 *  - Scope: with a reachable system bus, the pod gets its own unit, pod-<uuid>.scope in
 *    machine.slice, holding stage1 itself (so every process forked later is in it from
 *    birth), with Delegate=yes and CollectMode=inactive-or-failed, and the pod's resource
 *    isolators as MemoryMax= / CPUQuota= (nspawn's allocate_scope()).  We wait for the
 *    start job, so the limits apply before any app runs.
 *  - Keep-unit: when stage1 is the main process of a service (pod run under systemd-run
 *    or a unit file), that service is the pod's unit (nspawn --keep-unit); limits go onto
 *    it with SetUnitProperties().
 *  - machined: RegisterMachine as pod-<uuid>, class container, leader = the pod init, when
 *    machined is installed (machinectl list/status/shell then work).
 *  - Devices: DevicePolicy=closed and DeviceAllow= from devices.c's list, on the scope or
 *    the kept unit (devices.c then checks that systemd really enforces them).
 *  - Journal: each app gets its own stream, identifier = app name.
 * Without systemd nothing is registered; resource limits then go through the cgroup file
 * system (limits.c).
 *
 * Rootless (ABI.md "Rootless"): the same scope (app.slice instead of machine.slice, no
 * device properties: a user manager cannot attach device programs) or kept user service,
 * on the user's own manager (the user bus), never machined.  The limits then hold only
 * where the user's slice delegates the controller: checked in the scope's cgroup, refused
 * by name otherwise.  No user manager: no unit, and any limit is refused. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <syslog.h>
#include <unistd.h>

#include "dlopen-systemd.h"
#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "manifest.h"
#include "stage1.h"

struct stage1_scope {
        sd_bus *bus;
        char *unit;
        char *job; /* object path of the start job we wait for */
        int job_done;
        char *job_result;
        bool delegated; /* Delegate=yes: our scope always, a kept unit when it says so */
};

struct stage1_scope *stage1_scope_free(struct stage1_scope *s) {
        if (!s)
                return NULL;
        sd_bus_flush_close_unref(s->bus);
        free(s->unit);
        free(s->job);
        free(s->job_result);
        free(s);
        return NULL;
}

const char *stage1_scope_unit(const struct stage1_scope *s) {
        return s ? s->unit : NULL;
}

bool stage1_scope_delegated(const struct stage1_scope *s) {
        return s && s->unit && s->delegated;
}

static bool stdout_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDOUT_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

int stage1_scope_open_log_streams(struct stage1_config *c) {
        struct pod_error e = {};
        int r;

        /* Only when our own output already goes to the journal: on a terminal the apps
         * inherit it, as the user expects. */
        if (!stdout_is_journal())
                return 0;
        r = pod_dlopen_systemd(&e);
        if (r < 0)
                return log_pod_error(r, &e);
        for (size_t i = 0; i < c->n_apps; i++) {
                int fd = sd_journal_stream_fd(c->apps[i].name, LOG_INFO, 1);
                if (fd < 0)
                        return log_error_errno(fd,
                                               "Failed to open a journal stream for app "
                                               "'%s': %m",
                                               c->apps[i].name);
                c->apps[i].log_fd = fd;
        }
        return 0;
}

/* word in a space-separated list (cgroup.controllers). */
static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

static bool needs_limits(const struct stage1_config *c) {
        return c->has_memory_max || c->has_cpu_quota || c->cpu_shares || c->per_app_limits;
}

/* A kept unit's Delegate= into s->delegated. */
static int read_delegated(struct stage1_scope *s, struct pod_error *reterr) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        const char *dot = strrchr(s->unit, '.');
        int delegate = 0, r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", s->unit, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_trivial(s->bus, "org.freedesktop.systemd1", path,
                                        dot && streq(dot, ".scope")
                                                ? "org.freedesktop.systemd1.Scope"
                                                : "org.freedesktop.systemd1.Service",
                                        "Delegate", &error, 'b', &delegate);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read Delegate= of unit '%s': %s",
                                     s->unit, error.message ?: strerror(-r));
        s->delegated = delegate;
        return 0;
}

/* Per-app sub-cgroups below a kept unit need it to be delegated (cgroup.c). */
static int check_delegated(struct stage1_scope *s, struct pod_error *reterr) {
        int r;

        r = read_delegated(s, reterr);
        if (r < 0)
                return r;
        if (!s->delegated)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "Per-app resource limits need a delegated unit: unit '%s' "
                                     "has no Delegate=yes (set it, or use --no-keep-unit)",
                                     s->unit);
        return 0;
}

static int append_limits(const struct stage1_config *c, sd_bus_message *m) {
        int r = 0;

        if (c->has_memory_max)
                r = sd_bus_message_append(m, "(sv)", "MemoryMax", "t", c->memory_max);
        if (r >= 0 && c->has_cpu_quota)
                r = sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t", c->cpu_quota_usec);
        /* os/linux/cpu-shares: CPUShares= is gone from current systemd (cgroup v1 only);
         * CPUWeight= with systemd's own conversion of shares to a weight. */
        if (r >= 0 && c->cpu_shares)
                r = sd_bus_message_append(m, "(sv)", "CPUWeight", "t",
                                          stage1_cpu_shares_to_weight(c->cpu_shares));
        return r;
}

/* The device allow-list (devices.c).  "closed" alone already admits the pseudo devices and
 * ptys; the explicit entries make the list ours rather than systemd's idea of "closed". */
static int append_devices(const struct stage1_config *c, sd_bus_message *m) {
        struct stage1_device d[STAGE1_DEVICES_MAX];
        int n, r;

        if (c->disable_device_policy || c->rootless)
                return 0;
        n = stage1_devices_list(c, d);
        r = sd_bus_message_append(m, "(sv)", "DevicePolicy", "s", "closed");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "DeviceAllow");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(ss)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(ss)");
        for (int i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(m, "(ss)", d[i].path, d[i].access);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct stage1_scope *s = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        int r;

        r = sd_bus_message_read(m, "uoss", &id, &path, &unit, &result);
        if (r < 0)
                return 0;
        if (s->job && streq(path, s->job)) {
                s->job_done = 1;
                s->job_result = strdup(result);
        }
        return 0;
}

static int start_scope(const struct stage1_config *c, struct stage1_scope *s,
                       struct pod_error *reterr) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *desc = NULL;
        const char *job;
        int r;

        if (asprintf(&s->unit, "pod-%s.scope", c->uuid) < 0 ||
            asprintf(&desc, "pod %s", c->uuid) < 0)
                return -ENOMEM;

        /* Subscribe before asking, so the job's end cannot slip past us. */
        r = sd_bus_match_signal(s->bus, &slot, "org.freedesktop.systemd1",
                                "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                "JobRemoved", job_removed, s);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to watch systemd jobs: %m");

        r = sd_bus_message_new_method_call(
                s->bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", s->unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", desc,
                                          "Slice", "s", c->rootless ? "app.slice" : "machine.slice",
                                          "Delegate", "b", 1, "CollectMode", "s",
                                          "inactive-or-failed", "PIDs", "au", 1,
                                          (uint32_t)getpid());
        if (r >= 0)
                r = append_limits(c, m);
        if (r >= 0)
                r = append_devices(c, m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to build the scope request: %m");

        r = sd_bus_call(s->bus, m, 0, &error, &reply);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to start unit '%s': %s", s->unit,
                                     error.message ?: strerror(-r));
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return pod_error_set(reterr, r, "Bad reply to StartTransientUnit: %m");
        s->job = strdup(job);
        if (!s->job)
                return -ENOMEM;

        while (!s->job_done) {
                r = sd_bus_process(s->bus, NULL);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to wait for unit '%s': %m",
                                             s->unit);
                if (r > 0)
                        continue;
                r = sd_bus_wait(s->bus, 30 * 1000000ULL);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to wait for unit '%s': %m",
                                             s->unit);
                if (r == 0)
                        return pod_error_set(reterr, -ETIMEDOUT, "Timed out starting unit '%s'",
                                             s->unit);
        }
        if (!s->job_result || !streq(s->job_result, "done"))
                return pod_error_set(reterr, -EIO, "Unit '%s' failed to start: %s", s->unit,
                                     strna(s->job_result));
        return 0;
}

/* Are we the main process of a service?  Then that service is the pod's unit. */
static int detect_keep_unit(struct stage1_scope *s, bool user, char **ret_unit) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *unit = NULL, *path = NULL;
        uint32_t main_pid = 0;
        size_t n;
        int r;

        /* Under a user manager our system unit is user@UID.service: ask for the user unit. */
        r = user ? sd_pid_get_user_unit(0, &unit) : sd_pid_get_unit(0, &unit);
        if (r < 0)
                return 0;
        n = strlen(unit);
        if (n < 8 || !streq(unit + n - 8, ".service"))
                return 0;
        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_trivial(s->bus, "org.freedesktop.systemd1", path,
                                        "org.freedesktop.systemd1.Service", "MainPID", &error, 'u',
                                        &main_pid);
        if (r < 0 || main_pid != (uint32_t)getpid())
                return 0;
        *ret_unit = TAKE_PTR(unit);
        return 1;
}

static int set_unit_properties(const struct stage1_config *c, struct stage1_scope *s,
                               struct pod_error *reterr) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(s->bus, &m, "org.freedesktop.systemd1",
                                           "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "SetUnitProperties");
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", s->unit, 1);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = append_limits(c, m);
        if (r >= 0)
                r = append_devices(c, m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to build the unit properties: %m");
        r = sd_bus_call(s->bus, m, 0, &error, NULL);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Failed to set the limits and device list of unit '%s': %s",
                                     s->unit, error.message ?: strerror(-r));
        return 0;
}

/* The user's bus, as the user gave it ($DBUS_SESSION_BUS_ADDRESS), else
 * $XDG_RUNTIME_DIR/bus, else /run/user/<host uid>/bus.  Not sd_bus_open_user(): without
 * $XDG_RUNTIME_DIR it would look for /run/user/<getuid()>, and getuid() is 0 in here.
 * sd-bus authenticates with EXTERNAL without a claimed uid, so the bus takes our host uid
 * from the socket's credentials.  -ENOENT and friends: no user manager. */
static int open_user_bus(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *address = NULL;
        const char *e = getenv("DBUS_SESSION_BUS_ADDRESS"), *dir = getenv("XDG_RUNTIME_DIR");
        uid_t uid;
        int r;

        if (e && *e)
                address = strdup(e);
        else if (dir && *dir == '/') {
                /* An address escapes ',', ';', '=' and '%': a runtime dir with such characters
                 * (or others outside the safe set) is not worth escaping. */
                if (dir[strspn(dir, "abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-")] != 0)
                        return -EINVAL;
                (void)asprintf(&address, "unix:path=%s/bus", dir);
        } else {
                r = stage1_rootless_detect(&uid, NULL);
                if (r <= 0)
                        return r < 0 ? r : -ENXIO;
                (void)asprintf(&address, "unix:path=/run/user/%u/bus", (unsigned)uid);
        }
        if (!address)
                return -ENOMEM;
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                return r;
        /* A session bus without a manager behind it cannot start units. */
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

/* Rootless limits hold only where the user's slice delegates the controller: the unit's
 * cgroup (ours, now) lists in cgroup.controllers what its parent enabled for it.  systemd
 * realises a kept unit's new properties a moment after SetUnitProperties() returns: look
 * for up to a second before refusing. */
static int check_user_controllers(const struct stage1_config *c, const struct stage1_scope *s,
                                  struct pod_error *reterr) {
        bool memory = c->has_memory_max, cpu = c->has_cpu_quota || c->cpu_shares;
        _cleanup_free_ char *own = NULL, *path = NULL;
        const char *missing = NULL;
        struct statfs sfs;
        int r;

        for (size_t i = 0; c->per_app_limits && i < c->n_apps; i++) {
                memory = memory || c->apps[i].has_memory_max;
                cpu = cpu || c->apps[i].has_cpu_quota || c->apps[i].cpu_shares;
        }
        if (!memory && !cpu)
                return 0;
        /* A hybrid host's controllers are all in v1, which systemd never delegates. */
        if (statfs("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The limits of a rootless pod need the unified cgroup "
                                     "hierarchy (cgroup v2 on /sys/fs/cgroup), which the user's "
                                     "manager can delegate; this host has cgroup v1 controllers");
        r = stage1_cgroup_own(&own);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Failed to find the cgroup of unit '%s' in the unified "
                                     "hierarchy (rootless limits need cgroup v2): %m",
                                     s->unit);
        if (asprintf(&path, "/sys/fs/cgroup%s/cgroup.controllers", own) < 0)
                return -ENOMEM;
        for (int i = 0; i < 50; i++) {
                _cleanup_free_ char *text = NULL;

                r = read_full_file_at(AT_FDCWD, path, 4096, &text, NULL);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to read '%s': %m", path);
                missing = memory && !has_word(text, "memory") ? "memory"
                          : cpu && !has_word(text, "cpu")     ? "cpu"
                                                              : NULL;
                if (!missing)
                        return 0;
                (void)usleep(20 * 1000);
        }
        return pod_error_set(reterr, -EOPNOTSUPP,
                             "The pod's limits need the '%s' controller, which the user's "
                             "systemd manager does not delegate to unit '%s' (cgroup '%s'): a "
                             "rootless pod cannot enforce them (see Delegate= of user@.service)",
                             missing, s->unit, own);
}

int stage1_scope_register(const struct stage1_config *c, struct stage1_scope **ret,
                          struct pod_error *reterr) {
        _cleanup_(stage1_scope_freep) struct stage1_scope *s = NULL;
        int r;

        /* libsystemd is loaded only when there is a manager to talk to (dlopen-systemd.h). */
        if (c->rootless || sd_booted() > 0) {
                r = pod_dlopen_systemd(reterr);
                if (r < 0)
                        return r;
        }
        /* Rootless: the system's manager and its cgroups are host root's; the user's own
         * manager, if it runs, takes the pod. */
        if (c->rootless) {
                s = calloc(1, sizeof(*s));
                if (!s)
                        return -ENOMEM;
                r = open_user_bus(&s->bus);
                if (r < 0) {
                        log_debug_errno(r, "No user manager reachable: %m");
                        if (needs_limits(c))
                                return pod_error_set(reterr, -EOPNOTSUPP,
                                                     "Resource limits of a rootless pod need "
                                                     "the user's systemd manager (none is "
                                                     "reachable on the user bus): cgroupfs "
                                                     "limits need root");
                        if (c->keep_unit == 1)
                                return pod_error_set(reterr, -EOPNOTSUPP,
                                                     "--keep-unit given, but the user's systemd "
                                                     "manager is not reachable");
                        log_debug("Rootless pod without a user manager: no unit");
                        *ret = NULL;
                        return 0;
                }
        } else if (sd_booted() <= 0) {
                /* sd_booted(): systemd is PID 1 (/run/systemd/system exists).  A system bus
                 * without systemd behind it cannot start units. */
                /* Resource limits: limits.c enforces them through the cgroup fs. */
                if (c->keep_unit == 1)
                        return pod_error_set(reterr, -EOPNOTSUPP,
                                             "--keep-unit given, but systemd is not running");
                log_debug("systemd is not running: no scope, no machine registration");
                *ret = NULL;
                return 0;
        } else {
                s = calloc(1, sizeof(*s));
                if (!s)
                        return -ENOMEM;
                r = sd_bus_open_system(&s->bus);
        }
        if (r < 0) {
                if (needs_limits(c) || c->keep_unit == 1)
                        return pod_error_set(reterr, r,
                                             "Failed to connect to the system bus, needed for "
                                             "the pod's unit and resource limits: %m");
                log_debug_errno(r, "No system bus, running unregistered: %m");
                *ret = NULL;
                return 0;
        }

        if (c->keep_unit != 0) {
                r = detect_keep_unit(s, c->rootless, &s->unit);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to look up our unit: %m");
                if (r == 0 && c->keep_unit == 1) {
                        r = c->rootless ? sd_pid_get_user_unit(0, &s->unit)
                                        : sd_pid_get_unit(0, &s->unit);
                        if (r < 0)
                                return pod_error_set(reterr, r,
                                                     "--keep-unit given, but stage1 is not in a "
                                                     "unit: %m");
                }
        }
        if (s->unit) {
                log_debug("Keeping unit '%s' as the pod's unit", s->unit);
                if (c->per_app_limits)
                        r = check_delegated(s, reterr);
                else if (c->private_users)
                        /* Its cgroup is then the pod's root's (cgroup-owner.c). */
                        r = read_delegated(s, reterr);
                else
                        r = 0;
                if (r < 0)
                        return r;
                if (c->has_memory_max || c->has_cpu_quota || c->cpu_shares ||
                    (!c->disable_device_policy && !c->rootless)) {
                        r = set_unit_properties(c, s, reterr);
                        if (r < 0)
                                return r;
                }
        } else {
                r = start_scope(c, s, reterr);
                if (r < 0)
                        return r;
                s->delegated = true;
        }
        if (c->rootless) {
                r = check_user_controllers(c, s, reterr);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int uuid_to_bytes(const char *uuid, uint8_t id[static 16]) {
        size_t n = 0;

        for (const char *p = uuid; *p && n < 32; p++) {
                int v;

                if (*p == '-')
                        continue;
                if (*p >= '0' && *p <= '9')
                        v = *p - '0';
                else if (*p >= 'a' && *p <= 'f')
                        v = *p - 'a' + 10;
                else
                        return -EINVAL;
                id[n / 2] = (uint8_t)(n % 2 ? (id[n / 2] | v) : (v << 4));
                n++;
        }
        return n == 32 ? 0 : -EINVAL;
}

/* Bus activation of machined under load (many pods starting at once, a slow or emulated
 * CPU) can outlast dbus-daemon's activation limit (25 s by default) and its answer sd-bus's
 * default call timeout (also 25 s): the pod should not fail for that.  A generous call
 * timeout, and a second try when the activation itself timed out: then the call never
 * reached machined (no duplicate registration), and systemd goes on starting it. */
#define MACHINED_CALL_TIMEOUT_USEC (120 * 1000000ULL)

static int register_machine_call(struct stage1_scope *s, const struct stage1_config *c,
                                 const char *name, const uint8_t id[16], pid_t leader,
                                 sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(s->bus, &m, "org.freedesktop.machine1",
                                           "/org/freedesktop/machine1",
                                           "org.freedesktop.machine1.Manager", "RegisterMachine");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', id, 16);
        if (r >= 0)
                r = sd_bus_message_append(m, "ssus", "pod", "container", (uint32_t)leader,
                                          c->pod_dir);
        if (r < 0)
                return r;
        return sd_bus_call(s->bus, m, MACHINED_CALL_TIMEOUT_USEC, error, NULL);
}

int stage1_scope_register_machine(struct stage1_scope *s, const struct stage1_config *c,
                                  pid_t leader, struct pod_error *reterr) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *name = NULL;
        uint8_t id[16] = {};
        int r;

        if (!s)
                return 0;
        /* machined is the system's: it registers host root's machines only. */
        if (c->rootless) {
                log_debug("Rootless pod: no machined registration");
                return 0;
        }
        if (asprintf(&name, "pod-%s", c->uuid) < 0)
                return -ENOMEM;
        r = uuid_to_bytes(c->uuid, id);
        if (r < 0)
                return pod_error_set(reterr, r, "Invalid pod UUID '%s'", c->uuid);

        r = register_machine_call(s, c, name, id, leader, &error);
        if (r < 0 && sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.TimedOut")) {
                log_debug("Activating systemd-machined timed out, trying once more: %s",
                          error.message ?: "");
                sd_bus_error_free(&error);
                r = register_machine_call(s, c, name, id, leader, &error);
        }
        if (r < 0 && (sd_bus_error_has_name(&error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
                      sd_bus_error_has_name(&error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))) {
                log_debug("systemd-machined is not available, not registering the pod");
                return 0;
        }
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to register machine '%s': %s", name,
                                     error.message ?: strerror(-r));
        log_debug("Registered machine '%s'", name);
        return 0;
}

/* gc of a pod that is over: its scope should be gone already (empty, then collected).  It
 * is not when a process escaped the pod's end (then it still runs in the scope's cgroup),
 * or when systemd lost track of the scope's cgroup.  Seen with Debian 12's systemd 252 in
 * tests/vm/test-robust.sh, once in about 20 runs: a pod killed with SIGKILL while starting
 * left pod-<uuid>.scope "active (running)" with no task, for good (systemd missed the
 * cgroup's empty event; systemd issue #36781 is a relative, a scope marked dead while its
 * processes run).  Either way: SIGKILL to what is left in the cgroup, then a stop job,
 * after which systemd collects the unit.  Called by gc only (never at the pod's own end,
 * when we still run in the scope). */
int stage1_scope_release(const char *uuid, struct pod_error *reterr) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *unit = NULL;
        int r;

        if (asprintf(&unit, "pod-%s.scope", uuid) < 0)
                return -ENOMEM;
        /* A rootless pod's scope is on the user's manager (gc runs with the same
         * environment as the pod did). */
        r = stage1_rootless_detect(NULL, NULL);
        /* Without systemd as PID 1 no system unit exists, and libsystemd need not be
         * loaded. */
        if (r <= 0 && sd_booted() <= 0)
                return 0;
        {
                int k = pod_dlopen_systemd(reterr);
                if (k < 0)
                        return k;
        }
        if (r > 0 ? open_user_bus(&bus) < 0 : sd_bus_open_system(&bus) < 0) {
                log_debug("No %s bus: no unit '%s' to release", r > 0 ? "user" : "system", unit);
                return 0;
        }
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "GetUnit", &error, &reply, "s",
                               unit);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit") ||
                    sd_bus_error_has_name(&error, SD_BUS_ERROR_SERVICE_UNKNOWN))
                        return 0;
                return pod_error_set(reterr, r, "Failed to look up unit '%s': %s", unit,
                                     error.message ?: strerror(-r));
        }
        log_debug("Unit '%s' outlived its pod: killing what is left in it and stopping it", unit);
        sd_bus_error_free(&error);
        (void)sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                 "org.freedesktop.systemd1.Manager", "KillUnit", &error, NULL,
                                 "ssi", unit, "all", SIGKILL);
        sd_bus_error_free(&error);
        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StopUnit", &error, NULL, "ss",
                               unit, "replace");
        if (r < 0 && !sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"))
                return pod_error_set(reterr, r, "Failed to stop unit '%s': %s", unit,
                                     error.message ?: strerror(-r));
        return 0;
}
