/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <curl/curl.h>
#include <gpgme.h>
#include <json-c/json_c_version.h>
#include <openssl/crypto.h>
#include <seccomp.h>
#include <sqlite3.h>
#include <stdio.h>

#include "host-features.h"
#include "verbs.h"

static const char *yesno(bool b) {
        return b ? "yes" : "no";
}

int verb_version(int argc, char *argv[]) {
        const struct scmp_version *sv = seccomp_version();
        struct pod_features f;

        pod_features_probe(&f);

        printf("pod version %s\n", PACKAGE_VERSION);
        printf("appc version %s\n", POD_APPC_VERSION);
        printf("stage1 %s\n", POD_STAGE1_PATH);
        printf("\nLibraries:\n");
        printf("  libsystemd  %s (built against)\n", POD_LIBSYSTEMD_VERSION);
        printf("  libarchive  %s\n", archive_version_details());
        printf("  gpgme       %s\n", gpgme_check_version(NULL));
        printf("  libcurl     %s\n", curl_version());
        printf("  json-c      %s\n", json_c_version());
        printf("  libseccomp  %u.%u.%u\n", sv->major, sv->minor, sv->micro);
        printf("  sqlite      %s\n", sqlite3_libversion());
        printf("  openssl     %s\n", OpenSSL_version(OPENSSL_VERSION));
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
