/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"
#include "poddir.h"
#include "podinfo.h"
#include "podsummary.h"

#define HEADER  "pod-summary 1\n"
#define TRAILER "end\n"
/* A summary bigger than this is not read (the manifest is): one read of a stack buffer
 * covers any pod of a few dozen apps. */
#define SUMMARY_READ_MAX 8192

/* Only what reads back unchanged may be stored: no tab, newline or other control byte, and
 * no empty string (an empty field means "absent"). */
static bool field_ok(const char *s) {
        if (!s)
                return true;
        if (!*s)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* What JSON output takes from the whole manifest (podinfo.c, info_to_object()). */
static bool has_extras(const struct pod_pod_manifest *m) {
        if (m->n_user_annotations > 0 || m->n_user_labels > 0)
                return true;
        for (size_t k = 0; k < m->n_apps; k++) {
                const struct pod_runtime_app *a = &m->apps[k];

                if (a->n_mounts > 0)
                        return true;
                if (a->app && (a->app->n_user_annotations > 0 || a->app->n_user_labels > 0))
                        return true;
        }
        return false;
}

int pod_summary_format(const char *text, size_t size, char **ret) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        _cleanup_free_ char *buf = NULL;
        struct pod_info_app *apps = NULL;
        size_t n = 0, len = 0;
        FILE *f;
        int r;

        /* The apps exactly as the listing's fallback reads them from the manifest... */
        r = pod_info_parse_apps(text, size, &apps, &n);
        if (r < 0)
                return r;
        /* ...and the full parse, which JSON output would otherwise do. */
        r = pod_pod_manifest_parse(text, size, &m, NULL);
        if (r < 0) {
                pod_info_apps_free(apps, n);
                return r == -ENOMEM ? r : -EBADMSG;
        }
        for (size_t k = 0; k < n; k++)
                if (!field_ok(apps[k].name) || !field_ok(apps[k].image_name) ||
                    !field_ok(apps[k].image_id)) {
                        pod_info_apps_free(apps, n);
                        return -EBADMSG;
                }

        f = open_memstream(&buf, &len);
        if (!f) {
                pod_info_apps_free(apps, n);
                return -ENOMEM;
        }
        fputs(HEADER, f);
        fprintf(f, "extras %d\n", has_extras(m) ? 1 : 0);
        for (size_t k = 0; k < n; k++)
                fprintf(f, "app\t%s\t%s\t%s\n", apps[k].name, apps[k].image_name ?: "",
                        apps[k].image_id ?: "");
        fputs(TRAILER, f);
        pod_info_apps_free(apps, n);
        if (ferror(f)) {
                (void)fclose(f);
                return -ENOMEM;
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

int pod_summary_write(int pod_fd, const char *text, size_t size, bool sync) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = pod_summary_format(text, size, &s);
        if (r < 0)
                return r;
        return write_file_at(pod_fd, POD_SUMMARY_FILE, s, strlen(s), 0644, sync);
}

/* A field up to the next tab (or end of line, for the last one), NUL-terminated in place. */
static char *next_field(char **p, char *end, char sep) {
        char *s = *p, *e = memchr(s, sep, (size_t)(end - s));

        if (!e)
                return NULL;
        *e = 0;
        *p = e + 1;
        return s;
}

static int dup_field(const char *s, char **ret) {
        if (!*s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

struct apps_buf {
        struct pod_info_app *a;
        size_t n, alloc;
};

static void apps_buf_done(struct apps_buf *b) {
        pod_info_apps_free(b->a, b->n);
}

static int apps_buf_add(struct apps_buf *b, const char *name, const char *image_name,
                        const char *image_id) {
        struct pod_info_app *a;

        if (b->n >= b->alloc) {
                size_t na = b->alloc ? b->alloc * 2 : 2;
                struct pod_info_app *t = reallocarray(b->a, na, sizeof(*t));

                if (!t)
                        return -ENOMEM;
                b->a = t;
                b->alloc = na;
        }
        a = &b->a[b->n++]; /* counted now, so that a failure frees what was copied */
        *a = (struct pod_info_app){};
        if (dup_field(name, &a->name) < 0 || dup_field(image_name, &a->image_name) < 0 ||
            dup_field(image_id, &a->image_id) < 0)
                return -ENOMEM;
        return 0;
}

/* A decimal number of at most 18 digits (no sign, no leading zero but "0"), ended by sep. */
static int parse_number(char **p, char *end, char sep, long long max, long long *ret) {
        char *f = next_field(p, end, sep);
        long long v = 0;
        size_t n;

        if (!f)
                return -EBADMSG;
        n = strlen(f);
        if (n == 0 || n > 18 || (f[0] == '0' && n > 1))
                return -EBADMSG;
        for (size_t k = 0; k < n; k++) {
                if (f[k] < '0' || f[k] > '9')
                        return -EBADMSG;
                v = v * 10 + (f[k] - '0');
        }
        if (v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* "run" TAB PID TAB SECONDS TAB NANOSECONDS TAB UNIT(0|1) TAB NET-INFO(0|1) NL, after
 * "run\t" */
static int parse_run(char **p, char *end, struct pod_summary_run *ret) {
        long long pid, sec, nsec, unit, nets;

        if (parse_number(p, end, '\t', INT_MAX, &pid) < 0 || pid < 1 ||
            parse_number(p, end, '\t', 999999999999999999LL, &sec) < 0 ||
            parse_number(p, end, '\t', 999999999, &nsec) < 0 ||
            parse_number(p, end, '\t', 1, &unit) < 0 || parse_number(p, end, '\n', 1, &nets) < 0)
                return -EBADMSG;
        *ret = (struct pod_summary_run){
                .known = true,
                .pid = (pid_t)pid,
                .started = { .tv_sec = (time_t)sec, .tv_nsec = (long)nsec },
                .unit = unit == 1,
                .net_info = nets == 1,
        };
        return 0;
}

/* Parses in place: text must be writable and NUL-terminated at text[size]. */
static int parse_mutable(char *text, size_t size, struct pod_info_app **ret_apps, size_t *ret_n,
                         bool *ret_extras, struct pod_summary_run *ret_run) {
        _cleanup_(apps_buf_done) struct apps_buf b = {};
        struct pod_summary_run run = {};
        char *p = text, *end = text + size;
        bool extras;
        int r;

        if (size < strlen(HEADER) + strlen("extras 0\n") + strlen(TRAILER) ||
            memcmp(p, HEADER, strlen(HEADER)) != 0)
                return -EBADMSG;
        p += strlen(HEADER);
        if (memcmp(p, "extras ", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != '\n')
                return -EBADMSG;
        extras = p[7] == '1';
        p += 9;

        /* app lines up to the trailer, which must end the file: a truncated summary has none */
        while ((size_t)(end - p) != strlen(TRAILER) || memcmp(p, TRAILER, strlen(TRAILER)) != 0) {
                char *name, *image_name, *image_id;

                if (run.known)
                        return -EBADMSG; /* the run line is the last before "end" */
                if ((size_t)(end - p) >= 4 && memcmp(p, "run\t", 4) == 0) {
                        p += 4;
                        r = parse_run(&p, end, &run);
                        if (r < 0)
                                return r;
                        continue;
                }
                if ((size_t)(end - p) < 4 || memcmp(p, "app\t", 4) != 0)
                        return -EBADMSG;
                p += 4;
                name = next_field(&p, end, '\t');
                image_name = name ? next_field(&p, end, '\t') : NULL;
                image_id = image_name ? next_field(&p, end, '\n') : NULL;
                /* the checks pod_info_parse_apps() makes of the manifest */
                if (!image_id || !ac_name_valid(name) ||
                    (*image_name && !ac_identifier_valid(image_name)) ||
                    (*image_id && !field_ok(image_id)))
                        return -EBADMSG;
                r = apps_buf_add(&b, name, image_name, image_id);
                if (r < 0)
                        return r;
        }
        if (b.n == 0) {
                free(b.a);
                b.a = NULL;
        }
        *ret_apps = TAKE_PTR(b.a);
        *ret_n = b.n;
        b.n = 0;
        *ret_extras = extras;
        if (ret_run)
                *ret_run = run;
        return 0;
}

int pod_summary_parse(const char *text, size_t size, struct pod_info_app **ret_apps, size_t *ret_n,
                      bool *ret_extras, struct pod_summary_run *ret_run) {
        _cleanup_free_ char *copy = NULL;

        if (memchr(text, 0, size))
                return -EBADMSG;
        copy = strndup(text, size);
        if (!copy)
                return -ENOMEM;
        return parse_mutable(copy, size, ret_apps, ret_n, ret_extras, ret_run);
}

/* The file's text: open, one read, close.  size is the buffer's (the text is shorter). */
static int read_text(int pod_fd, char *buf, size_t size, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        ssize_t k;

        /* O_NONBLOCK: a FIFO put in its place reads as empty instead of hanging the list */
        fd = openat(pod_fd, POD_SUMMARY_FILE,
                    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        do
                k = read(fd, buf, size);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        /* A regular file's short read is its end; a full buffer may be a bigger file. */
        if ((size_t)k >= size)
                return -EFBIG;
        buf[k] = 0;
        if (memchr(buf, 0, (size_t)k))
                return -EBADMSG;
        *ret_len = (size_t)k;
        return 0;
}

int pod_summary_read(int pod_fd, struct pod_info_app **ret_apps, size_t *ret_n, bool *ret_extras,
                     struct pod_summary_run *ret_run) {
        char buf[SUMMARY_READ_MAX];
        size_t len = 0;
        int r;

        r = read_text(pod_fd, buf, sizeof(buf), &len);
        if (r < 0)
                return r;
        return parse_mutable(buf, len, ret_apps, ret_n, ret_extras, ret_run);
}

/* 0 if dir_fd/name is absent, 1 if present (whatever it is), -errno if we cannot tell. */
static int exists_at(int dir_fd, const char *name) {
        struct stat st;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                return 1;
        return errno == ENOENT ? 0 : -errno;
}

int pod_summary_add_run(int pod_fd) {
        char buf[SUMMARY_READ_MAX], copy[SUMMARY_READ_MAX];
        struct pod_info_app *apps = NULL;
        struct pod_summary_run run = {};
        _cleanup_free_ char *text = NULL;
        struct timespec started;
        size_t len = 0, n = 0;
        pid_t pid;
        bool extras;
        int r, unit, nets;

        r = read_text(pod_fd, buf, sizeof(buf), &len);
        if (r < 0)
                return r;
        /* only a complete summary without a run line gets one */
        memcpy(copy, buf, len + 1);
        r = parse_mutable(copy, len, &apps, &n, &extras, &run);
        if (r < 0)
                return r;
        pod_info_apps_free(apps, n);
        if (run.known)
                return -EEXIST;

        /* the pid and its file's mtime from one open, as pod_info_load_fd() would read them */
        r = pod_poddir_read_pid(pod_fd, &pid, &started);
        if (r < 0)
                return r;
        unit = exists_at(pod_fd, "unit");
        if (unit < 0)
                return unit;
        nets = exists_at(pod_fd, "net-info.json");
        if (nets < 0)
                return nets;

        /* buf ends in "end\n" (parsed above): the run line goes before it */
        if (asprintf(&text, "%.*srun\t%d\t%lld\t%ld\t%d\t%d\n" TRAILER,
                     (int)(len - strlen(TRAILER)), buf, (int)pid, (long long)started.tv_sec,
                     (long)started.tv_nsec, unit, nets) < 0) {
                text = NULL;
                return -ENOMEM;
        }
        /* not fsync'ed, as stage1's other files: it describes a running pod */
        return write_file_at(pod_fd, POD_SUMMARY_FILE, text, strlen(text), 0644, false);
}
