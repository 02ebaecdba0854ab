/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json_c_version.h>
#include <sqlite3.h>
#include <stdio.h>

#include "dlopen-archive.h"
#include "dlopen-crypto.h"
#include "dlopen-curl.h"
#include "dlopen-gpgme.h"
#include "dlopen-seccomp.h"
#include "error.h"
#include "host-features.h"
#include "verbs.h"

static const char *yesno(bool b) {
        return b ? "yes" : "no";
}

/* The libraries loaded on demand (dlopen-util.h): their version, or why they cannot be
 * loaded, without failing `pod version` itself. */
static void print_dlopen(const char *label, int (*load)(struct pod_error *),
                         const char *(*version)(void)) {
        struct pod_error e = {};

        if (load(&e) < 0)
                printf("  %-11s not available: %s\n", label, e.msg);
        else
                printf("  %-11s %s\n", label, version());
}

static const char *seccomp_version_text(void) {
        static char buf[48];
        const struct scmp_version *v = seccomp_version();

        (void)snprintf(buf, sizeof(buf), "%u.%u.%u", v->major, v->minor, v->micro);
        return buf;
}

static const char *openssl_version_text(void) {
        return OpenSSL_version(OPENSSL_VERSION);
}

static const char *gpgme_version_text(void) {
        return gpgme_check_version(NULL);
}

static const char *curl_version_text(void) {
        return curl_version();
}

static const char *archive_version_text(void) {
        return archive_version_details();
}

int verb_version(int argc, char *argv[]) {
        struct pod_features f;

        pod_features_probe(&f);

        printf("pod version %s\n", PACKAGE_VERSION);
        printf("appc version %s\n", POD_APPC_VERSION);
        printf("stage1 %s\n", POD_STAGE1_PATH);
        printf("\nLibraries:\n");
        printf("  libsystemd  %s (built against)\n", POD_LIBSYSTEMD_VERSION);
        print_dlopen("libarchive", pod_dlopen_archive, archive_version_text);
        print_dlopen("gpgme", pod_dlopen_gpgme, gpgme_version_text);
        print_dlopen("libcurl", pod_dlopen_curl, curl_version_text);
        printf("  json-c      %s\n", json_c_version());
        print_dlopen("libseccomp", pod_dlopen_seccomp, seccomp_version_text);
        printf("  sqlite      %s\n", sqlite3_libversion());
        print_dlopen("openssl", pod_dlopen_crypto, openssl_version_text);
        printf("\nFeatures:\n");
        printf("  overlayfs        %s\n", yesno(f.overlayfs));
        printf("  user namespaces  %s\n", yesno(f.user_namespaces));
        printf("  seccomp          %s\n", yesno(f.seccomp));
        printf("  cgroup v2        %s%s\n", yesno(f.cgroup_v2),
               f.cgroup_v2
                       ? (f.cgroup_v2_memory ? " (memory controller)" : " (no memory controller)")
                       : "");
        printf("  systemd          %s\n", f.systemd ? "yes (PID 1, system bus reachable)" : "no");
        return 0;
}
