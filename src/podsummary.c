/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"
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

/* Parses in place: text must be writable and NUL-terminated at text[size]. */
static int parse_mutable(char *text, size_t size, struct pod_info_app **ret_apps, size_t *ret_n,
                         bool *ret_extras) {
        _cleanup_(apps_buf_done) struct apps_buf b = {};
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
        return 0;
}

int pod_summary_parse(const char *text, size_t size, struct pod_info_app **ret_apps, size_t *ret_n,
                      bool *ret_extras) {
        _cleanup_free_ char *copy = NULL;

        if (memchr(text, 0, size))
                return -EBADMSG;
        copy = strndup(text, size);
        if (!copy)
                return -ENOMEM;
        return parse_mutable(copy, size, ret_apps, ret_n, ret_extras);
}

int pod_summary_read(int pod_fd, struct pod_info_app **ret_apps, size_t *ret_n, bool *ret_extras) {
        _cleanup_close_ int fd = -EBADF;
        char buf[SUMMARY_READ_MAX];
        ssize_t k;

        fd = openat(pod_fd, POD_SUMMARY_FILE,
                    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        do
                k = read(fd, buf, sizeof(buf));
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        /* A regular file's short read is its end; a full buffer may be a bigger file. */
        if ((size_t)k >= sizeof(buf))
                return -EFBIG;
        buf[k] = 0;
        if (memchr(buf, 0, (size_t)k))
                return -EBADMSG;
        return parse_mutable(buf, (size_t)k, ret_apps, ret_n, ret_extras);
}
