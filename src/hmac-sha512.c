/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-512 (FIPS 180-4) and HMAC-SHA-512 (RFC 2104) in plain C, for the metadata service's
 * pod identity signatures (src/mds.c): a few hundred bytes per request, in a process that
 * has dropped its privileges inside the pod's namespaces, where loading libcrypto (as
 * sha512.c does for image digests, ~570 MB/s) cost every pod a dlopen() of it at start
 * (issue 16).  Not for bulk data: ~10x slower than OpenSSL.  The round constants are the
 * first 64 bits of the fractional parts of the cube roots of the first 80 primes, the
 * initial state those of the square roots of the first 8 (FIPS 180-4, 4.2.3 and 5.3.5). */
#include <string.h>

#include "hmac-sha512.h"

static const uint64_t K[80] = {
        0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
        0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
        0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
        0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
        0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
        0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
        0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
        0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
        0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
        0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
        0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
        0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
        0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
        0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
        0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
        0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
        0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
        0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
        0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
        0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};
static const uint64_t H0[8] = {
        0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
        0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

struct sha512_state {
        uint64_t h[8];
        uint8_t block[128];
        size_t used;    /* bytes in block */
        uint64_t total; /* bytes hashed so far (messages here are far below 2^61 bytes) */
};

static inline uint64_t rotr(uint64_t x, unsigned n) {
        return (x >> n) | (x << (64 - n));
}

static void compress(uint64_t h[8], const uint8_t p[128]) {
        uint64_t w[80], a, b, c, d, e, f, g, k;

        for (unsigned t = 0; t < 16; t++) {
                w[t] = 0;
                for (unsigned i = 0; i < 8; i++)
                        w[t] = (w[t] << 8) | p[8 * t + i];
        }
        for (unsigned t = 16; t < 80; t++) {
                uint64_t s0 = rotr(w[t - 15], 1) ^ rotr(w[t - 15], 8) ^ (w[t - 15] >> 7);
                uint64_t s1 = rotr(w[t - 2], 19) ^ rotr(w[t - 2], 61) ^ (w[t - 2] >> 6);
                w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (unsigned t = 0; t < 80; t++) {
                uint64_t t1 = k + (rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)) + ((e & f) ^ (~e & g)) +
                              K[t] + w[t];
                uint64_t t2 =
                        (rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
                k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

static void sha512_init(struct sha512_state *s) {
        memcpy(s->h, H0, sizeof(s->h));
        s->used = 0;
        s->total = 0;
}

static void sha512_update(struct sha512_state *s, const void *data, size_t size) {
        const uint8_t *p = data;

        s->total += size;
        while (size > 0) {
                size_t n = sizeof(s->block) - s->used;

                if (n > size)
                        n = size;
                memcpy(s->block + s->used, p, n);
                s->used += n;
                p += n;
                size -= n;
                if (s->used == sizeof(s->block)) {
                        compress(s->h, s->block);
                        s->used = 0;
                }
        }
}

/* Padding: 0x80, zeros, and the message length in bits as a 128-bit big-endian number. */
static void sha512_final(struct sha512_state *s, uint8_t ret[POD_HMAC_SHA512_SIZE]) {
        uint64_t bits = s->total << 3;

        s->block[s->used++] = 0x80;
        if (s->used > sizeof(s->block) - 16) {
                memset(s->block + s->used, 0, sizeof(s->block) - s->used);
                compress(s->h, s->block);
                s->used = 0;
        }
        memset(s->block + s->used, 0, sizeof(s->block) - 8 - s->used);
        for (unsigned i = 0; i < 8; i++)
                s->block[120 + i] = (uint8_t)(bits >> (56 - 8 * i));
        compress(s->h, s->block);
        for (unsigned i = 0; i < 8; i++)
                for (unsigned j = 0; j < 8; j++)
                        ret[8 * i + j] = (uint8_t)(s->h[i] >> (56 - 8 * j));
}

void pod_sha512_plain(const void *data, size_t size, uint8_t ret[POD_HMAC_SHA512_SIZE]) {
        struct sha512_state s;

        sha512_init(&s);
        sha512_update(&s, data, size);
        sha512_final(&s, ret);
        explicit_bzero(&s, sizeof(s));
}

void pod_hmac_sha512(const void *key, size_t key_size, const void *msg, size_t size,
                     uint8_t ret[POD_HMAC_SHA512_SIZE]) {
        uint8_t k[128] = {}, pad[128], inner[POD_HMAC_SHA512_SIZE];
        struct sha512_state s;

        /* A key longer than the block is hashed first; a shorter one is padded with zeros. */
        if (key_size > sizeof(k))
                pod_sha512_plain(key, key_size, k);
        else
                memcpy(k, key, key_size);

        for (size_t i = 0; i < sizeof(pad); i++)
                pad[i] = k[i] ^ 0x36;
        sha512_init(&s);
        sha512_update(&s, pad, sizeof(pad));
        sha512_update(&s, msg, size);
        sha512_final(&s, inner);

        for (size_t i = 0; i < sizeof(pad); i++)
                pad[i] = k[i] ^ 0x5c;
        sha512_init(&s);
        sha512_update(&s, pad, sizeof(pad));
        sha512_update(&s, inner, sizeof(inner));
        sha512_final(&s, ret);

        explicit_bzero(k, sizeof(k));
        explicit_bzero(pad, sizeof(pad));
        explicit_bzero(inner, sizeof(inner));
        explicit_bzero(&s, sizeof(s));
}
