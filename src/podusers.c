/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which pods use a store image: podusers.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "manifest.h"
#include "poddir.h"
#include "podusers.h"

#define RECORD_MAX  (1u << 20)
#define USERS_NAMED 4

int pod_users_record(int pod_fd, char **ids, bool sync) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        STRV_FOREACH (id, ids)
                len += strlen(*id) + 1;
        text = malloc(len + 1);
        if (!text)
                return -ENOMEM;
        len = 0;
        text[0] = 0;
        STRV_FOREACH (id, ids)
                len += (size_t)sprintf(text + len, "%s\n", *id);
        return write_file_at(pod_fd, POD_USERS_RECORD, text, len, 0644, sync);
}

/* 1 if the record of the pod dir dir_fd lists id, 0 if not, -ENOENT if the pod dir has
 * neither a record nor a pod manifest (gone, or not written yet). */
static int pod_uses(int dir_fd, const char *id) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0, idlen = strlen(id);
        int r;

        r = read_full_file_at(dir_fd, POD_USERS_RECORD, RECORD_MAX, &text, NULL);
        if (r >= 0) {
                for (const char *p = text; *p;) {
                        const char *e = strchrnul(p, '\n');

                        if ((size_t)(e - p) == idlen && memcmp(p, id, idlen) == 0)
                                return 1;
                        p = *e ? e + 1 : e;
                }
                return 0;
        }
        if (r != -ENOENT)
                return r;
        /* Older pods: the images of the pod manifest. */
        r = read_full_file_at(dir_fd, "pod", POD_PODDIR_MANIFEST_MAX, &text, &size);
        if (r < 0)
                return r;
        if (pod_pod_manifest_parse(text, size, &m, NULL) < 0)
                return 0; /* a pod that cannot run */
        for (size_t i = 0; i < m->n_apps; i++)
                if (m->apps[i].image.id && streq(m->apps[i].image.id, id))
                        return 1;
        return 0;
}

static int add_user(char **users, size_t *n, const char *uuid) {
        char *t;

        (*n)++;
        if (*n > USERS_NAMED + 1)
                return 0;
        if (asprintf(&t, "%s%s%s", *users ?: "", *users ? ", " : "",
                     *n > USERS_NAMED ? "..." : uuid) < 0)
                return -ENOMEM;
        free(*users);
        *users = t;
        return 0;
}

int pod_users_of_image(int pods_fd, const char *id, char **ret_users) {
        _cleanup_free_ char *users = NULL;
        size_t n = 0;
        int r;

        for (enum pod_phase ph = POD_PHASE_PREPARE; ph < _POD_PHASE_MAX; ph++) {
                _cleanup_closedir_ DIR *d = NULL;
                int fd;

                fd = openat(pods_fd, pod_phase_to_string(ph),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                d = fdopendir(fd);
                if (!d) {
                        safe_close(fd);
                        return -errno;
                }
                for (struct dirent *de;;) {
                        errno = 0;
                        de = readdir(d);
                        if (!de) {
                                if (errno)
                                        return -errno;
                                break;
                        }
                        if (de->d_name[0] == '.')
                                continue;
                        /* Where it is now: this phase or, having moved on, a later one. */
                        r = -ENOENT;
                        for (enum pod_phase q = ph; q < _POD_PHASE_MAX && r == -ENOENT; q++) {
                                _cleanup_free_ char *p = NULL;
                                _cleanup_close_ int pfd = -EBADF;

                                if (asprintf(&p, "%s/%s", pod_phase_to_string(q), de->d_name) < 0)
                                        return -ENOMEM;
                                pfd = openat(pods_fd, p,
                                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (pfd < 0) {
                                        if (errno != ENOENT)
                                                return -errno;
                                        continue;
                                }
                                r = pod_uses(pfd, id);
                                if (r == -ENOENT && q == ph)
                                        r = 0; /* no manifest yet: not pinned yet either */
                        }
                        if (r == -ENOENT)
                                continue; /* removed meanwhile */
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = add_user(&users, &n, de->d_name);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        if (n == 0)
                return 0;
        *ret_users = TAKE_PTR(users);
        return 1;
}

int pod_users_store_callback(const char *id, char **ret_users, void *userdata) {
        int pods_fd = *(int *)userdata;

        if (pods_fd < 0)
                return 0;
        return pod_users_of_image(pods_fd, id, ret_users);
}
