/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <gpgme.h>

#include "pgp-policy.h"

static const char *algo_name(int a) {
        switch (a) {
        case GPGME_PK_RSA:
        case GPGME_PK_RSA_E:
        case GPGME_PK_RSA_S:
                return "RSA";
        case GPGME_PK_DSA:
                return "DSA";
        case GPGME_PK_ELG:
        case GPGME_PK_ELG_E:
                return "ElGamal";
        default:
                return NULL; /* ECC and others: no size rule */
        }
}

bool pod_pgp_key_too_weak(int pubkey_algo, unsigned bits) {
        return algo_name(pubkey_algo) && bits < POD_PGP_MIN_BITS;
}

static const char *digest_name(int h) {
        switch (h) {
        case GPGME_MD_MD5:
                return "MD5";
        case GPGME_MD_SHA1:
                return "SHA1";
        case GPGME_MD_RMD160:
                return "RIPEMD160";
        case GPGME_MD_MD2:
                return "MD2";
        case GPGME_MD_TIGER:
                return "TIGER";
        case GPGME_MD_HAVAL:
                return "HAVAL";
        case GPGME_MD_SHA224:
        case GPGME_MD_SHA256:
        case GPGME_MD_SHA384:
        case GPGME_MD_SHA512:
                return NULL;
        default:
                return "unknown";
        }
}

int pod_pgp_check_digest(int hash_algo, const char *image, const char *signer,
                         struct pod_error *reterr) {
        const char *n = digest_name(hash_algo);

        if (!n)
                return 0;
        return pod_error_set(reterr, -EKEYREJECTED,
                             "Image '%s' is signed by key %s with the %s digest (algorithm %d), "
                             "which is too weak; pod accepts SHA-224, SHA-256, SHA-384 and "
                             "SHA-512 signatures only. Ask the publisher to sign again, e.g. "
                             "with gpg --digest-algo SHA512",
                             image, signer, n, hash_algo);
}

int pod_pgp_check_key(int pubkey_algo, unsigned bits, const char *what, struct pod_error *reterr) {
        if (!pod_pgp_key_too_weak(pubkey_algo, bits))
                return 0;
        return pod_error_set(reterr, -EKEYREJECTED,
                             "Refusing %s: it is a %u-bit %s key, below the minimum of %d bits "
                             "for RSA, DSA and ElGamal keys (ECC keys are fine)",
                             what, bits, algo_name(pubkey_algo), POD_PGP_MIN_BITS);
}
