/*
 * Helpers of the fuzz targets: golden sources, choices from fuzz bytes and
 * the hostile schema generator (fuzz.h).
 */
#include "fuzz.h"

#include "avro_schema.h"
#include "avro_skip.h"
#include "log.h"
#include "schema.h"
#include "schema_compat.h"

#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t fuzz_nsources(void)
{
        size_t n = 0;

        for (size_t i = 0; i < fuzz_nagents; i++)
                n += fuzz_agents[i]->nsources;
        return n;
}

const ka_agent_source_t *fuzz_source(size_t n)
{
        n %= fuzz_nsources();
        for (size_t i = 0;; i++) {
                if (n < fuzz_agents[i]->nsources)
                        return &fuzz_agents[i]->sources[n];
                n -= fuzz_agents[i]->nsources;
        }
}

const char *fuzz_source_schema(size_t n)
{
        static char *texts[64];
        const ka_agent_source_t *src = fuzz_source(n);
        char pattern[512];
        glob_t g;

        n %= fuzz_nsources();
        if (n >= 64)
                return src->schema;
        if (texts[n])
                return texts[n];
        snprintf(pattern, sizeof(pattern), "tests/golden/*/schemas/%s.avsc",
                 src->topic);
        if (!glob(pattern, 0, NULL, &g) && g.gl_pathc) {
                FILE *fp = fopen(g.gl_pathv[0], "rb");
                char *text = NULL;
                size_t len = 0;

                if (fp && getdelim(&text, &len, '\0', fp) > 0)
                        texts[n] = text;
                else
                        free(text);
                if (fp)
                        fclose(fp);
        }
        globfree(&g);
        if (!texts[n] && !(texts[n] = strdup(src->schema)))
                abort();
        return texts[n];
}

#define GUARD -777.25

bool fuzz_row_new(const ka_agent_source_t *src, ka_row_t *row)
{
        size_t nvals = src->first_field + src->nfields + 1;
        size_t narrays = src->first_array + src->narrays + 1;

        if (!ka_row_init(row, nvals, narrays))
                return false;
        for (size_t i = 0; i < nvals; i++)
                row->vals[i] = GUARD;
        return true;
}

void fuzz_row_check(const ka_agent_source_t *src, const ka_row_t *row)
{
        for (size_t i = 0; i < row->nvals; i++)
                if ((i < src->first_field ||
                     i >= src->first_field + src->nfields) &&
                    row->vals[i] != GUARD)
                        abort();
        for (size_t a = 0; a < row->narrays; a++)
                if ((a < src->first_array ||
                     a >= src->first_array + src->narrays) &&
                    row->arrays[a].len)
                        abort();
}

static bool same_bits(double a, double b)
{
        return memcmp(&a, &b, sizeof(a)) == 0 || (isnan(a) && isnan(b));
}

bool fuzz_row_same(const ka_agent_source_t *src, const ka_row_t *a,
                   const ka_row_t *b)
{
        for (size_t i = src->first_field; i < src->first_field + src->nfields;
             i++) {
                if (!same_bits(a->vals[i], b->vals[i])) {
                        fprintf(stderr, "value %zu: %.17g against %.17g\n", i,
                                a->vals[i], b->vals[i]);
                        return false;
                }
        }
        for (size_t k = src->first_array; k < src->first_array + src->narrays;
             k++) {
                const ka_row_array_t *x = &a->arrays[k], *y = &b->arrays[k];

                if (x->len != y->len) {
                        fprintf(stderr, "array %zu: %zu against %zu long\n", k,
                                x->len, y->len);
                        return false;
                }
                for (size_t i = 0; i < x->len; i++)
                        if (!same_bits(x->vals[i], y->vals[i]))
                                return false;
        }
        return true;
}

void fuzz_row_free(ka_row_t *row)
{
        ka_row_release(row);
}

uint8_t fuzz_u8(fuzz_in_t *in)
{
        return in->p < in->end ? *in->p++ : 0;
}

uint16_t fuzz_u16(fuzz_in_t *in)
{
        uint16_t hi = fuzz_u8(in);

        return (uint16_t)(hi << 8 | fuzz_u8(in));
}

size_t fuzz_below(fuzz_in_t *in, size_t n)
{
        return n ? fuzz_u8(in) % n : 0;
}

bool fuzz_one_in(fuzz_in_t *in, unsigned n)
{
        return fuzz_u8(in) % n == n - 1;
}

size_t fuzz_left(const fuzz_in_t *in)
{
        return (size_t)(in->end - in->p);
}

uint8_t *fuzz_copy(const void *data, size_t len, bool nul)
{
        size_t size = len + (nul ? 1 : 0);
        uint8_t *copy = malloc(size ? size : 1);

        if (!copy)
                abort();
        if (len)
                memcpy(copy, data, len);
        if (nul)
                copy[len] = 0;
        return copy;
}

ka_avro_schema_t *fuzz_check_schema(const char *text)
{
        char errstr[512] = "", why[1024];
        ka_avro_schema_t *schema, *again;
        char *canonical, *normalized, *canonical2;
        int32_t *prog;
        size_t len;
        ka_schema_t *model;

        schema = ka_avro_schema_parse(text, errstr, sizeof(errstr));
        if (!schema) {
                if (!*errstr)
                        abort(); /* a refusal always says why */
                return NULL;
        }
        canonical = ka_avro_schema_canonical_of(schema);
        normalized = ka_avro_schema_normalized_of(schema);
        if (!canonical || !normalized)
                abort();
        (void)ka_avro_fingerprint64(canonical, strlen(canonical));

        /* The canonical form is a schema with the same canonical form. */
        again = ka_avro_schema_parse(canonical, errstr, sizeof(errstr));
        if (!again) {
                fprintf(stderr, "canonical form does not parse: %s\n%s\n",
                        errstr, canonical);
                abort();
        }
        canonical2 = ka_avro_schema_canonical_of(again);
        if (!canonical2 || strcmp(canonical, canonical2)) {
                fprintf(stderr, "canonical form not stable:\n%s\n%s\n",
                        canonical, canonical2 ? canonical2 : "(null)");
                abort();
        }
        free(canonical2);
        ka_avro_schema_destroy(again);

        /* So is the normalized form. */
        again = ka_avro_schema_parse(normalized, errstr, sizeof(errstr));
        if (!again) {
                fprintf(stderr, "normalized form does not parse: %s\n%s\n",
                        errstr, normalized);
                abort();
        }
        canonical2 = ka_avro_schema_canonical_of(again);
        if (!canonical2 || strcmp(canonical, canonical2)) {
                fprintf(stderr, "normalized form changes the schema:\n%s\n%s\n",
                        canonical, canonical2 ? canonical2 : "(null)");
                abort();
        }
        free(canonical2);
        ka_avro_schema_destroy(again);

        /* A schema reads what it wrote. */
        if (ka_schema_compat_nodes(ka_avro_schema_root(schema),
                                   ka_avro_schema_root(schema), why,
                                   sizeof(why))) {
                fprintf(stderr, "not compatible with itself: %s\n%s\n", why,
                        text);
                abort();
        }

        if (!ka_avro_skip_compile(ka_avro_schema_root(schema), &prog, &len)) {
                size_t width;

                (void)ka_avro_skip_width(prog, len, &width);
                free(prog);
        }
        free(canonical);
        free(normalized);

        /* The generator's model of a source schema (records only). */
        if (ka_avro_schema_root(schema)->type == KA_AVRO_RECORD) {
                model = ka_schema_parse(text, errstr, sizeof(errstr));
                ka_schema_destroy(model);
        }
        return schema;
}

/* ---- the schema generator ------------------------------------------- */

/* Text beyond which the generator only closes what it opened, and the
 * most fields or symbols of a huge type: small enough for hundreds of
 * runs a second under ASan, where every parse costs an allocation a node
 * (tests/unit/test_schema_sizes.c goes to 100k). */
#define GEN_MAX_TEXT  (128u << 10)
#define GEN_MAX_HUGE  1000
#define GEN_MAX_DEPTH 40
#define GEN_MAX_NAMED 512

typedef struct named_s {
        char full[96];
} named_t;

typedef struct gen_s {
        fuzz_in_t *in;
        char *buf;
        size_t len, cap;
        named_t named[GEN_MAX_NAMED];
        size_t nnamed;
        const char *const *names;
        size_t nnames;
        unsigned counter;
} gen_t;

__attribute__((format(printf, 2, 3))) static void put(gen_t *g, const char *fmt,
                                                      ...)
{
        va_list ap;
        int n;

        for (;;) {
                va_start(ap, fmt);
                n = vsnprintf(g->buf + g->len, g->cap - g->len, fmt, ap);
                va_end(ap);
                if (n < 0)
                        abort();
                if ((size_t)n < g->cap - g->len)
                        break;
                g->cap = g->cap * 2 + (size_t)n;
                g->buf = realloc(g->buf, g->cap);
                if (!g->buf)
                        abort();
        }
        g->len += (size_t)n;
}

static bool full(const gen_t *g)
{
        return g->len > GEN_MAX_TEXT;
}

static const char *const prims[] = {
        "null", "boolean", "int", "long", "float", "double", "bytes", "string",
};

/* A name for a new named type: usually fresh, sometimes one that may be
 * taken already, rarely not a valid name at all. */
static void type_name(gen_t *g, char *out, size_t size)
{
        uint8_t c = fuzz_u8(g->in);

        if (c % 16 == 15)
                snprintf(out, size, "Dup%u", (unsigned)(c >> 4) % 3);
        else if (c >= 253)
                snprintf(out, size, "%s", c == 253 ? "int" : "9bad");
        else if (c % 16 == 14)
                snprintf(out, size, "n%u.T%u", (unsigned)(c >> 4) % 2,
                         g->counter++);
        else
                snprintf(out, size, "T%u", g->counter++);
}

/* Defines a named type; *ns becomes its namespace for its fields. */
static void define(gen_t *g, const char *name, const char *space, char *ns,
                   size_t ns_size)
{
        const char *dot = strrchr(name, '.');
        named_t *n;

        if (dot)
                snprintf(ns, ns_size, "%.*s", (int)(dot - name), name);
        else
                snprintf(ns, ns_size, "%s", space);
        if (g->nnamed == GEN_MAX_NAMED)
                return;
        n = &g->named[g->nnamed++];
        if (dot || !*ns)
                snprintf(n->full, sizeof(n->full), "%s", name);
        else
                snprintf(n->full, sizeof(n->full), "%s.%s", ns, name);
}

/* The start of a named type's object, up to its own attributes. */
static void named_head(gen_t *g, const char *type, const char *ns, char *own,
                       size_t own_size)
{
        char name[64], space[32] = "";
        uint8_t c = fuzz_u8(g->in);

        type_name(g, name, sizeof(name));
        put(g, "{\"type\":\"%s\",\"name\":\"%s\"", type, name);
        if (c % 8 == 7 && !strchr(name, '.')) {
                snprintf(space, sizeof(space), "ns%u", (unsigned)(c >> 3) % 3);
                put(g, ",\"namespace\":\"%s\"", space);
        } else if (c % 8 == 6) {
                put(g, ",\"namespace\":null");
        }
        if (c % 16 == 5)
                put(g, ",\"aliases\":[\"Old%u\",\"x.Older\"]", (unsigned)c);
        if (c == 3)
                put(g, ",\"doc\":\"a \\\"doc\\\" \\u00b0C\"");
        define(g, name, *space ? space : ns, own, own_size);
}

static void gen_type(gen_t *g, int depth, const char *ns);

/* A field default: mostly null or numbers, which some types accept. */
static void gen_default(gen_t *g)
{
        static const char *const defs[] = {
                "null", "0",  "1.5",     "\"x\"", "true",      "[]",
                "{}",   "-1", "\"NaN\"", "[1,2]", "{\"a\":1}", "\"S0\"",
        };

        put(g, ",\"default\":%s", defs[fuzz_below(g->in, 12)]);
}

static void field_name(gen_t *g, char *out, size_t size)
{
        uint8_t c = fuzz_u8(g->in);

        if (g->nnames && c % 2)
                snprintf(out, size, "%s", g->names[(c >> 1) % g->nnames]);
        else if (c == 254)
                snprintf(out, size, "9x");
        else if (c % 32 == 30)
                snprintf(out, size, "f0");
        else
                snprintf(out, size, "f%u", g->counter++);
}

static void gen_record(gen_t *g, int depth, const char *ns)
{
        char own[96], name[64];
        size_t n;
        uint8_t c = fuzz_u8(g->in);

        named_head(g, "record", ns, own, sizeof(own));
        put(g, ",\"fields\":[");
        if (c % 16 == 15 && !full(g)) {
                /* Huge: one type, repeated (a second of the same name is
                 * a reference to the first). */
                n = fuzz_u16(g->in) % GEN_MAX_HUGE;
                put(g, "{\"name\":\"h0\",\"type\":");
                gen_type(g, depth + 1, own);
                put(g, "}");
                for (size_t i = 1; i < n && !full(g); i++)
                        put(g, ",{\"name\":\"h%zu\",\"type\":\"%s\"}", i,
                            c & 0x10 ? "double" : g->named[g->nnamed - 1].full);
        } else {
                n = full(g) ? 0 : c % 6;
                for (size_t i = 0; i < n; i++) {
                        field_name(g, name, sizeof(name));
                        put(g, "%s{\"name\":\"%s\",\"type\":", i ? "," : "",
                            name);
                        gen_type(g, depth + 1, own);
                        if (fuzz_one_in(g->in, 8))
                                gen_default(g);
                        if (fuzz_one_in(g->in, 32))
                                put(g,
                                    ",\"aliases\":[\"old_%s\"],\"order\":"
                                    "\"descending\"",
                                    name);
                        put(g, "}");
                }
        }
        put(g, "]}");
}

static void gen_enum(gen_t *g, const char *ns)
{
        char own[96];
        uint8_t c = fuzz_u8(g->in);
        size_t n = c % 16 == 15 ? fuzz_u16(g->in) % GEN_MAX_HUGE : c % 5;

        named_head(g, "enum", ns, own, sizeof(own));
        put(g, ",\"symbols\":[");
        for (size_t i = 0; i < n && !full(g); i++)
                put(g, "%s\"S%zu\"", i ? "," : "",
                    c % 32 == 14 && i == n - 1 ? 0 : i);
        put(g, "]");
        if (c % 8 == 3)
                put(g, ",\"default\":\"%s\"", c & 0x80 ? "S0" : "Nope");
        put(g, "}");
}

static void gen_fixed(gen_t *g, const char *ns)
{
        char own[96];
        uint8_t c = fuzz_u8(g->in);

        named_head(g, "fixed", ns, own, sizeof(own));
        if (c == 255)
                put(g, ",\"size\":\"16\"}");
        else if (c == 254)
                put(g, ",\"size\":-1}");
        else
                put(g, ",\"size\":%u}", (unsigned)c % 24);
}

static void gen_union(gen_t *g, int depth, const char *ns)
{
        uint8_t c = fuzz_u8(g->in);
        size_t n = c % 5;
        unsigned used = 0;

        put(g, "[");
        for (size_t i = 0; i < n; i++) {
                uint8_t b = fuzz_u8(g->in);

                if (i)
                        put(g, ",");
                /* Mostly distinct primitives and named types, as a
                 * valid union needs; sometimes anything. */
                if (b % 16 == 15) {
                        gen_type(g, depth + 1, ns);
                } else if (b % 4 == 3 && !full(g)) {
                        if (b & 0x80)
                                gen_record(g, depth + 1, ns);
                        else
                                gen_enum(g, ns);
                } else {
                        unsigned p = b % 8;

                        while (used & 1u << p && used != 0xff)
                                p = (p + 1) % 8;
                        used |= 1u << p;
                        put(g, "\"%s\"", prims[p]);
                }
        }
        put(g, "]");
}

static void gen_logical(gen_t *g)
{
        static const char *const forms[] = {
                "{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}",
                "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}",
                "{\"type\":\"int\",\"logicalType\":\"date\"}",
                ("{\"type\":\"bytes\",\"logicalType\":\"decimal\","
                 "\"precision\":4,\"scale\":2}"),
                "{\"type\":\"string\",\"logicalType\":\"uuid\"}",
                "{\"type\":\"double\",\"unit\":\"deg\"}",
                "{\"type\":\"int\"}",
                "{\"type\":\"long\",\"logicalType\":7}",
        };

        put(g, "%s", forms[fuzz_below(g->in, 8)]);
}

static void gen_type(gen_t *g, int depth, const char *ns)
{
        uint8_t c;
        size_t k;

        if (depth > GEN_MAX_DEPTH || full(g)) {
                put(g, "\"double\"");
                return;
        }
        c = fuzz_u8(g->in);
        switch (c % 20) {
        case 6:
                gen_logical(g);
                break;
        case 7:
        case 8:
                gen_record(g, depth, ns);
                break;
        case 9:
                gen_enum(g, ns);
                break;
        case 10:
                gen_fixed(g, ns);
                break;
        case 11:
        case 12:
                put(g, "{\"type\":\"%s\",\"%s\":", c & 0x80 ? "map" : "array",
                    c & 0x80 ? "values" : "items");
                gen_type(g, depth + 1, ns);
                put(g, "}");
                break;
        case 13:
        case 14:
                gen_union(g, depth, ns);
                break;
        case 15:
        case 16:
                /* A named type used again; inside its own definition that
                 * makes it recursive. */
                if (!g->nnamed) {
                        put(g, "\"long\"");
                        break;
                }
                k = fuzz_below(g->in, g->nnamed);
                if (c & 0x80 && *ns &&
                    !strncmp(g->named[k].full, ns, strlen(ns)) &&
                    g->named[k].full[strlen(ns)] == '.')
                        put(g, "\"%s\"", g->named[k].full + strlen(ns) + 1);
                else if (c & 0x40)
                        put(g, "{\"type\":\"%s\"}", g->named[k].full);
                else
                        put(g, "\"%s\"", g->named[k].full);
                break;
        case 17:
                /* Deep: thousands of arrays and maps around one type. */
                k = (size_t)(fuzz_u8(g->in) % 32) * 80;
                for (size_t i = 0; i < k; i++)
                        put(g,
                            "{\"type\":\"%s\",\"%s\":", i % 3 ? "array" : "map",
                            i % 3 ? "items" : "values");
                gen_type(g, GEN_MAX_DEPTH, ns);
                for (size_t i = 0; i < k; i++)
                        put(g, "}");
                break;
        case 18:
                if (c & 0x80)
                        put(g, "\"Nope%u\"", (unsigned)c);
                else
                        put(g, "\"string\"");
                break;
        default:
                put(g, "\"%s\"", prims[c % 8]);
                break;
        }
}

char *fuzz_schema_gen(fuzz_in_t *in, const char *const *names, size_t nnames,
                      bool record_root)
{
        gen_t *g = calloc(1, sizeof(*g));
        char *text;

        if (!g)
                abort();
        g->in = in;
        g->names = names;
        g->nnames = nnames;
        g->cap = 4096;
        g->buf = malloc(g->cap);
        if (!g->buf)
                abort();
        g->buf[0] = '\0';
        if (record_root)
                gen_record(g, 0, "");
        else
                gen_type(g, 0, "");
        text = g->buf;
        free(g);
        return text;
}

/* Decode errors and the like are logged: not a fuzzer's business. */
__attribute__((constructor)) static void quiet(void)
{
        ka_log_set_level(KA_LOG_CRIT);
}
