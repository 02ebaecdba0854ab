/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sealed binaries (ABI.md "Sealed binaries", runc CVE-2019-5736).  A process of the pod
 * that gets hold of /proc/PID/exe of a stage1 process (the pod init is PID 1 of the pod's
 * PID namespace; every app-starting child is visible there too) must not find the host's
 * pod-stage1 or pod-stage1-supervise behind it: it could keep the file open and rewrite it
 * once nothing executes it, and the next "pod run" would run its payload as root.  So
 * pod-stage1 re-executes itself from a sealed memfd copy before it forks anything, and
 * copies pod-stage1-supervise into another one for the later hand-overs (main.c, init.c).
 * Owns: the copies and the execs from them.  Does not own: when they happen (main.c). */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "path-util.h"
#include "stage1.h"
#include "syscall.h"

/* Nothing can be written, resized, or unsealed: the copy stays what was copied. */
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
/* The installed pod-stage1's path, from the first execution to the sealed one (it is only
 * believed when /proc/self/exe is sealed, i.e. after our own re-execution). */
#define SELF_ENV "POD_STAGE1_SELF"

extern char **environ;

static char *self_path;            /* the installed pod-stage1, when running sealed */
static int supervisor_fd = -EBADF; /* sealed copy of pod-stage1-supervise */

static bool fd_sealed(int fd) {
        int seals = fcntl(fd, F_GET_SEALS);
        return seals >= 0 && (seals & SEALS) == SEALS;
}

/* How much of an ELF file of size 'size' execve() reads: the ELF header, the program
 * headers and what they point to (segments, interpreter name, notes).  Section headers,
 * symbol tables and debug info (3/4 of an unstripped pod-stage1) come after all that and are
 * never read by the kernel or the dynamic loader, so the copy can leave them out.  Anything
 * that does not look like a native ELF file, or points past its end, is copied whole. */
static off_t exec_extent(int src_fd, off_t size) {
        Elf64_Ehdr eh;
        off_t end;

        if (pread(src_fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
            memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
            eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum >= PN_XNUM ||
            eh.e_phoff > (uint64_t)size)
                return size;
        end = (off_t)(eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr));
        if (end < (off_t)sizeof(eh))
                end = (off_t)sizeof(eh);
        for (unsigned i = 0; i < eh.e_phnum; i++) {
                Elf64_Phdr ph;

                if (pread(src_fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
                            (ssize_t)sizeof(ph) ||
                    ph.p_offset > (uint64_t)size || ph.p_filesz > (uint64_t)size - ph.p_offset)
                        return size;
                if ((off_t)(ph.p_offset + ph.p_filesz) > end)
                        end = (off_t)(ph.p_offset + ph.p_filesz);
        }
        return end <= size ? end : size;
}

/* A sealed, close-on-exec memfd holding what execve() needs of src_fd (exec_extent()).
 * sendfile(2) copies in the kernel (page cache to shmem), without a round trip through
 * user memory. */
static int sealed_copy(int src_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        off_t off = 0, size;

        if (fstat(src_fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EACCES;
        size = exec_extent(src_fd, st.st_size);
        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, size) < 0)
                return -errno;
        while (off < size) {
                ssize_t n = sendfile(fd, src_fd, &off, (size_t)(size - off));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* the file shrank under us */
        }
        if (fcntl(fd, F_ADD_SEALS, SEALS) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int stage1_reexec_sealed(char **argv) {
        _cleanup_close_ int self = -EBADF, copy = -EBADF;
        _cleanup_free_ char *path = NULL;
        const char *p;

        self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        if (fd_sealed(self)) {
                /* The second time: we are the copy.  execveat() named us after the fd
                 * ("3"); ps and /proc/PID/comm should say what we are. */
                (void)prctl(PR_SET_NAME, "pod-stage1", 0, 0, 0);
                p = getenv(SELF_ENV);
                if (p && !self_path) {
                        self_path = strdup(p);
                        if (!self_path)
                                return -ENOMEM;
                }
                (void)unsetenv(SELF_ENV);
                return 0;
        }
        path = realpath("/proc/self/exe", NULL);
        if (!path)
                return -errno;
        copy = sealed_copy(self, "pod-stage1");
        if (copy < 0)
                return copy;
        if (setenv(SELF_ENV, path, 1) < 0)
                return -errno;
        /* Same argv, same environment, same fds (the lock, socket activation): only the
         * file behind /proc/self/exe changes. */
        (void)sys_execveat(copy, "", argv, environ, AT_EMPTY_PATH);
        {
                int r = -errno;
                (void)unsetenv(SELF_ENV);
                return r;
        }
}

int stage1_self_path(char **ret) {
        char *p = self_path ? strdup(self_path) : realpath("/proc/self/exe", NULL);

        if (!p)
                return -errno ?: -ENOMEM;
        *ret = p;
        return 0;
}

int stage1_supervisor_seal(void) {
        _cleanup_free_ char *self = NULL, *path = NULL;
        char *slash;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (supervisor_fd >= 0)
                return 0;
        r = stage1_self_path(&self);
        if (r < 0)
                return r;
        slash = strrchr(self, '/');
        if (!slash)
                return -EINVAL;
        *slash = 0;
        path = path_join(self, "pod-stage1-supervise");
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = sealed_copy(fd, "pod-stage1-supervise");
        if (r < 0)
                return r;
        supervisor_fd = r;
        return 0;
}

int stage1_supervisor_exec(char **argv) {
        if (supervisor_fd < 0)
                return -ENOENT;
        (void)sys_execveat(supervisor_fd, "", argv, environ, AT_EMPTY_PATH);
        return -errno;
}
