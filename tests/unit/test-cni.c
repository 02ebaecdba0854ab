/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* src/cni.c without plugins: configuration files and the built-in network, results of
 * every CNI version, persisted attachments, plugin lookup, the command-line syntax.
 * Running real plugins is tests/integration/net.sh. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cni.h"
#include "fd-util.h"
#include "json-util.h"
#include "macro.h"
#include "tap.h"

static char dir[] = "/tmp/test-cni.XXXXXX";

static void put(const char *name, const char *text) {
        char p[512];

        (void)snprintf(p, sizeof(p), "%s/%s", dir, name);
        if (write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0644) < 0)
                abort();
}

static void test_conflist(void) {
        _cleanup_json_ struct json_object *l = NULL;
        struct pod_error e = {};
        const char *conf = "{\"cniVersion\":\"0.3.1\",\"name\":\"n1\",\"type\":\"bridge\","
                           "\"ipam\":{\"type\":\"host-local\"}}";

        tap_is_int(pod_cni_conflist_parse(conf, strlen(conf), "a.conf", &l, &e), 0,
                   "a .conf becomes a one-plugin list");
        tap_is_str(json_object_get_string(pod_json_get(l, "name")), "n1", "with its name");
        tap_is_int((int)json_object_array_length(pod_json_get(l, "plugins")), 1, "one plugin");
        tap_ok(pod_json_get(json_object_array_get_idx(pod_json_get(l, "plugins"), 0), "ipam") !=
                       NULL,
               "the plugin keeps every key of the file");

        json_object_put(l);
        l = NULL;
        tap_is_int(pod_cni_conflist_parse("{\"name\":\"x\",", strlen("{\"name\":\"x\","),
                                          "/etc/pod/net.d/b.conf", &l, &e),
                   -EBADMSG, "broken JSON is refused");
        tap_ok(strstr(e.msg, "/etc/pod/net.d/b.conf") != NULL, "naming the file: %s", e.msg);
        pod_error_clear(&e);
        tap_is_int(pod_cni_conflist_parse(
                           "{\"name\":\"x\",\"plugins\":[{\"type\":\"../bin/sh\"}]}",
                           strlen("{\"name\":\"x\",\"plugins\":[{\"type\":\"../bin/sh\"}]}"), "c",
                           &l, &e),
                   -EINVAL, "a plugin type with '/' is refused");
        pod_error_clear(&e);
        tap_is_int(pod_cni_conflist_parse("{\"name\":\"a b\",\"type\":\"bridge\"}",
                                          strlen("{\"name\":\"a b\",\"type\":\"bridge\"}"), "d", &l,
                                          &e),
                   -EINVAL, "an invalid network name is refused");
        pod_error_clear(&e);
        tap_is_int(pod_cni_conflist_parse("{\"name\":\"x\",\"plugins\":[]}",
                                          strlen("{\"name\":\"x\",\"plugins\":[]}"), "e", &l, &e),
                   -EINVAL, "an empty plugin list is refused");
}

static void test_network_load(void) {
        _cleanup_json_ struct json_object *l = NULL;
        _cleanup_free_ char *file = NULL;
        struct json_object *plugins;
        struct pod_error e = {};
        char p[512];

        tap_is_int(pod_cni_network_load(dir, "default", false, &l, &file, &e), 0,
                   "default without a file: built in");
        tap_is_str(file, POD_CNI_BUILTIN, "named built-in");
        plugins = pod_json_get(l, "plugins");
        tap_is_int((int)json_object_array_length(plugins), 1, "bridge only without ports");
        tap_is_str(json_object_get_string(
                           pod_json_get(json_object_array_get_idx(plugins, 0), "bridge")),
                   "pod0", "on bridge pod0");
        json_object_put(l);
        free(file);
        l = NULL;
        file = NULL;
        tap_is_int(pod_cni_network_load(dir, "default", true, &l, &file, &e), 0,
                   "default with ports");
        plugins = pod_json_get(l, "plugins");
        tap_is_str(
                json_object_get_string(pod_json_get(json_object_array_get_idx(plugins, 1), "type")),
                "portmap", "gets portmap appended");
        json_object_put(l);
        free(file);
        l = NULL;
        file = NULL;

        put("10-a.conflist", "{\"cniVersion\":\"0.4.0\",\"name\":\"a\",\"plugins\":[{\"type\":"
                             "\"bridge\"}]}");
        put("ignored.txt", "not json");
        tap_is_int(pod_cni_network_load(dir, "a", false, &l, &file, &e), 0, "a named network");
        (void)snprintf(p, sizeof(p), "%s/10-a.conflist", dir);
        tap_is_str(file, p, "from its file");
        json_object_put(l);
        free(file);
        l = NULL;
        file = NULL;
        tap_is_int(pod_cni_network_load(dir, "a", true, &l, &file, &e), -EINVAL,
                   "ports on a network without portMappings are refused");
        pod_error_clear(&e);
        tap_is_int(pod_cni_network_load(dir, "nope", false, &l, &file, &e), -ENOENT,
                   "an undefined network");
        tap_ok(strstr(e.msg, "'nope'") && strstr(e.msg, dir), "names it and the dir: %s", e.msg);
        pod_error_clear(&e);

        put("20-dup.conf", "{\"name\":\"a\",\"type\":\"ptp\"}");
        tap_is_int(pod_cni_network_load(dir, "a", false, &l, &file, &e), -ENOTUNIQ,
                   "a network defined twice");
        pod_error_clear(&e);
        put("20-dup.conf", "{\"name\":\"a\",");
        tap_is_int(pod_cni_network_load(dir, "default", false, &l, &file, &e), -EBADMSG,
                   "any broken file fails the lookup");
        tap_ok(strstr(e.msg, "20-dup.conf") != NULL, "naming it: %s", e.msg);
        pod_error_clear(&e);
        (void)snprintf(p, sizeof(p), "%s/20-dup.conf", dir);
        (void)unlink(p);
}

static void test_result(void) {
        _cleanup_json_ struct json_object *r1 = NULL, *r2 = NULL;
        struct pod_cni_ip ip = {};
        struct pod_error e = {};
        const char *v04 = "{\"cniVersion\":\"0.4.0\",\"ips\":[{\"address\":\"fd00::5/64\"},"
                          "{\"address\":\"172.16.28.9/24\",\"gateway\":\"172.16.28.1\"}]}";
        const char *v02 = "{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.1.2.3/16\"}}";

        tap_is_int(pod_cni_result_parse(v04, strlen(v04), &r1, &e), 0, "a 0.4.0 result");
        tap_is_int(pod_cni_result_first_ip(r1, &ip), 0, "has an IP");
        tap_is_str(ip.address, "172.16.28.9", "IPv4 preferred");
        tap_is_str(ip.mask, "255.255.255.0", "dotted mask");
        tap_is_str(ip.gateway, "172.16.28.1", "gateway");
        tap_is_int(pod_cni_result_parse(v02, strlen(v02), &r2, &e), 0, "a 0.2.0 result");
        tap_is_int(pod_cni_result_first_ip(r2, &ip), 0, "has an IP");
        tap_is_str(ip.address, "10.1.2.3", "from ip4");
        tap_is_str(ip.mask, "255.255.0.0", "/16");
        tap_is_int(pod_cni_result_parse("[]", strlen("[]"), &r2, &e), -EBADMSG, "not an object");
}

/* The addresses of the container interface, for the stand-in of an interrupted DEL. */
static void test_result_if_ips(void) {
        _cleanup_json_ struct json_object *r1 = NULL, *r2 = NULL, *r3 = NULL;
        struct pod_cni_ip ips[4];
        struct pod_error e = {};
        /* As bridge returns it: the host bridge and veth carry no sandbox, an address on
         * the bridge's index must not count, nor one on an out-of-range index. */
        const char *v1 = "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"pod0\"},"
                         "{\"name\":\"eth0\"},{\"name\":\"eth0\",\"sandbox\":\"/run/x\"}],"
                         "\"ips\":[{\"address\":\"172.16.28.5/24\",\"interface\":2},"
                         "{\"address\":\"fd00::5/64\",\"interface\":2},"
                         "{\"address\":\"10.9.9.9/8\",\"interface\":1},"
                         "{\"address\":\"10.8.8.8/8\",\"interface\":7}]}";
        const char *v0 = "{\"cniVersion\":\"0.3.1\",\"ips\":[{\"address\":\"10.0.0.2/24\"}]}";
        const char *v02 = "{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.1.2.3/16\"},"
                          "\"ip6\":{\"ip\":\"fd01::3/64\"}}";

        tap_is_int(pod_cni_result_parse(v1, strlen(v1), &r1, &e), 0, "a 1.0.0 result");
        tap_is_int(pod_cni_result_if_ips(r1, "eth0", ips, 4), 2,
                   "eth0 in the sandbox has two addresses (not the host-side ones)");
        tap_is_str(ips[0].address, "172.16.28.5", "the IPv4 one");
        tap_is_int((int)ips[0].prefix, 24, "with its prefix");
        tap_ok(ips[1].ipv6 && streq(ips[1].address, "fd00::5"), "the IPv6 one");
        tap_is_int(pod_cni_result_if_ips(r1, "eth0", ips, 1), 1, "at most max");
        tap_is_int(pod_cni_result_if_ips(r1, "eth1", ips, 4), 0, "another interface: none");
        tap_is_int(pod_cni_result_parse(v0, strlen(v0), &r2, &e), 0, "a result without indexes");
        tap_is_int(pod_cni_result_if_ips(r2, "eth0", ips, 4), 1, "its address is the container's");
        tap_is_int(pod_cni_result_parse(v02, strlen(v02), &r3, &e), 0, "a 0.2.0 result");
        tap_is_int(pod_cni_result_if_ips(r3, "eth0", ips, 4), 2, "ip4 and ip6");
        tap_is_str(ips[1].address, "fd01::3", "in that order");
        tap_is_int(pod_cni_result_if_ips(NULL, "eth0", ips, 4), 0, "no result: none");
}

static void test_result_dns(void) {
        _cleanup_json_ struct json_object *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL;
        _cleanup_free_ char *t = NULL;
        struct pod_error e = {};
        const char *full =
                "{\"cniVersion\":\"1.0.0\",\"dns\":{\"nameservers\":[\"192.0.2.1\","
                "\"2001:db8::1\"],\"domain\":\"ex.test\",\"search\":[\"a.test\",\"b.test\"],"
                "\"options\":[\"ndots:2\"]}}";
        const char *empty = "{\"cniVersion\":\"1.0.0\",\"dns\":{}}";
        const char *bad_ns =
                "{\"cniVersion\":\"1.0.0\",\"dns\":{\"nameservers\":[\"x\\nnameserver 1.2.3.4\"]}}";
        const char *bad_search =
                "{\"cniVersion\":\"1.0.0\",\"dns\":{\"nameservers\":[\"192.0.2.1\"],"
                "\"search\":[\"a b\"]}}";

        tap_is_int(pod_cni_result_parse(full, strlen(full), &r1, &e), 0, "a result with DNS");
        tap_is_int(pod_cni_result_resolv_conf(r1, "n", &t, &e), 1, "generates a resolv.conf");
        tap_ok(t && strstr(t,
                           "\nnameserver 192.0.2.1\nnameserver 2001:db8::1\nsearch a.test b.test\n"
                           "options ndots:2\ndomain ex.test\n"),
               "with every field, one directive per line");
        tap_is_int(pod_cni_result_parse(empty, strlen(empty), &r2, &e), 0, "empty DNS");
        tap_is_int(pod_cni_result_resolv_conf(r2, "n", &t, &e), 0, "generates nothing");
        tap_is_int(pod_cni_result_parse(bad_ns, strlen(bad_ns), &r3, &e), 0,
                   "a hostile nameserver");
        tap_is_int(pod_cni_result_resolv_conf(r3, "n", &t, &e), -EBADMSG, "is refused");
        tap_is_int(pod_cni_result_parse(bad_search, strlen(bad_search), &r4, &e), 0,
                   "a search entry of two words");
        e = (struct pod_error){};
        tap_is_int(pod_cni_result_resolv_conf(r4, "n", &t, &e), -EBADMSG, "is refused");
}

static void test_attachment(void) {
        _cleanup_(pod_cni_attachment_freep) struct pod_cni_attachment *a = NULL, *b = NULL;
        _cleanup_free_ char *t1 = NULL, *t2 = NULL;
        struct pod_error e = {};

        a = calloc(1, sizeof(*a));
        a->net_name = strdup("default");
        a->net_conf = strdup(POD_CNI_BUILTIN);
        a->if_name = strdup("eth0");
        a->container_id = strdup("0badc0de-1234-4abc-8def-00000000cafe");
        a->netns = strdup("/run/pod/netns/x");
        a->cni_path = strdup("/usr/lib/cni");
        tap_is_int(pod_cni_default_conflist(true, &a->conflist), 0, "built-in list");
        tap_is_int(pod_cni_attachment_to_json(a, &t1), 0, "attachment serialises");
        tap_is_int(pod_cni_attachment_from_json(t1, strlen(t1), &b, &e), 0, "and parses back");
        tap_is_int(pod_cni_attachment_to_json(b, &t2), 0, "serialises again");
        tap_is_str(t2, t1, "identically");
        tap_ok(b->result == NULL, "no result before ADD");
        tap_is_int(pod_cni_attachment_from_json("{\"netName\":\"x\"}",
                                                strlen("{\"netName\":\"x\"}"), &b, &e),
                   -EINVAL, "an incomplete state file is refused");
}

static void test_find_plugin(void) {
        _cleanup_free_ char *exe = NULL;
        struct pod_error e = {};
        char path[600], p[512];

        (void)snprintf(p, sizeof(p), "%s/bin", dir);
        (void)mkdir(p, 0755);
        (void)snprintf(p, sizeof(p), "%s/bin/fake", dir);
        put("bin/fake", "#!/bin/sh\n");
        (void)chmod(p, 0755);
        put("bin/noexec", "x");
        (void)snprintf(path, sizeof(path), "/nonexistent:%s/bin", dir);
        tap_is_int(pod_cni_find_plugin(path, "fake", &exe, &e), 0, "found in the second dir");
        tap_is_str(exe, p, "full path");
        tap_is_int(pod_cni_find_plugin(path, "noexec", &exe, &e), -ENOENT,
                   "not executable: not a plugin");
        tap_ok(strstr(e.msg, "'noexec'") && strstr(e.msg, path), "names plugin and path: %s",
               e.msg);
        pod_error_clear(&e);
        tap_is_int(pod_cni_find_plugin(path, "../bin/fake", &exe, &e), -EINVAL,
                   "a type with '/' is refused");
}

static void test_syntax(void) {
        _cleanup_strv_free_ char **names = NULL, **args = NULL;
        _cleanup_free_ char *n = NULL, *ip = NULL;
        unsigned port = 0;
        struct pod_error e = {};

        tap_is_int(pod_cni_parse_net("host", NULL, NULL, &e), 0, "host: no CNI networks");
        tap_is_int(pod_cni_parse_net("none", NULL, NULL, &e), 0, "none: no CNI networks");
        tap_is_int(pod_cni_parse_net("default:IP=10.0.0.5;X=1,b", &names, &args, &e), 2,
                   "two networks");
        tap_is_str(names[0], "default", "first");
        tap_is_str(args[0], "IP=10.0.0.5;X=1", "its CNI_ARGS");
        tap_is_str(names[1], "b", "second");
        tap_is_str(args[1], "", "without ARGS");
        tap_is_int(pod_cni_parse_net("a,a", NULL, NULL, &e), -EINVAL, "a network twice");
        tap_is_int(pod_cni_parse_net("a,host", NULL, NULL, &e), -EINVAL, "host in a list");
        tap_is_int(pod_cni_parse_net("a,", NULL, NULL, &e), -EINVAL, "empty name");
        tap_is_int(pod_cni_parse_net("a/b", NULL, NULL, &e), -EINVAL, "bad name");

        tap_is_int(pod_cni_parse_port("http:8080", &n, &ip, &port, &e), 0, "NAME:PORT");
        tap_is_str(n, "http", "name");
        tap_ok(ip == NULL && port == 8080, "no host IP, port 8080");
        free(n);
        n = NULL;
        tap_is_int(pod_cni_parse_port("http:127.0.0.1:80", &n, &ip, &port, &e), 0, "NAME:IP:PORT");
        tap_is_str(ip, "127.0.0.1", "host IP");
        tap_is_int(pod_cni_parse_port("http:::1:80", NULL, NULL, NULL, &e), 0, "IPv6 host IP");
        tap_is_int(pod_cni_parse_port("http:0", NULL, NULL, NULL, &e), -EINVAL, "port 0");
        tap_is_int(pod_cni_parse_port("http:65536", NULL, NULL, NULL, &e), -EINVAL, "port 65536");
        tap_is_int(pod_cni_parse_port("http:x:80", NULL, NULL, NULL, &e), -EINVAL, "bad host IP");
        tap_is_int(pod_cni_parse_port("Bad:80", NULL, NULL, NULL, &e), -EINVAL, "bad name");

        tap_is_int(pod_cni_parse_hosts_entry("host", &e), 0, "hosts-entry host");
        tap_is_int(pod_cni_parse_hosts_entry("10.0.0.1=a,b.example", &e), 0, "IP=NAME,NAME");
        tap_is_int(pod_cni_parse_hosts_entry("10.0.0.1=", &e), -EINVAL, "no name");
        tap_is_int(pod_cni_parse_hosts_entry("10.0.0.1=a b", &e), -EINVAL, "space in a name");
        tap_is_int(pod_cni_parse_hosts_entry("x=a", &e), -EINVAL, "not an IP");
}

/* The protocol against plugins that are shell scripts: each logs its command, env and
 * stdin to a file and answers like a CNI plugin (a result, or an error object). */
static void test_protocol(void) {
        _cleanup_(pod_cni_attachment_freep) struct pod_cni_attachment *a = NULL;
        _cleanup_free_ char *log = NULL;
        struct pod_cni_ip ip = {};
        struct pod_error e = {};
        const char *conf = "{\"cniVersion\":\"0.4.0\",\"name\":\"t\",\"plugins\":["
                           "{\"type\":\"one\",\"k\":1},{\"type\":\"two\",\"capabilities\":"
                           "{\"portMappings\":true}}]}";
        char bin[512], script[1024];
        size_t size;

        (void)snprintf(bin, sizeof(bin), "%s/proto", dir);
        (void)mkdir(bin, 0755);
        for (int i = 0; i < 2; i++) {
                const char *name = i == 0 ? "one" : "two";
                char path[600];

                (void)snprintf(script, sizeof(script),
                               "#!/bin/sh\n"
                               "{ echo \"%s $CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME "
                               "$CNI_ARGS\"; cat; echo; } >> %s/log\n"
                               "[ -e %s/fail-%s ] && { echo '{\"code\":11,\"msg\":\"no IP "
                               "addresses available\",\"details\":\"range full\"}'; exit 1; }\n"
                               "[ \"$CNI_COMMAND\" = ADD ] && echo '{\"cniVersion\":\"0.4.0\","
                               "\"ips\":[{\"address\":\"10.0.%d.2/24\"}]}'\n"
                               "exit 0\n",
                               name, dir, dir, name, i + 1);
                (void)snprintf(path, sizeof(path), "proto/%s", name);
                put(path, script);
                (void)snprintf(path, sizeof(path), "%s/proto/%s", dir, name);
                (void)chmod(path, 0755);
        }
        a = calloc(1, sizeof(*a));
        a->net_name = strdup("t");
        a->net_conf = strdup("t.conflist");
        a->if_name = strdup("eth3");
        a->args = strdup("IP=10.0.2.2");
        a->container_id = strdup("cid");
        a->netns = strdup("/run/pod/netns/cid");
        a->cni_path = strdup(bin);
        tap_is_int(pod_cni_conflist_parse(conf, strlen(conf), "t.conflist", &a->conflist, &e), 0,
                   "protocol: config");
        tap_is_int(pod_cni_find_plugins(a, &e), 0, "both plugins found");
        a->runtime_config = json_object_new_object();
        (void)pod_json_add(a->runtime_config, "portMappings", json_object_new_array());
        tap_is_int(pod_cni_add(a, &e), 0, "ADD runs the list");
        tap_is_int(pod_cni_result_first_ip(a->result, &ip), 0, "the result is the last plugin's");
        tap_is_str(ip.address, "10.0.2.2", "from plugin two");
        (void)snprintf(script, sizeof(script), "%s/log", dir);
        tap_is_int(read_full_file_at(AT_FDCWD, script, 1 << 20, &log, &size), 0, "log written");
        tap_ok(strstr(log, "one ADD cid /run/pod/netns/cid eth3 IP=10.0.2.2\n") != NULL,
               "CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS");
        tap_ok(strstr(log, "\"name\":\"t\"") && strstr(log, "\"cniVersion\":\"0.4.0\"") &&
                       strstr(log, "\"k\":1"),
               "stdin: the plugin's config with name and cniVersion");
        tap_ok(strstr(log, "two ADD") && strstr(strstr(log, "two ADD"), "\"prevResult\"") &&
                       strstr(strstr(log, "two ADD"), "10.0.1.2/24"),
               "plugin two gets plugin one's result as prevResult");
        tap_ok(strstr(strstr(log, "two ADD"), "\"runtimeConfig\":{\"portMappings\":[]}") != NULL,
               "and the runtimeConfig it declared in capabilities");
        {
                const char *one = strstr(log, "one ADD"), *two = strstr(log, "two ADD");
                _cleanup_free_ char *sec =
                        one && two && one < two ? strndup(one, (size_t)(two - one)) : NULL;

                tap_ok(sec && !strstr(sec, "runtimeConfig"),
                       "plugin one, without the capability, gets none");
        }

        (void)unlink(script);
        tap_is_int(pod_cni_check(a, &e), 0, "CHECK");
        tap_is_int(pod_cni_del(a, &e), 0, "DEL");
        free(log);
        log = NULL;
        tap_is_int(read_full_file_at(AT_FDCWD, script, 1 << 20, &log, &size), 0, "log written");
        tap_ok(strstr(log, "one CHECK") && strstr(log, "two CHECK") &&
                       strstr(log, "one CHECK") < strstr(log, "two CHECK"),
               "CHECK in order");
        tap_ok(strstr(log, "two DEL") && strstr(log, "one DEL") &&
                       strstr(log, "two DEL") < strstr(log, "one DEL"),
               "DEL in reverse order");
        tap_ok(strstr(strstr(log, "one DEL"), "10.0.2.2/24") != NULL,
               "DEL gets the stored result as prevResult");

        (void)snprintf(script, sizeof(script), "fail-two");
        put(script, "");
        tap_is_int(pod_cni_add(a, &e), -EIO, "a plugin error fails ADD");
        tap_ok(strstr(e.msg, "'two'") && strstr(e.msg, "t.conflist") &&
                       strstr(e.msg, "no IP addresses available: range full") &&
                       strstr(e.msg, "CNI error 11"),
               "naming plugin, file and the CNI error: %s", e.msg);
        pod_error_clear(&e);
        free(a->cni_path);
        a->cni_path = strdup("/nonexistent");
        tap_is_int(pod_cni_find_plugins(a, &e), -ENOENT, "a missing plugin");
        tap_ok(strstr(e.msg, "'one'") && strstr(e.msg, "/nonexistent"), "named: %s", e.msg);
}

int main(void) {
        if (!mkdtemp(dir))
                return 1;
        test_conflist();
        test_network_load();
        test_result();
        test_result_if_ips();
        test_result_dns();
        test_attachment();
        test_find_plugin();
        test_syntax();
        test_protocol();
        (void)rm_rf_at(AT_FDCWD, dir);
        return tap_done();
}
