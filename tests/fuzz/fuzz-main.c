/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays a fuzz target's corpus without libFuzzer, so "make check" runs every corpus file
 * (and every past crash) through the parser on each build.  Arguments: files or directories;
 * with none, $FUZZ_CORPUS_DIR/X for a program named replay-X.  Prints TAP, one line per input. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static int replay_file(const char *path) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        int r;

        r = read_full_file_at(AT_FDCWD, path, 64 << 20, &buf, &size);
        if (r < 0) {
                printf("not ok %d - %s: %s\n", ++n, path, strerror(-r));
                return r;
        }
        (void)LLVMFuzzerTestOneInput((const uint8_t *)buf, size);
        printf("ok %d - %s\n", ++n, path);
        return 0;
}

static int replay(const char *path) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent **list = NULL;
        struct stat st;
        int k, r = 0;

        if (stat(path, &st) < 0) {
                printf("not ok %d - %s: %s\n", ++n, path, strerror(errno));
                return -errno;
        }
        if (!S_ISDIR(st.st_mode))
                return replay_file(path);

        /* Sorted, so output is stable run to run. */
        k = scandir(path, &list, NULL, alphasort);
        if (k < 0)
                return -errno;
        for (int i = 0; i < k; i++) {
                if (list[i]->d_name[0] != '.') {
                        char p[4096];
                        (void)snprintf(p, sizeof(p), "%s/%s", path, list[i]->d_name);
                        if (replay(p) < 0)
                                r = -EIO;
                }
                free(list[i]);
        }
        free(list);
        return r;
}

int main(int argc, char *argv[]) {
        const char *dir = getenv("FUZZ_CORPUS_DIR");
        const char *base = strrchr(argv[0], '/');
        char corpus[4096];
        int r = 0;

        base = base ? base + 1 : argv[0];
        if (strncmp(base, "replay-", 7) == 0 && dir)
                (void)snprintf(corpus, sizeof(corpus), "%s/%s", dir, base + 7);
        else
                corpus[0] = 0;

        if (argc > 1) {
                for (int i = 1; i < argc; i++)
                        if (replay(argv[i]) < 0)
                                r = -EIO;
        } else if (corpus[0])
                r = replay(corpus);
        else {
                printf("1..0 # SKIP no corpus given\n");
                return 0;
        }
        printf("1..%d\n", n);
        return r < 0 ? 1 : 0;
}
