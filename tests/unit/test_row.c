/*
 * Rows and numeric Avro arrays read into them: every items type as avro-c
 * writes it, blocks as other writers write them (several, with byte
 * sizes), every truncation, counts that the payload cannot hold, the
 * length bound, and buffers that grow once and are then reused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "ka_test.h"
#include "row.h"

static void put_item(ka_avro_writer_t *w, int items, double v)
{
        switch (items) {
        case KA_AVRO_INT:
                ka_avro_write_int(w, (int32_t)v);
                break;
        case KA_AVRO_LONG:
                ka_avro_write_long(w, (int64_t)v);
                break;
        case KA_AVRO_FLOAT:
                ka_avro_write_float(w, (float)v);
                break;
        default:
                ka_avro_write_double(w, v);
        }
}

/* vals[0 .. n) in blocks of the given sizes (summing to n), then the end
 * block; with sized, each block carries its byte size. Returns the length. */
static size_t encode(uint8_t *out, size_t cap, int items, const double *vals,
                     const size_t *sizes, size_t nsizes, bool sized)
{
        ka_avro_writer_t w;
        size_t k = 0;

        ka_avro_writer_init(&w, out, cap);
        for (size_t b = 0; b < nsizes; b++) {
                uint8_t tmp[1 << 14];
                ka_avro_writer_t iw;
                size_t len;

                ka_avro_writer_init(&iw, tmp, sizeof(tmp));
                for (size_t i = 0; i < sizes[b]; i++)
                        put_item(&iw, items, vals[k + i]);
                len = ka_avro_writer_len(&iw);
                assert_true(len > 0 || sizes[b] == 0);
                if (sized) {
                        ka_avro_write_long(&w, -(int64_t)sizes[b]);
                        ka_avro_write_long(&w, (int64_t)len);
                } else {
                        ka_avro_write_long(&w, (int64_t)sizes[b]);
                }
                ka_avro_write_raw(&w, tmp, len);
                k += sizes[b];
        }
        ka_avro_write_long(&w, 0);
        assert_false(w.overflow);
        return ka_avro_writer_len(&w);
}

static ka_err_t read_from(const uint8_t *buf, size_t len, int items,
                          ka_row_array_t *arr, size_t *consumed)
{
        uint8_t *copy = malloc(len ? len : 1);
        ka_avro_reader_t r;
        ka_err_t err;

        /* An exactly sized heap copy: ASan sees any overread. */
        memcpy(copy, buf, len);
        ka_avro_reader_init(&r, copy, len);
        err = ka_row_read_array(&r, items, arr);
        if (consumed)
                *consumed = (size_t)(r.p - copy);
        free(copy);
        return err;
}

/* Values exact in every items type. */
static double value_of(int items, size_t i)
{
        double v = (double)((int64_t)(ka_test_rnd() % 2000001) - 1000000);

        if (items == KA_AVRO_FLOAT || items == KA_AVRO_DOUBLE)
                v /= 8; /* binary fractions */
        return i % 7 == 3 ? -v : v;
}

static void every_items_type_in_blocks(void **state)
{
        static const int types[] = {KA_AVRO_INT, KA_AVRO_LONG, KA_AVRO_FLOAT,
                                    KA_AVRO_DOUBLE};
        static const size_t splits[][4] = {
                {0}, {1}, {5}, {3, 2}, {1, 1, 1, 2}, {200, 0, 0, 0},
        };
        static const size_t nsplits[] = {0, 1, 1, 2, 4, 1};
        ka_row_array_t arr = {0};
        uint8_t buf[1 << 14];
        double vals[256];

        for (size_t t = 0; t < KA_ARRAY_SIZE(types); t++) {
                for (size_t s = 0; s < KA_ARRAY_SIZE(splits); s++) {
                        for (int sized = 0; sized < 2; sized++) {
                                size_t n = 0, len, used;

                                for (size_t b = 0; b < nsplits[s]; b++)
                                        n += splits[s][b];
                                for (size_t i = 0; i < n; i++)
                                        vals[i] = value_of(types[t], i);
                                len = encode(buf, sizeof(buf), types[t], vals,
                                             splits[s], nsplits[s], sized);
                                assert_int_equal(read_from(buf, len, types[t],
                                                           &arr, &used),
                                                 KA_OK);
                                assert_int_equal(used, len);
                                assert_int_equal(arr.len, n);
                                for (size_t i = 0; i < n; i++)
                                        assert_true(arr.vals[i] == vals[i]);
                        }
                }
        }
        free(arr.vals);
}

/* avro-c's encoding of an array of each type reads back element for
 * element, bit for bit (NaN and -0.0 included for the floating types). */
static void avro_c_arrays(void **state)
{
        static const char *const schemas[] = {
                "{\"type\":\"array\",\"items\":\"int\"}",
                "{\"type\":\"array\",\"items\":\"long\"}",
                "{\"type\":\"array\",\"items\":\"float\"}",
                "{\"type\":\"array\",\"items\":\"double\"}",
        };
        static const int types[] = {KA_AVRO_INT, KA_AVRO_LONG, KA_AVRO_FLOAT,
                                    KA_AVRO_DOUBLE};
        ka_row_array_t arr = {0};

        ka_test_seed(42);
        for (size_t t = 0; t < KA_ARRAY_SIZE(types); t++) {
                for (int rep = 0; rep < 50; rep++) {
                        ka_test_writer_t w;
                        avro_value_t item;
                        avro_writer_t aw;
                        uint8_t buf[1 << 15];
                        size_t n = rep == 0 ? 0 : ka_test_rnd_below(300), len;

                        ka_test_writer_init(&w, schemas[t]);
                        for (size_t i = 0; i < n; i++) {
                                uint64_t u = ka_test_rnd();
                                double d;
                                float f;

                                assert_int_equal(avro_value_append(&w.value,
                                                                   &item, NULL),
                                                 0);
                                switch (types[t]) {
                                case KA_AVRO_INT:
                                        avro_value_set_int(&item, (int32_t)u);
                                        break;
                                case KA_AVRO_LONG:
                                        avro_value_set_long(&item,
                                                            ka_test_rnd_long());
                                        break;
                                case KA_AVRO_FLOAT:
                                        memcpy(&f, &u, sizeof(f));
                                        avro_value_set_float(&item, f);
                                        break;
                                default:
                                        memcpy(&d, &u, sizeof(d));
                                        avro_value_set_double(&item, d);
                                }
                        }
                        aw = avro_writer_memory((const char *)buf, sizeof(buf));
                        assert_int_equal(avro_value_write(aw, &w.value), 0);
                        len = (size_t)avro_writer_tell(aw);
                        avro_writer_free(aw);
                        assert_int_equal(
                                read_from(buf, len, types[t], &arr, NULL),
                                KA_OK);
                        assert_int_equal(arr.len, n);
                        for (size_t i = 0; i < n; i++) {
                                int32_t i32;
                                int64_t i64;
                                float f;
                                double d, want = 0;

                                avro_value_get_by_index(&w.value, i, &item,
                                                        NULL);
                                switch (types[t]) {
                                case KA_AVRO_INT:
                                        avro_value_get_int(&item, &i32);
                                        want = i32;
                                        break;
                                case KA_AVRO_LONG:
                                        avro_value_get_long(&item, &i64);
                                        want = (double)i64;
                                        break;
                                case KA_AVRO_FLOAT:
                                        avro_value_get_float(&item, &f);
                                        want = f;
                                        break;
                                default:
                                        avro_value_get_double(&item, &d);
                                        want = d;
                                }
                                if (isnan(want))
                                        assert_true(isnan(arr.vals[i]));
                                else
                                        assert_memory_equal(&arr.vals[i], &want,
                                                            sizeof(want));
                        }
                        ka_test_writer_release(&w);
                }
        }
        free(arr.vals);
}

/* Every proper prefix is truncated; a wrong byte size or a bad items type
 * is invalid. */
static void damaged_arrays(void **state)
{
        static const size_t sizes[] = {3, 4};
        double vals[7] = {1, -2, 3.5, 400, -5e9, 6, 7};
        ka_row_array_t arr = {0};
        uint8_t buf[256];
        size_t len;

        for (int items = KA_AVRO_INT; items <= KA_AVRO_DOUBLE; items++) {
                for (int sized = 0; sized < 2; sized++) {
                        len = encode(buf, sizeof(buf), items, vals, sizes, 2,
                                     sized);
                        for (size_t k = 0; k < len; k++)
                                assert_int_equal(
                                        read_from(buf, k, items, &arr, NULL),
                                        KA_ERR_TRUNCATED);
                }
        }
        /* A block whose byte size does not match its items. */
        len = encode(buf, sizeof(buf), KA_AVRO_LONG, vals, sizes, 2, true);
        /* -3 items, then their size 3 (zigzag 6): say 4 (zigzag 8). */
        assert_int_equal(buf[1], 6);
        buf[1] = 8;
        assert_int_equal(read_from(buf, len, KA_AVRO_LONG, &arr, NULL),
                         KA_ERR_INVALID);
        len = encode(buf, sizeof(buf), KA_AVRO_INT, vals, sizes, 2, false);
        assert_int_equal(read_from(buf, len, KA_AVRO_STRING, &arr, NULL),
                         KA_ERR_INVALID);
        assert_int_equal(read_from(buf, len, KA_AVRO_BOOLEAN, &arr, NULL),
                         KA_ERR_INVALID);
        free(arr.vals);
}

/* A count the bytes left cannot hold is truncated before any allocation;
 * more elements than KA_ROW_MAX_ARRAY is invalid. */
static void counts_are_bounded(void **state)
{
        ka_row_array_t arr = {0};
        uint8_t buf[16], *big;
        ka_avro_writer_t w;
        size_t len, n = KA_ROW_MAX_ARRAY + 1;

        /* 2^40 doubles announced, 8 bytes there. */
        ka_avro_writer_init(&w, buf, sizeof(buf));
        ka_avro_write_long(&w, INT64_C(1) << 40);
        ka_avro_write_double(&w, 1.0);
        len = ka_avro_writer_len(&w);
        assert_int_equal(read_from(buf, len, KA_AVRO_DOUBLE, &arr, NULL),
                         KA_ERR_TRUNCATED);
        assert_int_equal(arr.cap, 0);
        assert_null(arr.vals);
        /* A negative count of INT64_MIN has no positive counterpart. */
        ka_avro_writer_init(&w, buf, sizeof(buf));
        ka_avro_write_long(&w, INT64_MIN);
        len = ka_avro_writer_len(&w);
        assert_int_not_equal(read_from(buf, len, KA_AVRO_INT, &arr, NULL),
                             KA_OK);

        /* KA_ROW_MAX_ARRAY + 1 ints of one byte each, in two blocks: the
         * second block goes past the bound. */
        big = calloc(n + 32, 1);
        assert_non_null(big);
        ka_avro_writer_init(&w, big, n + 32);
        ka_avro_write_long(&w, KA_ROW_MAX_ARRAY);
        for (size_t i = 0; i < KA_ROW_MAX_ARRAY; i++)
                ka_avro_write_int(&w, 1);
        ka_avro_write_long(&w, 1);
        ka_avro_write_int(&w, 1);
        ka_avro_write_long(&w, 0);
        len = ka_avro_writer_len(&w);
        assert_int_equal(read_from(big, len, KA_AVRO_INT, &arr, NULL),
                         KA_ERR_INVALID);
        assert_true(arr.cap <= KA_ROW_MAX_ARRAY);
        /* Exactly KA_ROW_MAX_ARRAY is fine. */
        ka_avro_writer_init(&w, big, n + 32);
        ka_avro_write_long(&w, KA_ROW_MAX_ARRAY);
        for (size_t i = 0; i < KA_ROW_MAX_ARRAY; i++)
                ka_avro_write_int(&w, (int32_t)(i % 50));
        ka_avro_write_long(&w, 0);
        len = ka_avro_writer_len(&w);
        assert_int_equal(read_from(big, len, KA_AVRO_INT, &arr, NULL), KA_OK);
        assert_int_equal(arr.len, KA_ROW_MAX_ARRAY);
        assert_true(arr.vals[KA_ROW_MAX_ARRAY - 1] ==
                    (KA_ROW_MAX_ARRAY - 1) % 50);
        assert_int_equal(ka_row_array_reserve(&arr, KA_ROW_MAX_ARRAY + 1),
                         KA_ERR_INVALID);
        free(big);
        free(arr.vals);
}

/* Buffers grow geometrically to the longest array and are reused: reading
 * shorter or equal arrays again allocates nothing. */
static void buffers_are_reused(void **state)
{
        ka_row_t row;
        uint8_t buf[1 << 14];
        double vals[1000];
        size_t sizes[1], len;
        double *kept;
        size_t cap;

        for (size_t i = 0; i < 1000; i++)
                vals[i] = (double)i;
        assert_true(ka_row_init(&row, 3, 2));
        assert_int_equal(row.nvals, 3);
        assert_int_equal(row.narrays, 2);
        for (size_t i = 0; i < 3; i++)
                assert_true(isnan(row.vals[i]));
        sizes[0] = 1000;
        len = encode(buf, sizeof(buf), KA_AVRO_DOUBLE, vals, sizes, 1, false);
        assert_int_equal(
                read_from(buf, len, KA_AVRO_DOUBLE, &row.arrays[1], NULL),
                KA_OK);
        assert_true(row.arrays[1].cap >= 1000 && row.arrays[1].cap < 2048);
        kept = row.arrays[1].vals;
        cap = row.arrays[1].cap;
        for (size_t n = 0; n <= 1000; n += 100) {
                sizes[0] = n;
                len = encode(buf, sizeof(buf), KA_AVRO_DOUBLE, vals, sizes, 1,
                             false);
                assert_int_equal(read_from(buf, len, KA_AVRO_DOUBLE,
                                           &row.arrays[1], NULL),
                                 KA_OK);
                assert_ptr_equal(row.arrays[1].vals, kept);
                assert_int_equal(row.arrays[1].cap, cap);
                assert_int_equal(row.arrays[1].len, n);
        }
        row.vals[1] = 5;
        ka_row_clear(&row);
        assert_true(isnan(row.vals[1]));
        assert_int_equal(row.arrays[1].len, 0);
        assert_ptr_equal(row.arrays[1].vals, kept);
        ka_row_release(&row);
        assert_null(row.vals);
        assert_null(row.arrays);
        /* A row with nothing in it is still a row. */
        assert_true(ka_row_init(&row, 0, 0));
        ka_row_clear(&row);
        ka_row_release(&row);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_items_type_in_blocks),
                cmocka_unit_test(avro_c_arrays),
                cmocka_unit_test(damaged_arrays),
                cmocka_unit_test(counts_are_bounded),
                cmocka_unit_test(buffers_are_reused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
