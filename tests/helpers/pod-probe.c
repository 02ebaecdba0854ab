/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-probe: a static test payload that reports what an app sees from inside a pod, or
 * exits with a chosen status.  Statically linked so it runs in any test rootfs.
 *   pod-probe exit N              exit with status N
 *   pod-probe fds                 the open fds, space-separated
 *   pod-probe ids                 "uid=U gid=G groups=G1,G2,..."
 *   pod-probe euid                "euid=U egid=G" (a set-id copy shows whose it runs as)
 *   pod-probe read PATH           open(PATH) for reading; prints "ok" or the errno number
 *   pod-probe bind PORT           bind TCP 0.0.0.0:PORT; prints "ok" or the errno number
 *   pod-probe mkdir PATH          mkdir(PATH); prints "ok" or the errno number
 *   pod-probe unshare-user        unshare(CLONE_NEWUSER); prints "ok" or the errno number
 *   pod-probe wait-term FILE N    wait for SIGTERM, then write "TERM" to FILE and exit N */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int report(int r) {
        if (r < 0) {
                printf("%d\n", errno);
                return 1;
        }
        printf("ok\n");
        return 0;
}

static volatile sig_atomic_t got_term;

static void on_term(int sig) {
        (void)sig;
        got_term = 1;
}

int main(int argc, char *argv[]) {
        if (argc >= 3 && strcmp(argv[1], "exit") == 0)
                return atoi(argv[2]);
        if (argc >= 2 && strcmp(argv[1], "fds") == 0) {
                DIR *d = opendir("/proc/self/fd");
                struct dirent *de;

                if (!d)
                        return report(-1);
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
                                printf("%s ", de->d_name);
                printf("\n");
                (void)closedir(d);
                return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "ids") == 0) {
                gid_t groups[256];
                int n = getgroups(256, groups);

                printf("uid=%u gid=%u groups=", (unsigned)getuid(), (unsigned)getgid());
                for (int i = 0; i < n; i++)
                        printf("%s%u", i ? "," : "", (unsigned)groups[i]);
                printf("\n");
                return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "euid") == 0) {
                printf("euid=%u egid=%u\n", (unsigned)geteuid(), (unsigned)getegid());
                return 0;
        }
        if (argc >= 3 && strcmp(argv[1], "read") == 0)
                return report(open(argv[2], O_RDONLY | O_CLOEXEC));
        if (argc >= 3 && strcmp(argv[1], "bind") == 0) {
                struct sockaddr_in sa = { .sin_family = AF_INET,
                                          .sin_port = htons((uint16_t)atoi(argv[2])) };
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

                if (fd < 0)
                        return report(-1);
                return report(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
        }
        if (argc >= 3 && strcmp(argv[1], "mkdir") == 0)
                return report(mkdir(argv[2], 0755));
        if (argc >= 2 && strcmp(argv[1], "unshare-user") == 0)
                return report(unshare(CLONE_NEWUSER));
        if (argc >= 4 && strcmp(argv[1], "wait-term") == 0) {
                struct sigaction sa = { .sa_handler = on_term };
                int fd;

                (void)sigaction(SIGTERM, &sa, NULL);
                printf("waiting\n");
                (void)fflush(stdout);
                while (!got_term)
                        (void)pause();
                fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        (void)write(fd, "TERM\n", 5);
                        (void)close(fd);
                }
                return atoi(argv[3]);
        }
        fprintf(stderr,
                "usage: pod-probe exit N | fds | ids | euid | read PATH | bind PORT | mkdir PATH | "
                "unshare-user | wait-term FILE N\n");
        return 2;
}
