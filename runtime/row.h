/*
 * A row: the values of one message, as a decoder (generated, schema
 * resolution or JSON) hands them to the agent's windows (SPEC §5). One
 * double per scalar field of the agent, and one array per array field
 * (an Avro array of int, long, float or double, aggregated element-wise).
 * Array buffers grow geometrically to the longest array seen and are kept:
 * decoding a message allocates nothing once they are large enough.
 */
#ifndef KA_ROW_H
#define KA_ROW_H

#include "avro_wire.h"
#include "ka.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The longest array a message may hold in an aggregated field: a longer one
 * is a corrupt message (decode error `corrupt`), not an allocation. Rubin's
 * longest telemetry array has 3024 elements; 65536 doubles are 512 KiB a
 * message, and a window holds one per message.
 */
#define KA_ROW_MAX_ARRAY 65536

/* The value of one array field in one message: vals[0 .. len). */
typedef struct ka_row_array_s {
        double *vals;
        size_t len; /* 0 for an empty, null or missing array */
        size_t cap; /* doubles vals can hold */
} ka_row_array_t;

/*
 * vals[0 .. nvals): the scalar fields, NaN where a value is missing (Avro
 * null, a field the writer lacks, a NaN payload). arrays[0 .. narrays): the
 * array fields; an element may be NaN too. Statistics skip NaN.
 */
typedef struct ka_row_s {
        double *vals;
        size_t nvals;
        ka_row_array_t *arrays;
        size_t narrays;
} ka_row_t;

/* An empty row of nvals scalars and narrays arrays. false when out of
 * memory (row is then released). */
bool ka_row_init(ka_row_t *row, size_t nvals, size_t narrays);

/* Frees the row's buffers; the struct may be initialised again. */
void ka_row_release(ka_row_t *row);

/* Every scalar NaN, every array empty (buffers kept). Inline: once a
 * message, before the decoder. */
static inline void ka_row_clear(ka_row_t *row)
{
        /* Locals, so that the stores cannot be taken to change row and the
         * loop stays a run of stores. */
        double *vals = row->vals;
        size_t n = row->nvals;

        for (size_t i = 0; i < n; i++)
                vals[i] = NAN;
        for (size_t a = 0; a < row->narrays; a++)
                row->arrays[a].len = 0;
}

/*
 * Room for n elements in arr (its elements kept): grows geometrically.
 * KA_ERR_INVALID when n > KA_ROW_MAX_ARRAY, KA_ERR_NOMEM.
 */
ka_err_t ka_row_array_reserve(ka_row_array_t *arr, size_t n);

/*
 * Reads one Avro array whose items are the primitive `items` (KA_AVRO_INT,
 * KA_AVRO_LONG, KA_AVRO_FLOAT or KA_AVRO_DOUBLE) into arr, every element
 * converted to double (long exactly where it fits 53 bits, else rounded
 * to nearest). Blocks with a byte size must hold exactly that many bytes.
 * Returns KA_OK, KA_ERR_TRUNCATED, KA_ERR_OVERFLOW, KA_ERR_INVALID (a
 * negative or inconsistent count, more than KA_ROW_MAX_ARRAY elements, an
 * items type that is not numeric) or KA_ERR_NOMEM. A count larger than the
 * bytes left can hold is TRUNCATED before anything is allocated. On error
 * arr->len is unspecified (at most its cap).
 */
ka_err_t ka_row_read_array(ka_avro_reader_t *r, int items, ka_row_array_t *arr);

/* ka_row_read_array() by items type, as generated decoders call it. */
static inline ka_err_t ka_row_read_ints(ka_avro_reader_t *r,
                                        ka_row_array_t *arr)
{
        return ka_row_read_array(r, KA_AVRO_INT, arr);
}

static inline ka_err_t ka_row_read_longs(ka_avro_reader_t *r,
                                         ka_row_array_t *arr)
{
        return ka_row_read_array(r, KA_AVRO_LONG, arr);
}

static inline ka_err_t ka_row_read_floats(ka_avro_reader_t *r,
                                          ka_row_array_t *arr)
{
        return ka_row_read_array(r, KA_AVRO_FLOAT, arr);
}

static inline ka_err_t ka_row_read_doubles(ka_avro_reader_t *r,
                                           ka_row_array_t *arr)
{
        return ka_row_read_array(r, KA_AVRO_DOUBLE, arr);
}

#endif
