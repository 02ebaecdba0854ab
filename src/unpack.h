/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading ACI archives (spec section 2) in one streaming pass: detect the compression by
 * content, decompress, hash the uncompressed tar (that hash is the image ID), check every
 * entry against hostile input and, optionally, extract `manifest` and `rootfs/` below a
 * directory fd.
 *
 * The pass runs on three threads: the calling thread reads the input (copying it to an
 * optional fd, e.g. the store's blob, and hashing it when asked), and decompresses; a hash
 * thread hashes the decompressed stream; a worker thread parses the tar and writes files.  The
 * worker unshares its fs_struct (unshare(CLONE_FS)) and fchdir()s into the target, so libarchive's
 * disk writer, which only knows paths relative to the working directory, works relative to the
 * target fd without touching the process's cwd.
 *
 * Entry rules (whole unpack fails, message names the entry): only `manifest` (regular file,
 * at most POD_UNPACK_MANIFEST_MAX bytes) and `rootfs` / `rootfs/...` at the top (an optional
 * leading "./" is accepted); no absolute paths, no "." / ".." / empty components; no
 * duplicates; no entry below a symlink or non-directory; hard links only to an earlier
 * regular file of rootfs/; relative symlink targets must not climb above rootfs/ (absolute
 * targets are container-rooted and are never followed here); no sockets; character and block
 * devices only with POD_UNPACK_ALLOW_DEVICES.  libarchive's ARCHIVE_EXTRACT_SECURE_NODOTDOT,
 * _SECURE_SYMLINKS and _SECURE_NOABSOLUTEPATHS stay on as a second line.  Modes (setuid
 * bits exactly as in the tar unless POD_UNPACK_DROP_PRIVILEGES), mtimes, ACLs and the xattrs
 * xattr-util.h allows are restored, numeric uid/gid when running as root (never the tar's
 * user names).  Holes of sparse entries and zero blocks of plain ones become holes.
 *
 * Layer mode (POD_UNPACK_LAYER): the tar is one Docker/OCI layer.  Entries sit at the top (an
 * optional "./"), there is no manifest and no rootfs/ prefix, and the hashes are SHA-256 of
 * the input (blob digest) and of the uncompressed tar (diff_id), still in the one pass.  The
 * entry rules above hold, with these differences: hard links point to an earlier regular file
 * of the same layer; a later entry for a path replaces the earlier one (as docker's applier
 * does) when both are directories or both are not, and is refused when it changes a
 * directory into a non-directory or back; relative symlink targets may climb above the layer
 * root (nothing here or in the overlay follows them; at run time the kernel stops ".." at the
 * container's root).  Whiteouts (the overlayfs format pods mount, see store-oci.h):
 * `DIR/.wh.NAME` becomes a character device 0/0 DIR/NAME (mknodat; the one device always
 * allowed, and only from a whiteout), `DIR/.wh..wh..opq` sets trusted.overlay.opaque="y" on
 * DIR (user.overlay.opaque="y" in a user namespace, where trusted.* cannot be written; see
 * rootless below) (created if the layer has no entry for it), other `.wh..wh.*` names (aufs
 * hard-link dirs) are skipped with everything below them; a whiteout and a real entry for the same
 * path, and a `.wh.` name used as a directory, are refused.  A real character device 0/0 in
 * the tar is refused even with POD_UNPACK_ALLOW_DEVICES (it would act as a whiteout), and
 * trusted.* attributes in the tar are dropped as everywhere (xattr-util.h).
 * Rootless (in a user namespace, rootless.h): owners are restored as in root's store, and
 * an entry whose uid or gid the namespace does not map is refused (-ERANGE, naming the entry,
 * its owner and the mapped IDs) rather than silently left to the namespace's root; device
 * nodes allowed by POD_UNPACK_ALLOW_DEVICES are skipped (a user namespace cannot create
 * them; one debug line each), whiteouts are still made (Linux 5.8 allows 0/0 there).
 * Owns: the archive format side.  Does not own: manifest parsing (manifest.h), where
 * trees live or temp-dir cleanup on failure (store.h; the caller removes a failed target). */

#include <errno.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "sha256.h"
#include "sha512.h"

struct pod_limits;

#define POD_UNPACK_MANIFEST_MAX (1u << 20)

enum pod_compression {
        POD_COMPRESSION_NONE,
        POD_COMPRESSION_GZIP,
        POD_COMPRESSION_BZIP2,
        POD_COMPRESSION_XZ,
        POD_COMPRESSION_ZSTD,
        _POD_COMPRESSION_MAX,
        _POD_COMPRESSION_INVALID = -EINVAL,
};

const char *pod_compression_to_string(enum pod_compression c);
enum pod_compression pod_compression_from_string(const char *s);
/* Classifies the first bytes of a file (at least 512 for an uncompressed tar).  Anything that
 * is neither a known compression nor a ustar/pax/GNU tar header (PGP-encrypted ACIs, lz4,
 * zip, ...) is -EMEDIUMTYPE. */
int pod_compression_detect(const void *head, size_t size, enum pod_compression *ret);

enum {
        POD_UNPACK_ALLOW_DEVICES = 1 << 0, /* create char/block device nodes */
        POD_UNPACK_ROOTFS_ONLY = 1 << 1,   /* write rootfs/ contents at the target, no manifest */
        POD_UNPACK_NO_OWNER = 1 << 2,      /* do not restore uid/gid even as root */
        /* no set-uid/set-gid bits on non-directories, no security.capability */
        POD_UNPACK_DROP_PRIVILEGES = 1 << 3,
        /* A Docker/OCI layer (issue 12), not an ACI: see "Layer mode" above. */
        POD_UNPACK_LAYER = 1 << 4,
        /* ACI mode: also the SHA-512 of the input bytes as read (result input_sha512), in the
         * same pass, so that a caller storing the input needs no second read of it. */
        POD_UNPACK_HASH_INPUT = 1 << 5,
};

/* One checked entry, as passed to the entry callback.  path is normalised ("rootfs/usr/bin",
 * "manifest"), link targets as in the archive (hard links normalised like paths). */
struct pod_unpack_entry {
        const char *path;
        mode_t mode; /* type and permission bits */
        uint64_t size;
        const char *symlink;  /* target or NULL */
        const char *hardlink; /* normalised target or NULL */
};

struct pod_unpack_options {
        unsigned flags;
        int copy_fd; /* >= 0: every input byte is also written here; -EBADF for none */
        /* Called on the worker thread for each entry after the checks passed. */
        int (*entry_cb)(const struct pod_unpack_entry *e, void *userdata, struct pod_error *reterr);
        /* Without a target dir only: the data of each regular file (not hard links), block by
         * block at its offset (holes are not passed), after its entry_cb. */
        int (*data_cb)(const char *path, uint64_t offset, const void *buf, size_t size,
                       void *userdata, struct pod_error *reterr);
        void *userdata;
        /* Unpacked size, expansion ratio and free space (podlimits.h); NULL: none. */
        const struct pod_limits *limits;
        /* > 0: more input bytes than this fail at once (-EBADMSG), e.g. a layer whose size the
         * manifest gave; 0: none. */
        uint64_t max_input_size;
};
#define POD_UNPACK_OPTIONS_INIT \
        { .copy_fd = -EBADF }

struct pod_unpack_result {
        char id[POD_IMAGE_ID_SIZE]; /* sha512-<128 hex> of the uncompressed stream; "" in
                                     * layer mode */
        /* Layer mode only ("" otherwise): "sha256:<hex>" of the input bytes (the blob
         * digest) and of the uncompressed tar (the diff_id). */
        char blob_digest[POD_SHA256_STRING_SIZE];
        char diff_id[POD_SHA256_STRING_SIZE];
        /* POD_UNPACK_HASH_INPUT only ("" otherwise): 128 hex of the SHA-512 of every input
         * byte (the compressed file, bytes after the compressed stream included). */
        char input_sha512[POD_SHA512_HEX_SIZE + 1];
        enum pod_compression compression;
        uint64_t tar_size;   /* uncompressed bytes (all of them, trailing padding included) */
        uint64_t input_size; /* bytes read from the fd */
        char *manifest;      /* the manifest bytes, NUL-terminated */
        size_t manifest_size;
};

/* Reads the ACI from fd (its current offset, to EOF).  target_fd >= 0: extract there (an
 * empty directory); target_fd < 0: only check and hash.  -EMEDIUMTYPE unknown compression or
 * not a tar, -EBADMSG corrupt or truncated data, -EPERM a refused entry, -EFBIG manifest too
 * large, -ENOENT no manifest; reterr names the entry and cause.  On failure the target may
 * hold a partial tree: callers extract into a temp dir they remove. */
int pod_unpack(int fd, int target_fd, const struct pod_unpack_options *opts,
               struct pod_unpack_result *ret, struct pod_error *reterr);
void pod_unpack_result_done(struct pod_unpack_result *r);
