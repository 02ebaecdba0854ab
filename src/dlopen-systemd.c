/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-systemd.h"

POD_DLOPEN_DEFINE(systemd, SYSTEMD, "Talking to systemd")
