/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-stage1 enter [--debug] [--app=NAME] UUID [--] CMD [ARGS...], cwd = the pod directory
 * (ABI.md "enter"): runs CMD inside the running pod as one of its apps (enter.h says what is
 * joined and in which order; enter-target.c finds the app's process).  The app's seccomp
 * filter is rebuilt from the pod manifest by the same code that built it for the app
 * (config.c reads the isolators, seccomp.c builds the filter).
 *
 * Every process of enter is a hostile app's target once it is in the pod's PID namespace,
 * so (STYLE.md section 8): this binary runs from a sealed memfd copy (selfexec.c), is not
 * dumpable from its first lines (no /proc/PID/fd, exe, cwd, root for the pod's processes,
 * nor ptrace), closes every fd it inherited above 2 at once, drops the pod dir fd and its
 * cwd in the pod dir before it forks, and the process that enters the pod's PID namespace
 * closes every fd above 2 (a real close) before it touches anything else. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cap-util.h"
#include "enter.h"
#include "fd-util.h"
#include "log.h"
#include "poddir.h"
#include "stage1.h"
#include "syscall.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))

/* The order of stage1_enter_target.ns_fds. */
static const char *const ns_names[] = { "ipc", "uts", "net", "pid", "mnt" };
static const int ns_types[] = { CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID,
                                CLONE_NEWNS };

/* Closes (not merely marks close-on-exec) every fd above 2. */
static void close_all_fds(void) {
        struct rlimit rl;

        if (sys_close_range(3, ~0U, 0) >= 0)
                return;
        /* Kernel < 5.9: one by one, up to the hard limit on fds (bounded: 1 << 20). */
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max == RLIM_INFINITY ||
            rl.rlim_max > (1u << 20))
                rl.rlim_max = 1u << 20;
        for (int fd = 3; fd < (int)rl.rlim_max; fd++)
                (void)close(fd);
}

/* The app's credentials and capability sets, exactly as /proc showed them. */
static int apply_credentials(const struct stage1_enter_target *t, struct pod_error *reterr) {
        uint64_t have = 0;
        int r, last = pod_cap_last();

        r = pod_cap_get_permitted(&have);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read our capabilities: %m");
        if ((t->cap_prm & ~have) || (t->cap_eff & ~have) || (t->cap_inh & ~have))
                return pod_error_set(reterr, -EPERM,
                                     "The app holds capabilities we lack (%#" PRIx64
                                     "): run pod enter as root",
                                     (t->cap_prm | t->cap_eff | t->cap_inh) & ~have);

        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to set keepcaps: %m");
        if (setgroups(t->n_groups, t->groups) < 0)
                return pod_error_set(reterr, -errno, "Failed to set supplementary groups: %m");
        if (setresgid(t->gid[0], t->gid[1], t->gid[2]) < 0)
                return pod_error_set(reterr, -errno, "Failed to set gid %u: %m",
                                     (unsigned)t->gid[1]);
        if (setresuid(t->uid[0], t->uid[1], t->uid[2]) < 0)
                return pod_error_set(reterr, -errno, "Failed to set uid %u: %m",
                                     (unsigned)t->uid[1]);
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to clear keepcaps: %m");
        /* The uid change cleared the effective set; dropping from the bounding set needs
         * CAP_SETPCAP in it. */
        if (pod_cap_set(have, have, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to restore capabilities: %m");
        for (int cap = 0; cap <= last; cap++)
                if (!(t->cap_bnd & CAP_BIT(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        return pod_error_set(reterr, -errno,
                                             "Failed to drop capability %d from the bounding "
                                             "set: %m",
                                             cap);
        if (pod_cap_set(t->cap_eff, t->cap_prm, t->cap_inh) < 0)
                return pod_error_set(reterr, -errno, "Failed to set capabilities: %m");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return pod_error_set(reterr, -errno, "Failed to clear ambient capabilities: %m");
        for (int cap = 0; cap <= last; cap++)
                if ((t->cap_amb & CAP_BIT(cap)) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
                        return pod_error_set(reterr, -errno,
                                             "Failed to raise ambient capability %d: %m", cap);
        /* A uid change resets "dumpable" to fs.suid_dumpable, which a host may have set to 1:
         * stay out of reach of the app's processes until the exec. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to make us non-dumpable: %m");
        if (t->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to set no_new_privs: %m");
        return 0;
}

static int set_term(char ***env, const char *term) {
        size_t n = 0;
        char **l, *s;

        if (!term)
                return 0;
        s = strdup(term);
        if (!s)
                return -ENOMEM;
        for (l = *env; l && *l; l++, n++)
                if (strneq(*l, "TERM=", 5)) {
                        free(*l);
                        *l = s;
                        return 0;
                }
        l = reallocarray(*env, n + 2, sizeof(*l));
        if (!l) {
                free(s);
                return -ENOMEM;
        }
        l[n] = s;
        l[n + 1] = NULL;
        *env = l;
        return 0;
}

/* The command's process: in every namespace of the pod from birth, so visible to the pod's
 * processes.  Never returns; an error goes to the shared mapping err. */
_noreturn_ static void child(struct stage1_enter_target *t, char *const *argv,
                             stage1_enter_seccomp_fn seccomp, void *userdata,
                             struct pod_error *err) {
        extern char **environ;
        struct pod_error e = {};
        sigset_t none;
        int r = 0;

        /* The joiner closed everything already; this is the process the pod can see. */
        close_all_fds();
        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)signal(SIGINT, SIG_DFL);
        (void)signal(SIGQUIT, SIG_DFL);
        (void)signal(SIGTERM, SIG_DFL);
        (void)signal(SIGHUP, SIG_DFL);
        /* Ask to die with pod enter: a command left behind would escape its waiter. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

        /* setns(CLONE_NEWNS) already set root and cwd to the app's root: be explicit. */
        if (chdir("/") < 0)
                r = pod_error_set(&e, -errno, "Failed to change to '/': %m");
        if (r >= 0 && !t->no_new_privs) {
                if (t->seccomp_mode != 0)
                        r = seccomp(t, userdata, &e);
                if (r >= 0)
                        r = apply_credentials(t, &e);
        } else if (r >= 0) {
                r = apply_credentials(t, &e);
                if (r >= 0 && t->seccomp_mode != 0)
                        r = seccomp(t, userdata, &e);
        }
        if (r >= 0) {
                /* Not dumpable until here (set at our start, kept across fork and the
                 * credential changes); execve() makes the command dumpable as any process
                 * of the app, with nothing of ours left in it. */
                environ = t->env;
                execvp(argv[0], argv);
                r = pod_error_set(&e, -errno, "Failed to execute '%s': %m", argv[0]);
        }
        *err = e;
        _exit(r == -ENOENT ? 127 : 126);
}

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig) {
        if (child_pid > 0)
                (void)kill(child_pid, sig);
}

_noreturn_ static void joiner_fail(struct pod_error *err, const struct pod_error *e) {
        *err = *e;
        _exit(EXIT_POD_FAILURE);
}

/* The intermediate process: joins the app's cgroup and the namespaces (the caller never
 * does: it stays in its own, where sanitizers and anything else at its exit still find
 * their /proc), forks the command into the pod's PID namespace, waits for it and exits with
 * its status.  It is not in the pod's PID namespace itself. */
_noreturn_ static void joiner(struct stage1_enter_target *t, char *const *argv,
                              stage1_enter_seccomp_fn seccomp, void *userdata,
                              struct pod_error *err) {
        struct pod_error e = {};
        int status;
        pid_t pid;

        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* The app's cgroup ("0" = the writer), here, so that the command is born in it and
         * never holds the fd of the host's cgroup directory.  Its limits bind the command. */
        if (t->cgroup_fd >= 0) {
                int fd = openat(t->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
                int r = fd < 0 ? -errno : loop_write(fd, "0", 1);

                safe_close(fd);
                /* Rootless: moving into the pod's cgroup needs write access to the common
                 * ancestor of ours and it (cgroup v2), which a user's login session usually
                 * lacks; the command then runs outside the pod's limits (ABI.md "Rootless"). */
                if (r < 0 && t->userns_first && (r == -EACCES || r == -EPERM)) {
                        log_debug_errno(r, "Cannot join the app's cgroup, running outside it: %m");
                        r = 0;
                }
                if (r < 0) {
                        (void)pod_error_set(&e, r, "Failed to join the app's cgroup: %m");
                        joiner_fail(err, &e);
                }
        }
        /* Rootless: the user owns the pod's user namespace, and only inside it may join the
         * namespaces it owns. */
        if (t->userns_fd >= 0 && t->userns_first && setns(t->userns_fd, CLONE_NEWUSER) < 0) {
                (void)pod_error_set(&e, -errno, "Failed to join the pod's user namespace: %m");
                joiner_fail(err, &e);
        }
        for (size_t i = 0; i < ELEMENTSOF(t->ns_fds); i++)
                if (setns(t->ns_fds[i], ns_types[i]) < 0) {
                        (void)pod_error_set(&e, -errno, "Failed to join the pod's %s namespace: %m",
                                            ns_names[i]);
                        joiner_fail(err, &e);
                }
        /* --private-users: last, as the app's own processes do (stage1/userns.c); the
         * credentials read from /proc were shifted into the namespace's IDs. */
        if (t->userns_fd >= 0 && !t->userns_first && setns(t->userns_fd, CLONE_NEWUSER) < 0) {
                (void)pod_error_set(&e, -errno, "Failed to join the pod's user namespace: %m");
                joiner_fail(err, &e);
        }
        /* Nothing of the host crosses into the child: no namespace, pidfd or cgroup fd,
         * nothing our caller left open. */
        close_all_fds();
        pid = fork();
        if (pid < 0) {
                (void)pod_error_set(&e, -errno, "Failed to fork: %m");
                joiner_fail(err, &e);
        }
        if (pid == 0)
                child(t, argv, seccomp, userdata, err);
        child_pid = pid;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(EXIT_POD_FAILURE);
        if (WIFEXITED(status))
                _exit(WEXITSTATUS(status));
        _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255);
}

int stage1_enter_run(struct stage1_enter_target *t, char *const *argv, const char *term,
                     stage1_enter_seccomp_fn seccomp, void *userdata, int *ret_status,
                     struct pod_error *reterr) {
        struct sigaction fwd = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
        struct sigaction ign = { .sa_handler = SIG_IGN };
        struct pod_error *err;
        int status, r;
        pid_t pid;

        if (t->seccomp_mode == 1)
                return pod_error_set(reterr, -EOPNOTSUPP,
                                     "The app runs in strict seccomp mode: nothing can join it");
        if (t->seccomp_mode == 2 && !seccomp)
                return pod_error_set(reterr, -EINVAL, "No way to rebuild the app's filter");
        r = set_term(&t->env, term);
        if (r < 0)
                return r;

        /* The children's errors: shared memory, which execve() drops, instead of a pipe the
         * command would hold until its exec. */
        err = mmap(NULL, sizeof(*err), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (err == MAP_FAILED)
                return pod_error_set(reterr, -errno, "Failed to map memory: %m");
        *err = (struct pod_error){};

        (void)sigemptyset(&fwd.sa_mask);
        (void)sigemptyset(&ign.sa_mask);
        if (sigaction(SIGINT, &ign, NULL) < 0 || sigaction(SIGQUIT, &ign, NULL) < 0 ||
            sigaction(SIGTERM, &fwd, NULL) < 0 || sigaction(SIGHUP, &fwd, NULL) < 0) {
                r = pod_error_set(reterr, -errno, "Failed to set up signal handling: %m");
                (void)munmap(err, sizeof(*err));
                return r;
        }

        pid = fork();
        if (pid < 0) {
                r = pod_error_set(reterr, -errno, "Failed to fork: %m");
                (void)munmap(err, sizeof(*err));
                return r;
        }
        if (pid == 0)
                joiner(t, argv, seccomp, userdata, err);
        child_pid = pid;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = pod_error_set(reterr, -errno, "Failed to wait for pid %d: %m",
                                          (int)pid);
                        (void)munmap(err, sizeof(*err));
                        return r;
                }
        child_pid = 0;
        if (err->error < 0) {
                r = err->error;
                if (reterr)
                        *reterr = *err;
                (void)munmap(err, sizeof(*err));
                return r;
        }
        (void)munmap(err, sizeof(*err));
        if (WIFEXITED(status))
                *ret_status = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
                *ret_status = 128 + WTERMSIG(status);
        else
                *ret_status = 255;
        return 0;
}

/* ---- the entry point ---------------------------------------------------------------- */

struct seccomp_ctx {
        struct stage1_config *config;
        struct stage1_app *app;
};

static int rebuild_seccomp(const struct stage1_enter_target *t, void *userdata,
                           struct pod_error *reterr) {
        struct seccomp_ctx *ctx = userdata;

        /* What the process shows wins over the manifest: the filter's own no_new_privs
         * handling must match the process being reproduced. */
        ctx->app->no_new_privs = t->no_new_privs;
        ctx->config->disable_seccomp = false;
        return stage1_seccomp_apply(ctx->config, ctx->app, reterr);
}

/* The app named by --app, or the only one.  The names come from the pod manifest. */
static int pick_app(struct stage1_config *c, const char *name, struct stage1_app **ret) {
        char names[512] = "";
        size_t len = 0;

        for (size_t i = 0; i < c->n_apps; i++)
                if (name ? streq(c->apps[i].name, name) : c->n_apps == 1) {
                        *ret = &c->apps[i];
                        return 0;
                }
        for (size_t i = 0; i < c->n_apps && len < sizeof(names); i++)
                len += (size_t)snprintf(names + len, sizeof(names) - len, "%s'%s'", i ? ", " : "",
                                        c->apps[i].name);
        if (name)
                log_error("Pod has no app '%s'; its apps: %s.", name, names);
        else
                log_error("Pod has several apps, choose one with --app=NAME: %s.", names);
        return -EINVAL;
}

/* Everything enter needs from the pod dir, read through pod_dir_fd, which the caller closes
 * before anything is forked.  Logs its errors. */
/* --private-users: the pod's user namespace, and the app's IDs (read from /proc in the host's
 * terms) as the namespace sees them. */
static int shift_id(const struct pod_idmap *m, uint32_t *id, struct pod_error *reterr) {
        if (!pod_idmap_contains(m, *id))
                return pod_error_set(reterr, -ERANGE,
                                     "The app runs as host ID %u, outside the pod's user "
                                     "namespace",
                                     (unsigned)*id);
        *id -= m->base;
        return 0;
}

/* Rootless (we are not root, the pod's init is in a user namespace we own): that namespace,
 * joined first, and the app's IDs through the init's maps as we read them. */
static int rootless_target(struct stage1_enter_target *t, struct pod_error *reterr) {
        _cleanup_free_ char *umap = NULL, *gmap = NULL;
        int r;

        r = stage1_userns_open_rootless(t->init_pid, &t->userns_fd, &umap, &gmap, reterr);
        if (r <= 0)
                return r;
        t->userns_first = true;
        for (size_t i = 0; i < 3 && r >= 0; i++) {
                r = stage1_userns_map_id(umap, &t->uid[i], reterr);
                if (r >= 0)
                        r = stage1_userns_map_id(gmap, &t->gid[i], reterr);
        }
        for (size_t i = 0; i < t->n_groups && r >= 0; i++)
                r = stage1_userns_map_id(gmap, &t->groups[i], reterr);
        return r;
}

static int userns_target(struct stage1_config *c, struct stage1_enter_target *t,
                         struct pod_error *reterr) {
        struct pod_idmap m = {};
        int r;

        if (geteuid() != 0)
                return rootless_target(t, reterr);
        r = stage1_userns_open_for_enter(c->pod_dir_fd, t->app_pid, &t->userns_fd, &m, reterr);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < 3 && r >= 0; i++) {
                r = shift_id(&m, &t->uid[i], reterr);
                if (r >= 0)
                        r = shift_id(&m, &t->gid[i], reterr);
        }
        for (size_t i = 0; i < t->n_groups && r >= 0; i++)
                r = shift_id(&m, &t->groups[i], reterr);
        return r;
}

static int open_target(struct stage1_config *c, const char *uuid, const char *app_name,
                       struct stage1_app **ret_app, struct stage1_enter_target **ret) {
        _cleanup_(stage1_enter_target_freep) struct stage1_enter_target *t = NULL;
        struct stage1_app *app = NULL;
        struct pod_error e = {};
        int r, level, code;
        dev_t dev;
        ino_t ino;
        pid_t pid;

        r = pod_poddir_read_pid(c->pod_dir_fd, &pid, NULL);
        if (r < 0)
                return log_error_errno(r == -ENOENT ? -ESRCH : r,
                                       "Pod '%s' has no pid yet (still starting?): %m", uuid);
        /* The same isolators, the same filter.  Their notices about isolators this stage1
         * does not enforce were shown when the pod started. */
        level = log_get_max_level();
        if (level < LOG_DEBUG)
                log_set_max_level(LOG_WARNING);
        r = stage1_config_load(c, &e);
        log_set_max_level(level);
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "Pod '%s'", uuid);
                return log_pod_error(r, &e);
        }
        r = pick_app(c, app_name, &app);
        if (r < 0)
                return r;
        r = stage1_enter_read_mntns(c->pod_dir_fd, app->name, &dev, &ino, &e);
        if (r >= 0)
                r = stage1_enter_target_open(pid, app->name, dev, ino, &t, &e);
        if (r >= 0)
                r = userns_target(c, t, &e);
        /* The capability sets /proc shows are relative to the process's own user namespace:
         * an app that made a namespace of its own shows every capability.  Never hand out
         * more than the pod's configuration gives the app. */
        if (r >= 0) {
                uint64_t set = stage1_caps_app_set(c, app);

                t->cap_prm &= set;
                t->cap_eff &= set;
                t->cap_inh &= set;
                t->cap_bnd &= set;
                t->cap_amb &= set;
        }
        /* The pid was the pod's only if the pod still runs now that it is pinned. */
        if (r >= 0 && pod_poddir_fd_is_locked(c->pod_dir_fd) <= 0)
                r = pod_error_set(&e, -ESRCH, "The pod exited");
        /* An app that exited left its namespace's inode number free for reuse: refuse it
         * even if some new namespace now has that number. */
        if (r >= 0 && pod_poddir_read_app_status(c->pod_dir_fd, app->name, &code) >= 0)
                r = pod_error_set(&e, -ESRCH, "App '%s' has exited (status %d)", app->name, code);
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "Pod '%s'", uuid);
                return log_pod_error(r, &e);
        }
        log_debug("Entering app '%s' (pid %d) of pod '%s' (init %d)", app->name, (int)t->app_pid,
                  uuid, (int)pid);
        *ret_app = app;
        *ret = TAKE_PTR(t);
        return 0;
}

int stage1_enter_main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "debug", no_argument, NULL, 'd' },
                { "app", required_argument, NULL, 'a' },
                {},
        };
        _cleanup_(stage1_enter_target_freep) struct stage1_enter_target *t = NULL;
        _cleanup_free_ char *term = NULL;
        struct stage1_config c = { .pod_dir_fd = -EBADF,
                                   .lock_fd = -EBADF,
                                   .ready_fd = -EBADF,
                                   .limit_init_fds = { -EBADF, -EBADF } };
        char *default_argv[] = { (char *)"/bin/sh", NULL };
        const char *app_name = NULL, *uuid;
        struct stage1_app *app = NULL;
        struct seccomp_ctx ctx;
        struct pod_error e = {};
        char *const *cmd;
        int o, r, status = 0;

        /* First: no process of the pod may open anything of ours through /proc (the pod's
         * processes can see us once we are in its PID namespace), nor ptrace us. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return log_error_errno(-errno, "Failed to make us non-dumpable: %m"),
                       EXIT_POD_FAILURE;
        r = stage1_reexec_sealed(argv);
        if (r < 0)
                return log_error_errno(r, "Failed to run from a sealed copy of pod-stage1: %m"),
                       EXIT_POD_FAILURE;
        /* execve() made us dumpable again. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return log_error_errno(-errno, "Failed to make us non-dumpable: %m"),
                       EXIT_POD_FAILURE;
        /* stage0 hands over fds 0, 1 and 2 only; whatever else our caller left open goes. */
        close_all_fds();
        log_set_prefix("pod-stage1 enter");

        /* argv[1] is "enter".  '+': stop at the UUID; the command's flags are its own. */
        argc--;
        argv++;
        while ((o = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (o) {
                case 'd':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'a':
                        app_name = optarg;
                        break;
                default:
                        return EXIT_POD_FAILURE;
                }
        if (optind >= argc) {
                log_error("Expected the pod UUID");
                return EXIT_POD_FAILURE;
        }
        uuid = argv[optind++];
        if (optind < argc && streq(argv[optind], "--"))
                optind++;
        cmd = optind < argc ? argv + optind : default_argv;

        c.pod_dir_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c.pod_dir_fd < 0)
                return log_error_errno(-errno, "Failed to open the pod directory: %m"),
                       EXIT_POD_FAILURE;
        /* The network arguments of the running pod are not known here, and were checked when
         * it started: --port needs a CNI network only at the start. */
        c.running = true;
        /* The pod ran with --disable-capabilities-restriction (main.c wrote it). */
        {
                struct stat st;

                if (fstatat(c.pod_dir_fd, "insecure-capabilities", &st, AT_SYMLINK_NOFOLLOW) >= 0)
                        c.disable_caps = true;
        }
        r = open_target(&c, uuid, app_name, &app, &t);
        /* No fd and no cwd of ours stays in the pod dir while we enter the pod. */
        c.pod_dir_fd = safe_close(c.pod_dir_fd);
        if (r >= 0 && chdir("/") < 0)
                r = log_error_errno(-errno, "Failed to change to '/': %m");
        if (r < 0) {
                stage1_config_done(&c);
                return EXIT_POD_FAILURE;
        }

        if (isatty(STDIN_FILENO) && getenv("TERM") &&
            asprintf(&term, "TERM=%s", getenv("TERM")) < 0)
                term = NULL;
        ctx = (struct seccomp_ctx){ .config = &c, .app = app };
        r = stage1_enter_run(t, cmd, term, rebuild_seccomp, &ctx, &status, &e);
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "App '%s' of pod '%s'", app->name, uuid);
                (void)log_pod_error(r, &e);
        }
        stage1_config_done(&c);
        return r < 0 ? EXIT_POD_FAILURE : status;
}
