/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "escape.h"
#include "insecure.h"
#include "macro.h"
#include "provenance.h"

void pod_provenance_done(struct pod_provenance *p) {
        if (!p)
                return;
        free(p->origin);
        free(p->signer_fingerprint);
        free(p->signer_uid);
        free(p->trusted_prefix);
        free(p->key_path);
        free(p->insecure);
        *p = (struct pod_provenance){};
}

int pod_provenance_set(char **field, const char *value) {
        char *c = NULL;

        if (value) {
                c = strdup(value);
                if (!c)
                        return -ENOMEM;
        }
        free(*field);
        *field = c;
        return 0;
}

const char *pod_provenance_insecure_words(unsigned bits, char *buf, size_t size) {
        static const struct {
                unsigned bit;
                const char *word;
        } words[] = {
                { POD_INSECURE_IMAGE, "image" },
                { POD_INSECURE_TLS, "tls" },
                { POD_INSECURE_HTTP, "http" },
                { POD_INSECURE_PUBKEY, "pubkey" },
        };
        size_t l = 0;

        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if ((bits & words[i].bit) && l < size)
                        l += (size_t)snprintf(buf + l, size - l, "%s%s", l ? "," : "",
                                              words[i].word);
        return buf;
}

static void format_time(int64_t sec, char *buf, size_t size) {
        time_t t = (time_t)sec;
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                (void)snprintf(buf, size, "%" PRId64, sec);
}

static bool known(const struct pod_provenance *p) {
        return p && p->recorded_usec > 0;
}

void pod_provenance_print(FILE *f, const char *indent, const struct pod_provenance *p) {
        char t[64];

        if (!known(p)) {
                fprintf(f, "%sProvenance: unknown (imported before pod recorded it)\n", indent);
                return;
        }
        fprintf(f, "%sOrigin: %s\n", indent, p->origin ? POD_ESC(p->origin) : "unknown");
        if (p->signer_fingerprint) {
                fprintf(f, "%sSigned by: %s\n", indent, POD_ESC(p->signer_fingerprint));
                if (p->signer_uid)
                        fprintf(f, "%sSigner user ID: %s\n", indent, POD_ESC(p->signer_uid));
                if (p->root_key)
                        fprintf(f, "%sTrusted as: root key (every image name)\n", indent);
                else if (p->trusted_prefix)
                        fprintf(f, "%sTrusted as: key for prefix %s\n", indent,
                                POD_ESC(p->trusted_prefix));
                if (p->key_path)
                        fprintf(f, "%sTrusted key file: %s\n", indent, POD_ESC(p->key_path));
                if (p->signature_time > 0) {
                        format_time(p->signature_time, t, sizeof(t));
                        fprintf(f, "%sSignature time: %s\n", indent, t);
                }
        } else
                fprintf(f, "%sSigned by: nobody verified (signature not checked)\n", indent);
        fprintf(f, "%sInsecure options: %s\n", indent,
                p->insecure && *p->insecure ? POD_ESC(p->insecure) : "none");
}

void pod_provenance_print_kv(FILE *f, const char *prefix, const struct pod_provenance *p) {
        char t[64];

        if (!known(p)) {
                fprintf(f, "%sprovenance=unknown\n", prefix);
                return;
        }
        fprintf(f, "%sorigin=%s\n", prefix, p->origin ? POD_ESC(p->origin) : "unknown");
        if (p->signer_fingerprint) {
                fprintf(f, "%ssigner=%s\n", prefix, POD_ESC(p->signer_fingerprint));
                if (p->signer_uid)
                        fprintf(f, "%ssigner-uid=%s\n", prefix, POD_ESC(p->signer_uid));
                if (p->root_key)
                        fprintf(f, "%sroot-key=true\n", prefix);
                else if (p->trusted_prefix)
                        fprintf(f, "%strusted-prefix=%s\n", prefix, POD_ESC(p->trusted_prefix));
                if (p->signature_time > 0) {
                        format_time(p->signature_time, t, sizeof(t));
                        fprintf(f, "%ssignature-time=%s\n", prefix, t);
                }
        } else
                fprintf(f, "%ssigner=none\n", prefix);
        fprintf(f, "%sinsecure=%s\n", prefix,
                p->insecure && *p->insecure ? POD_ESC(p->insecure) : "none");
}

const char *pod_provenance_summary(const struct pod_provenance *p, char *buf, size_t size) {
        if (!known(p))
                (void)snprintf(buf, size, "unknown");
        else if (p->signer_fingerprint)
                (void)snprintf(buf, size, "signed %.16s (%s)", POD_ESC(p->signer_fingerprint),
                               p->root_key
                                       ? "root"
                                       : (p->trusted_prefix ? POD_ESC(p->trusted_prefix) : "?"));
        else
                (void)snprintf(buf, size, "insecure: %s",
                               p->insecure && *p->insecure ? POD_ESC(p->insecure) : "?");
        return buf;
}

static struct json_object *str_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

struct json_object *pod_provenance_to_json(const struct pod_provenance *p) {
        struct json_object *o = json_object_new_object();
        char t[64];

        if (!o)
                return NULL;
        (void)json_object_object_add(o, "known", json_object_new_boolean(known(p)));
        if (!known(p))
                return o;
        (void)json_object_object_add(o, "origin", str_or_null(p->origin));
        (void)json_object_object_add(o, "signerFingerprint", str_or_null(p->signer_fingerprint));
        (void)json_object_object_add(o, "signerUserID", str_or_null(p->signer_uid));
        (void)json_object_object_add(o, "trustedPrefix", str_or_null(p->trusted_prefix));
        (void)json_object_object_add(o, "rootKey", json_object_new_boolean(p->root_key));
        (void)json_object_object_add(o, "trustedKeyFile", str_or_null(p->key_path));
        if (p->signature_time > 0) {
                format_time(p->signature_time, t, sizeof(t));
                (void)json_object_object_add(o, "signatureTime", json_object_new_string(t));
        } else
                (void)json_object_object_add(o, "signatureTime", NULL);
        (void)json_object_object_add(o, "insecureOptions",
                                     str_or_null(p->insecure && *p->insecure ? p->insecure : NULL));
        return o;
}
