/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "path-util.h"
#include "sha512.h"
#include "tap.h"

/* FIPS 180-2 test vectors. */
#define ABC_HEX                                                                            \
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8" \
        "36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
#define EMPTY_HEX                                                                          \
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0" \
        "ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
#define MILLION_A_HEX                                                                      \
        "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a" \
        "4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"

int main(void) {
        _cleanup_(pod_sha512_freep) struct pod_sha512 *h = NULL;
        char id[POD_IMAGE_ID_SIZE], hex[POD_SHA512_HEX_SIZE + 1];
        char tmpl[] = "/tmp/test-sha512.XXXXXX";
        unsigned char d[POD_SHA512_DIGEST_SIZE];
        _cleanup_close_ int fd = -EBADF;
        char *a;

        tap_ok(pod_sha512_new(&h) == 0, "new");
        tap_ok(pod_sha512_update(h, "a", 1) == 0 && pod_sha512_update(h, "bc", 2) == 0,
               "update in pieces");
        tap_ok(pod_sha512_final_id(h, id) == 0, "final");
        tap_is_str(id, "sha512-" ABC_HEX, "abc");
        tap_ok(image_id_valid(id, true), "ID is a valid full image ID");
        tap_ok(pod_sha512_update(h, "x", 1) == -ESTALE, "update after final is refused");
        h = pod_sha512_free(h);

        tap_ok(pod_sha512_new(&h) == 0 && pod_sha512_final(h, d) == 0, "empty");
        pod_hex_encode(d, sizeof(d), hex);
        tap_is_str(hex, EMPTY_HEX, "empty digest");
        h = pod_sha512_free(h);

        /* Streaming over a file, larger than one read buffer. */
        a = malloc(1000000);
        memset(a, 'a', 1000000);
        fd = mkstemp(tmpl);
        tap_ok(fd >= 0 && write(fd, a, 1000000) == 1000000, "temp file");
        (void)unlink(tmpl);
        tap_ok(lseek(fd, 0, SEEK_SET) == 0 && pod_sha512_fd(fd, hex) == 0, "hash fd");
        tap_is_str(hex, MILLION_A_HEX, "one million 'a'");
        free(a);
        tap_ok(pod_sha512_free(NULL) == NULL, "free(NULL)");
        return tap_done();
}
