/*
 * Schema resolution: records encoded by avro-c under writer schemas that
 * differ from the agent's (fields added, removed, reordered, promoted,
 * nullable, of types to skip) land in the row as the values encoded;
 * writer schemas that cannot be resolved are refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <avro.h>
#include <math.h>

#include "avro_resolve.h"
#include "ka_test.h"

/* The agent: a source generated for
 *   {time: double, a: double, b: long, c: [null, double], d: int, e: float}
 * aggregating a..e, whose slice starts at row[2]. */
static const char reader_json[] =
        "{\"type\":\"record\",\"name\":\"src\",\"fields\":["
        "{\"name\":\"time\",\"type\":\"double\"},"
        "{\"name\":\"a\",\"type\":\"double\"},"
        "{\"name\":\"b\",\"type\":\"long\"},"
        "{\"name\":\"c\",\"type\":[\"null\",\"double\"]},"
        "{\"name\":\"d\",\"type\":\"int\"},"
        "{\"name\":\"e\",\"type\":\"float\"}]}";

static const ka_agent_field_t fields[] = {
        {"a", "a", KA_NUM_DOUBLE, false}, {"b", "b", KA_NUM_LONG, false},
        {"c", "c", KA_NUM_DOUBLE, true},  {"d", "dd", KA_NUM_INT, false},
        {"e", "e", KA_NUM_FLOAT, false},
};

#define FIRST 2
#define NF    5
#define ROWN  (FIRST + NF + 1)
#define GUARD -12345.5

static ka_agent_source_t source(const char *time_field)
{
        ka_agent_source_t src = {
                .topic = "t",
                .schema_id = 1,
                .schema_version = 1,
                .schema = reader_json,
                .first_field = FIRST,
                .nfields = NF,
                .fields = fields,
                .time_field = time_field,
        };

        return src;
}

/*
 * Sets the numeric field name to x, which the caller chose representable
 * in the field's writer type; NAN selects the null branch of a union.
 */
static void set_num(ka_test_writer_t *w, const char *name, double x)
{
        avro_value_t f, branch, *target = &f;
        avro_schema_t schema;
        size_t i, n;

        if (avro_value_get_by_name(&w->value, name, &f, NULL))
                fail_msg("no field '%s'", name);
        if (avro_value_get_type(&f) == AVRO_UNION) {
                schema = avro_value_get_schema(&f);
                n = avro_schema_union_size(schema);
                for (i = 0; i < n; i++) {
                        int is_null = is_avro_null(
                                avro_schema_union_branch(schema, (int)i));

                        if (is_null == (int)isnan(x))
                                break;
                }
                assert_true(i < n);
                avro_value_set_branch(&f, (int)i, &branch);
                target = &branch;
        }
        switch (avro_value_get_type(target)) {
        case AVRO_NULL:
                avro_value_set_null(target);
                break;
        case AVRO_INT32:
                avro_value_set_int(target, (int32_t)x);
                break;
        case AVRO_INT64:
                avro_value_set_long(target, (int64_t)x);
                break;
        case AVRO_FLOAT:
                avro_value_set_float(target, (float)x);
                break;
        case AVRO_DOUBLE:
                avro_value_set_double(target, x);
                break;
        default:
                fail_msg("field '%s' is not numeric", name);
        }
}

static void set_long(ka_test_writer_t *w, const char *name, int64_t l)
{
        avro_value_t f, branch;

        if (avro_value_get_by_name(&w->value, name, &f, NULL))
                fail_msg("no field '%s'", name);
        if (avro_value_get_type(&f) == AVRO_UNION) {
                avro_value_set_branch(&f, 1, &branch);
                avro_value_set_long(&branch, l);
        } else {
                avro_value_set_long(&f, l);
        }
}

/* Fills every field with random content; set_num calls follow. */
static void writer_randomize(ka_test_writer_t *w)
{
        avro_value_reset(&w->value);
        ka_test_fill_random(&w->value, 0);
}

/*
 * Encodes w's record, checks that every truncation and a trailing byte
 * are errors, then decodes it into row (guard values around the slice
 * must survive).
 */
static ka_err_t resolve(const ka_avro_resolver_t *res, ka_test_writer_t *w,
                        double *row, int64_t *ms)
{
        uint8_t buf[2048] = {0}, *copy;
        avro_writer_t aw = avro_writer_memory((const char *)buf, sizeof(buf));
        size_t len, k;
        double scratch[ROWN];
        ka_row_t scratch_row = {.vals = scratch, .nvals = ROWN};
        ka_row_t out = {.vals = row, .nvals = ROWN};
        ka_err_t err;

        assert_int_equal(avro_value_write(aw, &w->value), 0);
        len = (size_t)avro_writer_tell(aw);
        avro_writer_free(aw);

        for (k = 0; k < len; k++) {
                copy = malloc(k ? k : 1);
                memcpy(copy, buf, k);
                assert_int_not_equal(ka_avro_resolver_decode(
                                             res, copy, k, &scratch_row, NULL),
                                     KA_OK);
                free(copy);
        }
        copy = malloc(len + 1);
        memcpy(copy, buf, len);
        copy[len] = 0;
        assert_int_equal(
                ka_avro_resolver_decode(res, copy, len + 1, &scratch_row, NULL),
                KA_ERR_INVALID);
        free(copy);

        for (k = 0; k < ROWN; k++)
                row[k] = GUARD;
        copy = malloc(len ? len : 1);
        memcpy(copy, buf, len);
        err = ka_avro_resolver_decode(res, copy, len, &out, ms);
        free(copy);
        assert_true(row[0] == GUARD && row[1] == GUARD &&
                    row[ROWN - 1] == GUARD);
        return err;
}

static ka_avro_resolver_t *resolver(const char *json, const char *time_field)
{
        ka_agent_source_t src = source(time_field);
        char errstr[256] = "";
        ka_avro_resolver_t *res =
                ka_avro_resolver_new(json, &src, errstr, sizeof(errstr));

        if (!res)
                fail_msg("resolver: %s", errstr);
        return res;
}

/* The row value of field i of the source. */
#define V(row, i) ((row)[FIRST + (i)])

static void assert_nan(double d)
{
        assert_true(isnan(d));
}

/* ---- tests ------------------------------------------------------------ */

static void same_schema(void **state)
{
        ka_test_writer_t w;
        ka_avro_resolver_t *res = resolver(reader_json, NULL);
        double row[ROWN];
        int n;

        ka_test_writer_init(&w, reader_json);
        for (n = 0; n < 50; n++) {
                double a = (double)(ka_test_rnd() % 100000) / 8 - 3000;
                int64_t b = (int64_t)(ka_test_rnd() >> 12) - (INT64_C(1) << 51);
                int32_t d = (int32_t)ka_test_rnd();
                float e = (float)(ka_test_rnd() % 1000) / 4;
                int64_t ms = 42;

                writer_randomize(&w);
                set_num(&w, "a", a);
                set_num(&w, "b", (double)b);
                set_num(&w, "c", n % 2 ? 0.125 * n : NAN);
                set_num(&w, "d", d);
                set_num(&w, "e", e);
                assert_int_equal(resolve(res, &w, row, &ms), KA_OK);
                assert_true(V(row, 0) == a);
                assert_true(V(row, 1) == (double)b);
                if (n % 2)
                        assert_true(V(row, 2) == 0.125 * n);
                else
                        assert_nan(V(row, 2));
                assert_true(V(row, 3) == d);
                assert_true(V(row, 4) == e);
                /* No time_field: the event time is not touched. */
                assert_true(ms == 42);
        }
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);
}

/* New fields of every kind between and around the agent's, in another
 * order; one new field has a default (irrelevant to the reader). */
static const char added_json[] =
        "{\"type\":\"record\",\"name\":\"src2\",\"namespace\":\"x\",\"fields\":"
        "["
        "{\"name\":\"s\",\"type\":\"string\"},"
        "{\"name\":\"e\",\"type\":\"float\"},"
        "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"items\":\"double\"}},"
        "{\"name\":\"z1\",\"type\":\"double\"},"
        "{\"name\":\"z2\",\"type\":\"float\"},"
        "{\"name\":\"nothing\",\"type\":\"null\"},"
        "{\"name\":\"z3\",\"type\":\"double\",\"default\":1.5},"
        "{\"name\":\"d\",\"type\":\"int\"},"
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
        "{\"name\":\"rec\",\"type\":{\"type\":\"record\",\"name\":\"Sub\","
        " \"fields\":[{\"name\":\"u\",\"type\":[\"null\",\"string\",\"long\"]},"
        "  {\"name\":\"v\",\"type\":{\"type\":\"array\",\"items\":"
        "   {\"type\":\"map\",\"values\":\"int\"}}}]}},"
        "{\"name\":\"recs\",\"type\":{\"type\":\"array\",\"items\":\"Sub\"}},"
        "{\"name\":\"c\",\"type\":[\"null\",\"double\"]},"
        "{\"name\":\"en\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
        " \"symbols\":[\"A\",\"B\",\"C\"]}},"
        "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F\","
        " \"size\":7}},"
        "{\"name\":\"flag\",\"type\":\"boolean\"},"
        "{\"name\":\"blob\",\"type\":\"bytes\"},"
        "{\"name\":\"i\",\"type\":\"int\"},"
        "{\"name\":\"l\",\"type\":\"long\"},"
        "{\"name\":\"b\",\"type\":\"long\"},"
        "{\"name\":\"a\",\"type\":\"double\"},"
        "{\"name\":\"tail\",\"type\":[\"string\",\"null\"]}]}";

static void added_fields_are_skipped(void **state)
{
        ka_test_writer_t w;
        ka_avro_resolver_t *res = resolver(added_json, NULL);
        double row[ROWN];
        int n;

        ka_test_writer_init(&w, added_json);
        for (n = 0; n < 200; n++) {
                double a = (double)(ka_test_rnd() % 100000) / 16;
                int64_t b = (int64_t)(ka_test_rnd() % 1000000) - 500000;
                int32_t d = (int32_t)ka_test_rnd();
                float e = (float)(ka_test_rnd() % 1000) / 8;
                double c = (double)(ka_test_rnd() % 1000);

                writer_randomize(&w);
                set_num(&w, "a", a);
                set_num(&w, "b", (double)b);
                set_num(&w, "c", n % 3 ? c : NAN);
                set_num(&w, "d", d);
                set_num(&w, "e", e);
                assert_int_equal(resolve(res, &w, row, NULL), KA_OK);
                assert_true(V(row, 0) == a);
                assert_true(V(row, 1) == (double)b);
                if (n % 3)
                        assert_true(V(row, 2) == c);
                else
                        assert_nan(V(row, 2));
                assert_true(V(row, 3) == d);
                assert_true(V(row, 4) == e);
        }
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);
}

static void removed_fields_are_nan(void **state)
{
        static const char json[] =
                "{\"type\":\"record\",\"name\":\"src\",\"fields\":["
                "{\"name\":\"time\",\"type\":\"double\"},"
                "{\"name\":\"b\",\"type\":\"long\"},"
                "{\"name\":\"d\",\"type\":\"int\"}]}";
        ka_test_writer_t w;
        ka_avro_resolver_t *res = resolver(json, NULL);
        double row[ROWN];

        ka_test_writer_init(&w, json);
        writer_randomize(&w);
        set_num(&w, "b", -7);
        set_num(&w, "d", 9);
        assert_int_equal(resolve(res, &w, row, NULL), KA_OK);
        assert_nan(V(row, 0));
        assert_true(V(row, 1) == -7);
        assert_nan(V(row, 2));
        assert_true(V(row, 3) == 9);
        assert_nan(V(row, 4));
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);
}

/* Every Avro promotion into the agent's types: int/long/float into a
 * double, int into a long, int/long into a float. */
static void promotions(void **state)
{
        static const char *const a_types[] = {"\"int\"", "\"long\"",
                                              "\"float\"", "\"double\""};
        static const char *const e_types[] = {"\"int\"", "\"long\"",
                                              "\"float\""};
        size_t ia, ie;

        for (ia = 0; ia < KA_ARRAY_SIZE(a_types); ia++) {
                for (ie = 0; ie < KA_ARRAY_SIZE(e_types); ie++) {
                        char json[512];
                        ka_test_writer_t w;
                        ka_avro_resolver_t *res;
                        double row[ROWN];
                        int64_t big = (INT64_C(1) << 40) + 3;

                        snprintf(json, sizeof(json),
                                 "{\"type\":\"record\",\"name\":\"p\","
                                 "\"fields\":["
                                 "{\"name\":\"a\",\"type\":%s},"
                                 "{\"name\":\"b\",\"type\":\"int\"},"
                                 "{\"name\":\"e\",\"type\":%s}]}",
                                 a_types[ia], e_types[ie]);
                        res = resolver(json, NULL);
                        ka_test_writer_init(&w, json);
                        set_num(&w, "a", -1234);
                        set_num(&w, "b", -2147483648.0);
                        /* 2^40 + 3 needs a long; as an int field, 77. */
                        set_num(&w, "e", ie == 1 ? (double)big : 77);
                        assert_int_equal(resolve(res, &w, row, NULL), KA_OK);
                        assert_true(V(row, 0) == -1234);
                        assert_true(V(row, 1) == -2147483648.0);
                        /* Straight to double: not rounded through float. */
                        assert_true(V(row, 4) == (ie == 1 ? (double)big : 77));
                        ka_test_writer_release(&w);
                        ka_avro_resolver_destroy(res);
                }
        }
}

/* A field widened after generation (the agent's int d now a long, its float
 * e now a double) still resolves: the row holds the writer's exact value. */
static void widened_fields(void **state)
{
        static const char json[] =
                "{\"type\":\"record\",\"name\":\"w\",\"fields\":["
                "{\"name\":\"d\",\"type\":\"long\"},"
                "{\"name\":\"e\",\"type\":\"double\"}]}";
        ka_test_writer_t w;
        ka_avro_resolver_t *res = resolver(json, NULL);
        double row[ROWN];
        int64_t big = (INT64_C(1) << 40) + 3;

        ka_test_writer_init(&w, json);
        set_num(&w, "d", (double)big);
        set_num(&w, "e", 0.1);
        assert_int_equal(resolve(res, &w, row, NULL), KA_OK);
        assert_true(V(row, 3) == (double)big);
        assert_true(V(row, 4) == 0.1);
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);
}

static void nullable_fields(void **state)
{
        static const char json[] =
                "{\"type\":\"record\",\"name\":\"n\",\"fields\":["
                "{\"name\":\"a\",\"type\":[\"double\",\"null\"]},"
                "{\"name\":\"b\",\"type\":[\"null\",\"int\",\"long\"]},"
                "{\"name\":\"c\",\"type\":[\"null\",\"float\"]},"
                "{\"name\":\"d\",\"type\":\"null\"}]}";
        ka_test_writer_t w;
        ka_avro_resolver_t *res = resolver(json, NULL);
        double row[ROWN];

        ka_test_writer_init(&w, json);
        set_num(&w, "a", NAN);
        set_num(&w, "b", NAN);
        set_num(&w, "c", NAN);
        set_num(&w, "d", NAN);
        assert_int_equal(resolve(res, &w, row, NULL), KA_OK);
        assert_nan(V(row, 0));
        assert_nan(V(row, 1));
        assert_nan(V(row, 2));
        assert_nan(V(row, 3));
        assert_nan(V(row, 4));

        set_num(&w, "a", 2.5);
        set_num(&w, "c", 0.5);
        {
                avro_value_t f, br;

                avro_value_get_by_name(&w.value, "b", &f, NULL);
                avro_value_set_branch(&f, 2, &br);
                avro_value_set_long(&br, INT64_C(1) << 50);
        }
        assert_int_equal(resolve(res, &w, row, NULL), KA_OK);
        assert_true(V(row, 0) == 2.5);
        assert_true(V(row, 1) == (double)(INT64_C(1) << 50));
        assert_true(V(row, 2) == 0.5);
        assert_nan(V(row, 3));
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);
}

static void unresolvable_schemas(void **state)
{
        static const struct {
                const char *json, *time, *needle;
        } cases[] = {
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"a\",\"type\":\"string\"}]}",
                 NULL, "'a'"},
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"c\",\"type\":[\"null\",\"string\"]}]}",
                 NULL, "'c'"},
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"a\",\"type\":{\"type\":\"array\","
                 "\"items\":\"double\"}}]}",
                 NULL, "'a'"},
                {"\"double\"", NULL, "record"},
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":[", NULL,
                 "schema"},
                /* Time fields. */
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"a\",\"type\":\"double\"}]}",
                 "ts", "'ts'"},
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"ts\",\"type\":\"long\"}]}",
                 "ts", "'ts'"},
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"ts\",\"type\":\"string\"}]}",
                 "ts", "'ts'"},
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"ts\",\"type\":\"null\"}]}",
                 "ts", "'ts'"},
        };
        size_t i;

        for (i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                ka_agent_source_t src = source(cases[i].time);
                char errstr[256] = "";
                ka_avro_resolver_t *res = ka_avro_resolver_new(
                        cases[i].json, &src, errstr, sizeof(errstr));

                if (res)
                        fail_msg("case %zu resolved", i);
                if (!strstr(errstr, cases[i].needle))
                        fail_msg("case %zu: '%s' lacks %s", i, errstr,
                                 cases[i].needle);
        }
}

static void time_fields(void **state)
{
        static const char seconds_json[] =
                "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                "{\"name\":\"a\",\"type\":\"double\"},"
                "{\"name\":\"time\",\"type\":\"double\"}]}";
        static const char millis_json[] =
                "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                "{\"name\":\"ts\",\"type\":{\"type\":\"long\","
                "\"logicalType\":\"timestamp-millis\"}},"
                "{\"name\":\"a\",\"type\":\"double\"}]}";
        static const char micros_json[] =
                "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                "{\"name\":\"ts\",\"type\":[\"null\",{\"type\":\"long\","
                "\"logicalType\":\"timestamp-micros\"}]},"
                "{\"name\":\"a\",\"type\":\"double\"}]}";
        /* The time field is also aggregated: b reads ts as a long. */
        static const char both_json[] =
                "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                "{\"name\":\"b\",\"type\":{\"type\":\"long\","
                "\"logicalType\":\"timestamp-millis\"}}]}";
        ka_test_writer_t w;
        ka_avro_resolver_t *res;
        double row[ROWN];
        int64_t ms = 0;

        res = resolver(seconds_json, "time");
        ka_test_writer_init(&w, seconds_json);
        set_num(&w, "a", 1);
        set_num(&w, "time", 1700000000.25);
        assert_int_equal(resolve(res, &w, row, &ms), KA_OK);
        assert_true(ms == INT64_C(1700000000250));
        assert_true(V(row, 0) == 1);
        set_num(&w, "time", INFINITY);
        assert_int_equal(resolve(res, &w, row, &ms), KA_ERR_TIME);
        set_num(&w, "time", NAN);
        assert_int_equal(resolve(res, &w, row, &ms), KA_ERR_TIME);
        set_num(&w, "time", -1e308);
        assert_int_equal(resolve(res, &w, row, &ms), KA_ERR_TIME);
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);

        res = resolver(millis_json, "ts");
        ka_test_writer_init(&w, millis_json);
        set_num(&w, "a", 2);
        set_long(&w, "ts", INT64_C(1700000000123));
        assert_int_equal(resolve(res, &w, row, &ms), KA_OK);
        assert_true(ms == INT64_C(1700000000123));
        assert_true(V(row, 0) == 2);
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);

        res = resolver(micros_json, "ts");
        ka_test_writer_init(&w, micros_json);
        set_num(&w, "a", 3);
        set_long(&w, "ts", INT64_C(1700000000123999));
        assert_int_equal(resolve(res, &w, row, &ms), KA_OK);
        assert_true(ms == INT64_C(1700000000123));
        set_long(&w, "ts", -1);
        assert_int_equal(resolve(res, &w, row, &ms), KA_OK);
        assert_true(ms == -1);
        set_num(&w, "ts", NAN);
        assert_int_equal(resolve(res, &w, row, &ms), KA_ERR_INVALID);
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);

        res = resolver(both_json, "b");
        ka_test_writer_init(&w, both_json);
        set_long(&w, "b", 5000);
        assert_int_equal(resolve(res, &w, row, &ms), KA_OK);
        assert_true(ms == 5000);
        assert_true(V(row, 1) == 5000);
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);
}

/* Corrupt bytes: an error or some values, never a read outside. */
static void corruptions_stay_in_bounds(void **state)
{
        ka_test_writer_t w;
        ka_avro_resolver_t *res = resolver(added_json, NULL);
        double vals[ROWN];
        ka_row_t row = {.vals = vals, .nvals = ROWN};
        int n;

        ka_test_writer_init(&w, added_json);
        for (n = 0; n < 30; n++) {
                uint8_t buf[2048] = {0}, *copy;
                avro_writer_t aw =
                        avro_writer_memory((const char *)buf, sizeof(buf));
                size_t len, k;

                writer_randomize(&w);
                assert_int_equal(avro_value_write(aw, &w.value), 0);
                len = (size_t)avro_writer_tell(aw);
                avro_writer_free(aw);
                copy = malloc(len);
                memcpy(copy, buf, len);
                for (k = 0; k < len; k++) {
                        uint8_t was = copy[k];

                        copy[k] = (uint8_t)ka_test_rnd();
                        (void)ka_avro_resolver_decode(res, copy, len, &row,
                                                      NULL);
                        copy[k] = was ^ 0x80;
                        (void)ka_avro_resolver_decode(res, copy, len, &row,
                                                      NULL);
                        copy[k] = was;
                }
                free(copy);
        }
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);
}

/* Skipped writer fields of a recursive type, and runs of fixed-width
 * fields (a record of a double, a fixed and a null among them) between the
 * fields the agent reads. */
static void recursive_and_fixed_width_fields_are_skipped(void **state)
{
        static const char json[] =
                "{\"type\":\"record\",\"name\":\"rw\",\"fields\":["
                "{\"name\":\"list\",\"type\":{\"type\":\"record\","
                " \"name\":\"Node\",\"fields\":[{\"name\":\"v\","
                " \"type\":\"int\"},{\"name\":\"next\","
                " \"type\":[\"null\",\"Node\"]}]}},"
                "{\"name\":\"a\",\"type\":\"double\"},"
                "{\"name\":\"z\",\"type\":\"float\"},"
                "{\"name\":\"pair\",\"type\":{\"type\":\"record\","
                " \"name\":\"Pair\",\"fields\":[{\"name\":\"x\","
                " \"type\":\"double\"},{\"name\":\"y\",\"type\":"
                " {\"type\":\"fixed\",\"name\":\"F3\",\"size\":3}},"
                " {\"name\":\"n\",\"type\":\"null\"}]}},"
                "{\"name\":\"pairs\",\"type\":{\"type\":\"array\","
                " \"items\":\"Pair\"}},"
                "{\"name\":\"b\",\"type\":\"long\"},"
                "{\"name\":\"nodes\",\"type\":{\"type\":\"map\","
                " \"values\":\"Node\"}},"
                "{\"name\":\"w\",\"type\":\"double\"}]}";
        ka_test_writer_t w;
        ka_avro_resolver_t *res = resolver(json, NULL);
        double row[ROWN];
        int n;

        ka_test_writer_init(&w, json);
        for (n = 0; n < 100; n++) {
                double a = (double)(ka_test_rnd() % 100000) / 32;
                int64_t b = (int64_t)(ka_test_rnd() % 1000000) - 500000;

                writer_randomize(&w);
                set_num(&w, "a", a);
                set_num(&w, "b", (double)b);
                assert_int_equal(resolve(res, &w, row, NULL), KA_OK);
                assert_true(V(row, 0) == a);
                assert_true(V(row, 1) == (double)b);
                assert_nan(V(row, 2));
                assert_nan(V(row, 3));
                assert_nan(V(row, 4));
        }
        ka_test_writer_release(&w);
        ka_avro_resolver_destroy(res);
}

/* A skipped field whose type nests deeper than any value could be skipped
 * is refused by name. */
static void too_deep_fields_are_refused(void **state)
{
        char json[4096], errstr[256] = "";
        ka_agent_source_t src = source(NULL);
        size_t n = 0;
        int i;

        n += (size_t)snprintf(json + n, sizeof(json) - n,
                              "{\"type\":\"record\",\"name\":\"r\","
                              "\"fields\":[{\"name\":\"a\",\"type\":"
                              "\"double\"},{\"name\":\"deep\",\"type\":");
        for (i = 0; i < 100; i++)
                n += (size_t)snprintf(json + n, sizeof(json) - n,
                                      "{\"type\":\"array\",\"items\":");
        n += (size_t)snprintf(json + n, sizeof(json) - n, "\"long\"");
        for (i = 0; i < 100; i++)
                n += (size_t)snprintf(json + n, sizeof(json) - n, "}");
        n += (size_t)snprintf(json + n, sizeof(json) - n, "}]}");
        assert_true(n < sizeof(json));
        assert_null(ka_avro_resolver_new(json, &src, errstr, sizeof(errstr)));
        if (!strstr(errstr, "'deep'"))
                fail_msg("'%s' lacks 'deep'", errstr);
}

/* ---- array fields ------------------------------------------------------ */

/* An agent source with a scalar x and two array fields v and w (w
 * nullable), whose slices start at row->vals[1] and row->arrays[1]. */
static const ka_agent_field_t arr_fields[] = {
        {"x", "x", KA_NUM_DOUBLE, false},
};
static const ka_agent_field_t arr_arrays[] = {
        {"v", "v", KA_NUM_DOUBLE, false},
        {"w", "w", KA_NUM_INT, true},
};

static ka_agent_source_t arr_source(void)
{
        ka_agent_source_t src = {
                .topic = "t",
                .first_field = 1,
                .nfields = 1,
                .fields = arr_fields,
                .first_array = 1,
                .narrays = 2,
                .arrays = arr_arrays,
        };

        return src;
}

/* Encodes w's value and decodes it through a resolver of json into row:
 * every truncation fails, and what lies outside the source's slices stays
 * untouched. */
static ka_err_t arr_decode(const char *json, ka_test_writer_t *w, ka_row_t *row)
{
        ka_agent_source_t src = arr_source();
        char errstr[256] = "";
        ka_avro_resolver_t *res;
        uint8_t buf[1 << 14] = {0};
        avro_writer_t aw = avro_writer_memory((const char *)buf, sizeof(buf));
        ka_err_t err;
        size_t len;

        assert_int_equal(avro_value_write(aw, &w->value), 0);
        len = (size_t)avro_writer_tell(aw);
        avro_writer_free(aw);
        res = ka_avro_resolver_new(json, &src, errstr, sizeof(errstr));
        if (!res)
                fail_msg("resolver: %s", errstr);
        for (size_t k = 0; k < len; k++)
                assert_int_not_equal(
                        ka_avro_resolver_decode(res, buf, k, row, NULL), KA_OK);
        row->vals[0] = GUARD;
        row->arrays[0].len = 99;
        err = ka_avro_resolver_decode(res, buf, len, row, NULL);
        assert_true(row->vals[0] == GUARD);
        assert_int_equal(row->arrays[0].len, 99);
        ka_avro_resolver_destroy(res);
        return err;
}

/* Appends n elements i * step of the writer's items type to array a. */
static void fill_array(avro_value_t *a, size_t n, double step)
{
        for (size_t i = 0; i < n; i++) {
                avro_value_t item;

                assert_int_equal(avro_value_append(a, &item, NULL), 0);
                switch (avro_value_get_type(&item)) {
                case AVRO_INT32:
                        avro_value_set_int(&item, (int32_t)((double)i * step));
                        break;
                case AVRO_INT64:
                        avro_value_set_long(&item, (int64_t)((double)i * step));
                        break;
                case AVRO_FLOAT:
                        avro_value_set_float(&item, (float)((double)i * step));
                        break;
                default:
                        avro_value_set_double(&item, (double)i * step);
                }
        }
}

/* Writer arrays of any numeric items, nullable or not, in another order
 * among other fields, land element for element; a null array or one the
 * writer lacks is empty. */
static void array_fields(void **state)
{
        static const char writer_json[] =
                "{\"type\":\"record\",\"name\":\"w\",\"fields\":["
                "{\"name\":\"w\",\"type\":[\"null\",{\"type\":\"array\","
                "\"items\":\"long\"}]},"
                "{\"name\":\"s\",\"type\":\"string\"},"
                "{\"name\":\"v\",\"type\":{\"type\":\"array\","
                "\"items\":\"int\"}},"
                "{\"name\":\"x\",\"type\":\"float\"},"
                "{\"name\":\"other\",\"type\":{\"type\":\"array\","
                "\"items\":\"double\"}}]}";
        static const char lacking_json[] =
                "{\"type\":\"record\",\"name\":\"w\",\"fields\":["
                "{\"name\":\"v\",\"type\":{\"type\":\"array\","
                "\"items\":\"float\"}},"
                "{\"name\":\"x\",\"type\":\"double\"}]}";
        ka_test_writer_t w;
        avro_value_t f, branch;
        ka_row_t row;

        assert_true(ka_row_init(&row, 2, 3));
        for (int rep = 0; rep < 3; rep++) {
                ka_test_writer_init(&w, writer_json);
                avro_value_get_by_name(&w.value, "w", &f, NULL);
                avro_value_set_branch(&f, rep == 1 ? 0 : 1, &branch);
                if (rep != 1)
                        fill_array(&branch, 5 + (size_t)rep * 100, -3);
                avro_value_get_by_name(&w.value, "s", &f, NULL);
                avro_value_set_string(&f, "hello");
                avro_value_get_by_name(&w.value, "v", &f, NULL);
                fill_array(&f, rep == 2 ? 0 : 70, 7);
                avro_value_get_by_name(&w.value, "x", &f, NULL);
                avro_value_set_float(&f, 1.5f);
                avro_value_get_by_name(&w.value, "other", &f, NULL);
                fill_array(&f, 4, 1);
                assert_int_equal(arr_decode(writer_json, &w, &row), KA_OK);
                assert_true(row.vals[1] == 1.5);
                assert_int_equal(row.arrays[1].len, rep == 2 ? 0 : 70);
                for (size_t i = 0; i < row.arrays[1].len; i++)
                        assert_true(row.arrays[1].vals[i] == (double)i * 7);
                assert_int_equal(row.arrays[2].len,
                                 rep == 1 ? 0 : 5 + (size_t)rep * 100);
                for (size_t i = 0; i < row.arrays[2].len; i++)
                        assert_true(row.arrays[2].vals[i] == (double)i * -3);
                ka_test_writer_release(&w);
        }

        ka_test_writer_init(&w, lacking_json);
        avro_value_get_by_name(&w.value, "v", &f, NULL);
        fill_array(&f, 3, 0.5);
        avro_value_get_by_name(&w.value, "x", &f, NULL);
        avro_value_set_double(&f, -2);
        row.arrays[2].len = 1234;
        assert_int_equal(arr_decode(lacking_json, &w, &row), KA_OK);
        assert_true(row.vals[1] == -2);
        assert_int_equal(row.arrays[1].len, 3);
        assert_true(row.arrays[1].vals[2] == 1.0);
        assert_int_equal(row.arrays[2].len, 0);
        ka_test_writer_release(&w);
        ka_row_release(&row);
}

/* A scalar where the agent has an array, an array where it has a scalar,
 * an array of what is not a number: refused, naming the field. */
static void array_fields_unresolvable(void **state)
{
        static const struct {
                const char *json, *needle;
        } cases[] = {
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"v\",\"type\":\"double\"}]}",
                 "'v' of type 'double' cannot be read as 'array of double'"},
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"x\",\"type\":{\"type\":\"array\","
                 "\"items\":\"double\"}}]}",
                 "'x'"},
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"w\",\"type\":[\"null\",{\"type\":\"array\","
                 "\"items\":\"string\"}]}]}",
                 "'w' of type 'array of string'"},
                {"{\"type\":\"record\",\"name\":\"r\",\"fields\":["
                 "{\"name\":\"v\",\"type\":{\"type\":\"array\",\"items\":"
                 "{\"type\":\"array\",\"items\":\"double\"}}}]}",
                 "'v' of type 'array of array'"},
        };

        for (size_t i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                ka_agent_source_t src = arr_source();
                char errstr[256] = "";
                ka_avro_resolver_t *res = ka_avro_resolver_new(
                        cases[i].json, &src, errstr, sizeof(errstr));

                if (res)
                        fail_msg("case %zu resolved", i);
                if (!strstr(errstr, cases[i].needle))
                        fail_msg("case %zu: '%s' lacks %s", i, errstr,
                                 cases[i].needle);
        }
}

static void destroy_null(void **state)
{
        ka_avro_resolver_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(same_schema),
                cmocka_unit_test(added_fields_are_skipped),
                cmocka_unit_test(removed_fields_are_nan),
                cmocka_unit_test(promotions),
                cmocka_unit_test(widened_fields),
                cmocka_unit_test(nullable_fields),
                cmocka_unit_test(unresolvable_schemas),
                cmocka_unit_test(time_fields),
                cmocka_unit_test(corruptions_stay_in_bounds),
                cmocka_unit_test(recursive_and_fixed_width_fields_are_skipped),
                cmocka_unit_test(too_deep_fields_are_refused),
                cmocka_unit_test(destroy_null),
                cmocka_unit_test(array_fields),
                cmocka_unit_test(array_fields_unresolvable),
        };

        ka_test_seed(0x2545f4914f6cdd1dULL);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
