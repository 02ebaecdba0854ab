/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Loading a library at run time, where it is needed, instead of at process start-up (the
 * way systemd loads its optional libraries).  libcurl, gpgme and libarchive pull in about 40
 * more shared objects that verbs such as `pod list` never use; mapping and relocating them
 * at every start cost more than listing 1,000 pods.  The modules that use them (http.c,
 * verify.c, unpack.c, aci.c) include src/dlopen-<lib>.h, which turns each library call into
 * a call through a pointer resolved here, and call pod_dlopen_<lib>() before the first one.
 *
 * Owns: dlopen + dlsym of one library's symbol table, and the error when it is missing.
 * Does not own: the symbol lists (dlopen-<lib>.h), the sonames (found by configure). */

#include <stddef.h>

struct pod_error;

struct pod_dlsym {
        const char *name;
        void **fn; /* where the resolved address goes: &sym_<name> */
};

/* Loads soname once (*handle caches it) and resolves every symbol of syms.  On failure the
 * pointers stay NULL and reterr says what is missing and which package provides it, e.g.
 * "Fetching images needs libcurl.so.4, which cannot be loaded (...): install libcurl4";
 * returns -EOPNOTSUPP.  Not thread-safe: call it before starting threads. */
int pod_dlopen_many(void **handle, const char *soname, const char *package, const char *purpose,
                    const struct pod_dlsym *syms, size_t n, struct pod_error *reterr);

/* Declares the pointer sym_<s> with the type of the library function s. */
#define POD_DLSYM_DECLARE(s) extern typeof(s) *sym_##s;
/* Defines it (in dlopen-<lib>.c, where the function name is not redirected). */
#define POD_DLSYM_DEFINE(s) typeof(sym_##s) sym_##s;
/* A row of the pod_dlsym table. */
#define POD_DLSYM_ENTRY(s) { #s, (void **)&sym_##s },

/* The whole of a dlopen-<lib>.c: the symbol pointers of POD_<LIB>_SYMBOLS and
 * pod_dlopen_<lib>(), loading POD_LIB<LIB>_SONAME (configure) for purpose. */
/* clang-format off */
#define POD_DLOPEN_DEFINE(lib, LIB, purpose)                                                    \
        POD_##LIB##_SYMBOLS(POD_DLSYM_DEFINE)                                                   \
                                                                                                \
        int pod_dlopen_##lib(struct pod_error *reterr) {                                        \
                static void *dl;                                                                \
                static const struct pod_dlsym syms[] = { POD_##LIB##_SYMBOLS(POD_DLSYM_ENTRY) }; \
                                                                                                \
                return pod_dlopen_many(&dl, POD_LIB##LIB##_SONAME, POD_LIB##LIB##_PACKAGE,      \
                                       purpose, syms, sizeof(syms) / sizeof(syms[0]), reterr);  \
        }
/* clang-format on */
