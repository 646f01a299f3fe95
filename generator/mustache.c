/*
 * Mustache templates for the generator (SPEC §12): a parser from template
 * text to a tree of nodes, and a renderer of that tree against a json_t
 * context, written to the official Mustache spec (minus lambdas).
 */
#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mustache.h"

/* Longest delimiter a set-delimiter tag may choose. */
#define MAX_DELIM 32

enum node_type {
        N_TEXT,     /* literal text: src[off, off + len) */
        N_VAR,      /* {{x}}, {{{x}}}, {{&x}} */
        N_SECTION,  /* {{#x}} ... {{/x}} */
        N_INVERTED, /* {{^x}} ... {{/x}} */
        N_PARTIAL,  /* {{>x}} */
        N_INDENT,   /* start of a source line: a partial's indentation */
};

struct node;

struct nodes {
        struct node *v;
        size_t n, cap;
};

struct node {
        enum node_type type;
        bool escape; /* N_VAR: {{x}} rather than {{{x}}} or {{&x}} */
        size_t off;  /* N_TEXT: start of the text; others: the tag */
        size_t len;  /* N_TEXT only */
        char *name;  /* the tag's name as written, trimmed */
        /* The name split at dots (pointing into one buffer, parts[0]);
         * nparts is 0 for the implicit iterator ".". */
        char **parts;
        size_t nparts;
        /* N_PARTIAL: the whitespace before a standalone partial tag, which
         * indents every line of the partial; NULL when inline. */
        char *indent;
        struct nodes kids; /* N_SECTION, N_INVERTED */
};

struct ka_mustache_s {
        char *name;
        char *src;
        size_t srclen;
        struct nodes root;
};

/*
 * Error messages
 */

/* Line and column (1-based, bytes) of offset off in src. */
static void position(const char *src, size_t off, size_t *line, size_t *col)
{
        size_t l = 1, bol = 0;

        for (size_t i = 0; i < off; i++) {
                if (src[i] == '\n') {
                        l++;
                        bol = i + 1;
                }
        }
        *line = l;
        *col = off - bol + 1;
}

/* "NAME:LINE:COL: error: MESSAGE" into errstr. */
__attribute__((format(printf, 6, 7))) static void
error_at(char *errstr, size_t errstr_size, const char *name, const char *src,
         size_t off, const char *fmt, ...)
{
        char msg[512];
        size_t line, col;
        va_list ap;

        if (!errstr || !errstr_size)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        position(src, off, &line, &col);
        snprintf(errstr, errstr_size, "%s:%zu:%zu: error: %s", name, line, col,
                 msg);
}

static void error_plain(char *errstr, size_t errstr_size, const char *msg)
{
        if (errstr && errstr_size)
                snprintf(errstr, errstr_size, "%s", msg);
}

/*
 * The node tree
 */

static void nodes_release(struct nodes *list);

static void node_release(struct node *node)
{
        free(node->name);
        if (node->parts)
                free(node->parts[0]);
        free(node->parts);
        free(node->indent);
        nodes_release(&node->kids);
}

static void nodes_release(struct nodes *list)
{
        for (size_t i = 0; i < list->n; i++)
                node_release(&list->v[i]);
        free(list->v);
        list->v = NULL;
        list->n = list->cap = 0;
}

/* Appends a zeroed node of type; NULL when out of memory. */
static struct node *nodes_add(struct nodes *list, enum node_type type,
                              size_t off)
{
        struct node *node;

        if (list->n == list->cap) {
                size_t cap = list->cap ? list->cap * 2 : 8;
                struct node *v = realloc(list->v, cap * sizeof(*v));

                if (!v)
                        return NULL;
                list->v = v;
                list->cap = cap;
        }
        node = &list->v[list->n++];
        memset(node, 0, sizeof(*node));
        node->type = type;
        node->off = off;
        return node;
}

void ka_mustache_destroy(ka_mustache_t *tpl)
{
        if (!tpl)
                return;
        nodes_release(&tpl->root);
        free(tpl->name);
        free(tpl->src);
        free(tpl);
}

/*
 * The parser
 */

/* An open section: its node, and the list its body goes into. */
struct frame {
        struct node *sec;
        struct nodes *list;
};

struct parser {
        ka_mustache_t *tpl;
        const char *src;
        size_t len;
        size_t pos;
        char otag[MAX_DELIM + 1], ctag[MAX_DELIM + 1];
        size_t olen, clen;
        /* The next node begins a source line of the template: it is
         * preceded by an N_INDENT node, so that a partial can indent its
         * lines without re-parsing (SPEC: partials, standalone). */
        bool line_start;
        struct frame stack[KA_MUSTACHE_MAX_DEPTH + 1];
        size_t depth; /* stack[0] is the template itself */
        char *errstr;
        size_t errstr_size;
};

__attribute__((format(printf, 3, 4))) static void
parse_error(struct parser *p, size_t off, const char *fmt, ...)
{
        char msg[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        error_at(p->errstr, p->errstr_size, p->tpl->name, p->src, off, "%s",
                 msg);
}

/* s[0, n) for an error message: control characters escaped so that the
 * message stays on one line, and cut to fit q (with "..."). */
static const char *quote(const char *s, size_t n, char *q, size_t qsize)
{
        size_t o = 0;

        assert(qsize >= 8);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                char esc[5];
                size_t k;

                if (c == '\n')
                        k = (size_t)snprintf(esc, sizeof(esc), "\\n");
                else if (c == '\t')
                        k = (size_t)snprintf(esc, sizeof(esc), "\\t");
                else if (c < 0x20 || c == 0x7f)
                        k = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
                else
                        k = (size_t)snprintf(esc, sizeof(esc), "%c", c);
                if (o + k + 4 > qsize) {
                        memcpy(q + o, "...", 3);
                        o += 3;
                        break;
                }
                memcpy(q + o, esc, k);
                o += k;
        }
        q[o] = '\0';
        return q;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

static struct nodes *cur_list(struct parser *p)
{
        return p->stack[p->depth].list;
}

static struct node *add(struct parser *p, enum node_type type, size_t off)
{
        struct node *node = nodes_add(cur_list(p), type, off);

        if (!node)
                parse_error(p, off, "out of memory");
        return node;
}

/* Emits the N_INDENT owed at the start of a line before anything else on
 * that line. */
static bool indent_if_line_start(struct parser *p, size_t off)
{
        if (!p->line_start)
                return true;
        p->line_start = false;
        return add(p, N_INDENT, off) != NULL;
}

/* Literal text src[from, to), which holds no newline but possibly at its
 * end. */
static bool add_text(struct parser *p, size_t from, size_t to)
{
        struct node *node;

        if (from == to)
                return true;
        if (!indent_if_line_start(p, from))
                return false;
        if (!(node = add(p, N_TEXT, from)))
                return false;
        node->len = to - from;
        if (p->src[to - 1] == '\n')
                p->line_start = true;
        return true;
}

/* Literal text src[from, to), split into lines; returns the start of the
 * last, unfinished line (the text a standalone tag may drop), or SIZE_MAX
 * when out of memory. */
static size_t add_lines(struct parser *p, size_t from, size_t to)
{
        const char *nl;

        while (from < to &&
               (nl = memchr(p->src + from, '\n', to - from)) != NULL) {
                size_t end = (size_t)(nl - p->src) + 1;

                if (!add_text(p, from, end))
                        return SIZE_MAX;
                from = end;
        }
        return from;
}

/* Finds needle in src[from, len); SIZE_MAX when absent. */
static size_t find(const struct parser *p, size_t from, const char *needle,
                   size_t nlen)
{
        const char *hit;

        if (from > p->len)
                return SIZE_MAX;
        hit = memmem(p->src + from, p->len - from, needle, nlen);
        return hit ? (size_t)(hit - p->src) : SIZE_MAX;
}

/* Copies the name src[from, to) trimmed into *out; false (with the error
 * set) when it is empty or holds whitespace. */
static bool take_name(struct parser *p, size_t tag, size_t from, size_t to,
                      char **out)
{
        while (from < to && is_space(p->src[from]))
                from++;
        while (to > from && is_space(p->src[to - 1]))
                to--;
        if (from == to) {
                parse_error(p, tag, "empty tag name");
                return false;
        }
        for (size_t i = from; i < to; i++) {
                if (is_space(p->src[i]) || p->src[i] == '\0') {
                        char q[80];

                        parse_error(
                                p, tag, "invalid tag name '%s'",
                                quote(p->src + from, to - from, q, sizeof(q)));
                        return false;
                }
        }
        if (!(*out = strndup(p->src + from, to - from))) {
                parse_error(p, tag, "out of memory");
                return false;
        }
        return true;
}

/* Splits node->name at dots into node->parts; "." is the implicit
 * iterator. Empty parts ("a..b", ".a") are errors. */
static bool split_name(struct parser *p, struct node *node)
{
        char *buf, *s;
        size_t n = 1;

        if (strcmp(node->name, ".") == 0)
                return true;
        for (s = node->name; *s; s++)
                n += *s == '.';
        buf = strdup(node->name);
        node->parts = calloc(n, sizeof(*node->parts));
        if (!buf || !node->parts) {
                free(buf);
                parse_error(p, node->off, "out of memory");
                return false;
        }
        node->nparts = n;
        n = 0;
        node->parts[n++] = buf;
        for (s = buf; *s; s++) {
                if (*s == '.') {
                        *s = '\0';
                        node->parts[n++] = s + 1;
                }
        }
        for (size_t i = 0; i < node->nparts; i++) {
                if (!*node->parts[i]) {
                        parse_error(p, node->off, "invalid tag name '%s'",
                                    node->name);
                        return false;
                }
        }
        return true;
}

/* {{=<% %>=}}: content src[from, to) must be two delimiters separated by
 * whitespace. */
static bool set_delims(struct parser *p, size_t tag, size_t from, size_t to)
{
        size_t b[2], e[2], i = from;

        for (int k = 0; k < 2; k++) {
                while (i < to && is_space(p->src[i]))
                        i++;
                b[k] = i;
                while (i < to && !is_space(p->src[i]))
                        i++;
                e[k] = i;
        }
        while (i < to && is_space(p->src[i]))
                i++;
        if (e[0] == b[0] || e[1] == b[1] || i != to ||
            memchr(p->src + b[0], '=', e[0] - b[0]) ||
            memchr(p->src + b[1], '=', e[1] - b[1])) {
                char q[80];

                parse_error(p, tag, "invalid set delimiter tag '%s'",
                            quote(p->src + from, to - from, q, sizeof(q)));
                return false;
        }
        if (e[0] - b[0] > MAX_DELIM || e[1] - b[1] > MAX_DELIM) {
                parse_error(p, tag, "delimiter longer than %d bytes",
                            MAX_DELIM);
                return false;
        }
        p->olen = e[0] - b[0];
        memcpy(p->otag, p->src + b[0], p->olen);
        p->otag[p->olen] = '\0';
        p->clen = e[1] - b[1];
        memcpy(p->ctag, p->src + b[1], p->clen);
        p->ctag[p->clen] = '\0';
        return true;
}

/* A tag found by the scanner. */
struct tag {
        size_t start;    /* its opening delimiter */
        size_t from, to; /* its content, after the sigil */
        size_t end;      /* just past its closing delimiter */
        char sigil;      /* '#', '^', '/', '!', '>', '&', '{', '=' or 0 */
};

static bool scan_tag(struct parser *p, size_t start, struct tag *t)
{
        char close[MAX_DELIM + 2];
        size_t i = start + p->olen, clen = p->clen;

        while (i < p->len && is_blank(p->src[i]))
                i++;
        t->start = start;
        t->sigil =
                i < p->len && strchr("#^/!>&{=<$", p->src[i]) ? p->src[i] : 0;
        if (t->sigil)
                i++;
        if (t->sigil == '{' || t->sigil == '=') {
                /* {{{x}}} and {{=a b=}} close with their sigil's partner
                 * right before the closing delimiter. */
                close[0] = t->sigil == '{' ? '}' : '=';
                memcpy(close + 1, p->ctag, p->clen);
                clen++;
        } else {
                memcpy(close, p->ctag, p->clen);
        }
        t->from = i;
        t->to = find(p, i, close, clen);
        if (t->to == SIZE_MAX) {
                parse_error(p, start, "unclosed tag (no '%.*s' after '%s')",
                            (int)clen, close, p->otag);
                return false;
        }
        t->end = t->to + clen;
        return true;
}

/* For a tag that may stand alone on its line: the end of that line (past
 * its newline) when only blanks follow the tag, else SIZE_MAX. */
static size_t standalone_end(const struct parser *p, const struct tag *t,
                             size_t line)
{
        size_t i;

        if (!t->sigil || !strchr("#^/!>=", t->sigil))
                return SIZE_MAX;
        /* The line must have begun in literal text, not inside a tag. */
        if (line != 0 && p->src[line - 1] != '\n')
                return SIZE_MAX;
        for (i = line; i < t->start; i++)
                if (!is_blank(p->src[i]))
                        return SIZE_MAX;
        for (i = t->end; i < p->len && is_blank(p->src[i]); i++)
                ;
        if (i == p->len)
                return i;
        if (p->src[i] == '\n')
                return i + 1;
        if (p->src[i] == '\r' && i + 1 < p->len && p->src[i + 1] == '\n')
                return i + 2;
        return SIZE_MAX;
}

static bool open_section(struct parser *p, const struct tag *t)
{
        struct node *node;

        if (p->depth == KA_MUSTACHE_MAX_DEPTH) {
                parse_error(p, t->start, "sections nested deeper than %d",
                            KA_MUSTACHE_MAX_DEPTH);
                return false;
        }
        node = add(p, t->sigil == '#' ? N_SECTION : N_INVERTED, t->start);
        if (!node || !take_name(p, t->start, t->from, t->to, &node->name) ||
            !split_name(p, node))
                return false;
        p->depth++;
        p->stack[p->depth].sec = node;
        p->stack[p->depth].list = &node->kids;
        return true;
}

static bool close_section(struct parser *p, const struct tag *t)
{
        char *name;
        const struct node *sec;
        bool ok;

        if (!take_name(p, t->start, t->from, t->to, &name))
                return false;
        sec = p->stack[p->depth].sec;
        if (!sec) {
                parse_error(p, t->start, "close tag '%s' without open section",
                            name);
                ok = false;
        } else if (strcmp(name, sec->name) != 0) {
                size_t line, col;

                position(p->src, sec->off, &line, &col);
                parse_error(p, t->start,
                            "close tag '%s' does not match section '%s' "
                            "opened at %zu:%zu",
                            name, sec->name, line, col);
                ok = false;
        } else {
                p->depth--;
                ok = true;
        }
        free(name);
        return ok;
}

/* Adds the node of tag t (after any text and indentation before it). */
static bool add_tag(struct parser *p, const struct tag *t, const char *indent,
                    size_t indent_len)
{
        struct node *node;

        switch (t->sigil) {
        case '!':
                return true;
        case '=':
                return set_delims(p, t->start, t->from, t->to);
        case '#':
        case '^':
                return open_section(p, t);
        case '/':
                return close_section(p, t);
        case '<':
        case '$':
                parse_error(p, t->start,
                            "unsupported tag '%c' (template inheritance)",
                            t->sigil);
                return false;
        case '>':
                if (!(node = add(p, N_PARTIAL, t->start)) ||
                    !take_name(p, t->start, t->from, t->to, &node->name))
                        return false;
                if (indent && !(node->indent = strndup(indent, indent_len))) {
                        parse_error(p, t->start, "out of memory");
                        return false;
                }
                return true;
        default:
                if (!(node = add(p, N_VAR, t->start)) ||
                    !take_name(p, t->start, t->from, t->to, &node->name) ||
                    !split_name(p, node))
                        return false;
                node->escape = !t->sigil;
                return true;
        }
}

static bool parse(struct parser *p)
{
        while (p->pos < p->len) {
                size_t start = find(p, p->pos, p->otag, p->olen);
                size_t line, end;
                struct tag t;

                if (start == SIZE_MAX)
                        start = p->len;
                line = add_lines(p, p->pos, start);
                if (line == SIZE_MAX)
                        return false;
                if (start == p->len)
                        return add_text(p, line, start);
                if (!scan_tag(p, start, &t))
                        return false;
                end = standalone_end(p, &t, line);
                if (end != SIZE_MAX) {
                        /* The whole line goes; a partial keeps its
                         * indentation. */
                        if (!add_tag(p, &t, p->src + line, start - line))
                                return false;
                        p->pos = end;
                        continue;
                }
                if (!add_text(p, line, start) ||
                    !indent_if_line_start(p, start) || !add_tag(p, &t, NULL, 0))
                        return false;
                p->pos = t.end;
        }
        return true;
}

ka_mustache_t *ka_mustache_parse(const char *name, const char *text,
                                 char *errstr, size_t errstr_size)
{
        struct parser *p = NULL;
        ka_mustache_t *tpl;
        bool ok = false;

        if (!name)
                name = "<template>";
        if (!text) {
                if (errstr && errstr_size)
                        snprintf(errstr, errstr_size,
                                 "%s: error: no template text", name);
                return NULL;
        }
        if (!(tpl = calloc(1, sizeof(*tpl))) || !(tpl->name = strdup(name)) ||
            !(tpl->src = strdup(text)) || !(p = calloc(1, sizeof(*p)))) {
                error_plain(errstr, errstr_size, "out of memory");
                goto out;
        }
        tpl->srclen = strlen(text);
        p->tpl = tpl;
        p->src = tpl->src;
        p->len = tpl->srclen;
        memcpy(p->otag, "{{", 3);
        memcpy(p->ctag, "}}", 3);
        p->olen = p->clen = 2;
        p->line_start = true;
        p->stack[0].list = &tpl->root;
        p->errstr = errstr;
        p->errstr_size = errstr_size;
        if (!parse(p))
                goto out;
        if (p->depth) {
                const struct node *sec = p->stack[p->depth].sec;

                parse_error(p, sec->off, "unclosed section '%s'", sec->name);
                goto out;
        }
        ok = true;
out:
        free(p);
        if (!ok) {
                ka_mustache_destroy(tpl);
                return NULL;
        }
        return tpl;
}

/*
 * The renderer
 */

struct buf {
        char *p;
        size_t len, cap;
        bool oom;
};

static bool buf_grow(struct buf *b, size_t n)
{
        size_t cap;
        char *np;

        if (b->oom)
                return false;
        if (b->cap - b->len > n)
                return true;
        cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n) {
                if (cap > SIZE_MAX / 2) {
                        b->oom = true;
                        return false;
                }
                cap *= 2;
        }
        if (!(np = realloc(b->p, cap))) {
                b->oom = true;
                return false;
        }
        b->p = np;
        b->cap = cap;
        return true;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
        if (n && buf_grow(b, n)) {
                memcpy(b->p + b->len, s, n);
                b->len += n;
        }
}

static void buf_add_html(struct buf *b, const char *s, size_t n)
{
        size_t run = 0;

        for (size_t i = 0; i < n; i++) {
                const char *ent;

                switch (s[i]) {
                case '&':
                        ent = "&amp;";
                        break;
                case '<':
                        ent = "&lt;";
                        break;
                case '>':
                        ent = "&gt;";
                        break;
                case '"':
                        ent = "&quot;";
                        break;
                case '\'':
                        ent = "&#39;";
                        break;
                default:
                        continue;
                }
                buf_add(b, s + run, i - run);
                buf_add(b, ent, strlen(ent));
                run = i + 1;
        }
        buf_add(b, s + run, n - run);
}

/* A partial parsed during this rendering. */
struct cached {
        const char *name; /* the partial's key in the partials object */
        ka_mustache_t *tpl;
};

struct render {
        struct buf out;
        const json_t **stack; /* the context stack, innermost last */
        size_t depth, cap;
        /* The indentation of standalone partials being rendered: the
         * current partial's indentation is indent.p[ind_from, indent.len)
         * (see render_nodes). */
        struct buf indent;
        const json_t *partials;
        struct cached *cache;
        size_t ncache, capcache;
        unsigned flags;
        unsigned nesting;
        bool failed; /* errstr is set */
        char *errstr;
        size_t errstr_size;
};

static bool push(struct render *r, const json_t *v)
{
        if (r->depth == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 16;
                const json_t **s = realloc(r->stack, cap * sizeof(*s));

                if (!s) {
                        r->out.oom = true;
                        return false;
                }
                r->stack = s;
                r->cap = cap;
        }
        r->stack[r->depth++] = v;
        return true;
}

static const json_t *lookup(const struct render *r, const struct node *node)
{
        const json_t *v = NULL;

        if (!node->nparts)
                return r->depth ? r->stack[r->depth - 1] : NULL;
        for (size_t i = r->depth; i-- > 0;) {
                if (json_is_object(r->stack[i]) &&
                    (v = json_object_get(r->stack[i], node->parts[0])))
                        break;
        }
        /* Later parts resolve only inside the value before them, never
         * through the stack again (spec: dotted names, broken chains). */
        for (size_t k = 1; v && k < node->nparts; k++)
                v = json_is_object(v) ? json_object_get(v, node->parts[k])
                                      : NULL;
        return v;
}

static bool truthy(const json_t *v)
{
        return v && !json_is_false(v) && !json_is_null(v) &&
               !(json_is_array(v) && json_array_size(v) == 0);
}

static void render_value(struct render *r, const json_t *v, bool escape)
{
        char num[64];
        const char *s = num;
        size_t n = 0;
        char *dump;

        if (!v)
                return; /* a missing name renders empty */
        switch (json_typeof(v)) {
        case JSON_STRING:
                s = json_string_value(v);
                n = json_string_length(v);
                break;
        case JSON_INTEGER:
                n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                                     json_integer_value(v));
                break;
        case JSON_REAL: {
                double d = json_real_value(v);

                /* The shortest %g that reads back as d: 1.21, not
                 * 1.2099999999999999645. */
                for (int prec = 1; prec <= 17; prec++) {
                        n = (size_t)snprintf(num, sizeof(num), "%.*g", prec, d);
                        if (strtod(num, NULL) == d)
                                break;
                }
                break;
        }
        case JSON_TRUE:
                s = "true";
                n = 4;
                break;
        case JSON_FALSE:
                s = "false";
                n = 5;
                break;
        case JSON_NULL:
                return;
        default:
                dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                if (!dump) {
                        r->out.oom = true;
                        return;
                }
                if (escape)
                        buf_add_html(&r->out, dump, strlen(dump));
                else
                        buf_add(&r->out, dump, strlen(dump));
                free(dump);
                return;
        }
        if (escape)
                buf_add_html(&r->out, s, n);
        else
                buf_add(&r->out, s, n);
}

__attribute__((format(printf, 4, 5))) static void
render_error(struct render *r, const ka_mustache_t *tpl,
             const struct node *node, const char *fmt, ...)
{
        char msg[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        error_at(r->errstr, r->errstr_size, tpl->name, tpl->src, node->off,
                 "%s", msg);
        r->failed = true;
}

/* The parsed partial called name, parsing it on first use; *tpl is NULL
 * when there is no such partial. */
static bool get_partial(struct render *r, const ka_mustache_t *caller,
                        const struct node *node, const ka_mustache_t **tpl)
{
        const char *key;
        const json_t *text;
        void *iter;
        char err[512];

        *tpl = NULL;
        for (size_t i = 0; i < r->ncache; i++) {
                if (strcmp(r->cache[i].name, node->name) == 0) {
                        *tpl = r->cache[i].tpl;
                        return true;
                }
        }
        if (!r->partials)
                return true;
        if (!json_is_object(r->partials)) {
                render_error(r, caller, node, "partials are not an object");
                return false;
        }
        /* The iterator gives the key's own storage, which lives as long as
         * the partials object and so as long as the cache. */
        iter = json_object_iter_at((json_t *)r->partials, node->name);
        if (!iter)
                return true;
        key = json_object_iter_key(iter);
        text = json_object_iter_value(iter);
        if (!json_is_string(text)) {
                render_error(r, caller, node, "partial '%s' is not a string",
                             node->name);
                return false;
        }
        if (r->ncache == r->capcache) {
                size_t cap = r->capcache ? r->capcache * 2 : 8;
                struct cached *c = realloc(r->cache, cap * sizeof(*c));

                if (!c) {
                        r->out.oom = true;
                        return false;
                }
                r->cache = c;
                r->capcache = cap;
        }
        if (!(*tpl = ka_mustache_parse(node->name, json_string_value(text), err,
                                       sizeof(err)))) {
                /* err names the partial and the place in it. */
                error_plain(r->errstr, r->errstr_size, err);
                r->failed = true;
                return false;
        }
        r->cache[r->ncache].name = key;
        r->cache[r->ncache].tpl = (ka_mustache_t *)*tpl;
        r->ncache++;
        return true;
}

static bool render_nodes(struct render *r, const ka_mustache_t *tpl,
                         const struct nodes *list, size_t ind_from);

/* Counts one more level of sections and partials being rendered; false
 * (with the error set) beyond KA_MUSTACHE_MAX_DEPTH, which bounds the
 * recursion of a partial that includes itself. */
static bool nest(struct render *r, const ka_mustache_t *tpl,
                 const struct node *node)
{
        if (r->nesting == KA_MUSTACHE_MAX_DEPTH) {
                render_error(r, tpl, node,
                             "sections and partials nested deeper than %d",
                             KA_MUSTACHE_MAX_DEPTH);
                return false;
        }
        r->nesting++;
        return true;
}

/* Renders the kids of a section or inverted section whose name resolved
 * to v, once per element when v is an array. */
static bool render_section(struct render *r, const ka_mustache_t *tpl,
                           const struct node *node, size_t ind_from)
{
        const json_t *v = lookup(r, node);
        bool ok = true;

        if (truthy(v) == (node->type == N_INVERTED))
                return true;
        if (!nest(r, tpl, node))
                return false;
        if (node->type == N_INVERTED) {
                ok = render_nodes(r, tpl, &node->kids, ind_from);
        } else if (json_is_array(v)) {
                for (size_t i = 0; ok && i < json_array_size(v); i++) {
                        if (!push(r, json_array_get(v, i))) {
                                ok = false;
                                break;
                        }
                        ok = render_nodes(r, tpl, &node->kids, ind_from);
                        r->depth--;
                }
        } else if (push(r, v)) {
                ok = render_nodes(r, tpl, &node->kids, ind_from);
                r->depth--;
        } else {
                ok = false;
        }
        r->nesting--;
        return ok;
}

static bool render_partial(struct render *r, const ka_mustache_t *tpl,
                           const struct node *node, size_t ind_from)
{
        const ka_mustache_t *part;
        size_t ind_len = r->indent.len;
        bool ok;

        if (!get_partial(r, tpl, node, &part))
                return false;
        if (!part)
                return true;
        if (!nest(r, tpl, node))
                return false;
        /* A standalone partial adds its indentation to that of the
         * partial it is in; an inline one is not indented at all. */
        if (node->indent)
                buf_add(&r->indent, node->indent, strlen(node->indent));
        else
                ind_from = ind_len;
        ok = !r->indent.oom && render_nodes(r, part, &part->root, ind_from);
        if (r->indent.oom)
                r->out.oom = true;
        r->indent.len = ind_len;
        r->nesting--;
        return ok;
}

/* Renders list; indent.p[ind_from, indent.len) is the indentation of the
 * partial list belongs to (empty at the top level). */
static bool render_nodes(struct render *r, const ka_mustache_t *tpl,
                         const struct nodes *list, size_t ind_from)
{
        bool ok = true;

        for (size_t i = 0; ok && i < list->n; i++) {
                const struct node *node = &list->v[i];

                switch (node->type) {
                case N_TEXT:
                        buf_add(&r->out, tpl->src + node->off, node->len);
                        break;
                case N_INDENT:
                        /* At the top level there is no indentation, and
                         * no buffer: NULL + 0 is undefined in C. */
                        if (r->indent.len > ind_from)
                                buf_add(&r->out, r->indent.p + ind_from,
                                        r->indent.len - ind_from);
                        break;
                case N_VAR:
                        render_value(r, lookup(r, node),
                                     node->escape && (r->flags &
                                                      KA_MUSTACHE_ESCAPE_HTML));
                        break;
                case N_SECTION:
                case N_INVERTED:
                        ok = render_section(r, tpl, node, ind_from);
                        break;
                case N_PARTIAL:
                        ok = render_partial(r, tpl, node, ind_from);
                        break;
                }
                if (r->out.oom)
                        ok = false;
        }
        return ok;
}

char *ka_mustache_render(const ka_mustache_t *tpl, const json_t *ctx,
                         const json_t *partials, unsigned flags, char *errstr,
                         size_t errstr_size)
{
        struct render r;
        char *out = NULL;

        if (!tpl) {
                error_plain(errstr, errstr_size, "no template");
                return NULL;
        }
        memset(&r, 0, sizeof(r));
        r.partials = partials;
        r.flags = flags;
        r.errstr = errstr;
        r.errstr_size = errstr_size;
        if (ctx && !push(&r, ctx))
                goto out;
        if (!render_nodes(&r, tpl, &tpl->root, 0))
                goto out;
        if (!buf_grow(&r.out, 0))
                goto out;
        r.out.p[r.out.len] = '\0';
        out = r.out.p;
        r.out.p = NULL;
out:
        if (!out && !r.failed)
                error_plain(errstr, errstr_size, "out of memory");
        for (size_t i = 0; i < r.ncache; i++)
                ka_mustache_destroy(r.cache[i].tpl);
        free(r.cache);
        free(r.stack);
        free(r.indent.p);
        free(r.out.p);
        return out;
}
