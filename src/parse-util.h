/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsing of small values typed on the command line.  Owns: their spellings.  Does not own:
 * which flags take them (stage0). */

#include <stdbool.h>

/* A boolean as Go's strconv.ParseBool (rkt's pflag flags) spells it: 1, t, T, true, TRUE,
 * True and 0, f, F, false, FALSE, False.  -EINVAL otherwise. */
int pod_parse_bool(const char *s, bool *ret);
