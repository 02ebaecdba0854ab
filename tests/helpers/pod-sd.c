/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-sd: a static test payload speaking systemd's protocols without libsystemd, run inside
 * test pods.
 *   pod-sd notify LINE...   sends the LINEs as one datagram to $NOTIFY_SOCKET (sd_notify);
 *                           prints "sent" or "error ERRNO"
 *   pod-sd serve N          socket activation: checks LISTEN_PID == getpid() and
 *                           LISTEN_FDS >= 1, then answers N connections (0: forever) on
 *                           fd 3 with "pid=P fds=N names=NAMES fd4=listening|closed\n"
 *   pod-sd hog MIB          touches MIB MiB of memory, one MiB at a time, printing each */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify(int argc, char *argv[]) {
        const char *e = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char msg[4096] = "";
        size_t n;
        int fd;

        if (!e || (n = strlen(e)) >= sizeof(sa.sun_path) || n < 2) {
                printf("error no-socket\n");
                return 1;
        }
        for (int i = 0; i < argc; i++) {
                if (i > 0)
                        strncat(msg, "\n", sizeof(msg) - strlen(msg) - 1);
                strncat(msg, argv[i], sizeof(msg) - strlen(msg) - 1);
        }
        memcpy(sa.sun_path, e, n);
        if (e[0] == '@')
                sa.sun_path[0] = 0;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa,
                             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0) {
                printf("error %d\n", errno);
                return 1;
        }
        printf("sent\n");
        return 0;
}

static int serve(long count) {
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
        const char *names = getenv("LISTEN_FDNAMES");
        char line[512];

        if (!pid || !fds || atol(pid) != (long)getpid() || atol(fds) < 1) {
                printf("error LISTEN_PID=%s LISTEN_FDS=%s pid=%d\n", pid ? pid : "", fds ? fds : "",
                       (int)getpid());
                return 1;
        }
        (void)snprintf(line, sizeof(line), "pid=%s fds=%s names=%s fd4=%s\n", pid, fds,
                       names ? names : "", fcntl(4, F_GETFD) >= 0 ? "open" : "closed");
        printf("serving\n");
        fflush(stdout);
        for (long i = 0; count == 0 || i < count; i++) {
                int c = accept4(3, NULL, NULL, SOCK_CLOEXEC);

                if (c < 0) {
                        printf("error accept %d\n", errno);
                        return 1;
                }
                if (write(c, line, strlen(line)) < 0)
                        printf("error write %d\n", errno);
                (void)close(c);
        }
        return 0;
}

static int hog(long mib) {
        for (long i = 0; i < mib; i++) {
                char *p = malloc(1 << 20);

                if (!p)
                        return 1;
                memset(p, 1, 1 << 20);
                printf("%ld\n", i + 1);
                fflush(stdout);
        }
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc >= 2 && strcmp(argv[1], "notify") == 0)
                return notify(argc - 2, argv + 2);
        if (argc >= 3 && strcmp(argv[1], "serve") == 0)
                return serve(atol(argv[2]));
        if (argc >= 3 && strcmp(argv[1], "hog") == 0)
                return hog(atol(argv[2]));
        fprintf(stderr, "usage: pod-sd notify LINE... | serve N | hog MIB\n");
        return 2;
}
