/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-stage1-supervise: what the host-side pod-stage1 process becomes once the pod runs
 * (main.c exec()s it in place, same PID): it forwards SIGTERM, SIGINT and SIGHUP to the pod
 * init and exits with the init's status.  A separate, static, library-free program so that
 * a running pod's supervisor stays under 1 MiB resident (perf-targets.md); the setup code
 * and its libraries (libsystemd, libseccomp, json-c) do not stay mapped for the pod's life.
 * The pod lock fd crosses the exec (FD_CLOEXEC cleared by main.c) and is held until exit.
 *   pod-stage1-supervise INIT-PID
 * The caller blocks the signals before forking the init; they stay blocked (and pending)
 * across execve(), so none is lost in between. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_POD_FAILURE 254

int main(int argc, char *argv[]) {
        struct signalfd_siginfo si;
        sigset_t mask;
        char *end;
        long init;
        int sfd;

        if (argc != 2)
                return EXIT_POD_FAILURE;
        errno = 0;
        init = strtol(argv[1], &end, 10);
        if (errno != 0 || *end != 0 || init <= 0)
                return EXIT_POD_FAILURE;

        (void)sigemptyset(&mask);
        (void)sigaddset(&mask, SIGCHLD);
        (void)sigaddset(&mask, SIGTERM);
        (void)sigaddset(&mask, SIGINT);
        (void)sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return EXIT_POD_FAILURE;
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                fprintf(stderr, "pod-stage1: Failed to create a signalfd: %s\n", strerror(errno));
                return EXIT_POD_FAILURE;
        }

        for (;;) {
                int ws;
                pid_t p;

                /* The init may have exited before we got here: look first, then wait. */
                p = waitpid((pid_t)init, &ws, WNOHANG);
                if (p == (pid_t)init) {
                        if (WIFEXITED(ws))
                                return WEXITSTATUS(ws);
                        if (WIFSIGNALED(ws))
                                return 128 + WTERMSIG(ws);
                        continue;
                }
                if (p < 0 && errno != EINTR) {
                        fprintf(stderr, "pod-stage1: Failed to wait for the pod init: %s\n",
                                strerror(errno));
                        return EXIT_POD_FAILURE;
                }
                if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si)) {
                        if (errno == EINTR)
                                continue;
                        return EXIT_POD_FAILURE;
                }
                if (si.ssi_signo != SIGCHLD)
                        (void)kill((pid_t)init, (int)si.ssi_signo);
        }
}
