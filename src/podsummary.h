/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The pod summary: "pod-summary" in the pod directory, a small text file that stage0 writes
 * once at prepare, atomically (temp file + rename), right after the pod manifest "pod".  It
 * holds what `pod list` shows from the manifest (each app's name, image name and image ID),
 * so that listing 1,000 pods reads ~100 bytes a pod and parses nothing, and says whether the
 * manifest has anything else the JSON output shows (annotations, labels, mounts): without
 * that, `pod list --format=json` need not parse the manifest either.
 *
 * It is a cache of the manifest, which nothing rewrites after prepare.  A summary that is
 * missing (a pod prepared by an older pod, a kill -9 between the two writes), truncated,
 * of another version, or that fails a check, is ignored: the caller reads the manifest as
 * before.  Never a guess: what the summary says is exactly what pod_info_parse_apps() gives
 * for the manifest (the writer computes it with that function and refuses to write what
 * would not read back the same).
 *
 * Once stage1 has written "pid" (and with it "unit" and "net-info.json", which it writes
 * before "pid" and never after: stage1/ABI.md), it adds a run line, again atomically: the
 * pid, when the pod started (the pid file's mtime) and whether those two files exist.  A
 * listing that finds it spares the pod three lookups (JSON: the pid file's five calls too);
 * without it (a stage1 killed in between, another stage1) the files are read as before.
 *
 * Format, version 1 (fields separated by one tab, empty = absent):
 *     pod-summary 1
 *     extras 0|1
 *     app <TAB> NAME <TAB> IMAGE-NAME <TAB> IMAGE-ID      (one line per app, in order)
 *     run <TAB> PID <TAB> SECONDS <TAB> NANOSECONDS <TAB> 0|1 <TAB> 0|1
 *              (optional: the pid, started, whether "unit" and "net-info.json" exist)
 *     end
 *
 * Owns: that file's format, writing and reading it.  Does not own: the pod manifest
 * (manifest.h), what the listing does with it (podinfo.h). */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct pod_info_app;

/* The run line: known = false when there is none. */
struct pod_summary_run {
        bool known;
        pid_t pid;               /* the content of "pid" */
        struct timespec started; /* mtime of "pid" */
        bool unit;               /* "unit" exists */
        bool net_info;           /* "net-info.json" exists */
};

#define POD_SUMMARY_FILE "pod-summary"

/* Writes the summary of the manifest text into the pod dir pod_fd (fsync'ed if sync).
 * -EBADMSG if the manifest does not parse or a name could not be stored as it reads back;
 * the caller then simply has no summary. */
int pod_summary_write(int pod_fd, const char *text, size_t size, bool sync);

/* The summary's text for a manifest (what pod_summary_write() writes); *ret malloc'ed. */
int pod_summary_format(const char *text, size_t size, char **ret);

/* Parses a summary's text: its apps (as pod_info_parse_apps() returns them), whether the
 * manifest has extras, and the run line (ret_run may be NULL).  -EBADMSG for anything but a
 * complete, valid version-1 summary. */
int pod_summary_parse(const char *text, size_t size, struct pod_info_app **ret_apps, size_t *ret_n,
                      bool *ret_extras, struct pod_summary_run *ret_run);

/* Reads pod_fd/pod-summary: open, one read, close.  -ENOENT if there is none, -EBADMSG or
 * -EFBIG if it is unusable (fall back to the manifest on any error). */
int pod_summary_read(int pod_fd, struct pod_info_app **ret_apps, size_t *ret_n, bool *ret_extras,
                     struct pod_summary_run *ret_run);

/* stage1, right after it wrote "pid": adds the run line.  -ENOENT without a summary or a
 * pid file, -EEXIST if the line is there, -EBADMSG for a damaged summary (left alone). */
int pod_summary_add_run(int pod_fd);
