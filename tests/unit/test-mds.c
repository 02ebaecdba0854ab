/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metadata service's request parser, router and HMAC identity (src/mds.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "mds.h"
#include "tap.h"

#define TOKEN "0123456789abcdef0123456789abcdef"
#define UUID  "6f1b2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
#define H     "Metadata-Flavor: AppContainer\r\n"

static const struct pod_kv pod_annots[] = { { (char *)"a", (char *)"1" },
                                            { (char *)"q", (char *)"say \"hi\"\n" } };
static const struct pod_kv img_annots[] = { { (char *)"x", (char *)"img" },
                                            { (char *)"y", (char *)"img" } };
static const struct pod_kv app_annots[] = { { (char *)"y", (char *)"pod" },
                                            { (char *)"z", (char *)"pod" } };
static const struct pod_mds_app apps[] = { {
        .name = "web",
        .image_id = "sha512-abc",
        .image_manifest = "{\"acKind\":\"ImageManifest\"}",
        .image_annotations = img_annots,
        .n_image_annotations = 2,
        .annotations = app_annots,
        .n_annotations = 2,
} };
static struct pod_mds mds = {
        .token = TOKEN,
        .uuid = UUID,
        .pod_manifest = "{\"acKind\":\"PodManifest\"}",
        .annotations = pod_annots,
        .n_annotations = 2,
        .apps = apps,
        .n_apps = 1,
};

/* The whole response to a raw request (or to its parse error). */
static char *ask(const char *raw) {
        struct pod_mds_request req = {};
        char *out = NULL;
        size_t size = 0;
        int r;

        r = pod_mds_request_parse(raw, strlen(raw), &req);
        if (r >= 0) {
                r = pod_mds_respond(&mds, &req, &out, &size);
                pod_mds_request_done(&req);
        } else
                r = pod_mds_error_response(r, &out, &size);
        if (r < 0)
                return NULL;
        out = realloc(out, size + 1);
        out[size] = 0;
        return out;
}

static void check(const char *raw, const char *want, const char *name) {
        _cleanup_free_ char *got = ask(raw);

        tap_is_str(got, want, name);
}

static const char *body(const char *resp) {
        const char *b = strstr(resp, "\r\n\r\n");
        return b ? b + 4 : "";
}

static void test_parse(void) {
        struct pod_mds_request req = {};
        char big[POD_MDS_REQUEST_MAX + 100];
        const char *post = "POST /p HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded; "
                           "charset=utf-8\r\nContent-Length: 5\r\n" H "\r\nab";

        tap_is_int(pod_mds_request_parse("GET / HTTP/1.1\r\n", 16, &req), -EAGAIN,
                   "parse: headers not complete yet");
        tap_is_int(pod_mds_request_parse(post, strlen(post), &req), -EAGAIN,
                   "parse: body not complete yet");
        tap_is_int(pod_mds_request_parse("GET /x?q=1 HTTP/1.0\n\n", 21, &req), 0,
                   "parse: bare LF, HTTP/1.0, query dropped");
        tap_is_str(req.path, "/x", "parse: path");
        pod_mds_request_done(&req);
        {
                _cleanup_free_ char *full = NULL;

                tap_ok(asprintf(&full, "%scde", post) > 0, "asprintf");
                tap_is_int(pod_mds_request_parse(full, strlen(full), &req), 0, "parse: POST");
                tap_ok(req.method == POD_MDS_POST && req.form && req.flavor && req.body_size == 5 &&
                               streq(req.body, "abcde"),
                       "parse: method, form, flavor, body");
                pod_mds_request_done(&req);
        }
        tap_is_int(pod_mds_request_parse("PUT / HTTP/1.1\r\n\r\n", 18, &req), -EOPNOTSUPP,
                   "parse: PUT not implemented");
        tap_is_int(pod_mds_request_parse("GET x HTTP/1.1\r\n\r\n", 18, &req), -EBADMSG,
                   "parse: target not a path");
        tap_is_int(pod_mds_request_parse("GET / HTTP/2\r\n\r\n", 16, &req), -EBADMSG,
                   "parse: HTTP/2 refused");
        tap_is_int(pod_mds_request_parse("GET / HTTP/1.1\r\nbroken\r\n\r\n", 26, &req), -EBADMSG,
                   "parse: header without a colon");
        tap_is_int(pod_mds_request_parse("GET / HTTP/1.1\r\n folded\r\n\r\n", 27, &req), -EBADMSG,
                   "parse: obsolete folding refused");
        tap_is_int(pod_mds_request_parse("GET / HTTP/1.1\r\nContent-Length: 1\r\n"
                                         "Content-Length: 1\r\n\r\nx",
                                         56, &req),
                   -EBADMSG, "parse: two Content-Lengths");
        tap_is_int(pod_mds_request_parse("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 38, &req),
                   -EBADMSG, "parse: negative Content-Length");
        tap_is_int(
                pod_mds_request_parse("GET / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", 42, &req),
                -EMSGSIZE, "parse: body too large");
        tap_is_int(pod_mds_request_parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                                         47, &req),
                   -EOPNOTSUPP, "parse: chunked refused");
        tap_is_int(pod_mds_request_parse("GET /\x01 HTTP/1.1\r\n\r\n", 19, &req), -EBADMSG,
                   "parse: control character in the path");
        memset(big, 'a', sizeof(big));
        tap_is_int(pod_mds_request_parse(big, sizeof(big), &req), -EMSGSIZE,
                   "parse: endless header");
}

static void test_form(void) {
        _cleanup_free_ char *v = NULL, *w = NULL;
        const char *b = "uuid=u&content=a+b%2B%3d%26&empty&x=";

        tap_is_int(pod_mds_form_get(b, strlen(b), "content", &v), 0, "form: content");
        tap_is_str(v, "a b+=&", "form: + and %XX decoded");
        tap_is_int(pod_mds_form_get(b, strlen(b), "empty", &w), 0, "form: key without =");
        tap_is_str(w, "", "form: empty value");
        tap_is_int(pod_mds_form_get(b, strlen(b), "nope", &v), -ENOENT, "form: missing key");
        tap_is_int(pod_mds_form_get("c=%4", 4, "c", &v), -EBADMSG, "form: short escape");
        tap_is_int(pod_mds_form_get("c=%00", 5, "c", &v), -EBADMSG, "form: NUL refused");
        tap_is_int(pod_mds_form_get("c=%zz", 5, "c", &v), -EBADMSG, "form: bad escape");
}

static void test_routes(void) {
        _cleanup_free_ char *r = NULL;

        check("GET /" TOKEN "/acMetadata/v1/pod/uuid HTTP/1.1\r\n" H "\r\n",
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=us-ascii\r\n"
              "Content-Length: 36\r\nConnection: close\r\n\r\n" UUID,
              "pod/uuid: byte-exact response");
        check("GET /" TOKEN "/acMetadata/v1/pod/manifest HTTP/1.1\r\n" H "\r\n",
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 24\r\n"
              "Connection: close\r\n\r\n{\"acKind\":\"PodManifest\"}",
              "pod/manifest: the text as given");
        r = ask("GET /" TOKEN "/acMetadata/v1/pod/annotations HTTP/1.1\r\n" H "\r\n");
        tap_is_str(body(r),
                   "[{\"name\":\"a\",\"value\":\"1\"},{\"name\":\"q\",\"value\":"
                   "\"say \\\"hi\\\"\\u000a\"}]",
                   "pod/annotations: JSON, escaped");
        free(r);
        r = ask("GET /" TOKEN "/acMetadata/v1/pod/annotations/ HTTP/1.1\r\n" H "\r\n");
        tap_is_str(body(r), "a\nq\n", "pod/annotations/: names");
        free(r);
        r = ask("GET /" TOKEN "/acMetadata/v1/apps/web/annotations HTTP/1.1\r\n" H "\r\n");
        tap_is_str(body(r),
                   "[{\"name\":\"x\",\"value\":\"img\"},{\"name\":\"y\",\"value\":\"pod\"},"
                   "{\"name\":\"z\",\"value\":\"pod\"}]",
                   "apps/NAME/annotations: image's overlaid by the pod's, each once");
        free(r);
        r = ask("GET /" TOKEN "/acMetadata/v1/apps/web/annotations/y HTTP/1.1\r\n" H "\r\n");
        tap_is_str(body(r), "pod", "apps/NAME/annotations/NAME: the pod's wins");
        free(r);
        r = ask("GET /" TOKEN "/acMetadata/v1/apps/web/image/id HTTP/1.1\r\n" H "\r\n");
        tap_is_str(body(r), "sha512-abc", "apps/NAME/image/id");
        free(r);
        r = ask("GET /" TOKEN "/acMetadata/v1/apps/web/image/manifest HTTP/1.1\r\n" H "\r\n");
        tap_ok(strstr(r, "Content-Type: application/json\r\n") &&
                       streq(body(r), "{\"acKind\":\"ImageManifest\"}"),
               "apps/NAME/image/manifest");
        free(r);
        r = NULL;
        static const struct {
                const char *req, *status;
        } st[] = {
                { "GET /" TOKEN "/acMetadata/v1/apps/webx/image/id HTTP/1.1\r\n" H "\r\n", "404" },
                { "GET /" TOKEN "/acMetadata/v1/apps/we/image/id HTTP/1.1\r\n" H "\r\n", "404" },
                { "GET /" TOKEN "/acMetadata/v1/apps/web/image/idx HTTP/1.1\r\n" H "\r\n", "404" },
                { "GET /" TOKEN "/acMetadata/v1/pod/annotations/nope HTTP/1.1\r\n" H "\r\n",
                  "404" },
                { "GET /" TOKEN "/acMetadata/v1/pod/annotations/a/b HTTP/1.1\r\n" H "\r\n", "404" },
                { "GET /" TOKEN "x/acMetadata/v1/pod/uuid HTTP/1.1\r\n" H "\r\n", "404" },
                { "GET /0123456789abcdef0123456789abcdeF/acMetadata/v1/pod/uuid HTTP/1.1\r\n" H
                  "\r\n",
                  "404" },
                { "GET /acMetadata/v1/pod/uuid HTTP/1.1\r\n" H "\r\n", "404" },
                { "GET /" TOKEN "/acMetadata/v1/pod/uuid HTTP/1.1\r\n\r\n", "403" },
                { "GET /" TOKEN "/acMetadata/v1/pod/uuid HTTP/1.1\r\nMetadata-Flavor: x\r\n\r\n",
                  "403" },
                { "POST /" TOKEN "/acMetadata/v1/pod/uuid HTTP/1.1\r\n" H "\r\n", "405" },
                { "GET /" TOKEN "/acMetadata/v1/pod/hmac/sign HTTP/1.1\r\n" H "\r\n", "405" },
                { "POST /" TOKEN "/acMetadata/v1/pod/hmac/sign HTTP/1.1\r\n" H "\r\n", "400" },
                { "DELETE / HTTP/1.1\r\n\r\n", "501" },
                { "GET / HTTP/3\r\n\r\n", "400" },
        };
        for (size_t i = 0; i < ELEMENTSOF(st); i++) {
                _cleanup_free_ char *x = ask(st[i].req);
                char want[32];

                (void)snprintf(want, sizeof(want), "HTTP/1.1 %s ", st[i].status);
                tap_ok(x && strneq(x, want, strlen(want)), "status %s for request %zu",
                       st[i].status, i);
        }
}

static void test_hmac(void) {
        _cleanup_free_ char *sig = NULL, *sig2 = NULL, *other = NULL, *r = NULL, *req = NULL;
        uint8_t key2[POD_MDS_KEY_SIZE];
        int k;

        memset(mds.key, 0x42, sizeof(mds.key));
        k = pod_mds_sign(mds.key, UUID, "content", 7, &sig);
        if (k == -EOPNOTSUPP) {
                tap_ok(true, "# SKIP no libcrypto");
                return;
        }
        tap_is_int(k, 0, "sign");
        tap_is_int(strlen(sig), 88, "sign: base64 of 64 bytes");
        /* Known answer: python3 -c 'hmac.new(b"\x42"*64, uuid.UUID(U).bytes + b"content",
         * hashlib.sha512)', base64: rkt's HMAC(key, UUID bytes || content). */
        tap_is_str(sig,
                   "f4jNyYcE4k1BX5x9p+F+OUOvkJT0McpcgDTk7W1tj0pi/7xH/mRTLrQnspxIK93/26Xt79r9/"
                   "6NeHYHknLqpWQ==",
                   "sign: known answer");
        /* The same key and UUID in any form sign the same: any pod on the host verifies. */
        tap_is_int(pod_mds_sign(mds.key, "6F1B2D3E4A5B4C6D8E9F0A1B2C3D4E5F", "content", 7, &sig2),
                   0, "sign: bare upper-case UUID");
        tap_is_str(sig2, sig, "sign: UUID spelling does not matter");
        tap_is_int(pod_mds_verify(mds.key, UUID, "content", 7, sig), 1, "verify: good");
        tap_is_int(pod_mds_verify(mds.key, UUID, "contenT", 7, sig), 0, "verify: content");
        tap_is_int(pod_mds_verify(mds.key, UUID, "content", 6, sig), 0, "verify: length");
        tap_is_int(
                pod_mds_verify(mds.key, "6f1b2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5e", "content", 7, sig),
                0, "verify: UUID");
        tap_is_int(pod_mds_verify(mds.key, "nope", "content", 7, sig), 0, "verify: bad UUID");
        sig[3] ^= 1;
        tap_is_int(pod_mds_verify(mds.key, UUID, "content", 7, sig), 0, "verify: signature");
        sig[3] ^= 1;
        tap_is_int(pod_mds_verify(mds.key, UUID, "content", 7, ""), 0, "verify: empty sig");
        memset(key2, 0x43, sizeof(key2));
        tap_is_int(pod_mds_verify(key2, UUID, "content", 7, sig), 0, "verify: another key");
        tap_is_int(pod_mds_sign(mds.key, UUID, "", 0, &other), 0, "sign: empty content");

        /* Through the router: sign then verify. */
        tap_ok(asprintf(&req,
                        "POST /" TOKEN "/acMetadata/v1/pod/hmac/sign HTTP/1.1\r\n" H
                        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n"
                        "\r\ncontent=abc") > 0,
               "asprintf");
        r = ask(req);
        free(sig2);
        sig2 = NULL;
        tap_is_int(pod_mds_sign(mds.key, UUID, "abc", 3, &sig2), 0, "sign abc");
        tap_is_str(body(r), sig2, "POST pod/hmac/sign signs (this pod's UUID, content)");
}

static void test_key(void) {
        char dir[] = "/tmp/test-mds-XXXXXX";
        uint8_t k1[POD_MDS_KEY_SIZE], k2[POD_MDS_KEY_SIZE];
        _cleanup_close_ int dfd = -EBADF, f1 = -EBADF, f2 = -EBADF;
        struct stat st;
        char path[64];

        tap_ok(mkdtemp(dir), "mkdtemp");
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        f1 = pod_mds_key_open(dfd, NULL);
        tap_ok(f1 >= 0, "key: created on first use");
        tap_ok(fstatat(dfd, POD_MDS_KEY_FILE, &st, 0) == 0 && (st.st_mode & 0777) == 0600 &&
                       st.st_size == POD_MDS_KEY_SIZE,
               "key: 64 bytes, mode 0600");
        f2 = pod_mds_key_open(dfd, NULL);
        tap_ok(f2 >= 0 && pod_mds_key_read(f1, k1, NULL) == 0 &&
                       pod_mds_key_read(f2, k2, NULL) == 0 && memcmp(k1, k2, sizeof(k1)) == 0,
               "key: the second use reads the same key");
        tap_ok(fchmodat(dfd, POD_MDS_KEY_FILE, 0644, 0) == 0 &&
                       pod_mds_key_read(f1, k1, NULL) == -EPERM,
               "key: readable by others: refused");
        (void)snprintf(path, sizeof(path), "%s/%s", dir, POD_MDS_KEY_FILE);
        (void)unlink(path);
        (void)rmdir(dir);
}

int main(void) {
        test_parse();
        test_form();
        test_routes();
        test_hmac();
        test_key();
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}
