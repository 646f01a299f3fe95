/*
 * Helpers shared by the cmocka unit tests (see ka_test.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <avro.h>

#include "ka.h"
#include "ka_test.h"

#define DEFAULT_SEED 0x2545f4914f6cdd1dULL

static uint64_t rng_state = DEFAULT_SEED;

void ka_test_seed(uint64_t seed)
{
        /* xorshift never leaves the all-zero state. */
        rng_state = seed ? seed : DEFAULT_SEED;
}

uint64_t ka_test_rnd(void)
{
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 2685821657736338717ULL;
}

size_t ka_test_rnd_below(size_t n)
{
        return (size_t)(ka_test_rnd() % n);
}

int64_t ka_test_rnd_long(void)
{
        static const int64_t edges[] = {
                0,   -1,        1,         63,        64,        -64,
                -65, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, INT64_MIN + 1};

        if (ka_test_rnd_below(5) == 0)
                return edges[ka_test_rnd_below(KA_ARRAY_SIZE(edges))];
        return (int64_t)(ka_test_rnd() >> ka_test_rnd_below(64));
}

avro_schema_t ka_test_schema_parse(const char *json)
{
        avro_schema_t schema = NULL;

        if (avro_schema_from_json_length(json, strlen(json), &schema))
                fail_msg("avro-c schema: %s", avro_strerror());
        return schema;
}

void ka_test_writer_init(ka_test_writer_t *w, const char *json)
{
        w->schema = ka_test_schema_parse(json);
        w->iface = avro_generic_class_from_schema(w->schema);
        assert_non_null(w->iface);
        assert_int_equal(avro_generic_value_new(w->iface, &w->value), 0);
}

void ka_test_writer_release(ka_test_writer_t *w)
{
        avro_value_decref(&w->value);
        avro_value_iface_decref(w->iface);
        avro_schema_decref(w->schema);
}

static void fill_string(avro_value_t *v, int printable)
{
        char text[64];
        size_t i, n = ka_test_rnd_below(sizeof(text));

        for (i = 0; i < n; i++)
                text[i] = printable ? (char)(' ' + ka_test_rnd_below(95))
                                    : (char)ka_test_rnd();
        if (printable) {
                text[n] = '\0';
                assert_int_equal(avro_value_set_string(v, text), 0);
        } else {
                assert_int_equal(avro_value_set_bytes(v, text, n), 0);
        }
}

static void fill_container(avro_value_t *v, int depth)
{
        avro_value_t child;
        char key[32];
        size_t i, n = depth > 5 ? 0 : ka_test_rnd_below(5);

        for (i = 0; i < n; i++) {
                if (avro_value_get_type(v) == AVRO_ARRAY) {
                        assert_int_equal(avro_value_append(v, &child, NULL), 0);
                } else {
                        snprintf(key, sizeof(key), "key%u.%u", (unsigned)i,
                                 (unsigned)ka_test_rnd_below(1000));
                        assert_int_equal(
                                avro_value_add(v, key, &child, NULL, NULL), 0);
                }
                ka_test_fill_random(&child, depth + 1);
        }
}

void ka_test_fill_random(avro_value_t *v, int depth)
{
        avro_schema_t schema = avro_value_get_schema(v);
        avro_value_t child;
        size_t i, n;
        uint64_t u = ka_test_rnd();
        uint32_t u32 = (uint32_t)u;
        uint8_t fixed[64];
        double d;
        float f;

        switch (avro_value_get_type(v)) {
        case AVRO_STRING:
                fill_string(v, 1);
                break;
        case AVRO_BYTES:
                fill_string(v, 0);
                break;
        case AVRO_INT32:
                avro_value_set_int(v, (int32_t)ka_test_rnd_long());
                break;
        case AVRO_INT64:
                avro_value_set_long(v, ka_test_rnd_long());
                break;
        case AVRO_FLOAT:
                memcpy(&f, &u32, 4);
                avro_value_set_float(v, f);
                break;
        case AVRO_DOUBLE:
                memcpy(&d, &u, 8);
                avro_value_set_double(v, d);
                break;
        case AVRO_BOOLEAN:
                avro_value_set_boolean(v, u & 1);
                break;
        case AVRO_NULL:
                avro_value_set_null(v);
                break;
        case AVRO_RECORD:
                avro_value_get_size(v, &n);
                for (i = 0; i < n; i++) {
                        avro_value_get_by_index(v, i, &child, NULL);
                        ka_test_fill_random(&child, depth + 1);
                }
                break;
        case AVRO_ENUM:
                avro_value_set_enum(
                        v, (int)ka_test_rnd_below(
                                   (size_t)avro_schema_enum_number_of_symbols(
                                           schema)));
                break;
        case AVRO_FIXED:
                for (i = 0; i < sizeof(fixed); i++)
                        fixed[i] = (uint8_t)ka_test_rnd();
                avro_value_set_fixed(v, fixed,
                                     (size_t)avro_schema_fixed_size(schema));
                break;
        case AVRO_ARRAY:
        case AVRO_MAP:
                fill_container(v, depth);
                break;
        case AVRO_UNION:
                n = avro_schema_union_size(schema);
                avro_value_set_branch(
                        v, depth > 5 ? 0 : (int)ka_test_rnd_below(n), &child);
                ka_test_fill_random(&child, depth + 1);
                break;
        default:
                fail_msg("unexpected avro-c type");
        }
}
