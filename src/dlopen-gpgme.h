/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* gpgme, loaded when the first signature or key is looked at (dlopen-util.h).  Include this
 * instead of <gpgme.h>: the calls below then go through pointers that pod_dlopen_gpgme()
 * sets.  A module calling a gpgme function missing from this list fails to link `pod`
 * (gpgme is not linked): add the function here.  gpgme_check_version() is a macro around
 * gpgme_check_version_internal(). */

#include <gpgme.h>

#include "dlopen-util.h"

#define POD_GPGME_SYMBOLS(X)              \
        X(gpgme_check_version_internal)   \
        X(gpgme_ctx_set_engine_info)      \
        X(gpgme_data_new)                 \
        X(gpgme_data_new_from_fd)         \
        X(gpgme_data_new_from_mem)        \
        X(gpgme_data_release)             \
        X(gpgme_data_release_and_get_mem) \
        X(gpgme_err_code_to_errno)        \
        X(gpgme_free)                     \
        X(gpgme_get_key)                  \
        X(gpgme_key_unref)                \
        X(gpgme_new)                      \
        X(gpgme_op_export)                \
        X(gpgme_op_import)                \
        X(gpgme_op_import_result)         \
        X(gpgme_op_keylist_end)           \
        X(gpgme_op_keylist_next)          \
        X(gpgme_op_keylist_start)         \
        X(gpgme_op_verify)                \
        X(gpgme_op_verify_result)         \
        X(gpgme_pubkey_algo_string)       \
        X(gpgme_release)                  \
        X(gpgme_set_armor)                \
        X(gpgme_set_keylist_mode)         \
        X(gpgme_set_offline)              \
        X(gpgme_set_protocol)             \
        X(gpgme_strerror)

POD_GPGME_SYMBOLS(POD_DLSYM_DECLARE)

/* Loads gpgme (once); -EOPNOTSUPP with reterr naming the package if it is missing. */
int pod_dlopen_gpgme(struct pod_error *reterr);

#define gpgme_check_version_internal   sym_gpgme_check_version_internal
#define gpgme_ctx_set_engine_info      sym_gpgme_ctx_set_engine_info
#define gpgme_data_new                 sym_gpgme_data_new
#define gpgme_data_new_from_fd         sym_gpgme_data_new_from_fd
#define gpgme_data_new_from_mem        sym_gpgme_data_new_from_mem
#define gpgme_data_release             sym_gpgme_data_release
#define gpgme_data_release_and_get_mem sym_gpgme_data_release_and_get_mem
#define gpgme_err_code_to_errno        sym_gpgme_err_code_to_errno
#define gpgme_free                     sym_gpgme_free
#define gpgme_get_key                  sym_gpgme_get_key
#define gpgme_key_unref                sym_gpgme_key_unref
#define gpgme_new                      sym_gpgme_new
#define gpgme_op_export                sym_gpgme_op_export
#define gpgme_op_import                sym_gpgme_op_import
#define gpgme_op_import_result         sym_gpgme_op_import_result
#define gpgme_op_keylist_end           sym_gpgme_op_keylist_end
#define gpgme_op_keylist_next          sym_gpgme_op_keylist_next
#define gpgme_op_keylist_start         sym_gpgme_op_keylist_start
#define gpgme_op_verify                sym_gpgme_op_verify
#define gpgme_op_verify_result         sym_gpgme_op_verify_result
#define gpgme_pubkey_algo_string       sym_gpgme_pubkey_algo_string
#define gpgme_release                  sym_gpgme_release
#define gpgme_set_armor                sym_gpgme_set_armor
#define gpgme_set_keylist_mode         sym_gpgme_set_keylist_mode
#define gpgme_set_offline              sym_gpgme_set_offline
#define gpgme_set_protocol             sym_gpgme_set_protocol
#define gpgme_strerror                 sym_gpgme_strerror
