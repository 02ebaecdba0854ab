/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf-file.h"
#include "fd-util.h"
#include "macro.h"
#include "path-util.h"
#include "statedir.h"
#include "userns-alloc.h"
#include "uuid.h"

#define RECORD_MAX  128u       /* "UUID COUNT\n" */
#define SUBID_MAX   (4u << 20) /* /etc/subuid, /etc/subgid */
#define PASSWD_MAX  (64u << 20)
#define NAME_MAX_ID 64

/* ---- syntax ----------------------------------------------------------------------------- */

/* Decimal, no sign, no leading zeros beyond "0", fits 32 bits. */
static int parse_u32_dec(const char *s, size_t n, uint32_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

static bool range_valid(uint32_t base, uint32_t count) {
        return base > 0 && count >= 1 && (uint64_t)base + count <= UINT32_MAX;
}

int pod_userns_parse(const char *s, struct pod_userns_request *ret, struct pod_error *reterr) {
        uint32_t base, count = POD_USERNS_RANGE;
        const char *colon;
        int r;

        if (!s || streq(s, "pick") || streq(s, "yes") || streq(s, "true")) {
                *ret = (struct pod_userns_request){ .mode = POD_USERNS_PICK };
                return 0;
        }
        if (streq(s, "no") || streq(s, "false")) {
                *ret = (struct pod_userns_request){ .mode = POD_USERNS_NO };
                return 0;
        }
        colon = strchr(s, ':');
        r = parse_u32_dec(s, colon ? (size_t)(colon - s) : strlen(s), &base);
        if (r >= 0 && colon)
                r = parse_u32_dec(colon + 1, strlen(colon + 1), &count);
        if (r < 0)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --private-users value '%s': expected pick, yes, no "
                                     "or UID[:COUNT] (decimal)",
                                     s);
        if (base == 0)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --private-users value '%s': a base of 0 would map "
                                     "the pod's root to host root",
                                     s);
        if (!range_valid(base, count))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --private-users value '%s': COUNT must be at least 1 "
                                     "and BASE+COUNT at most %" PRIu32,
                                     s, UINT32_MAX);
        *ret = (struct pod_userns_request){ .mode = POD_USERNS_FIXED,
                                            .base = base,
                                            .count = count };
        return 0;
}

static int conf_kv(const char *path, unsigned n, const char *k, const char *v, void *userdata,
                   struct pod_error *reterr) {
        struct pod_userns_request *req = userdata;
        struct pod_error e = {};
        int r;

        if (streq(k, "private-users-ownership"))
                r = pod_userns_ownership_parse(v, &req->ownership, &e);
        else if (streq(k, "private-users")) {
                enum pod_userns_ownership o = req->ownership;

                r = pod_userns_parse(v, req, &e);
                req->ownership = o;
        } else
                return pod_error_set(reterr, -EINVAL, "%s:%u: unknown key '%s'", path, n, k);
        if (r < 0)
                return pod_error_set(reterr, r, "%s:%u: %s", path, n, e.msg);
        return 0;
}

static const char *const ownership_names[_POD_USERNS_OWNERSHIP_MAX] = {
        [POD_USERNS_OWNERSHIP_AUTO] = "auto",
        [POD_USERNS_OWNERSHIP_MAP] = "map",
        [POD_USERNS_OWNERSHIP_CHOWN] = "chown",
};

int pod_userns_ownership_parse(const char *s, enum pod_userns_ownership *ret,
                               struct pod_error *reterr) {
        for (int i = 0; i < _POD_USERNS_OWNERSHIP_MAX; i++)
                if (s && streq(s, ownership_names[i])) {
                        *ret = (enum pod_userns_ownership)i;
                        return 0;
                }
        return pod_error_set(reterr, -EINVAL,
                             "Invalid private-users ownership '%s': expected auto, map or chown",
                             s ? s : "");
}

const char *pod_userns_ownership_to_string(enum pod_userns_ownership o) {
        return o >= 0 && o < _POD_USERNS_OWNERSHIP_MAX ? ownership_names[o] : NULL;
}

int pod_userns_conf_load(const char *vendordir, const char *sysconfdir,
                         struct pod_userns_request *ret, struct pod_error *reterr) {
        struct pod_userns_request req = { .mode = POD_USERNS_NO };
        int r;

        r = pod_conf_file_parse(vendordir, POD_USERNS_CONF_FILE, conf_kv, &req, reterr);
        if (r < 0)
                return r;
        r = pod_conf_file_parse(sysconfdir, POD_USERNS_CONF_FILE, conf_kv, &req, reterr);
        if (r < 0)
                return r;
        *ret = req;
        return 0;
}

/* ---- what is taken ---------------------------------------------------------------------- */

struct range {
        uint32_t base, count;
        char owner[NAME_MAX_ID + 1]; /* a pod's UUID, or a host user's name */
};

struct ranges {
        struct range *r;
        size_t n;
};

static void ranges_done(struct ranges *l) {
        free(l->r);
        *l = (struct ranges){};
}

static int ranges_add(struct ranges *l, uint32_t base, uint32_t count, const char *owner,
                      size_t owner_len) {
        struct range *t;

        t = realloc(l->r, (l->n + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        l->r = t;
        t = &l->r[l->n++];
        t->base = base;
        t->count = count;
        (void)snprintf(t->owner, sizeof(t->owner), "%.*s",
                       (int)(owner_len > NAME_MAX_ID ? NAME_MAX_ID : owner_len), owner);
        return 0;
}

static bool overlaps(uint32_t a, uint32_t ac, uint32_t b, uint32_t bc) {
        return (uint64_t)a < (uint64_t)b + bc && (uint64_t)b < (uint64_t)a + ac;
}

static const struct range *ranges_find(const struct ranges *l, uint32_t base, uint32_t count) {
        for (size_t i = 0; i < l->n; i++)
                if (overlaps(base, count, l->r[i].base, l->r[i].count))
                        return &l->r[i];
        return NULL;
}

/* "name:start:count" lines (subuid(5)); lines that do not parse are skipped, as the shadow
 * tools skip them (they delegate nothing).  A missing file delegates nothing. */
static int load_subid(const char *path, struct ranges *l, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        char *line, *next;
        size_t size;
        int r;

        r = read_full_file_at(AT_FDCWD, path, SUBID_MAX, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s': %s", path, strerror(-r));
        for (line = text; line && *line; line = next) {
                char *c1, *c2, *end;
                uint32_t start, count;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                c1 = strchr(line, ':');
                c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || line[0] == '#')
                        continue;
                end = c2 + 1 + strcspn(c2 + 1, ": \t\r");
                if (parse_u32_dec(c1 + 1, (size_t)(c2 - c1 - 1), &start) < 0 ||
                    parse_u32_dec(c2 + 1, (size_t)(end - c2 - 1), &count) < 0 || count == 0)
                        continue;
                r = ranges_add(l, start, count, line, (size_t)(c1 - line));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Every ID of a passwd(5) or group(5) file (the third field). */
static int load_ids(const char *path, struct ranges *l, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        char *line, *next;
        size_t size;
        int r;

        r = read_full_file_at(AT_FDCWD, path, PASSWD_MAX, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s': %s", path, strerror(-r));
        for (line = text; line && *line; line = next) {
                char *c1, *c2, *c3;
                uint32_t id;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                c1 = strchr(line, ':');
                c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                c3 = c2 ? strchr(c2 + 1, ':') : NULL;
                if (!c3 || parse_u32_dec(c2 + 1, (size_t)(c3 - c2 - 1), &id) < 0)
                        continue;
                r = ranges_add(l, id, 1, line, (size_t)(c1 - line));
                if (r < 0)
                        return r;
        }
        return 0;
}

struct taken {
        struct ranges pods;  /* owner: the pod's UUID */
        struct ranges subid; /* owner: the user it is delegated to */
        struct ranges users; /* owner: the user or group name */
        bool nss;
};

static void taken_done(struct taken *t) {
        ranges_done(&t->pods);
        ranges_done(&t->subid);
        ranges_done(&t->users);
}

/* One allocation record: name is its decimal BASE, content "UUID COUNT\n". */
static int record_read(int dir_fd, const char *name, uint32_t *ret_base, uint32_t *ret_count,
                       char ret_uuid[static POD_UUID_STRING_MAX]) {
        _cleanup_free_ char *text = NULL;
        uint32_t base, count;
        size_t size;
        char *sp, *nl;
        int r;

        r = parse_u32_dec(name, strlen(name), &base);
        if (r < 0)
                return -EINVAL; /* not a record: the lock, a temporary file */
        r = read_full_file_at(dir_fd, name, RECORD_MAX, &text, &size);
        if (r < 0)
                return r == -EINVAL ? -EBADMSG : r;
        sp = strchr(text, ' ');
        nl = strchr(text, '\n');
        if (!sp || !nl || nl[1] || sp > nl || (size_t)(sp - text) != POD_UUID_STRING_LEN)
                return -EBADMSG;
        *sp = 0;
        if (!pod_uuid_string_valid(text) ||
            parse_u32_dec(sp + 1, (size_t)(nl - sp - 1), &count) < 0 || !range_valid(base, count))
                return -EBADMSG;
        memcpy(ret_uuid, text, POD_UUID_STRING_MAX);
        *ret_base = base;
        *ret_count = count;
        return 0;
}

static int load_records(int dir_fd, struct ranges *l, struct pod_error *reterr) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        unsigned n = 0;
        int fd, r;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", POD_USERNS_DIR);
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                safe_close(fd);
                return pod_error_set(reterr, r, "Failed to open '%s': %s", POD_USERNS_DIR,
                                     strerror(-r));
        }
        while ((errno = 0, de = readdir(d))) {
                char uuid[POD_UUID_STRING_MAX];
                uint32_t base, count;

                r = record_read(dir_fd, de->d_name, &base, &count, uuid);
                if (r == -EINVAL || r == -ENOENT)
                        continue;
                /* A record we cannot read could be any range: allocating around it could hand
                 * its pod's IDs out twice.  Refuse until an admin looks. */
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Failed to read the allocation record '%s/%s' "
                                             "(remove it if its pod is gone): %s",
                                             POD_USERNS_DIR, de->d_name, strerror(-r));
                if (++n > POD_USERNS_RECORDS_MAX)
                        return pod_error_set(reterr, -E2BIG, "More than %u records in '%s'",
                                             POD_USERNS_RECORDS_MAX, POD_USERNS_DIR);
                r = ranges_add(l, base, count, uuid, strlen(uuid));
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return pod_error_set(reterr, -errno, "Failed to read '%s': %m", POD_USERNS_DIR);
        return 0;
}

static int taken_load(int dir_fd, const struct pod_userns_sources *src, struct taken *t,
                      struct pod_error *reterr) {
        int r;

        r = load_records(dir_fd, &t->pods, reterr);
        if (r >= 0)
                r = load_subid(src && src->subuid ? src->subuid : "/etc/subuid", &t->subid, reterr);
        if (r >= 0)
                r = load_subid(src && src->subgid ? src->subgid : "/etc/subgid", &t->subid, reterr);
        if (r >= 0)
                r = load_ids(src && src->passwd ? src->passwd : "/etc/passwd", &t->users, reterr);
        if (r >= 0)
                r = load_ids(src && src->group ? src->group : "/etc/group", &t->users, reterr);
        t->nss = !(src && src->no_nss);
        return r;
}

/* A host user or group at id, through NSS (LDAP, sssd, systemd's dynamic users ...). */
static bool nss_has_id(uint32_t id) {
        return getpwuid((uid_t)id) || getgrgid((gid_t)id);
}

static bool user_in_range(const struct taken *t, uint32_t base, uint32_t count) {
        if (ranges_find(&t->users, base, count))
                return true;
        return t->nss && (nss_has_id(base) || nss_has_id(base + count - 1));
}

/* ---- records ---------------------------------------------------------------------------- */

static int userns_open_locked(int data_fd, bool create, int *ret_dir, int *ret_lock,
                              struct pod_error *reterr) {
        _cleanup_close_ int dir_fd = -EBADF, lock_fd = -EBADF;
        int r;

        r = pod_statedir_open(data_fd, POD_USERNS_DIR, create, &dir_fd, reterr);
        if (r < 0)
                return r;
        lock_fd = openat(dir_fd, POD_USERNS_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lock_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s/%s': %m", POD_USERNS_DIR,
                                     POD_USERNS_LOCK);
        while (flock(lock_fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return pod_error_set(reterr, -errno, "Failed to lock '%s/%s': %m",
                                             POD_USERNS_DIR, POD_USERNS_LOCK);
        *ret_dir = TAKE_FD(dir_fd);
        *ret_lock = TAKE_FD(lock_fd);
        return 0;
}

static uint64_t fnv1a(const char *s) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

static bool pick_free(const struct taken *t, uint32_t base) {
        return !ranges_find(&t->pods, base, POD_USERNS_RANGE) &&
               !ranges_find(&t->subid, base, POD_USERNS_RANGE) &&
               !user_in_range(t, base, POD_USERNS_RANGE);
}

static int pick(const struct taken *t, const char *uuid, const struct pod_userns_request *req,
                uint32_t *ret) {
        const uint32_t slots = (POD_USERNS_PICK_MAX - POD_USERNS_PICK_MIN) / POD_USERNS_RANGE + 1;
        uint32_t first = (uint32_t)(fnv1a(uuid) % slots);

        /* A range pick could have chosen itself, free by the same rules. */
        for (size_t i = 0; i < req->n_prefer; i++) {
                uint32_t base = req->prefer[i];

                if (base < POD_USERNS_PICK_MIN || base > POD_USERNS_PICK_MAX ||
                    base % POD_USERNS_RANGE != 0 || !pick_free(t, base))
                        continue;
                *ret = base;
                return 0;
        }

        for (uint32_t i = 0; i < slots; i++) {
                uint32_t base = POD_USERNS_PICK_MIN + ((first + i) % slots) * POD_USERNS_RANGE;

                if (ranges_find(&t->pods, base, POD_USERNS_RANGE) ||
                    ranges_find(&t->subid, base, POD_USERNS_RANGE) ||
                    user_in_range(t, base, POD_USERNS_RANGE))
                        continue;
                *ret = base;
                return 0;
        }
        return -ENOSPC;
}

int pod_userns_allocate(int data_fd, const char *uuid, const struct pod_userns_request *req,
                        const struct pod_userns_sources *src, struct pod_idmap *ret,
                        struct pod_error *reterr) {
        _cleanup_close_ int dir_fd = -EBADF, lock_fd = -EBADF;
        _cleanup_(taken_done) struct taken t = {};
        char name[16], text[POD_UUID_STRING_MAX + 16];
        const struct range *hit;
        uint32_t base, count;
        int r;

        if (!pod_uuid_string_valid(uuid))
                return pod_error_set(reterr, -EINVAL, "Invalid pod UUID '%s'", uuid);
        if (req->mode == POD_USERNS_FIXED) {
                if (!range_valid(req->base, req->count))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid private users range %" PRIu32 ":%" PRIu32
                                             "%s",
                                             req->base, req->count,
                                             req->base == 0 ? ": a base of 0 would map the "
                                                              "pod's root to host root"
                                                            : "");
        } else if (req->mode != POD_USERNS_PICK)
                return -EINVAL;

        r = userns_open_locked(data_fd, true, &dir_fd, &lock_fd, reterr);
        if (r < 0)
                return r;
        r = taken_load(dir_fd, src, &t, reterr);
        if (r < 0)
                return r;

        if (req->mode == POD_USERNS_PICK) {
                count = POD_USERNS_RANGE;
                r = pick(&t, uuid, req, &base);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "No free range of %" PRIu32 " IDs left for "
                                             "--private-users between %" PRIu32 " and %" PRIu32
                                             " (pods, /etc/subuid, /etc/subgid and host users "
                                             "take them all)",
                                             POD_USERNS_RANGE, POD_USERNS_PICK_MIN,
                                             POD_USERNS_PICK_MAX + POD_USERNS_RANGE - 1);
        } else {
                base = req->base;
                count = req->count;
                hit = ranges_find(&t.pods, base, count);
                if (hit)
                        return pod_error_set(reterr, -EEXIST,
                                             "Private users range %" PRIu32 ":%" PRIu32
                                             " overlaps %" PRIu32 ":%" PRIu32
                                             ", allocated to pod %s",
                                             base, count, hit->base, hit->count, hit->owner);
                hit = ranges_find(&t.subid, base, count);
                if (hit)
                        return pod_error_set(reterr, -EEXIST,
                                             "Private users range %" PRIu32 ":%" PRIu32
                                             " overlaps %" PRIu32 ":%" PRIu32
                                             ", delegated to user '%s' in /etc/subuid or "
                                             "/etc/subgid (that user could own the pod's files)",
                                             base, count, hit->base, hit->count, hit->owner);
        }

        (void)snprintf(name, sizeof(name), "%" PRIu32, base);
        (void)snprintf(text, sizeof(text), "%s %" PRIu32 "\n", uuid, count);
        r = write_file_atomic_at(dir_fd, name, text, strlen(text), 0600);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write '%s/%s': %s", POD_USERNS_DIR, name,
                                     strerror(-r));
        *ret = (struct pod_idmap){ .base = base, .count = count };
        return 0;
}

/* Removes the records that match(uuid) says to; returns how many. */
static int records_remove(int data_fd, int (*match)(const char *uuid, void *userdata),
                          void *userdata, unsigned *ret_bad, struct pod_error *reterr) {
        _cleanup_close_ int dir_fd = -EBADF, lock_fd = -EBADF;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        unsigned bad = 0;
        int fd, r, n = 0;

        r = userns_open_locked(data_fd, false, &dir_fd, &lock_fd, reterr);
        if (r == -ENOENT) {
                if (reterr)
                        *reterr = (struct pod_error){};
                if (ret_bad)
                        *ret_bad = 0;
                return 0;
        }
        if (r < 0)
                return r;
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", POD_USERNS_DIR);
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                safe_close(fd);
                return pod_error_set(reterr, r, "Failed to open '%s': %s", POD_USERNS_DIR,
                                     strerror(-r));
        }
        while ((errno = 0, de = readdir(d))) {
                char uuid[POD_UUID_STRING_MAX];
                uint32_t base, count;

                /* A writer's temporary file ("BASE.tmp-PID", fd-util.h): under the lock no
                 * writer is at work, so one left is from a writer that died. */
                if (strstr(de->d_name, ".tmp-")) {
                        (void)unlinkat(dir_fd, de->d_name, 0);
                        continue;
                }
                r = record_read(dir_fd, de->d_name, &base, &count, uuid);
                if (r == -EINVAL || r == -ENOENT)
                        continue;
                if (r < 0) {
                        bad++;
                        continue;
                }
                r = match(uuid, userdata);
                if (r != 0)
                        continue;
                if (unlinkat(dir_fd, de->d_name, 0) < 0 && errno != ENOENT)
                        return pod_error_set(reterr, -errno, "Failed to remove '%s/%s': %m",
                                             POD_USERNS_DIR, de->d_name);
                n++;
        }
        if (errno != 0)
                return pod_error_set(reterr, -errno, "Failed to read '%s': %m", POD_USERNS_DIR);
        if (ret_bad)
                *ret_bad = bad;
        return n;
}

/* 0 (remove) for the UUID we release, 1 (keep) for the others. */
static int other_pod(const char *uuid, void *userdata) {
        return !streq(uuid, (const char *)userdata);
}

int pod_userns_release(int data_fd, const char *uuid, struct pod_error *reterr) {
        if (!pod_uuid_string_valid(uuid))
                return pod_error_set(reterr, -EINVAL, "Invalid pod UUID '%s'", uuid);
        return records_remove(data_fd, other_pod, (void *)uuid, NULL, reterr);
}

int pod_userns_sweep(int data_fd, int (*exists)(const char *uuid, void *userdata), void *userdata,
                     unsigned *ret_bad, struct pod_error *reterr) {
        return records_remove(data_fd, exists, userdata, ret_bad, reterr);
}

int pod_userns_allocate_pod(int data_fd, int pod_fd, const char *uuid,
                            const struct pod_userns_request *req,
                            const struct pod_userns_sources *src, bool sync, struct pod_idmap *ret,
                            struct pod_error *reterr) {
        struct pod_idmap m;
        int r;

        r = pod_userns_allocate(data_fd, uuid, req, src, &m, reterr);
        if (r < 0)
                return r;
        r = pod_userns_record_write(pod_fd, &m, sync);
        if (r < 0) {
                (void)pod_userns_release(data_fd, uuid, NULL);
                return pod_error_set(reterr, r, "Failed to write '%s' in the pod dir: %s",
                                     POD_USERNS_RECORD, strerror(-r));
        }
        if (ret)
                *ret = m;
        return 0;
}

int pod_userns_range_held(int data_fd, uint32_t base, uint32_t count) {
        _cleanup_free_ char *text = NULL;
        char path[64];
        const char *sp;
        uint32_t c;
        int r;

        (void)snprintf(path, sizeof(path), POD_USERNS_DIR "/%" PRIu32, base);
        r = read_full_file_at(data_fd, path, 128, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        sp = strchr(text, ' ');
        if (!sp || sscanf(sp + 1, "%" SCNu32, &c) != 1)
                return -EBADMSG;
        return c == count;
}

/* ---- the pod directory's record --------------------------------------------------------- */

int pod_userns_ownership_record_write(int pod_fd, enum pod_userns_ownership o, bool sync) {
        if (o != POD_USERNS_OWNERSHIP_CHOWN)
                return 0;
        return write_file_at(pod_fd, POD_USERNS_OWNERSHIP_RECORD, "chown\n", 6, 0644, sync);
}

int pod_userns_ownership_record_read(int pod_fd, enum pod_userns_ownership *ret) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file_at(pod_fd, POD_USERNS_OWNERSHIP_RECORD, 16, &text, NULL);
        if (r == -ENOENT) {
                *ret = POD_USERNS_OWNERSHIP_MAP;
                return 0;
        }
        if (r < 0)
                return r;
        if (!streq(text, "chown\n"))
                return -EBADMSG;
        *ret = POD_USERNS_OWNERSHIP_CHOWN;
        return 0;
}

int pod_userns_record_write(int pod_fd, const struct pod_idmap *m, bool sync) {
        char text[32];

        if (!range_valid(m->base, m->count))
                return -EINVAL;
        (void)snprintf(text, sizeof(text), "%" PRIu32 " %" PRIu32 "\n", m->base, m->count);
        return write_file_at(pod_fd, POD_USERNS_RECORD, text, strlen(text), 0644, sync);
}

int pod_userns_record_read(int pod_fd, struct pod_idmap *ret) {
        _cleanup_free_ char *text = NULL;
        uint32_t base, count;
        char *sp, *nl;
        size_t size;
        int r;

        r = read_full_file_at(pod_fd, POD_USERNS_RECORD, 64, &text, &size);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        sp = strchr(text, ' ');
        nl = strchr(text, '\n');
        if (!sp || !nl || nl[1] || sp > nl || parse_u32_dec(text, (size_t)(sp - text), &base) < 0 ||
            parse_u32_dec(sp + 1, (size_t)(nl - sp - 1), &count) < 0 || !range_valid(base, count))
                return -EBADMSG;
        *ret = (struct pod_idmap){ .base = base, .count = count };
        return 0;
}
