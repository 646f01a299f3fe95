/*
 * JSON source messages: numbers land by field name, null and missing give
 * NaN, anything else for an aggregated field is an error, and nothing past
 * the given length is read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json_decode.h"

static const ka_agent_field_t fields[] = {
        {"value0", "value0", KA_NUM_DOUBLE, false},
        {"count_", "n", KA_NUM_LONG, false},
        {"maybe", "maybe", KA_NUM_FLOAT, true},
};

#define FIRST 1
#define ROWN  (FIRST + 3 + 1)
#define GUARD 777.25

static ka_agent_source_t source(const char *time_field)
{
        ka_agent_source_t src = {
                .topic = "example-000",
                .first_field = FIRST,
                .nfields = 3,
                .fields = fields,
                .time_field = time_field,
        };

        return src;
}

/* Decodes text from an exactly sized heap copy (no NUL after it). */
static ka_err_t decode(const char *time_field, const char *text, double *row,
                       int64_t *ms)
{
        ka_agent_source_t src = source(time_field);
        size_t len = strlen(text), i;
        uint8_t *copy = malloc(len ? len : 1);
        ka_row_t out = {.vals = row, .nvals = ROWN};
        ka_err_t err;

        for (i = 0; i < ROWN; i++)
                row[i] = GUARD;
        memcpy(copy, text, len);
        err = ka_json_decode_row(&src, copy, len, &out, ms);
        free(copy);
        assert_true(row[0] == GUARD && row[ROWN - 1] == GUARD);
        return err;
}

static void numbers_by_name(void **state)
{
        double row[ROWN];
        int64_t ms = 5;

        assert_int_equal(decode(NULL,
                                "{\"time\": 1.5, \"maybe\": -2, \"value0\": "
                                "0.1, \"other\": \"x\", \"count_\": 12}",
                                row, &ms),
                         KA_OK);
        assert_true(row[FIRST + 0] == 0.1);
        assert_true(row[FIRST + 1] == 12);
        assert_true(row[FIRST + 2] == -2);
        /* No time_field: the Kafka timestamp stays. */
        assert_true(ms == 5);

        /* Integers beyond int64 and exponents still become doubles. */
        assert_int_equal(decode(NULL,
                                "{\"value0\": 123456789012345678901234567890,"
                                " \"count_\": -9007199254740993, "
                                "\"maybe\": 1e-300}",
                                row, NULL),
                         KA_OK);
        assert_true(row[FIRST + 0] == 123456789012345678901234567890.0);
        assert_true(row[FIRST + 1] == -9007199254740992.0);
        assert_true(row[FIRST + 2] == 1e-300);
}

static void null_and_missing_are_nan(void **state)
{
        double row[ROWN];

        assert_int_equal(
                decode(NULL, "{\"maybe\": null, \"value0\": 3}", row, NULL),
                KA_OK);
        assert_true(row[FIRST + 0] == 3);
        assert_true(isnan(row[FIRST + 1]));
        assert_true(isnan(row[FIRST + 2]));
        assert_int_equal(decode(NULL, " { } ", row, NULL), KA_OK);
        assert_true(isnan(row[FIRST + 0]));
}

static void non_numbers_are_errors(void **state)
{
        static const char *const bad[] = {
                "{\"value0\": \"1.5\"}",
                "{\"value0\": true}",
                "{\"count_\": [1]}",
                "{\"maybe\": {\"v\": 1}}",
                "[1, 2]",
                "12",
                "{\"value0\": 1} trailing",
                "{\"value0\": NaN}",
                "{'value0': 1}",
        };
        double row[ROWN];
        size_t i;

        for (i = 0; i < KA_ARRAY_SIZE(bad); i++)
                if (decode(NULL, bad[i], row, NULL) != KA_ERR_INVALID)
                        fail_msg("accepted %s", bad[i]);
        assert_int_equal(decode(NULL, "{\"value0\": 1e999}", row, NULL),
                         KA_ERR_OVERFLOW);
}

static void truncations(void **state)
{
        static const char text[] =
                "{\"value0\": 1.25, \"count_\": 3, \"s\": \"abc\", "
                "\"maybe\": null}";
        size_t k, n = strlen(text);
        double row[ROWN];

        assert_int_equal(decode(NULL, text, row, NULL), KA_OK);
        for (k = 0; k < n; k++) {
                char prefix[sizeof(text)];

                memcpy(prefix, text, k);
                prefix[k] = '\0';
                assert_int_equal(decode(NULL, prefix, row, NULL),
                                 KA_ERR_TRUNCATED);
        }
}

/* A JSON text followed by more bytes in memory: only len bytes count. */
static void reads_only_len(void **state)
{
        static const char text[] = "{\"value0\": 12}{\"value0\": 99}";
        ka_agent_source_t src = source(NULL);
        double vals[ROWN];
        ka_row_t row = {.vals = vals, .nvals = ROWN};

        assert_int_equal(
                ka_json_decode_row(&src, (const uint8_t *)text, 14, &row, NULL),
                KA_OK);
        assert_true(vals[FIRST] == 12);
        /* "{\"value0\": 1" of "{\"value0\": 12}": a shorter number. */
        assert_int_equal(
                ka_json_decode_row(&src, (const uint8_t *)text, 12, &row, NULL),
                KA_ERR_TRUNCATED);
}

static void time_field(void **state)
{
        double row[ROWN];
        int64_t ms = 0;

        assert_int_equal(decode("time",
                                "{\"time\": 1700000000.5, \"value0\": 1}", row,
                                &ms),
                         KA_OK);
        assert_true(ms == INT64_C(1700000000500));
        assert_int_equal(decode("time", "{\"time\": 1700000001, \"value0\": 1}",
                                row, &ms),
                         KA_OK);
        assert_true(ms == INT64_C(1700000001000));
        assert_int_equal(decode("time", "{\"value0\": 1}", row, &ms),
                         KA_ERR_INVALID);
        assert_int_equal(decode("time", "{\"time\": null}", row, &ms),
                         KA_ERR_INVALID);
        assert_int_equal(decode("time", "{\"time\": \"2024-01-01\"}", row, &ms),
                         KA_ERR_INVALID);
        assert_int_equal(decode("time", "{\"time\": 1e300}", row, &ms),
                         KA_ERR_TIME);
        assert_int_equal(decode("time", "{\"time\": -1.7e308}", row, &ms),
                         KA_ERR_TIME);
}

/* {"o": [[...[inner]...]]} with n arrays, into buf. */
static const char *nested(char *buf, int n, const char *inner)
{
        size_t k = (size_t)sprintf(buf, "{\"o\": ");

        memset(buf + k, '[', (size_t)n);
        k += (size_t)n;
        k += (size_t)sprintf(buf + k, "%s", inner);
        memset(buf + k, ']', (size_t)n);
        k += (size_t)n;
        strcpy(buf + k, "}");
        return buf;
}

/* What JSON allows and what it does not, wherever it stands. */
static void json_rules(void **state)
{
        static const char *const bad[] = {
                "{\"s\": \"\\u0000\"}",          /* NUL (jansson's rule) */
                "{\"s\": \"\\ud800\"}",          /* lone high surrogate */
                "{\"s\": \"\\udc00\"}",          /* lone low surrogate */
                "{\"s\": \"\\ud800\\u0041\"}",   /* unpaired */
                "{\"s\": \"\xc0\xaf\"}",         /* overlong UTF-8 */
                "{\"s\": \"\xed\xa0\x80\"}",     /* a surrogate in UTF-8 */
                "{\"s\": \"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
                "{\"s\": \"\x80\"}",             /* a lone continuation */
                "{\"s\": \"a\tb\"}",             /* a control character */
                "{\"s\": \"\\x\"}",              /* no such escape */
                "{\"value0\": 01}",
                "{\"value0\": 1.}",
                "{\"value0\": .5}",
                "{\"value0\": +1}",
                "{\"value0\": 0x10}",
                "{\"value0\": 1,}",
                "{,}",
                "{\"a\" 1}",
                "{\"a\": [1,]}",
                "{\"a\": tru}",
                "{\"a\": nulls}",
                "{\"a\": 1 2}",
                "{\"a\": 1}}",
                "{\"a\": \"\xef\xbb\xbf\"} x",
                "\xef\xbb\xbf{}", /* a byte order mark */
        };
        char *deep = malloc(2 * 100000 + 32);
        double row[ROWN];

        for (size_t i = 0; i < KA_ARRAY_SIZE(bad); i++)
                if (decode(NULL, bad[i], row, NULL) != KA_ERR_INVALID)
                        fail_msg("%s: not invalid", bad[i]);
        /* Escapes in names count as their characters; the last of two
         * members of one name wins; ignored members may hold anything
         * valid, but a number out of range is out of range anywhere. */
        assert_int_equal(decode(NULL,
                                "\t{\"\\u0076alue0\": \"x\", \"value0\": -0,"
                                " \"o\": {\"a\": [1, {\"b\": null}, \"\\ud83d"
                                "\\ude00\xc3\xa9\"]}, \"count_\": 2E+2 }\r\n",
                                row, NULL),
                         KA_OK);
        assert_true(row[FIRST] == 0 && signbit(row[FIRST]));
        assert_true(row[FIRST + 1] == 200);
        assert_int_equal(decode(NULL, "{\"o\": [1e400]}", row, NULL),
                         KA_ERR_OVERFLOW);
        assert_int_equal(
                decode(NULL, "{\"o\": 1e-400, \"value0\": 1}", row, NULL),
                KA_OK);
        /* Nesting: values up to 2048 deep (the object is 1), as jansson
         * allows; arrays or scalars beyond are an error, not a crash. */
        assert_int_equal(decode(NULL, nested(deep, 2047, ""), row, NULL),
                         KA_OK);
        assert_int_equal(decode(NULL, nested(deep, 2048, ""), row, NULL),
                         KA_ERR_INVALID);
        assert_int_equal(decode(NULL, nested(deep, 2046, "1"), row, NULL),
                         KA_OK);
        assert_int_equal(decode(NULL, nested(deep, 2047, "1"), row, NULL),
                         KA_ERR_INVALID);
        assert_int_equal(decode(NULL, nested(deep, 100000, "1"), row, NULL),
                         KA_ERR_INVALID);
        free(deep);
}

static size_t rss_bytes(void)
{
        FILE *fp = fopen("/proc/self/statm", "r");
        unsigned long size = 0, resident = 0;

        assert_non_null(fp);
        assert_int_equal(fscanf(fp, "%lu %lu", &size, &resident), 2);
        fclose(fp);
        return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * A 4 MB message must not leave its weight in the heap: parsed into a
 * tree of small allocations (jansson), it left 16 to 27 MB resident after
 * everything was freed. The message lives in its own mapping, unmapped
 * before the second measure.
 */
static void big_messages_leave_no_memory_behind(void **state)
{
        enum { SIZE = 4 << 20 };
        ka_agent_source_t src = source(NULL);
        double row[ROWN];
        ka_row_t out = {.vals = row, .nvals = ROWN};

        for (int shape = 0; shape < 3; shape++) {
                char *buf = mmap(NULL, SIZE + 64, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                size_t n = 0, before, after;
                int i = 0;

                assert_true(buf != MAP_FAILED);
                n += (size_t)sprintf(buf, "{\"value0\": 2.5, \"big\": ");
                buf[n++] = shape == 1 ? '{' : '[';
                while (n < SIZE)
                        n += (size_t)sprintf(buf + n,
                                             shape == 0   ? "%d.5,"
                                             : shape == 1 ? "\"k%d\":[],"
                                                          : "\"s%d\",",
                                             i++);
                buf[n - 1] = shape == 1 ? '}' : ']';
                buf[n++] = '}';
                before = rss_bytes();
                assert_int_equal(
                        ka_json_decode_row(&src, (uint8_t *)buf, n, &out, NULL),
                        KA_OK);
                assert_true(row[FIRST] == 2.5);
                munmap(buf, SIZE + 64);
                after = rss_bytes();
                if (after > before + (1u << 20))
                        fail_msg("shape %d: %zu KB more resident after a "
                                 "%d KB message",
                                 shape, (after - before) >> 10, SIZE >> 10);
        }
}

/* An array field next to the scalars: its slice is row->arrays[1]. */
static const ka_agent_field_t arrays[] = {
        {"samples", "samples", KA_NUM_FLOAT, true},
};

static ka_err_t decode_arrays(const char *text, ka_row_t *row)
{
        ka_agent_source_t src = source(NULL);
        size_t len = strlen(text);
        uint8_t *copy = malloc(len ? len : 1);
        ka_err_t err;

        src.first_array = 1;
        src.narrays = 1;
        src.arrays = arrays;
        memcpy(copy, text, len);
        row->arrays[0].len = 99;
        row->arrays[1].len = 77;
        err = ka_json_decode_row(&src, copy, len, row, NULL);
        free(copy);
        assert_int_equal(row->arrays[0].len, 99);
        return err;
}

/* Array fields: numbers (null elements NaN) element for element; a null or
 * missing array is empty; anything else, or a longer array than allowed,
 * is an error. */
static void arrays_by_name(void **state)
{
        ka_row_t row;
        char *big;
        size_t n = KA_ROW_MAX_ARRAY + 1, len = 0;

        assert_true(ka_row_init(&row, ROWN, 2));
        assert_int_equal(decode_arrays("{\"samples\": [1, -2.5, null, 1e300],"
                                       " \"value0\": 3}",
                                       &row),
                         KA_OK);
        assert_int_equal(row.arrays[1].len, 4);
        assert_true(row.arrays[1].vals[0] == 1);
        assert_true(row.arrays[1].vals[1] == -2.5);
        assert_true(isnan(row.arrays[1].vals[2]));
        assert_true(row.arrays[1].vals[3] == 1e300);
        assert_true(row.vals[FIRST] == 3);
        assert_int_equal(decode_arrays("{\"samples\": []}", &row), KA_OK);
        assert_int_equal(row.arrays[1].len, 0);
        assert_int_equal(decode_arrays("{\"samples\": null}", &row), KA_OK);
        assert_int_equal(row.arrays[1].len, 0);
        assert_int_equal(decode_arrays("{\"value0\": 1}", &row), KA_OK);
        assert_int_equal(row.arrays[1].len, 0);
        assert_int_equal(decode_arrays("{\"samples\": 5}", &row),
                         KA_ERR_INVALID);
        assert_int_equal(decode_arrays("{\"samples\": [1, \"2\"]}", &row),
                         KA_ERR_INVALID);
        assert_int_equal(decode_arrays("{\"samples\": [[1]]}", &row),
                         KA_ERR_INVALID);
        assert_int_equal(decode_arrays("{\"samples\": {\"a\": 1}}", &row),
                         KA_ERR_INVALID);
        assert_int_equal(decode_arrays("{\"samples\": [1, 2", &row),
                         KA_ERR_TRUNCATED);
        /* As for scalars, the last member of a name counts, and the text
         * is checked whole before what a member holds is. */
        assert_int_equal(decode_arrays("{\"samples\": \"x\", \"samples\": "
                                       "[7, null]}",
                                       &row),
                         KA_OK);
        assert_int_equal(row.arrays[1].len, 2);
        assert_true(row.arrays[1].vals[0] == 7);
        assert_int_equal(decode_arrays("{\"samples\": [1, [2]], \"samples\": "
                                       "null}",
                                       &row),
                         KA_OK);
        assert_int_equal(row.arrays[1].len, 0);
        assert_int_equal(decode_arrays("{\"samples\": [1], \"samples\": "
                                       "{\"a\": [1]}}",
                                       &row),
                         KA_ERR_INVALID);
        assert_int_equal(decode_arrays("{\"samples\": [\"1\"], \"value0\": "
                                       "1e999}",
                                       &row),
                         KA_ERR_OVERFLOW);
        assert_int_equal(
                decode_arrays("{\"samples\": true, \"value0\": nul", &row),
                KA_ERR_TRUNCATED);

        big = malloc(2 * n + 32);
        assert_non_null(big);
        len += (size_t)sprintf(big, "{\"samples\": [");
        for (size_t i = 0; i < n; i++)
                len += (size_t)sprintf(big + len, i ? ",0" : "0");
        sprintf(big + len, "]}");
        assert_int_equal(decode_arrays(big, &row), KA_ERR_INVALID);
        free(big);
        ka_row_release(&row);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(numbers_by_name),
                cmocka_unit_test(null_and_missing_are_nan),
                cmocka_unit_test(non_numbers_are_errors),
                cmocka_unit_test(truncations),
                cmocka_unit_test(reads_only_len),
                cmocka_unit_test(time_field),
                cmocka_unit_test(json_rules),
                cmocka_unit_test(big_messages_leave_no_memory_behind),
                cmocka_unit_test(arrays_by_name),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
