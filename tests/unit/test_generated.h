/*
 * Checks of one generated agent against avro-c, shared by the
 * tests/unit/test_generated_<case>.c binaries. Each binary includes this
 * header, then exactly one expected agent file of a golden case (the agent
 * files define static symbols with generic names, so two cannot share a
 * translation unit), describes what the case's config.yaml asks for, and
 * calls tg_run().
 *
 * Against the pinned schemas of tests/golden/<case>/schemas/, read at run
 * time from the repository root (where tests/run.sh runs): avro-c encodes
 * random records, each source's generated decoder must yield exactly the
 * values avro-c was given (every element of an array field), reject every
 * truncation and a trailing byte, and survive corruption; avro-c must read
 * back exactly what the generated encoder wrote (arrays of statistics of
 * every length included); the descriptor must match the config and the
 * schemas.
 * Buffers are exactly sized heap blocks, so ASan sees any overread.
 */
#ifndef TEST_GENERATED_H
#define TEST_GENERATED_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <avro.h>
#include <dirent.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

/* One aggregated field as the config defines it, in the order of the
 * aggregated record (scalars and arrays alike: which it is comes from the
 * pinned schema). */
typedef struct tg_field_s {
        size_t source;        /* index of the source topic in the config */
        const char *name;     /* field of the source schema */
        const char *out_name; /* the `map` rename, or name */
} tg_field_t;

/* What a golden case's config.yaml asks of its agent (SPEC §4, §8). */
typedef struct tg_expect_s {
        const ka_agent_t *agent;
        const char *case_dir; /* tests/golden/<case> */
        const char *name;     /* the aggregated topic */
        int64_t window_ms;
        int64_t expiration_ms;
        int64_t idle_timeout_ms;
        int64_t max_future_ms; /* 0: the default, 300 s */
        int32_t min_sample_size;
        bool group_by_key;
        const ka_op_t *ops;        /* config order, ends with KA_OP__COUNT */
        const char *const *topics; /* source topics, NULL-terminated */
        const char *time_field;    /* NULL: the Kafka timestamp */
        const tg_field_t *fields;  /* record order, ends with name NULL */
} tg_expect_t;

/* Random records per source: enough to hit every union branch and size. */
#define TG_RECORDS 300
/* Corruptions tried per record. */
#define TG_MUTATIONS 16
/* Random results given to the encoder. */
#define TG_RESULTS 64
/* An array length no decoder writes: the array is outside the slice. */
#define TG_LEN_SENTINEL 7777
/* From this nesting on, unions with a null branch take it, and from twice
 * as deep arrays and maps are empty: recursive types end. */
#define TG_MAX_DEPTH 5
/* A row value no decoder writes: decoders must leave other slices alone. */
#define TG_SENTINEL    -7777.125
#define TG_MS_SENTINEL INT64_C(-777777777)

/* How a time field's value becomes event milliseconds (SPEC §6). */
typedef enum tg_time_e {
        TG_TIME_NONE,
        TG_TIME_SECONDS, /* double seconds */
        TG_TIME_MILLIS,  /* long, timestamp-millis */
        TG_TIME_MICROS,  /* long, timestamp-micros */
} tg_time_t;

/* One source's pinned schema, loaded from the case directory. */
typedef struct tg_source_s {
        avro_schema_t schema;
        avro_value_iface_t *iface;
        tg_time_t time;
        /* From the expectation and the schema, not the descriptor: the
         * scalar slice of row->vals and the array slice of row->arrays,
         * and the index in ex->fields of each of their fields. */
        size_t first_field;
        size_t nfields;
        size_t first_array;
        size_t narrays;
        size_t *scalar_k;
        size_t *array_k;
} tg_source_t;

/* One avro-c encoded record and what decoding it must give. */
typedef struct tg_record_s {
        uint8_t *buf; /* exactly len bytes */
        size_t len;
        double *row; /* the source's scalars */
        /* the source's arrays: elements and lengths (0 for null) */
        double **arrays;
        size_t *array_len;
        bool *array_null;
        int64_t event_ms;
        ka_err_t err; /* KA_OK, or the error the time field must cause */
} tg_record_t;

/* ---- helpers ---------------------------------------------------------- */

static uint64_t tg_rng_state;

static void tg_seed(uint64_t seed)
{
        tg_rng_state = seed;
}

static uint64_t tg_rnd(void)
{
        /* splitmix64: reproducible across runs and platforms. */
        uint64_t z = (tg_rng_state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static size_t tg_below(size_t n)
{
        return (size_t)(tg_rnd() % n);
}

/* Biased toward every varint length and the edges of the type. */
static int32_t tg_rnd_int(void)
{
        static const int32_t edges[] = {
                0, -1, 1, 63, 64, -64, -65, 8191, -8193, INT32_MAX, INT32_MIN};

        if (tg_below(4) == 0)
                return edges[tg_below(KA_ARRAY_SIZE(edges))];
        return (int32_t)(uint32_t)(tg_rnd() >> (32 + tg_below(32)));
}

static int64_t tg_rnd_long(void)
{
        static const int64_t edges[] = {0,
                                        -1,
                                        1,
                                        63,
                                        -65,
                                        INT32_MAX,
                                        INT32_MIN,
                                        (INT64_C(1) << 53) + 1,
                                        INT64_MAX,
                                        INT64_MIN,
                                        INT64_MIN + 1};

        if (tg_below(4) == 0)
                return edges[tg_below(KA_ARRAY_SIZE(edges))];
        return (int64_t)(tg_rnd() >> tg_below(64));
}

static float tg_rnd_float(void)
{
        static const float edges[] = {0.0f,      -0.0f,   1.0f,       -1.5f,
                                      FLT_MIN,   FLT_MAX, 1e-45f,     INFINITY,
                                      -INFINITY, NAN,     16777217.0f};
        uint32_t u = (uint32_t)tg_rnd();
        float f;

        if (tg_below(4) == 0)
                return edges[tg_below(KA_ARRAY_SIZE(edges))];
        memcpy(&f, &u, sizeof(f));
        return f;
}

static double tg_rnd_double(void)
{
        static const double edges[] = {0.0,       -0.0,    1.0,    -1.5,
                                       DBL_MIN,   DBL_MAX, 5e-324, INFINITY,
                                       -INFINITY, NAN,     1.7e9};
        uint64_t u = tg_rnd();
        double d;

        if (tg_below(4) == 0)
                return edges[tg_below(KA_ARRAY_SIZE(edges))];
        memcpy(&d, &u, sizeof(d));
        return d;
}

/* A length for strings, bytes, arrays and maps: often 0, sometimes long
 * enough for a two-byte varint (64 and up). */
static size_t tg_rnd_len(int depth)
{
        size_t r = tg_below(8);

        if (r < 2 || depth >= 2 * TG_MAX_DEPTH)
                return 0;
        if (r == 7 && depth < 2)
                return 64 + tg_below(40);
        return 1 + tg_below(depth < 2 ? 12 : 3);
}

/* Equal as a user sees numbers: NaN matches any NaN, -0.0 only -0.0. */
static bool tg_same(double got, double want)
{
        if (isnan(want))
                return isnan(got);
        return memcmp(&got, &want, sizeof(got)) == 0;
}

/* The file's contents, NUL-terminated; *len without the NUL. */
static char *tg_slurp(const char *path, size_t *len)
{
        FILE *fp = fopen(path, "rb");
        char *text = NULL;
        size_t cap = 0, n = 0;

        if (!fp)
                fail_msg("cannot open '%s' (run from the repository root)",
                         path);
        for (;;) {
                if (cap - n < 4096) {
                        cap = cap ? cap * 2 : 16384;
                        text = realloc(text, cap);
                        assert_non_null(text);
                }
                size_t got = fread(text + n, 1, cap - n - 1, fp);

                n += got;
                if (got == 0)
                        break;
        }
        assert_int_equal(ferror(fp), 0);
        fclose(fp);
        text[n] = '\0';
        *len = n;
        return text;
}

static avro_schema_t tg_parse(const char *json, size_t len, const char *what)
{
        avro_schema_t schema = NULL;

        if (avro_schema_from_json_length(json, len, &schema))
                fail_msg("%s: %s", what, avro_strerror());
        return schema;
}

static char *tg_schema_path(const tg_expect_t *ex, const char *topic)
{
        char *path = NULL;

        assert_true(asprintf(&path, "%s/schemas/%s.avsc", ex->case_dir, topic) >
                    0);
        return path;
}

/* The field's type in the pinned schema: `numeric` or [null, numeric],
 * numeric a number or an array of numbers (*array). */
static bool tg_numeric(avro_schema_t fs, ka_num_type_t *type, bool *nullable,
                       bool *array)
{
        *nullable = false;
        *array = false;
        if (is_avro_union(fs)) {
                avro_schema_t b0, b1;

                if (avro_schema_union_size(fs) != 2)
                        return false;
                b0 = avro_schema_union_branch(fs, 0);
                b1 = avro_schema_union_branch(fs, 1);
                if (is_avro_null(b0))
                        fs = b1;
                else if (is_avro_null(b1))
                        fs = b0;
                else
                        return false;
                *nullable = true;
        }
        if (is_avro_array(fs)) {
                *array = true;
                fs = avro_schema_array_items(fs);
        }
        switch (avro_typeof(fs)) {
        case AVRO_INT32:
                *type = KA_NUM_INT;
                return true;
        case AVRO_INT64:
                *type = KA_NUM_LONG;
                return true;
        case AVRO_FLOAT:
                *type = KA_NUM_FLOAT;
                return true;
        case AVRO_DOUBLE:
                *type = KA_NUM_DOUBLE;
                return true;
        default:
                return false;
        }
}

/* The logical type of a top-level field, read from the JSON itself. */
static tg_time_t tg_time_kind(const char *json, const char *field)
{
        json_error_t jerr;
        json_t *root = json_loads(json, 0, &jerr);
        json_t *f;
        size_t i;
        tg_time_t kind = TG_TIME_NONE;

        if (!root)
                fail_msg("schema json: %s", jerr.text);
        json_array_foreach(json_object_get(root, "fields"), i, f)
        {
                json_t *type = json_object_get(f, "type");
                const char *name =
                        json_string_value(json_object_get(f, "name"));
                const char *prim, *logical;

                if (!name || strcmp(name, field))
                        continue;
                prim = json_string_value(type);
                logical = NULL;
                if (json_is_object(type)) {
                        prim = json_string_value(json_object_get(type, "type"));
                        logical = json_string_value(
                                json_object_get(type, "logicalType"));
                }
                if (prim && !strcmp(prim, "double"))
                        kind = TG_TIME_SECONDS;
                else if (prim && !strcmp(prim, "long") && logical &&
                         !strcmp(logical, "timestamp-millis"))
                        kind = TG_TIME_MILLIS;
                else if (prim && !strcmp(prim, "long") && logical &&
                         !strcmp(logical, "timestamp-micros"))
                        kind = TG_TIME_MICROS;
                else
                        fail_msg("time field '%s' has no event-time type",
                                 field);
        }
        json_decref(root);
        if (kind == TG_TIME_NONE)
                fail_msg("time field '%s' is not in the schema", field);
        return kind;
}

static size_t tg_count_sources(const tg_expect_t *ex)
{
        size_t n = 0;

        while (ex->topics[n])
                n++;
        return n;
}

static size_t tg_count_fields(const tg_expect_t *ex)
{
        size_t n = 0;

        while (ex->fields[n].name)
                n++;
        return n;
}

static size_t tg_count_ops(const tg_expect_t *ex)
{
        size_t n = 0;

        while (ex->ops[n] != KA_OP__COUNT)
                n++;
        return n;
}

/* Whether field k of the expectation is an array in its pinned schema. */
static bool tg_is_array(const tg_expect_t *ex, const tg_source_t *srcs,
                        size_t k)
{
        avro_schema_t fs = avro_schema_get_subschema(
                srcs[ex->fields[k].source].schema, ex->fields[k].name);
        ka_num_type_t type;
        bool nullable, array;

        if (!fs || !tg_numeric(fs, &type, &nullable, &array))
                fail_msg("field '%s' is not numeric in its pinned schema",
                         ex->fields[k].name);
        return array;
}

/*
 * Loads every source's pinned schema; tg_sources_free() releases. Fails
 * unless the descriptor has the config's sources and row layout, which
 * the decode tests rely on.
 */
static tg_source_t *tg_sources_load(const tg_expect_t *ex)
{
        size_t nsrc = tg_count_sources(ex), nf = tg_count_fields(ex), i, k;
        size_t nscalars = 0, narrays = 0;
        tg_source_t *srcs = calloc(nsrc, sizeof(*srcs));

        assert_non_null(srcs);
        assert_int_equal(ex->agent->nsources, nsrc);
        for (i = 0; i < nsrc; i++) {
                char *path = tg_schema_path(ex, ex->topics[i]);
                size_t len;
                char *json = tg_slurp(path, &len);

                srcs[i].schema = tg_parse(json, len, path);
                srcs[i].iface = avro_generic_class_from_schema(srcs[i].schema);
                assert_non_null(srcs[i].iface);
                srcs[i].time = ex->time_field
                                       ? tg_time_kind(json, ex->time_field)
                                       : TG_TIME_NONE;
                free(json);
                free(path);
        }
        /* Rows are laid out by the config: source order, then field
         * order, scalars and arrays apart. */
        for (i = 0; i < nsrc; i++) {
                srcs[i].scalar_k = calloc(nf + 1, sizeof(size_t));
                srcs[i].array_k = calloc(nf + 1, sizeof(size_t));
                assert_non_null(srcs[i].scalar_k);
                assert_non_null(srcs[i].array_k);
                srcs[i].first_field = nscalars;
                srcs[i].first_array = narrays;
                for (k = 0; k < nf; k++) {
                        if (ex->fields[k].source != i)
                                continue;
                        if (tg_is_array(ex, srcs, k))
                                srcs[i].array_k[srcs[i].narrays++] = k;
                        else
                                srcs[i].scalar_k[srcs[i].nfields++] = k;
                }
                nscalars += srcs[i].nfields;
                narrays += srcs[i].narrays;
        }
        for (k = 0; k < nf; k++)
                assert_true(ex->fields[k].source < nsrc);
        assert_int_equal(ex->agent->nfields, nscalars);
        assert_int_equal(ex->agent->narrays, narrays);
        return srcs;
}

static void tg_sources_free(const tg_expect_t *ex, tg_source_t *srcs)
{
        size_t i, nsrc = tg_count_sources(ex);

        for (i = 0; i < nsrc; i++) {
                avro_value_iface_decref(srcs[i].iface);
                avro_schema_decref(srcs[i].schema);
                free(srcs[i].scalar_k);
                free(srcs[i].array_k);
        }
        free(srcs);
}

/* ---- random records with avro-c --------------------------------------- */

static void tg_fill(avro_value_t *v, int depth);

static void tg_fill_string(avro_value_t *v, int depth, bool bytes)
{
        size_t n = tg_rnd_len(depth), i;
        char *s = malloc(n + 1);

        assert_non_null(s);
        for (i = 0; i < n; i++)
                s[i] = bytes ? (char)tg_rnd() : (char)(' ' + tg_below(95));
        s[n] = '\0';
        /* avro-c's string length counts the terminating NUL. */
        if (bytes)
                assert_int_equal(avro_value_set_bytes(v, s, n), 0);
        else
                assert_int_equal(avro_value_set_string_len(v, s, n + 1), 0);
        free(s);
}

static void tg_fill_union(avro_value_t *v, int depth)
{
        avro_schema_t us = avro_value_get_schema(v);
        size_t nb = avro_schema_union_size(us), b, null_branch = nb;
        avro_value_t branch;

        for (b = 0; b < nb; b++)
                if (is_avro_null(avro_schema_union_branch(us, b)))
                        null_branch = b;
        /* Recursive types end: past the depth limit, take null. */
        b = depth >= TG_MAX_DEPTH && null_branch < nb ? null_branch
                                                      : tg_below(nb);
        assert_int_equal(avro_value_set_branch(v, (int)b, &branch), 0);
        tg_fill(&branch, depth + 1);
}

static void tg_fill(avro_value_t *v, int depth)
{
        avro_schema_t s = avro_value_get_schema(v);
        avro_value_t child;
        size_t i, n;

        switch (avro_value_get_type(v)) {
        case AVRO_NULL:
                assert_int_equal(avro_value_set_null(v), 0);
                break;
        case AVRO_BOOLEAN:
                assert_int_equal(avro_value_set_boolean(v, (int)tg_below(2)),
                                 0);
                break;
        case AVRO_INT32:
                assert_int_equal(avro_value_set_int(v, tg_rnd_int()), 0);
                break;
        case AVRO_INT64:
                assert_int_equal(avro_value_set_long(v, tg_rnd_long()), 0);
                break;
        case AVRO_FLOAT:
                assert_int_equal(avro_value_set_float(v, tg_rnd_float()), 0);
                break;
        case AVRO_DOUBLE:
                assert_int_equal(avro_value_set_double(v, tg_rnd_double()), 0);
                break;
        case AVRO_STRING:
                tg_fill_string(v, depth, false);
                break;
        case AVRO_BYTES:
                tg_fill_string(v, depth, true);
                break;
        case AVRO_ENUM:
                n = (size_t)avro_schema_enum_number_of_symbols(s);
                assert_int_equal(avro_value_set_enum(v, (int)tg_below(n)), 0);
                break;
        case AVRO_FIXED: {
                size_t size = (size_t)avro_schema_fixed_size(s);
                uint8_t *data = malloc(size + 1);

                assert_non_null(data);
                for (i = 0; i < size; i++)
                        data[i] = (uint8_t)tg_rnd();
                assert_int_equal(avro_value_set_fixed(v, data, size), 0);
                free(data);
                break;
        }
        case AVRO_ARRAY:
                n = tg_rnd_len(depth);
                for (i = 0; i < n; i++) {
                        assert_int_equal(avro_value_append(v, &child, NULL), 0);
                        tg_fill(&child, depth + 1);
                }
                break;
        case AVRO_MAP:
                n = tg_rnd_len(depth);
                for (i = 0; i < n; i++) {
                        char key[48];

                        /* Distinct keys, of varying length. */
                        snprintf(key, sizeof(key), "%zu%.*s", i,
                                 (int)tg_below(12), "-abcdefghijk");
                        assert_int_equal(
                                avro_value_add(v, key, &child, NULL, NULL), 0);
                        tg_fill(&child, depth + 1);
                }
                break;
        case AVRO_RECORD:
                assert_int_equal(avro_value_get_size(v, &n), 0);
                for (i = 0; i < n; i++) {
                        assert_int_equal(
                                avro_value_get_by_index(v, i, &child, NULL), 0);
                        tg_fill(&child, depth + 1);
                }
                break;
        case AVRO_UNION:
                tg_fill_union(v, depth);
                break;
        default:
                fail_msg("unexpected avro type %d",
                         (int)avro_value_get_type(v));
        }
}

/* The number a numeric (or [null, numeric]) value holds; NaN for null. */
static double tg_number(avro_value_t *v)
{
        avro_value_t branch;
        int32_t i;
        int64_t l;
        float f;
        double d;

        switch (avro_value_get_type(v)) {
        case AVRO_UNION:
                assert_int_equal(avro_value_get_current_branch(v, &branch), 0);
                return tg_number(&branch);
        case AVRO_NULL:
                return NAN;
        case AVRO_INT32:
                assert_int_equal(avro_value_get_int(v, &i), 0);
                return (double)i;
        case AVRO_INT64:
                assert_int_equal(avro_value_get_long(v, &l), 0);
                return (double)l;
        case AVRO_FLOAT:
                /* The float as set, widened exactly. */
                assert_int_equal(avro_value_get_float(v, &f), 0);
                return (double)f;
        case AVRO_DOUBLE:
                assert_int_equal(avro_value_get_double(v, &d), 0);
                return d;
        default:
                fail_msg("field of type %d is not numeric",
                         (int)avro_value_get_type(v));
        }
        return NAN;
}

/* SPEC §6: the event time in ms of the time field's value. */
static ka_err_t tg_event_ms(avro_value_t *v, tg_time_t kind, int64_t *ms)
{
        int64_t l;
        double d, floor_ms;

        switch (kind) {
        case TG_TIME_SECONDS:
                assert_int_equal(avro_value_get_double(v, &d), 0);
                floor_ms = floor(d * 1000.0);
                if (isnan(d) || !(floor_ms >= -0x1p63 && floor_ms < 0x1p63))
                        return KA_ERR_TIME;
                *ms = (int64_t)floor_ms;
                return KA_OK;
        case TG_TIME_MILLIS:
                assert_int_equal(avro_value_get_long(v, &l), 0);
                *ms = l;
                return KA_OK;
        case TG_TIME_MICROS:
                assert_int_equal(avro_value_get_long(v, &l), 0);
                /* Floor division: -1 us is in the millisecond -1. */
                *ms = l / 1000 - (l % 1000 < 0);
                return KA_OK;
        case TG_TIME_NONE:
                break;
        }
        return KA_OK;
}

/*
 * A random record of source si, encoded by avro-c into rec->buf, and the
 * values the config's fields hold in it.
 */
static void tg_record_make(const tg_expect_t *ex, const tg_source_t *srcs,
                           size_t si, tg_record_t *rec)
{
        const tg_source_t *src = &srcs[si];
        avro_value_t val, fv;
        avro_writer_t writer;
        size_t k, size = 0;

        assert_int_equal(avro_generic_value_new(src->iface, &val), 0);
        tg_fill(&val, 0);

        rec->row = malloc((src->nfields ? src->nfields : 1) * sizeof(double));
        assert_non_null(rec->row);
        for (k = 0; k < src->nfields; k++) {
                const char *name = ex->fields[src->scalar_k[k]].name;

                if (avro_value_get_by_name(&val, name, &fv, NULL))
                        fail_msg("'%s' is not in the schema of '%s'", name,
                                 ex->topics[si]);
                rec->row[k] = tg_number(&fv);
        }
        rec->arrays = calloc(src->narrays + 1, sizeof(*rec->arrays));
        rec->array_len = calloc(src->narrays + 1, sizeof(size_t));
        rec->array_null = calloc(src->narrays + 1, sizeof(bool));
        assert_non_null(rec->arrays);
        assert_non_null(rec->array_len);
        assert_non_null(rec->array_null);
        for (k = 0; k < src->narrays; k++) {
                const char *name = ex->fields[src->array_k[k]].name;
                avro_value_t arr, item;
                size_t n = 0, i;

                if (avro_value_get_by_name(&val, name, &fv, NULL))
                        fail_msg("'%s' is not in the schema of '%s'", name,
                                 ex->topics[si]);
                arr = fv;
                if (avro_value_get_type(&fv) == AVRO_UNION)
                        assert_int_equal(
                                avro_value_get_current_branch(&fv, &arr), 0);
                if (avro_value_get_type(&arr) == AVRO_NULL)
                        rec->array_null[k] = true;
                else
                        assert_int_equal(avro_value_get_size(&arr, &n), 0);
                rec->arrays[k] = malloc((n + 1) * sizeof(double));
                assert_non_null(rec->arrays[k]);
                for (i = 0; i < n; i++) {
                        assert_int_equal(
                                avro_value_get_by_index(&arr, i, &item, NULL),
                                0);
                        rec->arrays[k][i] = tg_number(&item);
                }
                rec->array_len[k] = n;
        }
        rec->event_ms = TG_MS_SENTINEL;
        rec->err = KA_OK;
        if (src->time != TG_TIME_NONE) {
                assert_int_equal(
                        avro_value_get_by_name(&val, ex->time_field, &fv, NULL),
                        0);
                rec->err = tg_event_ms(&fv, src->time, &rec->event_ms);
        }

        assert_int_equal(avro_value_sizeof(&val, &size), 0);
        rec->len = size;
        rec->buf = malloc(size);
        assert_non_null(rec->buf);
        writer = avro_writer_memory((const char *)rec->buf, (int64_t)size);
        assert_non_null(writer);
        if (avro_value_write(writer, &val))
                fail_msg("avro_value_write: %s", avro_strerror());
        assert_int_equal(avro_writer_tell(writer), (int64_t)size);
        avro_writer_free(writer);
        avro_value_decref(&val);
}

static void tg_record_free(const tg_source_t *src, tg_record_t *rec)
{
        for (size_t k = 0; k < src->narrays; k++)
                free(rec->arrays[k]);
        free(rec->arrays);
        free(rec->array_len);
        free(rec->array_null);
        free(rec->buf);
        free(rec->row);
}

/* An exactly sized heap copy of buf[0..len) plus extra bytes of filler. */
static uint8_t *tg_copy(const uint8_t *buf, size_t len, size_t extra)
{
        uint8_t *copy = malloc(len + extra);

        assert_true(copy != NULL || len + extra == 0);
        if (len)
                memcpy(copy, buf, len);
        return copy;
}

/* A row of the agent's width holding only sentinels: scalars, and array
 * lengths (the arrays without buffers). */
static void tg_row_init(const ka_agent_t *agent, ka_row_t *row)
{
        size_t i;

        assert_true(ka_row_init(row, agent->nfields, agent->narrays));
        for (i = 0; i < agent->nfields; i++)
                row->vals[i] = TG_SENTINEL;
        for (i = 0; i < agent->narrays; i++)
                row->arrays[i].len = TG_LEN_SENTINEL;
}

/* Every value of row outside the source's slices is still the sentinel. */
static void tg_row_check_rest(const ka_agent_t *agent, const tg_source_t *src,
                              const ka_row_t *row, size_t si, int r)
{
        size_t i;

        for (i = 0; i < agent->nfields; i++) {
                if (i >= src->first_field &&
                    i < src->first_field + src->nfields)
                        continue;
                if (!tg_same(row->vals[i], TG_SENTINEL))
                        fail_msg("source %zu record %d: decode wrote "
                                 "row->vals[%zu] outside its slice",
                                 si, r, i);
        }
        for (i = 0; i < agent->narrays; i++) {
                if (i >= src->first_array &&
                    i < src->first_array + src->narrays)
                        continue;
                if (row->arrays[i].len != TG_LEN_SENTINEL ||
                    row->arrays[i].vals != NULL)
                        fail_msg("source %zu record %d: decode wrote "
                                 "row->arrays[%zu] outside its slice",
                                 si, r, i);
        }
}

/* ---- tests ------------------------------------------------------------ */

/* The descriptor says what the config and the pinned schemas say. */
static void tg_test_descriptor(void **state)
{
        const tg_expect_t *ex = *state;
        const ka_agent_t *agent = ex->agent;
        size_t nsrc = tg_count_sources(ex), nf = tg_count_fields(ex);
        size_t nops = tg_count_ops(ex), si, k, o, total = 0, next = 0;
        size_t total_arrays = 0, next_array = 0;
        tg_source_t *srcs = tg_sources_load(ex);
        char *config = NULL, *record_name;
        avro_schema_t out;

        assert_string_equal(agent->name, ex->name);
        assert_true(asprintf(&config, "%s/config.yaml", ex->case_dir) > 0);
        assert_string_equal(agent->config_file, config);
        free(config);
        assert_int_equal(agent->window_ms, ex->window_ms);
        assert_int_equal(agent->expiration_ms, ex->expiration_ms);
        assert_int_equal(agent->idle_timeout_ms, ex->idle_timeout_ms);
        assert_int_equal(agent->max_future_ms,
                         ex->max_future_ms ? ex->max_future_ms : 300000);
        assert_int_equal(agent->min_sample_size, ex->min_sample_size);
        assert_int_equal(agent->group_by_key, ex->group_by_key);
        assert_int_equal(agent->nops, nops);
        for (o = 0; o < nops; o++)
                assert_int_equal(agent->ops[o], ex->ops[o]);
        assert_non_null(agent->encode);

        assert_int_equal(agent->nsources, nsrc);
        for (si = 0; si < nsrc; si++) {
                const ka_agent_source_t *as = &agent->sources[si];
                const tg_source_t *src = &srcs[si];
                avro_schema_t writer;
                int last_index = -1;

                assert_string_equal(as->topic, ex->topics[si]);
                assert_non_null(as->decode);
                /* Generated from .avsc files: ids are learnt at run
                 * time. */
                assert_int_equal(as->schema_id, 0);
                assert_int_equal(as->schema_version, 0);

                /* The embedded writer schema is the pinned one. */
                writer = tg_parse(as->schema, strlen(as->schema),
                                  "descriptor schema");
                assert_true(avro_schema_equal(writer, src->schema));
                avro_schema_decref(writer);
                assert_null(strpbrk(as->schema, " \n\t"));

                if (ex->time_field)
                        assert_string_equal(as->time_field, ex->time_field);
                else
                        assert_null(as->time_field);

                /* Fields: the config's, contiguous, in schema order;
                 * scalars and arrays each in their table. */
                assert_int_equal(as->first_field, next);
                assert_int_equal(as->first_field, src->first_field);
                assert_int_equal(as->nfields, src->nfields);
                assert_int_equal(as->first_array, next_array);
                assert_int_equal(as->first_array, src->first_array);
                assert_int_equal(as->narrays, src->narrays);
                next += as->nfields;
                total += as->nfields;
                next_array += as->narrays;
                total_arrays += as->narrays;
                for (k = 0; k < as->nfields + as->narrays; k++) {
                        bool is_array = k >= as->nfields;
                        size_t j = is_array ? k - as->nfields : k;
                        const ka_agent_field_t *f =
                                is_array ? &as->arrays[j] : &as->fields[j];
                        const tg_field_t *want =
                                &ex->fields[is_array ? src->array_k[j]
                                                     : src->scalar_k[j]];
                        ka_num_type_t type = KA_NUM_DOUBLE;
                        bool nullable = false, array = false;
                        int index;
                        avro_schema_t fs;

                        assert_int_equal(want->source, si);
                        assert_string_equal(f->name, want->name);
                        assert_string_equal(f->out_name, want->out_name);
                        fs = avro_schema_get_subschema(src->schema, f->name);
                        assert_non_null(fs);
                        assert_true(tg_numeric(fs, &type, &nullable, &array));
                        assert_int_equal(array, is_array);
                        assert_int_equal(f->type, type);
                        assert_int_equal(f->nullable, nullable);
                        index = avro_schema_record_field_get_index(src->schema,
                                                                   f->name);
                        if (k == as->nfields)
                                last_index = -1;
                        assert_true(index > last_index);
                        last_index = index;
                }
        }
        assert_int_equal(agent->nfields, total);
        assert_int_equal(agent->narrays, total_arrays);
        assert_int_equal(agent->nfields + agent->narrays, nf);

        /* The aggregated record (SPEC §8). */
        out = tg_parse(agent->record_schema, strlen(agent->record_schema),
                       "record_schema");
        assert_true(is_avro_record(out));
        record_name = strdup(ex->name);
        assert_non_null(record_name);
        for (char *c = record_name; *c; c++)
                if (!(*c == '_' || (*c >= '0' && *c <= '9') ||
                      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
                        *c = '_';
        assert_string_equal(avro_schema_name(out), record_name);
        free(record_name);
        assert_non_null(avro_schema_namespace(out));
        assert_string_equal(avro_schema_namespace(out), "kafkaaggregator");
        assert_int_equal(avro_schema_record_size(out), 3 + nf * nops);
        assert_string_equal(avro_schema_record_field_name(out, 0), "time");
        assert_string_equal(avro_schema_record_field_name(out, 1),
                            "window_size");
        assert_string_equal(avro_schema_record_field_name(out, 2), "count");
        assert_true(
                is_avro_double(avro_schema_record_field_get_by_index(out, 0)));
        assert_true(
                is_avro_double(avro_schema_record_field_get_by_index(out, 1)));
        assert_true(
                is_avro_int64(avro_schema_record_field_get_by_index(out, 2)));
        for (k = 0; k < nf; k++) {
                for (o = 0; o < nops; o++) {
                        static const char *const op_names[] = {
                                [KA_OP_MIN] = "min",
                                [KA_OP_Q1] = "q1",
                                [KA_OP_MEAN] = "mean",
                                [KA_OP_MEDIAN] = "median",
                                [KA_OP_STDEV] = "stdev",
                                [KA_OP_Q3] = "q3",
                                [KA_OP_MAX] = "max",
                                [KA_OP_SUM] = "sum",
                        };
                        size_t i = 3 + k * nops + o;
                        char *want = NULL;

                        assert_true(asprintf(&want, "%s_%s",
                                             op_names[ex->ops[o]],
                                             ex->fields[k].out_name) > 0);
                        avro_schema_t type;

                        assert_string_equal(
                                avro_schema_record_field_name(out, (int)i),
                                want);
                        type = avro_schema_record_field_get_by_index(out,
                                                                     (int)i);
                        if (tg_is_array(ex, srcs, k)) {
                                assert_true(is_avro_array(type));
                                type = avro_schema_array_items(type);
                        }
                        assert_true(is_avro_double(type));
                        free(want);
                }
        }
        avro_schema_decref(out);
        tg_sources_free(ex, srcs);
}

/* The decoded array field k of the source matches the record's. */
static void tg_check_array(const tg_expect_t *ex, const tg_source_t *src,
                           const tg_record_t *rec, const ka_row_t *row,
                           size_t si, int r, size_t k)
{
        const ka_row_array_t *got = &row->arrays[src->first_array + k];
        const char *name = ex->fields[src->array_k[k]].name;

        if (got->len != rec->array_len[k])
                fail_msg("source %zu record %d array '%s': %zu elements, "
                         "want %zu",
                         si, r, name, got->len, rec->array_len[k]);
        for (size_t i = 0; i < got->len; i++)
                if (!tg_same(got->vals[i], rec->arrays[k][i]))
                        fail_msg("source %zu record %d array '%s' element "
                                 "%zu: got %a, want %a",
                                 si, r, name, i, got->vals[i],
                                 rec->arrays[k][i]);
}

/*
 * avro-c encodes random records; each decoder yields exactly their values
 * (NaN for null) in its slice of the row, every element of its arrays
 * (none for a null array), and their event time.
 */
static void tg_test_decode_values(void **state)
{
        const tg_expect_t *ex = *state;
        const ka_agent_t *agent = ex->agent;
        tg_source_t *srcs = tg_sources_load(ex);
        size_t si, k, nsrc = tg_count_sources(ex);

        for (si = 0; si < nsrc; si++) {
                const ka_agent_source_t *as = &agent->sources[si];
                const tg_source_t *src = &srcs[si];
                /* Per field: seen a number (a non-empty array), seen a
                 * missing value (a null array). */
                bool *seen = calloc(2 * (src->nfields + src->narrays) + 1,
                                    sizeof(bool));
                bool *seen_arr = seen + 2 * src->nfields;
                ka_row_t row;

                assert_non_null(seen);
                tg_row_init(agent, &row);

                tg_seed(0x5eed0000u + si);
                for (int r = 0; r < TG_RECORDS; r++) {
                        tg_record_t rec;
                        int64_t ms = TG_MS_SENTINEL;
                        ka_err_t err;

                        tg_record_make(ex, srcs, si, &rec);
                        for (k = 0; k < agent->nfields; k++)
                                row.vals[k] = TG_SENTINEL;
                        err = as->decode(rec.buf, rec.len, &row, &ms);
                        if (err != rec.err)
                                fail_msg("source %zu record %d (%zu bytes): "
                                         "decode returned %d, want %d",
                                         si, r, rec.len, (int)err,
                                         (int)rec.err);
                        tg_row_check_rest(agent, src, &row, si, r);
                        for (k = 0; !err && k < src->nfields; k++) {
                                double got = row.vals[src->first_field + k];
                                double want = rec.row[k];

                                if (!tg_same(got, want))
                                        fail_msg("source %zu record %d field "
                                                 "'%s': got %a, want %a",
                                                 si, r,
                                                 ex->fields[src->scalar_k[k]]
                                                         .name,
                                                 got, want);
                                seen[2 * k + (isnan(want) ? 1 : 0)] = true;
                        }
                        for (k = 0; !err && k < src->narrays; k++) {
                                tg_check_array(ex, src, &rec, &row, si, r, k);
                                if (rec.array_len[k])
                                        seen_arr[2 * k] = true;
                                if (rec.array_null[k])
                                        seen_arr[2 * k + 1] = true;
                        }
                        if (!err && ms != rec.event_ms)
                                fail_msg("source %zu record %d: event time "
                                         "%" PRId64 ", want %" PRId64,
                                         si, r, ms, rec.event_ms);
                        tg_record_free(src, &rec);
                }
                /* The records exercised every field, and both branches of
                 * every nullable one. */
                for (k = 0; k < src->nfields + src->narrays; k++) {
                        const char *name =
                                ex->fields[k < src->nfields
                                                   ? src->scalar_k[k]
                                                   : src->array_k[k -
                                                                  src->nfields]]
                                        .name;
                        ka_num_type_t type;
                        bool nullable = false, array = false;

                        assert_true(tg_numeric(
                                avro_schema_get_subschema(src->schema, name),
                                &type, &nullable, &array));
                        if (!seen[2 * k] || (nullable && !seen[2 * k + 1]))
                                fail_msg("source %zu field '%s': the records "
                                         "never held a %s",
                                         si, name,
                                         seen[2 * k] ? "null" : "number");
                }
                ka_row_release(&row);
                free(seen);
        }
        tg_sources_free(ex, srcs);
}

/*
 * Every proper prefix of an encoded record is truncated, one byte more is
 * invalid, and corrupt bytes give an error or a value, never a read outside
 * the buffer or a write outside the slice.
 */
static void tg_test_decode_damaged(void **state)
{
        const tg_expect_t *ex = *state;
        const ka_agent_t *agent = ex->agent;
        tg_source_t *srcs = tg_sources_load(ex);
        size_t si, nsrc = tg_count_sources(ex);

        for (si = 0; si < nsrc; si++) {
                const ka_agent_source_t *as = &agent->sources[si];
                const tg_source_t *src = &srcs[si];
                ka_row_t row;

                tg_row_init(agent, &row);
                tg_seed(0x5eed0000u + si);
                for (int r = 0; r < TG_RECORDS; r++) {
                        tg_record_t rec;
                        int64_t ms;
                        uint8_t *copy;
                        ka_err_t err;
                        size_t len;

                        tg_record_make(ex, srcs, si, &rec);
                        for (len = 0; len < rec.len; len++) {
                                copy = tg_copy(rec.buf, len, 0);
                                err = as->decode(copy, len, &row, &ms);
                                if (err != KA_ERR_TRUNCATED)
                                        fail_msg("source %zu record %d cut to "
                                                 "%zu of %zu bytes: decode "
                                                 "returned %d, want "
                                                 "truncated",
                                                 si, r, len, rec.len, (int)err);
                                free(copy);
                        }
                        tg_row_check_rest(agent, src, &row, si, r);

                        copy = tg_copy(rec.buf, rec.len, 1);
                        copy[rec.len] = (uint8_t)tg_rnd();
                        err = as->decode(copy, rec.len + 1, &row, &ms);
                        if (err != KA_ERR_INVALID)
                                fail_msg("source %zu record %d plus a byte: "
                                         "decode returned %d, want invalid",
                                         si, r, (int)err);
                        free(copy);

                        for (int m = 0; m < TG_MUTATIONS && rec.len; m++) {
                                copy = tg_copy(rec.buf, rec.len, 0);
                                copy[tg_below(rec.len)] = (uint8_t)tg_rnd();
                                if (m % 2)
                                        copy[tg_below(rec.len)] ^=
                                                (uint8_t)(1u << tg_below(8));
                                err = as->decode(copy, rec.len, &row, &ms);
                                assert_true(err == KA_OK ||
                                            err == KA_ERR_TRUNCATED ||
                                            err == KA_ERR_OVERFLOW ||
                                            err == KA_ERR_INVALID ||
                                            err == KA_ERR_TIME);
                                free(copy);
                        }
                        tg_row_check_rest(agent, src, &row, si, r);
                        tg_record_free(src, &rec);
                }
                ka_row_release(&row);
        }
        tg_sources_free(ex, srcs);
}

/* Bytes of the zigzag varint of v. */
static size_t tg_varint_len(int64_t v)
{
        uint64_t u = ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
        size_t n = 1;

        while (u >= 0x80) {
                u >>= 7;
                n++;
        }
        return n;
}

/* A length for an array of statistics: 0, 1, short, or long enough for
 * a two-byte count. */
static size_t tg_rnd_array_len(void)
{
        switch (tg_below(6)) {
        case 0:
                return 0;
        case 1:
                return 1;
        case 2:
                return 64 + tg_below(100);
        default:
                return 2 + tg_below(20);
        }
}

/*
 * avro-c reads back with record_schema exactly the time, window size,
 * count and statistics given to encode, in field order (each array field
 * an array per operation, of the length given, empty included); a buffer
 * one byte (or more) too small gives 0 and is not overrun.
 */
static void tg_test_encode(void **state)
{
        const tg_expect_t *ex = *state;
        const ka_agent_t *agent = ex->agent;
        tg_source_t *srcs = tg_sources_load(ex);
        size_t nops = agent->nops, nf = tg_count_fields(ex);
        size_t n = agent->nfields * nops, i, k, o;
        double *values = malloc((n ? n : 1) * sizeof(double));
        ka_agent_array_t *arrays =
                calloc(agent->narrays + 1, sizeof(ka_agent_array_t));
        double **array_vals = calloc(agent->narrays + 1, sizeof(double *));
        /* Per field of the expectation: its scalar or array index. */
        size_t *slot = calloc(nf + 1, sizeof(size_t));
        bool *is_array = calloc(nf + 1, sizeof(bool));
        avro_schema_t out =
                tg_parse(agent->record_schema, strlen(agent->record_schema),
                         "record_schema");
        avro_value_iface_t *iface = avro_generic_class_from_schema(out);
        static const int64_t counts[] = {
                0, 1, 2, 63, 64, 1000000, INT64_C(12345678901), INT64_MAX};
        size_t nscalar = 0, narray = 0;

        assert_non_null(values);
        assert_non_null(arrays);
        assert_non_null(array_vals);
        assert_non_null(slot);
        assert_non_null(is_array);
        assert_non_null(iface);
        for (k = 0; k < nf; k++) {
                is_array[k] = tg_is_array(ex, srcs, k);
                slot[k] = is_array[k] ? narray++ : nscalar++;
        }
        assert_int_equal(nscalar, agent->nfields);
        assert_int_equal(narray, agent->narrays);
        assert_int_equal(avro_schema_record_size(out), 3 + nf * nops);
        tg_seed(0xe4c0de);
        for (int r = 0; r < TG_RESULTS; r++) {
                ka_agent_result_t res;
                size_t len, want_len, cap;
                uint8_t *buf;
                avro_reader_t reader;
                avro_value_t val, fv, item;
                double d;
                int64_t l;

                for (i = 0; i < n; i++)
                        values[i] = r % 2 ? tg_rnd_double()
                                          : (double)(r * 1000 + (int)i) + 0.5;
                res.time = r % 2 ? tg_rnd_double() : 1.7e9 + r + 0.5;
                res.window_size = (double)agent->window_ms / 1000.0;
                res.count = r < (int)KA_ARRAY_SIZE(counts)
                                    ? counts[r]
                                    : (int64_t)(tg_rnd() >> (1 + tg_below(63)));
                res.values = values;
                want_len = 8 + 8 + tg_varint_len(res.count) + 8 * n;
                for (size_t a = 0; a < agent->narrays; a++) {
                        size_t alen = tg_rnd_array_len();

                        free(array_vals[a]);
                        array_vals[a] =
                                malloc((nops * alen + 1) * sizeof(double));
                        assert_non_null(array_vals[a]);
                        for (i = 0; i < nops * alen; i++)
                                array_vals[a][i] = tg_rnd_double();
                        arrays[a].len = alen;
                        arrays[a].values = array_vals[a];
                        want_len += nops *
                                    (1 + (alen ? tg_varint_len((int64_t)alen) +
                                                          8 * alen
                                               : 0));
                }
                res.arrays = arrays;

                buf = malloc(want_len);
                assert_non_null(buf);
                len = agent->encode(&res, buf, want_len);
                assert_int_equal(len, want_len);

                reader = avro_reader_memory((const char *)buf, (int64_t)len);
                assert_non_null(reader);
                assert_int_equal(avro_generic_value_new(iface, &val), 0);
                if (avro_value_read(reader, &val))
                        fail_msg("result %d: avro-c cannot read it: %s", r,
                                 avro_strerror());
                /* All of it: avro-c's own encoding of what it read is as
                 * long (avro_reader_is_eof only knows files). */
                assert_int_equal(avro_value_sizeof(&val, &cap), 0);
                assert_int_equal(cap, len);
                avro_reader_free(reader);

                assert_int_equal(avro_value_get_by_index(&val, 0, &fv, NULL),
                                 0);
                assert_int_equal(avro_value_get_double(&fv, &d), 0);
                assert_memory_equal(&d, &res.time, sizeof(d));
                assert_int_equal(avro_value_get_by_index(&val, 1, &fv, NULL),
                                 0);
                assert_int_equal(avro_value_get_double(&fv, &d), 0);
                assert_memory_equal(&d, &res.window_size, sizeof(d));
                assert_int_equal(avro_value_get_by_index(&val, 2, &fv, NULL),
                                 0);
                assert_int_equal(avro_value_get_long(&fv, &l), 0);
                assert_int_equal(l, res.count);
                for (k = 0; k < nf; k++) {
                        for (o = 0; o < nops; o++) {
                                size_t fi = 3 + k * nops + o, m = 1, e;
                                const double *want;

                                assert_int_equal(avro_value_get_by_index(
                                                         &val, fi, &fv, NULL),
                                                 0);
                                if (!is_array[k]) {
                                        want = &values[slot[k] * nops + o];
                                } else {
                                        const ka_agent_array_t *a =
                                                &arrays[slot[k]];

                                        want = a->values + o * a->len;
                                        assert_int_equal(
                                                avro_value_get_size(&fv, &m),
                                                0);
                                        assert_int_equal(m, a->len);
                                }
                                for (e = 0; e < m; e++) {
                                        item = fv;
                                        if (is_array[k])
                                                assert_int_equal(
                                                        avro_value_get_by_index(
                                                                &fv, e, &item,
                                                                NULL),
                                                        0);
                                        assert_int_equal(avro_value_get_double(
                                                                 &item, &d),
                                                         0);
                                        /* Bit for bit: NaN payloads and
                                         * -0.0 included. */
                                        if (memcmp(&d, &want[e], sizeof(d)))
                                                fail_msg("result %d field "
                                                         "%zu element %zu: "
                                                         "got %a, want %a",
                                                         r, fi, e, d, want[e]);
                                }
                        }
                }
                avro_value_decref(&val);

                /* Too small by one byte or more: 0, nothing written past
                 * cap (the block is exactly cap bytes). */
                for (cap = 0; cap<want_len; cap += want_len> 4096
                                      ? 1 + tg_below(64)
                                      : 1) {
                        uint8_t *small = malloc(cap);

                        assert_true(small != NULL || cap == 0);
                        if (agent->encode(&res, small, cap) != 0)
                                fail_msg("result %d: encode into %zu of %zu "
                                         "bytes did not return 0",
                                         r, cap, want_len);
                        free(small);
                }
                free(buf);
        }
        for (size_t a = 0; a < agent->narrays; a++)
                free(array_vals[a]);
        free(array_vals);
        free(arrays);
        free(slot);
        free(is_array);
        avro_value_iface_decref(iface);
        avro_schema_decref(out);
        free(values);
        tg_sources_free(ex, srcs);
}

/* Runs every check above on the agent ex describes. */
static int tg_run(const tg_expect_t *ex)
{
        const struct CMUnitTest tests[] = {
                {"descriptor", tg_test_descriptor, NULL, NULL, (void *)ex},
                {"decode_values", tg_test_decode_values, NULL, NULL,
                 (void *)ex},
                {"decode_damaged", tg_test_decode_damaged, NULL, NULL,
                 (void *)ex},
                {"encode", tg_test_encode, NULL, NULL, (void *)ex},
        };

        return cmocka_run_group_tests_name(ex->name, tests, NULL, NULL);
}

#endif
