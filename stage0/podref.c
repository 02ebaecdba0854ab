/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "podref.h"
#include "uuid.h"
#include "verbs.h"

int podref_open_pods(int *ret_fd) {
        int r;

        r = pod_pods_open(arg_dir, false, ret_fd);
        if (r == -ENOENT) {
                *ret_fd = -EBADF;
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to open the pods directory '%s/pods': %m",
                                       arg_dir);
        return 0;
}

int podref_open_pod(int pods_fd, const char *arg, const char *uuid_file, struct pod_poddir **ret) {
        char uuid[POD_UUID_STRING_MAX];
        struct pod_error e = {};
        int r;

        if (!arg) {
                r = pod_uuid_file_load(uuid_file, uuid);
                if (r < 0)
                        return log_error_errno(r, "Failed to read a pod UUID from '%s': %m",
                                               uuid_file);
                arg = uuid;
        }
        if (pods_fd < 0)
                return log_error_errno(-ENOENT, "No pod matches '%s': there are no pods in '%s'",
                                       arg, arg_dir);

        r = pod_poddir_lookup(pods_fd, arg, uuid, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        r = pod_poddir_open(pods_fd, uuid, ret);
        if (r == -ENOENT)
                return log_error_errno(r, "Pod '%s' disappeared (removed by another process)",
                                       uuid);
        if (r < 0)
                return log_error_errno(r, "Failed to open pod '%s': %m", uuid);
        return 0;
}

void podref_format_time(const struct timespec *t, char *buf, size_t size) {
        struct tm tm;
        char a[64], z[32];

        if (!t || t->tv_sec == 0 || !localtime_r(&t->tv_sec, &tm)) {
                buf[0] = 0;
                return;
        }
        (void)strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &tm);
        (void)strftime(z, sizeof(z), "%z %Z", &tm);
        (void)snprintf(buf, size, "%s.%03ld %s", a, t->tv_nsec / 1000000, z);
}

void podref_format_relative(const struct timespec *t, char *buf, size_t size) {
        static const struct {
                long long sec;
                const char *unit;
        } units[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" } };
        struct timespec now;
        long long d;

        if (!t || t->tv_sec == 0) {
                buf[0] = 0;
                return;
        }
        (void)clock_gettime(CLOCK_REALTIME, &now);
        d = (long long)now.tv_sec - (long long)t->tv_sec;
        if (d < 1) {
                (void)snprintf(buf, size, "just now");
                return;
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (d >= units[i].sec) {
                        long long n = d / units[i].sec;
                        (void)snprintf(buf, size, "%lld %s%s ago", n, units[i].unit,
                                       n == 1 ? "" : "s");
                        return;
                }
}

int podref_check_positional(const char *verb, int n, int min, int max) {
        if (n < min)
                return pod_usage_error(verb, "'%s' needs %s", verb,
                                       min == 1 ? "an argument" : "more arguments");
        if (max >= 0 && n > max)
                return pod_usage_error(verb, "'%s' takes %s", verb,
                                       max == 0 ? "no arguments" : "fewer arguments");
        return 0;
}

int podref_each(int argc, char *argv[], int first, const char *uuid_file, podref_each_fn fn) {
        _cleanup_close_ int pods_fd = -EBADF;
        int r, ret = 0;

        r = podref_open_pods(&pods_fd);
        if (r < 0)
                return r;
        if (uuid_file) {
                r = fn(pods_fd, NULL, uuid_file);
                if (r < 0)
                        ret = r;
        }
        for (int k = first; k < argc; k++) {
                r = fn(pods_fd, argv[k], NULL);
                if (r < 0)
                        ret = r;
        }
        return ret;
}
