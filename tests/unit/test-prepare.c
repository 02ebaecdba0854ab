/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* src/prepare: volume specs, the pod manifest built from an image in a real store (exec,
 * environment precedence, isolators, mount points), and the pod directory it writes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci-gen.h"
#include "fd-util.h"
#include "insecure.h"
#include "isolator.h"
#include "manifest.h"
#include "poddir.h"
#include "prepare.h"
#include "store.h"
#include "tap.h"

#define MANIFEST                                                                            \
        "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/"    \
        "my-app\",\"app\":{\"exec\":[\"/bin/sh\",\"-c\",\"img\"],\"user\":\"0\",\"group\":" \
        "\"0\",\"environment\":[{\"name\":\"A\",\"value\":\"image\"},{\"name\":\"B\","      \
        "\"value\":\"image\"},{\"name\":\"C\",\"value\":\"image\"}],\"mountPoints\":[{"     \
        "\"name\":\"data\",\"path\":\"/data\"}],\"ports\":[{\"name\":\"http\","             \
        "\"protocol\":\"tcp\",\"port\":80}]}}"

static void test_volumes(const char *tmp) {
        struct pod_volume v = {};
        struct pod_error e = {};
        char spec[512], link[512];

        (void)snprintf(spec, sizeof(spec), "hv,kind=host,source=%s,readOnly=true", tmp);
        tap_ok(pod_prepare_parse_volume(spec, &v, &e) == 0 && v.kind == POD_VOLUME_HOST &&
                       v.read_only && v.recursive && strcmp(v.source, tmp) == 0,
               "host volume");
        free(v.name);
        free(v.source);
        v = (struct pod_volume){};
        tap_ok(pod_prepare_parse_volume("ev,kind=empty,mode=0700,uid=5,gid=6", &v, &e) == 0 &&
                       v.kind == POD_VOLUME_EMPTY && v.mode == 0700 && v.uid == 5 && v.gid == 6,
               "empty volume with mode and owner");
        free(v.name);
        tap_is_int(pod_prepare_parse_volume("hv,kind=host,source=rel", &v, &e), -EINVAL,
                   "relative host source refused");
        tap_is_int(pod_prepare_parse_volume("hv,kind=host,source=/nonexistent/x", &v, &e), -ENOENT,
                   "missing host source refused");
        (void)snprintf(link, sizeof(link), "%s/link", tmp);
        tap_ok(symlink(tmp, link) == 0, "symlink made");
        (void)snprintf(spec, sizeof(spec), "hv,kind=host,source=%s", link);
        tap_is_int(pod_prepare_parse_volume(spec, &v, &e), -ELOOP, "symlinked source refused");
        tap_is_int(pod_prepare_parse_volume("hv,kind=other", &v, &e), -EINVAL, "unknown kind");
        tap_is_int(pod_prepare_parse_volume("kind=empty", &v, &e), -EINVAL, "name first");
        tap_is_int(pod_prepare_parse_volume("ev,kind=empty,source=/", &v, &e), -EINVAL,
                   "source only for host");
        (void)snprintf(spec, sizeof(spec), "hv,kind=host,source=%s,mode=0755", tmp);
        tap_is_int(pod_prepare_parse_volume(spec, &v, &e), -EINVAL, "mode only for empty");
        tap_is_int(pod_prepare_parse_volume("ev,kind=empty,mode=9", &v, &e), -EINVAL, "bad mode");
        (void)snprintf(spec, sizeof(spec), "hv,kind=host,source=%s", tmp);
        tap_ok(pod_prepare_parse_volume(spec, &v, &e) == 0 && !v.suid,
               "host volume: nosuid by default");
        free(v.name);
        free(v.source);
        v = (struct pod_volume){};
        (void)snprintf(spec, sizeof(spec), "hv,kind=host,source=%s,suid=true", tmp);
        tap_ok(pod_prepare_parse_volume(spec, &v, &e) == 0 && v.suid, "host volume: suid=true");
        free(v.name);
        free(v.source);
        v = (struct pod_volume){};
        tap_is_int(pod_prepare_parse_volume("ev,kind=empty,suid=true", &v, &e), -EINVAL,
                   "suid only for host");
        (void)snprintf(spec, sizeof(spec), "hv,kind=host,source=%s,idmap=true", tmp);
        tap_ok(pod_prepare_parse_volume(spec, &v, &e) == 0 && v.idmap && !v.suid,
               "host volume: idmap=true");
        free(v.name);
        free(v.source);
        v = (struct pod_volume){};
        (void)snprintf(spec, sizeof(spec), "hv,kind=host,source=%s", tmp);
        tap_ok(pod_prepare_parse_volume(spec, &v, &e) == 0 && !v.idmap,
               "host volume: not idmapped by default");
        free(v.name);
        free(v.source);
        v = (struct pod_volume){};
        (void)snprintf(spec, sizeof(spec), "hv,kind=host,source=%s,idmap=yes-please", tmp);
        tap_is_int(pod_prepare_parse_volume(spec, &v, &e), -EINVAL, "idmap takes a boolean");
        e = (struct pod_error){};
        tap_is_int(pod_prepare_parse_volume("ev,kind=empty,idmap=true", &v, &e), -EINVAL,
                   "idmap only for host");
        tap_ok(strstr(e.msg, "idmap") != NULL, "  saying so");
}

static const char *env_find(const struct pod_app *a, const char *name) {
        return pod_kv_get(a->environment, a->n_environment, name);
}

int main(void) {
        char tmp[] = "/tmp/test-prepare.XXXXXX", path[512], envfile[512];
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *id = NULL;
        struct pod_error e = {};
        int fd, r;

        if (!mkdtemp(tmp))
                return tap_skip_all("mkdtemp failed");
        test_volumes(tmp);

        (void)snprintf(path, sizeof(path), "%s/img.aci", tmp);
        {
                const struct gen_entry entries[] = {
                        { "manifest", AE_IFREG, 0644, MANIFEST, 0, NULL },
                        { "rootfs", AE_IFDIR, 0755, NULL, 0, NULL },
                        { "rootfs/bin", AE_IFDIR, 0755, NULL, 0, NULL },
                        { "rootfs/bin/sh", AE_IFREG, 0755, "#!/bin/true\n", 0, NULL },
                        { "rootfs/bin/link", AE_IFLNK, 0777, NULL, 0, "sh" },
                };
                struct pod_store_import_options io = {};
                char dir[512];

                tap_ok(gen_aci(path, POD_COMPRESSION_NONE, entries, ELEMENTSOF(entries)) == 0,
                       "ACI written");
                (void)snprintf(dir, sizeof(dir), "%s/data", tmp);
                r = pod_store_open(dir, &s, &e);
                tap_ok(r == 0, "store opened: %s", e.msg);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                r = pod_store_import_fd(s, fd, &io, &id, &e);
                close(fd);
                tap_ok(r == 0, "image imported: %s", e.msg);
                if (r < 0)
                        return tap_done();
        }

        (void)snprintf(envfile, sizeof(envfile), "%s/env", tmp);
        fd = open(envfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        tap_ok(fd >= 0 && write(fd, "# c\nB=file\nC=file\n", 18) == 18, "env file written");
        close(fd);

        {
                char *args[] = { (char *)"x", (char *)"y", NULL };
                char *app_env[] = { (char *)"C=app", NULL };
                char *set_env[] = { (char *)"B=set", (char *)"C=set", NULL };
                char *env_files[] = { envfile, NULL };
                char *inherit[] = { (char *)"A=host", (char *)"H=host", (char *)"POD_LOCK_FD=3",
                                    NULL };
                char *ports[] = { (char *)"http:8080", (char *)"http:127.0.0.1:8081", NULL };
                struct pod_prepare_app app = {
                        .image = id,
                        .exec = "/bin/echo",
                        .args = args,
                        .have_args = true,
                        .environment = app_env,
                        .memory = "64Mi",
                        .caps_remove = "CAP_NET_BIND_SERVICE",
                        .seccomp = "mode=remove,errno=ENOTSUP,mkdir",
                };
                struct pod_prepare_options o = {
                        .fetch = { .insecure = POD_INSECURE_IMAGE, .pull_policy = POD_PULL_NEVER },
                        .apps = &app,
                        .n_apps = 1,
                        .set_env = set_env,
                        .set_env_file = env_files,
                        .inherit_env = inherit,
                        .readonly_rootfs = true,
                        .ports = ports,
                };
                _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
                _cleanup_strv_free_ char **ids = NULL;
                const struct pod_app *a;
                const struct pod_isolator *iso;

                pod_error_clear(&e);
                r = pod_prepare_manifest(s, &o, &m, &ids, &e);
                tap_ok(r == 0, "manifest built: %s", e.msg);
                if (r < 0)
                        return tap_done();
                a = m->apps[0].app;
                tap_is_str(m->apps[0].name, "my-app", "app name from the image name");
                tap_is_str(m->apps[0].image.id, id, "image by ID");
                tap_is_str(ids[0], id, "image IDs returned");
                tap_ok(a->exec && strcmp(a->exec[0], "/bin/echo") == 0 &&
                               strcmp(a->exec[1], "x") == 0 && strcmp(a->exec[2], "y") == 0 &&
                               !a->exec[3],
                       "--exec replaces exec[0], -- args replace the rest");
                tap_is_str(env_find(a, "A"), "image", "image env over inherited");
                tap_is_str(env_find(a, "B"), "set", "--set-env over the file");
                tap_is_str(env_find(a, "C"), "app", "--environment over everything");
                tap_is_str(env_find(a, "H"), "host", "inherited variable");
                tap_ok(!env_find(a, "POD_LOCK_FD"), "pod's own variables are not inherited");
                iso = pod_isolators_find(a->isolators, a->n_isolators, POD_ISOLATOR_MEMORY);
                tap_ok(iso && iso->resource.limit == 64u << 20, "--memory isolator");
                iso = pod_isolators_find(a->isolators, a->n_isolators, POD_ISOLATOR_CAPS_REMOVE);
                tap_ok(iso && iso->caps.mask == 1u << 10, "--caps-remove isolator");
                iso = pod_isolators_find(a->isolators, a->n_isolators, POD_ISOLATOR_SECCOMP_REMOVE);
                tap_ok(iso && iso->seccomp.errno_value == ENOTSUP &&
                               strcmp(iso->seccomp.set[0], "mkdir") == 0,
                       "--seccomp isolator");
                tap_ok(m->apps[0].read_only_root_fs, "--readonly-rootfs");
                tap_ok(m->n_volumes == 1 && m->volumes[0].kind == POD_VOLUME_EMPTY &&
                               strcmp(m->volumes[0].name, "data") == 0 &&
                               m->apps[0].n_mounts == 1 &&
                               strcmp(m->apps[0].mounts[0].path, "/data") == 0,
                       "an unsatisfied mount point gets an empty volume");
                tap_ok(m->n_ports == 2 && streq(m->ports[0].name, "http") &&
                               m->ports[0].host_port == 8080 && !m->ports[0].host_ip &&
                               m->ports[1].host_port == 8081 &&
                               streq(m->ports[1].host_ip, "127.0.0.1") && m->ports[1].pod_port == 0,
                       "--port: the pod manifest's ports");
        }

        {
                struct pod_prepare_app apps[2] = { { .image = id }, { .image = id } };
                struct pod_prepare_options o = {
                        .fetch = { .insecure = POD_INSECURE_IMAGE, .pull_policy = POD_PULL_NEVER },
                        .apps = apps,
                        .n_apps = 2,
                };
                struct pod_pod_manifest *m = NULL;

                tap_is_int(pod_prepare_manifest(s, &o, &m, NULL, &e), -EEXIST,
                           "two apps with one name refused");
                apps[1].name = "second";
                apps[1].caps_retain = "CAP_CHOWN";
                apps[1].caps_remove = "CAP_KILL";
                tap_is_int(pod_prepare_manifest(s, &o, &m, NULL, &e), -EINVAL,
                           "--caps-retain with --caps-remove refused");
                apps[1].caps_remove = NULL;
                apps[1].memory = "0";
                tap_is_int(pod_prepare_manifest(s, &o, &m, NULL, &e), -EINVAL,
                           "zero memory refused");
                apps[1].memory = NULL;
                apps[1].seccomp = "errno=EPERM,mkdir";
                tap_is_int(pod_prepare_manifest(s, &o, &m, NULL, &e), -EINVAL,
                           "--seccomp without mode refused");
                apps[1].seccomp = NULL;
                {
                        char *unknown[] = { (char *)"https:443", NULL },
                             *twice[] = { (char *)"http:8080", (char *)"http:8080", NULL },
                             *bad[] = { (char *)"http:99999", NULL };

                        o.ports = unknown;
                        pod_error_clear(&e);
                        tap_is_int(pod_prepare_manifest(s, &o, &m, NULL, &e), -ENOENT,
                                   "--port naming no app port refused");
                        tap_is_str(e.msg,
                                   "--port='https:443': no app of the pod has a port named "
                                   "'https' (the image manifest's app.ports)",
                                   "  message");
                        o.ports = twice;
                        pod_error_clear(&e);
                        tap_is_int(pod_prepare_manifest(s, &o, &m, NULL, &e), -EINVAL,
                                   "a host port forwarded twice refused");
                        tap_ok(strstr(e.msg, "ports[1].hostPort: host port 8080 is already "
                                             "forwarded (ports[0])") != NULL,
                               "  message: %s", e.msg);
                        o.ports = bad;
                        tap_is_int(pod_prepare_manifest(s, &o, &m, NULL, &e), -EINVAL,
                                   "--port out of range refused");
                }
        }

        for (int no_overlay = 0; no_overlay < 2; no_overlay++) {
                struct pod_prepare_app app = { .image = id };
                char *ports[] = { (char *)"http:18082", NULL };
                struct pod_prepare_options o = {
                        .fetch = { .insecure = POD_INSECURE_IMAGE, .pull_policy = POD_PULL_NEVER },
                        .apps = &app,
                        .n_apps = 1,
                        .no_overlay = no_overlay,
                        .ports = no_overlay ? ports : NULL,
                };
                _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
                _cleanup_close_ int pods = -EBADF, tree = -EBADF;
                struct stat a, b, l;
                char dir[512];

                (void)snprintf(dir, sizeof(dir), "%s/data", tmp);
                tap_ok(pod_pods_open(dir, true, &pods) == 0, "pods dir");
                pod_error_clear(&e);
                r = pod_prepare(s, pods, &o, &p, &e);
                tap_ok(r == 0, "pod prepared (no_overlay=%d): %s", no_overlay, e.msg);
                if (r < 0)
                        continue;
                tap_ok(p->phase == POD_PHASE_PREPARE && p->lock != 0, "left in prepare/, locked");
                tap_ok(faccessat(p->fd, "pod", F_OK, 0) == 0 &&
                               faccessat(p->fd, "appsinfo/my-app/manifest", F_OK, 0) == 0,
                       "pod and image manifests written");
                tap_ok(pod_store_open_tree(s, id, &tree, &e) == 0, "store tree");
                if (no_overlay) {
                        tap_ok(fstatat(tree, "rootfs/bin/sh", &a, 0) == 0 &&
                                       fstatat(p->fd,
                                               "stage1/rootfs/opt/stage2/my-app/rootfs/bin/sh", &b,
                                               0) == 0 &&
                                       fstatat(p->fd,
                                               "stage1/rootfs/opt/stage2/my-app/rootfs/bin/link",
                                               &l, AT_SYMLINK_NOFOLLOW) == 0,
                               "app tree copied");
                        tap_ok(a.st_ino != b.st_ino && b.st_mode == a.st_mode,
                               "--no-overlay: a private copy with the same mode");
                        tap_ok(S_ISLNK(l.st_mode), "symlinks stay symlinks");
                        tap_ok(faccessat(p->fd, "stage1/rootfs/opt/stage2/my-app/lowers", F_OK,
                                         AT_SYMLINK_NOFOLLOW) < 0,
                               "--no-overlay: no lower dirs");
                } else {
                        _cleanup_free_ char *lowers = NULL, *want = NULL;
                        _cleanup_close_ int empty = -EBADF;
                        char link[64], target[PATH_MAX] = "";
                        ssize_t k;

                        (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", tree);
                        k = readlink(link, target, sizeof(target) - 1);
                        if (k > 0)
                                target[k] = 0;
                        tap_ok(asprintf(&want, "%s/rootfs\n", target) > 0 &&
                                       read_full_file_at(p->fd,
                                                         "stage1/rootfs/opt/stage2/my-app/lowers",
                                                         4096, &lowers, NULL) == 0 &&
                                       streq(lowers, want),
                               "overlay: the store tree itself is the lower dir");
                        empty = openat(p->fd, "stage1/rootfs/opt/stage2/my-app/rootfs",
                                       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        tap_ok(empty >= 0 && fstatat(empty, "bin", &a, 0) < 0 && errno == ENOENT,
                               "overlay: rootfs/ is an empty mount point");
                        tap_ok(faccessat(p->fd, "images", F_OK, 0) == 0,
                               "the images the pod uses are recorded");
                }
                tap_is_int(pod_prepare_is_no_overlay(p->fd), no_overlay, "no-overlay marker");
                /* The second pod has ports: not on --net=host|none. */
                tap_is_int(pod_prepare_check_net(p->fd, "none", &e), no_overlay ? -EINVAL : 0,
                           "check_net: --net=none (refused with ports)");
                tap_is_int(pod_prepare_check_net(p->fd, "host", &e), no_overlay ? -EINVAL : 0,
                           "check_net: --net=host (refused with ports)");
                tap_is_int(pod_prepare_check_net(p->fd, NULL, &e), 0, "check_net: default fine");
                tap_is_int(pod_prepare_check_net(p->fd, "mynet:IP=1", &e), 0,
                           "check_net: named network fine");
        }

        (void)rm_rf_at(AT_FDCWD, tmp);
        return tap_done();
}
