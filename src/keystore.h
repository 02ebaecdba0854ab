/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Trusted signing keys on disk (spec section 7):
 *      {vendordir}/trustedkeys/root.d/<fpr>             vendor, every image
 *      {vendordir}/trustedkeys/prefix.d/<prefix>/<fpr>  vendor, names under <prefix>
 *      {sysconfdir}/trustedkeys/...                     admin, same layout (`pod trust`)
 *      {userdir}/trustedkeys/...                        user (--user-config), same layout
 * <fpr> is the key's lower-case 40-hex v4 fingerprint; <prefix> is an AC Identifier used as
 * nested directories (validation is the escaping); a zero-length file masks that
 * fingerprint from every earlier source.
 * Owns: the layout, the order sources are read in, masking, and adding a key (atomic).
 * Does not own: OpenPGP (verify.h checks that a file's key matches its name). */

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define POD_KEY_FILE_MAX (1024 * 1024)

struct pod_keystore {
        const char *vendordir;  /* e.g. /usr/lib/pod; NULL: none */
        const char *sysconfdir; /* e.g. /etc/pod; NULL: none */
        const char *userdir;    /* e.g. ~/.config/pod (--user-config); NULL: none */
        /* Where pod_keystore_add() writes; NULL: sysconfdir.  A rootless `pod trust` writes
         * the user's own directory (userdir): the admin's is not the user's to change. */
        const char *writedir;
};

struct pod_trusted_key {
        char *fingerprint; /* lower-case 40 hex: the file name */
        char *prefix;      /* NULL for root.d */
        char *path;        /* the file, for messages */
        bool admin;        /* from sysconfdir */
        bool user;         /* from userdir (neither: vendordir) */
        bool mask;         /* zero-length file (only reported by pod_keystore_list) */
        char *data;        /* file content (pod_keystore_keys_for_name only) */
        size_t size;
};

struct pod_trusted_keys {
        struct pod_trusted_key *items;
        size_t n;
};

struct pod_trusted_keys *pod_trusted_keys_free(struct pod_trusted_keys *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_trusted_keys *, pod_trusted_keys_free)

/* True for exactly 40 lower-case hex digits. */
bool pod_fingerprint_valid(const char *s);

/* The keyring for image name: vendor, admin, user root.d, then for each ancestor prefix
 * of name by path component ("a.org", "a.org/x", "a.org/x/y"), vendor, admin, then user
 * prefix.d/<ancestor>/; a later file with the same fingerprint replaces an earlier one, an
 * empty file removes it.  Files whose name is not a fingerprint (e.g. editor backups) are
 * ignored; a fingerprint-named entry that is not a regular file is an error.  Missing
 * directories are fine (empty keyring: -ENOKEY is the caller's to decide). */
int pod_keystore_keys_for_name(const struct pod_keystore *ks, const char *name,
                               struct pod_trusted_keys **ret, struct pod_error *reterr);

/* Every key file and mask in both trees, vendor first, sorted by prefix then fingerprint. */
int pod_keystore_list(const struct pod_keystore *ks, struct pod_trusted_keys **ret,
                      struct pod_error *reterr);

/* Writes data as {writedir, else sysconfdir}/trustedkeys/{root.d | prefix.d/<prefix>}/<fingerprint>
 * (prefix NULL: root.d), creating directories (0755) and replacing the file atomically
 * (0644).  Returns 0 if written, 1 if an identical file was already there.  -EINVAL for
 * an invalid prefix or fingerprint. */
int pod_keystore_add(const struct pod_keystore *ks, const char *prefix, const char *fingerprint,
                     const void *data, size_t size, char **ret_path, struct pod_error *reterr);
