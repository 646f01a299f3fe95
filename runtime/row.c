/*
 * Rows and the reading of numeric Avro arrays into them: one block header
 * at a time, each block's items checked against the bytes left before the
 * buffer grows, doubles copied as they lie on little-endian hosts.
 */
#include "row.h"

#include <stdlib.h>
#include <string.h>

bool ka_row_init(ka_row_t *row, size_t nvals, size_t narrays)
{
        memset(row, 0, sizeof(*row));
        /* One more than needed: a row of nothing is still a pointer. */
        row->vals = malloc((nvals + 1) * sizeof(*row->vals));
        row->arrays = calloc(narrays + 1, sizeof(*row->arrays));
        if (!row->vals || !row->arrays) {
                ka_row_release(row);
                return false;
        }
        row->nvals = nvals;
        row->narrays = narrays;
        ka_row_clear(row);
        return true;
}

void ka_row_release(ka_row_t *row)
{
        for (size_t a = 0; row->arrays && a < row->narrays; a++)
                free(row->arrays[a].vals);
        free(row->arrays);
        free(row->vals);
        memset(row, 0, sizeof(*row));
}

ka_err_t ka_row_array_reserve(ka_row_array_t *arr, size_t n)
{
        size_t cap = arr->cap ? arr->cap : 16;
        double *vals;

        if (n <= arr->cap)
                return KA_OK;
        if (n > KA_ROW_MAX_ARRAY)
                return KA_ERR_INVALID;
        while (cap < n)
                cap *= 2;
        if (cap > KA_ROW_MAX_ARRAY)
                cap = KA_ROW_MAX_ARRAY;
        vals = realloc(arr->vals, cap * sizeof(*vals));
        if (!vals)
                return KA_ERR_NOMEM;
        arr->vals = vals;
        arr->cap = cap;
        return KA_OK;
}

/* The fewest bytes one item of a numeric type takes. */
static size_t min_item_size(int items)
{
        switch (items) {
        case KA_AVRO_FLOAT:
                return 4;
        case KA_AVRO_DOUBLE:
                return 8;
        default:
                return 1; /* a varint */
        }
}

/* n items into out[0 .. n), which has room; the bytes are there for the
 * fixed-width types (checked by the caller). */
static ka_err_t read_items(ka_avro_reader_t *r, int items, double *out,
                           size_t n)
{
        ka_err_t err;
        int32_t i32;
        int64_t i64;
        float f;

        switch (items) {
        case KA_AVRO_DOUBLE:
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                memcpy(out, r->p, n * 8);
                r->p += n * 8;
                return KA_OK;
#else
                for (size_t i = 0; i < n; i++)
                        if ((err = ka_avro_read_double(r, &out[i])))
                                return err;
                return KA_OK;
#endif
        case KA_AVRO_FLOAT:
                for (size_t i = 0; i < n; i++) {
                        if ((err = ka_avro_read_float(r, &f)))
                                return err;
                        out[i] = f;
                }
                return KA_OK;
        case KA_AVRO_INT:
                for (size_t i = 0; i < n; i++) {
                        if ((err = ka_avro_read_int(r, &i32)))
                                return err;
                        out[i] = i32;
                }
                return KA_OK;
        case KA_AVRO_LONG:
                for (size_t i = 0; i < n; i++) {
                        if ((err = ka_avro_read_long(r, &i64)))
                                return err;
                        out[i] = (double)i64;
                }
                return KA_OK;
        default:
                return KA_ERR_INVALID;
        }
}

ka_err_t ka_row_read_array(ka_avro_reader_t *r, int items, ka_row_array_t *arr)
{
        size_t len = 0, width = min_item_size(items);
        int64_t count, byte_size;
        ka_err_t err;

        if (items < KA_AVRO_INT || items > KA_AVRO_DOUBLE)
                return KA_ERR_INVALID;
        arr->len = 0;
        for (;;) {
                const uint8_t *start;
                size_t n;

                if ((err = ka_avro_read_block(r, &count, &byte_size)))
                        return err;
                if (count == 0)
                        break;
                /* Every item takes at least width bytes: a count the
                 * payload cannot hold is truncated, whatever it says. */
                if ((uint64_t)count > ka_avro_reader_left(r) / width)
                        return KA_ERR_TRUNCATED;
                n = (size_t)count;
                if (n > KA_ROW_MAX_ARRAY - len)
                        return KA_ERR_INVALID;
                if ((err = ka_row_array_reserve(arr, len + n)))
                        return err;
                start = r->p;
                if ((err = read_items(r, items, arr->vals + len, n)))
                        return err;
                if (byte_size >= 0 &&
                    (size_t)(r->p - start) != (size_t)byte_size)
                        return KA_ERR_INVALID;
                len += n;
                arr->len = len;
        }
        arr->len = len;
        return KA_OK;
}
