/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The run configuration: the pod manifest ("pod") and every app's image manifest
 * ("appsinfo/<app>/manifest"), parsed by src/manifest.c, reduced to what stage1 enforces,
 * and the pod directory prepared for it (ABI.md "Files").  Every isolator is either
 * enforced, or reported as ignored (appc: an ACE MUST say which), or refused when ignoring
 * it would weaken the pod (selinux-context, apparmor-profile). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "isolator.h"
#include "log.h"
#include "manifest.h"
#include "oci.h"
#include "path-util.h"
#include "prepare-oci.h"
#include "stage1.h"

static int load_manifest_text(int dir_fd, const char *path, char **ret, size_t *ret_size,
                              struct pod_error *reterr) {
        int r = read_full_file_at(dir_fd, path, POD_MANIFEST_MAX, ret, ret_size);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '%s' in the pod dir: %m", path);
        return 0;
}

static const struct pod_volume *find_volume(const struct pod_pod_manifest *m, const char *name) {
        for (size_t i = 0; i < m->n_volumes; i++)
                if (streq(m->volumes[i].name, name))
                        return &m->volumes[i];
        return NULL;
}

static int setup_mounts(const struct pod_pod_manifest *pm, const struct pod_runtime_app *ra,
                        struct stage1_app *app, struct pod_error *reterr) {
        app->mounts = calloc(ra->n_mounts ?: 1, sizeof(*app->mounts));
        if (!app->mounts)
                return -ENOMEM;
        for (size_t j = 0; j < ra->n_mounts; j++) {
                const struct pod_mount *pmnt = &ra->mounts[j];
                struct stage1_mount *m = &app->mounts[app->n_mounts++];
                const struct pod_mount_point *mp = NULL;

                m->volume = pmnt->app_volume ?: find_volume(pm, pmnt->volume);
                if (!m->volume)
                        return pod_error_set(reterr, -ENOENT,
                                             "App '%s': mount of unknown volume '%s'", app->name,
                                             pmnt->volume);
                /* path is absolute, or (as rkt accepted) the name of one of the app's
                 * mountPoints. */
                for (size_t k = 0; k < app->app->n_mount_points; k++) {
                        const struct pod_mount_point *p = &app->app->mount_points[k];
                        if (streq(p->name, pmnt->path) || streq(p->path, pmnt->path))
                                mp = p;
                }
                m->path = pmnt->path[0] == '/' ? pmnt->path : mp ? mp->path : NULL;
                if (!m->path)
                        return pod_error_set(reterr, -EINVAL,
                                             "App '%s': mount path '%s' is neither absolute nor a "
                                             "mount point of the app",
                                             app->name, pmnt->path);
                m->read_only = m->volume->read_only || (mp && mp->read_only);
                if (m->volume->kind == POD_VOLUME_HOST &&
                    (!m->volume->source || m->volume->source[0] != '/'))
                        return pod_error_set(reterr, -EINVAL,
                                             "Volume '%s': host source must be absolute",
                                             m->volume->name);
        }
        return 0;
}

static void ignored(const char *scope, const struct pod_isolator *i) {
        log_notice("Isolator '%s' (%s) is not enforced by this stage1, ignoring.", i->name, scope);
}

/* Docker's StopSignal (oci.h annotation): "SIGQUIT", "QUIT" or a number; SIGTERM without. */
static int stop_signal(const struct pod_image_manifest *im, int *ret) {
        const char *v = pod_kv_get(im->annotations, im->n_annotations, POD_OCI_ANN_STOPSIGNAL);
        char *end;
        long n;

        *ret = SIGTERM;
        if (!v)
                return 0;
        errno = 0;
        n = strtol(v, &end, 10);
        if (end != v && *end == 0 && errno == 0) {
                if (n < 1 || n > SIGRTMAX)
                        return -EINVAL;
                *ret = (int)n;
                return 0;
        }
        if (strncasecmp(v, "SIG", 3) == 0)
                v += 3;
        for (int s = 1; s < NSIG; s++) {
                const char *name = sigabbrev_np(s);

                if (name && strcasecmp(name, v) == 0) {
                        *ret = s;
                        return 0;
                }
        }
        return -EINVAL;
}

/* stage1/rootfs/opt/stage2/<app>/lowers (ABI.md): absolute paths, one a line, top first.
 * Missing: the app's rootfs/ is the lower dir (pods of ABI 3 and hand-made pod dirs). */
static int load_lowers(const struct stage1_config *c, struct stage1_app *app,
                       struct pod_error *reterr) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t n = 0;
        int r;

        if (asprintf(&path, "stage1/rootfs/opt/stage2/%s/lowers", app->name) < 0)
                return -ENOMEM;
        r = read_full_file_at(c->pod_dir_fd, path, 1u << 20, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "App '%s': failed to read '%s': %m", app->name,
                                     path);
        if (c->no_overlay)
                return pod_error_set(reterr, -EINVAL,
                                     "App '%s' has lower dirs, but the pod runs with --no-overlay",
                                     app->name);
        app->lowers = calloc(STAGE1_LOWERS_MAX + 1, sizeof(char *));
        if (!app->lowers)
                return -ENOMEM;
        for (char *p = text, *e; *p; p = e + 1) {
                e = strchr(p, '\n');
                if (!e)
                        return pod_error_set(reterr, -EBADMSG, "App '%s': '%s' is truncated",
                                             app->name, path);
                *e = 0;
                if (p[0] != '/' || strstr(p, "/../") || strstr(p, "/./") || strstr(p, "//"))
                        return pod_error_set(reterr, -EBADMSG,
                                             "App '%s': lower dir '%s' is not a canonical "
                                             "absolute path",
                                             app->name, p);
                if (n == STAGE1_LOWERS_MAX)
                        return pod_error_set(reterr, -E2BIG, "App '%s': more than %d lower dirs",
                                             app->name, STAGE1_LOWERS_MAX);
                app->lowers[n] = strdup(p);
                if (!app->lowers[n++])
                        return -ENOMEM;
        }
        if (n == 0)
                return pod_error_set(reterr, -EBADMSG, "App '%s': '%s' is empty", app->name, path);
        return 0;
}

static int app_isolators(struct stage1_config *c, struct stage1_app *app, uint64_t *mem,
                         uint64_t *cpu, uint64_t *shares, struct pod_error *reterr) {
        for (size_t k = 0; k < app->app->n_isolators; k++) {
                const struct pod_isolator *i = &app->app->isolators[k];

                switch (i->type) {
                case POD_ISOLATOR_CAPS_RETAIN:
                        app->caps_retain = true;
                        app->caps_set = i->caps.mask;
                        break;
                case POD_ISOLATOR_CAPS_REMOVE:
                        app->caps_remove = true;
                        app->caps_set = i->caps.mask;
                        break;
                case POD_ISOLATOR_SECCOMP_RETAIN:
                case POD_ISOLATOR_SECCOMP_REMOVE:
                        app->seccomp_mode = i->type == POD_ISOLATOR_SECCOMP_RETAIN
                                                    ? STAGE1_SECCOMP_RETAIN
                                                    : STAGE1_SECCOMP_REMOVE;
                        app->seccomp_set = i->seccomp.set;
                        app->seccomp_errno = i->seccomp.errno_value;
                        break;
                case POD_ISOLATOR_NO_NEW_PRIVILEGES:
                        app->no_new_privs = i->no_new_privileges;
                        break;
                case POD_ISOLATOR_OOM_SCORE_ADJ:
                        app->has_oom_score_adj = true;
                        app->oom_score_adj = i->oom_score_adj;
                        break;
                case POD_ISOLATOR_CPU_SHARES:
                        *shares = i->cpu_shares;
                        break;
                case POD_ISOLATOR_MEMORY:
                        if (i->resource.has_limit)
                                *mem = i->resource.limit;
                        break;
                case POD_ISOLATOR_CPU:
                        if (i->resource.has_limit)
                                *cpu = i->resource.limit;
                        break;
                case POD_ISOLATOR_SELINUX_CONTEXT:
                case POD_ISOLATOR_APPARMOR_PROFILE:
                        return pod_error_set(reterr, -EOPNOTSUPP,
                                             "App '%s': isolator '%s' cannot be enforced by this "
                                             "stage1",
                                             app->name, i->name);
                default:
                        ignored(app->name, i);
                }
        }
        return 0;
}

static int pod_isolators(struct stage1_config *c, struct pod_error *reterr) {
        const struct pod_pod_manifest *pm = c->manifest;

        for (size_t k = 0; k < pm->n_isolators; k++) {
                const struct pod_isolator *i = &pm->isolators[k];

                switch (i->type) {
                case POD_ISOLATOR_MEMORY:
                        c->has_memory_max = i->resource.has_limit;
                        c->memory_max = i->resource.limit;
                        break;
                case POD_ISOLATOR_CPU:
                        /* millicores -> microseconds of CPU per second of wall clock */
                        c->has_cpu_quota = i->resource.has_limit;
                        c->cpu_quota_usec = i->resource.limit * 1000;
                        break;
                case POD_ISOLATOR_SYSCTL:
                        if (c->net == STAGE1_NET_HOST)
                                return pod_error_set(reterr, -EOPNOTSUPP,
                                                     "Isolator os/unix/sysctl needs the pod's own "
                                                     "network namespace (not --net=host)");
                        for (size_t e = 0; e < i->sysctl.n_entries; e++) {
                                const char *key = i->sysctl.entries[e].name;
                                if (!string_has_prefix(key, "net.") || strchr(key, '/') ||
                                    strstr(key, ".."))
                                        return pod_error_set(reterr, -EPERM,
                                                             "Sysctl '%s' is not a per-pod "
                                                             "(net.*) setting",
                                                             key);
                        }
                        c->sysctl = i;
                        break;
                case POD_ISOLATOR_SELINUX_CONTEXT:
                case POD_ISOLATOR_APPARMOR_PROFILE:
                        return pod_error_set(reterr, -EOPNOTSUPP,
                                             "Isolator '%s' cannot be enforced by this stage1",
                                             i->name);
                default:
                        ignored("pod", i);
                }
        }
        return 0;
}

static bool argv_absolute(char **argv) {
        return !argv || (argv[0] && argv[0][0] == '/');
}

static bool port_clash(const struct stage1_port *a, const struct stage1_port *b) {
        unsigned char x[sizeof(struct in6_addr)] = {}, y[sizeof(struct in6_addr)] = {};
        int fx, fy;

        if (a->host_port != b->host_port)
                return false;
        if (!a->host_ip || !b->host_ip) /* every address */
                return true;
        fx = inet_pton(AF_INET, a->host_ip, x) == 1 ? AF_INET : AF_INET6;
        fy = inet_pton(AF_INET, b->host_ip, y) == 1 ? AF_INET : AF_INET6;
        if (fx != fy)
                return false;
        if (fx == AF_INET6 &&
            (inet_pton(AF_INET6, a->host_ip, x) != 1 || inet_pton(AF_INET6, b->host_ip, y) != 1))
                return false;
        return memcmp(x, y, sizeof(x)) == 0;
}

/* The forwarded ports (ABI.md "Networking"): the pod manifest's "ports" (what stage0's run
 * and prepare --port record), then the --port arguments (run-prepared's, or an older
 * stage0's); a host port forwarded twice on the same address is refused. */
static int merge_ports(struct stage1_config *c, struct pod_error *reterr) {
        const struct pod_pod_manifest *m = c->manifest;
        struct stage1_port *t;
        size_t n = m->n_ports + c->n_ports;

        if (m->n_ports == 0)
                return 0;
        t = calloc(n, sizeof(*t));
        if (!t)
                return -ENOMEM;
        /* The argv entries move behind the manifest's; both are owned by t from here on. */
        if (c->n_ports > 0)
                memcpy(t + m->n_ports, c->ports, c->n_ports * sizeof(*t));
        free(c->ports);
        c->ports = t;
        c->n_ports = n;
        for (size_t i = 0; i < m->n_ports; i++) {
                t[i].name = strdup(m->ports[i].name);
                t[i].host_ip = m->ports[i].host_ip ? strdup(m->ports[i].host_ip) : NULL;
                t[i].host_port = m->ports[i].host_port;
                t[i].pod_port = m->ports[i].pod_port;
                if (!t[i].name || (m->ports[i].host_ip && !t[i].host_ip))
                        return -ENOMEM;
        }
        for (size_t i = m->n_ports; i < n; i++)
                for (size_t j = 0; j < m->n_ports; j++)
                        if (port_clash(&t[i], &t[j]))
                                return pod_error_set(reterr, -EINVAL,
                                                     "--port=%s:%s%s%u: the host port is already "
                                                     "forwarded by the pod manifest's ports[%zu] "
                                                     "(%s)",
                                                     t[i].name, t[i].host_ip ?: "",
                                                     t[i].host_ip ? ":" : "", t[i].host_port, j,
                                                     t[j].name);
        if (c->net != STAGE1_NET_CNI && c->net != STAGE1_NET_USER && !c->running)
                return pod_error_set(reterr, -EINVAL,
                                     "The pod manifest forwards ports (ports[0]: '%s' from host "
                                     "port %u): they need a CNI network (--net=default or a "
                                     "named network), not --net=host or --net=none",
                                     m->ports[0].name, m->ports[0].host_port);
        return 0;
}

int stage1_config_load(struct stage1_config *c, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = load_manifest_text(c->pod_dir_fd, "pod", &text, &size, reterr);
        if (r < 0)
                return r;
        r = pod_pod_manifest_parse(text, size, &c->manifest, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Pod manifest");
        c->manifest_text = TAKE_PTR(text);
        if (c->manifest->n_apps == 0)
                return pod_error_set(reterr, -EINVAL, "The pod manifest has no apps");
        /* stage0 refuses it too, but the manifest may not be stage0's (--pod-manifest, an
         * edited pod dir): without a user namespace there is nothing to map through, and a
         * plain bind mount would silently be something else than what was asked for. */
        if (!c->private_users && pod_pod_manifest_idmap_volume(c->manifest))
                return pod_error_set(reterr, -EINVAL, POD_VOLUME_IDMAP_NEEDS_USERNS,
                                     pod_pod_manifest_idmap_volume(c->manifest)->name);

        r = merge_ports(c, reterr);
        if (r < 0)
                return r;
        r = pod_isolators(c, reterr);
        if (r < 0)
                return r;

        c->images = calloc(c->manifest->n_apps, sizeof(*c->images));
        c->apps = calloc(c->manifest->n_apps, sizeof(*c->apps));
        if (!c->images || !c->apps)
                return -ENOMEM;
        for (size_t i = 0; i < c->manifest->n_apps; i++) {
                const struct pod_runtime_app *ra = &c->manifest->apps[i];
                struct stage1_app *app = &c->apps[i];
                _cleanup_free_ char *p = NULL, *itext = NULL;
                uint64_t mem = 0, cpu = 0, shares = 0;

                c->n_apps++;
                app->log_fd = -EBADF;
                app->mntns_fd = -EBADF;
                app->notify_fd = -EBADF;
                app->cgroup_fd = -EBADF;
                app->limit_fds[0] = app->limit_fds[1] = -EBADF;
                app->no_new_privs = true; /* ABI.md: on unless the isolator says false */
                app->name = ra->name;
                if (asprintf(&app->rootfs, "stage1/rootfs/opt/stage2/%s/rootfs", ra->name) < 0)
                        return -ENOMEM;
                r = load_lowers(c, app, reterr);
                if (r < 0)
                        return r;

                p = path_join("appsinfo", ra->name, "manifest");
                if (!p)
                        return -ENOMEM;
                r = load_manifest_text(c->pod_dir_fd, p, &itext, &size, reterr);
                if (r < 0)
                        return r;
                r = pod_image_manifest_parse(itext, size, &c->images[i], reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Image manifest of app '%s'", ra->name);
                app->manifest_text = TAKE_PTR(itext);

                /* The pod's app replaces the image's whole app object (spec section 4). */
                app->app = ra->app ?: c->images[i]->app;
                if (!app->app || !app->app->exec || !app->app->exec[0])
                        return pod_error_set(reterr, -EINVAL, "App '%s' has no exec", app->name);
                if (!argv_absolute(app->app->exec) || !argv_absolute(app->app->pre_start) ||
                    !argv_absolute(app->app->post_stop))
                        return pod_error_set(reterr, -EINVAL,
                                             "App '%s': exec and event handlers need absolute "
                                             "paths",
                                             app->name);
                app->read_only_rootfs = ra->read_only_root_fs;
                {
                        const char *pg = pod_kv_get(ra->annotations, ra->n_annotations,
                                                    POD_ANN_PRIMARY_GROUP);

                        app->primary_group = pg && streq(pg, "true");
                }
                r = stop_signal(c->images[i], &app->stop_signal);
                if (r < 0)
                        return pod_error_set(
                                reterr, r, "App '%s': invalid stop signal '%s' in the image",
                                app->name,
                                pod_kv_get(c->images[i]->annotations, c->images[i]->n_annotations,
                                           POD_OCI_ANN_STOPSIGNAL));

                r = setup_mounts(c->manifest, ra, app, reterr);
                if (r < 0)
                        return r;
                r = app_isolators(c, app, &mem, &cpu, &shares, reterr);
                if (r < 0)
                        return r;
                r = stage1_seccomp_check(app, reterr);
                if (r < 0)
                        return r;

                /* A single app is the whole pod: its limit is the pod's.  With several
                 * apps, each limited app gets its own sub-cgroup (cgroup.c). */
                if (c->manifest->n_apps == 1) {
                        if (mem && !c->has_memory_max) {
                                c->has_memory_max = true;
                                c->memory_max = mem;
                        }
                        if (cpu && !c->has_cpu_quota) {
                                c->has_cpu_quota = true;
                                c->cpu_quota_usec = cpu * 1000;
                        }
                        c->cpu_shares = shares;
                } else if (mem || cpu || shares) {
                        /* cpu-shares weighs the apps against each other: only per app. */
                        c->per_app_limits = true;
                        app->cpu_shares = shares;
                        app->has_memory_max = mem != 0;
                        app->memory_max = mem;
                        app->has_cpu_quota = cpu != 0;
                        app->cpu_quota_usec = cpu * 1000;
                }
        }
        return 0;
}

void stage1_config_done(struct stage1_config *c) {
        for (size_t i = 0; i < c->n_limit_cgroups; i++)
                free(c->limit_cgroups[i]);
        free(c->limit_cgroups);
        c->limit_cgroups = NULL;
        c->n_limit_cgroups = 0;
        for (size_t i = 0; i < 2; i++)
                c->limit_init_fds[i] = safe_close(c->limit_init_fds[i]);
        for (size_t i = 0; i < c->n_apps; i++) {
                struct stage1_app *a = &c->apps[i];
                free(a->mounts);
                free(a->seccomp_prog);
                free(a->rootfs);
                strv_free(a->lowers);
                free(a->gids);
                free(a->home);
                safe_close(a->log_fd);
                safe_close(a->mntns_fd);
                safe_close(a->notify_fd);
                safe_close(a->cgroup_fd);
                safe_close(a->limit_fds[0]);
                safe_close(a->limit_fds[1]);
                free(a->listen_idx);
                free(a->manifest_text);
        }
        free(c->manifest_text);
        free(c->fuse_overlayfs);
        c->manifest_text = NULL;
        free(c->mds_url);
        c->mds_url = NULL;
        explicit_bzero(c->mds_key, sizeof(c->mds_key));
        for (size_t j = 0; j < c->n_listen_fds; j++) {
                safe_close(c->listen_fds[j]);
                free(c->listen_names[j]);
        }
        free(c->listen_fds);
        free(c->listen_names);
        c->listen_fds = NULL;
        c->listen_names = NULL;
        c->n_listen_fds = 0;
        free(c->apps);
        if (c->images)
                for (size_t i = 0; i < c->manifest->n_apps; i++)
                        pod_image_manifest_free(c->images[i]);
        free(c->images);
        pod_pod_manifest_free(c->manifest);
        free(c->pod_dir);
        for (size_t i = 0; i < c->n_networks; i++) {
                free(c->networks[i].name);
                free(c->networks[i].args);
        }
        free(c->networks);
        for (size_t i = 0; i < c->n_ports; i++) {
                free(c->ports[i].name);
                free(c->ports[i].host_ip);
        }
        free(c->ports);
        strv_free(c->hosts_entries);
        free(c->netns);
        free(c->net_ip);
        free(c->net_dns);
        c->networks = NULL;
        c->n_networks = 0;
        c->ports = NULL;
        c->n_ports = 0;
        c->hosts_entries = NULL;
        c->netns = c->net_ip = NULL;
        c->apps = NULL;
        c->images = NULL;
        c->manifest = NULL;
        c->pod_dir = NULL;
}

/* An empty upper dir would give the merged root its own mode and owner (overlayfs takes
 * the root's attributes from the upper layer): copy the image root's. */
static int make_upper(const struct stage1_config *c, const struct stage1_app *app,
                      struct pod_error *reterr) {
        _cleanup_free_ char *upper = NULL, *work = NULL;
        int pod_fd = c->pod_dir_fd;
        uint32_t uid, gid;
        struct stat st;
        int r;

        upper = path_join("overlay", app->name, "upper");
        work = path_join("overlay", app->name, "work");
        if (!upper || !work)
                return -ENOMEM;
        r = mkdir_p_at(pod_fd, upper, 0755);
        if (r >= 0)
                r = mkdir_p_at(pod_fd, work, 0700);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create overlay dirs of app '%s': %m",
                                     app->name);
        if (app->lowers) { /* the top lower dir's root is the image's */
                _cleanup_close_ int fd = stage1_open_lower(app->lowers[0], reterr);

                if (fd < 0)
                        return fd;
                if (fstat(fd, &st) < 0)
                        return pod_error_set(reterr, -errno, "App '%s': lower dir '%s': %m",
                                             app->name, app->lowers[0]);
        } else if (fstatat(pod_fd, app->rootfs, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return pod_error_set(reterr, -errno, "App '%s': rootfs '%s': %m", app->name,
                                     app->rootfs);
        /* --private-users: the root's owner as the app sees it through the idmapped lower dirs
         * (a shifted copy's is already in the range). */
        if (c->userns_chown) {
                uid = (uint32_t)st.st_uid;
                gid = (uint32_t)st.st_gid;
                if (!pod_idmap_contains(&c->idmap, uid) || !pod_idmap_contains(&c->idmap, gid))
                        return pod_error_set(reterr, -ERANGE,
                                             "App '%s': the shifted image's root is owned by "
                                             "%u:%u, outside the pod's user namespace",
                                             app->name, (unsigned)uid, (unsigned)gid);
        } else if (stage1_userns_shift(c, st.st_uid, &uid) < 0 ||
                   stage1_userns_shift(c, st.st_gid, &gid) < 0)
                return pod_error_set(reterr, -ERANGE,
                                     "App '%s': the image's root is owned by %u:%u, outside the "
                                     "pod's user namespace",
                                     app->name, (unsigned)st.st_uid, (unsigned)st.st_gid);
        if (fchownat(pod_fd, upper, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(pod_fd, upper, st.st_mode & 07777, 0) < 0)
                return pod_error_set(reterr, -errno, "Failed to set up '%s': %m", upper);
        return 0;
}

int stage1_config_prepare_pod_dir(struct stage1_config *c, struct pod_error *reterr) {
        int r;

        r = mkdir_p_at(c->pod_dir_fd, "status", 0755);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create 'status' in the pod dir: %m");

        for (size_t i = 0; i < c->n_apps; i++) {
                struct stage1_app *app = &c->apps[i];
                struct stat st;

                r = fstatat(c->pod_dir_fd, app->rootfs, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno
                    : S_ISDIR(st.st_mode)                                             ? 0
                                                                                      : -ENOTDIR;
                if (r < 0)
                        return pod_error_set(reterr, r, "App '%s': rootfs '%s' in the pod dir: %m",
                                             app->name, app->rootfs);
                if (!c->no_overlay) {
                        r = make_upper(c, app, reterr);
                        if (r < 0)
                                return r;
                }
        }

        /* empty volumes: one directory per pod, shared by every app mounting it (inline
         * appVolumes included). */
        for (size_t i = 0; i < c->n_apps; i++)
                for (size_t j = 0; j < c->apps[i].n_mounts; j++) {
                        const struct pod_volume *v = c->apps[i].mounts[j].volume;
                        _cleanup_free_ char *p = NULL;
                        uint32_t uid, gid;

                        if (v->kind != POD_VOLUME_EMPTY)
                                continue;
                        p = path_join("volumes", v->name);
                        if (!p)
                                return -ENOMEM;
                        r = mkdir_p_at(c->pod_dir_fd, p, 0700);
                        if (r < 0)
                                return pod_error_set(reterr, r,
                                                     "Failed to create empty volume '%s': %m",
                                                     v->name);
                        if (stage1_userns_shift(c, v->uid, &uid) < 0 ||
                            stage1_userns_shift(c, v->gid, &gid) < 0)
                                return pod_error_set(reterr, -ERANGE,
                                                     "Empty volume '%s': owner %u:%u is outside "
                                                     "the pod's user namespace",
                                                     v->name, (unsigned)v->uid, (unsigned)v->gid);
                        if (fchownat(c->pod_dir_fd, p, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                            fchmodat(c->pod_dir_fd, p, v->mode & 07777, 0) < 0)
                                return pod_error_set(reterr, -errno,
                                                     "Failed to set owner and mode of volume "
                                                     "'%s': %m",
                                                     v->name);
                }
        return 0;
}

int stage1_write_file(int dir_fd, const char *name, const char *text) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* Atomic (readers see the old or the new file) but not durable: no fsync.  These
         * files describe a running pod; after a crash the pod is gone anyway, and an fsync
         * on a busy disk costs more than the whole pod start. */
        if (asprintf(&tmp, "%s.tmp-%d", name, (int)getpid()) < 0)
                return -ENOMEM;
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, text, strlen(text));
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void)unlinkat(dir_fd, tmp, 0);
        return r;
}
