/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shifting a --private-users pod's host IDs back to the pod's own (BASE+N -> N) for `pod
 * export`: a file's owner and group, and the IDs inside the extended attributes that carry
 * them: security.capability (a v3 capability's root ID; root ID 0 becomes a plain v2
 * capability, as the kernel stores one for the initial namespace) and POSIX ACLs
 * (system.posix_acl_access and _default: named user and group entries).  An ID outside
 * [BASE, BASE+COUNT) cannot be shifted: -ERANGE, for the caller to refuse the file.
 * pod_idshift_*() go the other way (N -> BASE+N), for the chown-shifted copies of image trees
 * (store-shift.h): a v1 or v2 capability (the root of whatever namespace reads it) becomes a v3
 * one whose root ID is BASE, as the kernel itself writes one from inside the namespace.
 * Owns: these formats.  Does not own: which tree is read (podexport.c) or the archive
 * (aci.c). */

#include <stddef.h>
#include <stdint.h>

#include "idmap.h"

/* id - base into *ret; -ERANGE outside the range. */
int pod_idunshift_id(const struct pod_idmap *m, uint32_t id, uint32_t *ret);

/* For an xattr name/value: 0 when it carries no ID (value unchanged, *ret NULL); 1 with a
 * malloc'ed shifted copy in *ret (*ret_size its length); -ERANGE when an ID in it is outside
 * the range; -EBADMSG when a capability or ACL value is malformed. */
int pod_idunshift_xattr(const struct pod_idmap *m, const char *name, const void *value, size_t size,
                        void **ret, size_t *ret_size);

/* base + id into *ret; -ERANGE when id >= count. */
int pod_idshift_id(const struct pod_idmap *m, uint32_t id, uint32_t *ret);

/* Like pod_idunshift_xattr(), from the pod's IDs to the host's. */
int pod_idshift_xattr(const struct pod_idmap *m, const char *name, const void *value, size_t size,
                      void **ret, size_t *ret_size);
