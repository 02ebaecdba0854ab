/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod's device allow-list (stage1/ABI.md "Devices").  Owns: the list, the cgroup stage1
 * creates to enforce it where no systemd unit does, and that cgroup's removal.  Does not
 * own: the systemd properties (scope.c turns the same list into DevicePolicy=closed and
 * DeviceAllow=), the content of /dev (dev.c), mount flags (mount.c).
 *
 * Two layers, because they guard different things:
 *  - nodev on every mount an app can write to (mount.c, dev.c): a node the app makes with
 *    CAP_MKNOD, or finds on a host volume or in the image, opens nothing;
 *  - this list, which the kernel checks on every open() and mknod() of a device node,
 *    whatever mount it is on: it holds where nodev does not (an app given CAP_SYS_ADMIN and
 *    no seccomp filter can mount a file system without nodev) and keeps mknod() itself from
 *    making nodes of other devices.
 * Neither touches an fd that is already open (the stdio the apps inherit).
 *
 * Without systemd the list is a BPF_PROG_TYPE_CGROUP_DEVICE program (hand-assembled below:
 * no libbpf) attached to <cgroup2>/<our cgroup>/pod-<uuid>, which the pod init enters
 * before it does anything.  The kernel runs the device programs of a task's cgroup in the
 * unified hierarchy whether or not any controller is enabled there, so this works on a pure
 * cgroup2 host and on a hybrid one (cgroup2 on /sys/fs/cgroup/unified, every controller in
 * v1) alike.  No cgroup2 at all: the pod fails, unless --disable-device-policy. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "path-util.h"
#include "stage1.h"
#include "syscall.h"

#define DEVICES_CGROUP_FILE "devices-cgroup"

/* What /dev holds (dev.c), as systemd's DevicePolicy=closed has it: the pseudo devices may
 * also be re-created with mknod ("m"), ptys only opened. */
static const struct {
        unsigned major;
        int minor;
        const char *access, *path;
} fixed[] = {
        { 1, 3, "rwm", "/dev/null" },
        { 1, 5, "rwm", "/dev/zero" },
        { 1, 7, "rwm", "/dev/full" },
        { 1, 8, "rwm", "/dev/random" },
        { 1, 9, "rwm", "/dev/urandom" },
        { 5, 0, "rwm", "/dev/tty" },
        { 5, 2, "rwm", "/dev/ptmx" },
        /* UNIX98 pty slaves: the pod's own devpts instance (136 is the first of the range
         * the kernel allocates them in; systemd's "char-pts" and Docker's rule are the same). */
        { 136, -1, "rw", "char-pts" },
};

int stage1_devices_list(const struct stage1_config *c,
                        struct stage1_device ret[static STAGE1_DEVICES_MAX]) {
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                ret[n] = (struct stage1_device){ .major = fixed[i].major, .minor = fixed[i].minor };
                (void)snprintf(ret[n].access, sizeof(ret[n].access), "%s", fixed[i].access);
                (void)snprintf(ret[n].path, sizeof(ret[n].path), "%s", fixed[i].path);
                n++;
        }
        /* The terminal the apps inherit as stdout/stderr (and stdin, and /dev/console, with
         * --interactive): reopening it through /dev/stdout or /proc/self/fd must keep
         * working.  It grants no device the apps do not hold already; only a terminal
         * (stdout sent to some other character device gains no read access to it). */
        for (int fd = c->interactive ? 0 : 1; fd <= 2; fd++) {
                struct stat st;
                bool dup = false;

                if (!isatty(fd) || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
                        continue;
                for (size_t i = 0; i < n; i++)
                        dup = dup || (ret[i].major == major(st.st_rdev) &&
                                      (ret[i].minor < 0 || ret[i].minor == (int)minor(st.st_rdev)));
                if (dup)
                        continue;
                ret[n] = (struct stage1_device){ .major = major(st.st_rdev),
                                                 .minor = (int)minor(st.st_rdev) };
                (void)snprintf(ret[n].access, sizeof(ret[n].access), "rw");
                /* systemd parses /dev/char/MAJ:MIN itself, without looking for the node. */
                (void)snprintf(ret[n].path, sizeof(ret[n].path), "/dev/char/%u:%d", ret[n].major,
                               ret[n].minor);
                n++;
        }
        return (int)n;
}

/* ---- the BPF program ----------------------------------------------------------------- */

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        return (struct bpf_insn){
                .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm
        };
}

static unsigned access_bits(const char *s) {
        return (strchr(s, 'm') ? BPF_DEVCG_ACC_MKNOD : 0) |
               (strchr(s, 'r') ? BPF_DEVCG_ACC_READ : 0) |
               (strchr(s, 'w') ? BPF_DEVCG_ACC_WRITE : 0);
}

/* r1 = struct bpf_cgroup_dev_ctx *: access_type (access << 16 | type), major, minor.
 * Every rule is a character device's, so a block device (or anything else) is refused
 * first.  Per rule, without branching: r0 = (major ^ rule's major) | (minor ^ rule's minor,
 * unless any minor) | (access asked for outside the rule's); zero means the rule matches:
 * return 1 (allow).  No rule matched: return 0 (EPERM).  The verifier walks both sides of
 * every conditional jump: the earlier form, three jumps a rule, made it process 281
 * instructions for 79 (~0.3 ms of CPU a pod); this one makes it process each once. */
#define PROG_MAX (9 + STAGE1_DEVICES_MAX * 11 + 2)
static size_t build_program(const struct stage1_device *d, size_t n, struct bpf_insn *p) {
        size_t k = 0;

        p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0); /* r2 = access_type */
        p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0);
        p[k++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 3, 0, 0, 0xffff); /* r3 = type */
        p[k++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, 2, 0, 0, 16);     /* r2 = access */
        p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);        /* r4 = major */
        p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);        /* r5 = minor */
        p[k++] = insn(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 2, BPF_DEVCG_DEV_CHAR);
        p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
        p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        for (size_t i = 0; i < n; i++) {
                p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, 0, 4, 0, 0);
                p[k++] = insn(BPF_ALU64 | BPF_XOR | BPF_K, 0, 0, 0, (int32_t)d[i].major);
                if (d[i].minor >= 0) {
                        p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, 6, 5, 0, 0);
                        p[k++] = insn(BPF_ALU64 | BPF_XOR | BPF_K, 6, 0, 0, d[i].minor);
                        p[k++] = insn(BPF_ALU64 | BPF_OR | BPF_X, 0, 6, 0, 0);
                }
                p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, 6, 2, 0, 0);
                p[k++] = insn(BPF_ALU64 | BPF_AND | BPF_K, 6, 0, 0,
                              (int32_t)~access_bits(d[i].access));
                p[k++] = insn(BPF_ALU64 | BPF_OR | BPF_X, 0, 6, 0, 0);
                p[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 2, 0);
                p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
                p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        }
        p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
        p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return k;
}

static int attach_program(const struct stage1_config *c, int cgroup_fd, struct pod_error *reterr) {
        struct stage1_device d[STAGE1_DEVICES_MAX];
        struct bpf_insn prog[PROG_MAX];
        _cleanup_close_ int prog_fd = -EBADF;
        static char verifier_log[4096];
        union bpf_attr attr;
        size_t n;

        n = build_program(d, (size_t)stage1_devices_list(c, d), prog);
        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)prog;
        attr.insn_cnt = (uint32_t)n;
        attr.license = (uint64_t)(uintptr_t) "GPL";
        /* Without a log first: with one the verifier formats every state it walks, more
         * than half the cost of the load.  Its log is only wanted for a refusal: then load
         * once more with it, for the message. */
        prog_fd = sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
        if (prog_fd < 0) {
                attr.log_buf = (uint64_t)(uintptr_t)verifier_log;
                attr.log_size = sizeof(verifier_log);
                attr.log_level = 1;
                prog_fd = sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
        }
        if (prog_fd < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to load the device allow-list (BPF cgroup device "
                                     "program): %m%s%.300s",
                                     verifier_log[0] ? "; verifier: " : "", verifier_log);

        /* ALLOW_MULTI: programs of the cgroups above ours keep running too. */
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cgroup_fd;
        attr.attach_bpf_fd = (uint32_t)prog_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to attach the device allow-list to cgroup '%s': %m",
                                     c->devices_cgroup);
        /* The cgroup holds the program from now on; our fd may go. */
        return 0;
}

/* How many device programs the kernel runs for processes of cgroup dir_fd (its own and
 * its ancestors'). */
static int count_device_programs(int dir_fd) {
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = (uint32_t)dir_fd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.query_flags = BPF_F_QUERY_EFFECTIVE;
        if (sys_bpf(BPF_PROG_QUERY, &attr, sizeof(attr)) < 0)
                return -errno;
        return (int)attr.query.prog_cnt;
}

/* ---- the cgroup ---------------------------------------------------------------------- */

static bool is_cgroup2(const char *path) {
        struct statfs sfs;

        return statfs(path, &sfs) >= 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* Where the unified hierarchy is mounted: /sys/fs/cgroup (cgroup v2 only) or
 * /sys/fs/cgroup/unified (hybrid), or NULL. */
static const char *cgroup2_mount(void) {
        if (is_cgroup2("/sys/fs/cgroup"))
                return "/sys/fs/cgroup";
        if (is_cgroup2("/sys/fs/cgroup/unified"))
                return "/sys/fs/cgroup/unified";
        return NULL;
}

/* Our cgroup v1 devices controller's devices.list, from /proc/self/cgroup. */
static int v1_devices_list_path(char **ret) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                char *p = strstr(line, ":devices:");

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (p)
                        return asprintf(ret, "/sys/fs/cgroup/devices%s/devices.list", p + 9) < 0
                                       ? -ENOMEM
                                       : 0;
        }
        return -ENOENT;
}

/* systemd enforces DevicePolicy= with a BPF program on the unit's cgroup (cgroup v2) or with
 * the v1 devices controller.  Where it cannot (a kernel without cgroup BPF), it only logs:
 * look at what the kernel will run instead of trusting it.  SetUnitProperties() on a kept
 * unit returns before systemd has realised the cgroup change: wait for it a little. */
static int check_unit_enforces(struct pod_error *reterr) {
        _cleanup_free_ char *own = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *mnt = cgroup2_mount();
        bool v2 = mnt && streq(mnt, "/sys/fs/cgroup");
        int r;

        if (v2) {
                r = stage1_cgroup_own(&own);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to find our cgroup: %m");
                if (asprintf(&path, "%s%s", mnt, own) < 0)
                        return -ENOMEM;
                fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return pod_error_set(reterr, -errno, "Failed to open cgroup '%s': %m",
                                             path);
        } else {
                r = v1_devices_list_path(&path);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Failed to find our cgroup v1 devices cgroup: %m");
        }
        for (int i = 0; i < 100; i++) {
                if (v2) {
                        r = count_device_programs(fd);
                        if (r < 0)
                                return pod_error_set(reterr, r,
                                                     "Failed to query the device programs of "
                                                     "cgroup '%s': %m",
                                                     path);
                        if (r > 0)
                                return 0;
                } else {
                        _cleanup_free_ char *list = NULL;

                        r = read_full_file_at(AT_FDCWD, path, 1 << 20, &list, NULL);
                        if (r < 0)
                                return pod_error_set(reterr, r, "Failed to read '%s': %m", path);
                        if (!strstr(list, "a *:* rwm"))
                                return 0;
                }
                (void)nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
        return pod_error_set(reterr, -EOPNOTSUPP,
                             "systemd did not enforce the pod's device allow-list on '%s' (no "
                             "BPF cgroup device support?); refusing to run without it "
                             "(--insecure-options=devices)",
                             path);
}

int stage1_devices_setup(struct stage1_config *c, bool have_unit, struct pod_error *reterr) {
        _cleanup_free_ char *own = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *mnt;
        int r;

        if (c->disable_device_policy) {
                log_debug("--disable-device-policy: no device allow-list");
                return 0;
        }
        /* Rootless: attaching a device program needs CAP_SYS_ADMIN in the host's user
         * namespace (and the user's manager cannot attach one either).  Nothing is lost that
         * the list was for: the pod's /dev holds only the bind-mounted nodes, and no process
         * in a user namespace can create a device node (mknod of a device needs host
         * CAP_MKNOD; nodev covers nodes found on mounts). */
        if (c->rootless) {
                log_debug("Rootless pod: no device program (only the bind-mounted nodes in "
                          "/dev; mknod of devices is impossible in a user namespace)");
                return 0;
        }
        if (have_unit)
                return check_unit_enforces(reterr);

        mnt = cgroup2_mount();
        if (!mnt)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The pod's device allow-list needs a cgroup2 hierarchy "
                                     "(/sys/fs/cgroup or /sys/fs/cgroup/unified) or systemd; "
                                     "refusing to run without it (--insecure-options=devices)");
        r = stage1_cgroup_own(&own);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to find our cgroup: %m");
        if (asprintf(&c->devices_cgroup, "%s%s/pod-%s", mnt, streq(own, "/") ? "" : own, c->uuid) <
            0)
                return -ENOMEM;
        /* Recorded before it exists, so that gc finds it whenever we die. */
        r = stage1_write_file(c->pod_dir_fd, DEVICES_CGROUP_FILE, c->devices_cgroup);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write '" DEVICES_CGROUP_FILE "': %m");
        if (mkdir(c->devices_cgroup, 0755) < 0)
                return pod_error_set(reterr, -errno, "Failed to create cgroup '%s': %m",
                                     c->devices_cgroup);
        fd = open(c->devices_cgroup, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open cgroup '%s': %m",
                                     c->devices_cgroup);
        r = attach_program(c, fd, reterr);
        if (r < 0)
                return r;
        log_debug("Device allow-list attached to cgroup '%s'", c->devices_cgroup);
        return 0;
}

int stage1_devices_enter(const struct stage1_config *c, pid_t pid, struct pod_error *reterr) {
        _cleanup_close_ int dir_fd = -EBADF, fd = -EBADF;
        char buf[32];
        int n;

        if (!c->devices_cgroup)
                return 0;
        dir_fd = open(c->devices_cgroup, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd >= 0)
                fd = openat(dir_fd, "cgroup.procs", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        n = snprintf(buf, sizeof(buf), "%d", (int)pid);
        if (fd < 0 || write(fd, buf, (size_t)n) != n)
                return pod_error_set(reterr, -errno,
                                     "Failed to move the pod init into cgroup "
                                     "'%s': %m",
                                     c->devices_cgroup);
        return 0;
}

/* Only what we can have made: <cgroup2 mount>/.../pod-<uuid>, no "." or ".." components. */
static bool cgroup_path_ours(const char *path, const char *uuid) {
        _cleanup_free_ char *suffix = NULL;
        size_t n = strlen(path), m;

        if (asprintf(&suffix, "/pod-%s", uuid) < 0)
                return false;
        m = strlen(suffix);
        if (!string_has_prefix(path, "/sys/fs/cgroup/") || n <= m || !streq(path + n - m, suffix))
                return false;
        for (const char *p = path; (p = strchr(p, '/')); p++)
                if (strneq(p, "/./", 3) || strneq(p, "/../", 4) || strneq(p, "//", 2))
                        return false;
        return true;
}

int stage1_devices_release(int pod_dir_fd, const char *uuid, struct pod_error *reterr) {
        _cleanup_free_ char *path = NULL, *parent = NULL;
        int r;

        r = read_full_file_at(pod_dir_fd, DEVICES_CGROUP_FILE, 4096, &path, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '" DEVICES_CGROUP_FILE "': %m");
        parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        *strrchr(parent, '/') = 0; /* cgroup_path_ours() saw a '/' */
        if (!cgroup_path_ours(path, uuid) || !is_cgroup2(parent))
                return pod_error_set(reterr, -EINVAL,
                                     "'" DEVICES_CGROUP_FILE "' names '%s', not a cgroup of "
                                     "pod %s: not removing it",
                                     path, uuid);

        /* After a crash whatever is left of the pod is in there (the kernel kills a PID
         * namespace whose init died, but that takes a moment): kill it, then wait for the
         * cgroup to empty. */
        for (int i = 0; i < 100; i++) {
                _cleanup_free_ char *procs = NULL, *procs_path = NULL;

                if (rmdir(path) >= 0 || errno == ENOENT)
                        break;
                if (errno != EBUSY || i == 99)
                        return pod_error_set(reterr, -errno, "Failed to remove cgroup '%s': %m",
                                             path);
                if (asprintf(&procs_path, "%s/cgroup.procs", path) < 0)
                        return -ENOMEM;
                if (read_full_file_at(AT_FDCWD, procs_path, 1 << 20, &procs, NULL) >= 0)
                        for (char *p = procs, *next; p && *p; p = next) {
                                next = strchr(p, '\n');
                                if (next)
                                        *next++ = 0;
                                if (atoi(p) > 1)
                                        (void)kill((pid_t)atoi(p), SIGKILL);
                        }
                (void)nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
        }
        if (unlinkat(pod_dir_fd, DEVICES_CGROUP_FILE, 0) < 0 && errno != ENOENT)
                return pod_error_set(reterr, -errno,
                                     "Failed to remove '" DEVICES_CGROUP_FILE "': %m");
        log_debug("Removed cgroup '%s'", path);
        return 0;
}
