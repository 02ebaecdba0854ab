/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"

static int max_level = LOG_INFO;
static int stderr_is_journal = -1;
static const char *log_prefix;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

static int parse_level(const char *s) {
        static const char *const names[] = { "emerg",   "alert",  "crit", "err",
                                             "warning", "notice", "info", "debug" };

        if (s[0] >= '0' && s[0] <= '7' && s[1] == 0)
                return s[0] - '0';
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i]))
                        return (int)i;
        if (streq(s, "error"))
                return LOG_ERR;
        return -EINVAL;
}

/* $JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected stdout/stderr to. */
static bool detect_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

void log_parse_environment(void) {
        const char *e = getenv("POD_LOG_LEVEL");

        if (e) {
                int l = parse_level(e);
                if (l >= 0)
                        max_level = l;
        }
        stderr_is_journal = detect_journal();
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        if (level > max_level)
                return error;
        if (stderr_is_journal < 0)
                stderr_is_journal = detect_journal();

        /* %m prints strerror(-error), not strerror(errno). */
        errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        (void)vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        /* One message, one line, no terminal control sequences: arguments may carry image
         * or network bytes (escape.h). */
        pod_escape_unsafe_inplace(buf, sizeof(buf));

        if (stderr_is_journal)
                (void)fprintf(stderr, "<%d>", level);
        if (log_prefix)
                (void)fprintf(stderr, "%s: ", log_prefix);
        if (max_level >= LOG_DEBUG && level == LOG_DEBUG)
                (void)fprintf(stderr, "(%s:%d) ", file, line);
        (void)fprintf(stderr, "%s\n", buf);

        errno = saved;
        return error;
}

int log_pod_error(int r, const struct pod_error *e) {
        assert(r < 0);
        if (e && e->error != 0 && e->msg[0])
                return log_error_errno(r, "%s", e->msg);
        return log_error_errno(r, "%m");
}
