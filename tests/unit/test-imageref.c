/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "imageref.h"
#include "macro.h"
#include "manifest.h"
#include "tap.h"

static const char *host_arch;

static struct pod_imageref *parse_ok(const char *s, enum pod_imageref_kind kind) {
        struct pod_imageref *r = NULL;
        struct pod_error e = {};
        int k;

        k = pod_imageref_parse(s, &r, &e);
        tap_is_int(k, 0, s);
        if (k < 0) {
                printf("# %s\n", e.msg);
                return NULL;
        }
        tap_is_str(pod_imageref_kind_to_string(r->kind), pod_imageref_kind_to_string(kind),
                   "  kind");
        return r;
}

static void expect_error(const char *s, int err, const char *msg) {
        _cleanup_(pod_imageref_freep) struct pod_imageref *r = NULL;
        struct pod_error e = {};
        int k;

        k = pod_imageref_parse(s, &r, &e);
        tap_is_int(k, err, s);
        tap_is_str(e.msg, msg, "  message");
        tap_ok(!r, "  nothing returned");
}

static void test_names(void) {
        _cleanup_(pod_imageref_freep) struct pod_imageref *r = NULL;
        _cleanup_free_ char *str = NULL;

        /* spec section 6.1 example */
        r = parse_ok("example.org/webshop:2.1.0,arch=aarch64", POD_IMAGEREF_NAME);
        if (r) {
                tap_is_str(r->name, "example.org/webshop", "  name");
                tap_is_str(pod_kv_get(r->labels, r->n_labels, "version"), "2.1.0", "  version");
                tap_is_str(pod_kv_get(r->labels, r->n_labels, "arch"), "aarch64", "  given arch");
                tap_is_str(pod_kv_get(r->labels, r->n_labels, "os"), "linux", "  os default");
                tap_is_int(r->n_labels, 3, "  three labels");
                tap_is_int(pod_imageref_to_string(r, &str), 0, "  to_string");
                tap_is_str(str, "example.org/webshop,version=2.1.0,arch=aarch64,os=linux",
                           "  canonical string");
        }
        r = pod_imageref_free(r);

        r = parse_ok("example.com/app", POD_IMAGEREF_NAME);
        if (r) {
                tap_ok(!pod_kv_get(r->labels, r->n_labels, "version"), "  no version");
                tap_is_str(pod_kv_get(r->labels, r->n_labels, "os"), "linux", "  host os");
                tap_is_str(pod_kv_get(r->labels, r->n_labels, "arch"), host_arch, "  host arch");
        }
        r = pod_imageref_free(r);

        r = parse_ok("coreos.com/etcd:v3.1.7,os=linux,arch=amd64,channel=alpha=2",
                     POD_IMAGEREF_NAME);
        if (r) {
                tap_is_str(pod_kv_get(r->labels, r->n_labels, "version"), "v3.1.7", "  version");
                tap_is_str(pod_kv_get(r->labels, r->n_labels, "channel"), "alpha=2",
                           "  value split at the first '='");
                tap_is_int(r->n_labels, 4, "  no defaults added when given");
        }
        r = pod_imageref_free(r);

        r = parse_ok("busybox", POD_IMAGEREF_NAME);
        tap_is_str(r ? r->name : NULL, "busybox", "  single-component name");
        r = pod_imageref_free(r);

        r = parse_ok("sha512-abc.com/x", POD_IMAGEREF_NAME);
        r = pod_imageref_free(r);

        r = parse_ok("example.com/x,os=darwin,arch=x86_64", POD_IMAGEREF_NAME);
        r = pod_imageref_free(r);
}

static void test_other_kinds(void) {
        _cleanup_(pod_imageref_freep) struct pod_imageref *r = NULL;
        char tmpl[] = "/tmp/test-imageref-XXXXXX", cwd[4096];
        int fd;

        r = parse_ok("sha512-ABCDEF0123", POD_IMAGEREF_HASH);
        tap_is_str(r ? r->hash : NULL, "sha512-abcdef0123", "  hash lower-cased");
        r = pod_imageref_free(r);

        r = parse_ok("https://example.com/images/app-1.0.aci", POD_IMAGEREF_HTTPS);
        tap_is_str(r ? r->url : NULL, "https://example.com/images/app-1.0.aci", "  url");
        r = pod_imageref_free(r);

        r = parse_ok("HTTP://example.com/app.aci", POD_IMAGEREF_HTTP);
        r = pod_imageref_free(r);

        r = parse_ok("file:///var/tmp/my%20app.aci", POD_IMAGEREF_FILE);
        tap_is_str(r ? r->path : NULL, "/var/tmp/my app.aci", "  file URL decoded");
        r = pod_imageref_free(r);

        r = parse_ok("file://localhost/x.aci", POD_IMAGEREF_FILE);
        tap_is_str(r ? r->path : NULL, "/x.aci", "  localhost file URL");
        r = pod_imageref_free(r);

        r = parse_ok("/abs/x.aci", POD_IMAGEREF_FILE);
        tap_is_str(r ? r->path : NULL, "/abs/x.aci", "  absolute path");
        r = pod_imageref_free(r);

        r = parse_ok("./x.aci", POD_IMAGEREF_FILE);
        tap_is_str(r ? r->path : NULL, "./x.aci", "  relative path kept relative");
        r = pod_imageref_free(r);

        r = parse_ok("../x.aci", POD_IMAGEREF_FILE);
        r = pod_imageref_free(r);

        /* An existing regular file wins over the name reading. */
        fd = mkstemp(tmpl);
        tap_ok(fd >= 0, "temporary file");
        if (fd < 0 || !getcwd(cwd, sizeof(cwd)) || chdir("/tmp") < 0)
                return;
        (void)close(fd);
        r = parse_ok(tmpl + 5, POD_IMAGEREF_FILE);
        tap_is_str(r ? r->path : NULL, tmpl + 5, "  existing file by relative name");
        r = pod_imageref_free(r);
        (void)unlink(tmpl);
        r = parse_ok("tmp", POD_IMAGEREF_NAME); /* /tmp/tmp does not exist, or not a file */
        r = pod_imageref_free(r);
        if (chdir(cwd) < 0)
                tap_ok(false, "chdir back");
}

static void test_rejections(void) {
        char msg[256];

        {
                _cleanup_(pod_imageref_freep) struct pod_imageref *r = NULL;
                _cleanup_free_ char *c = NULL;

                tap_ok(pod_imageref_parse("docker://busybox", &r, NULL) == 0 &&
                               r->kind == POD_IMAGEREF_DOCKER &&
                               streq(r->url, "docker://busybox") &&
                               streq(pod_imageref_kind_to_string(r->kind), "docker") &&
                               pod_imageref_to_string(r, &c) == 0 && streq(c, "docker://busybox"),
                       "docker:// is a docker reference, kept as given");
        }
        expect_error("docker://Busybox", -EINVAL,
                     "Invalid docker reference 'Busybox': repository name 'library/Busybox' "
                     "must be lower case");
        expect_error("ftp://example.com/x.aci", -EPROTONOSUPPORT,
                     "Image reference 'ftp://example.com/x.aci': unsupported URL scheme 'ftp' "
                     "(https, http, file, docker)");
        expect_error("", -EINVAL, "Image reference is empty");
        expect_error("https:///x.aci", -EINVAL,
                     "Invalid image reference 'https:///x.aci': URL has no host");
        expect_error("file://server/x.aci", -EINVAL,
                     "Invalid image reference 'file://server/x.aci': file URLs must be "
                     "file:///absolute/path");
        expect_error("file:///x%00.aci", -EINVAL,
                     "Invalid image reference 'file:///x%00.aci': bad %-escape in file URL");
        expect_error("file:///x%zz", -EINVAL,
                     "Invalid image reference 'file:///x%zz': bad %-escape in file URL");
        expect_error("file:///x.aci?y", -EINVAL,
                     "Invalid image reference 'file:///x.aci?y': file URLs cannot have a query or "
                     "fragment");
        expect_error("Example.com/App", -EINVAL,
                     "Invalid image reference 'Example.com/App': 'Example.com/App' is not a valid "
                     "image name (lower-case AC Identifier)");
        expect_error("example.com/app:1:2", -EINVAL,
                     "Invalid image reference 'example.com/app:1:2': expected "
                     "NAME[:VERSION][,LABEL=VALUE...]");
        expect_error("example.com/app:", -EINVAL,
                     "Invalid image reference 'example.com/app:': expected "
                     "NAME[:VERSION][,LABEL=VALUE...]");
        expect_error(":1.0", -EINVAL,
                     "Invalid image reference ':1.0': '' is not a valid image name (lower-case AC "
                     "Identifier)");
        expect_error("a.com/b,os=linux,os=linux", -EINVAL,
                     "Invalid image reference 'a.com/b,os=linux,os=linux': label 'os' given twice");
        expect_error("a.com/b:1,version=2", -EINVAL,
                     "Invalid image reference 'a.com/b:1,version=2': label 'version' given twice");
        expect_error("a.com/b,Arch=amd64", -EINVAL,
                     "Invalid image reference 'a.com/b,Arch=amd64': label name 'Arch' is not a "
                     "valid AC Identifier");
        expect_error("a.com/b,name=x", -EINVAL,
                     "Invalid image reference 'a.com/b,name=x': 'name' is not a label");
        expect_error("a.com/b,os", -EINVAL,
                     "Invalid image reference 'a.com/b,os': 'os' is not LABEL=VALUE");
        expect_error("a.com/b,,os=linux", -EINVAL,
                     "Invalid image reference 'a.com/b,,os=linux': '' is not LABEL=VALUE");
        expect_error("a.com/b,os=", -EINVAL,
                     "Invalid image reference 'a.com/b,os=': label 'os' has no value");
        expect_error("a.com/b,arch=arm64", -EINVAL,
                     "Invalid image reference 'a.com/b,arch=arm64': arch 'arm64' is spelled "
                     "'aarch64' in appc");
        (void)snprintf(msg, sizeof(msg),
                       "Invalid image reference 'a.com/b,os=plan9': os/arch 'plan9/%s' is not "
                       "supported",
                       host_arch);
        expect_error("a.com/b,os=plan9", -EINVAL, msg);
        expect_error("a.com/b c", -EINVAL,
                     "Invalid image reference 'a.com/b c': contains whitespace or control "
                     "characters");
}

static void test_arch(void) {
        tap_is_str(pod_appc_arch_from_machine("x86_64"), "amd64", "x86_64 -> amd64");
        tap_is_str(pod_appc_arch_from_machine("aarch64"), "aarch64", "aarch64 -> aarch64");
        tap_is_str(pod_appc_arch_from_machine("i686"), "i386", "i686 -> i386");
        tap_is_str(pod_appc_arch_from_machine("armv7l"), "armv7l", "armv7l -> armv7l");
        tap_is_str(pod_appc_arch_from_machine("ppc64le"), "ppc64le", "ppc64le -> ppc64le");
        tap_ok(!pod_appc_arch_from_machine("riscv64"), "riscv64 has no appc spelling");
        tap_is_str(pod_appc_arch_from_goarch("arm64"), "aarch64", "Go arm64 -> aarch64");
        tap_is_str(pod_appc_arch_from_goarch("386"), "i386", "Go 386 -> i386");
}

int main(void) {
        struct utsname u;

        if (uname(&u) < 0)
                return 1;
        host_arch = pod_appc_arch_from_machine(u.machine);
        if (!host_arch)
                return tap_skip_all("this machine has no appc arch spelling");
        test_arch();
        test_names();
        test_other_kinds();
        test_rejections();
        return tap_done();
}
