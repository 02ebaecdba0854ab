/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes the CNI parsers: network configuration files, plugin results, persisted
 * attachments (which a later "pod gc" reads back), and the --net/--port/--hosts-entry
 * syntax.  No crash; a parsed configuration always has a valid name and plugin types
 * (they become file names), an attachment serialises and parses back to the same text. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cni.h"
#include "json-util.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(pod_cni_attachment_freep) struct pod_cni_attachment *a = NULL, *b = NULL;
        _cleanup_json_ struct json_object *l = NULL, *res = NULL;
        _cleanup_strv_free_ char **names = NULL, **args = NULL;
        _cleanup_free_ char *s = NULL, *t1 = NULL, *t2 = NULL, *n = NULL, *ip = NULL;
        struct pod_cni_ip first;
        struct pod_error e = {};
        unsigned port;
        int r;

        if (size > 65536)
                return 0;
        s = strndup((const char *)data, size);
        if (!s)
                return 0;

        if (pod_cni_conflist_parse((const char *)data, size, "fuzz", &l, &e) >= 0) {
                struct json_object *plugins = pod_json_get(l, "plugins");

                assert(json_object_get_string(pod_json_get(l, "name")));
                assert(json_object_array_length(plugins) > 0);
                for (size_t i = 0; i < json_object_array_length(plugins); i++) {
                        const char *type = json_object_get_string(
                                pod_json_get(json_object_array_get_idx(plugins, i), "type"));
                        assert(type && type[0] && !strchr(type, '/'));
                }
        }
        if (pod_cni_result_parse((const char *)data, size, &res, &e) >= 0) {
                struct pod_cni_ip ips[4];
                int n_ips = pod_cni_result_if_ips(res, "eth0", ips, ELEMENTSOF(ips));

                if (pod_cni_result_first_ip(res, &first) >= 0)
                        assert(first.address[0] && first.mask[0]);
                /* The stand-in's addresses (stage1/net-standin.c): each one a valid CIDR. */
                assert(n_ips >= 0 && n_ips <= (int)ELEMENTSOF(ips));
                for (int i = 0; i < n_ips; i++)
                        assert(ips[i].address[0] && ips[i].prefix <= (ips[i].ipv6 ? 128u : 32u));
                /* A generated resolv.conf: one directive per line, nothing a plugin could use to
                 * add a line of its own. */
                {
                        _cleanup_free_ char *rc = NULL;
                        int k = pod_cni_result_resolv_conf(res, "n", &rc, NULL);

                        assert(k <= 1);
                        if (k == 1)
                                for (char *ln = rc, *nl; ln && *ln; ln = nl ? nl + 1 : NULL) {
                                        nl = strchr(ln, '\n');
                                        assert(nl);
                                        assert(strncmp(ln, "# ", 2) == 0 ||
                                               strncmp(ln, "nameserver ", 11) == 0 ||
                                               strncmp(ln, "search ", 7) == 0 ||
                                               strncmp(ln, "options ", 8) == 0 ||
                                               strncmp(ln, "domain ", 7) == 0);
                                }
                }
        }
        if (pod_cni_attachment_from_json((const char *)data, size, &a, &e) >= 0) {
                assert(pod_cni_attachment_to_json(a, &t1) >= 0);
                assert(pod_cni_attachment_from_json(t1, strlen(t1), &b, NULL) >= 0);
                assert(pod_cni_attachment_to_json(b, &t2) >= 0);
                assert(strcmp(t1, t2) == 0);
        }
        r = pod_cni_parse_net(s, &names, &args, &e);
        if (r > 0)
                for (int i = 0; i < r; i++)
                        assert(names[i] && args[i] && !strchr(names[i], ','));
        if (pod_cni_parse_port(s, &n, &ip, &port, &e) >= 0)
                assert(port >= 1 && port <= 65535 && n);
        (void)pod_cni_parse_hosts_entry(s, &e);
        return 0;
}
