/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libcurl, loaded when the first download starts (dlopen-util.h).  Include this instead of
 * <curl/curl.h>: the calls below then go through pointers that pod_dlopen_curl() sets.  A
 * module calling a libcurl function missing from this list fails to link `pod` (libcurl is
 * not linked): add the function here.
 *
 * curl's gcc type checks of curl_easy_setopt()/curl_easy_getinfo() arguments (macros in
 * <curl/typecheck-gcc.h>) cannot wrap a call through a pointer, so they are off here. */

#include <curl/curl.h>

#include "dlopen-util.h"

#define POD_CURL_SYMBOLS(X)    \
        X(curl_easy_cleanup)   \
        X(curl_easy_getinfo)   \
        X(curl_easy_init)      \
        X(curl_easy_perform)   \
        X(curl_easy_setopt)    \
        X(curl_easy_strerror)  \
        X(curl_global_init)    \
        X(curl_slist_append)   \
        X(curl_slist_free_all) \
        X(curl_version)

POD_CURL_SYMBOLS(POD_DLSYM_DECLARE)

/* Loads libcurl (once); -EOPNOTSUPP with reterr naming the package if it is missing. */
int pod_dlopen_curl(struct pod_error *reterr);

#undef curl_easy_getinfo
#undef curl_easy_setopt
#define curl_easy_cleanup   sym_curl_easy_cleanup
#define curl_easy_getinfo   sym_curl_easy_getinfo
#define curl_easy_init      sym_curl_easy_init
#define curl_easy_perform   sym_curl_easy_perform
#define curl_easy_setopt    sym_curl_easy_setopt
#define curl_easy_strerror  sym_curl_easy_strerror
#define curl_global_init    sym_curl_global_init
#define curl_slist_append   sym_curl_slist_append
#define curl_slist_free_all sym_curl_slist_free_all
#define curl_version        sym_curl_version
