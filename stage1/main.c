/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-stage1: runs one prepared pod (the contract with stage0 is stage1/ABI.md).
 * This file only orders the steps:
 *   host side:  arguments, lock fd, manifests, pod dir, journal streams, systemd scope,
 *               fork of the pod init into a new PID namespace, pid file, machined;
 *   pod init:   namespaces (ns.c) -> per app: mounts (mount.c, dev.c) -> pivot_root
 *               (pivot.c) -> per process: credentials and capabilities (caps.c) ->
 *               no_new_privs -> seccomp (seccomp.c) -> exec (init.c).
 * The host-side process then only forwards signals to the init and waits for it: it is
 * the process stage0 exec'd, so its exit status is the pod's. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cni.h"
#include "error.h"
#include "fd-util.h"
#include "hostwait.h"
#include "log.h"
#include "podsummary.h"
#include "stage1.h"

static void help(void) {
        printf("Usage: pod-stage1 [OPTIONS] UUID\n\n"
               "Runs the prepared pod UUID; the current directory is its pod directory.\n"
               "Started by 'pod run' (see stage1/ABI.md), not by hand.\n\n"
               "  --debug                            Verbose logging\n"
               "  --net=host|none|default|NAME[:ARGS][,NAME[:ARGS]...]\n"
               "                                     Network namespace (default: none); CNI\n"
               "                                     networks from /etc/pod/net.d\n"
               "  --port=NAME:[HOSTIP:]HOSTPORT      Forward a host port to app port NAME\n"
               "  --hosts-entry=IP=NAME[,NAME]|host  Add to /etc/hosts (host: the host's)\n"
               "  --hostname=NAME                    Pod hostname (default: pod-UUID)\n"
               "  --interactive                      Apps use the terminal (stdin, /dev/console)\n"
               "  --no-overlay                       The app trees are private copies\n"
               "  --fuse-overlayfs=PATH              Rootless: the overlay served by PATH\n"
               "  --private-users=BASE:COUNT         A user namespace: the pod's 0 is host BASE\n"
               "  --private-users-ownership=map|chown  Idmapped lower dirs (map), or lower dirs\n"
               "                                     already owned by the range (chown)\n"
               "  --disable-capabilities-restriction Keep every capability\n"
               "  --disable-paths                    No masked or read-only /proc, /sys paths\n"
               "  --disable-seccomp                  No syscall filter\n"
               "  --disable-device-policy            No device allow-list (nodev stays)\n"
               "  --resolv-conf=auto|host|none|pod   /etc/resolv.conf: CNI's DNS, else the\n"
               "                                     host's with --net=host, else the image's\n"
               "                                     (auto, default); the host's; the image's;\n"
               "                                     or the pod dir's\n"
               "  --keep-unit | --no-keep-unit       Use (never use) the service we run in as\n"
               "                                     the pod's unit (default: detect)\n"
               "  --version                          Print the version and ABI version\n"
               "\n"
               "Rootless mode: run by an unprivileged user as root of a user namespace, with\n"
               "$POD_ROOTLESS_UID set (ABI.md \"Rootless\"): --net=default is pasta or\n"
               "slirp4netns, the unit is on the user's systemd manager; CNI networks,\n"
               "--private-users and limits without a user manager are refused.\n"
               "\n"
               "       pod-stage1 gc [--debug] [--exit-status=N] UUID\n\n"
               "Releases the pod's networks (CNI DEL), its network namespace and its device\n"
               "cgroup; run by 'pod gc' and at pod exit (then exits with status N).\n\n"
               "       pod-stage1 enter [--debug] [--app=NAME] UUID [--] [CMD [ARGS...]]\n\n"
               "Runs CMD (default /bin/sh) in the running pod as app NAME; run by 'pod enter'.\n");
}

static int parse_argv(struct stage1_config *c, int argc, char *argv[]) {
        enum {
                ARG_DEBUG = 0x100,
                ARG_NET,
                ARG_HOSTNAME,
                ARG_INTERACTIVE,
                ARG_NO_OVERLAY,
                ARG_FUSE_OVERLAYFS,
                ARG_DISABLE_CAPS,
                ARG_DISABLE_PATHS,
                ARG_DISABLE_SECCOMP,
                ARG_DISABLE_DEVICE_POLICY,
                ARG_RESOLV_CONF,
                ARG_KEEP_UNIT,
                ARG_NO_KEEP_UNIT,
                ARG_VERSION,
                ARG_PORT,
                ARG_HOSTS_ENTRY,
                ARG_IPC,
                ARG_PRIVATE_USERS,
                ARG_PRIVATE_USERS_OWNERSHIP,
        };
        static const struct option options[] = {
                { "debug", no_argument, NULL, ARG_DEBUG },
                { "net", required_argument, NULL, ARG_NET },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "interactive", no_argument, NULL, ARG_INTERACTIVE },
                { "no-overlay", no_argument, NULL, ARG_NO_OVERLAY },
                { "fuse-overlayfs", required_argument, NULL, ARG_FUSE_OVERLAYFS },
                { "disable-capabilities-restriction", no_argument, NULL, ARG_DISABLE_CAPS },
                { "disable-paths", no_argument, NULL, ARG_DISABLE_PATHS },
                { "disable-seccomp", no_argument, NULL, ARG_DISABLE_SECCOMP },
                { "disable-device-policy", no_argument, NULL, ARG_DISABLE_DEVICE_POLICY },
                { "resolv-conf", required_argument, NULL, ARG_RESOLV_CONF },
                { "keep-unit", no_argument, NULL, ARG_KEEP_UNIT },
                { "no-keep-unit", no_argument, NULL, ARG_NO_KEEP_UNIT },
                { "version", no_argument, NULL, ARG_VERSION },
                { "ipc", required_argument, NULL, ARG_IPC },
                { "private-users", required_argument, NULL, ARG_PRIVATE_USERS },
                { "private-users-ownership", required_argument, NULL, ARG_PRIVATE_USERS_OWNERSHIP },
                { "port", required_argument, NULL, ARG_PORT },
                { "hosts-entry", required_argument, NULL, ARG_HOSTS_ENTRY },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        struct pod_error e = {};
        size_t n_hosts = 0;
        int o, r;

        while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (o) {
                case ARG_DEBUG:
                        c->debug = true;
                        break;
                case ARG_NET: {
                        _cleanup_strv_free_ char **names = NULL, **args = NULL;

                        r = pod_cni_parse_net(optarg, &names, &args, &e);
                        if (r < 0)
                                return log_pod_error(r, &e);
                        for (size_t i = 0; i < c->n_networks; i++) {
                                free(c->networks[i].name);
                                free(c->networks[i].args);
                        }
                        free(c->networks);
                        c->networks = NULL;
                        c->n_networks = 0;
                        if (r == 0) {
                                c->net = streq(optarg, "host") ? STAGE1_NET_HOST : STAGE1_NET_NONE;
                                break;
                        }
                        c->net = STAGE1_NET_CNI;
                        c->networks = calloc((size_t)r, sizeof(*c->networks));
                        if (!c->networks)
                                return log_error_errno(-ENOMEM, "Out of memory");
                        for (int i = 0; i < r; i++) {
                                c->networks[i].name = TAKE_PTR(names[i]);
                                c->networks[i].args = args[i][0] ? TAKE_PTR(args[i]) : NULL;
                        }
                        c->n_networks = (size_t)r;
                        break;
                }
                case ARG_PORT: {
                        struct stage1_port *t, pt = {};

                        r = pod_cni_parse_port(optarg, &pt.name, &pt.host_ip, &pt.host_port, &e);
                        if (r < 0)
                                return log_pod_error(r, &e);
                        t = realloc(c->ports, (c->n_ports + 1) * sizeof(*t));
                        if (!t) {
                                free(pt.name);
                                free(pt.host_ip);
                                return log_error_errno(-ENOMEM, "Out of memory");
                        }
                        c->ports = t;
                        c->ports[c->n_ports++] = pt;
                        break;
                }
                case ARG_HOSTS_ENTRY: {
                        char **t;

                        r = pod_cni_parse_hosts_entry(optarg, &e);
                        if (r < 0)
                                return log_pod_error(r, &e);
                        t = realloc(c->hosts_entries, (n_hosts + 2) * sizeof(char *));
                        if (!t)
                                return log_error_errno(-ENOMEM, "Out of memory");
                        c->hosts_entries = t;
                        t[n_hosts] = strdup(optarg);
                        t[n_hosts + 1] = NULL;
                        if (!t[n_hosts])
                                return log_error_errno(-ENOMEM, "Out of memory");
                        n_hosts++;
                        break;
                }
                case ARG_HOSTNAME:
                        /* It also goes into /etc/hosts: letters, digits, '-' and '.' only. */
                        if (strlen(optarg) == 0 || strlen(optarg) > 64 ||
                            optarg[strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
                                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")] != 0)
                                return log_error_errno(-EINVAL, "Invalid --hostname='%s'", optarg);
                        free(c->hostname);
                        c->hostname = strdup(optarg);
                        if (!c->hostname)
                                return -ENOMEM;
                        break;
                case ARG_INTERACTIVE:
                        c->interactive = true;
                        break;
                case ARG_IPC:
                        /* rkt's stage1: auto is private. */
                        if (streq(optarg, "parent"))
                                c->ipc_parent = true;
                        else if (streq(optarg, "private") || streq(optarg, "auto"))
                                c->ipc_parent = false;
                        else
                                return log_error_errno(-EINVAL,
                                                       "Invalid --ipc='%s': expected auto, "
                                                       "private or parent",
                                                       optarg);
                        break;
                case ARG_PRIVATE_USERS:
                        r = pod_idmap_parse(optarg, &c->idmap, &e);
                        if (r < 0)
                                return log_pod_error(r, &e);
                        c->private_users = true;
                        break;
                case ARG_PRIVATE_USERS_OWNERSHIP:
                        if (streq(optarg, "chown"))
                                c->userns_chown = true;
                        else if (streq(optarg, "map"))
                                c->userns_chown = false;
                        else
                                return log_error_errno(-EINVAL,
                                                       "Invalid --private-users-ownership='%s': "
                                                       "expected map or chown",
                                                       optarg);
                        break;
                case ARG_FUSE_OVERLAYFS:
                        free(c->fuse_overlayfs);
                        c->fuse_overlayfs = strdup(optarg);
                        if (!c->fuse_overlayfs)
                                return log_error_errno(-ENOMEM, "Out of memory");
                        break;
                case ARG_NO_OVERLAY:
                        c->no_overlay = true;
                        break;
                case ARG_DISABLE_CAPS:
                        c->disable_caps = true;
                        break;
                case ARG_DISABLE_PATHS:
                        c->disable_paths = true;
                        break;
                case ARG_DISABLE_SECCOMP:
                        c->disable_seccomp = true;
                        break;
                case ARG_DISABLE_DEVICE_POLICY:
                        c->disable_device_policy = true;
                        break;
                case ARG_RESOLV_CONF:
                        if (streq(optarg, "auto"))
                                c->resolv_conf = STAGE1_RESOLV_AUTO;
                        else if (streq(optarg, "host"))
                                c->resolv_conf = STAGE1_RESOLV_HOST;
                        else if (streq(optarg, "none"))
                                c->resolv_conf = STAGE1_RESOLV_NONE;
                        else if (streq(optarg, "pod"))
                                c->resolv_conf = STAGE1_RESOLV_POD;
                        else
                                return log_error_errno(
                                        -EINVAL,
                                        "Unsupported --resolv-conf='%s' (auto, host, "
                                        "none or pod)",
                                        optarg);
                        break;
                case ARG_KEEP_UNIT:
                        c->keep_unit = 1;
                        break;
                case ARG_NO_KEEP_UNIT:
                        c->keep_unit = 0;
                        break;
                case ARG_VERSION:
                        printf("pod-stage1 %s\nABI %d\n", PACKAGE_VERSION, STAGE1_ABI_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind != argc - 1)
                return log_error_errno(-EINVAL, "Expected exactly one argument, the pod UUID");
        if (c->n_ports > 0 && c->net != STAGE1_NET_CNI)
                return log_error_errno(-EINVAL,
                                       "--port needs a CNI network (--net=default or a named "
                                       "network), not --net=host or --net=none");
        c->uuid = argv[optind];
        return 1;
}

/* The UUID names the unit, the machine and the hostname: accept only the canonical form. */
static bool uuid_valid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-'
                         : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        }
        return true;
}

static int take_lock_fd(struct stage1_config *c) {
        const char *e = getenv("POD_LOCK_FD");
        char *end;
        long fd;

        if (!e)
                return log_error_errno(-EBADF, "POD_LOCK_FD is not set: run pods with 'pod run'");
        errno = 0;
        fd = strtol(e, &end, 10);
        if (errno != 0 || *end != 0 || fd < 3 || fd > INT32_MAX || fcntl((int)fd, F_GETFD) < 0)
                return log_error_errno(-EBADF, "POD_LOCK_FD='%s' is not an open fd", e);
        /* This process and the pod init hold it (fork shares it); the apps must not: an app
         * that outlived the pod would keep it "running". */
        c->lock_fd = (int)fd;
        (void)unsetenv("POD_LOCK_FD");
        return fd_cloexec(c->lock_fd, true);
}

/* Becomes pod-stage1-supervise (same PID, same lock fd, same blocked signals): the setup
 * code and its libraries are not needed while the pod runs.  Returns only on failure. */
static int exec_supervisor(const struct stage1_config *c, pid_t init, int ready_fd) {
        _cleanup_free_ char *self = NULL;
        char nums[2 + STAGE1_NOTIFY_MAX_APPS][16];
        char *argv[9 + STAGE1_NOTIFY_MAX_APPS] = { (char *)"pod-stage1-supervise" };
        int fds[2 + STAGE1_NOTIFY_MAX_APPS];
        size_t n = 0, k = 1;
        int r;

        fds[n++] = (int)init;
        /* The readiness pipe and the apps' notify sockets cross the exec (hostwait.h). */
        if (ready_fd >= 0) {
                fds[n++] = ready_fd;
                for (size_t i = 0; i < c->n_apps && n < ELEMENTSOF(fds); i++)
                        if (c->apps[i].notify_fd >= 0)
                                fds[n++] = c->apps[i].notify_fd;
        }
        for (size_t i = 0; i < n; i++) {
                (void)snprintf(nums[i], sizeof(nums[i]), "%d", fds[i]);
                argv[k++] = nums[i];
                /* With CNI networks the supervisor execs "pod-stage1 gc" when the pod has
                 * ended, still holding the lock, so the networks are released before the pod
                 * counts as exited. */
                if (i == 0 &&
                    (c->net == STAGE1_NET_CNI || c->net == STAGE1_NET_USER || c->devices_cgroup)) {
                        r = stage1_self_path(&self);
                        if (r < 0)
                                return r;
                        argv[k++] = (char *)"--gc";
                        argv[k++] = self;
                        argv[k++] = c->uuid;
                        /* Without CNI networks the device program's cgroup is usually all
                         * there is to release: the supervisor tries that itself first, and
                         * executes "pod-stage1 gc" only when more is left (supervise.c). */
                        if (c->net != STAGE1_NET_CNI && c->devices_cgroup) {
                                argv[k++] = (char *)"--devices-cgroup";
                                argv[k++] = c->devices_cgroup;
                        }
                }
                r = i == 0 ? 0 : fd_cloexec(fds[i], false);
                if (r < 0)
                        return r;
        }
        argv[k] = NULL;
        r = fd_cloexec(c->lock_fd, false);
        if (r < 0)
                return r;
        r = stage1_supervisor_exec(argv);
        (void)fd_cloexec(c->lock_fd, true);
        return r;
}

/* For the debug log's "systemd registration took" (bench/start.sh --vm reads it). */
static long long now_usec(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int run(struct stage1_config *c) {
        _cleanup_(stage1_scope_freep) struct stage1_scope *scope = NULL;
        _cleanup_close_ int sfd = -EBADF, ready_fd = -EBADF;
        int socks[STAGE1_NOTIFY_MAX_APPS];
        size_t n_socks = 0;
        struct pod_error e = {};
        int sync[2] = { -EBADF, -EBADF };
        char buf[32];
        sigset_t mask;
        long long t_unit, t_machine;
        pid_t init;
        int r;

        /* Before anything opens an fd: 3 .. 3+N-1 may be the sockets systemd passed. */
        r = stage1_listen_setup(c, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        r = take_lock_fd(c);
        if (r < 0)
                return r;
        /* Before anything is forked: no app ever runs with the key's fd (mds.c). */
        r = stage1_mds_read_key(c, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        /* Before the init exists: the hand-overs exec this copy (selfexec.c).  Without it,
         * stage1 supervises in place, which is just as safe. */
        r = stage1_supervisor_seal();
        if (r < 0)
                log_debug_errno(r, "Failed to copy pod-stage1-supervise, ignoring: %m");
        c->pod_dir = getcwd(NULL, 0);
        if (!c->pod_dir)
                return log_error_errno(-errno, "Failed to get the pod directory: %m");
        c->pod_dir_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->pod_dir_fd < 0)
                return log_error_errno(-errno, "Failed to open the pod directory: %m");
        if (!c->hostname && asprintf(&c->hostname, "pod-%s", c->uuid) < 0)
                return log_error_errno(-ENOMEM, "Out of memory");

        r = stage1_config_load(c, &e);
        if (r >= 0)
                r = stage1_config_prepare_pod_dir(c, &e);
        /* enter gives a command no more capabilities than the pod's apps may have: it must
         * know that this pod gives them all (ABI.md "enter"). */
        if (r >= 0 && c->disable_caps) {
                r = stage1_write_file(c->pod_dir_fd, "insecure-capabilities", "");
                if (r < 0)
                        r = pod_error_set(&e, r, "Failed to write 'insecure-capabilities': %m");
        }
        /* Before the networks: their namespace is made inside it. */
        if (r >= 0)
                r = stage1_userns_setup(c, &e);
        /* Host side, before any fork: every app's seccomp filter compiled (or read from
         * the cache), so that the apps' children only load it (seccomp-cache.c). */
        if (r >= 0)
                r = stage1_seccomp_precompile(c, &e);
        if (r >= 0)
                r = stage1_listen_assign(c, &e);
        if (r >= 0)
                r = stage1_notify_setup(c, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        r = stage1_scope_open_log_streams(c);
        if (r < 0)
                return r;
        /* Before any signal is blocked: the plugins inherit our signal mask. */
        if (c->net == STAGE1_NET_CNI) {
                r = stage1_net_setup(c, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
        }

        t_unit = now_usec();
        r = stage1_scope_register(c, &scope, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        t_unit = now_usec() - t_unit;
        if (stage1_scope_unit(scope)) {
                r = stage1_write_file(c->pod_dir_fd, "unit", stage1_scope_unit(scope));
                if (r < 0)
                        return log_error_errno(r, "Failed to write 'unit': %m");
        }
        /* Rootless --net=default: after the unit exists, so the helper is in it too. */
        if (c->net == STAGE1_NET_USER) {
                r = stage1_net_user_setup(c, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
        }
        /* Likewise fuse-overlayfs; its mounts before the init copies our mount namespace. */
        r = stage1_fuse_overlay_setup(c, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        /* Before the init is forked: it and its apps are born in their sub-cgroups. */
        /* Per-app sub-cgroups of a delegated unit; without systemd, limits.c's. */
        r = stage1_scope_unit(scope) ? stage1_cgroup_setup(c, &e) : 0;
        if (r >= 0)
                r = stage1_cgroup_chown_own(c, scope, &e);
        if (r >= 0)
                r = stage1_devices_setup(c, stage1_scope_unit(scope), &e);
        if (r >= 0)
                r = stage1_limits_setup(c, stage1_scope_unit(scope), &e);
        if (r < 0)
                return log_pod_error(r, &e);

        (void)sigemptyset(&mask);
        (void)sigaddset(&mask, SIGCHLD);
        (void)sigaddset(&mask, SIGTERM);
        (void)sigaddset(&mask, SIGINT);
        (void)sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "Failed to block signals: %m");
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0)
                return log_error_errno(-errno, "Failed to create a signalfd: %m");
        if (pipe2(sync, O_CLOEXEC) < 0)
                return log_error_errno(-errno, "Failed to create a pipe: %m");
        if (c->notify) {
                int p[2];

                if (pipe2(p, O_CLOEXEC) < 0)
                        return log_error_errno(-errno, "Failed to create a pipe: %m");
                ready_fd = p[0];
                c->ready_fd = p[1];
        }

        r = stage1_ns_fork_init(c->rootless);
        if (r < 0)
                return log_error_errno(r, "Failed to start the pod init: %m");
        if (r == 0) {
                safe_close(sync[1]);
                sfd = safe_close(sfd);
                ready_fd = safe_close(ready_fd);
                for (size_t i = 0; i < c->n_apps; i++)
                        c->apps[i].notify_fd = safe_close(c->apps[i].notify_fd);
                scope = NULL; /* the parent's bus connection is not ours to close */
                _exit(stage1_init_main(c, sync[0]));
        }
        init = r;
        sync[0] = safe_close(sync[0]);
        c->ready_fd = safe_close(c->ready_fd);
        stage1_listen_close(c); /* the init has them */

        /* pid before go: stage0's "enter" and "status" find the init from it. */
        (void)snprintf(buf, sizeof(buf), "%d", (int)init);
        r = stage1_write_file(c->pod_dir_fd, "pid", buf);
        if (r < 0) {
                (void)kill(init, SIGKILL);
                return log_error_errno(r, "Failed to write 'pid': %m");
        }
        /* "unit" and "net-info.json" are final now: note them and the start time in the
         * pod summary, which spares `pod list` three lookups per pod (src/podsummary.h).
         * Without it (no summary, a failure here) the list looks at the files instead. */
        r = pod_summary_add_run(c->pod_dir_fd);
        if (r < 0 && r != -ENOENT)
                (void)log_debug_errno(r, "Failed to note the run in '%s', ignoring: %m",
                                      POD_SUMMARY_FILE);
        /* The init waits for "go" before it does anything: it enters the device cgroup (if
         * stage1 made one) with nothing opened yet. */
        r = stage1_devices_enter(c, init, &e);
        if (r >= 0)
                r = stage1_limits_enter(c, init, &e);
        if (r < 0) {
                (void)kill(init, SIGKILL);
                return log_pod_error(r, &e);
        }
        t_machine = now_usec();
        r = stage1_scope_register_machine(scope, c, init, &e);
        if (r < 0) {
                (void)kill(init, SIGKILL);
                return log_pod_error(r, &e);
        }
        t_machine = now_usec() - t_machine;
        if (scope)
                log_debug("systemd registration (unit, machine) took %lld us (unit %lld us, "
                          "machine %lld us)",
                          t_unit + t_machine, t_unit, t_machine);
        /* The bus is no longer needed: a running pod holds no connection. */
        scope = stage1_scope_free(scope);
        if (write(sync[1], "g", 1) != 1) {
                (void)kill(init, SIGKILL);
                return log_error_errno(-errno, "Failed to start the pod init: %m");
        }
        sync[1] = safe_close(sync[1]);

        /* Long-lived from here on. */
        r = exec_supervisor(c, init, ready_fd);
        log_debug_errno(r, "Failed to execute pod-stage1-supervise, supervising in place: %m");
        (void)malloc_trim(0);
        for (size_t i = 0; i < c->n_apps; i++)
                if (c->apps[i].notify_fd >= 0)
                        socks[n_socks++] = c->apps[i].notify_fd;
        return stage1_host_wait(init, sfd, ready_fd, socks, n_socks);
}

/* pod-stage1 gc [--debug] [--force] [--exit-status=N] UUID, cwd = the pod dir (ABI.md). */
static int gc_main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "debug", no_argument, NULL, 'd' },
                { "exit-status", required_argument, NULL, 'x' },
                { "force", no_argument, NULL, 'f' },
                {},
        };
        bool force = false;
        _cleanup_close_ int dir_fd = -EBADF;
        struct pod_error e = {};
        int o, r, exit_status = -1;
        sigset_t none;

        while ((o = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (o) {
                case 'd':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'f':
                        force = true;
                        break;
                case 'x': {
                        char *end;
                        long v;

                        errno = 0;
                        v = strtol(optarg, &end, 10);
                        if (errno != 0 || *end != 0 || end == optarg || v < 0 || v > 255) {
                                log_error("Invalid --exit-status='%s'", optarg);
                                return EXIT_POD_FAILURE;
                        }
                        exit_status = (int)v;
                        break;
                }
                default:
                        return EXIT_POD_FAILURE;
                }
        if (optind != argc - 1 || !uuid_valid(argv[optind])) {
                log_error("Expected exactly one argument, the pod UUID");
                return EXIT_POD_FAILURE;
        }
        /* After the supervisor: its blocked signals would reach the plugins. */
        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        dir_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                r = log_error_errno(-errno, "Failed to open the pod directory: %m");
        else {
                struct pod_error e2 = {};
                int k;

                r = stage1_net_teardown(dir_fd, argv[optind], force, &e);
                if (r < 0)
                        (void)log_pod_error(r, &e);
                k = stage1_net_user_release(dir_fd, &e2);
                if (k < 0) {
                        (void)log_pod_error(k, &e2);
                        if (r >= 0)
                                r = k;
                }
                e2 = (struct pod_error){};
                k = stage1_devices_release(dir_fd, argv[optind], &e2);
                if (k < 0) {
                        (void)log_pod_error(k, &e2);
                        if (r >= 0)
                                r = k;
                }
                e2 = (struct pod_error){};
                k = stage1_limits_release(dir_fd, argv[optind], &e2);
                if (k < 0) {
                        (void)log_pod_error(k, &e2);
                        if (r >= 0)
                                r = k;
                }
        }
        /* At the pod's own end we still run in its scope, which empties as we exit. */
        if (exit_status < 0) {
                struct pod_error e2 = {};
                int k = stage1_scope_release(argv[optind], &e2);

                if (k < 0) {
                        (void)log_pod_error(k, &e2);
                        if (r >= 0)
                                r = k;
                }
        }
        if (exit_status >= 0)
                return exit_status;
        return r < 0 ? EXIT_POD_FAILURE : 0;
}

/* $POD_STAGE1_ABI: the ABI the calling stage0 speaks (ABI.md "Invocation").  Unset is a
 * caller that follows ABI.md by hand (tests, debugging); another version is refused. */
static bool abi_ok(void) {
        const char *v = getenv("POD_STAGE1_ABI");
        char want[16];

        (void)snprintf(want, sizeof(want), "%d", STAGE1_ABI_VERSION);
        if (!v || streq(v, want))
                return true;
        log_error("The calling pod speaks stage1 ABI %s; this pod-stage1 speaks ABI %s: install "
                  "a matching pod and pod-stage1",
                  v, want);
        return false;
}

int main(int argc, char *argv[]) {
        struct stage1_config c = {
                .net = STAGE1_NET_NONE,
                .keep_unit = -1,
                .lock_fd = -EBADF,
                .pod_dir_fd = -EBADF,
                .ready_fd = -EBADF,
                .limit_init_fds = { -EBADF, -EBADF },
                .userns_fd = -EBADF,
                .userns_netns_fd = -EBADF,
        };
        _cleanup_free_ char **argv_copy = NULL;
        int r;

        /* First, before any fork: no process of the pod may open our /proc/PID files (fds,
         * exe, cwd, root, mem); the pod init and the app-starting children inherit it
         * (ABI.md "Process hardening"). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return EXIT_POD_FAILURE;
        log_parse_environment();
        log_set_prefix("pod-stage1");
        if (argc >= 2 && streq(argv[1], "gc"))
                return abi_ok() ? gc_main(argc - 1, argv + 1) : EXIT_POD_FAILURE;
        if (argc >= 2 && streq(argv[1], "enter"))
                return abi_ok() ? stage1_enter_main(argc, argv) : EXIT_POD_FAILURE;
        /* getopt_long() reorders argv; the sealed re-execution gets it as we got it. */
        argv_copy = calloc((size_t)argc + 1, sizeof(char *));
        if (!argv_copy)
                return EXIT_POD_FAILURE;
        memcpy(argv_copy, argv, (size_t)argc * sizeof(char *));
        r = parse_argv(&c, argc, argv);
        if (r <= 0) {
                stage1_config_done(&c);
                free(c.hostname);
                return r < 0 ? EXIT_POD_FAILURE : 0;
        }
        if (!abi_ok()) {
                stage1_config_done(&c);
                free(c.hostname);
                return EXIT_POD_FAILURE;
        }
        if (c.debug)
                log_set_max_level(LOG_DEBUG);
        if (!uuid_valid(c.uuid)) {
                log_error("Invalid pod UUID '%s'", c.uuid);
                stage1_config_done(&c);
                free(c.hostname);
                return EXIT_POD_FAILURE;
        }
        /* Before anything is set up: what a rootless pod cannot have fails here. */
        {
                struct pod_error e = {};

                r = stage1_rootless_check(&c, &e);
                if (r < 0) {
                        (void)log_pod_error(r, &e);
                        stage1_config_done(&c);
                        free(c.hostname);
                        return EXIT_POD_FAILURE;
                }
        }
        /* Before anything is forked that the apps could see (ABI.md "Sealed binaries"). */
        r = stage1_reexec_sealed(argv_copy);
        if (r < 0) {
                log_error_errno(r, "Failed to re-execute pod-stage1 from a sealed copy: %m");
                return EXIT_POD_FAILURE;
        }

        r = run(&c);
        /* Here only when setup failed or we supervised in place: release the networks. */
        if (c.net_created) {
                struct pod_error e = {};
                int k = stage1_net_teardown(c.pod_dir_fd, c.uuid, false, &e);
                if (k < 0)
                        (void)log_pod_error(k, &e);
        }
        if (c.net == STAGE1_NET_USER) {
                struct pod_error e = {};
                int k = stage1_net_user_release(c.pod_dir_fd, &e);
                if (k < 0)
                        (void)log_pod_error(k, &e);
        }
        if (c.devices_cgroup) {
                struct pod_error e = {};
                int k = stage1_devices_release(c.pod_dir_fd, c.uuid, &e);
                if (k < 0)
                        (void)log_pod_error(k, &e);
                free(c.devices_cgroup);
        }
        if (c.n_limit_cgroups > 0) {
                struct pod_error e = {};
                int k;

                /* The init must not hold them open (it is gone by now). */
                for (size_t i = 0; i < 2; i++)
                        c.limit_init_fds[i] = safe_close(c.limit_init_fds[i]);
                k = stage1_limits_release(c.pod_dir_fd, c.uuid, &e);
                if (k < 0)
                        (void)log_pod_error(k, &e);
        }
        stage1_config_done(&c);
        free(c.hostname);
        safe_close(c.pod_dir_fd);
        if (r < 0)
                return EXIT_POD_FAILURE;
        return r;
}
