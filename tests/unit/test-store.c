/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The store on a real directory with real archives: import, lookups, export, extract, verify
 * (detecting damage), remove, gc of orphans and stale temp dirs, cache records, concurrent
 * imports from several processes. */
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aci-gen.h"
#include "fd-util.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"
#include "sha512.h"
#include "store.h"
#include "tap.h"

static char base[] = "/tmp/test-store.XXXXXX";

static char *mfree(char *p) {
        free(p);
        return NULL;
}
static char storedir[600];

static void gen_named(const char *path, const char *name, const char *version, bool latest_extra) {
        char manifest[512];
        struct gen_entry e[] = {
                { "manifest", AE_IFREG, 0644, manifest, 0, NULL },
                { "rootfs", AE_IFDIR, 0755, NULL, 0, NULL },
                { "rootfs/etc", AE_IFDIR, 0755, NULL, 0, NULL },
                { "rootfs/etc/hostname", AE_IFREG, 0644, "pod\n", 0, NULL },
                { "rootfs/bin", AE_IFDIR, 0755, NULL, 0, NULL },
                { "rootfs/bin/data", AE_IFREG, 0755, NULL, 100000, NULL },
                { "rootfs/bin/link", AE_IFLNK, 0777, NULL, 0, "data" },
        };

        (void)snprintf(manifest, sizeof(manifest),
                       "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"%s\","
                       "\"labels\":[{\"name\":\"version\",\"value\":\"%s\"},{\"name\":\"os\","
                       "\"value\":\"linux\"}%s]}",
                       name, version, latest_extra ? ",{\"name\":\"extra\",\"value\":\"1\"}" : "");
        if (gen_aci(path, POD_COMPRESSION_GZIP, e, ELEMENTSOF(e)) < 0)
                abort();
}

static int import_file(struct pod_store *s, const char *path, bool latest, char **ret_id,
                       struct pod_error *e) {
        struct pod_store_import_options o = { .latest = latest };
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        pod_error_clear(e);
        return pod_store_import_fd(s, fd, &o, ret_id, e);
}

static int count_dir(const char *sub) {
        char p[700];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int n = 0;

        (void)snprintf(p, sizeof(p), "%s/%s", storedir, sub);
        d = opendir(p);
        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        return n;
}

static bool files_equal(const char *a, const char *b) {
        _cleanup_free_ char *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;

        return read_full_file_at(AT_FDCWD, a, 64 << 20, &x, &nx) == 0 &&
               read_full_file_at(AT_FDCWD, b, 64 << 20, &y, &ny) == 0 && nx == ny &&
               memcmp(x, y, nx) == 0;
}

static int reject_all(const char *id, const struct pod_image_manifest *m, void *userdata,
                      struct pod_error *reterr) {
        return pod_error_set(reterr, -EPERM, "name '%s' is not wanted", m->name);
}

static bool store_has(struct pod_store *s, const char *id) {
        _cleanup_(pod_store_image_freep) struct pod_store_image *i = NULL;

        return pod_store_get_image(s, id, &i, NULL) == 0;
}

int main(void) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *id1 = NULL, *id2 = NULL, *id3 = NULL, *again = NULL, *got = NULL;
        char a1[700], a2[700], a3[700], p[900], prefix[200];
        struct pod_store_image **l = NULL;
        struct pod_error e = {};
        size_t n = 0;
        int r;

        if (!mkdtemp(base))
                return tap_skip_all("no temp dir");
        (void)snprintf(storedir, sizeof(storedir), "%s/store", base);
        (void)snprintf(a1, sizeof(a1), "%s/a1.aci", base);
        (void)snprintf(a2, sizeof(a2), "%s/a2.aci", base);
        (void)snprintf(a3, sizeof(a3), "%s/a3.aci", base);
        gen_named(a1, "example.com/app", "1.0", false);
        gen_named(a2, "example.com/app", "2.0", false);
        gen_named(a3, "example.com/other", "1.0", true);

        r = pod_store_open(storedir, &s, &e);
        tap_ok(r == 0, "open a new store (%s)", e.msg);
        if (r < 0)
                return tap_done();
        tap_ok(count_dir("cas/db") >= 1 && count_dir("cas/tree") == 0, "layout created");

        /* import */
        r = import_file(s, a1, false, &id1, &e);
        tap_ok(r == 0 && image_id_valid(id1, true), "import a1 (%s)", e.msg);
        {
                _cleanup_(pod_store_image_freep) struct pod_store_image *i = NULL;
                _cleanup_close_ int t = -EBADF;

                r = pod_store_get_image(s, id1, &i, &e);
                tap_ok(r == 0 && streq(i->name, "example.com/app") && i->n_labels == 2 &&
                               streq(pod_kv_get(i->labels, i->n_labels, "version"), "1.0") &&
                               i->size > 100000 && i->blob_size > 0 && !i->latest &&
                               i->import_time > 0 && i->last_used == i->import_time,
                       "record has name, labels, sizes, times");
                tap_ok(pod_store_open_tree(s, id1, &t, &e) == 0 &&
                               faccessat(t, "rootfs/etc/hostname", F_OK, 0) == 0 &&
                               faccessat(t, "manifest", F_OK, 0) == 0,
                       "rendered tree");
        }
        r = import_file(s, a1, false, &again, &e);
        tap_ok(r == 0 && streq(again, id1), "re-import gives the same ID");
        tap_ok(pod_store_list(s, &l, &n, &e) == 0 && n == 1, "still one image");
        pod_store_image_list_free(l, n);
        tap_ok(count_dir("cas/tmp") == 0, "no temp dirs left");

        /* lookups */
        tap_ok(pod_store_resolve(s, id1, &got, &e) == 0 && streq(got, id1), "resolve full ID");
        got = mfree(got);
        (void)snprintf(prefix, sizeof(prefix), "%.71s", id1); /* rkt's 64-hex form */
        tap_ok(pod_store_resolve(s, prefix, &got, &e) == 0 && streq(got, id1), "resolve 64-hex ID");
        got = mfree(got);
        (void)snprintf(prefix, sizeof(prefix), "%.12s", id1);
        for (char *c = prefix + 7; *c; c++)
                *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);
        tap_ok(pod_store_resolve(s, prefix, &got, &e) == 0 && streq(got, id1),
               "resolve short upper-case prefix");
        got = mfree(got);
        pod_error_clear(&e);
        tap_ok(pod_store_resolve(s, "sha512-a", &got, &e) == -EINVAL, "1-digit prefix refused");
        pod_error_clear(&e);
        tap_ok(pod_store_resolve(s, "sha512-xyz", &got, &e) == -EINVAL, "non-hex refused");
        tap_ok(pod_store_resolve(s, "example.com/app", &got, &e) == 0 && streq(got, id1),
               "resolve by name");
        got = mfree(got);
        tap_ok(pod_store_resolve(s, "example.com/app:1.0,os=linux", &got, &e) == 0 &&
                       streq(got, id1),
               "resolve by name, version and label");
        got = mfree(got);
        pod_error_clear(&e);
        r = pod_store_resolve(s, "example.com/app:3.0", &got, &e);
        tap_ok(r == -ENOENT && strstr(e.msg, "example.com/app"), "missing version: %s", e.msg);
        pod_error_clear(&e);
        tap_ok(pod_store_resolve(s, "Bad Name", &got, &e) == -EINVAL, "invalid name refused");

        /* newest import wins, unless another is "latest" */
        r = import_file(s, a2, false, &id2, &e);
        tap_ok(r == 0 && !streq(id1, id2), "import a2");
        tap_ok(pod_store_resolve(s, "example.com/app", &got, &e) == 0 && streq(got, id2),
               "name resolves to the newest import");
        got = mfree(got);
        pod_error_clear(&e);
        r = pod_store_resolve_unique(s, "example.com/app", &got, &e);
        tap_ok(r == -ENOTUNIQ && strstr(e.msg, "ambiguous") && strstr(e.msg, "2 images"),
               "unique resolution refuses a name with two images: %s", e.msg);
        tap_ok(pod_store_resolve_unique(s, "example.com/app:2.0", &got, &e) == 0 && streq(got, id2),
               "unique resolution with a version");
        got = mfree(got);
        again = mfree(again);
        tap_ok(import_file(s, a1, true, &again, &e) == 0 && streq(again, id1),
               "re-import a1 as latest");
        tap_ok(pod_store_resolve(s, "example.com/app", &got, &e) == 0 && streq(got, id1),
               "name resolves to the latest-fetched image");
        got = mfree(got);

        /* export gives the same bytes, hence the same ID and a valid signature */
        (void)snprintf(p, sizeof(p), "%s/exported.aci", base);
        tap_ok(pod_store_export(s, id1, p, false, &e) == 0 && files_equal(p, a1),
               "export writes the imported bytes");
        pod_error_clear(&e);
        tap_ok(pod_store_export(s, id2, p, false, &e) == -EEXIST && files_equal(p, a1) &&
                       strstr(e.msg, "use --overwrite"),
               "export refuses an existing file, leaving it as it was (%s)", e.msg);
        pod_error_clear(&e);
        tap_ok(pod_store_export(s, id2, p, true, &e) == 0 && files_equal(p, a2),
               "export with overwrite replaces it (%s)", e.msg);

        /* extract / render */
        (void)snprintf(p, sizeof(p), "%s/extracted", base);
        tap_ok(pod_store_extract(s, id1, p, 0, &e) == 0, "extract (%s)", e.msg);
        (void)snprintf(prefix, sizeof(prefix), "%s/extracted/rootfs/bin/data", base);
        tap_ok(access(prefix, F_OK) == 0, "extracted file present");
        pod_error_clear(&e);
        tap_ok(pod_store_extract(s, id1, p, 0, &e) == -EEXIST && strstr(e.msg, "--overwrite"),
               "existing dir refused without overwrite");
        tap_ok(pod_store_extract(s, id2, p,
                                 POD_STORE_EXTRACT_OVERWRITE | POD_STORE_EXTRACT_ROOTFS_ONLY |
                                         POD_STORE_EXTRACT_RENDER,
                                 &e) == 0,
               "render rootfs-only with overwrite (%s)", e.msg);
        (void)snprintf(prefix, sizeof(prefix), "%s/extracted/bin/data", base);
        tap_ok(access(prefix, F_OK) == 0, "rootfs-only layout");
        (void)snprintf(prefix, sizeof(prefix), "%s/extracted/manifest", base);
        tap_ok(access(prefix, F_OK) < 0, "old contents replaced");

        /* verify, then damage */
        tap_ok(pod_store_verify(s, id1, &e) == 0, "verify a1 (%s)", e.msg);
        r = import_file(s, a3, false, &id3, &e);
        tap_ok(r == 0, "import a3");
        {
                char bp[900];
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                (void)snprintf(bp, sizeof(bp), "%s/cas/tree/%s/rootfs/etc/hostname", storedir, id3);
                tap_ok(unlink(bp) == 0, "damage a3's tree");
                pod_error_clear(&e);
                r = pod_store_verify(s, id3, &e);
                tap_ok(r == -EBADMSG && strstr(e.msg, "rootfs/etc/hostname"),
                       "verify names the missing file: %s", e.msg);

                /* Same size, zeros where data was: what a write lost to a full disk left. */
                {
                        static const char zeros[4096];
                        _cleanup_close_ int h = -EBADF, d = -EBADF;

                        h = open(bp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                        tap_ok(h >= 0 && write(h, "pod\n", 4) == 4, "restore a3's hostname");
                        (void)snprintf(bp, sizeof(bp), "%s/cas/tree/%s/rootfs/bin/data", storedir,
                                       id3);
                        d = open(bp, O_WRONLY | O_CLOEXEC);
                        tap_ok(d >= 0 && pwrite(d, zeros, sizeof(zeros), 8192) == sizeof(zeros),
                               "zero 4 KiB of a3's rootfs/bin/data");
                        pod_error_clear(&e);
                        r = pod_store_verify(s, id3, &e);
                        tap_ok(r == -EBADMSG && strstr(e.msg, "content of 'rootfs/bin/data' "
                                                              "differs from the image at "
                                                              "offset 8192"),
                               "verify finds changed content of the same size: %s", e.msg);
                }

                (void)snprintf(bp, sizeof(bp), "%s/cas/blob/sha512/%c%c/%s", storedir, id2[7],
                               id2[8], id2);
                (void)chmod(bp, 0644); /* blobs are read-only, also for their owner */
                fd = open(bp, O_RDWR | O_CLOEXEC);
                tap_ok(fd >= 0 && fstat(fd, &st) == 0 &&
                               pwrite(fd, "\x00\x00\x00\x00", 4, st.st_size - 12) == 4,
                       "damage a2's blob");
                pod_error_clear(&e);
                r = pod_store_verify(s, id2, &e);
                tap_ok(r == -EBADMSG && strstr(e.msg, id2), "verify detects the blob: %s", e.msg);
                pod_error_clear(&e);
                (void)snprintf(p, sizeof(p), "%s/extracted2", base);
                r = pod_store_extract(s, id2, p, 0, &e);
                tap_ok(r < 0 && access(p, F_OK) < 0, "extract of a damaged blob fails cleanly: %s",
                       e.msg);
        }

        /* check callback can refuse; hostile archives leave nothing */
        {
                struct pod_store_import_options o = { .check = reject_all };
                _cleanup_close_ int fd = open(a1, O_RDONLY | O_CLOEXEC);
                _cleanup_free_ char *x = NULL;
                const struct gen_entry bad[] = {
                        { "manifest", AE_IFREG, 0644, GEN_MANIFEST, 0, NULL },
                        { "rootfs/ok", AE_IFREG, 0644, "fine", 0, NULL },
                        { "rootfs/../../../escape", AE_IFREG, 0644, "x", 0, NULL },
                };
                int trees = count_dir("cas/tree");

                pod_error_clear(&e);
                r = pod_store_remove(s, id1, &e);
                tap_ok(r == 0, "remove a1 (%s)", e.msg);
                pod_error_clear(&e);
                r = pod_store_import_fd(s, fd, &o, &x, &e);
                tap_ok(r == -EPERM && strstr(e.msg, "not wanted"), "check callback refuses");
                tap_ok(count_dir("cas/tree") == trees - 1 && count_dir("cas/tmp") == 0,
                       "refused import leaves no tree and no temp dir");
                (void)snprintf(p, sizeof(p), "%s/bad.aci", base);
                tap_ok(gen_aci(p, POD_COMPRESSION_ZSTD, bad, ELEMENTSOF(bad)) == 0, "hostile aci");
                r = import_file(s, p, false, &x, &e);
                tap_ok(r == -EPERM && strstr(e.msg, "rootfs/../../../escape"),
                       "hostile import refused: %s", e.msg);
                tap_ok(count_dir("cas/tree") == trees - 1 && count_dir("cas/tmp") == 0,
                       "hostile import leaves nothing");
                pod_error_clear(&e);
                tap_ok(pod_store_resolve(s, id1, &x, &e) == -ENOENT, "removed image is gone");
        }

        /* cache records */
        {
                struct pod_store_remote in = {
                        .aci_url = (char *)"https://example.com/a.aci",
                        .sig_url = (char *)"https://example.com/a.aci.asc",
                        .etag = (char *)"\"abc\"",
                        .image_id = id3,
                        .max_age = 60,
                        .download_time = 1234,
                };
                _cleanup_(pod_store_remote_freep) struct pod_store_remote *out = NULL;

                tap_ok(pod_store_remote_put(s, &in, &e) == 0, "put a cache record");
                tap_ok(pod_store_remote_get(s, in.aci_url, &out, &e) == 0 &&
                               streq(out->etag, "\"abc\"") && streq(out->image_id, id3) &&
                               out->max_age == 60 && out->download_time == 1234 &&
                               streq(out->sig_url, in.sig_url),
                       "get it back");
                pod_error_clear(&e);
                tap_ok(pod_store_remove(s, id3, &e) == 0, "remove a3");
                out = pod_store_remote_free(out);
                pod_error_clear(&e);
                tap_ok(pod_store_remote_get(s, in.aci_url, &out, &e) == -ENOENT,
                       "record of a removed image is gone");
        }

        /* gc: orphans and stale temp dirs; unused images */
        {
                char fake[POD_IMAGE_ID_SIZE] = "sha512-";

                memset(fake + 7, 'a', 128);
                fake[135] = 0;
                (void)snprintf(p, sizeof(p), "%s/cas/tree/%s", storedir, fake);
                tap_ok(mkdir(p, 0755) == 0, "orphan tree");
                (void)snprintf(p, sizeof(p), "%s/cas/tmp/99999-dead", storedir);
                tap_ok(mkdir(p, 0700) == 0, "stale temp dir");
                tap_ok(pod_store_gc(s, 3600ull * 1000000, NULL, NULL, &e) == 0, "gc (%s)", e.msg);
                tap_ok(count_dir("cas/tree") == 1 && count_dir("cas/tmp") == 0,
                       "orphan tree and temp dir removed, used image kept");
                tap_ok(pod_store_gc(s, 0, NULL, NULL, &e) == 0 && count_dir("cas/tree") == 0 &&
                               pod_store_list(s, &l, &n, &e) == 0 && n == 0,
                       "gc with no grace removes unused images");
                pod_store_image_list_free(l, n);
                tap_ok(count_dir("cas/locks") == 1, "gc removes lock files of removed images");
        }

        /* pins: a pinned image is kept by remove (-EBUSY) and gc; a removed one cannot be
         * pinned.  Another handle stands for the other process (flock is per open file). */
        {
                _cleanup_(pod_store_freep) struct pod_store *other = NULL;
                _cleanup_free_ char *id = NULL;

                tap_ok(import_file(s, a3, false, &id, &e) == 0, "re-import a3 (%s)", e.msg);
                tap_ok(pod_store_open(storedir, &other, &e) == 0, "a second handle");
                pod_error_clear(&e);
                tap_ok(pod_store_remove(other, id, &e) == -EBUSY,
                       "what a handle imported stays until it is done (%s)", e.msg);
                pod_store_unpin_all(s);
                tap_ok(pod_store_pin(other, id, &e) == 0, "pin a3 (%s)", e.msg);
                pod_error_clear(&e);
                tap_ok(pod_store_remove(s, id, &e) == -EBUSY && strstr(e.msg, "in use"),
                       "remove keeps a pinned image (%s)", e.msg);
                tap_ok(pod_store_gc(s, 0, NULL, NULL, &e) == 0 && store_has(s, id),
                       "gc keeps a pinned image");
                pod_store_unpin_all(other);
                pod_error_clear(&e);
                (void)snprintf(p, sizeof(p), "%s/cas/locks/%s.use", storedir, id);
                tap_ok(pod_store_remove(s, id, &e) == 0 && access(p, F_OK) < 0,
                       "unpinned, it is removed, with its pin lock file (%s)", e.msg);
                pod_error_clear(&e);
                tap_ok(pod_store_pin(other, id, &e) == -ENOENT &&
                               strstr(e.msg, "was removed from the store"),
                       "a removed image cannot be pinned (%s)", e.msg);
        }

        /* four processes import the same file at once: one image, no errors */
        {
                pid_t pids[4];
                bool all_ok = true;

                s = pod_store_free(s);
                for (int i = 0; i < 4; i++) {
                        pids[i] = fork();
                        if (pids[i] == 0) {
                                struct pod_store *cs = NULL;
                                struct pod_error ce = {};
                                char *cid = NULL;

                                if (pod_store_open(storedir, &cs, &ce) < 0 ||
                                    import_file(cs, a2, false, &cid, &ce) < 0) {
                                        fprintf(stderr, "child: %s\n", ce.msg);
                                        _exit(1);
                                }
                                _exit(0);
                        }
                }
                for (int i = 0; i < 4; i++) {
                        int st = 0;

                        if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                                all_ok = false;
                }
                tap_ok(all_ok, "4 concurrent imports succeeded");
                tap_ok(pod_store_open(storedir, &s, &e) == 0 &&
                               pod_store_list(s, &l, &n, &e) == 0 && n == 1 &&
                               count_dir("cas/tree") == 1 && count_dir("cas/tmp") == 0,
                       "one image, one tree, no temp dirs");
                pod_store_image_list_free(l, n);
        }

        /* ambiguous prefix: import until two IDs share the first two hex digits */
        {
                _cleanup_free_ char *x = NULL;
                char ids[64][POD_IMAGE_ID_SIZE];
                int found = -1, k;

                for (k = 0; k < 64 && found < 0; k++) {
                        char name[64], *id = NULL;

                        (void)snprintf(name, sizeof(name), "example.com/amb%d", k);
                        gen_named(a3, name, "1", false);
                        if (import_file(s, a3, false, &id, &e) < 0)
                                break;
                        memcpy(ids[k], id, POD_IMAGE_ID_SIZE);
                        free(id);
                        for (int j = 0; j < k; j++)
                                if (strneq(ids[j], ids[k], 9))
                                        found = j;
                }
                tap_ok(found >= 0, "two IDs share a 2-digit prefix");
                if (found >= 0) {
                        (void)snprintf(prefix, sizeof(prefix), "%.9s", ids[found]);
                        pod_error_clear(&e);
                        r = pod_store_resolve(s, prefix, &x, &e);
                        tap_ok(r == -ENOTUNIQ && strstr(e.msg, "ambiguous") &&
                                       strstr(e.msg, prefix),
                               "ambiguous prefix lists candidates: %s", e.msg);
                }
        }

        /* The schemas run at open only when an object they create is missing: each missing
         * one (a crash between two CREATEs, an older store) comes back, and a v1 store gets
         * its blob_sha512 column. */
        {
                static const char *const drops[] = {
                        "DROP INDEX images_name",
                        "DROP TRIGGER provenance_drop",
                        "DROP INDEX oci_digests_id",
                        "DROP TABLE oci_tags",
                        "ALTER TABLE images DROP COLUMN blob_sha512",
                };
                static const char *const names[] = { "images_name", "provenance_drop",
                                                     "oci_digests_id", "oci_tags", NULL };
                char db_path[1000];

                s = pod_store_free(s);
                (void)snprintf(db_path, sizeof(db_path), "%s/cas/db/index.sqlite", storedir);
                for (size_t i = 0; i < ELEMENTSOF(drops); i++) {
                        sqlite3 *db = NULL;
                        bool back = false;

                        tap_ok(sqlite3_open(db_path, &db) == SQLITE_OK &&
                                       sqlite3_exec(db, drops[i], NULL, NULL, NULL) == SQLITE_OK,
                               "%s", drops[i]);
                        (void)sqlite3_close(db);
                        pod_error_clear(&e);
                        r = pod_store_open(storedir, &s, &e);
                        tap_ok(r == 0, "reopen after %s (%s)", drops[i], e.msg);
                        s = pod_store_free(s);
                        db = NULL;
                        if (sqlite3_open(db_path, &db) == SQLITE_OK) {
                                char q[200];
                                sqlite3_stmt *st = NULL;

                                if (names[i] || i == ELEMENTSOF(drops) - 1)
                                        (void)snprintf(q, sizeof(q),
                                                       names[i] ? "SELECT 1 FROM sqlite_master "
                                                                  "WHERE name = '%s'"
                                                                : "SELECT blob_sha512 FROM "
                                                                  "images LIMIT 0%s",
                                                       names[i] ? names[i] : "");
                                back = sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK &&
                                       (names[i] ? sqlite3_step(st) == SQLITE_ROW : true);
                                (void)sqlite3_finalize(st);
                        }
                        (void)sqlite3_close(db);
                        tap_ok(back, "... and it is back");
                }
        }

        s = pod_store_free(s);
        (void)rm_rf_at(AT_FDCWD, base);
        return tap_done();
}
