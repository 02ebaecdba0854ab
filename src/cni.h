/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A CNI client (containernetworking/cni SPEC.md): network configurations, plugin lookup,
 * plugin execution (ADD, DEL, CHECK) and result parsing, and the on-disk state of one
 * attachment of a pod to one network, so that DEL can run again after a crash with exactly
 * the configuration ADD was given.
 * Owns: CNI JSON (configs, results, state) and running plugins.  Does not own: the network
 * namespace (stage1/net.c creates and removes it) nor what an app sees (/etc/hosts). */

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "macro.h"

struct json_object;

#define POD_CNI_CONF_DIR       "/etc/pod/net.d"
#define POD_CNI_PLUGIN_PATH    "/usr/lib/cni:/opt/cni/bin"
#define POD_CNI_NETNS_DIR      "/run/pod/netns"
#define POD_CNI_DEFAULT_SUBNET "172.16.28.0/24"
#define POD_CNI_DEFAULT_BRIDGE "pod0"
/* rkt's default-restricted: point-to-point links to the host, no route beyond it. */
#define POD_CNI_RESTRICTED_SUBNET "172.16.29.0/24"
/* --net=all: every network of the configuration directory (rkt's spelling). */
#define POD_CNI_NET_ALL "all"
#define POD_CNI_BUILTIN "built-in"

/* Upper bounds: a config file, a plugin's stdout. */
#define POD_CNI_CONF_MAX   (1024 * 1024)
#define POD_CNI_RESULT_MAX (1024 * 1024)

/* Parses one config file's text: a ".conf" (one plugin object with "type") or a
 * ".conflist" (an object with "plugins").  Returns the normalised list
 * {"cniVersion","name","plugins":[...]}; errors name file and the JSON path. */
int pod_cni_conflist_parse(const char *text, size_t size, const char *file,
                           struct json_object **ret, struct pod_error *reterr);

/* The network NAME from dir (*.conf, *.conflist, *.json; every file must parse), or the
 * built-in "default" or "default-restricted" when no file defines it.  *ret_file gets the file's
 * path or POD_CNI_BUILTIN.  portmap: the network must take port mappings (the built-in one gets a
 * portmap plugin appended). */
int pod_cni_network_load(const char *dir, const char *name, bool portmap,
                         struct json_object **ret_conflist, char **ret_file,
                         struct pod_error *reterr);

/* The built-in default network (bridge pod0, host-local 172.16.28.0/24, masquerade). */
int pod_cni_default_conflist(bool portmap, struct json_object **ret);
/* The built-in "default-restricted" network (rkt's): a ptp veth to the host from
 * POD_CNI_RESTRICTED_SUBNET, no default route and no masquerading, so the pod reaches the
 * host's end of its link and nothing beyond. */
int pod_cni_restricted_conflist(bool portmap, struct json_object **ret);
/* The names of the networks dir defines, in the order of their files' names (as rkt
 * loaded --net=all), each once; every file must parse. */
int pod_cni_network_names(const char *dir, char ***ret, struct pod_error *reterr);

/* Finds plugin "type" in the ':'-separated path; -ENOENT with both named. */
int pod_cni_find_plugin(const char *path, const char *type, char **ret, struct pod_error *reterr);

/* The first IP of a result (any CNI version >= 0.2.0): address, dotted mask or prefix
 * length, gateway ("" when absent).  -ENODATA when the result has none. */
struct pod_cni_ip {
        char address[64];
        char mask[64]; /* dotted quad for IPv4, prefix length for IPv6 */
        char gateway[64];
        unsigned prefix;
        bool ipv6;
};
int pod_cni_result_parse(const char *text, size_t size, struct json_object **ret,
                         struct pod_error *reterr);
int pod_cni_result_first_ip(struct json_object *result, struct pod_cni_ip *ret);

/* The resolv.conf text for the "dns" of a CNI result (nameservers, search, options, domain;
 * spec: CNI SPEC "DNS"): 1 and *ret when it names at least one nameserver, 0 when it has none
 * (no "dns", or an empty one: nothing to generate), -EBADMSG with reterr for an entry that is
 * not an IP address or not one word. */
int pod_cni_result_resolv_conf(struct json_object *result, const char *net_name, char **ret,
                               struct pod_error *reterr);

/* The addresses the result gave the container interface if_name ("ips" entries whose
 * "interface" is that sandbox interface, or that name none; "ip4"/"ip6" before 0.3.0), at
 * most max of them: their number. */
int pod_cni_result_if_ips(struct json_object *result, const char *if_name, struct pod_cni_ip *ret,
                          size_t max);

/* One attachment of a pod to one network (persisted as JSON in the pod dir). */
struct pod_cni_attachment {
        char *net_name;
        char *net_conf; /* config file or POD_CNI_BUILTIN */
        char *if_name;
        char *args;         /* CNI_ARGS ("K=V;K=V"), or NULL */
        char *container_id; /* the pod UUID */
        char *netns;        /* path of the nsfs bind mount */
        char *cni_path;     /* plugin search path used for ADD */
        struct json_object *conflist;
        struct json_object *runtime_config; /* {"portMappings":[...]} or NULL */
        struct json_object *result;         /* NULL until ADD succeeded */
};
struct pod_cni_attachment *pod_cni_attachment_free(struct pod_cni_attachment *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_cni_attachment *, pod_cni_attachment_free)

int pod_cni_attachment_to_json(const struct pod_cni_attachment *a, char **ret);
int pod_cni_attachment_from_json(const char *text, size_t size, struct pod_cni_attachment **ret,
                                 struct pod_error *reterr);

/* Finds every plugin of a->conflist in a->cni_path: run before the state is persisted, so
 * a missing plugin fails before anything was changed (and before DEL would need it). */
int pod_cni_find_plugins(const struct pod_cni_attachment *a, struct pod_error *reterr);

/* Runs every plugin of the list in order (ADD, CHECK) or in reverse order (DEL), each with
 * the previous result as prevResult (DEL: the stored result).  ADD stores the final result
 * in a->result.  Errors name network, file, plugin and the plugin's CNI error. */
int pod_cni_add(struct pod_cni_attachment *a, struct pod_error *reterr);
int pod_cni_check(struct pod_cni_attachment *a, struct pod_error *reterr);
int pod_cni_del(struct pod_cni_attachment *a, struct pod_error *reterr);

/* Command-line syntax shared by stage0 (checks before anything is prepared) and stage1.
 * --net: "host", "none", or NAME[:ARGS][,NAME[:ARGS]...] (ARGS: CNI_ARGS, "K=V;K=V").
 * Returns the number of networks (0 for host and none); ret_names/ret_args may be NULL,
 * else get NULL-terminated lists of n strings each (args "" when absent). */
int pod_cni_parse_net(const char *s, char ***ret_names, char ***ret_args, struct pod_error *reterr);
/* One more --net on the command line, as rkt took them: they accumulate into *net (joined
 * with ','; pod_cni_parse_net() then refuses a network given twice), and a bare --net
 * (value NULL) means "default". */
int pod_cni_net_append(char **net, const char *value);
/* --port=NAME:[HOSTIP:]HOSTPORT; *ret_host_ip NULL when absent.  Either ret may be NULL. */
int pod_cni_parse_port(const char *s, char **ret_name, char **ret_host_ip, unsigned *ret_host_port,
                       struct pod_error *reterr);
/* --hosts-entry=IP=NAME[,NAME...] or "host". */
int pod_cni_parse_hosts_entry(const char *s, struct pod_error *reterr);
