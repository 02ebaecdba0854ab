/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by oci-archive.c and oci-archive-tar.c: the member table of an archive tar, read
 * from its headers only (ustar, pax, GNU long names and links), and member path rules.
 * Owns: tar header parsing for archives pod does not unpack (unpack.h unpacks).  Internal to
 * the oci-archive module. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define OCI_TAR_BLOCK 512u

struct member {
        char *name; /* normalised */
        char *link; /* normalised target of a symlink or hard link, NULL for files */
        bool dir;
        uint64_t offset; /* of the data */
        uint64_t size;
};

struct tar {
        int fd;
        struct member *m;
        size_t n;
        /* The first member with an unsafe path or link, left out of m: an error once the tar
         * is known to be a Docker/OCI archive (an ACI's own importer words it for ACIs). */
        struct pod_error unsafe;
};

void oci_tar_done(struct tar *t);
/* Reads the member table of the tar on fd (seeking over the data). */
int oci_tar_index(int fd, struct tar *ret, struct pod_error *reterr);
/* The regular member name resolves to (links followed, at most 8); NULL when none. */
const struct member *oci_tar_find(const struct tar *t, const char *name);
/* pread() of exactly size bytes at off; -EBADMSG when the file ends first. */
int oci_pread_full(int fd, void *buf, size_t size, uint64_t off);
/* Normalises a member path: drops "./" components and a trailing '/', refuses absolute
 * paths, ".." and empty names (-EBADMSG). */
int oci_member_name_normalize(const char *p, char **ret);
