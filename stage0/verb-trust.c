/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod trust: add a signing key to the admin keystore for a name prefix or as a root key,
 * after the user has seen its fingerprint (spec section 7). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "discovery.h"
#include "escape.h"
#include "fd-util.h"
#include "http.h"
#include "insecure.h"
#include "keystore.h"
#include "log.h"
#include "macro.h"
#include "path-util.h"
#include "pgp-policy.h"
#include "podlimits.h"
#include "verbs.h"
#include "verify.h"

static const char *arg_prefix;
static bool arg_root;
static bool arg_skip_review;
static bool arg_list;
/* Implicit trust from a fetch (trust_implicit()): key reviews go to stderr (stdout carries
 * the fetched IDs), and one key at most is added. */
static bool implicit;
static const struct pod_auth *auth_config;
static struct pod_limits limits_config; /* transfer limits of limits.conf (pod trust only) */
static bool limits_loaded;

static FILE *out(void) {
        return implicit ? stderr : stdout;
}

enum { ARG_PREFIX = 0x100, ARG_ROOT, ARG_SKIP_REVIEW, ARG_LIST, ARG_INSECURE_ALLOW_HTTP };

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "prefix", required_argument, NULL, ARG_PREFIX },
                { "root", optional_argument, NULL, ARG_ROOT },
                { "skip-fingerprint-review", optional_argument, NULL, ARG_SKIP_REVIEW },
                { "list", optional_argument, NULL, ARG_LIST },
                /* rkt's flag: keys and discovery pages over plain http */
                { "insecure-allow-http", optional_argument, NULL, ARG_INSECURE_ALLOW_HTTP },
                {},
        };
        bool allow_http;
        int c;

        arg_prefix = NULL;
        arg_root = arg_skip_review = arg_list = false;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case ARG_PREFIX:
                        arg_prefix = optarg;
                        break;
                case ARG_ROOT:
                        if (pod_bool_arg("trust", "root", optarg, &arg_root) < 0)
                                return -EINVAL;
                        break;
                case ARG_SKIP_REVIEW:
                        if (pod_bool_arg("trust", "skip-fingerprint-review", optarg,
                                         &arg_skip_review) < 0)
                                return -EINVAL;
                        break;
                case ARG_LIST:
                        if (pod_bool_arg("trust", "list", optarg, &arg_list) < 0)
                                return -EINVAL;
                        break;
                case ARG_INSECURE_ALLOW_HTTP:
                        if (pod_bool_arg("trust", "insecure-allow-http", optarg, &allow_http) < 0)
                                return -EINVAL;
                        if (allow_http)
                                arg_insecure |= POD_INSECURE_HTTP | POD_INSECURE_PUBKEY;
                        break;
                default:
                        return pod_usage_error("trust", "Invalid option");
                }
        }

        if (arg_list) {
                if (arg_prefix || arg_root || optind < argc)
                        return pod_usage_error("trust", "--list takes no other arguments");
                return 0;
        }
        if (!!arg_prefix == arg_root)
                return pod_usage_error("trust", "Exactly one of --prefix=PREFIX or --root is "
                                                "required");
        if (arg_prefix && !ac_identifier_valid(arg_prefix))
                return pod_usage_error("trust",
                                       "Invalid prefix '%s': must be an image name prefix such "
                                       "as example.com/app",
                                       arg_prefix);
        if (arg_root && optind >= argc)
                return pod_usage_error("trust", "--root requires key files or URLs");
        return 0;
}

static int list_keys(const struct pod_keystore *ks) {
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *k = NULL;
        struct pod_error e = {};
        int r;

        r = pod_keystore_list(ks, &k, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        if (k->n == 0) {
                printf("No trusted keys in %s or %s.\n", ks->vendordir, ks->sysconfdir);
                return 0;
        }
        printf("%-32s %-40s %-6s %s\n", "PREFIX", "FINGERPRINT", "ORIGIN", "FILE");
        for (size_t i = 0; i < k->n; i++)
                printf("%-32s %-40s %-6s %s%s\n", k->items[i].prefix ? k->items[i].prefix : "*",
                       k->items[i].fingerprint, k->items[i].admin ? "admin" : "vendor",
                       k->items[i].path, k->items[i].mask ? " (mask: distrusts this key)" : "");
        return 0;
}

static struct pod_http_options http_options(bool for_key) {
        struct pod_http_options o = {
                /* Keys over http need "pubkey"; discovery pages over http need "http". */
                .allow_http = for_key ? !!(arg_insecure & POD_INSECURE_PUBKEY)
                                      : !!(arg_insecure & POD_INSECURE_HTTP),
                .insecure_tls = !!(arg_insecure & POD_INSECURE_TLS),
                .max_size = POD_KEY_FILE_MAX,
                .auth = auth_config,
        };

        /* Otherwise (implicit trust inside a fetch) http.c's own defaults bound the time. */
        if (limits_loaded) {
                const struct pod_limits *l = &limits_config;

                if (l->transfer_timeout > 0)
                        o.timeout_sec = (long)((l->transfer_timeout + 999999) / 1000000);
                o.low_speed_bytes = (long)l->low_speed_limit;
                o.low_speed_time_sec = (long)((l->low_speed_time + 999999) / 1000000);
        }
        return o;
}

static int read_key_source(const char *src, char **ret, size_t *ret_size) {
        struct pod_error e = {};
        int r;

        if (strncasecmp(src, "http://", 7) == 0 && !(arg_insecure & POD_INSECURE_PUBKEY))
                return log_error_errno(-EPERM,
                                       "Refusing to fetch key '%s' over plain http: anyone on the "
                                       "path could replace it. Use an https URL, or pass "
                                       "--insecure-options=pubkey if you must.",
                                       src);
        if (strncasecmp(src, "https://", 8) == 0 || strncasecmp(src, "http://", 7) == 0) {
                struct pod_http_options o = http_options(true);
                struct pod_http_response resp = {};
                _cleanup_free_ char *body = NULL;
                size_t n = 0;

                if (o.insecure_tls)
                        log_warning("TLS certificate verification is off "
                                    "(--insecure-options=tls): check the fingerprint of '%s' "
                                    "with its owner.",
                                    src);
                r = pod_http_get(src, &o, &body, &n, &resp, &e);
                pod_http_response_done(&resp);
                if (r < 0)
                        return log_pod_error(r, &e);
                if (r != 200)
                        return log_error_errno(-EPROTO, "Failed to fetch key '%s': HTTP %d", src,
                                               r);
                *ret = TAKE_PTR(body);
                *ret_size = n;
                return 0;
        }
        if (strstr(src, "://"))
                return log_error_errno(-EINVAL,
                                       "Unsupported key source '%s': use a file, an https:// URL "
                                       "or (with --insecure-options=pubkey) an http:// URL",
                                       src);

        r = read_full_file_at(AT_FDCWD, src, POD_KEY_FILE_MAX, ret, ret_size);
        if (r < 0)
                return log_error_errno(r, "Failed to read key file '%s': %m", src);
        return 0;
}

static void print_time(const char *what, long long t) {
        char buf[32];
        time_t tt = (time_t)t;
        struct tm tm;

        if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%d", &tm) == 0)
                return;
        fprintf(out(), " %s %s", what, buf);
}

static void show_key(const struct pod_pgp_key *k, const char *src) {
        char fpr[50];

        pod_pgp_format_fingerprint(k->fingerprint, fpr);
        if (arg_prefix)
                fprintf(out(), "Prefix: \"%s\"\n", arg_prefix);
        else
                fprintf(out(), "Root key: trusted for every image name\n");
        fprintf(out(), "Key source: %s\n", POD_ESC(src));
        fprintf(out(), "Key fingerprint: %s\n", fpr);
        for (size_t i = 0; i < k->n_subkeys; i++) {
                const struct pod_pgp_subkey *s = &k->subkeys[i];

                fprintf(out(), "  %s %s %s", i == 0 ? "primary" : "subkey ", POD_ESC(s->algo),
                        POD_ESC(s->fingerprint));
                print_time("created", s->created);
                print_time("expires", s->expires);
                fprintf(out(), "%s%s%s\n", s->can_sign ? " [sign]" : "",
                        s->revoked ? " [REVOKED]" : "", s->expired ? " [EXPIRED]" : "");
        }
        STRV_FOREACH (u, k->uids)
                fprintf(out(), "  uid: %s\n", POD_ESC(*u)); /* from the key: its owner's text */
        fflush(out());
}

/* Appends s to the buffer, single-quoted if the shell would otherwise interpret it. */
static void append_quoted(char *buf, size_t n, const char *s) {
        size_t l = strlen(buf);
        bool plain = *s != 0;

        for (const char *c = s; *c; c++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            "@%+=:,./_-",
                            *c))
                        plain = false;
        if (plain) {
                (void)snprintf(buf + l, n - l, " %s", s);
                return;
        }
        (void)snprintf(buf + l, n - l, " '");
        for (const char *c = s; *c; c++) {
                l = strlen(buf);
                if (*c == '\'')
                        (void)snprintf(buf + l, n - l, "'\\''");
                else
                        (void)snprintf(buf + l, n - l, "%c", *c);
        }
        l = strlen(buf);
        (void)snprintf(buf + l, n - l, "'");
}

/* The command that adds the same keys without the review, for scripts. */
static void review_command(char *buf, size_t n, char **sources) {
        static const struct {
                unsigned bit;
                const char *name;
        } fetch_bits[] = {
                { POD_INSECURE_TLS, "tls" },
                { POD_INSECURE_HTTP, "http" },
                { POD_INSECURE_PUBKEY, "pubkey" },
        };
        char ins[64] = "";

        (void)snprintf(buf, n, "pod");
        if (!streq(arg_sysconfdir, POD_SYSCONFDIR "/pod")) {
                char o[4200];
                (void)snprintf(o, sizeof(o), "--local-config=%s", arg_sysconfdir);
                append_quoted(buf, n, o);
        }
        for (size_t i = 0; i < ELEMENTSOF(fetch_bits); i++)
                if (arg_insecure & fetch_bits[i].bit) {
                        size_t l = strlen(ins);
                        (void)snprintf(ins + l, sizeof(ins) - l, "%s%s", l ? "," : "",
                                       fetch_bits[i].name);
                }
        if (ins[0]) {
                size_t l = strlen(buf);
                (void)snprintf(buf + l, n - l, " --insecure-options=%s", ins);
        }
        (void)snprintf(buf + strlen(buf), n - strlen(buf), " trust --skip-fingerprint-review");
        if (arg_prefix) {
                char o[512];
                (void)snprintf(o, sizeof(o), "--prefix=%s", arg_prefix);
                append_quoted(buf, n, o);
        } else
                (void)snprintf(buf + strlen(buf), n - strlen(buf), " --root");
        STRV_FOREACH (s, sources)
                append_quoted(buf, n, *s);
}

/* Returns 1 to trust, 0 when the user said no, < 0 on failure (logged). */
static int review(const struct pod_pgp_key *k, char **sources) {
        char line[64];

        if (arg_skip_review)
                return 1;
        if (!isatty(STDIN_FILENO)) {
                char cmd[8192];

                review_command(cmd, sizeof(cmd), sources);
                return log_error_errno(-EPERM,
                                       "Refusing to trust key %s without a fingerprint review: "
                                       "standard input is not a terminal. Check the fingerprint "
                                       "above with the key's owner, then run: %s",
                                       k->fingerprint, cmd);
        }
        for (int tries = 0; tries < 3; tries++) {
                size_t l;

                fprintf(out(), "Are you sure you want to trust this key (yes/no)? ");
                fflush(out());
                if (!fgets(line, sizeof(line), stdin))
                        break;
                l = strcspn(line, "\r\n");
                line[l] = 0;
                if (strcasecmp(line, "yes") == 0 || strcasecmp(line, "y") == 0)
                        return 1;
                if (strcasecmp(line, "no") == 0 || strcasecmp(line, "n") == 0)
                        return 0;
                fprintf(out(), "Please answer 'yes' or 'no'.\n");
        }
        return 0;
}

/* A revoked key is never trusted anew, but one that is already trusted (anywhere: any
 * prefix, root, vendor or admin) gets the revoked copy written over each admin copy (and
 * next to each vendor one, which the admin file overrides), so that its signatures are
 * refused from then on.  No review: this only ever takes trust away. */
static int update_revoked(const struct pod_keystore *ks, const struct pod_pgp_key *k) {
        _cleanup_(pod_trusted_keys_freep) struct pod_trusted_keys *all = NULL;
        struct pod_error e = {};
        unsigned n = 0;
        int r;

        r = pod_keystore_list(ks, &all, &e);
        if (r < 0)
                return log_pod_error(r, &e);
        for (size_t i = 0; i < all->n; i++) {
                const struct pod_trusted_key *t = &all->items[i];
                _cleanup_free_ char *path = NULL;

                if (t->mask || !streq(t->fingerprint, k->fingerprint))
                        continue;
                pod_error_clear(&e);
                r = pod_keystore_add(ks, t->prefix, k->fingerprint, k->armored, k->armored_size,
                                     &path, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
                log_warning("Key %s has been revoked: updated %s; images signed with it will "
                            "no longer verify.",
                            k->fingerprint, path);
                n++;
        }
        if (n == 0)
                return log_error_errno(-EKEYREVOKED,
                                       "Refusing to trust key %s: it has been revoked",
                                       k->fingerprint);
        return 0;
}

/* The minimum of pgp-policy.h for the primary key and every signing subkey. */
static int check_strength(const struct pod_pgp_key *k) {
        for (size_t i = 0; i < k->n_subkeys; i++) {
                const struct pod_pgp_subkey *s = &k->subkeys[i];

                if ((i == 0 || s->can_sign) && s->weak)
                        return log_error_errno(-EKEYREJECTED,
                                               "Refusing to trust key %s: %s %s is a %u-bit %s "
                                               "key, below the minimum of %d bits for RSA, DSA "
                                               "and ElGamal keys (ECC keys are fine)",
                                               k->fingerprint,
                                               i == 0 ? "its primary key" : "subkey",
                                               s->fingerprint, s->bits, s->algo, POD_PGP_MIN_BITS);
        }
        return 0;
}

static int trust_source(const struct pod_keystore *ks, const char *src, char **sources,
                        unsigned *added) {
        _cleanup_(pod_pgp_keys_freep) struct pod_pgp_keys *keys = NULL;
        _cleanup_free_ char *data = NULL;
        struct pod_error e = {};
        size_t size = 0;
        int r;

        r = read_key_source(src, &data, &size);
        if (r < 0)
                return r;
        r = pod_pgp_keys_from_data(data, size, &keys, &e);
        if (r < 0) {
                (void)pod_error_prefix(&e, r, "Failed to read key from '%s'", src);
                return log_pod_error(r, &e);
        }

        for (size_t i = 0; i < keys->n; i++) {
                const struct pod_pgp_key *k = &keys->items[i];
                _cleanup_free_ char *path = NULL;

                if (implicit && *added > 0)
                        break; /* one key per prefix; more only with pod trust */
                show_key(k, src);
                if (k->revoked) {
                        /* Never new trust; but the revocation must reach every trusted copy. */
                        r = update_revoked(ks, k);
                        if (r < 0)
                                return r;
                        (*added)++;
                        continue;
                }
                r = check_strength(k);
                if (r < 0)
                        return r;
                if (k->expired)
                        log_warning("Key %s has expired: images signed with it will not verify.",
                                    k->fingerprint);

                r = review(k, sources);
                if (r < 0)
                        return r;
                if (r == 0) {
                        log_notice("Not trusting key %s.", k->fingerprint);
                        continue;
                }

                pod_error_clear(&e);
                r = pod_keystore_add(ks, arg_prefix, k->fingerprint, k->armored, k->armored_size,
                                     &path, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
                if (r == 1)
                        log_info("Key %s is already trusted: %s", k->fingerprint, path);
                else if (arg_prefix)
                        log_info("Trusting key %s for prefix '%s': added %s", k->fingerprint,
                                 arg_prefix, path);
                else
                        log_info("Trusting key %s for every image (root key): added %s",
                                 k->fingerprint, path);
                (*added)++;
        }
        return 0;
}

int verb_trust(int argc, char *argv[]) {
        const struct pod_keystore ks = { .vendordir = arg_vendordir,
                                         .sysconfdir = arg_sysconfdir,
                                         .userdir = arg_userdir,
                                         .writedir = arg_rootless ? arg_userdir : NULL };
        _cleanup_(pod_discovery_result_freep) struct pod_discovery_result *d = NULL;
        _cleanup_(pod_auth_freep) struct pod_auth *auth = NULL;
        struct pod_error ae = {};
        char **sources;
        unsigned added = 0;
        int r;

        r = parse_argv(argc, argv);
        if (r < 0)
                return r;
        if (arg_list)
                return list_keys(&ks);
        /* Rootless: the keys go to the user's own configuration, never the admin's. */
        if (arg_rootless && (!arg_userdir || !arg_userdir[0]))
                return log_error_errno(-EINVAL,
                                       "Rootless pod trust writes keys to $XDG_CONFIG_HOME/pod "
                                       "or ~/.config/pod, and neither $XDG_CONFIG_HOME nor "
                                       "$HOME is set: set one, or give --user-config=DIR");
        r = pod_auth_load(arg_vendordir, arg_sysconfdir, &auth, &ae);
        if (r >= 0)
                r = pod_auth_load_user(auth, arg_userdir, &ae);
        if (r < 0)
                return log_pod_error(r, &ae);
        auth_config = auth;
        r = pod_limits_load(arg_vendordir, arg_sysconfdir, &limits_config, &ae);
        if (r < 0)
                return log_pod_error(r, &ae);
        limits_loaded = true;

        sources = argv + optind;
        if (!*sources) {
                struct pod_http_options o = http_options(false);
                struct pod_error e = {};

                /* Only --prefix gets here: discover ac-discovery-pubkeys for the prefix. */
                r = pod_discovery_pubkeys(arg_prefix, &o, &d, &e);
                if (r < 0)
                        return log_pod_error(r, &e);
                STRV_FOREACH (u, d->pubkeys)
                        log_info("Found key URL '%s' for prefix '%s' at '%s'.", *u, arg_prefix,
                                 d->page_url);
                sources = d->pubkeys;
        }

        STRV_FOREACH (s, sources) {
                r = trust_source(&ks, *s, sources, &added);
                if (r < 0)
                        return r;
        }
        if (added == 0)
                return log_error_errno(-ECANCELED, "No key was trusted.");
        return 0;
}

/* Implicit trust (spec section 7, last bullet), called by fetch before a name fetch goes to
 * the network when no key is trusted for the name or an ancestor prefix: discover the name's
 * keys and, on a terminal, show each and ask as `pod trust` does; with --trust-keys-from-https
 * take https keys after showing them.  One key at most, for the name itself.  Without a
 * terminal and without the flag nothing happens, and the signature check refuses the image
 * naming the `pod trust` command. */
int trust_implicit(const char *name, void *userdata, struct pod_error *reterr) {
        const struct trust_implicit_config *c = userdata;
        const struct pod_keystore ks = { .vendordir = arg_vendordir,
                                         .sysconfdir = arg_sysconfdir,
                                         .userdir = arg_userdir,
                                         .writedir = arg_rootless ? arg_userdir : NULL };
        _cleanup_(pod_discovery_result_freep) struct pod_discovery_result *d = NULL;
        struct pod_http_options o;
        struct pod_error e = {};
        bool tty = isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
        unsigned added = 0;
        int r = 0;

        if (!c->from_https && !tty)
                return 0;

        arg_prefix = name;
        arg_root = arg_list = arg_skip_review = false;
        implicit = true;
        auth_config = c->auth;
        o = http_options(false);
        r = pod_discovery_pubkeys(name, &o, &d, &e);
        if (r < 0) {
                log_warning("No signing keys discovered for '%s': %s", name,
                            e.msg[0] ? e.msg : strerror(-r));
                r = 0;
        }
        STRV_FOREACH (u, d ? d->pubkeys : NULL) {
                bool https = strncasecmp(*u, "https://", 8) == 0;

                if (c->from_https && !https && !tty) {
                        log_warning("Not trusting key '%s' for '%s' automatically: not an https "
                                    "URL.",
                                    *u, name);
                        continue;
                }
                if (c->from_https && https)
                        log_notice("Trusting the key at '%s' for '%s' "
                                   "(--trust-keys-from-https):",
                                   *u, name);
                arg_skip_review = c->from_https && https;
                r = trust_source(&ks, *u, d->pubkeys, &added);
                if (r < 0 || added > 0)
                        break;
        }
        implicit = false;
        arg_prefix = NULL;
        arg_skip_review = false;
        auth_config = NULL;
        if (r < 0)
                /* trust_source() logged the cause. */
                return pod_error_set(reterr, r, "Failed to trust a key for '%s'", name);
        return 0;
}
