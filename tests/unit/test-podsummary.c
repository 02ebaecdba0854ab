/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod-summary (podsummary.h): what it says equals what the manifest scan says; any
 * truncation or damage is refused, never half-believed. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "podinfo.h"
#include "podsummary.h"
#include "tap.h"

#define ID                                                                 \
        "sha512-"                                                          \
        "0000000000000000000000000000000000000000000000000000000000000000" \
        "0000000000000000000000000000000000000000000000000000000000000000"

static const char two_apps[] =
        "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":["
        "{\"name\":\"web\",\"image\":{\"name\":\"example.com/web\",\"id\":\"" ID "\"}},"
        "{\"name\":\"db\",\"image\":{\"id\":\"" ID "\"}}]}";

static const char extras[] =
        "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"apps\":["
        "{\"name\":\"web\",\"image\":{\"name\":\"example.com/web\",\"id\":\"" ID "\"}}],"
        "\"userLabels\":{\"team\":\"core\"}}";

static bool same_apps(const struct pod_info_app *a, size_t na, const struct pod_info_app *b,
                      size_t nb) {
        if (na != nb)
                return false;
        for (size_t k = 0; k < na; k++) {
                if (!streq(a[k].name, b[k].name))
                        return false;
                if (!!a[k].image_name != !!b[k].image_name ||
                    (a[k].image_name && !streq(a[k].image_name, b[k].image_name)))
                        return false;
                if (!!a[k].image_id != !!b[k].image_id ||
                    (a[k].image_id && !streq(a[k].image_id, b[k].image_id)))
                        return false;
        }
        return true;
}

static void check_roundtrip(const char *manifest, bool extras_expected, const char *what) {
        _cleanup_free_ char *s = NULL;
        struct pod_info_app *scan = NULL, *sum = NULL;
        size_t n_scan = 0, n_sum = 0, len, bad = 0;
        bool x = !extras_expected;

        tap_is_int(pod_summary_format(manifest, strlen(manifest), &s), 0, what);
        if (!s)
                return;
        tap_is_int(pod_info_parse_apps(manifest, strlen(manifest), &scan, &n_scan), 0, what);
        tap_is_int(pod_summary_parse(s, strlen(s), &sum, &n_sum, &x, NULL), 0, what);
        tap_ok(same_apps(scan, n_scan, sum, n_sum), "%s: the summary's apps are the scan's", what);
        tap_ok(x == extras_expected, "%s: extras %d", what, extras_expected);
        pod_info_apps_free(sum, n_sum);
        pod_info_apps_free(scan, n_scan);

        /* every proper prefix is refused */
        len = strlen(s);
        for (size_t k = 0; k < len; k++) {
                sum = NULL;
                n_sum = 0;
                if (pod_summary_parse(s, k, &sum, &n_sum, &x, NULL) != -EBADMSG) {
                        pod_info_apps_free(sum, n_sum);
                        bad++;
                }
        }
        tap_ok(bad == 0, "%s: all %zu truncations refused (%zu accepted)", what, len, bad);
}

static void refused(const char *text, const char *what) {
        struct pod_info_app *a = NULL;
        size_t n = 0;
        bool x;

        tap_is_int(pod_summary_parse(text, strlen(text), &a, &n, &x, NULL), -EBADMSG, what);
        pod_info_apps_free(a, n);
}

int main(void) {
        struct pod_info_app *a = NULL;
        size_t n = 0;
        bool x = true;
        char *s = NULL;

        check_roundtrip(two_apps, false, "two apps");
        check_roundtrip(extras, true, "user labels");

        tap_is_int(pod_summary_parse("pod-summary 1\nextras 0\nend\n", 27, &a, &n, &x, NULL), 0,
                   "no apps");
        tap_ok(!a && n == 0 && !x, "no apps: none, extras 0");

        tap_is_int(pod_summary_format("{\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"x\\ty\"}}]}",
                                      45, &s),
                   -EBADMSG, "an image ID with a tab cannot be stored: no summary");
        free(s);
        s = NULL;
        tap_is_int(
                pod_summary_format("{\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"\"}}]}", 40, &s),
                -EBADMSG, "an empty image ID cannot be stored (empty = absent)");
        free(s);
        s = NULL;
        tap_is_int(pod_summary_format("{\"apps\":", 8, &s), -EBADMSG, "a damaged manifest");
        free(s);

        {
                static const char t[] = "pod-summary 1\nextras 0\napp\ta\t\t\n"
                                        "run\t42\t1767323045\t123456789\t1\t0\nend\n";
                struct pod_summary_run run = {};

                a = NULL;
                n = 0;
                tap_is_int(pod_summary_parse(t, strlen(t), &a, &n, &x, &run), 0, "a run line");
                tap_ok(n == 1 && run.known && run.pid == 42 && run.started.tv_sec == 1767323045 &&
                               run.started.tv_nsec == 123456789 && run.unit && !run.net_info,
                       "the run line: pid, started, unit 1, net-info 0");
                pod_info_apps_free(a, n);
                a = NULL;
                n = 0;
                tap_is_int(pod_summary_parse(t, strlen(t) - 4, &a, &n, &x, &run), -EBADMSG,
                           "a run line without the end after it");
        }
        refused("pod-summary 1\nextras 0\nrun\t9\t1\t0\t0\t0\napp\ta\t\t\nend\n",
                "a run line before an app line");
        refused("pod-summary 1\nextras 0\nrun\t9\t1\t0\t0\t0\nrun\t9\t1\t0\t0\t0\nend\n",
                "two run lines");
        refused("pod-summary 1\nextras 0\nrun\t9\t01\t0\t0\t0\nend\n", "a leading zero");
        refused("pod-summary 1\nextras 0\nrun\t9\t1\t1000000000\t0\t0\nend\n",
                "nanoseconds out of range");
        refused("pod-summary 1\nextras 0\nrun\t9\t1\t0\t2\t0\nend\n", "unit neither 0 nor 1");
        refused("pod-summary 1\nextras 0\nrun\t9\t-1\t0\t0\t0\nend\n", "a negative time");
        refused("pod-summary 1\nextras 0\nrun\t9\t1\t0\t0\nend\n", "a run field too few");
        refused("pod-summary 1\nextras 0\nrun\t0\t1\t0\t0\t0\nend\n", "pid 0");
        refused("pod-summary 1\nextras 0\nrun\t2147483648\t1\t0\t0\t0\nend\n",
                "a pid beyond INT_MAX");
        refused("pod-summary 2\nextras 0\nend\n", "another version");
        refused("pod-summary 1\nextras 0\napp\tA\t\t\nend\n", "an invalid app name");
        refused("pod-summary 1\nextras 0\napp\ta\t-x\t\nend\n", "an invalid image name");
        refused("pod-summary 1\nextras 0\napp\ta\t\t\x1b[2J\nend\n", "a control character");
        refused("pod-summary 1\nextras 0\napp\ta\t\t\t\nend\n", "a field too many");
        refused("pod-summary 1\nextras 0\napp\ta\t\nend\n", "a field too few");
        refused("pod-summary 1\nextras 0\nend\nend\n", "something after the end");
        refused("pod-summary 1\nextras 01\nend\n", "a bad extras line");
        refused("pod-summary 1\r\nextras 0\nend\n", "CR LF");
        return tap_done();
}
