/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What `pod config` prints: rkt's `rkt config` JSON view of the effective configuration,
 * {"stage0":[entry...]}, every entry a valid rkt configuration entry ("rktVersion":"v1"):
 * one "auth" entry per domain (type basic or oauth, as auth.h reads them), one "paths"
 * entry ("data", "stage1-images") and one "stage1" entry ("name", "version", "location").
 * rkt printed the credentials as they are; pod masks secrets (the password, the token) and
 * keeps the user name.  pod reads no "dockerAuth" files, so there are none of those.
 * pod's own view is a second top-level key, "pod": its directories and trusted keys.
 * Owns: the view and its JSON.  Does not own: reading the files (auth.h, keystore.h). */

#include <stdbool.h>

#include "error.h"

struct pod_config_paths {
        const char *data_dir;   /* --dir */
        const char *sysconfdir; /* --local-config (admin) */
        const char *vendordir;  /* --system-config (vendor) */
        const char *userdir;    /* --user-config (the user's trust and auth), or NULL */
        const char *stage1;     /* the stage1 binary */
        const char *version;    /* pod's version: the stage1 entry's */
};

#define POD_CONFIG_MASK "********"

/* *ret: malloc'ed JSON text, indented with tabs (as rkt's) when pretty.  Fails like the
 * loaders (an invalid auth file: -EBADMSG with reterr naming it). */
int pod_config_view_json(const struct pod_config_paths *p, bool pretty, char **ret,
                         struct pod_error *reterr);
