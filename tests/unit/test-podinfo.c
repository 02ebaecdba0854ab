/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod_info_parse_apps(): the manifest scan behind `pod list`, against the full parser. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "podinfo.h"
#include "tap.h"

#define ID                                                                 \
        "sha512-"                                                          \
        "0000000000000000000000000000000000000000000000000000000000000000" \
        "0000000000000000000000000000000000000000000000000000000000000000"

/* Scans text; expects r, and when r == 0 the names "app=image,app=image" ("-" for none). */
static void check(const char *text, int r_expected, const char *names, const char *what) {
        struct pod_info_app *apps = NULL;
        size_t n = 0;
        char buf[1024] = "";
        int r;

        r = pod_info_parse_apps(text, strlen(text), &apps, &n);
        tap_is_int(r, r_expected, what);
        if (r < 0 || r_expected < 0)
                return;
        for (size_t k = 0; k < n; k++) {
                size_t l = strlen(buf);

                (void)snprintf(buf + l, sizeof(buf) - l, "%s%s=%s", k ? "," : "", apps[k].name,
                               apps[k].image_name ? apps[k].image_name : "-");
        }
        tap_is_str(buf, names, what);
        pod_info_apps_free(apps, n);
}

/* The scan of what pod itself writes equals the full parse. */
static void check_roundtrip(void) {
        static const char text[] =
                "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":["
                "{\"name\":\"web\",\"image\":{\"name\":\"example.com/web\",\"id\":\"" ID "\","
                "\"labels\":[{\"name\":\"version\",\"value\":\"1.0\"}]},"
                "\"app\":{\"exec\":[\"/bin/httpd\",\"-f\"],\"user\":\"0\",\"group\":\"0\"}},"
                "{\"name\":\"db\",\"image\":{\"id\":\"" ID "\"}}],"
                "\"volumes\":[],\"isolators\":[],\"annotations\":[],\"ports\":[]}";
        _cleanup_(pod_pod_manifest_freep) struct pod_pod_manifest *m = NULL;
        _cleanup_free_ char *json = NULL;
        struct pod_info_app *apps = NULL;
        size_t n = 0;

        tap_is_int(pod_pod_manifest_parse(text, strlen(text), &m, NULL), 0, "full parse");
        tap_is_int(pod_pod_manifest_to_json(m, &json), 0, "serialise as stage0 does");
        tap_is_int(pod_info_parse_apps(json, strlen(json), &apps, &n), 0, "scan stage0's output");
        tap_ok(n == 2 && streq(apps[0].name, "web") &&
                       streq(apps[0].image_name, "example.com/web") && streq(apps[1].name, "db") &&
                       !apps[1].image_name,
               "scan of stage0's output: same apps as the full parse");
        pod_info_apps_free(apps, n);
}

int main(void) {
        check_roundtrip();

        check("{\"apps\":[{\"name\":\"a\",\"image\":{\"name\":\"e.com/a\"}}]}", 0, "a=e.com/a",
              "one app");
        check(" {\"apps\":[]} \n", 0, "", "no apps, whitespace around");
        check("{}", 0, "", "no apps key");
        check("{\"APPS\":[{\"NAME\":\"a\",\"Image\":{\"nAmE\":\"e.com/a\"}}]}", 0, "a=e.com/a",
              "keys are case-insensitive, as in the manifest module");
        check("{\"apps\":[{\"name\":\"a\",\"name\":null,\"image\":{}}]}", 0, "a=-",
              "a null value leaves the earlier one");
        check("{\"apps\":[{\"name\":5,\"name\":\"b\",\"image\":\"x\",\"image\":{\"name\":\"e.com/"
              "b\"}}]}",
              0, "b=e.com/b", "the last non-null value wins, whatever came before");
        check("{\"apps\":[{\"name\":\"x\",\"image\":{}}],\"apps\":[{\"name\":\"y\",\"image\":{}}]}",
              0, "y=-", "a later apps replaces an earlier one");
        check("{\"apps\":[{\"n\\u0061me\":\"\\u0061b\",\"image\":{\"name\":\"e.com\\/c\"}}]}", 0,
              "ab=e.com/c", "escapes in keys and names are decoded");
        check("{\"x\":[{\"y\":[1.5e3,-0,true,false,null,\"\\t\\\"\"]}],\"apps\":[]}", 0, "",
              "other values are skipped");

        check("{\"apps\": [", -EBADMSG, NULL, "truncated");
        check("{\"apps\":[]} x", -EBADMSG, NULL, "trailing data");
        check("{\"apps\":[{\"name\":\"A\",\"image\":{}}]}", -EBADMSG, NULL,
              "an invalid AC name is refused");
        check("{\"apps\":[{\"name\":\"a\",\"image\":{\"name\":\"-bad\"}}]}", -EBADMSG, NULL,
              "an invalid image name is refused");
        check("{\"apps\":[{\"name\":\"a\"}]}", -EBADMSG, NULL, "an app without image is refused");
        check("{\"apps\":[{\"name\":\"\\u00e9\",\"image\":{}}]}", -EBADMSG, NULL,
              "a non-ASCII name is refused");
        check("{\"apps\":[{\"name\":\"a\\u0000\",\"image\":{}}]}", -EBADMSG, NULL,
              "a NUL in a name is refused");
        check("{\"apps\":[],}", -EBADMSG, NULL, "trailing comma");
        check("{\"apps\":[],\"x\":[-01,1.,2e5]}", 0, "", "numbers are skipped leniently");
        check("{\"apps\":[],\"x\":[-]}", -EBADMSG, NULL, "a number has digits");
        check("{\"a\":\"x\ny\"}", -EBADMSG, NULL, "raw control character in a string");
        check("{\"a\":tru}", -EBADMSG, NULL, "bad literal");
        {
                char text[256];

                memcpy(text, "{\"x\":", 5);
                memset(text + 5, '[', 100);
                memset(text + 105, ']', 100);
                memcpy(text + 205, "}", 2);
                check(text, -EBADMSG, NULL, "nesting deeper than 64 is refused");
        }
        return tap_done();
}
