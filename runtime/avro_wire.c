/*
 * The out-of-line part of the Avro wire primitives: skippers for arrays and
 * maps of primitives, and the schema-driven skipper schema resolution uses
 * to read past writer fields the agent does not aggregate.
 */
#include "avro_wire.h"

#include <avro/basics.h>

ka_err_t ka_avro_skip_prim(ka_avro_reader_t *r, ka_avro_prim_t prim)
{
        switch (prim) {
        case KA_AVRO_NULL:
                return ka_avro_skip_null(r);
        case KA_AVRO_BOOLEAN:
                return ka_avro_skip_boolean(r);
        case KA_AVRO_INT:
                return ka_avro_skip_int(r);
        case KA_AVRO_LONG:
                return ka_avro_skip_long(r);
        case KA_AVRO_FLOAT:
                return ka_avro_skip_float(r);
        case KA_AVRO_DOUBLE:
                return ka_avro_skip_double(r);
        case KA_AVRO_BYTES:
        case KA_AVRO_STRING:
                return ka_avro_skip_bytes(r);
        }
        return KA_ERR_INVALID;
}

/* Encoded size of every value of prim, or 0 when it varies. */
static size_t prim_width(ka_avro_prim_t prim)
{
        switch (prim) {
        case KA_AVRO_FLOAT:
                return 4;
        case KA_AVRO_DOUBLE:
                return 8;
        default:
                return 0;
        }
}

static ka_err_t skip_prim_blocks(ka_avro_reader_t *r, ka_avro_prim_t prim,
                                 bool map)
{
        size_t width = map ? 0 : prim_width(prim);

        if ((unsigned)prim > KA_AVRO_STRING)
                return KA_ERR_INVALID;
        for (;;) {
                int64_t count, size, i;
                ka_err_t err = ka_avro_read_block(r, &count, &size);

                if (err)
                        return err;
                if (count == 0)
                        return KA_OK;
                if (size >= 0) {
                        r->p += size;
                        continue;
                }
                /* Nulls occupy no bytes: nothing to loop over. */
                if (prim == KA_AVRO_NULL && !map)
                        continue;
                if ((uint64_t)count > ka_avro_reader_left(r))
                        return KA_ERR_TRUNCATED;
                if (width) {
                        if ((uint64_t)count > ka_avro_reader_left(r) / width)
                                return KA_ERR_TRUNCATED;
                        r->p += (size_t)count * width;
                        continue;
                }
                for (i = 0; i < count; i++) {
                        if (map && (err = ka_avro_skip_string(r)))
                                return err;
                        if ((err = ka_avro_skip_prim(r, prim)))
                                return err;
                }
        }
}

ka_err_t ka_avro_skip_array(ka_avro_reader_t *r, ka_avro_prim_t items)
{
        return skip_prim_blocks(r, items, false);
}

ka_err_t ka_avro_skip_map(ka_avro_reader_t *r, ka_avro_prim_t values)
{
        return skip_prim_blocks(r, values, true);
}

/*
 * True when every value of schema is encoded in zero bytes (null, fixed of
 * size 0, records of those): a block of such items must not be looped over,
 * since its count is not bounded by the buffer.
 */
static bool zero_width(avro_schema_t schema, int depth)
{
        size_t i, n;

        if (depth > KA_AVRO_MAX_DEPTH)
                return false;
        switch (avro_typeof(schema)) {
        case AVRO_NULL:
                return true;
        case AVRO_FIXED:
                return avro_schema_fixed_size(schema) == 0;
        case AVRO_LINK:
                return zero_width(avro_schema_link_target(schema), depth + 1);
        case AVRO_RECORD:
                n = avro_schema_record_size(schema);
                for (i = 0; i < n; i++) {
                        avro_schema_t field =
                                avro_schema_record_field_get_by_index(schema,
                                                                      (int)i);
                        if (!field || !zero_width(field, depth + 1))
                                return false;
                }
                return true;
        default:
                return false;
        }
}

static ka_err_t skip_value(ka_avro_reader_t *r, avro_schema_t schema,
                           int depth);

static ka_err_t skip_blocks(ka_avro_reader_t *r, avro_schema_t items, bool map,
                            int depth)
{
        bool empty_items = !map && zero_width(items, depth);

        for (;;) {
                int64_t count, size, i;
                ka_err_t err = ka_avro_read_block(r, &count, &size);

                if (err)
                        return err;
                if (count == 0)
                        return KA_OK;
                if (size >= 0) {
                        r->p += size;
                        continue;
                }
                if (empty_items)
                        continue;
                /* Each item takes a byte at least: reject early. */
                if ((uint64_t)count > ka_avro_reader_left(r))
                        return KA_ERR_TRUNCATED;
                for (i = 0; i < count; i++) {
                        if (map && (err = ka_avro_skip_string(r)))
                                return err;
                        if ((err = skip_value(r, items, depth)))
                                return err;
                }
        }
}

static ka_err_t skip_value(ka_avro_reader_t *r, avro_schema_t schema, int depth)
{
        size_t i, n;
        int32_t index;
        int64_t size;
        ka_err_t err;

        if (!schema)
                return KA_ERR_INVALID;
        if (depth > KA_AVRO_MAX_DEPTH)
                return KA_ERR_INVALID;
        switch (avro_typeof(schema)) {
        case AVRO_STRING:
        case AVRO_BYTES:
                return ka_avro_skip_bytes(r);
        case AVRO_INT32:
                return ka_avro_skip_int(r);
        case AVRO_INT64:
                return ka_avro_skip_long(r);
        case AVRO_FLOAT:
                return ka_avro_skip_float(r);
        case AVRO_DOUBLE:
                return ka_avro_skip_double(r);
        case AVRO_BOOLEAN:
                return ka_avro_skip_boolean(r);
        case AVRO_NULL:
                return ka_avro_skip_null(r);
        case AVRO_RECORD:
                n = avro_schema_record_size(schema);
                for (i = 0; i < n; i++) {
                        err = skip_value(r,
                                         avro_schema_record_field_get_by_index(
                                                 schema, (int)i),
                                         depth + 1);
                        if (err)
                                return err;
                }
                return KA_OK;
        case AVRO_ENUM:
                return ka_avro_skip_enum(
                        r, avro_schema_enum_number_of_symbols(schema));
        case AVRO_FIXED:
                size = avro_schema_fixed_size(schema);
                if (size < 0)
                        return KA_ERR_INVALID;
                if ((uint64_t)size > ka_avro_reader_left(r))
                        return KA_ERR_TRUNCATED;
                return ka_avro_skip_fixed(r, (size_t)size);
        case AVRO_MAP:
                return skip_blocks(r, avro_schema_map_values(schema), true,
                                   depth + 1);
        case AVRO_ARRAY:
                return skip_blocks(r, avro_schema_array_items(schema), false,
                                   depth + 1);
        case AVRO_UNION:
                n = avro_schema_union_size(schema);
                if (n > INT32_MAX)
                        return KA_ERR_INVALID;
                err = ka_avro_read_union_index(r, (int32_t)n, &index);
                if (err)
                        return err;
                return skip_value(r, avro_schema_union_branch(schema, index),
                                  depth + 1);
        case AVRO_LINK:
                return skip_value(r, avro_schema_link_target(schema),
                                  depth + 1);
        }
        return KA_ERR_INVALID;
}

ka_err_t ka_avro_skip_value(ka_avro_reader_t *r, avro_schema_t schema)
{
        return skip_value(r, schema, 0);
}
