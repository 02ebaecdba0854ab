/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* limits.conf parsing (podlimits.h) and the key/digest minimum (pgp-policy.h). */
#include "config.h"

#include <errno.h>
#include <gpgme.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "pgp-policy.h"
#include "podlimits.h"
#include "tap.h"

static char dir_v[] = "/tmp/test-podlimits-v.XXXXXX";
static char dir_s[] = "/tmp/test-podlimits-s.XXXXXX";

static void put(const char *dir, const char *text) {
        char p[256];
        FILE *f;

        (void)snprintf(p, sizeof(p), "%s/limits.conf", dir);
        f = fopen(p, "we");
        if (!f)
                abort();
        fputs(text, f);
        fclose(f);
}

static void rm(const char *dir) {
        char p[256];

        (void)snprintf(p, sizeof(p), "%s/limits.conf", dir);
        (void)unlink(p);
        (void)rmdir(dir);
}

int main(void) {
        struct pod_limits l;
        struct pod_error e = {};
        char buf[32];
        int r;

        if (!mkdtemp(dir_v) || !mkdtemp(dir_s))
                return 1;

        r = pod_limits_load(dir_v, dir_s, &l, &e);
        tap_ok(r == 0 && memcmp(&l, &pod_limits_default, sizeof(l)) == 0, "no files: the defaults");
        tap_ok(pod_limits_default.image_max_unpacked > 0 &&
                       pod_limits_default.image_max_ratio > 0 &&
                       pod_limits_default.download_max_size > 0 &&
                       pod_limits_default.transfer_timeout > 0,
               "every default is a limit, none is 'unlimited'");

        put(dir_v, "# vendor\nimage-max-unpacked-size = 1G\ntransfer-timeout = 90s\n"
                   "image-max-expansion-ratio=50\n");
        put(dir_s, "image-max-unpacked-size = 300M  # admin wins\n\n"
                   "transfer-low-speed-limit = 2KiB\ndownload-max-size = 0\n");
        r = pod_limits_load(dir_v, dir_s, &l, &e);
        tap_is_int(r, 0, "vendor and admin files load");
        tap_is_int(l.image_max_unpacked, 300u << 20, "the admin's value wins");
        tap_is_int(l.transfer_timeout, 90 * POD_USEC_PER_SEC,
                   "the vendor's value where the admin has none");
        tap_is_int(l.image_max_ratio, 50, "a count");
        tap_is_int(l.low_speed_limit, 2048, "KiB suffix");
        tap_is_int(l.download_max_size, 0, "0 is allowed (no limit)");
        tap_is_int(l.image_min_free, pod_limits_default.image_min_free,
                   "unset keys keep the default");

        put(dir_s, "image-max-unpacked-size = 1X\n");
        r = pod_limits_load(dir_v, dir_s, &l, &e);
        tap_ok(r == -EINVAL &&
                       strstr(e.msg,
                              "limits.conf:1: invalid value '1X' for image-max-unpacked-size"),
               "bad suffix refused: %s", e.msg);
        pod_error_clear(&e);
        put(dir_s, "\n\nimage-max-size = 1G\n");
        r = pod_limits_load(dir_v, dir_s, &l, &e);
        tap_ok(r == -EINVAL && strstr(e.msg, ":3: unknown key 'image-max-size'"),
               "unknown key refused with its line: %s", e.msg);
        pod_error_clear(&e);
        put(dir_s, "transfer-timeout\n");
        r = pod_limits_load(dir_v, dir_s, &l, &e);
        tap_ok(r == -EINVAL, "line without '=' refused: %s", e.msg);
        pod_error_clear(&e);
        put(dir_s, "download-max-size = 99999999999999999999G\n");
        r = pod_limits_load(dir_v, dir_s, &l, &e);
        tap_ok(r < 0, "overflow refused: %s", e.msg);
        pod_error_clear(&e);
        put(dir_s, "image-max-expansion-ratio = -1\n");
        r = pod_limits_load(dir_v, dir_s, &l, &e);
        tap_ok(r == -EINVAL, "negative count refused: %s", e.msg);

        tap_is_str(pod_limits_format_bytes(16384, buf), "16.0 KiB", "format KiB");
        tap_is_str(pod_limits_format_bytes(12, buf), "12 B", "format bytes");

        tap_ok(pod_pgp_key_too_weak(GPGME_PK_RSA, 1024), "RSA-1024 is too weak");
        tap_ok(pod_pgp_key_too_weak(GPGME_PK_DSA, 1024), "DSA-1024 is too weak");
        tap_ok(pod_pgp_key_too_weak(GPGME_PK_ELG_E, 1024), "ElGamal-1024 is too weak");
        tap_ok(!pod_pgp_key_too_weak(GPGME_PK_RSA, 2048), "RSA-2048 is fine");
        tap_ok(!pod_pgp_key_too_weak(GPGME_PK_EDDSA, 255), "Ed25519 is fine");
        tap_ok(!pod_pgp_key_too_weak(GPGME_PK_ECDSA, 256), "ECDSA P-256 is fine");
        pod_error_clear(&e);
        r = pod_pgp_check_digest(GPGME_MD_SHA1, "example.com/x", "ABCD", &e);
        tap_ok(r == -EKEYREJECTED && strstr(e.msg, "example.com/x") && strstr(e.msg, "SHA1"),
               "SHA-1 refused: %s", e.msg);
        r = pod_pgp_check_digest(GPGME_MD_MD5, "example.com/x", "ABCD", NULL);
        tap_is_int(r, -EKEYREJECTED, "MD5 refused");
        r = pod_pgp_check_digest(GPGME_MD_RMD160, "example.com/x", "ABCD", NULL);
        tap_is_int(r, -EKEYREJECTED, "RIPEMD-160 refused");
        tap_is_int(pod_pgp_check_digest(GPGME_MD_SHA256, "x", "y", NULL), 0, "SHA-256 accepted");
        tap_is_int(pod_pgp_check_digest(GPGME_MD_SHA512, "x", "y", NULL), 0, "SHA-512 accepted");
        pod_error_clear(&e);
        r = pod_pgp_check_key(GPGME_PK_RSA, 1024, "key X", &e);
        tap_ok(r == -EKEYREJECTED && strstr(e.msg, "1024-bit RSA") && strstr(e.msg, "2048"),
               "weak key message: %s", e.msg);

        rm(dir_v);
        rm(dir_s);
        return tap_done();
}
