/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "insecure.h"
#include "macro.h"

static const struct {
        const char *name;
        unsigned bits;
} table[] = {
        { "none", 0 },
        { "image", POD_INSECURE_IMAGE },
        { "tls", POD_INSECURE_TLS },
        { "http", POD_INSECURE_HTTP },
        { "pubkey", POD_INSECURE_PUBKEY },
        { "capabilities", POD_INSECURE_CAPABILITIES },
        { "paths", POD_INSECURE_PATHS },
        { "seccomp", POD_INSECURE_SECCOMP },
        { "devices", POD_INSECURE_DEVICES },
        { "all-fetch", POD_INSECURE_ALL_FETCH },
        { "all-run", POD_INSECURE_ALL_RUN },
        { "all", POD_INSECURE_ALL_FETCH | POD_INSECURE_ALL_RUN },
};

int pod_insecure_parse(const char *s, unsigned *ret, const char **ret_bad) {
        static char bad[64];
        unsigned bits = 0;
        const char *c = s;

        for (;;) {
                const char *e = strchrnul(c, ',');
                size_t n = (size_t)(e - c);
                bool found = false;

                for (size_t i = 0; i < ELEMENTSOF(table); i++)
                        if (strlen(table[i].name) == n && strneq(c, table[i].name, n)) {
                                bits |= table[i].bits;
                                found = true;
                                break;
                        }
                if (!found) {
                        if (ret_bad) {
                                size_t m = n < sizeof(bad) - 1 ? n : sizeof(bad) - 1;
                                memcpy(bad, c, m);
                                bad[m] = 0;
                                *ret_bad = bad;
                        }
                        return -EINVAL;
                }
                if (!*e)
                        break;
                c = e + 1;
        }
        *ret = bits;
        return 0;
}
