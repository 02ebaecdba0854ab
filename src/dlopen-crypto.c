/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-crypto.h"
#include "macro.h"

POD_CRYPTO_SYMBOLS(POD_DLSYM_DEFINE)

int pod_dlopen_crypto(struct pod_error *reterr) {
        static void *dl;
        static const struct pod_dlsym syms[] = { POD_CRYPTO_SYMBOLS(POD_DLSYM_ENTRY) };

        return pod_dlopen_many(&dl, POD_LIBCRYPTO_SONAME, POD_LIBCRYPTO_PACKAGE,
                               "Computing image IDs (SHA-512)", syms, ELEMENTSOF(syms), reterr);
}
