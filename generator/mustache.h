/*
 * The generator's template engine (SPEC §12): Mustache as in the official
 * spec (variables, sections, inverted sections, comments, partials, set
 * delimiters; no lambdas, no inheritance), rendering a jansson json_t tree.
 */
#ifndef KA_MUSTACHE_H
#define KA_MUSTACHE_H

#include <stddef.h>

#include <jansson.h>

/* A parsed template; immutable once parsed, so one may be rendered many
 * times, also from several threads at once. */
typedef struct ka_mustache_s ka_mustache_t;

/* Render flag: HTML-escape {{name}} output (& < > " ' become entities), as
 * the Mustache spec tests want. C code is rendered without it. */
#define KA_MUSTACHE_ESCAPE_HTML 0x1u

/* Sections and partials nested deeper than this are an error (parse time
 * for sections of one template, render time through partials). */
#define KA_MUSTACHE_MAX_DEPTH 1000

/*
 * Parses text (NUL-terminated; copied, so the caller keeps it). name only
 * labels errors ("<template>" when NULL). Returns NULL on error with a
 * one-line compiler-style message in errstr:
 *   "NAME:LINE:COL: error: unclosed section 'x'"
 * (LINE and COL 1-based, COL in bytes). Errors: unclosed tag, unclosed
 * section, close tag that does not match the open section, empty or invalid
 * tag name, malformed set-delimiter tag, inheritance tags ({{<x}}, {{$x}}).
 */
ka_mustache_t *ka_mustache_parse(const char *name, const char *text,
                                 char *errstr, size_t errstr_size);

/*
 * Renders tpl with ctx as the root of the context stack (NULL: empty).
 * partials maps a partial name to its template text (a JSON object of
 * strings, or NULL); partials are parsed on first use in each call, with
 * the default delimiters, and a missing one renders empty. flags: 0 or
 * KA_MUSTACHE_ESCAPE_HTML.
 *
 * Semantics (Mustache spec): a missing name renders empty and is a falsy
 * section; false, null and the empty array are falsy, everything else
 * (including 0 and "") truthy; an array section renders once per element,
 * any other truthy value is pushed on the context stack for one rendering;
 * dotted names resolve their first part through the stack and the rest
 * only inside the previous value; "." is the top of the stack. Values
 * render as: strings verbatim, integers in decimal, reals in the shortest
 * "%g" form that reads back to the same double (1.21, 2, 1e+300), true and
 * false as words, null empty, arrays and objects as compact JSON.
 * Number formatting assumes the "C" LC_NUMERIC locale.
 *
 * Returns the output, malloc'd and NUL-terminated (the caller frees it), or
 * NULL with errstr set: a partial that is not a string or does not parse,
 * nesting deeper than KA_MUSTACHE_MAX_DEPTH, out of memory.
 */
char *ka_mustache_render(const ka_mustache_t *tpl, const json_t *ctx,
                         const json_t *partials, unsigned flags, char *errstr,
                         size_t errstr_size);

/* Frees tpl; NULL is a no-op. */
void ka_mustache_destroy(ka_mustache_t *tpl);

#endif
