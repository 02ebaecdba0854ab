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
 *   pod-probe wait-term FILE N    wait for SIGTERM (FILE.ready appears once it is caught),
 *                                 then write "TERM" to FILE and exit N
 *   pod-probe mknod PATH c|b MAJ MIN  mknod(PATH, 0666 char/block device); "ok" or the errno
 *   pod-probe open PATH r|w       open(PATH) for reading or writing; "ok" or the errno
 *   pod-probe seals PATH          "DEV:INO seals=0xS" of PATH opened read-only (its memfd
 *                                 seals), or "errno N"
 *   pod-probe syscall NAME        calls io_uring_setup (the only NAME so far) with harmless
 *                                 arguments; prints "ok" or the errno number
 *   pod-probe tiocsti FD          ioctl(FD, TIOCSTI, " "): "ok" or the errno number
 *   pod-probe kill PID SIG        kill(PID, SIG) (SIG 0: the permission check only); "ok"
 *                                 or the errno number
 *   pod-probe ptrace PID          PTRACE_SEIZE of PID (no stop; released when we exit);
 *                                 "ok" or the errno number
 *   pod-probe userns-hold         unshare(CLONE_NEWUSER), print "ok" (or the errno number
 *                                 and exit 1), then stay in the new user namespace until
 *                                 killed: a process in a nested namespace for pod enter */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif

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
                {
                        /* Whoever signals us can wait for this: before it, SIGTERM kills. */
                        char ready[4096];

                        (void)snprintf(ready, sizeof(ready), "%s.ready", argv[2]);
                        fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                        if (fd >= 0)
                                (void)close(fd);
                }
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
        if (argc >= 6 && strcmp(argv[1], "mknod") == 0) {
                mode_t type = strcmp(argv[3], "b") == 0 ? S_IFBLK : S_IFCHR;
                dev_t dev = makedev((unsigned)atoi(argv[4]), (unsigned)atoi(argv[5]));

                return report(mknod(argv[2], type | 0666, dev));
        }
        if (argc >= 4 && strcmp(argv[1], "open") == 0) {
                int fd = open(argv[2], (strcmp(argv[3], "w") == 0 ? O_WRONLY : O_RDONLY) |
                                               O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

                if (fd >= 0)
                        (void)close(fd);
                return report(fd);
        }
        if (argc >= 3 && strcmp(argv[1], "seals") == 0) {
                struct stat st;
                int fd = open(argv[2], O_RDONLY | O_CLOEXEC), seals;

                if (fd < 0 || fstat(fd, &st) < 0) {
                        printf("errno %d\n", errno);
                        return 1;
                }
                seals = fcntl(fd, F_GET_SEALS);
                printf("%llu:%llu seals=0x%x\n", (unsigned long long)st.st_dev,
                       (unsigned long long)st.st_ino, seals < 0 ? 0 : (unsigned)seals);
                return 0;
        }
        if (argc >= 3 && strcmp(argv[1], "syscall") == 0 &&
            strcmp(argv[2], "io_uring_setup") == 0) {
#ifdef __NR_io_uring_setup
                char params[120] = { 0 }; /* struct io_uring_params */

                /* 1 entry: harmless, and a valid call where io_uring is allowed. */
                long r = syscall(__NR_io_uring_setup, 1, params);
                if (r >= 0)
                        (void)close((int)r);
                return report(r < 0 ? -1 : 0);
#else
                errno = ENOSYS;
                return report(-1);
#endif
        }
        if (argc >= 3 && strcmp(argv[1], "tiocsti") == 0) {
                char ch = ' ';

                return report(ioctl(atoi(argv[2]), TIOCSTI, &ch));
        }
        if (argc >= 4 && strcmp(argv[1], "kill") == 0)
                return report(kill((pid_t)atoi(argv[2]), atoi(argv[3])));
        if (argc >= 3 && strcmp(argv[1], "ptrace") == 0)
                return report((int)ptrace(PTRACE_SEIZE, (pid_t)atoi(argv[2]), NULL, NULL));
        if (argc >= 2 && strcmp(argv[1], "userns-hold") == 0) {
                if (unshare(CLONE_NEWUSER) < 0)
                        return report(-1);
                (void)report(0);
                (void)fflush(stdout);
                for (;;)
                        (void)pause();
        }
        fprintf(stderr,
                "usage: pod-probe exit N | fds | ids | euid | read PATH | bind PORT | mkdir PATH | "
                "unshare-user | wait-term FILE N | mknod PATH c|b MAJ MIN | open PATH r|w | "
                "seals PATH | syscall io_uring_setup | tiocsti FD | kill PID SIG | ptrace PID | "
                "userns-hold\n");
        return 2;
}
