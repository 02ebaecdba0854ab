/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the path and appc-name helpers: no crash, and normalisation never yields ".."
 * components or a relative path. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "path-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL, *norm = NULL, *app = NULL;

        if (size > 4096)
                return 0;
        s = strndup((const char *)data, size);
        if (!s)
                return 0;

        (void)ac_identifier_valid(s);
        (void)ac_name_valid(s);
        (void)env_name_valid(s);
        (void)image_id_valid(s, false);
        (void)path_is_safe_relative(s);

        if (path_normalize_absolute(s, &norm) >= 0) {
                assert(norm[0] == '/');
                assert(!strstr(norm, "/../") &&
                       strcmp(norm + strlen(norm) - (strlen(norm) >= 3 ? 3 : 0), "/..") != 0);
                assert(!strstr(norm, "//"));
        }
        app = ac_name_from_image_name(s);
        if (app)
                assert(ac_name_valid(app));
        return 0;
}
