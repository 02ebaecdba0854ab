/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "sealed-exec.h"
#include "syscall.h"

extern char **environ;

bool pod_fd_sealed(int fd) {
        int seals = fcntl(fd, F_GET_SEALS);
        return seals >= 0 && (seals & POD_SEALS) == POD_SEALS;
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
int pod_sealed_copy(int src_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        off_t off = 0, size;

        if (fstat(src_fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EACCES;
        size = exec_extent(src_fd, st.st_size);
#if defined(__SANITIZE_ADDRESS__)
        /* Sanitizer reports symbolize /proc/self/exe: give them the whole file. */
        size = st.st_size;
#endif
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
        /* The section headers were left out: say so in the copy's ELF header, or whatever
         * reads sections through /proc/self/exe (a debugger, a profiler, a sanitizer's
         * symbolizer) would map past the end of the file and die of SIGBUS. */
        if (size < st.st_size) {
                Elf64_Ehdr eh;

                if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
                        return -EIO;
                eh.e_shoff = 0;
                eh.e_shnum = 0;
                eh.e_shstrndx = SHN_UNDEF;
                if (pwrite(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
                        return errno > 0 ? -errno : -EIO;
        }
        if (fcntl(fd, F_ADD_SEALS, POD_SEALS) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int pod_exec_sealed(const char *path, const char *name, char *const argv[]) {
        _cleanup_close_ int src = -EBADF, copy = -EBADF;
        _cleanup_free_ char *real = NULL;
        char magic[SELFMAG];
        int r;

        src = open(path, O_RDONLY | O_CLOEXEC);
        if (src < 0)
                return -errno;
        if (pread(src, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
            memcmp(magic, ELFMAG, SELFMAG) != 0)
                return -ENOEXEC;
        real = realpath(path, NULL);
        if (!real)
                return -errno;
        copy = pod_sealed_copy(src, name);
        if (copy < 0)
                return copy;
        if (setenv(POD_STAGE1_SELF_ENV, real, 1) < 0)
                return -errno;
        (void)sys_execveat(copy, "", argv, environ, AT_EMPTY_PATH);
        r = -errno;
        (void)unsetenv(POD_STAGE1_SELF_ENV);
        return r;
}
