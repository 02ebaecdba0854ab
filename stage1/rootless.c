/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rootless pods (ABI.md "Rootless"): stage1 run by an unprivileged user, as root of a user
 * namespace that stage0 (or a test, with unshare --user --map-root-user) made.  Owns: the
 * detection, and the refusals of what cannot work without host root, made once, before
 * anything is set up.  Does not own: what each step then does differently (devices.c skips
 * the device program, scope.c talks to the user's manager, net-user.c runs pasta or
 * slirp4netns, mount.c adds "userxattr").
 *
 * Detection trusts $POD_ROOTLESS_UID only when we really are in a user namespace: the
 * environment is the caller's to set, but a process whose uid_map is the identity map is
 * host root, and host root keeps every root behaviour (device program, system bus, CNI)
 * whatever its environment says. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "stage1.h"

/* "0 0 4294967295", the initial user namespace's map: any other map is a user namespace. */
static int in_user_namespace(void) {
        _cleanup_free_ char *text = NULL;
        unsigned long long inside, outside, count;
        int n = 0, r;

        r = read_full_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &text, NULL);
        if (r < 0)
                return r;
        if (sscanf(text, "%llu %llu %llu %n", &inside, &outside, &count, &n) != 3)
                return -EBADMSG;
        return !(inside == 0 && outside == 0 && count == 4294967295ULL && text[n] == 0);
}

static int parse_id(const char *s, unsigned long *ret) {
        char *end;

        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        *ret = strtoul(s, &end, 10);
        if (errno != 0 || *end != 0 || *ret >= 4294967295UL)
                return -EINVAL;
        return 0;
}

int stage1_rootless_detect(uid_t *ret_uid, gid_t *ret_gid) {
        const char *u = getenv("POD_ROOTLESS_UID"), *g = getenv("POD_ROOTLESS_GID");
        unsigned long uid, gid;
        int r;

        if (!u)
                return 0;
        r = in_user_namespace();
        if (r < 0)
                return r;
        if (r == 0) {
                log_debug("POD_ROOTLESS_UID is set, but this is the host's user namespace: "
                          "running as root, ignoring it");
                return 0;
        }
        if (parse_id(u, &uid) < 0)
                return -EINVAL;
        if (!g)
                gid = uid;
        else if (parse_id(g, &gid) < 0)
                return -EINVAL;
        if (ret_uid)
                *ret_uid = (uid_t)uid;
        if (ret_gid)
                *ret_gid = (gid_t)gid;
        return 1;
}

int stage1_rootless_check(struct stage1_config *c, struct pod_error *reterr) {
        int r;

        r = stage1_rootless_detect(&c->rootless_uid, &c->rootless_gid);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Invalid POD_ROOTLESS_UID/POD_ROOTLESS_GID, or unreadable "
                                     "/proc/self/uid_map: %m");
        c->rootless = r > 0;
        if (!c->rootless)
                return 0;
        log_debug("Rootless pod of host user %u (group %u)", (unsigned)c->rootless_uid,
                  (unsigned)c->rootless_gid);

        /* No nesting (for now): the pod would need a range inside the user's own range,
         * and its owners shifted twice. */
        if (c->private_users)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "--private-users is not supported in a rootless pod (no "
                                     "nested ranges): the pod already runs in the user's own "
                                     "user namespace, its IDs in the user's range; run it "
                                     "without --private-users, or as root with it");
        /* CNI plugins make bridges, veths and iptables rules in the host's network namespace:
         * host root only.  --net=default becomes the user-mode network (net-user.c). */
        if (c->net == STAGE1_NET_CNI) {
                if (c->n_networks != 1 || !streq(c->networks[0].name, "default") ||
                    c->networks[0].args)
                        return pod_error_set(reterr, -EOPNOTSUPP,
                                             "CNI networks need root; rootless pods get "
                                             "--net=default (pasta/slirp4netns), none or host");
                c->net = STAGE1_NET_USER;
        }
        return 0;
}

bool stage1_setgroups_denied(void) {
        char buf[16] = {};
        int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        (void)close(fd);
        return n > 0 && strncmp(buf, "deny", 4) == 0;
}
