/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf-file.h"
#include "dockerref.h"
#include "fd-util.h"
#include "macro.h"
#include "path-util.h"

void pod_dockerref_done(struct pod_dockerref *r) {
        if (!r)
                return;
        free(r->registry);
        free(r->repository);
        free(r->tag);
        free(r->digest);
        *r = (struct pod_dockerref){};
}

bool pod_dockerref_is_docker(const char *s) {
        return s && strncasecmp(s, "docker://", 9) == 0;
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* distribution's path-component: [a-z0-9]+ ( ( [._] | __ | -+ ) [a-z0-9]+ )* */
static bool component_valid(const char *s, size_t n) {
        size_t i = 0;

        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        while (i < n) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                if (s[i] == '.' || s[i] == '_') {
                        size_t run = 1;

                        if (s[i] == '_' && i + 1 < n && s[i + 1] == '_')
                                run = 2;
                        i += run;
                } else if (s[i] == '-') {
                        while (i < n && s[i] == '-')
                                i++;
                } else
                        return false;
                if (i >= n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

static bool repository_valid(const char *s, bool *ret_upper) {
        size_t n = strlen(s);

        *ret_upper = false;
        for (const char *c = s; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *ret_upper = true;
        if (n == 0 || n > POD_DOCKER_NAME_MAX)
                return false;
        for (const char *p = s;;) {
                const char *e = strchrnul(p, '/');

                if (!component_valid(p, (size_t)(e - p)))
                        return false;
                if (!*e)
                        return true;
                p = e + 1;
        }
}

static bool tag_valid(const char *t) {
        size_t n = strlen(t);

        if (n == 0 || n > POD_DOCKER_TAG_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = t[i];

                if (!(isalnum((unsigned char)c) || c == '_' || (i > 0 && (c == '.' || c == '-'))))
                        return false;
        }
        return true;
}

/* domain-component: [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9], '.'-separated. */
static bool host_valid(const char *s, size_t n) {
        if (n == 0 || n > 253)
                return false;
        if (s[0] == '[') {
                if (n < 3 || s[n - 1] != ']')
                        return false;
                for (size_t i = 1; i < n - 1; i++)
                        if (!strchr("0123456789abcdefABCDEF:.", s[i]))
                                return false;
                return true;
        }
        for (size_t i = 0; i < n;) {
                size_t j = i;

                while (j < n && s[j] != '.')
                        j++;
                if (j == i || !isalnum((unsigned char)s[i]) || !isalnum((unsigned char)s[j - 1]))
                        return false;
                for (size_t k = i; k < j; k++)
                        if (!isalnum((unsigned char)s[k]) && s[k] != '-')
                                return false;
                if (j == n)
                        break;
                i = j + 1;
                if (i == n)
                        return false; /* trailing dot */
        }
        return true;
}

bool pod_docker_registry_valid(const char *s) {
        const char *port;
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (s[0] == '[') {
                const char *rb = strchr(s, ']');

                if (!rb)
                        return false;
                port = rb[1] == ':' ? rb + 1 : NULL;
                if (!port && rb[1])
                        return false;
        } else
                port = strchr(s, ':');
        if (!host_valid(s, port ? (size_t)(port - s) : n))
                return false;
        if (port) {
                unsigned long v = 0;

                if (!port[1] || strlen(port + 1) > 5)
                        return false;
                for (const char *c = port + 1; *c; c++) {
                        if (*c < '0' || *c > '9')
                                return false;
                        v = v * 10 + (unsigned long)(*c - '0');
                }
                if (v == 0 || v > 65535)
                        return false;
        }
        return true;
}

static bool is_hub(const char *r) {
        return !strcasecmp(r, "docker.io") || !strcasecmp(r, "index.docker.io") ||
               !strcasecmp(r, POD_DOCKER_HUB_REGISTRY);
}

int pod_dockerref_parse(const char *s, const char *default_registry, struct pod_dockerref *ret,
                        struct pod_error *reterr) {
        _cleanup_free_ char *buf = NULL, *registry = NULL, *repository = NULL, *tag = NULL,
                            *digest = NULL;
        char *at, *slash, *colon, *name;
        bool upper, defaulted = false;

        if (!s)
                return -EINVAL;
        if (pod_dockerref_is_docker(s))
                s += 9;
        if (!*s)
                return pod_error_set(reterr, -EINVAL, "Invalid docker reference: empty name");
        if (strlen(s) > 1024)
                return pod_error_set(reterr, -EINVAL, "Invalid docker reference: too long");
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid docker reference: it contains a space, "
                                             "control or non-ASCII character");
        buf = strdup(s);
        if (!buf)
                return -ENOMEM;

        at = strchr(buf, '@');
        if (at) {
                const char *d = at + 1;
                size_t hex = 0;

                *at = 0;
                if (strncmp(d, "sha256:", 7) != 0) {
                        const char *c = strchr(d, ':');

                        if (c && c > d)
                                return pod_error_set(
                                        reterr, -EPROTONOSUPPORT,
                                        "Invalid docker reference '%s': digest "
                                        "algorithm '%.*s' is not supported "
                                        "(sha256 only)",
                                        s, (int)((size_t)(c - d) < 32 ? (size_t)(c - d) : 32), d);
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid docker reference '%s': digest must be "
                                             "sha256:<64 hex digits>",
                                             s);
                }
                for (const char *c = d + 7; *c; c++, hex++)
                        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
                                break;
                if (hex != 64 || d[7 + 64])
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid docker reference '%s': digest must be "
                                             "sha256:<64 lower-case hex digits>",
                                             s);
                digest = strdup(d);
                if (!digest)
                        return -ENOMEM;
        }

        /* A tag is after the last ':' that follows the last '/' (a registry port precedes). */
        slash = strrchr(buf, '/');
        colon = strrchr(slash ? slash : buf, ':');
        if (colon) {
                *colon = 0;
                if (!tag_valid(colon + 1))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid docker reference '%s': tag '%s' is not "
                                             "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
                                             s, colon + 1);
                tag = strdup(colon + 1);
                if (!tag)
                        return -ENOMEM;
        }

        name = buf;
        slash = strchr(buf, '/');
        if (slash) {
                size_t n = (size_t)(slash - buf);

                if (memchr(buf, '.', n) || memchr(buf, ':', n) ||
                    (n == 9 && !strncmp(buf, "localhost", 9)) || buf[0] == '[') {
                        registry = strndup(buf, n);
                        if (!registry)
                                return -ENOMEM;
                        if (!pod_docker_registry_valid(registry))
                                return pod_error_set(reterr, -EINVAL,
                                                     "Invalid docker reference '%s': '%s' is not "
                                                     "a registry host[:port]",
                                                     s, registry);
                        name = slash + 1;
                }
        }
        if (!registry) {
                registry = strdup(default_registry ? default_registry : POD_DOCKER_HUB_REGISTRY);
                if (!registry)
                        return -ENOMEM;
                defaulted = true;
        }
        if (is_hub(registry)) {
                free(registry);
                registry = strdup(POD_DOCKER_HUB_REGISTRY);
                if (!registry)
                        return -ENOMEM;
        } else
                for (char *c = registry; *c; c++)
                        *c = (char)tolower((unsigned char)*c);

        if ((defaulted || streq(registry, POD_DOCKER_HUB_REGISTRY)) && !strchr(name, '/')) {
                if (asprintf(&repository, "library/%s", name) < 0)
                        return -ENOMEM;
        } else {
                repository = strdup(name);
                if (!repository)
                        return -ENOMEM;
        }
        if (!repository_valid(repository, &upper))
                return pod_error_set(reterr, -EINVAL,
                                     upper ? "Invalid docker reference '%s': repository name "
                                             "'%s' must be lower case"
                                           : "Invalid docker reference '%s': repository name "
                                             "'%s' is not valid (components of [a-z0-9] "
                                             "separated by '.', '_', '__' or '-', at most 255 "
                                             "characters)",
                                     s, repository);
        if (!tag && !digest) {
                tag = strdup("latest");
                if (!tag)
                        return -ENOMEM;
        }

        *ret = (struct pod_dockerref){
                .registry = TAKE_PTR(registry),
                .repository = TAKE_PTR(repository),
                .tag = TAKE_PTR(tag),
                .digest = TAKE_PTR(digest),
        };
        return 0;
}

char *pod_dockerref_to_string(const struct pod_dockerref *r) {
        char *s = NULL;

        if (asprintf(&s, "docker://%s/%s%s%s%s%s", r->registry, r->repository, r->tag ? ":" : "",
                     r->tag ?: "", r->digest ? "@" : "", r->digest ?: "") < 0)
                return NULL;
        return s;
}

static int conf_kv(const char *path, unsigned n, const char *k, const char *v, void *userdata,
                   struct pod_error *reterr) {
        char **value = userdata;

        if (!streq(k, "default-registry"))
                return pod_error_set(reterr, -EINVAL, "%s:%u: unknown key '%s'", path, n, k);
        if (!pod_docker_registry_valid(v))
                return pod_error_set(reterr, -EINVAL,
                                     "%s:%u: invalid value '%s' for %s (host[:port])", path, n, v,
                                     k);
        free(*value);
        *value = strdup(v);
        return *value ? 0 : -ENOMEM;
}

static int load_conf(const char *dir, char **value, struct pod_error *reterr) {
        return pod_conf_file_parse(dir, POD_DOCKER_CONF_FILE, conf_kv, value, reterr);
}

int pod_docker_conf_load(const char *vendordir, const char *sysconfdir, char **ret,
                         struct pod_error *reterr) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = load_conf(vendordir, &v, reterr);
        if (r < 0)
                return r;
        r = load_conf(sysconfdir, &v, reterr);
        if (r < 0)
                return r;
        if (!v) {
                v = strdup(POD_DOCKER_HUB_REGISTRY);
                if (!v)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}
