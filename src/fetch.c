/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "aci.h"
#include "discovery.h"
#include "fd-util.h"
#include "fetch-docker.h"
#include "fetch.h"
#include "http.h"
#include "imageref.h"
#include "insecure.h"
#include "log.h"
#include "macro.h"
#include "manifest.h"
#include "path-util.h"
#include "podlimits.h"
#include "provenance.h"
#include "store-sig.h"
#include "store.h"
#include "verify.h"

/* A detached signature is a few hundred bytes; a page of them is already suspicious. */
#define SIG_MAX (1024 * 1024)
/* Dependency chains deeper than this are refused as if they were a cycle. */
#define DEPTH_MAX 32

static const char *const pull_policy_table[_POD_PULL_POLICY_MAX] = {
        [POD_PULL_NEW] = "new",
        [POD_PULL_UPDATE] = "update",
        [POD_PULL_NEVER] = "never",
};

const char *pod_pull_policy_to_string(enum pod_pull_policy p) {
        if (p < 0 || p >= _POD_PULL_POLICY_MAX)
                return NULL;
        return pull_policy_table[p];
}

enum pod_pull_policy pod_pull_policy_from_string(const char *s) {
        for (int i = 0; i < _POD_PULL_POLICY_MAX; i++)
                if (s && streq(s, pull_policy_table[i]))
                        return i;
        return _POD_PULL_POLICY_INVALID;
}

struct fetch {
        struct pod_store *store;
        const struct pod_fetch_options *o;
        const char *chain[DEPTH_MAX]; /* names being fetched, outermost first (cycles) */
        size_t depth;
};

static uint64_t now_usec(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* What the fetched image must be: set for discovered names and dependencies. */
struct expect {
        const char *name;            /* manifest name, or NULL */
        const struct pod_kv *labels; /* each must be in the manifest with this value */
        size_t n_labels;
        const char *image_id; /* dependency imageID (full or a prefix such as rkt's), or NULL */
        const char *source;   /* URL or path, for messages */
        struct pod_provenance prov; /* filled by verify_image(), recorded by import() */
};

static int check_labels(const char *what, const char *source, const struct pod_image_manifest *m,
                        const struct pod_kv *labels, size_t n, struct pod_error *reterr) {
        for (size_t i = 0; i < n; i++) {
                const char *have = pod_kv_get(m->labels, m->n_labels, labels[i].name);

                if (!have || !streq(have, labels[i].value))
                        return pod_error_set(reterr, -EMEDIUMTYPE,
                                             "Image '%s' from '%s' has label %s=%s in its "
                                             "manifest, but %s=%s was requested",
                                             what, source, labels[i].name, have ? have : "(none)",
                                             labels[i].name, labels[i].value);
        }
        return 0;
}

static bool id_matches(const char *id, const char *want) {
        /* A dependency may name the full ID or rkt's half-length one: a prefix either way. */
        return strncasecmp(id, want, strlen(want)) == 0;
}

/* What vouched for the image, for its provenance record. */
static int provenance_from_verify(struct pod_provenance *p, const struct pod_verify_info *i) {
        int r;

        r = pod_provenance_set(&p->signer_fingerprint, i->fingerprint);
        if (r >= 0)
                r = pod_provenance_set(&p->signer_uid, i->uid);
        if (r >= 0)
                r = pod_provenance_set(&p->trusted_prefix, i->prefix);
        if (r >= 0)
                r = pod_provenance_set(&p->key_path, i->key_path);
        p->root_key = i->root_key;
        p->signature_time = i->signature_time;
        return r;
}

static int verify_image(struct fetch *f, const char *name, int fd, const char *sig, size_t sig_size,
                        struct pod_provenance *prov, struct pod_error *reterr) {
        struct pod_verify_info info = {};
        int r;

        if (f->o->insecure & POD_INSECURE_IMAGE) {
                log_debug("Not verifying the signature of '%s' (--insecure-options=image)", name);
                return 0;
        }
        r = pod_verify_detached(name, fd, sig, sig_size, &f->o->keystore, &info, reterr);
        if (r >= 0)
                log_debug("Image '%s' verified with key %s (%s)", name, info.fingerprint,
                          info.key_path);
        if (r >= 0)
                r = provenance_from_verify(prov, &info);
        pod_verify_info_done(&info);
        return r;
}

static int import_check(const char *id, const struct pod_image_manifest *m, void *userdata,
                        struct pod_error *reterr) {
        struct expect *x = userdata;
        int r;

        if (x->name && !streq(m->name, x->name))
                return pod_error_set(reterr, -EMEDIUMTYPE,
                                     "Image '%s' from '%s' has the name '%s' in its manifest; "
                                     "refusing it",
                                     x->name, x->source, m->name);
        r = check_labels(m->name, x->source, m, x->labels, x->n_labels, reterr);
        if (r < 0)
                return r;
        if (x->image_id && !id_matches(id, x->image_id))
                return pod_error_set(reterr, -EMEDIUMTYPE,
                                     "Dependency '%s' from '%s' has image ID %s, but the depending "
                                     "manifest requires %s",
                                     m->name, x->source, id, x->image_id);
        return 0;
}

/* Verify before unpack, for a file or URL whose name only its manifest tells: read the
 * manifest without extracting anything, verify the whole file for that name, and hand the
 * name back for the import to insist on (the verified bytes are the ones unpacked: fd is a
 * private temp file or the user's file, read again from offset 0). */
static int verify_unnamed(struct fetch *f, int fd, const char *sig, size_t sig_size,
                          const char *source, struct pod_provenance *prov, char **ret_name,
                          struct pod_error *reterr) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        char *name;
        int r;

        r = pod_aci_peek_manifest(fd, f->o->limits, &text, &size, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Failed to read the manifest of '%s'", source);
        r = pod_image_manifest_parse(text, size, &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Invalid image manifest in '%s'", source);
        r = verify_image(f, m->name, fd, sig, sig_size, prov, reterr);
        if (r < 0)
                return r;
        name = strdup(m->name);
        if (!name)
                return -ENOMEM;
        *ret_name = name;
        return 0;
}

static const struct pod_limits *limits(struct fetch *f) {
        return f->o->limits ?: &pod_limits_default;
}

/* adopt: fd is a temp file of the store (a download or a private copy), which may become
 * the stored blob as it is. */
static int import(struct fetch *f, int fd, bool adopt, bool latest, struct expect *x, char **ret_id,
                  struct pod_error *reterr) {
        struct pod_store_import_options io = {
                .adopt_tmpfile = adopt,
                .latest = latest,
                .check = import_check,
                .userdata = x,
                .provenance = &x->prov,
                .limits = limits(f),
        };
        char words[64];
        int r;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return pod_error_set(reterr, -errno, "Failed to rewind '%s': %m", x->source);
        /* The origin (a URL; fetch_file() set the absolute path) and the checks switched
         * off; verify_image() adds the signer when it runs. */
        r = x->prov.origin ? 0 : pod_provenance_set(&x->prov.origin, x->source);
        if (r >= 0)
                r = pod_provenance_set(
                        &x->prov.insecure,
                        pod_provenance_insecure_words(f->o->insecure, words, sizeof(words)));
        if (r >= 0)
                r = pod_store_import_fd(f->store, fd, &io, ret_id, reterr);
        pod_provenance_done(&x->prov);
        return r;
}

/* An image the cache (a URL's record, or the store under pull policy new) would hand out
 * instead of a download passes the checks a download gets: name, labels and dependency ID
 * against the request, and, unless --insecure-options=image, the signature it was verified
 * with at its download, again over the stored bytes with the keys trusted now.  So an image
 * once fetched insecurely, signed by a key since revoked or distrusted, or another version
 * of the name than the one asked for never answers from the cache.  0 if it may be used. */
static int check_stored(struct fetch *f, const char *id, const struct expect *want,
                        struct pod_error *reterr) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        _cleanup_free_ char *text = NULL, *sig = NULL;
        _cleanup_close_ int blob = -EBADF;
        struct pod_provenance prov = {};
        struct expect x = *want;
        size_t size = 0, sig_size = 0;
        int r;

        r = pod_store_read_manifest(f->store, id, &text, &size, reterr);
        if (r < 0)
                return r;
        r = pod_image_manifest_parse(text, size, &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Stored manifest of %s", id);
        if (!x.source)
                x.source = "the store";
        r = import_check(id, m, &x, reterr);
        if (r < 0)
                return r;
        if (f->o->insecure & POD_INSECURE_IMAGE)
                return 0;

        r = pod_store_sig_get(f->store, id, &sig, &sig_size, NULL);
        if (r == -ENOENT)
                return pod_error_set(reterr, -ENODATA,
                                     "Image '%s' (%s) is stored, but was never verified: it was "
                                     "fetched or imported without a signature check (not signed "
                                     "as far as pod knows). Use its ID, or "
                                     "--insecure-options=image, to use it unverified",
                                     m->name, id);
        if (r < 0)
                return r;
        r = pod_store_open_blob(f->store, id, &blob, reterr);
        if (r < 0)
                return r;
        /* The stored image keeps the provenance of its import; this check records nothing. */
        r = verify_image(f, m->name, blob, sig, sig_size, &prov, reterr);
        pod_provenance_done(&prov);
        return r;
}

/* After a verified import: keep the signature for check_stored(). */
static int remember_signature(struct fetch *f, const char *id, const char *sig, size_t sig_size,
                              struct pod_error *reterr) {
        if ((f->o->insecure & POD_INSECURE_IMAGE) || !sig || sig_size == 0)
                return 0;
        return pod_store_sig_put(f->store, id, sig, sig_size, reterr);
}

static struct pod_http_options http_options(struct fetch *f, bool allow_http, const char *label) {
        const struct pod_limits *l = limits(f);

        return (struct pod_http_options){
                .allow_http = allow_http || (f->o->insecure & POD_INSECURE_HTTP),
                .insecure_tls = !!(f->o->insecure & POD_INSECURE_TLS),
                .progress = f->o->progress,
                .label = label,
                .auth = f->o->auth,
                .timeout_sec = l->transfer_timeout > 0
                                       ? (long)((l->transfer_timeout + 999999) / 1000000)
                                       : LONG_MAX / 2000000,
                .low_speed_bytes = (long)l->low_speed_limit,
                .low_speed_time_sec = (long)((l->low_speed_time + 999999) / 1000000),
        };
}

/* A transfer stopped by a limit says which one, and where it is set. */
static int limit_hint(int r, struct pod_error *reterr) {
        struct pod_error e = {};

        if (!reterr || (r != -ETIMEDOUT && r != -EFBIG))
                return r;
        (void)pod_error_set(&e, r, "%s (limits: %s in " POD_LIMITS_FILE ", see pod-config(1))",
                            reterr->msg,
                            r == -EFBIG ? "download-max-size"
                                        : "transfer-timeout, transfer-low-speed-limit and "
                                          "transfer-low-speed-time");
        *reterr = e;
        return r;
}

/* The signature: a local file given by the user, or sig_url.  Missing (404/410) is an
 * unsigned image (NULL, 0).  Returns the HTTP status (200, 202) or 0 for a local file. */
static int get_signature(struct fetch *f, const char *sig_url, bool allow_http, char **ret,
                         size_t *ret_size, struct pod_error *reterr) {
        struct pod_http_options http = http_options(f, allow_http, NULL);
        _cleanup_free_ char *body = NULL;
        size_t size = 0;
        int r;

        if (f->o->signature) {
                r = read_full_file_at(AT_FDCWD, f->o->signature, SIG_MAX, &body, &size);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to read signature '%s': %s",
                                             f->o->signature, strerror(-r));
                *ret = TAKE_PTR(body);
                *ret_size = size;
                return 0;
        }

        http.progress = false;
        http.max_size = SIG_MAX;
        r = pod_http_get(sig_url, &http, &body, &size, NULL, reterr);
        if (r == -ENOENT) {
                pod_error_clear(reterr);
                *ret = NULL;
                *ret_size = 0;
                return 200;
        }
        if (r < 0)
                return r;
        if (r != 200) {
                *ret = NULL;
                *ret_size = 0;
                return r;
        }
        *ret = TAKE_PTR(body);
        *ret_size = size;
        return r;
}

static int fetch_deps(struct fetch *f, const char *id, struct pod_error *reterr);

/* The image is in the store: its dependencies next, then hand out the ID. */
static int finish(struct fetch *f, const char *id, char **ret_id, struct pod_error *reterr) {
        char *copy;
        int r;

        r = fetch_deps(f, id, reterr);
        if (r < 0)
                return r;
        copy = strdup(id);
        if (!copy)
                return -ENOMEM;
        *ret_id = copy;
        return 0;
}

static int push(struct fetch *f, const char *name, struct pod_error *reterr) {
        if (f->depth >= ELEMENTSOF(f->chain))
                return pod_error_set(reterr, -ELOOP,
                                     "Dependency chain of '%s' is deeper than %d images",
                                     f->chain[0], DEPTH_MAX);
        f->chain[f->depth++] = name;
        return 0;
}

/* One ACI URL under the cache rules of spec section 6.4.  x->name is the name the image
 * must have (discovery), or NULL for an explicit URL (verified under its manifest name). */
static int fetch_url(struct fetch *f, const char *aci_url, const char *sig_url, bool allow_http,
                     bool latest, struct expect *x, char **ret_id, struct pod_error *reterr) {
        _cleanup_(pod_store_remote_freep) struct pod_store_remote *rec = NULL;
        _cleanup_(pod_http_response_done) struct pod_http_response resp = {};
        struct pod_http_options http;
        struct pod_store_remote put;
        _cleanup_free_ char *sig = NULL, *id = NULL, *verified_name = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct expect xx;
        size_t sig_size = 0;
        uint64_t now = now_usec();
        int r, status, sig_status;

        r = pod_store_remote_get(f->store, aci_url, &rec, reterr);
        if (r < 0 && r != -ENOENT)
                return r;
        pod_error_clear(reterr);
        x->source = aci_url;
        if (rec) {
                struct pod_error e = {};

                /* The record is only a hint: its image must pass this request's checks, or
                 * the URL is downloaded (and checked) afresh, without If-None-Match. */
                r = check_stored(f, rec->image_id, x, &e);
                if (r < 0 && f->o->pull_policy == POD_PULL_NEVER) {
                        if (reterr)
                                *reterr = e;
                        return r;
                }
                if (r < 0) {
                        log_debug("Not using the cached image of '%s': %s", aci_url, e.msg);
                        rec = pod_store_remote_free(rec);
                }
        }

        if (f->o->pull_policy != POD_PULL_UPDATE && rec)
                /* Fetched from this URL before and still stored: new and never take it. */
                return finish(f, rec->image_id, ret_id, reterr);
        if (f->o->pull_policy == POD_PULL_NEVER)
                return pod_error_set(reterr, -ENOENT,
                                     "Image '%s' is not in the store (pull policy never)", aci_url);

        if (rec && rec->max_age > 0 && now >= rec->download_time &&
            now - rec->download_time < rec->max_age * 1000000u) {
                /* Within max-age: the cached answer is still fresh, no network at all. */
                log_debug("Using cached '%s' (max-age %" PRIu64 "s)", aci_url, rec->max_age);
                return finish(f, rec->image_id, ret_id, reterr);
        }

        r = pod_store_tmpfile(f->store, &fd);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create a temp file in the store: %s",
                                     strerror(-r));

        http = http_options(f, allow_http, x->name ? x->name : aci_url);
        http.etag = rec ? rec->etag : NULL;
        http.max_size = limits(f)->download_max_size;
        status = pod_http_download(aci_url, fd, &http, &resp, reterr);
        if (status < 0)
                return limit_hint(status, reterr);

        if (status == 304 && rec) {
                /* Unchanged since the stored download: reuse the image, refresh the record. */
                log_debug("'%s' not modified, reusing %s", aci_url, rec->image_id);
                put = (struct pod_store_remote){
                        .aci_url = (char *)aci_url,
                        .sig_url = rec->sig_url,
                        .etag = resp.etag ? resp.etag : rec->etag,
                        .image_id = rec->image_id,
                        .max_age = resp.max_age,
                        .download_time = now,
                };
                r = pod_store_remote_put(f->store, &put, reterr);
                if (r < 0)
                        return r;
                return finish(f, rec->image_id, ret_id, reterr);
        }
        if (status != 200)
                return pod_error_set(reterr, -EPROTO, "Failed to download '%s': HTTP %d", aci_url,
                                     status);

        if (!(f->o->insecure & POD_INSECURE_IMAGE)) {
                sig_status = get_signature(f, sig_url, allow_http, &sig, &sig_size, reterr);
                if (sig_status == 202) {
                        /* "Not ready yet": the ACI is downloaded by now, ask once more. */
                        log_debug("Signature '%s' answered 202, retrying once", sig_url);
                        (void)usleep(500 * 1000);
                        sig_status = get_signature(f, sig_url, allow_http, &sig, &sig_size, reterr);
                }
                if (sig_status < 0)
                        return pod_error_prefix(reterr, sig_status,
                                                "Failed to download the signature of '%s'",
                                                x->name ? x->name : aci_url);

                if (sig_status != 0 && sig_status != 200)
                        return pod_error_set(reterr, -EPROTO,
                                             "Failed to download the signature '%s' of '%s': "
                                             "HTTP %d",
                                             sig_url, x->name ? x->name : aci_url, sig_status);
        }

        xx = *x;
        if (x->name) {
                /* The name is known: check the signature before libarchive reads a byte. */
                r = verify_image(f, xx.name, fd, sig, sig_size, &xx.prov, reterr);
                if (r < 0)
                        return r;
        } else if (!(f->o->insecure & POD_INSECURE_IMAGE)) {
                r = verify_unnamed(f, fd, sig, sig_size, aci_url, &xx.prov, &verified_name, reterr);
                if (r < 0)
                        return r;
                xx.name = verified_name;
        }

        r = import(f, fd, true, latest, &xx, &id, reterr);
        if (r < 0)
                return r;
        r = remember_signature(f, id, sig, sig_size, reterr);
        if (r < 0)
                return r;

        put = (struct pod_store_remote){
                .aci_url = (char *)aci_url,
                .sig_url = f->o->signature ? NULL : (char *)sig_url,
                .etag = resp.etag,
                .image_id = id,
                .max_age = resp.max_age,
                .download_time = now,
        };
        r = pod_store_remote_put(f->store, &put, reterr);
        if (r < 0)
                return r;
        return finish(f, id, ret_id, reterr);
}

/* The bytes verified must be the bytes unpacked: a file another user can write to could
 * change between the two reads.  A private copy in the store (a reflink where possible)
 * cannot.  The copy replaces *fd. */
static int private_copy(struct fetch *f, int *fd, const char *path, struct pod_error *reterr) {
        _cleanup_close_ int copy = -EBADF;
        int r;

        r = pod_store_tmpfile(f->store, &copy);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to create a temp file in the store: %s",
                                     strerror(-r));
        r = fd_copy_data(*fd, copy);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to copy '%s' into the store: %s", path,
                                     strerror(-r));
        (void)safe_close(*fd);
        *fd = TAKE_FD(copy);
        return 0;
}

static int fetch_file(struct fetch *f, const char *path, char **ret_id, struct pod_error *reterr) {
        _cleanup_free_ char *sig = NULL, *sig_path = NULL, *id = NULL, *verified_name = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct expect x = { .source = path };
        size_t sig_size = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return pod_error_set(reterr, -errno, "Failed to open image '%s': %m", path);

        if (!(f->o->insecure & POD_INSECURE_IMAGE)) {
                if (f->o->signature)
                        sig_path = strdup(f->o->signature);
                else if (asprintf(&sig_path, "%s.asc", path) < 0)
                        sig_path = NULL;
                if (!sig_path)
                        return -ENOMEM;
                r = read_full_file_at(AT_FDCWD, sig_path, SIG_MAX, &sig, &sig_size);
                if (r == -ENOENT && !f->o->signature)
                        sig_size = 0; /* unsigned: the verification says so, with the image */
                else if (r < 0)
                        return pod_error_set(reterr, r, "Failed to read signature '%s': %s",
                                             sig_path, strerror(-r));
                r = private_copy(f, &fd, path, reterr);
                if (r < 0)
                        return r;
                r = verify_unnamed(f, fd, sig, sig_size, path, &x.prov, &verified_name, reterr);
                if (r < 0)
                        return r;
                x.name = verified_name;
        }

        x.prov.origin = realpath(path, NULL); /* provenance: the file; NULL: the path given */
        r = import(f, fd, !(f->o->insecure & POD_INSECURE_IMAGE), false, &x, &id, reterr);
        if (r < 0)
                return r;
        r = remember_signature(f, id, sig, sig_size, reterr);
        if (r < 0)
                return r;
        return finish(f, id, ret_id, reterr);
}

/* Replaces the host's os/arch defaults by the caller's overrides, unless the reference gave
 * them itself. */
static int apply_os_arch(struct fetch *f, const char *input, struct pod_kv *labels, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const char *o = NULL;
                char pat[16];
                char *v;

                if (streq(labels[i].name, "os"))
                        o = f->o->os;
                else if (streq(labels[i].name, "arch"))
                        o = f->o->arch;
                if (!o)
                        continue;
                (void)snprintf(pat, sizeof(pat), ",%s=", labels[i].name);
                if (strstr(input, pat))
                        continue;
                v = strdup(o);
                if (!v)
                        return -ENOMEM;
                free(labels[i].value);
                labels[i].value = v;
        }
        return 0;
}

/* 1 if a key in prefix.d is trusted for name or one of its ancestors, 0 if not. */
static int has_prefix_key(struct fetch *f, const char *name, struct pod_error *reterr) {
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *k = NULL;
        int r;

        r = pod_keystore_keys_for_name(&f->o->keystore, name, &k, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < k->n; i++)
                if (k->items[i].prefix)
                        return 1;
        return 0;
}

static int fetch_name(struct fetch *f, const char *name, const struct pod_kv *labels,
                      size_t n_labels, const char *dep_id, char **ret_id,
                      struct pod_error *reterr) {
        _cleanup_(pod_discovery_result_freep) struct pod_discovery_result *d = NULL;
        _cleanup_free_ struct pod_discovery_label *dl = NULL;
        struct pod_http_options http = http_options(f, false, NULL);
        struct expect x = {
                .name = name,
                .labels = labels,
                .n_labels = n_labels,
                .image_id = dep_id,
        };
        bool latest = !pod_kv_get(labels, n_labels, "version");
        int r;

        for (size_t i = 0; i < f->depth; i++)
                if (streq(f->chain[i], name))
                        return pod_error_set(reterr, -ELOOP,
                                             "Dependency cycle: image '%s' depends on itself "
                                             "(through '%s')",
                                             name, f->chain[f->depth - 1]);

        if (f->o->pull_policy != POD_PULL_UPDATE) {
                _cleanup_free_ char *id = NULL;

                r = pod_store_find_by_name(f->store, name, labels, n_labels, &id, reterr);
                if (r >= 0) {
                        struct pod_error e = {};

                        r = check_stored(f, id, &x, &e);
                        if (r < 0 && f->o->pull_policy == POD_PULL_NEVER) {
                                if (reterr)
                                        *reterr = e;
                                return r;
                        }
                        if (r < 0) {
                                log_debug("Not using stored %s for '%s': %s", id, name, e.msg);
                                r = -ENOENT; /* as if not stored: discover and download */
                        }
                }
                if (r >= 0) {
                        r = push(f, name, reterr);
                        if (r < 0)
                                return r;
                        r = finish(f, id, ret_id, reterr);
                        f->depth--;
                        return r;
                }
                if (r != -ENOENT)
                        return r;
                if (f->o->pull_policy == POD_PULL_NEVER)
                        return pod_error_prefix(reterr, -ENOENT,
                                                "Image '%s' is not in the store (pull policy "
                                                "never)",
                                                name);
                pod_error_clear(reterr);
        }

        if (f->o->no_trusted_key && !(f->o->insecure & POD_INSECURE_IMAGE)) {
                r = has_prefix_key(f, name, reterr);
                if (r == 0)
                        r = f->o->no_trusted_key(name, f->o->userdata, reterr);
                if (r < 0)
                        return r;
        }

        dl = calloc(n_labels ? n_labels : 1, sizeof(*dl));
        if (!dl)
                return -ENOMEM;
        for (size_t i = 0; i < n_labels; i++)
                dl[i] = (struct pod_discovery_label){ labels[i].name, labels[i].value };

        r = pod_discovery_resolve(name, dl, n_labels, &http, &d, reterr); /* names name, URL */
        if (r < 0)
                return r;
        log_debug("Image '%s': discovered '%s' at '%s'", name, d->endpoints[0].aci_url,
                  d->page_url);

        r = push(f, name, reterr);
        if (r < 0)
                return r;
        r = fetch_url(f, d->endpoints[0].aci_url, d->endpoints[0].sig_url, false, latest, &x,
                      ret_id, reterr);
        f->depth--;
        return r;
}

/* Dependencies (spec 6.3): by imageID if stored, else discovered by imageName + labels
 * (os/arch defaulting like a reference); imageID and size are checked when given. */
static int fetch_deps(struct fetch *f, const char *id, struct pod_error *reterr) {
        _cleanup_(pod_image_manifest_freep) struct pod_image_manifest *m = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = pod_store_read_manifest(f->store, id, &text, &size, reterr);
        if (r < 0)
                return r;
        r = pod_image_manifest_parse(text, size, &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Stored manifest of %s", id);

        for (size_t i = 0; i < m->n_dependencies; i++) {
                const struct pod_dependency *dep = &m->dependencies[i];
                _cleanup_(pod_store_image_freep) struct pod_store_image *img = NULL;
                _cleanup_free_ char *dep_id = NULL;
                struct pod_kv *labels = NULL;
                size_t n = 0;
                const char *os = NULL, *arch = NULL;

                if (dep->image_id &&
                    pod_store_resolve(f->store, dep->image_id, &dep_id, NULL) >= 0) {
                        r = pod_store_get_image(f->store, dep_id, &img, reterr);
                        if (r < 0)
                                return r;
                        if (!streq(img->name, dep->image_name))
                                return pod_error_set(reterr, -EMEDIUMTYPE,
                                                     "Dependency %s of '%s' is named '%s' in the "
                                                     "store, but the manifest says '%s'",
                                                     dep_id, m->name, img->name, dep->image_name);
                        r = push(f, m->name, reterr);
                        if (r < 0)
                                return r;
                        r = fetch_deps(f, dep_id, reterr);
                        f->depth--;
                        if (r < 0)
                                return r;
                } else {
                        for (size_t k = 0; k < dep->n_labels; k++) {
                                r = pod_kv_add(&labels, &n, dep->labels[k].name,
                                               dep->labels[k].value);
                                if (r < 0) {
                                        pod_kv_free(labels, n);
                                        return r;
                                }
                        }
                        (void)pod_host_os_arch(&os, &arch);
                        if (f->o->os)
                                os = f->o->os;
                        if (f->o->arch)
                                arch = f->o->arch;
                        r = 0;
                        if (os && !pod_kv_get(labels, n, "os"))
                                r = pod_kv_add(&labels, &n, "os", os);
                        if (r >= 0 && arch && !pod_kv_get(labels, n, "arch"))
                                r = pod_kv_add(&labels, &n, "arch", arch);
                        if (r >= 0)
                                r = push(f, m->name, reterr);
                        if (r >= 0) {
                                r = fetch_name(f, dep->image_name, labels, n, dep->image_id,
                                               &dep_id, reterr);
                                f->depth--;
                        }
                        pod_kv_free(labels, n);
                        if (r < 0)
                                return pod_error_prefix(reterr, r, "Dependency of '%s'", m->name);
                        r = pod_store_get_image(f->store, dep_id, &img, reterr);
                        if (r < 0)
                                return r;
                }
                if (dep->image_id && !id_matches(dep_id, dep->image_id))
                        return pod_error_set(reterr, -EMEDIUMTYPE,
                                             "Dependency '%s' of '%s' resolved to %s, but the "
                                             "manifest requires %s",
                                             dep->image_name, m->name, dep_id, dep->image_id);
                if (dep->size > 0 && img->size != dep->size)
                        return pod_error_set(reterr, -EMEDIUMTYPE,
                                             "Dependency '%s' of '%s' (%s) is %" PRIu64
                                             " bytes, but the manifest says %" PRIu64,
                                             dep->image_name, m->name, dep_id, img->size,
                                             dep->size);
        }
        return 0;
}

int pod_fetch_image(struct pod_store *s, const char *ref, const struct pod_fetch_options *o,
                    char **ret_id, struct pod_error *reterr) {
        _cleanup_(pod_imageref_freep) struct pod_imageref *ir = NULL;
        _cleanup_free_ char *sig_url = NULL, *id = NULL;
        struct fetch f = { .store = s, .o = o };
        struct expect x = {};
        int r;

        r = pod_imageref_parse(ref, &ir, reterr); /* the message names ref */
        if (r < 0)
                return r;

        switch (ir->kind) {
        case POD_IMAGEREF_DOCKER:
                return pod_fetch_docker(s, ir->url, o, ret_id, reterr);
        case POD_IMAGEREF_HASH:
                r = pod_store_resolve(s, ir->hash, &id, reterr);
                if (r < 0)
                        return r;
                return finish(&f, id, ret_id, reterr);
        case POD_IMAGEREF_FILE:
                r = fetch_file(&f, ir->path, &id, reterr);
                break;
        case POD_IMAGEREF_HTTPS:
        case POD_IMAGEREF_HTTP:
                /* Plain http lets anyone on the path choose the bytes pod unpacks (and,
                 * unsigned, runs): as for discovery, only with --insecure-options=http. */
                if (ir->kind == POD_IMAGEREF_HTTP && !(o->insecure & POD_INSECURE_HTTP))
                        return pod_error_set(reterr, -EPERM,
                                             "Refusing to download image '%s' over plain http: "
                                             "anyone on the path could replace it. Use an "
                                             "https:// URL, or pass --insecure-options=http",
                                             ir->url);
                if (asprintf(&sig_url, "%s.asc", ir->url) < 0)
                        return -ENOMEM;
                r = fetch_url(&f, ir->url, sig_url, ir->kind == POD_IMAGEREF_HTTP, false, &x, &id,
                              reterr);
                break;
        case POD_IMAGEREF_NAME:
                r = apply_os_arch(&f, ir->input, ir->labels, ir->n_labels);
                if (r < 0)
                        return r;
                r = fetch_name(&f, ir->name, ir->labels, ir->n_labels, NULL, &id, reterr);
                break;
        default:
                return pod_error_set(reterr, -EINVAL, "Unsupported image reference '%s'", ref);
        }
        if (r < 0)
                return r;
        *ret_id = TAKE_PTR(id);
        return 0;
}
