/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's rules for apps of OCI images (prepare-oci.h), as `docker run` applies them:
 * --exec replaces the Entrypoint and drops the Cmd, "-- ARGS" replace the Cmd and keep the
 * Entrypoint, both together give exec + ARGS; and when the primary-group rule applies. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "manifest.h"
#include "oci.h"
#include "prepare-oci.h"
#include "tap.h"

static struct pod_image_manifest *image(const char *entrypoint, const char *cmd, const char *user) {
        struct pod_image_manifest *im = calloc(1, sizeof(*im));

        if (!im)
                abort();
        if ((entrypoint && pod_kv_add(&im->annotations, &im->n_annotations, POD_OCI_ANN_ENTRYPOINT,
                                      entrypoint) < 0) ||
            (cmd && pod_kv_add(&im->annotations, &im->n_annotations, POD_OCI_ANN_CMD, cmd) < 0) ||
            (user && pod_kv_add(&im->annotations, &im->n_annotations, POD_OCI_ANN_USER, user) < 0))
                abort();
        return im;
}

/* The exec after the rule, joined by spaces ("(none)" for none). */
static char *run(const struct pod_image_manifest *im, char **image_exec, const char *exec,
                 char **args, bool have_args) {
        struct pod_app app = {};
        struct pod_error e = {};
        char buf[1024] = "";
        int r;

        if (image_exec) {
                size_t n = 0;

                while (image_exec[n])
                        n++;
                app.exec = calloc(n + 1, sizeof(char *));
                for (size_t i = 0; i < n; i++)
                        app.exec[i] = strdup(image_exec[i]);
        }
        r = pod_prepare_oci_exec(&app, exec, args, have_args, im, &e);
        if (r < 0)
                (void)snprintf(buf, sizeof(buf), "error %d: %s", r, e.msg);
        else if (!app.exec)
                (void)snprintf(buf, sizeof(buf), "(none)");
        else
                for (size_t i = 0; app.exec[i]; i++)
                        (void)snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
                                       i ? " " : "", app.exec[i]);
        strv_free(app.exec);
        return strdup(buf);
}

int main(void) {
        char *ep_cmd[] = { (char *)"/entry", (char *)"-e", (char *)"/cmd", (char *)"-c", NULL };
        char *cmd_only[] = { (char *)"/cmd", (char *)"-c", NULL };
        char *args[] = { (char *)"/x", (char *)"y", NULL };
        char *noargs[] = { NULL };
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *both =
                image("[\"/entry\",\"-e\"]", "[\"/cmd\",\"-c\"]", NULL);
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *nocmd =
                image("[\"/entry\",\"-e\"]", NULL, "app");
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *noep =
                image(NULL, "[\"/cmd\",\"-c\"]", NULL);
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *bad =
                image("{\"not\":\"an array\"}", NULL, NULL);
        char *s;

        s = run(both, ep_cmd, NULL, NULL, false);
        tap_is_str(s, "/entry -e /cmd -c", "no override: Entrypoint + Cmd as converted");
        free(s);
        s = run(both, ep_cmd, "/bin/other", NULL, false);
        tap_is_str(s, "/bin/other", "--exec replaces the Entrypoint and drops the Cmd");
        free(s);
        s = run(both, ep_cmd, NULL, args, true);
        tap_is_str(s, "/entry -e /x y", "-- ARGS replace the Cmd, keep the Entrypoint");
        free(s);
        s = run(both, ep_cmd, "/bin/other", args, true);
        tap_is_str(s, "/bin/other /x y", "--exec and -- ARGS: exec + ARGS");
        free(s);
        s = run(both, ep_cmd, NULL, noargs, true);
        tap_is_str(s, "/entry -e", "-- alone drops the Cmd");
        free(s);
        s = run(noep, cmd_only, NULL, args, true);
        tap_is_str(s, "/x y", "no Entrypoint: ARGS are the whole command");
        free(s);
        s = run(noep, cmd_only, NULL, noargs, true);
        tap_is_str(s, "(none)", "no Entrypoint and -- alone: nothing left to run");
        free(s);
        s = run(nocmd, ep_cmd, NULL, args, true);
        tap_is_str(s, "/entry -e /x y", "no Cmd: Entrypoint + ARGS");
        free(s);
        s = run(bad, ep_cmd, NULL, args, true);
        tap_ok(strncmp(s, "error -", 7) == 0 && strstr(s, POD_OCI_ANN_ENTRYPOINT),
               "a damaged annotation is an error naming it (%s)", s);
        free(s);

        tap_ok(pod_prepare_oci_primary_group(NULL, NULL, nocmd),
               "image User without a group: primary-group rule");
        tap_ok(!pod_prepare_oci_primary_group(NULL, NULL, both),
               "image User with a group (no annotation): no rule");
        tap_ok(!pod_prepare_oci_primary_group(NULL, "0", nocmd), "--group overrides the rule");
        tap_ok(pod_prepare_oci_primary_group("1000", NULL, both),
               "--user without --group: primary-group rule");
        tap_ok(!pod_prepare_oci_primary_group("1000", "5", both), "--user and --group: no rule");
        return tap_done();
}
