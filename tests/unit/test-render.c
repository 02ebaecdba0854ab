/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rendering images with dependencies (store.h pod_store_render_tree) from real archives:
 * application order B, D, C, A for A -> [B, C], C -> [D]; later layers win; symlinks in the
 * way are replaced and never followed (host files stay untouched); pathWhitelist of the
 * image and of images above it; the tree name; cycles, depth limit, missing dependencies;
 * render into a directory; gc of the tree once a layer is gone. */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci-gen.h"
#include "fd-util.h"
#include "macro.h"
#include "sha512.h"
#include "store.h"
#include "tap.h"

static char base[] = "/tmp/test-render.XXXXXX";
static char storedir[600];

/* name, extra manifest JSON (",\"dependencies\":..."), entries below rootfs/. */
static char *make(struct pod_store *s, const char *name, const char *extra,
                  const struct gen_entry *rootfs, size_t n) {
        struct gen_entry e[32];
        char manifest[2048], path[700];
        struct pod_store_import_options o = {};
        struct pod_error err = {};
        _cleanup_close_ int fd = -EBADF;
        char *id = NULL;

        (void)snprintf(manifest, sizeof(manifest),
                       "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"%s\","
                       "\"labels\":[{\"name\":\"version\",\"value\":\"1\"},{\"name\":\"os\","
                       "\"value\":\"linux\"},{\"name\":\"arch\",\"value\":\"amd64\"}]%s}",
                       name, extra);
        e[0] = (struct gen_entry){ "manifest", AE_IFREG, 0644, manifest, 0, NULL };
        e[1] = (struct gen_entry){ "rootfs", AE_IFDIR, 0755, NULL, 0, NULL };
        for (size_t i = 0; i < n && i < 30; i++)
                e[2 + i] = rootfs[i];
        (void)snprintf(path, sizeof(path), "%s/%s.aci", base, strrchr(name, '/') + 1);
        if (gen_aci(path, POD_COMPRESSION_GZIP, e, n + 2) < 0)
                abort();
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || pod_store_import_fd(s, fd, &o, &id, &err) < 0) {
                printf("# import of %s failed: %s\n", name, err.msg);
                abort();
        }
        return id;
}

static char *content(int dir, const char *path) {
        char *t = NULL;

        if (read_full_file_at(dir, path, 4096, &t, NULL) < 0)
                return strdup("(none)");
        return t;
}

static bool is_type(int dir, const char *path, mode_t type) {
        struct stat st;

        return fstatat(dir, path, &st, AT_SYMLINK_NOFOLLOW) >= 0 && (st.st_mode & S_IFMT) == type;
}

int main(void) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *name = NULL, *x = NULL;
        _cleanup_close_ int tree = -EBADF, rootfs = -EBADF;
        char host_file[700], host_dir[700], extra[1024], joined[4 * 140], want[200], p[900];
        unsigned char digest[POD_SHA512_DIGEST_SIZE];
        struct pod_error e = {};
        int r;

        if (!mkdtemp(base))
                return tap_skip_all("no temp dir");
        (void)snprintf(storedir, sizeof(storedir), "%s/store", base);
        (void)snprintf(host_file, sizeof(host_file), "%s/host-file", base);
        (void)snprintf(host_dir, sizeof(host_dir), "%s/host-dir", base);
        if (write_file_atomic_at(AT_FDCWD, host_file, "host\n", 5, 0644) < 0 ||
            mkdir(host_dir, 0755) < 0)
                return tap_skip_all("cannot write in the temp dir");
        r = pod_store_open(storedir, &s, &e);
        if (r < 0)
                return tap_skip_all(e.msg);

        {
                /* B: the first layer; symlinks pointing at host paths, later replaced. */
                struct gen_entry eb[] = {
                        { "rootfs/order", AE_IFREG, 0644, "b", 0, NULL },
                        { "rootfs/x", AE_IFREG, 0644, "b", 0, NULL },
                        { "rootfs/y", AE_IFREG, 0644, "b", 0, NULL },
                        { "rootfs/b-only", AE_IFREG, 0644, "b", 0, NULL },
                        { "rootfs/b-unlisted", AE_IFREG, 0644, "b", 0, NULL },
                        { "rootfs/link", AE_IFLNK, 0777, NULL, 0, host_file },
                        { "rootfs/dir", AE_IFLNK, 0777, NULL, 0, host_dir },
                        { "rootfs/gone", AE_IFDIR, 0755, NULL, 0, NULL },
                        { "rootfs/gone/f", AE_IFREG, 0644, "b", 0, NULL },
                        { "rootfs/ro", AE_IFDIR, 0555, NULL, 0, NULL },
                        { "rootfs/ro/b", AE_IFREG, 0644, "b", 0, NULL },
                };
                struct gen_entry ed[] = {
                        { "rootfs/order", AE_IFREG, 0644, "d", 0, NULL },
                        { "rootfs/x", AE_IFREG, 0644, "d", 0, NULL },
                        { "rootfs/z", AE_IFREG, 0644, "d", 0, NULL },
                        { "rootfs/d-only", AE_IFREG, 0644, "d", 0, NULL },
                        { "rootfs/d-not-in-c", AE_IFREG, 0644, "d", 0, NULL },
                };
                struct gen_entry ec[] = {
                        { "rootfs/order", AE_IFREG, 0644, "c", 0, NULL },
                        { "rootfs/y", AE_IFREG, 0644, "c", 0, NULL },
                        { "rootfs/z", AE_IFREG, 0644, "c", 0, NULL },
                        { "rootfs/link", AE_IFREG, 0644, "c", 0, NULL },
                        { "rootfs/dir", AE_IFDIR, 0755, NULL, 0, NULL },
                        { "rootfs/dir/file", AE_IFREG, 0644, "c", 0, NULL },
                        { "rootfs/gone", AE_IFREG, 0644, "c", 0, NULL },
                        { "rootfs/c-unlisted", AE_IFREG, 0644, "c", 0, NULL },
                        { "rootfs/ro", AE_IFDIR, 0750, NULL, 0, NULL },
                        { "rootfs/ro/c", AE_IFREG, 0644, "c", 0, NULL },
                };
                struct gen_entry ea[] = {
                        { "rootfs/order", AE_IFREG, 0644, "a", 0, NULL },
                };

                b = make(s, "example.com/b", "", eb, ELEMENTSOF(eb));
                d = make(s, "example.com/d", "", ed, ELEMENTSOF(ed));
                /* C lists what it and D may contribute: d-not-in-c and c-unlisted go. */
                c = make(s, "example.com/c",
                         ",\"dependencies\":[{\"imageName\":\"example.com/d\",\"labels\":[{"
                         "\"name\":\"version\",\"value\":\"1\"}]}],\"pathWhitelist\":[\"/order\","
                         "\"/x\",\"/y\",\"/z\",\"/d-only\",\"/link\",\"/dir/file\",\"/gone\","
                         "\"/ro/c\"]",
                         ec, ELEMENTSOF(ec));
                (void)snprintf(
                        extra, sizeof(extra),
                        ",\"dependencies\":[{\"imageName\":\"example.com/b\"},"
                        "{\"imageName\":\"example.com/c\",\"imageID\":\"%s\"}],"
                        "\"pathWhitelist\":[\"/order\",\"/x\",\"/y\",\"/z\",\"/b-only\","
                        "\"/d-only\",\"/d-not-in-c\",\"/c-unlisted\",\"/link\",\"/dir\",\"/dir/"
                        "file\",\"/gone\",\"/ro/b\",\"/ro/c\"]",
                        c);
                a = make(s, "example.com/a", extra, ea, ELEMENTSOF(ea));
        }

        r = pod_store_render_tree(s, a, &tree, &name, &e);
        tap_ok(r == 0, "render A -> [B, C], C -> [D] (%s)", e.msg);
        if (r < 0)
                return tap_done();
        (void)snprintf(joined, sizeof(joined), "%s,%s,%s,%s", b, d, c, a);
        {
                _cleanup_(pod_sha512_freep) struct pod_sha512 *h = NULL;

                if (pod_sha512_new(&h) < 0 || pod_sha512_update(h, joined, strlen(joined)) < 0 ||
                    pod_sha512_final(h, digest) < 0)
                        abort();
                memcpy(want, "deps-", 5);
                pod_hex_encode(digest, sizeof(digest), want + 5);
        }
        tap_is_str(name, want, "tree name is deps- + sha512 of 'B,D,C,A' (the application order)");
        rootfs = openat(tree, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        tap_ok(rootfs >= 0, "tree has rootfs/");

#define CHECK(path, value, what)                      \
        do {                                          \
                free(x);                              \
                x = content(rootfs, path);            \
                tap_is_str(x, value, what ": " path); \
        } while (0)
        CHECK("order", "a", "the image wins over all dependencies");
        CHECK("x", "d", "D (second) overrides B (first)");
        CHECK("y", "c", "C overrides B");
        CHECK("z", "c", "C overrides its own dependency D");
        CHECK("b-only", "b", "a file of B alone stays");
        CHECK("d-only", "d", "a file of D listed by C and A stays");
        CHECK("d-not-in-c", "(none)", "C's whitelist filters D's files though A lists them");
        CHECK("c-unlisted", "(none)", "C's own whitelist filters C's files");
        CHECK("b-unlisted", "(none)", "A's whitelist filters B's files");
        CHECK("link", "c", "a file replaces a symlink");
        CHECK("dir/file", "c", "a directory replaces a symlink to a directory");
        CHECK("gone", "c", "a file replaces a directory");
        CHECK("ro/b", "b", "a directory merges the layers' files");
        CHECK("ro/c", "c", "... from both");
        {
                struct stat st;

                tap_ok(fstatat(rootfs, "ro", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               (st.st_mode & 07777) == 0750,
                       "a merged directory has the later layer's mode");
        }
        tap_ok(is_type(rootfs, "link", S_IFREG) && is_type(rootfs, "dir", S_IFDIR),
               "replaced symlinks are a file and a directory");
        free(x);
        x = content(AT_FDCWD, host_file);
        (void)snprintf(p, sizeof(p), "%s/file", host_dir);
        tap_ok(streq(x, "host\n") && access(p, F_OK) < 0, "host paths behind symlinks untouched");
        free(x);
        x = content(tree, "manifest");
        tap_ok(strstr(x, "\"example.com/a\"") != NULL, "tree manifest is A's");

        /* Again: the same tree, not re-rendered. */
        {
                _cleanup_close_ int t2 = -EBADF;
                _cleanup_free_ char *n2 = NULL;
                struct stat s1, s2;

                r = pod_store_render_tree(s, a, &t2, &n2, &e);
                tap_ok(r == 0 && streq(n2, name) && fstat(tree, &s1) == 0 && fstat(t2, &s2) == 0 &&
                               s1.st_ino == s2.st_ino,
                       "a second render reuses the tree");
        }

        /* An image without dependencies and whitelist renders as its own tree. */
        {
                _cleanup_close_ int t2 = -EBADF;
                _cleanup_free_ char *n2 = NULL;

                r = pod_store_render_tree(s, b, &t2, &n2, &e);
                tap_ok(r == 0 && streq(n2, b), "a plain image is its own tree");
        }

        /* render into a directory */
        (void)snprintf(p, sizeof(p), "%s/out", base);
        r = pod_store_extract(s, a, p, POD_STORE_EXTRACT_RENDER, &e);
        tap_ok(r == 0, "image render into a directory (%s)", e.msg);
        (void)snprintf(p, sizeof(p), "%s/out/rootfs/x", base);
        free(x);
        x = content(AT_FDCWD, p);
        tap_is_str(x, "d", "rendered directory has the layered files");
        {
                struct stat s1, s2;
                char q[900];

                (void)snprintf(q, sizeof(q), "%s/cas/tree/%s/rootfs/x", storedir, name);
                tap_ok(stat(p, &s1) == 0 && stat(q, &s2) == 0 && s1.st_ino != s2.st_ino,
                       "the rendered directory holds copies, not links into the store");
        }

        /* cycle: E -> F -> E by name */
        {
                _cleanup_free_ char *ie = NULL, *i_f = NULL;
                _cleanup_close_ int t = -EBADF;
                const char *dep_f = ",\"dependencies\":[{\"imageName\":\"example.com/f\"}]";
                const char *dep_e = ",\"dependencies\":[{\"imageName\":\"example.com/e\"}]";
                struct gen_entry none[] = { { "rootfs/e", AE_IFREG, 0644, "e", 0, NULL } };

                ie = make(s, "example.com/e", dep_f, none, 1);
                i_f = make(s, "example.com/f", dep_e, none, 1);
                pod_error_clear(&e);
                r = pod_store_render_tree(s, ie, &t, NULL, &e);
                tap_ok(r == -ELOOP && strstr(e.msg, "cycle") && strstr(e.msg, "example.com/e"),
                       "cycle refused: %s", e.msg);
        }

        /* depth: l0 -> l1 -> ... -> l33 */
        {
                _cleanup_free_ char *top = NULL;
                _cleanup_close_ int t = -EBADF;
                struct gen_entry none[] = { { "rootfs/l", AE_IFREG, 0644, "l", 0, NULL } };

                for (int i = 33; i >= 0; i--) {
                        char n[64], dep[128];

                        (void)snprintf(n, sizeof(n), "example.com/l%d", i);
                        if (i < 33)
                                (void)snprintf(dep, sizeof(dep),
                                               ",\"dependencies\":[{\"imageName\":\"example.com/"
                                               "l%d\"}]",
                                               i + 1);
                        else
                                dep[0] = 0;
                        free(top);
                        top = make(s, n, dep, none, 1);
                }
                pod_error_clear(&e);
                r = pod_store_render_tree(s, top, &t, NULL, &e);
                tap_ok(r == -ELOOP && strstr(e.msg, "deeper than 32"), "depth limit: %s", e.msg);
        }

        /* missing dependency */
        {
                _cleanup_free_ char *im = NULL;
                _cleanup_close_ int t = -EBADF;
                struct gen_entry none[] = { { "rootfs/m", AE_IFREG, 0644, "m", 0, NULL } };

                im = make(s, "example.com/m",
                          ",\"dependencies\":[{\"imageName\":\"example.com/nowhere\"}]", none, 1);
                pod_error_clear(&e);
                r = pod_store_render_tree(s, im, &t, NULL, &e);
                tap_ok(r == -ENOENT && strstr(e.msg, "example.com/nowhere") &&
                               strstr(e.msg, "not in the store"),
                       "missing dependency named: %s", e.msg);
        }

        /* gc: the tree goes with one of its layers */
        tree = safe_close(tree);
        rootfs = safe_close(rootfs);
        r = pod_store_remove(s, d, &e);
        tap_ok(r == 0, "remove D");
        r = pod_store_gc(s, UINT64_MAX / 2, NULL, NULL, &e);
        (void)snprintf(p, sizeof(p), "%s/cas/tree/%s", storedir, name);
        tap_ok(r == 0 && access(p, F_OK) < 0, "gc removed the rendered tree of a removed layer");

        (void)rm_rf_at(AT_FDCWD, base);
        return tap_done();
}
