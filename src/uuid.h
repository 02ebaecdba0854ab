/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pod UUIDs: random version 4 UUIDs (RFC 4122) from getrandom(), their canonical text
 * form (lower-case, 8-4-4-4-12, which is also the pod directory name), parsing and the
 * --uuid-file(-save) files.
 * Owns: the UUID value and its text forms.  Does not own: where pods live (poddir.h). */

#include <stdbool.h>
#include <stdint.h>

#define POD_UUID_STRING_LEN 36
#define POD_UUID_STRING_MAX (POD_UUID_STRING_LEN + 1)

struct pod_uuid {
        uint8_t bytes[16];
};

/* 122 random bits from getrandom() (blocking until the pool is initialised), version 4,
 * variant 10xx. */
int pod_uuid_generate(struct pod_uuid *ret);

/* Canonical lower-case text; buf must hold POD_UUID_STRING_MAX bytes.  Returns buf. */
char *pod_uuid_format(const struct pod_uuid *u, char *buf);

/* Accepts the 8-4-4-4-12 form or 32 bare hex digits, either case; -EINVAL otherwise. */
int pod_uuid_parse(const char *s, struct pod_uuid *ret);

/* True if s is exactly a canonical (lower-case, dashed) UUID: the only names accepted as
 * pod directories. */
bool pod_uuid_string_valid(const char *s);

/* True if s could start a canonical UUID (1..36 chars, lower-case hex and dashes in the
 * right places), as accepted for unique-prefix lookup. */
bool pod_uuid_prefix_valid(const char *s);

/* --uuid-file-save: writes the bare canonical UUID, no newline, mode 0644, atomically. */
int pod_uuid_file_save(const char *path, const char *uuid);
/* --uuid-file: reads such a file (a trailing newline is tolerated), normalises to the
 * canonical form in ret (POD_UUID_STRING_MAX bytes).  -EINVAL if it holds no UUID. */
int pod_uuid_file_load(const char *path, char *ret);
