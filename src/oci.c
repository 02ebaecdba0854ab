/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <json-c/json.h>

#include "escape.h"
#include "json-util.h"
#include "manifest.h"
#include "oci.h"
#include "path-util.h"

#define DOCKER_LAYER_TAR       "application/vnd.docker.image.rootfs.diff.tar"
#define DOCKER_FOREIGN_LAYER   "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define OCI_NONDISTRIBUTABLE   "application/vnd.oci.image.layer.nondistributable."
#define ATTESTATION_ANNOTATION "vnd.docker.reference.type"
#define SCHEMA1_TEXT                                                                           \
        "Docker schema 1 manifests are not supported: the image was pushed by a Docker older " \
        "than 1.10 (2016); push it again with a current client, or convert it with skopeo"

/* ---- digests and small helpers ---- */

bool pod_oci_digest_valid(const char *digest) {
        if (!digest || !string_has_prefix(digest, "sha256:") || strlen(digest) != 7 + 64)
                return false;
        for (const char *p = digest + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* A digest member: -EPROTONOSUPPORT for another algorithm, -EBADMSG for a malformed one. */
static int check_digest(const char *d, const struct pod_json_path *p, struct pod_error *reterr) {
        const char *colon;

        if (pod_oci_digest_valid(d))
                return 0;
        colon = strchr(d, ':');
        if (colon && colon > d && !string_has_prefix(d, "sha256:")) {
                bool word = true;

                for (const char *s = d; s < colon; s++)
                        word = word && (isalnum((unsigned char)*s) || strchr("+._-", *s));
                if (word)
                        return pod_json_error(reterr, -EPROTONOSUPPORT, p,
                                              "digest algorithm '%.*s' is not supported (only "
                                              "sha256)",
                                              (int)(colon - d), POD_ESC(d));
        }
        return pod_json_error(reterr, -EBADMSG, p, "'%s' is not a valid sha256 digest", POD_ESC(d));
}

/* Errors of the json-util getters are -EINVAL; malformed documents are -EBADMSG here. */
static int bad(int r) {
        return r == -EINVAL ? -EBADMSG : r;
}

static int parse_doc(const char *body, size_t size, const char *what, struct json_object **ret,
                     struct pod_error *reterr) {
        _cleanup_json_ struct json_object *o = NULL;
        int r;

        if (size > POD_OCI_JSON_MAX)
                return pod_error_set(reterr, -EFBIG, "%s is %zu bytes, more than the limit of %u",
                                     what, size, POD_OCI_JSON_MAX);
        r = pod_json_parse(body, size, POD_OCI_JSON_MAX, &o, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, bad(r), "%s", what);
        if (!json_object_is_type(o, json_type_object))
                return pod_error_set(reterr, -EBADMSG, "%s: not a JSON object", what);
        *ret = TAKE_PTR(o);
        return 0;
}

static char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

static size_t strv_len(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

static int strv_push(char ***l, const char *s) {
        size_t n = strv_len(*l);
        char **t = reallocarray(*l, n + 2, sizeof(char *));

        if (!t)
                return -ENOMEM;
        *l = t;
        t[n] = strdup(s);
        t[n + 1] = NULL;
        return t[n] ? 0 : -ENOMEM;
}

static const char *content_type_base(const char *ct, char *buf, size_t size) {
        size_t n;

        if (!ct)
                return NULL;
        while (*ct == ' ')
                ct++;
        n = strcspn(ct, "; ");
        if (n >= size)
                return NULL;
        memcpy(buf, ct, n);
        buf[n] = 0;
        for (char *p = buf; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return buf;
}

static int kind_of_media_type(const char *mt, enum pod_oci_kind *ret) {
        if (!mt)
                return -ENOENT;
        if (streq(mt, POD_OCI_MEDIA_DOCKER_MANIFEST) || streq(mt, POD_OCI_MEDIA_MANIFEST))
                *ret = POD_OCI_KIND_MANIFEST;
        else if (streq(mt, POD_OCI_MEDIA_DOCKER_LIST) || streq(mt, POD_OCI_MEDIA_INDEX))
                *ret = POD_OCI_KIND_INDEX;
        else if (streq(mt, POD_OCI_MEDIA_DOCKER_SCHEMA1) ||
                 streq(mt, POD_OCI_MEDIA_DOCKER_SCHEMA1S))
                *ret = POD_OCI_KIND_SCHEMA1;
        else
                return -ENOENT;
        return 0;
}

static int get_media_type(struct json_object *o, const struct pod_json_path *p, char **ret,
                          struct pod_error *reterr) {
        return bad(pod_json_get_string(o, "mediaType", p, false, ret, reterr));
}

/* What the body says it is: mediaType, else schemaVersion 1, else its shape. */
static int classify_body(struct json_object *o, enum pod_oci_kind *ret, struct pod_error *reterr) {
        _cleanup_free_ char *mt = NULL;
        int64_t version = 0;
        int r;

        r = get_media_type(o, NULL, &mt, reterr);
        if (r < 0)
                return r;
        if (mt && kind_of_media_type(mt, ret) >= 0)
                return 0;
        if (mt && (streq(mt, POD_OCI_MEDIA_DOCKER_CONFIG) || streq(mt, POD_OCI_MEDIA_CONFIG)))
                return pod_error_set(reterr, -EBADMSG,
                                     "mediaType: '%s' is an image config, not a manifest",
                                     POD_ESC(mt));
        r = bad(pod_json_get_int(o, "schemaVersion", NULL, false, 0, INT32_MAX, &version, reterr));
        if (r < 0)
                return r;
        if (version == 1 || pod_json_get(o, "fsLayers")) {
                *ret = POD_OCI_KIND_SCHEMA1;
                return 0;
        }
        if (pod_json_get(o, "manifests")) {
                *ret = POD_OCI_KIND_INDEX;
                return 0;
        }
        if (pod_json_get(o, "layers") || pod_json_get(o, "config")) {
                *ret = POD_OCI_KIND_MANIFEST;
                return 0;
        }
        if (mt)
                return pod_error_set(reterr, -EMEDIUMTYPE,
                                     "mediaType: '%s' is neither an image manifest nor an index",
                                     POD_ESC(mt));
        return pod_error_set(reterr, -EBADMSG,
                             "Neither an image manifest nor an index: no mediaType, layers or "
                             "manifests member");
}

int pod_oci_classify(const char *content_type, const char *body, size_t size,
                     enum pod_oci_kind *ret, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *o = NULL;
        const char *ct;
        char buf[128];
        int r;

        ct = content_type_base(content_type, buf, sizeof(buf));
        if (ct && kind_of_media_type(ct, ret) >= 0)
                return 0;
        r = parse_doc(body, size, "manifest", &o, reterr);
        if (r < 0)
                return r;
        return classify_body(o, ret, reterr);
}

/* ---- descriptors and manifests ---- */

void pod_oci_descriptor_done(struct pod_oci_descriptor *d) {
        if (!d)
                return;
        free(d->media_type);
        free(d->digest);
        free(d->os);
        free(d->architecture);
        free(d->variant);
        *d = (struct pod_oci_descriptor){};
}

void pod_oci_manifest_done(struct pod_oci_manifest *m) {
        if (!m)
                return;
        free(m->media_type);
        pod_oci_descriptor_done(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                pod_oci_descriptor_done(&m->layers[i]);
        free(m->layers);
        *m = (struct pod_oci_manifest){};
}

static int parse_descriptor(struct json_object *o, const struct pod_json_path *p, bool platform,
                            struct pod_oci_descriptor *ret, struct pod_error *reterr) {
        _cleanup_(pod_oci_descriptor_done) struct pod_oci_descriptor d = {};
        struct json_object *pl = NULL;
        int64_t size = 0;
        int r;

        if (!o || !json_object_is_type(o, json_type_object))
                return pod_json_error(reterr, -EBADMSG, p, "must be an object");
        r = get_media_type(o, p, &d.media_type, reterr);
        if (r >= 0)
                r = bad(pod_json_get_string(o, "digest", p, true, &d.digest, reterr));
        if (r >= 0)
                r = check_digest(d.digest, POD_JSON_KEY(p, "digest"), reterr);
        if (r >= 0)
                r = bad(pod_json_get_int(o, "size", p, true, 0, INT64_MAX, &size, reterr));
        if (r < 0)
                return r;
        d.size = (uint64_t)size;
        if (platform) {
                r = bad(pod_json_get_object(o, "platform", p, &pl, reterr));
                if (r > 0) {
                        const struct pod_json_path *pp = POD_JSON_KEY(p, "platform");

                        r = bad(pod_json_get_string(pl, "os", pp, false, &d.os, reterr));
                        if (r >= 0)
                                r = bad(pod_json_get_string(pl, "architecture", pp, false,
                                                            &d.architecture, reterr));
                        if (r >= 0)
                                r = bad(pod_json_get_string(pl, "variant", pp, false, &d.variant,
                                                            reterr));
                }
                if (r < 0)
                        return r;
        }
        *ret = d;
        d = (struct pod_oci_descriptor){};
        return 0;
}

static int check_layer_media_type(const char *mt, const struct pod_json_path *p,
                                  struct pod_error *reterr) {
        if (!mt)
                return pod_json_error(reterr, -EBADMSG, p, "is required");
        if (streq(mt, POD_OCI_MEDIA_DOCKER_LAYER) || streq(mt, DOCKER_LAYER_TAR) ||
            streq(mt, POD_OCI_MEDIA_LAYER) || streq(mt, POD_OCI_MEDIA_LAYER_GZIP) ||
            streq(mt, POD_OCI_MEDIA_LAYER_ZSTD))
                return 0;
        if (streq(mt, DOCKER_FOREIGN_LAYER) || string_has_prefix(mt, OCI_NONDISTRIBUTABLE))
                return pod_json_error(reterr, -EPROTONOSUPPORT, p,
                                      "non-distributable (foreign) layers are not supported: '%s'",
                                      POD_ESC(mt));
        if (strstr(mt, "+encrypted"))
                return pod_json_error(reterr, -EPROTONOSUPPORT, p,
                                      "encrypted layers are not supported: '%s'", POD_ESC(mt));
        return pod_json_error(reterr, -EPROTONOSUPPORT, p, "unknown layer media type '%s'",
                              POD_ESC(mt));
}

int pod_oci_manifest_parse(const char *body, size_t size, struct pod_oci_manifest *ret,
                           struct pod_error *reterr) {
        _cleanup_(pod_oci_manifest_done) struct pod_oci_manifest m = {};
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *cfg = NULL, *layers = NULL;
        enum pod_oci_kind kind;
        int64_t version = 0;
        size_t n;
        int r;

        r = parse_doc(body, size, "manifest", &o, reterr);
        if (r < 0)
                return r;
        r = classify_body(o, &kind, reterr);
        if (r < 0)
                return r;
        if (kind == POD_OCI_KIND_SCHEMA1)
                return pod_error_set(reterr, -EPROTONOSUPPORT, SCHEMA1_TEXT);
        if (kind == POD_OCI_KIND_INDEX)
                return pod_error_set(reterr, -EMEDIUMTYPE,
                                     "An image index (manifest list) was given where an image "
                                     "manifest was expected");
        r = get_media_type(o, NULL, &m.media_type, reterr);
        if (r < 0)
                return r;
        if (!m.media_type) {
                m.media_type = strdup(POD_OCI_MEDIA_MANIFEST);
                if (!m.media_type)
                        return -ENOMEM;
        }
        r = bad(pod_json_get_int(o, "schemaVersion", NULL, true, 0, INT32_MAX, &version, reterr));
        if (r < 0)
                return r;
        if (version != 2)
                return pod_error_set(reterr, -EBADMSG, "schemaVersion: %" PRId64 ", expected 2",
                                     version);

        r = bad(pod_json_get_object(o, "config", NULL, &cfg, reterr));
        if (r == 0)
                r = pod_error_set(reterr, -EBADMSG, "config: is required");
        if (r < 0)
                return r;
        r = parse_descriptor(cfg, POD_JSON_KEY(NULL, "config"), false, &m.config, reterr);
        if (r < 0)
                return r;
        if (m.config.media_type && !streq(m.config.media_type, POD_OCI_MEDIA_DOCKER_CONFIG) &&
            !streq(m.config.media_type, POD_OCI_MEDIA_CONFIG))
                return pod_error_set(reterr, -EPROTONOSUPPORT,
                                     "config.mediaType: '%s' is not a container image config "
                                     "(an OCI artifact?)",
                                     POD_ESC(m.config.media_type));

        r = bad(pod_json_get_array(o, "layers", NULL, &layers, reterr));
        if (r == 0)
                r = pod_error_set(reterr, -EBADMSG, "layers: is required");
        if (r < 0)
                return r;
        n = json_object_array_length(layers);
        if (n > POD_OCI_LAYERS_MAX)
                return pod_error_set(reterr, -E2BIG,
                                     "layers: %zu layers, more than the limit of %d", n,
                                     POD_OCI_LAYERS_MAX);
        m.layers = calloc(n ? n : 1, sizeof(struct pod_oci_descriptor));
        if (!m.layers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct pod_json_path *ip = POD_JSON_IDX(POD_JSON_KEY(NULL, "layers"), i);

                r = parse_descriptor(json_object_array_get_idx(layers, i), ip, false, &m.layers[i],
                                     reterr);
                if (r < 0)
                        return r;
                m.n_layers++;
                r = check_layer_media_type(m.layers[i].media_type, POD_JSON_KEY(ip, "mediaType"),
                                           reterr);
                if (r < 0)
                        return r;
        }
        *ret = m;
        m = (struct pod_oci_manifest){};
        return 0;
}

/* ---- platforms ---- */

void pod_oci_platform_done(struct pod_oci_platform *p) {
        if (!p)
                return;
        free(p->os);
        free(p->architecture);
        free(p->variant);
        *p = (struct pod_oci_platform){};
}

static bool platform_word_valid(const char *s, size_t n) {
        if (n == 0 || n > 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

/* Go's spelling of what people also write the kernel's way. */
static const char *arch_alias(const char *a) {
        static const char *const aliases[][2] = {
                { "x86_64", "amd64" }, { "x86-64", "amd64" }, { "aarch64", "arm64" },
                { "i386", "386" },     { "i686", "386" },     { "armhf", "arm" },
                { "armel", "arm" },
        };

        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (streq(a, aliases[i][0]))
                        return aliases[i][1];
        return a;
}

static int platform_set(struct pod_oci_platform *p, const char *os, const char *arch,
                        const char *variant) {
        *p = (struct pod_oci_platform){};
        p->os = strdup(os);
        p->architecture = strdup(arch_alias(arch));
        p->variant = strdup_or_null(variant);
        if (!p->os || !p->architecture || (variant && !p->variant)) {
                pod_oci_platform_done(p);
                return -ENOMEM;
        }
        for (char *c = p->os; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        for (char *c = p->architecture; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        return 0;
}

int pod_oci_platform_parse(const char *s, struct pod_oci_platform *ret, struct pod_error *reterr) {
        _cleanup_free_ char *os = NULL, *arch = NULL, *variant = NULL;
        const char *a, *v;

        if (!s || !(a = strchr(s, '/')))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid platform '%s': expected OS/ARCH[/VARIANT], e.g. "
                                     "linux/arm64",
                                     POD_ESC(strempty(s)));
        a++;
        v = strchr(a, '/');
        if (!platform_word_valid(s, (size_t)(a - 1 - s)) ||
            !platform_word_valid(a, v ? (size_t)(v - a) : strlen(a)) ||
            (v && !platform_word_valid(v + 1, strlen(v + 1))))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid platform '%s': expected OS/ARCH[/VARIANT], each part "
                                     "letters, digits, '_', '.' or '-'",
                                     POD_ESC(s));
        os = strndup(s, (size_t)(a - 1 - s));
        arch = strndup(a, v ? (size_t)(v - a) : strlen(a));
        variant = v ? strdup(v + 1) : NULL;
        if (!os || !arch || (v && !variant))
                return -ENOMEM;
        return platform_set(ret, os, arch, variant);
}

int pod_oci_platform_host(struct pod_oci_platform *ret) {
        static const struct {
                const char *machine, *arch, *variant;
        } map[] = {
                { "x86_64", "amd64", NULL },
                { "aarch64", "arm64", "v8" },
                { "armv8l", "arm", "v7" },
                { "armv7l", "arm", "v7" },
                { "armv6l", "arm", "v6" },
                { "armv5tel", "arm", "v5" },
                { "i686", "386", NULL },
                { "i586", "386", NULL },
                { "i386", "386", NULL },
                { "ppc64le", "ppc64le", NULL },
                { "ppc64", "ppc64", NULL },
                { "s390x", "s390x", NULL },
                { "riscv64", "riscv64", NULL },
                { "mips64", "mips64", NULL },
                { "loongarch64", "loong64", NULL },
        };
        struct utsname u;

        if (uname(&u) < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(u.machine, map[i].machine))
                        return platform_set(ret, "linux", map[i].arch, map[i].variant);
        return platform_set(ret, "linux", u.machine, NULL);
}

char *pod_oci_platform_to_string(const struct pod_oci_platform *p) {
        char *s;

        if (asprintf(&s, "%s/%s%s%s", strna(p->os), strna(p->architecture), p->variant ? "/" : "",
                     strempty(p->variant)) < 0)
                return NULL;
        return s;
}

/* The variant an architecture implies when none is given (containerd's normalisation). */
static const char *variant_norm(const char *arch, const char *variant) {
        if (variant && *variant)
                return variant;
        if (streq(arch, "arm64"))
                return "v8";
        if (streq(arch, "arm"))
                return "v7";
        return NULL;
}

static bool platform_matches(const struct pod_oci_descriptor *d, const struct pod_oci_platform *p) {
        const char *a, *b;

        if (!d->os || !d->architecture || !streq(d->os, p->os))
                return false;
        if (!streq(arch_alias(d->architecture), p->architecture))
                return false;
        a = variant_norm(p->architecture, p->variant);
        b = variant_norm(p->architecture, d->variant);
        if (!a || !b)
                return !a && !b;
        return streq(a, b);
}

int pod_oci_index_select(const char *body, size_t size, const struct pod_oci_platform *p,
                         struct pod_oci_descriptor *ret, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *o = NULL;
        _cleanup_free_ char *offered = NULL, *want = NULL;
        struct json_object *list = NULL;
        enum pod_oci_kind kind;
        size_t n, len = 0;
        int r;

        r = parse_doc(body, size, "index", &o, reterr);
        if (r < 0)
                return r;
        r = classify_body(o, &kind, reterr);
        if (r < 0)
                return r;
        if (kind == POD_OCI_KIND_SCHEMA1)
                return pod_error_set(reterr, -EPROTONOSUPPORT, SCHEMA1_TEXT);
        if (kind != POD_OCI_KIND_INDEX)
                return pod_error_set(reterr, -EMEDIUMTYPE,
                                     "An image manifest was given where an index was expected");
        r = bad(pod_json_get_array(o, "manifests", NULL, &list, reterr));
        if (r == 0)
                r = pod_error_set(reterr, -EBADMSG, "manifests: is required");
        if (r < 0)
                return r;
        n = json_object_array_length(list);
        if (n > 4096)
                return pod_error_set(reterr, -E2BIG, "manifests: %zu entries, too many", n);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(pod_oci_descriptor_done) struct pod_oci_descriptor d = {};
                const struct pod_json_path *ip = POD_JSON_IDX(POD_JSON_KEY(NULL, "manifests"), i);
                struct json_object *e = json_object_array_get_idx(list, i), *ann;
                enum pod_oci_kind k;
                char *t;

                r = parse_descriptor(e, ip, true, &d, reterr);
                if (r < 0)
                        return r;
                /* Attestations (buildkit's provenance/SBOM) and nested indexes are not
                 * images of a platform. */
                if (d.os && d.architecture && streq(d.os, "unknown") &&
                    streq(d.architecture, "unknown"))
                        continue;
                ann = pod_json_get(e, "annotations");
                if (ann && json_object_is_type(ann, json_type_object) &&
                    pod_json_get(ann, ATTESTATION_ANNOTATION))
                        continue;
                if (d.media_type &&
                    (kind_of_media_type(d.media_type, &k) < 0 || k != POD_OCI_KIND_MANIFEST))
                        continue;
                if (platform_matches(&d, p)) {
                        *ret = d;
                        d = (struct pod_oci_descriptor){};
                        return 0;
                }
                if (len < 1024) {
                        struct pod_oci_platform dp = { .os = d.os ?: (char *)"?",
                                                       .architecture =
                                                               d.architecture ?: (char *)"?",
                                                       .variant = d.variant };
                        _cleanup_free_ char *one = pod_oci_platform_to_string(&dp);

                        if (!one)
                                return -ENOMEM;
                        t = realloc(offered, len + strlen(one) + 3);
                        if (!t)
                                return -ENOMEM;
                        offered = t;
                        len += (size_t)sprintf(offered + len, "%s%s", len ? ", " : "", one);
                }
        }
        want = pod_oci_platform_to_string(p);
        if (!want)
                return -ENOMEM;
        return pod_error_set(reterr, -ENOENT,
                             "The image has no variant for platform %s (it offers: %s); pick one "
                             "with --platform",
                             POD_ESC(want), offered ? POD_ESC(offered) : "nothing runnable");
}

/* ---- configs ---- */

void pod_oci_config_done(struct pod_oci_config *c) {
        if (!c)
                return;
        free(c->os);
        free(c->architecture);
        free(c->variant);
        strv_free(c->diff_ids);
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        free(c->working_dir);
        free(c->user);
        free(c->stop_signal);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        strv_free(c->label_keys);
        strv_free(c->label_values);
        free(c->created);
        *c = (struct pod_oci_config){};
}

static int get_strv(struct json_object *o, const char *key, const struct pod_json_path *p,
                    char ***ret, struct pod_error *reterr) {
        struct json_object *v = pod_json_get(o, key);

        if (!v)
                return 0;
        return bad(pod_json_as_strv(v, POD_JSON_KEY(p, key), false, ret, reterr));
}

/* An optional string member; "" counts as absent. */
static int get_nonempty(struct json_object *o, const char *key, const struct pod_json_path *p,
                        char **ret, struct pod_error *reterr) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = bad(pod_json_get_string(o, key, p, false, &s, reterr));
        if (r < 0)
                return r;
        if (s && *s)
                *ret = TAKE_PTR(s);
        return 0;
}

/* The keys of an object member ({"80/tcp": {}}) as a strv, sorted as in the document. */
static int get_keys(struct json_object *o, const char *key, const struct pod_json_path *p,
                    char ***ret, struct pod_error *reterr) {
        _cleanup_strv_free_ char **l = NULL;
        struct json_object *v = NULL;
        int r;

        r = bad(pod_json_get_object(o, key, p, &v, reterr));
        if (r <= 0)
                return r;
        json_object_object_foreach (v, k, val) {
                (void)val;
                r = strv_push(&l, k);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int get_labels(struct json_object *o, const struct pod_json_path *p,
                      struct pod_oci_config *c, struct pod_error *reterr) {
        struct json_object *v = NULL;
        int r;

        r = bad(pod_json_get_object(o, "Labels", p, &v, reterr));
        if (r <= 0)
                return r;
        json_object_object_foreach (v, k, val) {
                const char *s;

                if (!val)
                        continue;
                r = bad(pod_json_as_string(val, POD_JSON_KEY(POD_JSON_KEY(p, "Labels"), k), &s,
                                           reterr));
                if (r < 0)
                        return r;
                r = strv_push(&c->label_keys, k);
                if (r >= 0)
                        r = strv_push(&c->label_values, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pod_oci_config_parse(const char *body, size_t size, struct pod_oci_config *ret,
                         struct pod_error *reterr) {
        _cleanup_(pod_oci_config_done) struct pod_oci_config c = {};
        _cleanup_json_ struct json_object *o = NULL;
        _cleanup_free_ char *type = NULL;
        struct json_object *rootfs = NULL, *ids = NULL, *cfg = NULL;
        const struct pod_json_path *rp = POD_JSON_KEY(NULL, "rootfs"),
                                   *cp = POD_JSON_KEY(NULL, "config");
        size_t n;
        int r;

        r = parse_doc(body, size, "image config", &o, reterr);
        if (r < 0)
                return r;
        r = get_nonempty(o, "os", NULL, &c.os, reterr);
        if (r >= 0)
                r = get_nonempty(o, "architecture", NULL, &c.architecture, reterr);
        if (r >= 0)
                r = get_nonempty(o, "variant", NULL, &c.variant, reterr);
        if (r >= 0)
                r = get_nonempty(o, "created", NULL, &c.created, reterr);
        if (r >= 0)
                r = bad(pod_json_get_object(o, "rootfs", NULL, &rootfs, reterr));
        if (r == 0)
                r = pod_error_set(reterr, -EBADMSG, "image config: rootfs: is required");
        if (r >= 0)
                r = bad(pod_json_get_string(rootfs, "type", rp, true, &type, reterr));
        if (r >= 0 && !streq(type, "layers"))
                r = pod_json_error(reterr, -EBADMSG, POD_JSON_KEY(rp, "type"),
                                   "'%s', expected 'layers'", POD_ESC(type));
        if (r >= 0)
                r = bad(pod_json_get_array(rootfs, "diff_ids", rp, &ids, reterr));
        if (r == 0)
                r = pod_json_error(reterr, -EBADMSG, POD_JSON_KEY(rp, "diff_ids"), "is required");
        if (r < 0)
                return pod_error_prefix(reterr, r, "image config");

        n = json_object_array_length(ids);
        if (n > POD_OCI_LAYERS_MAX)
                return pod_error_set(reterr, -E2BIG,
                                     "image config: rootfs.diff_ids: %zu layers, more than the "
                                     "limit of %d",
                                     n, POD_OCI_LAYERS_MAX);
        r = bad(pod_json_as_strv(ids, POD_JSON_KEY(rp, "diff_ids"), true, &c.diff_ids, reterr));
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = check_digest(c.diff_ids[i], POD_JSON_IDX(POD_JSON_KEY(rp, "diff_ids"), i),
                                 reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "image config");
        c.n_diff_ids = n;

        r = bad(pod_json_get_object(o, "config", NULL, &cfg, reterr));
        if (r > 0) {
                r = get_strv(cfg, "Entrypoint", cp, &c.entrypoint, reterr);
                if (r >= 0)
                        r = get_strv(cfg, "Cmd", cp, &c.cmd, reterr);
                if (r >= 0)
                        r = get_strv(cfg, "Env", cp, &c.env, reterr);
                if (r >= 0)
                        r = get_nonempty(cfg, "WorkingDir", cp, &c.working_dir, reterr);
                if (r >= 0)
                        r = get_nonempty(cfg, "User", cp, &c.user, reterr);
                if (r >= 0)
                        r = get_nonempty(cfg, "StopSignal", cp, &c.stop_signal, reterr);
                if (r >= 0)
                        r = get_keys(cfg, "ExposedPorts", cp, &c.exposed_ports, reterr);
                if (r >= 0)
                        r = get_keys(cfg, "Volumes", cp, &c.volumes, reterr);
                if (r >= 0)
                        r = get_labels(cfg, cp, &c, reterr);
        }
        if (r < 0)
                return pod_error_prefix(reterr, r, "image config");
        *ret = c;
        c = (struct pod_oci_config){};
        return 0;
}

/* ---- config -> appc ---- */

/* Lower case; every run of other characters between alphanumerics becomes one separator from
 * allowed (the run's first character if allowed, else '-'); none at either end. */
static char *sanitise(const char *s, const char *allowed) {
        size_t n = strlen(s), k = 0;
        char *out = malloc(n + 1), sep = 0;

        if (!out)
                return NULL;
        for (const char *p = s; *p; p++) {
                char ch = (char)tolower((unsigned char)*p);

                if (isalnum((unsigned char)ch) && (unsigned char)ch < 0x80) {
                        if (sep && k > 0)
                                out[k++] = sep;
                        sep = 0;
                        out[k++] = ch;
                } else if (!sep)
                        sep = strchr(allowed, ch) ? ch : '-';
        }
        out[k] = 0;
        return out;
}

static int json_text_of_strv(char *const *l, char **ret) {
        _cleanup_json_ struct json_object *a = NULL;
        int r;

        r = pod_json_strv_new(l, &a);
        if (r < 0)
                return r;
        if (!a) {
                a = json_object_new_array();
                if (!a)
                        return -ENOMEM;
        }
        return pod_json_to_string(a, false, ret);
}

/* appc arch label for a Go platform; NULL when appc has no name for it. */
static const char *appc_arch(const char *arch, const char *variant) {
        if (!arch)
                return NULL;
        if (streq(arch, "amd64"))
                return "amd64";
        if (streq(arch, "386"))
                return "i386";
        if (streq(arch, "arm64"))
                return "aarch64";
        if (streq(arch, "arm"))
                return variant && streq(variant, "v6") ? "armv6l" : "armv7l";
        if (streq(arch, "ppc64le") || streq(arch, "ppc64") || streq(arch, "s390x"))
                return arch;
        return NULL;
}

static int add_ann(struct pod_image_manifest *m, const char *name, const char *value) {
        if (!value)
                return 0;
        for (size_t i = 0; i < m->n_annotations; i++)
                if (streq(m->annotations[i].name, name)) {
                        char *v = strdup(value);

                        if (!v)
                                return -ENOMEM;
                        free(m->annotations[i].value);
                        m->annotations[i].value = v;
                        return 0;
                }
        return pod_kv_add(&m->annotations, &m->n_annotations, name, value);
}

/* "uid:gid" / "name:group" as given; "name" or "uid" alone get group 0 and the annotation, from
 * which stage1 applies Docker's primary-group rule (oci.h). */
static int set_user(const struct pod_oci_config *c, struct pod_app *a,
                    struct pod_image_manifest *m) {
        const char *u = c->user, *colon = u ? strchr(u, ':') : NULL;
        size_t n;

        if (!u) {
                a->user = strdup("0");
                a->group = strdup("0");
                return a->user && a->group ? 0 : -ENOMEM;
        }
        n = colon ? (size_t)(colon - u) : strlen(u);
        a->user = n > 0 ? strndup(u, n) : strdup("0");
        a->group = strdup(colon && colon[1] ? colon + 1 : "0");
        if (!a->user || !a->group)
                return -ENOMEM;
        if (colon && colon[1])
                return 0;
        return add_ann(m, POD_OCI_ANN_USER, u);
}

static int add_env(struct pod_app *a, const char *entry) {
        const char *eq = strchr(entry, '=');
        _cleanup_free_ char *name = NULL;

        if (!eq || eq == entry)
                return 0; /* docker passes "NAME" through from its own environment: nothing */
        name = strndup(entry, (size_t)(eq - entry));
        if (!name)
                return -ENOMEM;
        if (!env_name_valid(name))
                return 0;
        for (size_t i = 0; i < a->n_environment; i++)
                if (streq(a->environment[i].name, name)) { /* the later one wins, as in docker */
                        char *v = strdup(eq + 1);

                        if (!v)
                                return -ENOMEM;
                        free(a->environment[i].value);
                        a->environment[i].value = v;
                        return 0;
                }
        return pod_kv_add(&a->environment, &a->n_environment, name, eq + 1);
}

static int add_port(struct pod_app *a, const char *spec, struct pod_error *reterr) {
        const char *slash = strchr(spec, '/');
        _cleanup_free_ char *proto = NULL, *name = NULL;
        unsigned long port;
        struct pod_port *t;
        char *end;

        errno = 0;
        port = strtoul(spec, &end, 10);
        if (errno != 0 || end == spec || !isdigit((unsigned char)spec[0]) ||
            end != (slash ? slash : spec + strlen(spec)) || port == 0 || port > 65535)
                return pod_error_set(reterr, -EINVAL,
                                     "image config: config.ExposedPorts: '%s' is not a valid port",
                                     POD_ESC(spec));
        proto = strdup(slash && slash[1] ? slash + 1 : "tcp");
        if (!proto)
                return -ENOMEM;
        for (char *p = proto; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        if (!ac_name_valid(proto))
                return pod_error_set(reterr, -EINVAL,
                                     "image config: config.ExposedPorts: '%s' has an invalid "
                                     "protocol",
                                     POD_ESC(spec));
        if (asprintf(&name, "%lu-%s", port, proto) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_ports; i++)
                if (streq(a->ports[i].name, name))
                        return 0;
        t = reallocarray(a->ports, a->n_ports + 1, sizeof(struct pod_port));
        if (!t)
                return -ENOMEM;
        a->ports = t;
        a->ports[a->n_ports++] = (struct pod_port){
                .name = TAKE_PTR(name),
                .protocol = TAKE_PTR(proto),
                .port = (unsigned)port,
                .count = 1,
        };
        return 0;
}

static int add_volume(struct pod_app *a, const char *path, struct pod_error *reterr) {
        _cleanup_free_ char *clean = NULL, *base = NULL, *name = NULL;
        struct pod_mount_point *t;
        int r;

        r = path_normalize_absolute(path, &clean);
        if (r < 0)
                return pod_error_set(reterr, -EINVAL,
                                     "image config: config.Volumes: '%s' is not an absolute path",
                                     POD_ESC(path));
        if (streq(clean, "/"))
                return pod_error_set(reterr, -EINVAL,
                                     "image config: config.Volumes: '/' cannot be a volume");
        base = sanitise(clean, "-");
        if (!base)
                return -ENOMEM;
        for (unsigned k = 1;; k++) {
                bool taken = false;

                free(name);
                name = NULL;
                if ((k == 1 ? asprintf(&name, "volume-%s", *base ? base : "x")
                            : asprintf(&name, "volume-%s-%u", *base ? base : "x", k)) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < a->n_mount_points; i++) {
                        if (streq(a->mount_points[i].path, clean))
                                return 0; /* the same path twice */
                        taken = taken || streq(a->mount_points[i].name, name);
                }
                if (!taken)
                        break;
        }
        t = reallocarray(a->mount_points, a->n_mount_points + 1, sizeof(struct pod_mount_point));
        if (!t)
                return -ENOMEM;
        a->mount_points = t;
        a->mount_points[a->n_mount_points++] = (struct pod_mount_point){
                .name = TAKE_PTR(name),
                .path = TAKE_PTR(clean),
        };
        return 0;
}

static int image_name(const struct pod_oci_origin *o, char **ret) {
        _cleanup_free_ char *raw = NULL;
        char *name;

        if (o && o->repository && o->registry) {
                if (asprintf(&raw, "%s/%s", o->registry, o->repository) < 0)
                        return -ENOMEM;
        } else if (o && o->repository) {
                raw = strdup(o->repository);
        } else {
                const char *d = o ? o->config_digest : NULL;

                if (asprintf(&raw, "localhost/%s",
                             d && pod_oci_digest_valid(d) ? d + 7 : "unnamed") < 0)
                        return -ENOMEM;
        }
        if (!raw)
                return -ENOMEM;
        for (char *p = raw; *p; p++)
                if (*p == ':') /* of a port */
                        *p = '_';
        name = sanitise(raw, "-._~/");
        if (!name)
                return -ENOMEM;
        if (!*name) {
                free(name);
                name = strdup("localhost/unnamed");
                if (!name)
                        return -ENOMEM;
        }
        *ret = name;
        return 0;
}

int pod_oci_config_to_appc(const struct pod_oci_config *c, const struct pod_oci_origin *o,
                           struct pod_image_manifest **ret, struct pod_error *reterr) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        _cleanup_free_ char *ep = NULL, *cmd = NULL;
        const char *arch;
        struct pod_app *a;
        size_t n = 0;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->ac_version = strdup(POD_AC_VERSION);
        if (!m->ac_version)
                return -ENOMEM;
        r = image_name(o, &m->name);
        if (r < 0)
                return r;

        if (o && o->tag && *o->tag) {
                r = pod_kv_add(&m->labels, &m->n_labels, "version", o->tag);
                if (r < 0)
                        return r;
        }
        arch = appc_arch(c->architecture, c->variant);
        if (c->os && arch && pod_os_arch_valid(c->os, arch)) {
                r = pod_kv_add(&m->labels, &m->n_labels, "os", c->os);
                if (r >= 0)
                        r = pod_kv_add(&m->labels, &m->n_labels, "arch", arch);
                if (r < 0)
                        return r;
        }

        a = m->app = calloc(1, sizeof(struct pod_app));
        if (!a)
                return -ENOMEM;
        a->exec = calloc(strv_len(c->entrypoint) + strv_len(c->cmd) + 1, sizeof(char *));
        if (!a->exec)
                return -ENOMEM;
        STRV_FOREACH (s, c->entrypoint)
                if (!(a->exec[n++] = strdup(*s)))
                        return -ENOMEM;
        STRV_FOREACH (s, c->cmd)
                if (!(a->exec[n++] = strdup(*s)))
                        return -ENOMEM;
        if (n == 0 || !*a->exec[0])
                return pod_error_set(reterr, -EINVAL,
                                     "The image has no Entrypoint or Cmd: nothing to run (pass "
                                     "--exec)");
        for (size_t i = 0; i < n; i++)
                if (!*a->exec[i]) /* appc's exec has no empty arguments */
                        return pod_error_set(reterr, -EINVAL,
                                             "The image's Entrypoint + Cmd has an empty argument "
                                             "(position %zu), which pod cannot represent",
                                             i);

        r = set_user(c, a, m);
        if (r < 0)
                return r;
        STRV_FOREACH (e, c->env) {
                r = add_env(a, *e);
                if (r < 0)
                        return r;
        }
        if (c->working_dir) {
                if (!path_is_absolute(c->working_dir))
                        return pod_error_set(reterr, -EINVAL,
                                             "image config: config.WorkingDir: '%s' is not an "
                                             "absolute path",
                                             POD_ESC(c->working_dir));
                a->working_directory = strdup(c->working_dir);
                if (!a->working_directory)
                        return -ENOMEM;
        }
        STRV_FOREACH (p, c->exposed_ports) {
                r = add_port(a, *p, reterr);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH (v, c->volumes) {
                r = add_volume(a, *v, reterr);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; c->label_keys && c->label_keys[i]; i++)
                if (ac_identifier_valid(c->label_keys[i])) {
                        r = add_ann(m, c->label_keys[i], c->label_values[i]);
                        if (r < 0)
                                return r;
                }
        r = json_text_of_strv(c->entrypoint, &ep);
        if (r >= 0)
                r = json_text_of_strv(c->cmd, &cmd);
        if (r >= 0 && o) {
                r = add_ann(m, POD_OCI_ANN_REGISTRY, o->registry);
                if (r >= 0)
                        r = add_ann(m, POD_OCI_ANN_REPOSITORY, o->repository);
                if (r >= 0)
                        r = add_ann(m, POD_OCI_ANN_TAG, o->tag);
                if (r >= 0)
                        r = add_ann(m, POD_OCI_ANN_IMAGEID, o->config_digest);
                if (r >= 0)
                        r = add_ann(m, POD_OCI_ANN_MANIFEST, o->manifest_digest);
        }
        if (r >= 0)
                r = add_ann(m, POD_OCI_ANN_ENTRYPOINT, ep);
        if (r >= 0)
                r = add_ann(m, POD_OCI_ANN_CMD, cmd);
        if (r >= 0)
                r = add_ann(m, POD_OCI_ANN_STOPSIGNAL, c->stop_signal);
        if (r < 0)
                return r;

        r = pod_image_manifest_validate(m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "The converted image manifest is invalid");
        *ret = TAKE_PTR(m);
        return 0;
}
