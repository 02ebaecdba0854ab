/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "fd-util.h"
#include "json-util.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"
#include "podinfo.h"
#include "podsummary.h"
#include "provenance.h"
#include "userns-alloc.h"

#define NET_INFO_MAX (1u << 20)

static const char *json_get_string(struct json_object *o, const char *key) {
        struct json_object *v;

        if (!o || !json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int strdup_or_null(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* One read(2), retried on EINTR.  On a regular file a short read means end of file, which
 * spares the extra read that loop_read() would make to see it. */
static ssize_t read_once(int fd, void *buf, size_t n) {
        for (;;) {
                ssize_t k = read(fd, buf, n);
                if (k >= 0 || errno != EINTR)
                        return k < 0 ? -errno : k;
        }
}

/* open + read + close: for files that fit in buf (size includes the NUL). -EFBIG if not. */
static int read_small(int dir_fd, const char *name, char *buf, size_t size, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        ssize_t k;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        k = read_once(fd, buf, size);
        if (k < 0)
                return (int)k;
        if ((size_t)k >= size)
                return -EFBIG;
        buf[k] = 0;
        *ret_len = (size_t)k;
        return 0;
}

/* Whole file, up to max bytes: open + one read + close for anything under 4 KiB (a pod
 * manifest usually is), growing the buffer only for bigger files. */
static int read_whole(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 4096;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read_once(fd, buf + size, alloc - size - 1);
                if (k < 0)
                        return (int)k;
                if (k == 0)
                        break;
                size += (size_t)k;
                if (size > max)
                        return -EFBIG;
                if (size < alloc - 1)
                        break; /* short read: end of file */
                char *t = realloc(buf, alloc * 2);
                if (!t)
                        return -ENOMEM;
                buf = t;
                alloc *= 2;
        }
        buf[size] = 0;
        *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

void pod_info_apps_free(struct pod_info_app *a, size_t n) {
        for (size_t k = 0; k < n; k++) {
                free(a[k].name);
                free(a[k].image_name);
                free(a[k].image_id);
                pod_provenance_done(a[k].provenance);
                free(a[k].provenance);
        }
        free(a);
}

struct pod_info *pod_info_free(struct pod_info *i) {
        if (!i)
                return NULL;
        pod_info_apps_free(i->apps, i->n_apps);
        for (size_t k = 0; k < i->n_nets; k++) {
                free(i->nets[k].name);
                free(i->nets[k].ip);
                free(i->nets[k].ifname);
                free(i->nets[k].conf);
                free(i->nets[k].plugin);
                free(i->nets[k].args);
                free(i->nets[k].mask);
                free(i->nets[k].host_ip);
        }
        free(i->nets);
        free(i->unit);
        (void)pod_pod_manifest_free(i->manifest);
        free(i);
        return NULL;
}

void pod_info_list_free(struct pod_info **l, size_t n) {
        if (!l)
                return;
        for (size_t k = 0; k < n; k++)
                (void)pod_info_free(l[k]);
        free(l);
}

/* `pod list` shows the app and image names of every pod: a streaming scan of the pod
 * manifest picks just those out, with no JSON tree (json-c spent ~70,000 instructions and ~40
 * allocations per pod building and checking one).  The manifest is stage0's own output; the
 * scan still checks the JSON syntax and the names it returns, and reads keys the way the
 * manifest module does (case-insensitively, the last non-null one wins), so that whatever
 * pod_pod_manifest_parse() accepts gives the same apps here (fuzz-podinfo checks that). */

/* deeper than json-c allows (32), so that the scan never refuses what the parser takes */
#define SCAN_DEPTH_MAX 64

struct scan {
        const char *p, *end;
};

/* A string as found in the text: raw bytes between the quotes, escapes not decoded. */
struct span {
        const char *s;
        size_t n;
        bool escaped;
};

static void skip_ws(struct scan *s) {
        while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
                s->p++;
}

static bool peek(struct scan *s, char c) {
        skip_ws(s);
        return s->p < s->end && *s->p == c;
}

static bool eat(struct scan *s, char c) {
        if (!peek(s, c))
                return false;
        s->p++;
        return true;
}

static int hex4(const char *p, unsigned *ret) {
        unsigned v = 0;

        for (int k = 0; k < 4; k++) {
                char c = p[k];

                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned)(c - 'A' + 10);
                else
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

static int scan_string(struct scan *s, struct span *ret) {
        struct span sp = {};

        if (!eat(s, '"'))
                return -EBADMSG;
        sp.s = s->p;
        while (s->p < s->end) {
                unsigned char c = (unsigned char)*s->p;

                if (c == '"') {
                        sp.n = (size_t)(s->p - sp.s);
                        s->p++;
                        if (ret)
                                *ret = sp;
                        return 0;
                }
                if (c < 0x20)
                        return -EBADMSG;
                s->p++;
                if (c != '\\')
                        continue;
                sp.escaped = true;
                if (s->p >= s->end)
                        return -EBADMSG;
                c = (unsigned char)*s->p++;
                if (c == 'u') {
                        unsigned v;

                        if (s->end - s->p < 4 || hex4(s->p, &v) < 0)
                                return -EBADMSG;
                        s->p += 4;
                } else if (!strchr("\"\\/bfnrt", c) || c == 0)
                        return -EBADMSG;
        }
        return -EBADMSG;
}

/* The decoded string, if it is plain ASCII without NUL (all a name may be); else NULL in
 * *ret and 0: the caller's name check refuses it. */
static int span_dup(const struct span *sp, char **ret) {
        char *d, *o;

        d = o = malloc(sp->n + 1);
        if (!d)
                return -ENOMEM;
        for (const char *p = sp->s; p < sp->s + sp->n; p++) {
                char c = *p;

                if (c == '\\') {
                        c = *++p;
                        switch (c) {
                        case 'b':
                                c = '\b';
                                break;
                        case 'f':
                                c = '\f';
                                break;
                        case 'n':
                                c = '\n';
                                break;
                        case 'r':
                                c = '\r';
                                break;
                        case 't':
                                c = '\t';
                                break;
                        case 'u': {
                                unsigned v = 0;

                                (void)hex4(p + 1, &v); /* checked by scan_string() */
                                p += 4;
                                if (v == 0 || v >= 0x80) {
                                        free(d);
                                        *ret = NULL;
                                        return 0;
                                }
                                c = (char)v;
                                break;
                        }
                        default: /* '"', '\\', '/' stand for themselves */
                                break;
                        }
                } else if ((unsigned char)c >= 0x80) {
                        free(d);
                        *ret = NULL;
                        return 0;
                }
                *o++ = c;
        }
        *o = 0;
        *ret = d;
        return 0;
}

static bool span_is(const struct span *sp, const char *key) {
        char *k = NULL;
        bool b;

        if (!sp->escaped)
                return sp->n == strlen(key) && strncasecmp(sp->s, key, sp->n) == 0;
        /* rare: an escaped key; compare its decoded form */
        if (span_dup(sp, &k) < 0 || !k)
                return false;
        b = strcasecmp(k, key) == 0;
        free(k);
        return b;
}

static int scan_value(struct scan *s, unsigned depth);

static int scan_literal(struct scan *s, const char *word) {
        size_t n = strlen(word);

        if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
                return -EBADMSG;
        s->p += n;
        return 0;
}

/* Numbers are only skipped: take what json-c takes ("-01", "1."), and more. */
static int scan_number(struct scan *s) {
        const char *start = s->p;
        bool digit = false;

        for (; s->p < s->end && strchr("+-.eE0123456789", *s->p) && *s->p; s->p++)
                if (*s->p >= '0' && *s->p <= '9')
                        digit = true;
        return s->p > start && digit ? 0 : -EBADMSG;
}

/* Calls member(s, key, userdata) for each key of an object, with the scan before the value;
 * member() consumes the value. */
static int scan_object(struct scan *s, unsigned depth,
                       int (*member)(struct scan *s, const struct span *key, unsigned depth,
                                     void *userdata),
                       void *userdata) {
        int r;

        if (depth > SCAN_DEPTH_MAX)
                return -EBADMSG;
        if (!eat(s, '{'))
                return -EBADMSG;
        if (eat(s, '}'))
                return 0;
        for (;;) {
                struct span key;

                r = scan_string(s, &key);
                if (r < 0)
                        return r;
                if (!eat(s, ':'))
                        return -EBADMSG;
                r = member ? member(s, &key, depth, userdata) : scan_value(s, depth);
                if (r < 0)
                        return r;
                if (eat(s, '}'))
                        return 0;
                if (!eat(s, ','))
                        return -EBADMSG;
        }
}

static int scan_array(struct scan *s, unsigned depth,
                      int (*element)(struct scan *s, unsigned depth, void *userdata),
                      void *userdata) {
        int r;

        if (depth > SCAN_DEPTH_MAX)
                return -EBADMSG;
        if (!eat(s, '['))
                return -EBADMSG;
        if (eat(s, ']'))
                return 0;
        for (;;) {
                r = element ? element(s, depth, userdata) : scan_value(s, depth);
                if (r < 0)
                        return r;
                if (eat(s, ']'))
                        return 0;
                if (!eat(s, ','))
                        return -EBADMSG;
        }
}

/* Any value, skipped; depth is that of the enclosing container. */
static int scan_value(struct scan *s, unsigned depth) {
        skip_ws(s);
        if (s->p >= s->end)
                return -EBADMSG;
        switch (*s->p) {
        case '{':
                return scan_object(s, depth + 1, NULL, NULL);
        case '[':
                return scan_array(s, depth + 1, NULL, NULL);
        case '"':
                return scan_string(s, NULL);
        case 't':
                return scan_literal(s, "true");
        case 'f':
                return scan_literal(s, "false");
        case 'n':
                return scan_literal(s, "null");
        default:
                if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
                        return scan_number(s);
                return -EBADMSG;
        }
}

/* A string value into *ret (replacing what was there), or null, which leaves *ret alone.
 * Another type clears *ret: as the manifest module, only the last non-null value counts. */
static int scan_string_member(struct scan *s, unsigned depth, char **ret) {
        struct span sp;
        char *v;
        int r;

        if (peek(s, 'n'))
                return scan_literal(s, "null");
        if (!peek(s, '"')) {
                free(*ret);
                *ret = NULL;
                return scan_value(s, depth);
        }
        r = scan_string(s, &sp);
        if (r < 0)
                return r;
        r = span_dup(&sp, &v);
        if (r < 0)
                return r;
        if (!v)
                return -EBADMSG; /* not an ASCII name */
        free(*ret);
        *ret = v;
        return 0;
}

struct app_scan {
        struct pod_info_app *app;
        bool has_image;
};

static int image_member(struct scan *s, const struct span *key, unsigned depth, void *userdata) {
        struct app_scan *a = userdata;

        if (span_is(key, "name"))
                return scan_string_member(s, depth, &a->app->image_name);
        if (span_is(key, "id"))
                return scan_string_member(s, depth, &a->app->image_id);
        return scan_value(s, depth);
}

static int app_member(struct scan *s, const struct span *key, unsigned depth, void *userdata) {
        struct app_scan *a = userdata;

        if (span_is(key, "name"))
                return scan_string_member(s, depth, &a->app->name);
        if (span_is(key, "image")) {
                if (peek(s, 'n'))
                        return scan_literal(s, "null");
                /* a later "image" replaces an earlier one as a whole */
                free(a->app->image_name);
                a->app->image_name = NULL;
                free(a->app->image_id);
                a->app->image_id = NULL;
                a->has_image = peek(s, '{');
                if (!a->has_image)
                        return scan_value(s, depth); /* wrong type: unless a later one is right */
                return scan_object(s, depth + 1, image_member, a);
        }
        return scan_value(s, depth);
}

struct apps_scan {
        struct pod_info_app *apps;
        size_t n, alloc;
};

static void apps_scan_clear(struct apps_scan *x) {
        for (size_t k = 0; k < x->n; k++) {
                free(x->apps[k].name);
                free(x->apps[k].image_name);
                free(x->apps[k].image_id);
        }
        x->n = 0;
}

static int app_element(struct scan *s, unsigned depth, void *userdata) {
        struct apps_scan *x = userdata;
        struct app_scan a;
        int r;

        if (x->n >= x->alloc) {
                size_t na = x->alloc ? x->alloc * 2 : 4;
                struct pod_info_app *t = reallocarray(x->apps, na, sizeof(*t));

                if (!t)
                        return -ENOMEM;
                x->apps = t;
                x->alloc = na;
        }
        a = (struct app_scan){ .app = &x->apps[x->n] };
        *a.app = (struct pod_info_app){};
        x->n++; /* counted now, so that a failure frees what was read */
        r = scan_object(s, depth + 1, app_member, &a);
        if (r < 0)
                return r;
        /* what the manifest module requires of a runtime app, as far as the list shows it */
        if (!a.app->name || !ac_name_valid(a.app->name) || !a.has_image ||
            (a.app->image_name && !ac_identifier_valid(a.app->image_name)))
                return -EBADMSG;
        return 0;
}

static int top_member(struct scan *s, const struct span *key, unsigned depth, void *userdata) {
        struct apps_scan *x = userdata;

        if (span_is(key, "apps")) {
                if (peek(s, 'n'))
                        return scan_literal(s, "null");
                apps_scan_clear(x);
                if (!peek(s, '['))
                        return scan_value(s, depth);
                return scan_array(s, depth + 1, app_element, x);
        }
        return scan_value(s, depth);
}

int pod_info_parse_apps(const char *text, size_t size, struct pod_info_app **ret, size_t *ret_n) {
        struct scan s = { .p = text, .end = text + size };
        struct apps_scan x = {};
        int r;

        r = scan_object(&s, 1, top_member, &x);
        if (r >= 0) {
                skip_ws(&s);
                if (s.p != s.end)
                        r = -EBADMSG; /* only whitespace may follow */
        }
        if (r < 0) {
                apps_scan_clear(&x);
                free(x.apps);
                return r;
        }
        if (x.n == 0) {
                free(x.apps);
                x.apps = NULL;
        }
        *ret = x.apps;
        *ret_n = x.n;
        return 0;
}

/* The apps of the pod manifest: name and image name.  A manifest that does not scan shows
 * no apps (manifest_missing).  With POD_INFO_MANIFEST the whole manifest is parsed as well
 * (for JSON output); one that does not parse leaves i->manifest NULL. */
static int load_apps(int fd, unsigned flags, struct pod_info *i, struct pod_summary_run *run) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        bool extras = false;
        int r;

        /* The summary stage0 wrote at prepare gives the same apps for a tenth of the work;
         * it is all we need unless JSON output wants annotations, labels or mounts the
         * manifest has.  Missing or unusable: the manifest, as for a pod of an older pod. */
        r = pod_summary_read(fd, &i->apps, &i->n_apps, &extras, run);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                if (!(flags & POD_INFO_MANIFEST) || !extras)
                        return 0;
                pod_info_apps_free(i->apps, i->n_apps);
                i->apps = NULL;
                i->n_apps = 0;
        }

        r = read_whole(fd, "pod", POD_PODDIR_MANIFEST_MAX, &text, &size);
        if (r < 0)
                return r;
        r = pod_info_parse_apps(text, size, &i->apps, &i->n_apps);
        if (r < 0)
                return r;
        if (flags & POD_INFO_MANIFEST) {
                r = pod_pod_manifest_parse(text, size, &i->manifest, NULL);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static int load_nets(int fd, struct pod_info *i) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ struct json_object *root = NULL;
        size_t size = 0, n;
        int r;

        r = read_whole(fd, "net-info.json", NET_INFO_MAX, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = pod_json_parse(text, size, NET_INFO_MAX, &root, NULL);
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(root);
        if (n == 0)
                return 0;
        i->nets = calloc(n, sizeof(*i->nets));
        if (!i->nets)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                struct json_object *o = json_object_array_get_idx(root, k);
                struct pod_info_net *net = &i->nets[i->n_nets];
                const char *name = json_get_string(o, "netName");

                if (!name)
                        continue;
                r = strdup_or_null(name, &net->name);
                if (r < 0)
                        return r;
                i->n_nets++;
                r = strdup_or_null(json_get_string(o, "ip"), &net->ip);
                if (r < 0)
                        return r;
                r = strdup_or_null(json_get_string(o, "ifName"), &net->ifname);
                if (r >= 0)
                        r = strdup_or_null(json_get_string(o, "netConf"), &net->conf);
                if (r >= 0)
                        r = strdup_or_null(json_get_string(o, "pluginPath"), &net->plugin);
                if (r >= 0)
                        r = strdup_or_null(json_get_string(o, "args"), &net->args);
                if (r >= 0)
                        r = strdup_or_null(json_get_string(o, "mask"), &net->mask);
                if (r >= 0)
                        r = strdup_or_null(json_get_string(o, "hostIP"), &net->host_ip);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_unit(int fd, struct pod_info *i) {
        char buf[257];
        size_t len = 0;
        int r;

        r = read_small(fd, "unit", buf, sizeof(buf), &len);
        if (r == -ENOENT || r == -EFBIG)
                return 0;
        if (r < 0)
                return r;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = 0;
        if (len == 0)
                return 0;
        for (size_t k = 0; k < len; k++)
                if ((unsigned char)buf[k] <= ' ' || buf[k] == 127)
                        return 0; /* not a unit name: unknown */
        i->unit = strdup(buf);
        return i->unit ? 0 : -ENOMEM;
}

int pod_info_load_fd(int fd, const char *uuid, enum pod_phase phase, bool locked, unsigned flags,
                     struct pod_info **ret) {
        _cleanup_(pod_info_freep) struct pod_info *i = NULL;
        struct pod_summary_run run = {};
        int r;

        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        (void)snprintf(i->uuid, sizeof(i->uuid), "%s", uuid);
        i->phase = phase;
        i->state = pod_state_from_phase(phase, locked);

        r = pod_poddir_get_created(fd, &i->created);
        if (r < 0 && r != -ENOENT)
                return r;

        /* A missing or damaged manifest or network file hides that column, not the pod. */
        r = load_apps(fd, flags, i, &run);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                i->manifest_missing = true;

        if ((flags & POD_INFO_PID) && run.known) {
                i->pid = run.pid; /* what stage1 wrote to "pid", and its mtime */
                i->started = run.started;
        } else if (flags & POD_INFO_PID) {
                /* A half-written pid (stage1 writing it) reads as unknown. */
                r = pod_poddir_read_pid(fd, &i->pid, &i->started);
                if (r < 0 && r != -ENOENT && r != -ENODATA && r != -EBADMSG)
                        return r;
        } else if (run.known)
                i->started = run.started; /* stage1 noted it with unit and nets (podsummary.h) */
        else {
                struct stat st;

                if (fstatat(fd, "pid", &st, AT_SYMLINK_NOFOLLOW) >= 0)
                        i->started = st.st_mtim;
                else if (errno != ENOENT)
                        return -errno;
        }

        if (!run.known || run.unit) {
                r = load_unit(fd, i);
                if (r < 0)
                        return r;
        }

        if (!run.known || run.net_info) {
                r = load_nets(fd, i);
                if (r == -ENOMEM)
                        return r;
        }

        {
                struct pod_idmap m;

                /* Missing (no user namespace) or damaged: nothing shown.  Only when asked:
                 * `pod list` opens no more files per pod than it needs. */
                if ((flags & POD_INFO_PRIVATE_USERS) && pod_userns_record_read(fd, &m) >= 0) {
                        i->private_users_base = m.base;
                        i->private_users_count = m.count;
                }
        }

        if ((flags & POD_INFO_EXIT_CODES) && !(phase == POD_PHASE_RUN && locked))
                for (size_t k = 0; k < i->n_apps; k++) {
                        char path[PATH_MAX];
                        struct stat st;

                        r = pod_poddir_read_app_status(fd, i->apps[k].name, &i->apps[k].exit_code);
                        if (r >= 0) {
                                i->apps[k].has_exit_code = true;
                                /* when the app exited: the status file's mtime, as rkt's */
                                (void)snprintf(path, sizeof(path), "status/%s", i->apps[k].name);
                                if (fstatat(fd, path, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                                        i->apps[k].finished = st.st_mtim;
                        } else if (r != -ENOENT && r != -ENODATA && r != -EBADMSG && r != -EINVAL)
                                return r;
                }

        *ret = TAKE_PTR(i);
        return 0;
}

int pod_info_load(struct pod_poddir *p, unsigned flags, struct pod_info **ret) {
        enum pod_state state;
        int r;

        r = pod_poddir_get_state(p, &state);
        if (r < 0)
                return r;
        /* the lock is held iff the state says so (prepared is never reported as locked) */
        return pod_info_load_fd(p->fd, p->uuid, p->phase,
                                state == POD_STATE_PREPARING || state == POD_STATE_RUNNING ||
                                        state == POD_STATE_DELETING,
                                flags, ret);
}

static int list_phase(int pods_fd, enum pod_phase phase, unsigned flags, struct pod_info ***l,
                      size_t *n, size_t *alloc) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int dfd, r;

        dfd = openat(pods_fd, pod_phase_to_string(phase),
                     O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                (void)close(dfd);
                return r;
        }

        while ((de = readdir(d))) {
                _cleanup_close_ int fd = -EBADF;
                struct pod_info *i = NULL;
                bool locked = false;

                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (!pod_uuid_string_valid(de->d_name))
                        continue;
                fd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        if (errno == ENOENT || errno == ENOTDIR)
                                continue; /* moved on or deleted since readdir */
                        return -errno;
                }
                /* The lock decides nothing for embryo and prepared: spare the probe.  A
                 * shared lock we get is kept until close: nobody deletes the pod while we
                 * read it, and there is no unlock call to pay. */
                if (phase != POD_PHASE_EMBRYO && phase != POD_PHASE_PREPARED &&
                    flock(fd, LOCK_SH | LOCK_NB) < 0) {
                        if (errno != EWOULDBLOCK)
                                return -errno;
                        locked = true;
                }
                r = pod_info_load_fd(fd, de->d_name, phase, locked, flags, &i);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (*n >= *alloc) {
                        size_t na = *alloc ? *alloc * 2 : 64;
                        struct pod_info **t = realloc(*l, na * sizeof(*t));
                        if (!t) {
                                (void)pod_info_free(i);
                                return -ENOMEM;
                        }
                        *l = t;
                        *alloc = na;
                }
                (*l)[(*n)++] = i;
        }
        return 0;
}

static int cmp_uuid_phase(const void *a, const void *b) {
        const struct pod_info *x = *(struct pod_info *const *)a, *y = *(struct pod_info *const *)b;
        int c = strcmp(x->uuid, y->uuid);

        if (c != 0)
                return c;
        return (int)x->phase - (int)y->phase;
}

static int cmp_created(const void *a, const void *b) {
        const struct pod_info *x = *(struct pod_info *const *)a, *y = *(struct pod_info *const *)b;

        if (x->created.tv_sec != y->created.tv_sec)
                return x->created.tv_sec < y->created.tv_sec ? -1 : 1;
        if (x->created.tv_nsec != y->created.tv_nsec)
                return x->created.tv_nsec < y->created.tv_nsec ? -1 : 1;
        return strcmp(x->uuid, y->uuid);
}

int pod_info_list(int pods_fd, unsigned flags, struct pod_info ***ret, size_t *ret_n) {
        struct pod_info **l = NULL;
        size_t n = 0, alloc = 0, m = 0;
        int r;

        for (int p = 0; p < _POD_PHASE_MAX; p++) {
                r = list_phase(pods_fd, (enum pod_phase)p, flags, &l, &n, &alloc);
                if (r < 0) {
                        pod_info_list_free(l, n);
                        return r;
                }
        }

        /* Seen twice = moved forward while we read: keep the later phase. */
        if (n > 1)
                qsort(l, n, sizeof(*l), cmp_uuid_phase);
        for (size_t k = 0; k < n; k++) {
                if (k + 1 < n && streq(l[k]->uuid, l[k + 1]->uuid)) {
                        (void)pod_info_free(l[k]);
                        continue;
                }
                l[m++] = l[k];
        }
        if (m > 1)
                qsort(l, m, sizeof(*l), cmp_created);

        *ret = l;
        *ret_n = m;
        return 0;
}

static int64_t timespec_ns(struct timespec t) {
        return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int add(struct json_object *o, const char *key, struct json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                (void)json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int append(struct json_object *a, struct json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                (void)json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int add_string_or_null(struct json_object *o, const char *key, const char *s) {
        if (!s)
                return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
        return add(o, key, json_object_new_string(s));
}

/* rkt's App.state for a pod whose apps all start and stop with it (lib/app.go in rkt). */
static const char *app_state(const struct pod_info *i, const struct pod_info_app *a) {
        if (a->has_exit_code)
                return "exited";
        switch (i->state) {
        case POD_STATE_PREPARED:
                return "created";
        case POD_STATE_RUNNING:
                return "running";
        case POD_STATE_EXITED:
        case POD_STATE_EXITED_GARBAGE:
        case POD_STATE_DELETING:
        case POD_STATE_GARBAGE:
                return "exited";
        default:
                return "unknown";
        }
}

/* A string map, left out when empty (rkt's omitempty). */
static int add_map(struct json_object *o, const char *key, const struct pod_kv *kv, size_t n) {
        struct json_object *m;
        int r;

        if (n == 0)
                return 0;
        r = add(o, key, m = json_object_new_object());
        for (size_t k = 0; r >= 0 && k < n; k++)
                r = add(m, kv[k].name, json_object_new_string(kv[k].value ?: ""));
        return r;
}

static const struct pod_runtime_app *manifest_app(const struct pod_pod_manifest *m,
                                                  const char *name) {
        if (!m)
                return NULL;
        for (size_t k = 0; k < m->n_apps; k++)
                if (streq(m->apps[k].name, name))
                        return &m->apps[k];
        return NULL;
}

/* rkt's App.mounts: each mount with its host path and read-only flag taken from the inline
 * app volume, else from the pod volume it names. */
static int add_mounts(struct json_object *a, const struct pod_pod_manifest *m,
                      const struct pod_runtime_app *ra) {
        struct json_object *l = NULL;
        int r;

        if (!ra || ra->n_mounts == 0)
                return 0;
        r = add(a, "mounts", l = json_object_new_array());
        for (size_t k = 0; r >= 0 && k < ra->n_mounts; k++) {
                const struct pod_mount *mt = &ra->mounts[k];
                const struct pod_volume *v = mt->app_volume;
                struct json_object *o = json_object_new_object();

                for (size_t j = 0; !v && j < m->n_volumes; j++)
                        if (streq(m->volumes[j].name, mt->volume))
                                v = &m->volumes[j];
                r = append(l, o);
                if (r >= 0)
                        r = add(o, "name", json_object_new_string(mt->volume));
                if (r >= 0)
                        r = add(o, "container_path", json_object_new_string(mt->path));
                if (r >= 0)
                        r = add(o, "host_path",
                                json_object_new_string(v && v->source ? v->source : ""));
                if (r >= 0)
                        r = add(o, "read_only", json_object_new_boolean(v && v->read_only));
        }
        return r;
}

static int app_to_object(const struct pod_info *i, const struct pod_info_app *ia,
                         struct json_object *a) {
        const struct pod_runtime_app *ra = manifest_app(i->manifest, ia->name);
        int r;

        r = add(a, "name", json_object_new_string(ia->name));
        if (r >= 0)
                r = add(a, "state", json_object_new_string(app_state(i, ia)));
        if (r >= 0 && i->created.tv_sec != 0)
                r = add(a, "created_at", json_object_new_int64(timespec_ns(i->created)));
        if (r >= 0 && i->started.tv_sec != 0)
                r = add(a, "started_at", json_object_new_int64(timespec_ns(i->started)));
        if (r >= 0 && ia->finished.tv_sec != 0)
                r = add(a, "finished_at", json_object_new_int64(timespec_ns(ia->finished)));
        if (r >= 0 && ia->has_exit_code)
                r = add(a, "exit_code", json_object_new_int(ia->exit_code));
        if (r >= 0)
                r = add(a, "image_id", json_object_new_string(ia->image_id ?: ""));
        if (r >= 0)
                r = add_mounts(a, i->manifest, ra);
        if (r >= 0 && ra && ra->app)
                r = add_map(a, "user_annotations", ra->app->user_annotations,
                            ra->app->n_user_annotations);
        if (r >= 0 && ra && ra->app)
                r = add_map(a, "user_labels", ra->app->user_labels, ra->app->n_user_labels);
        /* pod's own */
        if (r >= 0)
                r = add_string_or_null(a, "image_name", ia->image_name);
        if (r >= 0 && ia->provenance)
                r = add(a, "provenance", pod_provenance_to_json(ia->provenance));
        return r;
}

/* rkt's NetInfo: every field a string, always present ("" when unknown). */
static int net_to_object(const struct pod_info_net *n, struct json_object *o) {
        const char *fields[][2] = {
                { "netName", n->name },  { "netConf", n->conf }, { "pluginPath", n->plugin },
                { "ifName", n->ifname }, { "ip", n->ip },        { "args", n->args },
                { "mask", n->mask },
        };
        int r = 0;

        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(fields); k++)
                r = add(o, fields[k][0], json_object_new_string(fields[k][1] ?: ""));
        /* pod's own: rkt kept the gateway but never printed it */
        if (r >= 0 && n->host_ip)
                r = add(o, "hostIP", json_object_new_string(n->host_ip));
        return r;
}

static int info_to_object(const struct pod_info *i, struct json_object **ret) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        struct json_object *l = NULL;
        bool exited = (i->phase == POD_PHASE_RUN && i->state == POD_STATE_EXITED) ||
                      i->phase == POD_PHASE_EXITED_GARBAGE;
        int r;

        if (!o)
                return -ENOMEM;
        /* rkt's fields first, in rkt's order (api/v1/json.go in rkt) */
        r = add(o, "name", json_object_new_string(i->uuid));
        if (r >= 0)
                r = add(o, "state", json_object_new_string(pod_state_to_string(i->state)));
        if (r >= 0 && i->n_nets > 0)
                r = add(o, "networks", l = json_object_new_array());
        for (size_t k = 0; r >= 0 && k < i->n_nets; k++) {
                struct json_object *n = json_object_new_object();

                r = append(l, n);
                if (r >= 0)
                        r = net_to_object(&i->nets[k], n);
        }
        if (r >= 0 && i->n_apps > 0)
                r = add(o, "app_names", l = json_object_new_array());
        for (size_t k = 0; r >= 0 && k < i->n_apps; k++)
                r = append(l, json_object_new_string(i->apps[k].name));
        if (r >= 0 && i->n_apps > 0)
                r = add(o, "apps", l = json_object_new_array());
        for (size_t k = 0; r >= 0 && k < i->n_apps; k++) {
                struct json_object *a = json_object_new_object();

                r = append(l, a);
                if (r >= 0)
                        r = app_to_object(i, &i->apps[k], a);
        }
        /* the pod's times in seconds: rkt's lib/pod.go used Unix(), its apps UnixNano() */
        if (r >= 0 && i->created.tv_sec != 0)
                r = add(o, "created_at", json_object_new_int64((int64_t)i->created.tv_sec));
        if (r >= 0 && i->started.tv_sec != 0)
                r = add(o, "started_at", json_object_new_int64((int64_t)i->started.tv_sec));
        if (r >= 0 && i->manifest)
                r = add_map(o, "user_annotations", i->manifest->user_annotations,
                            i->manifest->n_user_annotations);
        if (r >= 0 && i->manifest)
                r = add_map(o, "user_labels", i->manifest->user_labels, i->manifest->n_user_labels);
        /* pod's own */
        if (r >= 0)
                r = add(o, "phase", json_object_new_string(pod_phase_to_string(i->phase)));
        if (r >= 0 && i->pid > 0)
                r = add(o, "pid", json_object_new_int(i->pid));
        if (r >= 0)
                r = add_string_or_null(o, "unit", i->unit);
        if (r >= 0)
                r = add(o, "exited", json_object_new_boolean(exited));
        if (r >= 0 && i->private_users_count > 0) {
                struct json_object *pu = json_object_new_object();

                r = add(o, "private_users", pu);
                if (r >= 0)
                        r = add(pu, "base", json_object_new_int64(i->private_users_base));
                if (r >= 0)
                        r = add(pu, "count", json_object_new_int64(i->private_users_count));
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int to_text(struct json_object *o, bool pretty, char **ret) {
        const char *s;
        int fl = JSON_C_TO_STRING_NOSLASHESCAPE;

        /* rkt indented with tabs (Go's json.MarshalIndent(v, "", "\t")) */
        fl |= pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB |
                               JSON_C_TO_STRING_SPACED
                     : JSON_C_TO_STRING_PLAIN;
        s = json_object_to_json_string_ext(o, fl);
        if (!s)
                return -ENOMEM;
        *ret = pod_json_escape_unsafe(s); /* no DEL, C1 or bidi control raw */
        return *ret ? 0 : -ENOMEM;
}

int pod_info_to_json(const struct pod_info *i, bool pretty, char **ret) {
        _cleanup_json_ struct json_object *o = NULL;
        int r;

        r = info_to_object(i, &o);
        if (r < 0)
                return r;
        return to_text(o, pretty, ret);
}

int pod_info_list_to_json(struct pod_info *const *l, size_t n, bool pretty, char **ret) {
        _cleanup_json_ struct json_object *a = json_object_new_array();
        int r;

        if (!a)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                struct json_object *o = NULL;

                r = info_to_object(l[k], &o);
                if (r < 0)
                        return r;
                r = append(a, o);
                if (r < 0)
                        return r;
        }
        return to_text(a, pretty, ret);
}

int pod_info_manifest_text(int fd, bool pretty, char **ret, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ struct json_object *root = NULL;
        size_t size = 0;
        int r;

        r = pod_poddir_read_manifest(fd, &text, &size);
        if (r == -ENOENT)
                return pod_error_set(reterr, r, "The pod has no manifest yet");
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the pod manifest: %s",
                                     strerror(-r));
        r = pod_json_parse(text, size, POD_PODDIR_MANIFEST_MAX, &root, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "The pod manifest is not valid JSON");
        if (!pretty) {
                *ret = TAKE_PTR(text);
                return 0;
        }
        r = to_text(root, true, ret);
        if (r < 0)
                return pod_error_set(reterr, r, "Out of memory");
        return 0;
}
