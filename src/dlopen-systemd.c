/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-systemd.h"
#include "macro.h"

POD_SYSTEMD_SYMBOLS(POD_DLSYM_DEFINE)

int pod_dlopen_systemd(struct pod_error *reterr) {
        static void *dl;
        static const struct pod_dlsym syms[] = { POD_SYSTEMD_SYMBOLS(POD_DLSYM_ENTRY) };

        return pod_dlopen_many(&dl, POD_LIBSYSTEMD_SONAME, POD_LIBSYSTEMD_PACKAGE,
                               "Talking to systemd", syms, ELEMENTSOF(syms), reterr);
}
