/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* pod-stage1's internal surface: the run configuration every step reads, and one entry
 * point per setup step (one file each, ordered by main.c as STYLE.md section 8 says).
 * Owns: the shape of the configuration.  Does not own: JSON (src/manifest.c parses the
 * pod and image manifests; config.c only copies what stage1 needs out of them). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "idmap.h"
#include "macro.h"

struct pod_error;
struct pod_app;
struct pod_image_manifest;
struct pod_isolator;
struct pod_pod_manifest;
struct pod_volume;

/* 3: the "enter" entry point (a stage0 of ABI 3 execs it; an older stage1 lacks it) and
 * the pod dir's "app-mntns" it reads; the device allow-list (an older stage1 would run pods
 * without it). */
/* 4: the app's root may be an overlay of the store's trees listed in the pod dir's
 * stage1/rootfs/opt/stage2/<app>/lowers (an older stage1 would mount the empty rootfs/). */
#define STAGE1_ABI_VERSION 4

/* The exit status of a pod that failed for pod's own reasons (ABI.md). */
#define EXIT_POD_FAILURE 254

/* Lower dirs of one app at most (overlayfs takes 500; prepare-tree.h). */
#define STAGE1_LOWERS_MAX 500

enum stage1_net {
        STAGE1_NET_NONE, /* new network namespace, only "lo", up */
        STAGE1_NET_HOST, /* the host's network namespace */
        STAGE1_NET_CNI,  /* a namespace in /run/pod/netns attached to CNI networks (net.c) */
        STAGE1_NET_USER, /* rootless --net=default: pasta or slirp4netns (net-user.c) */
};

struct stage1_network {
        char *name;
        char *args; /* CNI_ARGS, NULL if none */
};

struct stage1_port {
        char *name; /* an app port name (image manifest app.ports) */
        char *host_ip;
        unsigned host_port;
        unsigned pod_port; /* the pod manifest's podPort, 0: the app port's own */
};

struct stage1_mount {
        const struct pod_volume *volume; /* borrowed from the pod manifest */
        const char *path;                /* absolute inside the app rootfs */
        bool read_only;                  /* volume readOnly or the mountPoint's readOnly */
};

enum stage1_resolv_conf {
        /* rkt's precedence without --dns: what the first CNI network that returned DNS said,
         * else (--net=host) the host's, else the image's own untouched.  The default. */
        STAGE1_RESOLV_AUTO,
        STAGE1_RESOLV_HOST, /* a copy of the host's /etc/resolv.conf */
        STAGE1_RESOLV_NONE, /* the image's, untouched */
        STAGE1_RESOLV_POD,  /* a copy of the pod dir's "resolv.conf" (written by stage0) */
};

enum stage1_seccomp_mode {
        STAGE1_SECCOMP_DEFAULT, /* the built-in denylist */
        STAGE1_SECCOMP_RETAIN,  /* allowlist: only 'set' (plus execve) */
        STAGE1_SECCOMP_REMOVE,  /* the built-in denylist plus 'set' */
};

struct sock_filter;

struct stage1_app {
        const char *name;          /* borrowed from the pod manifest */
        const struct pod_app *app; /* the pod's override, else the image's app */
        bool read_only_rootfs;
        struct stage1_mount *mounts;
        size_t n_mounts;

        bool caps_retain; /* capabilities-retain-set given */
        bool caps_remove; /* capabilities-remove-set given */
        uint64_t caps_set;

        enum stage1_seccomp_mode seccomp_mode;
        char **seccomp_set; /* borrowed */
        int seccomp_errno;  /* positive errno; 0 = kill the process */
        /* The app's filter as a BPF program, compiled (or read from the cache) by stage1 on
         * the host before the init is forked (seccomp-cache.c); NULL: seccomp.c compiles it
         * in the app's child with libseccomp, as "enter" and fly do. */
        struct sock_filter *seccomp_prog;
        size_t seccomp_prog_len;

        bool no_new_privs;  /* default true */
        bool primary_group; /* Docker's User rule (pod manifest app annotation, ABI.md) */
        int stop_signal;    /* what SIGTERM becomes for this app (Docker's StopSignal) */
        bool has_oom_score_adj;
        int oom_score_adj;

        /* Filled at run time. */
        char *rootfs;  /* "stage1/rootfs/opt/stage2/<name>/rootfs", relative to pod dir */
        char **lowers; /* the overlay's lower dirs from the pod dir's "lowers" (absolute, top
                        * first), NULL: rootfs itself is the lower dir (ABI.md) */
        int log_fd;    /* journal stream for stdout/stderr, or -EBADF */
        int mntns_fd;  /* the app's mount namespace, held by init */
        uid_t uid;     /* resolved inside the image */
        gid_t gid;
        gid_t *gids; /* resolved supplementary groups */
        size_t n_gids;
        char *home; /* from the image's passwd, may be NULL */

        /* sd_notify (notify.c): this app's notify socket, held by the host side, or -EBADF. */
        int notify_fd;
        /* Socket activation (listen.c): indexes into config's listen_fds, passed to the
         * main process as fds 3, 4, ... */
        size_t *listen_idx;
        size_t n_listen;
        /* Per-app cgroup (cgroup.c), multi-app pods with app-level resource isolators. */
        bool has_memory_max;
        uint64_t memory_max; /* bytes */
        bool has_cpu_quota;
        uint64_t cpu_quota_usec; /* per second of wall clock */
        uint64_t cpu_shares;     /* os/linux/cpu-shares (2..262144), 0: none */
        int cgroup_fd;           /* cgroup.procs of its sub-cgroup, open for writing, or -EBADF */
        /* limits.c (no systemd): cgroup.procs of its memory and cpu sub-cgroups, or -EBADF. */
        int limit_fds[2];
        char *manifest_text; /* appsinfo/<app>/manifest as stored: the metadata service's */
};

struct stage1_config {
        /* Command line (ABI.md "Arguments"). */
        bool debug;
        enum stage1_net net;
        char *hostname;
        bool interactive;
        bool no_overlay;
        char *fuse_overlayfs; /* --fuse-overlayfs=PATH (rootless): fuse-overlay.c */
        bool ipc_parent;      /* --ipc=parent: the host's IPC namespace, not a new one */
        /* --private-users=BASE:COUNT (userns.c): the pod's user namespace, held by the host
         * side and the init (-EBADF without), and with --net=none the network namespace made
         * inside it for the init to join. */
        bool private_users;
        struct pod_idmap idmap;
        /* --private-users-ownership=chown: the lower dirs are chown-shifted copies (stage0's
         * src/store-shift.h), already owned by the range: mounted as they are, not idmapped. */
        bool userns_chown;
        int userns_fd;
        int userns_netns_fd;
        /* rootless.c: run by an unprivileged host user (ABI.md "Rootless"). */
        bool rootless;
        uid_t rootless_uid;
        gid_t rootless_gid;
        bool disable_caps;
        bool disable_paths;
        bool disable_seccomp;
        bool disable_device_policy; /* no device allow-list (devices.c) */
        enum stage1_resolv_conf resolv_conf;
        struct stage1_network *networks; /* STAGE1_NET_CNI */
        size_t n_networks;
        struct stage1_port *ports;
        size_t n_ports;
        char **hosts_entries; /* "IP=NAME[,NAME]" or "host" */
        int keep_unit;        /* -1 detect, 0 never, 1 always */
        char *uuid;
        /* Loaded by "enter" for a pod that already runs: the network arguments are unknown
         * (they were checked at its start), so the checks that need them are skipped. */
        bool running;

        /* Environment and cwd. */
        int lock_fd;
        int pod_dir_fd;
        char *pod_dir; /* absolute path of the pod dir (cwd) */

        /* Pod manifest. */
        struct stage1_app *apps;
        size_t n_apps;
        struct pod_pod_manifest *manifest;
        struct pod_image_manifest **images; /* per app, same order */
        bool has_memory_max;
        uint64_t memory_max; /* bytes */
        bool has_cpu_quota;
        uint64_t cpu_quota_usec;           /* per second of wall clock */
        uint64_t cpu_shares;               /* single app's os/linux/cpu-shares, 0: none */
        const struct pod_isolator *sysctl; /* os/unix/sysctl, borrowed */

        /* Networking (net.c). */
        bool net_created; /* net/ exists: tear down on failure */
        char *netns;      /* /run/pod/netns/<uuid> */
        char *net_ip;     /* the pod's first IP, for /etc/hosts */
        char *net_dns;    /* resolv.conf from the first network that returned DNS, or NULL */

        bool per_app_limits; /* several apps, some with resource isolators: cgroup.c */

        /* devices.c: the cgroup stage1 made for the device allow-list (no systemd unit). */
        char *devices_cgroup;
        /* limits.c: the cgroups stage1 made for resource limits (no systemd), and
         * cgroup.procs of each (memory, cpu) for the init, or -EBADF (set by
         * stage1_config_load). */
        char **limit_cgroups;
        size_t n_limit_cgroups;
        int limit_init_fds[2];

        /* sd_notify (notify.c): $NOTIFY_SOCKET is set; notify_apps: every app's image
         * supports it, so each gets a socket.  ready_fd: the init's end of the pipe that
         * says "every app started" to the host side, or -EBADF. */
        bool notify;
        bool notify_apps;
        int ready_fd;

        /* Socket activation (listen.c): $LISTEN_FDS of our own PID, moved out of the way. */
        int *listen_fds;
        char **listen_names;
        size_t n_listen_fds;

        /* The metadata service (mds.c): the pod manifest's text as stored, the host's signing
         * key (from $POD_MDS_KEY_FD, else a random one of this pod's own) and, once the init
         * listens, AC_METADATA_URL. */
        char *manifest_text;
        uint8_t mds_key[64];
        char *mds_url;
};

/* mds.c: the appc metadata service (ABI.md "Metadata service").  read_key: on the host
 * side, before anything is forked; start: in the init, once it is in the pod's network
 * namespace, before any app starts (sets c->mds_url, forks the server). */
int stage1_mds_read_key(struct stage1_config *c, struct pod_error *reterr);
int stage1_mds_start(struct stage1_config *c, struct pod_error *reterr);

/* userns.c: --private-users (ABI.md "User namespace").  setup: host side, after the pod dir
 * is prepared and before the networks: the namespace, the owners of the upper dirs and empty
 * volumes shifted into the range, the pod dir's "userns".  netns: a network namespace owned by
 * the pod's user namespace, "lo" up (-errno).  join: in an app's process, after its mount
 * namespace and before its credentials.  shift: a host ID for an ID of the pod (-ERANGE when
 * outside the range); identity without a user namespace. */
int stage1_userns_setup(struct stage1_config *c, struct pod_error *reterr);
int stage1_userns_netns(const struct stage1_config *c);
int stage1_userns_join(const struct stage1_config *c);
int stage1_userns_shift(const struct stage1_config *c, uint32_t id, uint32_t *ret);
/* In an app's mount namespace: the idmapped clone of lower dir fd, attached at the pod dir's
 * "userns-lowers/<i>" (overlayfs takes no detached layer before Linux 6.15); returns an O_PATH
 * fd of it.  detach: after the overlay is mounted (it holds its own clones). */
int stage1_userns_lower(const struct stage1_config *c, int fd, size_t i, struct pod_error *reterr);
void stage1_userns_lowers_detach(const struct stage1_config *c, size_t n);
/* A host volume with "idmap": true: a detached clone of its source (src_fd, recursive or
 * not), idmapped through the pod's user namespace so that host ID N is N inside; the caller
 * attaches it.  A file system or kernel that cannot idmap fails, naming the volume. */
int stage1_userns_volume(const struct stage1_config *c, const struct pod_volume *v, int src_fd,
                         bool recursive, struct pod_error *reterr);
/* enter: the pod's user namespace as the pod dir's "userns" names it, found from the app's
 * process pid (walking up from a namespace the app nested in it); 0 and *ret_fd = -EBADF for
 * a pod without one. */
int stage1_userns_open_for_enter(int pod_dir_fd, pid_t app_pid, int *ret_fd,
                                 struct pod_idmap *ret_map, struct pod_error *reterr);
/* enter, rootless: the user namespace of the pod init init_pid and its uid_map and gid_map as
 * we read them; 0 and *ret_fd = -EBADF when it is our own namespace. */
int stage1_userns_open_rootless(pid_t init_pid, int *ret_fd, char **ret_uid_map, char **ret_gid_map,
                                struct pod_error *reterr);
/* A host ID (in our terms) into the namespace a map text ("inside outside count" lines, as
 * /proc/PID/uid_map reads to us) describes; -ERANGE (with a message) when unmapped. */
int stage1_userns_map_id(const char *map, uint32_t *id, struct pod_error *reterr);

/* rootless.c: detect: 1 when $POD_ROOTLESS_UID is set and we are in a user namespace (not
 * the identity uid_map), with the host user's IDs; 0 for host root.  check: sets c->rootless
 * and refuses what a rootless pod cannot have (--private-users, CNI networks); turns
 * --net=default into STAGE1_NET_USER. */
int stage1_rootless_detect(uid_t *ret_uid, gid_t *ret_gid);
/* Whether setgroups(2) is denied in our user namespace (/proc/self/setgroups "deny": a
 * rootless user without a subordinate range).  Then supplementary groups cannot be changed:
 * callers keep the ones they have when the app asks for none beyond its gid. */
bool stage1_setgroups_denied(void);
int stage1_rootless_check(struct stage1_config *c, struct pod_error *reterr);

/* config.c */
int stage1_config_load(struct stage1_config *c, struct pod_error *reterr);
void stage1_config_done(struct stage1_config *c);
int stage1_config_prepare_pod_dir(struct stage1_config *c, struct pod_error *reterr);
/* Writes dir_fd/name atomically (temp file + rename), without fsync. */
int stage1_write_file(int dir_fd, const char *name, const char *text);
/* selfexec.c: sealed memfd copies of our own binaries (ABI.md "Sealed binaries").
 * stage1_reexec_sealed: re-executes pod-stage1 from a sealed copy with the same argv (and
 * environment and fds); returns 0 when already running from one, else only on failure. */
int stage1_reexec_sealed(char **argv);
/* The installed pod-stage1 (not the copy behind /proc/self/exe). */
int stage1_self_path(char **ret);
/* Copies pod-stage1-supervise (supervise.c; installed next to pod-stage1) into a sealed
 * memfd, once, before any app exists; exec executes that copy and returns only on failure
 * (-ENOENT: no copy). */
int stage1_supervisor_seal(void);
int stage1_supervisor_exec(char **argv);
/* The sealed copy's fd (O_CLOEXEC), -EBADF without one. */
int stage1_supervisor_fd(void);

/* cgroup.c: os/linux/cpu-shares as cgroup v2's cpu.weight, the way systemd converts
 * CPUShares= (shares * 100 / 1024, within 1..10000). */
uint64_t stage1_cpu_shares_to_weight(uint64_t shares);

/* ns.c: runs in the pod init (PID 1 of the new PID namespace). */
/* Forks the pod init into a new PID namespace: returns 0 in the child, > 0 (its PID as seen
 * from the host) in the parent. */
int stage1_ns_fork_init(bool rootless);
/* In the init: new mount/UTS/IPC (and network) namespaces, "/" rprivate, a /proc of the new
 * PID namespace, hostname, loopback up. */
int stage1_ns_setup_init(const struct stage1_config *c, struct pod_error *reterr);
/* Brings "lo" up in the current network namespace. */
int stage1_ns_loopback_up(void);
/* os/unix/sysctl: writes net.* keys of the pod's own network namespace. */
int stage1_ns_apply_sysctl(const struct stage1_config *c, struct pod_error *reterr);

/* net.c: CNI networks.  setup runs on the host side before the init is forked and fills
 * c->netns and c->net_ip; join runs in the init; teardown is "pod-stage1 gc" (also at pod
 * exit): DEL of every persisted attachment, then the netns file goes; idempotent. */
int stage1_net_setup(struct stage1_config *c, struct pod_error *reterr);
int stage1_net_join(const struct stage1_config *c, struct pod_error *reterr);
/* force: an attachment whose DEL fails is reported (log_warning, "Left behind: ...") and
 * forgotten, and the namespace goes anyway (pod rm --force, gc giving up). */
int stage1_net_teardown(int pod_dir_fd, const char *uuid, bool force, struct pod_error *reterr);
/* net-standin.c: before a repeated DEL, re-creates (as a veth inside the pod's namespace,
 * with the addresses of the ADD result) a container interface that an interrupted DEL
 * already deleted, so that the plugin finds what it keys its host-side cleanup on. */
struct pod_cni_attachment;
int stage1_net_standin(const struct pod_cni_attachment *a, struct pod_error *reterr);

/* net-user.c: the rootless --net=default (ABI.md "Rootless"): host side, after the unit
 * exists and before the init is forked: the network namespace (c->userns_netns_fd, which
 * the init joins), pasta or slirp4netns attached to it with the forwards, net-info.json.
 * release (gc): the helper, if still running. */
#define STAGE1_NET_USER_PORTS_MAX 16
int stage1_net_user_setup(struct stage1_config *c, struct pod_error *reterr);
/* --fuse-overlayfs (fuse-overlay.c): in a private mount namespace of the host side, before
 * the init is forked, each app's root mounted over FUSE and served by the program. */
int stage1_fuse_overlay_setup(const struct stage1_config *c, struct pod_error *reterr);
int stage1_net_user_release(int pod_dir_fd, struct pod_error *reterr);

/* mount.c: in the app's fresh mount namespace, before pivot_root. */
/* mount.c: the lower dir at an absolute path of "lowers", opened O_PATH with no symlink
 * followed anywhere in it (stage0 wrote real paths). */
int stage1_open_lower(const char *path, struct pod_error *reterr);
int stage1_mount_app(const struct stage1_config *c, struct stage1_app *app, const char *root,
                     struct pod_error *reterr);
/* The fly flavour's root (fly.c): the app's overlay or copy with the host's /dev, /proc and
 * /sys bound in (recursively) and the volumes; no new /proc, /sys or /dev. */
int stage1_mount_fly(const struct stage1_config *c, struct stage1_app *app, const char *root,
                     struct pod_error *reterr);
int stage1_mount_finish_app(const struct stage1_config *c, struct stage1_app *app, const char *root,
                            struct pod_error *reterr);
/* Opens path inside root (RESOLVE_IN_ROOT), creating missing directories (and a regular file
 * as last component when is_dir is false); returns an O_PATH fd. */
int stage1_mount_target(int root_fd, const char *path, bool is_dir, struct pod_error *reterr);
int stage1_mount_at_fd(const char *source, int target_fd, const char *fstype, unsigned long flags,
                       const char *data);

/* dev.c */
int stage1_dev_setup(const struct stage1_config *c, int root_fd, struct pod_error *reterr);

/* pivot.c */
int stage1_pivot(const char *root, struct pod_error *reterr);

/* caps.c: credentials and capabilities of one app process, after setns into the app. */
int stage1_caps_resolve_user(struct stage1_app *app, struct pod_error *reterr);
int stage1_caps_apply(const struct stage1_config *c, const struct stage1_app *app,
                      struct pod_error *reterr);
uint64_t stage1_caps_default(void);
/* The capabilities the pod's configuration gives app (isolators, --caps-*, insecure): an app
 * process never holds more, so enter never applies more, whatever /proc shows. */
uint64_t stage1_caps_app_set(const struct stage1_config *c, const struct stage1_app *app);

/* seccomp-cache.c: each app's filter compiled before the init is forked, from the cache of
 * compiled filters when it holds a valid entry for the same inputs (ABI.md "Seccomp").
 * Fails only when the filter cannot be built; a cache that cannot be used is skipped. */
int stage1_seccomp_precompile(struct stage1_config *c, struct pod_error *reterr);

/* seccomp.c */
int stage1_seccomp_check(const struct stage1_app *app, struct pod_error *reterr);
int stage1_seccomp_apply(const struct stage1_config *c, const struct stage1_app *app,
                         struct pod_error *reterr);

/* enter.c: pod-stage1 enter [--debug] [--app=NAME] UUID [--] CMD... (argv[1] = "enter"). */
int stage1_enter_main(int argc, char *argv[]);

/* init.c: the pod's PID 1; sync_fd is read for the parent's go-ahead.  Returns the exit
 * status of the pod (ABI.md "Exit status"). */
int stage1_init_main(struct stage1_config *c, int sync_fd);

/* notify.c: host side, before the init is forked: the per-app notify sockets. */
int stage1_notify_setup(struct stage1_config *c, struct pod_error *reterr);
/* In the app's mount namespace, before pivot_root: its socket on /run/systemd/notify. */
int stage1_notify_mount_app(const struct stage1_config *c, const struct stage1_app *app,
                            const char *root, struct pod_error *reterr);
#define STAGE1_NOTIFY_PATH "/run/systemd/notify"

/* listen.c: host side: takes $LISTEN_FDS (when $LISTEN_PID is ours) before any other fd is
 * opened, then (once the manifests are loaded) hands them out to the apps. */
int stage1_listen_setup(struct stage1_config *c, struct pod_error *reterr);
int stage1_listen_assign(struct stage1_config *c, struct pod_error *reterr);
/* In the app's main process, before exec: puts the app's sockets on fds 3, 4, ...; returns
 * their number and (when > 0) their names, ':'-separated, for LISTEN_FDNAMES. */
int stage1_listen_install(const struct stage1_config *c, const struct stage1_app *app,
                          char **ret_names);
void stage1_listen_close(struct stage1_config *c);

/* cgroup.c: host side, after the unit exists and before the init is forked. */
int stage1_cgroup_setup(struct stage1_config *c, struct pod_error *reterr);
/* Our cgroup in the unified hierarchy ("/..."), from /proc/self/cgroup. */
int stage1_cgroup_own(char **ret);
/* cgroup-owner.c: with --private-users, the pod's delegated cgroup v2 subtree belongs to the
 * pod's root (host BASE), as systemd-nspawn does: cg_fd's directory and the files
 * /sys/kernel/cgroup/delegate lists (cgroup.procs, cgroup.threads, cgroup.subtree_control,
 * ...).  _own: stage1's own cgroup, when it is the delegated unit's (no per-app limits);
 * cgroup.c calls _fd for each app's sub-cgroup instead.  No-ops without --private-users. */
int stage1_cgroup_chown_fd(const struct stage1_config *c, int cg_fd, const char *path,
                           struct pod_error *reterr);
struct stage1_scope;
int stage1_cgroup_chown_own(const struct stage1_config *c, const struct stage1_scope *scope,
                            struct pod_error *reterr);

/* devices.c: the device allow-list (ABI.md "Devices").  list: what the pod may open, for
 * the BPF program and for systemd's DeviceAllow= (path: a node, "char-pts", or
 * "/dev/char/MAJ:MIN").  setup, host side after the unit exists: with a unit, checks that
 * systemd enforces it; without, creates the pod's cgroup with the program attached.  enter:
 * moves the (waiting) pod init there.  release (gc, and at the pod's end): removes it. */
#define STAGE1_DEVICES_MAX 16
struct stage1_device {
        unsigned major;
        int minor; /* -1: any (character devices only) */
        char access[4];
        char path[48];
};
int stage1_devices_list(const struct stage1_config *c,
                        struct stage1_device ret[static STAGE1_DEVICES_MAX]);
int stage1_devices_setup(struct stage1_config *c, bool have_unit, struct pod_error *reterr);
int stage1_devices_enter(const struct stage1_config *c, pid_t pid, struct pod_error *reterr);
int stage1_devices_release(int pod_dir_fd, const char *uuid, struct pod_error *reterr);

/* limits.c: resource limits through cgroupfs when systemd is not PID 1 (no-op otherwise or
 * with have_unit).  Before the init is forked; then stage1_limits_enter() moves the init,
 * each app's child calls stage1_limits_enter_app() (-errno), and release removes them
 * (pod exit and gc). */
int stage1_limits_setup(struct stage1_config *c, bool have_unit, struct pod_error *reterr);
int stage1_limits_enter(const struct stage1_config *c, pid_t pid, struct pod_error *reterr);
int stage1_limits_enter_app(const struct stage1_app *app);
int stage1_limits_release(int pod_dir_fd, const char *uuid, struct pod_error *reterr);

/* scope.c */
struct stage1_scope;
int stage1_scope_register(const struct stage1_config *c, struct stage1_scope **ret,
                          struct pod_error *reterr);
int stage1_scope_register_machine(struct stage1_scope *s, const struct stage1_config *c,
                                  pid_t leader, struct pod_error *reterr);
const char *stage1_scope_unit(const struct stage1_scope *s);
/* Whether the pod's unit has Delegate=yes: our scope always; a kept unit as its unit says
 * (read only when per-app limits or --private-users need to know). */
bool stage1_scope_delegated(const struct stage1_scope *s);
/* gc: kills what is left in pod-<uuid>.scope and stops it, if systemd still has it. */
int stage1_scope_release(const char *uuid, struct pod_error *reterr);
struct stage1_scope *stage1_scope_free(struct stage1_scope *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct stage1_scope *, stage1_scope_free)
int stage1_scope_open_log_streams(struct stage1_config *c);
