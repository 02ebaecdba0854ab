/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Logging for main(), verb functions and stage1 steps (STYLE.md section 5).
 * Owns: the log level, where messages go (stderr; "<N>" level prefixes when stderr is a
 * journal stream, so journald records the priority).  src/ modules never log above debug. */

#include <syslog.h>

#include "error.h"
#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Reads POD_LOG_LEVEL (debug|info|notice|warning|err or 0..7) and $JOURNAL_STREAM. */
void log_parse_environment(void);
void log_set_prefix(const char *prefix); /* e.g. "pod-stage1"; NULL for none */

/* Prints the message; error < 0 makes %m print strerror(-error).  Returns error. */
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
        _printf_(5, 6);

#define log_full_errno(level, error, ...) \
        log_internal(level, error, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)            log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)             log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)           log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...)          log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)            log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(r, ...)   log_full_errno(LOG_DEBUG, r, __VA_ARGS__)
#define log_warning_errno(r, ...) log_full_errno(LOG_WARNING, r, __VA_ARGS__)
#define log_error_errno(r, ...)   log_full_errno(LOG_ERR, r, __VA_ARGS__)

/* Logs e->msg if set, else strerror(-r); returns r (< 0). */
int log_pod_error(int r, const struct pod_error *e);
