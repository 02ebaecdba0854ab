/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "discovery-html.h"
#include "discovery.h"
#include "macro.h"
#include "tap.h"

static struct pod_discovery_metas *parse(const char *html) {
        struct pod_discovery_metas *m = NULL;
        int r = pod_discovery_html_parse(html, strlen(html), &m);
        tap_ok(r == 0 && m, "parse succeeds");
        return m;
}

static void expect_one(const char *html, enum pod_discovery_kind kind, const char *prefix,
                       const char *value, const char *what) {
        _cleanup_(pod_discovery_metas_freep) struct pod_discovery_metas *m = parse(html);

        tap_is_int(m ? m->n : 0, 1, what);
        if (m && m->n == 1) {
                tap_is_int(m->items[0].kind, kind, "  kind");
                tap_is_str(m->items[0].prefix, prefix, "  prefix");
                tap_is_str(m->items[0].value, value, "  value");
        }
}

static void expect_none(const char *html, const char *what) {
        _cleanup_(pod_discovery_metas_freep) struct pod_discovery_metas *m = parse(html);
        tap_is_int(m ? m->n : 99, 0, what);
}

static void test_parse(void) {
        const char *T = "https://d.example.com/{name}-{version}.{ext}";

        expect_one("<meta name=\"ac-discovery\" content=\"example.com https://d.example.com/"
                   "{name}-{version}.{ext}\">",
                   POD_DISCOVERY_IMAGE, "example.com", T, "plain double quotes");
        expect_one("<meta content='example.com https://d.example.com/{name}-{version}.{ext}' "
                   "name='ac-discovery'/>",
                   POD_DISCOVERY_IMAGE, "example.com", T, "content first, single quotes, />");
        expect_one("<META NAME=AC-DISCOVERY-PUBKEYS CONTENT=\"example.com  https://k/x.asc \">",
                   POD_DISCOVERY_PUBKEYS, "example.com", "https://k/x.asc",
                   "upper case tag/attrs/name, unquoted name, extra spaces trimmed");
        expect_none("<meta name=ac-discovery-pubkeys content=example.com\thttps://k/x.asc>",
                    "unquoted value ends at whitespace: no URL part");
        expect_one("<body><p>text</p><meta\nname=\"ac-discovery\"\ncontent=\"a.org "
                   "https://a.org/{name}?a=1&amp;b=&#50;&#x33;&quot;\"></body>",
                   POD_DISCOVERY_IMAGE, "a.org", "https://a.org/{name}?a=1&b=23\"",
                   "outside head, newlines between attributes, entities decoded");
        expect_one("<meta name=\"ac-discovery\" content=\"a.org https://a.org/&#123;name&#125;."
                   "&lbrace;ext&rbrace;&#38;x&#X26;y\">",
                   POD_DISCOVERY_IMAGE, "a.org", "https://a.org/{name}.{ext}&x&y",
                   "numeric (dec/hex) and brace entities");
        expect_one("<meta name=\"ac-discovery\" name=\"other\" content=\"a.org u\" content=\"b "
                   "v\">",
                   POD_DISCOVERY_IMAGE, "a.org", "u", "duplicate attributes: first wins");
        expect_one("<!-- <meta name=\"ac-discovery\" content=\"x.org y\"> --><meta "
                   "name=\"ac-discovery\" content=\"a.org u\">",
                   POD_DISCOVERY_IMAGE, "a.org", "u", "commented-out tag ignored");
        expect_one("<script>var s = '<meta name=\"ac-discovery\" content=\"x.org y\">';</script>"
                   "<meta name=\"ac-discovery\" content=\"a.org u\">",
                   POD_DISCOVERY_IMAGE, "a.org", "u", "tag inside <script> ignored");
        expect_one("<meta data-x=\"a>b\" name=\"ac-discovery\" content=\"a.org u\">",
                   POD_DISCOVERY_IMAGE, "a.org", "u", "'>' inside a quoted value");
        expect_one("a < b <meta name=ac-discovery content=\"a.org u\"> <3", POD_DISCOVERY_IMAGE,
                   "a.org", "u", "stray '<' in text");
        expect_one("<meta name=\"ac-discovery\" content=\"a.org &ampx=1&amp\">",
                   POD_DISCOVERY_IMAGE, "a.org", "&ampx=1&",
                   "legacy entity without ';' not decoded before alnum, decoded at end");

        expect_none("<meta name=\"ac-discovery\" content=\"nospace\">", "no space: skipped");
        expect_none("<meta name=\"description\" content=\"a b\">", "other meta names ignored");
        expect_none("<meta name=\"ac-discovery\" content=\"a.org u", "unterminated tag dropped");
        expect_none("<!-- <meta name=\"ac-discovery\" content=\"a.org u\">",
                    "unterminated comment hides the rest");
        expect_none("<meta name=\"ac-discovery\" content=\"a.org u v\">",
                    "value with inner whitespace rejected");
        expect_none("<meta name=\"ac-discovery\" content=\"a.org u&#10;v\">",
                    "control character after decoding rejected");
        expect_none("", "empty document");
        expect_none("<", "lone '<'");
        expect_none("<meta", "truncated tag");
        expect_none("<meta name='ac-discovery' content='a.org", "unterminated quote");

        {
                const char html[] = "<meta name=\"ac-discovery\" content=\"a.org u\0v\">";
                _cleanup_(pod_discovery_metas_freep) struct pod_discovery_metas *m = NULL;

                tap_ok(pod_discovery_html_parse(html, sizeof(html) - 1, &m) == 0 && m->n == 0,
                       "NUL byte inside a value: tag dropped");
        }
        {
                _cleanup_(pod_discovery_metas_freep) struct pod_discovery_metas *m =
                        parse("<meta name=ac-discovery content=\"a.org/x 1\">"
                              "<meta name=ac-discovery-pubkeys content=\"a.org 2\">"
                              "<meta name=ac-discovery content=\"a.org 3\">");
                tap_is_int(m->n, 3, "several tags in document order");
                tap_is_str(m->items[2].value, "3", "  third");
        }
}

static void test_entities(void) {
        struct {
                const char *in, *out;
        } t[] = {
                { "&lt;&gt;&amp;&quot;&apos;", "<>&\"'" },
                { "&#0;", "\xef\xbf\xbd" },
                { "&#xD800;", "\xef\xbf\xbd" },
                { "&#x110000;", "\xef\xbf\xbd" },
                { "&#99999999999999999999;", "\xef\xbf\xbd" },
                { "&#x1F600;", "\xf0\x9f\x98\x80" },
                { "&#233", "\xc3\xa9" },
                { "&nbsp;", "\xc2\xa0" },
                { "&unknown;", "&unknown;" },
                { "&#;&#x;&", "&#;&#x;&" },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *o = pod_html_decode_entities(t[i].in, strlen(t[i].in));
                tap_is_str(o, t[i].out, t[i].in);
        }
}

static void test_render(void) {
        const struct pod_discovery_label l[] = {
                { "version", "1.0.0+b1" },
                { "os", "linux" },
                { "arch", "amd64" },
                { "x", "a b/c" },
        };
        const char *T = "https://d.org/{os}/{arch}/{name}-{version}.{ext}";
        char *s = NULL;

        tap_is_int(pod_discovery_render(T, "example.org/web", l, 3, "aci", &s), 0, "render");
        tap_is_str(s, "https://d.org/linux/amd64/example.org/web-1.0.0+b1.aci", "  aci URL");
        free(s);
        s = NULL;
        tap_is_int(pod_discovery_render(T, "example.org/web", l, 3, "aci.asc", &s), 0,
                   "render sig");
        tap_is_str(s, "https://d.org/linux/amd64/example.org/web-1.0.0+b1.aci.asc", "  sig URL");
        free(s);
        s = NULL;
        tap_is_int(pod_discovery_render(T, "example.org/web", l + 1, 2, "aci", &s), 0,
                   "no version label");
        tap_is_str(s, "https://d.org/linux/amd64/example.org/web-latest.aci",
                   "  version defaults to latest");
        free(s);
        s = NULL;
        tap_is_int(pod_discovery_render(T, "example.org/web", l, 1, "aci", &s), -ENOENT,
                   "missing os/arch: template dropped");
        tap_is_int(pod_discovery_render("https://d/{name}{unknown}", "a.org", l, 3, "aci", &s),
                   -ENOENT, "unknown placeholder: dropped");
        tap_is_int(pod_discovery_render("https://d/{name", "a.org", l, 3, "aci", &s), -ENOENT,
                   "unterminated placeholder: dropped");
        tap_is_int(pod_discovery_render(T, "Bad Name", l, 3, "aci", &s), -EINVAL,
                   "invalid name refused");
        tap_is_int(pod_discovery_render("https://d/{x}", "a.org", l, 4, "aci", &s), 0,
                   "label value escaped");
        tap_is_str(s, "https://d/a%20b%2Fc", "  percent-encoded");
        free(s);
        s = NULL;
        {
                const struct pod_discovery_label evil[] = { { "version", "{name}" } };
                tap_is_int(pod_discovery_render("https://d/{version}", "a.org", evil, 1, "aci", &s),
                           0, "values are not re-expanded");
                tap_is_str(s, "https://d/%7Bname%7D", "  braces in values escaped");
                free(s);
        }
}

static void test_prefixes_and_collect(void) {
        _cleanup_strv_free_ char **p = NULL;
        _cleanup_(pod_discovery_metas_freep) struct pod_discovery_metas *m = NULL;
        _cleanup_(pod_discovery_result_freep) struct pod_discovery_result *d = NULL;
        const struct pod_discovery_label l[] = { { "os", "linux" }, { "arch", "amd64" } };
        const char *html =
                "<meta name=ac-discovery content=\"other.org https://o/{name}.{ext}\">"
                "<meta name=ac-discovery content=\"a.org https://x/{name}-{nope}.{ext}\">"
                "<meta name=ac-discovery content=\"a.org/we https://y/{name}-{os}.{ext}\">"
                "<meta name=ac-discovery-pubkeys content=\"a.org https://k/a.asc\">"
                "<meta name=ac-discovery-pubkeys content=\"b.org https://k/b.asc\">";

        tap_is_int(pod_discovery_prefixes("a.org/x/y", &p), 0, "prefixes");
        tap_ok(p && p[0] && p[1] && p[2] && !p[3], "  three prefixes");
        if (p && p[0] && p[1] && p[2]) {
                tap_is_str(p[0], "a.org/x/y", "  longest first");
                tap_is_str(p[1], "a.org/x", "  then shorter");
                tap_is_str(p[2], "a.org", "  then the host");
        }
        tap_is_int(pod_discovery_prefixes("a.org/../x", &p), -EINVAL, "invalid name refused");

        tap_is_int(pod_discovery_html_parse(html, strlen(html), &m), 0, "parse page");
        d = calloc(1, sizeof(*d));
        tap_is_int(pod_discovery_collect(m, POD_DISCOVERY_IMAGE, "a.org/web", l, 2, d), 1,
                   "one image endpoint: other prefix skipped, unfilled {nope} dropped; "
                   "string prefix a.org/we matches a.org/web");
        if (d->n_endpoints == 1) {
                tap_is_str(d->endpoints[0].aci_url, "https://y/a.org/web-linux.aci", "  aci");
                tap_is_str(d->endpoints[0].sig_url, "https://y/a.org/web-linux.aci.asc", "  sig");
        }
        tap_is_int(pod_discovery_collect(m, POD_DISCOVERY_PUBKEYS, "a.org/web", NULL, 0, d), 1,
                   "one pubkey URL for a.org/web");
        tap_is_str(d->pubkeys ? d->pubkeys[0] : NULL, "https://k/a.asc", "  literal URL");
        tap_ok(!pod_discovery_prefix_matches("", "a.org"), "empty prefix never matches");
}

int main(void) {
        test_parse();
        test_entities();
        test_render();
        test_prefixes_and_collect();
        return tap_done();
}
