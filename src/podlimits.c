/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-file.h"
#include "duration.h"
#include "fd-util.h"
#include "macro.h"
#include "path-util.h"
#include "podlimits.h"

const struct pod_limits pod_limits_default = {
        .image_max_unpacked = UINT64_C(16) << 30,
        .image_max_ratio = 100,
        .image_min_free = UINT64_C(128) << 20,
        .download_max_size = UINT64_C(8) << 30,
        .transfer_timeout = UINT64_C(3600) * POD_USEC_PER_SEC,
        .low_speed_limit = 1024,
        .low_speed_time = UINT64_C(60) * POD_USEC_PER_SEC,
};

const char *pod_limits_format_bytes(uint64_t n, char buf[static 32]) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double v = (double)n;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                (void)snprintf(buf, 32, "%" PRIu64 " B", n);
        else
                (void)snprintf(buf, 32, "%.1f %s", v, units[u]);
        return buf;
}

/* "123", "64K", "300M", "16G", "1T" (binary multiples; "KiB", "MB" spellings too). */
static int parse_bytes(const char *s, uint64_t *ret) {
        static const char suffixes[] = "KMGTPE";
        unsigned long long v;
        unsigned shift = 0;
        const char *p;
        char *end;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -ERANGE;
        while (*end == ' ')
                end++;
        if (*end) {
                p = strchr(suffixes, toupper((unsigned char)*end));
                if (!p)
                        return -EINVAL;
                shift = 10 * (unsigned)(p - suffixes + 1);
                end++;
                if (*end == 'i')
                        end++;
                if (*end == 'B' || *end == 'b')
                        end++;
                if (*end)
                        return -EINVAL;
        }
        if (shift && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t)v << shift;
        return 0;
}

static int parse_count(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return errno ? -ERANGE : -EINVAL;
        *ret = v;
        return 0;
}

enum kind { BYTES, COUNT, DURATION };

static const struct key {
        const char *name;
        enum kind kind;
        size_t offset;
} keys[] = {
        { "image-max-unpacked-size", BYTES, offsetof(struct pod_limits, image_max_unpacked) },
        { "image-max-expansion-ratio", COUNT, offsetof(struct pod_limits, image_max_ratio) },
        { "image-min-free-space", BYTES, offsetof(struct pod_limits, image_min_free) },
        { "download-max-size", BYTES, offsetof(struct pod_limits, download_max_size) },
        { "transfer-timeout", DURATION, offsetof(struct pod_limits, transfer_timeout) },
        { "transfer-low-speed-limit", BYTES, offsetof(struct pod_limits, low_speed_limit) },
        { "transfer-low-speed-time", DURATION, offsetof(struct pod_limits, low_speed_time) },
};

static int conf_kv(const char *path, unsigned n, const char *k, const char *v, void *userdata,
                   struct pod_error *reterr) {
        struct pod_limits *l = userdata;
        int r = -EINVAL;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                uint64_t *dst = (uint64_t *)((char *)l + keys[i].offset);

                if (!streq(k, keys[i].name))
                        continue;
                switch (keys[i].kind) {
                case BYTES:
                        r = parse_bytes(v, dst);
                        break;
                case COUNT:
                        r = parse_count(v, dst);
                        break;
                case DURATION:
                        r = pod_duration_parse(v, dst);
                        break;
                }
                if (r < 0)
                        return pod_error_set(reterr, r, "%s:%u: invalid value '%s' for %s", path, n,
                                             v, k);
                return 0;
        }
        return pod_error_set(reterr, -EINVAL, "%s:%u: unknown key '%s'", path, n, k);
}

int pod_limits_load(const char *vendordir, const char *sysconfdir, struct pod_limits *ret,
                    struct pod_error *reterr) {
        struct pod_limits l = pod_limits_default;
        int r;

        r = pod_conf_file_parse(vendordir, POD_LIMITS_FILE, conf_kv, &l, reterr);
        if (r < 0)
                return r;
        r = pod_conf_file_parse(sysconfdir, POD_LIMITS_FILE, conf_kv, &l, reterr);
        if (r < 0)
                return r;
        *ret = l;
        return 0;
}
