/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cache of compiled seccomp filters: libseccomp builds the same default filter for every
 * pod (the rule tree, its BPF generation, and libseccomp's probes of the kernel cost more
 * than the rest of an app's setup in user space), so stage1 keeps each filter it compiles as
 * a file named after the hash of everything the program depends on, and the next pod with
 * the same inputs loads that program with seccomp(2) directly.
 *
 * Owns: the inputs' key, the entry format, reading and writing entries, and compiling every
 * app's filter on the host before the init is forked (the BPF program is inherited through
 * the forks; the app's child only loads it, seccomp.c).  Does not own: what the filter
 * contains (seccomp.c) or when it is loaded (init.c).
 *
 * Trust: the directory is /run/pod/seccomp, 0700 and owned by root; an entry is used only if
 * it is a regular file owned by us and writable by nobody else, in a directory owned by us
 * that nobody else can enter.  An entry holds its whole key (compared byte for byte, not
 * only through the name's hash) and a SHA-512 of everything before it: a truncated,
 * corrupted or foreign entry is a miss, never a weaker filter; the filter is then compiled
 * and the entry replaced.  Nothing of it is secret, and anyone who can write there is root
 * already.  Rootless pods do not use the cache (they compile, as before).
 *
 * The key: the format version, pod-stage1's own ELF build ID (it covers the denylist, the
 * groups and this code; a stage1 without one does not use the cache), libseccomp's runtime
 * version, the machine and kernel release (libseccomp adapts the program to the kernel's
 * seccomp API level), and the app's inputs: mode, set (in order), errno, no_new_privs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "hmac-sha512.h"
#include "log.h"
#include "macro.h"
#include "seccomp-lib.h"
#include "stage1.h"
#include "syscall.h"

#define CACHE_MAGIC    "PODSCMP1"
#define CACHE_KEY_MAX  (64 * 1024)
#define CACHE_INSN_MAX 4096 /* BPF_MAXINSNS */

struct cache_header {
        char magic[8];
        uint32_t key_size;
        uint32_t n_insns;
};

/* The main program's NT_GNU_BUILD_ID, as hex, from its program headers (the sealed copy
 * keeps them). */
struct build_id {
        char hex[2 * 64 + 1];
};

static int find_build_id(struct dl_phdr_info *info, size_t size, void *userdata) {
        struct build_id *b = userdata;

        (void)size;
        /* The first object is the main program. */
        for (int i = 0; i < info->dlpi_phnum; i++) {
                const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
                const uint8_t *p, *end;

                if (ph->p_type != PT_NOTE)
                        continue;
                p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
                end = p + ph->p_memsz;
                while (p + sizeof(ElfW(Nhdr)) <= end) {
                        const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
                        size_t namesz = (n->n_namesz + 3) & ~(size_t)3;
                        size_t descsz = (n->n_descsz + 3) & ~(size_t)3;
                        const uint8_t *desc = p + sizeof(*n) + namesz;

                        if (desc + descsz > end)
                                break;
                        if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
                            memcmp(p + sizeof(*n), "GNU", 4) == 0 && n->n_descsz > 0 &&
                            n->n_descsz <= 64) {
                                for (size_t j = 0; j < n->n_descsz; j++)
                                        (void)snprintf(b->hex + 2 * j, 3, "%02x", desc[j]);
                                return 1;
                        }
                        p = desc + descsz;
                }
        }
        return 1; /* only the main program */
}

static void hex(const uint8_t *d, size_t n, char *ret) {
        for (size_t i = 0; i < n; i++)
                (void)snprintf(ret + 2 * i, 3, "%02x", d[i]);
}

int stage1_seccomp_cache_key(const struct stage1_app *app, char **ret_key, size_t *ret_size,
                             char ret_name[STAGE1_SECCOMP_CACHE_NAME_SIZE]) {
        const struct scmp_version *v;
        struct build_id b = {};
        struct utsname u;
        _cleanup_free_ char *key = NULL;
        size_t size = 0, n = 0;
        uint8_t digest[POD_HMAC_SHA512_SIZE];
        FILE *f;

        (void)dl_iterate_phdr(find_build_id, &b);
        if (!b.hex[0])
                return -ENOPKG;
        v = seccomp_version();
        if (!v || uname(&u) < 0)
                return -ENOPKG;
        STRV_FOREACH (s, app->seccomp_set)
                n++;

        f = open_memstream(&key, &size);
        if (!f)
                return -ENOMEM;
        /* NUL-separated fields; set entries (never containing a NUL) after their count. */
        fprintf(f, "pod-stage1 seccomp cache 1%cbuild-id=%s%clibseccomp=%u.%u.%u%c", 0, b.hex, 0,
                v->major, v->minor, v->micro, 0);
        fprintf(f, "machine=%s%crelease=%s%c", u.machine, 0, u.release, 0);
        fprintf(f, "mode=%d%cerrno=%d%cnnp=%d%cset=%zu%c", (int)app->seccomp_mode, 0,
                app->seccomp_errno, 0, (int)app->no_new_privs, 0, n, 0);
        STRV_FOREACH (s, app->seccomp_set)
                fprintf(f, "%s%c", *s, 0);
        if (fclose(f) != 0 || !key)
                return -ENOMEM;
        if (size > CACHE_KEY_MAX)
                return -E2BIG;

        pod_sha512_plain(key, size, digest);
        hex(digest, 32, ret_name);
        *ret_key = TAKE_PTR(key);
        *ret_size = size;
        return 0;
}

int stage1_seccomp_export(scmp_filter_ctx ctx, struct sock_filter **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ struct sock_filter *prog = NULL;
        struct stat st;
        int r;

        fd = memfd_create("pod-seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            st.st_size > (off_t)(CACHE_INSN_MAX * sizeof(struct sock_filter)))
                return -E2BIG;
        prog = malloc(st.st_size);
        if (!prog)
                return -ENOMEM;
        if (pread(fd, prog, st.st_size, 0) != st.st_size)
                return errno > 0 ? -errno : -EIO;
        *ret = TAKE_PTR(prog);
        *ret_len = st.st_size / sizeof(struct sock_filter);
        return 0;
}

/* 1 and the program when the entry is valid for exactly this key; 0 when it is missing or
 * unusable (the caller compiles and replaces it). */
static int cache_read(int dir_fd, const char *name, const char *key, size_t key_size,
                      struct sock_filter **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ struct sock_filter *prog = NULL;
        struct cache_header h;
        uint8_t digest[POD_HMAC_SHA512_SIZE];
        size_t body;
        struct stat st;
        ssize_t n;

        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT)
                        log_debug_errno(-errno, "Failed to open seccomp cache entry %s: %m", name);
                return 0;
        }
        if (fstat(fd, &st) < 0)
                return 0;
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022) ||
            st.st_size < (off_t)(sizeof(h) + POD_HMAC_SHA512_SIZE) ||
            st.st_size >
                    (off_t)(sizeof(h) + CACHE_KEY_MAX +
                            CACHE_INSN_MAX * sizeof(struct sock_filter) + POD_HMAC_SHA512_SIZE)) {
                log_debug("Seccomp cache entry %s: not a regular file of ours, writable by us "
                          "alone, of a possible size: ignored",
                          name);
                return 0;
        }
        buf = malloc(st.st_size);
        if (!buf)
                return -ENOMEM;
        n = pread(fd, buf, st.st_size, 0);
        if (n != st.st_size)
                return 0;
        memcpy(&h, buf, sizeof(h));
        body = sizeof(h) + (size_t)h.key_size + (size_t)h.n_insns * sizeof(struct sock_filter);
        if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.key_size != key_size ||
            h.n_insns == 0 || h.n_insns > CACHE_INSN_MAX ||
            body + POD_HMAC_SHA512_SIZE != (size_t)st.st_size) {
                log_debug("Seccomp cache entry %s: bad header, ignored", name);
                return 0;
        }
        pod_sha512_plain(buf, body, digest);
        if (memcmp(digest, buf + body, sizeof(digest)) != 0) {
                log_debug("Seccomp cache entry %s: checksum mismatch, ignored", name);
                return 0;
        }
        if (memcmp(buf + sizeof(h), key, key_size) != 0) {
                log_debug("Seccomp cache entry %s: made for other inputs, ignored", name);
                return 0;
        }
        prog = malloc((size_t)h.n_insns * sizeof(struct sock_filter));
        if (!prog)
                return -ENOMEM;
        memcpy(prog, buf + sizeof(h) + key_size, (size_t)h.n_insns * sizeof(struct sock_filter));
        *ret = TAKE_PTR(prog);
        *ret_len = h.n_insns;
        return 1;
}

/* A new entry under a temporary name, renamed over the old one: readers see a whole entry
 * or none.  No fsync: an entry cut short by a crash fails its checksum (a miss). */
static int cache_write(int dir_fd, const char *name, const char *key, size_t key_size,
                       const struct sock_filter *prog, size_t len) {
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct cache_header h = { .key_size = (uint32_t)key_size, .n_insns = (uint32_t)len };
        size_t body = sizeof(h) + key_size + len * sizeof(struct sock_filter);
        char tmp[STAGE1_SECCOMP_CACHE_NAME_SIZE + 32];
        uint32_t rnd;

        memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
        buf = malloc(body + POD_HMAC_SHA512_SIZE);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), key, key_size);
        memcpy(buf + sizeof(h) + key_size, prog, len * sizeof(struct sock_filter));
        pod_sha512_plain(buf, body, buf + body);

        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint32_t)getpid();
        (void)snprintf(tmp, sizeof(tmp), ".%s.%08x", name, rnd);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, buf, body + POD_HMAC_SHA512_SIZE) != (ssize_t)(body + POD_HMAC_SHA512_SIZE) ||
            renameat(dir_fd, tmp, dir_fd, name) < 0) {
                int r = errno > 0 ? -errno : -EIO;

                (void)unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return 0;
}

int stage1_seccomp_cache_get(int dir_fd, const struct stage1_app *app, struct sock_filter **ret,
                             size_t *ret_len, struct pod_error *reterr) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_free_ struct sock_filter *prog = NULL;
        _cleanup_free_ char *key = NULL;
        char name[STAGE1_SECCOMP_CACHE_NAME_SIZE];
        size_t key_size = 0, len = 0;
        int r, hit = 0;

        r = dir_fd >= 0 ? stage1_seccomp_cache_key(app, &key, &key_size, name) : -EBADF;
        if (r < 0)
                log_debug_errno(r, "App '%s': no seccomp cache: %m", app->name);
        else {
                hit = cache_read(dir_fd, name, key, key_size, &prog, &len);
                if (hit < 0)
                        return pod_error_set(reterr, hit, "Failed to read the seccomp cache: %m");
        }
        if (!hit) {
                r = stage1_seccomp_build(app, &ctx, reterr);
                if (r < 0)
                        return r;
                r = stage1_seccomp_export(ctx, &prog, &len);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to compile the seccomp filter: %m");
                if (key) {
                        r = cache_write(dir_fd, name, key, key_size, prog, len);
                        if (r < 0)
                                log_debug_errno(r,
                                                "Failed to write seccomp cache entry %s, "
                                                "ignoring: %m",
                                                name);
                }
        }
        log_debug("App '%s': seccomp filter of %zu instructions %s (cache entry %s)", app->name,
                  len, hit ? "from the cache" : "compiled", key ? name : "none");
        *ret = TAKE_PTR(prog);
        *ret_len = len;
        return hit;
}

/* /run/pod/seccomp, made 0700 if missing; -EPERM when it (or /run/pod) is not ours alone. */
static int open_cache_dir(void) {
        _cleanup_close_ int run = -EBADF, dir = -EBADF;
        struct stat st;

        run = open("/run/pod", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (run < 0 && errno == ENOENT) {
                if (mkdir("/run/pod", 0755) < 0 && errno != EEXIST)
                        return -errno;
                run = open("/run/pod", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (run < 0)
                return -errno;
        if (fstat(run, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        if (mkdirat(run, "seccomp", 0700) < 0 && errno != EEXIST)
                return -errno;
        dir = openat(run, "seccomp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        if (fstat(dir, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & 0077))
                return -EPERM;
        return TAKE_FD(dir);
}

int stage1_seccomp_precompile(struct stage1_config *c, struct pod_error *reterr) {
        _cleanup_close_ int dir = -EBADF;
        int r;

        if (c->disable_seccomp || c->n_apps == 0)
                return 0;
        /* Rootless pods compile in the app's child, as before: no cache of theirs yet. */
        if (c->rootless || geteuid() != 0)
                return 0;
        dir = open_cache_dir();
        if (dir < 0)
                log_debug_errno(dir,
                                "Cannot use the seccomp cache /run/pod/seccomp, compiling: %m");
        for (size_t i = 0; i < c->n_apps; i++) {
                struct stage1_app *app = &c->apps[i];

                r = stage1_seccomp_cache_get(dir, app, &app->seccomp_prog, &app->seccomp_prog_len,
                                             reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "App '%s'", app->name);
        }
        return 0;
}
