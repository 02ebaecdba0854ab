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
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "stage1.h"

#define EXIT_POD_FAILURE 254

static void help(void) {
        printf("Usage: pod-stage1 [OPTIONS] UUID\n\n"
               "Runs the prepared pod UUID; the current directory is its pod directory.\n"
               "Started by 'pod run' (see stage1/ABI.md), not by hand.\n\n"
               "  --debug                            Verbose logging\n"
               "  --net=host|none                    Network namespace (default: none)\n"
               "  --hostname=NAME                    Pod hostname (default: pod-UUID)\n"
               "  --interactive                      Apps use the terminal (stdin, /dev/console)\n"
               "  --no-overlay                       The app trees are private copies\n"
               "  --disable-capabilities-restriction Keep every capability\n"
               "  --disable-paths                    No masked or read-only /proc, /sys paths\n"
               "  --disable-seccomp                  No syscall filter\n"
               "  --resolv-conf=host|none|pod        /etc/resolv.conf: the host's (default),\n"
               "                                     the image's, or the pod dir's\n"
               "  --keep-unit | --no-keep-unit       Use (never use) the service we run in as\n"
               "                                     the pod's unit (default: detect)\n"
               "  --version                          Print the version and ABI version\n");
}

static int parse_argv(struct stage1_config *c, int argc, char *argv[]) {
        enum {
                ARG_DEBUG = 0x100,
                ARG_NET,
                ARG_HOSTNAME,
                ARG_INTERACTIVE,
                ARG_NO_OVERLAY,
                ARG_DISABLE_CAPS,
                ARG_DISABLE_PATHS,
                ARG_DISABLE_SECCOMP,
                ARG_RESOLV_CONF,
                ARG_KEEP_UNIT,
                ARG_NO_KEEP_UNIT,
                ARG_VERSION,
        };
        static const struct option options[] = {
                { "debug", no_argument, NULL, ARG_DEBUG },
                { "net", required_argument, NULL, ARG_NET },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "interactive", no_argument, NULL, ARG_INTERACTIVE },
                { "no-overlay", no_argument, NULL, ARG_NO_OVERLAY },
                { "disable-capabilities-restriction", no_argument, NULL, ARG_DISABLE_CAPS },
                { "disable-paths", no_argument, NULL, ARG_DISABLE_PATHS },
                { "disable-seccomp", no_argument, NULL, ARG_DISABLE_SECCOMP },
                { "resolv-conf", required_argument, NULL, ARG_RESOLV_CONF },
                { "keep-unit", no_argument, NULL, ARG_KEEP_UNIT },
                { "no-keep-unit", no_argument, NULL, ARG_NO_KEEP_UNIT },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int o;

        while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (o) {
                case ARG_DEBUG:
                        c->debug = true;
                        break;
                case ARG_NET:
                        if (streq(optarg, "host"))
                                c->net = STAGE1_NET_HOST;
                        else if (streq(optarg, "none"))
                                c->net = STAGE1_NET_NONE;
                        else
                                return log_error_errno(
                                        -EINVAL, "Unsupported --net='%s' (host or none)", optarg);
                        break;
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
                case ARG_RESOLV_CONF:
                        if (streq(optarg, "host"))
                                c->resolv_conf = STAGE1_RESOLV_HOST;
                        else if (streq(optarg, "none"))
                                c->resolv_conf = STAGE1_RESOLV_NONE;
                        else if (streq(optarg, "pod"))
                                c->resolv_conf = STAGE1_RESOLV_POD;
                        else
                                return log_error_errno(-EINVAL,
                                                       "Unsupported --resolv-conf='%s' (host, none "
                                                       "or pod)",
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

/* Forwards termination signals to the init until it exits; returns the pod's status. */
static int wait_for_init(pid_t init, int sfd) {
        for (;;) {
                struct signalfd_siginfo si;
                ssize_t k = read(sfd, &si, sizeof(si));
                int ws;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k != sizeof(si))
                        return log_error_errno(-errno, "Failed to read the signalfd: %m"),
                               EXIT_POD_FAILURE;
                if (si.ssi_signo != SIGCHLD) {
                        log_debug("Forwarding signal %u to the pod", si.ssi_signo);
                        (void)kill(init, (int)si.ssi_signo);
                        continue;
                }
                if (waitpid(init, &ws, WNOHANG) != init)
                        continue;
                if (WIFEXITED(ws))
                        return WEXITSTATUS(ws);
                if (WIFSIGNALED(ws))
                        return 128 + WTERMSIG(ws);
        }
}

/* Becomes pod-stage1-supervise (same PID, same lock fd, same blocked signals): the setup
 * code and its libraries are not needed while the pod runs.  Returns only on failure. */
static int exec_supervisor(const struct stage1_config *c, pid_t init) {
        _cleanup_free_ char *path = NULL;
        char pid[32];
        char *argv[] = { (char *)"pod-stage1-supervise", pid, NULL };
        int r;

        r = stage1_supervisor_path(&path);
        if (r < 0)
                return r;
        (void)snprintf(pid, sizeof(pid), "%d", (int)init);
        r = fd_cloexec(c->lock_fd, false);
        if (r < 0)
                return r;
        execv(path, argv);
        r = -errno;
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
        _cleanup_close_ int sfd = -EBADF;
        struct pod_error e = {};
        int sync[2] = { -EBADF, -EBADF };
        char buf[32];
        sigset_t mask;
        long long t_unit, t_machine;
        pid_t init;
        int r;

        r = take_lock_fd(c);
        if (r < 0)
                return r;
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
        if (r < 0)
                return log_pod_error(r, &e);
        r = stage1_scope_open_log_streams(c);
        if (r < 0)
                return r;

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

        r = stage1_ns_fork_init();
        if (r < 0)
                return log_error_errno(r, "Failed to start the pod init: %m");
        if (r == 0) {
                safe_close(sync[1]);
                sfd = safe_close(sfd);
                scope = NULL; /* the parent's bus connection is not ours to close */
                _exit(stage1_init_main(c, sync[0]));
        }
        init = r;
        sync[0] = safe_close(sync[0]);

        /* pid before go: stage0's "enter" and "status" find the init from it. */
        (void)snprintf(buf, sizeof(buf), "%d", (int)init);
        r = stage1_write_file(c->pod_dir_fd, "pid", buf);
        if (r < 0) {
                (void)kill(init, SIGKILL);
                return log_error_errno(r, "Failed to write 'pid': %m");
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
        r = exec_supervisor(c, init);
        log_debug_errno(r, "Failed to execute pod-stage1-supervise, supervising in place: %m");
        (void)malloc_trim(0);
        return wait_for_init(init, sfd);
}

int main(int argc, char *argv[]) {
        struct stage1_config c = {
                .net = STAGE1_NET_NONE,
                .keep_unit = -1,
                .lock_fd = -EBADF,
                .pod_dir_fd = -EBADF,
        };
        int r;

        log_parse_environment();
        log_set_prefix("pod-stage1");
        r = parse_argv(&c, argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_POD_FAILURE : 0;
        if (c.debug)
                log_set_max_level(LOG_DEBUG);
        if (!uuid_valid(c.uuid)) {
                log_error("Invalid pod UUID '%s'", c.uuid);
                return EXIT_POD_FAILURE;
        }

        r = run(&c);
        stage1_config_done(&c);
        free(c.hostname);
        safe_close(c.pod_dir_fd);
        if (r < 0)
                return EXIT_POD_FAILURE;
        return r;
}
