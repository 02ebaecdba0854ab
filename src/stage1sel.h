/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which stage1 runs a pod (rkt's --stage1-* flags): the checks a stage1 binary must pass
 * before stage0 executes it as root, the entry point of a stage1 image (an ACI whose
 * manifest names it with rkt's annotation), and the record of the choice in the pod dir
 * ("stage0-stage1", so that run-prepared uses what prepare chose; stage1/ABI.md).
 * Owns: those checks and the record's format.  Does not own: fetching and verifying the
 * image (fetch.h), the command line (stage0/verb-run.c). */

#include <stdbool.h>

#include "error.h"

struct pod_store;

/* rkt's stage1 image annotation: the absolute path of the stage1 entry point in the
 * image's rootfs. */
#define POD_STAGE1_RUN_ANNOTATION "coreos.com/rkt/stage1/run"
/* The fly flavour's binary, in pod's stage1 directory. */
#define POD_STAGE1_FLY_NAME "pod-stage1-fly"
#define POD_STAGE1_RECORD   "stage0-stage1"

/* A stage1 binary runs as root: it must be a regular, executable file owned by root and
 * writable by nobody else (no group or other write bit).  fd: an O_PATH (or any) fd of it;
 * what names it in messages. */
int pod_stage1_check_fd(int fd, const char *what, struct pod_error *reterr);
/* The same for a path (followed: the file it reaches is what runs). */
int pod_stage1_check_path(const char *path, struct pod_error *reterr);

/* A stage1 image already in the store (fetched and verified by the caller): renders its
 * tree, reads the entry point from the manifest's POD_STAGE1_RUN_ANNOTATION, resolves it
 * inside the image's rootfs (pod_open_in_root) and checks it as above.  *ret_fd: O_PATH,
 * close-on-exec. */
int pod_stage1_open_image(struct pod_store *s, const char *id, int *ret_fd,
                          struct pod_error *reterr);

/* The record: "path ABSPATH\n" or "image ID\n". */
int pod_stage1_record_write(int pod_fd, bool image, const char *value, bool sync);
/* 0 and *ret_value NULL without a record (the built-in stage1). */
int pod_stage1_record_read(int pod_fd, bool *ret_image, char **ret_value, struct pod_error *reterr);
