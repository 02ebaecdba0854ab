/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cni.h"
#include "fd-util.h"
#include "fetch.h"
#include "insecure.h"
#include "isolator.h"
#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "mds.h"
#include "oci.h"
#include "path-util.h"
#include "poddir.h"
#include "podsummary.h"
#include "podusers.h"
#include "prepare-oci.h"
#include "prepare-tree.h"
#include "prepare.h"
#include "sealed-exec.h"
#include "stage1sel.h"
#include "store-oci.h"
#include "store-shift.h"
#include "store.h"
#include "userns-alloc.h"
#include "uuid.h"
#include "xattr-util.h"

/* Marker in the pod dir, read only by stage0 (run-prepared): the app trees are copies. */
#define NO_OVERLAY_MARKER "stage0-no-overlay"
#define FUSE_MARKER       "stage0-fuse-overlayfs"

/* ---- small parsers ---------------------------------------------------------------------- */

static int parse_bool(const char *s, bool *ret) {
        if (streq(s, "true") || streq(s, "1") || streq(s, "yes"))
                *ret = true;
        else if (streq(s, "false") || streq(s, "0") || streq(s, "no"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

static int parse_u32(const char *s, uint32_t *ret) {
        char *end;
        unsigned long long v;

        if (!s[0] || s[0] == '-' || s[0] == '+')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end || v > UINT32_MAX - 1)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

static int split_kv(const char *s, char **ret_key, const char **ret_value) {
        const char *eq = strchr(s, '=');

        if (!eq)
                return -EINVAL;
        *ret_key = strndup(s, (size_t)(eq - s));
        if (!*ret_key)
                return -ENOMEM;
        *ret_value = eq + 1;
        return 0;
}

static void volume_clear(struct pod_volume *v) {
        free(v->name);
        free(v->source);
        memset(v, 0, sizeof(*v));
}

int pod_prepare_parse_volume(const char *spec, struct pod_volume *ret, struct pod_error *reterr) {
        _cleanup_free_ char *copy = strdup(spec);
        struct pod_volume v = { .recursive = true, .mode = 0755, .kind = _POD_VOLUME_KIND_INVALID };
        bool has_mode = false, has_owner = false, has_recursive = false, has_suid = false,
             has_idmap = false;
        char *save = NULL, *tok;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        tok = strtok_r(copy, ",", &save);
        if (!tok || strchr(tok, '=') || !ac_name_valid(tok))
                return pod_error_set(reterr, -EINVAL,
                                     "Volume '%s': must start with a volume name (lower-case "
                                     "letters, digits, '-')",
                                     spec);
        v.name = strdup(tok);
        if (!v.name)
                return -ENOMEM;
        while ((tok = strtok_r(NULL, ",", &save))) {
                char *eq = strchr(tok, '=');
                const char *val;

                if (!eq) {
                        r = -EINVAL;
                        break;
                }
                *eq = 0;
                val = eq + 1;
                if (streq(tok, "kind")) {
                        if (streq(val, "host"))
                                v.kind = POD_VOLUME_HOST;
                        else if (streq(val, "empty"))
                                v.kind = POD_VOLUME_EMPTY;
                        else {
                                r = -EINVAL;
                                break;
                        }
                } else if (streq(tok, "source")) {
                        free(v.source);
                        v.source = strdup(val);
                        if (!v.source) {
                                volume_clear(&v);
                                return -ENOMEM;
                        }
                } else if (streq(tok, "readOnly"))
                        r = parse_bool(val, &v.read_only);
                else if (streq(tok, "recursive")) {
                        r = parse_bool(val, &v.recursive);
                        has_recursive = true;
                } else if (streq(tok, "suid")) {
                        r = parse_bool(val, &v.suid);
                        has_suid = true;
                } else if (streq(tok, "idmap")) {
                        r = parse_bool(val, &v.idmap);
                        has_idmap = true;
                } else if (streq(tok, "mode")) {
                        char *end;
                        unsigned long m;

                        errno = 0;
                        m = strtoul(val, &end, 8);
                        if (errno != 0 || *end || !*val || m > 07777)
                                r = -EINVAL;
                        v.mode = (mode_t)m;
                        has_mode = true;
                } else if (streq(tok, "uid") || streq(tok, "gid")) {
                        uint32_t n;

                        r = parse_u32(val, &n);
                        if (tok[0] == 'u')
                                v.uid = n;
                        else
                                v.gid = n;
                        has_owner = true;
                } else
                        r = -EINVAL;
                if (r < 0) {
                        *eq = '=';
                        break;
                }
        }
        if (r < 0) {
                r = pod_error_set(reterr, -EINVAL, "Volume '%s': invalid parameter '%s'", spec,
                                  tok);
                volume_clear(&v);
                return r;
        }
        if (v.kind == POD_VOLUME_HOST) {
                struct stat st;

                if (has_mode || has_owner)
                        r = pod_error_set(reterr, -EINVAL,
                                          "Volume '%s': mode, uid and gid are for kind=empty",
                                          spec);
                else if (!v.source || !path_is_absolute(v.source))
                        r = pod_error_set(reterr, -EINVAL,
                                          "Volume '%s': kind=host needs an absolute source=", spec);
                else if (lstat(v.source, &st) < 0)
                        r = pod_error_set(reterr, -errno, "Volume '%s': source '%s': %m", v.name,
                                          v.source);
                else if (S_ISLNK(st.st_mode))
                        r = pod_error_set(reterr, -ELOOP,
                                          "Volume '%s': source '%s' is a symlink (give the path "
                                          "it points to)",
                                          v.name, v.source);
        } else if (v.kind == POD_VOLUME_EMPTY) {
                if (v.source || has_recursive || has_suid || has_idmap)
                        r = pod_error_set(reterr, -EINVAL,
                                          "Volume '%s': source, recursive, suid and idmap are "
                                          "for kind=host",
                                          spec);
        } else
                r = pod_error_set(reterr, -EINVAL, "Volume '%s': needs kind=host or kind=empty",
                                  spec);
        if (r < 0) {
                volume_clear(&v);
                return r;
        }
        *ret = v;
        return 0;
}

/* "volume=NAME,target=PATH" */
static int parse_mount(const char *spec, struct pod_mount *ret, struct pod_error *reterr) {
        _cleanup_free_ char *copy = strdup(spec), *volume = NULL, *target = NULL;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char **dst = string_has_prefix(tok, "volume=")   ? &volume
                             : string_has_prefix(tok, "target=") ? &target
                                                                 : NULL;
                if (!dst || *dst)
                        return pod_error_set(reterr, -EINVAL,
                                             "Mount '%s': expected volume=NAME,target=PATH", spec);
                *dst = strdup(strchr(tok, '=') + 1);
                if (!*dst)
                        return -ENOMEM;
        }
        if (!volume || !target || !ac_name_valid(volume))
                return pod_error_set(reterr, -EINVAL,
                                     "Mount '%s': expected volume=NAME,target=PATH", spec);
        if (!path_is_absolute(target) && !ac_name_valid(target))
                return pod_error_set(reterr, -EINVAL,
                                     "Mount '%s': target must be an absolute path (or a mount "
                                     "point name)",
                                     spec);
        *ret = (struct pod_mount){ .volume = TAKE_PTR(volume), .path = TAKE_PTR(target) };
        return 0;
}

static void mount_clear(struct pod_mount *m) {
        free(m->volume);
        free(m->path);
        m->volume = m->path = NULL;
}

/* ---- environment ------------------------------------------------------------------------ */

/* Sets name=value, replacing an earlier value in place (so the order of first definition is
 * kept and later sources win). */
static int env_set(struct pod_kv **list, size_t *n, const char *name, const char *value) {
        for (size_t i = 0; i < *n; i++)
                if (streq((*list)[i].name, name)) {
                        char *v = strdup(value);
                        if (!v)
                                return -ENOMEM;
                        free((*list)[i].value);
                        (*list)[i].value = v;
                        return 0;
                }
        return pod_kv_add(list, n, name, value);
}

static int env_set_assignment(struct pod_kv **list, size_t *n, const char *kv, const char *what,
                              struct pod_error *reterr) {
        _cleanup_free_ char *name = NULL;
        const char *value;
        int r;

        r = split_kv(kv, &name, &value);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !env_name_valid(name))
                return pod_error_set(reterr, -EINVAL,
                                     "%s: '%s' is not NAME=VALUE with a valid name", what, kv);
        return env_set(list, n, name, value);
}

/* Variables describing pod's own process, not the apps'. */
static bool env_inheritable(const char *name) {
        static const char *const skip[] = { "POD_LOCK_FD",    "POD_STAGE1",     "POD_LOG_LEVEL",
                                            "JOURNAL_STREAM", "NOTIFY_SOCKET",  "LISTEN_FDS",
                                            "LISTEN_PID",     "LISTEN_FDNAMES", "INVOCATION_ID",
                                            "POD_MDS_KEY_FD" };
        for (size_t i = 0; i < ELEMENTSOF(skip); i++)
                if (streq(name, skip[i]))
                        return false;
        return env_name_valid(name);
}

static int env_load_file(struct pod_kv **list, size_t *n, const char *path,
                         struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        size_t lineno = 0;
        int r;

        r = read_full_file_at(AT_FDCWD, path, 1u << 20, &text, NULL);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read environment file '%s': %m", path);
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char what[PATH_MAX + 32];
                size_t len = strlen(line);

                lineno++;
                if (len > 0 && line[len - 1] == '\r')
                        line[len - 1] = 0;
                while (*line == ' ' || *line == '\t')
                        line++;
                if (!*line || *line == '#' || *line == ';') /* rkt's comment characters */
                        continue;
                (void)snprintf(what, sizeof(what), "%s:%zu", path, lineno);
                r = env_set_assignment(list, n, line, what, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Precedence low -> high: inherited, image, --set-env-file, --set-env, --environment. */
static int build_environment(const struct pod_prepare_options *o, const struct pod_prepare_app *a,
                             struct pod_app *app, struct pod_error *reterr) {
        struct pod_kv *env = NULL;
        size_t n = 0;
        int r = 0;

        STRV_FOREACH (e, o->inherit_env) {
                _cleanup_free_ char *name = NULL;
                const char *value;

                if (split_kv(*e, &name, &value) < 0 || !env_inheritable(name))
                        continue;
                r = env_set(&env, &n, name, value);
                if (r < 0)
                        break;
        }
        for (size_t i = 0; r >= 0 && i < app->n_environment; i++)
                r = env_set(&env, &n, app->environment[i].name, app->environment[i].value);
        STRV_FOREACH (f, o->set_env_file) {
                if (r < 0)
                        break;
                r = env_load_file(&env, &n, *f, reterr);
        }
        STRV_FOREACH (e, o->set_env) {
                if (r < 0)
                        break;
                r = env_set_assignment(&env, &n, *e, "--set-env", reterr);
        }
        STRV_FOREACH (e, a->environment) {
                if (r < 0)
                        break;
                r = env_set_assignment(&env, &n, *e, "--environment", reterr);
        }
        if (r < 0) {
                (void)pod_kv_free(env, n);
                return r;
        }
        (void)pod_kv_free(app->environment, app->n_environment);
        app->environment = env;
        app->n_environment = n;
        return 0;
}

/* ---- isolators -------------------------------------------------------------------------- */

static bool isolator_in_family(enum pod_isolator_type t, enum pod_isolator_type a,
                               enum pod_isolator_type b) {
        return t == a || t == b;
}

/* Replaces the app's isolators of the family (a, b) with one built from (name, value). */
static int set_isolator(struct pod_app *app, const char *name, enum pod_isolator_type a,
                        enum pod_isolator_type b, struct json_object *value, const char *flag,
                        struct pod_error *reterr) {
        struct pod_isolator iso = {}, *t;
        size_t k = 0;
        int r;

        r = pod_isolator_from_json(name, value, &iso, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "%s", flag);
        for (size_t i = 0; i < app->n_isolators; i++) {
                if (isolator_in_family(app->isolators[i].type, a, b))
                        pod_isolator_done(&app->isolators[i]);
                else
                        app->isolators[k++] = app->isolators[i];
        }
        app->n_isolators = k;
        t = realloc(app->isolators, (k + 1) * sizeof(*t));
        if (!t) {
                pod_isolator_done(&iso);
                return -ENOMEM;
        }
        app->isolators = t;
        app->isolators[app->n_isolators++] = iso;
        return 0;
}

static int set_resource(struct pod_app *app, const char *name, enum pod_isolator_type t,
                        const char *qty, uint64_t scale, const char *flag,
                        struct pod_error *reterr) {
        _cleanup_json_ struct json_object *v = NULL;
        uint64_t x;

        if (pod_quantity_parse(qty, scale, &x) < 0 || x == 0)
                return pod_error_set(reterr, -EINVAL,
                                     "%s: '%s' is not a positive quantity (e.g. 64Mi, 1G, 500m)",
                                     flag, qty);
        v = json_object_new_object();
        if (!v || pod_json_add_string(v, "limit", qty) < 0)
                return -ENOMEM;
        return set_isolator(app, name, t, t, v, flag, reterr);
}

static int strv_from_csv(const char *s, struct json_object **ret) {
        _cleanup_json_ struct json_object *a = json_object_new_array();
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL;

        if (!a || !copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (json_object_array_add(a, json_object_new_string(t)) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(a);
        return 0;
}

static int set_caps(struct pod_app *app, const char *list, bool retain, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *v = json_object_new_object();
        struct json_object *set = NULL;
        int r;

        if (!v)
                return -ENOMEM;
        r = strv_from_csv(list, &set);
        if (r < 0)
                return r;
        if (pod_json_add(v, "set", set) < 0)
                return -ENOMEM;
        return set_isolator(app,
                            retain ? "os/linux/capabilities-retain-set"
                                   : "os/linux/capabilities-remove-set",
                            POD_ISOLATOR_CAPS_RETAIN, POD_ISOLATOR_CAPS_REMOVE, v,
                            retain ? "--caps-retain" : "--caps-remove", reterr);
}

/* mode=retain|remove[,errno=E],SYSCALL|@GROUP,... (rkt's --seccomp) */
static int set_seccomp(struct pod_app *app, const char *spec, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *v = json_object_new_object(),
                                          *set = json_object_new_array();
        _cleanup_free_ char *copy = strdup(spec);
        const char *mode = NULL, *err = NULL;
        char *save = NULL;
        bool retain;

        if (!v || !set || !copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (string_has_prefix(t, "mode="))
                        mode = t + 5;
                else if (string_has_prefix(t, "errno="))
                        err = t + 6;
                else if (json_object_array_add(set, json_object_new_string(t)) < 0)
                        return -ENOMEM;
        }
        if (!mode || (!streq(mode, "retain") && !streq(mode, "remove")))
                return pod_error_set(reterr, -EINVAL,
                                     "--seccomp '%s': needs mode=retain or mode=remove", spec);
        if (json_object_array_length(set) == 0)
                return pod_error_set(reterr, -EINVAL, "--seccomp '%s': no syscalls given", spec);
        retain = streq(mode, "retain");
        if (pod_json_add(v, "set", TAKE_PTR(set)) < 0)
                return -ENOMEM;
        if (err && pod_json_add_string(v, "errno", err) < 0)
                return -ENOMEM;
        return set_isolator(
                app, retain ? "os/linux/seccomp-retain-set" : "os/linux/seccomp-remove-set",
                POD_ISOLATOR_SECCOMP_RETAIN, POD_ISOLATOR_SECCOMP_REMOVE, v, "--seccomp", reterr);
}

/* ---- the pod manifest ------------------------------------------------------------------- */

static int replace_str(char **dst, const char *src) {
        char *c = strdup(src);

        if (!c)
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

static int strv_copy(char *const *l, size_t skip, char ***ret) {
        size_t n = 0;
        char **c;

        while (l && l[n])
                n++;
        c = calloc(n + 1, sizeof(char *));
        if (!c)
                return -ENOMEM;
        for (size_t i = skip, k = 0; i < n; i++, k++) {
                c[k] = strdup(l[i]);
                if (!c[k]) {
                        strv_free(c);
                        return -ENOMEM;
                }
        }
        *ret = c;
        return 0;
}

/* exec: --exec replaces exec[0], arguments after "--" replace exec[1..]. */
/* rkt's rule for appc images: --exec replaces the whole exec (the image's arguments go too);
 * -- ARGS are appended, to --exec's command or else to the image's exec. */
static int apply_exec(struct pod_app *app, const struct pod_prepare_app *a) {
        _cleanup_strv_free_ char **head = NULL, **argv = NULL;
        size_t n = 0, m = 0;
        int r;

        if (!a->exec && !a->have_args)
                return 0;
        if (a->exec) {
                head = calloc(2, sizeof(char *));
                if (!head)
                        return -ENOMEM;
                head[0] = strdup(a->exec);
                if (!head[0])
                        return -ENOMEM;
        } else if (!app->exec)
                return 0; /* reported as "no exec" by the caller */
        else {
                r = strv_copy(app->exec, 0, &head);
                if (r < 0)
                        return r;
        }
        while (head[n])
                n++;
        while (a->have_args && a->args && a->args[m])
                m++;
        argv = calloc(n + m + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                argv[i] = TAKE_PTR(head[i]);
        for (size_t i = 0; i < m; i++) {
                argv[n + i] = strdup(a->args[i]);
                if (!argv[n + i])
                        return -ENOMEM;
        }
        strv_free(app->exec);
        app->exec = TAKE_PTR(argv);
        return 0;
}

/* "K=V" arguments into a name/value list: K must be an AC Identifier (the pod manifest's
 * rule for annotation names, applied to user annotations and labels as well, so that they
 * stay valid names everywhere they are shown); a later K replaces an earlier one, as rkt's
 * flag maps did. */
static int add_kv_args(struct pod_kv **list, size_t *n, char **args, const char *flag,
                       struct pod_error *reterr) {
        STRV_FOREACH (kv, args) {
                _cleanup_free_ char *key = NULL;
                const char *eq = strchr(*kv, '=');
                size_t k = 0;

                if (!eq)
                        return pod_error_set(reterr, -EINVAL, "%s='%s': expected NAME=VALUE", flag,
                                             *kv);
                key = strndup(*kv, (size_t)(eq - *kv));
                if (!key)
                        return -ENOMEM;
                if (!ac_identifier_valid(key))
                        return pod_error_set(reterr, -EINVAL,
                                             "%s='%s': '%s' is not a valid name (an AC "
                                             "Identifier: lower-case letters, digits and "
                                             "'-._~/' between them)",
                                             flag, *kv, key);
                for (size_t i = 0; i < *n; i++) {
                        if (streq((*list)[i].name, key)) {
                                free((*list)[i].name);
                                free((*list)[i].value);
                                continue;
                        }
                        (*list)[k++] = (*list)[i];
                }
                *n = k;
                if (pod_kv_add(list, n, key, eq + 1) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* --oom-score-adj, --cpu-shares: an integer isolator; the range is the isolator's own. */
static int set_int_isolator(struct pod_app *app, const char *name, enum pod_isolator_type t,
                            const char *value, const char *flag, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *v = NULL;
        char *end = NULL;
        long long x;

        errno = 0;
        x = strtoll(value, &end, 10);
        if (errno != 0 || !end || end == value || *end)
                return pod_error_set(reterr, -EINVAL, "%s='%s': not an integer", flag, value);
        v = json_object_new_int64(x);
        if (!v)
                return -ENOMEM;
        return set_isolator(app, name, t, t, v, flag, reterr);
}

static int apply_overrides(const struct pod_prepare_options *o, const struct pod_prepare_app *a,
                           const struct pod_image_manifest *im, bool oci, const char *app_name,
                           struct pod_app *app, struct pod_error *reterr) {
        int r;

        r = oci ? pod_prepare_oci_exec(app, a->exec, a->args, a->have_args, im, reterr)
                : apply_exec(app, a);
        if (r < 0)
                return r;
        if (!app->exec || !app->exec[0])
                return pod_error_set(reterr, -EINVAL,
                                     "App '%s': the image '%s' has no exec; give --exec=PATH",
                                     app_name, a->image);
        if (!path_is_absolute(app->exec[0]))
                return pod_error_set(reterr, -EINVAL, "App '%s': exec '%s' is not an absolute path",
                                     app_name, app->exec[0]);
        if (a->user && (r = replace_str(&app->user, a->user)) < 0)
                return r;
        if (a->group && (r = replace_str(&app->group, a->group)) < 0)
                return r;
        if (a->working_dir) {
                if (!path_is_absolute(a->working_dir))
                        return pod_error_set(reterr, -EINVAL,
                                             "App '%s': --working-dir '%s' is not absolute",
                                             app_name, a->working_dir);
                r = replace_str(&app->working_directory, a->working_dir);
                if (r < 0)
                        return r;
        }
        if (a->supplementary_gids) {
                _cleanup_free_ char *copy = strdup(a->supplementary_gids);
                _cleanup_free_ uint32_t *gids = NULL;
                char *save = NULL;
                size_t n = 0;

                if (!copy)
                        return -ENOMEM;
                gids = calloc(strlen(copy) / 2 + 1, sizeof(uint32_t));
                if (!gids)
                        return -ENOMEM;
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                        if (parse_u32(t, &gids[n++]) < 0)
                                return pod_error_set(reterr, -EINVAL,
                                                     "App '%s': --supplementary-gids: '%s' is not "
                                                     "a group number",
                                                     app_name, t);
                free(app->supplementary_gids);
                app->supplementary_gids = TAKE_PTR(gids);
                app->n_supplementary_gids = n;
        }
        if (a->memory) {
                r = set_resource(app, "resource/memory", POD_ISOLATOR_MEMORY, a->memory, 1,
                                 "--memory", reterr);
                if (r < 0)
                        return r;
        }
        if (a->cpu) {
                r = set_resource(app, "resource/cpu", POD_ISOLATOR_CPU, a->cpu, 1000, "--cpu",
                                 reterr);
                if (r < 0)
                        return r;
        }
        if (a->caps_retain && a->caps_remove)
                return pod_error_set(reterr, -EINVAL,
                                     "App '%s': --caps-retain and --caps-remove exclude each other",
                                     app_name);
        if (a->caps_retain || a->caps_remove) {
                r = set_caps(app, a->caps_retain ?: a->caps_remove, !!a->caps_retain, reterr);
                if (r < 0)
                        return r;
        }
        if (a->seccomp) {
                r = set_seccomp(app, a->seccomp, reterr);
                if (r < 0)
                        return r;
        }
        if (a->oom_score_adj) {
                r = set_int_isolator(app, "os/linux/oom-score-adj", POD_ISOLATOR_OOM_SCORE_ADJ,
                                     a->oom_score_adj, "--oom-score-adj", reterr);
                if (r < 0)
                        return r;
        }
        if (a->cpu_shares) {
                r = set_int_isolator(app, "os/linux/cpu-shares", POD_ISOLATOR_CPU_SHARES,
                                     a->cpu_shares, "--cpu-shares", reterr);
                if (r < 0)
                        return r;
        }
        /* rkt run's app flags: the app object's userAnnotations and userLabels. */
        r = add_kv_args(&app->user_annotations, &app->n_user_annotations, a->user_annotations,
                        "--user-annotation", reterr);
        if (r >= 0)
                r = add_kv_args(&app->user_labels, &app->n_user_labels, a->user_labels,
                                "--user-label", reterr);
        if (r < 0)
                return r;
        r = build_environment(o, a, app, reterr);
        if (r < 0)
                return r;
        return pod_isolators_validate(app->isolators, app->n_isolators, POD_ISOLATOR_SCOPE_APP,
                                      reterr) < 0
                       ? pod_error_prefix(reterr, -EINVAL, "App '%s'", app_name)
                       : 0;
}

static const struct pod_volume *find_volume(const struct pod_pod_manifest *m, const char *name) {
        for (size_t i = 0; i < m->n_volumes; i++)
                if (streq(m->volumes[i].name, name))
                        return &m->volumes[i];
        return NULL;
}

static int add_mount(struct pod_runtime_app *ra, const char *spec, struct pod_error *reterr) {
        struct pod_mount m = {}, *t;
        int r;

        r = parse_mount(spec, &m, reterr);
        if (r < 0)
                return r;
        /* A later --mount on the same target (an app's own after the pod-level ones) wins. */
        for (size_t i = 0; i < ra->n_mounts; i++)
                if (streq(ra->mounts[i].path, m.path)) {
                        mount_clear(&ra->mounts[i]);
                        ra->mounts[i] = m;
                        return 0;
                }
        t = realloc(ra->mounts, (ra->n_mounts + 1) * sizeof(*t));
        if (!t) {
                mount_clear(&m);
                return -ENOMEM;
        }
        ra->mounts = t;
        ra->mounts[ra->n_mounts++] = m;
        return 0;
}

static int add_volume(struct pod_pod_manifest *m, struct pod_volume *v) {
        struct pod_volume *t = realloc(m->volumes, (m->n_volumes + 1) * sizeof(*t));

        if (!t)
                return -ENOMEM;
        m->volumes = t;
        m->volumes[m->n_volumes++] = *v;
        memset(v, 0, sizeof(*v));
        return 0;
}

/* Every image mountPoint needs a mount: a volume of the same name satisfies it; without one
 * rkt made an empty volume, and so do we (said at debug level). */
static int satisfy_mount_points(struct pod_pod_manifest *m, struct pod_runtime_app *ra) {
        for (size_t k = 0; k < ra->app->n_mount_points; k++) {
                const struct pod_mount_point *mp = &ra->app->mount_points[k];
                struct pod_mount *t;
                bool found = false;

                for (size_t i = 0; i < ra->n_mounts && !found; i++)
                        found = streq(ra->mounts[i].path, mp->path) ||
                                streq(ra->mounts[i].path, mp->name);
                if (found)
                        continue;
                if (!find_volume(m, mp->name)) {
                        struct pod_volume v = { .kind = POD_VOLUME_EMPTY, .mode = 0755 };
                        int r;

                        v.name = strdup(mp->name);
                        if (!v.name)
                                return -ENOMEM;
                        log_debug("App '%s': mount point '%s' (%s) has no volume, using an empty "
                                  "one",
                                  ra->name, mp->name, mp->path);
                        r = add_volume(m, &v);
                        if (r < 0) {
                                free(v.name);
                                return r;
                        }
                }
                t = realloc(ra->mounts, (ra->n_mounts + 1) * sizeof(*t));
                if (!t)
                        return -ENOMEM;
                ra->mounts = t;
                ra->mounts[ra->n_mounts] =
                        (struct pod_mount){ .volume = strdup(mp->name), .path = strdup(mp->path) };
                if (!ra->mounts[ra->n_mounts].volume || !ra->mounts[ra->n_mounts].path) {
                        mount_clear(&ra->mounts[ra->n_mounts]);
                        return -ENOMEM;
                }
                ra->n_mounts++;
        }
        return 0;
}

static int fill_image(struct pod_runtime_image *img, const char *id,
                      const struct pod_image_manifest *im) {
        img->id = strdup(id);
        img->name = strdup(im->name);
        if (!img->id || !img->name)
                return -ENOMEM;
        for (size_t i = 0; i < im->n_labels; i++)
                if (pod_kv_add(&img->labels, &img->n_labels, im->labels[i].name,
                               im->labels[i].value) < 0)
                        return -ENOMEM;
        return 0;
}

static int load_image_manifest(struct pod_store *s, const char *id, struct pod_image_manifest **ret,
                               struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = pod_store_read_manifest(s, id, &text, &size, reterr);
        if (r < 0)
                return r;
        return pod_image_manifest_parse(text, size, ret, reterr);
}

/* --port=NAME:[HOSTIP:]HOSTPORT becomes a pod manifest "ports" entry (as rkt's prepare
 * recorded it); NAME must be a port of one of the pod's apps.  Clashing host ports are
 * refused by the manifest's validation. */
static int add_ports(struct pod_pod_manifest *m, char **ports, struct pod_error *reterr) {
        size_t n = 0;
        int r;

        STRV_FOREACH (s, ports)
                n++;
        if (n == 0)
                return 0;
        m->ports = calloc(n, sizeof(*m->ports));
        if (!m->ports)
                return -ENOMEM;
        STRV_FOREACH (s, ports) {
                struct pod_exposed_port *pt = &m->ports[m->n_ports];
                bool found = false;

                r = pod_cni_parse_port(*s, &pt->name, &pt->host_ip, &pt->host_port, reterr);
                if (r < 0)
                        return r;
                m->n_ports++;
                for (size_t i = 0; i < m->n_apps && !found; i++)
                        for (size_t k = 0; m->apps[i].app && k < m->apps[i].app->n_ports; k++)
                                if (streq(m->apps[i].app->ports[k].name, pt->name)) {
                                        found = true;
                                        break;
                                }
                if (!found)
                        return pod_error_set(reterr, -ENOENT,
                                             "--port='%s': no app of the pod has a port named "
                                             "'%s' (the image manifest's app.ports)",
                                             *s, pt->name);
        }
        return 0;
}

/* ---- --pod-manifest --------------------------------------------------------------------- */

/* The reference pod fetch takes for a pod manifest app's image: its id (a stored image; any
 * unique prefix), else name[,label=value...]. */
static int image_ref(struct json_object *img, size_t i, char **ret, struct pod_error *reterr) {
        struct json_object *id = pod_json_get(img, "id"), *name = pod_json_get(img, "name"),
                           *labels = pod_json_get(img, "labels");
        _cleanup_free_ char *ref = NULL;

        if (id && json_object_is_type(id, json_type_string) && json_object_get_string_len(id) > 0) {
                ref = strdup(json_object_get_string(id));
                if (!ref)
                        return -ENOMEM;
                *ret = TAKE_PTR(ref);
                return 0;
        }
        if (!name || !json_object_is_type(name, json_type_string) ||
            !ac_identifier_valid(json_object_get_string(name)))
                return pod_error_set(reterr, -EINVAL,
                                     "apps[%zu].image: needs an \"id\" or a valid \"name\"", i);
        ref = strdup(json_object_get_string(name));
        if (!ref)
                return -ENOMEM;
        for (size_t k = 0; labels && json_object_is_type(labels, json_type_array) &&
                           k < json_object_array_length(labels);
             k++) {
                struct json_object *l = json_object_array_get_idx(labels, k);
                const char *ln = json_object_get_string(pod_json_get(l, "name")),
                           *lv = json_object_get_string(pod_json_get(l, "value"));
                char *t;

                if (!ln || !lv || !ac_identifier_valid(ln) || strpbrk(lv, ",="))
                        return pod_error_set(reterr, -EINVAL,
                                             "apps[%zu].image.labels[%zu]: needs a valid "
                                             "\"name\" and a \"value\" without ',' or '='",
                                             i, k);
                if (asprintf(&t, "%s,%s=%s", ref, ln, lv) < 0)
                        return -ENOMEM;
                free(ref);
                ref = t;
        }
        *ret = TAKE_PTR(ref);
        return 0;
}

/* rkt's --pod-manifest: the file is the pod (rkt's validatePodManifest()), with each app's
 * image resolved first and its full ID written into the manifest. */
static int given_manifest(struct pod_store *s, const struct pod_prepare_options *o,
                          struct pod_pod_manifest **ret, char ***ret_image_ids,
                          struct pod_error *reterr) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        _cleanup_json_ struct json_object *root = NULL;
        _cleanup_free_ char *text = NULL, *resolved = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        struct json_object *apps;
        size_t size = 0, n;
        int r;

        r = read_full_file_at(AT_FDCWD, o->pod_manifest, POD_MANIFEST_MAX, &text, &size);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read pod manifest '%s': %m",
                                     o->pod_manifest);
        r = pod_json_parse(text, size, POD_MANIFEST_MAX, &root, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Pod manifest '%s'", o->pod_manifest);
        apps = json_object_is_type(root, json_type_object) ? pod_json_get(root, "apps") : NULL;
        if (!apps || !json_object_is_type(apps, json_type_array) ||
            json_object_array_length(apps) == 0)
                return pod_error_set(reterr, -EINVAL, "Pod manifest '%s': \"apps\" lists no app",
                                     o->pod_manifest);
        n = json_object_array_length(apps);
        ids = calloc(n + 1, sizeof(char *));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct json_object *img = pod_json_get(json_object_array_get_idx(apps, i), "image");
                _cleanup_free_ char *ref = NULL;

                if (!img || !json_object_is_type(img, json_type_object))
                        return pod_error_set(reterr, -EINVAL,
                                             "Pod manifest '%s': apps[%zu].image is required",
                                             o->pod_manifest, i);
                r = image_ref(img, i, &ref, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Pod manifest '%s'", o->pod_manifest);
                r = pod_fetch_image(s, ref, &o->fetch, &ids[i], reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Pod manifest '%s': image '%s'",
                                                o->pod_manifest, ref);
                r = pod_json_add_string(img, "id", ids[i]);
                if (r < 0)
                        return r;
        }
        r = pod_json_to_string(root, false, &resolved);
        if (r < 0)
                return r;
        r = pod_pod_manifest_parse(resolved, strlen(resolved), &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Pod manifest '%s'", o->pod_manifest);
        for (size_t i = 0; i < m->n_apps; i++) {
                _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *im = NULL;

                r = load_image_manifest(s, ids[i], &im, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "App '%s'", m->apps[i].name);
                if (!m->apps[i].app && (!im->app || !im->app->exec))
                        return pod_error_set(reterr, -EINVAL,
                                             "App '%s': neither the pod manifest nor the image "
                                             "'%s' has an app to run",
                                             m->apps[i].name, im->name);
                if (!m->apps[i].image.name) {
                        m->apps[i].image.name = strdup(im->name);
                        if (!m->apps[i].image.name)
                                return -ENOMEM;
                }
        }
        r = pod_pod_manifest_validate(m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Pod manifest '%s'", o->pod_manifest);
        *ret = TAKE_PTR(m);
        if (ret_image_ids)
                *ret_image_ids = TAKE_PTR(ids);
        return 0;
}

int pod_prepare_manifest(struct pod_store *s, const struct pod_prepare_options *o,
                         struct pod_pod_manifest **ret, char ***ret_image_ids,
                         struct pod_error *reterr) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        int r;

        if (o->pod_manifest)
                return given_manifest(s, o, ret, ret_image_ids, reterr);
        if (o->n_apps == 0)
                return pod_error_set(reterr, -EINVAL, "No image given");
        m = calloc(1, sizeof(*m));
        ids = calloc(o->n_apps + 1, sizeof(char *));
        if (!m || !ids)
                return -ENOMEM;
        m->ac_version = strdup(POD_AC_VERSION);
        m->apps = calloc(o->n_apps, sizeof(*m->apps));
        if (!m->ac_version || !m->apps)
                return -ENOMEM;

        STRV_FOREACH (spec, o->volumes) {
                struct pod_volume v = {};

                r = pod_prepare_parse_volume(*spec, &v, reterr);
                if (r < 0)
                        return r;
                if (find_volume(m, v.name)) {
                        r = pod_error_set(reterr, -EEXIST, "Volume '%s' is given twice", v.name);
                        volume_clear(&v);
                        return r;
                }
                r = add_volume(m, &v);
                if (r < 0) {
                        volume_clear(&v);
                        return r;
                }
        }

        for (size_t i = 0; i < o->n_apps; i++) {
                const struct pod_prepare_app *a = &o->apps[i];
                _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *im = NULL;
                struct pod_runtime_app *ra = &m->apps[i];
                struct pod_fetch_options fo = o->fetch;
                int oci;

                fo.signature = a->signature;
                r = pod_fetch_image(s, a->image, &fo, &ids[i], reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Image '%s'", a->image);
                r = load_image_manifest(s, ids[i], &im, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Image '%s'", a->image);

                m->n_apps++;
                ra->name = a->name ? strdup(a->name) : ac_name_from_image_name(im->name);
                if (!ra->name)
                        return a->name ? -ENOMEM
                                       : pod_error_set(reterr, -EINVAL,
                                                       "Cannot make an app name from image name "
                                                       "'%s'; give --name",
                                                       im->name);
                if (!ac_name_valid(ra->name))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid app name '%s' (lower-case letters, digits "
                                             "and '-')",
                                             ra->name);
                for (size_t j = 0; j < i; j++)
                        if (streq(m->apps[j].name, ra->name))
                                return pod_error_set(reterr, -EEXIST,
                                                     "Two apps are named '%s'; give one a --name",
                                                     ra->name);
                r = fill_image(&ra->image, ids[i], im);
                if (r < 0)
                        return r;

                /* The pod's app replaces the image's whole app: start from a copy. */
                if (im->app)
                        r = pod_app_copy(im->app, &ra->app);
                else {
                        ra->app = calloc(1, sizeof(*ra->app));
                        r = ra->app && (ra->app->user = strdup("0")) &&
                                            (ra->app->group = strdup("0"))
                                    ? 0
                                    : -ENOMEM;
                }
                if (r < 0)
                        return r;
                oci = pod_store_oci_is_oci(s, ids[i], reterr);
                if (oci < 0)
                        return pod_error_prefix(reterr, oci, "Image '%s'", a->image);
                r = apply_overrides(o, a, im, oci > 0, ra->name, ra->app, reterr);
                if (r >= 0 && oci > 0 && pod_prepare_oci_primary_group(a->user, a->group, im))
                        r = pod_kv_add(&ra->annotations, &ra->n_annotations, POD_ANN_PRIMARY_GROUP,
                                       "true");
                if (r < 0)
                        return r;
                ra->read_only_root_fs = o->readonly_rootfs || a->readonly_rootfs;
                r = add_kv_args(&ra->annotations, &ra->n_annotations, a->annotations,
                                "--annotation", reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "App '%s'", ra->name);

                STRV_FOREACH (spec, o->mounts) {
                        r = add_mount(ra, *spec, reterr);
                        if (r < 0)
                                return r;
                }
                STRV_FOREACH (spec, a->mounts) {
                        r = add_mount(ra, *spec, reterr);
                        if (r < 0)
                                return r;
                }
                for (size_t k = 0; k < ra->n_mounts; k++)
                        if (!find_volume(m, ra->mounts[k].volume))
                                return pod_error_set(reterr, -ENOENT,
                                                     "App '%s': --mount of volume '%s', which no "
                                                     "--volume defines",
                                                     ra->name, ra->mounts[k].volume);
                r = satisfy_mount_points(m, ra);
                if (r < 0)
                        return r;
        }

        r = add_ports(m, o->ports, reterr);
        if (r < 0)
                return r;
        /* Before the first image (rkt app sandbox's pod flags): the pod's own. */
        r = add_kv_args(&m->annotations, &m->n_annotations, o->annotations, "--annotation", reterr);
        if (r >= 0)
                r = add_kv_args(&m->user_annotations, &m->n_user_annotations, o->user_annotations,
                                "--user-annotation", reterr);
        if (r >= 0)
                r = add_kv_args(&m->user_labels, &m->n_user_labels, o->user_labels, "--user-label",
                                reterr);
        if (r < 0)
                return r;
        r = pod_pod_manifest_validate(m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Pod manifest");
        *ret = TAKE_PTR(m);
        if (ret_image_ids)
                *ret_image_ids = TAKE_PTR(ids);
        return 0;
}

int pod_prepare_fuse_overlayfs(int pod_fd, char **ret) {
        _cleanup_free_ char *text = NULL;
        char *nl;
        int r;

        r = read_full_file_at(pod_fd, FUSE_MARKER, PATH_MAX + 1, &text, NULL);
        if (r < 0)
                return r;
        nl = strchr(text, '\n');
        if (text[0] != '/' || !nl || nl[1])
                return -EBADMSG;
        *nl = 0;
        *ret = TAKE_PTR(text);
        return 0;
}

bool pod_prepare_is_no_overlay(int pod_fd) {
        return faccessat(pod_fd, NO_OVERLAY_MARKER, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

/* The apps' image manifests and trees, into the pod dir. */
static int write_apps(struct pod_store *s, struct pod_poddir *p, const struct pod_pod_manifest *m,
                      char **ids, bool no_overlay, struct pod_prepare_shift *shift,
                      const char *stage1_image, struct pod_error *reterr) {
        int r;

        for (size_t i = 0; i < m->n_apps; i++) {
                const char *app = m->apps[i].name;
                _cleanup_free_ char *text = NULL, *dir = NULL;
                size_t size = 0;

                r = pod_store_pin(s, ids[i], reterr);
                if (r < 0)
                        return r;
                /* The exact bytes of the stored manifest: what was signed. */
                r = pod_store_read_manifest(s, ids[i], &text, &size, reterr);
                if (r < 0)
                        return r;
                dir = path_join("appsinfo", app);
                if (!dir)
                        return -ENOMEM;
                r = mkdir_p_at(p->fd, dir, 0755);
                if (r >= 0) {
                        _cleanup_free_ char *f = path_join(dir, "manifest");
                        r = f ? write_file_at(p->fd, f, text, size, 0644, p->sync) : -ENOMEM;
                }
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Failed to write the image manifest of "
                                             "app '%s': %m",
                                             app);
                r = pod_prepare_app_tree(s, p->fd, app, ids[i], no_overlay, shift, p->sync, reterr);
                if (r < 0)
                        return r;
                r = pod_store_touch(s, ids[i], reterr);
                if (r < 0)
                        return r;
        }
        /* A stage1 image runs the pod: kept as long as the pod, like the apps' images. */
        if (stage1_image) {
                r = pod_store_pin(s, stage1_image, reterr);
                if (r < 0)
                        return r;
        }
        /* Every image the trees came from, while they are still pinned: from here on the
         * in-use rule (podusers.h) keeps them for the pod's life. */
        {
                _cleanup_strv_free_ char **pinned = NULL;

                r = pod_store_pinned(s, &pinned);
                if (r >= 0)
                        r = pod_users_record(p->fd, pinned, p->sync);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write '%s' in the pod dir: %m",
                                             POD_USERS_RECORD);
        }
        return 0;
}

/* A pod dir we just created and still hold locked in prepare/, and the UUID file naming it:
 * gone, as if the prepare had never started (nothing of it holds anything yet). */
static void discard_new_pod(struct pod_poddir *p, const char *uuid_file_save) {
        char path[PATH_MAX], saved[POD_UUID_STRING_MAX];

        (void)snprintf(path, sizeof(path), "prepare/%s", p->uuid);
        (void)rm_rf_at(p->pods_fd, path);
        if (uuid_file_save && pod_uuid_file_load(uuid_file_save, saved) >= 0 &&
            streq(saved, p->uuid))
                (void)unlink(uuid_file_save);
}

/* --private-users-ownership=auto: map if the store's file system can be idmapped (asked
 * through a namespace of any range: nothing is written), else chown, said once. */
static int resolve_ownership(struct pod_store *s, enum pod_userns_ownership *o,
                             struct pod_error *reterr) {
        const struct pod_idmap probe = { .base = POD_USERNS_PICK_MIN, .count = POD_USERNS_RANGE };
        _cleanup_free_ char *why = NULL;
        int r;

        if (*o != POD_USERNS_OWNERSHIP_AUTO)
                return 0;
        r = pod_store_idmap_supported(s, &probe, &why, reterr);
        if (r < 0)
                return r;
        *o = r > 0 ? POD_USERNS_OWNERSHIP_MAP : POD_USERNS_OWNERSHIP_CHOWN;
        if (r == 0)
                log_info("%s. Using chown-shifted copies of the image kept in the store instead "
                         "(made once per ID range; --private-users-ownership=chown says so, =map "
                         "refuses)",
                         why ? why : "No idmapped mounts");
        return 0;
}

int pod_prepare(struct pod_store *s, int pods_fd, const struct pod_prepare_options *o,
                struct pod_poddir **ret, struct pod_error *reterr) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        _cleanup_(pod_poddir_freep) struct pod_poddir *p = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_free_ char *json = NULL;
        struct pod_prepare_shift shift = {}, *pshift = NULL;
        int r;

        r = pod_prepare_manifest(s, o, &m, &ids, reterr);
        if (r < 0)
                return r;
        /* stage1 refuses it too; say so before a pod dir exists. */
        if (pod_pod_manifest_idmap_volume(m) &&
            !(o->private_users && o->private_users->mode != POD_USERNS_NO))
                return pod_error_set(reterr, -EINVAL, POD_VOLUME_IDMAP_NEEDS_USERNS,
                                     pod_pod_manifest_idmap_volume(m)->name);
        r = pod_pod_manifest_to_json(m, &json);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to serialise the pod manifest: %m");

        r = pod_poddir_create(pods_fd, o->uuid_file_save, !o->no_sync, &p, reterr);
        if (r < 0)
                return r;
        /* The range comes first: a pod that cannot have one leaves nothing behind.  Once it
         * exists, a later failure leaves an aborted prepare whose range gc releases. */
        if (o->private_users && o->private_users->mode != POD_USERNS_NO) {
                struct pod_userns_request req = *o->private_users;
                _cleanup_free_ uint32_t *prefer = NULL;

                r = resolve_ownership(s, &req.ownership, reterr);
                /* Pick a range whose shifted copies exist, so that they are reused. */
                if (r >= 0 && req.ownership == POD_USERNS_OWNERSHIP_CHOWN &&
                    req.mode == POD_USERNS_PICK)
                        (void)pod_store_shift_ranges(s, POD_USERNS_RANGE, &prefer, &req.n_prefer);
                req.prefer = prefer;
                if (r >= 0)
                        r = pod_userns_allocate_pod(o->data_fd, p->fd, p->uuid, &req, NULL, p->sync,
                                                    &shift.map, reterr);
                if (r < 0) {
                        discard_new_pod(p, o->uuid_file_save);
                        return r;
                }
                shift.ownership = req.ownership;
                pshift = &shift;
        }
        /* From here on a failure leaves prepare/U behind, unlocked when p is freed: an
         * aborted prepare, which gc removes. */
        r = write_file_at(p->fd, "pod", json, strlen(json), 0644, p->sync);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write the pod manifest: %m");
        /* After the manifest: a summary present is one of a manifest complete on disk
         * (podsummary.h).  One that cannot be written only makes `pod list` read the
         * manifest instead. */
        r = pod_summary_write(p->fd, json, strlen(json), p->sync);
        if (r == -ENOMEM)
                return pod_error_set(reterr, r, "Out of memory");
        if (o->fuse_overlayfs) {
                _cleanup_free_ char *text = NULL;

                if (asprintf(&text, "%s\n", o->fuse_overlayfs) < 0)
                        return -ENOMEM;
                r = write_file_at(p->fd, FUSE_MARKER, text, strlen(text), 0644, p->sync);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write '%s': %m", FUSE_MARKER);
        }
        if (o->no_overlay) {
                r = write_file_at(p->fd, NO_OVERLAY_MARKER, "", 0, 0644, p->sync);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write '%s': %m",
                                             NO_OVERLAY_MARKER);
        }
        /* Every image read from here on is pinned (store.h) until the pod's trees are
         * rendered: image rm and gc keep it meanwhile, and one removed before is an error. */
        pod_store_pin_renders(s);
        r = write_apps(s, p, m, ids, o->no_overlay, pshift, o->stage1_image ? o->stage1 : NULL,
                       reterr);
        pod_store_unpin_all(s);
        if (r < 0)
                return r;
        if (pshift) {
                r = pod_userns_ownership_record_write(p->fd, pshift->ownership, p->sync);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write '%s' in the pod dir: %m",
                                             POD_USERNS_OWNERSHIP_RECORD);
        }
        if (o->stage1) {
                r = pod_stage1_record_write(p->fd, o->stage1_image, o->stage1, p->sync);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to write '%s' in the pod dir: %m",
                                             POD_STAGE1_RECORD);
        }
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- DNS ------------------------------------------------------------------------------- */

static bool resolv_word_valid(const char *s) {
        if (!s[0] || strlen(s) > 253)
                return false;
        for (const char *c = s; *c; c++)
                if (*c <= ' ' || *c == '#' || *c == ';' || *c >= 127)
                        return false;
        return true;
}

/* Each --dns value split on commas (rkt: --dns=8.8.8.8,1.1.1.1); empty items are errors. */
static int dns_split(char **dns, char ***ret, struct pod_error *reterr) {
        _cleanup_strv_free_ char **all = NULL;
        size_t n = 0;

        STRV_FOREACH (d, dns) {
                const char *p = *d;

                for (;;) {
                        size_t len = strcspn(p, ",");
                        char **t;

                        if (len == 0)
                                return pod_error_set(reterr, -EINVAL,
                                                     "--dns='%s' has an empty item", *d);
                        t = realloc(all, (n + 2) * sizeof(char *));
                        if (!t)
                                return -ENOMEM;
                        all = t;
                        all[n] = strndup(p, len);
                        all[n + 1] = NULL;
                        if (!all[n])
                                return -ENOMEM;
                        n++;
                        if (!p[len])
                                break;
                        p += len + 1;
                }
        }
        *ret = TAKE_PTR(all);
        return 0;
}

static int dns_build(char **dns_args, char **search, char **opt, const char *domain,
                     char **ret_text, const char **ret_mode, struct pod_error *reterr) {
        _cleanup_strv_free_ char **dns = NULL;
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        bool special = false, addresses = false;
        FILE *f;
        int r;

        r = dns_split(dns_args, &dns, reterr);
        if (r < 0)
                return r;

        STRV_FOREACH (d, dns) {
                if (streq(*d, "host") || streq(*d, "none"))
                        special = true;
                else
                        addresses = true;
        }
        if (special && (addresses || dns[1]))
                return pod_error_set(reterr, -EINVAL,
                                     "--dns=host and --dns=none cannot be combined with other "
                                     "--dns values");
        if (special && (search || opt || domain))
                return pod_error_set(reterr, -EINVAL,
                                     "--dns-search, --dns-opt and --dns-domain cannot be combined "
                                     "with --dns=%s",
                                     dns[0]);
        /* rkt's precedence: --dns=host|none as said; addresses or any of --dns-search,
         * --dns-opt, --dns-domain generate the file; nothing: "auto" (stage1: the DNS a CNI
         * network returned, else the host's with --net=host, else the image's own). */
        if (!addresses && !search && !opt && !domain) {
                *ret_mode = !special ? "auto" : streq(dns[0], "none") ? "none" : "host";
                if (ret_text)
                        *ret_text = NULL;
                return 0;
        }

        f = open_memstream(&text, &n);
        if (!f)
                return -ENOMEM;
        fputs("# Generated by pod from --dns, --dns-search, --dns-opt, --dns-domain\n", f);
        STRV_FOREACH (d, dns) {
                unsigned char buf[sizeof(struct in6_addr)];

                if (inet_pton(AF_INET, *d, buf) != 1 && inet_pton(AF_INET6, *d, buf) != 1) {
                        (void)fclose(f);
                        return pod_error_set(reterr, -EINVAL,
                                             "--dns='%s' is not host, none or an IP address", *d);
                }
                fprintf(f, "nameserver %s\n", *d);
        }
        if (search) {
                fputs("search", f);
                STRV_FOREACH (w, search) {
                        if (!resolv_word_valid(*w)) {
                                (void)fclose(f);
                                return pod_error_set(reterr, -EINVAL, "Invalid --dns-search='%s'",
                                                     *w);
                        }
                        fprintf(f, " %s", *w);
                }
                fputs("\n", f);
        }
        if (opt) {
                fputs("options", f);
                STRV_FOREACH (w, opt) {
                        if (!resolv_word_valid(*w)) {
                                (void)fclose(f);
                                return pod_error_set(reterr, -EINVAL, "Invalid --dns-opt='%s'", *w);
                        }
                        fprintf(f, " %s", *w);
                }
                fputs("\n", f);
        }
        if (domain) {
                if (!resolv_word_valid(domain)) {
                        (void)fclose(f);
                        return pod_error_set(reterr, -EINVAL, "Invalid --dns-domain='%s'", domain);
                }
                fprintf(f, "domain %s\n", domain);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret_mode = "pod";
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return 0;
}

int pod_prepare_check_dns(char **dns, char **search, char **opt, const char *domain,
                          struct pod_error *reterr) {
        const char *mode;

        return dns_build(dns, search, opt, domain, NULL, &mode, reterr);
}

int pod_prepare_resolv_conf(int pod_fd, char **dns, char **search, char **opt, const char *domain,
                            const char **ret_mode, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL;
        const char *mode;
        int r;

        r = dns_build(dns, search, opt, domain, &text, &mode, reterr);
        if (r < 0)
                return r;
        if (text) {
                r = write_file_atomic_at(pod_fd, "resolv.conf", text, strlen(text), 0644);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Failed to write 'resolv.conf' in the pod dir: %m");
        }
        *ret_mode = mode;
        return 0;
}

/* ---- stage1 ----------------------------------------------------------------------------- */

int pod_prepare_check_net(int pod_fd, const char *net, struct pod_error *reterr) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = pod_cni_parse_net(net ?: "default", NULL, NULL, reterr);
        if (r != 0)
                return r < 0 ? r : 0;
        r = pod_poddir_read_manifest(pod_fd, &text, &size);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read the pod manifest: %s",
                                     strerror(-r));
        r = pod_pod_manifest_parse(text, size, &m, reterr);
        if (r < 0)
                return r;
        if (m->n_ports > 0)
                return pod_error_set(reterr, -EINVAL,
                                     "The pod forwards ports (its manifest's \"ports\", from "
                                     "--port, first '%s:%u'): they need a CNI network "
                                     "(--net=default or a named network), not --net=%s",
                                     m->ports[0].name, m->ports[0].host_port, net);
        return 0;
}

int pod_stage1_check(const char *path, struct pod_error *reterr) {
        struct stat st;

        if (stat(path, &st) < 0)
                return pod_error_set(reterr, -errno, "Cannot execute stage1 '%s': %m", path);
        if (!S_ISREG(st.st_mode))
                return pod_error_set(reterr, -EISDIR, "Cannot execute stage1 '%s': not a file",
                                     path);
        if (access(path, X_OK) < 0)
                return pod_error_set(reterr, -errno, "Cannot execute stage1 '%s': %m", path);
        return 0;
}

int pod_stage1_exec(struct pod_poddir *p, const struct pod_stage1_options *o,
                    struct pod_error *reterr) {
        _cleanup_free_ char *net = NULL, *hostname = NULL, *resolv = NULL, *users = NULL;
        _cleanup_free_ char *fuse = NULL, *fuse_path = NULL;
        enum pod_userns_ownership ownership = POD_USERNS_OWNERSHIP_MAP;
        struct pod_idmap idmap;
        _cleanup_strv_free_ char **extra = NULL;
        _cleanup_free_ const char **argv = NULL;
        size_t n = 0, n_extra = 0, k = 0;
        char abi[16];
        int r;

        if (asprintf(&net, "--net=%s", o->net) < 0)
                return -ENOMEM;
        /* Only for pods that have a range: an older stage1 without the option still runs
         * every other pod.  A record that cannot be read must not mean "no namespace". */
        r = pod_userns_record_read(p->fd, &idmap);
        if (r >= 0 &&
            asprintf(&users, "--private-users=%" PRIu32 ":%" PRIu32, idmap.base, idmap.count) < 0)
                return -ENOMEM;
        if (r < 0 && r != -ENOENT)
                return pod_error_set(reterr, r, "Failed to read the pod's '%s': %s",
                                     POD_USERNS_RECORD, strerror(-r));
        r = pod_prepare_fuse_overlayfs(p->fd, &fuse_path);
        if (r >= 0 && asprintf(&fuse, "--fuse-overlayfs=%s", fuse_path) < 0)
                return -ENOMEM;
        if (r < 0 && r != -ENOENT)
                return pod_error_set(reterr, r, "Failed to read the pod's '%s': %s", FUSE_MARKER,
                                     strerror(-r));
        if (users) {
                r = pod_userns_ownership_record_read(p->fd, &ownership);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to read the pod's '%s': %s",
                                             POD_USERNS_OWNERSHIP_RECORD, strerror(-r));
        }
        STRV_FOREACH (s, o->ports)
                n_extra++;
        STRV_FOREACH (s, o->hosts_entries)
                n_extra++;
        extra = calloc(n_extra + 1, sizeof(char *));
        argv = calloc(21 + n_extra, sizeof(char *));
        if (!extra || !argv)
                return -ENOMEM;
        STRV_FOREACH (s, o->ports)
                if (asprintf(&extra[k++], "--port=%s", *s) < 0)
                        return -ENOMEM;
        STRV_FOREACH (s, o->hosts_entries)
                if (asprintf(&extra[k++], "--hosts-entry=%s", *s) < 0)
                        return -ENOMEM;
        argv[n++] = "pod-stage1";
        if (o->debug)
                argv[n++] = "--debug";
        argv[n++] = net;
        if (o->hostname) {
                if (asprintf(&hostname, "--hostname=%s", o->hostname) < 0)
                        return -ENOMEM;
                argv[n++] = hostname;
        }
        if (o->interactive)
                argv[n++] = "--interactive";
        if (o->no_overlay)
                argv[n++] = "--no-overlay";
        if (o->insecure & POD_INSECURE_CAPABILITIES)
                argv[n++] = "--disable-capabilities-restriction";
        if (o->insecure & POD_INSECURE_PATHS)
                argv[n++] = "--disable-paths";
        if (o->insecure & POD_INSECURE_SECCOMP)
                argv[n++] = "--disable-seccomp";
        if (o->insecure & POD_INSECURE_DEVICES)
                argv[n++] = "--disable-device-policy";
        /* Only when asked: the default (a private IPC namespace) needs no argument, so an
         * older stage1 still runs every pod that does not ask for the host's. */
        if (o->ipc_parent)
                argv[n++] = "--ipc=parent";
        if (users)
                argv[n++] = users;
        if (users && ownership == POD_USERNS_OWNERSHIP_CHOWN)
                argv[n++] = "--private-users-ownership=chown";
        if (fuse)
                argv[n++] = fuse;
        if (o->keep_unit == 1)
                argv[n++] = "--keep-unit";
        else if (o->keep_unit == 0)
                argv[n++] = "--no-keep-unit";
        /* host is stage1's default. */
        if (o->resolv_conf && !streq(o->resolv_conf, "auto")) {
                if (asprintf(&resolv, "--resolv-conf=%s", o->resolv_conf) < 0)
                        return -ENOMEM;
                argv[n++] = resolv;
        }
        for (k = 0; k < n_extra; k++)
                argv[n++] = extra[k];
        argv[n++] = p->uuid;
        argv[n] = NULL;

        if (fchdir(p->fd) < 0)
                return pod_error_set(reterr, -errno, "Failed to enter the pod directory: %m");
        r = pod_poddir_prepare_exec_lock(p);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to pass the pod lock on: %m");
        if (o->mds_key_fd > 2) {
                char num[16];

                (void)snprintf(num, sizeof(num), "%d", o->mds_key_fd);
                r = fd_cloexec(o->mds_key_fd, false);
                if (r < 0 || setenv(POD_MDS_KEY_FD_ENV, num, 1) < 0)
                        return pod_error_set(reterr, r < 0 ? r : -errno,
                                             "Failed to pass the signing key on: %m");
        } else
                (void)unsetenv(POD_MDS_KEY_FD_ENV);
        (void)snprintf(abi, sizeof(abi), "%d", POD_STAGE1_ABI);
        if (setenv(POD_STAGE1_ABI_ENV, abi, 1) < 0)
                return pod_error_set(reterr, -errno, "Failed to set $%s: %m", POD_STAGE1_ABI_ENV);
        if (o->sealed) {
                /* What pod-stage1 would do first itself (ABI.md "Sealed binaries"); when it
                 * cannot be done here, pod-stage1 still does it. */
                r = pod_exec_sealed(o->path, "pod-stage1", (char *const *)argv);
                log_debug_errno(r, "Failed to execute '%s' from a sealed copy, executing it: %m",
                                o->path);
        }
        execv(o->path, (char *const *)argv);
        r = -errno;
        (void)fd_cloexec(p->fd, true);
        return pod_error_set(reterr, r, "Failed to execute stage1 '%s': %m", o->path);
}
