/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where a stored image came from and what vouched for it: recorded at import, shown by
 * `pod image status`, `pod image list --full`, the JSON views and `pod status`.
 * Owns: struct pod_provenance and its text and JSON forms.  Does not own: how it is stored
 * (store-provenance.c), how the facts are learnt (fetch.c from verify.c). */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_object;

struct pod_provenance {
        char *origin;             /* URL, absolute file path, or NULL: unknown */
        char *signer_fingerprint; /* primary key, lower-case 40 hex; NULL: not verified */
        char *signer_uid;         /* the key's first user ID, as its owner wrote it */
        char *trusted_prefix;     /* the prefix.d/ prefix whose key matched; NULL with root_key */
        bool root_key;            /* the key was a root.d key (trusted for every name) */
        char *key_path;           /* the trusted key file */
        int64_t signature_time;   /* seconds since the epoch; 0: unknown */
        char *insecure;         /* --insecure-options in effect at import ("image,tls"), or NULL */
        uint64_t recorded_usec; /* when recorded (store-provenance.c); 0: no record */
};

void pod_provenance_done(struct pod_provenance *p);

/* Sets *field to a copy of value (NULL clears it).  -ENOMEM. */
int pod_provenance_set(char **field, const char *value);

/* The --insecure-options words among bits that weaken an import (image, tls, http, pubkey),
 * comma-separated, in buf; "" when none. */
const char *pod_provenance_insecure_words(unsigned bits, char *buf, size_t size);

/* "Key: value" lines (each prefixed by indent), every value escaped for the terminal.  A
 * record-less image prints "Provenance: unknown". */
void pod_provenance_print(FILE *f, const char *indent, const struct pod_provenance *p);

/* The same as key=value lines for `pod status` ("<prefix>origin=...", "<prefix>signer=...",
 * ...; "<prefix>provenance=unknown" without a record), values escaped. */
void pod_provenance_print_kv(FILE *f, const char *prefix, const struct pod_provenance *p);

/* One short cell for tables: "signed <fpr16> (<prefix>|root)", "insecure: image", "unknown". */
const char *pod_provenance_summary(const struct pod_provenance *p, char *buf, size_t size);

/* A JSON object (NULL when out of memory): null members for what is unknown, and
 * "known": false for an image without a record. */
struct json_object *pod_provenance_to_json(const struct pod_provenance *p);
