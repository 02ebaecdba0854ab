/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-stage1-fly: the fly flavour of stage1 (rkt's stage1-fly; ABI.md "The fly stage1").
 * One app, run almost as a host process: a new mount namespace only, whose root is the app's
 * overlay (or --no-overlay copy) with the host's /dev, /proc and /sys bound in; the host's
 * network, PID, IPC, UTS and user namespaces and cgroup; every capability stage1 holds; no
 * seccomp filter, no device allow-list, no_new_privs only when the image asks for it.  It is
 * for trusted system services (kubelet, etcd), which manage the host they run on.
 *
 * Processes: this one (host side) holds the pod's lock, writes "pid" (the app's, as the
 * host sees it), forwards SIGTERM, SIGINT and SIGHUP to the app, reaps it and records its
 * status in status/<app> as pod-stage1 does, so pod status, list, stop, gc and rm work.
 * The forked child builds the mount namespace, pivots into the root, takes the app's
 * credentials and execs the app.
 *
 * Unlike pod-stage1 it does not run from a sealed copy: the app holds every capability in
 * the host's namespaces and could replace any host binary anyway. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "isolator.h"
#include "log.h"
#include "manifest.h"
#include "path-resolve.h"
#include "path-util.h"
#include "podsummary.h"
#include "stage1.h"
#include "syscall.h"

#define ACE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void help(void) {
        printf("Usage: pod-stage1-fly [OPTIONS] UUID\n\n"
               "Runs the single app of the prepared pod UUID in a mount namespace of its own,\n"
               "otherwise as a host process (rkt's fly stage1); started by 'pod fly' or\n"
               "'pod run --stage1-from-dir=pod-stage1-fly' (see stage1/ABI.md).\n\n"
               "  --debug                 Verbose logging\n"
               "  --net=host              The only network (the host's)\n"
               "  --interactive           The app uses the terminal\n"
               "  --no-overlay            The app tree is a private copy\n"
               "  --resolv-conf=auto|host|none   /etc/resolv.conf: the host's, or the image's\n"
               "  --version               Print the version and ABI version\n");
}

static bool abi_ok(void) {
        const char *v = getenv("POD_STAGE1_ABI");
        char want[16];

        (void)snprintf(want, sizeof(want), "%d", STAGE1_ABI_VERSION);
        if (!v || streq(v, want))
                return true;
        log_error("The calling pod speaks stage1 ABI %s; this pod-stage1-fly speaks ABI %s: "
                  "install a matching pod and pod-stage1-fly",
                  v, want);
        return false;
}

static int refuse(const char *what) {
        return log_error_errno(-EINVAL,
                               "%s: the fly stage1 runs its app in the host's namespaces "
                               "(rkt fly), this cannot apply",
                               what);
}

/* The arguments of ABI.md "Invocation": those that describe an isolated pod are refused
 * (stage0 refuses them first for pod fly); the --disable-* ones are already the case. */
static int parse_argv(struct stage1_config *c, int argc, char *argv[]) {
        enum {
                ARG_DEBUG = 0x100,
                ARG_NET,
                ARG_INTERACTIVE,
                ARG_NO_OVERLAY,
                ARG_IGNORED,
                ARG_RESOLV_CONF,
                ARG_IPC,
                ARG_VERSION,
                ARG_REFUSED,
        };
        static const struct option options[] = {
                { "debug", no_argument, NULL, ARG_DEBUG },
                { "net", required_argument, NULL, ARG_NET },
                { "interactive", no_argument, NULL, ARG_INTERACTIVE },
                { "no-overlay", no_argument, NULL, ARG_NO_OVERLAY },
                { "disable-capabilities-restriction", no_argument, NULL, ARG_IGNORED },
                { "disable-paths", no_argument, NULL, ARG_IGNORED },
                { "disable-seccomp", no_argument, NULL, ARG_IGNORED },
                { "disable-device-policy", no_argument, NULL, ARG_IGNORED },
                { "resolv-conf", required_argument, NULL, ARG_RESOLV_CONF },
                { "ipc", required_argument, NULL, ARG_IPC },
                { "hostname", required_argument, NULL, ARG_REFUSED },
                { "port", required_argument, NULL, ARG_REFUSED },
                { "hosts-entry", required_argument, NULL, ARG_REFUSED },
                { "keep-unit", no_argument, NULL, ARG_REFUSED },
                { "no-keep-unit", no_argument, NULL, ARG_IGNORED },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int o, idx = 0;

        while ((o = getopt_long(argc, argv, "h", options, &idx)) >= 0)
                switch (o) {
                case ARG_DEBUG:
                        c->debug = true;
                        break;
                case ARG_NET:
                        if (!streq(optarg, "host"))
                                return log_error_errno(-EINVAL,
                                                       "--net=%s: the fly stage1 runs its app in "
                                                       "the host's network namespace "
                                                       "(--net=host only)",
                                                       optarg);
                        break;
                case ARG_INTERACTIVE:
                        c->interactive = true;
                        break;
                case ARG_NO_OVERLAY:
                        c->no_overlay = true;
                        break;
                case ARG_IGNORED:
                        break;
                case ARG_RESOLV_CONF:
                        if (streq(optarg, "auto") || streq(optarg, "host"))
                                c->resolv_conf = STAGE1_RESOLV_HOST;
                        else if (streq(optarg, "none"))
                                c->resolv_conf = STAGE1_RESOLV_NONE;
                        else
                                return refuse("--resolv-conf=pod (--dns)");
                        break;
                case ARG_IPC:
                        if (!streq(optarg, "parent") && !streq(optarg, "auto"))
                                return refuse("--ipc=private");
                        break;
                case ARG_REFUSED: {
                        char what[64];

                        (void)snprintf(what, sizeof(what), "--%s", options[idx].name);
                        return refuse(what);
                }
                case ARG_VERSION:
                        printf("pod-stage1-fly %s\nABI %d\n", PACKAGE_VERSION, STAGE1_ABI_VERSION);
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
                return log_error_errno(-EBADF, "POD_LOCK_FD is not set: run pods with 'pod fly'");
        errno = 0;
        fd = strtol(e, &end, 10);
        if (errno != 0 || *end != 0 || fd < 3 || fd > INT32_MAX || fcntl((int)fd, F_GETFD) < 0)
                return log_error_errno(-EBADF, "POD_LOCK_FD='%s' is not an open fd", e);
        /* Only this process holds it: the app must not (it would keep the pod "running"). */
        c->lock_fd = (int)fd;
        (void)unsetenv("POD_LOCK_FD");
        return fd_cloexec(c->lock_fd, true);
}

/* "pod-stage1-fly gc": a fly pod leaves nothing outside its pod dir (no network, cgroup or
 * unit), so there is nothing to release; the arguments are those of pod-stage1 gc. */
static int gc_main(int argc, char *argv[]) {
        int status = 0;

        for (int i = 1; i < argc; i++)
                if (strneq(argv[i], "--exit-status=", 14))
                        status = atoi(argv[i] + 14);
        return status;
}

static int push_env(char ***env, size_t *n, const char *name, const char *value) {
        char *s, **t;

        if (asprintf(&s, "%s=%s", name, value) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                if (strneq((*env)[i], s, strlen(name) + 1)) {
                        free((*env)[i]);
                        (*env)[i] = s;
                        return 0;
                }
        t = realloc(*env, (*n + 2) * sizeof(char *));
        if (!t) {
                free(s);
                return -ENOMEM;
        }
        t[(*n)++] = s;
        t[*n] = NULL;
        *env = t;
        return 0;
}

/* The same environment as pod-stage1's (ABI.md "What an app sees"), container=pod-fly. */
static int build_env(const struct stage1_config *c, const struct stage1_app *app, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        const char *term = getenv("TERM");
        size_t n = 0;
        int r = 0;

        r = r < 0 ? r : push_env(&env, &n, "PATH", ACE_PATH);
        r = r < 0 ? r : push_env(&env, &n, "AC_APP_NAME", app->name);
        r = r < 0 ? r : push_env(&env, &n, "container", "pod-fly");
        if (app->home)
                r = r < 0 ? r : push_env(&env, &n, "HOME", app->home);
        if (c->interactive && term)
                r = r < 0 ? r : push_env(&env, &n, "TERM", term);
        for (size_t i = 0; i < app->app->n_environment; i++)
                r = r < 0 ? r
                          : push_env(&env, &n, app->app->environment[i].name,
                                     app->app->environment[i].value);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

/* no_new_privs only when the image (or the pod manifest's app) asks for it. */
static bool wants_no_new_privs(const struct pod_app *a) {
        for (size_t i = 0; i < a->n_isolators; i++)
                if (a->isolators[i].type == POD_ISOLATOR_NO_NEW_PRIVILEGES)
                        return a->isolators[i].no_new_privileges;
        return false;
}

/* The child: mount namespace, root, credentials, exec.  Returns only on failure (the exit
 * status: 254, or 126/127 for an executable that cannot be run / is missing). */
static int run_app(struct stage1_config *c, struct stage1_app *app) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *root = NULL;
        _cleanup_close_ int root_fd = -EBADF, wd_fd = -EBADF, exec_fd = -EBADF;
        const char *wd = app->app->working_directory ?: "/";
        struct pod_error e = {};
        sigset_t none;
        struct stat st;
        int r, fd;

        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        /* The only namespace of its own: the mounts below must not reach the host's. */
        if (unshare(CLONE_NEWNS) < 0)
                return log_error_errno(-errno, "Failed to create a mount namespace: %m");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return log_error_errno(-errno, "Failed to make '/' private: %m");
        root = path_join(c->pod_dir, app->rootfs);
        if (!root)
                return log_error_errno(-ENOMEM, "Out of memory");
        r = stage1_mount_fly(c, app, root, &e);
        if (r >= 0)
                r = stage1_pivot(root, &e);
        if (r >= 0)
                r = stage1_caps_resolve_user(app, &e);
        if (r >= 0)
                r = stage1_mount_finish_app(c, app, "/", &e);
        if (r < 0)
                return log_pod_error(r, &e);
        if (!c->interactive) {
                (void)setsid();
                fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
                        return log_error_errno(-errno, "Failed to open /dev/null: %m");
                safe_close(fd);
        }
        r = build_env(c, app, &env);
        if (r < 0)
                return log_error_errno(r, "Failed to build the environment: %m");

        /* Paths of the image resolve inside its root (path-resolve.c). */
        root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return log_error_errno(-errno, "Failed to open the app's root: %m");
        wd_fd = pod_open_in_root(root_fd, wd, O_PATH | O_DIRECTORY);
        if (wd_fd < 0 || fchdir(wd_fd) < 0)
                return log_error_errno(wd_fd < 0 ? wd_fd : -errno,
                                       "App '%s': failed to enter working directory '%s': %m",
                                       app->name, wd);
        exec_fd = pod_open_in_root(root_fd, app->app->exec[0], O_PATH);
        if (exec_fd >= 0 && (fstat(exec_fd, &st) < 0 || !S_ISREG(st.st_mode)))
                exec_fd = safe_close(exec_fd), errno = EACCES;
        if (exec_fd < 0) {
                r = exec_fd == -ENOENT ? -ENOENT : -EACCES;
                log_error_errno(r, "App '%s': '%s' in the image: %m", app->name, app->app->exec[0]);
                return r == -ENOENT ? 127 : 126;
        }
        /* Nothing but stdin, stdout, stderr and the exec fd (which execveat needs) crosses:
         * not the lock, not the pod dir. */
        if (sys_close_range(3, (unsigned)exec_fd - 1, 0) < 0 ||
            sys_close_range((unsigned)exec_fd + 1, ~0U, 0) < 0)
                log_debug_errno(-errno, "close_range() failed, relying on close-on-exec: %m");
        root_fd = wd_fd = -EBADF; /* closed above (or close-on-exec) */

        c->disable_caps = true; /* every capability we hold; the bounding set untouched */
        app->no_new_privs = wants_no_new_privs(app->app);
        r = stage1_caps_apply(c, app, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        (void)sys_execveat(exec_fd, "", app->app->exec, env, AT_EMPTY_PATH);
        if (errno == ENOSYS || errno == ENOEXEC || errno == ENOENT)
                execve(app->app->exec[0], app->app->exec, env); /* a #! script: by its path */
        r = -errno;
        log_error_errno(r, "App '%s': failed to execute '%s': %m", app->name, app->app->exec[0]);
        return r == -ENOENT ? 127 : 126;
}

static int status_of(int wstatus) {
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        return EXIT_POD_FAILURE;
}

static int run(struct stage1_config *c) {
        struct stage1_app *app;
        struct pod_error e = {};
        sigset_t mask;
        char buf[32];
        pid_t pid;
        int r, status;

        r = take_lock_fd(c);
        if (r < 0)
                return r;
        c->pod_dir = getcwd(NULL, 0);
        if (!c->pod_dir)
                return log_error_errno(-errno, "Failed to get the pod directory: %m");
        c->pod_dir_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->pod_dir_fd < 0)
                return log_error_errno(-errno, "Failed to open the pod directory: %m");
        c->net = STAGE1_NET_HOST;
        r = stage1_config_load(c, &e);
        if (r >= 0 && c->n_apps != 1)
                r = pod_error_set(&e, -EINVAL,
                                  "The fly stage1 runs exactly one app; the pod has %zu",
                                  c->n_apps);
        if (r >= 0)
                r = stage1_config_prepare_pod_dir(c, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        app = &c->apps[0];
        if (c->has_memory_max || c->has_cpu_quota || c->cpu_shares || c->sysctl)
                log_notice("App '%s': resource and sysctl isolators are ignored by the fly "
                           "stage1 (rkt fly)",
                           app->name);

        (void)sigemptyset(&mask);
        (void)sigaddset(&mask, SIGCHLD);
        (void)sigaddset(&mask, SIGTERM);
        (void)sigaddset(&mask, SIGINT);
        (void)sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "Failed to block signals: %m");
        pid = fork();
        if (pid < 0)
                return log_error_errno(-errno, "Failed to fork: %m");
        if (pid == 0) {
                /* The app dies with us: nothing would record its status otherwise. */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                r = run_app(c, app);
                _exit(r < 0 ? EXIT_POD_FAILURE : r);
        }
        (void)snprintf(buf, sizeof(buf), "%d", (int)pid);
        r = stage1_write_file(c->pod_dir_fd, "pid", buf);
        if (r < 0) {
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                return log_error_errno(r, "Failed to write 'pid': %m");
        }
        /* "unit" and "net-info.json" are final now: note them and the start time in the
         * pod summary, which spares `pod list` three lookups per pod (src/podsummary.h).
         * Without it (no summary, a failure here) the list looks at the files instead. */
        r = pod_summary_add_run(c->pod_dir_fd);
        if (r < 0 && r != -ENOENT)
                (void)log_debug_errno(r, "Failed to note the run in '%s', ignoring: %m",
                                      POD_SUMMARY_FILE);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&mask, &si);

                if (sig < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(-errno, "Failed to wait for signals: %m");
                }
                if (sig != SIGCHLD) {
                        (void)kill(pid, sig);
                        continue;
                }
                r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        break;
        }
        status = status_of(status);
        /* As pod-stage1 records it (ABI.md "Written by stage1"): pod status and list read
         * it. */
        {
                _cleanup_free_ char *p = path_join("status", app->name);

                (void)snprintf(buf, sizeof(buf), "%d", status);
                r = p ? stage1_write_file(c->pod_dir_fd, p, buf) : -ENOMEM;
                if (r < 0)
                        log_error_errno(r, "Failed to record the status of app '%s': %m",
                                        app->name);
        }
        return status;
}

int main(int argc, char *argv[]) {
        struct stage1_config c = {
                .net = STAGE1_NET_HOST,
                .keep_unit = -1,
                .lock_fd = -EBADF,
                .pod_dir_fd = -EBADF,
                .ready_fd = -EBADF,
                .limit_init_fds = { -EBADF, -EBADF },
                .resolv_conf = STAGE1_RESOLV_HOST,
                .userns_fd = -EBADF, /* never a user namespace (0 would be taken for one) */
        };
        int r;

        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return EXIT_POD_FAILURE;
        log_parse_environment();
        log_set_prefix("pod-stage1-fly");
        if (argc >= 2 && streq(argv[1], "gc"))
                return abi_ok() ? gc_main(argc - 1, argv + 1) : EXIT_POD_FAILURE;
        if (argc >= 2 && streq(argv[1], "enter")) {
                log_error("pod enter: the fly stage1 has no pod to enter; its app is a host "
                          "process (use nsenter -m -t PID with the pod's pid)");
                return EXIT_POD_FAILURE;
        }
        r = parse_argv(&c, argc, argv);
        if (r <= 0 || !abi_ok()) {
                stage1_config_done(&c);
                return r < 0 || r > 0 ? EXIT_POD_FAILURE : 0;
        }
        if (c.debug)
                log_set_max_level(LOG_DEBUG);
        if (!uuid_valid(c.uuid)) {
                log_error("Invalid pod UUID '%s'", c.uuid);
                return EXIT_POD_FAILURE;
        }
        r = run(&c);
        stage1_config_done(&c);
        safe_close(c.pod_dir_fd);
        return r < 0 ? EXIT_POD_FAILURE : r;
}
