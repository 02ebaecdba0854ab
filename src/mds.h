/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The appc metadata service (appc-digest.md section 11, ace.md "App Container Metadata
 * Service"): the HTTP/1.1 request parser, the router that turns one request into one complete
 * response (byte-exact content types and status codes), the pod identity (HMAC-SHA512 over
 * the pod UUID's 16 bytes and the content, base64, as rkt's metadata service signed), and the
 * host's signing key file.
 * Owns: request bytes -> response bytes, signing and verifying, the key file.
 * Does not own: sockets, processes or which pod asks (stage1/mds.c serves one pod from
 * inside it), or reading manifests (stage1/config.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "manifest.h"

#define POD_MDS_REQUEST_MAX 16384 /* request line + headers + body */
#define POD_MDS_KEY_SIZE    64    /* HMAC-SHA512 key, bytes */
#define POD_MDS_TOKEN_SIZE  32    /* hex digits of the 128-bit token in AC_METADATA_URL */
#define POD_MDS_KEY_FILE    "mds-hmac-key"
#define POD_MDS_KEY_FD_ENV  "POD_MDS_KEY_FD"

enum pod_mds_method {
        POD_MDS_GET,
        POD_MDS_POST,
        _POD_MDS_METHOD_MAX,
        _POD_MDS_METHOD_INVALID = -EINVAL,
};

struct pod_mds_request {
        enum pod_mds_method method;
        char *path;  /* the request target's path (query removed), as sent */
        bool flavor; /* "Metadata-Flavor: AppContainer" */
        bool form;   /* "Content-Type: application/x-www-form-urlencoded" */
        char *body;  /* NUL-terminated; body_size bytes */
        size_t body_size;
};

void pod_mds_request_done(struct pod_mds_request *req);

/* Parses the first size bytes received on a connection.  0: a complete request (in *ret,
 * caller calls pod_mds_request_done()); -EAGAIN: incomplete, read more; -EMSGSIZE: longer
 * than POD_MDS_REQUEST_MAX (the request is refused with 413); -EOPNOTSUPP: a method other
 * than GET and POST, or a transfer coding (501); -EBADMSG: anything else malformed (400). */
int pod_mds_request_parse(const char *buf, size_t size, struct pod_mds_request *ret);

/* The value of KEY in an application/x-www-form-urlencoded body ('+' and %XX decoded), in a
 * new string; -ENOENT if absent, -EBADMSG for a bad escape or a NUL byte. */
int pod_mds_form_get(const char *body, size_t size, const char *key, char **ret);

/* What one pod's service answers with: everything is borrowed. */
struct pod_mds_app {
        const char *name;
        const char *image_id;
        const char *image_manifest; /* the image manifest's text, as stored */
        const struct pod_kv *image_annotations;
        size_t n_image_annotations;
        const struct pod_kv *annotations; /* the pod manifest's app annotations (override) */
        size_t n_annotations;
};

struct pod_mds {
        const char *token; /* POD_MDS_TOKEN_SIZE hex digits: the URL's first component */
        const char *uuid;  /* canonical */
        const char *pod_manifest;
        const struct pod_kv *annotations; /* the pod manifest's */
        size_t n_annotations;
        const struct pod_mds_app *apps;
        size_t n_apps;
        uint8_t key[POD_MDS_KEY_SIZE];
};

/* The complete response to req (status line, Content-Type, Content-Length, "Connection:
 * close", body) in a new buffer.  A parse result < 0 (see pod_mds_request_parse()) is
 * answered with pod_mds_error_response().  Only -ENOMEM fails. */
int pod_mds_respond(const struct pod_mds *m, const struct pod_mds_request *req, char **ret,
                    size_t *ret_size);
int pod_mds_error_response(int parse_error, char **ret, size_t *ret_size);

/* base64(HMAC-SHA512(key, uuid's 16 bytes || content)) in a new string; uuid in any form
 * pod_uuid_parse() takes (-EINVAL otherwise); -EOPNOTSUPP without libcrypto. */
int pod_mds_sign(const uint8_t key[POD_MDS_KEY_SIZE], const char *uuid, const char *content,
                 size_t size, char **ret);
/* 1 if signature is what pod_mds_sign() gives for (uuid, content), 0 if not (also for a
 * malformed uuid); compared in constant time. */
int pod_mds_verify(const uint8_t key[POD_MDS_KEY_SIZE], const char *uuid, const char *content,
                   size_t size, const char *signature);

/* Opens (creating it atomically on first use: POD_MDS_KEY_SIZE random bytes, mode 0600) the
 * host's signing key POD_MDS_KEY_FILE in the state dir dir_fd; returns a read-only fd. */
int pod_mds_key_open(int dir_fd, struct pod_error *reterr);
/* Reads the key from fd (from offset 0): a regular file of exactly POD_MDS_KEY_SIZE bytes,
 * owned by us, accessible to nobody else (-EPERM otherwise). */
int pod_mds_key_read(int fd, uint8_t ret[POD_MDS_KEY_SIZE], struct pod_error *reterr);
