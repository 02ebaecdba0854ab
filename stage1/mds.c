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
 * Here the init opens the socket, picks the token, packs the data (src/mds-pack.c) into a
 * sealed memfd and forks; the child executes the sealed static pod-stage1-supervise copy
 * (selfexec.c) as "--mds" with the socket and the memfd, so the server of a running pod maps
 * no library (issue 16).  Without that copy it serves from pod-stage1 as before.  Either way
 * it drops to nobody (no capabilities, no_new_privs, not dumpable) once it holds the socket
 * and the data, and serves one connection at a time, each with a deadline, so a stuck
 * client only delays its own pod (stage1/mds-server.c).  Request parsing and answers:
 * src/mds.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-util.h"
#include "log.h"
#include "mds-pack.h"
#include "mds-server.h"
#include "mds.h"
#include "sha512.h"
#include "stage1.h"
#include "syscall.h"

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

/* The data for the server as a sealed memfd (mds-server.c reads it after its exec). */
static int data_memfd(const struct pod_mds *m) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *blob = NULL;
        size_t size = 0, done = 0;
        int r;

        r = pod_mds_pack(m, &blob, &size);
        if (r < 0)
                return r;
        fd = memfd_create("pod-mds-data", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                r = -errno;
        while (r >= 0 && done < size) {
                ssize_t k = write(fd, blob + done, size - done);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        r = k < 0 ? -errno : -EIO;
                else
                        done += (size_t)k;
        }
        explicit_bzero(blob, size);
        if (r < 0)
                return r;
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* Moves fds to 3, 4, ... in order (any of them may already sit on a target) and closes
 * every other fd above 2; all of them end up without O_CLOEXEC. */
static int move_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++) {
                fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, (int)(3 + n));
                if (fds[i] < 0)
                        return -errno;
        }
        for (size_t i = 0; i < n; i++)
                if (dup2(fds[i], (int)(3 + i)) < 0)
                        return -errno;
        if (sys_close_range((unsigned)(3 + n), ~0U, 0) < 0)
                return -errno;
        return 0;
}

/* The forked server.  Never returns.  data_fd < 0: no sealed pod-stage1-supervise (or no
 * data memfd): serve from this process image, as pod-stage1. */
static _Noreturn void server(const struct pod_mds *m, int lfd, int data_fd, bool keep_ids) {
        sigset_t none;
        int r;

        /* The init's blocked signals are not ours; we die with the init (and with the PID
         * namespace in any case). */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        log_set_prefix("pod-stage1(mds)");

        if (data_fd >= 0) {
                /* 3: the socket, 4: the data, 5: the sealed supervisor (O_CLOEXEC: execveat()
                 * of a static ELF binary needs no path to it afterwards). */
                int fds[3] = { lfd, data_fd, stage1_supervisor_fd() };
                char *argv[] = { (char *)"pod-stage1-supervise", (char *)"--mds",
                                 keep_ids ? (char *)STAGE1_MDS_KEEP_IDS : NULL, NULL };
                char *envp[] = { NULL };

                r = move_fds(fds, 3);
                if (r >= 0 && fcntl(5, F_SETFD, FD_CLOEXEC) < 0)
                        r = -errno;
                if (r < 0) {
                        log_error_errno(r, "Failed to arrange fds: %m");
                        _exit(EXIT_POD_FAILURE);
                }
                (void)sys_execveat(5, "", argv, envp, AT_EMPTY_PATH);
                log_debug_errno(-errno, "Failed to execute pod-stage1-supervise --mds, "
                                        "serving in place: %m");
                (void)close(4);
                (void)close(5);
        } else {
                int fds[1] = { lfd };

                r = move_fds(fds, 1);
                if (r < 0) {
                        log_error_errno(r, "Failed to close fds: %m");
                        _exit(EXIT_POD_FAILURE);
                }
        }
        lfd = STAGE1_MDS_LISTEN_FD;
        (void)fd_cloexec(lfd, true);
        (void)signal(SIGPIPE, SIG_IGN);

        r = stage1_mds_drop_privileges(keep_ids);
        if (r < 0) {
                log_error_errno(r, "Failed to drop privileges: %m");
                _exit(EXIT_POD_FAILURE);
        }
        stage1_mds_serve(m, lfd);
}

int stage1_mds_start(struct stage1_config *c, struct pod_error *reterr) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t sl = sizeof(sa);
        _cleanup_close_ int lfd = -EBADF;
        uint8_t raw[POD_MDS_TOKEN_SIZE / 2];
        char token[POD_MDS_TOKEN_SIZE + 1];
        _cleanup_free_ struct pod_mds_app *apps = NULL;
        _cleanup_close_ int data_fd = -EBADF;
        /* A rootless user without a subordinate range maps no nobody (and may not call
         * setgroups): then the server keeps the user's own IDs without any capability. */
        bool keep_ids = stage1_setgroups_denied();
        struct pod_mds m = {
                .token = token,
                .uuid = c->uuid,
                .pod_manifest = c->manifest_text,
                .annotations = c->manifest->annotations,
                .n_annotations = c->manifest->n_annotations,
                .n_apps = c->n_apps,
        };
        pid_t pid;
        int r = 0;

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

        apps = calloc(c->n_apps ?: 1, sizeof(*apps));
        if (!apps)
                return -ENOMEM;
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
        /* The server is executed from the sealed static supervisor when there is one. */
        if (stage1_supervisor_fd() >= 0) {
                data_fd = data_memfd(&m);
                if (data_fd < 0)
                        log_debug_errno(data_fd, "Failed to hand the metadata over, serving "
                                                 "from pod-stage1: %m");
        }

        pid = fork();
        if (pid < 0)
                r = pod_error_set(reterr, -errno, "Metadata service: fork: %m");
        else if (pid == 0)
                server(&m, lfd, data_fd, keep_ids);
        explicit_bzero(raw, sizeof(raw));
        explicit_bzero(token, sizeof(token));
        explicit_bzero(m.key, sizeof(m.key));
        if (r < 0)
                return r;
        log_debug("Metadata service (PID %d) at http://127.0.0.1:%u/", (int)pid,
                  (unsigned)ntohs(sa.sin_port));
        return 0;
}
