/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discovery-html.h"
#include "macro.h"
#include "path-util.h"

/* HTML's "ASCII whitespace": tab, LF, FF, CR, space. */
static bool html_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool ascii_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ascii_alnum(char c) {
        return ascii_alpha(c) || (c >= '0' && c <= '9');
}

static char ascii_lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive search for needle (lower case) in h[from..size). */
static size_t find_ci(const char *h, size_t size, size_t from, const char *needle) {
        size_t n = strlen(needle);

        for (size_t i = from; i + n <= size; i++) {
                size_t j = 0;
                while (j < n && ascii_lower(h[i + j]) == needle[j])
                        j++;
                if (j == n)
                        return i;
        }
        return SIZE_MAX;
}

struct pod_discovery_metas *pod_discovery_metas_free(struct pod_discovery_metas *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n; i++) {
                free(m->items[i].prefix);
                free(m->items[i].value);
        }
        free(m->items);
        free(m);
        return NULL;
}

static void put_utf8(char **o, uint32_t cp) {
        char *p = *o;

        if (cp < 0x80)
                *p++ = (char)cp;
        else if (cp < 0x800) {
                *p++ = (char)(0xc0 | (cp >> 6));
                *p++ = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                *p++ = (char)(0xe0 | (cp >> 12));
                *p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *p++ = (char)(0x80 | (cp & 0x3f));
        } else {
                *p++ = (char)(0xf0 | (cp >> 18));
                *p++ = (char)(0x80 | ((cp >> 12) & 0x3f));
                *p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *p++ = (char)(0x80 | (cp & 0x3f));
        }
        *o = p;
}

static const struct {
        const char *name;
        uint32_t cp;
        bool legacy; /* may appear without ';' (HTML's legacy references) */
} named_refs[] = {
        { "amp", '&', true },     { "lt", '<', true },      { "gt", '>', true },
        { "quot", '"', true },    { "apos", '\'', false },  { "nbsp", 0xa0, true },
        { "sol", '/', false },    { "colon", ':', false },  { "lbrace", '{', false },
        { "rbrace", '}', false }, { "equals", '=', false }, { "quest", '?', false },
};

/* Decodes one reference starting at s[i] == '&'.  Returns the number of input bytes used
 * (0: not a reference, emit '&' literally). */
static size_t decode_ref(const char *s, size_t n, size_t i, char **o) {
        size_t j = i + 1;

        if (j < n && s[j] == '#') {
                bool hex = false;
                uint32_t cp = 0;
                size_t digits = 0;

                j++;
                if (j < n && (s[j] == 'x' || s[j] == 'X')) {
                        hex = true;
                        j++;
                }
                for (; j < n; j++, digits++) {
                        char c = s[j];
                        uint32_t d;

                        if (c >= '0' && c <= '9')
                                d = (uint32_t)(c - '0');
                        else if (hex && ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f')
                                d = (uint32_t)(ascii_lower(c) - 'a' + 10);
                        else
                                break;
                        /* Saturate: anything above U+10FFFF is invalid anyway. */
                        if (cp <= 0x10ffff)
                                cp = cp * (hex ? 16 : 10) + d;
                }
                if (digits == 0)
                        return 0;
                if (j < n && s[j] == ';')
                        j++;
                if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        cp = 0xfffd;
                put_utf8(o, cp);
                return j - i;
        }

        for (size_t k = 0; k < ELEMENTSOF(named_refs); k++) {
                size_t len = strlen(named_refs[k].name);

                if (j + len > n || memcmp(s + j, named_refs[k].name, len) != 0)
                        continue;
                if (j + len < n && s[j + len] == ';') {
                        put_utf8(o, named_refs[k].cp);
                        return len + 2;
                }
                /* Without ';' only the legacy ones, and (in attribute values) not when an
                 * alphanumeric or '=' follows: "?a=1&ampx=2" stays as written. */
                if (!named_refs[k].legacy)
                        continue;
                if (j + len < n && (ascii_alnum(s[j + len]) || s[j + len] == '='))
                        continue;
                put_utf8(o, named_refs[k].cp);
                return len + 1;
        }
        return 0;
}

char *pod_html_decode_entities(const char *s, size_t n) {
        char *out, *o;

        /* A reference never decodes to more bytes than it occupies ("&#1;" is 4 bytes and
         * U+FFFD is 3; the shortest reference for a 4-byte code point is "&#65536" at 7). */
        out = malloc(n + 1);
        if (!out)
                return NULL;
        o = out;
        for (size_t i = 0; i < n;) {
                size_t used;

                if (s[i] == '&' && (used = decode_ref(s, n, i, &o)) > 0) {
                        i += used;
                        continue;
                }
                *o++ = s[i++];
        }
        *o = 0;
        return out;
}

struct attr {
        const char *v;
        size_t n;
        bool set;
};

/* Strict form for what we hand on: no control characters, no NUL, no whitespace inside. */
static bool word_clean(const char *s) {
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ' ')
                        return false;
        return true;
}

static int add_meta(struct pod_discovery_metas *m, const struct attr *name,
                    const struct attr *content) {
        _cleanup_free_ char *n = NULL, *c = NULL;
        enum pod_discovery_kind kind;
        struct pod_discovery_meta *items;
        char *start, *end, *split, *value;

        if (m->n >= POD_DISCOVERY_METAS_MAX)
                return 0;

        n = pod_html_decode_entities(name->v, name->n);
        c = pod_html_decode_entities(content->v, content->n);
        if (!n || !c)
                return -ENOMEM;
        /* A decoded NUL would silently cut the string: treat the tag as garbage. */
        if (memchr(name->v, 0, name->n) || memchr(content->v, 0, content->n))
                return 0;

        /* Meta names are ASCII case-insensitive; surrounding whitespace is not part of it. */
        start = n;
        while (html_space(*start))
                start++;
        end = start + strlen(start);
        while (end > start && html_space(end[-1]))
                *--end = 0;
        if (strcasecmp(start, "ac-discovery") == 0)
                kind = POD_DISCOVERY_IMAGE;
        else if (strcasecmp(start, "ac-discovery-pubkeys") == 0)
                kind = POD_DISCOVERY_PUBKEYS;
        else
                return 0;

        start = c;
        while (html_space(*start))
                start++;
        end = start + strlen(start);
        while (end > start && html_space(end[-1]))
                *--end = 0;
        split = start;
        while (*split && !html_space(*split))
                split++;
        if (!*split)
                return 0; /* no "PREFIX VALUE" */
        *split = 0;
        value = split + 1;
        while (html_space(*value))
                value++;
        if (!*start || !*value || !word_clean(start) || !word_clean(value))
                return 0;

        items = reallocarray(m->items, m->n + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        m->items = items;
        items[m->n] = (struct pod_discovery_meta){
                .kind = kind,
                .prefix = strdup(start),
                .value = strdup(value),
        };
        if (!items[m->n].prefix || !items[m->n].value) {
                free(items[m->n].prefix);
                free(items[m->n].value);
                return -ENOMEM;
        }
        m->n++;
        return 0;
}

/* Parses the attributes of a start tag beginning at html[*pos] (just after the tag name).
 * Keeps the first "name" and "content" attribute (HTML: duplicates are dropped).  Returns
 * false if the document ends inside the tag (HTML drops such a tag). */
static bool parse_attributes(const char *html, size_t size, size_t *pos, struct attr *name,
                             struct attr *content) {
        size_t p = *pos;

        for (;;) {
                size_t an, as;
                struct attr val = {};

                while (p < size && (html_space(html[p]) || html[p] == '/'))
                        p++;
                if (p >= size)
                        return false;
                if (html[p] == '>') {
                        *pos = p + 1;
                        return true;
                }

                /* Attribute name: the first character may be anything but the delimiters
                 * consumed above (even '='), then up to whitespace, '/', '>' or '='. */
                as = p++;
                while (p < size && !html_space(html[p]) && html[p] != '/' && html[p] != '>' &&
                       html[p] != '=')
                        p++;
                an = p - as;

                while (p < size && html_space(html[p]))
                        p++;
                if (p < size && html[p] == '=') {
                        p++;
                        while (p < size && html_space(html[p]))
                                p++;
                        if (p >= size)
                                return false;
                        if (html[p] == '"' || html[p] == '\'') {
                                const char *q = memchr(html + p + 1, html[p], size - p - 1);
                                if (!q)
                                        return false;
                                val = (struct attr){ html + p + 1, (size_t)(q - html) - p - 1,
                                                     true };
                                p = (size_t)(q - html) + 1;
                        } else {
                                size_t vs = p;
                                while (p < size && !html_space(html[p]) && html[p] != '>')
                                        p++;
                                val = (struct attr){ html + vs, p - vs, true };
                        }
                } else
                        val = (struct attr){ "", 0, true };

                if (an == 4 && strncasecmp(html + as, "name", 4) == 0 && !name->set)
                        *name = val;
                else if (an == 7 && strncasecmp(html + as, "content", 7) == 0 && !content->set)
                        *content = val;
        }
}

/* Elements whose content is raw text: a "<meta" in there is not a tag. */
static const char *const raw_text_elements[] = { "script", "style", "textarea", "title", "xmp" };

int pod_discovery_html_parse(const char *html, size_t size, struct pod_discovery_metas **ret) {
        _cleanup_(pod_discovery_metas_freep) struct pod_discovery_metas *m = NULL;
        size_t pos = 0;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;

        while (pos < size) {
                const char *lt = memchr(html + pos, '<', size - pos);
                char tag[16];
                size_t p, tn = 0;
                struct attr name = {}, content = {};

                if (!lt)
                        break;
                p = (size_t)(lt - html) + 1;
                if (p >= size)
                        break;

                if (size - p >= 3 && memcmp(html + p, "!--", 3) == 0) {
                        /* Comment: up to "-->"; "<!-->" and "<!--->" are empty comments. */
                        size_t e;

                        if (size - p >= 4 && html[p + 3] == '>') {
                                pos = p + 4;
                                continue;
                        }
                        if (size - p >= 5 && html[p + 3] == '-' && html[p + 4] == '>') {
                                pos = p + 5;
                                continue;
                        }
                        e = find_ci(html, size, p + 3, "-->");
                        if (e == SIZE_MAX)
                                break; /* unterminated comment runs to the end */
                        pos = e + 3;
                        continue;
                }
                if (html[p] == '!' || html[p] == '?' || html[p] == '/') {
                        /* Doctype, CDATA, bogus comment, end tag: skip to '>'. */
                        const char *gt = memchr(html + p, '>', size - p);
                        if (!gt)
                                break;
                        pos = (size_t)(gt - html) + 1;
                        continue;
                }
                if (!ascii_alpha(html[p])) {
                        pos = p; /* "a < b": text */
                        continue;
                }

                while (p < size && !html_space(html[p]) && html[p] != '/' && html[p] != '>') {
                        if (tn < sizeof(tag) - 1)
                                tag[tn] = ascii_lower(html[p]);
                        tn++;
                        p++;
                }
                if (tn >= sizeof(tag))
                        tn = 0; /* long names are never ours */
                tag[tn] = 0;

                if (!parse_attributes(html, size, &p, &name, &content))
                        break;
                pos = p;

                if (streq(tag, "meta") && name.set && content.set) {
                        r = add_meta(m, &name, &content);
                        if (r < 0)
                                return r;
                        continue;
                }

                for (size_t i = 0; i < ELEMENTSOF(raw_text_elements); i++) {
                        char close[24];
                        size_t e;

                        if (!streq(tag, raw_text_elements[i]))
                                continue;
                        (void)snprintf(close, sizeof(close), "</%s", tag);
                        /* The closing tag must be followed by a delimiter. */
                        for (e = pos;; e++) {
                                e = find_ci(html, size, e, close);
                                if (e == SIZE_MAX)
                                        break;
                                if (e + strlen(close) >= size)
                                        break;
                                if (html_space(html[e + strlen(close)]) ||
                                    html[e + strlen(close)] == '/' ||
                                    html[e + strlen(close)] == '>')
                                        break;
                        }
                        pos = e == SIZE_MAX ? size : e;
                        break;
                }
        }

        *ret = TAKE_PTR(m);
        return 0;
}

bool pod_discovery_prefix_matches(const char *prefix, const char *name) {
        return prefix && name && *prefix && string_has_prefix(name, prefix);
}

static bool url_unreserved(char c) {
        return ascii_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+';
}

static int put_escaped(FILE *f, const char *v) {
        for (; *v; v++) {
                if (url_unreserved(*v)) {
                        if (fputc(*v, f) == EOF)
                                return -ENOMEM;
                } else if (fprintf(f, "%%%02X", (unsigned char)*v) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int pod_discovery_render(const char *tmpl, const char *name,
                         const struct pod_discovery_label *labels, size_t n_labels, const char *ext,
                         char **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t bufsize = 0;
        int r;

        if (!ac_identifier_valid(name))
                return -EINVAL;

        f = open_memstream(&buf, &bufsize);
        if (!f)
                return -ENOMEM;

        for (const char *c = tmpl; *c;) {
                const char *close, *value = NULL;
                bool escape = true;
                size_t kn;

                if (*c != '{') {
                        if (fputc(*c++, f) == EOF)
                                return -ENOMEM;
                        continue;
                }
                close = strchr(c + 1, '}');
                if (!close)
                        return -ENOENT;
                kn = (size_t)(close - c - 1);

                if (kn == 4 && strneq(c + 1, "name", 4)) {
                        value = name;
                        escape = false;
                } else if (kn == 3 && strneq(c + 1, "ext", 3)) {
                        value = ext;
                        escape = false;
                } else {
                        for (size_t i = 0; i < n_labels; i++)
                                if (strlen(labels[i].name) == kn &&
                                    strneq(c + 1, labels[i].name, kn)) {
                                        value = labels[i].value;
                                        break;
                                }
                        if (!value && kn == 7 && strneq(c + 1, "version", 7))
                                value = "latest";
                }
                if (!value)
                        return -ENOENT;

                if (escape) {
                        r = put_escaped(f, value);
                        if (r < 0)
                                return r;
                } else if (fputs(value, f) == EOF)
                        return -ENOMEM;
                c = close + 1;
        }

        if (fflush(f) != 0)
                return -ENOMEM;
        f = (fclose(f), NULL);
        *ret = TAKE_PTR(buf);
        return 0;
}
