/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for a container interface that an interrupted CNI DEL already deleted.
 *
 * The bridge and ptp plugins delete the container's interface first and then remove what
 * they set up on the host for it (the ipMasq chain and rules), which they find by the
 * addresses the interface carried.  A DEL killed between the two (SIGKILL of the pod's
 * scope while the pod's own teardown runs) leaves rules that a repeated DEL no longer
 * finds: "interface gone, nothing to do".  So before DEL runs again, an interface the
 * ADD result put in the pod's namespace but which is no longer there gets a stand-in: a
 * veth pair inside that namespace (no host side, nothing routed) named like the original
 * and carrying its addresses.  The plugin deletes it with everything else; whatever it
 * leaves goes with the namespace. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "cni.h"
#include "error.h"
#include "fd-util.h"
#include "log.h"
#include "stage1.h"

#define STANDIN_MAX_IPS 16

struct nlreq {
        struct nlmsghdr h;
        char buf[512];
};

static struct rtattr *attr_put(struct nlreq *m, unsigned short type, const void *data, size_t len) {
        struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(m->h.nlmsg_len));
        size_t total = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(RTA_LENGTH(len));

        if (total > sizeof(*m))
                return NULL;
        a->rta_type = type;
        a->rta_len = (unsigned short)RTA_LENGTH(len);
        if (len > 0)
                memcpy(RTA_DATA(a), data, len);
        m->h.nlmsg_len = (unsigned)total;
        return a;
}

static void attr_end(struct nlreq *m, struct rtattr *nest) {
        nest->rta_len = (unsigned short)((char *)m + m->h.nlmsg_len - (char *)nest);
}

/* Sends one request and waits for its acknowledgement: 0 or the kernel's -errno. */
static int nl_call(int fd, struct nlreq *m) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        char reply[1024];
        ssize_t n;

        m->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        if (sendto(fd, m, m->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        for (;;) {
                n = recv(fd, reply, sizeof(reply), 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)n);
                     h = NLMSG_NEXT(h, n))
                        if (h->nlmsg_type == NLMSG_ERROR)
                                return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        }
}

static int veth_add(int fd, const char *name, const char *peer) {
        struct nlreq m = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
                                  .nlmsg_type = RTM_NEWLINK,
                                  .nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL } };
        struct rtattr *info, *data, *peer_attr;
        struct ifinfomsg pi = { .ifi_family = AF_UNSPEC };

        if (!attr_put(&m, IFLA_IFNAME, name, strlen(name) + 1) ||
            !(info = attr_put(&m, IFLA_LINKINFO, NULL, 0)) ||
            !attr_put(&m, IFLA_INFO_KIND, "veth", 4) ||
            !(data = attr_put(&m, IFLA_INFO_DATA, NULL, 0)) ||
            !(peer_attr = attr_put(&m, VETH_INFO_PEER, &pi, sizeof(pi))) ||
            !attr_put(&m, IFLA_IFNAME, peer, strlen(peer) + 1))
                return -ENOBUFS;
        attr_end(&m, peer_attr);
        attr_end(&m, data);
        attr_end(&m, info);
        return nl_call(fd, &m);
}

static int addr_add(int fd, unsigned ifindex, const struct pod_cni_ip *ip) {
        struct nlreq m = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
                                  .nlmsg_type = RTM_NEWADDR,
                                  .nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE } };
        struct ifaddrmsg *ifa = NLMSG_DATA(&m.h);
        unsigned char a[16];
        int family = ip->ipv6 ? AF_INET6 : AF_INET;

        if (inet_pton(family, ip->address, a) != 1)
                return -EINVAL;
        ifa->ifa_family = (unsigned char)family;
        ifa->ifa_prefixlen = (unsigned char)ip->prefix;
        ifa->ifa_index = ifindex;
        if (!attr_put(&m, IFA_LOCAL, a, ip->ipv6 ? 16 : 4) ||
            !attr_put(&m, IFA_ADDRESS, a, ip->ipv6 ? 16 : 4))
                return -ENOBUFS;
        return nl_call(fd, &m);
}

/* In a child inside the namespace: 0 = nothing to do, 1 = stand-in made, < 0 = -errno. */
static int standin_child(int ns_fd, const char *if_name, const struct pod_cni_ip *ips, int n) {
        _cleanup_close_ int fd = -EBADF;
        unsigned ifindex;
        int r;

        if (setns(ns_fd, CLONE_NEWNET) < 0)
                return -errno;
        if (if_nametoindex(if_name) > 0)
                return 0;
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return -errno;
        r = veth_add(fd, if_name, "pod-standin");
        if (r < 0)
                return r;
        ifindex = if_nametoindex(if_name);
        if (ifindex == 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                r = addr_add(fd, ifindex, &ips[i]);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 1;
}

int stage1_net_standin(const struct pod_cni_attachment *a, struct pod_error *reterr) {
        struct pod_cni_ip ips[STANDIN_MAX_IPS];
        _cleanup_close_ int ns_fd = -EBADF;
        int n, ws;
        pid_t pid;

        if (!a->result || !a->netns || !a->if_name || strlen(a->if_name) >= IFNAMSIZ)
                return 0;
        n = pod_cni_result_if_ips(a->result, a->if_name, ips, STANDIN_MAX_IPS);
        if (n <= 0)
                return 0; /* no address: nothing on the host can hang on one */
        ns_fd = open(a->netns, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (ns_fd < 0) {
                if (errno == ENOENT)
                        return 0; /* the plugins treat a missing namespace as done */
                return pod_error_set(reterr, -errno, "Failed to open '%s': %m", a->netns);
        }
        pid = fork();
        if (pid < 0)
                return pod_error_set(reterr, -errno, "Failed to fork: %m");
        if (pid == 0) {
                int r = standin_child(ns_fd, a->if_name, ips, n);
                _exit(r < 0 ? (-r & 0x7f) + 1 : r == 0 ? 0 : 128);
        }
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return pod_error_set(reterr, -errno, "Failed to wait for a child: %m");
        if (!WIFEXITED(ws))
                return pod_error_set(reterr, -EIO, "Failed to check '%s' in '%s': child died",
                                     a->if_name, a->netns);
        if (WEXITSTATUS(ws) == 128)
                log_debug("Network '%s': %s was gone from %s (an interrupted DEL): DEL runs "
                          "on a stand-in carrying its %d address(es)",
                          a->net_name, a->if_name, a->netns, n);
        else if (WEXITSTATUS(ws) != 0) {
                errno = WEXITSTATUS(ws) - 1;
                return pod_error_set(reterr, -errno,
                                     "Failed to re-create '%s' in '%s' for DEL to find: %m",
                                     a->if_name, a->netns);
        }
        return 0;
}
