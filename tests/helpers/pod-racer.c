/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-racer: a hostile app for tests/integration/confine.sh.  Static, run as root with the
 * default capabilities inside a pod (left behind by a pre-start handler), it races the
 * pod's stage1 processes: it scans /proc for every PID but its own and tries, over and
 * over, to open /proc/PID/fd/N, /proc/PID/exe (for reading and for writing), /proc/PID/cwd
 * and /proc/PID/root.  A success counts when what it opened
 *   - is a directory outside its own root (st_dev/st_ino of "/" never met walking "..") of a
 *     process in its own mount namespace (the other apps' roots are outside it by design), or
 *   - belongs to a process that is not an app process: its /proc/PID/exe, opened before
 *     and again after the handle, is none of the binaries of the image (compared by size
 *     and content with /bin/busybox and the racer itself).  A process whose exe could not be
 *     opened is judged by the directory rule only (it may have exec'd an app binary in
 *     between: a process only ever goes from stage1's image to the app's, never back).
 *   pod-racer OUT-FILE SECONDS
 * Detaches (fork, setsid) and writes to OUT-FILE, after every round with news, one line:
 *   "rounds=R pids=P stage1=S exe_read=A exe_write=B fd=C cwd=D root=E outside=F"
 * (stage1 = PIDs seen whose comm was pod-stage1; outside = how many of C, D, E were
 * directories outside its root).  Never counts a success it did not have. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE 4096

struct known {
        off_t size;
        unsigned char head[SAMPLE];
        size_t n;
};

static struct known known[2];
static size_t n_known;
static struct stat root_st;
static unsigned long rounds, pids, stage1, exe_read, exe_write, fd_ok, cwd_ok, root_ok, outside;

static int fingerprint(int fd, struct known *k) {
        struct stat st;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return -1;
        n = pread(fd, k->head, SAMPLE, 0);
        if (n < 0)
                return -1;
        k->size = st.st_size;
        k->n = (size_t)n;
        return 0;
}

static void learn(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd >= 0 && fingerprint(fd, &known[n_known]) == 0)
                n_known++;
        if (fd >= 0)
                close(fd);
}

/* Is the opened executable one of the image's binaries? */
static bool is_app_binary(int fd) {
        struct known k;

        if (fingerprint(fd, &k) < 0)
                return false;
        for (size_t i = 0; i < n_known; i++)
                if (known[i].size == k.size && known[i].n == k.n &&
                    memcmp(known[i].head, k.head, k.n) == 0)
                        return true;
        return false;
}

/* Walks ".." from a directory fd: inside when our own root is met on the way. */
static bool outside_root(int dir) {
        int fd = dup(dir);

        for (int i = 0; fd >= 0 && i < 512; i++) {
                struct stat st, pst;
                int parent;

                if (fstat(fd, &st) < 0)
                        break;
                if (st.st_dev == root_st.st_dev && st.st_ino == root_st.st_ino) {
                        close(fd);
                        return false;
                }
                parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (parent < 0)
                        break;
                if (fstat(parent, &pst) == 0 && pst.st_dev == st.st_dev &&
                    pst.st_ino == st.st_ino) {
                        close(parent);
                        break; /* the top, and not our root */
                }
                close(fd);
                fd = parent;
        }
        if (fd >= 0)
                close(fd);
        return true;
}

/* 1: /proc/PID/exe is not an image binary (stage1's own), 0: it is, -1: not readable. */
static int exe_foreign(pid_t pid) {
        char p[64];
        int fd, r;

        (void)snprintf(p, sizeof(p), "/proc/%d/exe", (int)pid);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        r = !is_app_binary(fd);
        close(fd);
        return r;
}

/* Is pid in our mount namespace, judged after the handle was opened (a process changes it
 * only before its exec, in stage1's hands): 1 yes, or its ns link is refused to us (only a
 * stage1 process is: that counts as ours, conservatively); 0 another app's or gone. */
static bool in_our_mntns(pid_t pid) {
        char p[64], a[64] = "", b[64] = "";

        (void)snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)pid);
        if (readlink(p, a, sizeof(a) - 1) < 0)
                return errno == EACCES || errno == EPERM;
        if (readlink("/proc/self/ns/mnt", b, sizeof(b) - 1) < 0)
                return true;
        return strcmp(a, b) == 0;
}

/* A handle that counts: a directory outside our root (of a process in our own mount
 * namespace), or anything of a process that ran stage1's image before and after the open. */
static bool counts(int fd, pid_t pid, bool foreign_before) {
        struct stat st;

        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && outside_root(fd) && in_our_mntns(pid)) {
                outside++;
                return true;
        }
        return foreign_before && exe_foreign(pid) == 1;
}

static void race(pid_t pid) {
        char p[64], comm[32] = "";
        bool foreign;
        DIR *d;
        int fd;

        (void)snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, comm, sizeof(comm) - 1);
                comm[n > 0 ? n : 0] = 0;
                close(fd);
        }
        if (strncmp(comm, "pod-stage1", 10) == 0)
                stage1++;

        foreign = exe_foreign(pid) == 1;
        exe_read += foreign; /* a stage1 binary, open for reading: its copy or the host's */
        (void)snprintf(p, sizeof(p), "/proc/%d/exe", (int)pid);
        fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                exe_write++; /* writing any running executable is an escape */
                close(fd);
        }
        (void)snprintf(p, sizeof(p), "/proc/%d/cwd", (int)pid);
        fd = open(p, O_PATH | O_CLOEXEC);
        if (fd >= 0) {
                cwd_ok += counts(fd, pid, foreign);
                close(fd);
        }
        (void)snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
        fd = open(p, O_PATH | O_CLOEXEC);
        if (fd >= 0) {
                root_ok += counts(fd, pid, foreign);
                close(fd);
        }
        (void)snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
        d = opendir(p);
        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));) {
                char q[300];

                if (de->d_name[0] == '.')
                        continue;
                (void)snprintf(q, sizeof(q), "/proc/%d/fd/%s", (int)pid, de->d_name);
                fd = open(q, O_PATH | O_CLOEXEC);
                if (fd >= 0) {
                        fd_ok += counts(fd, pid, foreign);
                        close(fd);
                }
        }
        closedir(d);
}

static void report(const char *out) {
        char tmp[512];
        FILE *f;

        (void)snprintf(tmp, sizeof(tmp), "%s.tmp", out);
        f = fopen(tmp, "we");
        if (!f)
                return;
        fprintf(f,
                "rounds=%lu pids=%lu stage1=%lu exe_read=%lu exe_write=%lu fd=%lu cwd=%lu "
                "root=%lu outside=%lu\n",
                rounds, pids, stage1, exe_read, exe_write, fd_ok, cwd_ok, root_ok, outside);
        fclose(f);
        (void)rename(tmp, out);
}

int main(int argc, char *argv[]) {
        pid_t self;
        time_t end;

        if (argc != 3) {
                fprintf(stderr, "usage: pod-racer OUT-FILE SECONDS\n");
                return 2;
        }
        if (stat("/", &root_st) < 0)
                return 1;
        learn("/proc/self/exe");
        learn("/bin/busybox");
        end = time(NULL) + atoi(argv[2]);
        /* Left behind: the pre-start handler returns at once, the racer stays. */
        if (fork() != 0)
                return 0;
        (void)setsid();
        self = getpid();
        report(argv[1]);
        while (time(NULL) < end) {
                unsigned long before = exe_read + exe_write + fd_ok + cwd_ok + root_ok + stage1;
                DIR *d = opendir("/proc");

                if (!d)
                        return 1;
                for (struct dirent *de; (de = readdir(d));) {
                        pid_t pid = (pid_t)atoi(de->d_name);

                        if (pid <= 0 || pid == self)
                                continue;
                        pids++;
                        race(pid);
                }
                closedir(d);
                rounds++;
                if (exe_read + exe_write + fd_ok + cwd_ok + root_ok + stage1 != before ||
                    rounds % 1000 == 0)
                        report(argv[1]);
        }
        report(argv[1]);
        return 0;
}
