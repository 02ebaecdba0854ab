/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Minimal TAP producer for unit tests: ok/not ok per check, a plan at the end, exit status
 * 1 if anything failed, 77 to skip the whole program (automake's convention). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define tap_ok(cond, ...)                                                               \
        do {                                                                            \
                bool _c_ = (cond);                                                      \
                tap_n++;                                                                \
                if (!_c_)                                                               \
                        tap_failed++;                                                   \
                printf("%s %d - ", _c_ ? "ok" : "not ok", tap_n);                       \
                printf(__VA_ARGS__);                                                    \
                printf("\n");                                                           \
                if (!_c_)                                                               \
                        printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        } while (0)

#define tap_is_int(a, b, name)                                             \
        do {                                                               \
                long long _a_ = (long long)(a), _b_ = (long long)(b);      \
                tap_ok(_a_ == _b_, "%s", name);                            \
                if (_a_ != _b_)                                            \
                        printf("#   got %lld, expected %lld\n", _a_, _b_); \
        } while (0)

#define tap_is_str(a, b, name)                                                        \
        do {                                                                          \
                const char *_a_ = (a), *_b_ = (b);                                    \
                bool _eq_ = (_a_ && _b_) ? strcmp(_a_, _b_) == 0 : _a_ == _b_;        \
                tap_ok(_eq_, "%s", name);                                             \
                if (!_eq_)                                                            \
                        printf("#   got '%s', expected '%s'\n", _a_ ? _a_ : "(null)", \
                               _b_ ? _b_ : "(null)");                                 \
        } while (0)

static inline int tap_done(void) {
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}

static inline int tap_skip_all(const char *why) {
        printf("1..0 # SKIP %s\n", why);
        return 0;
}
