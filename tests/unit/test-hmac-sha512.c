/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hmac-sha512.c: FIPS 180-4's SHA-512 examples, RFC 4231's HMAC-SHA-512 test cases, and
 * agreement with OpenSSL (sha512.c's libcrypto) for every message length from 0 to 400
 * bytes (each padding case: one block, two blocks, the length field straddling) and keys of
 * 0 to 200 bytes (shorter than, equal to and longer than the 128-byte block). */
#include <stdlib.h>
#include <string.h>

#include "dlopen-crypto.h"
#include "hmac-sha512.h"
#include "sha512.h"
#include "tap.h"

static void hex(const uint8_t *d, char out[2 * POD_HMAC_SHA512_SIZE + 1]) {
        pod_hex_encode(d, POD_HMAC_SHA512_SIZE, out);
}

static void check_sha(const char *msg, size_t n, const char *want, const char *name) {
        uint8_t d[POD_HMAC_SHA512_SIZE];
        char h[2 * POD_HMAC_SHA512_SIZE + 1];

        pod_sha512_plain(msg, n, d);
        hex(d, h);
        tap_is_str(h, want, name);
}

static void check_hmac(const uint8_t *key, size_t kn, const char *msg, const char *want,
                       const char *name) {
        uint8_t d[POD_HMAC_SHA512_SIZE];
        char h[2 * POD_HMAC_SHA512_SIZE + 1];

        pod_hmac_sha512(key, kn, msg, strlen(msg), d);
        hex(d, h);
        tap_is_str(h, want, name);
}

int main(void) {
        uint8_t k[200], m[400];
        char *million;
        int bad;

        check_sha("", 0,
                  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2"
                  "b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
                  "SHA-512 of the empty message");
        check_sha("abc", 3,
                  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1"
                  "a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
                  "SHA-512 of 'abc' (FIPS 180-4, one block)");
        check_sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                  "klmnopqrlmnopqrsmnopqrstnopqrstu",
                  112,
                  "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7"
                  "e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
                  "SHA-512 of the 896-bit message (FIPS 180-4, two blocks)");
        million = malloc(1000000);
        if (!million)
                return tap_skip_all("out of memory");
        memset(million, 'a', 1000000);
        check_sha(million, 1000000,
                  "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea6"
                  "0a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
                  "SHA-512 of a million 'a'");
        free(million);

        memset(k, 0x0b, 20);
        check_hmac(k, 20, "Hi There",
                   "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a70"
                   "2038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
                   "RFC 4231 test case 1");
        check_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?",
                   "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994"
                   "a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
                   "RFC 4231 test case 2");
        memset(k, 0xaa, 131);
        check_hmac(k, 131, "Test Using Larger Than Block-Size Key - Hash Key First",
                   "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f259"
                   "8bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
                   "RFC 4231 test case 6 (key longer than a block)");
        check_hmac(k, 131,
                   "This is a test using a larger than block-size key and a larger than block-size "
                   "data. The key needs to be hashed before being used by the HMAC algorithm.",
                   "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b"
                   "10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
                   "RFC 4231 test case 7");

        /* Against OpenSSL, when it can be loaded. */
        if (pod_dlopen_crypto(NULL) < 0) {
                printf("# libcrypto not loadable: no comparison with OpenSSL\n");
                return tap_done();
        }
        for (size_t i = 0; i < sizeof(m); i++)
                m[i] = (uint8_t)(i * 7 + 3);
        for (size_t i = 0; i < sizeof(k); i++)
                k[i] = (uint8_t)(i * 13 + 1);
        bad = 0;
        for (size_t n = 0; n <= sizeof(m); n++) {
                uint8_t a[POD_HMAC_SHA512_SIZE], b[POD_HMAC_SHA512_SIZE];

                struct pod_sha512 *h = NULL;

                pod_sha512_plain(m, n, a);
                if (pod_sha512_new(&h) < 0 || pod_sha512_update(h, m, n) < 0 ||
                    pod_sha512_final(h, b) < 0 || memcmp(a, b, sizeof(a)) != 0)
                        bad++;
                pod_sha512_free(h);
        }
        tap_is_int(bad, 0, "SHA-512 agrees with OpenSSL for lengths 0..400");
        bad = 0;
        for (size_t kn = 0; kn <= sizeof(k); kn += 1)
                for (size_t n = 0; n <= sizeof(m); n += 37) {
                        uint8_t a[POD_HMAC_SHA512_SIZE], b[POD_HMAC_SHA512_SIZE];
                        unsigned len = 0;

                        pod_hmac_sha512(k, kn, m, n, a);
                        if (!HMAC(EVP_sha512(), k, (int)kn, m, n, b, &len) || len != sizeof(b) ||
                            memcmp(a, b, sizeof(a)) != 0)
                                bad++;
                }
        tap_is_int(bad, 0, "HMAC-SHA-512 agrees with OpenSSL for keys of 0..200 bytes");
        return tap_done();
}
