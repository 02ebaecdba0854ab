/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Docker's rules for the apps of Docker/OCI images (part of prepare.h; issue 12), applied
 * to the appc app that oci.h converted the image config into:
 *   exec: the image's exec is Entrypoint + Cmd (kept apart in the oci.h annotations);
 *         --exec replaces the Entrypoint and drops the Cmd, arguments after "--" replace
 *         the Cmd and keep the Entrypoint (`docker run --entrypoint` / `docker run IMAGE
 *         ARGS`).  appc images keep rkt's rule (prepare.c: --exec replaces exec[0]).
 *   user: a user without a group (the image's User, or --user without --group) runs with
 *         the user's primary group from the image's /etc/passwd, 0 without an entry:
 *         stage1 resolves it (the image is only readable there) when the pod's app carries
 *         the annotation POD_ANN_PRIMARY_GROUP.
 * Owns: those two rules.  Does not own: the conversion (oci.h), user resolution (stage1). */

#include <stdbool.h>

#include "error.h"

struct pod_app;
struct pod_image_manifest;

/* The pod manifest's app annotation (value "true") that asks stage1 for Docker's
 * primary-group rule (stage1/ABI.md). */
#define POD_ANN_PRIMARY_GROUP "pod/docker-primary-group"

/* Replaces app->exec by Docker's rule; nothing changes without exec and have_args.  An
 * empty result leaves app->exec NULL (the caller reports "no exec"). */
int pod_prepare_oci_exec(struct pod_app *app, const char *exec, char *const *args, bool have_args,
                         const struct pod_image_manifest *im, struct pod_error *reterr);

/* Whether the app gets POD_ANN_PRIMARY_GROUP: user and group are --user and --group (NULL
 * when not given), im the image manifest (its POD_OCI_ANN_USER annotation says the image's
 * User had no group). */
bool pod_prepare_oci_primary_group(const char *user, const char *group,
                                   const struct pod_image_manifest *im);
