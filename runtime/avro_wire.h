/*
 * Avro binary wire primitives (SPEC §8, §9): the Confluent framing, bounds-
 * checked readers and skippers for the primitive types, and the writers
 * the aggregated record needs. Everything is static inline because
 * generated decoders call it once per field on the hot path; values of
 * complex types are skipped by skip programs (avro_skip.h).
 */
#ifndef KA_AVRO_WIRE_H
#define KA_AVRO_WIRE_H

#include "ka.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Confluent wire format: magic byte 0, then the schema id (big-endian). */
#define KA_AVRO_MAGIC       0
#define KA_AVRO_HEADER_SIZE 5

/*
 * Reads the 5-byte Confluent header of buf into *schema_id. Returns
 * KA_ERR_TRUNCATED when len < 5, KA_ERR_INVALID when byte 0 is not 0 or the
 * id is negative (the registry never assigns one).
 */
static inline ka_err_t ka_avro_read_header(const uint8_t *buf, size_t len,
                                           int32_t *schema_id)
{
        uint32_t id;

        if (len < KA_AVRO_HEADER_SIZE)
                return KA_ERR_TRUNCATED;
        if (buf[0] != KA_AVRO_MAGIC)
                return KA_ERR_INVALID;
        id = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
             (uint32_t)buf[3] << 8 | (uint32_t)buf[4];
        if (id > INT32_MAX)
                return KA_ERR_INVALID;
        *schema_id = (int32_t)id;
        return KA_OK;
}

/* Writes the 5-byte Confluent header for schema id into buf[0..5). */
static inline void ka_avro_write_header(uint8_t *buf, int32_t id)
{
        uint32_t u = (uint32_t)id;

        buf[0] = KA_AVRO_MAGIC;
        buf[1] = (uint8_t)(u >> 24);
        buf[2] = (uint8_t)(u >> 16);
        buf[3] = (uint8_t)(u >> 8);
        buf[4] = (uint8_t)u;
}

/*
 * A cursor over an Avro binary buffer owned by the caller. Invariant:
 * p <= end. Every reader either consumes one whole value and returns KA_OK,
 * or returns an error and leaves p unspecified but still within [p, end]:
 * after an error the value is lost and so is the rest of the buffer.
 *
 * Errors: KA_ERR_TRUNCATED (the buffer ends inside the value),
 * KA_ERR_OVERFLOW (a varint longer than its type allows or out of its
 * range), KA_ERR_INVALID (negative length or count, a boolean byte other
 * than 0 or 1, a union or enum index out of range).
 */
typedef struct ka_avro_reader_s {
        const uint8_t *p, *end;
} ka_avro_reader_t;

static inline void ka_avro_reader_init(ka_avro_reader_t *r, const uint8_t *buf,
                                       size_t len)
{
        r->p = buf;
        r->end = buf + len;
}

/* Bytes not yet consumed. */
static inline size_t ka_avro_reader_left(const ka_avro_reader_t *r)
{
        return (size_t)(r->end - r->p);
}

/* A raw varint of at most 10 bytes, the 10th carrying bit 63 only. */
static inline ka_err_t ka_avro_read_varint64(ka_avro_reader_t *r, uint64_t *u)
{
        const uint8_t *p = r->p;
        uint64_t v = 0;
        unsigned shift;

        for (shift = 0; shift < 63; shift += 7) {
                uint8_t b;

                if (p == r->end)
                        return KA_ERR_TRUNCATED;
                b = *p++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        r->p = p;
                        *u = v;
                        return KA_OK;
                }
        }
        if (p == r->end)
                return KA_ERR_TRUNCATED;
        if (*p > 1)
                return KA_ERR_OVERFLOW;
        v |= (uint64_t)*p++ << 63;
        r->p = p;
        *u = v;
        return KA_OK;
}

/* A raw varint of at most 5 bytes, the 5th carrying bits 28..31 only. */
static inline ka_err_t ka_avro_read_varint32(ka_avro_reader_t *r, uint32_t *u)
{
        const uint8_t *p = r->p;
        uint32_t v = 0;
        unsigned shift;

        for (shift = 0; shift < 28; shift += 7) {
                uint8_t b;

                if (p == r->end)
                        return KA_ERR_TRUNCATED;
                b = *p++;
                v |= (uint32_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        r->p = p;
                        *u = v;
                        return KA_OK;
                }
        }
        if (p == r->end)
                return KA_ERR_TRUNCATED;
        if (*p > 0x0f)
                return KA_ERR_OVERFLOW;
        v |= (uint32_t)*p++ << 28;
        r->p = p;
        *u = v;
        return KA_OK;
}

/* Avro null: no bytes. */
static inline ka_err_t ka_avro_read_null(ka_avro_reader_t *r)
{
        (void)r;
        return KA_OK;
}

/* One byte, 0 or 1. */
static inline ka_err_t ka_avro_read_boolean(ka_avro_reader_t *r, bool *v)
{
        if (r->p == r->end)
                return KA_ERR_TRUNCATED;
        if (*r->p > 1)
                return KA_ERR_INVALID;
        *v = *r->p++ != 0;
        return KA_OK;
}

/* Zigzag varint of at most 5 bytes that fits 32 bits. */
static inline ka_err_t ka_avro_read_int(ka_avro_reader_t *r, int32_t *v)
{
        uint32_t u;
        ka_err_t err = ka_avro_read_varint32(r, &u);

        if (err)
                return err;
        *v = (int32_t)(u >> 1) ^ -(int32_t)(u & 1);
        return KA_OK;
}

/* Zigzag varint of at most 10 bytes. */
static inline ka_err_t ka_avro_read_long(ka_avro_reader_t *r, int64_t *v)
{
        uint64_t u;
        ka_err_t err = ka_avro_read_varint64(r, &u);

        if (err)
                return err;
        *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
        return KA_OK;
}

/* 4 bytes, little-endian IEEE 754 binary32. */
static inline ka_err_t ka_avro_read_float(ka_avro_reader_t *r, float *v)
{
        if (r->end - r->p < 4)
                return KA_ERR_TRUNCATED;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(v, r->p, 4);
#else
        {
                uint32_t u = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 |
                             (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
                memcpy(v, &u, 4);
        }
#endif
        r->p += 4;
        return KA_OK;
}

/* 8 bytes, little-endian IEEE 754 binary64. */
static inline ka_err_t ka_avro_read_double(ka_avro_reader_t *r, double *v)
{
        if (r->end - r->p < 8)
                return KA_ERR_TRUNCATED;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(v, r->p, 8);
#else
        {
                uint64_t u = 0;
                int i;

                for (i = 7; i >= 0; i--)
                        u = u << 8 | r->p[i];
                memcpy(v, &u, 8);
        }
#endif
        r->p += 8;
        return KA_OK;
}

/*
 * Bytes: a long length, then that many bytes. *data points into the
 * reader's buffer (not NUL-terminated) and lives as long as it does.
 */
static inline ka_err_t ka_avro_read_bytes(ka_avro_reader_t *r,
                                          const uint8_t **data, size_t *len)
{
        int64_t n;
        ka_err_t err = ka_avro_read_long(r, &n);

        if (err)
                return err;
        if (n < 0)
                return KA_ERR_INVALID;
        if ((uint64_t)n > (uint64_t)(r->end - r->p))
                return KA_ERR_TRUNCATED;
        *data = r->p;
        *len = (size_t)n;
        r->p += n;
        return KA_OK;
}

/* String: as bytes (UTF-8 is not checked); *s is not NUL-terminated. */
static inline ka_err_t ka_avro_read_string(ka_avro_reader_t *r, const char **s,
                                           size_t *len)
{
        const uint8_t *data;
        ka_err_t err = ka_avro_read_bytes(r, &data, len);

        if (!err)
                *s = (const char *)data;
        return err;
}

/* Fixed: exactly size bytes, no length prefix. */
static inline ka_err_t ka_avro_read_fixed(ka_avro_reader_t *r, size_t size,
                                          const uint8_t **data)
{
        if (size > (size_t)(r->end - r->p))
                return KA_ERR_TRUNCATED;
        *data = r->p;
        r->p += size;
        return KA_OK;
}

/* An int in [0, nsymbols). */
static inline ka_err_t ka_avro_read_enum(ka_avro_reader_t *r, int32_t nsymbols,
                                         int32_t *index)
{
        int32_t i;
        ka_err_t err = ka_avro_read_int(r, &i);

        if (err)
                return err;
        if (i < 0 || i >= nsymbols)
                return KA_ERR_INVALID;
        *index = i;
        return KA_OK;
}

/* A long in [0, nbranches); the branch's value follows. */
static inline ka_err_t
ka_avro_read_union_index(ka_avro_reader_t *r, int32_t nbranches, int32_t *index)
{
        int64_t i;
        ka_err_t err = ka_avro_read_long(r, &i);

        if (err)
                return err;
        if (i < 0 || i >= nbranches)
                return KA_ERR_INVALID;
        *index = (int32_t)i;
        return KA_OK;
}

/*
 * One block header of an array or map. *count is the number of items that
 * follow (0 ends the array or map). A negative count on the wire means
 * -count items preceded by their total size in bytes: then *byte_size is
 * that size, >= 0 and within what is left, so a skipper can jump over the
 * block; otherwise *byte_size is -1.
 *
 * The count is not bounded by the buffer: a loop over items that occupy at
 * least one byte ends with KA_ERR_TRUNCATED, but one over items that occupy
 * none (null, records of nulls, fixed of size 0) must not iterate.
 */
static inline ka_err_t ka_avro_read_block(ka_avro_reader_t *r, int64_t *count,
                                          int64_t *byte_size)
{
        int64_t n, size;
        ka_err_t err = ka_avro_read_long(r, &n);

        if (err)
                return err;
        if (n >= 0) {
                *count = n;
                *byte_size = -1;
                return KA_OK;
        }
        if (n == INT64_MIN)
                return KA_ERR_OVERFLOW;
        err = ka_avro_read_long(r, &size);
        if (err)
                return err;
        if (size < 0)
                return KA_ERR_INVALID;
        if ((uint64_t)size > (uint64_t)(r->end - r->p))
                return KA_ERR_TRUNCATED;
        *count = -n;
        *byte_size = size;
        return KA_OK;
}

/*
 * Skippers: consume one value of the type, validating what they pass over
 * as the matching reader would (varint lengths, boolean bytes, lengths
 * against what is left, indexes against nsymbols).
 */
static inline ka_err_t ka_avro_skip_null(ka_avro_reader_t *r)
{
        (void)r;
        return KA_OK;
}

static inline ka_err_t ka_avro_skip_boolean(ka_avro_reader_t *r)
{
        bool v;

        return ka_avro_read_boolean(r, &v);
}

static inline ka_err_t ka_avro_skip_int(ka_avro_reader_t *r)
{
        uint32_t u;

        return ka_avro_read_varint32(r, &u);
}

static inline ka_err_t ka_avro_skip_long(ka_avro_reader_t *r)
{
        uint64_t u;

        return ka_avro_read_varint64(r, &u);
}

static inline ka_err_t ka_avro_skip_float(ka_avro_reader_t *r)
{
        if (r->end - r->p < 4)
                return KA_ERR_TRUNCATED;
        r->p += 4;
        return KA_OK;
}

static inline ka_err_t ka_avro_skip_double(ka_avro_reader_t *r)
{
        if (r->end - r->p < 8)
                return KA_ERR_TRUNCATED;
        r->p += 8;
        return KA_OK;
}

static inline ka_err_t ka_avro_skip_bytes(ka_avro_reader_t *r)
{
        const uint8_t *data;
        size_t len;

        return ka_avro_read_bytes(r, &data, &len);
}

static inline ka_err_t ka_avro_skip_string(ka_avro_reader_t *r)
{
        return ka_avro_skip_bytes(r);
}

static inline ka_err_t ka_avro_skip_fixed(ka_avro_reader_t *r, size_t size)
{
        const uint8_t *data;

        return ka_avro_read_fixed(r, size, &data);
}

static inline ka_err_t ka_avro_skip_enum(ka_avro_reader_t *r, int32_t nsymbols)
{
        int32_t i;

        return ka_avro_read_enum(r, nsymbols, &i);
}

/*
 * The primitive types, numbered from 0 in the order of the Avro
 * specification; avro_schema.h numbers the complex types after them.
 */
enum ka_avro_prim_e {
        KA_AVRO_NULL,
        KA_AVRO_BOOLEAN,
        KA_AVRO_INT,
        KA_AVRO_LONG,
        KA_AVRO_FLOAT,
        KA_AVRO_DOUBLE,
        KA_AVRO_BYTES,
        KA_AVRO_STRING,
};

/*
 * Event times (SPEC §6). A double number of Unix seconds becomes
 * floor(seconds * 1000) ms. NaN, infinities and values outside int64
 * milliseconds are KA_ERR_TIME: the message is skipped with reason "time",
 * as one whose time is out of the worker's bounds, not as corrupt.
 */
static inline ka_err_t ka_avro_seconds_to_ms(double seconds, int64_t *ms)
{
        double v;

        v = floor(seconds * 1000.0);
        /* 2^63 is exact in a double; anything in range casts safely, and
         * NaN fails the comparison. */
        if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
                return KA_ERR_TIME;
        *ms = (int64_t)v;
        return KA_OK;
}

/* timestamp-micros to milliseconds, rounding toward minus infinity. */
static inline int64_t ka_avro_micros_to_ms(int64_t micros)
{
        int64_t q = micros / 1000;

        return micros % 1000 < 0 ? q - 1 : q;
}

/*
 * A cursor writing Avro binary into a caller buffer of fixed capacity. A
 * write that does not fit sets the sticky `overflow` flag, writes nothing
 * and returns KA_ERR_OVERFLOW; later writes do nothing either. The caller
 * checks ka_avro_writer_len() once at the end, grows its buffer and
 * starts over.
 */
typedef struct ka_avro_writer_s {
        uint8_t *buf, *p, *end;
        bool overflow;
} ka_avro_writer_t;

static inline void ka_avro_writer_init(ka_avro_writer_t *w, uint8_t *buf,
                                       size_t cap)
{
        w->buf = buf;
        w->p = buf;
        w->end = buf + cap;
        w->overflow = false;
}

/* Bytes written so far, or 0 when a write overflowed. */
static inline size_t ka_avro_writer_len(const ka_avro_writer_t *w)
{
        return w->overflow ? 0 : (size_t)(w->p - w->buf);
}

static inline ka_err_t ka_avro_writer_room(ka_avro_writer_t *w, size_t n)
{
        if (w->overflow || n > (size_t)(w->end - w->p)) {
                w->overflow = true;
                return KA_ERR_OVERFLOW;
        }
        return KA_OK;
}

static inline ka_err_t ka_avro_write_null(ka_avro_writer_t *w)
{
        return w->overflow ? KA_ERR_OVERFLOW : KA_OK;
}

static inline ka_err_t ka_avro_write_boolean(ka_avro_writer_t *w, bool v)
{
        if (ka_avro_writer_room(w, 1))
                return KA_ERR_OVERFLOW;
        *w->p++ = v ? 1 : 0;
        return KA_OK;
}

/* Zigzag varint. */
static inline ka_err_t ka_avro_write_long(ka_avro_writer_t *w, int64_t v)
{
        uint64_t u = (uint64_t)v << 1 ^ ((uint64_t)0 - ((uint64_t)v >> 63));
        uint8_t tmp[10];
        size_t n = 0;

        while (u >= 0x80) {
                tmp[n++] = (uint8_t)(u | 0x80);
                u >>= 7;
        }
        tmp[n++] = (uint8_t)u;
        if (ka_avro_writer_room(w, n))
                return KA_ERR_OVERFLOW;
        memcpy(w->p, tmp, n);
        w->p += n;
        return KA_OK;
}

static inline ka_err_t ka_avro_write_int(ka_avro_writer_t *w, int32_t v)
{
        return ka_avro_write_long(w, v);
}

/* A union branch index (a long); the branch's value follows. */
static inline ka_err_t ka_avro_write_union_index(ka_avro_writer_t *w,
                                                 int32_t index)
{
        return ka_avro_write_long(w, index);
}

static inline ka_err_t ka_avro_write_float(ka_avro_writer_t *w, float v)
{
        uint32_t u;

        if (ka_avro_writer_room(w, 4))
                return KA_ERR_OVERFLOW;
        memcpy(&u, &v, 4);
        w->p[0] = (uint8_t)u;
        w->p[1] = (uint8_t)(u >> 8);
        w->p[2] = (uint8_t)(u >> 16);
        w->p[3] = (uint8_t)(u >> 24);
        w->p += 4;
        return KA_OK;
}

static inline ka_err_t ka_avro_write_double(ka_avro_writer_t *w, double v)
{
        if (ka_avro_writer_room(w, 8))
                return KA_ERR_OVERFLOW;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(w->p, &v, 8);
#else
        {
                uint64_t u;

                memcpy(&u, &v, 8);
                for (int i = 0; i < 8; i++)
                        w->p[i] = (uint8_t)(u >> (8 * i));
        }
#endif
        w->p += 8;
        return KA_OK;
}

/* A long length, then len bytes of data. */
static inline ka_err_t ka_avro_write_bytes(ka_avro_writer_t *w,
                                           const void *data, size_t len)
{
        uint8_t *start = w->p;

        if (len > INT64_MAX || ka_avro_write_long(w, (int64_t)len))
                goto overflow;
        if (ka_avro_writer_room(w, len))
                goto overflow;
        if (len)
                memcpy(w->p, data, len);
        w->p += len;
        return KA_OK;
overflow:
        /* Leave no half-written value behind. */
        w->p = start;
        w->overflow = true;
        return KA_ERR_OVERFLOW;
}

static inline ka_err_t ka_avro_write_string(ka_avro_writer_t *w, const char *s,
                                            size_t len)
{
        return ka_avro_write_bytes(w, s, len);
}

/* Appends len bytes as they are (an already encoded value). */
static inline ka_err_t ka_avro_write_raw(ka_avro_writer_t *w, const void *data,
                                         size_t len)
{
        if (ka_avro_writer_room(w, len))
                return KA_ERR_OVERFLOW;
        if (len)
                memcpy(w->p, data, len);
        w->p += len;
        return KA_OK;
}

/* An array or map block header: count items follow (0 ends it). */
static inline ka_err_t ka_avro_write_block(ka_avro_writer_t *w, int64_t count)
{
        return ka_avro_write_long(w, count);
}

#endif
