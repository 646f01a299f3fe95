/*
 * Plausible records (tools/plausible.c), what `produce` writes: for every
 * pinned schema of the golden cases (every Avro type, recursive ones, real
 * SAL schemas), avro-c reads each record back whole; the event-time and
 * sequence fields hold now and the sequence number, numbers lie in their
 * ranges, and arrays are as long as their field's default, or as asked.
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
#include <glob.h>
#include <jansson.h>

#include "plausible.h"

#define NOW 1700000000.25

static char *slurp(const char *path)
{
        FILE *fp = fopen(path, "rb");
        char *text = NULL;
        size_t n = 0;

        assert_non_null(fp);
        text = malloc(1 << 20);
        assert_non_null(text);
        n = fread(text, 1, (1 << 20) - 1, fp);
        text[n] = '\0';
        fclose(fp);
        return text;
}

/* Reads buf[0 .. len) with avro-c as one record of schema; it must take
 * all of it. */
static void read_back(avro_schema_t schema, const uint8_t *buf, size_t len,
                      avro_value_t *val, const char *what)
{
        avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
        avro_reader_t reader =
                avro_reader_memory((const char *)buf, (int64_t)len);
        size_t size;

        assert_non_null(iface);
        assert_int_equal(avro_generic_value_new(iface, val), 0);
        if (avro_value_read(reader, val))
                fail_msg("%s: avro-c cannot read the record: %s", what,
                         avro_strerror());
        assert_int_equal(avro_value_sizeof(val, &size), 0);
        if (size != len)
                fail_msg("%s: %zu bytes written, avro-c read %zu", what, len,
                         size);
        avro_reader_free(reader);
        avro_value_iface_decref(iface);
}

/* Every golden schema: records avro-c reads whole, with a header kept. */
static void every_golden_schema(void **state)
{
        glob_t g;
        size_t nschemas = 0;

        assert_int_equal(glob("tests/golden/*/schemas/*.avsc", 0, NULL, &g), 0);
        for (size_t i = 0; i < g.gl_pathc; i++) {
                char *json = slurp(g.gl_pathv[i]), errstr[256] = "";
                ka_plausible_t *p =
                        ka_plausible_new(json, 0, errstr, sizeof(errstr));
                avro_schema_t schema = NULL;
                uint8_t *buf = NULL;
                size_t cap = 0, len = 0;
                uint64_t rng = 7 + i;

                if (!p)
                        fail_msg("%s: %s", g.gl_pathv[i], errstr);
                assert_int_equal(avro_schema_from_json_length(
                                         json, strlen(json), &schema),
                                 0);
                for (int64_t seq = 0; seq < 20; seq++) {
                        avro_value_t val;

                        assert_int_equal(ka_plausible_record(p, NOW, seq, &rng,
                                                             &buf, &cap, 5,
                                                             &len),
                                         KA_OK);
                        if (seq == 0)
                                memcpy(buf, "HEAD!", 5);
                        assert_memory_equal(buf, "HEAD!", 5);
                        read_back(schema, buf + 5, len - 5, &val,
                                  g.gl_pathv[i]);
                        avro_value_decref(&val);
                }
                avro_schema_decref(schema);
                ka_plausible_destroy(p);
                free(buf);
                free(json);
                nschemas++;
        }
        assert_true(nschemas >= 10);
        globfree(&g);
}

/* SAL's lsst.sal.ESS.accelerometer: the stamps are now, the sequence
 * number counts, arrays have their default's 400 elements (or as asked),
 * floats lie in [0, 1). */
static void sal_values(void **state)
{
        char *json = slurp("tests/golden/sal-topics-by-pattern/schemas/"
                           "lsst.sal.ESS.accelerometer.avsc");
        avro_schema_t schema = NULL;
        uint8_t *buf = NULL;
        size_t cap = 0, len = 0;
        uint64_t rng = 1;

        assert_int_equal(
                avro_schema_from_json_length(json, strlen(json), &schema), 0);
        for (size_t want = 0; want <= 3; want += 3) {
                char errstr[256];
                ka_plausible_t *p =
                        ka_plausible_new(json, want, errstr, sizeof(errstr));
                avro_value_t val, f, item;
                double d;
                float x;
                int32_t i32;
                size_t n;

                assert_non_null(p);
                assert_int_equal(ka_plausible_record(p, NOW, 42, &rng, &buf,
                                                     &cap, 0, &len),
                                 KA_OK);
                read_back(schema, buf, len, &val, "accelerometer");
                avro_value_get_by_name(&val, "private_sndStamp", &f, NULL);
                avro_value_get_double(&f, &d);
                assert_true(d == NOW);
                avro_value_get_by_name(&val, "private_kafkaStamp", &f, NULL);
                avro_value_get_double(&f, &d);
                assert_true(d == NOW);
                avro_value_get_by_name(&val, "private_seqNum", &f, NULL);
                avro_value_get_int(&f, &i32);
                assert_int_equal(i32, 42);
                avro_value_get_by_name(&val, "salIndex", &f, NULL);
                avro_value_get_int(&f, &i32);
                assert_true(i32 >= 0 && i32 < 100);
                avro_value_get_by_name(&val, "accelerationZ", &f, NULL);
                avro_value_get_size(&f, &n);
                assert_int_equal(n, want ? want : 400);
                for (size_t k = 0; k < n; k++) {
                        avro_value_get_by_index(&f, k, &item, NULL);
                        avro_value_get_float(&item, &x);
                        assert_true(x >= 0 && x < 1);
                }
                avro_value_decref(&val);
                ka_plausible_destroy(p);
        }
        avro_schema_decref(schema);
        free(buf);
        free(json);
}

static void not_a_record(void **state)
{
        char errstr[256] = "";

        assert_null(ka_plausible_new("\"double\"", 0, errstr, sizeof(errstr)));
        assert_non_null(strstr(errstr, "not a record"));
        assert_null(ka_plausible_new("{", 0, errstr, sizeof(errstr)));
        ka_plausible_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_golden_schema),
                cmocka_unit_test(sal_values),
                cmocka_unit_test(not_a_record),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
