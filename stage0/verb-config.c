/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>

#include "podref.h"
#include "verbs.h"

/* The effective paths, after --dir, --system-config and --local-config. */
int verb_config(int argc, char *argv[]) {
        int r;

        r = podref_check_positional("config", argc - 1, 0, 0);
        if (r < 0)
                return r;
        printf("data-dir=%s\n", arg_dir);
        printf("pods-dir=%s/pods\n", arg_dir);
        printf("system-config=%s\n", arg_sysconfdir);
        printf("vendor-config=%s\n", arg_vendordir);
        printf("stage1=%s\n", POD_STAGE1_PATH);
        return 0;
}
