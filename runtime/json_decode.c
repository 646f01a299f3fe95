/*
 * JSON source messages, read in one pass that allocates nothing per byte
 * of input: the whole text is checked as JSON (RFC 8259, with jansson's
 * limits: strings valid UTF-8 without NUL, numbers within double range,
 * nesting up to 2048), and the members of the top-level object that name
 * the source's fields (and array fields, into the row's arrays) are
 * converted as they go by. Parsing into a tree
 * (jansson) left most of a 4 MB message's 27 MB of small allocations in
 * the heap after it was freed.
 */
#include "json_decode.h"
#include "avro_wire.h"
#include "row.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Values nested deeper than this are an error (jansson's limit). */
#define MAX_DEPTH 2048

/* What a value is, as far as a field is concerned (ARRAY: what an array
 * field may hold, null or an array of numbers and nulls that fits). */
typedef enum kind_e { ABSENT, NUMBER, NULLV, ARRAY, OTHER } kind_t;

/* A member the source wants: a field, an array field, the time field. */
typedef struct want_s {
        const char *name;
        size_t len;
        ptrdiff_t field; /* index in src->fields, or -1 */
        ptrdiff_t array; /* index in src->arrays, or -1 */
        bool time;
        kind_t state; /* of the last member of that name */
        double value;
} want_t;

typedef struct scan_s {
        const uint8_t *p, *end;
} scan_t;

static bool at_end(const scan_t *s)
{
        return s->p == s->end;
}

static void skip_ws(scan_t *s)
{
        while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
                                 *s->p == '\n' || *s->p == '\r'))
                s->p++;
}

/* KA_ERR_TRUNCATED at the end of the text, else KA_ERR_INVALID: the text
 * is cut short exactly when it is a prefix of some valid text. */
static ka_err_t bad(const scan_t *s)
{
        return at_end(s) ? KA_ERR_TRUNCATED : KA_ERR_INVALID;
}

/* Four hex digits after "\u" into *cp. */
static ka_err_t scan_hex4(scan_t *s, uint32_t *cp)
{
        *cp = 0;
        for (int i = 0; i < 4; i++) {
                int h;

                if (at_end(s))
                        return KA_ERR_TRUNCATED;
                if ((h = ka_hex_digit(*s->p)) < 0)
                        return KA_ERR_INVALID;
                *cp = *cp << 4 | (uint32_t)h;
                s->p++;
        }
        return KA_OK;
}

/* One escape after the backslash into *cp: no NUL, surrogates paired. */
static ka_err_t scan_escape(scan_t *s, uint32_t *cp)
{
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *e;
        uint32_t lo;
        ka_err_t err;

        if (at_end(s))
                return KA_ERR_TRUNCATED;
        if (*s->p != 'u') {
                e = *s->p ? strchr(from, *s->p) : NULL;
                if (!e)
                        return KA_ERR_INVALID;
                s->p++;
                *cp = (uint8_t)to[e - from];
                return KA_OK;
        }
        s->p++;
        if ((err = scan_hex4(s, cp)))
                return err;
        if (*cp == 0 || (*cp >= 0xdc00 && *cp <= 0xdfff))
                return KA_ERR_INVALID;
        if (*cp < 0xd800 || *cp > 0xdbff)
                return KA_OK;
        /* A high surrogate: its low one must follow at once. */
        if (at_end(s))
                return KA_ERR_TRUNCATED;
        if (*s->p++ != '\\')
                return KA_ERR_INVALID;
        if (at_end(s))
                return KA_ERR_TRUNCATED;
        if (*s->p++ != 'u')
                return KA_ERR_INVALID;
        if ((err = scan_hex4(s, &lo)))
                return err;
        if (lo < 0xdc00 || lo > 0xdfff)
                return KA_ERR_INVALID;
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
        return KA_OK;
}

/* One UTF-8 sequence starting at a byte >= 0x80: no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
static ka_err_t scan_utf8(scan_t *s)
{
        uint8_t c = *s->p++;
        uint32_t cp, min;
        int n;

        if (c >= 0xc2 && c <= 0xdf) {
                n = 1;
                cp = c & 0x1fu;
                min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 2;
                cp = c & 0x0fu;
                min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 3;
                cp = c & 0x07u;
                min = 0x10000;
        } else {
                return KA_ERR_INVALID;
        }
        for (int i = 0; i < n; i++) {
                if (at_end(s))
                        return KA_ERR_TRUNCATED;
                if ((*s->p & 0xc0) != 0x80)
                        return KA_ERR_INVALID;
                cp = cp << 6 | (*s->p++ & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return KA_ERR_INVALID;
        return KA_OK;
}

/* Appends code point cp to out[0..cap) as UTF-8 at *n (counting what
 * does not fit, so that a longer key is known not to match). */
static void put_utf8(uint8_t *out, size_t cap, size_t *n, uint32_t cp)
{
        uint8_t b[4];
        size_t k;

        if (cp < 0x80) {
                b[0] = (uint8_t)cp;
                k = 1;
        } else if (cp < 0x800) {
                b[0] = (uint8_t)(0xc0 | cp >> 6);
                b[1] = (uint8_t)(0x80 | (cp & 0x3f));
                k = 2;
        } else if (cp < 0x10000) {
                b[0] = (uint8_t)(0xe0 | cp >> 12);
                b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
                b[2] = (uint8_t)(0x80 | (cp & 0x3f));
                k = 3;
        } else {
                b[0] = (uint8_t)(0xf0 | cp >> 18);
                b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
                b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
                b[3] = (uint8_t)(0x80 | (cp & 0x3f));
                k = 4;
        }
        for (size_t i = 0; i < k; i++, (*n)++)
                if (*n < cap)
                        out[*n] = b[i];
}

/*
 * A string at s->p (on its opening quote). When out is not NULL, its
 * decoded bytes go to out[0..cap) and their count (also beyond cap) to
 * *n.
 */
static ka_err_t scan_string(scan_t *s, uint8_t *out, size_t cap, size_t *n)
{
        size_t len = 0;
        ka_err_t err;

        s->p++;
        for (;;) {
                const uint8_t *run = s->p;
                uint32_t cp;

                /* The plain ASCII run first, in one piece. */
                while (s->p < s->end && *s->p >= 0x20 && *s->p < 0x80 &&
                       *s->p != '"' && *s->p != '\\')
                        s->p++;
                if (out)
                        for (const uint8_t *c = run; c < s->p; c++, len++)
                                if (len < cap)
                                        out[len] = *c;
                if (at_end(s))
                        return KA_ERR_TRUNCATED;
                if (*s->p == '"') {
                        s->p++;
                        if (n)
                                *n = len;
                        return KA_OK;
                }
                if (*s->p < 0x20)
                        return KA_ERR_INVALID;
                if (*s->p == '\\') {
                        s->p++;
                        if ((err = scan_escape(s, &cp)))
                                return err;
                        if (out)
                                put_utf8(out, cap, &len, cp);
                        continue;
                }
                run = s->p;
                if ((err = scan_utf8(s)))
                        return err;
                if (out)
                        for (const uint8_t *c = run; c < s->p; c++, len++)
                                if (len < cap)
                                        out[len] = *c;
        }
}

static bool is_digit(uint8_t c)
{
        return c >= '0' && c <= '9';
}

/* Digits, at least one. */
static ka_err_t scan_digits(scan_t *s)
{
        if (at_end(s))
                return KA_ERR_TRUNCATED;
        if (!is_digit(*s->p))
                return KA_ERR_INVALID;
        while (s->p < s->end && is_digit(*s->p))
                s->p++;
        return KA_OK;
}

/* The characters of a number. */
static ka_err_t scan_number_text(scan_t *s)
{
        ka_err_t err;

        if (*s->p == '-')
                s->p++;
        if (at_end(s))
                return KA_ERR_TRUNCATED;
        if (*s->p == '0')
                s->p++;
        else if ((err = scan_digits(s)))
                return err;
        if (s->p < s->end && *s->p == '.') {
                s->p++;
                if ((err = scan_digits(s)))
                        return err;
        }
        if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
                s->p++;
                if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
                        s->p++;
                if ((err = scan_digits(s)))
                        return err;
        }
        return KA_OK;
}

/* A number, as the nearest double: KA_ERR_OVERFLOW beyond double range. */
static ka_err_t scan_number(scan_t *s, double *value)
{
        const uint8_t *start = s->p;
        char *endp;
        ka_err_t err;

        if ((err = scan_number_text(s)))
                return err;
        /* strtod needs a byte after the number that ends it, inside the
         * text: then it reads nothing past it. A number ends where
         * something else begins. */
        if (at_end(s))
                return KA_ERR_TRUNCATED;
        if (!(*s->p == ',' || *s->p == '}' || *s->p == ']' || *s->p == ' ' ||
              *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
                return KA_ERR_INVALID;
        errno = 0;
        *value = strtod((const char *)start, &endp);
        if ((const uint8_t *)endp != s->p)
                return KA_ERR_INVALID;
        if (errno == ERANGE && isinf(*value))
                return KA_ERR_OVERFLOW;
        return KA_OK;
}

static ka_err_t scan_word(scan_t *s, const char *word)
{
        for (; *word; word++, s->p++) {
                if (at_end(s))
                        return KA_ERR_TRUNCATED;
                if (*s->p != (uint8_t)*word)
                        return KA_ERR_INVALID;
        }
        return KA_OK;
}

/* A scalar value (not an object or an array); *kind says which. */
static ka_err_t scan_scalar(scan_t *s, kind_t *kind, double *value)
{
        switch (*s->p) {
        case '"':
                *kind = OTHER;
                return scan_string(s, NULL, 0, NULL);
        case 't':
                *kind = OTHER;
                return scan_word(s, "true");
        case 'f':
                *kind = OTHER;
                return scan_word(s, "false");
        case 'n':
                *kind = NULLV;
                return scan_word(s, "null");
        default:
                *kind = NUMBER;
                if (*s->p == '-' || is_digit(*s->p))
                        return scan_number(s, value);
                return KA_ERR_INVALID;
        }
}

/* `"key" :` at s->p (after whitespace), the key decoded into out. */
static ka_err_t scan_key(scan_t *s, uint8_t *out, size_t cap, size_t *n)
{
        ka_err_t err;

        skip_ws(s);
        if (at_end(s) || *s->p != '"')
                return bad(s);
        if ((err = scan_string(s, out, cap, n)))
                return err;
        skip_ws(s);
        if (at_end(s) || *s->p != ':')
                return bad(s);
        s->p++;
        return KA_OK;
}

/*
 * Checks one value at nesting depth depth (the top-level value is at 1),
 * with everything inside it, without recursion. *kind is that of the
 * value itself (OTHER for objects and arrays).
 */
static ka_err_t scan_value(scan_t *s, int depth, kind_t *kind, double *value)
{
        uint8_t open[MAX_DEPTH + 1]; /* '{' or '[' of each level inside */
        int top = 0;
        ka_err_t err;

        for (;;) {
                /* A value is expected, at depth + top. */
                if (depth + top > MAX_DEPTH)
                        return KA_ERR_INVALID;
                skip_ws(s);
                if (at_end(s))
                        return KA_ERR_TRUNCATED;
                if (*s->p == '{' || *s->p == '[') {
                        uint8_t close = *s->p == '{' ? '}' : ']';

                        open[top++] = *s->p++;
                        if (top == 1)
                                *kind = OTHER;
                        skip_ws(s);
                        if (at_end(s))
                                return KA_ERR_TRUNCATED;
                        if (*s->p == close) {
                                s->p++;
                                top--;
                        } else {
                                if (open[top - 1] == '{' &&
                                    (err = scan_key(s, NULL, 0, NULL)))
                                        return err;
                                continue;
                        }
                } else {
                        kind_t k;
                        double v = 0;

                        if ((err = scan_scalar(s, &k, &v)))
                                return err;
                        if (top == 0) {
                                *kind = k;
                                *value = v;
                        }
                }
                /* After a value: close what ends here, or go on. */
                for (;;) {
                        if (top == 0)
                                return KA_OK;
                        skip_ws(s);
                        if (at_end(s))
                                return KA_ERR_TRUNCATED;
                        if (*s->p == ',') {
                                s->p++;
                                if (open[top - 1] == '{' &&
                                    (err = scan_key(s, NULL, 0, NULL)))
                                        return err;
                                break;
                        }
                        if (*s->p != (open[top - 1] == '{' ? '}' : ']'))
                                return KA_ERR_INVALID;
                        s->p++;
                        top--;
                }
        }
}

static int want_cmp(const void *a, const void *b)
{
        const want_t *x = a, *y = b;
        size_t n = x->len < y->len ? x->len : y->len;
        int c = memcmp(x->name, y->name, n);

        return c ? c : (x->len > y->len) - (x->len < y->len);
}

/*
 * The value of an array field's member at s->p, into arr: null (an empty
 * array) or an array of numbers and nulls (NaN). *kind is ARRAY for those,
 * OTHER for any other value or an array of more than KA_ROW_MAX_ARRAY
 * elements: that is an error only once the whole text is known to be JSON
 * and the member the last of its name, as for a scalar field.
 */
static ka_err_t scan_array(scan_t *s, ka_row_array_t *arr, kind_t *kind)
{
        bool fits = true;
        ka_err_t err;
        kind_t k;
        double v = 0;

        arr->len = 0;
        skip_ws(s);
        if (at_end(s))
                return KA_ERR_TRUNCATED;
        if (*s->p != '[') {
                err = scan_value(s, 2, &k, &v);
                *kind = k == NULLV ? ARRAY : OTHER;
                return err;
        }
        s->p++;
        skip_ws(s);
        if (at_end(s))
                return KA_ERR_TRUNCATED;
        if (*s->p == ']') {
                s->p++;
                *kind = ARRAY;
                return KA_OK;
        }
        for (;;) {
                /* An element, at depth 3. */
                skip_ws(s);
                if (at_end(s))
                        return KA_ERR_TRUNCATED;
                if (*s->p == '{' || *s->p == '[')
                        err = scan_value(s, 3, &k, &v);
                else
                        err = scan_scalar(s, &k, &v);
                if (err)
                        return err;
                if (k == OTHER || arr->len == KA_ROW_MAX_ARRAY)
                        fits = false;
                if (fits) {
                        if ((err = ka_row_array_reserve(arr, arr->len + 1)))
                                return err;
                        arr->vals[arr->len++] = k == NULLV ? NAN : v;
                }
                skip_ws(s);
                if (at_end(s))
                        return KA_ERR_TRUNCATED;
                if (*s->p == ']') {
                        s->p++;
                        *kind = fits ? ARRAY : OTHER;
                        return KA_OK;
                }
                if (*s->p++ != ',')
                        return KA_ERR_INVALID;
        }
}

/* The members src wants, sorted by name; NULL when out of memory. */
static want_t *wants_of(const ka_agent_source_t *src, bool time, size_t *nwant,
                        size_t *maxlen)
{
        want_t *w = calloc(src->nfields + src->narrays + 1, sizeof(*w)), key;
        size_t n = 0;

        if (!w)
                return NULL;
        *maxlen = 0;
        for (size_t i = 0; i < src->nfields; i++)
                w[n++] = (want_t){.name = src->fields[i].name,
                                  .len = strlen(src->fields[i].name),
                                  .field = (ptrdiff_t)i,
                                  .array = -1};
        for (size_t i = 0; i < src->narrays; i++)
                w[n++] = (want_t){.name = src->arrays[i].name,
                                  .len = strlen(src->arrays[i].name),
                                  .field = -1,
                                  .array = (ptrdiff_t)i};
        qsort(w, n, sizeof(*w), want_cmp);
        if (time) {
                want_t *same;

                key = (want_t){.name = src->time_field,
                               .len = strlen(src->time_field),
                               .field = -1,
                               .array = -1,
                               .time = true};
                same = bsearch(&key, w, n, sizeof(*w), want_cmp);
                if (same) {
                        same->time = true;
                } else {
                        w[n++] = key;
                        qsort(w, n, sizeof(*w), want_cmp);
                }
        }
        for (size_t i = 0; i < n; i++)
                if (w[i].len > *maxlen)
                        *maxlen = w[i].len;
        *nwant = n;
        return w;
}

ka_err_t ka_json_decode_row(const ka_agent_source_t *src, const uint8_t *buf,
                            size_t len, ka_row_t *row, int64_t *event_ms)
{
        bool time = src->time_field && event_ms;
        scan_t s = {buf, buf + len};
        size_t nwant, maxlen;
        want_t *wants, *w, key;
        uint8_t *name;
        ka_err_t err;
        kind_t kind;
        double value = 0;

        skip_ws(&s);
        if (at_end(&s))
                return KA_ERR_TRUNCATED;
        if (*s.p != '{') {
                /* Valid JSON or not, it is not an object: the error that
                 * comes first, as a parser would report it. A number may
                 * end the text here. */
                if (*s.p == '-' || is_digit(*s.p))
                        err = scan_number_text(&s);
                else
                        err = scan_value(&s, 1, &kind, &value);
                return err ? err : KA_ERR_INVALID;
        }
        wants = wants_of(src, time, &nwant, &maxlen);
        name = wants ? malloc(maxlen + 1) : NULL;
        if (!name) {
                free(wants);
                return KA_ERR_NOMEM;
        }
        for (size_t i = 0; i < src->narrays; i++)
                row->arrays[src->first_array + i].len = 0;
        s.p++;
        skip_ws(&s);
        if (at_end(&s)) {
                err = KA_ERR_TRUNCATED;
                goto out;
        }
        if (*s.p == '}') {
                s.p++;
        } else {
                for (;;) {
                        size_t n = 0;

                        if ((err = scan_key(&s, name, maxlen + 1, &n)))
                                goto out;
                        w = NULL;
                        if (n <= maxlen) {
                                key = (want_t){.name = (const char *)name,
                                               .len = n};
                                w = bsearch(&key, wants, nwant, sizeof(*w),
                                            want_cmp);
                        }
                        /* The last of members with one name counts; an
                         * array field's goes into its row array now. */
                        if (w && w->array >= 0)
                                err = scan_array(&s,
                                                 &row->arrays[src->first_array +
                                                              (size_t)w->array],
                                                 &kind);
                        else
                                err = scan_value(&s, 2, &kind, &value);
                        if (err)
                                goto out;
                        if (w) {
                                w->state = kind;
                                w->value = value;
                        }
                        skip_ws(&s);
                        if (at_end(&s)) {
                                err = KA_ERR_TRUNCATED;
                                goto out;
                        }
                        if (*s.p == '}') {
                                s.p++;
                                break;
                        }
                        if (*s.p++ != ',') {
                                err = KA_ERR_INVALID;
                                goto out;
                        }
                }
        }
        skip_ws(&s);
        if (!at_end(&s)) {
                err = KA_ERR_INVALID;
                goto out;
        }
        err = KA_OK;
        for (size_t i = 0; i < nwant && !err; i++) {
                w = &wants[i];
                if (w->field < 0 && w->array < 0)
                        continue;
                if (w->state == OTHER)
                        err = KA_ERR_INVALID;
                else if (w->field >= 0)
                        row->vals[src->first_field + (size_t)w->field] =
                                w->state == NUMBER ? w->value : NAN;
        }
        for (size_t i = 0; i < nwant && !err; i++) {
                w = &wants[i];
                if (w->time)
                        err = w->state == NUMBER ? ka_avro_seconds_to_ms(
                                                           w->value, event_ms)
                                                 : KA_ERR_INVALID;
        }
out:
        free(name);
        free(wants);
        return err;
}
