/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-oci.h on a real store with real layer tars (built by python3's tarfile here, gzip and
 * zstd compressed): import with whiteouts, opaque dirs, hard links and symlinks; hostile
 * layers (lying diff_id, wrong digest, truncated blob, "../", a real 0/0 device, a
 * trusted.overlay.* attribute); commit, resolve, lowers, layer sharing, tags that move,
 * concurrent imports, verify, remove, gc and extract. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "oci.h"
#include "podlimits.h"
#include "sha256.h"
#include "store-oci.h"
#include "store.h"
#include "tap.h"

#define ZERO63 "000000000000000000000000000000000000000000000000000000000000000"
#define ZERO64 ZERO63 "0"

static char base[] = "/tmp/test-store-oci.XXXXXX";

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}
static char **strv_free_ret(char **l) {
        strv_free(l);
        return NULL;
}
static char storedir[600];

static const char generator[] =
        "import io, os, sys, tarfile, gzip, subprocess\n"
        "out = sys.argv[1]\n"
        "def add(t, name, kind='f', data=b'', mode=0o644, link=None, pax=None, dev=None):\n"
        "    i = tarfile.TarInfo(name)\n"
        "    i.mode = mode; i.mtime = 1700000000; i.uid = 0; i.gid = 0\n"
        "    if pax: i.pax_headers = pax\n"
        "    if kind == 'd': i.type = tarfile.DIRTYPE\n"
        "    elif kind == 'l': i.type = tarfile.SYMTYPE; i.linkname = link\n"
        "    elif kind == 'h': i.type = tarfile.LNKTYPE; i.linkname = link\n"
        "    elif kind == 'c': i.type = tarfile.CHRTYPE; i.devmajor, i.devminor = dev\n"
        "    else: i.size = len(data)\n"
        "    t.addfile(i, io.BytesIO(data) if kind == 'f' else None)\n"
        "def write(name, entries):\n"
        "    with tarfile.open(os.path.join(out, name + '.tar'), 'w', format=tarfile.PAX_FORMAT) "
        "as t:\n"
        "        for e in entries: add(t, *e[0:1], **e[1])\n"
        "    raw = open(os.path.join(out, name + '.tar'), 'rb').read()\n"
        "    open(os.path.join(out, name + '.tar.gz'), 'wb').write(gzip.compress(raw, mtime=0))\n"
        "    subprocess.run(['zstd', '-q', '-f', os.path.join(out, name + '.tar'), '-o',\n"
        "                    os.path.join(out, name + '.tar.zst')], check=True)\n"
        "E = lambda n, **k: (n, k)\n"
        "write('l1', [E('./', kind='d', mode=0o755), E('./etc/', kind='d', mode=0o755),\n"
        "    E('./etc/passwd', data=b'root:x:0:0::/root:/bin/sh\\n'),\n"
        "    E('./bin/', kind='d', mode=0o755), E('./bin/tool', data=b'#!tool\\n' * 100, "
        "mode=0o755),\n"
        "    E('./bin/sh', kind='l', link='tool'), E('./bin/tool2', kind='h', link='./bin/tool'),\n"
        "    E('./bin/up', kind='l', link='../../../../usr/bin/env'),\n"
        "    E('./opq/', kind='d', mode=0o755), E('./opq/old', data=b'old'),\n"
        "    E('./gone', data=b'bye'), E('./dup', data=b'first'), E('./dup', data=b'second')])\n"
        "write('l2', [E('etc/', kind='d', mode=0o755), E('etc/hostname', data=b'pod\\n'),\n"
        "    E('.wh.gone'), E('opq/', kind='d', mode=0o700), E('opq/.wh..wh..opq'),\n"
        "    E('opq/new', data=b'new'), E('deep/er/.wh..wh..opq'),\n"
        "    E('.wh..wh.plnk/', kind='d', mode=0o700), E('.wh..wh.plnk/123.456', data=b'x'),\n"
        "    E('sneaky/', kind='d', mode=0o755,\n"
        "      pax={'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.user.ok': 'fine'}),\n"
        "    E('sneaky/f', data=b'f', pax={'SCHILY.xattr.trusted.overlay.redirect': '/etc'})])\n"
        "write('l3', [E('etc/', kind='d', mode=0o755), E('etc/motd', data=b'image b\\n')])\n"
        "write('l4', [E('concurrent', data=b'c' * 300000)])\n"
        "write('l5', [E('x', kind='l', link=sys.argv[2]), E('x', data=b'replaced'),\n"
        "    E('h', data=b'h'), E('h2', kind='h', link='h'), E('h', kind='l', link='/etc')])\n"
        "write('dotdot', [E('a', data=b'a'), E('../escape', data=b'x')])\n"
        "write('chr00', [E('dev/', kind='d', mode=0o755), E('dev/fake', kind='c', dev=(0, 0), "
        "mode=0)])\n"
        "write('hardlater', [E('a', kind='h', link='b'), E('b', data=b'b')])\n"
        "write('below-symlink', [E('l', kind='l', link='/etc'), E('l/passwd', data=b'x')])\n"
        "write('wh-dir', [E('.wh.x/', kind='d', mode=0o755), E('.wh.x/y', data=b'y')])\n"
        "write('dir-to-file', [E('d/', kind='d', mode=0o755), E('d', data=b'x')])\n"
        "raw = open(os.path.join(out, 'l3.tar.gz'), 'rb').read()\n"
        "open(os.path.join(out, 'trunc.tar.gz'), 'wb').write(raw[:len(raw) // 2])\n";

struct layer {
        char digest[POD_SHA256_STRING_SIZE]; /* of the file imported */
        char diff_id[POD_SHA256_STRING_SIZE];
        char path[700];
        uint64_t size;
};

static void sha_file(const char *path, char ret[POD_SHA256_STRING_SIZE], uint64_t *size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t n = 0;

        if (fd < 0 || pod_sha256_fd(fd, ret, &n) < 0)
                abort();
        if (size)
                *size = n;
}

/* name: "l1"; ext: ".tar.gz", ".tar.zst", ".tar" */
static void layer_of(const char *name, const char *ext, struct layer *l) {
        char tar[700];

        (void)snprintf(tar, sizeof(tar), "%s/gen/%s.tar", base, name);
        (void)snprintf(l->path, sizeof(l->path), "%s/gen/%s%s", base, name, ext);
        if (access(tar, F_OK) == 0) /* trunc.tar.gz has none: the caller sets it */
                sha_file(tar, l->diff_id, NULL);
        else
                l->diff_id[0] = 0;
        sha_file(l->path, l->digest, &l->size);
}

static int import(struct pod_store *s, const struct layer *l, const char *digest,
                  const char *diff_id, const char *media_type, struct pod_error *e) {
        _cleanup_close_ int fd = open(l->path, O_RDONLY | O_CLOEXEC);
        struct pod_store_oci_layer ol = {
                .digest = digest ?: l->digest,
                .diff_id = diff_id ?: l->diff_id,
                .media_type = media_type,
                .size = l->size,
        };

        pod_error_clear(e);
        if (fd < 0)
                return -errno;
        return pod_store_oci_import_layer_fd(s, fd, &ol, NULL, 0, e);
}

static int count_dir(const char *sub) {
        char p[700];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int n = 0;

        (void)snprintf(p, sizeof(p), "%s/%s", storedir, sub);
        d = opendir(p);
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        return n;
}

static void layer_path(const struct layer *l, const char *rel, char ret[900]) {
        (void)snprintf(ret, 900, "%s/cas/layer/sha256-%s/rootfs/%s", storedir, l->diff_id + 7, rel);
}

static bool is_whiteout(const char *path) {
        struct stat st;

        return lstat(path, &st) >= 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

static ssize_t xattr(const char *path, const char *name, char *buf, size_t size) {
        memset(buf, 0, size);
        return lgetxattr(path, name, buf, size - 1);
}

static char *config_for(const struct layer *const *ls, size_t n, const char *cmd) {
        char ids[2048] = "";
        char *c = NULL;

        for (size_t i = 0; i < n; i++) {
                strcat(ids, i ? ",\"" : "\"");
                strcat(ids, ls[i]->diff_id);
                strcat(ids, "\"");
        }
        if (asprintf(&c,
                     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"%s\"],"
                     "\"ExposedPorts\":{\"80/tcp\":{}}},\"rootfs\":{\"type\":\"layers\","
                     "\"diff_ids\":[%s]}}",
                     cmd, ids) < 0)
                abort();
        return c;
}

static int commit(struct pod_store *s, const struct layer *const *ls, size_t n, const char *cmd,
                  const char *repo, const char *tag, const char *mdigest, char **ret_id,
                  struct pod_error *e) {
        _cleanup_free_ char *config = config_for(ls, n, cmd);
        struct pod_store_oci_layer ol[8] = {};
        static const char manifest[] = "{\"schemaVersion\":2}";

        for (size_t i = 0; i < n; i++)
                ol[i] = (struct pod_store_oci_layer){ .digest = ls[i]->digest,
                                                      .diff_id = ls[i]->diff_id,
                                                      .size = ls[i]->size };
        pod_error_clear(e);
        return pod_store_oci_commit(s,
                                    &(struct pod_store_oci_image){
                                            .registry = "127.0.0.1:5000",
                                            .repository = repo,
                                            .tag = tag,
                                            .manifest_digest = mdigest,
                                            .manifest = manifest,
                                            .manifest_size = strlen(manifest),
                                            .config = config,
                                            .config_size = strlen(config),
                                            .layers = ol,
                                            .n_layers = n,
                                    },
                                    ret_id, e);
}

struct gc_log {
        char text[8192];
};
static void gc_removed(const char *what, const char *name, void *userdata) {
        struct gc_log *g = userdata;
        size_t n = strlen(g->text);

        (void)snprintf(g->text + n, sizeof(g->text) - n, "%s %s\n", what, name);
}

/* The bytes through a pipe (no seek, no size), as a download streams them. */
static int import_pipe(struct pod_store *s, const struct layer *l, struct pod_error *e) {
        struct pod_store_oci_layer ol = {
                .digest = l->digest,
                .diff_id = l->diff_id,
                .media_type = POD_OCI_MEDIA_LAYER,
                .size = l->size,
        };
        int p[2], status = 0, r;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid == 0) {
                _cleanup_free_ char *data = NULL;
                size_t n = 0;

                safe_close(p[0]);
                if (read_full_file_at(AT_FDCWD, l->path, 1 << 24, &data, &n) < 0 ||
                    loop_write(p[1], data, n) < 0)
                        _exit(1);
                _exit(0);
        }
        safe_close(p[1]);
        pod_error_clear(e);
        r = pod_store_oci_import_layer_fd(s, p[0], &ol, NULL, 0, e);
        safe_close(p[0]);
        (void)waitpid(pid, &status, 0);
        return r;
}

static void test_limits(struct pod_store *s, const struct layer *l3) {
        struct pod_limits lim = pod_limits_default;
        struct pod_error e = {};
        struct layer l4;
        _cleanup_close_ int fd = -EBADF;
        struct pod_store_oci_layer ol;
        int r;

        layer_of("l4", ".tar.gz", &l4);
        ol = (struct pod_store_oci_layer){ .digest = l4.digest, .diff_id = l4.diff_id };
        lim.image_max_unpacked = 100000; /* l4 unpacks to 300 kB */
        fd = open(l4.path, O_RDONLY | O_CLOEXEC);
        r = pod_store_oci_import_layer_fd(s, fd, &ol, &lim, 0, &e);
        tap_ok(r == -EFBIG && strstr(e.msg, "image-max-unpacked-size"),
               "unpacked-size limit applies to layers (%s)", e.msg);
        tap_is_int(pod_store_oci_have_layer(s, l4.diff_id, NULL), 0, "nothing stored");
        (void)l3;
}

/* stage0's view (when the suite gives us the binary): `image list` and `status` show the
 * docker:// names and, with --full or as JSON, the registry digest. */
static bool cli_output_has(const char *args, const char *want) {
        char cmd[1200], out[8192] = "";
        FILE *f;
        size_t n;

        (void)snprintf(cmd, sizeof(cmd), "%s --dir=%s %s", getenv("POD"), storedir, args);
        f = popen(cmd, "re");
        if (!f)
                return false;
        n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = 0;
        if (pclose(f) != 0)
                return false;
        return strstr(out, want) != NULL;
}

static void test_cli(const char *ida) {
        char args[300];

        if (!getenv("POD") || access(getenv("POD"), X_OK) < 0) {
                tap_ok(true, "# SKIP no $POD");
                return;
        }
        tap_ok(cli_output_has("image list --no-legend", "docker://127.0.0.1:5000/test/a:v2"),
               "image list shows the docker:// name");
        tap_ok(cli_output_has("image list --no-legend --full",
                              "docker://127.0.0.1:5000/test/a:v2@sha256:" ZERO63 "7"),
               "image list --full adds the registry digest");
        tap_ok(cli_output_has("image list --format=json", "\"registryDigest\":\"sha256:"),
               "JSON has registryDigest");
        tap_ok(cli_output_has("image list --format=json", "\"dockerNames\":["),
               "JSON has dockerNames");
        (void)snprintf(args, sizeof(args), "image status %.20s", ida);
        tap_ok(cli_output_has(args, "Docker name: docker://127.0.0.1:5000/test/a:v2"),
               "image status shows the docker:// name");
}

static void test_hostile(struct pod_store *s) {
        static const struct {
                const char *name;
                int error;
                const char *what;
        } cases[] = {
                { "dotdot", -EPERM, "'..'" },
                { "chr00", -EPERM, "0/0" },
                { "hardlater", -EPERM, "not an earlier regular file" },
                { "below-symlink", -EPERM, "below the symlink" },
                { "wh-dir", -EPERM, "whiteout name used as a directory" },
                { "dir-to-file", -EPERM, "another type" },
        };
        struct pod_error e = {};
        int layers = count_dir("cas/layer");

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct layer l;
                int r;

                layer_of(cases[i].name, ".tar.gz", &l);
                r = import(s, &l, NULL, NULL, NULL, &e);
                tap_ok(r == cases[i].error && strstr(e.msg, cases[i].what),
                       "hostile layer '%s' refused (%d: %s)", cases[i].name, r, e.msg);
                tap_ok(pod_store_oci_have_layer(s, l.diff_id, NULL) == 0, "  ... not stored");
        }
        tap_is_int(count_dir("cas/layer"), layers, "no layer dir from hostile layers");
        tap_is_int(count_dir("cas/tmp"), 0, "no temp dirs left behind");
}

static void test_bad_bytes(struct pod_store *s, const struct layer *l3) {
        struct layer l, t;
        struct pod_error e = {};
        char other[POD_SHA256_STRING_SIZE];
        int r;

        layer_of("l3", ".tar.gz", &l);
        (void)snprintf(other, sizeof(other), "sha256:%064d", 0);
        r = import(s, &l, NULL, other, NULL, &e);
        tap_ok(r == -EBADMSG && strstr(e.msg, "diff_id") && strstr(e.msg, l.diff_id),
               "lying diff_id refused, actual named (%s)", e.msg);
        r = import(s, &l, other, NULL, NULL, &e);
        tap_ok(r == -EBADMSG && strstr(e.msg, "digest") && strstr(e.msg, l.digest),
               "wrong digest refused (%s)", e.msg);
        layer_of("l3", ".tar.zst", &t);
        r = import(s, &t, NULL, NULL, "application/vnd.oci.image.layer.v1.tar+gzip", &e);
        tap_ok(r == -EBADMSG && strstr(e.msg, "gzip"), "zstd data under a gzip media type (%s)",
               e.msg);
        layer_of("trunc", ".tar.gz", &t);
        memcpy(t.diff_id, l.diff_id, sizeof(t.diff_id));
        r = import(s, &t, NULL, NULL, NULL, &e);
        tap_ok(r == -EBADMSG, "truncated blob refused (%d: %s)", r, e.msg);
        tap_ok(pod_store_oci_have_layer(s, l3->diff_id, NULL) == 0, "none of it stored");
        tap_is_int(count_dir("cas/tmp"), 0, "no temp dirs left behind");
        l.size++;
        r = import(s, &l, NULL, NULL, NULL, &e);
        tap_ok(r == -EBADMSG && strstr(e.msg, "bytes"), "size mismatch refused (%s)", e.msg);
        l.size -= 2;
        r = import(s, &l, NULL, NULL, NULL, &e);
        tap_ok(r == -EBADMSG && strstr(e.msg, "longer than"),
               "input longer than the manifest's size stops the import (%s)", e.msg);
}

static void test_concurrent(const struct layer *l4) {
        pid_t pids[3];
        int ok = 0;

        for (int i = 0; i < 3; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
                        struct pod_error e = {};

                        if (pod_store_open(storedir, &s, &e) < 0 ||
                            import(s, l4, NULL, NULL, NULL, &e) < 0) {
                                fprintf(stderr, "child: %s\n", e.msg);
                                _exit(1);
                        }
                        _exit(0);
                }
        }
        for (int i = 0; i < 3; i++) {
                int status = 0;

                (void)waitpid(pids[i], &status, 0);
                ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        tap_is_int(ok, 3, "three concurrent imports of one layer all succeed");
}

int main(void) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        struct layer l1, l2, l3, l4, l1again;
        struct pod_error e = {};
        _cleanup_free_ char *ida = NULL, *idb = NULL, *res = NULL, *mdig = NULL, *mdig2 = NULL;
        _cleanup_strv_free_ char **lowers = NULL, **names = NULL;
        char cmdline[1400], p[900], buf[64];
        struct stat st1, st2;
        int r;

        if (geteuid() != 0)
                return tap_skip_all("needs root (whiteouts are device nodes)");
        if (system("command -v python3 >/dev/null && command -v zstd >/dev/null") != 0)
                return tap_skip_all("needs python3 and zstd");
        if (!mkdtemp(base))
                return 1;
        (void)snprintf(storedir, sizeof(storedir), "%s/store", base);
        (void)snprintf(p, sizeof(p), "%s/gen", base);
        (void)mkdir(p, 0755);
        (void)snprintf(p, sizeof(p), "%s/gen.py", base);
        if (write_file_atomic_at(AT_FDCWD, p, generator, strlen(generator), 0644) < 0)
                return 1;
        (void)snprintf(cmdline, sizeof(cmdline), "python3 %s %s/gen %s/outside", p, base, base);
        tap_ok(system(cmdline) == 0, "layer tars generated");

        r = pod_store_open(storedir, &s, &e);
        tap_ok(r >= 0, "store opens (%s)", e.msg);
        if (r < 0)
                return tap_done();

        /* gzip layer with symlinks, a hard link, a climbing relative symlink, a duplicate */
        layer_of("l1", ".tar.gz", &l1);
        tap_is_int(pod_store_oci_have_layer(s, l1.diff_id, NULL), 0, "layer 1 not stored yet");
        r = import(s, &l1, NULL, NULL, POD_OCI_MEDIA_DOCKER_LAYER, &e);
        tap_ok(r >= 0, "gzip layer imports (%s)", e.msg);
        tap_is_int(pod_store_oci_have_layer(s, l1.diff_id, NULL), 1, "layer 1 stored");
        layer_path(&l1, "bin/sh", p);
        r = readlink(p, buf, sizeof(buf) - 1);
        tap_ok(r == 4 && strneq(buf, "tool", 4), "symlink kept");
        layer_path(&l1, "bin/tool", p);
        r = stat(p, &st1);
        layer_path(&l1, "bin/tool2", p);
        tap_ok(r >= 0 && stat(p, &st2) >= 0 && st1.st_ino == st2.st_ino && st1.st_nlink == 2,
               "hard link is one inode");
        tap_ok((st1.st_mode & 0777) == 0755, "mode kept");
        layer_path(&l1, "bin/up", p);
        tap_ok(readlink(p, buf, sizeof(buf)) > 0, "relative symlink climbing above the layer kept");
        layer_path(&l1, "dup", p);
        {
                _cleanup_free_ char *d = NULL;

                tap_ok(read_full_file_at(AT_FDCWD, p, 100, &d, NULL) >= 0 && streq(d, "second"),
                       "a later duplicate replaces the earlier entry");
        }
        (void)snprintf(p, sizeof(p), "%s/cas/blob/sha256/%.2s/%s", storedir, l1.digest + 7,
                       l1.digest + 7);
        tap_ok(access(p, F_OK) == 0, "blob stored under its digest");

        /* zstd layer: whiteouts, opaque dirs, aufs metadata, trusted.* attributes */
        layer_of("l2", ".tar.zst", &l2);
        r = import(s, &l2, NULL, NULL, POD_OCI_MEDIA_LAYER_ZSTD, &e);
        tap_ok(r >= 0, "zstd layer imports (%s)", e.msg);
        layer_path(&l2, "gone", p);
        tap_ok(is_whiteout(p), ".wh.gone became a 0/0 character device 'gone'");
        layer_path(&l2, ".wh.gone", p);
        tap_ok(access(p, F_OK) < 0, "no .wh. file in the tree");
        layer_path(&l2, "opq", p);
        tap_ok(xattr(p, "trusted.overlay.opaque", buf, sizeof(buf)) == 1 && streq(buf, "y"),
               "opaque dir marked trusted.overlay.opaque=y");
        layer_path(&l2, "opq/.wh..wh..opq", p);
        tap_ok(access(p, F_OK) < 0, "no opaque marker file in the tree");
        layer_path(&l2, "deep/er", p);
        tap_ok(xattr(p, "trusted.overlay.opaque", buf, sizeof(buf)) == 1,
               "opaque marker creates its directory");
        layer_path(&l2, ".wh..wh.plnk", p);
        tap_ok(access(p, F_OK) < 0, "aufs metadata skipped");
        layer_path(&l2, "sneaky", p);
        tap_ok(xattr(p, "trusted.overlay.opaque", buf, sizeof(buf)) < 0,
               "trusted.overlay.opaque from the tar dropped");
        tap_ok(xattr(p, "user.ok", buf, sizeof(buf)) == 4, "user.* attribute kept");
        layer_path(&l2, "sneaky/f", p);
        tap_ok(xattr(p, "trusted.overlay.redirect", buf, sizeof(buf)) < 0,
               "trusted.overlay.redirect from the tar dropped");

        layer_of("l3", ".tar", &l3);
        test_bad_bytes(s, &l3);
        test_limits(s, &l3);
        r = import_pipe(s, &l3, &e);
        tap_ok(r >= 0, "plain layer imports from a pipe (%s)", e.msg);
        test_hostile(s);

        /* stored already: succeeds, still verified */
        layer_of("l1", ".tar.gz", &l1again);
        tap_ok(import(s, &l1again, NULL, NULL, NULL, &e) >= 0, "re-import of a stored layer");
        l1again.size = 5;
        r = import(s, &l1again, NULL, NULL, NULL, &e);
        tap_ok(r == -EBADMSG && strstr(e.msg, "expected 5 bytes"),
               "re-import still checks the input, reading no more than needed (%s)", e.msg);
        layer_of("l1", ".tar.zst", &l1again);
        tap_ok(import(s, &l1again, NULL, NULL, NULL, &e) >= 0,
               "another compression of a stored layer (%s)", e.msg);

        /* a later entry replaces a symlink: the link is replaced, never followed */
        {
                struct layer l5;
                _cleanup_free_ char *d = NULL;
                struct stat st;

                layer_of("l5", ".tar.gz", &l5);
                r = import(s, &l5, NULL, NULL, NULL, &e);
                tap_ok(r >= 0, "layer replacing its own symlink imports (%s)", e.msg);
                layer_path(&l5, "x", p);
                tap_ok(lstat(p, &st) >= 0 && S_ISREG(st.st_mode) &&
                               read_full_file_at(AT_FDCWD, p, 100, &d, NULL) >= 0 &&
                               streq(d, "replaced"),
                       "the symlink became the later regular file");
                (void)snprintf(p, sizeof(p), "%s/outside", base);
                tap_ok(access(p, F_OK) < 0, "nothing written through the symlink");
                layer_path(&l5, "h", p);
                tap_ok(lstat(p, &st) >= 0 && S_ISLNK(st.st_mode), "hard-linked file replaced");
                layer_path(&l5, "h2", p);
                tap_ok(lstat(p, &st) >= 0 && S_ISREG(st.st_mode), "its other name stays");
        }

        layer_of("l4", ".tar.gz", &l4);
        test_concurrent(&l4);
        tap_is_int(pod_store_oci_have_layer(s, l4.diff_id, NULL), 1, "stored once");

        /* commit, resolve, lowers */
        {
                const struct layer *a[] = { &l1, &l2 }, *b[] = { &l1, &l3 };
                char mdigest[POD_SHA256_STRING_SIZE];

                (void)snprintf(mdigest, sizeof(mdigest), "sha256:%064d", 7);
                r = commit(s, a, 2, "/bin/tool", "test/a", "v1", mdigest, &ida, &e);
                tap_ok(r >= 0 && ida && strneq(ida, "sha512-", 7), "image A committed (%s)", e.msg);
                tap_is_int(pod_store_oci_is_oci(s, ida, NULL), 1, "A is an OCI image");
                r = pod_store_resolve(s, ida, &res, &e);
                tap_ok(r >= 0 && streq(res, ida), "resolve by ID works for OCI images");
                res = mfree_str(res);
                r = pod_store_oci_resolve(s, "127.0.0.1:5000", "test/a", "v1", NULL, &res, &e);
                tap_ok(r >= 0 && streq(res, ida), "resolve by tag");
                res = mfree_str(res);
                r = pod_store_oci_resolve(s, "127.0.0.1:5000", "test/a", NULL, mdigest, &res, &e);
                tap_ok(r >= 0 && streq(res, ida), "resolve by registry digest");
                res = mfree_str(res);
                pod_error_clear(&e);
                tap_is_int(
                        pod_store_oci_resolve(s, "127.0.0.1:5000", "test/a", "v2", NULL, &res, &e),
                        -ENOENT, "unknown tag");
                r = pod_store_oci_lowers(s, ida, &lowers, &e);
                tap_ok(r >= 0 && lowers[0] && lowers[1] && !lowers[2], "two lowers");
                tap_ok(r >= 0 && strstr(lowers[0], l2.diff_id + 7) &&
                               strstr(lowers[1], l1.diff_id + 7),
                       "top layer first");
                r = pod_store_oci_names(s, ida, &names, &mdig, &e);
                tap_ok(r >= 0 && names[0] && streq(names[0], "docker://127.0.0.1:5000/test/a:v1") &&
                               !names[1] && mdig && streq(mdig, mdigest),
                       "names and registry digest");
                names = strv_free_ret(names);

                {
                        _cleanup_free_ char *x = NULL, *cfg = config_for(a, 2, "x");
                        struct pod_store_oci_layer ol[2] = {
                                { .digest = l1.digest, .diff_id = l1.diff_id },
                                { .digest = l3.digest, .diff_id = l4.diff_id },
                        };

                        pod_error_clear(&e);
                        r = pod_store_oci_commit(
                                s,
                                &(struct pod_store_oci_image){ .config = cfg,
                                                               .config_size = strlen(cfg),
                                                               .layers = ol,
                                                               .n_layers = 2 },
                                &x, &e);
                        tap_ok(r == -EBADMSG && strstr(e.msg, "diff_id"),
                               "config diff_ids must match the layers (%s)", e.msg);
                }
                {
                        _cleanup_free_ char *x = NULL;
                        struct layer missing = l3;

                        (void)snprintf(missing.diff_id, sizeof(missing.diff_id), "sha256:%064d", 3);
                        const struct layer *m[] = { &missing };
                        r = commit(s, m, 1, "x", "test/m", "v1", NULL, &x, &e);
                        tap_ok(r == -ENOENT, "a layer not stored: -ENOENT (%s)", e.msg);
                }

                r = commit(s, b, 2, "/bin/other", "test/a", "v1", NULL, &idb, &e);
                tap_ok(r >= 0 && !streq(idb, ida), "image B shares layer 1 (%s)", e.msg);
                r = pod_store_oci_resolve(s, "127.0.0.1:5000", "test/a", "v1", NULL, &res, &e);
                tap_ok(r >= 0 && streq(res, idb), "the tag moved to B");
                res = mfree_str(res);
                r = pod_store_oci_names(s, ida, &names, NULL, &e);
                tap_ok(r >= 0 && !names[0], "A lost the tag");
                names = strv_free_ret(names);
                {
                        _cleanup_free_ char *again = NULL;

                        r = commit(s, a, 2, "/bin/tool", "test/a", "v2", NULL, &again, &e);
                        tap_ok(r >= 0 && streq(again, ida), "committing A again: same ID");
                        r = pod_store_oci_names(s, ida, &names, &mdig2, &e);
                        tap_ok(r >= 0 && names[0] &&
                                       streq(names[0], "docker://127.0.0.1:5000/test/a:v2") &&
                                       !names[1] && mdig2,
                               "... adds the tag, keeps the registry digest");
                        names = strv_free_ret(names);
                }
                lowers = strv_free_ret(lowers);
                r = pod_store_oci_lowers(s, idb, &lowers, &e);
                tap_ok(r >= 0 && strstr(lowers[1], l1.diff_id + 7),
                       "B's bottom is the shared layer");
        }

        /* the images table sees them: list, manifest */
        {
                _cleanup_(pod_store_image_freep) struct pod_store_image *img = NULL;

                r = pod_store_get_image(s, ida, &img, &e);
                tap_ok(r >= 0 && streq(img->name, "127.0.0.1_5000/test/a"),
                       "images row with the converted name");
                tap_ok(r >= 0 && img->size > 0 && img->blob_size == l1.size + l2.size,
                       "sizes summed over the layers");
        }

        /* what export reads */
        {
                _cleanup_(pod_store_oci_info_freep) struct pod_store_oci_info *x = NULL;
                _cleanup_close_ int fd = -EBADF;
                char got[POD_SHA256_STRING_SIZE];

                r = pod_store_oci_get_info(s, idb, &x, &e);
                tap_ok(r >= 0 && x->n_layers == 2 && streq(x->layers[0].digest, l1.digest) &&
                               streq(x->layers[1].diff_id, l3.diff_id) &&
                               streq(x->layers[1].media_type, POD_OCI_MEDIA_LAYER) &&
                               x->layers[1].size == l3.size,
                       "stored layers for export");
                tap_ok(r >= 0 && x->config && strstr(x->config, "/bin/other") && x->manifest &&
                               !x->manifest_digest,
                       "stored config and manifest");
                r = pod_store_oci_open_blob(s, l3.digest, &fd, &e);
                tap_ok(r >= 0 && pod_sha256_fd(fd, got, NULL) >= 0 && streq(got, l3.digest),
                       "blob opens and is what its digest says");
                pod_error_clear(&e);
                tap_is_int(pod_store_oci_open_blob(s, "sha256:" ZERO64, &fd, &e), -ENOENT,
                           "a blob not stored");
        }

        test_cli(ida);

        /* verify */
        tap_ok(pod_store_verify(s, ida, &e) >= 0, "A verifies (%s)", e.msg);
        {
                char bp[900];
                int fd;

                (void)snprintf(bp, sizeof(bp), "%s/cas/blob/sha256/%.2s/%s", storedir,
                               l2.digest + 7, l2.digest + 7);
                (void)chmod(bp, 0644);
                fd = open(bp, O_WRONLY | O_APPEND | O_CLOEXEC);
                tap_ok(fd >= 0 && write(fd, "x", 1) == 1, "damage A's top blob");
                safe_close(fd);
                pod_error_clear(&e);
                r = pod_store_verify(s, ida, &e);
                tap_ok(r == -EBADMSG && strstr(e.msg, l2.digest), "verify finds it (%s)", e.msg);
                (void)truncate(bp, (off_t)l2.size);
                tap_ok(pod_store_verify(s, ida, &e) >= 0, "repaired");
        }

        /* extract: flattened */
        {
                char dir[700], q[800];
                _cleanup_free_ char *d = NULL;

                (void)snprintf(dir, sizeof(dir), "%s/extract-a", base);
                pod_error_clear(&e);
                r = pod_store_extract(s, ida, dir, POD_STORE_EXTRACT_ROOTFS_ONLY, &e);
                tap_ok(r >= 0, "extract A (%s)", e.msg);
                (void)snprintf(q, sizeof(q), "%s/gone", dir);
                tap_ok(access(q, F_OK) < 0 && errno == ENOENT, "whited-out file absent");
                (void)snprintf(q, sizeof(q), "%s/opq/old", dir);
                tap_ok(access(q, F_OK) < 0, "opaque dir hides the lower contents");
                (void)snprintf(q, sizeof(q), "%s/opq/new", dir);
                tap_ok(access(q, F_OK) == 0, "opaque dir keeps its own");
                (void)snprintf(q, sizeof(q), "%s/etc/passwd", dir);
                tap_ok(read_full_file_at(AT_FDCWD, q, 100, &d, NULL) >= 0 && strstr(d, "root"),
                       "lower layer's files");
        }

        /* remove A: its rows go, its layers stay until gc */
        pod_store_unpin_all(s);
        tap_ok(pod_store_remove(s, ida, &e) >= 0, "A removed (%s)", e.msg);
        tap_is_int(pod_store_oci_is_oci(s, ida, NULL), -ENOENT, "A unknown");
        tap_is_int(pod_store_oci_have_layer(s, l2.diff_id, NULL), 1, "A's layer stays until gc");

        /* gc: layers 2 and 4 (no image) go, 1 and 3 (image B) stay */
        {
                _cleanup_(pod_store_freep) struct pod_store *g = NULL;
                struct gc_log log = {};
                char want[200];

                tap_ok(pod_store_open(storedir, &g, &e) >= 0, "second handle");
                /* a blob without a row, just renamed into place by an importer that has not
                 * committed yet */
                (void)snprintf(p, sizeof(p), "%s/cas/blob/sha256/ab", storedir);
                (void)mkdir(p, 0700);
                (void)snprintf(p, sizeof(p), "%s/cas/blob/sha256/ab/ab%s", storedir, ZERO63 "");
                p[strlen(p) - 1] = 0;
                tap_ok(write_file_atomic_at(AT_FDCWD, p, "x", 1, 0444) >= 0, "fresh row-less blob");
                r = pod_store_gc(g, UINT64_C(3600) * 1000000, gc_removed, &log, &e);
                tap_ok(r >= 0, "gc (%s)", e.msg);
                for (char *line = log.text, *nl; (nl = strchr(line, '\n')); line = nl + 1)
                        printf("# gc: %.*s\n", (int)(nl - line), line);
                (void)snprintf(want, sizeof(want), "layer %s", l2.diff_id);
                tap_ok(strstr(log.text, want), "unused layer 2 reported");
                (void)snprintf(want, sizeof(want), "blob %s", l2.digest);
                tap_ok(strstr(log.text, want), "its blob reported");
                tap_is_int(pod_store_oci_have_layer(g, l2.diff_id, NULL), 0, "layer 2 gone");
                tap_is_int(pod_store_oci_have_layer(g, l4.diff_id, NULL), 0, "layer 4 gone");
                tap_is_int(pod_store_oci_have_layer(g, l1.diff_id, NULL), 1, "shared layer 1 kept");
                tap_is_int(pod_store_oci_have_layer(g, l3.diff_id, NULL), 1, "layer 3 kept");
                (void)snprintf(want, sizeof(want), "blob %s", l1again.digest);
                tap_ok(strstr(log.text, want), "a blob no image lists goes (zstd copy of layer 1)");
                tap_ok(pod_store_verify(g, idb, &e) >= 0, "B still verifies (%s)", e.msg);
                layer_path(&l2, "", p);
                tap_ok(access(p, F_OK) < 0, "layer 2's tree removed");
                (void)snprintf(p, sizeof(p), "%s/cas/blob/sha256/ab/ab%s", storedir, ZERO63 "");
                p[strlen(p) - 1] = 0;
                tap_ok(access(p, F_OK) == 0, "a fresh row-less blob is left to its importer");
        }

        if (getenv("TEST_STORE_OCI_KEEP")) /* for looking at the store by hand */
                printf("# kept %s\n", base);
        else {
                (void)snprintf(cmdline, sizeof(cmdline), "rm -rf %s", base);
                (void)system(cmdline);
        }
        return tap_done();
}
