/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The member table of an archive tar (oci-archive-internal.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "oci-archive-internal.h"
#include "oci-archive.h"

#define TAR_BLOCK OCI_TAR_BLOCK

/* ---- member names ---------------------------------------------------------------------- */

/* Normalises a member path: drops "./" components and a trailing '/', refuses absolute
 * paths, ".." and empty names (a hostile archive must not name anything outside itself). */
int oci_member_name_normalize(const char *p, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0, len;

        if (!p || p[0] == '/')
                return -EBADMSG;
        len = strlen(p);
        if (len == 0 || len > PATH_MAX)
                return -EBADMSG;
        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        for (const char *s = p; *s;) {
                size_t k = strcspn(s, "/");

                if (k == 2 && s[0] == '.' && s[1] == '.')
                        return -EBADMSG;
                if (k > 0 && !(k == 1 && s[0] == '.')) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, s, k);
                        n += k;
                }
                s += k;
                while (*s == '/')
                        s++;
        }
        if (n == 0)
                return -EBADMSG;
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* Like oci_member_name_normalize(), but ".." removes the component before it (a symlink target
 * joined to its directory); climbing above the top is refused. */
static int path_resolve_lexical(const char *p, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0, len;

        if (!p || p[0] == '/')
                return -EBADMSG;
        len = strlen(p);
        if (len == 0 || len > PATH_MAX)
                return -EBADMSG;
        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        for (const char *s = p; *s;) {
                size_t k = strcspn(s, "/");

                if (k == 2 && s[0] == '.' && s[1] == '.') {
                        char *slash;

                        if (n == 0)
                                return -EBADMSG;
                        out[n] = 0;
                        slash = strrchr(out, '/');
                        n = slash ? (size_t)(slash - out) : 0;
                } else if (k > 0 && !(k == 1 && s[0] == '.')) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, s, k);
                        n += k;
                }
                s += k;
                while (*s == '/')
                        s++;
        }
        if (n == 0)
                return -EBADMSG;
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* ---- the tar member table ------------------------------------------------------------- */

void oci_tar_done(struct tar *t) {
        for (size_t i = 0; i < t->n; i++) {
                free(t->m[i].name);
                free(t->m[i].link);
        }
        free(t->m);
        t->m = NULL;
        t->n = 0;
}

static int octal_field(const char *f, size_t size, uint64_t *ret) {
        uint64_t v = 0;
        size_t i = 0;

        if ((unsigned char)f[0] & 0x80) { /* GNU base-256 for large sizes */
                if ((unsigned char)f[0] != 0x80)
                        return -EBADMSG;
                for (i = 1; i < size; i++) {
                        if (v >> 55)
                                return -EBADMSG;
                        v = (v << 8) | (unsigned char)f[i];
                }
                *ret = v;
                return 0;
        }
        while (i < size && f[i] == ' ')
                i++;
        for (; i < size && f[i] >= '0' && f[i] <= '7'; i++) {
                if (v >> 60)
                        return -EBADMSG;
                v = v * 8 + (uint64_t)(f[i] - '0');
        }
        if (i < size && f[i] != 0 && f[i] != ' ')
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int header_checksum_ok(const unsigned char *h) {
        uint64_t want;
        unsigned long sum = 0;

        if (octal_field((const char *)h + 148, 8, &want) < 0)
                return 0;
        for (size_t i = 0; i < TAR_BLOCK; i++)
                sum += (i >= 148 && i < 156) ? ' ' : h[i];
        return sum == want;
}

int oci_pread_full(int fd, void *buf, size_t size, uint64_t off) {
        size_t done = 0;

        while (done < size) {
                ssize_t k = pread(fd, (char *)buf + done, size - done, (off_t)(off + done));

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EBADMSG; /* truncated */
                done += (size_t)k;
        }
        return 0;
}

/* A pax extended header's "path", "linkpath" and "size" records. */
static int pax_parse(const char *buf, size_t size, char **path, char **linkpath, uint64_t *psize,
                     bool *has_size) {
        size_t pos = 0;

        while (pos < size) {
                const char *rec = buf + pos, *sp, *eq;
                unsigned long len;
                char *end = NULL;

                errno = 0;
                len = strtoul(rec, &end, 10);
                if (errno != 0 || end == rec || *end != ' ' || len < 5 || len > size - pos ||
                    rec[len - 1] != '\n')
                        return -EBADMSG;
                sp = end + 1;
                eq = memchr(sp, '=', (size_t)(rec + len - sp));
                if (!eq)
                        return -EBADMSG;
                if ((size_t)(eq - sp) == 4 && memcmp(sp, "path", 4) == 0) {
                        free(*path);
                        *path = strndup(eq + 1, (size_t)(rec + len - 1 - (eq + 1)));
                        if (!*path)
                                return -ENOMEM;
                } else if ((size_t)(eq - sp) == 8 && memcmp(sp, "linkpath", 8) == 0) {
                        free(*linkpath);
                        *linkpath = strndup(eq + 1, (size_t)(rec + len - 1 - (eq + 1)));
                        if (!*linkpath)
                                return -ENOMEM;
                } else if ((size_t)(eq - sp) == 4 && memcmp(sp, "size", 4) == 0) {
                        _cleanup_free_ char *v =
                                strndup(eq + 1, (size_t)(rec + len - 1 - (eq + 1)));
                        char *e2 = NULL;

                        if (!v)
                                return -ENOMEM;
                        errno = 0;
                        *psize = strtoull(v, &e2, 10);
                        if (errno != 0 || e2 == v || *e2 || v[0] == '-')
                                return -EBADMSG;
                        *has_size = true;
                }
                pos += len;
        }
        return 0;
}

/* The directory part of a member name ("a/b" for "a/b/c", "" for "c"). */
static char *dir_of(const char *name) {
        const char *s = strrchr(name, '/');

        return s ? strndup(name, (size_t)(s - name)) : strdup("");
}

/* Reads the member table of the tar on fd: headers only, the data is skipped by offset. */
int oci_tar_index(int fd, struct tar *ret, struct pod_error *reterr) {
        _cleanup_free_ char *long_name = NULL, *long_link = NULL, *pax_path = NULL,
                            *pax_link = NULL;
        struct tar t = { .fd = fd };
        uint64_t off = 0, pax_size = 0;
        bool has_pax_size = false;
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return pod_error_set(reterr, -errno, "Failed to stat the archive");
        for (;;) {
                unsigned char h[TAR_BLOCK];
                _cleanup_free_ char *raw = NULL, *norm = NULL;
                uint64_t size;
                char type;

                if (off + TAR_BLOCK > (uint64_t)st.st_size) {
                        oci_tar_done(&t);
                        return pod_error_set(reterr, -EBADMSG,
                                             "Archive is truncated (no end-of-archive block)");
                }
                r = oci_pread_full(fd, h, TAR_BLOCK, off);
                if (r < 0) {
                        oci_tar_done(&t);
                        return pod_error_set(reterr, r, "Failed to read the archive");
                }
                if (h[0] == 0) /* end of archive (two zero blocks; one is enough here) */
                        break;
                if (!header_checksum_ok(h) || octal_field((const char *)h + 124, 12, &size) < 0) {
                        oci_tar_done(&t);
                        return pod_error_set(reterr, -EBADMSG,
                                             "Archive has a corrupt tar header at byte %" PRIu64,
                                             off);
                }
                type = (char)h[156];
                if (has_pax_size)
                        size = pax_size;
                if (size > (uint64_t)st.st_size - off - TAR_BLOCK) {
                        oci_tar_done(&t);
                        return pod_error_set(reterr, -EBADMSG,
                                             "Archive is truncated at byte %" PRIu64, off);
                }
                off += TAR_BLOCK;
                if (type == 'x' || type == 'L' || type == 'K') {
                        _cleanup_free_ char *buf = NULL;

                        if (size > (1u << 20)) {
                                oci_tar_done(&t);
                                return pod_error_set(reterr, -EBADMSG,
                                                     "Archive has an oversized extended header");
                        }
                        buf = malloc(size + 1);
                        if (!buf) {
                                oci_tar_done(&t);
                                return -ENOMEM;
                        }
                        r = oci_pread_full(fd, buf, size, off);
                        if (r < 0) {
                                oci_tar_done(&t);
                                return pod_error_set(reterr, r, "Failed to read the archive");
                        }
                        buf[size] = 0;
                        if (type == 'x')
                                r = pax_parse(buf, size, &pax_path, &pax_link, &pax_size,
                                              &has_pax_size);
                        else if (type == 'L') {
                                free(long_name);
                                long_name = TAKE_PTR(buf);
                        } else {
                                free(long_link);
                                long_link = TAKE_PTR(buf);
                        }
                        if (r < 0) {
                                oci_tar_done(&t);
                                return pod_error_set(reterr, r, "Archive has a corrupt pax header");
                        }
                        off += (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
                        continue;
                }
                if (type == 'g') { /* global pax header: nothing pod uses */
                        off += (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
                        continue;
                }

                if (pax_path)
                        raw = TAKE_PTR(pax_path);
                else if (long_name)
                        raw = TAKE_PTR(long_name);
                else if (memcmp(h + 257, "ustar", 5) == 0 && h[345] != 0) {
                        if (asprintf(&raw, "%.155s/%.100s", (const char *)h + 345,
                                     (const char *)h) < 0)
                                raw = NULL;
                } else
                        raw = strndup((const char *)h, 100);
                if (!raw) {
                        oci_tar_done(&t);
                        return -ENOMEM;
                }
                r = oci_member_name_normalize(raw, &norm);
                if (r == -ENOMEM) {
                        oci_tar_done(&t);
                        return r;
                }
                if (r < 0 && !streq(raw, "./") && !streq(raw, "."))
                        (void)pod_error_set(&t.unsafe, -EBADMSG,
                                            "Archive member '%s' has an unsafe path (absolute "
                                            "or with '..')",
                                            raw);
                if (norm) {
                        struct member mb = { .offset = off, .size = size };

                        if (t.n >= POD_OCI_ARCHIVE_MEMBERS_MAX) {
                                oci_tar_done(&t);
                                return pod_error_set(reterr, -E2BIG,
                                                     "Archive has more than %u members",
                                                     POD_OCI_ARCHIVE_MEMBERS_MAX);
                        }
                        if (type == '1' || type == '2') {
                                _cleanup_free_ char *target = NULL, *dir = NULL, *joined = NULL;
                                const char *lt;

                                target = pax_link    ? TAKE_PTR(pax_link)
                                         : long_link ? TAKE_PTR(long_link)
                                                     : strndup((const char *)h + 157, 100);
                                if (!target) {
                                        oci_tar_done(&t);
                                        return -ENOMEM;
                                }
                                lt = target;
                                if (type == '2') { /* symlink: relative to its directory */
                                        dir = dir_of(norm);
                                        if (!dir || asprintf(&joined, "%s%s%s", dir,
                                                             dir[0] ? "/" : "", target) < 0) {
                                                oci_tar_done(&t);
                                                return -ENOMEM;
                                        }
                                        lt = joined;
                                        /* a/../b: resolve ".." lexically, staying inside */
                                        r = path_resolve_lexical(lt, &mb.link);
                                } else
                                        r = oci_member_name_normalize(lt, &mb.link);
                                if (r == -ENOMEM) {
                                        oci_tar_done(&t);
                                        return r;
                                }
                                if (r < 0 || target[0] == '/') {
                                        free(mb.link);
                                        (void)pod_error_set(&t.unsafe, -EBADMSG,
                                                            "Archive member '%s' links outside "
                                                            "the archive ('%s')",
                                                            norm, target);
                                        off += (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
                                        has_pax_size = false;
                                        continue;
                                }
                                mb.size = 0;
                        } else if (type == '5')
                                mb.dir = true;
                        else if (type != '0' && type != 0 && type != '7') {
                                /* devices, FIFOs: never an image member; ignored */
                                off += (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
                                has_pax_size = false;
                                continue;
                        }
                        if (t.n % 64 == 0) {
                                struct member *nm = reallocarray(t.m, t.n + 64, sizeof(*nm));

                                if (!nm) {
                                        free(mb.link);
                                        oci_tar_done(&t);
                                        return -ENOMEM;
                                }
                                t.m = nm;
                        }
                        mb.name = TAKE_PTR(norm);
                        t.m[t.n++] = mb;
                }
                has_pax_size = false;
                free(pax_path);
                free(pax_link);
                free(long_link);
                pax_path = pax_link = long_link = NULL;
                off += (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
        }
        *ret = t;
        return 0;
}

/* The regular member name resolves to (links followed, at most 8); NULL when none. */
const struct member *oci_tar_find(const struct tar *t, const char *name) {
        const char *want = name;

        for (unsigned hops = 0; hops < 8; hops++) {
                const struct member *found = NULL;

                /* the last member of a name wins, as when extracting */
                for (size_t i = t->n; i > 0; i--)
                        if (streq(t->m[i - 1].name, want)) {
                                found = &t->m[i - 1];
                                break;
                        }
                if (!found || found->dir)
                        return NULL;
                if (!found->link)
                        return found;
                want = found->link;
        }
        return NULL;
}
