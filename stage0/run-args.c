/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "insecure.h"
#include "macro.h"
#include "parse-util.h"
#include "run-args.h"

enum kind {
        K_STR,  /* char *, last one wins */
        K_LIST, /* char **, appended */
        K_BOOL, /* bool, no value */
        K_KEEP_UNIT,
        K_NO_KEEP_UNIT,
        K_INSECURE,
        K_NET,     /* --net: accumulated; bare --net is "default" (cni.h) */
        K_OPT_STR, /* char *, last one wins; bare --flag is "pick" (--private-users) */
};

struct opt {
        const char *name;
        enum kind kind;
        size_t offset;
};

#define POD(field, kind) \
        { #field, kind, offsetof(struct run_args, field) }
#define APP(field, kind) \
        { #field, kind, offsetof(struct run_app_args, field) }

/* Option spellings use '-' where fields use '_'; see opt_name_eq(). */
static const struct opt pod_opts[] = {
        POD(uuid_file_save, K_STR),
        POD(hostname, K_STR),
        { "volume", K_LIST, offsetof(struct run_args, volumes) },
        { "mount", K_LIST, offsetof(struct run_args, mounts) }, /* before the first image */
        POD(set_env, K_LIST),
        POD(set_env_file, K_LIST),
        POD(inherit_env, K_BOOL),
        POD(interactive, K_BOOL),
        POD(no_overlay, K_BOOL),
        POD(rootfs, K_STR),
        POD(net, K_NET),
        POD(dns, K_LIST),
        POD(dns_search, K_LIST),
        POD(dns_opt, K_LIST),
        POD(dns_domain, K_STR),
        POD(hosts_entry, K_LIST),
        { "port", K_LIST, offsetof(struct run_args, ports) },
        { "keep_unit", K_KEEP_UNIT, 0 },
        { "no_keep_unit", K_NO_KEEP_UNIT, 0 },
        POD(readonly_rootfs, K_BOOL),
        POD(pull_policy, K_STR),
        POD(platform, K_STR),
        { "insecure_options", K_INSECURE, 0 },
        POD(quiet, K_BOOL),
        POD(mds_register, K_BOOL),
        POD(ipc, K_STR),
        POD(pod_manifest, K_STR),
        POD(private_users, K_OPT_STR),
        POD(private_users_ownership, K_STR),
        POD(stage1_path, K_STR),
        POD(stage1_from_dir, K_STR),
        POD(stage1_name, K_STR),
        POD(stage1_hash, K_STR),
        POD(stage1_url, K_STR),
        { "annotation", K_LIST, offsetof(struct run_args, annotations) },
        { "user_annotation", K_LIST, offsetof(struct run_args, user_annotations) },
        { "user_label", K_LIST, offsetof(struct run_args, user_labels) },
        { "label", K_LIST, offsetof(struct run_args, user_labels) },
};

static const struct opt app_opts[] = {
        APP(exec, K_STR),
        APP(name, K_STR),
        APP(user, K_STR),
        APP(group, K_STR),
        APP(supplementary_gids, K_STR),
        { "working_dir", K_STR, offsetof(struct run_app_args, working_dir) },
        APP(environment, K_LIST),
        APP(memory, K_STR),
        APP(cpu, K_STR),
        APP(caps_retain, K_STR),
        APP(caps_remove, K_STR),
        APP(seccomp, K_STR),
        { "mount", K_LIST, offsetof(struct run_app_args, mounts) },
        APP(signature, K_STR),
        APP(readonly_rootfs, K_BOOL),
        APP(oom_score_adj, K_STR),
        APP(cpu_shares, K_STR),
        { "annotation", K_LIST, offsetof(struct run_app_args, annotations) },
        { "user_annotation", K_LIST, offsetof(struct run_app_args, user_annotations) },
        { "user_label", K_LIST, offsetof(struct run_app_args, user_labels) },
        { "label", K_LIST, offsetof(struct run_app_args, user_labels) },
};

const char run_args_usage[] =
        "[POD FLAGS] IMAGE [APP FLAGS] [-- ARGS...] [--- IMAGE [APP FLAGS] [-- ARGS...]]...\n\n"
        "Pod flags:\n"
        "  --uuid-file-save=PATH     Write the pod's UUID to PATH\n"
        "  --hostname=NAME           Pod hostname (default pod-<uuid>)\n"
        "  --volume=NAME,kind=host,source=/ABS[,readOnly=true][,recursive=true][,suid=true]\n"
        "          [,idmap=true]      (idmap: with --private-users, host IDs unshifted)\n"
        "  --volume=NAME,kind=empty[,mode=0755,uid=0,gid=0]\n"
        "  --mount=volume=NAME,target=/PATH   Mount a volume in every app (before any image)\n"
        "  --set-env=K=V             Environment for every app\n"
        "  --set-env-file=FILE       K=V lines for every app\n"
        "  --inherit-env             Pass pod's own environment to the apps\n"
        "  --interactive             Single app, stdin and tty passed through\n"
        "  --no-overlay              Copy the image tree instead of an overlayfs\n"
        "  --rootfs=auto|overlay|copy|fuse-overlayfs  The apps' trees (--no-overlay is copy;\n"
        "                            auto: overlay, or rootless where the kernel refuses it,\n"
        "                            fuse-overlayfs if installed, else a copy)\n"
        "  --net=host|none|default|NAME[:ARGS][,NAME[:ARGS]...]   (default: default)\n"
        "  --dns=host|none|IP        --dns-search=DOMAIN  --dns-opt=OPT  --dns-domain=DOMAIN\n"
        "  --hosts-entry=IP=NAME[,NAME]|host\n"
        "  --port=NAME:[HOSTIP:]HOSTPORT\n"
        "  --keep-unit, --no-keep-unit  Register in the calling service / own scope\n"
        "  --readonly-rootfs         Apps' root file systems are read-only (also per app)\n"
        "  --pull-policy=new|update|never   (default new)\n"
        "  --platform=OS/ARCH[/VARIANT]     docker:// images: the index entry to run\n"
        "  --insecure-options=LIST   As the global option\n"
        "  --quiet                   No progress output while fetching\n"
        "  --mds-register[=BOOL]     Register with the metadata service (default false)\n"
        "  --ipc=auto|private|parent The pod's own IPC namespace (auto, private) or the host's\n"
        "  --pod-manifest=FILE       Run this pod manifest (no IMAGE, no app flags)\n"
        "  --private-users[=pick|yes|no|UID[:COUNT]]  A user namespace: the pod's root is\n"
        "                            host UID BASE (pick: a free range of 65536 IDs)\n"
        "  --private-users-ownership=auto|map|chown  The image's IDs through idmapped mounts\n"
        "                            (map) or a chown-shifted copy kept in the store (chown)\n"
        "  --stage1-path=PATH        Run the pod with this stage1 binary (root's, not writable)\n"
        "  --stage1-from-dir=NAME    A stage1 in pod's stage1 directory (pod-stage1-fly)\n"
        "  --stage1-name=NAME[:VERSION]  --stage1-hash=sha512-...  --stage1-url=URL\n"
        "                            A stage1 image (verified as images are)\n"
        "  --annotation=K=V  --user-annotation=K=V  --user-label=K=V (--label=K=V)\n"
        "                            Before any image: the pod's; after an image: the app's\n"
        "App flags (after IMAGE):\n"
        "  --exec=PATH  --name=NAME  --user=USER  --group=GROUP\n"
        "  --supplementary-gids=GID[,GID...]  --working-dir=PATH  --environment=K=V\n"
        "  --memory=QTY  --cpu=QTY  --caps-retain=CAP,...  --caps-remove=CAP,...\n"
        "  --seccomp=mode=retain|remove[,errno=E],SYSCALL|@GROUP,...\n"
        "  --mount=volume=NAME,target=/PATH  --signature=FILE  --readonly-rootfs[=BOOL]\n"
        "  --oom-score-adj=-1000..1000  --cpu-shares=2..262144\n"
        "  --annotation=K=V  --user-annotation=K=V  --user-label=K=V  --label=K=V";

const char run_args_fly_usage[] =
        "[POD FLAGS] IMAGE [APP FLAGS] [-- ARGS...]\n\n"
        "Runs one app the way rkt fly did: in a mount namespace of its own, otherwise as a\n"
        "host process (the host's network, PID and IPC namespaces, every capability, no\n"
        "seccomp filter). For trusted system services (kubelet, etcd) only; the image is\n"
        "verified as for pod run (or --insecure-options=image).\n\n"
        "Flags: those of pod run (pod help run), except what isolates a pod, which is refused:\n"
        "  --net (host only), --port, --dns, --dns-search, --dns-opt, --dns-domain,\n"
        "  --hosts-entry, --hostname, --ipc=private, --keep-unit, --private-users,\n"
        "  --stage1-path (and the other --stage1-* flags), --memory, --cpu, --cpu-shares,\n"
        "  --seccomp, --caps-retain, --caps-remove; a second image.";

static bool opt_name_eq(const char *arg, size_t n, const char *field) {
        if (strlen(field) != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                char a = arg[i] == '-' ? '_' : arg[i];
                if (a != field[i])
                        return false;
        }
        return true;
}

static int strv_push(char ***l, const char *s) {
        size_t n = 0;
        char **t, *c;

        while (*l && (*l)[n])
                n++;
        c = strdup(s);
        if (!c)
                return -ENOMEM;
        t = realloc(*l, (n + 2) * sizeof(char *));
        if (!t) {
                free(c);
                return -ENOMEM;
        }
        t[n] = c;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

static const struct opt *find_opt(const struct opt *table, size_t n, const char *name, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (opt_name_eq(name, len, table[i].name))
                        return &table[i];
        return NULL;
}

/* Applies one "--name[=value]" (value possibly in the next argv slot). */
static int apply(const struct opt *o, void *base, struct run_args *a, const char *flag,
                 const char *value, struct pod_error *reterr) {
        char *dup;
        int r;

        switch (o->kind) {
        case K_BOOL:
                /* pflag style, as rkt: --flag, --flag=true, --flag=false */
                if (value && pod_parse_bool(value, (bool *)((char *)base + o->offset)) < 0)
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid value '%s' for --%s: expected true or false",
                                             value, flag);
                if (!value)
                        *(bool *)((char *)base + o->offset) = true;
                return 0;
        case K_KEEP_UNIT:
        case K_NO_KEEP_UNIT: {
                /* pflag style too: --keep-unit=false is --no-keep-unit and the reverse */
                bool b = true;

                if (value && pod_parse_bool(value, &b) < 0)
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid value '%s' for --%s: expected true or false",
                                             value, flag);
                a->keep_unit = (o->kind == K_KEEP_UNIT) == b;
                return 0;
        }
        case K_INSECURE: {
                const char *bad = NULL;
                unsigned bits;

                if (pod_insecure_parse(value, &bits, &bad) < 0)
                        return pod_error_set(reterr, -EINVAL, "Unknown insecure option '%s'", bad);
                a->insecure |= bits;
                return 0;
        }
        case K_OPT_STR:
        case K_STR:
                dup = strdup(value ?: "pick");
                if (!dup)
                        return -ENOMEM;
                free(*(char **)((char *)base + o->offset));
                *(char **)((char *)base + o->offset) = dup;
                return 0;
        case K_LIST:
                r = strv_push((char ***)((char *)base + o->offset), value);
                return r;
        case K_NET:
                return pod_cni_net_append((char **)((char *)base + o->offset), value);
        }
        return -EINVAL;
}

static int new_app(struct run_args *a, const char *image) {
        struct run_app_args *t;

        t = realloc(a->apps, (a->n_apps + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        a->apps = t;
        memset(&a->apps[a->n_apps], 0, sizeof(a->apps[0]));
        a->apps[a->n_apps].image = strdup(image);
        if (!a->apps[a->n_apps].image)
                return -ENOMEM;
        a->n_apps++;
        return 0;
}

static int parse(int argc, char *argv[], struct run_args *a, struct pod_error *reterr) {
        struct run_app_args *app = NULL;
        bool in_args = false;
        int r;

        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i];

                if (streq(arg, "---")) {
                        if (!app)
                                return pod_error_set(reterr, -EINVAL, "'---' before any image");
                        app = NULL;
                        in_args = false;
                        continue;
                }
                if (in_args) {
                        r = strv_push(&app->args, arg);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (streq(arg, "--")) {
                        if (!app)
                                return pod_error_set(reterr, -EINVAL,
                                                     "'--' before any image: app arguments "
                                                     "follow the image they are for");
                        in_args = true;
                        app->have_args = true;
                        continue;
                }
                if (strneq(arg, "--", 2)) {
                        const char *name = arg + 2, *eq = strchr(name, '=');
                        size_t len = eq ? (size_t)(eq - name) : strlen(name);
                        const struct opt *o;
                        const char *value = eq ? eq + 1 : NULL;
                        void *base;
                        char flag[64];

                        (void)snprintf(flag, sizeof(flag), "%.*s", (int)len, name);
                        o = app ? find_opt(app_opts, ELEMENTSOF(app_opts), name, len) : NULL;
                        base = app;
                        if (!o) {
                                o = find_opt(pod_opts, ELEMENTSOF(pod_opts), name, len);
                                base = a;
                                if (o && app)
                                        return pod_error_set(
                                                reterr, -EINVAL,
                                                "Pod option '--%s' must come before the first "
                                                "image",
                                                flag);
                        }
                        if (!o) {
                                if (!app && find_opt(app_opts, ELEMENTSOF(app_opts), name, len))
                                        return pod_error_set(
                                                reterr, -EINVAL,
                                                "App option '--%s' must follow the image it "
                                                "applies to",
                                                flag);
                                return pod_error_set(reterr, -EINVAL, "Unknown option '--%s'",
                                                     flag);
                        }
                        if (!value && o->kind != K_BOOL && o->kind != K_KEEP_UNIT &&
                            o->kind != K_NO_KEEP_UNIT && o->kind != K_NET && o->kind != K_OPT_STR) {
                                if (i + 1 >= argc)
                                        return pod_error_set(reterr, -EINVAL,
                                                             "Option '--%s' needs a value", flag);
                                value = argv[++i];
                        }
                        r = apply(o, base, a, flag, value, reterr);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (arg[0] == '-' && arg[1])
                        return pod_error_set(reterr, -EINVAL, "Unknown option '%s'", arg);

                r = new_app(a, arg);
                if (r < 0)
                        return r;
                app = &a->apps[a->n_apps - 1];
        }

        if (a->pod_manifest && a->n_apps > 0)
                return pod_error_set(reterr, -EINVAL,
                                     "--pod-manifest names the pod's images: no IMAGE arguments "
                                     "(and so no app flags) with it, got '%s'",
                                     a->apps[0].image);
        if (a->n_apps == 0 && !a->pod_manifest)
                return pod_error_set(reterr, -EINVAL, "No image given");
        if (a->interactive && a->n_apps > 1)
                return pod_error_set(reterr, -EINVAL,
                                     "--interactive works with a single app only, got %zu",
                                     a->n_apps);
        return 0;
}

int run_args_parse(int argc, char *argv[], struct run_args *ret, struct pod_error *reterr) {
        struct run_args a = { .keep_unit = -1 };
        int r;

        r = parse(argc, argv, &a, reterr);
        if (r < 0) {
                run_args_done(&a);
                return r;
        }
        *ret = a;
        return 0;
}

static void app_done(struct run_app_args *p) {
        free(p->image);
        free(p->exec);
        free(p->name);
        free(p->user);
        free(p->group);
        free(p->supplementary_gids);
        free(p->working_dir);
        strv_free(p->environment);
        free(p->memory);
        free(p->cpu);
        free(p->caps_retain);
        free(p->caps_remove);
        free(p->seccomp);
        strv_free(p->mounts);
        free(p->signature);
        free(p->oom_score_adj);
        free(p->cpu_shares);
        strv_free(p->annotations);
        strv_free(p->user_annotations);
        strv_free(p->user_labels);
        strv_free(p->args);
}

void run_args_done(struct run_args *a) {
        free(a->uuid_file_save);
        free(a->hostname);
        free(a->rootfs);
        strv_free(a->volumes);
        strv_free(a->mounts);
        strv_free(a->set_env);
        strv_free(a->set_env_file);
        free(a->net);
        strv_free(a->dns);
        strv_free(a->dns_search);
        strv_free(a->dns_opt);
        free(a->dns_domain);
        strv_free(a->hosts_entry);
        strv_free(a->ports);
        free(a->pull_policy);
        free(a->platform);
        free(a->ipc);
        free(a->pod_manifest);
        free(a->private_users);
        free(a->private_users_ownership);
        free(a->stage1_path);
        free(a->stage1_from_dir);
        free(a->stage1_name);
        free(a->stage1_hash);
        free(a->stage1_url);
        strv_free(a->annotations);
        strv_free(a->user_annotations);
        strv_free(a->user_labels);
        for (size_t i = 0; i < a->n_apps; i++)
                app_done(&a->apps[i]);
        free(a->apps);
        memset(a, 0, sizeof(*a));
}
