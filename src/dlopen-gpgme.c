/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-gpgme.h"
#include "macro.h"

POD_GPGME_SYMBOLS(POD_DLSYM_DEFINE)

int pod_dlopen_gpgme(struct pod_error *reterr) {
        static void *dl;
        static const struct pod_dlsym syms[] = { POD_GPGME_SYMBOLS(POD_DLSYM_ENTRY) };

        return pod_dlopen_many(&dl, POD_LIBGPGME_SONAME, POD_LIBGPGME_PACKAGE,
                               "Checking signatures", syms, ELEMENTSOF(syms), reterr);
}
