/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "dlopen-archive.h"
#include "escape.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "podlimits.h"
#include "rootless.h"
#include "unpack.h"
#include "xattr-util.h"
#include "zero-runs.h"

/* Decompressed data travels from the reading thread to the tar thread in a ring of chunks.
 * 8 x 1 MiB keeps both threads busy without holding much memory. */
#define CHUNK_SIZE  (1u << 20)
#define N_CHUNKS    8
#define INPUT_SIZE  (1u << 20)
#define SNIFF_SIZE  512
#define MAX_ENTRIES (16u << 20)
/* Free space is looked at again after every this many bytes unpacked. */
#define SPACE_CHECK_EVERY (UINT64_C(64) << 20)

static const char *const compression_names[_POD_COMPRESSION_MAX] = {
        [POD_COMPRESSION_NONE] = "none",   [POD_COMPRESSION_GZIP] = "gzip",
        [POD_COMPRESSION_BZIP2] = "bzip2", [POD_COMPRESSION_XZ] = "xz",
        [POD_COMPRESSION_ZSTD] = "zstd",
};

const char *pod_compression_to_string(enum pod_compression c) {
        if (c < 0 || c >= _POD_COMPRESSION_MAX)
                return NULL;
        return compression_names[c];
}

enum pod_compression pod_compression_from_string(const char *s) {
        for (int i = 0; i < _POD_COMPRESSION_MAX; i++)
                if (s && streq(s, compression_names[i]))
                        return i;
        return _POD_COMPRESSION_INVALID;
}

int pod_compression_detect(const void *head, size_t size, enum pod_compression *ret) {
        const unsigned char *p = head;

        if (size >= 2 && p[0] == 0x1f && p[1] == 0x8b)
                *ret = POD_COMPRESSION_GZIP;
        else if (size >= 4 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' && p[3] <= '9')
                *ret = POD_COMPRESSION_BZIP2;
        else if (size >= 6 && memcmp(p,
                                     "\xfd"
                                     "7zXZ\0",
                                     6) == 0)
                *ret = POD_COMPRESSION_XZ;
        else if (size >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
                *ret = POD_COMPRESSION_ZSTD;
        /* POSIX ustar/pax ("ustar\0") and GNU ("ustar  ") headers carry the magic at 257. */
        else if (size >= 512 && memcmp(p + 257, "ustar", 5) == 0)
                *ret = POD_COMPRESSION_NONE;
        else
                return -EMEDIUMTYPE;
        return 0;
}

void pod_unpack_result_done(struct pod_unpack_result *r) {
        if (!r)
                return;
        free(r->manifest);
        r->manifest = NULL;
        r->manifest_size = 0;
}

/* ---- seen-path set: duplicates, implied parents, what each path is ---- */

enum {
        SEEN_DIR_IMPLIED = 1,
        SEEN_DIR,
        SEEN_FILE, /* regular file: a valid hard-link target */
        SEEN_SYMLINK,
        SEEN_OTHER,
        SEEN_WHITEOUT, /* layer mode: DIR/.wh.NAME made DIR/NAME a whiteout */
};

struct seen_slot {
        char *path;
        int kind;
};

struct seen_set {
        struct seen_slot *slots;
        size_t n_slots, n_used;
};

static uint64_t hash_str(const char *s, size_t n) {
        uint64_t h = 1469598103934665603ull; /* FNV-1a */

        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ull;
        }
        return h;
}

static void seen_set_done(struct seen_set *s) {
        for (size_t i = 0; i < s->n_slots; i++)
                free(s->slots[i].path);
        free(s->slots);
        *s = (struct seen_set){};
}

static struct seen_slot *seen_find(struct seen_set *s, const char *p, size_t n) {
        size_t i;

        if (s->n_slots == 0)
                return NULL;
        for (i = hash_str(p, n) & (s->n_slots - 1);; i = (i + 1) & (s->n_slots - 1)) {
                struct seen_slot *slot = &s->slots[i];

                if (!slot->path)
                        return slot; /* empty: where it would go */
                if (strlen(slot->path) == n && memcmp(slot->path, p, n) == 0)
                        return slot;
        }
}

static int seen_grow(struct seen_set *s) {
        struct seen_set n = { .n_slots = s->n_slots ? s->n_slots * 2 : 1024 };

        n.slots = calloc(n.n_slots, sizeof(struct seen_slot));
        if (!n.slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_slots; i++)
                if (s->slots[i].path) {
                        struct seen_slot *d =
                                seen_find(&n, s->slots[i].path, strlen(s->slots[i].path));
                        *d = s->slots[i];
                }
        n.n_used = s->n_used;
        free(s->slots);
        *s = n;
        return 0;
}

/* Returns the slot for p[0..n), adding it (kind 0) if absent. */
static int seen_get(struct seen_set *s, const char *p, size_t n, struct seen_slot **ret) {
        struct seen_slot *slot;
        int r;

        if ((s->n_used + 1) * 2 > s->n_slots) {
                r = seen_grow(s);
                if (r < 0)
                        return r;
        }
        slot = seen_find(s, p, n);
        if (!slot->path) {
                slot->path = strndup(p, n);
                if (!slot->path)
                        return -ENOMEM;
                slot->kind = 0;
                s->n_used++;
        }
        *ret = slot;
        return 0;
}

/* ---- the chunk ring between the threads ----
 *
 * Three threads share the work of one pass: the calling thread reads and decompresses, a
 * hash thread computes the SHA-512 of the decompressed stream, the tar thread parses and
 * writes files.  Chunks are numbered; chunk k lives in bufs[k % N_CHUNKS] and is reused
 * once both readers have passed it.  Neither reader ever copies. */

struct unpack_ctx {
        /* input side (calling thread) */
        int fd;
        int copy_fd;
        unsigned char *inbuf;
        size_t sniff_size;
        bool sniff_served;
        uint64_t input_size;
        uint64_t tar_size;
        uint64_t space_checked_at; /* tar_size at the last free-space check */
        enum pod_compression compression;
        struct pod_error in_err;

        /* the ring */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        char *bufs[N_CHUNKS];
        size_t lens[N_CHUNKS];
        uint64_t produced; /* chunks published */
        uint64_t tar_pos;  /* chunks the tar thread is done with */
        uint64_t hash_pos; /* chunks the hash thread is done with */
        bool tar_held;     /* the tar thread holds chunk tar_pos (libarchive's buffer) */
        bool eof;          /* producer finished (successfully or not) */
        int in_error;      /* producer failure, < 0 */
        bool tar_done;     /* tar side finished: only the hash thread reads from now on */

        /* hash thread: the tar's SHA-512 (ACI) or SHA-256 (layer mode, the diff_id) */
        struct pod_sha512 *hash;
        struct pod_sha256 *hash256;
        int hash_error;
        /* layer mode: SHA-256 of the input bytes (the blob digest), on the calling thread */
        struct pod_sha256 *input_hash;
        /* POD_UNPACK_HASH_INPUT: SHA-512 of the input bytes, on the calling thread */
        struct pod_sha512 *input_hash512;
        bool layer;

        /* tar side (worker thread) */
        int target_fd;
        const struct pod_unpack_options *opts;
        struct seen_set seen;
        char *manifest;
        size_t manifest_size;
        bool input_failed; /* the tar side stopped because the input failed */
        int x_error;
        struct pod_error x_err;
        /* In a user namespace (rootless, rootless.h), when owners are restored: the IDs the
         * namespace maps; NULL otherwise (the initial namespace maps every ID). */
        struct pod_id_maps *maps;
        bool userns; /* in a user namespace: no device nodes can be made */
};

static ssize_t ring_read_cb(struct archive *a, void *userdata, const void **ret_buf) {
        struct unpack_ctx *c = userdata;
        ssize_t n;

        (void)pthread_mutex_lock(&c->lock);
        if (c->tar_held) {
                c->tar_pos++;
                c->tar_held = false;
                (void)pthread_cond_broadcast(&c->cond);
        }
        while (c->tar_pos == c->produced && !c->eof)
                (void)pthread_cond_wait(&c->cond, &c->lock);
        if (c->tar_pos == c->produced) {
                int e = c->in_error;

                (void)pthread_mutex_unlock(&c->lock);
                if (e < 0) {
                        c->input_failed = true;
                        archive_set_error(a, -e, "input failed");
                        return -1;
                }
                return 0; /* EOF */
        }
        c->tar_held = true;
        *ret_buf = c->bufs[c->tar_pos % N_CHUNKS];
        n = (ssize_t)c->lens[c->tar_pos % N_CHUNKS];
        (void)pthread_mutex_unlock(&c->lock);
        return n;
}

static void *hash_thread(void *p) {
        struct unpack_ctx *c = p;

        (void)pthread_mutex_lock(&c->lock);
        for (;;) {
                uint64_t k;
                int r;

                while (c->hash_pos == c->produced && !c->eof)
                        (void)pthread_cond_wait(&c->cond, &c->lock);
                if (c->hash_pos == c->produced)
                        break;
                k = c->hash_pos;
                (void)pthread_mutex_unlock(&c->lock);
                /* The chunk cannot be reused before hash_pos moves past it. */
                if (c->hash)
                        r = pod_sha512_update(c->hash, c->bufs[k % N_CHUNKS],
                                              c->lens[k % N_CHUNKS]);
                else
                        r = pod_sha256_update(c->hash256, c->bufs[k % N_CHUNKS],
                                              c->lens[k % N_CHUNKS]);
                (void)pthread_mutex_lock(&c->lock);
                if (r < 0 && c->hash_error == 0)
                        c->hash_error = r;
                c->hash_pos++;
                (void)pthread_cond_broadcast(&c->cond);
        }
        (void)pthread_mutex_unlock(&c->lock);
        return NULL;
}

/* Publishes the fill slot with len bytes, then waits until the next slot is free.  Returns 0,
 * or -ECANCELED when the tar side failed (nothing more is needed). */
static int ring_push(struct unpack_ctx *c, size_t len) {
        int r;

        (void)pthread_mutex_lock(&c->lock);
        if (len > 0) {
                c->lens[c->produced % N_CHUNKS] = len;
                c->produced++;
                (void)pthread_cond_broadcast(&c->cond);
        }
        for (;;) {
                uint64_t oldest = c->hash_pos;

                if (!c->tar_done && c->tar_pos < oldest)
                        oldest = c->tar_pos;
                if (c->produced - oldest < N_CHUNKS || (c->tar_done && c->x_error < 0))
                        break;
                (void)pthread_cond_wait(&c->cond, &c->lock);
        }
        r = c->tar_done && c->x_error < 0 ? -ECANCELED : 0;
        (void)pthread_mutex_unlock(&c->lock);
        return r;
}

static unsigned ring_fill_slot(struct unpack_ctx *c) {
        unsigned s;

        (void)pthread_mutex_lock(&c->lock);
        s = (unsigned)(c->produced % N_CHUNKS);
        (void)pthread_mutex_unlock(&c->lock);
        return s;
}

/* libarchive pulls the raw input through here; every byte is also copied to copy_fd. */
static ssize_t input_read_cb(struct archive *a, void *userdata, const void **ret_buf) {
        struct unpack_ctx *c = userdata;
        ssize_t n;
        int r;

        if (!c->sniff_served) {
                c->sniff_served = true;
                n = (ssize_t)c->sniff_size;
        } else {
                do
                        n = read(c->fd, c->inbuf, INPUT_SIZE);
                while (n < 0 && errno == EINTR);
                if (n < 0) {
                        r = -errno;
                        (void)pod_error_set(&c->in_err, r, "Failed to read the archive: %s",
                                            strerror(-r));
                        if (a)
                                archive_set_error(a, -r, "read failed");
                        return -1;
                }
        }
        if (n > 0 && c->copy_fd >= 0) {
                r = loop_write(c->copy_fd, c->inbuf, (size_t)n);
                if (r < 0) {
                        (void)pod_error_set(&c->in_err, r, "Failed to copy the archive: %s",
                                            strerror(-r));
                        if (a)
                                archive_set_error(a, -r, "copy failed");
                        return -1;
                }
        }
        if (c->opts->max_input_size > 0 && c->input_size + (uint64_t)n > c->opts->max_input_size) {
                (void)pod_error_set(&c->in_err, -EBADMSG,
                                    "The input is longer than the %" PRIu64 " bytes expected",
                                    c->opts->max_input_size);
                if (a)
                        archive_set_error(a, EBADMSG, "input too long");
                return -1;
        }
        if (n > 0 && c->input_hash) {
                r = pod_sha256_update(c->input_hash, c->inbuf, (size_t)n);
                if (r < 0) {
                        (void)pod_error_set(&c->in_err, r, "Failed to hash the input: %s",
                                            strerror(-r));
                        if (a)
                                archive_set_error(a, -r, "hash failed");
                        return -1;
                }
        }
        if (n > 0 && c->input_hash512) {
                r = pod_sha512_update(c->input_hash512, c->inbuf, (size_t)n);
                if (r < 0) {
                        (void)pod_error_set(&c->in_err, r, "Failed to hash the input: %s",
                                            strerror(-r));
                        if (a)
                                archive_set_error(a, -r, "hash failed");
                        return -1;
                }
        }
        c->input_size += (uint64_t)n;
        *ret_buf = c->inbuf;
        return n;
}

static int archive_to_errno(struct archive *a, int fallback) {
        int e = archive_errno(a);

        /* libarchive reports format errors as ARCHIVE_ERRNO_MISC (-1) or FILE_FORMAT (EFTYPE
         * mapped to EILSEQ on Linux); keep real errnos (ENOSPC, EIO) as they are. */
        if (e <= 0 || e == EILSEQ || e == EINVAL)
                return fallback;
        return -e;
}

/* libarchive's disk writer reports a failed write(2) as ARCHIVE_WARN ("Write failed"), the
 * same level as a time or ACL it could not restore: a full disk during extraction was taken
 * for a warning and left holes of zeros in files.  Any result below OK is a failure when the
 * data went nowhere (data blocks) or the kernel said the disk could not take it. */
static bool disk_failed(struct archive *disk, int r, bool data) {
        int e;

        if (r >= ARCHIVE_OK)
                return false;
        if (r < ARCHIVE_WARN || data)
                return true;
        e = archive_errno(disk);
        return e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS || e == EFBIG;
}

/* "Failed to VERB 'PATH': <the kernel's cause>" (libarchive's own words only without one). */
static int disk_error(struct unpack_ctx *c, struct archive *disk, const char *verb,
                      const char *path) {
        int r = archive_to_errno(disk, -EIO), e = archive_errno(disk);

        if (e > 0)
                return pod_error_set(&c->x_err, r, "Failed to %s '%s': %s", verb, POD_ESC(path),
                                     strerror(e));
        return pod_error_set(&c->x_err, r, "Failed to %s '%s': %s", verb, POD_ESC(path),
                             strna(archive_error_string(disk)));
}

/* ---- limits (podlimits.h): a small compressed file must not fill the disk ---- */

static int check_space(struct unpack_ctx *c, uint64_t need) {
        const struct pod_limits *l = c->opts->limits;
        int fd = c->target_fd >= 0 ? c->target_fd : c->copy_fd;
        char have_s[32], need_s[32], min_s[32];
        struct statvfs sv;
        uint64_t have;

        if (!l || fd < 0)
                return 0;
        if (fstatvfs(fd, &sv) < 0)
                return pod_error_set(&c->in_err, -errno, "Failed to check the free space: %m");
        /* A file system with no size (ramfs, some FUSE ones) has nothing to check against. */
        if (sv.f_blocks == 0)
                return 0;
        have = (uint64_t)sv.f_bavail * sv.f_frsize;
        if (have >= need && have - need >= l->image_min_free)
                return 0;
        return pod_error_set(&c->in_err, -ENOSPC,
                             "Only %s free on the file system the image is unpacked to, %s "
                             "needed plus %s kept free (image-min-free-space in " POD_LIMITS_FILE
                             ", see pod-config(1))",
                             pod_limits_format_bytes(have, have_s),
                             pod_limits_format_bytes(need, need_s),
                             pod_limits_format_bytes(l->image_min_free, min_s));
}

/* Before the first byte: room for the copy of the input (when its size is known). */
static int check_space_up_front(struct unpack_ctx *c) {
        struct stat st;
        off_t pos;

        if (!c->opts->limits)
                return 0;
        pos = lseek(c->fd, 0, SEEK_CUR);
        if (fstat(c->fd, &st) < 0 || !S_ISREG(st.st_mode) || pos < 0 || st.st_size < pos)
                return check_space(c, 0);
        return check_space(c, c->copy_fd >= 0 ? (uint64_t)(st.st_size - pos) : 0);
}

/* After each decompressed block: size, expansion ratio, and now and then free space. */
static int check_limits(struct unpack_ctx *c) {
        const struct pod_limits *l = c->opts->limits;
        char a[32], b[32];

        if (!l)
                return 0;
        if (l->image_max_unpacked > 0 && c->tar_size > l->image_max_unpacked)
                return pod_error_set(&c->in_err, -EFBIG,
                                     "The image unpacks to more than %s, the limit "
                                     "image-max-unpacked-size in " POD_LIMITS_FILE
                                     " (raise it there, see pod-config(1))",
                                     pod_limits_format_bytes(l->image_max_unpacked, a));
        if (l->image_max_ratio > 0 && c->tar_size > POD_LIMITS_RATIO_FLOOR &&
            c->tar_size / (c->input_size ? c->input_size : 1) >= l->image_max_ratio)
                return pod_error_set(&c->in_err, -EFBIG,
                                     "The image expands more than %" PRIu64
                                     " times (%s unpacked from %s): a compression bomb? The "
                                     "limit is image-max-expansion-ratio in " POD_LIMITS_FILE
                                     " (raise it there, see pod-config(1))",
                                     l->image_max_ratio, pod_limits_format_bytes(c->tar_size, a),
                                     pod_limits_format_bytes(c->input_size, b));
        if (c->tar_size - c->space_checked_at >= SPACE_CHECK_EVERY) {
                c->space_checked_at = c->tar_size;
                return check_space(c, 0);
        }
        return 0;
}

/* Calling thread: decompress, hash, feed the ring. */
static int produce(struct unpack_ctx *c) {
        struct archive *raw;
        struct archive_entry *e;
        int push = 0;
        unsigned slot;
        size_t fill = 0;
        int r;

        raw = archive_read_new();
        if (!raw)
                return pod_error_set(&c->in_err, -ENOMEM, "Out of memory");
        (void)archive_read_support_format_raw(raw);
        switch (c->compression) {
        case POD_COMPRESSION_GZIP:
                r = archive_read_append_filter(raw, ARCHIVE_FILTER_GZIP);
                break;
        case POD_COMPRESSION_BZIP2:
                r = archive_read_append_filter(raw, ARCHIVE_FILTER_BZIP2);
                break;
        case POD_COMPRESSION_XZ:
                r = archive_read_append_filter(raw, ARCHIVE_FILTER_XZ);
                break;
        case POD_COMPRESSION_ZSTD:
                r = archive_read_append_filter(raw, ARCHIVE_FILTER_ZSTD);
                break;
        default:
                r = ARCHIVE_OK;
        }
        if (r != ARCHIVE_OK) {
                r = pod_error_set(&c->in_err, -EOPNOTSUPP, "libarchive cannot decompress %s: %s",
                                  pod_compression_to_string(c->compression),
                                  archive_error_string(raw));
                (void)archive_read_free(raw);
                return r;
        }

        r = archive_read_open(raw, c, NULL, input_read_cb, NULL);
        if (r == ARCHIVE_OK)
                r = archive_read_next_header(raw, &e);
        if (r != ARCHIVE_OK) {
                r = pod_error_set(&c->in_err, archive_to_errno(raw, -EBADMSG),
                                  "Corrupt or truncated %s data at the start: %s",
                                  pod_compression_to_string(c->compression),
                                  strna(archive_error_string(raw)));
                (void)archive_read_free(raw);
                return r;
        }

        slot = ring_fill_slot(c);
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;

                r = archive_read_data_block(raw, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK) {
                        r = pod_error_set(&c->in_err, archive_to_errno(raw, -EBADMSG),
                                          "Corrupt or truncated %s data after %" PRIu64
                                          " bytes: %s",
                                          pod_compression_to_string(c->compression), c->tar_size,
                                          strna(archive_error_string(raw)));
                        (void)archive_read_free(raw);
                        return r;
                }
                c->tar_size += size;
                r = check_limits(c);
                if (r < 0) {
                        (void)archive_read_free(raw);
                        return r;
                }

                while (push == 0 && size > 0) {
                        size_t k = CHUNK_SIZE - fill < size ? CHUNK_SIZE - fill : size;

                        memcpy(c->bufs[slot] + fill, buf, k);
                        fill += k;
                        buf = (const char *)buf + k;
                        size -= k;
                        if (fill == CHUNK_SIZE) {
                                push = ring_push(c, fill);
                                fill = 0;
                                slot = ring_fill_slot(c);
                        }
                }
                /* A failed tar side needs nothing more: stop reading. */
                if (push < 0) {
                        (void)archive_read_free(raw);
                        return -ECANCELED;
                }
        }
        if (push == 0 && fill > 0)
                (void)ring_push(c, fill);
        (void)archive_read_free(raw);

        /* A decompressor may stop before the end of the file (bytes after the compressed
         * stream): the copy must still be the whole file, byte for byte, or a signature over
         * the exported file would no longer verify. */
        for (;;) {
                const void *buf;
                ssize_t n = input_read_cb(NULL, c, &buf);

                if (n < 0)
                        return c->in_err.error < 0 ? c->in_err.error : -EIO;
                if (n == 0)
                        return 0;
        }
}

/* ---- tar side ---- */

static int refuse(struct unpack_ctx *c, int r, const char *path, const char *why) {
        return pod_error_set(&c->x_err, r, "Refusing archive entry '%s': %s", POD_ESC(path), why);
}

/* Normalises an entry name: strips one leading "./" and one trailing "/", then requires a safe
 * relative path below "manifest" or "rootfs".  Returns the normalised copy in *ret, or NULL
 * for the archive's own root ("." or "./"), which carries nothing to extract. */
static int normalize_name(struct unpack_ctx *c, const char *name, char **ret) {
        _cleanup_free_ char *p = NULL;
        size_t n;

        if (!name || !*name)
                return refuse(c, -EPERM, strempty(name), "empty or unreadable name");
        if (name[0] == '/')
                return refuse(c, -EPERM, name, "absolute path");
        if (strlen(name) >= 4096)
                return refuse(c, -EPERM, name, "name too long");

        while (name[0] == '.' && name[1] == '/')
                name += 2;
        p = strdup(name);
        if (!p)
                return -ENOMEM;
        n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                p[--n] = 0;
        if (n == 0 || streq(p, ".")) {
                *ret = NULL;
                return 0;
        }

        for (const char *s = p;;) {
                const char *e = strchrnul(s, '/');
                size_t len = (size_t)(e - s);

                if (len == 0)
                        return refuse(c, -EPERM, name, "empty path component");
                if (len == 2 && s[0] == '.' && s[1] == '.')
                        return refuse(c, -EPERM, name, "path contains '..'");
                if (len == 1 && s[0] == '.')
                        return refuse(c, -EPERM, name, "path contains '.'");
                if (!*e)
                        break;
                s = e + 1;
        }

        if (!c->layer && !streq(p, "manifest") && !streq(p, "rootfs") && !strneq(p, "rootfs/", 7))
                return refuse(c, -EPERM, name, "outside 'manifest' and 'rootfs/'");

        *ret = TAKE_PTR(p);
        return 0;
}

/* A relative symlink target must stay within rootfs/ when resolved from the link's directory
 * (lexically: symlinks below were refused as parents, so lexical is exact). */
static bool symlink_target_contained(const char *path, const char *target) {
        int depth = 0;

        if (target[0] == '/')
                return true; /* resolved in the container's root at run time */

        /* depth of the link's directory below rootfs: "rootfs/a/b" -> 1 ("a") */
        for (const char *s = path + strlen("rootfs"); *s; s++)
                if (*s == '/')
                        depth++;
        depth--; /* the link's own name */

        for (const char *s = target;;) {
                const char *e = strchrnul(s, '/');
                size_t len = (size_t)(e - s);

                if (len == 2 && s[0] == '.' && s[1] == '.') {
                        if (--depth < 0)
                                return false;
                } else if (len > 0 && !(len == 1 && s[0] == '.'))
                        depth++;
                if (!*e)
                        return true;
                s = e + 1;
        }
}

static int read_manifest(struct unpack_ctx *c, struct archive *tar, struct archive_entry *e,
                         const char *name) {
        _cleanup_free_ char *buf = NULL;
        la_int64_t size = archive_entry_size(e);
        la_ssize_t k;

        if (!archive_entry_size_is_set(e) || size < 0)
                return refuse(c, -EBADMSG, name, "manifest without a size");
        if ((uint64_t)size > POD_UNPACK_MANIFEST_MAX)
                return pod_error_set(&c->x_err, -EFBIG,
                                     "Refusing archive entry '%s': manifest is %lld bytes, more "
                                     "than %u",
                                     POD_ESC(name), (long long)size, POD_UNPACK_MANIFEST_MAX);
        buf = malloc((size_t)size + 1);
        if (!buf)
                return -ENOMEM;
        k = archive_read_data(tar, buf, (size_t)size);
        if (k != size)
                return pod_error_set(&c->x_err, k < 0 ? archive_to_errno(tar, -EBADMSG) : -EBADMSG,
                                     "Failed to read archive entry '%s': %s", POD_ESC(name),
                                     k < 0 ? strna(archive_error_string(tar)) : "short read");
        buf[size] = 0;
        c->manifest = TAKE_PTR(buf);
        c->manifest_size = (size_t)size;
        return 0;
}

static int write_manifest(struct unpack_ctx *c, struct archive_entry *e) {
        _cleanup_close_ int fd = -EBADF;
        struct timespec ts[2];
        int r;

        fd = openat(c->target_fd, "manifest",
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return pod_error_set(&c->x_err, -errno, "Failed to create 'manifest': %s",
                                     strerror(errno));
        r = loop_write(fd, c->manifest, c->manifest_size);
        if (r < 0)
                return pod_error_set(&c->x_err, r, "Failed to write 'manifest': %s", strerror(-r));
        if (geteuid() == 0 && !(c->opts->flags & POD_UNPACK_NO_OWNER) &&
            fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
                return pod_error_set(&c->x_err, -errno, "Failed to chown 'manifest': %s",
                                     strerror(errno));
        /* The manifest is data, never executable or set-id. */
        if (fchmod(fd, archive_entry_perm(e) & 0666) < 0)
                return pod_error_set(&c->x_err, -errno, "Failed to chmod 'manifest': %s",
                                     strerror(errno));
        ts[0] = ts[1] = (struct timespec){ .tv_sec = archive_entry_mtime(e),
                                           .tv_nsec = archive_entry_mtime_nsec(e) };
        if (futimens(fd, ts) < 0)
                return pod_error_set(&c->x_err, -errno, "Failed to set times of 'manifest': %s",
                                     strerror(errno));
        return 0;
}

/* Registers path in the seen set: every parent must be a directory (implied or real), the
 * path itself new (or an implied directory now made explicit by a directory entry). */
static int check_and_record(struct unpack_ctx *c, const char *path, int kind) {
        struct seen_slot *slot;
        int r;

        for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
                r = seen_get(&c->seen, path, (size_t)(s - path), &slot);
                if (r < 0)
                        return r;
                if (slot->kind == 0)
                        slot->kind = SEEN_DIR_IMPLIED;
                else if (slot->kind == SEEN_SYMLINK)
                        return pod_error_set(&c->x_err, -EPERM,
                                             "Refusing archive entry '%s': it lies below the "
                                             "symlink '%s'",
                                             POD_ESC(path), POD_ESC(slot->path));
                else if (slot->kind != SEEN_DIR && slot->kind != SEEN_DIR_IMPLIED)
                        return pod_error_set(&c->x_err, -EPERM,
                                             "Refusing archive entry '%s': it lies below the "
                                             "non-directory '%s'",
                                             POD_ESC(path), POD_ESC(slot->path));
        }

        r = seen_get(&c->seen, path, strlen(path), &slot);
        if (r < 0)
                return r;
        if (slot->kind == SEEN_DIR_IMPLIED && kind == SEEN_DIR)
                slot->kind = SEEN_DIR;
        else if (slot->kind == SEEN_DIR_IMPLIED)
                return refuse(c, -EPERM, path,
                              "a non-directory where earlier entries need a "
                              "directory");
        else if (slot->kind != 0 && !c->layer)
                return refuse(c, -EPERM, path, "duplicate entry");
        else if (slot->kind != 0) {
                /* docker's applier lets a later entry replace an earlier one; a change
                 * between directory and non-directory (or a whiteout) is refused. */
                if (slot->kind == SEEN_WHITEOUT || kind == SEEN_WHITEOUT ||
                    (slot->kind == SEEN_DIR) != (kind == SEEN_DIR))
                        return refuse(c, -EPERM, path,
                                      "duplicate entry of another type (or a whiteout)");
                slot->kind = kind;
        } else
                slot->kind = kind;
        if (c->seen.n_used > MAX_ENTRIES)
                return refuse(c, -E2BIG, path, "too many entries");
        return 0;
}

/* Zero blocks become holes (zero-runs.h): each run of data between them goes to the disk
 * writer in one call, which seeks over the gaps and sets the entry's size at its end.
 * libarchive's own ARCHIVE_EXTRACT_SPARSE scans byte by byte and writes 4 KiB per write(2):
 * 126,000 write(2)s and 24,000 lseek(2)s for the 500 MB image of bench/import.sh, against
 * 8,400 and 94 this way. */
static int write_block(struct unpack_ctx *c, struct archive *disk, const char *path,
                       const char *buf, size_t size, int64_t off) {
        size_t pos = 0, start, len;

        while (pod_zero_runs_next(buf, size, off, &pos, &start, &len))
                if (disk_failed(disk,
                                (int)archive_write_data_block(disk, buf + start, len,
                                                              off + (int64_t)start),
                                true))
                        return disk_error(c, disk, "write", path);
        return 0;
}

static int copy_data(struct unpack_ctx *c, struct archive *tar, struct archive *disk,
                     const char *path) {
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r;

                r = archive_read_data_block(tar, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return pod_error_set(&c->x_err, archive_to_errno(tar, -EBADMSG),
                                             "Failed to read archive entry '%s': %s", POD_ESC(path),
                                             strna(archive_error_string(tar)));
                r = write_block(c, disk, path, buf, size, off);
                if (r < 0)
                        return r;
        }
}

/* Without a target: a regular file's data to opts->data_cb, block by block. */
static int pass_data(struct unpack_ctx *c, struct archive *tar, const char *path) {
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r;

                r = archive_read_data_block(tar, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return pod_error_set(&c->x_err, archive_to_errno(tar, -EBADMSG),
                                             "Failed to read archive entry '%s': %s", POD_ESC(path),
                                             strna(archive_error_string(tar)));
                r = c->opts->data_cb(path, (uint64_t)off, buf, size, c->opts->userdata, &c->x_err);
                if (r < 0)
                        return r;
        }
}

/* Only the extended attributes xattr_name_allowed() keeps reach the disk: trusted.overlay.*
 * would steer the overlayfs that uses the tree as a lower dir, security.* labels are not the
 * image's to choose.  POD_UNPACK_DROP_PRIVILEGES (a tree for the user, outside the private
 * store): no file capabilities either, and no set-id bits on non-directories. */
static int filter_entry(struct archive_entry *e, mode_t type, unsigned flags) {
        unsigned xflags = flags & POD_UNPACK_DROP_PRIVILEGES ? 0 : XATTR_KEEP_CAPS;
        struct archive_entry *kept;
        const char *name;
        const void *value;
        size_t size;
        bool refused = false;

        if ((flags & POD_UNPACK_DROP_PRIVILEGES) && type != AE_IFDIR)
                archive_entry_set_perm(e, archive_entry_perm(e) & ~(mode_t)(S_ISUID | S_ISGID));

        if (archive_entry_xattr_reset(e) <= 0)
                return 0;
        while (!refused && archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
                refused = !xattr_name_allowed(name, xflags);
        if (!refused)
                return 0;

        /* libarchive removes no single attribute: move the kept ones aside and back. */
        kept = archive_entry_new();
        if (!kept)
                return -ENOMEM;
        (void)archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
                if (xattr_name_allowed(name, xflags))
                        archive_entry_xattr_add_entry(kept, name, value, size);
        archive_entry_xattr_clear(e);
        (void)archive_entry_xattr_reset(kept);
        while (archive_entry_xattr_next(kept, &name, &value, &size) == ARCHIVE_OK)
                archive_entry_xattr_add_entry(e, name, value, size);
        archive_entry_free(kept);
        return 0;
}

/* Rootless (rootless.h): an owner the namespace does not map is refused, never left to the
 * namespace's root by a chown(2) that fails with EINVAL and that libarchive only warns of. */
static int check_owner(struct unpack_ctx *c, struct archive_entry *e, const char *name) {
        if (!c->maps)
                return 0;
        return pod_id_maps_check_owner(c->maps, archive_entry_uid(e), archive_entry_gid(e),
                                       POD_ESC(name), &c->x_err);
}

/* Rootless: no process in a user namespace may create a device node (only the 0/0 whiteout,
 * since Linux 5.8), so an allowed device entry is left out, as podman does.  1 when the entry
 * was skipped. */
static int skip_device(struct unpack_ctx *c, struct archive *tar, mode_t type, const char *name) {
        if (!c->userns || (type != AE_IFCHR && type != AE_IFBLK))
                return 0;
        log_debug("Skipping device node '%s': a user namespace cannot create device nodes",
                  POD_ESC(name));
        if (archive_read_data_skip(tar) < ARCHIVE_WARN)
                return pod_error_set(&c->x_err, -EBADMSG, "Failed to read archive entry '%s': %s",
                                     POD_ESC(name), strna(archive_error_string(tar)));
        return 1;
}

static int process_entry(struct unpack_ctx *c, struct archive *tar, struct archive *disk,
                         struct archive_entry *e) {
        _cleanup_free_ char *path = NULL, *hard = NULL;
        const char *name = archive_entry_pathname(e), *sym = NULL, *out;
        bool rootfs_only = c->opts->flags & POD_UNPACK_ROOTFS_ONLY;
        mode_t type = archive_entry_filetype(e);
        int kind, r;

        r = normalize_name(c, name, &path);
        if (r < 0)
                return r;
        if (!path) /* "./": the archive's root, nothing to create */
                return archive_read_data_skip(tar) < ARCHIVE_WARN ? -EBADMSG : 0;

        /* tar hard links carry no type of their own: they are another name of a file. */
        if (archive_entry_hardlink(e) && type == 0)
                type = AE_IFREG;

        switch (type) {
        case AE_IFDIR:
                kind = SEEN_DIR;
                break;
        case AE_IFREG:
                kind = SEEN_FILE;
                break;
        case AE_IFLNK:
                kind = SEEN_SYMLINK;
                break;
        case AE_IFIFO:
                kind = SEEN_OTHER;
                break;
        case AE_IFCHR:
        case AE_IFBLK:
                if (!(c->opts->flags & POD_UNPACK_ALLOW_DEVICES))
                        return refuse(c, -EPERM, name, "device node (not allowed)");
                r = skip_device(c, tar, type, name);
                if (r != 0)
                        return r < 0 ? r : 0;
                kind = SEEN_OTHER;
                break;
        default:
                return refuse(c, -EPERM, name, "unsupported file type");
        }

        if (streq(path, "manifest") && type != AE_IFREG)
                return refuse(c, -EPERM, name, "'manifest' is not a regular file");
        if (streq(path, "rootfs") && type != AE_IFDIR)
                return refuse(c, -EPERM, name, "'rootfs' is not a directory");

        if (archive_entry_hardlink(e)) {
                struct seen_slot *slot;

                r = normalize_name(c, archive_entry_hardlink(e), &hard);
                if (r < 0)
                        return pod_error_prefix(&c->x_err, r, "Hard link '%s'", POD_ESC(name));
                if (!hard || !strneq(hard, "rootfs/", 7) || !strneq(path, "rootfs/", 7))
                        return refuse(c, -EPERM, name, "hard link outside rootfs/");
                slot = seen_find(&c->seen, hard, strlen(hard));
                if (!slot || !slot->path || slot->kind != SEEN_FILE)
                        return pod_error_set(&c->x_err, -EPERM,
                                             "Refusing archive entry '%s': hard link to '%s', "
                                             "which is not an earlier regular file",
                                             POD_ESC(name), POD_ESC(archive_entry_hardlink(e)));
                kind = SEEN_FILE; /* the same inode as its target: a valid target itself */
        }
        if (type == AE_IFLNK) {
                sym = archive_entry_symlink(e);
                if (!sym || !*sym)
                        return refuse(c, -EPERM, name, "symlink without a target");
                if (!symlink_target_contained(path, sym))
                        return pod_error_set(&c->x_err, -EPERM,
                                             "Refusing archive entry '%s': symlink target '%s' "
                                             "climbs out of rootfs/",
                                             POD_ESC(name), POD_ESC(sym));
        }

        r = check_and_record(c, path, kind);
        if (r < 0)
                return r;

        if (c->opts->entry_cb) {
                struct pod_unpack_entry pe = {
                        .path = path,
                        .mode = archive_entry_mode(e),
                        .size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0,
                        .symlink = sym,
                        .hardlink = hard,
                };
                r = c->opts->entry_cb(&pe, c->opts->userdata, &c->x_err);
                if (r < 0)
                        return r;
        }

        if (streq(path, "manifest")) {
                r = read_manifest(c, tar, e, name);
                if (r < 0)
                        return r;
                if (disk && !rootfs_only) {
                        r = check_owner(c, e, name);
                        if (r < 0)
                                return r;
                        return write_manifest(c, e);
                }
                return 0;
        }

        if (!disk && c->opts->data_cb && type == AE_IFREG && !hard && archive_entry_size(e) > 0)
                return pass_data(c, tar, path);
        if (!disk || (rootfs_only && streq(path, "rootfs")))
                return archive_read_data_skip(tar) < ARCHIVE_WARN
                               ? pod_error_set(&c->x_err, -EBADMSG,
                                               "Failed to read archive entry '%s': %s",
                                               POD_ESC(name), strna(archive_error_string(tar)))
                               : 0;

        r = filter_entry(e, type, c->opts->flags);
        if (r < 0)
                return r;
        r = check_owner(c, e, name);
        if (r < 0)
                return r;

        /* Hand libarchive the checked, normalised names. */
        out = rootfs_only ? path + strlen("rootfs/") : path;
        archive_entry_copy_pathname(e, out);
        if (hard)
                archive_entry_copy_hardlink(e, rootfs_only ? hard + strlen("rootfs/") : hard);

        r = archive_write_header(disk, e);
        if (disk_failed(disk, r, false))
                return disk_error(c, disk, "create", name);
        if (archive_entry_size(e) > 0 && (type == AE_IFREG)) {
                r = copy_data(c, tar, disk, name);
                if (r < 0)
                        return r;
        }
        r = archive_write_finish_entry(disk);
        if (disk_failed(disk, r, false))
                return disk_error(c, disk, "finish", name);
        return 0;
}

/* ---- layer mode (Docker/OCI layers, issue 12) ---- */

#define WH_PREFIX   ".wh."
#define WH_META     ".wh..wh."
#define WH_OPAQUE   ".wh..wh..opq"
#define OPAQUE_NAME "trusted.overlay.opaque"
/* trusted.* needs CAP_SYS_ADMIN in the initial namespace: in a user namespace overlayfs reads
 * the user.overlay.* names instead (mount option userxattr, Linux 5.11). */
#define OPAQUE_NAME_USERNS "user.overlay.opaque"

/* Opens (creating as needed, 0755) the directory dir below the target, one component at a
 * time, never following a symlink: what a whiteout or an opaque marker needs to exist.  The
 * seen set already refused any path below a symlink or a non-directory. */
static int open_layer_dir(struct unpack_ctx *c, const char *dir, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *copy = NULL;
        char *state = NULL;

        fd = fcntl(c->target_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return pod_error_set(&c->x_err, -errno, "Failed to open the target: %s",
                                     strerror(errno));
        copy = strdup(dir);
        if (!copy)
                return -ENOMEM;
        for (char *p = strtok_r(copy, "/", &state); p; p = strtok_r(NULL, "/", &state)) {
                int n;

                if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST)
                        return pod_error_set(&c->x_err, -errno, "Failed to create '%s': %s",
                                             POD_ESC(dir), strerror(errno));
                n = openat(fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (n < 0)
                        return pod_error_set(&c->x_err, -errno, "Failed to open '%s': %s",
                                             POD_ESC(dir), strerror(errno));
                safe_close(fd);
                fd = n;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int skip_entry_data(struct unpack_ctx *c, struct archive *tar, const char *name) {
        if (archive_read_data_skip(tar) < ARCHIVE_WARN)
                return pod_error_set(&c->x_err, -EBADMSG, "Failed to read archive entry '%s': %s",
                                     POD_ESC(name), strna(archive_error_string(tar)));
        return 0;
}

/* DIR/.wh.NAME: DIR/NAME becomes a character device 0/0 (overlayfs's whiteout). */
static int layer_whiteout(struct unpack_ctx *c, struct archive *tar, const char *name,
                          const char *dir, const char *wname) {
        _cleanup_free_ char *wpath = NULL;
        _cleanup_close_ int dfd = -EBADF;
        int r;

        if (!*wname || streq(wname, ".") || streq(wname, ".."))
                return refuse(c, -EPERM, name, "whiteout without a valid name");
        if (asprintf(&wpath, "%s%s%s", dir, *dir ? "/" : "", wname) < 0)
                return -ENOMEM;
        r = check_and_record(c, wpath, SEEN_WHITEOUT);
        if (r < 0)
                return r;
        if (c->opts->entry_cb) {
                struct pod_unpack_entry pe = { .path = wpath, .mode = S_IFCHR };

                r = c->opts->entry_cb(&pe, c->opts->userdata, &c->x_err);
                if (r < 0)
                        return r;
        }
        r = skip_entry_data(c, tar, name);
        if (r < 0 || c->target_fd < 0)
                return r;
        r = open_layer_dir(c, dir, &dfd);
        if (r < 0)
                return r;
        if (mknodat(dfd, wname, S_IFCHR | 0, makedev(0, 0)) < 0)
                return pod_error_set(&c->x_err, -errno, "Failed to create the whiteout '%s': %s",
                                     POD_ESC(wpath), strerror(errno));
        return 0;
}

/* DIR/.wh..wh..opq: DIR hides the same directory of the layers below. */
static int layer_opaque(struct unpack_ctx *c, struct archive *tar, const char *name,
                        const char *dir) {
        _cleanup_close_ int dfd = -EBADF;
        const char *xname = c->userns ? OPAQUE_NAME_USERNS : OPAQUE_NAME;
        int r;

        if (*dir) {
                r = check_and_record(c, dir, SEEN_DIR);
                if (r < 0)
                        return r;
        }
        r = skip_entry_data(c, tar, name);
        if (r < 0 || c->target_fd < 0)
                return r;
        r = open_layer_dir(c, dir, &dfd);
        if (r < 0)
                return r;
        if (fsetxattr(dfd, xname, "y", 1, 0) < 0)
                return pod_error_set(&c->x_err, -errno, "Failed to mark '%s' opaque (%s): %s",
                                     *dir ? POD_ESC(dir) : ".", xname, strerror(errno));
        return 0;
}

/* Whiteout names: 1 when the entry was a whiteout or an opaque marker (handled) or aufs
 * metadata (skipped), 0 for an ordinary entry. */
static int layer_special(struct unpack_ctx *c, struct archive *tar, const char *name, char *path) {
        char *last = strrchr(path, '/'), *base = last ? last + 1 : path;
        int r;

        for (const char *s = path; s < base;) {
                const char *e = strchr(s, '/');

                if (strneq(s, WH_META, strlen(WH_META))) /* aufs' .wh..wh.plnk/... */
                        return skip_entry_data(c, tar, name) < 0 ? -EBADMSG : 1;
                if (strneq(s, WH_PREFIX, strlen(WH_PREFIX)))
                        return refuse(c, -EPERM, name, "whiteout name used as a directory");
                s = e + 1;
        }
        if (!strneq(base, WH_PREFIX, strlen(WH_PREFIX)))
                return 0;
        if (last)
                *last = 0; /* path is now the directory */
        if (streq(base, WH_OPAQUE))
                r = layer_opaque(c, tar, name, last ? path : "");
        else if (strneq(base, WH_META, strlen(WH_META)))
                r = skip_entry_data(c, tar, name);
        else
                r = layer_whiteout(c, tar, name, last ? path : "", base + strlen(WH_PREFIX));
        return r < 0 ? r : 1;
}

static int process_layer_entry(struct unpack_ctx *c, struct archive *tar, struct archive *disk,
                               struct archive_entry *e) {
        _cleanup_free_ char *path = NULL, *hard = NULL;
        const char *name = archive_entry_pathname(e), *sym = NULL;
        mode_t type = archive_entry_filetype(e);
        int kind, r;

        r = normalize_name(c, name, &path);
        if (r < 0)
                return r;
        if (!path) /* "./": the layer's root */
                return skip_entry_data(c, tar, name);
        r = layer_special(c, tar, name, path);
        if (r != 0)
                return r < 0 ? r : 0;

        if (archive_entry_hardlink(e) && type == 0)
                type = AE_IFREG;
        switch (type) {
        case AE_IFDIR:
                kind = SEEN_DIR;
                break;
        case AE_IFREG:
                kind = SEEN_FILE;
                break;
        case AE_IFLNK:
                kind = SEEN_SYMLINK;
                break;
        case AE_IFIFO:
                kind = SEEN_OTHER;
                break;
        case AE_IFCHR:
        case AE_IFBLK:
                /* 0/0 is overlayfs's whiteout: only a .wh. name makes one. */
                if (type == AE_IFCHR && archive_entry_rdevmajor(e) == 0 &&
                    archive_entry_rdevminor(e) == 0)
                        return refuse(c, -EPERM, name,
                                      "character device 0/0 (an overlayfs whiteout; layers "
                                      "spell whiteouts as .wh. names)");
                if (!(c->opts->flags & POD_UNPACK_ALLOW_DEVICES))
                        return refuse(c, -EPERM, name, "device node (not allowed)");
                r = skip_device(c, tar, type, name);
                if (r != 0)
                        return r < 0 ? r : 0;
                kind = SEEN_OTHER;
                break;
        default:
                return refuse(c, -EPERM, name, "unsupported file type");
        }

        if (archive_entry_hardlink(e)) {
                struct seen_slot *slot;

                r = normalize_name(c, archive_entry_hardlink(e), &hard);
                if (r < 0)
                        return pod_error_prefix(&c->x_err, r, "Hard link '%s'", POD_ESC(name));
                slot = hard ? seen_find(&c->seen, hard, strlen(hard)) : NULL;
                if (!slot || !slot->path || slot->kind != SEEN_FILE)
                        return pod_error_set(&c->x_err, -EPERM,
                                             "Refusing archive entry '%s': hard link to '%s', "
                                             "which is not an earlier regular file of the layer",
                                             POD_ESC(name), POD_ESC(archive_entry_hardlink(e)));
                if (streq(hard, path))
                        return refuse(c, -EPERM, name, "hard link to itself");
                kind = SEEN_FILE;
        }
        if (type == AE_IFLNK) {
                sym = archive_entry_symlink(e);
                if (!sym || !*sym)
                        return refuse(c, -EPERM, name, "symlink without a target");
        }

        r = check_and_record(c, path, kind);
        if (r < 0)
                return r;
        if (c->opts->entry_cb) {
                struct pod_unpack_entry pe = {
                        .path = path,
                        .mode = archive_entry_mode(e),
                        .size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0,
                        .symlink = sym,
                        .hardlink = hard,
                };
                r = c->opts->entry_cb(&pe, c->opts->userdata, &c->x_err);
                if (r < 0)
                        return r;
        }
        if (!disk && c->opts->data_cb && type == AE_IFREG && !hard && archive_entry_size(e) > 0)
                return pass_data(c, tar, path);
        if (!disk)
                return skip_entry_data(c, tar, name);

        r = filter_entry(e, type, c->opts->flags);
        if (r < 0)
                return r;
        r = check_owner(c, e, name);
        if (r < 0)
                return r;
        archive_entry_copy_pathname(e, path);
        if (hard)
                archive_entry_copy_hardlink(e, hard);
        r = archive_write_header(disk, e);
        if (disk_failed(disk, r, false))
                return disk_error(c, disk, "create", name);
        if (archive_entry_size(e) > 0 && type == AE_IFREG) {
                r = copy_data(c, tar, disk, name);
                if (r < 0)
                        return r;
        }
        r = archive_write_finish_entry(disk);
        if (disk_failed(disk, r, false))
                return disk_error(c, disk, "finish", name);
        return 0;
}

static int extract_run(struct unpack_ctx *c) {
        struct archive *tar = NULL, *disk = NULL;
        struct archive_entry *e;
        size_t n = 0;
        int r;

        c->userns = pod_in_user_namespace();
        if (c->target_fd >= 0) {
                int flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                            ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM |
                            ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                            ARCHIVE_EXTRACT_ACL; /* holes: write_block(), not _SPARSE */

                if (geteuid() == 0 && !(c->opts->flags & POD_UNPACK_NO_OWNER))
                        flags |= ARCHIVE_EXTRACT_OWNER;
                if (c->userns && (flags & ARCHIVE_EXTRACT_OWNER)) {
                        r = pod_id_maps_load_self(&c->maps, &c->x_err);
                        if (r < 0)
                                return r;
                }

                /* A private cwd for this thread only, so relative paths are relative to the
                 * target fd and the process's cwd stays where it was. */
                if (unshare(CLONE_FS) < 0)
                        return pod_error_set(&c->x_err, -errno,
                                             "Failed to unshare the working directory: %s",
                                             strerror(errno));
                if (fchdir(c->target_fd) < 0)
                        return pod_error_set(&c->x_err, -errno,
                                             "Failed to enter the target directory: %s",
                                             strerror(errno));
                disk = archive_write_disk_new();
                if (!disk)
                        return -ENOMEM;
                /* No lookup functions set: uid/gid are the tar's numbers, never its names. */
                (void)archive_write_disk_set_options(disk, flags);
        }

        tar = archive_read_new();
        if (!tar) {
                (void)archive_write_free(disk);
                return -ENOMEM;
        }
        (void)archive_read_support_format_tar(tar);
        r = archive_read_open(tar, c, NULL, ring_read_cb, NULL);
        if (r != ARCHIVE_OK)
                r = pod_error_set(&c->x_err, -EBADMSG, "Failed to open the tar stream: %s",
                                  strna(archive_error_string(tar)));

        while (r >= 0) {
                r = archive_read_next_header(tar, &e);
                if (r == ARCHIVE_EOF) {
                        r = 0;
                        break;
                }
                if (r < ARCHIVE_WARN) {
                        if (n == 0 && !c->input_failed)
                                r = pod_error_set(&c->x_err, -EMEDIUMTYPE, "Not a tar archive: %s",
                                                  strna(archive_error_string(tar)));
                        else
                                r = pod_error_set(&c->x_err, archive_to_errno(tar, -EBADMSG),
                                                  "Corrupt tar archive after %zu entries: %s", n,
                                                  strna(archive_error_string(tar)));
                        break;
                }
                n++;
                r = c->layer ? process_layer_entry(c, tar, disk, e)
                             : process_entry(c, tar, disk, e);
        }

        if (disk) {
                /* Applies deferred directory modes and times: must run in this cwd. */
                if (disk_failed(disk, archive_write_close(disk), false) && r >= 0)
                        r = pod_error_set(&c->x_err, archive_to_errno(disk, -EIO),
                                          "Failed to finish extraction: %s",
                                          strna(archive_error_string(disk)));
                (void)archive_write_free(disk);
        }
        (void)archive_read_free(tar);
        if (r < 0)
                return r;

        if (c->layer)
                return 0;
        if (!c->manifest)
                return pod_error_set(&c->x_err, -ENOENT, "Archive has no 'manifest' entry");
        if (c->target_fd >= 0 && !(c->opts->flags & POD_UNPACK_ROOTFS_ONLY) &&
            mkdirat(c->target_fd, "rootfs", 0755) < 0 && errno != EEXIST)
                return pod_error_set(&c->x_err, -errno, "Failed to create 'rootfs': %s",
                                     strerror(errno));
        return 0;
}

static void *extract_thread(void *p) {
        struct unpack_ctx *c = p;
        int r;

        r = extract_run(c);
        (void)pthread_mutex_lock(&c->lock);
        c->x_error = r < 0 ? r : 0;
        c->tar_done = true;
        (void)pthread_cond_broadcast(&c->cond);
        (void)pthread_mutex_unlock(&c->lock);
        return NULL;
}

static void unpack_ctx_done(struct unpack_ctx *c) {
        free(c->manifest);
        free(c->maps);
        seen_set_done(&c->seen);
        for (unsigned i = 0; i < N_CHUNKS; i++)
                free(c->bufs[i]);
        free(c->inbuf);
        (void)pod_sha512_free(c->hash);
        (void)pod_sha256_free(c->hash256);
        (void)pod_sha256_free(c->input_hash);
        (void)pod_sha512_free(c->input_hash512);
}

static int copy_error(struct pod_error *reterr, int r, const struct pod_error *e) {
        if (reterr && !reterr->error && e->error)
                *reterr = *e;
        return pod_error_set(reterr, r, "Failed to unpack: %s", strerror(-r));
}

int pod_unpack(int fd, int target_fd, const struct pod_unpack_options *opts,
               struct pod_unpack_result *ret, struct pod_error *reterr) {
        static const struct pod_unpack_options default_opts = POD_UNPACK_OPTIONS_INIT;
        _cleanup_(unpack_ctx_done) struct unpack_ctx c = {
                .fd = fd,
                .target_fd = target_fd,
                .opts = opts ?: &default_opts,
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .cond = PTHREAD_COND_INITIALIZER,
        };
        pthread_t thread, hasher;
        ssize_t k;
        int r, q;

        r = pod_dlopen_archive(reterr);
        if (r < 0)
                return r;
        c.copy_fd = c.opts->copy_fd;
        c.layer = c.opts->flags & POD_UNPACK_LAYER;
        if (c.layer) {
                r = pod_sha256_new(&c.hash256);
                if (r >= 0)
                        r = pod_sha256_new(&c.input_hash);
        } else
                r = pod_sha512_new(&c.hash);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to set up hashing: %s", strerror(-r));
        c.inbuf = malloc(INPUT_SIZE);
        if (!c.inbuf)
                return -ENOMEM;
        for (unsigned i = 0; i < N_CHUNKS; i++) {
                c.bufs[i] = malloc(CHUNK_SIZE);
                if (!c.bufs[i])
                        return -ENOMEM;
        }

        /* Sniff: compression by content, never by file name. */
        k = loop_read(fd, c.inbuf, SNIFF_SIZE);
        if (k < 0)
                return pod_error_set(reterr, (int)k, "Failed to read the archive: %s",
                                     strerror((int)-k));
        if (k == 0)
                return pod_error_set(reterr, -EMEDIUMTYPE, "The archive is empty");
        c.sniff_size = (size_t)k;
        r = pod_compression_detect(c.inbuf, c.sniff_size, &c.compression);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Not %s: neither a tar archive nor gzip, bzip2, xz or "
                                     "zstd compressed (encrypted or unknown format; first bytes "
                                     "%02x %02x %02x %02x)",
                                     c.layer ? "a layer" : "an ACI", c.inbuf[0],
                                     k > 1 ? c.inbuf[1] : 0, k > 2 ? c.inbuf[2] : 0,
                                     k > 3 ? c.inbuf[3] : 0);

        /* An uncompressed input is its own tar stream, which the hash thread hashes anyway. */
        if ((c.opts->flags & POD_UNPACK_HASH_INPUT) && !c.layer &&
            c.compression != POD_COMPRESSION_NONE) {
                r = pod_sha512_new(&c.input_hash512);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to set up hashing: %s",
                                             strerror(-r));
        }

        r = check_space_up_front(&c);
        if (r < 0)
                return copy_error(reterr, r, &c.in_err);

        r = -pthread_create(&hasher, NULL, hash_thread, &c);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to start the hash thread");
        r = -pthread_create(&thread, NULL, extract_thread, &c);
        if (r < 0) {
                (void)pthread_mutex_lock(&c.lock);
                c.eof = true;
                (void)pthread_cond_broadcast(&c.cond);
                (void)pthread_mutex_unlock(&c.lock);
                (void)pthread_join(hasher, NULL);
                return pod_error_set(reterr, r, "Failed to start the extraction thread");
        }
        q = produce(&c);
        (void)pthread_mutex_lock(&c.lock);
        c.eof = true;
        c.in_error = q < 0 ? q : 0;
        (void)pthread_cond_broadcast(&c.cond);
        (void)pthread_mutex_unlock(&c.lock);
        (void)pthread_join(thread, NULL);
        (void)pthread_join(hasher, NULL);

        /* The tar side's own refusal is the story; if it only stopped because the input
         * failed, the input's message is. */
        if (c.x_error < 0 && !c.input_failed)
                return copy_error(reterr, c.x_error, &c.x_err);
        if (q < 0)
                return copy_error(reterr, q, &c.in_err);
        if (c.x_error < 0)
                return copy_error(reterr, c.x_error, &c.x_err);

        if (c.hash_error < 0)
                return pod_error_set(reterr, c.hash_error, "Failed to hash the archive");
        *ret = (struct pod_unpack_result){};
        if (c.layer) {
                r = pod_sha256_final_string(c.hash256, ret->diff_id);
                if (r >= 0)
                        r = pod_sha256_final_string(c.input_hash, ret->blob_digest);
        } else {
                r = pod_sha512_final_id(c.hash, ret->id);
                if (r >= 0 && c.input_hash512) {
                        unsigned char d[POD_SHA512_DIGEST_SIZE];

                        r = pod_sha512_final(c.input_hash512, d);
                        if (r >= 0)
                                pod_hex_encode(d, sizeof(d), ret->input_sha512);
                } else if (r >= 0 && (c.opts->flags & POD_UNPACK_HASH_INPUT)) {
                        /* Uncompressed: the raw reader passed every input byte on as the
                         * tar stream, so its hash (the ID) is the input's.  Never assumed
                         * where it is not so. */
                        if (c.tar_size != c.input_size)
                                return pod_error_set(reterr, -EBADMSG,
                                                     "Uncompressed input of %" PRIu64
                                                     " bytes gave a %" PRIu64 " byte stream",
                                                     c.input_size, c.tar_size);
                        memcpy(ret->input_sha512, ret->id + strlen(POD_IMAGE_ID_PREFIX),
                               POD_SHA512_HEX_SIZE + 1);
                }
        }
        if (r < 0)
                return r;
        ret->compression = c.compression;
        ret->tar_size = c.tar_size;
        ret->input_size = c.input_size;
        ret->manifest = TAKE_PTR(c.manifest);
        ret->manifest_size = c.manifest_size;
        return 0;
}
