/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "duration.h"
#include "macro.h"

static const struct {
        const char *suffix;
        uint64_t nsec;
} units[] = {
        /* longer suffixes first so "ms" is not read as "m" followed by garbage */
        { "nsec", 1 },
        { "ns", 1 },
        { "usec", 1000 },
        { "us", 1000 },
        { "\xc2\xb5s", 1000 }, /* µs */
        { "msec", 1000000 },
        { "ms", 1000000 },
        { "sec", UINT64_C(1000000000) },
        { "s", UINT64_C(1000000000) },
        { "min", UINT64_C(60000000000) },
        { "m", UINT64_C(60000000000) },
        { "hr", UINT64_C(3600000000000) },
        { "h", UINT64_C(3600000000000) },
        { "d", UINT64_C(86400000000000) },
};

static const char *skip_space(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

int pod_duration_parse(const char *s, uint64_t *ret_usec) {
        const char *p = skip_space(s);
        uint64_t total_ns = 0;
        bool any = false;

        if (*p == 0)
                return -EINVAL;

        while (*p) {
                uint64_t whole = 0, frac = 0, frac_div = 1, unit = 0, add, fr;
                bool digits = false;
                size_t ulen = 0;

                while (*p >= '0' && *p <= '9') {
                        if (whole > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        whole = whole * 10 + (uint64_t)(*p - '0');
                        digits = true;
                        p++;
                }
                if (*p == '.') {
                        p++;
                        while (*p >= '0' && *p <= '9') {
                                /* nanosecond resolution is all we keep */
                                if (frac_div < UINT64_C(1000000000000000000)) {
                                        frac = frac * 10 + (uint64_t)(*p - '0');
                                        frac_div *= 10;
                                }
                                digits = true;
                                p++;
                        }
                }
                if (!digits)
                        return -EINVAL;

                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].suffix);
                        if (strneq(p, units[i].suffix, l)) {
                                unit = units[i].nsec;
                                ulen = l;
                                break;
                        }
                }
                if (unit == 0) {
                        /* A bare number is seconds, but only as the whole string. */
                        if (any || *skip_space(p) != 0)
                                return -EINVAL;
                        unit = UINT64_C(1000000000);
                }
                p += ulen;

                if (whole > UINT64_MAX / unit)
                        return -ERANGE;
                add = whole * unit;
                /* frac / frac_div of a unit: less than one unit, since frac < frac_div */
                fr = (uint64_t)((long double)frac * (long double)unit / (long double)frac_div);
                if (add > UINT64_MAX - fr)
                        return -ERANGE;
                add += fr;
                if (total_ns > UINT64_MAX - add)
                        return -ERANGE;
                total_ns += add;
                any = true;
                p = skip_space(p);
        }

        *ret_usec = total_ns / 1000;
        return 0;
}
