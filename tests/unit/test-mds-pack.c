/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metadata service's hand-over blob (src/mds-pack.h): what the pod init packs is what
 * the server unpacks, field for field; anything else (every truncation, a flipped length,
 * a NUL inside a string, trailing bytes, a bad token or UUID, counts larger than the blob
 * can hold) is refused without reading outside it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "mds-pack.h"
#include "tap.h"

#define TOKEN "0123456789abcdef0123456789abcdef"
#define UUID  "6f1b2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"

static const struct pod_kv pod_annots[] = { { (char *)"a", (char *)"1" },
                                            { (char *)"q", (char *)"say \"hi\"\n" } };
static const struct pod_kv img_annots[] = { { (char *)"x", (char *)"img" } };
static const struct pod_kv app_annots[] = { { (char *)"y", (char *)"pod" },
                                            { (char *)"z", (char *)"" } };
static const struct pod_mds_app apps[] = {
        { .name = "web",
          .image_id = "sha512-abc",
          .image_manifest = "{\"acKind\":\"ImageManifest\"}",
          .image_annotations = img_annots,
          .n_image_annotations = 1,
          .annotations = app_annots,
          .n_annotations = 2 },
        { .name = "db", .image_id = "sha512-def", .image_manifest = "{}" },
};

static bool kvs_equal(const struct pod_kv *a, size_t na, const struct pod_kv *b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (strcmp(a[i].name, b[i].name) != 0 || strcmp(a[i].value, b[i].value) != 0)
                        return false;
        return true;
}

static bool same(const struct pod_mds *a, const struct pod_mds *b) {
        if (strcmp(a->token, b->token) != 0 || strcmp(a->uuid, b->uuid) != 0 ||
            strcmp(a->pod_manifest, b->pod_manifest) != 0 ||
            memcmp(a->key, b->key, sizeof(a->key)) != 0 ||
            !kvs_equal(a->annotations, a->n_annotations, b->annotations, b->n_annotations) ||
            a->n_apps != b->n_apps)
                return false;
        for (size_t i = 0; i < a->n_apps; i++) {
                const struct pod_mds_app *x = &a->apps[i], *y = &b->apps[i];

                if (strcmp(x->name, y->name) != 0 || strcmp(x->image_id, y->image_id) != 0 ||
                    strcmp(x->image_manifest, y->image_manifest) != 0 ||
                    !kvs_equal(x->image_annotations, x->n_image_annotations, y->image_annotations,
                               y->n_image_annotations) ||
                    !kvs_equal(x->annotations, x->n_annotations, y->annotations, y->n_annotations))
                        return false;
        }
        return true;
}

static int unpack(const char *blob, size_t size) {
        _cleanup_(pod_mds_unpacked_freep) struct pod_mds_unpacked *u = NULL;
        /* An exact-size copy, so that ASan sees any read past the end. */
        _cleanup_free_ char *copy = malloc(size ?: 1);

        if (!copy)
                return -ENOMEM;
        memcpy(copy, blob, size);
        return pod_mds_unpack(copy, size, &u);
}

int main(void) {
        struct pod_mds m = {
                .token = TOKEN,
                .uuid = UUID,
                .pod_manifest = "{\"acKind\":\"PodManifest\"}",
                .annotations = pod_annots,
                .n_annotations = 2,
                .apps = apps,
                .n_apps = 2,
        };
        _cleanup_(pod_mds_unpacked_freep) struct pod_mds_unpacked *u = NULL;
        _cleanup_free_ char *blob = NULL;
        size_t size = 0, bad = 0;
        uint32_t huge = 0xffffffffu;
        char *b;
        int r;

        for (size_t i = 0; i < sizeof(m.key); i++)
                m.key[i] = (uint8_t)(i * 7 + 1);
        r = pod_mds_pack(&m, &blob, &size);
        tap_is_int(r, 0, "pack");
        r = pod_mds_unpack(blob, size, &u);
        tap_is_int(r, 0, "unpack");
        tap_ok(u && same(&m, &u->m), "what is unpacked is what was packed");
        tap_ok(u && memmem(u->buf, size, m.key, sizeof(m.key)) == NULL,
               "the unpacked copy keeps the key only in struct pod_mds");
        u = pod_mds_unpacked_free(u);

        /* No apps, no annotations. */
        {
                struct pod_mds e = { .token = TOKEN, .uuid = UUID, .pod_manifest = "{}" };
                _cleanup_free_ char *eb = NULL;
                size_t es = 0;

                r = pod_mds_pack(&e, &eb, &es);
                if (r >= 0)
                        r = pod_mds_unpack(eb, es, &u);
                tap_is_int(r, 0, "an empty pod packs and unpacks");
                tap_ok(u && same(&e, &u->m) && u->m.n_apps == 0 && u->m.n_annotations == 0,
                       "... with no apps and no annotations");
                u = pod_mds_unpacked_free(u);
        }

        for (size_t n = 0; n < size; n++)
                if (unpack(blob, n) != -EBADMSG)
                        bad++;
        tap_is_int((int)bad, 0, "every truncation is refused with -EBADMSG");

        b = malloc(size + 1);
        if (!b)
                return 1;
        memcpy(b, blob, size);
        b[size] = 0;
        tap_is_int(unpack(b, size + 1), -EBADMSG, "a trailing byte is refused");

        /* Every byte flipped in turn: whatever unpacks must be a whole blob of valid strings;
         * nothing may crash or read outside (ASan builds check that). */
        bad = 0;
        for (size_t i = 0; i < size; i++) {
                memcpy(b, blob, size);
                b[i] ^= 0x41;
                r = unpack(b, size);
                if (r != 0 && r != -EBADMSG)
                        bad++;
        }
        tap_is_int((int)bad, 0, "flipped bytes: unpacked or -EBADMSG, nothing else");

        /* The token's length field (right after magic and key) at 2^32-1. */
        memcpy(b, blob, size);
        memcpy(b + 8 + POD_MDS_KEY_SIZE, &huge, sizeof(huge));
        tap_is_int(unpack(b, size), -EBADMSG, "a length beyond the end is refused");
        memcpy(b, blob, size);
        b[0] = 'X';
        tap_is_int(unpack(b, size), -EBADMSG, "a wrong magic is refused");
        memcpy(b, blob, size);
        b[8 + POD_MDS_KEY_SIZE + 4 + 3] = 0;
        tap_is_int(unpack(b, size), -EBADMSG, "a NUL inside the token is refused");
        memcpy(b, blob, size);
        b[8 + POD_MDS_KEY_SIZE + 4 + 3] = 'G';
        tap_is_int(unpack(b, size), -EBADMSG, "a token that is not lowercase hex is refused");
        memcpy(b, blob, size);
        b[8 + POD_MDS_KEY_SIZE + 4 + 33 + 4 + 8] = 'x';
        tap_is_int(unpack(b, size), -EBADMSG, "a UUID that does not parse is refused");
        free(b);

        m.uuid = NULL;
        tap_is_int(pod_mds_pack(&m, &b, &size), -EINVAL, "a NULL string does not pack");
        tap_is_int(pod_mds_unpack(blob, POD_MDS_PACK_MAX + 1ul, &u), -E2BIG,
                   "a blob above POD_MDS_PACK_MAX is refused before it is read");
        return tap_done();
}
