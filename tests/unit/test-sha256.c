/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sha256.h against FIPS 180-2 vectors, streaming in pieces, and the fd helper. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fd-util.h"
#include "sha256.h"
#include "tap.h"

int main(void) {
        _cleanup_(pod_sha256_freep) struct pod_sha256 *h = NULL;
        char d[POD_SHA256_STRING_SIZE];
        unsigned char raw[POD_SHA256_DIGEST_SIZE];
        _cleanup_close_ int fd = -EBADF;
        size_t n = 0;

        tap_ok(pod_sha256_buffer("abc", 3, d) >= 0, "abc");
        tap_is_str(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                   "abc digest");
        tap_ok(pod_sha256_buffer("", 0, d) >= 0 &&
                       streq(d, "sha256:"
                                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
               "empty digest");
        tap_ok(pod_sha256_new(&h) >= 0, "new");
        tap_ok(pod_sha256_update(h, "abcdbcdecdefdefgefghfghighij", 28) >= 0 &&
                       pod_sha256_update(h, "hijkijkljklmklmnlmnomnopnopq", 28) >= 0,
               "update in pieces");
        tap_ok(pod_sha256_final_string(h, d) >= 0 &&
                       streq(d, "sha256:"
                                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
               "two-block vector");
        tap_is_int(pod_sha256_update(h, "x", 1), -ESTALE, "update after final refused");
        tap_is_int(pod_sha256_final(h, raw), -ESTALE, "final twice refused");

        fd = memfd_create("test-sha256", MFD_CLOEXEC);
        tap_ok(fd >= 0 && loop_write(fd, "abc", 3) >= 0 && lseek(fd, 0, SEEK_SET) == 0, "memfd");
        tap_ok(pod_sha256_fd(fd, d, &n) >= 0 && n == 3 &&
                       streq(d, "sha256:"
                                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
               "fd helper hashes and counts");
        return tap_done();
}
