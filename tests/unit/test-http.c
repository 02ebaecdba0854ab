/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HTTP client against a real server (tests/helpers/test-server.py) on 127.0.0.1, plain
 * and TLS with a CA made here by openssl and named through $SSL_CERT_FILE. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fd-util.h"
#include "http.h"
#include "macro.h"
#include "path-util.h"
#include "tap.h"

extern char **environ;

static char T[] = "/tmp/test-http-XXXXXX";
static pid_t servers[2];
static int http_port, tls_port;

static int sh(const char *fmt, ...) _printf_(1, 2);
static int sh(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        return system(cmd) == 0 ? 0 : -1;
}

static int start_server(const char *script, bool tls, pid_t *ret_pid) {
        _cleanup_free_ char *root = path_join(T, "www"), *pf = NULL, *cert = NULL, *key = NULL;
        _cleanup_free_ char *port = NULL;
        char *argv[16];
        int n = 0;

        pf = path_join(T, tls ? "port.tls" : "port.http");
        cert = path_join(T, "localhost.pem");
        key = path_join(T, "localhost.key");
        argv[n++] = (char *)"python3";
        argv[n++] = (char *)script;
        argv[n++] = (char *)"--root";
        argv[n++] = root;
        argv[n++] = (char *)"--port-file";
        argv[n++] = pf;
        if (tls) {
                argv[n++] = (char *)"--cert";
                argv[n++] = cert;
                argv[n++] = (char *)"--key";
                argv[n++] = key;
        }
        argv[n] = NULL;
        if (posix_spawnp(ret_pid, "python3", NULL, NULL, argv, environ) != 0)
                return -1;
        /* Up to 60 s: python3's start on a loaded 2-core machine has taken over 10 s. */
        for (int i = 0; i < 1200; i++) {
                size_t size;
                if (read_full_file_at(AT_FDCWD, pf, 64, &port, &size) == 0)
                        return atoi(port);
                (void)usleep(50000);
        }
        return -1;
}

static void stop_servers(void) {
        for (size_t i = 0; i < ELEMENTSOF(servers); i++)
                if (servers[i] > 0) {
                        (void)kill(servers[i], SIGTERM);
                        (void)waitpid(servers[i], NULL, 0);
                }
}

static char *url(bool tls, const char *path) {
        char *u = NULL;
        if (asprintf(&u, "%s://%s:%d%s", tls ? "https" : "http", tls ? "localhost" : "127.0.0.1",
                     tls ? tls_port : http_port, path) < 0)
                return NULL;
        return u;
}

static int get(bool tls, const char *path, const struct pod_http_options *o, char **body,
               struct pod_http_response *resp, struct pod_error *e) {
        _cleanup_free_ char *u = url(tls, path);
        size_t size = 0;

        pod_error_clear(e);
        *body = NULL;
        return pod_http_get(u, o, body, &size, resp, e);
}

static int count(const char *key) {
        struct pod_http_options o = { .allow_http = true, .max_size = 64 };
        struct pod_error e = {};
        char path[64], *body = NULL;
        int r, n = -1;

        (void)snprintf(path, sizeof(path), "/_count/%s", key);
        r = get(false, path, &o, &body, NULL, &e);
        if (r == 200)
                n = atoi(body);
        free(body);
        return n;
}

static void test_plain(void) {
        struct pod_http_options o = { .allow_http = true,
                                      .max_size = 1 << 20,
                                      .retry_delay_ms = 10 };
        struct pod_http_response resp = {};
        struct pod_error e = {};
        char *body = NULL;
        int r;

        r = get(false, "/hello.txt", &(struct pod_http_options){ .max_size = 100 }, &body, NULL,
                &e);
        tap_is_int(r, -EPERM, "plain http refused unless allowed");
        tap_ok(strstr(e.msg, "plain http") && strstr(e.msg, "/hello.txt"), "  says so: %s", e.msg);

        r = get(false, "/hello.txt", &o, &body, &resp, &e);
        tap_is_int(r, 200, "GET allowed http");
        tap_is_str(body, "hello\n", "  body");
        tap_is_int(resp.size, 6, "  size");
        free(body);
        pod_http_response_done(&resp);

        r = get(false, "/_status/404", &o, &body, NULL, &e);
        tap_is_int(r, -ENOENT, "404 -> -ENOENT");
        tap_ok(strstr(e.msg, "HTTP 404") && strstr(e.msg, "/_status/404"),
               "  names URL and status: %s", e.msg);
        tap_is_int(get(false, "/_status/403", &o, &body, NULL, &e), -EACCES, "403 -> -EACCES");

        tap_is_int(get(false, "/_flaky/a?fail=2", &o, &body, NULL, &e), 200,
                   "two 503s then 200: retried");
        free(body);
        tap_is_int(count("a"), 3, "  three requests");
        tap_is_int(get(false, "/_flaky/b?fail=9", &o, &body, NULL, &e), -EIO,
                   "persistent 503: -EIO");
        tap_is_int(count("b"), 3, "  bounded at three tries");
        tap_is_int(get(false, "/_flaky/c?fail=1&code=404", &o, &body, NULL, &e), -ENOENT,
                   "404 is not retried");
        tap_is_int(count("c"), 1, "  one request");
        tap_is_int(get(false, "/_flaky/d?fail=1&code=429", &o, &body, NULL, &e), 200,
                   "429 is retried");
        free(body);
        tap_is_int(count("d"), 2, "  two requests");

        r = get(false, "/_etag", &o, &body, &resp, &e);
        tap_is_int(r, 200, "ETag resource");
        tap_is_str(resp.etag, "\"v1\"", "  ETag reported");
        tap_is_int(resp.max_age, 300, "  max-age reported");
        free(body);
        pod_http_response_done(&resp);
        o.etag = "\"v1\"";
        r = get(false, "/_etag", &o, &body, &resp, &e);
        tap_is_int(r, 304, "If-None-Match with the ETag: 304");
        tap_is_str(body, "", "  no body");
        free(body);
        pod_http_response_done(&resp);
        o.etag = NULL;
        r = get(false, "/_etag?cc=no-cache,max-age=60", &o, &body, &resp, &e);
        tap_is_int(resp.max_age, 0, "no-cache -> max-age 0");
        free(body);
        pod_http_response_done(&resp);

        o.max_size = 1000;
        r = get(false, "/_big?size=5000", &o, &body, NULL, &e);
        tap_is_int(r, -EFBIG, "body above the cap: -EFBIG");
        o.max_size = 1 << 20;

        r = get(false, "/_redirect?to=/hello.txt", &o, &body, &resp, &e);
        tap_is_int(r, 200, "relative redirect followed");
        tap_ok(resp.effective_url && strstr(resp.effective_url, "/hello.txt"),
               "  effective URL reported");
        free(body);
        pod_http_response_done(&resp);
        r = get(false, "/_loop", &o, &body, NULL, &e);
        tap_is_int(r, -ELOOP, "redirect loop stops after 10: -ELOOP");

        tap_is_int(get(false, "/_status/202", &o, &body, NULL, &e), 202,
                   "202 returned as status (signature not ready)");
        free(body);

        {
                _cleanup_free_ char *p = path_join(T, "dl");
                _cleanup_free_ char *u = url(false, "/hello.txt");
                _cleanup_free_ char *back = NULL;
                _cleanup_close_ int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                size_t size = 0;

                tap_is_int(pod_http_download(u, fd, &o, NULL, &e), 200, "download to a file");
                tap_ok(read_full_file_at(AT_FDCWD, p, 100, &back, &size) == 0 &&
                               streq(back, "hello\n"),
                       "  content");
        }
        {
                _cleanup_free_ char *u = NULL;
                struct sockaddr_in sa = { .sin_family = AF_INET };
                socklen_t sl = sizeof(sa);
                int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                uint64_t t0;
                struct timespec ts;

                /* A port nobody listens on: bound, never listened, then closed. */
                sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                (void)bind(s, (struct sockaddr *)&sa, sizeof(sa));
                (void)getsockname(s, (struct sockaddr *)&sa, &sl);
                (void)close(s);
                if (asprintf(&u, "http://127.0.0.1:%d/", ntohs(sa.sin_port)) < 0)
                        u = NULL;
                (void)clock_gettime(CLOCK_MONOTONIC, &ts);
                t0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
                o.retry_delay_ms = 200;
                pod_error_clear(&e);
                tap_is_int(pod_http_get(u, &o, &body, NULL, NULL, &e), -ECONNREFUSED,
                           "connection refused: -ECONNREFUSED");
                (void)clock_gettime(CLOCK_MONOTONIC, &ts);
                tap_ok((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 - t0 >= 600,
                       "  after retries with backoff (200 + 400 ms)");
                o.retry_delay_ms = 10;
        }
        {
                _cleanup_free_ char *log = NULL;
                _cleanup_free_ char *p = path_join(T, "www/requests.log");
                size_t size = 0;

                tap_ok(read_full_file_at(AT_FDCWD, p, 1 << 20, &log, &size) == 0 &&
                               strstr(log, "pod/" PACKAGE_VERSION),
                       "User-Agent: pod/" PACKAGE_VERSION);
        }
}

static void test_tls(void) {
        struct pod_http_options o = { .max_size = 1 << 20, .retry_delay_ms = 10 };
        _cleanup_free_ char *ca = path_join(T, "ca.pem"), *redir = NULL;
        struct pod_error e = {};
        char *body = NULL;
        int r;

        setenv("SSL_CERT_FILE", ca, 1);
        r = get(true, "/hello.txt", &o, &body, NULL, &e);
        tap_is_int(r, 200, "https with the CA from $SSL_CERT_FILE");
        tap_is_str(body, "hello\n", "  body");
        free(body);

        if (asprintf(&redir, "/_redirect?to=http://127.0.0.1:%d/hello.txt", http_port) < 0)
                redir = NULL;
        r = get(true, redir, &o, &body, NULL, &e);
        tap_is_int(r, -EPERM, "https -> http redirect refused");
        tap_ok(strstr(e.msg, "Refusing redirect") != NULL, "  says so: %s", e.msg);
        o.allow_http = true;
        r = get(true, redir, &o, &body, NULL, &e);
        tap_is_int(r, 200, "https -> http redirect allowed with allow_http");
        free(body);
        o.allow_http = false;

        unsetenv("SSL_CERT_FILE");
        r = get(true, "/hello.txt", &o, &body, NULL, &e);
        tap_is_int(r, -EPERM, "unknown CA: -EPERM");
        tap_ok(strstr(e.msg, "TLS certificate verification failed") && strstr(e.msg, "https://"),
               "  names URL and TLS cause: %s", e.msg);
        o.insecure_tls = true;
        r = get(true, "/hello.txt", &o, &body, NULL, &e);
        tap_is_int(r, 200, "insecure_tls skips verification");
        free(body);
}

static void test_parse(void) {
        tap_is_int(pod_http_parse_max_age("max-age=60"), 60, "max-age=60");
        tap_is_int(pod_http_parse_max_age("public, Max-Age=\"120\" "), 120, "quoted, mixed case");
        tap_is_int(pod_http_parse_max_age("max-age=60, no-store"), 0, "no-store wins");
        tap_is_int(pod_http_parse_max_age("max-age=-1"), 0, "negative: invalid");
        tap_is_int(pod_http_parse_max_age("max-age=1x"), 0, "junk: invalid");
        tap_is_int(pod_http_parse_max_age("max-age=99999999999999999999999"), 0, "overflow");
        tap_is_int(pod_http_parse_max_age(NULL), 0, "absent");
        tap_ok(pod_http_url_allowed("HTTPS://a/b", false), "HTTPS:// allowed");
        tap_ok(!pod_http_url_allowed("http://a/b", false), "http:// needs allow_http");
        tap_ok(pod_http_url_allowed("http://a/b", true), "http:// with allow_http");
        tap_ok(!pod_http_url_allowed("file:///etc/passwd", true), "file:// never");
        tap_ok(!pod_http_url_allowed("https://", false), "empty host");
}

int main(void) {
        const char *srcdir = getenv("top_srcdir");
        _cleanup_free_ char *script = NULL;

        test_parse();

        if (!srcdir)
                srcdir = ".";
        script = path_join(srcdir, "tests/helpers/test-server.py");
        if (sh("command -v python3 >/dev/null && command -v openssl >/dev/null") < 0 ||
            access(script, R_OK) < 0) {
                printf("# SKIP server tests: python3, openssl or %s missing\n", script);
                return tap_done();
        }
        if (!mkdtemp(T))
                return 1;
        tap_ok(sh("cd %s && mkdir -p www/default && printf 'hello\\n' >www/default/hello.txt && "
                  "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                  "-keyout ca.key -out ca.pem -days 2 -subj '/CN=pod test CA' "
                  "-addext basicConstraints=critical,CA:TRUE "
                  "-addext keyUsage=critical,keyCertSign >/dev/null 2>&1 && "
                  "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                  "-keyout localhost.key -out localhost.csr -subj /CN=localhost >/dev/null 2>&1 "
                  "&& printf 'subjectAltName=DNS:localhost\\n' >ext && "
                  "openssl x509 -req -in localhost.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                  "-days 2 -extfile ext -out localhost.pem >/dev/null 2>&1",
                  T) == 0,
               "setup: CA and server certificate");

        unsetenv("SSL_CERT_FILE");
        unsetenv("SSL_CERT_DIR");
        unsetenv("http_proxy");
        unsetenv("https_proxy");
        unsetenv("HTTPS_PROXY");
        unsetenv("all_proxy");
        unsetenv("ALL_PROXY");
        http_port = start_server(script, false, &servers[0]);
        tls_port = start_server(script, true, &servers[1]);
        tap_ok(http_port > 0 && tls_port > 0, "setup: servers on 127.0.0.1:%d and :%d", http_port,
               tls_port);
        if (http_port > 0 && tls_port > 0) {
                test_plain();
                test_tls();
        }
        stop_servers();
        (void)rm_rf_at(AT_FDCWD, T);
        return tap_done();
}
