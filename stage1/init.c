/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod's PID 1.  It lives in the pod-level mount namespace (a private copy of the host's,
 * see ns.c), builds one mount namespace per app (mount.c, dev.c, pivot.c) and keeps it
 * open by fd, so that pre-start, main and post-stop of an app all run in the same fresh
 * rootfs: each is forked from here, setns()es into its app's namespace and drops
 * privileges (caps.c, seccomp.c) before execve().
 *
 * As PID 1 it reaps every orphan of the pod, and the kernel delivers to it only signals it
 * handles: SIGTERM, SIGINT and SIGHUP are read from a signalfd and forwarded to every running
 * app process.  When all apps (and their post-stop handlers) have exited, init exits and the
 * kernel kills whatever is left in the namespace.
 *
 * Exit statuses go to $poddir/status/<app> (decimal text; 128+N when killed by signal N),
 * written through the pod dir fd, outside every overlay, so they survive the pod's
 * unmounting.  init's own exit status is the first non-zero status in the order the apps
 * exited (0 if all succeeded), or 254 when the pod could not be set up. */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "manifest.h"
#include "path-resolve.h"
#include "path-util.h"
#include "stage1.h"
#include "syscall.h"

#define ACE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum app_phase { PHASE_PRE_START, PHASE_MAIN, PHASE_POST_STOP, PHASE_DONE };

struct app_run {
        enum app_phase phase;
        pid_t pid; /* of the process of the current phase, 0 if none */
        int status;
};

static int status_of(int wstatus) {
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        return EXIT_POD_FAILURE;
}

/* An exec or event handler path of the app: a regular file in the image, reached without
 * leaving it (path-resolve.c).  Checked once here for a clear error (exit 254) before any
 * process starts; exec_in_app() resolves it again, to the fd it executes.  A handler that
 * does not exist yet may be created by the app before it runs (it then fails with 127 if
 * it still does not exist); a path that leaves the image fails now. */
static int check_exec(const struct stage1_app *app, int root_fd, char **argv, const char *what,
                      bool may_be_missing, struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (!argv)
                return 0;
        if (!argv[0])
                return pod_error_set(reterr, -EINVAL, "App '%s' has nothing to exec", app->name);
        fd = pod_open_in_root(root_fd, argv[0], O_PATH);
        if (fd == -ENOENT && may_be_missing)
                return 0;
        if (fd < 0)
                return pod_error_set(reterr, fd, "App '%s': %s '%s' in the image: %m", app->name,
                                     what, argv[0]);
        if (fstat(fd, &st) < 0)
                return pod_error_set(reterr, -errno, "App '%s': %s '%s': %m", app->name, what,
                                     argv[0]);
        if (!S_ISREG(st.st_mode))
                return pod_error_set(reterr, -EACCES,
                                     "App '%s': %s '%s' is not a regular file in the image",
                                     app->name, what, argv[0]);
        return 0;
}

/* Builds one app's mount namespace, leaving init where it was.  On return app->mntns_fd
 * holds the namespace. */
static int setup_app(const struct stage1_config *c, struct stage1_app *app, int base_ns,
                     struct pod_error *reterr) {
        _cleanup_free_ char *root = NULL;
        _cleanup_close_ int root_fd = -EBADF, wd_fd = -EBADF;
        const char *wd = app->app->working_directory ?: "/";
        int r;

        root = path_join(c->pod_dir, app->rootfs);
        if (!root)
                return -ENOMEM;
        /* A copy of the pod's namespace; everything in it is private (ns.c). */
        if (unshare(CLONE_NEWNS) < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to create the mount namespace of "
                                     "app '%s': %m",
                                     app->name);
        r = stage1_mount_app(c, app, root, reterr);
        if (r >= 0)
                r = stage1_notify_mount_app(c, app, root, reterr);
        if (r < 0)
                return r;
        r = stage1_pivot(root, reterr);
        if (r < 0)
                return r;

        /* Inside the app's root now: resolve against the image, not the host, and never
         * through a /proc magic link (path-resolve.c). */
        root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open the root of app '%s': %m",
                                     app->name);
        r = stage1_caps_resolve_user(app, reterr);
        if (r < 0)
                return r;
        wd_fd = pod_open_in_root(root_fd, wd, O_PATH | O_DIRECTORY);
        if (wd_fd == -ENOENT || wd_fd == -ENOTDIR)
                return pod_error_set(reterr, -ENOENT,
                                     "App '%s': working directory '%s' does not exist in the image",
                                     app->name, wd);
        if (wd_fd < 0)
                return pod_error_set(reterr, wd_fd,
                                     "App '%s': working directory '%s' in the image: %m", app->name,
                                     wd);
        if (!app->app->exec || !app->app->exec[0])
                return pod_error_set(reterr, -EINVAL, "App '%s' has nothing to exec", app->name);
        r = check_exec(app, root_fd, app->app->exec, "executable", false, reterr);
        if (r >= 0)
                r = check_exec(app, root_fd, app->app->pre_start, "pre-start handler", true,
                               reterr);
        if (r >= 0)
                r = check_exec(app, root_fd, app->app->post_stop, "post-stop handler", true,
                               reterr);
        if (r < 0)
                return r;
        r = stage1_mount_finish_app(c, app, "/", reterr);
        if (r < 0)
                return r;

        app->mntns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (app->mntns_fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open the mount namespace: %m");
        /* Back to the pod-level namespace: setns() also resets root and cwd to its root. */
        if (setns(base_ns, CLONE_NEWNS) < 0)
                return pod_error_set(reterr, -errno, "Failed to return to the pod namespace: %m");
        return 0;
}

/* "app-mntns" in the pod dir (ABI.md "Written by stage1"): "<app> <st_dev>:<st_ino>" of
 * each app's mount namespace, the identity by which "pod-stage1 enter" finds the app's
 * processes (enter.h), rather than by anything an app can write. */
static int record_mntns(const struct stage1_config *c) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_apps; i++) {
                struct stat st;

                if (fstat(c->apps[i].mntns_fd, &st) < 0) {
                        int r = -errno;
                        (void)fclose(f);
                        return r;
                }
                fprintf(f, "%s %llu:%llu\n", c->apps[i].name, (unsigned long long)st.st_dev,
                        (unsigned long long)st.st_ino);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return stage1_write_file(c->pod_dir_fd, "app-mntns", text);
}

static int strv_push_env(char ***env, size_t *n, const char *name, const char *value) {
        char *s, **t;

        if (asprintf(&s, "%s=%s", name, value) < 0)
                return -ENOMEM;
        /* Later entries override earlier ones (ACE precedence: image env, then overrides). */
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

static int build_env(const struct stage1_config *c, const struct stage1_app *app, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        const char *term = getenv("TERM");
        size_t n = 0;
        int r = 0;

        r = r < 0 ? r : strv_push_env(&env, &n, "PATH", ACE_PATH);
        r = r < 0 ? r : strv_push_env(&env, &n, "AC_APP_NAME", app->name);
        r = r < 0 ? r : strv_push_env(&env, &n, "container", "pod");
        if (app->home)
                r = r < 0 ? r : strv_push_env(&env, &n, "HOME", app->home);
        if (c->interactive && term)
                r = r < 0 ? r : strv_push_env(&env, &n, "TERM", term);
        for (size_t i = 0; i < app->app->n_environment; i++)
                r = r < 0 ? r
                          : strv_push_env(&env, &n, app->app->environment[i].name,
                                          app->app->environment[i].value);
        /* Ours, not the image's: where our metadata service listens (mds.c; ace.md: for the
         * main process and both event handlers) and the socket stage1 listens on (notify.c). */
        if (c->mds_url)
                r = r < 0 ? r : strv_push_env(&env, &n, "AC_METADATA_URL", c->mds_url);
        if (c->notify_apps)
                r = r < 0 ? r : strv_push_env(&env, &n, "NOTIFY_SOCKET", STAGE1_NOTIFY_PATH);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

/* Closes every fd from first on, for real: an fd merely marked close-on-exec stays
 * reachable through /proc/PID/fd until the execve() (runc CVE-2024-21626). */
static int close_fds_from(int first) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (sys_close_range((unsigned)first, ~0U, 0) >= 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        /* Kernel < 5.9: walk our fds. */
        d = opendir("/proc/self/fd");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                int fd = atoi(de->d_name);
                if (de->d_name[0] != '.' && fd >= first && fd != dirfd(d))
                        (void)close(fd);
        }
        return 0;
}

/* Resolves the exec path inside the app's root, to the fd that is executed.  *ret_script:
 * the file starts with "#!" (see exec_app()). */
static int open_exec(int root_fd, const char *path, bool *ret_script) {
        _cleanup_close_ int fd = -EBADF, rfd = -EBADF;
        struct stat st, rst;
        char magic[2];

        fd = pod_open_in_root(root_fd, path, O_PATH);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EACCES;
        *ret_script = false;
        /* Still privileged: reading needs no permission the app may lack. */
        rfd = pod_open_in_root(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (rfd >= 0) {
                if (fstat(rfd, &rst) < 0)
                        return -errno;
                if (rst.st_dev != st.st_dev || rst.st_ino != st.st_ino)
                        return -EAGAIN; /* swapped between the two lookups */
                *ret_script = pread(rfd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!';
        }
        return TAKE_FD(fd);
}

/* Once the app's credentials are in place, right before the exec: this process must not be
 * reachable through /proc by the app's other processes (the credential switch may have reset
 * "dumpable" to fs.suid_dumpable), and its cwd must still be inside the app's root (a
 * directory moved out from under a bind mount would leave it outside: getcwd(3) then fails
 * with ENOENT, the kernel's "(unreachable)"). */
static int check_before_exec(const struct stage1_app *app, struct pod_error *reterr) {
        char buf[4096];

        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to make the process non-dumpable: %m");
        if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
                return pod_error_set(reterr, errno == ERANGE ? -ERANGE : -ENOENT,
                                     "App '%s': the working directory is not inside the app's "
                                     "root",
                                     app->name);
        return 0;
}

/* The exec itself.  An ELF binary is executed through the fd that was resolved inside the
 * root (execveat(AT_EMPTY_PATH)), so no path is looked up again.  A "#!" script cannot be:
 * the kernel hands the interpreter "/dev/fd/N" for it, which is gone (close-on-exec, and
 * close_fds_from() would close it anyway), and keeping it open would hand the app an extra fd
 * and change its $0.  A script is executed by its path instead, which is safe because this
 * runs after every credential change, the capability drop and the seccomp filter: the kernel
 * resolves it (and the interpreter later opens it) as the app, with exactly the access the
 * app itself has, and stage1's own processes are out of its reach (non-dumpable, more
 * capabilities: ABI.md "Process hardening"); the fd lookup before proved it resolves inside
 * the image.  ENOSYS or EPERM (a seccomp remove set naming execveat) fall back the same
 * way. */
static int exec_app(int exec_fd, bool script, char **argv, char **env) {
        if (!script) {
                (void)sys_execveat(exec_fd, "", argv, env, AT_EMPTY_PATH);
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
        }
        execve(argv[0], argv, env);
        return -errno;
}

/* The forked child: enter the app, drop everything, exec.  Never returns.  It is
 * non-dumpable from birth (inherited from stage1's first line, main.c) and holds at the exec
 * only stdin, stdout, stderr, the app's sockets and the exec fd (resolved inside the app's
 * root): no pod dir, lock, namespace or cgroup fd, whatever an app of the pod races for
 * through /proc/PID/fd. */
_noreturn_ static void exec_in_app(const struct stage1_config *c, const struct stage1_app *app,
                                   char **argv) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_close_ int root_fd = -EBADF, wd_fd = -EBADF;
        struct pod_error e = {};
        const char *wd = app->app->working_directory ?: "/";
        sigset_t all;
        bool script = false;
        int r, fd, exec_fd, n_keep = 3;

        (void)sigemptyset(&all);
        (void)sigprocmask(SIG_SETMASK, &all, NULL);

        /* Into the app's own cgroup first, so that all it allocates is charged there. */
        if (app->cgroup_fd >= 0 && write(app->cgroup_fd, "0", 1) != 1) {
                log_error_errno(-errno, "App '%s': failed to enter its cgroup: %m", app->name);
                _exit(EXIT_POD_FAILURE);
        }
        r = stage1_limits_enter_app(app);
        if (r < 0) {
                log_error_errno(r, "App '%s': failed to enter its limit cgroups: %m", app->name);
                _exit(EXIT_POD_FAILURE);
        }

        /* Also resets root and cwd to the app's root. */
        if (setns(app->mntns_fd, CLONE_NEWNS) < 0) {
                log_error_errno(-errno, "App '%s': failed to enter its mount namespace: %m",
                                app->name);
                _exit(EXIT_POD_FAILURE);
        }
        /* Own session: a terminal's ^C reaches stage1, which forwards it once. */
        if (!c->interactive) {
                (void)setsid();
                fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0 || dup2(fd, STDIN_FILENO) < 0) {
                        log_error_errno(-errno, "App '%s': failed to open /dev/null: %m",
                                        app->name);
                        _exit(EXIT_POD_FAILURE);
                }
        }
        if (app->log_fd >= 0 &&
            (dup2(app->log_fd, STDOUT_FILENO) < 0 || dup2(app->log_fd, STDERR_FILENO) < 0)) {
                log_error_errno(-errno, "App '%s': failed to connect its journal stream: %m",
                                app->name);
                _exit(EXIT_POD_FAILURE);
        }
        if (app->has_oom_score_adj) {
                char buf[16];

                (void)snprintf(buf, sizeof(buf), "%d", app->oom_score_adj);
                fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                r = fd < 0 ? -errno : loop_write(fd, buf, strlen(buf));
                safe_close(fd);
                if (r < 0) {
                        log_error_errno(r, "App '%s': failed to set oom_score_adj: %m", app->name);
                        _exit(EXIT_POD_FAILURE);
                }
        }
        r = build_env(c, app, &env);
        if (r < 0) {
                log_error_errno(r, "App '%s': failed to build the environment: %m", app->name);
                _exit(EXIT_POD_FAILURE);
        }
        /* Socket activation: the main process only, before a seccomp filter could deny
         * dup2(); LISTEN_PID is our PID in the pod's PID namespace (listen.c). */
        if (argv == app->app->exec) {
                _cleanup_free_ char *names = NULL;
                size_t n_env = 0;
                char num[16];
                int k = stage1_listen_install(c, app, &names);

                while (env && env[n_env])
                        n_env++;
                if (k > 0) {
                        n_keep += k;
                        (void)snprintf(num, sizeof(num), "%d", k);
                        k = strv_push_env(&env, &n_env, "LISTEN_FDS", num);
                }
                if (k >= 0 && names)
                        k = strv_push_env(&env, &n_env, "LISTEN_FDNAMES", names);
                if (k >= 0 && names) {
                        (void)snprintf(num, sizeof(num), "%d", (int)getpid());
                        k = strv_push_env(&env, &n_env, "LISTEN_PID", num);
                }
                if (k < 0) {
                        log_error_errno(k, "App '%s': failed to pass its sockets: %m", app->name);
                        _exit(EXIT_POD_FAILURE);
                }
        }
        /* --private-users: into the pod's user namespace, last of all namespaces (the others
         * stay owned by the host's), before the app's credentials (userns.c). */
        r = stage1_userns_join(c);
        if (r < 0) {
                log_error_errno(r, "App '%s': failed to join the pod's user namespace: %m",
                                app->name);
                _exit(EXIT_POD_FAILURE);
        }
        /* Only stdin, stdout, stderr and the app's sockets cross into the app: the pod dir,
         * the lock, every app's mount namespace, the cgroup fds, the sealed supervisor copy
         * and whatever stage0's caller left open are closed now, not at the exec. */
        r = close_fds_from(n_keep);
        if (r < 0) {
                log_error_errno(r, "App '%s': failed to close inherited fds: %m", app->name);
                _exit(EXIT_POD_FAILURE);
        }

        /* Working directory and executable: resolved inside the app's root to fds, never
         * through a magic link, and used only through them (path-resolve.c). */
        root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                log_error_errno(-errno, "App '%s': failed to open its root: %m", app->name);
                _exit(EXIT_POD_FAILURE);
        }
        wd_fd = pod_open_in_root(root_fd, wd, O_PATH | O_DIRECTORY);
        if (wd_fd < 0 || fchdir(wd_fd) < 0) {
                log_error_errno(wd_fd < 0 ? wd_fd : -errno,
                                "App '%s': failed to enter working directory '%s': %m", app->name,
                                wd);
                _exit(EXIT_POD_FAILURE);
        }
        wd_fd = safe_close(wd_fd);
        exec_fd = open_exec(root_fd, argv[0], &script);
        if (exec_fd < 0) {
                log_error_errno(exec_fd, "App '%s': failed to open '%s' in the image: %m",
                                app->name, argv[0]);
                _exit(exec_fd == -ENOENT ? 127 : 126);
        }
        root_fd = safe_close(root_fd);

        /* With no_new_privs off, loading a filter needs CAP_SYS_ADMIN: do it while we still
         * have it (seccomp.c then allows the calls that follow). */
        if (!app->no_new_privs) {
                r = stage1_seccomp_apply(c, app, &e);
                if (r >= 0)
                        r = stage1_caps_apply(c, app, &e);
                if (r >= 0)
                        r = check_before_exec(app, &e);
        } else {
                r = stage1_caps_apply(c, app, &e);
                if (r >= 0)
                        r = check_before_exec(app, &e);
                if (r >= 0)
                        r = stage1_seccomp_apply(c, app, &e);
        }
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "App '%s'", app->name);
                log_pod_error(r, &e);
                _exit(EXIT_POD_FAILURE);
        }

        r = exec_app(exec_fd, script, argv, env);
        log_error_errno(r, "App '%s': failed to execute '%s': %m", app->name, argv[0]);
        _exit(r == -ENOENT ? 127 : 126);
}

static pid_t spawn(const struct stage1_config *c, const struct stage1_app *app, char **argv) {
        pid_t pid;

        log_debug("App '%s': starting '%s'", app->name, argv[0]);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                exec_in_app(c, app, argv);
        return pid;
}

static void write_status(const struct stage1_config *c, const struct stage1_app *app, int status) {
        _cleanup_free_ char *p = NULL;
        char buf[16];
        int r;

        (void)snprintf(buf, sizeof(buf), "%d", status);
        p = path_join("status", app->name);
        r = p ? stage1_write_file(c->pod_dir_fd, p, buf) : -ENOMEM;
        if (r < 0)
                log_warning_errno(r, "Failed to record the status of app '%s', ignoring: %m",
                                  app->name);
}

/* Moves app i to its next phase after its current process exited with status. */
static void advance(const struct stage1_config *c, struct app_run *run, size_t i, int status,
                    int *first_failure) {
        const struct stage1_app *app = &c->apps[i];
        struct app_run *a = &run[i];
        pid_t pid;

        a->pid = 0;
        switch (a->phase) {
        case PHASE_PRE_START:
                if (status != 0) {
                        log_error("App '%s': pre-start handler failed with status %d", app->name,
                                  status);
                        a->status = status;
                        write_status(c, app, status);
                        if (*first_failure == 0)
                                *first_failure = status;
                        a->phase = PHASE_DONE;
                        return;
                }
                a->phase = PHASE_MAIN;
                pid = spawn(c, app, app->app->exec);
                break;
        case PHASE_MAIN:
                log_debug("App '%s' exited with status %d", app->name, status);
                a->status = status;
                write_status(c, app, status);
                if (status != 0 && *first_failure == 0)
                        *first_failure = status;
                if (!app->app->post_stop) {
                        a->phase = PHASE_DONE;
                        return;
                }
                a->phase = PHASE_POST_STOP;
                pid = spawn(c, app, app->app->post_stop);
                break;
        default:
                if (status != 0)
                        log_warning("App '%s': post-stop handler failed with status %d", app->name,
                                    status);
                a->phase = PHASE_DONE;
                return;
        }
        if (pid < 0) {
                log_error_errno(pid, "App '%s': failed to fork: %m", app->name);
                advance(c, run, i, EXIT_POD_FAILURE, first_failure);
                return;
        }
        a->pid = pid;
}

static void start(const struct stage1_config *c, struct app_run *run, size_t i,
                  int *first_failure) {
        const struct stage1_app *app = &c->apps[i];
        pid_t pid;

        /* ACE: pre-start runs to completion before main, in the same fresh rootfs. */
        if (app->app->pre_start) {
                run[i].phase = PHASE_PRE_START;
                pid = spawn(c, app, app->app->pre_start);
        } else {
                run[i].phase = PHASE_MAIN;
                pid = spawn(c, app, app->app->exec);
        }
        if (pid < 0) {
                log_error_errno(pid, "App '%s': failed to fork: %m", app->name);
                run[i].phase = PHASE_MAIN;
                advance(c, run, i, EXIT_POD_FAILURE, first_failure);
                return;
        }
        run[i].pid = pid;
}

/* Once every app's main process runs and none has a post-stop handler left to start, the
 * init only reaps, forwards signals and records statuses: pod-stage1-supervise --init does
 * that without keeping this binary's libraries mapped for the pod's life.  Returns only if
 * the exec failed (the caller then carries on itself). */
static int hand_over(const struct stage1_config *c, const struct app_run *run, int first_failure) {
        _cleanup_strv_free_ char **argv = NULL;
        size_t n = 0;
        int r;

        for (size_t i = 0; i < c->n_apps; i++)
                if (run[i].phase == PHASE_PRE_START ||
                    (run[i].phase == PHASE_MAIN && c->apps[i].app->post_stop) ||
                    run[i].phase == PHASE_POST_STOP)
                        return 0;
        argv = calloc(c->n_apps + 5, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        if (!(argv[n++] = strdup("pod-stage1-supervise")) || !(argv[n++] = strdup("--init")) ||
            asprintf(&argv[n++], "%d", c->pod_dir_fd) < 0 ||
            asprintf(&argv[n++], "%d", first_failure) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_apps; i++)
                if (run[i].phase == PHASE_MAIN &&
                    asprintf(&argv[n++], "%s=%d/%d", c->apps[i].name, (int)run[i].pid,
                             c->apps[i].stop_signal) < 0)
                        return -ENOMEM;

        /* The pod dir fd (for status files) and the lock cross the exec; the app mount
         * namespace fds do not: the apps' processes hold their namespaces themselves. */
        r = fd_cloexec(c->pod_dir_fd, false);
        if (r >= 0)
                r = fd_cloexec(c->lock_fd, false);
        if (r < 0)
                return r;
        /* The sealed copy made before the init was forked (selfexec.c): the apps see
         * PID 1's /proc/1/exe, which must not be the host's file. */
        r = stage1_supervisor_exec(argv);
        (void)fd_cloexec(c->pod_dir_fd, true);
        (void)fd_cloexec(c->lock_fd, true);
        return r;
}

/* Tells the host side (hostwait.c) that every app's main process has been started (none
 * is left in its pre-start phase): READY=1 for a Type=notify service whose apps do not
 * speak sd_notify themselves.  Once, before the hand-over. */
static void signal_started(struct stage1_config *c, const struct app_run *run) {
        if (c->ready_fd < 0)
                return;
        for (size_t i = 0; i < c->n_apps; i++)
                if (run[i].phase == PHASE_PRE_START)
                        return;
        if (write(c->ready_fd, "S", 1) != 1)
                log_warning_errno(-errno, "Failed to report the apps as started, ignoring: %m");
        c->ready_fd = safe_close(c->ready_fd);
}

static int supervise(struct stage1_config *c, int sfd) {
        _cleanup_free_ struct app_run *run = NULL;
        bool handover_failed = false;
        int first_failure = 0;

        run = calloc(c->n_apps, sizeof(*run));
        if (!run)
                return log_error_errno(-ENOMEM, "Out of memory"), EXIT_POD_FAILURE;
        for (size_t i = 0; i < c->n_apps; i++)
                start(c, run, i, &first_failure);

        for (;;) {
                struct signalfd_siginfo si;
                bool running = false;
                ssize_t k;

                for (size_t i = 0; i < c->n_apps; i++)
                        running = running || run[i].phase != PHASE_DONE;
                if (!running)
                        break;
                signal_started(c, run);
                if (!handover_failed) {
                        int r = hand_over(c, run, first_failure);
                        if (r < 0)
                                log_debug_errno(r, "Failed to execute pod-stage1-supervise, "
                                                   "supervising in place: %m");
                        handover_failed = r < 0;
                }

                k = read(sfd, &si, sizeof(si));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k != sizeof(si)) {
                        log_error_errno(-errno, "Failed to read the signalfd: %m");
                        return EXIT_POD_FAILURE;
                }
                if (si.ssi_signo != SIGCHLD) {
                        log_debug("Forwarding signal %u to the apps", si.ssi_signo);
                        /* SIGTERM (pod stop) is the app's stop signal (Docker's
                         * StopSignal; SIGTERM unless the image says otherwise). */
                        for (size_t i = 0; i < c->n_apps; i++)
                                if (run[i].pid > 0)
                                        (void)kill(run[i].pid, si.ssi_signo == SIGTERM
                                                                       ? c->apps[i].stop_signal
                                                                       : (int)si.ssi_signo);
                        continue;
                }
                /* One SIGCHLD may stand for many exits: reap until nothing is left. */
                for (;;) {
                        int ws;
                        pid_t pid = waitpid(-1, &ws, WNOHANG);

                        if (pid <= 0)
                                break;
                        for (size_t i = 0; i < c->n_apps; i++)
                                if (run[i].pid == pid) {
                                        advance(c, run, i, status_of(ws), &first_failure);
                                        break;
                                }
                        /* Anything else is an orphan re-parented to us: reaped, forgotten. */
                }
        }
        return first_failure;
}

int stage1_init_main(struct stage1_config *c, int sync_fd) {
        _cleanup_close_ int base_ns = -EBADF, sfd = -EBADF;
        struct pod_error e = {};
        sigset_t mask;
        char go;
        int r;

        log_set_prefix("pod-stage1(init)");
        /* /proc/1/comm of the pod: what it is, whatever name the process image it was forked
         * from ended up with (a sealed memfd copy is named after its fd or the memfd). */
        (void)prctl(PR_SET_NAME, "pod-stage1", 0, 0, 0);
        /* PR_SET_PDEATHSIG: set right after the fork (ns.c). */

        /* Block before anything can be forked, so that no exit or signal is lost. */
        (void)sigemptyset(&mask);
        (void)sigaddset(&mask, SIGCHLD);
        (void)sigaddset(&mask, SIGTERM);
        (void)sigaddset(&mask, SIGINT);
        (void)sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return EXIT_POD_FAILURE;
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0)
                return log_error_errno(-errno, "Failed to create a signalfd: %m"), EXIT_POD_FAILURE;

        /* Wait for the parent: pid file written, scope and machine registered. */
        if (read(sync_fd, &go, 1) != 1)
                return EXIT_POD_FAILURE;
        sync_fd = safe_close(sync_fd);

        r = stage1_ns_setup_init(c, &e);
        if (r >= 0)
                r = stage1_ns_apply_sysctl(c, &e);
        /* In the pod's network namespace, before any app exists (mds.c). */
        if (r >= 0)
                r = stage1_mds_start(c, &e);
        explicit_bzero(c->mds_key, sizeof(c->mds_key));
        if (r < 0)
                return log_pod_error(r, &e), EXIT_POD_FAILURE;
        base_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (base_ns < 0)
                return log_error_errno(-errno, "Failed to open the pod mount namespace: %m"),
                       EXIT_POD_FAILURE;

        for (size_t i = 0; i < c->n_apps; i++) {
                r = setup_app(c, &c->apps[i], base_ns, &e);
                if (r < 0)
                        return log_pod_error(r, &e), EXIT_POD_FAILURE;
        }
        r = record_mntns(c);
        if (r < 0)
                return log_error_errno(r, "Failed to write 'app-mntns': %m"), EXIT_POD_FAILURE;
        return supervise(c, sfd);
}
