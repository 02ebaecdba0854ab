/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "isolator.h"
#include "macro.h"
#include "manifest.h"
#include "tap.h"

/* spec section 3, verbatim */
static const char spec_image[] =
        "{\n"
        "  \"acKind\": \"ImageManifest\",\n"
        "  \"acVersion\": \"0.8.11\",\n"
        "  \"name\": \"example.org/webshop\",\n"
        "  \"labels\": [\n"
        "    {\"name\": \"version\", \"value\": \"2.1.0\"},\n"
        "    {\"name\": \"os\", \"value\": \"linux\"},\n"
        "    {\"name\": \"arch\", \"value\": \"amd64\"}\n"
        "  ],\n"
        "  \"app\": {\n"
        "    \"exec\": [\"/usr/bin/webshop\", \"--listen=:8080\"],\n"
        "    \"user\": \"www\",\n"
        "    \"group\": \"www\",\n"
        "    \"supplementaryGIDs\": [44],\n"
        "    \"workingDirectory\": \"/srv/webshop\",\n"
        "    \"environment\": [{\"name\": \"SHOP_MODE\", \"value\": \"prod\"}],\n"
        "    \"eventHandlers\": [\n"
        "      {\"name\": \"pre-start\", \"exec\": [\"/usr/bin/webshop-migrate\"]},\n"
        "      {\"name\": \"post-stop\", \"exec\": [\"/usr/bin/webshop-cleanup\"]}\n"
        "    ],\n"
        "    \"mountPoints\": [{\"name\": \"data\", \"path\": \"/srv/webshop/data\", "
        "\"readOnly\": false}],\n"
        "    \"ports\": [{\"name\": \"http\", \"protocol\": \"tcp\", \"port\": 8080, \"count\": "
        "1,\n"
        "               \"socketActivated\": false}],\n"
        "    \"isolators\": [\n"
        "      {\"name\": \"resource/memory\", \"value\": {\"limit\": \"256Mi\"}},\n"
        "      {\"name\": \"os/linux/capabilities-remove-set\", \"value\": {\"set\": "
        "[\"CAP_NET_RAW\"]}}\n"
        "    ]\n"
        "  },\n"
        "  \"dependencies\": [\n"
        "    {\"imageName\": \"example.org/base-glibc\", \"labels\": [{\"name\": \"version\", "
        "\"value\": \"1\"}]}\n"
        "  ],\n"
        "  \"annotations\": [{\"name\": \"created\", \"value\": \"2024-05-01T10:00:00Z\"}]\n"
        "}\n";

static int parse_image(const char *json, struct pod_image_manifest **ret, struct pod_error *e) {
        pod_error_clear(e);
        return pod_image_manifest_parse(json, strlen(json), ret, e);
}

/* A minimal valid image manifest with the text `extra` spliced in at the top level. */
#define IMG(extra)                                                                                \
        "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/a\"" extra \
        "}"
#define APP(extra) IMG(",\"app\":{\"user\":\"0\",\"group\":\"0\"" extra "}")

static void expect_image_error(const char *json, int err, const char *msg) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        struct pod_error e = {};
        int r;

        r = parse_image(json, &m, &e);
        tap_is_int(r, err, msg);
        tap_is_str(e.msg, msg, "  message");
        tap_ok(!m, "  no manifest returned");
}

static void test_spec_example(void) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        const struct pod_isolator *iso;
        struct pod_error e = {};
        int r;

        r = parse_image(spec_image, &m, &e);
        tap_is_int(r, 0, "spec image manifest parses");
        if (r < 0) {
                printf("# %s\n", e.msg);
                return;
        }
        tap_is_str(m->ac_version, "0.8.11", "acVersion");
        tap_is_str(m->name, "example.org/webshop", "name");
        tap_is_int(m->n_labels, 3, "3 labels");
        tap_is_str(pod_kv_get(m->labels, m->n_labels, "arch"), "amd64", "arch label");
        tap_ok(!pod_kv_get(m->labels, m->n_labels, "nope"), "missing label is NULL");
        tap_ok(m->app != NULL, "app present");
        tap_is_str(m->app->exec[0], "/usr/bin/webshop", "exec[0]");
        tap_is_str(m->app->exec[1], "--listen=:8080", "exec[1]");
        tap_ok(m->app->exec[2] == NULL, "exec NULL-terminated");
        tap_is_str(m->app->user, "www", "user");
        tap_is_str(m->app->group, "www", "group");
        tap_is_int(m->app->n_supplementary_gids, 1, "one supplementary gid");
        tap_is_int(m->app->supplementary_gids[0], 44, "gid 44");
        tap_is_str(m->app->working_directory, "/srv/webshop", "workingDirectory");
        tap_is_str(pod_kv_get(m->app->environment, m->app->n_environment, "SHOP_MODE"), "prod",
                   "environment");
        tap_is_str(m->app->pre_start[0], "/usr/bin/webshop-migrate", "pre-start");
        tap_is_str(m->app->post_stop[0], "/usr/bin/webshop-cleanup", "post-stop");
        tap_is_int(m->app->n_mount_points, 1, "one mount point");
        tap_is_str(m->app->mount_points[0].path, "/srv/webshop/data", "mount point path");
        tap_ok(!m->app->mount_points[0].read_only, "mount point read-write");
        tap_is_int(m->app->n_ports, 1, "one port");
        tap_is_int(m->app->ports[0].port, 8080, "port 8080");
        tap_is_int(m->app->ports[0].count, 1, "count 1");
        tap_is_str(m->app->ports[0].protocol, "tcp", "protocol");
        tap_is_int(m->app->n_isolators, 2, "two isolators");
        iso = pod_isolators_find(m->app->isolators, m->app->n_isolators, POD_ISOLATOR_MEMORY);
        tap_ok(iso && iso->resource.limit == 256u << 20, "memory limit 256Mi in bytes");
        tap_ok(iso && iso->resource.request == 256u << 20, "memory request defaults to limit");
        iso = pod_isolators_find(m->app->isolators, m->app->n_isolators, POD_ISOLATOR_CAPS_REMOVE);
        tap_ok(iso && iso->caps.mask == (UINT64_C(1) << 13), "CAP_NET_RAW in remove mask");
        tap_is_int(m->n_dependencies, 1, "one dependency");
        tap_is_str(m->dependencies[0].image_name, "example.org/base-glibc", "dependency name");
        tap_ok(!m->dependencies[0].image_id, "dependency without id");
        tap_is_str(pod_kv_get(m->dependencies[0].labels, m->dependencies[0].n_labels, "version"),
                   "1", "dependency label");
        tap_is_str(pod_kv_get(m->annotations, m->n_annotations, "created"), "2024-05-01T10:00:00Z",
                   "annotation");
        tap_ok(!m->path_whitelist, "no path whitelist");
}

static void test_image_roundtrip(const char *json, const char *what) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL, *m2 = NULL;
        _cleanup_free_ char *s1 = NULL, *s2 = NULL;
        struct pod_error e = {};
        int r;

        printf("# round trip: %s\n", what);
        r = parse_image(json, &m, &e);
        tap_is_int(r, 0, "round trip: parses");
        if (r < 0) {
                printf("# %s\n", e.msg);
                return;
        }
        r = pod_image_manifest_to_json(m, &s1);
        tap_is_int(r, 0, "round trip: serialises");
        r = parse_image(s1, &m2, &e);
        tap_is_int(r, 0, "round trip: serialised form parses");
        if (r < 0) {
                printf("# %s\n%s\n", e.msg, s1);
                return;
        }
        r = pod_image_manifest_to_json(m2, &s2);
        tap_is_int(r, 0, "round trip: serialises again");
        tap_is_str(s2, s1, "round trip is stable");
        tap_is_int(pod_image_manifest_validate(m2, &e), 0, "round trip: validates");
}

static void test_case_insensitive(void) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        struct pod_error e = {};
        int r;

        r = parse_image(
                "{\"ACKIND\":\"ImageManifest\",\"acversion\":\"0.8.11\",\"Name\":\"x.com/y\","
                "\"APP\":{\"Exec\":[\"/bin/sh\"],\"USER\":\"1\",\"group\":\"2\","
                "\"supplementaryGids\":[1,2],\"WorkingDirectory\":\"/w\"},"
                "\"somethingNew\":{\"x\":[1,2,3]},\"Labels\":null}",
                &m, &e);
        tap_is_int(r, 0, "keys match case-insensitively, unknown keys ignored");
        if (r < 0) {
                printf("# %s\n", e.msg);
                return;
        }
        tap_is_str(m->name, "x.com/y", "Name read");
        tap_is_str(m->app->user, "1", "USER read");
        tap_is_int(m->app->n_supplementary_gids, 2, "supplementaryGids spelling read");
        tap_is_str(m->app->working_directory, "/w", "WorkingDirectory read");
        tap_is_int(m->n_labels, 0, "null labels = absent");

        m = pod_image_manifest_free(m);
        r = parse_image(
                "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"a.com/a\","
                "\"NAME\":\"b.com/b\"}",
                &m, &e);
        tap_is_int(r, 0, "duplicate key differing in case parses");
        tap_is_str(m ? m->name : NULL, "b.com/b", "last matching key wins (Go semantics)");

        m = pod_image_manifest_free(m);
        r = parse_image(
                "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"a.com/a\","
                "\"Name\":null}",
                &m, &e);
        tap_is_int(r, 0, "a later null does not erase an earlier value");
        tap_is_str(m ? m->name : NULL, "a.com/a", "  earlier value kept (Go semantics)");
}

static void test_image_rejections(void) {
        expect_image_error("{\"acKind\":\"ImageManifest\",", -EBADMSG,
                           "manifest: JSON syntax error at byte 26 (line 1, column 27): "
                           "unexpected end of input");
        expect_image_error("{\n  \"acKind\": \"ImageManifest\",\n  \"name\": x\n}", -EBADMSG,
                           "manifest: JSON syntax error at byte 41 (line 3, column 11): "
                           "unexpected character");
        expect_image_error("{\"a\":1} x", -EBADMSG,
                           "manifest: JSON syntax error at byte 8 (line 1, column 9): "
                           "unexpected data after the JSON value");
        expect_image_error("[1]", -EINVAL, "manifest: must be an object, not an array");
        expect_image_error("{\"acVersion\":\"0.8.11\",\"name\":\"a.com/b\"}", -EINVAL,
                           "manifest: acKind: is required");
        expect_image_error("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"name\":\"a\"}",
                           -EINVAL, "manifest: acKind: 'PodManifest' is not 'ImageManifest'");
        expect_image_error("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8\",\"name\":\"a\"}",
                           -EINVAL, "manifest: acVersion: '0.8' is not a semantic version");
        expect_image_error(
                "{\"acKind\":\"ImageManifest\",\"acVersion\":\"01.8.11\",\"name\":\"a\"}", -EINVAL,
                "manifest: acVersion: '01.8.11' is not a semantic version");
        expect_image_error("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\"}", -EINVAL,
                           "manifest: name: is required");
        expect_image_error("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":"
                           "\"Example.com/A\"}",
                           -EINVAL, "manifest: name: 'Example.com/A' is not a valid AC Identifier");
        expect_image_error(
                "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"../x\"}",
                -EINVAL, "manifest: name: '../x' is not a valid AC Identifier");
        expect_image_error("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":7}",
                           -EINVAL, "manifest: name: must be a string, not an integer");
        expect_image_error(
                "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"a\\u0000b\"}",
                -EINVAL, "manifest: name: must not contain NUL characters");

        /* labels */
        expect_image_error(IMG(",\"labels\":[{\"name\":\"os\",\"value\":\"linux\"},"
                               "{\"name\":\"os\",\"value\":\"linux\"}]"),
                           -EINVAL, "manifest: labels[1].name: duplicate label 'os'");
        expect_image_error(IMG(",\"labels\":[{\"name\":\"name\",\"value\":\"x\"}]"), -EINVAL,
                           "manifest: labels[0].name: 'name' is not allowed as a label");
        expect_image_error(IMG(",\"labels\":[{\"name\":\"Bad\",\"value\":\"x\"}]"), -EINVAL,
                           "manifest: labels[0].name: 'Bad' is not a valid AC Identifier");
        expect_image_error(IMG(",\"labels\":[{\"name\":\"os\",\"value\":\"linux\"},"
                               "{\"name\":\"arch\",\"value\":\"x86_64\"}]"),
                           -EINVAL,
                           "manifest: labels: os/arch 'linux/x86_64' is not a supported "
                           "combination");
        expect_image_error(IMG(",\"labels\":[{\"name\":\"os\",\"value\":\"plan9\"},"
                               "{\"name\":\"arch\",\"value\":\"amd64\"}]"),
                           -EINVAL,
                           "manifest: labels: os/arch 'plan9/amd64' is not a supported "
                           "combination");
        expect_image_error(IMG(",\"labels\":{}"), -EINVAL,
                           "manifest: labels: must be an array, not an object");
        expect_image_error(IMG(",\"labels\":[null]"), -EINVAL,
                           "manifest: labels[0]: must be an object, not null");

        /* app */
        expect_image_error(IMG(",\"app\":{\"group\":\"0\"}"), -EINVAL,
                           "manifest: app.user: is required");
        expect_image_error(IMG(",\"app\":{\"user\":\"0\"}"), -EINVAL,
                           "manifest: app.group: is required");
        expect_image_error(IMG(",\"app\":{\"user\":\"\",\"group\":\"0\"}"), -EINVAL,
                           "manifest: app.user: must not be empty");
        expect_image_error(APP(",\"exec\":[\"/bin/sh\",\"\"]"), -EINVAL,
                           "manifest: app.exec[1]: must not be empty");
        expect_image_error(APP(",\"exec\":[\"/bin/sh\",3]"), -EINVAL,
                           "manifest: app.exec[1]: must be a string, not an integer");
        expect_image_error(APP(",\"exec\":\"/bin/sh\""), -EINVAL,
                           "manifest: app.exec: must be an array of strings, not a string");
        expect_image_error(APP(",\"workingDirectory\":\"srv\""), -EINVAL,
                           "manifest: app.workingDirectory: 'srv' is not an absolute path");
        expect_image_error(APP(",\"supplementaryGIDs\":[1,-1]"), -EINVAL,
                           "manifest: app.supplementaryGIDs[1]: -1 is out of range 0..4294967294");
        expect_image_error(APP(",\"environment\":[{\"name\":\"A\",\"value\":\"1\"},"
                               "{\"name\":\"A\",\"value\":\"2\"}]"),
                           -EINVAL,
                           "manifest: app.environment[1].name: duplicate environment "
                           "variable 'A'");
        expect_image_error(APP(",\"environment\":[{\"name\":\"1A\",\"value\":\"1\"}]"), -EINVAL,
                           "manifest: app.environment[0].name: '1A' is not a valid environment "
                           "variable name");
        expect_image_error(APP(",\"environment\":[{\"name\":\"A=B\",\"value\":\"1\"}]"), -EINVAL,
                           "manifest: app.environment[0].name: 'A=B' is not a valid environment "
                           "variable name");
        expect_image_error(APP(",\"eventHandlers\":[{\"name\":\"post-start\",\"exec\":[\"/x\"]}]"),
                           -EINVAL,
                           "manifest: app.eventHandlers[0].name: 'post-start' is not an event "
                           "(pre-start, post-stop)");
        expect_image_error(APP(",\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[\"/x\"]},"
                               "{\"name\":\"pre-start\",\"exec\":[\"/y\"]}]"),
                           -EINVAL,
                           "manifest: app.eventHandlers[1].name: duplicate event handler "
                           "'pre-start'");
        expect_image_error(APP(",\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[]}]"),
                           -EINVAL, "manifest: app.eventHandlers[0].exec: must not be empty");
        expect_image_error(APP(",\"mountPoints\":[{\"name\":\"Data\",\"path\":\"/d\"}]"), -EINVAL,
                           "manifest: app.mountPoints[0].name: 'Data' is not a valid AC Name");
        expect_image_error(APP(",\"mountPoints\":[{\"name\":\"data\",\"path\":\"d\"}]"), -EINVAL,
                           "manifest: app.mountPoints[0].path: 'd' is not an absolute path");
        expect_image_error(APP(",\"mountPoints\":[{\"name\":\"d\",\"path\":\"/d\","
                               "\"readOnly\":\"yes\"}]"),
                           -EINVAL,
                           "manifest: app.mountPoints[0].readOnly: must be true or false, not a "
                           "string");
        expect_image_error(APP(",\"ports\":[{\"name\":\"a\",\"protocol\":\"tcp\",\"port\":80},"
                               "{\"name\":\"b\",\"protocol\":\"tcp\",\"port\":70000}]"),
                           -EINVAL, "manifest: app.ports[1].port: 70000 is out of range 1..65535");
        expect_image_error(APP(",\"ports\":[{\"name\":\"a\",\"protocol\":\"tcp\",\"port\":0}]"),
                           -EINVAL, "manifest: app.ports[0].port: 0 is out of range 1..65535");
        expect_image_error(APP(",\"ports\":[{\"name\":\"a\",\"protocol\":\"tcp\",\"port\":80.5}]"),
                           -EINVAL,
                           "manifest: app.ports[0].port: must be an integer, not a fractional "
                           "number");
        expect_image_error(
                APP(",\"ports\":[{\"name\":\"a\",\"protocol\":\"tcp\",\"port\":80,\"count\":0}]"),
                -EINVAL, "manifest: app.ports[0].count: 0 is out of range 1..65535");
        expect_image_error(APP(",\"ports\":[{\"name\":\"a\",\"protocol\":\"tcp\",\"port\":65535,"
                               "\"count\":2}]"),
                           -EINVAL,
                           "manifest: app.ports[0].count: ports 65535..65536 go beyond 65535");
        expect_image_error(APP(",\"ports\":[{\"name\":\"a\",\"port\":80}]"), -EINVAL,
                           "manifest: app.ports[0].protocol: is required");
        expect_image_error(APP(",\"ports\":[{\"name\":\"a\",\"protocol\":\"tcp\",\"port\":"
                               "99999999999999999999}]"),
                           -EINVAL, "manifest: app.ports[0].port: number is out of range 1..65535");
        expect_image_error(APP(",\"ports\":[{\"name\":\"a\",\"protocol\":\"tcp\",\"port\":80},"
                               "{\"name\":\"a\",\"protocol\":\"udp\",\"port\":81}]"),
                           -EINVAL, "manifest: app.ports[1].name: duplicate port 'a'");
        expect_image_error(APP(",\"isolators\":[{\"name\":\"resource/memory\",\"value\":"
                               "{\"limit\":\"lots\"}}]"),
                           -EINVAL,
                           "manifest: app.isolators[0].value.limit: 'lots' is not a valid "
                           "quantity");
        expect_image_error(APP(",\"isolators\":[{\"name\":\"os/linux/capabilities-retain-set\","
                               "\"value\":{\"set\":[\"CAP_CHOWN\"]}},"
                               "{\"name\":\"os/linux/capabilities-remove-set\","
                               "\"value\":{\"set\":[\"CAP_KILL\"]}}]"),
                           -EINVAL,
                           "manifest: app.isolators[1]: os/linux/capabilities-remove-set cannot "
                           "be combined with os/linux/capabilities-retain-set (at [0])");
        expect_image_error(APP(",\"userAnnotations\":{\"a\":1}"), -EINVAL,
                           "manifest: app.userAnnotations.a: must be a string, not an integer");

        /* dependencies, pathWhitelist, annotations */
        expect_image_error(IMG(",\"dependencies\":[{\"labels\":[]}]"), -EINVAL,
                           "manifest: dependencies[0].imageName: is required");
        expect_image_error(IMG(",\"dependencies\":[{\"imageName\":\"a.com/b\",\"imageID\":"
                               "\"sha256-00\"}]"),
                           -EINVAL,
                           "manifest: dependencies[0].imageID: 'sha256-00' is not a sha512- "
                           "image ID");
        expect_image_error(IMG(",\"dependencies\":[{\"imageName\":\"a.com/b\",\"size\":-5}]"),
                           -EINVAL,
                           "manifest: dependencies[0].size: -5 is out of range "
                           "0..9223372036854775807");
        expect_image_error(IMG(",\"pathWhitelist\":[\"/bin\",\"etc\"]"), -EINVAL,
                           "manifest: pathWhitelist[1]: 'etc' is not an absolute path");
        expect_image_error(IMG(",\"annotations\":[{\"name\":\"a\",\"value\":\"1\"},"
                               "{\"name\":\"a\",\"value\":\"2\"}]"),
                           -EINVAL, "manifest: annotations[1].name: duplicate annotation 'a'");
}

static void test_image_misc(void) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        _cleanup_(pod_app_freep) struct pod_app *copy = NULL;
        struct pod_error e = {};
        int r;

        r = parse_image(IMG(""), &m, &e);
        tap_is_int(r, 0, "minimal manifest parses");
        tap_ok(m && !m->app && m->n_labels == 0, "minimal manifest has no app and no labels");
        m = pod_image_manifest_free(m);

        r = parse_image(APP(",\"workingDirectory\":\"\",\"exec\":[]"), &m, &e);
        tap_is_int(r, 0, "empty workingDirectory and exec are accepted");
        tap_ok(m && !m->app->working_directory && !m->app->exec, "... and mean absent");
        m = pod_image_manifest_free(m);

        r = parse_image(spec_image, &m, &e);
        tap_is_int(r, 0, "spec example parses again");
        r = pod_app_copy(m->app, &copy);
        tap_is_int(r, 0, "app copies");
        tap_ok(copy && streq(copy->exec[1], "--listen=:8080") && copy->n_isolators == 2 &&
                       copy->isolators[0].resource.limit == 256u << 20,
               "copy is deep and equal");

        pod_error_clear(&e);
        r = pod_image_manifest_parse(spec_image, POD_MANIFEST_MAX + 1, &m, &e);
        tap_is_int(r, -EFBIG, "oversized manifest refused");

        tap_ok(pod_semver_valid("1.0.0-alpha.1+build.5"), "semver with pre-release and build");
        tap_ok(pod_semver_valid("0.8.11"), "semver 0.8.11");
        tap_ok(!pod_semver_valid("1.0.0-01"), "numeric pre-release with leading zero refused");
        tap_ok(!pod_semver_valid("1.0.0+"), "empty build refused");
        tap_ok(!pod_semver_valid("1.0.0-a..b"), "empty pre-release identifier refused");
        tap_ok(!pod_semver_valid("1.0"), "two components refused");
        tap_ok(!pod_semver_valid("v1.0.0"), "v prefix refused");
        tap_ok(pod_os_arch_valid("linux", "aarch64"), "linux/aarch64 valid");
        tap_ok(pod_os_arch_valid("darwin", "x86_64"), "darwin/x86_64 valid");
        tap_ok(!pod_os_arch_valid("linux", "arm64"), "linux/arm64 (Go spelling) invalid");
}

/* spec section 4, verbatim (its image ID is elided with "…", so it cannot be valid) */
static const char spec_pod[] =
        "{\n"
        "  \"acKind\": \"PodManifest\",\n"
        "  \"acVersion\": \"0.8.11\",\n"
        "  \"apps\": [\n"
        "    {\n"
        "      \"name\": \"webshop\",\n"
        "      \"image\": {\"name\": \"example.org/webshop\", \"id\": \"sha512-3f9c…\",\n"
        "                \"labels\": [{\"name\": \"version\", \"value\": \"2.1.0\"}]},\n"
        "      \"app\": {\"exec\": [\"/usr/bin/webshop\"], \"user\": \"www\", \"group\": "
        "\"www\"},\n"
        "      \"readOnlyRootFS\": false,\n"
        "      \"mounts\": [{\"volume\": \"shopdata\", \"path\": \"/srv/webshop/data\"}],\n"
        "      \"annotations\": [{\"name\": \"team\", \"value\": \"payments\"}]\n"
        "    }\n"
        "  ],\n"
        "  \"volumes\": [\n"
        "    {\"name\": \"shopdata\", \"kind\": \"host\", \"source\": \"/srv/shop\", "
        "\"readOnly\": false,\n"
        "     \"recursive\": true},\n"
        "    {\"name\": \"scratch\", \"kind\": \"empty\", \"mode\": \"0700\", \"uid\": 0, \"gid\": "
        "0}\n"
        "  ],\n"
        "  \"isolators\": [],\n"
        "  \"annotations\": [],\n"
        "  \"ports\": [{\"name\": \"http\", \"hostPort\": 18080}]\n"
        "}\n";

#define ID64  "sha512-3f9c0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
#define ID128 ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The spec example with its elided ID replaced by a real one. */
static char *spec_pod_fixed(const char *id) {
        const char *at = strstr(spec_pod, "sha512-3f9c…");
        size_t pre = (size_t)(at - spec_pod), old = strlen("sha512-3f9c…");
        char *s = malloc(strlen(spec_pod) + strlen(id) + 1);

        if (!s)
                abort();
        memcpy(s, spec_pod, pre);
        strcpy(s + pre, id);
        strcat(s, at + old);
        return s;
}

static int parse_pod(const char *json, struct pod_pod_manifest **ret, struct pod_error *e) {
        pod_error_clear(e);
        return pod_pod_manifest_parse(json, strlen(json), ret, e);
}

#define POD(extra)                                                                        \
        "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[{\"name\":\"a\"," \
        "\"image\":{\"id\":\"" ID64 "\"}}]" extra "}"
#define POD_APP(app_extra, extra)                                                         \
        "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[{\"name\":\"a\"," \
        "\"image\":{\"id\":\"" ID64 "\"}" app_extra "}]" extra "}"

static void expect_pod_error(const char *json, int err, const char *msg) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        struct pod_error e = {};
        int r;

        r = parse_pod(json, &m, &e);
        tap_is_int(r, err, msg);
        tap_is_str(e.msg, msg, "  message");
        tap_ok(!m, "  no manifest returned");
}

static void test_pod_spec_example(void) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL, *m2 = NULL;
        _cleanup_free_ char *fixed = spec_pod_fixed(ID64), *fixed128 = spec_pod_fixed(ID128);
        _cleanup_free_ char *s1 = NULL, *s2 = NULL;
        struct pod_error e = {};
        int r;

        r = parse_pod(spec_pod, &m, &e);
        tap_is_int(r, -EINVAL, "verbatim spec pod manifest: elided image ID refused");
        tap_is_str(e.msg,
                   "pod manifest: apps[0].image.id: 'sha512-3f9c…' is not 'sha512-' with 64 or "
                   "128 lowercase hex digits",
                   "  message");

        r = parse_pod(fixed128, &m, &e);
        tap_is_int(r, 0, "spec pod manifest with a 128-digit ID parses");
        m = pod_pod_manifest_free(m);

        r = parse_pod(fixed, &m, &e);
        tap_is_int(r, 0, "spec pod manifest with a 64-digit ID parses");
        if (r < 0) {
                printf("# %s\n", e.msg);
                return;
        }
        tap_is_int(m->n_apps, 1, "one app");
        tap_is_str(m->apps[0].name, "webshop", "app name");
        tap_is_str(m->apps[0].image.name, "example.org/webshop", "image name");
        tap_is_str(m->apps[0].image.id, ID64, "image id");
        tap_is_str(pod_kv_get(m->apps[0].image.labels, m->apps[0].image.n_labels, "version"),
                   "2.1.0", "image label");
        tap_ok(m->apps[0].app && streq(m->apps[0].app->exec[0], "/usr/bin/webshop"),
               "app override");
        tap_ok(!m->apps[0].read_only_root_fs, "readOnlyRootFS false");
        tap_is_int(m->apps[0].n_mounts, 1, "one mount");
        tap_is_str(m->apps[0].mounts[0].volume, "shopdata", "mount volume");
        tap_is_str(m->apps[0].mounts[0].path, "/srv/webshop/data", "mount path");
        tap_ok(!m->apps[0].mounts[0].app_volume, "no appVolume");
        tap_is_str(pod_kv_get(m->apps[0].annotations, m->apps[0].n_annotations, "team"), "payments",
                   "app annotation");
        tap_is_int(m->n_volumes, 2, "two volumes");
        tap_ok(m->volumes[0].kind == POD_VOLUME_HOST && streq(m->volumes[0].source, "/srv/shop") &&
                       m->volumes[0].recursive && !m->volumes[0].read_only,
               "host volume");
        tap_ok(m->volumes[1].kind == POD_VOLUME_EMPTY && m->volumes[1].mode == 0700 &&
                       m->volumes[1].uid == 0 && m->volumes[1].gid == 0 && !m->volumes[1].source,
               "empty volume");
        tap_is_int(m->n_isolators, 0, "no isolators");
        tap_is_int(m->n_annotations, 0, "no annotations");
        tap_is_int(m->n_ports, 1, "one port");
        tap_ok(streq(m->ports[0].name, "http") && m->ports[0].host_port == 18080 &&
                       !m->ports[0].host_ip && m->ports[0].pod_port == 0,
               "port");

        r = pod_pod_manifest_to_json(m, &s1);
        tap_is_int(r, 0, "pod manifest serialises");
        r = parse_pod(s1, &m2, &e);
        tap_is_int(r, 0, "serialised pod manifest parses");
        if (r < 0) {
                printf("# %s\n%s\n", e.msg, s1);
                return;
        }
        r = pod_pod_manifest_to_json(m2, &s2);
        tap_is_int(r, 0, "serialises again");
        tap_is_str(s2, s1, "pod round trip is stable");
        tap_is_int(pod_pod_manifest_validate(m2, &e), 0, "pod manifest validates");
}

static void test_pod_defaults(void) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL, *m2 = NULL;
        _cleanup_free_ char *s = NULL;
        struct pod_error e = {};
        int r;

        r = parse_pod(POD_APP(",\"mounts\":[{\"volume\":\"v\",\"path\":\"/d\"},"
                              "{\"volume\":\"inline\",\"path\":\"/e\",\"appVolume\":"
                              "{\"name\":\"inline\",\"kind\":\"empty\"}}]",
                              ",\"volumes\":[{\"name\":\"v\",\"kind\":\"host\",\"source\":\"/x\"},"
                              "{\"name\":\"w\",\"kind\":\"empty\"}],"
                              "\"isolators\":[{\"name\":\"resource/cpu\",\"value\":{\"limit\":"
                              "\"500m\"}},{\"name\":\"os/unix/sysctl\",\"value\":"
                              "{\"net.ipv4.ip_forward\":\"1\"}}],"
                              "\"ports\":[{\"name\":\"p\",\"hostPort\":80,\"hostIP\":\"::1\","
                              "\"podPort\":8080}],"
                              "\"userAnnotations\":{\"k\":\"v\"},\"userLabels\":{\"l\":\"w\"}"),
                      &m, &e);
        tap_is_int(r, 0, "pod manifest with defaults parses");
        if (r < 0) {
                printf("# %s\n", e.msg);
                return;
        }
        tap_ok(m->volumes[0].recursive && !m->volumes[0].read_only, "host: recursive by default");
        tap_ok(m->volumes[1].mode == 0755 && m->volumes[1].uid == 0 && m->volumes[1].gid == 0,
               "empty: 0755, uid/gid 0 by default");
        tap_ok(m->apps[0].mounts[1].app_volume &&
                       m->apps[0].mounts[1].app_volume->kind == POD_VOLUME_EMPTY,
               "appVolume parsed");
        tap_ok(!m->apps[0].app, "no app override");
        tap_ok(m->n_isolators == 2 && m->isolators[0].resource.limit == 500 &&
                       m->isolators[1].sysctl.n_entries == 1,
               "pod isolators");
        tap_ok(streq(m->ports[0].host_ip, "::1") && m->ports[0].pod_port == 8080, "port hostIP");
        tap_is_str(pod_kv_get(m->user_labels, m->n_user_labels, "l"), "w", "userLabels");

        r = pod_pod_manifest_to_json(m, &s);
        tap_is_int(r, 0, "serialises");
        r = parse_pod(s, &m2, &e);
        tap_is_int(r, 0, "and parses back");
        tap_ok(m2 && m2->volumes[1].mode == 0755 && m2->volumes[0].recursive &&
                       m2->n_user_annotations == 1 && m2->apps[0].mounts[1].app_volume,
               "defaults survive the round trip");
        if (m2) {
                _cleanup_free_ char *s2 = NULL;

                tap_is_int(pod_pod_manifest_to_json(m2, &s2), 0, "serialises again");
                tap_is_str(s2, s, "pod round trip with every field is stable");
        }

        m2 = pod_pod_manifest_free(m2);
        free(s);
        s = NULL;
        /* "suid" is pod's own volume key: read, written back only when true. */
        r = parse_pod("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],"
                      "\"volumes\":[{\"name\":\"s\",\"kind\":\"host\",\"source\":\"/x\","
                      "\"suid\":true},{\"name\":\"n\",\"kind\":\"host\",\"source\":\"/y\"}]}",
                      &m2, &e);
        tap_is_int(r, 0, "host volume with \"suid\" parses");
        tap_ok(m2 && m2->volumes[0].suid && !m2->volumes[1].suid, "  suid read, false by default");
        tap_ok(m2 && pod_pod_manifest_to_json(m2, &s) == 0 && strstr(s, "\"suid\"") &&
                       strstr(s, "\"suid\"") < strstr(s, "\"/y\"") &&
                       !strstr(strstr(s, "\"suid\"") + 1, "\"suid\""),
               "  written back for that volume only");
        m2 = pod_pod_manifest_free(m2);
        tap_is_int(parse_pod("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],"
                             "\"volumes\":[{\"name\":\"e\",\"kind\":\"empty\",\"suid\":true}]}",
                             &m2, &e),
                   -EINVAL, "\"suid\" on an empty volume is refused");
        /* "idmap" likewise (pod-run(1) --volume ...,idmap=true). */
        r = parse_pod("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],"
                      "\"volumes\":[{\"name\":\"n\",\"kind\":\"host\",\"source\":\"/y\"},"
                      "{\"name\":\"i\",\"kind\":\"host\",\"source\":\"/x\",\"idmap\":true}]}",
                      &m2, &e);
        tap_is_int(r, 0, "host volume with \"idmap\" parses");
        tap_ok(m2 && m2->volumes[1].idmap && !m2->volumes[0].idmap,
               "  idmap read, false by default");
        tap_ok(m2 && pod_pod_manifest_idmap_volume(m2) == &m2->volumes[1],
               "  pod_pod_manifest_idmap_volume() finds it");
        free(s);
        s = NULL;
        tap_ok(m2 && pod_pod_manifest_to_json(m2, &s) == 0 && strstr(s, "\"idmap\"") &&
                       strstr(s, "\"idmap\"") > strstr(s, "\"/x\"") &&
                       !strstr(strstr(s, "\"idmap\"") + 1, "\"idmap\""),
               "  written back for that volume only");
        m2 = pod_pod_manifest_free(m2);
        r = parse_pod("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],"
                      "\"volumes\":[{\"name\":\"n\",\"kind\":\"host\",\"source\":\"/y\"}]}",
                      &m2, &e);
        tap_ok(r == 0 && m2 && !pod_pod_manifest_idmap_volume(m2), "  none: NULL");
        m2 = pod_pod_manifest_free(m2);
        tap_is_int(parse_pod("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],"
                             "\"volumes\":[{\"name\":\"e\",\"kind\":\"empty\",\"idmap\":true}]}",
                             &m2, &e),
                   -EINVAL, "\"idmap\" on an empty volume is refused");
        tap_is_int(parse_pod("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[],"
                             "\"volumes\":[{\"name\":\"h\",\"kind\":\"host\",\"source\":\"/x\","
                             "\"idmap\":\"yes\"}]}",
                             &m2, &e),
                   -EINVAL, "\"idmap\" must be a boolean");
        r = parse_pod("{\"ACKIND\":\"PodManifest\",\"ACVERSION\":\"0.8.11\",\"Apps\":[{\"NAME\":"
                      "\"a\",\"Image\":{\"ID\":\"" ID64 "\"},\"ReadOnlyRootFs\":true,\"App\":"
                      "{\"User\":\"0\",\"Group\":\"0\",\"SupplementaryGids\":[5]}}],"
                      "\"Volumes\":[{\"Name\":\"v\",\"Kind\":\"empty\",\"Mode\":\"700\"}]}",
                      &m2, &e);
        tap_is_int(r, 0, "pod manifest keys match case-insensitively");
        tap_ok(m2 && m2->apps[0].read_only_root_fs && m2->apps[0].app->supplementary_gids[0] == 5 &&
                       m2->volumes[0].mode == 0700,
               "  values read");

        /* rkt writes "apps": [] for nothing; an absent list is an error. */
        m2 = pod_pod_manifest_free(m2);
        r = parse_pod("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[]}", &m2, &e);
        tap_is_int(r, 0, "empty apps list parses");
}

static void test_pod_rejections(void) {
        expect_pod_error("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\"}", -EINVAL,
                         "pod manifest: apps: is required");
        expect_pod_error("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"apps\":[]}",
                         -EINVAL, "pod manifest: acKind: 'ImageManifest' is not 'PodManifest'");
        expect_pod_error("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":"
                         "[{\"name\":\"a\"}]}",
                         -EINVAL, "pod manifest: apps[0].image: is required");
        expect_pod_error("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":"
                         "[{\"name\":\"a\",\"image\":{\"name\":\"x.com/y\"}}]}",
                         -EINVAL, "pod manifest: apps[0].image.id: is required");
        expect_pod_error("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":"
                         "[{\"name\":\"a\",\"image\":{\"id\":\"sha512-abc\"}}]}",
                         -EINVAL,
                         "pod manifest: apps[0].image.id: 'sha512-abc' is not 'sha512-' with 64 "
                         "or 128 lowercase hex digits");
        expect_pod_error("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":"
                         "[{\"name\":\"A_1\",\"image\":{\"id\":\"" ID64 "\"}}]}",
                         -EINVAL, "pod manifest: apps[0].name: 'A_1' is not a valid AC Name");
        expect_pod_error("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":"
                         "[{\"name\":\"a\",\"image\":{\"id\":\"" ID64 "\"}},"
                         "{\"name\":\"a\",\"image\":{\"id\":\"" ID64 "\"}}]}",
                         -EINVAL, "pod manifest: apps[1].name: duplicate app 'a'");
        expect_pod_error(POD_APP(",\"app\":{\"user\":\"0\",\"group\":\"0\",\"ports\":[{\"name\":"
                                 "\"x\",\"protocol\":\"tcp\",\"port\":70000}]}",
                                 ""),
                         -EINVAL,
                         "pod manifest: apps[0].app.ports[0].port: 70000 is out of range "
                         "1..65535");
        expect_pod_error(POD_APP(",\"mounts\":[{\"volume\":\"nope\",\"path\":\"/d\"}]", ""),
                         -EINVAL,
                         "pod manifest: apps[0].mounts[0].volume: no volume named 'nope' "
                         "in the pod");
        expect_pod_error(POD_APP(",\"mounts\":[{\"volume\":\"v\",\"path\":\"\"}]",
                                 ",\"volumes\":[{\"name\":\"v\",\"kind\":\"empty\"}]"),
                         -EINVAL, "pod manifest: apps[0].mounts[0].path: must not be empty");
        expect_pod_error(POD(",\"volumes\":[{\"name\":\"v\",\"kind\":\"host\"}]"), -EINVAL,
                         "pod manifest: volumes[0].source: is required");
        expect_pod_error(POD(",\"volumes\":[{\"name\":\"v\",\"kind\":\"host\",\"source\":\"x\"}]"),
                         -EINVAL, "pod manifest: volumes[0].source: 'x' is not an absolute path");
        expect_pod_error(POD(",\"volumes\":[{\"name\":\"v\",\"kind\":\"host\",\"source\":\"/x\","
                             "\"mode\":\"0755\"}]"),
                         -EINVAL, "pod manifest: volumes[0].mode: only applies to empty volumes");
        expect_pod_error(
                POD(",\"volumes\":[{\"name\":\"v\",\"kind\":\"empty\",\"source\":\"/x\"}]"),
                -EINVAL, "pod manifest: volumes[0].source: only applies to host volumes");
        expect_pod_error(POD(",\"volumes\":[{\"name\":\"v\",\"kind\":\"tmpfs\"}]"), -EINVAL,
                         "pod manifest: volumes[0].kind: 'tmpfs' is not a volume kind (host, "
                         "empty)");
        expect_pod_error(
                POD(",\"volumes\":[{\"name\":\"v\",\"kind\":\"empty\",\"mode\":\"0799\"}]"),
                -EINVAL, "pod manifest: volumes[0].mode: '0799' is not an octal file mode");
        expect_pod_error(
                POD(",\"volumes\":[{\"name\":\"v\",\"kind\":\"empty\",\"mode\":\"077777\"}]"),
                -EINVAL, "pod manifest: volumes[0].mode: '077777' is not an octal file mode");
        expect_pod_error(POD(",\"volumes\":[{\"name\":\"v\",\"kind\":\"empty\",\"uid\":-1}]"),
                         -EINVAL, "pod manifest: volumes[0].uid: -1 is out of range 0..4294967294");
        expect_pod_error(POD(",\"volumes\":[{\"name\":\"v\",\"kind\":\"empty\"},"
                             "{\"name\":\"v\",\"kind\":\"empty\"}]"),
                         -EINVAL, "pod manifest: volumes[1].name: duplicate volume 'v'");
        expect_pod_error(POD(",\"ports\":[{\"name\":\"p\",\"hostPort\":0}]"), -EINVAL,
                         "pod manifest: ports[0].hostPort: 0 is out of range 1..65535");
        expect_pod_error(POD(",\"ports\":[{\"name\":\"p\"}]"), -EINVAL,
                         "pod manifest: ports[0].hostPort: is required");
        expect_pod_error(
                POD(",\"ports\":[{\"name\":\"p\",\"hostPort\":1,\"hostIP\":\"localhost\"}]"),
                -EINVAL, "pod manifest: ports[0].hostIP: 'localhost' is not an IP address");
        expect_pod_error(POD(",\"ports\":[{\"name\":\"p\",\"hostPort\":1},{\"name\":\"q\","
                             "\"hostPort\":1}]"),
                         -EINVAL,
                         "pod manifest: ports[1].hostPort: host port 1 is already forwarded "
                         "(ports[0])");
        expect_pod_error(POD(",\"ports\":[{\"name\":\"p\",\"hostPort\":1,\"hostIP\":"
                             "\"::1\"},{\"name\":\"p\",\"hostPort\":1,\"hostIP\":\"0::1\"}]"),
                         -EINVAL,
                         "pod manifest: ports[1].hostPort: host port 0::1:1 is already forwarded "
                         "(ports[0])");
        expect_pod_error(POD(",\"ports\":[{\"name\":\"p\",\"hostPort\":8,\"hostIP\":"
                             "\"10.0.0.1\"},{\"name\":\"q\",\"hostPort\":8}]"),
                         -EINVAL,
                         "pod manifest: ports[1].hostPort: host port 8 is already forwarded "
                         "(ports[0])");
        expect_pod_error(POD(",\"ports\":[{\"name\":\"P\",\"hostPort\":1}]"), -EINVAL,
                         "pod manifest: ports[0].name: 'P' is not a valid AC Name");
        expect_pod_error(POD(",\"ports\":[{\"hostPort\":1}]"), -EINVAL,
                         "pod manifest: ports[0].name: is required");
        expect_pod_error(POD(",\"ports\":[{\"name\":\"p\",\"hostPort\":\"80\"}]"), -EINVAL,
                         "pod manifest: ports[0].hostPort: must be an integer, not a string");
        expect_pod_error(POD(",\"ports\":[{\"name\":\"p\",\"hostPort\":65536}]"), -EINVAL,
                         "pod manifest: ports[0].hostPort: 65536 is out of range 1..65535");
        expect_pod_error(POD(",\"ports\":{\"name\":\"p\"}"), -EINVAL,
                         "pod manifest: ports: must be an array, not an object");
        expect_pod_error(POD(",\"isolators\":[{\"name\":\"os/linux/no-new-privileges\","
                             "\"value\":true}]"),
                         -EINVAL,
                         "pod manifest: isolators[0]: os/linux/no-new-privileges can only be set "
                         "on an app, not on the pod");
        expect_pod_error(POD(",\"isolators\":[{\"name\":\"os/unix/sysctl\",\"value\":"
                             "{\"kernel.panic\":\"1\"}}]"),
                         -EINVAL,
                         "pod manifest: isolators[0].value.kernel.panic: only net.* sysctls may "
                         "be set");
        expect_pod_error(POD(",\"annotations\":[{\"name\":\"x\",\"value\":\"1\"},"
                             "{\"name\":\"x\",\"value\":\"1\"}]"),
                         -EINVAL, "pod manifest: annotations[1].name: duplicate annotation 'x'");
        expect_pod_error("{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":[}",
                         -EBADMSG,
                         "pod manifest: JSON syntax error at byte 53 (line 1, column 54): "
                         "unexpected character");
}

/* rkt's --port entries: one app port from several host ports, a host port once per IP. */
static void test_pod_ports(void) {
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL, *m2 = NULL;
        _cleanup_free_ char *s = NULL;
        struct pod_error e = {};
        int r;

        r = parse_pod(POD(",\"ports\":[{\"name\":\"http\",\"hostPort\":8080},"
                          "{\"name\":\"http\",\"hostPort\":8081,\"hostIP\":\"127.0.0.1\"},"
                          "{\"name\":\"dns\",\"hostPort\":53,\"hostIP\":\"10.0.0.1\"},"
                          "{\"name\":\"dns\",\"hostPort\":53,\"hostIP\":\"10.0.0.2\"},"
                          "{\"name\":\"dns\",\"hostPort\":53,\"hostIP\":\"fe80::1\"}]"),
                      &m, &e);
        tap_is_int(r, 0, "ports: one app port twice, one host port on several IPs");
        if (r < 0) {
                printf("# %s\n", e.msg);
                return;
        }
        tap_is_int(m->n_ports, 5, "five ports");
        tap_ok(streq(m->ports[1].name, "http") && m->ports[1].host_port == 8081 &&
                       streq(m->ports[1].host_ip, "127.0.0.1"),
               "ports[1]");
        tap_ok(streq(m->ports[4].host_ip, "fe80::1") && m->ports[4].host_port == 53, "ports[4]");
        r = pod_pod_manifest_to_json(m, &s);
        tap_is_int(r, 0, "serialises");
        tap_ok(s && strstr(s, "\"hostIP\": \"127.0.0.1\"") && strstr(s, "\"hostPort\": 8081"),
               "hostPort and hostIP written");
        r = s ? parse_pod(s, &m2, &e) : -EINVAL;
        tap_is_int(r, 0, "and parse back");
        tap_ok(m2 && m2->n_ports == 5 && !m2->ports[0].host_ip && m2->ports[0].host_port == 8080 &&
                       streq(m2->ports[3].host_ip, "10.0.0.2"),
               "ports survive the round trip");
}

int main(void) {
        test_spec_example();
        test_image_roundtrip(spec_image, "spec image manifest");
        test_image_roundtrip(
                APP(",\"isolators\":[{\"name\":\"example.com/custom\",\"value\":"
                    "{\"x\":[1,{\"y\":null}]}},{\"name\":\"os/linux/no-new-privileges\","
                    "\"value\":true}],\"userLabels\":{\"a\":\"b\"}"),
                "unknown isolator");
        test_case_insensitive();
        test_image_rejections();
        test_image_misc();
        test_pod_spec_example();
        test_pod_defaults();
        test_pod_ports();
        test_pod_rejections();
        return tap_done();
}
