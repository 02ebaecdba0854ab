/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dockerref.h"
#include "fd-util.h"
#include "json-util.h"
#include "macro.h"
#include "oci-archive-internal.h"
#include "oci-archive.h"
#include "oci.h"
#include "path-util.h"
#include "podlimits.h"
#include "sha256.h"
#include "store-oci.h"
#include "syscall.h"
#include "unpack.h"

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

/* The digest a path names when it is blobs/sha256/<hex> or <hex>.json (classic docker save
 * configs); NULL otherwise. */
static char *digest_of_path(const char *path) {
        char d[POD_SHA256_STRING_SIZE];
        const char *hex = NULL;

        if (string_has_prefix(path, BLOB_DIR))
                hex = path + strlen(BLOB_DIR);
        else if (strlen(path) == 64 + 5 && streq(path + 64, ".json"))
                hex = path;
        if (!hex)
                return NULL;
        (void)snprintf(d, sizeof(d), "sha256:%.64s", hex);
        if (strlen(hex) < 64 || (hex[64] && !streq(hex + 64, ".json")) || !pod_oci_digest_valid(d))
                return NULL;
        return strdup(d);
}

/* ---- a source: the tar's members or the layout directory's files ---------------------- */

struct source {
        int fd; /* the tar file, or the layout directory */
        bool is_tar;
        struct tar tar;
};

static void source_done(struct source *src) {
        oci_tar_done(&src->tar);
        if (src->fd >= 0)
                (void)close(src->fd);
        src->fd = -EBADF;
}

/* Opens name below the layout directory, never through a symlink and never out of it
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS; component by component with O_NOFOLLOW where
 * openat2 is missing).  Only regular files: a FIFO would block, a device is not a blob. */
static int dir_open_member(int dir_fd, const char *name, int *ret_fd) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int fl;

        fd = sys_openat2(dir_fd, name, &how, sizeof(how));
        if (fd < 0 && errno == ENOSYS) {
                _cleanup_close_ int cur = -EBADF;
                const char *s = name;

                cur = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
                if (cur < 0)
                        return -errno;
                for (;;) {
                        size_t k = strcspn(s, "/");
                        _cleanup_free_ char *comp = strndup(s, k);
                        int nfd;

                        if (!comp)
                                return -ENOMEM;
                        if (s[k] == 0) {
                                fd = openat(cur, comp, (int)how.flags | O_NOFOLLOW);
                                break;
                        }
                        nfd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (nfd < 0)
                                return -errno;
                        (void)close(cur);
                        cur = nfd;
                        s += k + 1;
                }
        }
        if (fd < 0)
                return errno == EXDEV ? -ELOOP : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int source_member_error(struct pod_error *reterr, int r, const char *name) {
        if (r == -ENOENT)
                return pod_error_set(reterr, -EBADMSG, "Archive has no member '%s'", name);
        if (r == -ELOOP || r == -EBADMSG)
                return pod_error_set(reterr, -EBADMSG,
                                     "Archive member '%s' is not a regular file inside the "
                                     "archive (a symlink, or outside it)",
                                     name);
        return pod_error_set(reterr, r, "Failed to open archive member '%s'", name);
}

/* Size of member name; -EBADMSG (with reterr) when it is missing or not a file. */
static int source_stat(struct source *src, const char *name, uint64_t *ret_size,
                       struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (src->is_tar) {
                const struct member *m = oci_tar_find(&src->tar, name);

                if (!m)
                        return source_member_error(reterr, -ENOENT, name);
                *ret_size = m->size;
                return 0;
        }
        r = dir_open_member(src->fd, name, &fd);
        if (r < 0)
                return source_member_error(reterr, r, name);
        if (fstat(fd, &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to stat '%s'", name);
        *ret_size = (uint64_t)st.st_size;
        return 0;
}

static bool source_has(struct source *src, const char *name) {
        uint64_t size;

        return source_stat(src, name, &size, NULL) >= 0;
}

/* Reads up to max bytes of member name into a NUL-terminated buffer (-EFBIG above max). */
static int source_read(struct source *src, const char *name, size_t max, char **ret,
                       size_t *ret_size, struct pod_error *reterr) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint64_t size, off = 0;
        int r;

        r = source_stat(src, name, &size, reterr);
        if (r < 0)
                return r;
        if (size > max)
                return pod_error_set(reterr, -EFBIG,
                                     "Archive member '%s' is too large (%" PRIu64
                                     " bytes, at most %zu)",
                                     name, size, max);
        if (src->is_tar) {
                fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 3);
                off = oci_tar_find(&src->tar, name)->offset;
        } else {
                r = dir_open_member(src->fd, name, &fd);
                if (r < 0)
                        return source_member_error(reterr, r, name);
        }
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to read '%s'", name);
        buf = malloc(size + 1);
        if (!buf)
                return -ENOMEM;
        r = oci_pread_full(fd, buf, size, off);
        if (r < 0)
                return pod_error_set(reterr, r == -EBADMSG ? -EBADMSG : r,
                                     "Failed to read archive member '%s'%s", name,
                                     r == -EBADMSG ? ": truncated" : "");
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* Reads a JSON blob by digest, checking its size (expected_size, unless 0) and digest. */
static int source_read_blob(struct source *src, const char *digest, uint64_t expected_size,
                            char **ret, size_t *ret_size, struct pod_error *reterr) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        char got[POD_SHA256_STRING_SIZE];
        size_t size = 0;
        int r;

        if (!pod_oci_digest_valid(digest))
                return pod_error_set(reterr, -EBADMSG, "Invalid digest '%s'", digest);
        path = blob_path(digest);
        if (!path)
                return -ENOMEM;
        r = source_read(src, path, POD_OCI_JSON_MAX, &buf, &size, reterr);
        if (r < 0)
                return r;
        if (expected_size != 0 && size != expected_size)
                return pod_error_set(reterr, -EBADMSG,
                                     "Archive member '%s' has %zu bytes, its descriptor says "
                                     "%" PRIu64,
                                     path, size, expected_size);
        r = pod_sha256_buffer(buf, size, got);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to hash '%s'", path);
        if (!streq(got, digest))
                return pod_error_set(reterr, -EBADMSG,
                                     "Archive member '%s' does not match its digest (it hashes "
                                     "to %s)",
                                     path, got);
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* An fd reading member name from its start to its end: the layout's file itself, or for a
 * tar the read end of a pipe that a thread fills from the member's byte range. */
struct streamer {
        pthread_t thread;
        bool started;
        int in_fd, out_fd;
        uint64_t off, size;
        int error;
};

static void *streamer_run(void *userdata) {
        struct streamer *st = userdata;
        loff_t off = (loff_t)st->off;
        uint64_t left = st->size;
        bool use_splice = true;
        sigset_t ss;

        /* A reader that stops early (a refused layer) must not kill the process: EPIPE. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGPIPE);
        (void)pthread_sigmask(SIG_BLOCK, &ss, NULL);
        while (left > 0) {
                size_t chunk = left > (1u << 20) ? (1u << 20) : (size_t)left;
                ssize_t k;

                if (use_splice) {
                        k = splice(st->in_fd, &off, st->out_fd, NULL, chunk, SPLICE_F_MORE);
                        if (k < 0 && (errno == EINVAL || errno == ENOSYS)) {
                                use_splice = false;
                                continue;
                        }
                } else {
                        char buf[65536];

                        k = pread(st->in_fd, buf, chunk < sizeof(buf) ? chunk : sizeof(buf), off);
                        if (k > 0) {
                                int r = loop_write(st->out_fd, buf, (size_t)k);

                                if (r < 0) {
                                        st->error = r;
                                        break;
                                }
                                off += k;
                        }
                }
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        st->error = -errno;
                        break;
                }
                if (k == 0) {
                        st->error = -EBADMSG;
                        break;
                }
                left -= (uint64_t)k;
        }
        (void)close(st->out_fd);
        st->out_fd = -EBADF;
        return NULL;
}

static int source_stream(struct source *src, const char *name, struct streamer *st, int *ret_fd,
                         struct pod_error *reterr) {
        const struct member *m;
        int p[2], r;

        *st = (struct streamer){ .in_fd = -EBADF, .out_fd = -EBADF };
        if (!src->is_tar) {
                r = dir_open_member(src->fd, name, ret_fd);
                if (r < 0)
                        return source_member_error(reterr, r, name);
                return 0;
        }
        m = oci_tar_find(&src->tar, name);
        if (!m)
                return source_member_error(reterr, -ENOENT, name);
        if (pipe2(p, O_CLOEXEC) < 0)
                return pod_error_set(reterr, -errno, "Failed to create a pipe");
        (void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20); /* fewer wake-ups; the default is 64 KiB */
        st->in_fd = src->fd;
        st->out_fd = p[1];
        st->off = m->offset;
        st->size = m->size;
        r = -pthread_create(&st->thread, NULL, streamer_run, st);
        if (r < 0) {
                (void)close(p[0]);
                (void)close(p[1]);
                return pod_error_set(reterr, r, "Failed to start a thread");
        }
        st->started = true;
        *ret_fd = p[0];
        return 0;
}

/* Joins the thread (the reader has closed its end, so it cannot block); its error. */
static int streamer_finish(struct streamer *st) {
        if (!st->started)
                return 0;
        (void)pthread_join(st->thread, NULL);
        st->started = false;
        return st->error;
}

/* SHA-256 and size of member name (classic docker save layers are named by path only). */
static int source_hash(struct source *src, const char *name, char ret[POD_SHA256_STRING_SIZE],
                       struct pod_error *reterr) {
        _cleanup_(pod_sha256_freep) struct pod_sha256 *h = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint64_t off = 0, left = UINT64_MAX;
        _cleanup_free_ char *buf = NULL;
        int r;

        if (src->is_tar) {
                const struct member *m = oci_tar_find(&src->tar, name);

                if (!m)
                        return source_member_error(reterr, -ENOENT, name);
                off = m->offset;
                left = m->size;
                fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
        } else {
                r = dir_open_member(src->fd, name, &fd);
                if (r < 0)
                        return source_member_error(reterr, r, name);
        }
        r = pod_sha256_new(&h);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to hash '%s'", name);
        buf = malloc(1u << 20);
        if (!buf)
                return -ENOMEM;
        while (left > 0) {
                ssize_t k =
                        pread(fd, buf, left < (1u << 20) ? (size_t)left : (1u << 20), (off_t)off);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return pod_error_set(reterr, -errno, "Failed to read '%s'", name);
                }
                if (k == 0) {
                        if (src->is_tar)
                                return pod_error_set(reterr, -EBADMSG, "'%s' is truncated", name);
                        break;
                }
                r = pod_sha256_update(h, buf, (size_t)k);
                if (r < 0)
                        return r;
                off += (uint64_t)k;
                if (left != UINT64_MAX)
                        left -= (uint64_t)k;
        }
        return pod_sha256_final_string(h, ret);
}

/* The compression of member name from its first bytes. */
static int source_compression(struct source *src, const char *name, enum pod_compression *ret,
                              struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;
        char head[TAR_BLOCK] = {};
        uint64_t off = 0, size;
        int r;

        r = source_stat(src, name, &size, reterr);
        if (r < 0)
                return r;
        if (src->is_tar) {
                off = oci_tar_find(&src->tar, name)->offset;
                fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
        } else {
                r = dir_open_member(src->fd, name, &fd);
                if (r < 0)
                        return source_member_error(reterr, r, name);
        }
        r = oci_pread_full(fd, head, size < sizeof(head) ? (size_t)size : sizeof(head), off);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s'", name);
        r = pod_compression_detect(head, sizeof(head), ret);
        if (r < 0 && head[0] == 0) { /* an empty tar: its end blocks only */
                *ret = POD_COMPRESSION_NONE;
                return 0;
        }
        if (r < 0)
                return pod_error_set(reterr, -EBADMSG,
                                     "Layer '%s' is neither a tar nor a compressed tar", name);
        return 0;
}

/* ---- docker references: "[REGISTRY[:PORT]/]NAME[:TAG]" -------------------------------- */

static bool tag_valid(const char *t) {
        size_t n = strlen(t);

        if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)t[i]) && !strchr("_.-", t[i]))
                        return false;
        return true;
}

/* Parses a reference as docker does (dockerref.h; an archive's names are docker's own, so
 * Docker Hub is the default registry, whatever docker.conf says).  Without a tag, *ret_tag is
 * NULL.  A "@digest" part is refused (tags only here). */
static int docker_ref_parse(const char *ref, char **ret_registry, char **ret_repository,
                            char **ret_tag) {
        _cleanup_(pod_dockerref_done) struct pod_dockerref d = {};
        bool tagged;

        if (!ref || strchr(ref, '@') || pod_dockerref_is_docker(ref))
                return -EINVAL;
        tagged = strrchr(ref, ':') && !strchr(strrchr(ref, ':'), '/');
        if (pod_dockerref_parse(ref, POD_DOCKER_HUB_REGISTRY, &d, NULL) < 0)
                return -EINVAL;
        *ret_registry = TAKE_PTR(d.registry);
        *ret_repository = TAKE_PTR(d.repository);
        *ret_tag = tagged ? TAKE_PTR(d.tag) : NULL;
        return 0;
}

/* ---- the plan: every image of the archive, checked before anything is imported -------- */

struct plan_layer {
        char *member; /* where the bytes are in the archive */
        char *digest; /* of the bytes as stored */
        char *media_type;
        uint64_t size;
        char *diff_id;
};

struct plan_tag {
        char *registry, *repository, *tag;
};

struct plan_image {
        char *manifest, *manifest_digest; /* NULL for classic docker save */
        size_t manifest_size;
        char *config, *config_digest;
        size_t config_size;
        struct plan_layer *layers;
        size_t n_layers;
        struct plan_tag *tags;
        size_t n_tags;
};

struct plan {
        struct plan_image *images;
        size_t n;
};

static void plan_image_done(struct plan_image *im) {
        free(im->manifest);
        free(im->manifest_digest);
        free(im->config);
        free(im->config_digest);
        for (size_t i = 0; i < im->n_layers; i++) {
                free(im->layers[i].member);
                free(im->layers[i].digest);
                free(im->layers[i].media_type);
                free(im->layers[i].diff_id);
        }
        free(im->layers);
        for (size_t i = 0; i < im->n_tags; i++) {
                free(im->tags[i].registry);
                free(im->tags[i].repository);
                free(im->tags[i].tag);
        }
        free(im->tags);
        *im = (struct plan_image){};
}

static void plan_done(struct plan *p) {
        for (size_t i = 0; i < p->n; i++)
                plan_image_done(&p->images[i]);
        free(p->images);
        *p = (struct plan){};
}

static int plan_image_add_tag(struct plan_image *im, const char *registry, const char *repository,
                              const char *tag) {
        struct plan_tag *n;

        for (size_t i = 0; i < im->n_tags; i++)
                if (streq(im->tags[i].registry, registry) &&
                    streq(im->tags[i].repository, repository) && streq(im->tags[i].tag, tag))
                        return 0;
        n = reallocarray(im->tags, im->n_tags + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        im->tags = n;
        n[im->n_tags] = (struct plan_tag){ strdup(registry), strdup(repository), strdup(tag) };
        if (!n[im->n_tags].registry || !n[im->n_tags].repository || !n[im->n_tags].tag) {
                free(n[im->n_tags].registry);
                free(n[im->n_tags].repository);
                free(n[im->n_tags].tag);
                return -ENOMEM;
        }
        im->n_tags++;
        return 0;
}

/* Adds a tag from a reference that must carry one ("busybox:1.36", "reg:5000/a/b:t"). */
static int plan_image_add_ref(struct plan_image *im, const char *ref, const char *what,
                              struct pod_error *reterr) {
        _cleanup_free_ char *registry = NULL, *repository = NULL, *tag = NULL;
        int r;

        r = docker_ref_parse(ref, &registry, &repository, &tag);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !tag)
                return pod_error_set(reterr, -EBADMSG,
                                     "%s: '%s' is not a valid image reference NAME:TAG", what, ref);
        return plan_image_add_tag(im, registry, repository, tag);
}

/* Moves im into the plan; an image already planned (same config) only gains im's tags. */
static int plan_add(struct plan *p, struct plan_image *im) {
        struct plan_image *n;
        int r;

        for (size_t i = 0; i < p->n; i++) {
                if (!streq(p->images[i].config_digest, im->config_digest))
                        continue;
                for (size_t k = 0; k < im->n_tags; k++) {
                        r = plan_image_add_tag(&p->images[i], im->tags[k].registry,
                                               im->tags[k].repository, im->tags[k].tag);
                        if (r < 0)
                                return r;
                }
                /* a registry manifest beats none (docker 25 lists both ways) */
                if (!p->images[i].manifest && im->manifest) {
                        struct plan_image tmp = p->images[i];
                        struct plan_tag *t;
                        size_t nt;

                        p->images[i] = *im;
                        *im = tmp;
                        /* the merged tag list stays with the planned image */
                        t = p->images[i].tags;
                        nt = p->images[i].n_tags;
                        p->images[i].tags = im->tags;
                        p->images[i].n_tags = im->n_tags;
                        im->tags = t;
                        im->n_tags = nt;
                }
                plan_image_done(im);
                return 0;
        }
        if (p->n >= POD_OCI_ARCHIVE_IMAGES_MAX)
                return -E2BIG;
        n = reallocarray(p->images, p->n + 1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        p->images = n;
        p->images[p->n++] = *im;
        *im = (struct plan_image){};
        return 0;
}

/* The config of an image: read (bounded), its digest checked, its diff_ids taken. */
static int plan_config(struct source *src, struct plan_image *im, const char *path,
                       const char *digest, uint64_t size, struct pod_oci_config *ret_config,
                       struct pod_error *reterr) {
        char got[POD_SHA256_STRING_SIZE];
        int r;

        if (digest)
                r = source_read_blob(src, digest, size, &im->config, &im->config_size, reterr);
        else
                r = source_read(src, path, POD_OCI_JSON_MAX, &im->config, &im->config_size, reterr);
        if (r < 0)
                return r;
        r = pod_sha256_buffer(im->config, im->config_size, got);
        if (r < 0)
                return r;
        if (!digest) {
                _cleanup_free_ char *named = digest_of_path(path);

                if (named && !streq(named, got))
                        return pod_error_set(reterr, -EBADMSG,
                                             "Archive member '%s' does not match its digest "
                                             "(it hashes to %s)",
                                             path, got);
        }
        im->config_digest = strdup(got);
        if (!im->config_digest)
                return -ENOMEM;
        r = pod_oci_config_parse(im->config, im->config_size, ret_config, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Image config '%s'", path ?: digest);
        return 0;
}

/* Classic docker save: manifest.json = [{"Config": PATH, "RepoTags": [...], "Layers": [...]}]. */
static int plan_docker(struct source *src, struct plan *p, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *root = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0, n;
        int r;

        r = source_read(src, "manifest.json", POD_OCI_JSON_MAX, &text, &size, reterr);
        if (r < 0)
                return r;
        r = pod_json_parse(text, size, POD_OCI_JSON_MAX, &root, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "manifest.json");
        if (!json_object_is_type(root, json_type_array))
                return pod_error_set(reterr, -EBADMSG, "manifest.json: not a JSON array");
        n = json_object_array_length(root);
        if (n == 0)
                return pod_error_set(reterr, -EBADMSG, "manifest.json lists no image");
        if (n > POD_OCI_ARCHIVE_IMAGES_MAX)
                return pod_error_set(reterr, -E2BIG, "manifest.json lists more than %u images",
                                     POD_OCI_ARCHIVE_IMAGES_MAX);
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(root, i), *layers = NULL,
                                   *tags = NULL;
                const struct pod_json_path *jp =
                        POD_JSON_IDX(POD_JSON_KEY(NULL, "manifest.json"), i);
                _cleanup_(pod_oci_config_done) struct pod_oci_config c = {};
                _cleanup_(plan_image_done) struct plan_image im = {};
                _cleanup_free_ char *cfg_raw = NULL, *cfg = NULL;
                size_t nl;

                r = pod_json_as_object(e, jp, reterr);
                if (r < 0)
                        return r;
                r = pod_json_get_string(e, "Config", jp, true, &cfg_raw, reterr);
                if (r < 0)
                        return r;
                if (oci_member_name_normalize(cfg_raw, &cfg) < 0)
                        return pod_error_set(reterr, -EBADMSG,
                                             "manifest.json: Config '%s' is an unsafe path",
                                             cfg_raw);
                r = plan_config(src, &im, cfg, NULL, 0, &c, reterr);
                if (r < 0)
                        return r;
                r = pod_json_get_array(e, "Layers", jp, &layers, reterr);
                if (r < 0)
                        return r;
                nl = r > 0 ? json_object_array_length(layers) : 0;
                if (nl != c.n_diff_ids)
                        return pod_error_set(reterr, -EBADMSG,
                                             "manifest.json: image %zu lists %zu layers, its "
                                             "config %zu diff_ids",
                                             i, nl, c.n_diff_ids);
                im.layers = calloc(nl ?: 1, sizeof(*im.layers));
                if (!im.layers)
                        return -ENOMEM;
                for (size_t k = 0; k < nl; k++) {
                        struct plan_layer *l = &im.layers[im.n_layers++];
                        const char *raw = NULL;
                        enum pod_compression comp;

                        r = pod_json_as_string(json_object_array_get_idx(layers, k),
                                               POD_JSON_IDX(POD_JSON_KEY(jp, "Layers"), k), &raw,
                                               reterr);
                        if (r < 0)
                                return r;
                        if (oci_member_name_normalize(raw, &l->member) < 0)
                                return pod_error_set(reterr, -EBADMSG,
                                                     "manifest.json: layer '%s' is an unsafe "
                                                     "path",
                                                     raw);
                        l->diff_id = strdup(c.diff_ids[k]);
                        if (!l->diff_id)
                                return -ENOMEM;
                        r = source_stat(src, l->member, &l->size, reterr);
                        if (r < 0)
                                return r;
                        /* The digest of the bytes as stored: docker 25 names them by it; a
                         * classic layer.tar is uncompressed, so it is the diff_id; anything
                         * else is hashed now (the import checks it again as it streams). */
                        l->digest = digest_of_path(l->member);
                        if (!l->digest) {
                                r = source_compression(src, l->member, &comp, reterr);
                                if (r < 0)
                                        return r;
                                if (comp == POD_COMPRESSION_NONE)
                                        l->digest = strdup(l->diff_id);
                                else {
                                        char d[POD_SHA256_STRING_SIZE];

                                        r = source_hash(src, l->member, d, reterr);
                                        if (r < 0)
                                                return r;
                                        l->digest = strdup(d);
                                }
                                if (!l->digest)
                                        return -ENOMEM;
                        }
                }
                r = pod_json_get_array(e, "RepoTags", jp, &tags, reterr);
                if (r < 0)
                        return r;
                for (size_t k = 0; r > 0 && k < json_object_array_length(tags); k++) {
                        const char *ref = NULL;

                        r = pod_json_as_string(json_object_array_get_idx(tags, k),
                                               POD_JSON_IDX(POD_JSON_KEY(jp, "RepoTags"), k), &ref,
                                               reterr);
                        if (r < 0)
                                return r;
                        r = plan_image_add_ref(&im, ref, "manifest.json: RepoTags", reterr);
                        if (r < 0)
                                return r;
                        r = 1;
                }
                r = plan_add(p, &im);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to plan the import");
        }
        return 0;
}

/* An image of an OCI layout: its manifest (through nested indexes: the entry for platform),
 * its config, its layers.  digest/size/media_type: the descriptor that names it. */
static int plan_oci_image(struct source *src, const struct pod_oci_platform *plat,
                          const char *media_type, const char *digest, uint64_t size,
                          struct plan_image *im, struct pod_error *reterr) {
        _cleanup_(pod_oci_manifest_done) struct pod_oci_manifest m = {};
        _cleanup_(pod_oci_config_done) struct pod_oci_config c = {};
        _cleanup_free_ char *body = NULL, *cur_digest = NULL, *cur_type = NULL;
        size_t body_size = 0;
        int r;

        cur_digest = strdup(digest);
        cur_type = media_type ? strdup(media_type) : NULL;
        if (!cur_digest || (media_type && !cur_type))
                return -ENOMEM;
        for (unsigned depth = 0;; depth++) {
                _cleanup_(pod_oci_descriptor_done) struct pod_oci_descriptor d = {};
                enum pod_oci_kind kind;

                free(body);
                body = NULL;
                r = source_read_blob(src, cur_digest, size, &body, &body_size, reterr);
                if (r < 0)
                        return r;
                r = pod_oci_classify(cur_type, body, body_size, &kind, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Manifest %s", cur_digest);
                if (kind == POD_OCI_KIND_MANIFEST)
                        break;
                if (kind == POD_OCI_KIND_SCHEMA1)
                        return pod_error_set(reterr, -EPROTONOSUPPORT,
                                             "Manifest %s: Docker schema 1 manifests are not "
                                             "supported",
                                             cur_digest);
                if (depth >= 4)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Index %s: indexes nested too deeply", cur_digest);
                r = pod_oci_index_select(body, body_size, plat, &d, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Index %s", cur_digest);
                free(cur_digest);
                free(cur_type);
                cur_digest = TAKE_PTR(d.digest);
                cur_type = TAKE_PTR(d.media_type);
                size = d.size;
        }
        r = pod_oci_manifest_parse(body, body_size, &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Manifest %s", cur_digest);
        r = plan_config(src, im, NULL, m.config.digest, m.config.size, &c, reterr);
        if (r < 0)
                return r;
        if (m.n_layers != c.n_diff_ids)
                return pod_error_set(reterr, -EBADMSG,
                                     "Manifest %s lists %zu layers, its config %zu diff_ids",
                                     cur_digest, m.n_layers, c.n_diff_ids);
        im->manifest = TAKE_PTR(body);
        im->manifest_size = body_size;
        im->manifest_digest = TAKE_PTR(cur_digest);
        im->layers = calloc(m.n_layers ?: 1, sizeof(*im->layers));
        if (!im->layers)
                return -ENOMEM;
        for (size_t k = 0; k < m.n_layers; k++) {
                struct plan_layer *l = &im->layers[im->n_layers++];
                uint64_t have;

                l->member = blob_path(m.layers[k].digest);
                l->digest = strdup(m.layers[k].digest);
                l->media_type = m.layers[k].media_type ? strdup(m.layers[k].media_type) : NULL;
                l->diff_id = strdup(c.diff_ids[k]);
                l->size = m.layers[k].size;
                if (!l->member || !l->digest || !l->diff_id ||
                    (m.layers[k].media_type && !l->media_type))
                        return -ENOMEM;
                r = source_stat(src, l->member, &have, reterr);
                if (r < 0)
                        return r;
                if (have != l->size)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Archive member '%s' has %" PRIu64
                                             " bytes, the manifest says %" PRIu64,
                                             l->member, have, l->size);
        }
        return 0;
}

/* docker 25's manifest.json beside index.json: the RepoTags of the image with this config. */
static int plan_docker_names(struct json_object *dm, struct plan_image *im,
                             struct pod_error *reterr) {
        size_t n;
        int r;

        if (!dm || !json_object_is_type(dm, json_type_array))
                return 0;
        n = json_object_array_length(dm);
        for (size_t i = 0; i < n && i < POD_OCI_ARCHIVE_IMAGES_MAX; i++) {
                struct json_object *e = json_object_array_get_idx(dm, i), *tags;
                _cleanup_free_ char *norm = NULL, *d = NULL;
                const char *cfg;

                if (!json_object_is_type(e, json_type_object))
                        continue;
                cfg = json_object_get_string(pod_json_get(e, "Config"));
                if (!cfg || oci_member_name_normalize(cfg, &norm) < 0)
                        continue;
                d = digest_of_path(norm);
                if (!d || !streq(d, im->config_digest))
                        continue;
                tags = pod_json_get(e, "RepoTags");
                if (!tags || !json_object_is_type(tags, json_type_array))
                        continue;
                for (size_t k = 0; k < json_object_array_length(tags); k++) {
                        const char *ref =
                                json_object_get_string(json_object_array_get_idx(tags, k));

                        if (!ref)
                                continue;
                        r = plan_image_add_ref(im, ref, "manifest.json: RepoTags", reterr);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* The names an index.json entry gives its image (see the header). */
static int plan_oci_names(struct json_object *ann, const char *name, struct plan_image *im,
                          struct pod_error *reterr) {
        const char *cname, *rname;
        int r;

        if (!ann || !json_object_is_type(ann, json_type_object))
                return 0;
        cname = json_object_get_string(json_object_object_get(ann, ANN_CONTAINERD_NAME));
        rname = json_object_get_string(json_object_object_get(ann, ANN_REF_NAME));
        if (cname) {
                _cleanup_free_ char *registry = NULL, *repository = NULL, *tag = NULL;

                r = docker_ref_parse(cname, &registry, &repository, &tag);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return pod_error_set(reterr, -EBADMSG,
                                             "index.json: annotation " ANN_CONTAINERD_NAME
                                             " '%s' is not a valid image reference",
                                             cname);
                return plan_image_add_tag(im, registry, repository,
                                          tag ?: (rname && tag_valid(rname) ? rname : "latest"));
        }
        if (!rname)
                return 0;
        if (strchr(rname, '/') || strchr(rname, ':'))
                return plan_image_add_ref(im, rname, "index.json: annotation " ANN_REF_NAME,
                                          reterr);
        if (!tag_valid(rname))
                return pod_error_set(reterr, -EBADMSG,
                                     "index.json: annotation " ANN_REF_NAME
                                     " '%s' is neither a tag nor a reference",
                                     rname);
        if (name) {
                _cleanup_free_ char *ref = NULL;

                if (asprintf(&ref, "%s:%s", name, rname) < 0)
                        return -ENOMEM;
                return plan_image_add_ref(im, ref, "--name", reterr);
        }
        return 0;
}

static int plan_oci(struct source *src, const struct pod_oci_platform *plat, const char *name,
                    struct plan *p, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *root = NULL, *dm = NULL;
        _cleanup_free_ char *text = NULL;
        struct json_object *list = NULL;
        bool named = false, platformed = false;
        size_t size = 0, n;
        int r;

        r = source_read(src, "index.json", POD_OCI_JSON_MAX, &text, &size, reterr);
        if (r < 0)
                return r;
        r = pod_json_parse(text, size, POD_OCI_JSON_MAX, &root, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "index.json");
        r = pod_json_as_object(root, POD_JSON_KEY(NULL, "index.json"), reterr);
        if (r < 0)
                return r;
        r = pod_json_get_array(root, "manifests", POD_JSON_KEY(NULL, "index.json"), &list, reterr);
        if (r < 0)
                return r;
        n = r > 0 ? json_object_array_length(list) : 0;
        if (n == 0)
                return pod_error_set(reterr, -EBADMSG, "index.json lists no image");
        if (n > POD_OCI_ARCHIVE_IMAGES_MAX)
                return pod_error_set(reterr, -E2BIG, "index.json lists more than %u images",
                                     POD_OCI_ARCHIVE_IMAGES_MAX);
        if (source_has(src, "manifest.json")) {
                _cleanup_free_ char *mt = NULL;
                size_t ms = 0;

                r = source_read(src, "manifest.json", POD_OCI_JSON_MAX, &mt, &ms, reterr);
                if (r < 0)
                        return r;
                r = pod_json_parse(mt, ms, POD_OCI_JSON_MAX, &dm, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "manifest.json");
        }
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(list, i), *ann;

                if (!json_object_is_type(e, json_type_object))
                        return pod_error_set(reterr, -EBADMSG,
                                             "index.json: manifests[%zu] is not an object", i);
                ann = json_object_object_get(e, "annotations");
                if (ann && (json_object_object_get(ann, ANN_REF_NAME) ||
                            json_object_object_get(ann, ANN_CONTAINERD_NAME)))
                        named = true;
                if (json_object_object_get(e, "platform"))
                        platformed = true;
        }
        /* Unnamed entries for several platforms: index.json is itself the image's index. */
        if (n > 1 && !named && platformed) {
                _cleanup_(pod_oci_descriptor_done) struct pod_oci_descriptor d = {};
                _cleanup_(plan_image_done) struct plan_image im = {};

                r = pod_oci_index_select(text, size, plat, &d, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "index.json");
                r = plan_oci_image(src, plat, d.media_type, d.digest, d.size, &im, reterr);
                if (r < 0)
                        return r;
                r = plan_docker_names(dm, &im, reterr);
                if (r < 0)
                        return r;
                return plan_add(p, &im);
        }
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *jp = POD_JSON_IDX(
                        POD_JSON_KEY(POD_JSON_KEY(NULL, "index.json"), "manifests"), i);
                struct json_object *e = json_object_array_get_idx(list, i);
                _cleanup_(plan_image_done) struct plan_image im = {};
                _cleanup_free_ char *mt = NULL, *digest = NULL;
                int64_t dsize = 0;

                r = pod_json_get_string(e, "mediaType", jp, false, &mt, reterr);
                if (r >= 0)
                        r = pod_json_get_string(e, "digest", jp, true, &digest, reterr);
                if (r >= 0)
                        r = pod_json_get_int(e, "size", jp, true, 1, POD_OCI_JSON_MAX, &dsize,
                                             reterr);
                if (r < 0)
                        return r;
                r = plan_oci_image(src, plat, mt, digest, (uint64_t)dsize, &im, reterr);
                if (r < 0)
                        return r;
                r = plan_oci_names(json_object_object_get(e, "annotations"), name, &im, reterr);
                if (r < 0)
                        return r;
                if (im.n_tags == 0) {
                        r = plan_docker_names(dm, &im, reterr);
                        if (r < 0)
                                return r;
                }
                r = plan_add(p, &im);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to plan the import");
        }
        return 0;
}

static bool strv_has(char **l, const char *s) {
        STRV_FOREACH (i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

/* ---- import ------------------------------------------------------------------------------ */

static int source_open(const char *path, struct source *ret, enum pod_oci_archive_kind *ret_kind,
                       struct pod_error *reterr) {
        struct source src = { .fd = -EBADF };
        struct stat st;
        int r;

        src.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (src.fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s'", path);
        if (fstat(src.fd, &st) < 0) {
                r = -errno;
                source_done(&src);
                return pod_error_set(reterr, r, "Failed to stat '%s'", path);
        }
        if (S_ISDIR(st.st_mode)) {
                *ret_kind = source_has(&src, "oci-layout") ? POD_OCI_ARCHIVE_OCI_DIR
                                                           : POD_OCI_ARCHIVE_NONE;
                *ret = src;
                return 0;
        }
        if (!S_ISREG(st.st_mode)) {
                source_done(&src);
                return pod_error_set(reterr, -EINVAL, "'%s' is neither a file nor a directory",
                                     path);
        }
        {
                unsigned char head[TAR_BLOCK];
                enum pod_compression c;

                if (st.st_size < (off_t)TAR_BLOCK ||
                    oci_pread_full(src.fd, head, TAR_BLOCK, 0) < 0 ||
                    pod_compression_detect(head, sizeof(head), &c) < 0 ||
                    c != POD_COMPRESSION_NONE) {
                        *ret_kind = POD_OCI_ARCHIVE_NONE;
                        *ret = src;
                        return 0;
                }
        }
        src.is_tar = true;
        r = oci_tar_index(src.fd, &src.tar, reterr);
        if (r < 0) {
                source_done(&src);
                return r;
        }
        if (oci_tar_find(&src.tar, "manifest")) /* an ACI */
                *ret_kind = POD_OCI_ARCHIVE_NONE;
        else if (oci_tar_find(&src.tar, "index.json"))
                *ret_kind = POD_OCI_ARCHIVE_OCI_TAR;
        else if (oci_tar_find(&src.tar, "manifest.json"))
                *ret_kind = POD_OCI_ARCHIVE_DOCKER_TAR;
        else
                *ret_kind = POD_OCI_ARCHIVE_NONE;
        if (*ret_kind != POD_OCI_ARCHIVE_NONE && src.tar.unsafe.error < 0) {
                r = pod_error_set(reterr, src.tar.unsafe.error, "%s", src.tar.unsafe.msg);
                source_done(&src);
                return r;
        }
        *ret = src;
        return 0;
}

int pod_oci_archive_probe(const char *path, enum pod_oci_archive_kind *ret,
                          struct pod_error *reterr) {
        struct source src = { .fd = -EBADF };
        int r;

        r = source_open(path, &src, ret, reterr);
        source_done(&src);
        return r;
}

static int import_layer(struct pod_store *s, struct source *src, const struct plan_layer *pl,
                        const struct pod_oci_archive_import_options *o, struct pod_error *reterr) {
        struct pod_store_oci_layer l = {
                .digest = pl->digest,
                .media_type = pl->media_type,
                .size = pl->size,
                .diff_id = pl->diff_id,
        };
        struct streamer st;
        int fd = -EBADF, r, rs;

        r = source_stream(src, pl->member, &st, &fd, reterr);
        if (r < 0)
                return r;
        r = pod_store_oci_import_layer_fd(s, fd, &l, o->limits ?: &pod_limits_default,
                                          o->unpack_flags, reterr);
        (void)close(fd); /* a writer still running gets EPIPE and ends */
        rs = streamer_finish(&st);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Layer '%s'", pl->member);
        if (rs < 0 && rs != -EPIPE)
                return pod_error_set(reterr, rs, "Failed to read layer '%s'", pl->member);
        return 0;
}

static int commit_image(struct pod_store *s, const struct plan_image *im,
                        const struct plan_tag *tag, const struct pod_oci_archive_import_options *o,
                        char **ret_id, struct pod_error *reterr) {
        _cleanup_free_ struct pod_store_oci_layer *layers = NULL;
        struct pod_store_oci_image img = {
                .registry = tag ? tag->registry : NULL,
                .repository = tag ? tag->repository : NULL,
                .tag = tag ? tag->tag : NULL,
                .manifest_digest = im->manifest_digest,
                .manifest = im->manifest,
                .manifest_size = im->manifest_size,
                .config = im->config,
                .config_size = im->config_size,
                .n_layers = im->n_layers,
                .provenance = o->provenance,
        };

        layers = calloc(im->n_layers ?: 1, sizeof(*layers));
        if (!layers)
                return -ENOMEM;
        for (size_t i = 0; i < im->n_layers; i++)
                layers[i] = (struct pod_store_oci_layer){
                        .digest = im->layers[i].digest,
                        .media_type = im->layers[i].media_type,
                        .size = im->layers[i].size,
                        .diff_id = im->layers[i].diff_id,
                };
        img.layers = layers;
        return pod_store_oci_commit(s, &img, ret_id, reterr);
}

int pod_oci_archive_import(struct pod_store *s, const char *path,
                           const struct pod_oci_archive_import_options *o, char ***ret_ids,
                           struct pod_error *reterr) {
        _cleanup_(pod_oci_platform_done) struct pod_oci_platform host = {};
        _cleanup_(source_done) struct source src = { .fd = -EBADF };
        _cleanup_(plan_done) struct plan plan = {};
        _cleanup_strv_free_ char **ids = NULL;
        const struct pod_oci_platform *plat;
        enum pod_oci_archive_kind kind;
        size_t n_ids = 0;
        int r;

        r = source_open(path, &src, &kind, reterr);
        if (r < 0)
                return r;
        plat = o->platform;
        if (!plat) {
                r = pod_oci_platform_host(&host);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to tell the host's platform");
                plat = &host;
        }
        switch (kind) {
        case POD_OCI_ARCHIVE_DOCKER_TAR:
                r = plan_docker(&src, &plan, reterr);
                break;
        case POD_OCI_ARCHIVE_OCI_TAR:
        case POD_OCI_ARCHIVE_OCI_DIR:
                r = plan_oci(&src, plat, o->name, &plan, reterr);
                break;
        default:
                return pod_error_set(reterr, -EMEDIUMTYPE,
                                     "'%s' is neither a docker save archive nor an OCI layout",
                                     path);
        }
        if (r < 0)
                return r;

        /* Everything checked that can be without the layers' bytes: now the layers. */
        for (size_t i = 0; i < plan.n; i++)
                for (size_t k = 0; k < plan.images[i].n_layers; k++) {
                        r = import_layer(s, &src, &plan.images[i].layers[k], o, reterr);
                        if (r < 0)
                                return r;
                }

        ids = calloc(plan.n + 1, sizeof(char *));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < plan.n; i++) {
                const struct plan_image *im = &plan.images[i];
                _cleanup_free_ char *id = NULL;

                for (size_t t = 0; t < (im->n_tags ?: 1); t++) {
                        free(id);
                        id = NULL;
                        r = commit_image(s, im, im->n_tags ? &im->tags[t] : NULL, o, &id, reterr);
                        if (r < 0)
                                return r;
                }
                if (!strv_has(ids, id))
                        ids[n_ids++] = TAKE_PTR(id);
        }
        *ret_ids = TAKE_PTR(ids);
        return 0;
}
