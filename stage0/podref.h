/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the pod lifecycle verbs (list, status, rm, stop, gc, cat-manifest): opening
 * the pods tree under --dir, turning a UUID argument (unique prefix or --uuid-file) into
 * an open pod, and timestamps as the verbs print them.  Logs its own errors. */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "poddir.h"

/* Opens <--dir>/pods without creating it.  Returns 0 with *ret_fd = -EBADF when the tree
 * does not exist yet (no pods), < 0 (logged) on other failures. */
int podref_open_pods(int *ret_fd);

/* Resolves arg (UUID or unique prefix), or the UUID in uuid_file when arg is NULL, and
 * opens that pod.  Logs and returns < 0 on failure. */
int podref_open_pod(int pods_fd, const char *arg, const char *uuid_file, struct pod_poddir **ret);

/* "2026-11-29 02:15:00.123 +0000 UTC" (local time zone); "" when t is unknown. */
void podref_format_time(const struct timespec *t, char *buf, size_t size);
/* "3 minutes ago"; "" when t is unknown. */
void podref_format_relative(const struct timespec *t, char *buf, size_t size);

/* For the verbs that act on several pods (rm, stop): opens the pods dir, then calls fn for
 * uuid_file (if not NULL; arg NULL) and for every argument in argv[first..argc-1] (uuid_file
 * NULL).  Every one gets its try; a failure of any fails the whole (the last error). */
typedef int (*podref_each_fn)(int pods_fd, const char *arg, const char *uuid_file);
int podref_each(int argc, char *argv[], int first, const char *uuid_file, podref_each_fn fn);

/* Checks the number of positional arguments left after getopt. */
int podref_check_positional(const char *verb, int n, int min, int max);
