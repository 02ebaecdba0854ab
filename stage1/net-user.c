/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rootless --net=default (ABI.md "Rootless"): a user-mode network, since a rootless
 * stage1 cannot make veths or bridges in the host's network namespace.  Owns: the pod's
 * network namespace (made inside the user's user namespace, "lo" up; the init joins it by
 * fd, nothing is bound on /run), the helper attached to it (pasta, from Debian's passt,
 * else slirp4netns: whichever is installed, pasta first; $POD_NET_USER_HELPER picks one),
 * its --port forwards, and net-info.json.  Does not own: CNI (net.c; refused rootless by
 * rootless.c), the name of app ports (the pod's apps' manifests).
 *
 * Both helpers give the pod eth0 = 10.0.2.100/24, gateway 10.0.2.2 (which reaches the
 * host's loopback: a server on the host is reachable as it is for any process of the user)
 * and DNS 10.0.2.3 (the host's resolver).  Nothing is forwarded but --port's: pasta
 * forwards every port bound on either side unless told "none".
 *
 * The helper runs in the host's PID and mount namespaces as root of the pod's user
 * namespace (the user on the host), a child of stage1's host side with SIGKILL as its
 * parent-death signal: when the supervisor (stage1's host side after exec) exits, at the
 * pod's end or killed, the helper goes with it.  Its PID is in the pod dir's "net-user" for
 * gc, which kills it if it is still there (checked by name and by its parent being gone). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fd-util.h"
#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "path-util.h"
#include "stage1.h"
#include "syscall.h"

#define NET_USER_FILE    "net-user"
#define NET_USER_API     "net-user.sock"
#define NET_USER_PIDFILE "net-user.pid"
#define POD_IP           "10.0.2.100"
#define POD_MASK         "255.255.255.0"
#define POD_GATEWAY      "10.0.2.2"
#define POD_DNS          "10.0.2.3"
#define HELPER_ARGS_MAX  64
#define READY_TIMEOUT_MS 10000

/* A directory of $PATH holding an executable NAME. */
static char *find_in_path(const char *name) {
        const char *path = getenv("PATH") ?: "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;

        if (!copy)
                return NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char *p;

                if (*d != '/')
                        continue;
                p = path_join(d, name);
                if (p && access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

/* A network namespace owned by our (the pod's) user namespace, "lo" up, as an fd: made by
 * a child (we cannot setns() back into the host's), which waits until we opened it. */
static int make_netns(struct pod_error *reterr) {
        int go[2], done[2], fd, ws;
        char path[64], b = 0;
        pid_t pid;

        if (pipe2(go, O_CLOEXEC) < 0)
                return pod_error_set(reterr, -errno, "Failed to create a pipe: %m");
        if (pipe2(done, O_CLOEXEC) < 0) {
                int r = -errno;
                safe_close(go[0]);
                safe_close(go[1]);
                return pod_error_set(reterr, r, "Failed to create a pipe: %m");
        }
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                safe_close(go[0]);
                safe_close(go[1]);
                safe_close(done[0]);
                safe_close(done[1]);
                return pod_error_set(reterr, r, "Failed to fork: %m");
        }
        if (pid == 0) {
                safe_close(go[0]);
                safe_close(done[1]);
                if (unshare(CLONE_NEWNET) < 0 || stage1_ns_loopback_up() < 0)
                        _exit(1);
                if (write(go[1], "x", 1) != 1)
                        _exit(1);
                (void)read(done[0], &b, 1); /* EOF: the parent has the namespace */
                _exit(0);
        }
        safe_close(go[1]);
        safe_close(done[0]);
        fd = -EBADF;
        if (read(go[0], &b, 1) == 1) {
                (void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        fd = -errno;
        } else
                fd = -EIO;
        safe_close(go[0]);
        safe_close(done[1]);
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
        if (fd < 0)
                return pod_error_set(reterr, fd,
                                     "Failed to create the pod's network namespace: %m");
        return fd;
}

/* The app port of a --port (or pod manifest port) forward: its port and protocol. */
static int resolve_port(const struct stage1_config *c, const struct stage1_port *fw,
                        unsigned *ret_port, const char **ret_proto, struct pod_error *reterr) {
        for (size_t a = 0; a < c->n_apps; a++)
                for (size_t k = 0; k < c->apps[a].app->n_ports; k++) {
                        const struct pod_port *p = &c->apps[a].app->ports[k];

                        if (!streq(p->name, fw->name))
                                continue;
                        if (!streq(p->protocol, "tcp") && !streq(p->protocol, "udp"))
                                return pod_error_set(reterr, -EOPNOTSUPP,
                                                     "--port=%s: protocol '%s' cannot be "
                                                     "forwarded (tcp or udp)",
                                                     fw->name, p->protocol);
                        *ret_port = fw->pod_port ?: p->port;
                        *ret_proto = p->protocol;
                        return 0;
                }
        return pod_error_set(reterr, -ENOENT,
                             "--port: no app of the pod has a port named '%s' (the image "
                             "manifest's app.ports)",
                             fw->name);
}

/* The helper's process: dies with its parent, the netns on fd 3, nothing else open. */
static _Noreturn void exec_helper(const char *path, char **argv, int netns_fd, int ready_fd,
                                  pid_t parent) {
        sigset_t none;
        int null_fd;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                _exit(127);
        /* The parent may have died before the signal was armed. */
        if (getppid() != parent)
                _exit(127);
        (void)sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        /* Default dispositions: an ignored SIGPIPE inherited from whoever ran pod (a service
         * manager, a test runner) makes pasta of Debian 12 exit at once ("Couldn't install
         * signal handlers"). */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        /* Its chatter ("sent tapfd=...") is not the apps' output: stdout to /dev/null,
         * errors stay on stderr. */
        null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
                _exit(127);
        if (dup2(netns_fd, 3) < 0)
                _exit(127);
        if (ready_fd >= 0 && dup2(ready_fd, 4) < 0)
                _exit(127);
        (void)sys_close_range(ready_fd >= 0 ? 5 : 4, ~0U, 0);
        execv(path, argv);
        _exit(127);
}

/* Waits until pasta wrote its pid file (after its setup) or slirp4netns wrote to the ready
 * pipe; fails when the helper exited first. */
static int wait_ready(pid_t pid, const struct stage1_config *c, int ready_fd, const char *name,
                      struct pod_error *reterr) {
        for (int ms = 0; ms < READY_TIMEOUT_MS; ms += 50) {
                struct stat st;
                int ws;

                if (waitpid(pid, &ws, WNOHANG) == pid)
                        return pod_error_set(reterr, -EIO,
                                             "The pod's network helper '%s' failed (status "
                                             "%d): see its messages above",
                                             name, WIFEXITED(ws) ? WEXITSTATUS(ws) : 128);
                if (ready_fd < 0) {
                        if (fstatat(c->pod_dir_fd, NET_USER_PIDFILE, &st, AT_SYMLINK_NOFOLLOW) >=
                                    0 &&
                            st.st_size > 0)
                                return 0;
                } else {
                        struct pollfd p = { .fd = ready_fd, .events = POLLIN };
                        char b;

                        if (poll(&p, 1, 0) > 0 && read(ready_fd, &b, 1) == 1)
                                return 0;
                }
                (void)nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
        (void)kill(pid, SIGKILL);
        return pod_error_set(reterr, -ETIMEDOUT, "The pod's network helper '%s' did not start",
                             name);
}

/* slirp4netns: one add_hostfwd per port on its API socket. */
static int slirp_forward(const struct stage1_config *c, const char *proto, unsigned host_port,
                         unsigned pod_port, const char *host_ip, struct pod_error *reterr) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        char req[256], reply[512];
        ssize_t n;
        int len;

        len = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/" NET_USER_API, c->pod_dir);
        if (len < 0 || (size_t)len >= sizeof(sa.sun_path))
                return pod_error_set(reterr, -ENAMETOOLONG,
                                     "The pod directory's path is too long for slirp4netns's "
                                     "API socket");
        len = snprintf(req, sizeof(req),
                       "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"%s\","
                       "\"host_addr\":\"%s\",\"host_port\":%u,\"guest_port\":%u}}",
                       proto, host_ip ?: "0.0.0.0", host_port, pod_port);
        if (len < 0 || (size_t)len >= sizeof(req))
                return -EINVAL;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return pod_error_set(reterr, -errno, "Failed to reach slirp4netns's API: %m");
        if (write(fd, req, (size_t)len) != len)
                return pod_error_set(reterr, -errno, "Failed to talk to slirp4netns: %m");
        (void)shutdown(fd, SHUT_WR);
        n = read(fd, reply, sizeof(reply) - 1);
        if (n < 0)
                return pod_error_set(reterr, -errno, "Failed to read slirp4netns's answer: %m");
        reply[n] = 0;
        if (n == 0 || strstr(reply, "\"error\""))
                return pod_error_set(reterr, -EADDRINUSE,
                                     "slirp4netns refused to forward %s host port %u: %s", proto,
                                     host_port, n ? reply : "(no answer)");
        return 0;
}

static int write_net_info(const struct stage1_config *c, const char *name, const char *path) {
        _cleanup_json_ struct json_object *arr = json_object_new_array();
        _cleanup_free_ char *text = NULL;
        struct json_object *o = json_object_new_object();
        int r;

        if (!arr || !o || json_object_array_add(arr, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        r = pod_json_add_string(o, "netName", "default");
        if (r >= 0)
                r = pod_json_add_string(o, "netConf", name);
        if (r >= 0)
                r = pod_json_add_string(o, "pluginPath", path);
        if (r >= 0)
                r = pod_json_add_string(o, "ifName", "eth0");
        if (r >= 0)
                r = pod_json_add_string(o, "ip", POD_IP);
        if (r >= 0)
                r = pod_json_add_string(o, "mask", POD_MASK);
        if (r >= 0)
                r = pod_json_add_string(o, "hostIP", POD_GATEWAY);
        if (r >= 0)
                r = pod_json_add_string(o, "args", "");
        if (r >= 0)
                r = pod_json_to_string(arr, true, &text);
        if (r >= 0)
                r = stage1_write_file(c->pod_dir_fd, "net-info.json", text);
        return r;
}

int stage1_net_user_setup(struct stage1_config *c, struct pod_error *reterr) {
        const char *want = getenv("POD_NET_USER_HELPER");
        _cleanup_free_ char *path = NULL, *api = NULL, *pidfile = NULL;
        char *argv[HELPER_ARGS_MAX + 1];
        char specs[STAGE1_NET_USER_PORTS_MAX][96], buf[64];
        _cleanup_close_ int ready_r = -EBADF;
        int ready_w = -EBADF, n = 0, r;
        const char *name;
        bool pasta;
        pid_t pid, self;

        if (want && !streq(want, "pasta") && !streq(want, "slirp4netns"))
                return pod_error_set(reterr, -EINVAL,
                                     "POD_NET_USER_HELPER='%s': expected pasta or slirp4netns",
                                     want);
        if (!want || streq(want, "pasta"))
                path = find_in_path("pasta");
        if (!path && (!want || streq(want, "slirp4netns")))
                path = find_in_path("slirp4netns");
        if (!path)
                return pod_error_set(reterr, -ENOENT,
                                     "A rootless --net=default needs pasta (Debian: passt) or "
                                     "slirp4netns in $PATH; use --net=none or --net=host");
        name = strrchr(path, '/') + 1;
        pasta = streq(name, "pasta");
        if (c->n_ports > STAGE1_NET_USER_PORTS_MAX)
                return pod_error_set(reterr, -E2BIG, "At most %d forwarded ports per rootless pod",
                                     STAGE1_NET_USER_PORTS_MAX);

        c->userns_netns_fd = make_netns(reterr);
        if (c->userns_netns_fd < 0)
                return c->userns_netns_fd;

        if (asprintf(&pidfile, "%s/" NET_USER_PIDFILE, c->pod_dir) < 0 ||
            asprintf(&api, "%s/" NET_USER_API, c->pod_dir) < 0)
                return -ENOMEM;
        (void)unlinkat(c->pod_dir_fd, NET_USER_PIDFILE, 0);
        (void)unlinkat(c->pod_dir_fd, NET_USER_API, 0);
        argv[n++] = (char *)name;
        if (pasta) {
                /* No forward but ours: pasta's default is "auto" both ways. */
                const char *fixed[] = { "--foreground",
                                        "--quiet",
                                        "--config-net",
                                        "--netns",
                                        "/proc/self/fd/3",
                                        "--ns-ifname",
                                        "eth0",
                                        "--address",
                                        POD_IP,
                                        "--netmask",
                                        "24",
                                        "--gateway",
                                        POD_GATEWAY,
                                        "--dns-forward",
                                        POD_DNS,
                                        "--pid",
                                        pidfile,
                                        "-T",
                                        "none",
                                        "-U",
                                        "none" };
                bool tcp = false, udp = false;

                for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                        argv[n++] = (char *)fixed[i];
                for (size_t i = 0; i < c->n_ports; i++) {
                        const char *proto;
                        unsigned port;

                        r = resolve_port(c, &c->ports[i], &port, &proto, reterr);
                        if (r < 0)
                                return r;
                        (void)snprintf(specs[i], sizeof(specs[i]), "%s%s%u:%u",
                                       c->ports[i].host_ip ?: "", c->ports[i].host_ip ? "/" : "",
                                       c->ports[i].host_port, port);
                        argv[n++] = (char *)(streq(proto, "tcp") ? "-t" : "-u");
                        argv[n++] = specs[i];
                        tcp = tcp || streq(proto, "tcp");
                        udp = udp || streq(proto, "udp");
                }
                if (!tcp) {
                        argv[n++] = (char *)"-t";
                        argv[n++] = (char *)"none";
                }
                if (!udp) {
                        argv[n++] = (char *)"-u";
                        argv[n++] = (char *)"none";
                }
        } else {
                int p[2];

                if (pipe2(p, O_CLOEXEC) < 0)
                        return pod_error_set(reterr, -errno, "Failed to create a pipe: %m");
                ready_r = p[0];
                ready_w = p[1];
                argv[n++] = (char *)"--configure";
                argv[n++] = (char *)"--mtu=65520";
                argv[n++] = (char *)"--ready-fd=4";
                argv[n++] = (char *)"--api-socket";
                argv[n++] = api;
                argv[n++] = (char *)"--netns-type=path";
                argv[n++] = (char *)"/proc/self/fd/3";
                argv[n++] = (char *)"eth0";
        }
        argv[n] = NULL;

        self = getpid();
        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(ready_w);
                return pod_error_set(reterr, r, "Failed to fork: %m");
        }
        if (pid == 0)
                exec_helper(path, argv, c->userns_netns_fd, ready_w, self);
        safe_close(ready_w);
        /* Recorded at once: gc finds it whatever happens next. */
        (void)snprintf(buf, sizeof(buf), "%d %s", (int)pid, name);
        r = stage1_write_file(c->pod_dir_fd, NET_USER_FILE, buf);
        if (r < 0) {
                (void)kill(pid, SIGKILL);
                return pod_error_set(reterr, r, "Failed to write '" NET_USER_FILE "': %m");
        }
        log_debug("Network helper %s (PID %d) for the pod's --net=default", path, (int)pid);
        r = wait_ready(pid, c, ready_r, name, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; !pasta && i < c->n_ports; i++) {
                const char *proto;
                unsigned port;

                r = resolve_port(c, &c->ports[i], &port, &proto, reterr);
                if (r >= 0)
                        r = slirp_forward(c, proto, c->ports[i].host_port, port,
                                          c->ports[i].host_ip, reterr);
                if (r < 0) {
                        (void)kill(pid, SIGKILL);
                        return r;
                }
        }
        if (!c->net_ip) {
                c->net_ip = strdup(POD_IP);
                if (!c->net_ip)
                        return -ENOMEM;
        }
        if (!c->net_dns) {
                c->net_dns = strdup("nameserver " POD_DNS "\n");
                if (!c->net_dns)
                        return -ENOMEM;
        }
        r = write_net_info(c, name, path);
        if (r < 0) {
                (void)kill(pid, SIGKILL);
                return pod_error_set(reterr, r, "Failed to write 'net-info.json': %m");
        }
        return 0;
}

/* gc: the helper outlives the pod only while its parent (the supervisor) does: its
 * parent-death signal is set before its exec.  Killed when the PID still runs that
 * program (by name: a PID reused since is some other program, left alone). */
int stage1_net_user_release(int pod_dir_fd, struct pod_error *reterr) {
        _cleanup_free_ char *text = NULL, *comm = NULL;
        char path[64], name[32];
        int pid, r;

        r = read_full_file_at(pod_dir_fd, NET_USER_FILE, 256, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to read '" NET_USER_FILE "': %m");
        if (sscanf(text, "%d %31s", &pid, name) != 2 || pid <= 1 ||
            (!streq(name, "pasta") && !streq(name, "slirp4netns")))
                return pod_error_set(reterr, -EBADMSG, "'" NET_USER_FILE "' is malformed");
        (void)snprintf(path, sizeof(path), "/proc/%d/comm", pid);
        /* Debian's pasta is a link to passt and re-executes passt.avx2 where the CPU has
         * it: compare the start, with passt for pasta. */
        if (read_full_file_at(AT_FDCWD, path, 64, &comm, NULL) >= 0 &&
            (strneq(comm, name, strlen(name)) ||
             (streq(name, "pasta") && strneq(comm, "passt", 5)))) {
                log_debug("Stopping the pod's network helper %s (PID %d)", name, pid);
                (void)kill(pid, SIGKILL);
                /* At the pod's end gc is the supervisor, the helper's parent: reap it (else
                 * ECHILD at once). */
                for (int i = 0; i < 100; i++) {
                        pid_t w = waitpid(pid, NULL, WNOHANG);

                        if (w != 0)
                                break;
                        (void)nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
                }
        }
        (void)unlinkat(pod_dir_fd, NET_USER_FILE, 0);
        (void)unlinkat(pod_dir_fd, NET_USER_API, 0);
        (void)unlinkat(pod_dir_fd, NET_USER_PIDFILE, 0);
        return 0;
}
