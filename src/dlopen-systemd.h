/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libsystemd for stage0, which asks systemd one thing (is it PID 1 with a bus, for `pod
 * version`): loaded then (dlopen-util.h), so that no other verb maps libsystemd and its
 * compression and crypto libraries at start-up.  stage1 links libsystemd: it always talks
 * to systemd.  Include this instead of the sd-*.h headers in stage0-only modules. */

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "dlopen-util.h"

#define POD_SYSTEMD_SYMBOLS(X)      \
        X(sd_booted)                \
        X(sd_bus_flush_close_unref) \
        X(sd_bus_open_system)

POD_SYSTEMD_SYMBOLS(POD_DLSYM_DECLARE)

/* Loads systemd (once); -EOPNOTSUPP with reterr naming the package if it is missing. */
int pod_dlopen_systemd(struct pod_error *reterr);

#define sd_booted                sym_sd_booted
#define sd_bus_flush_close_unref sym_sd_bus_flush_close_unref
#define sd_bus_open_system       sym_sd_bus_open_system
