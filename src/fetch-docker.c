/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dockerref.h"
#include "escape.h"
#include "fd-util.h"
#include "fetch-docker.h"
#include "fetch.h"
#include "insecure.h"
#include "macro.h"
#include "oci.h"
#include "podlimits.h"
#include "provenance.h"
#include "registry.h"
#include "store-internal.h" /* only for s->dir: each import thread opens its own handle */
#include "store-oci.h"
#include "store.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

struct job {
        struct pull *p;
        struct pod_store_oci_layer layer;
        size_t line; /* progress line */
        uint64_t now, total;
        bool done;
        int r;
        struct pod_error e;
};

struct pull {
        struct pod_registry *reg;
        const char *store_dir;
        const struct pod_limits *limits;
        struct job *jobs;
        size_t n_jobs, next;
        bool failed;
        pthread_mutex_t lock;
        /* progress */
        bool progress;
        bool drawn;
        uint64_t last_draw_us;
};

static uint64_t now_us(void) {
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* One line per layer, redrawn in place (cursor up N lines); called with p->lock held. */
static void draw(struct pull *p, bool final) {
        uint64_t t = now_us();
        char a[32], b[32];

        if (!p->progress || p->n_jobs == 0)
                return;
        if (!final && p->drawn && t - p->last_draw_us < 200000)
                return;
        p->last_draw_us = t;
        if (p->drawn)
                fprintf(stderr, "\033[%zuA", p->n_jobs);
        for (size_t i = 0; i < p->n_jobs; i++) {
                const struct job *j = &p->jobs[i];
                const char *hex = j->layer.digest + 7;

                if (j->done)
                        fprintf(stderr, "\r%.12s: %s %s\033[K\n", hex,
                                j->r < 0 ? "failed" : "done ",
                                pod_limits_format_bytes(j->layer.size, a));
                else if (j->now == 0)
                        fprintf(stderr, "\r%.12s: waiting\033[K\n", hex);
                else
                        fprintf(stderr, "\r%.12s: %s / %s\033[K\n", hex,
                                pod_limits_format_bytes(j->now, a),
                                pod_limits_format_bytes(j->total ?: j->layer.size, b));
        }
        fflush(stderr);
        p->drawn = true;
}

static void on_progress(void *userdata, uint64_t now, uint64_t total) {
        struct job *j = userdata;

        pthread_mutex_lock(&j->p->lock);
        j->now = now;
        j->total = total;
        draw(j->p, false);
        pthread_mutex_unlock(&j->p->lock);
}

struct importer {
        struct job *j;
        int fd;
        int r;
        struct pod_error e;
};

static void *import_thread(void *userdata) {
        struct importer *im = userdata;
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;

        im->r = pod_store_open(im->j->p->store_dir, &s, &im->e);
        if (im->r >= 0)
                im->r = pod_store_oci_import_layer_fd(s, im->fd, &im->j->layer, im->j->p->limits, 0,
                                                      &im->e);
        /* Closing the read end ends a download the import gave up on (EPIPE). */
        im->fd = safe_close(im->fd);
        return NULL;
}

/* Downloads one layer into a pipe whose other end an import thread verifies and unpacks. */
static int pull_layer(struct job *j, struct pod_error *reterr) {
        struct importer im = { .j = j, .fd = -EBADF };
        struct pod_error de = {};
        pthread_t t;
        int fds[2], dr, k;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return pod_error_set(reterr, -errno, "Failed to create a pipe: %m");
        /* A larger pipe lets the download run ahead of the unpacking a little. */
        (void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
        im.fd = fds[0];
        k = pthread_create(&t, NULL, import_thread, &im);
        if (k != 0) {
                safe_close(fds[0]);
                safe_close(fds[1]);
                return pod_error_set(reterr, -k, "Failed to start a thread: %s", strerror(k));
        }
        dr = pod_registry_download_blob(j->p->reg, j->layer.digest, fds[1], on_progress, j, &de);
        safe_close(fds[1]);
        (void)pthread_join(t, NULL);

        /* The first cause wins: a broken download makes the import see a short stream, an
         * import that stopped makes the download see EPIPE. */
        if (dr < 0 && dr != -EPIPE) {
                *reterr = de;
                return dr;
        }
        if (im.r < 0) {
                *reterr = im.e;
                return pod_error_prefix(reterr, im.r, "Layer %s", j->layer.digest);
        }
        if (dr < 0) {
                *reterr = de;
                return dr;
        }
        return 0;
}

static void *worker(void *userdata) {
        struct pull *p = userdata;

        for (;;) {
                struct job *j;
                int r;

                pthread_mutex_lock(&p->lock);
                if (p->failed || p->next >= p->n_jobs) {
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
                j = &p->jobs[p->next++];
                pthread_mutex_unlock(&p->lock);

                r = pull_layer(j, &j->e);

                pthread_mutex_lock(&p->lock);
                j->r = r;
                j->done = true;
                if (r < 0)
                        p->failed = true;
                draw(p, false);
                pthread_mutex_unlock(&p->lock);
        }
}

static int pull_layers(struct pull *p, struct pod_error *reterr) {
        pthread_t threads[POD_FETCH_DOCKER_PARALLEL];
        size_t n = 0;
        sigset_t pipe_set, old;
        int k = 0;

        if (p->n_jobs == 0)
                return 0;
        /* Writes into a pipe whose reader gave up must fail with EPIPE, not kill pod: the
         * threads inherit this mask, a pending SIGPIPE dies with its thread. */
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        (void)pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        pthread_mutex_lock(&p->lock);
        draw(p, true);
        pthread_mutex_unlock(&p->lock);
        for (; n < MIN(p->n_jobs, (size_t)POD_FETCH_DOCKER_PARALLEL); n++) {
                k = pthread_create(&threads[n], NULL, worker, p);
                if (k != 0) {
                        pthread_mutex_lock(&p->lock);
                        p->failed = true;
                        pthread_mutex_unlock(&p->lock);
                        break;
                }
        }
        for (size_t i = 0; i < n; i++)
                (void)pthread_join(threads[i], NULL);
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        draw(p, true);
        if (k != 0 && n == 0)
                return pod_error_set(reterr, -k, "Failed to start a thread: %s", strerror(k));
        /* The first failed layer in manifest order tells the story. */
        for (size_t i = 0; i < p->n_jobs; i++)
                if (p->jobs[i].done && p->jobs[i].r < 0) {
                        *reterr = p->jobs[i].e;
                        return p->jobs[i].r;
                }
        for (size_t i = 0; i < p->n_jobs; i++)
                if (!p->jobs[i].done)
                        return pod_error_set(reterr, -EIO, "Layer %s was not downloaded",
                                             p->jobs[i].layer.digest);
        return 0;
}

static const char *str_or(const char *s, const char *d) {
        return s && *s ? s : d;
}

int pod_fetch_docker(struct pod_store *s, const char *ref, const struct pod_fetch_options *o,
                     char **ret_id, struct pod_error *reterr) {
        _cleanup_free_ char *default_registry = NULL, *id = NULL, *config = NULL, *want_s = NULL;
        _cleanup_(pod_registry_freep) struct pod_registry *reg = NULL;
        _cleanup_(pod_registry_manifest_done) struct pod_registry_manifest top = {}, man = {};
        _cleanup_(pod_oci_manifest_done) struct pod_oci_manifest m = {};
        _cleanup_(pod_oci_config_done) struct pod_oci_config c = {};
        _cleanup_(pod_oci_platform_done) struct pod_oci_platform want = {};
        _cleanup_(pod_dockerref_done) struct pod_dockerref d = {};
        _cleanup_(pod_provenance_done) struct pod_provenance prov = {};
        _cleanup_free_ struct pod_store_oci_layer *layers = NULL;
        _cleanup_free_ struct job *jobs = NULL;
        const struct pod_limits *limits = o->limits ?: &pod_limits_default;
        struct pod_registry_options ro;
        struct pull p = {};
        size_t config_size = 0, n_jobs = 0;
        uint64_t total = 0;
        char words[64];
        int r;

        r = pod_docker_conf_load(o->keystore.vendordir, o->keystore.sysconfdir, &default_registry,
                                 reterr);
        if (r < 0)
                return r;
        r = pod_dockerref_parse(ref, default_registry, &d, reterr);
        if (r < 0)
                return r;

        /* rkt's rule: what a tag names is whatever the registry serves today, unsigned. */
        if (!d.digest && !(o->insecure & POD_INSECURE_IMAGE))
                return pod_error_set(reterr, -EPERM,
                                     "Docker images by tag cannot be verified: '%s' names no "
                                     "digest. Pin a digest (docker://%s/%s@sha256:...) or pass "
                                     "--insecure-options=image",
                                     ref, d.registry, d.repository);

        if (o->pull_policy != POD_PULL_UPDATE) {
                r = pod_store_oci_resolve(s, d.registry, d.repository, d.digest ? NULL : d.tag,
                                          d.digest, &id, reterr);
                if (r >= 0) {
                        *ret_id = TAKE_PTR(id);
                        return 0;
                }
                if (r != -ENOENT)
                        return r;
                pod_error_clear(reterr);
                if (o->pull_policy == POD_PULL_NEVER)
                        return pod_error_set(reterr, -ENOENT,
                                             "Image '%s' is not in the store (--pull-policy=never)",
                                             ref);
        }

        if (o->platform)
                r = pod_oci_platform_parse(o->platform, &want, reterr);
        else
                r = pod_oci_platform_host(&want);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Failed to determine the platform");
        want_s = pod_oci_platform_to_string(&want);
        if (!want_s)
                return -ENOMEM;

        ro = (struct pod_registry_options){
                .auth = o->auth,
                .auth_extra = o->docker_auth,
                .allow_http = o->insecure & POD_INSECURE_HTTP,
                .insecure_tls = o->insecure & POD_INSECURE_TLS,
                .low_speed_bytes = (long)MIN(limits->low_speed_limit, (uint64_t)LONG_MAX),
                .low_speed_time_sec = (long)(limits->low_speed_time / 1000000u),
                .timeout_sec = (long)(limits->transfer_timeout / 1000000u),
                .max_blob_size = limits->download_max_size,
        };
        r = pod_registry_new(d.registry, d.repository, &ro, &reg);
        if (r < 0)
                return r;

        r = pod_registry_get_manifest(reg, d.digest ?: d.tag, &top, reterr);
        if (r < 0)
                return r;
        if (top.kind == POD_OCI_KIND_SCHEMA1)
                return pod_error_set(reterr, -EPROTONOSUPPORT,
                                     "Image '%s' has a Docker schema 1 manifest, which pod does "
                                     "not support (deprecated, unverifiable layers); push it "
                                     "again with a current docker or skopeo",
                                     ref);
        if (top.kind == POD_OCI_KIND_INDEX) {
                _cleanup_(pod_oci_descriptor_done) struct pod_oci_descriptor e = {};

                r = pod_oci_index_select(top.body, top.size, &want, &e, reterr);
                if (r < 0)
                        return pod_error_prefix(reterr, r, "Image '%s' for %s", ref, want_s);
                r = pod_registry_get_manifest(reg, e.digest, &man, reterr);
                if (r < 0)
                        return r;
                if (man.kind != POD_OCI_KIND_MANIFEST)
                        return pod_error_set(reterr, -EPROTONOSUPPORT,
                                             "Image '%s': the index entry for %s is not an image "
                                             "manifest",
                                             ref, want_s);
        } else {
                man = top;
                top = (struct pod_registry_manifest){};
        }

        r = pod_oci_manifest_parse(man.body, man.size, &m, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Invalid manifest of '%s'", ref);
        /* A stored image's config is not downloaded again: a re-pull of an unchanged tag costs
         * the manifest request only (the bytes are re-checked against the digest). */
        r = pod_store_oci_find_config(s, m.config.digest, &config, &config_size, NULL);
        if (r < 0)
                r = pod_registry_get_blob(reg, m.config.digest, m.config.size, POD_OCI_JSON_MAX,
                                          &config, &config_size, reterr);
        if (r < 0)
                return r;
        r = pod_oci_config_parse(config, config_size, &c, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Invalid image config of '%s'", ref);
        if (c.n_diff_ids != m.n_layers)
                return pod_error_set(reterr, -EBADMSG,
                                     "Image '%s': the manifest lists %zu layers, the config %zu "
                                     "diff_ids",
                                     ref, m.n_layers, c.n_diff_ids);
        if ((c.os && !streq(c.os, want.os)) ||
            (c.architecture && !streq(c.architecture, want.architecture)))
                return pod_error_set(reterr, -EMEDIUMTYPE,
                                     "Image '%s' is for %s/%s, not %s (--platform chooses "
                                     "another)",
                                     ref, str_or(c.os, "?"), str_or(c.architecture, "?"), want_s);

        layers = calloc(MAX(m.n_layers, (size_t)1), sizeof(*layers));
        jobs = calloc(MAX(m.n_layers, (size_t)1), sizeof(*jobs));
        if (!layers || !jobs)
                return -ENOMEM;
        for (size_t i = 0; i < m.n_layers; i++) {
                layers[i] = (struct pod_store_oci_layer){
                        .digest = m.layers[i].digest,
                        .media_type = m.layers[i].media_type,
                        .size = m.layers[i].size,
                        .diff_id = c.diff_ids[i],
                };
                r = pod_store_oci_have_layer(s, c.diff_ids[i], reterr);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                /* The same layer twice in one image is downloaded once. */
                bool dup = false;
                for (size_t k = 0; k < n_jobs; k++)
                        if (streq(jobs[k].layer.diff_id, c.diff_ids[i]))
                                dup = true;
                if (dup)
                        continue;
                total += m.layers[i].size;
                jobs[n_jobs++] = (struct job){ .p = &p, .layer = layers[i], .line = n_jobs };
        }
        if (limits->download_max_size > 0 && total > limits->download_max_size) {
                char a[32], b[32];

                return pod_error_set(reterr, -EFBIG,
                                     "Image '%s' needs %s of layers, more than download-max-size "
                                     "(%s)",
                                     ref, pod_limits_format_bytes(total, a),
                                     pod_limits_format_bytes(limits->download_max_size, b));
        }

        p = (struct pull){
                .reg = reg,
                .store_dir = s->dir,
                .limits = limits,
                .jobs = jobs,
                .n_jobs = n_jobs,
                .progress = o->progress && isatty(STDERR_FILENO),
        };
        if (pthread_mutex_init(&p.lock, NULL) != 0)
                return -ENOMEM;
        r = pull_layers(&p, reterr);
        (void)pthread_mutex_destroy(&p.lock);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Failed to fetch '%s'", ref);

        prov.origin = pod_registry_manifest_url(reg, d.digest ?: d.tag);
        if (!prov.origin)
                return -ENOMEM;
        pod_provenance_insecure_words(o->insecure, words, sizeof(words));
        if (words[0]) {
                r = pod_provenance_set(&prov.insecure, words);
                if (r < 0)
                        return r;
        }
        r = pod_store_oci_commit(s,
                                 &(const struct pod_store_oci_image){
                                         .registry = d.registry,
                                         .repository = d.repository,
                                         .tag = d.digest ? NULL : d.tag,
                                         .manifest_digest = man.digest,
                                         .manifest = man.body,
                                         .manifest_size = man.size,
                                         .config = config,
                                         .config_size = config_size,
                                         .layers = layers,
                                         .n_layers = m.n_layers,
                                         .provenance = &prov,
                                 },
                                 &id, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Failed to store '%s'", ref);
        *ret_id = TAKE_PTR(id);
        return 0;
}
