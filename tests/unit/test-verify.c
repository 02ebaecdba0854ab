/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signature verification with real GnuPG keys and signatures made here: a good key, an
 * untrusted one, an expired one (made with a faked clock) and a revoked one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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
#include "verify.h"

static char T[] = "/tmp/test-verify-XXXXXX";

static int sh(const char *fmt, ...) _printf_(1, 2);
static int sh(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;
        int r;

        va_start(ap, fmt);
        (void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        r = system(cmd);
        return r == 0 ? 0 : -1;
}

static char *slurp(const char *rel, size_t *size) {
        _cleanup_free_ char *p = path_join(T, rel);
        char *buf = NULL;

        if (read_full_file_at(AT_FDCWD, p, 1 << 20, &buf, size) < 0)
                return NULL;
        return buf;
}

/* Makes key NAME (ed25519, no passphrase), exports it to NAME.pub, returns its fpr. */
static char *genkey(const char *name, const char *faketime, const char *expire) {
        char *fpr;
        size_t n;

        if (sh("cd %s && gpg --batch --passphrase '' %s%s --quick-gen-key '%s <%s@example.org>' "
               "ed25519 sign %s >/dev/null 2>&1",
               T, faketime ? "--faked-system-time " : "", faketime ? faketime : "", name, name,
               expire) < 0)
                return NULL;
        if (sh("cd %s && gpg --batch --with-colons --list-keys '%s@example.org' 2>/dev/null | "
               "awk -F: '/^fpr/ { print tolower($10); exit }' | tr -d '\\n' >%s.fpr",
               T, name, name) < 0)
                return NULL;
        {
                char rel[64];
                (void)snprintf(rel, sizeof(rel), "%s.fpr", name);
                fpr = slurp(rel, &n);
        }
        if (!fpr || n != 40)
                return NULL;
        return fpr;
}

static int export(const char *name) {
        return sh("cd %s && gpg --batch --armor --export '%s@example.org' >%s.pub 2>/dev/null", T,
                  name, name);
}

static int sign(const char *name, const char *out, bool armor, const char *faketime) {
        return sh("cd %s && gpg --batch --yes %s%s %s --local-user '%s@example.org' "
                  "--detach-sign -o %s data 2>/dev/null",
                  T, faketime ? "--faked-system-time " : "", faketime ? faketime : "",
                  armor ? "--armor" : "", name, out);
}

static void install_key(const char *tree, const char *sub, const char *fpr, const char *name) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *data = NULL;
        char rel[64];
        size_t size = 0;

        (void)snprintf(rel, sizeof(rel), "%s.pub", name);
        data = slurp(rel, &size);
        dir = path_join(T, tree, "trustedkeys", sub);
        path = path_join(dir, fpr);
        tap_ok(data && mkdir_p_at(AT_FDCWD, dir, 0755) >= 0 &&
                       write_file_atomic_at(AT_FDCWD, path, data, size, 0644) >= 0,
               "setup: install %s key in %s/%s", name, tree, sub);
}

static int verify(const struct pod_keystore *ks, const char *name, const char *sigfile,
                  struct pod_error *e, struct pod_verify_info *info) {
        _cleanup_free_ char *sig = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size = 0;

        data = path_join(T, "data");
        fd = open(data, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (sigfile) {
                sig = slurp(sigfile, &size);
                if (!sig)
                        return -EIO;
        }
        pod_error_clear(e);
        return pod_verify_detached(name, fd, sig, size, ks, info, e);
}

static bool tmp_is_empty(const char *tmp) {
        _cleanup_closedir_ DIR *d = opendir(tmp);
        struct dirent *de;

        if (!d)
                return false;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return false;
        return true;
}

int main(void) {
        _cleanup_free_ char *good = NULL, *other = NULL, *old = NULL, *rev = NULL;
        _cleanup_free_ char *home = NULL, *vendor = NULL, *etc = NULL, *tmp = NULL;
        struct pod_verify_info info = {};
        struct pod_error e = {};
        struct pod_keystore ks;
        int r;

        if (sh("command -v gpg >/dev/null") < 0)
                return tap_skip_all("gpg not installed");
        if (!mkdtemp(T))
                return 1;
        home = path_join(T, "gnupg");
        vendor = path_join(T, "vendor");
        etc = path_join(T, "etc");
        tmp = path_join(T, "tmp");
        (void)mkdir(home, 0700);
        (void)mkdir(tmp, 0700);
        setenv("GNUPGHOME", home, 1);
        /* pod's private GnuPG homes go here, so the test can see they are removed. */
        setenv("TMPDIR", tmp, 1);
        ks = (struct pod_keystore){ .vendordir = vendor, .sysconfdir = etc };

        good = genkey("good", NULL, "never");
        other = genkey("other", NULL, "never");
        old = genkey("old", "20200101T000000!", "1d");
        rev = genkey("rev", NULL, "never");
        tap_ok(good && other && old && rev, "setup: generated four keys");
        if (!good || !other || !old || !rev)
                return tap_done();

        tap_ok(sh("printf 'image bytes\\n' >%s/data", T) == 0, "setup: data");
        tap_ok(sign("good", "good.asc", true, NULL) == 0 &&
                       sign("good", "good.sig", false, NULL) == 0 &&
                       sign("other", "other.asc", true, NULL) == 0 &&
                       sign("old", "old.asc", true, "20200101T000100!") == 0 &&
                       sign("rev", "rev.asc", true, NULL) == 0,
               "setup: signatures");
        /* Revoke "rev" with the certificate gpg stored when it made the key. */
        {
                char up[41];
                for (size_t i = 0; i < 40; i++)
                        up[i] = (char)((rev[i] >= 'a' && rev[i] <= 'f') ? rev[i] - 32 : rev[i]);
                up[40] = 0;
                tap_ok(sh("cd %s && sed 's/^:-----BEGIN/-----BEGIN/' "
                          "gnupg/openpgp-revocs.d/%s.rev | gpg --batch --import 2>/dev/null",
                          T, up) == 0,
                       "setup: revoked key 'rev'");
        }
        tap_ok(export("good") == 0 && export("other") == 0 && export("old") == 0 &&
                       export("rev") == 0,
               "setup: exported public keys");

        install_key("etc", "prefix.d/example.org", good, "good");
        install_key("vendor", "prefix.d/example.org/old", old, "old");
        install_key("etc", "root.d", rev, "rev");

        /* ---- good ---- */
        r = verify(&ks, "example.org/app", "good.asc", &e, &info);
        tap_is_int(r, 0, "armored signature by a key trusted for example.org");
        tap_is_str(info.fingerprint, good, "  reports the trusted key's fingerprint");
        tap_ok(info.key_path && strstr(info.key_path, "etc/trustedkeys/prefix.d/example.org/"),
               "  and its file");
        pod_verify_info_done(&info);
        tap_is_int(verify(&ks, "example.org/app", "good.sig", &e, NULL), 0,
                   "binary signature (fallback) verifies too");
        tap_is_int(verify(&ks, "example.org", "good.asc", &e, NULL), 0,
                   "the prefix itself is covered");

        /* ---- unknown key ---- */
        r = verify(&ks, "example.org/app", "other.asc", &e, &info);
        tap_is_int(r, -ENOKEY, "signature by an untrusted key: -ENOKEY");
        tap_ok(strstr(e.msg, "pod trust --prefix example.org/app") != NULL,
               "  message gives the pod trust command: %s", e.msg);
        tap_ok(info.signer && strcasestr(other, info.signer + strlen(info.signer) - 16),
               "  and the signer's key ID (%s)", strna(info.signer));
        tap_ok(strstr(e.msg, "example.org/app") != NULL, "  and names the image");
        pod_verify_info_done(&info);
        tap_is_int(verify(&ks, "other.org/app", "good.asc", &e, NULL), -ENOKEY,
                   "key trusted for example.org does not cover other.org");
        tap_is_int(verify(&ks, "example.organic/app", "good.asc", &e, NULL), -ENOKEY,
                   "nor example.organic (prefix by path component)");

        /* ---- bad, unsigned, garbage ---- */
        tap_ok(sh("cp %s/data %s/data.orig && printf 'x' >>%s/data", T, T, T) == 0,
               "setup: tamper");
        r = verify(&ks, "example.org/app", "good.asc", &e, NULL);
        tap_is_int(r, -EBADMSG, "modified data: bad signature");
        tap_ok(strstr(e.msg, "BAD signature") != NULL, "  says so: %s", e.msg);
        tap_ok(sh("mv %s/data.orig %s/data", T, T) == 0, "setup: restore");
        tap_is_int(verify(&ks, "example.org/app", NULL, &e, NULL), -ENODATA,
                   "no signature: unsigned");
        tap_ok(strstr(e.msg, "not signed") != NULL, "  says so: %s", e.msg);
        tap_ok(sh("echo garbage >%s/garbage.asc", T) == 0, "setup: garbage");
        tap_is_int(verify(&ks, "example.org/app", "garbage.asc", &e, NULL), -EBADMSG,
                   "garbage signature: -EBADMSG");

        /* ---- expired, revoked ---- */
        r = verify(&ks, "example.org/old", "old.asc", &e, NULL);
        tap_is_int(r, -EKEYEXPIRED, "expired key: -EKEYEXPIRED");
        tap_ok(strstr(e.msg, "expired") != NULL, "  says so: %s", e.msg);
        r = verify(&ks, "example.org/app", "rev.asc", &e, NULL);
        tap_is_int(r, -EKEYREVOKED, "revoked root key: -EKEYREVOKED");
        tap_ok(strstr(e.msg, "revoked") != NULL, "  says so: %s", e.msg);

        /* ---- masks and mislabelled key files ---- */
        install_key("vendor", "prefix.d/masked.org", good, "good");
        tap_is_int(verify(&ks, "masked.org/app", "good.asc", &e, NULL), 0,
                   "vendor key for masked.org applies");
        {
                _cleanup_free_ char *dir = path_join(etc, "trustedkeys/prefix.d/masked.org");
                _cleanup_free_ char *p = path_join(dir, good);
                tap_ok(mkdir_p_at(AT_FDCWD, dir, 0755) >= 0 &&
                               write_file_atomic_at(AT_FDCWD, p, "", 0, 0644) >= 0,
                       "setup: admin mask");
        }
        tap_is_int(verify(&ks, "masked.org/app", "good.asc", &e, NULL), -ENOKEY,
                   "an empty admin file masks the vendor key");
        install_key("etc", "prefix.d/liar.org", other, "good"); /* good key, other's name */
        r = verify(&ks, "liar.org/app", "good.asc", &e, NULL);
        tap_is_int(r, -EBADMSG, "key file whose name is not its fingerprint: refused");
        tap_ok(strstr(e.msg, "not the key its file name says") != NULL, "  says so: %s", e.msg);

        /* ---- reading keys for pod trust ---- */
        {
                _cleanup_(pod_pgp_keys_freep) struct pod_pgp_keys *k = NULL;
                _cleanup_free_ char *data = NULL, *both = NULL;
                char fmt[50];
                size_t size = 0;

                data = slurp("good.pub", &size);
                tap_is_int(pod_pgp_keys_from_data(data, size, &k, &e), 0, "read a key file");
                tap_ok(k && k->n == 1 && streq(k->items[0].fingerprint, good), "  fingerprint");
                tap_ok(k && k->n == 1 && k->items[0].uids && k->items[0].uids[0] &&
                               streq(k->items[0].uids[0], "good <good@example.org>"),
                       "  uid");
                tap_ok(k && k->n == 1 && k->items[0].armored &&
                               strstr(k->items[0].armored, "BEGIN PGP PUBLIC KEY BLOCK"),
                       "  armored export of the key alone");
                tap_ok(k && k->n == 1 && k->items[0].n_subkeys >= 1 &&
                               streq(k->items[0].subkeys[0].algo, "ed25519"),
                       "  primary key algorithm");
                pod_pgp_format_fingerprint(good, fmt);
                tap_ok(strlen(fmt) == 49 && fmt[4] == ' ' && fmt[44] == ' ',
                       "fingerprint in ten groups: %s", fmt);

                tap_ok(sh("cd %s && cat good.pub other.pub >both.pub", T) == 0, "setup: two keys");
                pod_pgp_keys_free(k);
                k = NULL;
                both = slurp("both.pub", &size);
                tap_is_int(pod_pgp_keys_from_data(both, size, &k, &e), 0, "file with two keys");
                tap_is_int(k ? k->n : 0, 2, "  both listed");
                pod_pgp_keys_free(k);
                k = NULL;
                tap_is_int(pod_pgp_keys_from_data("nope", 4, &k, &e), -EBADMSG, "garbage: no key");
                tap_ok(sh("cd %s && gpg --batch --pinentry-mode loopback --passphrase '' "
                          "--armor --export-secret-keys good@example.org >secret.asc 2>/dev/null",
                          T) == 0,
                       "setup: secret key export");
                free(data);
                data = slurp("secret.asc", &size);
                pod_error_clear(&e);
                tap_is_int(pod_pgp_keys_from_data(data, size, &k, &e), -EBADMSG,
                           "secret key material refused");
        }

        tap_ok(tmp_is_empty(tmp), "every private GnuPG home was removed");

        (void)sh("gpgconf --homedir %s --kill all >/dev/null 2>&1", home);
        (void)rm_rf_at(AT_FDCWD, T);
        return tap_done();
}
