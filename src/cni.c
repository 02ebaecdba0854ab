/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CNI client: see cni.h.  The protocol (containernetworking/cni SPEC.md): the runtime
 * execs each plugin of a network configuration list with CNI_COMMAND, CNI_CONTAINERID,
 * CNI_NETNS, CNI_IFNAME, CNI_PATH (and CNI_ARGS) in the environment, the plugin's own
 * configuration (plus "name", "cniVersion", "prevResult" and the "runtimeConfig" keys the
 * plugin declared in "capabilities") on stdin; the result or an error object comes back
 * on stdout.  ADD runs the list in order, DEL in reverse. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cni.h"
#include "fd-util.h"
#include "json-util.h"
#include "path-util.h"
#include "syscall.h"

#define STATE_MAX (4 * 1024 * 1024)

/* Network names end up in --net=NAME[,NAME][:ARGS], file names and messages. */
static bool net_name_valid(const char *s) {
        size_t n = strlen(s);

        return n > 0 && n <= 64 &&
               s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] ==
                       0;
}

/* A plugin type is a file name in CNI_PATH: never a path. */
static bool plugin_type_valid(const char *s) {
        return s[0] && strlen(s) < 256 && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..");
}

static int dup_json(struct json_object *o, struct json_object **ret) {
        struct json_object *c = NULL;

        if (json_object_deep_copy(o, &c, NULL) < 0 || !c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

/* Checks a normalised list (parsed config or persisted state). */
static int check_conflist(struct json_object *l, const char *file, struct pod_error *reterr) {
        const struct pod_json_path *root = NULL;
        struct json_object *plugins, *v;
        const char *s;
        int r;

        r = pod_json_as_object(l, root, reterr);
        if (r < 0)
                return r;
        v = pod_json_get(l, "name");
        if (!v)
                return pod_error_set(reterr, -EINVAL, "%s: \"name\" is required", file);
        r = pod_json_as_string(v, POD_JSON_KEY(root, "name"), &s, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "%s", file);
        if (!net_name_valid(s))
                return pod_error_set(reterr, -EINVAL,
                                     "%s: invalid network name '%s' (letters, digits, '_', '.', "
                                     "'-')",
                                     file, s);
        v = pod_json_get(l, "cniVersion");
        if (v) {
                r = pod_json_as_string(v, POD_JSON_KEY(root, "cniVersion"), &s, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "%s", file);
        }
        r = pod_json_get_array(l, "plugins", root, &plugins, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "%s", file);
        if (r == 0 || json_object_array_length(plugins) == 0)
                return pod_error_set(reterr, -EINVAL, "%s: \"plugins\" is required and not empty",
                                     file);
        for (size_t i = 0; i < json_object_array_length(plugins); i++) {
                struct json_object *p = json_object_array_get_idx(plugins, i);
                const struct pod_json_path *pp = POD_JSON_IDX(POD_JSON_KEY(root, "plugins"), i);
                char *type = NULL;

                r = pod_json_as_object(p, pp, reterr);
                if (r >= 0)
                        r = pod_json_get_string(p, "type", pp, true, &type, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "%s", file);
                if (!plugin_type_valid(type)) {
                        r = pod_error_set(reterr, -EINVAL, "%s: plugins[%zu]: invalid type '%s'",
                                          file, i, type);
                        free(type);
                        return r;
                }
                free(type);
        }
        return 0;
}

int pod_cni_conflist_parse(const char *text, size_t size, const char *file,
                           struct json_object **ret, struct pod_error *reterr) {
        _cleanup_json_ struct json_object *o = NULL, *l = NULL, *plugins = NULL;
        struct json_object *v;
        int r;

        r = pod_json_parse(text, size, POD_CNI_CONF_MAX, &o, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "%s", file);
        if (!json_object_is_type(o, json_type_object))
                return pod_error_set(reterr, -EINVAL, "%s: not a JSON object", file);

        if (pod_json_get(o, "plugins")) {
                r = dup_json(o, &l);
                if (r < 0)
                        return r;
        } else {
                /* A single-plugin ".conf": the list holds the whole object (libcni does the
                 * same), so the plugin still sees every key of its file. */
                struct json_object *p = NULL;

                if (!pod_json_get(o, "type"))
                        return pod_error_set(reterr, -EINVAL,
                                             "%s: neither \"plugins\" (a .conflist) nor \"type\" "
                                             "(a .conf)",
                                             file);
                l = json_object_new_object();
                plugins = json_object_new_array();
                if (!l || !plugins)
                        return -ENOMEM;
                r = dup_json(o, &p);
                if (r < 0)
                        return r;
                if (json_object_array_add(plugins, p) < 0) {
                        json_object_put(p);
                        return -ENOMEM;
                }
                v = pod_json_get(o, "name");
                if (v && json_object_is_type(v, json_type_string))
                        r = pod_json_add_string(l, "name", json_object_get_string(v));
                v = pod_json_get(o, "cniVersion");
                if (r >= 0 && v && json_object_is_type(v, json_type_string))
                        r = pod_json_add_string(l, "cniVersion", json_object_get_string(v));
                if (r >= 0)
                        r = pod_json_add(l, "plugins", TAKE_PTR(plugins));
                if (r < 0)
                        return r;
        }
        r = check_conflist(l, file, reterr);
        if (r < 0)
                return r;
        if (!pod_json_get(l, "cniVersion")) {
                r = pod_json_add_string(l, "cniVersion", "0.2.0"); /* the spec's default */
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int pod_cni_default_conflist(bool portmap, struct json_object **ret) {
        /* rkt's default network: a bridge with the host as gateway and NAT to the outside,
         * addresses from a private /24 that host-local leases in /run (a reboot ends every
         * pod, so leases must not survive one). */
        static const char base[] =
                "{\"cniVersion\":\"0.4.0\",\"name\":\"default\",\"plugins\":["
                "{\"type\":\"bridge\",\"bridge\":\"" POD_CNI_DEFAULT_BRIDGE "\","
                "\"isGateway\":true,\"ipMasq\":true,\"hairpinMode\":true,"
                "\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":"
                "\"" POD_CNI_DEFAULT_SUBNET "\"}]],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],"
                "\"dataDir\":\"/run/pod/cni/networks\"}}";
        static const char pm[] =
                ",{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true},\"snat\":true}";
        _cleanup_free_ char *text = NULL;

        if (asprintf(&text, "%s%s]}", base, portmap ? pm : "") < 0)
                return -ENOMEM;
        return pod_cni_conflist_parse(text, strlen(text), POD_CNI_BUILTIN, ret, NULL);
}

int pod_cni_restricted_conflist(bool portmap, struct json_object **ret) {
        /* rkt's 99-default-restricted.conf: ptp, no ipMasq, host-local without routes.  The
         * subnet is not rkt's 172.17.0.0/16, which Docker's docker0 takes on most hosts. */
        static const char base[] =
                "{\"cniVersion\":\"0.4.0\",\"name\":\"default-restricted\",\"plugins\":["
                "{\"type\":\"ptp\",\"ipMasq\":false,"
                "\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":"
                "\"" POD_CNI_RESTRICTED_SUBNET "\"}]],"
                "\"dataDir\":\"/run/pod/cni/networks\"}}";
        static const char pm[] =
                ",{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true},\"snat\":true}";
        _cleanup_free_ char *text = NULL;

        if (asprintf(&text, "%s%s]}", base, portmap ? pm : "") < 0)
                return -ENOMEM;
        return pod_cni_conflist_parse(text, strlen(text), POD_CNI_BUILTIN, ret, NULL);
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a > b && streq(s + a - b, suffix);
}

static bool conf_file_name(const char *fn) {
        return fn[0] != '.' &&
               (has_suffix(fn, ".conf") || has_suffix(fn, ".conflist") || has_suffix(fn, ".json"));
}

int pod_cni_network_names(const char *dir, char ***ret, struct pod_error *reterr) {
        _cleanup_strv_free_ char **names = NULL;
        struct dirent **ents = NULL;
        size_t k = 0;
        int n, r = 0;

        n = scandir(dir, &ents, NULL, alphasort);
        if (n < 0 && errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to read '%s': %m", dir);
        names = calloc(n > 0 ? (size_t)n + 1 : 1, sizeof(char *));
        if (!names)
                r = -ENOMEM;
        for (int i = 0; i < n; i++) {
                _cleanup_json_ struct json_object *l = NULL;
                _cleanup_free_ char *text = NULL, *path = NULL;
                const char *name;
                bool dup = false;
                size_t size;

                if (r < 0 || !conf_file_name(ents[i]->d_name))
                        continue;
                if (asprintf(&path, "%s/%s", dir, ents[i]->d_name) < 0) {
                        r = -ENOMEM;
                        continue;
                }
                r = read_full_file_at(AT_FDCWD, path, POD_CNI_CONF_MAX, &text, &size);
                if (r < 0) {
                        r = pod_error_set(reterr, r, "Failed to read network config '%s': %m",
                                          path);
                        continue;
                }
                r = pod_cni_conflist_parse(text, size, path, &l, reterr);
                if (r < 0) {
                        (void)pod_error_prefix(reterr, r, "Broken network config");
                        continue;
                }
                name = json_object_get_string(pod_json_get(l, "name"));
                for (size_t j = 0; j < k && !dup; j++)
                        dup = streq(names[j], name);
                if (dup)
                        continue; /* pod_cni_network_load() names both files */
                names[k] = strdup(name);
                if (!names[k])
                        r = -ENOMEM;
                else
                        k++;
        }
        for (int i = 0; i < n; i++)
                free(ents[i]);
        free(ents);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(names);
        return (int)k;
}

static bool takes_port_mappings(struct json_object *l) {
        struct json_object *plugins = pod_json_get(l, "plugins");

        for (size_t i = 0; i < json_object_array_length(plugins); i++) {
                struct json_object *caps =
                        pod_json_get(json_object_array_get_idx(plugins, i), "capabilities");
                struct json_object *pm = caps ? pod_json_get(caps, "portMappings") : NULL;

                if (pm && json_object_is_type(pm, json_type_boolean) && json_object_get_boolean(pm))
                        return true;
        }
        return false;
}

int pod_cni_network_load(const char *dir, const char *name, bool portmap,
                         struct json_object **ret_conflist, char **ret_file,
                         struct pod_error *reterr) {
        _cleanup_json_ struct json_object *found = NULL;
        _cleanup_free_ char *found_file = NULL;
        struct dirent **names = NULL;
        int n, r = 0;

        if (!net_name_valid(name))
                return pod_error_set(reterr, -EINVAL, "Invalid network name '%s'", name);
        n = scandir(dir, &names, NULL, alphasort);
        if (n < 0 && errno != ENOENT)
                return pod_error_set(reterr, -errno, "Failed to read '%s': %m", dir);
        for (int i = 0; i < n; i++) {
                const char *fn = names[i]->d_name;
                _cleanup_json_ struct json_object *l = NULL;
                _cleanup_free_ char *text = NULL, *path = NULL;
                size_t size;

                if (r < 0 || !conf_file_name(fn))
                        continue;
                if (asprintf(&path, "%s/%s", dir, fn) < 0) {
                        r = -ENOMEM;
                        continue;
                }
                r = read_full_file_at(AT_FDCWD, path, POD_CNI_CONF_MAX, &text, &size);
                if (r < 0) {
                        r = pod_error_set(reterr, r, "Failed to read network config '%s': %m",
                                          path);
                        continue;
                }
                /* Every file must parse: a broken one may be the network asked for. */
                r = pod_cni_conflist_parse(text, size, path, &l, reterr);
                if (r < 0) {
                        (void)pod_error_prefix(reterr, r, "Broken network config");
                        continue;
                }
                if (!streq(json_object_get_string(pod_json_get(l, "name")), name))
                        continue;
                if (found) {
                        r = pod_error_set(reterr, -ENOTUNIQ,
                                          "Network '%s' is defined twice: '%s' and '%s'", name,
                                          found_file, path);
                        continue;
                }
                found = TAKE_PTR(l);
                found_file = TAKE_PTR(path);
        }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        if (r < 0)
                return r;

        if (!found) {
                if (!streq(name, "default") && !streq(name, "default-restricted"))
                        return pod_error_set(reterr, -ENOENT,
                                             "Network '%s' is not defined in '%s' (*.conf, "
                                             "*.conflist)",
                                             name, dir);
                r = streq(name, "default") ? pod_cni_default_conflist(portmap, &found)
                                           : pod_cni_restricted_conflist(portmap, &found);
                if (r < 0)
                        return r;
                found_file = strdup(POD_CNI_BUILTIN);
                if (!found_file)
                        return -ENOMEM;
        } else if (portmap && !takes_port_mappings(found))
                return pod_error_set(reterr, -EINVAL,
                                     "--port: network '%s' ('%s') has no plugin with the "
                                     "\"portMappings\" capability (such as portmap)",
                                     name, found_file);
        *ret_conflist = TAKE_PTR(found);
        *ret_file = TAKE_PTR(found_file);
        return 0;
}

int pod_cni_find_plugin(const char *path, const char *type, char **ret, struct pod_error *reterr) {
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        if (!plugin_type_valid(type))
                return pod_error_set(reterr, -EINVAL, "Invalid CNI plugin type '%s'", type);
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = NULL;
                struct stat st;

                if (asprintf(&p, "%s/%s", d, type) < 0)
                        return -ENOMEM;
                if (stat(p, &st) >= 0 && S_ISREG(st.st_mode) && access(p, X_OK) >= 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return pod_error_set(reterr, -ENOENT,
                             "CNI plugin '%s' not found in '%s' (install "
                             "containernetworking-plugins, or set POD_CNI_PATH)",
                             type, path);
}

int pod_cni_result_parse(const char *text, size_t size, struct json_object **ret,
                         struct pod_error *reterr) {
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *ips;
        int r;

        r = pod_json_parse(text, size, POD_CNI_RESULT_MAX, &o, reterr);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                return pod_error_set(reterr, -EBADMSG, "CNI result is not a JSON object");
        r = pod_json_get_array(o, "ips", NULL, &ips, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; r > 0 && i < json_object_array_length(ips); i++) {
                struct json_object *ip = json_object_array_get_idx(ips, i);
                char *a = NULL;

                r = pod_json_as_object(ip, POD_JSON_IDX(POD_JSON_KEY(NULL, "ips"), i), reterr);
                if (r >= 0)
                        r = pod_json_get_string(ip, "address",
                                                POD_JSON_IDX(POD_JSON_KEY(NULL, "ips"), i), true,
                                                &a, reterr);
                free(a);
                if (r < 0)
                        return r;
                r = 1;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* "10.0.0.2/24" into ret. */
static int parse_cidr(const char *s, struct pod_cni_ip *ret) {
        struct pod_cni_ip ip = {};
        const char *slash = strchr(s, '/');
        unsigned char buf[16];
        char *end;
        long prefix;
        size_t n;

        if (!slash)
                return -EINVAL;
        n = (size_t)(slash - s);
        if (n == 0 || n >= sizeof(ip.address))
                return -EINVAL;
        memcpy(ip.address, s, n);
        ip.ipv6 = strchr(ip.address, ':') != NULL;
        if (inet_pton(ip.ipv6 ? AF_INET6 : AF_INET, ip.address, buf) != 1)
                return -EINVAL;
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (errno != 0 || end == slash + 1 || *end != 0 || prefix < 0 ||
            prefix > (ip.ipv6 ? 128 : 32))
                return -EINVAL;
        ip.prefix = (unsigned)prefix;
        if (ip.ipv6)
                (void)snprintf(ip.mask, sizeof(ip.mask), "%u", ip.prefix);
        else {
                uint32_t m = ip.prefix == 0 ? 0 : htonl(~(uint32_t)0 << (32 - ip.prefix));
                (void)inet_ntop(AF_INET, &m, ip.mask, sizeof(ip.mask));
        }
        *ret = ip;
        return 0;
}

static int ip_from(struct json_object *o, const char *addr_key, struct pod_cni_ip *ret) {
        struct json_object *a = pod_json_get(o, addr_key), *g = pod_json_get(o, "gateway");
        struct pod_cni_ip ip;
        int r;

        if (!a || !json_object_is_type(a, json_type_string))
                return -ENODATA;
        r = parse_cidr(json_object_get_string(a), &ip);
        if (r < 0)
                return r;
        if (g && json_object_is_type(g, json_type_string) &&
            strlen(json_object_get_string(g)) < sizeof(ip.gateway))
                strcpy(ip.gateway, json_object_get_string(g));
        *ret = ip;
        return 0;
}

static bool resolv_word_ok(const char *s) {
        if (!s[0] || strlen(s) > 253)
                return false;
        for (const char *c = s; *c; c++)
                if (*c <= ' ' || *c == '#' || *c == ';' || *c >= 127)
                        return false;
        return true;
}

int pod_cni_result_resolv_conf(struct json_object *result, const char *net_name, char **ret,
                               struct pod_error *reterr) {
        static const struct {
                const char *key, *line;
        } lists[] = { { "search", "search" }, { "options", "options" } };
        _cleanup_free_ char *text = NULL;
        struct json_object *dns, *ns, *v;
        size_t n = 0, count;
        FILE *f;

        dns = result && json_object_is_type(result, json_type_object) ? pod_json_get(result, "dns")
                                                                      : NULL;
        if (!dns || !json_object_is_type(dns, json_type_object))
                return 0;
        ns = pod_json_get(dns, "nameservers");
        if (!ns || !json_object_is_type(ns, json_type_array) || json_object_array_length(ns) == 0)
                return 0;
        f = open_memstream(&text, &n);
        if (!f)
                return -ENOMEM;
        fprintf(f, "# Generated by pod from the DNS that network '%s' returned\n", net_name);
        count = json_object_array_length(ns);
        for (size_t i = 0; i < count && i < 16; i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(ns, i));
                unsigned char buf[sizeof(struct in6_addr)];

                if (!s || (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1)) {
                        (void)fclose(f);
                        return pod_error_set(reterr, -EBADMSG,
                                             "Network '%s' returned DNS nameserver %zu, which is "
                                             "not an IP address",
                                             net_name, i);
                }
                fprintf(f, "nameserver %s\n", s);
        }
        for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
                v = pod_json_get(dns, lists[l].key);
                if (!v || !json_object_is_type(v, json_type_array) ||
                    json_object_array_length(v) == 0)
                        continue;
                fputs(lists[l].line, f);
                count = json_object_array_length(v);
                for (size_t i = 0; i < count && i < 32; i++) {
                        const char *s = json_object_get_string(json_object_array_get_idx(v, i));

                        if (!s || !resolv_word_ok(s)) {
                                (void)fclose(f);
                                return pod_error_set(reterr, -EBADMSG,
                                                     "Network '%s' returned a DNS %s entry that is "
                                                     "not one word",
                                                     net_name, lists[l].key);
                        }
                        fprintf(f, " %s", s);
                }
                fputs("\n", f);
        }
        v = pod_json_get(dns, "domain");
        if (v && json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);

                if (!resolv_word_ok(s)) {
                        (void)fclose(f);
                        return pod_error_set(reterr, -EBADMSG,
                                             "Network '%s' returned a DNS domain that is not one "
                                             "word",
                                             net_name);
                }
                fprintf(f, "domain %s\n", s);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 1;
}

int pod_cni_result_first_ip(struct json_object *result, struct pod_cni_ip *ret) {
        struct json_object *ips, *ip4;
        struct pod_cni_ip first = {}, ip;
        bool have = false;

        if (!result || !json_object_is_type(result, json_type_object))
                return -ENODATA;
        /* 0.3.0 and later: "ips"; the first IPv4 address wins, else the first at all. */
        ips = pod_json_get(result, "ips");
        if (ips && json_object_is_type(ips, json_type_array))
                for (size_t i = 0; i < json_object_array_length(ips); i++) {
                        if (ip_from(json_object_array_get_idx(ips, i), "address", &ip) < 0)
                                continue;
                        if (!ip.ipv6) {
                                *ret = ip;
                                return 0;
                        }
                        if (!have)
                                first = ip;
                        have = true;
                }
        if (have) {
                *ret = first;
                return 0;
        }
        /* 0.1.0 and 0.2.0: "ip4": {"ip": ...}, "ip6". */
        ip4 = pod_json_get(result, "ip4");
        if (ip4 && json_object_is_type(ip4, json_type_object) && ip_from(ip4, "ip", ret) >= 0)
                return 0;
        ip4 = pod_json_get(result, "ip6");
        if (ip4 && json_object_is_type(ip4, json_type_object) && ip_from(ip4, "ip", ret) >= 0)
                return 0;
        return -ENODATA;
}

/* Whether entry i of "ips" belongs to the interface named if_name: by its "interface" index
 * into "interfaces"; an entry without an index is the container's (there is only one). */
static bool ip_on_interface(struct json_object *result, struct json_object *entry,
                            const char *if_name) {
        struct json_object *idx = pod_json_get(entry, "interface"), *ifs, *itf, *name;
        int64_t i;

        if (!idx)
                return true;
        if (!json_object_is_type(idx, json_type_int))
                return false;
        i = json_object_get_int64(idx);
        ifs = pod_json_get(result, "interfaces");
        if (!ifs || !json_object_is_type(ifs, json_type_array) || i < 0 ||
            (size_t)i >= json_object_array_length(ifs))
                return false;
        itf = json_object_array_get_idx(ifs, (size_t)i);
        name = itf ? pod_json_get(itf, "name") : NULL;
        return name && json_object_is_type(name, json_type_string) &&
               streq(json_object_get_string(name), if_name) &&
               pod_json_get(itf, "sandbox"); /* the host side may share the name */
}

int pod_cni_result_if_ips(struct json_object *result, const char *if_name, struct pod_cni_ip *ret,
                          size_t max) {
        struct json_object *ips;
        size_t n = 0;

        if (!result || !json_object_is_type(result, json_type_object))
                return 0;
        ips = pod_json_get(result, "ips");
        if (ips && json_object_is_type(ips, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(ips) && n < max; i++) {
                        struct json_object *e = json_object_array_get_idx(ips, i);

                        if (e && json_object_is_type(e, json_type_object) &&
                            ip_on_interface(result, e, if_name) &&
                            ip_from(e, "address", &ret[n]) >= 0)
                                n++;
                }
                return (int)n;
        }
        for (size_t k = 0; k < 2; k++) {
                struct json_object *o = pod_json_get(result, k == 0 ? "ip4" : "ip6");

                if (n < max && o && json_object_is_type(o, json_type_object) &&
                    ip_from(o, "ip", &ret[n]) >= 0)
                        n++;
        }
        return (int)n;
}

struct pod_cni_attachment *pod_cni_attachment_free(struct pod_cni_attachment *a) {
        if (!a)
                return NULL;
        free(a->net_name);
        free(a->net_conf);
        free(a->if_name);
        free(a->args);
        free(a->container_id);
        free(a->netns);
        free(a->cni_path);
        json_object_put(a->conflist);
        json_object_put(a->runtime_config);
        json_object_put(a->result);
        free(a);
        return NULL;
}

int pod_cni_attachment_to_json(const struct pod_cni_attachment *a, char **ret) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        struct json_object *c;
        int r;

        if (!o)
                return -ENOMEM;
        r = pod_json_add_string(o, "netName", a->net_name);
        if (r >= 0)
                r = pod_json_add_string(o, "netConf", a->net_conf);
        if (r >= 0)
                r = pod_json_add_string(o, "ifName", a->if_name);
        if (r >= 0)
                r = pod_json_add_string(o, "args", a->args);
        if (r >= 0)
                r = pod_json_add_string(o, "containerID", a->container_id);
        if (r >= 0)
                r = pod_json_add_string(o, "netns", a->netns);
        if (r >= 0)
                r = pod_json_add_string(o, "cniPath", a->cni_path);
        if (r >= 0 && a->conflist && (r = dup_json(a->conflist, &c)) >= 0)
                r = pod_json_add(o, "conflist", c);
        if (r >= 0 && a->runtime_config && (r = dup_json(a->runtime_config, &c)) >= 0)
                r = pod_json_add(o, "runtimeConfig", c);
        if (r >= 0 && a->result && (r = dup_json(a->result, &c)) >= 0)
                r = pod_json_add(o, "result", c);
        if (r < 0)
                return r;
        return pod_json_to_string(o, true, ret);
}

int pod_cni_attachment_from_json(const char *text, size_t size, struct pod_cni_attachment **ret,
                                 struct pod_error *reterr) {
        _cleanup_(pod_cni_attachment_freep) struct pod_cni_attachment *a = NULL;
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *v;
        int r;

        r = pod_json_parse(text, size, STATE_MAX, &o, reterr);
        if (r < 0)
                return r;
        r = pod_json_as_object(o, NULL, reterr);
        if (r < 0)
                return r;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        r = pod_json_get_string(o, "netName", NULL, true, &a->net_name, reterr);
        if (r >= 0)
                r = pod_json_get_string(o, "netConf", NULL, true, &a->net_conf, reterr);
        if (r >= 0)
                r = pod_json_get_string(o, "ifName", NULL, true, &a->if_name, reterr);
        if (r >= 0)
                r = pod_json_get_string(o, "args", NULL, false, &a->args, reterr);
        if (r >= 0)
                r = pod_json_get_string(o, "containerID", NULL, true, &a->container_id, reterr);
        if (r >= 0)
                r = pod_json_get_string(o, "netns", NULL, true, &a->netns, reterr);
        if (r >= 0)
                r = pod_json_get_string(o, "cniPath", NULL, true, &a->cni_path, reterr);
        if (r < 0)
                return r;
        v = pod_json_get(o, "conflist");
        if (!v)
                return pod_error_set(reterr, -EINVAL, "conflist: is required");
        r = check_conflist(v, "conflist", reterr);
        if (r >= 0)
                r = dup_json(v, &a->conflist);
        if (r < 0)
                return r;
        v = pod_json_get(o, "runtimeConfig");
        if (v) {
                r = pod_json_as_object(v, POD_JSON_KEY(NULL, "runtimeConfig"), reterr);
                if (r >= 0)
                        r = dup_json(v, &a->runtime_config);
                if (r < 0)
                        return r;
        }
        v = pod_json_get(o, "result");
        if (v) {
                r = pod_json_as_object(v, POD_JSON_KEY(NULL, "result"), reterr);
                if (r >= 0)
                        r = dup_json(v, &a->result);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* The stdin of one plugin: its own object plus name, cniVersion, prevResult and the
 * runtimeConfig keys it asked for in "capabilities". */
static int plugin_config(const struct pod_cni_attachment *a, struct json_object *plugin,
                         struct json_object *prev, char **ret) {
        _cleanup_json_ struct json_object *c = NULL;
        struct json_object *caps, *v;
        int r;

        r = dup_json(plugin, &c);
        if (r < 0)
                return r;
        json_object_object_del(c, "name");
        json_object_object_del(c, "cniVersion");
        json_object_object_del(c, "prevResult");
        json_object_object_del(c, "runtimeConfig");
        r = pod_json_add_string(c, "name",
                                json_object_get_string(pod_json_get(a->conflist, "name")));
        if (r >= 0)
                r = pod_json_add_string(
                        c, "cniVersion",
                        json_object_get_string(pod_json_get(a->conflist, "cniVersion")));
        if (r >= 0 && prev && (r = dup_json(prev, &v)) >= 0)
                r = pod_json_add(c, "prevResult", v);
        if (r < 0)
                return r;
        caps = pod_json_get(plugin, "capabilities");
        if (a->runtime_config && caps && json_object_is_type(caps, json_type_object)) {
                _cleanup_json_ struct json_object *rc = json_object_new_object();

                if (!rc)
                        return -ENOMEM;
                json_object_object_foreach (caps, key, on) {
                        struct json_object *val = json_object_object_get(a->runtime_config, key);

                        if (!val || !json_object_is_type(on, json_type_boolean) ||
                            !json_object_get_boolean(on))
                                continue;
                        r = dup_json(val, &v);
                        if (r >= 0)
                                r = pod_json_add(rc, key, v);
                        if (r < 0)
                                return r;
                }
                if (json_object_object_length(rc) > 0) {
                        r = pod_json_add(c, "runtimeConfig", TAKE_PTR(rc));
                        if (r < 0)
                                return r;
                }
        }
        return pod_json_to_string(c, false, ret);
}

static int env_push(char **env, size_t *n, const char *k, const char *v) {
        if (!v)
                return 0;
        if (asprintf(&env[*n], "%s=%s", k, v) < 0)
                return -ENOMEM;
        (*n)++;
        return 0;
}

/* Runs one plugin; *ret_out gets its stdout, *ret_status its exit status. */
static int run_plugin(const struct pod_cni_attachment *a, const char *command, const char *exe,
                      const char *conf, char **ret_out, size_t *ret_size, int *ret_status) {
        _cleanup_close_ int in = -EBADF, out_r = -EBADF, out_w = -EBADF;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *out = NULL;
        size_t n_env = 0, size = 0, alloc = 0;
        int p[2], r, ws;
        pid_t pid, parent;

        env = calloc(10, sizeof(char *));
        if (!env)
                return -ENOMEM;
        r = env_push(env, &n_env, "CNI_COMMAND", command);
        if (r >= 0)
                r = env_push(env, &n_env, "CNI_CONTAINERID", a->container_id);
        if (r >= 0)
                r = env_push(env, &n_env, "CNI_NETNS", a->netns);
        if (r >= 0)
                r = env_push(env, &n_env, "CNI_IFNAME", a->if_name);
        if (r >= 0)
                r = env_push(env, &n_env, "CNI_PATH", a->cni_path);
        if (r >= 0 && a->args && a->args[0])
                r = env_push(env, &n_env, "CNI_ARGS", a->args);
        /* bridge, portmap and firewall run iptables/nft from PATH. */
        if (r >= 0)
                r = env_push(env, &n_env, "PATH",
                             getenv("PATH")
                                     ?: "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                        "/usr/bin:/sbin:/bin");
        if (r < 0)
                return r;

        /* The config goes in through a memfd, so no pipe buffer can deadlock us. */
        in = memfd_create("cni-config", MFD_CLOEXEC);
        if (in < 0)
                return -errno;
        r = loop_write(in, conf, strlen(conf));
        if (r < 0)
                return r;
        if (lseek(in, 0, SEEK_SET) < 0)
                return -errno;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        out_r = p[0];
        out_w = p[1];
        parent = getpid();
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                char *argv[] = { (char *)exe, NULL };

                /* A plugin never outlives its caller: a stage1 killed during ADD must not
                 * leave a plugin that adds rules after gc has deleted the pod's (a live
                 * port forward to an address IPAM hands to the next pod).  The check
                 * after the prctl covers a parent that died before it. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(127);
                if (dup2(in, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0)
                        _exit(127);
                /* Nothing else of ours (the pod lock above all) reaches a plugin. */
                if (sys_close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                        for (int fd = 3; fd < 4096; fd++)
                                (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
                execve(exe, argv, env);
                _exit(127);
        }
        out_w = safe_close(out_w);
        for (;;) {
                ssize_t k;

                if (alloc - size < 4096) {
                        char *t;

                        if (alloc >= POD_CNI_RESULT_MAX)
                                break; /* the plugin gets EPIPE for the rest */
                        t = realloc(out, alloc + 65536);
                        if (!t) {
                                r = -ENOMEM;
                                break;
                        }
                        out = t;
                        alloc += 65536;
                }
                k = read(out_r, out + size, alloc - size - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                size += (size_t)k;
        }
        out_r = safe_close(out_r);
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (r < 0)
                return r;
        if (!out && !(out = calloc(1, 1)))
                return -ENOMEM;
        out[size] = 0;
        *ret_status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        *ret_out = TAKE_PTR(out);
        *ret_size = size;
        return 0;
}

/* "msg: details (CNI error N)" out of a plugin's error object, else its raw output. */
static void plugin_error(struct pod_error *reterr, const struct pod_cni_attachment *a,
                         const char *type, const char *command, int status, const char *out,
                         size_t size) {
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *msg = NULL, *details = NULL, *code = NULL;

        if (pod_json_parse(out, size, POD_CNI_RESULT_MAX, &o, NULL) >= 0 &&
            json_object_is_type(o, json_type_object)) {
                msg = pod_json_get(o, "msg");
                details = pod_json_get(o, "details");
                code = pod_json_get(o, "code");
        }
        if (msg)
                (void)pod_error_set(reterr, -EIO,
                                    "Network '%s' (%s): plugin '%s' failed to %s: %s%s%s (CNI "
                                    "error %d)",
                                    a->net_name, a->net_conf, type, command,
                                    json_object_get_string(msg), details ? ": " : "",
                                    details ? json_object_get_string(details) : "",
                                    code ? json_object_get_int(code) : 0);
        else
                (void)pod_error_set(reterr, -EIO,
                                    "Network '%s' (%s): plugin '%s' failed to %s with exit status "
                                    "%d%s%.200s",
                                    a->net_name, a->net_conf, type, command, status,
                                    size ? ": " : "", out);
}

static int run_list(struct pod_cni_attachment *a, const char *command, bool reverse,
                    struct pod_error *reterr) {
        struct json_object *plugins = pod_json_get(a->conflist, "plugins");
        _cleanup_json_ struct json_object *prev = NULL;
        size_t n = json_object_array_length(plugins);
        int r;

        /* DEL and CHECK see the stored result; ADD builds it plugin by plugin. */
        if (a->result && !streq(command, "ADD")) {
                r = dup_json(a->result, &prev);
                if (r < 0)
                        return r;
        }

        for (size_t k = 0; k < n; k++) {
                struct json_object *p = json_object_array_get_idx(plugins, reverse ? n - 1 - k : k);
                const char *type = json_object_get_string(pod_json_get(p, "type"));
                _cleanup_free_ char *exe = NULL, *conf = NULL, *out = NULL;
                size_t size;
                int status;

                r = pod_cni_find_plugin(a->cni_path, type, &exe, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Network '%s' (%s)", a->net_name,
                                                a->net_conf);
                r = plugin_config(a, p, prev, &conf);
                if (r < 0)
                        return r;
                r = run_plugin(a, command, exe, conf, &out, &size, &status);
                if (r < 0)
                        return pod_error_set(reterr, r,
                                             "Network '%s': failed to run plugin '%s': %m",
                                             a->net_name, exe);
                if (status != 0) {
                        plugin_error(reterr, a, type, command, status, out, size);
                        return -EIO;
                }
                if (streq(command, "ADD") && size > 0 && out[strspn(out, " \t\r\n")]) {
                        _cleanup_json_ struct json_object *res = NULL;

                        r = pod_cni_result_parse(out, size, &res, reterr);
                        if (r < 0)
                                return pod_error_prefix(reterr, r,
                                                        "Network '%s': plugin '%s' returned "
                                                        "a bad result",
                                                        a->net_name, type);
                        json_object_put(prev);
                        prev = TAKE_PTR(res);
                }
        }
        if (streq(command, "ADD")) {
                if (!prev)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Network '%s' (%s): the plugins returned no result",
                                             a->net_name, a->net_conf);
                json_object_put(a->result);
                a->result = TAKE_PTR(prev);
        }
        return 0;
}

int pod_cni_find_plugins(const struct pod_cni_attachment *a, struct pod_error *reterr) {
        struct json_object *plugins = pod_json_get(a->conflist, "plugins");
        int r;

        for (size_t k = 0; k < json_object_array_length(plugins); k++) {
                _cleanup_free_ char *exe = NULL;

                r = pod_cni_find_plugin(a->cni_path,
                                        json_object_get_string(pod_json_get(
                                                json_object_array_get_idx(plugins, k), "type")),
                                        &exe, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Network '%s' (%s)", a->net_name,
                                                a->net_conf);
        }
        return 0;
}

int pod_cni_add(struct pod_cni_attachment *a, struct pod_error *reterr) {
        return run_list(a, "ADD", false, reterr);
}

int pod_cni_check(struct pod_cni_attachment *a, struct pod_error *reterr) {
        return run_list(a, "CHECK", false, reterr);
}

int pod_cni_del(struct pod_cni_attachment *a, struct pod_error *reterr) {
        return run_list(a, "DEL", true, reterr);
}

int pod_cni_net_append(char **net, const char *value) {
        char *joined;

        if (!value)
                value = "default";
        if (!*net)
                joined = strdup(value);
        else if (asprintf(&joined, "%s,%s", *net, value) < 0)
                joined = NULL;
        if (!joined)
                return -ENOMEM;
        free(*net);
        *net = joined;
        return 0;
}

int pod_cni_parse_net(const char *s, char ***ret_names, char ***ret_args,
                      struct pod_error *reterr) {
        _cleanup_strv_free_ char **names = NULL, **args = NULL;
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;
        size_t n = 0;

        if (streq(s, "host") || streq(s, "none")) {
                if (ret_names)
                        *ret_names = NULL;
                if (ret_args)
                        *ret_args = NULL;
                return 0;
        }
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        for (const char *p = s; *p; p++)
                n += *p == ',';
        names = calloc(n + 2, sizeof(char *));
        args = calloc(n + 2, sizeof(char *));
        if (!names || !args)
                return -ENOMEM;
        n = 0;
        if (!s[0] || s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --net='%s': expected host, none, default or "
                                     "NAME[:ARGS][,NAME[:ARGS]...]",
                                     s);
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                char *colon = strchr(item, ':');

                if (colon)
                        *colon = 0;
                if (streq(item, "host") || streq(item, "none"))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid --net='%s': '%s' cannot be combined with "
                                             "other networks",
                                             s, item);
                if (!net_name_valid(item))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid network name '%s' in --net='%s' (letters, "
                                             "digits, '_', '.', '-')",
                                             item, s);
                for (size_t k = 0; k < n; k++)
                        if (streq(names[k], item))
                                return pod_error_set(reterr, -EINVAL,
                                                     "Network '%s' is given twice in --net='%s'",
                                                     item, s);
                if (colon && (!colon[1] || strpbrk(colon + 1, " \t\n")))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid CNI_ARGS '%s' for network '%s' (K=V;K=V)",
                                             colon + 1, item);
                names[n] = strdup(item);
                if (!names[n])
                        return -ENOMEM;
                args[n] = strdup(colon ? colon + 1 : "");
                if (!args[n])
                        return -ENOMEM;
                n++;
        }
        if (ret_names)
                *ret_names = TAKE_PTR(names);
        if (ret_args)
                *ret_args = TAKE_PTR(args);
        return (int)n;
}

static bool ip_valid(const char *s) {
        unsigned char buf[16];

        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int pod_cni_parse_port(const char *s, char **ret_name, char **ret_host_ip, unsigned *ret_host_port,
                       struct pod_error *reterr) {
        _cleanup_free_ char *name = NULL, *host_ip = NULL;
        const char *colon = strchr(s, ':'), *last = strrchr(s, ':');
        char *end;
        long port;

        if (!colon)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --port='%s': expected NAME:[HOSTIP:]HOSTPORT", s);
        name = strndup(s, (size_t)(colon - s));
        if (!name)
                return -ENOMEM;
        if (!ac_name_valid(name))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --port='%s': '%s' is not a port name (AC Name)", s,
                                     name);
        if (last != colon) {
                host_ip = strndup(colon + 1, (size_t)(last - colon - 1));
                if (!host_ip)
                        return -ENOMEM;
                if (!ip_valid(host_ip))
                        return pod_error_set(reterr, -EINVAL,
                                             "Invalid --port='%s': '%s' is not an IP address", s,
                                             host_ip);
        }
        errno = 0;
        port = strtol(last + 1, &end, 10);
        if (errno != 0 || end == last + 1 || *end != 0 || port < 1 || port > 65535 ||
            !(last[1] >= '0' && last[1] <= '9'))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --port='%s': host port '%s' is not in 1..65535", s,
                                     last + 1);
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        if (ret_host_ip)
                *ret_host_ip = TAKE_PTR(host_ip);
        if (ret_host_port)
                *ret_host_port = (unsigned)port;
        return 0;
}

int pod_cni_parse_hosts_entry(const char *s, struct pod_error *reterr) {
        _cleanup_free_ char *ip = NULL;
        const char *eq = strchr(s, '='), *names;

        if (streq(s, "host"))
                return 0;
        if (!eq)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --hosts-entry='%s': expected IP=NAME[,NAME...] or "
                                     "host",
                                     s);
        ip = strndup(s, (size_t)(eq - s));
        if (!ip)
                return -ENOMEM;
        if (!ip_valid(ip))
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --hosts-entry='%s': '%s' is not an IP address", s,
                                     ip);
        names = eq + 1;
        if (!names[0] || names[0] == ',' || names[strlen(names) - 1] == ',' ||
            strstr(names, ",,") ||
            names[strspn(names, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "-._,")] != 0)
                return pod_error_set(reterr, -EINVAL,
                                     "Invalid --hosts-entry='%s': host names are letters, digits, "
                                     "'-', '.', '_', separated by ','",
                                     s);
        return 0;
}
