/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Step 1: namespaces.  The pod shares one PID, UTS, IPC (unless --ipc=parent) and (unless
 * --net=host) network namespace between all its apps; every app later gets its own mount namespace
 * (init.c) cloned from the pod's, so the pod-level mount namespace created here is the template. */
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "isolator.h"
#include "log.h"
#include "manifest.h"
#include "stage1.h"
#include "syscall.h"

int stage1_ns_fork_init(bool rootless) {
        _cleanup_close_ int own = -EBADF, self = -EBADF;
        pid_t pid;

        own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (own < 0)
                return -errno;
        /* Kernels before 5.3: the sync pipe's EOF is the only guard (see below). */
        self = sys_pidfd_open(getpid(), 0);
        /* unshare(CLONE_NEWPID) only moves our future children: the first one becomes PID 1
         * of the new namespace (pid_namespaces(7)).  Forking (rather than clone() with a
         * separate stack) keeps the child an ordinary copy of us, sanitizers included. */
        /* Rootless: no way back to our PID namespace by setns() (see sys_clone_fork()). */
        if (rootless)
                pid = sys_clone_fork(CLONE_NEWPID | SIGCHLD);
        else if (unshare(CLONE_NEWPID) < 0)
                return -errno;
        else
                pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                struct pollfd p = { .fd = self, .events = POLLIN };

                /* If we, the supervising parent, die, the pod dies with us.  We may already
                 * be gone by the time the child gets here (after the sync pipe's "go", so the
                 * child would not see its EOF): then the signal never comes, and only the
                 * pidfd, readable once we exited, tells. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                        _exit(EXIT_POD_FAILURE);
                if (self >= 0 && poll(&p, 1, 0) != 0)
                        _exit(EXIT_POD_FAILURE);
                self = safe_close(self);
                return 0;
        }
        /* Point our own later children back at our namespace: once the pod init is gone,
         * the new namespace refuses forks (and sanitizers fork at exit). */
        if (!rootless && setns(own, CLONE_NEWPID) < 0) {
                int r = -errno;
                (void)kill(pid, SIGKILL);
                return r;
        }
        return pid;
}

/* Loopback is the only interface of a fresh network namespace, and it starts down. */
int stage1_ns_loopback_up(void) {
        _cleanup_close_ int fd = -EBADF;
        struct ifreq ifr = {};

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}

int stage1_ns_setup_init(const struct stage1_config *c, struct pod_error *reterr) {
        int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
        int r;

        /* --ipc=parent (rkt's): System V IPC and POSIX message queues shared with the host,
         * as rkt's stage1 asked systemd-nspawn (SYSTEMD_NSPAWN_SHARE_NS_IPC). */
        if (c->ipc_parent)
                flags &= ~CLONE_NEWIPC;
        if (c->net == STAGE1_NET_NONE && c->userns_netns_fd < 0)
                flags |= CLONE_NEWNET;
        /* --private-users: the one userns.c made inside the pod's user namespace, "lo" up;
         * rootless --net=default: the one net-user.c made and attached its helper to. */
        if ((c->net == STAGE1_NET_NONE || c->net == STAGE1_NET_USER) && c->userns_netns_fd >= 0 &&
            setns(c->userns_netns_fd, CLONE_NEWNET) < 0)
                return pod_error_set(reterr, -errno,
                                     "Failed to join the pod's network namespace: %m");
        /* CNI: the namespace stage1 made and the plugins configured (net.c). */
        if (c->net == STAGE1_NET_CNI) {
                r = stage1_net_join(c, reterr);
                if (r < 0)
                        return r;
        }
        if (unshare(flags) < 0)
                return pod_error_set(reterr, -errno, "Failed to create the pod's namespaces: %m");

        /* A new mount namespace inherits shared propagation from the host (systemd makes "/"
         * shared): without this every mount below would appear on the host, and host
         * unmounts would reach into the pod.  MS_REC covers every submount. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return pod_error_set(reterr, -errno, "Failed to make '/' rprivate: %m");

        /* Our own /proc shows the pod's PID namespace: init resolves /proc/<pid>/ns and
         * /proc/self/fd/N of its own children through it. */
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return pod_error_set(reterr, -errno, "Failed to mount the pod's /proc: %m");

        if (sethostname(c->hostname, strlen(c->hostname)) < 0)
                return pod_error_set(reterr, -errno, "Failed to set hostname '%s': %m",
                                     c->hostname);

        if (c->net == STAGE1_NET_NONE && c->userns_netns_fd < 0) {
                r = stage1_ns_loopback_up();
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to bring up 'lo': %m");
        }
        return 0;
}

int stage1_ns_apply_sysctl(const struct stage1_config *c, struct pod_error *reterr) {
        if (!c->sysctl)
                return 0;
        for (size_t i = 0; i < c->sysctl->sysctl.n_entries; i++) {
                const struct pod_kv *kv = &c->sysctl->sysctl.entries[i];
                _cleanup_close_ int fd = -EBADF;
                char path[512];
                int r;

                /* config.c allowed only net.* with the pod's own network namespace: those
                 * keys are per namespace, everything else would change the host. */
                (void)snprintf(path, sizeof(path), "/proc/sys/%s", kv->name);
                for (char *p = path + strlen("/proc/sys/"); *p; p++)
                        if (*p == '.')
                                *p = '/';
                fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return pod_error_set(reterr, -errno, "Failed to open sysctl '%s': %m",
                                             kv->name);
                r = loop_write(fd, kv->value, strlen(kv->value));
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to set sysctl '%s' to '%s': %m",
                                             kv->name, kv->value);
        }
        return 0;
}
