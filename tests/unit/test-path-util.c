/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "macro.h"
#include "path-util.h"
#include "tap.h"

static void test_join(void) {
        _cleanup_free_ char *a = path_join("/var/lib", "pod", "/pods/");
        _cleanup_free_ char *b = path_join("/", "x");
        tap_is_str(a, "/var/lib/pod/pods/", "path_join collapses separators");
        tap_is_str(b, "/x", "path_join from root");
}

static void test_safe_relative(void) {
        tap_ok(path_is_safe_relative("a/b/c"), "a/b/c is safe");
        tap_ok(!path_is_safe_relative("../a"), "../a is not safe");
        tap_ok(!path_is_safe_relative("a/../b"), "a/../b is not safe");
        tap_ok(!path_is_safe_relative("/a"), "absolute is not safe");
        tap_ok(!path_is_safe_relative("a//b"), "empty component is not safe");
        tap_ok(!path_is_safe_relative("a/./b"), "dot component is not safe");
        tap_ok(!path_is_safe_relative("a/"), "trailing slash is not safe");
        tap_ok(!path_is_safe_relative(""), "empty is not safe");
        tap_ok(path_is_safe_relative("..a/b.."), "dots inside names are fine");
}

static void test_normalize(void) {
        char *p = NULL;

        tap_is_int(path_normalize_absolute("//a/./b//c/../d/", &p), 0, "normalize ok");
        tap_is_str(p, "/a/b/d", "normalize result");
        free(p);
        p = NULL;
        tap_is_int(path_normalize_absolute("/a/../..", &p), -EINVAL, "climbing above / refused");
        tap_is_int(path_normalize_absolute("a/b", &p), -EINVAL, "relative refused");
        tap_is_int(path_normalize_absolute("/", &p), 0, "root ok");
        tap_is_str(p, "/", "root stays root");
        free(p);
}

static void test_appc_types(void) {
        tap_ok(ac_identifier_valid("example.com/app-1_x~y"), "AC identifier valid");
        tap_ok(!ac_identifier_valid("Example.com/app"), "upper case refused");
        tap_ok(!ac_identifier_valid("example.com//app"), "double slash refused");
        tap_ok(!ac_identifier_valid("example.com/../etc"), "dot-dot refused");
        tap_ok(!ac_identifier_valid("/example.com"), "leading separator refused");
        tap_ok(!ac_identifier_valid("example.com/"), "trailing separator refused");
        tap_ok(!ac_identifier_valid(""), "empty refused");
        tap_ok(ac_name_valid("my-app2"), "AC name valid");
        tap_ok(!ac_name_valid("my_app"), "underscore not an AC name");
        tap_ok(!ac_name_valid("-a"), "leading dash refused");
        tap_ok(env_name_valid("_A.b-1"), "env name valid");
        tap_ok(!env_name_valid("1A"), "env name cannot start with a digit");
        tap_ok(image_id_valid("sha512-abc", false), "image id prefix");
        tap_ok(!image_id_valid("sha512-abc", true), "short id is not full");
        tap_ok(!image_id_valid("sha512-ABC", false), "upper-case hex refused");
        tap_ok(!image_id_valid("sha256-abc", false), "sha256 refused");
}

static void test_app_name(void) {
        _cleanup_free_ char *a = ac_name_from_image_name("example.com/My_App");
        _cleanup_free_ char *b = ac_name_from_image_name("example.com/--x__y--");
        _cleanup_free_ char *c = ac_name_from_image_name("example.com/___");
        tap_is_str(a, "my-app", "app name from My_App");
        tap_is_str(b, "x-y", "runs and edges of dashes dropped");
        tap_ok(c == NULL, "nothing valid left gives NULL");
}

static void test_files(void) {
        char dir[] = "/tmp/test-path-util-XXXXXX";
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;

        tap_ok(mkdtemp(dir) != NULL, "mkdtemp");
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        tap_is_int(write_file_atomic_at(fd, "f", "hello", 5, 0644), 0, "atomic write");
        tap_is_int(read_full_file_at(fd, "f", 100, &text, &size), 0, "read back");
        tap_is_str(text, "hello", "content round-trips");
        free(TAKE_PTR(text));
        tap_is_int(read_full_file_at(fd, "f", 3, &text, &size), -EFBIG, "max size enforced");
        tap_is_int(symlinkat("f", fd, "link"), 0, "symlink created");
        tap_is_int(read_full_file_at(fd, "link", 100, &text, &size), -ELOOP,
                   "symlink not followed");
        tap_is_int(mkdir_p_at(fd, "a/b/c", 0755), 0, "mkdir -p");
        tap_is_int(symlinkat("/etc", fd, "a/l"), 0, "symlink in tree");
        tap_is_int(mkdir_p_at(fd, "a/l/x", 0755), -ENOTDIR, "mkdir -p does not traverse symlinks");
        tap_ok(faccessat(AT_FDCWD, "/etc/x", F_OK, 0) < 0, "nothing created through the symlink");
        tap_is_int(rm_rf_at(AT_FDCWD, dir), 0, "rm -rf");
        tap_ok(access(dir, F_OK) < 0 && errno == ENOENT, "tree gone");
        tap_ok(access("/etc/passwd", F_OK) == 0, "symlink target untouched");
}

int main(void) {
        test_join();
        test_safe_relative();
        test_normalize();
        test_appc_types();
        test_app_name();
        test_files();
        return tap_done();
}
