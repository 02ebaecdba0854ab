/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The appc metadata service of one pod (ABI.md "Metadata service"): a child of the pod init,
 * in the pod's PID and network namespaces, listening on 127.0.0.1 at a port the kernel
 * picks, behind a 128-bit random token that is the first component of AC_METADATA_URL.
 * What it serves is this pod's, read before any app started (manifests from the pod dir,
 * the signing key from stage0's fd): a pod can only ever be told about itself, whatever it
 * sends, and no other pod can reach this loopback (with --net=host, which shares the host's,
 * the token is what another pod cannot know).  It dies with the pod: when the init exits,
 * the kernel kills everything left in the PID namespace.
 *
 * The server drops to nobody (no capabilities, no_new_privs, not dumpable) once it holds
 * the socket and the data (it signs with src/hmac-sha512.c: no libcrypto to load); one
 * connection at a time, each with a deadline, so a stuck client only delays its own pod.
 * Request parsing and answers: src/mds.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cap-util.h"
#include "fd-util.h"
#include "log.h"
#include "mds.h"
#include "sha512.h"
#include "stage1.h"
#include "syscall.h"

#define MDS_UID 65534 /* nobody */

/* Every capability out of every set, the bounding set included. */
static int drop_caps(void) {
        for (int cap = 0; cap <= pod_cap_last(); cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return -1;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -1;
        return pod_cap_set(0, 0, 0);
}
#define MDS_DEADLINE_MS 2000 /* per connection, reading and writing */

int stage1_mds_read_key(struct stage1_config *c, struct pod_error *reterr) {
        const char *e = getenv(POD_MDS_KEY_FD_ENV);
        _cleanup_close_ int fd = -EBADF;
        char *end;
        long v;
        int r;

        if (!e) {
                /* Run by hand (ABI.md): signatures verify within this pod only. */
                if (getrandom(c->mds_key, sizeof(c->mds_key), 0) != (ssize_t)sizeof(c->mds_key))
                        return pod_error_set(reterr, -EIO, "Failed to generate a signing key");
                return 0;
        }
        errno = 0;
        v = strtol(e, &end, 10);
        if (errno != 0 || *end != 0 || v < 3 || v > INT32_MAX || fcntl((int)v, F_GETFD) < 0)
                return pod_error_set(reterr, -EBADF, "%s='%s' is not an open fd",
                                     POD_MDS_KEY_FD_ENV, e);
        fd = (int)v;
        (void)unsetenv(POD_MDS_KEY_FD_ENV);
        r = pod_mds_key_read(fd, c->mds_key, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Metadata service");
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

/* The forked server.  Never returns. */
static _Noreturn void server(const struct stage1_config *c, int lfd, const char *token) {
        _cleanup_free_ struct pod_mds_app *apps = NULL;
        struct pod_mds m = {
                .token = token,
                .uuid = c->uuid,
                .pod_manifest = c->manifest_text,
                .annotations = c->manifest->annotations,
                .n_annotations = c->manifest->n_annotations,
                .n_apps = c->n_apps,
        };
        gid_t gid = MDS_UID;
        sigset_t none;

        /* The init's blocked signals are not ours; we die with the init (and with the PID
         * namespace in any case). */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)signal(SIGPIPE, SIG_IGN);
        log_set_prefix("pod-stage1(mds)");

        /* Only the listening socket stays; 0-2 become /dev/null's or stay the journal. */
        if (dup2(lfd, 3) < 0 || sys_close_range(4, ~0U, 0) < 0) {
                log_error_errno(-errno, "Failed to close fds: %m");
                _exit(EXIT_POD_FAILURE);
        }
        lfd = 3;
        (void)fd_cloexec(lfd, true);

        apps = calloc(c->n_apps ?: 1, sizeof(*apps));
        if (!apps)
                _exit(EXIT_POD_FAILURE);
        for (size_t i = 0; i < c->n_apps; i++) {
                const struct pod_runtime_app *ra = &c->manifest->apps[i];

                apps[i] = (struct pod_mds_app){
                        .name = ra->name,
                        .image_id = ra->image.id,
                        .image_manifest = c->apps[i].manifest_text,
                        .image_annotations = c->images[i]->annotations,
                        .n_image_annotations = c->images[i]->n_annotations,
                        .annotations = ra->annotations,
                        .n_annotations = ra->n_annotations,
                };
        }
        m.apps = apps;
        memcpy(m.key, c->mds_key, sizeof(m.key));

        /* To nobody; a rootless user without a subordinate range maps no nobody (and may not
         * call setgroups): then it keeps the user's own IDs without any capability. */
        if (chdir("/") < 0 ||
            (stage1_setgroups_denied()
                     ? drop_caps() < 0
                     : setgroups(1, &gid) < 0 || setresgid(MDS_UID, MDS_UID, MDS_UID) < 0 ||
                               setresuid(MDS_UID, MDS_UID, MDS_UID) < 0) ||
            prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                log_error_errno(-errno, "Failed to drop privileges: %m");
                _exit(EXIT_POD_FAILURE);
        }

        for (;;) {
                int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
                                continue;
                        log_error_errno(-errno, "Failed to accept a connection: %m");
                        (void)usleep(100 * 1000); /* EMFILE, ENOMEM: do not spin */
                        continue;
                }
                serve_one(&m, cfd);
                (void)close(cfd);
        }
}

int stage1_mds_start(struct stage1_config *c, struct pod_error *reterr) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t sl = sizeof(sa);
        _cleanup_close_ int lfd = -EBADF;
        uint8_t raw[POD_MDS_TOKEN_SIZE / 2];
        char token[POD_MDS_TOKEN_SIZE + 1];
        pid_t pid;

        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                return pod_error_set(reterr, -EIO, "Failed to generate the metadata token");
        pod_hex_encode(raw, sizeof(raw), token);

        /* Port 0: the kernel picks a free one, so no app port ever clashes with ours (and
         * pods sharing the host's network namespace do not clash with each other). */
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0)
                return pod_error_set(reterr, -errno, "Metadata service: socket: %m");
        if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0 ||
            getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
                return pod_error_set(reterr, -errno,
                                     "Metadata service: failed to listen on 127.0.0.1: %m");
        free(c->mds_url);
        if (asprintf(&c->mds_url, "http://127.0.0.1:%u/%s", (unsigned)ntohs(sa.sin_port), token) <
            0) {
                c->mds_url = NULL;
                return -ENOMEM;
        }

        pid = fork();
        if (pid < 0)
                return pod_error_set(reterr, -errno, "Metadata service: fork: %m");
        if (pid == 0)
                server(c, lfd, token);
        explicit_bzero(raw, sizeof(raw));
        log_debug("Metadata service (PID %d) at http://127.0.0.1:%u/", (int)pid,
                  (unsigned)ntohs(sa.sin_port));
        return 0;
}
