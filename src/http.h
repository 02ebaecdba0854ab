/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* HTTP(S) GET for discovery pages, keys, images and signatures (libcurl).
 * Owns: transport policy — TLS verified against the system CA store (plus $SSL_CERT_FILE /
 * $SSL_CERT_DIR when set), plain http and https->http redirects only when the caller allows
 * them, redirect limit, timeouts, bounded retries with exponential backoff (connect errors,
 * 5xx, 429; never other 4xx), User-Agent, conditional GET, ETag/Cache-Control extraction,
 * the stderr progress bar, and mapping curl's and HTTP's errors to -errno + pod_error.
 * Proxies come from the standard environment variables (libcurl's default).  Credentials
 * (auth.h) are sent only to the host they are configured for: redirects are followed hop by
 * hop and each hop gets the header of its own host, or none; plain http hops get none.
 * Caller-given headers (opts->headers: a registry's Accept and Bearer token) go only to the
 * origin (scheme, host, port) of the URL the caller asked for: a redirect to blob storage on
 * another host gets none of them.
 * Does not own: what the bytes are (discovery, verify, store) or the per-URL cache record
 * (spec section 6.4: the store keeps it; this module only reports ETag and max-age).
 *
 * Errors (reterr names the URL and the cause):
 *   -ENOENT        HTTP 404/410          -EACCES     HTTP 401/403
 *   -EAGAIN        HTTP 429 after retries -EIO        HTTP 5xx after retries
 *   -EPROTO        any other HTTP status >= 300 except 304, or a protocol error
 *   -EHOSTUNREACH  DNS failure (host or proxy)  -ECONNREFUSED  could not connect
 *   -ETIMEDOUT     connect, low-speed or overall (timeout_sec) timeout
 *   -EPERM         TLS certificate verification failed, plain http refused, or a redirect
 *                  to http refused (use --insecure-options=tls/http deliberately)
 *   -ECONNRESET    TLS handshake or connection failure otherwise
 *   -EFBIG         body larger than the caller's cap
 *   -ELOOP         more than POD_HTTP_MAX_REDIRECTS redirects
 *   -EINVAL        malformed or unsupported URL */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define POD_HTTP_MAX_REDIRECTS 10

struct pod_auth;

struct pod_http_options {
        const struct pod_auth *auth; /* per-host Authorization headers (auth.h), for each hop
                                      * only the one configured for that hop's host */
        bool allow_http;          /* plain http URLs and https->http redirects (insecure "http") */
        bool insecure_tls;        /* do not verify certificates (insecure "tls") */
        bool progress;            /* progress bar on stderr, only when stderr is a TTY */
        const char *label;        /* progress bar label, e.g. the image name; default: the URL */
        const char *etag;         /* send If-None-Match; a 304 then returns 304 with no body */
        uint64_t max_size;        /* cap on the body in bytes; 0: no cap (files only) */
        unsigned max_tries;       /* attempts including the first; 0: default 3 */
        unsigned retry_delay_ms;  /* first backoff delay, doubled each retry; 0: 1000 */
        long connect_timeout_sec; /* 0: 30 */
        long low_speed_time_sec;  /* abort when below low_speed_bytes/s for this long; 0: 60 */
        long low_speed_bytes;     /* 0: 1024 */
        /* The whole call, redirects and retries included, ends with -ETIMEDOUT after this
         * long; 0: POD_HTTP_DEFAULT_TIMEOUT_SEC.  A server trickling bytes holds pod no
         * longer than this. */
        long timeout_sec;
        /* Extra request header lines ("Accept: ...", "Authorization: Bearer ..."),
         * NULL-terminated, sent only to the requested URL's origin (see above).  Lines with
         * CR or LF are refused (-EINVAL). */
        const char *const *headers;
        /* Fill *ret (status and captured headers, no body) for an HTTP error status too, so
         * the caller can read e.g. WWW-Authenticate of a 401; the call still fails. */
        bool keep_error_response;
        /* Called with the bytes of the 200 body so far and the total (0: unknown) instead of
         * drawing the built-in bar; from the calling thread.  NULL: the built-in bar. */
        void (*progress_fn)(void *userdata, uint64_t now, uint64_t total);
        void *progress_userdata;
};
#define POD_HTTP_DEFAULT_TIMEOUT_SEC 3600L

struct pod_http_response {
        long status;         /* final HTTP status: 200, 202, 304, ... */
        char *etag;          /* ETag of the final response, or NULL */
        uint64_t max_age;    /* Cache-Control max-age; no-cache/no-store/absent/invalid: 0 */
        char *effective_url; /* URL after redirects */
        uint64_t size;       /* body bytes delivered */
        /* Headers of the final response, NULL when absent: */
        char *content_type;
        char *www_authenticate; /* the first challenge line */
        char *docker_content_digest;
};

void pod_http_response_done(struct pod_http_response *r); /* frees members, not r */

/* Downloads url into fd (written from its current offset).  Only a 200 body is written;
 * other 2xx (e.g. 202 "signature not ready") and 304 return their status with nothing
 * written.  On a retry after a partial body the fd is truncated back to where it started
 * (fd must then be seekable: into a pipe or socket a transfer that already wrote bytes is not
 * retried, and the error says so).  Safe to call from several threads at once, each with its
 * own fd.  Returns the HTTP status (>= 200) or
 * -errno as listed above.  ret may be NULL. */
int pod_http_download(const char *url, int fd, const struct pod_http_options *opts,
                      struct pod_http_response *ret, struct pod_error *reterr);

/* Same into memory: *ret_body is NUL-terminated (NUL bytes in the body are kept, use
 * *ret_size); opts->max_size (required, > 0) caps it, -EFBIG beyond.  *ret_body is set
 * (possibly to an empty string) whenever the return value is >= 0. */
int pod_http_get(const char *url, const struct pod_http_options *opts, char **ret_body,
                 size_t *ret_size, struct pod_http_response *ret, struct pod_error *reterr);

/* Parses a Cache-Control header value into max-age seconds (0 for no-cache, no-store,
 * missing or invalid max-age).  Exposed for tests. */
uint64_t pod_http_parse_max_age(const char *cache_control);

/* True for "https://..." and, when allow_http, "http://..." (scheme case-insensitive). */
bool pod_http_url_allowed(const char *url, bool allow_http);
