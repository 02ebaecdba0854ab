/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* OpenPGP through gpgme: verifying an image's detached signature against the keys trusted
 * for its name (spec section 7), and reading key files for `pod trust`.
 * Every operation runs in a private, temporary GnuPG home built from exactly the keys it
 * needs, offline, and removed afterwards: the user's keyring and gpg-agent are never used
 * (verification and public-key import need no agent).
 * Owns: the OpenPGP verdict and its mapping to -errno.  Does not own: where keys live
 * (keystore.h) or how the signature was fetched (http.h). */

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "keystore.h"

struct pod_pgp_subkey {
        char *fingerprint;          /* upper-case hex as gpg prints it */
        char *algo;                 /* "rsa3072", "ed25519", ... */
        long long created, expires; /* seconds since the epoch; expires 0: never */
        bool can_sign, revoked, expired;
        unsigned bits; /* key size */
        bool weak;     /* below the minimum of pgp-policy.h (RSA/DSA/ElGamal < 2048 bits) */
};

struct pod_pgp_key {
        char *fingerprint; /* primary key, lower-case 40 hex (the keystore file name) */
        char **uids;       /* NULL-terminated, as stored in the key */
        struct pod_pgp_subkey *subkeys; /* [0] is the primary key */
        size_t n_subkeys;
        bool revoked, expired;
        char *armored; /* this key alone, ASCII-armored: what the keystore stores */
        size_t armored_size;
};

struct pod_pgp_keys {
        struct pod_pgp_key *items;
        size_t n;
};

struct pod_pgp_keys *pod_pgp_keys_free(struct pod_pgp_keys *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_pgp_keys *, pod_pgp_keys_free)

/* Reads the public keys in data (armored or binary, one or more).  -EBADMSG if there is no
 * public key, secret key material, or a key that is not a v4 key (40-hex fingerprint). */
int pod_pgp_keys_from_data(const void *data, size_t size, struct pod_pgp_keys **ret,
                           struct pod_error *reterr);

/* "ABCD 1234 ..." : ten groups of four upper-case hex digits, from a 40-hex fingerprint. */
void pod_pgp_format_fingerprint(const char *fpr, char buf[static 50]);

struct pod_verify_info {
        char *signer;      /* fingerprint or key ID from the signature (upper-case hex) */
        char *fingerprint; /* on success: primary fingerprint of the trusted key (lower) */
        char *key_path;    /* on success: the trusted key file */
        /* On success, for provenance (provenance.h): */
        char *uid;                /* the trusted key's first user ID, or NULL */
        char *prefix;             /* the prefix.d/ prefix of the key file; NULL for root.d */
        bool root_key;            /* the key file was in root.d */
        long long signature_time; /* the good signature's creation time (seconds), 0 unknown */
};
void pod_verify_info_done(struct pod_verify_info *i);

/* Verifies sig (the .aci.asc bytes: armored, or binary as a fallback; NULL = unsigned)
 * as a detached signature over everything in data_fd (read from offset 0; the offset is
 * left at the end) with the keys that keystore trusts for image name.  At least one good
 * signature from a trusted key is required.  Errors, reterr naming the image:
 *   -ENODATA      unsigned (sig == NULL or empty)
 *   -ENOKEY       signed by a key not trusted for name; the message gives the key and the
 *                 `pod trust --prefix NAME` command that would trust it
 *   -EBADMSG      bad signature (data modified), or sig is not a signature
 *   -EKEYEXPIRED  the key (or the signature) has expired
 *   -EKEYREVOKED  the key was revoked
 *   -EKEYREJECTED a good signature below the minimum of pgp-policy.h: MD5/SHA-1/RIPEMD-160
 *                 digest, or an RSA/DSA/ElGamal signing or primary key under 2048 bits
 *   trusted key files that do not hold the key their name says fail the verification.
 * info (may be NULL) is filled on success and, as far as known, on failure. */
int pod_verify_detached(const char *name, int data_fd, const void *sig, size_t sig_size,
                        const struct pod_keystore *ks, struct pod_verify_info *info,
                        struct pod_error *reterr);
