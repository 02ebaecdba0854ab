/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* oci.h: manifests of both flavours, index selection (variants, attestations), schema 1
 * refusal, configs, and the config -> appc conversion (the result must pass manifest.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "manifest.h"
#include "oci.h"
#include "path-util.h"
#include "tap.h"

#define D(c)                                                                                      \
        "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
                c c c c c c c c c c c c c c c c c c c c c c c c
#define DA D("a")
#define DB D("b")
#define DC D("c")
#define DD D("d")
#define DE D("e")
#define DF D("f")

static bool has(const struct pod_error *e, const char *s) {
        return strstr(e->msg, s) != NULL;
}

static void test_digest(void) {
        tap_ok(pod_oci_digest_valid(DA), "valid digest");
        tap_ok(!pod_oci_digest_valid("sha256:ABC"), "short digest refused");
        tap_ok(!pod_oci_digest_valid(
                       "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
               "upper-case hex refused");
        tap_ok(!pod_oci_digest_valid("sha512:aaaa"), "sha512 refused");
        tap_ok(!pod_oci_digest_valid(NULL), "NULL refused");
}

static void test_classify(void) {
        struct pod_error e = {};
        enum pod_oci_kind k = _POD_OCI_KIND_INVALID;
        const char *m = "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}";
        const char *s1 = "{\"schemaVersion\":1,\"fsLayers\":[]}";

        tap_ok(pod_oci_classify(POD_OCI_MEDIA_DOCKER_LIST "; charset=utf-8", "", 0, &k, &e) >= 0 &&
                       k == POD_OCI_KIND_INDEX,
               "content type with parameters");
        tap_ok(pod_oci_classify("application/json", m, strlen(m), &k, &e) >= 0 &&
                       k == POD_OCI_KIND_MANIFEST,
               "generic content type: manifest by shape");
        tap_ok(pod_oci_classify(NULL, "{\"manifests\":[]}", 16, &k, &e) >= 0 &&
                       k == POD_OCI_KIND_INDEX,
               "index by shape");
        tap_ok(pod_oci_classify(NULL, s1, strlen(s1), &k, &e) >= 0 && k == POD_OCI_KIND_SCHEMA1,
               "schema 1 by schemaVersion");
        tap_ok(pod_oci_classify(POD_OCI_MEDIA_DOCKER_SCHEMA1S, "", 0, &k, &e) >= 0 &&
                       k == POD_OCI_KIND_SCHEMA1,
               "signed schema 1 by content type");
        tap_is_int(pod_oci_classify(NULL, "{\"x\":1}", 7, &k, &e), -EBADMSG, "unknown shape");
        pod_error_clear(&e);
        tap_is_int(pod_oci_classify(NULL, "[1", 2, &k, &e), -EBADMSG, "broken JSON");
}

static const char docker_manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" POD_OCI_MEDIA_DOCKER_MANIFEST "\","
        "\"config\":{\"mediaType\":\"" POD_OCI_MEDIA_DOCKER_CONFIG "\",\"size\":1470,"
        "\"digest\":\"" DA "\"},"
        "\"layers\":[{\"mediaType\":\"" POD_OCI_MEDIA_DOCKER_LAYER "\",\"size\":100,"
        "\"digest\":\"" DB "\"},{\"mediaType\":\"" POD_OCI_MEDIA_DOCKER_LAYER "\",\"size\":200,"
        "\"digest\":\"" DC "\"}]}";

static const char oci_manifest[] =
        "{\"schemaVersion\":2,"
        "\"config\":{\"mediaType\":\"" POD_OCI_MEDIA_CONFIG "\",\"size\":10,\"digest\":\"" DA "\"},"
        "\"layers\":[{\"mediaType\":\"" POD_OCI_MEDIA_LAYER_ZSTD "\",\"size\":7,\"digest\":\"" DB
        "\"},{\"mediaType\":\"" POD_OCI_MEDIA_LAYER "\",\"size\":8,\"digest\":\"" DC "\"}],"
        "\"annotations\":{\"a\":\"b\"}}";

static int parse_m(const char *text, struct pod_error *e) {
        struct pod_oci_manifest m = {};
        int r;

        pod_error_clear(e);
        r = pod_oci_manifest_parse(text, strlen(text), &m, e);
        pod_oci_manifest_done(&m);
        return r;
}

static void test_manifest(void) {
        struct pod_oci_manifest m = {};
        struct pod_error e = {};
        _cleanup_free_ char *big = NULL, *many = NULL;
        size_t n;
        int r;

        r = pod_oci_manifest_parse(docker_manifest, strlen(docker_manifest), &m, &e);
        tap_ok(r >= 0, "Docker schema 2 manifest parses (%s)", e.msg);
        tap_is_str(m.media_type, POD_OCI_MEDIA_DOCKER_MANIFEST, "media type");
        tap_is_str(m.config.digest, DA, "config digest");
        tap_is_int(m.config.size, 1470, "config size");
        tap_is_int(m.n_layers, 2, "two layers");
        tap_is_str(m.layers[1].digest, DC, "layer order kept (bottom first)");
        tap_is_int(m.layers[1].size, 200, "layer size");
        pod_oci_manifest_done(&m);

        r = pod_oci_manifest_parse(oci_manifest, strlen(oci_manifest), &m, &e);
        tap_ok(r >= 0, "OCI manifest (no mediaType, zstd layer) parses (%s)", e.msg);
        tap_is_str(m.media_type, POD_OCI_MEDIA_MANIFEST, "OCI media type assumed");
        tap_is_str(m.layers[0].media_type, POD_OCI_MEDIA_LAYER_ZSTD, "zstd layer");
        pod_oci_manifest_done(&m);

        r = parse_m("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", &e);
        tap_ok(r == -EPROTONOSUPPORT && has(&e, "schema 1"), "schema 1 refused (%s)", e.msg);
        r = parse_m("{\"schemaVersion\":2,\"mediaType\":\"" POD_OCI_MEDIA_INDEX
                    "\",\"manifests\":[]}",
                    &e);
        tap_is_int(r, -EMEDIUMTYPE, "an index is not a manifest");
        r = parse_m("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" POD_OCI_MEDIA_CONFIG
                    "\",\"size\":1,\"digest\":\"sha512:abcd\"},\"layers\":[]}",
                    &e);
        tap_ok(r == -EPROTONOSUPPORT && has(&e, "sha512") && has(&e, "config.digest"),
               "sha512 digest refused, naming it (%s)", e.msg);
        r = parse_m("{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" DA
                    "\"},\"layers\":[{\"mediaType\":\"" POD_OCI_MEDIA_LAYER
                    "\",\"size\":1,\"digest\":\"" DB "\"},{\"mediaType\":\"" POD_OCI_MEDIA_LAYER
                    "\",\"size\":1,\"digest\":\"sha256:xyz\"}]}",
                    &e);
        tap_ok(r == -EBADMSG && has(&e, "layers[1].digest"),
               "bad layer digest names the member (%s)", e.msg);
        r = parse_m("{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" DA
                    "\"},\"layers\":[{\"mediaType\":"
                    "\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\","
                    "\"size\":1,\"digest\":\"" DB "\"}]}",
                    &e);
        tap_ok(r == -EPROTONOSUPPORT && has(&e, "foreign"), "foreign layer refused (%s)", e.msg);
        r = parse_m("{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" DA
                    "\"},\"layers\":[{\"mediaType\":\"" POD_OCI_MEDIA_LAYER_GZIP
                    "+encrypted\",\"size\":1,\"digest\":\"" DB "\"}]}",
                    &e);
        tap_ok(r == -EPROTONOSUPPORT && has(&e, "encrypted"), "encrypted layer refused (%s)",
               e.msg);
        r = parse_m("{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" DA "\"}}", &e);
        tap_ok(r == -EBADMSG && has(&e, "layers"), "missing layers (%s)", e.msg);
        r = parse_m("{\"schemaVersion\":2,\"config\":{\"size\":-1,\"digest\":\"" DA
                    "\"},\"layers\":[]}",
                    &e);
        tap_ok(r == -EBADMSG && has(&e, "config.size"), "negative size (%s)", e.msg);
        r = parse_m("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/x-helm\","
                    "\"size\":1,\"digest\":\"" DA "\"},\"layers\":[]}",
                    &e);
        tap_is_int(r, -EPROTONOSUPPORT, "an artifact's config is not an image config");

        /* 300 layers: more than POD_OCI_LAYERS_MAX */
        many = malloc(300 * 200 + 200);
        n = (size_t)sprintf(many, "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" DA
                                  "\"},\"layers\":[");
        for (int i = 0; i < 300; i++)
                n += (size_t)sprintf(many + n,
                                     "%s{\"mediaType\":\"" POD_OCI_MEDIA_LAYER
                                     "\",\"size\":1,\"digest\":\"" DB "\"}",
                                     i ? "," : "");
        strcpy(many + n, "]}");
        tap_is_int(parse_m(many, &e), -E2BIG, "too many layers");

        big = malloc(POD_OCI_JSON_MAX + 2);
        memset(big, ' ', POD_OCI_JSON_MAX + 1);
        big[0] = '{';
        big[POD_OCI_JSON_MAX] = '}';
        big[POD_OCI_JSON_MAX + 1] = 0;
        tap_is_int(parse_m(big, &e), -EFBIG, "oversized manifest");
}

static void test_platform(void) {
        struct pod_oci_platform p = {};
        struct pod_error e = {};
        _cleanup_free_ char *s = NULL;

        tap_ok(pod_oci_platform_parse("linux/arm64/v8", &p, &e) >= 0, "parse linux/arm64/v8");
        tap_ok(streq(p.os, "linux") && streq(p.architecture, "arm64") && streq(p.variant, "v8"),
               "fields");
        s = pod_oci_platform_to_string(&p);
        tap_is_str(s, "linux/arm64/v8", "to string");
        pod_oci_platform_done(&p);
        tap_ok(pod_oci_platform_parse("linux/x86_64", &p, &e) >= 0 &&
                       streq(p.architecture, "amd64") && !p.variant,
               "kernel spelling becomes Go's");
        pod_oci_platform_done(&p);
        tap_is_int(pod_oci_platform_parse("linux", &p, &e), -EINVAL, "no arch refused");
        pod_error_clear(&e);
        tap_is_int(pod_oci_platform_parse("linux//v7", &p, &e), -EINVAL, "empty arch refused");
        pod_error_clear(&e);
        tap_is_int(pod_oci_platform_parse("linux/a b", &p, &e), -EINVAL, "space refused");
        tap_ok(pod_oci_platform_host(&p) >= 0 && streq(p.os, "linux") && p.architecture,
               "host platform");
        pod_oci_platform_done(&p);
}

#define ENTRY(digest, plat)                                                             \
        "{\"mediaType\":\"" POD_OCI_MEDIA_MANIFEST "\",\"size\":1,\"digest\":\"" digest \
        "\",\"platform\":" plat "}"

static const char index_json[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" POD_OCI_MEDIA_INDEX "\",\"manifests\":["
        /* an attestation listed first must never be picked */
        ENTRY(DF,
              "{\"os\":\"unknown\",\"architecture\":\"unknown\"}") ","
                                                                   "{\"mediaType\":"
                                                                   "\"" POD_OCI_MEDIA_MANIFEST
                                                                   "\",\"size\":1,\"digest\":\"" DE
                                                                   "\","
                                                                   "\"platform\":{\"os\":\"linux\","
                                                                   "\"architecture\":\"amd64\"},"
                                                                   "\"annotations\":{\"vnd.docker."
                                                                   "reference.type\":\"attestation-"
                                                                   "manifest\"}}," ENTRY(
                                                                           DA,
                                                                           "{\"os"
                                                                           "\":"
                                                                           "\"lin"
                                                                           "ux\","
                                                                           "\"arc"
                                                                           "hitec"
                                                                           "ture"
                                                                           "\":"
                                                                           "\"amd"
                                                                           "64\""
                                                                           "}") "," ENTRY(DB,
                                                                                          "{\"os\":"
                                                                                          "\"linux"
                                                                                          "\","
                                                                                          "\"archit"
                                                                                          "ecture\""
                                                                                          ":\"arm64"
                                                                                          "\"}") "," ENTRY(DC,
                                                                                                           "{\"os\":\"linux\","
                                                                                                           "\"architecture\":"
                                                                                                           "\"arm\",\"variant\":"
                                                                                                           "\"v7\"}") "," ENTRY(DD,
                                                                                                                                "{"
                                                                                                                                "\""
                                                                                                                                "os"
                                                                                                                                "\""
                                                                                                                                ":"
                                                                                                                                "\""
                                                                                                                                "li"
                                                                                                                                "nu"
                                                                                                                                "x"
                                                                                                                                "\""
                                                                                                                                ","
                                                                                                                                "\""
                                                                                                                                "ar"
                                                                                                                                "ch"
                                                                                                                                "it"
                                                                                                                                "ec"
                                                                                                                                "tu"
                                                                                                                                "re"
                                                                                                                                "\""
                                                                                                                                ":"
                                                                                                                                "\""
                                                                                                                                "ar"
                                                                                                                                "m"
                                                                                                                                "\""
                                                                                                                                ","
                                                                                                                                "\""
                                                                                                                                "va"
                                                                                                                                "ri"
                                                                                                                                "an"
                                                                                                                                "t"
                                                                                                                                "\""
                                                                                                                                ":"
                                                                                                                                "\""
                                                                                                                                "v6"
                                                                                                                                "\""
                                                                                                                                "}") "]}";

static const char *select_for(const char *plat, struct pod_error *e) {
        static char digest[80];
        struct pod_oci_platform p = {};
        struct pod_oci_descriptor d = {};
        int r;

        pod_error_clear(e);
        if (pod_oci_platform_parse(plat, &p, e) < 0)
                return NULL;
        r = pod_oci_index_select(index_json, strlen(index_json), &p, &d, e);
        pod_oci_platform_done(&p);
        if (r < 0)
                return NULL;
        (void)snprintf(digest, sizeof(digest), "%s", d.digest);
        pod_oci_descriptor_done(&d);
        return digest;
}

static void test_index(void) {
        struct pod_error e = {};
        const char *d;

        tap_is_str(select_for("linux/amd64", &e), DA, "amd64 picked, attestations skipped");
        tap_is_str(select_for("linux/arm64/v8", &e), DB, "arm64/v8 matches arm64 without variant");
        tap_is_str(select_for("linux/arm64", &e), DB, "arm64");
        tap_is_str(select_for("linux/arm/v7", &e), DC, "arm/v7");
        tap_is_str(select_for("linux/arm", &e), DC, "arm without variant means v7");
        tap_is_str(select_for("linux/arm/v6", &e), DD, "arm/v6");
        d = select_for("linux/s390x", &e);
        tap_ok(!d && e.error == -ENOENT && has(&e, "linux/amd64") && has(&e, "linux/arm/v6") &&
                       !has(&e, "unknown"),
               "no match lists the offered platforms (%s)", e.msg);
        pod_error_clear(&e);
        {
                struct pod_oci_platform p = { .os = (char *)"linux",
                                              .architecture = (char *)"amd64" };
                struct pod_oci_descriptor desc = {};

                tap_is_int(pod_oci_index_select(docker_manifest, strlen(docker_manifest), &p, &desc,
                                                &e),
                           -EMEDIUMTYPE, "a manifest is not an index");
        }
}

static const char config_json[] =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
        "\"config\":{\"User\":\"nobody\",\"Env\":[\"PATH=/usr/bin:/bin\",\"FOO=bar\",\"FOO=baz\","
        "\"BAD NAME=x\",\"NOVALUE\"],"
        "\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],\"WorkingDir\":\"/srv\","
        "\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},"
        "\"Volumes\":{\"/var/lib/My_Data\":{},\"/data\":{}},"
        "\"Labels\":{\"org.example.version\":\"1\",\"Bad Key\":\"x\"},\"StopSignal\":\"SIGQUIT\"},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",\"" DB "\"]},"
        "\"history\":[{\"created_by\":\"x\"}]}";

static int parse_c(const char *text, struct pod_oci_config *c, struct pod_error *e) {
        pod_error_clear(e);
        return pod_oci_config_parse(text, strlen(text), c, e);
}

static void test_config(void) {
        struct pod_oci_config c = {};
        struct pod_error e = {};
        int r;

        r = parse_c(config_json, &c, &e);
        tap_ok(r >= 0, "config parses (%s)", e.msg);
        tap_is_int(c.n_diff_ids, 2, "two diff_ids");
        tap_is_str(c.diff_ids[1], DB, "diff_ids in order");
        tap_is_str(c.entrypoint[0], "/bin/sh", "Entrypoint");
        tap_is_str(c.cmd[0], "echo hi", "Cmd");
        tap_is_str(c.user, "nobody", "User");
        tap_is_str(c.working_dir, "/srv", "WorkingDir");
        tap_is_str(c.stop_signal, "SIGQUIT", "StopSignal");
        tap_is_str(c.exposed_ports[0], "80/tcp", "ExposedPorts");
        tap_is_str(c.volumes[1], "/data", "Volumes");
        tap_is_str(c.label_keys[0], "org.example.version", "Labels keys");
        tap_is_str(c.label_values[0], "1", "Labels values");
        tap_is_str(c.created, "2024-01-01T00:00:00Z", "created");
        pod_oci_config_done(&c);

        r = parse_c("{\"os\":\"linux\",\"config\":null,\"rootfs\":{\"type\":\"layers\","
                    "\"diff_ids\":[]}}",
                    &c, &e);
        tap_ok(r >= 0 && !c.entrypoint && !c.user && c.n_diff_ids == 0,
               "null config is an empty one");
        pod_oci_config_done(&c);
        tap_ok(parse_c("{\"os\":\"linux\"}", &c, &e) == -EBADMSG && has(&e, "rootfs"),
               "missing rootfs (%s)", e.msg);
        tap_ok(parse_c("{\"rootfs\":{\"type\":\"tarball\",\"diff_ids\":[]}}", &c, &e) == -EBADMSG &&
                       has(&e, "rootfs.type"),
               "rootfs.type must be layers (%s)", e.msg);
        tap_ok(parse_c("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha512:00\"]}}", &c, &e) ==
                       -EPROTONOSUPPORT,
               "sha512 diff_id refused (%s)", e.msg);
        tap_ok(parse_c("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":"
                       "{\"Cmd\":\"ls\"}}",
                       &c, &e) == -EBADMSG &&
                       has(&e, "config.Cmd"),
               "Cmd as a string names the member (%s)", e.msg);
}

static void test_appc(void) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL, *back = NULL;
        _cleanup_free_ char *json = NULL;
        struct pod_oci_config c = {};
        struct pod_error e = {};
        struct pod_oci_origin o = {
                .registry = "127.0.0.1:5000",
                .repository = "Library/My_App",
                .tag = "v1.2",
                .manifest_digest = DB,
                .config_digest = DA,
        };
        int r;

        (void)parse_c(config_json, &c, &e);
        r = pod_oci_config_to_appc(&c, &o, &m, &e);
        tap_ok(r >= 0, "config converts (%s)", e.msg);
        if (r < 0)
                return;
        tap_is_str(m->name, "127.0.0.1_5000/library/my_app", "name sanitised to an AC Identifier");
        tap_is_str(pod_kv_get(m->labels, m->n_labels, "version"), "v1.2", "version label: the tag");
        tap_is_str(pod_kv_get(m->labels, m->n_labels, "os"), "linux", "os label");
        tap_is_str(pod_kv_get(m->labels, m->n_labels, "arch"), "amd64", "arch label");
        tap_ok(m->app && m->app->exec && streq(m->app->exec[0], "/bin/sh") &&
                       streq(m->app->exec[1], "-c") && streq(m->app->exec[2], "echo hi") &&
                       !m->app->exec[3],
               "exec is Entrypoint + Cmd");
        tap_is_str(m->app->user, "nobody", "user");
        tap_is_str(m->app->group, "0", "group 0 for a user without one");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_USER), "nobody",
                   "User kept as written for stage1's primary-group rule");
        tap_is_str(pod_kv_get(m->app->environment, m->app->n_environment, "FOO"), "baz",
                   "later Env entry wins");
        tap_is_str(pod_kv_get(m->app->environment, m->app->n_environment, "PATH"), "/usr/bin:/bin",
                   "PATH kept");
        tap_is_int(m->app->n_environment, 2, "invalid names and entries without '=' skipped");
        tap_is_str(m->app->working_directory, "/srv", "working directory");
        tap_is_int(m->app->n_ports, 2, "two ports");
        tap_ok(streq(m->app->ports[0].name, "80-tcp") && m->app->ports[0].port == 80 &&
                       streq(m->app->ports[0].protocol, "tcp"),
               "port 80-tcp");
        tap_ok(streq(m->app->ports[1].name, "53-udp") && streq(m->app->ports[1].protocol, "udp"),
               "port 53-udp");
        tap_is_int(m->app->n_mount_points, 2, "two mount points");
        tap_is_str(m->app->mount_points[0].name, "volume-var-lib-my-data", "volume name sanitised");
        tap_is_str(m->app->mount_points[0].path, "/var/lib/My_Data", "volume path kept");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, "org.example.version"), "1",
                   "label as annotation");
        tap_ok(!pod_kv_get(m->annotations, m->n_annotations, "Bad Key"),
               "invalid label key skipped");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_REGISTRY),
                   "127.0.0.1:5000", "registry annotation");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_REPOSITORY),
                   "Library/My_App", "repository annotation");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_IMAGEID), DA,
                   "config digest annotation");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_MANIFEST), DB,
                   "registry digest annotation");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_ENTRYPOINT),
                   "[\"/bin/sh\",\"-c\"]", "entrypoint annotation is JSON");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_CMD), "[\"echo hi\"]",
                   "cmd annotation is JSON");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_STOPSIGNAL), "SIGQUIT",
                   "stop signal annotation");

        tap_ok(pod_image_manifest_to_json(m, &json) >= 0, "serialises");
        pod_error_clear(&e);
        tap_ok(json && pod_image_manifest_parse(json, strlen(json), &back, &e) >= 0,
               "passes manifest.c's validation (%s)", e.msg);
        pod_oci_config_done(&c);
}

static int convert(const char *cfg, const struct pod_oci_origin *o, struct pod_image_manifest **ret,
                   struct pod_error *e) {
        struct pod_oci_config c = {};
        int r;

        r = parse_c(cfg, &c, e);
        if (r >= 0)
                r = pod_oci_config_to_appc(&c, o, ret, e);
        pod_oci_config_done(&c);
        return r;
}

#define CFG(x)                                                                                 \
        "{\"os\":\"linux\",\"architecture\":\"arm64\",\"rootfs\":{\"type\":\"layers\",\"diff_" \
        "ids\":[]},\"config\":{" x "}}"

static void test_appc_users_and_errors(void) {
        struct pod_image_manifest *m = NULL;
        struct pod_error e = {};
        int r;

        r = convert(CFG("\"Cmd\":[\"ls\"],\"User\":\"1000:1001\""), NULL, &m, &e);
        tap_ok(r >= 0 && streq(m->app->user, "1000") && streq(m->app->group, "1001") &&
                       !pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_USER),
               "uid:gid as given, no annotation");
        tap_ok(r >= 0 && string_has_prefix(m->name, "localhost/"), "no origin: localhost/ name");
        tap_is_str(r >= 0 ? pod_kv_get(m->labels, m->n_labels, "arch") : NULL, "aarch64",
                   "arm64 is appc's aarch64");
        m = pod_image_manifest_free(m);
        r = convert(CFG("\"Cmd\":[\"ls\"]"), NULL, &m, &e);
        tap_ok(r >= 0 && streq(m->app->user, "0") && streq(m->app->group, "0") &&
                       !pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_USER),
               "no User: 0/0");
        m = pod_image_manifest_free(m);
        r = convert(CFG("\"Cmd\":[\"ls\"],\"User\":\"1000\""), NULL, &m, &e);
        tap_ok(r >= 0 && streq(m->app->user, "1000") && streq(m->app->group, "0") &&
                       streq(pod_kv_get(m->annotations, m->n_annotations, POD_OCI_ANN_USER),
                             "1000"),
               "uid alone: group 0 plus the annotation");
        m = pod_image_manifest_free(m);
        r = convert(CFG("\"Cmd\":[\"ls\"],\"User\":\"www:staff\""), NULL, &m, &e);
        tap_ok(r >= 0 && streq(m->app->user, "www") && streq(m->app->group, "staff"), "name:group");
        m = pod_image_manifest_free(m);

        r = convert(CFG("\"Env\":[\"A=b\"]"), NULL, &m, &e);
        tap_ok(r == -EINVAL && has(&e, "Entrypoint or Cmd"), "nothing to run (%s)", e.msg);
        r = convert(CFG("\"Entrypoint\":[\"/x\"],\"Cmd\":[\"\"]"), NULL, &m, &e);
        tap_ok(r == -EINVAL && has(&e, "empty argument"), "an empty argument (%s)", e.msg);
        r = convert(CFG("\"Cmd\":[\"ls\"],\"WorkingDir\":\"srv\""), NULL, &m, &e);
        tap_ok(r == -EINVAL && has(&e, "WorkingDir"), "relative WorkingDir (%s)", e.msg);
        r = convert(CFG("\"Cmd\":[\"ls\"],\"ExposedPorts\":{\"http/tcp\":{}}"), NULL, &m, &e);
        tap_ok(r == -EINVAL && has(&e, "ExposedPorts"), "invalid port (%s)", e.msg);
        r = convert(CFG("\"Cmd\":[\"ls\"],\"ExposedPorts\":{\"70000/tcp\":{}}"), NULL, &m, &e);
        tap_is_int(r, -EINVAL, "port out of range");
        r = convert(CFG("\"Cmd\":[\"ls\"],\"Volumes\":{\"data\":{}}"), NULL, &m, &e);
        tap_ok(r == -EINVAL && has(&e, "Volumes"), "relative volume (%s)", e.msg);
        r = convert(CFG("\"Cmd\":[\"ls\"],\"ExposedPorts\":{\"8080\":{}},"
                        "\"Volumes\":{\"/a_b\":{},\"/a-b\":{}}"),
                    NULL, &m, &e);
        tap_ok(r >= 0 && streq(m->app->ports[0].name, "8080-tcp") &&
                       streq(m->app->mount_points[0].name, "volume-a-b") &&
                       streq(m->app->mount_points[1].name, "volume-a-b-2"),
               "port without protocol is tcp, volume names made unique");
        m = pod_image_manifest_free(m);
}

int main(void) {
        test_digest();
        test_classify();
        test_manifest();
        test_platform();
        test_index();
        test_config();
        test_appc();
        test_appc_users_and_errors();
        return tap_done();
}
