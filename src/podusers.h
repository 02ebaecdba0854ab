/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which pods use a store image: the in-use rule of store.h.  Pods mount the store's trees
 * (and OCI layers) as their lower dirs, so an image a pod was made from stays until the pod
 * is removed, whatever its state (preparing, prepared, running, exited, garbage).
 *
 * The record: the pod dir file POD_USERS_RECORD, one image ID a line: every image the pod's
 * app trees came from (the apps' images and the images their rendered trees were layered
 * from), written by prepare while those images are pinned (store.h), i.e. before a remover
 * that does not see the pin can look.  A pod dir without it (prepared by an older version,
 * or a prepare that failed before it) counts with the image IDs of its pod manifest.
 *
 * Owns: the record's name and format, the scan of pods/.  Does not own: the pod states
 * (poddir.h), removing images (store.h). */

#include <stdbool.h>

#include "error.h"

#define POD_USERS_RECORD "images"

/* Writes the record (ids NULL-terminated) into the pod dir. */
int pod_users_record(int pod_fd, char **ids, bool sync);

/* 1 and the pods' UUIDs ("u1, u2", at most a few, then ", ...") when a pod uses image id,
 * 0 when none, -errno.  Pods are looked for phase after phase in the order pods move, so a
 * pod that moves meanwhile is met again in a later phase. */
int pod_users_of_image(int pods_fd, const char *id, char **ret_users);

/* pod_users_of_image() as store.h's pod_store_set_users() callback; userdata: int *pods_fd
 * (a pods_fd < 0: no pods, nothing in use). */
int pod_users_store_callback(const char *id, char **ret_users, void *userdata);
