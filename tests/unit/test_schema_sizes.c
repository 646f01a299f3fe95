/*
 * Huge schemas in linear time (issue #10): a writer schema of 100k fields
 * fetched for one message froze a worker for 42 s, and a 15k-field source
 * made generate-agents time out against the dev registry, because
 * duplicate checks over fields, enum symbols, union branches and named
 * types compared every pair. Each case below builds one such schema and
 * must go through parsing, both canonical forms, compatibility, schema
 * resolution and the generator's field model within a CPU-time budget:
 * on the development machine linear work takes 0.1 to 1.4 s of it, and
 * pairwise work took 14 to 66 s. Last, schemas whose skip programs (named
 * types spelled out at each use) would take gigabytes are refused with a
 * reason, quickly (fuzz_schema_gen found the generator and schema
 * resolution building 20k programs of 20k entries).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "avro_resolve.h"
#include "avro_schema.h"
#include "schema.h"
#include "schema_compat.h"

/* CPU seconds one case may take; sanitizers slow everything down about
 * fivefold. */
#if defined(__SANITIZE_ADDRESS__)
#define BUDGET 20.0
#else
#define BUDGET 4.0
#endif

static double cpu_seconds(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A schema text built with printf-like pieces. */
typedef struct text_s {
        char *s;
        size_t len;
        FILE *f;
} text_t;

static void text_open(text_t *t)
{
        t->s = NULL;
        t->f = open_memstream(&t->s, &t->len);
        assert_non_null(t->f);
}

static char *text_close(text_t *t)
{
        fclose(t->f);
        return t->s;
}

static const ka_agent_field_t reader_fields[] = {
        {"f1", "f1", KA_NUM_DOUBLE, false},
        {"f99998", "f99998", KA_NUM_DOUBLE, false},
};

/* Everything the worker, the generator and the registry do with a
 * writer schema, timed. */
static void everything(const char *json, const char *what)
{
        ka_agent_source_t src = {
                .topic = "t", .nfields = 2, .fields = reader_fields};
        char errstr[512], why[512], *canonical, *normalized;
        ka_avro_schema_t *schema;
        ka_avro_resolver_t *res;
        ka_schema_t *model;
        double t0 = cpu_seconds(), t;

        schema = ka_avro_schema_parse(json, errstr, sizeof(errstr));
        if (!schema)
                fail_msg("%s: refused: %s", what, errstr);
        canonical = ka_avro_schema_canonical_of(schema);
        normalized = ka_avro_schema_normalized_of(schema);
        assert_non_null(canonical);
        assert_non_null(normalized);
        assert_int_equal(ka_schema_compat_nodes(ka_avro_schema_root(schema),
                                                ka_avro_schema_root(schema),
                                                why, sizeof(why)),
                         KA_OK);
        res = ka_avro_resolver_new(json, &src, errstr, sizeof(errstr));
        model = ka_schema_parse(json, errstr, sizeof(errstr));
        t = cpu_seconds() - t0;
        print_message("%s: %.3f s\n", what, t);
        if (t > BUDGET)
                fail_msg("%s took %.1f s of CPU", what, t);
        ka_schema_destroy(model);
        ka_avro_resolver_destroy(res);
        free(canonical);
        free(normalized);
        ka_avro_schema_destroy(schema);
}

static void hundred_thousand_fields(void **state)
{
        text_t t;
        char *json;

        text_open(&t);
        fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[", t.f);
        for (int i = 0; i < 100000; i++)
                fprintf(t.f, "%s{\"name\":\"f%d\",\"type\":\"double\"}",
                        i ? "," : "", i);
        fputs("]}", t.f);
        json = text_close(&t);
        everything(json, "100k fields");
        free(json);
}

static void hundred_thousand_symbols(void **state)
{
        text_t t;
        char *json;

        text_open(&t);
        fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":"
              "\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[",
              t.f);
        for (int i = 0; i < 100000; i++)
                fprintf(t.f, "%s\"S%d\"", i ? "," : "", i);
        fputs("]}}]}", t.f);
        json = text_close(&t);
        everything(json, "100k enum symbols");
        free(json);
}

static void twenty_thousand_named_types(void **state)
{
        text_t t;
        char *json;

        text_open(&t);
        fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[", t.f);
        for (int i = 0; i < 20000; i++)
                fprintf(t.f,
                        "%s{\"name\":\"f%d\",\"type\":{\"type\":\"fixed\","
                        "\"name\":\"F%d\",\"size\":1}}",
                        i ? "," : "", i, i);
        /* and each used again by name */
        for (int i = 0; i < 20000; i++)
                fprintf(t.f, ",{\"name\":\"g%d\",\"type\":\"F%d\"}", i, i);
        fputs("]}", t.f);
        json = text_close(&t);
        everything(json, "20k named types");
        free(json);
}

static void forty_thousand_union_branches(void **state)
{
        text_t t;
        char *json;

        text_open(&t);
        fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":"
              "\"u\",\"type\":[\"null\"",
              t.f);
        for (int i = 0; i < 40000; i++)
                fprintf(t.f,
                        ",{\"type\":\"enum\",\"name\":\"E%d\",\"symbols\":"
                        "[\"A\"]}",
                        i);
        fputs("]}]}", t.f);
        json = text_close(&t);
        everything(json, "40k union branches");
        free(json);
}

static void enum_default_of_fifty_thousand_symbols(void **state)
{
        text_t t;
        char *json;

        /* Every symbol of a big enum checked in an array default. */
        text_open(&t);
        fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":"
              "\"a\",\"type\":{\"type\":\"array\",\"items\":{\"type\":"
              "\"enum\",\"name\":\"E\",\"symbols\":[",
              t.f);
        for (int i = 0; i < 50000; i++)
                fprintf(t.f, "%s\"S%d\"", i ? "," : "", i);
        fputs("]}},\"default\":[", t.f);
        for (int i = 0; i < 50000; i++)
                fprintf(t.f, "%s\"S%d\"", i ? "," : "", 49999 - i);
        fputs("]}]}", t.f);
        json = text_close(&t);
        everything(json, "a default of 50k enum symbols");
        free(json);
}

/*
 * A default checked against a union of types that hold that union again:
 * B1 = {x: [null, B1]}, B2 = {x: [null, B1, B2]}, ... B7, and a default
 * 300 levels of {"x": ...} deep that fails at the bottom. Every branch is
 * tried at every level: without a memo about 300^7 steps for 3 KB of
 * schema.
 */
static void a_deep_default_through_unions(void **state)
{
        char errstr[512];
        text_t t;
        char *json;
        double t0 = cpu_seconds();

        text_open(&t);
        fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[", t.f);
        for (int i = 1; i <= 7; i++) {
                fprintf(t.f,
                        "{\"name\":\"f%d\",\"type\":{\"type\":\"record\","
                        "\"name\":\"B%d\",\"fields\":[{\"name\":\"x\","
                        "\"type\":[\"null\"",
                        i, i);
                for (int k = 1; k <= i; k++)
                        fprintf(t.f, ",\"B%d\"", k);
                fputs("]}]}},", t.f);
        }
        fputs("{\"name\":\"bad\",\"type\":\"B7\",\"default\":", t.f);
        for (int i = 0; i < 300; i++)
                fputs("{\"x\":", t.f);
        fputs("5", t.f);
        for (int i = 0; i < 300; i++)
                fputs("}", t.f);
        fputs("}]}", t.f);
        json = text_close(&t);

        assert_null(ka_avro_schema_parse(json, errstr, sizeof(errstr)));
        if (!strstr(errstr, "default of field 'bad'"))
                fail_msg("refused for: %s", errstr);
        if (cpu_seconds() - t0 > BUDGET)
                fail_msg("took %.1f s", cpu_seconds() - t0);
        free(json);
}

/*
 * Named types used twice in each other: the schema is small, the program
 * that spells them out is 2^40 long. Skip programs stop at
 * KA_SKIP_MAX_PROG, and the schema is refused with a reason instead of
 * eating the machine.
 */
static void named_types_doubling_forty_times(void **state)
{
        ka_agent_source_t src = {
                .topic = "t", .nfields = 2, .fields = reader_fields};
        char errstr[512];
        text_t t;
        char *json;
        double t0 = cpu_seconds();

        text_open(&t);
        fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":"
              "\"f1\",\"type\":\"double\"},{\"name\":\"big\",\"type\":",
              t.f);
        for (int i = 40; i > 0; i--)
                fprintf(t.f,
                        "{\"type\":\"record\",\"name\":\"D%d\",\"fields\":[{"
                        "\"name\":\"a\",\"type\":",
                        i);
        fputs("{\"type\":\"record\",\"name\":\"D0\",\"fields\":[{\"name\":"
              "\"x\",\"type\":\"int\"}]}",
              t.f);
        for (int i = 1; i <= 40; i++)
                fprintf(t.f, "},{\"name\":\"b\",\"type\":\"D%d\"}]}", i - 1);
        fputs("}]}", t.f);
        json = text_close(&t);

        assert_null(ka_avro_resolver_new(json, &src, errstr, sizeof(errstr)));
        if (!strstr(errstr, "too large to skip"))
                fail_msg("resolution: %s", errstr);
        assert_null(ka_schema_parse(json, errstr, sizeof(errstr)));
        if (!strstr(errstr, "too large to skip"))
                fail_msg("generator: %s", errstr);
        /* The registry checks each pair of types once. */
        assert_int_equal(
                ka_schema_compat_check(json, json, errstr, sizeof(errstr)),
                KA_OK);
        if (cpu_seconds() - t0 > BUDGET)
                fail_msg("took %.1f s", cpu_seconds() - t0);
        free(json);
}

/* 20k fields of a 20k-field record: 20k programs of 40k entries each,
 * unless the programs of one schema stop at KA_SKIP_MAX_TOTAL. */
static void twenty_thousand_uses_of_a_big_record(void **state)
{
        ka_agent_source_t src = {
                .topic = "t", .nfields = 2, .fields = reader_fields};
        char errstr[512];
        text_t t;
        char *json;
        double t0 = cpu_seconds();

        text_open(&t);
        fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":"
              "\"g0\",\"type\":{\"type\":\"record\",\"name\":\"Big\","
              "\"fields\":[",
              t.f);
        for (int i = 0; i < 20000; i++)
                fprintf(t.f, "%s{\"name\":\"b%d\",\"type\":\"string\"}",
                        i ? "," : "", i);
        fputs("]}}", t.f);
        for (int i = 1; i < 20000; i++)
                fprintf(t.f, ",{\"name\":\"g%d\",\"type\":\"Big\"}", i);
        fputs("]}", t.f);
        json = text_close(&t);

        assert_null(ka_avro_resolver_new(json, &src, errstr, sizeof(errstr)));
        if (!strstr(errstr, "too large to skip"))
                fail_msg("resolution: %s", errstr);
        assert_null(ka_schema_parse(json, errstr, sizeof(errstr)));
        if (!strstr(errstr, "too large to skip"))
                fail_msg("generator: %s", errstr);
        if (cpu_seconds() - t0 > BUDGET)
                fail_msg("took %.1f s", cpu_seconds() - t0);
        free(json);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(hundred_thousand_fields),
                cmocka_unit_test(hundred_thousand_symbols),
                cmocka_unit_test(twenty_thousand_named_types),
                cmocka_unit_test(forty_thousand_union_branches),
                cmocka_unit_test(enum_default_of_fifty_thousand_symbols),
                cmocka_unit_test(a_deep_default_through_unions),
                cmocka_unit_test(named_types_doubling_forty_times),
                cmocka_unit_test(twenty_thousand_uses_of_a_big_record),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
