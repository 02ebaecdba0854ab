/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metadata server's process (mds-server.h).  Normally the pod init forks a child that
 * executes the sealed static pod-stage1-supervise copy (selfexec.c) as "--mds", still root
 * with every capability the init had; the child hands it the listening socket and a sealed
 * memfd with the pod's data (the manifests, the annotations, the token, the signing key).
 * Here it makes itself undumpable again (execve() reset that; until then an app cannot open
 * our /proc files anyway: ptrace_may_access() wants the target's permitted capabilities to
 * be a subset of the caller's, and we hold all of the init's), checks and reads the data,
 * closes the memfd, drops to nobody and serves.  So a running pod's server maps nothing but
 * the static binary (issue 16: ~0.7 MB resident instead of pod-stage1's 1.1 MB and five
 * libraries), with the set-up ABI.md "Metadata service" describes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cap-util.h"
#include "log.h"
#include "macro.h"
#include "mds-pack.h"
#include "mds-server.h"
#include "syscall.h"

#define MDS_DEADLINE_MS 2000 /* per connection, reading and writing */

/* Every capability out of every set, the bounding set included. */
static int drop_caps(void) {
        for (int cap = 0; cap <= pod_cap_last(); cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        return pod_cap_set(0, 0, 0);
}

int stage1_mds_drop_privileges(bool keep_ids) {
        gid_t gid = STAGE1_MDS_UID;
        int r;

        if (chdir("/") < 0)
                return -errno;
        if (keep_ids) {
                r = drop_caps();
                if (r < 0)
                        return r;
        } else if (setgroups(1, &gid) < 0 ||
                   setresgid(STAGE1_MDS_UID, STAGE1_MDS_UID, STAGE1_MDS_UID) < 0 ||
                   setresuid(STAGE1_MDS_UID, STAGE1_MDS_UID, STAGE1_MDS_UID) < 0)
                return -errno;
        /* A change of uid clears the death signal (credentials(7)): set it again.  The PID
         * namespace ends us with the init in any case. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

static long long now_ms(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until the deadline; false when it passed. */
static bool wait_fd(int fd, short events, long long deadline) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                long long left = deadline - now_ms();
                int k;

                if (left <= 0)
                        return false;
                k = poll(&p, 1, (int)left);
                if (k > 0)
                        return true;
                if (k == 0 || errno != EINTR)
                        return false;
        }
}

static void serve_one(const struct pod_mds *m, int cfd) {
        _cleanup_free_ char *out = NULL;
        char buf[POD_MDS_REQUEST_MAX];
        struct pod_mds_request req = {};
        long long deadline = now_ms() + MDS_DEADLINE_MS;
        size_t n = 0, size = 0, done = 0;
        int r = -EAGAIN;

        while (r == -EAGAIN) {
                ssize_t k;

                if (!wait_fd(cfd, POLLIN, deadline))
                        return;
                k = read(cfd, buf + n, sizeof(buf) - n);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k <= 0)
                        return;
                n += (size_t)k;
                r = pod_mds_request_parse(buf, n, &req);
                if (r == -EAGAIN && n == sizeof(buf))
                        r = -EMSGSIZE;
        }
        if (r >= 0) {
                r = pod_mds_respond(m, &req, &out, &size);
                pod_mds_request_done(&req);
        } else
                r = pod_mds_error_response(r, &out, &size);
        if (r < 0)
                return;
        while (done < size) {
                ssize_t k;

                if (!wait_fd(cfd, POLLOUT, deadline))
                        return;
                k = send(cfd, out + done, size - done, MSG_NOSIGNAL);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k <= 0)
                        return;
                done += (size_t)k;
        }
        (void)shutdown(cfd, SHUT_WR);
}

_Noreturn void stage1_mds_serve(const struct pod_mds *m, int lfd) {
        for (;;) {
                int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
                                continue;
                        log_error_errno(-errno, "Failed to accept a connection: %m");
                        (void)usleep(100 * 1000); /* EMFILE, ENOMEM: do not spin */
                        continue;
                }
                serve_one(m, cfd);
                (void)close(cfd);
        }
}

/* The data memfd: sealed against any change (nobody can alter it under us), read whole. */
static int read_data(int fd, struct pod_mds_unpacked **ret) {
        const int want = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t done = 0;
        int seals, r;

        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0)
                return -errno;
        if ((seals & want) != want)
                return -EPERM;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > POD_MDS_PACK_MAX)
                return -EBADMSG;
        buf = malloc((size_t)st.st_size);
        if (!buf)
                return -ENOMEM;
        while (done < (size_t)st.st_size) {
                ssize_t k = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EBADMSG;
                done += (size_t)k;
        }
        r = pod_mds_unpack(buf, done, ret);
        explicit_bzero(buf, done);
        return r;
}

int stage1_mds_server_main(int argc, char **argv) {
        _cleanup_(pod_mds_unpacked_freep) struct pod_mds_unpacked *u = NULL;
        bool keep_ids = false;
        int r, v = 0;
        socklen_t vl = sizeof(v);

        /* The caller (supervise.c) made us undumpable first thing. */
        (void)prctl(PR_SET_NAME, "pod-stage1-mds", 0, 0, 0);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        log_set_prefix("pod-stage1(mds)");
        if (argc == 3 && strcmp(argv[2], STAGE1_MDS_KEEP_IDS) == 0)
                keep_ids = true;
        else if (argc != 2) {
                log_error("Usage: pod-stage1-supervise --mds [%s]", STAGE1_MDS_KEEP_IDS);
                return STAGE1_MDS_EXIT_FAILURE;
        }
        /* Only what the init handed over (and 0-2) stays open. */
        if (sys_close_range(STAGE1_MDS_DATA_FD + 1, ~0U, 0) < 0) {
                log_error_errno(-errno, "Failed to close fds: %m");
                return STAGE1_MDS_EXIT_FAILURE;
        }
        if (getsockopt(STAGE1_MDS_LISTEN_FD, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) < 0 || !v) {
                log_error("fd %d is not a listening socket", STAGE1_MDS_LISTEN_FD);
                return STAGE1_MDS_EXIT_FAILURE;
        }
        r = read_data(STAGE1_MDS_DATA_FD, &u);
        (void)close(STAGE1_MDS_DATA_FD);
        if (r < 0) {
                log_error_errno(r, "Failed to read the pod's metadata from fd %d: %m",
                                STAGE1_MDS_DATA_FD);
                return STAGE1_MDS_EXIT_FAILURE;
        }
        (void)signal(SIGPIPE, SIG_IGN);
        r = stage1_mds_drop_privileges(keep_ids);
        if (r < 0) {
                log_error_errno(r, "Failed to drop privileges: %m");
                return STAGE1_MDS_EXIT_FAILURE;
        }
        stage1_mds_serve(&u->m, STAGE1_MDS_LISTEN_FD);
}
