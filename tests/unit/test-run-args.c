/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>

#include "insecure.h"
#include "macro.h"
#include "run-args.h"
#include "tap.h"

/* argv as the verb gets it; the strings are never written to. */
#define ARGV(...)        ((char **)(const char *[]){ "run", __VA_ARGS__, NULL })
#define ARGC(...)        ((int)(sizeof((const char *[]){ "run", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, e, ...) run_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (e))

int main(void) {
        struct run_args a = {};
        struct pod_error e = {};

        tap_is_int(PARSE(&a, &e, "--hostname=h1", "--volume", "data,kind=empty", "--net=none",
                         "--mount", "volume=data,target=/data", "--keep-unit",
                         "--insecure-options=image", "example.com/app:1.0", "--exec=/bin/sh",
                         "--user", "www", "--memory=64Mi", "--mount=volume=data,target=/x", "--",
                         "-c", "echo --- no", "---", "example.com/side", "--name=side",
                         "--environment=A=1", "--environment=B=2"),
                   0, "full command line parses");
        tap_is_str(a.hostname, "h1", "pod --hostname=");
        tap_is_str(a.volumes ? a.volumes[0] : NULL, "data,kind=empty", "pod --volume VALUE");
        tap_is_str(a.net, "none", "pod --net");
        tap_is_str(a.mounts ? a.mounts[0] : NULL, "volume=data,target=/data", "pod --mount");
        tap_is_int(a.keep_unit, 1, "--keep-unit");
        tap_is_int(a.insecure, POD_INSECURE_IMAGE, "--insecure-options after the verb");
        tap_is_int(a.n_apps, 2, "two apps");
        tap_is_str(a.apps[0].image, "example.com/app:1.0", "first image");
        tap_is_str(a.apps[0].exec, "/bin/sh", "app --exec=");
        tap_is_str(a.apps[0].user, "www", "app --user VALUE");
        tap_is_str(a.apps[0].memory, "64Mi", "app --memory");
        tap_is_str(a.apps[0].mounts ? a.apps[0].mounts[0] : NULL, "volume=data,target=/x",
                   "app-level --mount after the image");
        tap_ok(a.apps[0].have_args, "-- seen");
        tap_is_str(a.apps[0].args[0], "-c", "first app arg");
        tap_is_str(a.apps[0].args[1], "echo --- no", "args are taken verbatim");
        tap_ok(a.apps[0].args[2] == NULL, "args end at ---");
        tap_is_str(a.apps[1].image, "example.com/side", "second image after ---");
        tap_is_str(a.apps[1].name, "side", "second app --name");
        tap_is_str(a.apps[1].environment[1], "B=2", "repeated --environment kept in order");
        tap_ok(!a.apps[1].have_args, "second app has no --");
        run_args_done(&a);

        tap_is_int(PARSE(&a, &e, "img1", "img2", "img3"), 0, "images may follow each other");
        tap_is_int(a.n_apps, 3, "three apps");
        tap_is_int(a.keep_unit, -1, "keep-unit defaults to auto");
        run_args_done(&a);

        tap_is_int(PARSE(&a, &e, "--keep-unit=false", "img"), 0, "--keep-unit=false");
        tap_is_int(a.keep_unit, 0, "... is --no-keep-unit");
        run_args_done(&a);
        tap_is_int(PARSE(&a, &e, "--no-keep-unit=false", "img"), 0, "--no-keep-unit=false");
        tap_is_int(a.keep_unit, 1, "... is --keep-unit");
        run_args_done(&a);
        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "--keep-unit=perhaps", "img"), -EINVAL,
                   "--keep-unit=perhaps refused");
        run_args_done(&a);

        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "img", "--hostname=x"), -EINVAL, "pod flag after image refused");
        tap_is_str(e.msg, "Pod option '--hostname' must come before the first image",
                   "message names the misplaced pod flag");
        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "--exec=/x", "img"), -EINVAL, "app flag before image refused");
        tap_is_str(e.msg, "App option '--exec' must follow the image it applies to",
                   "message names the misplaced app flag");
        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "--frob", "img"), -EINVAL, "unknown flag refused");
        tap_is_str(e.msg, "Unknown option '--frob'", "unknown flag named");
        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "--hostname"), -EINVAL, "missing value refused");
        tap_is_str(e.msg, "Option '--hostname' needs a value", "missing value named");
        pod_error_clear(&e);
        run_args_done(&a);
        /* rkt's --net: a bare one is "default" (it takes no value from the next argument),
         * repeated ones accumulate. */
        tap_is_int(PARSE(&a, &e, "--net", "img"), 0, "bare --net parses");
        tap_is_str(a.net, "default", "bare --net means default");
        tap_is_int(a.n_apps, 1, "and the next argument stays the image");
        tap_is_str(a.n_apps ? a.apps[0].image : NULL, "img", "the image");
        run_args_done(&a);
        /* --private-users: bare is "pick" and does not eat the image. */
        tap_is_int(PARSE(&a, &e, "--private-users", "img"), 0, "bare --private-users parses");
        tap_is_str(a.private_users, "pick", "bare --private-users means pick");
        tap_is_str(a.n_apps ? a.apps[0].image : NULL, "img", "and the image stays the image");
        run_args_done(&a);
        tap_is_int(PARSE(&a, &e, "--private-users=100000:65536", "img"), 0,
                   "--private-users=UID:COUNT parses");
        tap_is_str(a.private_users, "100000:65536", "its value kept");
        run_args_done(&a);
        tap_ok(PARSE(&a, &e, "img", "--private-users") < 0,
               "--private-users after the image refused");
        pod_error_clear(&e);
        run_args_done(&a);
        tap_is_int(PARSE(&a, &e, "--net=a", "--net=b:IP=10.0.0.2", "img"), 0,
                   "repeated --net parses");
        tap_is_str(a.net, "a,b:IP=10.0.0.2", "repeated --net accumulate");
        run_args_done(&a);
        tap_is_int(PARSE(&a, &e, "--net=host"), -EINVAL, "no image refused");
        tap_is_str(e.msg, "No image given", "no image message");
        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "--interactive", "a", "b"), -EINVAL,
                   "--interactive with two apps refused");
        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "--", "x"), -EINVAL, "-- before image refused");
        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "--inherit-env=yes", "img"), -EINVAL,
                   "boolean flag with a value refused");
        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "--insecure-options=bogus", "img"), -EINVAL,
                   "bad insecure option refused");
        tap_is_str(e.msg, "Unknown insecure option 'bogus'", "bad insecure option named");
        pod_error_clear(&e);

        /* rkt's annotations and labels: pod-level before the first image, the app's after. */
        tap_is_int(PARSE(&a, &e, "--user-annotation=a=1", "--user-label=l=2", "--annotation=p=3",
                         "--ipc=parent", "img", "--annotation=x=1", "--user-annotation=y=2",
                         "--user-label=z=3", "--label=w=4", "--oom-score-adj=-5",
                         "--cpu-shares=512"),
                   0, "annotation, label, ipc and isolator flags parse");
        tap_is_str(a.user_annotations ? a.user_annotations[0] : NULL, "a=1",
                   "pod --user-annotation");
        tap_is_str(a.user_labels ? a.user_labels[0] : NULL, "l=2", "pod --user-label");
        tap_is_str(a.annotations ? a.annotations[0] : NULL, "p=3", "pod --annotation");
        tap_is_str(a.ipc, "parent", "pod --ipc");
        tap_is_str(a.apps[0].annotations ? a.apps[0].annotations[0] : NULL, "x=1",
                   "app --annotation");
        tap_is_str(a.apps[0].user_annotations ? a.apps[0].user_annotations[0] : NULL, "y=2",
                   "app --user-annotation");
        tap_is_str(a.apps[0].user_labels ? a.apps[0].user_labels[1] : NULL, "w=4",
                   "app --label is --user-label");
        tap_is_str(a.apps[0].oom_score_adj, "-5", "app --oom-score-adj");
        tap_is_str(a.apps[0].cpu_shares, "512", "app --cpu-shares");
        run_args_done(&a);
        tap_is_int(PARSE(&a, &e, "--oom-score-adj=1", "img"), -EINVAL,
                   "--oom-score-adj before the image refused");
        pod_error_clear(&e);
        tap_is_int(PARSE(&a, &e, "--pod-manifest=/p.json", "--net=host"), 0,
                   "--pod-manifest needs no image");
        tap_is_str(a.pod_manifest, "/p.json", "--pod-manifest value");
        run_args_done(&a);
        tap_is_int(PARSE(&a, &e, "--pod-manifest=/p.json", "img"), -EINVAL,
                   "--pod-manifest with an image refused");
        pod_error_clear(&e);
        return tap_done();
}
