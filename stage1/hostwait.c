/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host-side wait loop of a running pod (hostwait.h).  No library but libc: it runs in
 * the static pod-stage1-supervise for the pod's whole life.
 *
 * sd_notify(3): systemd accepts notifications of a Type=notify service only from its main
 * process (NotifyAccess=main, the default), and stage1 is that process (pod run execs it,
 * and it execs the supervisor, keeping the PID).  So the apps never talk to systemd
 * directly: each notify-capable app sends to its own socket (notify.c), and this loop
 * relays READY=1 once all have said it, plus STATUS= lines.  Everything else an app sends
 * (MAINPID=, FDSTORE=, WATCHDOG=, fds) is dropped: MAINPID stays stage1's. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostwait.h"

#define EXIT_POD_FAILURE 254

int stage1_notify_send(const char *text) {
        const char *e = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t len;
        size_t n;
        int fd, r = 0;

        if (!e)
                return 0;
        n = strlen(e);
        if ((e[0] != '/' && e[0] != '@') || n < 2 || n >= sizeof(sa.sun_path))
                return -EINVAL;
        memcpy(sa.sun_path, e, n);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = 0; /* abstract namespace */
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/'));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
                r = -errno;
        (void)close(fd);
        return r;
}

static void send_or_warn(const char *text) {
        int r = stage1_notify_send(text);

        if (r < 0)
                fprintf(stderr, "pod-stage1: Failed to notify the service manager, ignoring: %s\n",
                        strerror(-r));
}

/* One datagram from an app: returns true if it holds READY=1. */
static bool handle_datagram(int fd) {
        char buf[4096 + 1];
        bool ready = false;
        ssize_t k;

        /* No control buffer: file descriptors passed along are discarded by the kernel. */
        k = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT | MSG_TRUNC);
        if (k <= 0)
                return false;
        if ((size_t)k > sizeof(buf) - 1)
                k = sizeof(buf) - 1;
        buf[k] = 0;
        for (char *line = buf, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strcmp(line, "READY=1") == 0)
                        ready = true;
                else if (strncmp(line, "STATUS=", 7) == 0)
                        send_or_warn(line);
        }
        return ready;
}

int stage1_host_wait(pid_t init, int sfd, int ready_fd, const int *socks, size_t n_socks) {
        struct pollfd p[2 + STAGE1_NOTIFY_MAX_APPS];
        bool ready[STAGE1_NOTIFY_MAX_APPS] = {};
        bool sent = false;

        if (n_socks > STAGE1_NOTIFY_MAX_APPS)
                return EXIT_POD_FAILURE;
        for (;;) {
                struct signalfd_siginfo si;
                size_t n_ready = 0;
                int ws;
                pid_t pid;

                /* The init may have exited before we got here: look first, then wait. */
                pid = waitpid(init, &ws, WNOHANG);
                if (pid == init && WIFEXITED(ws))
                        return WEXITSTATUS(ws);
                if (pid == init && WIFSIGNALED(ws))
                        return 128 + WTERMSIG(ws);
                if (pid < 0 && errno != EINTR) {
                        fprintf(stderr, "pod-stage1: Failed to wait for the pod init: %s\n",
                                strerror(errno));
                        return EXIT_POD_FAILURE;
                }

                p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
                p[1] = (struct pollfd){ .fd = ready_fd, .events = POLLIN };
                for (size_t i = 0; i < n_socks; i++)
                        p[2 + i] = (struct pollfd){ .fd = socks[i], .events = POLLIN };
                if (poll(p, 2 + n_socks, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return EXIT_POD_FAILURE;
                }

                if (p[0].revents & POLLIN) {
                        if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si)) {
                                if (errno == EINTR || errno == EAGAIN)
                                        continue;
                                return EXIT_POD_FAILURE;
                        }
                        if (si.ssi_signo != SIGCHLD)
                                (void)kill(init, (int)si.ssi_signo);
                }
                if (p[1].revents) {
                        char c;
                        ssize_t k = read(ready_fd, &c, 1);

                        if (k == 1 && n_socks == 0 && !sent) {
                                send_or_warn("READY=1");
                                sent = true;
                        }
                        /* One byte, then EOF (or the init died): either way we are done. */
                        if (k <= 0 || n_socks > 0 || sent)
                                ready_fd = -1;
                }
                for (size_t i = 0; i < n_socks; i++)
                        if (p[2 + i].revents & POLLIN)
                                ready[i] = handle_datagram(socks[i]) || ready[i];
                for (size_t i = 0; i < n_socks; i++)
                        n_ready += ready[i];
                if (n_socks > 0 && n_ready == n_socks && !sent) {
                        send_or_warn("READY=1");
                        sent = true;
                }
        }
}
