/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dlopen-crypto.h"
#include "log.h"
#include "sha512.h"

struct pod_sha512 {
        EVP_MD_CTX *ctx;
        bool finished;
};

/* libcrypto is loaded by the first digest (dlopen-crypto.h), from whichever thread. */
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static int crypto_result;
static struct pod_error crypto_error;

static void crypto_load(void) {
        crypto_result = pod_dlopen_crypto(&crypto_error);
}

int pod_sha512_new(struct pod_sha512 **ret) {
        struct pod_sha512 *h;

        (void)pthread_once(&crypto_once, crypto_load);
        if (crypto_result < 0)
                return log_error_errno(crypto_result, "%s", crypto_error.msg);
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx) {
                free(h);
                return -ENOMEM;
        }
        if (EVP_DigestInit_ex(h->ctx, EVP_sha512(), NULL) != 1) {
                (void)pod_sha512_free(h);
                return -EIO;
        }
        *ret = h;
        return 0;
}

struct pod_sha512 *pod_sha512_free(struct pod_sha512 *h) {
        if (!h)
                return NULL;
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
}

int pod_sha512_update(struct pod_sha512 *h, const void *data, size_t size) {
        if (h->finished)
                return -ESTALE;
        if (size == 0)
                return 0;
        if (EVP_DigestUpdate(h->ctx, data, size) != 1)
                return -EIO;
        return 0;
}

int pod_sha512_final(struct pod_sha512 *h, unsigned char ret_digest[POD_SHA512_DIGEST_SIZE]) {
        unsigned len = 0;

        if (h->finished)
                return -ESTALE;
        if (EVP_DigestFinal_ex(h->ctx, ret_digest, &len) != 1 || len != POD_SHA512_DIGEST_SIZE)
                return -EIO;
        h->finished = true;
        return 0;
}

void pod_hex_encode(const unsigned char *data, size_t n, char *ret) {
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                ret[2 * i] = hex[data[i] >> 4];
                ret[2 * i + 1] = hex[data[i] & 15];
        }
        ret[2 * n] = 0;
}

int pod_sha512_final_id(struct pod_sha512 *h, char ret_id[POD_IMAGE_ID_SIZE]) {
        unsigned char d[POD_SHA512_DIGEST_SIZE];
        int r;

        r = pod_sha512_final(h, d);
        if (r < 0)
                return r;
        memcpy(ret_id, POD_IMAGE_ID_PREFIX, strlen(POD_IMAGE_ID_PREFIX));
        pod_hex_encode(d, sizeof(d), ret_id + strlen(POD_IMAGE_ID_PREFIX));
        return 0;
}

int pod_sha512_fd(int fd, char ret_hex[POD_SHA512_HEX_SIZE + 1]) {
        _cleanup_(pod_sha512_freep) struct pod_sha512 *h = NULL;
        unsigned char d[POD_SHA512_DIGEST_SIZE];
        _cleanup_free_ char *buf = NULL;
        const size_t bufsize = 1 << 20;
        int r;

        r = pod_sha512_new(&h);
        if (r < 0)
                return r;
        buf = malloc(bufsize);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf, bufsize);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                r = pod_sha512_update(h, buf, (size_t)k);
                if (r < 0)
                        return r;
        }
        r = pod_sha512_final(h, d);
        if (r < 0)
                return r;
        pod_hex_encode(d, sizeof(d), ret_hex);
        return 0;
}
