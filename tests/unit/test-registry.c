/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry client's pure parts (registry.h): the WWW-Authenticate challenge grammar.
 * The protocol itself is tested against a real docker-registry by
 * tests/integration/registry-client.sh. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "registry.h"
#include "tap.h"

static void good(const char *h, const char *scheme, const char *realm, const char *service,
                 const char *scope) {
        struct pod_registry_challenge c = {};
        struct pod_error e = {};
        int r = pod_registry_parse_challenge(h, &c, &e);

        tap_ok(r == 0, "parse '%s' %s", h, r < 0 ? e.msg : "");
        tap_is_str(c.scheme, scheme, "  scheme");
        tap_is_str(c.realm, realm, "  realm");
        tap_is_str(c.service, service, "  service");
        tap_is_str(c.scope, scope, "  scope");
        pod_registry_challenge_done(&c);
}

static void bad(const char *h, const char *word) {
        struct pod_registry_challenge c = {};
        struct pod_error e = {};
        int r = pod_registry_parse_challenge(h, &c, &e);

        tap_ok(r == -EBADMSG && strstr(e.msg, word), "refuse '%s': %s", h, e.msg);
        pod_registry_challenge_done(&c);
}

int main(void) {
        good("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
             "scope=\"repository:library/busybox:pull\"",
             "bearer", "https://auth.docker.io/token", "registry.docker.io",
             "repository:library/busybox:pull");
        good("Basic realm=\"Registry Realm\"", "basic", "Registry Realm", NULL, NULL);
        good("BEARER Realm=\"a,b\\\"c\" , Service = svc,error=\"insufficient_scope\"", "bearer",
             "a,b\"c", "svc", NULL);
        good("Bearer realm=\"http://127.0.0.1:1/t\", Basic realm=\"x\"", "bearer",
             "http://127.0.0.1:1/t", NULL, NULL);
        good("Bearer realm=https://h/t,,service=s", "bearer", "https://h/t", "s", NULL);
        good("Basic", "basic", NULL, NULL, NULL);
        bad("", "no scheme");
        bad("Bearer realm=\"x", "unterminated");
        bad("Bearer realm=\"x\" service=\"y\"", "expected ','");
        bad("Bearer realm=", "no value");
        bad("Bearer realm=a, realm=b", "twice");
        bad("Bearer realm=\"a\r\nX-Injected: 1\"", "control");
        bad("Negotiate abc==", "");
        bad("Negotiate abc", "token68");
        bad("Bearer a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,o=1,p=1,q=1,r=1,"
            "s=1,t=1,u=1,v=1,w=1,x=1,y=1,z=1,aa=1,bb=1,cc=1,dd=1,ee=1,ff=1,gg=1",
            "too many");
        return tap_done();
}
