/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* auth.d parsing and lookup: rkt's and pod's spellings, basic (RFC 7617 vectors) and oauth
 * headers, refused inputs (header injection, unknown type/version, bad domains), host
 * matching (ports, userinfo, case, no subdomains, no other hosts), and loading both
 * directories (admin overrides vendor; a duplicate within one directory is an error). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "fd-util.h"
#include "macro.h"
#include "tap.h"

static int parse(struct pod_auth *a, const char *text, struct pod_error *e) {
        pod_error_clear(e);
        return pod_auth_parse(a, text, strlen(text), "t.json", false, e);
}

#define RKT(domains, type, creds)                                                                \
        "{\"rktKind\":\"auth\",\"rktVersion\":\"v1\",\"domains\":[" domains "],\"type\":\"" type \
        "\",\"credentials\":{" creds "}}"

static void put(const char *dir, const char *name, const char *text) {
        char p[700];

        (void)snprintf(p, sizeof(p), "%s/auth.d", dir);
        (void)mkdir_p_at(AT_FDCWD, p, 0755);
        (void)snprintf(p, sizeof(p), "%s/auth.d/%s", dir, name);
        if (write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0600) < 0)
                abort();
}

int main(void) {
        static char base[] = "/tmp/test-auth.XXXXXX";
        struct pod_error e = {};
        char vendor[600], admin[600];
        int r;

        {
                _cleanup_(pod_auth_freep) struct pod_auth *a = calloc(1, sizeof(*a));

                r = parse(a,
                          RKT("\"example.com\",\"Reg.Example.com:5000\"", "basic",
                              "\"user\":\"Aladdin\",\"password\":\"open sesame\""),
                          &e);
                tap_ok(r == 0 && a->n == 2, "rkt basic with two domains (%s)", e.msg);
                tap_is_str(pod_auth_header_for_url(a, "https://example.com/x.aci"),
                           "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                           "basic header (RFC 7617 example)");
                tap_ok(pod_auth_header_for_url(a, "https://EXAMPLE.com:8443/x") != NULL,
                       "a host-only domain matches any port, case-insensitively");
                tap_ok(pod_auth_header_for_url(a, "https://u:p@example.com/x") != NULL,
                       "userinfo is not part of the host");
                tap_ok(pod_auth_header_for_url(a, "https://reg.example.com:5000/v") != NULL,
                       "host:port matches that port");
                tap_ok(!pod_auth_header_for_url(a, "https://reg.example.com/v"),
                       "... and not another");
                tap_ok(!pod_auth_header_for_url(a, "https://sub.example.com/x"), "no subdomains");
                tap_ok(!pod_auth_header_for_url(a, "https://example.com.evil.org/x"),
                       "no suffix tricks");
                tap_ok(!pod_auth_header_for_url(a, "https://evil.org/?x=https://example.com/"),
                       "the host, not the query");
                tap_ok(!pod_auth_header_for_url(a, "https://evil.org@x/"),
                       "userinfo naming another host does not match");
                tap_ok(!pod_auth_header_for_url(NULL, "https://example.com/"), "no config");

                r = parse(a, RKT("\"example.com\"", "basic", "\"user\":\"u\",\"password\":\"p\""),
                          &e);
                tap_ok(r == -EEXIST && strstr(e.msg, "example.com"),
                       "the same domain twice without replace: %s", e.msg);
                pod_error_clear(&e);
                r = pod_auth_parse(a,
                                   "{\"podKind\":\"auth\",\"podVersion\":\"v1\",\"domains\":["
                                   "\"example.com\"],\"type\":\"oauth\",\"credentials\":{"
                                   "\"token\":\"tok\"}}",
                                   strlen("{\"podKind\":\"auth\",\"podVersion\":\"v1\","
                                          "\"domains\":[\"example.com\"],\"type\":\"oauth\","
                                          "\"credentials\":{\"token\":\"tok\"}}"),
                                   "u.json", true, &e);
                tap_ok(r == 0, "podKind spelling, oauth, replacing (%s)", e.msg);
                tap_is_str(pod_auth_header_for_url(a, "https://example.com/"),
                           "Authorization: Bearer tok", "oauth header replaced the basic one");
        }

        {
                static const struct {
                        const char *text, *msg;
                } bad[] = {
                        { RKT("\"a.com\"", "oauth", "\"token\":\"a\\r\\nX-Evil: 1\""), "token" },
                        { RKT("\"a.com\"", "oauth", "\"token\":\"\""), "token" },
                        { RKT("\"a.com\"", "basic", "\"user\":\"a:b\",\"password\":\"p\""),
                          "without ':'" },
                        { RKT("\"a.com\"", "basic", "\"user\":\"a\",\"password\":\"p\\n\""),
                          "printable" },
                        { RKT("\"a.com\"", "basic", "\"user\":\"a\""), "password" },
                        { RKT("\"a.com\"", "digest", "\"user\":\"a\""), "type 'digest'" },
                        { RKT("", "oauth", "\"token\":\"t\""), "domains" },
                        { RKT("\"a.com/path\"", "oauth", "\"token\":\"t\""), "a.com/path" },
                        { RKT("\"a.com:http\"", "oauth", "\"token\":\"t\""), "a.com:http" },
                        { RKT("\"a b\"", "oauth", "\"token\":\"t\""), "a b" },
                        { "{\"rktKind\":\"auth\",\"rktVersion\":\"v2\",\"domains\":[\"a.com\"],"
                          "\"type\":\"oauth\",\"credentials\":{\"token\":\"t\"}}",
                          "v2" },
                        { "{\"rktKind\":\"keys\",\"rktVersion\":\"v1\",\"domains\":[\"a.com\"],"
                          "\"type\":\"oauth\",\"credentials\":{\"token\":\"t\"}}",
                          "'keys'" },
                        { "{\"rktKind\":\"auth\",\"rktVersion\":\"v1\",\"domains\":[\"a.com\"],"
                          "\"type\":\"oauth\"}",
                          "credentials" },
                        { "[]", "object" },
                        { "{\"rktKind\":", "JSON" },
                };

                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        _cleanup_(pod_auth_freep) struct pod_auth *a = calloc(1, sizeof(*a));

                        r = parse(a, bad[i].text, &e);
                        tap_ok(r == -EBADMSG && strstr(e.msg, "t.json") &&
                                       strstr(e.msg, bad[i].msg) && a->n == 0,
                               "refused (%s): %s", bad[i].msg, e.msg);
                }
        }

        /* two directories */
        if (!mkdtemp(base))
                return tap_skip_all("no temp dir");
        (void)snprintf(vendor, sizeof(vendor), "%s/vendor", base);
        (void)snprintf(admin, sizeof(admin), "%s/etc", base);
        put(vendor, "10-a.json", RKT("\"a.com\",\"v.com\"", "oauth", "\"token\":\"vendor\""));
        put(admin, "10-a.json", RKT("\"a.com\"", "oauth", "\"token\":\"admin\""));
        put(admin, "README", "not json, not read");
        {
                _cleanup_(pod_auth_freep) struct pod_auth *a = NULL;

                r = pod_auth_load(vendor, admin, &a, &e);
                tap_ok(r == 0, "load both directories (%s)", e.msg);
                tap_is_str(pod_auth_header_for_url(a, "https://a.com/"),
                           "Authorization: Bearer admin", "the admin's entry wins");
                tap_is_str(pod_auth_header_for_url(a, "https://v.com/"),
                           "Authorization: Bearer vendor", "the vendor's other entry stays");
        }
        put(admin, "20-dup.json", RKT("\"a.com\"", "oauth", "\"token\":\"dup\""));
        {
                _cleanup_(pod_auth_freep) struct pod_auth *a = NULL;

                pod_error_clear(&e);
                r = pod_auth_load(vendor, admin, &a, &e);
                tap_ok(r == -EEXIST && strstr(e.msg, "20-dup.json") && strstr(e.msg, "10-a.json"),
                       "a domain twice in one directory: %s", e.msg);
        }
        {
                _cleanup_(pod_auth_freep) struct pod_auth *a = NULL;
                char missing[700];

                (void)snprintf(missing, sizeof(missing), "%s/none", base);
                r = pod_auth_load(missing, NULL, &a, &e);
                tap_ok(r == 0 && a && a->n == 0, "missing directories are no credentials");
        }
        (void)rm_rf_at(AT_FDCWD, base);

        /* dockerAuth (rkt's kind for registries) and docker's/podman's config files. */
        {
                _cleanup_(pod_auth_freep) struct pod_auth *a = calloc(1, sizeof(*a));
                const struct pod_auth_docker *d;
                _cleanup_free_ char *h = NULL;

                r = parse(a,
                          "{\"rktKind\":\"dockerAuth\",\"rktVersion\":\"v1\",\"registries\":"
                          "[\"Reg.Example:5000\",\"docker.io\"],\"credentials\":{\"user\":"
                          "\"Aladdin\",\"password\":\"open sesame\"}}",
                          &e);
                tap_ok(r == 0 && a->n_docker == 2 && a->n == 0, "dockerAuth parsed %s", e.msg);
                d = pod_auth_docker_lookup(a, "reg.example:5000");
                tap_ok(d && streq(d->user, "Aladdin") && streq(d->password, "open sesame"),
                       "dockerAuth by host:port");
                tap_ok(!pod_auth_docker_lookup(a, "reg.example:5001") &&
                               !pod_auth_docker_lookup(a, "reg.example"),
                       "host:port entries match that port only");
                tap_ok(pod_auth_docker_lookup(a, "registry-1.docker.io") != NULL,
                       "docker.io means Docker Hub");
                tap_ok(pod_auth_header_for_url(a, "https://reg.example:5000/v2/") == NULL,
                       "docker credentials are not sent by http.c on their own");
                h = pod_auth_docker_basic_header(d);
                tap_is_str(h, "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                           "RFC 7617 Basic header");
                r = parse(a,
                          "{\"rktKind\":\"dockerAuth\",\"rktVersion\":\"v1\",\"registries\":"
                          "[\"reg.example:5000\"],\"credentials\":{\"user\":\"x\",\"password\":"
                          "\"y\"}}",
                          &e);
                tap_ok(r == -EEXIST, "a registry twice: %s", e.msg);
                r = parse(a,
                          "{\"rktKind\":\"dockerAuth\",\"rktVersion\":\"v1\",\"registries\":"
                          "[\"a/b c\"],\"credentials\":{\"user\":\"x\",\"password\":\"y\"}}",
                          &e);
                tap_ok(r == -EBADMSG && strstr(e.msg, "registry"), "bad registry: %s", e.msg);
                r = parse(a,
                          "{\"rktKind\":\"dockerAuth\",\"rktVersion\":\"v1\",\"registries\":"
                          "[\"z.example\"],\"credentials\":{\"user\":\"x:y\",\"password\":"
                          "\"y\"}}",
                          &e);
                tap_ok(r == -EBADMSG, "a user with ':' refused: %s", e.msg);
        }
        {
                _cleanup_(pod_auth_freep) struct pod_auth *a = calloc(1, sizeof(*a));
                const struct pod_auth_docker *d;
                /* "u:p" "me:pw" "hub:x" */
                const char *cfg = "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"dTpw\"},"
                                  "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOng=\"},"
                                  "\"helper.example\":{\"identitytoken\":\"t\"},"
                                  "\"other.example\":{\"auth\":\"bWU6cHc\"}},"
                                  "\"credsStore\":\"desktop\"}";

                r = pod_auth_parse_docker_config(a, cfg, strlen(cfg), "config.json", &e);
                tap_ok(r == 0 && a->n_docker == 3, "config.json parsed %s", e.msg);
                d = pod_auth_docker_lookup(a, "127.0.0.1:5000");
                tap_ok(d && streq(d->user, "u") && streq(d->password, "p"), "host:port key");
                d = pod_auth_docker_lookup(a, "registry-1.docker.io");
                tap_ok(d && streq(d->user, "hub"), "https://index.docker.io/v1/ key is Docker Hub");
                d = pod_auth_docker_lookup(a, "other.example:443");
                tap_ok(d && streq(d->password, "pw"), "a host key matches any port, unpadded b64");
                tap_ok(!pod_auth_docker_lookup(a, "helper.example"), "no auth: skipped");
                cfg = "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"eDp5\"}}}";
                r = pod_auth_parse_docker_config(a, cfg, strlen(cfg), "later.json", &e);
                d = pod_auth_docker_lookup(a, "127.0.0.1:5000");
                tap_ok(r == 0 && d && streq(d->user, "u"), "the first source wins");
                cfg = "{\"auths\":{\"x.example\":{\"auth\":\"bm9jb2xvbg==\"}}}";
                pod_error_clear(&e);
                r = pod_auth_parse_docker_config(a, cfg, strlen(cfg), "bad.json", &e);
                tap_ok(r == -EBADMSG && strstr(e.msg, "user:password"), "no colon: %s", e.msg);
                cfg = "{\"auths\":{\"x.example\":{\"auth\":\"!!!\"}}}";
                pod_error_clear(&e);
                r = pod_auth_parse_docker_config(a, cfg, strlen(cfg), "bad.json", &e);
                tap_ok(r == -EBADMSG, "not base64: %s", e.msg);
                pod_error_clear(&e);
                r = pod_auth_parse_docker_config(a, "{", 1, "bad.json", &e);
                tap_ok(r == -EBADMSG && strstr(e.msg, "bad.json"), "bad JSON: %s", e.msg);
        }
        return tap_done();
}
