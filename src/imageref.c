/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "dockerref.h"
#include "imageref.h"
#include "manifest.h"
#include "path-util.h"

#define IMAGEREF_MAX 4096

static const char *const kind_names[_POD_IMAGEREF_KIND_MAX] = {
        [POD_IMAGEREF_NAME] = "name",   [POD_IMAGEREF_HASH] = "hash",
        [POD_IMAGEREF_HTTPS] = "https", [POD_IMAGEREF_HTTP] = "http",
        [POD_IMAGEREF_FILE] = "file",   [POD_IMAGEREF_DOCKER] = "docker",
};

const char *pod_imageref_kind_to_string(enum pod_imageref_kind k) {
        if (k < 0 || k >= _POD_IMAGEREF_KIND_MAX)
                return NULL;
        return kind_names[k];
}

/* uname(2) machine names and the appc arch they run (spec section 3 whitelist). */
static const struct {
        const char *from, *to;
} machine_map[] = {
        { "x86_64", "amd64" },       { "amd64", "amd64" },     { "i386", "i386" },
        { "i486", "i386" },          { "i586", "i386" },       { "i686", "i386" },
        { "aarch64", "aarch64" },    { "arm64", "aarch64" },   { "aarch64_be", "aarch64_be" },
        { "armv6l", "armv6l" },      { "armv7l", "armv7l" },   { "armv7b", "armv7b" },
        { "armv8l", "armv7l" }, /* 32-bit userland on an arm64 kernel */
        { "ppc64", "ppc64" },        { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
}, goarch_map[] = {
        { "amd64", "amd64" }, { "386", "i386" },       { "arm64", "aarch64" },
        { "arm64be", "aarch64_be" }, { "ppc64", "ppc64" }, { "ppc64le", "ppc64le" },
        { "s390x", "s390x" },
};

const char *pod_appc_arch_from_machine(const char *machine) {
        for (size_t i = 0; machine && i < ELEMENTSOF(machine_map); i++)
                if (streq(machine_map[i].from, machine))
                        return machine_map[i].to;
        return NULL;
}

const char *pod_appc_arch_from_goarch(const char *goarch) {
        for (size_t i = 0; goarch && i < ELEMENTSOF(goarch_map); i++)
                if (streq(goarch_map[i].from, goarch))
                        return goarch_map[i].to;
        return NULL;
}

int pod_host_os_arch(const char **ret_os, const char **ret_arch) {
        struct utsname u;
        const char *arch;

        if (uname(&u) < 0)
                return -errno;
        arch = pod_appc_arch_from_machine(u.machine);
        if (!arch)
                return -ENOTSUP;
        if (ret_os)
                *ret_os = "linux"; /* pod runs on Linux only */
        if (ret_arch)
                *ret_arch = arch;
        return 0;
}

struct pod_imageref *pod_imageref_free(struct pod_imageref *r) {
        if (!r)
                return NULL;
        free(r->input);
        free(r->name);
        (void)pod_kv_free(r->labels, r->n_labels);
        free(r->hash);
        free(r->url);
        free(r->path);
        free(r);
        return NULL;
}

static bool has_prefix_nocase(const char *s, const char *prefix) {
        return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* "scheme://" per RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
static size_t scheme_length(const char *s) {
        size_t n = 0;

        if (!isalpha((unsigned char)s[0]))
                return 0;
        while (isalnum((unsigned char)s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.')
                n++;
        return strneq(s + n, "://", 3) ? n : 0;
}

static bool is_hash(const char *s) {
        size_t n = 0;

        if (!has_prefix_nocase(s, "sha512-"))
                return false;
        for (s += 7; *s; s++, n++)
                if (!isxdigit((unsigned char)*s))
                        return false;
        return n >= 1 && n <= 128;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static int parse_file_url(const char *s, struct pod_imageref *ref, struct pod_error *reterr) {
        const char *p = s + strlen("file://");
        _cleanup_free_ char *path = NULL;
        char *o;

        /* file:///abs or file://localhost/abs; another host would mean a network share. */
        if (has_prefix_nocase(p, "localhost/"))
                p += strlen("localhost");
        if (*p != '/')
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image reference '%s': file URLs must be "
                                     "file:///absolute/path",
                                     s);
        if (strpbrk(p, "?#"))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image reference '%s': file URLs cannot have a query "
                                     "or fragment",
                                     s);
        path = malloc(strlen(p) + 1);
        if (!path)
                return -ENOMEM;
        for (o = path; *p; p++) {
                int hi, lo;

                if (*p != '%') {
                        *o++ = *p;
                        continue;
                }
                hi = hexval(p[1]);
                lo = hi < 0 ? -1 : hexval(p[2]);
                if (lo < 0 || (hi == 0 && lo == 0))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid image reference '%s': bad %%-escape in "
                                             "file URL",
                                             s);
                *o++ = (char)(hi * 16 + lo);
                p += 2;
        }
        *o = 0;
        ref->kind = POD_IMAGEREF_FILE;
        ref->path = TAKE_PTR(path);
        return 0;
}

static int parse_http_url(const char *s, size_t scheme_len, struct pod_imageref *ref,
                          struct pod_error *reterr) {
        const char *host = s + scheme_len + 3;

        if (*host == 0 || *host == '/' || *host == '?' || *host == '#')
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image reference '%s': URL has no host", s);
        ref->kind = scheme_len == 5 ? POD_IMAGEREF_HTTPS : POD_IMAGEREF_HTTP;
        ref->url = strdup(s);
        return ref->url ? 0 : -ENOMEM;
}

static int add_label(struct pod_imageref *ref, const char *s, const char *k, const char *v,
                     struct pod_error *reterr) {
        int r;

        if (streq(k, "name"))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image reference '%s': 'name' is not a label", s);
        if (!ac_identifier_valid(k))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image reference '%s': label name '%s' is not a "
                                     "valid AC Identifier",
                                     s, k);
        if (!*v)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image reference '%s': label '%s' has no value", s, k);
        r = pod_kv_add(&ref->labels, &ref->n_labels, k, v);
        if (r == -EEXIST)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image reference '%s': label '%s' given twice", s, k);
        return r;
}

static int parse_name(const char *s, struct pod_imageref *ref, struct pod_error *reterr) {
        _cleanup_free_ char *copy = strdup(s);
        const char *os, *arch, *host_os = NULL, *host_arch = NULL;
        char *labels, *colon, *state = NULL;
        int r;

        if (!copy)
                return -ENOMEM;

        labels = strchr(copy, ',');
        if (labels)
                *labels++ = 0;
        /* At most one ':' and only right after the name: it means version=. */
        colon = strchr(copy, ':');
        if (colon)
                *colon++ = 0;
        if (!ac_identifier_valid(copy))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image reference '%s': '%s' is not a valid image "
                                     "name (lower-case AC Identifier)",
                                     s, copy);
        ref->kind = POD_IMAGEREF_NAME;
        ref->name = strdup(copy);
        if (!ref->name)
                return -ENOMEM;
        if (colon) {
                if (!*colon || strchr(colon, ':'))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid image reference '%s': expected "
                                             "NAME[:VERSION][,LABEL=VALUE...]",
                                             s);
                r = add_label(ref, s, "version", colon, reterr);
                if (r < 0)
                        return r;
        }
        if (labels) {
                /* strtok_r would skip empty fields; "a,,b" is a typo worth reporting. */
                for (char *f = labels;; f = state) {
                        char *eq, *comma = strchr(f, ',');

                        if (comma)
                                *comma = 0;
                        state = comma ? comma + 1 : NULL;
                        eq = strchr(f, '=');
                        if (!eq)
                                return pod_error_set(reterr, -EINVAL,
                                                     "Invalid image reference '%s': '%s' is not "
                                                     "LABEL=VALUE",
                                                     s, f);
                        *eq = 0;
                        r = add_label(ref, s, f, eq + 1, reterr);
                        if (r < 0)
                                return r;
                        if (!state)
                                break;
                }
        }

        os = pod_kv_get(ref->labels, ref->n_labels, "os");
        arch = pod_kv_get(ref->labels, ref->n_labels, "arch");
        if (!os || !arch) {
                r = pod_host_os_arch(&host_os, &host_arch);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Invalid image reference '%s': cannot map this "
                                             "machine to an appc arch; give os= and arch=",
                                             s);
        }
        if (!os) {
                r = pod_kv_add(&ref->labels, &ref->n_labels, "os", host_os);
                if (r < 0)
                        return r;
                os = host_os;
        }
        if (!arch) {
                r = pod_kv_add(&ref->labels, &ref->n_labels, "arch", host_arch);
                if (r < 0)
                        return r;
                arch = host_arch;
        }
        if (!pod_os_arch_valid(os, arch)) {
                const char *appc = pod_appc_arch_from_goarch(arch);

                if (appc && pod_os_arch_valid(os, appc))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid image reference '%s': arch '%s' is spelled "
                                             "'%s' in appc",
                                             s, arch, appc);
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid image reference '%s': os/arch '%s/%s' is not "
                                     "supported",
                                     s, os, arch);
        }
        return 0;
}

int pod_imageref_parse(const char *s, struct pod_imageref **ret, struct pod_error *reterr) {
        _cleanup_(pod_imageref_freep) struct pod_imageref *ref = NULL;
        size_t scheme;
        struct stat st;
        int r;

        if (!s || !*s)
                return pod_error_set(reterr, -EINVAL, "Image reference is empty");
        if (strlen(s) > IMAGEREF_MAX)
                return pod_error_set(reterr, -EINVAL, "Image reference is longer than %d bytes",
                                     IMAGEREF_MAX);
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == 0x7f)
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid image reference '%s': contains whitespace "
                                             "or control characters",
                                             s);

        ref = calloc(1, sizeof(*ref));
        if (!ref)
                return -ENOMEM;
        ref->input = strdup(s);
        if (!ref->input)
                return -ENOMEM;

        /* rkt's order: image ID, URL, local file, name. */
        if (is_hash(s)) {
                ref->kind = POD_IMAGEREF_HASH;
                ref->hash = strdup(s);
                if (!ref->hash)
                        return -ENOMEM;
                for (char *c = ref->hash; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
        } else if ((scheme = scheme_length(s)) > 0) {
                if (has_prefix_nocase(s, "docker://")) {
                        struct pod_dockerref d = {};

                        /* Checked here so a bad reference fails before any store work. */
                        r = pod_dockerref_parse(s, NULL, &d, reterr);
                        pod_dockerref_done(&d);
                        if (r < 0)
                                return r;
                        ref->kind = POD_IMAGEREF_DOCKER;
                        ref->url = strdup(s);
                        if (!ref->url)
                                return -ENOMEM;
                } else if (has_prefix_nocase(s, "https://"))
                        r = parse_http_url(s, scheme, ref, reterr);
                else if (has_prefix_nocase(s, "http://"))
                        r = parse_http_url(s, scheme, ref, reterr);
                else if (has_prefix_nocase(s, "file://"))
                        r = parse_file_url(s, ref, reterr);
                else
                        return pod_error_set(reterr, -EPROTONOSUPPORT,
                                             "Image reference '%s': unsupported URL scheme '%.*s' "
                                             "(https, http, file, docker)",
                                             s, (int)scheme, s);
                if (r < 0)
                        return r;
        } else if (path_is_absolute(s) || string_has_prefix(s, "./") ||
                   string_has_prefix(s, "../") || (stat(s, &st) >= 0 && S_ISREG(st.st_mode))) {
                ref->kind = POD_IMAGEREF_FILE;
                ref->path = strdup(s);
                if (!ref->path)
                        return -ENOMEM;
        } else {
                r = parse_name(s, ref, reterr);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(ref);
        return 0;
}

int pod_imageref_to_string(const struct pod_imageref *r, char **ret) {
        size_t len;
        char *s, *p;

        switch (r->kind) {
        case POD_IMAGEREF_HASH:
                s = strdup(r->hash);
                break;
        case POD_IMAGEREF_HTTPS:
        case POD_IMAGEREF_HTTP:
        case POD_IMAGEREF_DOCKER:
                s = strdup(r->url);
                break;
        case POD_IMAGEREF_FILE:
                s = strdup(r->path);
                break;
        case POD_IMAGEREF_NAME:
                len = strlen(r->name) + 1;
                for (size_t i = 0; i < r->n_labels; i++)
                        len += 2 + strlen(r->labels[i].name) + strlen(r->labels[i].value);
                s = malloc(len);
                if (!s)
                        return -ENOMEM;
                p = stpcpy(s, r->name);
                for (size_t i = 0; i < r->n_labels; i++) {
                        *p++ = ',';
                        p = stpcpy(p, r->labels[i].name);
                        *p++ = '=';
                        p = stpcpy(p, r->labels[i].value);
                }
                break;
        default:
                return -EINVAL;
        }
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
