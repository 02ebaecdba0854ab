/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fetch.c without the network: pull policies, store-only references, local files under the
 * signature policy, dependencies (store lookups, imageID/size checks, cycles).  The network
 * paths run against a real server in tests/integration/fetch.sh. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aci-gen.h"
#include "fd-util.h"
#include "fetch.h"
#include "imageref.h"
#include "insecure.h"
#include "macro.h"
#include "path-util.h"
#include "store.h"
#include "tap.h"

static char base[] = "/tmp/test-fetch.XXXXXX";
static const char *host_os, *host_arch;

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

/* Writes base/<file> as an ACI named name:version (host os/arch) with a deps JSON array. */
static char *gen(const char *file, const char *name, const char *version, const char *deps) {
        char manifest[1024], *path = NULL;
        struct gen_entry e[] = {
                { "manifest", AE_IFREG, 0644, manifest, 0, NULL },
                { "rootfs", AE_IFDIR, 0755, NULL, 0, NULL },
                { "rootfs/hello", AE_IFREG, 0644, "hello\n", 0, NULL },
        };

        (void)snprintf(manifest, sizeof(manifest),
                       "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"%s\","
                       "\"labels\":[{\"name\":\"version\",\"value\":\"%s\"},{\"name\":\"os\","
                       "\"value\":\"%s\"},{\"name\":\"arch\",\"value\":\"%s\"}]%s%s}",
                       name, version, host_os, host_arch, deps ? ",\"dependencies\":" : "",
                       deps ? deps : "");
        if (asprintf(&path, "%s/%s", base, file) < 0 ||
            gen_aci(path, POD_COMPRESSION_GZIP, e, ELEMENTSOF(e)) < 0)
                abort();
        return path;
}

static int import(struct pod_store *s, const char *path, char **ret_id) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return pod_store_import_fd(s, fd, NULL, ret_id, NULL);
}

static size_t count_images(struct pod_store *s) {
        struct pod_store_image **l = NULL;
        size_t n = 0;

        if (pod_store_list(s, &l, &n, NULL) < 0)
                return (size_t)-1;
        pod_store_image_list_free(l, n);
        return n;
}

int main(void) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *store = NULL, *base_aci = NULL, *app_aci = NULL, *cyc_a = NULL,
                            *cyc_b = NULL, *badid = NULL, *badsize = NULL, *missing = NULL;
        _cleanup_free_ char *id = NULL, *got = NULL, *ida = NULL, *idb = NULL;
        struct pod_fetch_options o = { .pull_policy = POD_PULL_NEVER };
        struct pod_error e = {};
        char ref[64];
        int r;

        if (!mkdtemp(base))
                return tap_skip_all("no temp dir");
        if (pod_host_os_arch(&host_os, &host_arch) < 0)
                return tap_skip_all("host has no appc arch");
        if (asprintf(&store, "%s/store", base) < 0)
                abort();
        r = pod_store_open(store, &s, &e);
        tap_ok(r == 0, "open store (%s)", e.msg);
        if (r < 0)
                return tap_done();
        o.keystore = (struct pod_keystore){ .vendordir = base, .sysconfdir = base };

        /* ---- policies by name ---- */
        for (int p = 0; p < _POD_PULL_POLICY_MAX; p++)
                tap_ok(pod_pull_policy_from_string(pod_pull_policy_to_string(p)) == p,
                       "pull policy %s round trip", pod_pull_policy_to_string(p));
        tap_ok(pod_pull_policy_from_string("always") == -EINVAL, "unknown pull policy refused");
        tap_ok(pod_pull_policy_to_string(_POD_PULL_POLICY_MAX) == NULL, "no name past the end");

        /* ---- local files: signature policy ---- */
        base_aci = gen("base.aci", "example.com/base", "1.0", NULL);
        r = pod_fetch_image(s, base_aci, &o, &id, &e);
        tap_ok(r == -ENODATA && strstr(e.msg, "example.com/base") && strstr(e.msg, "not signed"),
               "unsigned file refused: %s", e.msg);
        tap_ok(count_images(s) == 0, "nothing stored");
        pod_error_clear(&e);
        o.signature = "/nonexistent/sig.asc";
        r = pod_fetch_image(s, base_aci, &o, &id, &e);
        tap_ok(r == -ENOENT && strstr(e.msg, "/nonexistent/sig.asc"),
               "missing --signature file named: %s", e.msg);
        o.signature = NULL;
        pod_error_clear(&e);

        o.insecure = POD_INSECURE_IMAGE;
        r = pod_fetch_image(s, base_aci, &o, &id, &e);
        tap_ok(r == 0 && image_id_valid(id, true), "file with --insecure-options=image (%s)",
               e.msg);
        tap_ok(count_images(s) == 1, "one image stored");

        /* ---- store-only references ---- */
        (void)snprintf(ref, sizeof(ref), "%.20s", id);
        r = pod_fetch_image(s, ref, &o, &got, &e);
        tap_ok(r == 0 && streq(got, id), "ID prefix %s", ref);
        got = mfree_str(got);
        r = pod_fetch_image(s, "example.com/base:1.0", &o, &got, &e);
        tap_ok(r == 0 && streq(got, id), "policy never: stored name (%s)", e.msg);
        got = mfree_str(got);
        o.pull_policy = POD_PULL_NEW;
        r = pod_fetch_image(s, "example.com/base:1.0", &o, &got, &e);
        tap_ok(r == 0 && streq(got, id), "policy new: stored match wins (%s)", e.msg);
        got = mfree_str(got);
        o.pull_policy = POD_PULL_NEVER;
        pod_error_clear(&e);
        r = pod_fetch_image(s, "example.com/base:2.0", &o, &got, &e);
        tap_ok(r == -ENOENT && strstr(e.msg, "pull policy never"), "policy never, no match: %s",
               e.msg);
        pod_error_clear(&e);
        r = pod_fetch_image(s, "https://example.invalid/x.aci", &o, &got, &e);
        tap_ok(r == -ENOENT && strstr(e.msg, "pull policy never"),
               "policy never, URL never fetched: %s", e.msg);
        pod_error_clear(&e);
        r = pod_fetch_image(s, "docker://busybox", &o, &got, &e);
        tap_ok(r < 0 && e.msg[0], "unsupported scheme refused: %s", e.msg);

        /* ---- dependencies ---- */
        app_aci = gen("app.aci", "example.com/app", "1.0",
                      "[{\"imageName\":\"example.com/base\",\"labels\":[{\"name\":\"version\","
                      "\"value\":\"1.0\"}]}]");
        pod_error_clear(&e);
        r = pod_fetch_image(s, app_aci, &o, &got, &e);
        tap_ok(r == 0, "dependency found in the store (%s)", e.msg);
        got = mfree_str(got);

        missing = gen("missing.aci", "example.com/needy", "1.0",
                      "[{\"imageName\":\"example.com/nowhere\"}]");
        pod_error_clear(&e);
        r = pod_fetch_image(s, missing, &o, &got, &e);
        tap_ok(r == -ENOENT && strstr(e.msg, "example.com/nowhere"), "missing dependency named: %s",
               e.msg);

        badid = gen("badid.aci", "example.com/badid", "1.0",
                    "[{\"imageName\":\"example.com/base\",\"imageID\":\"sha512-"
                    "00000000000000000000000000000000000000000000000000000000000000ab\","
                    "\"labels\":[{\"name\":\"version\",\"value\":\"1.0\"}]}]");
        pod_error_clear(&e);
        r = pod_fetch_image(s, badid, &o, &got, &e);
        tap_ok(r == -EMEDIUMTYPE && strstr(e.msg, "sha512-0000"), "dependency imageID checked: %s",
               e.msg);

        badsize = gen("badsize.aci", "example.com/badsize", "1.0",
                      "[{\"imageName\":\"example.com/base\",\"size\":1,\"labels\":[{\"name\":"
                      "\"version\",\"value\":\"1.0\"}]}]");
        pod_error_clear(&e);
        r = pod_fetch_image(s, badsize, &o, &got, &e);
        tap_ok(r == -EMEDIUMTYPE && strstr(e.msg, "manifest says 1"), "dependency size checked: %s",
               e.msg);

        cyc_a = gen("cyc-a.aci", "example.com/cyc-a", "1.0",
                    "[{\"imageName\":\"example.com/cyc-b\"}]");
        cyc_b = gen("cyc-b.aci", "example.com/cyc-b", "1.0",
                    "[{\"imageName\":\"example.com/cyc-a\"}]");
        tap_ok(import(s, cyc_a, &ida) == 0 && import(s, cyc_b, &idb) == 0, "cycle images stored");
        pod_error_clear(&e);
        r = pod_fetch_image(s, "example.com/cyc-a", &o, &got, &e);
        tap_ok(r == -ELOOP && strstr(e.msg, "cycle"), "dependency cycle detected: %s", e.msg);
        pod_error_clear(&e);
        (void)snprintf(ref, sizeof(ref), "%.20s", idb);
        r = pod_fetch_image(s, ref, &o, &got, &e);
        tap_ok(r == -ELOOP, "also when starting from an ID: %s", e.msg);

        s = pod_store_free(s);
        (void)rm_rf_at(AT_FDCWD, base);
        return tap_done();
}
