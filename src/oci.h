/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Docker and OCI image JSON (issue 12): image manifests (Docker schema 2, OCI), manifest lists
 * and OCI indexes (platform selection), image configs, and the conversion of a config into
 * the appc image manifest pod runs (rkt's docker2aci rules, pod's annotations below).
 * Pure functions over bytes: no I/O, fuzzed by tests/fuzz/fuzz-oci.c.
 * Owns: media types, digest syntax, the JSON shapes and their limits, platform matching, the
 * config -> appc mapping.  Does not own: fetching (registry.h), storing (store-oci.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "macro.h"

struct pod_image_manifest;

#define POD_OCI_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define POD_OCI_MEDIA_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define POD_OCI_MEDIA_DOCKER_SCHEMA1  "application/vnd.docker.distribution.manifest.v1+json"
#define POD_OCI_MEDIA_DOCKER_SCHEMA1S "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define POD_OCI_MEDIA_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define POD_OCI_MEDIA_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define POD_OCI_MEDIA_MANIFEST        "application/vnd.oci.image.manifest.v1+json"
#define POD_OCI_MEDIA_INDEX           "application/vnd.oci.image.index.v1+json"
#define POD_OCI_MEDIA_CONFIG          "application/vnd.oci.image.config.v1+json"
#define POD_OCI_MEDIA_LAYER           "application/vnd.oci.image.layer.v1.tar"
#define POD_OCI_MEDIA_LAYER_GZIP      "application/vnd.oci.image.layer.v1.tar+gzip"
#define POD_OCI_MEDIA_LAYER_ZSTD      "application/vnd.oci.image.layer.v1.tar+zstd"

/* Manifests, indexes and configs larger than this are refused (-EFBIG). */
#define POD_OCI_JSON_MAX (4u << 20)
/* More layers than this are refused (-E2BIG); Docker's own limit is 127. */
#define POD_OCI_LAYERS_MAX 256

/* "sha256:<64 lowercase hex>" (the only algorithm accepted; sha512 digests are refused with
 * -EPROTONOSUPPORT naming the algorithm). */
bool pod_oci_digest_valid(const char *digest);

enum pod_oci_kind {
        POD_OCI_KIND_MANIFEST, /* Docker schema 2 or OCI image manifest */
        POD_OCI_KIND_INDEX,    /* Docker manifest list or OCI index */
        POD_OCI_KIND_SCHEMA1,  /* refused by every caller: -EPROTONOSUPPORT with a clear text */
        _POD_OCI_KIND_MAX,
        _POD_OCI_KIND_INVALID = -EINVAL,
};

/* What a manifest response is, from its Content-Type (may be NULL or generic, e.g.
 * application/json) and, failing that, from the body's mediaType / schemaVersion / shape. */
int pod_oci_classify(const char *content_type, const char *body, size_t size,
                     enum pod_oci_kind *ret, struct pod_error *reterr);

struct pod_oci_descriptor {
        char *media_type;
        char *digest; /* valid (pod_oci_digest_valid) */
        uint64_t size;
        char *os, *architecture, *variant; /* platform of an index entry; NULL elsewhere */
};
void pod_oci_descriptor_done(struct pod_oci_descriptor *d);

struct pod_oci_manifest {
        char *media_type; /* of the manifest itself */
        struct pod_oci_descriptor config;
        struct pod_oci_descriptor *layers; /* bottom first */
        size_t n_layers;
};
void pod_oci_manifest_done(struct pod_oci_manifest *m);

/* Parses an image manifest.  -EPROTONOSUPPORT schema 1 ("Docker schema 1 manifests are not
 * supported: ..."), an unknown layer media type (foreign/non-distributable layers, encrypted
 * layers) or a non-sha256 digest; -EMEDIUMTYPE an index was given; -EBADMSG malformed
 * (reterr says which member); -E2BIG too many layers. */
int pod_oci_manifest_parse(const char *body, size_t size, struct pod_oci_manifest *ret,
                           struct pod_error *reterr);

/* Platform "os/arch[/variant]" in Go spelling (linux/amd64, linux/arm64/v8, linux/arm/v7). */
struct pod_oci_platform {
        char *os, *architecture, *variant; /* variant may be NULL */
};
void pod_oci_platform_done(struct pod_oci_platform *p);
/* Parses "--platform" text.  -EINVAL with reterr. */
int pod_oci_platform_parse(const char *s, struct pod_oci_platform *ret, struct pod_error *reterr);
/* The host's platform (uname machine -> GOARCH, arm variant from the machine). */
int pod_oci_platform_host(struct pod_oci_platform *ret);
/* "linux/arm64/v8" into a new string. */
char *pod_oci_platform_to_string(const struct pod_oci_platform *p);

/* Picks the entry of an index / manifest list for platform p (variant matched when both
 * sides give one; arm64 without variant matches v8; entries that are attestations, i.e. with
 * platform unknown/unknown, never match).  -ENOENT when nothing matches, the message listing
 * the platforms the index offers; -EBADMSG malformed. */
int pod_oci_index_select(const char *body, size_t size, const struct pod_oci_platform *p,
                         struct pod_oci_descriptor *ret, struct pod_error *reterr);

/* The parts of an image config pod uses. */
struct pod_oci_config {
        char *os, *architecture, *variant;
        char **diff_ids; /* "sha256:..." bottom first, rootfs.type must be "layers" */
        size_t n_diff_ids;
        char **entrypoint, **cmd, **env;        /* NULL-terminated, NULL when absent */
        char *working_dir, *user, *stop_signal; /* NULL when absent or empty */
        char **exposed_ports;                   /* "80/tcp", NULL-terminated */
        char **volumes;                         /* "/data", NULL-terminated */
        char **label_keys, **label_values;      /* parallel, NULL-terminated */
        char *created;                          /* RFC 3339 or NULL */
};
void pod_oci_config_done(struct pod_oci_config *c);
/* Parses config (the "config" member's fields; a missing "config" is an empty one).
 * -EBADMSG malformed (reterr names the member), -E2BIG too many diff_ids. */
int pod_oci_config_parse(const char *body, size_t size, struct pod_oci_config *ret,
                         struct pod_error *reterr);

/* Where the image came from, for the converted manifest's name and annotations. */
struct pod_oci_origin {
        const char *registry;        /* "registry-1.docker.io", "127.0.0.1:5000"; NULL: none known
                                      * (an archive without a name) */
        const char *repository;      /* "library/busybox" */
        const char *tag;             /* may be NULL */
        const char *manifest_digest; /* registry digest "sha256:..." or NULL */
        const char *config_digest;   /* "sha256:..." of the config bytes */
};

/* Annotations the converted manifest carries (rkt's docker2aci names where rkt had one). */
#define POD_OCI_ANN_REGISTRY   "appc.io/docker/registryurl"
#define POD_OCI_ANN_REPOSITORY "appc.io/docker/repository"
#define POD_OCI_ANN_TAG        "appc.io/docker/tag"
#define POD_OCI_ANN_IMAGEID    "appc.io/docker/imageid"      /* the config digest */
#define POD_OCI_ANN_MANIFEST   "appc.io/docker/manifesthash" /* the registry digest */
#define POD_OCI_ANN_ENTRYPOINT "appc.io/docker/entrypoint"   /* JSON array text */
#define POD_OCI_ANN_CMD        "appc.io/docker/cmd"          /* JSON array text */
#define POD_OCI_ANN_STOPSIGNAL "pod/docker-stop-signal"      /* "SIGQUIT" or a number */
#define POD_OCI_ANN_USER       "pod/docker-user"             /* config User as written */

/* The appc image manifest for config c from origin o (rkt's docker2aci mapping):
 *   name: "<registry>/<repository>" sanitised to an AC identifier (':' of a port -> '_', upper
 *         case lowered), or "localhost/<config digest hex>" without an origin;
 *   labels: version=<tag> (when tagged), os, arch (appc spelling of the config's);
 *   app.exec: Entrypoint + Cmd (the split kept in the two annotations);
 *   app.user / app.group: from User ("name", "uid", "uid:gid", "name:group"); empty ->
 *         "0"/"0"; a user without a group -> group "0" plus the annotation POD_OCI_ANN_USER
 *         (the User as written), and stage1 then applies Docker's rule unless the group was
 *         overridden: the user's primary GID from the image's /etc/passwd, else 0;
 *   app.environment: Env (PATH kept as given); app.workingDirectory: WorkingDir;
 *   app.ports: ExposedPorts as "<port>-<proto>" entries; app.mountPoints: Volumes as
 *         "volume-<sanitised path>" names; annotations: Labels (keys not valid AC names are
 *         skipped), then the pod annotations above.
 * -EINVAL with reterr when something cannot be represented (an invalid port, a relative
 * working directory, an exec that is empty: "image has no Entrypoint or Cmd"). */
int pod_oci_config_to_appc(const struct pod_oci_config *c, const struct pod_oci_origin *o,
                           struct pod_image_manifest **ret, struct pod_error *reterr);
