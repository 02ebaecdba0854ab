/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `pod fetch docker://...` (issue 12): from a docker reference to an OCI image in the store.
 * Trust: a tag names whatever the registry serves, so it needs POD_INSECURE_IMAGE; a
 * reference pinned by @sha256: is verified by that digest (the manifest's, and through it
 * the config's and every layer's) and needs nothing.  Pull policy: new = a stored image of
 * the tag or digest wins without any request; update = one manifest request, then only what
 * is missing; never = the store only.  Then: manifest (an index: the platform's entry, host
 * or fetch options' platform), config (verified, its platform and diff_id count checked),
 * the layers the store lacks: downloaded by one thread per layer, at most
 * POD_FETCH_DOCKER_PARALLEL at once, each streamed through a pipe into
 * pod_store_oci_import_layer_fd() on a second thread (verify + unpack while the bytes
 * arrive; each import thread opens its own store handle); one progress line per layer on a
 * terminal; and, only when every layer is stored, pod_store_oci_commit().
 * Owns: the order of those steps and their messages.  Does not own: the protocol
 * (registry.h), JSON (oci.h), storing (store-oci.h), the CLI. */

#include "error.h"

struct pod_fetch_options;
struct pod_store;

#define POD_FETCH_DOCKER_PARALLEL 4

/* ref: "docker://...".  o: as for pod_fetch_image() (insecure, pull_policy, progress,
 * limits, auth, docker_auth, platform; keystore's vendordir and sysconfdir name the config
 * dirs holding docker.conf).  *ret_id: "sha512-..." of the image.  Errors (reterr says
 * which image and why): -EPERM a tag without POD_INSECURE_IMAGE or plain http without
 * POD_INSECURE_HTTP; -ENOENT not stored (never), unknown manifest/blob or no entry for the
 * platform; -EPROTONOSUPPORT schema 1; -EBADMSG any digest, size or diff_id mismatch;
 * -EMEDIUMTYPE the image's platform is not the one asked for; registry.h's and
 * store-oci.h's errors. */
int pod_fetch_docker(struct pod_store *s, const char *ref, const struct pod_fetch_options *o,
                     char **ret_id, struct pod_error *reterr);
