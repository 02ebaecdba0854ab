/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Docker's rules for apps of Docker/OCI images: prepare-oci.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json-util.h"
#include "macro.h"
#include "manifest.h"
#include "oci.h"
#include "prepare-oci.h"

/* An annotation of an OCI image holding a JSON array of strings (oci.h) into *ret (NULL
 * when absent or empty). */
static int annotation_strv(const struct pod_image_manifest *im, const char *name, char ***ret,
                           struct pod_error *reterr) {
        _cleanup_json_ struct json_object *v = NULL;
        const char *text = pod_kv_get(im->annotations, im->n_annotations, name);
        int r;

        *ret = NULL;
        if (!text)
                return 0;
        r = pod_json_parse(text, strlen(text), 1u << 20, &v, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Annotation '%s'", name);
        r = pod_json_as_strv(v, NULL, false, ret, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Annotation '%s'", name);
        return 0;
}

/* Docker's rule for apps of OCI images (`docker run`): --exec replaces the Entrypoint and
 * drops the image's Cmd; arguments after "--" replace the Cmd and keep the Entrypoint. */
int pod_prepare_oci_exec(struct pod_app *app, const char *exec, char *const *args, bool have_args,
                         const struct pod_image_manifest *im, struct pod_error *reterr) {
        _cleanup_strv_free_ char **entrypoint = NULL, **cmd = NULL, **argv = NULL;
        char *const *head, *const *tail;
        size_t n = 0, k = 0;
        int r;

        if (!exec && !have_args)
                return 0;
        r = annotation_strv(im, POD_OCI_ANN_ENTRYPOINT, &entrypoint, reterr);
        if (r >= 0)
                r = annotation_strv(im, POD_OCI_ANN_CMD, &cmd, reterr);
        if (r < 0)
                return r;
        head = entrypoint;
        tail = have_args ? args : cmd;
        if (exec) {
                head = NULL;
                tail = have_args ? args : NULL;
        }
        for (size_t i = 0; head && head[i]; i++)
                n++;
        for (size_t i = 0; tail && tail[i]; i++)
                n++;
        argv = calloc(n + 2, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        if (exec && !(argv[k++] = strdup(exec)))
                return -ENOMEM;
        for (size_t i = 0; head && head[i]; i++)
                if (!(argv[k++] = strdup(head[i])))
                        return -ENOMEM;
        for (size_t i = 0; tail && tail[i]; i++)
                if (!(argv[k++] = strdup(tail[i])))
                        return -ENOMEM;
        strv_free(app->exec);
        app->exec = k > 0 ? TAKE_PTR(argv) : NULL;
        return 0;
}

bool pod_prepare_oci_primary_group(const char *user, const char *group,
                                   const struct pod_image_manifest *im) {
        if (group)
                return false;
        if (user)
                return !strchr(user, ':');
        return pod_kv_get(im->annotations, im->n_annotations, POD_OCI_ANN_USER) != NULL;
}
