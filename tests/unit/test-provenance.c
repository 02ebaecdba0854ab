/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Provenance records in a real store (store-provenance.c): recorded with an import, read
 * back field by field, replaced by a later import of the same ID, unknown for an image
 * imported without one, dropped with the image; and the printed forms escape hostile text. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aci-gen.h"
#include "fd-util.h"
#include "macro.h"
#include "provenance.h"
#include "store.h"
#include "tap.h"

static int import(struct pod_store *s, const char *path, const struct pod_provenance *p,
                  char **ret_id) {
        struct pod_store_import_options o = { .provenance = p };
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct pod_error e = {};

        if (fd < 0)
                return -errno;
        return pod_store_import_fd(s, fd, &o, ret_id, &e);
}

int main(void) {
        char base[] = "/tmp/test-provenance.XXXXXX", aci[600], aci2[600], text[4096];
        const struct gen_entry e[] = {
                { "manifest", AE_IFREG, 0644, GEN_MANIFEST, 0, NULL },
                { "rootfs", AE_IFDIR, 0755, NULL, 0, NULL },
        };
        const struct gen_entry e2[] = {
                { "manifest", AE_IFREG, 0644, GEN_MANIFEST, 0, NULL },
                { "rootfs", AE_IFDIR, 0755, NULL, 0, NULL },
                { "rootfs/f", AE_IFREG, 0644, "x", 0, NULL },
        };
        _cleanup_(pod_store_freep) struct pod_store *s = NULL;
        _cleanup_free_ char *id = NULL, *id2 = NULL;
        struct pod_provenance signed_by = {
                .origin = (char *)"https://example.com/aci/test.aci",
                .signer_fingerprint = (char *)"0123456789abcdef0123456789abcdef01234567",
                .signer_uid = (char *)"Evil \x1b]0;pwned\x07 <e@example.com>",
                .trusted_prefix = (char *)"example.com",
                .key_path = (char *)"/etc/pod/trustedkeys/prefix.d/example.com/0123",
                .signature_time = 1700000000,
        };
        struct pod_provenance insecure = { .origin = (char *)"/tmp/x.aci",
                                           .insecure = (char *)"image" };
        struct pod_provenance got = {};
        struct pod_error err = {};
        struct json_object *j;
        FILE *f;

        if (!mkdtemp(base))
                return tap_skip_all("no temp dir");
        (void)snprintf(aci, sizeof(aci), "%s/a.aci", base);
        (void)snprintf(aci2, sizeof(aci2), "%s/b.aci", base);
        if (gen_aci(aci, POD_COMPRESSION_GZIP, e, ELEMENTSOF(e)) < 0 ||
            gen_aci(aci2, POD_COMPRESSION_GZIP, e2, ELEMENTSOF(e2)) < 0)
                return tap_skip_all("cannot write test archives");
        (void)snprintf(text, sizeof(text), "%s/store", base);
        tap_is_int(pod_store_open(text, &s, &err), 0, "store opens");

        tap_is_int(import(s, aci, &signed_by, &id), 0, "import with a provenance record");
        tap_is_int(pod_store_get_provenance(s, id, &got, &err), 1, "record found");
        tap_is_str(got.origin, signed_by.origin, "origin");
        tap_is_str(got.signer_fingerprint, signed_by.signer_fingerprint, "fingerprint");
        tap_is_str(got.signer_uid, signed_by.signer_uid, "uid stored as given");
        tap_is_str(got.trusted_prefix, "example.com", "prefix");
        tap_ok(!got.root_key, "not a root key");
        tap_is_str(got.key_path, signed_by.key_path, "key file");
        tap_is_int(got.signature_time, 1700000000, "signature time");
        tap_ok(got.insecure == NULL, "no insecure option");

        /* The printed forms: escaped, named. */
        f = fmemopen(text, sizeof(text), "w");
        pod_provenance_print(f, "", &got);
        fclose(f);
        tap_ok(strstr(text, "Signer user ID: Evil \\x1b]0;pwned\\x07 <e@example.com>\n") != NULL,
               "text form escapes the uid");
        tap_ok(!strchr(text, '\x1b') && !strchr(text, '\x07'), "no raw control byte in text");
        tap_ok(strstr(text, "Signature time: 2023-11-14T22:13:20Z\n") != NULL, "signature time");
        f = fmemopen(text, sizeof(text), "w");
        pod_provenance_print_kv(f, "image-a-", &got);
        fclose(f);
        tap_ok(strstr(text, "image-a-trusted-prefix=example.com\n") != NULL, "key=value form");
        tap_ok(!strchr(text, '\x1b'), "no raw control byte in key=value");
        tap_is_str(pod_provenance_summary(&got, text, sizeof(text)),
                   "signed 0123456789abcdef (example.com)", "summary");
        j = pod_provenance_to_json(&got);
        tap_is_str(json_object_get_string(json_object_object_get(j, "signatureTime")),
                   "2023-11-14T22:13:20Z", "JSON signatureTime");
        json_object_put(j);
        pod_provenance_done(&got);

        /* A later import of the same bytes tells the latest story. */
        tap_is_int(import(s, aci, &insecure, &id2), 0, "re-import with another record");
        tap_is_int(pod_store_get_provenance(s, id, &got, &err), 1, "record found");
        tap_ok(got.signer_fingerprint == NULL, "replaced: no signer");
        tap_is_str(got.insecure, "image", "replaced: insecure image");
        tap_is_str(pod_provenance_summary(&got, text, sizeof(text)), "insecure: image",
                   "insecure summary");
        pod_provenance_done(&got);
        free(id2);
        id2 = NULL;

        /* No record: unknown. */
        tap_is_int(import(s, aci2, NULL, &id2), 0, "import without a record");
        tap_is_int(pod_store_get_provenance(s, id2, &got, &err), 0, "no record");
        tap_is_str(pod_provenance_summary(&got, text, sizeof(text)), "unknown", "unknown");
        j = pod_provenance_to_json(&got);
        tap_ok(!json_object_get_boolean(json_object_object_get(j, "known")), "JSON known=false");
        json_object_put(j);

        /* Removed with the image. */
        tap_is_int(pod_store_remove(s, id, &err), 0, "remove the image");
        tap_is_int(pod_store_get_provenance(s, id, &got, &err), 0, "its record is gone");

        (void)snprintf(text, sizeof(text), "rm -rf '%s'", base);
        (void)system(text);
        return tap_done();
}
