/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The metadata server's process (ABI.md "Metadata service"), linked into both pod-stage1
 * (it serves in place when it has no sealed pod-stage1-supervise to execute) and the static
 * pod-stage1-supervise ("--mds": the usual way, so the server of a running pod maps no
 * library).  Owns: dropping to nobody, the accept loop, the "--mds" entry point and its fds.
 * Does not own: the socket, the token or the data (stage1/mds.c prepares them), requests and
 * answers (src/mds.c), the blob's format (src/mds-pack.c). */

#include <stdbool.h>

#include "mds.h"

#define STAGE1_MDS_UID          65534 /* nobody */
#define STAGE1_MDS_LISTEN_FD    3     /* "--mds": the listening socket */
#define STAGE1_MDS_DATA_FD      4     /* "--mds": sealed memfd with the pod_mds_pack() blob */
#define STAGE1_MDS_KEEP_IDS     "--keep-ids"
#define STAGE1_MDS_EXIT_FAILURE 254

/* To nobody (or, with keep_ids, when a rootless user's namespace maps no nobody and denies
 * setgroups, the current IDs without any capability), not dumpable, no_new_privs, in "/".
 * -errno on failure: the caller must exit. */
int stage1_mds_drop_privileges(bool keep_ids);

/* Accepts and answers connections on lfd forever, one at a time, each within a deadline. */
_Noreturn void stage1_mds_serve(const struct pod_mds *m, int lfd);

/* "pod-stage1-supervise --mds [--keep-ids]": the server executed by the pod init with the
 * socket and the data at STAGE1_MDS_LISTEN_FD and STAGE1_MDS_DATA_FD.  Returns only on
 * failure, an exit status. */
int stage1_mds_server_main(int argc, char **argv);
