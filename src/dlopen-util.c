/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>

#include "dlopen-util.h"
#include "error.h"

int pod_dlopen_many(void **handle, const char *soname, const char *package, const char *purpose,
                    const struct pod_dlsym *syms, size_t n, struct pod_error *reterr) {
        void *dl;

        if (*handle)
                return 0;

        /* RTLD_NOW: a symbol missing from an unexpected library version shows here, with its
         * name, rather than as a crash in the middle of a download.  RTLD_LOCAL: its symbols
         * stay out of the global scope, as they were not linked in. */
        dl = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!dl) {
                const char *why = dlerror();

                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "%s needs %s, which cannot be loaded (%s): install %s",
                                     purpose, soname, why ? why : "unknown error", package);
        }
        for (size_t i = 0; i < n; i++) {
                (void)dlerror();
                *syms[i].fn = dlsym(dl, syms[i].name);
                if (!*syms[i].fn) {
                        for (size_t j = 0; j < n; j++)
                                *syms[j].fn = NULL;
                        (void)dlclose(dl);
                        return pod_error_set(reterr, -EOPNOTSUPP,
                                             "%s needs %s with the function %s(), which this "
                                             "copy lacks: install a newer %s",
                                             purpose, soname, syms[i].name, package);
                }
        }
        *handle = dl;
        return 0;
}
