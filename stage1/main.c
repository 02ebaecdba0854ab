/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "log.h"

/* pod-stage1: placeholder entry until the run issue lands the real stage1.  It answers
 * --version so installs and "pod version" can check it is present. */
int main(int argc, char *argv[]) {
        log_parse_environment();
        log_set_prefix("pod-stage1");
        if (argc == 2 && strcmp(argv[1], "--version") == 0) {
                printf("pod-stage1 %s\n", PACKAGE_VERSION);
                return 0;
        }
        log_error("No pod to run: pod-stage1 is started by 'pod run'.");
        return 254;
}
