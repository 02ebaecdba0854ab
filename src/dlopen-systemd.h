/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libsystemd, loaded when something talks to systemd (dlopen-util.h): stage0 asks one thing
 * (is it PID 1 with a bus, for `pod version`); stage1 registers the pod's scope and machine,
 * opens journal streams and releases a left-over scope at gc (stage1/scope.c).  Linked,
 * libsystemd and the six libraries it pulls in (libgcrypt, liblzma, libzstd, liblz4,
 * libgpg-error, libcap) were mapped and relocated at every start of pod-stage1, three times
 * a pod (its start, its sealed re-execution, its gc), also on hosts without systemd where
 * nothing calls it.  Include this instead of the sd-*.h headers.
 *
 * sd_booted() is answered without the library (pod_systemd_booted()), so that the check
 * "is systemd there at all" loads nothing.  The cleanup helpers used with _cleanup_() are
 * functions here, safe to run when the library was never loaded (nothing to free then). */

#include <stddef.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-login.h>

#include "dlopen-util.h"

#define POD_SYSTEMD_SYMBOLS(X)            \
        X(sd_bus_call)                    \
        X(sd_bus_call_method)             \
        X(sd_bus_error_free)              \
        X(sd_bus_error_has_name)          \
        X(sd_bus_flush_close_unref)       \
        X(sd_bus_get_property_trivial)    \
        X(sd_bus_match_signal)            \
        X(sd_bus_message_append)          \
        X(sd_bus_message_append_array)    \
        X(sd_bus_message_close_container) \
        X(sd_bus_message_new_method_call) \
        X(sd_bus_message_open_container)  \
        X(sd_bus_message_read)            \
        X(sd_bus_message_unref)           \
        X(sd_bus_new)                     \
        X(sd_bus_open_system)             \
        X(sd_bus_open_user)               \
        X(sd_bus_path_encode)             \
        X(sd_bus_process)                 \
        X(sd_bus_set_address)             \
        X(sd_bus_set_bus_client)          \
        X(sd_bus_slot_unref)              \
        X(sd_bus_start)                   \
        X(sd_bus_wait)                    \
        X(sd_journal_stream_fd)           \
        X(sd_pid_get_unit)                \
        X(sd_pid_get_user_unit)

POD_SYSTEMD_SYMBOLS(POD_DLSYM_DECLARE)

/* Loads systemd (once); -EOPNOTSUPP with reterr naming the package if it is missing. */
int pod_dlopen_systemd(struct pod_error *reterr);

/* sd_booted(3)'s question without libsystemd: > 0 when systemd is PID 1, i.e. when
 * /run/systemd/system/ is a directory; 0 otherwise. */
int pod_systemd_booted(void);

/* NULL-safe and load-safe: a pointer or error that was set holds the library loaded. */
static inline void pod_sd_bus_error_free(sd_bus_error *e) {
        if (sym_sd_bus_error_free)
                sym_sd_bus_error_free(e);
}
static inline sd_bus *pod_sd_bus_flush_close_unref(sd_bus *bus) {
        return bus ? sym_sd_bus_flush_close_unref(bus) : NULL;
}
static inline void pod_sd_bus_flush_close_unrefp(sd_bus **bus) {
        (void)pod_sd_bus_flush_close_unref(*bus);
}
static inline void pod_sd_bus_message_unrefp(sd_bus_message **m) {
        if (*m)
                (void)sym_sd_bus_message_unref(*m);
}
static inline void pod_sd_bus_slot_unrefp(sd_bus_slot **s) {
        if (*s)
                (void)sym_sd_bus_slot_unref(*s);
}

#define sd_booted                      pod_systemd_booted
#define sd_bus_call                    sym_sd_bus_call
#define sd_bus_call_method             sym_sd_bus_call_method
#define sd_bus_error_free              pod_sd_bus_error_free
#define sd_bus_error_has_name          sym_sd_bus_error_has_name
#define sd_bus_flush_close_unref       pod_sd_bus_flush_close_unref
#define sd_bus_flush_close_unrefp      pod_sd_bus_flush_close_unrefp
#define sd_bus_get_property_trivial    sym_sd_bus_get_property_trivial
#define sd_bus_match_signal            sym_sd_bus_match_signal
#define sd_bus_message_append          sym_sd_bus_message_append
#define sd_bus_message_append_array    sym_sd_bus_message_append_array
#define sd_bus_message_close_container sym_sd_bus_message_close_container
#define sd_bus_message_new_method_call sym_sd_bus_message_new_method_call
#define sd_bus_message_open_container  sym_sd_bus_message_open_container
#define sd_bus_message_read            sym_sd_bus_message_read
#define sd_bus_message_unrefp          pod_sd_bus_message_unrefp
#define sd_bus_open_system             sym_sd_bus_open_system
#define sd_bus_path_encode             sym_sd_bus_path_encode
#define sd_bus_process                 sym_sd_bus_process
#define sd_bus_slot_unrefp             pod_sd_bus_slot_unrefp
#define sd_bus_wait                    sym_sd_bus_wait
#define sd_journal_stream_fd           sym_sd_journal_stream_fd
#define sd_pid_get_unit                sym_sd_pid_get_unit
#define sd_bus_new                     sym_sd_bus_new
#define sd_bus_open_user               sym_sd_bus_open_user
#define sd_bus_set_address             sym_sd_bus_set_address
#define sd_bus_set_bus_client          sym_sd_bus_set_bus_client
#define sd_bus_start                   sym_sd_bus_start
#define sd_pid_get_user_unit           sym_sd_pid_get_user_unit
