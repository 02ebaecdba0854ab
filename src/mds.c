/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "hmac-sha512.h"
#include "macro.h"
#include "mds.h"
#include "uuid.h"

#define CT_TEXT "text/plain; charset=us-ascii"
#define CT_JSON "application/json"

static const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);

        return strneq(s, prefix, n) ? s + n : NULL;
}

void pod_mds_request_done(struct pod_mds_request *req) {
        if (!req)
                return;
        free(req->path);
        free(req->body);
        req->path = req->body = NULL;
        req->body_size = 0;
}

static bool header_is(const char *line, size_t n, const char *name, const char **ret_value,
                      size_t *ret_size) {
        size_t k = strlen(name);

        if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
                return false;
        line += k + 1;
        n -= k + 1;
        while (n > 0 && (*line == ' ' || *line == '\t'))
                line++, n--;
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
                n--;
        *ret_value = line;
        *ret_size = n;
        return true;
}

static bool value_is(const char *v, size_t n, const char *want) {
        return n == strlen(want) && strncasecmp(v, want, n) == 0;
}

int pod_mds_request_parse(const char *buf, size_t size, struct pod_mds_request *ret) {
        struct pod_mds_request req = {};
        const char *end, *p, *sp, *eol, *target;
        size_t head, length = 0, tn;
        bool has_length = false;

        /* Headers end with an empty line (CRLF; a bare LF is tolerated, RFC 9112 2.2). */
        end = NULL;
        for (size_t i = 0; i + 1 < size && !end; i++)
                if (buf[i] == '\n' && buf[i + 1] == '\n')
                        end = buf + i + 2;
                else if (buf[i] == '\n' && i + 2 < size && buf[i + 1] == '\r' && buf[i + 2] == '\n')
                        end = buf + i + 3;
        if (!end)
                return size >= POD_MDS_REQUEST_MAX ? -EMSGSIZE : -EAGAIN;
        head = (size_t)(end - buf);
        if (memchr(buf, 0, head))
                return -EBADMSG;

        /* Request line: METHOD SP request-target SP HTTP/1.x */
        eol = memchr(buf, '\n', head);
        sp = memchr(buf, ' ', (size_t)(eol - buf));
        if (!sp)
                return -EBADMSG;
        if ((size_t)(sp - buf) == 3 && strneq(buf, "GET", 3))
                req.method = POD_MDS_GET;
        else if ((size_t)(sp - buf) == 4 && strneq(buf, "POST", 4))
                req.method = POD_MDS_POST;
        else if (sp == buf)
                return -EBADMSG;
        else
                return -EOPNOTSUPP;
        target = sp + 1;
        sp = memchr(target, ' ', (size_t)(eol - target));
        if (!sp || *target != '/')
                return -EBADMSG;
        p = sp + 1;
        tn = (size_t)(eol - p);
        if (tn > 0 && p[tn - 1] == '\r')
                tn--;
        if (!(tn == 8 && (strneq(p, "HTTP/1.1", 8) || strneq(p, "HTTP/1.0", 8))))
                return -EBADMSG;
        tn = strcspn(target, "? ");
        for (size_t i = 0; i < tn; i++)
                if ((unsigned char)target[i] <= ' ' || (unsigned char)target[i] >= 0x7f)
                        return -EBADMSG;

        /* Headers. */
        for (p = eol + 1; p < end;) {
                const char *v;
                size_t n, vn;

                eol = memchr(p, '\n', (size_t)(end - p));
                n = (size_t)(eol - p);
                if (n > 0 && p[n - 1] == '\r')
                        n--;
                if (n == 0)
                        break;
                if (*p == ' ' || *p == '\t') /* obsolete line folding (RFC 9112 5.2) */
                        return -EBADMSG;
                if (!memchr(p, ':', n))
                        return -EBADMSG;
                if (header_is(p, n, "Metadata-Flavor", &v, &vn))
                        req.flavor = vn == strlen("AppContainer") && strneq(v, "AppContainer", vn);
                else if (header_is(p, n, "Content-Type", &v, &vn)) {
                        /* The buffer is not NUL-terminated: bounded by the value. */
                        const char *semi = memchr(v, ';', vn);
                        size_t k = semi ? (size_t)(semi - v) : vn;

                        req.form = value_is(v, k, "application/x-www-form-urlencoded");
                } else if (header_is(p, n, "Transfer-Encoding", &v, &vn))
                        return -EOPNOTSUPP;
                else if (header_is(p, n, "Content-Length", &v, &vn)) {
                        size_t l = 0;

                        if (vn == 0 || vn > 6 || has_length)
                                return -EBADMSG;
                        for (size_t i = 0; i < vn; i++) {
                                if (v[i] < '0' || v[i] > '9')
                                        return -EBADMSG;
                                l = l * 10 + (size_t)(v[i] - '0');
                        }
                        length = l;
                        has_length = true;
                }
                p = eol + 1;
        }
        if (length > POD_MDS_REQUEST_MAX || head + length > POD_MDS_REQUEST_MAX)
                return -EMSGSIZE;
        if (size < head + length)
                return -EAGAIN;

        req.path = strndup(target, tn);
        req.body = malloc(length + 1);
        if (!req.path || !req.body) {
                pod_mds_request_done(&req);
                return -ENOMEM;
        }
        memcpy(req.body, end, length);
        req.body[length] = 0;
        req.body_size = length;
        *ret = req;
        return 0;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int form_decode(const char *s, size_t n, char **ret) {
        _cleanup_free_ char *out = malloc(n + 1);
        size_t o = 0;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '+')
                        c = ' ';
                else if (c == '%') {
                        int hi, lo;

                        if (i + 2 >= n)
                                return -EBADMSG;
                        hi = unhex(s[i + 1]);
                        lo = unhex(s[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EBADMSG;
                        c = (char)(hi << 4 | lo);
                        i += 2;
                }
                if (c == 0)
                        return -EBADMSG;
                out[o++] = c;
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int pod_mds_form_get(const char *body, size_t size, const char *key, char **ret) {
        size_t kn = strlen(key);

        for (size_t i = 0; i < size;) {
                const char *f = body + i, *amp = memchr(f, '&', size - i), *eq;
                size_t fn = amp ? (size_t)(amp - f) : size - i;

                eq = memchr(f, '=', fn);
                if (eq && (size_t)(eq - f) == kn && strneq(f, key, kn))
                        return form_decode(eq + 1, fn - kn - 1, ret);
                if (!eq && fn == kn && strneq(f, key, kn))
                        return form_decode("", 0, ret);
                i += fn + 1;
        }
        return -ENOENT;
}

/* A growing buffer for one response body. */
struct buf {
        char *data;
        size_t size, alloc;
        bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n) {
        if (b->oom)
                return;
        if (b->size + n + 1 > b->alloc) {
                size_t a = (b->size + n + 1) * 2;
                char *t = realloc(b->data, a);

                if (!t) {
                        b->oom = true;
                        return;
                }
                b->data = t;
                b->alloc = a;
        }
        memcpy(b->data + b->size, s, n);
        b->size += n;
        b->data[b->size] = 0;
}

static void buf_str(struct buf *b, const char *s) {
        buf_add(b, s, strlen(s));
}

static void buf_json_string(struct buf *b, const char *s) {
        buf_str(b, "\"");
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                char esc[8];

                if (c == '"' || c == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)c;
                        buf_add(b, esc, 2);
                } else if (c < 0x20) {
                        (void)snprintf(esc, sizeof(esc), "\\u%04x", c);
                        buf_str(b, esc);
                } else
                        buf_add(b, (const char *)&c, 1);
        }
        buf_str(b, "\"");
}

static int respond(int status, const char *content_type, const char *extra, const char *body,
                   size_t size, char **ret, size_t *ret_size) {
        const char *reason = status == 200   ? "OK"
                             : status == 400 ? "Bad Request"
                             : status == 403 ? "Forbidden"
                             : status == 404 ? "Not Found"
                             : status == 405 ? "Method Not Allowed"
                             : status == 413 ? "Content Too Large"
                             : status == 501 ? "Not Implemented"
                                             : "Internal Server Error";
        char *out;
        int n;

        n = asprintf(&out,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, reason, content_type, size, extra ?: "");
        if (n < 0)
                return -ENOMEM;
        if (size > 0) {
                char *t = realloc(out, (size_t)n + size);

                if (!t) {
                        free(out);
                        return -ENOMEM;
                }
                out = t;
                memcpy(out + n, body, size);
        }
        *ret = out;
        *ret_size = (size_t)n + size;
        return 0;
}

static int respond_text(int status, const char *text, char **ret, size_t *ret_size) {
        return respond(status, CT_TEXT, NULL, text, strlen(text), ret, ret_size);
}

int pod_mds_error_response(int parse_error, char **ret, size_t *ret_size) {
        switch (parse_error) {
        case -EMSGSIZE:
                return respond_text(413, "Request too large\n", ret, ret_size);
        case -EOPNOTSUPP:
                return respond_text(501, "Only GET and POST are implemented\n", ret, ret_size);
        default:
                return respond_text(400, "Bad request\n", ret, ret_size);
        }
}

/* Annotations: later entries (the pod manifest's app annotations) override earlier ones
 * (the image's), keeping the first position (rkt's mergeAppAnnotations()). */
static const char *kv_lookup(const struct pod_kv *a, size_t n, const char *name) {
        for (size_t i = n; i > 0; i--)
                if (streq(a[i - 1].name, name))
                        return a[i - 1].value;
        return NULL;
}

struct kv_list {
        const struct pod_kv *a, *b;
        size_t na, nb;
};

static const char *kv_get(const struct kv_list *l, const char *name) {
        return kv_lookup(l->b, l->nb, name) ?: kv_lookup(l->a, l->na, name);
}

/* Each name once, in first-appearance order. */
static bool kv_first(const struct kv_list *l, size_t i) {
        const struct pod_kv *e = i < l->na ? &l->a[i] : &l->b[i - l->na];

        for (size_t j = 0; j < i; j++)
                if (streq((j < l->na ? &l->a[j] : &l->b[j - l->na])->name, e->name))
                        return false;
        return true;
}

static int respond_annotations(const struct kv_list *l, const char *rest, char **ret,
                               size_t *ret_size) {
        struct buf b = {};
        int r;

        if (!rest || streq(rest, "/")) {
                /* "annotations": the spec's JSON array; "annotations/": rkt's (and the
                 * older spec's) list of names, one a line. */
                bool json = !rest;

                if (json)
                        buf_str(&b, "[");
                for (size_t i = 0, k = 0; i < l->na + l->nb; i++) {
                        const char *name = (i < l->na ? &l->a[i] : &l->b[i - l->na])->name;

                        if (!kv_first(l, i))
                                continue;
                        if (!json) {
                                buf_str(&b, name);
                                buf_str(&b, "\n");
                                continue;
                        }
                        buf_str(&b, k++ > 0 ? ",{\"name\":" : "{\"name\":");
                        buf_json_string(&b, name);
                        buf_str(&b, ",\"value\":");
                        buf_json_string(&b, kv_get(l, name));
                        buf_str(&b, "}");
                }
                if (json)
                        buf_str(&b, "]");
                if (b.oom) {
                        free(b.data);
                        return -ENOMEM;
                }
                r = respond(200, json ? CT_JSON : CT_TEXT, NULL, b.data ?: "", b.size, ret,
                            ret_size);
                free(b.data);
                return r;
        }
        if (rest[0] == '/' && !strchr(rest + 1, '/')) {
                const char *v = kv_get(l, rest + 1);

                if (v)
                        return respond(200, CT_TEXT, NULL, v, strlen(v), ret, ret_size);
                return respond_text(404, "Annotation not found\n", ret, ret_size);
        }
        return respond_text(404, "Not found\n", ret, ret_size);
}

static int respond_get(const struct pod_mds *m, const char *path, char **ret, size_t *ret_size) {
        const char *rest;

        if (streq(path, "pod/manifest"))
                return respond(200, CT_JSON, NULL, m->pod_manifest, strlen(m->pod_manifest), ret,
                               ret_size);
        if (streq(path, "pod/uuid"))
                return respond(200, CT_TEXT, NULL, m->uuid, strlen(m->uuid), ret, ret_size);
        rest = startswith(path, "pod/annotations");
        if (rest) {
                struct kv_list l = { .a = m->annotations, .na = m->n_annotations };

                return respond_annotations(&l, *rest ? rest : NULL, ret, ret_size);
        }
        rest = startswith(path, "apps/");
        if (rest) {
                size_t n = strcspn(rest, "/");

                for (size_t i = 0; i < m->n_apps; i++) {
                        const struct pod_mds_app *a = &m->apps[i];
                        const char *sub;

                        if (strlen(a->name) != n || !strneq(a->name, rest, n))
                                continue;
                        sub = rest + n;
                        if (streq(sub, "/image/manifest"))
                                return respond(200, CT_JSON, NULL, a->image_manifest,
                                               strlen(a->image_manifest), ret, ret_size);
                        if (streq(sub, "/image/id"))
                                return respond(200, CT_TEXT, NULL, a->image_id, strlen(a->image_id),
                                               ret, ret_size);
                        sub = startswith(sub, "/annotations");
                        if (sub) {
                                struct kv_list l = {
                                        .a = a->image_annotations,
                                        .na = a->n_image_annotations,
                                        .b = a->annotations,
                                        .nb = a->n_annotations,
                                };

                                return respond_annotations(&l, *sub ? sub : NULL, ret, ret_size);
                        }
                        break;
                }
                return respond_text(404, "Not found\n", ret, ret_size);
        }
        return respond_text(404, "Not found\n", ret, ret_size);
}

static int respond_post(const struct pod_mds *m, const struct pod_mds_request *req,
                        const char *path, char **ret, size_t *ret_size) {
        _cleanup_free_ char *content = NULL, *uuid = NULL, *sig = NULL, *signature = NULL;
        int r;

        if (!req->form)
                return respond_text(400, "Expected application/x-www-form-urlencoded\n", ret,
                                    ret_size);
        r = pod_mds_form_get(req->body, req->body_size, "content", &content);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return respond_text(400, "Missing or malformed form field 'content'\n", ret,
                                    ret_size);
        if (streq(path, "pod/hmac/sign")) {
                r = pod_mds_sign(m->key, m->uuid, content, strlen(content), &signature);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return respond_text(500, "Failed to sign\n", ret, ret_size);
                return respond(200, CT_TEXT, NULL, signature, strlen(signature), ret, ret_size);
        }
        /* The spec's field is "uuid"; rkt's service read "uid". */
        r = pod_mds_form_get(req->body, req->body_size, "uuid", &uuid);
        if (r == -ENOENT)
                r = pod_mds_form_get(req->body, req->body_size, "uid", &uuid);
        if (r >= 0)
                r = pod_mds_form_get(req->body, req->body_size, "signature", &sig);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return respond_text(400,
                                    "Missing or malformed form field 'uuid' or "
                                    "'signature'\n",
                                    ret, ret_size);
        if (pod_mds_verify(m->key, uuid, content, strlen(content), sig) > 0)
                return respond_text(200, "OK\n", ret, ret_size);
        return respond_text(403, "Signature does not verify\n", ret, ret_size);
}

int pod_mds_respond(const struct pod_mds *m, const struct pod_mds_request *req, char **ret,
                    size_t *ret_size) {
        const char *path = req->path, *rest;
        bool post_path;

        /* "/<token>/acMetadata/v1/...": the token is the pod's AC_METADATA_URL secret. */
        if (path[0] != '/' || strlen(path + 1) < POD_MDS_TOKEN_SIZE ||
            !strneq(path + 1, m->token, POD_MDS_TOKEN_SIZE))
                return respond_text(404, "Not found\n", ret, ret_size);
        rest = startswith(path + 1 + POD_MDS_TOKEN_SIZE, "/acMetadata/v1/");
        if (!rest)
                return respond_text(404, "Not found\n", ret, ret_size);
        /* rkt's service routed only requests with this header (ace.md: clients send it). */
        if (!req->flavor)
                return respond_text(403, "Metadata-Flavor: AppContainer required\n", ret, ret_size);
        post_path = streq(rest, "pod/hmac/sign") || streq(rest, "pod/hmac/verify");
        if (post_path != (req->method == POD_MDS_POST)) {
                if (post_path)
                        return respond(405, CT_TEXT, "Allow: POST\r\n", "Use POST\n", 9, ret,
                                       ret_size);
                return respond(405, CT_TEXT, "Allow: GET\r\n", "Use GET\n", 8, ret, ret_size);
        }
        if (post_path)
                return respond_post(m, req, rest, ret, ret_size);
        return respond_get(m, rest, ret, ret_size);
}

static char *base64(const unsigned char *in, size_t n) {
        static const char tab[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned)in[i] << 16;

                if (i + 1 < n)
                        v |= (unsigned)in[i + 1] << 8;
                if (i + 2 < n)
                        v |= in[i + 2];
                *o++ = tab[(v >> 18) & 63];
                *o++ = tab[(v >> 12) & 63];
                *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
                *o++ = i + 2 < n ? tab[v & 63] : '=';
        }
        *o = 0;
        return out;
}

int pod_mds_sign(const uint8_t key[POD_MDS_KEY_SIZE], const char *uuid, const char *content,
                 size_t size, char **ret) {
        _cleanup_free_ unsigned char *msg = NULL;
        uint8_t md[POD_HMAC_SHA512_SIZE];
        struct pod_uuid u;
        char *s;
        int r;

        r = pod_uuid_parse(uuid, &u);
        if (r < 0)
                return r;
        msg = malloc(sizeof(u.bytes) + size + 1);
        if (!msg)
                return -ENOMEM;
        memcpy(msg, u.bytes, sizeof(u.bytes));
        memcpy(msg + sizeof(u.bytes), content, size);
        /* Our own HMAC-SHA-512 (hmac-sha512.h): the server signs without libcrypto. */
        pod_hmac_sha512(key, POD_MDS_KEY_SIZE, msg, sizeof(u.bytes) + size, md);
        s = base64(md, sizeof(md));
        explicit_bzero(md, sizeof(md));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int pod_mds_verify(const uint8_t key[POD_MDS_KEY_SIZE], const char *uuid, const char *content,
                   size_t size, const char *signature) {
        _cleanup_free_ char *want = NULL;
        unsigned char diff = 0;
        size_t n;
        int r;

        r = pod_mds_sign(key, uuid, content, size, &want);
        if (r == -EINVAL)
                return 0;
        if (r < 0)
                return r;
        n = strlen(want);
        if (strlen(signature) != n)
                return 0;
        for (size_t i = 0; i < n; i++)
                diff |= (unsigned char)(want[i] ^ signature[i]);
        return diff == 0;
}

int pod_mds_key_read(int fd, uint8_t ret[POD_MDS_KEY_SIZE], struct pod_error *reterr) {
        uint8_t key[POD_MDS_KEY_SIZE];
        struct stat st;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to stat the signing key: %m");
        if (!S_ISREG(st.st_mode) || st.st_size != POD_MDS_KEY_SIZE)
                return pod_error_set(reterr, -EBADMSG, "The signing key is not a file of %d bytes",
                                     POD_MDS_KEY_SIZE);
        if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
                return pod_error_set(reterr, -EPERM,
                                     "The signing key must be ours and accessible to nobody "
                                     "else (mode 0600)");
        n = pread(fd, key, sizeof(key), 0);
        if (n < 0)
                return pod_error_set(reterr, -errno, "Failed to read the signing key: %m");
        if (n != (ssize_t)sizeof(key))
                return pod_error_set(reterr, -EBADMSG, "Short read of the signing key");
        memcpy(ret, key, sizeof(key));
        explicit_bzero(key, sizeof(key));
        return 0;
}

int pod_mds_key_open(int dir_fd, struct pod_error *reterr) {
        uint8_t key[POD_MDS_KEY_SIZE];
        char tmp[64];
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = openat(dir_fd, POD_MDS_KEY_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd >= 0)
                return TAKE_FD(fd);
        if (errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", POD_MDS_KEY_FILE);

        /* First use: written completely under a temporary name, then linked in place
         * without replacing: two pods starting at once end up with the same key. */
        if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
                return pod_error_set(reterr, errno > 0 ? -errno : -EIO,
                                     "Failed to generate the signing key: %m");
        (void)snprintf(tmp, sizeof(tmp), ".%s.%d", POD_MDS_KEY_FILE, (int)getpid());
        (void)unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                explicit_bzero(key, sizeof(key));
                return pod_error_set(reterr, -errno, "Failed to create the signing key: %m");
        }
        r = fchmod(fd, 0600) < 0 ? -errno : 0;
        if (r >= 0 && write(fd, key, sizeof(key)) != (ssize_t)sizeof(key))
                r = errno > 0 ? -errno : -EIO;
        explicit_bzero(key, sizeof(key));
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        fd = safe_close(fd);
        if (r >= 0 && linkat(dir_fd, tmp, dir_fd, POD_MDS_KEY_FILE, 0) < 0 && errno != EEXIST)
                r = -errno;
        (void)unlinkat(dir_fd, tmp, 0);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create the signing key: %m");
        fd = openat(dir_fd, POD_MDS_KEY_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", POD_MDS_KEY_FILE);
        return TAKE_FD(fd);
}
