/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The raw syscall floor of starting a container (bench/start.sh): what any runtime must do at
 * least to run a command in its own namespaces and root, and nothing else.
 *
 *   floor [--net] [--overlay=DIR] ROOTFS CMD [ARGS...]
 *      clone(CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUTS|CLONE_NEWIPC[|CLONE_NEWNET]); in the child
 *      (PID 1 of the new PID namespace): make the mounts private, bind-mount ROOTFS onto
 *      itself (or, with --overlay, mount an overlayfs on DIR/mnt with ROOTFS as its lower dir
 *      and a fresh upper and work dir made under DIR, "volatile" like pod's), pivot_root into
 *      it, detach
 *      the old root, mount a new /proc, exec CMD.  The parent waits and exits with CMD's
 *      status (128+N when killed by signal N).
 *
 *   floor --exec-file FILE CMD [ARGS...]
 *      Replaces every argument "{}" by the first line of FILE and execs CMD: lets a benchmark
 *      run `pod run-prepared UUID` with a UUID that a --prepare step wrote, without a shell.
 *
 * Not a container runtime: no /dev, no capabilities, no seccomp, no cgroup.  Built by
 * `make bench-programs`, static so its own start-up costs as little as possible. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct floor_args {
        const char *rootfs;
        const char *overlay_dir;
        char **argv;
};

static int die(const char *what) {
        fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
        return 127;
}

static int child(void *userdata) {
        const struct floor_args *a = userdata;
        char upper[4096], work[4096], opts[8192];
        const char *root = a->rootfs;

        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return die("make / private");
        if (a->overlay_dir) {
                char tmpl[4096];

                if (snprintf(tmpl, sizeof(tmpl), "%s/o.XXXXXX", a->overlay_dir) >=
                    (int)sizeof(tmpl)) {
                        errno = ENAMETOOLONG;
                        return die(a->overlay_dir);
                }
                if (!mkdtemp(tmpl))
                        return die("mkdtemp");
                if (snprintf(upper, sizeof(upper), "%s/upper", tmpl) >= (int)sizeof(upper) ||
                    snprintf(work, sizeof(work), "%s/work", tmpl) >= (int)sizeof(work) ||
                    snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s,volatile",
                             a->rootfs, upper, work) >= (int)sizeof(opts)) {
                        errno = ENAMETOOLONG;
                        return die(a->overlay_dir);
                }
                if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)
                        return die("mkdir upper/work");
                /* The mount point DIR/mnt, the same for every run: the mount is private to
                 * this mount namespace. */
                (void)snprintf(tmpl, sizeof(tmpl), "%s/mnt", a->overlay_dir);
                root = tmpl;
                if (mount("overlay", root, "overlay", MS_NODEV, opts) < 0)
                        return die("mount overlay");
        } else if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
                return die("bind-mount the rootfs");
        if (chdir(root) < 0)
                return die("chdir rootfs");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return die("pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
                return die("detach the old root");
        if (chdir("/") < 0)
                return die("chdir /");
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return die("mount /proc");
        execv(a->argv[0], a->argv);
        return die("exec");
}

static int exec_file(int argc, char **argv) {
        char line[256];
        FILE *f;

        if (argc < 4) {
                fprintf(stderr, "usage: floor --exec-file FILE CMD [ARGS...]\n");
                return 2;
        }
        f = fopen(argv[2], "re");
        if (!f || !fgets(line, sizeof(line), f))
                return die(argv[2]);
        fclose(f);
        line[strcspn(line, "\n")] = 0;
        for (int i = 3; i < argc; i++)
                if (strcmp(argv[i], "{}") == 0)
                        argv[i] = line;
        execvp(argv[3], argv + 3);
        return die(argv[3]);
}

int main(int argc, char **argv) {
        static char stack[64 * 1024] __attribute__((aligned(16)));
        struct floor_args a = {};
        int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
        int i, ws;
        pid_t pid;

        if (argc > 1 && strcmp(argv[1], "--exec-file") == 0)
                return exec_file(argc, argv);
        for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                if (strcmp(argv[i], "--net") == 0)
                        flags |= CLONE_NEWNET;
                else if (strncmp(argv[i], "--overlay=", 10) == 0)
                        a.overlay_dir = argv[i] + 10;
                else
                        break;
        }
        if (argc - i < 2 || argv[i][0] != '/') {
                fprintf(stderr, "usage: floor [--net] [--overlay=DIR] /ROOTFS CMD [ARGS...]\n"
                                "       floor --exec-file FILE CMD [ARGS...]\n");
                return 2;
        }
        a.rootfs = argv[i];
        a.argv = argv + i + 1;
        pid = clone(child, stack + sizeof(stack), flags, &a);
        if (pid < 0)
                return die("clone");
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return die("waitpid");
        if (WIFSIGNALED(ws))
                return 128 + WTERMSIG(ws);
        return WEXITSTATUS(ws);
}
