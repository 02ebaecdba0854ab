/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* pod's small "key = value" configuration files (limits.conf, docker.conf, userns.conf,
 * rootfs.conf; pod-config(1)): one key a line, '#' starts a comment, blanks around keys and
 * values and empty lines are ignored.  Owns: reading and splitting such a file.  Does not own:
 * which keys exist and what their values mean (the callers). */

#include "error.h"

#define POD_CONF_FILE_MAX (64u << 10)

/* Calls kv(path, line, key, value, userdata, reterr) for each key of dir/name, in order; a
 * missing file (or a NULL dir) is no key.  An unreadable file, a NUL byte or a line without
 * '=' is an error naming the file (and line); kv's negative return ends the parse with it
 * (kv names the file and line itself: "PATH:LINE: ..."). */
int pod_conf_file_parse(const char *dir, const char *name,
                        int (*kv)(const char *path, unsigned line, const char *key,
                                  const char *value, void *userdata, struct pod_error *reterr),
                        void *userdata, struct pod_error *reterr);
