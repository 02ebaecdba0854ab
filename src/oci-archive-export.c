/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `pod image export` of an OCI image (oci-archive.h): one tar that is an OCI layout and a
 * docker save archive, written from the stored blobs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fd-util.h"
#include "json-util.h"
#include "macro.h"
#include "oci-archive.h"
#include "oci.h"
#include "path-util.h"
#include "sha256.h"
#include "store-oci.h"
#include "unpack.h"

#define DOCKER_HUB          "registry-1.docker.io"
#define ANN_REF_NAME        "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"
#define BLOB_DIR            "blobs/sha256/"
#define TAR_BLOCK           512u

/* "blobs/sha256/<hex>" of a valid digest. */
static char *blob_path(const char *digest) {
        char *p = NULL;

        if (asprintf(&p, BLOB_DIR "%s", digest + strlen("sha256:")) < 0)
                return NULL;
        return p;
}

static bool strv_has(char **l, const char *s) {
        STRV_FOREACH (i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

/* ---- export --------------------------------------------------------------------------- */

/* One ustar header: mode 0644 (0755 for dirs), owner 0:0, mtime 0, so that the same image
 * exports to the same bytes. */
static int tar_write_header(int fd, const char *name, uint64_t size, bool dir) {
        unsigned char h[TAR_BLOCK] = {};
        unsigned long sum = 0;

        if (strlen(name) >= 100 || size > 077777777777ull)
                return -ENAMETOOLONG;
        memcpy(h, name, strlen(name));
        (void)snprintf((char *)h + 100, 8, "%07o", dir ? 0755 : 0644);
        (void)snprintf((char *)h + 108, 8, "%07o", 0);
        (void)snprintf((char *)h + 116, 8, "%07o", 0);
        (void)snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
        (void)snprintf((char *)h + 136, 12, "%011o", 0);
        h[156] = dir ? '5' : '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < TAR_BLOCK; i++)
                sum += h[i];
        (void)snprintf((char *)h + 148, 8, "%06lo", sum);
        h[155] = ' ';
        return loop_write(fd, h, TAR_BLOCK);
}

static int tar_write_pad(int fd, uint64_t size) {
        static const char zero[TAR_BLOCK];
        size_t pad = (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);

        return pad ? loop_write(fd, zero, pad) : 0;
}

static int tar_write_buf(int fd, const char *name, const void *buf, size_t size) {
        int r;

        r = tar_write_header(fd, name, size, false);
        if (r >= 0)
                r = loop_write(fd, buf, size);
        if (r >= 0)
                r = tar_write_pad(fd, size);
        return r;
}

/* A stored blob, size bytes, in kernel where possible (copy_file_range: reflinks on
 * file systems that have them). */
static int tar_write_fd(int fd, const char *name, int in, uint64_t size) {
        uint64_t left = size;
        bool use_cfr = true;
        int r;

        r = tar_write_header(fd, name, size, false);
        if (r < 0)
                return r;
        while (left > 0) {
                size_t chunk = left > (1u << 30) ? (1u << 30) : (size_t)left;
                ssize_t k;

                if (use_cfr) {
                        k = copy_file_range(in, NULL, fd, NULL, chunk, 0);
                        if (k < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                                      errno == EOPNOTSUPP)) {
                                use_cfr = false;
                                continue;
                        }
                } else {
                        char buf[65536];

                        k = read(in, buf, chunk < sizeof(buf) ? chunk : sizeof(buf));
                        if (k > 0) {
                                r = loop_write(fd, buf, (size_t)k);
                                if (r < 0)
                                        return r;
                        }
                }
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EBADMSG; /* the blob shrank */
                left -= (uint64_t)k;
        }
        return tar_write_pad(fd, size);
}

/* "docker://REGISTRY/REPOSITORY:TAG" into its parts. */
static int split_name(const char *n, char **ret_registry, char **ret_repository, char **ret_tag) {
        const char *s, *slash, *colon;

        if (!string_has_prefix(n, "docker://"))
                return -EINVAL;
        s = n + strlen("docker://");
        slash = strchr(s, '/');
        colon = strrchr(s, ':');
        if (!slash || !colon || colon < slash)
                return -EINVAL;
        *ret_registry = strndup(s, (size_t)(slash - s));
        *ret_repository = strndup(slash + 1, (size_t)(colon - slash - 1));
        *ret_tag = strdup(colon + 1);
        if (!*ret_registry || !*ret_repository || !*ret_tag)
                return -ENOMEM;
        return 0;
}

/* The manifest written for an image that came without one: OCI, its layers' media types by
 * their content, keys in a fixed order, so each export writes the same bytes. */
static int synthesize_manifest(struct pod_store *s, const struct pod_store_oci_info *info,
                               char **ret, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *m = json_object_new_object(), *cfg = NULL,
                                          *layers = NULL;
        int r;

        cfg = json_object_new_object();
        layers = json_object_new_array();
        if (!m || !cfg || !layers)
                return -ENOMEM;
        if (pod_json_add_int(m, "schemaVersion", 2) < 0 ||
            pod_json_add_string(m, "mediaType", POD_OCI_MEDIA_MANIFEST) < 0 ||
            pod_json_add_string(cfg, "mediaType", POD_OCI_MEDIA_CONFIG) < 0 ||
            pod_json_add_string(cfg, "digest", info->config_digest) < 0 ||
            pod_json_add_int(cfg, "size", (int64_t)info->config_size) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < info->n_layers; i++) {
                const struct pod_store_oci_layer *l = &info->layers[i];
                _cleanup_json_ struct json_object *d = json_object_new_object();
                const char *mt = l->media_type;

                if (!d)
                        return -ENOMEM;
                if (!mt) {
                        _cleanup_close_ int fd = -EBADF;
                        unsigned char head[TAR_BLOCK] = {};
                        enum pod_compression c = POD_COMPRESSION_NONE;

                        r = pod_store_oci_open_blob(s, l->digest, &fd, reterr);
                        if (r < 0)
                                return r;
                        (void)pread(fd, head, sizeof(head), 0);
                        (void)pod_compression_detect(head, sizeof(head), &c);
                        mt = c == POD_COMPRESSION_GZIP   ? POD_OCI_MEDIA_LAYER_GZIP
                             : c == POD_COMPRESSION_ZSTD ? POD_OCI_MEDIA_LAYER_ZSTD
                                                         : POD_OCI_MEDIA_LAYER;
                }
                if (pod_json_add_string(d, "mediaType", mt) < 0 ||
                    pod_json_add_string(d, "digest", l->digest) < 0 ||
                    pod_json_add_int(d, "size", (int64_t)l->size) < 0 ||
                    json_object_array_add(layers, TAKE_PTR(d)) < 0)
                        return -ENOMEM;
        }
        if (pod_json_add(m, "config", TAKE_PTR(cfg)) < 0 ||
            pod_json_add(m, "layers", TAKE_PTR(layers)) < 0)
                return -ENOMEM;
        return pod_json_to_string(m, false, ret);
}

/* The manifest to export: the stored one, or the synthesised one; with its digest. */
static int export_manifest(struct pod_store *s, const struct pod_store_oci_info *info, char **ret,
                           size_t *ret_size, char ret_digest[POD_SHA256_STRING_SIZE],
                           struct pod_error *reterr) {
        _cleanup_free_ char *m = NULL;
        int r;

        if (info->manifest) {
                m = malloc(info->manifest_size + 1);
                if (!m)
                        return -ENOMEM;
                memcpy(m, info->manifest, info->manifest_size);
                m[info->manifest_size] = 0;
                *ret_size = info->manifest_size;
        } else {
                r = synthesize_manifest(s, info, &m, reterr);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write a manifest");
                *ret_size = strlen(m);
        }
        r = pod_sha256_buffer(m, *ret_size, ret_digest);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static int export_write(struct pod_store *s, int fd, const struct pod_store_oci_info *info,
                        char **names, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *index = NULL, *list = NULL, *dm = NULL, *de = NULL,
                                          *tags = NULL, *dl = NULL;
        _cleanup_(pod_oci_manifest_done) struct pod_oci_manifest pm = {};
        _cleanup_free_ char *manifest = NULL, *index_text = NULL, *dm_text = NULL, *mpath = NULL,
                            *cpath = NULL;
        _cleanup_strv_free_ char **written = NULL;
        char mdigest[POD_SHA256_STRING_SIZE];
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        size_t msize = 0, n_written = 0;
        int r;

        r = export_manifest(s, info, &manifest, &msize, mdigest, reterr);
        if (r < 0)
                return r;
        r = pod_oci_manifest_parse(manifest, msize, &pm, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "The stored manifest");
        mpath = blob_path(mdigest);
        cpath = blob_path(info->config_digest);
        index = json_object_new_object();
        list = json_object_new_array();
        dm = json_object_new_array();
        de = json_object_new_object();
        tags = json_object_new_array();
        dl = json_object_new_array();
        written = calloc(info->n_layers + 3, sizeof(char *));
        if (!mpath || !cpath || !index || !list || !dm || !de || !tags || !dl || !written)
                return -ENOMEM;

        /* index.json: one entry per tag (the same manifest), or one untagged entry */
        for (size_t i = 0; i == 0 || (names && names[i]); i++) {
                _cleanup_free_ char *registry = NULL, *repository = NULL, *tag = NULL, *full = NULL,
                                    *familiar = NULL;
                _cleanup_json_ struct json_object *e = json_object_new_object(), *ann = NULL;

                if (!e || pod_json_add_string(e, "mediaType", pm.media_type) < 0 ||
                    pod_json_add_string(e, "digest", mdigest) < 0 ||
                    pod_json_add_int(e, "size", (int64_t)msize) < 0)
                        return -ENOMEM;
                if (names && names[i] && split_name(names[i], &registry, &repository, &tag) >= 0) {
                        bool hub = streq(registry, DOCKER_HUB);
                        const char *short_repo = hub && string_has_prefix(repository, "library/")
                                                         ? repository + strlen("library/")
                                                         : repository;

                        if (asprintf(&full, "%s/%s:%s", hub ? "docker.io" : registry, repository,
                                     tag) < 0 ||
                            (hub ? asprintf(&familiar, "%s:%s", short_repo, tag)
                                 : asprintf(&familiar, "%s/%s:%s", registry, repository, tag)) < 0)
                                return -ENOMEM;
                        ann = json_object_new_object();
                        if (!ann || pod_json_add_string(ann, ANN_CONTAINERD_NAME, full) < 0 ||
                            pod_json_add_string(ann, ANN_REF_NAME, tag) < 0 ||
                            pod_json_add(e, "annotations", TAKE_PTR(ann)) < 0 ||
                            json_object_array_add(tags, json_object_new_string(familiar)) < 0)
                                return -ENOMEM;
                }
                if (json_object_array_add(list, TAKE_PTR(e)) < 0)
                        return -ENOMEM;
                if (!names || !names[i])
                        break;
        }
        if (pod_json_add_int(index, "schemaVersion", 2) < 0 ||
            pod_json_add_string(index, "mediaType", POD_OCI_MEDIA_INDEX) < 0 ||
            pod_json_add(index, "manifests", TAKE_PTR(list)) < 0)
                return -ENOMEM;

        /* manifest.json: docker save's view of the same blobs */
        for (size_t i = 0; i < info->n_layers; i++) {
                _cleanup_free_ char *lp = blob_path(info->layers[i].digest);

                if (!lp || json_object_array_add(dl, json_object_new_string(lp)) < 0)
                        return -ENOMEM;
        }
        if (pod_json_add_string(de, "Config", cpath) < 0 ||
            pod_json_add(de, "RepoTags", TAKE_PTR(tags)) < 0 ||
            pod_json_add(de, "Layers", TAKE_PTR(dl)) < 0 ||
            json_object_array_add(dm, TAKE_PTR(de)) < 0)
                return -ENOMEM;
        r = pod_json_to_string(index, false, &index_text);
        if (r >= 0)
                r = pod_json_to_string(dm, false, &dm_text);
        if (r < 0)
                return r;

        r = tar_write_buf(fd, "oci-layout", layout, strlen(layout));
        if (r >= 0)
                r = tar_write_header(fd, "blobs/", 0, true);
        if (r >= 0)
                r = tar_write_header(fd, "blobs/sha256/", 0, true);
        if (r >= 0)
                r = tar_write_buf(fd, mpath, manifest, msize);
        if (r >= 0 && !streq(cpath, mpath))
                r = tar_write_buf(fd, cpath, info->config, info->config_size);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write the archive");
        written[n_written++] = TAKE_PTR(mpath);
        written[n_written++] = TAKE_PTR(cpath);
        for (size_t i = 0; i < info->n_layers; i++) {
                const struct pod_store_oci_layer *l = &info->layers[i];
                _cleanup_free_ char *lp = blob_path(l->digest);
                _cleanup_close_ int in = -EBADF;
                struct stat st;

                if (!lp)
                        return -ENOMEM;
                if (strv_has(written, lp)) /* a layer listed twice is stored once */
                        continue;
                r = pod_store_oci_open_blob(s, l->digest, &in, reterr);
                if (r < 0)
                        return r;
                if (fstat(in, &st) < 0)
                        return pod_error_set(reterr, -errno, "Failed to stat blob %s", l->digest);
                if ((uint64_t)st.st_size != l->size)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Stored blob %s has %" PRIu64
                                             " bytes, the image says %" PRIu64
                                             " (run 'pod image verify')",
                                             l->digest, (uint64_t)st.st_size, l->size);
                r = tar_write_fd(fd, lp, in, l->size);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write layer %s", l->digest);
                written[n_written++] = TAKE_PTR(lp);
        }
        r = tar_write_buf(fd, "index.json", index_text, strlen(index_text));
        if (r >= 0)
                r = tar_write_buf(fd, "manifest.json", dm_text, strlen(dm_text));
        if (r >= 0) {
                static const char end[2 * TAR_BLOCK];

                r = loop_write(fd, end, sizeof(end));
        }
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write the archive");
        return 0;
}

int pod_oci_archive_export(struct pod_store *s, const char *id, const char *path, bool overwrite,
                           struct pod_error *reterr) {
        _cleanup_(pod_store_oci_info_freep) struct pod_store_oci_info *info = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *tmp = NULL, *mdigest = NULL;
        _cleanup_close_ int out = -EBADF;
        int r;

        r = pod_store_oci_get_info(s, id, &info, reterr);
        if (r < 0)
                return r;
        r = pod_store_oci_names(s, id, &names, &mdigest, reterr);
        if (r < 0)
                return r;
        if (!overwrite && access(path, F_OK) >= 0)
                return pod_error_set(reterr, -EEXIST, "'%s' exists (use --overwrite)", path);
        if (asprintf(&tmp, "%s.tmp-%d", path, (int)getpid()) < 0)
                return -ENOMEM;
        out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (out < 0)
                return pod_error_set(reterr, -errno, "Failed to create '%s': %m", tmp);
        r = export_write(s, out, info, names, reterr);
        if (r >= 0 && fsync(out) < 0)
                r = pod_error_set(reterr, -errno, "Failed to write '%s': %m", tmp);
        if (r >= 0 && overwrite && rename(tmp, path) < 0)
                r = pod_error_set(reterr, -errno, "Failed to write '%s': %m", path);
        /* No clobbering unless asked (as the ACI export): renameat2() refuses atomically,
         * link() where the file system cannot. */
        if (r >= 0 && !overwrite &&
            renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
                r = -errno;
                if (r == -EINVAL || r == -ENOSYS)
                        r = link(tmp, path) < 0 ? -errno : 0;
                if (r == -EEXIST)
                        r = pod_error_set(reterr, r, "'%s' exists (use --overwrite)", path);
                else if (r < 0)
                        r = pod_error_set(reterr, r, "Failed to write '%s': %s", path,
                                          strerror(-r));
        }
        (void)unlink(tmp); /* after a rename: gone already */
        return r < 0 ? r : 0;
}

int pod_oci_archive_read_json(struct pod_store *s, const char *id, enum pod_oci_archive_what w,
                              char **ret, size_t *ret_size, struct pod_error *reterr) {
        _cleanup_(pod_store_oci_info_freep) struct pod_store_oci_info *info = NULL;
        char digest[POD_SHA256_STRING_SIZE];
        int r;

        r = pod_store_oci_get_info(s, id, &info, reterr);
        if (r < 0)
                return r;
        if (w == POD_OCI_ARCHIVE_MANIFEST)
                return export_manifest(s, info, ret, ret_size, digest, reterr);
        *ret = malloc(info->config_size + 1);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, info->config, info->config_size);
        (*ret)[info->config_size] = 0;
        *ret_size = info->config_size;
        return 0;
}
