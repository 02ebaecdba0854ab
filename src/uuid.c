/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>

#include "fd-util.h"
#include "macro.h"
#include "uuid.h"

int pod_uuid_generate(struct pod_uuid *ret) {
        struct pod_uuid u;
        size_t done = 0;

        while (done < sizeof(u.bytes)) {
                ssize_t k = getrandom(u.bytes + done, sizeof(u.bytes) - done, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t)k;
        }
        u.bytes[6] = (u.bytes[6] & 0x0f) | 0x40; /* version 4 */
        u.bytes[8] = (u.bytes[8] & 0x3f) | 0x80; /* variant 10xx (RFC 4122) */
        *ret = u;
        return 0;
}

char *pod_uuid_format(const struct pod_uuid *u, char *buf) {
        static const char hex[] = "0123456789abcdef";
        char *p = buf;

        for (size_t i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        *p++ = '-';
                *p++ = hex[u->bytes[i] >> 4];
                *p++ = hex[u->bytes[i] & 15];
        }
        *p = 0;
        return buf;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

static bool dash_position(size_t i) {
        return i == 8 || i == 13 || i == 18 || i == 23;
}

int pod_uuid_parse(const char *s, struct pod_uuid *ret) {
        struct pod_uuid u;
        size_t len = strlen(s), n = 0;
        bool dashed;

        if (len == POD_UUID_STRING_LEN)
                dashed = true;
        else if (len == 32)
                dashed = false;
        else
                return -EINVAL;

        for (size_t i = 0; i < len;) {
                int hi, lo;

                if (dashed && dash_position(i)) {
                        if (s[i] != '-')
                                return -EINVAL;
                        i++;
                        continue;
                }
                hi = unhex(s[i]);
                lo = unhex(s[i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                u.bytes[n++] = (uint8_t)(hi << 4 | lo);
                i += 2;
        }
        *ret = u;
        return 0;
}

bool pod_uuid_prefix_valid(const char *s) {
        size_t len = strlen(s);

        if (len == 0 || len > POD_UUID_STRING_LEN)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (dash_position(i)) {
                        if (s[i] != '-')
                                return false;
                } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        }
        return true;
}

bool pod_uuid_string_valid(const char *s) {
        return strlen(s) == POD_UUID_STRING_LEN && pod_uuid_prefix_valid(s);
}

int pod_uuid_file_save(const char *path, const char *uuid) {
        if (!pod_uuid_string_valid(uuid))
                return -EINVAL;
        return write_file_atomic_at(AT_FDCWD, path, uuid, strlen(uuid), 0644);
}

int pod_uuid_file_load(const char *path, char *ret) {
        _cleanup_free_ char *text = NULL;
        struct pod_uuid u;
        size_t size = 0;
        int r;

        r = read_full_file_at(AT_FDCWD, path, 128, &text, &size);
        if (r < 0)
                return r;
        while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == '\r'))
                text[--size] = 0;
        if (strlen(text) != size) /* embedded NUL */
                return -EINVAL;
        r = pod_uuid_parse(text, &u);
        if (r < 0)
                return r;
        (void)pod_uuid_format(&u, ret);
        return 0;
}
