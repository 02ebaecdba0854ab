/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idunshift.h"
#include "macro.h"

/* Kernel formats (linux/capability.h, linux/posix_acl_xattr.h), little endian on disk. */
#define CAP_NAME          "security.capability"
#define CAP_REVISION_MASK UINT32_C(0xFF000000)
#define CAP_REVISION_1    UINT32_C(0x01000000)
#define CAP_REVISION_2    UINT32_C(0x02000000)
#define CAP_REVISION_3    UINT32_C(0x03000000)
#define CAP_SIZE_1        12u
#define CAP_SIZE_2        20u
#define CAP_SIZE_3        24u
#define ACL_ACCESS_NAME   "system.posix_acl_access"
#define ACL_DEFAULT_NAME  "system.posix_acl_default"
#define ACL_XATTR_VERSION 2u
#define ACL_TAG_USER      0x02u
#define ACL_TAG_GROUP     0x08u
#define ACL_HEADER_SIZE   4u
#define ACL_ENTRY_SIZE    8u

int pod_idunshift_id(const struct pod_idmap *m, uint32_t id, uint32_t *ret) {
        if (!pod_idmap_contains(m, id))
                return -ERANGE;
        *ret = id - m->base;
        return 0;
}

static uint32_t get_le32(const unsigned char *p) {
        uint32_t v;

        memcpy(&v, p, sizeof(v));
        return le32toh(v);
}

static void put_le32(unsigned char *p, uint32_t v) {
        v = htole32(v);
        memcpy(p, &v, sizeof(v));
}

static uint16_t get_le16(const unsigned char *p) {
        uint16_t v;

        memcpy(&v, p, sizeof(v));
        return le16toh(v);
}

/* v1 and v2 capabilities are host root's (their root ID is 0): outside every pod's range.
 * A v3 capability's root ID is shifted; the pod's root (0 after the shift) is what a v2
 * capability means once the image runs anywhere, so it is written as one. */
static int unshift_caps(const struct pod_idmap *m, const unsigned char *v, size_t size, void **ret,
                        size_t *ret_size) {
        _cleanup_free_ unsigned char *out = NULL;
        uint32_t magic, rootid;
        int r;

        if (size < 4)
                return -EBADMSG;
        magic = get_le32(v);
        switch (magic & CAP_REVISION_MASK) {
        case CAP_REVISION_1:
                if (size != CAP_SIZE_1)
                        return -EBADMSG;
                return -ERANGE;
        case CAP_REVISION_2:
                if (size != CAP_SIZE_2)
                        return -EBADMSG;
                return -ERANGE;
        case CAP_REVISION_3:
                if (size != CAP_SIZE_3)
                        return -EBADMSG;
                break;
        default:
                return -EBADMSG;
        }
        r = pod_idunshift_id(m, get_le32(v + CAP_SIZE_2), &rootid);
        if (r < 0)
                return r;
        out = malloc(CAP_SIZE_3);
        if (!out)
                return -ENOMEM;
        memcpy(out, v, CAP_SIZE_3);
        if (rootid == 0) {
                put_le32(out, (magic & ~CAP_REVISION_MASK) | CAP_REVISION_2);
                *ret_size = CAP_SIZE_2;
        } else {
                put_le32(out + CAP_SIZE_2, rootid);
                *ret_size = CAP_SIZE_3;
        }
        *ret = TAKE_PTR(out);
        return 1;
}

/* Named user and group entries of an ACL through map_id (either direction); 0 when there is
 * none (no copy). */
static int map_acl(const struct pod_idmap *m,
                   int (*map_id)(const struct pod_idmap *, uint32_t, uint32_t *),
                   const unsigned char *v, size_t size, void **ret, size_t *ret_size) {
        _cleanup_free_ unsigned char *out = NULL;
        bool changed = false;

        if (size < ACL_HEADER_SIZE || (size - ACL_HEADER_SIZE) % ACL_ENTRY_SIZE != 0 ||
            get_le32(v) != ACL_XATTR_VERSION)
                return -EBADMSG;
        out = malloc(size);
        if (!out)
                return -ENOMEM;
        memcpy(out, v, size);
        for (size_t off = ACL_HEADER_SIZE; off < size; off += ACL_ENTRY_SIZE) {
                uint16_t tag = get_le16(out + off);
                uint32_t id;
                int r;

                if (tag != ACL_TAG_USER && tag != ACL_TAG_GROUP)
                        continue;
                r = map_id(m, get_le32(out + off + 4), &id);
                if (r < 0)
                        return r;
                put_le32(out + off + 4, id);
                changed = true;
        }
        if (!changed)
                return 0;
        *ret = TAKE_PTR(out);
        *ret_size = size;
        return 1;
}

int pod_idunshift_xattr(const struct pod_idmap *m, const char *name, const void *value, size_t size,
                        void **ret, size_t *ret_size) {
        *ret = NULL;
        if (streq(name, CAP_NAME))
                return unshift_caps(m, value, size, ret, ret_size);
        if (streq(name, ACL_ACCESS_NAME) || streq(name, ACL_DEFAULT_NAME))
                return map_acl(m, pod_idunshift_id, value, size, ret, ret_size);
        return 0;
}

/* ---- the other way: the pod's N to host BASE+N (chown-shifted trees, store-shift.h) ---- */

int pod_idshift_id(const struct pod_idmap *m, uint32_t id, uint32_t *ret) {
        if (id >= m->count)
                return -ERANGE;
        *ret = m->base + id;
        return 0;
}

/* v1 and v2 capabilities mean "for the root of the namespace that reads them": in the shifted
 * tree that root is host BASE, which only a v3 capability can say. */
static int shift_caps(const struct pod_idmap *m, const unsigned char *v, size_t size, void **ret,
                      size_t *ret_size) {
        _cleanup_free_ unsigned char *out = NULL;
        uint32_t magic, rootid = 0;
        int r;

        if (size < 4)
                return -EBADMSG;
        magic = get_le32(v);
        out = calloc(1, CAP_SIZE_3);
        if (!out)
                return -ENOMEM;
        switch (magic & CAP_REVISION_MASK) {
        case CAP_REVISION_1:
                if (size != CAP_SIZE_1)
                        return -EBADMSG;
                memcpy(out, v, CAP_SIZE_1); /* the upper 32 capabilities stay 0 */
                break;
        case CAP_REVISION_2:
                if (size != CAP_SIZE_2)
                        return -EBADMSG;
                memcpy(out, v, CAP_SIZE_2);
                break;
        case CAP_REVISION_3:
                if (size != CAP_SIZE_3)
                        return -EBADMSG;
                memcpy(out, v, CAP_SIZE_3);
                rootid = get_le32(v + CAP_SIZE_2);
                break;
        default:
                return -EBADMSG;
        }
        r = pod_idshift_id(m, rootid, &rootid);
        if (r < 0)
                return r;
        put_le32(out, (magic & ~CAP_REVISION_MASK) | CAP_REVISION_3);
        put_le32(out + CAP_SIZE_2, rootid);
        *ret = TAKE_PTR(out);
        *ret_size = CAP_SIZE_3;
        return 1;
}

int pod_idshift_xattr(const struct pod_idmap *m, const char *name, const void *value, size_t size,
                      void **ret, size_t *ret_size) {
        *ret = NULL;
        if (streq(name, CAP_NAME))
                return shift_caps(m, value, size, ret, ret_size);
        if (streq(name, ACL_ACCESS_NAME) || streq(name, ACL_DEFAULT_NAME))
                return map_acl(m, pod_idshift_id, value, size, ret, ret_size);
        return 0;
}
