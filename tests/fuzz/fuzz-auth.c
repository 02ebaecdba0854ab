/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the auth.d parser: no crash, every failure has a message, every accepted domain
 * gets an Authorization header without CR/LF and is found again by a URL naming it. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(pod_auth_freep) struct pod_auth *a = calloc(1, sizeof(*a));
        struct pod_error e = {};

        if (!a || size > 65536)
                return 0;
        if (pod_auth_parse(a, (const char *)data, size, "fuzz.json", false, &e) < 0) {
                assert(e.error < 0 && e.msg[0]);
                return 0;
        }
        for (size_t i = 0; i < a->n; i++) {
                char url[600];

                assert(strncmp(a->items[i].header, "Authorization: ", 15) == 0);
                assert(!strpbrk(a->items[i].header, "\r\n"));
                (void)snprintf(url, sizeof(url), "https://%s/x", a->items[i].domain);
                assert(pod_auth_header_for_url(a, url) != NULL);
        }
        return 0;
}
