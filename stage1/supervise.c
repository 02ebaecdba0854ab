/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-stage1-supervise: what pod-stage1's long-lived processes become once the pod runs
 * (exec()ed in place, same PID).  A separate, static, library-free program so that a running
 * pod costs under 1 MiB resident per process (perf-targets.md): the setup code and its
 * libraries (libsystemd, libseccomp, json-c) do not stay mapped for the pod's life.
 *
 *   pod-stage1-supervise INIT-PID [--gc STAGE1 UUID [--devices-cgroup PATH]]
 *                        [READY-FD [NOTIFY-SOCKET-FD...]]
 *      The host-side process (main.c): forwards SIGTERM, SIGINT and SIGHUP to the pod init
 *      and exits with the init's status; with READY-FD, tells $NOTIFY_SOCKET READY=1 when
 *      the apps have started or, with sockets, when every app said so (hostwait.c); with
 *      --gc (the pod has CNI networks or a device program's cgroup) it execs "STAGE1 gc
 *      --exit-status=STATUS UUID" at the end instead of exiting, which releases them.  With
 *      --devices-cgroup (no CNI networks) it first removes that cgroup itself (and the pod
 *      dir's devices-cgroup file, our cwd being the pod dir): when that works and the pod
 *      dir names nothing else to release (no net/, no limits-cgroups), there is no gc to
 *      execute (an exec and a dynamic loading of pod-stage1 less per pod, issue 16).
 *   pod-stage1-supervise --init DIR-FD STATUS APP=PID[/STOPSIG]...
 *      The pod init (init.c), once every app's main process runs and nothing is left to
 *      start (no post-stop handler): reaps every process of the pod, forwards the signals
 *      to the apps (SIGTERM as the app's STOPSIG when given: Docker's StopSignal), writes
 * status/<APP> under DIR-FD (the pod dir) when an app exits, and exits when all have, with STATUS
 * if non-zero, else the first non-zero app status.
 *   pod-stage1-supervise --mds [--keep-ids]
 *      The pod's metadata server (mds.c forks it from the init, mds-server.c serves):
 *      socket on fd 3, the pod's data in a sealed memfd on fd 4.
 *
 * The pod lock fd crosses the exec (FD_CLOEXEC cleared by the caller) and is held until
 * exit.  The caller blocks the signals; they stay blocked (and pending) across execve(), so
 * no signal and no child exit is lost in between. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostwait.h"
#include "mds-server.h"

#define EXIT_POD_FAILURE 254

static long parse_num(const char *s) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != 0 || end == s || v < 0)
                return -1;
        return v;
}

static int status_of(int ws) {
        if (WIFEXITED(ws))
                return WEXITSTATUS(ws);
        if (WIFSIGNALED(ws))
                return 128 + WTERMSIG(ws);
        return -1; /* stopped or continued: not an exit */
}

static int make_signalfd(void) {
        sigset_t mask;
        int sfd;

        (void)sigemptyset(&mask);
        (void)sigaddset(&mask, SIGCHLD);
        (void)sigaddset(&mask, SIGTERM);
        (void)sigaddset(&mask, SIGINT);
        (void)sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -1;
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0)
                fprintf(stderr, "pod-stage1: Failed to create a signalfd: %s\n", strerror(errno));
        return sfd;
}

/* Same format and atomicity as stage1_write_file() in config.c. */
static void write_status(int dir_fd, const char *app, int status) {
        char path[256], tmp[300], buf[16];
        int fd, n;

        (void)snprintf(path, sizeof(path), "status/%s", app);
        (void)snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
        n = snprintf(buf, sizeof(buf), "%d", status);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, buf, (size_t)n) != n || renameat(dir_fd, tmp, dir_fd, path) < 0)
                fprintf(stderr,
                        "pod-stage1(init): Failed to record the status of app '%s', "
                        "ignoring: %s\n",
                        app, strerror(errno));
        if (fd >= 0)
                (void)close(fd);
}

static int run_init(int argc, char *argv[]) {
        struct app {
                const char *name;
                pid_t pid;       /* 0 once exited */
                int stop_signal; /* what SIGTERM becomes (Docker's StopSignal) */
        } apps[256];
        int n = 0, sfd, dir_fd, first;
        long v;

        if (argc < 4 || argc - 4 > (int)(sizeof(apps) / sizeof(apps[0])))
                return EXIT_POD_FAILURE;
        dir_fd = (int)parse_num(argv[2]);
        first = (int)parse_num(argv[3]);
        if (dir_fd < 0 || first < 0)
                return EXIT_POD_FAILURE;
        for (int i = 4; i < argc; i++) {
                char *eq = strrchr(argv[i], '='), *slash = eq ? strchr(eq, '/') : NULL;
                long sig = SIGTERM;

                if (slash) {
                        *slash = 0;
                        if ((sig = parse_num(slash + 1)) <= 0 || sig >= NSIG)
                                return EXIT_POD_FAILURE;
                }
                if (!eq || (v = parse_num(eq + 1)) <= 0)
                        return EXIT_POD_FAILURE;
                *eq = 0;
                apps[n].name = argv[i];
                apps[n].stop_signal = (int)sig;
                apps[n++].pid = (pid_t)v;
        }
        sfd = make_signalfd();
        if (sfd < 0)
                return EXIT_POD_FAILURE;

        for (;;) {
                struct signalfd_siginfo si;
                bool running = false;
                int ws;
                pid_t p;

                /* Reap first: exits may have happened before the exec. */
                while ((p = waitpid(-1, &ws, WNOHANG)) > 0) {
                        int st = status_of(ws);

                        for (int i = 0; i < n && st >= 0; i++)
                                if (apps[i].pid == p) {
                                        apps[i].pid = 0;
                                        write_status(dir_fd, apps[i].name, st);
                                        if (st != 0 && first == 0)
                                                first = st;
                                }
                        /* Anything else is an orphan re-parented to us: reaped, forgotten. */
                }
                for (int i = 0; i < n; i++)
                        running = running || apps[i].pid > 0;
                if (!running)
                        return first;

                if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si)) {
                        if (errno == EINTR)
                                continue;
                        return EXIT_POD_FAILURE;
                }
                if (si.ssi_signo != SIGCHLD)
                        for (int i = 0; i < n; i++)
                                if (apps[i].pid > 0)
                                        (void)kill(apps[i].pid, si.ssi_signo == SIGTERM
                                                                        ? apps[i].stop_signal
                                                                        : (int)si.ssi_signo);
        }
}

/* "pod-stage1 gc" in short, for the common case (see the top): true when the device
 * program's cgroup at path (stage1 made it; stage1 gc re-checks the pod dir's copy of its
 * name, we take stage1's word) is gone and nothing else is left to release.  Anything
 * unexpected (processes still in the cgroup, networks, limit cgroups) is gc's. */
static bool release_devices_cgroup(const char *path) {
        struct stat st;

        if (fstatat(AT_FDCWD, "net", &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
                return false;
        if (fstatat(AT_FDCWD, "limits-cgroups", &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
                return false;
        if (rmdir(path) < 0 && errno != ENOENT)
                return false;
        return unlink("devices-cgroup") == 0 || errno == ENOENT;
}

int main(int argc, char *argv[]) {
        int socks[STAGE1_NOTIFY_MAX_APPS];
        long init, ready_fd = -1;
        const char *gc_stage1 = NULL, *gc_uuid = NULL, *devices_cgroup = NULL;
        int sfd, n = 0, first = 2, status;
        char arg[32];

        /* execve() made us dumpable again: undo it first.  Until this line, the pod's apps
         * cannot open our /proc/PID files anyway: ptrace_may_access() also requires the
         * target's permitted capabilities to be a subset of the caller's, and we hold every
         * capability stage1 had, an app at most the default set (ABI.md "Process
         * hardening"). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return EXIT_POD_FAILURE;
        /* Executed from a sealed memfd (selfexec.c), the kernel named us after the fd. */
        (void)prctl(PR_SET_NAME, "pod-stage1-supervise", 0, 0, 0);
        if (argc >= 2 && strcmp(argv[1], "--init") == 0)
                return run_init(argc, argv);
        if (argc >= 2 && strcmp(argv[1], "--mds") == 0)
                return stage1_mds_server_main(argc, argv); /* mds-server.c */
        if (argc < 2)
                return EXIT_POD_FAILURE;
        init = parse_num(argv[1]);
        if (init <= 0)
                return EXIT_POD_FAILURE;
        if (argc >= 5 && strcmp(argv[2], "--gc") == 0) {
                gc_stage1 = argv[3];
                gc_uuid = argv[4];
                first = 5;
                if (argc >= 7 && strcmp(argv[5], "--devices-cgroup") == 0) {
                        devices_cgroup = argv[6];
                        first = 7;
                }
        }
        if (argc - first - 1 > STAGE1_NOTIFY_MAX_APPS)
                return EXIT_POD_FAILURE;
        if (argc > first && (ready_fd = parse_num(argv[first])) < 0)
                return EXIT_POD_FAILURE;
        for (int i = first + 1; i < argc; i++) {
                long fd = parse_num(argv[i]);

                if (fd < 0)
                        return EXIT_POD_FAILURE;
                socks[n++] = (int)fd;
        }
        sfd = make_signalfd();
        if (sfd < 0)
                return EXIT_POD_FAILURE;
        status = stage1_host_wait((pid_t)init, sfd, (int)ready_fd, socks, (size_t)n);
        if (!gc_stage1 || (devices_cgroup && release_devices_cgroup(devices_cgroup)))
                return status;
        (void)snprintf(arg, sizeof(arg), "--exit-status=%d", status);
        execv(gc_stage1,
              (char *[]){ (char *)"pod-stage1", (char *)"gc", arg, (char *)gc_uuid, NULL });
        fprintf(stderr,
                "pod-stage1: Failed to execute '%s' to release the pod's networks ('pod gc' will): "
                "%s\n",
                gc_stage1, strerror(errno));
        return status;
}
