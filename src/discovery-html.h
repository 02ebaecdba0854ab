/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* appc meta discovery, the markup half (spec section 6.2 steps 3 and 4): pulls
 * <meta name="ac-discovery" content="PREFIX TEMPLATE"> and
 * <meta name="ac-discovery-pubkeys" content="PREFIX URL"> out of arbitrary real-world HTML,
 * and renders image/signature URL templates for a name and its labels.
 * Owns: a tolerant tokenizer (attribute order, quoting, case, comments, raw-text elements,
 * character references) and template rendering.  Does not own: HTTP, the prefix walk
 * (discovery.h), or limiting the input size (the caller caps what it downloads). */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum pod_discovery_kind {
        POD_DISCOVERY_IMAGE,   /* ac-discovery: PREFIX TEMPLATE */
        POD_DISCOVERY_PUBKEYS, /* ac-discovery-pubkeys: PREFIX URL */
        _POD_DISCOVERY_KIND_MAX,
        _POD_DISCOVERY_KIND_INVALID = -EINVAL,
};

struct pod_discovery_meta {
        enum pod_discovery_kind kind;
        char *prefix; /* first word of content, entities decoded */
        char *value;  /* rest of content, trimmed: a template or a pubkey URL */
};

struct pod_discovery_metas {
        struct pod_discovery_meta *items;
        size_t n;
};

/* At most this many tags are kept per page; further ones are ignored (a page has a handful). */
#define POD_DISCOVERY_METAS_MAX 256

struct pod_discovery_metas *pod_discovery_metas_free(struct pod_discovery_metas *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pod_discovery_metas *, pod_discovery_metas_free)

/* Parses html[0..size) (need not be NUL-terminated; NUL bytes are data) and returns every
 * well-formed ac-discovery / ac-discovery-pubkeys meta tag in document order.  Tags inside
 * comments, <script>, <style>, <textarea> and <title> are ignored; <meta> anywhere else
 * counts (pages put it outside <head> too).  A content without a space after the prefix is
 * skipped.  Never fails on markup; only -ENOMEM. */
int pod_discovery_html_parse(const char *html, size_t size, struct pod_discovery_metas **ret);

/* Decodes HTML character references in s[0..n) (&amp; &lt; &gt; &quot; &apos; &nbsp;
 * &#NN; &#xHH;, with or without the ';' for the numeric and the five XML ones); unknown
 * references stay literal; invalid code points become U+FFFD.  Returns a new string. */
char *pod_html_decode_entities(const char *s, size_t n);

struct pod_discovery_label {
        const char *name; /* "version", "os", "arch", ... */
        const char *value;
};

/* Renders an ac-discovery template (spec section 6.2 step 4) in one pass: {name} -> name,
 * {ext} -> ext ("aci" or "aci.asc"), {LABEL} -> the label's value, {version} -> "latest"
 * when no version label is given.  Label values are percent-encoded (except unreserved
 * characters and '+'); the name is an AC Identifier and inserted as is.  Fails with
 * -ENOENT when a {...} is left unfilled (the caller drops that template), -EINVAL on an
 * invalid name. */
int pod_discovery_render(const char *tmpl, const char *name,
                         const struct pod_discovery_label *labels, size_t n_labels, const char *ext,
                         char **ret);

/* True if PREFIX from a meta tag applies to name: plain string prefix (spec 6.2 step 3). */
bool pod_discovery_prefix_matches(const char *prefix, const char *name);
