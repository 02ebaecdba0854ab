/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sys/prctl.h>

#include "cap-util.h"
#include "syscall.h"

int pod_cap_last(void) {
        static int cached = -1;

        if (cached < 0) {
                int c = CAP_LAST_CAP;
                /* The running kernel may know more than our headers: probe upwards. */
                while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
                        c++;
                cached = c;
        }
        return cached;
}

int pod_cap_set(uint64_t eff, uint64_t perm, uint64_t inh) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {
                { .effective = (uint32_t)eff,
                  .permitted = (uint32_t)perm,
                  .inheritable = (uint32_t)inh },
                { .effective = (uint32_t)(eff >> 32),
                  .permitted = (uint32_t)(perm >> 32),
                  .inheritable = (uint32_t)(inh >> 32) },
        };

        if (sys_capset(&h, d) < 0)
                return -errno;
        return 0;
}

int pod_cap_get_permitted(uint64_t *ret) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};

        if (sys_capget(&h, d) < 0)
                return -errno;
        *ret = (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
        return 0;
}
