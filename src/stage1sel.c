/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "manifest.h"
#include "path-resolve.h"
#include "stage1sel.h"
#include "store.h"

int pod_stage1_check_fd(int fd, const char *what, struct pod_error *reterr) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return pod_error_set(reterr, -errno, "Cannot execute stage1 '%s': %m", what);
        if (!S_ISREG(st.st_mode))
                return pod_error_set(reterr, -EISDIR, "Cannot execute stage1 '%s': not a file",
                                     what);
        if ((st.st_mode & 0111) == 0)
                return pod_error_set(reterr, -EACCES, "Cannot execute stage1 '%s': not executable",
                                     what);
        /* It runs as root with the pod's lock: whoever may write it owns the host. */
        if (st.st_uid != 0)
                return pod_error_set(reterr, -EPERM,
                                     "Refusing stage1 '%s': owned by uid %u, not root (a stage1 "
                                     "runs as root)",
                                     what, (unsigned)st.st_uid);
        if (st.st_mode & 0022)
                return pod_error_set(reterr, -EPERM,
                                     "Refusing stage1 '%s': writable by its group or others "
                                     "(mode %04o; a stage1 runs as root)",
                                     what, (unsigned)(st.st_mode & 07777));
        return 0;
}

int pod_stage1_check_path(const char *path, struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Cannot execute stage1 '%s': %m", path);
        return pod_stage1_check_fd(fd, path, reterr);
}

int pod_stage1_open_image(struct pod_store *s, const char *id, int *ret_fd,
                          struct pod_error *reterr) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        _cleanup_close_ int tree = -EBADF, rootfs = -EBADF, fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        const char *entry;
        size_t size = 0;
        int r;

        r = pod_store_render_tree(s, id, &tree, NULL, reterr);
        if (r < 0)
                return r;
        r = read_full_file_at(tree, "manifest", (1u << 20), &text, &size);
        if (r < 0)
                return pod_error_set(reterr, r,
                                     "Stage1 image '%s': failed to read its manifest: %m", id);
        r = pod_image_manifest_parse(text, size, &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Stage1 image '%s'", id);
        entry = pod_kv_get(m->annotations, m->n_annotations, POD_STAGE1_RUN_ANNOTATION);
        if (!entry || entry[0] != '/')
                return pod_error_set(reterr, -ENOEXEC,
                                     "Image '%s' (%s) is no stage1 image: its manifest has no "
                                     "annotation '%s' naming the absolute path of its entry "
                                     "point",
                                     m->name, id, POD_STAGE1_RUN_ANNOTATION);
        rootfs = openat(tree, "rootfs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfs < 0)
                return pod_error_set(reterr, -errno, "Stage1 image '%s': no rootfs: %m", id);
        /* Symlinks resolve inside the image, never to a host path. */
        fd = pod_open_in_root(rootfs, entry, O_PATH);
        if (fd < 0)
                return pod_error_set(reterr, fd, "Stage1 image '%s': entry point '%s': %s", id,
                                     entry, strerror(-fd));
        r = pod_stage1_check_fd(fd, entry, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Stage1 image '%s'", id);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int pod_stage1_record_write(int pod_fd, bool image, const char *value, bool sync) {
        _cleanup_free_ char *text = NULL;
        int n;

        n = asprintf(&text, "%s %s\n", image ? "image" : "path", value);
        if (n < 0)
                return -ENOMEM;
        return write_file_at(pod_fd, POD_STAGE1_RECORD, text, (size_t)n, 0644, sync);
}

int pod_stage1_record_read(int pod_fd, bool *ret_image, char **ret_value,
                           struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0, len;
        char *value, *v;
        int r;

        r = read_full_file_at(pod_fd, POD_STAGE1_RECORD, 4096, &text, &size);
        if (r == -ENOENT) {
                *ret_image = false;
                *ret_value = NULL;
                return 0;
        }
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s' in the pod dir: %m",
                                     POD_STAGE1_RECORD);
        len = strlen(text);
        if (len == 0 || text[len - 1] != '\n')
                return pod_error_set(reterr, -EBADMSG, "Malformed '%s' in the pod dir",
                                     POD_STAGE1_RECORD);
        text[len - 1] = 0;
        if (strneq(text, "path /", 6))
                value = text + 5;
        else if (strneq(text, "image sha512-", 13))
                value = text + 6;
        else
                return pod_error_set(reterr, -EBADMSG, "Malformed '%s' in the pod dir",
                                     POD_STAGE1_RECORD);
        v = strdup(value);
        if (!v)
                return -ENOMEM;
        *ret_image = text[0] == 'i';
        *ret_value = v;
        return 0;
}
