/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-archive.h"
#include "macro.h"

POD_ARCHIVE_SYMBOLS(POD_DLSYM_DEFINE)

int pod_dlopen_archive(struct pod_error *reterr) {
        static void *dl;
        static const struct pod_dlsym syms[] = { POD_ARCHIVE_SYMBOLS(POD_DLSYM_ENTRY) };

        return pod_dlopen_many(&dl, POD_LIBARCHIVE_SONAME, POD_LIBARCHIVE_PACKAGE,
                               "Reading and writing images", syms, ELEMENTSOF(syms), reterr);
}
