/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metadata service's data as one blob (mds-pack.h).  Layout, integers in host byte
 * order (packer and unpacker are the same build on the same host):
 *
 *   "PODMDS\0\1"  key[POD_MDS_KEY_SIZE]
 *   str token  str uuid  str pod-manifest  kvs pod-annotations
 *   u32 n-apps, then per app: str name  str image-id  str image-manifest
 *                             kvs image-annotations  kvs app-annotations
 *
 * where str is a u32 length, that many bytes without a NUL, then a NUL; kvs is a u32 count,
 * then count pairs of str.  Unpacking walks the blob twice: once to check it and count the
 * apps and pairs, once to fill the arrays, so no count read from the blob sizes an
 * allocation before the bytes behind it were seen. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "mds-pack.h"
#include "uuid.h"

static const char magic[8] = { 'P', 'O', 'D', 'M', 'D', 'S', 0, 1 };

/* Written twice: first with p NULL, only counting, then into a buffer of exactly that
 * size, so the key is never left behind in a buffer that realloc() gave up. */
struct out {
        char *p;
        size_t n;
};

static void put(struct out *o, const void *d, size_t n) {
        if (o->p)
                memcpy(o->p + o->n, d, n);
        o->n += n;
}

static void put_u32(struct out *o, uint32_t v) {
        put(o, &v, sizeof(v));
}

static int put_str(struct out *o, const char *s) {
        size_t n;

        if (!s)
                return -EINVAL;
        n = strlen(s);
        if (n >= POD_MDS_PACK_MAX)
                return -EINVAL;
        put_u32(o, (uint32_t)n);
        put(o, s, n + 1);
        return 0;
}

static int put_kvs(struct out *o, const struct pod_kv *kv, size_t n) {
        int r;

        if (n > UINT32_MAX || (n > 0 && !kv))
                return -EINVAL;
        put_u32(o, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
                r = put_str(o, kv[i].name);
                if (r >= 0)
                        r = put_str(o, kv[i].value);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* One pass: counts (o->p NULL) or writes. */
static int pack(const struct pod_mds *m, struct out *o) {
        int r;

        put(o, magic, sizeof(magic));
        put(o, m->key, sizeof(m->key));
        r = put_str(o, m->token);
        if (r >= 0)
                r = put_str(o, m->uuid);
        if (r >= 0)
                r = put_str(o, m->pod_manifest);
        if (r >= 0)
                r = put_kvs(o, m->annotations, m->n_annotations);
        if (r >= 0 && (m->n_apps > UINT32_MAX || (m->n_apps > 0 && !m->apps)))
                r = -EINVAL;
        if (r >= 0)
                put_u32(o, (uint32_t)m->n_apps);
        for (size_t i = 0; r >= 0 && i < m->n_apps; i++) {
                const struct pod_mds_app *a = &m->apps[i];

                r = put_str(o, a->name);
                if (r >= 0)
                        r = put_str(o, a->image_id);
                if (r >= 0)
                        r = put_str(o, a->image_manifest);
                if (r >= 0)
                        r = put_kvs(o, a->image_annotations, a->n_image_annotations);
                if (r >= 0)
                        r = put_kvs(o, a->annotations, a->n_annotations);
        }
        return r;
}

int pod_mds_pack(const struct pod_mds *m, char **ret, size_t *ret_size) {
        struct out o = {};
        size_t size;
        int r;

        r = pack(m, &o);
        if (r < 0)
                return r;
        if (o.n > POD_MDS_PACK_MAX)
                return -E2BIG;
        size = o.n;
        o = (struct out){ .p = malloc(size) };
        if (!o.p)
                return -ENOMEM;
        r = pack(m, &o);
        assert(r >= 0 && o.n == size);
        *ret = o.p;
        *ret_size = size;
        return 0;
}

/* The reader: pos moves through buf. */
struct in {
        char *buf;
        size_t size, pos;
        size_t n_kvs, n_apps; /* handed out so far (filling) or seen (counting) */
};

static int get_u32(struct in *in, uint32_t *ret) {
        if (in->size - in->pos < sizeof(uint32_t))
                return -EBADMSG;
        memcpy(ret, in->buf + in->pos, sizeof(uint32_t));
        in->pos += sizeof(uint32_t);
        return 0;
}

static int get_str(struct in *in, const char **ret) {
        uint32_t n;
        char *s;
        int r;

        r = get_u32(in, &n);
        if (r < 0)
                return r;
        if (n >= in->size - in->pos)
                return -EBADMSG;
        s = in->buf + in->pos;
        if (s[n] != 0 || memchr(s, 0, n))
                return -EBADMSG;
        in->pos += (size_t)n + 1;
        *ret = s;
        return 0;
}

static int get_kvs(struct in *in, struct pod_kv *kvs, const struct pod_kv **ret, size_t *ret_n) {
        size_t first = in->n_kvs;
        uint32_t n;
        int r;

        r = get_u32(in, &n);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < n; i++) {
                const char *name, *value;

                r = get_str(in, &name);
                if (r >= 0)
                        r = get_str(in, &value);
                if (r < 0)
                        return r;
                if (kvs)
                        kvs[in->n_kvs] =
                                (struct pod_kv){ .name = (char *)name, .value = (char *)value };
                in->n_kvs++;
        }
        *ret = kvs && n > 0 ? &kvs[first] : NULL;
        *ret_n = n;
        return 0;
}

/* One pass over the whole blob; with u's arrays NULL it only checks and counts. */
static int walk(struct in *in, struct pod_mds_unpacked *u) {
        struct pod_mds *m = &u->m;
        struct pod_uuid id;
        uint32_t n_apps;
        int r;

        in->pos = sizeof(magic) + sizeof(m->key);
        in->n_kvs = in->n_apps = 0;
        if ((r = get_str(in, &m->token)) < 0 || (r = get_str(in, &m->uuid)) < 0 ||
            (r = get_str(in, &m->pod_manifest)) < 0 ||
            (r = get_kvs(in, u->kvs, &m->annotations, &m->n_annotations)) < 0 ||
            (r = get_u32(in, &n_apps)) < 0)
                return r;
        if (strlen(m->token) != POD_MDS_TOKEN_SIZE ||
            strspn(m->token, "0123456789abcdef") != POD_MDS_TOKEN_SIZE ||
            pod_uuid_parse(m->uuid, &id) < 0)
                return -EBADMSG;
        for (uint32_t i = 0; i < n_apps; i++) {
                struct pod_mds_app a = {};

                if ((r = get_str(in, &a.name)) < 0 || (r = get_str(in, &a.image_id)) < 0 ||
                    (r = get_str(in, &a.image_manifest)) < 0 ||
                    (r = get_kvs(in, u->kvs, &a.image_annotations, &a.n_image_annotations)) < 0 ||
                    (r = get_kvs(in, u->kvs, &a.annotations, &a.n_annotations)) < 0)
                        return r;
                if (u->apps)
                        u->apps[i] = a;
                in->n_apps++;
        }
        if (in->pos != in->size)
                return -EBADMSG;
        m->apps = u->apps;
        m->n_apps = n_apps;
        return 0;
}

int pod_mds_unpack(const void *data, size_t size, struct pod_mds_unpacked **ret) {
        _cleanup_(pod_mds_unpacked_freep) struct pod_mds_unpacked *u = NULL;
        struct in in = { .size = size };
        int r;

        if (size > POD_MDS_PACK_MAX)
                return -E2BIG;
        if (size < sizeof(magic) + POD_MDS_KEY_SIZE || memcmp(data, magic, sizeof(magic)) != 0)
                return -EBADMSG;
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->buf = malloc(size);
        if (!u->buf)
                return -ENOMEM;
        memcpy(u->buf, data, size);
        in.buf = u->buf;
        memcpy(u->m.key, u->buf + sizeof(magic), sizeof(u->m.key));
        explicit_bzero(u->buf + sizeof(magic), sizeof(u->m.key));

        r = walk(&in, u);
        if (r < 0)
                return r;
        u->apps = calloc(in.n_apps ?: 1, sizeof(*u->apps));
        u->kvs = calloc(in.n_kvs ?: 1, sizeof(*u->kvs));
        if (!u->apps || !u->kvs)
                return -ENOMEM;
        r = walk(&in, u);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(u);
        return 0;
}

struct pod_mds_unpacked *pod_mds_unpacked_free(struct pod_mds_unpacked *u) {
        if (!u)
                return NULL;
        explicit_bzero(u->m.key, sizeof(u->m.key));
        free(u->buf);
        free(u->apps);
        free(u->kvs);
        free(u);
        return NULL;
}
