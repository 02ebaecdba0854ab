/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-curl.h"
#include "macro.h"

POD_CURL_SYMBOLS(POD_DLSYM_DEFINE)

int pod_dlopen_curl(struct pod_error *reterr) {
        static void *dl;
        static const struct pod_dlsym syms[] = { POD_CURL_SYMBOLS(POD_DLSYM_ENTRY) };

        return pod_dlopen_many(&dl, POD_LIBCURL_SONAME, POD_LIBCURL_PACKAGE, "Downloading images",
                               syms, ELEMENTSOF(syms), reterr);
}
