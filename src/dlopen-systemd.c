/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/stat.h>

#include "dlopen-systemd.h"

POD_DLOPEN_DEFINE(systemd, SYSTEMD, "Talking to systemd")

int pod_systemd_booted(void) {
        struct stat st;

        /* systemd creates this directory early at boot when it is PID 1 (sd_booted(3)). */
        return lstat("/run/systemd/system/", &st) >= 0 && S_ISDIR(st.st_mode) ? 1 : 0;
}
