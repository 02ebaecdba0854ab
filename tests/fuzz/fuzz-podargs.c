/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes what the lifecycle verbs parse from users: pod UUIDs (and prefixes) and
 * durations.  No crash; a parsed UUID formats to a canonical one that parses back to the
 * same bytes; a canonical UUID is its own formatting; a valid prefix is never longer than
 * a UUID. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "macro.h"
#include "uuid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        char buf[POD_UUID_STRING_MAX];
        struct pod_uuid u, v;
        uint64_t usec;

        if (size > 4096)
                return 0;
        s = strndup((const char *)data, size);
        if (!s)
                return 0;

        if (pod_uuid_parse(s, &u) >= 0) {
                pod_uuid_format(&u, buf);
                assert(pod_uuid_string_valid(buf));
                assert(pod_uuid_parse(buf, &v) >= 0);
                assert(memcmp(&u, &v, sizeof(u)) == 0);
        }
        if (pod_uuid_string_valid(s)) {
                assert(pod_uuid_parse(s, &u) >= 0);
                assert(strcmp(pod_uuid_format(&u, buf), s) == 0);
        }
        if (pod_uuid_prefix_valid(s))
                assert(strlen(s) >= 1 && strlen(s) <= POD_UUID_STRING_LEN);

        (void)pod_duration_parse(s, &usec);
        return 0;
}
