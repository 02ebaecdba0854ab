/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* String-level path helpers and the appc name types (AC Identifier, AC Name, image ID),
 * which are what make names safe to use as relative paths.
 * Owns: validation and joining of strings.  Does not touch the file system. */

#include <stdbool.h>
#include <stddef.h>

/* Joins with exactly one '/' between parts; NULL-terminated argument list. */
char *path_join_many(const char *first, ...) __attribute__((sentinel));
#define path_join(...) path_join_many(__VA_ARGS__, NULL)

bool path_is_absolute(const char *p);
/* True if p is relative, non-empty, and has no "..", "." or empty components. */
bool path_is_safe_relative(const char *p);
/* Lexically normalises an absolute path: collapses "//", drops ".", refuses ".." that would
 * climb above "/" (-EINVAL).  Returns a new string in *ret. */
int path_normalize_absolute(const char *p, char **ret);

/* appc types (spec section 1). */
bool ac_identifier_valid(const char *s); /* ^[a-z0-9]+([-._~/][a-z0-9]+)*$ */
bool ac_name_valid(const char *s);       /* ^[a-z0-9]+([-][a-z0-9]+)*$ */
bool env_name_valid(const char *s);      /* ^[A-Za-z_][A-Za-z_0-9.-]*$ */
/* "sha512-" + 1..128 lowercase hex; full == true requires exactly 128. */
bool image_id_valid(const char *s, bool full);

/* Default app name from an image name: last '/' component, lower-cased, invalid characters
 * replaced by '-', runs and leading/trailing '-' dropped.  Returns NULL on ENOMEM or when
 * nothing valid remains. */
char *ac_name_from_image_name(const char *image_name);

bool string_has_prefix(const char *s, const char *prefix);
