/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* statedir.h: state directories are created 0700, tightened when wider, and refused as root
 * when another user owns them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "statedir.h"
#include "tap.h"

static mode_t mode_of(const char *dir, const char *name) {
        char p[4096];
        struct stat st;

        (void)snprintf(p, sizeof(p), "%s/%s", dir, name);
        return stat(p, &st) < 0 ? (mode_t)-1 : st.st_mode & 07777;
}

int main(void) {
        char dir[] = "/tmp/test-statedir.XXXXXX", p[4096];
        _cleanup_close_ int top = -EBADF, sub = -EBADF, fd = -EBADF;
        struct pod_error e = {};

        if (!mkdtemp(dir))
                return tap_skip_all("no temp dir");
        (void)umask(022);

        (void)snprintf(p, sizeof(p), "%s/a/b/data", dir);
        tap_is_int(pod_statedir_open(AT_FDCWD, p, true, &top, &e), 0, "create with parents");
        tap_ok(mode_of(dir, "a/b/data") == 0700, "created 0700");
        tap_ok(mode_of(dir, "a") == 0755, "missing parents 0755");
        tap_is_int(pod_statedir_open(top, "cas", false, &sub, &e), -ENOENT,
                   "without create, missing is -ENOENT");
        tap_is_int(pod_statedir_open(top, "cas", true, &sub, &e), 0, "create below an fd");
        tap_ok(mode_of(dir, "a/b/data/cas") == 0700, "below an fd: 0700");

        tap_ok(chmod(p, 0755) == 0 && mkdirat(top, "old", 0775) == 0, "an old 0755 store");
        top = safe_close(top);
        tap_is_int(pod_statedir_open(AT_FDCWD, p, false, &top, &e), 0, "open it");
        tap_ok(mode_of(dir, "a/b/data") == 0700, "tightened to 0700");
        tap_is_int(pod_statedir_open(top, "old", false, &fd, &e), 0, "open a wide child");
        tap_ok(mode_of(dir, "a/b/data/old") == 0700, "child tightened to 0700");
        fd = safe_close(fd);

        tap_ok(symlinkat("old", top, "link") == 0, "a symlink below the state dir");
        tap_ok(pod_statedir_open(top, "link", false, &fd, &e) < 0,
               "a symlinked child is not followed");

        if (geteuid() == 0) {
                tap_ok(fchownat(top, "old", 65534, 65534, 0) == 0, "chown a child to nobody");
                pod_error_clear(&e);
                tap_is_int(pod_statedir_open(top, "old", false, &fd, &e), -EPERM,
                           "root refuses a directory another user owns");
                tap_ok(strstr(e.msg, "owned by uid 65534") != NULL, "saying whose (%s)", e.msg);
        }
        (void)rm_rf_at(AT_FDCWD, dir);
        return tap_done();
}
