/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "dlopen-curl.h"
#include "escape.h"
#include "fd-util.h"
#include "http.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all)

#define DEFAULT_TRIES          3
#define DEFAULT_RETRY_DELAY_MS 1000
#define DEFAULT_CONNECT_SEC    30L
#define DEFAULT_LOW_SPEED_SEC  60L
#define LOW_SPEED_BYTES        1024L

void pod_http_response_done(struct pod_http_response *r) {
        if (!r)
                return;
        free(r->etag);
        free(r->effective_url);
        free(r->content_type);
        free(r->www_authenticate);
        free(r->docker_content_digest);
        *r = (struct pod_http_response){};
}

static CURLcode global_rc;

static void global_init_once(void) {
        global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int global_init(void) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        /* curl_global_init is not thread-safe: parallel layer downloads (fetch-docker.c)
         * call in here from several threads. */
        if (pthread_once(&once, global_init_once) != 0)
                return -ENOMEM;
        return global_rc == CURLE_OK ? 0 : -ENOMEM;
}

bool pod_http_url_allowed(const char *url, bool allow_http) {
        if (!url)
                return false;
        if (strncasecmp(url, "https://", 8) == 0)
                return url[8] != 0;
        return allow_http && strncasecmp(url, "http://", 7) == 0 && url[7] != 0;
}

uint64_t pod_http_parse_max_age(const char *cc) {
        uint64_t max_age = 0;
        bool seen = false;

        if (!cc)
                return 0;
        /* Comma-separated directives, case-insensitive names, optional spaces. */
        for (const char *p = cc; *p;) {
                const char *e = strchrnul(p, ',');
                size_t n;

                while (p < e && (*p == ' ' || *p == '\t'))
                        p++;
                n = (size_t)(e - p);
                while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                        n--;

                if ((n == 8 && strncasecmp(p, "no-cache", 8) == 0) ||
                    (n == 8 && strncasecmp(p, "no-store", 8) == 0))
                        return 0;
                if (n > 8 && strncasecmp(p, "max-age=", 8) == 0) {
                        const char *v = p + 8, *ve = p + n;
                        uint64_t x = 0;

                        if (v < ve && *v == '"' && ve[-1] == '"' && ve - v >= 2) {
                                v++;
                                ve--;
                        }
                        if (v == ve)
                                return 0;
                        for (; v < ve; v++) {
                                if (*v < '0' || *v > '9')
                                        return 0; /* invalid: do not cache */
                                if (x > (UINT64_MAX - 9) / 10)
                                        return 0;
                                x = x * 10 + (uint64_t)(*v - '0');
                        }
                        if (seen && x != max_age)
                                return 0; /* conflicting directives: be safe */
                        max_age = x;
                        seen = true;
                }
                p = *e ? e + 1 : e;
        }
        return max_age;
}

struct xfer {
        CURL *curl;
        /* sink */
        int fd;
        char *mem;
        size_t mem_size, mem_alloc;
        uint64_t max;
        uint64_t written;
        bool too_big;
        int write_error;
        /* headers of the current response (reset on each status line) */
        char *etag;
        char *cache_control;
        char *content_type, *www_authenticate, *docker_content_digest;
        /* progress */
        void (*progress_fn)(void *userdata, uint64_t now, uint64_t total);
        void *progress_userdata;
        bool progress;
        const char *label;
        uint64_t started_us, last_draw_us;
        bool drawn;
};

static uint64_t now_us(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static long current_status(CURL *curl) {
        long code = 0;

        (void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        return code;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        struct xfer *x = userdata;
        size_t n = size * nmemb;
        int r;

        /* Only a 200 body is content; error pages and 202/304 bodies are dropped. */
        if (current_status(x->curl) != 200)
                return n;

        if (x->max > 0 && x->written + n > x->max) {
                x->too_big = true;
                return 0; /* CURLE_WRITE_ERROR */
        }
        if (x->fd >= 0) {
                r = loop_write(x->fd, data, n);
                if (r < 0) {
                        x->write_error = r;
                        return 0;
                }
        } else {
                if (x->mem_size + n + 1 > x->mem_alloc) {
                        size_t a = x->mem_alloc ? x->mem_alloc : 16384;
                        char *t;

                        while (a < x->mem_size + n + 1)
                                a *= 2;
                        t = realloc(x->mem, a);
                        if (!t) {
                                x->write_error = -ENOMEM;
                                return 0;
                        }
                        x->mem = t;
                        x->mem_alloc = a;
                }
                memcpy(x->mem + x->mem_size, data, n);
                x->mem_size += n;
                x->mem[x->mem_size] = 0;
        }
        x->written += n;
        return n;
}

static char *mfree_str(char *s) {
        free(s);
        return NULL;
}

static char *header_value(const char *line, size_t n, const char *name) {
        size_t k = strlen(name);
        const char *v, *e;

        if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
                return NULL;
        v = line + k + 1;
        e = line + n;
        while (v < e && (*v == ' ' || *v == '\t'))
                v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
        return strndup(v, (size_t)(e - v));
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *userdata) {
        struct xfer *x = userdata;
        size_t n = size * nmemb;
        char *v;

        if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
                /* A new response (after a 100-continue or on a new request). */
                x->etag = mfree_str(x->etag);
                x->cache_control = mfree_str(x->cache_control);
                x->content_type = mfree_str(x->content_type);
                x->www_authenticate = mfree_str(x->www_authenticate);
                x->docker_content_digest = mfree_str(x->docker_content_digest);
                return n;
        }
        v = header_value(line, n, "content-type");
        if (v) {
                free(x->content_type);
                x->content_type = v;
                return n;
        }
        v = header_value(line, n, "docker-content-digest");
        if (v) {
                free(x->docker_content_digest);
                x->docker_content_digest = v;
                return n;
        }
        v = header_value(line, n, "www-authenticate");
        if (v) {
                if (x->www_authenticate) /* the first challenge is the one acted on */
                        free(v);
                else
                        x->www_authenticate = v;
                return n;
        }
        v = header_value(line, n, "etag");
        if (v) {
                free(x->etag);
                x->etag = v;
                return n;
        }
        v = header_value(line, n, "cache-control");
        if (v) {
                if (x->cache_control) {
                        char *j = NULL;

                        /* Repeated headers are one comma-separated list (RFC 9110 5.3). */
                        if (asprintf(&j, "%s, %s", x->cache_control, v) < 0) {
                                free(v);
                                return 0;
                        }
                        free(v);
                        free(x->cache_control);
                        x->cache_control = j;
                } else
                        x->cache_control = v;
        }
        return n;
}

static void format_bytes(char *buf, size_t n, double b) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        size_t u = 0;

        while (b >= 1024.0 && u < ELEMENTSOF(units) - 1) {
                b /= 1024.0;
                u++;
        }
        if (u == 0)
                (void)snprintf(buf, n, "%.0f %s", b, units[u]);
        else
                (void)snprintf(buf, n, "%.1f %s", b, units[u]);
}

static void draw_progress(struct xfer *x, curl_off_t total, curl_off_t now, bool final) {
        char done[32], all[32], rate[32], eta[32] = "";
        uint64_t t = now_us();
        double secs = (double)(t - x->started_us) / 1e6, bps;

        if (!final && x->drawn && t - x->last_draw_us < 200000)
                return;
        x->last_draw_us = t;
        x->drawn = true;

        bps = secs > 0.05 ? (double)now / secs : 0.0;
        format_bytes(done, sizeof(done), (double)now);
        format_bytes(all, sizeof(all), (double)total);
        format_bytes(rate, sizeof(rate), bps);
        if (total > 0 && bps > 0 && !final) {
                uint64_t left = (uint64_t)((double)(total - now) / bps);
                (void)snprintf(eta, sizeof(eta), " ETA %" PRIu64 ":%02" PRIu64, left / 60,
                               left % 60);
        }
        /* "\r" + clear to end of line: stderr is a terminal here.  The label may be a URL
         * from a discovery page: escaped (escape.h). */
        if (total > 0)
                fprintf(stderr, "\r%.40s: %s / %s  %s/s%s\033[K", POD_ESC(x->label), done, all,
                        rate, eta);
        else
                fprintf(stderr, "\r%.40s: %s  %s/s\033[K", POD_ESC(x->label), done, rate);
        if (final)
                fputc('\n', stderr);
        fflush(stderr);
}

static int progress_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
        struct xfer *x = userdata;

        if (current_status(x->curl) != 200 || dlnow <= 0)
                return 0;
        if (x->progress_fn)
                x->progress_fn(x->progress_userdata, (uint64_t)dlnow,
                               dltotal > 0 ? (uint64_t)dltotal : 0);
        else
                draw_progress(x, dltotal, dlnow, false);
        return 0;
}

static int map_http_status(long status) {
        if (status == 404 || status == 410)
                return -ENOENT;
        if (status == 401 || status == 403)
                return -EACCES;
        if (status == 429)
                return -EAGAIN;
        if (status >= 500)
                return -EIO;
        return -EPROTO;
}

static int map_curl(CURLcode rc, const char *url, const char *errbuf, struct pod_error *reterr) {
        const char *detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);

        switch (rc) {
        case CURLE_COULDNT_RESOLVE_HOST:
                return pod_error_set(reterr, -EHOSTUNREACH,
                                     "Failed to fetch '%s': DNS lookup failed: %s", url, detail);
        case CURLE_COULDNT_RESOLVE_PROXY:
                return pod_error_set(reterr, -EHOSTUNREACH,
                                     "Failed to fetch '%s': DNS lookup of the proxy failed: %s",
                                     url, detail);
        case CURLE_COULDNT_CONNECT:
                return pod_error_set(reterr, -ECONNREFUSED, "Failed to fetch '%s': %s", url,
                                     detail);
        case CURLE_OPERATION_TIMEDOUT:
                return pod_error_set(reterr, -ETIMEDOUT, "Failed to fetch '%s': timed out: %s", url,
                                     detail);
        case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
        case CURLE_SSL_CACERT:
#endif
                return pod_error_set(reterr, -EPERM,
                                     "Failed to fetch '%s': TLS certificate verification "
                                     "failed: %s",
                                     url, detail);
        case CURLE_SSL_CACERT_BADFILE:
                return pod_error_set(reterr, -EPERM,
                                     "Failed to fetch '%s': cannot load CA certificates: %s", url,
                                     detail);
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
                return pod_error_set(reterr, -ECONNRESET,
                                     "Failed to fetch '%s': TLS handshake failed: %s", url, detail);
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return pod_error_set(reterr, -EINVAL, "Failed to fetch '%s': %s", url, detail);
        case CURLE_FILESIZE_EXCEEDED:
                return pod_error_set(reterr, -EFBIG, "Failed to fetch '%s': response too large",
                                     url);
        case CURLE_OUT_OF_MEMORY:
                return pod_error_set(reterr, -ENOMEM, "Failed to fetch '%s': out of memory", url);
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
                return pod_error_set(reterr, -ECONNRESET, "Failed to fetch '%s': %s", url, detail);
        default:
                return pod_error_set(reterr, -EPROTO, "Failed to fetch '%s': %s", url, detail);
        }
}

/* Transient failures before any answer: worth another try.  DNS failures and TLS
 * verification failures are not (they do not heal in a second). */
static bool curl_retryable(CURLcode rc) {
        switch (rc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
                return true;
        default:
                return false;
        }
}

struct sink {
        int fd;      /* >= 0: file */
        off_t start; /* where the file body starts, for rewinding on retry */
        bool seekable;
};

static int sink_rewind(struct xfer *x, const struct sink *s) {
        if (x->written == 0)
                return 0;
        if (s->fd >= 0) {
                if (!s->seekable)
                        return -ESPIPE;
                if (ftruncate(s->fd, s->start) < 0)
                        return -errno;
                if (lseek(s->fd, s->start, SEEK_SET) < 0)
                        return -errno;
        } else
                x->mem_size = 0;
        x->written = 0;
        return 0;
}

static int setup_handle(CURL *c, const struct pod_http_options *o, struct xfer *x, char *errbuf,
                        struct curl_slist *headers) {
        const char *cafile = secure_getenv("SSL_CERT_FILE");
        const char *capath = secure_getenv("SSL_CERT_DIR");
        const char *protos = o->allow_http ? "http,https" : "https";
        CURLcode rc = CURLE_OK;

#define SET(opt, val)                                       \
        do {                                                \
                if (rc == CURLE_OK)                         \
                        rc = curl_easy_setopt(c, opt, val); \
        } while (0)

        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_USERAGENT, "pod/" PACKAGE_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
        SET(CURLOPT_PROTOCOLS_STR, protos);
#else
        SET(CURLOPT_PROTOCOLS,
            o->allow_http ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) : (long)CURLPROTO_HTTPS);
        (void)protos;
#endif
        /* Redirects are followed by hand (run()), so each hop is checked against the
         * http policy and the error can name the refused location. */
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_CONNECTTIMEOUT,
            o->connect_timeout_sec > 0 ? o->connect_timeout_sec : DEFAULT_CONNECT_SEC);
        SET(CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes > 0 ? o->low_speed_bytes : LOW_SPEED_BYTES);
        SET(CURLOPT_LOW_SPEED_TIME,
            o->low_speed_time_sec > 0 ? o->low_speed_time_sec : DEFAULT_LOW_SPEED_SEC);
        SET(CURLOPT_SSL_VERIFYPEER, o->insecure_tls ? 0L : 1L);
        SET(CURLOPT_SSL_VERIFYHOST, o->insecure_tls ? 0L : 2L);
        /* The OpenSSL convention: these replace the compiled-in CA file / directory. */
        if (cafile && *cafile)
                SET(CURLOPT_CAINFO, cafile);
        if (capath && *capath)
                SET(CURLOPT_CAPATH, capath);
        if (x->max > 0)
                SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
        SET(CURLOPT_WRITEFUNCTION, write_cb);
        SET(CURLOPT_WRITEDATA, x);
        SET(CURLOPT_HEADERFUNCTION, header_cb);
        SET(CURLOPT_HEADERDATA, x);
        if (headers)
                SET(CURLOPT_HTTPHEADER, headers);
        if (x->progress || x->progress_fn) {
                SET(CURLOPT_XFERINFOFUNCTION, progress_cb);
                SET(CURLOPT_XFERINFODATA, x);
                SET(CURLOPT_NOPROGRESS, 0L);
        }
#undef SET
        return rc == CURLE_OK ? 0 : -ENOMEM;
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static bool is_redirect(long status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int refuse_url(const char *url, const char *from, struct pod_error *reterr) {
        if (strncasecmp(url, "http://", 7) == 0) {
                if (from)
                        return pod_error_set(reterr, -EPERM,
                                             "Refusing redirect from '%s' to plain http '%s': "
                                             "http is not allowed",
                                             from, url);
                return pod_error_set(reterr, -EPERM,
                                     "Refusing to fetch '%s': plain http is not allowed", url);
        }
        if (from)
                return pod_error_set(reterr, -EINVAL,
                                     "Refusing redirect from '%s' to '%s': unsupported URL", from,
                                     url);
        return pod_error_set(reterr, -EINVAL,
                             "Refusing to fetch '%s': only https:// URLs are supported", url);
}

/* "scheme://host[:port]" of url: its length, 0 when there is none. */
static size_t origin_len(const char *url) {
        const char *p = strstr(url, "://");

        if (!p)
                return 0;
        p += 3;
        return (size_t)(p - url) + strcspn(p, "/?#");
}

static bool same_origin(const char *a, const char *b) {
        size_t n = origin_len(a);

        return n > 0 && n == origin_len(b) && strncasecmp(a, b, n) == 0;
}

/* The request headers of one hop: the fixed ones plus the Authorization header configured
 * for this hop's host, so credentials never follow a redirect to another host, and never
 * go over plain http (even where --insecure-options=http allows the request). */
static int hop_headers(CURL *c, const struct curl_slist *fixed, const struct pod_auth *auth,
                       const char *const *extra, const char *url, struct curl_slist **list) {
        const char *a =
                strncasecmp(url, "https://", 8) == 0 ? pod_auth_header_for_url(auth, url) : NULL;
        struct curl_slist *l = NULL, *t;

        for (const char *const *h = extra; h && *h; h++) {
                t = curl_slist_append(l, *h);
                if (!t) {
                        curl_slist_free_all(l);
                        return -ENOMEM;
                }
                l = t;
        }

        for (const struct curl_slist *f = fixed; f; f = f->next) {
                t = curl_slist_append(l, f->data);
                if (!t) {
                        curl_slist_free_all(l);
                        return -ENOMEM;
                }
                l = t;
        }
        if (a) {
                t = curl_slist_append(l, a);
                if (!t) {
                        curl_slist_free_all(l);
                        return -ENOMEM;
                }
                l = t;
        }
        if (curl_easy_setopt(c, CURLOPT_HTTPHEADER, l) != CURLE_OK) {
                curl_slist_free_all(l);
                return -ENOMEM;
        }
        curl_slist_free_all(*list); /* after curl let go of it */
        *list = l;
        return 0;
}

static int time_limit_error(long limit, const char *url, struct pod_error *reterr) {
        return pod_error_set(reterr, -ETIMEDOUT,
                             "Failed to fetch '%s': the transfer took longer than its time limit "
                             "of %ld s",
                             url, limit);
}

/* Each attempt gets what is left of the call's time limit. */
static int set_time_left(CURL *c, uint64_t deadline, long limit, const char *url,
                         struct pod_error *reterr) {
        uint64_t now = now_us();

        if (now >= deadline)
                return time_limit_error(limit, url, reterr);
        if (curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)((deadline - now + 999) / 1000)) !=
            CURLE_OK)
                return -ENOMEM;
        return 0;
}

static int run(const char *url, const struct pod_http_options *opts, struct sink *s, struct xfer *x,
               struct pod_http_response *ret, struct pod_error *reterr) {
        struct pod_http_options o = opts ? *opts : (struct pod_http_options){};
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL, *hop = NULL;
        _cleanup_free_ char *cur = NULL;
        unsigned tries = o.max_tries > 0 ? o.max_tries : DEFAULT_TRIES;
        long limit = o.timeout_sec > 0 ? o.timeout_sec : POD_HTTP_DEFAULT_TIMEOUT_SEC;
        uint64_t deadline = now_us() + (uint64_t)limit * 1000000u;
        char errbuf[CURL_ERROR_SIZE];
        long status = 0;
        int r;

        if (!pod_http_url_allowed(url, o.allow_http))
                return refuse_url(url, NULL, reterr);

        r = pod_dlopen_curl(reterr);
        if (r < 0)
                return r;
        r = global_init();
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to initialize libcurl");
        c = curl_easy_init();
        if (!c)
                return pod_error_set(reterr, -ENOMEM, "Failed to initialize libcurl");

        if (o.etag && *o.etag) {
                _cleanup_free_ char *h = NULL;

                /* A header injection through a stored ETag must not be possible. */
                if (strpbrk(o.etag, "\r\n"))
                        return pod_error_set(reterr, -EINVAL, "Invalid ETag for '%s'", url);
                if (asprintf(&h, "If-None-Match: %s", o.etag) < 0)
                        return -ENOMEM;
                headers = curl_slist_append(NULL, h);
                if (!headers)
                        return -ENOMEM;
        }

        for (const char *const *h = o.headers; h && *h; h++)
                if (strpbrk(*h, "\r\n"))
                        return pod_error_set(reterr, -EINVAL, "Invalid request header for '%s'",
                                             url);

        x->curl = c;
        x->progress_fn = o.progress_fn;
        x->progress_userdata = o.progress_userdata;
        x->progress = !o.progress_fn && o.progress && isatty(STDERR_FILENO);
        x->label = o.label ? o.label : url;
        r = setup_handle(c, &o, x, errbuf, headers);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to set up HTTP request for '%s'", url);

        cur = strdup(url);
        if (!cur)
                return -ENOMEM;

        for (unsigned hops = 0;; hops++) {
                unsigned delay = o.retry_delay_ms > 0 ? o.retry_delay_ms : DEFAULT_RETRY_DELAY_MS;
                char *loc = NULL;

                r = hop_headers(c, headers, o.auth, same_origin(cur, url) ? o.headers : NULL, cur,
                                &hop);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to set up HTTP request for '%s'",
                                             cur);

                for (unsigned attempt = 1;; attempt++) {
                        CURLcode rc;

                        r = sink_rewind(x, s);
                        if (r < 0)
                                return pod_error_set(reterr, r,
                                                     "Failed to fetch '%s': cannot retry after "
                                                     "a partial download: %s",
                                                     cur, strerror(-r));
                        errbuf[0] = 0;
                        r = set_time_left(c, deadline, limit, cur, reterr);
                        if (r < 0)
                                return r;
                        if (curl_easy_setopt(c, CURLOPT_URL, cur) != CURLE_OK)
                                return -ENOMEM;
                        x->started_us = now_us();
                        x->drawn = false;

                        rc = curl_easy_perform(c);
                        if (x->drawn)
                                draw_progress(x, 0, (curl_off_t)x->written, true);
                        if (rc != CURLE_OK) {
                                if (x->too_big)
                                        return pod_error_set(reterr, -EFBIG,
                                                             "Failed to fetch '%s': response "
                                                             "larger than %" PRIu64 " bytes",
                                                             cur, x->max);
                                if (x->write_error < 0)
                                        return pod_error_set(reterr, x->write_error,
                                                             "Failed to store data from '%s': %s",
                                                             cur, strerror(-x->write_error));
                                if (rc == CURLE_OPERATION_TIMEDOUT && now_us() >= deadline)
                                        return time_limit_error(limit, cur, reterr);
                                if (x->written > 0 && s->fd >= 0 && !s->seekable &&
                                    curl_retryable(rc) && attempt < tries) {
                                        int k = map_curl(rc, cur, errbuf, NULL);

                                        return pod_error_set(
                                                reterr, k,
                                                "Failed to fetch '%s': %s (not retried: %" PRIu64
                                                " bytes were already streamed to a pipe)",
                                                cur, *errbuf ? errbuf : curl_easy_strerror(rc),
                                                x->written);
                                }
                                if (!curl_retryable(rc) || attempt >= tries ||
                                    (x->written > 0 && s->fd >= 0 && !s->seekable))
                                        return map_curl(rc, cur, errbuf, reterr);
                        } else {
                                status = current_status(c);
                                if (!(status >= 500 || status == 429) || attempt >= tries)
                                        break;
                        }
                        sleep_ms(delay);
                        delay = delay >= 15000 ? 30000 : delay * 2;
                }

                if (!is_redirect(status))
                        break;
                if (hops >= POD_HTTP_MAX_REDIRECTS)
                        return pod_error_set(reterr, -ELOOP,
                                             "Failed to fetch '%s': more than %d redirects", url,
                                             POD_HTTP_MAX_REDIRECTS);
                if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc)
                        return pod_error_set(reterr, -EPROTO,
                                             "Failed to fetch '%s': HTTP %ld without Location", cur,
                                             status);
                if (!pod_http_url_allowed(loc, o.allow_http))
                        return refuse_url(loc, cur, reterr);
                free(cur);
                cur = strdup(loc);
                if (!cur)
                        return -ENOMEM;
        }

        if (!((status >= 200 && status < 300) || status == 304)) {
                if (ret && o.keep_error_response)
                        *ret = (struct pod_http_response){
                                .status = status,
                                .effective_url = strdup(cur),
                                .content_type = TAKE_PTR(x->content_type),
                                .www_authenticate = TAKE_PTR(x->www_authenticate),
                                .docker_content_digest = TAKE_PTR(x->docker_content_digest),
                        };
                if (!streq(cur, url))
                        return pod_error_set(reterr, map_http_status(status),
                                             "Failed to fetch '%s' (redirected to '%s'): HTTP %ld",
                                             url, cur, status);
                return pod_error_set(reterr, map_http_status(status),
                                     "Failed to fetch '%s': HTTP %ld", url, status);
        }

        if (ret) {
                *ret = (struct pod_http_response){
                        .status = status,
                        .etag = TAKE_PTR(x->etag),
                        .max_age = pod_http_parse_max_age(x->cache_control),
                        .effective_url = TAKE_PTR(cur),
                        .size = x->written,
                        .content_type = TAKE_PTR(x->content_type),
                        .www_authenticate = TAKE_PTR(x->www_authenticate),
                        .docker_content_digest = TAKE_PTR(x->docker_content_digest),
                };
        }
        return (int)status;
}

static void xfer_done(struct xfer *x) {
        free(x->mem);
        free(x->etag);
        free(x->cache_control);
        free(x->content_type);
        free(x->www_authenticate);
        free(x->docker_content_digest);
}

int pod_http_download(const char *url, int fd, const struct pod_http_options *opts,
                      struct pod_http_response *ret, struct pod_error *reterr) {
        struct xfer x = { .fd = fd, .max = opts ? opts->max_size : 0 };
        struct sink s = { .fd = fd };
        struct stat st;
        int r;

        if (fd < 0)
                return -EBADF;
        if (fstat(fd, &st) < 0)
                return -errno;
        s.start = lseek(fd, 0, SEEK_CUR);
        s.seekable = S_ISREG(st.st_mode) && s.start >= 0;

        r = run(url, opts, &s, &x, ret, reterr);
        xfer_done(&x);
        return r;
}

int pod_http_get(const char *url, const struct pod_http_options *opts, char **ret_body,
                 size_t *ret_size, struct pod_http_response *ret, struct pod_error *reterr) {
        struct xfer x = { .fd = -EBADF, .max = opts ? opts->max_size : 0 };
        struct sink s = { .fd = -EBADF };
        int r;

        if (x.max == 0)
                return -EINVAL; /* memory without a cap is a denial of service */

        r = run(url, opts, &s, &x, ret, reterr);
        if (r >= 0) {
                if (!x.mem) {
                        x.mem = strdup("");
                        if (!x.mem) {
                                if (ret)
                                        pod_http_response_done(ret);
                                return -ENOMEM;
                        }
                }
                if (ret_size)
                        *ret_size = x.mem_size;
                *ret_body = TAKE_PTR(x.mem);
        }
        xfer_done(&x);
        return r;
}
