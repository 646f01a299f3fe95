/*
 * Skip programs: schemas compile to the encoding avro_skip.h documents,
 * and the compiled programs read past values avro-c encodes exactly to
 * their end, turn every truncation or corruption into an error without
 * reading outside the buffer (the buffers are exactly sized heap copies,
 * so ASan sees any overread), bound counts and nesting the input does not
 * bound, and refuse malformed programs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <avro.h>

#include "avro_schema.h"
#include "avro_skip.h"
#include "avro_wire.h"
#include "ka_test.h"

/* ---- helpers ---------------------------------------------------------- */

/* The skip program of a schema text; fails the test when it does not
 * parse or compile. */
static int32_t *compile_json(const char *json, size_t *len)
{
        char errstr[256] = "";
        ka_avro_schema_t *schema =
                ka_avro_schema_parse(json, errstr, sizeof(errstr));
        int32_t *prog = NULL;
        ka_err_t err;

        if (!schema)
                fail_msg("schema: %s", errstr);
        err = ka_avro_skip_compile(ka_avro_schema_root(schema), &prog, len);
        ka_avro_schema_destroy(schema);
        if (err)
                fail_msg("compile: %s", ka_err_str(err));
        return prog;
}

/* An exactly sized heap copy, so that ASan flags any read past len. */
static uint8_t *exact_copy(const uint8_t *buf, size_t len)
{
        uint8_t *copy = malloc(len ? len : 1);

        assert_non_null(copy);
        if (len)
                memcpy(copy, buf, len);
        return copy;
}

/* Skips one value of bytes[0..len) (copied exactly) with prog; *used gets
 * how many bytes the skip consumed. */
static ka_err_t skip_bytes(const int32_t *prog, size_t prog_len,
                           const uint8_t *bytes, size_t len, size_t *used)
{
        uint8_t *copy = exact_copy(bytes, len);
        ka_avro_reader_t r;
        ka_err_t err;

        ka_avro_reader_init(&r, copy, len);
        err = ka_avro_skip_program(&r, prog, prog_len);
        assert_true(r.p >= copy && r.p <= copy + len);
        if (used)
                *used = (size_t)(r.p - copy);
        free(copy);
        return err;
}

/* ---- avro-c side ------------------------------------------------------ */

/* A random value of fx's schema, encoded by avro-c into buf. */
static size_t encode_random(ka_test_writer_t *fx, uint8_t *buf, size_t cap)
{
        avro_writer_t writer = avro_writer_memory((const char *)buf, cap);
        size_t len;

        assert_non_null(writer);
        avro_value_reset(&fx->value);
        ka_test_fill_random(&fx->value, 0);
        if (avro_value_write(writer, &fx->value))
                fail_msg("avro_value_write: %s", avro_strerror());
        len = (size_t)avro_writer_tell(writer);
        avro_writer_free(writer);
        return len;
}

/* ---- schemas ---------------------------------------------------------- */

/* Every type, nested: records in arrays and maps, unions in records,
 * named types used again, fixed, enums. */
static const char rich_json[] =
        "{\"type\":\"record\",\"name\":\"Outer\",\"namespace\":\"t\","
        "\"fields\":["
        "{\"name\":\"id\",\"type\":\"long\"},"
        "{\"name\":\"name\",\"type\":\"string\"},"
        "{\"name\":\"inner\",\"type\":{\"type\":\"record\",\"name\":\"Inner\","
        " \"fields\":[{\"name\":\"x\",\"type\":\"int\"},"
        "  {\"name\":\"y\",\"type\":\"float\"},"
        "  {\"name\":\"deep\",\"type\":{\"type\":\"record\",\"name\":\"Deep\","
        "   \"fields\":[{\"name\":\"z\",\"type\":\"double\"}]}}]}},"
        "{\"name\":\"samples\",\"type\":{\"type\":\"array\",\"items\":\"long\"}"
        "},"
        "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":\"double\"}},"
        "{\"name\":\"maybe\",\"type\":[\"null\",\"double\"]},"
        "{\"name\":\"last\",\"type\":[\"string\",\"null\",\"Inner\"]},"
        "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"Color\","
        " \"symbols\":[\"RED\",\"GREEN\",\"BLUE\"]}},"
        "{\"name\":\"digest\",\"type\":{\"type\":\"fixed\",\"name\":\"Digest\","
        " \"size\":16}},"
        "{\"name\":\"flag\",\"type\":\"boolean\"},"
        "{\"name\":\"blob\",\"type\":\"bytes\"},"
        "{\"name\":\"points\",\"type\":{\"type\":\"array\",\"items\":\"Inner\"}"
        "},"
        "{\"name\":\"nested\",\"type\":{\"type\":\"map\",\"values\":"
        " {\"type\":\"array\",\"items\":[\"null\",\"string\",\"Color\"]}}},"
        "{\"name\":\"doubles\",\"type\":{\"type\":\"array\",\"items\":"
        " \"double\"}},"
        "{\"name\":\"digests\",\"type\":{\"type\":\"array\",\"items\":"
        " \"Digest\"}},"
        "{\"name\":\"nothing\",\"type\":\"null\"}]}";

/* A linked list: recursion through a union. */
static const char list_json[] =
        "{\"type\":\"record\",\"name\":\"Node\",\"fields\":["
        "{\"name\":\"v\",\"type\":\"int\"},"
        "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";

/* A forest: recursion through an array, below the top level. */
static const char forest_json[] =
        "{\"type\":\"record\",\"name\":\"Forest\",\"fields\":["
        "{\"name\":\"trees\",\"type\":{\"type\":\"array\",\"items\":"
        " {\"type\":\"record\",\"name\":\"Tree\",\"fields\":["
        "  {\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":"
        "   \"Tree\"}},"
        "  {\"name\":\"label\",\"type\":\"string\"}]}}}]}";

/* ---- compiler --------------------------------------------------------- */

static void assert_program(const char *json, const int32_t *want, size_t n)
{
        size_t len;
        int32_t *prog = compile_json(json, &len);

        assert_int_equal(len, n);
        assert_memory_equal(prog, want, n * sizeof(*want));
        free(prog);
}

/* The expected programs are written from the encoding in avro_skip.h. */
static void programs_follow_the_format(void **state)
{
        static const int32_t prim[] = {KA_SKIP_LONG};
        static const int32_t every[] = {KA_SKIP_RECORD,
                                        8,
                                        KA_SKIP_INT,
                                        KA_SKIP_UNION,
                                        2,
                                        KA_SKIP_NULL,
                                        KA_SKIP_STRING,
                                        KA_SKIP_ARRAY,
                                        KA_SKIP_FIXED,
                                        3,
                                        KA_SKIP_MAP,
                                        KA_SKIP_ENUM,
                                        3,
                                        KA_SKIP_BOOLEAN,
                                        KA_SKIP_BYTES,
                                        KA_SKIP_FLOAT,
                                        KA_SKIP_DOUBLE};
        static const int32_t list[] = {KA_SKIP_RECORD, 2, KA_SKIP_INT,
                                       KA_SKIP_UNION,  2, KA_SKIP_NULL,
                                       KA_SKIP_REF,    0};
        /* Tree starts at 3; its kids refer back to it. */
        static const int32_t forest[] = {KA_SKIP_RECORD, 1, KA_SKIP_ARRAY,
                                         KA_SKIP_RECORD, 2, KA_SKIP_ARRAY,
                                         KA_SKIP_REF,    3, KA_SKIP_STRING};
        /* A named type used twice, not inside itself: spelled out twice. */
        static const int32_t twice[] = {
                KA_SKIP_RECORD, 2, KA_SKIP_RECORD, 1, KA_SKIP_LONG,
                KA_SKIP_RECORD, 1, KA_SKIP_LONG};

        assert_program("\"long\"", prim, KA_ARRAY_SIZE(prim));
        assert_program("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                       "{\"name\":\"a\",\"type\":\"int\"},"
                       "{\"name\":\"b\",\"type\":[\"null\",\"string\"]},"
                       "{\"name\":\"c\",\"type\":{\"type\":\"array\",\"items\":"
                       " {\"type\":\"fixed\",\"name\":\"F\",\"size\":3}}},"
                       "{\"name\":\"d\",\"type\":{\"type\":\"map\",\"values\":"
                       " {\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
                       "  [\"X\",\"Y\",\"Z\"]}}},"
                       "{\"name\":\"e\",\"type\":\"boolean\"},"
                       "{\"name\":\"f\",\"type\":\"bytes\"},"
                       "{\"name\":\"g\",\"type\":\"float\"},"
                       "{\"name\":\"h\",\"type\":\"double\"}]}",
                       every, KA_ARRAY_SIZE(every));
        assert_program(list_json, list, KA_ARRAY_SIZE(list));
        assert_program(forest_json, forest, KA_ARRAY_SIZE(forest));
        assert_program("{\"type\":\"record\",\"name\":\"P\",\"fields\":["
                       "{\"name\":\"a\",\"type\":{\"type\":\"record\","
                       " \"name\":\"Sub\",\"fields\":[{\"name\":\"x\","
                       " \"type\":\"long\"}]}},"
                       "{\"name\":\"b\",\"type\":\"Sub\"}]}",
                       twice, KA_ARRAY_SIZE(twice));
}

/* levels arrays around a long, or levels records (named R0, R1, ...)
 * around one, as schema text. */
static char *nested_json(size_t levels, bool records)
{
        size_t cap = 64 + levels * 96, n = 0, i;
        char *s = malloc(cap);

        assert_non_null(s);
        for (i = 0; i < levels; i++) {
                if (records)
                        n += (size_t)snprintf(
                                s + n, cap - n,
                                "{\"type\":\"record\",\"name\":\"R%zu\","
                                "\"fields\":[{\"name\":\"f\",\"type\":",
                                i);
                else
                        n += (size_t)snprintf(s + n, cap - n,
                                              "{\"type\":\"array\",\"items\":");
        }
        n += (size_t)snprintf(s + n, cap - n, "\"long\"");
        for (i = 0; i < levels; i++)
                n += (size_t)snprintf(s + n, cap - n, "%s",
                                      records ? "}]}" : "}");
        assert_true(n < cap);
        return s;
}

/* A type KA_SKIP_MAX_DEPTH levels down compiles and skips; one more
 * level does not compile. */
static void nesting_is_bounded_at_compile_time(void **state)
{
        for (int records = 0; records < 2; records++) {
                char *ok = nested_json(KA_SKIP_MAX_DEPTH, records);
                char *deep = nested_json(KA_SKIP_MAX_DEPTH + 1, records);
                char errstr[256] = "";
                ka_avro_schema_t *schema =
                        ka_avro_schema_parse(deep, errstr, sizeof(errstr));
                uint8_t value[2 * KA_SKIP_MAX_DEPTH + 1];
                int32_t *prog = (int32_t *)&prog;
                size_t len = 1, used, n = 0;

                if (!schema)
                        fail_msg("schema: %s", errstr);
                assert_int_equal(
                        ka_avro_skip_compile(ka_avro_schema_root(schema), &prog,
                                             &len),
                        KA_ERR_INVALID);
                assert_null(prog);
                ka_avro_schema_destroy(schema);

                /* Arrays: one block of one item each, the long 5, then
                 * the end of every array. Records: just the long. */
                if (!records)
                        for (size_t i = 0; i < KA_SKIP_MAX_DEPTH; i++)
                                value[n++] = 2;
                value[n++] = 10;
                if (!records)
                        for (size_t i = 0; i < KA_SKIP_MAX_DEPTH; i++)
                                value[n++] = 0;
                prog = compile_json(ok, &len);
                assert_int_equal(skip_bytes(prog, len, value, n, &used), KA_OK);
                assert_int_equal(used, n);
                free(prog);
                free(ok);
                free(deep);
        }
}

static void widths(void **state)
{
        static const struct {
                const char *json;
                bool fixed;
                size_t width;
        } cases[] = {
                {"\"null\"", true, 0},
                {"\"float\"", true, 4},
                {"\"double\"", true, 8},
                {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":5}", true, 5},
                {"{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                 "{\"name\":\"a\",\"type\":\"double\"},"
                 "{\"name\":\"b\",\"type\":{\"type\":\"fixed\",\"name\":\"F\","
                 " \"size\":3}},"
                 "{\"name\":\"c\",\"type\":\"null\"},"
                 "{\"name\":\"d\",\"type\":{\"type\":\"record\",\"name\":\"S\","
                 " \"fields\":[{\"name\":\"e\",\"type\":\"float\"}]}}]}",
                 true, 15},
                {"{\"type\":\"record\",\"name\":\"E\",\"fields\":[]}", true, 0},
                {"\"boolean\"", false, 0},
                {"\"int\"", false, 0},
                {"\"long\"", false, 0},
                {"\"string\"", false, 0},
                {"\"bytes\"", false, 0},
                {"[\"null\",\"double\"]", false, 0},
                {"{\"type\":\"array\",\"items\":\"double\"}", false, 0},
                {"{\"type\":\"map\",\"values\":\"null\"}", false, 0},
                {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}",
                 false, 0},
                {"{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                 "{\"name\":\"a\",\"type\":\"double\"},"
                 "{\"name\":\"b\",\"type\":\"int\"}]}",
                 false, 0},
        };

        for (size_t i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                size_t len, width = 12345;
                int32_t *prog = compile_json(cases[i].json, &len);

                if (ka_avro_skip_width(prog, len, &width) != cases[i].fixed)
                        fail_msg("case %zu: width or not", i);
                if (cases[i].fixed)
                        assert_int_equal(width, cases[i].width);
                free(prog);
        }
}

/* ---- skipping values avro-c encodes ----------------------------------- */

static void values_skip_to_their_end(void **state)
{
        static const char *const schemas[] = {rich_json, list_json,
                                              forest_json};

        for (size_t s = 0; s < KA_ARRAY_SIZE(schemas); s++) {
                ka_test_writer_t fx;
                size_t plen;
                int32_t *prog = compile_json(schemas[s], &plen);

                ka_test_writer_init(&fx, schemas[s]);
                for (int n = 0; n < 400; n++) {
                        uint8_t buf[65536];
                        size_t len = encode_random(&fx, buf, sizeof(buf)), used;

                        assert_int_equal(
                                skip_bytes(prog, plen, buf, len, &used), KA_OK);
                        assert_int_equal(used, len);
                }
                ka_test_writer_release(&fx);
                free(prog);
        }
}

static void truncations_are_errors(void **state)
{
        static const char *const schemas[] = {rich_json, list_json,
                                              forest_json};

        for (size_t s = 0; s < KA_ARRAY_SIZE(schemas); s++) {
                ka_test_writer_t fx;
                size_t plen;
                int32_t *prog = compile_json(schemas[s], &plen);

                ka_test_writer_init(&fx, schemas[s]);
                for (int n = 0; n < 30; n++) {
                        uint8_t buf[65536];
                        size_t len = encode_random(&fx, buf, sizeof(buf));

                        /* Every proper prefix ends inside the value. */
                        for (size_t k = 0; k < len; k++)
                                assert_int_equal(
                                        skip_bytes(prog, plen, buf, k, NULL),
                                        KA_ERR_TRUNCATED);
                }
                ka_test_writer_release(&fx);
                free(prog);
        }
}

static void corruptions_stay_in_bounds(void **state)
{
        static const uint8_t patterns[] = {0x01, 0x02, 0x40, 0x80, 0xff};
        ka_test_writer_t fx;
        size_t plen, errors = 0, runs = 0;
        int32_t *prog = compile_json(rich_json, &plen);

        ka_test_writer_init(&fx, rich_json);
        for (int n = 0; n < 40; n++) {
                uint8_t buf[65536];
                size_t len = encode_random(&fx, buf, sizeof(buf));

                for (size_t k = 0; k < len; k++) {
                        uint8_t was = buf[k];

                        for (size_t j = 0; j <= KA_ARRAY_SIZE(patterns); j++) {
                                buf[k] = j < KA_ARRAY_SIZE(patterns)
                                                 ? was ^ patterns[j]
                                                 : (uint8_t)ka_test_rnd();
                                /* skip_bytes checks the bounds. */
                                if (skip_bytes(prog, plen, buf, len, NULL))
                                        errors++;
                                runs++;
                        }
                        buf[k] = was;
                }
        }
        /* Most corruptions are caught; a flipped double is still a
         * double. */
        assert_true(errors > runs / 10);
        ka_test_writer_release(&fx);
        free(prog);
}

/* ---- blocks ----------------------------------------------------------- */

/*
 * Writes an array (or map) whose items are the nitems encodings of
 * items[i] (sizes[i] bytes each) in blocks of 3, 2, 1, then the rest, the
 * second and fourth with a negative count and their byte size, as Avro
 * allows and avro-c never writes.
 */
static size_t write_blocks(uint8_t *buf, size_t cap,
                           const uint8_t *const *items, const size_t *sizes,
                           size_t nitems)
{
        static const size_t counts[] = {3, 2, 1, SIZE_MAX};
        ka_avro_writer_t w;
        size_t i = 0;

        ka_avro_writer_init(&w, buf, cap);
        for (size_t b = 0; b < KA_ARRAY_SIZE(counts) && i < nitems; b++) {
                size_t n = counts[b] < nitems - i ? counts[b] : nitems - i;
                size_t bytes = 0;

                for (size_t k = 0; k < n; k++)
                        bytes += sizes[i + k];
                if (b % 2) {
                        ka_avro_write_block(&w, -(int64_t)n);
                        ka_avro_write_long(&w, (int64_t)bytes);
                } else {
                        ka_avro_write_block(&w, (int64_t)n);
                }
                for (size_t k = 0; k < n; k++, i++)
                        ka_avro_write_raw(&w, items[i], sizes[i]);
        }
        ka_avro_write_block(&w, 0);
        assert_false(w.overflow);
        return ka_avro_writer_len(&w);
}

/* Reads buf with avro-c as a value of json, which must succeed; returns
 * the number of items of the array or map read. */
static size_t avro_c_count(const char *json, const uint8_t *buf, size_t len)
{
        ka_test_writer_t fx;
        avro_reader_t reader;
        size_t n = 0;

        ka_test_writer_init(&fx, json);
        reader = avro_reader_memory((const char *)buf, (int64_t)len);
        assert_int_equal(avro_value_read(reader, &fx.value), 0);
        avro_reader_free(reader);
        assert_int_equal(avro_value_get_size(&fx.value, &n), 0);
        ka_test_writer_release(&fx);
        return n;
}

/* Arrays of longs (items decoded one by one), of doubles (fixed-width
 * items jumped over) and maps of strings, in blocks with negative counts:
 * avro-c reads them as the items written, the programs skip them to their
 * end, and every prefix is an error. */
static void negative_block_counts(void **state)
{
        static const char *const jsons[] = {
                "{\"type\":\"array\",\"items\":\"long\"}",
                "{\"type\":\"array\",\"items\":\"double\"}",
                "{\"type\":\"map\",\"values\":\"string\"}",
        };
        const int64_t longs[10] = {1, -2,      300, INT64_MIN, 5,
                                   6, 7000000, -8,  9,         INT64_MAX};

        for (size_t t = 0; t < KA_ARRAY_SIZE(jsons); t++) {
                uint8_t enc[10][32], buf[512];
                const uint8_t *items[10];
                size_t sizes[10], len, plen, used;
                int32_t *prog = compile_json(jsons[t], &plen);

                for (size_t i = 0; i < 10; i++) {
                        ka_avro_writer_t w;
                        char key[8];

                        ka_avro_writer_init(&w, enc[i], sizeof(enc[i]));
                        if (t == 0) {
                                ka_avro_write_long(&w, longs[i]);
                        } else if (t == 1) {
                                ka_avro_write_double(&w, (double)longs[i]);
                        } else {
                                snprintf(key, sizeof(key), "k%zu", i);
                                ka_avro_write_string(&w, key, strlen(key));
                                ka_avro_write_string(&w, "value", i % 6);
                        }
                        items[i] = enc[i];
                        sizes[i] = ka_avro_writer_len(&w);
                }
                len = write_blocks(buf, sizeof(buf), items, sizes, 10);
                assert_int_equal(avro_c_count(jsons[t], buf, len), 10);
                assert_int_equal(skip_bytes(prog, plen, buf, len, &used),
                                 KA_OK);
                assert_int_equal(used, len);
                for (size_t k = 0; k < len; k++)
                        assert_int_not_equal(
                                skip_bytes(prog, plen, buf, k, NULL), KA_OK);
                free(prog);
        }
}

#define BYTES(...)                                                             \
        (const uint8_t[]){__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

/* Block counts the input does not bound: items of at least one byte end
 * with an error at once, items of no bytes are not iterated. */
static void huge_counts(void **state)
{
        const struct {
                const char *json;
                const uint8_t *bytes;
                size_t len;
                ka_err_t want;
        } cases[] = {
                /* 2^62 doubles do not fit in 3 bytes; neither do 2. */
                {"{\"type\":\"array\",\"items\":\"double\"}",
                 BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                       0x01, 0, 0, 0),
                 KA_ERR_TRUNCATED},
                {"{\"type\":\"array\",\"items\":\"double\"}",
                 BYTES(0x04, 0x00, 0x00, 0x00), KA_ERR_TRUNCATED},
                {"{\"type\":\"array\",\"items\":\"long\"}",
                 BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                       0x01, 0x02, 0x02),
                 KA_ERR_TRUNCATED},
                /* 2^62 nulls, then 2^62 records of a null and an empty
                 * fixed, take no bytes. */
                {"{\"type\":\"array\",\"items\":\"null\"}",
                 BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                       0x01, 0x00),
                 KA_OK},
                {"{\"type\":\"array\",\"items\":{\"type\":\"record\","
                 "\"name\":\"E\",\"fields\":[{\"name\":\"n\",\"type\":"
                 "\"null\"},{\"name\":\"f\",\"type\":{\"type\":\"fixed\","
                 "\"name\":\"F\",\"size\":0}}]}}",
                 BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                       0x01, 0x00),
                 KA_OK},
                /* A map's keys take a byte each. */
                {"{\"type\":\"map\",\"values\":\"null\"}",
                 BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                       0x01, 0x00, 0x00),
                 KA_ERR_TRUNCATED},
        };

        /* Iterating 2^62 items would take years: SIGALRM ends the test
         * instead. */
        alarm(10);
        for (size_t i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                size_t plen, used;
                int32_t *prog = compile_json(cases[i].json, &plen);
                ka_err_t err = skip_bytes(prog, plen, cases[i].bytes,
                                          cases[i].len, &used);

                if (err != cases[i].want)
                        fail_msg("case %zu: %s", i, ka_err_str(err));
                if (!err)
                        assert_int_equal(used, cases[i].len);
                free(prog);
        }
        alarm(0);
}

/* ---- recursion and malformed programs --------------------------------- */

/* Short lists skip; lists deeper than KA_SKIP_MAX_DEPTH levels of nesting
 * are errors, not stack overflows. */
static void recursion_is_bounded(void **state)
{
        static const size_t depths[] = {1, 5, 10, 65, 100, 399};
        size_t plen;
        int32_t *prog = compile_json(list_json, &plen);
        uint8_t buf[1000];

        for (size_t d = 0; d < KA_ARRAY_SIZE(depths); d++) {
                size_t i, len = 0, used, depth = depths[d];

                /* depth nodes: value 7, then branch 1 (a next node), the
                 * last with branch 0 (null). */
                for (i = 0; i < depth; i++) {
                        buf[len++] = 14;
                        buf[len++] = i + 1 < depth ? 2 : 0;
                }
                if (depth <= 10) {
                        assert_int_equal(
                                skip_bytes(prog, plen, buf, len, &used), KA_OK);
                        assert_int_equal(used, len);
                } else {
                        assert_true(depth > KA_SKIP_MAX_DEPTH);
                        assert_int_equal(skip_bytes(prog, plen, buf, len, NULL),
                                         KA_ERR_INVALID);
                }
        }
        free(prog);
}

static void malformed_programs_are_rejected(void **state)
{
        /* Data that any well-formed program here could read on. */
        static const uint8_t data[16] = {2, 2, 2, 2, 2, 2, 2, 2,
                                         2, 2, 2, 2, 2, 2, 2, 2};
        static const struct {
                int32_t prog[6];
                size_t len;
        } cases[] = {
                {{0}, 0}, /* empty */
                /* opcodes that do not exist */
                {{0}, 1},
                {{-1}, 1},
                {{KA_SKIP_REF + 1}, 1},
                {{KA_SKIP_RECORD, 1, 99}, 3},
                /* operands past the end */
                {{KA_SKIP_FIXED}, 1},
                {{KA_SKIP_ENUM}, 1},
                {{KA_SKIP_ARRAY}, 1},
                {{KA_SKIP_MAP}, 1},
                {{KA_SKIP_UNION}, 1},
                {{KA_SKIP_RECORD}, 1},
                {{KA_SKIP_REF}, 1},
                {{KA_SKIP_RECORD, 2, KA_SKIP_INT}, 3},
                {{KA_SKIP_UNION, 2, KA_SKIP_NULL}, 3},
                {{KA_SKIP_RECORD, 1, KA_SKIP_UNION, 2, KA_SKIP_INT}, 5},
                /* negative operands */
                {{KA_SKIP_FIXED, -1}, 2},
                {{KA_SKIP_ENUM, -1}, 2},
                {{KA_SKIP_UNION, -2, KA_SKIP_INT}, 3},
                {{KA_SKIP_RECORD, -1}, 2},
                {{KA_SKIP_REF, -1}, 2},
                /* references forward, to themselves, and a record that
                 * holds itself without consuming a byte */
                {{KA_SKIP_REF, 0}, 2},
                {{KA_SKIP_RECORD, 1, KA_SKIP_REF, 4, KA_SKIP_INT}, 5},
                {{KA_SKIP_RECORD, 1, KA_SKIP_REF, 2}, 4},
                {{KA_SKIP_RECORD, 1, KA_SKIP_REF, 0}, 4},
        };

        for (size_t i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                ka_err_t err = skip_bytes(cases[i].prog, cases[i].len, data,
                                          sizeof(data), NULL);

                if (err != KA_ERR_INVALID)
                        fail_msg("case %zu: %s", i, ka_err_str(err));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(programs_follow_the_format),
                cmocka_unit_test(nesting_is_bounded_at_compile_time),
                cmocka_unit_test(widths),
                cmocka_unit_test(values_skip_to_their_end),
                cmocka_unit_test(truncations_are_errors),
                cmocka_unit_test(corruptions_stay_in_bounds),
                cmocka_unit_test(negative_block_counts),
                cmocka_unit_test(huge_counts),
                cmocka_unit_test(recursion_is_bounded),
                cmocka_unit_test(malformed_programs_are_rejected),
        };

        ka_test_seed(0x853c49e6748fea9bULL);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
