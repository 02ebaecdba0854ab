/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker:// references (dockerref.h): docker's normalisation, the grammar, docker.conf. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dockerref.h"
#include "tap.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void good(const char *in, const char *def, const char *reg, const char *repo,
                 const char *tag, const char *digest) {
        struct pod_dockerref r = {};
        struct pod_error e = {};
        int k = pod_dockerref_parse(in, def, &r, &e);

        tap_ok(k == 0, "parse '%s' %s", in, k < 0 ? e.msg : "");
        if (k < 0)
                return;
        tap_is_str(r.registry, reg, "  registry");
        tap_is_str(r.repository, repo, "  repository");
        tap_is_str(r.tag, tag, "  tag");
        tap_is_str(r.digest, digest, "  digest");
        /* The canonical string parses back to the same reference. */
        char *s = pod_dockerref_to_string(&r);
        struct pod_dockerref r2 = {};
        tap_ok(s && pod_dockerref_parse(s, def, &r2, NULL) == 0 &&
                       strcmp(r2.registry, r.registry) == 0 &&
                       strcmp(r2.repository, r.repository) == 0,
               "  round trip '%s'", s);
        free(s);
        pod_dockerref_done(&r2);
        pod_dockerref_done(&r);
}

static void bad(const char *in, int err, const char *word) {
        struct pod_dockerref r = {};
        struct pod_error e = {};
        int k = pod_dockerref_parse(in, NULL, &r, &e);

        tap_ok(k == err && e.msg[0] && (!word || strstr(e.msg, word)), "refuse '%s': %s", in,
               e.msg);
        pod_dockerref_done(&r);
}

int main(void) {
        char dir_v[] = "/tmp/test-dockerref-v.XXXXXX", dir_s[] = "/tmp/test-dockerref-s.XXXXXX";
        char p[256];
        struct pod_error e = {};
        char *v = NULL;
        FILE *f;

        tap_ok(pod_dockerref_is_docker("docker://x") && pod_dockerref_is_docker("DOCKER://x") &&
                       !pod_dockerref_is_docker("docker:/x"),
               "scheme detection");
        good("docker://busybox", NULL, "registry-1.docker.io", "library/busybox", "latest", NULL);
        good("busybox:1.36", NULL, "registry-1.docker.io", "library/busybox", "1.36", NULL);
        good("docker://docker.io/busybox", NULL, "registry-1.docker.io", "library/busybox",
             "latest", NULL);
        good("docker://index.docker.io/library/busybox", NULL, "registry-1.docker.io",
             "library/busybox", "latest", NULL);
        good("docker://someone/app:v1", NULL, "registry-1.docker.io", "someone/app", "v1", NULL);
        good("docker://quay.io/coreos/etcd:v3.5.0", NULL, "quay.io", "coreos/etcd", "v3.5.0", NULL);
        good("docker://localhost/app", NULL, "localhost", "app", "latest", NULL);
        good("docker://localhost:5000/a/b/c:t", NULL, "localhost:5000", "a/b/c", "t", NULL);
        good("docker://127.0.0.1:5000/app@sha256:" D64, NULL, "127.0.0.1:5000", "app", NULL,
             "sha256:" D64);
        good("docker://127.0.0.1:5000/app:v2@sha256:" D64, NULL, "127.0.0.1:5000", "app", "v2",
             "sha256:" D64);
        good("docker://Registry.Example.COM/x", NULL, "registry.example.com", "x", "latest", NULL);
        good("docker://[::1]:5000/x", NULL, "[::1]:5000", "x", "latest", NULL);
        good("docker://a__b-c---e/f.g_h", NULL, "registry-1.docker.io", "a__b-c---e/f.g_h",
             "latest", NULL);
        good("docker://busybox", "mirror.local:5000", "mirror.local:5000", "library/busybox",
             "latest", NULL);
        good("docker://foo/bar", "mirror.local:5000", "mirror.local:5000", "foo/bar", "latest",
             NULL);

        bad("docker://", -EINVAL, "empty");
        bad("docker://Busybox", -EINVAL, "lower case");
        bad("docker://busybox:", -EINVAL, "tag");
        bad("docker://busybox:-x", -EINVAL, "tag");
        bad("docker://busybox:.x", -EINVAL, "tag");
        bad("docker://a..b", -EINVAL, "repository");
        bad("docker://a___b", -EINVAL, "repository");
        bad("docker://-a", -EINVAL, "repository");
        bad("docker://a/", -EINVAL, "repository");
        bad("docker://a//b", -EINVAL, "repository");
        bad("docker://a b", -EINVAL, "space");
        bad("docker://x@sha512:abcd", -EPROTONOSUPPORT, "sha512");
        bad("docker://x@sha256:abcd", -EINVAL, "64");
        bad("docker://x@sha256:" D64 "0", -EINVAL, "64");
        bad("docker://host:99999/x", -EINVAL, "registry");
        bad("docker://ho_st.com/x", -EINVAL, "registry");
        {
                char longtag[200];

                memset(longtag, 'a', sizeof(longtag));
                memcpy(longtag, "x:", 2);
                longtag[2 + 129] = 0;
                bad(longtag, -EINVAL, "tag");
        }

        /* docker.conf */
        if (!mkdtemp(dir_v) || !mkdtemp(dir_s))
                return 99;
        tap_ok(pod_docker_conf_load(dir_v, dir_s, &v, &e) == 0 &&
                       strcmp(v, "registry-1.docker.io") == 0,
               "no docker.conf: Docker Hub");
        free(v);
        v = NULL;
        (void)snprintf(p, sizeof(p), "%s/docker.conf", dir_v);
        f = fopen(p, "we");
        fputs("# vendor\ndefault-registry = vendor.example:5000\n", f);
        fclose(f);
        tap_ok(pod_docker_conf_load(dir_v, dir_s, &v, &e) == 0 &&
                       strcmp(v, "vendor.example:5000") == 0,
               "vendor default");
        free(v);
        v = NULL;
        (void)snprintf(p, sizeof(p), "%s/docker.conf", dir_s);
        f = fopen(p, "we");
        fputs("default-registry=admin.example\n", f);
        fclose(f);
        tap_ok(pod_docker_conf_load(dir_v, dir_s, &v, &e) == 0 && strcmp(v, "admin.example") == 0,
               "admin wins");
        free(v);
        v = NULL;
        f = fopen(p, "we");
        fputs("\n\ndefault-registry = not a host\n", f);
        fclose(f);
        tap_ok(pod_docker_conf_load(dir_v, dir_s, &v, &e) == -EINVAL && strstr(e.msg, ":3:"),
               "bad value names the line: %s", e.msg);
        pod_error_clear(&e);
        f = fopen(p, "we");
        fputs("mirror = x\n", f);
        fclose(f);
        tap_ok(pod_docker_conf_load(dir_v, dir_s, &v, &e) == -EINVAL &&
                       strstr(e.msg, "unknown key 'mirror'"),
               "unknown key: %s", e.msg);
        (void)unlink(p);
        (void)snprintf(p, sizeof(p), "%s/docker.conf", dir_v);
        (void)unlink(p);
        (void)rmdir(dir_v);
        (void)rmdir(dir_s);
        return tap_done();
}
