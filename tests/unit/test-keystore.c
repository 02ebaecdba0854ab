/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "keystore.h"
#include "macro.h"
#include "path-util.h"
#include "tap.h"

#define FA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define FC "cccccccccccccccccccccccccccccccccccccccc"
#define FD "dddddddddddddddddddddddddddddddddddddddd"
#define FE "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

static char root[] = "/tmp/test-keystore-XXXXXX";

static void put(const char *rel, const char *content) {
        _cleanup_free_ char *p = path_join(root, rel);
        _cleanup_free_ char *dir = strdup(p);

        *strrchr(dir, '/') = 0;
        if (mkdir_p_at(AT_FDCWD, dir, 0755) < 0 ||
            write_file_atomic_at(AT_FDCWD, p, content, strlen(content), 0644) < 0)
                tap_ok(false, "setup: writing %s", rel);
}

static const struct pod_trusted_key *find(const struct pod_trusted_keys *k, const char *fpr) {
        for (size_t i = 0; k && i < k->n; i++)
                if (streq(k->items[i].fingerprint, fpr))
                        return &k->items[i];
        return NULL;
}

static void test_layout(const struct pod_keystore *ks) {
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *k = NULL, *k2 = NULL;
        struct pod_error e = {};
        const struct pod_trusted_key *b;

        put("vendor/trustedkeys/root.d/" FA, "vendor root A");
        put("etc/trustedkeys/root.d/" FA, ""); /* admin masks vendor A */
        put("vendor/trustedkeys/root.d/" FE, "vendor root E");
        put("vendor/trustedkeys/prefix.d/example.org/" FB, "vendor B");
        put("etc/trustedkeys/prefix.d/example.org/" FB, "admin B overrides");
        put("vendor/trustedkeys/prefix.d/example.org/webshop/" FC, "vendor webshop C");
        put("etc/trustedkeys/prefix.d/example.org/web/" FD, "admin web D");
        put("etc/trustedkeys/prefix.d/example.org/README", "not a key");
        put("etc/trustedkeys/prefix.d/example.org/" FE ".tmp-1", "leftover");
        put("etc/trustedkeys/prefix.d/example.org/EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE", "x");

        tap_is_int(pod_keystore_keys_for_name(ks, "example.org/webshop", &k, &e), 0,
                   "keyring for example.org/webshop");
        tap_is_int(k ? k->n : 0, 3, "  three keys: E (root), B, C");
        tap_ok(!find(k, FA), "  vendor root key masked by an empty admin file");
        tap_ok(find(k, FE) && !find(k, FE)->prefix, "  unmasked vendor root key applies");
        b = find(k, FB);
        tap_ok(b && b->admin && b->data && streq(b->data, "admin B overrides"),
               "  admin file overrides the vendor file with the same fingerprint");
        tap_ok(find(k, FC), "  key of the full name applies");
        tap_ok(!find(k, FD), "  prefix example.org/web does not apply to example.org/webshop");

        tap_is_int(pod_keystore_keys_for_name(ks, "example.org", &k2, &e), 0,
                   "keyring for example.org");
        tap_ok(k2 && k2->n == 2 && find(k2, FB) && find(k2, FE),
               "  only root and example.org keys");
        tap_is_int(pod_keystore_keys_for_name(ks, "../etc", &k2, &e), -EINVAL,
                   "invalid name refused");
}

static void test_symlink(const struct pod_keystore *ks) {
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *k = NULL;
        _cleanup_free_ char *link = NULL, *dir = NULL;
        struct pod_error e = {};

        put("elsewhere/" FD, "sneaky");
        dir = path_join(root, "etc/trustedkeys/prefix.d/sneaky.org");
        (void)mkdir_p_at(AT_FDCWD, dir, 0755);
        link = path_join(dir, FD);
        if (symlink("../../../../elsewhere/" FD, link) < 0)
                tap_ok(false, "setup symlink");
        tap_ok(pod_keystore_keys_for_name(ks, "sneaky.org/app", &k, &e) < 0,
               "a symlink named like a key is an error");
        tap_ok(strstr(e.msg, "not a regular file") != NULL, "  message says why: %s", e.msg);
        (void)unlink(link);

        pod_error_clear(&e);
        free(link);
        link = path_join(dir, "sub");
        if (symlink("../../../../elsewhere", link) < 0)
                tap_ok(false, "setup dir symlink");
        tap_ok(pod_keystore_keys_for_name(ks, "sneaky.org/sub", &k, &e) < 0,
               "a symlinked prefix directory is an error, not followed");
        (void)unlink(link);
}

static void test_add(const struct pod_keystore *ks) {
        _cleanup_free_ char *path = NULL, *path2 = NULL, *data = NULL, *rootpath = NULL;
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *k = NULL;
        struct pod_error e = {};
        struct stat st;
        size_t size = 0;

        tap_is_int(pod_keystore_add(ks, "new.org/app", FC, "KEY C", 5, &path, &e), 0,
                   "add a key for a prefix");
        {
                _cleanup_free_ char *want =
                        path_join(root, "etc/trustedkeys/prefix.d/new.org/app", FC);
                tap_is_str(path, want, "  at prefix.d/<prefix as nested dirs>/<fingerprint>");
        }
        tap_ok(read_full_file_at(AT_FDCWD, path, 100, &data, &size) == 0 && size == 5 &&
                       memcmp(data, "KEY C", 5) == 0,
               "  content written");
        tap_ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "  mode 0644");
        tap_is_int(pod_keystore_add(ks, "new.org/app", FC, "KEY C", 5, &path2, &e), 1,
                   "adding the same key again reports 'already there'");
        tap_is_int(pod_keystore_add(ks, "new.org/app", FC, "KEY C2", 6, NULL, &e), 0,
                   "a changed key file is replaced");
        tap_is_int(pod_keystore_add(ks, NULL, FD, "ROOT", 4, &rootpath, &e), 0, "add a root key");
        tap_ok(rootpath && strstr(rootpath, "/etc/trustedkeys/root.d/" FD), "  in root.d");
        tap_is_int(pod_keystore_add(ks, "../evil", FD, "X", 1, NULL, &e), -EINVAL,
                   "prefix with .. refused");
        tap_is_int(pod_keystore_add(ks, "a.org//b", FD, "X", 1, NULL, &e), -EINVAL,
                   "prefix with // refused");
        tap_is_int(pod_keystore_add(ks, "A.org", FD, "X", 1, NULL, &e), -EINVAL,
                   "upper-case prefix refused");
        tap_is_int(pod_keystore_add(ks, "a.org", "ABCD", "X", 1, NULL, &e), -EINVAL,
                   "bad fingerprint refused");
        tap_is_int(pod_keystore_add(ks, "a.org", FA, "", 0, NULL, &e), -EINVAL,
                   "empty key (a mask) refused");

        tap_is_int(pod_keystore_keys_for_name(ks, "new.org/app/sub", &k, &e), 0,
                   "keyring for new.org/app/sub");
        tap_ok(find(k, FC) && find(k, FD), "  has the added prefix key and the root key");
}

static void test_list(const struct pod_keystore *ks) {
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *k = NULL;
        struct pod_error e = {};
        bool mask_seen = false, nested_seen = false;

        tap_is_int(pod_keystore_list(ks, &k, &e), 0, "list");
        for (size_t i = 0; k && i < k->n; i++) {
                if (k->items[i].mask && k->items[i].admin && streq(k->items[i].fingerprint, FA))
                        mask_seen = true;
                if (k->items[i].prefix && streq(k->items[i].prefix, "example.org/webshop") &&
                    !k->items[i].admin)
                        nested_seen = true;
        }
        tap_ok(mask_seen, "  shows the admin mask");
        tap_ok(nested_seen, "  shows nested vendor prefixes");
        tap_ok(k && k->n > 0 && !k->items[0].admin, "  vendor keys first");
}

int main(void) {
        _cleanup_free_ char *vendor = NULL, *etc = NULL;
        struct pod_keystore ks;

        if (!mkdtemp(root))
                return 1;
        vendor = path_join(root, "vendor");
        etc = path_join(root, "etc");
        ks = (struct pod_keystore){ .vendordir = vendor, .sysconfdir = etc };

        {
                _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *k = NULL;
                tap_ok(pod_keystore_keys_for_name(&ks, "a.org", &k, NULL) == 0 && k->n == 0,
                       "missing directories: empty keyring");
        }
        test_layout(&ks);
        test_symlink(&ks);
        test_add(&ks);
        test_list(&ks);

        (void)rm_rf_at(AT_FDCWD, root);
        return tap_done();
}
