/*
 * The Avro -> JSON printer of `consume` against avro-c: random values of a
 * schema with every type print what avro_value_to_json() prints, byte for
 * byte but for numbers, which read back to the same values; numbers are
 * the shortest text that reads back to the same double (a float's double
 * for a float); NaN and
 * infinities, which avro-c refuses, print as the strings "NaN", "Infinity"
 * and "-Infinity" wherever a float or double can sit; and strings that are
 * not UTF-8 still print.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <avro.h>
#include <float.h>
#include <jansson.h>
#include <math.h>

#include "avro_json.h"
#include "ka.h"
#include "ka_test.h"

/* Every Avro type, each complex type holding floats or doubles somewhere,
 * and a union with a branch of every kind. */
static const char ALL_SCHEMA[] =
        "{\"type\": \"record\", \"name\": \"all\", \"namespace\": \"t\", "
        "\"fields\": ["
        "{\"name\": \"n\", \"type\": \"null\"},"
        "{\"name\": \"b\", \"type\": \"boolean\"},"
        "{\"name\": \"i\", \"type\": \"int\"},"
        "{\"name\": \"l\", \"type\": \"long\"},"
        "{\"name\": \"f\", \"type\": \"float\"},"
        "{\"name\": \"d\", \"type\": \"double\"},"
        "{\"name\": \"by\", \"type\": \"bytes\"},"
        "{\"name\": \"s\", \"type\": \"string\"},"
        "{\"name\": \"e\", \"type\": {\"type\": \"enum\", \"name\": \"color\", "
        "\"symbols\": [\"RED\", \"GREEN\", \"BLUE\"]}},"
        "{\"name\": \"fx\", \"type\": {\"type\": \"fixed\", \"name\": "
        "\"four\", \"size\": 4}},"
        "{\"name\": \"ad\", \"type\": {\"type\": \"array\", \"items\": "
        "\"double\"}},"
        "{\"name\": \"mf\", \"type\": {\"type\": \"map\", \"values\": "
        "\"float\"}},"
        "{\"name\": \"u\", \"type\": [\"null\", \"double\", \"float\", "
        "\"string\", \"bytes\", \"long\", \"int\", \"boolean\", \"color\", "
        "\"four\", {\"type\": \"array\", \"items\": \"float\"}, "
        "{\"type\": \"map\", \"values\": \"double\"}, "
        "{\"type\": \"record\", \"name\": \"inner\", \"fields\": ["
        "{\"name\": \"x\", \"type\": \"double\"}, "
        "{\"name\": \"y\", \"type\": \"float\"}]}]},"
        "{\"name\": \"au\", \"type\": {\"type\": \"array\", \"items\": "
        "[\"null\", \"double\"]}},"
        "{\"name\": \"mu\", \"type\": {\"type\": \"map\", \"values\": "
        "[\"null\", \"float\", \"inner\"]}},"
        "{\"name\": \"r\", \"type\": \"inner\"},"
        "{\"name\": \"ar\", \"type\": {\"type\": \"array\", \"items\": "
        "\"inner\"}}"
        "]}";

/* Branch numbers in the union of field "u". */
enum {
        U_NULL,
        U_DOUBLE,
        U_FLOAT,
        U_STRING,
        U_BYTES,
        U_LONG,
        U_INT,
        U_BOOLEAN,
        U_COLOR,
        U_FOUR,
        U_ARRAY,
        U_MAP,
        U_INNER,
        U_COUNT
};

/* avro-c's text for value, or NULL where avro-c fails. */
static char *avro_c_json(const avro_value_t *value)
{
        char *json = NULL;

        if (avro_value_to_json(value, 1, &json))
                return NULL;
        return json;
}

/* The length of the JSON number at s, 0 when none starts there. */
static size_t number_len(const char *s)
{
        size_t n = strspn(s, "-");

        if (n > 1 || s[n] < '0' || s[n] > '9')
                return 0;
        return n + strspn(s + n, "0123456789.eE+-");
}

/* Whether the JSON number s[0..len) reads as a real, not an integer. */
static bool is_real(const char *s, size_t len)
{
        return memchr(s, '.', len) || memchr(s, 'e', len) ||
               memchr(s, 'E', len);
}

/*
 * Whether got (ka_avro_json()) says what want (avro-c's text of the same
 * value) says: the same bytes outside numbers, and each number reading
 * back to the same double, a real where avro-c wrote a real.
 */
static bool same_json(const char *got, const char *want)
{
        bool in_string = false;

        while (*got && *want) {
                size_t gn = in_string ? 0 : number_len(got),
                       wn = in_string ? 0 : number_len(want);
                double g, w;

                if (!gn || !wn) {
                        if (*got != *want)
                                return false;
                        if (in_string && *got == '\\') {
                                if (got[1] != want[1])
                                        return false;
                                got++;
                                want++;
                        } else if (*got == '"') {
                                in_string = !in_string;
                        }
                        got++;
                        want++;
                        continue;
                }
                if (!is_real(want, wn)) {
                        /* ints and longs: the same digits */
                        if (gn != wn || memcmp(got, want, wn))
                                return false;
                } else {
                        char *end;

                        w = strtod(want, &end);
                        assert_true((size_t)(end - want) == wn);
                        g = strtod(got, &end);
                        assert_true((size_t)(end - got) == gn);
                        if (!is_real(got, gn))
                                return false;
                        if (memcmp(&g, &w, sizeof(g)))
                                return false;
                }
                got += gn;
                want += wn;
        }
        return *got == *want;
}

static void field(avro_value_t *rec, const char *name, avro_value_t *out)
{
        assert_int_equal(avro_value_get_by_name(rec, name, out, NULL), 0);
}

static void branch(avro_value_t *u, int disc, avro_value_t *out)
{
        assert_int_equal(avro_value_set_branch(u, disc, out), 0);
}

static void append(avro_value_t *arr, avro_value_t *out)
{
        assert_int_equal(avro_value_append(arr, out, NULL), 0);
}

static void add(avro_value_t *map, const char *key, avro_value_t *out)
{
        assert_int_equal(avro_value_add(map, key, out, NULL, NULL), 0);
}

/* Sets a float or a double. */
static void set_real(avro_value_t *v, double x)
{
        if (avro_value_get_type(v) == AVRO_FLOAT)
                assert_int_equal(avro_value_set_float(v, (float)x), 0);
        else
                assert_int_equal(avro_value_set_double(v, x), 0);
}

/* ---- random values ---------------------------------------------------- */

/* Finite doubles: random bit patterns and values whose text is special. */
static double rnd_finite(void)
{
        static const double edges[] = {0.0,
                                       -0.0,
                                       0.1,
                                       1e300,
                                       5e-324,
                                       DBL_MAX,
                                       DBL_MIN,
                                       2.0,
                                       1e16,
                                       1e22,
                                       1e-5,
                                       -1.5,
                                       1e17,
                                       123456.0,
                                       0.25,
                                       1.0 / 3,
                                       9007199254740993.0};
        uint64_t u;
        double d;

        if (ka_test_rnd_below(4) == 0)
                return edges[ka_test_rnd_below(KA_ARRAY_SIZE(edges))];
        do {
                u = ka_test_rnd();
                memcpy(&d, &u, 8);
        } while (!isfinite(d));
        return d;
}

static float rnd_float(void)
{
        uint32_t u;
        float f;

        do {
                if (ka_test_rnd_below(4) == 0) {
                        f = (float)rnd_finite();
                } else {
                        u = (uint32_t)ka_test_rnd();
                        memcpy(&f, &u, 4);
                }
        } while (!isfinite(f));
        return f;
}

/* Appends cp as UTF-8. */
static size_t put_utf8(char *s, uint32_t cp)
{
        if (cp < 0x80) {
                s[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                s[0] = (char)(0xC0 | cp >> 6);
                s[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                s[0] = (char)(0xE0 | cp >> 12);
                s[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                s[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        s[0] = (char)(0xF0 | cp >> 18);
        s[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        s[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        s[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

/* Valid UTF-8 without NUL (what avro-c can print): control characters,
 * quotes, backslashes, and characters of every UTF-8 length. */
static void rnd_text(char *s, size_t cap)
{
        size_t n = 0, count = ka_test_rnd_below(12);
        uint32_t cp;

        for (size_t i = 0; i < count && n + 5 < cap; i++) {
                switch (ka_test_rnd_below(6)) {
                case 0:
                        cp = 1 + (uint32_t)ka_test_rnd_below(0x7F);
                        break;
                case 1:
                        cp = "\"\\/\b\f\n\r\t"[ka_test_rnd_below(8)];
                        break;
                case 2:
                        cp = 0x80 + (uint32_t)ka_test_rnd_below(0x800 - 0x80);
                        break;
                case 3:
                        do {
                                cp = 0x800 + (uint32_t)ka_test_rnd_below(
                                                     0x10000 - 0x800);
                        } while (cp >= 0xD800 && cp <= 0xDFFF);
                        break;
                case 4:
                        cp = 0x10000 + (uint32_t)ka_test_rnd_below(0x100000);
                        break;
                default:
                        cp = 'a' + (uint32_t)ka_test_rnd_below(26);
                        break;
                }
                n += put_utf8(s + n, cp);
        }
        s[n] = '\0';
}

/* Not 0: avro-c 1.11.1 ends bytes and fixed at a NUL byte (see
 * test_bytes_escapes). */
static uint8_t rnd_byte(void)
{
        return (uint8_t)(1 + ka_test_rnd_below(255));
}

static void fill(avro_value_t *v, int depth)
{
        avro_value_t item;
        char text[64];
        uint8_t bytes[16];
        size_t count;

        assert_true(depth < 10);
        switch (avro_value_get_type(v)) {
        case AVRO_NULL:
                assert_int_equal(avro_value_set_null(v), 0);
                break;
        case AVRO_BOOLEAN:
                assert_int_equal(
                        avro_value_set_boolean(v, (int)ka_test_rnd_below(2)),
                        0);
                break;
        case AVRO_INT32:
                assert_int_equal(avro_value_set_int(v, (int32_t)ka_test_rnd()),
                                 0);
                break;
        case AVRO_INT64:
                assert_int_equal(avro_value_set_long(
                                         v, (int64_t)(ka_test_rnd() >>
                                                      ka_test_rnd_below(64))),
                                 0);
                break;
        case AVRO_FLOAT:
                assert_int_equal(avro_value_set_float(v, rnd_float()), 0);
                break;
        case AVRO_DOUBLE:
                assert_int_equal(avro_value_set_double(v, rnd_finite()), 0);
                break;
        case AVRO_STRING:
                rnd_text(text, sizeof(text));
                assert_int_equal(avro_value_set_string(v, text), 0);
                break;
        case AVRO_BYTES:
                count = ka_test_rnd_below(sizeof(bytes) + 1);
                for (size_t i = 0; i < count; i++)
                        bytes[i] = rnd_byte();
                assert_int_equal(avro_value_set_bytes(v, bytes, count), 0);
                break;
        case AVRO_FIXED:
                count = (size_t)avro_schema_fixed_size(
                        avro_value_get_schema(v));
                assert_true(count <= sizeof(bytes));
                for (size_t i = 0; i < count; i++)
                        bytes[i] = rnd_byte();
                assert_int_equal(avro_value_set_fixed(v, bytes, count), 0);
                break;
        case AVRO_ENUM:
                count = (size_t)avro_schema_enum_number_of_symbols(
                        avro_value_get_schema(v));
                assert_int_equal(
                        avro_value_set_enum(v, (int)ka_test_rnd_below(count)),
                        0);
                break;
        case AVRO_ARRAY:
                count = ka_test_rnd_below(4);
                for (size_t i = 0; i < count; i++) {
                        append(v, &item);
                        fill(&item, depth + 1);
                }
                break;
        case AVRO_MAP:
                count = ka_test_rnd_below(4);
                for (size_t i = 0; i < count; i++) {
                        rnd_text(text, sizeof(text));
                        add(v, text, &item);
                        fill(&item, depth + 1);
                }
                break;
        case AVRO_UNION:
                branch(v,
                       (int)ka_test_rnd_below(avro_schema_union_size(
                               avro_value_get_schema(v))),
                       &item);
                fill(&item, depth + 1);
                break;
        case AVRO_RECORD:
                assert_int_equal(avro_value_get_size(v, &count), 0);
                for (size_t i = 0; i < count; i++) {
                        assert_int_equal(
                                avro_value_get_by_index(v, i, &item, NULL), 0);
                        fill(&item, depth + 1);
                }
                break;
        default:
                fail_msg("unexpected type %d", (int)avro_value_get_type(v));
        }
}

/* ---- same text as avro-c ---------------------------------------------- */

static void test_same_as_avro_c(void **state)
{
        ka_test_writer_t fx;
        int branches[U_COUNT] = {0};

        ka_test_writer_init(&fx, ALL_SCHEMA);
        for (int round = 0; round < 400; round++) {
                avro_value_t u;
                char *want, *got;
                int disc;

                avro_value_reset(&fx.value);
                fill(&fx.value, 0);
                field(&fx.value, "u", &u);
                assert_int_equal(avro_value_get_discriminant(&u, &disc), 0);
                branches[disc]++;
                want = avro_c_json(&fx.value);
                assert_non_null(want);
                got = ka_avro_json(&fx.value);
                assert_non_null(got);
                if (!same_json(got, want))
                        fail_msg("round %d:\n got %s\nwant %s", round, got,
                                 want);
                assert_null(strchr(got, '\n'));
                free(want);
                free(got);
        }
        /* Every union branch was printed at least once. */
        for (int i = 0; i < U_COUNT; i++)
                assert_true(branches[i] > 0);
        ka_test_writer_release(&fx);
}

/* Each primitive type alone at the top, as avro_value_to_json() prints it
 * with JSON_ENCODE_ANY. */
static void test_top_level_scalars(void **state)
{
        static const char *const schemas[] = {
                "\"null\"",
                "\"boolean\"",
                "\"int\"",
                "\"long\"",
                "\"float\"",
                "\"double\"",
                "\"bytes\"",
                "\"string\"",
                "{\"type\": \"enum\", \"name\": \"e\", \"symbols\": [\"A\"]}",
                "{\"type\": \"fixed\", \"name\": \"x\", \"size\": 3}",
                "[\"null\", \"string\"]",
                "{\"type\": \"record\", \"name\": \"empty\", \"fields\": []}",
        };

        for (size_t i = 0; i < KA_ARRAY_SIZE(schemas); i++) {
                for (int round = 0; round < 20; round++) {
                        ka_test_writer_t fx;
                        char *want, *got;

                        ka_test_writer_init(&fx, schemas[i]);
                        fill(&fx.value, 0);
                        want = avro_c_json(&fx.value);
                        got = ka_avro_json(&fx.value);
                        assert_non_null(want);
                        assert_non_null(got);
                        if (!same_json(got, want))
                                fail_msg("%s:\n got %s\nwant %s", schemas[i],
                                         got, want);
                        free(want);
                        free(got);
                        ka_test_writer_release(&fx);
                }
        }
}

/* Bytes and fixed are ISO-8859-1 code points, escaped like text. A NUL
 * byte is \u0000 and the bytes after it still print (avro-c 1.11.1 stops
 * there; later avro-c and Java do not). */
static void test_bytes_escapes(void **state)
{
        static const uint8_t bytes[] = {'a',  0x00, '"',  '\\', '/', '\n',
                                        0x1F, 0x7F, 0x80, 0xE9, 0xFF};
        static const char want[] = "\"a\\u0000\\\"\\\\/\\n\\u001F\x7F"
                                   "\\u0080\\u00E9\\u00FF\"";
        ka_test_writer_t fx;
        char *got;

        ka_test_writer_init(&fx, "\"bytes\"");
        assert_int_equal(
                avro_value_set_bytes(&fx.value, (void *)bytes, sizeof(bytes)),
                0);
        got = ka_avro_json(&fx.value);
        assert_string_equal(got, want);
        free(got);
        ka_test_writer_release(&fx);

        ka_test_writer_init(&fx,
                            "{\"type\": \"fixed\", \"name\": \"f\", \"size\": "
                            "11}");
        assert_int_equal(
                avro_value_set_fixed(&fx.value, (void *)bytes, sizeof(bytes)),
                0);
        got = ka_avro_json(&fx.value);
        assert_string_equal(got, want);
        free(got);
        ka_test_writer_release(&fx);
}

/* ---- NaN and infinities ----------------------------------------------- */

/* Where a float or double can sit in ALL_SCHEMA. */
typedef enum spot_e {
        SPOT_FIELD_DOUBLE,
        SPOT_FIELD_FLOAT,
        SPOT_ARRAY_DOUBLE,
        SPOT_MAP_FLOAT,
        SPOT_UNION_DOUBLE,
        SPOT_UNION_FLOAT,
        SPOT_UNION_ARRAY_FLOAT,
        SPOT_UNION_MAP_DOUBLE,
        SPOT_UNION_RECORD_DOUBLE,
        SPOT_ARRAY_UNION_DOUBLE,
        SPOT_MAP_UNION_FLOAT,
        SPOT_MAP_UNION_RECORD_FLOAT,
        SPOT_RECORD_DOUBLE,
        SPOT_ARRAY_RECORD_FLOAT,
        SPOT_COUNT
} spot_t;

/*
 * Fills rec with plain values (none printing as "1234.5"), builds the
 * containers that lead to spot and returns the float or double there in
 * *leaf.
 */
static void build(avro_value_t *rec, spot_t spot, avro_value_t *leaf)
{
        avro_value_t v, item, u;

        avro_value_reset(rec);
        field(rec, "n", &v);
        avro_value_set_null(&v);
        field(rec, "b", &v);
        avro_value_set_boolean(&v, 1);
        field(rec, "i", &v);
        avro_value_set_int(&v, -7);
        field(rec, "l", &v);
        avro_value_set_long(&v, 1LL << 40);
        field(rec, "f", &v);
        avro_value_set_float(&v, 0.5f);
        field(rec, "d", &v);
        avro_value_set_double(&v, 2.25);
        field(rec, "by", &v);
        avro_value_set_bytes(&v, "ab", 2);
        field(rec, "s", &v);
        avro_value_set_string(&v, "text");
        field(rec, "e", &v);
        avro_value_set_enum(&v, 2);
        field(rec, "fx", &v);
        avro_value_set_fixed(&v, "wxyz", 4);
        field(rec, "ad", &v);
        append(&v, &item);
        set_real(&item, 3.0);
        append(&v, &item);
        set_real(&item, 4.0);
        field(rec, "mf", &v);
        add(&v, "a", &item);
        set_real(&item, 5.0);
        add(&v, "b", &item);
        set_real(&item, 6.0);
        field(rec, "u", &u);
        branch(&u, U_NULL, &item);
        field(rec, "au", &v);
        /* au: [7.0, null]; mu: {"m": 8.0} */
        append(&v, &u);
        branch(&u, 1, &item);
        set_real(&item, 7.0);
        append(&v, &u);
        branch(&u, 0, &item);
        field(rec, "mu", &v);
        add(&v, "m", &u);
        branch(&u, 1, &item);
        set_real(&item, 8.0);
        field(rec, "r", &v);
        field(&v, "x", &item);
        set_real(&item, 9.0);
        field(&v, "y", &item);
        set_real(&item, 10.0);
        field(rec, "ar", &v);
        for (int i = 0; i < 2; i++) {
                avro_value_t r;

                append(&v, &r);
                field(&r, "x", &item);
                set_real(&item, 11.0 + i);
                field(&r, "y", &item);
                set_real(&item, 13.0 + i);
        }

        switch (spot) {
        case SPOT_FIELD_DOUBLE:
                field(rec, "d", leaf);
                break;
        case SPOT_FIELD_FLOAT:
                field(rec, "f", leaf);
                break;
        case SPOT_ARRAY_DOUBLE:
                field(rec, "ad", &v);
                assert_int_equal(avro_value_get_by_index(&v, 1, leaf, NULL), 0);
                break;
        case SPOT_MAP_FLOAT:
                field(rec, "mf", &v);
                assert_int_equal(avro_value_get_by_name(&v, "b", leaf, NULL),
                                 0);
                break;
        case SPOT_UNION_DOUBLE:
                field(rec, "u", &u);
                branch(&u, U_DOUBLE, leaf);
                break;
        case SPOT_UNION_FLOAT:
                field(rec, "u", &u);
                branch(&u, U_FLOAT, leaf);
                break;
        case SPOT_UNION_ARRAY_FLOAT:
                field(rec, "u", &u);
                branch(&u, U_ARRAY, &v);
                append(&v, &item);
                set_real(&item, 0.75);
                append(&v, leaf);
                break;
        case SPOT_UNION_MAP_DOUBLE:
                field(rec, "u", &u);
                branch(&u, U_MAP, &v);
                add(&v, "k", leaf);
                add(&v, "z", &item);
                set_real(&item, -1.0);
                break;
        case SPOT_UNION_RECORD_DOUBLE:
                field(rec, "u", &u);
                branch(&u, U_INNER, &v);
                field(&v, "y", &item);
                set_real(&item, 1.0);
                field(&v, "x", leaf);
                break;
        case SPOT_ARRAY_UNION_DOUBLE:
                field(rec, "au", &v);
                assert_int_equal(avro_value_get_by_index(&v, 1, &u, NULL), 0);
                branch(&u, 1, leaf);
                break;
        case SPOT_MAP_UNION_FLOAT:
                field(rec, "mu", &v);
                add(&v, "m2", &u);
                branch(&u, 1, leaf);
                break;
        case SPOT_MAP_UNION_RECORD_FLOAT:
                field(rec, "mu", &v);
                assert_int_equal(avro_value_get_by_name(&v, "m", &u, NULL), 0);
                branch(&u, 2, &v);
                field(&v, "x", &item);
                set_real(&item, 2.0);
                field(&v, "y", leaf);
                break;
        case SPOT_RECORD_DOUBLE:
                field(rec, "r", &v);
                field(&v, "x", leaf);
                break;
        case SPOT_ARRAY_RECORD_FLOAT:
                field(rec, "ar", &v);
                assert_int_equal(avro_value_get_by_index(&v, 1, &item, NULL),
                                 0);
                field(&item, "y", leaf);
                break;
        default:
                fail();
        }
        set_real(leaf, 0.0);
}

/* Replaces the one occurrence of from in s with to (malloc'd). */
static char *replace_once(const char *s, const char *from, const char *to)
{
        const char *at = strstr(s, from);
        char *out;

        assert_non_null(at);
        assert_null(strstr(at + 1, from));
        out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
        assert_non_null(out);
        sprintf(out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
        return out;
}

/*
 * The expected text is avro-c's for the same value with a finite sentinel
 * at the spot, the sentinel's text replaced by the quoted name: the rest
 * of the line must not change.
 */
static void test_non_finite_everywhere(void **state)
{
        static const struct {
                double value;
                const char *text;
        } specials[] = {
                {NAN, "\"NaN\""},
                {-NAN, "\"NaN\""},
                {INFINITY, "\"Infinity\""},
                {-INFINITY, "\"-Infinity\""},
        };
        ka_test_writer_t fx;

        ka_test_writer_init(&fx, ALL_SCHEMA);
        for (int spot = 0; spot < SPOT_COUNT; spot++) {
                for (size_t k = 0; k < KA_ARRAY_SIZE(specials); k++) {
                        avro_value_t leaf;
                        char *base, *want, *got;

                        build(&fx.value, (spot_t)spot, &leaf);
                        set_real(&leaf, 1234.5);
                        base = avro_c_json(&fx.value);
                        assert_non_null(base);
                        want = replace_once(base, "1234.5", specials[k].text);
                        set_real(&leaf, specials[k].value);
                        /* What consume used to do, and why this exists. */
                        assert_null(avro_c_json(&fx.value));
                        got = ka_avro_json(&fx.value);
                        assert_non_null(got);
                        if (strcmp(got, want))
                                fail_msg("spot %d, %s:\n got %s\nwant %s", spot,
                                         specials[k].text, got, want);
                        free(base);
                        free(want);
                        free(got);
                }
        }
        ka_test_writer_release(&fx);
}

/* The record an aggregated topic carries, read back as JSON by a user. */
static void test_nan_record_parses(void **state)
{
        ka_test_writer_t fx;
        avro_value_t v;
        json_error_t error;
        json_t *doc;
        char *got;

        ka_test_writer_init(&fx, "{\"type\": \"record\", \"name\": \"agg\", "
                                 "\"fields\": [{\"name\": \"time\", \"type\": "
                                 "\"double\"}, {\"name\": \"x\", \"type\": "
                                 "\"double\"}, {\"name\": \"y\", \"type\": "
                                 "\"float\"}]}");
        field(&fx.value, "time", &v);
        avro_value_set_double(&v, 1.5);
        field(&fx.value, "x", &v);
        avro_value_set_double(&v, NAN);
        field(&fx.value, "y", &v);
        avro_value_set_float(&v, -INFINITY);
        got = ka_avro_json(&fx.value);
        assert_string_equal(got, "{\"time\": 1.5, \"x\": \"NaN\", \"y\": "
                                 "\"-Infinity\"}");
        doc = json_loads(got, 0, &error);
        assert_non_null(doc);
        assert_string_equal(json_string_value(json_object_get(doc, "x")),
                            "NaN");
        json_decref(doc);
        free(got);
        ka_test_writer_release(&fx);
}

/* ---- numbers: shortest text that reads back exactly ------------------ */

/* Significant digits of the number text s: its mantissa's digits without
 * leading and trailing zeros. */
static int significant_digits(const char *s)
{
        char digits[64];
        size_t n = 0, first = 0;

        for (; *s && *s != 'e' && *s != 'E'; s++)
                if (*s >= '0' && *s <= '9' && n < sizeof(digits))
                        digits[n++] = *s;
        while (first < n && digits[first] == '0')
                first++;
        while (n > first && digits[n - 1] == '0')
                n--;
        return (int)(n - first);
}

/* Whether text reads back to exactly d. */
static bool reads_back(const char *text, double d)
{
        double back = strtod(text, NULL);

        return !memcmp(&back, &d, sizeof(d));
}

/*
 * value printed alone (a float holding d when is_float): a JSON real
 * that reads back to d, exactly, with the same value as avro-c's text,
 * and in the fewest significant digits: the correctly rounded text of
 * one digit fewer does not read back.
 */
static void check_shortest(avro_value_t *value, double d, bool is_float)
{
        json_error_t error;
        json_t *doc;
        char *got, *want, fewer[400];
        double back;
        int n;

        if (is_float) {
                d = (double)(float)d;
                assert_int_equal(avro_value_set_float(value, (float)d), 0);
        } else {
                assert_int_equal(avro_value_set_double(value, d), 0);
        }
        got = ka_avro_json(value);
        assert_non_null(got);
        want = avro_c_json(value);
        assert_non_null(want);
        if (!same_json(got, want))
                fail_msg("%.17g printed as %s, avro-c %s", d, got, want);
        doc = json_loads(got, JSON_DECODE_ANY, &error);
        assert_non_null(doc);
        /* A real, not an integer: "2" would read back as an int. */
        assert_true(json_is_real(doc));
        back = json_real_value(doc);
        if (!reads_back(got, d) || memcmp(&back, &d, sizeof(d)))
                fail_msg("%.17g printed as %s reads back as %.17g", d, got,
                         back);
        n = significant_digits(got);
        assert_true(n <= 17 && (n > 0 || d == 0));
        snprintf(fewer, sizeof(fewer), "%.*g", n - 1, d);
        if (n > 1 && reads_back(fewer, d))
                fail_msg("%s %.17g printed as %s, but %s reads back too",
                         is_float ? "float" : "double", d, got, fewer);
        json_decref(doc);
        free(got);
        free(want);
}

static void test_numbers_shortest(void **state)
{
        static const double values[] = {
                0.1,     1e300,    5e-324, -0.0,     0.0,  DBL_MAX,
                DBL_MIN, -DBL_MAX, 1e22,   1e16,     2.0,  1.0 / 3,
                1e-5,    123e-310, 1e23,   0.3,      -2.5, 9007199254740993.0,
                FLT_MAX, FLT_MIN,  1e-45,  4.35e-320};
        ka_test_writer_t dfx, ffx;

        ka_test_writer_init(&dfx, "\"double\"");
        ka_test_writer_init(&ffx, "\"float\"");
        for (size_t i = 0; i < KA_ARRAY_SIZE(values); i++) {
                check_shortest(&dfx.value, values[i], false);
                if (isfinite((float)values[i]))
                        check_shortest(&ffx.value, values[i], true);
        }
        for (int i = 0; i < 5000; i++) {
                check_shortest(&dfx.value, rnd_finite(), false);
                check_shortest(&ffx.value, rnd_float(), true);
        }
        ka_test_writer_release(&dfx);
        ka_test_writer_release(&ffx);
}

/* Texts known from the shortest round trip and JSON's grammar, where
 * avro-c writes "%.17g". A float prints as its double, exactly. */
static void test_number_text(void **state)
{
        static const struct {
                double value;
                const char *text;
        } doubles[] = {
                {0.1, "0.1"},
                {0.1 + 0.2, "0.30000000000000004"},
                {1.0 / 3, "0.3333333333333333"},
                {(double)0.1f, "0.10000000149011612"},
                {1e300, "1e300"},
                {5e-324, "5e-324"},
                {-0.0, "-0.0"},
                {2.0, "2.0"},
                {1e22, "1e22"},
                {1e16, "1e16"},
                {1.5e-7, "1.5e-7"},
                {1795322410.5, "1795322410.5"},
                {123456789012345.0, "123456789012345.0"},
                {DBL_MAX, "1.7976931348623157e308"},
        };
        static const struct {
                float value;
                const char *text;
        } floats[] = {
                {0.1f, "0.10000000149011612"},
                {0.5f, "0.5"},
                {16777216.0f, "16777216.0"},
                {FLT_MAX, "3.4028234663852886e38"},
                {1e-45f, "1.401298464324817e-45"},
                {-0.0f, "-0.0"},
                {1.0f / 3, "0.3333333432674408"},
        };
        ka_test_writer_t fx;

        ka_test_writer_init(&fx, "\"double\"");
        for (size_t i = 0; i < KA_ARRAY_SIZE(doubles); i++) {
                char *got;

                avro_value_set_double(&fx.value, doubles[i].value);
                got = ka_avro_json(&fx.value);
                assert_string_equal(got, doubles[i].text);
                free(got);
        }
        ka_test_writer_release(&fx);
        ka_test_writer_init(&fx, "\"float\"");
        for (size_t i = 0; i < KA_ARRAY_SIZE(floats); i++) {
                char *got;

                avro_value_set_float(&fx.value, floats[i].value);
                got = ka_avro_json(&fx.value);
                assert_string_equal(got, floats[i].text);
                free(got);
        }
        ka_test_writer_release(&fx);
}

/* The comparison with avro-c's text tells numbers apart. */
static void test_same_json_differs(void **state)
{
        assert_true(same_json("{\"a\": 0.1}", "{\"a\": 0.10000000000000001}"));
        assert_false(same_json("[0.1]", "[0.10000000149011612]"));
        assert_false(same_json("{\"a\": 0.1}", "{\"a\": 0.10000000000000002}"));
        assert_false(same_json("{\"a\": 2}", "{\"a\": 2.0}"));
        assert_false(same_json("{\"a\": 1, \"b\": 2}", "{\"a\": 1, \"b\": 3}"));
        assert_false(same_json("{\"a\": 10}", "{\"a\": 1}"));
        assert_false(same_json("\"x1\"", "\"x2\""));
        assert_false(same_json("[9007199254740993]", "[9007199254740992]"));
}

/* ---- text avro-c cannot print ------------------------------------------ */

/* Ill-formed UTF-8 loses only its maximal subparts, each one U+FFFD (what
 * Python's and Java's decoders do); NUL is kept. */
static void test_bad_utf8(void **state)
{
        static const struct {
                const char *in;
                size_t len;
                const char *text;
        } cases[] = {
                {"a\xff"
                 "b",
                 3, "\"a\\uFFFDb\""},
                {"\xe2\x82", 2, "\"\\uFFFD\""},
                {"\xed\xa0\x80", 3, "\"\\uFFFD\\uFFFD\\uFFFD\""},
                {"\xf0\x9f\x98x", 4, "\"\\uFFFDx\""},
                {"\xc0\xaf", 2, "\"\\uFFFD\\uFFFD\""},
                {"\xf4\x90\x80\x80", 4, "\"\\uFFFD\\uFFFD\\uFFFD\\uFFFD\""},
                {"\xe0\x80\x80", 3, "\"\\uFFFD\\uFFFD\\uFFFD\""},
                {"\xf0\x9f\x98\x80", 4, "\"\\uD83D\\uDE00\""},
                {"a\0b", 3, "\"a\\u0000b\""},
        };
        ka_test_writer_t fx, mfx;
        avro_value_t item;

        ka_test_writer_init(&fx, "\"string\"");
        for (size_t i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                char buf[16];
                char *got;

                /* avro-c's string size counts a terminating NUL. */
                memcpy(buf, cases[i].in, cases[i].len);
                buf[cases[i].len] = '\0';
                assert_int_equal(avro_value_set_string_len(&fx.value, buf,
                                                           cases[i].len + 1),
                                 0);
                got = ka_avro_json(&fx.value);
                assert_non_null(got);
                assert_string_equal(got, cases[i].text);
                free(got);
        }
        ka_test_writer_release(&fx);

        ka_test_writer_init(&mfx, "{\"type\": \"map\", \"values\": \"int\"}");
        add(&mfx.value, "k\xff", &item);
        avro_value_set_int(&item, 1);
        {
                char *got = ka_avro_json(&mfx.value);

                assert_string_equal(got, "{\"k\\uFFFD\": 1}");
                free(got);
        }
        ka_test_writer_release(&mfx);
}

/* A union with no branch selected or an enum symbol out of range cannot
 * print: NULL with a reason. */
static void test_error(void **state)
{
        ka_test_writer_t fx;

        ka_test_writer_init(&fx, "{\"type\": \"record\", \"name\": \"r\", "
                                 "\"fields\": [{\"name\": \"u\", \"type\": "
                                 "[\"null\", \"double\"]}]}");
        avro_set_error("%s", "");
        assert_null(ka_avro_json(&fx.value));
        assert_true(strlen(avro_strerror()) > 0);
        ka_test_writer_release(&fx);

        /* avro-c lets any int be set in an enum. */
        ka_test_writer_init(&fx, "{\"type\": \"enum\", \"name\": \"e\", "
                                 "\"symbols\": [\"A\", \"B\"]}");
        assert_int_equal(avro_value_set_enum(&fx.value, 2), 0);
        assert_null(ka_avro_json(&fx.value));
        assert_non_null(strstr(avro_strerror(), "out of range"));
        assert_int_equal(avro_value_set_enum(&fx.value, 1), 0);
        {
                char *got = ka_avro_json(&fx.value);

                assert_string_equal(got, "\"B\"");
                free(got);
        }
        ka_test_writer_release(&fx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_same_as_avro_c),
                cmocka_unit_test(test_top_level_scalars),
                cmocka_unit_test(test_bytes_escapes),
                cmocka_unit_test(test_non_finite_everywhere),
                cmocka_unit_test(test_nan_record_parses),
                cmocka_unit_test(test_numbers_shortest),
                cmocka_unit_test(test_number_text),
                cmocka_unit_test(test_same_json_differs),
                cmocka_unit_test(test_bad_utf8),
                cmocka_unit_test(test_error),
        };

        ka_test_seed(0x2545f4914f6cdd1dULL);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
