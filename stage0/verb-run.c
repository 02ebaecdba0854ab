/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod run, pod prepare, pod run-prepared: the command lines (run-args.h for run and
 * prepare), then src/prepare.h builds the pod directory and execs pod-stage1, whose exit
 * status becomes ours (the app's; 254 for pod's own failures). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cni.h"
#include "error.h"
#include "fd-util.h"
#include "fetch.h"
#include "insecure.h"
#include "log.h"
#include "macro.h"
#include "mds.h"
#include "poddir.h"
#include "podlimits.h"
#include "prepare.h"
#include "provenance.h"
#include "rootfs-mode.h"
#include "run-args.h"
#include "stage1sel.h"
#include "store.h"
#include "userns-alloc.h"
#include "verbs.h"

extern char **environ;

static const char *stage1_path(void) {
        const char *e = getenv("POD_STAGE1");
        return e && e[0] ? e : POD_STAGE1_PATH;
}

/* The stage1 a pod runs with (rkt's --stage1-* flags; stage1sel.h). */
struct stage1_choice {
        char *path;   /* what is executed */
        char *record; /* for the pod dir (absolute path or image ID), NULL: the built-in */
        bool image;   /* a stage1 image, resolved in do_prepare() once the store is open */
        bool fly;     /* pod-stage1-fly: rkt fly's rules (check_fly()) */
        bool builtin; /* pod's own pod-stage1 ($POD_STAGE1 or the installed one) */
        int fd;       /* a stage1 image's entry point (O_PATH), path is /proc/self/fd/N */
};

static void stage1_choice_done(struct stage1_choice *ch) {
        free(ch->path);
        free(ch->record);
        safe_close(ch->fd);
        *ch = (struct stage1_choice){ .fd = -EBADF };
}

static bool is_fly(const char *path) {
        const char *slash = strrchr(path, '/');
        return streq(slash ? slash + 1 : path, POD_STAGE1_FLY_NAME);
}

static int check_stage1_path(const char *path) {
        struct pod_error e = {};
        int r;

        r = pod_stage1_check_path(path, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        return 0;
}

/* --stage1-path, --stage1-from-dir or the built-in stage1, before anything is prepared; a
 * stage1 image is only marked here (resolve_stage1_image()). */
static int choose_stage1(const char *verb, const struct run_args *a, bool fly,
                         struct stage1_choice *ch) {
        const char *from_dir = fly ? POD_STAGE1_FLY_NAME : a->stage1_from_dir;
        int n = !!a->stage1_path + !!a->stage1_from_dir + !!a->stage1_name + !!a->stage1_hash +
                !!a->stage1_url;
        struct pod_error e = {};
        int r;

        if (fly && n > 0)
                return pod_usage_error(verb, "pod fly runs the fly stage1: no --stage1-* flags "
                                             "(pod run --stage1-... chooses another one)");
        if (n > 1)
                return pod_usage_error(verb, "Only one of --stage1-path, --stage1-from-dir, "
                                             "--stage1-name, --stage1-hash and --stage1-url");
        if (a->stage1_path) {
                ch->path = realpath(a->stage1_path, NULL);
                if (!ch->path)
                        return log_error_errno(-errno, "Cannot execute stage1 '%s': %m",
                                               a->stage1_path);
        } else if (from_dir) {
                const char *builtin = stage1_path(), *slash = strrchr(builtin, '/');

                if (!from_dir[0] || strchr(from_dir, '/') || streq(from_dir, ".") ||
                    streq(from_dir, ".."))
                        return pod_usage_error(verb,
                                               "--stage1-from-dir takes a file name in pod's "
                                               "stage1 directory, not '%s'",
                                               from_dir);
                if (asprintf(&ch->path, "%.*s/%s", slash ? (int)(slash - builtin) : 1,
                             slash ? builtin : ".", from_dir) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory");
        } else if (n == 1) {
                ch->image = true;
                return 0;
        } else {
                ch->path = strdup(stage1_path());
                if (!ch->path)
                        return log_error_errno(-ENOMEM, "Out of memory");
                r = pod_stage1_check(ch->path, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
                ch->builtin = true;
                return 0;
        }
        r = check_stage1_path(ch->path);
        if (r < 0)
                return r;
        ch->fly = is_fly(ch->path);
        ch->record = strdup(ch->path);
        if (!ch->record)
                return log_error_errno(-ENOMEM, "Out of memory");
        return 0;
}

static int set_image_entry(struct stage1_choice *ch, int fd) {
        ch->fd = fd;
        free(ch->path);
        if (asprintf(&ch->path, "/proc/self/fd/%d", fd) < 0)
                return log_error_errno(-ENOMEM, "Out of memory");
        return 0;
}

/* --stage1-name, --stage1-hash, --stage1-url: the image is fetched (or found) as an app's
 * image is, then must be verified: it runs as root.  A stored image by ID counts as verified
 * only when its provenance names a signer. */
static int resolve_stage1_image(const char *verb, struct pod_store *s, const struct run_args *a,
                                const struct pod_fetch_options *fo, struct stage1_choice *ch) {
        _cleanup_(pod_provenance_done) struct pod_provenance pv = {};
        _cleanup_free_ char *id = NULL;
        const char *ref = a->stage1_name ?: a->stage1_hash ?: a->stage1_url;
        struct pod_error e = {};
        int r, fd = -EBADF;

        if (a->stage1_hash && !strneq(ref, "sha512-", 7))
                return pod_usage_error(verb,
                                       "--stage1-hash takes an image ID (sha512-...), not "
                                       "'%s'",
                                       ref);
        if (a->stage1_name && (strstr(ref, "://") || strneq(ref, "sha512-", 7) || ref[0] == '/'))
                return pod_usage_error(verb, "--stage1-name takes NAME[:VERSION], not '%s'", ref);
        r = pod_fetch_image(s, ref, fo, &id, &e);
        if (r < 0)
                return log_pod_error(pod_error_prefix(&e, r, "Stage1 image"), &e);
        r = pod_store_get_provenance(s, id, &pv, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        if (!pv.signer_fingerprint && !(fo->insecure & POD_INSECURE_IMAGE))
                return log_error_errno(-ENOKEY,
                                       "Refusing stage1 image '%s' (%s): it was not verified "
                                       "by a signature, and a stage1 runs as root (pass "
                                       "--insecure-options=image to run it anyway)",
                                       ref, id);
        r = pod_stage1_open_image(s, id, &fd, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        r = set_image_entry(ch, fd);
        if (r < 0)
                return r;
        ch->fly = false;
        ch->record = TAKE_PTR(id);
        return 0;
}

/* rkt fly's rules, up front: one app, nothing that isolates a pod. */
static int check_fly(const char *verb, const struct run_args *a) {
        const char *bad = a->net && !streq(a->net, "host")     ? "--net (host only)"
                          : a->ports                           ? "--port"
                          : a->dns                             ? "--dns"
                          : a->dns_search                      ? "--dns-search"
                          : a->dns_opt                         ? "--dns-opt"
                          : a->dns_domain                      ? "--dns-domain"
                          : a->hosts_entry                     ? "--hosts-entry"
                          : a->hostname                        ? "--hostname"
                          : a->ipc && streq(a->ipc, "private") ? "--ipc=private"
                          : a->keep_unit == 1                  ? "--keep-unit"
                          : a->pod_manifest                    ? "--pod-manifest"
                          : a->private_users && !streq(a->private_users, "no") &&
                                          !streq(a->private_users, "false")
                                  ? "--private-users"
                                  : NULL;

        if (a->n_apps != 1 && !a->pod_manifest)
                return pod_usage_error(verb,
                                       "The fly stage1 runs exactly one app (rkt fly), got %zu "
                                       "images",
                                       a->n_apps);
        for (size_t i = 0; !bad && i < a->n_apps; i++) {
                const struct run_app_args *x = &a->apps[i];

                bad = x->memory        ? "--memory"
                      : x->cpu         ? "--cpu"
                      : x->cpu_shares  ? "--cpu-shares"
                      : x->seccomp     ? "--seccomp"
                      : x->caps_retain ? "--caps-retain"
                      : x->caps_remove ? "--caps-remove"
                                       : NULL;
        }
        if (bad)
                return pod_usage_error(verb,
                                       "%s: the fly stage1 runs its app in the host's "
                                       "namespaces with every capability (rkt fly), so it "
                                       "cannot apply",
                                       bad);
        return 0;
}

/* --net, --port and --hosts-entry are checked here, before anything is fetched or
 * prepared; stage1 resolves them (network configs, app port names). */
static int check_net(const char *verb, const char *net, char **ports, char **hosts) {
        struct pod_error e = {};
        int r;

        r = pod_cni_parse_net(net ?: "default", NULL, NULL, &e);
        if (r < 0)
                return pod_usage_error(verb, "%s", e.msg);
        if (r == 0 && ports)
                return pod_usage_error(verb,
                                       "--port needs a CNI network (--net=default or a named "
                                       "network), not --net=%s",
                                       net);
        STRV_FOREACH (p, ports)
                if (pod_cni_parse_port(*p, NULL, NULL, NULL, &e) < 0)
                        return pod_usage_error(verb, "%s", e.msg);
        STRV_FOREACH (h, hosts)
                if (pod_cni_parse_hosts_entry(*h, &e) < 0)
                        return pod_usage_error(verb, "%s", e.msg);
        return 0;
}

static int check_dns(char **dns, char **search, char **opt, const char *domain) {
        struct pod_error e = {};
        int r;

        r = pod_prepare_check_dns(dns, search, opt, domain, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        return 0;
}

static void warn_insecure(unsigned insecure) {
        if (insecure & POD_INSECURE_IMAGE)
                log_warning("Image signature verification is off (--insecure-options=image)");
        if (insecure & POD_INSECURE_TLS)
                log_warning("TLS certificate verification is off (--insecure-options=tls)");
        if (insecure & POD_INSECURE_CAPABILITIES)
                log_warning("Apps keep every capability (--insecure-options=capabilities)");
        if (insecure & POD_INSECURE_PATHS)
                log_warning("Sensitive /proc and /sys paths are not masked "
                            "(--insecure-options=paths)");
        if (insecure & POD_INSECURE_SECCOMP)
                log_warning("Apps run without a syscall filter (--insecure-options=seccomp)");
        if (insecure & POD_INSECURE_DEVICES)
                log_warning("Apps run without a device allow-list (--insecure-options=devices)");
}

/* --rootfs=auto of a rootless pod (rootfs-mode.h): kernel overlayfs if a probe mount of the
 * same kind works beside the pods, else the private copy, said once.  Root-started pods keep
 * their overlay without a probe. */
/* The fuse-overlayfs program, as rootfs.conf configures it (rootfs-mode.h). */
static int fuse_find(char **ret, struct pod_error *reterr) {
        struct pod_rootfs_conf conf;
        int r;

        r = pod_rootfs_conf_load_full(arg_vendordir, arg_sysconfdir, &conf, reterr);
        if (r < 0)
                return r;
        r = pod_rootfs_fuse_find(conf.fuse_overlayfs, ret, reterr);
        free(conf.fuse_overlayfs);
        return r;
}

static int choose_rootless_rootfs(int pods_fd, bool *no_overlay, char **fuse) {
        struct pod_error e = {}, fe = {};
        int r, k;

        r = pod_rootfs_probe_overlay(pods_fd, &e);
        if (r >= 0)
                return 0;
        if (!pod_rootfs_probe_refused(r))
                return log_pod_error(r, &e);
        k = fuse_find(fuse, &fe);
        if (k >= 0) {
                log_notice("Note: the kernel refuses overlayfs in this user namespace (%s): the "
                           "pod's root is an overlay served by %s (--rootfs=fuse-overlayfs picks "
                           "it without this note, --rootfs=overlay fails instead)",
                           strerror(-r), *fuse);
                return 0;
        }
        if (k == -ENOMEM)
                return log_error_errno(k, "Out of memory");
        log_notice("Note: the kernel refuses overlayfs in this user namespace (%s) and %s: the "
                   "pod runs on a private copy of its image, made now (--rootfs=copy picks it "
                   "without this note, --rootfs=overlay fails instead)",
                   strerror(-r), fe.msg);
        *no_overlay = true;
        return 0;
}

/* Builds the pod dir from the parsed command line; the pod is left in prepare/, locked. */
static int do_prepare(const char *verb, const struct run_args *a, unsigned insecure,
                      const struct pod_userns_request *private_users, enum pod_rootfs_mode rootfs,
                      struct stage1_choice *ch, struct pod_poddir **ret) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_(pod_auth_freep) struct pod_auth *auth = NULL, *docker_auth = NULL;
        struct trust_implicit_config tc = {};
        _cleanup_free_ struct pod_prepare_app *apps = NULL;
        _cleanup_free_ char *fuse = NULL;
        _cleanup_close_ int pods_fd = -EBADF, data_fd = -EBADF;
        struct pod_prepare_options o = {};
        struct pod_limits limits;
        struct pod_error e = {};
        int r;

        if (a->pull_policy) {
                o.fetch.pull_policy = pod_pull_policy_from_string(a->pull_policy);
                if (o.fetch.pull_policy < 0)
                        return pod_usage_error(verb,
                                               "Invalid pull policy '%s' (new, update or never)",
                                               a->pull_policy);
        } else
                o.fetch.pull_policy = POD_PULL_NEW;
        o.fetch.insecure = insecure;
        o.fetch.keystore = (struct pod_keystore){ .vendordir = arg_vendordir,
                                                  .sysconfdir = arg_sysconfdir,
                                                  .userdir = arg_userdir };
        o.fetch.progress = !a->quiet;
        /* Per-host credentials, and on a terminal the key review of implicit trust. */
        r = pod_auth_load(arg_vendordir, arg_sysconfdir, &auth, &e);
        if (r >= 0)
                r = pod_auth_load_user(auth, arg_userdir, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        tc.auth = o.fetch.auth = auth;
        /* docker's and podman's credential files, for docker:// images. */
        docker_auth = calloc(1, sizeof(*docker_auth));
        if (!docker_auth)
                return log_error_errno(-ENOMEM, "Out of memory");
        r = pod_auth_load_docker_files(docker_auth, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        o.fetch.docker_auth = docker_auth;
        o.fetch.platform = a->platform;
        r = pod_limits_load(arg_vendordir, arg_sysconfdir, &limits, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        o.fetch.limits = &limits;
        o.fetch.no_trusted_key = trust_implicit;
        o.fetch.userdata = &tc;

        apps = calloc(a->n_apps ?: 1, sizeof(*apps)); /* none with --pod-manifest */
        if (!apps)
                return log_error_errno(-ENOMEM, "Out of memory");
        for (size_t i = 0; i < a->n_apps; i++) {
                const struct run_app_args *x = &a->apps[i];

                apps[i] = (struct pod_prepare_app){
                        .image = x->image,
                        .signature = x->signature,
                        .name = x->name,
                        .exec = x->exec,
                        .args = x->args,
                        .have_args = x->have_args,
                        .user = x->user,
                        .group = x->group,
                        .supplementary_gids = x->supplementary_gids,
                        .working_dir = x->working_dir,
                        .environment = x->environment,
                        .memory = x->memory,
                        .cpu = x->cpu,
                        .caps_retain = x->caps_retain,
                        .caps_remove = x->caps_remove,
                        .seccomp = x->seccomp,
                        .mounts = x->mounts,
                        .readonly_rootfs = x->readonly_rootfs,
                        .oom_score_adj = x->oom_score_adj,
                        .cpu_shares = x->cpu_shares,
                        .annotations = x->annotations,
                        .user_annotations = x->user_annotations,
                        .user_labels = x->user_labels,
                };
        }
        o.apps = apps;
        o.n_apps = a->n_apps;
        o.volumes = a->volumes;
        o.mounts = a->mounts;
        o.ports = a->ports; /* into the pod manifest, read by stage1 */
        o.set_env = a->set_env;
        o.set_env_file = a->set_env_file;
        o.inherit_env = a->inherit_env ? environ : NULL;
        o.readonly_rootfs = a->readonly_rootfs;
        o.no_overlay = a->no_overlay; /* --rootfs=copy too (resolve_rootfs()) */
        o.uuid_file_save = a->uuid_file_save;
        o.annotations = a->annotations;
        o.user_annotations = a->user_annotations;
        o.user_labels = a->user_labels;
        o.pod_manifest = a->pod_manifest;
        /* A pod that runs now is garbage after a power loss: fsync only for `pod prepare`. */
        o.no_sync = streq(verb, "run");

        warn_insecure(insecure);
        r = pod_store_open(arg_dir, &s, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        if (ch->image) {
                r = resolve_stage1_image(verb, s, a, &o.fetch, ch);
                if (r < 0)
                        return r;
        }
        o.stage1 = ch->record;
        o.stage1_image = ch->image;
        r = pod_pods_open(arg_dir, true, &pods_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open the pods directory under '%s': %m",
                                       arg_dir);
        if (rootfs == POD_ROOTFS_AUTO && arg_rootless && !ch->fly && !o.no_overlay) {
                r = choose_rootless_rootfs(pods_fd, &o.no_overlay, &fuse);
                if (r < 0)
                        return r;
        }
        if (rootfs == POD_ROOTFS_FUSE) {
                r = fuse_find(&fuse, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
        }
        o.fuse_overlayfs = fuse;
        if (private_users->mode != POD_USERNS_NO) {
                data_fd = open(arg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (data_fd < 0)
                        return log_error_errno(-errno, "Failed to open '%s': %m", arg_dir);
                o.private_users = private_users;
                o.data_fd = data_fd;
        }
        r = pod_prepare(s, pods_fd, &o, ret, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        return 0;
}

struct dns_args {
        char **dns, **search, **opt;
        const char *domain;
        char **ports, **hosts; /* --port, --hosts-entry */
};

static int exec_stage1(struct pod_poddir *p, const struct stage1_choice *ch, const char *net,
                       const char *hostname, bool interactive, bool no_overlay, unsigned insecure,
                       int keep_unit, bool ipc_parent, const struct dns_args *dns) {
        struct pod_stage1_options so = {
                .path = ch->path,
                .debug = arg_debug,
                /* The fly stage1 has the host's network only (rkt fly). */
                .net = net
                               ?: ch->fly ? "host"
                                          : "default",
                .ports = dns->ports,
                .hosts_entries = dns->hosts,
                .hostname = hostname,
                .interactive = interactive,
                .no_overlay = no_overlay,
                .insecure = insecure,
                .keep_unit = keep_unit,
                .ipc_parent = ipc_parent,
                .sealed = ch->builtin,
        };
        _cleanup_close_ int dir_fd = -EBADF, key_fd = -EBADF;
        struct pod_error e = {};
        int r;

        r = pod_prepare_resolv_conf(p->fd, dns->dns, dns->search, dns->opt, dns->domain,
                                    &so.resolv_conf, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        /* The host's signing key for the pods' identity (pod-metadata(7)): one for every pod
         * of this --dir, so that a signature made in one verifies in any other. */
        dir_fd = open(arg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return log_error_errno(-errno, "Failed to open '%s': %m", arg_dir);
        key_fd = pod_mds_key_open(dir_fd, &e);
        if (key_fd < 0)
                return log_pod_error(key_fd, &e);
        so.mds_key_fd = key_fd;
        (void)fflush(stdout);
        r = pod_stage1_exec(p, &so, &e);
        return log_pod_error(r, &e);
}

static int parse_run_args(const char *verb, int argc, char *argv[], struct run_args *a) {
        struct pod_error e = {};
        int r;

        r = run_args_parse(argc, argv, a, &e);
        if (r < 0) {
                if (e.msg[0])
                        return pod_usage_error(verb, "%s", e.msg);
                return log_error_errno(r, "Failed to parse the command line: %m");
        }
        return 0;
}

/* rkt's --ipc: "auto" (rkt's default, which is "private" in rkt's stage1 too), "private"
 * (the pod's own IPC namespace) or "parent" (ours).  1 for parent. */
static int parse_ipc(const char *verb, const char *ipc) {
        if (!ipc || streq(ipc, "auto") || streq(ipc, "private"))
                return 0;
        if (streq(ipc, "parent"))
                return 1;
        return pod_usage_error(verb, "Invalid --ipc='%s': expected auto, private or parent", ipc);
}

/* --pod-manifest: the manifest is the pod; what would change it is refused (as rkt's
 * "conflicting flags set with --pod-manifest"). */
static int check_pod_manifest(const char *verb, const struct run_args *a) {
        const char *bad = a->volumes            ? "--volume"
                          : a->mounts           ? "--mount"
                          : a->set_env          ? "--set-env"
                          : a->set_env_file     ? "--set-env-file"
                          : a->inherit_env      ? "--inherit-env"
                          : a->readonly_rootfs  ? "--readonly-rootfs"
                          : a->ports            ? "--port"
                          : a->annotations      ? "--annotation"
                          : a->user_annotations ? "--user-annotation"
                          : a->user_labels      ? "--user-label"
                                                : NULL;

        if (a->pod_manifest && bad)
                return pod_usage_error(verb,
                                       "%s cannot be combined with --pod-manifest: the pod "
                                       "manifest says everything about the pod (edit it instead)",
                                       bad);
        return 0;
}

/* rkt's --mds-register: accepted either way (default false, as rkt's) and changes nothing.
 * rkt registered the pod with a host-wide `rkt metadata-service` daemon; pod's stage1 serves
 * every pod's metadata from inside the pod itself, always (pod-metadata(7)), so there is
 * nothing to register with. */
static int check_mds(const char *verb, bool mds_register) {
        (void)verb;
        (void)mds_register;
        return 0;
}

/* --private-users, or else the configured default (userns.conf, pod-config(1)).  The fly
 * stage1 runs its app in the host's namespaces: an explicit request was refused by
 * check_fly(), and the configured default (for pods) does not apply to it. */
static int resolve_private_users(const char *verb, const struct run_args *a, bool fly,
                                 struct pod_userns_request *ret) {
        enum pod_userns_ownership ownership;
        struct pod_error e = {};
        int r;

        r = pod_userns_conf_load(arg_vendordir, arg_sysconfdir, ret, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        ownership = ret->ownership;
        if (a->private_users_ownership) {
                r = pod_userns_ownership_parse(a->private_users_ownership, &ownership, &e);
                if (r < 0)
                        return pod_usage_error(verb, "--private-users-ownership: %s", e.msg);
        }
        if (a->private_users) {
                r = pod_userns_parse(a->private_users, ret, &e);
                if (r < 0)
                        return pod_usage_error(verb, "%s", e.msg);
        }
        ret->ownership = ownership;
        if (a->private_users)
                return 0;
        if (fly && ret->mode != POD_USERNS_NO) {
                log_debug("The fly stage1 runs its app in the host's namespaces: the configured "
                          "private-users default does not apply");
                *ret = (struct pod_userns_request){ .mode = POD_USERNS_NO };
        }
        return 0;
}

/* --rootfs, or --no-overlay (its copy), or else the configured default (rootfs.conf,
 * pod-config(1)); a copy sets a->no_overlay here, "auto" is decided by do_prepare().  The
 * fly stage1 keeps its own default (the configured one is for pods). */
static int resolve_rootfs(const char *verb, struct run_args *a, bool fly,
                          enum pod_rootfs_mode *ret) {
        struct pod_error e = {};
        enum pod_rootfs_mode conf;
        int m, r;

        if (a->rootfs) {
                m = pod_rootfs_mode_from_string(a->rootfs);
                if (m < 0)
                        return pod_usage_error(
                                verb,
                                "Invalid --rootfs='%s': expected auto, overlay, copy "
                                "or fuse-overlayfs",
                                a->rootfs);
                if (a->no_overlay && m != POD_ROOTFS_COPY)
                        return pod_usage_error(verb,
                                               "--no-overlay (a private copy) contradicts "
                                               "--rootfs=%s",
                                               a->rootfs);
        } else if (a->no_overlay)
                m = POD_ROOTFS_COPY;
        else {
                r = pod_rootfs_conf_load(arg_vendordir, arg_sysconfdir, &conf, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
                m = fly ? POD_ROOTFS_AUTO : (int)conf;
        }
        if (m == POD_ROOTFS_COPY)
                a->no_overlay = true;
        /* Root has the kernel's overlayfs; a FUSE daemon with host root's powers over the
         * store, serving a pod, is what it is not worth. */
        if (m == POD_ROOTFS_FUSE && !arg_rootless)
                return pod_usage_error(verb, "--rootfs=fuse-overlayfs is for rootless pods (pods "
                                             "started by root use the kernel's overlayfs)");
        if (m == POD_ROOTFS_FUSE && fly)
                return pod_usage_error(verb, "--rootfs=fuse-overlayfs does not apply to the fly "
                                             "stage1");
        *ret = m;
        return 0;
}

/* stage1 refuses a user namespace with --no-overlay (the private copy would be written with
 * host IDs) and in a rootless pod (no nested ranges): say so before anything is fetched, a pod
 * dir made or a range taken.  A configured default is refused too, naming it: dropping it
 * silently would run the pod with less isolation than the configuration asks for. */
static int check_private_users(const char *verb, const struct run_args *a,
                               const struct pod_userns_request *pu) {
        if (pu->mode == POD_USERNS_NO && a->private_users_ownership)
                return pod_usage_error(verb, "--private-users-ownership needs --private-users "
                                             "(or the private-users default of userns.conf)");
        if (pu->mode == POD_USERNS_NO)
                return 0;
        if (arg_rootless)
                return pod_usage_error(verb,
                                       "%s: a rootless pod already runs in your own user "
                                       "namespace (its root is your user, its other IDs your "
                                       "range in /etc/subuid), and a range nested in it is not "
                                       "supported. Run it without --private-users%s, or as root "
                                       "with --private-users for host IDs of its own",
                                       a->private_users ? "--private-users"
                                                        : "The configured private-users default "
                                                          "(userns.conf)",
                                       a->private_users ? ""
                                                        : " (give --private-users=no, or change "
                                                          "userns.conf)");
        if (!a->no_overlay)
                return 0;
        return pod_usage_error(verb,
                               "--no-overlay (--rootfs=copy, or rootfs.conf) cannot be "
                               "combined with %s: the pod's private copy of the image would "
                               "keep host IDs (use --private-users=no)",
                               a->private_users ? "--private-users"
                                                : "the configured private-users default "
                                                  "(userns.conf)");
}

static int run_common(const char *verb, int argc, char *argv[], bool fly) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        struct stage1_choice ch = { .fd = -EBADF };
        struct pod_userns_request pu = {};
        enum pod_rootfs_mode rootfs = POD_ROOTFS_AUTO;
        struct run_args a = {};
        struct pod_error e = {};
        unsigned insecure;
        int r, ipc_parent = 0;

        r = parse_run_args(verb, argc, argv, &a);
        if (r < 0)
                return r;
        insecure = arg_insecure | a.insecure;
        r = check_mds(verb, a.mds_register);
        if (r >= 0)
                r = check_pod_manifest(verb, &a);
        if (r >= 0)
                r = choose_stage1(verb, &a, fly, &ch);
        if (r >= 0 && ch.fly)
                r = check_fly(verb, &a);
        if (r >= 0)
                r = ipc_parent = parse_ipc(verb, a.ipc);
        if (r >= 0)
                r = check_net(verb, a.net ?: ch.fly ? "host" : NULL, a.ports, a.hosts_entry);
        if (r >= 0)
                r = check_dns(a.dns, a.dns_search, a.dns_opt, a.dns_domain);
        if (r >= 0)
                r = resolve_rootfs(verb, &a, ch.fly, &rootfs);
        if (r >= 0)
                r = resolve_private_users(verb, &a, ch.fly, &pu);
        if (r >= 0)
                r = check_private_users(verb, &a, &pu);
        if (r >= 0)
                r = do_prepare(verb, &a, insecure, &pu, rootfs, &ch, &p);
        if (r >= 0) {
                r = pod_poddir_to_run(p, &e);
                if (r < 0)
                        r = log_pod_error(r, &e);
        }
        if (r >= 0)
                /* What prepare chose (--rootfs=auto may have made a copy): its marker. */
                r = exec_stage1(p, &ch, a.net, a.hostname, a.interactive,
                                pod_prepare_is_no_overlay(p->fd), insecure, a.keep_unit,
                                ipc_parent > 0,
                                &(struct dns_args){ a.dns, a.dns_search, a.dns_opt, a.dns_domain,
                                                    NULL, a.hosts_entry });
        run_args_done(&a);
        stage1_choice_done(&ch);
        return r;
}

int verb_run(int argc, char *argv[]) {
        return run_common("run", argc, argv, false);
}

/* rkt fly: pod run --stage1-from-dir=pod-stage1-fly, its restrictions checked first. */
int verb_fly(int argc, char *argv[]) {
        return run_common("fly", argc, argv, true);
}

int verb_prepare(int argc, char *argv[]) {
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        struct stage1_choice ch = { .fd = -EBADF };
        struct pod_userns_request pu = {};
        enum pod_rootfs_mode rootfs = POD_ROOTFS_AUTO;
        struct run_args a = {};
        struct pod_error e = {};
        int r;

        r = parse_run_args("prepare", argc, argv, &a);
        if (r < 0)
                return r;
        if (a.net || a.hostname || a.interactive || a.dns || a.dns_search || a.dns_opt ||
            a.dns_domain || a.keep_unit >= 0 || a.hosts_entry || a.ipc)
                r = pod_usage_error("prepare",
                                    "--net, --hosts-entry, --hostname, --interactive, --dns*, "
                                    "--ipc and --keep-unit are given to 'pod run-prepared'%s",
                                    a.net && a.ports ? " (--port is recorded in the pod, and "
                                                       "needs a CNI network there)"
                                                     : "");
        if (r >= 0)
                r = check_pod_manifest("prepare", &a);
        if (r >= 0)
                r = choose_stage1("prepare", &a, false, &ch);
        if (r >= 0 && ch.fly)
                r = check_fly("prepare", &a);
        if (r >= 0 && !ch.fly)
                r = check_net("prepare", NULL, a.ports, NULL);
        if (r >= 0 && ((arg_insecure | a.insecure) & POD_INSECURE_ALL_RUN))
                log_warning(
                        "--insecure-options=capabilities,paths,seccomp,devices take effect when "
                        "given to 'pod run-prepared', not to 'pod prepare'");
        if (r >= 0)
                r = resolve_rootfs("prepare", &a, ch.fly, &rootfs);
        if (r >= 0)
                r = resolve_private_users("prepare", &a, ch.fly, &pu);
        if (r >= 0)
                r = check_private_users("prepare", &a, &pu);
        if (r >= 0)
                r = do_prepare("prepare", &a, (arg_insecure | a.insecure) & ~POD_INSECURE_ALL_RUN,
                               &pu, rootfs, &ch, &p);
        if (r >= 0) {
                r = pod_poddir_to_prepared(p, &e);
                if (r < 0)
                        r = log_pod_error(r, &e);
        }
        if (r >= 0) {
                printf("%s\n", p->uuid);
                (void)fflush(stdout);
        }
        run_args_done(&a);
        stage1_choice_done(&ch);
        return r < 0 ? r : 0;
}

static char *arg_net; /* accumulated --net (cni.h pod_cni_net_append()) */
static const char *arg_hostname;
static bool arg_interactive;
static int arg_keep_unit;
static char **arg_dns, **arg_dns_search, **arg_dns_opt, **arg_ports, **arg_hosts;
static const char *arg_dns_domain;
static unsigned arg_rp_insecure;
static bool arg_ipc_parent;

static int strv_append(char ***l, const char *s) {
        size_t n = 0;
        char **t;

        while (*l && (*l)[n])
                n++;
        t = realloc(*l, (n + 2) * sizeof(char *));
        if (!t)
                return -ENOMEM;
        t[n] = strdup(s);
        t[n + 1] = NULL;
        *l = t;
        return t[n] ? 0 : -ENOMEM;
}

static int parse_run_prepared(int argc, char *argv[]) {
        enum {
                ARG_NET = 0x100,
                ARG_HOSTNAME,
                ARG_INTERACTIVE,
                ARG_DNS,
                ARG_DNS_SEARCH,
                ARG_DNS_OPT,
                ARG_DNS_DOMAIN,
                ARG_KEEP_UNIT,
                ARG_NO_KEEP_UNIT,
                ARG_INSECURE,
                ARG_PORT,
                ARG_HOSTS_ENTRY,
                ARG_MDS_REGISTER,
                ARG_IPC,
        };
        static const struct option options[] = {
                { "net", optional_argument, NULL, ARG_NET },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "interactive", optional_argument, NULL, ARG_INTERACTIVE },
                { "dns", required_argument, NULL, ARG_DNS },
                { "dns-search", required_argument, NULL, ARG_DNS_SEARCH },
                { "dns-opt", required_argument, NULL, ARG_DNS_OPT },
                { "dns-domain", required_argument, NULL, ARG_DNS_DOMAIN },
                { "keep-unit", optional_argument, NULL, ARG_KEEP_UNIT },
                { "no-keep-unit", optional_argument, NULL, ARG_NO_KEEP_UNIT },
                { "insecure-options", required_argument, NULL, ARG_INSECURE },
                { "port", required_argument, NULL, ARG_PORT },
                { "hosts-entry", required_argument, NULL, ARG_HOSTS_ENTRY },
                { "mds-register", optional_argument, NULL, ARG_MDS_REGISTER },
                { "ipc", required_argument, NULL, ARG_IPC },
                {},
        };
        int c;

        free(arg_net);
        arg_net = NULL;
        arg_hostname = NULL;
        arg_interactive = false;
        arg_keep_unit = -1;
        strv_free(arg_dns);
        strv_free(arg_dns_search);
        strv_free(arg_dns_opt);
        strv_free(arg_ports);
        strv_free(arg_hosts);
        arg_dns = arg_dns_search = arg_dns_opt = arg_ports = arg_hosts = NULL;
        arg_dns_domain = NULL;
        arg_rp_insecure = 0;
        arg_ipc_parent = false;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                const char *bad = NULL;
                unsigned bits;

                switch (c) {
                case ARG_NET:
                        if (pod_cni_net_append(&arg_net, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory");
                        break;
                case ARG_HOSTNAME:
                        arg_hostname = optarg;
                        break;
                case ARG_INTERACTIVE:
                        if (pod_bool_arg("run-prepared", "interactive", optarg, &arg_interactive) <
                            0)
                                return -EINVAL;
                        break;
                case ARG_DNS:
                case ARG_DNS_SEARCH:
                case ARG_DNS_OPT:
                case ARG_PORT:
                case ARG_HOSTS_ENTRY:
                        if (strv_append(c == ARG_DNS          ? &arg_dns
                                        : c == ARG_DNS_SEARCH ? &arg_dns_search
                                        : c == ARG_DNS_OPT    ? &arg_dns_opt
                                        : c == ARG_PORT       ? &arg_ports
                                                              : &arg_hosts,
                                        optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory");
                        break;
                case ARG_DNS_DOMAIN:
                        arg_dns_domain = optarg;
                        break;
                case ARG_KEEP_UNIT:
                case ARG_NO_KEEP_UNIT: {
                        bool b;

                        if (pod_bool_arg("run-prepared",
                                         c == ARG_KEEP_UNIT ? "keep-unit" : "no-keep-unit", optarg,
                                         &b) < 0)
                                return -EINVAL;
                        arg_keep_unit = (c == ARG_KEEP_UNIT) == b;
                        break;
                }
                case ARG_INSECURE:
                        if (pod_insecure_parse(optarg, &bits, &bad) < 0)
                                return pod_usage_error("run-prepared",
                                                       "Unknown insecure option '%s'", bad);
                        arg_rp_insecure |= bits;
                        break;
                case ARG_IPC: {
                        int r = parse_ipc("run-prepared", optarg);

                        if (r < 0)
                                return r;
                        arg_ipc_parent = r > 0;
                        break;
                }
                case ARG_MDS_REGISTER: {
                        bool mds;

                        if (pod_bool_arg("run-prepared", "mds-register", optarg, &mds) < 0 ||
                            check_mds("run-prepared", mds) < 0)
                                return -EINVAL;
                        break;
                }
                default:
                        return pod_usage_error("run-prepared", "Invalid option");
                }
        }
        if (argc - optind != 1)
                return pod_usage_error("run-prepared", "Expected exactly one pod UUID");
        if (check_dns(arg_dns, arg_dns_search, arg_dns_opt, arg_dns_domain) < 0)
                return -EINVAL;
        return check_net("run-prepared", arg_net, arg_ports, arg_hosts);
}

/* The stage1 prepare recorded (rkt's run-prepared used the pod's stage1 too), checked
 * again: a binary may have changed since, an image is pinned by the pod. */
static int stage1_of_prepared(int pod_fd, struct stage1_choice *ch) {
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *value = NULL;
        struct pod_error e = {};
        bool image = false;
        int r, fd = -EBADF;

        r = pod_stage1_record_read(pod_fd, &image, &value, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        if (!value) {
                ch->path = strdup(stage1_path());
                if (!ch->path)
                        return log_error_errno(-ENOMEM, "Out of memory");
                r = pod_stage1_check(ch->path, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
                ch->builtin = true;
                return 0;
        }
        if (!image) {
                r = check_stage1_path(value);
                if (r < 0)
                        return r;
                ch->fly = is_fly(value);
                ch->path = TAKE_PTR(value);
                return 0;
        }
        r = pod_store_open(arg_dir, &s, &e);
        if (r >= 0)
                r = pod_stage1_open_image(s, value, &fd, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        ch->image = true;
        return set_image_entry(ch, fd);
}

int verb_run_prepared(int argc, char *argv[]) {
        _cleanup_(stage1_choice_done) struct stage1_choice ch = { .fd = -EBADF };
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        char uuid[POD_UUID_STRING_MAX];
        struct pod_error e = {};
        unsigned insecure;
        int r;

        r = parse_run_prepared(argc, argv);
        if (r < 0)
                return r;
        insecure = arg_insecure | arg_rp_insecure;
        warn_insecure(insecure & POD_INSECURE_ALL_RUN);
        r = pod_pods_open(arg_dir, false, &pods_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to open the pods directory under '%s': %m",
                                       arg_dir);
        r = pod_poddir_lookup(pods_fd, argv[optind], uuid, &e);
        if (r < 0) {
                if (e.msg[0])
                        return log_pod_error(r, &e);
                return log_error_errno(r, "No pod '%s': %m", argv[optind]);
        }
        r = pod_poddir_open(pods_fd, uuid, &p);
        if (r < 0)
                return log_error_errno(r, "Failed to open pod '%s': %m", uuid);
        if (p->phase != POD_PHASE_PREPARED) {
                log_error("Pod '%s' is not prepared (it is in %s/)", uuid,
                          pod_phase_to_string(p->phase));
                return -EINVAL;
        }
        r = stage1_of_prepared(p->fd, &ch);
        if (r < 0)
                return r;
        if (ch.fly && arg_net && !streq(arg_net, "host"))
                return pod_usage_error("run-prepared",
                                       "Pod '%s' was prepared for the fly stage1, which has the "
                                       "host's network only (--net=host)",
                                       uuid);
        r = pod_prepare_check_net(p->fd, arg_net ?: ch.fly ? "host" : NULL, &e);
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "Pod '%s'", uuid);
                return log_pod_error(r, &e);
        }
        p->sync = false; /* prepared/ -> run/: a running pod is garbage after a power loss */
        r = pod_poddir_run_prepared(p, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        return exec_stage1(p, &ch, arg_net, arg_hostname, arg_interactive,
                           pod_prepare_is_no_overlay(p->fd), insecure, arg_keep_unit,
                           arg_ipc_parent,
                           &(struct dns_args){ arg_dns, arg_dns_search, arg_dns_opt, arg_dns_domain,
                                               arg_ports, arg_hosts });
}
