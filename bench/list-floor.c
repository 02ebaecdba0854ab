/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The floor for `pod list` (bench/list.sh): what no implementation can skip, the walk over
 * pods/<phase>/ and one open + non-blocking shared flock probe per pod directory, without
 * reading a file or printing a row.  Prints the pod count and how many were locked. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        static const char *const phases[] = { "embryo", "prepare",        "prepared",
                                              "run",    "exited-garbage", "garbage" };
        unsigned n = 0, locked = 0;
        int pods;

        if (argc != 2) {
                fprintf(stderr, "usage: %s PODS-DIR\n", argv[0]);
                return 2;
        }
        pods = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pods < 0) {
                perror(argv[1]);
                return 1;
        }
        for (size_t p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
                int dfd = openat(pods, phases[p], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct dirent *de;
                DIR *d;

                if (dfd < 0)
                        continue;
                d = fdopendir(dfd);
                if (!d) {
                        close(dfd);
                        continue;
                }
                while ((de = readdir(d))) {
                        int fd;

                        if (de->d_name[0] == '.')
                                continue;
                        fd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        n++;
                        if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
                                locked++;
                        close(fd);
                }
                closedir(d);
        }
        printf("%u pods, %u locked\n", n, locked);
        return 0;
}
