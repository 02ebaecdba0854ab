/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dlopen-crypto.h"
#include "sha256.h"
#include "sha512.h"

struct pod_sha256 {
        EVP_MD_CTX *ctx;
        bool finished;
};

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static int crypto_result;

static void crypto_load(void) {
        crypto_result = pod_dlopen_crypto(NULL);
}

int pod_sha256_new(struct pod_sha256 **ret) {
        struct pod_sha256 *h;

        (void)pthread_once(&crypto_once, crypto_load);
        if (crypto_result < 0)
                return crypto_result;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx) {
                free(h);
                return -ENOMEM;
        }
        if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
                (void)pod_sha256_free(h);
                return -EIO;
        }
        *ret = h;
        return 0;
}

struct pod_sha256 *pod_sha256_free(struct pod_sha256 *h) {
        if (!h)
                return NULL;
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
}

int pod_sha256_update(struct pod_sha256 *h, const void *data, size_t size) {
        if (h->finished)
                return -ESTALE;
        if (size == 0)
                return 0;
        if (EVP_DigestUpdate(h->ctx, data, size) != 1)
                return -EIO;
        return 0;
}

int pod_sha256_final(struct pod_sha256 *h, unsigned char ret_digest[POD_SHA256_DIGEST_SIZE]) {
        unsigned len = 0;

        if (h->finished)
                return -ESTALE;
        if (EVP_DigestFinal_ex(h->ctx, ret_digest, &len) != 1 || len != POD_SHA256_DIGEST_SIZE)
                return -EIO;
        h->finished = true;
        return 0;
}

int pod_sha256_final_string(struct pod_sha256 *h, char ret[POD_SHA256_STRING_SIZE]) {
        unsigned char d[POD_SHA256_DIGEST_SIZE];
        int r;

        r = pod_sha256_final(h, d);
        if (r < 0)
                return r;
        memcpy(ret, POD_SHA256_PREFIX, strlen(POD_SHA256_PREFIX));
        pod_hex_encode(d, sizeof(d), ret + strlen(POD_SHA256_PREFIX));
        return 0;
}

int pod_sha256_buffer(const void *data, size_t size, char ret[POD_SHA256_STRING_SIZE]) {
        _cleanup_(pod_sha256_freep) struct pod_sha256 *h = NULL;
        int r;

        r = pod_sha256_new(&h);
        if (r < 0)
                return r;
        r = pod_sha256_update(h, data, size);
        if (r < 0)
                return r;
        return pod_sha256_final_string(h, ret);
}

int pod_sha256_fd(int fd, char ret[POD_SHA256_STRING_SIZE], size_t *ret_size) {
        _cleanup_(pod_sha256_freep) struct pod_sha256 *h = NULL;
        _cleanup_free_ char *buf = NULL;
        const size_t bufsize = 1 << 20;
        size_t total = 0;
        int r;

        r = pod_sha256_new(&h);
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
                total += (size_t)k;
                r = pod_sha256_update(h, buf, (size_t)k);
                if (r < 0)
                        return r;
        }
        r = pod_sha256_final_string(h, ret);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = total;
        return 0;
}
