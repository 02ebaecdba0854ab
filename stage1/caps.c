/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Step 5: who the app runs as and what it may do.
 *
 * User and group come from the image, never from the host's NSS: the names are looked up
 * in the app rootfs' /etc/passwd and /etc/group (this runs after pivot_root, and every path
 * resolves inside the image: path-resolve.c), then as numbers, and "/path" means the owner
 * of that file in the image (ACE, spec section 11).  Supplementary groups are the image's
 * /etc/group memberships of the user plus the app's supplementaryGIDs.
 *
 * Capabilities: the appc default set (spec section 5), or exactly the retain set, or the
 * default minus the remove set.  Everything else leaves the bounding set, so no exec (setuid
 * binary, file capabilities) can bring it back.  A root app gets the set as effective,
 * permitted and inheritable.  A non-root app keeps nothing across execve() unless the set
 * comes from an explicit capabilities-retain-set: those capabilities are raised as ambient
 * (capabilities(7), "Transformation of capabilities during execve()").
 * Order (STYLE.md section 8): setgroups/setresgid/setresuid with keepcaps -> bounding set ->
 * capset -> ambient -> no_new_privs.  seccomp follows in seccomp.c. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cap-util.h"
#include "error.h"
#include "manifest.h"
#include "path-resolve.h"
#include "stage1.h"
#include "syscall.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))

uint64_t stage1_caps_default(void) {
        return CAP_BIT(CAP_AUDIT_WRITE) | CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) |
               CAP_BIT(CAP_FSETID) | CAP_BIT(CAP_FOWNER) | CAP_BIT(CAP_KILL) | CAP_BIT(CAP_MKNOD) |
               CAP_BIT(CAP_NET_RAW) | CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_SETUID) |
               CAP_BIT(CAP_SETGID) | CAP_BIT(CAP_SETPCAP) | CAP_BIT(CAP_SETFCAP) |
               CAP_BIT(CAP_SYS_CHROOT);
}

static int parse_id(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        if (!s || !*s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != 0 || v >= UINT32_MAX) /* (uid_t)-1 is "no change" */
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

/* Field i (0-based) of a colon-separated line, in place. */
static char *field(char *line, int i, char **ret_next) {
        char *p = line;

        for (; i > 0 && p; i--) {
                p = strchr(p, ':');
                if (p)
                        p++;
        }
        if (!p)
                return NULL;
        *ret_next = strchr(p, ':');
        return p;
}

static char *field_dup(const char *line, int i) {
        char *copy = strdup(line), *next = NULL, *f;
        char *out = NULL;

        if (!copy)
                return NULL;
        f = field(copy, i, &next);
        if (f) {
                if (next)
                        *next = 0;
                out = strdup(f);
        }
        free(copy);
        return out;
}

/* The app's root: this runs after pivot_root, so "/" is the image.  Every path below is
 * resolved from it by path-resolve.c, never followed through a /proc magic link (the pod
 * init's /proc/1/root is a host handle once it is back in the pod-level namespace). */
static int open_root(void) {
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* Opens an image file for reading: only a regular file, never blocking (a FIFO or /proc/kmsg
 * planted as /etc/passwd must not hang the pod's init). */
static int open_image_file(const char *path, FILE **ret) {
        _cleanup_close_ int fd = -EBADF, root = -EBADF;
        struct stat st;
        FILE *f;

        root = open_root();
        if (root < 0)
                return root;
        fd = pod_open_in_root(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size > (16 << 20))
                return -EBADMSG;
        f = fdopen(fd, "re");
        if (!f)
                return -errno;
        TAKE_FD(fd);
        *ret = f;
        return 1;
}

/* Finds the /etc/passwd or /etc/group line whose name (field 0) equals name, or whose id
 * (field 2) equals id when name is NULL.  Returns 1 and the line, 0 if absent. */
static int find_entry(const char *file, const char *name, unsigned id, char **ret_line) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t n = 0;
        int r;

        r = open_image_file(file, &f);
        if (r <= 0)
                return r;
        while (getline(&line, &n, f) >= 0) {
                _cleanup_free_ char *fname = NULL, *fid = NULL;
                unsigned v;

                line[strcspn(line, "\n")] = 0;
                fname = field_dup(line, 0);
                fid = field_dup(line, 2);
                if (!fname || !fid)
                        continue;
                if (name ? streq(fname, name) : (parse_id(fid, &v) >= 0 && v == id)) {
                        *ret_line = TAKE_PTR(line);
                        return 1;
                }
        }
        return 0;
}

static int add_gid(gid_t **gids, size_t *n, gid_t g) {
        gid_t *t;

        for (size_t i = 0; i < *n; i++)
                if ((*gids)[i] == g)
                        return 0;
        if (*n >= NGROUPS_MAX)
                return -E2BIG;
        t = realloc(*gids, (*n + 1) * sizeof(gid_t));
        if (!t)
                return -ENOMEM;
        t[(*n)++] = g;
        *gids = t;
        return 0;
}

/* Adds every /etc/group entry listing user in its members (field 3). */
static int add_member_groups(const char *user, gid_t **gids, size_t *n) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t len = 0;
        int r;

        r = open_image_file("/etc/group", &f);
        if (r <= 0)
                return r;
        while (getline(&line, &len, f) >= 0) {
                _cleanup_free_ char *members = NULL, *fid = NULL;
                char *save = NULL;
                unsigned g;

                line[strcspn(line, "\n")] = 0;
                members = field_dup(line, 3);
                fid = field_dup(line, 2);
                if (!members || !fid || parse_id(fid, &g) < 0)
                        continue;
                for (char *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
                        if (streq(m, user)) {
                                r = add_gid(gids, n, g);
                                if (r < 0)
                                        return r;
                        }
        }
        return 0;
}

/* "/path": the owner of that file in the image. */
static int stat_in_image(const char *path, struct stat *ret) {
        _cleanup_close_ int root = -EBADF, fd = -EBADF;

        root = open_root();
        if (root < 0)
                return root;
        fd = pod_open_in_root(root, path, O_PATH);
        if (fd < 0)
                return fd;
        if (fstat(fd, ret) < 0)
                return -errno;
        return 0;
}

int stage1_caps_resolve_user(struct stage1_app *app, struct pod_error *reterr) {
        const char *user = app->app->user, *group = app->app->group;
        _cleanup_free_ char *pw = NULL, *gr = NULL, *pw_name = NULL;
        unsigned uid, gid;
        struct stat st;
        int r;

        if (user[0] == '/') {
                r = stat_in_image(user, &st);
                if (r < 0)
                        return pod_error_set(reterr, r, "App '%s': user path '%s' in the image: %m",
                                             app->name, user);
                uid = st.st_uid;
        } else if (parse_id(user, &uid) < 0) {
                r = find_entry("/etc/passwd", user, 0, &pw);
                if (r < 0)
                        return pod_error_set(reterr, r, "App '%s': failed to read /etc/passwd: %m",
                                             app->name);
                if (r == 0)
                        return pod_error_set(reterr, -ESRCH,
                                             "App '%s': user '%s' not found in the image's "
                                             "/etc/passwd",
                                             app->name, user);
                {
                        _cleanup_free_ char *fid = field_dup(pw, 2);
                        if (!fid || parse_id(fid, &uid) < 0)
                                return pod_error_set(reterr, -EBADMSG,
                                                     "App '%s': bad /etc/passwd entry for '%s'",
                                                     app->name, user);
                }
        }
        if (!pw) {
                r = find_entry("/etc/passwd", NULL, uid, &pw);
                if (r < 0)
                        return pod_error_set(reterr, r, "App '%s': failed to read /etc/passwd: %m",
                                             app->name);
        }

        if (group[0] == '/') {
                r = stat_in_image(group, &st);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "App '%s': group path '%s' in the image: %m",
                                             app->name, group);
                gid = st.st_gid;
        } else if (parse_id(group, &gid) < 0) {
                _cleanup_free_ char *fid = NULL;

                r = find_entry("/etc/group", group, 0, &gr);
                if (r < 0)
                        return pod_error_set(reterr, r, "App '%s': failed to read /etc/group: %m",
                                             app->name);
                if (r == 0)
                        return pod_error_set(reterr, -ESRCH,
                                             "App '%s': group '%s' not found in the image's "
                                             "/etc/group",
                                             app->name, group);
                fid = field_dup(gr, 2);
                if (!fid || parse_id(fid, &gid) < 0)
                        return pod_error_set(reterr, -EBADMSG,
                                             "App '%s': bad /etc/group entry for '%s'", app->name,
                                             group);
        }

        /* Docker's rule (oci.h), asked for by prepare: a user without a group gets the
         * user's primary group from the image's /etc/passwd, else 0. */
        if (app->primary_group) {
                _cleanup_free_ char *fgid = pw ? field_dup(pw, 3) : NULL;

                gid = 0;
                if (fgid && parse_id(fgid, &gid) < 0)
                        return pod_error_set(reterr, -EBADMSG,
                                             "App '%s': bad group in the /etc/passwd entry of "
                                             "'%s'",
                                             app->name, user);
        }
        app->uid = uid;
        app->gid = gid;
        if (pw) {
                pw_name = field_dup(pw, 0);
                app->home = field_dup(pw, 5);
                if (!pw_name || !app->home)
                        return -ENOMEM;
                r = add_member_groups(pw_name, &app->gids, &app->n_gids);
                if (r < 0)
                        return pod_error_set(reterr, r, "App '%s': failed to read /etc/group: %m",
                                             app->name);
        }
        for (size_t i = 0; i < app->app->n_supplementary_gids; i++) {
                r = add_gid(&app->gids, &app->n_gids, app->app->supplementary_gids[i]);
                if (r < 0)
                        return pod_error_set(reterr, r, "App '%s': too many groups", app->name);
        }
        return 0;
}

static uint64_t caps_all(void) {
        int l = pod_cap_last();
        return l >= 63 ? UINT64_MAX : (CAP_BIT(l + 1) - 1);
}

uint64_t stage1_caps_app_set(const struct stage1_config *c, const struct stage1_app *app) {
        if (c->disable_caps)
                return caps_all();
        if (app->caps_retain)
                return app->caps_set;
        if (app->caps_remove)
                return stage1_caps_default() & ~app->caps_set;
        return stage1_caps_default();
}

int stage1_caps_apply(const struct stage1_config *c, const struct stage1_app *app,
                      struct pod_error *reterr) {
        uint64_t set = stage1_caps_app_set(c, app), have = 0;
        bool ambient;
        int r;

        /* We can hand out only what we have (e.g. no CAP_SYS_RESOURCE on some hosts). */
        r = pod_cap_get_permitted(&have);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read our capabilities: %m");
        set &= have;
        ambient = app->uid != 0 && (app->caps_retain || c->disable_caps);

        /* Keep the permitted set across the uid change; effective is cleared by it and
         * restored below, because dropping from the bounding set needs CAP_SETPCAP. */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to set keepcaps: %m");
        if (stage1_setgroups_denied()) {
                /* Rootless without a subordinate range: only the app's own gid is mapped and
                 * the groups cannot change (ABI.md "Rootless"). */
                for (size_t i = 0; i < app->n_gids; i++)
                        if (app->gids[i] != app->gid)
                                return pod_error_set(reterr, -EPERM,
                                                     "App '%s' has supplementary group %u, which "
                                                     "needs a subordinate ID range for the user "
                                                     "(/etc/subgid)",
                                                     app->name, (unsigned)app->gids[i]);
        } else if (setgroups(app->n_gids, app->gids) < 0)
                return pod_error_set(reterr, -errno, "Failed to set supplementary groups: %m");
        if (setresgid(app->gid, app->gid, app->gid) < 0)
                return pod_error_set(reterr, -errno, "Failed to set gid %u: %m",
                                     (unsigned)app->gid);
        if (setresuid(app->uid, app->uid, app->uid) < 0)
                return pod_error_set(reterr, -errno, "Failed to set uid %u: %m",
                                     (unsigned)app->uid);
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to clear keepcaps: %m");
        if (pod_cap_set(have, have, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to restore capabilities: %m");

        for (int cap = 0; cap <= pod_cap_last(); cap++)
                if (!(set & CAP_BIT(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        return pod_error_set(reterr, -errno,
                                             "Failed to drop capability %d from the bounding "
                                             "set: %m",
                                             cap);

        if (pod_cap_set(set, set, set) < 0)
                return pod_error_set(reterr, -errno, "Failed to set capabilities: %m");

        /* Ambient: only root needs nothing (execve() as uid 0 gets the bounding set). */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return pod_error_set(reterr, -errno, "Failed to clear ambient capabilities: %m");
        if (ambient)
                for (int cap = 0; cap <= pod_cap_last(); cap++)
                        if ((set & CAP_BIT(cap)) &&
                            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                                return pod_error_set(reterr, -errno,
                                                     "Failed to raise ambient capability %d: %m",
                                                     cap);

        /* no_new_privs: setuid binaries and file capabilities grant nothing across exec,
         * and seccomp may be loaded without CAP_SYS_ADMIN (prctl(2)). */
        if (app->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to set no_new_privs: %m");
        return 0;
}
