/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pod networking with CNI (--net=default|NAME[,NAME...]), on the host side before the pod
 * init starts, and its teardown at pod exit and at "pod gc" (ABI.md "Networking").
 *
 * The pod's network namespace is a bind mount of an nsfs file on
 * /run/pod/netns/<uuid> (as "ip netns add" does), so that it exists before any process
 * of the pod and the plugins can enter it by path; the pod init joins it with setns().
 * Every attachment is written to net/ethN.json in the pod dir *before* its ADD, with the
 * exact configuration list, runtime config and (after ADD) result: DEL needs nothing else,
 * so it can run again after a crash, whatever /etc/pod/net.d holds by then. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cni.h"
#include "error.h"
#include "fd-util.h"
#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "stage1.h"

#define MAX_NETWORKS 16

static int netns_path(const char *uuid, char **ret) {
        return asprintf(ret, "%s/%s", POD_CNI_NETNS_DIR, uuid) < 0 ? -ENOMEM : 0;
}

/* Like "ip netns": the directory is a shared mount point of its own, so that a later
 * unmount of a pod's netns file propagates into mount namespaces that were copied while
 * it existed (otherwise the file stays busy there and the namespace lives on). */
static int netns_dir_setup(struct pod_error *reterr) {
        int r;

        r = mkdir_p_at(AT_FDCWD, POD_CNI_NETNS_DIR, 0755);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create '%s': %m", POD_CNI_NETNS_DIR);
        if (mount(NULL, POD_CNI_NETNS_DIR, NULL, MS_SHARED | MS_REC, NULL) >= 0)
                return 0;
        if (errno != EINVAL)
                return pod_error_set(reterr, -errno, "Failed to make '%s' shared: %m",
                                     POD_CNI_NETNS_DIR);
        /* Not a mount point yet. */
        if (mount(POD_CNI_NETNS_DIR, POD_CNI_NETNS_DIR, NULL, MS_BIND | MS_REC, NULL) < 0 ||
            mount(NULL, POD_CNI_NETNS_DIR, NULL, MS_SHARED | MS_REC, NULL) < 0)
                return pod_error_set(reterr, -errno, "Failed to make '%s' a shared mount: %m",
                                     POD_CNI_NETNS_DIR);
        return 0;
}

/* A child creates the namespace and binds it onto path; lo is up before any plugin runs.
 * --private-users: the namespace is made inside the pod's user namespace (userns.c), where
 * the child cannot mount, so we bind it. */
static int netns_create(const struct stage1_config *c, const char *path, struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;
        pid_t pid;
        int r, ws;

        r = netns_dir_setup(reterr);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to create '%s': %m", path);
        if (c->userns_fd >= 0) {
                _cleanup_close_ int ns = stage1_userns_netns(c);
                char src[32];

                if (ns < 0)
                        return pod_error_set(reterr, ns,
                                             "Failed to create the pod's network namespace in its "
                                             "user namespace: %m");
                (void)snprintf(src, sizeof(src), "/proc/self/fd/%d", ns);
                if (mount(src, path, NULL, MS_BIND, NULL) < 0)
                        return pod_error_set(reterr, -errno, "Failed to bind '%s': %m", path);
                return 0;
        }
        pid = fork();
        if (pid < 0)
                return pod_error_set(reterr, -errno, "Failed to fork: %m");
        if (pid == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(10);
                if (stage1_ns_loopback_up() < 0)
                        _exit(11);
                if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                        _exit(12);
                _exit(0);
        }
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return pod_error_set(reterr, -errno, "Failed to wait for a child: %m");
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                return pod_error_set(reterr, -EIO,
                                     "Failed to create the pod's network namespace '%s' (step "
                                     "%d)",
                                     path, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
        return 0;
}

static int netns_remove(const char *path, struct pod_error *reterr) {
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to unmount '%s': %m", path);
        if (unlink(path) < 0 && errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to remove '%s': %m", path);
        return 0;
}

/* runtimeConfig.portMappings for portmap: each forwarded port (the pod manifest's "ports",
 * then --port; config.c merges them) names an app port of the pod's apps. */
static int port_mappings(const struct stage1_config *c, struct json_object **ret,
                         struct pod_error *reterr) {
        _cleanup_json_ struct json_object *rc = NULL, *arr = NULL;
        int r;

        if (c->n_ports == 0) {
                *ret = NULL;
                return 0;
        }
        arr = json_object_new_array();
        rc = json_object_new_object();
        if (!arr || !rc)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_ports; i++) {
                const struct stage1_port *fw = &c->ports[i];
                const struct pod_port *found = NULL;
                struct json_object *m;

                for (size_t a = 0; a < c->n_apps && !found; a++)
                        for (size_t k = 0; k < c->apps[a].app->n_ports; k++)
                                if (streq(c->apps[a].app->ports[k].name, fw->name)) {
                                        found = &c->apps[a].app->ports[k];
                                        break;
                                }
                if (!found)
                        return pod_error_set(reterr, -ENOENT,
                                             "--port: no app of the pod has a port named '%s' "
                                             "(the image manifest's app.ports)",
                                             fw->name);
                m = json_object_new_object();
                if (!m || json_object_array_add(arr, m) < 0) {
                        json_object_put(m);
                        return -ENOMEM;
                }
                r = pod_json_add_int(m, "hostPort", fw->host_port);
                if (r >= 0)
                        r = pod_json_add_int(m, "containerPort", fw->pod_port ?: found->port);
                if (r >= 0)
                        r = pod_json_add_string(m, "protocol", found->protocol);
                if (r >= 0 && fw->host_ip)
                        r = pod_json_add_string(m, "hostIP", fw->host_ip);
                if (r < 0)
                        return r;
        }
        r = pod_json_add(rc, "portMappings", TAKE_PTR(arr));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rc);
        return 0;
}

static int write_state(int pod_dir_fd, const struct pod_cni_attachment *a) {
        _cleanup_free_ char *text = NULL, *name = NULL;
        int r;

        r = pod_cni_attachment_to_json(a, &text);
        if (r < 0)
                return r;
        if (asprintf(&name, "net/%s.json", a->if_name) < 0)
                return -ENOMEM;
        return stage1_write_file(pod_dir_fd, name, text);
}

/* One entry of net-info.json (rkt's format, read by "pod list" and "pod status"). */
static int net_info_entry(const struct pod_cni_attachment *a, struct json_object *arr) {
        struct json_object *o = json_object_new_object();
        struct json_object *plugins = pod_json_get(a->conflist, "plugins");
        _cleanup_free_ char *plugin = NULL;
        struct pod_cni_ip ip = {};
        int r;

        if (!o || json_object_array_add(arr, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        (void)pod_cni_find_plugin(
                a->cni_path,
                json_object_get_string(pod_json_get(json_object_array_get_idx(plugins, 0), "type")),
                &plugin, NULL);
        r = pod_json_add_string(o, "netName", a->net_name);
        if (r >= 0)
                r = pod_json_add_string(o, "netConf", a->net_conf);
        if (r >= 0)
                r = pod_json_add_string(o, "pluginPath", plugin);
        if (r >= 0)
                r = pod_json_add_string(o, "ifName", a->if_name);
        if (r >= 0 && pod_cni_result_first_ip(a->result, &ip) >= 0) {
                r = pod_json_add_string(o, "ip", ip.address);
                if (r >= 0)
                        r = pod_json_add_string(o, "mask", ip.mask);
                if (r >= 0 && ip.gateway[0])
                        r = pod_json_add_string(o, "hostIP", ip.gateway);
        }
        if (r >= 0)
                r = pod_json_add_string(o, "args", a->args ?: "");
        if (r >= 0 && a->result) {
                struct json_object *copy = NULL;

                if (json_object_deep_copy(a->result, &copy, NULL) < 0)
                        return -ENOMEM;
                r = pod_json_add(o, "result", copy);
        }
        return r;
}

/* --net=all (rkt's): every network of the configuration directory, in the order of the
 * files' names, takes the place of "all"; networks also named on their own keep their
 * position and arguments. */
static int expand_all(struct stage1_config *c, const char *conf_dir, struct pod_error *reterr) {
        _cleanup_strv_free_ char **names = NULL;
        struct stage1_network *t;
        size_t k = 0, n_all;
        ssize_t at = -1;
        int r;

        for (size_t i = 0; i < c->n_networks; i++)
                if (streq(c->networks[i].name, POD_CNI_NET_ALL)) {
                        if (c->networks[i].args)
                                return pod_error_set(reterr, -EINVAL,
                                                     "--net=all takes no CNI_ARGS ('%s'): give "
                                                     "them to the networks by name",
                                                     c->networks[i].args);
                        at = (ssize_t)i;
                }
        if (at < 0)
                return 0;
        r = pod_cni_network_names(conf_dir, &names, reterr);
        if (r < 0)
                return r;
        if (r == 0)
                return pod_error_set(reterr, -ENOENT,
                                     "--net=all: no network is defined in '%s' (*.conf, "
                                     "*.conflist)",
                                     conf_dir);
        n_all = (size_t)r;
        t = calloc(c->n_networks + n_all, sizeof(*t));
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_networks; i++) {
                if ((ssize_t)i != at) {
                        t[k++] = c->networks[i];
                        continue;
                }
                free(c->networks[i].name);
                for (size_t j = 0; j < n_all; j++) {
                        bool named = false;

                        for (size_t x = 0; x < c->n_networks && !named; x++)
                                named = (ssize_t)x != at && streq(c->networks[x].name, names[j]);
                        if (named)
                                continue;
                        t[k].name = strdup(names[j]);
                        if (!t[k++].name) {
                                free(c->networks);
                                c->networks = t;
                                c->n_networks = k - 1;
                                return -ENOMEM;
                        }
                }
        }
        free(c->networks);
        c->networks = t;
        c->n_networks = k;
        for (size_t i = 0; i < k; i++)
                log_debug("--net=all: network '%s'", t[i].name);
        return 0;
}

int stage1_net_setup(struct stage1_config *c, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *info = NULL;
        _cleanup_free_ char *text = NULL;
        const char *conf_dir = getenv("POD_NET_CONF_DIR") ?: POD_CNI_CONF_DIR;
        const char *cni_path = getenv("POD_CNI_PATH") ?: POD_CNI_PLUGIN_PATH;
        int r;

        r = expand_all(c, conf_dir, reterr);
        if (r < 0)
                return r;
        if (c->n_networks > MAX_NETWORKS)
                return pod_error_set(reterr, -E2BIG, "At most %d networks per pod", MAX_NETWORKS);
        /* net/ first: its presence tells "pod gc" to call us back, whatever happens next. */
        if (mkdirat(c->pod_dir_fd, "net", 0755) < 0 && errno != EEXIST)
                return pod_error_set(reterr, -errno, "Failed to create 'net' in the pod dir: %m");
        c->net_created = true;
        r = netns_path(c->uuid, &c->netns);
        if (r < 0)
                return r;
        r = netns_create(c, c->netns, reterr);
        if (r < 0)
                return r;

        info = json_object_new_array();
        if (!info)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_networks; i++) {
                _cleanup_(pod_cni_attachment_freep) struct pod_cni_attachment *a = NULL;
                const struct stage1_network *n = &c->networks[i];
                struct pod_cni_ip ip;
                bool ports = i == 0 && c->n_ports > 0;

                a = calloc(1, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                r = pod_cni_network_load(conf_dir, n->name, ports, &a->conflist, &a->net_conf,
                                         reterr);
                if (r < 0)
                        return r;
                if (ports) {
                        r = port_mappings(c, &a->runtime_config, reterr);
                        if (r < 0)
                                return r;
                }
                a->net_name = strdup(n->name);
                a->args = n->args ? strdup(n->args) : NULL;
                a->container_id = strdup(c->uuid);
                a->netns = strdup(c->netns);
                a->cni_path = strdup(cni_path);
                if (asprintf(&a->if_name, "eth%zu", i) < 0)
                        a->if_name = NULL;
                if (!a->net_name || (n->args && !a->args) || !a->container_id || !a->netns ||
                    !a->cni_path || !a->if_name)
                        return -ENOMEM;

                r = pod_cni_find_plugins(a, reterr);
                if (r < 0)
                        return r;
                r = write_state(c->pod_dir_fd, a);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write 'net/%s.json': %m",
                                             a->if_name);
                log_debug("Network '%s' (%s): ADD %s", a->net_name, a->net_conf, a->if_name);
                r = pod_cni_add(a, reterr);
                if (r < 0)
                        return r;
                r = write_state(c->pod_dir_fd, a);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write 'net/%s.json': %m",
                                             a->if_name);
                if (!c->net_dns) {
                        r = pod_cni_result_resolv_conf(a->result, a->net_name, &c->net_dns, reterr);
                        if (r < 0)
                                return r;
                }
                if (!c->net_ip && pod_cni_result_first_ip(a->result, &ip) >= 0) {
                        c->net_ip = strdup(ip.address);
                        if (!c->net_ip)
                                return -ENOMEM;
                }
                r = net_info_entry(a, info);
                if (r < 0)
                        return r;
        }
        r = pod_json_to_string(info, true, &text);
        if (r < 0)
                return r;
        r = stage1_write_file(c->pod_dir_fd, "net-info.json", text);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write 'net-info.json': %m");
        return 0;
}

int stage1_net_join(const struct stage1_config *c, struct pod_error *reterr) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(c->netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", c->netns);
        if (setns(fd, CLONE_NEWNET) < 0)
                return pod_error_set(reterr, -errno, "Failed to join '%s': %m", c->netns);
        return 0;
}

/* DEL of one persisted attachment; its state file goes once DEL succeeded. */
/* With force (pod rm --force, gc giving up), an attachment whose state cannot be read or
 * whose DEL fails is reported as left behind and forgotten: 1. */
static int teardown_one(int net_fd, const char *name, bool force, struct pod_error *reterr) {
        _cleanup_(pod_cni_attachment_freep) struct pod_cni_attachment *a = NULL;
        _cleanup_free_ char *text = NULL;
        struct pod_error e = {};
        size_t size;
        int r;

        r = read_full_file_at(net_fd, name, 4 * 1024 * 1024, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read 'net/%s': %m", name);
        r = pod_cni_attachment_from_json(text, size, &a, reterr);
        if (r < 0 && force) {
                log_warning("Left behind: the attachment in 'net/%s', which does not parse (%s); "
                            "whatever its plugins set up stays",
                            name, reterr ? reterr->msg : strerror(-r));
                return unlinkat(net_fd, name, 0) < 0 && errno != ENOENT ? -errno : 1;
        }
        if (r < 0)
                return pod_error_prefix(reterr, r, "Failed to parse 'net/%s'", name);
        log_debug("Network '%s' (%s): DEL %s", a->net_name, a->net_conf, a->if_name);
        r = stage1_net_standin(a, &e);
        if (r < 0) /* DEL still releases what it can (the lease, portmap's rules) */
                log_warning("Network '%s': %s; what the plugins keyed on it may stay behind",
                            a->net_name, e.msg);
        r = pod_cni_del(a, reterr);
        if (r < 0 && force) {
                struct pod_cni_ip ips[4];
                char addrs[300] = "";
                int n = a->result ? pod_cni_result_if_ips(a->result, a->if_name, ips, 4) : 0;

                for (int i = 0; i < n; i++)
                        (void)snprintf(addrs + strlen(addrs), sizeof(addrs) - strlen(addrs),
                                       "%s%s/%u", i ? ", " : "", ips[i].address, ips[i].prefix);
                log_warning("Left behind: network '%s' (%s), interface %s%s%s: CNI DEL failed "
                            "(%s); what its plugins keep for it (address leases, routes, "
                            "firewall rules) stays until removed by hand",
                            a->net_name, a->net_conf, a->if_name, n > 0 ? ", address " : "", addrs,
                            reterr ? reterr->msg : strerror(-r));
                r = 1;
        } else if (r < 0)
                return r;
        if (unlinkat(net_fd, name, 0) < 0 && errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to remove 'net/%s': %m", name);
        return r;
}

static int remove_write_temps(int net_fd) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        fd = openat(net_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((de = readdir(d)))
                if (strstr(de->d_name, ".json.tmp-") && unlinkat(net_fd, de->d_name, 0) < 0 &&
                    errno != ENOENT)
                        return -errno;
        return 0;
}

int stage1_net_teardown(int pod_dir_fd, const char *uuid, bool force, struct pod_error *reterr) {
        _cleanup_free_ char *ns = NULL;
        _cleanup_close_ int net_fd = -EBADF;
        int r, ret = 0;

        net_fd = openat(pod_dir_fd, "net", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (net_fd < 0) {
                if (errno != ENOENT)
                        return pod_error_set(reterr, -errno, "Failed to open 'net': %m");
                return 0;
        }
        /* Reverse order of ADD; every attachment is tried even when one fails. */
        for (int i = MAX_NETWORKS - 1; i >= 0; i--) {
                char name[32];

                (void)snprintf(name, sizeof(name), "eth%d.json", i);
                r = teardown_one(net_fd, name, force, reterr);
                if (r < 0 && ret == 0)
                        ret = r;
                if (r > 0 && ret == 0 && reterr)
                        *reterr = (struct pod_error){};
        }
        /* A failed DEL keeps the namespace: the next gc's DEL (and the stand-in for an
         * interface a killed DEL removed) needs it to find what the plugins keyed on the
         * pod's addresses.  Without it a repeated DEL finds nothing and succeeds. */
        if (ret < 0)
                return ret;
        r = netns_path(uuid, &ns);
        if (r < 0)
                return r;
        r = netns_remove(ns, reterr);
        if (r < 0)
                return r;
        /* A stage1 killed while it wrote a state file left its temp file ("ethN.json.tmp-PID"):
         * every DEL succeeded, so it describes nothing that still exists. */
        r = remove_write_temps(net_fd);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to clean 'net' in the pod dir: %m");
        /* Done: the next gc has nothing to call us back for. */
        if (unlinkat(pod_dir_fd, "net", AT_REMOVEDIR) < 0 && errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to remove 'net' in the pod dir: %m");
        return 0;
}
