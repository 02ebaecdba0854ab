/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-seccomp.h"
#include "macro.h"

POD_SECCOMP_SYMBOLS(POD_DLSYM_DEFINE)

int pod_dlopen_seccomp(struct pod_error *reterr) {
        static void *dl;
        static const struct pod_dlsym syms[] = { POD_SECCOMP_SYMBOLS(POD_DLSYM_ENTRY) };

        return pod_dlopen_many(&dl, POD_LIBSECCOMP_SONAME, POD_LIBSECCOMP_PACKAGE,
                               "Seccomp filters", syms, ELEMENTSOF(syms), reterr);
}
