/*
 * Schema compatibility: each rule of Avro schema resolution, one reader
 * and writer pair at a time, then the registry's levels over a history of
 * versions. Expectations come from the Avro specification's resolution
 * rules and the Confluent level definitions, not from the code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema_compat.h"

static void assert_reads(const char *reader, const char *writer)
{
        char why[512] = "";
        ka_err_t err = ka_schema_compat_check(reader, writer, why, sizeof(why));

        if (err)
                fail_msg("reader %s cannot read writer %s: %s", reader, writer,
                         why);
}

/* The reader must not read the writer, and why must name want. */
static void assert_refuses(const char *reader, const char *writer,
                           const char *want)
{
        char why[512] = "";
        ka_err_t err = ka_schema_compat_check(reader, writer, why, sizeof(why));

        if (err != KA_ERR_CONFLICT)
                fail_msg("reader %s reads writer %s (err %d)", reader, writer,
                         err);
        if (!strstr(why, want))
                fail_msg("reason '%s' lacks '%s'", why, want);
}

/* A record R with the given fields text. */
static char *rec(const char *fields)
{
        static char buf[4][1024];
        static int next;
        char *out = buf[next++ % 4];

        snprintf(out, sizeof(buf[0]),
                 "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"t\","
                 "\"fields\":[%s]}",
                 fields);
        return out;
}

static void identical_primitives_read(void **state)
{
        static const char *const prims[] = {
                "\"null\"",  "\"boolean\"", "\"int\"",   "\"long\"",
                "\"float\"", "\"double\"",  "\"bytes\"", "\"string\"",
        };

        for (size_t i = 0; i < sizeof(prims) / sizeof(prims[0]); i++)
                assert_reads(prims[i], prims[i]);
        assert_refuses("\"boolean\"", "\"null\"", "boolean");
}

static void promotions_widen_only(void **state)
{
        assert_reads("\"long\"", "\"int\"");
        assert_reads("\"float\"", "\"int\"");
        assert_reads("\"double\"", "\"int\"");
        assert_reads("\"float\"", "\"long\"");
        assert_reads("\"double\"", "\"long\"");
        assert_reads("\"double\"", "\"float\"");
        assert_reads("\"bytes\"", "\"string\"");
        assert_reads("\"string\"", "\"bytes\"");

        assert_refuses("\"int\"", "\"long\"", "reader type int");
        assert_refuses("\"long\"", "\"float\"", "writer type float");
        assert_refuses("\"float\"", "\"double\"", "double");
        assert_refuses("\"int\"", "\"double\"", "double");
        assert_refuses("\"string\"", "\"int\"", "string");
        assert_refuses("\"double\"", "\"string\"", "string");
}

static void record_fields_resolve_by_name(void **state)
{
        const char *v1 = rec("{\"name\":\"a\",\"type\":\"int\"}");
        const char *with_default =
                rec("{\"name\":\"a\",\"type\":\"int\"},"
                    "{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}");
        const char *without_default =
                rec("{\"name\":\"a\",\"type\":\"int\"},"
                    "{\"name\":\"b\",\"type\":\"string\"}");

        /* A new reader field needs a default. */
        assert_reads(with_default, v1);
        assert_refuses(without_default, v1, "'b'");
        assert_refuses(without_default, v1, "/fields/b");
        /* A writer field the reader lacks is skipped. */
        assert_reads(v1, without_default);
        assert_reads(rec(""), v1);
        /* Field order does not matter. */
        assert_reads(rec("{\"name\":\"b\",\"type\":\"string\"},"
                         "{\"name\":\"a\",\"type\":\"long\"}"),
                     without_default);
        /* A field's type follows the rules recursively. */
        assert_reads(rec("{\"name\":\"a\",\"type\":\"double\"}"), v1);
        assert_refuses(rec("{\"name\":\"a\",\"type\":\"string\"}"), v1,
                       "/fields/a");
}

static void records_match_by_unqualified_name_or_alias(void **state)
{
        const char *writer = "{\"type\":\"record\",\"name\":\"x.Old\","
                             "\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";

        assert_reads("{\"type\":\"record\",\"name\":\"y.Old\",\"fields\":"
                     "[{\"name\":\"a\",\"type\":\"int\"}]}",
                     writer);
        assert_refuses("{\"type\":\"record\",\"name\":\"New\",\"fields\":"
                       "[{\"name\":\"a\",\"type\":\"int\"}]}",
                       writer, "differ in name");
        assert_reads("{\"type\":\"record\",\"name\":\"New\",\"aliases\":"
                     "[\"x.Old\"],\"fields\":[{\"name\":\"a\",\"type\":"
                     "\"int\"}]}",
                     writer);
        /* A reader field alias finds a renamed writer field. */
        assert_reads(rec("{\"name\":\"alpha\",\"type\":\"int\",\"aliases\":"
                         "[\"a\"]}"),
                     rec("{\"name\":\"a\",\"type\":\"int\"}"));
}

static void nested_records_are_checked_deeply(void **state)
{
        const char *writer = rec(
                "{\"name\":\"in\",\"type\":{\"type\":\"record\",\"name\":"
                "\"Inner\",\"fields\":[{\"name\":\"v\",\"type\":\"long\"}]}}");

        assert_reads(
                rec("{\"name\":\"in\",\"type\":{\"type\":\"record\",\"name\":"
                    "\"Inner\",\"fields\":[{\"name"
                    "\":\"v\",\"type\":\"double\"},"
                    "{\"name\":\"w\",\"type\":\"int\",\"default\":1}]}}"),
                writer);
        assert_refuses(
                rec("{\"name\":\"in\",\"type\":{\"type\":\"record\",\"name\":"
                    "\"Inner\",\"fields\":[{\"name"
                    "\":\"v\",\"type\":\"int\"}]}}"),
                writer, "/fields/in/fields/v");
        assert_refuses(
                rec("{\"name\":\"in\",\"type\":{\"type\":\"record\",\"name\":"
                    "\"Inner\",\"fields\":[{\"name\":\"v\",\"type\":\"long\"},"
                    "{\"name\":\"w\",\"type\":\"int\"}]}}"),
                writer, "'w'");
}

static void unions_on_either_side(void **state)
{
        /* Widened: every writer branch finds a reader branch. */
        assert_reads("[\"null\",\"int\"]", "\"int\"");
        assert_reads("[\"null\",\"int\",\"string\"]", "[\"null\",\"int\"]");
        assert_reads("[\"null\",\"long\"]", "[\"null\",\"int\"]");
        assert_reads("\"long\"", "[\"int\",\"long\"]");
        /* Narrowed: a writer branch the reader cannot take. */
        assert_refuses("[\"null\",\"int\"]", "[\"null\",\"int\",\"string\"]",
                       "string");
        assert_refuses("\"int\"", "[\"null\",\"int\"]", "null");
        assert_refuses("[\"null\",\"int\"]", "\"string\"", "union");
        /* Inside a record field. */
        assert_reads(rec("{\"name\":\"a\",\"type\":[\"null\",\"double\"],"
                         "\"default\":null}"),
                     rec("{\"name\":\"a\",\"type\":\"float\"}"));
        assert_refuses(rec("{\"name\":\"a\",\"type\":\"float\"}"),
                       rec("{\"name\":\"a\",\"type\":[\"null\",\"float\"]}"),
                       "/fields/a");
}

static void enums_need_every_writer_symbol(void **state)
{
        const char *abc = "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
                          "[\"A\",\"B\",\"C\"]}";

        assert_reads("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
                     "[\"A\",\"B\",\"C\",\"D\"]}",
                     abc);
        assert_refuses("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
                       "[\"A\",\"B\"]}",
                       abc, "'C'");
        /* A reader default takes unknown symbols. */
        assert_reads("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
                     "[\"A\",\"B\"],\"default\":\"A\"}",
                     abc);
        assert_refuses("{\"type\":\"enum\",\"name\":\"F\",\"symbols\":"
                       "[\"A\",\"B\",\"C\"]}",
                       abc, "differ in name");
}

static void fixed_needs_name_and_size(void **state)
{
        const char *f4 = "{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}";

        assert_reads(f4, f4);
        assert_refuses("{\"type\":\"fixed\",\"name\":\"F\",\"size\":8}", f4,
                       "size");
        assert_refuses("{\"type\":\"fixed\",\"name\":\"G\",\"size\":4}", f4,
                       "differ in name");
        assert_refuses(f4, "\"bytes\"", "fixed");
}

static void arrays_and_maps_recurse(void **state)
{
        assert_reads("{\"type\":\"array\",\"items\":\"long\"}",
                     "{\"type\":\"array\",\"items\":\"int\"}");
        assert_refuses("{\"type\":\"array\",\"items\":\"int\"}",
                       "{\"type\":\"array\",\"items\":\"long\"}", "/items");
        assert_reads("{\"type\":\"map\",\"values\":[\"null\",\"double\"]}",
                     "{\"type\":\"map\",\"values\":\"float\"}");
        assert_refuses("{\"type\":\"map\",\"values\":\"float\"}",
                       "{\"type\":\"map\",\"values\":\"double\"}", "/values");
        assert_refuses("{\"type\":\"map\",\"values\":\"int\"}",
                       "{\"type\":\"array\",\"items\":\"int\"}", "array");
        assert_reads(
                rec("{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":{"
                    "\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":"
                    "\"x\",\"type\":\"double\"},{\"name\":\"y\",\"type\":"
                    "\"double\",\"default\":0}]}}}"),
                rec("{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":{"
                    "\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":"
                    "\"x\",\"type\":\"float\"}]}}}"));
}

static void recursive_schemas_terminate(void **state)
{
        const char *list = "{\"type\":\"record\",\"name\":\"L\",\"fields\":"
                           "[{\"name\":\"v\",\"type\":\"int\"},{\"name\":"
                           "\"next\",\"type\":[\"null\",\"L\"]}]}";

        assert_reads(list, list);
        assert_reads("{\"type\":\"record\",\"name\":\"L\",\"fields\":"
                     "[{\"name\":\"v\",\"type\":\"long\"},{\"name\":"
                     "\"next\",\"type\":[\"null\",\"L\"]}]}",
                     list);
        assert_refuses("{\"type\":\"record\",\"name\":\"L\",\"fields\":"
                       "[{\"name\":\"v\",\"type\":\"int\"},{\"name\":"
                       "\"w\",\"type\":\"int\"},{\"name\":"
                       "\"next\",\"type\":[\"null\",\"L\"]}]}",
                       list, "'w'");
}

/*
 * Pairs found compatible are remembered (a type used twice in a type used
 * twice in ... is checked once), but not those found while trying a union
 * branch that then fails: here C reads its writer only while B is assumed
 * to read its own, which it does not (y), so the reader's second field
 * must still be refused after the union of the first chose other.B.
 */
static void what_a_failed_union_branch_proved_is_forgotten(void **state)
{
        const char *reader =
                "{\"type\":\"record\",\"name\":\"Top\",\"fields\":["
                "{\"name\":\"first\",\"type\":["
                "{\"type\":\"record\",\"name\":\"B\",\"fields\":["
                "{\"name\":\"c\",\"type\":{\"type\":\"record\",\"name\":"
                "\"C\",\"fields\":[{\"name\":\"back\",\"type\":[\"null\","
                "\"B\"]}]}},{\"name\":\"y\",\"type\":\"string\"}]},"
                "{\"type\":\"record\",\"name\":\"B\",\"namespace\":"
                "\"other\",\"fields\":[{\"name\":\"y\",\"type\":\"int\"}]}"
                "]},{\"name\":\"second\",\"type\":\"C\"}]}";
        const char *writer =
                "{\"type\":\"record\",\"name\":\"Top\",\"fields\":["
                "{\"name\":\"first\",\"type\":"
                "{\"type\":\"record\",\"name\":\"B\",\"fields\":["
                "{\"name\":\"c\",\"type\":{\"type\":\"record\",\"name\":"
                "\"C\",\"fields\":[{\"name\":\"back\",\"type\":[\"null\","
                "\"B\"]}]}},{\"name\":\"y\",\"type\":\"int\"}]}},"
                "{\"name\":\"second\",\"type\":\"C\"}]}";

        assert_refuses(reader, writer, "/fields/second");
}

static void unparsable_schemas_are_invalid(void **state)
{
        char why[256] = "";

        assert_int_equal(
                ka_schema_compat_check("{", "\"int\"", why, sizeof(why)),
                KA_ERR_INVALID);
        assert_non_null(strstr(why, "reader"));
        assert_int_equal(
                ka_schema_compat_check("\"int\"", "\"nope\"", why, sizeof(why)),
                KA_ERR_INVALID);
        assert_non_null(strstr(why, "writer"));
}

static void level_names_parse(void **state)
{
        ka_compat_level_t level;

        assert_true(ka_compat_level_parse("backward_transitive", &level));
        assert_int_equal(level, KA_COMPAT_BACKWARD_TRANSITIVE);
        assert_true(ka_compat_level_parse("FULL", &level));
        assert_int_equal(level, KA_COMPAT_FULL);
        assert_true(ka_compat_level_parse("None", &level));
        assert_int_equal(level, KA_COMPAT_NONE);
        assert_false(ka_compat_level_parse("SIDEWAYS", &level));
        assert_false(ka_compat_level_parse("", &level));
        assert_string_equal(ka_compat_level_name(KA_COMPAT_FORWARD_TRANSITIVE),
                            "FORWARD_TRANSITIVE");
}

/* Parses texts into history and returns the roots. */
typedef struct history_s {
        ka_avro_schema_t *schemas[4];
        const ka_avro_node_t *roots[4];
        size_t n;
} history_t;

static void history_add(history_t *h, const char *json)
{
        char errstr[256];

        h->schemas[h->n] = ka_avro_schema_parse(json, errstr, sizeof(errstr));
        if (!h->schemas[h->n])
                fail_msg("%s: %s", json, errstr);
        h->roots[h->n] = ka_avro_schema_root(h->schemas[h->n]);
        h->n++;
}

static void history_release(history_t *h)
{
        for (size_t i = 0; i < h->n; i++)
                ka_avro_schema_destroy(h->schemas[i]);
}

/* Whether candidate (the last entry) may follow the entries before it. */
static ka_err_t follows(history_t *h, ka_compat_level_t level, char *why,
                        size_t why_size)
{
        return ka_schema_compat_level(level, h->roots[h->n - 1], h->roots, NULL,
                                      h->n - 1, why, why_size);
}

static void levels_pick_directions(void **state)
{
        history_t add_req = {0}, add_opt = {0}, drop_req = {0};
        char why[1024];

        /* A new field without a default: old data lacks it. */
        history_add(&add_req, rec("{\"name\":\"a\",\"type\":\"int\"}"));
        history_add(&add_req, rec("{\"name\":\"a\",\"type\":\"int\"},"
                                  "{\"name\":\"b\",\"type\":\"int\"}"));
        assert_int_equal(
                follows(&add_req, KA_COMPAT_BACKWARD, why, sizeof(why)),
                KA_ERR_CONFLICT);
        assert_non_null(strstr(why, "the new schema cannot read"));
        assert_non_null(strstr(why, "version 1"));
        assert_int_equal(follows(&add_req, KA_COMPAT_FORWARD, why, sizeof(why)),
                         KA_OK);
        assert_int_equal(follows(&add_req, KA_COMPAT_FULL, why, sizeof(why)),
                         KA_ERR_CONFLICT);
        assert_int_equal(follows(&add_req, KA_COMPAT_NONE, why, sizeof(why)),
                         KA_OK);

        /* A new field with a default: both directions work. */
        history_add(&add_opt, rec("{\"name\":\"a\",\"type\":\"int\"}"));
        history_add(&add_opt, rec("{\"name\":\"a\",\"type\":\"int\"},"
                                  "{\"name\":\"b\",\"type\":\"int\","
                                  "\"default\":0}"));
        assert_int_equal(
                follows(&add_opt, KA_COMPAT_BACKWARD, why, sizeof(why)), KA_OK);
        assert_int_equal(follows(&add_opt, KA_COMPAT_FULL, why, sizeof(why)),
                         KA_OK);

        /* Dropping a field old readers need without a default. */
        history_add(&drop_req, rec("{\"name\":\"a\",\"type\":\"int\"},"
                                   "{\"name\":\"b\",\"type\":\"int\"}"));
        history_add(&drop_req, rec("{\"name\":\"a\",\"type\":\"int\"}"));
        assert_int_equal(
                follows(&drop_req, KA_COMPAT_BACKWARD, why, sizeof(why)),
                KA_OK);
        assert_int_equal(
                follows(&drop_req, KA_COMPAT_FORWARD, why, sizeof(why)),
                KA_ERR_CONFLICT);
        assert_non_null(strstr(why, "version 1 cannot read"));
        assert_int_equal(follows(&drop_req, KA_COMPAT_FULL, why, sizeof(why)),
                         KA_ERR_CONFLICT);

        /* No earlier version: anything goes. */
        assert_int_equal(ka_schema_compat_level(KA_COMPAT_FULL_TRANSITIVE,
                                                add_req.roots[0], NULL, NULL, 0,
                                                why, sizeof(why)),
                         KA_OK);
        history_release(&add_req);
        history_release(&add_opt);
        history_release(&drop_req);
}

static void transitive_levels_look_at_every_version(void **state)
{
        history_t back = {0}, fwd = {0};
        int versions[] = {3, 7};
        char why[1024];

        /* v1 a:int; v2 drops a; v3 brings a back as a string with a
         * default: it reads v2 but not v1. */
        history_add(&back, rec("{\"name\":\"a\",\"type\":\"int\"}"));
        history_add(&back, rec(""));
        history_add(&back, rec("{\"name\":\"a\",\"type\":\"string\","
                               "\"default\":\"\"}"));
        assert_int_equal(follows(&back, KA_COMPAT_BACKWARD, why, sizeof(why)),
                         KA_OK);
        assert_int_equal(
                follows(&back, KA_COMPAT_BACKWARD_TRANSITIVE, why, sizeof(why)),
                KA_ERR_CONFLICT);
        assert_non_null(strstr(why, "version 1"));
        assert_int_equal(
                follows(&back, KA_COMPAT_FULL_TRANSITIVE, why, sizeof(why)),
                KA_ERR_CONFLICT);

        /* v1 needs a; v2 gives it a default; the new one drops a: v2 can
         * read it, v1 cannot. */
        history_add(&fwd, rec("{\"name\":\"a\",\"type\":\"int\"}"));
        history_add(&fwd, rec("{\"name\":\"a\",\"type\":\"int\","
                              "\"default\":0}"));
        history_add(&fwd, rec(""));
        assert_int_equal(follows(&fwd, KA_COMPAT_FORWARD, why, sizeof(why)),
                         KA_OK);
        assert_int_equal(
                follows(&fwd, KA_COMPAT_FORWARD_TRANSITIVE, why, sizeof(why)),
                KA_ERR_CONFLICT);
        /* The version numbers given are the ones named. */
        assert_int_equal(ka_schema_compat_level(KA_COMPAT_FORWARD_TRANSITIVE,
                                                fwd.roots[2], fwd.roots,
                                                versions, 2, why, sizeof(why)),
                         KA_ERR_CONFLICT);
        assert_non_null(strstr(why, "version 3 cannot read"));
        history_release(&back);
        history_release(&fwd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(identical_primitives_read),
                cmocka_unit_test(promotions_widen_only),
                cmocka_unit_test(record_fields_resolve_by_name),
                cmocka_unit_test(records_match_by_unqualified_name_or_alias),
                cmocka_unit_test(nested_records_are_checked_deeply),
                cmocka_unit_test(unions_on_either_side),
                cmocka_unit_test(enums_need_every_writer_symbol),
                cmocka_unit_test(fixed_needs_name_and_size),
                cmocka_unit_test(arrays_and_maps_recurse),
                cmocka_unit_test(recursive_schemas_terminate),
                cmocka_unit_test(
                        what_a_failed_union_branch_proved_is_forgotten),
                cmocka_unit_test(unparsable_schemas_are_invalid),
                cmocka_unit_test(level_names_parse),
                cmocka_unit_test(levels_pick_directions),
                cmocka_unit_test(transitive_levels_look_at_every_version),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
