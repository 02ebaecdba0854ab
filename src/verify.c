/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dlopen-gpgme.h"
#include "fd-util.h"
#include "macro.h"
#include "path-util.h"
#include "pgp-policy.h"
#include "verify.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(gpgme_data_t, gpgme_data_release)
DEFINE_TRIVIAL_CLEANUP_FUNC(gpgme_key_t, gpgme_key_unref)

/* A throw-away GnuPG home: created 0700 under $TMPDIR, removed with everything in it. */
struct gpg_home {
        char *dir;
        gpgme_ctx_t ctx;
};

static void gpg_home_done(struct gpg_home *h) {
        if (h->ctx)
                gpgme_release(h->ctx);
        if (h->dir) {
                (void)rm_rf_at(AT_FDCWD, h->dir);
                free(h->dir);
        }
        *h = (struct gpg_home){};
}

static int map_gpg(gpgme_error_t err) {
        switch (gpgme_err_code(err)) {
        case GPG_ERR_ENOMEM:
                return -ENOMEM;
        case GPG_ERR_NO_DATA:
        case GPG_ERR_BAD_DATA:
        case GPG_ERR_INV_VALUE:
                return -EBADMSG;
        default: {
                int e = gpgme_err_code_to_errno(gpgme_err_code(err));
                return e > 0 ? -e : -EIO;
        }
        }
}

#define GPG_CONF "no-autostart\nno-auto-key-retrieve\nno-auto-key-locate\ntrust-model always\n"

static int gpg_home_new(struct gpg_home *h, struct pod_error *reterr) {
        const char *tmp = secure_getenv("TMPDIR");
        _cleanup_free_ char *conf = NULL;
        gpgme_error_t err;
        int r;

        r = pod_dlopen_gpgme(reterr);
        if (r < 0)
                return r;
        if (!gpgme_check_version(NULL))
                return pod_error_set(reterr, -EIO, "Failed to initialize gpgme");
        if (asprintf(&h->dir, "%s/pod-gnupg-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0) {
                h->dir = NULL;
                return -ENOMEM;
        }
        if (!mkdtemp(h->dir)) {
                r = -errno;
                free(h->dir);
                h->dir = NULL;
                return pod_error_set(reterr, r, "Failed to create a temporary GnuPG home: %s",
                                     strerror(-r));
        }

        /* Public-key import and verification need no agent or dirmngr: never start them, so
         * nothing outlives us in (or keeps busy) the directory we remove. */
        r = write_file_atomic_at(AT_FDCWD, conf = path_join(h->dir, "gpg.conf"), GPG_CONF,
                                 strlen(GPG_CONF), 0600);
        if (r < 0)
                return pod_error_set(reterr, r, "Failed to write '%s': %s", strna(conf),
                                     strerror(-r));

        err = gpgme_new(&h->ctx);
        if (!err)
                err = gpgme_set_protocol(h->ctx, GPGME_PROTOCOL_OpenPGP);
        if (!err)
                err = gpgme_ctx_set_engine_info(h->ctx, GPGME_PROTOCOL_OpenPGP, NULL, h->dir);
        if (!err)
                err = gpgme_set_keylist_mode(h->ctx, GPGME_KEYLIST_MODE_LOCAL);
        if (err)
                return pod_error_set(reterr, map_gpg(err), "Failed to set up GnuPG in '%s': %s",
                                     h->dir, gpgme_strerror(err));
        /* Never reach out for keys (dirmngr, keyservers, WKD). */
        gpgme_set_offline(h->ctx, 1);
        gpgme_set_armor(h->ctx, 1);
        return 0;
}

static void lower(char *s) {
        for (; s && *s; s++)
                *s = (char)tolower((unsigned char)*s);
}

struct pod_pgp_keys *pod_pgp_keys_free(struct pod_pgp_keys *k) {
        if (!k)
                return NULL;
        for (size_t i = 0; i < k->n; i++) {
                struct pod_pgp_key *key = &k->items[i];

                free(key->fingerprint);
                strv_free(key->uids);
                for (size_t j = 0; j < key->n_subkeys; j++) {
                        free(key->subkeys[j].fingerprint);
                        free(key->subkeys[j].algo);
                }
                free(key->subkeys);
                free(key->armored);
        }
        free(k->items);
        free(k);
        return NULL;
}

void pod_pgp_format_fingerprint(const char *fpr, char buf[static 50]) {
        size_t o = 0;

        for (size_t i = 0; fpr[i] && i < 40; i++) {
                if (i > 0 && i % 4 == 0)
                        buf[o++] = ' ';
                buf[o++] = (char)toupper((unsigned char)fpr[i]);
        }
        buf[o] = 0;
}

/* Imports data into the home; returns the import result's counts via the out-params. */
static int import(struct gpg_home *h, const void *data, size_t size, gpgme_import_result_t *ret,
                  struct pod_error *reterr) {
        _cleanup_(gpgme_data_releasep) gpgme_data_t d = NULL;
        gpgme_error_t err;

        err = gpgme_data_new_from_mem(&d, data, size, 0);
        if (err)
                return map_gpg(err);
        err = gpgme_op_import(h->ctx, d);
        if (err)
                return pod_error_set(reterr, map_gpg(err), "Failed to read OpenPGP key: %s",
                                     gpgme_strerror(err));
        *ret = gpgme_op_import_result(h->ctx);
        if (!*ret)
                return pod_error_set(reterr, -EIO, "Failed to read OpenPGP key: no result");
        return 0;
}

static int export_key(struct gpg_home *h, const char *fpr, char **ret, size_t *ret_size) {
        _cleanup_(gpgme_data_releasep) gpgme_data_t d = NULL;
        gpgme_error_t err;
        size_t n = 0;
        char *buf, *copy;

        err = gpgme_data_new(&d);
        if (!err)
                err = gpgme_op_export(h->ctx, fpr, 0, d);
        if (err)
                return map_gpg(err);
        buf = gpgme_data_release_and_get_mem(d, &n);
        d = NULL;
        if (!buf || n == 0) {
                gpgme_free(buf);
                return -EBADMSG;
        }
        copy = malloc(n + 1);
        if (!copy) {
                gpgme_free(buf);
                return -ENOMEM;
        }
        memcpy(copy, buf, n);
        copy[n] = 0;
        gpgme_free(buf);
        *ret = copy;
        *ret_size = n;
        return 0;
}

static int fill_key(struct gpg_home *h, gpgme_key_t k, struct pod_pgp_key *out) {
        size_t nu = 0, ns = 0;
        int r;

        out->fingerprint = strdup(k->subkeys->fpr);
        if (!out->fingerprint)
                return -ENOMEM;
        lower(out->fingerprint);
        out->revoked = k->revoked;
        out->expired = k->expired;

        for (gpgme_user_id_t u = k->uids; u; u = u->next)
                nu++;
        out->uids = calloc(nu + 1, sizeof(char *));
        if (!out->uids)
                return -ENOMEM;
        nu = 0;
        for (gpgme_user_id_t u = k->uids; u; u = u->next) {
                out->uids[nu] = strdup(u->uid ? u->uid : "");
                if (!out->uids[nu++])
                        return -ENOMEM;
        }

        for (gpgme_subkey_t s = k->subkeys; s; s = s->next)
                ns++;
        out->subkeys = calloc(ns, sizeof(*out->subkeys));
        if (!out->subkeys)
                return -ENOMEM;
        for (gpgme_subkey_t s = k->subkeys; s; s = s->next) {
                struct pod_pgp_subkey *o = &out->subkeys[out->n_subkeys++];
                char *algo = gpgme_pubkey_algo_string(s);

                o->fingerprint = strdup(s->fpr ? s->fpr : "");
                o->algo = strdup(algo ? algo : "unknown");
                gpgme_free(algo);
                if (!o->fingerprint || !o->algo)
                        return -ENOMEM;
                o->created = s->timestamp;
                o->expires = s->expires;
                o->can_sign = s->can_sign;
                o->revoked = s->revoked;
                o->expired = s->expired;
                o->bits = s->length;
                o->weak = pod_pgp_key_too_weak(s->pubkey_algo, s->length);
        }

        r = export_key(h, k->subkeys->fpr, &out->armored, &out->armored_size);
        if (r < 0)
                return r;
        return 0;
}

struct key_list {
        gpgme_key_t *keys;
        size_t n;
};

static void key_list_freep(struct key_list *l) {
        for (size_t i = 0; i < l->n; i++)
                gpgme_key_unref(l->keys[i]);
        free(l->keys);
}

int pod_pgp_keys_from_data(const void *data, size_t size, struct pod_pgp_keys **ret,
                           struct pod_error *reterr) {
        _cleanup_(gpg_home_done) struct gpg_home h = {};
        _cleanup_(pod_pgp_keys_freep) struct pod_pgp_keys *keys = NULL;
        _cleanup_(key_list_freep) struct key_list kl = {};
        gpgme_import_result_t res;
        gpgme_error_t err;
        int r;

        r = gpg_home_new(&h, reterr);
        if (r < 0)
                return r;
        r = import(&h, data, size, &res, reterr);
        if (r < 0)
                return r;
        if (res->secret_read > 0)
                return pod_error_set(reterr, -EBADMSG,
                                     "Refusing key data that contains secret key material");
        if (res->imported + res->unchanged == 0)
                return pod_error_set(reterr, -EBADMSG, "No OpenPGP public key found");

        keys = calloc(1, sizeof(*keys));
        if (!keys)
                return -ENOMEM;

        /* List first, then export: an export on the same context ends a running keylist. */
        err = gpgme_op_keylist_start(h.ctx, NULL, 0);
        while (!err) {
                gpgme_key_t k = NULL;
                gpgme_key_t *t;

                err = gpgme_op_keylist_next(h.ctx, &k);
                if (err)
                        break;
                t = reallocarray(kl.keys, kl.n + 1, sizeof(*t));
                if (!t) {
                        gpgme_key_unref(k);
                        err = gpg_error(GPG_ERR_ENOMEM);
                        break;
                }
                kl.keys = t;
                kl.keys[kl.n++] = k;
        }
        (void)gpgme_op_keylist_end(h.ctx);
        if (gpgme_err_code(err) != GPG_ERR_EOF)
                return pod_error_set(reterr, map_gpg(err), "Failed to list OpenPGP keys: %s",
                                     gpgme_strerror(err));

        for (size_t i = 0; i < kl.n; i++) {
                gpgme_key_t k = kl.keys[i];
                struct pod_pgp_key *t;

                if (!k->subkeys || !k->subkeys->fpr || strlen(k->subkeys->fpr) != 40)
                        return pod_error_set(reterr, -EBADMSG,
                                             "Unsupported OpenPGP key %s: only v4 keys are "
                                             "supported",
                                             k->subkeys && k->subkeys->fpr ? k->subkeys->fpr
                                                                           : "(unknown)");
                t = reallocarray(keys->items, keys->n + 1, sizeof(*t));
                if (!t)
                        return -ENOMEM;
                keys->items = t;
                t[keys->n] = (struct pod_pgp_key){};
                r = fill_key(&h, k, &t[keys->n++]);
                if (r < 0)
                        return pod_error_set(reterr, r, "Failed to read OpenPGP key %s: %s",
                                             k->subkeys->fpr, strerror(-r));
        }
        if (keys->n == 0)
                return pod_error_set(reterr, -EBADMSG, "No OpenPGP public key found");

        *ret = TAKE_PTR(keys);
        return 0;
}

void pod_verify_info_done(struct pod_verify_info *i) {
        if (!i)
                return;
        free(i->signer);
        free(i->fingerprint);
        free(i->key_path);
        free(i->uid);
        free(i->prefix);
        *i = (struct pod_verify_info){};
}

/* Imports one trusted key file, checking it holds exactly the key its name says. */
static int import_trusted(struct gpg_home *h, const struct pod_trusted_key *key,
                          struct pod_error *reterr) {
        gpgme_import_result_t res;
        gpgme_import_status_t st;
        int r;

        r = import(h, key->data, key->size, &res, reterr);
        if (r < 0)
                return pod_error_prefix(reterr, r, "Trusted key '%s'", key->path);
        if (res->secret_read > 0)
                return pod_error_set(reterr, -EBADMSG,
                                     "Trusted key '%s' contains secret key material", key->path);
        st = res->imports;
        if (res->considered != 1 || !st || st->next || !st->fpr)
                return pod_error_set(reterr, -EBADMSG,
                                     "Trusted key '%s' must hold exactly one public key (found "
                                     "%d)",
                                     key->path, res->considered);
        if (st->result != GPG_ERR_NO_ERROR)
                return pod_error_set(reterr, -EBADMSG, "Trusted key '%s' cannot be used: %s",
                                     key->path, gpgme_strerror(st->result));
        if (strcasecmp(st->fpr, key->fingerprint) != 0)
                return pod_error_set(reterr, -EBADMSG,
                                     "Trusted key '%s' holds key %s, not the key its file name "
                                     "says; refusing it",
                                     key->path, st->fpr);
        return 0;
}

/* How bad a failed signature is, to report the most telling one. */
enum sig_verdict { V_NONE, V_UNKNOWN_KEY, V_BAD, V_EXPIRED, V_SIG_EXPIRED, V_REVOKED, V_GOOD };

static enum sig_verdict classify(gpgme_signature_t s) {
        if (s->summary & GPGME_SIGSUM_KEY_REVOKED)
                return V_REVOKED;
        switch (gpgme_err_code(s->status)) {
        case GPG_ERR_NO_ERROR:
                if (s->wrong_key_usage)
                        return V_BAD;
                if (s->summary & GPGME_SIGSUM_KEY_EXPIRED)
                        return V_EXPIRED;
                if (s->summary & GPGME_SIGSUM_SIG_EXPIRED)
                        return V_SIG_EXPIRED;
                return V_GOOD;
        case GPG_ERR_NO_PUBKEY:
                return V_UNKNOWN_KEY;
        case GPG_ERR_KEY_EXPIRED:
                return V_EXPIRED;
        case GPG_ERR_SIG_EXPIRED:
                return V_SIG_EXPIRED;
        case GPG_ERR_CERT_REVOKED:
                return V_REVOKED;
        default:
                return V_BAD;
        }
}

static bool fpr_matches(const char *fpr, const char *id) {
        size_t a = fpr ? strlen(fpr) : 0, b = id ? strlen(id) : 0;

        return a > 0 && b > 0 && a >= b && strcasecmp(fpr + a - b, id) == 0;
}

/* A good signature still has to meet the minimum (pgp-policy.h): its digest, the signing
 * (sub)key and the primary key.  Keys trusted before the minimum existed are caught here. */
static int check_policy(struct gpg_home *h, gpgme_signature_t good, const char *name,
                        struct pod_error *reterr) {
        _cleanup_(gpgme_key_unrefp) gpgme_key_t k = NULL;
        char what[256];
        gpgme_error_t err;
        int r;

        r = pod_pgp_check_digest(good->hash_algo, name, good->fpr, reterr);
        if (r < 0)
                return r;
        err = gpgme_get_key(h->ctx, good->fpr, &k, 0);
        if (err || !k->subkeys)
                return pod_error_set(reterr, -EBADMSG,
                                     "Failed to verify image '%s': cannot look up key %s: %s", name,
                                     good->fpr, gpgme_strerror(err));
        for (gpgme_subkey_t s = k->subkeys; s; s = s->next) {
                /* good->fpr is the signing subkey's fingerprint, or its key ID (a suffix). */
                if (s != k->subkeys && !fpr_matches(s->fpr, good->fpr))
                        continue;
                (void)snprintf(what, sizeof(what), "image '%s': it is signed by key %s, and %s",
                               name, good->fpr,
                               s == k->subkeys ? "that key's primary key" : "that key");
                r = pod_pgp_check_key(s->pubkey_algo, s->length, what, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pod_verify_detached(const char *name, int data_fd, const void *sig, size_t sig_size,
                        const struct pod_keystore *ks, struct pod_verify_info *info,
                        struct pod_error *reterr) {
        _cleanup_(gpg_home_done) struct gpg_home h = {};
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *keys = NULL;
        _cleanup_(gpgme_data_releasep) gpgme_data_t sd = NULL, dd = NULL;
        _cleanup_free_ char *signer = NULL;
        enum sig_verdict best = V_NONE;
        gpgme_verify_result_t vr;
        gpgme_signature_t good = NULL;
        gpgme_error_t err;
        int r;

        if (!sig || sig_size == 0)
                return pod_error_set(reterr, -ENODATA,
                                     "Image '%s' is not signed (no signature found); refusing it "
                                     "(--insecure-options=image skips verification)",
                                     name);

        r = pod_keystore_keys_for_name(ks, name, &keys, reterr);
        if (r < 0)
                return r;

        r = gpg_home_new(&h, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < keys->n; i++) {
                r = import_trusted(&h, &keys->items[i], reterr);
                if (r < 0)
                        return r;
        }

        if (lseek(data_fd, 0, SEEK_SET) < 0)
                return pod_error_set(reterr, -errno, "Failed to rewind image '%s': %m", name);
        err = gpgme_data_new_from_mem(&sd, sig, sig_size, 0);
        if (!err)
                err = gpgme_data_new_from_fd(&dd, data_fd);
        if (err)
                return pod_error_set(reterr, map_gpg(err), "Failed to verify image '%s': %s", name,
                                     gpgme_strerror(err));

        err = gpgme_op_verify(h.ctx, sd, dd, NULL);
        if (err)
                return pod_error_set(reterr, -EBADMSG,
                                     "Failed to verify image '%s': the signature file is not an "
                                     "OpenPGP signature: %s",
                                     name, gpgme_strerror(err));
        vr = gpgme_op_verify_result(h.ctx);
        if (!vr || !vr->signatures)
                return pod_error_set(reterr, -EBADMSG,
                                     "Failed to verify image '%s': no signature in the signature "
                                     "file",
                                     name);

        for (gpgme_signature_t s = vr->signatures; s; s = s->next) {
                enum sig_verdict v = classify(s);

                if (v > best) {
                        best = v;
                        free(signer);
                        signer = strdup(s->fpr ? s->fpr : "(unknown)");
                        if (!signer)
                                return -ENOMEM;
                        if (v == V_GOOD)
                                good = s;
                }
        }

        if (info) {
                pod_verify_info_done(info);
                info->signer = signer ? strdup(signer) : NULL;
        }

        switch (best) {
        case V_GOOD:
                break;
        case V_UNKNOWN_KEY:
                return pod_error_set(reterr, -ENOKEY,
                                     "Image '%s' is signed by key %s, which is not trusted for "
                                     "'%s'. If you trust this key, run: pod trust --prefix %s",
                                     name, signer, name, name);
        case V_EXPIRED:
                return pod_error_set(reterr, -EKEYEXPIRED,
                                     "Image '%s' is signed by key %s, which has expired", name,
                                     signer);
        case V_SIG_EXPIRED:
                return pod_error_set(reterr, -EKEYEXPIRED,
                                     "Image '%s' has an expired signature by key %s", name, signer);
        case V_REVOKED:
                return pod_error_set(reterr, -EKEYREVOKED,
                                     "Image '%s' is signed by key %s, which has been revoked", name,
                                     signer);
        case V_BAD:
        case V_NONE:
        default:
                return pod_error_set(reterr, -EBADMSG,
                                     "Image '%s' has a BAD signature by key %s: the image or its "
                                     "signature was modified",
                                     name, strna(signer));
        }

        r = check_policy(&h, good, name, reterr);
        if (r < 0)
                return r;

        /* Which trusted file vouched for it: map the signing (sub)key to its primary. */
        if (info) {
                _cleanup_(gpgme_key_unrefp) gpgme_key_t k = NULL;

                err = gpgme_get_key(h.ctx, good->fpr, &k, 0);
                if (!err && k->subkeys && k->subkeys->fpr) {
                        info->fingerprint = strdup(k->subkeys->fpr);
                        lower(info->fingerprint);
                        for (size_t i = 0; info->fingerprint && i < keys->n; i++)
                                if (streq(keys->items[i].fingerprint, info->fingerprint)) {
                                        info->key_path = strdup(keys->items[i].path);
                                        /* Which trust decision let it in: the key file's
                                         * prefix, or root.d. */
                                        info->root_key = !keys->items[i].prefix;
                                        if (keys->items[i].prefix)
                                                info->prefix = strdup(keys->items[i].prefix);
                                        break;
                                }
                        if (k->uids && k->uids->uid)
                                info->uid = strdup(k->uids->uid);
                }
                info->signature_time = good->timestamp;
        }
        return 0;
}
